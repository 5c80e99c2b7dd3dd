/*
 * train_job.c — training as a job (seongsu.enqueue('train', train_from,
 * train_to, options)): the options are seongsu.train's arguments by name,
 * checked at enqueue (their JSON forms here, their values by
 * seongsu.train_check), and the job runs the SQL function seongsu.train
 * through SPI as the role that enqueued it.  Nothing of src/train is
 * included: the SQL interface is the contract.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include "../safe_spi.h"
#include "train_job.h"

/* The options of a training job: train's arguments, their JSON form, how each is passed. */
static const struct
{
	const char *name;
	enum jbvType form;			/* jbvString, jbvBool, or jbvBinary (an object) */
	Oid			type;
	const char *cast;			/* after the parameter in the call */
	const char *form_text;		/* the form, for errors */
}			train_options[] = {
	{"station", jbvString, TEXTOID, "", "a station name"},
	{"line", jbvString, TEXTOID, "", "a line name"},
	{"algorithm", jbvString, TEXTOID, "", "an algorithm name (seasonal_naive, ridge, random_forest, gbdt, ensemble or auto)"},
	{"grain", jbvString, TEXTOID, "", "a grain (daily)"},
	{"horizon", jbvString, TEXTOID, "::pg_catalog.interval", "an interval such as \"7 days\""},
	{"hyperparams", jbvBinary, JSONBOID, "", "an object of hyper-parameters"},
	{"search", jbvBinary, JSONBOID, "", "a search object"},
	{"project", jbvString, TEXTOID, "", "a project name"},
	{"force", jbvBool, BOOLOID, "", "true or false"},
};

#define NTRAIN_OPTIONS lengthof(train_options)

/* A call of seongsu.<function> with the job's options and dates by name, and its parameters. */
typedef struct TrainCallSql
{
	StringInfoData sql;
	int			nargs;
	Oid			types[NTRAIN_OPTIONS + 2];
	Datum		values[NTRAIN_OPTIONS + 2];
} TrainCallSql;

/* The index of an option in train_options, or -1. */
static int
TrainOptionIndex(const char *name, int len)
{
	int			i;

	for (i = 0; i < (int) NTRAIN_OPTIONS; i++)
		if ((int) strlen(train_options[i].name) == len && memcmp(train_options[i].name, name, len) == 0)
			return i;
	return -1;
}

/* Whether a JSON value has an option's form. */
static bool
TrainOptionFits(int i, const JsonbValue *v)
{
	if (train_options[i].form == jbvBinary)
		return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
	return v->type == train_options[i].form;
}

/*
 * "SELECT <columns> FROM seongsu.<function>(name => $n, ...)" with every
 * option given (ERROR for an unknown one, or one of the wrong form) and
 * train_from, train_to; the rest take train's defaults.
 */
static void
TrainCallBuild(TrainCallSql *c, const char *columns, const char *function, Jsonb *options,
			   DateADT from, DateADT to)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			i = -1;

	initStringInfo(&c->sql);
	appendStringInfo(&c->sql, "SELECT %s FROM seongsu.%s(", columns, function);
	c->nargs = 0;
	if (options && JB_ROOT_IS_OBJECT(options))
	{
		it = JsonbIteratorInit(&options->root);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok == WJB_KEY)
			{
				i = TrainOptionIndex(v.val.string.val, v.val.string.len);
				if (i < 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("a training job has no option \"%.*s\"", v.val.string.len, v.val.string.val),
							 errhint("A training job takes station, line, algorithm, grain, horizon, hyperparams, search, project and force (seongsu.train's arguments); from_date and to_date are train_from and train_to.")));
				continue;
			}
			if (tok != WJB_VALUE)
				continue;
			if (!TrainOptionFits(i, &v))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"%s\" of a training job must be %s", train_options[i].name,
								train_options[i].form_text),
						 errhint("Options are seongsu.train's arguments as JSON, e.g. {\"algorithm\": \"gbdt\", \"horizon\": \"1 day\", \"hyperparams\": {\"n_estimators\": 200}}.")));
			c->types[c->nargs] = train_options[i].type;
			if (train_options[i].type == TEXTOID)
				c->values[c->nargs] = PointerGetDatum(cstring_to_text_with_len(v.val.string.val, v.val.string.len));
			else if (train_options[i].type == BOOLOID)
				c->values[c->nargs] = BoolGetDatum(v.val.boolean);
			else
				c->values[c->nargs] = JsonbPGetDatum(JsonbValueToJsonb(&v));
			c->nargs++;
			appendStringInfo(&c->sql, "%s => $%d%s, ", train_options[i].name, c->nargs, train_options[i].cast);
		}
	}
	c->types[c->nargs] = DATEOID;
	c->values[c->nargs++] = DateADTGetDatum(from);
	c->types[c->nargs] = DATEOID;
	c->values[c->nargs++] = DateADTGetDatum(to);
	appendStringInfo(&c->sql, "train_from => $%d, train_to => $%d)", c->nargs - 1, c->nargs);
}

/*
 * Check a training job's options and dates as train would before reading
 * any data: ERROR, with train's own message, when it would refuse them.
 */
void
TrainJobCheck(Jsonb *options, DateADT from, DateADT to)
{
	TrainCallSql c;
	int			spi;

	TrainCallBuild(&c, "1", "train_check", options, from, to);
	spi = SsSpiConnect();
	if (SPI_execute_with_args(c.sql.data, c.nargs, c.types, c.values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not check the training job's options");
	SsSpiFinish(spi);
}

/*
 * Run a training job: seongsu.train with its options over [from, to], as
 * the role that enqueued it (in a restricted security context).  In the
 * worker (tagged) the run is tagged with the job (seongsu.training_job, so
 * that it shows as running at once; until the transaction ends).  Returns
 * the run id (0 when untracked) and the number of models stored into
 * *models.
 */
int64
TrainJobRun(int64 job_id, Jsonb *options, DateADT from, DateADT to, const char *enqueued_by,
			bool tagged, int64 *models)
{
	TrainCallSql c;
	Oid			role = get_role_oid(enqueued_by, true);
	Oid			user;
	int			sec, spi, rc;
	int64		run_id = 0;
	bool		isnull;

	if (!OidIsValid(role))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" that enqueued the training job no longer exists", enqueued_by)));
	TrainCallBuild(&c, "run_id, pg_catalog.count(*) OVER ()", "train", options, from, to);
	if (tagged)
		(void) set_config_option("seongsu.training_job", psprintf(INT64_FORMAT, job_id), PGC_SUSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	spi = SsSpiConnect();
	GetUserIdAndSecContext(&user, &sec);
	SetUserIdAndSecContext(role, sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	rc = SPI_execute_with_args(c.sql.data, c.nargs, c.types, c.values, NULL, false, 0);
	SetUserIdAndSecContext(user, sec);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not run seongsu.train");
	*models = 0;
	if (SPI_processed > 0)
	{
		Datum		id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		run_id = isnull ? 0 : DatumGetInt64(id);
		*models = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	SsSpiFinish(spi);
	return run_id;
}
