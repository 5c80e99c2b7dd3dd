/*
 * import_csv.c — parsers for the published CSV files, one per import kind.
 * Pure C over a mutable byte buffer (see rows.h); the SQL entry points are in
 * import.c.
 *
 * Hour mapping (documented in the README):
 *  - A service day runs from 04:00 to 03:59 the next calendar day: hours 0-3
 *    of service day D are the instants D+1 00:00 .. 03:00 KST.
 *  - Seoul Metro's `06시 이전` (everything before 06:00) is the hour slot
 *    05:00-06:00 of the service day; `24시 이후` (everything after midnight)
 *    is the slot 00:00-01:00 of the next calendar day.
 */
#include "import.h"
#include "csv.h"
#include "../kst.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVICE_DAY_START_HOUR 4

/* Column index of the first header cell equal to one of names, or -1. */
static int
FindCol(const CsvReader *r, const char *const *names)
{
	int			i, j;

	for (j = 0; names[j]; j++)
		for (i = 0; i < r->nfields; i++)
			if (CsvFieldIs(&r->fields[i], names[j]))
				return i;
	return -1;
}

/* Column index of the first header cell starting with prefix and not containing `unless`. */
static int
FindColPrefix(const CsvReader *r, const char *prefix, const char *unless)
{
	int			i;

	for (i = 0; i < r->nfields; i++)
		if (CsvFieldStarts(&r->fields[i], prefix) &&
			!(unless && CsvFieldContains(&r->fields[i], unless)))
			return i;
	return -1;
}

/* Report a missing header column. */
static bool
MissingColumn(ParseError *err, const CsvReader *r, const char *what)
{
	ParseErrorSet(err, r->line, what, r->nfields > 0 ? r->fields[0].s : "",
				  r->nfields > 0 ? r->fields[0].len : 0,
				  "header has no %s column", what);
	err->bad_format = true;
	return false;
}

/* Advance to the next record, reporting malformed quoting; false at the end. */
static bool
NextRecord(CsvReader *r, ParseError *err)
{
	if (!CsvNext(r))
		return false;
	if (r->bad_quote)
	{
		ParseErrorSet(err, r->line, "", "", 0, "malformed quoted field");
		err->bad_format = true;
		return false;
	}
	if (r->too_many)
	{
		ParseErrorSet(err, r->line, "", "", 0, "more than %d fields", CSV_MAX_FIELDS);
		err->bad_format = true;
		return false;
	}
	return true;
}

/* Read the header record; false (with err set) when the input is empty. */
static bool
ReadHeader(CsvReader *r, ParseError *err)
{
	if (NextRecord(r, err))
		return true;
	if (!err->failed)
	{
		ParseErrorSet(err, 1, "", "", 0, "input has no header line");
		err->bad_format = true;
	}
	return false;
}

/* Check that the record has column `col`; trailing empty fields are allowed. */
static bool
HasColumn(const CsvReader *r, int col, const char *name, int needed, ParseError *err)
{
	if (col < r->nfields)
		return true;
	ParseErrorSet(err, r->line, name, "", 0,
				  "expected at least %d fields, found %d", needed, r->nfields);
	err->bad_format = true;
	return false;
}

/* The largest column index among cols (negative entries ignored), plus one. */
static int
Needed(const int *cols, int n)
{
	int			m = 0, i;

	for (i = 0; i < n; i++)
		if (cols[i] + 1 > m)
			m = cols[i] + 1;
	return m;
}

/* Check a record holds every needed column. */
static bool
RecordComplete(const CsvReader *r, int needed, ParseError *err)
{
	return HasColumn(r, needed - 1, "", needed, err);
}

/* A count field: non-negative whole number (maybe written 123.0), below 2^31. */
static bool
GetCount(const CsvReader *r, int col, const char *name, int64_t *out, ParseError *err)
{
	const CsvField *f = &r->fields[col];

	if (!ParseCount(f->s, f->len, out) || *out > INT32_MAX)
	{
		ParseErrorSet(err, r->line, name, f->s, f->len,
					  "not a non-negative whole number");
		return false;
	}
	return true;
}

/* Passengers (boardings + alightings) are an int4 column too: the sum must fit. */
static bool
PassengersFit(int64_t on, int64_t off, long line, const char *name,
			  const char *value, size_t valuelen, ParseError *err)
{
	if (on + off <= INT32_MAX)
		return true;
	ParseErrorSet(err, line, name, value, valuelen,
				  "boardings + alightings exceed %d", INT32_MAX);
	return false;
}

/* A date field (YYYYMMDD or YYYY-MM-DD). */
static bool
GetDate(const CsvReader *r, int col, const char *name, int32_t *out, ParseError *err)
{
	const CsvField *f = &r->fields[col];

	if (!ParseYmd(f->s, f->len, out))
	{
		ParseErrorSet(err, r->line, name, f->s, f->len, "not a valid date");
		return false;
	}
	return true;
}

/* An optional registration date: empty gives INT32_MIN. */
static bool
GetOptDate(const CsvReader *r, int col, const char *name, int32_t *out, ParseError *err)
{
	*out = INT32_MIN;
	if (col < 0 || col >= r->nfields || r->fields[col].len == 0)
		return true;
	return GetDate(r, col, name, out, err);
}

