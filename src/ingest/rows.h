/*
 * rows.h — the rows every parser produces, in pure C.
 *
 * CSV importers and API response parsers both fill a RowSet; the upsert layer
 * (upsert.c) writes a RowSet to the tables in one statement per table.  Parsers
 * never call PostgreSQL: memory comes from SsAlloc/SsRealloc/SsFree (alloc.h).
 *
 * Missing numeric values are NaN (doubles) or -1 (counts).  Dates are
 * PostgreSQL day numbers, instants TimestampTz microseconds (see kst.h).
 */
#ifndef SEONGSU_ROWS_H
#define SEONGSU_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../alloc.h"
#include "../names.h"

/* The tables a RowSet can hold rows for. */
typedef enum RowKind
{
	ROWS_RIDERSHIP_DAILY,
	ROWS_RIDERSHIP_HOURLY,
	ROWS_HOUR_PROFILE,
	ROWS_WEATHER_DAILY,
	ROWS_WEATHER_HOURLY,
	ROWS_WEATHER_FORECAST,
	ROWS_HOLIDAYS,
	ROWS_CONGESTION
} RowKind;

/* A (line, station) pair as the source spells it, plus Seoul Metro's code. */
typedef struct RowStation
{
	char	   *line;			/* normalized: "2" becomes "2호선" */
	char	   *name;
	char	   *metro_code;		/* NULL when the source does not give it */
} RowStation;

/* ridership_daily */
typedef struct RidershipDailyRow
{
	int32_t		station;		/* index into RowSet.stations */
	int32_t		day;
	int64_t		boardings;
	int64_t		alightings;
	int32_t		registered;		/* registration date, or INT32_MIN if unknown */
} RidershipDailyRow;

/* ridership_hourly: ts is the start of the hour, service_day the operating day */
typedef struct RidershipHourlyRow
{
	int32_t		station;
	int64_t		ts;
	int32_t		service_day;
	int64_t		boardings;		/* -1 when the source gives only passengers */
	int64_t		alightings;		/* -1 likewise */
	int64_t		passengers;
} RidershipHourlyRow;

/* hour_profile: monthly sums for hour slot `hour` (h:00 to h+1:00) */
typedef struct HourProfileRow
{
	int32_t		station;
	int32_t		month;			/* first day of the month */
	int32_t		hour;
	int64_t		boardings;
	int64_t		alightings;
	int32_t		registered;		/* INT32_MIN if unknown */
} HourProfileRow;

/* weather_daily */
typedef struct WeatherDailyRow
{
	int32_t		day;
	double		temp_mean;
	double		temp_min;
	double		temp_max;
	double		precip_mm;
	double		rain_mm;
	double		snow_cm;
} WeatherDailyRow;

/* weather_hourly */
typedef struct WeatherHourlyRow
{
	int64_t		ts;
	double		temp_c;
	double		precip_mm;
	double		rain_mm;
	double		snow_cm;
	double		humidity_pct;
	double		wind_ms;
} WeatherHourlyRow;

/* weather_forecast: one target hour (or day, when grain_day) of one issue */
typedef struct WeatherForecastRow
{
	int64_t		issued_at;
	int64_t		target;
	bool		grain_day;
	double		temp_c;
	double		temp_min;
	double		temp_max;
	double		precip_mm;
	double		snow_cm;
	double		pop_pct;
	double		humidity_pct;
	double		wind_ms;
	int32_t		pty;			/* -1 when absent */
	int32_t		sky;			/* -1 when absent */
} WeatherForecastRow;

/* holidays */
typedef struct HolidayRow
{
	int32_t		day;
	char	   *name;
	char	   *kind;			/* public, substitute, temporary, election, other */
	bool		is_holiday;
} HolidayRow;

/* congestion_survey */
typedef struct CongestionRow
{
	char	   *survey;
	char	   *day_type;
	char	   *line;
	char	   *station_code;
	char	   *station;
	char	   *direction;
	int32_t		slot_minutes;	/* minutes after midnight */
	double		pct;
} CongestionRow;

/* What went wrong while parsing, for a precise error report. */
typedef struct ParseError
{
	bool		failed;
	long		line;			/* 1-based input line, 0 if not line-based */
	char		column[64];		/* column or JSON field name */
	char		value[96];		/* offending value, truncated */
	char		message[256];	/* short lower-case fact */
	bool		transient;		/* worth retrying (API errors) */
	char		api_code[32];	/* API result code, if any */
	bool		bad_format;		/* the layout is wrong, not one value */
} ParseError;

/* A growable set of rows of one kind, plus the stations they reference. */
typedef struct RowSet
{
	RowKind		kind;
	const char *source;			/* label written to the source column */
	void	   *rows;
	size_t		nrows;
	size_t		cap;
	size_t		rowsize;
	RowStation *stations;
	int32_t		nstations;
	int32_t		capstations;
	int32_t    *station_hash;	/* open addressing, -1 empty */
	int32_t		hashsize;
	long		total_count;	/* API-reported total (paging), -1 if none */
	ParseError	name_error;		/* the first station or line name refused (see NameProblem) */
	const char *name_error_at;	/* where that name was read (into the parsed input, for its line) */
} RowSet;

extern void RowSetInit(RowSet *rs, RowKind kind, const char *source);
extern void RowSetFree(RowSet *rs);
extern void *RowSetAdd(RowSet *rs);
extern int32_t RowSetStation(RowSet *rs, const char *line, size_t linelen,
							 const char *name, size_t namelen,
							 const char *code, size_t codelen);
extern char *RowStrdup(const char *s, size_t len);
extern char *RowNormalizeLine(const char *line, size_t len);
extern void RowNameRefuse(ParseError *err, long line, long row, const char *field,
						  const char *s, size_t len, const char *problem);
extern bool RowSetNamesOk(const RowSet *rs, ParseError *err);

/* Value parsing shared by every parser. */
extern bool ParseCount(const char *s, size_t len, int64_t *out);
extern bool ParseDecimal(const char *s, size_t len, double *out);
extern bool ParseYmd(const char *s, size_t len, int32_t *pgdate);
extern bool ParseYm(const char *s, size_t len, int32_t *pgdate);
extern void ParseErrorSet(ParseError *err, long line, const char *column,
						  const char *value, size_t valuelen,
						  const char *fmt,...)
#if defined(__GNUC__)
			__attribute__((format(printf, 6, 7)))
#endif
			;

#endif							/* SEONGSU_ROWS_H */
