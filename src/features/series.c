/*
 * series.c — a station's observations as a dense series, and what the
 * feature rows derive from it at every step, in one pass along each hour
 * of day (the same hour of consecutive days; daily rows have one):
 *
 *   lv28, lv91  the mean of the observed working days (kind 0: special days
 *               are not working days) of the 28 / 91 days ending at the step;
 *   own         own ratio: the step's passengers / lv28 of the step a day
 *               before (how the day compares with the working days before it);
 *   kr[k]       kind ratio: the mean own ratio of the last 4 observed days of
 *               kind k at or before the step, at most 3 years back (special
 *               days: the last 2, at most 5 years back); NaN when none;
 *   dev         own / the kind ratio of the day's own kind a day before it
 *               (how surprising the day was for its kind).
 *
 * FeatureCtxLoad loads the series with FEATURE_LOOKBACK_DAYS of history
 * before the earliest cutoff, so a row's values never depend on the range
 * asked for.  Whoever changes the series (a recursive forecast filling the
 * days after the observations, publish hiding later observations) does it
 * through FeatureCtxSetValue / FeatureCtxSetSeries, which recompute the
 * derived values, on a FeatureCtxCopy when the context is shared.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"

#include "../kst.h"
#include "../safe_spi.h"
#include "asof.h"
#include "features.h"
#include "holidays.h"

static SPIPlanPtr series_plan[2] = {NULL, NULL};	/* of LoadSeries: daily, hourly */
static SPIPlanPtr observed_plan = NULL;	/* of ObservedRange */
static const VersionTable daily_table[1] = {VT_RIDERSHIP_DAILY};
static const VersionTable hourly_table[1] = {VT_RIDERSHIP_HOURLY};

/* The last days of one kind seen along one hour of day: own ratios and their steps, oldest first. */
typedef struct KindRing
{
	double		own[FEATURE_KIND_COUNT];
	int64		step[FEATURE_KIND_COUNT];
	int			n;
} KindRing;

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

/* Remember an observed day's own ratio in its kind's ring (dropping the oldest). */
static void
RingPush(KindRing *r, double own, int64 step)
{
	if (r->n == FEATURE_KIND_COUNT)
	{
		memmove(r->own, r->own + 1, sizeof(double) * (FEATURE_KIND_COUNT - 1));
		memmove(r->step, r->step + 1, sizeof(int64) * (FEATURE_KIND_COUNT - 1));
		r->n--;
	}
	r->own[r->n] = own;
	r->step[r->n] = step;
	r->n++;
}

/* The kind ratio of kind k at step `at` from its ring (NaN when no day is recent enough). */
static double
RingRatio(const KindRing *r, int kind, int64 at, int per_day)
{
	int			count = kind == CAL_KIND_SPECIAL ? FEATURE_SPECIAL_COUNT : FEATURE_KIND_COUNT;
	int64		oldest = at - (int64) (kind == CAL_KIND_SPECIAL ? FEATURE_SPECIAL_DAYS : FEATURE_KIND_DAYS) * per_day;
	double		sum = 0;
	int			i, n = 0;

	for (i = Max(0, r->n - count); i < r->n; i++)
		if (r->step[i] >= oldest)
		{
			sum += r->own[i];
			n++;
		}
	return n > 0 ? sum / n : NAN;
}

/* The mean of the working days in [i - (width - 1) * P, i] from stride-P prefix sums (NaN when none). */
static inline double
LevelFromPrefix(const double *sum, const int32 *cnt, int64 i, int width, int P)
{
	int64		j = i - (int64) width * P;
	double		s = sum[i] - (j >= 0 ? sum[j] : 0);
	int32		c = cnt[i] - (j >= 0 ? cnt[j] : 0);

	return c > 0 ? s / c : NAN;
}

/* Compute the per-step levels, own ratios, kind ratios and devs of ctx from ctx->ser. */
static void
DeriveValues(FeatureCtx *ctx)
{
	const Series *s = &ctx->ser;
	int			P = ctx->per_day;
	int64		n = s->n, i;
	double	   *sum = palloc_extended(sizeof(double) * (n + 1), MCXT_ALLOC_HUGE);
	int32	   *cnt = palloc_extended(sizeof(int32) * (n + 1), MCXT_ALLOC_HUGE);
	KindRing   *rings = palloc0(sizeof(KindRing) * CAL_NKINDS * P);
	int			k;

	/* the levels: prefix sums of the observed working days along each hour */
	for (i = 0; i < n; i++)
	{
		bool		ok = !isnan(s->v[i]) &&
			FeatureKindOf(ctx, FeatureServiceDay(s->base + i, P)) == CAL_KIND_WORK;

		CHECK_FOR_INTERRUPTS();
		sum[i] = (i >= P ? sum[i - P] : 0) + (ok ? s->v[i] : 0);
		cnt[i] = (i >= P ? cnt[i - P] : 0) + (ok ? 1 : 0);
		ctx->lv28[i] = LevelFromPrefix(sum, cnt, i, 28, P);
		ctx->lv91[i] = LevelFromPrefix(sum, cnt, i, 91, P);
		ctx->own[i] = i >= P && ctx->lv28[i - P] > 0 ? s->v[i] / ctx->lv28[i - P] : NAN;
	}
	/* kind ratios and devs, forward along each hour (index i's rings are those of i mod P) */
	for (i = 0; i < n; i++)
	{
		KindRing   *r = rings + (i % P) * CAL_NKINDS;
		int			kind = FeatureKindOf(ctx, FeatureServiceDay(s->base + i, P));
		double		typ = RingRatio(&r[kind], kind, s->base + i - P, P);

		CHECK_FOR_INTERRUPTS();
		ctx->dev[i] = typ > 0 ? ctx->own[i] / typ : NAN;
		if (!isnan(ctx->own[i]))
			RingPush(&r[kind], ctx->own[i], s->base + i);
		for (k = 1; k < CAL_NKINDS; k++)
			ctx->kr[k][i] = RingRatio(&r[k], k, s->base + i, P);
	}
	pfree(sum);
	pfree(cnt);
	pfree(rings);
}

