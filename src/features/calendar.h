/*
 * calendar.h — Korean calendar features of a KST day, in pure C.
 *
 * A day off is a Saturday, a Sunday or a public holiday (holidays with
 * is_holiday).  A special day is a weekday that is no public holiday on
 * which most offices close: 근로자의 날, May 1 (when a holidays table marks
 * May 1 as a public holiday, it is simply a holiday).  A special day is not
 * a day off and not a working day.  The kind of a day is 0 working day,
 * 1 Saturday, 2 Sunday, 3 public holiday (any weekday), 4 special day.
 * A block is a maximal run of consecutive days off; a lunar block is one
 * that holds a day named 설날 or 추석; a bridge day is a day that is not off
 * with days off on both sides.  Dates are PostgreSQL day numbers (kst.h).
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

#define CAL_BLOCK_CAP 30		/* blocks are followed this far */
#define CAL_CAP_OFF 7			/* days_to_off / days_since_off are capped here */
#define CAL_CAP_HOLIDAY 14		/* days_to_holiday / days_since_holiday */
#define CAL_CAP_LUNAR 5			/* travel days before and after a lunar block */

/* Kinds of day. */
#define CAL_KIND_WORK 0
#define CAL_KIND_SATURDAY 1
#define CAL_KIND_SUNDAY 2
#define CAL_KIND_HOLIDAY 3
#define CAL_KIND_SPECIAL 4
#define CAL_NKINDS 5

/* Lunar blocks. */
#define CAL_LUNAR_NONE 0
#define CAL_LUNAR_SEOLLAL 1
#define CAL_LUNAR_CHUSEOK 2

/*
 * The hour-share day types of the two-stage hourly forecast: 0 working
 * Monday, 1 working Tuesday-Thursday, 2 working Friday, 3 Saturday,
 * 4 Sunday, 5 public holiday outside a lunar block, 6 day off inside a
 * lunar block, 7 special day.
 */
#define CAL_NDAYTYPES 8
#define CAL_DAYTYPE_SUNDAY 4
#define CAL_DAYTYPE_HOLIDAY 5
#define CAL_DAYTYPE_LUNAR 6
#define CAL_DAYTYPE_SPECIAL 7

/* Holiday identities (holiday_id), 0-based; -1 on ordinary days. */
typedef enum CalHolidayId
{
	HID_NONE = -1,
	HID_NEWYEAR, HID_SEOLLAL1, HID_SEOLLAL2, HID_SEOLLAL3, HID_MARCH1, HID_CHILDREN,
	HID_BUDDHA, HID_MEMORIAL, HID_LIBERATION, HID_CHUSEOK1, HID_CHUSEOK2, HID_CHUSEOK3,
	HID_FOUNDATION, HID_HANGUL, HID_CHRISTMAS, HID_ELECTION, HID_TEMPORARY, HID_SUBSTITUTE,
	HID_LABOR,
	HID_COUNT
} CalHolidayId;

/* The holidays known for a span of days, sorted by day, one entry per day. */
typedef struct HolidaySet
{
	int32_t    *days;
	uint8_t    *flags;
	const char **names;			/* the day's names, joined by ", " (not owned) */
	int8_t	   *ids;			/* CalHolidayId of public holidays, HID_NONE otherwise */
	int			n;
} HolidaySet;

/* Calendar features of one day. */
typedef struct CalendarDay
{
	int32_t		day;
	int			iso_dow;		/* 1 = Monday .. 7 = Sunday */
	int			month;
	int			day_of_month;
	int			days_to_month_end;	/* last day of the month - day + 1 */
	int			day_of_year;
	int			kind;			/* CAL_KIND_* */
	bool		is_weekend;
	bool		is_holiday;
	bool		is_special;
	const char *holiday_name;	/* NULL when the holidays table has no row */
	uint8_t		flags;			/* CAL_* of the day */
	int			holiday_id;		/* CalHolidayId */
	bool		is_day_off;
	bool		is_bridge;
	int			block_len;		/* 0 on days that are not off */
	int			block_pos;		/* 1-based position in the block from its start, 0 when not off */
	int			block_pos_end;	/* the same from its end */
	bool		block_has_holiday;
	int			lunar;			/* CAL_LUNAR_* of the day's block */
	int			lunar_days_to;	/* not off: days until a lunar block starts (1..5), else 0 */
	int			lunar_days_since;	/* not off: days since a lunar block ended (1..5), else 0 */
	int			lunar_near;		/* CAL_LUNAR_* of that block (the coming one first) */
	bool		day_before_off; /* not off, and the next day is */
	bool		day_after_off;	/* not off, and the previous day was */
	bool		before_holiday; /* no holiday, and the next day is a public holiday */
	bool		after_holiday;	/* no holiday, and the previous day was */
	bool		before_holiday_block;	/* not off, the next day's block holds a holiday */
	bool		after_holiday_block;	/* not off, the previous day's block did */
	int			days_to_off;	/* 0 on days off, capped at CAL_CAP_OFF */
	int			days_since_off;
	int			days_to_holiday;	/* public holidays only, capped at CAL_CAP_HOLIDAY */
	int			days_since_holiday;
	double		doy_sin;
	double		doy_cos;
	int			day_type;		/* hour-share day type, 0 .. CAL_NDAYTYPES - 1 */
} CalendarDay;

extern int	CalendarFind(const HolidaySet *hs, int32_t day);
extern bool CalendarIsOff(const HolidaySet *hs, int32_t day);
extern bool CalendarIsHoliday(const HolidaySet *hs, int32_t day);
extern bool CalendarIsSpecial(const HolidaySet *hs, int32_t day);
extern int	CalendarKind(const HolidaySet *hs, int32_t day);
extern int	CalendarHolidayIdOf(const HolidaySet *hs, int32_t day);
extern void CalendarAssignIds(HolidaySet *hs);
extern void CalendarCompute(const HolidaySet *hs, int32_t day, CalendarDay *out);
extern int	CalendarDayTypeOf(const HolidaySet *hs, int32_t day);

#endif							/* SEONGSU_CALENDAR_H */
