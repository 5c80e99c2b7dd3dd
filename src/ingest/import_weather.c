/*
 * import_weather.c — the weather and holiday parsers of the import kinds
 * (import_kinds.c): KMA daily and ASOS hourly CSV downloads and Open-Meteo's
 * daily CSV, each over its column table (csv_columns.h), and the Open-Meteo
 * and KASI JSON responses.  Pure C; the SQL entry points are in import.c.
 */
#include "import.h"
#include "csv_columns.h"
#include "../kst.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define KMA_LABEL_SIZE 16

/* Source label "kma:<station>" of the record from a station column, or "kma". */
static void
KmaSource(const CsvReader *r, int col, char label[KMA_LABEL_SIZE])
{
	const CsvField *f;
	size_t		i;

	strcpy(label, "kma");
	if (col < 0 || col >= r->nfields || r->fields[col].len == 0 ||
		r->fields[col].len > 10)
		return;
	f = &r->fields[col];
	for (i = 0; i < f->len; i++)
		if (f->s[i] < '0' || f->s[i] > '9')
			return;
	snprintf(label, KMA_LABEL_SIZE, "kma:%.*s", (int) f->len, f->s);
}

/* Check the record's station is the first record's (first is "" before it). */
static bool
KmaSameStation(const CsvReader *r, int col, char first[KMA_LABEL_SIZE], ParseError *err)
{
	char		label[KMA_LABEL_SIZE];

	KmaSource(r, col, label);
	if (first[0] == '\0')
		memcpy(first, label, KMA_LABEL_SIZE);
	else if (strcmp(first, label) != 0)
	{
		ParseErrorSet(err, r->line, "지점", label, strlen(label),
					  "one import holds one weather station");
		return false;
	}
	return true;
}

/* Set the import's source from the station label once every record was read. */
static bool
KmaFinish(RowSet *rs, const char *first, ParseError *err)
{
	if (err->failed)
		return false;
	if (first[0] != '\0')
		rs->source = RowStrdup(first, strlen(first));	/* owned by the caller */
	return true;
}

/* The columns of a KMA daily file: a date and at least one temperature. */
enum
{
	KD_DATE, KD_STATION, KD_MEAN, KD_MIN, KD_MAX, KD_PRECIP, KD_NCOLS
};
static const CsvColumn KmaDailyColumns[KD_NCOLS] = {
	[KD_DATE] = {"date (일시)", {"일시", "날짜", "date"}, COL_REQUIRED, NULL, 0},
	[KD_STATION] = {"지점", {"지점", "지점번호"}, COL_SHORT_OK, NULL, 0},
	[KD_MEAN] = {"평균기온", {"평균기온"}, COL_PREFIX | COL_SHORT_OK, NULL, 1},
	[KD_MIN] = {"최저기온", {"최저기온"}, COL_PREFIX | COL_SHORT_OK, "시각", 2},
	[KD_MAX] = {"최고기온", {"최고기온"}, COL_PREFIX | COL_SHORT_OK, "시각", 3},
	[KD_PRECIP] = {"강수량", {"강수량", "일강수량"}, COL_PREFIX | COL_SHORT_OK, NULL, 0},
};

/* KMA daily: 일시/날짜, 지점, 평균기온, 최저기온, 최고기온, [강수량]. */
bool
ImportKmaDailyCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	CsvReader	r;
	CsvHeader	h;
	const int  *c = h.col;
	char		first[KMA_LABEL_SIZE] = "";

	if (!ColOpen(&r, buf, len, KmaDailyColumns, KD_NCOLS, &h, err))
		return false;
	while (ColNextRecord(&r, err))
	{
		WeatherDailyRow *row;
		int32_t		day;
		double		mean, lo, hi, pr;

		if (!ColRecordComplete(&r, &h, err) ||
			!ColDate(&r, c[KD_DATE], "일시", &day, err) ||
			!ColOptDecimal(&r, c[KD_MEAN], "평균기온", NAN, &RANGE_TEMP, &mean, err) ||
			!ColOptDecimal(&r, c[KD_MIN], "최저기온", NAN, &RANGE_TEMP, &lo, err) ||
			!ColOptDecimal(&r, c[KD_MAX], "최고기온", NAN, &RANGE_TEMP, &hi, err) ||
			!ColOptDecimal(&r, c[KD_PRECIP], "강수량", NAN, &RANGE_AMOUNT, &pr, err) ||
			!KmaSameStation(&r, c[KD_STATION], first, err))
			return false;
		row = RowSetAdd(rs);
		row->day = day;
		row->temp_mean = mean;
		row->temp_min = lo;
		row->temp_max = hi;
		row->precip_mm = pr;
		row->rain_mm = NAN;
		row->snow_cm = NAN;
	}
	return KmaFinish(rs, first, err);
}

