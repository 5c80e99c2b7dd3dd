/*
 * import_tests.c — unit tests of the import kinds of seongsu.import_text
 * (src/ingest/import_kinds.c and the parsers it lists), chiefly the inputs
 * the import_* fuzz harnesses found.  Every parser gets an exact-length heap copy of its input,
 * so a read past the end shows up under AddressSanitizer.  Ends with
 * "N passed, M failed" and exits 1 on any failure.
 */
#include "../../src/ingest/import.h"
#include "../../src/kst.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	npassed;
static int	nfailed;

#define CHECK(cond) Check((cond), #cond, __LINE__)

/* Count one assertion, reporting it when it fails. */
static void
Check(bool ok, const char *what, int line)
{
	if (ok)
		npassed++;
	else
	{
		nfailed++;
		fprintf(stderr, "import_tests.c:%d: check failed: %s\n", line, what);
	}
}

/* One import: its kind, rows and error. */
typedef struct Import
{
	const ImportKind *kind;
	RowSet		rs;
	ParseError	err;
	bool		ok;
} Import;

/* Parse body (exactly len bytes) as kind into im. */
static void
RunLen(Import *im, const char *kind, const char *body, size_t len)
{
	char	   *copy = malloc(len > 0 ? len : 1);

	memcpy(copy, body, len);
	im->kind = ImportKindLookup(kind);
	memset(&im->err, 0, sizeof(im->err));
	RowSetInit(&im->rs, im->kind->rowkind, im->kind->source);
	im->ok = im->kind->parse(copy, len, &im->rs, &im->err);
	free(copy);
}

/* Parse the string body as kind into im. */
static void
Run(Import *im, const char *kind, const char *body)
{
	RunLen(im, kind, body, strlen(body));
}

/* Release what an import allocated, the source label included. */
static void
Done(Import *im)
{
	if (im->rs.source != im->kind->source)
		SsFree((void *) im->rs.source);
	RowSetFree(&im->rs);
}

/* True when the import failed at line with column and a message containing what. */
static bool
FailedAt(const Import *im, long line, const char *column, const char *what)
{
	if (im->ok || !im->err.failed || im->err.line != line ||
		strcmp(im->err.column, column) != 0 || strstr(im->err.message, what) == NULL)
	{
		fprintf(stderr, "  got ok=%d line=%ld column=\"%s\" value=\"%s\" message=\"%s\"\n",
				im->ok, im->err.line, im->err.column, im->err.value, im->err.message);
		return false;
	}
	return true;
}

/* A valid file of each CSV kind: the rows and values it gives. */
static void
TestValid(void)
{
	Import		im;

	Run(&im, "ridership_daily",
		"date,line,station,boardings,alightings\n2022-11-29,2,성수,41537,45075\n");
	CHECK(im.ok && im.rs.nrows == 1 && im.rs.nstations == 1);
	if (im.ok && im.rs.nrows == 1)
	{
		RidershipDailyRow *r = im.rs.rows;

		CHECK(r->day == KstPgDate(2022, 11, 29) && r->boardings == 41537 &&
			  r->alightings == 45075 && r->registered == INT32_MIN);
		CHECK(strcmp(im.rs.stations[0].line, "2호선") == 0);
	}
	Done(&im);

	Run(&im, "ridership_hourly",
		"service_date,line,station,hour,boardings,alightings\n2024-01-02,2호선,성수,1,4,5\n");
	CHECK(im.ok && im.rs.nrows == 1);
	if (im.ok && im.rs.nrows == 1)
	{
		RidershipHourlyRow *r = im.rs.rows;

		/* hour 1 of service day 2024-01-02 is 2024-01-03 01:00 KST */
		CHECK(r->ts == KstInstant(KstPgDate(2024, 1, 3), 1) &&
			  r->service_day == KstPgDate(2024, 1, 2) && r->passengers == 9);
	}
	Done(&im);

	Run(&im, "kma_asos_hourly",
		"지점,지점명,일시,기온(°C),강수량(mm),풍속(m/s),습도(%),적설(cm)\n"
		"131,청주,2021-01-01 01:00,-7.2,,.4,85,\n");
	CHECK(im.ok && im.rs.nrows == 1 && strcmp(im.rs.source, "kma:131") == 0);
	if (im.ok && im.rs.nrows == 1)
	{
		WeatherHourlyRow *r = im.rs.rows;

		CHECK(r->temp_c == -7.2 && r->precip_mm == 0 && r->wind_ms == 0.4 &&
			  r->humidity_pct == 85 && isnan(r->snow_cm));
	}
	Done(&im);

	Run(&im, "congestion_survey",
		"survey,day_type,line,station_code,station,direction,slot_start,congestion_pct\n"
		"2015,평일,2,211,성수(2),내선,5:30,11\n");
	CHECK(im.ok && im.rs.nrows == 1);
	if (im.ok && im.rs.nrows == 1)
	{
		CongestionRow *r = im.rs.rows;

		CHECK(r->slot_minutes == 5 * 60 + 30 && r->pct == 11 && strcmp(r->line, "2호선") == 0);
	}
	Done(&im);
}

