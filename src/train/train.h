/*
 * train.h — what the files of src/train share: a training request
 * (train.c), a candidate configuration and its backtest (backtest.c), the
 * options and search (search.c), and the record of a run (track.c, with
 * the row written in a transaction of its own by track_writer.c).
 */
#ifndef SEONGSU_TRAIN_H
#define SEONGSU_TRAIN_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/jsonb.h"
#include "portability/instr_time.h"
#include "utils/timestamp.h"

#include "../features/dataset.h"
#include "../features/shares.h"
#include "../ml/metrics.h"
#include "../ml/model.h"

#define ALG_NAIVE 0

#define MAX_FOLDS 10

#define DEFAULT_FOLDS 8

#define BACKTEST_DAYS 730		/* the folds' blocks cover the last two years */

#define MIN_TEST_ROWS 20		/* a block with fewer scored rows is skipped */

#define MIN_FIT_ROWS 200		/* and one with fewer rows before it */

#define MAX_CANDIDATES 200

#define MAX_ALGS 5				/* auto: seasonal_naive, ridge, random_forest, gbdt, ensemble */

#define DEFAULT_TARGET "ratio"

/*
 * Result of backtesting one configuration: fold f was fitted on dataset
 * rows [0, row_from[f]) (days fit_from[f]..fit_to[f]) and scored on rows
 * [row_from[f], row_to[f]) of its test block fold_from[f]..fold_to[f];
 * the scored rows' predictions and actual values follow one another, fold
 * after fold, from pred_at[f].
 */
typedef struct Backtest
{
	int			folds;
	MlMetrics	fold[MAX_FOLDS];
	int32		fold_from[MAX_FOLDS];	/* the test block's first and last day */
	int32		fold_to[MAX_FOLDS];
	int32		fit_from[MAX_FOLDS];	/* the first and last day fitted on */
	int32		fit_to[MAX_FOLDS];
	int			row_from[MAX_FOLDS];
	int			row_to[MAX_FOLDS];
	int			pred_at[MAX_FOLDS];
	MlMetrics	mean;			/* pooled over every scored row: the candidate's score */
	int			best_trees;		/* gbdt with early stopping: the most rounds a fold kept */
	double	   *rel_resid;		/* actual / predicted - 1, every test row */
	int			nresid;
	int			npred;
	double	   *pred;			/* predictions of the scored rows */
	double	   *actual;			/* their observed passengers */
	int			nrounds[MAX_FOLDS]; /* gbdt with early stopping: rounds on the fold's learning curve */
	double	   *valid_loss[MAX_FOLDS];	/* gbdt with early stopping: mean validation loss after each round */
} Backtest;

/* One configuration to try. */
typedef struct Candidate
{
	int			algorithm;		/* ALG_NAIVE or an MlAlgorithm (ML_ENSEMBLE: of the members below) */
	MlParams	params;
	bool		ratio;
	Jsonb	   *described;		/* the parameters that differ, for the report */
	Backtest	bt;
	TimestampTz started_at;		/* of its backtest */
	TimestampTz finished_at;
	int			nmembers;		/* ensemble: its members (each an algorithm's winner) and weights */
	struct Candidate *members[ML_MAX_MEMBERS];
	double		weights[ML_MAX_MEMBERS];
	MlClassScale scale;			/* ensemble: its day-class scale (nclasses 0: none) */
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
	int			algs[MAX_ALGS];	/* ALG_NAIVE or MlAlgorithm */
	int			nalgs;
	Jsonb	   *hp;
	Jsonb	   *search;
	bool		has_from, has_to;
	int32		from_arg, to_arg;
	bool		force;
	bool		has_snapshot;	/* train on this data snapshot (else on a new one of the current data) */
	int64		snapshot_arg;
} TrainRequest;

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
	int64		snapshot_id;	/* the data snapshot the call reads (0 until it is read) */
	int			ntags;			/* system tags of its own (TrackRunTag) */
	const char *tag_key[TRACK_MAX_TAGS];
	const char *tag_value[TRACK_MAX_TAGS];
} TrackRun;

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

/* One algorithm's search and its stored winner. */
typedef struct TrainedModel
{
	int64		id;
	int			algorithm;
	List	   *cands;			/* every candidate backtested */
	char	   *report;			/* the search report (NULL: no search) */
	TrainOptions opts;
	Candidate  *win;
	MlModel    *fitted;			/* the winner refit (NULL: seasonal_naive, or not yet) */
	char	   *params;			/* as stored with the model */
	char	   *metrics;
	int64		run_id;			/* the winner's child run (0: untracked) */
} TrainedModel;

/* backtest.c */
extern double *SampleWeights(const Dataset *d, int n, double half_life);
extern void RunBacktest(const Dataset *d, Candidate *c, int k);
extern void BacktestPool(Backtest *bt);
extern char *MetricsJson(const Candidate *c, const char *search_report);
extern Candidate *BestOf(const Dataset *d, List *cands, int folds, char **report);

/* search.c */
extern void ApplyParams(MlParams *p, TrainOptions *o, Jsonb *hp);
extern JsonbValue *JsonKey(Jsonb *j, const char *key);
extern double JsonNumber(const JsonbValue *v);
extern List *Candidates(int algorithm, const MlParams *base, bool ratio, Jsonb *search, bool recency, int *folds);
extern Candidate *ExtraTreesOf(const Candidate *c);
extern char *ParamsJson(int algorithm, const MlParams *p, const TrainOptions *o, const char *target, int64 H);

/* track.c */
extern void TrackRunStart(TrackRun *run, const TrainRequest *r);
extern void TrackGuarded(TrackRun *run, void (*body) (void *), void *arg);
extern int64 TrackAlgorithm(TrackRun *run, const TrainRequest *r, const Dataset *d, List *cands,
							const TrainOptions *opts, const Candidate *win, int64 model_id,
							const double *importances, const double *coefficients);
extern void TrackRegister(const TrackRun *run, const char *project, int64 model_id, int64 run_id);
extern void TrackRunFinish(TrackRun *run, const Dataset *d, int64 model_id, const char *params,
						   const char *metrics, int64 best_run);
extern void TrackRunTag(TrackRun *run, const char *key, const char *value);
extern const char *TrackBuild(void);

/* track_writer.c */
extern bool TrackRowWrite(Oid role, char *const *row, bool autonomous, char **why);

/* ensemble.c */
extern void EnsembleSearch(const TrainRequest *r, TrainData *t, TrainedModel *models, int nmodels, TrainedModel *out);
extern int	AutoChoice(const TrainedModel *models, int n, char **why);
extern char *EnsembleMembersJson(const Candidate *ens);
extern char *EnsembleParamsJson(const Candidate *ens, const TrainOptions *o, int64 H);
extern MlModel *EnsembleRefit(const Dataset *d, Jsonb *hp, Candidate *ens);

/* train.c */
extern void TrainDataLoad(const TrainRequest *r, TrainData *t);
extern MlModel *TrainRefit(const Dataset *d, Candidate *win);
extern bytea *ModelBlob(const MlModel *m, double *importances, double *coefficients);
extern void AlgorithmSearch(const TrainRequest *r, TrainData *t, int algorithm, TrainedModel *out);
extern int64 TrainStoreModel(const char *project, int32 station_id, const Candidate *c, const char *metrics,
							 const char *params, Interval *horizon, const char *feature_set, const Dataset *d,
							 double seconds, const double *shares, const double *levels, bytea *blob);

#endif							/* SEONGSU_TRAIN_H */
