/*
 * import_csv.c — the ridership and congestion CSV parsers of the import
 * kinds (import_kinds.c), each over its column table (csv_columns.h).  Pure
 * C over a mutable byte buffer (see rows.h); the SQL entry points are in
 * import.c, the weather files in import_weather.c.
 *
 * Hour mapping (documented in the README):
 *  - A service day runs from 04:00 to 03:59 the next calendar day: hours 0-3
 *    of service day D are the instants D+1 00:00 .. 03:00 KST.
 *  - Seoul Metro's `06시 이전` (everything before 06:00) is the hour slot
 *    05:00-06:00 of the service day; `24시 이후` (everything after midnight)
 *    is the slot 00:00-01:00 of the next calendar day.
 */
#include "import.h"
#include "csv_columns.h"
#include "../kst.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVICE_DAY_START_HOUR 4

/* The columns of CARD_SUBWAY_MONTH and of our daily CSV. */
enum
{
	DAY_DATE, DAY_LINE, DAY_STATION, DAY_ON, DAY_OFF, DAY_REGISTERED, DAY_NCOLS
};
static const CsvColumn DailyColumns[DAY_NCOLS] = {
	[DAY_DATE] = {"date (사용일자)", {"사용일자", "date", "USE_DT", "USE_YMD"}, COL_REQUIRED, NULL, 0},
	[DAY_LINE] = {"line (노선명/호선명)", {"노선명", "호선명", "line", "LINE_NUM", "SBWY_ROUT_LN_NM"},
	COL_REQUIRED, NULL, 0},
	[DAY_STATION] = {"station (역명)", {"역명", "station", "SUB_STA_NM", "SBWY_STNS_NM"}, COL_REQUIRED, NULL, 0},
	[DAY_ON] = {"boardings (승차총승객수)", {"승차총승객수", "boardings", "RIDE_PASGR_NUM", "GTON_TNOPE"},
	COL_REQUIRED, NULL, 0},
	[DAY_OFF] = {"alightings (하차총승객수)", {"하차총승객수", "alightings", "ALIGHT_PASGR_NUM", "GTOFF_TNOPE"},
	COL_REQUIRED, NULL, 0},
	[DAY_REGISTERED] = {"registered (등록일자)", {"등록일자", "registered", "WORK_DT", "REG_YMD"},
	COL_SHORT_OK, NULL, 0},
};

