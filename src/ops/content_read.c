/*
 * content_read.c — a station's rows of a versioned table as of an instant,
 * read through the as-of source of asof.c one station per statement,
 * straight from the executor into per-month buffers (a DestReceiver: no
 * SPI tuple tables), each sorted bytewise; and their SHA-256 digests: a
 * chunk's digest is SHA-256 of its rows' serializations sorted bytewise
 * and concatenated.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "tcop/dest.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "content.h"

/* The SQL type of each kind. */
static const Oid KindTypes[] = {
	[CK_DATE] = DATEOID, [CK_TSTZ] = TIMESTAMPTZOID, [CK_INT2] = INT2OID, [CK_INT4] = INT4OID,
	[CK_INT8] = INT8OID, [CK_F8] = FLOAT8OID, [CK_TEXT] = TEXTOID, [CK_BOOL] = BOOLOID
};

/* ---- reading a station's rows into monthly buffers ---- */

/* Where the executor sends the rows of a content statement. */
typedef struct Receiver
{
	DestReceiver pub;
	const ContentTable *t;
	MemoryContext cxt;			/* the caller's: the executor's is reset after the statement */
	HTAB	   *index;			/* month -> position in bufs */
	RowBuf	   *bufs;
	int			nbufs;
	int			capbufs;
	StringInfoData row;
} Receiver;

/* Hash entry: a month and its buffer. */
typedef struct MonthEntry
{
	int32		month;
	int			pos;
} MonthEntry;

/* The rows come as (station, content columns...): check that once. */
static void
ReceiverStartup(DestReceiver *self, int operation, TupleDesc desc)
{
	Receiver   *r = (Receiver *) self;
	int			c;

	if (desc->natts != r->t->ncols + 1)
		elog(ERROR, "content statement of %s returned %d columns", VersionTableName(r->t->vt), desc->natts);
	for (c = 0; c < r->t->ncols; c++)
		if (TupleDescAttr(desc, c + 1)->atttypid != KindTypes[r->t->kinds[c]])
			elog(ERROR, "column %s of %s has type %u, not %u", r->t->cols[c], VersionTableName(r->t->vt),
				 TupleDescAttr(desc, c + 1)->atttypid, KindTypes[r->t->kinds[c]]);
}

/* Serialize a row into its month's buffer. */
static bool
ReceiverSlot(TupleTableSlot *slot, DestReceiver *self)
{
	Receiver   *r = (Receiver *) self;
	const ContentTable *t = r->t;
	MonthEntry *e;
	RowBuf	   *b;
	int32		month;
	bool		found;
	int			c;
	MemoryContext old = MemoryContextSwitchTo(r->cxt);

	CHECK_FOR_INTERRUPTS();
	slot_getallattrs(slot);
	if (slot->tts_isnull[1])
		elog(ERROR, "%s has a row without %s", VersionTableName(t->vt), t->cols[0]);
	month = ContentMonthOf(t, slot->tts_values[1]);
	resetStringInfo(&r->row);
	for (c = 0; c < t->ncols; c++)
		ContentPutValue(&r->row, t->kinds[c], slot->tts_values[c + 1], slot->tts_isnull[c + 1]);
	e = hash_search(r->index, &month, HASH_ENTER, &found);
	if (!found)
	{
		if (r->nbufs == r->capbufs)
		{
			r->capbufs *= 2;
			r->bufs = repalloc(r->bufs, sizeof(RowBuf) * r->capbufs);
		}
		e->pos = r->nbufs++;
		b = &r->bufs[e->pos];
		b->month = month;
		b->n = 0;
		b->cap = 64;
		initStringInfo(&b->data);
		b->off = palloc(sizeof(uint32) * b->cap);
		b->len = palloc(sizeof(uint32) * b->cap);
	}
	b = &r->bufs[e->pos];
	if (b->n == b->cap)
	{
		b->cap *= 2;
		b->off = repalloc(b->off, sizeof(uint32) * b->cap);
		b->len = repalloc(b->len, sizeof(uint32) * b->cap);
	}
	b->off[b->n] = (uint32) b->data.len;
	b->len[b->n] = (uint32) r->row.len;
	appendBinaryStringInfo(&b->data, r->row.data, r->row.len);
	b->n++;
	MemoryContextSwitchTo(old);
	return true;
}

