/*
 * predict.c — prediction from stored models: predict_daily, predict_crowd,
 * crowd_level, forecast, evaluate and model_explain.
 *
 * Which model answers: of the models deployed for the station, the one with
 * the smallest horizon whose inputs exist (the station is observed up to at
 * least day - horizon); when none has, the longest-horizon model, with the
 * days between the last observation and the target filled by its own
 * predictions (recursive).  Deployments are looked up on every call, so a
 * deploy or rollback in one session is seen by every other at once; the
 * deserialized models are cached per backend by id (a stored model never
 * changes).  Hourly values are the service day's prediction times the
 * hour's share for the day type (two-stage).
 */
#include "postgres.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

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

#include "../safe_spi.h"
#include "../kst.h"
#include "dataset.h"
#include "day_memo.h"
#include "model.h"
#include "model_share.h"
#include "shares.h"
#include "../ingest/worker.h"

PG_FUNCTION_INFO_V1(predict_daily);
PG_FUNCTION_INFO_V1(predict_crowd);
PG_FUNCTION_INFO_V1(crowd_level);
PG_FUNCTION_INFO_V1(forecast);
PG_FUNCTION_INFO_V1(evaluate);
PG_FUNCTION_INFO_V1(model_explain);
PG_FUNCTION_INFO_V1(model_cache);

#define CACHE_SIZE 32
#define MAX_DEPLOYED STATION_MEMO_MODELS	/* models of one station considered (< CACHE_SIZE) */

/*
 * How far predictions reach: days from PREDICT_REACH_DAYS before a
 * station's first observed day to PREDICT_REACH_DAYS after its last.
 * Further out every lag would be a prediction of a prediction, and the
 * work and memory grow with the distance; the range is checked before
 * anything is loaded for it.
 */
#define PREDICT_REACH_DAYS 400
#define MAX_FORECAST_HOURS (24 * PREDICT_REACH_DAYS)
#define MAX_RESIDUAL 1000		/* a stored relative residual quantile beyond is absurd */

/*
 * A stored model, ready to predict.  The fields before `model` hold no
 * pointers: they are the metadata kept with the model in the shared model
 * cache (MODEL_META_SIZE bytes).
 */
typedef struct LoadedModel
{
	int64		id;
	int32		station_id;
	int64		H;				/* horizon in days */
	bool		naive;
	bool		ratio;
	int			naive_col;
	bool		has_shares;
	double		shares[SHARES_N];
	bool		has_levels;
	double		levels[3];
	double		q05;			/* relative residual quantiles of the backtest */
	double		q95;
	/* this backend's */
	MlModel    *model;
	MemoryContext cxt;
	int			share_slot;		/* the shared cache entry model points into, or -1 */
	uint64		models_gen;		/* models generation it was read at (0: unknown) */
} LoadedModel;

#define MODEL_META_SIZE offsetof(LoadedModel, model)

static LoadedModel *cache[CACHE_SIZE];
static int	cache_next = 0;

/*
 * A float8[] column into out (at most max values): how many it has, or -1
 * when NULL.  NULL elements become NaN.
 */
static int
ReadF8Array(HeapTuple t, TupleDesc d, int col, double *out, int max)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);
	ArrayType  *a;
	Datum	   *elems;
	bool	   *nulls;
	int			count, i;

	if (isnull)
		return -1;
	a = DatumGetArrayTypeP(v);
	deconstruct_array(a, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &count);
	for (i = 0; i < count && i < max; i++)
		out[i] = nulls[i] ? NAN : DatumGetFloat8(elems[i]);
	return count;
}

/*
 * What predicting for one station needs: its deployed models, its last
 * observed day and a feature context.  Kept per backend while the shared
 * data generation (bumped at commit of any write to ridership, holidays,
 * weather, models or deployments) does not change, so a warm prediction
 * runs no query at all.
 */
typedef struct StationInputs
{
	uint64		generation;		/* 0: not cached */
	char	   *station;
	char	   *line;
	int32		station_id;
	int32		observed_first;	/* the station's first and last observed days */
	int32		observed;
	int			nmodels;
	int64		model_ids[CACHE_SIZE];
	FeatureCtx *ctx;
	int32		first;			/* days the context serves */
	int32		last;
	double	   *memo;			/* daily predictions of observed-input days (NaN: not yet) */
	LoadedModel **memo_model;
	MemoryContext cxt;
} StationInputs;

static StationInputs inputs;
static SPIPlanPtr observed_plan = NULL;	/* of ObservedRange */
static Oid	cache_incarnation = InvalidOid;
static int64 pinned[MAX_DEPLOYED];	/* models Deployed is loading: not evicted */
static int	npinned = 0;

static Oid	Incarnation(void);

/* Forget a cached model: its memory, and its reference to the shared cache. */
static void
ModelDrop(LoadedModel *m)
{
	int			slot = m->share_slot;

	MemoryContextDelete(m->cxt);
	ModelShareRelease(slot);
}

