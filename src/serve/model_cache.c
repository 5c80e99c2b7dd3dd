/*
 * model_cache.c — stored models ready to predict: read from seongsu.models
 * (checked against their blob), kept per backend by id, and shared through
 * the shared model cache; which install and generation the caches belong
 * to (SettleCall).
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
#include "serve.h"

Oid			cache_incarnation = InvalidOid;

#define MAX_RESIDUAL 1000		/* a stored relative residual quantile beyond is absurd */

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

static int64 pinned[MAX_DEPLOYED];	/* models Deployed is loading: not evicted */
static int	npinned = 0;

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
void
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
uint64
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
Oid
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
		InputsForget();
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
LoadedModel *
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

/* The models with these ids, into out (caller has SPI). */
void
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

/* The model with this id, loaded outside any SPI connection of the caller. */
LoadedModel *
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

/* The model with this id when the backend cache holds it, else NULL. */
LoadedModel *
ModelCached(int64 id)
{
	int			i;

	for (i = 0; i < CACHE_SIZE; i++)
		if (cache[i] && cache[i]->id == id)
			return cache[i];
	return NULL;
}
