/*
 * reproduce.c — seongsu.reproduce_model(model_id) and seongsu.reproduce(run_id):
 * refit a stored model with its stored hyper-parameters on the data of the
 * snapshot it recorded, read back through the revision history, store the
 * result as a new version of its project (not deployed) and compare the two
 * byte for byte.  The reproduction is a run of its own (seongsu.runs, tags
 * seongsu.reproduces_model and, by run, seongsu.reproduces_run), recorded
 * failed when it fails, as train's runs are.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"

#include "../safe_spi.h"
#include "../features/features.h"
#include "train.h"

PG_FUNCTION_INFO_V1(reproduce_model);
PG_FUNCTION_INFO_V1(reproduce);

/* One reproduction: the model read back, its refit and the comparison. */
typedef struct Repro
{
	int64		model_id;		/* the model reproduced */
	TrainRequest r;
	TrainData	t;
	TrainOptions opts;
	Candidate	c;
	bytea	   *original;		/* its blob (NULL: seasonal_naive) */
	char	   *metrics;		/* its metrics with reproduced_from */
	char	   *feature_set;
	Jsonb	   *hp;				/* its stored hyper-parameters */
	int64		model_run;		/* the candidate run that made it (0: none) */
	TrackRun	run;
	instr_time	start;
	int64		new_id;			/* the model the reproduction stored */
	char	   *reason;			/* why the two differ; NULL: identical */
} Repro;

/* Why two blobs differ, or NULL when they are the same bytes (either may be NULL: no stored model). */
static char *
ReproBlobDifference(bytea *a, bytea *b)
{
	const uint8 *x, *y;
	size_t		la, lb, i;

	if (!a || !b)
		return a == b ? NULL : psprintf("one of them has no stored model");
	x = (const uint8 *) VARDATA_ANY(a);
	y = (const uint8 *) VARDATA_ANY(b);
	la = VARSIZE_ANY_EXHDR(a);
	lb = VARSIZE_ANY_EXHDR(b);
	if (la >= 6 && lb >= 6 && (x[4] != y[4] || x[5] != y[5]))
		return psprintf("the model was stored in blob format %u, this build writes format %u: it was trained by another build of the extension",
						(unsigned) (x[4] | x[5] << 8), (unsigned) (y[4] | y[5] << 8));
	for (i = 0; i < la && i < lb && x[i] == y[i]; i++)
		;
	if (i == la && i == lb)
		return NULL;
	return psprintf("the blobs differ from byte %zu (%zu and %zu bytes): the code or the data differ", i, la, lb);
}

