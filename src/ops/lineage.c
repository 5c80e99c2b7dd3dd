/*
 * lineage.c — seongsu.lineage(snapshot_id): where a snapshot's rows come
 * from.
 *
 * Every version carries its source label and its version stamp (the write
 * that made it, stamp.c); the snapshot's rows, read as of its instant, are
 * grouped by table, source and stamp.  An ingestion job writes its rows in
 * the transaction that marks it done, so a group belongs to the job whose
 * source writes that label and whose run [started_at, finished_at] holds
 * the stamp; rows of imports and other writes have no job.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "../ingest/sources.h"
#include "../safe_spi.h"
#include "versions.h"

PG_FUNCTION_INFO_V1(lineage);

/* The ingestion job that wrote rows labelled source at stamp, or 0 (caller has SPI). */
static int64
JobOf(const char *source, TimestampTz stamp)
{
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		v[1] = {TimestampTzGetDatum(stamp)};
	uint64		r;

	if (SPI_execute_with_args("SELECT id, source FROM seongsu.jobs WHERE state OPERATOR(pg_catalog.=) 'done' "
							  "AND started_at OPERATOR(pg_catalog.<=) $1 AND finished_at OPERATOR(pg_catalog.>=) $1 "
							  "ORDER BY id", 1, types, v, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.jobs");
	for (r = 0; r < SPI_processed; r++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);
		const char *label;
		SourceId	id;
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		if (!SourceLookup(name, &id) || !(label = SourceRowsLabel(id)) || strcmp(label, source) != 0)
			continue;
		return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
	}
	return 0;
}

/* One group of rows. */
typedef struct WriteGroup
{
	char	   *source;
	TimestampTz written_at;
	int64		rows;
	int32		first_day;
	int32		last_day;
} WriteGroup;

/* lineage(snapshot_id): per table, source and write, the snapshot's rows and the job that wrote them. */
Datum
lineage(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	Scope		s;
	TimestampTz as_of;
	char	   *hash;
	int			vt, spi;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	spi = SsSpiConnect();
	ScopeOfSnapshot(PG_GETARG_INT64(0), &s, &as_of, &hash);
	ScopeResolve(&s);
	for (vt = 0; vt < VT_NTABLES; vt++)
	{
		const ContentTable *t = &ContentTables[vt];
		const char *day = t->kinds[0] == CK_TSTZ
			? psprintf("(%s AT TIME ZONE 'Asia/Seoul')::pg_catalog.date", t->cols[0]) : t->cols[0];
		Oid			types[3] = {INT4ARRAYOID, t->kinds[0] == CK_TSTZ ? TIMESTAMPTZOID : DATEOID,
		t->kinds[0] == CK_TSTZ ? TIMESTAMPTZOID : DATEOID};
		Datum		v[3];
		Datum	   *ids = palloc(sizeof(Datum) * (s.nstations + 1));
		WriteGroup *groups;
		uint64		r, n;
		int			i;

		for (i = 0; i < s.nstations; i++)
			ids[i] = Int32GetDatum(s.station_ids[i]);
		v[0] = PointerGetDatum(construct_array(ids, s.nstations, INT4OID, 4, true, TYPALIGN_INT));
		ContentKeyRange(t, &s, &v[1], &v[2]);
		if (SPI_execute_with_args(psprintf("SELECT source, ingested_at, pg_catalog.count(*), pg_catalog.min(%s), "
										   "pg_catalog.max(%s) FROM (%s) AS v WHERE %s%s OPERATOR(pg_catalog.>=) $2 "
										   "AND %s OPERATOR(pg_catalog.<) $3%s%s GROUP BY source, ingested_at "
										   "ORDER BY ingested_at, source",
										   day, day, VersionSourceAt(vt, as_of),
										   t->per_station ? "station_id OPERATOR(pg_catalog.=) ANY ($1) AND " : "",
										   t->cols[0], t->cols[0], t->filter ? " AND " : "", t->filter ? t->filter : ""),
								  3, types, v, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read %s", VersionTableName(vt));
		n = SPI_processed;
		groups = palloc(sizeof(WriteGroup) * (n + 1));
		for (r = 0; r < n; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;

			groups[r].source = SPI_getvalue(tup, desc, 1);
			groups[r].written_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull));
			groups[r].rows = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
			groups[r].first_day = DatumGetDateADT(SPI_getbinval(tup, desc, 4, &isnull));
			groups[r].last_day = DatumGetDateADT(SPI_getbinval(tup, desc, 5, &isnull));
		}
		for (r = 0; r < n; r++)
		{
			Datum		out[7];
			bool		nulls[7] = {false, false, false, false, false, false, false};
			int64		job;

			CHECK_FOR_INTERRUPTS();
			job = JobOf(groups[r].source, groups[r].written_at);
			out[0] = CStringGetTextDatum(VersionTableName(vt));
			out[1] = CStringGetTextDatum(groups[r].source);
			out[2] = TimestampTzGetDatum(groups[r].written_at);
			out[3] = Int64GetDatum(groups[r].rows);
			out[4] = DateADTGetDatum(groups[r].first_day);
			out[5] = DateADTGetDatum(groups[r].last_day);
			out[6] = Int64GetDatum(job);
			nulls[6] = job == 0;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
		}
	}
	SsSpiFinish(spi);
	return (Datum) 0;
}
