/*
 * safe_spi.h — every SPI block of the extension runs through here: under a
 * pinned search_path (pg_catalog, pg_temp), so that no role can put its own
 * function, operator or type in the way of a statement the extension issues
 * (the statements also name everything with its schema), and with the plans
 * of fixed queries prepared once per backend.
 */
#ifndef SEONGSU_SAFE_SPI_H
#define SEONGSU_SAFE_SPI_H

#include "postgres.h"

#include "executor/spi.h"

/* The search_path every statement of the extension runs under. */
#define SS_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

extern int	SsPinSearchPath(void);
extern void SsUnpinSearchPath(int level);
extern int	SsSpiConnect(void);
extern void SsSpiFinish(int level);
extern SPIPlanPtr KeptPlan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types);

#endif							/* SEONGSU_SAFE_SPI_H */
