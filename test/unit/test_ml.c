/*
 * test_ml.c — unit tests of the model code in src/ml (no server needed).
 *
 * Each test function checks exact, independently computed values where the
 * algorithm defines them (ridge's closed form, a step's split, metrics on
 * hand-computed vectors) and behaviour elsewhere (fit quality, determinism,
 * round trips, corrupt blobs).  Ends with "N passed, M failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/alloc.h"
#include "../../src/ml/binning.h"
#include "../../src/ml/metrics.h"
#include "../../src/ml/model_impl.h"
#include "../../src/ml/rng.h"

#define CORRUPTIONS 10000

static int	tests_passed;
static int	tests_failed;
static int	current_failures;
static char errbuf[256];

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			current_failures++; \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
		} \
	} while (0)

#define CHECK_NEAR(a, b, tol) \
	CHECK(fabs((double) (a) - (double) (b)) <= (tol), "%.17g vs %.17g", \
		  (double) (a), (double) (b))

/* Run one test function and count it as passed if no check failed. */
static void
RunTest(const char *name, void (*fn) (void))
{
	current_failures = 0;
	fn();
	if (current_failures == 0)
		tests_passed++;
	else
	{
		tests_failed++;
		fprintf(stderr, "FAILED: %s\n", name);
	}
}

/* Standard normal deviate (Box-Muller). */
static double
Normal(MlRng *rng)
{
	double		u = MlRngUniform(rng);
	double		v = MlRngUniform(rng);

	return sqrt(-2 * log(1 - u)) * cos(2 * 3.14159265358979323846 * v);
}

/* Poisson deviate of mean lambda (Knuth; small lambda only). */
static double
PoissonDraw(MlRng *rng, double lambda)
{
	double		limit = exp(-lambda);
	double		p = 1;
	int			k = 0;

	do
	{
		k++;
		p *= MlRngUniform(rng);
	} while (p > limit);
	return k - 1;
}

/* A fit that must succeed. */
static MlModel *
MustFit(MlAlgorithm algo, const MlMatrix *X, const double *y, int n_valid,
		const MlParams *p)
{
	MlModel    *m = MlModelFit(algo, X, y, n_valid, p, errbuf, sizeof(errbuf));

	if (m == NULL)
	{
		fprintf(stderr, "fit failed: %s\n", errbuf);
		abort();
	}
	return m;
}

/* RMSE of a model's predictions over rows [from, to) of X. */
static double
ModelRmse(const MlModel *m, const MlMatrix *X, const double *y, int from, int to)
{
	double	   *pred = SsAlloc((size_t) X->nrows * sizeof(double));
	double		r;

	if (!MlModelPredictMatrix(m, X, pred, errbuf, sizeof(errbuf)))
		abort();
	r = MlRmse(y + from, pred + from, to - from);
	SsFree(pred);
	return r;
}

/* RMSE of predicting the mean of y[0..ntrain) for rows [from, to). */
static double
MeanRmse(const double *y, int ntrain, int from, int to)
{
	double		mean = 0;
	double		ss = 0;
	int			i;

	for (i = 0; i < ntrain; i++)
		mean += y[i];
	mean /= ntrain;
	for (i = from; i < to; i++)
		ss += (y[i] - mean) * (y[i] - mean);
	return sqrt(ss / (to - from));
}

/* A matrix of n rows of nf uniform features in [0, 1) with some NaNs and
 * target y = 3 sin(6 x0) + 2 x1 + noise * N(0, 1), named f0, f1, ... */
static MlMatrix *
SyntheticData(int n, int nf, double nan_frac, double noise, uint64_t seed,
			  double **yout)
{
	MlMatrix   *X = MlMatrixCreate(n, nf);
	double	   *y = MlTargetCreate(n);
	MlRng		rng;
	int			i;
	int			j;

	MlRngSeed(&rng, seed);
	for (j = 0; j < nf; j++)
	{
		char		name[16];

		snprintf(name, sizeof(name), "f%d", j);
		MlMatrixSetColName(X, j, name);
		for (i = 0; i < n; i++)
			MlMatrixSet(X, i, j, MlRngUniform(&rng) < nan_frac ? NAN :
						(float) MlRngUniform(&rng));
	}
	for (i = 0; i < n; i++)
	{
		double		x0 = MlMatrixGet(X, i, 0);
		double		x1 = nf > 1 ? MlMatrixGet(X, i, 1) : 0;

		y[i] = 3 * sin(6 * (isnan(x0) ? 0.5 : x0)) + 2 * (isnan(x1) ? 0.5 : x1) +
			noise * Normal(&rng);
	}
	*yout = y;
	return X;
}

/* Serialize, for comparisons; caller frees. */
static uint8_t *
Bytes(const MlModel *m, size_t *len)
{
	return MlModelSerialize(m, len);
}

/* Whether two models serialize to identical bytes. */
static bool
SameBytes(const MlModel *a, const MlModel *b)
{
	size_t		la;
	size_t		lb;
	uint8_t    *ba = Bytes(a, &la);
	uint8_t    *bb = Bytes(b, &lb);
	bool		same = la == lb && memcmp(ba, bb, la) == 0;

	SsFree(ba);
	SsFree(bb);
	return same;
}

/* The generator is deterministic and its helpers stay in range. */
static void
TestRng(void)
{
	MlRng		a;
	MlRng		b;
	int			i;
	bool		same = true;
	bool		inrange = true;

	MlRngSeed(&a, 7);
	MlRngSeed(&b, 7);
	for (i = 0; i < 1000; i++)
		same &= MlRngNext(&a) == MlRngNext(&b);
	CHECK(same, "same seed, different streams");
	MlRngSeed(&b, 8);
	CHECK(MlRngNext(&a) != MlRngNext(&b), "seeds 7 and 8 agree");
	for (i = 0; i < 10000; i++)
	{
		double		u = MlRngUniform(&a);
		uint32_t	k = MlRngBelow(&a, 7);

		inrange &= u >= 0 && u < 1 && k < 7;
	}
	CHECK(inrange, "out of range");
	/* first splitmix64 output of seed 0 (Vigna's reference) */
	{
		uint64_t	x = 0;

		CHECK(MlSplitMix64(&x) == UINT64_C(0xE220A8397B1DCDAF), "splitmix64");
	}
}

/* Matrix creation, access, names and slicing. */
static void
TestMatrix(void)
{
	MlMatrix   *m = MlMatrixCreate(3, 2);
	MlMatrix   *s;
	float		row[2];
	double	   *y = MlTargetCreate(3);

	CHECK(isnan(MlMatrixGet(m, 2, 1)) && isnan(y[2]), "not missing at creation");
	MlMatrixSet(m, 0, 0, 1);
	MlMatrixSet(m, 1, 0, 2);
	MlMatrixSet(m, 2, 0, 3);
	MlMatrixSet(m, 1, 1, 20);
	CHECK(m->data[4] == 20 && MlMatrixColumn(m, 1)[1] == 20, "not column-major");
	MlMatrixSetColName(m, 0, "lag_7");
	MlMatrixSetColName(m, 1, "temp");
	MlMatrixSetColName(m, 1, "temperature");
	CHECK(MlMatrixFindCol(m, "temperature") == 1, "find");
	CHECK(MlMatrixFindCol(m, "temp") == -1, "renamed column still found");
	MlMatrixGetRow(m, 1, row);
	CHECK(row[0] == 2 && row[1] == 20, "row");
	s = MlMatrixSliceRows(m, 1, 3);
	CHECK(s->nrows == 2 && MlMatrixGet(s, 0, 0) == 2 && MlMatrixGet(s, 1, 0) == 3 &&
		  MlMatrixGet(s, 0, 1) == 20 && isnan(MlMatrixGet(s, 1, 1)), "slice");
	CHECK(strcmp(s->colnames[0], "lag_7") == 0, "slice names");
	MlMatrixFree(s);
	MlMatrixFree(m);
	SsFree(y);
}

/* Defaults, setting by name and alias, range and name errors. */
static void
TestParams(void)
{
	MlParams	p;
	MlAlgorithm a;

	MlParamsInit(&p, ML_GBDT);
	CHECK(p.max_depth == 4 && p.learning_rate == 0.05 && p.n_estimators == 600 &&
		  p.lambda == 1 && p.max_bins == 255 && p.seed == 42 && p.subsample == 0.8 &&
		  p.colsample == 0.6 && p.min_child_weight == 3 && p.early_stopping_rounds == 0 &&
		  p.half_life == 0, "gbdt defaults");
	CHECK(MlParamsCheck(&p, errbuf, sizeof(errbuf)), "defaults invalid: %s", errbuf);
	MlParamsInit(&p, ML_RANDOM_FOREST);
	CHECK(p.max_depth == 16 && p.n_trees == 100 && p.bootstrap && p.min_samples_leaf == 1 &&
		  fabs(p.max_features - 1.0 / 3.0) < 1e-15, "forest defaults");
	CHECK(MlParamsSet(&p, "max_depth", 8, errbuf, sizeof(errbuf)) && p.max_depth == 8,
		  "set max_depth");
	CHECK(MlParamsSet(&p, "eta", 0.3, errbuf, sizeof(errbuf)) && p.learning_rate == 0.3,
		  "alias eta");
	CHECK(!p.extra_trees && MlParamsSet(&p, "extra_trees", 1, errbuf, sizeof(errbuf)) && p.extra_trees,
		  "extra_trees: %s", errbuf);
	CHECK(MlParamsSet(&p, "bootstrap", 0, errbuf, sizeof(errbuf)) && !p.bootstrap,
		  "bootstrap");
	CHECK(MlParamsSet(&p, "seed", 12345, errbuf, sizeof(errbuf)) && p.seed == 12345,
		  "seed");
	CHECK(!MlParamsSet(&p, "max_dept", 3, errbuf, sizeof(errbuf)) &&
		  strcmp(errbuf, "unknown hyper-parameter \"max_dept\"") == 0, "%s", errbuf);
	CHECK(!MlParamsSet(&p, "max_depth", 2.5, errbuf, sizeof(errbuf)) &&
		  strcmp(errbuf, "hyper-parameter \"max_depth\" must be an integer") == 0,
		  "%s", errbuf);
	CHECK(!MlParamsSet(&p, "subsample", 0, errbuf, sizeof(errbuf)) &&
		  strcmp(errbuf, "hyper-parameter \"subsample\" must be in (0, 1]") == 0,
		  "%s", errbuf);
	CHECK(!MlParamsSet(&p, "n_trees", 1e9, errbuf, sizeof(errbuf)), "n_trees 1e9");
	CHECK(!MlParamsSet(&p, "alpha", -1, errbuf, sizeof(errbuf)), "alpha -1");
	CHECK(!MlParamsSet(&p, "lambda", NAN, errbuf, sizeof(errbuf)), "lambda NaN");
	CHECK(!MlParamsSet(&p, "gamma", INFINITY, errbuf, sizeof(errbuf)), "gamma inf");
	CHECK(p.max_depth == 8, "failed set changed the value");
	CHECK(!MlParamsSet(&p, "loss", 1, errbuf, sizeof(errbuf)) &&
		  strstr(errbuf, "text value") != NULL, "%s", errbuf);
	CHECK(MlParamsSetText(&p, "loss", "poisson", errbuf, sizeof(errbuf)) &&
		  p.loss == ML_LOSS_POISSON, "loss poisson");
	CHECK(!MlParamsSetText(&p, "loss", "huber", errbuf, sizeof(errbuf)), "loss huber");
	CHECK(!MlParamsSetText(&p, "max_depth", "3", errbuf, sizeof(errbuf)) &&
		  strcmp(errbuf, "hyper-parameter \"max_depth\" takes a number") == 0,
		  "%s", errbuf);
	p.max_leaves = -3;
	CHECK(!MlParamsCheck(&p, errbuf, sizeof(errbuf)), "struct check");
	CHECK(MlAlgorithmFromName("random_forest", &a) && a == ML_RANDOM_FOREST, "name");
	CHECK(!MlAlgorithmFromName("svm", &a), "svm");
	CHECK(strcmp(MlAlgorithmName(ML_GBDT), "gbdt") == 0, "gbdt name");
}

