/*
 * train.c — seongsu.train: time-ordered backtests, search, refit, storage
 * and automatic deployment.
 *
 * Backtests are expanding windows over the last two years (backtest.c).
 * Each algorithm's candidates (its search grid times the half-lives of
 * sample weights) are scored by pooled RMSE, and the winner is refit on
 * every training row.  ensemble combines the winners of ridge,
 * random_forest and gbdt (ensemble.c); auto trains every algorithm and
 * deploys the ensemble unless one member beats it on all but at most one
 * fold.  With target mode ratio the model learns passengers / level28 and
 * predictions are multiplied back by the level.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "../safe_spi.h"
#include "../features/asof.h"
#include "../features/dataset.h"
#include "../ml/metrics.h"
#include "../ml/model.h"
#include "../features/shares.h"
#include "train.h"
#include "../serve/serve.h"

PG_FUNCTION_INFO_V1(train);
PG_FUNCTION_INFO_V1(train_check);

/* The project's live model id, or 0 (caller has SPI). */
static int64
DeployedModel(const char *project)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1];
	bool		isnull;

	v[0] = CStringGetTextDatum(project);
	if (SPI_execute_with_args("SELECT model_id FROM seongsu.deployed_models WHERE project OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.deployed_models");
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* An array datum of n doubles. */
static Datum
F8Array(const double *x, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Float8GetDatum(x[i]);
	return PointerGetDatum(construct_array(d, n, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* Store one trained model; returns its id. */
int64
TrainStoreModel(const char *project, int32 station_id, const Candidate *c, const char *metrics,
		   const char *params, Interval *horizon, const char *feature_set, const Dataset *d,
		   double seconds, const double *shares, const double *levels, bytea *blob)
{
	Oid			types[17] = {TEXTOID, INT4OID, TEXTOID, INTERVALOID, TEXTOID, TEXTARRAYOID, TEXTOID,
		JSONBOID, JSONBOID, INT4OID, FLOAT8OID, INT8OID, DATEOID, DATEOID, FLOAT8ARRAYOID,
	FLOAT8ARRAYOID, BYTEAOID};
	Datum		v[17];
	char		n[18];
	Datum	   *names = palloc(sizeof(Datum) * DATASET_NCOLS);
	bool		isnull;
	int			i;

	memset(n, ' ', 17);
	n[17] = '\0';
	for (i = 0; i < DATASET_NCOLS; i++)
		names[i] = CStringGetTextDatum(DatasetColumnName(i));
	v[0] = CStringGetTextDatum(project);
	v[1] = Int32GetDatum(station_id);
	v[2] = CStringGetTextDatum(c->algorithm == ALG_NAIVE ? "seasonal_naive" : MlAlgorithmName((MlAlgorithm) c->algorithm));
	v[3] = IntervalPGetDatum(horizon);
	v[4] = CStringGetTextDatum(feature_set);
	v[5] = PointerGetDatum(construct_array(names, DATASET_NCOLS, TEXTOID, -1, false, TYPALIGN_INT));
	v[6] = CStringGetTextDatum(c->algorithm == ALG_NAIVE ? "lag" : c->ratio ? "ratio" : "raw");
	v[7] = DirectFunctionCall1(jsonb_in, CStringGetDatum(params));
	v[8] = DirectFunctionCall1(jsonb_in, CStringGetDatum(metrics));
	v[9] = Int32GetDatum(d->n);
	v[10] = Float8GetDatum(seconds);
	v[11] = Int64GetDatum((int64) d->bytes);
	v[12] = DateADTGetDatum(d->day[0]);
	v[13] = DateADTGetDatum(d->day[d->n - 1]);
	v[14] = shares ? F8Array(shares, SHARES_N) : (Datum) 0;
	n[14] = shares ? ' ' : 'n';
	v[15] = levels ? F8Array(levels, 3) : (Datum) 0;
	n[15] = levels ? ' ' : 'n';
	v[16] = blob ? PointerGetDatum(blob) : (Datum) 0;
	n[16] = blob ? ' ' : 'n';
	if (SPI_execute_with_args("INSERT INTO seongsu.models (project, station_id, algorithm, horizon, feature_set, "
							  "features, target_mode, hyperparams, metrics, train_rows, train_seconds, matrix_bytes, "
							  "train_from, train_to, hour_shares, levels, blob, grain) "
							  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'daily') "
							  "RETURNING id", 17, types, v, n, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not store the model");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* The quality gate, when seongsu.assert_quality is installed. */
static void
QualityGate(const char *station, const char *line, int32 from, int32 to, bool force)
{
	Oid			types[5] = {TEXTOID, TEXTOID, DATEOID, DATEOID, BOOLOID};
	Datum		v[5];

	if (SPI_execute("SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n "
					"ON n.oid OPERATOR(pg_catalog.=) p.pronamespace WHERE n.nspname OPERATOR(pg_catalog.=) 'seongsu' "
					"AND p.proname OPERATOR(pg_catalog.=) 'assert_quality'", true, 1) != SPI_OK_SELECT ||
		SPI_processed == 0)
		return;
	v[0] = CStringGetTextDatum(station);
	v[1] = CStringGetTextDatum(line);
	v[2] = DateADTGetDatum(from);
	v[3] = DateADTGetDatum(to);
	v[4] = BoolGetDatum(force);
	if (SPI_execute_with_args("SELECT seongsu.assert_quality($1, $2, $3, $4, $5)", 5, types, v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "quality gate failed to run");
}

/*
 * RMSE of the live model on [from, to] into *rmse; false, with the reason
 * for replacing it in *reason, when loading it fails with data_corrupted
 * (a corrupt blob, or an older format), so that a new model can take its
 * place.  Only the load is guarded: any other error still aborts.
 */
static bool
LiveModelRmse(int64 id, int32 from, int32 to, double *rmse, char **reason)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		ModelLoadOrError(id);
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
		if (edata->sqlerrcode != ERRCODE_DATA_CORRUPTED)
			ReThrowError(edata);
		*reason = psprintf("live model " INT64_FORMAT " cannot be read: %s", id, edata->message);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	if (ok)
		*rmse = ModelWindowRmse(id, from, to);
	return ok;
}

/* A train() call: its request, data, run and what it trained. */
typedef struct TrainCall
{
	TrainRequest r;
	TrainData	t;
	TrackRun	run;
	TrainedModel models[MAX_ALGS];
	int			best;			/* of models: the one to deploy (AutoChoice) */
	bool		deployed;
	instr_time	start;
} TrainCall;

/* The algorithms of an algorithm name into r (auto: every one); ERROR when unknown. */
static void
TrainAlgorithms(const char *alg, TrainRequest *r)
{
	MlAlgorithm m;

	r->nalgs = 0;
	if (strcmp(alg, "auto") == 0)
	{
		r->algs[r->nalgs++] = ALG_NAIVE;
		r->algs[r->nalgs++] = ML_RIDGE;
		r->algs[r->nalgs++] = ML_RANDOM_FOREST;
		r->algs[r->nalgs++] = ML_GBDT;
		r->algs[r->nalgs++] = ML_ENSEMBLE;
	}
	else if (strcmp(alg, "seasonal_naive") == 0)
		r->algs[r->nalgs++] = ALG_NAIVE;
	else if (MlAlgorithmFromName(alg, &m))
		r->algs[r->nalgs++] = (int) m;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown algorithm \"%s\"", alg),
				 errhint("Use seasonal_naive, ridge, random_forest, gbdt, ensemble or auto.")));
}

/* Step 1: the arguments of train(), checked before any data is read. */
static void
TrainRequestFrom(FunctionCallInfo fcinfo, TrainRequest *r)
{
	char	   *grain;
	Interval   *horizon;
	int			a;

	for (a = 0; a < 5; a++)
		if (PG_ARGISNULL(a))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("station, line, algorithm, grain and horizon must not be null")));
	memset(r, 0, sizeof(*r));
	r->station = text_to_cstring(PG_GETARG_TEXT_PP(0));
	r->line = text_to_cstring(PG_GETARG_TEXT_PP(1));
	grain = text_to_cstring(PG_GETARG_TEXT_PP(3));
	horizon = PG_GETARG_INTERVAL_P(4);
	r->hp = PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5);
	r->search = PG_ARGISNULL(6) ? NULL : PG_GETARG_JSONB_P(6);
	r->has_from = !PG_ARGISNULL(7);
	r->from_arg = r->has_from ? PG_GETARG_DATEADT(7) : 0;
	r->has_to = !PG_ARGISNULL(8);
	r->to_arg = r->has_to ? PG_GETARG_DATEADT(8) : 0;
	r->force = !PG_ARGISNULL(10) && PG_GETARG_BOOL(10);
	r->has_snapshot = PG_NARGS() > 11 && !PG_ARGISNULL(11);	/* train_check has no snapshot */
	r->snapshot_arg = r->has_snapshot ? PG_GETARG_INT64(11) : 0;

	if (strcmp(grain, "daily") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("grain \"%s\" cannot be trained directly", grain),
				 errhint("Train the daily grain: hourly forecasts come from the daily model times the hour-of-day shares stored with it (two-stage).")));
	r->H = FeatureHorizonSteps(horizon, 1);
	if (horizon->time % USECS_PER_DAY != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the horizon of a daily model must be a whole number of days"),
				 errdetail("The horizon given is %s.",
						   DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(horizon)))),
				 errhint("A daily row is predicted from whole days of observations: use e.g. '1 day' or '7 days'.")));
	/* stored as days: '48 hours' is the 2-day project */
	r->horizon = palloc0(sizeof(Interval));
	r->horizon->day = (int32) r->H;
	r->algorithm = text_to_cstring(PG_GETARG_TEXT_PP(2));
	TrainAlgorithms(r->algorithm, r);
	if (r->H > 28 && (r->nalgs > 1 || r->algs[0] == ALG_NAIVE))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("seasonal_naive needs a horizon of at most 28 days")));
	if (r->has_from && r->has_to && r->to_arg < r->from_arg)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("train_to is before train_from")));
	/* hyperparams and search are checked before any data is read */
	{
		MlParams	scratch;
		TrainOptions opts;
		int			folds;

		memset(&opts, 0, sizeof(opts));
		opts.folds = DEFAULT_FOLDS;
		MlParamsInit(&scratch, ML_GBDT);
		ApplyParams(&scratch, &opts, r->hp);
		folds = opts.folds;
		(void) Candidates(ML_GBDT, &scratch, true, r->search, false, &folds);
	}
	r->project = PG_ARGISNULL(9)
		? psprintf("%s %s daily %lld days", r->station, r->line, (long long) r->H)
		: text_to_cstring(PG_GETARG_TEXT_PP(9));
}

