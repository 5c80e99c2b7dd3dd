/*
 * fuzz_import.c — libFuzzer harness for one import kind of
 * seongsu.import_text (src/ingest/import_kinds.c and the parsers it lists),
 * the kind chosen at build time: -DFUZZ_IMPORT_KIND='"card_subway_month"'
 * builds fuzz_import_card_subway_month.
 *
 * Beyond "no crash, no undefined behaviour, no leak" it checks the import
 * contract: a failure sets err with a message and, for CSV input, the line
 * (1 .. the input's line count); an accepted row fits its table (the CHECKs
 * and column types of src/sql/10_tables.sql: counts within int4, valid dates,
 * whole hours, hours 0..23, temperatures -60..60, amounts >= 0, humidity
 * 0..100, congestion 0..400); and when the input is text PostgreSQL accepts
 * (valid UTF-8, no NUL), so is every string the parser hands on.
 */
#include "fuzz_common.h"
#include "../../src/ingest/import.h"
#include "../../src/kst.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_IMPORT_KIND
#error "build with -DFUZZ_IMPORT_KIND='\"<kind>\"'"
#endif

/*
 * The current input has no NUL byte / is text a UTF-8 database accepts (valid
 * UTF-8, no NUL).  PostgreSQL never hands the parsers a NUL (text cannot hold
 * one, and import_file's encoding check refuses it), so the string checks
 * apply to such inputs only; every other check applies to any bytes.
 */
static bool fuzz_nul_free;
static bool fuzz_text;

/* A string the parser produced: non-empty when required, and text if the input was. */
static void
CheckString(const char *s, bool nonempty, const char *what)
{
	if (s == NULL || (nonempty && fuzz_nul_free && s[0] == '\0'))
		FuzzFail(what);
	if (fuzz_text && !FuzzUtf8Text(s, strlen(s)))
		FuzzFail(what);
}

/* A PostgreSQL date the importers accept: 1900-01-01 .. 2999-12-31. */
static void
CheckDate(int32_t day, const char *what)
{
	if (day < KstPgDate(1900, 1, 1) || day > KstPgDate(2999, 12, 31))
		FuzzFail(what);
}

/* A count stored in an int4 column: 0 .. 2^31-1. */
static void
CheckCount(int64_t v, const char *what)
{
	if (v < 0 || v > INT32_MAX)
		FuzzFail(what);
}

/* A measured value: missing (NaN) or finite within lo..hi. */
static void
CheckValue(double v, double lo, double hi, const char *what)
{
	if (!isnan(v) && !(isfinite(v) && v >= lo && v <= hi))
		FuzzFail(what);
}

/* An instant on a whole hour. */
static void
CheckWholeHour(int64_t ts, const char *what)
{
	if (ts % KST_USECS_PER_HOUR != 0)
		FuzzFail(what);
}

/* Every station of the set: line and name non-empty text. */
static void
CheckStations(const RowSet *rs)
{
	int32_t		i;

	for (i = 0; i < rs->nstations; i++)
	{
		CheckString(rs->stations[i].line, true, "station line empty or not text");
		CheckString(rs->stations[i].name, true, "station name empty or not text");
		if (rs->stations[i].metro_code)
			CheckString(rs->stations[i].metro_code, false, "metro code not text");
	}
}

/* A station index of a row. */
static void
CheckStation(const RowSet *rs, int32_t st)
{
	if (st < 0 || st >= rs->nstations)
		FuzzFail("row without a valid station");
}

