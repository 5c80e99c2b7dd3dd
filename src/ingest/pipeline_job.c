/*
 * pipeline_job.c — the pipeline (docs/pipeline.md): seongsu.run_pipeline
 * and seongsu.resume_pipeline, and the runner of a run's steps.  A run is
 * a job of source pipeline, so the worker gives it the queue's wakeups,
 * job-level retries with back-off, cancel (seongsu.cancel_job) and crash
 * recovery; with {"sync": true} it runs in the caller's session instead.
 *
 * The steps themselves are SQL (seongsu.pipeline_step, src/sql/89_pipeline_steps.sql),
 * run by SPI as the role that asked for the run; nothing of src/train,
 * src/serve, src/features or src/ops is included.  The bookkeeping
 * (seongsu.pipeline_begin_step, pipeline_end_step, ...) runs as the
 * extension's owner.  In the worker every step has two transactions: one
 * marks it running, the next does its work and records how it ended, so a
 * step's rows and its 'succeeded' commit together and a run interrupted
 * anywhere (kill -9 included) resumes at the step that did not finish.
 * The ingest step runs its sources' jobs inline (seongsu.run_job): the
 * worker runs one job at a time and cannot wait on jobs it would run.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "../safe_spi.h"
#include "../settings.h"
#include "job_run.h"
#include "secrets.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(run_pipeline);
PG_FUNCTION_INFO_V1(resume_pipeline);

#define PIPELINE_STEPS 7

/* A run being executed: who runs it, as whom, under which job (NULL: sync). */
typedef struct PipelineRunner
{
	int64		run_id;
	Oid			owner;			/* the extension's owner: bookkeeping */
	Oid			role;			/* the role that asked for the run: the steps */
	JobRun	   *job;			/* the pipeline job, or NULL for a sync run */
	bool		worker;			/* a transaction per phase (the worker) */
	volatile sig_atomic_t *stop;
	MemoryContext cxt;
} PipelineRunner;

/* How a step ended. */
typedef struct StepResult
{
	char	   *outcome;		/* continue, stop, failed or retry (a step's detail says continue, stop or error) */
	char	   *detail;			/* jsonb text */
	char	   *error;
	bool		interrupted;	/* the worker is shutting down: leave the run to resume */
} StepResult;