/* The station and its training range: the request's, within its observations; ERROR when empty (caller has SPI). */
static void
TrainRange(const TrainRequest *r, int32 *station_id, int32 *from, int32 *to)
{
	int32		obs_first, obs_last;

	*station_id = FeatureStationId(r->station, r->line);
	if (!ObservedRange(*station_id, &obs_first, &obs_last))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("the station has no daily ridership to train on"),
				 errhint("Import or ingest ridership first (seongsu.import_file, seongsu.enqueue).")));
	*from = r->has_from ? Max(r->from_arg, obs_first) : obs_first;
	*to = r->has_to ? Min(r->to_arg, obs_last) : obs_last;
	if (*to < *from)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no observations in the training range"),
				 errhint("The station has data from %s to %s.", IsoDate(obs_first), IsoDate(obs_last))));
}

/*
 * The data snapshot training reads and its instant (caller has SPI): a new
 * one of the request's scope (seongsu.snapshot), or the one given, which
 * must read back exactly (seongsu.verify_snapshot) and cover the station;
 * its range is then the default of train_from and train_to, which must lie
 * within it (set in *r).
 */
static int64
TrainSnapshot(TrainRequest *r, TimestampTz *as_of)
{
	Oid			types[4] = {TEXTOID, TEXTOID, DATEOID, DATEOID};
	Datum		v[4];
	char		nulls[5] = "    ";
	bool		isnull;
	int64		id = r->snapshot_arg;
	HeapTuple	tup;
	TupleDesc	desc;
	char	   *station, *line;
	int32		bound;

	if (!r->has_snapshot)
	{
		v[0] = CStringGetTextDatum(r->station);
		v[1] = CStringGetTextDatum(r->line);
		v[2] = DateADTGetDatum(r->from_arg);
		v[3] = DateADTGetDatum(r->to_arg);
		nulls[2] = r->has_from ? ' ' : 'n';
		nulls[3] = r->has_to ? ' ' : 'n';
		if (SPI_execute_with_args("SELECT seongsu.snapshot($1, $2, $3, $4)", 4, types, v, nulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not take the data snapshot");
		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	types[0] = INT8OID;
	v[0] = Int64GetDatum(id);
	if (r->has_snapshot)
	{
		if (SPI_execute_with_args("SELECT seongsu.verify_snapshot($1)", 1, types, v, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not check the data snapshot");
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("snapshot " INT64_FORMAT " cannot be read back exactly", id),
					 errdetail("Its data read again through the revision history do not hash to its content_hash: rows were written with an ingested_at of their own, or history rows were removed by hand."),
					 errhint("Train on a new snapshot of the current data (leave snapshot out).")));
	}
	if (SPI_execute_with_args("SELECT as_of, scope OPERATOR(pg_catalog.->>) 'station', scope OPERATOR(pg_catalog.->>) 'line', "
							  "(scope OPERATOR(pg_catalog.->>) 'from_date')::pg_catalog.date, "
							  "(scope OPERATOR(pg_catalog.->>) 'to_date')::pg_catalog.date "
							  "FROM seongsu.snapshots WHERE snapshot_id OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read snapshot " INT64_FORMAT, id);
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	*as_of = DatumGetTimestampTz(SPI_getbinval(tup, desc, 1, &isnull));
	if (!r->has_snapshot)
		return id;
	station = SPI_getvalue(tup, desc, 2);
	line = SPI_getvalue(tup, desc, 3);
	if ((station && strcmp(station, r->station) != 0) || (line && strcmp(line, r->line) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("snapshot " INT64_FORMAT " does not cover station \"%s\" on line \"%s\"", id, r->station, r->line),
				 errdetail("It is a snapshot of %s on %s.", station ? station : "every station", line ? line : "every line"),
				 errhint("Give the snapshot's station and line, or take a snapshot of this station.")));
	bound = DatumGetDateADT(SPI_getbinval(tup, desc, 4, &isnull));
	if (!isnull && r->has_from && r->from_arg < bound)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("train_from %s is before the snapshot's from_date %s", IsoDate(r->from_arg), IsoDate(bound)),
				 errhint("Leave train_from out to train from the snapshot's from_date.")));
	if (!isnull && !r->has_from)
	{
		r->has_from = true;
		r->from_arg = bound;
	}
	bound = DatumGetDateADT(SPI_getbinval(tup, desc, 5, &isnull));
	if (!isnull && r->has_to && r->to_arg > bound)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("train_to %s is after the snapshot's to_date %s", IsoDate(r->to_arg), IsoDate(bound)),
				 errhint("Leave train_to out to train to the snapshot's to_date.")));
	if (!isnull && !r->has_to)
	{
		r->has_to = true;
		r->to_arg = bound;
	}
	return id;
}

