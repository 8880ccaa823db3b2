/*
 * text.c: bytes made safe and readable for a terminal: the escapes that
 * keep a peer's chosen name from moving the cursor or forging a line, and
 * strace's quoting of data in --trace lines.  Pure: no I/O.
 */
#include "sockpair.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* vsnprintf() that always leaves a string, even for a format it cannot print. */
void text_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	if (vsnprintf(buf, size, fmt, ap) < 0)
		snprintf(buf, size, "(unprintable)");
}

/* The length of the valid UTF-8 sequence at p (at most n bytes), 0 if
 * none; its code point in *cp. */
static size_t utf8_sequence(const unsigned char *p, size_t n, uint32_t *cp_out)
{
	size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
	uint32_t cp;

	if (len == 0 || p[0] > 0xf4 || len > n)
		return 0;
	cp = p[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < (len == 2 ? 0x80u : len == 3 ? 0x800u : 0x10000u) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;	/* overlong, out of range, or a surrogate */
	*cp_out = cp;
	return len;
}

/* A sequence a terminal shows as text: C1 controls (U+0080..U+009F) are
 * obeyed by some terminals, so they count as not text. */
static size_t utf8_text(const unsigned char *p, size_t n)
{
	uint32_t cp = 0;
	size_t len = utf8_sequence(p, n, &cp);

	return cp >= 0x80 && cp <= 0x9f ? 0 : len;
}

/*
 * Bytes from a peer (a UNIX client's name, say), made safe to show: control
 * characters, backslashes and bytes that are not UTF-8 become escapes
 * (\n, \\, \x1b).  Always NUL-terminates (size > 0); cuts at a whole
 * escape when out is full.  Returns out.
 */
const char *text_escape(const void *buf, size_t n, char *out, size_t size)
{
	static const char named[] = "\n\r\t\\", letter[] = "nrt\\";
	const unsigned char *p = buf;
	size_t used = 0;

	for (size_t i = 0; i < n && size > 0;) {
		const char *hit = p[i] ? memchr(named, p[i], sizeof(named) - 1) : NULL;
		size_t seq = p[i] >= 0x80 ? utf8_text(p + i, n - i) : 0;
		char one[8];
		size_t w;

		if (hit)
			w = (size_t)snprintf(one, sizeof(one), "\\%c", letter[hit - named]);
		else if (seq)
			w = (size_t)snprintf(one, sizeof(one), "%.*s", (int)seq, (const char *)p + i);
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			w = (size_t)snprintf(one, sizeof(one), "\\x%02x", p[i]);
		else
			w = (size_t)snprintf(one, sizeof(one), "%c", p[i]);
		if (used + w >= size)
			break;
		memcpy(out + used, one, w);
		used += w;
		i += seq ? seq : 1;
	}
	if (size > 0)
		out[used] = '\0';
	return out;
}

static size_t quote_byte(char *out, unsigned char c, unsigned char next)
{
	static const char named[] = "\n\r\t\"\\";
	static const char letter[] = "nrt\"\\";
	const char *hit = c ? strchr(named, c) : NULL;

	if (hit)
		return (size_t)sprintf(out, "\\%c", letter[hit - named]);
	if (isprint(c))
		return (size_t)sprintf(out, "%c", c);
	if (next >= '0' && next <= '7')
		return (size_t)sprintf(out, "\\%03o", c);
	return (size_t)sprintf(out, "\\%o", c);
}

/*
 * Quotes up to TEXT_QUOTE_SHOWN bytes as strace does, "..." marking a cut;
 * out needs TEXT_QUOTE_SIZE bytes (a smaller one gets "...").  Returns the
 * length written.
 */
size_t text_quote(char *out, size_t size, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	size_t shown = n < TEXT_QUOTE_SHOWN ? n : TEXT_QUOTE_SHOWN;
	size_t used = 0;
	char one[8];

	if (size < TEXT_QUOTE_SIZE)
		return (size_t)snprintf(out, size, "...");
	out[used++] = '"';
	for (size_t i = 0; i < shown; i++) {
		size_t w = quote_byte(one, p[i], i + 1 < n ? p[i + 1] : 0);
		memcpy(out + used, one, w);
		used += w;
	}
	out[used++] = '"';
	if (shown < n)
		used += (size_t)sprintf(out + used, "...");
	out[used] = '\0';
	return used;
}

/*
 * Up to TEXT_QUOTE_SHOWN bytes from a peer, in quotes, escaped as
 * text_escape() does (\n, \x1b: SPEC's way for what a peer sends), "..."
 * marking a cut; out needs TEXT_QUOTE_SIZE bytes.  Returns out.
 */
const char *text_show_peer(const void *buf, size_t n, char *out, size_t size)
{
	size_t shown = n < TEXT_QUOTE_SHOWN ? n : TEXT_QUOTE_SHOWN;
	char escaped[TEXT_QUOTE_SIZE];

	text_escape(buf, shown, escaped, sizeof(escaped));
	snprintf(out, size, "\"%s\"%s", escaped, shown < n ? "..." : "");
	return out;
}

/*
 * A JSON string of n bytes, quotes included, into out (size > 8): UTF-8
 * passes through, control characters and '"' and '\' are escaped, and a
 * byte that is not UTF-8 becomes \u00XX, so the result is always valid
 * JSON whatever a peer sent.  Cut, still valid, when out is too small.
 * Returns the length written.
 */
size_t text_json_string(char *out, size_t size, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	size_t used = 0;

	out[used++] = '"';
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t seq = p[i] >= 0x80 ? utf8_sequence(p + i, n - i, &cp) : 0;
		char one[8];
		size_t w;

		if (seq)
			w = (size_t)snprintf(one, sizeof(one), "%.*s", (int)seq, (const char *)p + i);
		else if (p[i] == '"' || p[i] == '\\')
			w = (size_t)snprintf(one, sizeof(one), "\\%c", p[i]);
		else if (p[i] == '\n')
			w = (size_t)snprintf(one, sizeof(one), "\\n");
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			w = (size_t)snprintf(one, sizeof(one), "\\u%04x", p[i]);
		else
			w = (size_t)snprintf(one, sizeof(one), "%c", p[i]);
		if (used + w + 2 > size)
			break;
		memcpy(out + used, one, w);
		used += w;
		i += seq ? seq : 1;
	}
	out[used++] = '"';
	out[used] = '\0';
	return used;
}