/* Errors name the line they happened on: the header, a record, a quoted record's first line. */
static void
TestErrorLines(void)
{
	Import		im;

	Run(&im, "ridership_daily", "date,station\n");
	CHECK(FailedAt(&im, 1, "line (노선명/호선명)", "header has no"));
	Done(&im);

	Run(&im, "ridership_hourly",
		"service_date,line,station,hour,passengers\n2024-01-02,2호선,성수,1,1\n"
		"2024-01-02,\"2\n호선\",성수,2,1\n\n2024-01-02,2호선,성수,24,1\n");
	CHECK(FailedAt(&im, 6, "hour", "hour must be between 0 and 23"));
	Done(&im);

	Run(&im, "ridership_daily",
		"date,line,station,boardings,alightings\r\n2024-01-02,\"2호선,성수,1,1\r\n");
	CHECK(FailedAt(&im, 2, "", "malformed quoted field"));
	Done(&im);
}

/* Congestion slots: a long run of digits is refused (it overflowed int before). */
static void
TestCongestionSlot(void)
{
	static const char *const bad[] = {"99999999999:00", "2147483648:00", "123:00", "25:00", "5:60", "05:0", ":30"};
	const char *header = "survey,day_type,line,station_code,station,direction,slot_start,congestion_pct\n";
	Import		im;
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		char		body[256];

		snprintf(body, sizeof(body), "%s2015,평일,2,211,성수(2),내선,%s,11\n", header, bad[i]);
		Run(&im, "congestion_survey", body);
		CHECK(FailedAt(&im, 2, "slot_start", "expected HH:MM"));
		CHECK(strcmp(im.err.value, bad[i]) == 0);
		Done(&im);
	}
	Run(&im, "congestion_survey",
		"survey,day_type,line,station_code,station,direction,slot_start,congestion_pct\n"
		"2015,평일,2,211,성수(2),내선,24:00,11\n2015,평일,2,211,성수(2),내선,00:30,11\n");
	CHECK(im.ok && im.rs.nrows == 2);
	if (im.ok && im.rs.nrows == 2)
		CHECK(((CongestionRow *) im.rs.rows)[0].slot_minutes == 0 &&
			  ((CongestionRow *) im.rs.rows)[1].slot_minutes == 30);
	Done(&im);
}

/*
 * KMA imports: one station per import, named in the source label; a failed
 * import leaves the source as it was and allocates nothing (the label was
 * leaked on every failure before: LeakSanitizer reports it at exit).
 */
static void
TestKmaStation(void)
{
	Import		im;

	Run(&im, "kma_daily", "일시,지점,평균기온(℃)\n2011-01-01,108,1\n2011-01-02,109,1\n");
	CHECK(FailedAt(&im, 3, "지점", "one import holds one weather station"));
	CHECK(strcmp(im.err.value, "kma:109") == 0 && im.rs.source == im.kind->source);
	Done(&im);

	Run(&im, "kma_asos_hourly", "지점,일시,기온(°C)\n108,2021-01-01 01:00,1\n108,2021-01-01 02:00,x\n");
	CHECK(FailedAt(&im, 3, "기온", "not a number"));
	CHECK(im.rs.source == im.kind->source);
	Done(&im);

	Run(&im, "kma_daily", "일시,지점,평균기온(℃)\n2011-01-01,108,1\n2011-01-02,108,2\n");
	CHECK(im.ok && im.rs.nrows == 2 && strcmp(im.rs.source, "kma:108") == 0);
	Done(&im);

	/* no station column, or one that is not a number: plain "kma" */
	Run(&im, "kma_daily", "일시,평균기온(℃)\n2011-01-01,1\n");
	CHECK(im.ok && strcmp(im.rs.source, "kma") == 0);
	Done(&im);
	Run(&im, "kma_asos_hourly", "지점,일시,기온(°C)\n12345678901,2021-01-01 01:00,1\n");
	CHECK(im.ok && strcmp(im.rs.source, "kma") == 0);
	Done(&im);
}

