/*
 * jobs.c — the ingestion job queue: enqueue, run (claim → fetch → record),
 * wait.  The worker (worker.c) and seongsu.run_pending_jobs run the same
 * JobsRunNext; the worker gives each phase its own transaction and fetches
 * with none open, the session runs all three inside the caller's.
 *
 * A job is all-or-nothing: if any of its requests fails for good (a
 * permanent error, or a transient one max_attempts times), the job is failed
 * and none of its rows are written; every HTTP attempt is logged either way.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "commands/dbcommands.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "../compat.h"
#include "../safe_spi.h"
#include "../daily_seongsu.h"
#include "http.h"
#include "jobs.h"
#include "secrets.h"
#include "sources.h"
#include "upsert.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(enqueue);
PG_FUNCTION_INFO_V1(run_pending_jobs);
PG_FUNCTION_INFO_V1(wait_for_job);

#define MAX_JOB_DAYS 7305		/* 20 years */
#define MAX_RETRY_DELAY_MS 60000

/* Where one request of a job stands. */
typedef enum UnitState
{
	UNIT_WAITING,
	UNIT_IN_FLIGHT,
	UNIT_DONE,
	UNIT_FAILED
} UnitState;

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
	TimestampTz at;
} LogEntry;

/* A claimed job and what running it produced. */
typedef struct JobRun
{
	int64		id;
	SourceId	source;
	int32		from;
	int32		to;
	Jsonb	   *options;
	List	   *units;
	List	   *log;
	int			requests;
	bool		failed;
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

/* Claim the next runnable job into job (allocated in cxt); false when none. */
static bool
JobClaim(JobRun *job, MemoryContext cxt)
{
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;
	char	   *source;
	MemoryContext old;

	Exec("UPDATE seongsu.jobs SET state = 'running', attempts = attempts OPERATOR(pg_catalog.+) 1, "
		 "started_at = pg_catalog.now(), finished_at = NULL, requests = 0, last_error = NULL "
		 "WHERE id OPERATOR(pg_catalog.=) (SELECT id FROM seongsu.jobs "
		 "WHERE state OPERATOR(pg_catalog.=) 'pending' AND next_attempt_at OPERATOR(pg_catalog.<=) pg_catalog.now() "
		 "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
		 "RETURNING id, source, from_date, to_date, options",
		 0, NULL, NULL, NULL, SPI_OK_UPDATE_RETURNING);
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(cxt);
	memset(job, 0, sizeof(*job));
	job->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	source = SPI_getvalue(tup, desc, 2);
	if (!SourceLookup(source, &job->source))
		elog(ERROR, "job " INT64_FORMAT " has unknown source %s", job->id, source);
	job->from = DatumGetDateADT(SPI_getbinval(tup, desc, 3, &isnull));
	job->to = DatumGetDateADT(SPI_getbinval(tup, desc, 4, &isnull));
	job->options = DatumGetJsonbPCopy(SPI_getbinval(tup, desc, 5, &isnull));
	MemoryContextSwitchTo(old);
	return true;
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

/* Settle a finished transfer: done, retry later, or failed for good. */
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
			FetchUnit  *next = SourceNextPage(ur->unit, ur->rows.total_count, job->options);

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
		RowSetFree(&ur->rows);
		transient = outcome == API_TRANSIENT;
		if (err.column[0])
			error = psprintf("%s (field \"%s\", value \"%s\")", err.message, err.column, err.value);
		else
			error = pstrdup(err.message);
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

/*
 * Fetch and parse every request of the job.  Stops early once the job has
 * failed (its rows will not be written).  Returns false when interrupted by
 * the worker's shutdown flag.
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
		http = HttpClientCreate(seongsu_http_timeout_ms);
		while (!job->failed && Pending(job))
		{
			long		wait = StartDue(job, http);
			HttpTransfer *done;

			if (stop)
			{
				if (*stop)
				{
					completed = false;
					break;
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

/* Write the job's rows (unless it failed), its log and its final state. */
static void
JobRecord(JobRun *job)
{
	ListCell   *lc;
	Oid			ltypes[11] = {INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID, TEXTOID, FLOAT8OID,
	INT8OID, INT4OID, INT8OID, TEXTOID};
	Oid			jtypes[5] = {INT8OID, TEXTOID, INT8OID, INT4OID, TEXTOID};
	Datum		jv[5];
	char		jn[5] = {' ', ' ', ' ', ' ', ' '};

	if (!job->failed)
		foreach(lc, job->units)
		{
			UnitRun    *ur = lfirst(lc);

			if (ur->state == UNIT_DONE && ur->has_rows)
			{
				uint64		n = UpsertRowSet(&ur->rows);

				ur->success->rows_written = (int64) n;
				job->written += (int64) n;
			}
		}
	foreach(lc, job->log)
	{
		LogEntry   *e = lfirst(lc);
		Datum		v[11];
		char		n[12] = "           ";

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
		v[9] = Int64GetDatum(job->failed ? 0 : e->rows_written);
		v[10] = e->error ? CStringGetTextDatum(e->error) : (Datum) 0;
		n[10] = e->error ? ' ' : 'n';
		n[11] = '\0';
		Exec("INSERT INTO seongsu.ingest_log (job_id, source, url, attempt, http_status, api_code, "
			 "latency_ms, bytes, rows_parsed, rows_written, error, at) "
			 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, pg_catalog.clock_timestamp())",
			 11, ltypes, v, n, SPI_OK_INSERT);
	}
	jv[0] = Int64GetDatum(job->id);
	jv[1] = CStringGetTextDatum(job->failed ? "failed" : "done");
	jv[2] = Int64GetDatum(job->written);
	jv[3] = Int32GetDatum(job->requests);
	jv[4] = job->error ? CStringGetTextDatum(job->error) : (Datum) 0;
	jn[4] = job->error ? ' ' : 'n';
	Exec("UPDATE seongsu.jobs SET state = $2, rows_written = $3, requests = $4, last_error = $5, "
		 "finished_at = pg_catalog.clock_timestamp() WHERE id OPERATOR(pg_catalog.=) $1",
		 5, jtypes, jv, jn, SPI_OK_UPDATE);
}

/* Mark a job failed with an internal error message (its own transaction in the worker). */
static void
JobFailInternal(int64 id, const char *message)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		v[2];

	v[0] = Int64GetDatum(id);
	v[1] = CStringGetTextDatum(message);
	Exec("UPDATE seongsu.jobs SET state = 'failed', last_error = $2, finished_at = pg_catalog.clock_timestamp() "
		 "WHERE id OPERATOR(pg_catalog.=) $1", 2, types, v, NULL, SPI_OK_UPDATE);
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

/* Worker mode: record a job, or mark it failed if recording raises an error. */
static void
WorkerRecord(JobRun *job, MemoryContext cxt)
{
	char	   *volatile message = NULL;

	PG_TRY();
	{
		WorkerTxBegin();
		JobRecord(job);
		WorkerTxCommit();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		message = SecretsRedact(psprintf("could not record results: %s", edata->message));
		ereport(LOG, (errmsg("daily_seongsu: job " INT64_FORMAT " %s", job->id, message)));
	}
	PG_END_TRY();
	if (message)
	{
		WorkerTxBegin();
		JobFailInternal(job->id, message);
		WorkerTxCommit();
	}
}

/*
 * Run the next runnable job, if any.  In the worker (stop != NULL) each phase
 * has its own transaction; in a session everything runs inside the caller's
 * transaction.  Returns false when there was no job to run.
 */
bool
JobsRunNext(MemoryContext cxt, volatile sig_atomic_t *stop)
{
	int			spi;
	JobRun		job;
	bool		claimed;
	volatile MemoryContext old;

	if (stop)
	{
		WorkerTxBegin();
		claimed = JobClaim(&job, cxt);
		WorkerTxCommit();
	}
	else
	{
		spi = SsSpiConnect();
		claimed = JobClaim(&job, cxt);
		SsSpiFinish(spi);
	}
	if (!claimed)
		return false;

	old = MemoryContextSwitchTo(cxt);
	if (stop)
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
			message = SecretsRedact(edata->message);
		}
		PG_END_TRY();
		if (message)
		{
			job.failed = true;
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
		JobRecord(&job);
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

	v[0] = Int32GetDatum(seongsu_log_ttl_days);
	Exec("DELETE FROM seongsu.ingest_log WHERE at OPERATOR(pg_catalog.<) "
		 "(pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => $1))",
		 1, types, v, NULL, SPI_OK_DELETE);
}

/* Jobs left running by a crash or restart go back to pending (caller has SPI). */
void
JobsResetRunning(void)
{
	Exec("UPDATE seongsu.jobs SET state = 'pending' WHERE state OPERATOR(pg_catalog.=) 'running'",
		 0, NULL, NULL, NULL, SPI_OK_UPDATE);
}

/* Milliseconds until the earliest pending job is due (-1: none pending; caller has SPI). */
long
JobsNextDueMs(void)
{
	bool		isnull;
	Datum		d;

	Exec("SELECT (extract(epoch FROM pg_catalog.min(next_attempt_at) OPERATOR(pg_catalog.-) pg_catalog.now()) "
		 "OPERATOR(pg_catalog.*) 1000)::pg_catalog.int8 "
		 "FROM seongsu.jobs WHERE state OPERATOR(pg_catalog.=) 'pending'",
		 0, NULL, NULL, NULL, SPI_OK_SELECT);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return -1;
	return (long) Max(DatumGetInt64(d), 0);
}

/* enqueue(source, from_date, to_date, options) RETURNS bigint */
Datum
enqueue(PG_FUNCTION_ARGS)
{
	int			spi;
	char	   *name;
	SourceId	id;
	DateADT		from, to;
	Jsonb	   *options;
	Oid			types[4] = {TEXTOID, DATEOID, DATEOID, JSONBOID};
	Datum		v[4];
	bool		isnull;
	int64		job;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source and from_date must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!SourceLookup(name, &id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown ingestion source \"%s\"", name),
				 errhint("Sources are seoul_daily, seoul_hour_profile, kma_asos_hourly, kma_forecast, kasi_holidays, openmeteo_daily and openmeteo_forecast.")));
	from = PG_GETARG_DATEADT(1);
	to = PG_ARGISNULL(2) ? from : PG_GETARG_DATEADT(2);
	options = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	if (DATE_NOT_FINITE(from) || DATE_NOT_FINITE(to))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from_date and to_date must be finite dates")));
	if (to < from)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("to_date is before from_date")));
	if (to - from >= MAX_JOB_DAYS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a job covers at most %d days, this one %d", MAX_JOB_DAYS, to - from + 1),
				 errhint("Enqueue several jobs, one per year or so.")));
	if (options && !JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a JSON object")));
	SourceCheckOptions(id, options);
	SourceCheckKeys(id);

	v[0] = CStringGetTextDatum(name);
	v[1] = DateADTGetDatum(from);
	v[2] = DateADTGetDatum(to);
	v[3] = options ? JsonbPGetDatum(options) : DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	spi = SsSpiConnect();
	Exec("INSERT INTO seongsu.jobs (source, from_date, to_date, options) VALUES ($1, $2, $3, $4) RETURNING id",
		 4, types, v, NULL, SPI_OK_INSERT_RETURNING);
	job = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SsSpiFinish(spi);
	WorkerWakeAtCommit();
	PG_RETURN_INT64(job);
}

/* run_pending_jobs(max_jobs) RETURNS integer: jobs run in this session. */
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
		Exec("SELECT state FROM seongsu.jobs WHERE id OPERATOR(pg_catalog.=) $1", 1, types, v, NULL, SPI_OK_SELECT);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("ingestion job " INT64_FORMAT " does not exist", id)));
		state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		state = MemoryContextStrdup(TopTransactionContext, state);
		SsSpiFinish(spi);
		if (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0)
			PG_RETURN_TEXT_P(cstring_to_text(state));
		if (GetCurrentTimestamp() >= deadline)
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("ingestion job " INT64_FORMAT " is still %s", id, state),
					 WaitHint()));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 50,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}
