/*
 * gbdt.c — histogram gradient-boosted trees (XGBoost "hist" style).
 *
 * Features are binned once (binning.h); each round computes gradients and
 * hessians of the loss at the current predictions, samples rows (subsample)
 * and features (colsample), and grows a tree with second-order gains
 * G^2/(H + lambda), minimum split gain gamma and min_child_weight.  Leaf
 * values are shrunk by learning_rate; with extra_trees each split tries one
 * random threshold per feature instead of the best one.  Losses: squared
 * error (identity link, base score the mean) and Poisson (log link, base
 * score log of the mean, hessians and leaf values bounded by max_delta_step
 * 0.7 as XGBoost does).
 * With validation rows, the mean validation loss after each round is kept
 * (model->valid_loss, the learning curve); with early_stopping_rounds too,
 * training stops after that many rounds without improvement and keeps the
 * best round's trees.
 */
#include <math.h>

#include "../alloc.h"
#include "model_impl.h"

/* XGBoost's max_delta_step for count:poisson. */
#define POISSON_MAX_DELTA 0.7

/* Mean loss of margins f against targets y (n rows). */
static double
MeanLoss(MlLoss loss, const double *f, const double *y, int n)
{
	double		sum = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (loss == ML_LOSS_POISSON)
			sum += exp(f[i]) - y[i] * f[i];
		else
			sum += (f[i] - y[i]) * (f[i] - y[i]);
	}
	return sum / n;
}

/* Gradients and hessians of the loss at margins f, rows 0..n-1, times the weights w (or NULL). */
static void
Gradients(MlLoss loss, const double *f, const double *y, const double *w, int n,
		  double *grad, double *hess)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		if (loss == ML_LOSS_POISSON)
		{
			grad[i] = exp(f[i]) - y[i];
			hess[i] = exp(f[i] + POISSON_MAX_DELTA);
		}
		else
		{
			grad[i] = f[i] - y[i];
			hess[i] = 1;
		}
		if (w)
		{
			grad[i] *= w[i];
			hess[i] *= w[i];
		}
	}
}

/* Choose k of the n features in all[] at random, in increasing order. */
static int
SampleFeatures(MlRng *rng, const int *all, int n, int k, int *out)
{
	int			i;
	int			m = 0;

	/* selection sampling keeps the order */
	for (i = 0; i < n && m < k; i++)
		if (MlRngBelow(rng, (uint32_t) (n - i)) < (uint32_t) (k - m))
			out[m++] = all[i];
	return m;
}

