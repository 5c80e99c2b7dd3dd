/*
 * job_record.c — the job queue's bookkeeping: statements as the extension's
 * owner, the worker's transactions, what became of a claimed job, and
 * recording a run (its rows, its ingest_log rows and the job's new state,
 * or a pending job again after a transient failure).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "../safe_spi.h"
#include "../settings.h"
#include "job_run.h"
#include "secrets.h"
#include "upsert.h"

/* Run one SPI statement with arguments, raising on failure. */
void
JobExec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc != expect)
		elog(ERROR, "SPI failed (%s): %s", SPI_result_code_string(rc), sql);
}

/*
 * Exec as role owner, in a restricted security context: jobs and
 * ingest_log are written as the extension's owner only.  On error the
 * (sub)transaction's abort restores the caller's role.
 */
void
JobExecAs(Oid owner, const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect)
{
	Oid			user;
	int			sec;

	GetUserIdAndSecContext(&user, &sec);
	SetUserIdAndSecContext(owner, sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	JobExec(sql, nargs, types, values, nulls, expect);
	SetUserIdAndSecContext(user, sec);
}

/* The extension's OID in this database (InvalidOid when not installed); its owner into *owner. */
Oid
JobsInstall(Oid *owner)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			oid = InvalidOid;

	*owner = InvalidOid;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("daily_seongsu"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		oid = ((Form_pg_extension) GETSTRUCT(tup))->oid;
		*owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return oid;
}


/* The SPI connection of the worker's current transaction (SsSpiConnect's level). */
static int	worker_spi;

/* Whether seongsu.jobs has enqueued_by (0.2.0; an installation of 0.1.0 not yet updated has not). */
bool
JobsHaveEnqueuedBy(void)
{
	Oid			rel = get_relname_relid("jobs", get_namespace_oid("seongsu", false));

	return OidIsValid(rel) && get_attnum(rel, "enqueued_by") != InvalidAttrNumber;
}

/* Begin a worker transaction with SPI and a snapshot. */
void
JobTxBegin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	worker_spi = SsSpiConnect();
	PushActiveSnapshot(GetTransactionSnapshot());
}

/* Commit a worker transaction. */
void
JobTxCommit(void)
{
	SsSpiFinish(worker_spi);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
}

/* What became of the job since this run claimed it (caller has SPI); lock: keep its row locked. */
JobVerdict
JobVerdictOf(JobRun *job, bool lock)
{
	Oid			types[1] = {INT8OID};
	Datum		v[1];
	Oid			owner;
	bool		isnull;
	HeapTuple	tup;

	if (JobsInstall(&owner) != job->install)
		return JOB_FOREIGN;
	v[0] = Int64GetDatum(job->id);
	if (lock)
		JobExecAs(job->owner, "SELECT state, attempts FROM seongsu.jobs WHERE id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
			   1, types, v, NULL, SPI_OK_SELECT);
	else
		JobExec("SELECT state, attempts FROM seongsu.jobs WHERE id OPERATOR(pg_catalog.=) $1",
			 1, types, v, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return JOB_GONE;
	tup = SPI_tuptable->vals[0];
	if (strcmp(SPI_getvalue(tup, SPI_tuptable->tupdesc, 1), "running") != 0 ||
		DatumGetInt32(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull)) != job->attempt)
		return JOB_NOT_OURS;
	return JOB_OURS;
}


/* Seconds before a job whose run number attempt failed runs again: doubling, capped. */
static int
JobRetryDelaySec(int attempt)
{
	int64		d = seongsu_job_retry_delay;
	int			i;

	for (i = 1; i < attempt && d < MAX_JOB_RETRY_DELAY_S; i++)
		d *= 2;
	return (int) Min(d, MAX_JOB_RETRY_DELAY_S);
}

/* Write the run's ingest_log rows; rows_written as counted when wrote, else 0 (caller has SPI). */
void
JobRecordLog(JobRun *job, bool wrote)
{
	ListCell   *lc;
	Oid			types[12] = {INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID, TEXTOID, FLOAT8OID,
	INT8OID, INT4OID, INT8OID, TEXTOID, TIMESTAMPTZOID};

	foreach(lc, job->log)
	{
		LogEntry   *e = lfirst(lc);
		Datum		v[12];
		char		n[13] = "            ";

		v[0] = Int64GetDatum(job->id);
		v[1] = CStringGetTextDatum(SourceName(job->source));
		v[2] = CStringGetTextDatum(e->url);
		v[3] = Int32GetDatum(e->attempt);
		v[4] = Int32GetDatum((int32) e->status);
		n[4] = e->status > 0 ? ' ' : 'n';
		v[5] = e->api_code ? CStringGetTextDatum(e->api_code) : (Datum) 0;
		n[5] = e->api_code ? ' ' : 'n';
		v[6] = Float8GetDatum(e->latency_ms);
		v[7] = Int64GetDatum(e->bytes);
		v[8] = Int32GetDatum(e->rows_parsed);
		v[9] = Int64GetDatum(wrote ? e->rows_written : 0);
		v[10] = e->error ? CStringGetTextDatum(e->error) : (Datum) 0;
		n[10] = e->error ? ' ' : 'n';
		v[11] = TimestampTzGetDatum(e->at);
		JobExecAs(job->owner, "INSERT INTO seongsu.ingest_log (job_id, source, url, attempt, http_status, api_code, "
			   "latency_ms, bytes, rows_parsed, rows_written, error, at) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
			   12, types, v, n, SPI_OK_INSERT);
	}
}

