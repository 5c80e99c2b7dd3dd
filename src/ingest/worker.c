/*
 * worker.c — the ingestion background worker: registered at preload, it
 * connects to seongsu.database, sleeps on its latch (woken when a transaction
 * that enqueued a job commits, or when the next job is due) and runs jobs.
 * It exits with code 1 on error so the postmaster restarts it; jobs it left
 * running are reset to pending when it starts again.
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
#include "../daily_seongsu.h"
#include "../features/climate.h"
#include "../ml/day_memo.h"
#include "../ml/model_share.h"
#include "jobs.h"
#include "worker.h"

PGDLLEXPORT void seongsu_worker_main(Datum arg);

#define IDLE_WAIT_MS 300000		/* wake at least every 5 minutes */
#define MISSING_WAIT_MS 10000	/* re-check for the extension every 10 s */
#define PURGE_EVERY_MS 3600000

/* What other backends need to know about the worker, and the data generation. */
typedef struct WorkerShared
{
	pid_t		pid;
	Latch	   *latch;
	pg_atomic_uint64 generation[NUM_GENERATIONS];	/* see Generation() */
} WorkerShared;

static WorkerShared *shared = NULL;
static volatile sig_atomic_t got_sigterm = false;
static bool wake_pending = false;
static int	changed = 0;			/* bits 1 << GEN_*: what this transaction wrote */
static bool callback_registered = false;
#ifdef SS_HAVE_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static ProcessUtility_hook_type prev_process_utility_hook = NULL;

static void WorkerProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
								 ProcessUtilityContext context, ParamListInfo params,
								 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc);

#ifdef SS_HAVE_SHMEM_REQUEST_HOOK
/* Ask for the library's shared memory: the worker's state and the day memo. */
static void
WorkerShmemRequest(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(WorkerShared)));
	DayMemoRequest();
	ModelShareRequest();
	ClimateRequest();
}
#endif

/* Create or attach the shared state and the day memo. */
static void
WorkerShmemStartup(void)
{
	bool		found;
	int			g;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("daily_seongsu worker", sizeof(WorkerShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(WorkerShared));
		for (g = 0; g < NUM_GENERATIONS; g++)
			pg_atomic_init_u64(&shared->generation[g], 1);
	}
	DayMemoStartup();
	ModelShareStartup();
	ClimateStartup();
	LWLockRelease(AddinShmemInitLock);
}

/* Register the worker and its shared memory (called from _PG_init at preload). */
void
WorkerRegister(void)
{
	BackgroundWorker w;

#ifdef SS_HAVE_SHMEM_REQUEST_HOOK
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = WorkerShmemRequest;
#else
	RequestAddinShmemSpace(MAXALIGN(sizeof(WorkerShared)));
	DayMemoRequest();
	ModelShareRequest();
	ClimateRequest();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = WorkerShmemStartup;
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = WorkerProcessUtility;

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

/*
 * Bump the generations of what this transaction changed (caller checked
 * shared), GEN_DATA last: a reader that sees the new GEN_DATA (it reads
 * that first) then sees the others new too.
 */
static void
BumpGenerations(void)
{
	int			g;

	for (g = NUM_GENERATIONS - 1; g >= 0; g--)
		if (changed & (1 << g))
			pg_atomic_fetch_add_u64(&shared->generation[g], 1);
}

/* At commit: set the worker's latch if a job was enqueued; bump the generations of what changed. */
static void
WorkerXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		Latch	   *latch = shared ? shared->latch : NULL;

		if (wake_pending && latch)
			SetLatch(latch);
		if (shared)
			BumpGenerations();
		wake_pending = false;
		changed = 0;
	}
	else if (event == XACT_EVENT_PREPARE)
	{
		/* what was cached before stays stale; COMMIT PREPARED bumps again */
		if (shared)
			BumpGenerations();
		wake_pending = false;
		changed = 0;
	}
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		wake_pending = false;
		changed = 0;
	}
}

