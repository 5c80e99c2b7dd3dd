/*
 * worker.h — the ingestion background worker.
 */
#ifndef SEONGSU_WORKER_H
#define SEONGSU_WORKER_H

#include "postgres.h"

extern void WorkerRegister(void);
extern void WorkerWakeAtCommit(void);
extern bool WorkerIsRunning(void);
/* What a generation follows (see Generation in worker.c). */
typedef enum GenerationKind
{
	GEN_DATA,
	GEN_MODELS,
	GEN_WEATHER,
	GEN_DEPLOY,
	NUM_GENERATIONS
} GenerationKind;

extern void DataChangedAtCommit(int what);
extern uint64 Generation(GenerationKind kind);
extern bool GenerationsUsable(void);
extern bool DataChangedInXact(void);

#endif							/* SEONGSU_WORKER_H */
