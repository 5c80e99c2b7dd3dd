/*
 * weather.c — the weather of every day of a feature range: observed (per
 * column, the KMA sources' value, else Open-Meteo's), else the latest
 * forecast, else the climatology of the day of year (±7 days, over every
 * stored year; its sums come from climatology.c).
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/timestamp.h"

#include "../kst.h"
#include "asof.h"
#include "climatology.h"
#include "features.h"

static SPIPlanPtr weather_plan = NULL;	/* of FeatureWeatherLoad */
static const VersionTable weather_tables[2] = {VT_WEATHER_DAILY, VT_WEATHER_FORECAST};

/* Per-day maxima of one source group's observations (has_*: any non-NULL value). */
typedef struct WeatherMax
{
	double		temp;
	double		precip;
	double		snow;
	bool		has_temp;
	bool		has_precip;
	bool		has_snow;
} WeatherMax;

/* Raise *m to x unless x is NULL, ordering NaN above every number as SQL's max() does. */
static inline void
MaxInto(double *m, bool *has, bool isnull, Datum x)
{
	double		v;

	if (isnull)
		return;
	v = DatumGetFloat8(x);
	if (!*has || isnan(v) || (!isnan(*m) && v > *m))
		*m = v;
	*has = true;
}

/* SQL's coalesce of two maxima: a when it has a value, else b (NaN when neither has). */
static inline double
Coalesce(double a, bool has_a, double b, bool has_b)
{
	return has_a ? a : has_b ? b : NAN;
}

/* The query of FeatureWeatherLoad: observations (all, or of a range), then the forecasts of the range. */
#define WEATHER_OBSERVED "SELECT day OPERATOR(pg_catalog.-) '2000-01-01'::pg_catalog.date, source, temp_mean_c, " \
	"precip_mm, snow_cm, NULL::pg_catalog.timestamptz FROM (%s) AS w "
#define WEATHER_FORECAST "UNION ALL SELECT * FROM (SELECT DISTINCT ON (target) NULL::pg_catalog.int4, " \
	"NULL::pg_catalog.text, temp_c, precip_mm, snow_cm, target FROM (%s) AS fc " \
	"WHERE grain OPERATOR(pg_catalog.=) 'day' AND target OPERATOR(pg_catalog.>=) $1 " \
	"AND target OPERATOR(pg_catalog.<) $2 ORDER BY target, issued_at DESC, source COLLATE pg_catalog.\"C\") f"

/*
 * Weather of every day in [first, last]: observed (per column, the KMA
 * sources' value, else Open-Meteo's), else the latest forecast, else the
 * climatology of the day of year (±7 days, over every stored year; its
 * sums come from climatology.c).  One query reads the range's observations
 * and forecasts; the rest is done here (KST days of the forecasts' targets
 * too: no time zone is loaded).
 */
