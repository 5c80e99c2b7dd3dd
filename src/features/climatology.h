/*
 * climatology.h — the weather climatology's sums, and their shared-memory cache.
 */
#ifndef SEONGSU_CLIMATE_H
#define SEONGSU_CLIMATE_H

#include "postgres.h"

/* Per day of year (1..366) over every observation: temperature, and precipitation where there is a temperature. */
typedef struct Climate
{
	double		sum_t[367];
	double		sum_p[367];
	int			n_t[367];
	int			n_p[367];
} Climate;

extern void ClimateRequest(void);
extern void ClimateStartup(void);
extern bool ClimateGet(Oid table, uint64 gen, Climate *out);
extern void ClimatePut(Oid table, uint64 gen, const Climate *c);

#endif							/* SEONGSU_CLIMATE_H */
