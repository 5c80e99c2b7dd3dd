/*
 * invalidation.h — what changed since a cache was filled, from
 * PostgreSQL's own invalidation messages (invalidation.c).
 */
#ifndef SEONGSU_INVALIDATION_H
#define SEONGSU_INVALIDATION_H

#include "postgres.h"

/* The tables whose writes make the prediction caches stale. */
typedef enum Watched
{
	WATCH_RIDERSHIP,			/* ridership_daily */
	WATCH_HOLIDAYS,
	WATCH_WEATHER,				/* weather_daily */
	WATCH_FORECAST,				/* weather_forecast */
	WATCH_MODELS,
	WATCH_DEPLOYMENTS,
	WATCH_STATIONS,
	NUM_WATCHED
} Watched;

#define WATCH_ALL ((1u << NUM_WATCHED) - 1)

extern Size WatchShmemSize(void);
extern void WatchShmemInit(void);
extern bool WatchUsable(unsigned mask);
extern uint64 WatchSharedEpoch(unsigned mask);
extern Oid	WatchInstall(void);
extern uint64 WatchEpoch(unsigned mask);

#endif							/* SEONGSU_INVALIDATION_H */