/* Read the model to reproduce into *p: its request, algorithm, parameters, snapshot and blob; ERROR when it cannot be. */
static void
ReproRead(Repro *p)
{
	Oid			types[1] = {INT8OID};
	Datum		v[1];
	HeapTuple	tup;
	TupleDesc	desc;
	MlAlgorithm m;
	bool		isnull;
	const char *alg;
	MemoryContext outer = CurrentMemoryContext;
	int			spi = SsSpiConnect();

	v[0] = Int64GetDatum(p->model_id);
	if (SPI_execute_with_args("SELECT m.project, s.name, s.line, m.algorithm, m.horizon, m.hyperparams, m.target_mode, "
							  "(m.metrics OPERATOR(pg_catalog.->>) 'snapshot_id')::pg_catalog.int8, m.blob, "
							  "(m.metrics OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('reproduced_from', m.id))::pg_catalog.text, "
							  "m.feature_set, m.grain, (SELECT g.run_id FROM seongsu.model_registry g "
							  "WHERE g.model_id OPERATOR(pg_catalog.=) m.id) FROM seongsu.models m JOIN seongsu.stations s "
							  "ON s.id OPERATOR(pg_catalog.=) m.station_id WHERE m.id OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.models");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("model " INT64_FORMAT " does not exist", p->model_id),
				 errhint("See seongsu.models for the trained models.")));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	MemoryContextSwitchTo(outer);	/* what is read outlives the SPI connection */
	p->r.project = SPI_getvalue(tup, desc, 1);
	p->r.station = SPI_getvalue(tup, desc, 2);
	p->r.line = SPI_getvalue(tup, desc, 3);
	alg = SPI_getvalue(tup, desc, 4);
	p->c.algorithm = strcmp(alg, "seasonal_naive") == 0 ? ALG_NAIVE
		: MlAlgorithmFromName(alg, &m) ? (int) m : -1;
	p->r.algorithm = pstrdup(alg);
	p->r.horizon = DatumGetIntervalP(datumCopy(SPI_getbinval(tup, desc, 5, &isnull), false, sizeof(Interval)));
	p->r.hp = DatumGetJsonbPCopy(SPI_getbinval(tup, desc, 6, &isnull));
	p->c.ratio = strcmp(SPI_getvalue(tup, desc, 7), "ratio") == 0;
	p->r.snapshot_arg = DatumGetInt64(SPI_getbinval(tup, desc, 8, &isnull));
	p->r.has_snapshot = !isnull;
	(void) SPI_getbinval(tup, desc, 9, &isnull);
	if (!isnull)
		p->original = DatumGetByteaPCopy(SPI_getbinval(tup, desc, 9, &isnull));
	p->metrics = SPI_getvalue(tup, desc, 10);
	p->feature_set = SPI_getvalue(tup, desc, 11);
	p->model_run = DatumGetInt64(SPI_getbinval(tup, desc, 13, &isnull));
	if (isnull)
		p->model_run = 0;
	if (p->c.algorithm < 0 || strcmp(SPI_getvalue(tup, desc, 12), "daily") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model " INT64_FORMAT " is corrupt: algorithm \"%s\", grain \"%s\"", p->model_id,
						alg, SPI_getvalue(tup, desc, 12))));
	if (!p->r.has_snapshot)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model " INT64_FORMAT " records no data snapshot", p->model_id),
				 errdetail("Its metrics have no snapshot_id: it was trained before training recorded the data it read."),
				 errhint("Retrain it; models trained now record their snapshot.")));
	SsSpiFinish(spi);
	p->r.H = FeatureHorizonSteps(p->r.horizon, 1);
	p->r.nalgs = 1;
	p->r.algs[0] = p->c.algorithm;
	p->hp = p->r.hp;
	if (p->c.algorithm == ALG_NAIVE)
		p->r.hp = NULL;			/* seasonal_naive has no hyper-parameters to apply */
}

/* Why the reproduction differs from the original beyond the blob (rows, shares, levels), or NULL (caller has SPI). */
static const char *
ReproStoredDifference(int64 a, int64 b)
{
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		v[2];
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;

	v[0] = Int64GetDatum(a);
	v[1] = Int64GetDatum(b);
	if (SPI_execute_with_args("SELECT a.hour_shares IS NOT DISTINCT FROM b.hour_shares, a.levels IS NOT DISTINCT FROM b.levels, "
							  "a.train_rows OPERATOR(pg_catalog.=) b.train_rows AND a.train_from OPERATOR(pg_catalog.=) b.train_from "
							  "AND a.train_to OPERATOR(pg_catalog.=) b.train_to "
							  "FROM seongsu.models a, seongsu.models b WHERE a.id OPERATOR(pg_catalog.=) $1 "
							  "AND b.id OPERATOR(pg_catalog.=) $2", 2, types, v, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not read the models back");
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	if (!DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull)))
		return "the training rows differ";
	if (!DatumGetBool(SPI_getbinval(tup, desc, 1, &isnull)))
		return "the hour shares differ";
	if (!DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull)))
		return "the crowd levels differ";
	return NULL;
}