/* The values a measurement column accepts (the CHECKs of 10_tables.sql). */
typedef struct ValueRange
{
	double		lo;
	double		hi;
} ValueRange;

static const ValueRange RANGE_ANY = {-INFINITY, INFINITY};
static const ValueRange RANGE_TEMP = {-60, 60};		/* °C */
static const ValueRange RANGE_AMOUNT = {0, INFINITY};	/* mm, cm, m/s */
static const ValueRange RANGE_PCT = {0, 100};	/* relative humidity */

/* Report a value outside rg (" in row N" added when row > 0); returns false. */
static bool
OutOfRange(ParseError *err, long line, const char *name, const char *value,
		   size_t valuelen, const ValueRange *rg, long row)
{
	char		where[32] = "";

	if (row > 0)
		snprintf(where, sizeof(where), " in row %ld", row);
	if (isinf(rg->hi))
		ParseErrorSet(err, line, name, value, valuelen,
					  "expected a number of at least %g%s", rg->lo, where);
	else
		ParseErrorSet(err, line, name, value, valuelen,
					  "expected a number between %g and %g%s", rg->lo, rg->hi, where);
	return false;
}

/* An optional decimal within rg: empty gives NaN (or `empty` when given). */
static bool
GetOptDecimal(const CsvReader *r, int col, const char *name, double empty,
			  const ValueRange *rg, double *out, ParseError *err)
{
	const CsvField *f;

	*out = NAN;
	if (col < 0 || col >= r->nfields)
		return true;
	f = &r->fields[col];
	if (f->len == 0)
	{
		*out = empty;
		return true;
	}
	if (!ParseDecimal(f->s, f->len, out))
	{
		ParseErrorSet(err, r->line, name, f->s, f->len, "not a number");
		return false;
	}
	if (*out < rg->lo || *out > rg->hi)
		return OutOfRange(err, r->line, name, f->s, f->len, rg, 0);
	return true;
}

/* A non-empty text field. */
static bool
GetText(const CsvReader *r, int col, const char *name, ParseError *err)
{
	if (r->fields[col].len > 0)
		return true;
	ParseErrorSet(err, r->line, name, "", 0, "empty value");
	return false;
}

/* Daily totals: CARD_SUBWAY_MONTH (Korean headers) or date,line,station,boardings,alightings. */
static bool
ParseDailyCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	static const char *const c_date[] = {"사용일자", "date", "USE_DT", "USE_YMD", NULL};
	static const char *const c_line[] = {"노선명", "호선명", "line", "LINE_NUM", "SBWY_ROUT_LN_NM", NULL};
	static const char *const c_stn[] = {"역명", "station", "SUB_STA_NM", "SBWY_STNS_NM", NULL};
	static const char *const c_on[] = {"승차총승객수", "boardings", "RIDE_PASGR_NUM", "GTON_TNOPE", NULL};
	static const char *const c_off[] = {"하차총승객수", "alightings", "ALIGHT_PASGR_NUM", "GTOFF_TNOPE", NULL};
	static const char *const c_reg[] = {"등록일자", "registered", "WORK_DT", "REG_YMD", NULL};
	CsvReader	r;
	int			cols[6];

	CsvInit(&r, buf, len);
	if (!ReadHeader(&r, err))
		return false;
	cols[0] = FindCol(&r, c_date);
	cols[1] = FindCol(&r, c_line);
	cols[2] = FindCol(&r, c_stn);
	cols[3] = FindCol(&r, c_on);
	cols[4] = FindCol(&r, c_off);
	cols[5] = FindCol(&r, c_reg);
	if (cols[0] < 0)
		return MissingColumn(err, &r, "date (사용일자)");
	if (cols[1] < 0)
		return MissingColumn(err, &r, "line (노선명/호선명)");
	if (cols[2] < 0)
		return MissingColumn(err, &r, "station (역명)");
	if (cols[3] < 0)
		return MissingColumn(err, &r, "boardings (승차총승객수)");
	if (cols[4] < 0)
		return MissingColumn(err, &r, "alightings (하차총승객수)");
	while (NextRecord(&r, err))
	{
		RidershipDailyRow *row;
		int64_t		on, off;
		int32_t		day, reg;

		if (!RecordComplete(&r, Needed(cols, 5), err) ||
			!GetDate(&r, cols[0], "date", &day, err) ||
			!GetText(&r, cols[1], "line", err) ||
			!GetText(&r, cols[2], "station", err) ||
			!GetCount(&r, cols[3], "boardings", &on, err) ||
			!GetCount(&r, cols[4], "alightings", &off, err) ||
			!PassengersFit(on, off, r.line, "alightings", r.fields[cols[4]].s,
						   r.fields[cols[4]].len, err) ||
			!GetOptDate(&r, cols[5], "registered", &reg, err))
			return false;
		row = RowSetAdd(rs);
		row->station = RowSetStation(rs, r.fields[cols[1]].s, r.fields[cols[1]].len,
									 r.fields[cols[2]].s, r.fields[cols[2]].len, NULL, 0);
		row->day = day;
		row->boardings = on;
		row->alightings = off;
		row->registered = reg;
	}
	return !err->failed;
}

