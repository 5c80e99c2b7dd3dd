/*
 * tree.c — growing regression trees on binned features, and walking them.
 *
 * Growth works on per-node gradient/hessian histograms.  After a split only
 * the child with fewer rows gets a histogram built from its rows; the other
 * one is the parent's histogram minus it (histogram subtraction), computed in
 * the parent's buffer.  When features are sampled per split (random forest)
 * each child builds the histogram of its own sample instead.  Random
 * splits (extremely randomized trees) need no histogram: each is found
 * from the node's rows, so small nodes stay cheap.  Trees grow
 * depth-first (at most max_depth + 1 histograms alive) or, with max_leaves,
 * best-first (the open leaf with the highest gain splits next).
 */
#include <math.h>
#include <string.h>

#include "../alloc.h"
#include "tree.h"

/* Smallest hessian sum a child may have, whatever min_child_weight says. */
#define MIN_HESS 1e-6
/* A split must gain more than this fraction of its children's score. */
#define GAIN_EPS 1e-10
/* Missing values count as absent below this fraction of the node's hessian. */
#define MISSING_EPS 1e-9
/* Features with at most this many bins get partial histograms. */
#define SMALL_BINS 32

typedef struct MlBin
{
	double		g;
	double		h;
} MlBin;

typedef struct MlSplit
{
	double		gain;			/* 0 when there is no valid split */
	int			feature;		/* -1 when there is no valid split */
	int			bin;			/* value bins 1..bin go left */
	int			default_left;
	double		gl;				/* gradient and hessian sums going left */
	double		hl;
} MlSplit;

typedef struct MlLeaf
{
	int			begin;			/* the leaf's rows: rows[begin .. end) */
	int			end;
	int			depth;
	int			node;
	double		g;
	double		h;
	MlBin	   *hist;			/* owned histogram (subtraction mode only) */
	MlSplit		split;
} MlLeaf;

struct MlGrower
{
	const MlBinned *bins;
	int32_t    *scratch;		/* partition buffer */
	MlBin	   *ordered;		/* gradients of a leaf's rows, in row order */
	MlBin	  **pool;			/* free histograms */
	int			npool;
	int			maxpool;
	MlLeaf	   *open;			/* leaves that can still split */
	int			nopen;
	MlBin	   *node_hist;		/* histogram of a per-split feature sample */
	int		   *node_feats;		/* that sample */
	int		   *perm;			/* scratch for sampling */
	/* the tree being grown */
	MlTree	   *tree;
	int			capacity;
	const MlGrowParams *gp;
	double		min_hess;
	int32_t    *rows;
	const double *grad;
	const double *hess;
	const int  *features;
	int			nfeatures;
	MlRng	   *rng;
	double	   *row_out;
};

/* Work space for growing trees on bins; max_leaves bounds open leaves. */
MlGrower *
MlGrowerCreate(const MlBinned *bins, int max_leaves)
{
	MlGrower   *g = SsAlloc0(sizeof(MlGrower));
	size_t		n = (size_t) bins->nrows + 1;

	g->bins = bins;
	g->scratch = SsAlloc(n * sizeof(int32_t));
	g->ordered = SsAlloc(n * sizeof(MlBin));
	/*
	 * Open leaves, and so live histograms, number at most max_depth + 1
	 * (<= 33) when growing depth-first, at most max_leaves otherwise.
	 */
	g->maxpool = 40 + max_leaves;
	g->pool = SsAlloc0((size_t) g->maxpool * sizeof(MlBin *));
	g->open = SsAlloc((size_t) g->maxpool * sizeof(MlLeaf));
	g->node_hist = SsAlloc(((size_t) bins->hist_size + 1) * sizeof(MlBin));
	g->node_feats = SsAlloc(((size_t) bins->ncols + 1) * sizeof(int));
	g->perm = SsAlloc(((size_t) bins->ncols + 1) * sizeof(int));
	return g;
}

/* Free a grower and its histograms. */
void
MlGrowerFree(MlGrower *g)
{
	int			i;

	for (i = 0; i < g->npool; i++)
		SsFree(g->pool[i]);
	SsFree(g->pool);
	SsFree(g->scratch);
	SsFree(g->ordered);
	SsFree(g->open);
	SsFree(g->node_hist);
	SsFree(g->node_feats);
	SsFree(g->perm);
	SsFree(g);
}

