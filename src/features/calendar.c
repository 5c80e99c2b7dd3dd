/*
 * calendar.c — Korean calendar features (see calendar.h).  Pure C.
 */
#include "calendar.h"
#include "../kst.h"

#include <math.h>
#include <stddef.h>

/* Index of day in hs, or -1. */
int
CalendarFind(const HolidaySet *hs, int32_t day)
{
	int			lo = 0, hi = hs->n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (hs->days[mid] == day)
			return mid;
		if (hs->days[mid] < day)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Flags of day (0 when it is not in hs). */
static uint8_t
Flags(const HolidaySet *hs, int32_t day)
{
	int			i = CalendarFind(hs, day);

	return i < 0 ? 0 : hs->flags[i];
}

/* True for Saturdays, Sundays and public holidays. */
bool
CalendarIsOff(const HolidaySet *hs, int32_t day)
{
	return KstIsoDow(day) >= 6 || (Flags(hs, day) & CAL_HOLIDAY);
}

/* Compute every calendar feature of day. */
void
CalendarCompute(const HolidaySet *hs, int32_t day, CalendarDay *c)
{
	int			y, m, d, i, idx;
	int32_t		first, last, k;

	KstPgDateParts(day, &y, &m, &d);
	c->day = day;
	c->iso_dow = KstIsoDow(day);
	c->month = m;
	c->day_of_year = (int) (day - KstPgDate(y, 1, 1)) + 1;
	c->is_weekend = c->iso_dow >= 6;
	idx = CalendarFind(hs, day);
	c->flags = idx >= 0 ? hs->flags[idx] : 0;
	c->is_holiday = (c->flags & CAL_HOLIDAY) != 0;
	c->holiday_name = idx >= 0 ? hs->names[idx] : NULL;
	c->is_day_off = c->is_weekend || c->is_holiday;
	c->block_len = c->block_pos = 0;
	c->in_seollal_block = c->in_chuseok_block = false;
	if (c->is_day_off)
	{
		first = last = day;
		while (day - first < CAL_CAP_DAYS && CalendarIsOff(hs, first - 1))
			first--;
		while (last - day < CAL_CAP_DAYS && CalendarIsOff(hs, last + 1))
			last++;
		c->block_len = (int) (last - first + 1);
		c->block_pos = (int) (day - first + 1);
		for (k = first; k <= last; k++)
		{
			uint8_t		f = Flags(hs, k);

			c->in_seollal_block |= (f & CAL_SEOLLAL) != 0;
			c->in_chuseok_block |= (f & CAL_CHUSEOK) != 0;
		}
	}
	c->day_before_off = !c->is_day_off && CalendarIsOff(hs, day + 1);
	c->day_after_off = !c->is_day_off && CalendarIsOff(hs, day - 1);
	c->is_bridge = c->day_before_off && c->day_after_off;
	c->days_to_off = c->days_since_off = CAL_CAP_DAYS;
	for (i = 0; i <= CAL_CAP_DAYS; i++)
		if (CalendarIsOff(hs, day + i))
		{
			c->days_to_off = i;
			break;
		}
	for (i = 0; i <= CAL_CAP_DAYS; i++)
		if (CalendarIsOff(hs, day - i))
		{
			c->days_since_off = i;
			break;
		}
	c->days_to_holiday = c->days_since_holiday = CAL_CAP_DAYS;
	for (i = 0; i <= CAL_CAP_DAYS; i++)
		if (Flags(hs, day + i) & CAL_HOLIDAY)
		{
			c->days_to_holiday = i;
			break;
		}
	for (i = 0; i <= CAL_CAP_DAYS; i++)
		if (Flags(hs, day - i) & CAL_HOLIDAY)
		{
			c->days_since_holiday = i;
			break;
		}
	c->doy_sin = sin(2.0 * M_PI * (c->day_of_year - 1) / 365.25);
	c->doy_cos = cos(2.0 * M_PI * (c->day_of_year - 1) / 365.25);
}

/* The day type of a day of week (1..7), Sunday's type on holidays. */
static int
DayType(int iso_dow, bool holiday)
{
	if (holiday || iso_dow == 7)
		return 4;
	if (iso_dow == 6)
		return 3;
	if (iso_dow == 5)
		return 2;
	if (iso_dow == 1)
		return 0;
	return 1;
}

/*
 * The five day types of the hour-of-day model: 0 Monday, 1 Tuesday-Thursday,
 * 2 Friday, 3 Saturday, 4 Sunday or holiday.
 */
int
CalendarDayType(const CalendarDay *c)
{
	return DayType(c->iso_dow, c->is_holiday);
}

/* CalendarDayType of day without computing its other features. */
int
CalendarDayTypeOf(const HolidaySet *hs, int32_t day)
{
	return DayType(KstIsoDow(day), (Flags(hs, day) & CAL_HOLIDAY) != 0);
}
