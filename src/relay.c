/*
 * relay.c: the one relay loop behind listen, connect and fork-echo -i:
 * stdin to the peer and the peer to stdout, binary-safe, with half-close,
 * in the manner of OpenBSD nc's readwrite().  Its state is its own: callers
 * give options and a peer, and get a result.  The bytes move through two
 * flows (flow.c), one each way; this file is the policy: when each side
 * moves, framing (--crlf, datagrams, packets), the ends and the errors.
 *
 * It is long (some 850 lines) because one connection's policy has many
 * modes: a terminal's editor, datagrams with no end, packets, descriptors
 * passed either way, any descriptor as the peer (--attach), sendfile, and
 * a one-way blocking mode and optimistic turns that make a bulk transfer
 * run at the kernel's own splice speed.  Running it on pump.c, as proxy
 * runs, is the step that would shorten it (issue 21).
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct relay {
	struct relay_options o;
	int peer_fd;
	const char *peer_name;	/* for error lines */
	struct local_end in, out;	/* in_fd and out_fd as moved */
	/* peer_any: the peer as read and written, like stdin and stdout:
	 * never a flag set on a description its sender shares. */
	struct local_end peer_in, peer_out;
	bool out_shares_stderr;	/* one terminal: an event must start a line */
	struct flow up;		/* local input -> peer */
	struct flow down;	/* peer -> local output */
	bool peer_write_shut, last_was_cr;
	bool local_failed;	/* the failure was stdin's or stdout's */
	bool lost;		/* input could not be delivered: lost_error at the end */
	bool peer_failed;	/* reading the peer failed: peer_error once the
				   bytes received before it are on stdout */
	bool side_done;		/* the side channel has ended */
	struct sp_error lost_error, peer_error;
	bool one_way;		/* one direction left: blocking calls, no poll() */
	unsigned long moves;	/* reads and writes that did something */
	unsigned stuck;		/* moves that met EAGAIN since the last poll() */
	struct sockaddr_storage sender;
	socklen_t sender_len;
	struct sockaddr_storage from;	/* the sender of what is being received */
	socklen_t from_len;
	struct sys_control control;	/* on_control: what came beside the data */
	bool detached;		/* on_control ended the relay (--attach) */
	bool fds_sent;		/* send_fds have gone with the first bytes */
	bool peer_sends_nothing;	/* peer_any open for writing only */
};

/* Moves that met EAGAIN wait for poll(), not for the next optimistic turn. */
enum { STUCK_IN = 1, STUCK_PEER_OUT = 2, STUCK_PEER_IN = 4, STUCK_OUT = 8 };

/* Nothing moved now: EAGAIN (mark the move stuck) or EINTR (just retry). */
static bool nothing_now(struct relay *r, unsigned move)
{
	if (errno == EAGAIN)
		r->stuck |= move;
	return errno == EAGAIN || errno == EINTR;
}

/* What one sendfile() is asked to move: as a splice pipe's worth. */
enum { SENDFILE_CHUNK = 1024 * 1024 };

/* The largest UDP payload over IPv4; longer lines go out in pieces. */
enum { DATAGRAM_MAX = 65507 };

/* Takes n new input bytes at up.end, framed for --crlf (see input_room). */
static void add_input(struct relay *r, size_t n)
{
	struct flow *f = &r->up;

	f->end += r->o.crlf ? frame_crlf(f->buf + f->end, n, &r->last_was_cr) : n;
}

/* Whether the peer is read with recvmsg(), for what comes beside the data. */
static bool reads_control(const struct relay *r)
{
	return r->o.on_control && !r->o.peer_any;
}

/* Whether the peer's messages keep their boundaries: datagrams, packets. */
static bool peer_sends_messages(const struct relay *r)
{
	return r->o.datagrams || r->o.packet_max;
}

/*
 * The calls that move each way, as error lines name them (SPEC: the
 * failing call).  They follow the choices the moves themselves make.
 */
static const char *flow_out_call(const struct flow *f, bool sink_socket)
{
	if (flow_splices(f))
		return f->bounce_out ? "write" : "splice";
	return sink_socket ? "sendto" : "write";
}

static const char *peer_write_call(const struct relay *r)
{
	if (r->o.tls)
		return "SSL_write";
	if (r->up.sendfile)
		return "sendfile";
	if (flow_splices(&r->up))
		return flow_out_call(&r->up, true);
	if (r->o.send_nfds > 0 && !r->fds_sent)
		return "sendmsg";
	return r->o.reply_to_sender ? "sendto" : "write";
}

