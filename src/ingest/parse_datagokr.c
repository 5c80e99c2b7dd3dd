/*
 * parse_datagokr.c — data.go.kr responses: the common envelope
 * (response.header.resultCode, response.body.items.item) and the gateway's
 * XML error body, KMA ASOS hourly observations, KMA short-term forecasts
 * (VilageFcst) with their PCP/SNO texts, and KASI special days.  Pure C
 * (parsers.h).
 */
#include "parsers.h"
#include "../kst.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define lengthof(a) (sizeof(a) / sizeof((a)[0]))

/* Turns response.body.items.item (array, single object or NULL) into rows. */
typedef ApiOutcome (*GoKrItemsFn) (struct json_object *item, size_t n,
								   RowSet *rs, ParseError *err);

/* Turns one item (1-based rowno) into a row of rs. */
typedef bool (*GoKrItemFn) (struct json_object *it, long rowno, RowSet *rs,
							ParseError *err);

/* One data.go.kr service: the rows it makes and how. */
typedef struct GoKrService
{
	RowKind		kind;
	GoKrItemsFn items;
} GoKrService;

/* The VilageFcst categories kept, in the order of FcstCategoryNames. */
typedef enum FcstCategory
{
	FCST_TMP, FCST_TMN, FCST_TMX, FCST_POP, FCST_PTY,
	FCST_PCP, FCST_SNO, FCST_REH, FCST_SKY, FCST_WSD
} FcstCategory;

static const char *const FcstCategoryNames[] = {
	"TMP", "TMN", "TMX", "POP", "PTY", "PCP", "SNO", "REH", "SKY", "WSD"
};

/* One kept forecast item: a category's value for a target hour. */
typedef struct FcstValue
{
	int64_t		target;
	size_t		seq;			/* position in the response, to sort stably */
	FcstCategory cat;
	double		value;
} FcstValue;

/* Offset of needle in s[0..len), or -1. */
static long
MemFind(const char *s, size_t len, const char *needle)
{
	size_t		nlen = strlen(needle);
	size_t		i;

	for (i = 0; nlen <= len && i <= len - nlen; i++)
		if (memcmp(s + i, needle, nlen) == 0)
			return (long) i;
	return -1;
}

/* Outcome of a data.go.kr resultCode (see parsers.h). */
static ApiOutcome
GoKrCodeOutcome(const char *code)
{
	static const char *const transient[] = {"01", "02", "04", "05", "21", "22", "99"};
	size_t		i;

	if (strcmp(code, "00") == 0)
		return API_OK;
	if (strcmp(code, "03") == 0)
		return API_NO_DATA;
	for (i = 0; i < lengthof(transient); i++)
		if (strcmp(code, transient[i]) == 0)
			return API_TRANSIENT;
	return API_PERMANENT;
}

/* Outcome of a response whose resultCode is code and resultMsg msg. */
static ApiOutcome
GoKrResult(const char *code, const char *msg, RowSet *rs, ParseError *err)
{
	ApiOutcome	out = GoKrCodeOutcome(code);

	if (out == API_OK || out == API_NO_DATA)
		ParseSetApiCode(err, code);
	if (out == API_OK)
		return out;
	if (out == API_NO_DATA)
	{
		rs->total_count = 0;
		return out;
	}
	return ParseApiFail(err, code, out == API_TRANSIENT, "data.go.kr error %s: %s",
						code, msg);
}

/* True when the body, past a BOM and blanks, starts with '<'. */
static bool
LooksLikeXml(const char *buf, size_t len)
{
	size_t		i = 0;

	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return i < len && buf[i] == '<';
}

/* Text of the first <tag>...</tag> in buf as printable ASCII (others become '?'). */
static bool
XmlTagText(const char *buf, size_t len, const char *tag, char *out, size_t outsize)
{
	char		open[48];
	char		close[48];
	long		start;
	long		end;
	size_t		n = 0;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if ((start = MemFind(buf, len, open)) < 0)
		return false;
	start += (long) strlen(open);
	if ((end = MemFind(buf + start, len - (size_t) start, close)) < 0)
		return false;
	for (; end > 0 && buf[start] == ' '; start++, end--)
		;
	for (; end > 0 && buf[start + end - 1] == ' '; end--)
		;
	for (; n < (size_t) end && n < outsize - 1; n++)
		out[n] = (buf[start + n] >= ' ' && buf[start + n] < 0x7f) ? buf[start + n] : '?';
	out[n] = '\0';
	return n > 0;
}