/* Solve the n x n system a x = b by Gaussian elimination with pivoting. */
static void
GaussSolve(double *a, double *b, int n)
{
	int			i;
	int			j;
	int			k;

	for (k = 0; k < n; k++)
	{
		int			piv = k;

		for (i = k + 1; i < n; i++)
			if (fabs(a[i * n + k]) > fabs(a[piv * n + k]))
				piv = i;
		for (j = 0; j < n; j++)
		{
			double		t = a[k * n + j];

			a[k * n + j] = a[piv * n + j];
			a[piv * n + j] = t;
		}
		{
			double		t = b[k];

			b[k] = b[piv];
			b[piv] = t;
		}
		for (i = k + 1; i < n; i++)
		{
			double		f = a[i * n + k] / a[k * n + k];

			for (j = k; j < n; j++)
				a[i * n + j] -= f * a[k * n + j];
			b[i] -= f * b[k];
		}
	}
	for (i = n - 1; i >= 0; i--)
	{
		for (j = i + 1; j < n; j++)
			b[i] -= a[i * n + j] * b[j];
		b[i] /= a[i * n + i];
	}
}

/* Ridge equals the standardized closed form computed here independently. */
static void
TestRidgeClosedForm(void)
{
	enum
	{
		N = 8, P = 3
	};
	static const float xv[N][P] = {
		{1, 10, 0.5f}, {2, 12, NAN}, {3, 9, 1.5f}, {4, 15, 2},
		{5, 11, 0.25f}, {6, 18, 3}, {7, 13, 1}, {8, 20, 2.5f}
	};
	static const double yv[N] = {3.1, 4.2, 4.9, 7.5, 6.8, 10.1, 8.7, 12.4};
	const double alpha = 0.7;
	MlMatrix   *X = MlMatrixCreate(N, P);
	double		y[N];
	double		mean[P];
	double		sd[P];
	double		z[N][P];
	double		a[P * P];
	double		b[P];
	double		ymean = 0;
	double		intercept;
	double		coef[P];
	double		fill[P];
	double		icpt;
	MlParams	p;
	MlModel    *m;
	int			i;
	int			j;
	int			k;

	for (i = 0; i < N; i++)
	{
		y[i] = yv[i];
		ymean += yv[i] / N;
		for (j = 0; j < P; j++)
			MlMatrixSet(X, i, j, xv[i][j]);
	}
	for (j = 0; j < P; j++)
	{
		double		s = 0;
		double		ss = 0;
		int			c = 0;

		for (i = 0; i < N; i++)
			if (!isnan(xv[i][j]))
			{
				s += xv[i][j];
				c++;
			}
		mean[j] = s / c;
		for (i = 0; i < N; i++)
			if (!isnan(xv[i][j]))
				ss += (xv[i][j] - mean[j]) * (xv[i][j] - mean[j]);
		sd[j] = sqrt(ss / N);
		for (i = 0; i < N; i++)
			z[i][j] = isnan(xv[i][j]) ? 0 : (xv[i][j] - mean[j]) / sd[j];
	}
	for (j = 0; j < P; j++)
	{
		b[j] = 0;
		for (i = 0; i < N; i++)
			b[j] += z[i][j] * (yv[i] - ymean);
		for (k = 0; k < P; k++)
		{
			a[j * P + k] = j == k ? alpha : 0;
			for (i = 0; i < N; i++)
				a[j * P + k] += z[i][j] * z[i][k];
		}
	}
	GaussSolve(a, b, P);
	intercept = ymean;
	for (j = 0; j < P; j++)
		intercept -= b[j] / sd[j] * mean[j];

	MlParamsInit(&p, ML_RIDGE);
	p.alpha = alpha;
	m = MustFit(ML_RIDGE, X, y, 0, &p);
	CHECK(MlModelLinearCoefficients(m, &icpt, coef, fill), "coefficients");
	CHECK_NEAR(icpt, intercept, 1e-9);
	for (j = 0; j < P; j++)
	{
		CHECK_NEAR(coef[j], b[j] / sd[j], 1e-9);
		CHECK_NEAR(fill[j], mean[j], 1e-12);
	}
	for (i = 0; i < N; i++)
	{
		float		row[P];
		double		expect = ymean;

		for (j = 0; j < P; j++)
			expect += b[j] * z[i][j];
		MlMatrixGetRow(X, i, row);
		CHECK_NEAR(MlModelPredict(m, row), expect, 1e-9);
	}
	{
		double		imp[P];
		double		total = fabs(b[0]) + fabs(b[1]) + fabs(b[2]);

		MlModelImportances(m, imp);
		for (j = 0; j < P; j++)
			CHECK_NEAR(imp[j], fabs(b[j]) / total, 1e-9);
	}
	CHECK(MlModelNumTrees(m) == 0, "ridge trees");
	MlModelFree(m);
	MlMatrixFree(X);
}

/* alpha = 0 recovers exact linear coefficients; constant columns get 0;
 * collinear columns are an error. */
static void
TestRidgeExact(void)
{
	enum
	{
		N = 60
	};
	MlMatrix   *X = MlMatrixCreate(N, 4);
	double		y[N];
	double		coef[4];
	double		fill[4];
	double		icpt;
	MlParams	p;
	MlModel    *m;
	MlRng		rng;
	int			i;

	MlRngSeed(&rng, 3);
	for (i = 0; i < N; i++)
	{
		float		x0 = (float) MlRngBelow(&rng, 100);
		float		x1 = (float) MlRngBelow(&rng, 50) - 25;
		float		x2 = (float) MlRngBelow(&rng, 1000) / 8;

		MlMatrixSet(X, i, 0, x0);
		MlMatrixSet(X, i, 1, x1);
		MlMatrixSet(X, i, 2, x2);
		MlMatrixSet(X, i, 3, 7);	/* constant */
		y[i] = 3 + 2 * x0 - x1 + 0.5 * x2;
	}
	MlParamsInit(&p, ML_RIDGE);
	p.alpha = 0;
	m = MustFit(ML_RIDGE, X, y, 0, &p);
	MlModelLinearCoefficients(m, &icpt, coef, fill);
	CHECK_NEAR(icpt, 3, 1e-9);
	CHECK_NEAR(coef[0], 2, 1e-9);
	CHECK_NEAR(coef[1], -1, 1e-9);
	CHECK_NEAR(coef[2], 0.5, 1e-9);
	CHECK(coef[3] == 0, "constant column coefficient %g", coef[3]);
	MlModelFree(m);

	for (i = 0; i < N; i++)
		MlMatrixSet(X, i, 3, 2 * MlMatrixGet(X, i, 0) + 1);
	CHECK(MlModelFit(ML_RIDGE, X, y, 0, &p, errbuf, sizeof(errbuf)) == NULL &&
		  strstr(errbuf, "singular") != NULL, "collinear: %s", errbuf);
	p.alpha = 1e-3;
	m = MustFit(ML_RIDGE, X, y, 0, &p);
	MlModelFree(m);
	MlMatrixFree(X);
}

/* Make params for a single unsampled tree of depth d. */
static void
SingleTreeParams(MlParams *p, int depth)
{
	MlParamsInit(p, ML_RANDOM_FOREST);
	p->n_trees = 1;
	p->bootstrap = false;
	p->max_features = 1;
	p->max_depth = depth;
	p->min_samples_leaf = 1;
}

/* Make params for gbdt with the given shrinkage and rounds, sampling neither rows nor features. */
static void
UnsampledGbdtParams(MlParams *p, double learning_rate, int rounds)
{
	MlParamsInit(p, ML_GBDT);
	p->learning_rate = learning_rate;
	p->n_estimators = rounds;
	p->subsample = 1;
	p->colsample = 1;
}

/* A depth-1 tree on a step finds the step's midpoint and the two levels. */
static void
TestTreeStep(void)
{
	enum
	{
		N = 100
	};
	MlMatrix   *X = MlMatrixCreate(N, 2);
	double		y[N];
	MlParams	p;
	MlModel    *m;
	const MlTree *t;
	MlRng		rng;
	float		row[2];
	int			i;

	MlRngSeed(&rng, 11);
	for (i = 0; i < N; i++)
	{
		MlMatrixSet(X, i, 0, (float) MlRngUniform(&rng));	/* noise */
		MlMatrixSet(X, i, 1, (float) i);
		y[i] = i < 50 ? 1 : 5;
	}
	SingleTreeParams(&p, 1);
	m = MustFit(ML_RANDOM_FOREST, X, y, 0, &p);
	t = &m->trees[0];
	CHECK(t->nnodes == 3, "nodes %d", t->nnodes);
	CHECK(t->nodes[0].feature == 1, "feature %d", t->nodes[0].feature);
	CHECK(t->nodes[0].threshold == 49.5f, "threshold %g", t->nodes[0].threshold);
	CHECK(t->nodes[t->nodes[0].left].value == 1, "left %g",
		  t->nodes[t->nodes[0].left].value);
	CHECK(t->nodes[t->nodes[0].right].value == 5, "right %g",
		  t->nodes[t->nodes[0].right].value);
	/* squared error falls from 100 * 2^2 to 0 */
	CHECK_NEAR(t->nodes[0].gain, 400, 1e-9);
	CHECK(t->nodes[0].cover == 100, "cover %g", t->nodes[0].cover);
	row[0] = 0.5f;
	row[1] = 49.5f;
	CHECK(MlModelPredict(m, row) == 1, "at threshold");
	row[1] = 49.6f;
	CHECK(MlModelPredict(m, row) == 5, "above threshold");
	MlModelFree(m);

	/* min_samples_leaf moves a split off a tiny group */
	for (i = 0; i < N; i++)
		y[i] = i < 3 ? 100 : 0;
	SingleTreeParams(&p, 1);
	p.min_samples_leaf = 5;
	m = MustFit(ML_RANDOM_FOREST, X, y, 0, &p);
	t = &m->trees[0];
	CHECK(t->nnodes == 3 && t->nodes[0].feature == 1 && t->nodes[0].threshold == 4.5f,
		  "min_samples_leaf split at %g", t->nodes[0].threshold);
	MlModelFree(m);
	MlMatrixFree(X);
}