/* Seoul Metro header: the 20 hour slots and the total. */
#define METRO_HEADER "날짜,호선,역번호,역명,구분,06시 이전,06 ~ 07,07 ~ 08,08 ~ 09,09 ~ 10," \
	"10 ~ 11,11 ~ 12,12 ~ 13,13 ~ 14,14 ~ 15,15 ~ 16,16 ~ 17,17 ~ 18,18 ~ 19,19 ~ 20,20 ~ 21," \
	"21 ~ 22,22 ~ 23,23 ~ 24,24시 이후,합 계\n"

/*
 * Passengers (boardings + alightings) go to int4 columns: each count below
 * 2^31 is not enough, the sum must be too (it failed in SQL with "integer out
 * of range" and no line before).
 */
static void
TestPassengersFit(void)
{
	Import		im;

	Run(&im, "ridership_daily",
		"date,line,station,boardings,alightings\n2024-01-01,2호선,성수,1,1\n"
		"2024-01-02,2호선,성수,2147483647,1\n");
	CHECK(FailedAt(&im, 3, "alightings", "boardings + alightings exceed 2147483647"));
	CHECK(strcmp(im.err.value, "1") == 0);
	Done(&im);
	Run(&im, "card_subway_month",
		"사용일자,노선명,역명,승차총승객수,하차총승객수\n20240102,2호선,성수,1073741824,1073741824\n");
	CHECK(FailedAt(&im, 2, "alightings", "boardings + alightings exceed 2147483647"));
	Done(&im);
	Run(&im, "ridership_daily",
		"date,line,station,boardings,alightings\n2024-01-02,2호선,성수,2147483646,1\n");
	CHECK(im.ok && im.rs.nrows == 1);
	Done(&im);

	Run(&im, "ridership_hourly",
		"service_date,line,station,hour,boardings,alightings\n2024-01-02,2호선,성수,8,2147483647,1\n");
	CHECK(FailedAt(&im, 2, "alightings", "boardings + alightings exceed 2147483647"));
	Done(&im);
	Run(&im, "ridership_hourly",
		"service_date,line,station,hour,boardings,alightings\n2024-01-02,2호선,성수,8,2147483646,1\n");
	CHECK(im.ok && im.rs.nrows == 1 && ((RidershipHourlyRow *) im.rs.rows)->passengers == INT32_MAX);
	Done(&im);

	Run(&im, "seoulmetro_hourly",
		METRO_HEADER
		"2023-01-01,2호선,211,성수,승차,2147483647,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2147483647\n"
		"2023-01-01,2호선,211,성수,하차,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1\n");
	CHECK(FailedAt(&im, 3, "slot 05", "boardings + alightings exceed 2147483647"));
	CHECK(strcmp(im.err.value, "1") == 0);
	Done(&im);
	Run(&im, "seoulmetro_hourly",
		METRO_HEADER
		"2023-01-01,2호선,211,성수,하차,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1\n"
		"2023-01-01,2호선,211,성수,승차,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2147483646,2147483646\n");
	CHECK(im.ok && im.rs.nrows == 20);
	if (im.ok && im.rs.nrows == 20)
	{
		RidershipHourlyRow *last = &((RidershipHourlyRow *) im.rs.rows)[19];

		/* 24시 이후 is 00:00 of the next calendar day */
		CHECK(last->passengers == INT32_MAX && last->boardings == INT32_MAX - 1 &&
			  last->ts == KstInstant(KstPgDate(2023, 1, 2), 0));
	}
	Done(&im);
}

/*
 * Weather values outside their tables' CHECKs are refused with the line and
 * column (they failed in SQL on the CHECK constraint, without a line, before):
 * temperatures -60..60, amounts >= 0, humidity 0..100.
 */
