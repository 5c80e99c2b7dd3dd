/*
 * publish.c — forecasts as issued: publish_forecast writes the daily and
 * hourly forecasts that a station's champion (its deployed daily models)
 * and its challenger (the model aliased 'challenger' in each deployed
 * project, seongsu.model_for_alias, when there is one) issue as of a day into seongsu.prediction_log.
 *
 * "As of day A" means with what was observed up to A: observations after A
 * are hidden; the days from the last observation (at most A) up to each
 * target day are filled with the role's own predictions (recursive), and
 * target day d of A+1 .. A+days is predicted by the role's model with the
 * smallest horizon whose inputs exist by then (cutoff >= d - horizon), else
 * by its longest: the rule of seongsu.forecast, so that a forecast
 * published as of the last observed day equals seongsu.forecast's.  Hourly
 * rows are the day's value times the model's hour share (two-stage), with
 * the model's 90% interval and crowd level.  Rows are unique per station,
 * role, as_of and target: publishing the same as_of again changes nothing.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "../features/features.h"
#include "../kst.h"
#include "../safe_spi.h"
#include "../serve/serve.h"

PG_FUNCTION_INFO_V1(publish_forecast);

#define PUBLISH_MAX_DAYS 31
#define ROLE_CHAMPION 0
#define ROLE_CHALLENGER 1
#define PUBLISH_NCOLS 10

static const char *const role_names[2] = {"champion", "challenger"};

/* The rows of one publication, column by column (the INSERT's arrays). */
typedef struct PublishRows
{
	int			n;
	int			cap;
	Datum	   *col[PUBLISH_NCOLS];
	bool	   *null[PUBLISH_NCOLS];
} PublishRows;

/* Column numbers of PublishRows, in the INSERT's order. */
enum
{
	PC_ROLE, PC_MODEL, PC_GRAIN, PC_DAY, PC_HOUR, PC_HORIZON, PC_PRED, PC_LOWER, PC_UPPER, PC_LEVEL
};

static const Oid col_types[PUBLISH_NCOLS] = {
	TEXTOID, INT8OID, TEXTOID, DATEOID, TIMESTAMPTZOID, INT4OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, TEXTOID
};

/* Append one row (values v, NULL flags nl) to r. */
static void
PublishAdd(PublishRows *r, const Datum *v, const bool *nl)
{
	int			c;

	if (r->n == r->cap)
	{
		r->cap = r->cap ? r->cap * 2 : 256;
		for (c = 0; c < PUBLISH_NCOLS; c++)
		{
			r->col[c] = r->col[c] ? repalloc(r->col[c], sizeof(Datum) * r->cap) : palloc(sizeof(Datum) * r->cap);
			r->null[c] = r->null[c] ? repalloc(r->null[c], sizeof(bool) * r->cap) : palloc(sizeof(bool) * r->cap);
		}
	}
	for (c = 0; c < PUBLISH_NCOLS; c++)
	{
		r->col[c][r->n] = v[c];
		r->null[c][r->n] = nl[c];
	}
	r->n++;
}

/* The rows of one target day (daily, then its 24 service hours when the model has shares). */
static void
PublishDay(PublishRows *r, int role, const LoadedModel *m, const FeatureCtx *ctx, int32 day,
		   int32 as_of, double p)
{
	Datum		v[PUBLISH_NCOLS];
	bool		nl[PUBLISH_NCOLS];
	int			h;

	memset(nl, 0, sizeof(nl));
	v[PC_ROLE] = CStringGetTextDatum(role_names[role]);
	v[PC_MODEL] = Int64GetDatum(m->id);
	v[PC_GRAIN] = CStringGetTextDatum("daily");
	v[PC_DAY] = DateADTGetDatum(day);
	nl[PC_HOUR] = true;
	v[PC_HOUR] = (Datum) 0;
	v[PC_HORIZON] = Int32GetDatum(day - as_of);
	v[PC_PRED] = Float8GetDatum(p);
	nl[PC_PRED] = isnan(p);
	v[PC_LOWER] = Float8GetDatum(p * (1 + m->q05));
	nl[PC_LOWER] = isnan(p) || isnan(m->q05);
	v[PC_UPPER] = Float8GetDatum(p * (1 + m->q95));
	nl[PC_UPPER] = isnan(p) || isnan(m->q95);
	nl[PC_LEVEL] = true;
	v[PC_LEVEL] = (Datum) 0;
	PublishAdd(r, v, nl);
	if (!m->has_shares)
		return;
	v[PC_GRAIN] = CStringGetTextDatum("hourly");
	nl[PC_HOUR] = false;
	for (h = 4; h < 28; h++)
	{
		int			clock = h % 24;
		double		ph = p * m->shares[CalendarDayTypeOf(ctx->hs, day) * 24 + clock];
		const char *level = CrowdLevel(m->has_levels, m->levels, ph);

		v[PC_HOUR] = TimestampTzGetDatum(KstInstant(day, h));
		v[PC_PRED] = Float8GetDatum(ph);
		nl[PC_PRED] = isnan(ph);
		v[PC_LOWER] = Float8GetDatum(ph * (1 + m->q05));
		nl[PC_LOWER] = isnan(ph) || isnan(m->q05);
		v[PC_UPPER] = Float8GetDatum(ph * (1 + m->q95));
		nl[PC_UPPER] = isnan(ph) || isnan(m->q95);
		v[PC_LEVEL] = level ? CStringGetTextDatum(level) : (Datum) 0;
		nl[PC_LEVEL] = level == NULL;
		PublishAdd(r, v, nl);
	}
}

