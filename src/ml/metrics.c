/*
 * metrics.c — RMSE, MAE, MAPE, sMAPE, R², bias and residual quantiles.
 */
#include <math.h>
#include <stdlib.h>

#include "../alloc.h"
#include "metrics.h"

/* Whether pair i takes part (neither value is NaN). */
static inline int
Usable(const double *actual, const double *pred, int i)
{
	return !isnan(actual[i]) && !isnan(pred[i]);
}

/* Every metric at once into *out. */
void
MlMetricsCompute(const double *actual, const double *pred, int n,
				 MlMetrics *out)
{
	double		sse = 0;
	double		sae = 0;
	double		sum_err = 0;
	double		sum_actual = 0;
	double		ape = 0;
	double		sape = 0;
	double		sst = 0;
	double		mean;
	int			nape = 0;
	int			nsape = 0;
	int			m = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		double		a = actual[i];
		double		p = pred[i];
		double		denom = fabs(a) + fabs(p);

		if (!Usable(actual, pred, i))
			continue;
		m++;
		sse += (p - a) * (p - a);
		sae += fabs(p - a);
		sum_err += p - a;
		sum_actual += a;
		if (a != 0)
		{
			ape += fabs(p - a) / fabs(a);
			nape++;
		}
		if (denom > 0)
		{
			sape += 2 * fabs(p - a) / denom;
			nsape++;
		}
	}
	out->n = m;
	if (m == 0)
	{
		out->rmse = out->mae = out->mape = out->smape = out->r2 = out->bias = NAN;
		return;
	}
	mean = sum_actual / m;
	for (i = 0; i < n; i++)
		if (Usable(actual, pred, i))
			sst += (actual[i] - mean) * (actual[i] - mean);
	out->rmse = sqrt(sse / m);
	out->mae = sae / m;
	out->mape = nape > 0 ? 100 * ape / nape : NAN;
	out->smape = nsape > 0 ? 100 * sape / nsape : NAN;
	out->r2 = sst > 0 ? 1 - sse / sst : (sse == 0 ? 1 : 0);
	out->bias = sum_err / m;
}

/* Root mean squared error. */
double
MlRmse(const double *actual, const double *pred, int n)
{
	MlMetrics	m;

	MlMetricsCompute(actual, pred, n, &m);
	return m.rmse;
}

/* Coefficient of determination. */
double
MlR2(const double *actual, const double *pred, int n)
{
	MlMetrics	m;

	MlMetricsCompute(actual, pred, n, &m);
	return m.r2;
}

/* qsort order of doubles. */
static int
CompareDoubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Quantile q in [0, 1] of the sorted non-NaN values s[0..m): linear
 * interpolation between order statistics (R type 7, numpy's default). */
static double
SortedQuantile(const double *s, int m, double q)
{
	double		h;
	int			lo;

	if (m == 0 || isnan(q))
		return NAN;
	if (q <= 0)
		return s[0];
	if (q >= 1)
		return s[m - 1];
	h = (m - 1) * q;
	lo = (int) floor(h);
	if (lo + 1 >= m)
		return s[m - 1];
	return s[lo] + (h - lo) * (s[lo + 1] - s[lo]);
}

/* Quantile q of the non-NaN values[0..n) (type 7); NaN if there are none. */
double
MlQuantile(const double *values, int n, double q)
{
	double	   *s = SsAlloc(((size_t) n + 1) * sizeof(double));
	double		result;
	int			m = 0;
	int			i;

	for (i = 0; i < n; i++)
		if (!isnan(values[i]))
			s[m++] = values[i];
	qsort(s, (size_t) m, sizeof(double), CompareDoubles);
	result = SortedQuantile(s, m, q);
	SsFree(s);
	return result;
}

/* Quantiles probs[0..nprobs) of the residuals actual - pred into out. */
void
MlResidualQuantiles(const double *actual, const double *pred, int n,
					const double *probs, int nprobs, double *out)
{
	double	   *s = SsAlloc(((size_t) n + 1) * sizeof(double));
	int			m = 0;
	int			i;

	for (i = 0; i < n; i++)
		if (Usable(actual, pred, i))
			s[m++] = actual[i] - pred[i];
	qsort(s, (size_t) m, sizeof(double), CompareDoubles);
	for (i = 0; i < nprobs; i++)
		out[i] = SortedQuantile(s, m, probs[i]);
	SsFree(s);
}
