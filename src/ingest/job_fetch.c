/*
 * job_fetch.c — fetching a job's requests: every request of the source's
 * plan over libcurl multi, up to seongsu.max_concurrency at once, retried
 * with a jittered doubling back-off on transient errors, each response
 * parsed into rows and every attempt logged; paging follows the API's
 * total count.  In the worker the job's row is re-read every LOOK_EVERY_MS
 * so that a cancelled job stops early.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "../compat.h"
#include "../settings.h"
#include "job_run.h"
#include "secrets.h"

#define MAX_RETRY_DELAY_MS 60000

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

/* Worker mode, while fetching: what became of the job, read in a short transaction of its own. */
static JobVerdict
WorkerLook(JobRun *job)
{
	MemoryContext mc = CurrentMemoryContext;
	JobVerdict	verdict;

	JobTxBegin();
	verdict = JobVerdictOf(job, false);
	JobTxCommit();
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
bool
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
