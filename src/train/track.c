/*
 * track.c — experiment tracking and the model registry: every train() call
 * is a run (seongsu.runs) with one child run per candidate it backtested
 * (algorithm x target mode x search point), their metrics per fold and a
 * gbdt's learning curves (run_metrics), the backtest predictions per fold
 * and day (run_predictions), the stored models' feature importances
 * (run_importances), and each stored model's version in its project
 * (model_registry).
 *
 * Everything is written as the extension's owner (no role writes these
 * tables itself) in train's own transaction, so runs commit with the models
 * they made and a rolled-back transaction leaves neither.  A train() that
 * fails or is cancelled once its run has started cannot keep anything of
 * its transaction: TrackGuarded runs the work in a subtransaction and, when
 * it fails, has the run's row written with status failed or cancelled (and
 * tags seongsu.error, seongsu.sqlstate) in a transaction of its own
 * (track_writer.c) before the error goes on to the caller.  A training job
 * in the worker (seongsu.training_job set by the job runner) has its row
 * written that way at start as well, so that every session sees it
 * running; the runner ends it if the worker stops meanwhile.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/date.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "../safe_spi.h"
#include "../settings.h"
#include "train.h"

#ifndef SS_BUILD
#define SS_BUILD "unknown"
#endif

/* The source revision this library was built from (the Makefile's git describe). */
static const char *const track_build = SS_BUILD;

/* Add the time since *since to what the run has spent recording. */
static void
TrackSpent(TrackRun *run, instr_time since)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, since);
	INSTR_TIME_ADD(run->spent, now);
}