/* Rows with NaN follow the side they resemble, in forest and gbdt. */
static void
TestNanRouting(void)
{
	enum
	{
		N = 100
	};
	MlMatrix   *X = MlMatrixCreate(N, 1);
	double		y[N];
	MlParams	p;
	MlModel    *m;
	float		nan_row[1] = {NAN};
	float		low_row[1] = {20};
	int			side;

	for (side = 0; side < 2; side++)
	{
		double		nan_y = side == 0 ? 10 : 0;
		const MlNode *root;
		int			i;

		for (i = 0; i < N; i++)
		{
			MlMatrixSet(X, i, 0, i < 80 ? (float) i : NAN);
			y[i] = i < 80 ? (i < 40 ? 0 : 10) : nan_y;
		}
		SingleTreeParams(&p, 1);
		m = MustFit(ML_RANDOM_FOREST, X, y, 0, &p);
		root = &m->trees[0].nodes[0];
		CHECK(root->threshold == 39.5f, "threshold %g", root->threshold);
		CHECK(root->default_left == (side == 1), "default_left %d", root->default_left);
		CHECK(MlModelPredict(m, nan_row) == nan_y, "NaN row %g", MlModelPredict(m, nan_row));
		CHECK(MlModelPredict(m, low_row) == 0, "low row");
		MlModelFree(m);

		UnsampledGbdtParams(&p, 0.5, 50);
		p.lambda = 0;
		p.min_child_weight = 1;
		m = MustFit(ML_GBDT, X, y, 0, &p);
		CHECK_NEAR(MlModelPredict(m, nan_row), nan_y, 1e-6);
		CHECK_NEAR(MlModelPredict(m, low_row), 0, 1e-6);
		MlModelFree(m);
	}
	/* no NaN in training: NaN goes to the side with more rows */
	{
		int			i;

		for (i = 0; i < N; i++)
		{
			MlMatrixSet(X, i, 0, (float) i);
			y[i] = i < 30 ? 0 : 10;
		}
		SingleTreeParams(&p, 1);
		m = MustFit(ML_RANDOM_FOREST, X, y, 0, &p);
		CHECK(m->trees[0].nodes[0].default_left == 0, "default side");
		CHECK(MlModelPredict(m, nan_row) == 10, "unseen NaN");
		MlModelFree(m);
	}
	MlMatrixFree(X);
}

/* Bin codes agree with cut points, and bins are capped. */
static void
TestBinning(void)
{
	enum
	{
		N = 3000
	};
	MlMatrix   *X = MlMatrixCreate(N, 3);
	MlBinned   *b;
	MlRng		rng;
	bool		consistent = true;
	int			i;
	int			j;

	MlRngSeed(&rng, 5);
	for (i = 0; i < N; i++)
	{
		MlMatrixSet(X, i, 0, (float) Normal(&rng));
		MlMatrixSet(X, i, 1, i % 7 == 0 ? NAN : (float) (i % 5) - 2);
		MlMatrixSet(X, i, 2, i < 2000 ? 0.0f : (float) MlRngUniform(&rng));
	}
	MlMatrixSet(X, 5, 1, -0.0f);
	b = MlBinnedBuild(X, N, 255);
	CHECK(b->nbins[0] == 255, "continuous bins %d", b->nbins[0]);
	CHECK(b->nbins[1] == 5, "discrete bins %d", b->nbins[1]);
	CHECK(b->nbins[2] <= 255 && b->nbins[2] > 100, "heavy zero bins %d", b->nbins[2]);
	for (j = 0; j < 3; j++)
	{
		const float *cuts = b->cuts + b->cut_start[j];

		for (i = 1; i < b->nbins[j] - 1; i++)
			consistent &= cuts[i - 1] < cuts[i];
		for (i = 0; i < N; i++)
		{
			float		v = MlMatrixGet(X, i, j);
			int			code = b->codes[(size_t) j * N + i];

			if (isnan(v))
				consistent &= code == 0;
			else
				consistent &= code >= 1 && code <= b->nbins[j] &&
					(code == 1 || v > cuts[code - 2]) &&
					(code == b->nbins[j] || v <= cuts[code - 1]);
		}
	}
	CHECK(consistent, "codes and cuts disagree");
	/* the zero run is one bin; its count is about 2/3 of the rows */
	CHECK(b->codes[(size_t) 2 * N] == 1 && b->cuts[b->cut_start[2]] >= 0,
		  "zero bin");
	MlBinnedFree(b);
	MlMatrixFree(X);
}

/* gbdt fits a step function almost exactly. */
static void
TestGbdtStep(void)
{
	enum
	{
		N = 400
	};
	MlMatrix   *X = MlMatrixCreate(N, 2);
	double		y[N];
	MlParams	p;
	MlModel    *m;
	int			i;

	for (i = 0; i < N; i++)
	{
		MlMatrixSet(X, i, 0, (float) i);
		MlMatrixSet(X, i, 1, (float) ((i * 37) % 11));
		y[i] = i < 100 ? 2 : i < 250 ? 7 : -3;
	}
	UnsampledGbdtParams(&p, 0.3, 200);
	p.max_depth = 3;
	p.lambda = 0;
	m = MustFit(ML_GBDT, X, y, 0, &p);
	CHECK(ModelRmse(m, X, y, 0, N) < 1e-3, "step rmse %g", ModelRmse(m, X, y, 0, N));
	MlModelFree(m);
	MlMatrixFree(X);
}

/* gbdt and forest beat the mean on a noisy sine (held-out rows). */
static void
TestNoisySine(void)
{
	enum
	{
		N = 2000, NTRAIN = 1500
	};
	double	   *y;
	MlMatrix   *X = SyntheticData(N, 5, 0.05, 0.3, 99, &y);
	MlMatrix   *Xtrain = MlMatrixSliceRows(X, 0, NTRAIN);
	double		base = MeanRmse(y, NTRAIN, NTRAIN, N);
	MlParams	p;
	MlModel    *m;
	double		r;

	MlParamsInit(&p, ML_GBDT);
	p.n_estimators = 300;
	p.learning_rate = 0.1;
	p.max_depth = 4;
	m = MustFit(ML_GBDT, Xtrain, y, 0, &p);
	r = ModelRmse(m, X, y, NTRAIN, N);
	CHECK(r < 0.5 && r < 0.3 * base, "gbdt rmse %g, mean %g", r, base);
	MlModelFree(m);

	MlParamsInit(&p, ML_RANDOM_FOREST);
	p.n_trees = 50;
	m = MustFit(ML_RANDOM_FOREST, Xtrain, y, 0, &p);
	r = ModelRmse(m, X, y, NTRAIN, N);
	CHECK(r < 0.35 * base, "forest rmse %g, mean %g", r, base);
	MlModelFree(m);

	MlParamsInit(&p, ML_RIDGE);
	m = MustFit(ML_RIDGE, Xtrain, y, 0, &p);
	r = ModelRmse(m, X, y, NTRAIN, N);
	CHECK(r < base, "ridge rmse %g, mean %g", r, base);
	MlModelFree(m);

	MlMatrixFree(Xtrain);
	MlMatrixFree(X);
	SsFree(y);
}

/* Poisson loss: positive predictions that track the rate. */
static void
TestPoisson(void)
{
	enum
	{
		N = 3000
	};
	MlMatrix   *X = MlMatrixCreate(N, 2);
	double		y[N];
	double		pred[N];
	MlParams	p;
	MlModel    *m;
	MlRng		rng;
	bool		positive = true;
	double		dev_model = 0;
	double		dev_mean = 0;
	double		mean = 0;
	int			i;

	MlRngSeed(&rng, 17);
	for (i = 0; i < N; i++)
	{
		double		x = MlRngUniform(&rng) * 2;

		MlMatrixSet(X, i, 0, (float) x);
		MlMatrixSet(X, i, 1, (float) MlRngUniform(&rng));
		y[i] = PoissonDraw(&rng, exp(-1 + x));
		mean += y[i] / N;
	}
	MlParamsInit(&p, ML_GBDT);
	p.loss = ML_LOSS_POISSON;
	p.n_estimators = 200;
	p.learning_rate = 0.1;
	p.max_depth = 3;
	m = MustFit(ML_GBDT, X, y, 0, &p);
	MlModelPredictMatrix(m, X, pred, errbuf, sizeof(errbuf));
	for (i = 0; i < N; i++)
	{
		double		rate = exp(-1 + MlMatrixGet(X, i, 0));

		positive &= pred[i] > 0;
		dev_model += (pred[i] - rate) * (pred[i] - rate);
		dev_mean += (mean - rate) * (mean - rate);
	}
	CHECK(positive, "non-positive poisson prediction");
	CHECK(dev_model < 0.1 * dev_mean, "rate error %g vs %g", dev_model, dev_mean);
	{
		float		row[2] = {0.0f, 0.5f};

		CHECK(MlModelPredict(m, row) > 0.2 && MlModelPredict(m, row) < 0.6,
			  "rate at 0: %g", MlModelPredict(m, row));
	}
	MlModelFree(m);

	y[10] = -1;
	CHECK(MlModelFit(ML_GBDT, X, y, 0, &p, errbuf, sizeof(errbuf)) == NULL &&
		  strstr(errbuf, ">= 0") != NULL, "negative target: %s", errbuf);
	for (i = 0; i < N; i++)
		y[i] = 0;
	CHECK(MlModelFit(ML_GBDT, X, y, 0, &p, errbuf, sizeof(errbuf)) == NULL,
		  "all-zero target");
	MlMatrixFree(X);
}