Weather *
FeatureWeatherLoad(int32 first, int32 last, MemoryContext cxt)
{
	int			n = last - first + 1;
	Weather    *w = MemoryContextAllocZero(cxt, sizeof(Weather) * n);
	WeatherMax *kma = palloc(sizeof(WeatherMax) * n), *om = palloc(sizeof(WeatherMax) * n);
	Weather    *fc = palloc(sizeof(Weather) * n);	/* the forecast of each day */
	const Climate *clim = ClimateSums();
	double		clim_t[367], clim_p[367];
	const double *sum_t = clim->sum_t, *sum_p = clim->sum_p;
	const int  *n_t = clim->n_t, *n_p = clim->n_p;
	Oid			types[4] = {TIMESTAMPTZOID, TIMESTAMPTZOID, DATEOID, DATEOID};
	Datum		v[4];
	uint64		i;
	int			d;

	for (d = 0; d < n; d++)
	{
		CHECK_FOR_INTERRUPTS();
		w[d].temp = w[d].precip = w[d].snow = NAN;
		w[d].source = NULL;
		fc[d].source = NULL;
		memset(&kma[d], 0, sizeof(WeatherMax));
		om[d] = kma[d];
	}
	v[0] = TimestampTzGetDatum(KstInstant(first, 0));
	v[1] = TimestampTzGetDatum(KstInstant(last + 1, 0));
	v[2] = DateADTGetDatum(first);
	v[3] = DateADTGetDatum(last);
	if (SPI_execute_plan(VersionPlan(&weather_plan, WEATHER_OBSERVED "WHERE day OPERATOR(pg_catalog.>=) $3 "
									 "AND day OPERATOR(pg_catalog.<=) $4 " WEATHER_FORECAST, 2, weather_tables, 4, types),
						 v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read weather");
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		x[6];
		bool		nn[6];
		int32		day;
		Datum		src, tv, pv, sv;
		int			k;

		CHECK_FOR_INTERRUPTS();
		/* one pass over the tuple (it has NULLs: SPI_getbinval would walk it per column) */
		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, x, nn);
		day = DatumGetInt32(x[0]);
		src = x[1];
		tv = x[2];
		pv = x[3];
		sv = x[4];
		k = day - first;
		if (nn[1])
		{
			/* a target's latest forecast, in target order: its KST day's first one with a temperature */
			k = KstDateOf(DatumGetTimestampTz(x[5])) - first;
			if (nn[2] || k < 0 || k >= n || fc[k].source)
				continue;
			fc[k].temp = DatumGetFloat8(tv);
			fc[k].precip = nn[3] ? NAN : DatumGetFloat8(pv);
			fc[k].snow = nn[4] ? NAN : DatumGetFloat8(sv);
			fc[k].source = "forecast";
			continue;
		}
		if (k >= 0 && k < n)
		{
			text	   *s = DatumGetTextPP(src);
			WeatherMax *g = NULL;

			if (VARSIZE_ANY_EXHDR(s) >= 3 && memcmp(VARDATA_ANY(s), "kma", 3) == 0)
				g = &kma[k];
			else if (VARSIZE_ANY_EXHDR(s) == 10 && memcmp(VARDATA_ANY(s), "open-meteo", 10) == 0)
				g = &om[k];
			if (g)
			{
				MaxInto(&g->temp, &g->has_temp, nn[2], tv);
				MaxInto(&g->precip, &g->has_precip, nn[3], pv);
				MaxInto(&g->snow, &g->has_snow, nn[4], sv);
			}
		}
	}
	/* observations win over forecasts */
	for (d = 0; d < n; d++)
	{
		CHECK_FOR_INTERRUPTS();
		if (!kma[d].has_temp && !om[d].has_temp)
		{
			if (fc[d].source)
				w[d] = fc[d];
			continue;
		}
		w[d].temp = Coalesce(kma[d].temp, kma[d].has_temp, om[d].temp, om[d].has_temp);
		w[d].precip = Coalesce(kma[d].precip, kma[d].has_precip, om[d].precip, om[d].has_precip);
		w[d].snow = Coalesce(kma[d].snow, kma[d].has_snow, om[d].snow, om[d].has_snow);
		w[d].source = "observed";
	}
	/* per day of year: the mean temperature and precipitation, weighted by days with a temperature */
	for (d = 1; d <= 366; d++)
	{
		clim_t[d] = n_t[d] > 0 ? sum_t[d] / n_t[d] * n_t[d] : 0;
		clim_p[d] = n_p[d] > 0 ? sum_p[d] / n_p[d] * n_t[d] : 0;
	}
	for (d = 0; d < n; d++)
	{
		int			y, m, dd, doy, k;
		double		st = 0, sp = 0;
		int			sn = 0;

		CHECK_FOR_INTERRUPTS();
		if (w[d].source)
			continue;
		KstPgDateParts(first + d, &y, &m, &dd);
		doy = (first + d) - KstPgDate(y, 1, 1) + 1;
		for (k = -7; k <= 7; k++)
		{
			int			j = ((doy - 1 + k) % 366 + 366) % 366 + 1;

			st += clim_t[j];
			sp += clim_p[j];
			sn += n_t[j];
		}
		if (sn > 0)
		{
			w[d].temp = st / sn;
			w[d].precip = sp / sn;
			w[d].source = "climatology";
		}
	}
	pfree(kma);
	pfree(om);
	pfree(fc);
	return w;
}