static void
TestWeatherRanges(void)
{
	static const struct
	{
		const char *kind;
		const char *body;
		long		line;
		const char *column;
		const char *message;
	}			bad[] = {
		{"openmeteo_daily", "date,temperature_2m_mean\n2024-01-01,1\n2024-01-02,99\n",
		3, "temperature_2m_mean", "expected a number between -60 and 60"},
		{"openmeteo_daily", "date,temperature_2m_min,precipitation_sum\n2024-01-01,-60.5,1\n",
		2, "temperature_2m_min", "expected a number between -60 and 60"},
		{"openmeteo_daily", "date,temperature_2m_mean,precipitation_sum\n2024-01-01,1,-0.1\n",
		2, "precipitation_sum", "expected a number of at least 0"},
		{"openmeteo_daily", "date,precipitation_sum,rain_sum,snowfall_sum\n2024-01-01,1,1,-1e-9\n",
		2, "snowfall_sum", "expected a number of at least 0"},
		{"kma_daily", "일시,지점,평균기온(℃),강수량(mm)\n2011-01-01,108,1,-3\n",
		2, "강수량", "expected a number of at least 0"},
		{"kma_daily", "날짜,지점,평균기온(℃),최저기온(℃),최고기온(℃)\n2011-01-01,108,1,0,61\n",
		2, "최고기온", "expected a number between -60 and 60"},
		{"kma_asos_hourly", "지점,일시,기온(°C),습도(%)\n108,2021-01-01 01:00,1,100.5\n",
		2, "습도", "expected a number between 0 and 100"},
		{"kma_asos_hourly", "지점,일시,기온(°C),풍속(m/s)\n108,2021-01-01 01:00,1,-.5\n",
		2, "풍속", "expected a number of at least 0"},
		{"kma_asos_hourly", "지점,일시,기온(°C),적설(cm)\n108,2021-01-01 01:00,1e2,1\n",
		2, "기온", "expected a number between -60 and 60"},
		{"kma_asos_hourly", "지점,일시,기온(°C),강수량(mm)\n108,2021-01-01 01:00,1,-1\n",
		2, "강수량", "expected a number of at least 0"},
	};
	Import		im;
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		Run(&im, bad[i].kind, bad[i].body);
		CHECK(FailedAt(&im, bad[i].line, bad[i].column, bad[i].message));
		Done(&im);
	}

	/* the limits themselves are accepted */
	Run(&im, "kma_asos_hourly", "지점,일시,기온(°C),습도(%),풍속(m/s)\n108,2021-01-01 01:00,-60,100,0\n"
		"108,2021-01-01 02:00,60,0,-0\n");
	CHECK(im.ok && im.rs.nrows == 2);
	Done(&im);

	/* the JSON form: the field and the row (1-based, as the JSON parsers count) */
	Run(&im, "openmeteo_daily",
		"{\"daily\":{\"time\":[\"2024-01-01\",\"2024-01-02\"],"
		"\"temperature_2m_mean\":[3.7,99],\"precipitation_sum\":[0,null]}}");
	CHECK(FailedAt(&im, 0, "daily.temperature_2m_mean", "expected a number between -60 and 60 in row 2"));
	CHECK(strcmp(im.err.value, "99") == 0);
	Done(&im);
	Run(&im, "openmeteo_daily",
		"{\"daily\":{\"time\":[\"2024-01-01\"],\"temperature_2m_mean\":[3.7],"
		"\"rain_sum\":[-2.5]}}");
	CHECK(FailedAt(&im, 0, "daily.rain_sum", "expected a number of at least 0 in row 1"));
	Done(&im);
	Run(&im, "openmeteo_daily",
		"{\"daily\":{\"time\":[\"2024-01-01\"],\"temperature_2m_mean\":[-60],"
		"\"precipitation_sum\":[null]}}");
	CHECK(im.ok && im.rs.nrows == 1);
	Done(&im);
}

/*
 * openmeteo_daily takes its input for JSON only after a whole byte-order mark:
 * a CSV starting with another character whose first byte is 0xEF, then '{',
 * was parsed as JSON (no line in the error) before.
 */
static void
TestOpenMeteoForm(void)
{
	Import		im;

	/* U+FF10 (fullwidth zero, EF BC 90) then '{' is a CSV header without a date column */
	Run(&im, "openmeteo_daily", "\xef\xbc\x90{date,temperature_2m_mean\n2024-01-01,1\n");
	CHECK(FailedAt(&im, 1, "date", "header has no date column"));
	Done(&im);

	/* a BOM, blanks, then '{': JSON */
	Run(&im, "openmeteo_daily",
		"\xef\xbb\xbf \r\n{\"daily\":{\"time\":[\"2024-01-01\"],\"temperature_2m_mean\":[1.5]}}");
	CHECK(im.ok && im.rs.nrows == 1);
	Done(&im);
}

/*
 * Header resolution (csv_columns.c): name variants, the first name found
 * wins, prefixes and the cells they skip, alternatives, and the first
 * missing column named.
 */
