/*
 * fuzz_kasi_holidays.c — libFuzzer harness for ParseKasiHolidays.
 */
#include "fuzz_common.h"

/* Parse one input and check the parser's contract. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	RowSet		rs;
	ParseError	err;
	ApiOutcome	out;

	RowSetInit(&rs, ROWS_HOLIDAYS, "fuzz");
	out = ParseKasiHolidays((const char *) data, size, &rs, &err);
	FuzzCheckOutcome(out, &rs, &err);
	RowSetFree(&rs);
	return 0;
}
