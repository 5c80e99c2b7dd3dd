/*
 * rows.c — RowSet containers and the value parsers every source shares.
 * Pure C: no PostgreSQL calls (see rows.h).
 */
#include "../names.h"
#include "rows.h"
#include "../kst.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Size of one row of the given kind. */
static size_t
RowSize(RowKind kind)
{
	switch (kind)
	{
		case ROWS_RIDERSHIP_DAILY:
			return sizeof(RidershipDailyRow);
		case ROWS_RIDERSHIP_HOURLY:
			return sizeof(RidershipHourlyRow);
		case ROWS_HOUR_PROFILE:
			return sizeof(HourProfileRow);
		case ROWS_WEATHER_DAILY:
			return sizeof(WeatherDailyRow);
		case ROWS_WEATHER_HOURLY:
			return sizeof(WeatherHourlyRow);
		case ROWS_WEATHER_FORECAST:
			return sizeof(WeatherForecastRow);
		case ROWS_HOLIDAYS:
			return sizeof(HolidayRow);
		case ROWS_CONGESTION:
			return sizeof(CongestionRow);
	}
	return 0;
}

/* Start an empty set of rows of one kind. */
void
RowSetInit(RowSet *rs, RowKind kind, const char *source)
{
	memset(rs, 0, sizeof(*rs));
	rs->kind = kind;
	rs->source = source;
	rs->rowsize = RowSize(kind);
	rs->total_count = -1;
}

/* Release everything a RowSet owns. */
void
RowSetFree(RowSet *rs)
{
	size_t		i;

	if (rs->kind == ROWS_HOLIDAYS)
		for (i = 0; i < rs->nrows; i++)
		{
			HolidayRow *h = &((HolidayRow *) rs->rows)[i];

			SsFree(h->name);
			SsFree(h->kind);
		}
	if (rs->kind == ROWS_CONGESTION)
		for (i = 0; i < rs->nrows; i++)
		{
			CongestionRow *c = &((CongestionRow *) rs->rows)[i];

			SsFree(c->survey);
			SsFree(c->day_type);
			SsFree(c->line);
			SsFree(c->station_code);
			SsFree(c->station);
			SsFree(c->direction);
		}
	for (i = 0; i < (size_t) rs->nstations; i++)
	{
		SsFree(rs->stations[i].line);
		SsFree(rs->stations[i].name);
		if (rs->stations[i].metro_code)
			SsFree(rs->stations[i].metro_code);
	}
	if (rs->rows)
		SsFree(rs->rows);
	if (rs->stations)
		SsFree(rs->stations);
	if (rs->station_hash)
		SsFree(rs->station_hash);
	rs->rows = NULL;
	rs->stations = NULL;
	rs->station_hash = NULL;
	rs->nrows = rs->cap = 0;
	rs->nstations = rs->capstations = rs->hashsize = 0;
}

/* Append a zeroed row and return it. */
void *
RowSetAdd(RowSet *rs)
{
	char	   *row;

	if (rs->nrows == rs->cap)
	{
		size_t		ncap = rs->cap ? rs->cap * 2 : 256;

		rs->rows = rs->rows ? SsRealloc(rs->rows, ncap * rs->rowsize)
			: SsAlloc(ncap * rs->rowsize);
		rs->cap = ncap;
	}
	row = (char *) rs->rows + rs->nrows * rs->rowsize;
	memset(row, 0, rs->rowsize);
	rs->nrows++;
	return row;
}

/* Copy len bytes of s into a new NUL-terminated string. */
char *
RowStrdup(const char *s, size_t len)
{
	char	   *r = SsAlloc(len + 1);

	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

/* FNV-1a over the line and the station name. */
static uint32_t
StationHash(const char *line, size_t linelen, const char *name, size_t namelen)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < linelen; i++)
		h = (h ^ (unsigned char) line[i]) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (i = 0; i < namelen; i++)
		h = (h ^ (unsigned char) name[i]) * 16777619u;
	return h;
}

/* Rebuild the station hash table at twice the size. */
static void
StationRehash(RowSet *rs)
{
	int32_t		nsize = rs->hashsize ? rs->hashsize * 2 : 64;
	int32_t		i;

	if (rs->station_hash)
		SsFree(rs->station_hash);
	rs->station_hash = SsAlloc(sizeof(int32_t) * nsize);
	for (i = 0; i < nsize; i++)
		rs->station_hash[i] = -1;
	rs->hashsize = nsize;
	for (i = 0; i < rs->nstations; i++)
	{
		RowStation *s = &rs->stations[i];
		uint32_t	h = StationHash(s->line, strlen(s->line), s->name, strlen(s->name));
		int32_t		slot = (int32_t) (h & (uint32_t) (nsize - 1));

		while (rs->station_hash[slot] >= 0)
			slot = (slot + 1) & (nsize - 1);
		rs->station_hash[slot] = i;
	}
}