static bool call_cache_ok = false;	/* SettleCall: the caches may be used in this call */

/*
 * Settle, at the start of every SQL-callable function that predicts or
 * loads a model, the install the caches belong to (Incarnation: never in
 * the middle of a call, as a changed install forgets every cached model)
 * and whether the caches may be used and filled in this call: where the
 * generations may be (GenerationsUsable), for a user who may read the
 * models and the ridership the cached answers come from.
 */
static void
SettleCall(void)
{
	Oid			models = Incarnation();
	Oid			daily;

	call_cache_ok = false;
	if (!GenerationsUsable() || !OidIsValid(models))
		return;
	/* what is cached was read by someone: serve it only to who may read it */
	daily = get_relname_relid("ridership_daily", get_rel_namespace(models));
	call_cache_ok = pg_class_aclcheck(models, GetUserId(), ACL_SELECT) == ACLCHECK_OK &&
		OidIsValid(daily) && pg_class_aclcheck(daily, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
}

/* A generation the caches are valid for in this call, or 0 when they must not be used (see SettleCall). */
static uint64
CallGeneration(GenerationKind kind)
{
	return call_cache_ok ? Generation(kind) : 0;
}

/*
 * The install of the extension the caches belong to: the oid of its models
 * table (two syscache lookups).  When it is not the one the caches were
 * filled from (the extension was dropped and created again, and model ids
 * start over), every cached model and input is forgotten first.
 */
static Oid
Incarnation(void)
{
	Oid			schema = get_namespace_oid("seongsu", true);
	Oid			models = OidIsValid(schema) ? get_relname_relid("models", schema) : InvalidOid;
	int			i;

	if (models != cache_incarnation)
	{
		for (i = 0; i < CACHE_SIZE; i++)
			if (cache[i])
			{
				ModelDrop(cache[i]);
				cache[i] = NULL;
			}
		inputs.generation = 0;
		cache_incarnation = models;
	}
	return models;
}

/* Whether Deployed is loading the model with this id. */
static bool
IsPinned(int64 id)
{
	int			i;

	for (i = 0; i < npinned; i++)
		if (pinned[i] == id)
			return true;
	return false;
}

/* A residual quantile stored as JSON text into *q (NaN when absent); false when it is no finite number. */
static bool
ReadQuantile(HeapTuple t, TupleDesc d, int col, double *q)
{
	char	   *text = SPI_getvalue(t, d, col);
	char	   *end;

	*q = NAN;
	if (text == NULL)
		return true;
	errno = 0;
	*q = strtod(text, &end);
	return end != text && *end == '\0' && errno == 0 && isfinite(*q);
}

/*
 * The metadata of a model row into m (everything but the model itself), or
 * what contradicts the model's own rules: a grain other than daily, a
 * horizon that is not a whole number of days within the features' limit,
 * an unknown algorithm or a target mode that does not fit it, hour shares
 * that are not 5 x 24 numbers in [0, 1] summing to 1 per day type, crowd
 * levels that are not three increasing positive numbers, or residual
 * quantiles (actual / predicted - 1) that are not ordered numbers within
 * [-1, MAX_RESIDUAL].
 */
static const char *
ModelRowProblem(HeapTuple t, TupleDesc d, LoadedModel *m, char **algorithm)
{
	bool		isnull;
	Datum		hv = SPI_getbinval(t, d, 2, &isnull);
	Interval   *iv = isnull ? NULL : DatumGetIntervalP(hv);
	char	   *grain = SPI_getvalue(t, d, 3);
	char	   *mode = SPI_getvalue(t, d, 5);
	int			n, k, h;
	MlAlgorithm fitted;

	*algorithm = SPI_getvalue(t, d, 4);
	m->station_id = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));
	if (isnull || !grain || !*algorithm || !mode || !iv)
		return "a required column is NULL";
	if (strcmp(grain, "daily") != 0)
		return psprintf("its grain is \"%s\", not daily", grain);
	if (iv->month != 0 || iv->time % USECS_PER_DAY != 0 ||
		(int64) iv->day + iv->time / USECS_PER_DAY < 1 ||
		(int64) iv->day + iv->time / USECS_PER_DAY > FEATURE_MAX_HORIZON_DAYS)
		return psprintf("its horizon \"%s\" is not a whole number of days from 1 to %d",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(iv))),
						FEATURE_MAX_HORIZON_DAYS);
	m->H = (int64) iv->day + iv->time / USECS_PER_DAY;
	m->naive = strcmp(*algorithm, "seasonal_naive") == 0;
	if (!m->naive && !MlAlgorithmFromName(*algorithm, &fitted))
		return psprintf("its algorithm \"%s\" is unknown", *algorithm);
	if (m->naive ? strcmp(mode, "lag") != 0 : (strcmp(mode, "raw") != 0 && strcmp(mode, "ratio") != 0))
		return psprintf("its target mode \"%s\" is not one of %s", mode,
						m->naive ? "seasonal_naive's (lag)" : "a fitted model's (raw, ratio)");
	m->ratio = strcmp(mode, "ratio") == 0;
	m->naive_col = DatasetNaiveColumn(m->H);
	if (m->naive && m->naive_col < 0)
		return psprintf("its horizon of " INT64_FORMAT " days is longer than seasonal_naive's 28", m->H);
	n = ReadF8Array(t, d, 7, m->shares, SHARES_N);
	m->has_shares = n >= 0;
	if (n >= 0 && n != SHARES_N)
		return psprintf("it has %d hour shares, not %d (5 day types x 24 hours)", n, SHARES_N);
	for (k = 0; m->has_shares && k < 5; k++)
	{
		double		sum = 0;

		for (h = 0; h < 24; h++)
		{
			double		x = m->shares[k * 24 + h];

			if (!(x >= 0 && x <= 1))
				return psprintf("its hour share of day type %d, hour %d is %g, not in [0, 1]", k, h, x);
			sum += x;
		}
		if (fabs(sum - 1) > 1e-6)
			return psprintf("its hour shares of day type %d sum to %.9g, not 1", k, sum);
	}
	n = ReadF8Array(t, d, 8, m->levels, 3);
	m->has_levels = n >= 0;
	if (n >= 0 && (n != 3 || !(m->levels[0] > 0 && m->levels[0] < m->levels[1] &&
							   m->levels[1] < m->levels[2] && isfinite(m->levels[2]))))
		return "its crowd levels are not three increasing positive numbers";
	if (!ReadQuantile(t, d, 9, &m->q05) || !ReadQuantile(t, d, 10, &m->q95))
		return "its residual quantiles (metrics.relative_residual_quantiles q05, q95) are not finite numbers";
	if ((!isnan(m->q05) && !(m->q05 >= -1 && m->q05 <= MAX_RESIDUAL)) ||
		(!isnan(m->q95) && !(m->q95 >= -1 && m->q95 <= MAX_RESIDUAL)) || m->q05 > m->q95)
		return psprintf("its residual quantiles q05 %g and q95 %g are not ordered within [-1, %d]",
						m->q05, m->q95, MAX_RESIDUAL);
	return NULL;
}

