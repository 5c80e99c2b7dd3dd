/*
 * upsert.c — write a RowSet into its table: one set-based statement per
 * table, idempotent (a row whose values are unchanged is not touched) and
 * registration-aware (an older registration never replaces a newer one).
 *
 * Every table is described once (Tables, below): its columns, which form
 * the key, which one is the registration date, where each value sits in the
 * parser's row struct.  The statements, the arrays they take and the
 * de-duplication of the rows all follow from that description.
 *
 * Rows that repeat a key inside one RowSet are reduced to one first: the one
 * with the latest registration, and of equals the last in input order.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include <math.h>

#include "upsert.h"

/* How a column's value is stored in the row struct and sent to SQL. */
typedef enum ColType
{
	COL_STATION,				/* int32 index into RowSet.stations -> station id */
	COL_DATE,					/* int32 PostgreSQL date, INT32_MIN = NULL */
	COL_TS,						/* int64 TimestampTz */
	COL_COUNT4,					/* int64, negative = NULL -> int4 */
	COL_COUNT8,					/* int64, negative = NULL -> int8 */
	COL_SMALL,					/* int32, negative = NULL -> int2 */
	COL_F8,						/* double, NaN = NULL */
	COL_TEXT,					/* char *, NULL = NULL */
	COL_BOOL,					/* bool */
	COL_GRAIN,					/* bool grain_day -> 'day' / 'hour' */
	COL_SLOT,					/* int32 minutes after midnight -> time */
	COL_PCT						/* double -> numeric */
} ColType;

/* What a column is to the upsert. */
typedef enum ColRole
{
	COL_KEY,					/* part of the conflict key */
	COL_VALUE,					/* replaced when it changed */
	COL_REGISTRATION			/* a value that is never replaced by an older one */
} ColRole;

#define ALL_ROLES ((1u << COL_KEY) | (1u << COL_VALUE) | (1u << COL_REGISTRATION))
#define VALUE_ROLES ((1u << COL_VALUE) | (1u << COL_REGISTRATION))

/* Where the RowSet's source label goes. */
typedef enum SourceRole
{
	SOURCE_NONE,				/* the table has no source column */
	SOURCE_KEY,					/* part of the key (weather: one row per source) */
	SOURCE_VALUE				/* replaced with the values (the latest writer) */
} SourceRole;

/* One column of a table. */
typedef struct UpsertCol
{
	const char *name;
	ColType		type;
	ColRole		role;
	size_t		offset;			/* in the row struct */
} UpsertCol;

/* One table: its columns in key order, the source column, the bulk-insert probe column. */
typedef struct UpsertTable
{
	const char *table;
	const UpsertCol *cols;
	int			ncols;
	SourceRole	source;
	int			probe_col;		/* column whose range the insert-first probe checks, -1: none */
} UpsertTable;

#define C(st, col, field, type, role) {#col, type, role, offsetof(st, field)}

