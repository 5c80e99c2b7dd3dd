/*
 * snapshot.c — seongsu.snapshot() and seongsu.verify_snapshot(): the
 * content-addressed version of what training reads for a station, and the
 * proof that it can be read back.
 *
 * snapshot() reads the data as of T = the clock when it starts: it first
 * waits for every transaction then holding a write lock on a versioned
 * table (WaitForLockersMultiple, as CREATE INDEX CONCURRENTLY does), then
 * takes a fresh MVCC snapshot and reads the rows as of T (asof.c).  Every
 * version stamped at or before T comes from a transaction that held such a
 * lock at T (stamp.c), so it has ended, and is seen exactly when it
 * committed; versions stamped later are left out by the as-of condition.
 * The data as of T are therefore fixed: read again later through the
 * history they are the same, which verify_snapshot() checks by hashing
 * them again.  A REPEATABLE READ or SERIALIZABLE transaction cannot take a
 * snapshot (its MVCC snapshot was taken before it waited).
 *
 * The snapshot row is the same for the same scope and content (looked up
 * by content hash before one is added; two transactions adding the same
 * new content at the same moment may each add one, both valid).  Rows are
 * written as the extension's owner: nobody else writes the tables.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "../features/features.h"
#include "../safe_spi.h"
#include "versions.h"

PG_FUNCTION_INFO_V1(snapshot);
PG_FUNCTION_INFO_V1(verify_snapshot);

/* The extension's owner (caller has SPI). */
Oid
VersionOwner(void)
{
	bool		isnull;

	if (SPI_execute("SELECT e.extowner FROM pg_catalog.pg_extension e "
					"WHERE e.extname OPERATOR(pg_catalog.=) 'daily_seongsu'", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "the daily_seongsu extension is not installed");
	return DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Run one statement as owner (the extension's, VersionOwner), in a
 * restricted security context (caller has SPI); an error unwinds the role
 * with the transaction.
 */
void
VersionExecAsOwner(Oid owner, const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect)
{
	Oid			user;
	int			sec, rc;

	GetUserIdAndSecContext(&user, &sec);
	SetUserIdAndSecContext(owner, sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
	SetUserIdAndSecContext(user, sec);
	if (rc != expect)
		elog(ERROR, "SPI failed (%s): %s", SPI_result_code_string(rc), sql);
}

/* The canonical order of stations: line, then name, bytewise. */
static int
StationOrder(const Scope *s, int a, int b)
{
	int			c = strcmp(s->lines[a], s->lines[b]);

	return c != 0 ? c : strcmp(s->names[a], s->names[b]);
}

/*
 * The stations of a scope, in canonical order (caller has SPI): the one
 * named, or every station (of the line, when one is given).  ERROR for an
 * unknown station or line, or a station without its line.
 */
void
ScopeResolve(Scope *s)
{
	uint64		r;
	int			i, j;

	if (s->station)
	{
		if (!s->line)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a station needs its line"),
					 errdetail("The station is \"%s\" and the line is null.", s->station),
					 errhint("Give the line too (e.g. line => '2호선'), or no station for every station.")));
		s->nstations = 1;
		s->station_ids = palloc(sizeof(int32));
		s->station_ids[0] = FeatureStationId(s->station, s->line);
		s->lines = palloc(sizeof(char *));
		s->names = palloc(sizeof(char *));
		s->lines[0] = pstrdup(s->line);
		s->names[0] = pstrdup(s->station);
		return;
	}
	if (s->line)
	{
		Oid			types[1] = {TEXTOID};
		Datum		v[1] = {CStringGetTextDatum(s->line)};

		if (SPI_execute_with_args("SELECT id, line, name FROM seongsu.stations WHERE line OPERATOR(pg_catalog.=) $1",
								  1, types, v, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read seongsu.stations");
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("line \"%s\" is unknown", s->line),
					 errhint("Stations come from imported or ingested ridership; see seongsu.stations.")));
	}
	else if (SPI_execute("SELECT id, line, name FROM seongsu.stations", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.stations");
	s->nstations = (int) SPI_processed;
	s->station_ids = palloc(sizeof(int32) * (s->nstations + 1));
	s->lines = palloc(sizeof(char *) * (s->nstations + 1));
	s->names = palloc(sizeof(char *) * (s->nstations + 1));
	for (r = 0; r < SPI_processed; r++)
	{
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		s->station_ids[r] = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
		s->lines[r] = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);
		s->names[r] = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 3);
	}
	/* insertion sort: a few hundred stations */
	for (i = 1; i < s->nstations; i++)
		for (j = i; j > 0 && StationOrder(s, j - 1, j) > 0; j--)
		{
			int32		id = s->station_ids[j];
			char	   *l = s->lines[j], *n = s->names[j];

			s->station_ids[j] = s->station_ids[j - 1];
			s->lines[j] = s->lines[j - 1];
			s->names[j] = s->names[j - 1];
			s->station_ids[j - 1] = id;
			s->lines[j - 1] = l;
			s->names[j - 1] = n;
		}
}

/* The scope as a JSON object (as stored in seongsu.snapshots.scope). */
static char *
ScopeJson(const Scope *s)
{
	StringInfoData j;

	initStringInfo(&j);
	appendStringInfoString(&j, "{\"station\": ");
	if (s->station)
		escape_json(&j, s->station);
	else
		appendStringInfoString(&j, "null");
	appendStringInfoString(&j, ", \"line\": ");
	if (s->line)
		escape_json(&j, s->line);
	else
		appendStringInfoString(&j, "null");
	appendStringInfo(&j, ", \"from_date\": %s%s%s, \"to_date\": %s%s%s}",
					 s->has_from ? "\"" : "", s->has_from ? IsoDate(s->from) : "null", s->has_from ? "\"" : "",
					 s->has_to ? "\"" : "", s->has_to ? IsoDate(s->to) : "null", s->has_to ? "\"" : "");
	return j.data;
}

/*
 * The scope, instant and content hash of snapshot id (caller has SPI).
 * ERROR when there is no such snapshot, or its history was purged.
 */
void
ScopeOfSnapshot(int64 id, Scope *s, TimestampTz *as_of, char **hash)
{
	Oid			types[1] = {INT8OID};
	Datum		v[1] = {Int64GetDatum(id)};
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;

	if (SPI_execute_with_args("SELECT scope OPERATOR(pg_catalog.->>) 'station', scope OPERATOR(pg_catalog.->>) 'line', "
							  "(scope OPERATOR(pg_catalog.->>) 'from_date')::pg_catalog.date, "
							  "(scope OPERATOR(pg_catalog.->>) 'to_date')::pg_catalog.date, as_of, content_hash, purged_at "
							  "FROM seongsu.snapshots WHERE snapshot_id OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.snapshots");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("snapshot " INT64_FORMAT " does not exist", id),
				 errdetail("seongsu.snapshots has no row with that snapshot_id."),
				 errhint("Take one with seongsu.snapshot(); a model's is in its metrics (snapshot_id).")));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	(void) SPI_getbinval(tup, desc, 7, &isnull);
	if (!isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("snapshot " INT64_FORMAT " can no longer be read", id),
				 errdetail("seongsu.purge_history removed versions of the data it needs."),
				 errhint("Take a new snapshot of the current data with seongsu.snapshot().")));
	memset(s, 0, sizeof(*s));
	s->station = SPI_getvalue(tup, desc, 1);
	s->line = SPI_getvalue(tup, desc, 2);
	s->from = DatumGetDateADT(SPI_getbinval(tup, desc, 3, &isnull));
	s->has_from = !isnull;
	s->to = DatumGetDateADT(SPI_getbinval(tup, desc, 4, &isnull));
	s->has_to = !isnull;
	*as_of = DatumGetTimestampTz(SPI_getbinval(tup, desc, 5, &isnull));
	*hash = SPI_getvalue(tup, desc, 6);
}

