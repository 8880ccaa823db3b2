/*
 * cmd-proxy.c: sockpair proxy LISTEN TARGET: stands between clients and
 * a server nobody here wrote, and relays every connection both ways, so
 * that -x, --stats, --json and --trace show their conversation (socat -v
 * TCP-LISTEN:8080,fork TCP:host:80 is the anchor).
 *
 * Every client is served at once in one event loop.  A connection is two
 * sockets and two flows (pump.c): up, client to server, and down, server
 * to client; each end of data passed on as a half-close, a reset as a
 * reset.  The connect to TARGET does not wait either: the loop watches
 * it, with -w as its deadline, on the loop's timers.
 *
 * It is long (some 860 lines): endpoints, connecting, the connections'
 * lives and their diagnostics, and what a fault's trip or a blackhole's
 * time does to a connection (both sides closed or reset).  The gates that
 * hold the bytes are fault.c's and --swap is swap.c's; what is left all
 * works on struct connection, which a further split would have to share
 * through a header of its own.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <getopt.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/un.h>

/* An endpoint as given: a UNIX path (or @NAME), or a host and a port. */
struct endpoint {
	const char *text;	/* as typed, for messages */
	const char *path;	/* UNIX; NULL: TCP */
	char host[256];
	char port[8];
};

struct proxy_opts {
	struct endpoint listen, target;
	const char *swap;	/* --swap PATH; NULL: LISTEN and TARGET */
	int family, backlog, timeout_ms;
	unsigned long max_clients;
	bool max_clients_given, once;
	struct fault_plan faults;
};

struct proxy;

struct connection {
	struct proxy *px;
	unsigned long number;
	struct connection *prev, *next;	/* the open ones, oldest first */
	struct pump_end client, server;
	struct pump_flow up, down;	/* client to server, server to client */
	const struct addrinfo *trying;	/* connecting: this address, then the next */
	struct event_timer connect_timer;	/* connecting: -w for this address, or a retry */
	double give_up_at;		/* a UNIX TARGET's retries end (-w); 0: never */
	bool retrying;			/* the timer is a UNIX TARGET's next try (its backlog was full) */
	bool connecting;
	bool client_tcp;	/* the client came over TCP (not UNIX) */
	bool faulty;		/* the faults touch it (--faulty): its flows have gates */
	struct fault_gate up_gate, down_gate;
	bool fault_acted;	/* a gate's close or reset was done */
	struct event_timer blackhole_timer;	/* --blackhole=MS: the close */
	struct event_timer reset_timer;		/* --reset-after: until the bytes are out */
	double reset_by;	/* ... the reset comes at the latest */
	const char *ending;	/* "closed by client", ...; NULL: not yet */
	double opened;
	char client_name[128], server_name[128];
};

struct proxy {
	const struct proxy_opts *o;
	struct event_loop *loop;
	int lfd, spare_fd;
	bool accepting;		/* the listener is watched */
	struct unix_listener ul;
	struct swap swap;		/* --swap: ours in the live socket's place */
	struct endpoint target;		/* TARGET; with --swap, the original's new name */
	struct addrinfo *targets;	/* TCP TARGET's addresses; NULL: UNIX */
	struct sockaddr_un target_sun;
	socklen_t target_sun_len;
	struct connection *oldest, *newest;
	unsigned long numbered, open, most;
	uint64_t client_bytes, server_bytes;
	int once_status;	/* --once: the one connection's exit status */
	bool once_over;
	bool faults_on;		/* SIGUSR2 turns them off and on */
};

enum { OPT_ONCE = CMD_LONG_ONLY, OPT_MAX_CLIENTS, OPT_SWAP };

