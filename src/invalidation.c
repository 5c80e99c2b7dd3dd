/*
 * invalidation.c — what changed since a cache was filled, told by
 * PostgreSQL itself.
 *
 * A statement trigger on each table predictions read (data_changed_trigger,
 * src/sql/80_cache.sql; BEFORE the statement, so the rest of the writing
 * statement and transaction already read afresh; ENABLE ALWAYS, so it also
 * fires for replication and session_replication_role = replica loads)
 * counts the write in this backend and sends a relcache invalidation for
 * the table.  PostgreSQL delivers that like any catalog change: to the
 * writing backend after the statement (and again if the transaction or
 * savepoint is rolled back, so nothing read from rolled-back rows stays),
 * to every other backend once the transaction commits (COMMIT PREPARED
 * included), and to the backends of a standby when the commit is replayed.
 * A callback counts, per table, the invalidations this backend received; a
 * cache records the count of what it read (WatchEpoch) and is stale once
 * the count moved.  The callback of every backend (and the trigger) also
 * moves the table's shared epoch, for the shared memos (serve/day_memo.c,
 * features/climatology.c): a backend takes its pending invalidations before
 * it reads the epochs, so an entry of older epochs is never used.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/shmem.h"
#include "storage/sinval.h"
#include "utils/acl.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "invalidation.h"

/* The watched tables' names, by Watched. */
static const char *const WatchedNames[NUM_WATCHED] = {
	"ridership_daily", "holidays", "weather_daily", "weather_forecast", "models", "deployments", "stations"
};

static Oid	table_oid[NUM_WATCHED];	/* of the current install */
static uint64 epoch[NUM_WATCHED];	/* invalidations received, per table */
static bool callback_registered = false;
static pg_atomic_uint64 *shared_epoch = NULL;	/* NUM_WATCHED, in shared memory when preloaded */
static TransactionId wrote_xid = InvalidTransactionId;	/* the last transaction that wrote a watched table here */

/* Shared memory the shared epoch needs (requested at preload). */
Size
WatchShmemSize(void)
{
	return MAXALIGN(sizeof(pg_atomic_uint64) * NUM_WATCHED);
}

/* Create or attach the shared epochs (caller holds AddinShmemInitLock). */
void
WatchShmemInit(void)
{
	bool		found;
	int			w;

	shared_epoch = ShmemInitStruct("daily_seongsu shared epochs", sizeof(pg_atomic_uint64) * NUM_WATCHED, &found);
	if (!found)
		for (w = 0; w < NUM_WATCHED; w++)
			pg_atomic_init_u64(&shared_epoch[w], 1);
}

/* Relcache callback: count an invalidation of a watched table (of every one, on a cache reset), here and shared. */
static void
WatchCallback(Datum arg, Oid relid)
{
	int			w;

	for (w = 0; w < NUM_WATCHED; w++)
		if (!OidIsValid(relid) || relid == table_oid[w])
		{
			epoch[w]++;
			if (shared_epoch)
				pg_atomic_fetch_add_u64(&shared_epoch[w], 1);
		}
}

/*
 * The oids of the watched tables of the current install (known by the oid
 * of seongsu.models: the schema outlives DROP EXTENSION); every epoch moves
 * when the install changed.
 */
static void
ResolveInstall(void)
{
	Oid			schema = get_namespace_oid("seongsu", true);
	Oid			models = OidIsValid(schema) ? get_relname_relid("models", schema) : InvalidOid;
	int			w;

	if (models == table_oid[WATCH_MODELS] && OidIsValid(models))
		return;
	for (w = 0; w < NUM_WATCHED; w++)
	{
		table_oid[w] = OidIsValid(models) ? get_relname_relid(WatchedNames[w], schema) : InvalidOid;
		epoch[w]++;
	}
}

/*
 * At the start of every use of a cache: take the invalidations other
 * sessions committed since (so a cache is never older than what this
 * statement's snapshot sees), resolve the install, and say whether a cache
 * of what the tables in mask (bits 1 << WATCH_*) hold may be used and
 * filled here: not under a transaction-long snapshot (REPEATABLE READ,
 * SERIALIZABLE: what it reads may be older than the caches it would fill
 * for later transactions), and only for a user who may read those tables.
 */
bool
WatchUsable(unsigned mask)
{
	int			w;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(WatchCallback, (Datum) 0);
		callback_registered = true;
	}
	AcceptInvalidationMessages();
	ResolveInstall();
	if (IsolationUsesXactSnapshot())
		return false;
	for (w = 0; w < NUM_WATCHED; w++)
		if ((mask & (1u << w)) &&
			(!OidIsValid(table_oid[w]) || pg_class_aclcheck(table_oid[w], GetUserId(), ACL_SELECT) != ACLCHECK_OK))
			return false;
	return true;
}

/* The install the caches belong to: the oid of seongsu.models (InvalidOid when not installed; after WatchUsable). */
Oid
WatchInstall(void)
{
	return table_oid[WATCH_MODELS];
}

/*
 * The shared epochs of the tables in mask (after WatchUsable): move whenever
 * a backend learns of a write to one of them.  0 where shared caches may
 * not be used: without shared memory; on a standby (replayed writes reach
 * only the backends connected at the time, so nobody may move them); and in
 * a transaction that has written a watched table (what it computes may
 * come from rows nobody else sees yet).
 */
uint64
WatchSharedEpoch(unsigned mask)
{
	uint64		sum = 0;
	int			w;

	if (!shared_epoch || RecoveryInProgress() ||
		(TransactionIdIsValid(wrote_xid) && wrote_xid == GetTopTransactionIdIfAny()))
		return 0;
	for (w = 0; w < NUM_WATCHED; w++)
		if (mask & (1u << w))
			sum += pg_atomic_read_u64(&shared_epoch[w]);
	return sum;
}

/* The invalidations received for the watched tables in mask (bits 1 << WATCH_*): moves whenever one of them changed. */
uint64
WatchEpoch(unsigned mask)
{
	uint64		sum = 0;
	int			w;

	for (w = 0; w < NUM_WATCHED; w++)
		if (mask & (1u << w))
			sum += epoch[w];
	return sum;
}

PG_FUNCTION_INFO_V1(data_changed_trigger);

/* Statement trigger: the caches of this table's readers are stale, here at once and elsewhere at commit. */
Datum
data_changed_trigger(PG_FUNCTION_ARGS)
{
	Oid			relid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("data_changed_trigger must be called as a trigger")));
	relid = RelationGetRelid(((TriggerData *) fcinfo->context)->tg_relation);
	wrote_xid = GetTopTransactionId();
	ResolveInstall();
	WatchCallback((Datum) 0, relid);
	CacheInvalidateRelcacheByRelid(relid);
	return PointerGetDatum(NULL);
}
