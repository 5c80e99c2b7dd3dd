/*
 * day_memo.c — a shared-memory memo of single-day answers (the daily
 * prediction, the model that made it, the hour shares of the day's type and
 * the crowd-level thresholds), keyed by station, line and service day and
 * valid for one data generation (see worker.h: any committed write to the
 * data, models or deployments starts a new one).
 *
 * It lets a new backend answer predict_crowd / crowd_level / predict_daily
 * for a day some backend has already answered, without loading the model or
 * the feature context.  It also keeps what a prediction for a station looks
 * up first — the station's id and its deployed models — valid for one
 * deployments generation (writes to stations, models or deployments), so a
 * new backend skips those lookups after a change of the observations,
 * weather or holidays.  It exists only when the library is preloaded, with
 * seongsu.day_memo_size entries; when it is full, each new day replaces an
 * arbitrary one.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"

#include "../settings.h"
#include "day_memo.h"

#define MEMO_STATION_LEN 64
#define MEMO_LINE_LEN 32

/* Hash key: the database and the extension's install (see Incarnation in predict.c), zero-padded names and the day (STATION_DAY: the station's lookups). */
typedef struct MemoKey
{
	Oid			database;
	Oid			incarnation;
	char		station[MEMO_STATION_LEN];
	char		line[MEMO_LINE_LEN];
	int32		day;
} MemoKey;

#define STATION_DAY PG_INT32_MIN

typedef struct MemoEntry
{
	MemoKey		key;
	uint64		generation;
	union
	{
		DayAnswer	answer;
		StationLookups station;
	}			u;
} MemoEntry;

static HTAB *memo = NULL;
static LWLock *memo_lock = NULL;

/* Shared memory the memo needs (at preload). */
void
DayMemoRequest(void)
{
	if (seongsu_day_memo_size <= 0)
		return;
	RequestAddinShmemSpace(hash_estimate_size(seongsu_day_memo_size, sizeof(MemoEntry)));
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
	memo_lock = &(GetNamedLWLockTranche("daily_seongsu day memo"))->lock;
}

/* Fill a key; false when a name is too long to be memoized. */
static bool
MakeKey(MemoKey *key, Oid incarnation, const char *station, const char *line, int32 day)
{
	memset(key, 0, sizeof(*key));
	if (strlen(station) >= MEMO_STATION_LEN || strlen(line) >= MEMO_LINE_LEN)
		return false;
	key->database = MyDatabaseId;
	key->incarnation = incarnation;
	strcpy(key->station, station);
	strcpy(key->line, line);
	key->day = day;
	return true;
}

/* Copy the entry of (station, line, day) at generation gen (size bytes of it) into out, if any. */
static bool
MemoGet(Oid incarnation, const char *station, const char *line, int32 day, uint64 gen, void *out, Size size)
{
	MemoKey		key;
	MemoEntry  *e;
	bool		hit = false;

	if (!memo || gen == 0 || !MakeKey(&key, incarnation, station, line, day))
		return false;
	LWLockAcquire(memo_lock, LW_SHARED);
	e = hash_search(memo, &key, HASH_FIND, NULL);
	if (e && e->generation == gen)
	{
		memcpy(out, &e->u, size);
		hit = true;
	}
	LWLockRelease(memo_lock);
	return hit;
}

/* Remember size bytes of data for (station, line, day), computed at generation gen. */
static void
MemoPut(Oid incarnation, const char *station, const char *line, int32 day, uint64 gen,
		const void *data, Size size)
{
	MemoKey		key;
	MemoEntry  *e;
	bool		found;

	if (!memo || gen == 0 || !MakeKey(&key, incarnation, station, line, day))
		return;
	LWLockAcquire(memo_lock, LW_EXCLUSIVE);
	if (hash_get_num_entries(memo) >= seongsu_day_memo_size &&
		hash_search(memo, &key, HASH_FIND, NULL) == NULL)
	{
		HASH_SEQ_STATUS seq;

		/* full: make room by dropping one entry (the first the scan meets) */
		hash_seq_init(&seq, memo);
		if ((e = hash_seq_search(&seq)) != NULL)
		{
			hash_search(memo, &e->key, HASH_REMOVE, NULL);
			hash_seq_term(&seq);
		}
	}
	e = hash_search(memo, &key, HASH_ENTER_NULL, &found);
	if (e && (!found || e->generation <= gen))
	{
		e->generation = gen;
		memcpy(&e->u, data, size);
	}
	LWLockRelease(memo_lock);
}

/* The memoized answer for (station, line, day) of data generation gen in this database's install, if any. */
bool
DayMemoGet(Oid incarnation, const char *station, const char *line, int32 day, uint64 gen, DayAnswer *out)
{
	return day != STATION_DAY && MemoGet(incarnation, station, line, day, gen, out, sizeof(*out));
}

/* Remember the answer for (station, line, day) computed at data generation gen. */
void
DayMemoPut(Oid incarnation, const char *station, const char *line, int32 day, uint64 gen,
		   const DayAnswer *answer)
{
	if (day != STATION_DAY)
		MemoPut(incarnation, station, line, day, gen, answer, sizeof(*answer));
}

/* The memoized lookups of (station, line) at deployments generation gen, if any. */
bool
StationMemoGet(Oid incarnation, const char *station, const char *line, uint64 gen, StationLookups *out)
{
	return MemoGet(incarnation, station, line, STATION_DAY, gen, out, sizeof(*out));
}

/* Remember the lookups of (station, line) made at deployments generation gen. */
void
StationMemoPut(Oid incarnation, const char *station, const char *line, uint64 gen, const StationLookups *in)
{
	MemoPut(incarnation, station, line, STATION_DAY, gen, in, sizeof(*in));
}
