/*
 * model.h — the model family: ridge regression, random forest and
 * histogram gradient-boosted trees, in pure C (no PostgreSQL calls).
 *
 * Train with MlModelFit on an MlMatrix (matrix.h) and a double target,
 * predict one row (a float array indexed by feature, NaN = missing) with
 * MlModelPredict, store with MlModelSerialize/MlModelDeserialize.  Memory
 * comes from SsAlloc (alloc.h); training calls SsCheckInterrupts() once per
 * tree, boosting round or Cholesky column (prediction once per block of 256
 * rows and every 64 trees), and may therefore longjmp out in the server,
 * leaving only SsAlloc memory behind.  Training is deterministic:
 * the same data, parameters and seed give byte-identical serialized models.
 *
 * Hyper-parameters (MlParams), set by name with MlParamsSet / MlParamsSetText;
 * defaults from MlParamsInit(p, algorithm):
 *
 *   seed                  42      integer in [0, 2^53]  all randomness
 *   alpha                 1       [0, 1e12]  ridge: L2 penalty added to Z'Z of
 *                                 the standardized features (whose diagonal
 *                                 is the number of training rows)
 *   max_depth             forest 16, gbdt 4; integer in [1, 32]
 *   min_samples_leaf      1       integer in [1, 1e6]  forest: minimum
 *                                 training weight (bootstrap multiplicity
 *                                 times sample weight) in a leaf
 *   max_features          1/3     (0, 1]  forest: fraction of the features
 *                                 tried at each split
 *   n_trees               100     integer in [1, 10000]  forest
 *   bootstrap             1       0 or 1  forest: resample rows per tree
 *   extra_trees           0       0 or 1  forest and gbdt: one random
 *                                 threshold per tried feature at each split
 *                                 (extremely randomized trees) instead of
 *                                 the best one
 *   n_estimators          600     integer in [1, 100000]  gbdt: rounds (the
 *                                 maximum with early stopping)
 *   learning_rate (eta)   0.05    (0, 1]  gbdt shrinkage
 *   max_leaves (num_leaves) 0     integer in [0, 4096]  gbdt: 0 = no limit;
 *                                 otherwise trees grow best-first (lossguide)
 *   min_child_weight      3       [0, 1e9]  gbdt: minimum (weighted) hessian sum
 *                                 in a child
 *   lambda (reg_lambda)   1       [0, 1e9]  gbdt: L2 penalty on leaf values
 *   gamma (min_split_loss) 0      [0, 1e12]  gbdt: minimum loss reduction of a
 *                                 split (XGBoost's units)
 *   subsample             0.8     (0, 1]  gbdt: fraction of rows per tree
 *   colsample (colsample_bytree) 0.6  (0, 1]  gbdt: fraction of features per tree
 *   early_stopping_rounds 0       integer in [0, 100000]  gbdt: stop after this
 *                                 many rounds without improvement on the
 *                                 validation rows; 0 = off
 *   max_bins (max_bin)    255     integer in [2, 255]  gbdt and forest: value
 *                                 bins per feature (plus one for missing)
 *   loss (text)           squared 'squared' or 'poisson' (log link; targets
 *                                 must be >= 0 with a positive mean)
 *   half_life             0       [0, 1e6]  days: the caller weights a row
 *                                 0.5^(age / half_life) (0: no decay); the
 *                                 learners only see the weights they are given
 *
 * Sample weights (MlModelFitWeighted, w >= 0, NULL = all 1): ridge solves
 * weighted least squares (weights also in the means and standard deviations
 * that standardize); the forest and gbdt multiply each row's gradient and
 * hessian by its weight (the forest's bootstrap multiplicity too), so
 * min_samples_leaf and min_child_weight count weight.  A row of weight 2
 * is a duplicated row for ridge; a row of weight 0 adds nothing.
 *
 * An ensemble (MlEnsembleCreate) is the weighted sum of member models'
 * predictions, optionally multiplied by a scale per class of row
 * (MlEnsembleSetScale); it is stored and predicted like any model.
 *
 * Parameters that an algorithm does not use are accepted and ignored.
 *
 * A gbdt fitted with validation rows keeps the mean validation loss after
 * every round it grew (MlModelValidLoss: the learning curve, rounds past
 * the kept best included); it is not part of the serialized model.
 */
#ifndef SEONGSU_ML_MODEL_H
#define SEONGSU_ML_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "matrix.h"

