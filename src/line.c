/*
 * line.c: lines as PHP's socket_read(..., PHP_NORMAL_READ) cuts them.
 *
 * A read ends at the first "\r" or "\n" (kept), or after max bytes: so
 * telnet's "\r\n" is two reads, the text and a lone "\n", and a long line
 * comes in max-byte pieces.  Bytes of a piece not yet complete wait in the
 * reader; pieces that arrive whole are handed out without a copy.
 */
#include "sockpair.h"

#include <stdlib.h>
#include <string.h>

static const char *find_line_end(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\n' || p[i] == '\r')
			return p + i;
	return NULL;
}

/*
 * Takes from *data (advancing it) the next piece, if one is complete: sets
 * *piece and *len and returns true.  Returns false once all of *data is
 * consumed and kept for later; -1 on allocation failure, as false with
 * *len set to (size_t)-1.
 */
bool line_next(struct line_reader *lr, const char **data, size_t *n,
	       const char **piece, size_t *len)
{
	size_t room = lr->max - lr->held;
	size_t look = *n < room ? *n : room;
	const char *end = find_line_end(*data, look);
	size_t take = end ? (size_t)(end - *data) + 1 : look;
	bool complete = end || take == room;

	*len = 0;
	if (*n == 0)
		return false;
	if (complete && lr->held == 0) {
		*piece = *data;		/* whole in this read: no copy */
		*len = take;
	} else {
		if (!lr->buf && !(lr->buf = malloc(lr->max))) {
			*len = (size_t)-1;
			return false;
		}
		memcpy(lr->buf + lr->held, *data, take);
		lr->held += take;
		if (complete) {
			*piece = lr->buf;
			*len = lr->held;
			lr->held = 0;
		}
	}
	*data += take;
	*n -= take;
	return complete;
}

/* Gives the buffer back while no piece is incomplete: idle readers cost nothing. */
void line_release_idle(struct line_reader *lr)
{
	if (lr->held == 0) {
		free(lr->buf);
		lr->buf = NULL;
	}
}

/* Gives everything back; the reader may be used again. */
void line_release(struct line_reader *lr)
{
	free(lr->buf);
	lr->buf = NULL;
	lr->held = 0;
}

/* PHP's trim(): " \t\n\r\0\x0B" off both ends. */
void line_trim(const char **s, size_t *n)
{
	static const char blank[] = " \t\n\r\v";	/* and the NUL */

	while (*n > 0 && ((*s)[0] == '\0' || strchr(blank, (*s)[0])))
		(*s)++, (*n)--;
	while (*n > 0 && ((*s)[*n - 1] == '\0' || strchr(blank, (*s)[*n - 1])))
		(*n)--;
}
