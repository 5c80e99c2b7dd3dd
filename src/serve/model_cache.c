/*
 * model_cache.c — stored models ready to predict: read from seongsu.models
 * (checked against their blob), kept per backend, and shared between
 * backends as images (model_share.c).
 *
 * Every load reads the model's row (cheap: not the blob); a kept model is
 * used while everything read from the row, the blob's header (with its
 * CRC-32) included, is the same, so a rewritten row is read again whatever
 * the snapshot, and no invalidation is needed here.  Only a blob no backend
 * has read yet is read and checked whole.
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

#define MAX_RESIDUAL 1000		/* a stored relative residual quantile beyond is absurd */

static LoadedModel *cache[CACHE_SIZE];
static int	cache_next = 0;
static int64 pinned[MAX_DEPLOYED];	/* models Deployed is loading: not evicted */
static int	npinned = 0;
static bool call_cache_ok = false;	/* ServeSettle: the inputs cache may be used in this call */

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

/* Forget a cached model: its memory, and its reference to the shared cache. */
static void
ModelDrop(LoadedModel *m)
{
	int			slot = m->share_slot;

	MemoryContextDelete(m->cxt);
	ModelShareRelease(slot);
}

/*
 * Settle, at the start of every SQL-callable function that predicts,
 * whether the per-backend inputs may be used and filled in this call
 * (WatchUsable: not under a transaction-long snapshot, for a user who may
 * read the models and the ridership the cached answers come from).
 */
