/*
 * day_memo.h — shared-memory memo of single-day prediction answers and of
 * each station's lookups.
 */
#ifndef SEONGSU_DAY_MEMO_H
#define SEONGSU_DAY_MEMO_H

#include "postgres.h"

/* What a one-day prediction needs to answer any hour of that day. */
typedef struct DayAnswer
{
	double		value;			/* the daily prediction (NaN: unknown) */
	int64		model_id;
	bool		has_shares;
	double		shares[24];		/* the hour shares of the day's type */
	bool		has_levels;
	double		levels[3];
} DayAnswer;

/* What a prediction for a station looks up first. */
#define STATION_MEMO_MODELS 8
typedef struct StationLookups
{
	int32		station_id;
	int			nmodels;
	int64		model_ids[STATION_MEMO_MODELS];	/* deployed daily models by horizon */
} StationLookups;

extern void DayMemoRequest(void);
extern void DayMemoStartup(void);
extern bool DayMemoGet(Oid incarnation, const char *station, const char *line, int32 day,
					   uint64 gen, DayAnswer *out);
extern void DayMemoPut(Oid incarnation, const char *station, const char *line, int32 day,
					   uint64 gen, const DayAnswer *answer);
extern bool StationMemoGet(Oid incarnation, const char *station, const char *line, uint64 gen,
						   StationLookups *out);
extern void StationMemoPut(Oid incarnation, const char *station, const char *line, uint64 gen,
						   const StationLookups *in);

#endif							/* SEONGSU_DAY_MEMO_H */
