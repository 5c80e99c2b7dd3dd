/*
 * content.c — the content of a snapshot scope as of an instant: what
 * training reads of each versioned table, serialized canonically, cut into
 * monthly chunks, digested with SHA-256, combined into the content hash;
 * and the cache of chunk digests that lets a snapshot rehash only the
 * months that changed.
 *
 * Canonical serialization (independent of TimeZone, DateStyle,
 * extra_float_digits and physical order): a row is its content columns in
 * ContentTables order, each a byte 0 (NULL) or 1 followed by the value as
 * versions.h's ContentKind says.  A chunk's digest is SHA-256 of its rows'
 * serializations sorted bytewise and concatenated.  The content hash is
 * SHA-256 of "daily_seongsu snapshot v1\n" and, per table in ContentTables
 * order, its name, a zero byte, the number of chunks and of rows (uint64
 * big-endian), and per chunk (stations in scope order, then months
 * ascending) the station's line and name (as text values), the month
 * (int32, year * 12 + month - 1), its rows (uint64) and its digest.
 *
 * Rows are read through the as-of source of asof.c, one station per
 * statement, straight from the executor into per-month buffers (a
 * DestReceiver: no SPI tuple tables).  The cache (seongsu.snapshot_chunks)
 * holds a station's chunk digests as of an instant; a chunk stays valid
 * until a version of it is stamped later, which the BRIN index on
 * ingested_at and the history's valid_to index find without reading the
 * rest of the table.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/shortest_dec.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "tcop/dest.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "../safe_spi.h"
#include "versions.h"

#define CONTENT(vt, st, n, k, filter, lo, hi, ...) [vt] = {vt, st, n, k, __VA_ARGS__, filter, lo, hi}

/* What training reads of each versioned table (see the loaders in src/features). */
const ContentTable ContentTables[VT_NTABLES] = {
	CONTENT(VT_RIDERSHIP_DAILY, true, 3, 1, NULL, true, 0,
	  {"day", "boardings", "alightings"}, {CK_DATE, CK_INT4, CK_INT4}),
	CONTENT(VT_RIDERSHIP_HOURLY, true, 3, 1, NULL, false, 1,
	  {"ts", "service_day", "passengers"}, {CK_TSTZ, CK_DATE, CK_INT4}),
	CONTENT(VT_HOUR_PROFILE, true, 4, 2, NULL, false, 0,
	  {"month", "hour", "boardings", "alightings"}, {CK_DATE, CK_INT2, CK_INT8, CK_INT8}),
	CONTENT(VT_WEATHER_DAILY, false, 5, 2, NULL, false, -1,
	  {"day", "source", "temp_mean_c", "precip_mm", "snow_cm"}, {CK_DATE, CK_TEXT, CK_F8, CK_F8, CK_F8}),
	CONTENT(VT_WEATHER_FORECAST, false, 6, 3, "grain OPERATOR(pg_catalog.=) 'day'", true, 1,
	  {"target", "source", "issued_at", "temp_c", "precip_mm", "snow_cm"},
	  {CK_TSTZ, CK_TEXT, CK_TSTZ, CK_F8, CK_F8, CK_F8}),
	CONTENT(VT_HOLIDAYS, false, 4, 2, NULL, false, 41,
	  {"day", "name", "kind", "is_holiday"}, {CK_DATE, CK_TEXT, CK_TEXT, CK_BOOL}),
};

/* The SQL type of each kind. */
static const Oid KindTypes[] = {
	[CK_DATE] = DATEOID, [CK_TSTZ] = TIMESTAMPTZOID, [CK_INT2] = INT2OID, [CK_INT4] = INT4OID,
	[CK_INT8] = INT8OID, [CK_F8] = FLOAT8OID, [CK_TEXT] = TEXTOID, [CK_BOOL] = BOOLOID
};

/* ---- months ---- */

/* The month (year * 12 + month - 1) of a PostgreSQL date. */
static int32
MonthOfDate(int32 d)
{
	int			y, m, dd;

	KstPgDateParts(d, &y, &m, &dd);
	return y * 12 + m - 1;
}

/* The first day of a month. */
static int32
MonthStart(int32 month)
{
	return KstPgDate(month / 12, month % 12 + 1, 1);
}

/* The chunk month of a row's first key column (KST for instants). */
int32
ContentMonthOf(const ContentTable *t, Datum key0)
{
	return MonthOfDate(t->kinds[0] == CK_TSTZ ? KstDateOf(DatumGetTimestampTz(key0)) : DatumGetDateADT(key0));
}

