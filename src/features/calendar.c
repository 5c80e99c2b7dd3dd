/*
 * calendar.c — Korean calendar features (see calendar.h).  Pure C.
 */
#include "calendar.h"
#include "../kst.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

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

/* True for public holidays. */
bool
CalendarIsHoliday(const HolidaySet *hs, int32_t day)
{
	return (Flags(hs, day) & CAL_HOLIDAY) != 0;
}

/* True for Saturdays, Sundays and public holidays. */
bool
CalendarIsOff(const HolidaySet *hs, int32_t day)
{
	return KstIsoDow(day) >= 6 || CalendarIsHoliday(hs, day);
}

/* True for special days: May 1 (근로자의 날) on a weekday that is no public holiday. */
bool
CalendarIsSpecial(const HolidaySet *hs, int32_t day)
{
	int			y, m, d;

	KstPgDateParts(day, &y, &m, &d);
	return m == 5 && d == 1 && !CalendarIsOff(hs, day);
}

/* Kind of a day (CAL_KIND_*): a holiday wins over Saturday and Sunday. */
int
CalendarKind(const HolidaySet *hs, int32_t day)
{
	int			dow = KstIsoDow(day);

	if (CalendarIsHoliday(hs, day))
		return CAL_KIND_HOLIDAY;
	if (dow == 6)
		return CAL_KIND_SATURDAY;
	if (dow == 7)
		return CAL_KIND_SUNDAY;
	return CalendarIsSpecial(hs, day) ? CAL_KIND_SPECIAL : CAL_KIND_WORK;
}

/* Holiday identity of a day: its public holiday's, HID_LABOR on special days, else HID_NONE. */
int
CalendarHolidayIdOf(const HolidaySet *hs, int32_t day)
{
	int			i = CalendarFind(hs, day);

	if (i >= 0 && (hs->flags[i] & CAL_HOLIDAY))
		return hs->ids[i];
	return CalendarIsSpecial(hs, day) ? HID_LABOR : HID_NONE;
}

/* True when the names name the lunar holiday word and no substitute day (대체). */
static bool
LunarNamed(const char *names, const char *word)
{
	return names && strstr(names, word) && !strstr(names, "대체");
}

/* Identity of a public holiday that is no lunar holiday, from its flags and names. */
static int
FixedHolidayId(uint8_t flags, const char *nm)
{
	static const struct
	{
		const char *word;
		int			id;
	}			words[] = {
		{"1월1일", HID_NEWYEAR}, {"신정", HID_NEWYEAR}, {"삼일절", HID_MARCH1},
		{"어린이날", HID_CHILDREN}, {"석가", HID_BUDDHA}, {"부처", HID_BUDDHA},
		{"현충일", HID_MEMORIAL}, {"광복절", HID_LIBERATION}, {"개천절", HID_FOUNDATION},
		{"한글날", HID_HANGUL}, {"기독", HID_CHRISTMAS}, {"성탄", HID_CHRISTMAS}
	};
	size_t		k;

	if ((flags & CAL_SUBSTITUTE) || strstr(nm, "대체"))
		return HID_SUBSTITUTE;
	if (flags & CAL_ELECTION)
		return HID_ELECTION;
	if (flags & CAL_TEMPORARY)
		return HID_TEMPORARY;
	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (strstr(nm, words[k].word))
			return words[k].id;
	return HID_TEMPORARY;
}

/*
 * Fill hs->ids: per public holiday its identity.  A day named 설날 (추석)
 * is the 1st, 2nd or 3rd of its run of consecutive days so named (a day
 * named both 개천절 and 추석 is 추석); substitute days share one identity;
 * an unknown name counts as temporary.  hs->ids must have room for hs->n.
 */
