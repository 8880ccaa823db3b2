/*
 * cmd-talkback.c: the manual's "Simple TCP/IP server", for everyone at once.
 *
 * The manual's server serves one client at a time and exits on the first
 * read that fails.  This one keeps its protocol byte for byte (the
 * welcome, lines cut as PHP_NORMAL_READ cuts them, quit, shutdown, "You
 * said") and serves thousands of clients from one epoll loop in which no
 * client can hold up another: what a client may make us hold is bounded,
 * one that stops reading is dropped, and a full descriptor table does not
 * spin the loop.  (Some 750 lines: the protocol, stdout's ordering rule,
 * the idle list and the bounds are each a few functions, kept together
 * because each is the one caller of the next.)
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

static const char welcome[] =
	"\nWelcome to the sockpair talkback server.\n"
	"To quit, type 'quit'. To shut down the server type 'shutdown'.\n";
static const char busy[] = "Server busy.\n";

/* A client that stops reading may make us hold this much, and no more. */
enum { OUTPUT_LIMIT = 1024 * 1024 };

/* What one read() takes from a client; the most accepted in one turn. */
enum { READ_SIZE = 64 * 1024, ACCEPTS_PER_TURN = 256 };

/*
 * What a client said is on stdout before its reply goes out, so that a
 * script that got the reply finds the line in the log: each turn of the
 * loop writes stdout once, with every line the turn read, then the
 * turn's replies (one write per client).  A stdout that cannot take the
 * lines yet holds the replies back with them.  Every SETTLE_EVERY clients
 * answered in a turn, the same happens early.
 */
enum { SETTLE_EVERY = 16 };

/*
 * What stdout may owe before client input waits: a reader that stops
 * (a full pipe) slows the clients, never the server, which goes on
 * welcoming and answers signals.  Input resumes at half of it.
 */
enum { ECHO_LIMIT = 1024 * 1024 };

/* Larger blocks are mmap()ed, so a dropped flooder's queue goes back to
 * the system at free() instead of staying in the heap. */
enum { MMAP_THRESHOLD = 64 * 1024 };

struct talkback_opts {
	const char *port, *address;
	int family, backlog, idle_timeout_ms;
	unsigned long max_clients, max_line;
};

struct server;

struct client {
	struct server *srv;
	int fd;
	bool dead;		/* dropped this turn: freed at its end */
	bool paused;		/* not watched while stdout's queue is full */
	struct line_reader lr;
	struct byte_queue out;	/* replies the socket has not taken yet */
	long long last_active_ms;
	struct client *older, *newer;	/* by last activity, for --idle-timeout */
	struct client *next_dead;
	char peer[48];
};

struct server {
	const struct talkback_opts *o;
	struct event_loop *loop;
	int lfd, spare_fd;
	unsigned long clients;
	struct totals {			/* for --stats at exit */
		unsigned long served, lines, most;
		uint64_t sent, received;
	} totals;
	struct client *oldest, *newest;	/* every client, by last activity */
	struct client *dead;
	struct byte_queue replies;	/* this turn's replies, client after client */
	struct owed {			/* which client each part of replies is for */
		struct client *c;
		size_t start, len;
	} *owed;
	size_t owed_count, owed_cap;
	struct byte_queue echo;		/* our stdout: this turn's lines */
	struct local_end out;		/* stdout, written without blocking */
	bool out_watched;		/* stdout is watched, for EPOLLOUT */
	bool paused;			/* echo is full: client input waits */
	char *readbuf;
	bool shutdown_requested, echo_failed;
};

enum { OPT_MAX_CLIENTS = CMD_LONG_ONLY, OPT_MAX_LINE, OPT_IDLE_TIMEOUT };

static const struct cmd_option talkback_options[] = {
	CMD_OPT_PORT("the port (default 10000; 0 picks a free one)"),
	CMD_OPT_ADDRESS,
	CMD_OPT_BACKLOG,
	CMD_OPT_IPV4,
	CMD_OPT_IPV6,
	{ OPT_MAX_CLIENTS, "max-clients", "N", "serve at most N at once; more get 'Server busy.' (1024)" },
	{ OPT_MAX_LINE, "max-line", "BYTES", "a read ends after BYTES without a line end (2048)" },
	{ OPT_IDLE_TIMEOUT, "idle-timeout", "SECS", "close a client silent for SECS" },
	CMD_OPT_END
};

