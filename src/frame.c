/*
 * frame.c: what the relay's bytes mean, where it matters: --crlf's line
 * ends, and the line that makes one datagram.  Pure: no I/O; the relay
 * (relay.c) applies it to what its flows hold.
 */
#include "sockpair.h"

#include <string.h>

static bool bare_newline(const char *p, size_t i, bool cr_before)
{
	return p[i] == '\n' && !(i ? p[i - 1] == '\r' : cr_before);
}

/*
 * --crlf on n new bytes at p: each "\n" not already after a "\r" becomes
 * "\r\n", expanding in place from the back, so the caller leaves room for
 * one extra byte per byte.  *last_was_cr carries a "\r" that ended the
 * previous bytes.  Returns the bytes' new length.
 */
size_t frame_crlf(char *p, size_t n, bool *last_was_cr)
{
	bool cr_before = *last_was_cr;
	size_t bare = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		bare += bare_newline(p, i, cr_before);
	*last_was_cr = p[n - 1] == '\r';
	for (size_t i = n, j = n + bare; j > i;) {
		p[--j] = p[--i];
		if (bare_newline(p, i, cr_before))
			p[--j] = '\r';
	}
	return n + bare;
}

/*
 * The length of the next datagram in the n bytes at p: the first line,
 * "\n" and all; or, with no whole line, 0 (wait for more) unless input has
 * ended or a datagram's worth is there.  Never over max: a longer line
 * goes in pieces.
 */
size_t frame_datagram(const char *p, size_t n, size_t max, bool at_end)
{
	const char *nl = memchr(p, '\n', n);

	if (nl)
		n = (size_t)(nl + 1 - p);
	else if (!at_end && n < max)
		return 0;
	return n < max ? n : max;
}
