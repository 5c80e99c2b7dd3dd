/*
 * fuzz_openmeteo_forecast.c — libFuzzer harness for ParseOpenMeteoForecast.
 */
#include "fuzz_common.h"

/* issued_at of every input: 2024-04-30 08:00 KST */
#define FUZZ_ISSUED_AT INT64_C(767746800000000)

/* Parse one input and check the parser's contract. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	RowSet		rs;
	ParseError	err;
	ApiOutcome	out;

	RowSetInit(&rs, ROWS_WEATHER_FORECAST, "fuzz");
	out = ParseOpenMeteoForecast((const char *) data, size, FUZZ_ISSUED_AT, &rs, &err);
	FuzzCheckOutcome(out, &rs, &err);
	RowSetFree(&rs);
	return 0;
}