static const struct cmd_option proxy_options[] = {
	{ OPT_SWAP, "swap", "PATH", "stand in a live UNIX socket's place (it moves to\n"
	  "                       PATH.sockpair-orig until the end)" },
	{ OPT_ONCE, "once", NULL, "serve one client, then exit when its connection is over" },
	{ OPT_MAX_CLIENTS, "max-clients", "N", "at most N connections at once; more wait (10000)" },
	{ FAULT_DELAY, "delay", "MS[~J]", "forward each chunk MS ms (+/- J) after it came" },
	{ FAULT_RATE, "rate", "BYTES", "at most BYTES a second (k, M) per connection" },
	{ FAULT_SLICE, "slice", "N[/MS]", "forward in pieces of N bytes, MS ms apart" },
	{ FAULT_CLOSE_AFTER, "close-after", "N", "forward N bytes, then close both sides" },
	{ FAULT_RESET_AFTER, "reset-after", "N", "forward N bytes, then reset both sides" },
	{ FAULT_BLACKHOLE, "blackhole", "[=MS]", "forward nothing; close both sides after MS" },
	{ FAULT_FAULTY, "faulty", "FRAC", "the share of connections the faults touch (0 to 1; 1)" },
	CMD_OPT_TIMEOUT("give up connecting to TARGET after SECS"),
	CMD_OPT_BACKLOG,
	CMD_OPT_IPV4,
	CMD_OPT_IPV6,
	CMD_OPT_END
};

/* ---- the endpoints ------------------------------------------------------- */

/*
 * PORT (LISTEN only: on 127.0.0.1), HOST:PORT, [V6]:PORT, a UNIX path
 * (anything holding a '/') or @NAME.  is_listen: port 0 is a free one.
 */
static void parse_endpoint(const char *arg, bool is_listen, struct endpoint *ep)
{
	const char *what = is_listen ? "LISTEN" : "TARGET";
	struct host_port hp;
	unsigned port;

	*ep = (struct endpoint){ .text = arg };
	if (strchr(arg, '/') || arg[0] == '@') {
		ep->path = cmd_unix_path(arg);
		return;
	}
	if (parse_port(arg, is_listen, &port) == 0) {
		if (!is_listen)
			usage_error("TARGET '%s' needs a host: HOST:PORT (127.0.0.1:%s?)", arg, arg);
		snprintf(ep->host, sizeof(ep->host), "127.0.0.1");
		snprintf(ep->port, sizeof(ep->port), "%u", port);
		return;
	}
	if (addr_split_host_port(arg, strlen(arg), &hp) != 0 || !hp.port || hp.host_len == 0 ||
	    hp.host_len >= sizeof(ep->host))
		usage_error("invalid %s '%s' (PORT, HOST:PORT, [V6]:PORT, a path or @NAME)", what,
			    arg);
	memcpy(ep->host, hp.host, hp.host_len);
	ep->host[hp.host_len] = '\0';
	if (is_listen)
		snprintf(ep->port, sizeof(ep->port), "%s", cmd_server_port(hp.port));
	else
		snprintf(ep->port, sizeof(ep->port), "%u", cmd_client_port(hp.port));
}

static void parse_proxy_options(int argc, char **argv, struct proxy_opts *o)
{
	int c;

	while ((c = cmd_getopt(&cmd_proxy_entry, argc, argv)) != -1) {
		switch (c) {
		case OPT_ONCE: o->once = true; break;
		case OPT_MAX_CLIENTS:
			o->max_clients = cmd_count(optarg, 1000000, "--max-clients", "");
			o->max_clients_given = true;
			break;
		case 'w': o->timeout_ms = cmd_seconds_ms(optarg, "-w"); break;
		case 'b': o->backlog = cmd_parse_backlog(optarg); break;
		case '4': case '6': cmd_set_family(&o->family, c); break;
		case OPT_SWAP: o->swap = cmd_unix_path(optarg); break;
		case FAULT_DELAY: case FAULT_RATE: case FAULT_SLICE: case FAULT_CLOSE_AFTER:
		case FAULT_RESET_AFTER: case FAULT_BLACKHOLE: case FAULT_FAULTY:
			fault_option(&o->faults, c, optarg);
			break;
		}
	}
	if (o->faults.faulty < 1 && !o->faults.any)
		usage_error("--faulty needs a fault to apply (--delay, --rate, --slice, ...)");
	if (o->swap && argc > optind)
		usage_error("--swap PATH takes no LISTEN or TARGET");
	if (o->swap) {
		o->listen = (struct endpoint){ .text = o->swap, .path = o->swap };
		return;
	}
	if (argc - optind < 2)
		usage_error(argc - optind == 0 ? "missing LISTEN and TARGET" : "missing TARGET");
	if (argc - optind > 2)
		usage_error("too many arguments");
	parse_endpoint(argv[optind], true, &o->listen);
	parse_endpoint(argv[optind + 1], false, &o->target);
	if (strcmp(argv[optind], argv[optind + 1]) == 0)
		usage_error("LISTEN and TARGET are the same: '%s' would relay to itself",
			    argv[optind]);
}

