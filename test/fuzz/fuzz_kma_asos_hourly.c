/*
 * fuzz_kma_asos_hourly.c — libFuzzer harness for ParseKmaAsosHourly.
 */
#include "fuzz_common.h"

/* Parse one input and check the parser's contract. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	RowSet		rs;
	ParseError	err;
	ApiOutcome	out;

	RowSetInit(&rs, ROWS_WEATHER_HOURLY, "fuzz");
	out = ParseKmaAsosHourly((const char *) data, size, &rs, &err);
	FuzzCheckOutcome(out, &rs, &err);
	RowSetFree(&rs);
	return 0;
}
