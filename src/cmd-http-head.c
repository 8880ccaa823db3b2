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
};

enum { OPT_PATH = CMD_LONG_ONLY };

static const struct cmd_option http_head_options[] = {
	CMD_OPT_PORT("the port (default: the URL's, else www's: 80)"),
	{ OPT_PATH, "path", "PATH", "the path to ask for (default: the URL's, else /)" },
	CMD_OPT_IPV4,
	CMD_OPT_IPV6,
	CMD_OPT_TIMEOUT("for each connection attempt, and for the whole\n"
			"                       response head (default 10)"),
	CMD_OPT_END
};

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
		case 'w': o->timeout_ms = cmd_timeout_ms(optarg); break;
		}
	}
	if (argc - optind != 1)
		usage_error(argc - optind ? "unexpected argument '%s'" : "missing HOST or URL%s",
			    argc - optind ? argv[optind + 1] : "");
	if (http_parse_target(argv[optind], &o->target, why, sizeof(why)) < 0)
		usage_error("%s", why);
}

/* The manual's getservbyname('www', 'tcp'), and 80 where /etc/services lacks it. */
static unsigned www_port(void)
{
	const struct servent *s = getservbyname("www", "tcp");
	unsigned port = s ? ntohs((uint16_t)s->s_port) : 80;

	trace_call(s ? "80" : "NULL (80 assumed)", "getservbyname(\"www\", \"tcp\")");
	return port;
}

static void format_request(const struct http_head_opts *o, unsigned port, char *buf,
			   size_t size, size_t *len)
{
	const struct http_target *t = &o->target;
	char host[HTTP_HOST_MAX + 16];

	snprintf(host, sizeof(host), t->ipv6_literal ? "[%s]" : "%s", t->host);
	if (port != 80)
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
			size_t peer_size, struct sp_error *e)
{
	const char *host = o->target.host;
	struct addrinfo *ai, *a;
	char port_text[8], addr[INET6_ADDRSTRLEN];
	int fd = -1;

	snprintf(port_text, sizeof(port_text), "%u", port);
	if (net_resolve(host, port_text, o->family, SOCK_STREAM, false, &ai, e) < 0)
		return -1;
	for (a = ai; a && fd < 0; a = a->ai_next) {
		report_step("Attempting to connect to '%s' on port '%u'...",
			    numeric_host(a, addr, sizeof(addr)), port);
		fd = net_connect_addr(a, o->timeout_ms, e);
		report_step_done(fd >= 0);
		if (fd < 0 && a->ai_next)
			report_failure(e);
		else if (fd >= 0)
			addr_format(a->ai_addr, a->ai_addrlen, peer, peer_size);
	}
	freeaddrinfo(ai);
	return fd;
}

static int send_step(int fd, const char *request, size_t len, const char *peer,
		     struct sp_error *e)
{
	int r;

	report_step("Sending HTTP HEAD request...");
	r = io_write_all(fd, request, len, e);
	report_step_done(r == 0);
	if (r < 0)
		fail_errno(e, e->err == EPIPE || e->err == ECONNRESET ? SP_PROTOCOL : SP_FAILURE,
			   e->err, "write(%s)", peer);
	return r;
}

/* Waits for data until the deadline; 1 when readable, 0 at the deadline. */
static int wait_readable(int fd, long long deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do {
		long long left = deadline_ms - clock_now_ms();
		r = sys_poll(&p, 1, left > 0 ? (int)left : 0);
	} while (r < 0 && errno == EINTR);
	return r;
}

/* Why the head is bad, with the first bytes received, made printable. */
static int protocol_failure(const char *peer, const char *why, const char *buf, size_t got,
			    struct sp_error *e)
{
	char shown[TEXT_QUOTE_SIZE];

	text_quote(shown, sizeof(shown), buf, got);
	return fail(e, SP_PROTOCOL, "read(%s): %s: %s", peer, why, shown);
}

static int closed_early(const char *peer, size_t got, struct sp_error *e)
{
	if (got == 0)
		return fail(e, SP_PROTOCOL, "read(%s): connection closed before any response", peer);
	return fail(e, SP_PROTOCOL, "read(%s): connection closed after %zu bytes of the "
		    "response head", peer, got);
}

/*
 * Reads until the head is complete, all of it within timeout_ms, since a
 * server dripping a byte now and then would outlast any idle timeout.
 * Returns the head's length in buf, or -1 and *e.
 */
static ssize_t read_head(int fd, char *buf, int timeout_ms, const char *peer,
			 struct sp_error *e)
{
	long long deadline = clock_now_ms() + timeout_ms;
	struct http_head h = { 0 };
	size_t got = 0;

	for (;;) {
		int ready = wait_readable(fd, deadline);
		if (ready < 0)
			return fail_errno(e, SP_FAILURE, errno, "poll(%s)", peer);
		if (ready == 0)
			return fail_errno(e, SP_TIMEOUT, ETIMEDOUT, "read(%s)", peer);
		ssize_t n = sys_read(fd, buf + got, HTTP_HEAD_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail_errno(e, SP_PROTOCOL, errno, "read(%s)", peer);
		if (n == 0)
			return closed_early(peer, got, e);
		got += (size_t)n;
		switch (http_head_feed(&h, buf, got)) {
		case HEAD_DONE:
			return (ssize_t)h.length;
		case HEAD_BAD:
			return protocol_failure(peer, h.why, buf, got, e);
		case HEAD_MORE:
			break;
		}
	}
}

static int read_step(int fd, int timeout_ms, const char *peer, struct sp_error *e)
{
	char *buf = malloc(HTTP_HEAD_MAX);
	ssize_t n;
	int r = -1;

	if (!buf)
		return fail_errno(e, SP_FAILURE, ENOMEM, "malloc");
	report_milestone("Reading response:");
	n = read_head(fd, buf, timeout_ms, peer, e);
	if (n > 0)
		r = io_write_all(STDOUT_FILENO, buf, (size_t)n, e);
	free(buf);
	return r;
}

static int cmd_http_head_exec(int argc, char **argv)
{
	struct http_head_opts o = { .family = AF_UNSPEC, .timeout_ms = 10000 };
	char request[HTTP_PATH_MAX + 512], peer[128];
	struct sp_error e;
	unsigned port;
	size_t len;
	int fd, r;

	parse_http_head_options(argc, argv, &o);
	port = o.port ? o.port : o.target.port ? o.target.port : www_port();
	format_request(&o, port, request, sizeof(request), &len);
	fd = connect_step(&o, port, peer, sizeof(peer), &e);
	if (fd < 0)
		return report_failure(&e);
	r = send_step(fd, request, len, peer, &e);
	if (r == 0)
		r = read_step(fd, o.timeout_ms, peer, &e);
	if (r < 0) {
		sys_close(fd);
		return report_failure(&e);
	}
	report_step("Closing socket...");
	report_step_done(sys_close(fd) == 0);
	return SP_OK;
}

const struct sp_cmd cmd_http_head_entry = {
	.name = "http-head",
	.synopsis = "[-p PORT] [--path PATH] [-4|-6] [-w SECONDS] [-q] HOST|URL",
	.summary = "Send an HTTP HEAD request and print the response head, like curl -I",
	.options = http_head_options,
	.notes = "  HOST|URL: HOST, HOST:PORT, [IPv6]:PORT or http://HOST[:PORT][/PATH]\n",
	.exec = cmd_http_head_exec,
};