/* ---- connections ------------------------------------------------------- */

static void watch_listener(struct proxy *px, bool on);

static void unlink_connection(struct proxy *px, struct connection *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		px->oldest = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		px->newest = c->prev;
}

/* --stats: the connection's line as it ends (or on SIGUSR1, "open"), and
 * its faults' line if it had them. */
static void print_connection_stats(const struct connection *c)
{
	const char *target = c->server_name[0] ? c->server_name : c->px->target.text;
	const char *ending = c->ending ? c->ending : "open";
	double seconds = clock_now_seconds() - c->opened;
	struct record r;

	record_init(&r, RECORD_LINE, "stats");
	record_text(&r, "stats: #%lu %s -> %s %.3f s, client sent %" PRIu64 " bytes, server sent %"
		    PRIu64 " bytes, %s", c->number, c->client_name, target, seconds, c->up.taken,
		    c->down.taken, ending);
	record_integer(&r, "conn", (long long)c->number);
	record_cstring(&r, "client", c->client_name);
	record_cstring(&r, "server", target);
	record_number(&r, "seconds", seconds, 3);
	record_integer(&r, "client_sent", (long long)c->up.taken);
	record_integer(&r, "server_sent", (long long)c->down.taken);
	record_cstring(&r, "ending", ending);
	if (c->faulty)
		fault_add_stats(&r, c->number, &c->up_gate, &c->down_gate, c->up.dropped,
				c->down.dropped);
	event_emit(&r);
}

/*
 * The connection is over: both sockets closed (reset: with SO_LINGER 0,
 * so that the far side sees the reset too), its event said, the listener
 * watched again if --max-clients had stopped it.
 */
static void end_connection(struct connection *c, bool reset)
{
	struct proxy *px = c->px;

	event_timer_cancel(px->loop, &c->blackhole_timer);
	event_timer_cancel(px->loop, &c->reset_timer);
	event_timer_cancel(px->loop, &c->connect_timer);
	pump_end_release(&c->client);
	pump_end_release(&c->server);
	if (reset) {
		(void)sys_set_linger_zero(c->client.fd);
		if (c->server.fd >= 0)
			(void)sys_set_linger_zero(c->server.fd);
	}
	if (c->ending) {
		report_conn_event("closed", c->number, NULL, c->ending, "%s", c->ending);
		if (conn_stats) {
			print_connection_stats(c);
			conn_report_side(c->client.fd);
			if (c->server.fd >= 0)
				conn_report_side(c->server.fd);
		}
	}
	sys_close(c->client.fd);
	if (c->server.fd >= 0)
		sys_close(c->server.fd);
	px->client_bytes += c->up.taken;
	px->server_bytes += c->down.taken;
	pump_flow_free(&c->up);
	pump_flow_free(&c->down);
	fault_gate_free(&c->up_gate);
	fault_gate_free(&c->down_gate);
	unlink_connection(px, c);
	px->open--;
	free(c);
	if (px->o->once)
		px->once_over = true;
	else if (!px->accepting)
		watch_listener(px, true);
}

/* A failure's ending: which side reset (a write refused is its reader's). */
static const char *reset_ending(const struct connection *c)
{
	if (c->up.read_error || c->down.write_error)
		return "reset by client";
	return "reset by server";
}

/* ---- faults: what a gate's trip and a blackhole's time do --------------- */

/* A TCP socket's bytes not yet acknowledged (a reset would lose them); a
 * UNIX one has none: its bytes are in the peer's queue already. */
static int unsent(int fd, bool tcp)
{
	int n = 0;

	if (!tcp || fd < 0 || sys_ioctl_int(fd, SIOCOUTQ, "SIOCOUTQ", &n) < 0)
		return 0;
	return n;
}

