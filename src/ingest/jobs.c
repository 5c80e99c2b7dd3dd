/*
 * jobs.c — the job runner: claim the next due job, run it (a fetch,
 * job_fetch.c; or a training job through seongsu.train, train_job.c) and
 * record it (job_record.c); the worker's maintenance of the queue.  The
 * worker (worker.c) and seongsu.run_pending_jobs run the same JobsRunNext;
 * the worker gives each phase its own transaction and fetches with none
 * open, the session runs all three inside the caller's.
 *
 * A run is all-or-nothing: if any of its requests fails for good (a
 * permanent error, or a transient one max_attempts times), none of its rows
 * are written; every HTTP attempt is logged either way.  A run that failed
 * only on a transient error puts the job back to pending, due after a
 * job-level back-off (seongsu.job_retry_delay, doubling, at most an hour),
 * until seongsu.job_max_attempts runs; any other failure is final.
 *
 * A training job (source train) runs the SQL function seongsu.train instead
 * (train_job.c): in the worker its run shows as running at once, and it is
 * recorded like any job; seongsu.cancel_job interrupts its training.
 *
 * jobs and ingest_log are written only by the runner, as the extension's
 * owner: the roles that call these functions have no write privilege on
 * them.  A run remembers the installation of the extension (its OID) and
 * the job's attempt number it claimed; what it fetched is recorded only
 * while both still hold, so a job cancelled meanwhile, or one of an
 * extension dropped and created again, never gets rows from it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "../safe_spi.h"
#include "../settings.h"
#include "jobs.h"
#include "job_run.h"
#include "secrets.h"
#include "train_job.h"
#include "worker.h"

/*
 * Why a job over [from, to] with these options may not run, or NULL; *code
 * is the SQLSTATE enqueue raises.  The table's checks say the same.
 */
char *
JobProblem(DateADT from, DateADT to, Jsonb *options, int *code)
{
	*code = ERRCODE_INVALID_PARAMETER_VALUE;
	if (DATE_NOT_FINITE(from) || DATE_NOT_FINITE(to))
		return pstrdup("from_date and to_date must be finite dates");
	if (to < from)
		return pstrdup("to_date is before from_date");
	if ((int64) to - from >= MAX_JOB_DAYS)
	{
		*code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		return psprintf("a job covers at most %d days, this one " INT64_FORMAT,
						MAX_JOB_DAYS, (int64) to - from + 1);
	}
	if (options && !JB_ROOT_IS_OBJECT(options))
		return pstrdup("options must be a JSON object");
	return NULL;
}

/*
 * Claim the next due job into job (allocated in cxt), or when only is not
 * 0, that pending job whatever its next_attempt_at (seongsu.run_job).  A
 * job that fails the checks (a row written past enqueue's, e.g. before the
 * table had them) is marked failed with the reason and never run.
 */
