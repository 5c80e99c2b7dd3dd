/*
 * calendar.h — Korean calendar features of a KST day, in pure C.
 *
 * A day off is a Saturday, a Sunday or a public holiday (holidays with
 * is_holiday).  A block is a maximal run of consecutive days off; a bridge
 * day is a working day with days off on both sides.  Dates are PostgreSQL
 * day numbers (see kst.h).
 */
#ifndef SEONGSU_CALENDAR_H
#define SEONGSU_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#define CAL_HOLIDAY 0x01		/* a public day off */
#define CAL_SUBSTITUTE 0x02		/* 대체공휴일 */
#define CAL_TEMPORARY 0x04		/* 임시공휴일 */
#define CAL_ELECTION 0x08		/* election day */
#define CAL_SEOLLAL 0x10		/* 설날 (any of its days) */
#define CAL_CHUSEOK 0x20		/* 추석 (any of its days) */

#define CAL_CAP_DAYS 30			/* distances are capped here */

/* The holidays known for a span of days, sorted by day, one entry per day. */
typedef struct HolidaySet
{
	int32_t    *days;
	uint8_t    *flags;
	const char **names;			/* first name of the day (not owned) */
	int			n;
} HolidaySet;

/* Calendar features of one day. */
typedef struct CalendarDay
{
	int32_t		day;
	int			iso_dow;		/* 1 = Monday .. 7 = Sunday */
	int			month;
	int			day_of_year;
	bool		is_weekend;
	bool		is_holiday;
	const char *holiday_name;	/* NULL when not a holiday */
	uint8_t		flags;			/* CAL_* of the day */
	bool		is_day_off;
	bool		is_bridge;
	int			block_len;		/* 0 on working days */
	int			block_pos;		/* 1-based position in the block, 0 on working days */
	bool		in_seollal_block;
	bool		in_chuseok_block;
	bool		day_before_off; /* a working day followed by a day off */
	bool		day_after_off;	/* a working day preceded by a day off */
	int			days_to_off;	/* 0 on days off */
	int			days_since_off;
	int			days_to_holiday;	/* public holidays only, capped */
	int			days_since_holiday;
	double		doy_sin;
	double		doy_cos;
} CalendarDay;

extern int	CalendarFind(const HolidaySet *hs, int32_t day);
extern bool CalendarIsOff(const HolidaySet *hs, int32_t day);
extern void CalendarCompute(const HolidaySet *hs, int32_t day, CalendarDay *out);
extern int	CalendarDayType(const CalendarDay *c);
extern int	CalendarDayTypeOf(const HolidaySet *hs, int32_t day);

#endif							/* SEONGSU_CALENDAR_H */
