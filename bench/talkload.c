/*
 * talkload: a load generator for talkback and line-echo servers.
 *
 *   talkload [-e] [-c CLIENTS] [-r ROUNDS] [-t SECONDS] [-i] PORT
 *
 * CLIENTS connect to 127.0.0.1:PORT at once; each waits for the welcome
 * (talkback) and then makes ROUNDS round trips, one line at a time, each
 * reply checked byte for byte: "sockpair: You said '<line>'." from
 * talkback, the line itself with -e (echo servers).  One epoll loop, all
 * sockets non-blocking; the whole run is bounded by -t (default 60 s).
 * Prints one line:
 *   clients C rounds R lines N errors E seconds S lines/s L p50_us A p99_us B max_us M
 * and exits 1 if any reply was wrong or missing.  With -i the clients only
 * connect and take the welcome, print "ready", and hold until stdin ends.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char welcome_end[] = "type 'shutdown'.\n";

struct conn {
	int fd, round;
	bool welcomed, done;
	char expect[96];
	size_t expect_len, got;
	char buf[256];
	long long sent_ns;
};

static int clients = 1, rounds = 100, echo_mode, idle_mode;
static double limit_s = 60;
static long long *latency;
static long lines, errors;

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int connect_one(int port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&in, sizeof(in)) < 0) {
		perror("talkload: connect");
		exit(2);
	}
	return fd;
}

static void send_line(struct conn *c, int id)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "line %d %d\n", id, c->round);

	if (echo_mode)
		c->expect_len = (size_t)snprintf(c->expect, sizeof(c->expect), "%s", line);
	else
		c->expect_len = (size_t)snprintf(c->expect, sizeof(c->expect),
						 "sockpair: You said 'line %d %d'.\n", id, c->round);
	c->got = 0;
	c->sent_ns = now_ns();
	if (write(c->fd, line, (size_t)n) != n) {
		errors++;
		c->done = true;
	}
}

static void finish(struct conn *c)
{
	c->done = true;
	close(c->fd);
}

/* Bytes until the welcome's last line; true once it is all in. */
static bool take_welcome(struct conn *c, const char *data, size_t n)
{
	size_t keep = sizeof(welcome_end) - 1;

	if (c->got + n > sizeof(c->buf))
		memmove(c->buf, c->buf + c->got - keep, keep), c->got = keep;
	memcpy(c->buf + c->got, data, n < sizeof(c->buf) - c->got ? n : sizeof(c->buf) - c->got);
	c->got += n < sizeof(c->buf) - c->got ? n : sizeof(c->buf) - c->got;
	return c->got >= keep && memcmp(c->buf + c->got - keep, welcome_end, keep) == 0;
}

static void on_readable(struct conn *c, int id)
{
	char data[512];
	ssize_t n = read(c->fd, data, sizeof(data));

	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		errors += rounds - c->round;
		finish(c);
		return;
	}
	if (!c->welcomed) {
		if (take_welcome(c, data, (size_t)n)) {
			c->welcomed = true;
			c->got = 0;
		}
		return;
	}
	if (c->got + (size_t)n > c->expect_len ||
	    memcmp(data, c->expect + c->got, (size_t)n) != 0) {
		errors += rounds - c->round;
		finish(c);
		return;
	}
	c->got += (size_t)n;
	if (c->got < c->expect_len)
		return;
	latency[lines++] = now_ns() - c->sent_ns;
	if (++c->round == rounds)
		finish(c);
	else
		send_line(c, id);
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Runs epoll until every client is welcomed (if want_welcome) or done. */
static bool run(int ep, struct conn *c, bool want_welcome, long long deadline)
{
	struct epoll_event ev[256];

	for (;;) {
		int pending = 0;
		for (int i = 0; i < clients; i++)
			pending += want_welcome ? !c[i].welcomed && !c[i].done : !c[i].done;
		if (pending == 0)
			return true;
		long long left = (deadline - now_ns()) / 1000000;
		if (left <= 0)
			return false;
		int n = epoll_wait(ep, ev, 256, (int)left);
		for (int i = 0; i < n; i++) {
			int id = ev[i].data.u32;
			if (!c[id].done)
				on_readable(&c[id], id);
		}
	}
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int opt, ep;

	while ((opt = getopt(argc, argv, "ec:r:t:i")) != -1) {
		switch (opt) {
		case 'e': echo_mode = 1; break;
		case 'c': clients = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 't': limit_s = atof(optarg); break;
		case 'i': idle_mode = 1; break;
		default: return 2;
		}
	}
	if (optind != argc - 1 || clients < 1 || rounds < 1)
		return fprintf(stderr, "usage: talkload [-e] [-c N] [-r N] [-t S] [-i] PORT\n"), 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int port = atoi(argv[optind]);
	struct conn *c = calloc((size_t)clients, sizeof(*c));
	latency = calloc((size_t)clients * (size_t)rounds, sizeof(*latency));
	ep = epoll_create1(EPOLL_CLOEXEC);
	long long deadline = now_ns() + (long long)(limit_s * 1e9);
	for (int i = 0; i < clients; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		c[i].fd = connect_one(port);
		c[i].welcomed = echo_mode;
		epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
	}
	if (!run(ep, c, true, deadline)) {
		fprintf(stderr, "talkload: not every client was welcomed in time\n");
		return 1;
	}
	if (idle_mode) {
		char b;
		printf("ready\n");
		fflush(stdout);
		while (read(0, &b, 1) > 0)
			;
		return 0;
	}
	long long t0 = now_ns();
	for (int i = 0; i < clients; i++)
		if (!c[i].done)
			send_line(&c[i], i);
	bool complete = run(ep, c, false, deadline);
	double seconds = (double)(now_ns() - t0) / 1e9;
	if (!complete)
		for (int i = 0; i < clients; i++)
			if (!c[i].done)
				errors += rounds - c[i].round;
	qsort(latency, (size_t)lines, sizeof(*latency), cmp_ll);
	printf("clients %d rounds %d lines %ld errors %ld seconds %.3f lines/s %.0f "
	       "p50_us %lld p99_us %lld max_us %lld\n",
	       clients, rounds, lines, errors, seconds, (double)lines / seconds,
	       lines ? latency[lines / 2] / 1000 : 0,
	       lines ? latency[lines * 99 / 100] / 1000 : 0,
	       lines ? latency[lines - 1] / 1000 : 0);
	return errors ? 1 : 0;
}