/* ERROR: model id is corrupt, for the reason given. */
static void
ModelCorrupt(int64 id, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("model " INT64_FORMAT " is corrupt: %s", id, problem),
			 errhint("Retrain the project (seongsu.train) or roll back (seongsu.rollback).")));
}

/*
 * The model with this id read from the table (with a snapshot taken now,
 * after the caller read the models generation), in a new context, or ERROR
 * (caller has SPI): data_corrupted when the row's metadata breaks a rule of
 * ModelRowProblem, or the blob is unreadable, has other feature columns or
 * another algorithm than the row says.
 */
static LoadedModel *
ModelRead(int64 id)
{
	Oid			types[1] = {INT8OID};
	Datum		v[1];
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	LoadedModel meta, *m;
	MemoryContext cxt, old;
	char	   *alg;
	const char *problem;
	Datum		b;

	v[0] = Int64GetDatum(id);
	if (SPI_execute_with_args("SELECT station_id, horizon, grain, algorithm, target_mode, blob, hour_shares, levels, "
							  "(metrics OPERATOR(pg_catalog.->) 'relative_residual_quantiles') "
							  "OPERATOR(pg_catalog.->>) 'q05', "
							  "(metrics OPERATOR(pg_catalog.->) 'relative_residual_quantiles') "
							  "OPERATOR(pg_catalog.->>) 'q95' "
							  "FROM seongsu.models WHERE id OPERATOR(pg_catalog.=) $1", 1, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.models");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("model " INT64_FORMAT " does not exist", id)));
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	memset(&meta, 0, sizeof(meta));
	if ((problem = ModelRowProblem(t, d, &meta, &alg)) != NULL)
		ModelCorrupt(id, problem);
	b = SPI_getbinval(t, d, 6, &isnull);
	if (meta.naive != isnull)
		ModelCorrupt(id, meta.naive ? "it is seasonal_naive but has a stored model" : "it has no stored model");
	cxt = AllocSetContextCreate(CacheMemoryContext, "seongsu model", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	m = palloc0(sizeof(LoadedModel));
	*m = meta;
	m->cxt = cxt;
	m->share_slot = -1;
	m->id = id;
	if (!m->naive)
	{
		bytea	   *blob = DatumGetByteaPP(b);
		char		err[256];

		err[0] = '\0';
		problem = NULL;
		if (!MlModelDeserialize((const uint8 *) VARDATA_ANY(blob), VARSIZE_ANY_EXHDR(blob),
								&m->model, err, sizeof(err)))
			problem = err[0] ? pstrdup(err) : "its stored model cannot be read";
		else if (MlModelNumFeatures(m->model) != DATASET_NCOLS)
			problem = "it does not have the feature columns of this version";
		else if (strcmp(MlAlgorithmName(MlModelAlgorithm(m->model)), alg) != 0)
			problem = psprintf("its algorithm is %s but its stored model is %s", alg,
							   MlAlgorithmName(MlModelAlgorithm(m->model)));
		if (problem)
		{
			MemoryContextSwitchTo(old);
			problem = pstrdup(problem);
			MemoryContextDelete(cxt);
			ModelCorrupt(id, problem);
		}
	}
	MemoryContextSwitchTo(old);
	return m;
}

/*
 * The model with this id, from the shared model cache at models generation
 * gen (in a new context, predicting from the shared copy), or NULL.
 */
static LoadedModel *
ModelFromShare(int64 id, uint64 gen)
{
	const void *meta, *image;
	int			slot = ModelShareAcquire(cache_incarnation, id, gen, MODEL_META_SIZE, &meta, &image);
	MemoryContext cxt, old;
	LoadedModel *volatile m = NULL;

	if (slot < 0)
		return NULL;
	cxt = AllocSetContextCreate(CacheMemoryContext, "seongsu model", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		m = palloc0(sizeof(LoadedModel));
		memcpy(m, meta, MODEL_META_SIZE);
		m->model = image ? MlModelImageView(image) : NULL;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		ModelShareRelease(slot);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	if (image && !m->model)
	{
		/* not an image: do not use it */
		MemoryContextDelete(cxt);
		ModelShareRelease(slot);
		return NULL;
	}
	m->cxt = cxt;
	m->share_slot = slot;
	m->models_gen = gen;
	return m;
}

/*
 * The model with this id: from the backend cache (when read at the current
 * models generation, or when that is unknown), the shared cache or the
 * table (caller has SPI, and called SettleCall).
 */
static LoadedModel *
ModelLoad(int64 id)
{
	uint64		gen = CallGeneration(GEN_MODELS);
	LoadedModel *m;
	int			i;

	for (i = 0; i < CACHE_SIZE; i++)
		if (cache[i] && cache[i]->id == id)
		{
			if (gen == 0 || cache[i]->models_gen == gen)
				return cache[i];
			/* a model row was written since: read it again */
			ModelDrop(cache[i]);
			cache[i] = NULL;
		}
	m = ModelFromShare(id, gen);
	if (!m)
	{
		m = ModelRead(id);
		m->models_gen = gen;
		ModelSharePut(cache_incarnation, id, gen, m, MODEL_META_SIZE, m->model);
	}
	while (cache[cache_next] && IsPinned(cache[cache_next]->id))
		cache_next = (cache_next + 1) % CACHE_SIZE;
	if (cache[cache_next])
		ModelDrop(cache[cache_next]);
	cache[cache_next] = m;
	cache_next = (cache_next + 1) % CACHE_SIZE;
	return m;
}

/*
 * Model outputs (before the ratio target's level) of days, with the feature
 * row each came from and the model that made it, kept across reloads of the
 * inputs: a prediction is a function of the model and the row alone, so a
 * day whose row is the same after a data change gets its output back
 * without walking the trees.  Covers the days of the inputs cache.
 */
typedef struct RowMemo
{
	int32		first;			/* days [first, first + n) */
	int			n;
	float	   *rows;			/* n x DATASET_NCOLS */
	double	   *raw;
	int64	   *model_id;		/* 0: no entry */
	uint64	   *models_gen;
	Oid			install;
	MemoryContext cxt;
} RowMemo;

static RowMemo rowmemo;

/* Make the row memo cover days [first, last], keeping the entries of days it covered. */
static void
RowMemoCover(int32 first, int32 last)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "seongsu row memo", ALLOCSET_DEFAULT_SIZES);
	int			n = last - first + 1, d;
	RowMemo		r;

	r.first = first;
	r.n = n;
	r.cxt = cxt;
	r.install = cache_incarnation;
	r.rows = MemoryContextAllocHuge(cxt, sizeof(float) * DATASET_NCOLS * n);
	r.raw = MemoryContextAlloc(cxt, sizeof(double) * n);
	r.model_id = MemoryContextAllocZero(cxt, sizeof(int64) * n);
	r.models_gen = MemoryContextAllocZero(cxt, sizeof(uint64) * n);
	for (d = Max(first, rowmemo.first); rowmemo.cxt && rowmemo.install == r.install &&
		 d < Min(last + 1, rowmemo.first + rowmemo.n); d++)
	{
		int			i = d - first, j = d - rowmemo.first;

		memcpy(r.rows + (size_t) i * DATASET_NCOLS, rowmemo.rows + (size_t) j * DATASET_NCOLS,
			   sizeof(float) * DATASET_NCOLS);
		r.raw[i] = rowmemo.raw[j];
		r.model_id[i] = rowmemo.model_id[j];
		r.models_gen[i] = rowmemo.models_gen[j];
	}
	if (rowmemo.cxt)
		MemoryContextDelete(rowmemo.cxt);
	rowmemo = r;
}

/* The index of day in the row memo when it holds model m's output for this row, else -1. */
static int
RowMemoFind(const LoadedModel *m, int32 day, const float *row)
{
	int			i = day - rowmemo.first;

	if (!rowmemo.cxt || rowmemo.install != cache_incarnation || i < 0 || i >= rowmemo.n ||
		m->models_gen == 0 || rowmemo.model_id[i] != m->id || rowmemo.models_gen[i] != m->models_gen ||
		memcmp(rowmemo.rows + (size_t) i * DATASET_NCOLS, row, sizeof(float) * DATASET_NCOLS) != 0)
		return -1;
	return i;
}

/* Remember model m's output for day's row (days outside the memo are not kept). */
static void
RowMemoPut(const LoadedModel *m, int32 day, const float *row, double raw)
{
	int			i = day - rowmemo.first;

	if (!rowmemo.cxt || rowmemo.install != cache_incarnation || i < 0 || i >= rowmemo.n || m->models_gen == 0)
		return;
	memcpy(rowmemo.rows + (size_t) i * DATASET_NCOLS, row, sizeof(float) * DATASET_NCOLS);
	rowmemo.raw[i] = raw;
	rowmemo.model_id[i] = m->id;
	rowmemo.models_gen[i] = m->models_gen;
}

/*
 * Predictions of n days (steps) with model m, the trees walked over all
 * rows at once; with use_memo, days whose row the row memo holds for m are
 * not walked again, and the others are remembered.
 */
static void
PredictDays(const LoadedModel *m, const FeatureCtx *ctx, const int32 *days, int n, double *out, bool use_memo)
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
		level[k] = nl[FEATURE_COL_LEVEL] ? NAN : DatumGetFloat8(v[FEATURE_COL_LEVEL]);
	}
	if (!m->naive)
	{
		int		   *walk = palloc(sizeof(int) * n);	/* the days whose rows are walked, in order */
		double	   *raw = palloc(sizeof(double) * n);
		int			nwalk = 0, t;

		/* move the rows to walk to the front */
		for (k = 0; k < n; k++)
		{
			int			i = use_memo ? RowMemoFind(m, days[k], rows + (size_t) k * DATASET_NCOLS) : -1;

			if (i >= 0)
				out[k] = rowmemo.raw[i];
			else
			{
				if (nwalk != k)
					memcpy(rows + (size_t) nwalk * DATASET_NCOLS, rows + (size_t) k * DATASET_NCOLS,
						   sizeof(float) * DATASET_NCOLS);
				walk[nwalk++] = k;
			}
		}
		MlModelPredictRows(m->model, rows, nwalk, raw);
		for (t = 0; t < nwalk; t++)
		{
			out[walk[t]] = raw[t];
			if (use_memo)
				RowMemoPut(m, days[walk[t]], rows + (size_t) t * DATASET_NCOLS, raw[t]);
		}
		if (m->ratio)
			for (k = 0; k < n; k++)
				out[k] = isnan(level[k]) ? NAN : out[k] * level[k];
		pfree(walk);
		pfree(raw);
		pfree(rows);
	}
	pfree(level);
}

