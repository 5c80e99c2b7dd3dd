/*
 * forest.c — random forest regression.
 *
 * Each tree sees a bootstrap sample of the training rows (as multiplicities
 * c, times the sample weight w: gradient -c*w*y, hessian c*w) and tries max_features of the features at each
 * split; min_samples_leaf bounds the (weighted) rows of a leaf.  Trees are
 * grown to max_depth on quantile-binned features; with extra_trees each
 * split tries one random threshold per feature instead of the best one
 * (extremely randomized trees).  The prediction is the mean of the trees.
 */
#include <math.h>

#include "../alloc.h"
#include "model_impl.h"

/* Fit a random forest on the first ntrain rows of X (sample weights w, or NULL). */
void
MlForestFit(MlModel *model, const MlMatrix *X, const double *y, const double *w,
			int ntrain, const MlParams *params)
{
	MlBinned   *bins = MlBinnedBuild(X, ntrain, params->max_bins);
	int		   *features = SsAlloc(((size_t) X->ncols + 1) * sizeof(int));
	int32_t    *rows = SsAlloc(((size_t) ntrain + 1) * sizeof(int32_t));
	int		   *count = SsAlloc(((size_t) ntrain + 1) * sizeof(int));
	double	   *grad = SsAlloc(((size_t) ntrain + 1) * sizeof(double));
	double	   *hess = SsAlloc(((size_t) ntrain + 1) * sizeof(double));
	MlGrower   *grower = MlGrowerCreate(bins, 0);
	MlGrowParams gp;
	MlRng		rng;
	int			nfeatures = 0;
	int			mtry;
	int			t;
	int			i;

	for (i = 0; i < X->ncols; i++)
		if (bins->nbins[i] >= 2)
			features[nfeatures++] = i;
	mtry = (int) floor(params->max_features * nfeatures);
	if (mtry < 1)
		mtry = 1;

	gp.max_depth = params->max_depth;
	gp.max_leaves = 0;
	gp.min_child_weight = params->min_samples_leaf;
	gp.lambda = 0;
	gp.gamma = 0;
	gp.shrinkage = 1;
	gp.max_delta_step = 0;
	gp.node_features = mtry < nfeatures ? mtry : 0;
	gp.random_splits = params->extra_trees;

	MlRngSeed(&rng, params->seed);
	model->trees = SsAlloc0((size_t) params->n_trees * sizeof(MlTree));
	for (t = 0; t < params->n_trees; t++)
	{
		int			nrows = 0;

		SsCheckInterrupts();
		for (i = 0; i < ntrain; i++)
			count[i] = params->bootstrap ? 0 : 1;
		if (params->bootstrap)
			for (i = 0; i < ntrain; i++)
				count[MlRngBelow(&rng, (uint32_t) ntrain)]++;
		for (i = 0; i < ntrain; i++)
			if (count[i] > 0)
			{
				rows[nrows++] = i;
				hess[i] = w ? count[i] * w[i] : count[i];
				grad[i] = -y[i] * hess[i];
			}
		MlTreeGrow(grower, &model->trees[t], &gp, rows, nrows, grad, hess,
				   features, nfeatures, &rng, NULL);
		model->ntrees = t + 1;
	}
	MlGrowerFree(grower);
	MlBinnedFree(bins);
	SsFree(features);
	SsFree(rows);
	SsFree(count);
	SsFree(grad);
	SsFree(hess);
}
