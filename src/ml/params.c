/*
 * params.c — hyper-parameter defaults, names, ranges and setters.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model_impl.h"

typedef enum ParamType
{
	PARAM_SEED,					/* uint64_t holding an integer */
	PARAM_INT,
	PARAM_BOOL,
	PARAM_DOUBLE
} ParamType;

/* One numeric hyper-parameter: where it lives and what it may hold. */
typedef struct ParamDef
{
	const char *name;
	const char *alias;			/* the XGBoost/LightGBM spelling, or NULL */
	ParamType	type;
	size_t		offset;
	double		min;
	double		max;
	bool		min_open;		/* min itself is excluded */
} ParamDef;

static const ParamDef param_defs[] = {
	{"seed", NULL, PARAM_SEED, offsetof(MlParams, seed), 0, 9007199254740992.0, false},
	{"alpha", NULL, PARAM_DOUBLE, offsetof(MlParams, alpha), 0, 1e12, false},
	{"max_depth", NULL, PARAM_INT, offsetof(MlParams, max_depth), 1, 32, false},
	{"min_samples_leaf", NULL, PARAM_INT, offsetof(MlParams, min_samples_leaf), 1, 1e6, false},
	{"max_features", NULL, PARAM_DOUBLE, offsetof(MlParams, max_features), 0, 1, true},
	{"n_trees", NULL, PARAM_INT, offsetof(MlParams, n_trees), 1, 10000, false},
	{"bootstrap", NULL, PARAM_BOOL, offsetof(MlParams, bootstrap), 0, 1, false},
	{"extra_trees", NULL, PARAM_BOOL, offsetof(MlParams, extra_trees), 0, 1, false},
	{"n_estimators", NULL, PARAM_INT, offsetof(MlParams, n_estimators), 1, 100000, false},
	{"learning_rate", "eta", PARAM_DOUBLE, offsetof(MlParams, learning_rate), 0, 1, true},
	{"max_leaves", "num_leaves", PARAM_INT, offsetof(MlParams, max_leaves), 0, 4096, false},
	{"min_child_weight", NULL, PARAM_DOUBLE, offsetof(MlParams, min_child_weight), 0, 1e9, false},
	{"lambda", "reg_lambda", PARAM_DOUBLE, offsetof(MlParams, lambda), 0, 1e9, false},
	{"gamma", "min_split_loss", PARAM_DOUBLE, offsetof(MlParams, gamma), 0, 1e12, false},
	{"subsample", NULL, PARAM_DOUBLE, offsetof(MlParams, subsample), 0, 1, true},
	{"colsample", "colsample_bytree", PARAM_DOUBLE, offsetof(MlParams, colsample), 0, 1, true},
	{"early_stopping_rounds", NULL, PARAM_INT, offsetof(MlParams, early_stopping_rounds), 0, 100000, false},
	{"max_bins", "max_bin", PARAM_INT, offsetof(MlParams, max_bins), 2, 255, false},
	{"half_life", NULL, PARAM_DOUBLE, offsetof(MlParams, half_life), 0, 1e6, false},
};

#define NUM_PARAMS (sizeof(param_defs) / sizeof(param_defs[0]))

/* The SQL name of an algorithm. */
const char *
MlAlgorithmName(MlAlgorithm algorithm)
{
	switch (algorithm)
	{
		case ML_RIDGE:
			return "ridge";
		case ML_RANDOM_FOREST:
			return "random_forest";
		case ML_GBDT:
			return "gbdt";
		case ML_ENSEMBLE:
			return "ensemble";
	}
	return "unknown";
}

/* Look an algorithm up by its SQL name; false if there is none. */
bool
MlAlgorithmFromName(const char *name, MlAlgorithm *algorithm)
{
	static const MlAlgorithm all[] = {ML_RIDGE, ML_RANDOM_FOREST, ML_GBDT, ML_ENSEMBLE};
	size_t		i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(name, MlAlgorithmName(all[i])) == 0)
		{
			*algorithm = all[i];
			return true;
		}
	return false;
}

/* Default hyper-parameters of an algorithm (see model.h). */
void
MlParamsInit(MlParams *params, MlAlgorithm algorithm)
{
	memset(params, 0, sizeof(MlParams));
	params->seed = 42;
	params->alpha = 1.0;
	params->max_depth = algorithm == ML_GBDT ? 4 : 16;
	params->min_samples_leaf = 1;
	params->max_features = 1.0 / 3.0;
	params->n_trees = 100;
	params->bootstrap = true;
	params->extra_trees = false;
	params->n_estimators = 600;
	params->learning_rate = 0.05;
	params->max_leaves = 0;
	params->min_child_weight = 3.0;
	params->lambda = 1.0;
	params->gamma = 0.0;
	params->subsample = 0.8;
	params->colsample = 0.6;
	params->early_stopping_rounds = 0;
	params->max_bins = 255;
	params->loss = ML_LOSS_SQUARED;
	params->half_life = 0;
}

