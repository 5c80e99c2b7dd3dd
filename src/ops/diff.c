/*
 * diff.c — seongsu.diff_snapshots(a, b): the rows added, changed and
 * removed from one snapshot to another.
 *
 * Both contents are read as of their instants through the history, chunk
 * by chunk (content.c): months whose digests are equal are skipped, the
 * others are read whole and merged by key.  Rows are listed by table (in
 * the order of versions.h), station (canonical order), month and key.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "../safe_spi.h"
#include "versions.h"

PG_FUNCTION_INFO_V1(diff_snapshots);

/* One side of the comparison. */
typedef struct Side
{
	Scope		scope;
	TimestampTz as_of;
	char	   *hash;
	ChunkList  *lists;			/* of the current table, one per station of the scope */
	int32		lo;				/* months of the current table in the scope */
	int32		hi;
} Side;

/* Where the rows go. */
typedef struct Out
{
	ReturnSetInfo *rsinfo;
	const ContentTable *t;
} Out;

/* Emit one row of the result. */
static void
Emit(Out *o, const char *change, const Scope *s, int32 station_id, const char *old_row, uint32 old_len,
	 const char *new_row, uint32 new_len)
{
	StringInfoData key, oj, nj;
	Datum		v[5];
	bool		n[5] = {false, false, false, old_row == NULL, new_row == NULL};

	initStringInfo(&key);
	initStringInfo(&oj);
	initStringInfo(&nj);
	if (old_row)
		ContentDecodeRow(o->t, old_row, old_len, s, station_id, &key, &oj);
	if (new_row)
	{
		if (old_row)
			resetStringInfo(&key);
		ContentDecodeRow(o->t, new_row, new_len, s, station_id, &key, &nj);
	}
	v[0] = CStringGetTextDatum(VersionTableName(o->t->vt));
	v[1] = CStringGetTextDatum(key.data);
	v[2] = CStringGetTextDatum(change);
	v[3] = old_row ? DirectFunctionCall1(jsonb_in, CStringGetDatum(oj.data)) : (Datum) 0;
	v[4] = new_row ? DirectFunctionCall1(jsonb_in, CStringGetDatum(nj.data)) : (Datum) 0;
	tuplestore_putvalues(o->rsinfo->setResult, o->rsinfo->setDesc, v, n);
}

/* The rows of one month on each side (none: not in that side), merged by key. */
static void
DiffMonth(Out *o, const Scope *s, int32 station_id, int32 month, const Side *a, bool in_a, const Side *b, bool in_b)
{
	ChunkRows  *ra = NULL, *rb = NULL;
	int			na = 0, nb = 0, i = 0, j = 0;

	if (in_a)
		ra = ContentChunkRows(o->t, station_id, month, a->as_of, &na);
	if (in_b)
		rb = ContentChunkRows(o->t, station_id, month, b->as_of, &nb);
	na = na ? ra->n : 0;
	nb = nb ? rb->n : 0;
	while (i < na || j < nb)
	{
		int			c;

		CHECK_FOR_INTERRUPTS();
		if (i == na)
			c = 1;
		else if (j == nb)
			c = -1;
		else
			c = ContentKeyCompare(o->t, ra->data + ra->off[i], ra->len[i], rb->data + rb->off[j], rb->len[j]);
		if (c < 0)
		{
			Emit(o, "removed", s, station_id, ra->data + ra->off[i], ra->len[i], NULL, 0);
			i++;
		}
		else if (c > 0)
		{
			Emit(o, "added", s, station_id, NULL, 0, rb->data + rb->off[j], rb->len[j]);
			j++;
		}
		else
		{
			if (ra->len[i] != rb->len[j] ||
				memcmp(ra->data + ra->off[i], rb->data + rb->off[j], ra->len[i]) != 0)
				Emit(o, "changed", s, station_id, ra->data + ra->off[i], ra->len[i],
					 rb->data + rb->off[j], rb->len[j]);
			i++;
			j++;
		}
	}
}

