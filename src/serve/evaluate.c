/*
 * evaluate.c — stored models scored and explained: evaluate (a model on
 * observed days, no refit), the RMSE train compares with, model_explain,
 * and the shared model cache's listing.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "../safe_spi.h"
#include "serve.h"

PG_FUNCTION_INFO_V1(evaluate);

PG_FUNCTION_INFO_V1(model_explain);

PG_FUNCTION_INFO_V1(model_cache);

/* A model's predictions for the observed days of a range (no refit). */
typedef struct Scored
{
	int			n;
	int32	   *days;
	double	   *actual;
	double	   *pred;
} Scored;

/*
 * Score a stored model on the observed days of [from, to], with features
 * at its own horizon; ERROR when the range is beyond the reach of the
 * station's observations (CheckReach).
 */
static Scored
ScoreObservedDays(int64 model_id, int32 from, int32 to)
{
	LoadedModel *m = ModelLoadStandalone(model_id);
	FeatureCtx *ctx;
	Scored		sc;
	int32		d, obs_first, obs_last;
	int			spi = SsSpiConnect();
	bool		observed = ObservedRange(m->station_id, &obs_first, &obs_last);

	SsSpiFinish(spi);
	memset(&sc, 0, sizeof(sc));
	if (!observed)
		return sc;				/* no observed day to score */
	CheckReach(from, to, obs_first, obs_last);
	ctx = FeatureCtxLoad(m->station_id, from, to, 1, m->H, CurrentMemoryContext);
	sc.days = palloc(sizeof(int32) * (to - from + 1));
	sc.actual = palloc(sizeof(double) * (to - from + 1));
	for (d = from; d <= to; d++)
	{
		double		actual = ctx->ser.v[d - ctx->ser.base];

		CHECK_FOR_INTERRUPTS();
		if (isnan(actual))
			continue;
		sc.days[sc.n] = d;
		sc.actual[sc.n++] = actual;
	}
	sc.pred = palloc(sizeof(double) * (sc.n + 1));
	PredictDays(m, ctx, sc.days, sc.n, sc.pred);
	return sc;
}

/*
 * RMSE of a stored model over the observed days of [from, to], with
 * features at its own horizon (no refit); NaN when no day is observed.
 * Used to compare a new model with the live one on the same window.
 */
double
ModelWindowRmse(int64 model_id, int32 from, int32 to)
{
	Scored		sc = ScoreObservedDays(model_id, from, to);
	double		sum = 0;
	int			n = 0, k;

	for (k = 0; k < sc.n; k++)
	{
		double		err = sc.actual[k] - sc.pred[k];

		if (isnan(err))
			continue;
		sum += err * err;
		n++;
	}
	return n > 0 ? sqrt(sum / n) : NAN;
}

/* evaluate(model_id, from_date, to_date): actual and predicted passengers of observed days. */
Datum
evaluate(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		id = PG_GETARG_INT64(0);
	DateADT		from = PG_GETARG_DATEADT(1);
	DateADT		to = PG_GETARG_DATEADT(2);
	Scored		sc;
	int			k;

	if (DATE_NOT_FINITE(from) || DATE_NOT_FINITE(to) || to < from || to - from > 7305)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from_date and to_date must be finite, in order and at most 20 years apart")));
	InitMaterializedSRF(fcinfo, 0);
	sc = ScoreObservedDays(id, from, to);
	for (k = 0; k < sc.n; k++)
	{
		Datum		v[3];
		bool		n[3] = {false, false, false};

		CHECK_FOR_INTERRUPTS();
		v[0] = DateADTGetDatum(sc.days[k]);
		v[1] = Float8GetDatum(sc.actual[k]);
		v[2] = Float8GetDatum(sc.pred[k]);
		n[2] = isnan(sc.pred[k]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

/* model_explain(model_id): importances (and ridge coefficients) as jsonb. */
Datum
model_explain(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	LoadedModel *m;
	StringInfoData s;
	double		imp[DATASET_NCOLS], coef[DATASET_NCOLS], fill[DATASET_NCOLS], intercept;
	int			order[DATASET_NCOLS], i, j;

	m = ModelLoadStandalone(id);
	initStringInfo(&s);
	if (m->naive)
	{
		appendStringInfo(&s, "{\"algorithm\": \"seasonal_naive\", \"uses\": \"%s\"}",
						 FeatureInfos[m->naive_col].name);
		PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
	}
	MlModelImportances(m->model, imp);
	for (i = 0; i < DATASET_NCOLS; i++)
		order[i] = i;
	for (i = 1; i < DATASET_NCOLS; i++)
		for (j = i; j > 0 && imp[order[j]] > imp[order[j - 1]]; j--)
		{
			int			t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	appendStringInfo(&s, "{\"algorithm\": \"%s\", \"target_mode\": \"%s\", \"importances\": {",
					 MlAlgorithmName(MlModelAlgorithm(m->model)), m->ratio ? "ratio" : "raw");
	for (i = 0; i < DATASET_NCOLS; i++)
		appendStringInfo(&s, "%s\"%s\": %.6g", i ? ", " : "", DatasetColumnName(order[i]), imp[order[i]]);
	appendStringInfoChar(&s, '}');
	if (MlModelLinearCoefficients(m->model, &intercept, coef, fill))
	{
		appendStringInfo(&s, ", \"coefficients\": {\"intercept\": %.10g", intercept);
		for (i = 0; i < DATASET_NCOLS; i++)
			appendStringInfo(&s, ", \"%s\": %.10g", DatasetColumnName(i), coef[i]);
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoChar(&s, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/*
 * model_cache(): the model images this database has in the shared model
 * cache: bytes, backends predicting from each, times a backend took it from
 * there, and whether it is of the model's current blob (a rewritten blob is
 * another entry).
 */
Datum
model_cache(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ModelShareEntry entries[64];
	Size		pool_bytes, used_bytes;
	int			n = ModelShareList(entries, lengthof(entries), &pool_bytes, &used_bytes), i;
	Oid			types[1] = {INT8OID};
	int			spi;

	InitMaterializedSRF(fcinfo, 0);
	spi = SsSpiConnect();
	for (i = 0; i < n; i++)
	{
		Datum		v[5], a[1];
		bool		nl[5] = {false, false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		a[0] = Int64GetDatum(entries[i].model_id);
		if (SPI_execute_with_args("SELECT xmin, ctid, pg_catalog.octet_length(blob), pg_catalog.substring(blob, 1, 20) "
								  "FROM seongsu.models WHERE id OPERATOR(pg_catalog.=) $1",
								  1, types, a, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read seongsu.models");
		v[0] = Int64GetDatum(entries[i].model_id);
		v[1] = Int64GetDatum((int64) entries[i].bytes);
		v[2] = Int32GetDatum(entries[i].refs);
		v[3] = Int64GetDatum((int64) entries[i].hits);
		v[4] = BoolGetDatum(SPI_processed == 1 &&
							ModelVersion(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) == entries[i].version);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nl);
	}
	SsSpiFinish(spi);
	return (Datum) 0;
}