/* Nothing to do at the end of a statement. */
static void
ReceiverShutdown(DestReceiver *self)
{
}

/* The receiver lives in the caller's memory context. */
static void
ReceiverDestroy(DestReceiver *self)
{
}

/* Sort context of a month's rows. */
typedef struct SortCtx
{
	const RowBuf *b;
} SortCtx;

/* Bytewise order of two rows of a buffer (by position). */
static int
RowOrder(const void *pa, const void *pb, void *arg)
{
	const RowBuf *b = ((SortCtx *) arg)->b;
	int			i = *(const int *) pa, j = *(const int *) pb;
	uint32		li = b->len[i], lj = b->len[j];
	int			c = memcmp(b->data.data + b->off[i], b->data.data + b->off[j], Min(li, lj));

	if (c != 0)
		return c;
	return li < lj ? -1 : li > lj;
}

/* Months ascending. */
static int
BufOrder(const void *a, const void *b)
{
	int32		x = ((const RowBuf *) a)->month, y = ((const RowBuf *) b)->month;

	return x < y ? -1 : x > y;
}

/* The content statement of a table as of an instant: $1 station, $2/$3 the first key column's range. */
SPIPlanPtr
ContentPlan(const ContentTable *t, TimestampTz as_of)
{
	StringInfoData cols;
	Oid			types[3] = {INT4OID, KindTypes[t->kinds[0]], KindTypes[t->kinds[0]]};
	SPIPlanPtr	plan;
	char	   *sql;
	int			c;

	initStringInfo(&cols);
	for (c = 0; c < t->ncols; c++)
		appendStringInfo(&cols, "%s%s", c ? ", " : "", t->cols[c]);
	sql = psprintf("SELECT %s, %s FROM (%s) AS v WHERE %s%s OPERATOR(pg_catalog.>=) $2 "
				   "AND %s OPERATOR(pg_catalog.<) $3%s%s",
				   t->per_station ? "station_id" : "0::pg_catalog.int4", cols.data,
				   VersionSourceAt(t->vt, as_of),
				   t->per_station ? "station_id OPERATOR(pg_catalog.=) $1 AND " : "",
				   t->cols[0], t->cols[0], t->filter ? " AND " : "", t->filter ? t->filter : "");
	plan = SPI_prepare(sql, 3, types);
	if (!plan)
		elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	return plan;
}

/*
 * The rows of one station (0: the whole table) whose first key column is
 * in [lo, hi), as of the plan's instant, into monthly buffers sorted by
 * month, each with its rows in bytewise order (caller has SPI and an
 * active snapshot).
 */
