/*
 * train.c — seongsu.train: time-ordered backtests, search, refit, storage
 * and automatic deployment.
 *
 * Backtests are expanding windows: with k folds and a test block of
 * b = min(365, n / (k + 1)) rows, fold i trains on every row before its
 * block and tests on the block; blocks are the last k*b rows, in time order.
 * Metrics are on passengers.  The winner of a search (lowest mean RMSE) is
 * refit on all the training rows.  With target mode ratio the model learns
 * passengers / level28 and predictions are multiplied back by the level.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "../safe_spi.h"
#include "dataset.h"
#include "metrics.h"
#include "model.h"
#include "shares.h"

PG_FUNCTION_INFO_V1(train);

#define ALG_NAIVE 0
#define MAX_FOLDS 10
#define MAX_CANDIDATES 200

/* Result of backtesting one configuration. */
typedef struct Backtest
{
	int			folds;
	MlMetrics	fold[MAX_FOLDS];
	int32		fold_from[MAX_FOLDS];
	int32		fold_to[MAX_FOLDS];
	MlMetrics	mean;
	int			best_trees;
	double	   *rel_resid;		/* actual / predicted - 1, every test row */
	int			nresid;
} Backtest;

/* One configuration to try. */
typedef struct Candidate
{
	int			algorithm;		/* ALG_NAIVE or an MlAlgorithm */
	MlParams	params;
	bool		ratio;
	Jsonb	   *described;		/* the parameters that differ, for the report */
	Backtest	bt;
} Candidate;

/* Fit on rows [0, ntrain) (the last nvalid for early stopping) and predict rows [from, to). */
static bool
FitPredict(const Dataset *d, int algorithm, const MlParams *p, bool ratio, int ntrain, int nvalid,
		   int from, int to, double *pred, int *trees, char *err, size_t errlen)
{
	MlMatrix   *train, *test;
	double	   *y;
	MlModel    *m;
	int			i;

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
	MlModelFree(m);
	MlMatrixFree(train);
	MlMatrixFree(test);
	pfree(y);
	return true;
}

/* Expanding-window backtest of one candidate with k folds. */
static void
RunBacktest(const Dataset *d, Candidate *c, int k)
{
	int			block = Min(365, d->n / (k + 1));
	int			f, i;
	double	   *pred;
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
	pred = palloc(sizeof(double) * (block + 1));
	for (f = 0; f < k; f++)
	{
		int			from = d->n - (k - f) * block;
		int			to = from + block;
		int			trees = 0;

		CHECK_FOR_INTERRUPTS();
		if (!FitPredict(d, c->algorithm, &c->params, c->ratio, from, Max(from / 10, 1),
						from, to, pred, &trees, err, sizeof(err)))
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

/* A PostgreSQL date as YYYY-MM-DD. */
static char *
IsoDate(int32 d)
{
	int			y, m, dd;

	KstPgDateParts(d, &y, &m, &dd);
	return psprintf("%04d-%02d-%02d", y, m, dd);
}

/* The metrics document of a candidate (folds, mean, residual quantiles, search). */
static char *
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

/* Apply one hyper-parameter from JSON; reserved keys are handled by the caller. */
static void
ApplyParam(MlParams *p, const char *key, JsonbValue *v)
{
	char		err[256];
	bool		ok;

	if (v->type == jbvNumeric)
		ok = MlParamsSet(p, key, DatumGetFloat8(DirectFunctionCall1(numeric_float8,
																	NumericGetDatum(v->val.numeric))), err, sizeof(err));
	else if (v->type == jbvString)
		ok = MlParamsSetText(p, key, pnstrdup(v->val.string.val, v->val.string.len), err, sizeof(err));
	else if (v->type == jbvBool)
		ok = MlParamsSet(p, key, v->val.boolean ? 1 : 0, err, sizeof(err));
	else
	{
		ok = false;
		snprintf(err, sizeof(err), "hyper-parameter \"%s\" must be a number or a string", key);
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", err),
				 errhint("See README \"Hyper-parameters\" for names and ranges.")));
}

/* Options of a training run that are not model hyper-parameters. */
typedef struct TrainOptions
{
	char		target[8];		/* raw, ratio or auto */
	int			folds;
	double		levels[3];
	bool		has_levels;
} TrainOptions;

/* Whether a JSON value is exactly the string s. */
static bool
JsonIsString(const JsonbValue *v, const char *s)
{
	return v->type == jbvString && v->val.string.len == (int) strlen(s) &&
		memcmp(v->val.string.val, s, v->val.string.len) == 0;
}

/* A JSON number as a double (ERROR when out of a double's range). */
static double
JsonNumber(const JsonbValue *v)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

/* Whether a JSON value is a number with an integer value in [lo, hi], into *out. */
static bool
JsonInteger(const JsonbValue *v, int lo, int hi, int *out)
{
	double		x;

	if (v->type != jbvNumeric)
		return false;
	x = JsonNumber(v);
	if (!(x >= lo && x <= hi) || x != floor(x))
		return false;
	*out = (int) x;
	return true;
}

/* ERROR: hyperparams.levels is not what it must be, with what it is. */
static void
LevelsError(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("hyperparams.levels must be three increasing positive numbers (passengers per hour)"),
			 errdetail("%s", detail),
			 errhint("The thresholds of 보통, 혼잡 and 매우혼잡, e.g. {\"levels\": [2000, 4000, 6000]}.")));
}

