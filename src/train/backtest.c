/*
 * backtest.c — time-ordered backtests: a candidate fitted and scored on
 * expanding windows, and the best of a search.
 *
 * With k folds and a test block of b = min(365, n / (k + 1)) rows, fold i
 * trains on every row before its block and tests on the block; blocks are
 * the last k*b rows, in time order.  Metrics are on passengers.  With
 * target mode ratio the model learns passengers / level28 and predictions
 * are multiplied back by the level.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "../kst.h"
#include "train.h"

/* A double for JSON: NaN and infinities as null. */
static void
JsonNum(StringInfo s, const char *key, double x)
{
	if (isnan(x) || isinf(x))
		appendStringInfo(s, "\"%s\": null", key);
	else
		appendStringInfo(s, "\"%s\": %.6g", key, x);
}

/* One metrics object. */
static void
JsonMetrics(StringInfo s, const MlMetrics *m)
{
	appendStringInfo(s, "{\"n\": %d, ", m->n);
	JsonNum(s, "rmse", m->rmse);
	appendStringInfoString(s, ", ");
	JsonNum(s, "mae", m->mae);
	appendStringInfoString(s, ", ");
	JsonNum(s, "mape", m->mape);
	appendStringInfoString(s, ", ");
	JsonNum(s, "smape", m->smape);
	appendStringInfoString(s, ", ");
	JsonNum(s, "r2", m->r2);
	appendStringInfoString(s, ", ");
	JsonNum(s, "bias", m->bias);
	appendStringInfoChar(s, '}');
}