static const char *peer_read_call(const struct relay *r)
{
	if (r->o.tls)
		return "SSL_read";
	if (flow_splices(&r->down))
		return "splice";
	if (reads_control(r))
		return "recvmsg";
	return r->o.reply_to_sender || peer_sends_messages(r) ? "recvfrom" : "read";
}

static const char *local_read_call(const struct relay *r)
{
	if (flow_splices(&r->up))
		return "splice";
	return r->in.socket ? "recvfrom" : "read";
}

/* The room input may fill: half of it under --crlf, for the "\r"s. */
static size_t input_room(const struct relay *r)
{
	size_t room = flow_room(&r->up);

	return r->o.crlf ? room / 2 : room;
}

static int read_local(struct relay *r, struct sp_error *e)
{
	ssize_t n;

	if (r->up.sendfile)
		return 0;	/* sendfile() reads as it sends: see write_peer */
	if (r->o.editor) {
		editor_read_key(r->o.editor);
		add_input(r, editor_take(r->o.editor, r->up.buf + r->up.end, input_room(r)));
		if (editor_at_eof(r->o.editor))
			r->up.source_done = true;
		return 0;
	}
	if (flow_splices(&r->up))
		n = flow_splice_in(&r->up, r->in.fd, r->one_way);
	else
		n = io_local_read(&r->in, r->up.buf + r->up.end, input_room(r));
	if (n < 0 && nothing_now(r, STUCK_IN))
		return 0;
	if (n < 0) {
		r->local_failed = true;
		return fail_errno(e, SP_FAILURE, errno, "%s(stdin)", local_read_call(r));
	}
	if (n == 0)
		r->up.source_done = true;
	if (!flow_splices(&r->up))
		add_input(r, (size_t)n);
	r->moves++;
	return 0;
}

/* The editor may hold a line longer than the room we had last time. */
static void take_held_line(struct relay *r)
{
	if (r->o.editor && input_room(r) > 0)
		add_input(r, editor_take(r->o.editor, r->up.buf + r->up.end, input_room(r)));
}

/*
 * What the next write to the peer carries: on a stream, all that is
 * pending; to a packet peer, a packet's worth; over datagrams, one line
 * (or what is left at end of input), so that each line is one datagram.
 * 0 while a line is still incomplete: only a line longer than a datagram
 * goes out in pieces.
 */
static size_t next_send(const struct relay *r)
{
	const struct flow *f = &r->up;
	size_t n = flow_pending(f);

	if (f->sendfile)
		return f->source_done ? 0 : SENDFILE_CHUNK;
	if (r->o.packet_max)
		return n < r->o.packet_max ? n : r->o.packet_max;
	if (!r->o.datagrams || flow_splices(f))
		return n;
	return frame_datagram(f->buf + f->start, n, DATAGRAM_MAX, f->source_done);
}

/*
 * A line being gathered for a datagram must not be cut at the buffer's
 * end while lines already sent left room at its front: it moves there,
 * once per buffer's worth.  It is shorter than a datagram, so input then
 * has a datagram's room or more, "\r"s and all.
 */
_Static_assert((FLOW_BUFFER - DATAGRAM_MAX) / 2 >= DATAGRAM_MAX, "a line grows to a datagram");

static void make_room_for_line(struct relay *r)
{
	if (r->o.datagrams && r->up.start > 0 && input_room(r) < DATAGRAM_MAX &&
	    next_send(r) == 0)
		flow_compact(&r->up);
}

static ssize_t send_to_peer(struct relay *r, size_t n)
{
	const char *data = r->up.buf + r->up.start;
	ssize_t w;

	if (r->o.tls)
		return tls_write(r->o.tls, data, n);
	if (r->o.send_nfds > 0 && !r->fds_sent) {
		w = sys_sendmsg(r->peer_fd, data, n, r->o.send_fds, r->o.send_nfds, MSG_NOSIGNAL);
		r->fds_sent = w > 0;
		return w;
	}
	if (r->o.peer_any)
		return io_local_write(&r->peer_out, data, n);
	if (!r->o.reply_to_sender)
		return sys_write(r->peer_fd, data, n);
	return sys_sendto(r->peer_fd, data, n, 0, (struct sockaddr *)&r->sender, r->sender_len);
}

/*
 * The peer can take no more (a reset, a close) while input it was meant to
 * get is pending: that input is dropped, and the relay will end with the
 * error, never silently.  Input not yet read from stdin stays there.
 */
static void input_undelivered(struct relay *r, const char *call, int err)
{
	if (!r->lost)
		fail_errno(&r->lost_error, SP_FAILURE, err, "%s(%s)", call, r->peer_name);
	r->lost = true;
	flow_discard(&r->up);
	r->peer_write_shut = true;
}