/* hyperparams.levels (a JSON array) into o, or ERROR. */
static void
ApplyLevels(TrainOptions *o, const JsonbValue *v)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			n = 0;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		LevelsError("It is not an array.");
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (e.type != jbvNumeric)
			LevelsError(psprintf("Element %d is not a number.", n + 1));
		if (n < 3)
			o->levels[n] = JsonNumber(&e);
		n++;
	}
	if (n != 3)
		LevelsError(psprintf("It has %d elements.", n));
	if (!(o->levels[0] > 0 && o->levels[0] < o->levels[1] && o->levels[1] < o->levels[2]))
		LevelsError(psprintf("They are %g, %g and %g.", o->levels[0], o->levels[1], o->levels[2]));
	o->has_levels = true;
}

/* Apply every key of a hyperparams object to p (and the run options to o). */
static void
ApplyParams(MlParams *p, TrainOptions *o, Jsonb *hp)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	if (!hp)
		return;
	if (!JB_ROOT_IS_OBJECT(hp))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparams must be a JSON object")));
	/* skipNested: a nested value (levels' array) comes as one WJB_VALUE */
	it = JsonbIteratorInit(&hp->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE && strcmp(key, "target") == 0)
		{
			if (!JsonIsString(&v, "raw") && !JsonIsString(&v, "ratio") && !JsonIsString(&v, "auto"))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("hyperparams.target must be \"raw\", \"ratio\" or \"auto\"")));
			snprintf(o->target, sizeof(o->target), "%.*s", v.val.string.len, v.val.string.val);
		}
		else if (tok == WJB_VALUE && strcmp(key, "folds") == 0)
		{
			if (!JsonInteger(&v, 2, MAX_FOLDS, &o->folds))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("folds must be an integer between 2 and %d", MAX_FOLDS)));
		}
		else if (tok == WJB_VALUE && strcmp(key, "levels") == 0)
			ApplyLevels(o, &v);
		else if (tok == WJB_VALUE)
			ApplyParam(p, key, &v);
	}
}

/* A key of a JSON object, or NULL. */
static JsonbValue *
JsonKey(Jsonb *j, const char *key)
{
	JsonbValue	k;

	if (!j || !JB_ROOT_IS_OBJECT(j))
		return NULL;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(&j->root, JB_FOBJECT, &k);
}

#define GRID_NAMES 16
#define GRID_VALUES 32

/* The search grid: parameter names and their candidate values. */
typedef struct SearchGrid
{
	int			nnames;
	char	   *names[GRID_NAMES];
	double		values[GRID_NAMES][GRID_VALUES];
	int			counts[GRID_NAMES];
} SearchGrid;