/* Early stopping keeps the best round on the validation rows. */
static void
TestEarlyStopping(void)
{
	enum
	{
		N = 1000, NVALID = 200
	};
	double	   *y;
	MlMatrix   *X = SyntheticData(N, 4, 0, 2.0, 21, &y);
	MlParams	p;
	MlModel    *m;
	MlModel    *full;
	MlMatrix   *V = MlMatrixSliceRows(X, N - NVALID, N);
	int			i;

	/* features after f1 are noise: more rounds overfit */
	MlParamsInit(&p, ML_GBDT);
	p.n_estimators = 2000;
	p.learning_rate = 0.3;
	p.max_depth = 6;
	p.lambda = 0;
	p.early_stopping_rounds = 10;
	m = MustFit(ML_GBDT, X, y, NVALID, &p);
	CHECK(MlModelNumTrees(m) >= 1 && MlModelNumTrees(m) < 100, "kept %d trees",
		  MlModelNumTrees(m));
	p.early_stopping_rounds = 0;
	p.n_estimators = MlModelNumTrees(m) + 5;
	full = MustFit(ML_GBDT, X, y, NVALID, &p);
	CHECK(MlModelNumTrees(full) == p.n_estimators, "no early stopping");
	/* the kept model is the prefix of the longer one and no worse on V */
	for (i = 0; i < MlModelNumTrees(m); i++)
		CHECK(full->trees[i].nnodes == m->trees[i].nnodes &&
			  memcmp(full->trees[i].nodes, m->trees[i].nodes,
					 (size_t) m->trees[i].nnodes * sizeof(MlNode)) == 0,
			  "tree %d differs", i);
	CHECK(ModelRmse(m, V, y + N - NVALID, 0, NVALID) <=
		  ModelRmse(full, V, y + N - NVALID, 0, NVALID), "stopped model worse");
	MlModelFree(full);
	MlModelFree(m);
	MlMatrixFree(V);
	MlMatrixFree(X);
	SsFree(y);
}

/*
 * The learning curve: one mean validation loss per round grown, the kept
 * model's last round its minimum and equal to the squared error of that
 * model's own predictions on the validation rows; none without them.
 */
static void
TestValidLoss(void)
{
	enum
	{
		N = 1000, NVALID = 200, PATIENCE = 10
	};
	double	   *y;
	MlMatrix   *X = SyntheticData(N, 4, 0.05, 2.0, 33, &y);
	MlMatrix   *V = MlMatrixSliceRows(X, N - NVALID, N);
	MlParams	p;
	MlModel    *m;
	const double *curve;
	double		mse;
	int			n, kept, i;

	MlParamsInit(&p, ML_GBDT);
	p.n_estimators = 2000;
	p.learning_rate = 0.3;
	p.early_stopping_rounds = PATIENCE;
	m = MustFit(ML_GBDT, X, y, NVALID, &p);
	kept = MlModelNumTrees(m);
	curve = MlModelValidLoss(m, &n);
	CHECK(curve != NULL && n == kept + PATIENCE, "%d rounds for %d kept trees", n, kept);
	for (i = 0; curve && i < n; i++)
		CHECK(curve[i] >= curve[kept - 1], "round %d below the kept round", i + 1);
	mse = pow(ModelRmse(m, V, y + N - NVALID, 0, NVALID), 2);
	CHECK(curve && fabs(curve[kept - 1] - mse) <= 1e-9 * mse, "%.17g vs %.17g", curve ? curve[kept - 1] : 0, mse);
	MlModelFree(m);

	/* without early stopping every round is on the curve */
	p.early_stopping_rounds = 0;
	p.n_estimators = 25;
	m = MustFit(ML_GBDT, X, y, NVALID, &p);
	curve = MlModelValidLoss(m, &n);
	CHECK(curve != NULL && n == 25, "%d rounds", n);
	MlModelFree(m);

	/* no validation rows, no curve */
	m = MustFit(ML_GBDT, X, y, 0, &p);
	curve = MlModelValidLoss(m, &n);
	CHECK(curve == NULL && n == 0, "a curve of %d rounds", n);
	MlModelFree(m);
	MlMatrixFree(V);
	MlMatrixFree(X);
	SsFree(y);
}

/* Number of leaves of a tree. */
static int
CountLeaves(const MlTree *t)
{
	int			n = 0;
	int			i;

	for (i = 0; i < t->nnodes; i++)
		n += t->nodes[i].feature < 0;
	return n;
}

/* Depth of node i in t. */
static int
MaxDepth(const MlTree *t, int i)
{
	int			l;
	int			r;

	if (t->nodes[i].feature < 0)
		return 0;
	l = MaxDepth(t, t->nodes[i].left);
	r = MaxDepth(t, t->nodes[i].right);
	return 1 + (l > r ? l : r);
}

/* max_leaves, max_depth, gamma, subsample and colsample take effect. */
static void
TestGbdtShape(void)
{
	enum
	{
		N = 2000
	};
	double	   *y;
	MlMatrix   *X = SyntheticData(N, 10, 0.1, 0.3, 5, &y);
	MlParams	p;
	MlModel    *m;
	MlModel    *m2;
	bool		ok = true;
	int			t;

	MlParamsInit(&p, ML_GBDT);
	p.n_estimators = 30;
	p.max_depth = 10;
	p.max_leaves = 7;
	m = MustFit(ML_GBDT, X, y, 0, &p);
	for (t = 0; t < m->ntrees; t++)
		ok &= CountLeaves(&m->trees[t]) <= 7;
	CHECK(ok, "more than max_leaves");
	CHECK(CountLeaves(&m->trees[0]) == 7, "first tree has %d leaves",
		  CountLeaves(&m->trees[0]));
	MlModelFree(m);

	p.max_leaves = 0;
	p.max_depth = 2;
	p.subsample = 0.5;
	p.colsample = 0.3;
	m = MustFit(ML_GBDT, X, y, 0, &p);
	m2 = MustFit(ML_GBDT, X, y, 0, &p);
	ok = true;
	for (t = 0; t < m->ntrees; t++)
	{
		int			i;
		int			used = 0;
		bool		seen[10] = {false};

		ok &= MaxDepth(&m->trees[t], 0) <= 2;
		for (i = 0; i < m->trees[t].nnodes; i++)
			if (m->trees[t].nodes[i].feature >= 0 &&
				!seen[m->trees[t].nodes[i].feature])
			{
				seen[m->trees[t].nodes[i].feature] = true;
				used++;
			}
		ok &= used <= 3;
	}
	CHECK(ok, "depth or colsample exceeded");
	CHECK(SameBytes(m, m2), "subsampled gbdt not deterministic");
	p.seed = 43;
	MlModelFree(m2);
	m2 = MustFit(ML_GBDT, X, y, 0, &p);
	CHECK(!SameBytes(m, m2), "seed ignored");
	MlModelFree(m2);
	MlModelFree(m);

	p.subsample = 1;
	p.colsample = 1;
	p.gamma = 1e9;
	m = MustFit(ML_GBDT, X, y, 0, &p);
	CHECK(m->trees[0].nnodes == 1, "gamma did not prune");
	MlModelFree(m);
	MlMatrixFree(X);
	SsFree(y);
}

/* Random forest: same seed, same bytes; another seed, other bytes. */
static void
TestForestDeterminism(void)
{
	double	   *y;
	MlMatrix   *X = SyntheticData(500, 6, 0.1, 0.5, 8, &y);
	MlParams	p;
	MlModel    *a;
	MlModel    *b;

	MlParamsInit(&p, ML_RANDOM_FOREST);
	p.n_trees = 20;
	a = MustFit(ML_RANDOM_FOREST, X, y, 0, &p);
	b = MustFit(ML_RANDOM_FOREST, X, y, 0, &p);
	CHECK(SameBytes(a, b), "same seed, different model");
	MlModelFree(b);
	p.seed = 1;
	b = MustFit(ML_RANDOM_FOREST, X, y, 0, &p);
	CHECK(!SameBytes(a, b), "different seed, same model");
	CHECK(MlModelNumTrees(b) == 20, "trees");
	MlModelFree(b);
	MlModelFree(a);
	MlMatrixFree(X);
	SsFree(y);
}

/*
 * Extremely randomized trees: a random threshold per feature (the root of a
 * step varies with the seed where the best split never does), training rows
 * reproduced by fully grown trees on every row, deterministic per seed.
 */
static void
TestExtraTrees(void)
{
	enum
	{
		N = 100,
		SEEDS = 30
	};
	MlMatrix   *X = MlMatrixCreate(N, 2);
	double		y[N];
	float		seen[SEEDS];
	int			nseen = 0;
	MlParams	p;
	MlModel    *a;
	MlModel    *b;
	MlRng		rng;
	int			s;
	int			i;

	MlRngSeed(&rng, 12);
	for (i = 0; i < N; i++)
	{
		MlMatrixSet(X, i, 0, (float) MlRngUniform(&rng));	/* noise */
		MlMatrixSet(X, i, 1, (float) i);
		y[i] = i < 50 ? 1 : 5;
	}
	for (s = 0; s < SEEDS; s++)
	{
		const MlTree *t;
		int			k;

		SingleTreeParams(&p, 1);
		p.extra_trees = true;
		p.seed = (uint64_t) s;
		a = MustFit(ML_RANDOM_FOREST, X, y, 0, &p);
		t = &a->trees[0];
		CHECK(t->nnodes == 3, "seed %d: nodes %d", s, t->nnodes);
		CHECK(t->nodes[t->nodes[0].left].cover > 0 && t->nodes[t->nodes[0].right].cover > 0,
			  "seed %d: an empty side", s);
		for (k = 0; k < nseen && seen[k] != t->nodes[0].threshold; k++)
			;
		if (k == nseen)
			seen[nseen++] = t->nodes[0].threshold;
		MlModelFree(a);
	}
	CHECK(nseen >= SEEDS / 3, "only %d root thresholds over %d seeds", nseen, SEEDS);

	MlParamsInit(&p, ML_RANDOM_FOREST);
	p.n_trees = 20;
	p.extra_trees = true;
	p.bootstrap = false;
	p.max_features = 1;
	a = MustFit(ML_RANDOM_FOREST, X, y, 0, &p);
	for (i = 0; i < N; i++)
	{
		float		row[2] = {MlMatrixGet(X, i, 0), MlMatrixGet(X, i, 1)};

		CHECK_NEAR(MlModelPredict(a, row), y[i], 1e-12);
	}
	b = MustFit(ML_RANDOM_FOREST, X, y, 0, &p);
	CHECK(SameBytes(a, b), "same seed, different model");
	MlModelFree(b);
	p.extra_trees = false;
	b = MustFit(ML_RANDOM_FOREST, X, y, 0, &p);
	CHECK(!SameBytes(a, b), "extra_trees changed nothing");
	MlModelFree(b);
	MlModelFree(a);

	/* gbdt with random thresholds still learns the step, with other trees */
	UnsampledGbdtParams(&p, 0.3, 200);
	p.min_child_weight = 1;
	a = MustFit(ML_GBDT, X, y, 0, &p);
	p.extra_trees = true;
	b = MustFit(ML_GBDT, X, y, 0, &p);
	CHECK(!SameBytes(a, b), "gbdt: extra_trees changed nothing");
	{
		double		sse = 0;

		for (i = 0; i < N; i++)
		{
			float		row[2] = {MlMatrixGet(X, i, 0), MlMatrixGet(X, i, 1)};

			sse += pow(MlModelPredict(b, row) - y[i], 2);
		}
		/* y's variance is 4: the random-split fit explains over 99.9% of it */
		CHECK(sse / N < 0.004, "gbdt: training MSE %g", sse / N);
	}
	MlModelFree(b);
	MlModelFree(a);
	MlMatrixFree(X);
}

