/*
 * gen_model_seeds.c — writes small serialized models (ridge, random forest,
 * squared and Poisson gbdt, with and without feature names, and an
 * ensemble of three, with and without a class scale) into the directory
 * given, as the seed corpus of fuzz_model_blob.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/alloc.h"
#include "../../src/ml/model_impl.h"

/* Fit one model on a small synthetic matrix (an ensemble: of a ridge, a forest and a gbdt, scaled or not) and write its blob to dir/name. */
static void
WriteSeed(const char *dir, const char *name, MlAlgorithm algo, MlLoss loss, bool names, bool scaled)
{
	MlClassScale cs = {.nclasses = 2, .class_col = 3, .nmask = 1, .mask_cols = {2}, .scale = {0.9, 1.1}};
	MlModel    *members[3];
	double		weights[3] = {0.25, 0.25, 0.5};
	int			n = 120, nf = 4, i, j;
	MlMatrix   *X = MlMatrixCreate(n, nf);
	double	   *y = SsAlloc(sizeof(double) * n);
	MlParams	p;
	MlModel    *m;
	char		err[256], path[4096];
	uint8_t    *blob;
	size_t		len;
	FILE	   *f;

	for (j = 0; j < nf; j++)
	{
		float	   *col = X->data + (size_t) j * n;

		for (i = 0; i < n; i++)
			col[i] = (i * (j + 3)) % 17 == 0 ? NAN : (float) ((i * (j + 7)) % 23) / 23.0f;
		if (names)
		{
			char		cname[16];

			snprintf(cname, sizeof(cname), "f%d", j);
			MlMatrixSetColName(X, j, cname);
		}
	}
	for (i = 0; i < n; i++)
		y[i] = 1.0 + (i % 5) + (i % 3 == 0 ? 2.0 : 0.0);
	MlParamsInit(&p, algo);
	p.n_trees = 4;
	p.max_depth = 3;
	p.n_estimators = 5;
	p.loss = loss;
	if (algo == ML_ENSEMBLE)
	{
		MlParamsInit(&p, ML_RIDGE);
		members[0] = MlModelFit(ML_RIDGE, X, y, 0, &p, err, sizeof(err));
		MlParamsInit(&p, ML_RANDOM_FOREST);
		p.n_trees = 2;
		p.max_depth = 2;
		members[1] = MlModelFit(ML_RANDOM_FOREST, X, y, 0, &p, err, sizeof(err));
		MlParamsInit(&p, ML_GBDT);
		p.n_estimators = 3;
		p.max_depth = 2;
		members[2] = MlModelFit(ML_GBDT, X, y, 0, &p, err, sizeof(err));
		m = members[0] && members[1] && members[2]
			? MlEnsembleCreate(members, weights, 3, err, sizeof(err)) : NULL;
	}
	else
		m = MlModelFit(algo, X, y, 0, &p, err, sizeof(err));
	if (m && scaled && !MlEnsembleSetScale(m, &cs, err, sizeof(err)))
		m = NULL;
	if (!m)
	{
		fprintf(stderr, "%s: %s\n", name, err);
		exit(1);
	}
	blob = MlModelSerialize(m, &len);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(blob, 1, len, f) != len || fclose(f) != 0)
	{
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
	SsFree(blob);
	MlModelFree(m);
	MlMatrixFree(X);
	SsFree(y);
}

int
main(int argc, char **argv)
{
	if (argc != 2)
	{
		fprintf(stderr, "usage: %s dir\n", argv[0]);
		return 2;
	}
	WriteSeed(argv[1], "ridge", ML_RIDGE, ML_LOSS_SQUARED, true, false);
	WriteSeed(argv[1], "ridge_unnamed", ML_RIDGE, ML_LOSS_SQUARED, false, false);
	WriteSeed(argv[1], "forest", ML_RANDOM_FOREST, ML_LOSS_SQUARED, true, false);
	WriteSeed(argv[1], "gbdt", ML_GBDT, ML_LOSS_SQUARED, true, false);
	WriteSeed(argv[1], "gbdt_poisson", ML_GBDT, ML_LOSS_POISSON, false, false);
	WriteSeed(argv[1], "ensemble", ML_ENSEMBLE, ML_LOSS_SQUARED, true, false);
	WriteSeed(argv[1], "ensemble_scaled", ML_ENSEMBLE, ML_LOSS_SQUARED, true, true);
	return 0;
}
