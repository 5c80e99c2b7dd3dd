/*
 * matrix.c — MlMatrix construction, naming, row access and slicing.
 */
#include <math.h>
#include <string.h>

#include "../alloc.h"
#include "matrix.h"

/* A new nrows x ncols matrix with every value missing (NaN) and no names. */
MlMatrix *
MlMatrixCreate(int nrows, int ncols)
{
	MlMatrix   *m = SsAlloc0(sizeof(MlMatrix));
	size_t		n = (size_t) nrows * (size_t) ncols;
	size_t		i;

	m->nrows = nrows;
	m->ncols = ncols;
	m->data = SsAlloc(n * sizeof(float));
	for (i = 0; i < n; i++)
		m->data[i] = NAN;
	m->colnames = SsAlloc0((size_t) ncols * sizeof(char *));
	return m;
}

/* Free a matrix, its data and its names; NULL is allowed. */
void
MlMatrixFree(MlMatrix *m)
{
	int			j;

	if (m == NULL)
		return;
	for (j = 0; j < m->ncols; j++)
		SsFree(m->colnames[j]);
	SsFree(m->colnames);
	SsFree(m->data);
	SsFree(m);
}

/* Name column col (the name is copied; NULL removes the name). */
void
MlMatrixSetColName(MlMatrix *m, int col, const char *name)
{
	SsFree(m->colnames[col]);
	m->colnames[col] = NULL;
	if (name != NULL)
	{
		size_t		len = strlen(name);

		m->colnames[col] = SsAlloc(len + 1);
		memcpy(m->colnames[col], name, len + 1);
	}
}

/* Index of the first column named name, or -1. */
int
MlMatrixFindCol(const MlMatrix *m, const char *name)
{
	int			j;

	for (j = 0; j < m->ncols; j++)
		if (m->colnames[j] != NULL && strcmp(m->colnames[j], name) == 0)
			return j;
	return -1;
}

/* Copy row `row` into out[0 .. ncols-1] (the layout MlModelPredict takes). */
void
MlMatrixGetRow(const MlMatrix *m, int row, float *out)
{
	int			j;

	for (j = 0; j < m->ncols; j++)
		out[j] = MlMatrixGet(m, row, j);
}

/* A new matrix holding rows [from, to) of m, with the same column names. */
MlMatrix *
MlMatrixSliceRows(const MlMatrix *m, int from, int to)
{
	MlMatrix   *s = MlMatrixCreate(to - from, m->ncols);
	int			j;

	for (j = 0; j < m->ncols; j++)
	{
		memcpy(MlMatrixColumn(s, j), MlMatrixColumn(m, j) + from,
			   (size_t) (to - from) * sizeof(float));
		MlMatrixSetColName(s, j, m->colnames[j]);
	}
	return s;
}

/* A target vector of n values, all missing (NaN). */
double *
MlTargetCreate(int n)
{
	double	   *y = SsAlloc((size_t) n * sizeof(double));
	int			i;

	for (i = 0; i < n; i++)
		y[i] = NAN;
	return y;
}
