/*
 * jobs.c — the ingestion job queue: enqueue, run (claim → fetch → record),
 * cancel, wait.  The worker (worker.c) and seongsu.run_pending_jobs run the
 * same JobsRunNext; the worker gives each phase its own transaction and
 * fetches with none open, the session runs all three inside the caller's.
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
 * jobs and ingest_log are written only here, as the extension's owner: the
 * roles that call these functions have no write privilege on them.  A run
 * remembers the installation of the extension (its OID) and the job's
 * attempt number it claimed; what it fetched is recorded only while both
 * still hold, so a job cancelled meanwhile, or one of an extension dropped
 * and created again, never gets rows from it.
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
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "commands/dbcommands.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/resowner.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "../compat.h"
#include "../kst.h"
#include "../safe_spi.h"
#include "../settings.h"
#include "http.h"
#include "jobs.h"
#include "secrets.h"
#include "sources.h"
#include "train_job.h"
#include "upsert.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(enqueue);
PG_FUNCTION_INFO_V1(run_pending_jobs);
PG_FUNCTION_INFO_V1(cancel_job);
PG_FUNCTION_INFO_V1(wait_for_job);

#define MAX_JOB_DAYS 7305		/* 20 years: the cap of jobs_span_within_cap too */
#define MAX_RETRY_DELAY_MS 60000
#define MAX_JOB_RETRY_DELAY_S 3600	/* a job-level retry waits at most an hour */
#define LOOK_EVERY_MS 500		/* the worker re-reads a job's row this often while fetching */
#define CANCEL_WAIT_MS 5000		/* cancel_job waits this long for a locked job row */

/* Where one request of a job stands. */
typedef enum UnitState
{
	UNIT_WAITING,
	UNIT_IN_FLIGHT,
	UNIT_DONE,
	UNIT_FAILED
} UnitState;

/* What became of a claimed job while it ran. */
typedef enum JobVerdict
{
	JOB_OURS,					/* still running under this run's claim */
	JOB_NOT_OURS,				/* cancelled, or reset and claimed again */
	JOB_GONE,					/* its row was deleted */
	JOB_FOREIGN					/* the extension was dropped (and maybe created again) */
} JobVerdict;

/* What a claim found. */
typedef enum ClaimResult
{
	CLAIM_NONE,					/* no job is due */
	CLAIM_RUN,					/* a job to run */
	CLAIM_REFUSED				/* a job that may not run, now marked failed */
} ClaimResult;

/* One request being run: its plan, tries, HTTP transfer and parsed rows. */
typedef struct UnitRun
{
	FetchUnit  *unit;
	UnitState	state;
	int			attempts;
	TimestampTz next_try;
	HttpTransfer xfer;
	RowSet		rows;
	bool		has_rows;
	struct LogEntry *success;	/* the log row of the attempt that succeeded */
	char	   *error;
} UnitRun;

/* One ingest_log row. */
typedef struct LogEntry
{
	char	   *url;
	int			attempt;
	long		status;
	char	   *api_code;
	double		latency_ms;
	int64		bytes;
	int			rows_parsed;
	int64		rows_written;
	char	   *error;
	TimestampTz at;				/* when the response (or failure) arrived */
} LogEntry;

/* A claimed job and what running it produced. */
typedef struct JobRun
{
	int64		id;
	bool		train;			/* a training job (no SourceId) */
	char	   *enqueued_by;
	SourceId	source;
	int32		from;
	int32		to;
	Jsonb	   *options;
	int32		attempt;		/* jobs.attempts as this run's claim set it */
	Oid			install;		/* the extension's OID when the job was claimed */
	Oid			owner;			/* its owner, as whom jobs and ingest_log are written */
	List	   *units;
	List	   *log;
	int			requests;
	bool		failed;
	bool		transient;		/* failed, on a transient error only */
	char	   *error;
	int64		written;
} JobRun;