/* Write the normalized line label ("2" -> "2호선") into a new string. */
char *
RowNormalizeLine(const char *line, size_t len)
{
	size_t		i;
	bool		digits = len > 0;

	for (i = 0; i < len; i++)
		if (line[i] < '0' || line[i] > '9')
			digits = false;
	if (digits)
	{
		/* drop leading zeros: "02" -> "2호선" */
		while (len > 1 && line[0] == '0')
		{
			line++;
			len--;
		}
		{
			char	   *r = SsAlloc(len + sizeof("호선"));

			memcpy(r, line, len);
			memcpy(r + len, "호선", sizeof("호선"));
			return r;
		}
	}
	return RowStrdup(line, len);
}

/*
 * Record in err that a name of field (a station or line name) cannot be
 * stored, with the name escaped: "<field> name [of row N] <problem>".
 */
void
RowNameRefuse(ParseError *err, long line, long row, const char *field,
			  const char *s, size_t len, const char *problem)
{
	char		value[sizeof(err->value)];

	NameEscape(s, len, value, sizeof(value));
	if (row > 0)
		ParseErrorSet(err, line, field, value, strlen(value), "%s name of row %ld %s", field, row, problem);
	else
		ParseErrorSet(err, line, field, value, strlen(value), "%s name %s", field, problem);
}

/*
 * True when every station and line name of rs may be stored; else false,
 * with the first refused one in err: the one RowSetStation recorded, or
 * one of a congestion survey row (which keeps its names itself).
 */
bool
RowSetNamesOk(const RowSet *rs, ParseError *err)
{
	size_t		i;

	if (rs->name_error.failed)
	{
		*err = rs->name_error;
		return false;
	}
	if (rs->kind != ROWS_CONGESTION)
		return true;
	for (i = 0; i < rs->nrows; i++)
	{
		const CongestionRow *c = &((const CongestionRow *) rs->rows)[i];
		const char *why;

		if ((why = NameProblem(c->station, strlen(c->station))) != NULL)
		{
			RowNameRefuse(err, 0, (long) i + 1, "station", c->station, strlen(c->station), why);
			return false;
		}
		if ((why = NameProblem(c->line, strlen(c->line))) != NULL)
		{
			RowNameRefuse(err, 0, (long) i + 1, "line", c->line, strlen(c->line), why);
			return false;
		}
	}
	return true;
}

/*
 * Index of the (line, station) pair in rs->stations, adding it when new.  A
 * name that cannot be stored (NameProblem) is recorded in rs->name_error
 * (the first one, with where it was read); RowSetNamesOk reports it, and no
 * row set with one is ever written.
 */
int32_t
RowSetStation(RowSet *rs, const char *line, size_t linelen,
			  const char *name, size_t namelen,
			  const char *code, size_t codelen)
{
	char	   *nline = RowNormalizeLine(line, linelen);
	size_t		nlinelen = strlen(nline);
	uint32_t	h;
	int32_t		slot;
	RowStation *s;
	const char *why;

	if (!rs->name_error.failed && (why = NameProblem(name, namelen)) != NULL)
	{
		RowNameRefuse(&rs->name_error, 0, 0, "station", name, namelen, why);
		rs->name_error_at = name;
	}
	if (!rs->name_error.failed && (why = NameProblem(nline, nlinelen)) != NULL)
	{
		RowNameRefuse(&rs->name_error, 0, 0, "line", line, linelen, why);
		rs->name_error_at = line;
	}
	if (rs->nstations * 2 >= rs->hashsize)
		StationRehash(rs);
	h = StationHash(nline, nlinelen, name, namelen);
	slot = (int32_t) (h & (uint32_t) (rs->hashsize - 1));
	while (rs->station_hash[slot] >= 0)
	{
		s = &rs->stations[rs->station_hash[slot]];
		if (strlen(s->line) == nlinelen && memcmp(s->line, nline, nlinelen) == 0 &&
			strlen(s->name) == namelen && memcmp(s->name, name, namelen) == 0)
		{
			SsFree(nline);
			if (!s->metro_code && code && codelen > 0)
				s->metro_code = RowStrdup(code, codelen);
			return rs->station_hash[slot];
		}
		slot = (slot + 1) & (rs->hashsize - 1);
	}
	if (rs->nstations == rs->capstations)
	{
		int32_t		ncap = rs->capstations ? rs->capstations * 2 : 16;

		rs->stations = rs->stations
			? SsRealloc(rs->stations, sizeof(RowStation) * ncap)
			: SsAlloc(sizeof(RowStation) * ncap);
		rs->capstations = ncap;
	}
	s = &rs->stations[rs->nstations];
	s->line = nline;
	s->name = RowStrdup(name, namelen);
	s->metro_code = (code && codelen > 0) ? RowStrdup(code, codelen) : NULL;
	rs->station_hash[slot] = rs->nstations;
	return rs->nstations++;
}