/* Take a histogram from the pool (contents undefined). */
static MlBin *
HistGet(MlGrower *g)
{
	if (g->npool > 0)
		return g->pool[--g->npool];
	return SsAlloc(((size_t) g->bins->hist_size + 1) * sizeof(MlBin));
}

/* Return a histogram to the pool; NULL is allowed. */
static void
HistPut(MlGrower *g, MlBin *hist)
{
	if (hist == NULL)
		return;
	if (g->npool < g->maxpool)
		g->pool[g->npool++] = hist;
	else
		SsFree(hist);
}

/*
 * Histogram of one feature with few bins (nb <= SMALL_BINS) into hf: rows
 * in a row often share a bin, so four partial histograms break the chain of
 * dependent additions.
 */
static void
AccumulateSmall(const uint8_t *col, const int32_t *rows, const MlBin *ordered,
				int n, int nb, MlBin *hf)
{
	MlBin		part[4][SMALL_BINS + 1];
	int			k;
	int			b;

	memset(part, 0, sizeof(part));
	for (k = 0; k + 4 <= n; k += 4)
	{
		MlBin	   *b0 = &part[0][col[rows[k]]];
		MlBin	   *b1 = &part[1][col[rows[k + 1]]];
		MlBin	   *b2 = &part[2][col[rows[k + 2]]];
		MlBin	   *b3 = &part[3][col[rows[k + 3]]];

		b0->g += ordered[k].g;
		b0->h += ordered[k].h;
		b1->g += ordered[k + 1].g;
		b1->h += ordered[k + 1].h;
		b2->g += ordered[k + 2].g;
		b2->h += ordered[k + 2].h;
		b3->g += ordered[k + 3].g;
		b3->h += ordered[k + 3].h;
	}
	for (; k < n; k++)
	{
		part[0][col[rows[k]]].g += ordered[k].g;
		part[0][col[rows[k]]].h += ordered[k].h;
	}
	for (b = 0; b <= nb; b++)
	{
		hf[b].g = part[0][b].g + part[1][b].g + part[2][b].g + part[3][b].g;
		hf[b].h = part[0][b].h + part[1][b].h + part[2][b].h + part[3][b].h;
	}
}

/* Histograms of features feats over the rows of leaf, into hist. */
static void
BuildHist(MlGrower *g, const MlLeaf *leaf, const int *feats, int nfeats,
		  MlBin *hist)
{
	const MlBinned *bins = g->bins;
	const int32_t *rows = g->rows + leaf->begin;
	int			n = leaf->end - leaf->begin;
	MlBin	   *ordered = g->ordered;
	int			i;
	int			k;

	for (k = 0; k < n; k++)
	{
		ordered[k].g = g->grad[rows[k]];
		ordered[k].h = g->hess[rows[k]];
	}
	for (i = 0; i < nfeats; i++)
	{
		int			f = feats[i];
		int			nb = bins->nbins[f];
		const uint8_t *col = bins->codes + (size_t) f * bins->nrows;
		MlBin	   *hf = hist + bins->hist_start[f];

		if (nb <= SMALL_BINS)
		{
			AccumulateSmall(col, rows, ordered, n, nb, hf);
			continue;
		}
		memset(hf, 0, ((size_t) nb + 1) * sizeof(MlBin));
		for (k = 0; k < n; k++)
		{
			MlBin	   *b = &hf[col[rows[k]]];

			b->g += ordered[k].g;
			b->h += ordered[k].h;
		}
	}
}

/* big -= small over the histograms of features feats. */
static void
SubtractHist(const MlGrower *g, MlBin *big, const MlBin *small,
			 const int *feats, int nfeats)
{
	int			i;

	for (i = 0; i < nfeats; i++)
	{
		int			start = g->bins->hist_start[feats[i]];
		int			end = start + g->bins->nbins[feats[i]] + 1;
		int			k;

		for (k = start; k < end; k++)
		{
			big[k].g -= small[k].g;
			big[k].h -= small[k].h;
		}
	}
}

