/*
 * job_sql.c — the job queue's SQL functions: seongsu.enqueue,
 * seongsu.run_pending_jobs, seongsu.cancel_job and seongsu.wait_for_job.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "../safe_spi.h"
#include "../settings.h"
#include "jobs.h"
#include "job_run.h"
#include "sources.h"
#include "train_job.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(enqueue);
PG_FUNCTION_INFO_V1(run_pending_jobs);
PG_FUNCTION_INFO_V1(cancel_job);
PG_FUNCTION_INFO_V1(wait_for_job);
PG_FUNCTION_INFO_V1(run_job);

#define CANCEL_WAIT_MS 5000		/* cancel_job waits this long for a locked job row */

/*
 * Insert a pending job as the extension's owner, enqueued by the current
 * user, and wake the worker when the transaction commits; returns its id.
 */
int64
JobInsert(const char *source, DateADT from, DateADT to, Jsonb *options)
{
	Oid			types[5] = {TEXTOID, DATEOID, DATEOID, JSONBOID, TEXTOID};
	Datum		v[5];
	bool		isnull;
	int64		job;
	Oid			owner;
	int			spi;

	v[0] = CStringGetTextDatum(source);
	v[1] = DateADTGetDatum(from);
	v[2] = DateADTGetDatum(to);
	v[3] = options ? JsonbPGetDatum(options) : DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	v[4] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	spi = SsSpiConnect();
	(void) JobsInstall(&owner);
	if (JobsHaveEnqueuedBy())
		JobExecAs(owner, "INSERT INTO seongsu.jobs (source, from_date, to_date, options, enqueued_by) "
				  "VALUES ($1, $2, $3, $4, $5) RETURNING id",
				  5, types, v, NULL, SPI_OK_INSERT_RETURNING);
	else
		JobExecAs(owner, "INSERT INTO seongsu.jobs (source, from_date, to_date, options) "
				  "VALUES ($1, $2, $3, $4) RETURNING id",
				  4, types, v, NULL, SPI_OK_INSERT_RETURNING);
	job = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SsSpiFinish(spi);
	WorkerWakeAtCommit();
	return job;
}

/*
 * enqueue(source, from_date, to_date, options) RETURNS bigint.  Source
 * train: from_date and to_date are train_from and train_to (to_date
 * defaults to today in KST), options train's arguments by name.
 */
Datum
enqueue(PG_FUNCTION_ARGS)
{
	char	   *name;
	SourceId	id;
	bool		train;
	DateADT		from, to;
	Jsonb	   *options;
	int64		job;
	char	   *problem;
	int			code;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source and from_date must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	train = strcmp(name, "train") == 0;
	if (strcmp(name, "pipeline") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pipeline jobs are queued by seongsu.run_pipeline"),
				 errhint("Call SELECT seongsu.run_pipeline(station, line, options).")));
	if (!train && !SourceLookup(name, &id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown ingestion source \"%s\"", name),
				 errhint("Sources are %s; train runs seongsu.train as a job.", SourceNames(false))));
	from = PG_GETARG_DATEADT(1);
	to = !PG_ARGISNULL(2) ? PG_GETARG_DATEADT(2) : train ? KstDateOf(GetCurrentTimestamp()) : from;
	options = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	problem = JobProblem(from, to, options, &code);
	if (problem)
		ereport(ERROR,
				(errcode(code),
				 errmsg("%s", problem),
				 code == ERRCODE_PROGRAM_LIMIT_EXCEEDED ? errhint("Enqueue several jobs, one per year or so.") : 0));
	if (train)
		TrainJobCheck(options, from, to);
	else
	{
		SourceCheckOptions(id, options);
		SourceCheckKeys(id);
	}

	job = JobInsert(name, from, to, options);
	PG_RETURN_INT64(job);
}