/* How long a reset waits for the bytes before it to leave, at most; and how often it looks. */
static const double RESET_WAIT = 1.0, RESET_LOOK = 0.002;

/* The reset after its bytes: once both sockets' queues are empty (the
 * peers have them), or RESET_WAIT later. */
static void reset_when_sent(void *arg)
{
	struct connection *c = arg;
	double now = clock_now_seconds();

	if (now < c->reset_by &&
	    (unsent(c->client.fd, c->client_tcp) || unsent(c->server.fd, !c->px->target_sun_len)) &&
	    event_timer_set(c->px->loop, &c->reset_timer, now + RESET_LOOK) == 0)
		return;
	end_connection(c, true);
}

/* A gate forwarded its count: both sides closed (as a half-close each,
 * the rest dropped) or reset.  Returns true if the reset must be now (no
 * timer could be had for it). */
static bool act_on_trip(struct connection *c, struct fault_gate *g)
{
	c->fault_acted = true;
	fault_report_trip(c->number, g);
	if (g->trip == FAULT_CLOSE) {
		c->ending = "closed by proxy";
		pump_drop(&c->up);
		pump_drop(&c->down);
		return false;
	}
	c->ending = "reset by proxy";
	c->reset_by = clock_now_seconds() + RESET_WAIT;
	/* From the loop, after this turn: the caller still holds the connection. */
	return event_timer_set(c->px->loop, &c->reset_timer, clock_now_seconds()) < 0;
}

static void connection_changed(void *arg);

/* --blackhole=MS: the time after accept is up: both sides closed normally. */
static void blackhole_over(void *arg)
{
	struct connection *c = arg;

	if (!c->px->faults_on || c->fault_acted)
		return;
	c->fault_acted = true;
	fault_report_blackhole(c->number, c->px->o->faults.blackhole_ms);
	c->ending = "closed by proxy";
	if (c->connecting) {
		end_connection(c, false);
		return;
	}
	pump_drop(&c->up);
	pump_drop(&c->down);
	connection_changed(c);
}

/* A faulty connection's gates and timers, as it is accepted; -1: out of memory. */
static int make_faulty(struct connection *c)
{
	struct proxy *px = c->px;
	const struct fault_plan *plan = &px->o->faults;

	c->faulty = true;
	if (fault_gate_init(&c->up_gate, &plan->up, &px->faults_on, c->number, "client") < 0 ||
	    fault_gate_init(&c->down_gate, &plan->down, &px->faults_on, c->number, "server") < 0)
		return -1;
	if (plan->blackhole_ms >= 0)
		return event_timer_set(px->loop, &c->blackhole_timer,
				       c->opened + plan->blackhole_ms / 1000.0);
	return 0;
}

/* SIGUSR2: faults off, or on again, for the open connections too. */
static void toggle_faults(struct proxy *px)
{
	struct connection *c = px->oldest, *next;

	px->faults_on = !px->faults_on;
	report_event("faults", NULL, "faults %s", px->faults_on ? "on" : "off");
	for (; c; c = next) {
		next = c->next;
		if (!c->faulty || c->connecting)
			continue;
		/* Held bytes go at once (off), or wait their turn again (on). */
		pump_kick(&c->up);
		pump_kick(&c->down);
		connection_changed(c);
	}
}

/* ---- a connection's life -------------------------------------------------- */

/* The pump's hook: after each turn, how the connection stands. */
static void connection_changed(void *arg)
{
	struct connection *c = arg;

	if (event_timer_pending(&c->reset_timer) && !pump_failed(&c->up) &&
	    !pump_failed(&c->down))
		return;	/* the reset is on its way */
	if (c->faulty && !c->fault_acted && (c->up_gate.trip || c->down_gate.trip) &&
	    act_on_trip(c, c->up_gate.trip ? &c->up_gate : &c->down_gate)) {
		end_connection(c, true);
		return;
	}
	if (event_timer_pending(&c->reset_timer))
		return;	/* ended by reset_when_sent() */
	if (!c->ending && c->up.ended)
		c->ending = "closed by client";
	else if (!c->ending && c->down.ended)
		c->ending = "closed by server";
	if (pump_failed(&c->up) || pump_failed(&c->down)) {
		if (!c->fault_acted)
			c->ending = reset_ending(c);
		end_connection(c, true);
		return;
	}
	if (pump_done(&c->up) && pump_done(&c->down))
		end_connection(c, false);
}

