/*
 * csv.c — the CSV reader (see csv.h).  Pure C.
 */
#include "csv.h"

#include <string.h>

/* Start reading buf; skips a UTF-8 byte-order mark. */
void
CsvInit(CsvReader *r, char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
	r->next_line = 1;
	if (len >= 3 && (unsigned char) buf[0] == 0xEF &&
		(unsigned char) buf[1] == 0xBB && (unsigned char) buf[2] == 0xBF)
		r->pos = 3;
}

/* Strip blanks (and a stray CR) around an unquoted field. */
static void
CsvTrim(CsvField *f)
{
	while (f->len > 0 && (f->s[0] == ' ' || f->s[0] == '\t'))
	{
		f->s++;
		f->len--;
	}
	while (f->len > 0 && (f->s[f->len - 1] == ' ' || f->s[f->len - 1] == '\t' ||
						  f->s[f->len - 1] == '\r'))
		f->len--;
}

/* Read one quoted field starting at the opening quote; unescapes in place. */
static bool
CsvQuoted(CsvReader *r, CsvField *f)
{
	char	   *out = r->buf + r->pos;
	size_t		p = r->pos + 1;

	f->s = out;
	while (p < r->len)
	{
		char		c = r->buf[p];

		if (c == '"')
		{
			if (p + 1 < r->len && r->buf[p + 1] == '"')
			{
				*out++ = '"';
				p += 2;
				continue;
			}
			p++;
			f->len = (size_t) (out - f->s);
			/* anything between the closing quote and the separator is ignored if blank */
			while (p < r->len && (r->buf[p] == ' ' || r->buf[p] == '\t' || r->buf[p] == '\r'))
				p++;
			r->pos = p;
			return true;
		}
		if (c == '\n')
			r->next_line++;
		*out++ = c;
		p++;
	}
	r->bad_quote = true;
	f->len = (size_t) (out - f->s);
	r->pos = r->len;
	return false;
}

/* Advance to the next non-blank record; false at end of input. */
bool
CsvNext(CsvReader *r)
{
	for (;;)
	{
		bool		blank = true;

		if (r->pos >= r->len)
			return false;
		r->line = r->next_line;
		r->nfields = 0;
		r->too_many = false;
		for (;;)
		{
			CsvField	f;

			while (r->pos < r->len && (r->buf[r->pos] == ' ' || r->buf[r->pos] == '\t'))
				r->pos++;
			if (r->pos < r->len && r->buf[r->pos] == '"')
			{
				blank = false;
				if (!CsvQuoted(r, &f))
				{
					if (r->nfields < CSV_MAX_FIELDS)
						r->fields[r->nfields++] = f;
					return true;
				}
				if (r->pos < r->len && r->buf[r->pos] != ',' && r->buf[r->pos] != '\n')
				{
					/* text after a closing quote: malformed, report this record */
					r->bad_quote = true;
					while (r->pos < r->len && r->buf[r->pos] != '\n')
						r->pos++;
				}
			}
			else
			{
				size_t		start = r->pos;

				while (r->pos < r->len && r->buf[r->pos] != ',' && r->buf[r->pos] != '\n')
					r->pos++;
				f.s = r->buf + start;
				f.len = r->pos - start;
				CsvTrim(&f);
				if (f.len > 0)
					blank = false;
			}
			if (r->nfields < CSV_MAX_FIELDS)
				r->fields[r->nfields++] = f;
			else
				r->too_many = true;
			if (r->pos < r->len && r->buf[r->pos] == ',')
			{
				r->pos++;
				blank = false;
				continue;
			}
			/* end of record */
			if (r->pos < r->len && r->buf[r->pos] == '\n')
				r->pos++;
			r->next_line++;
			break;
		}
		if (!blank)
			return true;
	}
}

/* True when the field equals s exactly. */
bool
CsvFieldIs(const CsvField *f, const char *s)
{
	size_t		n = strlen(s);

	return f->len == n && memcmp(f->s, s, n) == 0;
}

/* True when the field starts with prefix. */
bool
CsvFieldStarts(const CsvField *f, const char *prefix)
{
	size_t		n = strlen(prefix);

	return f->len >= n && memcmp(f->s, prefix, n) == 0;
}

/* True when needle occurs inside the field. */
bool
CsvFieldContains(const CsvField *f, const char *needle)
{
	size_t		n = strlen(needle);
	size_t		i;

	if (n == 0)
		return true;
	for (i = 0; i + n <= f->len; i++)
		if (memcmp(f->s + i, needle, n) == 0)
			return true;
	return false;
}
