/*
 * content_cache.c — the cache of chunk digests (seongsu.snapshot_chunks):
 * a station's chunk digests of a table as of an instant.  A chunk stays
 * valid until a version of it is stamped later, which the BRIN index on
 * ingested_at and the history's valid_to index find without reading the
 * rest of the table; those months are read again (content_read.c) and
 * merged with the rest.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "content.h"

/* ---- the cache ---- */

#define CHANGES_BATCH 10000

/* An int4[] of n values. */
static Datum
Int4Array(const int32 *x, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int32GetDatum(x[i]);
	return PointerGetDatum(construct_array(d, n, INT4OID, 4, true, TYPALIGN_INT));
}

/* A station id and its position in a scope's list. */
typedef struct StationPos
{
	int32		id;
	int			pos;
} StationPos;

/* By station id. */
static int
StationPosOrder(const void *a, const void *b)
{
	int32		x = ((const StationPos *) a)->id, y = ((const StationPos *) b)->id;

	return x < y ? -1 : x > y;
}

/* The ids of a list, sorted, with their positions (for PositionOf). */
static StationPos *
StationIndex(const int32 *ids, int n)
{
	StationPos *idx = palloc(sizeof(StationPos) * (n + 1));
	int			i;

	for (i = 0; i < n; i++)
	{
		idx[i].id = ids[i];
		idx[i].pos = i;
	}
	qsort(idx, n, sizeof(StationPos), StationPosOrder);
	return idx;
}

/* The position of station id in the list StationIndex was made of, or -1. */
static int
PositionOf(const StationPos *idx, int n, int32 id)
{
	StationPos	key = {id, 0};
	StationPos *hit = bsearch(&key, idx, n, sizeof(StationPos), StationPosOrder);

	return hit ? hit->pos : -1;
}

/* The latest cached chunks of each station (index in ids) as of at most as_of, into entries (caller has SPI). */
void
ContentCacheRead(const ContentTable *t, const int32 *ids, int n, TimestampTz as_of, CacheEntry **entries)
{
	Oid			types[3] = {TEXTOID, INT4ARRAYOID, TIMESTAMPTZOID};
	Datum		v[3];
	StationPos *idx = StationIndex(ids, n);
	uint64		r;
	int			i;

	v[0] = CStringGetTextDatum(VersionTableName(t->vt));
	v[1] = Int4Array(ids, n);
	v[2] = TimestampTzGetDatum(as_of);
	if (SPI_execute_with_args("SELECT DISTINCT ON (station_id) station_id, as_of, months, row_counts, digests "
							  "FROM seongsu.snapshot_chunks WHERE table_name OPERATOR(pg_catalog.=) $1 "
							  "AND station_id OPERATOR(pg_catalog.=) ANY ($2) AND as_of OPERATOR(pg_catalog.<=) $3 "
							  "ORDER BY station_id, as_of DESC", 3, types, v, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.snapshot_chunks");
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int32		station = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		ArrayType  *months = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 3, &isnull));
		ArrayType  *counts = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 4, &isnull));
		bytea	   *digests = DatumGetByteaPP(SPI_getbinval(tup, desc, 5, &isnull));
		int			nm = ArrayGetNItems(ARR_NDIM(months), ARR_DIMS(months));
		CacheEntry *e;
		int			k;

		CHECK_FOR_INTERRUPTS();
		i = PositionOf(idx, n, station);
		if (i < 0 || ARR_HASNULL(months) || ARR_HASNULL(counts) || ARR_ELEMTYPE(months) != INT4OID ||
			ARR_ELEMTYPE(counts) != INT8OID || ArrayGetNItems(ARR_NDIM(counts), ARR_DIMS(counts)) != nm ||
			VARSIZE_ANY_EXHDR(digests) != (Size) nm * VERSION_DIGEST_LEN)
			continue;			/* not one of ours, or not well-formed: computed afresh */
		e = palloc0(sizeof(CacheEntry));
		e->as_of = DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull));
		e->list.station_id = station;
		e->list.n = nm;
		e->list.chunks = palloc(sizeof(Chunk) * (nm + 1));
		for (k = 0; k < nm; k++)
		{
			e->list.chunks[k].month = ((int32 *) ARR_DATA_PTR(months))[k];
			e->list.chunks[k].rows = ((int64 *) ARR_DATA_PTR(counts))[k];
			memcpy(e->list.chunks[k].digest, VARDATA_ANY(digests) + k * VERSION_DIGEST_LEN, VERSION_DIGEST_LEN);
		}
		entries[i] = e;
	}
}

/*
 * Mark the months of cached stations with a version stamped after their
 * entry's instant: the rows written since, and the history of versions
 * replaced since (caller has SPI).
 */