static void parse_talkback_options(int argc, char **argv, struct talkback_opts *o)
{
	int c;

	while ((c = cmd_getopt(&cmd_talkback_entry, argc, argv)) != -1) {
		switch (c) {
		case 'p': o->port = cmd_server_port(optarg); break;
		case 'a': o->address = optarg; break;
		case 'b': o->backlog = cmd_parse_backlog(optarg); break;
		case '4': case '6': cmd_set_family(&o->family, c); break;
		case OPT_MAX_CLIENTS:
			o->max_clients = cmd_count(optarg, 1000000, "--max-clients", "");
			break;
		case OPT_MAX_LINE:
			o->max_line = cmd_count(optarg, 1024 * 1024, "--max-line", " bytes");
			break;
		case OPT_IDLE_TIMEOUT:
			o->idle_timeout_ms = cmd_seconds_ms(optarg, "--idle-timeout");
			break;
		}
	}
	cmd_no_more_arguments(argc, argv);
}

/* ---- the descriptor table --------------------------------------------- */


/* A client over the descriptor limit is accepted and closed (see net.c). */
static void shed_one_connection(struct server *srv)
{
	net_shed_connection(srv->lfd, &srv->spare_fd);
}

/* ---- clients ---------------------------------------------------------- */

static void idle_list_remove(struct server *srv, struct client *c)
{
	if (c->older)
		c->older->newer = c->newer;
	else if (srv->oldest == c)
		srv->oldest = c->newer;
	if (c->newer)
		c->newer->older = c->older;
	else if (srv->newest == c)
		srv->newest = c->older;
	c->older = c->newer = NULL;
}

/* Every client is on the list, the one longest silent first. */
static void idle_list_append(struct server *srv, struct client *c)
{
	c->last_active_ms = clock_now_ms();
	c->older = srv->newest;
	if (srv->newest)
		srv->newest->newer = c;
	srv->newest = c;
	if (!srv->oldest)
		srv->oldest = c;
}

/* Activity moves a client to the young end; the order matters only to
 * --idle-timeout, which alone pays for keeping it. */
static void mark_active(struct server *srv, struct client *c)
{
	if (srv->o->idle_timeout_ms < 0)
		return;
	idle_list_remove(srv, c);
	idle_list_append(srv, c);
}

static void drop_client(struct server *srv, struct client *c, const char *why)
{
	if (c->dead)
		return;
	report_event("closed", c->peer, "closed %s (%s)", c->peer, why);
	if (!c->paused)
		event_forget(srv->loop, c->fd);
	sys_close(c->fd);
	idle_list_remove(srv, c);
	c->dead = true;
	c->next_dead = srv->dead;
	srv->dead = c;
	srv->clients--;
}

/* Dropped clients are freed only at the end of a turn: a later event of
 * the same epoll_wait() may still name them.  What a queue grew through
 * on its way up lies in the heap between other blocks: after a turn that
 * freed a lagging client's queue, malloc_trim() hands those pages back
 * too, so that a flood leaves no memory behind (clients that quit with
 * nothing queued cost no trim). */
static void free_dead_clients(struct server *srv)
{
	size_t freed = 0;

	while (srv->dead) {
		struct client *c = srv->dead;
		srv->dead = c->next_dead;
		freed += c->out.cap;
		line_release(&c->lr);
		queue_free(&c->out);
		free(c);
	}
	if (freed >= MMAP_THRESHOLD)
		malloc_trim(0);
}

static event_handler client_ready;

static int watch(struct server *srv, struct client *c, unsigned events)
{
	return event_watch(srv->loop, c->fd, events, client_ready, c);
}

/*
 * Sends what the client is owed: straight to the socket while nothing is
 * queued, the rest queued behind EPOLLOUT.  A client whose queue would
 * pass OUTPUT_LIMIT is not reading: it is dropped.
 */
