/*
 * inputs.c — what predicting for one station needs: its id, its deployed
 * models, its observed range (read in one statement) and a feature
 * context, kept per backend (for INPUTS_STATIONS stations, keyed by station
 * id, with the ids of recently named stations) until a write to a watched
 * table is seen (invalidation.c); how far predictions may reach.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"

#include "../kst.h"
#include "../safe_spi.h"
#include "day_memo.h"
#include "serve.h"

#define STATION_NAMES 16		/* (station, line) -> id lookups kept */

/* A (station, line) name pair resolved to its id. */
typedef struct StationName
{
	char	   *station;		/* NULL: unused */
	char	   *line;
	int32		station_id;
	Oid			install;
	uint64		stamp;			/* WatchEpoch(stations) + 1 before it was read */
} StationName;

static StationName names[STATION_NAMES];
static int	names_next = 0;
static StationInputs inputs[INPUTS_STATIONS];
static uint64 inputs_clock = 0;
static SPIPlanPtr station_plan = NULL;	/* of Inputs */

/* The id of (station, line) when the names kept while seongsu.stations is unchanged know it, else 0. */
static int32
StationIdKnown(const char *station, const char *line, uint64 stamp)
{
	int			i;

	for (i = 0; i < STATION_NAMES; i++)
		if (names[i].station && names[i].stamp == stamp && names[i].install == WatchInstall() &&
			strcmp(names[i].station, station) == 0 && strcmp(names[i].line, line) == 0)
			return names[i].station_id;
	return 0;
}

/* Keep the id of (station, line), read after stamp was taken. */
static void
StationIdKeep(const char *station, const char *line, int32 id, uint64 stamp)
{
	StationName *n = &names[names_next];

	names_next = (names_next + 1) % STATION_NAMES;
	if (n->station)
	{
		pfree(n->station);
		pfree(n->line);
	}
	n->station = MemoryContextStrdup(TopMemoryContext, station);
	n->line = MemoryContextStrdup(TopMemoryContext, line);
	n->station_id = id;
	n->install = WatchInstall();
	n->stamp = stamp;
}

/* True when every model of the kept inputs is still in the model cache. */
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

/* The kept inputs of a station when they still hold and serve [first, last], else NULL. */
static StationInputs *
InputsKept(int32 station_id, int32 first, int32 last, uint64 stamp, LoadedModel **models)
{
	int			i;

	for (i = 0; i < INPUTS_STATIONS; i++)
	{
		StationInputs *in = &inputs[i];

		if (in->stamp != 0 && in->stamp == stamp && in->station_id == station_id &&
			in->install == WatchInstall() && first >= in->first && last <= in->last &&
			InputsModels(in, models))
		{
			in->used = ++inputs_clock;
			return in;
		}
	}
	return NULL;
}

