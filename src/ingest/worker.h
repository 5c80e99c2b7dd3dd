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
extern void WorkerTrainingBegin(int64 job_id);
extern void WorkerTrainingEnd(void);
extern void WorkerCancelTrainingAtCommit(int64 job_id);

#endif							/* SEONGSU_WORKER_H */
