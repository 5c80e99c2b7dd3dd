/*
 * features.c — seongsu.features (every feature row of a station in one pass)
 * and seongsu.calendar_features.
 *
 * Semantics (README "Features"):
 *  - A row per KST day (grain daily) or per hour (grain hourly).  Its step
 *    is P = 1 (daily) or 24 (hourly) steps per day; the horizon H is in steps.
 *  - Only observations at or before t - H are used ("the cutoff").  A lag of
 *    k days is the value k calendar days (k*P steps) earlier — for hourly
 *    rows the same hour — and is NULL when k*P < H or when unobserved.
 *  - Rolling windows (7, 28 days), same-weekday means (last 4, 8 weeks) and
 *    the 28-day working-day level use the same hour of the latest days at or
 *    before the cutoff; missing observations are skipped, never borrowed.
 *  - Weather is that of the target day: observed (KMA, else Open-Meteo),
 *    else the latest stored forecast, else the climatology of the same day
 *    of year (±7 days) over every stored year.
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

static SPIPlanPtr weather_plan = NULL;	/* of LoadWeather */

/* The columns of feature_list.h. */
const FeatureInfo FeatureInfos[FEATURE_NCOLS] = {
#define X(name, kind, flags, description) {#name, kind, flags, description},
	FEATURE_LIST(X)
#undef X
};
static SPIPlanPtr series_plan[2] = {NULL, NULL};	/* of LoadSeries: daily, hourly */
static SPIPlanPtr observed_plan = NULL;	/* of ObservedRange */
static const VersionTable daily_table[1] = {VT_RIDERSHIP_DAILY};
static const VersionTable hourly_table[1] = {VT_RIDERSHIP_HOURLY};
static const VersionTable weather_tables[2] = {VT_WEATHER_DAILY, VT_WEATHER_FORECAST};

PG_FUNCTION_INFO_V1(features);
PG_FUNCTION_INFO_V1(calendar_features);
PG_FUNCTION_INFO_V1(feature_columns);

#define NLAGS 8
static const int lag_days[NLAGS] = {1, 2, 3, 7, 14, 21, 28, 364};

#define COVID_FROM 7353			/* 2020-02-18 */
#define COVID_TO 8142			/* 2022-04-17 */
#define MAX_ROWS 20000000
#define MAX_DAYS (MAX_ROWS / 24)	/* per-day inputs (weather, holidays) of one call */

/* Floor of a / b for b > 0. */
static inline int64
FloorDiv(int64 a, int64 b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Service day (PostgreSQL date) of a step: the day itself, or the hour's operating day. */
static inline int32
StepServiceDay(int64 step, int per_day)
{
	/* hours since 2000-01-01 00:00 UTC; KST is +9 h, the service day starts at 04:00 */
	return per_day == 1 ? (int32) step : (int32) FloorDiv(step + 9 - 4, 24);
}

/* Value at step s, NaN outside the series. */
static inline double
At(const Series *s, int64 step)
{
	int64		i = step - s->base;

	return (i < 0 || i >= s->n) ? NAN : s->v[i];
}

/* Statistics of the observed values among `count` steps back from `from`, `stride` apart. */
static void
Window(const Series *s, int64 from, int count, int stride, const HolidaySet *hs,
	   bool workdays_only, double *mean, double *sd, double *mn, double *mx)
{
	double		sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
	int			n = 0, k;

	for (k = 0; k < count; k++)
	{
		int64		step = from - (int64) k * stride;
		double		x = At(s, step);

		if (isnan(x))
			continue;
		if (workdays_only && CalendarIsOff(hs, StepServiceDay(step, s->per_day)))
			continue;
		sum += x;
		sq += x * x;
		lo = Min(lo, x);
		hi = Max(hi, x);
		n++;
	}
	*mean = n > 0 ? sum / n : NAN;
	if (sd)
		*sd = n > 1 ? sqrt(Max(0.0, (sq - sum * sum / n) / (n - 1))) : NAN;
	if (mn)
		*mn = n > 0 ? lo : NAN;
	if (mx)
		*mx = n > 0 ? hi : NAN;
}

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

/* The first and last observed days of a station; false when it has none (caller has SPI). */
bool
ObservedRange(int32 station_id, int32 *first, int32 *last)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	bool		n1, n2;

	v[0] = Int32GetDatum(station_id);
	if (SPI_execute_plan(VersionPlan(&observed_plan, "SELECT pg_catalog.min(day), pg_catalog.max(day) "
									 "FROM (%s) AS d WHERE station_id OPERATOR(pg_catalog.=) $1",
									 1, daily_table, 1, types), v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.ridership_daily");
	*first = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n1));
	*last = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &n2));
	return !n1 && !n2;
}