/* The months of table t a scope covers, [*lo, *hi] (INT32_MIN / INT32_MAX: unbounded). */
void
ContentMonths(const ContentTable *t, const Scope *s, int32 *lo, int32 *hi)
{
	*lo = (t->from_lo && s->has_from) ? MonthOfDate(s->from - VERSION_LOOKBACK_DAYS) : PG_INT32_MIN;
	*hi = (t->hi_days >= 0 && s->has_to) ? MonthOfDate(s->to + t->hi_days) : PG_INT32_MAX;
}

/* The first-key-column value where month m starts (m = INT32_MIN / INT32_MAX: -infinity / infinity). */
static Datum
KeyBound(const ContentTable *t, int32 month)
{
	if (t->kinds[0] == CK_TSTZ)
	{
		if (month == PG_INT32_MIN)
			return TimestampTzGetDatum(DT_NOBEGIN);
		if (month == PG_INT32_MAX)
			return TimestampTzGetDatum(DT_NOEND);
		return TimestampTzGetDatum(KstInstant(MonthStart(month), 0));
	}
	if (month == PG_INT32_MIN)
		return DateADTGetDatum(DATEVAL_NOBEGIN);
	if (month == PG_INT32_MAX)
		return DateADTGetDatum(DATEVAL_NOEND);
	return DateADTGetDatum(MonthStart(month));
}

/* The first key column's range [*lo, *hi) of the months of table t a scope covers. */
void
ContentKeyRange(const ContentTable *t, const Scope *s, Datum *lo, Datum *hi)
{
	int32		mlo, mhi;

	ContentMonths(t, s, &mlo, &mhi);
	*lo = KeyBound(t, mlo);
	*hi = KeyBound(t, mhi == PG_INT32_MAX ? mhi : mhi + 1);
}

/* ---- serialization ---- */

/* Append an unsigned integer of n bytes, big-endian. */
static inline void
PutBE(StringInfo b, uint64 x, int n)
{
	char		buf[8];
	int			i;

	for (i = 0; i < n; i++)
		buf[i] = (char) (x >> (8 * (n - 1 - i)));
	appendBinaryStringInfo(b, buf, n);
}

