/*
 * pump.c: flows on the event loop, many at once (proxy).  A flow moves
 * bytes from one end (a descriptor) to another; flow.c makes each move
 * (splice through a pipe, or read and write through a buffer), and the
 * pump decides when: whenever the loop says an end is ready.
 *
 * Each end asks the loop only for what its flows wait for: input while
 * the flow reading it has room, output while the flow writing it has
 * bytes pending.  A full flow stops reading its source, so a slow reader
 * slows its sender (back-pressure), and nothing is asked while nothing
 * can move (no CPU while waiting).  A source's end of data is passed on
 * as a half-close once what it sent has gone out.
 *
 * Bytes go through the kernel by splice(2) only where a flow carries bulk
 * (a read that filled its room): for small messages, a pipe's two splices
 * cost more than a read and a write, and four descriptors per connection
 * more.  Small reads go through one buffer all flows share (one loop, one
 * thread) and straight out; only what the sink does not take at once is
 * kept, in the flow's own buffer, made then.
 *
 * A flow may have a gate (fault.c: delays, rates, slices, limits): then
 * its bytes always go through its own buffer, the gate says how many may
 * go out now, and while it says none the flow sleeps on a loop timer set
 * for the gate's next opening, asking nothing of its sink.
 *
 * An end belongs to one owner (a proxy's connection), told through its
 * on_change(arg) hook after every turn that touched it, as the turn's
 * last act: the owner may then close the ends and free them.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

/* Moves per flow per ready event: enough for bulk, few enough to be fair. */
enum { PUMP_MOVES = 8 };

/* Where small reads land before they go out: every flow's, one at a time. */
static char shared[FLOW_BUFFER];

void pump_end_init(struct pump_end *end, struct event_loop *loop, int fd,
		   void (*on_change)(void *arg), void *arg)
{
	*end = (struct pump_end){ .fd = fd, .loop = loop, .on_change = on_change, .arg = arg };
}

static void gate_opens(void *arg);

/*
 * A flow from one end to another.  may_splice: nothing watches the bytes,
 * so bulk may move through a kernel pipe of FLOW_BUFFER bytes.  Either
 * way FLOW_BUFFER bytes at most wait in the flow.
 */
void pump_flow_init(struct pump_flow *p, struct pump_end *from, struct pump_end *to,
		    bool may_splice)
{
	*p = (struct pump_flow){ .from = from, .to = to, .may_splice = may_splice };
	flow_init_lazy(&p->f);
	event_timer_init(&p->timer, gate_opens, p);
	from->reader = p;
	to->writer = p;
}

/* The flow's bytes pass the gate (before it starts): never by splice. */
void pump_set_gate(struct pump_flow *p, struct fault_gate *gate)
{
	p->gate = gate;
	p->may_splice = false;
}

void pump_flow_free(struct pump_flow *p)
{
	if (p->from)
		event_timer_cancel(p->from->loop, &p->timer);
	flow_free(&p->f);
}

bool pump_failed(const struct pump_flow *p)
{
	return p->read_error || p->write_error;
}

/* Over: its end of data passed on (once dropping, its source's end come too), or failed. */
bool pump_done(const struct pump_flow *p)
{
	return (p->shut && (!p->dropping || p->ended)) || pump_failed(p);
}

static bool wants_input(const struct pump_flow *p)
{
	if (!p || p->ended || pump_failed(p))
		return false;
	if (p->dropping)
		return true;
	return flow_room(&p->f) > 0 && (!p->gate || fault_gate_has_room(p->gate));
}

/* How many pending bytes may go out now; *next: when more may (0: no time set). */
static size_t may_go(const struct pump_flow *p, double *next)
{
	size_t pending = flow_pending(&p->f);

	*next = 0;
	if (!p->gate || !pending)
		return pending;
	return fault_gate_allows(p->gate, pending, clock_now_seconds(), next);
}

static bool wants_output(const struct pump_flow *p)
{
	double next;

	return p && !pump_failed(p) && may_go(p, &next) > 0;
}

/* Pending bytes out to the sink; true if some went (or it is worth trying again). */
static bool move_out(struct pump_flow *p)
{
	struct flow *f = &p->f;
	double next;
	size_t go = pump_failed(p) ? 0 : may_go(p, &next);
	ssize_t n;

	if (!go)
		return false;
	if (flow_splices(f)) {
		n = flow_splice_out(f, p->to->fd, false);
	} else {
		n = sys_write(p->to->fd, f->buf + f->start, go);
		if (n > 0)
			flow_took(f, (size_t)n);
		if (n > 0 && p->gate)
			fault_gate_sent(p->gate, (size_t)n, clock_now_seconds());
		/* Held bytes leave from the front: room made at the back, now and then. */
		if (n > 0 && p->gate && f->start >= FLOW_BUFFER / 2)
			flow_compact(f);
	}
	if (n > 0 || (n < 0 && errno == EINTR))
		return true;
	if (n < 0 && errno != EAGAIN) {
		p->write_error = errno;
		flow_discard(f);
	}
	return false;
}

