/*
 * kept_plan.h — SPI plans of fixed queries, prepared once per backend.
 */
#ifndef SEONGSU_KEPT_PLAN_H
#define SEONGSU_KEPT_PLAN_H

#include "postgres.h"

#include "executor/spi.h"

extern SPIPlanPtr KeptPlan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types);

#endif							/* SEONGSU_KEPT_PLAN_H */