static const UpsertCol DailyCols[] = {
	C(RidershipDailyRow, station_id, station, COL_STATION, COL_KEY),
	C(RidershipDailyRow, day, day, COL_DATE, COL_KEY),
	C(RidershipDailyRow, boardings, boardings, COL_COUNT4, COL_VALUE),
	C(RidershipDailyRow, alightings, alightings, COL_COUNT4, COL_VALUE),
	C(RidershipDailyRow, registered_on, registered, COL_DATE, COL_REGISTRATION),
};
static const UpsertCol HourlyCols[] = {
	C(RidershipHourlyRow, station_id, station, COL_STATION, COL_KEY),
	C(RidershipHourlyRow, ts, ts, COL_TS, COL_KEY),
	C(RidershipHourlyRow, service_day, service_day, COL_DATE, COL_VALUE),
	C(RidershipHourlyRow, boardings, boardings, COL_COUNT4, COL_VALUE),
	C(RidershipHourlyRow, alightings, alightings, COL_COUNT4, COL_VALUE),
	C(RidershipHourlyRow, passengers, passengers, COL_COUNT4, COL_VALUE),
};
static const UpsertCol ProfileCols[] = {
	C(HourProfileRow, station_id, station, COL_STATION, COL_KEY),
	C(HourProfileRow, month, month, COL_DATE, COL_KEY),
	C(HourProfileRow, hour, hour, COL_SMALL, COL_KEY),
	C(HourProfileRow, boardings, boardings, COL_COUNT8, COL_VALUE),
	C(HourProfileRow, alightings, alightings, COL_COUNT8, COL_VALUE),
	C(HourProfileRow, registered_on, registered, COL_DATE, COL_REGISTRATION),
};
static const UpsertCol WeatherDailyCols[] = {
	C(WeatherDailyRow, day, day, COL_DATE, COL_KEY),
	C(WeatherDailyRow, temp_mean_c, temp_mean, COL_F8, COL_VALUE),
	C(WeatherDailyRow, temp_min_c, temp_min, COL_F8, COL_VALUE),
	C(WeatherDailyRow, temp_max_c, temp_max, COL_F8, COL_VALUE),
	C(WeatherDailyRow, precip_mm, precip_mm, COL_F8, COL_VALUE),
	C(WeatherDailyRow, rain_mm, rain_mm, COL_F8, COL_VALUE),
	C(WeatherDailyRow, snow_cm, snow_cm, COL_F8, COL_VALUE),
};
static const UpsertCol WeatherHourlyCols[] = {
	C(WeatherHourlyRow, ts, ts, COL_TS, COL_KEY),
	C(WeatherHourlyRow, temp_c, temp_c, COL_F8, COL_VALUE),
	C(WeatherHourlyRow, precip_mm, precip_mm, COL_F8, COL_VALUE),
	C(WeatherHourlyRow, rain_mm, rain_mm, COL_F8, COL_VALUE),
	C(WeatherHourlyRow, snow_cm, snow_cm, COL_F8, COL_VALUE),
	C(WeatherHourlyRow, humidity_pct, humidity_pct, COL_F8, COL_VALUE),
	C(WeatherHourlyRow, wind_ms, wind_ms, COL_F8, COL_VALUE),
};
static const UpsertCol ForecastCols[] = {
	C(WeatherForecastRow, grain, grain_day, COL_GRAIN, COL_KEY),
	C(WeatherForecastRow, issued_at, issued_at, COL_TS, COL_KEY),
	C(WeatherForecastRow, target, target, COL_TS, COL_KEY),
	C(WeatherForecastRow, temp_c, temp_c, COL_F8, COL_VALUE),
	C(WeatherForecastRow, temp_min_c, temp_min, COL_F8, COL_VALUE),
	C(WeatherForecastRow, temp_max_c, temp_max, COL_F8, COL_VALUE),
	C(WeatherForecastRow, precip_mm, precip_mm, COL_F8, COL_VALUE),
	C(WeatherForecastRow, snow_cm, snow_cm, COL_F8, COL_VALUE),
	C(WeatherForecastRow, pop_pct, pop_pct, COL_F8, COL_VALUE),
	C(WeatherForecastRow, humidity_pct, humidity_pct, COL_F8, COL_VALUE),
	C(WeatherForecastRow, wind_ms, wind_ms, COL_F8, COL_VALUE),
	C(WeatherForecastRow, pty, pty, COL_SMALL, COL_VALUE),
	C(WeatherForecastRow, sky, sky, COL_SMALL, COL_VALUE),
};
static const UpsertCol HolidayCols[] = {
	C(HolidayRow, day, day, COL_DATE, COL_KEY),
	C(HolidayRow, name, name, COL_TEXT, COL_KEY),
	C(HolidayRow, kind, kind, COL_TEXT, COL_VALUE),
	C(HolidayRow, is_holiday, is_holiday, COL_BOOL, COL_VALUE),
};
static const UpsertCol CongestionCols[] = {
	C(CongestionRow, survey, survey, COL_TEXT, COL_KEY),
	C(CongestionRow, day_type, day_type, COL_TEXT, COL_KEY),
	C(CongestionRow, line, line, COL_TEXT, COL_KEY),
	C(CongestionRow, station_code, station_code, COL_TEXT, COL_KEY),
	C(CongestionRow, direction, direction, COL_TEXT, COL_KEY),
	C(CongestionRow, slot_start, slot_minutes, COL_SLOT, COL_KEY),
	C(CongestionRow, station, station, COL_TEXT, COL_VALUE),
	C(CongestionRow, congestion_pct, pct, COL_PCT, COL_VALUE),
};

