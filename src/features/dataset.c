/*
 * dataset.c — feature rows to a column-major float matrix (NaN = missing).
 *
 * The model columns are the F_MODEL columns of feature_list.h, in its
 * order; booleans become 0/1.
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "../safe_spi.h"

#include "dataset.h"

/* Feature-row column of each model column: the F_MODEL columns, in order. */
static const int *
ModelCols(void)
{
	static int	cols[DATASET_NCOLS];
	static bool ready = false;
	int			k, c = 0;

	if (!ready)
	{
		for (k = 0; k < FEATURE_NCOLS; k++)
			if (FeatureInfos[k].flags & F_MODEL)
				cols[c++] = k;
		ready = true;
	}
	return cols;
}

/* Name of model column col. */
const char *
DatasetColumnName(int col)
{
	return FeatureInfos[ModelCols()[col]].name;
}

/* Model column of feature-row column fcol; -1 when it is no model input. */
int
DatasetColumnOf(int fcol)
{
	const int  *cols = ModelCols();
	int			c;

	for (c = 0; c < DATASET_NCOLS; c++)
		if (cols[c] == fcol)
			return c;
	return -1;
}

/* The model columns of one feature row, as floats (NaN when NULL). */
void
DatasetRow(const Datum *v, const bool *n, float *out)
{
	const int  *cols = ModelCols();
	int			c;

	for (c = 0; c < DATASET_NCOLS; c++)
	{
		int			k = cols[c];

		if (n[k])
			out[c] = NAN;
		else if (FeatureInfos[k].kind == FK_BOOL)
			out[c] = DatumGetBool(v[k]) ? 1.0f : 0.0f;
		else if (FeatureInfos[k].kind == FK_INT)
			out[c] = (float) DatumGetInt32(v[k]);
		else
			out[c] = (float) DatumGetFloat8(v[k]);
	}
}

/* Feature-row column of the seasonal naive forecast: the lag of 7k days >= horizon, or -1. */
int
DatasetNaiveColumn(int64 horizon_days)
{
	if (horizon_days <= 7)
		return FCOL_lag_7d;
	if (horizon_days <= 14)
		return FCOL_lag_14d;
	if (horizon_days <= 21)
		return FCOL_lag_21d;
	if (horizon_days <= 28)
		return FCOL_lag_28d;
	return -1;
}

/*
 * The seasonal-naive forecast of a feature row: the latest observed same
 * weekday at least the horizon back (lag 7k, else 7k+7, … up to 28 days).
 */
double
DatasetNaive(const Datum *v, const bool *n, int naive_col)
{
	int			c;

	if (naive_col < 0)
		return NAN;
	for (c = naive_col; c <= FCOL_lag_28d; c++)
		if (!n[c])
			return DatumGetFloat8(v[c]);
	return NAN;
}

/*
 * The training rows of (station, line) for the days [first, last] at a
 * horizon of H days: the rows of seongsu.features (computed here by the same
 * code, FeatureRow, not through the SQL function: the installed declaration
 * may be an earlier release's until ALTER EXTENSION UPDATE), keeping those
 * that have a target and a level.  Memory lives in the current context.
 */
Dataset *
DatasetBuild(const char *station, const char *line, int32 first, int32 last, int64 H)
{
	int			spi;
	Dataset    *d = palloc0(sizeof(Dataset));
	int64		cap = (int64) last - first + 1;
	int			naive_col = DatasetNaiveColumn(H);
	float	   *row = palloc(sizeof(float) * DATASET_NCOLS);
	float	  **cols = palloc(sizeof(float *) * DATASET_NCOLS);
	Datum		v[FEATURE_NCOLS];
	bool		n[FEATURE_NCOLS];
	FeatureCtx *ctx;
	MemoryContext rowcxt, old;
	int32		station_id, day;
	int			c;

	if (cap < 1 || cap > INT_MAX / DATASET_NCOLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("training range too long")));
	if (H < 1 || H > FEATURE_MAX_HORIZON_DAYS)
		elog(ERROR, "horizon of " INT64_FORMAT " days out of range", H);
	for (c = 0; c < DATASET_NCOLS; c++)
		cols[c] = palloc_extended(sizeof(float) * (cap + 1), MCXT_ALLOC_HUGE);
	d->target = palloc(sizeof(double) * (cap + 1));
	d->level = palloc(sizeof(double) * (cap + 1));
	d->naive = palloc(sizeof(double) * (cap + 1));
	d->day = palloc(sizeof(int32) * (cap + 1));

	spi = SsSpiConnect();
	station_id = FeatureStationId(station, line);
	SsSpiFinish(spi);
	ctx = FeatureCtxLoad(station_id, first, last, 1, H, CurrentMemoryContext);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "dataset row", ALLOCSET_SMALL_SIZES);
	for (day = first; day <= last; day++)
	{
		double		level;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(rowcxt);
		FeatureRow(ctx, day, H, v, n);
		MemoryContextSwitchTo(old);
		level = n[FCOL_level28] ? NAN : DatumGetFloat8(v[FCOL_level28]);
		if (!n[FCOL_target] && level > 0)
		{
			DatasetRow(v, n, row);
			for (c = 0; c < DATASET_NCOLS; c++)
				cols[c][d->n] = row[c];
			d->target[d->n] = DatumGetFloat8(v[FCOL_target]);
			d->level[d->n] = level;
			d->naive[d->n] = DatasetNaive(v, n, naive_col);
			d->day[d->n] = day;
			d->n++;
		}
		MemoryContextReset(rowcxt);
	}
	MemoryContextDelete(rowcxt);
	d->X = MlMatrixCreate(d->n, DATASET_NCOLS);
	for (c = 0; c < DATASET_NCOLS; c++)
	{
		memcpy(MlMatrixColumn(d->X, c), cols[c], sizeof(float) * d->n);
		MlMatrixSetColName(d->X, c, DatasetColumnName(c));
		pfree(cols[c]);
	}
	d->bytes = (Size) d->n * DATASET_NCOLS * sizeof(float) + (Size) d->n * (3 * sizeof(double) + sizeof(int32));
	return d;
}
