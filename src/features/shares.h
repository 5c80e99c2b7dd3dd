/*
 * shares.h — the hour-of-day shares of the two-stage hourly forecast and the
 * crowd-level thresholds derived from them.
 */
#ifndef SEONGSU_SHARES_H
#define SEONGSU_SHARES_H

#include "postgres.h"

#include "dataset.h"

#define SHARES_N (CAL_NDAYTYPES * 24)	/* day type (calendar.h) x hour */

extern bool SharesCompute(int32 station_id, int32 up_to, double *shares);
extern bool SharesLevels(const Dataset *d, const double *shares, double *levels);

#endif							/* SEONGSU_SHARES_H */