/* First integer in a header cell such as "04시-05시 승차인원" or "06 ~ 07". */
static int
LeadingHour(const CsvField *f)
{
	size_t		i = 0;
	int			h = 0;

	while (i < f->len && (f->s[i] < '0' || f->s[i] > '9'))
		i++;
	if (i == f->len)
		return -1;
	for (; i < f->len && f->s[i] >= '0' && f->s[i] <= '9' && h < 100; i++)
		h = h * 10 + (f->s[i] - '0');
	return h;
}

/* CardSubwayTime: 사용월,호선명,지하철역,HH시-HH시 승차인원,HH시-HH시 하차인원,…,작업일자. */
static bool
ParseCardSubwayTimeCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	static const char *const c_month[] = {"사용월", "USE_MM", "USE_MON", NULL};
	static const char *const c_line[] = {"호선명", "노선명", "SBWY_ROUT_LN_NM", "LINE_NUM", NULL};
	static const char *const c_stn[] = {"지하철역", "역명", "STTN", "SUB_STA_NM", NULL};
	static const char *const c_job[] = {"작업일자", "JOB_YMD", "WORK_DT", NULL};
	CsvReader	r;
	int			cmonth, cline, cstn, cjob, i;
	int			on_col[24], off_col[24];
	int			needed;

	CsvInit(&r, buf, len);
	if (!ReadHeader(&r, err))
		return false;
	cmonth = FindCol(&r, c_month);
	cline = FindCol(&r, c_line);
	cstn = FindCol(&r, c_stn);
	cjob = FindCol(&r, c_job);
	if (cmonth < 0)
		return MissingColumn(err, &r, "month (사용월)");
	if (cline < 0)
		return MissingColumn(err, &r, "line (호선명)");
	if (cstn < 0)
		return MissingColumn(err, &r, "station (지하철역)");
	for (i = 0; i < 24; i++)
		on_col[i] = off_col[i] = -1;
	for (i = 0; i < r.nfields; i++)
	{
		const CsvField *f = &r.fields[i];
		int			h = LeadingHour(f);

		if (h < 0 || !CsvFieldContains(f, "시"))
			continue;
		h %= 24;
		if (CsvFieldContains(f, "승차"))
			on_col[h] = i;
		else if (CsvFieldContains(f, "하차"))
			off_col[h] = i;
	}
	needed = cjob + 1 > 0 ? cjob + 1 : 0;
	for (i = 0; i < 24; i++)
	{
		if (on_col[i] < 0 || off_col[i] < 0)
		{
			char		what[64];

			snprintf(what, sizeof(what), "hour %02d boardings/alightings", i);
			return MissingColumn(err, &r, what);
		}
		if (on_col[i] + 1 > needed)
			needed = on_col[i] + 1;
		if (off_col[i] + 1 > needed)
			needed = off_col[i] + 1;
	}
	while (NextRecord(&r, err))
	{
		const CsvField *fm;
		int32_t		month, job;
		int32_t		stn;

		if (!RecordComplete(&r, needed, err))
			return false;
		fm = &r.fields[cmonth];
		if (!ParseYm(fm->s, fm->len, &month))
		{
			ParseErrorSet(err, r.line, "month", fm->s, fm->len, "not a valid month (YYYYMM)");
			return false;
		}
		if (!GetText(&r, cline, "line", err) || !GetText(&r, cstn, "station", err) ||
			!GetOptDate(&r, cjob, "registered", &job, err))
			return false;
		stn = RowSetStation(rs, r.fields[cline].s, r.fields[cline].len,
							r.fields[cstn].s, r.fields[cstn].len, NULL, 0);
		for (i = 0; i < 24; i++)
		{
			HourProfileRow *row;
			int64_t		on, off;
			char		name[32];

			snprintf(name, sizeof(name), "%02d시 승차", i);
			if (!GetCount(&r, on_col[i], name, &on, err))
				return false;
			snprintf(name, sizeof(name), "%02d시 하차", i);
			if (!GetCount(&r, off_col[i], name, &off, err))
				return false;
			row = RowSetAdd(rs);
			row->station = stn;
			row->month = month;
			row->hour = i;
			row->boardings = on;
			row->alightings = off;
			row->registered = job;
		}
	}
	return !err->failed;
}

/* One Seoul Metro record (승차 or 하차) kept until its partner is read. */
typedef struct MetroHalf
{
	int32_t		station;
	int32_t		day;
	bool		boarding;
	long		line;
	int64_t		counts[25];		/* index = hour slot 5..24 (24 = after midnight) */
} MetroHalf;

/* Order Seoul Metro halves by station, day, then boarding first. */
static int
MetroHalfCmp(const void *a, const void *b)
{
	const MetroHalf *x = a, *y = b;

	if (x->station != y->station)
		return x->station < y->station ? -1 : 1;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->boarding != y->boarding)
		return x->boarding ? -1 : 1;
	return x->line < y->line ? -1 : (x->line > y->line);
}

/* Slot of a Seoul Metro hour header: 06시 이전 = 5, "HH ~ HH+1" = HH, 24시 이후 = 24. */
static int
MetroSlot(const CsvField *f)
{
	int			h = LeadingHour(f);

	if (h < 0)
		return -1;
	if (CsvFieldContains(f, "이전"))
		return h - 1;
	if (CsvFieldContains(f, "이후"))
		return h;
	return h;
}

