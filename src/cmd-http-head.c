/*
 * cmd-http-head.c: the manual's "Simple TCP/IP client", a one-shot HEAD.
 *
 * The manual connects to port 80 of a host, sends a HEAD request, prints
 * whatever comes back until the server closes, and reports failures as
 * warnings while carrying on.  Here every address of the host is tried,
 * each step says OK or failed with the reason, the response head is read
 * up to its blank line (never waiting for a body), and every way a server
 * can misbehave (silence, a drip, endless headers, garbage, a reset) ends
 * within -w seconds with its own exit status.  Progress goes to stderr, the
 * head alone to stdout.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct http_head_opts {
	struct http_target target;
	unsigned port;		/* 0: the target's, or the www service's */
	const char *path;	/* --path, else the target's */
	int family, timeout_ms;
	bool timing;		/* --timing: curl's -w times after the head */
	struct tls_options tls;	/* https:// and its options */
	unsigned long count;	/* -n: requests one after the other; 0: one, verbose */
	int interval_ms;	/* -i: the pause between them */
};

/* The times of one request, in ms since it began, as curl's -w names them. */
enum phase { NAMELOOKUP, CONNECT, APPCONNECT, PRETRANSFER, STARTTRANSFER, TOTAL, PHASES };
static const char *const phase_names[PHASES] = {
	"namelookup", "connect", "appconnect", "pretransfer", "starttransfer", "total"
};

/* One request: how it went, and whether it talks about it as it goes. */
struct attempt {
	bool verbose;		/* the manual's progress lines */
	bool tls;		/* https: appconnect is one of its phases */
	unsigned long repeat;	/* -n: which request this is; 0: the one */
	double start;		/* clock_now_seconds() at its beginning */
	double ms[PHASES];
	int code;		/* the final head's status code */
};

enum { OPT_PATH = CMD_LONG_ONLY, OPT_TIMING };

static const struct cmd_option http_head_options[] = {
	CMD_OPT_PORT("the port (default: the URL's, else www's: 80)"),
	{ OPT_PATH, "path", "PATH", "the path to ask for (default: the URL's, else /)" },
	CMD_OPT_IPV4,
	CMD_OPT_IPV6,
	CMD_OPT_TIMEOUT("for each connection attempt, and for the whole\n"
			"                       response head (default 10)"),
	{ OPT_TIMING, "timing", NULL, "print the time of each step, as curl -w names them" },
	{ 'n', "count", "N", "N requests, one after the other, and a summary" },
	{ 'i', "interval", "SECS", "with -n, wait SECS between requests (default 0)" },
	CMD_OPT_CAFILE,
	CMD_OPT_SNI,
	CMD_OPT_ALPN,
	CMD_OPT_INSECURE,
	CMD_OPT_END
};

/* HOST PORT, as connect takes them: the port said once. */
static void take_port_argument(struct http_head_opts *o, const char *arg)
{
	if (o->port)
		usage_error("unexpected argument '%s' (-p gave the port already)", arg);
	if (o->target.port)
		usage_error("unexpected argument '%s' (the URL gave the port already)", arg);
	o->port = cmd_client_port(arg);
}

