/*
 * features.c — the SQL functions seongsu.features (every feature row of a
 * station in one pass; the rows: feature_row.c, from series.c's derived
 * series and weather.c's weather), seongsu.calendar_features and
 * seongsu.feature_columns, and the argument checks they share.
 * Semantics: feature_row.c and docs/features.md.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "../kst.h"
#include "../names.h"
#include "../safe_spi.h"
#include "asof.h"
#include "calendar.h"
#include "climatology.h"
#include "features.h"
#include "holidays.h"

/* The columns of feature_list.h. */
const FeatureInfo FeatureInfos[FEATURE_NCOLS] = {
#define X(name, kind, flags, description) {#name, kind, flags, description},
	FEATURE_LIST(X)
#undef X
};

PG_FUNCTION_INFO_V1(features);
PG_FUNCTION_INFO_V1(calendar_features);
PG_FUNCTION_INFO_V1(feature_columns);

#define MAX_ROWS 20000000
#define MAX_DAYS (MAX_ROWS / 24)	/* per-day inputs (weather, holidays) of one call */

/* ERROR when a station or line name given to a function could never be stored (NameProblem). */
static void
CheckName(const char *field, const char *name)
{
	const char *why = NameProblem(name, strlen(name));
	char		shown[96];

	if (!why)
		return;
	NameEscape(name, strlen(name), shown, sizeof(shown));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s name %s", field, why),
			 errdetail("The %s name is \"%s\".", field, shown),
			 errhint("Station and line names are printable text, as the sources spell them (see seongsu.stations).")));
}

/* Resolve (station, line) to its id, or ERROR (caller has SPI). */
int32
FeatureStationId(const char *station, const char *line)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	bool		isnull;
	int32		id;

	CheckName("station", station);
	CheckName("line", line);
	v[0] = CStringGetTextDatum(line);
	v[1] = CStringGetTextDatum(station);
	if (SPI_execute_with_args("SELECT id FROM seongsu.stations WHERE line OPERATOR(pg_catalog.=) $1 "
							  "AND name OPERATOR(pg_catalog.=) $2",
							  2, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.stations");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("station \"%s\" on line \"%s\" is unknown", station, line),
				 errhint("Stations come from imported or ingested ridership; see seongsu.stations.")));
	id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return id;
}

/* A PostgreSQL date as YYYY-MM-DD (whatever the DateStyle). */
char *
IsoDate(int32 d)
{
	int			y, m, dd;

	KstPgDateParts(d, &y, &m, &dd);
	return psprintf("%04d-%02d-%02d", y, m, dd);
}

/* Steps of an interval for a grain (ceil), or ERROR. */
int64
FeatureHorizonSteps(Interval *iv, int per_day)
{
	int64		us;
	int64		step = per_day == 1 ? USECS_PER_DAY : USECS_PER_HOUR;

	if (iv->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon must not use months or years"),
				 errhint("Write it in days or hours, e.g. '28 days'.")));
	if (pg_mul_s64_overflow((int64) iv->day, USECS_PER_DAY, &us) || pg_add_s64_overflow(us, iv->time, &us))
		us = iv->day > 0 ? PG_INT64_MAX : PG_INT64_MIN;	/* far out of range either way */
	if (us <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon must be positive"),
				 errhint("The horizon is how far ahead of the last observation a row is predicted, e.g. '1 day' or '7 days'.")));
	if (us > FEATURE_MAX_HORIZON_DAYS * USECS_PER_DAY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon must be at most %d days", FEATURE_MAX_HORIZON_DAYS)));
	return (us + step - 1) / step;
}

/* The steps of [from_ts, to_ts] for a grain: KST days, or whole hours. */
void
FeatureStepRange(TimestampTz from_ts, TimestampTz to_ts, int per_day, int64 *first, int64 *last)
{
	if (per_day == 1)
	{
		*first = KstDateOf(from_ts);
		*last = KstDateOf(to_ts);
	}
	else
	{
		*first = -FeatureFloorDiv(-from_ts, USECS_PER_HOUR);
		*last = FeatureFloorDiv(to_ts, USECS_PER_HOUR);
	}
}

