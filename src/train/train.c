/*
 * train.c — seongsu.train: time-ordered backtests, search, refit, storage
 * and automatic deployment.
 *
 * Backtests are expanding windows: with k folds and a test block of
 * b = min(365, n / (k + 1)) rows, fold i trains on every row before its
 * block and tests on the block; blocks are the last k*b rows, in time order.
 * Metrics are on passengers.  The winner of a search (lowest mean RMSE) is
 * refit on all the training rows.  With target mode ratio the model learns
 * passengers / level28 and predictions are multiplied back by the level.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "../safe_spi.h"
#include "../features/dataset.h"
#include "../ml/metrics.h"
#include "../ml/model.h"
#include "../features/shares.h"
#include "train.h"
#include "../serve/serve.h"

PG_FUNCTION_INFO_V1(train);

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
static int64
StoreModel(const char *project, int32 station_id, const Candidate *c, const char *metrics,
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

/*
 * train(station, line, algorithm, grain, horizon, hyperparams, search,
 *       train_from, train_to, project, force)
 */
Datum
train(PG_FUNCTION_ARGS)
{
	int			spi;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *station, *line, *alg, *grain, *project;
	Interval   *horizon;
	Jsonb	   *hp, *search;
	bool		force;
	int32		station_id, obs_first, obs_last, from, to;
	int64		H, deployed_id;
	int			algs[4], nalgs = 0, a, folds;
	Dataset    *d;
	TrainOptions opts;
	double		deployed_rmse;
	double		shares[SHARES_N];
	double		levels[3];
	bool		have_shares;
	bool		have_levels;
	int64		ids[4];
	Candidate  *chosen[4];
	int			best = -1;
	instr_time	start, now;

	for (a = 0; a < 7; a++)
		if (a != 5 && a != 6 && a != 7 && PG_ARGISNULL(a))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("station, line, algorithm, grain and horizon must not be null")));
	INSTR_TIME_SET_CURRENT(start);
	station = text_to_cstring(PG_GETARG_TEXT_PP(0));
	line = text_to_cstring(PG_GETARG_TEXT_PP(1));
	alg = text_to_cstring(PG_GETARG_TEXT_PP(2));
	grain = text_to_cstring(PG_GETARG_TEXT_PP(3));
	horizon = PG_GETARG_INTERVAL_P(4);
	hp = PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5);
	search = PG_ARGISNULL(6) ? NULL : PG_GETARG_JSONB_P(6);
	force = !PG_ARGISNULL(10) && PG_GETARG_BOOL(10);

	if (strcmp(grain, "daily") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("grain \"%s\" cannot be trained directly", grain),
				 errhint("Train the daily grain: hourly forecasts come from the daily model times the hour-of-day shares stored with it (two-stage).")));
	H = FeatureHorizonSteps(horizon, 1);
	if (horizon->time % USECS_PER_DAY != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the horizon of a daily model must be a whole number of days"),
				 errdetail("The horizon given is %s.",
						   DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(horizon)))),
				 errhint("A daily row is predicted from whole days of observations: use e.g. '1 day' or '7 days'.")));
	/* stored as days: '48 hours' is the 2-day project */
	horizon = palloc0(sizeof(Interval));
	horizon->day = (int32) H;
	if (strcmp(alg, "auto") == 0)
	{
		algs[nalgs++] = ALG_NAIVE;
		algs[nalgs++] = ML_RIDGE;
		algs[nalgs++] = ML_RANDOM_FOREST;
		algs[nalgs++] = ML_GBDT;
	}
	else if (strcmp(alg, "seasonal_naive") == 0)
		algs[nalgs++] = ALG_NAIVE;
	else
	{
		MlAlgorithm m;

		if (!MlAlgorithmFromName(alg, &m))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown algorithm \"%s\"", alg),
					 errhint("Use seasonal_naive, ridge, random_forest, gbdt or auto.")));
		algs[nalgs++] = (int) m;
	}
	if (H > 28 && (nalgs > 1 || algs[0] == ALG_NAIVE))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("seasonal_naive needs a horizon of at most 28 days")));
	/* hyperparams and search are checked before any data is read */
	{
		MlParams	scratch;

		memset(&opts, 0, sizeof(opts));
		opts.folds = 3;
		MlParamsInit(&scratch, ML_GBDT);
		ApplyParams(&scratch, &opts, hp);
		folds = opts.folds;
		(void) Candidates(ML_GBDT, &scratch, true, search, &folds);
	}

	project = PG_ARGISNULL(9)
		? psprintf("%s %s daily %lld days", station, line, (long long) H)
		: text_to_cstring(PG_GETARG_TEXT_PP(9));
	spi = SsSpiConnect();
	station_id = FeatureStationId(station, line);
	if (!ObservedRange(station_id, &obs_first, &obs_last))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("the station has no daily ridership to train on"),
				 errhint("Import or ingest ridership first (seongsu.import_file, seongsu.enqueue).")));
	from = PG_ARGISNULL(7) ? obs_first : Max(PG_GETARG_DATEADT(7), obs_first);
	to = PG_ARGISNULL(8) ? obs_last : Min(PG_GETARG_DATEADT(8), obs_last);
	if (!PG_ARGISNULL(7) && !PG_ARGISNULL(8) && PG_GETARG_DATEADT(8) < PG_GETARG_DATEADT(7))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("train_to is before train_from")));
	if (to < from)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no observations in the training range"),
				 errhint("The station has data from %s to %s.", IsoDate(obs_first), IsoDate(obs_last))));
	QualityGate(station, line, from, to, force);
	have_shares = SharesCompute(station_id, to, shares);
	SsSpiFinish(spi);

	d = DatasetBuild(station, line, from, to, H);
	if (d->n < 60)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("too little data to train: %d usable days", d->n),
				 errhint("A model needs at least 60 observed days with a 28-day level before them.")));
	have_levels = SharesLevels(d, have_shares ? shares : NULL, levels);

	InitMaterializedSRF(fcinfo, 0);
	for (a = 0; a < nalgs; a++)
	{
		MlParams	base;
		List	   *cands;
		Candidate  *win;
		char	   *report = NULL;
		char	   *params_json;
		bytea	   *blob = NULL;
		double		seconds;

		memset(&opts, 0, sizeof(opts));
		strcpy(opts.target, "auto");
		opts.folds = 3;
		MlParamsInit(&base, algs[a] == ALG_NAIVE ? ML_GBDT : (MlAlgorithm) algs[a]);
		ApplyParams(&base, &opts, hp);
		if (opts.has_levels)
		{
			memcpy(levels, opts.levels, sizeof(levels));
			have_levels = true;
		}
		folds = opts.folds;
		cands = NIL;
		if (algs[a] == ALG_NAIVE || strcmp(opts.target, "raw") != 0)
			cands = list_concat(cands, Candidates(algs[a], &base, algs[a] != ALG_NAIVE, search, &folds));
		if (algs[a] != ALG_NAIVE && strcmp(opts.target, "ratio") != 0)
			cands = list_concat(cands, Candidates(algs[a], &base, false, search, &folds));
		win = BestOf(d, cands, folds, &report);

		/* refit the winner on every training row */
		if (algs[a] != ALG_NAIVE)
		{
			MlParams	fp = win->params;
			double	   *y = palloc(sizeof(double) * d->n);
			char		err[256];
			MlModel    *m;
			uint8	   *bytes;
			size_t		len;
			int			i;

			if (algs[a] == ML_GBDT)
				fp.n_estimators = Max(win->bt.best_trees, 50);
			for (i = 0; i < d->n; i++)
				y[i] = win->ratio ? d->target[i] / d->level[i] : d->target[i];
			m = MlModelFit((MlAlgorithm) algs[a], d->X, y, 0, &fp, err, sizeof(err));
			if (!m)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("training failed: %s", err)));
			bytes = MlModelSerialize(m, &len);
			blob = palloc(VARHDRSZ + len);
			SET_VARSIZE(blob, VARHDRSZ + len);
			memcpy(VARDATA(blob), bytes, len);
			win->params = fp;
			MlModelFree(m);
		}
		params_json = ParamsJson(algs[a], &win->params, &opts, win->ratio, H);
		INSTR_TIME_SET_CURRENT(now);
		INSTR_TIME_SUBTRACT(now, start);
		seconds = INSTR_TIME_GET_DOUBLE(now);
		spi = SsSpiConnect();
		ids[a] = StoreModel(project, station_id, win, MetricsJson(win, report), params_json, horizon,
							psprintf("daily %lld days v1", (long long) H), d, seconds,
							have_shares ? shares : NULL, have_levels ? levels : NULL, blob);
		SsSpiFinish(spi);
		chosen[a] = win;
		if (best < 0 || win->bt.mean.rmse < chosen[best]->bt.mean.rmse)
			best = a;
	}

	/*
	 * Deploy the best if it beats the live model on the same window: the
	 * best's last backtest fold, scored for the live model too.
	 */
	spi = SsSpiConnect();
	deployed_id = DeployedModel(project);
	SsSpiFinish(spi);
	{
		const Candidate *w = chosen[best];
		int			lf = w->bt.folds - 1;
		double		new_rmse = w->bt.fold[lf].rmse;
		bool		deploy;
		char	   *reason;

		if (deployed_id == 0)
		{
			deploy = true;
			reason = psprintf("first model of the project (backtest RMSE %.1f)", w->bt.mean.rmse);
		}
		else if (!LiveModelRmse(deployed_id, w->bt.fold_from[lf], w->bt.fold_to[lf], &deployed_rmse, &reason))
			deploy = true;
		else
		{
			deploy = isnan(deployed_rmse) || new_rmse < deployed_rmse;
			reason = psprintf("RMSE %.1f vs live model " INT64_FORMAT "'s %.1f on %s..%s",
							  new_rmse, deployed_id, deployed_rmse,
							  IsoDate(w->bt.fold_from[lf]), IsoDate(w->bt.fold_to[lf]));
		}
		spi = SsSpiConnect();
		if (deploy)
		{
			Oid			types[3] = {TEXTOID, INT8OID, TEXTOID};
			Datum		v[3];

			v[0] = CStringGetTextDatum(project);
			v[1] = Int64GetDatum(ids[best]);
			v[2] = CStringGetTextDatum(reason);
			if (SPI_execute_with_args("INSERT INTO seongsu.deployments (project, model_id, action, reason) "
									  "VALUES ($1, $2, 'deploy', $3)", 3, types, v, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not deploy");
		}
		for (a = 0; a < nalgs; a++)
		{
			Datum		out[4];
			bool		outnull[4] = {false, false, false, false};
			Oid			types[1] = {INT8OID};
			Datum		v[1];
			bool		isnull;

			v[0] = Int64GetDatum(ids[a]);
			if (SPI_execute_with_args("SELECT metrics FROM seongsu.models WHERE id OPERATOR(pg_catalog.=) $1", 1, types, v, NULL, false, 1) != SPI_OK_SELECT)
				elog(ERROR, "could not read the model back");
			out[0] = Int64GetDatum(ids[a]);
			out[1] = CStringGetTextDatum(algs[a] == ALG_NAIVE ? "seasonal_naive" : MlAlgorithmName((MlAlgorithm) algs[a]));
			out[2] = datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, -1);
			out[3] = BoolGetDatum(deploy && a == best);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnull);
		}
	}
	SsSpiFinish(spi);
	return (Datum) 0;
}
