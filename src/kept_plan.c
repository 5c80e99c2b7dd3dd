/*
 * kept_plan.c — SPI plans of the fixed queries a prediction runs each time
 * its inputs are reloaded, prepared once per backend and kept (the plan
 * cache re-plans them when the tables change, as after DROP / CREATE
 * EXTENSION).
 */
#include "postgres.h"

#include "kept_plan.h"

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
