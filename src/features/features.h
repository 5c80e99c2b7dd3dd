/*
 * features.h — the feature rows of seongsu.features, for the SQL function
 * and for training and prediction (one code path: no train/serve skew);
 * the columns themselves are listed once, in feature_list.h.
 */
#ifndef SEONGSU_FEATURES_H
#define SEONGSU_FEATURES_H

#include "postgres.h"

#include <math.h>

#include "datatype/timestamp.h"

#include "calendar.h"
#include "feature_list.h"

#define FEATURE_MAX_HORIZON_DAYS 400	/* the longest horizon (FeatureHorizonSteps) */
#define FEATURE_KIND_DAYS (3 * 366) /* kind ratios look this far back */
#define FEATURE_SPECIAL_DAYS (5 * 366)	/* ... and this far for special days */
#define FEATURE_KIND_COUNT 4	/* kind ratios average the last 4 days of the kind */
#define FEATURE_SPECIAL_COUNT 2 /* ... and the last 2 special days */
#define FEATURE_HOLIDAY_DAYS (3 * 366)	/* holiday_last_own looks this far back */

/*
 * Days of observations a row needs before its cutoff (beyond the horizon):
 * holiday_last_rel reads a kind ratio at a holiday 3 years back, which
 * reads own ratios 3 more years back, each the day against the 28 days
 * before it (dev_mean28 of a special day needs 28 + 5 years + 28 days,
 * less).  Loading this much makes every row independent of the range asked
 * for.
 */
#define FEATURE_LOOKBACK_DAYS (FEATURE_HOLIDAY_DAYS + FEATURE_KIND_DAYS + 64)

/* What a feature column holds: its SQL type, and how a model reads it. */
typedef enum FeatureKind
{
	FK_TS,						/* timestamptz */
	FK_DATE,					/* date */
	FK_INT,						/* integer */
	FK_F8,						/* double precision */
	FK_BOOL,					/* boolean (0/1 for a model) */
	FK_TEXT						/* text (never a model column) */
} FeatureKind;

#define F_MODEL 1				/* models learn from it */
#define F_CALENDAR 2			/* a column of calendar_features too */
#define F_SMOOTH 4				/* a slowly moving summary of the recent past */

/* The columns of a feature row: FCOL_<name>, in feature_list.h's order. */
typedef enum FeatureCol
{
#define X(name, kind, flags, description) FCOL_##name,
	FEATURE_LIST(X)
#undef X
	FEATURE_NCOLS
} FeatureCol;

/* One column of the list. */
typedef struct FeatureInfo
{
	const char *name;
	FeatureKind kind;
	int			flags;
	const char *description;
} FeatureInfo;

extern const FeatureInfo FeatureInfos[FEATURE_NCOLS];

/* Observations of one station as a dense series from `base` in steps. */
typedef struct Series
{
	int64		base;			/* step number of index 0 */
	int64		n;
	double	   *v;				/* NaN = not observed */
	int			per_day;		/* steps per day: 1 daily, 24 hourly */
} Series;

/* Daily weather of one day and where it came from. */
typedef struct Weather
{
	double		temp;
	double		precip;
	double		snow;
	const char *source;
} Weather;

/*
 * Everything the rows of a range need, loaded once; the per-step arrays
 * have one value per step of ser (NaN when unknown), computed along each
 * hour of day (series.c).
 */
typedef struct FeatureCtx
{
	int			per_day;
	int64		first;
	int64		last;
	Series		ser;
	HolidaySet *hs;
	Weather    *wx;
	int32		wfirst;
	int32		wlast;
	int32		day0;			/* service day of kinds[0] */
	int32		ndays;
	int8	   *kinds;			/* per day: CAL_KIND_* */
	int8	   *hids;			/* per day: CalHolidayId */
	double	   *lv28;			/* level28 at the step (working days of the 28 days ending there) */
	double	   *lv91;			/* the same over 91 days */
	double	   *own;			/* own ratio: the passengers / lv28 of the step a day before */
	double	   *dev;			/* own / the kind ratio of the day's kind a day before */
	double	   *kr[CAL_NKINDS]; /* kind ratio at the step, kinds 1..4 (kr[0] unused) */
} FeatureCtx;

/* Floor of a / b for b > 0. */
static inline int64
FeatureFloorDiv(int64 a, int64 b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Service day (PostgreSQL date) of a step: the day itself, or the hour's operating day. */
static inline int32
FeatureServiceDay(int64 step, int per_day)
{
	/* hours since 2000-01-01 00:00 UTC; KST is +9 h, the service day starts at 04:00 */
	return per_day == 1 ? (int32) step : (int32) FeatureFloorDiv(step + 9 - 4, 24);
}

/* Value of a per-step array of ctx at step, NaN outside the series. */
static inline double
FeatureAt(const FeatureCtx *ctx, const double *a, int64 step)
{
	int64		i = step - ctx->ser.base;

	return (i < 0 || i >= ctx->ser.n) ? NAN : a[i];
}

/* Kind of a service day of ctx (CAL_KIND_WORK outside the loaded days). */
static inline int
FeatureKindOf(const FeatureCtx *ctx, int32 day)
{
	int64		i = (int64) day - ctx->day0;

	return (i < 0 || i >= ctx->ndays) ? CAL_KIND_WORK : ctx->kinds[i];
}

extern char *IsoDate(int32 d);
extern bool ObservedRange(int32 station_id, int32 *first, int32 *last);
extern int32 FeatureStationId(const char *station, const char *line);
extern int64 FeatureHorizonSteps(Interval *iv, int per_day);
extern int	FeatureGrain(const char *grain);
extern void FeatureStepRange(TimestampTz from_ts, TimestampTz to_ts, int per_day,
							 int64 *first, int64 *last);
extern Weather *FeatureWeatherLoad(int32 first, int32 last, MemoryContext cxt);
extern FeatureCtx *FeatureCtxLoad(int32 station_id, int64 first, int64 last, int per_day,
								  int64 max_h, MemoryContext cxt);
extern void FeatureCtxSetValue(FeatureCtx *ctx, int64 step, double x);
extern void FeatureCtxSetSeries(FeatureCtx *ctx, const double *v);
extern FeatureCtx *FeatureCtxCopy(const FeatureCtx *ctx, MemoryContext cxt);
extern int64 FeatureStepInstant(const FeatureCtx *ctx, int64 step);
extern void FeaturePutCalendar(Datum *v, bool *n, const CalendarDay *c, int hour);
extern void FeatureRow(const FeatureCtx *ctx, int64 step, int64 H, Datum *v, bool *n);
extern const char *FeatureSqlType(FeatureKind kind);

#endif							/* SEONGSU_FEATURES_H */
