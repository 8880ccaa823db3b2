/*
 * queue.c: bytes waiting to be written somewhere, in a buffer that grows as
 * needed: talkback's replies to each client and its lines for stdout; and
 * arrays that grow by doubling (peers' tables).  The bounds are the
 * callers': a queue grows until realloc() says no.
 */
#include "sockpair.h"

#include <stdlib.h>
#include <string.h>

/* Appends n bytes; -1 (nothing added) when memory is short. */
int queue_add(struct byte_queue *q, const void *data, size_t n)
{
	if (q->len + n > q->cap) {
		size_t cap = q->cap ? q->cap : 4096;
		while (cap < q->len + n)
			cap *= 2;
		char *buf = realloc(q->buf, cap);
		if (!buf)
			return -1;
		q->buf = buf;
		q->cap = cap;
	}
	memcpy(q->buf + q->len, data, n);
	q->len += n;
	return 0;
}

void queue_free(struct byte_queue *q)
{
	free(q->buf);
	*q = (struct byte_queue){ 0 };
}

/* Forgets the first n bytes, which have been written. */
void queue_consume(struct byte_queue *q, size_t n)
{
	if (n == 0)
		return;	/* buf may be NULL, and memmove() must not see it */
	memmove(q->buf, q->buf + n, q->len - n);
	q->len -= n;
}

/*
 * An array with room for one more item: items as it is while used < *cap,
 * else grown to twice *cap (first at the start).  NULL when memory is
 * short, items then as it was.
 */
void *queue_grow(void *items, size_t *cap, size_t used, size_t size, size_t first)
{
	size_t n = *cap ? 2 * *cap : first;
	void *grown;

	if (used < *cap)
		return items;
	grown = realloc(items, n * size);
	if (grown)
		*cap = n;
	return grown;
}