/* Step 2b, as of the snapshot: the training range through the quality gate, its rows, hour shares and crowd levels. */
static void
TrainDataRead(const TrainRequest *r, TrainData *t)
{
	int32		from, to;
	int			spi = SsSpiConnect();

	memset(t, 0, sizeof(*t));
	TrainRange(r, &t->station_id, &from, &to);
	if (!r->has_snapshot)
		QualityGate(r->station, r->line, from, to, r->force);
	t->have_shares = SharesCompute(t->station_id, to, t->shares);
	SsSpiFinish(spi);

	t->d = DatasetBuild(r->station, r->line, from, to, r->H);
	if (t->d->n < 60)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("too little data to train: %d usable days", t->d->n),
				 errhint("A model needs at least 60 observed days with a 28-day level before them.")));
	t->have_levels = SharesLevels(t->d, t->have_shares ? t->shares : NULL, t->levels);
}

/* TrainDataRead with the loaders reading the data as of an instant. */
static void
TrainDataAsOf(const TrainRequest *r, TrainData *t, TimestampTz as_of)
{
	VersionAsOfPush(as_of);
	PG_TRY();
	{
		TrainDataRead(r, t);
	}
	PG_FINALLY();
	{
		VersionAsOfPop();
	}
	PG_END_TRY();
}

