/*
 * csv_columns.c — finding a kind's columns in a CSV header (the tables of
 * import_csv.c and import_weather.c), and reading typed values from its
 * records with errors that name the line, column and value.  Pure C.
 */
#include "csv_columns.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const ValueRange RANGE_ANY = {-INFINITY, INFINITY};
const ValueRange RANGE_TEMP = {-60, 60};
const ValueRange RANGE_AMOUNT = {0, INFINITY};
const ValueRange RANGE_PCT = {0, 100};

/* Report a missing header column (or group of columns) called what. */
bool
ColMissing(ParseError *err, const CsvReader *r, const char *what)
{
	ParseErrorSet(err, r->line, what, r->nfields > 0 ? r->fields[0].s : "",
				  r->nfields > 0 ? r->fields[0].len : 0,
				  "header has no %s column", what);
	err->bad_format = true;
	return false;
}

/* Advance to the next record, reporting malformed quoting; false at the end. */
bool
ColNextRecord(CsvReader *r, ParseError *err)
{
	if (!CsvNext(r))
		return false;
	if (r->bad_quote)
	{
		ParseErrorSet(err, r->line, "", "", 0, "malformed quoted field");
		err->bad_format = true;
		return false;
	}
	if (r->too_many)
	{
		ParseErrorSet(err, r->line, "", "", 0, "more than %d fields", CSV_MAX_FIELDS);
		err->bad_format = true;
		return false;
	}
	return true;
}

/* Read the header record; false (with err set) when the input is empty. */
bool
ColReadHeader(CsvReader *r, ParseError *err)
{
	if (ColNextRecord(r, err))
		return true;
	if (!err->failed)
	{
		ParseErrorSet(err, 1, "", "", 0, "input has no header line");
		err->bad_format = true;
	}
	return false;
}

/* Whether header cell f is column c under the name name. */
static bool
CellIs(const CsvField *f, const CsvColumn *c, const char *name)
{
	if (!(c->flags & COL_PREFIX))
		return CsvFieldIs(f, name);
	return CsvFieldStarts(f, name) && !(c->unless && CsvFieldContains(f, c->unless));
}

/* Field index of column c in the header: the first cell with its first name found, or -1. */
static int
FindColumn(const CsvReader *r, const CsvColumn *c)
{
	int			i, j;

	for (j = 0; j < COL_MAX_NAMES && c->names[j]; j++)
		for (i = 0; i < r->nfields; i++)
			if (CellIs(&r->fields[i], c, c->names[j]))
				return i;
	return -1;
}

/* Whether the header holds every column of some alternative (true when there are none). */
static bool
AlternativeFound(const CsvColumn *columns, int n, const CsvHeader *h)
{
	bool		any = false;
	int			a, i;

	for (a = 1; a <= n; a++)
	{
		bool		member = false, all = true;

		for (i = 0; i < n; i++)
			if (columns[i].alt == a)
			{
				member = true;
				all = all && h->col[i] >= 0;
			}
		if (member && all)
			return true;
		any = any || member;
	}
	return !any;
}

/* The alternatives for an error: "a or b and c" (alternatives by " or ", members by " and "). */
static void
AlternativesLabel(const CsvColumn *columns, int n, char *buf, size_t size)
{
	size_t		used = 0;
	int			a, i;

	buf[0] = '\0';
	for (a = 1; a <= n; a++)
	{
		bool		first = true;

		for (i = 0; i < n && used < size; i++)
			if (columns[i].alt == a)
			{
				used += snprintf(buf + used, size - used, "%s%s",
								 first ? (used > 0 ? " or " : "") : " and ", columns[i].label);
				first = false;
			}
	}
}

/*
 * Find every column of columns[0..n) in the header record of r: h->col[i]
 * is the field index of columns[i] or -1, and h->needed how many fields a
 * record must hold.  False with err set when a required column, or every
 * alternative, is missing.
 */
bool
ColResolve(const CsvReader *r, const CsvColumn *columns, int n, CsvHeader *h, ParseError *err)
{
	char		alternatives[64];
	int			i;

	h->needed = 0;
	for (i = 0; i < COL_MAX_COLUMNS; i++)
		h->col[i] = i < n ? FindColumn(r, &columns[i]) : -1;
	for (i = 0; i < n; i++)
		if ((columns[i].flags & COL_REQUIRED) && h->col[i] < 0)
			return ColMissing(err, r, columns[i].label);
	if (!AlternativeFound(columns, n, h))
	{
		AlternativesLabel(columns, n, alternatives, sizeof(alternatives));
		return ColMissing(err, r, alternatives);
	}
	for (i = 0; i < n; i++)
		if (!(columns[i].flags & COL_SHORT_OK))
			ColNeed(h, h->col[i]);
	return true;
}