static void parse_http_head_options(int argc, char **argv, struct http_head_opts *o)
{
	char why[256];
	int c;

	while ((c = cmd_getopt(&cmd_http_head_entry, argc, argv)) != -1) {
		switch (c) {
		case 'p': o->port = cmd_client_port(optarg); break;
		case OPT_PATH:
			if (http_check_path(optarg, why, sizeof(why)) < 0)
				usage_error("%s", why);
			o->path = optarg;
			break;
		case '4': case '6': cmd_set_family(&o->family, c); break;
		case 'w': o->timeout_ms = cmd_seconds_ms(optarg, "timeout"); break;
		case OPT_TIMING: o->timing = true; break;
		case 'n': o->count = cmd_count(optarg, 1000000, "count", ""); break;
		case 'i':
			o->interval_ms = strcmp(optarg, "0") == 0 ? 0 : cmd_seconds_ms(optarg, "interval");
			break;
		default: cmd_tls_option(c, optarg, &o->tls); break;
		}
	}
	if (o->interval_ms && !o->count)
		usage_error("-i is the pause between the requests of -n");
	if (argc - optind == 0)
		usage_error("missing HOST or URL");
	if (argc - optind > 2)
		usage_error("unexpected argument '%s'", argv[optind + 2]);
	if (http_parse_target(argv[optind], &o->target, why, sizeof(why)) < 0)
		usage_error("%s", why);
	o->tls.on = o->target.https;
	cmd_check_tls_options(&o->tls, "give an https:// URL");
	if (o->tls.on && !o->tls.alpn)
		o->tls.alpn = "http/1.1";
	if (argc - optind == 2)
		take_port_argument(o, argv[optind + 1]);
}

/* The time of a phase of the attempt, now. */
static void mark(struct attempt *a, enum phase p)
{
	a->ms[p] = (clock_now_seconds() - a->start) * 1000;
}

/* The manual's getservbyname('www', 'tcp'), and 80 where /etc/services lacks it. */
static unsigned www_port(void)
{
	unsigned port = sys_getservbyname("www", "tcp");

	return port ? port : 80;
}

static void format_request(const struct http_head_opts *o, unsigned port, char *buf,
			   size_t size, size_t *len)
{
	const struct http_target *t = &o->target;
	char host[HTTP_HOST_MAX + 16];

	snprintf(host, sizeof(host), t->ipv6_literal ? "[%s]" : "%s", t->host);
	if (port != (t->https ? 443 : 80))
		snprintf(host + strlen(host), sizeof(host) - strlen(host), ":%u", port);
	*len = (size_t)snprintf(buf, size,
		"HEAD %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: sockpair/%s\r\n"
		"Connection: close\r\n\r\n",
		o->path ? o->path : t->path, host, SOCKPAIR_VERSION);
}

static const char *numeric_host(const struct addrinfo *ai, char *buf, size_t size)
{
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, (socklen_t)size, NULL, 0,
			NI_NUMERICHOST) != 0)
		snprintf(buf, size, "?");
	return buf;
}

/*
 * The manual's "Attempting to connect..." for each address in turn, the
 * failures reported as they happen; -1 and *e (the last) if none answers.
 */
static int connect_step(const struct http_head_opts *o, unsigned port, char *peer,
			size_t peer_size, struct attempt *at, struct sp_error *e)
{
	const char *host = o->target.host;
	struct addrinfo *ai, *a;
	char port_text[8], addr[INET6_ADDRSTRLEN];
	int fd = -1;

	snprintf(port_text, sizeof(port_text), "%u", port);
	if (net_resolve(host, port_text, o->family, SOCK_STREAM, false, &ai, e) < 0)
		return -1;
	mark(at, NAMELOOKUP);
	for (a = ai; a && fd < 0; a = a->ai_next) {
		if (at->verbose)
			report_step("Attempting to connect to '%s' on port '%u'...",
				    numeric_host(a, addr, sizeof(addr)), port);
		fd = net_connect_addr(a, o->timeout_ms, e);
		if (at->verbose)
			report_step_done(fd >= 0);
		if (fd < 0 && a->ai_next && at->verbose)
			report_failure(e);
		else if (fd >= 0)
			addr_format(a->ai_addr, a->ai_addrlen, peer, peer_size);
	}
	freeaddrinfo(ai);
	mark(at, CONNECT);
	return fd;
}

/* One request's connection: its socket, and TLS over it for https://. */
struct link {
	int fd;
	struct tls *tls;
};

/* The handshake, within the timeout; its end is curl's appconnect. */
static int tls_step(const struct http_head_opts *o, struct link *l, const char *peer,
		    struct attempt *at, struct sp_error *e)
{
	struct tls_options t = o->tls;

