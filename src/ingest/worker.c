/*
 * worker.c — the ingestion background worker: registered at preload, it
 * connects to seongsu.database, sleeps on its latch (woken when a transaction
 * that enqueued a job or queued an alert commits, or when the next job or
 * alert post is due), runs jobs and posts alerts to the webhook (webhook.c).
 * It exits with code 1 on error so the postmaster restarts it; jobs it left
 * running are reset to pending when it starts again.  While it trains (a
 * training job), seongsu.cancel_job of that job and SIGTERM interrupt the
 * training as a cancel would: SIGUSR2 with the job's id in shared memory.
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "../compat.h"
#include "../safe_spi.h"
#include "../settings.h"
#include "jobs.h"
#include "webhook.h"
#include "worker.h"

PGDLLEXPORT void seongsu_worker_main(Datum arg);

#define IDLE_WAIT_MS 300000		/* wake at least every 5 minutes */
#define MISSING_WAIT_MS 10000	/* re-check for the extension every 10 s */
#define PURGE_EVERY_MS 3600000

/* What other backends need to know about the worker. */
typedef struct WorkerShared
{
	pid_t		pid;
	Latch	   *latch;
	pg_atomic_uint64 cancel_job;	/* the training job seongsu.cancel_job stopped last */
} WorkerShared;

static WorkerShared *shared = NULL;
static volatile sig_atomic_t got_sigterm = false;
static volatile int64 training_job = 0; /* the worker's: the training job it runs, or 0 */
static bool wake_pending = false;
static int64 cancel_pending = 0;	/* a backend's: the training job to stop at commit */
static bool callback_registered = false;

/* Shared memory the worker's state needs (requested at preload). */
Size
WorkerShmemSize(void)
{
	return MAXALIGN(sizeof(WorkerShared));
}

/* Create or attach the worker's shared state (caller holds AddinShmemInitLock). */
void
WorkerShmemInit(void)
{
	bool		found;

	shared = ShmemInitStruct("daily_seongsu worker", sizeof(WorkerShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(WorkerShared));
		pg_atomic_init_u64(&shared->cancel_job, 0);
	}
}

/* Register the worker (called from _PG_init at preload). */
void
WorkerRegister(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 10;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "daily_seongsu");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "seongsu_worker_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "daily_seongsu ingest");
	snprintf(w.bgw_type, BGW_MAXLEN, "daily_seongsu ingest");
	RegisterBackgroundWorker(&w);
}

/* At commit: set the worker's latch if a job was enqueued; interrupt the training of a cancelled job. */
static void
WorkerXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		Latch	   *latch = shared ? shared->latch : NULL;
		pid_t		pid = shared ? shared->pid : 0;

		if (wake_pending && latch)
			SetLatch(latch);
		if (cancel_pending && pid != 0)
		{
			pg_atomic_write_u64(&shared->cancel_job, (uint64) cancel_pending);
			(void) kill(pid, SIGUSR2);
		}
		wake_pending = false;
		cancel_pending = 0;
	}
	else if (event == XACT_EVENT_PREPARE || event == XACT_EVENT_ABORT ||
			 event == XACT_EVENT_PARALLEL_ABORT)
	{
		wake_pending = false;
		cancel_pending = 0;
	}
}

/* Register WorkerXactCallback once per process. */
static void
WorkerCallbackRegister(void)
{
	if (!callback_registered)
	{
		RegisterXactCallback(WorkerXactCallback, NULL);
		callback_registered = true;
	}
}

/* Wake the worker when the current transaction commits. */
void
WorkerWakeAtCommit(void)
{
	WorkerCallbackRegister();
	wake_pending = true;
}

/*
 * When the current transaction commits, interrupt the worker's training if
 * it is this job's (it checks the id, so a signal that arrives after the
 * job has ended stops nothing else).
 */
void
WorkerCancelTrainingAtCommit(int64 job_id)
{
	WorkerCallbackRegister();
	cancel_pending = job_id;
}

/* The worker starts a training job: cancel_job and SIGTERM may interrupt it from now on. */
void
WorkerTrainingBegin(int64 job_id)
{
	training_job = job_id;
}

/* The training job is over: nothing interrupts it any more (a cancel that came too late is dropped). */
void
WorkerTrainingEnd(void)
{
	training_job = 0;
	QueryCancelPending = false;
}

/* Interrupt the training in progress as a statement cancel would. */
static void
WorkerInterruptTraining(void)
{
	if (!proc_exit_inprogress)
	{
		InterruptPending = true;
		QueryCancelPending = true;
	}
}

