/*
 * fuzz_seoul_hour_profile.c — libFuzzer harness for ParseSeoulHourProfile.
 */
#include "fuzz_common.h"

/* Parse one input and check the parser's contract. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	RowSet		rs;
	ParseError	err;
	ApiOutcome	out;

	RowSetInit(&rs, ROWS_HOUR_PROFILE, "fuzz");
	out = ParseSeoulHourProfile((const char *) data, size, &rs, &err);
	FuzzCheckOutcome(out, &rs, &err);
	RowSetFree(&rs);
	return 0;
}