static int write_peer(struct relay *r, struct sp_error *e)
{
	size_t n = next_send(r);
	bool spliced = flow_splices(&r->up);
	ssize_t w;

	if (n == 0)
		return 0;
	if (r->up.sendfile)
		w = sys_sendfile(r->peer_fd, r->in.fd, n);
	else
		w = spliced ? flow_splice_out(&r->up, r->peer_fd, r->one_way) : send_to_peer(r, n);
	if (w < 0 && nothing_now(r, STUCK_PEER_OUT))
		return 0;
	if (w < 0 && r->up.sendfile && errno == EINVAL) {
		r->up.sendfile = false;	/* a file sendfile() cannot read: read() it */
		return 0;
	}
	if (w < 0 && r->up.sendfile && (errno == EBADF || errno == EIO)) {
		/* sendfile() read stdin for us: the failure is stdin's. */
		r->local_failed = true;
		return fail_errno(e, SP_FAILURE, errno, "sendfile(stdin)");
	}
	if (w < 0 && !r->o.datagrams && (errno == EPIPE || errno == ECONNRESET)) {
		/* Input is lost: an error at the end; what the peer says next
		 * still goes to stdout first. */
		input_undelivered(r, peer_write_call(r), errno);
		return 0;
	}
	if (w < 0 && r->o.tls && errno == EPROTO)
		return tls_fail(r->o.tls, r->peer_name, e);
	if (w < 0)
		return fail_errno(e, errno == ECONNREFUSED ? SP_CONNECT : SP_FAILURE, errno,
				  "%s(%s)", peer_write_call(r), r->peer_name);
	if (r->up.sendfile && w == 0)
		r->up.source_done = true;
	else if (!spliced && !r->up.sendfile && w > 0)
		flow_took(&r->up, (size_t)w);
	r->moves++;
	return 0;
}

/* An unconnected socket: a new sender is the one replies go to. */
static void note_sender(struct relay *r)
{
	if (r->from_len == r->sender_len && !memcmp(&r->from, &r->sender, r->from_len))
		return;
	memcpy(&r->sender, &r->from, r->from_len);
	r->sender_len = r->from_len;
	if (r->o.on_sender)
		r->o.on_sender(r->o.arg, (struct sockaddr *)&r->from, r->from_len);
}

/*
 * A message read with recvmsg(): its sender, then what came beside its
 * data (on_control), then the data shown (-x), in that order (SPEC).
 */
static ssize_t receive_message(struct relay *r, void *buf, size_t room, int flags,
			       struct sockaddr *from)
{
	const struct sys_control *c = &r->control;
	ssize_t n = sys_recvmsg(r->peer_fd, buf, room, flags, from, &r->from_len, &r->control);
	int err = errno;

	if (n >= 0 && from)
		note_sender(r);
	if (n >= 0 && (c->nfds || c->has_creds || c->truncated) &&
	    r->o.on_control(r->o.arg, c, buf, n > (ssize_t)room ? (ssize_t)room : n))
		r->detached = true;
	errno = err;
	sys_recvmsg_seen(r->peer_fd, buf, room, n, from, r->from_len);
	errno = err;
	return n;
}

/*
 * The room the peer's next read may fill.  A message is received whole,
 * into an empty buffer: 256 KiB, more than UDP carries or a UNIX datagram
 * under the default send buffer; never cut at the end of a part-full one.
 */
static size_t peer_room(const struct relay *r)
{
	if (peer_sends_messages(r) && flow_pending(&r->down) > 0)
		return 0;
	return flow_room(&r->down);
}

static ssize_t receive_from_peer(struct relay *r)
{
	struct flow *f = &r->down;
	struct sockaddr *from = r->o.reply_to_sender ? (struct sockaddr *)&r->from : NULL;
	/* A message longer than the room says so, by its length. */
	int flags = peer_sends_messages(r) ? MSG_TRUNC : 0;
	ssize_t n;

	r->from_len = sizeof(r->from);
	if (r->o.tls)
		return tls_read(r->o.tls, f->buf + f->end, peer_room(r));
	if (reads_control(r))
		return receive_message(r, f->buf + f->end, peer_room(r), flags, from);
	if (from || flags)
		n = sys_recvfrom(r->peer_fd, f->buf + f->end, peer_room(r), flags, from,
				 from ? &r->from_len : NULL);
	else if (r->o.peer_any)
		return io_local_read(&r->peer_in, f->buf + f->end, peer_room(r));
	else
		return sys_read(r->peer_fd, f->buf + f->end, peer_room(r));
	if (n >= 0 && from)
		note_sender(r);
	return n;
}

