/*
 * sources.c — per-source request plans: URLs (one with the key for the wire,
 * one with *** for logs), the options a job may give and their checks,
 * paging, and the parser each response goes to.
 */
#include "postgres.h"

#include <curl/curl.h>

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "../settings.h"
#include "../kst.h"
#include "secrets.h"
#include "sources.h"

/* A source that needs no API key. */
#define KEYLESS (-1)

/* Every ingestion source: name, row kind, source label, API key, and what it fetches. */
static const struct
{
	const char *name;
	RowKind		kind;
	const char *label;			/* NULL: computed (SourceRowsLabel) */
	int			key;			/* SecretId, or KEYLESS */
	const char *description;
}			sources[] = {
	[SRC_SEOUL_DAILY] = {"seoul_daily", ROWS_RIDERSHIP_DAILY, "seoul_daily", SECRET_SEOUL_API_KEY,
	"Seoul Open Data CardSubwayStatsNew: boardings and alightings of every station per day, into ridership_daily."},
	[SRC_SEOUL_HOUR_PROFILE] = {"seoul_hour_profile", ROWS_HOUR_PROFILE, "seoul_hour_profile", SECRET_SEOUL_API_KEY,
	"Seoul Open Data CardSubwayTime: boardings and alightings per station, month and hour, into hour_profile."},
	[SRC_KMA_ASOS_HOURLY] = {"kma_asos_hourly", ROWS_WEATHER_HOURLY, NULL, SECRET_DATA_GO_KR_KEY,
	"KMA ASOS hourly observations of station seongsu.kma_station (option station), into weather_hourly."},
	[SRC_KMA_FORECAST] = {"kma_forecast", ROWS_WEATHER_FORECAST, "kma-vilage", SECRET_DATA_GO_KR_KEY,
	"KMA short-term forecast (VilageFcst) for grid nx, ny (options nx, ny, base_time), into weather_forecast."},
	[SRC_KASI_HOLIDAYS] = {"kasi_holidays", ROWS_HOLIDAYS, "kasi", SECRET_DATA_GO_KR_KEY,
	"KASI getRestDeInfo: the public holidays of each month, into holidays."},
	[SRC_OPENMETEO_DAILY] = {"openmeteo_daily", ROWS_WEATHER_DAILY, "open-meteo", KEYLESS,
	"Open-Meteo archive: daily weather at Seongsu (options latitude, longitude), into weather_daily."},
	[SRC_OPENMETEO_FORECAST] = {"openmeteo_forecast", ROWS_WEATHER_FORECAST, "open-meteo", KEYLESS,
	"Open-Meteo forecast: hourly and daily weather ahead at Seongsu (options latitude, longitude), into weather_forecast."},
};

#define NSOURCES ((int) lengthof(sources))

PG_FUNCTION_INFO_V1(ingestion_sources);

/*
 * The names of the sources (only the keyless ones when keyless_only), as
 * "a, b and c" (palloc'd), for hints.
 */
char *
SourceNames(bool keyless_only)
{
	StringInfoData names;
	int			i, n = 0, total = 0;

	for (i = 0; i < NSOURCES; i++)
		total += !keyless_only || sources[i].key == KEYLESS;
	initStringInfo(&names);
	for (i = 0; i < NSOURCES; i++)
		if (!keyless_only || sources[i].key == KEYLESS)
		{
			n++;
			appendStringInfo(&names, "%s%s", n == 1 ? "" : n == total ? " and " : ", ",
							 sources[i].name);
		}
	return names.data;
}

/*
 * ingestion_sources(): every source enqueue accepts, in order: its name,
 * the API key it needs (NULL: none) and what it fetches.  The install
 * script builds the jobs table's check and the source_status view from it.
 */
