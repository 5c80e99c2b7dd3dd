/*
 * names.c — what a station or line name may be: non-empty valid UTF-8
 * without control or invisible formatting characters, so that no stored
 * name looks like another ("성\x01수" beside "성수"); and such a name made
 * printable for an error message.  Pure C (parsers and SQL functions use it).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

/* The code point of the UTF-8 sequence at s (n > 0 bytes left) into *cp; its length, 0 when invalid. */
static size_t
Utf8Decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (s[0] < 0x80)
	{
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF && n >= 2 && (s[1] & 0xC0) == 0x80)
	{
		*cp = ((uint32_t) (s[0] & 0x1F) << 6) | (s[1] & 0x3F);
		return 2;
	}
	if (s[0] >= 0xE0 && s[0] <= 0xEF && n >= 3 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80)
	{
		*cp = ((uint32_t) (s[0] & 0x0F) << 12) | ((uint32_t) (s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		return (*cp < 0x800 || (*cp >= 0xD800 && *cp <= 0xDFFF)) ? 0 : 3;
	}
	if (s[0] >= 0xF0 && s[0] <= 0xF4 && n >= 4 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 &&
		(s[3] & 0xC0) == 0x80)
	{
		*cp = ((uint32_t) (s[0] & 0x07) << 18) | ((uint32_t) (s[1] & 0x3F) << 12) |
			((uint32_t) (s[2] & 0x3F) << 6) | (s[3] & 0x3F);
		return (*cp < 0x10000 || *cp > 0x10FFFF) ? 0 : 4;
	}
	return 0;
}

/* Whether a code point is a control character (C0, DEL, C1). */
static bool
IsControl(uint32_t c)
{
	return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

/*
 * Whether a code point is invisible formatting that makes a name look like
 * another: soft hyphen, zero-width spaces and joiners, direction marks,
 * line and paragraph separators, bidirectional embeddings and isolates,
 * word joiner and invisible operators, the byte-order mark.
 */
static bool
IsInvisible(uint32_t c)
{
	return c == 0xAD || (c >= 0x200B && c <= 0x200F) || (c >= 0x2028 && c <= 0x202E) ||
		(c >= 0x2060 && c <= 0x206F) || c == 0xFEFF;
}

/*
 * Why a station or line name cannot be stored, or NULL when it can: it must
 * be non-empty valid UTF-8 without control characters (a newline, a tab,
 * \x01 …) or invisible formatting characters, so that no stored name looks
 * like another one ("성\x01수" beside "성수").
 */
const char *
NameProblem(const char *s, size_t len)
{
	size_t		i = 0;

	if (len == 0)
		return "is empty";
	while (i < len)
	{
		uint32_t	c;
		size_t		n = Utf8Decode((const unsigned char *) s + i, len - i, &c);

		if (n == 0)
			return "is not valid UTF-8";
		if (IsControl(c))
			return "has a control character";
		if (IsInvisible(c))
			return "has an invisible formatting character";
		i += n;
	}
	return NULL;
}

/* s for an error message, NUL-terminated in out: invalid bytes as \xNN, control and invisible characters as \uNNNN. */
void
NameEscape(const char *s, size_t len, char *out, size_t outlen)
{
	size_t		i = 0, o = 0;

	while (i < len)
	{
		char		piece[8];
		size_t		plen;
		uint32_t	c;
		size_t		n = Utf8Decode((const unsigned char *) s + i, len - i, &c);

		if (n == 0)
		{
			snprintf(piece, sizeof(piece), "\\x%02X", (unsigned char) s[i]);
			n = 1;
		}
		else if (IsControl(c) || IsInvisible(c))
			snprintf(piece, sizeof(piece), "\\u%04X", (unsigned) c);
		else
		{
			memcpy(piece, s + i, n);
			piece[n] = '\0';
		}
		plen = strlen(piece);
		if (o + plen >= outlen)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		i += n;
	}
	out[o] = '\0';
}