/* What move_in() found: nothing, less than its room (all the source had
 * now), or its room full (more may wait). */
enum took { TOOK_NOTHING, TOOK_ALL, TOOK_ROOM };

/*
 * An empty flow reads into the shared buffer and writes at once; what the
 * sink does not take is kept in the flow's own.  Returns as read() does.
 */
static ssize_t read_through(struct pump_flow *p, size_t room)
{
	struct flow *f = &p->f;
	ssize_t n = sys_read(p->from->fd, shared, room), w;

	if (n <= 0)
		return n;
	w = sys_write(p->to->fd, shared, (size_t)n);
	if (w < 0 && errno != EAGAIN && errno != EINTR) {
		p->write_error = errno;
		return n;
	}
	if (w == n)
		return n;
	if (w < 0)
		w = 0;
	if (flow_need_buffer(f) < 0) {
		p->write_error = ENOMEM;	/* the bytes cannot be kept: not lost in silence */
		return n;
	}
	memcpy(f->buf, shared + w, (size_t)(n - w));
	f->start = 0;
	f->end = (size_t)(n - w);
	return n;
}

/* Bulk (a read that filled its room) moves by splice once the flow is empty. */
static void splice_if_bulk(struct pump_flow *p)
{
	if (p->may_splice && p->bulk && !flow_splices(&p->f) && flow_pending(&p->f) == 0)
		flow_start_splicing(&p->f, FLOW_BUFFER);
}

/* A dropping flow's source is read and what it says forgotten. */
static ssize_t read_and_drop(struct pump_flow *p)
{
	ssize_t n = sys_read(p->from->fd, shared, sizeof(shared));

	if (n > 0)
		p->dropped += (uint64_t)n;
	return n;
}

/* Into the flow's own buffer, and what the gate keeps of it stays there. */
static ssize_t read_gated(struct pump_flow *p, size_t room)
{
	struct flow *f = &p->f;
	ssize_t n;

	if (flow_need_buffer(f) < 0)
		return -1;
	n = sys_read(p->from->fd, f->buf + f->end, room);
	if (n > 0)
		f->end += fault_gate_take(p->gate, (size_t)n, clock_now_seconds());
	return n;
}

/* What the source has, into the flow's room. */
static enum took move_in(struct pump_flow *p)
{
	struct flow *f = &p->f;
	size_t room;
	ssize_t n;

	if (!wants_input(p))
		return TOOK_NOTHING;
	splice_if_bulk(p);
	room = p->dropping ? sizeof(shared) : flow_room(f);
	if (p->dropping) {
		n = read_and_drop(p);
	} else if (p->gate) {
		n = read_gated(p, room);
	} else if (flow_splices(f)) {
		n = flow_splice_in(f, p->from->fd, false);
		/* A source splice() refuses (EINVAL: gVisor's sockets) is read(). */
		if (f->source_unspliced || !flow_splices(f))
			p->may_splice = false;
	} else if (flow_pending(f) == 0) {
		n = read_through(p, room);
	} else if (flow_need_buffer(f) < 0) {
		p->read_error = errno;
		return TOOK_NOTHING;
	} else {
		n = sys_read(p->from->fd, f->buf + f->end, room);
		if (n > 0)
			f->end += (size_t)n;
	}
	if (n > 0) {
		p->taken += (uint64_t)n;
		if ((size_t)n == room)
			p->bulk = true;
		return (size_t)n < room ? TOOK_ALL : TOOK_ROOM;
	}
	if (n == 0)
		p->ended = true;
	else if (errno == ENOMEM)
		p->read_error = ENOMEM;	/* no buffer: said, not spun on */
	else if (errno == EINTR)
		return TOOK_ROOM;	/* try again: nothing is lost by it */
	else if (errno != EAGAIN)
		p->read_error = errno;
	return TOOK_NOTHING;
}

/*
 * Moves what can move now; the source's end, once drained, is a
 * half-close.  A read that took less than its room took all there was:
 * no second read to meet EAGAIN (a system call a message saved), the
 * loop says when more comes.
 */