#define T(kind, table, cols, source, probe) [kind] = {#table, cols, lengthof(cols), source, probe}

/* Every table a RowSet can be written to, by RowKind. */
static const UpsertTable Tables[] = {
	T(ROWS_RIDERSHIP_DAILY, ridership_daily, DailyCols, SOURCE_VALUE, 1),
	T(ROWS_RIDERSHIP_HOURLY, ridership_hourly, HourlyCols, SOURCE_VALUE, 1),
	T(ROWS_HOUR_PROFILE, hour_profile, ProfileCols, SOURCE_VALUE, -1),
	T(ROWS_WEATHER_DAILY, weather_daily, WeatherDailyCols, SOURCE_KEY, -1),
	T(ROWS_WEATHER_HOURLY, weather_hourly, WeatherHourlyCols, SOURCE_KEY, -1),
	T(ROWS_WEATHER_FORECAST, weather_forecast, ForecastCols, SOURCE_KEY, -1),
	T(ROWS_HOLIDAYS, holidays, HolidayCols, SOURCE_VALUE, -1),
	T(ROWS_CONGESTION, congestion_survey, CongestionCols, SOURCE_NONE, -1),
};

/* How each column type travels: element type, its SQL name, and how the SELECT list turns it into the column. */
static const struct
{
	Oid			elem;
	const char *sqltype;
	const char *select;			/* printf format of the select expression, NULL: the value as it is */
}			ColTypes[] = {
	[COL_STATION] = {INT4OID, "pg_catalog.int4", NULL},
	[COL_DATE] = {DATEOID, "pg_catalog.date", NULL},
	[COL_TS] = {TIMESTAMPTZOID, "pg_catalog.timestamptz", NULL},
	[COL_COUNT4] = {INT4OID, "pg_catalog.int4", NULL},
	[COL_COUNT8] = {INT8OID, "pg_catalog.int8", NULL},
	[COL_SMALL] = {INT2OID, "pg_catalog.int2", NULL},
	[COL_F8] = {FLOAT8OID, "pg_catalog.float8", NULL},
	[COL_TEXT] = {TEXTOID, "pg_catalog.text", NULL},
	[COL_BOOL] = {BOOLOID, "pg_catalog.bool", NULL},
	[COL_GRAIN] = {TEXTOID, "pg_catalog.text", NULL},
	[COL_SLOT] = {INT4OID, "pg_catalog.int4", "pg_catalog.make_interval(mins => u.%s)::pg_catalog.time"},
	[COL_PCT] = {FLOAT8OID, "pg_catalog.float8", "u.%s::pg_catalog.numeric"},
};

/* Compare two scalars; return from the caller when they differ. */
#define CMP(a, b) do { if ((a) != (b)) return (a) < (b) ? -1 : 1; } while (0)

/* Compare one column of two rows. */
static int
ColCmp(const UpsertCol *c, const char *a, const char *b)
{
	const void *x = a + c->offset, *y = b + c->offset;

	switch (c->type)
	{
		case COL_STATION:
		case COL_DATE:
		case COL_SMALL:
		case COL_SLOT:
			CMP(*(const int32_t *) x, *(const int32_t *) y);
			break;
		case COL_TS:
		case COL_COUNT4:
		case COL_COUNT8:
			CMP(*(const int64_t *) x, *(const int64_t *) y);
			break;
		case COL_BOOL:
		case COL_GRAIN:
			CMP(*(const bool *) x, *(const bool *) y);
			break;
		case COL_F8:
		case COL_PCT:
			CMP(*(const double *) x, *(const double *) y);
			break;
		case COL_TEXT:
			return strcmp(*(char *const *) x, *(char *const *) y);
	}
	return 0;
}

