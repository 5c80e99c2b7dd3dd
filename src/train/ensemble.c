/*
 * ensemble.c — the ensemble algorithm and auto's choice.
 *
 * An ensemble is the weighted mean of refit members: the winners of ridge
 * and random_forest, and gbdt's best candidate of each shape (best
 * thresholds, random thresholds), each with its own searched half-life, with
 * the convex weights (a 1/20 grid) whose combination of the members' backtest
 * predictions has the least squared error.  Its backtest is honest: fold k
 * combines the members' fold-k predictions with weights fitted on folds
 * 0..k-1 only (equal weights on the first fold).  The combination is
 * then multiplied by a scale per class of day (working day, Saturday,
 * Sunday, none of them next to a public holiday nor in a run of days off
 * holding one): each class's least-squares scale on the backtest rows,
 * shrunk towards 1 by SCALE_PRIOR_DAYS days on which the forecast was
 * exact; the honest backtest fits it on folds 0..k-1 too.  It is stored as
 * one model (src/ml holds the members, weights and scale).
 *
 * auto deploys the ensemble unless one member matches or beats the
 * ensemble's honest backtest on all folds but at most one (with 8 folds or
 * more; with fewer, on all of them): then that member (the lowest pooled
 * RMSE of those that do).  seasonal_naive is a reported baseline, never
 * deployed by auto.  The rule and its evidence: docs/models.md.
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "train.h"

/* Which candidates of an algorithm a member is the best of. */
typedef enum MemberShape
{
	ANY_SHAPE,					/* every candidate (the algorithm's winner) */
	BEST_SPLITS,				/* those without extra_trees */
	RANDOM_SPLITS				/* those with extra_trees */
} MemberShape;

/* The ensemble's members, in this order (docs/models.md: why gbdt's two shapes and one forest). */
static const struct
{
	int			algorithm;
	MemberShape shape;
}			member_specs[] = {
	{ML_RIDGE, ANY_SHAPE}, {ML_RANDOM_FOREST, ANY_SHAPE}, {ML_GBDT, BEST_SPLITS}, {ML_GBDT, RANDOM_SPLITS}
};

#define NSPECS lengthof(member_specs)

/* Folds a member must beat the ensemble on to replace it (auto's rule). */
static int
WinsNeeded(int folds)
{
	return folds >= DEFAULT_FOLDS ? folds - 1 : folds;
}

/* Folds on which member m has an RMSE at most the ensemble e's. */
static int
FoldWins(const Candidate *m, const Candidate *e)
{
	int			f, wins = 0;

	for (f = 0; f < e->bt.folds && f < m->bt.folds; f++)
		if (m->bt.fold[f].rmse <= e->bt.fold[f].rmse)
			wins++;
	return wins;
}

/* Convex weights are searched on a grid of this many steps per unit. */
#define WEIGHT_STEPS 20

/* Exact pseudo-days that shrink each day class's scale towards 1. */
#define SCALE_PRIOR_DAYS 30

/* The scale's day classes are the feature kind's 0, 1 and 2 (working day, Saturday, Sunday)... */
#define SCALE_CLASSES 3

/* ...unless one of these features is set (next to a public holiday, or in a run of days off holding one). */
static const int scale_masks[] = {
	FCOL_block_has_holiday, FCOL_before_holiday, FCOL_after_holiday, FCOL_before_holiday_block,
	FCOL_after_holiday_block
};

/* ens's members' backtest predictions of row i combined with weights w. */
static double
Combined(const Candidate *ens, int i, const double *w)
{
	double		p = 0;
	int			m;

	for (m = 0; m < ens->nmembers; m++)
		p += w[m] * ens->members[m]->bt.pred[i];
	return p;
}

/* Squared error of ens's members combined with weights w over backtest rows [0, upto). */
static double
CombinedSse(const Candidate *ens, int upto, const double *w)
{
	const double *actual = ens->members[0]->bt.actual;
	double		sse = 0;
	int			i;

	for (i = 0; i < upto; i++)
	{
		double		p = Combined(ens, i, w);

		if (!isnan(p))
			sse += (p - actual[i]) * (p - actual[i]);
	}
	return sse;
}

/*
 * Convex weights of ens's members (multiples of 1/WEIGHT_STEPS, summing to
 * 1) whose combination has the least squared error on the members'
 * backtest rows [0, upto); equal weights when there are none.  The first
 * minimum in enumeration order wins, so the result is deterministic.
 */
