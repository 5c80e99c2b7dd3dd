/*
 * parse_json.c — what the API parsers share: reading a response body with
 * json-c, all-or-nothing bookkeeping, and typed field access that reports the
 * exact field and value at fault.  Pure C: no PostgreSQL calls (parsers.h).
 */
#include "parsers.h"
#include "../kst.h"

#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* json-c nesting limit: the real responses nest five levels deep */
#define PARSE_JSON_DEPTH 64

/* bytes of an offending value quoted in an error message */
#define PARSE_SHOWN_VALUE 64

/* Length of the longest prefix of s[0..len) of at most max bytes that does not cut a UTF-8 sequence. */
static size_t
Utf8Prefix(const char *s, size_t len, size_t max)
{
	size_t		n = len < max ? len : max;

	while (n > 0 && n < len && ((unsigned char) s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/*
 * Length of the well-formed UTF-8 character at s[0..len), or 0.  The rules are
 * PostgreSQL's (no overlong forms, no surrogates, nothing above U+10FFFF),
 * stricter than json-c's own check, so that no text a parser returns can make
 * the server reject it.  A character cut off by the end of the buffer counts
 * as well-formed (its full length is returned) so that a truncated body is
 * reported as such.
 */
static size_t
Utf8CharLen(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;
	size_t		n;
	size_t		i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (len >= 2 && (s[1] < lo || s[1] > hi))
		return 0;
	for (i = 2; i < n && i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* Offset of the first byte of buf[0..len) that is not well-formed UTF-8, or len or more. */
static size_t
Utf8InvalidAt(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *) buf;
	size_t		i = 0;
	size_t		n;

	while (i < len && (n = Utf8CharLen(s + i, len - i)) > 0)
		i += n;
	return i;
}

/* Reset err and check that rs holds rows of the kind the parser produces. */
bool
ParseBegin(RowSet *rs, RowKind kind, ParseError *err)
{
	memset(err, 0, sizeof(*err));
	if (rs->kind != kind)
	{
		ParseApiFail(err, NULL, false,
					 "row set of kind %d given to a parser of kind %d",
					 (int) rs->kind, (int) kind);
		return false;
	}
	return true;
}

/* Record the provider's result code, keeping printable ASCII only. */
void
ParseSetApiCode(ParseError *err, const char *code)
{
	size_t		i;

	for (i = 0; code[i] != '\0' && i < sizeof(err->api_code) - 1; i++)
		err->api_code[i] = (code[i] > ' ' && code[i] < 0x7f) ? code[i] : '?';
	err->api_code[i] = '\0';
}

/* Fail the response with a formatted message; returns the matching outcome. */
ApiOutcome
ParseApiFail(ParseError *err, const char *code, bool transient,
			 const char *fmt,...)
{
	char		msg[512];
	va_list		ap;

	if (!err->failed)
	{
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		msg[Utf8Prefix(msg, strlen(msg), sizeof(err->message) - 1)] = '\0';
		ParseErrorSet(err, 0, NULL, NULL, 0, "%s", msg);
		err->transient = transient;
		if (code != NULL)
			ParseSetApiCode(err, code);
	}
	return err->transient ? API_TRANSIENT : API_PERMANENT;
}

/* How a number read so far stands against RFC 8259's grammar. */
typedef enum JsonNumberState
{
	NUM_START,					/* nothing read */
	NUM_MINUS,					/* "-" */
	NUM_ZERO,					/* "0" or "-0": no digit may follow */
	NUM_INT,					/* integer digits */
	NUM_POINT,					/* "." read, a digit must follow */
	NUM_FRACTION,				/* fraction digits */
	NUM_E,						/* "e" or "E" read */
	NUM_E_SIGN,					/* exponent sign read, a digit must follow */
	NUM_EXPONENT,				/* exponent digits */
	NUM_BAD						/* no number starts this way */
} JsonNumberState;

/* The state after reading character c of a number in state st. */
static JsonNumberState
JsonNumberStep(JsonNumberState st, char c)
{
	bool		digit = c >= '0' && c <= '9';

	switch (st)
	{
		case NUM_START:
			return c == '-' ? NUM_MINUS : c == '0' ? NUM_ZERO : digit ? NUM_INT : NUM_BAD;
		case NUM_MINUS:
			return c == '0' ? NUM_ZERO : digit ? NUM_INT : NUM_BAD;
		case NUM_ZERO:
		case NUM_INT:
			if (digit)
				return st == NUM_INT ? NUM_INT : NUM_BAD;
			return c == '.' ? NUM_POINT : (c == 'e' || c == 'E') ? NUM_E : NUM_BAD;
		case NUM_POINT:
		case NUM_FRACTION:
			if (digit)
				return NUM_FRACTION;
			return (st == NUM_FRACTION && (c == 'e' || c == 'E')) ? NUM_E : NUM_BAD;
		case NUM_E:
			return (c == '+' || c == '-') ? NUM_E_SIGN : digit ? NUM_EXPONENT : NUM_BAD;
		case NUM_E_SIGN:
		case NUM_EXPONENT:
			return digit ? NUM_EXPONENT : NUM_BAD;
		case NUM_BAD:
			break;
	}
	return NUM_BAD;
}

/* True for the characters a number is made of. */
static bool
IsNumberChar(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/*
 * Offset of the first byte at which buf[0..len) stops being JSON as RFC 8259
 * writes it, with *what saying why, or len.  json-c parses without
 * JSON_TOKENER_STRICT (in json-c 0.18 that flag refuses every byte above
 * 0x7F, json-c issues #875 and #892) and so accepts more than JSON: comments,
 * single quotes, trailing commas, true/false/null/NaN/Infinity in any case,
 * leading zeros, "1e+", raw control characters in strings and data after the
 * value.  This scan refuses them all, the same with every json-c version;
 * the order of tokens (nesting, ':' and ',') is left to json-c.  A token cut
 * off by the end of the buffer passes while it can still become valid, so
 * that a body cut short is reported as truncated.
 */
static size_t
JsonSyntaxAt(const char *buf, size_t len, const char **what)
{
	static const char *const literals[] = {"true", "false", "null"};
	size_t		i = 0;
	long		depth = 0;
	bool		done = false;
	char		last = '\0';

	while (i < len)
	{
		char		c = buf[i];
		size_t		start = i;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
		{
			i++;
			continue;
		}
		if (done)
		{
			*what = "trailing data after the JSON response";
			return i;
		}
		if (c == '{' || c == '[' || c == ':' || c == ',')
		{
			depth += (c == '{' || c == '[');
			last = c;
			i++;
			continue;
		}
		if (c == '}' || c == ']')
		{
			if (last == ',')
			{
				*what = "malformed JSON response: trailing comma";
				return i;
			}
			depth--;
		}
		else if (c == '"')
		{
			for (i++; i < len && buf[i] != '"'; i++)
			{
				if ((unsigned char) buf[i] < 0x20)
				{
					*what = "malformed JSON response: control character in a string";
					return i;
				}
				if (buf[i] == '\\')
					i++;
			}
			if (i >= len)
				return len;
		}
		else if (c == '-' || (c >= '0' && c <= '9'))
		{
			JsonNumberState st = NUM_START;

			for (; i < len && IsNumberChar(buf[i]) && st != NUM_BAD; i++)
				st = JsonNumberStep(st, buf[i]);
			if (i >= len && st != NUM_BAD)
				return len;
			if (st != NUM_ZERO && st != NUM_INT && st != NUM_FRACTION && st != NUM_EXPONENT)
			{
				*what = "malformed JSON response: invalid number";
				return start;
			}
			i--;
		}
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		{
			size_t		n;
			size_t		k;
			bool		valid = false;

			for (n = 0; i + n < len && ((buf[i + n] >= 'a' && buf[i + n] <= 'z') ||
										(buf[i + n] >= 'A' && buf[i + n] <= 'Z')); n++)
				;
			for (k = 0; k < sizeof(literals) / sizeof(literals[0]); k++)
			{
				size_t		l = strlen(literals[k]);

				if ((n == l || (i + n == len && n < l)) && memcmp(buf + i, literals[k], n) == 0)
					valid = true;
			}
			if (!valid)
			{
				*what = "malformed JSON response: unexpected character";
				return i;
			}
			if (i + n >= len)
				return len;
			i += n - 1;
		}
		else
		{
			*what = "malformed JSON response: unexpected character";
			return i;
		}
		/* buf[i] ends a value */
		last = 'v';
		done = depth <= 0;
		i++;
	}
	return len;
}

/* Parse exactly len bytes of buf as one JSON object, or fail with err set. */
static struct json_object *
ParseJsonBody(const char *buf, size_t len, ParseError *err)
{
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	size_t		end;
	const char *what;

	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
	{
		buf += 3;
		len -= 3;
	}
	if (len > INT_MAX)
	{
		ParseApiFail(err, NULL, false, "response body of %zu bytes is too large", len);
		return NULL;
	}
	if ((end = Utf8InvalidAt(buf, len)) < len)
	{
		ParseApiFail(err, NULL, true, "response is not valid UTF-8 at byte %zu", end);
		return NULL;
	}
	if ((end = JsonSyntaxAt(buf, len, &what)) < len)
	{
		ParseApiFail(err, NULL, true, "%s at byte %zu", what, end);
		return NULL;
	}
	tok = json_tokener_new_ex(PARSE_JSON_DEPTH);
	if (tok == NULL)
	{
		ParseApiFail(err, NULL, true, "out of memory parsing the response");
		return NULL;
	}
	root = json_tokener_parse_ex(tok, buf, (int) len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue)
		ParseApiFail(err, NULL, true, "truncated response body");
	else if (jerr != json_tokener_success)
		ParseApiFail(err, NULL, true, "malformed JSON response: %s at byte %zu",
					 json_tokener_error_desc(jerr), end);
	else if (!json_object_is_type(root, json_type_object))
		ParseApiFail(err, NULL, false, "response is not a JSON object");
	if (err->failed)
	{
		json_object_put(root);
		return NULL;
	}
	return root;
}

/* Drop the rows appended since there were n0, with the strings they own. */
static void
ParseRollback(RowSet *rs, size_t n0)
{
	size_t		i;

	if (rs->kind == ROWS_HOLIDAYS)
		for (i = n0; i < rs->nrows; i++)
		{
			HolidayRow *h = &((HolidayRow *) rs->rows)[i];

			SsFree(h->name);
			SsFree(h->kind);
		}
	rs->nrows = n0;
}

/*
 * Parse one JSON response with doc, all or nothing: on a transient or
 * permanent failure rs is put back as it was (doc adds stations only once
 * nothing can fail any more).
 */
ApiOutcome
ParseJsonResponse(const char *buf, size_t len, RowSet *rs, RowKind kind,
				  ParseError *err, ParseDocFn doc, const void *arg)
{
	size_t		n0 = rs->nrows;
	long		total0 = rs->total_count;
	struct json_object *root;
	ApiOutcome	out;

	if (!ParseBegin(rs, kind, err))
		return API_PERMANENT;
	root = ParseJsonBody(buf, len, err);
	if (root == NULL)
		return err->transient ? API_TRANSIENT : API_PERMANENT;
	out = doc(root, rs, err, arg);
	json_object_put(root);
	if (out == API_TRANSIENT || out == API_PERMANENT)
	{
		ParseRollback(rs, n0);
		rs->total_count = total0;
	}
	return out;
}

/* Member key of object obj; NULL when obj is no object, key is absent or null. */
struct json_object *
ParseMember(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_is_type(obj, json_type_object) ||
		!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

/* Text of a scalar: a string without NUL bytes, or a number as written. */
bool
ParseText(struct json_object *v, const char **s, size_t *len)
{
	switch (json_object_get_type(v))
	{
		case json_type_string:
			*s = json_object_get_string(v);
			*len = (size_t) json_object_get_string_len(v);
			return memchr(*s, '\0', *len) == NULL;
		case json_type_int:
		case json_type_double:
			*s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
			*len = strlen(*s);
			return true;
		default:
			return false;
	}
}

/* True for the ASCII blanks around values. */
static bool
IsBlankChar(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* True when s[0..len) holds only ASCII blanks. */
static bool
IsBlank(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if (!IsBlankChar(s[i]))
			return false;
	return true;
}

/* Fail the response because field (of row, 1-based, or 0) is missing or holds v. */
bool
ParseBadValue(ParseError *err, const char *field, long row,
			  struct json_object *v, const char *what)
{
	char		where[32] = "";
	const char *s;
	size_t		len;
	size_t		shown;

	if (row > 0)
		snprintf(where, sizeof(where), " in row %ld", row);
	if (v == NULL)
	{
		ParseErrorSet(err, 0, field, NULL, 0, "missing %s%s", field, where);
		return false;
	}
	if (!ParseText(v, &s, &len))
	{
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		len = strlen(s);
	}
	shown = Utf8Prefix(s, len, PARSE_SHOWN_VALUE);
	ParseErrorSet(err, 0, field, s, len, "invalid %s \"%.*s%s\" for %s%s",
				  what, (int) shown, s, shown < len ? "..." : "", field, where);
	return false;
}

/* A required non-blank text field, trimmed of ASCII blanks. */
bool
ParseJsonString(struct json_object *v, const char *field, long row,
				const char **s, size_t *len, ParseError *err)
{
	if (v == NULL || !ParseText(v, s, len) || IsBlank(*s, *len))
		return ParseBadValue(err, field, row, v, "text");
	while (IsBlankChar(**s))
	{
		(*s)++;
		(*len)--;
	}
	while (IsBlankChar((*s)[*len - 1]))
		(*len)--;
	return true;
}

/* A required count: a JSON integer, an integral double or a numeric string. */
bool
ParseJsonCount(struct json_object *v, const char *field, long row,
			   int64_t *out, ParseError *err)
{
	const char *s;
	size_t		len;

	if (v == NULL || !ParseText(v, &s, &len) || !ParseCount(s, len, out))
		return ParseBadValue(err, field, row, v, "count");
	return true;
}

/* An optional decimal: absent, null or blank gives if_empty. */
bool
ParseJsonDecimal(struct json_object *v, const char *field, long row,
				 double if_empty, double *out, ParseError *err)
{
	const char *s;
	size_t		len;

	if (v == NULL)
	{
		*out = if_empty;
		return true;
	}
	if (!ParseText(v, &s, &len))
		return ParseBadValue(err, field, row, v, "number");
	if (IsBlank(s, len))
		*out = if_empty;
	else if (!ParseDecimal(s, len, out))
		return ParseBadValue(err, field, row, v, "number");
	return true;
}

/*
 * A required date written YYYYMMDD or YYYY-MM-DD, as a string or a number;
 * a float-looking number (20251225.0) is accepted like a count is.
 */
bool
ParseJsonDate(struct json_object *v, const char *field, long row,
			  int32_t *out, ParseError *err)
{
	const char *s;
	size_t		len;
	int64_t		n;
	char		digits[24];

	if (v == NULL || !ParseText(v, &s, &len))
		return ParseBadValue(err, field, row, v, "date");
	if (ParseYmd(s, len, out))
		return true;
	if (ParseCount(s, len, &n) && n >= 19000101 && n <= 29991231)
	{
		snprintf(digits, sizeof(digits), "%lld", (long long) n);
		if (ParseYmd(digits, strlen(digits), out))
			return true;
	}
	return ParseBadValue(err, field, row, v, "date");
}

/* Set rs->total_count from the provider's total, when it gives one. */
bool
ParseJsonTotal(struct json_object *v, const char *field, RowSet *rs,
			   ParseError *err)
{
	int64_t		n;

	if (v == NULL)
		return true;
	if (!ParseJsonCount(v, field, 0, &n, err))
		return false;
	rs->total_count = (long) n;
	return true;
}

/* The instant of a KST hour written "YYYY-MM-DD<sep>HH:00". */
bool
ParseKstHour(const char *s, size_t len, char sep, int64_t *ts)
{
	int32_t		day;
	int			hour;

	if (len != 16 || s[4] != '-' || s[7] != '-' || s[10] != sep || s[13] != ':' ||
		s[14] != '0' || s[15] != '0' || s[11] < '0' || s[11] > '2' ||
		s[12] < '0' || s[12] > '9' || !ParseYmd(s, 10, &day))
		return false;
	hour = (s[11] - '0') * 10 + (s[12] - '0');
	if (hour > 23)
		return false;
	*ts = KstInstant(day, hour);
	return true;
}
