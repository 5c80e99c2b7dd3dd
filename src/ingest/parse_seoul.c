/*
 * parse_seoul.c — Seoul Open Data Plaza responses: CardSubwayStatsNew (daily
 * boardings and alightings per station) and CardSubwayTime (monthly sums per
 * hour slot per station).  Both the current field names and the older ones
 * (USE_DT, LINE_NUM, FOUR_RIDE_NUM, ...) are read.  Pure C (parsers.h).
 */
#include "parsers.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/*
 * The station of one response row.  Stations are entered into the RowSet only
 * once the whole response has parsed, so a bad response leaves none behind.
 */
typedef struct SeoulStation
{
	const char *line;
	size_t		linelen;
	const char *name;
	size_t		namelen;
	size_t		first;			/* its rows: rs->rows[first .. first + count) */
	size_t		count;
} SeoulStation;

/* Turns one element of "row" (1-based rowno) into rows of rs and fills st. */
typedef bool (*SeoulRowFn) (struct json_object *item, long rowno, RowSet *rs,
							SeoulStation *st, ParseError *err);

/* One Seoul service: its wrapper key, the rows it makes and how. */
typedef struct SeoulService
{
	const char *name;
	RowKind		kind;
	SeoulRowFn	row;
} SeoulService;

/* The older CardSubwayTime names of hour slots 0..23 (MIDNIGHT_RIDE_NUM, ...). */
static const char *const SeoulHourWords[24] = {
	"MIDNIGHT", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN",
	"EIGHT", "NINE", "TEN", "ELEVEN", "TWELVE", "THIRTEEN", "FOURTEEN",
	"FIFTEEN", "SIXTEEN", "SEVENTEEN", "EIGHTEEN", "NINETEEN", "TWENTY",
	"TWENTY_ONE", "TWENTY_TWO", "TWENTY_THREE"
};

/* Field name of item, else its older name old; *field names the one used. */
static struct json_object *
SeoulPick(struct json_object *item, const char *name, const char *old,
		  const char **field)
{
	struct json_object *v = ParseMember(item, name);

	*field = name;
	if (v == NULL && (v = ParseMember(item, old)) != NULL)
		*field = old;
	return v;
}

/* A required count under either name. */
static bool
SeoulCount(struct json_object *item, const char *name, const char *old,
		   long rowno, int64_t *out, ParseError *err)
{
	const char *field;
	struct json_object *v = SeoulPick(item, name, old, &field);

	return ParseJsonCount(v, field, rowno, out, err);
}

/* The optional registration date under either name: INT32_MIN when absent or blank. */
static bool
SeoulRegistered(struct json_object *item, const char *name, const char *old,
				long rowno, int32_t *reg, ParseError *err)
{
	const char *field;
	const char *s;
	size_t		len;
	struct json_object *v = SeoulPick(item, name, old, &field);

	*reg = INT32_MIN;
	if (v == NULL || (ParseText(v, &s, &len) && len == 0))
		return true;
	return ParseJsonDate(v, field, rowno, reg, err);
}

/*
 * The line and station name of a row; the station name field is
 * service-specific.  Names that cannot be stored (NameProblem) fail the
 * response.
 */
static bool
SeoulStationOf(struct json_object *item, const char *station_field,
			   long rowno, SeoulStation *st, ParseError *err)
{
	const char *field;
	const char *why;
	struct json_object *v = SeoulPick(item, "SBWY_ROUT_LN_NM", "LINE_NUM", &field);

	if (!ParseJsonString(v, field, rowno, &st->line, &st->linelen, err))
		return false;
	if ((why = NameProblem(st->line, st->linelen)) != NULL)
	{
		RowNameRefuse(err, 0, rowno, field, st->line, st->linelen, why);
		return false;
	}
	v = SeoulPick(item, station_field, "SUB_STA_NM", &field);
	if (!ParseJsonString(v, field, rowno, &st->name, &st->namelen, err))
		return false;
	if ((why = NameProblem(st->name, st->namelen)) != NULL)
	{
		RowNameRefuse(err, 0, rowno, field, st->name, st->namelen, why);
		return false;
	}
	return true;
}