/* The work of the reproduction's run: read the snapshot, refit, store, register, compare, finish the run. */
static void
ReproSteps(void *arg)
{
	Repro	   *p = arg;
	double		importances[DATASET_NCOLS], coefficients[DATASET_NCOLS];
	char	   *params;
	const char *stored;
	bytea	   *blob;
	instr_time	now;
	int			spi;

	TrainDataLoad(&p->r, &p->t);
	p->run.snapshot_id = p->t.snapshot_id;
	memset(&p->opts, 0, sizeof(p->opts));
	strcpy(p->opts.target, DEFAULT_TARGET);
	p->opts.folds = DEFAULT_FOLDS;
	memset(&p->c.bt, 0, sizeof(p->c.bt));
	p->c.nmembers = 0;
	MlParamsInit(&p->c.params, p->c.algorithm == ALG_NAIVE || p->c.algorithm == ML_ENSEMBLE
				 ? ML_GBDT : (MlAlgorithm) p->c.algorithm);
	/* an ensemble's own keys are its options; its members' parameters and day scales are EnsembleRefit's */
	if (p->c.algorithm == ML_ENSEMBLE)
	{
		Datum		own = DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(p->hp), CStringGetTextDatum("members"));

		own = DirectFunctionCall2(jsonb_delete, own, CStringGetTextDatum("day_scale"));
		ApplyParams(&p->c.params, &p->opts, DatumGetJsonbP(own));
	}
	else if (p->c.algorithm != ALG_NAIVE)
		ApplyParams(&p->c.params, &p->opts, p->hp);
	if (p->opts.has_levels)
	{
		memcpy(p->t.levels, p->opts.levels, sizeof(p->t.levels));
		p->t.have_levels = true;
	}
	/* the stored n_estimators of a gbdt is its refit's */
	p->c.bt.best_trees = p->c.params.n_estimators;
	blob = ModelBlob(p->c.algorithm == ML_ENSEMBLE ? EnsembleRefit(p->t.d, p->hp, &p->c) : TrainRefit(p->t.d, &p->c),
					 importances, coefficients);
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, p->start);
	params = p->c.algorithm == ML_ENSEMBLE ? EnsembleParamsJson(&p->c, &p->opts, p->r.H)
		: ParamsJson(p->c.algorithm, &p->c.params, &p->opts, p->c.ratio ? "ratio" : "raw", p->r.H);
	spi = SsSpiConnect();
	p->new_id = TrainStoreModel(p->r.project, p->t.station_id, &p->c, p->metrics, params, p->r.horizon,
								p->feature_set, p->t.d, INSTR_TIME_GET_DOUBLE(now),
								p->t.have_shares ? p->t.shares : NULL, p->t.have_levels ? p->t.levels : NULL, blob);
	stored = ReproStoredDifference(p->model_id, p->new_id);
	SsSpiFinish(spi);
	p->reason = ReproBlobDifference(p->original, blob);
	if (!p->reason && stored)
		p->reason = pstrdup(stored);
	TrackRegister(&p->run, p->r.project, p->new_id, p->run.run_id);
	TrackRunFinish(&p->run, p->t.d, p->new_id, params, p->metrics, p->model_run);
}

/* Reproduce model p->model_id as a run of its own (tagged with the run asked for, when by run). */
static void
Reproduce(Repro *p, int64 of_run)
{
	INSTR_TIME_SET_CURRENT(p->start);
	ReproRead(p);
	TrackRunStart(&p->run, &p->r);
	TrackRunTag(&p->run, "seongsu.reproduces_model", psprintf(INT64_FORMAT, p->model_id));
	if (of_run)
		TrackRunTag(&p->run, "seongsu.reproduces_run", psprintf(INT64_FORMAT, of_run));
	TrackGuarded(&p->run, ReproSteps, p);
}

/*
 * reproduce_model(model_id): refit the model with its stored
 * hyper-parameters on the data of the snapshot it recorded; store the
 * result as a new model of the same project (not deployed) and compare the
 * two byte for byte: the blob, the hour shares, the crowd levels and the
 * training rows.
 */
Datum
reproduce_model(PG_FUNCTION_ARGS)
{
	Repro		p;
	Datum		out[4];
	bool		outnull[4] = {false, false, false, false};

	memset(&p, 0, sizeof(p));
	p.model_id = PG_GETARG_INT64(0);
	InitMaterializedSRF(fcinfo, 0);
	Reproduce(&p, 0);
	out[0] = Int64GetDatum(p.model_id);
	out[1] = Int64GetDatum(p.new_id);
	out[2] = BoolGetDatum(p.reason == NULL);
	out[3] = p.reason ? CStringGetTextDatum(p.reason) : (Datum) 0;
	outnull[3] = p.reason == NULL;
	tuplestore_putvalues(((ReturnSetInfo *) fcinfo->resultinfo)->setResult,
						 ((ReturnSetInfo *) fcinfo->resultinfo)->setDesc, out, outnull);
	return (Datum) 0;
}

/*
 * The model a run stored, and in *code_reason why its code differs from
 * this library's (build or extension version; NULL when the same): ERROR
 * when the run does not exist or stored no model — a candidate that was
 * only backtested gets a hint naming what to reproduce or train instead.
 */