/* Load passengers for steps [first, last] into a Series (daily or hourly table). */
static void
LoadSeries(Series *s, int32 station, int64 first, int64 last, int per_day, MemoryContext cxt)
{
	Oid			types[3] = {INT4OID, INT8OID, INT8OID};
	Datum		v[3];
	uint64		i;
	const char *sql = per_day == 1
		? "SELECT day OPERATOR(pg_catalog.-) '2000-01-01'::pg_catalog.date, passengers::pg_catalog.float8 "
		"FROM (%s) AS d WHERE station_id OPERATOR(pg_catalog.=) $1 "
		"AND day OPERATOR(pg_catalog.>=) ('2000-01-01'::pg_catalog.date OPERATOR(pg_catalog.+) $2::pg_catalog.int4) "
		"AND day OPERATOR(pg_catalog.<=) ('2000-01-01'::pg_catalog.date OPERATOR(pg_catalog.+) $3::pg_catalog.int4)"
		: "SELECT ((extract(epoch FROM ts)::pg_catalog.int8 OPERATOR(pg_catalog.-) 946684800) "
		"OPERATOR(pg_catalog./) 3600)::pg_catalog.int8, passengers::pg_catalog.float8 "
		"FROM (%s) AS h WHERE station_id OPERATOR(pg_catalog.=) $1 "
		"AND ts OPERATOR(pg_catalog.>=) pg_catalog.to_timestamp(946684800 OPERATOR(pg_catalog.+) ($2 OPERATOR(pg_catalog.*) 3600)) "
		"AND ts OPERATOR(pg_catalog.<=) pg_catalog.to_timestamp(946684800 OPERATOR(pg_catalog.+) ($3 OPERATOR(pg_catalog.*) 3600))";

	s->base = first;
	s->n = last - first + 1;
	s->per_day = per_day;
	s->v = MemoryContextAllocHuge(cxt, sizeof(double) * s->n);
	for (i = 0; i < (uint64) s->n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		s->v[i] = NAN;
	}
	v[0] = Int32GetDatum(station);
	v[1] = Int64GetDatum(first);
	v[2] = Int64GetDatum(last);
	if (SPI_execute_plan(VersionPlan(&series_plan[per_day == 1 ? 0 : 1], sql, 1,
									 per_day == 1 ? daily_table : hourly_table, 3, types),
						 v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read ridership");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		n1, n2;
		int64		step = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &n1));
		double		x = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &n2));

		CHECK_FOR_INTERRUPTS();
		if (per_day == 1)
			step = (int32) step;
		if (!n1 && !n2 && step >= first && step <= last)
			s->v[step - first] = x;
	}
}

/* Per-day maxima of one source group's observations (has_*: any non-NULL value). */
typedef struct WeatherMax
{
	double		temp;
	double		precip;
	double		snow;
	bool		has_temp;
	bool		has_precip;
	bool		has_snow;
} WeatherMax;

/* Raise *m to x unless x is NULL, ordering NaN above every number as SQL's max() does. */
static inline void
MaxInto(double *m, bool *has, bool isnull, Datum x)
{
	double		v;

	if (isnull)
		return;
	v = DatumGetFloat8(x);
	if (!*has || isnan(v) || (!isnan(*m) && v > *m))
		*m = v;
	*has = true;
}

/* SQL's coalesce of two maxima: a when it has a value, else b (NaN when neither has). */
static inline double
Coalesce(double a, bool has_a, double b, bool has_b)
{
	return has_a ? a : has_b ? b : NAN;
}

/* The query of LoadWeather: observations (all, or of a range), then the forecasts of the range. */
#define WEATHER_OBSERVED "SELECT day OPERATOR(pg_catalog.-) '2000-01-01'::pg_catalog.date, source, temp_mean_c, " \
	"precip_mm, snow_cm, NULL::pg_catalog.timestamptz FROM (%s) AS w "
#define WEATHER_FORECAST "UNION ALL SELECT * FROM (SELECT DISTINCT ON (target) NULL::pg_catalog.int4, " \
	"NULL::pg_catalog.text, temp_c, precip_mm, snow_cm, target FROM (%s) AS fc " \
	"WHERE grain OPERATOR(pg_catalog.=) 'day' AND target OPERATOR(pg_catalog.>=) $1 " \
	"AND target OPERATOR(pg_catalog.<) $2 ORDER BY target, issued_at DESC, source COLLATE pg_catalog.\"C\") f"