/* The metrics document of a candidate (folds, mean, residual quantiles, search). */
char *
MetricsJson(const Candidate *c, const char *search_report)
{
	StringInfoData s;
	static const double probs[5] = {0.05, 0.10, 0.50, 0.90, 0.95};
	double		q[5];
	int			f, i;

	initStringInfo(&s);
	appendStringInfoString(&s, "{\"folds\": [");
	for (f = 0; f < c->bt.folds; f++)
	{
		if (f)
			appendStringInfoString(&s, ", ");
		appendStringInfo(&s, "{\"test_from\": \"%s\", \"test_to\": \"%s\", \"metrics\": ",
						 IsoDate(c->bt.fold_from[f]), IsoDate(c->bt.fold_to[f]));
		JsonMetrics(&s, &c->bt.fold[f]);
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoString(&s, "], \"mean\": ");
	JsonMetrics(&s, &c->bt.mean);
	appendStringInfoString(&s, ", \"relative_residual_quantiles\": {");
	for (i = 0; i < 5; i++)
		q[i] = c->bt.nresid > 0 ? MlQuantile(c->bt.rel_resid, c->bt.nresid, probs[i]) : NAN;
	for (i = 0; i < 5; i++)
	{
		char		key[8];

		snprintf(key, sizeof(key), "q%02d", (int) (probs[i] * 100 + 0.5));
		if (i)
			appendStringInfoString(&s, ", ");
		JsonNum(&s, key, q[i]);
	}
	appendStringInfo(&s, "}, \"target_mode\": \"%s\"", c->algorithm == ALG_NAIVE ? "lag" : c->ratio ? "ratio" : "raw");
	if (search_report)
		appendStringInfo(&s, ", \"search\": %s", search_report);
	appendStringInfoChar(&s, '}');
	return s.data;
}

/*
 * Fit on rows [0, ntrain) (the last nvalid for early stopping) and predict
 * rows [from, to); a gbdt's learning curve into *curve and *nrounds.
 */
static bool
FitPredict(const Dataset *d, int algorithm, const MlParams *p, bool ratio, int ntrain, int nvalid,
		   int from, int to, double *pred, int *trees, double **curve, int *nrounds,
		   char *err, size_t errlen)
{
	MlMatrix   *train, *test;
	double	   *y;
	MlModel    *m;
	const double *vl;
	int			i;

	*curve = NULL;
	*nrounds = 0;
	if (algorithm == ALG_NAIVE)
	{
		for (i = from; i < to; i++)
			pred[i - from] = d->naive[i];
		return true;
	}
	train = MlMatrixSliceRows(d->X, 0, ntrain);
	test = MlMatrixSliceRows(d->X, from, to);
	y = palloc(sizeof(double) * (ntrain + 1));
	for (i = 0; i < ntrain; i++)
		y[i] = ratio ? d->target[i] / d->level[i] : d->target[i];
	m = MlModelFit((MlAlgorithm) algorithm, train, y, nvalid, p, err, errlen);
	if (!m)
		return false;
	if (!MlModelPredictMatrix(m, test, pred, err, errlen))
		return false;
	for (i = from; i < to; i++)
		if (ratio)
			pred[i - from] *= d->level[i];
	if (trees)
		*trees = MlModelNumTrees(m);
	vl = MlModelValidLoss(m, nrounds);
	if (*nrounds > 0)
	{
		*curve = palloc(sizeof(double) * *nrounds);
		memcpy(*curve, vl, sizeof(double) * *nrounds);
	}
	MlModelFree(m);
	MlMatrixFree(train);
	MlMatrixFree(test);
	pfree(y);
	return true;
}

/* Expanding-window backtest of one candidate with k folds. */
void
RunBacktest(const Dataset *d, Candidate *c, int k)
{
	int			block = Min(365, d->n / (k + 1));
	int			f, i;
	double	   *sums = palloc0(sizeof(double) * 6);
	char		err[256];

	if (block < 7)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("too little data to backtest: %d usable rows for %d folds", d->n, k),
				 errhint("Train on a longer range, or with fewer folds ({\"folds\": 2}).")));
	c->bt.folds = k;
	c->bt.best_trees = 0;
	c->bt.rel_resid = palloc(sizeof(double) * (k * block + 1));
	c->bt.nresid = 0;
	c->bt.first = d->n - k * block;
	c->bt.block = block;
	c->bt.pred = palloc(sizeof(double) * k * block);
	for (f = 0; f < k; f++)
	{
		int			from = d->n - (k - f) * block;
		int			to = from + block;
		int			trees = 0;
		double	   *pred = c->bt.pred + f * block;

		CHECK_FOR_INTERRUPTS();
		if (!FitPredict(d, c->algorithm, &c->params, c->ratio, from, Max(from / 10, 1),
						from, to, pred, &trees, &c->bt.valid_loss[f], &c->bt.nrounds[f], err, sizeof(err)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("training failed: %s", err)));
		MlMetricsCompute(d->target + from, pred, block, &c->bt.fold[f]);
		c->bt.fold_from[f] = d->day[from];
		c->bt.fold_to[f] = d->day[to - 1];
		c->bt.best_trees = Max(c->bt.best_trees, trees);
		for (i = 0; i < block; i++)
			if (!isnan(pred[i]) && pred[i] > 0)
				c->bt.rel_resid[c->bt.nresid++] = d->target[from + i] / pred[i] - 1.0;
		sums[0] += c->bt.fold[f].rmse;
		sums[1] += c->bt.fold[f].mae;
		sums[2] += c->bt.fold[f].mape;
		sums[3] += c->bt.fold[f].smape;
		sums[4] += c->bt.fold[f].r2;
		sums[5] += c->bt.fold[f].bias;
	}
	c->bt.mean.n = k;
	c->bt.mean.rmse = sums[0] / k;
	c->bt.mean.mae = sums[1] / k;
	c->bt.mean.mape = sums[2] / k;
	c->bt.mean.smape = sums[3] / k;
	c->bt.mean.r2 = sums[4] / k;
	c->bt.mean.bias = sums[5] / k;
}

/* Backtest every candidate and return the best (lowest mean RMSE); fills a search report. */
Candidate *
BestOf(const Dataset *d, List *cands, int folds, char **report)
{
	Candidate  *best = NULL;
	ListCell   *lc;
	StringInfoData r;

	initStringInfo(&r);
	appendStringInfoChar(&r, '[');
	foreach(lc, cands)
	{
		Candidate  *c = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		c->started_at = GetCurrentTimestamp();
		RunBacktest(d, c, folds);
		c->finished_at = GetCurrentTimestamp();
		if (!best || c->bt.mean.rmse < best->bt.mean.rmse)
			best = c;
		if (c->described)
		{
			if (r.len > 1)
				appendStringInfoString(&r, ", ");
			appendStringInfo(&r, "{\"params\": %s, \"target_mode\": \"%s\", ",
							 DatumGetCString(DirectFunctionCall1(jsonb_out, JsonbPGetDatum(c->described))),
							 c->ratio ? "ratio" : "raw");
			JsonNum(&r, "rmse", c->bt.mean.rmse);
			appendStringInfoChar(&r, '}');
		}
	}
	appendStringInfoChar(&r, ']');
	*report = r.len > 2 ? r.data : NULL;
	return best;
}