/* Prediction of one day (step) with model m (use_memo: see PredictDays). */
static double
PredictRow(const LoadedModel *m, const FeatureCtx *ctx, int32 step, bool use_memo)
{
	double		p;

	PredictDays(m, ctx, &step, 1, &p, use_memo);
	return p;
}

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

/*
 * Station id and deployed daily models (their ids by horizon, at most
 * STATION_MEMO_MODELS) of (station, line): from the shared memo at the
 * current deployments generation, else looked up (and memoized).  ERROR
 * when the station is unknown.  Caller has SPI.
 */
static void
StationLookup(const char *station, const char *line, StationLookups *out)
{
	uint64		gen = CallGeneration(GEN_DEPLOY);
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	uint64		i;

	if (StationMemoGet(cache_incarnation, station, line, gen, out))
		return;
	out->station_id = FeatureStationId(station, line);
	v[0] = Int32GetDatum(out->station_id);
	if (SPI_execute_with_args("SELECT model_id FROM seongsu.deployed_models WHERE station_id OPERATOR(pg_catalog.=) $1 "
							  "AND grain OPERATOR(pg_catalog.=) 'daily' ORDER BY horizon, model_id", 1, types, v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.deployed_models");
	out->nmodels = (int) Min(SPI_processed, (uint64) STATION_MEMO_MODELS);
	for (i = 0; i < (uint64) out->nmodels; i++)
	{
		bool		isnull;

		out->model_ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	StationMemoPut(cache_incarnation, station, line, gen, out);
}

/* The models with these ids, into out (caller has SPI). */
static void
Deployed(const int64 *ids, int n, LoadedModel **out)
{
	int			i;

	/* loading one must not evict another of them from the cache */
	memcpy(pinned, ids, sizeof(int64) * n);
	npinned = n;
	for (i = 0; i < n; i++)
		out[i] = ModelLoad(ids[i]);
	npinned = 0;
}

/* True when every model of the cached inputs is still in the model cache. */
static bool
InputsModels(const StationInputs *in, LoadedModel **out)
{
	int			i, j;

	for (i = 0; i < in->nmodels; i++)
	{
		out[i] = NULL;
		for (j = 0; j < CACHE_SIZE; j++)
			if (cache[j] && cache[j]->id == in->model_ids[i])
				out[i] = cache[j];
		if (!out[i])
			return false;
	}
	return true;
}

/* A PostgreSQL date as YYYY-MM-DD (whatever the DateStyle). */
static char *
IsoDate(int32 d)
{
	int			y, m, dd;

	KstPgDateParts(d, &y, &m, &dd);
	return psprintf("%04d-%02d-%02d", y, m, dd);
}

/* The first and last observed days of a station; false when it has none (caller has SPI). */
static bool
ObservedRange(int32 station_id, int32 *first, int32 *last)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	bool		n1, n2;

	v[0] = Int32GetDatum(station_id);
	if (SPI_execute_plan(KeptPlan(&observed_plan, "SELECT pg_catalog.min(day), pg_catalog.max(day) "
								  "FROM seongsu.ridership_daily WHERE station_id OPERATOR(pg_catalog.=) $1",
								  1, types), v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.ridership_daily");
	*first = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n1));
	*last = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &n2));
	return !n1 && !n2;
}