/* Wait until every transaction now holding a write lock on a versioned table has ended. */
static void
WaitForWriters(void)
{
	Oid			schema = get_namespace_oid("seongsu", false);
	List	   *tags = NIL;
	int			vt;

	for (vt = 0; vt < VT_NTABLES; vt++)
	{
		LOCKTAG    *tag = palloc(sizeof(LOCKTAG));
		Oid			rel = get_relname_relid(VersionTableName(vt), schema);

		if (!OidIsValid(rel))
			elog(ERROR, "table seongsu.%s is missing", VersionTableName(vt));
		SET_LOCKTAG_RELATION(*tag, MyDatabaseId, rel);
		tags = lappend(tags, tag);
	}
	WaitForLockersMultiple(tags, ShareLock, false);
}

/* The date argument argno, or none (*has false); ERROR when infinite. */
static void
DateArg(FunctionCallInfo fcinfo, int argno, const char *name, bool *has, int32 *value)
{
	*has = !PG_ARGISNULL(argno);
	if (!*has)
		return;
	*value = PG_GETARG_DATEADT(argno);
	if (DATE_NOT_FINITE(*value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite date", name),
				 errhint("Leave it null for no bound.")));
}

/*
 * snapshot(station, line, from_date, to_date): the id of the snapshot of
 * the scope's content as of now, an existing one when its content is the
 * same.
 */