/* ERROR: a search option is not what it must be. */
static void
SearchError(const char *message)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", message),
			 errhint("Example: {\"method\": \"grid\", \"params\": {\"max_depth\": [4, 6], \"learning_rate\": [0.03, 0.1]}, \"folds\": 3}.")));
}

/* The values of search.params.<name> (an array of 1 to GRID_VALUES numbers) into out; their count. */
static int
SearchValues(const char *name, const JsonbValue *arr, double *out)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			n = 0;

	if (arr->type != jbvBinary || !JsonContainerIsArray(arr->val.binary.data))
		SearchError(psprintf("search.params.%s must be a non-empty array of numbers", name));
	it = JsonbIteratorInit(arr->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (e.type != jbvNumeric)
			SearchError(psprintf("search.params.%s must be a non-empty array of numbers", name));
		if (n >= GRID_VALUES)
			SearchError(psprintf("search.params.%s has more than %d values", name, GRID_VALUES));
		out[n++] = JsonNumber(&e);
	}
	if (n == 0)
		SearchError(psprintf("search.params.%s must be a non-empty array of numbers", name));
	return n;
}

/* Every name of search.params and its values into g (skipNested: each array is one value). */
static void
SearchGridOf(const JsonbValue *params, SearchGrid *g)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (params->type != jbvBinary || !JsonContainerIsObject(params->val.binary.data))
		SearchError("search must be an object with \"params\": {\"name\": [values], ...}");
	it = JsonbIteratorInit(params->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			if (g->nnames >= GRID_NAMES)
				SearchError(psprintf("search.params has more than %d names", GRID_NAMES));
			g->names[g->nnames] = pnstrdup(v.val.string.val, v.val.string.len);
		}
		else if (tok == WJB_VALUE)
		{
			g->counts[g->nnames] = SearchValues(g->names[g->nnames], &v, g->values[g->nnames]);
			g->nnames++;
		}
	}
	if (g->nnames == 0)
		SearchError("search.params names no hyper-parameter");
}

/* A candidate with value picks[i] of every grid parameter i applied to base. */
static Candidate *
GridCandidate(int algorithm, const MlParams *base, bool ratio, const SearchGrid *g, const int *picks)
{
	Candidate  *cd = palloc0(sizeof(Candidate));
	StringInfoData d;
	int			i;

	cd->algorithm = algorithm;
	cd->params = *base;
	cd->ratio = ratio;
	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	for (i = 0; i < g->nnames; i++)
	{
		char		err[256];
		double		value = g->values[i][picks[i]];

		if (!MlParamsSet(&cd->params, g->names[i], value, err, sizeof(err)))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", err)));
		appendStringInfo(&d, "%s\"%s\": %.15g", i ? ", " : "", g->names[i], value);
	}
	appendStringInfoChar(&d, '}');
	cd->described = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(d.data)));
	return cd;
}

/*
 * Build the candidate list of an algorithm from the base params and a search
 * spec: every combination of the grid (at most MAX_CANDIDATES), or n_iter
 * random draws from it.
 */
