/*
 * climatology.c — the weather climatology's sums per day of year (1..366)
 * over every observation of seongsu.weather_daily: temperature, and
 * precipitation where there is a temperature.  Read from every observation
 * once, then kept per backend while no write to the table has been seen
 * (invalidation.c), and in shared memory (a few databases' worth) while the
 * table's shared epoch has not moved, so a new backend reads only the
 * observations of the range it needs.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/date.h"

#include "../invalidation.h"
#include "../kst.h"
#include "../safe_spi.h"
#include "asof.h"
#include "climatology.h"

#define CLIMATE_SLOTS 8

/* One database's sums in shared memory. */
typedef struct ClimateSlot
{
	Oid			database;		/* InvalidOid: unused */
	Oid			install;
	uint64		epoch;			/* the shared epoch of weather_daily they were read at */
	Climate		sums;
} ClimateSlot;

static ClimateSlot *slots = NULL;
static LWLock *climate_lock = NULL;
static Climate sums;
static Oid	kept_install = InvalidOid;	/* InvalidOid: nothing kept */
static uint64 kept_stamp = 0;
static SPIPlanPtr rows_plan = NULL;
static const VersionTable weather_table[1] = {VT_WEATHER_DAILY};

/* Shared memory the shared copies need (at preload). */
void
ClimateRequest(void)
{
	RequestAddinShmemSpace(mul_size(CLIMATE_SLOTS, sizeof(ClimateSlot)));
	RequestNamedLWLockTranche("daily_seongsu climatology", 1);
}

/* Create or attach the shared copies (shmem startup; caller holds AddinShmemInitLock). */
void
ClimateStartup(void)
{
	bool		found;

	slots = ShmemInitStruct("daily_seongsu climatology", mul_size(CLIMATE_SLOTS, sizeof(ClimateSlot)), &found);
	if (!found)
		memset(slots, 0, mul_size(CLIMATE_SLOTS, sizeof(ClimateSlot)));
	climate_lock = &(GetNamedLWLockTranche("daily_seongsu climatology"))->lock;
}

/* The shared copy of this database's install at epoch into out, if there is one. */
static bool
SharedGet(uint64 epoch, Climate *out)
{
	bool		hit = false;
	int			i;

	if (!slots || epoch == 0)
		return false;
	LWLockAcquire(climate_lock, LW_SHARED);
	for (i = 0; i < CLIMATE_SLOTS && !hit; i++)
		if (slots[i].database == MyDatabaseId && slots[i].install == WatchInstall() && slots[i].epoch == epoch)
		{
			*out = slots[i].sums;
			hit = true;
		}
	LWLockRelease(climate_lock);
	return hit;
}

/* Share the sums read at epoch: in this database's slot, else a free one, else the oldest. */
static void
SharedPut(uint64 epoch, const Climate *c)
{
	ClimateSlot *s = NULL;
	int			i;

	if (!slots || epoch == 0)
		return;
	LWLockAcquire(climate_lock, LW_EXCLUSIVE);
	for (i = 0; i < CLIMATE_SLOTS && !s; i++)
		if (slots[i].database == MyDatabaseId)
			s = &slots[i];
	for (i = 0; i < CLIMATE_SLOTS && !s; i++)
		if (slots[i].database == InvalidOid)
			s = &slots[i];
	if (!s)
		for (s = &slots[0], i = 1; i < CLIMATE_SLOTS; i++)
			if (slots[i].epoch < s->epoch)
				s = &slots[i];
	s->database = MyDatabaseId;
	s->install = WatchInstall();
	s->epoch = epoch;
	s->sums = *c;
	LWLockRelease(climate_lock);
}

/* Read the sums of every observation into c (caller has SPI). */
static void
ClimateRead(Climate *c)
{
	uint64		i;

	memset(c, 0, sizeof(*c));
	if (SPI_execute_plan(VersionPlan(&rows_plan, "SELECT day, temp_mean_c, precip_mm FROM (%s) AS w "
									 "WHERE temp_mean_c IS NOT NULL", 1, weather_table, 0, NULL),
						 NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.weather_daily");
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		x[3];
		bool		nn[3];
		int			y, m, d, doy;

		CHECK_FOR_INTERRUPTS();
		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, x, nn);
		KstPgDateParts(DatumGetDateADT(x[0]), &y, &m, &d);
		doy = DatumGetDateADT(x[0]) - KstPgDate(y, 1, 1) + 1;
		c->sum_t[doy] += DatumGetFloat8(x[1]);
		c->n_t[doy]++;
		if (!nn[2])
		{
			c->sum_p[doy] += DatumGetFloat8(x[2]);
			c->n_p[doy]++;
		}
	}
}

/*
 * The sums: this backend's, else the shared copy, else read now and kept
 * (caller has SPI).  Read as of an instant (asof.h), they are read afresh
 * and not kept.
 */
const Climate *
ClimateSums(void)
{
	bool		usable = WatchUsable(1u << WATCH_WEATHER);
	/* both taken before reading: a write committed meanwhile moves them past */
	uint64		stamp = WatchEpoch(1u << WATCH_WEATHER) + 1;
	uint64		epoch = usable ? WatchSharedEpoch(1u << WATCH_WEATHER) : 0;

	if (VersionAsOf(NULL))
	{
		ClimateRead(&sums);
		kept_install = InvalidOid;
		return &sums;
	}
	if (usable && OidIsValid(kept_install) && kept_install == WatchInstall() && kept_stamp == stamp)
		return &sums;
	if (!SharedGet(epoch, &sums))
	{
		ClimateRead(&sums);
		SharedPut(epoch, &sums);
	}
	kept_install = usable ? WatchInstall() : InvalidOid;
	kept_stamp = stamp;
	return &sums;
}