/* Seoul Metro day × hour: 날짜,호선,역번호,역명,구분,06시 이전,06 ~ 07,…,24시 이후,합 계. */
static bool
ParseSeoulMetroHourlyCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	static const char *const c_date[] = {"날짜", "일자", "date", NULL};
	static const char *const c_line[] = {"호선", "호선명", "line", NULL};
	static const char *const c_code[] = {"역번호", "code", NULL};
	static const char *const c_stn[] = {"역명", "station", NULL};
	static const char *const c_kind[] = {"구분", NULL};
	static const char *const c_sum[] = {"합 계", "합계", NULL};
	CsvReader	r;
	int			cdate, cline, ccode, cstn, ckind, csum, i;
	int			slot_col[25];
	int			needed = 0, nslots = 0;
	MetroHalf  *halves = NULL;
	size_t		nhalves = 0, caphalves = 0, k;
	bool		ok = false;

	CsvInit(&r, buf, len);
	if (!ReadHeader(&r, err))
		return false;
	cdate = FindCol(&r, c_date);
	cline = FindCol(&r, c_line);
	ccode = FindCol(&r, c_code);
	cstn = FindCol(&r, c_stn);
	ckind = FindCol(&r, c_kind);
	csum = FindCol(&r, c_sum);
	if (cdate < 0)
		return MissingColumn(err, &r, "date (날짜)");
	if (cline < 0)
		return MissingColumn(err, &r, "line (호선)");
	if (cstn < 0)
		return MissingColumn(err, &r, "station (역명)");
	if (ckind < 0)
		return MissingColumn(err, &r, "kind (구분)");
	for (i = 0; i < 25; i++)
		slot_col[i] = -1;
	for (i = 0; i < r.nfields; i++)
	{
		int			s;

		if (i == cdate || i == cline || i == ccode || i == cstn || i == ckind || i == csum)
			continue;
		s = MetroSlot(&r.fields[i]);
		if (s >= 5 && s <= 24 && slot_col[s] < 0)
		{
			slot_col[s] = i;
			nslots++;
		}
	}
	if (nslots != 20)
		return MissingColumn(err, &r, "hour (06시 이전 .. 24시 이후)");
	{
		int			fixed[6] = {cdate, cline, ccode, cstn, ckind, csum};

		needed = Needed(fixed, 6);
		needed = Needed(slot_col + 5, 20) > needed ? Needed(slot_col + 5, 20) : needed;
	}
	while (NextRecord(&r, err))
	{
		MetroHalf  *h;
		const CsvField *fk;
		int64_t		sum = 0, total;

		if (!RecordComplete(&r, needed, err))
			goto done;
		if (nhalves == caphalves)
		{
			caphalves = caphalves ? caphalves * 2 : 64;
			halves = halves ? SsRealloc(halves, caphalves * sizeof(MetroHalf))
				: SsAlloc(caphalves * sizeof(MetroHalf));
		}
		h = &halves[nhalves];
		memset(h, 0, sizeof(*h));
		h->line = r.line;
		if (!GetDate(&r, cdate, "날짜", &h->day, err) ||
			!GetText(&r, cline, "호선", err) || !GetText(&r, cstn, "역명", err))
			goto done;
		fk = &r.fields[ckind];
		if (CsvFieldIs(fk, "승차"))
			h->boarding = true;
		else if (!CsvFieldIs(fk, "하차"))
		{
			ParseErrorSet(err, r.line, "구분", fk->s, fk->len, "expected 승차 or 하차");
			goto done;
		}
		for (i = 5; i <= 24; i++)
		{
			char		name[32];

			snprintf(name, sizeof(name), "slot %02d", i);
			if (!GetCount(&r, slot_col[i], name, &h->counts[i], err))
				goto done;
			sum += h->counts[i];
		}
		if (csum >= 0)
		{
			if (!GetCount(&r, csum, "합 계", &total, err))
				goto done;
			if (total != sum)
			{
				char		v[32];

				snprintf(v, sizeof(v), "%lld", (long long) total);
				ParseErrorSet(err, r.line, "합 계", v, strlen(v),
							  "the hour columns sum to %lld", (long long) sum);
				goto done;
			}
		}
		h->station = RowSetStation(rs, r.fields[cline].s, r.fields[cline].len,
								   r.fields[cstn].s, r.fields[cstn].len,
								   ccode >= 0 ? r.fields[ccode].s : NULL,
								   ccode >= 0 ? r.fields[ccode].len : 0);
		nhalves++;
	}
	if (err->failed)
		goto done;
	if (nhalves > 0)
		qsort(halves, nhalves, sizeof(MetroHalf), MetroHalfCmp);
	for (k = 0; k < nhalves;)
	{
		MetroHalf  *on = &halves[k], *off = k + 1 < nhalves ? &halves[k + 1] : NULL;

		if (!on->boarding || !off || off->boarding || off->station != on->station ||
			off->day != on->day)
		{
			ParseErrorSet(err, on->line, "구분", on->boarding ? "승차" : "하차",
						  strlen(on->boarding ? "승차" : "하차"),
						  "no matching %s row for this station and day",
						  on->boarding ? "하차" : "승차");
			goto done;
		}
		if (k + 2 < nhalves && halves[k + 2].station == on->station &&
			halves[k + 2].day == on->day)
		{
			ParseErrorSet(err, halves[k + 2].line, "날짜", "", 0,
						  "station and day appear more than once");
			goto done;
		}
		for (i = 5; i <= 24; i++)
		{
			char		name[32], v[32];

			snprintf(name, sizeof(name), "slot %02d", i);
			snprintf(v, sizeof(v), "%lld", (long long) off->counts[i]);
			if (!PassengersFit(on->counts[i], off->counts[i], off->line, name, v, strlen(v), err))
				goto done;
		}
		for (i = 5; i <= 24; i++)
		{
			RidershipHourlyRow *row = RowSetAdd(rs);

			row->station = on->station;
			row->service_day = on->day;
			row->ts = KstInstant(on->day, i);
			row->boardings = on->counts[i];
			row->alightings = off->counts[i];
			row->passengers = on->counts[i] + off->counts[i];
		}
		k += 2;
	}
	ok = true;
