/*
 * model_image.c — a model laid out in one flat, position-independent block
 * of memory (offsets, no pointers), for the shared model cache.
 *
 * An image is written from a model that was read and checked by
 * MlModelDeserialize; a view of it is a model whose arrays point into the
 * image, so any number of processes can predict from one copy.  Images are
 * produced and read only by this code, in memory: they are not a storage
 * format (that is model_io.c, with its checksum).  Feature names are not
 * kept (prediction does not use them).  An ensemble's image holds its
 * weights, its class scale and its members' own images, one after
 * another.
 */
#include <string.h>

#include "../alloc.h"
#include "model_impl.h"

#define IMAGE_MAGIC 0x4D495353u	/* "SSIM" */

/* The fixed start of an image; every offset is from the image's first byte. */
typedef struct ImageHead
{
	uint32_t	magic;
	int32_t		algorithm;
	int32_t		nfeatures;
	int32_t		ntrees;
	int32_t		loss;
	int32_t		nmembers;		/* ensemble: members */
	double		intercept;
	double		base_score;
	uint64_t	off_coef;		/* ridge: coef, fill, scale (nfeatures each) */
	uint64_t	off_fill;
	uint64_t	off_scale;
	uint64_t	off_gain;		/* trees: split gain per feature */
	uint64_t	off_trees;		/* trees: ntrees ImageTree */
	uint64_t	off_weights;	/* ensemble: nmembers weights */
	uint64_t	off_members;	/* ensemble: nmembers offsets of member images */
	MlClassScale class_scale;	/* ensemble: its class scale */
} ImageHead;

/* Where one tree's nodes are. */
typedef struct ImageTree
{
	int64_t		nnodes;
	uint64_t	off_nodes;
} ImageTree;

/* n rounded up to a multiple of 8. */
static size_t
Align8(size_t n)
{
	return (n + 7) & ~(size_t) 7;
}

/* Lay out the image of model: fill head's offsets, return the total size. */
static size_t
Layout(const MlModel *model, ImageHead *head)
{
	size_t		at = Align8(sizeof(ImageHead));
	size_t		fbytes = Align8((size_t) model->nfeatures * sizeof(double));
	int			t;

	memset(head, 0, sizeof(*head));
	head->magic = IMAGE_MAGIC;
	head->algorithm = (int32_t) model->algorithm;
	head->nfeatures = model->nfeatures;
	head->ntrees = model->ntrees;
	head->loss = (int32_t) model->loss;
	head->intercept = model->intercept;
	head->base_score = model->base_score;
	head->class_scale = model->class_scale;
	if (model->coef)
	{
		head->off_coef = at;
		head->off_fill = at + fbytes;
		head->off_scale = at + 2 * fbytes;
		at += 3 * fbytes;
	}
	if (model->split_gain)
	{
		head->off_gain = at;
		at += fbytes;
	}
	if (model->ntrees > 0)
	{
		head->off_trees = at;
		at += Align8((size_t) model->ntrees * sizeof(ImageTree));
		for (t = 0; t < model->ntrees; t++)
			at += Align8((size_t) model->trees[t].nnodes * sizeof(MlNode));
	}
	if (model->nmembers > 0)
	{
		head->nmembers = model->nmembers;
		head->off_weights = at;
		at += Align8((size_t) model->nmembers * sizeof(double));
		head->off_members = at;
		at += Align8((size_t) model->nmembers * sizeof(uint64_t));
		for (t = 0; t < model->nmembers; t++)
			at += Align8(MlModelImageSize(model->members[t]));
	}
	return at;
}

/* Bytes the image of model takes. */
size_t
MlModelImageSize(const MlModel *model)
{
	ImageHead	head;

	return Layout(model, &head);
}

/* Write the image of model into dst (MlModelImageSize bytes, 8-byte aligned). */
void
MlModelImageWrite(const MlModel *model, void *dst)
{
	uint8_t    *base = dst;
	ImageHead	head;
	size_t		size = Layout(model, &head);
	size_t		fsize = (size_t) model->nfeatures * sizeof(double);
	size_t		at;
	int			t;

	memset(base, 0, size);
	memcpy(base, &head, sizeof(head));
	if (model->coef)
	{
		memcpy(base + head.off_coef, model->coef, fsize);
		memcpy(base + head.off_fill, model->fill, fsize);
		memcpy(base + head.off_scale, model->scale, fsize);
	}
	if (model->split_gain)
		memcpy(base + head.off_gain, model->split_gain, fsize);
	if (model->ntrees > 0)
	{
		ImageTree  *trees = (ImageTree *) (base + head.off_trees);

		at = head.off_trees + Align8((size_t) model->ntrees * sizeof(ImageTree));
		for (t = 0; t < model->ntrees; t++)
		{
			size_t		nbytes = (size_t) model->trees[t].nnodes * sizeof(MlNode);

			trees[t].nnodes = model->trees[t].nnodes;
			trees[t].off_nodes = at;
			memcpy(base + at, model->trees[t].nodes, nbytes);
			at += Align8(nbytes);
		}
	}
	if (model->nmembers > 0)
	{
		uint64_t   *offs = (uint64_t *) (base + head.off_members);

		memcpy(base + head.off_weights, model->weights, (size_t) model->nmembers * sizeof(double));
		at = head.off_members + Align8((size_t) model->nmembers * sizeof(uint64_t));
		for (t = 0; t < model->nmembers; t++)
		{
			offs[t] = at;
			MlModelImageWrite(model->members[t], base + at);
			at += Align8(MlModelImageSize(model->members[t]));
		}
	}
}

/*
 * A model that predicts from the image at src, which must stay unchanged
 * while the view is used.  The view's own memory (the model and its tree
 * list) comes from SsAlloc; MlModelFree frees only that.  NULL when src is
 * not an image.
 */
MlModel *
MlModelImageView(const void *src)
{
	const uint8_t *base = src;
	const ImageHead *head = src;
	MlModel    *model;
	int			t;

	if (head->magic != IMAGE_MAGIC)
		return NULL;
	model = SsAlloc0(sizeof(MlModel));
	model->view = true;
	model->algorithm = (MlAlgorithm) head->algorithm;
	model->nfeatures = head->nfeatures;
	model->loss = (MlLoss) head->loss;
	model->intercept = head->intercept;
	model->base_score = head->base_score;
	model->class_scale = head->class_scale;
	if (head->off_coef)
	{
		model->coef = (double *) (base + head->off_coef);
		model->fill = (double *) (base + head->off_fill);
		model->scale = (double *) (base + head->off_scale);
	}
	if (head->off_gain)
		model->split_gain = (double *) (base + head->off_gain);
	if (head->ntrees > 0)
	{
		const ImageTree *trees = (const ImageTree *) (base + head->off_trees);

		model->ntrees = head->ntrees;
		model->trees = SsAlloc((size_t) head->ntrees * sizeof(MlTree));
		for (t = 0; t < head->ntrees; t++)
		{
			model->trees[t].nnodes = (int32_t) trees[t].nnodes;
			model->trees[t].nodes = (MlNode *) (base + trees[t].off_nodes);
		}
	}
	if (head->nmembers > 0)
	{
		const uint64_t *offs = (const uint64_t *) (base + head->off_members);

		model->nmembers = head->nmembers;
		model->weights = (double *) (base + head->off_weights);
		model->members = SsAlloc0((size_t) head->nmembers * sizeof(MlModel *));
		for (t = 0; t < head->nmembers; t++)
			model->members[t] = MlModelImageView(base + offs[t]);
	}
	return model;
}
