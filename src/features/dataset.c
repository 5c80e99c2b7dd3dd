/*
 * dataset.c — feature rows to a column-major float matrix (NaN = missing).
 *
 * The model columns are every numeric or boolean feature except the row's
 * identity (ts, day, hour), the target and its ratio, text columns and the
 * missing mask; booleans become 0/1.
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "../safe_spi.h"

#include "dataset.h"

#define DATASET_BATCH 1024

/* Feature-row column of each model column. */
static const int model_cols[DATASET_NCOLS] = {
	4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 27,
	28, 29, 30, 31, 32, 33, 34, 35, 36, 37,
	38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50,
	51, 52, 53, 55, 58, 59, 60, 61
};

/* Whether a feature-row column is boolean, else integer or double. */
static const char col_kind[FEATURE_NCOLS] = {
	't', 'd', 'i', 'f', 'i', 'b', 'b', 't', 'b', 'b', 'b', 'b', 'i', 'i', 'b', 'b', 'b', 'b',
	'i', 'i', 'i', 'i', 'i', 'f', 'f', 'f', 'f', 'i',
	'f', 'f', 'f', 'f', 'f', 'f', 'f', 'f', 'b', 'b',
	'f', 'f', 'f', 'f', 'f', 'f', 'f', 'f', 'f', 'f', 'f', 'f', 'f', 'f', 'f', 'f', 't',
	'f', 'i', 'f', 'f', 'f', 'f', 'f', 'f'
};

/* Names of the feature-row columns (as seongsu.features returns them). */
static const char *const col_name[FEATURE_NCOLS] = {
	"ts", "kst_date", "hour", "target", "iso_dow", "is_weekend", "is_holiday", "holiday_name",
	"is_substitute", "is_temporary", "is_day_off", "is_bridge", "block_len", "block_pos",
	"in_seollal", "in_chuseok", "day_before_off", "day_after_off", "days_to_off", "days_since_off",
	"days_to_holiday", "days_since_holiday", "month", "doy_sin", "doy_cos", "hour_sin", "hour_cos",
	"day_type", "lag_1d", "lag_2d", "lag_3d", "lag_7d", "lag_14d", "lag_21d", "lag_28d", "lag_364d",
	"lag_1d_off", "lag_7d_off", "roll7_mean", "roll7_std", "roll7_min", "roll7_max", "roll28_mean",
	"roll28_std", "roll28_min", "roll28_max", "sdw4_mean", "sdw8_mean", "sdw4_workday_mean",
	"last_year_sdw", "level28", "temp_mean_c", "precip_mm", "snow_cm", "weather_source",
	"covid_level", "missing_mask", "target_ratio", "lag_7d_ratio", "sdw4_ratio",
	"sdw4_workday_ratio", "last_year_ratio", "lag_1d_ratio"
};

/* Name of model column col. */
const char *
DatasetColumnName(int col)
{
	return col_name[model_cols[col]];
}

/* The model columns of one feature row, as floats (NaN when NULL). */
void
DatasetRow(const Datum *v, const bool *n, float *out)
{
	int			c;

	for (c = 0; c < DATASET_NCOLS; c++)
	{
		int			k = model_cols[c];

		if (n[k])
			out[c] = NAN;
		else if (col_kind[k] == 'b')
			out[c] = DatumGetBool(v[k]) ? 1.0f : 0.0f;
		else if (col_kind[k] == 'i')
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
		return FEATURE_COL_LAG_7D;
	if (horizon_days <= 14)
		return FEATURE_COL_LAG_14D;
	if (horizon_days <= 21)
		return FEATURE_COL_LAG_21D;
	if (horizon_days <= 28)
		return FEATURE_COL_LAG_28D;
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
	for (c = naive_col; c <= FEATURE_COL_LAG_28D; c++)
		if (!n[c])
			return DatumGetFloat8(v[c]);
	return NAN;
}

/*
 * The training rows of (station, line) for the days [first, last] at a
 * horizon of H days: the rows of seongsu.features(), read through an SPI
 * cursor DATASET_BATCH rows at a time into column arrays, keeping those
 * that have a target and a level.  Memory lives in the current context:
 * the arrays and one fetched batch (features() itself materializes its
 * rows in a tuplestore, which spills to disk beyond work_mem).
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
	Interval   *horizon = palloc0(sizeof(Interval));
	Oid			types[5] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INTERVALOID};
	Datum		args[5];
	Datum		v[FEATURE_NCOLS];
	bool		n[FEATURE_NCOLS];
	Portal		portal;
	int			c;

	if (cap > INT_MAX / DATASET_NCOLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("training range too long")));
	for (c = 0; c < DATASET_NCOLS; c++)
		cols[c] = palloc_extended(sizeof(float) * (cap + 1), MCXT_ALLOC_HUGE);
	d->target = palloc(sizeof(double) * (cap + 1));
	d->level = palloc(sizeof(double) * (cap + 1));
	d->naive = palloc(sizeof(double) * (cap + 1));
	d->day = palloc(sizeof(int32) * (cap + 1));
	horizon->day = (int32) H;
	args[0] = CStringGetTextDatum(station);
	args[1] = CStringGetTextDatum(line);
	args[2] = TimestampTzGetDatum(KstInstant(first, 0));
	args[3] = TimestampTzGetDatum(KstInstant(last, 0));
	args[4] = IntervalPGetDatum(horizon);

	spi = SsSpiConnect();
	portal = SPI_cursor_open_with_args(NULL, "SELECT * FROM seongsu.features($1, $2, $3, $4, 'daily', $5)",
									   5, types, args, NULL, false, 0);
	for (;;)
	{
		uint64		i;

		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(portal, true, DATASET_BATCH);
		if (SPI_processed == 0)
			break;
		if (SPI_tuptable->tupdesc->natts != FEATURE_NCOLS)
			elog(ERROR, "seongsu.features returned %d columns, expected %d",
				 SPI_tuptable->tupdesc->natts, FEATURE_NCOLS);
		for (i = 0; i < SPI_processed; i++)
		{
			double		level;

			CHECK_FOR_INTERRUPTS();
			heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, v, n);
			level = n[FEATURE_COL_LEVEL] ? NAN : DatumGetFloat8(v[FEATURE_COL_LEVEL]);
			if (n[FEATURE_COL_TARGET] || !(level > 0) || d->n >= cap)
				continue;
			DatasetRow(v, n, row);
			for (c = 0; c < DATASET_NCOLS; c++)
				cols[c][d->n] = row[c];
			d->target[d->n] = DatumGetFloat8(v[FEATURE_COL_TARGET]);
			d->level[d->n] = level;
			d->naive[d->n] = DatasetNaive(v, n, naive_col);
			d->day[d->n] = DatumGetDateADT(v[FEATURE_COL_DAY]);
			d->n++;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SsSpiFinish(spi);
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