/*
 * ERROR (22008) unless the days [first, last] are within reach of a
 * station's observations [obs_first, obs_last] (PREDICT_REACH_DAYS).
 */
static void
CheckReach(int32 first, int32 last, int32 obs_first, int32 obs_last)
{
	if ((int64) last > (int64) obs_last + PREDICT_REACH_DAYS)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cannot predict %s: it is more than %d days after the last observation",
						IsoDate(last), PREDICT_REACH_DAYS),
				 errdetail("Predictions reach at most %d days beyond the station's observations, which end on %s.",
						   PREDICT_REACH_DAYS, IsoDate(obs_last)),
				 errhint("Ask about a day up to %s, or import or ingest newer ridership first.",
						 IsoDate(obs_last + PREDICT_REACH_DAYS))));
	if ((int64) first < (int64) obs_first - PREDICT_REACH_DAYS)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cannot predict %s: it is more than %d days before the first observation",
						IsoDate(first), PREDICT_REACH_DAYS),
				 errdetail("Predictions reach at most %d days beyond the station's observations, which start on %s.",
						   PREDICT_REACH_DAYS, IsoDate(obs_first)),
				 errhint("Ask about a day from %s on.", IsoDate(obs_first - PREDICT_REACH_DAYS))));
}

/*
 * Load (or reuse) the inputs for predicting [first, last] of (station, line).
 * The cache is used and filled only when what it holds is what this
 * statement would read: not in a transaction that wrote watched data, not
 * under a transaction-long snapshot; loading reads with fresh snapshots
 * taken after the generation is read, so a concurrent commit at worst makes
 * the next call reload.
 */
