/*
 * Fuzz harness: http_head_feed() on any bytes, fed in pieces as a socket
 * would deliver them (the first input byte picks the piece size).  It must
 * never read past what it was given, a head it calls done must end with
 * its blank line, and the same bytes must get the same verdict whatever
 * the pieces.
 */
#include "../src/sockpair.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Feeds buf[0..len) in pieces of `step`; the verdict and the head's length. */
static enum head_state feed_in_pieces(const char *buf, size_t len, size_t step, size_t *head_len)
{
	struct http_head h = { 0 };
	enum head_state s = HEAD_MORE;

	for (size_t got = 0; got < len && s == HEAD_MORE;) {
		got += step < len - got ? step : len - got;
		/* A copy exactly as long as what arrived, so ASan sees overreads. */
		char *seen = malloc(got);
		if (!seen)
			abort();
		memcpy(seen, buf, got);
		s = http_head_feed(&h, seen, got);
		free(seen);
	}
	*head_len = h.length;
	return s;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	size_t step, whole_len, piece_len;
	enum head_state whole, pieces;

	if (size < 2)
		return 0;
	step = data[0] % 16 + 1;
	data++, size--;
	whole = feed_in_pieces((const char *)data, size, size, &whole_len);
	pieces = feed_in_pieces((const char *)data, size, step, &piece_len);
	if (whole == HEAD_DONE) {
		if (whole_len > size || data[whole_len - 1] != '\n')
			abort();
		if (pieces != HEAD_DONE || piece_len != whole_len)
			abort();
	}
	if (whole == HEAD_BAD && pieces == HEAD_DONE)
		abort();
	return 0;
}
