/*
 * serve.h — what the files of src/serve share: a stored model ready to
 * predict (model_cache.c), a station's inputs (inputs.c), predictions of
 * days (predict.c), and what train uses (ModelLoadOrError, ModelWindowRmse).
 * Caches are per backend, told of changes by invalidation.c; only model
 * images are shared between backends (model_share.c).
 */
#ifndef SEONGSU_SERVE_H
#define SEONGSU_SERVE_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"

#include "../features/dataset.h"
#include "../features/shares.h"
#include "../ml/model.h"
#include "../invalidation.h"
#include "model_share.h"

#define CACHE_SIZE 32			/* models kept per backend */
#define MAX_DEPLOYED 8			/* deployed daily models of one station considered (< CACHE_SIZE) */
#define INPUTS_STATIONS 4		/* stations whose inputs are kept per backend */

/*
 * How far predictions reach: days from PREDICT_REACH_DAYS before a
 * station's first observed day to PREDICT_REACH_DAYS after its last.
 * Further out every lag would be a prediction of a prediction, and the
 * work and memory grow with the distance; the range is checked before
 * anything is loaded for it.
 */
#define PREDICT_REACH_DAYS 400

/*
 * A stored model, ready to predict.  The fields before `model` hold no
 * pointers: they are everything read from its row (MODEL_META_SIZE bytes)
 * and the version of the row, so a cached model is still the row's while
 * they are equal.
 */
typedef struct LoadedModel
{
	int64		id;
	int32		station_id;
	int64		H;				/* horizon in days */
	int			algorithm;		/* MlAlgorithm (-1: seasonal_naive) */
	bool		naive;
	bool		ratio;
	int			naive_col;
	bool		has_shares;
	double		shares[SHARES_N];
	bool		has_levels;
	double		levels[3];
	double		q05;			/* relative residual quantiles of the backtest */
	double		q95;
	uint64		version;		/* of the row and its blob (ModelVersion) */
	/* this backend's */
	MlModel    *model;
	MemoryContext cxt;
	int			share_slot;		/* the shared cache entry model points into, or -1 */
} LoadedModel;

#define MODEL_META_SIZE offsetof(LoadedModel, model)

/*
 * What predicting for one station needs: its deployed models, its observed
 * range and a feature context.  Kept per backend (INPUTS_STATIONS of them)
 * until a watched table changes (invalidation.c), so a warm prediction runs
 * no query at all.
 */
typedef struct StationInputs
{
	int32		station_id;
	Oid			install;
	uint64		stamp;			/* WatchEpoch(WATCH_ALL) + 1 before it was read (0: not kept) */
	uint64		used;			/* when it was last used (the least recently used makes room) */
	int32		observed_first;	/* the station's first and last observed days */
	int32		observed;
	int			nmodels;
	int64		model_ids[MAX_DEPLOYED];
	FeatureCtx *ctx;
	int32		first;			/* days the context serves */
	int32		last;
	double	   *memo;			/* daily predictions of observed-input days (NaN: not yet) */
	LoadedModel **memo_model;
	MemoryContext cxt;
} StationInputs;

/*
 * What the shared station memo (day_memo.c) keeps of a station: its id and
 * the metadata of its deployed daily models (the fields before `model`).
 */
typedef struct StationSnap
{
	int32		station_id;
	int			nmodels;
	LoadedModel models[MAX_DEPLOYED];
} StationSnap;

/* model_cache.c */
extern bool ServeSettle(void);
/* What a model is read from: its row's columns, as ModelFromRow takes them (alias m). */
#define MODEL_COLUMNS "m.id, m.station_id, m.horizon, m.grain, m.algorithm, m.target_mode, m.blob, " \
	"m.hour_shares, m.levels, (m.metrics OPERATOR(pg_catalog.->) 'relative_residual_quantiles') " \
	"OPERATOR(pg_catalog.->>) 'q05', (m.metrics OPERATOR(pg_catalog.->) 'relative_residual_quantiles') " \
	"OPERATOR(pg_catalog.->>) 'q95', m.xmin, m.ctid, pg_catalog.octet_length(m.blob), " \
	"pg_catalog.substring(m.blob, 1, 20)"
#define MODEL_NCOLUMNS 15

extern LoadedModel *ModelFromRow(HeapTuple t, TupleDesc d, int c0);
extern LoadedModel *ModelFromMeta(const LoadedModel *meta);
extern LoadedModel *ModelLoad(int64 id);
extern void ModelsPin(const int64 *ids, int n);
extern LoadedModel *ModelCached(int64 id);
extern LoadedModel *ModelLoadStandalone(int64 id);
extern void ModelLoadOrError(int64 model_id);
extern uint64 ModelVersion(HeapTuple t, TupleDesc d, int col);

/* inputs.c */
extern void CheckReach(int32 first, int32 last, int32 obs_first, int32 obs_last);
extern StationInputs *Inputs(const char *station, const char *line, int32 first, int32 last, LoadedModel **models);

/* predict.c */
extern void PredictDays(const LoadedModel *m, const FeatureCtx *ctx, const int32 *days, int n, double *out);
extern const char *CrowdLevel(bool has_levels, const double *levels, double passengers);

/* evaluate.c */
extern double ModelWindowRmse(int64 model_id, int32 from, int32 to);

#endif							/* SEONGSU_SERVE_H */
