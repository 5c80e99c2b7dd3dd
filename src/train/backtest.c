/*
 * backtest.c — time-ordered backtests: a candidate fitted and scored on
 * expanding windows, and the best of a search.
 *
 * The last two years of the training range, [e - 729, e] (e its last
 * usable day), are cut into k consecutive blocks (k = folds, 8 by
 * default): block i covers days e - 730 + round(730 i / k) + 1 ..
 * e - 730 + round(730 (i + 1) / k).  Fold i is fitted on every usable row
 * whose day is before its block (feature rows already use only
 * observations at least the horizon old, as the deployed model does) and
 * scores the usable rows of the block; a block with fewer than 20 such rows
 * or fewer than 200 rows before it is skipped.  There is no inner holdout
 * (unless a gbdt asks for early stopping: then the last tenth of each
 * fold's rows is its validation set).  Sample weights 0.5^(age / half_life)
 * are relative to the fold's last fitted day.  Metrics are in passengers;
 * the candidate's score is the pooled RMSE over every scored row.  With
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
		appendStringInfo(&s, "{\"test_from\": \"%s\", \"test_to\": \"%s\", \"fit_from\": \"%s\", "
						 "\"fit_to\": \"%s\", \"fit_rows\": %d, \"metrics\": ",
						 IsoDate(c->bt.fold_from[f]), IsoDate(c->bt.fold_to[f]), IsoDate(c->bt.fit_from[f]),
						 IsoDate(c->bt.fit_to[f]), c->bt.row_from[f]);
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
	if (c->nmembers > 0)
		appendStringInfo(&s, ", \"ensemble\": %s", EnsembleMembersJson(c));
	if (search_report)
		appendStringInfo(&s, ", \"search\": %s", search_report);
	appendStringInfoChar(&s, '}');
	return s.data;
}

/*
 * Sample weights of rows [0, n) of d: 0.5^((e - day) / half_life), e the
 * last of those rows' days; NULL (every row weighs 1) when half_life is 0.
 */
double *
SampleWeights(const Dataset *d, int n, double half_life)
{
	double	   *w;
	int			i;

	if (half_life <= 0 || n < 1)
		return NULL;
	w = palloc(sizeof(double) * n);
	for (i = 0; i < n; i++)
		w[i] = pow(0.5, (double) (d->day[n - 1] - d->day[i]) / half_life);
	return w;
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
	double	   *y, *w;
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
	/* the weights are relative to the last row fitted on (validation rows weigh nothing in the fit) */
	w = SampleWeights(d, ntrain - nvalid, p->half_life);
	if (w)
	{
		w = repalloc(w, sizeof(double) * ntrain);
		for (i = ntrain - nvalid; i < ntrain; i++)
			w[i] = 1;
	}
	m = MlModelFitWeighted((MlAlgorithm) algorithm, train, y, w, nvalid, p, err, errlen);
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
	if (w)
		pfree(w);
	return true;
}

/* The first row of d at or after day (d->n when none). */
static int
FirstRowFrom(const Dataset *d, int32 day)
{
	int			lo = 0, hi = d->n;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (d->day[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The folds of a k-block backtest of d into bt (layout only: blocks, fit
 * and test rows); ERROR when no block can be scored.
 */
static void
BacktestLayout(const Dataset *d, Backtest *bt, int k)
{
	int32		e = d->day[d->n - 1];
	int			b, npred = 0;

	bt->folds = 0;
	for (b = 0; b < k; b++)
	{
		int32		from = e - BACKTEST_DAYS + (int32) rint((double) BACKTEST_DAYS * b / k) + 1;
		int32		to = e - BACKTEST_DAYS + (int32) rint((double) BACKTEST_DAYS * (b + 1) / k);
		int			r0 = FirstRowFrom(d, from), r1 = FirstRowFrom(d, to + 1);
		int			f = bt->folds;

		if (r1 - r0 < MIN_TEST_ROWS || r0 < MIN_FIT_ROWS)
			continue;
		bt->fold_from[f] = from;
		bt->fold_to[f] = to;
		bt->fit_from[f] = d->day[0];
		bt->fit_to[f] = d->day[r0 - 1];
		bt->row_from[f] = r0;
		bt->row_to[f] = r1;
		bt->pred_at[f] = npred;
		npred += r1 - r0;
		bt->folds++;
	}
	if (bt->folds == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("too little data to backtest: no fold of the last two years has %d usable days with %d before them",
						MIN_TEST_ROWS, MIN_FIT_ROWS),
				 errdetail("The backtest cuts %s..%s into %d blocks; the training range has %d usable days from %s.",
						   IsoDate(e - BACKTEST_DAYS + 1), IsoDate(e), k, d->n, IsoDate(d->day[0])),
				 errhint("Train on a longer range: a model is scored on days it was not fitted on.")));
	bt->npred = npred;
}

/* Pooled metrics and relative residuals of bt's scored rows. */
void
BacktestPool(Backtest *bt)
{
	int			i;

	MlMetricsCompute(bt->actual, bt->pred, bt->npred, &bt->mean);
	bt->rel_resid = palloc(sizeof(double) * (bt->npred + 1));
	bt->nresid = 0;
	for (i = 0; i < bt->npred; i++)
		if (!isnan(bt->pred[i]) && bt->pred[i] > 0)
			bt->rel_resid[bt->nresid++] = bt->actual[i] / bt->pred[i] - 1.0;
}

/* Expanding-window backtest of one candidate over k blocks (see the top of the file). */
void
RunBacktest(const Dataset *d, Candidate *c, int k)
{
	int			f, i;
	char		err[256];
	bool		early = c->algorithm == ML_GBDT && c->params.early_stopping_rounds > 0;

	BacktestLayout(d, &c->bt, k);
	c->bt.best_trees = 0;
	c->bt.pred = palloc(sizeof(double) * (c->bt.npred + 1));
	c->bt.actual = palloc(sizeof(double) * (c->bt.npred + 1));
	for (f = 0; f < c->bt.folds; f++)
	{
		int			from = c->bt.row_from[f], to = c->bt.row_to[f];
		int			trees = 0;
		double	   *pred = c->bt.pred + c->bt.pred_at[f];

		CHECK_FOR_INTERRUPTS();
		if (!FitPredict(d, c->algorithm, &c->params, c->ratio, from, early ? Max(from / 10, 1) : 0,
						from, to, pred, &trees, &c->bt.valid_loss[f], &c->bt.nrounds[f], err, sizeof(err)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("training failed: %s", err)));
		for (i = from; i < to; i++)
			c->bt.actual[c->bt.pred_at[f] + i - from] = d->target[i];
		MlMetricsCompute(d->target + from, pred, to - from, &c->bt.fold[f]);
		c->bt.best_trees = Max(c->bt.best_trees, trees);
	}
	BacktestPool(&c->bt);
}

/*
 * Backtest every candidate not yet backtested and return the best (lowest
 * pooled RMSE, the first of equals); fills a search report of them all.
 */
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
		if (c->bt.pred == NULL)
		{
			c->started_at = GetCurrentTimestamp();
			RunBacktest(d, c, folds);
			c->finished_at = GetCurrentTimestamp();
		}
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
