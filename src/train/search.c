/*
 * search.c — hyper-parameters and search: the options of train's jsonb
 * arguments checked and applied, the candidates of a grid or list search
 * (at most MAX_CANDIDATES), and the parameters as stored with a model.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "../kst.h"
#include "train.h"

/* Apply one hyper-parameter from JSON; reserved keys are handled by the caller. */
static void
ApplyParam(MlParams *p, const char *key, JsonbValue *v)
{
	char		err[256];
	bool		ok;

	if (v->type == jbvNumeric)
		ok = MlParamsSet(p, key, JsonNumber(v), err, sizeof(err));
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

/* Whether a JSON value is exactly the string s. */
static bool
JsonIsString(const JsonbValue *v, const char *s)
{
	return v->type == jbvString && v->val.string.len == (int) strlen(s) &&
		memcmp(v->val.string.val, s, v->val.string.len) == 0;
}

/* A JSON number as a double (ERROR when out of a double's range). */
double
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
void
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
JsonbValue *
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

/* Half-lives (days; 0 = no decay) searched by default. */
static const double recency_grid[] = {0, 730, 365};

/*
 * Build the candidate list of an algorithm from the base params and a search
 * spec: every combination of the grid (at most MAX_CANDIDATES), or n_iter
 * random draws from it.  With recency (no search spec given, no half_life
 * in the hyperparams) the candidates are the half-lives of recency_grid; a
 * search spec replaces it (name half_life in it to search half-lives).
 */
List *
Candidates(int algorithm, const MlParams *base, bool ratio, Jsonb *search, bool recency, int *folds)
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

	if ((!search && !recency) || algorithm == ALG_NAIVE)
	{
		Candidate  *cd = palloc0(sizeof(Candidate));

		cd->algorithm = algorithm;
		cd->params = *base;
		cd->ratio = ratio;
		return list_make1(cd);
	}
	memset(&g, 0, sizeof(g));
	if (search && (!JB_ROOT_IS_OBJECT(search) || !params))
		SearchError("search must be an object with \"params\": {\"name\": [values], ...}");
	if (search)
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
	if (search)
		SearchGridOf(params, &g);
	else
	{
		g.names[0] = "half_life";
		g.counts[0] = lengthof(recency_grid);
		memcpy(g.values[0], recency_grid, sizeof(recency_grid));
		g.nnames = 1;
	}
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

/*
 * A copy of tree candidate c with random thresholds (extra_trees: one
 * random threshold for each feature tried), not yet backtested (its bt
 * zeroed, which BestOf reads as such).  A forest also takes the rest of
 * the extremely randomized shape (Geurts, Ernst and Wehenkel 2006: every
 * feature tried, each tree on every row); gbdt keeps its sampling.
 */
Candidate *
ExtraTreesOf(const Candidate *c)
{
	bool		forest = c->algorithm == ML_RANDOM_FOREST;
	Jsonb	   *shape = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(forest ?
		"{\"extra_trees\": 1, \"bootstrap\": 0, \"max_features\": 1}" : "{\"extra_trees\": 1}")));
	Candidate  *e = palloc(sizeof(Candidate));

	*e = *c;
	memset(&e->bt, 0, sizeof(e->bt));
	e->params.extra_trees = true;
	if (forest)
	{
		e->params.bootstrap = false;
		e->params.max_features = 1;
	}
	e->described = c->described == NULL ? shape :
		DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(c->described), JsonbPGetDatum(shape)));
	return e;
}

/* x as the shortest decimal that reads back as the same double. */
static char *
Exact(double x)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(x, buf);
	return pstrdup(buf);
}

/*
 * The hyper-parameters of p as a JSON object: every name, with values that
 * read back exactly (so a model can be refit from them bit for bit), and
 * the crowd levels when they were given.
 */
char *
ParamsJson(int algorithm, const MlParams *p, const TrainOptions *o, const char *target, int64 H)
{
	if (algorithm == ALG_NAIVE)
		return psprintf("{\"lag_days\": %d}", (int) (7 * ((H + 6) / 7)));
	return psprintf("{\"seed\": %llu, \"alpha\": %s, \"max_depth\": %d, \"min_samples_leaf\": %d, "
					"\"max_features\": %s, \"n_trees\": %d, \"bootstrap\": %d, \"extra_trees\": %d, \"n_estimators\": %d, "
					"\"learning_rate\": %s, \"max_leaves\": %d, \"min_child_weight\": %s, \"lambda\": %s, "
					"\"gamma\": %s, \"subsample\": %s, \"colsample\": %s, \"early_stopping_rounds\": %d, "
					"\"max_bins\": %d, \"loss\": \"%s\", \"half_life\": %s, \"target\": \"%s\", \"folds\": %d%s}",
					(unsigned long long) p->seed, Exact(p->alpha), p->max_depth, p->min_samples_leaf,
					Exact(p->max_features), p->n_trees, (int) p->bootstrap, (int) p->extra_trees, p->n_estimators,
					Exact(p->learning_rate), p->max_leaves, Exact(p->min_child_weight), Exact(p->lambda),
					Exact(p->gamma), Exact(p->subsample), Exact(p->colsample), p->early_stopping_rounds, p->max_bins,
					p->loss == ML_LOSS_POISSON ? "poisson" : "squared", Exact(p->half_life), target, o->folds,
					o->has_levels ? psprintf(", \"levels\": [%s, %s, %s]", Exact(o->levels[0]), Exact(o->levels[1]),
											 Exact(o->levels[2])) : "");
}