/*
 * Write the run's rows (unless it failed), its log and the job's new state:
 * done, failed, or — after a failure on a transient error only, with runs
 * left — pending again after the job-level back-off (caller has SPI).
 */
void
JobRecord(JobRun *job)
{
	ListCell   *lc;
	Oid			types[6] = {INT8OID, TEXTOID, INT8OID, INT4OID, TEXTOID, TIMESTAMPTZOID};
	Datum		v[6];
	char		n[7] = "      ";

	if (!job->failed)
		foreach(lc, job->units)
		{
			UnitRun    *ur = lfirst(lc);

			if (ur->state == UNIT_DONE && ur->has_rows)
			{
				uint64		written = UpsertRowSet(&ur->rows);

				ur->success->rows_written = (int64) written;
				job->written += (int64) written;
			}
		}
	JobRecordLog(job, !job->failed);
	v[0] = Int64GetDatum(job->id);
	v[1] = CStringGetTextDatum(job->failed ? "failed" : "done");
	v[2] = Int64GetDatum(job->written);
	v[3] = Int32GetDatum(job->requests);
	v[4] = job->error ? CStringGetTextDatum(job->error) : (Datum) 0;
	n[4] = job->error ? ' ' : 'n';
	if (job->failed && job->transient && !job->final && job->attempt < seongsu_job_max_attempts)
	{
		int			delay = JobRetryDelaySec(job->attempt);

		v[5] = TimestampTzGetDatum(TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) delay * 1000));
		JobExecAs(job->owner, "UPDATE seongsu.jobs SET state = 'pending', rows_written = 0, requests = $4, "
			   "last_error = $5, next_attempt_at = $6, finished_at = NULL WHERE id OPERATOR(pg_catalog.=) $1",
			   6, types, v, n, SPI_OK_UPDATE);
		ereport(LOG,
				(errmsg("daily_seongsu: job " INT64_FORMAT " failed on a transient error; run %d of %d starts in %d s",
						job->id, job->attempt + 1, seongsu_job_max_attempts, delay)));
		return;
	}
	n[5] = 'n';
	JobExecAs(job->owner, "UPDATE seongsu.jobs SET state = $2, rows_written = $3, requests = $4, last_error = $5, "
		   "finished_at = pg_catalog.clock_timestamp() WHERE id OPERATOR(pg_catalog.=) $1",
		   6, types, v, n, SPI_OK_UPDATE);
}

/* Record the run as far as the job is still its own (caller has SPI; locks the job's row). */
void
JobFinish(JobRun *job)
{
	switch (JobVerdictOf(job, true))
	{
		case JOB_OURS:
			JobRecord(job);
			break;
		case JOB_NOT_OURS:
			/* cancelled (or reset and run again): its attempts are logged, its rows not written */
			JobRecordLog(job, false);
			break;
		case JOB_GONE:
			ereport(LOG,
					(errmsg("daily_seongsu: job " INT64_FORMAT " was deleted while it ran; its results are discarded",
							job->id)));
			break;
		case JOB_FOREIGN:
			ereport(LOG,
					(errmsg("daily_seongsu: job " INT64_FORMAT " belongs to an installation of the extension that was dropped; its results are discarded",
							job->id),
					 errdetail("None of its %d log rows or of the rows of its responses was written.",
							   list_length(job->log))));
			break;
	}
}

/* Worker mode: record a run, or mark the job failed if recording raises an error. */
void
JobWorkerRecord(JobRun *job, MemoryContext cxt)
{
	char	   *volatile message = NULL;

	PG_TRY();
	{
		JobTxBegin();
		JobFinish(job);
		JobTxCommit();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(cxt);
		message = SecretsRedact(psprintf("could not record results: %s", edata->message));
		ereport(LOG, (errmsg("daily_seongsu: job " INT64_FORMAT " %s", job->id, message)));
	}
	PG_END_TRY();
	if (message)
	{
		Oid			types[2] = {INT8OID, TEXTOID};
		Datum		v[2];

		JobTxBegin();
		if (JobVerdictOf(job, true) == JOB_OURS)
		{
			v[0] = Int64GetDatum(job->id);
			v[1] = CStringGetTextDatum(message);
			JobExecAs(job->owner, "UPDATE seongsu.jobs SET state = 'failed', last_error = $2, "
				   "finished_at = pg_catalog.clock_timestamp() WHERE id OPERATOR(pg_catalog.=) $1",
				   2, types, v, NULL, SPI_OK_UPDATE);
		}
		JobTxCommit();
	}
}


/* End a training job's run if it has not finished: status failed or cancelled, and why (caller has SPI). */
void
JobEndRun(JobRun *job, bool cancelled, const char *reason)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		v[3];
	char		n[3] = {' ', ' ', reason ? ' ' : 'n'};

	v[0] = Int64GetDatum(job->id);
	v[1] = CStringGetTextDatum(cancelled ? "cancelled" : "failed");
	v[2] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	JobExecAs(job->owner, "SELECT seongsu.end_job_run($1, $2, COALESCE($3, (SELECT j.last_error FROM seongsu.jobs j "
		   "WHERE j.id OPERATOR(pg_catalog.=) $1)))", 3, types, v, n, SPI_OK_SELECT);
}