static void pump_move(struct pump_flow *p)
{
	for (int i = 0; i < PUMP_MOVES; i++) {
		bool out = move_out(p);
		enum took in = move_in(p);
		if (in == TOOK_ALL || (in == TOOK_NOTHING && !out))
			break;
	}
	/* What came in the last move goes out before the loop waits again. */
	move_out(p);
	if (p->ended && !p->shut && !pump_failed(p) && flow_pending(&p->f) == 0 &&
	    !(p->gate && fault_gate_holds_end(p->gate))) {
		p->shut = true;
		if (sys_shutdown(p->to->fd, SHUT_WR) < 0 && errno != ENOTCONN)
			p->write_error = errno;
	}
}

static event_handler end_ready;

/* Asks the loop for what the end's flows wait for now, and only that. */
static bool alive(const struct pump_flow *p)
{
	return p && !pump_done(p);
}

static void rearm(struct pump_end *end)
{
	unsigned want = (wants_input(end->reader) ? EPOLLIN : 0) |
			(wants_output(end->writer) ? EPOLLOUT : 0);
	int r;

	/*
	 * An end that waits for nothing while a flow on it lives (the other
	 * side is full) must still hear of a reset: epoll reports an error or
	 * hang-up with no event asked, edge-triggered so once, never a spin.
	 */
	if (!want && (alive(end->reader) || alive(end->writer)))
		want = EPOLLET;
	if (end->fd < 0 || want == end->watched)
		return;
	r = want ? event_watch(end->loop, end->fd, want, end_ready, end)
		 : event_forget(end->loop, end->fd);
	if (r == 0) {
		end->watched = want;
		return;
	}
	if (end->reader)
		end->reader->read_error = errno;
	if (end->writer)
		end->writer->write_error = errno;
}

/* A gated flow with bytes the gate holds back sleeps until it opens. */
static void set_gate_timer(struct pump_flow *p)
{
	struct event_loop *loop = p->from->loop;
	double next = 0;

	if (!p->gate || pump_failed(p) || may_go(p, &next) > 0 || next == 0) {
		event_timer_cancel(loop, &p->timer);
		return;
	}
	if (!event_timer_pending(&p->timer) || p->timer.at != next) {
		if (event_timer_set(loop, &p->timer, next) < 0)
			p->write_error = ENOMEM;
	}
}

static void rearm_flow(struct pump_flow *p)
{
	rearm(p->from);
	rearm(p->to);
	set_gate_timer(p);
}

/*
 * The socket's pending error (a reset), for a flow that would not have met
 * it: its reader's, or its writer's when nothing is read from it.
 */
static void take_socket_error(struct pump_end *end)
{
	int err = 0;

	if (sys_getsockopt_int(end->fd, SOL_SOCKET, SO_ERROR, &err) < 0 || err == 0)
		return;
	if (alive(end->reader))
		end->reader->read_error = err;
	else if (alive(end->writer))
		end->writer->write_error = err;
}

static void end_ready(struct event_loop *loop, int fd, unsigned events, void *arg)
{
	struct pump_end *end = arg;
	struct pump_flow *reader = end->reader, *writer = end->writer;

	(void)loop;
	(void)fd;
	if (writer && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		pump_move(writer);
	if (reader && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		pump_move(reader);
	if (events & EPOLLERR)
		take_socket_error(end);
	if (writer)
		rearm_flow(writer);
	if (reader)
		rearm_flow(reader);
	end->on_change(end->arg);	/* last: the owner may free the end */
}

/* Starts a flow: what its source has now moves, and the loop watches the rest. */
void pump_start(struct pump_flow *p)
{
	pump_move(p);
	rearm_flow(p);
}

/* Moves what the flow may move now (its gate changed: faults off or on);
 * the owner looks at the connection after. */
void pump_kick(struct pump_flow *p)
{
	if (!p->from)
		return;
	pump_move(p);
	rearm_flow(p);
}

static void gate_opens(void *arg)
{
	struct pump_flow *p = arg;

	pump_kick(p);
	p->from->on_change(p->from->arg);	/* last: the owner may free the flow */
}

/*
 * The flow ends now, as a normal close: what it holds is forgotten, its
 * sink shut (a half-close), and what its source still sends read and
 * dropped until its end, so that no unread byte turns the close into a
 * reset.
 */
void pump_drop(struct pump_flow *p)
{
	if (!p->from)
		return;
	p->dropped += flow_pending(&p->f);
	flow_discard(&p->f);
	if (p->gate)
		fault_gate_discard(p->gate);
	p->dropping = true;
	if (!p->shut && !pump_failed(p)) {
		p->shut = true;
		if (sys_shutdown(p->to->fd, SHUT_WR) < 0 && errno != ENOTCONN)
			p->write_error = errno;
	}
	pump_kick(p);
}

/* The loop forgets the end (before its descriptor is closed). */
void pump_end_release(struct pump_end *end)
{
	if (end->fd >= 0 && end->watched)
		(void)event_forget(end->loop, end->fd);
	end->watched = 0;
}