/* The text a bookkeeping query returns, or NULL (no row, or NULL; as the owner; caller has SPI). */
static char *
PipelineCallText(PipelineRunner *r, const char *sql, int nargs, Oid *types, Datum *v, const char *nulls)
{
	bool		isnull;
	Datum		d;

	JobExecAs(r->owner, sql, nargs, types, v, nulls, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : MemoryContextStrdup(r->cxt, TextDatumGetCString(d));
}

/* Whether a SQLSTATE is worth a retry of the run after the job back-off. */
static bool
PipelineTransient(int code)
{
	return code == MAKE_SQLSTATE('S', 'S', 'P', '0', '3') || code == ERRCODE_T_R_SERIALIZATION_FAILURE ||
		code == ERRCODE_T_R_DEADLOCK_DETECTED || code == ERRCODE_LOCK_NOT_AVAILABLE;
}

/* Whether a failure with this SQLSTATE makes the run retry (its job runs again after the back-off). */
static bool
PipelineMayRetry(PipelineRunner *r, int sqlstate)
{
	return PipelineTransient(sqlstate) && r->job && !r->job->final && r->job->attempt < seongsu_job_max_attempts;
}

/*
 * Run one step in a subtransaction as the run's role (seongsu.pipeline_step);
 * an error, or a detail whose outcome is 'error' (a failure the step
 * recorded itself), becomes a failed (or, transient with job runs left,
 * retry) outcome whose detail keeps the SQLSTATE, message, detail and hint.
 */
static StepResult
PipelineStepRun(PipelineRunner *r, const char *step)
{
	ResourceOwner owner = CurrentResourceOwner;
	StepResult	res = {0};
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		v[2];

	v[0] = Int64GetDatum(r->run_id);
	v[1] = CStringGetTextDatum(step);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(r->cxt);
	PG_TRY();
	{
		Oid			user;
		int			sec;
		int			spi = SsSpiConnect();
		HeapTuple	tup;

		GetUserIdAndSecContext(&user, &sec);
		SetUserIdAndSecContext(r->role, sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
		JobExec("SELECT d OPERATOR(pg_catalog.->>) 'outcome', d::pg_catalog.text, d OPERATOR(pg_catalog.->>) 'sqlstate', "
				"d OPERATOR(pg_catalog.->>) 'message' FROM seongsu.pipeline_step($1, $2) AS d", 2, types, v, NULL, SPI_OK_SELECT);
		SetUserIdAndSecContext(user, sec);
		tup = SPI_tuptable->vals[0];
		res.outcome = MemoryContextStrdup(r->cxt, SPI_getvalue(tup, SPI_tuptable->tupdesc, 1));
		res.detail = MemoryContextStrdup(r->cxt, SPI_getvalue(tup, SPI_tuptable->tupdesc, 2));
		if (strcmp(res.outcome, "error") == 0)
		{
			/* a failure the step records itself (keeping what it wrote: the ingest jobs and their log) */
			char	   *code = SPI_getvalue(tup, SPI_tuptable->tupdesc, 3);
			char	   *msg = SPI_getvalue(tup, SPI_tuptable->tupdesc, 4);
			int			sqlstate = code && strlen(code) == 5
				? MAKE_SQLSTATE(code[0], code[1], code[2], code[3], code[4]) : ERRCODE_INTERNAL_ERROR;

			res.error = MemoryContextStrdup(r->cxt, SecretsRedact(psprintf("%s (SQLSTATE %s)", msg ? msg : "failed",
																		   unpack_sql_state(sqlstate))));
			res.outcome = PipelineMayRetry(r, sqlstate) ? "retry" : "failed";
		}
		SsSpiFinish(spi);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(r->cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		StringInfoData d;

		MemoryContextSwitchTo(r->cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(r->cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && r->stop && *r->stop)
		{
			res.interrupted = true;
			return res;
		}
		res.error = SecretsRedact(psprintf("%s (SQLSTATE %s)", edata->message, unpack_sql_state(edata->sqlerrcode)));
		initStringInfo(&d);
		appendStringInfo(&d, "{\"sqlstate\": \"%s\", \"message\": ", unpack_sql_state(edata->sqlerrcode));
		escape_json(&d, SecretsRedact(edata->message));
		appendStringInfoString(&d, ", \"detail\": ");
		if (edata->detail)
			escape_json(&d, SecretsRedact(edata->detail));
		else
			appendStringInfoString(&d, "null");
		appendStringInfoString(&d, ", \"hint\": ");
		if (edata->hint)
			escape_json(&d, SecretsRedact(edata->hint));
		else
			appendStringInfoString(&d, "null");
		appendStringInfoChar(&d, '}');
		res.detail = d.data;
		res.outcome = PipelineMayRetry(r, edata->sqlerrcode) ? "retry" : "failed";
		if (strcmp(res.outcome, "failed") == 0 && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			res.error = SecretsRedact(psprintf("cancelled: %s", edata->message));
	}
	PG_END_TRY();
	return res;
}

/* Begin a phase: a transaction of its own in the worker; SPI either way. */
static int
PipelinePhaseBegin(PipelineRunner *r)
{
	if (r->worker)
	{
		JobTxBegin();
		MemoryContextSwitchTo(r->cxt);
		return -1;
	}
	return SsSpiConnect();
}

/* End a phase begun by PipelinePhaseBegin. */
static void
PipelinePhaseEnd(PipelineRunner *r, int spi)
{
	if (r->worker)
	{
		JobTxCommit();
		MemoryContextSwitchTo(r->cxt);
	}
	else
		SsSpiFinish(spi);
}

/* The role named, or an error when it no longer exists. */
static Oid
PipelineRole(const char *name)
{
	Oid			role = get_role_oid(name, true);

	if (!OidIsValid(role))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" that asked for the pipeline run no longer exists", name)));
	return role;
}

/*
 * Run the run's remaining steps in order until one stops or fails; returns
 * the run's state (running: interrupted by the worker's shutdown, or the
 * job is no longer this runner's).
 */
static char *
PipelineSteps(PipelineRunner *r)
{
	Oid			types[5] = {INT8OID, TEXTOID, TEXTOID, JSONBOID, TEXTOID};
	Datum		v[5];
	char		nulls[5];
	char	   *state = "running";
	int			i, spi;

	for (i = 0; i <= PIPELINE_STEPS; i++)
	{
		char	   *step;
		StepResult	res;

		if (r->stop && *r->stop)
			return "running";
		if (!r->worker)
			CHECK_FOR_INTERRUPTS();
		spi = PipelinePhaseBegin(r);
		if (r->worker && JobVerdictOf(r->job, false) != JOB_OURS)
		{
			PipelinePhaseEnd(r, spi);
			return "running";
		}
		if (!OidIsValid(r->role))
			r->role = PipelineRole(r->job->enqueued_by);
		v[0] = Int64GetDatum(r->run_id);
		step = PipelineCallText(r, "SELECT seongsu.pipeline_begin_step($1)", 1, types, v, NULL);
		if (step == NULL)
			state = PipelineCallText(r, "SELECT state FROM seongsu.pipelines WHERE id OPERATOR(pg_catalog.=) $1",
									 1, types, v, NULL);
		PipelinePhaseEnd(r, spi);
		if (step == NULL)
			return state ? state : "gone";

		spi = PipelinePhaseBegin(r);
		res = PipelineStepRun(r, step);
		if (res.interrupted)
		{
			/* shutting down: the step's work is undone; the run resumes at restart */
			AbortCurrentTransaction();
			MemoryContextSwitchTo(r->cxt);
			return "running";
		}
		v[1] = CStringGetTextDatum(step);
		v[2] = CStringGetTextDatum(res.outcome);
		v[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum(res.detail));
		v[4] = res.error ? CStringGetTextDatum(res.error) : (Datum) 0;
		memcpy(nulls, "    ", 4);
		nulls[4] = res.error ? ' ' : 'n';
		state = PipelineCallText(r, "SELECT seongsu.pipeline_end_step($1, $2, $3, $4, $5)", 5, types, v, nulls);
		PipelinePhaseEnd(r, spi);
		ereport(DEBUG1, (errmsg("daily_seongsu: pipeline run " INT64_FORMAT " step %s: %s",
								r->run_id, step, res.outcome)));
		if (strcmp(state, "running") != 0)
			return state;
	}
	return state;
}

/*
 * Run a pipeline job (from JobsRunNext): its run's remaining steps, then
 * the job recorded done, failed, or pending again after its back-off when
 * the run is retrying.  In the worker the run can be interrupted like a
 * training job (SIGTERM, seongsu.cancel_job).
 */
void
PipelineJobRun(JobRun *job, MemoryContext cxt, volatile sig_atomic_t *stop)
{
	PipelineRunner r = {0};
	char	   *volatile state = NULL;
	char	   *volatile message = NULL;
	JsonbValue *id;
	JsonbValue	key;
	int			spi;

	key.type = jbvString;
	key.val.string.val = "run_id";
	key.val.string.len = 6;
	id = findJsonbValueFromContainer(&job->options->root, JB_FOBJECT, &key);
	r.run_id = id && id->type == jbvNumeric
		? DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(id->val.numeric))) : 0;
	r.owner = job->owner;
	r.job = job;
	r.worker = stop != NULL;
	r.stop = stop;
	r.cxt = cxt;
	if (r.worker)
		WorkerTrainingBegin(job->id);
	PG_TRY();
	{
		state = PipelineSteps(&r);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (!r.worker)
			ReThrowError(edata);
		AbortCurrentTransaction();
		MemoryContextSwitchTo(cxt);
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && *stop)
			state = "running";	/* shutting down between steps: the run resumes at restart */
		else
			message = SecretsRedact(edata->message);
	}
	PG_END_TRY();
	if (r.worker)
		WorkerTrainingEnd();
	if (state && strcmp(state, "running") == 0 && !message)
		return;					/* shutting down, or the job is no longer ours */

	spi = PipelinePhaseBegin(&r);
	if (strcmp(state ? state : "", "gone") == 0)
	{
		message = psprintf("pipeline run " INT64_FORMAT " does not exist", r.run_id);
		state = "failed";
	}
	else if (message)
	{
		Oid			types[2] = {INT8OID, TEXTOID};
		Datum		v[2];

		v[0] = Int64GetDatum(r.run_id);
		v[1] = CStringGetTextDatum(message);
		JobExecAs(r.owner, "SELECT seongsu.pipeline_abandon($1, $2)", 2, types, v, NULL, SPI_OK_SELECT);
		state = "failed";
	}
	job->failed = strcmp(state, "failed") == 0 || strcmp(state, "retrying") == 0;
	job->transient = strcmp(state, "retrying") == 0;
	if (job->failed)
	{
		Oid			types[1] = {INT8OID};
		Datum		v[1];

		v[0] = Int64GetDatum(r.run_id);
		job->error = message ? message
			: PipelineCallText(&r, "SELECT error FROM seongsu.pipelines WHERE id OPERATOR(pg_catalog.=) $1",
							   1, types, v, NULL);
	}
	if (r.worker)
	{
		PipelinePhaseEnd(&r, spi);
		JobWorkerRecord(job, cxt);
	}
	else
	{
		JobFinish(job);
		PipelinePhaseEnd(&r, spi);
	}
}