/*
 * Step 2: what training reads, as of a data snapshot (src/ops): a new one
 * of the request's scope, taken once the range is checked on the current
 * data, or the one given (which skips the quality gate: it is a fixed past
 * version).  The loaders read through the revision history as of its
 * instant, so the model is a function of the snapshot's content.
 */
void
TrainDataLoad(const TrainRequest *r, TrainData *t)
{
	TrainRequest q = *r;
	TimestampTz as_of;
	int64		id;
	int			spi = SsSpiConnect();

	/* 0.1.0 not yet updated has no versioning: it trains on the current rows, as 0.1.0 did */
	if (!OidIsValid(get_relname_relid("snapshots", get_namespace_oid("seongsu", false))))
	{
		SsSpiFinish(spi);
		TrainDataRead(r, t);
		t->snapshot_id = 0;
		return;
	}
	if (!r->has_snapshot)
	{
		int32		station_id, from, to;

		TrainRange(r, &station_id, &from, &to);
	}
	id = TrainSnapshot(&q, &as_of);
	SsSpiFinish(spi);
	TrainDataAsOf(&q, t, as_of);
	t->snapshot_id = id;
}

/* The metrics document with the data snapshot the model was trained on (metrics.snapshot_id; none when 0). */
static char *
MetricsWithSnapshot(char *metrics, int64 snapshot_id)
{
	Datum		j;

	if (snapshot_id == 0)
		return metrics;
	j = DirectFunctionCall2(jsonb_concat, DirectFunctionCall1(jsonb_in, CStringGetDatum(metrics)),
							DirectFunctionCall1(jsonb_in, CStringGetDatum(psprintf("{\"snapshot_id\": " INT64_FORMAT "}", snapshot_id))));
	return DatumGetCString(DirectFunctionCall1(jsonb_out, j));
}