/* Algorithm ids; the numbers are stored in serialized models. */
typedef enum MlAlgorithm
{
	ML_RIDGE = 1,
	ML_RANDOM_FOREST = 2,
	ML_GBDT = 3,
	ML_ENSEMBLE = 4
} MlAlgorithm;

#define ML_MAX_MEMBERS 8		/* members of an ensemble */
#define ML_MAX_CLASSES 8		/* classes of an ensemble's class scale */
#define ML_MAX_MASKS 8			/* mask features of a class scale */

/*
 * An ensemble's class scale: a row whose feature class_col holds a whole
 * number k in [0, nclasses), and none of whose mask_cols features is
 * nonzero (missing counts as zero), has its prediction multiplied by
 * scale[k]; other rows are not scaled.  nclasses 0: no scale.
 */
typedef struct MlClassScale
{
	int			nclasses;
	int			class_col;
	int			nmask;
	int			mask_cols[ML_MAX_MASKS];
	double		scale[ML_MAX_CLASSES];
} MlClassScale;

/* Training loss of gbdt; the numbers are stored in serialized models. */
typedef enum MlLoss
{
	ML_LOSS_SQUARED = 0,
	ML_LOSS_POISSON = 1
} MlLoss;

/* Every hyper-parameter of every algorithm (see the table above). */
typedef struct MlParams
{
	uint64_t	seed;
	double		alpha;
	int			max_depth;
	int			min_samples_leaf;
	double		max_features;
	int			n_trees;
	bool		bootstrap;
	bool		extra_trees;
	int			n_estimators;
	double		learning_rate;
	int			max_leaves;
	double		min_child_weight;
	double		lambda;
	double		gamma;
	double		subsample;
	double		colsample;
	int			early_stopping_rounds;
	int			max_bins;
	MlLoss		loss;
	double		half_life;
} MlParams;

typedef struct MlModel MlModel;

/* params.c */
extern const char *MlAlgorithmName(MlAlgorithm algorithm);
extern bool MlAlgorithmFromName(const char *name, MlAlgorithm *algorithm);
extern void MlParamsInit(MlParams *params, MlAlgorithm algorithm);
extern bool MlParamsSet(MlParams *params, const char *name, double value,
						char *err, size_t errlen);
extern bool MlParamsSetText(MlParams *params, const char *name,
							const char *value, char *err, size_t errlen);

/* model.c */
extern MlModel *MlModelFit(MlAlgorithm algorithm, const MlMatrix *X,
						   const double *y, int n_valid,
						   const MlParams *params, char *err, size_t errlen);
extern MlModel *MlModelFitWeighted(MlAlgorithm algorithm, const MlMatrix *X,
								   const double *y, const double *w, int n_valid,
								   const MlParams *params, char *err, size_t errlen);
extern MlModel *MlEnsembleCreate(MlModel **members, const double *weights, int n,
								 char *err, size_t errlen);
extern int	MlEnsembleMembers(const MlModel *model, const MlModel **members, double *weights);
extern bool MlEnsembleSetScale(MlModel *model, const MlClassScale *cs, char *err, size_t errlen);
extern void MlEnsembleScale(const MlModel *model, MlClassScale *cs);
extern int	MlClassOf(const MlClassScale *cs, const float *row, size_t col_step);
extern double MlModelPredict(const MlModel *model, const float *row);
extern void MlModelPredictRows(const MlModel *model, const float *rows, int nrows,
							   double *out);
extern bool MlModelPredictMatrix(const MlModel *model, const MlMatrix *X,
								 double *out, char *err, size_t errlen);
extern void MlModelFree(MlModel *model);
extern MlAlgorithm MlModelAlgorithm(const MlModel *model);
extern int	MlModelNumFeatures(const MlModel *model);
extern const char *MlModelFeatureName(const MlModel *model, int feature);
extern int	MlModelNumTrees(const MlModel *model);
extern void MlModelImportances(const MlModel *model, double *out);
extern const double *MlModelValidLoss(const MlModel *model, int *nrounds);
extern bool MlModelLinearCoefficients(const MlModel *model, double *intercept,
									  double *coef, double *fill);

/* model_io.c */
extern uint8_t *MlModelSerialize(const MlModel *model, size_t *len);
extern bool MlModelDeserialize(const uint8_t *buf, size_t len, MlModel **out,
							   char *errbuf, size_t errlen);

/* model_image.c: one flat block any process can predict from (not stored) */
extern size_t MlModelImageSize(const MlModel *model);
extern void MlModelImageWrite(const MlModel *model, void *dst);
extern MlModel *MlModelImageView(const void *src);

#endif							/* SEONGSU_ML_MODEL_H */