/* Importances sum to 1 and find the informative feature. */
static void
TestImportances(void)
{
	enum
	{
		N = 1000
	};
	MlMatrix   *X = MlMatrixCreate(N, 4);
	double		y[N];
	double		imp[4];
	MlAlgorithm algos[3] = {ML_RIDGE, ML_RANDOM_FOREST, ML_GBDT};
	MlRng		rng;
	int			a;
	int			i;

	MlRngSeed(&rng, 4);
	for (i = 0; i < N; i++)
	{
		int			j;

		for (j = 0; j < 4; j++)
			MlMatrixSet(X, i, j, (float) MlRngUniform(&rng));
		y[i] = 10 * MlMatrixGet(X, i, 2) + 0.1 * Normal(&rng);
	}
	for (a = 0; a < 3; a++)
	{
		MlParams	p;
		MlModel    *m;

		MlParamsInit(&p, algos[a]);
		p.n_trees = 20;
		p.n_estimators = 50;
		m = MustFit(algos[a], X, y, 0, &p);
		MlModelImportances(m, imp);
		CHECK_NEAR(imp[0] + imp[1] + imp[2] + imp[3], 1, 1e-12);
		CHECK(imp[2] > 0.8 && imp[2] > imp[0] && imp[2] > imp[1] && imp[2] > imp[3],
			  "%s: importance %g", MlAlgorithmName(algos[a]), imp[2]);
		MlModelFree(m);
	}
	MlMatrixFree(X);
}

/* Bad inputs give messages, not models. */
static void
TestFitErrors(void)
{
	double	   *y;
	MlMatrix   *X = SyntheticData(50, 3, 0, 0.1, 2, &y);
	MlMatrix   *W = MlMatrixCreate(50, 2);
	double	   *out = SsAlloc(50 * sizeof(double));
	MlParams	p;
	MlModel    *m;

	MlParamsInit(&p, ML_GBDT);
	CHECK(MlModelFit(ML_GBDT, X, y, 50, &p, errbuf, sizeof(errbuf)) == NULL &&
		  strstr(errbuf, "no training rows") != NULL, "%s", errbuf);
	CHECK(MlModelFit(ML_GBDT, X, y, -1, &p, errbuf, sizeof(errbuf)) == NULL, "n_valid");
	CHECK(MlModelFit((MlAlgorithm) 9, X, y, 0, &p, errbuf, sizeof(errbuf)) == NULL,
		  "algorithm");
	p.subsample = 2;
	CHECK(MlModelFit(ML_GBDT, X, y, 0, &p, errbuf, sizeof(errbuf)) == NULL &&
		  strstr(errbuf, "subsample") != NULL, "%s", errbuf);
	MlParamsInit(&p, ML_GBDT);
	y[3] = NAN;
	CHECK(MlModelFit(ML_GBDT, X, y, 0, &p, errbuf, sizeof(errbuf)) == NULL &&
		  strcmp(errbuf, "target of row 3 is not a finite number") == 0, "%s", errbuf);
	y[3] = 0;
	MlMatrixSet(X, 4, 1, INFINITY);
	CHECK(MlModelFit(ML_RIDGE, X, y, 0, &p, errbuf, sizeof(errbuf)) == NULL &&
		  strcmp(errbuf, "feature 1 of row 4 is infinite") == 0, "%s", errbuf);
	MlMatrixSet(X, 4, 1, NAN);

	/* one training row, all-missing and constant columns: still a model */
	m = MustFit(ML_GBDT, X, y, 49, &p);
	CHECK(MlModelNumTrees(m) >= 1, "tiny gbdt");
	MlModelFree(m);

	p.n_estimators = 5;
	m = MustFit(ML_GBDT, X, y, 0, &p);
	CHECK(!MlModelPredictMatrix(m, W, out, errbuf, sizeof(errbuf)) &&
		  strcmp(errbuf, "the model has 3 features, the matrix 2 columns") == 0,
		  "%s", errbuf);
	MlMatrixSetColName(X, 2, "other");
	CHECK(!MlModelPredictMatrix(m, X, out, errbuf, sizeof(errbuf)) &&
		  strcmp(errbuf, "column 3 is \"other\", the model expects \"f2\"") == 0,
		  "%s", errbuf);
	CHECK(strcmp(MlModelFeatureName(m, 1), "f1") == 0 && MlModelNumFeatures(m) == 3,
		  "feature names");
	MlModelFree(m);

	/* no features at all: every algorithm predicts the training mean */
	{
		MlMatrix   *Z = MlMatrixCreate(50, 0);
		MlAlgorithm algos[3] = {ML_RIDGE, ML_RANDOM_FOREST, ML_GBDT};
		double		mean = 0;
		int			a;
		int			i;

		for (i = 0; i < 50; i++)
			mean += y[i] / 50;
		for (a = 0; a < 3; a++)
		{
			MlParamsInit(&p, algos[a]);
			p.learning_rate = 1;
			p.bootstrap = false;
			p.subsample = 1;
			m = MustFit(algos[a], Z, y, 0, &p);
			CHECK_NEAR(MlModelPredict(m, NULL), mean, 1e-12);
			MlModelFree(m);
		}
		MlMatrixFree(Z);
	}
	MlMatrixFree(W);
	MlMatrixFree(X);
	SsFree(out);
	SsFree(y);
}

/* A small model of each algorithm, on data with NaNs and named features (an ensemble of the three). */
static MlModel *
SmallModel(MlAlgorithm algo, const MlMatrix *X, const double *y)
{
	MlParams	p;

	if (algo == ML_ENSEMBLE)
	{
		MlModel    *members[3];
		double		weights[3] = {0.2, 0.3, 0.5};
		MlModel    *e;

		members[0] = SmallModel(ML_RIDGE, X, y);
		members[1] = SmallModel(ML_RANDOM_FOREST, X, y);
		members[2] = SmallModel(ML_GBDT, X, y);
		e = MlEnsembleCreate(members, weights, 3, errbuf, sizeof(errbuf));
		if (e == NULL)
		{
			fprintf(stderr, "ensemble failed: %s\n", errbuf);
			abort();
		}
		return e;
	}
	MlParamsInit(&p, algo);
	p.n_trees = 8;
	p.max_depth = 4;
	p.n_estimators = 10;
	p.learning_rate = 0.3;
	if (algo == ML_GBDT)
		p.loss = ML_LOSS_POISSON;
	return MustFit(algo, X, y, 0, &p);
}

/* Serialize, deserialize: identical predictions and identical bytes. */
static void
TestRoundTrip(void)
{
	double	   *y;
	MlMatrix   *X = SyntheticData(300, 5, 0.2, 0.3, 12, &y);
	MlAlgorithm algos[4] = {ML_RIDGE, ML_RANDOM_FOREST, ML_GBDT, ML_ENSEMBLE};
	int			a;
	int			i;

	for (i = 0; i < 300; i++)
		y[i] = fabs(y[i]);
	MlMatrixSetColName(X, 3, NULL);
	MlMatrixSetColName(X, 4, "");
	for (a = 0; a < 4; a++)
	{
		MlModel    *m = SmallModel(algos[a], X, y);
		MlModel    *back;
		size_t		len;
		size_t		len2;
		uint8_t    *buf = MlModelSerialize(m, &len);
		uint8_t    *buf2;
		double		p1[300];
		double		p2[300];

		CHECK(len > 20 && memcmp(buf, "SSML", 4) == 0 && buf[4] == 3 && buf[5] == 0 &&
			  buf[6] == (uint8_t) algos[a], "header");
		CHECK(MlModelDeserialize(buf, len, &back, errbuf, sizeof(errbuf)),
			  "%s", errbuf);
		MlModelPredictMatrix(m, X, p1, errbuf, sizeof(errbuf));
		MlModelPredictMatrix(back, X, p2, errbuf, sizeof(errbuf));
		CHECK(memcmp(p1, p2, sizeof(p1)) == 0, "predictions differ");
		{
			float		rows[300 * 5];
			double		p3[300];

			for (i = 0; i < 300; i++)
			{
				MlMatrixGetRow(X, i, rows + i * 5);
				CHECK(MlModelPredict(back, rows + i * 5) == p1[i], "single-row prediction");
			}
			/* 300 rows: more than one block of the tree-by-tree walk */
			MlModelPredictRows(back, rows, 300, p3);
			CHECK(memcmp(p1, p3, sizeof(p1)) == 0, "row-major batch prediction");
		}
		{
			double		imp1[5], imp2[5];

			MlModelImportances(m, imp1);
			MlModelImportances(back, imp2);
			CHECK(memcmp(imp1, imp2, sizeof(imp1)) == 0, "importances differ");
		}
		buf2 = MlModelSerialize(back, &len2);
		CHECK(len == len2 && memcmp(buf, buf2, len) == 0, "bytes differ");
		CHECK(MlModelFeatureName(back, 3) == NULL &&
			  strcmp(MlModelFeatureName(back, 4), "") == 0 &&
			  strcmp(MlModelFeatureName(back, 0), "f0") == 0, "names");
		CHECK(MlModelAlgorithm(back) == algos[a], "algorithm");
		SsFree(buf2);
		SsFree(buf);
		MlModelFree(back);
		MlModelFree(m);
	}
	MlMatrixFree(X);
	SsFree(y);
}

/*
 * A model's image (the shared model cache's copy): a view of it predicts
 * exactly as the model, one row and in batches, gives the same importances,
 * and after the model itself is freed (the image is all it needs);
 * freeing the view leaves the image alone.
 */