/* run_pending_jobs(max_jobs) RETURNS integer: jobs run (or refused) in this session. */
Datum
run_pending_jobs(PG_FUNCTION_ARGS)
{
	int			spi;
	int			max_jobs = PG_ARGISNULL(0) ? INT_MAX : PG_GETARG_INT32(0);
	int			ran = 0;
	MemoryContext cxt;

	if (max_jobs < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_jobs must not be negative")));
	cxt = AllocSetContextCreate(CurrentMemoryContext, "seongsu job", ALLOCSET_DEFAULT_SIZES);
	spi = SsSpiConnect();
	JobsPurgeLog();
	SsSpiFinish(spi);
	while (ran < max_jobs)
	{
		MemoryContextReset(cxt);
		if (!JobsRunNext(cxt, NULL))
			break;
		ran++;
	}
	MemoryContextDelete(cxt);
	PG_RETURN_INT32(ran);
}

/*
 * cancel_job(job_id) RETURNS text: marks a pending or running job failed
 * ("cancelled by <role>") and returns 'cancelled'; a job that had already
 * ended is left as it is and its state returned.  The worker notices within
 * LOOK_EVERY_MS and writes none of the job's rows; a training job's
 * training is interrupted when this transaction commits.
 */
Datum
cancel_job(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		v[2];
	Oid			owner;
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), CANCEL_WAIT_MS);
	const char *result;
	char	   *state;
	char	   *source;
	int			spi;

	v[0] = Int64GetDatum(id);
	v[1] = CStringGetTextDatum(psprintf("cancelled by %s", GetUserNameFromId(GetUserId(), false)));
	spi = SsSpiConnect();
	(void) JobsInstall(&owner);
	for (;;)
	{
		JobExecAs(owner, "SELECT state, source FROM seongsu.jobs WHERE id OPERATOR(pg_catalog.=) $1 FOR UPDATE SKIP LOCKED",
			   1, types, v, NULL, SPI_OK_SELECT);
		if (SPI_processed > 0)
			break;
		JobExec("SELECT 1 FROM seongsu.jobs WHERE id OPERATOR(pg_catalog.=) $1", 1, types, v, NULL, SPI_OK_SELECT);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("ingestion job " INT64_FORMAT " does not exist", id)));
		if (GetCurrentTimestamp() >= deadline)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("ingestion job " INT64_FORMAT " is locked by the transaction that runs it", id),
					 errdetail("seongsu.run_pending_jobs keeps the jobs it runs locked until its transaction ends; the worker keeps a job locked while it writes the job's rows."),
					 errhint("Try again later; to stop a job that seongsu.run_pending_jobs runs, cancel that statement (pg_cancel_backend): nothing of the job is written and it is pending again.")));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 50, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	source = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (strcmp(state, "running") == 0 && (strcmp(source, "train") == 0 || strcmp(source, "pipeline") == 0))
		WorkerCancelTrainingAtCommit(id);
	if (strcmp(source, "pipeline") == 0 && (strcmp(state, "pending") == 0 || strcmp(state, "running") == 0))
		JobExecAs(owner, "SELECT seongsu.pipeline_abandon((j.options OPERATOR(pg_catalog.->>) 'run_id')::pg_catalog.int8, $2) "
				  "FROM seongsu.jobs j WHERE j.id OPERATOR(pg_catalog.=) $1", 2, types, v, NULL, SPI_OK_SELECT);
	if (strcmp(state, "pending") == 0 || strcmp(state, "running") == 0)
	{
		JobExecAs(owner, "UPDATE seongsu.jobs SET state = 'failed', last_error = $2, "
			   "finished_at = pg_catalog.clock_timestamp() WHERE id OPERATOR(pg_catalog.=) $1",
			   2, types, v, NULL, SPI_OK_UPDATE);
		result = "cancelled";
	}
	else
		result = strcmp(state, "done") == 0 ? "done" : "failed";
	SsSpiFinish(spi);
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/* Why a job may not be progressing, as an errhint. */
static int
WaitHint(void)
{
	char	   *db = get_database_name(MyDatabaseId);

	if (!WorkerIsRunning())
		return errhint("No ingestion worker is running (shared_preload_libraries lacks daily_seongsu); run the job with SELECT seongsu.run_pending_jobs().");
	if (db && seongsu_database && strcmp(db, seongsu_database) != 0)
		return errhint("The worker runs the jobs of database \"%s\" only; run this database's jobs with SELECT seongsu.run_pending_jobs().",
					   seongsu_database);
	return errhint("The worker is busy; wait longer, or look at seongsu.jobs and seongsu.ingest_log.");
}

