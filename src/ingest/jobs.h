/*
 * jobs.h — running ingestion jobs (shared by the worker and the SQL functions).
 */
#ifndef SEONGSU_JOBS_H
#define SEONGSU_JOBS_H

#include "postgres.h"

#include <signal.h>

extern bool JobsRunNext(MemoryContext cxt, volatile sig_atomic_t *stop);
extern void JobsPurgeLog(void);
extern void JobsResetRunning(void);
extern long JobsNextDueMs(void);

#endif							/* SEONGSU_JOBS_H */
