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

extern void DayMemoRequest(void);
extern void DayMemoStartup(void);
extern uint64 DayMemoEpoch(void);
extern bool DayMemoGet(const char *station, const char *line, int32 day, uint64 epoch, DayAnswer *out);
extern void DayMemoPut(const char *station, const char *line, int32 day, uint64 epoch, const DayAnswer *answer);

struct StationSnap;
extern uint64 StationMemoEpoch(void);
extern bool StationMemoGet(const char *station, const char *line, uint64 epoch, struct StationSnap *out);
extern void StationMemoPut(const char *station, const char *line, uint64 epoch, const struct StationSnap *snap);

#endif							/* SEONGSU_DAY_MEMO_H */
