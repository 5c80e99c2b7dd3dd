/*
 * window.c — time-aware window functions for users' own SQL:
 *
 *   time_lag(value, ts, lag)  OVER (PARTITION BY … ORDER BY ts)
 *       the value of the row whose ts is exactly ts - lag; NULL when no row
 *       has that ts (a gap), never the value of a neighbouring row.
 *   time_avg(value, ts, from_offset, to_offset)  OVER (PARTITION BY … ORDER BY ts)
 *       the mean of the non-NULL values whose ts lies in
 *       [ts - from_offset, ts - to_offset]; NULL when there is none.
 *
 * Both read the whole partition once (the frame clause is ignored) and
 * answer each row by binary search, so a partition of n rows costs
 * O(n log n).  Offsets may not use months (their length varies) and look
 * back only: a negative lag or to_offset, which would read later rows,
 * is an error, as is from_offset < to_offset.  ts must be finite.
 */
#include "postgres.h"

#include "common/int.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "windowapi.h"

PG_FUNCTION_INFO_V1(time_lag);
PG_FUNCTION_INFO_V1(time_avg);

/* The partition, read once: sorted instants, values and prefix sums. */
typedef struct PartitionSeries
{
	bool		loaded;
	int64		n;
	TimestampTz *ts;
	double	   *value;
	bool	   *isnull;
	double	   *prefix_sum;		/* sum of non-NULL values of rows [0, i) */
	int64	   *prefix_cnt;
} PartitionSeries;

/* Microseconds of an interval argument (at least 0: it looks back), or ERROR. */
static int64
OffsetUsecs(Interval *iv, const char *fn, const char *what)
{
	int64		us;

	if (iv->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: %s must not use months or years", fn, what),
				 errhint("Months have different lengths; write the offset in days, e.g. '364 days'.")));
	if (pg_mul_s64_overflow((int64) iv->day, USECS_PER_DAY, &us) ||
		pg_add_s64_overflow(us, iv->time, &us))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s: %s is out of range", fn, what)));
	if (us < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: %s must not be negative", fn, what),
				 errdetail("A negative offset would read rows after the current one (the future)."),
				 errhint("Offsets count back from ts, e.g. '7 days'.")));
	return us;
}

/* t - back (back >= 0), or PG_INT64_MIN when that is before every timestamp. */
static inline TimestampTz
Back(TimestampTz t, int64 back)
{
	TimestampTz r;

	return pg_sub_s64_overflow(t, back, &r) ? PG_INT64_MIN : r;
}

/* Read the partition's (ts, value) pairs, checking they are ordered by ts. */
static PartitionSeries *
LoadPartition(WindowObject winobj, const char *fn)
{
	PartitionSeries *p = WinGetPartitionLocalMemory(winobj, sizeof(PartitionSeries));
	MemoryContext cxt;
	int64		i;

	if (p->loaded)
		return p;
	cxt = GetMemoryChunkContext(p);
	p->n = WinGetPartitionRowCount(winobj);
	p->ts = MemoryContextAllocHuge(cxt, sizeof(TimestampTz) * (p->n + 1));
	p->value = MemoryContextAllocHuge(cxt, sizeof(double) * (p->n + 1));
	p->isnull = MemoryContextAllocHuge(cxt, sizeof(bool) * (p->n + 1));
	p->prefix_sum = MemoryContextAllocHuge(cxt, sizeof(double) * (p->n + 1));
	p->prefix_cnt = MemoryContextAllocHuge(cxt, sizeof(int64) * (p->n + 1));
	p->prefix_sum[0] = 0;
	p->prefix_cnt[0] = 0;
	for (i = 0; i < p->n; i++)
	{
		bool		tsnull, isout;
		Datum		t = WinGetFuncArgInPartition(winobj, 1, i, WINDOW_SEEK_HEAD, false, &tsnull, &isout);
		Datum		v = WinGetFuncArgInPartition(winobj, 0, i, WINDOW_SEEK_HEAD, false, &p->isnull[i], &isout);

		CHECK_FOR_INTERRUPTS();
		if (tsnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s: ts must not be NULL", fn)));
		p->ts[i] = DatumGetTimestampTz(t);
		if (TIMESTAMP_NOT_FINITE(p->ts[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("%s: ts must be finite", fn)));
		if (i > 0 && p->ts[i] < p->ts[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: rows are not ordered by ts", fn),
					 errhint("Call it as %s(...) OVER (PARTITION BY ... ORDER BY ts).", fn)));
		p->value[i] = p->isnull[i] ? 0.0 : DatumGetFloat8(v);
		p->prefix_sum[i + 1] = p->prefix_sum[i] + p->value[i];
		p->prefix_cnt[i + 1] = p->prefix_cnt[i] + (p->isnull[i] ? 0 : 1);
	}
	p->loaded = true;
	return p;
}

/* First row index whose ts >= t (n when none). */
static int64
LowerBound(const PartitionSeries *p, TimestampTz t)
{
	int64		lo = 0, hi = p->n;

	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (p->ts[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* time_lag(value float8, ts timestamptz, lag interval) */
Datum
time_lag(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	PartitionSeries *p = LoadPartition(winobj, "time_lag");
	int64		cur = WinGetCurrentPosition(winobj);
	bool		isnull;
	Interval   *lag;
	TimestampTz want;
	int64		i;

	lag = DatumGetIntervalP(WinGetFuncArgCurrent(winobj, 2, &isnull));
	if (isnull)
		PG_RETURN_NULL();
	want = Back(p->ts[cur], OffsetUsecs(lag, "time_lag", "lag"));
	i = LowerBound(p, want);
	if (i >= p->n || p->ts[i] != want || p->isnull[i])
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(p->value[i]);
}

/* time_avg(value float8, ts timestamptz, from_offset interval, to_offset interval) */
Datum
time_avg(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	PartitionSeries *p = LoadPartition(winobj, "time_avg");
	int64		cur = WinGetCurrentPosition(winobj);
	bool		n1, n2;
	Interval   *from = DatumGetIntervalP(WinGetFuncArgCurrent(winobj, 2, &n1));
	Interval   *to = DatumGetIntervalP(WinGetFuncArgCurrent(winobj, 3, &n2));
	int64		fu, tu, lo, hi, cnt;

	if (n1 || n2)
		PG_RETURN_NULL();
	fu = OffsetUsecs(from, "time_avg", "from_offset");
	tu = OffsetUsecs(to, "time_avg", "to_offset");
	if (fu < tu)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time_avg: from_offset must be at least to_offset"),
				 errhint("The window is [ts - from_offset, ts - to_offset], e.g. ('28 days', '1 day').")));
	lo = LowerBound(p, Back(p->ts[cur], fu));
	hi = LowerBound(p, Back(p->ts[cur], tu) + 1);	/* rows with ts <= ts - to_offset */
	cnt = hi > lo ? p->prefix_cnt[hi] - p->prefix_cnt[lo] : 0;
	if (cnt == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8((p->prefix_sum[hi] - p->prefix_sum[lo]) / (double) cnt);
}