/*
 * Reading the peer failed (a reset, say).  Bytes it sent before are in
 * the buffer or the pipe: they go to stdout first (SPEC: nothing received
 * is dropped), then the relay ends with the error.  Nothing more can go to
 * the peer: input still pending is lost with the connection.
 */
static void peer_failed(struct relay *r, int err)
{
	if (r->o.tls && err == EPROTO)
		tls_fail(r->o.tls, r->peer_name, &r->peer_error);
	else
		fail_errno(&r->peer_error, err == ECONNREFUSED ? SP_CONNECT : SP_FAILURE, err,
			   "%s(%s)", peer_read_call(r), r->peer_name);
	r->peer_failed = true;
	r->down.source_done = true;
	/* Input not yet sent stays for listen -k's next client; none goes here. */
	r->peer_write_shut = true;
}

/* A peer that is not a socket (--attach) ends with EIO (a terminal hung
 * up) or EBADF (not open for reading), where a socket would read 0. */
static bool peer_any_ended(const struct relay *r)
{
	return r->o.peer_any && (errno == EIO || errno == EBADF);
}

static int read_peer(struct relay *r, struct sp_error *e)
{
	bool spliced = flow_splices(&r->down);
	ssize_t n = spliced ? flow_splice_in(&r->down, r->peer_fd, r->one_way) : receive_from_peer(r);

	if (n < 0 && nothing_now(r, STUCK_PEER_IN))
		return 0;
	if (r->detached || (n < 0 && peer_any_ended(r))) {
		/* What the peer passed takes over; nothing more goes to it. */
		if (r->detached)
			r->peer_write_shut = true;
		r->down.source_done = true;
		return 0;
	}
	if (n < 0) {
		peer_failed(r, errno);
		return 0;
	}
	if (!spliced && (size_t)n > peer_room(r))
		return fail(e, SP_FAILURE, "%s(%s): a message of %zd bytes, more than the %zu"
			    " sockpair takes", peer_read_call(r), r->peer_name, n, peer_room(r));
	/* A datagram may be empty; only a stream ends with a read of 0. */
	if (n == 0 && !r->o.datagrams)
		r->down.source_done = true;
	if (!spliced)
		r->down.end += (size_t)n;
	r->moves++;
	return 0;
}

static int write_local(struct relay *r, struct sp_error *e)
{
	struct flow *f = &r->down;
	const char *written_end;
	ssize_t n;

	if (r->o.editor) {
		editor_print(r->o.editor, f->buf + f->start, flow_pending(f));
		flow_took(f, flow_pending(f));
		return 0;
	}
	if (flow_splices(f)) {
		n = flow_splice_out(f, r->out.fd, r->one_way);
		written_end = f->buf + f->start;	/* what bounce_out wrote */
	} else {
		n = io_local_write(&r->out, f->buf + f->start, flow_pending(f));
		written_end = f->buf + f->start + (n > 0 ? n : 0);
		if (n > 0)
			flow_took(f, (size_t)n);
	}
	/* Data without its "\n" leaves the line open: an event line on the
	 * same terminal ends it first, instead of gluing onto it. */
	if (n > 0 && r->out_shares_stderr)
		out_note_open_line(written_end[-1] != '\n');
	if (n < 0 && nothing_now(r, STUCK_OUT))
		return 0;
	if (n < 0) {
		r->local_failed = true;
		return fail_errno(e, SP_FAILURE, errno, "%s(stdout)",
				  flow_out_call(f, r->out.socket));
	}
	r->moves++;
	return 0;
}

/* Our close_notify is due and has not gone out: the socket was full. */
static bool closing_tls(const struct relay *r)
{
	return r->o.tls && !r->peer_write_shut && r->up.source_done && !flow_pending(&r->up);
}