/* Score G^2 / (H + lambda) of a node with sums gs, hs. */
static inline double
Score(double gs, double hs, double lambda)
{
	return gs * gs / (hs + lambda);
}

/* Consider sending (gl, hl) left; keep it in best if it beats best. */
static inline void
TrySplit(const MlGrower *g, const MlLeaf *leaf, double parent, double gl,
		 double hl, int feature, int bin, int default_left, MlSplit *best)
{
	double		gr = leaf->g - gl;
	double		hr = leaf->h - hl;
	double		dl = hl + g->gp->lambda;
	double		dr = hr + g->gp->lambda;
	double		children;
	double		gain;

	if (hl < g->min_hess || hr < g->min_hess)
		return;
	/* gl^2 / dl + gr^2 / dr with one division */
	children = (gl * gl * dr + gr * gr * dl) / (dl * dr);
	gain = children - parent;
	if (gain > best->gain && gain > g->gp->gamma && gain > GAIN_EPS * children)
	{
		best->gain = gain;
		best->feature = feature;
		best->bin = bin;
		best->default_left = default_left;
		best->gl = gl;
		best->hl = hl;
	}
}

/*
 * Consider bins 1..bin of feature f going left (sums gl, hl): with missing
 * values (sums gm, hm) on either side when the node has any, else missing
 * values follow the heavier side.
 */
static inline void
TrySides(const MlGrower *g, const MlLeaf *leaf, double parent, double gl,
		 double hl, double gm, double hm, int missing, int f, int bin,
		 MlSplit *best)
{
	if (missing)
	{
		TrySplit(g, leaf, parent, gl, hl, f, bin, 0, best);
		TrySplit(g, leaf, parent, gl + gm, hl + hm, f, bin, 1, best);
	}
	else
		TrySplit(g, leaf, parent, gl, hl, f, bin, hl >= leaf->h - hl, best);
}

/* Best split of leaf over features feats, from its histogram. */
static void
FindSplit(const MlGrower *g, MlLeaf *leaf, const MlBin *hist,
		  const int *feats, int nfeats)
{
	double		parent = Score(leaf->g, leaf->h, g->gp->lambda);
	MlSplit    *best = &leaf->split;
	int			i;

	best->gain = 0;
	best->feature = -1;
	for (i = 0; i < nfeats; i++)
	{
		int			f = feats[i];
		const MlBin *hf = hist + g->bins->hist_start[f];
		int			nb = g->bins->nbins[f];
		double		gm = hf[0].g;
		double		hm = hf[0].h;
		int			missing = fabs(hm) > MISSING_EPS * fabs(leaf->h);
		double		gl = 0;
		double		hl = 0;
		int			k;

		for (k = 1; k < nb; k++)
		{
			/*
			 * An empty bin splits the rows as the bin before it did; only
			 * the first one is tried (missing values alone to the left).
			 */
			if (hf[k].h == 0 && k > 1)
				continue;
			gl += hf[k].g;
			hl += hf[k].h;
			TrySides(g, leaf, parent, gl, hl, gm, hm, missing, f, k, best);
		}
	}
}

/*
 * The split of leaf with one random threshold per feature of feats
 * (extremely randomized trees), straight from its rows: no histogram, so a
 * small node costs its rows, not the bins.  For each feature, bins 1..k go
 * left, k drawn uniformly from the boundaries between the lowest and the
 * highest bin the node's rows occupy; the best of these splits is kept.
 */