Datum
ingestion_sources(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < NSOURCES; i++)
	{
		Datum		v[4];
		bool		n[4] = {false, false, false, false};

		v[0] = Int32GetDatum(i + 1);
		v[1] = CStringGetTextDatum(sources[i].name);
		if (sources[i].key == KEYLESS)
			n[2] = true;
		else
			v[2] = CStringGetTextDatum(SecretName((SecretId) sources[i].key));
		v[3] = CStringGetTextDatum(sources[i].description);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

/* The source called name. */
bool
SourceLookup(const char *name, SourceId *id)
{
	int			i;

	for (i = 0; i < NSOURCES; i++)
		if (strcmp(sources[i].name, name) == 0)
		{
			*id = (SourceId) i;
			return true;
		}
	return false;
}

/* The source's name. */
const char *
SourceName(SourceId id)
{
	return sources[id].name;
}

/* The table kind the source's rows go to. */
RowKind
SourceRowKind(SourceId id)
{
	return sources[id].kind;
}

/* The value written to the rows' source column. */
const char *
SourceRowsLabel(SourceId id)
{
	if (id == SRC_KMA_ASOS_HOURLY)
		return psprintf("kma:%s", seongsu_kma_station);
	return sources[id].label;
}

/* Percent-encode s for a URL (palloc'd). */
static char *
Escape(const char *s)
{
	char	   *e = curl_easy_escape(NULL, s, 0);
	char	   *r;

	if (!e)
		elog(ERROR, "out of memory");
	r = pstrdup(e);
	curl_free(e);
	return r;
}

/* ERROR: the source needs a key that is nowhere. */
static void
MissingKey(SourceId id, SecretId key)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("source %s needs the API key %s, which is not set", SourceName(id), SecretName(key)),
			 errhint("The extension's owner stores it with SELECT seongsu.set_secret('%s', '...') (or as a supabase_vault secret named %s); %s need no key.",
					 SecretName(key), SecretName(key), SourceNames(true))));
}

/* Look the API keys up (secrets.h); ERROR when the source needs one that is nowhere. */
void
SourceCheckKeys(SourceId id)
{
	SecretsLoad();
	if (sources[id].key != KEYLESS && !SecretGet((SecretId) sources[id].key))
		MissingKey(id, (SecretId) sources[id].key);
}

/* How an option's value must be written. */
typedef enum OptionForm
{
	FORM_DIGITS,				/* 1 to 5 digits, an integer in [min, max] */
	FORM_HHMM,					/* four digits, hour 00-23 and minute 00-59 */
	FORM_DECIMAL				/* [-]digits[.digits], a number in [min, max] */
} OptionForm;

/* The options a job may give (enqueue's options), the sources that take them and their form. */
static const struct
{
	const char *name;
	int			sources;		/* bits 1 << SourceId */
	OptionForm	form;
	double		min;
	double		max;
	const char *form_text;		/* the form, for errors */
}			option_specs[] = {
	{"station", 1 << SRC_KMA_ASOS_HOURLY, FORM_DIGITS, 1, 99999, "a KMA station number (1 to 5 digits)"},
	{"nx", 1 << SRC_KMA_FORECAST, FORM_DIGITS, 1, 200, "a KMA grid x, an integer from 1 to 200"},
	{"ny", 1 << SRC_KMA_FORECAST, FORM_DIGITS, 1, 300, "a KMA grid y, an integer from 1 to 300"},
	{"base_time", 1 << SRC_KMA_FORECAST, FORM_HHMM, 0, 0, "an issue time HHMM such as \"0500\""},
	{"latitude", (1 << SRC_OPENMETEO_DAILY) | (1 << SRC_OPENMETEO_FORECAST), FORM_DECIMAL, -90, 90,
	"a decimal number from -90 to 90"},
	{"longitude", (1 << SRC_OPENMETEO_DAILY) | (1 << SRC_OPENMETEO_FORECAST), FORM_DECIMAL, -180, 180,
	"a decimal number from -180 to 180"},
};

/* The option_specs entry called name, or -1. */
static int
OptionSpec(const char *name)
{
	int			i;

	for (i = 0; i < (int) lengthof(option_specs); i++)
		if (strcmp(option_specs[i].name, name) == 0)
			return i;
	return -1;
}