static List *
Candidates(int algorithm, const MlParams *base, bool ratio, Jsonb *search, int *folds)
{
	List	   *out = NIL;
	JsonbValue *params = JsonKey(search, "params");
	JsonbValue *method = JsonKey(search, "method");
	JsonbValue *fv = JsonKey(search, "folds");
	JsonbValue *niter = JsonKey(search, "n_iter");
	SearchGrid	g;
	double		combinations = 1;
	int			total, i, c;
	bool		random = false;
	uint64		state = base->seed * 6364136223846793005ULL + 1442695040888963407ULL;

	if (!search || algorithm == ALG_NAIVE)
	{
		Candidate  *cd = palloc0(sizeof(Candidate));

		cd->algorithm = algorithm;
		cd->params = *base;
		cd->ratio = ratio;
		return list_make1(cd);
	}
	if (!JB_ROOT_IS_OBJECT(search) || !params)
		SearchError("search must be an object with \"params\": {\"name\": [values], ...}");
	{
		JsonbIterator *it = JsonbIteratorInit(&search->root);
		JsonbValue	k;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
			if (tok == WJB_KEY &&
				!JsonIsString(&k, "params") && !JsonIsString(&k, "method") &&
				!JsonIsString(&k, "folds") && !JsonIsString(&k, "n_iter"))
				SearchError(psprintf("unknown search option \"%.*s\" (search takes params, method, folds and n_iter)",
									 k.val.string.len, k.val.string.val));
	}
	if (method)
	{
		if (!JsonIsString(method, "grid") && !JsonIsString(method, "random"))
			SearchError("search.method must be \"grid\" or \"random\"");
		random = JsonIsString(method, "random");
	}
	if (fv && !JsonInteger(fv, 2, MAX_FOLDS, folds))
		SearchError(psprintf("search.folds must be an integer between 2 and %d", MAX_FOLDS));
	memset(&g, 0, sizeof(g));
	SearchGridOf(params, &g);
	for (i = 0; i < g.nnames; i++)
		combinations *= g.counts[i];
	if (random)
	{
		total = 10;
		if (niter && !JsonInteger(niter, 1, MAX_CANDIDATES, &total))
			SearchError(psprintf("search.n_iter must be an integer between 1 and %d", MAX_CANDIDATES));
	}
	else
	{
		if (niter)
			SearchError("search.n_iter is for {\"method\": \"random\"}");
		if (combinations > MAX_CANDIDATES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the search grid has %.0f combinations, more than %d", combinations, MAX_CANDIDATES),
					 errdetail("Every combination of the values of %d hyper-parameters is backtested.", g.nnames),
					 errhint("Give fewer values, or sample the grid: {\"method\": \"random\", \"n_iter\": N}.")));
		total = (int) combinations;
	}
	for (c = 0; c < total; c++)
	{
		int			picks[GRID_NAMES];
		int			rest = c;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < g.nnames; i++)
		{
			if (random)
			{
				state = state * 6364136223846793005ULL + 1442695040888963407ULL;
				picks[i] = (int) ((state >> 33) % (uint64) g.counts[i]);
			}
			else
			{
				picks[i] = rest % g.counts[i];
				rest /= g.counts[i];
			}
		}
		out = lappend(out, GridCandidate(algorithm, base, ratio, &g, picks));
	}
	return out;
}

/* The hyper-parameters of p as a JSON object (every name, for the record). */
static char *
ParamsJson(int algorithm, const MlParams *p, const TrainOptions *o, bool ratio, int64 H)
{
	if (algorithm == ALG_NAIVE)
		return psprintf("{\"lag_days\": %d}", (int) (7 * ((H + 6) / 7)));
	return psprintf("{\"seed\": %llu, \"alpha\": %g, \"max_depth\": %d, \"min_samples_leaf\": %d, "
					"\"max_features\": %g, \"n_trees\": %d, \"bootstrap\": %d, \"n_estimators\": %d, "
					"\"learning_rate\": %g, \"max_leaves\": %d, \"min_child_weight\": %g, \"lambda\": %g, "
					"\"gamma\": %g, \"subsample\": %g, \"colsample\": %g, \"early_stopping_rounds\": %d, "
					"\"max_bins\": %d, \"loss\": \"%s\", \"target\": \"%s\", \"folds\": %d}",
					(unsigned long long) p->seed, p->alpha, p->max_depth, p->min_samples_leaf,
					p->max_features, p->n_trees, (int) p->bootstrap, p->n_estimators,
					p->learning_rate, p->max_leaves, p->min_child_weight, p->lambda, p->gamma,
					p->subsample, p->colsample, p->early_stopping_rounds, p->max_bins,
					p->loss == ML_LOSS_POISSON ? "poisson" : "squared", ratio ? "ratio" : "raw", o->folds);
}

/* Backtest every candidate and return the best (lowest mean RMSE); fills a search report. */
static Candidate *
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
		RunBacktest(d, c, folds);
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