/* One CardSubwayStatsNew row: a station's boardings and alightings of a day. */
static bool
SeoulDailyRow(struct json_object *item, long rowno, RowSet *rs,
			  SeoulStation *st, ParseError *err)
{
	const char *field;
	struct json_object *day = SeoulPick(item, "USE_YMD", "USE_DT", &field);
	RidershipDailyRow row;

	if (!SeoulStationOf(item, "SBWY_STNS_NM", rowno, st, err) ||
		!ParseJsonDate(day, field, rowno, &row.day, err) ||
		!SeoulCount(item, "GTON_TNOPE", "RIDE_PASGR_NUM", rowno, &row.boardings, err) ||
		!SeoulCount(item, "GTOFF_TNOPE", "ALIGHT_PASGR_NUM", rowno, &row.alightings, err) ||
		!SeoulRegistered(item, "REG_YMD", "WORK_DT", rowno, &row.registered, err))
		return false;
	row.station = -1;
	st->first = rs->nrows;
	st->count = 1;
	*(RidershipDailyRow *) RowSetAdd(rs) = row;
	return true;
}

/* The month (first day) of a CardSubwayTime row, USE_MM or USE_MON. */
static bool
SeoulMonth(struct json_object *item, long rowno, int32_t *month, ParseError *err)
{
	const char *field;
	const char *s;
	size_t		len;
	struct json_object *v = SeoulPick(item, "USE_MM", "USE_MON", &field);

	if (v == NULL || !ParseText(v, &s, &len) || !ParseYm(s, len, month))
		return ParseBadValue(err, field, rowno, v, "month");
	return true;
}

/* Hour slot hour of a CardSubwayTime row as one row of rs; absent slots are skipped. */
static bool
SeoulHourSlot(struct json_object *item, long rowno, int hour, const HourProfileRow *proto,
			  RowSet *rs, ParseError *err)
{
	char		on_name[48];
	char		off_name[48];
	char		on_old[48];
	char		off_old[48];
	const char *on_field;
	const char *off_field;
	struct json_object *on;
	struct json_object *off;
	HourProfileRow row = *proto;

	snprintf(on_name, sizeof(on_name), "HR_%d_GET_ON_NOPE", hour);
	snprintf(off_name, sizeof(off_name), "HR_%d_GET_OFF_NOPE", hour);
	snprintf(on_old, sizeof(on_old), "%s_RIDE_NUM", SeoulHourWords[hour]);
	snprintf(off_old, sizeof(off_old), "%s_ALIGHT_NUM", SeoulHourWords[hour]);
	on = SeoulPick(item, on_name, on_old, &on_field);
	off = SeoulPick(item, off_name, off_old, &off_field);
	if (on == NULL && off == NULL)
		return true;
	if (!ParseJsonCount(on, on_field, rowno, &row.boardings, err) ||
		!ParseJsonCount(off, off_field, rowno, &row.alightings, err))
		return false;
	row.hour = hour;
	*(HourProfileRow *) RowSetAdd(rs) = row;
	return true;
}

/* One CardSubwayTime row: a station's monthly sums for each hour slot. */
static bool
SeoulHourProfileRow(struct json_object *item, long rowno, RowSet *rs,
					SeoulStation *st, ParseError *err)
{
	HourProfileRow proto;
	int			hour;

	memset(&proto, 0, sizeof(proto));
	proto.station = -1;
	if (!SeoulStationOf(item, "STTN", rowno, st, err) ||
		!SeoulMonth(item, rowno, &proto.month, err) ||
		!SeoulRegistered(item, "JOB_YMD", "WORK_DT", rowno, &proto.registered, err))
		return false;
	st->first = rs->nrows;
	for (hour = 0; hour < 24; hour++)
		if (!SeoulHourSlot(item, rowno, hour, &proto, rs, err))
			return false;
	st->count = rs->nrows - st->first;
	if (st->count == 0)
	{
		ParseErrorSet(err, 0, "HR_0_GET_ON_NOPE", NULL, 0,
					  "no hour slot columns in row %ld", rowno);
		return false;
	}
	return true;
}

/* Point row i of rs at station index idx. */
static void
SeoulSetStation(RowSet *rs, size_t i, int32_t idx)
{
	if (rs->kind == ROWS_RIDERSHIP_DAILY)
		((RidershipDailyRow *) rs->rows)[i].station = idx;
	else
		((HourProfileRow *) rs->rows)[i].station = idx;
}

