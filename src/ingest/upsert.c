/*
 * upsert.c — write a RowSet into its table: one set-based statement per
 * table, idempotent (a row whose values are unchanged is not touched) and
 * registration-aware (an older registration never replaces a newer one).
 *
 * Rows that repeat a key inside one RowSet are reduced to one first: the one
 * with the latest registration, and of equals the last in input order.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/timestamp.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"

#include <math.h>

#include "upsert.h"

/* Sort context: the RowSet whose rows an index array refers to. */
typedef struct KeyCtx
{
	const RowSet *rs;
} KeyCtx;

#define CMP(a, b) do { if ((a) != (b)) return (a) < (b) ? -1 : 1; } while (0)

/* Compare two rows' keys (and, last, their preference) for one kind. */
static int
RowKeyCmp(const RowSet *rs, size_t ia, size_t ib, bool with_preference)
{
	const char *a = (const char *) rs->rows + ia * rs->rowsize;
	const char *b = (const char *) rs->rows + ib * rs->rowsize;
	int			c;

	switch (rs->kind)
	{
		case ROWS_RIDERSHIP_DAILY:
			{
				const RidershipDailyRow *x = (const void *) a, *y = (const void *) b;

				CMP(x->station, y->station);
				CMP(x->day, y->day);
				if (with_preference)
					CMP(x->registered, y->registered);
				break;
			}
		case ROWS_RIDERSHIP_HOURLY:
			{
				const RidershipHourlyRow *x = (const void *) a, *y = (const void *) b;

				CMP(x->station, y->station);
				CMP(x->ts, y->ts);
				break;
			}
		case ROWS_HOUR_PROFILE:
			{
				const HourProfileRow *x = (const void *) a, *y = (const void *) b;

				CMP(x->station, y->station);
				CMP(x->month, y->month);
				CMP(x->hour, y->hour);
				if (with_preference)
					CMP(x->registered, y->registered);
				break;
			}
		case ROWS_WEATHER_DAILY:
			CMP(((const WeatherDailyRow *) a)->day, ((const WeatherDailyRow *) b)->day);
			break;
		case ROWS_WEATHER_HOURLY:
			CMP(((const WeatherHourlyRow *) a)->ts, ((const WeatherHourlyRow *) b)->ts);
			break;
		case ROWS_WEATHER_FORECAST:
			{
				const WeatherForecastRow *x = (const void *) a, *y = (const void *) b;

				CMP(x->grain_day, y->grain_day);
				CMP(x->issued_at, y->issued_at);
				CMP(x->target, y->target);
				break;
			}
		case ROWS_HOLIDAYS:
			{
				const HolidayRow *x = (const void *) a, *y = (const void *) b;

				CMP(x->day, y->day);
				if ((c = strcmp(x->name, y->name)) != 0)
					return c;
				break;
			}
		case ROWS_CONGESTION:
			{
				const CongestionRow *x = (const void *) a, *y = (const void *) b;

				if ((c = strcmp(x->survey, y->survey)) != 0 ||
					(c = strcmp(x->day_type, y->day_type)) != 0 ||
					(c = strcmp(x->line, y->line)) != 0 ||
					(c = strcmp(x->station_code, y->station_code)) != 0 ||
					(c = strcmp(x->direction, y->direction)) != 0)
					return c;
				CMP(x->slot_minutes, y->slot_minutes);
				break;
			}
	}
	return 0;
}

/* qsort_arg comparator over row indexes: key, preference, input order. */
static int
IndexCmp(const void *pa, const void *pb, void *arg)
{
	const KeyCtx *ctx = arg;
	size_t		ia = *(const size_t *) pa, ib = *(const size_t *) pb;
	int			c = RowKeyCmp(ctx->rs, ia, ib, true);

	if (c != 0)
		return c;
	return ia < ib ? -1 : (ia > ib);
}

