/*
 * fuzz_model_blob.c — libFuzzer harness for MlModelDeserialize, the reader
 * of stored model blobs (seongsu.models.blob).  The input's header length
 * and checksum are rewritten first, so the fuzzer reaches the payload's
 * structure instead of stopping at the checksum.  An accepted blob must
 * predict (on a row of zeros and a row of NaNs), explain, serialize back
 * to exactly the input bytes (a blob of an older format version: once
 * that version is written back into the header), and predict the same
 * from its image (the shared model cache's copy); a rejected one must say
 * why.  Ensembles (format 3) hold their members' own blobs; format 4 is an
 * ensemble with a class scale.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/alloc.h"
#include "../../src/ml/model_impl.h"

extern int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Deserialize one (resealed) input and check the reader's contract. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *buf = SsAlloc(size + 1);
	char		err[256];
	MlModel    *m = NULL;

	memcpy(buf, data, size);
	if (size >= 20)
		MlBlobSeal(buf, size);
	err[0] = '\0';
	if (MlModelDeserialize(buf, size, &m, err, sizeof(err)))
	{
		int			nf = MlModelNumFeatures(m);
		float	   *row = SsAlloc0(sizeof(float) * ((size_t) nf + 1));
		double	   *imp = SsAlloc0(sizeof(double) * ((size_t) nf + 1));
		size_t		len;
		uint8_t    *again;
		double	   *image = SsAlloc(MlModelImageSize(m));
		MlModel    *view;
		double		p0, p1;
		int			j;

		MlModelImageWrite(m, image);
		view = MlModelImageView(image);
		p0 = MlModelPredict(m, row);
		p1 = MlModelPredict(view, row);
		for (j = 0; j < nf; j++)
			row[j] = NAN;
		if (memcmp(&p0, &p1, sizeof(p0)) != 0 ||
			(p0 = MlModelPredict(m, row), p1 = MlModelPredict(view, row), memcmp(&p0, &p1, sizeof(p0)) != 0))
		{
			fprintf(stderr, "the image of an accepted blob predicts differently\n");
			abort();
		}
		MlModelFree(view);
		SsFree(image);
		MlModelImportances(m, imp);
		again = MlModelSerialize(m, &len);
		if (len == size && (again[4] != buf[4] || again[5] != buf[5]))
		{
			again[4] = buf[4];
			again[5] = buf[5];
			MlBlobSeal(again, len);
		}
		if (len != size || memcmp(again, buf, size) != 0)
		{
			fprintf(stderr, "accepted blob does not serialize back to the same bytes\n");
			abort();
		}
		SsFree(again);
		SsFree(imp);
		SsFree(row);
		MlModelFree(m);
	}
	else if (m != NULL || err[0] == '\0')
	{
		fprintf(stderr, "rejected blob without a message or with a model\n");
		abort();
	}
	SsFree(buf);
	return 0;
}
