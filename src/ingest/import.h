/*
 * import.h — the import kinds of seongsu.import_text / import_file
 * (import_kinds.c) and their parsers (import_csv.c, import_weather.c).
 */
#ifndef SEONGSU_IMPORT_H
#define SEONGSU_IMPORT_H

#include "rows.h"
#include "parsers.h"

/* Parse a whole input into rs; false with err set on the first problem. */
typedef bool (*ImportParseFn) (char *buf, size_t len, RowSet *rs, ParseError *err);

/* One import kind: its name, the table it fills and its parser. */
typedef struct ImportKind
{
	const char *name;
	RowKind		rowkind;
	const char *source;			/* default source label */
	ImportParseFn parse;
	const char *description;	/* what it imports, for seongsu.import_kinds() */
	const char *hint;			/* the expected layout, for error hints */
} ImportKind;

extern const ImportKind ImportKinds[];
extern const ImportKind *ImportKindLookup(const char *name);

/* The parsers: ridership and congestion CSV files (import_csv.c) ... */
extern bool ImportDailyCsv(char *buf, size_t len, RowSet *rs, ParseError *err);
extern bool ImportCardSubwayTimeCsv(char *buf, size_t len, RowSet *rs, ParseError *err);
extern bool ImportSeoulMetroHourlyCsv(char *buf, size_t len, RowSet *rs, ParseError *err);
extern bool ImportHourlyCsv(char *buf, size_t len, RowSet *rs, ParseError *err);
extern bool ImportCongestionCsv(char *buf, size_t len, RowSet *rs, ParseError *err);

/* ... and weather and holiday files (import_weather.c). */
extern bool ImportKmaDailyCsv(char *buf, size_t len, RowSet *rs, ParseError *err);
extern bool ImportKmaAsosCsv(char *buf, size_t len, RowSet *rs, ParseError *err);
extern bool ImportOpenMeteoDaily(char *buf, size_t len, RowSet *rs, ParseError *err);
extern bool ImportKasiJson(char *buf, size_t len, RowSet *rs, ParseError *err);

#endif							/* SEONGSU_IMPORT_H */
