/*
 * holidays.c — load the holidays table into a HolidaySet (SPI).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/date.h"

#include "holidays.h"

/* The holidays of [from, to] (PostgreSQL dates), allocated in the current context. */
HolidaySet *
HolidaySetLoad(int32 from, int32 to)
{
	MemoryContext cxt = CurrentMemoryContext;
	HolidaySet *hs = palloc0(sizeof(HolidaySet));
	Oid			types[2] = {DATEOID, DATEOID};
	Datum		v[2];
	uint64		i;
	int			rc;

	v[0] = DateADTGetDatum(from);
	v[1] = DateADTGetDatum(to);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args(
							   "SELECT day, "
							   "(bool_or(is_holiday)::int * 1) | (bool_or(kind = 'substitute')::int * 2) | "
							   "(bool_or(kind = 'temporary')::int * 4) | (bool_or(kind = 'election')::int * 8) | "
							   "(bool_or(name LIKE '%설날%')::int * 16) | (bool_or(name LIKE '%추석%')::int * 32), "
							   "string_agg(name, ', ' ORDER BY name) "
							   "FROM seongsu.holidays WHERE day BETWEEN $1 AND $2 GROUP BY day ORDER BY day",
							   2, types, v, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read seongsu.holidays: %s", SPI_result_code_string(rc));
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		hs->n = (int) SPI_processed;
		hs->days = palloc(sizeof(int32) * (hs->n + 1));
		hs->flags = palloc(sizeof(uint8) * (hs->n + 1));
		hs->names = palloc(sizeof(char *) * (hs->n + 1));
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	t = SPI_tuptable->vals[i];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		isnull;

			hs->days[i] = DatumGetDateADT(SPI_getbinval(t, d, 1, &isnull));
			hs->flags[i] = (uint8) DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
			hs->names[i] = SPI_getvalue(t, d, 3);
		}
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return hs;
}
