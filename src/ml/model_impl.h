/*
 * model_impl.h — the inside of an MlModel, for the files of src/ml only.
 */
#ifndef SEONGSU_ML_MODEL_IMPL_H
#define SEONGSU_ML_MODEL_IMPL_H

#include "model.h"
#include "tree.h"

struct MlModel
{
	MlAlgorithm algorithm;
	bool		view;			/* arrays point into an image (model_image.c) */
	int			nfeatures;
	char	  **feature_names;	/* nfeatures entries, NULL when unnamed (or a view) */

	/* ridge: prediction = intercept + sum coef[j] * (x[j], or fill[j] if NaN) */
	double		intercept;
	double	   *coef;			/* per feature, in the feature's own units */
	double	   *fill;			/* training mean, replaces missing values */
	double	   *scale;			/* training standard deviation (0: unused) */

	/* random forest (mean of the trees) and gbdt (sum of the trees) */
	int			ntrees;
	MlTree	   *trees;
	double	   *split_gain;		/* per feature, summed over every split */

	/* gbdt: prediction = base_score + sum of trees, through the link */
	MlLoss		loss;
	double		base_score;

	/* ensemble: prediction = sum weights[i] * prediction of members[i], times the row's class scale */
	int			nmembers;
	MlModel   **members;
	double	   *weights;
	MlClassScale class_scale;	/* the prediction's scale per class of row */

	/* gbdt fitted with validation rows: mean validation loss after each round (not stored) */
	int			nvalid_rounds;
	double	   *valid_loss;
};

/* params.c */
extern bool MlParamsCheck(const MlParams *params, char *err, size_t errlen);

/* ridge.c */
extern bool MlRidgeFit(MlModel *model, const MlMatrix *X, const double *y,
					   const double *w, int ntrain, const MlParams *params,
					   char *err, size_t errlen);
extern double MlRidgePredict(const MlModel *model, const float *x,
							 size_t stride);

/* forest.c */
extern void MlForestFit(MlModel *model, const MlMatrix *X, const double *y,
						const double *w, int ntrain, const MlParams *params);

/* gbdt.c */
extern void MlGbdtFit(MlModel *model, const MlMatrix *X, const double *y,
					  const double *w, int ntrain, int nvalid, const MlParams *params);

/* model_io.c */
extern uint32_t MlCrc32(const uint8_t *buf, size_t len);
extern void MlBlobSeal(uint8_t *blob, size_t len);

#endif							/* SEONGSU_ML_MODEL_IMPL_H */