static int64
ReproModelOfRun(int64 run_id, char **code_reason)
{
	Oid			types[1] = {INT8OID};
	Datum		v[1];
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull, no_model, candidate;
	int64		model_id;
	char	   *status, *build, *version, *running, *parent, *stored;
	MemoryContext outer = CurrentMemoryContext;
	int			spi = SsSpiConnect();

	v[0] = Int64GetDatum(run_id);
	if (SPI_execute_with_args("SELECT r.model_id, r.status, r.build, r.extension_version, "
							  "(SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'daily_seongsu'), "
							  "r.parent_run_id, (SELECT pg_catalog.min(o.run_id) FROM seongsu.runs o "
							  "WHERE o.parent_run_id OPERATOR(pg_catalog.=) r.parent_run_id AND o.algorithm OPERATOR(pg_catalog.=) r.algorithm "
							  "AND o.model_id IS NOT NULL) FROM seongsu.runs r WHERE r.run_id OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.runs");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("run " INT64_FORMAT " does not exist", run_id),
				 errhint("See seongsu.runs for the runs.")));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	MemoryContextSwitchTo(outer);
	model_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &no_model));
	status = SPI_getvalue(tup, desc, 2);
	build = SPI_getvalue(tup, desc, 3);
	version = SPI_getvalue(tup, desc, 4);
	running = SPI_getvalue(tup, desc, 5);
	parent = SPI_getvalue(tup, desc, 6);
	stored = SPI_getvalue(tup, desc, 7);
	(void) SPI_getbinval(tup, desc, 6, &isnull);
	candidate = !isnull;
	SsSpiFinish(spi);
	if (no_model && strcmp(status, "finished") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("run " INT64_FORMAT " is %s: it stored no model to reproduce", run_id, status),
				 errhint("Reproduce a finished run (seongsu.runs with status 'finished').")));
	if (no_model && candidate)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("candidate run " INT64_FORMAT " stored no model to reproduce", run_id),
				 errdetail("Of the candidates of a train() call only the best of each algorithm is refit and stored; the others were only backtested (their backtests are in seongsu.run_metrics and seongsu.run_predictions)."),
				 stored ? errhint("Reproduce its algorithm's stored candidate (run %s) or its call (run %s); to fit this candidate, train with its parameters on its snapshot: seongsu.train(algorithm => runs.algorithm, hyperparams => runs.params, snapshot => runs.snapshot_id).", stored, parent)
				 : errhint("Reproduce its call (run %s); to fit this candidate, train with its parameters on its snapshot: seongsu.train(algorithm => runs.algorithm, hyperparams => runs.params, snapshot => runs.snapshot_id).", parent)));
	if (no_model)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the model of run " INT64_FORMAT " was deleted", run_id),
				 errhint("Train again on its snapshot: seongsu.train(..., snapshot => runs.snapshot_id).")));
	*code_reason = NULL;
	if (strcmp(build, TrackBuild()) != 0 || running == NULL || strcmp(version, running) != 0)
		*code_reason = psprintf("run " INT64_FORMAT " was trained by build %s of extension version %s, this is build %s of version %s",
								run_id, build, version, TrackBuild(), running ? running : "(none)");
	return model_id;
}

/*
 * reproduce(run_id): reproduce the model the run stored (a call's: its
 * best model; a candidate's: the one it refit) as reproduce_model does, as
 * a run of its own; identical only when the blobs and what was stored with
 * them are the same and the run was trained by this build and version of
 * the extension — otherwise false with the reason.  Returns the
 * reproduction's run (NULL when runs are not tracked) and model.
 */
Datum
reproduce(PG_FUNCTION_ARGS)
{
	int64		run_id = PG_GETARG_INT64(0);
	Repro		p;
	char	   *code_reason, *reason;
	Datum		out[4];
	bool		outnull[4] = {false, false, false, false};

	memset(&p, 0, sizeof(p));
	InitMaterializedSRF(fcinfo, 0);
	p.model_id = ReproModelOfRun(run_id, &code_reason);
	Reproduce(&p, run_id);
	reason = p.reason;
	if (code_reason)
		reason = psprintf("%s; %s", code_reason, p.reason ? p.reason : "the refit's bytes are the same");
	out[0] = Int64GetDatum(p.run.run_id);
	outnull[0] = p.run.run_id == 0;
	out[1] = Int64GetDatum(p.new_id);
	out[2] = BoolGetDatum(reason == NULL);
	out[3] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	outnull[3] = reason == NULL;
	tuplestore_putvalues(((ReturnSetInfo *) fcinfo->resultinfo)->setResult,
						 ((ReturnSetInfo *) fcinfo->resultinfo)->setDesc, out, outnull);
	return (Datum) 0;
}
