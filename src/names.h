/*
 * names.h — which station and line names may be stored (names.c).
 */
#ifndef SEONGSU_NAMES_H
#define SEONGSU_NAMES_H

#include <stddef.h>
#include <stdint.h>

extern const char *NameProblem(const char *s, size_t len);
extern void NameEscape(const char *s, size_t len, char *out, size_t outlen);

#endif							/* SEONGSU_NAMES_H */
