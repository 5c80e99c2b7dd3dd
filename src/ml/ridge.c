/*
 * ridge.c — ridge regression on standardized features.
 *
 * Each feature is standardized with the (weighted) mean and standard
 * deviation of its training rows (missing values take the mean, so they add
 * nothing), the target is centered on its weighted mean, and
 * (Z'WZ + alpha I) beta = Z'W(y - mean y) is solved by
 * Cholesky in double precision; the intercept is not penalized.  The model
 * keeps the coefficients in the features' own units.  Features constant on
 * the training rows get coefficient 0.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../alloc.h"
#include "model_impl.h"

/* A pivot below this fraction of its diagonal means a singular system. */
#define PIVOT_EPS 1e-10

/* Weight of row i (1 without weights). */
static inline double
RowWeight(const double *w, int i)
{
	return w ? w[i] : 1.0;
}

/* Weighted mean (of non-missing values) and standard deviation (over all n
 * rows of total weight wsum, missing ones counted at the mean) of x[0..n). */
static void
ColumnMoments(const float *x, const double *w, int n, double wsum,
			  double *mean, double *sd)
{
	double		sum = 0;
	double		ss = 0;
	double		cnt = 0;
	int			i;

	for (i = 0; i < n; i++)
		if (!isnan(x[i]))
		{
			sum += RowWeight(w, i) * x[i];
			cnt += RowWeight(w, i);
		}
	*mean = cnt > 0 ? sum / cnt : 0;
	for (i = 0; i < n; i++)
		if (!isnan(x[i]))
			ss += RowWeight(w, i) * (x[i] - *mean) * (x[i] - *mean);
	*sd = wsum > 0 ? sqrt(ss / wsum) : 0;
}

/* In-place Cholesky factor (lower) of the p x p matrix a; false if it is not
 * numerically positive definite. */
static bool
Cholesky(double *a, int p)
{
	int			j;

	for (j = 0; j < p; j++)
	{
		double		d = a[(size_t) j * p + j];
		double		orig = d;
		int			i;
		int			k;

		SsCheckInterrupts();
		for (k = 0; k < j; k++)
			d -= a[(size_t) j * p + k] * a[(size_t) j * p + k];
		if (!(d > PIVOT_EPS * orig))
			return false;
		d = sqrt(d);
		a[(size_t) j * p + j] = d;
		for (i = j + 1; i < p; i++)
		{
			double		s = a[(size_t) i * p + j];

			for (k = 0; k < j; k++)
				s -= a[(size_t) i * p + k] * a[(size_t) j * p + k];
			a[(size_t) i * p + j] = s / d;
		}
	}
	return true;
}

/* Solve L L' x = b in place, L the factor left by Cholesky. */
static void
CholeskySolve(const double *l, int p, double *b)
{
	int			i;
	int			k;

	for (i = 0; i < p; i++)
	{
		for (k = 0; k < i; k++)
			b[i] -= l[(size_t) i * p + k] * b[k];
		b[i] /= l[(size_t) i * p + i];
	}
	for (i = p - 1; i >= 0; i--)
	{
		for (k = i + 1; k < p; k++)
			b[i] -= l[(size_t) k * p + i] * b[k];
		b[i] /= l[(size_t) i * p + i];
	}
}

/* Fit ridge on the first ntrain rows (weights w, or NULL); false with a message if singular. */
bool
MlRidgeFit(MlModel *model, const MlMatrix *X, const double *y, const double *w,
		   int ntrain, const MlParams *params, char *err, size_t errlen)
{
	int			p = X->ncols;
	int			n = ntrain;
	double	   *z = SsAlloc(((size_t) p * n + 1) * sizeof(double));
	double	   *a = SsAlloc(((size_t) p * p + 1) * sizeof(double));
	double	   *b = SsAlloc(((size_t) p + 1) * sizeof(double));
	double	   *yc = SsAlloc(((size_t) n + 1) * sizeof(double));
	double		ymean = 0;
	double		wsum = 0;
	bool		ok;
	int			i;
	int			j;
	int			k;

	model->coef = SsAlloc0(((size_t) p + 1) * sizeof(double));
	model->fill = SsAlloc0(((size_t) p + 1) * sizeof(double));
	model->scale = SsAlloc0(((size_t) p + 1) * sizeof(double));
	for (i = 0; i < n; i++)
	{
		ymean += RowWeight(w, i) * y[i];
		wsum += RowWeight(w, i);
	}
	ymean = wsum > 0 ? ymean / wsum : 0;
	/* yc carries the weight: Z'W(y - mean) is then a plain dot product */
	for (i = 0; i < n; i++)
		yc[i] = RowWeight(w, i) * (y[i] - ymean);

	/* standardized columns; constant ones stay all zero */
	for (j = 0; j < p; j++)
	{
		const float *x = MlMatrixColumn(X, j);
		double	   *zj = z + (size_t) j * n;
		double		mean;
		double		sd;

		ColumnMoments(x, w, n, wsum, &mean, &sd);
		model->fill[j] = mean;
		if (!(sd > 0) || !isfinite(sd))
			sd = 0;
		model->scale[j] = sd;
		for (i = 0; i < n; i++)
			zj[i] = (sd == 0 || isnan(x[i])) ? 0 : (x[i] - mean) / sd;
	}

	/* normal equations; a constant column gets a unit row and column */
	for (j = 0; j < p; j++)
	{
		const double *zj = z + (size_t) j * n;

		SsCheckInterrupts();
		for (k = 0; k <= j; k++)
		{
			const double *zk = z + (size_t) k * n;
			double		s = 0;

			if (w)
				for (i = 0; i < n; i++)
					s += w[i] * zj[i] * zk[i];
			else
				for (i = 0; i < n; i++)
					s += zj[i] * zk[i];
			a[(size_t) j * p + k] = s;
			a[(size_t) k * p + j] = s;
		}
		if (model->scale[j] == 0)
			a[(size_t) j * p + j] = 1;
		else
			a[(size_t) j * p + j] += params->alpha;
		b[j] = 0;
		for (i = 0; i < n; i++)
			b[j] += zj[i] * yc[i];
	}

	ok = Cholesky(a, p);
	if (ok)
	{
		CholeskySolve(a, p, b);
		model->intercept = ymean;
		for (j = 0; j < p; j++)
		{
			if (model->scale[j] == 0)
				continue;
			model->coef[j] = b[j] / model->scale[j];
			model->intercept -= model->coef[j] * model->fill[j];
		}
	}
	else
		snprintf(err, errlen, "ridge system is singular: some features are collinear (use alpha > 0)");
	SsFree(z);
	SsFree(a);
	SsFree(b);
	SsFree(yc);
	return ok;
}

/* Prediction for row x (feature f at x[f * stride]). */
double
MlRidgePredict(const MlModel *model, const float *x, size_t stride)
{
	double		sum = model->intercept;
	int			j;

	for (j = 0; j < model->nfeatures; j++)
	{
		float		v = x[(size_t) j * stride];

		sum += model->coef[j] * (isnan(v) ? model->fill[j] : v);
	}
	return sum;
}
