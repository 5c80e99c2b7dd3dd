/*
 * stamp.c — seongsu.version_stamp(): the version stamp of a transaction's
 * writes to the versioned tables (src/sql/75_versions.sql).
 *
 * The stamp is the clock time of the transaction's first write to a
 * versioned table, read while the transaction holds that table's write
 * lock (the default of ingested_at and the revision triggers run inside
 * the write).  It stays the transaction's stamp while that lock is held:
 * to the end of the transaction, or of the subtransaction that took it if
 * that aborts (then the next write takes a new stamp).  snapshot.c relies
 * on it: a version stamped at or before T comes from a transaction that
 * held a write lock on a versioned table at T.
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/timestamp.h"

#include "../compat.h"

PG_FUNCTION_INFO_V1(version_stamp);

static bool stamp_set = false;
static TimestampTz stamp;
static int	stamp_level;		/* nesting level of the (sub)transaction holding the lock it was taken under */
static bool callbacks_registered = false;

/* At the end of the transaction the stamp ends with it. */
static void
StampXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		stamp_set = false;
}

/* A subtransaction that took the stamp hands it to its parent on commit and drops it on abort (its locks go). */
static void
StampSubXactCallback(SubXactEvent event, SubTransactionId sub, SubTransactionId parent, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (!stamp_set || stamp_level < level)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
		stamp_set = false;
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		stamp_level = level - 1;
}

/* True when this transaction holds a write lock on relation rel (DML, or TRUNCATE). */
static bool
WritingRelation(Oid rel)
{
	LOCKTAG		tag;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, rel);
	return SsLockHeldByMe(&tag, RowExclusiveLock) || SsLockHeldByMe(&tag, AccessExclusiveLock);
}

/*
 * version_stamp(tbl regclass): this transaction's version stamp, taken now
 * if it has none yet and it is writing tbl.  A call that is not part of a
 * write to tbl returns the clock and takes no stamp (so no transaction can
 * stamp its writes earlier than its lock).
 */
Datum
version_stamp(PG_FUNCTION_ARGS)
{
	Oid			rel = PG_GETARG_OID(0);

	if (!stamp_set)
	{
		if (!WritingRelation(rel))
			PG_RETURN_TIMESTAMPTZ(GetCurrentTimestamp());
		if (!callbacks_registered)
		{
			RegisterXactCallback(StampXactCallback, NULL);
			RegisterSubXactCallback(StampSubXactCallback, NULL);
			callbacks_registered = true;
		}
		stamp = GetCurrentTimestamp();
		stamp_level = GetCurrentTransactionNestLevel();
		stamp_set = true;
	}
	PG_RETURN_TIMESTAMPTZ(stamp);
}
