/*
 * io.c: moving bytes.  Traced read and write, the loops that finish a
 * partial transfer, and io_relay(): the one relay loop behind listen,
 * connect and fork-echo -i.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

ssize_t io_read(int fd, void *buf, size_t n)
{
	ssize_t r = read(fd, buf, n);

	trace_data("read", fd, buf, n, r);
	return r;
}

ssize_t io_write(int fd, const void *buf, size_t n)
{
	ssize_t r = write(fd, buf, n);

	trace_data("write", fd, buf, n, r < 0 ? r : (ssize_t)n);
	return r;
}

/* Writes all n bytes to a blocking descriptor; -1 and *e on failure. */
int io_write_all(int fd, const void *buf, size_t n, struct sp_error *e)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = io_write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return fail_errno(e, SP_FAILURE, errno, "write(%d)", fd);
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes every byte of iov[0..count) to a blocking descriptor; -1 and *e on failure. */
int io_writev_all(int fd, struct iovec *iov, int count, struct sp_error *e)
{
	while (count > 0) {
		ssize_t w = writev(fd, iov, count);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return fail_errno(e, SP_FAILURE, errno, "write(%s)",
					  fd == STDOUT_FILENO ? "stdout" : "socket");
		for (; count > 0 && (size_t)w >= iov->iov_len; iov++, count--)
			w -= (ssize_t)iov->iov_len;
		if (count > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Reads until n bytes or end of file; returns the count, -1 and *e on error. */
ssize_t io_read_full(int fd, void *buf, size_t n, struct sp_error *e)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = io_read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail_errno(e, SP_FAILURE, errno, "read(%d)", fd);
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/*
 * Flushes stdout while errno still says why it failed: a check made later
 * only finds ferror() set and the reason gone.  -1 and *e on failure.
 */
int io_flush_stdout(struct sp_error *e)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	return fail_errno(e, SP_FAILURE, ferror(stdout) && errno == 0 ? EIO : errno,
			  "write(stdout)");
}

/* ---- the relay ------------------------------------------------------ */

/* Large enough that a loopback connection moves at memory speed. */
enum { RELAY_BUFFER = 256 * 1024 };

static volatile sig_atomic_t stop_signal;

static void remember_signal(int sig)
{
	stop_signal = sig;
}

/*
 * SIGINT and SIGTERM interrupt poll() (no SA_RESTART) and end the relay
 * cleanly, so that the caller can close, unlink and restore the terminal.
 */
void io_stop_on_signals(void)
{
	struct sigaction sa = { .sa_handler = remember_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int io_stopped_by(void)
{
	return stop_signal;
}

/* Bytes going one way: read from one side into buf, written to the other. */
struct flow {
	char *buf;
	size_t start, end;	/* pending bytes are buf[start..end) */
	bool source_done;	/* end of file, or the source is gone */
};

static size_t flow_pending(const struct flow *f)
{
	return f->end - f->start;
}

static size_t flow_room(struct flow *f)
{
	if (f->start == f->end)
		f->start = f->end = 0;
	return RELAY_BUFFER - f->end;
}

struct relay_state {
	const struct relay *r;
	struct flow up;		/* local input -> peer */
	struct flow down;	/* peer -> local output */
	bool peer_write_shut;
	struct sp_error *e;
};

/* A descriptor whose flags only we see: a pipe or socket we were given. */
static void make_nonblocking_unless_terminal(int fd, int *saved)
{
	*saved = -1;
	if (fd < 0 || isatty(fd))
		return;
	*saved = fcntl(fd, F_GETFL);
	if (*saved >= 0 && !(*saved & O_NONBLOCK))
		fcntl(fd, F_SETFL, *saved | O_NONBLOCK);
}

static void restore_flags(int fd, int saved)
{
	if (fd >= 0 && saved >= 0)
		fcntl(fd, F_SETFL, saved);
}

static int read_local(struct relay_state *s)
{
	struct flow *f = &s->up;
	ssize_t n;

	if (s->r->editor) {
		editor_read_key(s->r->editor);
		f->end += editor_take(s->r->editor, f->buf + f->end, flow_room(f));
		if (editor_at_eof(s->r->editor))
			f->source_done = true;
		return 0;
	}
	n = read(s->r->in_fd, f->buf + f->end, flow_room(f));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0)
		return fail_errno(s->e, SP_FAILURE, errno, "read(stdin)");
	if (n == 0)
		f->source_done = true;
	f->end += (size_t)n;
	return 0;
}

/* The editor may hold a line longer than the room we had last time. */
static void take_held_line(struct relay_state *s)
{
	struct flow *f = &s->up;

	if (s->r->editor && flow_room(f) > 0)
		f->end += editor_take(s->r->editor, f->buf + f->end, flow_room(f));
}

static int write_peer(struct relay_state *s)
{
	struct flow *f = &s->up;
	ssize_t n = io_write(s->r->peer_fd, f->buf + f->start, flow_pending(f));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
		/* The peer stopped reading; what it says next still counts. */
		f->start = f->end = 0;
		f->source_done = true;
		s->peer_write_shut = true;
		return 0;
	}
	if (n < 0)
		return fail_errno(s->e, SP_FAILURE, errno, "write(%s)", s->r->peer_name);
	f->start += (size_t)n;
	return 0;
}

static int read_peer(struct relay_state *s)
{
	struct flow *f = &s->down;
	ssize_t n = io_read(s->r->peer_fd, f->buf + f->end, flow_room(f));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0)
		return fail_errno(s->e, SP_FAILURE, errno, "read(%s)", s->r->peer_name);
	if (n == 0)
		f->source_done = true;
	f->end += (size_t)n;
	return 0;
}

static int write_local(struct relay_state *s)
{
	struct flow *f = &s->down;
	ssize_t n;

	if (s->r->editor) {
		editor_print(s->r->editor, f->buf + f->start, flow_pending(f));
		f->start = f->end;
		return 0;
	}
	n = write(s->r->out_fd, f->buf + f->start, flow_pending(f));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0)
		return fail_errno(s->e, SP_FAILURE, errno, "write(stdout)");
	f->start += (size_t)n;
	return 0;
}