/* The definition of parameter name (or alias), or NULL. */
static const ParamDef *
FindParam(const char *name)
{
	size_t		i;

	for (i = 0; i < NUM_PARAMS; i++)
		if (strcmp(name, param_defs[i].name) == 0 ||
			(param_defs[i].alias != NULL && strcmp(name, param_defs[i].alias) == 0))
			return &param_defs[i];
	return NULL;
}

/* Check value against def; on failure write the reason to err. */
static bool
CheckValue(const ParamDef *def, double value, char *err, size_t errlen)
{
	if (isnan(value) ||
		value < def->min || (def->min_open && value == def->min) ||
		value > def->max)
	{
		snprintf(err, errlen, "hyper-parameter \"%s\" must be in %c%g, %g]",
				 def->name, def->min_open ? '(' : '[', def->min, def->max);
		return false;
	}
	if (def->type != PARAM_DOUBLE && value != floor(value))
	{
		snprintf(err, errlen, "hyper-parameter \"%s\" must be an integer",
				 def->name);
		return false;
	}
	return true;
}

/* Current value of a parameter as a double. */
static double
GetValue(const MlParams *params, const ParamDef *def)
{
	const char *p = (const char *) params + def->offset;

	switch (def->type)
	{
		case PARAM_SEED:
			return (double) *(const uint64_t *) p;
		case PARAM_INT:
			return *(const int *) p;
		case PARAM_BOOL:
			return *(const bool *) p ? 1 : 0;
		case PARAM_DOUBLE:
			return *(const double *) p;
	}
	return NAN;
}

/* Store a checked value. */
static void
PutValue(MlParams *params, const ParamDef *def, double value)
{
	char	   *p = (char *) params + def->offset;

	switch (def->type)
	{
		case PARAM_SEED:
			*(uint64_t *) p = (uint64_t) value;
			break;
		case PARAM_INT:
			*(int *) p = (int) value;
			break;
		case PARAM_BOOL:
			*(bool *) p = value != 0;
			break;
		case PARAM_DOUBLE:
			*(double *) p = value;
			break;
	}
}

/* Set numeric hyper-parameter name; false with a message for an unknown
 * name or a value out of range. */
bool
MlParamsSet(MlParams *params, const char *name, double value,
			char *err, size_t errlen)
{
	const ParamDef *def = FindParam(name);

	if (def == NULL)
	{
		if (strcmp(name, "loss") == 0)
			snprintf(err, errlen, "hyper-parameter \"loss\" takes a text value ('squared' or 'poisson')");
		else
			snprintf(err, errlen, "unknown hyper-parameter \"%s\"", name);
		return false;
	}
	if (!CheckValue(def, value, err, errlen))
		return false;
	PutValue(params, def, value);
	return true;
}

/* Set text hyper-parameter name (only "loss": 'squared' or 'poisson'). */
bool
MlParamsSetText(MlParams *params, const char *name, const char *value,
				char *err, size_t errlen)
{
	if (strcmp(name, "loss") != 0)
	{
		if (FindParam(name) != NULL)
			snprintf(err, errlen, "hyper-parameter \"%s\" takes a number", name);
		else
			snprintf(err, errlen, "unknown hyper-parameter \"%s\"", name);
		return false;
	}
	if (strcmp(value, "squared") == 0)
		params->loss = ML_LOSS_SQUARED;
	else if (strcmp(value, "poisson") == 0)
		params->loss = ML_LOSS_POISSON;
	else
	{
		snprintf(err, errlen, "hyper-parameter \"loss\" must be 'squared' or 'poisson'");
		return false;
	}
	return true;
}

/* Check every field of params (which callers may also fill directly). */
bool
MlParamsCheck(const MlParams *params, char *err, size_t errlen)
{
	size_t		i;

	for (i = 0; i < NUM_PARAMS; i++)
		if (!CheckValue(&param_defs[i], GetValue(params, &param_defs[i]),
						err, errlen))
			return false;
	if (params->loss != ML_LOSS_SQUARED && params->loss != ML_LOSS_POISSON)
	{
		snprintf(err, errlen, "hyper-parameter \"loss\" must be 'squared' or 'poisson'");
		return false;
	}
	return true;
}