/* Compare two rows' keys (and, last, their registration when with_preference). */
static int
RowKeyCmp(const UpsertTable *t, const RowSet *rs, size_t ia, size_t ib, bool with_preference)
{
	const char *a = (const char *) rs->rows + ia * rs->rowsize;
	const char *b = (const char *) rs->rows + ib * rs->rowsize;
	int			i, c;

	for (i = 0; i < t->ncols; i++)
		if (t->cols[i].role == COL_KEY && (c = ColCmp(&t->cols[i], a, b)) != 0)
			return c;
	if (with_preference)
		for (i = 0; i < t->ncols; i++)
			if (t->cols[i].role == COL_REGISTRATION && (c = ColCmp(&t->cols[i], a, b)) != 0)
				return c;
	return 0;
}

/* Sort context: the table and RowSet an index array refers to. */
typedef struct KeyCtx
{
	const UpsertTable *t;
	const RowSet *rs;
} KeyCtx;

/* qsort_arg comparator over row indexes: key, preference, input order. */
static int
IndexCmp(const void *pa, const void *pb, void *arg)
{
	const KeyCtx *ctx = arg;
	size_t		ia = *(const size_t *) pa, ib = *(const size_t *) pb;
	int			c = RowKeyCmp(ctx->t, ctx->rs, ia, ib, true);

	if (c != 0)
		return c;
	return ia < ib ? -1 : (ia > ib);
}

/* Indexes of the rows to write: one per key, the preferred one. */
static size_t *
DedupedIndexes(const UpsertTable *t, const RowSet *rs, size_t *n)
{
	size_t	   *idx = palloc_extended(sizeof(size_t) * (rs->nrows + 1), MCXT_ALLOC_HUGE);
	size_t		i, out = 0;
	KeyCtx		ctx = {t, rs};

	for (i = 0; i < rs->nrows; i++)
		idx[i] = i;
	qsort_arg(idx, rs->nrows, sizeof(size_t), IndexCmp, &ctx);
	for (i = 0; i < rs->nrows; i++)
	{
		/* keep the last of each run of equal keys */
		if (i + 1 < rs->nrows && RowKeyCmp(t, rs, idx[i], idx[i + 1], false) == 0)
			continue;
		idx[out++] = idx[i];
	}
	*n = out;
	return idx;
}

/* A one-dimensional array of n Datums of elemtype (nulls may be NULL). */
static Datum
MakeArray(Datum *vals, bool *nulls, size_t n, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1];
	int			lbs[1] = {1};

	dims[0] = (int) n;
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(vals, nulls, 1, dims, lbs, elemtype,
											  typlen, typbyval, typalign));
}

/* The Datum of one column of a row (*isnull for the missing values: NaN, negative counts, NULL text). */
static Datum
ColValue(const UpsertCol *c, const char *row, const int32 *station_ids, bool *isnull)
{
	const void *x = row + c->offset;

	*isnull = false;
	switch (c->type)
	{
		case COL_STATION:
			return Int32GetDatum(station_ids[*(const int32_t *) x]);
		case COL_DATE:
			*isnull = *(const int32_t *) x == INT32_MIN;
			return DateADTGetDatum(*isnull ? 0 : *(const int32_t *) x);
		case COL_TS:
			return TimestampTzGetDatum(*(const int64_t *) x);
		case COL_COUNT4:
			*isnull = *(const int64_t *) x < 0;
			return Int32GetDatum(*isnull ? 0 : (int32) *(const int64_t *) x);
		case COL_COUNT8:
			*isnull = *(const int64_t *) x < 0;
			return Int64GetDatum(*isnull ? 0 : *(const int64_t *) x);
		case COL_SMALL:
			*isnull = *(const int32_t *) x < 0;
			return Int16GetDatum(*isnull ? 0 : (int16) *(const int32_t *) x);
		case COL_SLOT:
			return Int32GetDatum(*(const int32_t *) x);
		case COL_F8:
		case COL_PCT:
			*isnull = isnan(*(const double *) x);
			return Float8GetDatum(*isnull ? 0.0 : *(const double *) x);
		case COL_TEXT:
			*isnull = *(char *const *) x == NULL;
			return *isnull ? (Datum) 0 : CStringGetTextDatum(*(char *const *) x);
		case COL_BOOL:
			return BoolGetDatum(*(const bool *) x);
		case COL_GRAIN:
			return CStringGetTextDatum(*(const bool *) x ? "day" : "hour");
	}
	return (Datum) 0;
}

