/*
 * model.c — fitting, prediction, importances and accessors of any MlModel.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../alloc.h"
#include "model_impl.h"

/* Check X, y, the weights and the validation split for training; message on failure. */
static bool
CheckTrainingData(MlAlgorithm algorithm, const MlMatrix *X, const double *y,
				  const double *w, int n_valid, const MlParams *params,
				  char *err, size_t errlen)
{
	int			ntrain = X->nrows - n_valid;
	size_t		n = (size_t) X->nrows * (size_t) X->ncols;
	double		sum = 0;
	double		wsum = 0;
	size_t		k;
	int			i;

	if (algorithm != ML_RIDGE && algorithm != ML_RANDOM_FOREST &&
		algorithm != ML_GBDT)
	{
		snprintf(err, errlen, algorithm == ML_ENSEMBLE
				 ? "an ensemble is made of fitted members (MlEnsembleCreate), not fitted"
				 : "unknown algorithm %d", (int) algorithm);
		return false;
	}
	if (X->ncols < 0 || n_valid < 0 || ntrain < 1)
	{
		snprintf(err, errlen, "no training rows: %d rows, %d of them for validation",
				 X->nrows, n_valid);
		return false;
	}
	for (i = 0; i < X->nrows; i++)
		if (!isfinite(y[i]))
		{
			snprintf(err, errlen, "target of row %d is not a finite number", i);
			return false;
		}
	for (i = 0; i < ntrain; i++)
	{
		if (w && !(isfinite(w[i]) && w[i] >= 0))
		{
			snprintf(err, errlen, "weight of row %d is not a finite number >= 0", i);
			return false;
		}
		wsum += w ? w[i] : 1.0;
	}
	if (!(wsum > 0))
	{
		snprintf(err, errlen, "the training rows have no weight");
		return false;
	}
	for (k = 0; k < n; k++)
		if (isinf(X->data[k]))
		{
			snprintf(err, errlen, "feature %d of row %d is infinite",
					 (int) (k / X->nrows), (int) (k % X->nrows));
			return false;
		}
	if (algorithm == ML_GBDT && params->loss == ML_LOSS_POISSON)
	{
		for (i = 0; i < X->nrows; i++)
		{
			if (y[i] < 0)
			{
				snprintf(err, errlen, "poisson loss needs targets >= 0, row %d has %g",
						 i, y[i]);
				return false;
			}
			if (i < ntrain)
				sum += (w ? w[i] : 1.0) * y[i];
		}
		if (!(sum > 0))
		{
			snprintf(err, errlen, "poisson loss needs a positive mean target");
			return false;
		}
	}
	return true;
}

/* MlModelFitWeighted with every row weighing 1. */
MlModel *
MlModelFit(MlAlgorithm algorithm, const MlMatrix *X, const double *y,
		   int n_valid, const MlParams *params, char *err, size_t errlen)
{
	return MlModelFitWeighted(algorithm, X, y, NULL, n_valid, params, err, errlen);
}

/*
 * Train a model of the given algorithm on X and y (X->nrows values), row i
 * weighing w[i] (w NULL: all 1).  The last n_valid rows are not trained on:
 * gbdt uses them for early stopping (pass the most recent rows, as the data
 * is time-ordered).  Returns NULL with a message in err for bad data or
 * parameters.
 */
MlModel *
MlModelFitWeighted(MlAlgorithm algorithm, const MlMatrix *X, const double *y,
				   const double *w, int n_valid, const MlParams *params,
				   char *err, size_t errlen)
{
	MlModel    *model;
	int			ntrain = X->nrows - n_valid;
	int			j;

	if (!MlParamsCheck(params, err, errlen) ||
		!CheckTrainingData(algorithm, X, y, w, n_valid, params, err, errlen))
		return NULL;

	model = SsAlloc0(sizeof(MlModel));
	model->algorithm = algorithm;
	model->nfeatures = X->ncols;
	model->feature_names = SsAlloc0(((size_t) X->ncols + 1) * sizeof(char *));
	for (j = 0; j < X->ncols; j++)
		if (X->colnames[j] != NULL)
		{
			size_t		len = strlen(X->colnames[j]);

			model->feature_names[j] = SsAlloc(len + 1);
			memcpy(model->feature_names[j], X->colnames[j], len + 1);
		}

	switch (algorithm)
	{
		case ML_RIDGE:
			if (!MlRidgeFit(model, X, y, w, ntrain, params, err, errlen))
			{
				MlModelFree(model);
				return NULL;
			}
			break;
		case ML_RANDOM_FOREST:
			MlForestFit(model, X, y, w, ntrain, params);
			break;
		case ML_GBDT:
			MlGbdtFit(model, X, y, w, ntrain, n_valid, params);
			break;
		case ML_ENSEMBLE:
			break;
	}
	if (model->ntrees > 0)
	{
		int			t;

		model->split_gain = SsAlloc0(((size_t) model->nfeatures + 1) * sizeof(double));
		for (t = 0; t < model->ntrees; t++)
			MlTreeAddImportances(&model->trees[t], model->split_gain);
	}
	return model;
}