static void
FindRandomSplit(const MlGrower *g, MlLeaf *leaf, const int *feats, int nfeats)
{
	const int32_t *rows = g->rows + leaf->begin;
	int			n = leaf->end - leaf->begin;
	double		parent = Score(leaf->g, leaf->h, g->gp->lambda);
	MlSplit    *best = &leaf->split;
	int			i;

	best->gain = 0;
	best->feature = -1;
	for (i = 0; i < nfeats; i++)
	{
		int			f = feats[i];
		const uint8_t *col = g->bins->codes + (size_t) f * g->bins->nrows;
		int			lo = ML_MAX_BINS + 1;
		int			hi = 0;
		double		gm = 0;
		double		hm = 0;
		double		gl = 0;
		double		hl = 0;
		int			bin;
		int			k;

		for (k = 0; k < n; k++)
		{
			int32_t		r = rows[k];
			int			c = col[r];

			if (c == 0)
			{
				gm += g->grad[r];
				hm += g->hess[r];
			}
			else if (g->hess[r] != 0)
			{
				lo = c < lo ? c : lo;
				hi = c > hi ? c : hi;
			}
		}
		if (hi <= lo)
			continue;
		bin = lo + (int) MlRngBelow(g->rng, (uint32_t) (hi - lo));
		for (k = 0; k < n; k++)
		{
			int32_t		r = rows[k];
			int			c = col[r];

			if (c != 0 && c <= bin)
			{
				gl += g->grad[r];
				hl += g->hess[r];
			}
		}
		TrySides(g, leaf, parent, gl, hl, gm, hm,
				 fabs(hm) > MISSING_EPS * fabs(leaf->h), f, bin, best);
	}
}

/* Output of a node with sums gs, hs. */
static double
LeafValue(const MlGrowParams *gp, double gs, double hs)
{
	double		w = hs + gp->lambda > 0 ? -gs / (hs + gp->lambda) : 0;

	if (gp->max_delta_step > 0)
	{
		if (w > gp->max_delta_step)
			w = gp->max_delta_step;
		else if (w < -gp->max_delta_step)
			w = -gp->max_delta_step;
	}
	return w * gp->shrinkage;
}

/* Append a leaf node for sums gs, hs; returns its index. */
static int
AddNode(MlGrower *g, double gs, double hs)
{
	MlTree	   *t = g->tree;
	MlNode	   *node;

	if (t->nnodes == g->capacity)
	{
		g->capacity *= 2;
		t->nodes = SsRealloc(t->nodes, (size_t) g->capacity * sizeof(MlNode));
	}
	node = &t->nodes[t->nnodes];
	memset(node, 0, sizeof(MlNode));
	node->feature = -1;
	node->value = LeafValue(g->gp, gs, hs);
	node->cover = hs;
	return t->nnodes++;
}

/* Whether leaf may be split at all (before looking at its histogram). */
static int
CanSplit(const MlGrower *g, const MlLeaf *leaf)
{
	return leaf->depth < g->gp->max_depth &&
		leaf->end - leaf->begin >= 2 &&
		leaf->h >= 2 * g->min_hess &&
		g->nfeatures > 0;
}

/* Sample the features one split of a random forest may use. */
static void
SampleNodeFeatures(MlGrower *g)
{
	int			n = g->nfeatures;
	int			m = g->gp->node_features;
	int			i;

	memcpy(g->perm, g->features, (size_t) n * sizeof(int));
	for (i = 0; i < m; i++)
	{
		int			j = i + (int) MlRngBelow(g->rng, (uint32_t) (n - i));
		int			t = g->perm[i];

		g->perm[i] = g->perm[j];
		g->perm[j] = t;
	}
	/* insertion sort keeps histogram access in feature order */
	for (i = 0; i < m; i++)
	{
		int			v = g->perm[i];
		int			j = i;

		while (j > 0 && g->node_feats[j - 1] > v)
		{
			g->node_feats[j] = g->node_feats[j - 1];
			j--;
		}
		g->node_feats[j] = v;
	}
}

/* Find a sampled-feature split of leaf from a fresh histogram. */
static void
PrepareSampled(MlGrower *g, MlLeaf *leaf)
{
	leaf->hist = NULL;
	leaf->split.feature = -1;
	if (!CanSplit(g, leaf))
		return;
	SampleNodeFeatures(g);
	BuildHist(g, leaf, g->node_feats, g->gp->node_features, g->node_hist);
	FindSplit(g, leaf, g->node_hist, g->node_feats, g->gp->node_features);
}