/* Run one SPI statement with arguments, raising on failure. */
static void
Exec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect)
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
static void
ExecAs(Oid owner, const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect)
{
	Oid			user;
	int			sec;

	GetUserIdAndSecContext(&user, &sec);
	SetUserIdAndSecContext(owner, sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	Exec(sql, nargs, types, values, nulls, expect);
	SetUserIdAndSecContext(user, sec);
}

/* The extension's OID in this database (InvalidOid when not installed); its owner into *owner. */
static Oid
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

/* Whether seongsu.jobs has enqueued_by (0.2.0; an installation of 0.1.0 not yet updated has not). */
static bool
JobsHaveEnqueuedBy(void)
{
	Oid			rel = get_relname_relid("jobs", get_namespace_oid("seongsu", false));

	return OidIsValid(rel) && get_attnum(rel, "enqueued_by") != InvalidAttrNumber;
}

/*
 * Why a job over [from, to] with these options may not run, or NULL; *code
 * is the SQLSTATE enqueue raises.  The table's checks say the same.
 */
static char *
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
 * Claim the next due job into job (allocated in cxt).  A job that fails the
 * checks (a row written past enqueue's, e.g. before the table had them) is
 * marked failed with the reason and never run.
 */
static ClaimResult
JobClaim(JobRun *job, MemoryContext cxt)
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
	ExecAs(owner, psprintf("UPDATE seongsu.jobs SET state = 'running', attempts = attempts OPERATOR(pg_catalog.+) 1, "
						   "started_at = pg_catalog.now(), finished_at = NULL, requests = 0, last_error = NULL "
						   "WHERE id OPERATOR(pg_catalog.=) (SELECT id FROM seongsu.jobs "
						   "WHERE state OPERATOR(pg_catalog.=) 'pending' AND next_attempt_at OPERATOR(pg_catalog.<=) pg_catalog.now() "
						   "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
						   "RETURNING id, source, from_date, to_date, options, attempts, %s",
						   JobsHaveEnqueuedBy() ? "enqueued_by" : "NULL::pg_catalog.text"),
		   0, NULL, NULL, NULL, SPI_OK_UPDATE_RETURNING);
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
	problem = job->train || SourceLookup(source, &job->source)
		? JobProblem(job->from, job->to, job->options, &code)
		: psprintf("unknown source \"%s\"", source);
	if (problem == NULL)
		return CLAIM_RUN;
	v[0] = Int64GetDatum(job->id);
	v[1] = CStringGetTextDatum(psprintf("not run: %s", problem));
	ExecAs(owner, "UPDATE seongsu.jobs SET state = 'failed', last_error = $2, "
		   "finished_at = pg_catalog.clock_timestamp() WHERE id OPERATOR(pg_catalog.=) $1",
		   2, types, v, NULL, SPI_OK_UPDATE);
	ereport(LOG, (errmsg("daily_seongsu: job " INT64_FORMAT " not run: %s", job->id, problem)));
	return CLAIM_REFUSED;
}

/* Milliseconds to wait before try number attempt+1: doubling, jittered, capped. */
static long
RetryDelayMs(int attempt)
{
	double		d = (double) seongsu_retry_base_ms;
	int			i;

	for (i = 1; i < attempt && d < MAX_RETRY_DELAY_MS; i++)
		d *= 2;
	d = Min(d, MAX_RETRY_DELAY_MS);
	return (long) (d * (0.5 + SsRandomDouble()));
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

/* Append a log entry for the attempt that just finished. */
static LogEntry *
LogAttempt(JobRun *job, UnitRun *ur, const char *api_code, int rows_parsed, const char *error)
{
	LogEntry   *e = palloc0(sizeof(LogEntry));

	e->url = ur->unit->redacted;
	e->attempt = ur->attempts;
	e->status = ur->xfer.status;
	e->api_code = api_code && *api_code ? SecretsRedact(api_code) : NULL;
	e->latency_ms = ur->xfer.latency_ms;
	e->bytes = (int64) ur->xfer.len;
	e->rows_parsed = rows_parsed;
	e->error = SecretsRedact(error);
	e->at = GetCurrentTimestamp();
	job->log = lappend(job->log, e);
	return e;
}

/* Settle a finished transfer: done (queueing its next page), retry later, or failed for good. */
static void
UnitSettle(JobRun *job, UnitRun *ur)
{
	HttpTransfer *x = &ur->xfer;
	ParseError	err;
	ApiOutcome	outcome;
	char	   *error = NULL;
	bool		transient = false;

	memset(&err, 0, sizeof(err));
	SecretsRedactBuf(x->error, sizeof(x->error));
	if (x->failed)
	{
		error = psprintf("request failed: %s", x->error);
		transient = !x->permanent;
	}
	else if (x->status == 429 || x->status >= 500)
	{
		error = psprintf("HTTP status %ld", x->status);
		transient = true;
	}
	else
	{
		RowSetInit(&ur->rows, SourceRowKind(job->source), SourceRowsLabel(job->source));
		outcome = SourceParse(ur->unit, x->body, x->len, GetCurrentTimestamp(), &ur->rows, &err);
		SecretsRedactBuf(err.message, sizeof(err.message));
		SecretsRedactBuf(err.value, sizeof(err.value));
		SecretsRedactBuf(err.column, sizeof(err.column));
		SecretsRedactBuf(err.api_code, sizeof(err.api_code));
		if (x->status != 200)
		{
			/* a 4xx: permanent; keep the API's own reason when it gave one (Open-Meteo) */
			if (outcome != API_PERMANENT || !err.message[0])
			{
				snprintf(err.message, sizeof(err.message), "HTTP status %ld", x->status);
				err.column[0] = '\0';
			}
			outcome = API_PERMANENT;
		}
		if (outcome == API_OK || outcome == API_NO_DATA)
		{
			bool		capped;
			FetchUnit  *next = SourceNextPage(ur->unit, ur->rows.total_count, (long) ur->rows.nrows,
											  job->options, &capped);

			if (!capped)
			{
				ur->state = UNIT_DONE;
				ur->has_rows = true;
				ur->success = LogAttempt(job, ur, err.api_code, (int) ur->rows.nrows, NULL);
				if (next)
				{
					UnitRun    *nu = palloc0(sizeof(UnitRun));

					nu->unit = next;
					nu->state = UNIT_WAITING;
					job->units = lappend(job->units, nu);
				}
				return;
			}
			/* an API that keeps reporting more rows than any request has: not trusted */
			error = psprintf("the API reports %ld rows, more than %d pages of this request",
							 ur->rows.total_count, SOURCE_MAX_PAGES);
		}
		else
		{
			transient = outcome == API_TRANSIENT;
			if (err.column[0])
				error = psprintf("%s (field \"%s\", value \"%s\")", err.message, err.column, err.value);
			else
				error = pstrdup(err.message);
		}
		RowSetFree(&ur->rows);
	}
	LogAttempt(job, ur, err.api_code, 0, error);
	if (transient && ur->attempts < seongsu_max_attempts)
	{
		ur->state = UNIT_WAITING;
		ur->next_try = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), RetryDelayMs(ur->attempts));
		return;
	}
	ur->state = UNIT_FAILED;
	ur->error = SecretsRedact(transient
							  ? psprintf("%s: %s (gave up after %d attempts)", ur->unit->redacted, error, ur->attempts)
							  : psprintf("%s: %s", ur->unit->redacted, error));
	if (!job->failed)
	{
		job->failed = true;
		job->transient = transient;
		job->error = ur->error;
	}
}

