/*
 * alloc_std.c — alloc.h for standalone programs (fuzzers, unit tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/alloc.h"

/* malloc that aborts on failure. */
void *
SsAlloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (!p)
	{
		fprintf(stderr, "out of memory\n");
		abort();
	}
	return p;
}

/* Zeroed SsAlloc. */
void *
SsAlloc0(size_t size)
{
	void	   *p = SsAlloc(size);

	memset(p, 0, size ? size : 1);
	return p;
}

/* realloc that aborts on failure. */
void *
SsRealloc(void *ptr, size_t size)
{
	void	   *p = realloc(ptr, size ? size : 1);

	if (!p)
	{
		fprintf(stderr, "out of memory\n");
		abort();
	}
	return p;
}

/* free. */
void
SsFree(void *ptr)
{
	free(ptr);
}

/* Nothing interrupts a standalone program. */
void
SsCheckInterrupts(void)
{
}
