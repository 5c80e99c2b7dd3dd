/*
 * metrics.h — forecast accuracy metrics over (actual, predicted) pairs.
 *
 * Pairs where either value is NaN are skipped everywhere.  A metric with no
 * usable pair is NaN.  MAPE and sMAPE are in percent; MAPE skips actual
 * values of 0 and sMAPE pairs where both values are 0.  Residuals are
 * actual - predicted; bias is mean(predicted - actual).
 */
#ifndef SEONGSU_ML_METRICS_H
#define SEONGSU_ML_METRICS_H

typedef struct MlMetrics
{
	int			n;				/* pairs used */
	double		rmse;
	double		mae;
	double		mape;			/* percent, over actual != 0 */
	double		smape;			/* percent: 200 |a - p| / (|a| + |p|) */
	double		r2;				/* 1 - SSE/SST (SST 0: 1 if exact, else 0) */
	double		bias;			/* mean(predicted - actual) */
} MlMetrics;

extern void MlMetricsCompute(const double *actual, const double *pred, int n,
							 MlMetrics *out);
extern double MlRmse(const double *actual, const double *pred, int n);
extern double MlR2(const double *actual, const double *pred, int n);
extern double MlQuantile(const double *values, int n, double q);
extern void MlResidualQuantiles(const double *actual, const double *pred, int n,
								const double *probs, int nprobs, double *out);

#endif							/* SEONGSU_ML_METRICS_H */