/*
 * Predict the target days (as_of, last] of one role from its models
 * (shortest horizon first) over series[] as observed up to cutoff, filling
 * the days after the cutoff with the role's own predictions, and add the
 * rows to r.  ctx's series is overwritten from `observed` first.
 */
static void
PublishRole(PublishRows *r, int role, LoadedModel **models, int nmodels, FeatureCtx *ctx,
			const double *observed, int32 cutoff, int32 as_of, int32 last)
{
	int32		d;
	int			i;

	FeatureCtxSetSeries(ctx, observed);
	for (d = cutoff + 1; d <= last; d++)
	{
		LoadedModel *m = models[nmodels - 1];
		double		p;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < nmodels; i++)
			if (cutoff >= d - models[i]->H)
			{
				m = models[i];
				break;
			}
		PredictDays(m, ctx, &d, 1, &p);
		FeatureCtxSetValue(ctx, d, p);
		if (d > as_of)
			PublishDay(r, role, m, ctx, d, as_of, p);
	}
}

/* Store the rows (caller has SPI); the number inserted (0 when all were published before). */
static int64
PublishInsert(const PublishRows *r, int32 station_id, int32 as_of)
{
	Oid			types[PUBLISH_NCOLS + 2];
	Datum		v[PUBLISH_NCOLS + 2];
	int			c;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	types[0] = DATEOID;
	types[1] = INT4OID;
	v[0] = DateADTGetDatum(as_of);
	v[1] = Int32GetDatum(station_id);
	for (c = 0; c < PUBLISH_NCOLS; c++)
	{
		int			dims[1] = {r->n};
		int			lbs[1] = {1};

		get_typlenbyvalalign(col_types[c], &typlen, &typbyval, &typalign);
		types[c + 2] = get_array_type(col_types[c]);
		v[c + 2] = PointerGetDatum(construct_md_array(r->col[c], r->null[c], 1, dims, lbs,
													  col_types[c], typlen, typbyval, typalign));
	}
	if (SPI_execute_with_args("INSERT INTO seongsu.prediction_log (as_of, station_id, role, model_id, grain, "
							  "target_day, target_hour, horizon_days, predicted, lower, upper, level) "
							  "SELECT $1, $2, u.* FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4), "
							  "pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), "
							  "pg_catalog.unnest($8), pg_catalog.unnest($9), pg_catalog.unnest($10), "
							  "pg_catalog.unnest($11), pg_catalog.unnest($12)) AS u "
							  "ON CONFLICT DO NOTHING",
							  PUBLISH_NCOLS + 2, types, v, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write seongsu.prediction_log");
	return (int64) SPI_processed;
}

/*
 * The models of each role (caller has SPI): the deployed daily models of
 * the station, shortest horizon first, and the challenger of each of their
 * projects that has one.
 */
static void
PublishModels(int32 station_id, LoadedModel **champ, int *nchamp, LoadedModel **chall, int *nchall)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	int64		ids[2 * MAX_DEPLOYED];
	int			nids = 0, i;
	uint64		r;
	bool		isnull;

	v[0] = Int32GetDatum(station_id);
	if (SPI_execute_with_args("SELECT d.model_id, seongsu.model_for_alias(d.project, 'challenger') "
							  "FROM seongsu.deployed_models d WHERE d.station_id OPERATOR(pg_catalog.=) $1 "
							  "AND d.grain OPERATOR(pg_catalog.=) 'daily' ORDER BY d.horizon, d.model_id LIMIT 8",
							  1, types, v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.deployed_models");
	*nchamp = *nchall = 0;
	for (r = 0; r < SPI_processed; r++)
	{
		ids[nids++] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
		*nchamp += 1;
	}
	for (r = 0; r < SPI_processed; r++)
	{
		Datum		c = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull);

		if (!isnull)
		{
			ids[nids++] = DatumGetInt64(c);
			*nchall += 1;
		}
	}
	/* loading one must not evict another of them from the model cache */
	ModelsPin(ids, nids);
	for (i = 0; i < nids; i++)
	{
		LoadedModel *m = ModelLoad(ids[i]);

		if (i < *nchamp)
			champ[i] = m;
		else
			chall[i - *nchamp] = m;
	}
	ModelsPin(NULL, 0);
	/* a challenger's horizon may differ from its project's live model: shortest first */
	for (i = 1; i < *nchall; i++)
	{
		int			j;

		for (j = i; j > 0 && chall[j]->H < chall[j - 1]->H; j--)
		{
			LoadedModel *t = chall[j];

			chall[j] = chall[j - 1];
			chall[j - 1] = t;
		}
	}
}

/* publish_forecast(station, line, as_of, days): rows written to seongsu.prediction_log. */
Datum
publish_forecast(PG_FUNCTION_ARGS)
{
	char	   *station, *line;
	int32		as_of, days, station_id, obs_first, obs_last, cutoff, last;
	LoadedModel *champ[MAX_DEPLOYED], *chall[MAX_DEPLOYED];
	int			nchamp, nchall, spi, i;
	int64		max_h = 1, written;
	FeatureCtx *ctx;
	double	   *observed;
	PublishRows rows;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("station, line and days must not be NULL")));
	station = text_to_cstring(PG_GETARG_TEXT_PP(0));
	line = text_to_cstring(PG_GETARG_TEXT_PP(1));
	as_of = PG_ARGISNULL(2) ? KstDateOf(GetCurrentTransactionStartTimestamp()) : PG_GETARG_DATEADT(2);
	days = PG_GETARG_INT32(3);
	if (DATE_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must be finite")));
	if (days < 1 || days > PUBLISH_MAX_DAYS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("days must be between 1 and %d", PUBLISH_MAX_DAYS),
				 errdetail("A publication covers the days after as_of, one to %d of them.", PUBLISH_MAX_DAYS)));
	last = as_of + days;

	spi = SsSpiConnect();
	station_id = FeatureStationId(station, line);
	PublishModels(station_id, champ, &nchamp, chall, &nchall);
	if (nchamp == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no model is deployed for station \"%s\" on line \"%s\"", station, line),
				 errhint("Train one: SELECT * FROM seongsu.train('%s', '%s');", station, line)));
	if (!ObservedRange(station_id, &obs_first, &obs_last) || obs_first > as_of)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("station \"%s\" on line \"%s\" has no daily ridership up to %s", station, line, IsoDate(as_of)),
				 errhint("Publish as of a later day, or import or ingest its ridership first.")));
	SsSpiFinish(spi);
	cutoff = Min(as_of, obs_last);
	CheckReach(as_of + 1, last, obs_first, cutoff);
	for (i = 0; i < nchamp; i++)
		max_h = Max(max_h, champ[i]->H);
	for (i = 0; i < nchall; i++)
		max_h = Max(max_h, chall[i]->H);

	/* the series as observed by the cutoff: later observations hidden */
	ctx = FeatureCtxLoad(station_id, cutoff + 1, last, 1, max_h, CurrentMemoryContext);
	observed = palloc(sizeof(double) * ctx->ser.n);
	for (i = 0; i < ctx->ser.n; i++)
		observed[i] = ctx->ser.base + i > cutoff ? NAN : ctx->ser.v[i];

	memset(&rows, 0, sizeof(rows));
	PublishRole(&rows, ROLE_CHAMPION, champ, nchamp, ctx, observed, cutoff, as_of, last);
	if (nchall > 0)
		PublishRole(&rows, ROLE_CHALLENGER, chall, nchall, ctx, observed, cutoff, as_of, last);

	spi = SsSpiConnect();
	written = PublishInsert(&rows, station_id, as_of);
	SsSpiFinish(spi);
	PG_RETURN_INT64(written);
}
