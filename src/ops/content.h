/*
 * content.h — what the files of a snapshot's content share (src/ops:
 * content.c the chunks of a scope and the content hash, content_codec.c the
 * months and the canonical serialization, content_read.c reading a
 * station's rows into monthly buffers and digesting them, content_cache.c
 * the cache of chunk digests).  Only those files include it; the rest of
 * src/ops uses versions.h.
 */
#ifndef SEONGSU_CONTENT_H
#define SEONGSU_CONTENT_H

#include "postgres.h"

#include "common/cryptohash.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"

#include "versions.h"

/* Append an unsigned integer of n bytes, big-endian. */
static inline void
ContentPutBE(StringInfo b, uint64 x, int n)
{
	char		buf[8];
	int			i;

	for (i = 0; i < n; i++)
		buf[i] = (char) (x >> (8 * (n - 1 - i)));
	appendBinaryStringInfo(b, buf, n);
}

/* One month's rows, serialized back to back. */
typedef struct RowBuf
{
	int32		month;
	int			n;
	int			cap;
	StringInfoData data;
	uint32	   *off;
	uint32	   *len;
} RowBuf;

/* A station's cached chunks as of an instant. */
typedef struct CacheEntry
{
	TimestampTz as_of;
	ChunkList	list;
	bool		dirty;
	int32		dirty_lo;
	int32		dirty_hi;
} CacheEntry;

/* A chunk list to write to the cache. */
typedef struct CacheRow
{
	const char *table;
	ChunkList	list;
} CacheRow;

/* content_codec.c */
extern Datum ContentKeyBound(const ContentTable *t, int32 month);
extern void ContentPutValue(StringInfo b, ContentKind k, Datum d, bool isnull);

/* content_read.c */
extern SPIPlanPtr ContentPlan(const ContentTable *t, TimestampTz as_of);
extern RowBuf *ContentReadMonths(const ContentTable *t, SPIPlanPtr plan, int32 station_id, Datum lo, Datum hi,
								 int *nbufs);
extern void ContentCheckHash(int rc, pg_cryptohash_ctx *ctx);
extern pg_cryptohash_ctx *ContentSha256Create(void);
extern Chunk *ContentDigest(pg_cryptohash_ctx *ctx, RowBuf *bufs, int n);

/* content_cache.c */
extern void ContentCacheRead(const ContentTable *t, const int32 *ids, int n, TimestampTz as_of, CacheEntry **entries);
extern void ContentCacheChanges(const ContentTable *t, const int32 *ids, int n, CacheEntry **entries);
extern ChunkList ContentCacheMerge(const ChunkList *e, int32 lo, int32 hi, Chunk *fresh, int nfresh);

#endif							/* SEONGSU_CONTENT_H */
