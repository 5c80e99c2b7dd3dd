/*
 * kst.h — Korean Standard Time calendar arithmetic in pure C.
 *
 * Dates are PostgreSQL day numbers (days since 2000-01-01) and instants are
 * PostgreSQL TimestampTz values (microseconds since 2000-01-01 00:00 UTC), so
 * they can be handed to the executor as they are.  KST is UTC+9 with no
 * daylight saving, so no time-zone database is consulted: results never
 * depend on the session TimeZone.
 */
#ifndef SEONGSU_KST_H
#define SEONGSU_KST_H

#include <stdbool.h>
#include <stdint.h>

#define KST_OFFSET_SECONDS (9 * 3600)
#define KST_USECS_PER_HOUR INT64_C(3600000000)
#define KST_USECS_PER_DAY INT64_C(86400000000)

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's algorithm. */
static inline int64_t
KstDaysFromCivil(int y, int m, int d)
{
	int64_t		yy = (int64_t) y - (m <= 2);
	int64_t		era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t		yoe = yy - era * 400;
	int64_t		doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* Inverse of KstDaysFromCivil. */
static inline void
KstCivilFromDays(int64_t z, int *y, int *m, int *d)
{
	int64_t		era, doe, yoe, doy, mp, yy;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = (int) (yy + (*m <= 2));
}

/* True when y-m-d is a real calendar date within 1900..2999. */
static inline bool
KstValidDate(int y, int m, int d)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			lim;

	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1)
		return false;
	lim = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		lim = 29;
	return d <= lim;
}

/* PostgreSQL date (days since 2000-01-01) of y-m-d. */
static inline int32_t
KstPgDate(int y, int m, int d)
{
	return (int32_t) (KstDaysFromCivil(y, m, d) - 10957);
}

/* Calendar parts of a PostgreSQL date. */
static inline void
KstPgDateParts(int32_t pgdate, int *y, int *m, int *d)
{
	KstCivilFromDays((int64_t) pgdate + 10957, y, m, d);
}

/* TimestampTz of hour `hour` (may exceed 23) of KST calendar day `pgdate`. */
static inline int64_t
KstInstant(int32_t pgdate, int hour)
{
	return (int64_t) pgdate * KST_USECS_PER_DAY
		+ (int64_t) hour * KST_USECS_PER_HOUR
		- (int64_t) KST_OFFSET_SECONDS * 1000000;
}

/* KST calendar day (PostgreSQL date) containing TimestampTz `ts`. */
static inline int32_t
KstDateOf(int64_t ts)
{
	int64_t		local = ts + (int64_t) KST_OFFSET_SECONDS * 1000000;
	int64_t		day = local / KST_USECS_PER_DAY;

	if (local % KST_USECS_PER_DAY < 0)
		day--;
	return (int32_t) day;
}

/* KST hour of day (0..23) of TimestampTz `ts`. */
static inline int
KstHourOf(int64_t ts)
{
	int64_t		local = ts + (int64_t) KST_OFFSET_SECONDS * 1000000;
	int64_t		rem = local % KST_USECS_PER_DAY;

	if (rem < 0)
		rem += KST_USECS_PER_DAY;
	return (int) (rem / KST_USECS_PER_HOUR);
}

/* ISO weekday (1 = Monday .. 7 = Sunday) of a PostgreSQL date. */
static inline int
KstIsoDow(int32_t pgdate)
{
	/* 2000-01-01 was a Saturday (ISO 6). */
	int64_t		r = ((int64_t) pgdate + 5) % 7;

	if (r < 0)
		r += 7;
	return (int) r + 1;
}

#endif							/* SEONGSU_KST_H */
