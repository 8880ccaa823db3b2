/*
 * Fuzz harness: text_json_string() and the JSON line builder on any bytes
 * (the first input byte picks the room).  The result must be valid JSON
 * whatever a peer sent: a quoted string of valid UTF-8 with no raw control
 * character and only JSON's escapes, never longer than the room, and a
 * whole object line when built with json_begin()/json_end().
 */
#include "../src/sockpair.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The length of a valid UTF-8 sequence at p, 0 if none (a checker of its own). */
static size_t utf8_ok(const unsigned char *p, size_t n)
{
	size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;

	if (len == 0 || len > n || p[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* Checks "...": escapes are JSON's, bytes are valid UTF-8, none raw below 0x20. */
static void check_string(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	if (n < 2 || p[0] != '"' || p[n - 1] != '"')
		abort();
	for (size_t i = 1; i < n - 1;) {
		if (p[i] == '\\') {
			if (i + 1 >= n - 1 || !strchr("\"\\/bfnrtu", p[i + 1]))
				abort();
			if (p[i + 1] == 'u') {
				for (size_t k = 2; k < 6; k++)
					if (i + k >= n - 1 || !strchr("0123456789abcdef", p[i + k]))
						abort();
				i += 6;
			} else {
				i += 2;
			}
			continue;
		}
		if (p[i] < 0x20 || p[i] == '"')
			abort();
		size_t len = utf8_ok(p + i, n - 1 - i);
		if (len == 0)
			abort();
		i += len;
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	size_t room, n;
	char *out, line[512];
	struct json j;

	if (size < 1)
		return 0;
	room = (size_t)data[0] * 4 + 3;
	data++, size--;
	out = malloc(room);
	if (!out)
		abort();
	n = text_json_string(out, room, data, size);
	if (n >= room || out[n] != '\0' || strlen(out) != n)
		abort();
	check_string(out, n);
	free(out);
	json_begin(&j, line, sizeof(line), "data", 1.5);
	json_string(&j, "peer", data, size);
	json_integer(&j, "bytes", (long long)size);
	n = json_end(&j);
	if (n >= sizeof(line) || line[0] != '{' || line[n - 2] != '}' || line[n - 1] != '\n')
		abort();
	return 0;
}
