/*
 * content.c — the content of a snapshot scope as of an instant: the chunks
 * of each versioned table (a station's rows of one month, serialized by
 * content_codec.c, read and digested by content_read.c, from the cache of
 * content_cache.c for the months that did not change), combined into the
 * content hash.
 *
 * The content hash is SHA-256 of "daily_seongsu snapshot v1\n" and, per
 * table in ContentTables order, its name, a zero byte, the number of chunks
 * and of rows (uint64 big-endian), and per chunk (stations in scope order,
 * then months ascending) the station's line and name (as text values), the
 * month (int32, year * 12 + month - 1), its rows (uint64) and its digest.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "content.h"

/*
 * The chunks of table t of every station of the scope (one list per
 * station, in scope order; one list for tables without stations), as of
 * as_of, over every month (caller has SPI and an active snapshot taken
 * after as_of's writers ended).  cached: start from the cache and append
 * what to write back to *cache_rows (CacheRow); else read every row.
 */
ChunkList *
ContentChunks(const ContentTable *t, const Scope *s, TimestampTz as_of, bool cached, List **cache_rows)
{
	int			n = t->per_station ? s->nstations : 1;
	int32		zero = 0;
	const int32 *ids = t->per_station ? s->station_ids : &zero;
	ChunkList  *lists = palloc0(sizeof(ChunkList) * (n + 1));
	CacheEntry **entries = palloc0(sizeof(CacheEntry *) * (n + 1));
	SPIPlanPtr	plan = ContentPlan(t, as_of);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "content rows", ALLOCSET_DEFAULT_SIZES);
	pg_cryptohash_ctx *ctx = ContentSha256Create();
	int			i;

	if (cached && n > 0)
	{
		ContentCacheRead(t, ids, n, as_of, entries);
		ContentCacheChanges(t, ids, n, entries);
	}
	for (i = 0; i < n; i++)
	{
		CacheEntry *e = entries[i];
		MemoryContext old;
		RowBuf	   *bufs;
		Chunk	   *fresh, *kept;
		int			nbufs;

		CHECK_FOR_INTERRUPTS();
		if (e && !e->dirty)
		{
			lists[i] = e->list;
			continue;
		}
		old = MemoryContextSwitchTo(cxt);
		bufs = e ? ContentReadMonths(t, plan, ids[i], ContentKeyBound(t, e->dirty_lo), ContentKeyBound(t, e->dirty_hi + 1), &nbufs)
			: ContentReadMonths(t, plan, ids[i], ContentKeyBound(t, PG_INT32_MIN), ContentKeyBound(t, PG_INT32_MAX), &nbufs);
		fresh = ContentDigest(ctx, bufs, nbufs);
		MemoryContextSwitchTo(old);
		kept = palloc(sizeof(Chunk) * (nbufs + 1));
		memcpy(kept, fresh, sizeof(Chunk) * nbufs);
		MemoryContextReset(cxt);
		if (e)
			lists[i] = ContentCacheMerge(&e->list, e->dirty_lo, e->dirty_hi, kept, nbufs);
		else
		{
			lists[i].station_id = ids[i];
			lists[i].n = nbufs;
			lists[i].chunks = kept;
		}
		if (cached)
		{
			CacheRow   *row = palloc(sizeof(CacheRow));

			row->table = VersionTableName(t->vt);
			row->list = lists[i];
			*cache_rows = lappend(*cache_rows, row);
		}
	}
	MemoryContextDelete(cxt);
	SPI_freeplan(plan);
	pg_cryptohash_free(ctx);
	return lists;
}

/* Append a text value (uint32 length, bytes) to a hash input. */
static void
PutText(StringInfo b, const char *s)
{
	ContentPutBE(b, (uint32) strlen(s), 4);
	appendBinaryStringInfo(b, s, strlen(s));
}

/*
 * The content hash of a scope as of an instant, in hex (65 bytes with the
 * terminator); the rows per table as a JSON object into row_counts and the
 * daily ridership rows into *daily_rows (caller has SPI and an active
 * snapshot).  cached: use and extend the chunk cache (what to write back
 * is appended to *cache_rows).
 */
void
ContentHash(const Scope *s, TimestampTz as_of, bool cached, char *hex, StringInfo row_counts,
			int64 *daily_rows, List **cache_rows)
{
	pg_cryptohash_ctx *ctx;
	uint8		digest[VERSION_DIGEST_LEN];
	StringInfoData rec;
	ChunkList  *lists[VT_NTABLES];
	int			vt, i, k;
	static const char header[] = "daily_seongsu snapshot v1\n";

	for (vt = 0; vt < VT_NTABLES; vt++)
		lists[vt] = ContentChunks(&ContentTables[vt], s, as_of, cached, cache_rows);
	initStringInfo(&rec);
	appendStringInfoChar(row_counts, '{');
	ctx = ContentSha256Create();
	ContentCheckHash(pg_cryptohash_init(ctx), ctx);
	ContentCheckHash(pg_cryptohash_update(ctx, (const uint8 *) header, strlen(header)), ctx);
	for (vt = 0; vt < VT_NTABLES; vt++)
	{
		const ContentTable *t = &ContentTables[vt];
		const char *name = VersionTableName(vt);
		int			n = t->per_station ? s->nstations : 1;
		int32		lo, hi;
		uint64		rows = 0, nchunks = 0;
		StringInfoData head;

		ContentMonths(t, s, &lo, &hi);
		resetStringInfo(&rec);
		for (i = 0; i < n; i++)
			for (k = 0; k < lists[vt][i].n; k++)
			{
				const Chunk *c = &lists[vt][i].chunks[k];

				if (c->month < lo || c->month > hi)
					continue;
				if (t->per_station)
				{
					PutText(&rec, s->lines[i]);
					PutText(&rec, s->names[i]);
				}
				ContentPutBE(&rec, (uint32) c->month, 4);
				ContentPutBE(&rec, (uint64) c->rows, 8);
				appendBinaryStringInfo(&rec, (const char *) c->digest, VERSION_DIGEST_LEN);
				rows += c->rows;
				nchunks++;
			}
		initStringInfo(&head);
		appendBinaryStringInfo(&head, name, strlen(name) + 1);
		ContentPutBE(&head, nchunks, 8);
		ContentPutBE(&head, rows, 8);
		ContentCheckHash(pg_cryptohash_update(ctx, (const uint8 *) head.data, head.len), ctx);
		ContentCheckHash(pg_cryptohash_update(ctx, (const uint8 *) rec.data, rec.len), ctx);
		appendStringInfo(row_counts, "%s\"%s\": " UINT64_FORMAT, vt ? ", " : "", name, rows);
		if (vt == VT_RIDERSHIP_DAILY)
			*daily_rows = (int64) rows;
	}
	appendStringInfoChar(row_counts, '}');
	ContentCheckHash(pg_cryptohash_final(ctx, digest, VERSION_DIGEST_LEN), ctx);
	pg_cryptohash_free(ctx);
	hex_encode((const char *) digest, VERSION_DIGEST_LEN, hex);
	hex[2 * VERSION_DIGEST_LEN] = '\0';
}