static void
TestImage(void)
{
	double	   *y;
	MlMatrix   *X = SyntheticData(300, 5, 0.2, 0.3, 13, &y);
	MlAlgorithm algos[4] = {ML_RIDGE, ML_RANDOM_FOREST, ML_GBDT, ML_ENSEMBLE};
	int			a, i;

	for (i = 0; i < 300; i++)
		y[i] = fabs(y[i]);		/* SmallModel's gbdt is poisson */
	for (a = 0; a < 4; a++)
	{
		MlModel    *m = SmallModel(algos[a], X, y);
		size_t		size = MlModelImageSize(m);
		double	   *image = SsAlloc(size);	/* 8-byte aligned */
		MlModel    *view;
		double		p1[300], p2[300], p3[300], imp1[5], imp2[5];
		float		rows[300 * 5];

		MlModelImageWrite(m, image);
		MlModelPredictMatrix(m, X, p1, errbuf, sizeof(errbuf));
		MlModelImportances(m, imp1);
		MlModelFree(m);
		view = MlModelImageView(image);
		CHECK(view != NULL, "not an image");
		CHECK(MlModelAlgorithm(view) == algos[a] && MlModelNumFeatures(view) == 5, "shape");
		CHECK(MlModelPredictMatrix(view, X, p2, errbuf, sizeof(errbuf)), "%s", errbuf);
		CHECK(memcmp(p1, p2, sizeof(p1)) == 0, "view predictions differ");
		for (i = 0; i < 300; i++)
		{
			MlMatrixGetRow(X, i, rows + i * 5);
			CHECK(MlModelPredict(view, rows + i * 5) == p1[i], "view single-row prediction");
		}
		MlModelPredictRows(view, rows, 300, p3);
		CHECK(memcmp(p1, p3, sizeof(p1)) == 0, "view batch prediction");
		MlModelImportances(view, imp2);
		CHECK(memcmp(imp1, imp2, sizeof(imp1)) == 0, "view importances differ");
		CHECK(MlModelFeatureName(view, 0) == NULL, "a view has no names");
		MlModelFree(view);
		/* the image is intact after the view is freed: a second view agrees */
		view = MlModelImageView(image);
		MlModelPredictMatrix(view, X, p2, errbuf, sizeof(errbuf));
		CHECK(memcmp(p1, p2, sizeof(p1)) == 0, "second view differs");
		MlModelFree(view);
		memset(image, 0, size);
		CHECK(MlModelImageView(image) == NULL, "zeros taken for an image");
		SsFree(image);
	}
	MlMatrixFree(X);
	SsFree(y);
}

/* Apply one random corruption to buf (a copy of a len-byte blob, with room
 * for 8 more bytes); returns the new length. */
static size_t
Corrupt(MlRng *rng, uint8_t *buf, size_t len, bool header_too)
{
	size_t		from = header_too ? 0 : 20;
	int			kind = (int) MlRngBelow(rng, 4);
	int			k;

	switch (kind)
	{
		case 0:				/* flip 1 to 4 bits */
			for (k = 1 + (int) MlRngBelow(rng, 4); k > 0; k--)
				buf[from + MlRngBelow(rng, (uint32_t) (len - from))] ^=
					(uint8_t) (1u << MlRngBelow(rng, 8));
			return len;
		case 1:				/* truncate */
			return from + MlRngBelow(rng, (uint32_t) (len - from));
		case 2:				/* overwrite 1 to 8 bytes with random ones */
			for (k = 1 + (int) MlRngBelow(rng, 8); k > 0; k--)
				buf[from + MlRngBelow(rng, (uint32_t) (len - from))] =
					(uint8_t) MlRngNext(rng);
			return len;
		default:			/* append 1 to 8 random bytes */
			for (k = 1 + (int) MlRngBelow(rng, 8); k > 0; k--)
				buf[len++] = (uint8_t) MlRngNext(rng);
			return len;
	}
}

/* Exercise a model that deserialization accepted: predict and free. */
static void
UseModel(MlModel *m, const MlMatrix *X)
{
	float		row[64];
	int			i;
	int			j;

	for (i = 0; i < 5; i++)
	{
		for (j = 0; j < MlModelNumFeatures(m) && j < 64; j++)
			row[j] = j < X->ncols ? MlMatrixGet(X, i, j) : NAN;
		if (MlModelNumFeatures(m) <= 64)
			(void) MlModelPredict(m, row);
	}
	MlModelFree(m);
}

/*
 * Random corruptions of each algorithm's blob: with the checksum left as it
 * was, every one must be rejected; with the checksum recomputed (so the
 * structural checks are what stands between the bytes and the code), none
 * may crash or read out of bounds (run under ASan).
 */
static void
TestCorruption(void)
{
	double	   *y;
	MlMatrix   *X = SyntheticData(200, 4, 0.2, 0.3, 31, &y);
	MlAlgorithm algos[4] = {ML_RIDGE, ML_RANDOM_FOREST, ML_GBDT, ML_ENSEMBLE};
	MlRng		rng;
	int			a;
	int			i;

	for (i = 0; i < 200; i++)
		y[i] = fabs(y[i]);
	MlRngSeed(&rng, 2024);
	for (a = 0; a < 4; a++)
	{
		MlModel    *m = SmallModel(algos[a], X, y);
		size_t		len;
		uint8_t    *orig = MlModelSerialize(m, &len);
		uint8_t    *buf = SsAlloc(len + 8);
		int			accepted = 0;
		int			resealed_accepted = 0;
		int			nocrc_rejected = 0;

		for (i = 0; i < CORRUPTIONS; i++)
		{
			MlModel    *back = NULL;
			size_t		n;

			memcpy(buf, orig, len);
			n = Corrupt(&rng, buf, len, true);
			if (n == len && memcmp(buf, orig, len) == 0)
				continue;		/* flips that cancelled out */
			errbuf[0] = '\0';
			if (MlModelDeserialize(buf, n, &back, errbuf, sizeof(errbuf)))
			{
				accepted++;
				UseModel(back, X);
			}
			else if (back != NULL || errbuf[0] == '\0')
				accepted++;
		}
		for (i = 0; i < CORRUPTIONS; i++)
		{
			MlModel    *back = NULL;
			size_t		n;

			memcpy(buf, orig, len);
			n = Corrupt(&rng, buf, len, false);
			MlBlobSeal(buf, n);
			errbuf[0] = '\0';
			if (MlModelDeserialize(buf, n, &back, errbuf, sizeof(errbuf)))
			{
				resealed_accepted++;
				UseModel(back, X);
			}
			else
				nocrc_rejected += back == NULL && errbuf[0] != '\0';
		}
		CHECK(accepted == 0, "%s: %d corrupt blobs accepted",
			  MlAlgorithmName(algos[a]), accepted);
		CHECK(nocrc_rejected + resealed_accepted == CORRUPTIONS, "%s: rejections without message",
			  MlAlgorithmName(algos[a]));
		/* most resealed corruptions still break the structure */
		CHECK(nocrc_rejected > CORRUPTIONS / 4, "%s: only %d resealed rejected",
			  MlAlgorithmName(algos[a]), nocrc_rejected);
		SsFree(buf);
		SsFree(orig);
		MlModelFree(m);
	}
	MlMatrixFree(X);
	SsFree(y);
}

/* Offset of node `node` of the first tree in a forest blob. */
static size_t
FirstTreeNode(const MlModel *m, int node)
{
	size_t		off = 20 + 4;
	int			j;

	for (j = 0; j < m->nfeatures; j++)
		off += 4 + (m->feature_names[j] ? strlen(m->feature_names[j]) : 0);
	off += 8 * (size_t) m->nfeatures + 4 + 4;	/* split gains, ntrees, nnodes */
	for (j = 0; j < node; j++)
		off += m->trees[0].nodes[j].feature < 0 ? 12 : 16;
	return off;
}

/* Hand-made structural corruptions (resealed) are rejected by name. */
static void
TestCorruptionTargeted(void)
{
	double	   *y;
	MlMatrix   *X = SyntheticData(200, 4, 0.1, 0.3, 41, &y);
	MlModel    *m = SmallModel(ML_RANDOM_FOREST, X, y);
	MlModel    *back;
	size_t		len;
	uint8_t    *orig = MlModelSerialize(m, &len);
	uint8_t    *buf = SsAlloc(len);
	size_t		root = FirstTreeNode(m, 0);
	struct
	{
		size_t		offset;
		uint32_t	value;
		const char *error;
	}			cases[] = {
		{root + 8, 0, "model has a tree child index out of range"},	/* left = self */
		{root + 12, 1000000, "model has a tree child index out of range"},
		{root + 4, 0x7FC00000, "model has a malformed tree split"},	/* NaN threshold */
		{root - 12, 0xBFF00000, "model has a negative split gain"},	/* last gain's high word */
		{root, 4, "model has a split on a feature out of range"},
		{root, (uint32_t) -7, "model has a split on a feature out of range"},
		{24 - 4, 0x7FFFFFFF, "model has a feature count out of range"},
		{root - 4, 0x7FFFFFFF, "model has a tree node count out of range"},
		{root - 8, 0, "model has a tree count out of range"},
	};
	size_t		c;

	CHECK(m->trees[0].nodes[0].feature >= 0, "root is a leaf");
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		int			k;

		memcpy(buf, orig, len);
		for (k = 0; k < 4; k++)
			buf[cases[c].offset + k] = (uint8_t) (cases[c].value >> (8 * k));
		MlBlobSeal(buf, len);
		CHECK(!MlModelDeserialize(buf, len, &back, errbuf, sizeof(errbuf)) &&
			  back == NULL && strcmp(errbuf, cases[c].error) == 0,
			  "case %d: %s", (int) c, errbuf);
	}
	memcpy(buf, orig, len);
	buf[4] = 1;
	CHECK(!MlModelDeserialize(buf, len, &back, errbuf, sizeof(errbuf)) &&
		  strcmp(errbuf, "unsupported model format version 1") == 0, "%s", errbuf);
	memcpy(buf, orig, len);
	buf[30] ^= 1;
	CHECK(!MlModelDeserialize(buf, len, &back, errbuf, sizeof(errbuf)) &&
		  strcmp(errbuf, "model checksum mismatch") == 0, "%s", errbuf);
	CHECK(!MlModelDeserialize(orig, len - 1, &back, errbuf, sizeof(errbuf)) &&
		  strstr(errbuf, "header says") != NULL, "%s", errbuf);
	CHECK(!MlModelDeserialize(orig, 3, &back, errbuf, sizeof(errbuf)) &&
		  strcmp(errbuf, "not a model: too short") == 0, "%s", errbuf);
	CHECK(!MlModelDeserialize((const uint8_t *) "PGCOPY\n\377\r\n\0 and some more", 24,
							  &back, errbuf, sizeof(errbuf)) &&
		  strcmp(errbuf, "not a model: bad magic number") == 0, "%s", errbuf);
	SsFree(buf);
	SsFree(orig);
	MlModelFree(m);
	MlMatrixFree(X);
	SsFree(y);
}

/* CRC-32 against its check value and a bit-at-a-time reference, every length and alignment. */
static void
TestCrc32(void)
{
	uint8_t		buf[64];
	int			off, len, i, k;

	CHECK(MlCrc32((const uint8_t *) "123456789", 9) == 0xCBF43926u, "check value");
	for (i = 0; i < 64; i++)
		buf[i] = (uint8_t) (i * 37 + 11);
	for (off = 0; off < 8; off++)
		for (len = 0; off + len <= 64; len++)
		{
			uint32_t	ref = 0xFFFFFFFFu;

			for (i = 0; i < len; i++)
			{
				ref ^= buf[off + i];
				for (k = 0; k < 8; k++)
					ref = (ref >> 1) ^ (0xEDB88320u & (0u - (ref & 1)));
			}
			CHECK(MlCrc32(buf + off, (size_t) len) == ~ref, "offset %d length %d", off, len);
		}
}

