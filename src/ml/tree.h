/*
 * tree.h — regression trees shared by the random forest and gbdt.
 *
 * A tree is an array of nodes, children always after their parent (so every
 * walk from the root ends).  An internal node sends a row left when its
 * feature value is <= threshold, and missing values (NaN) to the learned
 * default side.  Trees are grown on binned features (binning.h) from
 * per-row gradients and hessians: the forest passes g = -w*y, h = w (w the
 * bootstrap multiplicity, lambda 0), which makes the split gain the weighted
 * reduction of squared error and the leaf value the weighted mean.
 */
#ifndef SEONGSU_ML_TREE_H
#define SEONGSU_ML_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "binning.h"
#include "rng.h"

typedef struct MlNode
{
	int32_t		feature;		/* split feature, or -1 for a leaf */
	float		threshold;		/* value <= threshold goes left */
	int32_t		left;			/* child indices (0 in a leaf) */
	int32_t		right;
	uint8_t		default_left;	/* 1 when missing values go left */
	double		value;			/* output of a leaf (also kept for splits) */
	double		gain;			/* loss reduction of the split (0 in a leaf) */
	double		cover;			/* hessian sum of the training rows here */
} MlNode;

typedef struct MlTree
{
	int32_t		nnodes;
	MlNode	   *nodes;
} MlTree;

/* How one tree grows. */
typedef struct MlGrowParams
{
	int			max_depth;
	int			max_leaves;		/* 0: depth-first; else best-first to this */
	double		min_child_weight;	/* minimum hessian sum in a child */
	double		lambda;			/* L2 penalty on leaf values */
	double		gamma;			/* minimum gain of a split */
	double		shrinkage;		/* leaf values are multiplied by it */
	double		max_delta_step; /* > 0: clamp |leaf value| before shrinkage */
	int			node_features;	/* > 0: features sampled for each split */
	int			random_splits;	/* 1: one random threshold per feature */
} MlGrowParams;

typedef struct MlGrower MlGrower;

extern MlGrower *MlGrowerCreate(const MlBinned *bins, int max_leaves);
extern void MlGrowerFree(MlGrower *g);
extern void MlTreeGrow(MlGrower *g, MlTree *tree, const MlGrowParams *gp,
					   int32_t *rows, int nrows, const double *grad,
					   const double *hess, const int *features, int nfeatures,
					   MlRng *rng, double *row_out);
extern double MlTreePredict(const MlTree *tree, const float *x, size_t stride);
extern void MlTreeAddImportances(const MlTree *tree, double *importance);
extern void MlTreeFree(MlTree *tree);

#endif							/* SEONGSU_ML_TREE_H */