/* The chunk list of a station on one side, or NULL when the station is not in its scope. */
static const ChunkList *
ListOf(const Side *side, const ContentTable *t, int32 station_id)
{
	int			i;

	if (!t->per_station)
		return &side->lists[0];
	for (i = 0; i < side->scope.nstations; i++)
		if (side->scope.station_ids[i] == station_id)
			return &side->lists[i];
	return NULL;
}

/* Compare one station's months of the current table on both sides. */
static void
DiffStation(Out *o, const Scope *s, int32 station_id, const Side *a, const Side *b)
{
	const ChunkList *la = ListOf(a, o->t, station_id), *lb = ListOf(b, o->t, station_id);
	int			i = 0, j = 0;
	int			na = la ? la->n : 0, nb = lb ? lb->n : 0;

	while (i < na || j < nb)
	{
		const Chunk *ca = i < na ? &la->chunks[i] : NULL, *cb = j < nb ? &lb->chunks[j] : NULL;
		int32		month = ca && (!cb || ca->month <= cb->month) ? ca->month : cb->month;
		bool		in_a = la && month >= a->lo && month <= a->hi;
		bool		in_b = lb && month >= b->lo && month <= b->hi;
		bool		has_a = ca && ca->month == month && in_a, has_b = cb && cb->month == month && in_b;

		CHECK_FOR_INTERRUPTS();
		if (has_a != has_b || (has_a && memcmp(ca->digest, cb->digest, VERSION_DIGEST_LEN) != 0))
			DiffMonth(o, s, station_id, month, a, has_a, b, has_b);
		if (ca && ca->month == month)
			i++;
		if (cb && cb->month == month)
			j++;
	}
}

/* Order of station k of scope x against station l of scope y (canonical: line, name). */
static int
StationCompare(const Scope *x, int k, const Scope *y, int l)
{
	int			c = strcmp(x->lines[k], y->lines[l]);

	return c != 0 ? c : strcmp(x->names[k], y->names[l]);
}

/* diff_snapshots(a, b): the rows added, changed and removed from snapshot a to snapshot b. */
Datum
diff_snapshots(PG_FUNCTION_ARGS)
{
	Side		a, b;
	Out			o;
	int			vt, spi;

	InitMaterializedSRF(fcinfo, 0);
	o.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	spi = SsSpiConnect();
	ScopeOfSnapshot(PG_GETARG_INT64(0), &a.scope, &a.as_of, &a.hash);
	ScopeOfSnapshot(PG_GETARG_INT64(1), &b.scope, &b.as_of, &b.hash);
	if (strcmp(a.hash, b.hash) == 0)
	{
		SsSpiFinish(spi);
		return (Datum) 0;		/* the same content */
	}
	ScopeResolve(&a.scope);
	ScopeResolve(&b.scope);
	for (vt = 0; vt < VT_NTABLES; vt++)
	{
		const ContentTable *t = &ContentTables[vt];
		int			i = 0, j = 0;

		o.t = t;
		a.lists = ContentChunks(t, &a.scope, a.as_of, false, NULL);
		b.lists = ContentChunks(t, &b.scope, b.as_of, false, NULL);
		ContentMonths(t, &a.scope, &a.lo, &a.hi);
		ContentMonths(t, &b.scope, &b.lo, &b.hi);
		if (!t->per_station)
		{
			DiffStation(&o, &a.scope, 0, &a, &b);
			continue;
		}
		/* the stations of both scopes, in canonical order */
		while (i < a.scope.nstations || j < b.scope.nstations)
		{
			int			c = i == a.scope.nstations ? 1 : j == b.scope.nstations ? -1
				: StationCompare(&a.scope, i, &b.scope, j);

			CHECK_FOR_INTERRUPTS();
			if (c <= 0)
				DiffStation(&o, &a.scope, a.scope.station_ids[i], &a, &b);
			else
				DiffStation(&o, &b.scope, b.scope.station_ids[j], &a, &b);
			if (c <= 0)
				i++;
			if (c >= 0)
				j++;
		}
	}
	SsSpiFinish(spi);
	return (Datum) 0;
}