/* Allocate the per-step arrays of ctx in cxt. */
static void
AllocValues(FeatureCtx *ctx, MemoryContext cxt)
{
	Size		bytes = sizeof(double) * (ctx->ser.n + 1);
	int			k;

	ctx->lv28 = MemoryContextAllocHuge(cxt, bytes);
	ctx->lv91 = MemoryContextAllocHuge(cxt, bytes);
	ctx->own = MemoryContextAllocHuge(cxt, bytes);
	ctx->dev = MemoryContextAllocHuge(cxt, bytes);
	ctx->kr[0] = NULL;
	for (k = 1; k < CAL_NKINDS; k++)
		ctx->kr[k] = MemoryContextAllocHuge(cxt, bytes);
}

/* Fill the per-day kinds and holiday identities of the days of ctx->ser. */
static void
DeriveDays(FeatureCtx *ctx, MemoryContext cxt)
{
	int			P = ctx->per_day, d;

	ctx->day0 = FeatureServiceDay(ctx->ser.base, P);
	ctx->ndays = FeatureServiceDay(ctx->ser.base + ctx->ser.n - 1, P) - ctx->day0 + 1;
	ctx->kinds = MemoryContextAlloc(cxt, ctx->ndays + 1);
	ctx->hids = MemoryContextAlloc(cxt, ctx->ndays + 1);
	for (d = 0; d < ctx->ndays; d++)
	{
		CHECK_FOR_INTERRUPTS();
		ctx->kinds[d] = (int8) CalendarKind(ctx->hs, ctx->day0 + d);
		ctx->hids[d] = (int8) CalendarHolidayIdOf(ctx->hs, ctx->day0 + d);
	}
}

/*
 * Set the value of one step of the series (a recursive forecast filling a
 * day after the observations) and recompute what is derived from it.
 */
void
FeatureCtxSetValue(FeatureCtx *ctx, int64 step, double x)
{
	int64		k = step - ctx->ser.base;

	if (k < 0 || k >= ctx->ser.n)
		return;
	ctx->ser.v[k] = x;
	DeriveValues(ctx);
}

/* Replace the whole series (ctx->ser.n values) and recompute what is derived from it. */
void
FeatureCtxSetSeries(FeatureCtx *ctx, const double *v)
{
	memcpy(ctx->ser.v, v, sizeof(double) * ctx->ser.n);
	DeriveValues(ctx);
}

/* A copy of ctx whose series and derived values can be changed (in cxt; the rest is shared). */
FeatureCtx *
FeatureCtxCopy(const FeatureCtx *ctx, MemoryContext cxt)
{
	FeatureCtx *c = MemoryContextAlloc(cxt, sizeof(FeatureCtx));
	Size		bytes = sizeof(double) * (ctx->ser.n + 1);
	int			k;

	*c = *ctx;
	c->ser.v = MemoryContextAllocHuge(cxt, bytes);
	memcpy(c->ser.v, ctx->ser.v, sizeof(double) * ctx->ser.n);
	AllocValues(c, cxt);
	memcpy(c->lv28, ctx->lv28, bytes);
	memcpy(c->lv91, ctx->lv91, bytes);
	memcpy(c->own, ctx->own, bytes);
	memcpy(c->dev, ctx->dev, bytes);
	for (k = 1; k < CAL_NKINDS; k++)
		memcpy(c->kr[k], ctx->kr[k], bytes);
	return c;
}

/*
 * Load what rows for steps [first, last] need at horizons up to max_h steps:
 * the station's observations (with FEATURE_LOOKBACK_DAYS of history before
 * the earliest cutoff) and what is derived from them, holidays and
 * weather.  Allocates in cxt; connects to SPI itself.
 */
FeatureCtx *
FeatureCtxLoad(int32 station_id, int64 first, int64 last, int per_day, int64 max_h,
			   MemoryContext cxt)
{
	FeatureCtx *ctx = MemoryContextAllocZero(cxt, sizeof(FeatureCtx));
	int64		lookback = max_h + (int64) FEATURE_LOOKBACK_DAYS * per_day;
	int32		first_day = FeatureServiceDay(first - lookback, per_day) - 1;
	MemoryContext old;
	int			spi;

	ctx->per_day = per_day;
	ctx->first = first;
	ctx->last = last;
	ctx->wfirst = FeatureServiceDay(first, per_day) - 1;
	ctx->wlast = FeatureServiceDay(last, per_day) + 1;
	spi = SsSpiConnect();
	LoadSeries(&ctx->ser, station_id, first - lookback, Max(last, first), per_day, cxt);
	SsSpiFinish(spi);
	old = MemoryContextSwitchTo(cxt);
	ctx->hs = HolidaySetLoad(first_day - 40, ctx->wlast + 40);
	MemoryContextSwitchTo(old);
	DeriveDays(ctx, cxt);
	AllocValues(ctx, cxt);
	DeriveValues(ctx);
	spi = SsSpiConnect();
	ctx->wx = FeatureWeatherLoad(ctx->wfirst, ctx->wlast, cxt);
	SsSpiFinish(spi);
	return ctx;
}