Datum
snapshot(PG_FUNCTION_ARGS)
{
	Scope		s;
	TimestampTz as_of;
	char		hex[2 * VERSION_DIGEST_LEN + 1];
	StringInfoData counts;
	List	   *cache_rows = NIL;
	int64		daily_rows, id;
	Oid			types[4] = {TEXTOID, JSONBOID, JSONBOID, TIMESTAMPTZOID};
	Datum		v[4];
	bool		isnull;
	int			spi;

	memset(&s, 0, sizeof(s));
	s.station = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	s.line = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	DateArg(fcinfo, 2, "from_date", &s.has_from, &s.from);
	DateArg(fcinfo, 3, "to_date", &s.has_to, &s.to);
	if (s.has_from && s.has_to && s.to < s.from)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("to_date is before from_date"),
				 errdetail("The scope %s..%s is empty.", IsoDate(s.from), IsoDate(s.to)),
				 errhint("Give the earlier day first.")));
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a data snapshot cannot be taken in a %s transaction",
						IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
				 errdetail("A snapshot waits for concurrent writers of the data to finish and must then see what they committed; this transaction's view was fixed when it started."),
				 errhint("Call seongsu.snapshot() (and seongsu.train()) in a READ COMMITTED transaction.")));
	as_of = GetCurrentTimestamp();
	WaitForWriters();
	spi = SsSpiConnect();
	PushActiveSnapshot(GetTransactionSnapshot());
	ScopeResolve(&s);
	initStringInfo(&counts);
	ContentHash(&s, as_of, true, hex, &counts, &daily_rows, &cache_rows);
	PopActiveSnapshot();
	if (daily_rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("nothing to snapshot: no daily ridership in the scope"),
				 errdetail("The scope is %s.", ScopeJson(&s)),
				 errhint("Import or ingest ridership first, or widen from_date and to_date.")));
	v[0] = CStringGetTextDatum(hex);
	v[1] = DirectFunctionCall1(jsonb_in, CStringGetDatum(ScopeJson(&s)));
	v[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(counts.data));
	v[3] = TimestampTzGetDatum(as_of);
	if (SPI_execute_with_args("SELECT snapshot_id FROM seongsu.snapshots WHERE content_hash OPERATOR(pg_catalog.=) $1 "
							  "AND scope OPERATOR(pg_catalog.=) $2 AND purged_at IS NULL ORDER BY snapshot_id LIMIT 1",
							  2, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.snapshots");
	if (SPI_processed == 0)
		VersionExecAsOwner(VersionOwner(), "INSERT INTO seongsu.snapshots (content_hash, scope, row_counts, as_of) "
						   "VALUES ($1, $2, $3, $4) RETURNING snapshot_id", 4, types, v, NULL, SPI_OK_INSERT_RETURNING);
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	ContentCacheWrite(cache_rows, as_of);
	SsSpiFinish(spi);
	PG_RETURN_INT64(id);
}

/* verify_snapshot(id): whether the snapshot's data, read again as of its instant, hash to its content_hash. */
Datum
verify_snapshot(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	Scope		s;
	TimestampTz as_of;
	char	   *hash;
	char		hex[2 * VERSION_DIGEST_LEN + 1];
	StringInfoData counts;
	int64		daily_rows;
	int			spi = SsSpiConnect();

	ScopeOfSnapshot(id, &s, &as_of, &hash);
	ScopeResolve(&s);
	initStringInfo(&counts);
	ContentHash(&s, as_of, false, hex, &counts, &daily_rows, NULL);
	SsSpiFinish(spi);
	PG_RETURN_BOOL(strcmp(hex, hash) == 0);
}