void
CalendarAssignIds(HolidaySet *hs)
{
	int			i;

	for (i = 0; i < hs->n; i++)
	{
		const char *nm = hs->names[i] ? hs->names[i] : "";
		bool		prev = i > 0 && hs->days[i - 1] == hs->days[i] - 1;
		int			id = HID_NONE;

		if (!(hs->flags[i] & CAL_HOLIDAY))
			id = HID_NONE;
		else if (LunarNamed(nm, "설날"))
			id = prev && LunarNamed(hs->names[i - 1], "설날") && (hs->flags[i - 1] & CAL_HOLIDAY)
				? (hs->ids[i - 1] >= HID_SEOLLAL3 ? HID_SEOLLAL3 : hs->ids[i - 1] + 1) : HID_SEOLLAL1;
		else if (LunarNamed(nm, "추석"))
			id = prev && LunarNamed(hs->names[i - 1], "추석") && (hs->flags[i - 1] & CAL_HOLIDAY)
				? (hs->ids[i - 1] >= HID_CHUSEOK3 ? HID_CHUSEOK3 : hs->ids[i - 1] + 1) : HID_CHUSEOK1;
		else
			id = FixedHolidayId(hs->flags[i], nm);
		hs->ids[i] = (int8_t) id;
	}
}

/* The block of an off day: its first and last days, whether it holds a holiday, its lunar kind. */
static void
Block(const HolidaySet *hs, int32_t day, int32_t *first, int32_t *last, bool *has_holiday, int *lunar)
{
	int32_t		k;
	bool		seollal = false, chuseok = false;

	*first = *last = day;
	while (day - *first < CAL_BLOCK_CAP && CalendarIsOff(hs, *first - 1))
		(*first)--;
	while (*last - day < CAL_BLOCK_CAP && CalendarIsOff(hs, *last + 1))
		(*last)++;
	*has_holiday = false;
	for (k = *first; k <= *last; k++)
	{
		uint8_t		f = Flags(hs, k);

		*has_holiday |= (f & CAL_HOLIDAY) != 0;
		seollal |= (f & CAL_HOLIDAY) && (f & CAL_SEOLLAL);
		chuseok |= (f & CAL_HOLIDAY) && (f & CAL_CHUSEOK);
	}
	*lunar = seollal ? CAL_LUNAR_SEOLLAL : chuseok ? CAL_LUNAR_CHUSEOK : CAL_LUNAR_NONE;
}

/* Whether the block of an off day holds a public holiday (false for days not off). */
static bool
BlockHasHoliday(const HolidaySet *hs, int32_t day)
{
	int32_t		first, last;
	bool		has;
	int			lunar;

	if (!CalendarIsOff(hs, day))
		return false;
	Block(hs, day, &first, &last, &has, &lunar);
	return has;
}

/* Lunar kind of the block of an off day (CAL_LUNAR_NONE for days not off). */
static int
BlockLunar(const HolidaySet *hs, int32_t day)
{
	int32_t		first, last;
	bool		has;
	int			lunar;

	if (!CalendarIsOff(hs, day))
		return CAL_LUNAR_NONE;
	Block(hs, day, &first, &last, &has, &lunar);
	return lunar;
}

/* Hour-share day type from a day's kind, weekday and its block's lunar kind. */
static int
DayType(int kind, int iso_dow, int lunar)
{
	if (kind == CAL_KIND_SPECIAL)
		return CAL_DAYTYPE_SPECIAL;
	if (lunar != CAL_LUNAR_NONE)
		return CAL_DAYTYPE_LUNAR;
	if (kind == CAL_KIND_HOLIDAY)
		return CAL_DAYTYPE_HOLIDAY;
	if (kind == CAL_KIND_SUNDAY)
		return CAL_DAYTYPE_SUNDAY;
	if (kind == CAL_KIND_SATURDAY)
		return 3;
	return iso_dow == 1 ? 0 : iso_dow == 5 ? 2 : 1;
}

/* Hour-share day type of day (see calendar.h). */
int
CalendarDayTypeOf(const HolidaySet *hs, int32_t day)
{
	return DayType(CalendarKind(hs, day), KstIsoDow(day), BlockLunar(hs, day));
}