RowBuf *
ContentReadMonths(const ContentTable *t, SPIPlanPtr plan, int32 station_id, Datum lo, Datum hi, int *nbufs)
{
	Receiver	r;
	HASHCTL		hc;
	SPIExecuteOptions opts;
	ParamListInfo params = makeParamList(3);
	Datum		v[3] = {Int32GetDatum(station_id), lo, hi};
	int			i, k, rc;

	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = ReceiverSlot;
	r.pub.rStartup = ReceiverStartup;
	r.pub.rShutdown = ReceiverShutdown;
	r.pub.rDestroy = ReceiverDestroy;
	r.pub.mydest = DestTuplestore;	/* not DestNone: SPI reports SPI_OK_SELECT */
	r.t = t;
	r.cxt = CurrentMemoryContext;
	memset(&hc, 0, sizeof(hc));
	hc.keysize = sizeof(int32);
	hc.entrysize = sizeof(MonthEntry);
	hc.hcxt = CurrentMemoryContext;
	r.index = hash_create("content months", 256, &hc, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	r.capbufs = 16;
	r.bufs = palloc(sizeof(RowBuf) * r.capbufs);
	initStringInfo(&r.row);
	for (i = 0; i < 3; i++)
	{
		params->params[i].value = v[i];
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = i == 0 ? INT4OID : KindTypes[t->kinds[0]];
	}
	memset(&opts, 0, sizeof(opts));
	opts.params = params;
	opts.read_only = true;
	opts.dest = (DestReceiver *) &r;
	rc = SPI_execute_plan_extended(plan, &opts);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read %s: %s", VersionTableName(t->vt), SPI_result_code_string(rc));
	hash_destroy(r.index);
	pfree(r.row.data);
	qsort(r.bufs, r.nbufs, sizeof(RowBuf), BufOrder);
	for (k = 0; k < r.nbufs; k++)
	{
		RowBuf	   *b = &r.bufs[k];
		int		   *order = palloc(sizeof(int) * b->n);
		uint32	   *off = palloc(sizeof(uint32) * b->n);
		uint32	   *len = palloc(sizeof(uint32) * b->n);
		SortCtx		sc = {b};

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < b->n; i++)
			order[i] = i;
		qsort_arg(order, b->n, sizeof(int), RowOrder, &sc);
		for (i = 0; i < b->n; i++)
		{
			off[i] = b->off[order[i]];
			len[i] = b->len[order[i]];
		}
		pfree(b->off);
		pfree(b->len);
		pfree(order);
		b->off = off;
		b->len = len;
	}
	*nbufs = r.nbufs;
	return r.bufs;
}

/* Raise when a hash operation failed. */
void
ContentCheckHash(int rc, pg_cryptohash_ctx *ctx)
{
	if (rc < 0)
		elog(ERROR, "SHA-256 failed: %s", pg_cryptohash_error(ctx));
}

/* A new SHA-256 context (freed by the caller, or with the resource owner on error). */
pg_cryptohash_ctx *
ContentSha256Create(void)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (!ctx)
		elog(ERROR, "could not create a SHA-256 context");
	return ctx;
}

/* Digest the monthly buffers into chunks (freeing the buffers). */
Chunk *
ContentDigest(pg_cryptohash_ctx *ctx, RowBuf *bufs, int n)
{
	Chunk	   *chunks = palloc(sizeof(Chunk) * (n + 1));
	int			k, i;

	for (k = 0; k < n; k++)
	{
		CHECK_FOR_INTERRUPTS();
		ContentCheckHash(pg_cryptohash_init(ctx), ctx);
		for (i = 0; i < bufs[k].n; i++)
			ContentCheckHash(pg_cryptohash_update(ctx, (const uint8 *) bufs[k].data.data + bufs[k].off[i], bufs[k].len[i]), ctx);
		ContentCheckHash(pg_cryptohash_final(ctx, chunks[k].digest, VERSION_DIGEST_LEN), ctx);
		chunks[k].month = bufs[k].month;
		chunks[k].rows = bufs[k].n;
		pfree(bufs[k].data.data);
		pfree(bufs[k].off);
		pfree(bufs[k].len);
	}
	pfree(bufs);
	return chunks;
}

/*
 * The rows of one month of a station (0: of a table without stations) as
 * of an instant, sorted bytewise, as one ChunkRows, or none (*nchunks 0)
 * (caller has SPI and an active snapshot).
 */
ChunkRows *
ContentChunkRows(const ContentTable *t, int32 station_id, int32 month, TimestampTz as_of, int *nchunks)
{
	SPIPlanPtr	plan = ContentPlan(t, as_of);
	RowBuf	   *bufs;
	ChunkRows  *out;
	int			n, k;

	bufs = ContentReadMonths(t, plan, station_id, ContentKeyBound(t, month), ContentKeyBound(t, month + 1), &n);
	SPI_freeplan(plan);
	out = palloc0(sizeof(ChunkRows) * (n + 1));
	for (k = 0; k < n; k++)
	{
		out[k].month = bufs[k].month;
		out[k].n = bufs[k].n;
		out[k].data = bufs[k].data.data;
		out[k].off = bufs[k].off;
		out[k].len = bufs[k].len;
	}
	*nchunks = n;
	return out;
}