/* Half-close: the peer sees end of file, and we keep reading its reply. */
static int shut_peer_write_when_drained(struct relay_state *s)
{
	if (s->peer_write_shut || !s->up.source_done || flow_pending(&s->up))
		return 0;
	s->peer_write_shut = true;
	if (net_shutdown(s->r->peer_fd, SHUT_WR) < 0 && errno != ENOTCONN)
		return fail_errno(s->e, SP_FAILURE, errno, "shutdown(%s)", s->r->peer_name);
	return 0;
}

enum { SLOT_IN, SLOT_PEER, SLOT_OUT, SLOTS };

static void plan_poll(struct relay_state *s, struct pollfd *p)
{
	bool want_input = !s->up.source_done && flow_room(&s->up) > 0;
	bool want_peer_data = !s->down.source_done && flow_room(&s->down) > 0;

	p[SLOT_IN] = (struct pollfd){ .fd = want_input ? s->r->in_fd : -1,
				      .events = POLLIN };
	p[SLOT_PEER] = (struct pollfd){ .fd = s->r->peer_fd };
	if (want_peer_data)
		p[SLOT_PEER].events |= POLLIN;
	if (flow_pending(&s->up))
		p[SLOT_PEER].events |= POLLOUT;
	p[SLOT_OUT] = (struct pollfd){
		.fd = flow_pending(&s->down) ? s->r->out_fd : -1, .events = POLLOUT
	};
}

/* One turn: every side that poll() says can move, moves. */
static int relay_turn(struct relay_state *s, const struct pollfd *p)
{
	short in = p[SLOT_IN].revents, peer = p[SLOT_PEER].revents;

	if ((in & (POLLIN | POLLHUP | POLLERR)) && read_local(s) < 0)
		return -1;
	if ((peer & (POLLOUT | POLLERR)) && flow_pending(&s->up) && write_peer(s) < 0)
		return -1;
	if ((peer & (POLLIN | POLLHUP | POLLERR)) && !s->down.source_done &&
	    read_peer(s) < 0)
		return -1;
	if ((p[SLOT_OUT].revents & (POLLOUT | POLLERR)) && write_local(s) < 0)
		return -1;
	take_held_line(s);
	return shut_peer_write_when_drained(s);
}

static int relay_loop(struct relay_state *s)
{
	struct pollfd p[SLOTS];

	while (!(s->down.source_done && flow_pending(&s->down) == 0)) {
		if (stop_signal)
			return 0;
		plan_poll(s, p);
		if (poll(p, SLOTS, -1) < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno(s->e, SP_FAILURE, errno, "poll");
		}
		if (relay_turn(s, p) < 0)
			return -1;
	}
	return 0;
}

/*
 * Relays local input to the peer and the peer to local output until the
 * peer closes, half-closing when input ends.  Returns 0 when the peer
 * closed or a stop signal came (io_stopped_by() tells which), -1 and *e
 * on error.
 */
int io_relay(const struct relay *r, struct sp_error *e)
{
	struct relay_state s = { .r = r, .e = e };
	int in_flags, out_flags, peer_flags, result = -1;

	s.up.buf = malloc(RELAY_BUFFER);
	s.down.buf = malloc(RELAY_BUFFER);
	if (!s.up.buf || !s.down.buf) {
		fail_errno(e, SP_FAILURE, ENOMEM, "malloc");
		goto out;
	}
	make_nonblocking_unless_terminal(r->editor ? -1 : r->in_fd, &in_flags);
	make_nonblocking_unless_terminal(r->editor ? -1 : r->out_fd, &out_flags);
	make_nonblocking_unless_terminal(r->peer_fd, &peer_flags);
	result = relay_loop(&s);
	restore_flags(r->editor ? -1 : r->in_fd, in_flags);
	restore_flags(r->editor ? -1 : r->out_fd, out_flags);
	restore_flags(r->peer_fd, peer_flags);
out:
	free(s.up.buf);
	free(s.down.buf);
	return result;
}