/* TARGET answered: the flows start, each way. */
static void start_relaying(struct connection *c)
{
	bool splice = !conn_sees_bytes() && !c->faulty;

	c->connecting = false;
	(void)net_name_of(c->server.fd, true, c->server_name, sizeof(c->server_name));
	if (c->px->target_sun_len)
		snprintf(c->server_name, sizeof(c->server_name), "%s", c->px->target.path);
	conn_set_side(c->server.fd, c->number, "server");
	conn_join(c->client.fd, c->server.fd);
	report_conn_event("connected", c->number, c->server_name, NULL, "connected to %s",
			  c->server_name);
	pump_flow_init(&c->up, &c->client, &c->server, splice);
	pump_flow_init(&c->down, &c->server, &c->client, splice);
	if (c->faulty) {
		if (fault_way_active(c->up_gate.way))
			pump_set_gate(&c->up, &c->up_gate);
		if (fault_way_active(c->down_gate.way))
			pump_set_gate(&c->down, &c->down_gate);
		/* Each piece a gate lets go is sent as it goes, not coalesced. */
		(void)sys_setsockopt_int(c->client.fd, IPPROTO_TCP, TCP_NODELAY, 1);
		(void)sys_setsockopt_int(c->server.fd, IPPROTO_TCP, TCP_NODELAY, 1);
	}
	pump_start(&c->up);
	pump_start(&c->down);
	connection_changed(c);
}

/* TARGET cannot be reached: said with the connection's number, the client reset. */
static void connect_failed(struct connection *c, int err)
{
	struct proxy *px = c->px;
	struct sp_error e;
	char name[128];

	if (px->target_sun_len)
		snprintf(name, sizeof(name), "%s", px->target.path);
	else
		addr_format(c->trying->ai_addr, c->trying->ai_addrlen, name, sizeof(name));
	fail_errno(&e, err == ETIMEDOUT ? SP_TIMEOUT : SP_CONNECT, err, "#%lu connect(%s)",
		   c->number, name);
	px->once_status = report_failure(&e);
	end_connection(c, true);
}

static event_handler connect_ready;

/*
 * Begins connecting to sa; the loop watches the socket until it is
 * writable.  Returns 0, or -1 and errno when the attempt failed at once.
 */
static int begin_connect(struct connection *c, const struct sockaddr *sa, socklen_t len)
{
	int timeout_ms = c->px->o->timeout_ms;
	bool done;
	int err;

	c->server.fd = net_connect_start(sa, len, &done);
	if (c->server.fd < 0)
		return -1;
	if (done) {
		start_relaying(c);
		return 0;
	}
	/* -w is this address's: the timer gives up on it, and the next is tried. */
	if (event_watch(c->px->loop, c->server.fd, EPOLLOUT, connect_ready, c) == 0 &&
	    (timeout_ms < 0 || event_timer_set(c->px->loop, &c->connect_timer,
					       clock_now_seconds() + timeout_ms / 1000.0) == 0))
		return 0;
	err = errno;
	(void)event_forget(c->px->loop, c->server.fd);
	sys_close(c->server.fd);
	c->server.fd = -1;
	errno = err;
	return -1;
}

/* How often a UNIX TARGET whose backlog is full is tried again. */
enum { UNIX_RETRY_MS = 20 };

/*
 * A UNIX listener with a full backlog refuses a non-blocking connect with
 * EAGAIN where a blocking one would wait: the client waits as it would
 * have, and the connect is tried again, until -w if given.
 */
static void connect_unix_target(struct connection *c)
{
	struct proxy *px = c->px;
	double now = clock_now_seconds();

	if (begin_connect(c, (const struct sockaddr *)&px->target_sun, px->target_sun_len) == 0)
		return;
	if (errno == EAGAIN && (!c->give_up_at || now < c->give_up_at) &&
	    event_timer_set(px->loop, &c->connect_timer, now + UNIX_RETRY_MS / 1000.0) == 0) {
		c->retrying = true;
		return;
	}
	connect_failed(c, errno == EAGAIN ? ETIMEDOUT : errno);
}