/* Find the random split of leaf (over a fresh feature sample when sampling). */
static void
PrepareRandom(MlGrower *g, MlLeaf *leaf)
{
	leaf->hist = NULL;
	leaf->split.feature = -1;
	if (!CanSplit(g, leaf))
		return;
	if (g->gp->node_features > 0)
	{
		SampleNodeFeatures(g);
		FindRandomSplit(g, leaf, g->node_feats, g->gp->node_features);
	}
	else
		FindRandomSplit(g, leaf, g->features, g->nfeatures);
}

/* Make leaf final: report its value for its rows, release its histogram. */
static void
FinishLeaf(MlGrower *g, MlLeaf *leaf)
{
	if (g->row_out != NULL)
	{
		double		value = g->tree->nodes[leaf->node].value;
		int			k;

		for (k = leaf->begin; k < leaf->end; k++)
			g->row_out[g->rows[k]] = value;
	}
	HistPut(g, leaf->hist);
	leaf->hist = NULL;
}

/* Keep leaf open if it has a split, else finish it. */
static void
Offer(MlGrower *g, MlLeaf *leaf)
{
	if (leaf->split.feature >= 0)
		g->open[g->nopen++] = *leaf;
	else
		FinishLeaf(g, leaf);
}

/* Stable partition of leaf's rows by its split; returns the first right row. */
static int
Partition(MlGrower *g, const MlLeaf *leaf)
{
	const MlSplit *s = &leaf->split;
	const uint8_t *col = g->bins->codes + (size_t) s->feature * g->bins->nrows;
	int32_t    *rows = g->rows;
	int			nl = leaf->begin;
	int			nr = 0;
	int			k;

	/* branch-free: the side of a row is not predictable */
	for (k = leaf->begin; k < leaf->end; k++)
	{
		int32_t		r = rows[k];
		int			c = col[r];
		int			left = c == 0 ? s->default_left : c <= s->bin;

		rows[nl] = r;
		g->scratch[nr] = r;
		nl += left;
		nr += 1 - left;
	}
	memcpy(rows + nl, g->scratch, (size_t) nr * sizeof(int32_t));
	return nl;
}

/* Split an open leaf into two children and offer them. */
static void
SplitLeaf(MlGrower *g, MlLeaf *leaf)
{
	const MlSplit *s = &leaf->split;
	int			mid = Partition(g, leaf);
	int			lnode = AddNode(g, s->gl, s->hl);
	int			rnode = AddNode(g, leaf->g - s->gl, leaf->h - s->hl);
	MlNode	   *node = &g->tree->nodes[leaf->node];
	MlLeaf		l;
	MlLeaf		r;

	node->feature = s->feature;
	node->threshold = g->bins->cuts[g->bins->cut_start[s->feature] + s->bin - 1];
	node->default_left = (uint8_t) s->default_left;
	node->left = lnode;
	node->right = rnode;
	node->gain = s->gain;

	memset(&l, 0, sizeof(l));
	memset(&r, 0, sizeof(r));
	l.begin = leaf->begin;
	l.end = mid;
	r.begin = mid;
	r.end = leaf->end;
	l.depth = r.depth = leaf->depth + 1;
	l.node = lnode;
	r.node = rnode;
	l.g = s->gl;
	l.h = s->hl;
	r.g = leaf->g - s->gl;
	r.h = leaf->h - s->hl;
	l.split.feature = r.split.feature = -1;

	if (g->gp->random_splits)
	{
		PrepareRandom(g, &l);
		PrepareRandom(g, &r);
	}
	else if (g->gp->node_features > 0)
	{
		PrepareSampled(g, &l);
		PrepareSampled(g, &r);
	}
	else if (CanSplit(g, &l) || CanSplit(g, &r))
	{
		MlLeaf	   *small = (mid - l.begin <= r.end - mid) ? &l : &r;
		MlLeaf	   *big = small == &l ? &r : &l;

		small->hist = HistGet(g);
		BuildHist(g, small, g->features, g->nfeatures, small->hist);
		big->hist = leaf->hist;
		leaf->hist = NULL;
		SubtractHist(g, big->hist, small->hist, g->features, g->nfeatures);
		if (CanSplit(g, &l))
			FindSplit(g, &l, l.hist, g->features, g->nfeatures);
		if (CanSplit(g, &r))
			FindSplit(g, &r, r.hist, g->features, g->nfeatures);
	}
	HistPut(g, leaf->hist);
	leaf->hist = NULL;
	Offer(g, &l);
	Offer(g, &r);
}