/* The gateway's XML answer (an error, or XML where JSON was asked for). */
static ApiOutcome
GoKrXml(const char *buf, size_t len, RowSet *rs, ParseError *err)
{
	char		code[32];
	char		msg[128] = "";

	if (!XmlTagText(buf, len, "returnReasonCode", code, sizeof(code)) &&
		!XmlTagText(buf, len, "resultCode", code, sizeof(code)))
		return ParseApiFail(err, NULL, true, "unrecognized XML response");
	if (!XmlTagText(buf, len, "returnAuthMsg", msg, sizeof(msg)) &&
		!XmlTagText(buf, len, "errMsg", msg, sizeof(msg)))
		XmlTagText(buf, len, "resultMsg", msg, sizeof(msg));
	if (GoKrCodeOutcome(code) == API_OK)
		return ParseApiFail(err, code, false, "XML response where JSON was asked for: %s", msg);
	return GoKrResult(code, msg, rs, err);
}

/* Normalize body.items: "" or absent gives no item, else items.item. */
static bool
GoKrItems(struct json_object *items, struct json_object **item, ParseError *err)
{
	*item = NULL;
	if (items == NULL ||
		(json_object_is_type(items, json_type_string) && json_object_get_string_len(items) == 0))
		return true;
	if (!json_object_is_type(items, json_type_object))
		return ParseBadValue(err, "items", 0, items, "item list");
	*item = ParseMember(items, "item");
	if (*item != NULL && !json_object_is_type(*item, json_type_array) &&
		!json_object_is_type(*item, json_type_object))
		return ParseBadValue(err, "item", 0, *item, "item list");
	return true;
}

/* Number of items in items.item (an array, one object, or NULL). */
static size_t
GoKrItemCount(struct json_object *item)
{
	if (item == NULL)
		return 0;
	if (json_object_is_type(item, json_type_array))
		return json_object_array_length(item);
	return 1;
}

/* Item i of items.item. */
static struct json_object *
GoKrItemAt(struct json_object *item, size_t i)
{
	if (json_object_is_type(item, json_type_array))
		return json_object_array_get_idx(item, i);
	return item;
}

/* Turn each of the n items into a row with fn. */
static ApiOutcome
GoKrEachItem(struct json_object *item, size_t n, RowSet *rs, ParseError *err,
			 GoKrItemFn fn)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (!fn(GoKrItemAt(item, i), (long) i + 1, rs, err))
			return API_PERMANENT;
	return API_OK;
}

/* A whole JSON response: {"response": {"header": {...}, "body": {...}}}. */
static ApiOutcome
GoKrDocument(struct json_object *root, RowSet *rs, ParseError *err,
			 const void *arg)
{
	const GoKrService *svc = arg;
	struct json_object *response = ParseMember(root, "response");
	struct json_object *header = ParseMember(response, "header");
	struct json_object *body = ParseMember(response, "body");
	struct json_object *item;
	const char *code;
	const char *msg;
	size_t		len;
	ApiOutcome	out;

	if (!ParseText(ParseMember(header, "resultCode"), &code, &len))
		return ParseApiFail(err, NULL, false, "response has no response.header.resultCode");
	if (!ParseText(ParseMember(header, "resultMsg"), &msg, &len))
		msg = "";
	out = GoKrResult(code, msg, rs, err);
	if (out != API_OK)
		return out;
	if (body == NULL)
		return ParseApiFail(err, code, false, "response has no response.body");
	if (!ParseJsonTotal(ParseMember(body, "totalCount"), "totalCount", rs, err) ||
		!GoKrItems(ParseMember(body, "items"), &item, err))
		return API_PERMANENT;
	return svc->items(item, GoKrItemCount(item), rs, err);
}

/* Parse a data.go.kr response of service svc, JSON or the gateway's XML. */
static ApiOutcome
GoKrParse(const char *buf, size_t len, RowSet *rs, ParseError *err,
		  const GoKrService *svc)
{
	if (!LooksLikeXml(buf, len))
		return ParseJsonResponse(buf, len, rs, svc->kind, err, GoKrDocument, svc);
	if (!ParseBegin(rs, svc->kind, err))
		return API_PERMANENT;
	return GoKrXml(buf, len, rs, err);
}

/* ---- KMA ASOS hourly observations ---- */

