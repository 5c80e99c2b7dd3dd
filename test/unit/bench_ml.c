/*
 * bench_ml.c — time model training on a synthetic 50k x 60 matrix.
 *
 * The data: 60 features (40 uniform, 10 small integers like hour or weekday,
 * 10 binary flags), 5% of the uniform values missing, and a non-linear
 * target with noise.  Prints seconds for gbdt (200 rounds, depth 6,
 * learning_rate 0.1, 255 bins, single thread), and for reference a random
 * forest and ridge, plus microseconds per single-row gbdt prediction.
 *
 *   bench_ml [rows] [--dump FILE]
 *
 * --dump writes the matrix for comparison with other libraries: int32 rows,
 * int32 cols, rows*cols float32 column-major, rows float64 target (all
 * little-endian as on the machine).
 */
#define _POSIX_C_SOURCE 199309L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/alloc.h"
#include "../../src/ml/metrics.h"
#include "../../src/ml/model.h"
#include "../../src/ml/rng.h"

#define NCOLS 60

/* Seconds on a monotonic clock. */
static double
Now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The synthetic matrix and target. */
static MlMatrix *
MakeData(int n, double **yout)
{
	MlMatrix   *X = MlMatrixCreate(n, NCOLS);
	double	   *y = MlTargetCreate(n);
	MlRng		rng;
	int			i;
	int			j;

	MlRngSeed(&rng, 1);
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < 40; j++)
			MlMatrixSet(X, i, j, MlRngUniform(&rng) < 0.05 ? NAN :
						(float) MlRngUniform(&rng));
		for (j = 40; j < 50; j++)
			MlMatrixSet(X, i, j, (float) MlRngBelow(&rng, (uint32_t) (j - 36)));
		for (j = 50; j < NCOLS; j++)
			MlMatrixSet(X, i, j, (float) MlRngBelow(&rng, 2));
	}
	for (i = 0; i < n; i++)
	{
		double		x0 = MlMatrixGet(X, i, 0);
		double		x1 = MlMatrixGet(X, i, 1);
		double		x2 = MlMatrixGet(X, i, 2);

		y[i] = 10 * sin(3 * (isnan(x0) ? 0.5 : x0)) +
			5 * (isnan(x1) ? 0.5 : x1) * (isnan(x2) ? 0.5 : x2) +
			2 * MlMatrixGet(X, i, 40) - 3 * MlMatrixGet(X, i, 50) +
			MlMatrixGet(X, i, 45) * MlMatrixGet(X, i, 51) +
			MlRngUniform(&rng) * 2;
	}
	*yout = y;
	return X;
}

/* Fit algo with params p, print the time and training RMSE; returns model. */
static MlModel *
Time(const char *label, MlAlgorithm algo, const MlMatrix *X, const double *y,
	 const MlParams *p)
{
	char		err[256];
	double		t0 = Now();
	MlModel    *m = MlModelFit(algo, X, y, 0, p, err, sizeof(err));
	double		t1 = Now();
	double	   *pred = SsAlloc((size_t) X->nrows * sizeof(double));

	if (m == NULL)
	{
		fprintf(stderr, "%s: %s\n", label, err);
		exit(1);
	}
	MlModelPredictMatrix(m, X, pred, err, sizeof(err));
	printf("%-34s %8.3f s   train rmse %.4f\n", label, t1 - t0,
		   MlRmse(y, pred, X->nrows));
	SsFree(pred);
	return m;
}

/* Write the data for other libraries. */
static void
Dump(const char *path, const MlMatrix *X, const double *y)
{
	FILE	   *f = fopen(path, "wb");
	int32_t		dims[2] = {X->nrows, X->ncols};

	if (f == NULL)
	{
		perror(path);
		exit(1);
	}
	fwrite(dims, sizeof(dims), 1, f);
	fwrite(X->data, sizeof(float), (size_t) X->nrows * X->ncols, f);
	fwrite(y, sizeof(double), (size_t) X->nrows, f);
	fclose(f);
}

/* Entry point. */
int
main(int argc, char **argv)
{
	int			n = 50000;
	double	   *y;
	MlMatrix   *X;
	MlParams	p;
	MlModel    *m;
	float		row[NCOLS];
	double		t0;
	double		sink = 0;
	int			i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
			i++;
		else
			n = atoi(argv[i]);
	X = MakeData(n, &y);
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
			Dump(argv[++i], X, y);
	printf("%d rows x %d features\n", n, NCOLS);

	MlParamsInit(&p, ML_GBDT);
	p.n_estimators = 200;
	p.learning_rate = 0.1;
	p.max_depth = 6;
	m = Time("gbdt 200 rounds depth 6", ML_GBDT, X, y, &p);

	MlMatrixGetRow(X, 7, row);
	t0 = Now();
	for (i = 0; i < 100000; i++)
	{
		row[3] = (float) (i % 100) / 100;
		sink += MlModelPredict(m, row);
	}
	printf("%-34s %8.3f us  (checksum %.3g)\n", "gbdt single-row predict",
		   (Now() - t0) / 100000 * 1e6, sink);
	MlModelFree(m);

	MlParamsInit(&p, ML_RANDOM_FOREST);
	p.n_trees = 50;
	MlModelFree(Time("random_forest 50 trees", ML_RANDOM_FOREST, X, y, &p));

	MlParamsInit(&p, ML_RIDGE);
	MlModelFree(Time("ridge", ML_RIDGE, X, y, &p));

	MlMatrixFree(X);
	SsFree(y);
	return 0;
}
