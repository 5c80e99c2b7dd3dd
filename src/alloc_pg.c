/*
 * alloc_pg.c — the server implementation of alloc.h.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "alloc.h"

/* palloc that allows allocations above 1 GB. */
void *
SsAlloc(size_t size)
{
	return palloc_extended(size, MCXT_ALLOC_HUGE);
}

/* Zeroed SsAlloc. */
void *
SsAlloc0(size_t size)
{
	return palloc_extended(size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

/* repalloc that allows allocations above 1 GB. */
void *
SsRealloc(void *ptr, size_t size)
{
	return repalloc_huge(ptr, size);
}

/* pfree; NULL is allowed, as with free(). */
void
SsFree(void *ptr)
{
	if (ptr)
		pfree(ptr);
}

/* Let a long computation be cancelled. */
void
SsCheckInterrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}
