/*
 * climatology.h — the weather climatology's sums, kept per backend and shared.
 */
#ifndef SEONGSU_CLIMATOLOGY_H
#define SEONGSU_CLIMATOLOGY_H

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
extern const Climate *ClimateSums(void);

#endif							/* SEONGSU_CLIMATOLOGY_H */