static StationInputs *
Inputs(const char *station, const char *line, int32 first, int32 last, LoadedModel **models)
{
	int			spi;
	uint64		gen = CallGeneration(GEN_DATA);
	StationInputs *in = &inputs;
	StationLookups lookups;
	int			i;

	if (gen != 0 && in->generation == gen && strcmp(in->station, station) == 0 &&
		strcmp(in->line, line) == 0 && first >= in->first && last <= in->last &&
		InputsModels(in, models))
	{
		CheckReach(first, last, in->observed_first, in->observed);
		return in;
	}

	if (!in->cxt)
		in->cxt = AllocSetContextCreate(TopMemoryContext, "seongsu prediction inputs", ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(in->cxt);
	in->generation = 0;
	in->station = MemoryContextStrdup(in->cxt, station);
	in->line = MemoryContextStrdup(in->cxt, line);
	spi = SsSpiConnect();
	StationLookup(station, line, &lookups);
	in->station_id = lookups.station_id;
	in->nmodels = lookups.nmodels;
	if (in->nmodels <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no model is deployed for station \"%s\" on line \"%s\"", station, line),
				 errhint("Train one: SELECT * FROM seongsu.train('%s', '%s');", station, line)));
	if (!ObservedRange(in->station_id, &in->observed_first, &in->observed))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("station \"%s\" on line \"%s\" has no daily ridership to predict from", station, line),
				 errhint("Import or ingest its ridership (seongsu.import_file, seongsu.enqueue).")));
	CheckReach(first, last, in->observed_first, in->observed);
	Deployed(lookups.model_ids, in->nmodels, models);
	memcpy(in->model_ids, lookups.model_ids, sizeof(int64) * in->nmodels);
	SsSpiFinish(spi);
	/* serve two years back and two months ahead, and at least what is asked */
	in->first = Min(Min(first, in->observed + 1), in->observed - 730);
	in->last = Max(last, in->observed + 62);
	in->ctx = FeatureCtxLoad(in->station_id, in->first, in->last, 1, models[in->nmodels - 1]->H, in->cxt);
	if (gen != 0)
		RowMemoCover(in->first, in->last);
	in->memo = MemoryContextAlloc(in->cxt, sizeof(double) * (in->last - in->first + 1));
	in->memo_model = MemoryContextAllocZero(in->cxt, sizeof(LoadedModel *) * (in->last - in->first + 1));
	for (i = 0; i <= in->last - in->first; i++)
		in->memo[i] = NAN;
	in->generation = gen;
	return in;
}

