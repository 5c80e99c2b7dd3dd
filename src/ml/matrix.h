/*
 * matrix.h — the dataset every model trains on and predicts from.
 *
 * An MlMatrix holds nrows x ncols float features in column-major order (one
 * feature column after another), NaN meaning missing, plus optional column
 * names.  Targets are plain double arrays of nrows values.  Memory comes from
 * SsAlloc (alloc.h); pure C, no PostgreSQL calls.
 */
#ifndef SEONGSU_ML_MATRIX_H
#define SEONGSU_ML_MATRIX_H

#include <stddef.h>

typedef struct MlMatrix
{
	int			nrows;
	int			ncols;
	float	   *data;			/* data[(size_t) col * nrows + row] */
	char	  **colnames;		/* ncols entries, each NULL until named */
} MlMatrix;

/* Address of column col (nrows contiguous floats). */
static inline float *
MlMatrixColumn(const MlMatrix *m, int col)
{
	return m->data + (size_t) col * m->nrows;
}

/* Value at (row, col); NaN when missing. */
static inline float
MlMatrixGet(const MlMatrix *m, int row, int col)
{
	return m->data[(size_t) col * m->nrows + row];
}

/* Store a value at (row, col); NaN marks it missing. */
static inline void
MlMatrixSet(MlMatrix *m, int row, int col, float value)
{
	m->data[(size_t) col * m->nrows + row] = value;
}

extern MlMatrix *MlMatrixCreate(int nrows, int ncols);
extern void MlMatrixFree(MlMatrix *m);
extern void MlMatrixSetColName(MlMatrix *m, int col, const char *name);
extern int	MlMatrixFindCol(const MlMatrix *m, const char *name);
extern void MlMatrixGetRow(const MlMatrix *m, int row, float *out);
extern MlMatrix *MlMatrixSliceRows(const MlMatrix *m, int from, int to);
extern double *MlTargetCreate(int n);

#endif							/* SEONGSU_ML_MATRIX_H */