/*
 * An ensemble of n fitted models (ridge, random_forest or gbdt, with the
 * same features) predicting sum weights[i] * member i; it takes ownership
 * of the members.  NULL with a message in err for bad members or weights
 * (the members are then still the caller's).
 */
MlModel *
MlEnsembleCreate(MlModel **members, const double *weights, int n,
				 char *err, size_t errlen)
{
	MlModel    *model;
	int			i, j;

	if (n < 1 || n > ML_MAX_MEMBERS)
	{
		snprintf(err, errlen, "an ensemble has 1 to %d members, not %d", ML_MAX_MEMBERS, n);
		return NULL;
	}
	for (i = 0; i < n; i++)
	{
		if (members[i] == NULL || members[i]->algorithm == ML_ENSEMBLE || members[i]->view ||
			members[i]->nfeatures != members[0]->nfeatures)
		{
			snprintf(err, errlen, "member %d of an ensemble must be a fitted model with the features of the first", i + 1);
			return NULL;
		}
		if (!(isfinite(weights[i]) && weights[i] >= 0))
		{
			snprintf(err, errlen, "the weight of ensemble member %d is not a finite number >= 0", i + 1);
			return NULL;
		}
	}
	model = SsAlloc0(sizeof(MlModel));
	model->algorithm = ML_ENSEMBLE;
	model->nfeatures = members[0]->nfeatures;
	model->feature_names = SsAlloc0(((size_t) model->nfeatures + 1) * sizeof(char *));
	for (j = 0; j < model->nfeatures; j++)
		if (members[0]->feature_names && members[0]->feature_names[j])
		{
			size_t		len = strlen(members[0]->feature_names[j]);

			model->feature_names[j] = SsAlloc(len + 1);
			memcpy(model->feature_names[j], members[0]->feature_names[j], len + 1);
		}
	model->nmembers = n;
	model->members = SsAlloc0((size_t) n * sizeof(MlModel *));
	model->weights = SsAlloc0((size_t) n * sizeof(double));
	for (i = 0; i < n; i++)
	{
		model->members[i] = members[i];
		model->weights[i] = weights[i];
	}
	return model;
}

/* An ensemble's members and weights into members[] and weights[] (ML_MAX_MEMBERS room); their count (0 for other models). */
int
MlEnsembleMembers(const MlModel *model, const MlModel **members, double *weights)
{
	int			i;

	for (i = 0; i < model->nmembers; i++)
	{
		members[i] = model->members[i];
		weights[i] = model->weights[i];
	}
	return model->nmembers;
}

/* The class of a row under cs (values at row[col * col_step]): k in [0, nclasses), or -1 (not scaled). */
int
MlClassOf(const MlClassScale *cs, const float *row, size_t col_step)
{
	float		v;
	int			i;

	if (cs->nclasses <= 0)
		return -1;
	for (i = 0; i < cs->nmask; i++)
	{
		float		m = row[(size_t) cs->mask_cols[i] * col_step];

		if (!isnan(m) && m != 0)
			return -1;
	}
	v = row[(size_t) cs->class_col * col_step];
	if (isnan(v) || v < 0 || v >= cs->nclasses || v != floorf(v))
		return -1;
	return (int) v;
}

/*
 * Give an ensemble the class scale cs (nclasses 0 removes it).  False with
 * a message in err when model is no ensemble, a count or feature is out of
 * range, or a scale is not a finite number > 0.
 */