/* Start every waiting unit that is due, up to the concurrency limit; returns ms to the next due one. */
static long
StartDue(JobRun *job, HttpClient *http)
{
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();
	long		wait = 100;

	foreach(lc, job->units)
	{
		UnitRun    *ur = lfirst(lc);

		if (ur->state != UNIT_WAITING)
			continue;
		if (ur->next_try > now)
		{
			long		ms = (long) ((ur->next_try - now) / 1000);

			wait = Min(wait, Max(ms, 1));
			continue;
		}
		if (HttpInFlight(http) >= seongsu_max_concurrency)
			break;
		ur->attempts++;
		job->requests++;
		ur->state = UNIT_IN_FLIGHT;
		ur->xfer.url = ur->unit->url;
		ur->xfer.arg = ur;
		HttpStart(http, &ur->xfer);
	}
	return wait;
}

/* True while some unit is waiting or in flight. */
static bool
Pending(JobRun *job)
{
	ListCell   *lc;

	foreach(lc, job->units)
	{
		UnitRun    *ur = lfirst(lc);

		if (ur->state == UNIT_WAITING || ur->state == UNIT_IN_FLIGHT)
			return true;
	}
	return false;
}

/* The SPI connection of the worker's current transaction (SsSpiConnect's level). */
static int	worker_spi;