ClaimResult
JobClaim(JobRun *job, MemoryContext cxt, int64 only)
{
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;
	char	   *source;
	char	   *problem;
	int			code;
	Oid			owner;
	Oid			install = JobsInstall(&owner);
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		v[2];
	MemoryContext old;

	if (!OidIsValid(install))
		return CLAIM_NONE;
	v[0] = Int64GetDatum(only);
	JobExecAs(owner, psprintf("UPDATE seongsu.jobs SET state = 'running', attempts = attempts OPERATOR(pg_catalog.+) 1, "
							  "started_at = pg_catalog.now(), finished_at = NULL, requests = 0, last_error = NULL "
							  "WHERE id OPERATOR(pg_catalog.=) (SELECT id FROM seongsu.jobs "
							  "WHERE state OPERATOR(pg_catalog.=) 'pending' AND CASE WHEN $1 OPERATOR(pg_catalog.=) 0 "
							  "THEN next_attempt_at OPERATOR(pg_catalog.<=) pg_catalog.now() ELSE id OPERATOR(pg_catalog.=) $1 END "
							  "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
							  "RETURNING id, source, from_date, to_date, options, attempts, %s",
							  JobsHaveEnqueuedBy() ? "enqueued_by" : "NULL::pg_catalog.text"),
			  1, types, v, NULL, SPI_OK_UPDATE_RETURNING);
	if (SPI_processed == 0)
		return CLAIM_NONE;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(cxt);
	memset(job, 0, sizeof(*job));
	job->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	job->from = DatumGetDateADT(SPI_getbinval(tup, desc, 3, &isnull));
	job->to = DatumGetDateADT(SPI_getbinval(tup, desc, 4, &isnull));
	job->options = DatumGetJsonbPCopy(SPI_getbinval(tup, desc, 5, &isnull));
	job->attempt = DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
	job->enqueued_by = SPI_getvalue(tup, desc, 7);
	job->install = install;
	job->owner = owner;
	MemoryContextSwitchTo(old);
	source = SPI_getvalue(tup, desc, 2);
	job->train = strcmp(source, "train") == 0;
	job->pipeline = strcmp(source, "pipeline") == 0;
	job->final = only != 0;
	problem = job->train || job->pipeline || SourceLookup(source, &job->source)
		? JobProblem(job->from, job->to, job->options, &code)
		: psprintf("unknown source \"%s\"", source);
	if (problem == NULL)
		return CLAIM_RUN;
	v[0] = Int64GetDatum(job->id);
	v[1] = CStringGetTextDatum(psprintf("not run: %s", problem));
	JobExecAs(owner, "UPDATE seongsu.jobs SET state = 'failed', last_error = $2, "
		   "finished_at = pg_catalog.clock_timestamp() WHERE id OPERATOR(pg_catalog.=) $1",
		   2, types, v, NULL, SPI_OK_UPDATE);
	ereport(LOG, (errmsg("daily_seongsu: job " INT64_FORMAT " not run: %s", job->id, problem)));
	return CLAIM_REFUSED;
}

/*
 * Worker mode: run a training job in a transaction of its own that also
 * records the job done.  Its run is tagged with the job and committed at
 * start (seongsu.training_job), so it shows as running.  When the training
 * fails, or the job was cancelled meanwhile (seongsu.cancel_job interrupts
 * it), that transaction is rolled back and another records the job failed
 * and ends its run; at shutdown the job stays running and runs again.
 */
static void
JobTrainInWorker(JobRun *job, MemoryContext cxt, volatile sig_atomic_t *stop)
{
	char	   *volatile message = NULL;
	volatile bool cancelled = false;
	volatile bool discarded = false;
	JobVerdict	verdict;

	WorkerTrainingBegin(job->id);
	PG_TRY();
	{
		JobTxBegin();
		if (JobVerdictOf(job, false) != JOB_OURS)
			JobTxCommit();	/* cancelled before it started: nothing ran */
		else
		{
			(void) TrainJobRun(job->id, job->options, job->from, job->to, job->enqueued_by, true, &job->written);
			if (JobVerdictOf(job, true) == JOB_OURS)
			{
				JobRecord(job);
				JobTxCommit();
			}
			else
			{
				AbortCurrentTransaction();
				discarded = true;
			}
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(cxt);
		message = SecretsRedact(edata->message);
		cancelled = edata->sqlerrcode == ERRCODE_QUERY_CANCELED;
	}
	PG_END_TRY();
	WorkerTrainingEnd();
	if ((!message && !discarded) || (cancelled && *stop))
		return;
	JobTxBegin();
	verdict = JobVerdictOf(job, true);
	if (verdict == JOB_OURS)
	{
		job->failed = true;
		job->transient = false;
		job->error = message;
		job->written = 0;
		JobRecord(job);
	}
	if (verdict == JOB_OURS || verdict == JOB_NOT_OURS)
		JobEndRun(job, cancelled || verdict == JOB_NOT_OURS, verdict == JOB_OURS ? message : NULL);
	JobTxCommit();
}

/*
 * Session mode: run a training job in the caller's transaction, in a
 * subtransaction so that a failed training fails the job (and the session
 * goes on with the next); a cancel of the statement ends the statement.
 */
void
JobTrainInSession(JobRun *job, MemoryContext cxt)
{
	ResourceOwner owner = CurrentResourceOwner;
	int			spi;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		(void) TrainJobRun(job->id, job->options, job->from, job->to, job->enqueued_by, false, &job->written);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		job->failed = true;
		job->error = SecretsRedact(edata->message);
		job->written = 0;
	}
	PG_END_TRY();
	spi = SsSpiConnect();
	JobFinish(job);
	SsSpiFinish(spi);
}

