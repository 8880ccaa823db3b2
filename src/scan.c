/*
 * scan.c: connect -z, whether ports answer, as nc -z tells, for lists and
 * ranges: many non-blocking connect()s at once (at most SCAN_AT_ONCE), each
 * bounded by its own deadline, nothing sent, each socket closed as soon as
 * its answer is known.  Results are handed back in port order, each as
 * soon as it and all before it are known.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* Attempts in flight at once: a few hundred, well inside a descriptor table. */
enum { SCAN_AT_ONCE = 256 };

struct scan {
	const struct addrinfo *ai;
	struct scan_port *ports;
	size_t n, started, reported;
	int timeout_ms;
	void (*report)(const struct scan_port *p, void *arg);
	void *arg;
	struct pollfd p[SCAN_AT_ONCE];
	size_t which[SCAN_AT_ONCE];	/* the port each slot tries */
	const struct addrinfo *addr[SCAN_AT_ONCE];	/* at this address */
	const struct addrinfo *retry[SCAN_AT_ONCE];	/* the slot's port's next address */
	double began[SCAN_AT_ONCE];
	size_t busy;
};

static enum scan_result result_of(int err)
{
	switch (err) {
	case 0:
		return SCAN_OPEN;
	case ECONNREFUSED:
		return SCAN_REFUSED;
	case ETIMEDOUT:
		return SCAN_TIMED_OUT;
	default:
		return SCAN_UNREACHABLE;
	}
}

static void set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
}

/*
 * An attempt ended with err.  A port that did not answer at one address
 * is tried at the next that resolution gave (SPEC: every address before
 * failing), in the same slot; at the last, its answer is the last one.
 */
static void finish(struct scan *s, size_t slot, int err)
{
	struct scan_port *p = &s->ports[s->which[slot]];

	if (s->p[slot].fd >= 0)
		sys_close(s->p[slot].fd);
	s->p[slot].fd = -1;
	s->busy--;
	if (err != 0 && s->addr[slot]->ai_next) {
		s->retry[slot] = s->addr[slot]->ai_next;
		return;
	}
	p->err = err;
	p->result = result_of(err);
	p->ms = (clock_now_seconds() - s->began[slot]) * 1000;
	p->done = true;
}

/* Starts an attempt of port ports[i] at address a; -1 and *e when no socket. */
static int start_attempt(struct scan *s, size_t slot, size_t i, const struct addrinfo *a,
			 struct sp_error *e)
{
	struct sockaddr_storage ss;
	int fd, r;

	memcpy(&ss, a->ai_addr, a->ai_addrlen);
	set_port(&ss, s->ports[i].port);
	fd = sys_socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail_errno(e, SP_FAILURE, errno, "socket");
	s->which[slot] = i;
	s->addr[slot] = a;
	s->retry[slot] = NULL;
	s->began[slot] = clock_now_seconds();
	s->p[slot] = (struct pollfd){ .fd = fd, .events = POLLOUT };
	s->busy++;
	r = sys_connect(fd, (struct sockaddr *)&ss, a->ai_addrlen);
	if (r == 0 || errno != EINPROGRESS)
		finish(s, slot, r == 0 ? 0 : errno);
	return 0;
}

/* A free slot: its port's next address, else the next port's first. */
static int start_one(struct scan *s, size_t slot, struct sp_error *e)
{
	if (s->retry[slot])
		return start_attempt(s, slot, s->which[slot], s->retry[slot], e);
	if (s->started < s->n)
		return start_attempt(s, slot, s->started++, s->ai, e);
	return 0;
}

/* Hands back, in order, every result known from the next one on. */
static void report_ready(struct scan *s)
{
	while (s->reported < s->n && s->ports[s->reported].done)
		s->report(&s->ports[s->reported++], s->arg);
}

/* The milliseconds until the nearest deadline of an attempt in flight. */
static int next_deadline(const struct scan *s)
{
	double now = clock_now_seconds(), nearest = -1;

	for (size_t i = 0; i < SCAN_AT_ONCE; i++) {
		double left;

		if (s->p[i].fd < 0)
			continue;
		left = s->began[i] + s->timeout_ms / 1000.0 - now;
		if (nearest < 0 || left < nearest)
			nearest = left;
	}
	return nearest <= 0 ? 0 : (int)(nearest * 1000) + 1;
}

static void settle(struct scan *s)
{
	double now = clock_now_seconds();

	for (size_t i = 0; i < SCAN_AT_ONCE; i++) {
		int err = 0;

		if (s->p[i].fd < 0)
			continue;
		if (s->p[i].revents) {
			if (sys_getsockopt_int(s->p[i].fd, SOL_SOCKET, SO_ERROR, &err) < 0)
				err = errno;
			finish(s, i, err);
		} else if (now - s->began[i] >= s->timeout_ms / 1000.0) {
			finish(s, i, ETIMEDOUT);
		}
	}
}

/*
 * Tries each of ports[0..n) at ai's addresses in turn, timeout_ms each, calling
 * report for each in port order.  Stops early (0) on a stop signal.
 * Returns 0, or -1 and *e when no socket can be made.
 */
int scan_ports(const struct addrinfo *ai, struct scan_port *ports, size_t n, int timeout_ms,
	       void (*report)(const struct scan_port *p, void *arg), void *arg,
	       struct sp_error *e)
{
	struct scan *s = calloc(1, sizeof(*s));
	int result = 0;

	if (!s)
		return fail_errno(e, SP_FAILURE, ENOMEM, "malloc");
	*s = (struct scan){ .ai = ai, .ports = ports, .n = n, .timeout_ms = timeout_ms,
			    .report = report, .arg = arg };
	for (size_t i = 0; i < SCAN_AT_ONCE; i++)
		s->p[i].fd = -1;
	while (s->reported < n && !proc_stopped_by() && result == 0) {
		for (size_t i = 0; i < SCAN_AT_ONCE && result == 0; i++)
			if (s->p[i].fd < 0)
				result = start_one(s, i, e);
		report_ready(s);
		if (s->busy == 0 || result < 0)
			continue;
		if (sys_poll(s->p, SCAN_AT_ONCE, next_deadline(s)) < 0 && errno != EINTR)
			result = fail_errno(e, SP_FAILURE, errno, "poll");
		settle(s);
		report_ready(s);
	}
	for (size_t i = 0; i < SCAN_AT_ONCE; i++)
		if (s->p[i].fd >= 0)
			sys_close(s->p[i].fd);
	free(s);
	return result;
}