/*
 * Weather of every day in [first, last]: observed (per column, the KMA
 * sources' value, else Open-Meteo's), else the latest forecast, else the
 * climatology of the day of year (±7 days, over every stored year; its
 * sums come from climatology.c).  One query reads the range's observations
 * and forecasts; the rest is done here (KST days of the forecasts' targets
 * too: no time zone is loaded).
 */
static Weather *
LoadWeather(int32 first, int32 last, MemoryContext cxt)
{
	int			n = last - first + 1;
	Weather    *w = MemoryContextAllocZero(cxt, sizeof(Weather) * n);
	WeatherMax *kma = palloc(sizeof(WeatherMax) * n), *om = palloc(sizeof(WeatherMax) * n);
	Weather    *fc = palloc(sizeof(Weather) * n);	/* the forecast of each day */
	const Climate *clim = ClimateSums();
	double		clim_t[367], clim_p[367];
	const double *sum_t = clim->sum_t, *sum_p = clim->sum_p;
	const int  *n_t = clim->n_t, *n_p = clim->n_p;
	Oid			types[4] = {TIMESTAMPTZOID, TIMESTAMPTZOID, DATEOID, DATEOID};
	Datum		v[4];
	uint64		i;
	int			d;

	for (d = 0; d < n; d++)
	{
		CHECK_FOR_INTERRUPTS();
		w[d].temp = w[d].precip = w[d].snow = NAN;
		w[d].source = NULL;
		fc[d].source = NULL;
		memset(&kma[d], 0, sizeof(WeatherMax));
		om[d] = kma[d];
	}
	v[0] = TimestampTzGetDatum(KstInstant(first, 0));
	v[1] = TimestampTzGetDatum(KstInstant(last + 1, 0));
	v[2] = DateADTGetDatum(first);
	v[3] = DateADTGetDatum(last);
	if (SPI_execute_plan(VersionPlan(&weather_plan, WEATHER_OBSERVED "WHERE day OPERATOR(pg_catalog.>=) $3 "
									 "AND day OPERATOR(pg_catalog.<=) $4 " WEATHER_FORECAST, 2, weather_tables, 4, types),
						 v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read weather");
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		x[6];
		bool		nn[6];
		int32		day;
		Datum		src, tv, pv, sv;
		int			k;

		CHECK_FOR_INTERRUPTS();
		/* one pass over the tuple (it has NULLs: SPI_getbinval would walk it per column) */
		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, x, nn);
		day = DatumGetInt32(x[0]);
		src = x[1];
		tv = x[2];
		pv = x[3];
		sv = x[4];
		k = day - first;
		if (nn[1])
		{
			/* a target's latest forecast, in target order: its KST day's first one with a temperature */
			k = KstDateOf(DatumGetTimestampTz(x[5])) - first;
			if (nn[2] || k < 0 || k >= n || fc[k].source)
				continue;
			fc[k].temp = DatumGetFloat8(tv);
			fc[k].precip = nn[3] ? NAN : DatumGetFloat8(pv);
			fc[k].snow = nn[4] ? NAN : DatumGetFloat8(sv);
			fc[k].source = "forecast";
			continue;
		}
		if (k >= 0 && k < n)
		{
			text	   *s = DatumGetTextPP(src);
			WeatherMax *g = NULL;

			if (VARSIZE_ANY_EXHDR(s) >= 3 && memcmp(VARDATA_ANY(s), "kma", 3) == 0)
				g = &kma[k];
			else if (VARSIZE_ANY_EXHDR(s) == 10 && memcmp(VARDATA_ANY(s), "open-meteo", 10) == 0)
				g = &om[k];
			if (g)
			{
				MaxInto(&g->temp, &g->has_temp, nn[2], tv);
				MaxInto(&g->precip, &g->has_precip, nn[3], pv);
				MaxInto(&g->snow, &g->has_snow, nn[4], sv);
			}
		}
	}
	/* observations win over forecasts */
	for (d = 0; d < n; d++)
	{
		CHECK_FOR_INTERRUPTS();
		if (!kma[d].has_temp && !om[d].has_temp)
		{
			if (fc[d].source)
				w[d] = fc[d];
			continue;
		}
		w[d].temp = Coalesce(kma[d].temp, kma[d].has_temp, om[d].temp, om[d].has_temp);
		w[d].precip = Coalesce(kma[d].precip, kma[d].has_precip, om[d].precip, om[d].has_precip);
		w[d].snow = Coalesce(kma[d].snow, kma[d].has_snow, om[d].snow, om[d].has_snow);
		w[d].source = "observed";
	}
	/* per day of year: the mean temperature and precipitation, weighted by days with a temperature */
	for (d = 1; d <= 366; d++)
	{
		clim_t[d] = n_t[d] > 0 ? sum_t[d] / n_t[d] * n_t[d] : 0;
		clim_p[d] = n_p[d] > 0 ? sum_p[d] / n_p[d] * n_t[d] : 0;
	}
	for (d = 0; d < n; d++)
	{
		int			y, m, dd, doy, k;
		double		st = 0, sp = 0;
		int			sn = 0;

		CHECK_FOR_INTERRUPTS();
		if (w[d].source)
			continue;
		KstPgDateParts(first + d, &y, &m, &dd);
		doy = (first + d) - KstPgDate(y, 1, 1) + 1;
		for (k = -7; k <= 7; k++)
		{
			int			j = ((doy - 1 + k) % 366 + 366) % 366 + 1;

			st += clim_t[j];
			sp += clim_p[j];
			sn += n_t[j];
		}
		if (sn > 0)
		{
			w[d].temp = st / sn;
			w[d].precip = sp / sn;
			w[d].source = "climatology";
		}
	}
	pfree(kma);
	pfree(om);
	pfree(fc);
	return w;
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

/* Put a double (NaN as NULL) into a tuple slot. */
static inline void
PutF8(Datum *v, bool *n, int i, double x)
{
	n[i] = isnan(x);
	v[i] = Float8GetDatum(n[i] ? 0.0 : x);
}

/* Fill the calendar columns (4..27) of a row from a CalendarDay and hour. */
static void
PutCalendar(Datum *v, bool *n, const CalendarDay *c, int hour)
{
	v[FCOL_iso_dow] = Int32GetDatum(c->iso_dow);
	v[FCOL_is_weekend] = BoolGetDatum(c->is_weekend);
	v[FCOL_is_holiday] = BoolGetDatum(c->is_holiday);
	n[FCOL_holiday_name] = c->holiday_name == NULL;
	v[FCOL_holiday_name] = c->holiday_name ? CStringGetTextDatum(c->holiday_name) : (Datum) 0;
	v[FCOL_is_substitute] = BoolGetDatum((c->flags & CAL_SUBSTITUTE) != 0);
	v[FCOL_is_temporary] = BoolGetDatum((c->flags & CAL_TEMPORARY) != 0);
	v[FCOL_is_day_off] = BoolGetDatum(c->is_day_off);
	v[FCOL_is_bridge] = BoolGetDatum(c->is_bridge);
	v[FCOL_block_len] = Int32GetDatum(c->block_len);
	v[FCOL_block_pos] = Int32GetDatum(c->block_pos);
	v[FCOL_in_seollal] = BoolGetDatum(c->in_seollal_block);
	v[FCOL_in_chuseok] = BoolGetDatum(c->in_chuseok_block);
	v[FCOL_day_before_off] = BoolGetDatum(c->day_before_off);
	v[FCOL_day_after_off] = BoolGetDatum(c->day_after_off);
	v[FCOL_days_to_off] = Int32GetDatum(c->days_to_off);
	v[FCOL_days_since_off] = Int32GetDatum(c->days_since_off);
	v[FCOL_days_to_holiday] = Int32GetDatum(c->days_to_holiday);
	v[FCOL_days_since_holiday] = Int32GetDatum(c->days_since_holiday);
	v[FCOL_month] = Int32GetDatum(c->month);
	v[FCOL_doy_sin] = Float8GetDatum(c->doy_sin);
	v[FCOL_doy_cos] = Float8GetDatum(c->doy_cos);
	v[FCOL_hour_sin] = Float8GetDatum(sin(2.0 * M_PI * hour / 24.0));
	v[FCOL_hour_cos] = Float8GetDatum(cos(2.0 * M_PI * hour / 24.0));
	v[FCOL_day_type] = Int32GetDatum(CalendarDayType(c));
}

/*
 * Load what rows for steps [first, last] need at horizons up to max_h steps:
 * the station's observations (with a year and eight weeks of look-back),
 * holidays and weather.  Allocates in cxt; connects to SPI itself.
 */
FeatureCtx *
FeatureCtxLoad(int32 station_id, int64 first, int64 last, int per_day, int64 max_h,
			   MemoryContext cxt)
{
	FeatureCtx *ctx = MemoryContextAllocZero(cxt, sizeof(FeatureCtx));
	int64		lookback = max_h + (int64) 365 * per_day + 56 * per_day;
	int32		first_day = StepServiceDay(first - lookback, per_day) - 1;
	MemoryContext old;
	int			spi;

	ctx->per_day = per_day;
	ctx->first = first;
	ctx->last = last;
	ctx->wfirst = StepServiceDay(first, per_day) - 1;
	ctx->wlast = StepServiceDay(last, per_day) + 1;
	spi = SsSpiConnect();
	LoadSeries(&ctx->ser, station_id, first - lookback, Max(last, first), per_day, cxt);
	SsSpiFinish(spi);
	old = MemoryContextSwitchTo(cxt);
	ctx->hs = HolidaySetLoad(first_day - 40, ctx->wlast + 40);
	MemoryContextSwitchTo(old);
	spi = SsSpiConnect();
	ctx->wx = LoadWeather(ctx->wfirst, ctx->wlast, cxt);
	SsSpiFinish(spi);
	return ctx;
}

/* The instant of a step: the KST day's midnight, or the hour. */
int64
FeatureStepInstant(const FeatureCtx *ctx, int64 step)
{
	return ctx->per_day == 1 ? KstInstant((int32) step, 0) : step * USECS_PER_HOUR;
}

/*
 * Compute the FEATURE_NCOLS columns of the row at `step` for horizon H
 * steps into v/n (text columns are palloc'd in the current context).
 */
void
FeatureRow(const FeatureCtx *ctx, int64 step, int64 H, Datum *v, bool *n)
{
	const Series *ser = &ctx->ser;
	const HolidaySet *hs = ctx->hs;
	int			P = ctx->per_day;
	int64		s = step;
	int64		ts = FeatureStepInstant(ctx, s);
	int			hour = P == 1 ? 0 : KstHourOf(ts);
	int32		service_day = StepServiceDay(s, P);
	int64		j0 = s - (int64) P * ((H + P - 1) / P);	/* same hour, latest day at/before cutoff */
	int64		kmin7 = (H + 7 * P - 1) / (7 * P);
	int			mask = 0, k, col;
	double		x, mean, sd, mn, mx;
	const Weather *w;
	CalendarDay cal;

	memset(n, 0, sizeof(bool) * FEATURE_NCOLS);
	CalendarCompute(hs, service_day, &cal);
	v[FCOL_ts] = TimestampTzGetDatum(ts);
	v[FCOL_kst_date] = DateADTGetDatum(service_day);
	v[FCOL_hour] = Int32GetDatum(hour);
	PutF8(v, n, FCOL_target, At(ser, s));
	PutCalendar(v, n, &cal, hour);
	/* the lags (consecutive columns from lag_1d) */
	for (k = 0; k < NLAGS; k++)
	{
		col = FCOL_lag_1d + k;
		if ((int64) lag_days[k] * P < H)
		{
			n[col] = true;
			v[col] = (Datum) 0;
			continue;
		}
		x = At(ser, s - (int64) lag_days[k] * P);
		if (isnan(x))
			mask |= 1 << k;
		PutF8(v, n, col, x);
	}
	/* was the lag-1 / lag-7 day a day off? */
	v[FCOL_lag_1d_off] = BoolGetDatum(CalendarIsOff(hs, service_day - 1));
	v[FCOL_lag_7d_off] = BoolGetDatum(CalendarIsOff(hs, service_day - 7));
	/* rolling 7 and 28 days ending at the cutoff */
	Window(ser, j0, 7, P, hs, false, &mean, &sd, &mn, &mx);
	if (isnan(mean))
		mask |= 1 << 8;
	PutF8(v, n, FCOL_roll7_mean, mean);
	PutF8(v, n, FCOL_roll7_std, sd);
	PutF8(v, n, FCOL_roll7_min, mn);
	PutF8(v, n, FCOL_roll7_max, mx);
	Window(ser, j0, 28, P, hs, false, &mean, &sd, &mn, &mx);
	if (isnan(mean))
		mask |= 1 << 9;
	PutF8(v, n, FCOL_roll28_mean, mean);
	PutF8(v, n, FCOL_roll28_std, sd);
	PutF8(v, n, FCOL_roll28_min, mn);
	PutF8(v, n, FCOL_roll28_max, mx);
	/* same weekday: last 4 and 8 weeks, and 4 weeks of working days only */
	Window(ser, s - kmin7 * 7 * P, 4, 7 * P, hs, false, &mean, NULL, NULL, NULL);
	if (isnan(mean))
		mask |= 1 << 10;
	PutF8(v, n, FCOL_sdw4_mean, mean);
	Window(ser, s - kmin7 * 7 * P, 8, 7 * P, hs, false, &mean, NULL, NULL, NULL);
	if (isnan(mean))
		mask |= 1 << 11;
	PutF8(v, n, FCOL_sdw8_mean, mean);
	Window(ser, s - kmin7 * 7 * P, 4, 7 * P, hs, true, &mean, NULL, NULL, NULL);
	PutF8(v, n, FCOL_sdw4_workday_mean, mean);
	/* last year's same weekday */
	if ((int64) 364 * P >= H)
	{
		x = At(ser, s - (int64) 364 * P);
		if (isnan(x))
			mask |= 1 << 12;
		PutF8(v, n, FCOL_last_year_sdw, x);
	}
	else
		n[FCOL_last_year_sdw] = true;
	/* 28-day working-day level at the cutoff */
	Window(ser, j0, 28, P, hs, true, &mean, NULL, NULL, NULL);
	PutF8(v, n, FCOL_level28, mean);
	/* weather of the target day */
	w = (service_day >= ctx->wfirst && service_day <= ctx->wlast) ? &ctx->wx[service_day - ctx->wfirst] : NULL;
	if (w && w->source)
	{
		PutF8(v, n, FCOL_temp_mean_c, w->temp);
		PutF8(v, n, FCOL_precip_mm, w->precip);
		PutF8(v, n, FCOL_snow_cm, w->snow);
		v[FCOL_weather_source] = CStringGetTextDatum(w->source);
		if (strcmp(w->source, "observed") != 0)
			mask |= 1 << 13;
	}
	else
	{
		n[FCOL_temp_mean_c] = n[FCOL_precip_mm] = n[FCOL_snow_cm] = n[FCOL_weather_source] = true;
		mask |= 1 << 13;
	}
	/* COVID level and the mask */
	v[FCOL_covid_level] = Float8GetDatum(service_day >= COVID_FROM && service_day <= COVID_TO ? 1.0 : 0.0);
	v[FCOL_missing_mask] = Int32GetDatum(mask);
	/* ratios to the level: target and the main lags (consecutive columns from target_ratio) */
	{
		double		level = n[FCOL_level28] ? NAN : DatumGetFloat8(v[FCOL_level28]);
		static const int ratio_of[6] = {FCOL_target, FCOL_lag_7d, FCOL_sdw4_mean, FCOL_sdw4_workday_mean,
		FCOL_last_year_sdw, FCOL_lag_1d};

		for (k = 0; k < 6; k++)
			PutF8(v, n, FCOL_target_ratio + k, (level > 0 && !n[ratio_of[k]])
				  ? DatumGetFloat8(v[ratio_of[k]]) / level : NAN);
	}
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
		*first = -FloorDiv(-from_ts, USECS_PER_HOUR);
		*last = FloorDiv(to_ts, USECS_PER_HOUR);
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
	Datum		v[FEATURE_NCOLS];
	bool		n[FEATURE_NCOLS];
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
	if (StepServiceDay(last, P) - StepServiceDay(first, P) + 1 > MAX_DAYS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("features() covers at most %d days per call", MAX_DAYS),
				 errhint("Ask for a shorter range.")));
	InitMaterializedSRF(fcinfo, 0);
	spi = SsSpiConnect();
	station_id = FeatureStationId(station, line);
	SsSpiFinish(spi);
	ctx = FeatureCtxLoad(station_id, first, last, P, H, CurrentMemoryContext);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "feature row", ALLOCSET_SMALL_SIZES);
	for (s = first; s <= last; s++)
	{
		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(rowcxt);
		FeatureRow(ctx, s, H, v, n);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
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
	int			hour, col, k = 0;
	Datum		v[FEATURE_NCOLS], out[FEATURE_NCOLS];
	bool		n[FEATURE_NCOLS], outn[FEATURE_NCOLS];

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
	PutCalendar(v, n, &c, hour);
	for (col = 0; col < FEATURE_NCOLS; col++)
		if (FeatureInfos[col].flags & F_CALENDAR)
		{
			out[k] = v[col];
			outn[k++] = n[col];
		}
	if (desc->natts != k)
		elog(ERROR, "calendar_features returns %d columns, the feature list has %d", desc->natts, k);
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
