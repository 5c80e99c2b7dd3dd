/*
 * model_share.h — the shared model cache (model images in shared memory).
 */
#ifndef SEONGSU_MODEL_SHARE_H
#define SEONGSU_MODEL_SHARE_H

#include "postgres.h"

#include "../ml/model.h"

/* One entry of the cache, as listed. */
typedef struct ModelShareEntry
{
	int64		model_id;
	uint64		version;
	Size		bytes;
	int32		refs;
	uint64		hits;
} ModelShareEntry;

extern void ModelShareRequest(void);
extern void ModelShareStartup(void);
extern int	ModelShareAcquire(int64 id, uint64 version, const void **image);
extern void ModelShareRelease(int slot);
extern void ModelSharePut(int64 id, uint64 version, const MlModel *model);
extern int	ModelShareList(ModelShareEntry *out, int max, Size *pool_bytes, Size *used_bytes);

#endif							/* SEONGSU_MODEL_SHARE_H */