static void send_to_client(struct server *srv, struct client *c, const char *data, size_t n)
{
	ssize_t w = 0;

	if (c->out.len == 0) {
		w = sys_write(c->fd, data, n);
		srv->totals.sent += w > 0 ? (uint64_t)w : 0;
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			drop_client(srv, c, strerror(errno));
			return;
		}
		if (w < 0)
			w = 0;
	}
	if ((size_t)w == n)
		return;
	if (c->out.len + n - (size_t)w > OUTPUT_LIMIT) {
		drop_client(srv, c, "not reading: output queue over 1 MiB");
		return;
	}
	if (c->out.len == 0 && !c->paused && watch(srv, c, EPOLLIN | EPOLLOUT) < 0) {
		drop_client(srv, c, strerror(errno));
		return;
	}
	if (queue_add(&c->out, data + w, n - (size_t)w) < 0)
		drop_client(srv, c, strerror(ENOMEM));
}

static void client_writable(struct server *srv, struct client *c)
{
	ssize_t w = sys_write(c->fd, c->out.buf, c->out.len);

	srv->totals.sent += w > 0 ? (uint64_t)w : 0;
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (w < 0) {
		drop_client(srv, c, strerror(errno));
		return;
	}
	queue_consume(&c->out, (size_t)w);
	if (c->out.len == 0) {
		queue_free(&c->out);	/* held only while a client lags */
		if (watch(srv, c, EPOLLIN) < 0)
			drop_client(srv, c, strerror(errno));
	}
}

static event_handler stdout_ready;

/*
 * stdout watched while it owes bytes, for EPOLLOUT.  One that cannot be
 * watched (a regular file) never makes a write wait either.
 */
static void watch_stdout(struct server *srv, bool want)
{
	int r;

	if (want == srv->out_watched)
		return;
	r = want ? event_watch(srv->loop, srv->out.fd, EPOLLOUT, stdout_ready, srv)
		 : event_forget(srv->loop, srv->out.fd);
	if (r == 0)
		srv->out_watched = want;
}

/* A client whose input must wait is not watched until resume_clients(). */
static void pause_client(struct server *srv, struct client *c)
{
	if (event_forget(srv->loop, c->fd) == 0)
		c->paused = true;
}

static void resume_clients(struct server *srv)
{
	srv->paused = false;
	for (struct client *c = srv->oldest; c; c = c->newer) {
		if (!c->paused)
			continue;
		c->paused = false;
		if (watch(srv, c, EPOLLIN | (c->out.len ? EPOLLOUT : 0)) < 0)
			drop_client(srv, c, strerror(errno));
	}
}

/* stdout failed: said once; the server goes on, and will exit 1. */
static void echo_failure(struct server *srv, const struct sp_error *e)
{
	report_failure(e);
	srv->echo_failed = true;
	queue_free(&srv->echo);
	watch_stdout(srv, false);
	if (srv->paused)
		resume_clients(srv);
}

static void echo_line(struct server *srv, const char *text, size_t n)
{
	struct sp_error e;

	if (srv->echo_failed)
		return;
	if (queue_add(&srv->echo, text, n) < 0 || queue_add(&srv->echo, "\n", 1) < 0) {
		fail_errno(&e, SP_FAILURE, ENOMEM, "write(stdout)");
		echo_failure(srv, &e);
		return;
	}
	if (srv->echo.len >= ECHO_LIMIT)
		srv->paused = true;
}

/*
 * Writes what stdout will take now of everything said since the last
 * flush; the rest waits for EPOLLOUT.  Client input resumes once the
 * queue is down to half its bound.
 */
static void flush_echo(struct server *srv)
{
	struct sp_error e;
	size_t done = 0;

	while (!srv->echo_failed && done < srv->echo.len) {
		ssize_t w = io_local_write(&srv->out, srv->echo.buf + done, srv->echo.len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0) {
			fail_errno(&e, SP_FAILURE, errno, "write(stdout)");
			echo_failure(srv, &e);
			return;
		}
		done += (size_t)w;
	}
	queue_consume(&srv->echo, done);
	watch_stdout(srv, srv->echo.len > 0);
	if (srv->paused && srv->echo.len <= ECHO_LIMIT / 2)
		resume_clients(srv);
}

/*
 * At the end, stdout gets what it is owed, waiting for it unless a signal
 * ends the server: then what it cannot take now is an error, not a
 * silent loss.
 */
