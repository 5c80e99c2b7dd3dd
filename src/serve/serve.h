/*
 * serve.h — what the files of src/serve share: a stored model ready to
 * predict (model_cache.c), a station's inputs (inputs.c), predictions of
 * days (predict.c), and what train uses (ModelLoadOrError, ModelWindowRmse).
 */
#ifndef SEONGSU_SERVE_H
#define SEONGSU_SERVE_H

#include "postgres.h"

#include "../features/dataset.h"
#include "../features/shares.h"
#include "../ml/model.h"
#include "../generation.h"
#include "day_memo.h"
#include "model_share.h"

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

extern Oid	cache_incarnation;

/* model_cache.c */
extern void SettleCall(void);
extern uint64 CallGeneration(GenerationKind kind);
extern Oid	Incarnation(void);
extern LoadedModel *ModelLoad(int64 id);
extern LoadedModel *ModelCached(int64 id);
extern void Deployed(const int64 *ids, int n, LoadedModel **out);
extern LoadedModel *ModelLoadStandalone(int64 id);
extern void ModelLoadOrError(int64 model_id);

/* inputs.c */
extern void InputsForget(void);
extern void CheckReach(int32 first, int32 last, int32 obs_first, int32 obs_last);
extern StationInputs *Inputs(const char *station, const char *line, int32 first, int32 last, LoadedModel **models);

/* predict.c */
extern void RowMemoCover(int32 first, int32 last);
extern void PredictDays(const LoadedModel *m, const FeatureCtx *ctx, const int32 *days, int n, double *out, bool use_memo);

/* evaluate.c */
extern double ModelWindowRmse(int64 model_id, int32 from, int32 to);

#endif							/* SEONGSU_SERVE_H */
