/*
 * parse.c: option values.  Every parser accepts the whole string or
 * nothing, and returns -1 on anything else, so a caller can say
 * "invalid value" with the text the user typed.
 */
#include "sockpair.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* strtoul accepts "-1" (as ULONG_MAX) and leading blanks; we do not. */
static int parse_digits(const char *s, char **end, unsigned long long *out)
{
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	*out = strtoull(s, end, 10);
	return errno ? -1 : 0;
}

int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long long v;
	char *end;

	if (parse_digits(s, &end, &v) < 0 || *end || v > max)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

/* N with an optional binary suffix K, M or G; zero is not a size. */
int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (parse_digits(s, &end, &v) < 0)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	default: return -1;
	}
	if (*end || v == 0 || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One escape after a backslash; returns the input consumed, or -1. */
static int parse_one_escape(const char *s, char *byte)
{
	static const char from[] = "nrt\\0";
	static const char to[] = "\n\r\t\\\0";
	const char *hit = *s ? strchr(from, *s) : NULL;
	int hi, lo;

	if (hit) {
		*byte = to[hit - from];
		return 1;
	}
	if (*s != 'x')
		return -1;
	hi = hex_value(s[1]);
	lo = hi < 0 ? -1 : hex_value(s[2]);
	if (lo < 0)
		return -1;
	*byte = (char)(hi << 4 | lo);
	return 3;
}

/* Decodes \n \r \t \\ \0 \xHH into a new buffer, which may hold NULs. */
int parse_escapes(const char *s, char **out, size_t *len)
{
	char *buf = malloc(strlen(s) + 1);
	size_t n = 0;

	if (!buf)
		return -1;
	while (*s) {
		int used;

		if (*s != '\\') {
			buf[n++] = *s++;
			continue;
		}
		used = parse_one_escape(s + 1, &buf[n++]);
		if (used < 0) {
			free(buf);
			return -1;
		}
		s += 1 + used;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* A TCP or UDP port, 0 to 65535; zero only where allowed (a free port). */
int parse_port(const char *s, bool allow_zero, unsigned *out)
{
	unsigned long v;

	if (parse_uint(s, 65535, &v) < 0 || (v == 0 && !allow_zero))
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Seconds, fractions allowed ("0.5"), as whole milliseconds: above zero, a
 * day at most (SPEC's range; well inside an int of milliseconds). */
int parse_seconds(const char *s, int *ms)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v <= 0 || v > 86400.0)
		return -1;
	*ms = v * 1000 < 1 ? 1 : (int)(v * 1000);
	return 0;
}