/* The project's live model id, or 0 (caller has SPI). */
static int64
DeployedModel(const char *project)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1];
	bool		isnull;

	v[0] = CStringGetTextDatum(project);
	if (SPI_execute_with_args("SELECT model_id FROM seongsu.deployed_models WHERE project OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.deployed_models");
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* An array datum of n doubles. */
static Datum
F8Array(const double *x, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Float8GetDatum(x[i]);
	return PointerGetDatum(construct_array(d, n, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* Store one trained model; returns its id. */
static int64
StoreModel(const char *project, int32 station_id, const Candidate *c, const char *metrics,
		   const char *params, Interval *horizon, const char *feature_set, const Dataset *d,
		   double seconds, const double *shares, const double *levels, bytea *blob)
{
	Oid			types[17] = {TEXTOID, INT4OID, TEXTOID, INTERVALOID, TEXTOID, TEXTARRAYOID, TEXTOID,
		JSONBOID, JSONBOID, INT4OID, FLOAT8OID, INT8OID, DATEOID, DATEOID, FLOAT8ARRAYOID,
	FLOAT8ARRAYOID, BYTEAOID};
	Datum		v[17];
	char		n[18];
	Datum	   *names = palloc(sizeof(Datum) * DATASET_NCOLS);
	bool		isnull;
	int			i;

	memset(n, ' ', 17);
	n[17] = '\0';
	for (i = 0; i < DATASET_NCOLS; i++)
		names[i] = CStringGetTextDatum(DatasetColumnName(i));
	v[0] = CStringGetTextDatum(project);
	v[1] = Int32GetDatum(station_id);
	v[2] = CStringGetTextDatum(c->algorithm == ALG_NAIVE ? "seasonal_naive" : MlAlgorithmName((MlAlgorithm) c->algorithm));
	v[3] = IntervalPGetDatum(horizon);
	v[4] = CStringGetTextDatum(feature_set);
	v[5] = PointerGetDatum(construct_array(names, DATASET_NCOLS, TEXTOID, -1, false, TYPALIGN_INT));
	v[6] = CStringGetTextDatum(c->algorithm == ALG_NAIVE ? "lag" : c->ratio ? "ratio" : "raw");
	v[7] = DirectFunctionCall1(jsonb_in, CStringGetDatum(params));
	v[8] = DirectFunctionCall1(jsonb_in, CStringGetDatum(metrics));
	v[9] = Int32GetDatum(d->n);
	v[10] = Float8GetDatum(seconds);
	v[11] = Int64GetDatum((int64) d->bytes);
	v[12] = DateADTGetDatum(d->day[0]);
	v[13] = DateADTGetDatum(d->day[d->n - 1]);
	v[14] = shares ? F8Array(shares, SHARES_N) : (Datum) 0;
	n[14] = shares ? ' ' : 'n';
	v[15] = levels ? F8Array(levels, 3) : (Datum) 0;
	n[15] = levels ? ' ' : 'n';
	v[16] = blob ? PointerGetDatum(blob) : (Datum) 0;
	n[16] = blob ? ' ' : 'n';
	if (SPI_execute_with_args("INSERT INTO seongsu.models (project, station_id, algorithm, horizon, feature_set, "
							  "features, target_mode, hyperparams, metrics, train_rows, train_seconds, matrix_bytes, "
							  "train_from, train_to, hour_shares, levels, blob, grain) "
							  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'daily') "
							  "RETURNING id", 17, types, v, n, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not store the model");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* The quality gate, when seongsu.assert_quality is installed. */
static void
QualityGate(const char *station, const char *line, int32 from, int32 to, bool force)
{
	Oid			types[5] = {TEXTOID, TEXTOID, DATEOID, DATEOID, BOOLOID};
	Datum		v[5];

	if (SPI_execute("SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n "
					"ON n.oid OPERATOR(pg_catalog.=) p.pronamespace WHERE n.nspname OPERATOR(pg_catalog.=) 'seongsu' "
					"AND p.proname OPERATOR(pg_catalog.=) 'assert_quality'", true, 1) != SPI_OK_SELECT ||
		SPI_processed == 0)
		return;
	v[0] = CStringGetTextDatum(station);
	v[1] = CStringGetTextDatum(line);
	v[2] = DateADTGetDatum(from);
	v[3] = DateADTGetDatum(to);
	v[4] = BoolGetDatum(force);
	if (SPI_execute_with_args("SELECT seongsu.assert_quality($1, $2, $3, $4, $5)", 5, types, v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "quality gate failed to run");
}

/* The observed day range of a station. */
static void
ObservedRange(int32 station_id, int32 *first, int32 *last)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	bool		n1, n2;

	v[0] = Int32GetDatum(station_id);
	if (SPI_execute_with_args("SELECT pg_catalog.min(day), pg_catalog.max(day) FROM seongsu.ridership_daily "
							  "WHERE station_id OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read ridership");
	*first = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n1));
	*last = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &n2));
	if (n1 || n2)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("the station has no daily ridership to train on"),
				 errhint("Import or ingest ridership first (seongsu.import_file, seongsu.enqueue).")));
}

/*
 * RMSE of the live model on [from, to] into *rmse; false, with the reason
 * for replacing it in *reason, when loading it fails with data_corrupted
 * (a corrupt blob, or an older format), so that a new model can take its
 * place.  Only the load is guarded: any other error still aborts.
 */
static bool
LiveModelRmse(int64 id, int32 from, int32 to, double *rmse, char **reason)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		ModelLoadOrError(id);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode != ERRCODE_DATA_CORRUPTED)
			ReThrowError(edata);
		*reason = psprintf("live model " INT64_FORMAT " cannot be read: %s", id, edata->message);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	if (ok)
		*rmse = ModelWindowRmse(id, from, to);
	return ok;
}