/* ---- JSON lines: one object per line, built in a caller's buffer ------- */

static void json_put(struct json *j, const char *s, size_t n)
{
	if (j->len + n + 3 > j->size) {	/* room kept for "}\n" and the NUL */
		j->full = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void json_key(struct json *j, const char *key)
{
	char quoted[64];
	size_t n = text_json_string(quoted, sizeof(quoted), key, strlen(key));

	if (j->need_comma)
		json_put(j, ",", 1);
	json_put(j, quoted, n);
	json_put(j, ":", 1);
	j->need_comma = true;
}

/* { ... into buf (size: its room): a record of data, such as a bench row. */
void json_start(struct json *j, char *buf, size_t size)
{
	*j = (struct json){ .buf = buf, .size = size };
	json_put(j, "{", 1);
}

/* {"event":EVENT,"time":SECONDS ... into buf (size: its room). */
void json_begin(struct json *j, char *buf, size_t size, const char *event, double time)
{
	json_start(j, buf, size);
	json_cstring(j, "event", event);
	json_number(j, "time", time, 6);
}

void json_string(struct json *j, const char *key, const void *s, size_t n)
{
	size_t room = j->size > j->len + 16 ? j->size - j->len - 16 : 0;

	json_key(j, key);
	if (room < 3) {
		j->full = true;
		return;
	}
	/* A string too long for the room is cut, and stays valid. */
	j->len += text_json_string(j->buf + j->len, room, s, n);
}

void json_cstring(struct json *j, const char *key, const char *s)
{
	if (!s) {
		json_key(j, key);
		json_put(j, "null", 4);
		return;
	}
	json_string(j, key, s, strlen(s));
}

void json_number(struct json *j, const char *key, double v, int decimals)
{
	char num[64];

	json_key(j, key);
	json_put(j, num, (size_t)snprintf(num, sizeof(num), "%.*f", decimals, v));
}

void json_integer(struct json *j, const char *key, long long v)
{
	char num[32];

	json_key(j, key);
	json_put(j, num, (size_t)snprintf(num, sizeof(num), "%lld", v));
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_put(j, v ? "true" : "false", v ? 4 : 5);
}

/* "key":{ ... json_close() ends it. */
void json_open(struct json *j, const char *key)
{
	json_key(j, key);
	json_put(j, "{", 1);
	j->need_comma = false;
}

void json_close(struct json *j)
{
	json_put(j, "}", 1);
	j->need_comma = true;
}

/* Ends the object with "}\n"; returns the line's length. */
size_t json_end(struct json *j)
{
	memcpy(j->buf + j->len, "}\n", 3);
	j->len += 2;
	return j->len;
}
