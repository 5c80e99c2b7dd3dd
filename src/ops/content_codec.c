/*
 * content_codec.c — the content tables (what training reads of each
 * versioned table), their months, and the canonical serialization of a row
 * (independent of TimeZone, DateStyle, extra_float_digits and physical
 * order): a row is its content columns in ContentTables order, each a byte
 * 0 (NULL) or 1 followed by the value as versions.h's ContentKind says;
 * decoding a row back into a key and JSON for diff, and the key order.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "utils/date.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "content.h"

#define CONTENT(vt, st, n, k, filter, lo, hi, ...) [vt] = {vt, st, n, k, __VA_ARGS__, filter, lo, hi}

/* What training reads of each versioned table (see the loaders in src/features). */
const ContentTable ContentTables[VT_NTABLES] = {
	CONTENT(VT_RIDERSHIP_DAILY, true, 3, 1, NULL, true, 0,
	  {"day", "boardings", "alightings"}, {CK_DATE, CK_INT4, CK_INT4}),
	CONTENT(VT_RIDERSHIP_HOURLY, true, 3, 1, NULL, false, 1,
	  {"ts", "service_day", "passengers"}, {CK_TSTZ, CK_DATE, CK_INT4}),
	CONTENT(VT_HOUR_PROFILE, true, 4, 2, NULL, false, 0,
	  {"month", "hour", "boardings", "alightings"}, {CK_DATE, CK_INT2, CK_INT8, CK_INT8}),
	CONTENT(VT_WEATHER_DAILY, false, 5, 2, NULL, false, -1,
	  {"day", "source", "temp_mean_c", "precip_mm", "snow_cm"}, {CK_DATE, CK_TEXT, CK_F8, CK_F8, CK_F8}),
	CONTENT(VT_WEATHER_FORECAST, false, 6, 3, "grain OPERATOR(pg_catalog.=) 'day'", true, 1,
	  {"target", "source", "issued_at", "temp_c", "precip_mm", "snow_cm"},
	  {CK_TSTZ, CK_TEXT, CK_TSTZ, CK_F8, CK_F8, CK_F8}),
	CONTENT(VT_HOLIDAYS, false, 4, 2, NULL, false, 41,
	  {"day", "name", "kind", "is_holiday"}, {CK_DATE, CK_TEXT, CK_TEXT, CK_BOOL}),
};

/* ---- months ---- */

/* The month (year * 12 + month - 1) of a PostgreSQL date. */
static int32
MonthOfDate(int32 d)
{
	int			y, m, dd;

	KstPgDateParts(d, &y, &m, &dd);
	return y * 12 + m - 1;
}

/* The first day of a month. */
static int32
MonthStart(int32 month)
{
	return KstPgDate(month / 12, month % 12 + 1, 1);
}

/* The chunk month of a row's first key column (KST for instants). */
int32
ContentMonthOf(const ContentTable *t, Datum key0)
{
	return MonthOfDate(t->kinds[0] == CK_TSTZ ? KstDateOf(DatumGetTimestampTz(key0)) : DatumGetDateADT(key0));
}

/* The months of table t a scope covers, [*lo, *hi] (INT32_MIN / INT32_MAX: unbounded). */
void
ContentMonths(const ContentTable *t, const Scope *s, int32 *lo, int32 *hi)
{
	*lo = (t->from_lo && s->has_from) ? MonthOfDate(s->from - VERSION_LOOKBACK_DAYS) : PG_INT32_MIN;
	*hi = (t->hi_days >= 0 && s->has_to) ? MonthOfDate(s->to + t->hi_days) : PG_INT32_MAX;
}

/* The first-key-column value where month m starts (m = INT32_MIN / INT32_MAX: -infinity / infinity). */
Datum
ContentKeyBound(const ContentTable *t, int32 month)
{
	if (t->kinds[0] == CK_TSTZ)
	{
		if (month == PG_INT32_MIN)
			return TimestampTzGetDatum(DT_NOBEGIN);
		if (month == PG_INT32_MAX)
			return TimestampTzGetDatum(DT_NOEND);
		return TimestampTzGetDatum(KstInstant(MonthStart(month), 0));
	}
	if (month == PG_INT32_MIN)
		return DateADTGetDatum(DATEVAL_NOBEGIN);
	if (month == PG_INT32_MAX)
		return DateADTGetDatum(DATEVAL_NOEND);
	return DateADTGetDatum(MonthStart(month));
}

