/*
 * day_memo.c — a shared-memory memo of single-day answers (the daily
 * prediction, the model that made it, the hour shares of the day's type and
 * the crowd-level thresholds), keyed by station, line and service day and
 * valid for one shared epoch (invalidation.c: it moves whenever any backend
 * learns of a write to a watched table).
 *
 * It lets a new backend answer predict_crowd / crowd_level / predict_daily
 * for a day some backend has already answered without reading anything.
 * Beside it, a station memo keeps what a prediction for a station looks up
 * first — its id and the rows of its deployed models — valid while no
 * station, model or deployment is written, so after a change of the
 * observations a new backend reads only the feature inputs.  Both are kept
 * because a workload of many short sessions (test/bench/predict_speed.sh,
 * pgbench -C) shows they pay.  It exists only when the library is preloaded, with
 * seongsu.day_memo_size entries (when full, each new day replaces an
 * arbitrary one), and is not used on a standby (replayed writes move the
 * epoch only in the backends connected at the time).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"

#include "../invalidation.h"
#include "../settings.h"
#include "day_memo.h"
#include "serve.h"

#define MEMO_STATION_LEN 64
#define MEMO_LINE_LEN 32

/* Hash key: the database and the extension's install (WatchInstall), zero-padded names and the day. */
typedef struct MemoKey
{
	Oid			database;
	Oid			install;
	char		station[MEMO_STATION_LEN];
	char		line[MEMO_LINE_LEN];
	int32		day;
} MemoKey;

typedef struct MemoEntry
{
	MemoKey		key;
	uint64		epoch;
	DayAnswer	answer;
} MemoEntry;

#define STATION_MEMO_SIZE 64

/* A station's entry: what a prediction for it looks up first. */
typedef struct StationEntry
{
	MemoKey		key;			/* day 0 */
	uint64		epoch;
	StationSnap snap;
} StationEntry;

static HTAB *memo = NULL;
static HTAB *stations = NULL;
static LWLock *memo_lock = NULL;

/* Shared memory the memo needs (at preload). */
void
DayMemoRequest(void)
{
	if (seongsu_day_memo_size <= 0)
		return;
	RequestAddinShmemSpace(hash_estimate_size(seongsu_day_memo_size, sizeof(MemoEntry)));
	RequestAddinShmemSpace(hash_estimate_size(STATION_MEMO_SIZE, sizeof(StationEntry)));
	RequestNamedLWLockTranche("daily_seongsu day memo", 1);
}

/* Create or attach the memo (shmem startup; caller holds AddinShmemInitLock). */
void
DayMemoStartup(void)
{
	HASHCTL		info;

	if (seongsu_day_memo_size <= 0)
		return;
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(MemoKey);
	info.entrysize = sizeof(MemoEntry);
	memo = ShmemInitHash("daily_seongsu day memo", seongsu_day_memo_size, seongsu_day_memo_size,
						 &info, HASH_ELEM | HASH_BLOBS);
	info.entrysize = sizeof(StationEntry);
	stations = ShmemInitHash("daily_seongsu station memo", STATION_MEMO_SIZE, STATION_MEMO_SIZE,
							 &info, HASH_ELEM | HASH_BLOBS);
	memo_lock = &(GetNamedLWLockTranche("daily_seongsu day memo"))->lock;
}

/* Fill a key; false when a name is too long to be memoized. */
static bool
MakeKey(MemoKey *key, const char *station, const char *line, int32 day)
{
	memset(key, 0, sizeof(*key));
	if (strlen(station) >= MEMO_STATION_LEN || strlen(line) >= MEMO_LINE_LEN)
		return false;
	key->database = MyDatabaseId;
	key->install = WatchInstall();
	strcpy(key->station, station);
	strcpy(key->line, line);
	key->day = day;
	return true;
}

/* A full table (of max entries) without key: drop one entry, the first a scan meets (caller holds the lock). */
static void
MakeRoom(HTAB *h, long max, const MemoKey *key)
{
	HASH_SEQ_STATUS seq;
	MemoKey    *e;

	if (hash_get_num_entries(h) < max || hash_search(h, key, HASH_FIND, NULL) != NULL)
		return;
	hash_seq_init(&seq, h);
	if ((e = hash_seq_search(&seq)) != NULL)
	{
		hash_search(h, e, HASH_REMOVE, NULL);
		hash_seq_term(&seq);
	}
}

/*
 * The epoch an answer computed from now on belongs to (0: the memo may not
 * be used here): taken after ServeSettle, before anything is read.
 */
uint64
DayMemoEpoch(void)
{
	return memo ? WatchSharedEpoch(WATCH_ALL) : 0;
}

/* The memoized answer for (station, line, day) of epoch, if any. */
bool
DayMemoGet(const char *station, const char *line, int32 day, uint64 epoch, DayAnswer *out)
{
	MemoKey		key;
	MemoEntry  *e;
	bool		hit = false;

	if (epoch == 0 || !MakeKey(&key, station, line, day))
		return false;
	LWLockAcquire(memo_lock, LW_SHARED);
	e = hash_search(memo, &key, HASH_FIND, NULL);
	if (e && e->epoch == epoch)
	{
		*out = e->answer;
		hit = true;
	}
	LWLockRelease(memo_lock);
	return hit;
}

/* Remember the answer for (station, line, day) computed in epoch. */
void
DayMemoPut(const char *station, const char *line, int32 day, uint64 epoch, const DayAnswer *answer)
{
	MemoKey		key;
	MemoEntry  *e;
	bool		found;

	if (epoch == 0 || !MakeKey(&key, station, line, day))
		return;
	LWLockAcquire(memo_lock, LW_EXCLUSIVE);
	MakeRoom(memo, seongsu_day_memo_size, &key);
	e = hash_search(memo, &key, HASH_ENTER_NULL, &found);
	if (e && (!found || e->epoch <= epoch))
	{
		e->epoch = epoch;
		e->answer = *answer;
	}
	LWLockRelease(memo_lock);
}

/* The epoch a station's lookups made from now on belong to (0: the memo may not be used here). */
uint64
StationMemoEpoch(void)
{
	return stations ? WatchSharedEpoch((1u << WATCH_STATIONS) | (1u << WATCH_MODELS) | (1u << WATCH_DEPLOYMENTS)) : 0;
}

/* The memoized lookups of (station, line) of epoch, if any. */
bool
StationMemoGet(const char *station, const char *line, uint64 epoch, StationSnap *out)
{
	MemoKey		key;
	StationEntry *e;
	bool		hit = false;

	if (epoch == 0 || !MakeKey(&key, station, line, 0))
		return false;
	LWLockAcquire(memo_lock, LW_SHARED);
	e = hash_search(stations, &key, HASH_FIND, NULL);
	if (e && e->epoch == epoch)
	{
		*out = e->snap;
		hit = true;
	}
	LWLockRelease(memo_lock);
	return hit;
}

/* Remember the lookups of (station, line) made in epoch. */
void
StationMemoPut(const char *station, const char *line, uint64 epoch, const StationSnap *snap)
{
	MemoKey		key;
	StationEntry *e;
	bool		found;

	if (epoch == 0 || !MakeKey(&key, station, line, 0))
		return;
	LWLockAcquire(memo_lock, LW_EXCLUSIVE);
	MakeRoom(stations, STATION_MEMO_SIZE, &key);
	e = hash_search(stations, &key, HASH_ENTER_NULL, &found);
	if (e && (!found || e->epoch <= epoch))
	{
		e->epoch = epoch;
		e->snap = *snap;
	}
	LWLockRelease(memo_lock);
}
