/*
 * parse_openmeteo.c — Open-Meteo archive and forecast responses: column
 * arrays under "daily" and "hourly", one element per day or hour, times in
 * KST (timezone=Asia/Seoul).  null is NaN.  Pure C (parsers.h).
 */
#include "parsers.h"
#include "../kst.h"

#include <json-c/json.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define lengthof(a) (sizeof(a) / sizeof((a)[0]))

/* the most value columns a section maps */
#define OM_MAX_FIELDS 8

/* A value column and the double of the row it fills. */
typedef struct OmField
{
	const char *name;
	size_t		offset;
	bool		wind;			/* a wind speed, converted to m/s by its unit */
} OmField;

/* A section of the response ("daily" or "hourly") and how it maps to rows. */
typedef struct OmSection
{
	const char *key;
	const char *units;			/* the section's units object */
	bool		daily;			/* time holds dates, not hours */
	const OmField *fields;
	size_t		nfields;
} OmSection;

/* What a parser reads: its sections, of which at least one must be present. */
typedef struct OmRequest
{
	const OmSection *const *sections;
	size_t		nsections;
	const char *what;			/* for the "no data" error */
	int64_t		issued_at;		/* forecast rows only */
} OmRequest;

static const OmField OmDailyFields[] = {
	{"temperature_2m_mean", offsetof(WeatherDailyRow, temp_mean), false},
	{"temperature_2m_min", offsetof(WeatherDailyRow, temp_min), false},
	{"temperature_2m_max", offsetof(WeatherDailyRow, temp_max), false},
	{"precipitation_sum", offsetof(WeatherDailyRow, precip_mm), false},
	{"rain_sum", offsetof(WeatherDailyRow, rain_mm), false},
	{"snowfall_sum", offsetof(WeatherDailyRow, snow_cm), false},
};

static const OmField OmHourlyFields[] = {
	{"temperature_2m", offsetof(WeatherHourlyRow, temp_c), false},
	{"precipitation", offsetof(WeatherHourlyRow, precip_mm), false},
	{"rain", offsetof(WeatherHourlyRow, rain_mm), false},
	{"snowfall", offsetof(WeatherHourlyRow, snow_cm), false},
	{"relative_humidity_2m", offsetof(WeatherHourlyRow, humidity_pct), false},
	{"wind_speed_10m", offsetof(WeatherHourlyRow, wind_ms), true},
};

static const OmField OmForecastHourlyFields[] = {
	{"temperature_2m", offsetof(WeatherForecastRow, temp_c), false},
	{"precipitation", offsetof(WeatherForecastRow, precip_mm), false},
	{"snowfall", offsetof(WeatherForecastRow, snow_cm), false},
	{"precipitation_probability", offsetof(WeatherForecastRow, pop_pct), false},
	{"relative_humidity_2m", offsetof(WeatherForecastRow, humidity_pct), false},
	{"wind_speed_10m", offsetof(WeatherForecastRow, wind_ms), true},
};

static const OmField OmForecastDailyFields[] = {
	{"temperature_2m_mean", offsetof(WeatherForecastRow, temp_c), false},
	{"temperature_2m_min", offsetof(WeatherForecastRow, temp_min), false},
	{"temperature_2m_max", offsetof(WeatherForecastRow, temp_max), false},
	{"precipitation_sum", offsetof(WeatherForecastRow, precip_mm), false},
	{"snowfall_sum", offsetof(WeatherForecastRow, snow_cm), false},
	{"precipitation_probability_max", offsetof(WeatherForecastRow, pop_pct), false},
	{"relative_humidity_2m_mean", offsetof(WeatherForecastRow, humidity_pct), false},
	{"wind_speed_10m_max", offsetof(WeatherForecastRow, wind_ms), true},
};

_Static_assert(lengthof(OmDailyFields) <= OM_MAX_FIELDS &&
			   lengthof(OmHourlyFields) <= OM_MAX_FIELDS &&
			   lengthof(OmForecastHourlyFields) <= OM_MAX_FIELDS &&
			   lengthof(OmForecastDailyFields) <= OM_MAX_FIELDS,
			   "OM_MAX_FIELDS too small");

static const OmSection OmDaily = {
	"daily", "daily_units", true, OmDailyFields, lengthof(OmDailyFields)
};
static const OmSection OmHourly = {
	"hourly", "hourly_units", false, OmHourlyFields, lengthof(OmHourlyFields)
};
static const OmSection OmForecastHourly = {
	"hourly", "hourly_units", false, OmForecastHourlyFields, lengthof(OmForecastHourlyFields)
};
static const OmSection OmForecastDaily = {
	"daily", "daily_units", true, OmForecastDailyFields, lengthof(OmForecastDailyFields)
};