/* Append "a, b, c" of the columns with the given roles, each printed with fmt (one %s). */
static void
AppendCols(StringInfo s, const UpsertTable *t, unsigned roles, const char *fmt, bool source)
{
	int			i;
	bool		first = true;

	for (i = 0; i < t->ncols; i++)
	{
		if (!((1u << t->cols[i].role) & roles))
			continue;
		if (!first)
			appendStringInfoString(s, ", ");
		appendStringInfo(s, fmt, t->cols[i].name, t->cols[i].name);
		first = false;
	}
	if (source)
	{
		if (!first)
			appendStringInfoString(s, ", ");
		appendStringInfo(s, fmt, "source", "source");
	}
}

/* The INSERT ... SELECT over the column arrays ($1..$ncols, the source label last). */
static char *
InsertSql(const UpsertTable *t)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	appendStringInfo(&s, "INSERT INTO seongsu.%s AS t (", t->table);
	AppendCols(&s, t, ALL_ROLES, "%s", t->source != SOURCE_NONE);
	appendStringInfoString(&s, ") SELECT ");
	for (i = 0; i < t->ncols; i++)
	{
		const char *sel = ColTypes[t->cols[i].type].select;

		if (i > 0)
			appendStringInfoString(&s, ", ");
		if (sel)
			appendStringInfo(&s, sel, t->cols[i].name);
		else
			appendStringInfo(&s, "u.%s", t->cols[i].name);
	}
	if (t->source != SOURCE_NONE)
		appendStringInfo(&s, ", $%d", t->ncols + 1);
	/* ROWS FROM: the multi-array unnest() of the grammar exists only unqualified */
	appendStringInfoString(&s, " FROM ROWS FROM (");
	for (i = 0; i < t->ncols; i++)
		appendStringInfo(&s, "%spg_catalog.unnest($%d::%s[])", i > 0 ? ", " : "", i + 1,
						 ColTypes[t->cols[i].type].sqltype);
	appendStringInfoString(&s, ") AS u (");
	AppendCols(&s, t, ALL_ROLES, "%s", false);
	appendStringInfoChar(&s, ')');
	return s.data;
}

/* ON CONFLICT: replace the changed values, unless the stored registration is newer. */
static char *
ConflictSql(const UpsertTable *t)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	appendStringInfoString(&s, "ON CONFLICT (");
	AppendCols(&s, t, 1u << COL_KEY, "%s", t->source == SOURCE_KEY);
	appendStringInfoString(&s, ") DO UPDATE SET ");
	AppendCols(&s, t, VALUE_ROLES, "%s = EXCLUDED.%s", t->source == SOURCE_VALUE);
	appendStringInfoString(&s, ", ingested_at = pg_catalog.now() WHERE (");
	AppendCols(&s, t, VALUE_ROLES, "t.%s", false);
	appendStringInfoString(&s, ") IS DISTINCT FROM (");
	AppendCols(&s, t, VALUE_ROLES, "EXCLUDED.%s", false);
	appendStringInfoChar(&s, ')');
	for (i = 0; i < t->ncols; i++)
		if (t->cols[i].role == COL_REGISTRATION)
			appendStringInfo(&s, " AND (t.%s IS NULL OR EXCLUDED.%s IS NULL "
							 "OR EXCLUDED.%s OPERATOR(pg_catalog.>=) t.%s)",
							 t->cols[i].name, t->cols[i].name, t->cols[i].name, t->cols[i].name);
	return s.data;
}

