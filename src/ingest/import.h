/*
 * import.h — the import kinds of seongsu.import_text / import_file.
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
	const char *hint;			/* the expected layout, for error hints */
} ImportKind;

extern const ImportKind *ImportKindLookup(const char *name);
extern const char *ImportKindNames(void);

#endif							/* SEONGSU_IMPORT_H */