/* One accepted row of rs against its table. */
static void
CheckRow(const RowSet *rs, size_t i)
{
	const char *p = (const char *) rs->rows + i * rs->rowsize;

	switch (rs->kind)
	{
		case ROWS_RIDERSHIP_DAILY:
			{
				const RidershipDailyRow *r = (const void *) p;

				CheckStation(rs, r->station);
				CheckDate(r->day, "daily: day out of range");
				CheckCount(r->boardings, "daily: boardings out of int4 range");
				CheckCount(r->alightings, "daily: alightings out of int4 range");
				/* passengers is GENERATED AS (boardings + alightings), an int4 */
				CheckCount(r->boardings + r->alightings, "daily: boardings + alightings out of int4 range");
				if (r->registered != INT32_MIN)
					CheckDate(r->registered, "daily: registered out of range");
				break;
			}
		case ROWS_RIDERSHIP_HOURLY:
			{
				const RidershipHourlyRow *r = (const void *) p;
				int64_t		since = r->ts - KstInstant(r->service_day, 0);

				CheckStation(rs, r->station);
				CheckDate(r->service_day, "hourly: service_day out of range");
				CheckWholeHour(r->ts, "hourly: ts not on a whole hour");
				/* a service day's hours run from 04:00 to 03:00 the next day */
				if (since < 4 * KST_USECS_PER_HOUR || since > 27 * KST_USECS_PER_HOUR)
					FuzzFail("hourly: ts outside its service day");
				CheckCount(r->passengers, "hourly: passengers out of int4 range");
				if (r->boardings != -1)
					CheckCount(r->boardings, "hourly: boardings out of int4 range");
				if (r->alightings != -1)
					CheckCount(r->alightings, "hourly: alightings out of int4 range");
				if (r->boardings >= 0 && r->alightings >= 0 &&
					r->passengers != r->boardings + r->alightings)
					FuzzFail("hourly: passengers differ from boardings + alightings");
				break;
			}
		case ROWS_HOUR_PROFILE:
			{
				const HourProfileRow *r = (const void *) p;
				int			y, m, d;

				CheckStation(rs, r->station);
				CheckDate(r->month, "hour profile: month out of range");
				KstPgDateParts(r->month, &y, &m, &d);
				if (d != 1)
					FuzzFail("hour profile: month is not a first day");
				if (r->hour < 0 || r->hour > 23)
					FuzzFail("hour profile: hour outside 0..23");
				CheckCount(r->boardings, "hour profile: boardings out of range");
				CheckCount(r->alightings, "hour profile: alightings out of range");
				if (r->registered != INT32_MIN)
					CheckDate(r->registered, "hour profile: registered out of range");
				break;
			}
		case ROWS_WEATHER_DAILY:
			{
				const WeatherDailyRow *r = (const void *) p;

				CheckDate(r->day, "weather daily: day out of range");
				CheckValue(r->temp_mean, -60, 60, "weather daily: temp_mean outside -60..60");
				CheckValue(r->temp_min, -60, 60, "weather daily: temp_min outside -60..60");
				CheckValue(r->temp_max, -60, 60, "weather daily: temp_max outside -60..60");
				CheckValue(r->precip_mm, 0, HUGE_VAL, "weather daily: negative precipitation");
				CheckValue(r->rain_mm, 0, HUGE_VAL, "weather daily: negative rain");
				CheckValue(r->snow_cm, 0, HUGE_VAL, "weather daily: negative snow");
				break;
			}
		case ROWS_WEATHER_HOURLY:
			{
				const WeatherHourlyRow *r = (const void *) p;

				CheckWholeHour(r->ts, "weather hourly: ts not on a whole hour");
				/* 24:00 of a day is the next day's 00:00 */
				if (KstDateOf(r->ts) < KstPgDate(1900, 1, 1) || KstDateOf(r->ts) > KstPgDate(3000, 1, 1))
					FuzzFail("weather hourly: ts out of range");
				CheckValue(r->temp_c, -60, 60, "weather hourly: temp outside -60..60");
				CheckValue(r->precip_mm, 0, HUGE_VAL, "weather hourly: negative precipitation");
				CheckValue(r->rain_mm, 0, HUGE_VAL, "weather hourly: negative rain");
				CheckValue(r->snow_cm, 0, HUGE_VAL, "weather hourly: negative snow");
				CheckValue(r->humidity_pct, 0, 100, "weather hourly: humidity outside 0..100");
				CheckValue(r->wind_ms, 0, HUGE_VAL, "weather hourly: negative wind");
				break;
			}
		case ROWS_HOLIDAYS:
			{
				const HolidayRow *r = (const void *) p;

				CheckDate(r->day, "holiday: day out of range");
				CheckString(r->name, true, "holiday: name empty or not text");
				if (r->kind == NULL ||
					(strcmp(r->kind, "public") != 0 && strcmp(r->kind, "substitute") != 0 &&
					 strcmp(r->kind, "temporary") != 0 && strcmp(r->kind, "election") != 0 &&
					 strcmp(r->kind, "other") != 0))
					FuzzFail("holiday: unknown kind");
				break;
			}
		case ROWS_CONGESTION:
			{
				const CongestionRow *r = (const void *) p;

				CheckString(r->survey, true, "congestion: survey empty or not text");
				CheckString(r->line, true, "congestion: line empty or not text");
				CheckString(r->station_code, true, "congestion: station_code empty or not text");
				CheckString(r->station, true, "congestion: station empty or not text");
				CheckString(r->direction, true, "congestion: direction empty or not text");
				if (r->day_type == NULL ||
					(strcmp(r->day_type, "평일") != 0 && strcmp(r->day_type, "토요일") != 0 &&
					 strcmp(r->day_type, "일요일") != 0))
					FuzzFail("congestion: unknown day_type");
				if (r->slot_minutes < 0 || r->slot_minutes >= 24 * 60)
					FuzzFail("congestion: slot outside the day");
				if (!(isfinite(r->pct) && r->pct >= 0 && r->pct <= 400))
					FuzzFail("congestion: pct outside 0..400");
				break;
			}
		case ROWS_WEATHER_FORECAST:
			FuzzFail("an import produced forecast rows");
	}
}

