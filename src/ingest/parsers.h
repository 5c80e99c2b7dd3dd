/*
 * parsers.h — pure-C parsers for the API responses the ingestion worker fetches.
 *
 * Each parser reads one response body (a byte buffer of exactly len bytes, not
 * NUL-terminated), appends rows to a RowSet that the caller has RowSetInit'ed
 * with the right kind, and returns an ApiOutcome.  A response is all or
 * nothing: on API_TRANSIENT or API_PERMANENT the RowSet is left exactly as it
 * was on entry (rows and stations) and err says what went wrong: message,
 * api_code (the provider's result code, if any), transient, and column/value
 * when a field held a bad value.  err is reset on entry.  On API_OK and
 * API_NO_DATA err->failed stays false and err->api_code names the provider's
 * code when the response has one.
 * rs->total_count is set from the provider's total row count (for paging)
 * when the response has one.  The parsers never call PostgreSQL; json-c uses
 * its own malloc and every json object is released on every path.
 *
 * Outcomes by provider:
 *   Seoul Open Data   INFO-000 ok; INFO-200 no data (total_count = 0);
 *                     ERROR-5xx and ERROR-6xx transient; any other code
 *                     (INFO-100, ERROR-3xx, ...) permanent.
 *   data.go.kr        resultCode 00 ok; 03 no data (total_count = 0);
 *                     01, 02, 04, 05, 21, 22 (daily quota), 99 transient;
 *                     any other (10, 11, 12, 20, 30, 31, 32, 33, ...)
 *                     permanent.  The gateway's XML error body
 *                     (<OpenAPI_ServiceResponse>...<returnReasonCode>) is
 *                     classified by the same table; an XML body without a
 *                     code is transient, one with code 00 permanent.
 *   Open-Meteo        {"error":true,"reason":...} is permanent with the
 *                     reason as message, except rate limits ("... limit
 *                     exceeded", "Too many concurrent requests"): transient.
 *   Any provider      a body cut short ("truncated response body") or not
 *                     JSON at all is transient; JSON of an unexpected shape
 *                     and bad values are permanent.
 *
 * Values: counts may be JSON integers, integral doubles (41537.0) or numeric
 * strings; anything else (negative, fractional, text) fails the response.
 * KMA values are strings where "" means missing (NaN), except ASOS "rn":
 * empty means no precipitation observed, i.e. 0 mm.  KMA forecast values of
 * 900 or more, or -900 or less, are KMA's missing markers and become NaN
 * (-1 for PTY and SKY).  Open-Meteo null becomes NaN.  Every time is KST
 * and is converted with kst.h.
 */
#ifndef SEONGSU_PARSERS_H
#define SEONGSU_PARSERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rows.h"

/* What one API response amounts to. */
typedef enum ApiOutcome
{
	API_OK,						/* rows appended (possibly none) */
	API_NO_DATA,				/* the provider says there is nothing (yet) */
	API_TRANSIENT,				/* worth retrying later */
	API_PERMANENT				/* retrying the same request cannot help */
} ApiOutcome;

/*
 * Seoul Open Data CardSubwayStatsNew -> ROWS_RIDERSHIP_DAILY.  Field names
 * USE_YMD, SBWY_ROUT_LN_NM, SBWY_STNS_NM, GTON_TNOPE, GTOFF_TNOPE, REG_YMD, or
 * the older USE_DT, LINE_NUM, SUB_STA_NM, RIDE_PASGR_NUM, ALIGHT_PASGR_NUM,
 * WORK_DT.  The registration date is optional (INT32_MIN when absent).
 */
extern ApiOutcome ParseSeoulDaily(const char *buf, size_t len, RowSet *rs,
								  ParseError *err);

/*
 * Seoul Open Data CardSubwayTime -> ROWS_HOUR_PROFILE, one row per station and
 * hour slot present.  Fields USE_MM, SBWY_ROUT_LN_NM, STTN,
 * HR_{0..23}_GET_ON_NOPE, HR_{0..23}_GET_OFF_NOPE, JOB_YMD, or the older
 * USE_MON, LINE_NUM, SUB_STA_NM, {MIDNIGHT,ONE,...,TWENTY_THREE}_RIDE_NUM,
 * ..._ALIGHT_NUM, WORK_DT.
 */
extern ApiOutcome ParseSeoulHourProfile(const char *buf, size_t len, RowSet *rs,
										ParseError *err);

/*
 * KMA ASOS getWthrDataList -> ROWS_WEATHER_HOURLY: tm "YYYY-MM-DD HH:00" (KST),
 * ta -> temp_c, rn -> precip_mm ("" = 0), ws -> wind_ms, hm -> humidity_pct,
 * dsnw -> snow_cm; rain_mm is NaN (ASOS reports total precipitation only).
 */
extern ApiOutcome ParseKmaAsosHourly(const char *buf, size_t len, RowSet *rs,
									 ParseError *err);

/*
 * KMA VilageFcst getVilageFcst -> ROWS_WEATHER_FORECAST, one row per
 * (fcstDate, fcstTime) in time order combining TMP -> temp_c, TMN -> temp_min,
 * TMX -> temp_max, POP -> pop_pct, PTY -> pty, PCP -> precip_mm, SNO ->
 * snow_cm, REH -> humidity_pct, SKY -> sky, WSD -> wind_ms (other categories
 * are ignored).  issued_at comes from baseDate/baseTime, which must agree
 * across the response.
 */