static void
ConvexWeights(const Candidate *ens, int upto, double *w)
{
	int			n = ens->nmembers;
	int			k[ML_MAX_MEMBERS] = {0};
	double		best = INFINITY;
	int			i, m;

	for (m = 0; m < n; m++)
		w[m] = 1.0 / n;
	if (upto == 0)
		return;
	for (;;)
	{
		double		cand[ML_MAX_MEMBERS];
		int			used = 0;
		double		sse;

		CHECK_FOR_INTERRUPTS();
		for (m = 0; m < n - 1; m++)
		{
			cand[m] = (double) k[m] / WEIGHT_STEPS;
			used += k[m];
		}
		cand[n - 1] = (double) (WEIGHT_STEPS - used) / WEIGHT_STEPS;
		sse = CombinedSse(ens, upto, cand);
		if (sse < best)
		{
			best = sse;
			memcpy(w, cand, sizeof(double) * n);
		}
		/* the next k[0..n-2] with a sum of at most WEIGHT_STEPS (an odometer) */
		for (i = 0; i < n - 1; i++)
		{
			int			sum = 0;

			k[i]++;
			for (m = 0; m < n - 1; m++)
				sum += k[m];
			if (sum <= WEIGHT_STEPS)
				break;
			k[i] = 0;
		}
		if (i == n - 1)
			break;
	}
}

/* The day classes of the ensemble's scale, every scale 1. */
static void
ScaleRule(MlClassScale *cs)
{
	int			i;

	memset(cs, 0, sizeof(MlClassScale));
	cs->nclasses = SCALE_CLASSES;
	cs->class_col = DatasetColumnOf(FCOL_kind);
	if (cs->class_col < 0)
		elog(ERROR, "a feature of the day classes is no model column");
	cs->nmask = lengthof(scale_masks);
	for (i = 0; i < cs->nmask; i++)
	{
		cs->mask_cols[i] = DatasetColumnOf(scale_masks[i]);
		if (cs->mask_cols[i] < 0)
			elog(ERROR, "a feature of the day classes is no model column");
	}
	for (i = 0; i < cs->nclasses; i++)
		cs->scale[i] = 1;
}

/* The day class (MlClassOf) of each of ens's backtest rows, from the rows of d. */
static int *
RowClasses(const Candidate *ens, const Dataset *d)
{
	const Backtest *bt = &ens->members[0]->bt;
	int		   *cls = palloc(sizeof(int) * (bt->npred + 1));
	int			f, i;

	for (f = 0; f < bt->folds; f++)
		for (i = 0; i < bt->row_to[f] - bt->row_from[f]; i++)
			cls[bt->pred_at[f] + i] = MlClassOf(&ens->scale, d->X->data + bt->row_from[f] + i, (size_t) d->X->nrows);
	return cls;
}

/*
 * Each day class's scale of ens's members combined with weights w, over
 * backtest rows [0, upto): the least-squares factor with SCALE_PRIOR_DAYS
 * more days on which the combination was exact (each the class's mean
 * squared prediction); 1 for a class without rows.
 */
static void
FitScale(Candidate *ens, const int *cls, int upto, const double *w)
{
	const double *actual = ens->members[0]->bt.actual;
	double		pa[ML_MAX_CLASSES] = {0}, pp[ML_MAX_CLASSES] = {0};
	int			n[ML_MAX_CLASSES] = {0};
	int			i, k;

	for (i = 0; i < upto; i++)
	{
		double		p;

		if (cls[i] < 0)
			continue;
		p = Combined(ens, i, w);
		if (isnan(p) || isnan(actual[i]))
			continue;
		pa[cls[i]] += p * actual[i];
		pp[cls[i]] += p * p;
		n[cls[i]]++;
	}
	for (k = 0; k < ens->scale.nclasses; k++)
	{
		double		prior = n[k] > 0 ? SCALE_PRIOR_DAYS * pp[k] / n[k] : 0;
		double		s = prior > 0 ? (pa[k] + prior) / (pp[k] + prior) : 1;

		ens->scale.scale[k] = isfinite(s) && s > 0 ? s : 1;
	}
}

/*
 * The honest backtest of ens from its members' (same folds) on the rows of
 * d: fold k's rows are predicted with convex weights and day-class scales
 * fitted on folds 0..k-1 (equal weights and no scale on fold 0);
 * ens->weights and ens->scale become the ones fitted on every fold.
 */