done:
	if (halves)
		SsFree(halves);
	return ok;
}

/* Hourly: service_date,line,station,hour,passengers[,boardings,alightings,day_label]. */
static bool
ParseHourlyCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	static const char *const c_date[] = {"service_date", "date", NULL};
	static const char *const c_line[] = {"line", NULL};
	static const char *const c_stn[] = {"station", NULL};
	static const char *const c_hour[] = {"hour", NULL};
	static const char *const c_pass[] = {"passengers", NULL};
	static const char *const c_on[] = {"boardings", NULL};
	static const char *const c_off[] = {"alightings", NULL};
	CsvReader	r;
	int			cols[7];

	CsvInit(&r, buf, len);
	if (!ReadHeader(&r, err))
		return false;
	cols[0] = FindCol(&r, c_date);
	cols[1] = FindCol(&r, c_line);
	cols[2] = FindCol(&r, c_stn);
	cols[3] = FindCol(&r, c_hour);
	cols[4] = FindCol(&r, c_pass);
	cols[5] = FindCol(&r, c_on);
	cols[6] = FindCol(&r, c_off);
	if (cols[0] < 0)
		return MissingColumn(err, &r, "service_date");
	if (cols[1] < 0)
		return MissingColumn(err, &r, "line");
	if (cols[2] < 0)
		return MissingColumn(err, &r, "station");
	if (cols[3] < 0)
		return MissingColumn(err, &r, "hour");
	if (cols[4] < 0 && (cols[5] < 0 || cols[6] < 0))
		return MissingColumn(err, &r, "passengers");
	while (NextRecord(&r, err))
	{
		RidershipHourlyRow *row;
		int32_t		day;
		int64_t		hour, pass = -1, on = -1, off = -1;

		if (!RecordComplete(&r, Needed(cols, 7), err) ||
			!GetDate(&r, cols[0], "service_date", &day, err) ||
			!GetText(&r, cols[1], "line", err) ||
			!GetText(&r, cols[2], "station", err) ||
			!GetCount(&r, cols[3], "hour", &hour, err))
			return false;
		if (hour > 23)
		{
			ParseErrorSet(err, r.line, "hour", r.fields[cols[3]].s,
						  r.fields[cols[3]].len, "hour must be between 0 and 23");
			return false;
		}
		if ((cols[5] >= 0 && !GetCount(&r, cols[5], "boardings", &on, err)) ||
			(cols[6] >= 0 && !GetCount(&r, cols[6], "alightings", &off, err)) ||
			(cols[4] >= 0 && !GetCount(&r, cols[4], "passengers", &pass, err)))
			return false;
		if (pass < 0)
		{
			if (!PassengersFit(on, off, r.line, "alightings", r.fields[cols[6]].s,
							   r.fields[cols[6]].len, err))
				return false;
			pass = on + off;
		}
		else if (on >= 0 && off >= 0 && on + off != pass)
		{
			ParseErrorSet(err, r.line, "passengers", r.fields[cols[4]].s,
						  r.fields[cols[4]].len, "passengers differ from boardings + alightings");
			return false;
		}
		row = RowSetAdd(rs);
		row->station = RowSetStation(rs, r.fields[cols[1]].s, r.fields[cols[1]].len,
									 r.fields[cols[2]].s, r.fields[cols[2]].len, NULL, 0);
		row->service_day = day;
		row->ts = KstInstant(day, (int) hour + (hour < SERVICE_DAY_START_HOUR ? 24 : 0));
		row->boardings = on;
		row->alightings = off;
		row->passengers = pass;
	}
	return !err->failed;
}

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

