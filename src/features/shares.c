/*
 * shares.c — hour-of-day shares by day type, and crowd-level thresholds.
 *
 * Shares come from the station's hourly data: for each of the eight day
 * types of calendar.h (0 working Monday, 1 working Tuesday-Thursday,
 * 2 working Friday, 3 Saturday, 4 Sunday, 5 public holiday outside a
 * 설날/추석 block, 6 day off inside one, 7 special day) the mean share of
 * each hour over the last 4 complete service days of that type (at least
 * 18 hours, a positive total; at or before the training end, at most
 * SHARES_LOOKBACK_DAYS before the latest such day).  A type with no such
 * day takes another's: special and lunar days the holidays', holidays
 * Sunday's; then the mean of all complete days read.  With no hourly data,
 * the latest CardSubwayTime month gives one profile for every type.  The crowd levels are the 50th, 80th and 95th percentiles of the
 * hourly passengers (hours 05-24) implied by the last 365 training days.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/date.h"

#include "asof.h"
#include "holidays.h"
#include "../kst.h"
#include "../ml/metrics.h"
#include "shares.h"

#define LAST_DAYS_PER_TYPE 4
#define SHARES_LOOKBACK_DAYS 800	/* hourly days read before the latest */

static const VersionTable profile_tables[2] = {VT_HOUR_PROFILE, VT_HOUR_PROFILE};
static const VersionTable hourly_tables[2] = {VT_RIDERSHIP_HOURLY, VT_RIDERSHIP_HOURLY};

/* Shares from the latest CardSubwayTime month (caller has SPI); false when none. */
static bool
SharesFromProfile(int32 station_id, int32 up_to, double *shares)
{
	Oid			types[2] = {INT4OID, DATEOID};
	Datum		v[2];
	double		h[24] = {0}, total = 0;
	uint64		i;
	int			t, k;

	v[0] = Int32GetDatum(station_id);
	v[1] = DateADTGetDatum(up_to);
	if (SPI_execute_with_args(VersionSql("SELECT hour, (boardings OPERATOR(pg_catalog.+) alightings)::pg_catalog.float8 "
										 "FROM (%s) AS p WHERE station_id OPERATOR(pg_catalog.=) $1 "
										 "AND month OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(month) FROM (%s) AS q "
										 "WHERE station_id OPERATOR(pg_catalog.=) $1 AND month OPERATOR(pg_catalog.<=) $2)",
										 2, profile_tables),
							  2, types, v, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.hour_profile");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		n1, n2;
		int			hour = DatumGetInt16(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &n1));
		double		x = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &n2));

		if (hour >= 0 && hour < 24)
		{
			h[hour] += x;
			total += x;
		}
	}
	if (total <= 0)
		return false;
	for (t = 0; t < CAL_NDAYTYPES; t++)
		for (k = 0; k < 24; k++)
			shares[t * 24 + k] = h[k] / total;
	return true;
}

/* The day type whose shares type t takes: itself when it has days, else its fallback's. */
static int
SharesFallback(int t, const int *used)
{
	while (t >= 0 && used[t] == 0)
		t = t == CAL_DAYTYPE_SPECIAL || t == CAL_DAYTYPE_LUNAR ? CAL_DAYTYPE_HOLIDAY
			: t == CAL_DAYTYPE_HOLIDAY ? CAL_DAYTYPE_SUNDAY : -1;
	return t;
}

/*
 * Hour shares by day type at or before up_to (caller has SPI); false when
 * the station has neither hourly data nor a CardSubwayTime profile.
 */