/* Half-close: the peer sees end of file, and we keep reading its reply. */
static int shut_peer_write_when_drained(struct relay *r, struct sp_error *e)
{
	if (r->peer_write_shut || !r->up.source_done || flow_pending(&r->up))
		return 0;
	/* TLS's own end first, then the TCP end: a full socket retries it. */
	if (r->o.tls && tls_close_notify(r->o.tls) < 0 && errno == EAGAIN) {
		r->stuck |= STUCK_PEER_OUT;
		return 0;
	}
	if (r->o.send_nfds > 0 && !r->fds_sent) {
		/* No data to carry the descriptors: a "\0" byte does, as nc -F's.
		 * Nothing is pending, so the buffer starts over. */
		r->up.start = 0;
		r->up.buf[0] = '\0';
		r->up.end = 1;
		return 0;
	}
	r->peer_write_shut = true;
	if (r->o.datagrams)
		return 0;	/* nothing marks the end of a datagram exchange */
	if (sys_shutdown(r->peer_fd, SHUT_WR) < 0 && errno != ENOTCONN &&
	    !(r->o.peer_any && errno == ENOTSOCK))
		return fail_errno(e, SP_FAILURE, errno, "shutdown(%s)", r->peer_name);
	return 0;
}

enum { SLOT_IN, SLOT_PEER, SLOT_OUT, SLOT_SIDE, SLOTS };

/*
 * TLS moves what it must, not what was asked: a read may wait for the
 * socket to take a write (a key update's answer), a write for data to
 * come (a renegotiation), and our close_notify for room.
 */
static void plan_tls_poll(const struct relay *r, struct pollfd *peer)
{
	if (tls_read_needs_write(r->o.tls) || closing_tls(r))
		peer->events |= POLLOUT;
	if (tls_write_needs_read(r->o.tls)) {
		peer->events &= ~POLLOUT;
		peer->events |= POLLIN;
	}
}

static void plan_poll(struct relay *r, struct pollfd *p)
{
	make_room_for_line(r);
	/* Unconnected datagrams: no one to send to until someone writes. */
	bool can_send = !r->o.reply_to_sender || r->sender_len > 0;
	bool want_input = !r->up.source_done && !r->peer_write_shut && !r->up.sendfile &&
			  input_room(r) > 0 &&
			  can_send;
	bool want_peer_data = !r->down.source_done && peer_room(r) > 0;

	p[SLOT_IN] = (struct pollfd){ .fd = want_input ? r->in.poll_fd : -1, .events = POLLIN };
	p[SLOT_PEER] = (struct pollfd){ .fd = r->peer_fd };
	if (want_peer_data)
		p[SLOT_PEER].events |= POLLIN;
	if (next_send(r) > 0 && can_send && !r->peer_write_shut)
		p[SLOT_PEER].events |= POLLOUT;
	if (r->o.tls)
		plan_tls_poll(r, &p[SLOT_PEER]);
	/*
	 * With no events asked poll() still reports POLLHUP and POLLERR: watched
	 * for while the peer has ended and we might still send (see
	 * drop_input_if_peer_gone), otherwise left out, or they would spin.
	 */
	if (!p[SLOT_PEER].events && !(r->down.source_done && !r->peer_write_shut))
		p[SLOT_PEER].fd = -1;
	p[SLOT_OUT] = (struct pollfd){
		.fd = flow_pending(&r->down) ? r->out.fd : -1, .events = POLLOUT
	};
	p[SLOT_SIDE] = (struct pollfd){
		.fd = r->o.on_side && !r->side_done ? r->o.side_fd : -1, .events = POLLIN
	};
}

/*
 * After the peer's end of data, a hang-up means it is gone both ways (a
 * closed UNIX socket, a reset): input still to send has nowhere to go.  A
 * TCP peer's FIN alone says only that it stopped sending, and may be a
 * half-close, so over TCP we go on sending until a write is refused.
 */
static void drop_input_if_peer_gone(struct relay *r, short revents)
{
	if (!(revents & (POLLHUP | POLLERR)) || !r->down.source_done || r->peer_write_shut)
		return;
	if (flow_pending(&r->up))
		input_undelivered(r, peer_write_call(r), EPIPE);
	r->peer_write_shut = true;
}

/* One turn: every side that poll() says can move, moves. */
static int relay_turn(struct relay *r, const struct pollfd *p, struct sp_error *e)
{
	short in = p[SLOT_IN].revents, peer = p[SLOT_PEER].revents;

	/* TLS: either way's readiness may be what the other way waits for. */
	if (r->o.tls && peer)
		peer |= POLLIN | POLLOUT;

	/*
	 * What was read before goes out before anything more is read: a read
	 * may wait (one-way mode blocks), and bytes that arrived must never
	 * wait with it (SPEC: written as they arrive).
	 */
	if ((peer & (POLLOUT | POLLERR)) && next_send(r) > 0 && !r->peer_write_shut &&
	    write_peer(r, e) < 0)
		return -1;
	if ((p[SLOT_OUT].revents & (POLLOUT | POLLERR)) && flow_pending(&r->down) &&
	    write_local(r, e) < 0)
		return -1;
	if ((in & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) && read_local(r, e) < 0)
		return -1;
	/* A hang-up with no room waits: a read of 0 bytes would look like the end. */
	if ((peer & (POLLIN | POLLHUP | POLLERR)) && !r->down.source_done && peer_room(r) > 0 &&
	    read_peer(r, e) < 0)
		return -1;
	if (p[SLOT_SIDE].revents && !r->o.on_side(r->o.arg, r->o.side_fd))
		r->side_done = true;
	drop_input_if_peer_gone(r, peer);
	take_held_line(r);
	return shut_peer_write_when_drained(r, e);
}

