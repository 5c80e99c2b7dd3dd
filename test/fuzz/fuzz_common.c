/*
 * fuzz_common.c — the contract every parser keeps, checked after each fuzz
 * input: failures leave the RowSet empty and say why; messages and values are
 * valid UTF-8 (they end up in PostgreSQL text); rows reference real stations.
 */
#include "fuzz_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stop the fuzzer with a reason (libFuzzer records the input as a crash). */
void
FuzzFail(const char *why)
{
	fprintf(stderr, "contract violated: %s\n", why);
	abort();
}

/* Length of the well-formed UTF-8 sequence at p (as PostgreSQL checks it) within avail bytes, or 0. */
static size_t
FuzzUtf8Char(const unsigned char *p, size_t avail)
{
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;
	size_t		n;
	size_t		i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (n > avail)
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0;
	else if (p[0] == 0xED)
		hi = 0x9F;
	else if (p[0] == 0xF0)
		lo = 0x90;
	else if (p[0] == 0xF4)
		hi = 0x8F;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* True when the len bytes at s are valid UTF-8 without a NUL: what a text value may hold. */
bool
FuzzUtf8Text(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;
	size_t		n;

	while (i < len)
	{
		if (p[i] == '\0' || (n = FuzzUtf8Char(p + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

/* True when s holds a NUL within size bytes and is valid UTF-8 before it. */
static bool
FuzzUtf8(const char *s, size_t size)
{
	const char *nul = memchr(s, '\0', size);

	return nul != NULL && FuzzUtf8Text(s, (size_t) (nul - s));
}

/* Station indices of the Seoul row kinds point into rs->stations. */
static void
FuzzCheckStations(const RowSet *rs)
{
	size_t		i;
	int32_t		st;

	for (i = 0; i < rs->nrows; i++)
	{
		if (rs->kind == ROWS_RIDERSHIP_DAILY)
			st = ((const RidershipDailyRow *) rs->rows)[i].station;
		else if (rs->kind == ROWS_HOUR_PROFILE)
			st = ((const HourProfileRow *) rs->rows)[i].station;
		else
			return;
		if (st < 0 || st >= rs->nstations)
			FuzzFail("row without a valid station");
	}
	for (st = 0; st < rs->nstations; st++)
		if (!FuzzUtf8(rs->stations[st].line, SIZE_MAX) || !FuzzUtf8(rs->stations[st].name, SIZE_MAX))
			FuzzFail("station name is not valid UTF-8");
}

/* The all-or-nothing contract of parsers.h. */
void
FuzzCheckOutcome(ApiOutcome out, const RowSet *rs, const ParseError *err)
{
	bool		failed = out == API_TRANSIENT || out == API_PERMANENT;

	if (out != API_OK && out != API_NO_DATA && !failed)
		FuzzFail("unknown outcome");
	if (failed != err->failed || (failed && err->transient != (out == API_TRANSIENT)))
		FuzzFail("outcome and err disagree");
	if ((failed || out == API_NO_DATA) && (rs->nrows != 0 || rs->nstations != 0))
		FuzzFail("rows left behind by a response without data");
	if (failed && err->message[0] == '\0')
		FuzzFail("failure without a message");
	if (!FuzzUtf8(err->message, sizeof(err->message)) || !FuzzUtf8(err->value, sizeof(err->value)) ||
		!FuzzUtf8(err->column, sizeof(err->column)) || !FuzzUtf8(err->api_code, sizeof(err->api_code)))
		FuzzFail("error text is not valid UTF-8");
	FuzzCheckStations(rs);
}

/* A KMA text either maps to a non-negative finite amount or fails with NaN. */
void
FuzzCheckText(double v, bool ok)
{
	if (ok ? !(isfinite(v) && v >= 0) : !isnan(v))
		FuzzFail("text mapping result inconsistent with ok");
}