/* A KMA timestamp "YYYY-MM-DD HH:MM" (minutes must be 00). */
static bool
GetKmaInstant(const CsvReader *r, int col, int64_t *out, ParseError *err)
{
	const CsvField *f = &r->fields[col];
	int32_t		day;
	int			hh;

	if (f->len == 16 && f->s[10] == ' ' && f->s[13] == ':' &&
		ParseYmd(f->s, 10, &day) &&
		f->s[11] >= '0' && f->s[11] <= '2' && f->s[12] >= '0' && f->s[12] <= '9' &&
		f->s[14] == '0' && f->s[15] == '0')
	{
		hh = (f->s[11] - '0') * 10 + (f->s[12] - '0');
		if (hh <= 24)
		{
			*out = KstInstant(day, hh);
			return true;
		}
	}
	ParseErrorSet(err, r->line, "일시", f->s, f->len, "expected YYYY-MM-DD HH:00");
	return false;
}

/* The columns of a KMA OBS_ASOS_TIM file that are read. */
enum
{
	AS_DATE, AS_STATION, AS_TEMP, AS_PRECIP, AS_WIND, AS_HUMIDITY, AS_SNOW, AS_NCOLS
};
static const CsvColumn KmaAsosColumns[AS_NCOLS] = {
	[AS_DATE] = {"일시", {"일시"}, COL_REQUIRED, NULL, 0},
	[AS_STATION] = {"지점", {"지점"}, COL_SHORT_OK, NULL, 0},
	[AS_TEMP] = {"기온(°C)", {"기온("}, COL_REQUIRED | COL_PREFIX | COL_SHORT_OK, NULL, 0},
	[AS_PRECIP] = {"강수량(mm)", {"강수량("}, COL_PREFIX | COL_SHORT_OK, NULL, 0},
	[AS_WIND] = {"풍속(m/s)", {"풍속("}, COL_PREFIX | COL_SHORT_OK, NULL, 0},
	[AS_HUMIDITY] = {"습도(%)", {"습도("}, COL_PREFIX | COL_SHORT_OK, NULL, 0},
	[AS_SNOW] = {"적설(cm)", {"적설("}, COL_PREFIX | COL_SHORT_OK, NULL, 0},
};

/* KMA ASOS hourly download (OBS_ASOS_TIM): 지점,지점명,일시,기온(°C),…,강수량(mm),…,풍속,…,습도,…,적설(cm). */
bool
ImportKmaAsosCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	CsvReader	r;
	CsvHeader	h;
	const int  *c = h.col;
	char		first[KMA_LABEL_SIZE] = "";

	if (!ColOpen(&r, buf, len, KmaAsosColumns, AS_NCOLS, &h, err))
		return false;
	while (ColNextRecord(&r, err))
	{
		WeatherHourlyRow *row;
		int64_t		ts;
		double		t, p, w, hum, s;

		/* blank precipitation means none was observed */
		if (!ColRecordComplete(&r, &h, err) ||
			!GetKmaInstant(&r, c[AS_DATE], &ts, err) ||
			!ColOptDecimal(&r, c[AS_TEMP], "기온", NAN, &RANGE_TEMP, &t, err) ||
			!ColOptDecimal(&r, c[AS_PRECIP], "강수량", 0.0, &RANGE_AMOUNT, &p, err) ||
			!ColOptDecimal(&r, c[AS_WIND], "풍속", NAN, &RANGE_AMOUNT, &w, err) ||
			!ColOptDecimal(&r, c[AS_HUMIDITY], "습도", NAN, &RANGE_PCT, &hum, err) ||
			!ColOptDecimal(&r, c[AS_SNOW], "적설", NAN, &RANGE_AMOUNT, &s, err) ||
			!KmaSameStation(&r, c[AS_STATION], first, err))
			return false;
		row = RowSetAdd(rs);
		row->ts = ts;
		row->temp_c = t;
		row->precip_mm = p;
		row->rain_mm = NAN;
		row->snow_cm = s;
		row->humidity_pct = hum;
		row->wind_ms = w;
	}
	return KmaFinish(rs, first, err);
}

/* The columns of Open-Meteo's daily CSV: a date and a temperature or precipitation. */
enum
{
	OM_DATE, OM_MEAN, OM_MIN, OM_MAX, OM_PRECIP, OM_RAIN, OM_SNOW, OM_NCOLS
};
static const CsvColumn OpenMeteoColumns[OM_NCOLS] = {
	[OM_DATE] = {"date", {"date", "time"}, COL_REQUIRED, NULL, 0},
	[OM_MEAN] = {"temperature_2m_mean", {"temperature_2m_mean"}, COL_PREFIX | COL_SHORT_OK, NULL, 1},
	[OM_MIN] = {"temperature_2m_min", {"temperature_2m_min"}, COL_PREFIX | COL_SHORT_OK, NULL, 0},
	[OM_MAX] = {"temperature_2m_max", {"temperature_2m_max"}, COL_PREFIX | COL_SHORT_OK, NULL, 0},
	[OM_PRECIP] = {"precipitation_sum", {"precipitation_sum"}, COL_PREFIX | COL_SHORT_OK, NULL, 2},
	[OM_RAIN] = {"rain_sum", {"rain_sum"}, COL_PREFIX | COL_SHORT_OK, NULL, 0},
	[OM_SNOW] = {"snowfall_sum", {"snowfall_sum"}, COL_PREFIX | COL_SHORT_OK, NULL, 0},
};