	/* -n: the first handshake is said, the others are the same */
	t.unsaid = at->repeat > 1;
	l->tls = tls_connect(l->fd, o->target.host, peer, &t, clock_now_ms() + o->timeout_ms, e);
	mark(at, APPCONNECT);
	return l->tls ? 0 : -1;
}

/* All of buf to the peer; TLS may take it in parts. */
static int link_write_all(const struct link *l, const char *buf, size_t n, const char *peer,
			  long long deadline_ms, struct sp_error *e)
{
	if (!l->tls)
		return io_write_all(l->fd, buf, n, e);
	while (n > 0) {
		ssize_t w = tls_write(l->tls, buf, n);
		int ready;

		if (w < 0 && errno == EAGAIN) {
			ready = io_wait_until(l->fd, tls_write_needs_read(l->tls) ? POLLIN : POLLOUT,
					 deadline_ms);
			if (ready == 0)
				return fail_errno(e, SP_TIMEOUT, ETIMEDOUT, "SSL_write(%s)", peer);
			if (ready > 0)
				continue;
		}
		if (w < 0 && errno == EPROTO)
			return tls_fail(l->tls, peer, e);
		if (w < 0)
			return fail_errno(e, errno == EPIPE || errno == ECONNRESET ? SP_PROTOCOL
					  : SP_FAILURE, errno, "SSL_write(%s)", peer);
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t link_read(const struct link *l, void *buf, size_t n)
{
	return l->tls ? tls_read(l->tls, buf, n) : sys_read(l->fd, buf, n);
}

/* Ready to read: TLS may hold plaintext already, which poll() cannot see. */
static int link_readable(const struct link *l, long long deadline_ms)
{
	if (l->tls && tls_pending(l->tls))
		return 1;
	return io_wait_until(l->fd, l->tls && tls_read_needs_write(l->tls) ? POLLOUT : POLLIN,
			deadline_ms);
}

/* Closed, TLS's close_notify first (as curl sends it); 0 or -1. */
static int link_close(struct link *l)
{
	int r;

	if (l->tls)
		(void)tls_close_notify(l->tls);
	r = sys_close(l->fd);
	tls_free(l->tls);
	l->tls = NULL;
	return r;
}

static int send_step(const struct link *l, const char *request, size_t len, const char *peer,
		     int timeout_ms, struct attempt *at, struct sp_error *e)
{
	int r;

	if (at->verbose)
		report_step("Sending HTTP HEAD request...");
	r = link_write_all(l, request, len, peer, clock_now_ms() + timeout_ms, e);
	if (at->verbose)
		report_step_done(r == 0);
	mark(at, PRETRANSFER);
	/* link_write_all() names TLS's failures itself. */
	if (r < 0 && !l->tls)
		fail_errno(e, e->err == EPIPE || e->err == ECONNRESET ? SP_PROTOCOL : SP_FAILURE,
			   e->err, "write(%s)", peer);
	return r;
}

/* Why the head is bad, with the first bytes received, made printable. */
static int protocol_failure(const char *peer, const char *why, const char *buf, size_t got,
			    struct sp_error *e)
{
	char shown[TEXT_QUOTE_SIZE];

	return fail(e, SP_PROTOCOL, "read(%s): %s: %s", peer, why,
		    text_show_peer(buf, got, shown, sizeof(shown)));
}

static int closed_early(const char *peer, size_t got, struct sp_error *e)
{
	if (got == 0)
		return fail(e, SP_PROTOCOL, "read(%s): connection closed before any response", peer);
	return fail(e, SP_PROTOCOL, "read(%s): connection closed after %zu bytes of the "
		    "response head", peer, got);
}

/* A 1xx head (100 Continue, 103 Early Hints): another head follows. */
static bool interim_head(const char *head, size_t len)
{
	return len > 9 && head[9] == '1';
}

/*
 * Feeds what arrived to the head reader.  An interim head is shown (with
 * show, on stdout, as curl -I shows it) and dropped from buf, and the
 * reader goes on with what follows it; *consumed counts those bytes,
 * against the same 64 KiB bound.  Returns the state of the head now read.
 */
static enum head_state feed(struct http_head *h, char *buf, size_t *got, size_t *consumed,
			    bool show, struct sp_error *e)
{
	enum head_state state;

	while ((state = http_head_feed(h, buf, *got)) == HEAD_DONE &&
	       interim_head(buf, h->length)) {
		if (show && io_write_all(STDOUT_FILENO, buf, h->length, e) < 0)
			return HEAD_BAD;
		*consumed += h->length;
		*got -= h->length;
		memmove(buf, buf + h->length, *got);
		*h = (struct http_head){ 0 };
		if (*got == 0)
			return HEAD_MORE;
	}
	return state;
}

/*
 * Reads until the final head is complete, all of it within timeout_ms,
 * since a server dripping a byte now and then would outlast any idle
 * timeout, and within HTTP_HEAD_MAX with the interim heads before it.
 * Returns the head's length in buf, or -1 and *e.
 */
static ssize_t read_head(const struct link *l, char *buf, int timeout_ms, const char *peer,
			 bool show, struct attempt *at, struct sp_error *e)
{
	long long deadline = clock_now_ms() + timeout_ms;
	struct http_head h = { 0 };
	size_t got = 0, consumed = 0;

	for (;;) {
		if (consumed + got >= HTTP_HEAD_MAX)
			return protocol_failure(peer, "response heads over 64 KiB", buf, got, e);
		int ready = link_readable(l, deadline);
		if (ready < 0)
			return fail_errno(e, SP_FAILURE, errno, "poll(%s)", peer);
		if (ready == 0)
			return fail_errno(e, SP_TIMEOUT, ETIMEDOUT, "read(%s)", peer);
		ssize_t n = link_read(l, buf + got, HTTP_HEAD_MAX - consumed - got);
		/* TLS: readable may be part of a record, the rest to come */
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0 && l->tls && errno == EPROTO)
			return tls_fail(l->tls, peer, e);
		if (n < 0)
			return fail_errno(e, SP_PROTOCOL, errno, "read(%s)", peer);
		if (n == 0)
			return closed_early(peer, consumed + got, e);
		if (consumed + got == 0)
			mark(at, STARTTRANSFER);
		got += (size_t)n;
		switch (feed(&h, buf, &got, &consumed, show, e)) {
		case HEAD_DONE:
			mark(at, TOTAL);
			return (ssize_t)h.length;
		case HEAD_BAD:
			return h.why ? protocol_failure(peer, h.why, buf, got, e) : -1;
		case HEAD_MORE:
			break;
		}
	}
}

/* "HTTP/1.1 200 OK": 200; 0 when the status line has no code. */
static int status_code(const char *head, size_t len)
{
	const char *sp = memchr(head, ' ', len);

	if (!sp || (size_t)(sp - head) + 4 > len)
		return 0;
	return (int)strtol(sp + 1, NULL, 10);
}

/*
 * One request, from name lookup to the complete head, read into head
 * (HTTP_HEAD_MAX bytes) and, with print, written to stdout before the
 * socket closes.  Returns the head's length, or -1 and *e.
 */
static ssize_t request_once(const struct http_head_opts *o, unsigned port, const char *request,
			    size_t len, char *head, bool print, struct attempt *at,
			    struct sp_error *e)
{
	struct link l = { .fd = -1 };
	char peer[128];
	ssize_t n;

	at->start = clock_now_seconds();
	at->tls = o->tls.on;
	l.fd = connect_step(o, port, peer, sizeof(peer), at, e);
	if (l.fd < 0)
		return -1;
	if ((o->tls.on && tls_step(o, &l, peer, at, e) < 0) ||
	    send_step(&l, request, len, peer, o->timeout_ms, at, e) < 0) {
		link_close(&l);
		return -1;
	}
	if (at->verbose)
		report_milestone("Reading response:");
	/* Interim heads go to stdout with the final one; -n shows finals only. */
	n = read_head(&l, head, o->timeout_ms, peer, print && at->verbose, at, e);
	if (n < 0 || (print && io_write_all(STDOUT_FILENO, head, (size_t)n, e) < 0)) {
		link_close(&l);
		return -1;
	}
	at->code = status_code(head, (size_t)n);
	if (at->verbose) {
		report_step("Closing socket...");
		report_step_done(link_close(&l) == 0);
	} else {
		link_close(&l);
	}
	return n;
}

/* time: namelookup 0.112 connect 0.204 ... (or its JSON event). */
static void report_timing(const struct attempt *at)
{
	struct record r;

	record_init(&r, RECORD_LINE, "timing");
	record_text(&r, "time:");
	for (int p = 0; p < PHASES; p++) {
		if (p == APPCONNECT && !at->tls)
			continue;	/* curl's 0: no handshake to time */
		record_text(&r, " %s %.3f", phase_names[p], at->ms[p]);
		record_number(&r, phase_names[p], at->ms[p], 3);
	}
	event_emit(&r);
}

/* The manual's one request, each step said as it goes. */
static int run_once(const struct http_head_opts *o, unsigned port, const char *request,
		    size_t len)
{
	struct attempt at = { .verbose = true };
	struct sp_error e;
	char *head = malloc(HTTP_HEAD_MAX);
	ssize_t n;
	int r = 0;

	if (!head) {
		fail_errno(&e, SP_FAILURE, ENOMEM, "malloc");
		return report_failure(&e);
	}
	n = request_once(o, port, request, len, head, true, &at, &e);
	if (n < 0)
		r = report_failure(&e);
	else if (o->timing)
		report_timing(&at);
	free(head);
	return r;
}

/* ---- -n: requests one after the other, and a summary ------------------ */

struct tally {
	unsigned long done, ok;
	int first_failure;	/* its exit status; 0: none yet */
	double *ms[PHASES];	/* each phase of each request that succeeded */
};

static void report_request(unsigned long k, const struct attempt *at, const struct sp_error *e)
{
	struct record r;

	record_init(&r, RECORD_LINE, "request");
	record_integer(&r, "number", (long long)k);
	record_bool(&r, "ok", e == NULL);
	if (e) {
		record_text(&r, "#%lu failed: %s", k, e->text);
		record_cstring(&r, "reason", e->text);
		record_integer(&r, "status", e->status);
	} else {
		record_text(&r, "#%lu %d total %.3f", k, at->code, at->ms[TOTAL]);
		record_integer(&r, "code", at->code);
		for (int p = 0; p < PHASES; p++)
			if (p != APPCONNECT || at->tls)
				record_number(&r, phase_names[p], at->ms[p], 3);
	}
	event_emit(&r);
}

static void sort_phase(double *v, unsigned long n, double q[5])
{
	samples_sort(v, n);
	q[0] = v[0];
	q[1] = samples_percentile(v, n, 0.5);
	q[2] = samples_percentile(v, n, 0.9);
	q[3] = samples_percentile(v, n, 0.99);
	q[4] = v[n - 1];
}

/* summary: N requests, N ok, N failed; then min median p90 p99 max a phase. */
static void report_summary(struct tally *t, bool tls)
{
	static const enum phase shown[] = { NAMELOOKUP, CONNECT, APPCONNECT, STARTTRANSFER, TOTAL };
	static const char *const keys[5] = { "min", "median", "p90", "p99", "max" };
	struct record r;
	double q[5];

	record_init(&r, RECORD_LINE, "summary");
	record_text(&r, "summary: %lu requests, %lu ok, %lu failed", t->done, t->ok,
		    t->done - t->ok);
	record_integer(&r, "requests", (long long)t->done);
	record_integer(&r, "ok", (long long)t->ok);
	record_integer(&r, "failed", (long long)(t->done - t->ok));
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]) && t->ok; i++) {
		if (shown[i] == APPCONNECT && !tls)
			continue;
		sort_phase(t->ms[shown[i]], t->ok, q);
		record_text(&r, "\n%s min %.3f median %.3f p90 %.3f p99 %.3f max %.3f",
			    phase_names[shown[i]], q[0], q[1], q[2], q[3], q[4]);
		record_open(&r, phase_names[shown[i]]);
		for (int k = 0; k < 5; k++)
			record_number(&r, keys[k], q[k], 3);
		record_close(&r);
	}
	event_emit(&r);
}