/* One ASOS item as a weather_hourly row. */
static bool
AsosItem(struct json_object *it, long rowno, RowSet *rs, ParseError *err)
{
	struct json_object *tm = ParseMember(it, "tm");
	const char *s;
	size_t		len;
	WeatherHourlyRow row;

	if (!ParseJsonString(tm, "tm", rowno, &s, &len, err))
		return false;
	if (!ParseKstHour(s, len, ' ', &row.ts))
		return ParseBadValue(err, "tm", rowno, tm, "hour");
	if (!ParseJsonDecimal(ParseMember(it, "ta"), "ta", rowno, NAN, &row.temp_c, err) ||
		!ParseJsonDecimal(ParseMember(it, "rn"), "rn", rowno, 0.0, &row.precip_mm, err) ||
		!ParseJsonDecimal(ParseMember(it, "ws"), "ws", rowno, NAN, &row.wind_ms, err) ||
		!ParseJsonDecimal(ParseMember(it, "hm"), "hm", rowno, NAN, &row.humidity_pct, err) ||
		!ParseJsonDecimal(ParseMember(it, "dsnw"), "dsnw", rowno, NAN, &row.snow_cm, err))
		return false;
	row.rain_mm = NAN;
	*(WeatherHourlyRow *) RowSetAdd(rs) = row;
	return true;
}

/* All ASOS items. */
static ApiOutcome
AsosItems(struct json_object *item, size_t n, RowSet *rs, ParseError *err)
{
	return GoKrEachItem(item, n, rs, err, AsosItem);
}

/* ---- KMA forecast texts ---- */

/* Skip ASCII blanks at *p. */
static void
KmaBlanks(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

/* Consume word at *p if it is there. */
static bool
KmaWord(const char **p, const char *end, const char *word)
{
	size_t		n = strlen(word);

	if ((size_t) (end - *p) < n || memcmp(*p, word, n) != 0)
		return false;
	*p += n;
	return true;
}

/* Consume an unsigned decimal (digits with at most one '.') at *p. */
static bool
KmaNumber(const char **p, const char *end, double *v)
{
	const char *start = *p;
	bool		dot = false;

	while (*p < end && ((**p >= '0' && **p <= '9') || (**p == '.' && !dot)))
	{
		dot |= **p == '.';
		(*p)++;
	}
	return ParseDecimal(start, (size_t) (*p - start), v);
}

/*
 * A KMA amount text in unit ("mm", "cm"), none being the word for nothing:
 * number [unit] [~ number [unit] | 미만 | 이상], see parsers.h.
 */
static double
KmaAmountText(const char *s, const char *none, const char *unit, bool *ok)
{
	const char *p = s;
	const char *end = s + strlen(s);
	double		a;
	double		b;
	double		v;

	*ok = false;
	KmaBlanks(&p, end);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (KmaWord(&p, end, none))
		v = 0.0;
	else
	{
		if (!KmaNumber(&p, end, &a))
			return NAN;
		KmaBlanks(&p, end);
		KmaWord(&p, end, unit);
		KmaBlanks(&p, end);
		v = a;
		if (KmaWord(&p, end, "~"))
		{
			KmaBlanks(&p, end);
			if (!KmaNumber(&p, end, &b) || b < a)
				return NAN;
			KmaBlanks(&p, end);
			KmaWord(&p, end, unit);
			v = (a + b) / 2;
		}
		else if (KmaWord(&p, end, "미만"))
			v = a / 2;
		else
			KmaWord(&p, end, "이상");
	}
	if (p != end)
		return NAN;
	*ok = true;
	return v;
}

/* PCP text to mm (see parsers.h). */
double
ParseKmaPrecipText(const char *s, bool *ok)
{
	return KmaAmountText(s, "강수없음", "mm", ok);
}

/* SNO text to cm (see parsers.h). */
double
ParseKmaSnowText(const char *s, bool *ok)
{
	return KmaAmountText(s, "적설없음", "cm", ok);
}

/* ---- KMA short-term forecast (VilageFcst) ---- */

/* Index of a kept category, or -1 for the others (UUU, VVV, VEC, WAV, ...). */
static int
FcstCategoryOf(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < lengthof(FcstCategoryNames); i++)
		if (strlen(FcstCategoryNames[i]) == len && memcmp(FcstCategoryNames[i], s, len) == 0)
			return (int) i;
	return -1;
}

