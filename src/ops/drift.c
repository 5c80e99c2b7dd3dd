/*
 * drift.c — input drift: feature_drift gives, for each model of a station's
 * champion and challenger, the population stability index (PSI) of every
 * numeric model input between its training window and the recent window.
 *
 * The recent window is the last `window` observed days of the station.  The
 * reference is the part of the model's training window that a forecast
 * made now should resemble: its last two years, at the same time of year
 * (days whose day of year is within window/2 + 15 days of the recent
 * window's middle), so that neither the seasons nor the growth of ridership
 * over a decade of history count as drift.
 * Inputs are the model's rows (seongsu.features at the model's horizon) of
 * days with observed passengers; calendar columns (functions of the date)
 * and covid_level are left out.  Inputs counted in passengers (lags,
 * rolling and same-weekday statistics, level28) are of kind 'level': they
 * follow the station's level, so they drift whenever ridership grows; so
 * are the slowly moving summaries of the recent past (F_SMOOTH: rolling
 * statistics and levels divided by the level, regimes, growth), whose
 * values on the days of a window are not independent; the others (ratios
 * to the level, weather) are of kind 'feature'.
 *
 * Bins are quantiles of the reference: one per 5 recent values, 2 to 10
 * (equal edges merged); shares are smoothed by half a count.  A PSI over a
 * few dozen days is noisy even without drift (about (bins - 1) * (1/n_recent
 * + 1/n_reference)), so a status needs both the usual size and significance:
 * 'alert' when PSI >= 0.25 and above the 99% quantile of that noise (chi
 * squared with bins - 1 degrees of freedom, scaled), 'warn' when PSI >= 0.1
 * and above the 95% quantile, else 'ok'; 'insufficient' with fewer than 7
 * recent or 30 reference values.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "../features/features.h"
#include "../kst.h"
#include "../safe_spi.h"
#include "../serve/serve.h"

PG_FUNCTION_INFO_V1(feature_drift);

#define DRIFT_MAX_WINDOW 366
#define DRIFT_SEASON_MARGIN 15	/* days of year around the recent window's */
#define DRIFT_REFERENCE_DAYS 730	/* the end of the training window compared */
#define DRIFT_MAX_BINS 10
#define DRIFT_MIN_RECENT 7
#define DRIFT_MIN_REFERENCE 30
#define DRIFT_MAX_MODELS (2 * MAX_DEPLOYED)

/* Chi-squared quantiles 0.95 and 0.99 for 1..9 degrees of freedom. */
static const double chi95[DRIFT_MAX_BINS] = {0, 3.841, 5.991, 7.815, 9.488, 11.070, 12.592, 14.067, 15.507, 16.919};
static const double chi99[DRIFT_MAX_BINS] = {0, 6.635, 9.210, 11.345, 13.277, 15.086, 16.812, 18.475, 20.090, 21.666};

/* A model whose inputs are compared. */
typedef struct DriftModel
{
	int64		id;
	bool		challenger;
	int64		H;
	int32		train_from;
	int32		train_to;
} DriftModel;

/* The first day of a model's reference: its training window's last DRIFT_REFERENCE_DAYS, observed. */
static int32
DriftReferenceFrom(const DriftModel *m, int32 obs_first)
{
	return Max(Max(m->train_from, m->train_to - DRIFT_REFERENCE_DAYS + 1), obs_first);
}

/* True for the columns compared: numeric model inputs that are not functions of the date. */
static bool
DriftColumn(int col)
{
	return (FeatureInfos[col].flags & F_MODEL) && !(FeatureInfos[col].flags & F_CALENDAR) &&
		FeatureInfos[col].kind == FK_F8 && col != FCOL_covid_level;
}

/* The kind of a compared column: 'level' for inputs in passengers and slow summaries, else 'feature'. */
static const char *
DriftKind(int col)
{
	return (col >= FCOL_lag_1d && col <= FCOL_level28) || (FeatureInfos[col].flags & F_SMOOTH) ? "level" : "feature";
}

/* Day of year (1..366) of a PostgreSQL date. */
static int
DayOfYear(int32 d)
{
	int			y, m, dd;

	KstPgDateParts(d, &y, &m, &dd);
	return d - KstPgDate(y, 1, 1) + 1;
}

