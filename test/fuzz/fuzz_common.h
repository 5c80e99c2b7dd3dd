/*
 * fuzz_common.h — checks every parser harness makes after each input.
 */
#ifndef SEONGSU_FUZZ_COMMON_H
#define SEONGSU_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "../../src/ingest/parsers.h"

extern int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern void FuzzFail(const char *why);
extern bool FuzzUtf8Text(const char *s, size_t len);
extern void FuzzCheckOutcome(ApiOutcome out, const RowSet *rs, const ParseError *err);
extern void FuzzCheckText(double v, bool ok);

#endif							/* SEONGSU_FUZZ_COMMON_H */
