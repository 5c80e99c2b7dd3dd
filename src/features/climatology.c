/*
 * climatology.c — a shared-memory cache of the weather climatology's sums, so
 * that loading the weather of a range reads only the range's observations
 * (the sums need every observation).  Keyed by database and the oid of
 * seongsu.weather_daily (a new install has a new one), valid for one
 * weather generation (generation.h: any committed write to weather_daily starts
 * a new one).  A few entries, one per database (when full, the entry of
 * the oldest generation makes room); it exists only when the library is
 * preloaded.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "climatology.h"

#define CLIMATE_SLOTS 8

typedef struct ClimateSlot
{
	Oid			database;		/* InvalidOid: unused */
	Oid			table;
	uint64		generation;
	Climate		sums;
} ClimateSlot;

static ClimateSlot *slots = NULL;
static LWLock *climate_lock = NULL;

/* Shared memory the cache needs (at preload). */
void
ClimateRequest(void)
{
	RequestAddinShmemSpace(mul_size(CLIMATE_SLOTS, sizeof(ClimateSlot)));
	RequestNamedLWLockTranche("daily_seongsu climatology", 1);
}

/* Create or attach the cache (shmem startup; caller holds AddinShmemInitLock). */
void
ClimateStartup(void)
{
	bool		found;

	slots = ShmemInitStruct("daily_seongsu climatology", mul_size(CLIMATE_SLOTS, sizeof(ClimateSlot)), &found);
	if (!found)
		memset(slots, 0, mul_size(CLIMATE_SLOTS, sizeof(ClimateSlot)));
	climate_lock = &(GetNamedLWLockTranche("daily_seongsu climatology"))->lock;
}

/* The sums of this database's table at weather generation gen into out, if cached. */
bool
ClimateGet(Oid table, uint64 gen, Climate *out)
{
	bool		hit = false;
	int			i;

	if (!slots || gen == 0)
		return false;
	LWLockAcquire(climate_lock, LW_SHARED);
	for (i = 0; i < CLIMATE_SLOTS && !hit; i++)
		if (slots[i].database == MyDatabaseId && slots[i].table == table && slots[i].generation == gen)
		{
			*out = slots[i].sums;
			hit = true;
		}
	LWLockRelease(climate_lock);
	return hit;
}

/* Remember the sums of this database's table read at weather generation gen. */
void
ClimatePut(Oid table, uint64 gen, const Climate *c)
{
	ClimateSlot *s = NULL;
	int			i;

	if (!slots || gen == 0)
		return;
	LWLockAcquire(climate_lock, LW_EXCLUSIVE);
	/* this database's entry, else a free one, else the one of the oldest generation */
	for (i = 0; i < CLIMATE_SLOTS && !s; i++)
		if (slots[i].database == MyDatabaseId)
			s = &slots[i];
	for (i = 0; i < CLIMATE_SLOTS && !s; i++)
		if (slots[i].database == InvalidOid)
			s = &slots[i];
	if (!s)
		for (s = &slots[0], i = 1; i < CLIMATE_SLOTS; i++)
			if (slots[i].generation < s->generation)
				s = &slots[i];
	if (s->database != MyDatabaseId || s->table != table || s->generation <= gen)
	{
		s->database = MyDatabaseId;
		s->table = table;
		s->generation = gen;
		s->sums = *c;
	}
	LWLockRelease(climate_lock);
}
