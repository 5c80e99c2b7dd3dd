/*
 * alloc.h — memory and interrupt hooks for the pure-C parts (parsers, models).
 *
 * In the server these are palloc/repalloc/pfree in CurrentMemoryContext (huge
 * allocations allowed) and CHECK_FOR_INTERRUPTS (src/alloc_pg.c); in fuzz and
 * unit-test programs they are malloc/realloc/free and a no-op
 * (test/alloc_std.c).  Allocation failure never returns NULL: the server
 * raises an ERROR, the standalone build aborts.  SsFree(NULL) does nothing.
 */
#ifndef SEONGSU_ALLOC_H
#define SEONGSU_ALLOC_H

#include <stddef.h>

extern void *SsAlloc(size_t size);
extern void *SsAlloc0(size_t size);
extern void *SsRealloc(void *ptr, size_t size);
extern void SsFree(void *ptr);
extern void SsCheckInterrupts(void);

#endif							/* SEONGSU_ALLOC_H */
