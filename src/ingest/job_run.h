/*
 * job_run.h — what the parts of the job runner share (jobs.c runs a job,
 * job_fetch.c fetches its requests, job_record.c records what it got,
 * job_sql.c holds the SQL functions): a claimed job, its requests and log
 * rows, and the helpers that read and write the queue as the extension's
 * owner.  Internal to src/ingest.
 */
#ifndef SEONGSU_JOB_RUN_H
#define SEONGSU_JOB_RUN_H

#include "postgres.h"

#include <signal.h>

#include "utils/date.h"
#include "utils/jsonb.h"

#include "http.h"
#include "rows.h"
#include "sources.h"

#define MAX_JOB_DAYS 7305		/* 20 years: the cap of jobs_span_within_cap too */
#define MAX_JOB_RETRY_DELAY_S 3600	/* a job-level retry waits at most an hour */
#define LOOK_EVERY_MS 500		/* the worker re-reads a job's row this often while fetching */

/* Where one request of a job stands. */
typedef enum UnitState
{
	UNIT_WAITING,
	UNIT_IN_FLIGHT,
	UNIT_DONE,
	UNIT_FAILED
} UnitState;

/* What became of a claimed job while it ran. */
typedef enum JobVerdict
{
	JOB_OURS,					/* still running under this run's claim */
	JOB_NOT_OURS,				/* cancelled, or reset and claimed again */
	JOB_GONE,					/* its row was deleted */
	JOB_FOREIGN					/* the extension was dropped (and maybe created again) */
} JobVerdict;

/* What a claim found. */
typedef enum ClaimResult
{
	CLAIM_NONE,					/* no job is due */
	CLAIM_RUN,					/* a job to run */
	CLAIM_REFUSED				/* a job that may not run, now marked failed */
} ClaimResult;

/* One request being run: its plan, tries, HTTP transfer and parsed rows. */
typedef struct UnitRun
{
	FetchUnit  *unit;
	UnitState	state;
	int			attempts;
	TimestampTz next_try;
	HttpTransfer xfer;
	RowSet		rows;
	bool		has_rows;
	struct LogEntry *success;	/* the log row of the attempt that succeeded */
	char	   *error;
} UnitRun;

/* One ingest_log row. */
typedef struct LogEntry
{
	char	   *url;
	int			attempt;
	long		status;
	char	   *api_code;
	double		latency_ms;
	int64		bytes;
	int			rows_parsed;
	int64		rows_written;
	char	   *error;
	TimestampTz at;				/* when the response (or failure) arrived */
} LogEntry;

/* A claimed job and what running it produced. */
typedef struct JobRun
{
	int64		id;
	bool		train;			/* a training job (no SourceId) */
	bool		pipeline;		/* a pipeline run's job (no SourceId; pipeline_job.c) */
	bool		final;			/* claimed by seongsu.run_job: a failure is final (no job-level retry) */
	char	   *enqueued_by;
	SourceId	source;
	int32		from;
	int32		to;
	Jsonb	   *options;
	int32		attempt;		/* jobs.attempts as this run's claim set it */
	Oid			install;		/* the extension's OID when the job was claimed */
	Oid			owner;			/* its owner, as whom jobs and ingest_log are written */
	List	   *units;
	List	   *log;
	int			requests;
	bool		failed;
	bool		transient;		/* failed, on a transient error only */
	char	   *error;
	int64		written;
} JobRun;

extern void JobExec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect);
extern void JobExecAs(Oid owner, const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
					  int expect);
extern Oid	JobsInstall(Oid *owner);
extern bool JobsHaveEnqueuedBy(void);
extern char *JobProblem(DateADT from, DateADT to, Jsonb *options, int *code);
extern void JobTxBegin(void);
extern void JobTxCommit(void);
extern JobVerdict JobVerdictOf(JobRun *job, bool lock);
extern bool JobFetch(JobRun *job, volatile sig_atomic_t *stop);
extern void JobRecordLog(JobRun *job, bool wrote);
extern void JobRecord(JobRun *job);
extern void JobFinish(JobRun *job);
extern void JobWorkerRecord(JobRun *job, MemoryContext cxt);
extern void JobEndRun(JobRun *job, bool cancelled, const char *reason);
extern ClaimResult JobClaim(JobRun *job, MemoryContext cxt, int64 only);
extern void JobTrainInSession(JobRun *job, MemoryContext cxt);
extern int64 JobInsert(const char *source, DateADT from, DateADT to, Jsonb *options);
extern void PipelineJobRun(JobRun *job, MemoryContext cxt, volatile sig_atomic_t *stop);

#endif							/* SEONGSU_JOB_RUN_H */