bool
SharesCompute(int32 station_id, int32 up_to, double *shares)
{
	Oid			types[2] = {INT4OID, DATEOID};
	Datum		v[2];
	uint64		i, nrows;
	int32		first_day = 0, last_day = 0;
	double	   *hours;			/* [day][24] */
	int		   *present;
	int			ndays, t, k, used[CAL_NDAYTYPES] = {0};
	double		all[24] = {0}, sum[SHARES_N] = {0};
	int			nall = 0;
	HolidaySet *hs;

	v[0] = Int32GetDatum(station_id);
	v[1] = DateADTGetDatum(up_to);
	if (SPI_execute_with_args(VersionSql("SELECT service_day, extract(hour FROM ts AT TIME ZONE 'Asia/Seoul')::pg_catalog.int4, "
										 "passengers::pg_catalog.float8 FROM (%s) AS h "
										 "WHERE station_id OPERATOR(pg_catalog.=) $1 AND service_day OPERATOR(pg_catalog.<=) $2 "
										 "AND service_day OPERATOR(pg_catalog.>) (SELECT pg_catalog.max(service_day) "
										 "OPERATOR(pg_catalog.-) " CppAsString2(SHARES_LOOKBACK_DAYS) " FROM (%s) AS m "
										 "WHERE station_id OPERATOR(pg_catalog.=) $1 AND service_day OPERATOR(pg_catalog.<=) $2)",
										 2, hourly_tables),
							  2, types, v, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.ridership_hourly");
	nrows = SPI_processed;
	if (nrows == 0)
		return SharesFromProfile(station_id, up_to, shares);
	for (i = 0; i < nrows; i++)
	{
		bool		isnull;
		int32		d = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		if (i == 0 || d < first_day)
			first_day = d;
		if (i == 0 || d > last_day)
			last_day = d;
	}
	ndays = last_day - first_day + 1;
	hours = palloc0(sizeof(double) * ndays * 24);
	present = palloc0(sizeof(int) * ndays);
	for (i = 0; i < nrows; i++)
	{
		bool		n1, n2, n3;
		int32		d = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &n1));
		int			h = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &n2));
		double		x = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &n3));

		if (!n3 && h >= 0 && h < 24)
		{
			hours[(d - first_day) * 24 + h] = x;
			present[d - first_day]++;
		}
	}
	hs = HolidaySetLoad(first_day - 40, last_day + 40);
	for (k = ndays - 1; k >= 0; k--)
	{
		double		total = 0;
		int			h;

		if (present[k] < 18)
			continue;
		for (h = 0; h < 24; h++)
			total += hours[k * 24 + h];
		if (total <= 0)
			continue;
		for (h = 0; h < 24; h++)
			all[h] += hours[k * 24 + h] / total;
		nall++;
		t = CalendarDayTypeOf(hs, first_day + k);
		if (used[t] >= LAST_DAYS_PER_TYPE)
			continue;
		for (h = 0; h < 24; h++)
			sum[t * 24 + h] += hours[k * 24 + h] / total;
		used[t]++;
	}
	if (nall == 0)
		return SharesFromProfile(station_id, up_to, shares);
	for (t = 0; t < CAL_NDAYTYPES; t++)
	{
		int			from = SharesFallback(t, used);

		for (k = 0; k < 24; k++)
			shares[t * 24 + k] = from >= 0 ? sum[from * 24 + k] / used[from] : all[k] / nall;
	}
	return true;
}

/* Crowd thresholds (passengers per hour) from the last 365 rows of d; false without shares. */
bool
SharesLevels(const Dataset *d, const double *shares, double *levels)
{
	int			from = Max(0, d->n - 365);
	int			i, h, n = 0;
	double	   *vals;
	HolidaySet *hs;
	static const int service_hours[20] = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 0};

	if (!shares || d->n == 0)
		return false;
	hs = HolidaySetLoad(d->day[from] - 40, d->day[d->n - 1] + 40);
	vals = palloc(sizeof(double) * (d->n - from) * 20 + 1);
	for (i = from; i < d->n; i++)
	{
		int			t = CalendarDayTypeOf(hs, d->day[i]);

		for (h = 0; h < 20; h++)
			vals[n++] = d->target[i] * shares[t * 24 + service_hours[h]];
	}
	if (n == 0)
		return false;
	levels[0] = MlQuantile(vals, n, 0.50);
	levels[1] = MlQuantile(vals, n, 0.80);
	levels[2] = MlQuantile(vals, n, 0.95);
	return true;
}