/*
 * train(station, line, algorithm, grain, horizon, hyperparams, search,
 *       train_from, train_to, project, force)
 */
Datum
train(PG_FUNCTION_ARGS)
{
	int			spi;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *station, *line, *alg, *grain, *project;
	Interval   *horizon;
	Jsonb	   *hp, *search;
	bool		force;
	int32		station_id, obs_first, obs_last, from, to;
	int64		H, deployed_id;
	int			algs[4], nalgs = 0, a, folds;
	Dataset    *d;
	TrainOptions opts;
	double		deployed_rmse;
	double		shares[SHARES_N];
	double		levels[3];
	bool		have_shares;
	bool		have_levels;
	int64		ids[4];
	Candidate  *chosen[4];
	int			best = -1;
	instr_time	start, now;

	for (a = 0; a < 7; a++)
		if (a != 5 && a != 6 && a != 7 && PG_ARGISNULL(a))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("station, line, algorithm, grain and horizon must not be null")));
	INSTR_TIME_SET_CURRENT(start);
	station = text_to_cstring(PG_GETARG_TEXT_PP(0));
	line = text_to_cstring(PG_GETARG_TEXT_PP(1));
	alg = text_to_cstring(PG_GETARG_TEXT_PP(2));
	grain = text_to_cstring(PG_GETARG_TEXT_PP(3));
	horizon = PG_GETARG_INTERVAL_P(4);
	hp = PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5);
	search = PG_ARGISNULL(6) ? NULL : PG_GETARG_JSONB_P(6);
	force = !PG_ARGISNULL(10) && PG_GETARG_BOOL(10);

	if (strcmp(grain, "daily") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("grain \"%s\" cannot be trained directly", grain),
				 errhint("Train the daily grain: hourly forecasts come from the daily model times the hour-of-day shares stored with it (two-stage).")));
	H = FeatureHorizonSteps(horizon, 1);
	if (horizon->time % USECS_PER_DAY != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the horizon of a daily model must be a whole number of days"),
				 errdetail("The horizon given is %s.",
						   DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(horizon)))),
				 errhint("A daily row is predicted from whole days of observations: use e.g. '1 day' or '7 days'.")));
	/* stored as days: '48 hours' is the 2-day project */
	horizon = palloc0(sizeof(Interval));
	horizon->day = (int32) H;
	if (strcmp(alg, "auto") == 0)
	{
		algs[nalgs++] = ALG_NAIVE;
		algs[nalgs++] = ML_RIDGE;
		algs[nalgs++] = ML_RANDOM_FOREST;
		algs[nalgs++] = ML_GBDT;
	}
	else if (strcmp(alg, "seasonal_naive") == 0)
		algs[nalgs++] = ALG_NAIVE;
	else
	{
		MlAlgorithm m;

		if (!MlAlgorithmFromName(alg, &m))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown algorithm \"%s\"", alg),
					 errhint("Use seasonal_naive, ridge, random_forest, gbdt or auto.")));
		algs[nalgs++] = (int) m;
	}
	if (H > 28 && (nalgs > 1 || algs[0] == ALG_NAIVE))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("seasonal_naive needs a horizon of at most 28 days")));
	/* hyperparams and search are checked before any data is read */
	{
		MlParams	scratch;

		memset(&opts, 0, sizeof(opts));
		opts.folds = 3;
		MlParamsInit(&scratch, ML_GBDT);
		ApplyParams(&scratch, &opts, hp);
		folds = opts.folds;
		(void) Candidates(ML_GBDT, &scratch, true, search, &folds);
	}

	project = PG_ARGISNULL(9)
		? psprintf("%s %s daily %lld days", station, line, (long long) H)
		: text_to_cstring(PG_GETARG_TEXT_PP(9));
	spi = SsSpiConnect();
	station_id = FeatureStationId(station, line);
	ObservedRange(station_id, &obs_first, &obs_last);
	from = PG_ARGISNULL(7) ? obs_first : Max(PG_GETARG_DATEADT(7), obs_first);
	to = PG_ARGISNULL(8) ? obs_last : Min(PG_GETARG_DATEADT(8), obs_last);
	if (!PG_ARGISNULL(7) && !PG_ARGISNULL(8) && PG_GETARG_DATEADT(8) < PG_GETARG_DATEADT(7))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("train_to is before train_from")));
	if (to < from)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no observations in the training range"),
				 errhint("The station has data from %s to %s.", IsoDate(obs_first), IsoDate(obs_last))));
	QualityGate(station, line, from, to, force);
	have_shares = SharesCompute(station_id, to, shares);
	SsSpiFinish(spi);

	d = DatasetBuild(station, line, from, to, H);
	if (d->n < 60)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("too little data to train: %d usable days", d->n),
				 errhint("A model needs at least 60 observed days with a 28-day level before them.")));
	have_levels = SharesLevels(d, have_shares ? shares : NULL, levels);

	InitMaterializedSRF(fcinfo, 0);
	for (a = 0; a < nalgs; a++)
	{
		MlParams	base;
		List	   *cands;
		Candidate  *win;
		char	   *report = NULL;
		char	   *params_json;
		bytea	   *blob = NULL;
		double		seconds;

		memset(&opts, 0, sizeof(opts));
		strcpy(opts.target, "auto");
		opts.folds = 3;
		MlParamsInit(&base, algs[a] == ALG_NAIVE ? ML_GBDT : (MlAlgorithm) algs[a]);
		ApplyParams(&base, &opts, hp);
		if (opts.has_levels)
		{
			memcpy(levels, opts.levels, sizeof(levels));
			have_levels = true;
		}
		folds = opts.folds;
		cands = NIL;
		if (algs[a] == ALG_NAIVE || strcmp(opts.target, "raw") != 0)
			cands = list_concat(cands, Candidates(algs[a], &base, algs[a] != ALG_NAIVE, search, &folds));
		if (algs[a] != ALG_NAIVE && strcmp(opts.target, "ratio") != 0)
			cands = list_concat(cands, Candidates(algs[a], &base, false, search, &folds));
		win = BestOf(d, cands, folds, &report);

		/* refit the winner on every training row */
		if (algs[a] != ALG_NAIVE)
		{
			MlParams	fp = win->params;
			double	   *y = palloc(sizeof(double) * d->n);
			char		err[256];
			MlModel    *m;
			uint8	   *bytes;
			size_t		len;
			int			i;

			if (algs[a] == ML_GBDT)
				fp.n_estimators = Max(win->bt.best_trees, 50);
			for (i = 0; i < d->n; i++)
				y[i] = win->ratio ? d->target[i] / d->level[i] : d->target[i];
			m = MlModelFit((MlAlgorithm) algs[a], d->X, y, 0, &fp, err, sizeof(err));
			if (!m)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("training failed: %s", err)));
			bytes = MlModelSerialize(m, &len);
			blob = palloc(VARHDRSZ + len);
			SET_VARSIZE(blob, VARHDRSZ + len);
			memcpy(VARDATA(blob), bytes, len);
			win->params = fp;
			MlModelFree(m);
		}
		params_json = ParamsJson(algs[a], &win->params, &opts, win->ratio, H);
		INSTR_TIME_SET_CURRENT(now);
		INSTR_TIME_SUBTRACT(now, start);
		seconds = INSTR_TIME_GET_DOUBLE(now);
		spi = SsSpiConnect();
		ids[a] = StoreModel(project, station_id, win, MetricsJson(win, report), params_json, horizon,
							psprintf("daily %lld days v1", (long long) H), d, seconds,
							have_shares ? shares : NULL, have_levels ? levels : NULL, blob);
		SsSpiFinish(spi);
		chosen[a] = win;
		if (best < 0 || win->bt.mean.rmse < chosen[best]->bt.mean.rmse)
			best = a;
	}

	/*
	 * Deploy the best if it beats the live model on the same window: the
	 * best's last backtest fold, scored for the live model too.
	 */
	spi = SsSpiConnect();
	deployed_id = DeployedModel(project);
	SsSpiFinish(spi);
	{
		const Candidate *w = chosen[best];
		int			lf = w->bt.folds - 1;
		double		new_rmse = w->bt.fold[lf].rmse;
		bool		deploy;
		char	   *reason;

		if (deployed_id == 0)
		{
			deploy = true;
			reason = psprintf("first model of the project (backtest RMSE %.1f)", w->bt.mean.rmse);
		}
		else if (!LiveModelRmse(deployed_id, w->bt.fold_from[lf], w->bt.fold_to[lf], &deployed_rmse, &reason))
			deploy = true;
		else
		{
			deploy = isnan(deployed_rmse) || new_rmse < deployed_rmse;
			reason = psprintf("RMSE %.1f vs live model " INT64_FORMAT "'s %.1f on %s..%s",
							  new_rmse, deployed_id, deployed_rmse,
							  IsoDate(w->bt.fold_from[lf]), IsoDate(w->bt.fold_to[lf]));
		}
		spi = SsSpiConnect();
		if (deploy)
		{
			Oid			types[3] = {TEXTOID, INT8OID, TEXTOID};
			Datum		v[3];

			v[0] = CStringGetTextDatum(project);
			v[1] = Int64GetDatum(ids[best]);
			v[2] = CStringGetTextDatum(reason);
			if (SPI_execute_with_args("INSERT INTO seongsu.deployments (project, model_id, action, reason) "
									  "VALUES ($1, $2, 'deploy', $3)", 3, types, v, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not deploy");
		}
		for (a = 0; a < nalgs; a++)
		{
			Datum		out[4];
			bool		outnull[4] = {false, false, false, false};
			Oid			types[1] = {INT8OID};
			Datum		v[1];
			bool		isnull;

			v[0] = Int64GetDatum(ids[a]);
			if (SPI_execute_with_args("SELECT metrics FROM seongsu.models WHERE id OPERATOR(pg_catalog.=) $1", 1, types, v, NULL, false, 1) != SPI_OK_SELECT)
				elog(ERROR, "could not read the model back");
			out[0] = Int64GetDatum(ids[a]);
			out[1] = CStringGetTextDatum(algs[a] == ALG_NAIVE ? "seasonal_naive" : MlAlgorithmName((MlAlgorithm) algs[a]));
			out[2] = datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, -1);
			out[3] = BoolGetDatum(deploy && a == best);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnull);
		}
	}
	SsSpiFinish(spi);
	return (Datum) 0;
}