/* Run one statement whose parameters are the given arrays/values. */
static uint64
RunUpsert(const char *sql, int nargs, Oid *types, Datum *values)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);

	if (rc != SPI_OK_INSERT && rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "upsert failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * True when a stored row may share a key with the new rows: an EXISTS over
 * their stations and the range of the n values of the table's probe column.
 */
static bool
MayConflict(const UpsertTable *t, const RowSet *rs, const int32 *ids, const Datum *times, size_t n)
{
	Oid			probe_type = ColTypes[t->cols[t->probe_col].type].elem;
	int64		lo = PG_INT64_MAX, hi = PG_INT64_MIN;
	Datum		pv[3];
	Datum	   *idv = palloc(sizeof(Datum) * (rs->nstations + 1));
	Oid			types[3] = {INT4ARRAYOID, probe_type, probe_type};
	bool		isnull;
	int			rc;
	size_t		i;
	char	   *sql;

	/* dates and timestamps are both pass-by-value integers */
	for (i = 0; i < n; i++)
	{
		int64		x = probe_type == DATEOID ? (int64) DatumGetDateADT(times[i]) : DatumGetTimestampTz(times[i]);

		lo = Min(lo, x);
		hi = Max(hi, x);
	}
	for (i = 0; i < (size_t) rs->nstations; i++)
		idv[i] = Int32GetDatum(ids[i]);
	pv[0] = MakeArray(idv, NULL, rs->nstations, INT4OID);
	pv[1] = probe_type == DATEOID ? DateADTGetDatum((DateADT) lo) : TimestampTzGetDatum(lo);
	pv[2] = probe_type == DATEOID ? DateADTGetDatum((DateADT) hi) : TimestampTzGetDatum(hi);
	sql = psprintf("SELECT EXISTS (SELECT 1 FROM seongsu.%s WHERE station_id OPERATOR(pg_catalog.=) ANY ($1) "
				   "AND %s OPERATOR(pg_catalog.>=) $2 AND %s OPERATOR(pg_catalog.<=) $3)",
				   t->table, t->cols[t->probe_col].name, t->cols[t->probe_col].name);
	rc = SPI_execute_with_args(sql, 3, types, pv, NULL, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "key probe failed: %s", SPI_result_code_string(rc));
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Bulk path for the big tables: when no stored row can share a key with the
 * new rows, a plain INSERT — half the cost of ON CONFLICT's speculative
 * insertion — runs in a subtransaction; if a concurrent writer still causes
 * a unique violation, it is rolled back and the upsert runs instead.
 */
static uint64
RunInsertFirst(const char *insert_sql, const char *upsert_sql, int nargs, Oid *types, Datum *values)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile uint64 n = 0;
	volatile bool fallback = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		n = RunUpsert(insert_sql, nargs, types, values);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			ReThrowError(edata);
		FreeErrorData(edata);
		fallback = true;
	}
	PG_END_TRY();
	if (fallback)
		n = RunUpsert(upsert_sql, nargs, types, values);
	return n;
}