/* Whether s is written in the form of option spec (and within its range). */
static bool
OptionWellFormed(int spec, const char *s)
{
	const char *p = s;
	int			n = 0;

	switch (option_specs[spec].form)
	{
		case FORM_DIGITS:
			while (isdigit((unsigned char) p[n]))
				n++;
			return n >= 1 && n <= 5 && p[n] == '\0' &&
				atoi(s) >= option_specs[spec].min && atoi(s) <= option_specs[spec].max;
		case FORM_HHMM:
			while (isdigit((unsigned char) p[n]))
				n++;
			return n == 4 && p[n] == '\0' && atoi(s) / 100 <= 23 && atoi(s) % 100 <= 59;
		case FORM_DECIMAL:
			if (*p == '-')
				p++;
			while (isdigit((unsigned char) p[n]))
				n++;
			if (n < 1 || n > 3)
				return false;
			p += n;
			if (*p == '.')
			{
				for (n = 0, p++; isdigit((unsigned char) p[n]); n++)
					;
				if (n < 1 || n > 15)
					return false;
				p += n;
			}
			return *p == '\0' && strtod(s, NULL) >= option_specs[spec].min &&
				strtod(s, NULL) <= option_specs[spec].max;
	}
	return false;
}

/* ERROR unless s, the value of option spec given by `what` ("option" or "setting seongsu.x"), is well formed. */
static void
CheckOption(int spec, const char *s, const char *what)
{
	if (!OptionWellFormed(spec, s))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" must be %s", what, option_specs[spec].name, option_specs[spec].form_text),
				 errdetail("The value given was \"%s\".", s)));
}

/* The option name of a job as text (a JSON string or number), or NULL when absent. */
static char *
OptText(Jsonb *options, const char *key)
{
	JsonbValue	k, *v;

	if (!options || !JB_ROOT_IS_OBJECT(options))
		return NULL;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(&options->root, JB_FOBJECT, &k);
	if (!v)
		return NULL;
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	if (v->type == jbvNumeric)
		return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("option \"%s\" must be a JSON string or number", key)));
	return NULL;
}

/*
 * The value of option name for a URL, percent-encoded: the job's, else the
 * setting's (setting_name = setting); ERROR when it is not well formed.
 */
static char *
OptionForUrl(Jsonb *options, const char *name, const char *setting_name, const char *setting)
{
	int			spec = OptionSpec(name);
	char	   *v = OptText(options, name);

	if (v)
		CheckOption(spec, v, "option");
	else
		CheckOption(spec, setting, psprintf("setting %s for option", setting_name));
	return Escape(v ? v : setting);
}

/* ERROR unless every option of a job is one the source takes, well formed. */
void
SourceCheckOptions(SourceId id, Jsonb *options)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (!options || !JB_ROOT_IS_OBJECT(options))
		return;
	it = JsonbIteratorInit(&options->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *name;
		int			spec;
		char	   *value;

		if (tok != WJB_KEY)
			continue;
		name = pnstrdup(v.val.string.val, v.val.string.len);
		spec = OptionSpec(name);
		if (spec < 0 || !(option_specs[spec].sources & (1 << id)))
		{
			StringInfoData takes;
			int			i;

			initStringInfo(&takes);
			for (i = 0; i < (int) lengthof(option_specs); i++)
				if (option_specs[i].sources & (1 << id))
					appendStringInfo(&takes, "%s%s", takes.len ? ", " : "", option_specs[i].name);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("source %s has no option \"%s\"", SourceName(id), name),
					 takes.len ? errhint("The options of %s are %s.", SourceName(id), takes.data)
					 : errhint("%s takes no options.", SourceName(id))));
		}
		value = OptText(options, name);
		CheckOption(spec, value, "option");
	}
}

/* A base URL without its trailing slashes. */
static char *
Base(const char *url)
{
	char	   *b = pstrdup(url ? url : "");
	size_t		n = strlen(b);

	while (n > 0 && b[n - 1] == '/')
		b[--n] = '\0';
	return b;
}

/* YYYYMMDD, YYYY-MM-DD or YYYYMM of a PostgreSQL date. */
static char *
FmtDate(int32 d, const char *style)
{
	int			y, m, dd;

	KstPgDateParts(d, &y, &m, &dd);
	if (strcmp(style, "ymd") == 0)
		return psprintf("%04d%02d%02d", y, m, dd);
	if (strcmp(style, "iso") == 0)
		return psprintf("%04d-%02d-%02d", y, m, dd);
	return psprintf("%04d%02d", y, m);
}

