/*
 * features.h — the feature rows of seongsu.features, for the SQL function
 * and for training and prediction (one code path: no train/serve skew).
 */
#ifndef SEONGSU_FEATURES_H
#define SEONGSU_FEATURES_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "calendar.h"

#define FEATURE_NCOLS 63
#define FEATURE_COL_TS 0
#define FEATURE_COL_DAY 1
#define FEATURE_COL_TARGET 3
#define FEATURE_COL_LAG_7D 31
#define FEATURE_COL_LAG_14D 32
#define FEATURE_COL_LAG_21D 33
#define FEATURE_COL_LAG_28D 34
#define FEATURE_COL_LEVEL 50
#define FEATURE_COL_DAY_TYPE 27
#define FEATURE_MAX_HORIZON_DAYS 400	/* the longest horizon (FeatureHorizonSteps) */

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

/* Everything the rows of a range need, loaded once. */
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
} FeatureCtx;

extern char *IsoDate(int32 d);
extern bool ObservedRange(int32 station_id, int32 *first, int32 *last);
extern int32 FeatureStationId(const char *station, const char *line);
extern int64 FeatureHorizonSteps(Interval *iv, int per_day);
extern int	FeatureGrain(const char *grain);
extern void FeatureStepRange(TimestampTz from_ts, TimestampTz to_ts, int per_day,
							 int64 *first, int64 *last);
extern FeatureCtx *FeatureCtxLoad(int32 station_id, int64 first, int64 last, int per_day,
								  int64 max_h, MemoryContext cxt);
extern int64 FeatureStepInstant(const FeatureCtx *ctx, int64 step);
extern void FeatureRow(const FeatureCtx *ctx, int64 step, int64 H, Datum *v, bool *n);

#endif							/* SEONGSU_FEATURES_H */
