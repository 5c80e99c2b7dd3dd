/*
 * train.h — what the files of src/train share: a candidate configuration
 * and its backtest (backtest.c), the options and search (search.c).
 */
#ifndef SEONGSU_TRAIN_H
#define SEONGSU_TRAIN_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "../features/dataset.h"
#include "../ml/metrics.h"
#include "../ml/model.h"

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
} Backtest;

/* One configuration to try. */
typedef struct Candidate
{
	int			algorithm;		/* ALG_NAIVE or an MlAlgorithm */
	MlParams	params;
	bool		ratio;
	Jsonb	   *described;		/* the parameters that differ, for the report */
	Backtest	bt;
} Candidate;

/* Options of a training run that are not model hyper-parameters. */
typedef struct TrainOptions
{
	char		target[8];		/* raw, ratio or auto */
	int			folds;
	double		levels[3];
	bool		has_levels;
} TrainOptions;

/* backtest.c */
extern void RunBacktest(const Dataset *d, Candidate *c, int k);
extern char *MetricsJson(const Candidate *c, const char *search_report);
extern Candidate *BestOf(const Dataset *d, List *cands, int folds, char **report);

/* search.c */
extern void ApplyParams(MlParams *p, TrainOptions *o, Jsonb *hp);
extern JsonbValue *JsonKey(Jsonb *j, const char *key);
extern List *Candidates(int algorithm, const MlParams *base, bool ratio, Jsonb *search, int *folds);
extern char *ParamsJson(int algorithm, const MlParams *p, const TrainOptions *o, bool ratio, int64 H);

#endif							/* SEONGSU_TRAIN_H */
