/*
 * daily_seongsu.c — the module's entry point.  _PG_init lists the parts:
 * the settings, and, when the library is preloaded, the shared memory of
 * the worker, the shared epochs and the shared caches (day memo, model
 * images, climatology), and the ingestion worker.
 *
 * Parts, downhill (nothing includes a part above it):
 *   entry      daily_seongsu.c
 *   train      src/train/   training, search, backtests, tracking, reproduction
 *   ops        src/ops/     data versioning, monitoring (includes serve,
 *                           features, ingest/sources.h; included by nobody)
 *   serve      src/serve/   prediction entry points, model cache, inputs, evaluate
 *   features   src/features/ calendar, holidays, windows, features, dataset, shares
 *   ml         src/ml/      the pure-C model library       ingest  src/ingest/
 *   shared     settings, invalidation, safe_spi, names, alloc, kst, compat
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "compat.h"
#include "features/climatology.h"
#include "ingest/worker.h"
#include "invalidation.h"
#include "serve/day_memo.h"
#include "serve/model_share.h"
#include "settings.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

#ifdef SS_HAVE_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Ask for the library's shared memory: the worker's state, the shared epochs and the shared caches. */
static void
ShmemRequest(void)
{
#ifdef SS_HAVE_SHMEM_REQUEST_HOOK
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(WorkerShmemSize());
	RequestAddinShmemSpace(WatchShmemSize());
	DayMemoRequest();
	ModelShareRequest();
	ClimateRequest();
}

/* Create or attach the library's shared memory. */
static void
ShmemStartup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	WorkerShmemInit();
	WatchShmemInit();
	DayMemoStartup();
	ModelShareStartup();
	ClimateStartup();
	LWLockRelease(AddinShmemInitLock);
}

/* Define the settings and, at preload, the shared memory and the worker. */
void
_PG_init(void)
{
	SettingsDefine();
	if (!process_shared_preload_libraries_in_progress)
		return;
#ifdef SS_HAVE_SHMEM_REQUEST_HOOK
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ShmemRequest;
#else
	ShmemRequest();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ShmemStartup;
	WorkerRegister();
}