/* Whether a run's options ask for a run in the session ({"sync": true}). */
static bool
PipelineSync(Jsonb *options)
{
	JsonbValue	key;
	JsonbValue *v;

	if (options == NULL || !JB_ROOT_IS_OBJECT(options))
		return false;
	key.type = jbvString;
	key.val.string.val = "sync";
	key.val.string.len = 4;
	v = findJsonbValueFromContainer(&options->root, JB_FOBJECT, &key);
	return v && v->type == jbvBool && v->val.boolean;
}

/*
 * Start a queued run: in this session (sync), or as a job of source
 * pipeline for the worker (its id recorded with the run).
 */
static void
PipelineStart(int64 run_id, DateADT as_of, bool sync)
{
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		v[2];
	Oid			owner;
	int			spi;

	spi = SsSpiConnect();
	(void) JobsInstall(&owner);
	SsSpiFinish(spi);
	if (sync)
	{
		PipelineRunner r = {0};

		r.run_id = run_id;
		r.owner = owner;
		r.role = GetUserId();
		r.cxt = AllocSetContextCreate(CurrentMemoryContext, "seongsu pipeline", ALLOCSET_DEFAULT_SIZES);
		MemoryContextSwitchTo(r.cxt);
		(void) PipelineSteps(&r);
		return;
	}
	v[0] = Int64GetDatum(run_id);
	v[1] = Int64GetDatum(JobInsert("pipeline", as_of, as_of,
								   DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																	  CStringGetDatum(psprintf("{\"run_id\": " INT64_FORMAT "}", run_id))))));
	spi = SsSpiConnect();
	JobExecAs(owner, "SELECT seongsu.pipeline_attach_job($1, $2)", 2, types, v, NULL, SPI_OK_SELECT);
	SsSpiFinish(spi);
}