/* The travel days around lunar blocks of a day that is not off (see CalendarDay). */
static void
LunarTravel(const HolidaySet *hs, int32_t day, CalendarDay *c)
{
	int			k, lunar;

	for (k = CAL_CAP_LUNAR; k >= 1; k--)
	{
		/* the day k days on starts a lunar block */
		if (CalendarIsOff(hs, day + k) && !CalendarIsOff(hs, day + k - 1) &&
			(lunar = BlockLunar(hs, day + k)) != CAL_LUNAR_NONE)
		{
			c->lunar_days_to = k;
			c->lunar_near = lunar;
		}
	}
	for (k = CAL_CAP_LUNAR; k >= 1; k--)
	{
		/* the day k days back ended a lunar block */
		if (CalendarIsOff(hs, day - k) && !CalendarIsOff(hs, day - k + 1) &&
			(lunar = BlockLunar(hs, day - k)) != CAL_LUNAR_NONE)
		{
			c->lunar_days_since = k;
			if (c->lunar_days_to == 0)
				c->lunar_near = lunar;
		}
	}
}

/* Compute every calendar feature of day. */
void
CalendarCompute(const HolidaySet *hs, int32_t day, CalendarDay *c)
{
	int			y, m, d, i, idx, ny, nm, nd;
	int32_t		first, last;

	memset(c, 0, sizeof(CalendarDay));
	KstPgDateParts(day, &y, &m, &d);
	c->day = day;
	c->iso_dow = KstIsoDow(day);
	c->month = m;
	c->day_of_month = d;
	KstPgDateParts(KstPgDate(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - 1, &ny, &nm, &nd);
	c->days_to_month_end = nd - d + 1;
	c->day_of_year = (int) (day - KstPgDate(y, 1, 1)) + 1;
	c->is_weekend = c->iso_dow >= 6;
	idx = CalendarFind(hs, day);
	c->flags = idx >= 0 ? hs->flags[idx] : 0;
	c->is_holiday = (c->flags & CAL_HOLIDAY) != 0;
	c->holiday_name = idx >= 0 ? hs->names[idx] : NULL;
	c->is_day_off = c->is_weekend || c->is_holiday;
	c->kind = CalendarKind(hs, day);
	c->is_special = c->kind == CAL_KIND_SPECIAL;
	c->holiday_id = CalendarHolidayIdOf(hs, day);
	if (c->is_day_off)
	{
		Block(hs, day, &first, &last, &c->block_has_holiday, &c->lunar);
		c->block_len = (int) (last - first + 1);
		c->block_pos = (int) (day - first + 1);
		c->block_pos_end = (int) (last - day + 1);
	}
	else
		LunarTravel(hs, day, c);
	c->day_before_off = !c->is_day_off && CalendarIsOff(hs, day + 1);
	c->day_after_off = !c->is_day_off && CalendarIsOff(hs, day - 1);
	c->is_bridge = c->day_before_off && c->day_after_off;
	c->before_holiday = !c->is_holiday && CalendarIsHoliday(hs, day + 1);
	c->after_holiday = !c->is_holiday && CalendarIsHoliday(hs, day - 1);
	c->before_holiday_block = !c->is_day_off && BlockHasHoliday(hs, day + 1);
	c->after_holiday_block = !c->is_day_off && BlockHasHoliday(hs, day - 1);
	c->days_to_off = c->days_since_off = CAL_CAP_OFF;
	for (i = 0; i < CAL_CAP_OFF; i++)
		if (CalendarIsOff(hs, day + i))
		{
			c->days_to_off = i;
			break;
		}
	for (i = 0; i < CAL_CAP_OFF; i++)
		if (CalendarIsOff(hs, day - i))
		{
			c->days_since_off = i;
			break;
		}
	c->days_to_holiday = c->days_since_holiday = CAL_CAP_HOLIDAY;
	for (i = 0; i < CAL_CAP_HOLIDAY; i++)
		if (CalendarIsHoliday(hs, day + i))
		{
			c->days_to_holiday = i;
			break;
		}
	for (i = 0; i < CAL_CAP_HOLIDAY; i++)
		if (CalendarIsHoliday(hs, day - i))
		{
			c->days_since_holiday = i;
			break;
		}
	c->doy_sin = sin(2.0 * M_PI * (c->day_of_year - 1) / 365.25);
	c->doy_cos = cos(2.0 * M_PI * (c->day_of_year - 1) / 365.25);
	c->day_type = DayType(c->kind, c->iso_dow, c->lunar);
}
