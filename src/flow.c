/*
 * flow.c: the copy engine.  A flow is bytes going one way, from a source
 * descriptor to a sink: through a kernel pipe with splice(2) where both
 * ends can, else through a user-space buffer (a sink that must see the
 * bytes, a source or sink splice() refuses).  It moves what it is asked to
 * and keeps count of what waits; when to move, and what the bytes mean
 * (lines, datagrams), is its caller's: the relay's policy, the framing.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

/* An empty flow on its buffer, not splicing; -1 and *e if out of memory. */
int flow_init(struct flow *f, struct sp_error *e)
{
	*f = (struct flow){ .buf = io_alloc_buffer(FLOW_BUFFER), .pipe = { -1, -1 } };
	if (!f->buf)
		return fail_errno(e, SP_FAILURE, ENOMEM, "malloc");
	return 0;
}

/*
 * An empty flow with no buffer yet: one that splices may never need it,
 * and a proxy holds thousands of flows.  flow_need_buffer() makes it.
 */
void flow_init_lazy(struct flow *f)
{
	*f = (struct flow){ .buf = NULL, .pipe = { -1, -1 } };
}

/* The buffer, made now if it was not; -1 with errno ENOMEM if it cannot be. */
int flow_need_buffer(struct flow *f)
{
	if (!f->buf)
		f->buf = io_alloc_buffer(FLOW_BUFFER);
	if (f->buf)
		return 0;
	errno = ENOMEM;
	return -1;
}

/* Closes the flow's pipe and frees its buffer; an unset flow is fine. */
void flow_free(struct flow *f)
{
	flow_close_pipe(f);
	free(f->buf);
	f->buf = NULL;
}

bool flow_splices(const struct flow *f)
{
	return f->pipe[0] >= 0;
}

size_t flow_pending(const struct flow *f)
{
	return (flow_splices(f) ? f->in_pipe : 0) + f->end - f->start;
}

size_t flow_room(const struct flow *f)
{
	if (flow_splices(f))
		return f->source_unspliced || f->pipe_full ? 0 : f->pipe_size - f->in_pipe;
	return FLOW_BUFFER - f->end;
}

/* n pending bytes have gone out; once all have, the buffer starts over. */
void flow_took(struct flow *f, size_t n)
{
	f->start += n;
	if (f->start == f->end)
		f->start = f->end = 0;
}

/* Moves the pending bytes to the front: the room after them is all there is. */
void flow_compact(struct flow *f)
{
	memmove(f->buf, f->buf + f->start, f->end - f->start);
	f->end -= f->start;
	f->start = 0;
}

void flow_close_pipe(struct flow *f)
{
	if (f->pipe[0] >= 0) {
		sys_close(f->pipe[0]);
		sys_close(f->pipe[1]);
	}
	f->pipe[0] = f->pipe[1] = -1;
	f->in_pipe = 0;
	f->bounce_out = f->source_unspliced = f->pipe_full = false;
}

/* Forgets what is pending, for a peer that can no longer take it. */
void flow_discard(struct flow *f)
{
	f->start = f->end = 0;
	flow_close_pipe(f);
}

/*
 * A pipe of pipe_size bytes (FLOW_SPLICE_PIPE for one connection) for an
 * empty flow; the flow stays on its buffer if none.
 */
void flow_start_splicing(struct flow *f, size_t pipe_size)
{
	int size;

	if (flow_splices(f) || f->end != f->start || sys_pipe(f->pipe) < 0)
		return;
	/* A smaller pipe still works: only the size it has counts. */
	(void)sys_pipe_size(f->pipe[1], (int)pipe_size);
	size = sys_pipe_size(f->pipe[1], 0);
	if (size <= 0) {
		flow_close_pipe(f);
		return;
	}
	f->pipe_size = (size_t)size;
}

static ssize_t splice_between(int from, int to, size_t n, bool blocking)
{
	return sys_splice(from, to, n, SPLICE_F_MOVE | (blocking ? 0 : SPLICE_F_NONBLOCK));
}

/*
 * Splices from fd into the flow's pipe, returning as read() does.  A
 * source that cannot splice (EINVAL; gVisor says so at a file's end) stops
 * being read until the pipe drains, then the flow goes on with read(): the
 * caller sees EINTR, nothing moved, try again.
 */
ssize_t flow_splice_in(struct flow *f, int fd, bool blocking)
{
	ssize_t n = splice_between(fd, f->pipe[1], flow_room(f), blocking);

	if (n > 0)
		f->in_pipe += (size_t)n;
	/*
	 * A pipe holds whole pages: with bytes in it, it can be full while
	 * in_pipe is below its size.  Then EAGAIN is the pipe's, not the
	 * source's, and input waits until some of the pipe goes out: asking
	 * again at once would spin, since the source is ready all along.
	 */
	if (n < 0 && errno == EAGAIN && f->in_pipe > 0)
		f->pipe_full = true;
	if (n < 0 && errno == EINVAL) {
		f->source_unspliced = true;
		if (f->in_pipe == 0)
			flow_close_pipe(f);
		errno = EINTR;
	}
	return n;
}

/* A sink that cannot splice gets the pipe's bytes through the buffer. */
static ssize_t bounce_out(struct flow *f, int fd)
{
	ssize_t n;

	if (flow_need_buffer(f) < 0)
		return -1;
	if (f->start == f->end && f->in_pipe) {
		n = sys_read(f->pipe[0], f->buf, f->in_pipe < FLOW_BUFFER ? f->in_pipe : FLOW_BUFFER);
		if (n < 0)
			return -1;
		f->in_pipe -= (size_t)n;
		f->pipe_full = false;
		f->start = 0;
		f->end = (size_t)n;
	}
	n = sys_write(fd, f->buf + f->start, f->end - f->start);
	if (n > 0)
		f->start += (size_t)n;	/* the next refill starts it over */
	return n;
}

/* Moves pending bytes out to fd, returning as write() does. */
ssize_t flow_splice_out(struct flow *f, int fd, bool blocking)
{
	ssize_t n;

	if (f->bounce_out)
		return bounce_out(f, fd);
	n = splice_between(f->pipe[0], fd, f->in_pipe, blocking);
	if (n > 0) {
		f->in_pipe -= (size_t)n;
		f->pipe_full = false;
	}
	if (n < 0 && errno == EINVAL) {
		f->bounce_out = true;
		errno = EINTR;
	}
	if (f->in_pipe == 0 && f->source_unspliced)
		flow_close_pipe(f);
	return n;
}