void
ContentCacheChanges(const ContentTable *t, const int32 *ids, int n, CacheEntry **entries)
{
	const char *name = VersionTableName(t->vt);
	const char *station = t->per_station ? "station_id" : "0::pg_catalog.int4";
	const char *cond = t->per_station ? " AND station_id OPERATOR(pg_catalog.=) ANY ($2)" : "";
	Oid			types[2] = {TIMESTAMPTZOID, INT4ARRAYOID};
	Datum		v[2];
	TimestampTz since = DT_NOEND;
	StationPos *idx = StationIndex(ids, n);
	Portal		portal;
	uint64		r;
	int			i;

	for (i = 0; i < n; i++)
		if (entries[i] && entries[i]->as_of < since)
			since = entries[i]->as_of;
	if (since == DT_NOEND)
		return;
	v[0] = TimestampTzGetDatum(since);
	v[1] = Int4Array(ids, n);
	portal = SPI_cursor_open_with_args(NULL, psprintf("SELECT %s, %s, ingested_at FROM seongsu.%s "
													  "WHERE ingested_at OPERATOR(pg_catalog.>) $1%s%s%s "
													  "UNION ALL SELECT %s, %s, valid_to FROM seongsu.%s_history "
													  "WHERE valid_to OPERATOR(pg_catalog.>) $1%s%s%s",
													  station, t->cols[0], name, cond, t->filter ? " AND " : "",
													  t->filter ? t->filter : "", station, t->cols[0], name, cond,
													  t->filter ? " AND " : "", t->filter ? t->filter : ""),
									   2, types, v, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, CHANGES_BATCH);
		if (SPI_processed == 0)
			break;
		for (r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		n1, n2, n3;
			int32		s = DatumGetInt32(SPI_getbinval(tup, desc, 1, &n1));
			Datum		key0 = SPI_getbinval(tup, desc, 2, &n2);
			TimestampTz stamp = DatumGetTimestampTz(SPI_getbinval(tup, desc, 3, &n3));
			CacheEntry *e;
			int32		month;

			CHECK_FOR_INTERRUPTS();
			i = PositionOf(idx, n, s);
			e = i >= 0 ? entries[i] : NULL;
			if (n2 || !e || stamp <= e->as_of)
				continue;
			month = ContentMonthOf(t, key0);
			if (!e->dirty)
			{
				e->dirty = true;
				e->dirty_lo = e->dirty_hi = month;
			}
			e->dirty_lo = Min(e->dirty_lo, month);
			e->dirty_hi = Max(e->dirty_hi, month);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
}

/* The chunks of e outside [lo, hi], with the recomputed ones of that span, ascending. */
ChunkList
ContentCacheMerge(const ChunkList *e, int32 lo, int32 hi, Chunk *fresh, int nfresh)
{
	ChunkList	out;
	int			i = 0, j = 0;

	out.station_id = e->station_id;
	out.n = 0;
	out.chunks = palloc(sizeof(Chunk) * (e->n + nfresh + 1));
	while (i < e->n && e->chunks[i].month < lo)
		out.chunks[out.n++] = e->chunks[i++];
	while (j < nfresh)
		out.chunks[out.n++] = fresh[j++];
	while (i < e->n && e->chunks[i].month <= hi)
		i++;
	while (i < e->n)
		out.chunks[out.n++] = e->chunks[i++];
	return out;
}

/* Write the chunk lists of cache_rows as of as_of, and drop the entries they supersede (caller has SPI). */
void
ContentCacheWrite(List *cache_rows, TimestampTz as_of)
{
	Oid			types[6] = {TEXTOID, INT4OID, TIMESTAMPTZOID, INT4ARRAYOID, INT8ARRAYOID, BYTEAOID};
	Oid			dtypes[3] = {TEXTOID, INT4OID, TIMESTAMPTZOID};
	Oid			owner;
	ListCell   *lc;

	if (cache_rows == NIL)
		return;
	owner = VersionOwner();

	foreach(lc, cache_rows)
	{
		CacheRow   *row = lfirst(lc);
		Datum		v[6];
		Datum	   *months = palloc(sizeof(Datum) * (row->list.n + 1));
		Datum	   *counts = palloc(sizeof(Datum) * (row->list.n + 1));
		bytea	   *digests = palloc(VARHDRSZ + (Size) row->list.n * VERSION_DIGEST_LEN);
		int			k;

		CHECK_FOR_INTERRUPTS();
		SET_VARSIZE(digests, VARHDRSZ + (Size) row->list.n * VERSION_DIGEST_LEN);
		for (k = 0; k < row->list.n; k++)
		{
			months[k] = Int32GetDatum(row->list.chunks[k].month);
			counts[k] = Int64GetDatum(row->list.chunks[k].rows);
			memcpy(VARDATA(digests) + k * VERSION_DIGEST_LEN, row->list.chunks[k].digest, VERSION_DIGEST_LEN);
		}
		v[0] = CStringGetTextDatum(row->table);
		v[1] = Int32GetDatum(row->list.station_id);
		v[2] = TimestampTzGetDatum(as_of);
		v[3] = PointerGetDatum(construct_array(months, row->list.n, INT4OID, 4, true, TYPALIGN_INT));
		v[4] = PointerGetDatum(construct_array(counts, row->list.n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		v[5] = PointerGetDatum(digests);
		VersionExecAsOwner(owner, "DELETE FROM seongsu.snapshot_chunks WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
						   "SELECT ctid FROM seongsu.snapshot_chunks WHERE table_name OPERATOR(pg_catalog.=) $1 "
						   "AND station_id OPERATOR(pg_catalog.=) $2 AND as_of OPERATOR(pg_catalog.<) $3 "
						   "FOR UPDATE SKIP LOCKED))", 3, dtypes, v, NULL, SPI_OK_DELETE);
		VersionExecAsOwner(owner, "INSERT INTO seongsu.snapshot_chunks (table_name, station_id, as_of, months, row_counts, digests) "
						   "VALUES ($1, $2, $3, $4, $5, $6)", 6, types, v, NULL, SPI_OK_INSERT);
	}
}