/* Append one column value in its canonical form. */
static void
PutValue(StringInfo b, ContentKind k, Datum d, bool isnull)
{
	appendStringInfoChar(b, isnull ? 0 : 1);
	if (isnull)
		return;
	switch (k)
	{
		case CK_DATE:
			PutBE(b, (uint32) DatumGetDateADT(d), 4);
			break;
		case CK_TSTZ:
			PutBE(b, (uint64) DatumGetTimestampTz(d), 8);
			break;
		case CK_INT2:
			PutBE(b, (uint16) DatumGetInt16(d), 2);
			break;
		case CK_INT4:
			PutBE(b, (uint32) DatumGetInt32(d), 4);
			break;
		case CK_INT8:
			PutBE(b, (uint64) DatumGetInt64(d), 8);
			break;
		case CK_F8:
			{
				double		x = DatumGetFloat8(d);
				uint64		bits;

				if (x == 0)
					x = 0.0;	/* -0 is 0 */
				memcpy(&bits, &x, 8);
				if (isnan(x))
					bits = UINT64CONST(0x7ff8000000000000);
				PutBE(b, bits, 8);
				break;
			}
		case CK_TEXT:
			{
				text	   *t = DatumGetTextPP(d);

				PutBE(b, (uint32) VARSIZE_ANY_EXHDR(t), 4);
				appendBinaryStringInfo(b, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				break;
			}
		case CK_BOOL:
			appendStringInfoChar(b, DatumGetBool(d) ? 1 : 0);
			break;
	}
}

/* Read an unsigned big-endian integer of n bytes at *p, advancing it. */
static uint64
GetBE(const char **p, int n)
{
	uint64		x = 0;
	int			i;

	for (i = 0; i < n; i++)
		x = (x << 8) | (uint8) (*p)[i];
	*p += n;
	return x;
}

/* Append a PostgreSQL date as YYYY-MM-DD. */
static void
AppendDate(StringInfo s, int32 d)
{
	int			y, m, dd;

	KstPgDateParts(d, &y, &m, &dd);
	appendStringInfo(s, "%04d-%02d-%02d", y, m, dd);
}

/* Append an instant in KST, as 2024-05-01T08:00:00+09:00. */
static void
AppendInstant(StringInfo s, TimestampTz ts)
{
	int64		local = ts + (int64) KST_OFFSET_SECONDS * 1000000;
	int64		rem = local % KST_USECS_PER_DAY;
	int64		secs;

	if (rem < 0)
		rem += KST_USECS_PER_DAY;
	secs = rem / 1000000;
	AppendDate(s, KstDateOf(ts));
	appendStringInfo(s, "T%02d:%02d:%02d", (int) (secs / 3600), (int) (secs / 60 % 60), (int) (secs % 60));
	if (rem % 1000000 != 0)
		appendStringInfo(s, ".%06d", (int) (rem % 1000000));
	appendStringInfoString(s, "+09:00");
}

/* Decode one serialized value at *p into text (key) and JSON (json); advance *p. */
static void
DecodeValue(ContentKind k, const char **p, StringInfo text, StringInfo json)
{
	StringInfoData v;
	bool		quoted = true;

	if (*(*p)++ == 0)
	{
		if (text)
			appendStringInfoString(text, "NULL");
		if (json)
			appendStringInfoString(json, "null");
		return;
	}
	initStringInfo(&v);
	switch (k)
	{
		case CK_DATE:
			AppendDate(&v, (int32) (uint32) GetBE(p, 4));
			break;
		case CK_TSTZ:
			AppendInstant(&v, (int64) GetBE(p, 8));
			break;
		case CK_INT2:
			appendStringInfo(&v, "%d", (int) (int16) (uint16) GetBE(p, 2));
			quoted = false;
			break;
		case CK_INT4:
			appendStringInfo(&v, "%d", (int) (int32) (uint32) GetBE(p, 4));
			quoted = false;
			break;
		case CK_INT8:
			appendStringInfo(&v, INT64_FORMAT, (int64) GetBE(p, 8));
			quoted = false;
			break;
		case CK_F8:
			{
				uint64		bits = GetBE(p, 8);
				double		x;
				char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

				memcpy(&x, &bits, 8);
				double_to_shortest_decimal_buf(x, buf);
				appendStringInfoString(&v, buf);
				quoted = isnan(x) || isinf(x);
				break;
			}
		case CK_TEXT:
			{
				uint32		len = (uint32) GetBE(p, 4);

				appendBinaryStringInfo(&v, *p, len);
				*p += len;
				break;
			}
		case CK_BOOL:
			appendStringInfoString(&v, *(*p)++ ? "true" : "false");
			quoted = false;
			break;
	}
	if (text)
		appendStringInfoString(text, v.data);
	if (json && quoted)
		escape_json(json, v.data);
	else if (json)
		appendStringInfoString(json, v.data);
	pfree(v.data);
}

/*
 * A serialized row as a key text ("<line> <station> <key values>", space
 * separated) and a JSON object of its content columns.
 */
void
ContentDecodeRow(const ContentTable *t, const char *row, uint32 len, const Scope *s, int32 station_id,
				 StringInfo key, StringInfo json)
{
	const char *p = row;
	int			c, i;

	if (t->per_station)
		for (i = 0; i < s->nstations; i++)
			if (s->station_ids[i] == station_id)
				appendStringInfo(key, "%s %s ", s->lines[i], s->names[i]);
	appendStringInfoChar(json, '{');
	for (c = 0; c < t->ncols; c++)
	{
		if (c > 0)
			appendStringInfoString(json, ", ");
		if (c > 0 && c < t->nkey)
			appendStringInfoChar(key, ' ');
		escape_json(json, t->cols[c]);
		appendStringInfoString(json, ": ");
		DecodeValue(t->kinds[c], &p, c < t->nkey ? key : NULL, json);
	}
	appendStringInfoChar(json, '}');
	if (p != row + len)
		elog(ERROR, "a serialized %s row does not decode", VersionTableName(t->vt));
}

/* The length of a serialized row's key columns. */
static uint32
KeyLength(const ContentTable *t, const char *row)
{
	static const int fixed[] = {[CK_DATE] = 4, [CK_TSTZ] = 8, [CK_INT2] = 2, [CK_INT4] = 4, [CK_INT8] = 8,
	[CK_F8] = 8, [CK_TEXT] = 0, [CK_BOOL] = 1};
	const char *p = row;
	int			c;

	for (c = 0; c < t->nkey; c++)
	{
		if (*p++ == 0)
			continue;
		if (t->kinds[c] == CK_TEXT)
		{
			uint32		len = (uint32) GetBE(&p, 4);

			p += len;
		}
		else
			p += fixed[t->kinds[c]];
	}
	return (uint32) (p - row);
}

/* Order two serialized rows by their key columns' bytes (diff's merge order). */
int
ContentKeyCompare(const ContentTable *t, const char *a, uint32 alen, const char *b, uint32 blen)
{
	uint32		ka = KeyLength(t, a), kb = KeyLength(t, b);
	int			c = memcmp(a, b, Min(ka, kb));

	if (c != 0)
		return c;
	return ka < kb ? -1 : ka > kb;
}

/* ---- reading a station's rows into monthly buffers ---- */

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
		PutValue(&r->row, t->kinds[c], slot->tts_values[c + 1], slot->tts_isnull[c + 1]);
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
static SPIPlanPtr
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
static RowBuf *
ReadMonths(const ContentTable *t, SPIPlanPtr plan, int32 station_id, Datum lo, Datum hi, int *nbufs)
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
static void
CheckHash(int rc, pg_cryptohash_ctx *ctx)
{
	if (rc < 0)
		elog(ERROR, "SHA-256 failed: %s", pg_cryptohash_error(ctx));
}

/* A new SHA-256 context (freed by the caller, or with the resource owner on error). */
static pg_cryptohash_ctx *
Sha256Create(void)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (!ctx)
		elog(ERROR, "could not create a SHA-256 context");
	return ctx;
}

