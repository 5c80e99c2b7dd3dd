/*
 * worker.h — the ingestion background worker.
 */
#ifndef SEONGSU_WORKER_H
#define SEONGSU_WORKER_H

#include "postgres.h"

extern Size WorkerShmemSize(void);
extern void WorkerShmemInit(void);
extern void WorkerRegister(void);
extern void WorkerWakeAtCommit(void);
extern bool WorkerIsRunning(void);

#endif							/* SEONGSU_WORKER_H */
