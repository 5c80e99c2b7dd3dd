/*
 * asof.c — the current or the as-of version of a versioned table, for the
 * feature loaders (asof.h).
 *
 * The instant is a backend-local setting that training pushes around the
 * loads of one train() call (VersionAsOfPush / VersionAsOfPop, the pop in
 * a PG_FINALLY); statements name it as a timestamptz literal in UTC, so the
 * text is the same in every session, whatever its TimeZone or DateStyle,
 * and parallel workers read the same version.  Plans are kept for the
 * current tables only: an as-of statement is planned on each use (training
 * reads each table a few times).
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "../safe_spi.h"
#include "asof.h"

/* Every column of each versioned table, in table order (the history has them too). */
static const struct
{
	const char *name;
	const char *columns;
}			Tables[VT_NTABLES] = {
	[VT_RIDERSHIP_DAILY] = {"ridership_daily",
	"station_id, day, boardings, alightings, passengers, source, registered_on, ingested_at"},
	[VT_RIDERSHIP_HOURLY] = {"ridership_hourly",
	"station_id, ts, service_day, boardings, alightings, passengers, source, ingested_at"},
	[VT_HOUR_PROFILE] = {"hour_profile",
	"station_id, month, hour, boardings, alightings, source, registered_on, ingested_at"},
	[VT_WEATHER_DAILY] = {"weather_daily",
	"source, day, temp_mean_c, temp_min_c, temp_max_c, precip_mm, rain_mm, snow_cm, ingested_at"},
	[VT_WEATHER_FORECAST] = {"weather_forecast",
		"source, issued_at, target, grain, temp_c, temp_min_c, temp_max_c, precip_mm, snow_cm, pop_pct, "
	"humidity_pct, wind_ms, pty, sky, ingested_at"},
	[VT_HOLIDAYS] = {"holidays", "day, name, kind, is_holiday, source, ingested_at"},
};

static bool as_of_set = false;
static TimestampTz as_of_value;

/* The table's name (without schema). */
const char *
VersionTableName(VersionTable t)
{
	return Tables[t].name;
}

/* ts as a timestamptz literal in UTC ('2025-06-01 03:00:00.123456+00'), whatever the session's settings. */
char *
VersionTimestampLiteral(TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(ts) || timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "version instant out of range");
	return psprintf("'%04d-%02d-%02d %02d:%02d:%02d.%06d+00'::pg_catalog.timestamptz",
					tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

/* The rows of table t as of an instant: its rows and its history's, of versions current then. */
char *
VersionSourceAt(VersionTable t, TimestampTz as_of)
{
	char	   *at = VersionTimestampLiteral(as_of);

	return psprintf("SELECT %s FROM seongsu.%s WHERE ingested_at OPERATOR(pg_catalog.<=) %s "
					"UNION ALL SELECT %s FROM seongsu.%s_history "
					"WHERE ingested_at OPERATOR(pg_catalog.<=) %s AND valid_to OPERATOR(pg_catalog.>) %s",
					Tables[t].columns, Tables[t].name, at, Tables[t].columns, Tables[t].name, at, at);
}

/* The instant the loaders read as of, into *as_of; false when they read the current rows. */
bool
VersionAsOf(TimestampTz *as_of)
{
	if (as_of_set && as_of)
		*as_of = as_of_value;
	return as_of_set;
}

/* Make the loaders read the data as of as_of until VersionAsOfPop (not nested). */
void
VersionAsOfPush(TimestampTz as_of)
{
	if (as_of_set)
		elog(ERROR, "the data are already read as of an instant");
	as_of_value = as_of;
	as_of_set = true;
}

/* Make the loaders read the current rows again. */
void
VersionAsOfPop(void)
{
	as_of_set = false;
}

/* fmt with each "%s" replaced by the source of the next table: "SELECT * FROM seongsu.<t>", or as of the pushed instant. */
char *
VersionSql(const char *fmt, int ntables, const VersionTable *tables)
{
	StringInfoData s;
	const char *p;
	int			k = 0;

	initStringInfo(&s);
	for (p = fmt; *p; p++)
	{
		if (p[0] == '%' && p[1] == 's')
		{
			if (k >= ntables)
				elog(ERROR, "more table places than tables in \"%s\"", fmt);
			if (as_of_set)
				appendStringInfoString(&s, VersionSourceAt(tables[k], as_of_value));
			else
				appendStringInfo(&s, "SELECT * FROM seongsu.%s", Tables[tables[k]].name);
			k++;
			p++;
		}
		else
			appendStringInfoChar(&s, *p);
	}
	if (k != ntables)
		elog(ERROR, "fewer table places than tables in \"%s\"", fmt);
	return s.data;
}

/*
 * The plan of fmt over the tables (caller has SPI): for the current rows,
 * kept in *slot for the backend's life; as of an instant, prepared now
 * (freed with the SPI connection).
 */
SPIPlanPtr
VersionPlan(SPIPlanPtr *slot, const char *fmt, int ntables, const VersionTable *tables, int nargs, Oid *types)
{
	SPIPlanPtr	plan;
	char	   *sql;

	if (!as_of_set && *slot)
		return *slot;
	sql = VersionSql(fmt, ntables, tables);
	if (!as_of_set)
		return KeptPlan(slot, sql, nargs, types);
	plan = SPI_prepare(sql, nargs, types);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	return plan;
}
