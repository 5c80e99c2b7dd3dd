/*
 * safe_spi.c — SPI under a pinned search_path, and kept plans.
 *
 * SsSpiConnect pins search_path to SS_SAFE_SEARCH_PATH at a new GUC nest
 * level and connects to SPI; SsSpiFinish disconnects and restores the
 * caller's setting.  An error in between unwinds both with the transaction
 * (or subtransaction).  Kept plans are prepared under the pinned path (the
 * plan cache re-plans them when the tables change, as after DROP / CREATE
 * EXTENSION).
 */
#include "postgres.h"

#include "utils/guc.h"

#include "safe_spi.h"

/* Set search_path to the safe path until SsUnpinSearchPath(level); returns level. */
int
SsPinSearchPath(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("search_path", SS_SAFE_SEARCH_PATH, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return level;
}

/* Restore the search_path in force before SsPinSearchPath returned level. */
void
SsUnpinSearchPath(int level)
{
	AtEOXact_GUC(true, level);
}

/* SPI_connect under the pinned search_path; returns what SsSpiFinish needs. */
int
SsSpiConnect(void)
{
	int			level = SsPinSearchPath();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	return level;
}

/* SPI_finish, then the caller's search_path again. */
void
SsSpiFinish(int level)
{
	SPI_finish();
	SsUnpinSearchPath(level);
}

/* The plan of sql, kept for the backend's life in *slot: prepared on first use (caller has SPI). */
SPIPlanPtr
KeptPlan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

		if (plan == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep the plan of \"%s\"", sql);
		*slot = plan;
	}
	return *slot;
}