/*
 * The winner refit on every training row, with its sample weights (relative
 * to the last training day); NULL for seasonal_naive.  A gbdt backtested
 * with early stopping is refit with the most rounds a fold kept (at least
 * 50), recorded in win->params.
 */
MlModel *
TrainRefit(const Dataset *d, Candidate *win)
{
	MlParams	fp = win->params;
	double	   *y, *w;
	char		err[256];
	MlModel    *m;
	int			i;

	if (win->algorithm == ALG_NAIVE)
		return NULL;
	if (win->algorithm == ML_GBDT && fp.early_stopping_rounds > 0)
		fp.n_estimators = Max(win->bt.best_trees, 50);
	y = palloc(sizeof(double) * d->n);
	for (i = 0; i < d->n; i++)
		y[i] = win->ratio ? d->target[i] / d->level[i] : d->target[i];
	w = SampleWeights(d, d->n, fp.half_life);
	m = MlModelFitWeighted((MlAlgorithm) win->algorithm, d->X, y, w, 0, &fp, err, sizeof(err));
	if (!m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("training failed: %s", err)));
	win->params = fp;
	return m;
}

/*
 * A fitted model serialized, with its feature importances and ridge
 * coefficients (NaN for other algorithms) as model_explain gives them;
 * NULL for none (seasonal_naive).
 */
bytea *
ModelBlob(const MlModel *m, double *importances, double *coefficients)
{
	uint8	   *bytes;
	size_t		len;
	bytea	   *blob;
	double		intercept;
	double	   *fill = palloc(sizeof(double) * DATASET_NCOLS);
	int			i;

	if (!m)
		return NULL;
	MlModelImportances(m, importances);
	if (!MlModelLinearCoefficients(m, &intercept, coefficients, fill))
		for (i = 0; i < DATASET_NCOLS; i++)
			coefficients[i] = NAN;
	bytes = MlModelSerialize(m, &len);
	blob = palloc(VARHDRSZ + len);
	SET_VARSIZE(blob, VARHDRSZ + len);
	memcpy(VARDATA(blob), bytes, len);
	pfree(bytes);
	return blob;
}

/*
 * One algorithm's search: its candidates (the grid times the half-lives,
 * for each target mode asked) backtested, the best into out (not refit).
 */