/* The slot for a station's inputs: its own, else the least recently used, emptied. */
static StationInputs *
InputsSlot(int32 station_id)
{
	StationInputs *in = &inputs[0];
	int			i;

	for (i = 0; i < INPUTS_STATIONS; i++)
	{
		if (inputs[i].station_id == station_id)
		{
			in = &inputs[i];
			break;
		}
		if (inputs[i].used < in->used)
			in = &inputs[i];
	}
	if (!in->cxt)
		in->cxt = AllocSetContextCreate(TopMemoryContext, "seongsu prediction inputs", ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(in->cxt);
	in->stamp = 0;
	in->station_id = station_id;
	in->used = ++inputs_clock;
	return in;
}

/*
 * What a station's lookups are read from, in one statement: the station's
 * id, and the rows of its deployed daily models (MODEL_COLUMNS; NULL when
 * none), shortest horizon first.
 */
#define STATION_SQL "SELECT s.id, " MODEL_COLUMNS " FROM seongsu.stations s " \
	"LEFT JOIN (seongsu.deployed_models d JOIN seongsu.models m ON m.id OPERATOR(pg_catalog.=) d.model_id) " \
	"ON d.station_id OPERATOR(pg_catalog.=) s.id AND d.grain OPERATOR(pg_catalog.=) 'daily' " \
	"WHERE s.line OPERATOR(pg_catalog.=) $1 AND s.name OPERATOR(pg_catalog.=) $2 " \
	"ORDER BY d.horizon, d.model_id LIMIT 8"

/*
 * The lookups of (station, line) into snap, their models into models: from
 * the shared station memo (when usable: see ServeSettle) when their images
 * are at hand, else read (caller has SPI).  ERROR when the station is
 * unknown.
 */
static void
StationLookups(const char *station, const char *line, bool usable, StationSnap *snap, LoadedModel **models)
{
	/* taken before anything is read: a write committed meanwhile moves it past */
	uint64		epoch = usable ? StationMemoEpoch() : 0;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	bool		isnull;
	int64		ids[MAX_DEPLOYED];
	int			i;

	if (StationMemoGet(station, line, epoch, snap))
	{
		for (i = 0; i < snap->nmodels; i++)
			if ((models[i] = ModelFromMeta(&snap->models[i])) == NULL)
				break;
		if (i == snap->nmodels)
			return;
	}
	v[0] = CStringGetTextDatum(line);
	v[1] = CStringGetTextDatum(station);
	if (SPI_execute_plan(KeptPlan(&station_plan, STATION_SQL, 2, types), v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the station's models");
	if (SPI_processed == 0)
		(void) FeatureStationId(station, line);	/* raises: unknown, or not a name that can be stored */
	snap->station_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	snap->nmodels = isnull ? 0 : (int) SPI_processed;
	for (i = 0; i < snap->nmodels; i++)
		ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
	/* loading one must not evict another of them from the model cache */
	ModelsPin(ids, snap->nmodels);
	for (i = 0; i < snap->nmodels; i++)
	{
		models[i] = ModelFromRow(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		memcpy(&snap->models[i], models[i], MODEL_META_SIZE);
	}
	ModelsPin(NULL, 0);
	StationMemoPut(station, line, epoch, snap);
}

/*
 * Load (or reuse) the inputs for predicting [first, last] of (station,
 * line).  Kept and reused only when ServeSettle allowed it; the stamp is
 * taken before anything is read, so a write committed meanwhile makes the
 * next call read again.
 */
StationInputs *
Inputs(const char *station, const char *line, int32 first, int32 last, LoadedModel **models)
{
	bool		usable = ServeSettle();
	uint64		stamp = WatchEpoch(WATCH_ALL) + 1;
	int32		station_id = usable ? StationIdKnown(station, line, stamp) : 0;
	StationInputs *in;
	StationSnap snap;
	int			spi, i;

	if (station_id != 0 && (in = InputsKept(station_id, first, last, stamp, models)) != NULL)
	{
		CheckReach(first, last, in->observed_first, in->observed);
		return in;
	}
	spi = SsSpiConnect();
	StationLookups(station, line, usable, &snap, models);
	if (usable)
		StationIdKeep(station, line, snap.station_id, stamp);
	in = InputsSlot(snap.station_id);
	if (snap.nmodels <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no model is deployed for station \"%s\" on line \"%s\"", station, line),
				 errhint("Train one: SELECT * FROM seongsu.train('%s', '%s');", station, line)));
	if (!ObservedRange(snap.station_id, &in->observed_first, &in->observed))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("station \"%s\" on line \"%s\" has no daily ridership to predict from", station, line),
				 errhint("Import or ingest its ridership (seongsu.import_file, seongsu.enqueue).")));
	CheckReach(first, last, in->observed_first, in->observed);
	in->nmodels = snap.nmodels;
	for (i = 0; i < in->nmodels; i++)
		in->model_ids[i] = models[i]->id;
	SsSpiFinish(spi);
	/* serve two years back and two months ahead, and at least what is asked */
	in->first = Min(Min(first, in->observed + 1), in->observed - 730);
	in->last = Max(last, in->observed + 62);
	in->ctx = FeatureCtxLoad(snap.station_id, in->first, in->last, 1, models[in->nmodels - 1]->H, in->cxt);
	in->memo = MemoryContextAlloc(in->cxt, sizeof(double) * (in->last - in->first + 1));
	in->memo_model = MemoryContextAllocZero(in->cxt, sizeof(LoadedModel *) * (in->last - in->first + 1));
	for (i = 0; i <= in->last - in->first; i++)
		in->memo[i] = NAN;
	in->install = WatchInstall();
	in->stamp = usable ? stamp : 0;
	return in;
}