/* The first key column's range [*lo, *hi) of the months of table t a scope covers. */
void
ContentKeyRange(const ContentTable *t, const Scope *s, Datum *lo, Datum *hi)
{
	int32		mlo, mhi;

	ContentMonths(t, s, &mlo, &mhi);
	*lo = ContentKeyBound(t, mlo);
	*hi = ContentKeyBound(t, mhi == PG_INT32_MAX ? mhi : mhi + 1);
}

/* ---- serialization ---- */
/* Append one column value in its canonical form. */
void
ContentPutValue(StringInfo b, ContentKind k, Datum d, bool isnull)
{
	appendStringInfoChar(b, isnull ? 0 : 1);
	if (isnull)
		return;
	switch (k)
	{
		case CK_DATE:
			ContentPutBE(b, (uint32) DatumGetDateADT(d), 4);
			break;
		case CK_TSTZ:
			ContentPutBE(b, (uint64) DatumGetTimestampTz(d), 8);
			break;
		case CK_INT2:
			ContentPutBE(b, (uint16) DatumGetInt16(d), 2);
			break;
		case CK_INT4:
			ContentPutBE(b, (uint32) DatumGetInt32(d), 4);
			break;
		case CK_INT8:
			ContentPutBE(b, (uint64) DatumGetInt64(d), 8);
			break;
		case CK_F8:
			{
				double		x = DatumGetFloat8(d);
				uint64		bits;

				if (x == 0)
					x = 0.0;	/* -0 is 0 */
				memcpy(&bits, &x, 8);
				if (isnan(x))
					bits = UINT64CONST(0x7ff8000000000000);
				ContentPutBE(b, bits, 8);
				break;
			}
		case CK_TEXT:
			{
				text	   *t = DatumGetTextPP(d);

				ContentPutBE(b, (uint32) VARSIZE_ANY_EXHDR(t), 4);
				appendBinaryStringInfo(b, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				break;
			}
		case CK_BOOL:
			appendStringInfoChar(b, DatumGetBool(d) ? 1 : 0);
			break;
	}
}

/* Read an unsigned big-endian integer of n bytes at *p, advancing it. */
static uint64
GetBE(const char **p, int n)
{
	uint64		x = 0;
	int			i;

	for (i = 0; i < n; i++)
		x = (x << 8) | (uint8) (*p)[i];
	*p += n;
	return x;
}

/* Append a PostgreSQL date as YYYY-MM-DD. */
static void
AppendDate(StringInfo s, int32 d)
{
	int			y, m, dd;

	KstPgDateParts(d, &y, &m, &dd);
	appendStringInfo(s, "%04d-%02d-%02d", y, m, dd);
}

/* Append an instant in KST, as 2024-05-01T08:00:00+09:00. */
static void
AppendInstant(StringInfo s, TimestampTz ts)
{
	int64		local = ts + (int64) KST_OFFSET_SECONDS * 1000000;
	int64		rem = local % KST_USECS_PER_DAY;
	int64		secs;

	if (rem < 0)
		rem += KST_USECS_PER_DAY;
	secs = rem / 1000000;
	AppendDate(s, KstDateOf(ts));
	appendStringInfo(s, "T%02d:%02d:%02d", (int) (secs / 3600), (int) (secs / 60 % 60), (int) (secs % 60));
	if (rem % 1000000 != 0)
		appendStringInfo(s, ".%06d", (int) (rem % 1000000));
	appendStringInfoString(s, "+09:00");
}

/* Decode one serialized value at *p into text (key) and JSON (json); advance *p. */
static void
DecodeValue(ContentKind k, const char **p, StringInfo text, StringInfo json)
{
	StringInfoData v;
	bool		quoted = true;

	if (*(*p)++ == 0)
	{
		if (text)
			appendStringInfoString(text, "NULL");
		if (json)
			appendStringInfoString(json, "null");
		return;
	}
	initStringInfo(&v);
	switch (k)
	{
		case CK_DATE:
			AppendDate(&v, (int32) (uint32) GetBE(p, 4));
			break;
		case CK_TSTZ:
			AppendInstant(&v, (int64) GetBE(p, 8));
			break;
		case CK_INT2:
			appendStringInfo(&v, "%d", (int) (int16) (uint16) GetBE(p, 2));
			quoted = false;
			break;
		case CK_INT4:
			appendStringInfo(&v, "%d", (int) (int32) (uint32) GetBE(p, 4));
			quoted = false;
			break;
		case CK_INT8:
			appendStringInfo(&v, INT64_FORMAT, (int64) GetBE(p, 8));
			quoted = false;
			break;
		case CK_F8:
			{
				uint64		bits = GetBE(p, 8);
				double		x;
				char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

				memcpy(&x, &bits, 8);
				double_to_shortest_decimal_buf(x, buf);
				appendStringInfoString(&v, buf);
				quoted = isnan(x) || isinf(x);
				break;
			}
		case CK_TEXT:
			{
				uint32		len = (uint32) GetBE(p, 4);

				appendBinaryStringInfo(&v, *p, len);
				*p += len;
				break;
			}
		case CK_BOOL:
			appendStringInfoString(&v, *(*p)++ ? "true" : "false");
			quoted = false;
			break;
	}
	if (text)
		appendStringInfoString(text, v.data);
	if (json && quoted)
		escape_json(json, v.data);
	else if (json)
		appendStringInfoString(json, v.data);
	pfree(v.data);
}

/*
 * A serialized row as a key text ("<line> <station> <key values>", space
 * separated) and a JSON object of its content columns.
 */
void
ContentDecodeRow(const ContentTable *t, const char *row, uint32 len, const Scope *s, int32 station_id,
				 StringInfo key, StringInfo json)
{
	const char *p = row;
	int			c, i;

	if (t->per_station)
		for (i = 0; i < s->nstations; i++)
			if (s->station_ids[i] == station_id)
				appendStringInfo(key, "%s %s ", s->lines[i], s->names[i]);
	appendStringInfoChar(json, '{');
	for (c = 0; c < t->ncols; c++)
	{
		if (c > 0)
			appendStringInfoString(json, ", ");
		if (c > 0 && c < t->nkey)
			appendStringInfoChar(key, ' ');
		escape_json(json, t->cols[c]);
		appendStringInfoString(json, ": ");
		DecodeValue(t->kinds[c], &p, c < t->nkey ? key : NULL, json);
	}
	appendStringInfoChar(json, '}');
	if (p != row + len)
		elog(ERROR, "a serialized %s row does not decode", VersionTableName(t->vt));
}

/* The length of a serialized row's key columns. */
static uint32
KeyLength(const ContentTable *t, const char *row)
{
	static const int fixed[] = {[CK_DATE] = 4, [CK_TSTZ] = 8, [CK_INT2] = 2, [CK_INT4] = 4, [CK_INT8] = 8,
	[CK_F8] = 8, [CK_TEXT] = 0, [CK_BOOL] = 1};
	const char *p = row;
	int			c;

	for (c = 0; c < t->nkey; c++)
	{
		if (*p++ == 0)
			continue;
		if (t->kinds[c] == CK_TEXT)
		{
			uint32		len = (uint32) GetBE(&p, 4);

			p += len;
		}
		else
			p += fixed[t->kinds[c]];
	}
	return (uint32) (p - row);
}

/* Order two serialized rows by their key columns' bytes (diff's merge order). */
int
ContentKeyCompare(const ContentTable *t, const char *a, uint32 alen, const char *b, uint32 blen)
{
	uint32		ka = KeyLength(t, a), kb = KeyLength(t, b);
	int			c = memcmp(a, b, Min(ka, kb));

	if (c != 0)
		return c;
	return ka < kb ? -1 : ka > kb;
}
