/*
 * compat.h — every PostgreSQL-version difference the extension cares about,
 * in one place.  PostgreSQL 15 is the reference; 14-17 are meant to build.
 */
#ifndef SEONGSU_COMPAT_H
#define SEONGSU_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 140000
#error "daily_seongsu needs PostgreSQL 14 or later"
#endif

/* MarkGUCPrefixReserved appeared in 15; 14 had EmitWarningsOnPlaceholders. */
#if PG_VERSION_NUM >= 150000
#define SsReserveGucPrefix(prefix) MarkGUCPrefixReserved(prefix)
#else
#define SsReserveGucPrefix(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

#endif							/* SEONGSU_COMPAT_H */