/*
 * The idle timeout fails a stream whose peer went silent.  It is the
 * normal end of a datagram exchange, which has no other, and of a stream
 * whose peer has finished while our input is what lingers.
 */
static int idle_expired(struct relay *r, struct sp_error *e)
{
	if (r->lost || r->peer_failed) {
		*e = r->lost ? r->lost_error : r->peer_error;
		return -1;
	}
	if (r->o.datagrams || r->down.source_done)
		return 0;
	return fail_errno(e, SP_TIMEOUT, ETIMEDOUT, "read(%s)", r->peer_name);
}

/*
 * The idle timeout is the peer's silence.  While what it sent waits for
 * stdout, it is stdout that is slow (and the peer, unread, may be held
 * back by us): no timer runs, and what came is written however slowly
 * stdout takes it, never dropped when a timer runs out.
 */
static int poll_timeout(const struct relay *r)
{
	if (flow_pending(&r->down) > 0)
		return -1;
	return r->o.idle_timeout_ms;
}

/* Whether stdin has something to read (or its end) without waiting. */
static bool input_ready_now(const struct relay *r)
{
	struct pollfd p = { .fd = r->in.poll_fd, .events = POLLIN };

	return sys_poll(&p, 1, 0) == 1;
}

/*
 * Done when both ways are: the peer's end of data is on stdout, and our
 * input has ended and gone out (or the peer refused it).  The peer's end
 * alone is a half-close: it may still read what we send.  On a terminal,
 * though, nobody should type to a peer that has gone quiet: there the
 * peer's end of data ends the relay, as it ends telnet.  With
 * end_with_peer (nc -l's rule), the peer's end ends the relay once what
 * stdin holds now has gone out; what arrives later is not waited for.
 */
static bool relay_finished(const struct relay *r)
{
	bool peer_done = r->down.source_done && flow_pending(&r->down) == 0;

	if (!peer_done)
		return false;
	if (r->peer_failed || r->peer_write_shut)
		return true;
	if (r->peer_sends_nothing)
		return false;	/* a write-only peer ends with our input */
	if (r->o.editor || r->in.terminal)
		return true;
	return r->o.end_with_peer && flow_pending(&r->up) == 0 && !input_ready_now(r);
}

/*
 * With one direction finished and no idle timeout to keep, a blocking
 * call can hold nothing up: the other direction's ends go blocking, and
 * each splice waits in the kernel for what it can move, a pipe-full at
 * most, instead of meeting EAGAIN and waiting in poll().  relay_run()
 * restores the descriptors' flags at the end.
 */
static void enter_one_way(struct relay *r)
{
	bool down_done = r->down.source_done && flow_pending(&r->down) == 0;
	bool up_done = r->peer_write_shut;
	const struct flow *active = down_done ? &r->up : &r->down;
	struct pollfd hup = { .fd = r->peer_fd };

	/* Blocking on stdin is for a relay that waits for its end anyway. */
	if (r->one_way || down_done == up_done || r->o.idle_timeout_ms >= 0 ||
	    r->o.editor || r->o.datagrams || r->o.peer_any || !(flow_splices(active) || active->sendfile) ||
	    (down_done && r->o.end_with_peer))
		return;
	/*
	 * An end of data read in an optimistic turn came without poll()'s
	 * revents: before blocking on our input, make sure the peer has not
	 * hung up both ways, with nowhere left to send it.
	 */
	if (down_done && sys_poll(&hup, 1, 0) == 1) {
		drop_input_if_peer_gone(r, hup.revents);
		if (r->peer_write_shut)
			return;
	}
	/* Only a description of our own: the others block already, or never. */
	if (sys_set_nonblocking(r->peer_fd, false) < 0 ||
	    ((down_done ? &r->in : &r->out)->owned &&
	     sys_set_nonblocking(down_done ? r->in.fd : r->out.fd, false) < 0))
		return;	/* stays in two-way mode, which works on any flags */
	r->one_way = true;
}