/* Predict every day of [first, last] for (station, line). */
static DailyForecast *
ForecastDays(const char *station, const char *line, int32 first, int32 last)
{
	DailyForecast *f = palloc0(sizeof(DailyForecast));
	LoadedModel *models[CACHE_SIZE];
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
		FeatureCtx *copy = palloc(sizeof(FeatureCtx));

		*copy = *in->ctx;
		copy->ser.v = palloc(sizeof(double) * copy->ser.n);
		memcpy(copy->ser.v, in->ctx->ser.v, sizeof(double) * copy->ser.n);
		f->ctx = copy;
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
		if (d <= observed + m->H && in->generation != 0 && in->memo_model[d - in->first] == m)
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
		PredictDays(models[i], f->ctx, todo, n, out = palloc(sizeof(double) * n), in->generation != 0);
		for (k = 0; k < n; k++)
		{
			pred[todo[k] - start] = out[k];
			if (in->generation != 0)
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
			p = PredictRow(m, f->ctx, d, in->generation != 0);
		if (d > observed)
		{
			int64		k = d - f->ctx->ser.base;

			if (k >= 0 && k < f->ctx->ser.n)
				f->ctx->ser.v[k] = p;
		}
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
 * memo when a backend has computed it at this data generation, else
 * computed (and memoized).  Used under the same conditions as the
 * per-backend inputs cache (see Inputs).
 */
static void
DayAnswerFor(const char *station, const char *line, int32 day, DayAnswer *a)
{
	uint64		gen;
	DailyForecast *f;
	const LoadedModel *m;

	SettleCall();
	gen = CallGeneration(GEN_DATA);

	if (DayMemoGet(cache_incarnation, station, line, day, gen, a))
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
	DayMemoPut(cache_incarnation, station, line, day, gen, a);
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
static const char *
Level(bool has_levels, const double *levels, double passengers)
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
	const char *level = Level(a.has_levels, a.levels, p);

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
	SettleCall();
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
		level = Level(m->has_levels, m->levels, p);
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

/* The model with this id, loaded outside any SPI connection of the caller. */
static LoadedModel *
ModelLoadStandalone(int64 id)
{
	int			spi;
	LoadedModel *m;

	SettleCall();
	spi = SsSpiConnect();
	m = ModelLoad(id);
	SsSpiFinish(spi);
	return m;
}

/* Load a stored model into the backend cache, or ERROR (data_corrupted when it cannot be read). */
void
ModelLoadOrError(int64 model_id)
{
	(void) ModelLoadStandalone(model_id);
}

/* A model's predictions for the observed days of a range (no refit). */
typedef struct Scored
{
	int			n;
	int32	   *days;
	double	   *actual;
	double	   *pred;
} Scored;

/*
 * Score a stored model on the observed days of [from, to], with features
 * at its own horizon; ERROR when the range is beyond the reach of the
 * station's observations (CheckReach).
 */
static Scored
ScoreObservedDays(int64 model_id, int32 from, int32 to)
{
	LoadedModel *m = ModelLoadStandalone(model_id);
	FeatureCtx *ctx;
	Scored		sc;
	int32		d, obs_first, obs_last;
	int			spi = SsSpiConnect();
	bool		observed = ObservedRange(m->station_id, &obs_first, &obs_last);

	SsSpiFinish(spi);
	memset(&sc, 0, sizeof(sc));
	if (!observed)
		return sc;				/* no observed day to score */
	CheckReach(from, to, obs_first, obs_last);
	ctx = FeatureCtxLoad(m->station_id, from, to, 1, m->H, CurrentMemoryContext);
	sc.days = palloc(sizeof(int32) * (to - from + 1));
	sc.actual = palloc(sizeof(double) * (to - from + 1));
	for (d = from; d <= to; d++)
	{
		double		actual = ctx->ser.v[d - ctx->ser.base];

		CHECK_FOR_INTERRUPTS();
		if (isnan(actual))
			continue;
		sc.days[sc.n] = d;
		sc.actual[sc.n++] = actual;
	}
	sc.pred = palloc(sizeof(double) * (sc.n + 1));
	PredictDays(m, ctx, sc.days, sc.n, sc.pred, false);
	return sc;
}

/*
 * RMSE of a stored model over the observed days of [from, to], with
 * features at its own horizon (no refit); NaN when no day is observed.
 * Used to compare a new model with the live one on the same window.
 */
double
ModelWindowRmse(int64 model_id, int32 from, int32 to)
{
	Scored		sc = ScoreObservedDays(model_id, from, to);
	double		sum = 0;
	int			n = 0, k;

	for (k = 0; k < sc.n; k++)
	{
		double		err = sc.actual[k] - sc.pred[k];

		if (isnan(err))
			continue;
		sum += err * err;
		n++;
	}
	return n > 0 ? sqrt(sum / n) : NAN;
}

/* evaluate(model_id, from_date, to_date): actual and predicted passengers of observed days. */
Datum
evaluate(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		id = PG_GETARG_INT64(0);
	DateADT		from = PG_GETARG_DATEADT(1);
	DateADT		to = PG_GETARG_DATEADT(2);
	Scored		sc;
	int			k;

	if (DATE_NOT_FINITE(from) || DATE_NOT_FINITE(to) || to < from || to - from > 7305)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from_date and to_date must be finite, in order and at most 20 years apart")));
	InitMaterializedSRF(fcinfo, 0);
	sc = ScoreObservedDays(id, from, to);
	for (k = 0; k < sc.n; k++)
	{
		Datum		v[3];
		bool		n[3] = {false, false, false};

		CHECK_FOR_INTERRUPTS();
		v[0] = DateADTGetDatum(sc.days[k]);
		v[1] = Float8GetDatum(sc.actual[k]);
		v[2] = Float8GetDatum(sc.pred[k]);
		n[2] = isnan(sc.pred[k]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

/* model_explain(model_id): importances (and ridge coefficients) as jsonb. */
Datum
model_explain(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	LoadedModel *m;
	StringInfoData s;
	double		imp[DATASET_NCOLS], coef[DATASET_NCOLS], fill[DATASET_NCOLS], intercept;
	int			order[DATASET_NCOLS], i, j;

	m = ModelLoadStandalone(id);
	initStringInfo(&s);
	if (m->naive)
	{
		appendStringInfo(&s, "{\"algorithm\": \"seasonal_naive\", \"uses\": \"%s\"}",
						 m->naive_col == FEATURE_COL_LAG_7D ? "lag_7d" : m->naive_col == FEATURE_COL_LAG_14D ? "lag_14d"
						 : m->naive_col == FEATURE_COL_LAG_21D ? "lag_21d" : "lag_28d");
		PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
	}
	MlModelImportances(m->model, imp);
	for (i = 0; i < DATASET_NCOLS; i++)
		order[i] = i;
	for (i = 1; i < DATASET_NCOLS; i++)
		for (j = i; j > 0 && imp[order[j]] > imp[order[j - 1]]; j--)
		{
			int			t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	appendStringInfo(&s, "{\"algorithm\": \"%s\", \"target_mode\": \"%s\", \"importances\": {",
					 MlAlgorithmName(MlModelAlgorithm(m->model)), m->ratio ? "ratio" : "raw");
	for (i = 0; i < DATASET_NCOLS; i++)
		appendStringInfo(&s, "%s\"%s\": %.6g", i ? ", " : "", DatasetColumnName(order[i]), imp[order[i]]);
	appendStringInfoChar(&s, '}');
	if (MlModelLinearCoefficients(m->model, &intercept, coef, fill))
	{
		appendStringInfo(&s, ", \"coefficients\": {\"intercept\": %.10g", intercept);
		for (i = 0; i < DATASET_NCOLS; i++)
			appendStringInfo(&s, ", \"%s\": %.10g", DatasetColumnName(i), coef[i]);
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoChar(&s, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/*
 * model_cache(): the models this database's install has in the shared
 * model cache: bytes, backends predicting from each, times a backend took
 * it from there, and whether it is of the current models generation.
 */
Datum
model_cache(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ModelShareEntry entries[64];
	Size		pool_bytes, used_bytes;
	Oid			install = Incarnation();	/* nothing is in use here */
	uint64		gen = Generation(GEN_MODELS);
	int			n = ModelShareList(entries, lengthof(entries), &pool_bytes, &used_bytes), i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < n; i++)
	{
		Datum		v[5];
		bool		nl[5] = {false, false, false, false, false};

		if (entries[i].incarnation != install)
			continue;
		v[0] = Int64GetDatum(entries[i].model_id);
		v[1] = Int64GetDatum((int64) entries[i].bytes);
		v[2] = Int32GetDatum(entries[i].refs);
		v[3] = Int64GetDatum((int64) entries[i].hits);
		v[4] = BoolGetDatum(entries[i].generation == gen);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nl);
	}
	return (Datum) 0;
}