/* Upsert the RowSet's stations and return their ids, by station index. */
static int32 *
ResolveStations(const RowSet *rs)
{
	int32	   *ids = palloc0(sizeof(int32) * (rs->nstations + 1));
	Datum	   *line = palloc(sizeof(Datum) * (rs->nstations + 1));
	Datum	   *name = palloc(sizeof(Datum) * (rs->nstations + 1));
	Datum	   *code = palloc(sizeof(Datum) * (rs->nstations + 1));
	bool	   *code_null = palloc(sizeof(bool) * (rs->nstations + 1));
	Datum		args[3];
	Oid			types[3] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	int32		i;
	uint64		k;
	int			rc;

	for (i = 0; i < rs->nstations; i++)
	{
		line[i] = CStringGetTextDatum(rs->stations[i].line);
		name[i] = CStringGetTextDatum(rs->stations[i].name);
		code_null[i] = rs->stations[i].metro_code == NULL;
		code[i] = code_null[i] ? (Datum) 0 : CStringGetTextDatum(rs->stations[i].metro_code);
	}
	args[0] = MakeArray(line, NULL, rs->nstations, TEXTOID);
	args[1] = MakeArray(name, NULL, rs->nstations, TEXTOID);
	args[2] = MakeArray(code, code_null, rs->nstations, TEXTOID);
	RunUpsert("INSERT INTO seongsu.stations AS s (line, name, metro_code) "
			  "SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), "
			  "pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.text[])) "
			  "ON CONFLICT (line, name) DO UPDATE SET metro_code = EXCLUDED.metro_code "
			  "WHERE s.metro_code IS NULL AND EXCLUDED.metro_code IS NOT NULL",
			  3, types, args);
	rc = SPI_execute_with_args("SELECT u.ord::pg_catalog.int4, s.id "
							   "FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), pg_catalog.unnest($2::pg_catalog.text[])) "
							   "WITH ORDINALITY AS u(line, name, ord) "
							   "JOIN seongsu.stations s ON s.line OPERATOR(pg_catalog.=) u.line "
							   "AND s.name OPERATOR(pg_catalog.=) u.name",
							   2, types, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != (uint64) rs->nstations)
		elog(ERROR, "could not resolve %d stations (rc %d, found %llu)", rs->nstations, rc, (unsigned long long) SPI_processed);
	for (k = 0; k < SPI_processed; k++)
	{
		bool		isnull;
		int32		ord = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[k],
													  SPI_tuptable->tupdesc, 1, &isnull));
		int32		id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[k],
													 SPI_tuptable->tupdesc, 2, &isnull));

		ids[ord - 1] = id;
	}
	return ids;
}

/*
 * Write every row of rs; returns how many rows were inserted or changed.
 * The caller must be connected to SPI (under the pinned search_path).
 */
uint64
UpsertRowSet(const RowSet *rs)
{
	const UpsertTable *t = &Tables[rs->kind];
	size_t		n, i;
	size_t	   *idx;
	int32	   *ids = NULL;
	Datum	   *args;
	Datum	   *probe = NULL;
	Oid		   *types;
	int			nargs = t->ncols + (t->source != SOURCE_NONE ? 1 : 0);
	int			c;
	char	   *insert_sql, *upsert_sql;
	ParseError	bad;

	if (rs->nrows == 0)
		return 0;
	/* the parsers refuse such names with the line or row; never store one */
	memset(&bad, 0, sizeof(bad));
	if (!RowSetNamesOk(rs, &bad))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("%s", bad.message),
				 errdetail("Field \"%s\" has value \"%s\". No row was written.", bad.column, bad.value)));
	idx = DedupedIndexes(t, rs, &n);
	if (rs->nstations > 0)
		ids = ResolveStations(rs);
	args = palloc(sizeof(Datum) * nargs);
	types = palloc(sizeof(Oid) * nargs);
	for (c = 0; c < t->ncols; c++)
	{
		Oid			elem = ColTypes[t->cols[c].type].elem;
		Datum	   *v = palloc_extended(sizeof(Datum) * (n + 1), MCXT_ALLOC_HUGE);
		bool	   *isnull = palloc_extended(sizeof(bool) * (n + 1), MCXT_ALLOC_HUGE);

		for (i = 0; i < n; i++)
			v[i] = ColValue(&t->cols[c], (const char *) rs->rows + idx[i] * rs->rowsize, ids, &isnull[i]);
		args[c] = MakeArray(v, isnull, n, elem);
		types[c] = get_array_type(elem);
		if (c == t->probe_col)
			probe = v;
	}
	if (t->source != SOURCE_NONE)
	{
		args[t->ncols] = CStringGetTextDatum(rs->source);
		types[t->ncols] = TEXTOID;
	}
	insert_sql = InsertSql(t);
	upsert_sql = psprintf("%s %s", insert_sql, ConflictSql(t));
	if (probe && ids && !MayConflict(t, rs, ids, probe, n))
		return RunInsertFirst(insert_sql, upsert_sql, nargs, types, args);
	return RunUpsert(upsert_sql, nargs, types, args);
}