/* Begin a worker transaction with SPI and a snapshot. */
static void
WorkerTxBegin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	worker_spi = SsSpiConnect();
	PushActiveSnapshot(GetTransactionSnapshot());
}

/* Commit a worker transaction. */
static void
WorkerTxCommit(void)
{
	SsSpiFinish(worker_spi);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
}

/* What became of the job since this run claimed it (caller has SPI); lock: keep its row locked. */
static JobVerdict
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
		ExecAs(job->owner, "SELECT state, attempts FROM seongsu.jobs WHERE id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
			   1, types, v, NULL, SPI_OK_SELECT);
	else
		Exec("SELECT state, attempts FROM seongsu.jobs WHERE id OPERATOR(pg_catalog.=) $1",
			 1, types, v, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return JOB_GONE;
	tup = SPI_tuptable->vals[0];
	if (strcmp(SPI_getvalue(tup, SPI_tuptable->tupdesc, 1), "running") != 0 ||
		DatumGetInt32(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull)) != job->attempt)
		return JOB_NOT_OURS;
	return JOB_OURS;
}

/* Worker mode, while fetching: what became of the job, read in a short transaction of its own. */
static JobVerdict
WorkerLook(JobRun *job)
{
	MemoryContext mc = CurrentMemoryContext;
	JobVerdict	verdict;

	WorkerTxBegin();
	verdict = JobVerdictOf(job, false);
	WorkerTxCommit();
	MemoryContextSwitchTo(mc);
	return verdict;
}

/*
 * Fetch and parse every request of the job.  Stops early once the job has
 * failed (its rows will not be written) and, in the worker, once the job is
 * no longer this run's (it re-reads the job's row every LOOK_EVERY_MS;
 * recording says what became of it).  Exits the process at once when the
 * postmaster has died (an orphan would keep a new postmaster from
 * starting).  Returns false when interrupted by the worker's shutdown flag.
 */
static bool
JobFetch(JobRun *job, volatile sig_atomic_t *stop)
{
	HttpClient *volatile http = NULL;
	volatile bool completed = true;
	ListCell   *lc;

	SourceCheckKeys(job->source);
	foreach(lc, SourceUnits(job->source, job->from, job->to, job->options))
	{
		UnitRun    *ur = palloc0(sizeof(UnitRun));

		ur->unit = lfirst(lc);
		ur->state = UNIT_WAITING;
		job->units = lappend(job->units, ur);
	}
	PG_TRY();
	{
		TimestampTz next_look = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), LOOK_EVERY_MS);

		http = HttpClientCreate(seongsu_http_timeout_ms);
		while (!job->failed && Pending(job))
		{
			long		wait = StartDue(job, http);
			HttpTransfer *done;

			if (!PostmasterIsAlive())
				proc_exit(1);
			if (stop)
			{
				if (*stop)
				{
					completed = false;
					break;
				}
				if (GetCurrentTimestamp() >= next_look)
				{
					if (WorkerLook(job) != JOB_OURS)
						break;
					next_look = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), LOOK_EVERY_MS);
				}
			}
			else
				CHECK_FOR_INTERRUPTS();
			if (HttpInFlight(http) == 0)
			{
				/* nothing in flight: sleep until the next retry is due */
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 wait, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				continue;
			}
			while ((done = HttpNextDone(http, (int) wait)) != NULL)
			{
				UnitSettle(job, (UnitRun *) done->arg);
				wait = 0;
			}
		}
	}
	PG_FINALLY();
	{
		HttpClientDestroy(http);
	}
	PG_END_TRY();
	return completed;
}