/* Metrics on hand-computed vectors. */
static void
TestMetrics(void)
{
	const double a[] = {1, 2, 3, 4};
	const double p[] = {1.5, 2, 2, 5};
	const double a0[] = {0, 2, NAN, 4};
	const double p0[] = {1, 1, 7, 4};
	const double probs[] = {0, 0.5, 0.9, 1};
	double		q[4];
	MlMetrics	m;

	MlMetricsCompute(a, p, 4, &m);
	CHECK(m.n == 4, "n");
	CHECK_NEAR(m.rmse, 0.75, 1e-15);
	CHECK_NEAR(m.mae, 0.625, 1e-15);
	CHECK_NEAR(m.mape, 100 * (0.5 + 1.0 / 3 + 0.25) / 4, 1e-12);
	CHECK_NEAR(m.smape, 100 * (0.4 + 0.4 + 2.0 / 9) / 4, 1e-12);
	CHECK_NEAR(m.r2, 0.55, 1e-15);
	CHECK_NEAR(m.bias, 0.125, 1e-15);
	CHECK_NEAR(MlRmse(a, p, 4), 0.75, 1e-15);
	CHECK_NEAR(MlR2(a, p, 4), 0.55, 1e-15);

	/* a zero actual is skipped by MAPE, a NaN pair by everything */
	MlMetricsCompute(a0, p0, 4, &m);
	CHECK(m.n == 3, "n with NaN");
	CHECK_NEAR(m.mape, 100 * (0.5 + 0) / 2, 1e-12);
	CHECK_NEAR(m.smape, 100 * (2.0 + 2.0 / 3 + 0) / 3, 1e-12);
	CHECK_NEAR(m.rmse, sqrt(2.0 / 3), 1e-15);
	CHECK_NEAR(m.bias, 0, 1e-15);
	MlMetricsCompute(a, p, 0, &m);
	CHECK(m.n == 0 && isnan(m.rmse) && isnan(m.r2), "empty");
	CHECK(MlR2(a, a, 4) == 1, "perfect r2");
	{
		const double c[] = {3, 3, 3};
		const double d[] = {3, 4, 3};

		CHECK(MlR2(c, c, 3) == 1 && MlR2(c, d, 3) == 0, "constant actual r2");
	}

	MlResidualQuantiles(a, p, 4, probs, 4, q);
	CHECK(q[0] == -1 && q[3] == 1, "extremes %g %g", q[0], q[3]);
	CHECK_NEAR(q[1], -0.25, 1e-15);
	CHECK_NEAR(q[2], 0.7, 1e-15);
	CHECK_NEAR(MlQuantile(a0, 4, 0.5), 2, 1e-15);
	CHECK(isnan(MlQuantile(a0, 0, 0.5)), "empty quantile");
}

/* Predictions of m on every row of X into out (X->nrows values). */
static void
PredictAll(const MlModel *m, const MlMatrix *X, double *out)
{
	if (!MlModelPredictMatrix(m, X, out, errbuf, sizeof(errbuf)))
		abort();
}

/* Largest absolute difference of two prediction vectors. */
static double
MaxDiff(const double *a, const double *b, int n)
{
	double		d = 0;
	int			i;

	for (i = 0; i < n; i++)
		d = fmax(d, fabs(a[i] - b[i]));
	return d;
}

/*
 * Sample weights: for ridge, weight 2 is the row duplicated; for every
 * learner (forest without bootstrap, gbdt without row or column sampling,
 * so that no random draw depends on the row count), weight 0 is the row
 * absent, and a weight 2 on one row is that row twice.  The extra rows
 * repeat feature values of other rows, so the bins are the same.
 */
static void
TestWeights(void)
{
	enum
	{
		N = 120, NF = 4
	};
	double	   *y;
	MlMatrix   *X = SyntheticData(N, NF, 0.1, 0.3, 77, &y);
	MlMatrix   *Xdup = MlMatrixCreate(N + 1, NF);	/* row 5 twice */
	MlMatrix   *Xzero = MlMatrixCreate(N + 1, NF);	/* plus a copy of row 5 with another target, weight 0 */
	double		ydup[N + 1], yzero[N + 1], wdup[N], wzero[N + 1], wflat[N];
	double		pa[N + 1], pb[N + 1];
	MlAlgorithm algos[3] = {ML_RIDGE, ML_RANDOM_FOREST, ML_GBDT};
	int			a, i, j;

	for (i = 0; i <= N; i++)
	{
		int			src = i < N ? i : 5;

		for (j = 0; j < NF; j++)
		{
			MlMatrixSet(Xdup, i, j, MlMatrixGet(X, src, j));
			MlMatrixSet(Xzero, i, j, MlMatrixGet(X, src, j));
		}
		ydup[i] = y[src];
		yzero[i] = i < N ? y[i] : y[5] + 40;
		wzero[i] = i < N ? 1 : 0;
	}
	for (i = 0; i < N; i++)
	{
		wdup[i] = i == 5 ? 2 : 1;
		wflat[i] = 1;
	}
	for (a = 0; a < 3; a++)
	{
		MlParams	p;
		MlModel    *plain, *weighted, *ones;

		MlParamsInit(&p, algos[a]);
		p.bootstrap = false;
		p.max_features = 1;
		p.n_trees = 3;
		p.n_estimators = 30;
		p.subsample = 1;
		p.colsample = 1;
		p.max_depth = 4;

		/* weight 2 = the row twice */
		plain = MustFit(algos[a], Xdup, ydup, 0, &p);
		weighted = MlModelFitWeighted(algos[a], X, y, wdup, 0, &p, errbuf, sizeof(errbuf));
		CHECK(weighted != NULL, "%s", errbuf);
		PredictAll(plain, X, pa);
		PredictAll(weighted, X, pb);
		CHECK(MaxDiff(pa, pb, N) < 1e-9, "%s: weight 2 differs from a duplicated row by %g",
			  MlAlgorithmName(algos[a]), MaxDiff(pa, pb, N));
		MlModelFree(plain);
		MlModelFree(weighted);

		/* weight 0 = the row absent */
		plain = MustFit(algos[a], X, y, 0, &p);
		weighted = MlModelFitWeighted(algos[a], Xzero, yzero, wzero, 0, &p, errbuf, sizeof(errbuf));
		CHECK(weighted != NULL, "%s", errbuf);
		PredictAll(plain, X, pa);
		PredictAll(weighted, X, pb);
		CHECK(MaxDiff(pa, pb, N) < 1e-9, "%s: weight 0 differs from an absent row by %g",
			  MlAlgorithmName(algos[a]), MaxDiff(pa, pb, N));
		/* ... and the zero-weight row does change the fit when it weighs 1 */
		ones = MustFit(algos[a], Xzero, yzero, 0, &p);
		PredictAll(ones, X, pb);
		CHECK(MaxDiff(pa, pb, N) > 1e-3, "%s: the extra row changes nothing", MlAlgorithmName(algos[a]));
		MlModelFree(ones);
		/* all weights 1 = no weights, byte for byte */
		ones = MlModelFitWeighted(algos[a], X, y, wflat, 0, &p, errbuf, sizeof(errbuf));
		CHECK(ones != NULL && SameBytes(plain, ones), "%s: unit weights differ from none", MlAlgorithmName(algos[a]));
		MlModelFree(ones);
		MlModelFree(plain);
		MlModelFree(weighted);
	}
	/* bad weights are refused */
	{
		MlParams	p;

		MlParamsInit(&p, ML_RIDGE);
		wflat[3] = -1;
		CHECK(MlModelFitWeighted(ML_RIDGE, X, y, wflat, 0, &p, errbuf, sizeof(errbuf)) == NULL &&
			  strstr(errbuf, "weight of row 3") != NULL, "negative weight: %s", errbuf);
		wflat[3] = NAN;
		CHECK(MlModelFitWeighted(ML_RIDGE, X, y, wflat, 0, &p, errbuf, sizeof(errbuf)) == NULL,
			  "NaN weight accepted");
		for (i = 0; i < N; i++)
			wflat[i] = 0;
		CHECK(MlModelFitWeighted(ML_GBDT, X, y, wflat, 0, &p, errbuf, sizeof(errbuf)) == NULL &&
			  strstr(errbuf, "no weight") != NULL, "all-zero weights: %s", errbuf);
	}
	MlMatrixFree(X);
	MlMatrixFree(Xdup);
	MlMatrixFree(Xzero);
	SsFree(y);
}

/*
 * An ensemble predicts the weighted sum of its members, its importances
 * are the weighted members' shares; version-2 blobs (before ensembles) are
 * still read, an ensemble claiming version 2 is not; bad members refused.
 */
