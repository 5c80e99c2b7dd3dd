/*
 * dataset.h — feature rows as a model matrix, shared by training and
 * prediction so both see exactly the same columns.
 */
#ifndef SEONGSU_DATASET_H
#define SEONGSU_DATASET_H

#include "postgres.h"

#include "features.h"
#include "../ml/matrix.h"

/* The model columns: the F_MODEL columns of feature_list.h, in its order. */
enum
{
#define X(name, kind, flags, description) + (((flags) & F_MODEL) ? 1 : 0)
	DATASET_NCOLS = 0 FEATURE_LIST(X)
#undef X
};

/* Training rows of one station: features, target and what converts predictions back. */
typedef struct Dataset
{
	int			n;
	MlMatrix   *X;
	double	   *target;			/* passengers */
	double	   *level;			/* level28 at the cutoff */
	double	   *naive;			/* same time last week (lag 7k >= horizon) */
	int32	   *day;
	Size		bytes;
} Dataset;

extern const char *DatasetColumnName(int col);
extern int	DatasetColumnOf(int fcol);
extern void DatasetRow(const Datum *v, const bool *n, float *out);
extern int	DatasetNaiveColumn(int64 horizon_days);
extern double DatasetNaive(const Datum *v, const bool *n, int naive_col);
extern Dataset *DatasetBuild(const char *station, const char *line, int32 first, int32 last,
							 int64 H);

#endif							/* SEONGSU_DATASET_H */