static void drain_echo(struct server *srv)
{
	struct pollfd p = { .fd = srv->out.fd, .events = POLLOUT };
	struct sp_error e;

	flush_echo(srv);
	while (srv->echo.len && !proc_stopped_by()) {
		if (sys_poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		flush_echo(srv);
	}
	if (srv->echo.len && !srv->echo_failed) {
		fail_errno(&e, SP_FAILURE, EAGAIN, "write(stdout, %zu bytes unwritten)",
			   srv->echo.len);
		echo_failure(srv, &e);
	}
}

static void settle_turn(struct server *srv, bool force);

/* Notes that replies[start..) is c's, to go out after stdout. */
static void owe(struct server *srv, struct client *c, size_t start)
{
	struct owed *grown;

	if (srv->replies.len == start)
		return;
	if (srv->owed_count == srv->owed_cap) {
		size_t cap = srv->owed_cap ? 2 * srv->owed_cap : 64;
		grown = realloc(srv->owed, cap * sizeof(*grown));
		if (!grown) {
			srv->replies.len = start;
			drop_client(srv, c, strerror(ENOMEM));
			return;
		}
		srv->owed = grown;
		srv->owed_cap = cap;
	}
	srv->owed[srv->owed_count++] = (struct owed){ c, start, srv->replies.len - start };
	/* A few clients' worth at a time, not a whole turn's: the first ones
	 * answered go on talking while the rest are read. */
	if (srv->owed_count >= SETTLE_EVERY)
		settle_turn(srv, false);
}

/* The replies owed, each client's in one write, in the order they came. */
static void send_owed(struct server *srv)
{
	for (size_t i = 0; i < srv->owed_count; i++) {
		struct owed *o = &srv->owed[i];
		if (!o->c->dead)
			send_to_client(srv, o->c, srv->replies.buf + o->start, o->len);
	}
	srv->owed_count = 0;
	srv->replies.len = 0;
}

/*
 * The end of a turn: stdout first, then the replies, once stdout has every
 * line they answer.  force: a client is leaving (quit, shutdown), and
 * what it is owed goes now, even while stdout lags.
 */
static void settle_turn(struct server *srv, bool force)
{
	flush_echo(srv);
	if (srv->echo.len == 0 || force)
		send_owed(srv);
}

/* One piece of input, as the manual's loop body handles it; c's replies
 * this turn begin at replies[*start]. */
static void handle_piece(struct server *srv, struct client *c, const char *text, size_t n,
			 size_t *start)
{
	static const char said[] = "sockpair: You said '", end[] = "'.\n";

	line_trim(&text, &n);
	if (n == 0)
		return;
	if (n == 4 && memcmp(text, "quit", 4) == 0) {
		owe(srv, c, *start);	/* what came before quit is still owed */
		settle_turn(srv, true);
		*start = srv->replies.len;
		drop_client(srv, c, "quit");
		return;
	}
	if (n == 8 && memcmp(text, "shutdown", 8) == 0) {
		report_event("shutdown", c->peer, "shutdown requested by %s", c->peer);
		owe(srv, c, *start);
		settle_turn(srv, true);
		*start = srv->replies.len;
		srv->shutdown_requested = true;
		drop_client(srv, c, "shutdown");
		return;
	}
	if (queue_add(&srv->replies, said, sizeof(said) - 1) < 0 ||
	    queue_add(&srv->replies, text, n) < 0 ||
	    queue_add(&srv->replies, end, sizeof(end) - 1) < 0) {
		drop_client(srv, c, strerror(ENOMEM));
		return;
	}
	srv->totals.lines++;
	echo_line(srv, text, n);
}

/* Reads once, answers every complete piece, in one write. */
static void client_readable(struct server *srv, struct client *c)
{
	ssize_t n = sys_read(c->fd, srv->readbuf, READ_SIZE);
	const char *data = srv->readbuf, *piece;
	size_t left, len, start;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop_client(srv, c, n == 0 ? "end of file" : strerror(errno));
		return;
	}
	srv->totals.received += (uint64_t)n;
	mark_active(srv, c);
	start = srv->replies.len;
	for (left = (size_t)n; !c->dead && !srv->shutdown_requested;) {
		if (!line_next(&c->lr, &data, &left, &piece, &len)) {
			if (len == (size_t)-1)
				drop_client(srv, c, strerror(ENOMEM));
			break;
		}
		handle_piece(srv, c, piece, len, &start);
	}
	if (!c->dead)
		owe(srv, c, start);
	if (!c->dead)
		line_release_idle(&c->lr);
}

