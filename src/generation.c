/*
 * generation.c — what changed since a cache was filled.  Statement
 * triggers on the tables predictions read (src/sql/80_cache.sql) note what
 * the transaction wrote; at commit the generations of those tables are
 * bumped in shared memory, and a cache filled at an older generation is
 * stale.  COMMIT PREPARED bumps every generation (what the prepared
 * transaction wrote is not known here).
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "generation.h"

/* The generations, in shared memory. */
typedef struct GenerationShared
{
	pg_atomic_uint64 generation[NUM_GENERATIONS];
} GenerationShared;

static GenerationShared *shared = NULL;
static int	changed = 0;			/* bits 1 << GEN_*: what this transaction wrote */
static bool callback_registered = false;
static ProcessUtility_hook_type prev_process_utility_hook = NULL;

/* Shared memory the generations need (requested at preload). */
Size
GenerationShmemSize(void)
{
	return MAXALIGN(sizeof(GenerationShared));
}

/* Create or attach the generations (caller holds AddinShmemInitLock). */
void
GenerationShmemInit(void)
{
	bool		found;
	int			g;

	shared = ShmemInitStruct("daily_seongsu generations", sizeof(GenerationShared), &found);
	if (!found)
		for (g = 0; g < NUM_GENERATIONS; g++)
			pg_atomic_init_u64(&shared->generation[g], 1);
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

/* At commit (and PREPARE): bump the generations of what changed. */
static void
GenerationXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
	{
		/* at PREPARE what was cached before stays stale; COMMIT PREPARED bumps again */
		if (shared)
			BumpGenerations();
		changed = 0;
	}
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		changed = 0;
}

/* COMMIT PREPARED: bump every generation when it commits. */
static void
GenerationProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						 ProcessUtilityContext context, ParamListInfo params,
						 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (IsA(stmt, TransactionStmt) &&
		((TransactionStmt *) stmt)->kind == TRANS_STMT_COMMIT_PREPARED)
		DataChangedAtCommit((1 << NUM_GENERATIONS) - 1);
	if (prev_process_utility_hook)
		prev_process_utility_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

/* Install the ProcessUtility hook (at preload). */
void
GenerationInstallHooks(void)
{
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = GenerationProcessUtility;
}

/* Bump the generations of `what` (bits 1 << GEN_*; GEN_DATA always) when the current transaction commits. */
void
DataChangedAtCommit(int what)
{
	if (!callback_registered)
	{
		RegisterXactCallback(GenerationXactCallback, NULL);
		callback_registered = true;
	}
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
