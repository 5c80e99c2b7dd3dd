/*
 * model_share.c — the shared model cache: stored models, read and checked
 * once, kept as flat images (model_image.c) in one shared-memory pool of
 * seongsu.model_cache_size, so a new backend predicts without reading,
 * checking or building the model again, and every backend predicts from the
 * same copy instead of its own.
 *
 * An entry is keyed by database, model id and the blob's version (its
 * CRC-32 and length, from the blob's header): an image is a function of the
 * blob's bytes alone, so an entry never goes stale — a rewritten blob is
 * another version, read and checked again — and no invalidation is needed.
 * A backend holds a reference on each entry its own model cache points
 * into, released when its cache drops the model and at exit; only entries
 * nobody references are evicted (least recently used first).  When the
 * pool has no room, a model is simply not shared.  It exists only when the
 * library is preloaded.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "../settings.h"
#include "../ml/model.h"
#include "model_share.h"

#define SHARE_SLOTS 64

/* One cached model: where its entry is in the pool, and who uses it. */
typedef struct ShareSlot
{
	Oid			database;
	int64		model_id;
	uint64		version;		/* of the blob: CRC-32 and length */
	Size		offset;			/* image in the pool */
	Size		size;			/* 0: slot unused */
	bool		ready;			/* written (until then only its place is taken) */
	int32		refs;			/* references held by backends */
	uint64		used;			/* clock of the last use */
	uint64		hits;			/* times a backend took it from here */
} ShareSlot;

typedef struct ModelShare
{
	Size		pool_size;
	uint64		clock;
	ShareSlot	slots[SHARE_SLOTS];
} ModelShare;

static ModelShare *share = NULL;
static char *pool = NULL;
static LWLock *share_lock = NULL;
static int32 held[SHARE_SLOTS];	/* references this backend holds */
static bool exit_registered = false;

/* The pool's size in bytes (the setting is in kB). */
static Size
PoolSize(void)
{
	return (Size) seongsu_model_cache_size * 1024;
}

/* Shared memory the cache needs (at preload). */
void
ModelShareRequest(void)
{
	if (seongsu_model_cache_size <= 0)
		return;
	RequestAddinShmemSpace(add_size(MAXALIGN(sizeof(ModelShare)), PoolSize()));
	RequestNamedLWLockTranche("daily_seongsu model cache", 1);
}

/* Create or attach the cache (shmem startup; caller holds AddinShmemInitLock). */
void
ModelShareStartup(void)
{
	bool		found;

	if (seongsu_model_cache_size <= 0)
		return;
	share = ShmemInitStruct("daily_seongsu model cache", add_size(MAXALIGN(sizeof(ModelShare)), PoolSize()),
							&found);
	pool = (char *) share + MAXALIGN(sizeof(ModelShare));
	if (!found)
	{
		memset(share, 0, sizeof(ModelShare));
		share->pool_size = PoolSize();
	}
	share_lock = &(GetNamedLWLockTranche("daily_seongsu model cache"))->lock;
}

/* At backend exit: drop the references this backend still holds. */
static void
ReleaseAll(int code, Datum arg)
{
	int			i;

	if (!share)
		return;
	LWLockAcquire(share_lock, LW_EXCLUSIVE);
	for (i = 0; i < SHARE_SLOTS; i++)
		if (held[i] > 0)
		{
			share->slots[i].refs -= held[i];
			held[i] = 0;
		}
	LWLockRelease(share_lock);
}

/* Whether slot s holds the entry of (this database, id, version) (written or not). */
static bool
SlotIs(const ShareSlot *s, int64 id, uint64 version)
{
	return s->size > 0 && s->database == MyDatabaseId && s->model_id == id && s->version == version;
}

/*
 * Take a reference on the image of model id's blob of this version: *image
 * points to it, unchanged until the caller gives the reference back with
 * ModelShareRelease(slot).  Returns the slot, or -1 when it is not cached.
 */
int
ModelShareAcquire(int64 id, uint64 version, const void **image)
{
	ShareSlot  *s = NULL;
	int			i;

	if (!share)
		return -1;
	if (!exit_registered)
	{
		before_shmem_exit(ReleaseAll, (Datum) 0);
		exit_registered = true;
	}
	LWLockAcquire(share_lock, LW_EXCLUSIVE);
	for (i = 0; i < SHARE_SLOTS; i++)
		if (SlotIs(&share->slots[i], id, version) && share->slots[i].ready)
		{
			s = &share->slots[i];
			s->refs++;
			s->hits++;
			s->used = ++share->clock;
			held[i]++;
			break;
		}
	LWLockRelease(share_lock);
	if (!s)
		return -1;
	/* referenced: nobody frees or moves it now */
	*image = pool + s->offset;
	return i;
}