/* Run a statement as the extension's owner, in a restricted security context (caller has SPI). */
static void
TrackExec(Oid owner, const char *sql, int nargs, Oid *types, Datum *v, const char *nulls, int expect)
{
	Oid			user;
	int			sec, rc;

	GetUserIdAndSecContext(&user, &sec);
	SetUserIdAndSecContext(owner, sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	rc = SPI_execute_with_args(sql, nargs, types, v, nulls, false, 0);
	SetUserIdAndSecContext(user, sec);
	if (rc != expect)
		elog(ERROR, "could not record the run (%s): %s", SPI_result_code_string(rc), sql);
}

/* An instant as ISO 8601 text in UTC, which reads back the same under any DateStyle and TimeZone. */
static char *
TrackIsoTime(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	return psprintf("%04d-%02d-%02d %02d:%02d:%02d.%06d+00", tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

/* A metric as the metrics document prints it (%.6g), NaN for none: run_metrics equals the document. */
static double
TrackAsPrinted(double x)
{
	char		buf[32];

	if (isnan(x) || isinf(x))
		return NAN;
	snprintf(buf, sizeof(buf), "%.6g", x);
	return strtod(buf, NULL);
}

/* A one-dimensional array of n datums of a type, NaN doubles as NULL elements. */
static Datum
TrackArray(Datum *d, int n, Oid type)
{
	bool	   *nulls = palloc0(sizeof(bool) * (n + 1));
	int			dims[1] = {n}, lbs[1] = {1};
	int16		len;
	bool		byval;
	char		align;
	int			i;

	if (type == FLOAT8OID)
		for (i = 0; i < n; i++)
			nulls[i] = isnan(DatumGetFloat8(d[i]));
	get_typlenbyvalalign(type, &len, &byval, &align);
	return PointerGetDatum(construct_md_array(d, nulls, 1, dims, lbs, type, len, byval, align));
}

/* The parameters a run starts with: one algorithm's effective ones (defaults included), or those given for auto. */
static char *
TrackStartParams(const TrainRequest *r)
{
	MlParams	p;
	TrainOptions o;

	if (r->nalgs > 1 || r->algs[0] == ML_ENSEMBLE)
		return r->hp ? JsonbToCString(NULL, &r->hp->root, VARSIZE(r->hp)) : pstrdup("{}");
	memset(&o, 0, sizeof(o));
	strcpy(o.target, DEFAULT_TARGET);
	o.folds = DEFAULT_FOLDS;
	MlParamsInit(&p, r->algs[0] == ALG_NAIVE ? ML_GBDT : (MlAlgorithm) r->algs[0]);
	ApplyParams(&p, &o, r->hp);
	return ParamsJson(r->algs[0], &p, &o, o.target, r->H);
}

/* The system tags of a run: the training job it belongs to, what it reproduces, and why it ended when it failed. */
static char *
TrackTags(const TrackRun *run, const char *error, const char *sqlstate)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	if (seongsu_training_job && seongsu_training_job[0])
	{
		appendStringInfoString(&s, "\"seongsu.job_id\": ");
		escape_json(&s, seongsu_training_job);
	}
	for (i = 0; i < run->ntags; i++)
	{
		appendStringInfoString(&s, s.len > 1 ? ", " : "");
		escape_json(&s, run->tag_key[i]);
		appendStringInfoString(&s, ": ");
		escape_json(&s, run->tag_value[i]);
	}
	if (error)
	{
		appendStringInfo(&s, "%s\"seongsu.error\": ", s.len > 1 ? ", " : "");
		escape_json(&s, error);
		appendStringInfoString(&s, ", \"seongsu.sqlstate\": ");
		escape_json(&s, sqlstate);
	}
	appendStringInfoChar(&s, '}');
	return s.data;
}

/* Whether table seongsu.name exists: an installation of 0.1.0 not yet updated has no tracking tables (its calls are not tracked). */
static bool
TrackInstalled(const char *name)
{
	return OidIsValid(get_relname_relid(name, get_namespace_oid("seongsu", false)));
}

/*
 * Start the run of a train() call: the extension's owner into run->owner
 * and, with seongsu.track_runs on, the run's row (status running), which a
 * training job in the worker commits at once (READ COMMITTED: a snapshot
 * taken before it could not see it); otherwise TrackGuarded writes it in
 * its subtransaction, so that its end can be written by another.
 */
void
TrackRunStart(TrackRun *run, const TrainRequest *r)
{
	MemoryContext cxt = CurrentMemoryContext;
	char	   *why = NULL;
	char	   *version;
	bool		isnull;
	int			spi;
	instr_time	start;

	memset(run, 0, sizeof(*run));
	spi = SsSpiConnect();
	if (SPI_execute("SELECT e.extowner, e.extversion FROM pg_catalog.pg_extension e "
					"WHERE e.extname OPERATOR(pg_catalog.=) 'daily_seongsu'", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "the daily_seongsu extension is not installed in this database");
	run->owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	version = MemoryContextStrdup(cxt, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
	if (!seongsu_track_runs || !TrackInstalled("runs"))
	{
		SsSpiFinish(spi);
		return;
	}
	INSTR_TIME_SET_CURRENT(start);
	TrackExec(run->owner, "SELECT pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('seongsu.runs', 'run_id'))",
			  0, NULL, NULL, NULL, SPI_OK_SELECT);
	run->run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	MemoryContextSwitchTo(cxt);
	run->row[TC_RUN_ID] = psprintf(INT64_FORMAT, run->run_id);
	run->row[TC_PROJECT] = pstrdup(r->project);
	run->row[TC_STATION] = pstrdup(r->station);
	run->row[TC_LINE] = pstrdup(r->line);
	run->row[TC_GRAIN] = pstrdup("daily");
	run->row[TC_HORIZON] = psprintf("%lld days", (long long) r->H);
	run->row[TC_ALGORITHM] = pstrdup(r->algorithm);
	run->row[TC_PARAMS] = TrackStartParams(r);
	run->row[TC_SEARCH] = r->search ? JsonbToCString(NULL, &r->search->root, VARSIZE(r->search)) : NULL;
	run->row[TC_TRAIN_FROM] = r->has_from ? IsoDate(r->from_arg) : NULL;
	run->row[TC_TRAIN_TO] = r->has_to ? IsoDate(r->to_arg) : NULL;
	run->row[TC_STATUS] = pstrdup("running");
	run->row[TC_STARTED_AT] = TrackIsoTime(GetCurrentTimestamp());
	run->row[TC_FINISHED_AT] = NULL;
	run->row[TC_EXTENSION_VERSION] = version;
	run->row[TC_BUILD] = pstrdup(track_build);
	run->row[TC_DB_USER] = GetUserNameFromId(GetUserId(), false);
	run->row[TC_TAGS] = TrackTags(run, NULL, NULL);
	run->live = seongsu_training_job && seongsu_training_job[0] && !IsolationUsesXactSnapshot();
	SsSpiFinish(spi);
	if (run->live && !TrackRowWrite(run->owner, run->row, true, &why))
	{
		ereport(LOG,
				(errmsg("daily_seongsu: run " INT64_FORMAT " of training job %s is written with its transaction: %s",
						run->run_id, seongsu_training_job, why)));
		run->live = false;
	}
	TrackSpent(run, start);
}

/*
 * A system tag of the run (e.g. seongsu.reproduces_run), given after
 * TrackRunStart in the same memory context; kept when the run fails, and
 * added to a row already committed when it finishes.
 */
void
TrackRunTag(TrackRun *run, const char *key, const char *value)
{
	if (run->run_id == 0)
		return;
	if (run->ntags >= TRACK_MAX_TAGS)
		elog(ERROR, "too many system tags for run " INT64_FORMAT, run->run_id);
	run->tag_key[run->ntags] = pstrdup(key);
	run->tag_value[run->ntags] = pstrdup(value);
	run->ntags++;
	run->row[TC_TAGS] = TrackTags(run, NULL, NULL);
}

/* The source revision compiled into this library (what runs.build records). */
const char *
TrackBuild(void)
{
	return track_build;
}

/* The row of a run that failed (or was cancelled) with edata, written in a transaction of its own. */
static void
TrackRunEnded(TrackRun *run, ErrorData *edata)
{
	bool		cancelled = edata->sqlerrcode == ERRCODE_QUERY_CANCELED;
	char	   *why = NULL;

	run->row[TC_STATUS] = pstrdup(cancelled ? "cancelled" : "failed");
	run->row[TC_FINISHED_AT] = TrackIsoTime(GetCurrentTimestamp());
	run->row[TC_TAGS] = TrackTags(run, edata->message ? edata->message : "unknown error",
								  unpack_sql_state(edata->sqlerrcode));
	if (!TrackRowWrite(run->owner, run->row, true, &why))
		ereport(LOG,
				(errmsg("daily_seongsu: run " INT64_FORMAT " %s, but its row could not be written: %s",
						run->run_id, run->row[TC_STATUS], why),
				 errdetail("The run ended with: %s", edata->message ? edata->message : "unknown error")));
}

/*
 * TrackRunEnded, whose own failure is only logged: recording must not
 * replace the error that ended the run (a function of its own, so that its
 * PG_TRY does not nest in the caller's).
 */
static void
TrackRunEndedOrLog(TrackRun *run, ErrorData *edata, MemoryContext cxt)
{
	PG_TRY();
	{
		TrackRunEnded(run, edata);
	}
	PG_CATCH();
	{
		ErrorData  *again;

		MemoryContextSwitchTo(cxt);
		again = CopyErrorData();
		FlushErrorState();
		ereport(LOG,
				(errmsg("daily_seongsu: run " INT64_FORMAT " could not be recorded as ended: %s",
						run->run_id, again->message)));
	}
	PG_END_TRY();
}

/*
 * Write the run's row and run body(arg) — the work of the run — in a
 * subtransaction; when it raises an error, roll back what it wrote, record
 * the run as failed or cancelled (query_canceled: a cancel or
 * statement_timeout) in a transaction of its own and raise the error again.
 * Without tracking, just body(arg).
 */
void
TrackGuarded(TrackRun *run, void (*body) (void *), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	if (run->run_id == 0)
	{
		body(arg);
		return;
	}
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		if (!run->live)
		{
			instr_time	start;
			int			spi;

			INSTR_TIME_SET_CURRENT(start);
			spi = SsSpiConnect();
			TrackRowWrite(run->owner, run->row, false, NULL);
			SsSpiFinish(spi);
			TrackSpent(run, start);
		}
		body(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		TrackRunEndedOrLog(run, edata, cxt);
		ReThrowError(edata);
	}
	PG_END_TRY();
}

/* A candidate's metrics per fold (step 1..k), their means (step 0) and a gbdt's learning curves (caller has SPI). */
static void
TrackMetrics(Oid owner, int64 run_id, const Candidate *c)
{
	static const char *const names[6] = {"rmse", "mae", "mape", "smape", "r2", "bias"};
	Oid			types[4] = {INT8OID, TEXTARRAYOID, INT4ARRAYOID, FLOAT8ARRAYOID};
	Datum		v[4];
	int			cap = (c->bt.folds + 1) * 6, n = 0, f, i;
	Datum	   *keys, *steps, *values;

	for (f = 0; f < c->bt.folds; f++)
		cap += c->bt.nrounds[f];
	keys = palloc(sizeof(Datum) * cap);
	steps = palloc(sizeof(Datum) * cap);
	values = palloc(sizeof(Datum) * cap);
	for (f = 0; f <= c->bt.folds; f++)
	{
		const MlMetrics *m = f < c->bt.folds ? &c->bt.fold[f] : &c->bt.mean;
		double		x[6] = {m->rmse, m->mae, m->mape, m->smape, m->r2, m->bias};

		for (i = 0; i < 6; i++)
		{
			keys[n] = CStringGetTextDatum(f < c->bt.folds ? names[i] : psprintf("mean_%s", names[i]));
			steps[n] = Int32GetDatum(f < c->bt.folds ? f + 1 : 0);
			values[n++] = Float8GetDatum(TrackAsPrinted(x[i]));
		}
	}
	for (f = 0; f < c->bt.folds; f++)
		for (i = 0; i < c->bt.nrounds[f]; i++)
		{
			keys[n] = CStringGetTextDatum(psprintf("valid_loss_fold%d", f + 1));
			steps[n] = Int32GetDatum(i + 1);
			values[n++] = Float8GetDatum(c->bt.valid_loss[f][i]);
		}
	v[0] = Int64GetDatum(run_id);
	v[1] = TrackArray(keys, n, TEXTOID);
	v[2] = TrackArray(steps, n, INT4OID);
	v[3] = TrackArray(values, n, FLOAT8OID);
	TrackExec(owner, "INSERT INTO seongsu.run_metrics (run_id, key, step, value) SELECT $1, u.k, u.s, u.v "
			  "FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4)) AS u(k, s, v)",
			  4, types, v, NULL, SPI_OK_INSERT);
}

/* A candidate's backtest predictions: fold (1..k), day, actual, predicted (caller has SPI). */
static void
TrackPredictions(Oid owner, int64 run_id, const Dataset *d, const Candidate *c)
{
	Oid			types[5] = {INT8OID, INT4ARRAYOID, DATEARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID};
	Datum		v[5];
	int			n = c->bt.npred, f, i;
	Datum	   *folds = palloc(sizeof(Datum) * (n + 1)), *days = palloc(sizeof(Datum) * (n + 1));
	Datum	   *actual = palloc(sizeof(Datum) * (n + 1)), *pred = palloc(sizeof(Datum) * (n + 1));

	for (f = 0; f < c->bt.folds; f++)
		for (i = c->bt.row_from[f]; i < c->bt.row_to[f]; i++)
		{
			int			k = c->bt.pred_at[f] + i - c->bt.row_from[f];

			folds[k] = Int32GetDatum(f + 1);
			days[k] = DateADTGetDatum(d->day[i]);
			actual[k] = Float8GetDatum(d->target[i]);
			pred[k] = Float8GetDatum(c->bt.pred[k]);
		}
	v[0] = Int64GetDatum(run_id);
	v[1] = TrackArray(folds, n, INT4OID);
	v[2] = TrackArray(days, n, DATEOID);
	v[3] = TrackArray(actual, n, FLOAT8OID);
	v[4] = TrackArray(pred, n, FLOAT8OID);
	TrackExec(owner, "INSERT INTO seongsu.run_predictions (run_id, fold, day, actual, predicted) "
			  "SELECT $1, u.f, u.d, u.a, u.p FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), "
			  "pg_catalog.unnest($4), pg_catalog.unnest($5)) AS u(f, d, a, p)",
			  5, types, v, NULL, SPI_OK_INSERT);
}

/* A stored model's feature importances and ridge coefficients, as model_explain gives them (caller has SPI). */
static void
TrackImportances(Oid owner, int64 run_id, const double *importances, const double *coefficients)
{
	Oid			types[4] = {INT8OID, TEXTARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID};
	Datum		v[4];
	Datum		names[DATASET_NCOLS], imp[DATASET_NCOLS], coef[DATASET_NCOLS];
	int			i;

	for (i = 0; i < DATASET_NCOLS; i++)
	{
		names[i] = CStringGetTextDatum(DatasetColumnName(i));
		imp[i] = Float8GetDatum(importances[i]);
		coef[i] = Float8GetDatum(coefficients[i]);
	}
	v[0] = Int64GetDatum(run_id);
	v[1] = TrackArray(names, DATASET_NCOLS, TEXTOID);
	v[2] = TrackArray(imp, DATASET_NCOLS, FLOAT8OID);
	v[3] = TrackArray(coef, DATASET_NCOLS, FLOAT8OID);
	TrackExec(owner, "INSERT INTO seongsu.run_importances (run_id, feature, importance, coefficient) "
			  "SELECT $1, u.f, u.i, u.c FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), "
			  "pg_catalog.unnest($4)) AS u(f, i, c)",
			  4, types, v, NULL, SPI_OK_INSERT);
}

/*
 * One algorithm's candidates as child runs of the call's run, each with its
 * metrics and backtest predictions; the winner carries the stored model
 * and its importances.  Returns the winner's run id (0 without tracking).
 */
int64
TrackAlgorithm(TrackRun *run, const TrainRequest *r, const Dataset *d, List *cands,
			   const TrainOptions *opts, const Candidate *win, int64 model_id,
			   const double *importances, const double *coefficients)
{
	Oid			types[18] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, INTERVALOID, TEXTOID, JSONBOID, JSONBOID,
		DATEOID, DATEOID, TIMESTAMPTZOID, TIMESTAMPTZOID, JSONBOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, INT8OID};
	ListCell   *lc;
	int64		winner = 0;
	int			spi;
	instr_time	start;

	if (run->run_id == 0)
		return 0;
	INSTR_TIME_SET_CURRENT(start);
	spi = SsSpiConnect();
	foreach(lc, cands)
	{
		const Candidate *c = lfirst(lc);
		Datum		v[18];
		char		n[18];
		bool		isnull;
		int64		id;

		CHECK_FOR_INTERRUPTS();
		memset(n, ' ', sizeof(n));
		v[0] = Int64GetDatum(run->run_id);
		v[1] = CStringGetTextDatum(r->project);
		v[2] = CStringGetTextDatum(r->station);
		v[3] = CStringGetTextDatum(r->line);
		v[4] = IntervalPGetDatum(r->horizon);
		v[5] = CStringGetTextDatum(c->algorithm == ALG_NAIVE ? "seasonal_naive" : MlAlgorithmName((MlAlgorithm) c->algorithm));
		v[6] = DirectFunctionCall1(jsonb_in, CStringGetDatum(c->nmembers > 0 ? EnsembleParamsJson(c, opts, r->H)
															 : ParamsJson(c->algorithm, &c->params, opts,
																		  c->ratio ? "ratio" : "raw", r->H)));
		v[7] = c->described ? JsonbPGetDatum(c->described) : (Datum) 0;
		n[7] = c->described ? ' ' : 'n';
		v[8] = DateADTGetDatum(d->day[0]);
		v[9] = DateADTGetDatum(d->day[d->n - 1]);
		v[10] = TimestampTzGetDatum(c->started_at);
		v[11] = TimestampTzGetDatum(c->finished_at);
		v[12] = DirectFunctionCall1(jsonb_in, CStringGetDatum(MetricsJson(c, NULL)));
		v[13] = Int64GetDatum(model_id);
		n[13] = c == win ? ' ' : 'n';
		v[14] = CStringGetTextDatum(run->row[TC_EXTENSION_VERSION]);
		v[15] = CStringGetTextDatum(run->row[TC_BUILD]);
		v[16] = CStringGetTextDatum(run->row[TC_DB_USER]);
		v[17] = Int64GetDatum(run->snapshot_id);	/* a candidate reads its call's snapshot */
		n[17] = run->snapshot_id ? ' ' : 'n';
		TrackExec(run->owner, "INSERT INTO seongsu.runs (parent_run_id, project, station, line, grain, horizon, "
				  "algorithm, params, search, train_from, train_to, status, started_at, finished_at, metrics, "
				  "model_id, extension_version, build, db_user, snapshot_id) "
				  "VALUES ($1, $2, $3, $4, 'daily', $5, $6, $7, $8, $9, $10, 'finished', $11, $12, $13, $14, $15, $16, $17, $18) "
				  "RETURNING run_id", 18, types, v, n, SPI_OK_INSERT_RETURNING);
		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		TrackMetrics(run->owner, id, c);
		TrackPredictions(run->owner, id, d, c);
		if (c == win)
		{
			winner = id;
			if (importances)
				TrackImportances(run->owner, id, importances, coefficients);
		}
	}
	SsSpiFinish(spi);
	TrackSpent(run, start);
	return winner;
}

/*
 * A stored model as its project's next version (1, 2, ...), made by the
 * child run run_id (0: untracked).  Versions of one project are numbered
 * one transaction at a time (an advisory lock on the project's name).
 */
void
TrackRegister(const TrackRun *run, const char *project, int64 model_id, int64 run_id)
{
	Oid			types[3] = {TEXTOID, INT8OID, INT8OID};
	Datum		v[3];
	char		n[3] = {' ', ' ', run_id ? ' ' : 'n'};
	int			spi;

	if (!TrackInstalled("model_registry"))
		return;
	spi = SsSpiConnect();
	v[0] = CStringGetTextDatum(project);
	v[1] = Int64GetDatum(model_id);
	v[2] = Int64GetDatum(run_id);
	TrackExec(run->owner, "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('seongsu.model_registry'), "
			  "pg_catalog.hashtext($1))", 1, types, v, NULL, SPI_OK_SELECT);
	TrackExec(run->owner, "INSERT INTO seongsu.model_registry (model_id, project, version, run_id) "
			  "SELECT $2, $1, COALESCE(pg_catalog.max(g.version), 0) OPERATOR(pg_catalog.+) 1, $3 "
			  "FROM seongsu.model_registry g WHERE g.project OPERATOR(pg_catalog.=) $1",
			  3, types, v, n, SPI_OK_INSERT);
	SsSpiFinish(spi);
}

/*
 * The run finished: the range it trained on, the best model (the one
 * deployed if any was) with its parameters and metrics, and the best
 * candidate's metric histories copied from its child run.  The time spent
 * recording the run goes to the log at DEBUG1.
 */
void
TrackRunFinish(TrackRun *run, const Dataset *d, int64 model_id, const char *params,
			   const char *metrics, int64 best_run)
{
	Oid			types[8] = {INT8OID, DATEOID, DATEOID, JSONBOID, JSONBOID, INT8OID, INT8OID, JSONBOID};
	Datum		v[8];
	int			spi;
	instr_time	start;

	if (run->run_id == 0)
		return;
	INSTR_TIME_SET_CURRENT(start);
	spi = SsSpiConnect();
	v[0] = Int64GetDatum(run->run_id);
	v[1] = DateADTGetDatum(d->day[0]);
	v[2] = DateADTGetDatum(d->day[d->n - 1]);
	v[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum(params));
	v[4] = DirectFunctionCall1(jsonb_in, CStringGetDatum(metrics));
	v[5] = Int64GetDatum(model_id);
	v[6] = Int64GetDatum(run->snapshot_id);
	v[7] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->row[TC_TAGS]));
	TrackExec(run->owner, "UPDATE seongsu.runs SET status = 'finished', finished_at = pg_catalog.clock_timestamp(), "
			  "train_from = $2, train_to = $3, params = $4, metrics = $5, model_id = $6, snapshot_id = $7, "
			  "tags = tags OPERATOR(pg_catalog.||) $8 "
			  "WHERE run_id OPERATOR(pg_catalog.=) $1", 8, types, v, NULL, SPI_OK_UPDATE);
	if (SPI_processed != 1)
		elog(ERROR, "run " INT64_FORMAT " is missing from seongsu.runs", run->run_id);
	v[1] = Int64GetDatum(best_run);
	types[1] = INT8OID;
	TrackExec(run->owner, "INSERT INTO seongsu.run_metrics (run_id, key, step, value) "
			  "SELECT $1, m.key, m.step, m.value FROM seongsu.run_metrics m WHERE m.run_id OPERATOR(pg_catalog.=) $2",
			  2, types, v, NULL, SPI_OK_INSERT);
	SsSpiFinish(spi);
	TrackSpent(run, start);
	ereport(DEBUG1,
			(errmsg("daily_seongsu: run " INT64_FORMAT " recorded in %.1f ms", run->run_id,
					INSTR_TIME_GET_MILLISEC(run->spent))));
}
