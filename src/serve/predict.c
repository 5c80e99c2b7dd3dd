/*
 * predict.c — prediction from stored models: predict_daily, predict_crowd,
 * crowd_level and forecast.
 *
 * Which model answers: of the models deployed for the station, the one with
 * the smallest horizon whose inputs exist (the station is observed up to at
 * least day - horizon); when none has, the longest-horizon model, with the
 * days between the last observation and the target filled by its own
 * predictions (recursive).  Hourly values are the service day's prediction
 * times the hour's share for the day type (two-stage).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "../safe_spi.h"
#include "day_memo.h"
#include "serve.h"

PG_FUNCTION_INFO_V1(predict_daily);
PG_FUNCTION_INFO_V1(predict_crowd);
PG_FUNCTION_INFO_V1(crowd_level);
PG_FUNCTION_INFO_V1(forecast);

#define MAX_FORECAST_HOURS (24 * PREDICT_REACH_DAYS)

/* Daily predictions of a station for [first, last] from its deployed models. */
typedef struct DailyForecast
{
	int32		first;
	int32		last;
	double	   *value;
	bool	   *recursive;
	LoadedModel **model;
	FeatureCtx *ctx;
} DailyForecast;

/* Predictions of n days (steps) with model m, the trees walked over all rows at once. */
void
PredictDays(const LoadedModel *m, const FeatureCtx *ctx, const int32 *days, int n, double *out)
{
	Datum		v[FEATURE_NCOLS];
	bool		nl[FEATURE_NCOLS];
	float	   *rows = m->naive ? NULL : palloc(sizeof(float) * DATASET_NCOLS * n);
	double	   *level = palloc(sizeof(double) * n);
	int			k;

	for (k = 0; k < n; k++)
	{
		CHECK_FOR_INTERRUPTS();
		FeatureRow(ctx, days[k], m->H, v, nl);
		if (m->naive)
			out[k] = DatasetNaive(v, nl, m->naive_col);
		else
			DatasetRow(v, nl, rows + (size_t) k * DATASET_NCOLS);
		level[k] = nl[FCOL_level28] ? NAN : DatumGetFloat8(v[FCOL_level28]);
	}
	if (!m->naive)
	{
		MlModelPredictRows(m->model, rows, n, out);
		if (m->ratio)
			for (k = 0; k < n; k++)
				out[k] = isnan(level[k]) ? NAN : out[k] * level[k];
		pfree(rows);
	}
	pfree(level);
}

/* Prediction of one day (step) with model m. */
static double
PredictRow(const LoadedModel *m, const FeatureCtx *ctx, int32 step)
{
	double		p;

	PredictDays(m, ctx, &step, 1, &p);
	return p;
}