/*
 * Run the next due job, if any.  In the worker (stop != NULL) each phase
 * has its own transaction; in a session everything runs inside the caller's
 * transaction (which holds the job's row locked from claim to record).
 * Returns false when there was no job.
 */
bool
JobsRunNext(MemoryContext cxt, volatile sig_atomic_t *stop)
{
	int			spi;
	JobRun		job;
	ClaimResult claim;
	volatile MemoryContext old;

	if (stop)
	{
		JobTxBegin();
		claim = JobClaim(&job, cxt, 0);
		JobTxCommit();
	}
	else
	{
		spi = SsSpiConnect();
		claim = JobClaim(&job, cxt, 0);
		SsSpiFinish(spi);
	}
	if (claim != CLAIM_RUN)
		return claim == CLAIM_REFUSED;

	old = MemoryContextSwitchTo(cxt);
	if (job.pipeline)
		PipelineJobRun(&job, cxt, stop);
	else if (job.train)
	{
		if (stop)
			JobTrainInWorker(&job, cxt, stop);
		else
			JobTrainInSession(&job, cxt);
	}
	else if (stop)
	{
		char	   *volatile message = NULL;
		volatile bool completed = false;

		PG_TRY();
		{
			completed = JobFetch(&job, stop);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			/* an error while reading the job's row leaves that transaction to abort */
			AbortCurrentTransaction();
			MemoryContextSwitchTo(cxt);
			message = SecretsRedact(edata->message);
		}
		PG_END_TRY();
		if (message)
		{
			job.failed = true;
			job.transient = false;
			job.error = message;
		}
		else if (!completed)
		{
			/* shutting down: the job stays running and is resumed at restart */
			MemoryContextSwitchTo(old);
			return true;
		}
		JobWorkerRecord(&job, cxt);
	}
	else
	{
		JobFetch(&job, NULL);
		spi = SsSpiConnect();
		JobFinish(&job);
		SsSpiFinish(spi);
	}
	MemoryContextSwitchTo(old);
	return true;
}

/* Delete ingest_log rows older than seongsu.log_ttl_days (caller has SPI). */
void
JobsPurgeLog(void)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	Oid			owner;

	if (!OidIsValid(JobsInstall(&owner)))
		return;
	v[0] = Int32GetDatum(seongsu_log_ttl_days);
	JobExecAs(owner, "DELETE FROM seongsu.ingest_log WHERE at OPERATOR(pg_catalog.<) "
		   "(pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => $1))",
		   1, types, v, NULL, SPI_OK_DELETE);
}

/*
 * Jobs left running by a crash or restart go back to pending, and the runs
 * of training jobs among them end failed (worker; caller has SPI).
 */
void
JobsResetRunning(void)
{
	JobExec("SELECT seongsu.end_job_run(j.id, 'failed', 'the worker stopped while the job ran; the job runs again') "
		 "FROM seongsu.jobs j WHERE j.state OPERATOR(pg_catalog.=) 'running' AND j.source OPERATOR(pg_catalog.=) 'train'",
		 0, NULL, NULL, NULL, SPI_OK_SELECT);
	JobExec("UPDATE seongsu.jobs SET state = 'pending' WHERE state OPERATOR(pg_catalog.=) 'running'",
		 0, NULL, NULL, NULL, SPI_OK_UPDATE);
}

/* Milliseconds until the earliest pending job is due (-1: none pending, or no extension; caller has SPI). */
long
JobsNextDueMs(void)
{
	bool		isnull;
	Datum		d;
	Oid			owner;

	if (!OidIsValid(JobsInstall(&owner)))
		return -1;
	JobExec("SELECT (extract(epoch FROM pg_catalog.min(next_attempt_at) OPERATOR(pg_catalog.-) pg_catalog.now()) "
		 "OPERATOR(pg_catalog.*) 1000)::pg_catalog.int8 "
		 "FROM seongsu.jobs WHERE state OPERATOR(pg_catalog.=) 'pending'",
		 0, NULL, NULL, NULL, SPI_OK_SELECT);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return -1;
	return (long) Max(DatumGetInt64(d), 0);
}
