/*
 * holidays.c — load the holidays table into a HolidaySet (SPI).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/date.h"

#include "../safe_spi.h"
#include "asof.h"
#include "holidays.h"

static SPIPlanPtr plan = NULL;	/* of HolidaySetLoad */
static const VersionTable holidays_table[1] = {VT_HOLIDAYS};

/* The CAL_* flags one row of the holidays table gives its day. */
static uint8
RowFlags(bool is_holiday, const char *kind, const char *name)
{
	return (is_holiday ? CAL_HOLIDAY : 0) |
		(strcmp(kind, "substitute") == 0 ? CAL_SUBSTITUTE : 0) |
		(strcmp(kind, "temporary") == 0 ? CAL_TEMPORARY : 0) |
		(strcmp(kind, "election") == 0 ? CAL_ELECTION : 0) |
		(strstr(name, "설날") ? CAL_SEOLLAL : 0) |
		(strstr(name, "추석") ? CAL_CHUSEOK : 0);
}

/*
 * The holidays of [from, to] (PostgreSQL dates), allocated in the current
 * context: per day, the flags of all its rows, their names joined by
 * ", " in name order, and the holiday's identity (CalendarAssignIds).
 */
HolidaySet *
HolidaySetLoad(int32 from, int32 to)
{
	MemoryContext cxt = CurrentMemoryContext;
	HolidaySet *hs = palloc0(sizeof(HolidaySet));
	Oid			types[2] = {DATEOID, DATEOID};
	Datum		v[2];
	uint64		i;
	int			rc;
	int			spi;

	v[0] = DateADTGetDatum(from);
	v[1] = DateADTGetDatum(to);
	spi = SsSpiConnect();
	rc = SPI_execute_plan(VersionPlan(&plan, "SELECT day, is_holiday, kind, name FROM (%s) AS h "
									  "WHERE day OPERATOR(pg_catalog.>=) $1 AND day OPERATOR(pg_catalog.<=) $2 "
									  "ORDER BY day, name", 1, holidays_table, 2, types),
						  v, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.holidays: %s", SPI_result_code_string(rc));
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);
		StringInfoData names;

		hs->days = palloc(sizeof(int32) * (SPI_processed + 1));
		hs->flags = palloc(sizeof(uint8) * (SPI_processed + 1));
		hs->names = palloc(sizeof(char *) * (SPI_processed + 1));
		hs->ids = palloc(sizeof(int8) * (SPI_processed + 1));
		initStringInfo(&names);
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	t = SPI_tuptable->vals[i];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		isnull;
			int32		day = DatumGetDateADT(SPI_getbinval(t, d, 1, &isnull));
			bool		is_holiday = DatumGetBool(SPI_getbinval(t, d, 2, &isnull));
			char	   *kind = SPI_getvalue(t, d, 3);
			char	   *name = SPI_getvalue(t, d, 4);

			if (hs->n == 0 || hs->days[hs->n - 1] != day)
			{
				if (hs->n > 0)
					hs->names[hs->n - 1] = pstrdup(names.data);
				resetStringInfo(&names);
				hs->days[hs->n] = day;
				hs->flags[hs->n] = 0;
				hs->n++;
			}
			hs->flags[hs->n - 1] |= RowFlags(is_holiday, kind, name);
			appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "", name);
			pfree(kind);
			pfree(name);
		}
		if (hs->n > 0)
			hs->names[hs->n - 1] = pstrdup(names.data);
		pfree(names.data);
		CalendarAssignIds(hs);
		MemoryContextSwitchTo(old);
	}
	SsSpiFinish(spi);
	return hs;
}