static void add_client(struct server *srv, int fd, const char *peer)
{
	struct client *c = calloc(1, sizeof(*c));

	if (!c) {
		sys_close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->lr.max = srv->o->max_line;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	if (watch(srv, c, EPOLLIN) < 0) {
		sys_close(fd);
		free(c);
		return;
	}
	srv->clients++;
	srv->totals.served++;
	if (srv->clients > srv->totals.most)
		srv->totals.most = srv->clients;
	report_event("connection", peer, "connection from %s", peer);
	idle_list_append(srv, c);
	send_to_client(srv, c, welcome, sizeof(welcome) - 1);
}

static void turn_away(int fd, const char *peer)
{
	report_event("refused", peer, "refused %s (server busy)", peer);
	/* A fresh socket takes 13 bytes; one that does not is gone anyway. */
	(void)sys_write(fd, busy, sizeof(busy) - 1);
	sys_close(fd);
}

/* Accepts what is waiting, a bounded number a turn, so clients get served. */
static void accept_clients(struct server *srv)
{
	for (int i = 0; i < ACCEPTS_PER_TURN; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct sp_error e;
		char peer[48];
		int fd = sys_accept(srv->lfd, (struct sockaddr *)&ss, &len,
				    SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				shed_one_connection(srv);
			else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				fail_errno(&e, SP_FAILURE, errno, "accept4(%d)", srv->lfd);
				report_failure(&e);
			}
			return;
		}
		addr_format((struct sockaddr *)&ss, len, peer, sizeof(peer));
		if (srv->clients >= srv->o->max_clients)
			turn_away(fd, peer);
		else
			add_client(srv, fd, peer);
	}
}

static void expire_idle_clients(struct server *srv)
{
	long long now = clock_now_ms();

	while (srv->oldest && now - srv->oldest->last_active_ms >= srv->o->idle_timeout_ms)
		drop_client(srv, srv->oldest, "idle");
}

/* Milliseconds until the oldest client idles out; -1: never. */
static int next_expiry(const struct server *srv)
{
	long long left;

	if (srv->o->idle_timeout_ms < 0 || !srv->oldest)
		return -1;
	left = srv->oldest->last_active_ms + srv->o->idle_timeout_ms - clock_now_ms();
	return left < 0 ? 0 : (int)left;
}

/* ---- the handlers the loop calls ------------------------------------- */

static void listener_ready(struct event_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop, (void)fd, (void)events;
	accept_clients(arg);
}

static void stdout_ready(struct event_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop, (void)fd, (void)events;
	settle_turn(arg, false);
}