void
AlgorithmSearch(const TrainRequest *r, TrainData *t, int algorithm, TrainedModel *out)
{
	MlParams	base;
	TrainOptions *opts = &out->opts;
	bool		recency = !r->search && JsonKey(r->hp, "half_life") == NULL;
	int			folds;

	memset(out, 0, sizeof(*out));
	strcpy(opts->target, DEFAULT_TARGET);
	opts->folds = DEFAULT_FOLDS;
	MlParamsInit(&base, algorithm == ALG_NAIVE ? ML_GBDT : (MlAlgorithm) algorithm);
	ApplyParams(&base, opts, r->hp);
	if (opts->has_levels)
	{
		memcpy(t->levels, opts->levels, sizeof(t->levels));
		t->have_levels = true;
	}
	folds = opts->folds;
	if (algorithm == ALG_NAIVE || strcmp(opts->target, "raw") != 0)
		out->cands = list_concat(out->cands, Candidates(algorithm, &base, algorithm != ALG_NAIVE, r->search, recency, &folds));
	if (algorithm != ALG_NAIVE && strcmp(opts->target, "ratio") != 0)
		out->cands = list_concat(out->cands, Candidates(algorithm, &base, false, r->search, recency, &folds));
	opts->folds = folds;
	out->algorithm = algorithm;
	out->win = BestOf(t->d, out->cands, folds, &out->report);

	/*
	 * The tree learners' second stage, unless the caller chose the shape:
	 * the winner (its half-life and target) with random thresholds, one
	 * more candidate instead of a doubled grid (docs/models.md); BestOf
	 * backtests only it and picks again.  The ensemble also takes gbdt's
	 * best of each shape.
	 */
	if ((algorithm == ML_GBDT || (algorithm == ML_RANDOM_FOREST && JsonKey(r->hp, "bootstrap") == NULL &&
								  JsonKey(r->hp, "max_features") == NULL)) &&
		!r->search && JsonKey(r->hp, "extra_trees") == NULL)
	{
		out->cands = lappend(out->cands, ExtraTreesOf(out->win));
		out->win = BestOf(t->d, out->cands, folds, &out->report);
	}
}

/*
 * Step 3: one algorithm's winner (refit unless it already is) stored, each
 * of its candidates recorded as a child run of the call's run and the model
 * registered as the project's next version.
 */
static void
AlgorithmStore(const TrainRequest *r, TrainData *t, TrackRun *run, TrainedModel *out, instr_time start)
{
	bytea	   *blob;
	int			spi;
	instr_time	now;
	double		importances[DATASET_NCOLS], coefficients[DATASET_NCOLS];

	if (!out->fitted)
		out->fitted = TrainRefit(t->d, out->win);
	blob = ModelBlob(out->fitted, importances, coefficients);
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	out->params = out->win->nmembers > 0 ? EnsembleParamsJson(out->win, &out->opts, r->H)
		: ParamsJson(out->algorithm, &out->win->params, &out->opts, out->win->ratio ? "ratio" : "raw", r->H);
	out->metrics = MetricsWithSnapshot(MetricsJson(out->win, out->report), t->snapshot_id);
	spi = SsSpiConnect();
	out->id = TrainStoreModel(r->project, t->station_id, out->win, out->metrics, out->params, r->horizon,
						 psprintf("daily %lld days v2", (long long) r->H), t->d, INSTR_TIME_GET_DOUBLE(now),
						 t->have_shares ? t->shares : NULL, t->have_levels ? t->levels : NULL, blob);
	SsSpiFinish(spi);
	out->run_id = TrackAlgorithm(run, r, t->d, out->cands, &out->opts, out->win, out->id,
								 blob ? importances : NULL, blob ? coefficients : NULL);
	TrackRegister(run, r->project, out->id, out->run_id);
}

/*
 * Step 4: deploy the chosen model (AutoChoice) if it beats the live model
 * on the same window — its last backtest fold, scored for the live model
 * too; returns whether it was deployed.
 */