/*
 * After a turn that moved bytes, the next one just tries again, as if
 * every descriptor were ready: a system call saved per move, where a
 * system call is dear (gVisor).  Only descriptors that cannot block are
 * tried so; a terminal waits for poll().
 */
static void assume_ready(const struct relay *r, struct pollfd *p)
{
	bool blocks[SLOTS] = { r->in.poll_first || r->o.editor,
			       r->o.peer_any && (r->peer_in.poll_first || r->peer_out.poll_first),
			       r->out.poll_first || r->o.editor, true };
	short stuck[SLOTS] = {
		r->stuck & STUCK_IN ? POLLIN : 0,
		(r->stuck & STUCK_PEER_IN ? POLLIN : 0) | (r->stuck & STUCK_PEER_OUT ? POLLOUT : 0),
		r->stuck & STUCK_OUT ? POLLOUT : 0,
		0,	/* the side channel is read when poll() says so */
	};

	for (int i = 0; i < SLOTS; i++)
		p[i].revents = p[i].fd >= 0 && !blocks[i] ? p[i].events & ~stuck[i] : 0;
}

/* What poll() found ready is stuck no more. */
static void unstick(struct relay *r, const struct pollfd *p)
{
	if (p[SLOT_IN].revents)
		r->stuck &= ~STUCK_IN;
	if (p[SLOT_PEER].revents & (POLLIN | POLLHUP | POLLERR))
		r->stuck &= ~STUCK_PEER_IN;
	if (p[SLOT_PEER].revents & (POLLOUT | POLLHUP | POLLERR))
		r->stuck &= ~STUCK_PEER_OUT;
	if (r->o.tls && p[SLOT_PEER].revents)	/* see relay_turn */
		r->stuck &= ~(STUCK_PEER_IN | STUCK_PEER_OUT);
	if (p[SLOT_OUT].revents)
		r->stuck &= ~STUCK_OUT;
}

static int relay_loop(struct relay *r, struct sp_error *e)
{
	struct pollfd p[SLOTS];
	bool moved = false;

	while (!relay_finished(r)) {
		unsigned long before = r->moves;
		int ready;

		if (proc_stopped_by())
			return 0;
		if (proc_usr1_pending())
			stats_report_connections();
		if (r->o.editor)
			editor_follow_signals(r->o.editor);
		enter_one_way(r);
		plan_poll(r, p);
		if (moved) {
			assume_ready(r, p);
		} else {
			ready = sys_poll(p, SLOTS, poll_timeout(r));
			if (ready < 0 && errno == EINTR)
				continue;
			if (ready < 0)
				return fail_errno(e, SP_FAILURE, errno, "poll");
			if (ready == 0)
				return idle_expired(r, e);
			unstick(r, p);
		}
		if (relay_turn(r, p, e) < 0)
			return -1;
		moved = r->moves != before;
	}
	if (r->lost || r->peer_failed) {
		*e = r->lost ? r->lost_error : r->peer_error;
		return -1;
	}
	return 0;
}

/*
 * Bytes that need no looking at can stay in the kernel: splice(2) through
 * a pipe, no copy to us and back.  Not for a terminal, typed or shown
 * through readline, not under --crlf, which rewrites bytes, and not for
 * datagrams or packets, which keep their boundaries.
 */
static void choose_splicing(struct relay *r)
{
	/* A descriptor passed to us (--attach) may block: read() and write(). */
	bool plain = !r->o.editor && !peer_sends_messages(r) && !conn_sees_bytes() && !r->o.peer_any &&
		     !r->o.tls;

	/*
	 * Descriptors travel with bytes we send or receive ourselves.  A
	 * regular file goes to a stream peer by sendfile(2): no pipe between.
	 */
	if (plain && !r->o.crlf && r->in.regular && !r->o.send_nfds && !r->o.peer_any &&
	    flow_pending(&r->up) == 0)
		r->up.sendfile = true;
	else if (plain && !r->o.crlf && !r->in.terminal && !r->in.socket && !r->o.send_nfds)
		flow_start_splicing(&r->up, FLOW_SPLICE_PIPE);
	if (plain && !r->out.terminal && !r->out.socket && !reads_control(r))
		flow_start_splicing(&r->down, FLOW_SPLICE_PIPE);
}

static bool same_terminal(int a, int b)
{
	struct stat sa, sb;

	return sys_fstat(a, &sa) == 0 && sys_fstat(b, &sb) == 0 && S_ISCHR(sa.st_mode) &&
	       sa.st_rdev == sb.st_rdev;
}