/* Steps per day of a grain name, or ERROR. */
int
FeatureGrain(const char *grain)
{
	if (strcmp(grain, "daily") == 0)
		return 1;
	if (strcmp(grain, "hourly") == 0)
		return 24;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown grain \"%s\"", grain),
			 errhint("Use 'daily' or 'hourly'.")));
	return 0;
}

/* The type OID of a feature column kind. */
static Oid
FeatureTypeOid(FeatureKind kind)
{
	static const Oid oids[] = {
		[FK_TS] = TIMESTAMPTZOID, [FK_DATE] = DATEOID, [FK_INT] = INT4OID,
		[FK_F8] = FLOAT8OID, [FK_BOOL] = BOOLOID, [FK_TEXT] = TEXTOID
	};

	return oids[kind];
}

/*
 * The feature column of each column of a declared result row (-1: none):
 * the column of that name and type among those with all of `flags`.  The
 * installed SQL declaration is the current list after an update; before
 * ALTER EXTENSION UPDATE it is an earlier release's, which is served by
 * name (its columns that no longer exist are NULL).  Sets *identity when
 * the declaration is exactly the list's columns with those flags, in order.
 */
static int *
ResultMap(TupleDesc desc, int flags, bool *identity)
{
	int		   *map = palloc(sizeof(int) * (desc->natts + 1));
	int			i, col, k = 0;

	*identity = true;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		map[i] = -1;
		for (col = 0; col < FEATURE_NCOLS; col++)
			if ((FeatureInfos[col].flags & flags) == flags &&
				strcmp(NameStr(a->attname), FeatureInfos[col].name) == 0 &&
				a->atttypid == FeatureTypeOid(FeatureInfos[col].kind))
				map[i] = col;
	}
	for (col = 0; col < FEATURE_NCOLS; col++)
		if ((FeatureInfos[col].flags & flags) == flags && (k >= desc->natts || map[k++] != col))
			*identity = false;
	if (k != desc->natts)
		*identity = false;
	return map;
}

/* Copy a feature row into the declared result columns of map (unmapped ones NULL). */
static void
MapRow(const int *map, int natts, const Datum *v, const bool *n, Datum *out, bool *outn)
{
	int			i;

	for (i = 0; i < natts; i++)
	{
		outn[i] = map[i] < 0 || n[map[i]];
		out[i] = outn[i] ? (Datum) 0 : v[map[i]];
	}
}

/*
 * features(station, line, from_ts, to_ts, grain, horizon): every feature row
 * in [from_ts, to_ts], computed in one pass over dense arrays.
 */
