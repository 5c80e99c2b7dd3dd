/*
 * generation.h — what changed since a cache was filled: counters in shared
 * memory, bumped when a transaction that wrote a watched table commits.
 */
#ifndef SEONGSU_GENERATION_H
#define SEONGSU_GENERATION_H

#include "postgres.h"

/* What a generation follows (see Generation in generation.c). */
typedef enum GenerationKind
{
	GEN_DATA,
	GEN_MODELS,
	GEN_WEATHER,
	GEN_DEPLOY,
	NUM_GENERATIONS
} GenerationKind;

extern Size GenerationShmemSize(void);
extern void GenerationShmemInit(void);
extern void GenerationInstallHooks(void);
extern void DataChangedAtCommit(int what);
extern uint64 Generation(GenerationKind kind);
extern bool GenerationsUsable(void);
extern bool DataChangedInXact(void);

#endif							/* SEONGSU_GENERATION_H */