/* Sleeps ms, or less when a stop signal comes; waiting costs nothing. */
static void pause_ms(int ms)
{
	long long until = clock_now_ms() + ms;
	long long left;

	while (!proc_stopped_by() && (left = until - clock_now_ms()) > 0)
		sys_poll(NULL, 0, (int)left);
}

static void count_request(struct tally *t, const struct attempt *at, const struct sp_error *e)
{
	t->done++;
	if (e) {
		if (!t->first_failure)
			t->first_failure = e->status;
		return;
	}
	for (int p = 0; p < PHASES; p++)
		t->ms[p][t->ok] = at->ms[p];
	t->ok++;
}

static void tally_release(struct tally *t)
{
	for (int p = 0; p < PHASES; p++)
		free(t->ms[p]);
}

/* -n N: N requests, a line each, the first head on stdout, a summary. */
static int run_repeated(const struct http_head_opts *o, unsigned port, const char *request,
			size_t len)
{
	struct tally t = { 0 };
	struct sp_error e;
	char *head = malloc(HTTP_HEAD_MAX);
	bool memory = head != NULL;

	for (int p = 0; p < PHASES; p++)
		memory &= (t.ms[p] = malloc(o->count * sizeof(double))) != NULL;
	if (!memory) {
		tally_release(&t);
		free(head);
		fail_errno(&e, SP_FAILURE, ENOMEM, "malloc");
		return report_failure(&e);
	}
	proc_stop_on_signals();
	for (unsigned long k = 1; k <= o->count && !proc_stopped_by(); k++) {
		struct attempt at = { .verbose = false, .repeat = k };
		bool ok = request_once(o, port, request, len, head, t.ok == 0, &at, &e) >= 0;

		report_request(k, &at, ok ? NULL : &e);
		count_request(&t, &at, ok ? NULL : &e);
		if (k < o->count && o->interval_ms)
			pause_ms(o->interval_ms);
	}
	report_summary(&t, o->tls.on);
	tally_release(&t);
	free(head);
	return t.first_failure;
}

static int cmd_http_head_exec(int argc, char **argv)
{
	struct http_head_opts o = { .family = AF_UNSPEC, .timeout_ms = 10000 };
	char request[HTTP_PATH_MAX + 512];
	unsigned port;
	size_t len;

	parse_http_head_options(argc, argv, &o);
	port = o.port ? o.port : o.target.port ? o.target.port : o.target.https ? 443 : www_port();
	format_request(&o, port, request, sizeof(request), &len);
	if (o.count)
		return run_repeated(&o, port, request, len);
	return run_once(&o, port, request, len);
}

const struct sp_cmd cmd_http_head_entry = {
	.name = "http-head",
	.capture = CAPTURE_FILE,
	.synopsis = "[-p PORT] [--path PATH] [-4|-6] [-w SECONDS] [--timing] [-n N [-i SECONDS]] [-q] "
		    "[--cafile FILE] [--sni NAME] [--alpn LIST] [--insecure] HOST [PORT] | URL",
	.summary = "Send an HTTP HEAD request and print the response head, like curl -I",
	.options = http_head_options,
	.notes = "  HOST|URL: HOST, HOST:PORT, [IPv6]:PORT or http[s]://HOST[:PORT][/PATH]\n",
	.exec = cmd_http_head_exec,
};
