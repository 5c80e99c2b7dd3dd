/*
 * track_writer.c — a run's own row (seongsu.runs), written in the current
 * transaction or in a transaction of its own.
 *
 * A train() call that fails aborts its transaction and every row written
 * in it, so the row that says it failed is written by someone else: a
 * short-lived dynamic background worker (the "run recorder"), started for
 * the one row and waited for (at most TRACK_WAIT_MS, with interrupts held
 * so that a second cancel cannot lose the first error).  It needs no
 * preload, only a free max_worker_processes slot; without one the row is
 * not written and the server log says so.  The row travels in a dynamic
 * shared memory segment as text values; the recorder connects to the same
 * database as the bootstrap superuser, writes as the role it is given (the
 * extension's owner) under the pinned search_path, commits and exits.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "../safe_spi.h"
#include "train.h"

PGDLLEXPORT void seongsu_track_writer_main(Datum arg);

#define TRACK_WAIT_MS 10000		/* the longest a train() waits for its row to be written */
#define TRACK_START_MS 2000		/* ... and for the recorder to start (none start during shutdown) */

/* The row, inserted; a run already there (written at start) gets the status, end and tags. */
static const char *const track_row_sql =
"INSERT INTO seongsu.runs AS r (run_id, project, station, line, grain, horizon, algorithm, params, search, "
"train_from, train_to, status, started_at, finished_at, extension_version, build, db_user, tags) "
"VALUES ($1::pg_catalog.int8, $2, $3, $4, $5, $6::pg_catalog.interval, $7, $8::pg_catalog.jsonb, "
"$9::pg_catalog.jsonb, $10::pg_catalog.date, $11::pg_catalog.date, $12, $13::pg_catalog.timestamptz, "
"$14::pg_catalog.timestamptz, $15, $16, $17, $18::pg_catalog.jsonb) "
"ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, finished_at = EXCLUDED.finished_at, "
"tags = r.tags OPERATOR(pg_catalog.||) EXCLUDED.tags";

/* What the recorder finds in its segment: who writes where, then the values. */
typedef struct TrackTask
{
	Oid			database;
	Oid			role;
	bool		written;		/* set by the recorder after its commit */
	Size		len;
	char		values[FLEXIBLE_ARRAY_MEMBER];	/* per column: 'n' (NULL) or 'v', then a NUL-terminated string */
} TrackTask;

/* Run the row's statement as role (caller has SPI). */
static void
TrackRowExec(Oid role, char *const *row)
{
	Oid			types[TC_NCOLUMNS];
	Datum		v[TC_NCOLUMNS];
	char		n[TC_NCOLUMNS];
	Oid			user;
	int			sec, i, rc;

	for (i = 0; i < TC_NCOLUMNS; i++)
	{
		types[i] = TEXTOID;
		v[i] = row[i] ? CStringGetTextDatum(row[i]) : (Datum) 0;
		n[i] = row[i] ? ' ' : 'n';
	}
	GetUserIdAndSecContext(&user, &sec);
	SetUserIdAndSecContext(role, sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	rc = SPI_execute_with_args(track_row_sql, TC_NCOLUMNS, types, v, n, false, 0);
	SetUserIdAndSecContext(user, sec);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not write the run's row: %s", SPI_result_code_string(rc));
}

/* The row as the recorder's segment (in CurrentMemoryContext's resource owner). */
static dsm_segment *
TrackTaskCreate(Oid role, char *const *row)
{
	Size		len = 0;
	dsm_segment *seg;
	TrackTask  *task;
	char	   *p;
	int			i;

	for (i = 0; i < TC_NCOLUMNS; i++)
		len += 1 + (row[i] ? strlen(row[i]) + 1 : 0);
	seg = dsm_create(offsetof(TrackTask, values) + len, 0);
	task = dsm_segment_address(seg);
	task->database = MyDatabaseId;
	task->role = role;
	task->written = false;
	task->len = len;
	p = task->values;
	for (i = 0; i < TC_NCOLUMNS; i++)
	{
		*p++ = row[i] ? 'v' : 'n';
		if (row[i])
		{
			memcpy(p, row[i], strlen(row[i]) + 1);
			p += strlen(row[i]) + 1;
		}
	}
	return seg;
}

/*
 * Start the recorder for seg and wait until it has exited (or the wait is
 * over); whether it wrote the row, with the reason in *why when not.
 */
static bool
TrackRecorderRun(dsm_segment *seg, char **why)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	TimestampTz start = GetCurrentTimestamp();
	bool		started = false;
	bool		written;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "daily_seongsu");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "seongsu_track_writer_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "daily_seongsu run recorder");
	snprintf(w.bgw_type, BGW_MAXLEN, "daily_seongsu run recorder");
	w.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
	{
		*why = pstrdup("no background worker slot is free (max_worker_processes)");
		return false;
	}
	HOLD_INTERRUPTS();
	for (;;)
	{
		pid_t		pid;
		BgwHandleStatus status = GetBackgroundWorkerPid(handle, &pid);

		if (status == BGWH_STOPPED || status == BGWH_POSTMASTER_DIED)
			break;
		started = started || status == BGWH_STARTED;
		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), started ? TRACK_WAIT_MS : TRACK_START_MS))
		{
			TerminateBackgroundWorker(handle);
			break;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	RESUME_INTERRUPTS();
	written = ((TrackTask *) dsm_segment_address(seg))->written;
	if (!written)
		*why = started ? psprintf("the run recorder did not finish within %d ms (see its error in the server log)", TRACK_WAIT_MS)
			: pstrdup("the run recorder did not start");
	return written;
}

/*
 * Write a run's row as role: in the current transaction (caller has SPI),
 * or, autonomous, in a transaction of its own that has committed when this
 * returns true; false, with the reason in *why, when it could not be.
 */
bool
TrackRowWrite(Oid role, char *const *row, bool autonomous, char **why)
{
	dsm_segment *seg;
	bool		written;

	if (!autonomous)
	{
		TrackRowExec(role, row);
		return true;
	}
	seg = TrackTaskCreate(role, row);
	written = TrackRecorderRun(seg, why);
	dsm_detach(seg);
	return written;
}

/* The run recorder's entry point: write the row of its segment, commit, exit. */
void
seongsu_track_writer_main(Datum arg)
{
	dsm_segment *seg;
	TrackTask  *task;
	char	   *row[TC_NCOLUMNS];
	char	   *p;
	int			i, spi;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		proc_exit(0);			/* the caller stopped waiting */
	task = dsm_segment_address(seg);
	p = task->values;
	for (i = 0; i < TC_NCOLUMNS; i++)
	{
		row[i] = NULL;
		if (*p++ == 'v')
		{
			row[i] = p;
			p += strlen(p) + 1;
		}
	}
	BackgroundWorkerInitializeConnectionByOid(task->database, InvalidOid, 0);
	SetConfigOption("search_path", SS_SAFE_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	spi = SsSpiConnect();
	PushActiveSnapshot(GetTransactionSnapshot());
	TrackRowExec(task->role, row);
	SsSpiFinish(spi);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	task->written = true;
	dsm_detach(seg);
	proc_exit(0);
}