/* Minutes after midnight of an "HHMM" time. */
static bool
FcstHhmm(const char *s, size_t len, int *minutes)
{
	size_t		i;
	int			hh;
	int			mm;

	if (len != 4)
		return false;
	for (i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	hh = (s[0] - '0') * 10 + (s[1] - '0');
	mm = (s[2] - '0') * 10 + (s[3] - '0');
	if (hh > 23 || mm > 59)
		return false;
	*minutes = hh * 60 + mm;
	return true;
}

/* The KST instant of an item's date field plus its "HHMM" time field. */
static bool
FcstInstant(struct json_object *it, const char *datefield, const char *timefield,
			long rowno, int64_t *ts, ParseError *err)
{
	struct json_object *t = ParseMember(it, timefield);
	int32_t		day;
	const char *s;
	size_t		len;
	int			minutes;

	if (!ParseJsonDate(ParseMember(it, datefield), datefield, rowno, &day, err))
		return false;
	if (!ParseText(t, &s, &len) || !FcstHhmm(s, len, &minutes))
		return ParseBadValue(err, timefield, rowno, t, "time");
	*ts = KstInstant(day, 0) + (int64_t) minutes * 60 * 1000000;
	return true;
}

/* An integral code in [lo, hi], or NaN (missing). */
static bool
FcstCodeOk(double v, int lo, int hi)
{
	return isnan(v) || (v >= lo && v <= hi && v == (double) (int) v);
}

/* fcstValue of category cat as a number. */
static bool
FcstNumber(FcstCategory cat, struct json_object *v, long rowno, double *out,
		   ParseError *err)
{
	const char *s;
	size_t		len;
	bool		ok;

	if (cat == FCST_PCP || cat == FCST_SNO)
	{
		if (!ParseText(v, &s, &len))
			return ParseBadValue(err, "fcstValue", rowno, v, "forecast text");
		*out = cat == FCST_PCP ? ParseKmaPrecipText(s, &ok) : ParseKmaSnowText(s, &ok);
		return ok || ParseBadValue(err, "fcstValue", rowno, v,
								   cat == FCST_PCP ? "PCP text" : "SNO text");
	}
	if (!ParseJsonDecimal(v, "fcstValue", rowno, NAN, out, err))
		return false;
	if (*out >= 900 || *out <= -900)
		*out = NAN;				/* KMA's missing markers (-999, 999, ...) */
	if ((cat == FCST_PTY && !FcstCodeOk(*out, 0, 7)) ||
		(cat == FCST_SKY && !FcstCodeOk(*out, 1, 4)))
		return ParseBadValue(err, "fcstValue", rowno, v,
							 cat == FCST_PTY ? "PTY code" : "SKY code");
	return true;
}

/*
 * One VilageFcst item into vals[*nvals]; items of other categories are
 * skipped.  Every kept item must share the issue time *issued (INT64_MIN
 * until the first).
 */
static bool
FcstItem(struct json_object *it, long rowno, int64_t *issued, FcstValue *vals,
		 size_t *nvals, ParseError *err)
{
	const char *cat;
	size_t		catlen;
	int			c;
	int64_t		base;
	FcstValue  *v = &vals[*nvals];

	if (!ParseJsonString(ParseMember(it, "category"), "category", rowno, &cat, &catlen, err))
		return false;
	if ((c = FcstCategoryOf(cat, catlen)) < 0)
		return true;
	if (!FcstInstant(it, "baseDate", "baseTime", rowno, &base, err) ||
		!FcstInstant(it, "fcstDate", "fcstTime", rowno, &v->target, err))
		return false;
	if (*issued != INT64_MIN && base != *issued)
	{
		ParseErrorSet(err, 0, "baseTime", NULL, 0,
					  "baseDate/baseTime in row %ld differ from earlier rows", rowno);
		return false;
	}
	*issued = base;
	v->cat = (FcstCategory) c;
	v->seq = *nvals;
	if (!FcstNumber(v->cat, ParseMember(it, "fcstValue"), rowno, &v->value, err))
		return false;
	(*nvals)++;
	return true;
}

/* qsort order: target hour, then response order. */
static int
FcstValueCmp(const void *a, const void *b)
{
	const FcstValue *x = a;
	const FcstValue *y = b;

	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

/* A new forecast row for target with every value missing. */
static WeatherForecastRow *
FcstNewRow(RowSet *rs, int64_t issued, int64_t target)
{
	WeatherForecastRow *r = RowSetAdd(rs);

	r->issued_at = issued;
	r->target = target;
	r->grain_day = false;
	r->temp_c = r->temp_min = r->temp_max = NAN;
	r->precip_mm = r->snow_cm = r->pop_pct = NAN;
	r->humidity_pct = r->wind_ms = NAN;
	r->pty = r->sky = -1;
	return r;
}

/* Store value v of category cat in r. */
static void
FcstApply(WeatherForecastRow *r, FcstCategory cat, double v)
{
	switch (cat)
	{
		case FCST_TMP:
			r->temp_c = v;
			break;
		case FCST_TMN:
			r->temp_min = v;
			break;
		case FCST_TMX:
			r->temp_max = v;
			break;
		case FCST_POP:
			r->pop_pct = v;
			break;
		case FCST_PTY:
			r->pty = isnan(v) ? -1 : (int32_t) v;
			break;
		case FCST_PCP:
			r->precip_mm = v;
			break;
		case FCST_SNO:
			r->snow_cm = v;
			break;
		case FCST_REH:
			r->humidity_pct = v;
			break;
		case FCST_SKY:
			r->sky = isnan(v) ? -1 : (int32_t) v;
			break;
		case FCST_WSD:
			r->wind_ms = v;
			break;
	}
}

/* Rows from the sorted values: one per target hour. */
static void
FcstEmit(const FcstValue *vals, size_t n, int64_t issued, RowSet *rs)
{
	WeatherForecastRow *r = NULL;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		if (r == NULL || r->target != vals[i].target)
			r = FcstNewRow(rs, issued, vals[i].target);
		FcstApply(r, vals[i].cat, vals[i].value);
	}
}

/* All VilageFcst items: collect, order by target hour, combine. */
static ApiOutcome
FcstItems(struct json_object *item, size_t n, RowSet *rs, ParseError *err)
{
	FcstValue  *vals = SsAlloc(sizeof(FcstValue) * (n > 0 ? n : 1));
	size_t		nvals = 0;
	int64_t		issued = INT64_MIN;
	size_t		i;

	for (i = 0; i < n; i++)
		if (!FcstItem(GoKrItemAt(item, i), (long) i + 1, &issued, vals, &nvals, err))
		{
			SsFree(vals);
			return API_PERMANENT;
		}
	qsort(vals, nvals, sizeof(FcstValue), FcstValueCmp);
	FcstEmit(vals, nvals, issued, rs);
	SsFree(vals);
	return API_OK;
}

/* ---- KASI special days ---- */

/* Holiday kind from its name (see parsers.h). */
static const char *
KasiKind(const char *name, size_t len)
{
	if (MemFind(name, len, "대체") >= 0)
		return "substitute";
	if (MemFind(name, len, "임시") >= 0)
		return "temporary";
	if (MemFind(name, len, "선거") >= 0)
		return "election";
	return "public";
}

/* One getRestDeInfo item as a holidays row. */
static bool
KasiItem(struct json_object *it, long rowno, RowSet *rs, ParseError *err)
{
	struct json_object *flagv = ParseMember(it, "isHoliday");
	int32_t		day;
	const char *name;
	const char *flag;
	const char *kind;
	size_t		namelen;
	size_t		flaglen;
	HolidayRow *h;

	if (!ParseJsonDate(ParseMember(it, "locdate"), "locdate", rowno, &day, err) ||
		!ParseJsonString(ParseMember(it, "dateName"), "dateName", rowno, &name, &namelen, err) ||
		!ParseJsonString(flagv, "isHoliday", rowno, &flag, &flaglen, err))
		return false;
	if (flaglen != 1 || (flag[0] != 'Y' && flag[0] != 'N'))
		return ParseBadValue(err, "isHoliday", rowno, flagv, "Y/N flag");
	kind = KasiKind(name, namelen);
	h = RowSetAdd(rs);
	h->day = day;
	h->name = RowStrdup(name, namelen);
	h->kind = RowStrdup(kind, strlen(kind));
	h->is_holiday = flag[0] == 'Y';
	return true;
}

/* All getRestDeInfo items. */
static ApiOutcome
KasiItems(struct json_object *item, size_t n, RowSet *rs, ParseError *err)
{
	return GoKrEachItem(item, n, rs, err, KasiItem);
}

static const GoKrService AsosService = {ROWS_WEATHER_HOURLY, AsosItems};
static const GoKrService FcstService = {ROWS_WEATHER_FORECAST, FcstItems};
static const GoKrService KasiService = {ROWS_HOLIDAYS, KasiItems};

/* KMA ASOS getWthrDataList -> ROWS_WEATHER_HOURLY (see parsers.h). */
ApiOutcome
ParseKmaAsosHourly(const char *buf, size_t len, RowSet *rs, ParseError *err)
{
	return GoKrParse(buf, len, rs, err, &AsosService);
}

/* KMA getVilageFcst -> ROWS_WEATHER_FORECAST (see parsers.h). */
ApiOutcome
ParseKmaVilageFcst(const char *buf, size_t len, RowSet *rs, ParseError *err)
{
	return GoKrParse(buf, len, rs, err, &FcstService);
}

/* KASI getRestDeInfo -> ROWS_HOLIDAYS (see parsers.h). */
ApiOutcome
ParseKasiHolidays(const char *buf, size_t len, RowSet *rs, ParseError *err)
{
	return GoKrParse(buf, len, rs, err, &KasiService);
}