/* Enter the stations of n parsed response rows and point their rows at them. */
static void
SeoulAssignStations(RowSet *rs, const SeoulStation *st, size_t n)
{
	size_t		i;
	size_t		j;

	for (i = 0; i < n; i++)
	{
		int32_t		idx = RowSetStation(rs, st[i].line, st[i].linelen,
										st[i].name, st[i].namelen, NULL, 0);

		for (j = st[i].first; j < st[i].first + st[i].count; j++)
			SeoulSetStation(rs, j, idx);
	}
}

/* The "row" array of a successful response into rows of rs. */
static ApiOutcome
SeoulRows(struct json_object *rows, RowSet *rs, ParseError *err,
		  const SeoulService *svc)
{
	size_t		n;
	size_t		i;
	SeoulStation *st;
	bool		ok = true;

	if (rows == NULL)
		return API_OK;
	if (!json_object_is_type(rows, json_type_array))
	{
		ParseBadValue(err, "row", 0, rows, "row list");
		return API_PERMANENT;
	}
	n = json_object_array_length(rows);
	st = SsAlloc(sizeof(SeoulStation) * (n > 0 ? n : 1));
	for (i = 0; ok && i < n; i++)
		ok = svc->row(json_object_array_get_idx(rows, i), (long) i + 1, rs, &st[i], err);
	if (ok)
		SeoulAssignStations(rs, st, n);
	SsFree(st);
	return ok ? API_OK : API_PERMANENT;
}

/* Outcome of the RESULT object (inside the service wrapper or, for errors, alone). */
static ApiOutcome
SeoulResult(struct json_object *result, bool wrapped, const char *service,
			RowSet *rs, ParseError *err)
{
	const char *code;
	const char *msg;
	size_t		len;
	bool		transient;

	if (result == NULL)
		return wrapped ? API_OK :
			ParseApiFail(err, NULL, false, "response has neither %s nor RESULT", service);
	if (!ParseText(ParseMember(result, "CODE"), &code, &len))
		return ParseApiFail(err, NULL, false, "response RESULT has no CODE");
	if (strcmp(code, "INFO-000") == 0)
	{
		ParseSetApiCode(err, code);
		return API_OK;
	}
	if (strcmp(code, "INFO-200") == 0)
	{
		ParseSetApiCode(err, code);
		rs->total_count = 0;
		return API_NO_DATA;
	}
	if (!ParseText(ParseMember(result, "MESSAGE"), &msg, &len))
		msg = "";
	transient = strncmp(code, "ERROR-5", 7) == 0 || strncmp(code, "ERROR-6", 7) == 0;
	return ParseApiFail(err, code, transient, "seoul open data error %s: %s", code, msg);
}

/* A whole Seoul response: {"<service>": {"list_total_count", "RESULT", "row"}}. */
static ApiOutcome
SeoulDocument(struct json_object *root, RowSet *rs, ParseError *err,
			  const void *arg)
{
	const SeoulService *svc = arg;
	struct json_object *wrap = ParseMember(root, svc->name);
	ApiOutcome	out;

	out = SeoulResult(ParseMember(wrap != NULL ? wrap : root, "RESULT"),
					  wrap != NULL, svc->name, rs, err);
	if (out != API_OK)
		return out;
	if (!ParseJsonTotal(ParseMember(wrap, "list_total_count"), "list_total_count", rs, err))
		return API_PERMANENT;
	return SeoulRows(ParseMember(wrap, "row"), rs, err, svc);
}

static const SeoulService SeoulDaily = {
	"CardSubwayStatsNew", ROWS_RIDERSHIP_DAILY, SeoulDailyRow
};

static const SeoulService SeoulHourProfile = {
	"CardSubwayTime", ROWS_HOUR_PROFILE, SeoulHourProfileRow
};

/* CardSubwayStatsNew -> ROWS_RIDERSHIP_DAILY (see parsers.h). */
ApiOutcome
ParseSeoulDaily(const char *buf, size_t len, RowSet *rs, ParseError *err)
{
	return ParseJsonResponse(buf, len, rs, SeoulDaily.kind, err,
							 SeoulDocument, &SeoulDaily);
}

/* CardSubwayTime -> ROWS_HOUR_PROFILE (see parsers.h). */
ApiOutcome
ParseSeoulHourProfile(const char *buf, size_t len, RowSet *rs, ParseError *err)
{
	return ParseJsonResponse(buf, len, rs, SeoulHourProfile.kind, err,
							 SeoulDocument, &SeoulHourProfile);
}
