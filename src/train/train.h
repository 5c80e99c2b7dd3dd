/*
 * train.h — what the files of src/train share: a training request
 * (train.c), a candidate configuration and its backtest (backtest.c), the
 * options and search (search.c), and the record of a run (track.c, with
 * the row written in a transaction of its own by track_writer.c).
 */
#ifndef SEONGSU_TRAIN_H
#define SEONGSU_TRAIN_H

#include "postgres.h"

#include "utils/jsonb.h"
#include "portability/instr_time.h"
#include "utils/timestamp.h"

#include "../features/dataset.h"
#include "../ml/metrics.h"
#include "../ml/model.h"
#include "../features/shares.h"

#define ALG_NAIVE 0

#define MAX_FOLDS 10

#define MAX_CANDIDATES 200

/* Result of backtesting one configuration. */
typedef struct Backtest
{
	int			folds;
	MlMetrics	fold[MAX_FOLDS];
	int32		fold_from[MAX_FOLDS];
	int32		fold_to[MAX_FOLDS];
	MlMetrics	mean;
	int			best_trees;
	double	   *rel_resid;		/* actual / predicted - 1, every test row */
	int			nresid;
	int			first;			/* dataset row of the first fold's first test day */
	int			block;			/* test rows per fold */
	double	   *pred;			/* predictions of the test rows, fold after fold (folds * block) */
	int			nrounds[MAX_FOLDS]; /* gbdt: rounds on the fold's learning curve */
	double	   *valid_loss[MAX_FOLDS];	/* gbdt: mean validation loss after each round */
} Backtest;

/* One configuration to try. */
typedef struct Candidate
{
	int			algorithm;		/* ALG_NAIVE or an MlAlgorithm */
	MlParams	params;
	bool		ratio;
	Jsonb	   *described;		/* the parameters that differ, for the report */
	Backtest	bt;
	TimestampTz started_at;		/* of its backtest */
	TimestampTz finished_at;
} Candidate;

/* Options of a training run that are not model hyper-parameters. */
typedef struct TrainOptions
{
	char		target[8];		/* raw, ratio or auto */
	int			folds;
	double		levels[3];
	bool		has_levels;
} TrainOptions;

/* What a train() call asks for, checked. */
typedef struct TrainRequest
{
	char	   *station;
	char	   *line;
	char	   *project;
	char	   *algorithm;		/* as asked: one algorithm or auto */
	Interval   *horizon;		/* whole days */
	int64		H;				/* the horizon in days */
	int			algs[4];		/* ALG_NAIVE or MlAlgorithm */
	int			nalgs;
	Jsonb	   *hp;
	Jsonb	   *search;
	bool		has_from, has_to;
	int32		from_arg, to_arg;
	bool		force;
	bool		has_snapshot;	/* train on this data snapshot (else on a new one of the current data) */
	int64		snapshot_arg;
} TrainRequest;

/* What training reads once for every algorithm. */
typedef struct TrainData
{
	int32		station_id;
	Dataset    *d;
	double		shares[SHARES_N];
	double		levels[3];
	bool		have_shares;
	bool		have_levels;
	int64		snapshot_id;	/* the data snapshot it was read as of */
} TrainData;

/* The columns of a run's own row that track_writer.c writes (TrackRowWrite). */
typedef enum TrackColumn
{
	TC_RUN_ID,
	TC_PROJECT,
	TC_STATION,
	TC_LINE,
	TC_GRAIN,
	TC_HORIZON,
	TC_ALGORITHM,
	TC_PARAMS,
	TC_SEARCH,
	TC_TRAIN_FROM,
	TC_TRAIN_TO,
	TC_STATUS,
	TC_STARTED_AT,
	TC_FINISHED_AT,
	TC_EXTENSION_VERSION,
	TC_BUILD,
	TC_DB_USER,
	TC_TAGS,
	TC_NCOLUMNS
} TrackColumn;

#define TRACK_MAX_TAGS 4

/* A train() call's run, as track.c records it. */
typedef struct TrackRun
{
	int64		run_id;			/* 0: tracking is off (seongsu.track_runs) */
	Oid			owner;			/* the extension's owner, as whom runs are written */
	bool		live;			/* its row was committed at start (a training job in the worker) */
	char	   *row[TC_NCOLUMNS];	/* the row as text (NULL: SQL NULL), in a long-lived context */
	instr_time	spent;			/* time spent recording (reported at DEBUG1 when it finishes) */
	int			ntags;			/* system tags of its own (TrackRunTag) */
	const char *tag_key[TRACK_MAX_TAGS];
	const char *tag_value[TRACK_MAX_TAGS];
} TrackRun;

/* backtest.c */
extern void RunBacktest(const Dataset *d, Candidate *c, int k);
extern char *MetricsJson(const Candidate *c, const char *search_report);
extern Candidate *BestOf(const Dataset *d, List *cands, int folds, char **report);

/* search.c */
extern void ApplyParams(MlParams *p, TrainOptions *o, Jsonb *hp);
extern JsonbValue *JsonKey(Jsonb *j, const char *key);
extern List *Candidates(int algorithm, const MlParams *base, bool ratio, Jsonb *search, int *folds);
extern char *ParamsJson(int algorithm, const MlParams *p, const TrainOptions *o, const char *target, int64 H);

/* train.c */
extern int64 TrainStoreModel(const char *project, int32 station_id, const Candidate *c, const char *metrics,
							 const char *params, Interval *horizon, const char *feature_set, const Dataset *d,
							 double seconds, const double *shares, const double *levels, bytea *blob);
extern void TrainDataLoad(const TrainRequest *r, TrainData *t);
extern bytea *TrainRefit(const Dataset *d, int algorithm, Candidate *win, double *importances, double *coefficients);

/* track.c */
extern void TrackRunStart(TrackRun *run, const TrainRequest *r);
extern void TrackRunTag(TrackRun *run, const char *key, const char *value);
extern const char *TrackBuild(void);
extern void TrackGuarded(TrackRun *run, void (*body) (void *), void *arg);
extern int64 TrackAlgorithm(TrackRun *run, const TrainRequest *r, const Dataset *d, List *cands,
							const TrainOptions *opts, const Candidate *win, int64 model_id,
							const double *importances, const double *coefficients);
extern void TrackRegister(const TrackRun *run, const char *project, int64 model_id, int64 run_id);
extern void TrackRunFinish(TrackRun *run, const Dataset *d, int64 model_id, const char *params,
						   const char *metrics, int64 best_run, int64 snapshot_id);

/* track_writer.c */
extern bool TrackRowWrite(Oid role, char *const *row, bool autonomous, char **why);

#endif							/* SEONGSU_TRAIN_H */