/* KMA daily: 일시/날짜, 지점, 평균기온, 최저기온, 최고기온, [강수량]. */
static bool
ParseKmaDailyCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	static const char *const c_date[] = {"일시", "날짜", "date", NULL};
	static const char *const c_stn[] = {"지점", "지점번호", NULL};
	CsvReader	r;
	int			cols[6];
	char		first[KMA_LABEL_SIZE] = "";

	CsvInit(&r, buf, len);
	if (!ReadHeader(&r, err))
		return false;
	cols[0] = FindCol(&r, c_date);
	cols[1] = FindCol(&r, c_stn);
	cols[2] = FindColPrefix(&r, "평균기온", NULL);
	cols[3] = FindColPrefix(&r, "최저기온", "시각");
	cols[4] = FindColPrefix(&r, "최고기온", "시각");
	cols[5] = FindColPrefix(&r, "강수량", NULL);
	if (cols[5] < 0)
		cols[5] = FindColPrefix(&r, "일강수량", NULL);
	if (cols[0] < 0)
		return MissingColumn(err, &r, "date (일시)");
	if (cols[2] < 0 && cols[3] < 0 && cols[4] < 0)
		return MissingColumn(err, &r, "temperature (평균기온)");
	while (NextRecord(&r, err))
	{
		WeatherDailyRow *row;
		int32_t		day;
		double		mean, lo, hi, pr;

		if (!RecordComplete(&r, cols[0] + 1, err) ||
			!GetDate(&r, cols[0], "일시", &day, err) ||
			!GetOptDecimal(&r, cols[2], "평균기온", NAN, &RANGE_TEMP, &mean, err) ||
			!GetOptDecimal(&r, cols[3], "최저기온", NAN, &RANGE_TEMP, &lo, err) ||
			!GetOptDecimal(&r, cols[4], "최고기온", NAN, &RANGE_TEMP, &hi, err) ||
			!GetOptDecimal(&r, cols[5], "강수량", NAN, &RANGE_AMOUNT, &pr, err) ||
			!KmaSameStation(&r, cols[1], first, err))
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

/* KMA ASOS hourly download (OBS_ASOS_TIM): 지점,지점명,일시,기온(°C),…,강수량(mm),…,풍속,…,습도,…,적설(cm). */
static bool
ParseKmaAsosCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	static const char *const c_date[] = {"일시", NULL};
	static const char *const c_stn[] = {"지점", NULL};
	CsvReader	r;
	int			cdate, cstn, ctemp, cprec, cwind, chum, csnow;
	char		first[KMA_LABEL_SIZE] = "";

	CsvInit(&r, buf, len);
	if (!ReadHeader(&r, err))
		return false;
	cdate = FindCol(&r, c_date);
	cstn = FindCol(&r, c_stn);
	ctemp = FindColPrefix(&r, "기온(", NULL);
	cprec = FindColPrefix(&r, "강수량(", NULL);
	cwind = FindColPrefix(&r, "풍속(", NULL);
	chum = FindColPrefix(&r, "습도(", NULL);
	csnow = FindColPrefix(&r, "적설(", NULL);
	if (cdate < 0)
		return MissingColumn(err, &r, "일시");
	if (ctemp < 0)
		return MissingColumn(err, &r, "기온(°C)");
	while (NextRecord(&r, err))
	{
		WeatherHourlyRow *row;
		int64_t		ts;
		double		t, p, w, h, s;

		/* blank precipitation means none was observed */
		if (!RecordComplete(&r, cdate + 1, err) ||
			!GetKmaInstant(&r, cdate, &ts, err) ||
			!GetOptDecimal(&r, ctemp, "기온", NAN, &RANGE_TEMP, &t, err) ||
			!GetOptDecimal(&r, cprec, "강수량", 0.0, &RANGE_AMOUNT, &p, err) ||
			!GetOptDecimal(&r, cwind, "풍속", NAN, &RANGE_AMOUNT, &w, err) ||
			!GetOptDecimal(&r, chum, "습도", NAN, &RANGE_PCT, &h, err) ||
			!GetOptDecimal(&r, csnow, "적설", NAN, &RANGE_AMOUNT, &s, err) ||
			!KmaSameStation(&r, cstn, first, err))
			return false;
		row = RowSetAdd(rs);
		row->ts = ts;
		row->temp_c = t;
		row->precip_mm = p;
		row->rain_mm = NAN;
		row->snow_cm = s;
		row->humidity_pct = h;
		row->wind_ms = w;
	}
	return KmaFinish(rs, first, err);
}

/* Open-Meteo daily CSV (ours: date,temperature_2m_mean_c,…, or the site's download with its preamble). */
static bool
ParseOpenMeteoDailyCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	static const char *const c_date[] = {"date", "time", NULL};
	CsvReader	r;
	int			cols[7];

	CsvInit(&r, buf, len);
	if (!ReadHeader(&r, err))
		return false;
	/* the download starts with latitude,longitude,… and one line of values */
	while (r.nfields > 0 && CsvFieldIs(&r.fields[0], "latitude"))
	{
		if (!NextRecord(&r, err) || !NextRecord(&r, err))
			return err->failed ? false : MissingColumn(err, &r, "time");
	}
	cols[0] = FindCol(&r, c_date);
	cols[1] = FindColPrefix(&r, "temperature_2m_mean", NULL);
	cols[2] = FindColPrefix(&r, "temperature_2m_min", NULL);
	cols[3] = FindColPrefix(&r, "temperature_2m_max", NULL);
	cols[4] = FindColPrefix(&r, "precipitation_sum", NULL);
	cols[5] = FindColPrefix(&r, "rain_sum", NULL);
	cols[6] = FindColPrefix(&r, "snowfall_sum", NULL);
	if (cols[0] < 0)
		return MissingColumn(err, &r, "date");
	if (cols[1] < 0 && cols[4] < 0)
		return MissingColumn(err, &r, "temperature_2m_mean or precipitation_sum");
	while (NextRecord(&r, err))
	{
		WeatherDailyRow *row;
		int32_t		day;
		double		v[6];

		if (!RecordComplete(&r, cols[0] + 1, err) ||
			!GetDate(&r, cols[0], "date", &day, err) ||
			!GetOptDecimal(&r, cols[1], "temperature_2m_mean", NAN, &RANGE_TEMP, &v[0], err) ||
			!GetOptDecimal(&r, cols[2], "temperature_2m_min", NAN, &RANGE_TEMP, &v[1], err) ||
			!GetOptDecimal(&r, cols[3], "temperature_2m_max", NAN, &RANGE_TEMP, &v[2], err) ||
			!GetOptDecimal(&r, cols[4], "precipitation_sum", NAN, &RANGE_AMOUNT, &v[3], err) ||
			!GetOptDecimal(&r, cols[5], "rain_sum", NAN, &RANGE_AMOUNT, &v[4], err) ||
			!GetOptDecimal(&r, cols[6], "snowfall_sum", NAN, &RANGE_AMOUNT, &v[5], err))
			return false;
		row = RowSetAdd(rs);
		row->day = day;
		row->temp_mean = v[0];
		row->temp_min = v[1];
		row->temp_max = v[2];
		row->precip_mm = v[3];
		row->rain_mm = v[4];
		row->snow_cm = v[5];
	}
	return !err->failed;
}