/* True when the first non-blank byte (after a BOM) is '{': the JSON form. */
static bool
LooksLikeJson(const uint8_t *data, size_t size)
{
	size_t		i = size >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF ? 3 : 0;

	while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	return i < size && data[i] == '{';
}

/* Number of lines of the input (a last line without a newline counts). */
static long
InputLines(const uint8_t *data, size_t size)
{
	long		n = 1;
	size_t		i;

	for (i = 0; i < size; i++)
		n += data[i] == '\n';
	return n;
}

/* Parse one input as FUZZ_IMPORT_KIND and check the import contract. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const ImportKind *k = ImportKindLookup(FUZZ_IMPORT_KIND);
	bool		json = strcmp(k->name, "kasi_holidays") == 0 ||
		(strcmp(k->name, "openmeteo_daily") == 0 && LooksLikeJson(data, size));
	char	   *buf = malloc(size ? size : 1);	/* exact length: ASan sees overreads */
	RowSet		rs;
	ParseError	err;
	bool		ok;
	size_t		i;

	memcpy(buf, data, size);
	fuzz_nul_free = memchr(data, '\0', size) == NULL;
	fuzz_text = FuzzUtf8Text((const char *) data, size);
	memset(&err, 0, sizeof(err));
	RowSetInit(&rs, k->rowkind, k->source);
	ok = k->parse(buf, size, &rs, &err);
	if (ok == err.failed)
		FuzzFail("result and err->failed disagree");
	if (fuzz_text && (!FuzzUtf8Text(err.message, strlen(err.message)) ||
					  !FuzzUtf8Text(err.column, strlen(err.column)) ||
					  !FuzzUtf8Text(err.value, strlen(err.value))))
		FuzzFail("error text is not valid UTF-8");
	if (!ok)
	{
		if (err.message[0] == '\0')
			FuzzFail("failure without a message");
		if (!json && (err.line < 1 || err.line > InputLines(data, size)))
			FuzzFail("failure without the line it happened on");
	}
	else
	{
		CheckStations(&rs);
		for (i = 0; i < rs.nrows; i++)
			CheckRow(&rs, i);
		CheckString(rs.source, true, "source label empty or not text");
	}
	if (rs.source != k->source)
		SsFree((void *) rs.source);
	RowSetFree(&rs);
	free(buf);
	return 0;
}