/* Factor from the wind speed unit named by v (Open-Meteo's default km/h when absent) to m/s. */
static bool
OmWindScale(struct json_object *v, const char *field, double *scale, ParseError *err)
{
	static const struct
	{
		const char *unit;
		double		scale;
	}			units[] = {
		{"km/h", 1 / 3.6}, {"m/s", 1.0}, {"mp/h", 0.44704}, {"kn", 1852.0 / 3600.0}
	};
	const char *s;
	size_t		len;
	size_t		i;

	if (v == NULL)
	{
		*scale = units[0].scale;
		return true;
	}
	if (ParseText(v, &s, &len))
		for (i = 0; i < lengthof(units); i++)
			if (strcmp(s, units[i].unit) == 0)
			{
				*scale = units[i].scale;
				return true;
			}
	return ParseBadValue(err, field, 0, v, "wind speed unit");
}

/* Column f of sec: absent (NULL), or an array of exactly n values. */
static bool
OmColumn(struct json_object *root, const OmSection *sec, size_t f, size_t n,
		 struct json_object **col, double *scale, ParseError *err)
{
	const char *name = sec->fields[f].name;
	char		field[64];

	snprintf(field, sizeof(field), "%s.%s", sec->key, name);
	*col = ParseMember(ParseMember(root, sec->key), name);
	*scale = 1.0;
	if (*col == NULL)
		return true;
	if (!json_object_is_type(*col, json_type_array))
		return ParseBadValue(err, field, 0, *col, "column");
	if (json_object_array_length(*col) != n)
	{
		ParseErrorSet(err, 0, field, NULL, 0, "%s has %zu values but %s.time has %zu",
					  field, json_object_array_length(*col), sec->key, n);
		return false;
	}
	if (!sec->fields[f].wind)
		return true;
	snprintf(field, sizeof(field), "%s.%s", sec->units, name);
	return OmWindScale(ParseMember(ParseMember(root, sec->units), name), field, scale, err);
}

/* A new row of rs's kind at when (a KST midnight for daily rows), values missing. */
static char *
OmNewRow(RowSet *rs, int64_t when, bool daily, int64_t issued_at)
{
	WeatherForecastRow *r;

	if (rs->kind == ROWS_WEATHER_DAILY)
	{
		WeatherDailyRow *d = RowSetAdd(rs);

		d->day = KstDateOf(when);
		d->temp_mean = d->temp_min = d->temp_max = NAN;
		d->precip_mm = d->rain_mm = d->snow_cm = NAN;
		return (char *) d;
	}
	if (rs->kind == ROWS_WEATHER_HOURLY)
	{
		WeatherHourlyRow *h = RowSetAdd(rs);

		h->ts = when;
		h->temp_c = h->precip_mm = h->rain_mm = h->snow_cm = NAN;
		h->humidity_pct = h->wind_ms = NAN;
		return (char *) h;
	}
	r = RowSetAdd(rs);
	r->issued_at = issued_at;
	r->target = when;
	r->grain_day = daily;
	r->temp_c = r->temp_min = r->temp_max = NAN;
	r->precip_mm = r->snow_cm = r->pop_pct = NAN;
	r->humidity_pct = r->wind_ms = NAN;
	r->pty = r->sky = -1;
	return (char *) r;
}

/* The instant element i of sec's time array stands for. */
static bool
OmTime(struct json_object *time, const OmSection *sec, size_t i, int64_t *when,
	   ParseError *err)
{
	struct json_object *t = json_object_array_get_idx(time, i);
	char		field[32];
	const char *s;
	size_t		len;
	int32_t		day;

	if (ParseText(t, &s, &len) &&
		(sec->daily ? ParseYmd(s, len, &day) : ParseKstHour(s, len, 'T', when)))
	{
		if (sec->daily)
			*when = KstInstant(day, 0);
		return true;
	}
	snprintf(field, sizeof(field), "%s.time", sec->key);
	return ParseBadValue(err, field, (long) i + 1, t, sec->daily ? "date" : "hour");
}

/* Row i of a section: its time and every column's value. */
static bool
OmRow(const OmSection *sec, struct json_object *time, struct json_object **cols,
	  const double *scale, size_t i, int64_t issued_at, RowSet *rs, ParseError *err)
{
	int64_t		when;
	char	   *row;
	size_t		f;

	if (!OmTime(time, sec, i, &when, err))
		return false;
	row = OmNewRow(rs, when, sec->daily, issued_at);
	for (f = 0; f < sec->nfields; f++)
	{
		char		field[64];
		double		v;

		if (cols[f] == NULL)
			continue;
		snprintf(field, sizeof(field), "%s.%s", sec->key, sec->fields[f].name);
		if (!ParseJsonDecimal(json_object_array_get_idx(cols[f], i), field,
							  (long) i + 1, NAN, &v, err))
			return false;
		*(double *) (row + sec->fields[f].offset) = v * scale[f];
	}
	return true;
}

