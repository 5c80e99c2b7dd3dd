/*
 * binning.c — quantile bins and bin codes of the training rows.
 */
#include <math.h>
#include <string.h>

#include "../alloc.h"
#include "binning.h"

#define RADIX_BITS 11
#define RADIX_SIZE (1 << RADIX_BITS)

/* Map a float's bits to an unsigned key with the same order (no NaN). */
static inline uint32_t
FloatKey(float f)
{
	uint32_t	u;

	memcpy(&u, &f, sizeof(u));
	return (u & UINT32_C(0x80000000)) ? ~u : (u | UINT32_C(0x80000000));
}

/* Inverse of FloatKey. */
static inline float
KeyFloat(uint32_t k)
{
	uint32_t	u = (k & UINT32_C(0x80000000)) ? (k & UINT32_C(0x7FFFFFFF)) : ~k;
	float		f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* Sort the n keys in a (from FloatKey) into out as floats; LSD radix sort
 * in 3 passes, using b as scratch (a is clobbered). */
static void
SortKeys(uint32_t *a, uint32_t *b, int n, float *out)
{
	int			count[RADIX_SIZE];
	int			pass;
	int			i;

	for (pass = 0; pass < 3; pass++)
	{
		int			shift = pass * RADIX_BITS;
		int			sum = 0;
		uint32_t   *t;

		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(a[i] >> shift) & (RADIX_SIZE - 1)]++;
		for (i = 0; i < RADIX_SIZE; i++)
		{
			int			c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			b[count[(a[i] >> shift) & (RADIX_SIZE - 1)]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (i = 0; i < n; i++)
		out[i] = KeyFloat(a[i]);
}

/* A cut between neighbouring distinct values lo < hi: their midpoint as a
 * float, or lo when the midpoint rounds up to hi. */
static float
CutBetween(float lo, float hi)
{
	float		mid = (float) ((double) lo * 0.5 + (double) hi * 0.5);

	return (mid < hi && mid >= lo) ? mid : lo;
}

/* Cuts of the sorted values v[0..n): at most max_bins bins of about equal
 * counts, a cut after every distinct value if there are few enough. */
static int
ComputeCuts(const float *v, int n, int max_bins, float *cuts)
{
	int			distinct = 0;
	int			ncuts = 0;
	int			bins_left = max_bins;
	double		in_bin = 0;
	double		after = n;
	int			i;

	for (i = 0; i < n; i++)
		if (i == 0 || v[i] != v[i - 1])
			distinct++;
	for (i = 0; i < n;)
	{
		int			j = i + 1;

		while (j < n && v[j] == v[i])
			j++;
		in_bin += j - i;
		after -= j - i;
		if (j < n && ncuts < max_bins - 1 &&
			(distinct <= max_bins || in_bin * bins_left >= in_bin + after))
		{
			cuts[ncuts++] = CutBetween(v[i], v[j]);
			bins_left--;
			in_bin = 0;
		}
		i = j;
	}
	return ncuts;
}

/* Code of value x among ncuts increasing cuts: 0 for NaN, else 1 + the
 * number of cuts below x. */
static inline uint8_t
BinCode(float x, const float *cuts, int ncuts)
{
	int			lo = 0;
	int			hi = ncuts;

	if (isnan(x))
		return 0;
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (cuts[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint8_t) (lo + 1);
}

/* Bin the first nrows rows of every column of X into at most max_bins bins. */
MlBinned *
MlBinnedBuild(const MlMatrix *X, int nrows, int max_bins)
{
	MlBinned   *b = SsAlloc0(sizeof(MlBinned));
	float	   *sorted = SsAlloc(((size_t) nrows + 1) * sizeof(float));
	uint32_t   *keys = SsAlloc(((size_t) nrows + 1) * sizeof(uint32_t));
	uint32_t   *tmp = SsAlloc(((size_t) nrows + 1) * sizeof(uint32_t));
	float		colcuts[ML_MAX_BINS];
	int			ncuts_total = 0;
	int			j;

	b->nrows = nrows;
	b->ncols = X->ncols;
	b->codes = SsAlloc((size_t) nrows * (size_t) X->ncols + 1);
	b->nbins = SsAlloc0(((size_t) X->ncols + 1) * sizeof(int));
	b->cut_start = SsAlloc0(((size_t) X->ncols + 1) * sizeof(int));
	b->hist_start = SsAlloc0(((size_t) X->ncols + 1) * sizeof(int));
	b->cuts = SsAlloc(((size_t) X->ncols * (ML_MAX_BINS - 1) + 1) * sizeof(float));
	for (j = 0; j < X->ncols; j++)
	{
		const float *col = MlMatrixColumn(X, j);
		uint8_t    *codes = b->codes + (size_t) j * nrows;
		int			m = 0;
		int			ncuts;
		int			i;

		SsCheckInterrupts();
		for (i = 0; i < nrows; i++)
			if (!isnan(col[i]))
				keys[m++] = FloatKey(col[i]);
		SortKeys(keys, tmp, m, sorted);
		ncuts = ComputeCuts(sorted, m, max_bins, colcuts);
		b->nbins[j] = m > 0 ? ncuts + 1 : 0;
		b->cut_start[j] = ncuts_total;
		memcpy(b->cuts + ncuts_total, colcuts, (size_t) ncuts * sizeof(float));
		ncuts_total += ncuts;
		b->hist_start[j] = b->hist_size;
		b->hist_size += b->nbins[j] + 1;
		for (i = 0; i < nrows; i++)
			codes[i] = BinCode(col[i], colcuts, ncuts);
	}
	SsFree(sorted);
	SsFree(keys);
	SsFree(tmp);
	return b;
}

/* Free binned data. */
void
MlBinnedFree(MlBinned *b)
{
	SsFree(b->codes);
	SsFree(b->nbins);
	SsFree(b->cuts);
	SsFree(b->cut_start);
	SsFree(b->hist_start);
	SsFree(b);
}