static void
EnsembleBacktest(Candidate *ens, const Dataset *d)
{
	Backtest   *bt = &ens->bt;
	const Backtest *b0 = &ens->members[0]->bt;
	int		   *cls;
	int			f, i, m;

	for (m = 1; m < ens->nmembers; m++)
		if (ens->members[m]->bt.folds != b0->folds || ens->members[m]->bt.npred != b0->npred)
			elog(ERROR, "the members of an ensemble were backtested on different folds");
	memcpy(bt, b0, sizeof(Backtest));
	bt->pred = palloc(sizeof(double) * (b0->npred + 1));
	bt->actual = palloc(sizeof(double) * (b0->npred + 1));
	memcpy(bt->actual, b0->actual, sizeof(double) * b0->npred);
	bt->best_trees = 0;
	ScaleRule(&ens->scale);
	cls = RowClasses(ens, d);
	for (f = 0; f < bt->folds; f++)
	{
		int			at = bt->pred_at[f], n = bt->row_to[f] - bt->row_from[f];
		double		w[ML_MAX_MEMBERS];

		bt->nrounds[f] = 0;
		bt->valid_loss[f] = NULL;
		ConvexWeights(ens, at, w);
		FitScale(ens, cls, at, w);
		for (i = at; i < at + n; i++)
		{
			bt->pred[i] = Combined(ens, i, w);
			if (cls[i] >= 0)
				bt->pred[i] *= ens->scale.scale[cls[i]];
		}
		MlMetricsCompute(bt->actual + at, bt->pred + at, n, &bt->fold[f]);
	}
	BacktestPool(bt);
	ConvexWeights(ens, bt->npred, ens->weights);
	FitScale(ens, cls, bt->npred, ens->weights);
	pfree(cls);
}

/*
 * The best (lowest pooled RMSE) of an algorithm's candidates of the given
 * shape with target mode ratio (or raw); NULL when it has none.
 */
static Candidate *
BestOfShape(List *cands, MemberShape shape, bool ratio)
{
	Candidate  *best = NULL;
	ListCell   *lc;

	foreach(lc, cands)
	{
		Candidate  *c = lfirst(lc);

		if (shape != ANY_SHAPE && c->params.extra_trees != (shape == RANDOM_SPLITS))
			continue;
		if (c->ratio == ratio && (!best || c->bt.mean.rmse < best->bt.mean.rmse))
			best = c;
	}
	return best;
}

/*
 * ensemble: the members' searches (those of models[0..nmodels) when auto
 * already ran them, else run here, unstored), each member's best candidate
 * of the ensemble's target mode (ratio unless hyperparams.target is raw),
 * the honest backtest, and the refit members combined into out.
 */
void
EnsembleSearch(const TrainRequest *r, TrainData *t, TrainedModel *models, int nmodels, TrainedModel *out)
{
	Candidate  *ens = palloc0(sizeof(Candidate));
	MlModel    *fitted[ML_MAX_MEMBERS];
	TrainedModel *tm = NULL;
	char		err[256];
	int			m, a;

	for (m = 0; m < (int) NSPECS; m++)
	{
		Candidate  *mc;
		int			alg = member_specs[m].algorithm;

		CHECK_FOR_INTERRUPTS();
		if (!tm || tm->algorithm != alg)
		{
			tm = NULL;
			for (a = 0; a < nmodels; a++)
				if (models[a].algorithm == alg)
					tm = &models[a];
		}
		if (!tm)
		{
			tm = palloc0(sizeof(TrainedModel));
			AlgorithmSearch(r, t, alg, tm);
		}
		if (m == 0)
		{
			out->opts = tm->opts;
			ens->ratio = strcmp(tm->opts.target, "raw") != 0;
		}
		mc = BestOfShape(tm->cands, member_specs[m].shape, ens->ratio);
		if (!mc && member_specs[m].shape == ANY_SHAPE)
			elog(ERROR, "no candidate of the ensemble's target mode was backtested");
		if (!mc)
			continue;			/* the caller fixed gbdt's shape */
		fitted[ens->nmembers] = mc == tm->win && tm->fitted ? tm->fitted : TrainRefit(t->d, mc);
		if (fitted[ens->nmembers] == tm->fitted)
			tm->fitted = NULL;	/* the ensemble owns it now */
		ens->members[ens->nmembers++] = mc;
	}
	ens->algorithm = ML_ENSEMBLE;
	ens->started_at = GetCurrentTimestamp();
	EnsembleBacktest(ens, t->d);
	ens->finished_at = GetCurrentTimestamp();
	out->algorithm = ML_ENSEMBLE;
	out->cands = list_make1(ens);
	out->report = NULL;
	out->win = ens;
	out->fitted = MlEnsembleCreate(fitted, ens->weights, ens->nmembers, err, sizeof(err));
	if (!out->fitted || !MlEnsembleSetScale(out->fitted, &ens->scale, err, sizeof(err)))
		elog(ERROR, "could not combine the ensemble: %s", err);
}