/* Today's KST date and the KST hour and minute of now. */
static int32
KstToday(int *hour, int *minute)
{
	TimestampTz now = GetCurrentTimestamp();
	int64		local = now + (int64) KST_OFFSET_SECONDS * USECS_PER_SEC;

	if (hour)
		*hour = KstHourOf(now);
	if (minute)
		*minute = (int) ((local % USECS_PER_HOUR + USECS_PER_HOUR) % USECS_PER_HOUR / USECS_PER_MINUTE);
	return KstDateOf(now);
}

/* Fill both URLs of a unit from a format with one %s where the key goes. */
static void
SetUrls(FetchUnit *u, const char *with_key, const char *without_key)
{
	u->url = pstrdup(with_key);
	u->redacted = pstrdup(without_key);
}

/* The key a unit's URL carries, percent-encoded. */
static char *
KeyForUrl(const FetchUnit *u, SecretId key)
{
	const char *k = SecretGet(key);

	if (!k)
		MissingKey(u->source, key);
	return Escape(k);
}

/* Build the URLs of a unit from its source, range, page and options. */
static void
BuildUrls(FetchUnit *u, Jsonb *options)
{
	char	   *k;

	switch (u->source)
	{
		case SRC_SEOUL_DAILY:
		case SRC_SEOUL_HOUR_PROFILE:
			{
				const char *svc = u->source == SRC_SEOUL_DAILY ? "CardSubwayStatsNew" : "CardSubwayTime";
				char	   *when = FmtDate(u->first, u->source == SRC_SEOUL_DAILY ? "ymd" : "ym");
				char	   *tail = psprintf("json/%s/%d/%d/%s", svc, u->page,
											u->page + u->page_size - 1, when);
				char	   *base = Base(seongsu_seoul_api_url);

				k = KeyForUrl(u, SECRET_SEOUL_API_KEY);
				SetUrls(u, psprintf("%s/%s/%s", base, k, tail), psprintf("%s/***/%s", base, tail));
				break;
			}
		case SRC_KMA_ASOS_HOURLY:
			{
				char	   *stn = OptionForUrl(options, "station", "seongsu.kma_station", seongsu_kma_station);
				char	   *q = psprintf("pageNo=%d&numOfRows=%d&dataType=JSON&dataCd=ASOS&dateCd=HR"
										 "&startDt=%s&startHh=00&endDt=%s&endHh=23&stnIds=%s",
										 u->page, u->page_size, FmtDate(u->first, "ymd"),
										 FmtDate(u->last, "ymd"), stn);
				char	   *base = psprintf("%s/1360000/AsosHourlyInfoService/getWthrDataList",
											Base(seongsu_data_go_kr_url));

				k = KeyForUrl(u, SECRET_DATA_GO_KR_KEY);
				SetUrls(u, psprintf("%s?serviceKey=%s&%s", base, k, q),
						psprintf("%s?serviceKey=***&%s", base, q));
				break;
			}
		case SRC_KMA_FORECAST:
			{
				char	   *bt = OptText(options, "base_time");
				char	   *nx = OptionForUrl(options, "nx", "seongsu.kma_nx", psprintf("%d", seongsu_kma_nx));
				char	   *ny = OptionForUrl(options, "ny", "seongsu.kma_ny", psprintf("%d", seongsu_kma_ny));
				char	   *q;
				char	   *base = psprintf("%s/1360000/VilageFcstInfoService_2.0/getVilageFcst",
											Base(seongsu_data_go_kr_url));
				int32		day = u->first;

				if (bt)
					bt = OptionForUrl(options, "base_time", NULL, NULL);
				else
				{
					int			h, mi, slot;
					int32		today = KstToday(&h, &mi);

					/* the latest issue (02, 05, …, 23 h) that is out (10 min later) */
					if (day == today)
					{
						slot = ((h * 60 + mi - 10 - 120) / 180) * 3 + 2;
						if (h * 60 + mi < 130)
						{
							day--;
							slot = 23;
						}
					}
					else
						slot = 23;
					bt = psprintf("%02d00", slot);
				}
				q = psprintf("pageNo=%d&numOfRows=%d&dataType=JSON&base_date=%s&base_time=%s&nx=%s&ny=%s",
							 u->page, u->page_size, FmtDate(day, "ymd"), bt, nx, ny);
				k = KeyForUrl(u, SECRET_DATA_GO_KR_KEY);
				SetUrls(u, psprintf("%s?serviceKey=%s&%s", base, k, q),
						psprintf("%s?serviceKey=***&%s", base, q));
				break;
			}
		case SRC_KASI_HOLIDAYS:
			{
				int			y, m, d;
				char	   *q;
				char	   *base = psprintf("%s/B090041/openapi/service/SpcdeInfoService/getRestDeInfo",
											Base(seongsu_data_go_kr_url));

				KstPgDateParts(u->first, &y, &m, &d);
				q = psprintf("solYear=%04d&solMonth=%02d&_type=json&numOfRows=%d&pageNo=%d",
							 y, m, u->page_size, u->page);
				k = KeyForUrl(u, SECRET_DATA_GO_KR_KEY);
				SetUrls(u, psprintf("%s?serviceKey=%s&%s", base, k, q),
						psprintf("%s?serviceKey=***&%s", base, q));
				break;
			}
		case SRC_OPENMETEO_DAILY:
		case SRC_OPENMETEO_FORECAST:
			{
				char	   *lat = OptionForUrl(options, "latitude", "seongsu.latitude", seongsu_latitude);
				char	   *lon = OptionForUrl(options, "longitude", "seongsu.longitude", seongsu_longitude);
				const char *daily = "temperature_2m_mean,temperature_2m_min,temperature_2m_max,"
					"precipitation_sum,rain_sum,snowfall_sum";
				char	   *url;

				if (u->source == SRC_OPENMETEO_DAILY)
					url = psprintf("%s/v1/archive?latitude=%s&longitude=%s&start_date=%s&end_date=%s"
								   "&daily=%s&timezone=Asia%%2FSeoul",
								   Base(seongsu_open_meteo_archive_url), lat, lon,
								   FmtDate(u->first, "iso"), FmtDate(u->last, "iso"), daily);
				else
					url = psprintf("%s/v1/forecast?latitude=%s&longitude=%s&daily=%s"
								   "&hourly=temperature_2m,precipitation,rain,snowfall,"
								   "relative_humidity_2m,wind_speed_10m&timezone=Asia%%2FSeoul&forecast_days=16",
								   Base(seongsu_open_meteo_url), lat, lon, daily);
				SetUrls(u, url, url);
				break;
			}
	}
}