/* Write the run's ingest_log rows; rows_written as counted when wrote, else 0 (caller has SPI). */
static void
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
		ExecAs(job->owner, "INSERT INTO seongsu.ingest_log (job_id, source, url, attempt, http_status, api_code, "
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
static void
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
	if (job->failed && job->transient && job->attempt < seongsu_job_max_attempts)
	{
		int			delay = JobRetryDelaySec(job->attempt);

		v[5] = TimestampTzGetDatum(TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) delay * 1000));
		ExecAs(job->owner, "UPDATE seongsu.jobs SET state = 'pending', rows_written = 0, requests = $4, "
			   "last_error = $5, next_attempt_at = $6, finished_at = NULL WHERE id OPERATOR(pg_catalog.=) $1",
			   6, types, v, n, SPI_OK_UPDATE);
		ereport(LOG,
				(errmsg("daily_seongsu: job " INT64_FORMAT " failed on a transient error; run %d of %d starts in %d s",
						job->id, job->attempt + 1, seongsu_job_max_attempts, delay)));
		return;
	}
	n[5] = 'n';
	ExecAs(job->owner, "UPDATE seongsu.jobs SET state = $2, rows_written = $3, requests = $4, last_error = $5, "
		   "finished_at = pg_catalog.clock_timestamp() WHERE id OPERATOR(pg_catalog.=) $1",
		   6, types, v, n, SPI_OK_UPDATE);
}

/* Record the run as far as the job is still its own (caller has SPI; locks the job's row). */
static void
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
static void
WorkerRecord(JobRun *job, MemoryContext cxt)
{
	char	   *volatile message = NULL;

	PG_TRY();
	{
		WorkerTxBegin();
		JobFinish(job);
		WorkerTxCommit();
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

		WorkerTxBegin();
		if (JobVerdictOf(job, true) == JOB_OURS)
		{
			v[0] = Int64GetDatum(job->id);
			v[1] = CStringGetTextDatum(message);
			ExecAs(job->owner, "UPDATE seongsu.jobs SET state = 'failed', last_error = $2, "
				   "finished_at = pg_catalog.clock_timestamp() WHERE id OPERATOR(pg_catalog.=) $1",
				   2, types, v, NULL, SPI_OK_UPDATE);
		}
		WorkerTxCommit();
	}
}