static bool
TrainDeploy(const TrainRequest *r, const TrainedModel *best, const char *why)
{
	const Candidate *w = best->win;
	int			lf = w->bt.folds - 1;
	double		new_rmse = w->bt.fold[lf].rmse, live_rmse;
	int64		live;
	bool		deploy;
	char	   *reason;
	int			spi = SsSpiConnect();

	live = DeployedModel(r->project);
	SsSpiFinish(spi);
	if (live == 0)
	{
		deploy = true;
		reason = psprintf("first model of the project (backtest RMSE %.1f; %s)", w->bt.mean.rmse, why);
	}
	else if (!LiveModelRmse(live, w->bt.fold_from[lf], w->bt.fold_to[lf], &live_rmse, &reason))
		deploy = true;
	else
	{
		deploy = isnan(live_rmse) || new_rmse < live_rmse;
		reason = psprintf("RMSE %.1f vs live model " INT64_FORMAT "'s %.1f on %s..%s; %s",
						  new_rmse, live, live_rmse, IsoDate(w->bt.fold_from[lf]), IsoDate(w->bt.fold_to[lf]), why);
	}
	if (deploy)
	{
		Oid			types[3] = {TEXTOID, INT8OID, TEXTOID};
		Datum		v[3];

		v[0] = CStringGetTextDatum(r->project);
		v[1] = Int64GetDatum(best->id);
		v[2] = CStringGetTextDatum(reason);
		spi = SsSpiConnect();
		if (SPI_execute_with_args("INSERT INTO seongsu.deployments (project, model_id, action, reason) "
								  "VALUES ($1, $2, 'deploy', $3)", 3, types, v, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not deploy");
		SsSpiFinish(spi);
	}
	return deploy;
}

/* Step 5: a result row per trained model: id, algorithm, metrics as stored, deployed, the call's run. */
static void
TrainReturn(ReturnSetInfo *rsinfo, const TrainCall *c)
{
	int			a;

	for (a = 0; a < c->r.nalgs; a++)
	{
		const TrainedModel *m = &c->models[a];
		Datum		out[5];
		bool		outnull[5] = {false, false, false, false, c->run.run_id == 0};

		out[0] = Int64GetDatum(m->id);
		out[1] = CStringGetTextDatum(m->algorithm == ALG_NAIVE ? "seasonal_naive"
									 : MlAlgorithmName((MlAlgorithm) m->algorithm));
		out[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(m->metrics));
		out[3] = BoolGetDatum(c->deployed && a == c->best);
		out[4] = Int64GetDatum(c->run.run_id);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnull);
	}
}

/* Steps 2 to 4 and the run's end, which TrackGuarded records even when they fail. */
static void
TrainSteps(void *arg)
{
	TrainCall  *c = arg;
	int			a;

	char	   *why;

	TrainDataLoad(&c->r, &c->t);
	c->run.snapshot_id = c->t.snapshot_id;
	for (a = 0; a < c->r.nalgs; a++)
	{
		CHECK_FOR_INTERRUPTS();
		if (c->r.algs[a] == ML_ENSEMBLE)
			EnsembleSearch(&c->r, &c->t, c->models, a, &c->models[a]);
		else
			AlgorithmSearch(&c->r, &c->t, c->r.algs[a], &c->models[a]);
		AlgorithmStore(&c->r, &c->t, &c->run, &c->models[a], c->start);
	}
	c->best = AutoChoice(c->models, c->r.nalgs, &why);
	/* a model of a given (past) snapshot is not deployed automatically */
	c->deployed = !c->r.has_snapshot && TrainDeploy(&c->r, &c->models[c->best], why);
	TrackRunFinish(&c->run, c->t.d, c->models[c->best].id, c->models[c->best].params,
				   c->models[c->best].metrics, c->models[c->best].run_id);
}

/*
 * train(station, line, algorithm, grain, horizon, hyperparams, search,
 *       train_from, train_to, project, force, snapshot): the request
 * checked, the data read once (as of a data snapshot), each algorithm's
 * best candidate stored, the best of them deployed when it beats the live
 * model (unless trained on a given snapshot).
 */
Datum
train(PG_FUNCTION_ARGS)
{
	TrainCall	c;

	INSTR_TIME_SET_CURRENT(c.start);
	TrainRequestFrom(fcinfo, &c.r);
	InitMaterializedSRF(fcinfo, 0);
	TrackRunStart(&c.run, &c.r);
	TrackGuarded(&c.run, TrainSteps, &c);
	TrainReturn((ReturnSetInfo *) fcinfo->resultinfo, &c);
	return (Datum) 0;
}

/*
 * train_check(the arguments of train): raises the error train would raise
 * for them before reading any data (enqueue checks a training job's
 * options with it).
 */
Datum
train_check(PG_FUNCTION_ARGS)
{
	TrainRequest r;

	TrainRequestFrom(fcinfo, &r);
	PG_RETURN_VOID();
}