extern ApiOutcome ParseKmaVilageFcst(const char *buf, size_t len, RowSet *rs,
									 ParseError *err);

/*
 * KASI getRestDeInfo -> ROWS_HOLIDAYS.  items may be {"item": [...]},
 * {"item": {...}} or ""; locdate a number or a string.  kind from dateName:
 * containing 대체 -> substitute, else 임시 -> temporary, else 선거 ->
 * election, else public.  Several rows may share a day (2017-10-03).
 */
extern ApiOutcome ParseKasiHolidays(const char *buf, size_t len, RowSet *rs,
									ParseError *err);

/*
 * Open-Meteo archive "daily" arrays -> ROWS_WEATHER_DAILY: time,
 * temperature_2m_mean, temperature_2m_min, temperature_2m_max,
 * precipitation_sum, rain_sum, snowfall_sum (absent columns are NaN).
 */
extern ApiOutcome ParseOpenMeteoDaily(const char *buf, size_t len, RowSet *rs,
									  ParseError *err);

/*
 * Open-Meteo "hourly" arrays -> ROWS_WEATHER_HOURLY: time, temperature_2m,
 * precipitation, rain, snowfall, relative_humidity_2m, wind_speed_10m
 * (converted to m/s from hourly_units; Open-Meteo's default is km/h).
 */
extern ApiOutcome ParseOpenMeteoHourly(const char *buf, size_t len, RowSet *rs,
									   ParseError *err);

/*
 * Open-Meteo forecast -> ROWS_WEATHER_FORECAST issued at issued_at: one row
 * per hour of "hourly" (temperature_2m, precipitation, snowfall,
 * precipitation_probability, relative_humidity_2m, wind_speed_10m) and one
 * grain_day row per day of "daily" (temperature_2m_mean/_min/_max,
 * precipitation_sum, snowfall_sum, precipitation_probability_max,
 * relative_humidity_2m_mean, wind_speed_10m_max) whose target is the KST
 * midnight starting the day.  At least one of the two must be present.
 */
extern ApiOutcome ParseOpenMeteoForecast(const char *buf, size_t len,
										 int64_t issued_at, RowSet *rs,
										 ParseError *err);

/*
 * KMA forecast text to numbers (leading/trailing blanks ignored):
 *   PCP (mm):  강수없음 -> 0;  "1mm 미만" -> 0.5 (N미만 -> N/2);
 *              "N.Nmm" -> N.N;  "30.0~50.0mm" -> 40 (midpoint);
 *              "50.0mm 이상" -> 50 (N이상 -> N);  a bare number -> itself.
 *   SNO (cm):  적설없음 -> 0;  "1cm 미만" -> 0.5;  "N.Ncm" -> N.N;
 *              "5.0cm 이상" -> 5;  ranges and bare numbers as for PCP.
 * Any other text sets *ok to false and returns NaN.
 */
extern double ParseKmaPrecipText(const char *s, bool *ok);
extern double ParseKmaSnowText(const char *s, bool *ok);

/*
 * ---- Internal: shared by the parse_*.c files (parse_json.c) ----
 */
struct json_object;

#if defined(__GNUC__) || defined(__clang__)
#define PARSE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PARSE_PRINTF(f, a)
#endif

/* Turns one parsed JSON document into rows; arg is the parser's own. */
typedef ApiOutcome (*ParseDocFn) (struct json_object *root, RowSet *rs,
								  ParseError *err, const void *arg);

extern bool ParseBegin(RowSet *rs, RowKind kind, ParseError *err);
extern ApiOutcome ParseJsonResponse(const char *buf, size_t len, RowSet *rs,
									RowKind kind, ParseError *err,
									ParseDocFn doc, const void *arg);
extern ApiOutcome ParseApiFail(ParseError *err, const char *code,
							   bool transient, const char *fmt,...) PARSE_PRINTF(4, 5);
extern void ParseSetApiCode(ParseError *err, const char *code);
extern struct json_object *ParseMember(struct json_object *obj, const char *key);
extern bool ParseText(struct json_object *v, const char **s, size_t *len);
extern bool ParseJsonString(struct json_object *v, const char *field, long row,
							const char **s, size_t *len, ParseError *err);
extern bool ParseJsonCount(struct json_object *v, const char *field, long row,
						   int64_t *out, ParseError *err);
extern bool ParseJsonDecimal(struct json_object *v, const char *field, long row,
							 double if_empty, double *out, ParseError *err);
extern bool ParseJsonDate(struct json_object *v, const char *field, long row,
						  int32_t *out, ParseError *err);
extern bool ParseJsonTotal(struct json_object *v, const char *field, RowSet *rs,
						   ParseError *err);
extern bool ParseBadValue(ParseError *err, const char *field, long row,
						  struct json_object *v, const char *what);
extern bool ParseKstHour(const char *s, size_t len, char sep, int64_t *ts);

#endif							/* SEONGSU_PARSERS_H */