/*
 * The next address TARGET has, after a failed one (err; 0 for the first):
 * every address its name resolves to is tried in turn, each with its -w;
 * a UNIX TARGET has one.
 */
static void try_next_address(struct connection *c, int err)
{
	struct proxy *px = c->px;

	if (px->target_sun_len) {
		if (err)
			connect_failed(c, err);
		else
			connect_unix_target(c);
		return;
	}
	for (const struct addrinfo *next = c->trying ? c->trying->ai_next : px->targets; next;
	     next = next->ai_next) {
		c->trying = next;
		if (begin_connect(c, next->ai_addr, next->ai_addrlen) == 0)
			return;
		err = errno;
	}
	connect_failed(c, err);
}

static void connect_ready(struct event_loop *loop, int fd, unsigned events, void *arg)
{
	struct connection *c = arg;
	int err = net_connect_result(fd);

	(void)events;
	(void)event_forget(loop, fd);
	event_timer_cancel(loop, &c->connect_timer);
	if (err == 0) {
		start_relaying(c);
		return;
	}
	sys_close(fd);
	c->server.fd = -1;
	try_next_address(c, err);
}

/* The connect's timer: a UNIX TARGET tried again, or an address past its -w. */
static void connect_timer_fired(void *arg)
{
	struct connection *c = arg;

	if (c->retrying) {
		c->retrying = false;
		connect_unix_target(c);
		return;
	}
	(void)event_forget(c->px->loop, c->server.fd);
	sys_close(c->server.fd);
	c->server.fd = -1;
	try_next_address(c, ETIMEDOUT);
}

/* The client's name: its address, or an unnamed UNIX client's credentials. */
static void name_client(int fd, const struct sockaddr_storage *ss, socklen_t len, char *name,
			size_t size)
{
	struct ucred cred;

	addr_format((const struct sockaddr *)ss, len, name, size);
	if (ss->ss_family == AF_UNIX && (len <= sizeof(sa_family_t) || name[0] == '\0' ||
					 strcmp(name, "(unnamed)") == 0) &&
	    sys_peer_credentials(fd, &cred) == 0)
		snprintf(name, size, "pid %d uid %u gid %u", (int)cred.pid, (unsigned)cred.uid,
			 (unsigned)cred.gid);
}

static void open_connection(struct proxy *px, int fd, const struct sockaddr_storage *ss,
			    socklen_t len)
{
	struct connection *c = calloc(1, sizeof(*c));

	if (!c) {
		report_error(SP_FAILURE, "#%lu malloc: %s", px->numbered + 1, strerror(ENOMEM));
		sys_close(fd);
		return;
	}
	c->px = px;
	c->number = ++px->numbered;
	c->opened = clock_now_seconds();
	c->prev = px->newest;
	if (px->newest)
		px->newest->next = c;
	else
		px->oldest = c;
	px->newest = c;
	if (++px->open > px->most)
		px->most = px->open;
	name_client(fd, ss, len, c->client_name, sizeof(c->client_name));
	c->client_tcp = ss->ss_family != AF_UNIX;
	event_timer_init(&c->blackhole_timer, blackhole_over, c);
	event_timer_init(&c->reset_timer, reset_when_sent, c);
	event_timer_init(&c->connect_timer, connect_timer_fired, c);
	c->client.fd = -1;	/* until the end is made below */
	c->server.fd = -1;
	if (fault_chosen(&px->o->faults) && make_faulty(c) < 0) {
		report_error(SP_FAILURE, "#%lu malloc: %s", c->number, strerror(ENOMEM));
		c->client.fd = fd;
		end_connection(c, true);
		return;
	}
	report_conn_opened(c->number, c->client_name, c->faulty);
	/* The proxy's from now: summed up in its lines, not as a socket of its own. */
	conn_set_side(fd, c->number, "client");
	pump_end_init(&c->client, px->loop, fd, connection_changed, c);
	pump_end_init(&c->server, px->loop, -1, connection_changed, c);
	c->connecting = true;
	if (px->o->timeout_ms >= 0)
		c->give_up_at = c->opened + px->o->timeout_ms / 1000.0;
	try_next_address(c, 0);
}