/* Where each Open-Meteo value column goes in a WeatherDailyRow, and the values it accepts. */
static const struct
{
	size_t		offset;
	const ValueRange *rg;
}			OpenMeteoValues[OM_NCOLS] = {
	[OM_MEAN] = {offsetof(WeatherDailyRow, temp_mean), &RANGE_TEMP},
	[OM_MIN] = {offsetof(WeatherDailyRow, temp_min), &RANGE_TEMP},
	[OM_MAX] = {offsetof(WeatherDailyRow, temp_max), &RANGE_TEMP},
	[OM_PRECIP] = {offsetof(WeatherDailyRow, precip_mm), &RANGE_AMOUNT},
	[OM_RAIN] = {offsetof(WeatherDailyRow, rain_mm), &RANGE_AMOUNT},
	[OM_SNOW] = {offsetof(WeatherDailyRow, snow_cm), &RANGE_AMOUNT},
};

/* The value column col of a WeatherDailyRow. */
#define OPEN_METEO_VALUE(row, col) (*(double *) ((char *) (row) + OpenMeteoValues[col].offset))

/* Open-Meteo daily CSV (ours: date,temperature_2m_mean_c,…, or the site's download with its preamble). */
static bool
ParseOpenMeteoDailyCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	CsvReader	r;
	CsvHeader	h;
	const int  *c = h.col;

	CsvInit(&r, buf, len);
	if (!ColReadHeader(&r, err))
		return false;
	/* the download starts with latitude,longitude,… and one line of values */
	while (r.nfields > 0 && CsvFieldIs(&r.fields[0], "latitude"))
	{
		if (!ColNextRecord(&r, err) || !ColNextRecord(&r, err))
			return err->failed ? false : ColMissing(err, &r, "time");
	}
	if (!ColResolve(&r, OpenMeteoColumns, OM_NCOLS, &h, err))
		return false;
	while (ColNextRecord(&r, err))
	{
		WeatherDailyRow row;
		int			i;

		memset(&row, 0, sizeof(row));
		if (!ColRecordComplete(&r, &h, err) ||
			!ColDate(&r, c[OM_DATE], "date", &row.day, err))
			return false;
		for (i = OM_MEAN; i < OM_NCOLS; i++)
			if (!ColOptDecimal(&r, c[i], OpenMeteoColumns[i].label, NAN, OpenMeteoValues[i].rg,
							   &OPEN_METEO_VALUE(&row, i), err))
				return false;
		*(WeatherDailyRow *) RowSetAdd(rs) = row;
	}
	return !err->failed;
}

/* True when the first non-blank byte after a byte-order mark is '{' (a JSON API response). */
static bool
LooksLikeJson(const char *buf, size_t len)
{
	size_t		i = 0;

	if (len >= 3 && (unsigned char) buf[0] == 0xEF &&
		(unsigned char) buf[1] == 0xBB && (unsigned char) buf[2] == 0xBF)
		i = 3;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return i < len && buf[i] == '{';
}

/* Outcome of an API parser, as an import result. */
static bool
ApiImport(ApiOutcome o, ParseError *err)
{
	if (o == API_OK || o == API_NO_DATA)
		return true;
	if (!err->failed)
		ParseErrorSet(err, 0, "", "", 0, "unusable response");
	return false;
}

/* KASI getRestDeInfo: one JSON response. */
bool
ImportKasiJson(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	return ApiImport(ParseKasiHolidays(buf, len, rs, err), err);
}

/* The rows of an Open-Meteo JSON response hold values the CSV form would accept. */
static bool
OpenMeteoRowsInRange(const RowSet *rs, ParseError *err)
{
	size_t		i;
	int			c;

	for (i = 0; i < rs->nrows; i++)
		for (c = OM_MEAN; c < OM_NCOLS; c++)
		{
			double		v = OPEN_METEO_VALUE((char *) rs->rows + i * rs->rowsize, c);
			const ValueRange *rg = OpenMeteoValues[c].rg;
			char		field[48], value[32];

			if (isnan(v) || (v >= rg->lo && v <= rg->hi))
				continue;
			snprintf(field, sizeof(field), "daily.%s", OpenMeteoColumns[c].label);
			snprintf(value, sizeof(value), "%g", v);
			return ColOutOfRange(err, 0, field, value, strlen(value), rg, (long) i + 1);
		}
	return true;
}

/* Open-Meteo daily: our CSV, the site's CSV download, or an archive API response. */
bool
ImportOpenMeteoDaily(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	if (LooksLikeJson(buf, len))
		return ApiImport(ParseOpenMeteoDaily(buf, len, rs, err), err) &&
			OpenMeteoRowsInRange(rs, err);
	return ParseOpenMeteoDailyCsv(buf, len, rs, err);
}

