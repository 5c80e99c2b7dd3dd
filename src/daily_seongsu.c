/*
 * daily_seongsu.c — module entry point: GUCs and (when preloaded) the
 * ingestion worker's registration.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "compat.h"
#include "daily_seongsu.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Register the GUCs. */
void
_PG_init(void)
{
	SsReserveGucPrefix("seongsu");
}