/*
 * Which of the trained models to deploy, with why: auto's rule when an
 * ensemble was trained, else the lowest pooled backtest RMSE (one model:
 * that one).
 */
int
AutoChoice(const TrainedModel *models, int n, char **why)
{
	const Candidate *ens = NULL;
	int			a, e = -1, best = -1;

	for (a = 0; a < n; a++)
		if (models[a].algorithm == ML_ENSEMBLE)
		{
			e = a;
			ens = models[a].win;
		}
	if (!ens)
	{
		for (a = 0; a < n; a++)
			if (best < 0 || models[a].win->bt.mean.rmse < models[best].win->bt.mean.rmse)
				best = a;
		*why = pstrdup("lowest backtest RMSE");
		return best;
	}
	for (a = 0; a < n; a++)
	{
		const Candidate *c = models[a].win;

		if (a == e || c->algorithm == ALG_NAIVE || FoldWins(c, ens) < WinsNeeded(ens->bt.folds))
			continue;
		if (best < 0 || c->bt.mean.rmse < models[best].win->bt.mean.rmse)
			best = a;
	}
	if (best < 0)
	{
		*why = psprintf("ensemble: no member beats it on %d of %d backtest folds", WinsNeeded(ens->bt.folds),
						ens->bt.folds);
		return e;
	}
	*why = psprintf("%s beats the ensemble on %d of %d backtest folds",
					MlAlgorithmName((MlAlgorithm) models[best].algorithm), FoldWins(models[best].win, ens),
					ens->bt.folds);
	return best;
}

/*
 * The members of an ensemble for its metrics document: algorithm, random
 * thresholds or not, weight, half-life, pooled RMSE, folds won; and the
 * day classes' scales (when it has them).
 */
char *
EnsembleMembersJson(const Candidate *ens)
{
	StringInfoData s;
	int			m;

	initStringInfo(&s);
	appendStringInfo(&s, "{\"wins_to_replace\": %d, \"members\": [", WinsNeeded(ens->bt.folds));
	for (m = 0; m < ens->nmembers; m++)
	{
		const Candidate *c = ens->members[m];

		appendStringInfo(&s, "%s{\"algorithm\": \"%s\", \"extra_trees\": %s, \"weight\": %.6g, \"half_life\": %g, \"rmse\": %.6g, \"fold_wins\": %d}",
						 m ? ", " : "", MlAlgorithmName((MlAlgorithm) c->algorithm),
						 c->algorithm != ML_RIDGE && c->params.extra_trees ? "true" : "false", ens->weights[m],
						 c->params.half_life, c->bt.mean.rmse, FoldWins(c, ens));
	}
	appendStringInfoChar(&s, ']');
	for (m = 0; m < ens->scale.nclasses; m++)
		appendStringInfo(&s, "%s%.6g", m ? ", " : ", \"day_scale\": [", ens->scale.scale[m]);
	appendStringInfoString(&s, ens->scale.nclasses > 0 ? "]}" : "}");
	return s.data;
}

/*
 * The hyper-parameters of an ensemble as stored: each member's algorithm,
 * weight and parameters (as ParamsJson), the target mode and folds (and the
 * day classes' scales when it has them, the crowd levels when given);
 * EnsembleRefit reads them back.
 */
char *
EnsembleParamsJson(const Candidate *ens, const TrainOptions *o, int64 H)
{
	StringInfoData s;
	TrainOptions mo = *o;
	int			m;

	mo.has_levels = false;
	initStringInfo(&s);
	appendStringInfoString(&s, "{\"members\": [");
	for (m = 0; m < ens->nmembers; m++)
	{
		const Candidate *c = ens->members[m];

		appendStringInfo(&s, "%s{\"algorithm\": \"%s\", \"weight\": %s, \"params\": %s}", m ? ", " : "",
						 MlAlgorithmName((MlAlgorithm) c->algorithm),
						 float8out_internal(ens->weights[m]),
						 ParamsJson(c->algorithm, &c->params, &mo, c->ratio ? "ratio" : "raw", H));
	}
	appendStringInfo(&s, "], \"target\": \"%s\", \"folds\": %d", ens->ratio ? "ratio" : "raw", o->folds);
	for (m = 0; m < ens->scale.nclasses; m++)
		appendStringInfo(&s, "%s%s", m ? ", " : ", \"day_scale\": [",
						 float8out_internal(ens->scale.scale[m]));
	if (ens->scale.nclasses > 0)
		appendStringInfoChar(&s, ']');
	if (o->has_levels)
		appendStringInfo(&s, ", \"levels\": [%s, %s, %s]",
						 float8out_internal(o->levels[0]), float8out_internal(o->levels[1]),
						 float8out_internal(o->levels[2]));
	appendStringInfoChar(&s, '}');
	return s.data;
}

