/*
 * csv_columns.h — the columns of a published CSV file, declared once per
 * import kind as a table, and the typed reading of its records.  Pure C
 * (import_csv.c and import_weather.c use it; so do the fuzz harnesses).
 *
 * Each kind lists its columns: the label its errors use, the header names
 * it is known by (exact cells, or cell prefixes), whether the header must
 * have it, and whether a record may end before it.  ColOpen reads the
 * header, finds every column and reports the first missing one as "header
 * has no <label> column"; the record reads below report a bad value with
 * its line, column and value.
 */
#ifndef SEONGSU_CSV_COLUMNS_H
#define SEONGSU_CSV_COLUMNS_H

#include "csv.h"
#include "rows.h"

/* Header names one column may have (the first one found wins). */
#define COL_MAX_NAMES 5

/* Columns one kind may declare. */
#define COL_MAX_COLUMNS 8

/* Column flags. */
#define COL_REQUIRED	0x01	/* the header must have it */
#define COL_PREFIX		0x02	/* names are prefixes of the header cell */
#define COL_SHORT_OK	0x04	/* a record may end before it (its value is then empty) */

/* One column of a kind's CSV layout. */
typedef struct CsvColumn
{
	const char *label;			/* its name in "header has no <label> column" */
	const char *names[COL_MAX_NAMES];	/* header names; unused entries NULL */
	int			flags;			/* COL_* */
	const char *unless;			/* with COL_PREFIX: a cell containing this is not the column */
	int			alt;			/* > 0: member of alternative alt (see below) */
} CsvColumn;

/*
 * Alternatives: when some columns of a kind have alt > 0, the header must
 * hold every column of at least one alternative (e.g. passengers, or else
 * boardings and alightings); otherwise the error names them all,
 * alternatives joined by " or ", members of one by " and ".  They are
 * checked after the required columns.
 */

/* Where each column of a layout was found, and how many fields a record must hold. */
typedef struct CsvHeader
{
	int			col[COL_MAX_COLUMNS];	/* field index, -1 when absent */
	int			needed;			/* largest index of a present column without COL_SHORT_OK, plus one */
} CsvHeader;

/* The values a measurement column accepts (the CHECKs of 10_tables.sql). */
typedef struct ValueRange
{
	double		lo;
	double		hi;
} ValueRange;

extern const ValueRange RANGE_ANY;
extern const ValueRange RANGE_TEMP;	/* °C */
extern const ValueRange RANGE_AMOUNT;	/* mm, cm, m/s */
extern const ValueRange RANGE_PCT;	/* relative humidity */

extern bool ColOpen(CsvReader *r, char *buf, size_t len, const CsvColumn *columns, int n,
					CsvHeader *h, ParseError *err);
extern bool ColReadHeader(CsvReader *r, ParseError *err);
extern bool ColResolve(const CsvReader *r, const CsvColumn *columns, int n, CsvHeader *h,
					   ParseError *err);
extern bool ColMissing(ParseError *err, const CsvReader *r, const char *what);
extern bool ColNextRecord(CsvReader *r, ParseError *err);
extern void ColNeed(CsvHeader *h, int col);
extern bool ColRecordComplete(const CsvReader *r, const CsvHeader *h, ParseError *err);

extern bool ColText(const CsvReader *r, int col, const char *name, ParseError *err);
extern bool ColCount(const CsvReader *r, int col, const char *name, int64_t *out, ParseError *err);
extern bool ColPassengersFit(int64_t on, int64_t off, long line, const char *name,
							 const char *value, size_t valuelen, ParseError *err);
extern bool ColDate(const CsvReader *r, int col, const char *name, int32_t *out, ParseError *err);
extern bool ColOptDate(const CsvReader *r, int col, const char *name, int32_t *out,
					   ParseError *err);
extern bool ColOptDecimal(const CsvReader *r, int col, const char *name, double empty,
						  const ValueRange *rg, double *out, ParseError *err);
extern bool ColOutOfRange(ParseError *err, long line, const char *name, const char *value,
						  size_t valuelen, const ValueRange *rg, long row);

#endif							/* SEONGSU_CSV_COLUMNS_H */
