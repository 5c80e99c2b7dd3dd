/*
 * compat.h — every PostgreSQL-version difference the extension cares about,
 * in one place.  PostgreSQL 15 is the reference; 15 and 17 are tested in CI
 * (test/check.sh with DS_PG_MAJORS="15 17"); 14-17 are meant to build.
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

/* shmem_request_hook appeared in 15; before it, _PG_init requested memory. */
#if PG_VERSION_NUM >= 150000
#define SS_HAVE_SHMEM_REQUEST_HOOK 1
#endif

/* A uniform random double in [0, 1): pg_prng from 15 on, random() before. */
#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#define SsRandomDouble() pg_prng_double(&pg_global_prng_state)
#else
#define SsRandomDouble() ((double) random() / ((double) MAX_RANDOM_VALUE + 1))
#endif

/* LockHeldByMe gained an "or stronger" argument in 17 (false: this exact mode). */
#if PG_VERSION_NUM >= 170000
#define SsLockHeldByMe(tag, mode) LockHeldByMe((tag), (mode), false)
#else
#define SsLockHeldByMe(tag, mode) LockHeldByMe((tag), (mode))
#endif

#endif							/* SEONGSU_COMPAT_H */