static event_handler listener_ready;

static void watch_listener(struct proxy *px, bool on)
{
	int r = on ? event_watch(px->loop, px->lfd, EPOLLIN, listener_ready, px)
		   : event_forget(px->loop, px->lfd);

	if (r == 0)
		px->accepting = on;
}

/* Accepts what is queued, up to --max-clients open (the rest wait in the backlog). */
static void listener_ready(struct event_loop *loop, int fd, unsigned events, void *arg)
{
	struct proxy *px = arg;

	(void)loop;
	(void)events;
	while (px->open < px->o->max_clients && !(px->o->once && px->numbered > 0)) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int client = sys_accept(fd, (struct sockaddr *)&ss, &len,
					SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (client < 0 && (errno == EMFILE || errno == ENFILE)) {
			net_shed_connection(fd, &px->spare_fd);
			report_note("descriptor limit reached: a client was turned away");
			return;
		}
		if (client < 0)
			return;	/* EAGAIN: all taken; anything else: the next event */
		open_connection(px, client, &ss, len);
	}
	watch_listener(px, false);
}

/* ---- the command ----------------------------------------------------------- */

/* TARGET, resolved once (a TCP one) or checked to be a socket (a UNIX one). */
static int prepare_target(struct proxy *px, struct sp_error *e)
{
	const struct endpoint *t = &px->target;
	struct stat st;

	if (!t->path)
		return net_resolve(t->host, t->port, px->o->family, SOCK_STREAM, false,
				   &px->targets, e);
	if (addr_unix(t->path, &px->target_sun, &px->target_sun_len) < 0)
		return fail(e, SP_USAGE, "TARGET %s: path too long or empty", t->path);
	if (t->path[0] != '@' && sys_stat(t->path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return fail(e, SP_CONNECT, "connect(%s): not a socket", t->path);
	return 0;
}

static int open_listener(struct proxy *px, struct sp_error *e)
{
	const struct endpoint *l = &px->o->listen;

	if (px->o->swap) {
		px->lfd = swap_begin(&px->swap, px->o->swap, px->o->backlog, e);
		if (px->lfd < 0)
			return -1;
		/* The original is the target: where it waits now. */
		px->target = (struct endpoint){ .text = px->swap.orig, .path = px->swap.orig };
	} else if (l->path) {
		snprintf(px->ul.path, sizeof(px->ul.path), "%s", l->path);
		px->lfd = net_listen_unix(&px->ul, SOCK_STREAM, px->o->backlog, e);
	} else {
		px->lfd = net_listen_host(l->host, l->port, px->o->family, SOCK_STREAM,
					  px->o->backlog, e);
	}
	if (px->lfd < 0)
		return -1;
	if (sys_set_nonblocking(px->lfd, true) < 0)
		return fail_errno(e, SP_FAILURE, errno, "fcntl(%d, O_NONBLOCK)", px->lfd);
	cmd_announce_listening(px->lfd, l->path);
	return 0;
}

/* SIGUSR1: the line of each open connection, ending "open". */
static void print_open_connections(const struct proxy *px)
{
	for (const struct connection *c = px->oldest; c; c = c->next)
		if (!c->connecting)
			print_connection_stats(c);
}

static int serve(struct proxy *px, struct sp_error *e)
{
	sigset_t waiting;
	int r = 0;

	watch_listener(px, true);
	if (!px->accepting)
		return fail_errno(e, SP_FAILURE, errno, "epoll_ctl(%d)", px->lfd);
	proc_hold_signals(&waiting);
	event_loop_wait_with(px->loop, &waiting);
	while (r == 0 && !proc_stopped_by() && !px->once_over) {
		if (proc_usr1_pending())
			print_open_connections(px);
		if (proc_usr2_pending())
			toggle_faults(px);
		r = event_run_once(px->loop, -1, e) < 0 ? -1 : 0;
	}
	event_loop_wait_with(px->loop, NULL);
	proc_release_signals(&waiting);
	return r < 0 ? -1 : 0;
}

static void print_totals(const struct proxy *px)
{
	struct record r;

	record_init(&r, RECORD_LINE, "totals");
	record_text(&r, "stats: proxy served %lu connections, client sent %" PRIu64 " bytes, "
		    "server sent %" PRIu64 " bytes, at most %lu at once", px->numbered,
		    px->client_bytes, px->server_bytes, px->most);
	record_integer(&r, "served", (long long)px->numbered);
	record_integer(&r, "client_sent", (long long)px->client_bytes);
	record_integer(&r, "server_sent", (long long)px->server_bytes);
	record_integer(&r, "most", (long long)px->most);
	event_emit(&r);
}

static void stop_proxy(struct proxy *px)
{
	while (px->oldest) {
		struct connection *c = px->oldest;
		if (c->connecting && c->server.fd >= 0)
			(void)event_forget(px->loop, c->server.fd);
		/* A fifth ending, the proxy's own: neither side ended it.  One
		 * still connecting had no "connected" and gets no ending. */
		if (!c->ending && !c->connecting)
			c->ending = "closed by proxy";
		end_connection(c, false);
	}
	if (conn_stats)
		print_totals(px);
	/* The original back in its place before ours stops answering. */
	swap_end(&px->swap);
	if (px->lfd >= 0)
		sys_close(px->lfd);
	if (px->spare_fd >= 0)
		sys_close(px->spare_fd);
	net_unix_cleanup(&px->ul);
	if (px->targets)
		freeaddrinfo(px->targets);
	event_loop_free(px->loop);
}

static int cmd_proxy_exec(int argc, char **argv)
{
	struct proxy_opts o = { .family = AF_UNSPEC, .backlog = SOMAXCONN, .timeout_ms = -1,
				.max_clients = 10000 };
	struct proxy px = { .o = &o, .lfd = -1, .spare_fd = -1, .ul = { .dirfd = -1 },
			    .swap = { .ul = { .dirfd = -1 } }, .faults_on = true };
	struct sp_error e;
	int r;

	fault_plan_init(&o.faults);
	parse_proxy_options(argc, argv, &o);
	conn_capture_joins = true;	/* a connection's flow is client to target */
	px.target = o.target;
	proc_stop_on_signals();
	proc_report_on_usr1();
	if (o.faults.any)
		proc_toggle_on_usr2();
	/* Six a connection: two sockets and two pipes of two ends. */
	cmd_raise_descriptor_limit(o.max_clients, 6, !o.max_clients_given);
	px.loop = event_loop_new(&e);
	r = px.loop ? 0 : -1;
	/* --swap's target is where the original waits once it has moved. */
	if (r == 0 && !o.swap)
		r = prepare_target(&px, &e);
	if (r == 0)
		r = open_listener(&px, &e);
	if (r == 0 && o.swap)
		r = prepare_target(&px, &e);
	if (r == 0) {
		px.spare_fd = net_open_spare();
		r = serve(&px, &e);
	}
	stop_proxy(&px);
	if (r < 0)
		return report_failure(&e);
	return o.once ? px.once_status : SP_OK;
}

const struct sp_cmd cmd_proxy_entry = {
	.name = "proxy",
	.capture = CAPTURE_FILE_OR_STDOUT,
	.synopsis = "[--once] [--max-clients N] [FAULTS] [-w SECS] [-b BACKLOG] [-4|-6] LISTEN TARGET | "
		    "--swap PATH",
	.summary = "Relay clients to a server, both ways, to see their conversation (socat -v)",
	.options = proxy_options,
	.notes = "LISTEN and TARGET: PORT (LISTEN only, on 127.0.0.1), HOST:PORT, [V6]:PORT,\n"
		 "a UNIX path (anything with a '/') or @NAME (abstract).  Each connection is\n"
		 "numbered: -x shows '-- #N client sent' and '-- #N server sent' chunks.\n"
		 "A fault's value may begin up: (client to server) or down: (server to\n"
		 "client) for one direction; SIGUSR2 turns the faults off and on.\n",
	.exec = cmd_proxy_exec,
};
