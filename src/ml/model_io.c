/*
 * model_io.c — versioned binary serialization of models.
 *
 * Layout (all integers and floats little-endian, written field by field):
 *
 *   header   "SSML" | u16 format version (3; 4 for an ensemble with a class
 *            scale) | u16 algorithm id |
 *            u64 payload length | u32 CRC-32 of the header's first 16 bytes
 *            followed by the payload
 *   payload  u32 nfeatures, then per feature u32 name length (0xFFFFFFFF:
 *            no name) and the name's bytes;
 *            ridge:  f64 intercept, per feature f64 coef, f64 fill, f64 scale
 *            forest: per feature f64 split gain, u32 ntrees, trees
 *            gbdt:   u8 loss, f64 base score, per feature f64 split gain,
 *                    u32 ntrees, trees
 *            ensemble (format 3): u32 nmembers (1..ML_MAX_MEMBERS), then per
 *                    member f64 weight (>= 0), u64 length and the member's
 *                    own complete blob (a ridge, forest or gbdt of format
 *                    3 with the same number of features); format 4
 *                    adds the class scale: u32 nclasses
 *                    (1..ML_MAX_CLASSES), u32 class feature, u32 nmask
 *                    (0..ML_MAX_MASKS), nmask u32 mask features, nclasses
 *                    f64 scales (finite, > 0)
 *   tree     u32 nnodes, then per node either a leaf: u32 0xFFFFFFFF, f64
 *            value; or a split: u32 feature (bit 31: missing values go
 *            left), f32 threshold, u32 left, u32 right
 *
 * Only what prediction and model_explain need is stored (no per-node gain,
 * cover or split value): a 600-tree forest is about 0.7 MB, read whole on a
 * backend's first prediction.  Each model is written in the oldest
 * version that holds it, so a blob has one encoding; version 2 (no
 * ensembles) is still read, version 1 (41-byte nodes) is not.
 *
 * MlModelDeserialize checks the checksum and then every count, index and
 * value, so corrupt or truncated input gives an error, never a crash.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../alloc.h"
#include "model_impl.h"

#define MODEL_MAGIC "SSML"
#define MODEL_FORMAT_VERSION 4		/* the newest: ensembles with a class scale */
#define MODEL_FORMAT_ENSEMBLE 3		/* every other model (the first version with ensembles) */
#define MODEL_FORMAT_OLDEST 2		/* the oldest version still read */
#define HEADER_SIZE 20
#define LEAF_SIZE 12
#define SPLIT_SIZE 16
#define LEAF_MARK UINT32_C(0xFFFFFFFF)
#define DEFAULT_LEFT_BIT UINT32_C(0x80000000)
#define NO_NAME UINT32_C(0xFFFFFFFF)

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) lookup table. */
static const uint32_t crc32_table[256] = {
	0x00000000, 0x77073096, 0xEE0E612C, 0x990951BA, 0x076DC419, 0x706AF48F,
	0xE963A535, 0x9E6495A3, 0x0EDB8832, 0x79DCB8A4, 0xE0D5E91E, 0x97D2D988,
	0x09B64C2B, 0x7EB17CBD, 0xE7B82D07, 0x90BF1D91, 0x1DB71064, 0x6AB020F2,
	0xF3B97148, 0x84BE41DE, 0x1ADAD47D, 0x6DDDE4EB, 0xF4D4B551, 0x83D385C7,
	0x136C9856, 0x646BA8C0, 0xFD62F97A, 0x8A65C9EC, 0x14015C4F, 0x63066CD9,
	0xFA0F3D63, 0x8D080DF5, 0x3B6E20C8, 0x4C69105E, 0xD56041E4, 0xA2677172,
	0x3C03E4D1, 0x4B04D447, 0xD20D85FD, 0xA50AB56B, 0x35B5A8FA, 0x42B2986C,
	0xDBBBC9D6, 0xACBCF940, 0x32D86CE3, 0x45DF5C75, 0xDCD60DCF, 0xABD13D59,
	0x26D930AC, 0x51DE003A, 0xC8D75180, 0xBFD06116, 0x21B4F4B5, 0x56B3C423,
	0xCFBA9599, 0xB8BDA50F, 0x2802B89E, 0x5F058808, 0xC60CD9B2, 0xB10BE924,
	0x2F6F7C87, 0x58684C11, 0xC1611DAB, 0xB6662D3D, 0x76DC4190, 0x01DB7106,
	0x98D220BC, 0xEFD5102A, 0x71B18589, 0x06B6B51F, 0x9FBFE4A5, 0xE8B8D433,
	0x7807C9A2, 0x0F00F934, 0x9609A88E, 0xE10E9818, 0x7F6A0DBB, 0x086D3D2D,
	0x91646C97, 0xE6635C01, 0x6B6B51F4, 0x1C6C6162, 0x856530D8, 0xF262004E,
	0x6C0695ED, 0x1B01A57B, 0x8208F4C1, 0xF50FC457, 0x65B0D9C6, 0x12B7E950,
	0x8BBEB8EA, 0xFCB9887C, 0x62DD1DDF, 0x15DA2D49, 0x8CD37CF3, 0xFBD44C65,
	0x4DB26158, 0x3AB551CE, 0xA3BC0074, 0xD4BB30E2, 0x4ADFA541, 0x3DD895D7,
	0xA4D1C46D, 0xD3D6F4FB, 0x4369E96A, 0x346ED9FC, 0xAD678846, 0xDA60B8D0,
	0x44042D73, 0x33031DE5, 0xAA0A4C5F, 0xDD0D7CC9, 0x5005713C, 0x270241AA,
	0xBE0B1010, 0xC90C2086, 0x5768B525, 0x206F85B3, 0xB966D409, 0xCE61E49F,
	0x5EDEF90E, 0x29D9C998, 0xB0D09822, 0xC7D7A8B4, 0x59B33D17, 0x2EB40D81,
	0xB7BD5C3B, 0xC0BA6CAD, 0xEDB88320, 0x9ABFB3B6, 0x03B6E20C, 0x74B1D29A,
	0xEAD54739, 0x9DD277AF, 0x04DB2615, 0x73DC1683, 0xE3630B12, 0x94643B84,
	0x0D6D6A3E, 0x7A6A5AA8, 0xE40ECF0B, 0x9309FF9D, 0x0A00AE27, 0x7D079EB1,
	0xF00F9344, 0x8708A3D2, 0x1E01F268, 0x6906C2FE, 0xF762575D, 0x806567CB,
	0x196C3671, 0x6E6B06E7, 0xFED41B76, 0x89D32BE0, 0x10DA7A5A, 0x67DD4ACC,
	0xF9B9DF6F, 0x8EBEEFF9, 0x17B7BE43, 0x60B08ED5, 0xD6D6A3E8, 0xA1D1937E,
	0x38D8C2C4, 0x4FDFF252, 0xD1BB67F1, 0xA6BC5767, 0x3FB506DD, 0x48B2364B,
	0xD80D2BDA, 0xAF0A1B4C, 0x36034AF6, 0x41047A60, 0xDF60EFC3, 0xA867DF55,
	0x316E8EEF, 0x4669BE79, 0xCB61B38C, 0xBC66831A, 0x256FD2A0, 0x5268E236,
	0xCC0C7795, 0xBB0B4703, 0x220216B9, 0x5505262F, 0xC5BA3BBE, 0xB2BD0B28,
	0x2BB45A92, 0x5CB36A04, 0xC2D7FFA7, 0xB5D0CF31, 0x2CD99E8B, 0x5BDEAE1D,
	0x9B64C2B0, 0xEC63F226, 0x756AA39C, 0x026D930A, 0x9C0906A9, 0xEB0E363F,
	0x72076785, 0x05005713, 0x95BF4A82, 0xE2B87A14, 0x7BB12BAE, 0x0CB61B38,
	0x92D28E9B, 0xE5D5BE0D, 0x7CDCEFB7, 0x0BDBDF21, 0x86D3D2D4, 0xF1D4E242,
	0x68DDB3F8, 0x1FDA836E, 0x81BE16CD, 0xF6B9265B, 0x6FB077E1, 0x18B74777,
	0x88085AE6, 0xFF0F6A70, 0x66063BCA, 0x11010B5C, 0x8F659EFF, 0xF862AE69,
	0x616BFFD3, 0x166CCF45, 0xA00AE278, 0xD70DD2EE, 0x4E048354, 0x3903B3C2,
	0xA7672661, 0xD06016F7, 0x4969474D, 0x3E6E77DB, 0xAED16A4A, 0xD9D65ADC,
	0x40DF0B66, 0x37D83BF0, 0xA9BCAE53, 0xDEBB9EC5, 0x47B2CF7F, 0x30B5FFE9,
	0xBDBDF21C, 0xCABAC28A, 0x53B39330, 0x24B4A3A6, 0xBAD03605, 0xCDD70693,
	0x54DE5729, 0x23D967BF, 0xB3667A2E, 0xC4614AB8, 0x5D681B02, 0x2A6F2B94,
	0xB40BBE37, 0xC30C8EA1, 0x5A05DF1B, 0x2D02EF8D,
};