/* Predict every day of [first, last] for (station, line). */
static DailyForecast *
ForecastDays(const char *station, const char *line, int32 first, int32 last)
{
	DailyForecast *f = palloc0(sizeof(DailyForecast));
	LoadedModel *models[MAX_DEPLOYED];
	StationInputs *in = Inputs(station, line, first, last, models);
	int32		observed = in->observed, start, d;
	LoadedModel **chosen;
	double	   *pred, *out;
	int32	   *todo;
	int			i;

	f->first = first;
	f->last = last;
	f->value = palloc(sizeof(double) * (last - first + 1));
	f->recursive = palloc0(sizeof(bool) * (last - first + 1));
	f->model = palloc(sizeof(LoadedModel *) * (last - first + 1));
	f->ctx = in->ctx;
	if (last > observed)
	{
		/* recursive fill writes predictions into the series: use a private copy */
		f->ctx = FeatureCtxCopy(in->ctx, CurrentMemoryContext);
	}
	start = Min(first, observed + 1);
	chosen = palloc0(sizeof(LoadedModel *) * (last - start + 1));
	pred = palloc(sizeof(double) * (last - start + 1));
	todo = palloc(sizeof(int32) * (last - start + 1));
	/* the model of each day: the shortest horizon whose inputs are observed */
	for (d = start; d <= last; d++)
	{
		LoadedModel *m = models[in->nmodels - 1];

		CHECK_FOR_INTERRUPTS();
		pred[d - start] = NAN;
		if (d < first && d <= observed)
			continue;
		for (i = 0; i < in->nmodels; i++)
			if (observed >= d - models[i]->H)
			{
				m = models[i];
				break;
			}
		chosen[d - start] = m;
		if (d <= observed + m->H && in->stamp != 0 && in->memo_model[d - in->first] == m)
			pred[d - start] = in->memo[d - in->first];	/* same inputs: same answer as before */
	}
	/* days whose inputs are all observed, model by model, in one batch each */
	for (i = 0; i < in->nmodels; i++)
	{
		int			n = 0, k;

		CHECK_FOR_INTERRUPTS();
		for (d = start; d <= last; d++)
			if (chosen[d - start] == models[i] && d - models[i]->H <= observed &&
				in->memo_model[d - in->first] != models[i])
				todo[n++] = d;
		if (n == 0)
			continue;
		PredictDays(models[i], f->ctx, todo, n, out = palloc(sizeof(double) * n));
		for (k = 0; k < n; k++)
		{
			pred[todo[k] - start] = out[k];
			if (in->stamp != 0)
			{
				in->memo[todo[k] - in->first] = out[k];
				in->memo_model[todo[k] - in->first] = models[i];
			}
		}
		pfree(out);
	}
	/* in day order: the recursive days, each filled value feeding later lags */
	for (d = start; d <= last; d++)
	{
		LoadedModel *m = chosen[d - start];
		double		p = pred[d - start];

		if (!m)
			continue;
		CHECK_FOR_INTERRUPTS();
		if (d - m->H > observed)
			p = PredictRow(m, f->ctx, d);
		if (d > observed)
			FeatureCtxSetValue(f->ctx, d, p);
		if (d >= first)
		{
			f->value[d - first] = p;
			f->recursive[d - first] = d - m->H > observed;
			f->model[d - first] = m;
		}
	}
	return f;
}

/* ERROR: the model has no hour-of-day shares. */
static void
NoShares(int64 model_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("model " INT64_FORMAT " has no hour-of-day shares", model_id),
			 errhint("Import hourly ridership (seoulmetro_hourly, ridership_hourly) or CardSubwayTime profiles, then retrain.")));
}

/* Service day and hour of a timestamptz (hours 0-3 belong to the previous day). */
static void
ServiceHour(TimestampTz ts, int32 *day, int *hour)
{
	*hour = KstHourOf(ts);
	*day = KstDateOf(ts) - (*hour < 4 ? 1 : 0);
}

/*
 * The answer for one service day of (station, line): from the shared day
 * memo when a backend has computed it in the current epoch, else computed
 * (and memoized).
 */
static void
DayAnswerFor(const char *station, const char *line, int32 day, DayAnswer *a)
{
	DailyForecast *f;
	const LoadedModel *m;
	uint64		epoch = ServeSettle() ? DayMemoEpoch() : 0;

	if (DayMemoGet(station, line, day, epoch, a))
		return;
	f = ForecastDays(station, line, day, day);
	m = f->model[0];
	memset(a, 0, sizeof(*a));
	a->value = f->value[0];
	a->model_id = m->id;
	a->has_shares = m->has_shares;
	if (m->has_shares)
		memcpy(a->shares, m->shares + CalendarDayTypeOf(f->ctx->hs, day) * 24, sizeof(a->shares));
	a->has_levels = m->has_levels;
	memcpy(a->levels, m->levels, sizeof(a->levels));
	DayMemoPut(station, line, day, epoch, a);
}

/* The share of an hour of a service day for a model, or ERROR without shares. */
static double
HourShare(const LoadedModel *m, const FeatureCtx *ctx, int32 day, int hour)
{
	if (!m->has_shares)
		NoShares(m->id);
	return m->shares[CalendarDayTypeOf(ctx->hs, day) * 24 + hour];
}

/* The crowd level of a passenger count under thresholds (NULL: none or unknown). */
const char *
CrowdLevel(bool has_levels, const double *levels, double passengers)
{
	if (!has_levels || isnan(passengers))
		return NULL;
	if (passengers < levels[0])
		return "여유";
	if (passengers < levels[1])
		return "보통";
	if (passengers < levels[2])
		return "혼잡";
	return "매우혼잡";
}

/* Expected passengers in the hour containing ts (NaN when unknown), with the day's answer. */
static double
PredictHour(const char *station, const char *line, TimestampTz ts, DayAnswer *a)
{
	int32		day;
	int			hour;

	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ts must be finite")));
	ServiceHour(ts, &day, &hour);
	DayAnswerFor(station, line, day, a);
	if (!a->has_shares)
		NoShares(a->model_id);
	return a->value * a->shares[hour];
}