/* qsort order of doubles. */
static int
DriftCompare(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Type-7 quantile q of the sorted values s[0..n). */
static double
DriftQuantile(const double *s, int n, double q)
{
	double		h = (n - 1) * q;
	int			lo = (int) floor(h);

	if (lo + 1 >= n)
		return s[n - 1];
	return s[lo] + (h - lo) * (s[lo + 1] - s[lo]);
}

/*
 * PSI of recent[0..nr) against ref[0..nf) (NaN values dropped; ref sorted
 * in place); the bins used in *bins, the counts in *n_ref and *n_recent.
 * NaN when there are too few values.
 */
static double
DriftPsi(double *ref, int nf, const double *recent, int nr, int *bins, int *n_ref, int *n_recent)
{
	double		edges[DRIFT_MAX_BINS];
	int			cref[DRIFT_MAX_BINS], crec[DRIFT_MAX_BINS];
	int			m = 0, r = 0, nedges = 0, want, i, b;
	double		psi = 0;

	for (i = 0; i < nf; i++)
		if (!isnan(ref[i]))
			ref[m++] = ref[i];
	for (i = 0; i < nr; i++)
		if (!isnan(recent[i]))
			r++;
	*n_ref = m;
	*n_recent = r;
	*bins = 0;
	if (m < DRIFT_MIN_REFERENCE || r < DRIFT_MIN_RECENT)
		return NAN;
	qsort(ref, m, sizeof(double), DriftCompare);
	want = Max(2, Min(DRIFT_MAX_BINS, r / 5));
	for (i = 1; i < want; i++)
	{
		double		e = DriftQuantile(ref, m, (double) i / want);

		if (nedges == 0 || e > edges[nedges - 1])
			edges[nedges++] = e;
	}
	*bins = nedges + 1;
	memset(cref, 0, sizeof(cref));
	memset(crec, 0, sizeof(crec));
	/* bin b holds values in (edges[b-1], edges[b]] */
	for (i = 0; i < m; i++)
	{
		for (b = 0; b < nedges && ref[i] > edges[b]; b++)
			;
		cref[b]++;
	}
	for (i = 0; i < nr; i++)
	{
		if (isnan(recent[i]))
			continue;
		for (b = 0; b < nedges && recent[i] > edges[b]; b++)
			;
		crec[b]++;
	}
	for (b = 0; b < *bins; b++)
	{
		double		e = (cref[b] + 0.5) / (m + 0.5 * *bins);
		double		a = (crec[b] + 0.5) / (r + 0.5 * *bins);

		psi += (a - e) * log(a / e);
	}
	return psi;
}

/* The status of a PSI over bins, n_ref and n_recent values (see the file's comment). */
static const char *
DriftStatus(double psi, int bins, int n_ref, int n_recent)
{
	double		noise;

	if (isnan(psi))
		return "insufficient";
	noise = 1.0 / n_recent + 1.0 / n_ref;
	if (psi >= 0.25 && psi > chi99[bins - 1] * noise)
		return "alert";
	if (psi >= 0.10 && psi > chi95[bins - 1] * noise)
		return "warn";
	return "ok";
}

/* The champion's and the challenger's models of a station (caller has SPI). */
static int
DriftModels(int32 station_id, DriftModel *out)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	uint64		r;
	int			n = 0;
	bool		isnull;

	v[0] = Int32GetDatum(station_id);
	if (SPI_execute_with_args("SELECT m.id, x.k, m.horizon, m.train_from, m.train_to FROM "
							  "(SELECT d.model_id AS id, d.horizon, 1 AS k "
							  "FROM seongsu.deployed_models d WHERE d.station_id OPERATOR(pg_catalog.=) $1 "
							  "AND d.grain OPERATOR(pg_catalog.=) 'daily' "
							  "UNION ALL SELECT seongsu.model_for_alias(d.project, 'challenger'), d.horizon, 2 "
							  "FROM seongsu.deployed_models d WHERE d.station_id OPERATOR(pg_catalog.=) $1 "
							  "AND d.grain OPERATOR(pg_catalog.=) 'daily') x "
							  "JOIN seongsu.models m ON m.id OPERATOR(pg_catalog.=) x.id "
							  "ORDER BY x.k, x.horizon, m.id LIMIT 16",
							  1, types, v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the station's models");
	for (r = 0; r < SPI_processed && n < DRIFT_MAX_MODELS; r++)
	{
		HeapTuple	t = SPI_tuptable->vals[r];
		TupleDesc	d = SPI_tuptable->tupdesc;

		out[n].id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		out[n].challenger = DatumGetInt32(SPI_getbinval(t, d, 2, &isnull)) == 2;
		out[n].H = FeatureHorizonSteps(DatumGetIntervalP(SPI_getbinval(t, d, 3, &isnull)), 1);
		out[n].train_from = DatumGetDateADT(SPI_getbinval(t, d, 4, &isnull));
		out[n].train_to = DatumGetDateADT(SPI_getbinval(t, d, 5, &isnull));
		n++;
	}
	return n;
}

/*
 * The drift columns of the rows of days[0..n) at horizon H into
 * values[column][row] (NaN when missing); rows without an observed
 * target are NaN throughout.
 */
static void
DriftRows(const FeatureCtx *ctx, const int32 *days, int n, int64 H, double **values, MemoryContext rowcxt)
{
	Datum		v[FEATURE_NCOLS];
	bool		nl[FEATURE_NCOLS];
	int			k, c;

	for (k = 0; k < n; k++)
	{
		MemoryContext old = MemoryContextSwitchTo(rowcxt);

		CHECK_FOR_INTERRUPTS();
		FeatureRow(ctx, days[k], H, v, nl);
		for (c = 0; c < FEATURE_NCOLS; c++)
			if (DriftColumn(c))
				values[c][k] = nl[FCOL_target] || nl[c] ? NAN : DatumGetFloat8(v[c]);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
}

/* feature_drift(station, line, window_days): PSI per model and input (see the file's comment). */
Datum
feature_drift(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *station = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *line = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int32		window = PG_GETARG_INT32(2);
	DriftModel	models[DRIFT_MAX_MODELS];
	int			nmodels, spi, i, c;
	int32		station_id, obs_first, obs_last, recent_from, first = PG_INT32_MAX;
	int64		max_h = 1;
	bool		observed;
	FeatureCtx *ctx;
	MemoryContext rowcxt;

	if (window < DRIFT_MIN_RECENT || window > DRIFT_MAX_WINDOW)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("window must be between %d and %d days", DRIFT_MIN_RECENT, DRIFT_MAX_WINDOW)));
	InitMaterializedSRF(fcinfo, 0);
	spi = SsSpiConnect();
	station_id = FeatureStationId(station, line);
	nmodels = DriftModels(station_id, models);
	observed = ObservedRange(station_id, &obs_first, &obs_last);
	SsSpiFinish(spi);
	if (!observed)
		return (Datum) 0;
	recent_from = obs_last - window + 1;
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "seongsu drift row", ALLOCSET_SMALL_SIZES);
	/* one context for every model: from the earliest reference day, at the longest horizon */
	for (i = 0; i < nmodels; i++)
	{
		first = Min(first, DriftReferenceFrom(&models[i], obs_first));
		max_h = Max(max_h, models[i].H);
	}
	ctx = nmodels > 0 ? FeatureCtxLoad(station_id, Min(first, recent_from), obs_last, 1, max_h, CurrentMemoryContext) : NULL;
	for (i = 0; i < nmodels; i++)
	{
		DriftModel *m = &models[i];
		int32		ref_from = DriftReferenceFrom(m, obs_first);
		int32		ref_to = Min(m->train_to, obs_last);
		int			center = DayOfYear(obs_last - (window - 1) / 2);
		int			reach = window / 2 + DRIFT_SEASON_MARGIN;
		int32	   *ref_days, *recent_days;
		int			nref = 0, nrecent = 0;
		double	   *ref[FEATURE_NCOLS], *recent[FEATURE_NCOLS];
		int32		d;

		if (ref_to < ref_from)
			continue;
		ref_days = palloc(sizeof(int32) * (ref_to - ref_from + 1));
		recent_days = palloc(sizeof(int32) * window);
		for (d = ref_from; d <= ref_to; d++)
		{
			int			dist = abs(DayOfYear(d) - center);

			CHECK_FOR_INTERRUPTS();
			if (Min(dist, 365 - dist) <= reach)
				ref_days[nref++] = d;
		}
		for (d = recent_from; d <= obs_last; d++)
			recent_days[nrecent++] = d;
		for (c = 0; c < FEATURE_NCOLS; c++)
			if (DriftColumn(c))
			{
				ref[c] = palloc(sizeof(double) * (nref + 1));
				recent[c] = palloc(sizeof(double) * (nrecent + 1));
			}
		DriftRows(ctx, ref_days, nref, m->H, ref, rowcxt);
		DriftRows(ctx, recent_days, nrecent, m->H, recent, rowcxt);
		for (c = 0; c < FEATURE_NCOLS; c++)
		{
			Datum		v[9];
			bool		nl[9] = {false, false, false, false, false, false, false, false, false};
			int			bins, n_ref, n_recent;
			double		psi;

			if (!DriftColumn(c))
				continue;
			psi = DriftPsi(ref[c], nref, recent[c], nrecent, &bins, &n_ref, &n_recent);
			if (n_ref == 0 && n_recent == 0)
				continue;		/* not an input at this horizon (a lag shorter than it) */
			v[0] = Int64GetDatum(m->id);
			v[1] = CStringGetTextDatum(m->challenger ? "challenger" : "champion");
			v[2] = CStringGetTextDatum(DriftKind(c));
			v[3] = CStringGetTextDatum(FeatureInfos[c].name);
			v[4] = Float8GetDatum(psi);
			nl[4] = isnan(psi);
			v[5] = Int32GetDatum(bins);
			v[6] = Int32GetDatum(n_ref);
			v[7] = Int32GetDatum(n_recent);
			v[8] = CStringGetTextDatum(DriftStatus(psi, bins, n_ref, n_recent));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nl);
		}
	}
	MemoryContextDelete(rowcxt);
	return (Datum) 0;
}
