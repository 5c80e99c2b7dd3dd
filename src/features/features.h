/*
 * features.h — the feature rows of seongsu.features, for the SQL function
 * and for training and prediction (one code path: no train/serve skew);
 * the columns themselves are listed once, in feature_list.h.
 */
#ifndef SEONGSU_FEATURES_H
#define SEONGSU_FEATURES_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "calendar.h"
#include "feature_list.h"

#define FEATURE_MAX_HORIZON_DAYS 400	/* the longest horizon (FeatureHorizonSteps) */

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
extern const char *FeatureSqlType(FeatureKind kind);

#endif							/* SEONGSU_FEATURES_H */