/* predict_daily(day, station, line) */
Datum
predict_daily(PG_FUNCTION_ARGS)
{
	DateADT		day = PG_GETARG_DATEADT(0);
	DayAnswer	a;

	if (DATE_NOT_FINITE(day))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("day must be finite")));
	DayAnswerFor(text_to_cstring(PG_GETARG_TEXT_PP(1)), text_to_cstring(PG_GETARG_TEXT_PP(2)), day, &a);
	if (isnan(a.value))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(a.value);
}

/* predict_crowd(ts, station, line) */
Datum
predict_crowd(PG_FUNCTION_ARGS)
{
	DayAnswer	a;
	double		p = PredictHour(text_to_cstring(PG_GETARG_TEXT_PP(1)), text_to_cstring(PG_GETARG_TEXT_PP(2)),
								PG_GETARG_TIMESTAMPTZ(0), &a);

	if (isnan(p))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(p);
}

/* crowd_level(ts, station, line) */
Datum
crowd_level(PG_FUNCTION_ARGS)
{
	DayAnswer	a;
	double		p = PredictHour(text_to_cstring(PG_GETARG_TEXT_PP(1)), text_to_cstring(PG_GETARG_TEXT_PP(2)),
								PG_GETARG_TIMESTAMPTZ(0), &a);
	const char *level = CrowdLevel(a.has_levels, a.levels, p);

	if (!level && !isnan(p))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("model " INT64_FORMAT " has no crowd-level thresholds", a.model_id),
				 errhint("Retrain with hour shares available, or give them: hyperparams => '{\"levels\": [a, b, c]}'.")));
	if (!level)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(level));
}

/* forecast(station, line, from_ts, to_ts): hourly rows with a 90% interval and the level. */
Datum
forecast(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *station = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *line = text_to_cstring(PG_GETARG_TEXT_PP(1));
	TimestampTz from_ts = PG_GETARG_TIMESTAMPTZ(2);
	TimestampTz to_ts = PG_GETARG_TIMESTAMPTZ(3);
	int64		h0, h1, h;
	int32		d0, d1;
	int			hr;
	DailyForecast *f;
	const char *last_level = NULL;	/* the text of the last level, made once per run of equal levels */
	Datum		last_level_text = (Datum) 0;

	if (TIMESTAMP_NOT_FINITE(from_ts) || TIMESTAMP_NOT_FINITE(to_ts) || to_ts < from_ts)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from_ts and to_ts must be finite, with to_ts not before from_ts")));
	FeatureStepRange(from_ts, to_ts, 24, &h0, &h1);
	if (h1 - h0 + 1 > MAX_FORECAST_HOURS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("forecast covers at most %d hours", MAX_FORECAST_HOURS)));
	InitMaterializedSRF(fcinfo, 0);
	if (h1 < h0)
		return (Datum) 0;
	ServiceHour(h0 * USECS_PER_HOUR, &d0, &hr);
	ServiceHour(h1 * USECS_PER_HOUR, &d1, &hr);
	f = ForecastDays(station, line, d0, d1);
	for (h = h0; h <= h1; h++)
	{
		TimestampTz ts = h * USECS_PER_HOUR;
		int32		day;
		LoadedModel *m;
		double		p;
		const char *level;
		Datum		v[6];
		bool		n[6] = {false, false, false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		ServiceHour(ts, &day, &hr);
		m = f->model[day - d0];
		p = f->value[day - d0] * HourShare(m, f->ctx, day, hr);
		level = CrowdLevel(m->has_levels, m->levels, p);
		v[0] = TimestampTzGetDatum(ts);
		v[1] = Float8GetDatum(p);
		n[1] = isnan(p);
		v[2] = Float8GetDatum(p * (1 + m->q05));
		n[2] = isnan(p) || isnan(m->q05);
		v[3] = Float8GetDatum(p * (1 + m->q95));
		n[3] = isnan(p) || isnan(m->q95);
		if (level && level != last_level)
		{
			last_level = level;
			last_level_text = CStringGetTextDatum(level);
		}
		v[4] = level ? last_level_text : (Datum) 0;
		n[4] = level == NULL;
		v[5] = BoolGetDatum(f->recursive[day - d0]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}