Datum
features(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *station = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *line = text_to_cstring(PG_GETARG_TEXT_PP(1));
	TimestampTz from_ts = PG_GETARG_TIMESTAMPTZ(2);
	TimestampTz to_ts = PG_GETARG_TIMESTAMPTZ(3);
	int			P = FeatureGrain(text_to_cstring(PG_GETARG_TEXT_PP(4)));
	int64		H = FeatureHorizonSteps(PG_GETARG_INTERVAL_P(5), P);
	int64		first, last, s;
	int32		station_id;
	FeatureCtx *ctx;
	MemoryContext rowcxt, old;
	Datum		v[FEATURE_NCOLS], *out;
	bool		n[FEATURE_NCOLS], *outn, identity;
	int		   *map;
	int			spi;

	if (TIMESTAMP_NOT_FINITE(from_ts) || TIMESTAMP_NOT_FINITE(to_ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from_ts and to_ts must be finite")));
	if (to_ts < from_ts)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from_ts is after to_ts"),
				 errhint("Give the earlier instant first.")));
	/* bounded before anything is loaded or allocated for the range */
	FeatureStepRange(from_ts, to_ts, P, &first, &last);
	if (last - first + 1 > MAX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("features() returns at most %d rows per call", MAX_ROWS),
				 errhint("Ask for a shorter range.")));
	if (FeatureServiceDay(last, P) - FeatureServiceDay(first, P) + 1 > MAX_DAYS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("features() covers at most %d days per call", MAX_DAYS),
				 errhint("Ask for a shorter range.")));
	InitMaterializedSRF(fcinfo, 0);
	out = palloc(sizeof(Datum) * (rsinfo->setDesc->natts + 1));
	outn = palloc(sizeof(bool) * (rsinfo->setDesc->natts + 1));
	spi = SsSpiConnect();
	station_id = FeatureStationId(station, line);
	SsSpiFinish(spi);
	map = ResultMap(rsinfo->setDesc, 0, &identity);
	ctx = FeatureCtxLoad(station_id, first, last, P, H, CurrentMemoryContext);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "feature row", ALLOCSET_SMALL_SIZES);
	for (s = first; s <= last; s++)
	{
		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(rowcxt);
		FeatureRow(ctx, s, H, v, n);
		if (!identity)
			MapRow(map, rsinfo->setDesc->natts, v, n, out, outn);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, identity ? v : out, identity ? n : outn);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	return (Datum) 0;
}

/* calendar_features(ts): the calendar columns (F_CALENDAR) of the KST day and hour of ts. */
Datum
calendar_features(PG_FUNCTION_ARGS)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);
	TupleDesc	desc;
	HolidaySet *hs;
	CalendarDay c;
	int32		day;
	int			hour, *map;
	bool		identity;
	Datum		v[FEATURE_NCOLS], *out;
	bool		n[FEATURE_NCOLS], *outn;

	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ts must be finite")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "calendar_features must return a row");
	day = KstDateOf(ts);
	hour = KstHourOf(ts);
	hs = HolidaySetLoad(day - 40, day + 40);
	CalendarCompute(hs, day, &c);
	memset(n, 0, sizeof(n));
	v[FCOL_kst_date] = DateADTGetDatum(day);
	v[FCOL_hour] = Int32GetDatum(hour);
	FeaturePutCalendar(v, n, &c, hour);
	map = ResultMap(desc, F_CALENDAR, &identity);
	out = palloc(sizeof(Datum) * (desc->natts + 1));
	outn = palloc(sizeof(bool) * (desc->natts + 1));
	MapRow(map, desc->natts, v, n, out, outn);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), out, outn)));
}

/* The SQL type of a feature column kind. */
const char *
FeatureSqlType(FeatureKind kind)
{
	static const char *const types[] = {
		[FK_TS] = "timestamp with time zone", [FK_DATE] = "date", [FK_INT] = "integer",
		[FK_F8] = "double precision", [FK_BOOL] = "boolean", [FK_TEXT] = "text"
	};

	return types[kind];
}

/*
 * feature_columns(): every column of seongsu.features (feature_list.h):
 * ordinal, name, SQL type, whether models learn from it, whether
 * calendar_features returns it, and what it is.  The install script builds
 * the two functions' output lists from it.
 */
Datum
feature_columns(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			col;

	InitMaterializedSRF(fcinfo, 0);
	for (col = 0; col < FEATURE_NCOLS; col++)
	{
		const FeatureInfo *f = &FeatureInfos[col];
		Datum		v[6];
		bool		n[6] = {false, false, false, false, false, false};

		v[0] = Int32GetDatum(col + 1);
		v[1] = CStringGetTextDatum(f->name);
		v[2] = CStringGetTextDatum(FeatureSqlType(f->kind));
		v[3] = BoolGetDatum((f->flags & F_MODEL) != 0);
		v[4] = BoolGetDatum((f->flags & F_CALENDAR) != 0);
		v[5] = CStringGetTextDatum(f->description);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}