/* The as_of of a run (caller has SPI). */
static DateADT
PipelineAsOf(int64 run_id)
{
	bool		isnull;

	JobExec("SELECT as_of FROM seongsu.pipelines WHERE id OPERATOR(pg_catalog.=) $1", 1, (Oid[]) {INT8OID},
			(Datum[]) {Int64GetDatum(run_id)}, NULL, SPI_OK_SELECT);
	return DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * run_pipeline(station, line, options) RETURNS bigint: a new run, queued
 * for the worker or, with {"sync": true}, run now in this session (its
 * steps' outcome is in seongsu.pipeline_runs either way).
 */
Datum
run_pipeline(PG_FUNCTION_ARGS)
{
	Oid			types[4] = {TEXTOID, TEXTOID, JSONBOID, TEXTOID};
	Datum		v[4];
	char		n[4] = {' ', ' ', ' ', ' '};
	Oid			owner;
	Jsonb	   *options = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);
	bool		isnull;
	int64		run_id;
	DateADT		as_of;
	MemoryContext mc = CurrentMemoryContext;
	int			spi;

	v[0] = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	n[0] = PG_ARGISNULL(0) ? 'n' : ' ';
	v[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	n[1] = PG_ARGISNULL(1) ? 'n' : ' ';
	v[2] = options ? JsonbPGetDatum(options) : DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	v[3] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	spi = SsSpiConnect();
	(void) JobsInstall(&owner);
	/* the options are checked as the caller, so that errors name what it gave */
	JobExec("SELECT seongsu.pipeline_options($1)", 1, &types[2], &v[2], NULL, SPI_OK_SELECT);
	JobExecAs(owner, "SELECT seongsu.pipeline_create($1, $2, $3, $4)", 4, types, v, n, SPI_OK_SELECT);
	run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	as_of = PipelineAsOf(run_id);
	SsSpiFinish(spi);
	PipelineStart(run_id, as_of, PipelineSync(options));
	MemoryContextSwitchTo(mc);
	PG_RETURN_INT64(run_id);
}

/*
 * resume_pipeline(run_id) RETURNS bigint: a failed or stopped run queued
 * again (or run now, when it was asked for with {"sync": true}) from its
 * first step that did not succeed; its succeeded steps are not redone.
 */
Datum
resume_pipeline(PG_FUNCTION_ARGS)
{
	int64		run_id = PG_GETARG_INT64(0);
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		v[2];
	Oid			owner;
	Jsonb	   *options;
	DateADT		as_of;
	bool		isnull;
	MemoryContext mc = CurrentMemoryContext;
	int			spi;

	v[0] = Int64GetDatum(run_id);
	v[1] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	spi = SsSpiConnect();
	(void) JobsInstall(&owner);
	JobExecAs(owner, "SELECT seongsu.pipeline_reopen($1, $2)", 2, types, v, NULL, SPI_OK_SELECT);
	options = DatumGetJsonbPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	as_of = PipelineAsOf(run_id);
	SsSpiFinish(spi);
	PipelineStart(run_id, as_of, PipelineSync(options));
	MemoryContextSwitchTo(mc);
	PG_RETURN_INT64(run_id);
}
