/*
 * binning.h — quantile binning of feature columns for histogram trees.
 *
 * Each feature gets at most max_bins value bins chosen from the quantiles of
 * its non-missing training values (every distinct value gets its own bin when
 * there are few enough).  Code 0 is reserved for missing values; value bins
 * are 1 .. nbins.  Bin k (k < nbins) holds the values v <= cuts[k - 1] that
 * are above the previous cut, so "bins 1..k go left" is the raw-value rule
 * "v <= cuts[k - 1] goes left" that stored trees apply.
 */
#ifndef SEONGSU_ML_BINNING_H
#define SEONGSU_ML_BINNING_H

#include <stdint.h>

#include "matrix.h"

#define ML_MAX_BINS 255

typedef struct MlBinned
{
	int			nrows;			/* rows binned: the first nrows of the matrix */
	int			ncols;
	uint8_t    *codes;			/* codes[(size_t) col * nrows + row] */
	int		   *nbins;			/* value bins per column (0: all missing) */
	float	   *cuts;			/* increasing upper bounds, nbins - 1 per column */
	int		   *cut_start;		/* index of a column's first cut in cuts */
	int		   *hist_start;		/* a column's first slot in a histogram */
	int			hist_size;		/* slots in a histogram: sum of (nbins + 1) */
} MlBinned;

extern MlBinned *MlBinnedBuild(const MlMatrix *X, int nrows, int max_bins);
extern void MlBinnedFree(MlBinned *b);

#endif							/* SEONGSU_ML_BINNING_H */
