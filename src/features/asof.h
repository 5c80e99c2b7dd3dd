/*
 * asof.h — which version of the observed data the feature loaders read:
 * the current rows (the default), or the rows as of an instant, read
 * through the revision history (src/sql/75_versions.sql: the rows with
 * ingested_at <= T and the history rows with ingested_at <= T < valid_to).
 *
 * A loader writes its statement with "(%s)" where a versioned table would
 * stand ("FROM (%s) AS d WHERE ...", one %s per table) and gets its plan
 * from VersionPlan, or its text from VersionSql: the current table, or the
 * union of the table and its history as of the instant that training set
 * with VersionAsOfPush.
 */
#ifndef SEONGSU_ASOF_H
#define SEONGSU_ASOF_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "executor/spi.h"

/* The versioned tables, in the order of src/sql/75_versions.sql. */
typedef enum VersionTable
{
	VT_RIDERSHIP_DAILY,
	VT_RIDERSHIP_HOURLY,
	VT_HOUR_PROFILE,
	VT_WEATHER_DAILY,
	VT_WEATHER_FORECAST,
	VT_HOLIDAYS,
	VT_NTABLES
} VersionTable;

extern const char *VersionTableName(VersionTable t);
extern char *VersionSourceAt(VersionTable t, TimestampTz as_of);
extern char *VersionTimestampLiteral(TimestampTz ts);
extern bool VersionAsOf(TimestampTz *as_of);
extern void VersionAsOfPush(TimestampTz as_of);
extern void VersionAsOfPop(void);
extern char *VersionSql(const char *fmt, int ntables, const VersionTable *tables);
extern SPIPlanPtr VersionPlan(SPIPlanPtr *slot, const char *fmt, int ntables, const VersionTable *tables,
							  int nargs, Oid *types);

#endif							/* SEONGSU_ASOF_H */