/* Strip ASCII blanks from both ends of [*s, *s+*len). */
static void
Trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t' || **s == '\r'))
	{
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
						(*s)[*len - 1] == '\r'))
		(*len)--;
}

/*
 * A non-negative count: "123", "123.0", "123.00" (float-looking but
 * integral).  Rejects signs, fractions, exponents and anything else.
 */
bool
ParseCount(const char *s, size_t len, int64_t *out)
{
	int64_t		v = 0;
	size_t		i = 0;

	Trim(&s, &len);
	if (len == 0)
		return false;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
	{
		if (v > (INT64_C(1) << 53))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0)
		return false;
	if (i < len && s[i] == '.')
	{
		i++;
		for (; i < len && s[i] == '0'; i++)
			;
	}
	if (i != len)
		return false;
	*out = v;
	return true;
}

/* A decimal number such as "-3.2", ".4", "1020.6", "-.9", "1e2". */
bool
ParseDecimal(const char *s, size_t len, double *out)
{
	char		buf[64];
	char	   *end;
	double		v;
	size_t		i;

	Trim(&s, &len);
	if (len == 0 || len >= sizeof(buf))
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
			  c == 'e' || c == 'E'))
			return false;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	v = strtod(buf, &end);
	if (end != buf + len || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/* Read exactly n digits at s into *v. */
static bool
Digits(const char *s, int n, int *v)
{
	int			i;

	*v = 0;
	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* A date written YYYYMMDD, YYYY-MM-DD, YYYY/MM/DD or YYYY.MM.DD. */
bool
ParseYmd(const char *s, size_t len, int32_t *pgdate)
{
	int			y, m, d;

	Trim(&s, &len);
	if (len == 8)
	{
		if (!Digits(s, 4, &y) || !Digits(s + 4, 2, &m) || !Digits(s + 6, 2, &d))
			return false;
	}
	else if (len == 10 && (s[4] == '-' || s[4] == '/' || s[4] == '.') && s[7] == s[4])
	{
		if (!Digits(s, 4, &y) || !Digits(s + 5, 2, &m) || !Digits(s + 8, 2, &d))
			return false;
	}
	else
		return false;
	if (!KstValidDate(y, m, d))
		return false;
	*pgdate = KstPgDate(y, m, d);
	return true;
}

/* A month written YYYYMM or YYYY-MM; the result is its first day. */
bool
ParseYm(const char *s, size_t len, int32_t *pgdate)
{
	int			y, m;

	Trim(&s, &len);
	if (len == 6)
	{
		if (!Digits(s, 4, &y) || !Digits(s + 4, 2, &m))
			return false;
	}
	else if (len == 7 && (s[4] == '-' || s[4] == '/' || s[4] == '.'))
	{
		if (!Digits(s, 4, &y) || !Digits(s + 5, 2, &m))
			return false;
	}
	else
		return false;
	if (!KstValidDate(y, m, 1))
		return false;
	*pgdate = KstPgDate(y, m, 1);
	return true;
}

/* Record the first error of a parse (later calls keep the first). */
void
ParseErrorSet(ParseError *err, long line, const char *column,
			  const char *value, size_t valuelen, const char *fmt,...)
{
	va_list		ap;
	size_t		n;

	if (err->failed)
		return;
	err->failed = true;
	err->line = line;
	snprintf(err->column, sizeof(err->column), "%s", column ? column : "");
	n = value ? valuelen : 0;
	if (n >= sizeof(err->value))
		n = sizeof(err->value) - 1;
	/* never cut a UTF-8 sequence in half */
	while (n > 0 && value && n < valuelen && ((unsigned char) value[n] & 0xC0) == 0x80)
		n--;
	if (n > 0)
		memcpy(err->value, value, n);
	err->value[n] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}