/* Give back a reference taken by ModelShareAcquire. */
void
ModelShareRelease(int slot)
{
	if (!share || slot < 0 || slot >= SHARE_SLOTS || held[slot] <= 0)
		return;
	LWLockAcquire(share_lock, LW_EXCLUSIVE);
	share->slots[slot].refs--;
	held[slot]--;
	LWLockRelease(share_lock);
}

/* Whether slot s may not be evicted: referenced, or being written. */
static bool
Pinned(const ShareSlot *s)
{
	return s->refs > 0 || !s->ready;
}

/*
 * Start of the first gap of `need` bytes between the entries (only the
 * pinned ones, when asked: where a gap would be if every other entry were
 * evicted), or -1.  Caller holds the lock.
 */
static ssize_t
FindGap(Size need, bool pinned_only)
{
	Size		at = 0;

	for (;;)
	{
		Size		next_end = 0;
		bool		clash = false;
		int			i;

		/* the entry overlapping [at, at + need), if any: continue after it */
		for (i = 0; i < SHARE_SLOTS; i++)
		{
			const ShareSlot *s = &share->slots[i];

			if (s->size > 0 && (!pinned_only || Pinned(s)) &&
				s->offset < at + need && at < s->offset + s->size &&
				(!clash || s->offset + s->size > next_end))
			{
				next_end = s->offset + s->size;
				clash = true;
			}
		}
		if (!clash)
			return at + need <= share->pool_size ? (ssize_t) at : -1;
		at = next_end;
		if (at + need > share->pool_size)
			return -1;
	}
}

/* Evict the least recently used unreferenced entry; false when every entry is referenced. */
static bool
EvictOne(void)
{
	ShareSlot  *victim = NULL;
	int			i;

	for (i = 0; i < SHARE_SLOTS; i++)
	{
		ShareSlot  *s = &share->slots[i];

		if (s->size == 0 || Pinned(s))
			continue;
		if (!victim || s->used < victim->used)
			victim = s;
	}
	if (!victim)
		return false;
	victim->size = 0;
	return true;
}

/*
 * Cache the image of model id's blob of this version.  Does nothing when it
 * is there already or would not fit even with every unpinned entry
 * evicted.  The place is taken under the lock, the image written outside it.
 */
void
ModelSharePut(int64 id, uint64 version, const MlModel *model)
{
	Size		need = MAXALIGN(MlModelImageSize(model));
	ssize_t		at = -1;
	ShareSlot  *s = NULL;
	int			i;

	if (!share || need > share->pool_size)
		return;
	LWLockAcquire(share_lock, LW_EXCLUSIVE);
	for (i = 0; i < SHARE_SLOTS; i++)
		if (SlotIs(&share->slots[i], id, version))
		{
			LWLockRelease(share_lock);
			return;
		}
	if (FindGap(need, true) < 0)
	{
		LWLockRelease(share_lock);
		return;
	}
	for (;;)
	{
		for (i = 0, s = NULL; i < SHARE_SLOTS && !s; i++)
			if (share->slots[i].size == 0)
				s = &share->slots[i];
		if (s && (at = FindGap(need, false)) >= 0)
			break;
		if (!EvictOne())
		{
			LWLockRelease(share_lock);
			return;
		}
	}
	s->database = MyDatabaseId;
	s->model_id = id;
	s->version = version;
	s->offset = (Size) at;
	s->size = need;
	s->ready = false;
	s->refs = 0;
	s->used = ++share->clock;
	s->hits = 0;
	LWLockRelease(share_lock);
	/* the place is this backend's until ready: write without the lock (nothing here can fail) */
	MlModelImageWrite(model, pool + at);
	LWLockAcquire(share_lock, LW_EXCLUSIVE);
	s->ready = true;
	LWLockRelease(share_lock);
}

/*
 * What the cache holds, for seongsu.model_cache(): up to max entries of
 * this database into out; returns how many.  The pool's size and use in
 * *pool_bytes and *used_bytes.
 */
int
ModelShareList(ModelShareEntry *out, int max, Size *pool_bytes, Size *used_bytes)
{
	int			i, n = 0;

	*pool_bytes = *used_bytes = 0;
	if (!share)
		return 0;
	LWLockAcquire(share_lock, LW_SHARED);
	*pool_bytes = share->pool_size;
	for (i = 0; i < SHARE_SLOTS; i++)
	{
		const ShareSlot *s = &share->slots[i];

		if (s->size == 0)
			continue;
		*used_bytes += s->size;
		if (!s->ready)
			continue;
		if (s->database != MyDatabaseId || n >= max)
			continue;
		out[n].model_id = s->model_id;
		out[n].version = s->version;
		out[n].bytes = s->size;
		out[n].refs = s->refs;
		out[n].hits = s->hits;
		n++;
	}
	LWLockRelease(share_lock);
	return n;
}