/* A new unit for [first, last], page `page`. */
static FetchUnit *
NewUnit(SourceId id, int32 first, int32 last, int page, int page_size, Jsonb *options)
{
	FetchUnit  *u = palloc0(sizeof(FetchUnit));

	u->source = id;
	u->first = first;
	u->last = last;
	u->page = page;
	u->page_size = page_size;
	BuildUrls(u, options);
	return u;
}

/* First day of the month after the month of d. */
static int32
NextMonth(int32 d)
{
	int			y, m, dd;

	KstPgDateParts(d, &y, &m, &dd);
	return m == 12 ? KstPgDate(y + 1, 1, 1) : KstPgDate(y, m + 1, 1);
}

/* First day of d's month. */
static int32
MonthStart(int32 d)
{
	int			y, m, dd;

	KstPgDateParts(d, &y, &m, &dd);
	return KstPgDate(y, m, 1);
}

/* The first-page requests of a job over [from, to]. */
List *
SourceUnits(SourceId id, int32 from, int32 to, Jsonb *options)
{
	List	   *units = NIL;
	int32		d;

	switch (id)
	{
		case SRC_SEOUL_DAILY:
			for (d = from; d <= to; d++)
				units = lappend(units, NewUnit(id, d, d, 1, 1000, options));
			break;
		case SRC_SEOUL_HOUR_PROFILE:
			for (d = MonthStart(from); d <= to; d = NextMonth(d))
				units = lappend(units, NewUnit(id, d, NextMonth(d) - 1, 1, 1000, options));
			break;
		case SRC_KASI_HOLIDAYS:
			for (d = MonthStart(from); d <= to; d = NextMonth(d))
				units = lappend(units, NewUnit(id, d, NextMonth(d) - 1, 1, 100, options));
			break;
		case SRC_KMA_ASOS_HOURLY:
			/* 41 days x 24 hours fit in one 999-row page */
			for (d = from; d <= to; d += 41)
				units = lappend(units, NewUnit(id, d, Min(d + 40, to), 1, 999, options));
			break;
		case SRC_OPENMETEO_DAILY:
			for (d = from; d <= to; d += 366)
				units = lappend(units, NewUnit(id, d, Min(d + 365, to), 1, 0, options));
			break;
		case SRC_KMA_FORECAST:
			units = lappend(units, NewUnit(id, from, from, 1, 1000, options));
			break;
		case SRC_OPENMETEO_FORECAST:
			units = lappend(units, NewUnit(id, from, from, 1, 0, options));
			break;
	}
	return units;
}

