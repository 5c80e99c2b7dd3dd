/*
 * holidays.h — reading the holidays table for the calendar features.
 */
#ifndef SEONGSU_HOLIDAYS_H
#define SEONGSU_HOLIDAYS_H

#include "postgres.h"

#include "calendar.h"

extern HolidaySet *HolidaySetLoad(int32 from, int32 to);

#endif							/* SEONGSU_HOLIDAYS_H */