bool
ServeSettle(void)
{
	call_cache_ok = WatchUsable((1u << WATCH_MODELS) | (1u << WATCH_RIDERSHIP));
	return call_cache_ok;
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
ModelRowProblem(HeapTuple t, TupleDesc d, int c0, LoadedModel *m, char **algorithm)
{
	bool		isnull;
	Datum		hv = SPI_getbinval(t, d, c0 + 3, &isnull);
	Interval   *iv = isnull ? NULL : DatumGetIntervalP(hv);
	char	   *grain = SPI_getvalue(t, d, c0 + 4);
	char	   *mode = SPI_getvalue(t, d, c0 + 6);
	int			n, k, h;
	MlAlgorithm fitted;

	*algorithm = SPI_getvalue(t, d, c0 + 5);
	m->station_id = DatumGetInt32(SPI_getbinval(t, d, c0 + 2, &isnull));
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
	m->algorithm = m->naive ? -1 : (int) fitted;
	if (m->naive ? strcmp(mode, "lag") != 0 : (strcmp(mode, "raw") != 0 && strcmp(mode, "ratio") != 0))
		return psprintf("its target mode \"%s\" is not one of %s", mode,
						m->naive ? "seasonal_naive's (lag)" : "a fitted model's (raw, ratio)");
	m->ratio = strcmp(mode, "ratio") == 0;
	m->naive_col = DatasetNaiveColumn(m->H);
	if (m->naive && m->naive_col < 0)
		return psprintf("its horizon of " INT64_FORMAT " days is longer than seasonal_naive's 28", m->H);
	n = ReadF8Array(t, d, c0 + 8, m->shares, SHARES_N);
	m->has_shares = n >= 0;
	if (n >= 0 && n != SHARES_N)
		return psprintf("it has %d hour shares, not %d (%d day types x 24 hours)", n, SHARES_N, CAL_NDAYTYPES);
	for (k = 0; m->has_shares && k < CAL_NDAYTYPES; k++)
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
	n = ReadF8Array(t, d, c0 + 9, m->levels, 3);
	m->has_levels = n >= 0;
	if (n >= 0 && (n != 3 || !(m->levels[0] > 0 && m->levels[0] < m->levels[1] &&
							   m->levels[1] < m->levels[2] && isfinite(m->levels[2]))))
		return "its crowd levels are not three increasing positive numbers";
	if (!ReadQuantile(t, d, c0 + 10, &m->q05) || !ReadQuantile(t, d, c0 + 11, &m->q95))
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
 * The version of a model row, from the columns col.. of a tuple: the row's
 * xmin and ctid (a rewrite is a new tuple), the blob's length and its
 * header (which holds its format, algorithm, payload length and CRC-32).
 * An FNV-1a hash: the key of a model in the caches, which never need
 * invalidation (a changed row is another version).
 */
uint64
ModelVersion(HeapTuple t, TupleDesc d, int col)
{
	uint64		h = UINT64CONST(14695981039346656037);
	bool		isnull;
	Datum		x;
	int			k;

	/* xmin, ctid, octet_length(blob), substring(blob, 1, 20): the end of MODEL_COLUMNS */
	for (k = 0; k < 4; k++)
	{
		const uint8 *p;
		Size		n, i;
		TransactionId xid;
		int64		len;

		x = SPI_getbinval(t, d, col + k, &isnull);
		if (isnull)
			continue;
		if (k == 0)
		{
			xid = DatumGetTransactionId(x);
			p = (const uint8 *) &xid;
			n = sizeof(xid);
		}
		else if (k == 1)
		{
			p = (const uint8 *) DatumGetPointer(x);
			n = sizeof(ItemPointerData);
		}
		else if (k == 2)
		{
			len = DatumGetInt32(x);
			p = (const uint8 *) &len;
			n = sizeof(len);
		}
		else
		{
			bytea	   *b = DatumGetByteaPP(x);

			p = (const uint8 *) VARDATA_ANY(b);
			n = VARSIZE_ANY_EXHDR(b);
		}
		for (i = 0; i < n; i++)
			h = (h ^ p[i]) * UINT64CONST(1099511628211);
	}
	return h;
}

/*
 * A model's row (the MODEL_COLUMNS of a tuple, from column c0 + 1 on) into
 * *meta (zeroed first: it is compared bytewise), and its blob (a toast
 * pointer, not read) into *blob; ERROR when its metadata breaks a rule of
 * ModelRowProblem.
 */
static void
ModelFromColumns(HeapTuple t, TupleDesc d, int c0, LoadedModel *meta, Datum *blob, char **algorithm)
{
	const char *problem;
	bool		isnull;
	bool		blob_null;

	memset(meta, 0, sizeof(*meta));
	meta->id = DatumGetInt64(SPI_getbinval(t, d, c0 + 1, &isnull));
	if ((problem = ModelRowProblem(t, d, c0, meta, algorithm)) != NULL)
		ModelCorrupt(meta->id, problem);
	*blob = SPI_getbinval(t, d, c0 + 7, &blob_null);
	if (meta->naive != blob_null)
		ModelCorrupt(meta->id, meta->naive ? "it is seasonal_naive but has a stored model" : "it has no stored model");
	meta->version = ModelVersion(t, d, c0 + 12);
}

/*
 * The model of m (its metadata set) into m->model: a view of its image in
 * the shared cache, else, when there is a blob, read and checked (and put
 * there); false when neither.  data_corrupted when the blob is unreadable,
 * has other feature columns or another algorithm than the row says.
 * Allocates in m->cxt (the current context).
 */
static bool
ModelBuild(LoadedModel *m, Datum blob, bool have_blob)
{
	const void *image;
	int			slot = ModelShareAcquire(m->id, m->version, &image);
	const char *problem = NULL;
	char		err[256];

	if (slot >= 0 && (m->model = MlModelImageView(image)) != NULL)
		m->share_slot = slot;
	else
	{
		ModelShareRelease(slot);
		if (!have_blob)
			return false;
		err[0] = '\0';
		if (!MlModelDeserialize((const uint8 *) VARDATA_ANY(DatumGetByteaPP(blob)),
								VARSIZE_ANY_EXHDR(DatumGetByteaPP(blob)), &m->model, err, sizeof(err)))
			problem = err[0] ? pstrdup(err) : "its stored model cannot be read";
		else if (MlModelNumFeatures(m->model) != DATASET_NCOLS)
			problem = "it does not have the feature columns of this version";
		else
			ModelSharePut(m->id, m->version, m->model);
	}
	if (!problem && (int) MlModelAlgorithm(m->model) != m->algorithm)
		problem = psprintf("its algorithm is %s but its stored model is %s",
						   MlAlgorithmName((MlAlgorithm) m->algorithm), MlAlgorithmName(MlModelAlgorithm(m->model)));
	if (problem)
		ModelCorrupt(m->id, problem);
	return true;
}

/* The backend cache's model of exactly this metadata (row version included), or NULL. */
static LoadedModel *
ModelFind(const LoadedModel *meta)
{
	int			i;

	for (i = 0; i < CACHE_SIZE; i++)
		if (cache[i] && memcmp(cache[i], meta, MODEL_META_SIZE) == 0)
			return cache[i];
	return NULL;
}

/* Keep a new model in the backend cache: in place of an older version of it, else of the next unpinned one. */
static void
ModelKeep(LoadedModel *m)
{
	int			i;

	for (i = 0; i < CACHE_SIZE; i++)
		if (cache[i] && cache[i]->id == m->id && !IsPinned(m->id))
		{
			ModelDrop(cache[i]);
			cache[i] = m;
			return;
		}
	while (cache[cache_next] && IsPinned(cache[cache_next]->id))
		cache_next = (cache_next + 1) % CACHE_SIZE;
	if (cache[cache_next])
		ModelDrop(cache[cache_next]);
	cache[cache_next] = m;
	cache_next = (cache_next + 1) % CACHE_SIZE;
}

/*
 * A model of this metadata, built (ModelBuild) in a context of its own and
 * kept; NULL when it has no blob here and its image is not shared.
 */
static LoadedModel *
ModelMake(const LoadedModel *meta, Datum blob, bool have_blob)
{
	MemoryContext cxt = AllocSetContextCreate(CacheMemoryContext, "seongsu model", ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	LoadedModel *volatile m = palloc0(sizeof(LoadedModel));
	volatile bool built = true;

	memcpy(m, meta, MODEL_META_SIZE);
	m->cxt = cxt;
	m->share_slot = -1;
	PG_TRY();
	{
		if (!meta->naive)
			built = ModelBuild(m, blob, have_blob);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		ModelDrop(m);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	if (!built)
	{
		ModelDrop(m);
		return NULL;
	}
	ModelKeep(m);
	return m;
}

/*
 * The model of a row (the MODEL_COLUMNS of a tuple, from column c0 + 1 on),
 * as the row is now: from the backend cache when the row is unchanged, else
 * built and kept in place of the older one.
 */
LoadedModel *
ModelFromRow(HeapTuple t, TupleDesc d, int c0)
{
	LoadedModel meta, *m;
	Datum		blob;
	char	   *algorithm;

	ModelFromColumns(t, d, c0, &meta, &blob, &algorithm);
	if ((m = ModelFind(&meta)) != NULL)
		return m;
	return ModelMake(&meta, blob, !meta.naive);
}

/*
 * The model of metadata read from its row earlier (the shared station memo):
 * from the backend cache, else from its shared image; NULL when neither has
 * it (the caller reads the row).
 */
LoadedModel *
ModelFromMeta(const LoadedModel *meta)
{
	LoadedModel *m = ModelFind(meta);

	return m ? m : ModelMake(meta, (Datum) 0, false);
}

/* The model with this id (caller has SPI): its row read now (ModelFromRow). */
LoadedModel *
ModelLoad(int64 id)
{
	Oid			types[1] = {INT8OID};
	Datum		v[1];

	v[0] = Int64GetDatum(id);
	if (SPI_execute_with_args("SELECT " MODEL_COLUMNS " FROM seongsu.models m WHERE m.id OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.models");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("model " INT64_FORMAT " does not exist", id)));
	return ModelFromRow(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 0);
}

/* Keep the models with these ids from being evicted while they are loaded (n = 0: none). */
void
ModelsPin(const int64 *ids, int n)
{
	memcpy(pinned, ids, sizeof(int64) * n);
	npinned = n;
}

/* The model with this id, loaded outside any SPI connection of the caller. */
LoadedModel *
ModelLoadStandalone(int64 id)
{
	int			spi = SsSpiConnect();
	LoadedModel *m = ModelLoad(id);

	SsSpiFinish(spi);
	return m;
}

/* Load a stored model into the backend cache, or ERROR (data_corrupted when it cannot be read). */
void
ModelLoadOrError(int64 model_id)
{
	(void) ModelLoadStandalone(model_id);
}

/* The model with this id the backend cache holds (the latest read), else NULL. */
LoadedModel *
ModelCached(int64 id)
{
	int			i;

	for (i = 0; i < CACHE_SIZE; i++)
		if (cache[i] && cache[i]->id == id)
			return cache[i];
	return NULL;
}