bool
MlEnsembleSetScale(MlModel *model, const MlClassScale *cs, char *err, size_t errlen)
{
	int			i;

	if (model->algorithm != ML_ENSEMBLE)
	{
		snprintf(err, errlen, "only an ensemble has a class scale");
		return false;
	}
	if (cs->nclasses < 0 || cs->nclasses > ML_MAX_CLASSES || cs->nmask < 0 || cs->nmask > ML_MAX_MASKS)
	{
		snprintf(err, errlen, "a class scale has 0 to %d classes and 0 to %d masks", ML_MAX_CLASSES, ML_MAX_MASKS);
		return false;
	}
	if (cs->nclasses > 0 && (cs->class_col < 0 || cs->class_col >= model->nfeatures))
	{
		snprintf(err, errlen, "the class feature %d is not a feature of the model", cs->class_col);
		return false;
	}
	for (i = 0; cs->nclasses > 0 && i < cs->nmask; i++)
		if (cs->mask_cols[i] < 0 || cs->mask_cols[i] >= model->nfeatures)
		{
			snprintf(err, errlen, "the mask feature %d is not a feature of the model", cs->mask_cols[i]);
			return false;
		}
	for (i = 0; i < cs->nclasses; i++)
		if (!(isfinite(cs->scale[i]) && cs->scale[i] > 0))
		{
			snprintf(err, errlen, "the scale of class %d is not a finite number > 0", i);
			return false;
		}
	memset(&model->class_scale, 0, sizeof(MlClassScale));
	if (cs->nclasses > 0)
		model->class_scale = *cs;
	return true;
}

/* An ensemble's class scale into cs (nclasses 0: none, as for other models). */
void
MlEnsembleScale(const MlModel *model, MlClassScale *cs)
{
	*cs = model->class_scale;
}

#define PREDICT_BLOCK 256
#define PREDICT_CHECK 64		/* trees walked between checks for interrupts */

/*
 * Predictions of nrows rows into out, value (r, f) at x[r * row_step +
 * f * col_step].  Tree models walk one tree over a block of rows at a time
 * (the tree stays in cache); every row still sums its trees in order, so a
 * row's prediction does not depend on the rows around it.  Cancellable
 * (SsCheckInterrupts) every block of rows and every PREDICT_CHECK trees.
 */
static void
PredictRows(const MlModel *model, const float *x, size_t row_step, size_t col_step,
			int nrows, double *out)
{
	int			lo, r, t;

	if (model->algorithm == ML_ENSEMBLE)
	{
		double	   *part = SsAlloc(((size_t) nrows + 1) * sizeof(double));
		int			i;

		for (r = 0; r < nrows; r++)
			out[r] = 0;
		for (i = 0; i < model->nmembers; i++)
		{
			PredictRows(model->members[i], x, row_step, col_step, nrows, part);
			for (r = 0; r < nrows; r++)
				out[r] += model->weights[i] * part[r];
		}
		SsFree(part);
		if (model->class_scale.nclasses > 0)
			for (r = 0; r < nrows; r++)
			{
				int			k = MlClassOf(&model->class_scale, x + (size_t) r * row_step, col_step);

				if (k >= 0)
					out[r] *= model->class_scale.scale[k];
			}
		return;
	}
	if (model->algorithm == ML_RIDGE)
	{
		for (r = 0; r < nrows; r++)
		{
			if (r % PREDICT_BLOCK == 0)
				SsCheckInterrupts();
			out[r] = MlRidgePredict(model, x + (size_t) r * row_step, col_step);
		}
		return;
	}
	for (lo = 0; lo < nrows; lo += PREDICT_BLOCK)
	{
		int			hi = nrows - lo < PREDICT_BLOCK ? nrows : lo + PREDICT_BLOCK;

		for (r = lo; r < hi; r++)
			out[r] = model->algorithm == ML_GBDT ? model->base_score : 0;
		for (t = 0; t < model->ntrees; t++)
		{
			/* a block through every tree can take long: every PREDICT_CHECK trees */
			if (t % PREDICT_CHECK == 0)
				SsCheckInterrupts();
			for (r = lo; r < hi; r++)
				out[r] += MlTreePredict(&model->trees[t], x + (size_t) r * row_step, col_step);
		}
		for (r = lo; r < hi; r++)
		{
			if (model->algorithm == ML_RANDOM_FOREST)
				out[r] /= model->ntrees;
			else if (model->loss == ML_LOSS_POISSON)
				out[r] = exp(out[r]);
		}
	}
}

/* Prediction for one row: row[f] is feature f (NaN = missing). */
double
MlModelPredict(const MlModel *model, const float *row)
{
	double		out;

	PredictRows(model, row, 0, 1, 1, &out);
	return out;
}

/* Predictions of nrows rows stored one after another (nfeatures floats each). */
void
MlModelPredictRows(const MlModel *model, const float *rows, int nrows, double *out)
{
	PredictRows(model, rows, (size_t) model->nfeatures, 1, nrows, out);
}

/* Predictions for every row of X into out[0 .. nrows); X must have the
 * model's features, in order (and names, where both have them). */