/* wait_for_job(job_id, timeout) RETURNS text: done or failed. */
Datum
wait_for_job(PG_FUNCTION_ARGS)
{
	int			spi;
	int64		id = PG_GETARG_INT64(0);
	Interval   *timeout = PG_GETARG_INTERVAL_P(1);
	TimestampTz deadline;
	Oid			types[1] = {INT8OID};
	Datum		v[1];
	char	   *state = NULL;
	bool		retrying;

	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("wait_for_job cannot see the worker's progress in a REPEATABLE READ or SERIALIZABLE transaction"),
				 errhint("Call it in a READ COMMITTED transaction.")));
	deadline = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
													   TimestampTzGetDatum(GetCurrentTimestamp()),
													   IntervalPGetDatum(timeout)));
	v[0] = Int64GetDatum(id);
	for (;;)
	{
		spi = SsSpiConnect();
		JobExec("SELECT state, last_error IS NOT NULL FROM seongsu.jobs WHERE id OPERATOR(pg_catalog.=) $1",
			 1, types, v, NULL, SPI_OK_SELECT);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("ingestion job " INT64_FORMAT " does not exist", id)));
		state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		state = MemoryContextStrdup(TopTransactionContext, state);
		retrying = strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2), "t") == 0;
		SsSpiFinish(spi);
		if (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0)
			PG_RETURN_TEXT_P(cstring_to_text(state));
		if (GetCurrentTimestamp() >= deadline)
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("ingestion job " INT64_FORMAT " is still %s", id, state),
					 retrying && strcmp(state, "pending") == 0
					 ? errdetail("Its last run failed on a transient error; it runs again at next_attempt_at (seongsu.job_retry_delay).")
					 : 0,
					 WaitHint()));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 50,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * run_job(job_id) RETURNS (state, rows_written, transient, error): run that
 * pending job now in this session, inside the caller's transaction, and
 * return how it ended.  A failure is final (no job-level retry: the caller
 * retries, as the pipeline's ingest step does); transient says whether it
 * failed on transient errors only.
 */
Datum
run_job(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	TupleDesc	desc;
	Datum		v[4];
	bool		n[4] = {false, false, false, false};
	JobRun		job;
	ClaimResult claim;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "seongsu job", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	int			spi;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "run_job must return a record");
	spi = SsSpiConnect();
	JobExec("SELECT source FROM seongsu.jobs WHERE id OPERATOR(pg_catalog.=) $1", 1, (Oid[]) {INT8OID},
			(Datum[]) {Int64GetDatum(id)}, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("ingestion job " INT64_FORMAT " does not exist", id)));
	if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "pipeline") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("job " INT64_FORMAT " runs a pipeline", id),
				 errhint("A pipeline run in this session: seongsu.run_pipeline(..., options => '{\"sync\": true}').")));
	claim = JobClaim(&job, cxt, id);
	SsSpiFinish(spi);
	if (claim == CLAIM_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ingestion job " INT64_FORMAT " is not pending", id),
				 errhint("Only a pending job that no other session runs can be run with seongsu.run_job.")));
	old = MemoryContextSwitchTo(cxt);
	if (claim == CLAIM_REFUSED)
	{
		job.failed = true;
		job.error = "not run: the job fails the queue's checks";
	}
	else if (job.train)
		JobTrainInSession(&job, cxt);
	else
	{
		JobFetch(&job, NULL);
		spi = SsSpiConnect();
		JobFinish(&job);
		SsSpiFinish(spi);
	}
	MemoryContextSwitchTo(old);
	v[0] = CStringGetTextDatum(job.failed ? "failed" : "done");
	v[1] = Int64GetDatum(job.written);
	v[2] = BoolGetDatum(job.failed && job.transient);
	v[3] = job.error ? CStringGetTextDatum(job.error) : (Datum) 0;
	n[3] = job.error == NULL;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), v, n)));
}
