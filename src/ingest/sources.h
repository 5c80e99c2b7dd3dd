/*
 * sources.h — the ingestion sources: how a job's date range and options
 * become requests (URLs, with and without the API key) and how a response
 * is parsed.  Option values are checked against their documented forms and
 * percent-encoded before they reach a URL.
 */
#ifndef SEONGSU_SOURCES_H
#define SEONGSU_SOURCES_H

#include "postgres.h"

#include "parsers.h"
#include "rows.h"

/* The ingestion sources enqueue accepts. */
typedef enum SourceId
{
	SRC_SEOUL_DAILY,
	SRC_SEOUL_HOUR_PROFILE,
	SRC_KMA_ASOS_HOURLY,
	SRC_KMA_FORECAST,
	SRC_KASI_HOLIDAYS,
	SRC_OPENMETEO_DAILY,
	SRC_OPENMETEO_FORECAST
} SourceId;

/* Pages one request (a day, month or chunk) may take before its job fails. */
#define SOURCE_MAX_PAGES 100

/* One request of a job: a page of one day, month or chunk. */
typedef struct FetchUnit
{
	SourceId	source;
	int32		first;			/* first day (PostgreSQL date) the request covers */
	int32		last;			/* last day */
	int			page;			/* Seoul: start index; data.go.kr: pageNo */
	int			page_size;
	char	   *url;			/* with the key: never logged or stored */
	char	   *redacted;		/* with every key replaced by *** */
} FetchUnit;

extern bool SourceLookup(const char *name, SourceId *id);
extern char *SourceNames(bool keyless_only);
extern const char *SourceName(SourceId id);
extern RowKind SourceRowKind(SourceId id);
extern const char *SourceRowsLabel(SourceId id);
extern void SourceCheckKeys(SourceId id);
extern void SourceCheckOptions(SourceId id, Jsonb *options);
extern List *SourceUnits(SourceId id, int32 from, int32 to, Jsonb *options);
extern FetchUnit *SourceNextPage(const FetchUnit *u, long total_count, long page_rows,
								 Jsonb *options, bool *capped);
extern ApiOutcome SourceParse(const FetchUnit *u, const char *body, size_t len,
							  TimestampTz fetched_at, RowSet *rs, ParseError *err);

#endif							/* SEONGSU_SOURCES_H */