/*
 * COMMIT PREPARED may commit another session's writes, whose triggers fired
 * when it was prepared: bump every generation (and wake the worker, in
 * case a job was enqueued) when it commits.
 */
static void
WorkerProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					 ProcessUtilityContext context, ParamListInfo params,
					 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (IsA(stmt, TransactionStmt) &&
		((TransactionStmt *) stmt)->kind == TRANS_STMT_COMMIT_PREPARED)
	{
		/* what the prepared transaction wrote is unknown here: assume everything */
		DataChangedAtCommit((1 << NUM_GENERATIONS) - 1);
		WorkerWakeAtCommit();
	}
	if (prev_process_utility_hook)
		prev_process_utility_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

/* Register the commit callback once per backend. */
static void
RegisterCallbackOnce(void)
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
	RegisterCallbackOnce();
	wake_pending = true;
}

/* Bump the generations of `what` (bits 1 << GEN_*; GEN_DATA always) when the current transaction commits. */
void
DataChangedAtCommit(int what)
{
	RegisterCallbackOnce();
	changed |= what | (1 << GEN_DATA);
}

/* True when the current transaction has written data that predictions read. */
bool
DataChangedInXact(void)
{
	return changed != 0;
}

/*
 * A generation: changes whenever a transaction commits that wrote
 * GEN_DATA: ridership, holidays, weather, models, deployments or stations;
 * GEN_MODELS: seongsu.models; GEN_WEATHER: seongsu.weather_daily;
 * GEN_DEPLOY: seongsu.stations, seongsu.models or seongsu.deployments.
 * 0 when the library was not preloaded (no shared memory): callers must
 * not cache then.
 */
uint64
Generation(GenerationKind kind)
{
	uint64		g;

	if (!shared)
		return 0;
	g = pg_atomic_read_u64(&shared->generation[kind]);
	pg_read_barrier();			/* later reads (other generations) are not older */
	return g;
}

/*
 * Whether what is cached under the generations may be used and filled here:
 * not in a transaction that has written anything (its own uncommitted rows
 * may be read; the statement triggers that mark watched writes fire only at
 * the end of the statement), under a transaction-long snapshot, or on a
 * standby (replayed writes fire no triggers there, so the generations would
 * not follow them).  Callers check the reader's privileges themselves.
 */
bool
GenerationsUsable(void)
{
	return shared != NULL && !DataChangedInXact() && !TransactionIdIsValid(GetTopTransactionIdIfAny()) &&
		!IsolationUsesXactSnapshot() && !RecoveryInProgress();
}

/* True when a worker is attached to the shared state. */
bool
WorkerIsRunning(void)
{
	return shared != NULL && shared->pid != 0;
}

/* SIGTERM: ask the loop to stop. */
static void
WorkerSigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
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

/* Run one SPI maintenance step (reset, purge, next due) in its own transaction. */
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
		due = JobsNextDueMs();
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
			last_purge = GetCurrentTimestamp();
		}
		while (!got_sigterm && JobsRunNext(cxt, &got_sigterm))
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

PG_FUNCTION_INFO_V1(data_changed_trigger);

/* Statement trigger: predictions' caches are stale once this transaction commits. */
Datum
data_changed_trigger(PG_FUNCTION_ARGS)
{
	/* the generations besides GEN_DATA that a write to a table changes */
	static const struct
	{
		const char *name;
		int			what;
	}			tables[] = {
		{"models", (1 << GEN_MODELS) | (1 << GEN_DEPLOY)},
		{"deployments", 1 << GEN_DEPLOY},
		{"stations", 1 << GEN_DEPLOY},
		{"weather_daily", 1 << GEN_WEATHER},
	};
	const char *table;
	int			what = 0;
	size_t		i;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("data_changed_trigger must be called as a trigger")));
	table = RelationGetRelationName(((TriggerData *) fcinfo->context)->tg_relation);
	for (i = 0; i < lengthof(tables); i++)
		if (strcmp(table, tables[i].name) == 0)
			what |= tables[i].what;
	DataChangedAtCommit(what);
	return PointerGetDatum(NULL);
}