/*
 * The request for the page after u, or NULL when u was the last: the API
 * reported total_count rows in all (-1: no total) and u's page held
 * page_rows rows.  Paging stops at the reported total, at an empty page, at
 * a short page where one item is one row (Seoul daily, KMA ASOS, KASI), and
 * after SOURCE_MAX_PAGES pages of one request: *capped says when it stopped
 * only there, with more pages reported (the caller fails the job).
 */
FetchUnit *
SourceNextPage(const FetchUnit *u, long total_count, long page_rows, Jsonb *options, bool *capped)
{
	bool		seoul = u->source == SRC_SEOUL_DAILY || u->source == SRC_SEOUL_HOUR_PROFILE;
	bool		item_rows = u->source == SRC_SEOUL_DAILY || u->source == SRC_KMA_ASOS_HOURLY ||
		u->source == SRC_KASI_HOLIDAYS;
	long		pageno;

	*capped = false;
	if (total_count < 0 || u->page_size <= 0 || page_rows <= 0 ||
		u->source == SRC_OPENMETEO_DAILY || u->source == SRC_OPENMETEO_FORECAST)
		return NULL;
	if (item_rows && page_rows < u->page_size)
		return NULL;
	/* Seoul pages by start index, data.go.kr by page number */
	pageno = seoul ? ((long) u->page - 1) / u->page_size + 1 : (long) u->page;
	if (pageno * u->page_size >= total_count)
		return NULL;
	if (pageno >= SOURCE_MAX_PAGES)
	{
		*capped = true;
		return NULL;
	}
	return NewUnit(u->source, u->first, u->last,
				   seoul ? u->page + u->page_size : u->page + 1, u->page_size, options);
}

/* Parse one response body of unit u into rs. */
ApiOutcome
SourceParse(const FetchUnit *u, const char *body, size_t len, TimestampTz fetched_at,
			RowSet *rs, ParseError *err)
{
	switch (u->source)
	{
		case SRC_SEOUL_DAILY:
			return ParseSeoulDaily(body, len, rs, err);
		case SRC_SEOUL_HOUR_PROFILE:
			return ParseSeoulHourProfile(body, len, rs, err);
		case SRC_KMA_ASOS_HOURLY:
			return ParseKmaAsosHourly(body, len, rs, err);
		case SRC_KMA_FORECAST:
			return ParseKmaVilageFcst(body, len, rs, err);
		case SRC_KASI_HOLIDAYS:
			return ParseKasiHolidays(body, len, rs, err);
		case SRC_OPENMETEO_DAILY:
			return ParseOpenMeteoDaily(body, len, rs, err);
		case SRC_OPENMETEO_FORECAST:
			return ParseOpenMeteoForecast(body, len,
										  fetched_at - fetched_at % USECS_PER_HOUR, rs, err);
	}
	return API_PERMANENT;
}
