/*
 * reproduce.c — seongsu.reproduce_model: a model refit from its stored
 * hyper-parameters on the data snapshot it recorded, and compared with the
 * original byte for byte.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "../safe_spi.h"
#include "../features/asof.h"
#include "../features/dataset.h"
#include "train.h"

PG_FUNCTION_INFO_V1(reproduce_model);

/* Why two blobs differ, or NULL when they are the same bytes (either may be NULL: no stored model). */
static char *
BlobDifference(bytea *a, bytea *b)
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

/*
 * reproduce_model(model_id): refit the model with its stored
 * hyper-parameters on the data of the snapshot it recorded, read back
 * through the revision history; store the result as a new model of the
 * same project (not deployed) and compare the two byte for byte: the blob,
 * the hour shares, the crowd levels and the training rows.
 */
Datum
reproduce_model(PG_FUNCTION_ARGS)
{
	int64		model_id = PG_GETARG_INT64(0);
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		v[2];
	TrainRequest r;
	TrainData	t;
	TrainOptions opts;
	Candidate	c;
	MlAlgorithm m;
	HeapTuple	tup;
	TupleDesc	desc;
	instr_time	start, now;
	bool		isnull, same_shares, same_levels, same_rows;
	char	   *metrics, *feature_set, *reason;
	bytea	   *blob, *original = NULL;
	double		importances[DATASET_NCOLS], coefficients[DATASET_NCOLS];
	int64		new_id;
	Datum		out[4];
	bool		outnull[4] = {false, false, false, false};
	MemoryContext outer = CurrentMemoryContext;
	int			spi;

	INSTR_TIME_SET_CURRENT(start);
	InitMaterializedSRF(fcinfo, 0);
	memset(&r, 0, sizeof(r));
	v[0] = Int64GetDatum(model_id);
	spi = SsSpiConnect();
	if (SPI_execute_with_args("SELECT m.project, s.name, s.line, m.algorithm, m.horizon, m.hyperparams, m.target_mode, "
							  "(m.metrics OPERATOR(pg_catalog.->>) 'snapshot_id')::pg_catalog.int8, m.blob, "
							  "(m.metrics OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('reproduced_from', m.id))::pg_catalog.text, "
							  "m.feature_set, m.grain FROM seongsu.models m JOIN seongsu.stations s "
							  "ON s.id OPERATOR(pg_catalog.=) m.station_id WHERE m.id OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.models");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("model " INT64_FORMAT " does not exist", model_id),
				 errhint("See seongsu.models for the trained models.")));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	MemoryContextSwitchTo(outer);	/* what is read outlives the SPI connection */
	r.project = SPI_getvalue(tup, desc, 1);
	r.station = SPI_getvalue(tup, desc, 2);
	r.line = SPI_getvalue(tup, desc, 3);
	c.algorithm = strcmp(SPI_getvalue(tup, desc, 4), "seasonal_naive") == 0 ? ALG_NAIVE
		: MlAlgorithmFromName(SPI_getvalue(tup, desc, 4), &m) ? (int) m : -1;
	r.horizon = DatumGetIntervalP(datumCopy(SPI_getbinval(tup, desc, 5, &isnull), false, sizeof(Interval)));
	r.hp = DatumGetJsonbPCopy(SPI_getbinval(tup, desc, 6, &isnull));
	c.ratio = strcmp(SPI_getvalue(tup, desc, 7), "ratio") == 0;
	r.snapshot_arg = DatumGetInt64(SPI_getbinval(tup, desc, 8, &isnull));
	r.has_snapshot = !isnull;
	(void) SPI_getbinval(tup, desc, 9, &isnull);
	if (!isnull)
		original = DatumGetByteaPCopy(SPI_getbinval(tup, desc, 9, &isnull));
	metrics = SPI_getvalue(tup, desc, 10);
	feature_set = SPI_getvalue(tup, desc, 11);
	if (c.algorithm < 0 || strcmp(SPI_getvalue(tup, desc, 12), "daily") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model " INT64_FORMAT " is corrupt: algorithm \"%s\", grain \"%s\"", model_id,
						SPI_getvalue(tup, desc, 4), SPI_getvalue(tup, desc, 12))));
	if (!r.has_snapshot)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model " INT64_FORMAT " records no data snapshot", model_id),
				 errdetail("Its metrics have no snapshot_id: it was trained before training recorded the data it read."),
				 errhint("Retrain it; models trained now record their snapshot.")));
	SsSpiFinish(spi);
	r.H = FeatureHorizonSteps(r.horizon, 1);

	TrainDataLoad(&r, &t);
	memset(&opts, 0, sizeof(opts));
	strcpy(opts.target, DEFAULT_TARGET);
	opts.folds = DEFAULT_FOLDS;
	memset(&c.bt, 0, sizeof(c.bt));
	c.nmembers = 0;
	MlParamsInit(&c.params, c.algorithm == ALG_NAIVE || c.algorithm == ML_ENSEMBLE ? ML_GBDT : (MlAlgorithm) c.algorithm);
	/* an ensemble's own keys are its options; its members' parameters are EnsembleRefit's */
	if (c.algorithm == ML_ENSEMBLE)
		ApplyParams(&c.params, &opts, DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(r.hp),
																		CStringGetTextDatum("members"))));
	else if (c.algorithm != ALG_NAIVE)
		ApplyParams(&c.params, &opts, r.hp);
	if (opts.has_levels)
	{
		memcpy(t.levels, opts.levels, sizeof(t.levels));
		t.have_levels = true;
	}
	/* the stored n_estimators of a gbdt is its refit's */
	c.bt.best_trees = c.params.n_estimators;
	blob = ModelBlob(c.algorithm == ML_ENSEMBLE ? EnsembleRefit(t.d, r.hp, &c) : TrainRefit(t.d, &c),
					 importances, coefficients);
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	spi = SsSpiConnect();
	new_id = StoreModel(r.project, t.station_id, &c, metrics,
						c.algorithm == ML_ENSEMBLE ? EnsembleParamsJson(&c, &opts, r.H)
						: ParamsJson(c.algorithm, &c.params, &opts, c.ratio ? "ratio" : "raw", r.H), r.horizon, feature_set, t.d,
						INSTR_TIME_GET_DOUBLE(now), t.have_shares ? t.shares : NULL, t.have_levels ? t.levels : NULL, blob);
	v[1] = Int64GetDatum(new_id);
	if (SPI_execute_with_args("SELECT a.hour_shares IS NOT DISTINCT FROM b.hour_shares, a.levels IS NOT DISTINCT FROM b.levels, "
							  "a.train_rows OPERATOR(pg_catalog.=) b.train_rows AND a.train_from OPERATOR(pg_catalog.=) b.train_from "
							  "AND a.train_to OPERATOR(pg_catalog.=) b.train_to "
							  "FROM seongsu.models a, seongsu.models b WHERE a.id OPERATOR(pg_catalog.=) $1 "
							  "AND b.id OPERATOR(pg_catalog.=) $2", 2, types, v, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not read the models back");
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	same_shares = DatumGetBool(SPI_getbinval(tup, desc, 1, &isnull));
	same_levels = DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull));
	same_rows = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
	SsSpiFinish(spi);
	reason = BlobDifference(original, blob);
	if (!reason && !same_rows)
		reason = pstrdup("the training rows differ");
	if (!reason && !same_shares)
		reason = pstrdup("the hour shares differ");
	if (!reason && !same_levels)
		reason = pstrdup("the crowd levels differ");
	out[0] = Int64GetDatum(model_id);
	out[1] = Int64GetDatum(new_id);
	out[2] = BoolGetDatum(reason == NULL);
	out[3] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	outnull[3] = reason == NULL;
	tuplestore_putvalues(((ReturnSetInfo *) fcinfo->resultinfo)->setResult,
						 ((ReturnSetInfo *) fcinfo->resultinfo)->setDesc, out, outnull);
	return (Datum) 0;
}