/* Daily totals: CARD_SUBWAY_MONTH (Korean headers) or date,line,station,boardings,alightings. */
bool
ImportDailyCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	CsvReader	r;
	CsvHeader	h;
	const int  *c = h.col;

	if (!ColOpen(&r, buf, len, DailyColumns, DAY_NCOLS, &h, err))
		return false;
	while (ColNextRecord(&r, err))
	{
		RidershipDailyRow *row;
		int64_t		on, off;
		int32_t		day, reg;

		if (!ColRecordComplete(&r, &h, err) ||
			!ColDate(&r, c[DAY_DATE], "date", &day, err) ||
			!ColText(&r, c[DAY_LINE], "line", err) ||
			!ColText(&r, c[DAY_STATION], "station", err) ||
			!ColCount(&r, c[DAY_ON], "boardings", &on, err) ||
			!ColCount(&r, c[DAY_OFF], "alightings", &off, err) ||
			!ColPassengersFit(on, off, r.line, "alightings", r.fields[c[DAY_OFF]].s,
							  r.fields[c[DAY_OFF]].len, err) ||
			!ColOptDate(&r, c[DAY_REGISTERED], "registered", &reg, err))
			return false;
		row = RowSetAdd(rs);
		row->station = RowSetStation(rs, r.fields[c[DAY_LINE]].s, r.fields[c[DAY_LINE]].len,
									 r.fields[c[DAY_STATION]].s, r.fields[c[DAY_STATION]].len, NULL, 0);
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

/* The columns of CardSubwayTime besides its 48 hour columns. */
enum
{
	CST_MONTH, CST_LINE, CST_STATION, CST_JOB, CST_NCOLS
};
static const CsvColumn CardSubwayTimeColumns[CST_NCOLS] = {
	[CST_MONTH] = {"month (사용월)", {"사용월", "USE_MM", "USE_MON"}, COL_REQUIRED, NULL, 0},
	[CST_LINE] = {"line (호선명)", {"호선명", "노선명", "SBWY_ROUT_LN_NM", "LINE_NUM"}, COL_REQUIRED, NULL, 0},
	[CST_STATION] = {"station (지하철역)", {"지하철역", "역명", "STTN", "SUB_STA_NM"}, COL_REQUIRED, NULL, 0},
	[CST_JOB] = {"registered (작업일자)", {"작업일자", "JOB_YMD", "WORK_DT"}, 0, NULL, 0},
};

/* CardSubwayTime: 사용월,호선명,지하철역,HH시-HH시 승차인원,HH시-HH시 하차인원,…,작업일자. */
bool
ImportCardSubwayTimeCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	CsvReader	r;
	CsvHeader	h;
	const int  *c = h.col;
	int			i;
	int			on_col[24], off_col[24];

	if (!ColOpen(&r, buf, len, CardSubwayTimeColumns, CST_NCOLS, &h, err))
		return false;
	for (i = 0; i < 24; i++)
		on_col[i] = off_col[i] = -1;
	for (i = 0; i < r.nfields; i++)
	{
		const CsvField *f = &r.fields[i];
		int			hr = LeadingHour(f);

		if (hr < 0 || !CsvFieldContains(f, "시"))
			continue;
		hr %= 24;
		if (CsvFieldContains(f, "승차"))
			on_col[hr] = i;
		else if (CsvFieldContains(f, "하차"))
			off_col[hr] = i;
	}
	for (i = 0; i < 24; i++)
	{
		if (on_col[i] < 0 || off_col[i] < 0)
		{
			char		what[64];

			snprintf(what, sizeof(what), "hour %02d boardings/alightings", i);
			return ColMissing(err, &r, what);
		}
		ColNeed(&h, on_col[i]);
		ColNeed(&h, off_col[i]);
	}
	while (ColNextRecord(&r, err))
	{
		const CsvField *fm;
		int32_t		month, job;
		int32_t		stn;

		if (!ColRecordComplete(&r, &h, err))
			return false;
		fm = &r.fields[c[CST_MONTH]];
		if (!ParseYm(fm->s, fm->len, &month))
		{
			ParseErrorSet(err, r.line, "month", fm->s, fm->len, "not a valid month (YYYYMM)");
			return false;
		}
		if (!ColText(&r, c[CST_LINE], "line", err) || !ColText(&r, c[CST_STATION], "station", err) ||
			!ColOptDate(&r, c[CST_JOB], "registered", &job, err))
			return false;
		stn = RowSetStation(rs, r.fields[c[CST_LINE]].s, r.fields[c[CST_LINE]].len,
							r.fields[c[CST_STATION]].s, r.fields[c[CST_STATION]].len, NULL, 0);
		for (i = 0; i < 24; i++)
		{
			HourProfileRow *row;
			int64_t		on, off;
			char		name[32];

			snprintf(name, sizeof(name), "%02d시 승차", i);
			if (!ColCount(&r, on_col[i], name, &on, err))
				return false;
			snprintf(name, sizeof(name), "%02d시 하차", i);
			if (!ColCount(&r, off_col[i], name, &off, err))
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

/* The columns of Seoul Metro's day × hour file besides its 20 hour columns. */
enum
{
	SM_DATE, SM_LINE, SM_CODE, SM_STATION, SM_KIND, SM_SUM, SM_NCOLS
};
static const CsvColumn SeoulMetroColumns[SM_NCOLS] = {
	[SM_DATE] = {"date (날짜)", {"날짜", "일자", "date"}, COL_REQUIRED, NULL, 0},
	[SM_LINE] = {"line (호선)", {"호선", "호선명", "line"}, COL_REQUIRED, NULL, 0},
	[SM_CODE] = {"역번호", {"역번호", "code"}, 0, NULL, 0},
	[SM_STATION] = {"station (역명)", {"역명", "station"}, COL_REQUIRED, NULL, 0},
	[SM_KIND] = {"kind (구분)", {"구분"}, COL_REQUIRED, NULL, 0},
	[SM_SUM] = {"합 계", {"합 계", "합계"}, 0, NULL, 0},
};

/* Whether field i of the header is one of the columns h found. */
static bool
IsFoundColumn(const CsvHeader *h, int n, int i)
{
	int			k;

	for (k = 0; k < n; k++)
		if (h->col[k] == i)
			return true;
	return false;
}

/* Seoul Metro day × hour: 날짜,호선,역번호,역명,구분,06시 이전,06 ~ 07,…,24시 이후,합 계. */
bool
ImportSeoulMetroHourlyCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	CsvReader	r;
	CsvHeader	h;
	const int  *c = h.col;
	int			i;
	int			slot_col[25];
	int			nslots = 0;
	MetroHalf  *halves = NULL;
	size_t		nhalves = 0, caphalves = 0, k;
	bool		ok = false;

	if (!ColOpen(&r, buf, len, SeoulMetroColumns, SM_NCOLS, &h, err))
		return false;
	for (i = 0; i < 25; i++)
		slot_col[i] = -1;
	for (i = 0; i < r.nfields; i++)
	{
		int			s;

		if (IsFoundColumn(&h, SM_NCOLS, i))
			continue;
		s = MetroSlot(&r.fields[i]);
		if (s >= 5 && s <= 24 && slot_col[s] < 0)
		{
			slot_col[s] = i;
			ColNeed(&h, i);
			nslots++;
		}
	}
	if (nslots != 20)
		return ColMissing(err, &r, "hour (06시 이전 .. 24시 이후)");
	while (ColNextRecord(&r, err))
	{
		MetroHalf  *hf;
		const CsvField *fk;
		int64_t		sum = 0, total;

		if (!ColRecordComplete(&r, &h, err))
			goto done;
		if (nhalves == caphalves)
		{
			caphalves = caphalves ? caphalves * 2 : 64;
			halves = halves ? SsRealloc(halves, caphalves * sizeof(MetroHalf))
				: SsAlloc(caphalves * sizeof(MetroHalf));
		}
		hf = &halves[nhalves];
		memset(hf, 0, sizeof(*hf));
		hf->line = r.line;
		if (!ColDate(&r, c[SM_DATE], "날짜", &hf->day, err) ||
			!ColText(&r, c[SM_LINE], "호선", err) || !ColText(&r, c[SM_STATION], "역명", err))
			goto done;
		fk = &r.fields[c[SM_KIND]];
		if (CsvFieldIs(fk, "승차"))
			hf->boarding = true;
		else if (!CsvFieldIs(fk, "하차"))
		{
			ParseErrorSet(err, r.line, "구분", fk->s, fk->len, "expected 승차 or 하차");
			goto done;
		}
		for (i = 5; i <= 24; i++)
		{
			char		name[32];

			snprintf(name, sizeof(name), "slot %02d", i);
			if (!ColCount(&r, slot_col[i], name, &hf->counts[i], err))
				goto done;
			sum += hf->counts[i];
		}
		if (c[SM_SUM] >= 0)
		{
			if (!ColCount(&r, c[SM_SUM], "합 계", &total, err))
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
		hf->station = RowSetStation(rs, r.fields[c[SM_LINE]].s, r.fields[c[SM_LINE]].len,
									r.fields[c[SM_STATION]].s, r.fields[c[SM_STATION]].len,
									c[SM_CODE] >= 0 ? r.fields[c[SM_CODE]].s : NULL,
									c[SM_CODE] >= 0 ? r.fields[c[SM_CODE]].len : 0);
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
			if (!ColPassengersFit(on->counts[i], off->counts[i], off->line, name, v, strlen(v), err))
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

/* The columns of our hourly CSV: passengers, or boardings and alightings, or all three. */
enum
{
	HR_DATE, HR_LINE, HR_STATION, HR_HOUR, HR_PASSENGERS, HR_ON, HR_OFF, HR_NCOLS
};
static const CsvColumn HourlyColumns[HR_NCOLS] = {
	[HR_DATE] = {"service_date", {"service_date", "date"}, COL_REQUIRED, NULL, 0},
	[HR_LINE] = {"line", {"line"}, COL_REQUIRED, NULL, 0},
	[HR_STATION] = {"station", {"station"}, COL_REQUIRED, NULL, 0},
	[HR_HOUR] = {"hour", {"hour"}, COL_REQUIRED, NULL, 0},
	[HR_PASSENGERS] = {"passengers", {"passengers"}, 0, NULL, 1},
	[HR_ON] = {"boardings", {"boardings"}, 0, NULL, 2},
	[HR_OFF] = {"alightings", {"alightings"}, 0, NULL, 2},
};

/* Hourly: service_date,line,station,hour,passengers[,boardings,alightings,day_label]. */
bool
ImportHourlyCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	CsvReader	r;
	CsvHeader	h;
	const int  *c = h.col;

	if (!ColOpen(&r, buf, len, HourlyColumns, HR_NCOLS, &h, err))
		return false;
	while (ColNextRecord(&r, err))
	{
		RidershipHourlyRow *row;
		int32_t		day;
		int64_t		hour, pass = -1, on = -1, off = -1;

		if (!ColRecordComplete(&r, &h, err) ||
			!ColDate(&r, c[HR_DATE], "service_date", &day, err) ||
			!ColText(&r, c[HR_LINE], "line", err) ||
			!ColText(&r, c[HR_STATION], "station", err) ||
			!ColCount(&r, c[HR_HOUR], "hour", &hour, err))
			return false;
		if (hour > 23)
		{
			ParseErrorSet(err, r.line, "hour", r.fields[c[HR_HOUR]].s,
						  r.fields[c[HR_HOUR]].len, "hour must be between 0 and 23");
			return false;
		}
		if ((c[HR_ON] >= 0 && !ColCount(&r, c[HR_ON], "boardings", &on, err)) ||
			(c[HR_OFF] >= 0 && !ColCount(&r, c[HR_OFF], "alightings", &off, err)) ||
			(c[HR_PASSENGERS] >= 0 && !ColCount(&r, c[HR_PASSENGERS], "passengers", &pass, err)))
			return false;
		if (pass < 0)
		{
			if (!ColPassengersFit(on, off, r.line, "alightings", r.fields[c[HR_OFF]].s,
								  r.fields[c[HR_OFF]].len, err))
				return false;
			pass = on + off;
		}
		else if (on >= 0 && off >= 0 && on + off != pass)
		{
			ParseErrorSet(err, r.line, "passengers", r.fields[c[HR_PASSENGERS]].s,
						  r.fields[c[HR_PASSENGERS]].len, "passengers differ from boardings + alightings");
			return false;
		}
		row = RowSetAdd(rs);
		row->station = RowSetStation(rs, r.fields[c[HR_LINE]].s, r.fields[c[HR_LINE]].len,
									 r.fields[c[HR_STATION]].s, r.fields[c[HR_STATION]].len, NULL, 0);
		row->service_day = day;
		row->ts = KstInstant(day, (int) hour + (hour < SERVICE_DAY_START_HOUR ? 24 : 0));
		row->boardings = on;
		row->alightings = off;
		row->passengers = pass;
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

/* The columns of a congestion survey file. */
enum
{
	CG_SURVEY, CG_DAY_TYPE, CG_LINE, CG_CODE, CG_STATION, CG_DIRECTION, CG_SLOT, CG_PCT, CG_NCOLS
};
static const CsvColumn CongestionColumns[CG_NCOLS] = {
	[CG_SURVEY] = {"survey", {"survey"}, COL_REQUIRED, NULL, 0},
	[CG_DAY_TYPE] = {"day_type", {"day_type"}, COL_REQUIRED, NULL, 0},
	[CG_LINE] = {"line", {"line"}, COL_REQUIRED, NULL, 0},
	[CG_CODE] = {"station_code", {"station_code"}, COL_REQUIRED, NULL, 0},
	[CG_STATION] = {"station", {"station"}, COL_REQUIRED, NULL, 0},
	[CG_DIRECTION] = {"direction", {"direction"}, COL_REQUIRED, NULL, 0},
	[CG_SLOT] = {"slot_start", {"slot_start"}, COL_REQUIRED, NULL, 0},
	[CG_PCT] = {"congestion_pct", {"congestion_pct"}, COL_REQUIRED, NULL, 0},
};

/* Congestion surveys: survey,day_type,line,station_code,station,direction,slot_start,congestion_pct. */
bool
ImportCongestionCsv(char *buf, size_t len, RowSet *rs, ParseError *err)
{
	CsvReader	r;
	CsvHeader	h;
	const int  *c = h.col;
	int			i;

	if (!ColOpen(&r, buf, len, CongestionColumns, CG_NCOLS, &h, err))
		return false;
	while (ColNextRecord(&r, err))
	{
		CongestionRow *row;
		int32_t		slot;
		double		pct;
		const CsvField *dt;

		if (!ColRecordComplete(&r, &h, err))
			return false;
		for (i = CG_SURVEY; i <= CG_DIRECTION; i++)
			if (!ColText(&r, c[i], CongestionColumns[i].label, err))
				return false;
		dt = &r.fields[c[CG_DAY_TYPE]];
		if (!CsvFieldIs(dt, "평일") && !CsvFieldIs(dt, "토요일") && !CsvFieldIs(dt, "일요일"))
		{
			ParseErrorSet(err, r.line, "day_type", dt->s, dt->len,
						  "expected 평일, 토요일 or 일요일");
			return false;
		}
		if (!GetSlot(&r, c[CG_SLOT], &slot, err) ||
			!ColOptDecimal(&r, c[CG_PCT], "congestion_pct", NAN, &RANGE_ANY, &pct, err))
			return false;
		if (isnan(pct) || pct < 0 || pct > 400)
		{
			ParseErrorSet(err, r.line, "congestion_pct", r.fields[c[CG_PCT]].s,
						  r.fields[c[CG_PCT]].len, "expected a percentage between 0 and 400");
			return false;
		}
		row = RowSetAdd(rs);
		row->survey = RowStrdup(r.fields[c[CG_SURVEY]].s, r.fields[c[CG_SURVEY]].len);
		row->day_type = RowStrdup(dt->s, dt->len);
		row->line = RowNormalizeLine(r.fields[c[CG_LINE]].s, r.fields[c[CG_LINE]].len);
		row->station_code = RowStrdup(r.fields[c[CG_CODE]].s, r.fields[c[CG_CODE]].len);
		row->station = RowStrdup(r.fields[c[CG_STATION]].s, r.fields[c[CG_STATION]].len);
		row->direction = RowStrdup(r.fields[c[CG_DIRECTION]].s, r.fields[c[CG_DIRECTION]].len);
		row->slot_minutes = slot;
		row->pct = pct;
	}
	return !err->failed;
}