bool
MlModelPredictMatrix(const MlModel *model, const MlMatrix *X, double *out,
					 char *err, size_t errlen)
{
	int			j;

	if (X->ncols != model->nfeatures)
	{
		snprintf(err, errlen, "the model has %d features, the matrix %d columns",
				 model->nfeatures, X->ncols);
		return false;
	}
	for (j = 0; j < X->ncols && model->feature_names; j++)
		if (X->colnames[j] != NULL && model->feature_names[j] != NULL &&
			strcmp(X->colnames[j], model->feature_names[j]) != 0)
		{
			snprintf(err, errlen, "column %d is \"%s\", the model expects \"%s\"",
					 j + 1, X->colnames[j], model->feature_names[j]);
			return false;
		}
	PredictRows(model, X->data, 1, (size_t) X->nrows, X->nrows, out);
	return true;
}

/* Free a model (complete or partly built); NULL is allowed. */
void
MlModelFree(MlModel *model)
{
	int			i;

	if (model == NULL)
		return;
	if (model->members != NULL)
		for (i = 0; i < model->nmembers; i++)
			MlModelFree(model->members[i]);
	SsFree(model->members);
	if (model->view)
	{
		/* the arrays belong to the image */
		SsFree(model->trees);
		SsFree(model);
		return;
	}
	if (model->feature_names != NULL)
		for (i = 0; i < model->nfeatures; i++)
			SsFree(model->feature_names[i]);
	SsFree(model->feature_names);
	SsFree(model->coef);
	SsFree(model->fill);
	SsFree(model->scale);
	if (model->trees != NULL)
		for (i = 0; i < model->ntrees; i++)
			MlTreeFree(&model->trees[i]);
	SsFree(model->trees);
	SsFree(model->split_gain);
	SsFree(model->valid_loss);
	SsFree(model->weights);
	SsFree(model);
}

/*
 * The mean validation loss after each boosting round of a gbdt fitted with
 * validation rows (squared error, or exp(f) - y f for Poisson, in the units
 * of the target it was fitted on), *nrounds of them; NULL with 0 otherwise.
 */
const double *
MlModelValidLoss(const MlModel *model, int *nrounds)
{
	*nrounds = model->valid_loss ? model->nvalid_rounds : 0;
	return model->valid_loss;
}

/* The model's algorithm. */
MlAlgorithm
MlModelAlgorithm(const MlModel *model)
{
	return model->algorithm;
}

/* Number of features a row must have. */
int
MlModelNumFeatures(const MlModel *model)
{
	return model->nfeatures;
}

/* Name of feature f as trained, or NULL if the column had none. */
const char *
MlModelFeatureName(const MlModel *model, int feature)
{
	return model->feature_names ? model->feature_names[feature] : NULL;
}

/* Number of trees (0 for ridge); for gbdt, the rounds kept; an ensemble's members' together. */
int
MlModelNumTrees(const MlModel *model)
{
	int			n = model->ntrees;
	int			i;

	for (i = 0; i < model->nmembers; i++)
		n += MlModelNumTrees(model->members[i]);
	return n;
}

/*
 * Feature importances into out[0 .. nfeatures), summing to 1 (all zero when
 * nothing was learned): total split gain per feature for trees, |coef * sd|
 * (the standardized coefficient) for ridge; an ensemble's are its members'
 * shares, weighted by the members' weights.
 */
void
MlModelImportances(const MlModel *model, double *out)
{
	double		total = 0;
	int			j;

	if (model->algorithm == ML_ENSEMBLE)
	{
		double	   *part = SsAlloc(((size_t) model->nfeatures + 1) * sizeof(double));
		int			i;

		for (j = 0; j < model->nfeatures; j++)
			out[j] = 0;
		for (i = 0; i < model->nmembers; i++)
		{
			MlModelImportances(model->members[i], part);
			for (j = 0; j < model->nfeatures; j++)
				out[j] += model->weights[i] * part[j];
		}
		SsFree(part);
	}
	else
		for (j = 0; j < model->nfeatures; j++)
			out[j] = model->algorithm == ML_RIDGE ? fabs(model->coef[j] * model->scale[j])
				: model->split_gain ? model->split_gain[j] : 0;
	for (j = 0; j < model->nfeatures; j++)
		total += out[j];
	if (total > 0)
		for (j = 0; j < model->nfeatures; j++)
			out[j] /= total;
}

/*
 * Ridge coefficients in the features' own units: the prediction is
 * intercept + sum coef[j] * x[j], with fill[j] (the training mean) in place
 * of a missing x[j].  False for other algorithms.
 */
bool
MlModelLinearCoefficients(const MlModel *model, double *intercept,
						  double *coef, double *fill)
{
	if (model->algorithm != ML_RIDGE)
		return false;
	*intercept = model->intercept;
	memcpy(coef, model->coef, (size_t) model->nfeatures * sizeof(double));
	memcpy(fill, model->fill, (size_t) model->nfeatures * sizeof(double));
	return true;
}
