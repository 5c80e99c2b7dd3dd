/*
 * feature_row.c — one row of seongsu.features (columns: feature_list.h;
 * definitions: docs/features.md).
 *
 *  - A row per KST day (grain daily) or per hour (grain hourly).  Its step
 *    is P = 1 (daily) or 24 (hourly) steps per day; the horizon H is in steps.
 *  - Only observations at or before t - H are used ("the cutoff").  A lag of
 *    k days is the value k calendar days (k*P steps) earlier — for hourly
 *    rows the same hour — and is NULL when k*P < H or when unobserved.
 *  - Rolling windows (7, 28 days), same-weekday means, the levels and the
 *    kind ratios use the same hour of the latest days at or before the
 *    cutoff; missing observations are skipped, never borrowed.
 *  - Every count is also given divided by level28 at the cutoff (the
 *    row's level; the _ratio columns): the model inputs.
 *  - Weather is that of the target day (weather.c).
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "features.h"

#define NLAGS 8
static const int lag_days[NLAGS] = {1, 2, 3, 7, 14, 21, 28, 364};

#define NDEVLAGS 4
static const int dev_lag_days[NDEVLAGS] = {1, 2, 3, 7};

#define COVID_FROM 7353			/* 2020-02-18 */
#define COVID_TO 8142			/* 2022-04-17 */
#define SDW_NOHOL_WEEKS 12		/* sdw4_nohol looks this many weeks back */

/* Value at step s, NaN outside the series. */
static inline double
At(const Series *s, int64 step)
{
	int64		i = step - s->base;

	return (i < 0 || i >= s->n) ? NAN : s->v[i];
}