/* End a training job's run if it has not finished: status failed or cancelled, and why (caller has SPI). */
static void
JobEndRun(JobRun *job, bool cancelled, const char *reason)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		v[3];
	char		n[3] = {' ', ' ', reason ? ' ' : 'n'};

	v[0] = Int64GetDatum(job->id);
	v[1] = CStringGetTextDatum(cancelled ? "cancelled" : "failed");
	v[2] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	ExecAs(job->owner, "SELECT seongsu.end_job_run($1, $2, COALESCE($3, (SELECT j.last_error FROM seongsu.jobs j "
		   "WHERE j.id OPERATOR(pg_catalog.=) $1)))", 3, types, v, n, SPI_OK_SELECT);
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
		WorkerTxBegin();
		if (JobVerdictOf(job, false) != JOB_OURS)
			WorkerTxCommit();	/* cancelled before it started: nothing ran */
		else
		{
			(void) TrainJobRun(job->id, job->options, job->from, job->to, job->enqueued_by, true, &job->written);
			if (JobVerdictOf(job, true) == JOB_OURS)
			{
				JobRecord(job);
				WorkerTxCommit();
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
	WorkerTxBegin();
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
	WorkerTxCommit();
}

/*
 * Session mode: run a training job in the caller's transaction, in a
 * subtransaction so that a failed training fails the job (and the session
 * goes on with the next); a cancel of the statement ends the statement.
 */
static void
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
		WorkerTxBegin();
		claim = JobClaim(&job, cxt);
		WorkerTxCommit();
	}
	else
	{
		spi = SsSpiConnect();
		claim = JobClaim(&job, cxt);
		SsSpiFinish(spi);
	}
	if (claim != CLAIM_RUN)
		return claim == CLAIM_REFUSED;

	old = MemoryContextSwitchTo(cxt);
	if (job.train)
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
		WorkerRecord(&job, cxt);
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
	ExecAs(owner, "DELETE FROM seongsu.ingest_log WHERE at OPERATOR(pg_catalog.<) "
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
	Exec("SELECT seongsu.end_job_run(j.id, 'failed', 'the worker stopped while the job ran; the job runs again') "
		 "FROM seongsu.jobs j WHERE j.state OPERATOR(pg_catalog.=) 'running' AND j.source OPERATOR(pg_catalog.=) 'train'",
		 0, NULL, NULL, NULL, SPI_OK_SELECT);
	Exec("UPDATE seongsu.jobs SET state = 'pending' WHERE state OPERATOR(pg_catalog.=) 'running'",
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
	Exec("SELECT (extract(epoch FROM pg_catalog.min(next_attempt_at) OPERATOR(pg_catalog.-) pg_catalog.now()) "
		 "OPERATOR(pg_catalog.*) 1000)::pg_catalog.int8 "
		 "FROM seongsu.jobs WHERE state OPERATOR(pg_catalog.=) 'pending'",
		 0, NULL, NULL, NULL, SPI_OK_SELECT);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return -1;
	return (long) Max(DatumGetInt64(d), 0);
}

/*
 * enqueue(source, from_date, to_date, options) RETURNS bigint.  Source
 * train: from_date and to_date are train_from and train_to (to_date
 * defaults to today in KST), options train's arguments by name.
 */
Datum
enqueue(PG_FUNCTION_ARGS)
{
	int			spi;
	char	   *name;
	SourceId	id;
	bool		train;
	DateADT		from, to;
	Jsonb	   *options;
	Oid			types[5] = {TEXTOID, DATEOID, DATEOID, JSONBOID, TEXTOID};
	Datum		v[5];
	bool		isnull;
	int64		job;
	char	   *problem;
	int			code;
	Oid			owner;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source and from_date must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	train = strcmp(name, "train") == 0;
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

	v[0] = CStringGetTextDatum(name);
	v[1] = DateADTGetDatum(from);
	v[2] = DateADTGetDatum(to);
	v[3] = options ? JsonbPGetDatum(options) : DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	v[4] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	spi = SsSpiConnect();
	(void) JobsInstall(&owner);
	if (JobsHaveEnqueuedBy())
		ExecAs(owner, "INSERT INTO seongsu.jobs (source, from_date, to_date, options, enqueued_by) "
			   "VALUES ($1, $2, $3, $4, $5) RETURNING id",
			   5, types, v, NULL, SPI_OK_INSERT_RETURNING);
	else
		ExecAs(owner, "INSERT INTO seongsu.jobs (source, from_date, to_date, options) "
			   "VALUES ($1, $2, $3, $4) RETURNING id",
			   4, types, v, NULL, SPI_OK_INSERT_RETURNING);
	job = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SsSpiFinish(spi);
	WorkerWakeAtCommit();
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
	int			spi;

	v[0] = Int64GetDatum(id);
	v[1] = CStringGetTextDatum(psprintf("cancelled by %s", GetUserNameFromId(GetUserId(), false)));
	spi = SsSpiConnect();
	(void) JobsInstall(&owner);
	for (;;)
	{
		ExecAs(owner, "SELECT state, source FROM seongsu.jobs WHERE id OPERATOR(pg_catalog.=) $1 FOR UPDATE SKIP LOCKED",
			   1, types, v, NULL, SPI_OK_SELECT);
		if (SPI_processed > 0)
			break;
		Exec("SELECT 1 FROM seongsu.jobs WHERE id OPERATOR(pg_catalog.=) $1", 1, types, v, NULL, SPI_OK_SELECT);
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
	if (strcmp(state, "running") == 0 && strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2), "train") == 0)
		WorkerCancelTrainingAtCommit(id);
	if (strcmp(state, "pending") == 0 || strcmp(state, "running") == 0)
	{
		ExecAs(owner, "UPDATE seongsu.jobs SET state = 'failed', last_error = $2, "
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
		Exec("SELECT state, last_error IS NOT NULL FROM seongsu.jobs WHERE id OPERATOR(pg_catalog.=) $1",
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