/*
 * A peer passed by a client (--attach) shares its open file description
 * with the sender: O_NONBLOCK set there would outlive us (a SIGKILL leaves
 * a pty that breaks the sender's shell).  It is moved as stdin and stdout
 * are: a socket with MSG_DONTWAIT, a pipe or terminal through a reopening
 * of our own, anything else only when poll() says it is ready.
 */
static int relay_any_peer(struct relay *r, struct sp_error *e)
{
	int flags = sys_get_flags(r->peer_fd), result;
	int mode = flags < 0 ? O_RDWR : flags & O_ACCMODE;

	/*
	 * Only the ways the descriptor goes: a pipe's read end reopened for
	 * writing would be a writer of our own, and we would never see its end
	 * (and read back what we wrote).
	 */
	r->peer_in = r->peer_out = (struct local_end){ .fd = r->peer_fd, .poll_fd = r->peer_fd };
	if (mode != O_WRONLY)
		io_open_local(r->peer_fd, O_RDONLY, &r->peer_in);
	else
		r->down.source_done = r->peer_sends_nothing = true;
	if (mode != O_RDONLY)
		io_open_local(r->peer_fd, O_WRONLY, &r->peer_out);
	else
		r->peer_write_shut = true;
	result = relay_loop(r, e);
	io_close_local(&r->peer_in);
	io_close_local(&r->peer_out);
	return result;
}

/*
 * Relays local input to the peer and the peer to local output until the
 * peer closes (a stream), the idle timeout passes (datagrams), or a stop
 * signal comes (proc_stopped_by() tells), half-closing when input ends.
 * Input read but not yet sent stays in r for the next call, so that
 * listen -k hands it to the next client.  Returns 0, or -1 and *e.
 */
int relay_run(struct relay *r, int peer_fd, const char *peer_name, struct sp_error *e)
{
	int peer_flags = -1, result;

	r->peer_fd = peer_fd;
	r->peer_name = peer_name;
	flow_discard(&r->down);
	r->down.source_done = false;
	r->up.sendfile = false;
	r->peer_write_shut = r->detached = false;
	r->lost = r->local_failed = r->peer_failed = false;
	r->stuck = 0;
	r->one_way = false;
	io_open_local(r->o.in_fd, O_RDONLY, &r->in);
	io_open_local(r->o.out_fd, O_WRONLY, &r->out);
	r->out_shares_stderr = r->out.terminal && same_terminal(r->o.out_fd, STDERR_FILENO);
	choose_splicing(r);
	if (r->o.peer_any)
		result = relay_any_peer(r, e);
	else if ((peer_flags = sys_set_nonblocking(peer_fd, true)) < 0)
		result = fail_errno(e, SP_FAILURE, errno, "fcntl(%s, O_NONBLOCK)", peer_name);
	else
		result = relay_loop(r, e);
	if (!r->o.peer_any)
		sys_restore_flags(peer_fd, peer_flags);
	io_close_local(&r->in);
	io_close_local(&r->out);
	return result;
}

/* Input typed through readline from now on (NULL: none); the caller keeps
 * the editor and closes it after the relay is done with it. */
void relay_set_editor(struct relay *r, struct editor *ed)
{
	r->o.editor = ed;
}

/*
 * Whether the next peers may be any descriptor a client passed (--attach):
 * read and written as they are, without recvmsg(); false: sockets again.
 */
void relay_set_peer_any(struct relay *r, bool any)
{
	r->o.peer_any = any;
}

/* Whether the last relay_run() failed on stdin or stdout, not the peer. */
bool relay_failed_locally(const struct relay *r)
{
	return r->local_failed;
}

/* The relay for these options; NULL and *e when memory is short. */
struct relay *relay_new(const struct relay_options *o, struct sp_error *e)
{
	struct relay *r = calloc(1, sizeof(*r));

	if (!r) {
		fail_errno(e, SP_FAILURE, ENOMEM, "malloc");
		return NULL;
	}
	r->o = *o;
	r->control = (struct sys_control){ .want_fds = o->recv_fds, .want_creds = o->recv_creds };
	if (r->o.idle_timeout_ms == 0)
		r->o.idle_timeout_ms = -1;
	r->up.pipe[0] = r->down.pipe[0] = -1;	/* relay_free() may meet them unset */
	if (flow_init(&r->up, e) < 0 || flow_init(&r->down, e) < 0) {
		relay_free(r);
		return NULL;
	}
	return r;
}

/* Frees the relay and closes its pipes; NULL is fine. */
void relay_free(struct relay *r)
{
	if (!r)
		return;
	flow_free(&r->up);
	flow_free(&r->down);
	free(r);
}
