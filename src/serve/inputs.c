/*
 * inputs.c — what predicting for one station needs: its deployed models,
 * its observed range and a feature context, kept per backend while the
 * data generation does not change; how far predictions may reach.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "../safe_spi.h"
#include "serve.h"

static StationInputs inputs;

/* Forget the cached inputs (the install changed). */
void
InputsForget(void)
{
	inputs.generation = 0;
}

/*
 * Station id and deployed daily models (their ids by horizon, at most
 * STATION_MEMO_MODELS) of (station, line): from the shared memo at the
 * current deployments generation, else looked up (and memoized).  ERROR
 * when the station is unknown.  Caller has SPI.
 */
static void
StationLookup(const char *station, const char *line, StationLookups *out)
{
	uint64		gen = CallGeneration(GEN_DEPLOY);
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	uint64		i;

	if (StationMemoGet(cache_incarnation, station, line, gen, out))
		return;
	out->station_id = FeatureStationId(station, line);
	v[0] = Int32GetDatum(out->station_id);
	if (SPI_execute_with_args("SELECT model_id FROM seongsu.deployed_models WHERE station_id OPERATOR(pg_catalog.=) $1 "
							  "AND grain OPERATOR(pg_catalog.=) 'daily' ORDER BY horizon, model_id", 1, types, v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.deployed_models");
	out->nmodels = (int) Min(SPI_processed, (uint64) STATION_MEMO_MODELS);
	for (i = 0; i < (uint64) out->nmodels; i++)
	{
		bool		isnull;

		out->model_ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	StationMemoPut(cache_incarnation, station, line, gen, out);
}

/* True when every model of the cached inputs is still in the model cache. */
static bool
InputsModels(const StationInputs *in, LoadedModel **out)
{
	int			i;

	for (i = 0; i < in->nmodels; i++)
		if ((out[i] = ModelCached(in->model_ids[i])) == NULL)
			return false;
	return true;
}



/*
 * ERROR (22008) unless the days [first, last] are within reach of a
 * station's observations [obs_first, obs_last] (PREDICT_REACH_DAYS).
 */
void
CheckReach(int32 first, int32 last, int32 obs_first, int32 obs_last)
{
	if ((int64) last > (int64) obs_last + PREDICT_REACH_DAYS)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cannot predict %s: it is more than %d days after the last observation",
						IsoDate(last), PREDICT_REACH_DAYS),
				 errdetail("Predictions reach at most %d days beyond the station's observations, which end on %s.",
						   PREDICT_REACH_DAYS, IsoDate(obs_last)),
				 errhint("Ask about a day up to %s, or import or ingest newer ridership first.",
						 IsoDate(obs_last + PREDICT_REACH_DAYS))));
	if ((int64) first < (int64) obs_first - PREDICT_REACH_DAYS)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cannot predict %s: it is more than %d days before the first observation",
						IsoDate(first), PREDICT_REACH_DAYS),
				 errdetail("Predictions reach at most %d days beyond the station's observations, which start on %s.",
						   PREDICT_REACH_DAYS, IsoDate(obs_first)),
				 errhint("Ask about a day from %s on.", IsoDate(obs_first - PREDICT_REACH_DAYS))));
}

/*
 * Load (or reuse) the inputs for predicting [first, last] of (station, line).
 * The cache is used and filled only when what it holds is what this
 * statement would read: not in a transaction that wrote watched data, not
 * under a transaction-long snapshot; loading reads with fresh snapshots
 * taken after the generation is read, so a concurrent commit at worst makes
 * the next call reload.
 */
StationInputs *
Inputs(const char *station, const char *line, int32 first, int32 last, LoadedModel **models)
{
	int			spi;
	uint64		gen = CallGeneration(GEN_DATA);
	StationInputs *in = &inputs;
	StationLookups lookups;
	int			i;

	if (gen != 0 && in->generation == gen && strcmp(in->station, station) == 0 &&
		strcmp(in->line, line) == 0 && first >= in->first && last <= in->last &&
		InputsModels(in, models))
	{
		CheckReach(first, last, in->observed_first, in->observed);
		return in;
	}

	if (!in->cxt)
		in->cxt = AllocSetContextCreate(TopMemoryContext, "seongsu prediction inputs", ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(in->cxt);
	in->generation = 0;
	in->station = MemoryContextStrdup(in->cxt, station);
	in->line = MemoryContextStrdup(in->cxt, line);
	spi = SsSpiConnect();
	StationLookup(station, line, &lookups);
	in->station_id = lookups.station_id;
	in->nmodels = lookups.nmodels;
	if (in->nmodels <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no model is deployed for station \"%s\" on line \"%s\"", station, line),
				 errhint("Train one: SELECT * FROM seongsu.train('%s', '%s');", station, line)));
	if (!ObservedRange(in->station_id, &in->observed_first, &in->observed))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("station \"%s\" on line \"%s\" has no daily ridership to predict from", station, line),
				 errhint("Import or ingest its ridership (seongsu.import_file, seongsu.enqueue).")));
	CheckReach(first, last, in->observed_first, in->observed);
	Deployed(lookups.model_ids, in->nmodels, models);
	memcpy(in->model_ids, lookups.model_ids, sizeof(int64) * in->nmodels);
	SsSpiFinish(spi);
	/* serve two years back and two months ahead, and at least what is asked */
	in->first = Min(Min(first, in->observed + 1), in->observed - 730);
	in->last = Max(last, in->observed + 62);
	in->ctx = FeatureCtxLoad(in->station_id, in->first, in->last, 1, models[in->nmodels - 1]->H, in->cxt);
	if (gen != 0)
		RowMemoCover(in->first, in->last);
	in->memo = MemoryContextAlloc(in->cxt, sizeof(double) * (in->last - in->first + 1));
	in->memo_model = MemoryContextAllocZero(in->cxt, sizeof(LoadedModel *) * (in->last - in->first + 1));
	for (i = 0; i <= in->last - in->first; i++)
		in->memo[i] = NAN;
	in->generation = gen;
	return in;
}