/* Index of the open leaf to split next. */
static int
NextLeaf(const MlGrower *g)
{
	int			best = g->nopen - 1;
	int			i;

	if (g->gp->max_leaves == 0)
		return best;
	for (i = 0; i < g->nopen; i++)
	{
		const MlLeaf *a = &g->open[i];
		const MlLeaf *b = &g->open[best];

		if (a->split.gain > b->split.gain ||
			(a->split.gain == b->split.gain && a->node < b->node))
			best = i;
	}
	return best;
}

/*
 * Grow one tree into *tree from the rows rows[0..nrows) (reordered in
 * place), gradients grad and hessians hess (indexed by row), using features
 * features[0..nfeatures) (increasing, each with at least two bins).  When
 * row_out is not NULL, row_out[r] receives the leaf value of every row r.
 */
void
MlTreeGrow(MlGrower *g, MlTree *tree, const MlGrowParams *gp, int32_t *rows,
		   int nrows, const double *grad, const double *hess,
		   const int *features, int nfeatures, MlRng *rng, double *row_out)
{
	MlLeaf		root;
	int			nleaves = 1;
	int			k;

	g->tree = tree;
	g->capacity = 16;
	g->gp = gp;
	g->min_hess = gp->min_child_weight > MIN_HESS ? gp->min_child_weight : MIN_HESS;
	g->rows = rows;
	g->grad = grad;
	g->hess = hess;
	g->features = features;
	g->nfeatures = nfeatures;
	g->rng = rng;
	g->row_out = row_out;
	g->nopen = 0;
	tree->nnodes = 0;
	tree->nodes = SsAlloc((size_t) g->capacity * sizeof(MlNode));

	memset(&root, 0, sizeof(root));
	root.end = nrows;
	for (k = 0; k < nrows; k++)
	{
		root.g += grad[rows[k]];
		root.h += hess[rows[k]];
	}
	root.node = AddNode(g, root.g, root.h);
	root.split.feature = -1;
	if (gp->random_splits)
		PrepareRandom(g, &root);
	else if (gp->node_features > 0)
		PrepareSampled(g, &root);
	else if (CanSplit(g, &root))
	{
		root.hist = HistGet(g);
		BuildHist(g, &root, features, nfeatures, root.hist);
		FindSplit(g, &root, root.hist, features, nfeatures);
	}
	Offer(g, &root);

	while (g->nopen > 0 && (gp->max_leaves == 0 || nleaves < gp->max_leaves))
	{
		int			i = NextLeaf(g);
		MlLeaf		leaf = g->open[i];

		g->open[i] = g->open[--g->nopen];
		SplitLeaf(g, &leaf);
		nleaves++;
	}
	while (g->nopen > 0)
		FinishLeaf(g, &g->open[--g->nopen]);
	tree->nodes = SsRealloc(tree->nodes, (size_t) tree->nnodes * sizeof(MlNode));
}

/* Value of the leaf that row x reaches; feature f of the row is x[f * stride]. */
double
MlTreePredict(const MlTree *tree, const float *x, size_t stride)
{
	const MlNode *nodes = tree->nodes;
	const MlNode *n = nodes;

	while (n->feature >= 0)
	{
		float		v = x[(size_t) n->feature * stride];

		if (isnan(v))
			n = nodes + (n->default_left ? n->left : n->right);
		else
			n = nodes + (v <= n->threshold ? n->left : n->right);
	}
	return n->value;
}

/* Add each split's gain to importance[feature]. */
void
MlTreeAddImportances(const MlTree *tree, double *importance)
{
	int			i;

	for (i = 0; i < tree->nnodes; i++)
		if (tree->nodes[i].feature >= 0)
			importance[tree->nodes[i].feature] += tree->nodes[i].gain;
}

/* Free a tree's nodes (not the MlTree itself). */
void
MlTreeFree(MlTree *tree)
{
	SsFree(tree->nodes);
	tree->nodes = NULL;
	tree->nnodes = 0;
}