/* Fit gbdt on rows [0, ntrain) of X (sample weights w, or NULL), early-stopping on the next nvalid. */
void
MlGbdtFit(MlModel *model, const MlMatrix *X, const double *y, const double *w,
		  int ntrain, int nvalid, const MlParams *params)
{
	MlBinned   *bins = MlBinnedBuild(X, ntrain, params->max_bins);
	size_t		n1 = (size_t) ntrain + 1;
	int		   *usable = SsAlloc(((size_t) X->ncols + 1) * sizeof(int));
	int		   *features = SsAlloc(((size_t) X->ncols + 1) * sizeof(int));
	int32_t    *rows = SsAlloc(n1 * sizeof(int32_t));
	bool	   *sampled = SsAlloc(n1 * sizeof(bool));
	double	   *f = SsAlloc(n1 * sizeof(double));
	double	   *grad = SsAlloc(n1 * sizeof(double));
	double	   *hess = SsAlloc(n1 * sizeof(double));
	double	   *delta = SsAlloc(n1 * sizeof(double));
	double	   *vf = SsAlloc(((size_t) nvalid + 1) * sizeof(double));
	MlGrower   *grower = MlGrowerCreate(bins, params->max_leaves);
	bool		early = nvalid > 0 && params->early_stopping_rounds > 0;
	double		best_loss = INFINITY;
	double		valid_loss;
	int			best_round = 0;
	int			nusable = 0;
	int			ncolumns;
	MlGrowParams gp;
	MlRng		rng;
	double		mean = 0;
	double		wsum = 0;
	int			t;
	int			i;

	for (i = 0; i < X->ncols; i++)
		if (bins->nbins[i] >= 2)
			usable[nusable++] = i;
	ncolumns = (int) floor(params->colsample * nusable);
	if (ncolumns < 1)
		ncolumns = 1;

	gp.max_depth = params->max_depth;
	gp.max_leaves = params->max_leaves;
	gp.min_child_weight = params->min_child_weight;
	gp.lambda = params->lambda;
	gp.gamma = params->gamma;
	gp.shrinkage = params->learning_rate;
	gp.max_delta_step = params->loss == ML_LOSS_POISSON ? POISSON_MAX_DELTA : 0;
	gp.node_features = 0;
	gp.random_splits = params->extra_trees;

	for (i = 0; i < ntrain; i++)
	{
		mean += (w ? w[i] : 1.0) * y[i];
		wsum += w ? w[i] : 1.0;
	}
	mean /= wsum;
	model->loss = params->loss;
	model->base_score = params->loss == ML_LOSS_POISSON ? log(mean) : mean;
	for (i = 0; i < ntrain; i++)
		f[i] = model->base_score;
	for (i = 0; i < nvalid; i++)
		vf[i] = model->base_score;

	MlRngSeed(&rng, params->seed);
	model->trees = SsAlloc0((size_t) params->n_estimators * sizeof(MlTree));
	if (nvalid > 0)
		model->valid_loss = SsAlloc0((size_t) params->n_estimators * sizeof(double));
	for (t = 0; t < params->n_estimators; t++)
	{
		MlTree	   *tree = &model->trees[t];
		const int  *feats = usable;
		int			nfeats = nusable;
		int			nrows = 0;

		SsCheckInterrupts();
		Gradients(params->loss, f, y, w, ntrain, grad, hess);
		for (i = 0; i < ntrain; i++)
		{
			sampled[i] = params->subsample >= 1 ||
				MlRngUniform(&rng) < params->subsample;
			if (sampled[i])
				rows[nrows++] = i;
		}
		if (nrows == 0)
		{
			i = (int) MlRngBelow(&rng, (uint32_t) ntrain);
			sampled[i] = true;
			rows[nrows++] = i;
		}
		if (ncolumns < nusable)
		{
			nfeats = SampleFeatures(&rng, usable, nusable, ncolumns, features);
			feats = features;
		}
		MlTreeGrow(grower, tree, &gp, rows, nrows, grad, hess, feats, nfeats,
				   &rng, delta);
		model->ntrees = t + 1;

		for (i = 0; i < ntrain; i++)
			f[i] += sampled[i] ? delta[i] :
				MlTreePredict(tree, X->data + i, (size_t) X->nrows);
		if (nvalid == 0)
			continue;
		for (i = 0; i < nvalid; i++)
			vf[i] += MlTreePredict(tree, X->data + ntrain + i, (size_t) X->nrows);
		valid_loss = MeanLoss(params->loss, vf, y + ntrain, nvalid);
		model->valid_loss[model->nvalid_rounds++] = valid_loss;
		if (!early)
			continue;
		if (valid_loss < best_loss)
		{
			best_loss = valid_loss;
			best_round = t;
		}
		else if (t - best_round >= params->early_stopping_rounds)
			break;
	}
	if (early)
	{
		for (t = best_round + 1; t < model->ntrees; t++)
			MlTreeFree(&model->trees[t]);
		model->ntrees = best_round + 1;
	}
	model->trees = SsRealloc(model->trees, (size_t) model->ntrees * sizeof(MlTree));

	MlGrowerFree(grower);
	MlBinnedFree(bins);
	SsFree(usable);
	SsFree(features);
	SsFree(rows);
	SsFree(sampled);
	SsFree(f);
	SsFree(grad);
	SsFree(hess);
	SsFree(delta);
	SsFree(vf);
}
