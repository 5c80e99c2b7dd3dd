/*
 * csv.h — a small RFC 4180 reader over a mutable byte buffer, in pure C.
 *
 * Quoted fields may hold commas, newlines and doubled quotes; quotes are
 * removed in place.  A UTF-8 byte-order mark at the start is skipped, CRLF
 * and LF both end a record, and blank lines are skipped.
 */
#ifndef SEONGSU_CSV_H
#define SEONGSU_CSV_H

#include <stdbool.h>
#include <stddef.h>

#define CSV_MAX_FIELDS 128

/* One field of the current record. */
typedef struct CsvField
{
	const char *s;
	size_t		len;
} CsvField;

/* Reader state: the buffer, the position and the current record. */
typedef struct CsvReader
{
	char	   *buf;
	size_t		len;
	size_t		pos;
	long		line;			/* 1-based line where the current record starts */
	long		next_line;
	int			nfields;
	CsvField	fields[CSV_MAX_FIELDS];
	bool		too_many;		/* the record had more than CSV_MAX_FIELDS fields */
	bool		bad_quote;		/* an unterminated quoted field */
} CsvReader;

extern void CsvInit(CsvReader *r, char *buf, size_t len);
extern bool CsvNext(CsvReader *r);
extern bool CsvFieldIs(const CsvField *f, const char *s);
extern bool CsvFieldStarts(const CsvField *f, const char *prefix);
extern bool CsvFieldContains(const CsvField *f, const char *needle);

#endif							/* SEONGSU_CSV_H */