/* ERROR: a stored ensemble's hyper-parameters cannot be read back. */
static void
EnsembleParamsError(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the ensemble's hyperparams are corrupt: %s", what)));
}

/*
 * The stored day classes' scales of an ensemble into ens->scale (none for
 * an ensemble stored before they were).
 */
static void
ReadDayScale(Jsonb *hp, Candidate *ens)
{
	JsonbValue *arr = JsonKey(hp, "day_scale");
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			k = 0;

	memset(&ens->scale, 0, sizeof(MlClassScale));
	if (!arr)
		return;
	if (arr->type != jbvBinary || !JsonContainerIsArray(arr->val.binary.data))
		EnsembleParamsError("day_scale is not an array");
	ScaleRule(&ens->scale);
	it = JsonbIteratorInit(arr->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (k >= SCALE_CLASSES || e.type != jbvNumeric)
			EnsembleParamsError("day_scale is not an array of three numbers");
		ens->scale.scale[k++] = JsonNumber(&e);
	}
	if (k != SCALE_CLASSES)
		EnsembleParamsError("day_scale is not an array of three numbers");
}

/*
 * An ensemble refit from its stored hyper-parameters (EnsembleParamsJson)
 * on d: each member refit with its parameters, combined with the stored
 * weights and day-class scales; ens gets the members' candidates, weights
 * and scales.
 */
MlModel *
EnsembleRefit(const Dataset *d, Jsonb *hp, Candidate *ens)
{
	JsonbValue *members = JsonKey(hp, "members");
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	MlModel    *fitted[ML_MAX_MEMBERS];
	MlModel    *out;
	char		err[256];

	if (!members || members->type != jbvBinary || !JsonContainerIsArray(members->val.binary.data))
		EnsembleParamsError("members is not an array");
	ens->nmembers = 0;
	it = JsonbIteratorInit(members->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		Jsonb	   *mj;
		JsonbValue *alg, *weight, *params;
		Candidate  *mc;
		MlAlgorithm ma = ML_RIDGE;
		TrainOptions mo;

		if (tok != WJB_ELEM)
			continue;
		if (ens->nmembers >= ML_MAX_MEMBERS)
			EnsembleParamsError("too many members");
		mj = JsonbValueToJsonb(&e);
		alg = JsonKey(mj, "algorithm");
		weight = JsonKey(mj, "weight");
		params = JsonKey(mj, "params");
		if (!alg || alg->type != jbvString || !weight || weight->type != jbvNumeric || !params ||
			!MlAlgorithmFromName(pnstrdup(alg->val.string.val, alg->val.string.len), &ma) || ma == ML_ENSEMBLE)
			EnsembleParamsError("a member has no algorithm, weight or params");
		mc = palloc0(sizeof(Candidate));
		mc->algorithm = (int) ma;
		memset(&mo, 0, sizeof(mo));
		strcpy(mo.target, DEFAULT_TARGET);
		MlParamsInit(&mc->params, ma);
		ApplyParams(&mc->params, &mo, JsonbValueToJsonb(params));
		mc->ratio = strcmp(mo.target, "raw") != 0;
		/* the stored n_estimators of a gbdt is its refit's */
		mc->bt.best_trees = mc->params.n_estimators;
		ens->weights[ens->nmembers] = JsonNumber(weight);
		fitted[ens->nmembers] = TrainRefit(d, mc);
		ens->members[ens->nmembers++] = mc;
	}
	ReadDayScale(hp, ens);
	out = MlEnsembleCreate(fitted, ens->weights, ens->nmembers, err, sizeof(err));
	if (!out || !MlEnsembleSetScale(out, &ens->scale, err, sizeof(err)))
		EnsembleParamsError(err);
	return out;
}