/* Digest the monthly buffers into chunks (freeing the buffers). */
static Chunk *
Digest(pg_cryptohash_ctx *ctx, RowBuf *bufs, int n)
{
	Chunk	   *chunks = palloc(sizeof(Chunk) * (n + 1));
	int			k, i;

	for (k = 0; k < n; k++)
	{
		CHECK_FOR_INTERRUPTS();
		CheckHash(pg_cryptohash_init(ctx), ctx);
		for (i = 0; i < bufs[k].n; i++)
			CheckHash(pg_cryptohash_update(ctx, (const uint8 *) bufs[k].data.data + bufs[k].off[i], bufs[k].len[i]), ctx);
		CheckHash(pg_cryptohash_final(ctx, chunks[k].digest, VERSION_DIGEST_LEN), ctx);
		chunks[k].month = bufs[k].month;
		chunks[k].rows = bufs[k].n;
		pfree(bufs[k].data.data);
		pfree(bufs[k].off);
		pfree(bufs[k].len);
	}
	pfree(bufs);
	return chunks;
}

/* ---- the cache ---- */

#define CHANGES_BATCH 10000

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
static void
CacheRead(const ContentTable *t, const int32 *ids, int n, TimestampTz as_of, CacheEntry **entries)
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
static void
CacheChanges(const ContentTable *t, const int32 *ids, int n, CacheEntry **entries)
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
static ChunkList
Merge(const ChunkList *e, int32 lo, int32 hi, Chunk *fresh, int nfresh)
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
	pg_cryptohash_ctx *ctx = Sha256Create();
	int			i;

	if (cached && n > 0)
	{
		CacheRead(t, ids, n, as_of, entries);
		CacheChanges(t, ids, n, entries);
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
		bufs = e ? ReadMonths(t, plan, ids[i], KeyBound(t, e->dirty_lo), KeyBound(t, e->dirty_hi + 1), &nbufs)
			: ReadMonths(t, plan, ids[i], KeyBound(t, PG_INT32_MIN), KeyBound(t, PG_INT32_MAX), &nbufs);
		fresh = Digest(ctx, bufs, nbufs);
		MemoryContextSwitchTo(old);
		kept = palloc(sizeof(Chunk) * (nbufs + 1));
		memcpy(kept, fresh, sizeof(Chunk) * nbufs);
		MemoryContextReset(cxt);
		if (e)
			lists[i] = Merge(&e->list, e->dirty_lo, e->dirty_hi, kept, nbufs);
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

	bufs = ReadMonths(t, plan, station_id, KeyBound(t, month), KeyBound(t, month + 1), &n);
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

/* Append a text value (uint32 length, bytes) to a hash input. */
static void
PutText(StringInfo b, const char *s)
{
	PutBE(b, (uint32) strlen(s), 4);
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
	ctx = Sha256Create();
	CheckHash(pg_cryptohash_init(ctx), ctx);
	CheckHash(pg_cryptohash_update(ctx, (const uint8 *) header, strlen(header)), ctx);
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
				PutBE(&rec, (uint32) c->month, 4);
				PutBE(&rec, (uint64) c->rows, 8);
				appendBinaryStringInfo(&rec, (const char *) c->digest, VERSION_DIGEST_LEN);
				rows += c->rows;
				nchunks++;
			}
		initStringInfo(&head);
		appendBinaryStringInfo(&head, name, strlen(name) + 1);
		PutBE(&head, nchunks, 8);
		PutBE(&head, rows, 8);
		CheckHash(pg_cryptohash_update(ctx, (const uint8 *) head.data, head.len), ctx);
		CheckHash(pg_cryptohash_update(ctx, (const uint8 *) rec.data, rec.len), ctx);
		appendStringInfo(row_counts, "%s\"%s\": " UINT64_FORMAT, vt ? ", " : "", name, rows);
		if (vt == VT_RIDERSHIP_DAILY)
			*daily_rows = (int64) rows;
	}
	appendStringInfoChar(row_counts, '}');
	CheckHash(pg_cryptohash_final(ctx, digest, VERSION_DIGEST_LEN), ctx);
	pg_cryptohash_free(ctx);
	hex_encode((const char *) digest, VERSION_DIGEST_LEN, hex);
	hex[2 * VERSION_DIGEST_LEN] = '\0';
}