/* Indexes of the rows to write: one per key, the preferred one. */
static size_t *
DedupedIndexes(const RowSet *rs, size_t *n)
{
	size_t	   *idx = palloc_extended(sizeof(size_t) * (rs->nrows + 1), MCXT_ALLOC_HUGE);
	size_t		i, out = 0;
	KeyCtx		ctx = {rs};

	for (i = 0; i < rs->nrows; i++)
		idx[i] = i;
	qsort_arg(idx, rs->nrows, sizeof(size_t), IndexCmp, &ctx);
	for (i = 0; i < rs->nrows; i++)
	{
		/* keep the last of each run of equal keys */
		if (i + 1 < rs->nrows && RowKeyCmp(rs, idx[i], idx[i + 1], false) == 0)
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

/* Column builder: values and nulls for one output column. */
typedef struct Col
{
	Datum	   *v;
	bool	   *isnull;
} Col;

/* Allocate a column of n entries. */
static Col
ColNew(size_t n)
{
	Col			c;

	c.v = palloc_extended(sizeof(Datum) * (n + 1), MCXT_ALLOC_HUGE);
	c.isnull = palloc_extended(sizeof(bool) * (n + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	return c;
}

/* Store a double, NaN as NULL. */
static void
ColF8(Col *c, size_t i, double v)
{
	c->isnull[i] = isnan(v);
	c->v[i] = Float8GetDatum(c->isnull[i] ? 0.0 : v);
}

/* Store a count, negative as NULL. */
static void
ColCount(Col *c, size_t i, int64 v, bool int4)
{
	c->isnull[i] = v < 0;
	c->v[i] = int4 ? Int32GetDatum((int32) (v < 0 ? 0 : v)) : Int64GetDatum(v < 0 ? 0 : v);
}

/* Store a date, INT32_MIN as NULL. */
static void
ColDate(Col *c, size_t i, int32 d)
{
	c->isnull[i] = d == INT32_MIN;
	c->v[i] = DateADTGetDatum(d == INT32_MIN ? 0 : d);
}

/* Store a text value. */
static void
ColText(Col *c, size_t i, const char *s)
{
	c->isnull[i] = s == NULL;
	c->v[i] = s ? CStringGetTextDatum(s) : (Datum) 0;
}

/* Run one statement whose parameters are the given arrays/values. */
static uint64
RunUpsert(const char *sql, int nargs, Oid *types, Datum *values)
{
	char		nulls[16];
	int			rc, i;

	for (i = 0; i < nargs; i++)
		nulls[i] = ' ';
	rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT && rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "upsert failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * Bulk path for the big tables: when no stored row can share a key with the
 * new rows (probe_sql, an EXISTS over the new rows' stations ($1) and time
 * range ($2..$3, of the type of the second column; probe_args), says false), a
 * plain INSERT — half the cost of ON CONFLICT's speculative insertion — runs
 * in a subtransaction; if a concurrent writer still causes a unique
 * violation, it is rolled back and the upsert runs instead.
 */
static uint64
RunInsertFirst(const char *insert_sql, const char *conflict_sql, const char *probe_sql,
			   Datum *probe_args, int nargs, Oid *types, Datum *values)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	char	   *upsert_sql = psprintf("%s %s", insert_sql, conflict_sql);
	uint64		n = 0;
	bool		fallback = false;
	bool		isnull;
	int			rc;
	Oid			probe_types[3] = {INT4ARRAYOID, get_element_type(types[1]),
	get_element_type(types[1])};

	rc = SPI_execute_with_args(probe_sql, 3, probe_types, probe_args, NULL, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "key probe failed: %s", SPI_result_code_string(rc));
	if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		return RunUpsert(upsert_sql, nargs, types, values);

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

/*
 * Probe arguments of RunInsertFirst: the RowSet's station ids and the least
 * and greatest of n time values (dates or timestamps, both int-valued).
 */
static Datum *
KeyRange(const RowSet *rs, const int32 *ids, const Datum *times, size_t n)
{
	Datum	   *out = palloc(sizeof(Datum) * 3);
	Datum	   *idv = palloc(sizeof(Datum) * (rs->nstations + 1));
	int64		lo = PG_INT64_MAX, hi = PG_INT64_MIN;
	size_t		i;
	int32		s;

	for (s = 0; s < rs->nstations; s++)
		idv[s] = Int32GetDatum(ids[s]);
	for (i = 0; i < n; i++)
	{
		int64		t = (int64) times[i];

		lo = Min(lo, t);
		hi = Max(hi, t);
	}
	out[0] = MakeArray(idv, NULL, rs->nstations, INT4OID);
	out[1] = (Datum) lo;
	out[2] = (Datum) hi;
	return out;
}

/* Upsert the RowSet's stations and return their ids, by station index. */
static int32 *
ResolveStations(const RowSet *rs)
{
	int32	   *ids = palloc0(sizeof(int32) * (rs->nstations + 1));
	Col			line = ColNew(rs->nstations), name = ColNew(rs->nstations),
				code = ColNew(rs->nstations);
	Datum		args[3];
	Oid			types[3] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	int32		i;
	uint64		k;
	int			rc;

	for (i = 0; i < rs->nstations; i++)
	{
		ColText(&line, i, rs->stations[i].line);
		ColText(&name, i, rs->stations[i].name);
		ColText(&code, i, rs->stations[i].metro_code);
	}
	args[0] = MakeArray(line.v, line.isnull, rs->nstations, TEXTOID);
	args[1] = MakeArray(name.v, name.isnull, rs->nstations, TEXTOID);
	args[2] = MakeArray(code.v, code.isnull, rs->nstations, TEXTOID);
	RunUpsert("INSERT INTO seongsu.stations AS s (line, name, metro_code) "
			  "SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) "
			  "ON CONFLICT (line, name) DO UPDATE SET metro_code = EXCLUDED.metro_code "
			  "WHERE s.metro_code IS NULL AND EXCLUDED.metro_code IS NOT NULL",
			  3, types, args);
	rc = SPI_execute_with_args("SELECT u.ord::int4, s.id FROM unnest($1::text[], $2::text[]) "
							   "WITH ORDINALITY AS u(line, name, ord) "
							   "JOIN seongsu.stations s ON s.line = u.line AND s.name = u.name",
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

/* ridership_daily */
static uint64
UpsertDaily(const RowSet *rs, const size_t *idx, size_t n, const int32 *ids)
{
	Col			c[5];
	Datum		args[6];
	Oid			types[6] = {INT4ARRAYOID, DATEARRAYOID, INT4ARRAYOID, INT4ARRAYOID,
	DATEARRAYOID, TEXTOID};
	size_t		i;
	int			j;

	for (j = 0; j < 5; j++)
		c[j] = ColNew(n);
	for (i = 0; i < n; i++)
	{
		const RidershipDailyRow *r = &((const RidershipDailyRow *) rs->rows)[idx[i]];

		c[0].v[i] = Int32GetDatum(ids[r->station]);
		ColDate(&c[1], i, r->day);
		ColCount(&c[2], i, r->boardings, true);
		ColCount(&c[3], i, r->alightings, true);
		ColDate(&c[4], i, r->registered);
	}
	args[0] = MakeArray(c[0].v, NULL, n, INT4OID);
	args[1] = MakeArray(c[1].v, NULL, n, DATEOID);
	args[2] = MakeArray(c[2].v, NULL, n, INT4OID);
	args[3] = MakeArray(c[3].v, NULL, n, INT4OID);
	args[4] = MakeArray(c[4].v, c[4].isnull, n, DATEOID);
	args[5] = CStringGetTextDatum(rs->source);
	return RunInsertFirst(
						  "INSERT INTO seongsu.ridership_daily AS t "
						  "(station_id, day, boardings, alightings, registered_on, source) "
						  "SELECT unnest($1::int4[]), unnest($2::date[]), unnest($3::int4[]), unnest($4::int4[]), "
						  "unnest($5::date[]), $6",
						  "ON CONFLICT (station_id, day) DO UPDATE SET boardings = EXCLUDED.boardings, "
						  "alightings = EXCLUDED.alightings, registered_on = EXCLUDED.registered_on, "
						  "source = EXCLUDED.source, ingested_at = now() "
						  "WHERE (t.boardings, t.alightings, t.registered_on) IS DISTINCT FROM "
						  "(EXCLUDED.boardings, EXCLUDED.alightings, EXCLUDED.registered_on) "
						  "AND (t.registered_on IS NULL OR EXCLUDED.registered_on IS NULL "
						  "OR EXCLUDED.registered_on >= t.registered_on)",
						  "SELECT EXISTS (SELECT 1 FROM seongsu.ridership_daily "
						  "WHERE station_id = ANY ($1) AND day BETWEEN $2 AND $3)",
						  KeyRange(rs, ids, c[1].v, n), 6, types, args);
}

/* ridership_hourly */
static uint64
UpsertHourly(const RowSet *rs, const size_t *idx, size_t n, const int32 *ids)
{
	Col			c[6];
	Datum		args[7];
	Oid			types[7] = {INT4ARRAYOID, TIMESTAMPTZARRAYOID, DATEARRAYOID, INT4ARRAYOID,
	INT4ARRAYOID, INT4ARRAYOID, TEXTOID};
	size_t		i;
	int			j;

	for (j = 0; j < 6; j++)
		c[j] = ColNew(n);
	for (i = 0; i < n; i++)
	{
		const RidershipHourlyRow *r = &((const RidershipHourlyRow *) rs->rows)[idx[i]];

		c[0].v[i] = Int32GetDatum(ids[r->station]);
		c[1].v[i] = TimestampTzGetDatum(r->ts);
		ColDate(&c[2], i, r->service_day);
		ColCount(&c[3], i, r->boardings, true);
		ColCount(&c[4], i, r->alightings, true);
		ColCount(&c[5], i, r->passengers, true);
	}
	args[0] = MakeArray(c[0].v, NULL, n, INT4OID);
	args[1] = MakeArray(c[1].v, NULL, n, TIMESTAMPTZOID);
	args[2] = MakeArray(c[2].v, NULL, n, DATEOID);
	args[3] = MakeArray(c[3].v, c[3].isnull, n, INT4OID);
	args[4] = MakeArray(c[4].v, c[4].isnull, n, INT4OID);
	args[5] = MakeArray(c[5].v, NULL, n, INT4OID);
	args[6] = CStringGetTextDatum(rs->source);
	return RunInsertFirst(
						  "INSERT INTO seongsu.ridership_hourly AS t "
						  "(station_id, ts, service_day, boardings, alightings, passengers, source) "
						  "SELECT unnest($1::int4[]), unnest($2::timestamptz[]), unnest($3::date[]), "
						  "unnest($4::int4[]), unnest($5::int4[]), unnest($6::int4[]), $7",
						  "ON CONFLICT (station_id, ts) DO UPDATE SET service_day = EXCLUDED.service_day, "
						  "boardings = EXCLUDED.boardings, alightings = EXCLUDED.alightings, "
						  "passengers = EXCLUDED.passengers, source = EXCLUDED.source, ingested_at = now() "
						  "WHERE (t.service_day, t.boardings, t.alightings, t.passengers) IS DISTINCT FROM "
						  "(EXCLUDED.service_day, EXCLUDED.boardings, EXCLUDED.alightings, EXCLUDED.passengers)",
						  "SELECT EXISTS (SELECT 1 FROM seongsu.ridership_hourly "
						  "WHERE station_id = ANY ($1) AND ts BETWEEN $2 AND $3)",
						  KeyRange(rs, ids, c[1].v, n), 7, types, args);
}

/* hour_profile */
static uint64
UpsertHourProfile(const RowSet *rs, const size_t *idx, size_t n, const int32 *ids)
{
	Col			c[6];
	Datum		args[7];
	Oid			types[7] = {INT4ARRAYOID, DATEARRAYOID, INT2ARRAYOID, INT8ARRAYOID,
	INT8ARRAYOID, DATEARRAYOID, TEXTOID};
	size_t		i;
	int			j;

	for (j = 0; j < 6; j++)
		c[j] = ColNew(n);
	for (i = 0; i < n; i++)
	{
		const HourProfileRow *r = &((const HourProfileRow *) rs->rows)[idx[i]];

		c[0].v[i] = Int32GetDatum(ids[r->station]);
		ColDate(&c[1], i, r->month);
		c[2].v[i] = Int16GetDatum((int16) r->hour);
		ColCount(&c[3], i, r->boardings, false);
		ColCount(&c[4], i, r->alightings, false);
		ColDate(&c[5], i, r->registered);
	}
	args[0] = MakeArray(c[0].v, NULL, n, INT4OID);
	args[1] = MakeArray(c[1].v, NULL, n, DATEOID);
	args[2] = MakeArray(c[2].v, NULL, n, INT2OID);
	args[3] = MakeArray(c[3].v, NULL, n, INT8OID);
	args[4] = MakeArray(c[4].v, NULL, n, INT8OID);
	args[5] = MakeArray(c[5].v, c[5].isnull, n, DATEOID);
	args[6] = CStringGetTextDatum(rs->source);
	return RunUpsert(
					 "INSERT INTO seongsu.hour_profile AS t "
					 "(station_id, month, hour, boardings, alightings, registered_on, source) "
					 "SELECT u.*, $7 FROM unnest($1::int4[], $2::date[], $3::int2[], $4::int8[], "
					 "$5::int8[], $6::date[]) AS u "
					 "ON CONFLICT (station_id, month, hour) DO UPDATE SET boardings = EXCLUDED.boardings, "
					 "alightings = EXCLUDED.alightings, registered_on = EXCLUDED.registered_on, "
					 "source = EXCLUDED.source, ingested_at = now() "
					 "WHERE (t.boardings, t.alightings, t.registered_on) IS DISTINCT FROM "
					 "(EXCLUDED.boardings, EXCLUDED.alightings, EXCLUDED.registered_on) "
					 "AND (t.registered_on IS NULL OR EXCLUDED.registered_on IS NULL "
					 "OR EXCLUDED.registered_on >= t.registered_on)",
					 7, types, args);
}

/* weather_daily */
static uint64
UpsertWeatherDaily(const RowSet *rs, const size_t *idx, size_t n)
{
	Col			c[7];
	Datum		args[8];
	Oid			types[8] = {DATEARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID,
	FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, TEXTOID};
	size_t		i;
	int			j;

	for (j = 0; j < 7; j++)
		c[j] = ColNew(n);
	for (i = 0; i < n; i++)
	{
		const WeatherDailyRow *r = &((const WeatherDailyRow *) rs->rows)[idx[i]];

		ColDate(&c[0], i, r->day);
		ColF8(&c[1], i, r->temp_mean);
		ColF8(&c[2], i, r->temp_min);
		ColF8(&c[3], i, r->temp_max);
		ColF8(&c[4], i, r->precip_mm);
		ColF8(&c[5], i, r->rain_mm);
		ColF8(&c[6], i, r->snow_cm);
	}
	args[0] = MakeArray(c[0].v, NULL, n, DATEOID);
	for (j = 1; j < 7; j++)
		args[j] = MakeArray(c[j].v, c[j].isnull, n, FLOAT8OID);
	args[7] = CStringGetTextDatum(rs->source);
	return RunUpsert(
					 "INSERT INTO seongsu.weather_daily AS t "
					 "(day, temp_mean_c, temp_min_c, temp_max_c, precip_mm, rain_mm, snow_cm, source) "
					 "SELECT u.*, $8 FROM unnest($1::date[], $2::float8[], $3::float8[], $4::float8[], "
					 "$5::float8[], $6::float8[], $7::float8[]) AS u "
					 "ON CONFLICT (source, day) DO UPDATE SET temp_mean_c = EXCLUDED.temp_mean_c, "
					 "temp_min_c = EXCLUDED.temp_min_c, temp_max_c = EXCLUDED.temp_max_c, "
					 "precip_mm = EXCLUDED.precip_mm, rain_mm = EXCLUDED.rain_mm, "
					 "snow_cm = EXCLUDED.snow_cm, ingested_at = now() "
					 "WHERE (t.temp_mean_c, t.temp_min_c, t.temp_max_c, t.precip_mm, t.rain_mm, t.snow_cm) "
					 "IS DISTINCT FROM (EXCLUDED.temp_mean_c, EXCLUDED.temp_min_c, EXCLUDED.temp_max_c, "
					 "EXCLUDED.precip_mm, EXCLUDED.rain_mm, EXCLUDED.snow_cm)",
					 8, types, args);
}

/* weather_hourly */
static uint64
UpsertWeatherHourly(const RowSet *rs, const size_t *idx, size_t n)
{
	Col			c[7];
	Datum		args[8];
	Oid			types[8] = {TIMESTAMPTZARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID,
	FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, TEXTOID};
	size_t		i;
	int			j;

	for (j = 0; j < 7; j++)
		c[j] = ColNew(n);
	for (i = 0; i < n; i++)
	{
		const WeatherHourlyRow *r = &((const WeatherHourlyRow *) rs->rows)[idx[i]];

		c[0].v[i] = TimestampTzGetDatum(r->ts);
		ColF8(&c[1], i, r->temp_c);
		ColF8(&c[2], i, r->precip_mm);
		ColF8(&c[3], i, r->rain_mm);
		ColF8(&c[4], i, r->snow_cm);
		ColF8(&c[5], i, r->humidity_pct);
		ColF8(&c[6], i, r->wind_ms);
	}
	args[0] = MakeArray(c[0].v, NULL, n, TIMESTAMPTZOID);
	for (j = 1; j < 7; j++)
		args[j] = MakeArray(c[j].v, c[j].isnull, n, FLOAT8OID);
	args[7] = CStringGetTextDatum(rs->source);
	return RunUpsert(
					 "INSERT INTO seongsu.weather_hourly AS t "
					 "(ts, temp_c, precip_mm, rain_mm, snow_cm, humidity_pct, wind_ms, source) "
					 "SELECT u.*, $8 FROM unnest($1::timestamptz[], $2::float8[], $3::float8[], "
					 "$4::float8[], $5::float8[], $6::float8[], $7::float8[]) AS u "
					 "ON CONFLICT (source, ts) DO UPDATE SET temp_c = EXCLUDED.temp_c, "
					 "precip_mm = EXCLUDED.precip_mm, rain_mm = EXCLUDED.rain_mm, "
					 "snow_cm = EXCLUDED.snow_cm, humidity_pct = EXCLUDED.humidity_pct, "
					 "wind_ms = EXCLUDED.wind_ms, ingested_at = now() "
					 "WHERE (t.temp_c, t.precip_mm, t.rain_mm, t.snow_cm, t.humidity_pct, t.wind_ms) "
					 "IS DISTINCT FROM (EXCLUDED.temp_c, EXCLUDED.precip_mm, EXCLUDED.rain_mm, "
					 "EXCLUDED.snow_cm, EXCLUDED.humidity_pct, EXCLUDED.wind_ms)",
					 8, types, args);
}

/* weather_forecast */
static uint64
UpsertForecast(const RowSet *rs, const size_t *idx, size_t n)
{
	Col			c[13];
	Datum		args[14];
	Oid			types[14] = {TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID,
		FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID,
	FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, INT2ARRAYOID, INT2ARRAYOID, TEXTOID};
	size_t		i;
	int			j;

	for (j = 0; j < 13; j++)
		c[j] = ColNew(n);
	for (i = 0; i < n; i++)
	{
		const WeatherForecastRow *r = &((const WeatherForecastRow *) rs->rows)[idx[i]];

		c[0].v[i] = TimestampTzGetDatum(r->issued_at);
		c[1].v[i] = TimestampTzGetDatum(r->target);
		ColText(&c[2], i, r->grain_day ? "day" : "hour");
		ColF8(&c[3], i, r->temp_c);
		ColF8(&c[4], i, r->temp_min);
		ColF8(&c[5], i, r->temp_max);
		ColF8(&c[6], i, r->precip_mm);
		ColF8(&c[7], i, r->snow_cm);
		ColF8(&c[8], i, r->pop_pct);
		ColF8(&c[9], i, r->humidity_pct);
		ColF8(&c[10], i, r->wind_ms);
		c[11].isnull[i] = r->pty < 0;
		c[11].v[i] = Int16GetDatum((int16) (r->pty < 0 ? 0 : r->pty));
		c[12].isnull[i] = r->sky < 0;
		c[12].v[i] = Int16GetDatum((int16) (r->sky < 0 ? 0 : r->sky));
	}
	args[0] = MakeArray(c[0].v, NULL, n, TIMESTAMPTZOID);
	args[1] = MakeArray(c[1].v, NULL, n, TIMESTAMPTZOID);
	args[2] = MakeArray(c[2].v, NULL, n, TEXTOID);
	for (j = 3; j < 11; j++)
		args[j] = MakeArray(c[j].v, c[j].isnull, n, FLOAT8OID);
	args[11] = MakeArray(c[11].v, c[11].isnull, n, INT2OID);
	args[12] = MakeArray(c[12].v, c[12].isnull, n, INT2OID);
	args[13] = CStringGetTextDatum(rs->source);
	return RunUpsert(
					 "INSERT INTO seongsu.weather_forecast AS t "
					 "(issued_at, target, grain, temp_c, temp_min_c, temp_max_c, precip_mm, snow_cm, "
					 "pop_pct, humidity_pct, wind_ms, pty, sky, source) "
					 "SELECT u.*, $14 FROM unnest($1::timestamptz[], $2::timestamptz[], $3::text[], "
					 "$4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], "
					 "$10::float8[], $11::float8[], $12::int2[], $13::int2[]) AS u "
					 "ON CONFLICT (source, grain, issued_at, target) DO UPDATE SET temp_c = EXCLUDED.temp_c, "
					 "temp_min_c = EXCLUDED.temp_min_c, temp_max_c = EXCLUDED.temp_max_c, "
					 "precip_mm = EXCLUDED.precip_mm, snow_cm = EXCLUDED.snow_cm, pop_pct = EXCLUDED.pop_pct, "
					 "humidity_pct = EXCLUDED.humidity_pct, wind_ms = EXCLUDED.wind_ms, pty = EXCLUDED.pty, "
					 "sky = EXCLUDED.sky, ingested_at = now() "
					 "WHERE (t.temp_c, t.temp_min_c, t.temp_max_c, t.precip_mm, t.snow_cm, t.pop_pct, "
					 "t.humidity_pct, t.wind_ms, t.pty, t.sky) IS DISTINCT FROM (EXCLUDED.temp_c, "
					 "EXCLUDED.temp_min_c, EXCLUDED.temp_max_c, EXCLUDED.precip_mm, EXCLUDED.snow_cm, "
					 "EXCLUDED.pop_pct, EXCLUDED.humidity_pct, EXCLUDED.wind_ms, EXCLUDED.pty, EXCLUDED.sky)",
					 14, types, args);
}

/* holidays */
static uint64
UpsertHolidays(const RowSet *rs, const size_t *idx, size_t n)
{
	Col			c[4];
	Datum		args[5];
	Oid			types[5] = {DATEARRAYOID, TEXTARRAYOID, TEXTARRAYOID, BOOLARRAYOID, TEXTOID};
	size_t		i;
	int			j;

	for (j = 0; j < 4; j++)
		c[j] = ColNew(n);
	for (i = 0; i < n; i++)
	{
		const HolidayRow *r = &((const HolidayRow *) rs->rows)[idx[i]];

		ColDate(&c[0], i, r->day);
		ColText(&c[1], i, r->name);
		ColText(&c[2], i, r->kind);
		c[3].v[i] = BoolGetDatum(r->is_holiday);
	}
	args[0] = MakeArray(c[0].v, NULL, n, DATEOID);
	args[1] = MakeArray(c[1].v, NULL, n, TEXTOID);
	args[2] = MakeArray(c[2].v, NULL, n, TEXTOID);
	args[3] = MakeArray(c[3].v, NULL, n, BOOLOID);
	args[4] = CStringGetTextDatum(rs->source);
	return RunUpsert(
					 "INSERT INTO seongsu.holidays AS t (day, name, kind, is_holiday, source) "
					 "SELECT u.*, $5 FROM unnest($1::date[], $2::text[], $3::text[], $4::bool[]) AS u "
					 "ON CONFLICT (day, name) DO UPDATE SET kind = EXCLUDED.kind, "
					 "is_holiday = EXCLUDED.is_holiday, source = EXCLUDED.source, ingested_at = now() "
					 "WHERE (t.kind, t.is_holiday) IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.is_holiday)",
					 5, types, args);
}

/* congestion_survey */
static uint64
UpsertCongestion(const RowSet *rs, const size_t *idx, size_t n)
{
	Col			c[8];
	Datum		args[8];
	Oid			types[8] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID, FLOAT8ARRAYOID};
	size_t		i;
	int			j;

	for (j = 0; j < 8; j++)
		c[j] = ColNew(n);
	for (i = 0; i < n; i++)
	{
		const CongestionRow *r = &((const CongestionRow *) rs->rows)[idx[i]];

		ColText(&c[0], i, r->survey);
		ColText(&c[1], i, r->day_type);
		ColText(&c[2], i, r->line);
		ColText(&c[3], i, r->station_code);
		ColText(&c[4], i, r->station);
		ColText(&c[5], i, r->direction);
		c[6].v[i] = Int32GetDatum(r->slot_minutes);
		ColF8(&c[7], i, r->pct);
	}
	for (j = 0; j < 6; j++)
		args[j] = MakeArray(c[j].v, NULL, n, TEXTOID);
	args[6] = MakeArray(c[6].v, NULL, n, INT4OID);
	args[7] = MakeArray(c[7].v, NULL, n, FLOAT8OID);
	return RunUpsert(
					 "INSERT INTO seongsu.congestion_survey AS t "
					 "(survey, day_type, line, station_code, station, direction, slot_start, congestion_pct) "
					 "SELECT u.s, u.d, u.l, u.c, u.st, u.dir, make_interval(mins => u.m)::time, u.p::numeric "
					 "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
					 "$7::int4[], $8::float8[]) AS u(s, d, l, c, st, dir, m, p) "
					 "ON CONFLICT (survey, day_type, line, station_code, direction, slot_start) "
					 "DO UPDATE SET station = EXCLUDED.station, congestion_pct = EXCLUDED.congestion_pct, "
					 "ingested_at = now() "
					 "WHERE (t.station, t.congestion_pct) IS DISTINCT FROM (EXCLUDED.station, EXCLUDED.congestion_pct)",
					 8, types, args);
}

/*
 * Write every row of rs; returns how many rows were inserted or changed.
 * The caller must be connected to SPI.
 */
uint64
UpsertRowSet(const RowSet *rs)
{
	size_t		n;
	size_t	   *idx;
	int32	   *ids = NULL;
	uint64		written = 0;

	if (rs->nrows == 0)
		return 0;
	idx = DedupedIndexes(rs, &n);
	if (rs->nstations > 0)
		ids = ResolveStations(rs);
	switch (rs->kind)
	{
		case ROWS_RIDERSHIP_DAILY:
			written = UpsertDaily(rs, idx, n, ids);
			break;
		case ROWS_RIDERSHIP_HOURLY:
			written = UpsertHourly(rs, idx, n, ids);
			break;
		case ROWS_HOUR_PROFILE:
			written = UpsertHourProfile(rs, idx, n, ids);
			break;
		case ROWS_WEATHER_DAILY:
			written = UpsertWeatherDaily(rs, idx, n);
			break;
		case ROWS_WEATHER_HOURLY:
			written = UpsertWeatherHourly(rs, idx, n);
			break;
		case ROWS_WEATHER_FORECAST:
			written = UpsertForecast(rs, idx, n);
			break;
		case ROWS_HOLIDAYS:
			written = UpsertHolidays(rs, idx, n);
			break;
		case ROWS_CONGESTION:
			written = UpsertCongestion(rs, idx, n);
			break;
	}
	return written;
}