/* Statistics of the observed values among `count` steps back from `from`, `stride` apart. */
static void
Window(const Series *s, int64 from, int count, int stride, double *mean, double *sd, double *mn, double *mx)
{
	double		sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
	int			n = 0, k;

	for (k = 0; k < count; k++)
	{
		double		x = At(s, from - (int64) k * stride);

		if (isnan(x))
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

/*
 * The mean of the last 4 observed same-weekday steps from `from` back (a
 * week apart, at most SDW_NOHOL_WEEKS) whose days are neither public
 * holidays nor special days.
 */
static double
SameWeekdayNoHoliday(const FeatureCtx *ctx, int64 from)
{
	int			P = ctx->per_day, k, n = 0;
	double		sum = 0;

	for (k = 0; k < SDW_NOHOL_WEEKS && n < 4; k++)
	{
		int64		step = from - (int64) k * 7 * P;
		int			kind = FeatureKindOf(ctx, FeatureServiceDay(step, P));
		double		x = At(&ctx->ser, step);

		if (kind == CAL_KIND_HOLIDAY || kind == CAL_KIND_SPECIAL || isnan(x))
			continue;
		sum += x;
		n++;
	}
	return n > 0 ? sum / n : NAN;
}

/*
 * The latest observed step at or before the cutoff c (at most
 * FEATURE_HOLIDAY_DAYS back, the same hour) whose day has holiday
 * identity hid: its own ratio, and that against the holiday regime of the
 * day before it.
 */
static void
HolidayHistory(const FeatureCtx *ctx, int64 c, int hid, double *last_own, double *last_rel)
{
	int			P = ctx->per_day, k;

	*last_own = *last_rel = NAN;
	for (k = 0; k < FEATURE_HOLIDAY_DAYS; k++)
	{
		int64		j = c - (int64) k * P;
		int64		d = (int64) FeatureServiceDay(j, P) - ctx->day0;
		double		own = FeatureAt(ctx, ctx->own, j);
		double		then;

		if (d < 0)
			break;
		if (d >= ctx->ndays || ctx->hids[d] != hid || isnan(own))
			continue;
		then = FeatureAt(ctx, ctx->kr[CAL_KIND_HOLIDAY], j - P);
		*last_own = own;
		*last_rel = then > 0 ? own / then : NAN;
		return;
	}
}

/* Mean of the finite devs among `count` steps back from `from`, a day apart (NaN when none). */
static double
DevMean(const FeatureCtx *ctx, int64 from, int count)
{
	double		sum = 0;
	int			k, n = 0;

	for (k = 0; k < count; k++)
	{
		double		x = FeatureAt(ctx, ctx->dev, from - (int64) k * ctx->per_day);

		if (isfinite(x))
		{
			sum += x;
			n++;
		}
	}
	return n > 0 ? sum / n : NAN;
}

/* Put a double (NaN as NULL) into a tuple slot. */
static inline void
PutF8(Datum *v, bool *n, int i, double x)
{
	n[i] = isnan(x);
	v[i] = Float8GetDatum(n[i] ? 0.0 : x);
}

/* Fill the calendar columns of a row from a CalendarDay and hour. */
void
FeaturePutCalendar(Datum *v, bool *n, const CalendarDay *c, int hour)
{
	int			k;

	v[FCOL_iso_dow] = Int32GetDatum(c->iso_dow);
	v[FCOL_kind] = Int32GetDatum(c->kind);
	for (k = 0; k < 7; k++)
		v[FCOL_dow_1 + k] = BoolGetDatum(c->iso_dow == k + 1);
	v[FCOL_is_weekend] = BoolGetDatum(c->is_weekend);
	v[FCOL_is_saturday] = BoolGetDatum(c->kind == CAL_KIND_SATURDAY);
	v[FCOL_is_sunday] = BoolGetDatum(c->kind == CAL_KIND_SUNDAY);
	v[FCOL_is_holiday] = BoolGetDatum(c->is_holiday);
	v[FCOL_is_special] = BoolGetDatum(c->is_special);
	n[FCOL_holiday_name] = c->holiday_name == NULL;
	v[FCOL_holiday_name] = c->holiday_name ? CStringGetTextDatum(c->holiday_name) : (Datum) 0;
	v[FCOL_is_day_off] = BoolGetDatum(c->is_day_off);
	v[FCOL_is_substitute] = BoolGetDatum((c->flags & CAL_SUBSTITUTE) != 0);
	v[FCOL_is_temporary] = BoolGetDatum((c->flags & CAL_TEMPORARY) != 0);
	v[FCOL_is_election] = BoolGetDatum((c->flags & CAL_ELECTION) != 0);
	v[FCOL_block_len] = Int32GetDatum(c->block_len);
	v[FCOL_block_pos] = Int32GetDatum(c->block_pos);
	v[FCOL_block_pos_end] = Int32GetDatum(c->block_pos_end);
	v[FCOL_block_has_holiday] = BoolGetDatum(c->block_has_holiday);
	v[FCOL_in_seollal] = BoolGetDatum(c->lunar == CAL_LUNAR_SEOLLAL);
	v[FCOL_in_chuseok] = BoolGetDatum(c->lunar == CAL_LUNAR_CHUSEOK);
	v[FCOL_lunar_pos] = Int32GetDatum(c->lunar != CAL_LUNAR_NONE ? c->block_pos : 0);
	v[FCOL_lunar_pos_end] = Int32GetDatum(c->lunar != CAL_LUNAR_NONE ? c->block_pos_end : 0);
	v[FCOL_lunar_days_to] = Int32GetDatum(c->lunar_days_to);
	v[FCOL_lunar_days_since] = Int32GetDatum(c->lunar_days_since);
	v[FCOL_lunar_near_seollal] = BoolGetDatum(c->lunar_near == CAL_LUNAR_SEOLLAL);
	v[FCOL_day_before_off] = BoolGetDatum(c->day_before_off);
	v[FCOL_day_after_off] = BoolGetDatum(c->day_after_off);
	v[FCOL_is_bridge] = BoolGetDatum(c->is_bridge);
	v[FCOL_before_holiday] = BoolGetDatum(c->before_holiday);
	v[FCOL_after_holiday] = BoolGetDatum(c->after_holiday);
	v[FCOL_before_holiday_block] = BoolGetDatum(c->before_holiday_block);
	v[FCOL_after_holiday_block] = BoolGetDatum(c->after_holiday_block);
	v[FCOL_days_to_off] = Int32GetDatum(c->days_to_off);
	v[FCOL_days_since_off] = Int32GetDatum(c->days_since_off);
	v[FCOL_days_to_holiday] = Int32GetDatum(c->days_to_holiday);
	v[FCOL_days_since_holiday] = Int32GetDatum(c->days_since_holiday);
	v[FCOL_month] = Int32GetDatum(c->month);
	v[FCOL_day_of_month] = Int32GetDatum(c->day_of_month);
	v[FCOL_days_to_month_end] = Int32GetDatum(c->days_to_month_end);
	v[FCOL_doy_sin] = Float8GetDatum(c->doy_sin);
	v[FCOL_doy_cos] = Float8GetDatum(c->doy_cos);
	v[FCOL_hour_sin] = Float8GetDatum(sin(2.0 * M_PI * hour / 24.0));
	v[FCOL_hour_cos] = Float8GetDatum(cos(2.0 * M_PI * hour / 24.0));
	v[FCOL_day_type] = Int32GetDatum(c->day_type);
	v[FCOL_holiday_id] = Int32GetDatum(c->holiday_id);
}

/* The instant of a step: the KST day's midnight, or the hour. */
int64
FeatureStepInstant(const FeatureCtx *ctx, int64 step)
{
	return ctx->per_day == 1 ? KstInstant((int32) step, 0) : step * USECS_PER_HOUR;
}

/* The weather columns of the target day; true when it was not observed. */
static bool
PutWeather(const FeatureCtx *ctx, int32 service_day, Datum *v, bool *n)
{
	const Weather *w = (service_day >= ctx->wfirst && service_day <= ctx->wlast)
		? &ctx->wx[service_day - ctx->wfirst] : NULL;

	if (w && w->source)
	{
		PutF8(v, n, FCOL_temp_mean_c, w->temp);
		PutF8(v, n, FCOL_precip_mm, w->precip);
		PutF8(v, n, FCOL_snow_cm, w->snow);
		v[FCOL_weather_source] = CStringGetTextDatum(w->source);
		return strcmp(w->source, "observed") != 0;
	}
	n[FCOL_temp_mean_c] = n[FCOL_precip_mm] = n[FCOL_snow_cm] = n[FCOL_weather_source] = true;
	return true;
}

/* The level-independent ratios: growth, kind regimes, holiday history, devs. */
static void
PutRatios(const FeatureCtx *ctx, const CalendarDay *cal, int64 s, int64 c, int64 H, Datum *v, bool *n)
{
	int			P = ctx->per_day, k;
	double		level = FeatureAt(ctx, ctx->lv28, c);
	double		holiday = FeatureAt(ctx, ctx->kr[CAL_KIND_HOLIDAY], c);
	double		last_own, last_rel;

	PutF8(v, n, FCOL_yoy, level / FeatureAt(ctx, ctx->lv28, c - (int64) 364 * P));
	PutF8(v, n, FCOL_ratio_saturday, FeatureAt(ctx, ctx->kr[CAL_KIND_SATURDAY], c));
	PutF8(v, n, FCOL_ratio_sunday, FeatureAt(ctx, ctx->kr[CAL_KIND_SUNDAY], c));
	PutF8(v, n, FCOL_ratio_holiday, holiday);
	PutF8(v, n, FCOL_ratio_kind, cal->kind == CAL_KIND_WORK ? 1.0 : FeatureAt(ctx, ctx->kr[cal->kind], c));
	PutF8(v, n, FCOL_ly_own, (int64) 364 * P >= H ? FeatureAt(ctx, ctx->own, s - (int64) 364 * P) : NAN);
	if (cal->holiday_id != HID_NONE)
		HolidayHistory(ctx, c, cal->holiday_id, &last_own, &last_rel);
	else
		last_own = last_rel = NAN;
	PutF8(v, n, FCOL_holiday_last_own, last_own);
	PutF8(v, n, FCOL_holiday_last_rel, last_rel);
	PutF8(v, n, FCOL_holiday_expect, holiday * last_rel);
	for (k = 0; k < NDEVLAGS; k++)
		PutF8(v, n, FCOL_dev_lag_1d + k, (int64) dev_lag_days[k] * P >= H
			  ? FeatureAt(ctx, ctx->dev, s - (int64) dev_lag_days[k] * P) : NAN);
	PutF8(v, n, FCOL_dev_mean7, DevMean(ctx, c, 7));
	PutF8(v, n, FCOL_dev_mean28, DevMean(ctx, c, 28));
}

/*
 * Compute the FEATURE_NCOLS columns of the row at `step` for horizon H
 * steps into v/n (text columns are palloc'd in the current context).
 */
void
FeatureRow(const FeatureCtx *ctx, int64 step, int64 H, Datum *v, bool *n)
{
	const Series *ser = &ctx->ser;
	int			P = ctx->per_day;
	int64		s = step;
	int64		ts = FeatureStepInstant(ctx, s);
	int			hour = P == 1 ? 0 : KstHourOf(ts);
	int32		service_day = FeatureServiceDay(s, P);
	int64		c = s - (int64) P * ((H + P - 1) / P);	/* same hour, latest day at/before cutoff */
	int64		kmin7 = (H + 7 * P - 1) / (7 * P);
	int			mask = 0, k, col;
	double		x, level;
	CalendarDay cal;

	memset(n, 0, sizeof(bool) * FEATURE_NCOLS);
	CalendarCompute(ctx->hs, service_day, &cal);
	v[FCOL_ts] = TimestampTzGetDatum(ts);
	v[FCOL_kst_date] = DateADTGetDatum(service_day);
	v[FCOL_hour] = Int32GetDatum(hour);
	PutF8(v, n, FCOL_target, At(ser, s));
	FeaturePutCalendar(v, n, &cal, hour);
	v[FCOL_covid_level] = Float8GetDatum(service_day >= COVID_FROM && service_day <= COVID_TO ? 1.0 : 0.0);
	/* the lags and what their days were (consecutive columns from lag_1d, _off, _holiday) */
	for (k = 0; k < NLAGS; k++)
	{
		int			kind = FeatureKindOf(ctx, service_day - lag_days[k]);

		col = FCOL_lag_1d + k;
		if ((int64) lag_days[k] * P < H)
		{
			n[col] = n[FCOL_lag_1d_off + k] = n[FCOL_lag_1d_holiday + k] = true;
			continue;
		}
		x = At(ser, s - (int64) lag_days[k] * P);
		if (isnan(x))
			mask |= 1 << k;
		PutF8(v, n, col, x);
		v[FCOL_lag_1d_off + k] = BoolGetDatum(kind != CAL_KIND_WORK);
		v[FCOL_lag_1d_holiday + k] = BoolGetDatum(kind == CAL_KIND_HOLIDAY);
	}
	/* rolling 7 and 28 days ending at the cutoff */
	{
		double		mean, sd, mn, mx;

		Window(ser, c, 7, P, &mean, &sd, &mn, &mx);
		if (isnan(mean))
			mask |= 1 << 8;
		PutF8(v, n, FCOL_roll7_mean, mean);
		PutF8(v, n, FCOL_roll7_std, sd);
		PutF8(v, n, FCOL_roll7_min, mn);
		PutF8(v, n, FCOL_roll7_max, mx);
		Window(ser, c, 28, P, &mean, &sd, &mn, &mx);
		if (isnan(mean))
			mask |= 1 << 9;
		PutF8(v, n, FCOL_roll28_mean, mean);
		PutF8(v, n, FCOL_roll28_std, sd);
		PutF8(v, n, FCOL_roll28_min, mn);
		PutF8(v, n, FCOL_roll28_max, mx);
		/* same weekday: last 4 and 8 weeks, and the last 4 that are no holiday */
		Window(ser, s - kmin7 * 7 * P, 4, 7 * P, &mean, NULL, NULL, NULL);
		if (isnan(mean))
			mask |= 1 << 10;
		PutF8(v, n, FCOL_sdw4_mean, mean);
		Window(ser, s - kmin7 * 7 * P, 8, 7 * P, &mean, NULL, NULL, NULL);
		if (isnan(mean))
			mask |= 1 << 11;
		PutF8(v, n, FCOL_sdw8_mean, mean);
		mean = SameWeekdayNoHoliday(ctx, s - kmin7 * 7 * P);
		if (isnan(mean))
			mask |= 1 << 12;
		PutF8(v, n, FCOL_sdw4_nohol_mean, mean);
	}
	PutF8(v, n, FCOL_level91, FeatureAt(ctx, ctx->lv91, c));
	/* the level at the cutoff, and every count divided by it (consecutive _ratio columns) */
	level = FeatureAt(ctx, ctx->lv28, c);
	PutF8(v, n, FCOL_level28, level);
	for (col = FCOL_lag_1d; col <= FCOL_level91; col++)
		PutF8(v, n, FCOL_lag_1d_ratio + (col - FCOL_lag_1d),
			  level > 0 && !n[col] ? DatumGetFloat8(v[col]) / level : NAN);
	PutF8(v, n, FCOL_target_ratio, level > 0 && !n[FCOL_target] ? DatumGetFloat8(v[FCOL_target]) / level : NAN);
	PutRatios(ctx, &cal, s, c, H, v, n);
	if (PutWeather(ctx, service_day, v, n))
		mask |= 1 << 13;
	v[FCOL_missing_mask] = Int32GetDatum(mask);
}