static void client_ready(struct event_loop *loop, int fd, unsigned events, void *arg)
{
	struct client *c = arg;
	struct server *srv = c->srv;

	(void)loop, (void)fd;
	if (c->dead || srv->shutdown_requested)
		return;
	if (events & EPOLLOUT)
		client_writable(srv, c);
	if (c->dead || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if (srv->paused)
		pause_client(srv, c);
	else
		client_readable(srv, c);
}

static int serve(struct server *srv, struct sp_error *e)
{
	sigset_t waiting;
	int r = 0;

	/* Signals come only while the loop waits: none is missed before it. */
	proc_hold_signals(&waiting);
	event_loop_wait_with(srv->loop, &waiting);
	while (r == 0 && !srv->shutdown_requested && !proc_stopped_by()) {
		if (proc_usr1_pending())
			stats_report_connections();
		r = event_run_once(srv->loop, next_expiry(srv), e) < 0 ? -1 : 0;
		if (r < 0)
			break;
		if (srv->o->idle_timeout_ms >= 0)
			expire_idle_clients(srv);
		settle_turn(srv, false);
		free_dead_clients(srv);
	}
	event_loop_wait_with(srv->loop, NULL);
	proc_release_signals(&waiting);
	return r < 0 ? -1 : 0;
}

/* ---- start and end ---------------------------------------------------- */

static int open_listener(const struct talkback_opts *o, struct sp_error *e)
{
	int fd = net_listen_host(o->address, o->port, o->family, SOCK_STREAM, o->backlog, e);

	if (fd < 0)
		return -1;
	/* accept() must never block the loop: a client may reset first. */
	if (sys_set_nonblocking(fd, true) < 0) {
		fail_errno(e, SP_FAILURE, errno, "fcntl(%d, O_NONBLOCK)", fd);
		sys_close(fd);
		return -1;
	}
	cmd_announce_listening(fd, NULL);
	return fd;
}

static int start_server(struct server *srv, struct sp_error *e)
{
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	io_open_local(STDOUT_FILENO, O_WRONLY, &srv->out);
	srv->readbuf = malloc(READ_SIZE);
	if (!srv->readbuf)
		return fail_errno(e, SP_FAILURE, ENOMEM, "malloc");
	srv->lfd = open_listener(srv->o, e);
	if (srv->lfd < 0)
		return -1;
	srv->loop = event_loop_new(e);
	if (!srv->loop)
		return -1;
	if (event_watch(srv->loop, srv->lfd, EPOLLIN, listener_ready, srv) < 0)
		return fail_errno(e, SP_FAILURE, errno, "epoll_ctl(%d)", srv->lfd);
	srv->spare_fd = net_open_spare();
	return 0;
}

static void print_totals(const struct totals *t)
{
	struct record r;

	record_init(&r, RECORD_LINE, "totals");
	record_text(&r, "stats: talkback served %lu clients, %lu lines, sent %" PRIu64 " bytes, "
		    "received %" PRIu64 " bytes, at most %lu at once", t->served, t->lines, t->sent,
		    t->received, t->most);
	record_integer(&r, "served", (long long)t->served);
	record_integer(&r, "lines", (long long)t->lines);
	record_integer(&r, "sent", (long long)t->sent);
	record_integer(&r, "received", (long long)t->received);
	record_integer(&r, "most", (long long)t->most);
	event_emit(&r);
}

/* SIGINT, SIGTERM and "shutdown" all end here: every client closed. */
static void stop_server(struct server *srv)
{
	while (srv->oldest)
		drop_client(srv, srv->oldest, "server shutting down");
	free_dead_clients(srv);
	if (conn_stats)
		print_totals(&srv->totals);
	drain_echo(srv);
	io_close_local(&srv->out);
	if (srv->lfd >= 0)
		sys_close(srv->lfd);
	if (srv->spare_fd >= 0)
		sys_close(srv->spare_fd);
	event_loop_free(srv->loop);
	queue_free(&srv->replies);
	free(srv->owed);
	queue_free(&srv->echo);
	free(srv->readbuf);
}

static int cmd_talkback_exec(int argc, char **argv)
{
	struct talkback_opts o = { .port = "10000", .family = AF_UNSPEC, .backlog = SOMAXCONN,
				   .max_clients = 1024, .max_line = 2048, .idle_timeout_ms = -1 };
	struct server srv = { .o = &o, .lfd = -1, .spare_fd = -1 };
	struct sp_error e;
	int r;

	parse_talkback_options(argc, argv, &o);
	proc_stop_on_signals();
	proc_report_on_usr1();
	conn_name_peers = true;
	cmd_raise_descriptor_limit(o.max_clients, 1, false);
	r = start_server(&srv, &e);
	if (r == 0)
		r = serve(&srv, &e);
	stop_server(&srv);
	if (r < 0)
		return report_failure(&e);
	return srv.echo_failed ? SP_FAILURE : SP_OK;
}

const struct sp_cmd cmd_talkback_entry = {
	.name = "talkback",
	.capture = CAPTURE_FILE,
	.synopsis = "[-p PORT] [-a ADDRESS] [-b BACKLOG] [-4|-6] [--max-clients N] [--max-line BYTES]"
		    " [--idle-timeout SECS]",
	.summary = "The manual's simple TCP server, serving many clients at once",
	.options = talkback_options,
	.exec = cmd_talkback_exec,
};
