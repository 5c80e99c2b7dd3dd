/*
 * versions.h — what the files of data versioning share (src/ops: stamp.c,
 * content*.c, snapshot.c, diff.c, lineage.c): the content of a snapshot
 * scope, its canonical serialization and digests, and the scope itself.
 *
 * The content of a scope (station or every station, from_date, to_date) is,
 * per versioned table, the columns training reads (ContentTables), of the
 * rows of the months the loaders can reach for that range (the scope's
 * lower day minus VERSION_LOOKBACK_DAYS, its upper day plus the table's
 * reach), as of an instant.  Rows are cut into chunks: a station's rows of
 * one month of the first key column (KST).  A chunk's digest is SHA-256 of
 * its rows' serializations sorted bytewise; the content hash is SHA-256 of
 * every chunk's identity, row count and digest (README "Data versioning").
 */
#ifndef SEONGSU_VERSIONS_H
#define SEONGSU_VERSIONS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

#include "../features/asof.h"

/* Training reads up to 400 + 365 + 56 days before its first day, and holidays 41 more. */
#define VERSION_LOOKBACK_DAYS 862

#define VERSION_DIGEST_LEN 32

#define CONTENT_MAX_COLS 6

/* How a content column is serialized. */
typedef enum ContentKind
{
	CK_DATE,					/* int32 days since 2000-01-01, big-endian */
	CK_TSTZ,					/* int64 microseconds since 2000-01-01 00:00 UTC, big-endian */
	CK_INT2,					/* int16 big-endian */
	CK_INT4,					/* int32 big-endian */
	CK_INT8,					/* int64 big-endian */
	CK_F8,						/* IEEE 754 bits big-endian, -0 as 0, one NaN */
	CK_TEXT,					/* uint32 big-endian byte length, then the UTF-8 bytes */
	CK_BOOL						/* one byte, 0 or 1 */
} ContentKind;

/* What training reads of one versioned table. */
typedef struct ContentTable
{
	VersionTable vt;
	bool		per_station;	/* rows belong to a station (station_id) */
	int			ncols;			/* content columns, the key ones first */
	int			nkey;
	const char *cols[CONTENT_MAX_COLS];
	ContentKind kinds[CONTENT_MAX_COLS];
	const char *filter;			/* a condition on the rows, or NULL */
	bool		from_lo;		/* starts at the scope's lower day (else: at the first row) */
	int			hi_days;		/* reaches this many days after the scope's upper day; -1: every row */
} ContentTable;

extern const ContentTable ContentTables[VT_NTABLES];

/* One chunk: a month of a station's (or a table's) rows. */
typedef struct Chunk
{
	int32		month;			/* year * 12 + month - 1 */
	int64		rows;
	uint8		digest[VERSION_DIGEST_LEN];
} Chunk;

/* The chunks of one station of one table, ascending by month. */
typedef struct ChunkList
{
	int32		station_id;		/* 0 for tables without stations */
	int			n;
	Chunk	   *chunks;
} ChunkList;

/* A chunk's rows, serialized and sorted bytewise (for diff). */
typedef struct ChunkRows
{
	int32		month;
	int			n;
	char	   *data;
	uint32	   *off;
	uint32	   *len;
} ChunkRows;

/* What a snapshot covers, with its stations in canonical order (line, then name, bytewise). */
typedef struct Scope
{
	char	   *station;		/* NULL: every station */
	char	   *line;			/* NULL: every line */
	bool		has_from;
	bool		has_to;
	int32		from;
	int32		to;
	int			nstations;
	int32	   *station_ids;
	char	  **lines;
	char	  **names;
} Scope;

/* content.c, content_codec.c, content_read.c, content_cache.c */
extern void ContentMonths(const ContentTable *t, const Scope *s, int32 *lo, int32 *hi);
extern int32 ContentMonthOf(const ContentTable *t, Datum key0);
extern void ContentKeyRange(const ContentTable *t, const Scope *s, Datum *lo, Datum *hi);
extern ChunkList *ContentChunks(const ContentTable *t, const Scope *s, TimestampTz as_of, bool cached,
								List **cache_rows);
extern ChunkRows *ContentChunkRows(const ContentTable *t, int32 station_id, int32 month, TimestampTz as_of,
								   int *nchunks);
extern void ContentHash(const Scope *s, TimestampTz as_of, bool cached, char *hex, StringInfo row_counts,
						int64 *daily_rows, List **cache_rows);
extern void ContentCacheWrite(List *cache_rows, TimestampTz as_of);
extern void ContentDecodeRow(const ContentTable *t, const char *row, uint32 len, const Scope *s, int32 station_id,
							 StringInfo key, StringInfo json);
extern int	ContentKeyCompare(const ContentTable *t, const char *a, uint32 alen, const char *b, uint32 blen);

/* snapshot.c */
extern void ScopeResolve(Scope *s);
extern void ScopeOfSnapshot(int64 id, Scope *s, TimestampTz *as_of, char **hash);
extern Oid	VersionOwner(void);
extern void VersionExecAsOwner(Oid owner, const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect);

#endif							/* SEONGSU_VERSIONS_H */