/* Output buffer that grows as fields are appended. */
typedef struct Writer
{
	uint8_t    *buf;
	size_t		len;
	size_t		cap;
} Writer;

/* Input cursor; after the first error every read returns 0. */
typedef struct Reader
{
	const uint8_t *p;
	size_t		left;
	bool		failed;
	char	   *err;
	size_t		errlen;
} Reader;

/* Slicing-by-8 tables: crc32_slice[k][b] is b's CRC advanced by k more zero bytes. */
static uint32_t crc32_slice[8][256];
static int	crc32_slice_ready = 0;

/* Fill crc32_slice from crc32_table (once). */
static void
Crc32SliceInit(void)
{
	int			b, k;

	for (b = 0; b < 256; b++)
	{
		crc32_slice[0][b] = crc32_table[b];
		for (k = 1; k < 8; k++)
			crc32_slice[k][b] = (crc32_slice[k - 1][b] >> 8) ^
				crc32_table[crc32_slice[k - 1][b] & 0xFF];
	}
	crc32_slice_ready = 1;
}

/* CRC-32 of buf[0..len), continuing from crc (0 to start); eight bytes a step. */
static uint32_t
Crc32Update(uint32_t crc, const uint8_t *buf, size_t len)
{
	if (!crc32_slice_ready)
		Crc32SliceInit();
	crc = ~crc;
	for (; len >= 8; buf += 8, len -= 8)
	{
		uint32_t	lo = crc ^ ((uint32_t) buf[0] | (uint32_t) buf[1] << 8 |
								(uint32_t) buf[2] << 16 | (uint32_t) buf[3] << 24);

		crc = crc32_slice[7][lo & 0xFF] ^ crc32_slice[6][(lo >> 8) & 0xFF] ^
			crc32_slice[5][(lo >> 16) & 0xFF] ^ crc32_slice[4][lo >> 24] ^
			crc32_slice[3][buf[4]] ^ crc32_slice[2][buf[5]] ^
			crc32_slice[1][buf[6]] ^ crc32_slice[0][buf[7]];
	}
	for (; len > 0; buf++, len--)
		crc = crc32_table[(crc ^ *buf) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

/* CRC-32 of buf[0..len), as zlib's crc32(). */
uint32_t
MlCrc32(const uint8_t *buf, size_t len)
{
	return Crc32Update(0, buf, len);
}

/* Checksum a blob carries: header bytes 0..15 followed by the payload. */
static uint32_t
BlobCrc(const uint8_t *blob, size_t len)
{
	return Crc32Update(Crc32Update(0, blob, 16), blob + HEADER_SIZE,
					   len - HEADER_SIZE);
}

/* Append n raw bytes. */
static void
PutBytes(Writer *w, const void *data, size_t n)
{
	if (w->len + n > w->cap)
	{
		while (w->len + n > w->cap)
			w->cap *= 2;
		w->buf = SsRealloc(w->buf, w->cap);
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
}

/* Append an n-byte little-endian unsigned integer. */
static void
PutUint(Writer *w, uint64_t v, int n)
{
	uint8_t		b[8];
	int			i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t) (v >> (8 * i));
	PutBytes(w, b, (size_t) n);
}

/* Append a float as its IEEE-754 bits. */
static void
PutF32(Writer *w, float f)
{
	uint32_t	u;

	memcpy(&u, &f, sizeof(u));
	PutUint(w, u, 4);
}

/* Append a double as its IEEE-754 bits. */
static void
PutF64(Writer *w, double d)
{
	uint64_t	u;

	memcpy(&u, &d, sizeof(u));
	PutUint(w, u, 8);
}

/* Append a tree. */
static void
PutTree(Writer *w, const MlTree *tree)
{
	int			i;

	PutUint(w, (uint32_t) tree->nnodes, 4);
	for (i = 0; i < tree->nnodes; i++)
	{
		const MlNode *n = &tree->nodes[i];

		if (n->feature < 0)
		{
			PutUint(w, LEAF_MARK, 4);
			PutF64(w, n->value);
			continue;
		}
		PutUint(w, (uint32_t) n->feature | (n->default_left ? DEFAULT_LEFT_BIT : 0), 4);
		PutF32(w, n->threshold);
		PutUint(w, (uint32_t) n->left, 4);
		PutUint(w, (uint32_t) n->right, 4);
	}
}

/* Append the trees and their per-feature split gains. */
static void
PutForest(Writer *w, const MlModel *model)
{
	int			i;

	for (i = 0; i < model->nfeatures; i++)
		PutF64(w, model->split_gain ? model->split_gain[i] : 0);
	PutUint(w, (uint32_t) model->ntrees, 4);
	for (i = 0; i < model->ntrees; i++)
		PutTree(w, &model->trees[i]);
}

/* Write an ensemble's class scale (format 4). */
static void
PutClassScale(Writer *w, const MlClassScale *cs)
{
	int			i;

	PutUint(w, (uint32_t) cs->nclasses, 4);
	PutUint(w, (uint32_t) cs->class_col, 4);
	PutUint(w, (uint32_t) cs->nmask, 4);
	for (i = 0; i < cs->nmask; i++)
		PutUint(w, (uint32_t) cs->mask_cols[i], 4);
	for (i = 0; i < cs->nclasses; i++)
		PutF64(w, cs->scale[i]);
}

/* Serialize model into a new SsAlloc'd buffer of *len bytes. */
uint8_t *
MlModelSerialize(const MlModel *model, size_t *len)
{
	Writer		w;
	int			i;

	w.cap = 1024;
	w.len = 0;
	w.buf = SsAlloc(w.cap);
	PutBytes(&w, MODEL_MAGIC, 4);
	PutUint(&w, model->class_scale.nclasses > 0 ? MODEL_FORMAT_VERSION : MODEL_FORMAT_ENSEMBLE, 2);
	PutUint(&w, (uint64_t) model->algorithm, 2);
	PutUint(&w, 0, 8);			/* payload length, filled in below */
	PutUint(&w, 0, 4);			/* checksum, likewise */

	PutUint(&w, (uint32_t) model->nfeatures, 4);
	for (i = 0; i < model->nfeatures; i++)
	{
		const char *name = model->feature_names[i];

		if (name == NULL)
			PutUint(&w, NO_NAME, 4);
		else
		{
			PutUint(&w, (uint32_t) strlen(name), 4);
			PutBytes(&w, name, strlen(name));
		}
	}
	switch (model->algorithm)
	{
		case ML_RIDGE:
			PutF64(&w, model->intercept);
			for (i = 0; i < model->nfeatures; i++)
			{
				PutF64(&w, model->coef[i]);
				PutF64(&w, model->fill[i]);
				PutF64(&w, model->scale[i]);
			}
			break;
		case ML_RANDOM_FOREST:
			PutForest(&w, model);
			break;
		case ML_GBDT:
			PutUint(&w, (uint64_t) model->loss, 1);
			PutF64(&w, model->base_score);
			PutForest(&w, model);
			break;
		case ML_ENSEMBLE:
			PutUint(&w, (uint32_t) model->nmembers, 4);
			for (i = 0; i < model->nmembers; i++)
			{
				size_t		mlen;
				uint8_t    *member = MlModelSerialize(model->members[i], &mlen);

				PutF64(&w, model->weights[i]);
				PutUint(&w, (uint64_t) mlen, 8);
				PutBytes(&w, member, mlen);
				SsFree(member);
			}
			if (model->class_scale.nclasses > 0)
				PutClassScale(&w, &model->class_scale);
			break;
	}

	MlBlobSeal(w.buf, w.len);
	*len = w.len;
	return w.buf;
}

/* Write a blob's payload length and checksum into its header (len >= the header). */
void
MlBlobSeal(uint8_t *blob, size_t len)
{
	uint64_t	payload = len - HEADER_SIZE;
	uint32_t	crc;
	int			i;

	for (i = 0; i < 8; i++)
		blob[8 + i] = (uint8_t) (payload >> (8 * i));
	crc = BlobCrc(blob, len);
	for (i = 0; i < 4; i++)
		blob[16 + i] = (uint8_t) (crc >> (8 * i));
}

/* Record the first error of a read. */
static void
Fail(Reader *r, const char *msg)
{
	if (!r->failed)
		snprintf(r->err, r->errlen, "%s", msg);
	r->failed = true;
}

/* Whether n more bytes can be read; records truncation if not. */
static bool
Need(Reader *r, size_t n)
{
	if (r->failed)
		return false;
	if (n > r->left)
	{
		Fail(r, "model payload is truncated");
		return false;
	}
	return true;
}

/* Read an n-byte little-endian unsigned integer (0 after an error). */
static uint64_t
GetUint(Reader *r, int n)
{
	uint64_t	v = 0;
	int			i;

	if (!Need(r, (size_t) n))
		return 0;
	for (i = 0; i < n; i++)
		v |= (uint64_t) r->p[i] << (8 * i);
	r->p += n;
	r->left -= (size_t) n;
	return v;
}

/* Read a double. */
static double
GetF64(Reader *r)
{
	uint64_t	u = GetUint(r, 8);
	double		d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

/* d when it is finite; else 0, with an error naming what recorded. */
static double
Finite(Reader *r, double d, const char *what)
{
	if (!isfinite(d))
	{
		char		msg[128];

		snprintf(msg, sizeof(msg), "model has a non-finite %s", what);
		Fail(r, msg);
		return 0;
	}
	return d;
}

/* Read a finite double; records an error naming what if it is not. */
static double
GetFinite(Reader *r, const char *what)
{
	return Finite(r, GetF64(r), what);
}

/* A little-endian u32 at p. */
static inline uint32_t
Le32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/* A little-endian f64 at p, a non-finite value recorded as an error naming what. */
static inline double
LeFinite(Reader *r, const uint8_t *p, const char *what)
{
	uint64_t	u = (uint64_t) Le32(p) | (uint64_t) Le32(p + 4) << 32;
	double		d;

	memcpy(&d, &u, sizeof(d));
	return Finite(r, d, what);
}

/* Read and check one node (a leaf or a split) of a tree of nnodes nodes over nfeatures. */
static void
GetNode(Reader *r, MlNode *n, int index, int nnodes, int nfeatures)
{
	const uint8_t *p = r->p;
	uint32_t	head, thr_bits;

	memset(n, 0, sizeof(*n));
	if (!Need(r, 4))
		return;
	head = Le32(p);
	if (head == LEAF_MARK)
	{
		if (!Need(r, LEAF_SIZE))
			return;
		n->feature = -1;
		n->value = LeFinite(r, p + 4, "leaf value");
		r->p += LEAF_SIZE;
		r->left -= LEAF_SIZE;
		return;
	}
	if (!Need(r, SPLIT_SIZE))
		return;
	n->default_left = (head & DEFAULT_LEFT_BIT) != 0;
	head &= ~DEFAULT_LEFT_BIT;
	thr_bits = Le32(p + 4);
	memcpy(&n->threshold, &thr_bits, sizeof(n->threshold));
	n->left = (int32_t) Le32(p + 8);
	n->right = (int32_t) Le32(p + 12);
	r->p += SPLIT_SIZE;
	r->left -= SPLIT_SIZE;
	if (head >= (uint32_t) nfeatures)
		Fail(r, "model has a split on a feature out of range");
	else if (isnan(n->threshold))
		Fail(r, "model has a malformed tree split");
	else if (n->left <= index || n->left >= nnodes ||
			 n->right <= index || n->right >= nnodes || n->left == n->right)
		Fail(r, "model has a tree child index out of range");
	n->feature = (int32_t) head;
}

/* Read the per-feature split gains and the trees (their count read and bounded first). */
static void
GetTrees(Reader *r, MlModel *model)
{
	uint32_t	ntrees;
	int			t;

	if ((size_t) model->nfeatures > r->left / 8)
	{
		Fail(r, "model payload is truncated");
		return;
	}
	model->split_gain = SsAlloc0(((size_t) model->nfeatures + 1) * sizeof(double));
	for (t = 0; t < model->nfeatures && !r->failed; t++)
	{
		model->split_gain[t] = GetFinite(r, "split gain");
		if (model->split_gain[t] < 0)
			Fail(r, "model has a negative split gain");
	}
	ntrees = (uint32_t) GetUint(r, 4);
	if (r->failed)
		return;
	if (ntrees == 0 || ntrees > r->left / (4 + LEAF_SIZE))
	{
		Fail(r, "model has a tree count out of range");
		return;
	}
	model->trees = SsAlloc0((size_t) ntrees * sizeof(MlTree));
	model->ntrees = (int) ntrees;
	for (t = 0; t < model->ntrees && !r->failed; t++)
	{
		MlTree	   *tree = &model->trees[t];
		uint32_t	nnodes = (uint32_t) GetUint(r, 4);
		int			i;

		if (r->failed)
			return;
		if (nnodes == 0 || nnodes > r->left / LEAF_SIZE)
		{
			Fail(r, "model has a tree node count out of range");
			return;
		}
		tree->nodes = SsAlloc((size_t) nnodes * sizeof(MlNode));
		tree->nnodes = (int32_t) nnodes;
		for (i = 0; i < tree->nnodes && !r->failed; i++)
			GetNode(r, &tree->nodes[i], i, tree->nnodes, model->nfeatures);
	}
}

/* Read the feature names. */
static void
GetFeatureNames(Reader *r, MlModel *model)
{
	uint32_t	nfeatures = (uint32_t) GetUint(r, 4);
	int			i;

	if (r->failed)
		return;
	if (nfeatures > r->left / 4)
	{
		Fail(r, "model has a feature count out of range");
		return;
	}
	model->feature_names = SsAlloc0(((size_t) nfeatures + 1) * sizeof(char *));
	model->nfeatures = (int) nfeatures;
	for (i = 0; i < model->nfeatures && !r->failed; i++)
	{
		uint32_t	len = (uint32_t) GetUint(r, 4);

		if (r->failed || len == NO_NAME)
			continue;
		if (!Need(r, len))
			return;
		if (memchr(r->p, '\0', len) != NULL)
		{
			Fail(r, "model has a feature name with a NUL byte");
			return;
		}
		model->feature_names[i] = SsAlloc((size_t) len + 1);
		memcpy(model->feature_names[i], r->p, len);
		model->feature_names[i][len] = '\0';
		r->p += len;
		r->left -= len;
	}
}

/* Read ridge coefficients. */
static void
GetRidge(Reader *r, MlModel *model)
{
	size_t		n = (size_t) model->nfeatures + 1;
	int			i;

	model->intercept = GetFinite(r, "intercept");
	if (r->failed)
		return;
	if ((size_t) model->nfeatures > r->left / 24)
	{
		Fail(r, "model payload is truncated");
		return;
	}
	model->coef = SsAlloc0(n * sizeof(double));
	model->fill = SsAlloc0(n * sizeof(double));
	model->scale = SsAlloc0(n * sizeof(double));
	for (i = 0; i < model->nfeatures && !r->failed; i++)
	{
		model->coef[i] = GetFinite(r, "coefficient");
		model->fill[i] = GetFinite(r, "fill value");
		model->scale[i] = GetFinite(r, "feature scale");
		if (model->scale[i] < 0)
			Fail(r, "model has a negative feature scale");
	}
}

static bool Deserialize(const uint8_t *buf, size_t len, MlModel **out,
						char *errbuf, size_t errlen, bool member);

/* Read an ensemble's members (each a complete blob of this format). */
static void
GetMembers(Reader *r, MlModel *model)
{
	uint32_t	n = (uint32_t) GetUint(r, 4);
	int			i;

	if (r->failed)
		return;
	if (n < 1 || n > ML_MAX_MEMBERS)
	{
		Fail(r, "model has an ensemble member count out of range");
		return;
	}
	model->members = SsAlloc0((size_t) n * sizeof(MlModel *));
	model->weights = SsAlloc0((size_t) n * sizeof(double));
	model->nmembers = (int) n;
	for (i = 0; i < model->nmembers && !r->failed; i++)
	{
		uint64_t	mlen;
		char		merr[200];

		model->weights[i] = GetFinite(r, "ensemble weight");
		if (!r->failed && model->weights[i] < 0)
			Fail(r, "model has a negative ensemble weight");
		mlen = GetUint(r, 8);
		if (r->failed)
			return;
		if (mlen > r->left)
		{
			Fail(r, "model payload is truncated");
			return;
		}
		if (!Deserialize(r->p, (size_t) mlen, &model->members[i], merr, sizeof(merr), true))
		{
			char		msg[256];

			snprintf(msg, sizeof(msg), "ensemble member %d: %s", i + 1, merr);
			Fail(r, msg);
			return;
		}
		if (model->members[i]->nfeatures != model->nfeatures)
		{
			Fail(r, "model has an ensemble member with other features");
			return;
		}
		r->p += mlen;
		r->left -= (size_t) mlen;
	}
}

/* Read an ensemble's class scale (format 4) and check it against the model. */
static void
GetClassScale(Reader *r, MlModel *model)
{
	MlClassScale cs;
	uint32_t	nclasses, nmask, col;
	char		err[200];
	int			i;

	memset(&cs, 0, sizeof(cs));
	nclasses = (uint32_t) GetUint(r, 4);
	if (!r->failed && (nclasses < 1 || nclasses > ML_MAX_CLASSES))
		Fail(r, "model has a class scale count out of range");
	col = (uint32_t) GetUint(r, 4);
	nmask = (uint32_t) GetUint(r, 4);
	if (!r->failed && nmask > ML_MAX_MASKS)
		Fail(r, "model has a class scale mask count out of range");
	if (r->failed)
		return;
	cs.nclasses = (int) nclasses;
	cs.nmask = (int) nmask;
	/* a feature number past INT_MAX is out of range too: MlEnsembleSetScale refuses -1 */
	cs.class_col = col < (uint32_t) model->nfeatures ? (int) col : -1;
	for (i = 0; i < cs.nmask; i++)
	{
		col = (uint32_t) GetUint(r, 4);
		cs.mask_cols[i] = col < (uint32_t) model->nfeatures ? (int) col : -1;
	}
	for (i = 0; i < cs.nclasses; i++)
		cs.scale[i] = GetFinite(r, "class scale");
	if (!r->failed && !MlEnsembleSetScale(model, &cs, err, sizeof(err)))
		Fail(r, err);
}

/*
 * Rebuild a model from buf[0..len).  Returns false with a message in errbuf
 * (and *out NULL) when the blob is not a complete, intact model of a known
 * format version.
 */
bool
MlModelDeserialize(const uint8_t *buf, size_t len, MlModel **out,
				   char *errbuf, size_t errlen)
{
	return Deserialize(buf, len, out, errbuf, errlen, false);
}

/* MlModelDeserialize; a member (of an ensemble) must be no ensemble, of format 3. */
static bool
Deserialize(const uint8_t *buf, size_t len, MlModel **out,
			char *errbuf, size_t errlen, bool member)
{
	Reader		r;
	MlModel    *model;
	uint64_t	payload;
	uint32_t	crc;
	unsigned	version;
	unsigned	algorithm;
	unsigned	loss;

	*out = NULL;
	r.p = buf;
	r.left = len;
	r.failed = false;
	r.err = errbuf;
	r.errlen = errlen;
	if (len < HEADER_SIZE || memcmp(buf, MODEL_MAGIC, 4) != 0)
	{
		snprintf(errbuf, errlen, "not a model: %s",
				 len < HEADER_SIZE ? "too short" : "bad magic number");
		return false;
	}
	r.p += 4;
	r.left -= 4;
	version = (unsigned) GetUint(&r, 2);
	algorithm = (unsigned) GetUint(&r, 2);
	payload = GetUint(&r, 8);
	crc = (uint32_t) GetUint(&r, 4);
	if (version < (member ? MODEL_FORMAT_ENSEMBLE : MODEL_FORMAT_OLDEST) || version > MODEL_FORMAT_VERSION)
	{
		snprintf(errbuf, errlen, "unsupported model format version %u", version);
		return false;
	}
	if (payload != len - HEADER_SIZE)
	{
		snprintf(errbuf, errlen, "model length is %zu bytes, its header says %llu",
				 len, (unsigned long long) payload + HEADER_SIZE);
		return false;
	}
	if (crc != BlobCrc(buf, len))
	{
		snprintf(errbuf, errlen, "model checksum mismatch");
		return false;
	}
	if (algorithm != ML_RIDGE && algorithm != ML_RANDOM_FOREST &&
		algorithm != ML_GBDT && (algorithm != ML_ENSEMBLE || version < MODEL_FORMAT_ENSEMBLE || member))
	{
		snprintf(errbuf, errlen, "unknown model algorithm id %u", algorithm);
		return false;
	}
	if (version == MODEL_FORMAT_VERSION && algorithm != ML_ENSEMBLE)
	{
		snprintf(errbuf, errlen, "model format version %u is for ensembles only", version);
		return false;
	}

	model = SsAlloc0(sizeof(MlModel));
	model->algorithm = (MlAlgorithm) algorithm;
	GetFeatureNames(&r, model);
	switch (model->algorithm)
	{
		case ML_RIDGE:
			GetRidge(&r, model);
			break;
		case ML_RANDOM_FOREST:
			GetTrees(&r, model);
			break;
		case ML_GBDT:
			loss = (unsigned) GetUint(&r, 1);
			if (loss != ML_LOSS_SQUARED && loss != ML_LOSS_POISSON)
				Fail(&r, "model has an unknown loss");
			model->loss = loss == ML_LOSS_POISSON ? ML_LOSS_POISSON : ML_LOSS_SQUARED;
			model->base_score = GetFinite(&r, "base score");
			GetTrees(&r, model);
			break;
		case ML_ENSEMBLE:
			GetMembers(&r, model);
			if (version == MODEL_FORMAT_VERSION)
				GetClassScale(&r, model);
			break;
	}
	if (!r.failed && r.left != 0)
		Fail(&r, "model payload has trailing bytes");
	if (r.failed)
	{
		MlModelFree(model);
		return false;
	}
	*out = model;
	return true;
}