/* A survey time slot "05:00" or "5:30" (24:00 is 00:00) as minutes after midnight. */
static bool
GetSlot(const CsvReader *r, int col, int32_t *out, ParseError *err)
{
	const CsvField *f = &r->fields[col];
	int			h = 0, m = 0;
	size_t		i = 0, nd = 0;

	/* at most three digits are read: a third already fails, and h stays small */
	for (; i < f->len && nd < 3 && f->s[i] >= '0' && f->s[i] <= '9'; i++, nd++)
		h = h * 10 + (f->s[i] - '0');
	if (nd >= 1 && nd <= 2 && i + 3 == f->len && f->s[i] == ':' &&
		f->s[i + 1] >= '0' && f->s[i + 1] <= '5' && f->s[i + 2] >= '0' && f->s[i + 2] <= '9')
	{
		m = (f->s[i + 1] - '0') * 10 + (f->s[i + 2] - '0');
		if (h <= 24)
		{
			*out = (h % 24) * 60 + m;
			return true;
		}
	}
	ParseErrorSet(err, r->line, "slot_start", f->s, f->len, "expected HH:MM");
	return false;
}

/* Congestion surveys: survey,day_type,line,station_code,station,direction,slot_start,congestion_pct. */
static bool
ParseCongestionCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	static const char *const names[8][2] = {
		{"survey", NULL}, {"day_type", NULL}, {"line", NULL}, {"station_code", NULL},
		{"station", NULL}, {"direction", NULL}, {"slot_start", NULL}, {"congestion_pct", NULL}
	};
	CsvReader	r;
	int			cols[8], i;

	CsvInit(&r, buf, len);
	if (!ReadHeader(&r, err))
		return false;
	for (i = 0; i < 8; i++)
	{
		cols[i] = FindCol(&r, names[i]);
		if (cols[i] < 0)
			return MissingColumn(err, &r, names[i][0]);
	}
	while (NextRecord(&r, err))
	{
		CongestionRow *row;
		int32_t		slot;
		double		pct;
		const CsvField *dt;

		if (!RecordComplete(&r, Needed(cols, 8), err))
			return false;
		for (i = 0; i < 6; i++)
			if (!GetText(&r, cols[i], names[i][0], err))
				return false;
		dt = &r.fields[cols[1]];
		if (!CsvFieldIs(dt, "평일") && !CsvFieldIs(dt, "토요일") && !CsvFieldIs(dt, "일요일"))
		{
			ParseErrorSet(err, r.line, "day_type", dt->s, dt->len,
						  "expected 평일, 토요일 or 일요일");
			return false;
		}
		if (!GetSlot(&r, cols[6], &slot, err) ||
			!GetOptDecimal(&r, cols[7], "congestion_pct", NAN, &RANGE_ANY, &pct, err))
			return false;
		if (isnan(pct) || pct < 0 || pct > 400)
		{
			ParseErrorSet(err, r.line, "congestion_pct", r.fields[cols[7]].s,
						  r.fields[cols[7]].len, "expected a percentage between 0 and 400");
			return false;
		}
		row = RowSetAdd(rs);
		row->survey = RowStrdup(r.fields[cols[0]].s, r.fields[cols[0]].len);
		row->day_type = RowStrdup(dt->s, dt->len);
		row->line = RowNormalizeLine(r.fields[cols[2]].s, r.fields[cols[2]].len);
		row->station_code = RowStrdup(r.fields[cols[3]].s, r.fields[cols[3]].len);
		row->station = RowStrdup(r.fields[cols[4]].s, r.fields[cols[4]].len);
		row->direction = RowStrdup(r.fields[cols[5]].s, r.fields[cols[5]].len);
		row->slot_minutes = slot;
		row->pct = pct;
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
static bool
ParseKasiImport(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	return ApiImport(ParseKasiHolidays(buf, len, rs, err), err);
}

/* The rows of an Open-Meteo JSON response hold values the CSV form would accept. */
static bool
OpenMeteoRowsInRange(const RowSet *rs, ParseError *err)
{
	static const struct
	{
		const char *field;
		size_t		offset;
		const ValueRange *rg;
	}			cols[] = {
		{"daily.temperature_2m_mean", offsetof(WeatherDailyRow, temp_mean), &RANGE_TEMP},
		{"daily.temperature_2m_min", offsetof(WeatherDailyRow, temp_min), &RANGE_TEMP},
		{"daily.temperature_2m_max", offsetof(WeatherDailyRow, temp_max), &RANGE_TEMP},
		{"daily.precipitation_sum", offsetof(WeatherDailyRow, precip_mm), &RANGE_AMOUNT},
		{"daily.rain_sum", offsetof(WeatherDailyRow, rain_mm), &RANGE_AMOUNT},
		{"daily.snowfall_sum", offsetof(WeatherDailyRow, snow_cm), &RANGE_AMOUNT}
	};
	size_t		i, c;

	for (i = 0; i < rs->nrows; i++)
		for (c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		{
			double		v = *(const double *) ((const char *) rs->rows + i * rs->rowsize + cols[c].offset);
			char		value[32];

			if (isnan(v) || (v >= cols[c].rg->lo && v <= cols[c].rg->hi))
				continue;
			snprintf(value, sizeof(value), "%g", v);
			return OutOfRange(err, 0, cols[c].field, value, strlen(value), cols[c].rg, (long) i + 1);
		}
	return true;
}

/* Open-Meteo daily: our CSV, the site's CSV download, or an archive API response. */
static bool
ParseOpenMeteoImport(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	if (LooksLikeJson(buf, len))
		return ApiImport(ParseOpenMeteoDaily(buf, len, rs, err), err) &&
			OpenMeteoRowsInRange(rs, err);
	return ParseOpenMeteoDailyCsv(buf, len, rs, err);
}

static const ImportKind import_kinds[] = {
	{"card_subway_month", ROWS_RIDERSHIP_DAILY, "card_subway_month", ParseDailyCsv,
	"Expected CARD_SUBWAY_MONTH columns 사용일자,노선명,[역ID,]역명,승차총승객수,하차총승객수,등록일자 with whole-number counts."},
	{"card_subway_time", ROWS_HOUR_PROFILE, "card_subway_time", ParseCardSubwayTimeCsv,
	"Expected CardSubwayTime columns 사용월,호선명,지하철역,04시-05시 승차인원,04시-05시 하차인원,…,03시-04시 하차인원,작업일자."},
	{"seoulmetro_hourly", ROWS_RIDERSHIP_HOURLY, "seoulmetro_hourly", ParseSeoulMetroHourlyCsv,
	"Expected Seoul Metro columns 날짜,호선,역번호,역명,구분,06시 이전,06 ~ 07,…,23 ~ 24,24시 이후,합 계 with one 승차 and one 하차 row per station and day."},
	{"ridership_daily", ROWS_RIDERSHIP_DAILY, "ridership_daily", ParseDailyCsv,
	"Expected columns date,line,station,boardings,alightings[,registered] with dates as YYYY-MM-DD and whole-number counts."},
	{"ridership_hourly", ROWS_RIDERSHIP_HOURLY, "ridership_hourly", ParseHourlyCsv,
	"Expected columns service_date,line,station,hour,passengers[,day_label] with hour 0-23 (hours 0-3 are after midnight)."},
	{"kma_daily", ROWS_WEATHER_DAILY, "kma", ParseKmaDailyCsv,
	"Expected a KMA daily file with columns 일시 (or 날짜), 지점, 평균기온(°C), 최저기온(°C), 최고기온(°C)[, 강수량(mm)]."},
	{"kma_asos_hourly", ROWS_WEATHER_HOURLY, "kma", ParseKmaAsosCsv,
	"Expected a KMA OBS_ASOS_TIM file with columns 지점,지점명,일시,기온(°C),…,강수량(mm),…,풍속(m/s),…,습도(%),…,적설(cm)."},
	{"openmeteo_daily", ROWS_WEATHER_DAILY, "open-meteo", ParseOpenMeteoImport,
	"Expected date,temperature_2m_mean,…,precipitation_sum,rain_sum,snowfall_sum (CSV) or an Open-Meteo archive JSON response."},
	{"kasi_holidays", ROWS_HOLIDAYS, "kasi", ParseKasiImport,
	"Expected one JSON response of the KASI getRestDeInfo API (_type=json)."},
	{"congestion_survey", ROWS_CONGESTION, "seoulmetro", ParseCongestionCsv,
	"Expected columns survey,day_type,line,station_code,station,direction,slot_start,congestion_pct."},
	{NULL, 0, NULL, NULL, NULL}
};

/* The import kind called name, or NULL. */
const ImportKind *
ImportKindLookup(const char *name)
{
	const ImportKind *k;

	for (k = import_kinds; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* Comma-separated list of every kind name, for hints. */
const char *
ImportKindNames(void)
{
	return "card_subway_month, card_subway_time, seoulmetro_hourly, ridership_daily, "
		"ridership_hourly, kma_daily, kma_asos_hourly, openmeteo_daily, kasi_holidays, "
		"congestion_survey";
}