/* Every row of section sec. */
static bool
OmSectionRows(struct json_object *root, const OmSection *sec, int64_t issued_at,
			  RowSet *rs, ParseError *err)
{
	struct json_object *time = ParseMember(ParseMember(root, sec->key), "time");
	struct json_object *cols[OM_MAX_FIELDS];
	double		scale[OM_MAX_FIELDS];
	char		field[32];
	size_t		n;
	size_t		i;

	snprintf(field, sizeof(field), "%s.time", sec->key);
	if (!json_object_is_type(time, json_type_array))
		return ParseBadValue(err, field, 0, time, "time column");
	n = json_object_array_length(time);
	for (i = 0; i < sec->nfields; i++)
		if (!OmColumn(root, sec, i, n, &cols[i], &scale[i], err))
			return false;
	for (i = 0; i < n; i++)
		if (!OmRow(sec, time, cols, scale, i, issued_at, rs, err))
			return false;
	return true;
}

/* The error body {"error": true, "reason": "..."}. */
static ApiOutcome
OmError(struct json_object *root, ParseError *err)
{
	const char *reason;
	size_t		len;
	bool		transient;

	if (!ParseText(ParseMember(root, "reason"), &reason, &len))
		reason = "no reason given";
	transient = strstr(reason, "limit exceeded") != NULL ||
		strstr(reason, "Too many concurrent requests") != NULL;
	return ParseApiFail(err, NULL, transient, "open-meteo error: %s", reason);
}

/* Fail unless the response's times are KST (utc_offset_seconds 32400, when given). */
static bool
OmCheckOffset(struct json_object *root, ParseError *err)
{
	struct json_object *v = ParseMember(root, "utc_offset_seconds");

	if (v == NULL ||
		(json_object_is_type(v, json_type_int) &&
		 json_object_get_int64(v) == KST_OFFSET_SECONDS))
		return true;
	return ParseBadValue(err, "utc_offset_seconds", 0, v, "UTC offset (times must be KST)");
}

/* A whole Open-Meteo response. */
static ApiOutcome
OmDocument(struct json_object *root, RowSet *rs, ParseError *err, const void *arg)
{
	const OmRequest *req = arg;
	struct json_object *flag = ParseMember(root, "error");
	size_t		found = 0;
	size_t		i;

	if (json_object_is_type(flag, json_type_boolean) && json_object_get_boolean(flag))
		return OmError(root, err);
	if (!OmCheckOffset(root, err))
		return API_PERMANENT;
	for (i = 0; i < req->nsections; i++)
	{
		if (ParseMember(root, req->sections[i]->key) == NULL)
			continue;
		found++;
		if (!OmSectionRows(root, req->sections[i], req->issued_at, rs, err))
			return API_PERMANENT;
	}
	if (found == 0)
		return ParseApiFail(err, NULL, false, "response has no %s data", req->what);
	return API_OK;
}

static const OmSection *const OmDailySections[] = {&OmDaily};
static const OmSection *const OmHourlySections[] = {&OmHourly};
static const OmSection *const OmForecastSections[] = {&OmForecastHourly, &OmForecastDaily};

/* Open-Meteo daily arrays -> ROWS_WEATHER_DAILY (see parsers.h). */
ApiOutcome
ParseOpenMeteoDaily(const char *buf, size_t len, RowSet *rs, ParseError *err)
{
	OmRequest	req = {OmDailySections, 1, "daily", 0};

	return ParseJsonResponse(buf, len, rs, ROWS_WEATHER_DAILY, err, OmDocument, &req);
}

/* Open-Meteo hourly arrays -> ROWS_WEATHER_HOURLY (see parsers.h). */
ApiOutcome
ParseOpenMeteoHourly(const char *buf, size_t len, RowSet *rs, ParseError *err)
{
	OmRequest	req = {OmHourlySections, 1, "hourly", 0};

	return ParseJsonResponse(buf, len, rs, ROWS_WEATHER_HOURLY, err, OmDocument, &req);
}

/* Open-Meteo forecast -> ROWS_WEATHER_FORECAST (see parsers.h). */
ApiOutcome
ParseOpenMeteoForecast(const char *buf, size_t len, int64_t issued_at,
					   RowSet *rs, ParseError *err)
{
	OmRequest	req = {OmForecastSections, 2, "hourly or daily", issued_at};

	return ParseJsonResponse(buf, len, rs, ROWS_WEATHER_FORECAST, err, OmDocument, &req);
}