static void
TestHeaderColumns(void)
{
	Import		im;

	Run(&im, "card_subway_month",
		"USE_DT,LINE_NUM,SUB_STA_NM,RIDE_PASGR_NUM,ALIGHT_PASGR_NUM\n20240102,2호선,성수,1,2\n");
	CHECK(im.ok && im.rs.nrows == 1);
	Done(&im);

	/* 노선명 comes before line among the line column's names */
	Run(&im, "ridership_daily",
		"date,line,노선명,station,boardings,alightings\n2024-01-02,9호선,2호선,성수,1,2\n");
	CHECK(im.ok && im.rs.nstations == 1 && strcmp(im.rs.stations[0].line, "2호선") == 0);
	Done(&im);

	Run(&im, "ridership_daily", "date,line,station,boardings\n");
	CHECK(FailedAt(&im, 1, "alightings (하차총승객수)", "header has no alightings (하차총승객수) column"));
	Done(&im);

	/* passengers, or else boardings and alightings */
	Run(&im, "ridership_hourly", "service_date,line,station,hour,boardings\n");
	CHECK(FailedAt(&im, 1, "passengers or boardings and alightings",
				   "header has no passengers or boardings and alightings column"));
	Done(&im);

	/* required columns are named before the alternatives */
	Run(&im, "ridership_hourly", "service_date,line,station,passengers\n");
	CHECK(FailedAt(&im, 1, "hour", "header has no hour column"));
	Done(&im);

	/* a KMA daily file needs one temperature; 최저기온 시각 is not one */
	Run(&im, "kma_daily", "일시,지점,최저기온 시각(hhmi),강수량(mm)\n");
	CHECK(FailedAt(&im, 1, "평균기온 or 최저기온 or 최고기온",
				   "header has no 평균기온 or 최저기온 or 최고기온 column"));
	Done(&im);

	/* 최고기온 alone will do, and 일강수량 when there is no 강수량 */
	Run(&im, "kma_daily", "일시,최고기온 시각(hhmi),최고기온(°C),일강수량(mm)\n2024-01-01,1500,3.5,1.5\n");
	CHECK(im.ok && im.rs.nrows == 1);
	if (im.ok && im.rs.nrows == 1)
	{
		WeatherDailyRow *r = im.rs.rows;

		CHECK(r->temp_max == 3.5 && r->precip_mm == 1.5 && isnan(r->temp_mean) && isnan(r->temp_min));
	}
	Done(&im);

	Run(&im, "openmeteo_daily", "time,rain_sum (mm)\n");
	CHECK(FailedAt(&im, 1, "temperature_2m_mean or precipitation_sum",
				   "header has no temperature_2m_mean or precipitation_sum column"));
	Done(&im);

	Run(&im, "kma_asos_hourly", "지점,일시,강수량(mm)\n");
	CHECK(FailedAt(&im, 1, "기온(°C)", "header has no 기온(°C) column"));
	Done(&im);

	Run(&im, "congestion_survey", "survey,day_type,line,station_code,station,slot_start,congestion_pct\n");
	CHECK(FailedAt(&im, 1, "direction", "header has no direction column"));
	Done(&im);
}

/*
 * A record must hold every column the parser reads from it: a CardSubwayTime
 * record that ends before its 사용월 column (placed after the hour columns)
 * fails, where the month of the record before was read again.
 */
static void
TestShortRecord(void)
{
	Import		im;
	char		body[4096];
	size_t		n = 0;
	int			h, rec;

	for (h = 0; h < 24; h++)
		n += snprintf(body + n, sizeof(body) - n, "%02d시-%02d시 승차인원,%02d시-%02d시 하차인원,",
					  (h + 4) % 24, (h + 5) % 24, (h + 4) % 24, (h + 5) % 24);
	n += snprintf(body + n, sizeof(body) - n, "호선명,지하철역,사용월\n");
	for (rec = 0; rec < 2; rec++)
	{
		for (h = 0; h < 48; h++)
			n += snprintf(body + n, sizeof(body) - n, "1,");
		n += snprintf(body + n, sizeof(body) - n, rec == 0 ? "2호선,성수,202401\n" : "2호선,뚝섬\n");
	}
	Run(&im, "card_subway_time", body);
	CHECK(FailedAt(&im, 3, "", "expected at least 51 fields, found 50"));
	Done(&im);
}

/* Run every test. */
int
main(void)
{
	TestValid();
	TestErrorLines();
	TestCongestionSlot();
	TestKmaStation();
	TestPassengersFit();
	TestWeatherRanges();
	TestOpenMeteoForm();
	TestHeaderColumns();
	TestShortRecord();
	printf("%d passed, %d failed\n", npassed, nfailed);
	return nfailed == 0 ? 0 : 1;
}