/* SIGUSR2: seongsu.cancel_job stopped a training job; interrupt it if it is the one running. */
static void
WorkerCancelTraining(SIGNAL_ARGS)
{
	int			save_errno = errno;

	if (training_job != 0 && shared &&
		pg_atomic_read_u64(&shared->cancel_job) == (uint64) training_job)
		WorkerInterruptTraining();
	SetLatch(MyLatch);
	errno = save_errno;
}

/* True when a worker is attached to the shared state. */
bool
WorkerIsRunning(void)
{
	return shared != NULL && shared->pid != 0;
}

/* SIGTERM: ask the loop to stop (a training in progress is interrupted; its job runs again at restart). */
static void
WorkerSigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	if (training_job != 0)
		WorkerInterruptTraining();
	SetLatch(MyLatch);
	errno = save_errno;
}

/* Detach from the shared state at exit. */
static void
WorkerDetach(int code, Datum arg)
{
	if (shared && shared->pid == MyProcPid)
	{
		shared->latch = NULL;
		shared->pid = 0;
	}
}

/* True when the extension exists in this database. */
static bool
ExtensionReady(void)
{
	bool		ok;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	ok = OidIsValid(get_extension_oid("daily_seongsu", true));
	CommitTransactionCommand();
	return ok;
}

/*
 * Run one SPI maintenance step (reset, purge) in its own transaction; with
 * next_due, return the milliseconds until the next job or alert post is due
 * (-1: none).
 */
static long
Maintain(void (*step) (void), bool next_due)
{
	int			spi;
	long		due = -1;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	spi = SsSpiConnect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (step)
		step();
	if (next_due)
	{
		long		post = WebhookNextDueMs();

		due = JobsNextDueMs();
		if (post >= 0 && (due < 0 || post < due))
			due = post;
	}
	SsSpiFinish(spi);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	return due;
}

/* Sleep until woken, a timeout, or postmaster death; reload settings on SIGHUP. */
static void
WorkerSleep(long timeout_ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 timeout_ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

/* The worker's entry point. */
void
seongsu_worker_main(Datum arg)
{
	MemoryContext cxt;
	bool		reset_done = false;
	bool		said_missing = false;
	TimestampTz last_purge = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, WorkerSigterm);
	pqsignal(SIGUSR2, WorkerCancelTraining);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(seongsu_database, NULL, 0);
	/* whatever the database's search_path, the worker's statements see only pg_catalog */
	SetConfigOption("search_path", SS_SAFE_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);

	if (shared)
	{
		shared->pid = MyProcPid;
		shared->latch = MyLatch;
		before_shmem_exit(WorkerDetach, (Datum) 0);
	}
	cxt = AllocSetContextCreate(TopMemoryContext, "seongsu worker job", ALLOCSET_DEFAULT_SIZES);
	ereport(LOG, (errmsg("daily_seongsu ingestion worker started in database \"%s\"", seongsu_database)));

	while (!got_sigterm)
	{
		long		due;

		if (!ExtensionReady())
		{
			if (!said_missing)
				ereport(LOG,
						(errmsg("daily_seongsu ingestion worker is waiting for CREATE EXTENSION daily_seongsu in database \"%s\"",
								seongsu_database)));
			said_missing = true;
			reset_done = false;
			WorkerSleep(MISSING_WAIT_MS);
			continue;
		}
		if (said_missing)
			ereport(LOG, (errmsg("daily_seongsu ingestion worker found the extension")));
		said_missing = false;
		if (!reset_done)
		{
			Maintain(JobsResetRunning, false);
			reset_done = true;
		}
		if (TimestampDifferenceExceeds(last_purge, GetCurrentTimestamp(), PURGE_EVERY_MS))
		{
			Maintain(JobsPurgeLog, false);
			Maintain(WebhookPurge, false);
			last_purge = GetCurrentTimestamp();
		}
		/* alerts are posted before each job, so a long backfill does not hold them up */
		while (!got_sigterm && (WebhookDrain(cxt, &got_sigterm) || JobsRunNext(cxt, &got_sigterm)))
		{
			MemoryContextReset(cxt);
			if (ConfigReloadPending)
			{
				ConfigReloadPending = false;
				ProcessConfigFile(PGC_SIGHUP);
			}
		}
		if (got_sigterm)
			break;
		if (!ExtensionReady())
			continue;			/* dropped meanwhile: wait for it above */
		due = Maintain(NULL, true);
		WorkerSleep(due < 0 ? IDLE_WAIT_MS : Min(due + 1, IDLE_WAIT_MS));
	}
	/* exit code 1: the postmaster restarts the worker unless it is shutting down */
	proc_exit(1);
}
