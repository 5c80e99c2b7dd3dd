/*
 * worker.h — the ingestion background worker.
 */
#ifndef SEONGSU_WORKER_H
#define SEONGSU_WORKER_H

#include "postgres.h"

extern void WorkerRegister(void);
extern void WorkerWakeAtCommit(void);
extern bool WorkerIsRunning(void);
extern void DataChangedAtCommit(void);
extern uint64 DataGeneration(void);
extern bool DataChangedInXact(void);

#endif							/* SEONGSU_WORKER_H */