static void
TestEnsemble(void)
{
	enum
	{
		N = 200
	};
	double	   *y;
	MlMatrix   *X = SyntheticData(N, 4, 0.2, 0.3, 91, &y);
	MlModel    *e, *single, *back;
	const MlModel *members[ML_MAX_MEMBERS];
	double		weights[ML_MAX_MEMBERS], pe[N], pm[N], sum[N], imp[4], impm[4], impsum[4] = {0};
	uint8_t    *buf;
	size_t		len;
	int			i, k, n;

	for (i = 0; i < N; i++)
		y[i] = fabs(y[i]);
	e = SmallModel(ML_ENSEMBLE, X, y);
	CHECK(MlModelAlgorithm(e) == ML_ENSEMBLE && strcmp(MlAlgorithmName(ML_ENSEMBLE), "ensemble") == 0, "algorithm");
	n = MlEnsembleMembers(e, members, weights);
	CHECK(n == 3 && weights[0] == 0.2 && weights[1] == 0.3 && weights[2] == 0.5, "members %d", n);
	for (i = 0; i < N; i++)
		sum[i] = 0;
	for (k = 0; k < n; k++)
	{
		PredictAll(members[k], X, pm);
		for (i = 0; i < N; i++)
			sum[i] += weights[k] * pm[i];
		MlModelImportances(members[k], impm);
		for (i = 0; i < 4; i++)
			impsum[i] += weights[k] * impm[i];
	}
	PredictAll(e, X, pe);
	CHECK(MaxDiff(pe, sum, N) < 1e-12, "ensemble is not the weighted sum: %g", MaxDiff(pe, sum, N));
	MlModelImportances(e, imp);
	for (i = 0; i < 4; i++)
		CHECK_NEAR(imp[i], impsum[i], 1e-12);
	CHECK(MlModelNumTrees(e) == MlModelNumTrees(members[1]) + MlModelNumTrees(members[2]), "trees");
	CHECK(MlModelNumFeatures(e) == 4 && strcmp(MlModelFeatureName(e, 1), "f1") == 0, "features");
	{
		double		ic, coef[4], fill[4];

		CHECK(!MlModelLinearCoefficients(e, &ic, coef, fill), "an ensemble has no coefficients");
	}

	/* a version-2 blob of a single model is read; an ensemble claiming version 2 is not */
	single = SmallModel(ML_GBDT, X, y);
	buf = MlModelSerialize(single, &len);
	buf[4] = 2;
	MlBlobSeal(buf, len);
	CHECK(MlModelDeserialize(buf, len, &back, errbuf, sizeof(errbuf)), "version 2: %s", errbuf);
	PredictAll(single, X, pm);
	PredictAll(back, X, pe);
	CHECK(MaxDiff(pm, pe, N) == 0, "version 2 predicts differently");
	MlModelFree(back);
	SsFree(buf);
	buf = MlModelSerialize(e, &len);
	buf[4] = 2;
	MlBlobSeal(buf, len);
	CHECK(!MlModelDeserialize(buf, len, &back, errbuf, sizeof(errbuf)) &&
		  strstr(errbuf, "algorithm id 4") != NULL, "version-2 ensemble: %s", errbuf);
	buf[4] = 5;
	MlBlobSeal(buf, len);
	CHECK(!MlModelDeserialize(buf, len, &back, errbuf, sizeof(errbuf)) &&
		  strstr(errbuf, "format version 5") != NULL, "version 5: %s", errbuf);
	SsFree(buf);

	/* an ensemble cannot hold an ensemble, a negative weight or members of other shapes */
	{
		MlModel    *two[2];
		double		w2[2] = {0.5, 0.5};
		MlMatrix   *X3 = MlMatrixCreate(N, 3);
		MlModel    *narrow;
		MlParams	p;

		for (i = 0; i < N; i++)
			for (k = 0; k < 3; k++)
				MlMatrixSet(X3, i, k, MlMatrixGet(X, i, k));
		two[0] = single;
		two[1] = e;
		CHECK(MlEnsembleCreate(two, w2, 2, errbuf, sizeof(errbuf)) == NULL, "nested ensemble");
		MlParamsInit(&p, ML_RIDGE);
		narrow = MustFit(ML_RIDGE, X3, y, 0, &p);
		two[1] = narrow;
		CHECK(MlEnsembleCreate(two, w2, 2, errbuf, sizeof(errbuf)) == NULL, "members of other widths");
		two[1] = single;
		w2[1] = -0.1;
		CHECK(MlEnsembleCreate(two, w2, 2, errbuf, sizeof(errbuf)) == NULL, "negative weight");
		CHECK(MlEnsembleCreate(two, w2, 0, errbuf, sizeof(errbuf)) == NULL, "no members");
		CHECK(MlModelFit(ML_ENSEMBLE, X, y, 0, &p, errbuf, sizeof(errbuf)) == NULL, "an ensemble is not fitted");
		MlModelFree(narrow);
		MlMatrixFree(X3);
	}
	MlModelFree(single);
	MlModelFree(e);
	MlMatrixFree(X);
	SsFree(y);
}

/*
 * An ensemble's class scale multiplies the prediction of a row whose class
 * feature is 0..nclasses-1 and whose mask features are 0, and no other; it
 * survives serialization (format 4, where an unscaled ensemble stays format
 * 3) and images; bad scales are refused, in the model and in a blob.
 */
static void
TestEnsembleScale(void)
{
	enum
	{
		N = 200
	};
	double	   *y;
	MlMatrix   *X = SyntheticData(N, 4, 0, 0.3, 93, &y);
	MlModel    *e, *back, *view, *single;
	MlClassScale cs, got;
	double		plain[N], scaled[N], p[N];
	uint8_t    *buf;
	void	   *image;
	size_t		len;
	int			i;

	for (i = 0; i < N; i++)
	{
		y[i] = fabs(y[i]);
		MlMatrixSet(X, i, 3, (float) (i % 4));		/* class 0, 1, 2, or 3 (no class) */
		MlMatrixSet(X, i, 2, i % 5 == 0 ? 1.0f : (i % 7 == 0 ? NAN : 0.0f));	/* the mask */
	}
	e = SmallModel(ML_ENSEMBLE, X, y);
	PredictAll(e, X, plain);
	buf = MlModelSerialize(e, &len);
	CHECK(buf[4] == 3, "an unscaled ensemble is written in format 3, not %d", buf[4]);
	SsFree(buf);

	memset(&cs, 0, sizeof(cs));
	cs.nclasses = 3;
	cs.class_col = 3;
	cs.nmask = 1;
	cs.mask_cols[0] = 2;
	cs.scale[0] = 0.5;
	cs.scale[1] = 2;
	cs.scale[2] = 1.25;
	CHECK(MlEnsembleSetScale(e, &cs, errbuf, sizeof(errbuf)), "%s", errbuf);
	PredictAll(e, X, scaled);
	for (i = 0; i < N; i++)
	{
		double		f = i % 5 == 0 || i % 4 == 3 ? 1 : (i % 4 == 0 ? 0.5 : i % 4 == 1 ? 2 : 1.25);

		CHECK(scaled[i] == plain[i] * f, "row %d: %g, not %g x %g", i, scaled[i], plain[i], f);
	}
	{
		float		row[4];

		MlMatrixGetRow(X, 1, row);
		CHECK(MlModelPredict(e, row) == scaled[1], "one row predicts as the matrix does");
	}

	/* the scale round-trips through a format-4 blob and an image */
	buf = MlModelSerialize(e, &len);
	CHECK(buf[4] == 4, "a scaled ensemble is written in format 4, not %d", buf[4]);
	CHECK(MlModelDeserialize(buf, len, &back, errbuf, sizeof(errbuf)), "%s", errbuf);
	MlEnsembleScale(back, &got);
	CHECK(got.nclasses == 3 && got.class_col == 3 && got.nmask == 1 && got.mask_cols[0] == 2 &&
		  got.scale[0] == 0.5 && got.scale[1] == 2 && got.scale[2] == 1.25, "the scale read back differs");
	PredictAll(back, X, p);
	CHECK(MaxDiff(p, scaled, N) == 0, "read back predicts differently");
	image = SsAlloc(MlModelImageSize(back));
	MlModelImageWrite(back, image);
	view = MlModelImageView(image);
	PredictAll(view, X, p);
	CHECK(MaxDiff(p, scaled, N) == 0, "the image predicts differently");
	MlModelFree(view);
	SsFree(image);
	MlModelFree(back);

	/*
	 * Refused blobs: a scale of -1; a class feature out of range; 0 classes
	 * in format 4 (that is format 3); a single model claiming format 4.  The
	 * blob ends u32 nclasses, u32 class feature, u32 nmask, 1 mask, 3 scales.
	 */
	memcpy(buf + len - 8, &(double) {-1}, 8);
	MlBlobSeal(buf, len);
	CHECK(!MlModelDeserialize(buf, len, &back, errbuf, sizeof(errbuf)) &&
		  strstr(errbuf, "scale of class 2") != NULL, "negative scale: %s", errbuf);
	memcpy(buf + len - 8, &(double) {1.25}, 8);
	buf[len - 36] = 4;
	MlBlobSeal(buf, len);
	CHECK(!MlModelDeserialize(buf, len, &back, errbuf, sizeof(errbuf)) &&
		  strstr(errbuf, "class feature") != NULL, "class feature 4 of 4: %s", errbuf);
	buf[len - 36] = 3;
	buf[len - 40] = 0;
	MlBlobSeal(buf, len);
	CHECK(!MlModelDeserialize(buf, len, &back, errbuf, sizeof(errbuf)) &&
		  strstr(errbuf, "class scale count") != NULL, "0 classes: %s", errbuf);
	SsFree(buf);
	single = SmallModel(ML_GBDT, X, y);
	buf = MlModelSerialize(single, &len);
	buf[4] = 4;
	MlBlobSeal(buf, len);
	CHECK(!MlModelDeserialize(buf, len, &back, errbuf, sizeof(errbuf)) &&
		  strstr(errbuf, "for ensembles only") != NULL, "a gbdt in format 4: %s", errbuf);
	SsFree(buf);

	/* bad scales are refused and leave the model as it was */
	cs.scale[1] = 0;
	CHECK(!MlEnsembleSetScale(e, &cs, errbuf, sizeof(errbuf)) && strstr(errbuf, "class 1") != NULL, "scale 0");
	cs.scale[1] = 2;
	cs.class_col = 4;
	CHECK(!MlEnsembleSetScale(e, &cs, errbuf, sizeof(errbuf)) && strstr(errbuf, "class feature 4") != NULL, "class feature");
	cs.class_col = 3;
	cs.nclasses = ML_MAX_CLASSES + 1;
	CHECK(!MlEnsembleSetScale(e, &cs, errbuf, sizeof(errbuf)), "too many classes");
	PredictAll(e, X, p);
	CHECK(MaxDiff(p, scaled, N) == 0, "a refused scale changed the model");
	cs.nclasses = 3;
	CHECK(!MlEnsembleSetScale(single, &cs, errbuf, sizeof(errbuf)), "a single model has no class scale");
	/* nclasses 0 removes the scale */
	cs.nclasses = 0;
	CHECK(MlEnsembleSetScale(e, &cs, errbuf, sizeof(errbuf)), "%s", errbuf);
	PredictAll(e, X, p);
	CHECK(MaxDiff(p, plain, N) == 0, "no scale after removing it");
	MlModelFree(single);
	MlModelFree(e);
	MlMatrixFree(X);
	SsFree(y);
}

/* Entry point: run every test and print the tally. */
int
main(void)
{
	RunTest("rng", TestRng);
	RunTest("matrix", TestMatrix);
	RunTest("params", TestParams);
	RunTest("ridge closed form", TestRidgeClosedForm);
	RunTest("ridge exact", TestRidgeExact);
	RunTest("tree step", TestTreeStep);
	RunTest("nan routing", TestNanRouting);
	RunTest("binning", TestBinning);
	RunTest("gbdt step", TestGbdtStep);
	RunTest("noisy sine", TestNoisySine);
	RunTest("poisson", TestPoisson);
	RunTest("early stopping", TestEarlyStopping);
	RunTest("validation loss", TestValidLoss);
	RunTest("gbdt shape", TestGbdtShape);
	RunTest("forest determinism", TestForestDeterminism);
	RunTest("extra trees", TestExtraTrees);
	RunTest("importances", TestImportances);
	RunTest("fit errors", TestFitErrors);
	RunTest("weights", TestWeights);
	RunTest("ensemble", TestEnsemble);
	RunTest("ensemble scale", TestEnsembleScale);
	RunTest("round trip", TestRoundTrip);
	RunTest("image", TestImage);
	RunTest("corruption", TestCorruption);
	RunTest("targeted corruption", TestCorruptionTargeted);
	RunTest("metrics", TestMetrics);
	RunTest("crc32", TestCrc32);
	printf("%d passed, %d failed\n", tests_passed, tests_failed);
	return tests_failed == 0 ? 0 : 1;
}