/* Start reading buf and resolve its header against columns[0..n) (ColResolve). */
bool
ColOpen(CsvReader *r, char *buf, size_t len, const CsvColumn *columns, int n,
		CsvHeader *h, ParseError *err)
{
	CsvInit(r, buf, len);
	return ColReadHeader(r, err) && ColResolve(r, columns, n, h, err);
}

/* Records must also hold field col (ignored when negative). */
void
ColNeed(CsvHeader *h, int col)
{
	if (col + 1 > h->needed)
		h->needed = col + 1;
}

/* Check that the record holds every needed field; trailing empty fields may be left out. */
bool
ColRecordComplete(const CsvReader *r, const CsvHeader *h, ParseError *err)
{
	if (h->needed <= r->nfields)
		return true;
	ParseErrorSet(err, r->line, "", "", 0,
				  "expected at least %d fields, found %d", h->needed, r->nfields);
	err->bad_format = true;
	return false;
}

/* A non-empty text field. */
bool
ColText(const CsvReader *r, int col, const char *name, ParseError *err)
{
	if (r->fields[col].len > 0)
		return true;
	ParseErrorSet(err, r->line, name, "", 0, "empty value");
	return false;
}

/* A count field: non-negative whole number (maybe written 123.0), below 2^31. */
bool
ColCount(const CsvReader *r, int col, const char *name, int64_t *out, ParseError *err)
{
	const CsvField *f = &r->fields[col];

	if (!ParseCount(f->s, f->len, out) || *out > INT32_MAX)
	{
		ParseErrorSet(err, r->line, name, f->s, f->len,
					  "not a non-negative whole number");
		return false;
	}
	return true;
}

/* Passengers (boardings + alightings) are an int4 column too: the sum must fit. */
bool
ColPassengersFit(int64_t on, int64_t off, long line, const char *name,
				 const char *value, size_t valuelen, ParseError *err)
{
	if (on + off <= INT32_MAX)
		return true;
	ParseErrorSet(err, line, name, value, valuelen,
				  "boardings + alightings exceed %d", INT32_MAX);
	return false;
}

/* A date field (YYYYMMDD or YYYY-MM-DD). */
bool
ColDate(const CsvReader *r, int col, const char *name, int32_t *out, ParseError *err)
{
	const CsvField *f = &r->fields[col];

	if (!ParseYmd(f->s, f->len, out))
	{
		ParseErrorSet(err, r->line, name, f->s, f->len, "not a valid date");
		return false;
	}
	return true;
}

/* An optional registration date: absent or empty gives INT32_MIN. */
bool
ColOptDate(const CsvReader *r, int col, const char *name, int32_t *out, ParseError *err)
{
	*out = INT32_MIN;
	if (col < 0 || col >= r->nfields || r->fields[col].len == 0)
		return true;
	return ColDate(r, col, name, out, err);
}

/* Report a value outside rg (" in row N" added when row > 0); returns false. */
bool
ColOutOfRange(ParseError *err, long line, const char *name, const char *value,
			  size_t valuelen, const ValueRange *rg, long row)
{
	char		where[32] = "";

	if (row > 0)
		snprintf(where, sizeof(where), " in row %ld", row);
	if (isinf(rg->hi))
		ParseErrorSet(err, line, name, value, valuelen,
					  "expected a number of at least %g%s", rg->lo, where);
	else
		ParseErrorSet(err, line, name, value, valuelen,
					  "expected a number between %g and %g%s", rg->lo, rg->hi, where);
	return false;
}

/* An optional decimal within rg: absent gives NaN, empty gives `empty`. */
bool
ColOptDecimal(const CsvReader *r, int col, const char *name, double empty,
			  const ValueRange *rg, double *out, ParseError *err)
{
	const CsvField *f;

	*out = NAN;
	if (col < 0 || col >= r->nfields)
		return true;
	f = &r->fields[col];
	if (f->len == 0)
	{
		*out = empty;
		return true;
	}
	if (!ParseDecimal(f->s, f->len, out))
	{
		ParseErrorSet(err, r->line, name, f->s, f->len, "not a number");
		return false;
	}
	if (*out < rg->lo || *out > rg->hi)
		return ColOutOfRange(err, r->line, name, f->s, f->len, rg, 0);
	return true;
}
