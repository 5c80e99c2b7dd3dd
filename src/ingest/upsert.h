/*
 * upsert.h — writing parsed rows to the tables (SPI).
 */
#ifndef SEONGSU_UPSERT_H
#define SEONGSU_UPSERT_H

#include "rows.h"

extern uint64 UpsertRowSet(const RowSet *rs);

#endif							/* SEONGSU_UPSERT_H */
