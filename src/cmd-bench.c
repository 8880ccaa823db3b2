/*
 * cmd-bench.c: what each IPC mechanism costs on this machine, side by side.
 *
 * The manual's pcntl_fork() example talks to its child over a socket pair;
 * here two processes (fork) talk over each mechanism Linux offers between
 * them: a pipe, socket pairs, UNIX sockets at a path, TCP and UDP over
 * loopback.  latency rows ping-pong SIZE-byte messages and keep every
 * round trip's time, for percentiles; throughput rows stream for --time
 * and count at the receiver what arrived, and what was lost.  Unlike perf
 * bench (pipes, one mean) or sockperf (inet only, one way), one table.
 *
 * Some 900 lines: ten mechanisms, two measures each with their child's
 * side, the table and its JSON; the links between the processes are
 * net.c's, the progress line report.c's, the percentiles samples.c's.
 *
 * The measuring loops make the same calls through the call layer as the
 * rest of sockpair (--trace and --json see them) and nothing else: one
 * clock read per round trip, no poll() while data flows.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdarg.h>
#include <unistd.h>

/* ---- the mechanisms ---------------------------------------------------- */

enum via_kind { VIA_PIPE, VIA_PAIR, VIA_PATH, VIA_LOOPBACK };

struct mechanism {
	const char *name;
	enum via_kind kind;
	int domain, type;
	size_t largest;		/* the largest datagram; 0: ask the socket */
};

/* UDP's payload limit: 65535 less the UDP header, and IPv4's header. */
enum { UDP_LARGEST = 65507, UDP6_LARGEST = 65527 };

static const struct mechanism mechanisms[] = {
	{ "pipe", VIA_PIPE, AF_UNSPEC, SOCK_STREAM, 0 },
	{ "socketpair", VIA_PAIR, AF_UNIX, SOCK_STREAM, 0 },
	{ "socketpair-dgram", VIA_PAIR, AF_UNIX, SOCK_DGRAM, 0 },
	{ "socketpair-seqpacket", VIA_PAIR, AF_UNIX, SOCK_SEQPACKET, 0 },
	{ "unix", VIA_PATH, AF_UNIX, SOCK_STREAM, 0 },
	{ "unix-dgram", VIA_PATH, AF_UNIX, SOCK_DGRAM, 0 },
	{ "tcp", VIA_LOOPBACK, AF_INET, SOCK_STREAM, 0 },
	{ "tcp6", VIA_LOOPBACK, AF_INET6, SOCK_STREAM, 0 },
	{ "udp", VIA_LOOPBACK, AF_INET, SOCK_DGRAM, UDP_LARGEST },
	{ "udp6", VIA_LOOPBACK, AF_INET6, SOCK_DGRAM, UDP6_LARGEST },
};
enum { MECHANISMS = sizeof(mechanisms) / sizeof(mechanisms[0]) };

static bool is_stream(const struct mechanism *m)
{
	return m->type == SOCK_STREAM;
}

/* ---- options ----------------------------------------------------------- */

enum cpus { CPUS_ANY, CPUS_SAME, CPUS_SPLIT };
enum { LIST_MAX = 32, COUNT_MAX = 10000000, DEFAULT_COUNT = 100000,
       DEFAULT_TIME_MS = 2000, LATENCY_SIZE = 64, THROUGHPUT_SIZE = 64 * 1024,
       WARMUP_BYTES = 64 << 20 };
#define SIZE_LIMIT (UINT64_C(1) << 30)

struct bench_opts {
	const struct mechanism *via[LIST_MAX];
	size_t via_count;
	uint64_t sizes[LIST_MAX];
	size_t size_count;	/* 0: each mode's default */
	bool latency, throughput;
	unsigned long count;
	int time_ms;
	enum cpus cpus;
	int cpu[2];		/* the parent's and the child's; -1: any */
	int buffer;		/* --buffer: socket buffers, pipe sizes; 0: the kernel's */
};

enum { OPT_VIA = CMD_LONG_ONLY, OPT_MODE, OPT_SIZE, OPT_COUNT, OPT_TIME, OPT_CPUS,
       OPT_BUFFER };

static const struct cmd_option bench_options[] = {
	{ OPT_VIA, "via", "LIST", "the mechanisms, comma-separated (default all): pipe,\n"
	  "                       socketpair, socketpair-dgram, socketpair-seqpacket,\n"
	  "                       unix, unix-dgram, tcp, tcp6, udp, udp6" },
	{ OPT_MODE, "mode", "MODE", "latency, throughput or both (default)" },
	{ OPT_SIZE, "size", "LIST", "message sizes, comma-separated (K, M, G: binary; default\n"
	  "                       64 for latency, 64K for throughput)" },
	{ OPT_COUNT, "count", "N", "round trips per latency row (default 100000)" },
	{ OPT_TIME, "time", "SECS", "seconds per throughput row (default 2)" },
	{ OPT_CPUS, "cpus", "HOW", "same: both processes on one CPU; split: on two;\n"
	  "                       any: where the kernel likes (default)" },
	{ OPT_BUFFER, "buffer", "BYTES", "each socket's send and receive buffer, each pipe's\n"
	  "                       size (default: the kernel's)" },
	CMD_OPT_END
};

static const struct mechanism *find_mechanism(const char *name)
{
	for (size_t i = 0; i < MECHANISMS; i++)
		if (strcmp(mechanisms[i].name, name) == 0)
			return &mechanisms[i];
	return NULL;
}

static void add_via(const char *item, struct bench_opts *o)
{
	const struct mechanism *m = find_mechanism(item);

	if (!m)
		usage_error("unknown mechanism '%s' (pipe, socketpair, socketpair-dgram, "
			    "socketpair-seqpacket, unix, unix-dgram, tcp, tcp6, udp, udp6)", item);
	if (o->via_count == LIST_MAX)
		usage_error("too many mechanisms (at most %d)", LIST_MAX);
	o->via[o->via_count++] = m;
}

static void add_size(const char *item, struct bench_opts *o)
{
	uint64_t size;

	if (parse_size(item, &size) < 0 || size > SIZE_LIMIT)
		usage_error("invalid size '%s' (1 byte to 1G; K, M, G: binary)", item);
	if (o->size_count == LIST_MAX)
		usage_error("too many sizes (at most %d)", LIST_MAX);
	o->sizes[o->size_count++] = size;
}

/* Each comma-separated item of list, in order, to take(). */
static void for_each_item(const char *list, void (*take)(const char *, struct bench_opts *),
			  struct bench_opts *o)
{
	char item[64];

	for (const char *p = list;; p++) {
		size_t n = strcspn(p, ",");
		snprintf(item, sizeof(item), "%.*s", (int)n, p);
		take(item, o);
		p += n;
		if (*p == '\0')
			break;
	}
}

static void parse_mode(const char *arg, struct bench_opts *o)
{
	o->latency = strcmp(arg, "latency") == 0 || strcmp(arg, "both") == 0;
	o->throughput = strcmp(arg, "throughput") == 0 || strcmp(arg, "both") == 0;
	if (!o->latency && !o->throughput)
		usage_error("invalid mode '%s' (latency, throughput or both)", arg);
}

static void parse_cpus(const char *arg, struct bench_opts *o)
{
	if (strcmp(arg, "same") == 0)
		o->cpus = CPUS_SAME;
	else if (strcmp(arg, "split") == 0)
		o->cpus = CPUS_SPLIT;
	else if (strcmp(arg, "any") == 0)
		o->cpus = CPUS_ANY;
	else
		usage_error("invalid value '%s' for --cpus (same, split or any)", arg);
}

/* SO_SNDBUF takes an int, which the kernel doubles: up to 1 GiB. */
static void parse_buffer(const char *arg, struct bench_opts *o)
{
	uint64_t bytes;

	if (parse_size(arg, &bytes) < 0 || bytes == 0 || bytes > SIZE_LIMIT)
		usage_error("invalid buffer size '%s' (1 byte to 1G; K, M, G: binary)", arg);
	o->buffer = (int)bytes;
}

static void parse_bench_options(int argc, char **argv, struct bench_opts *o)
{
	int c;

	while ((c = cmd_getopt(&cmd_bench_entry, argc, argv)) != -1) {
		switch (c) {
		case OPT_VIA: for_each_item(optarg, add_via, o); break;
		case OPT_SIZE: for_each_item(optarg, add_size, o); break;
		case OPT_MODE: parse_mode(optarg, o); break;
		case OPT_CPUS: parse_cpus(optarg, o); break;
		case OPT_COUNT: o->count = cmd_count(optarg, COUNT_MAX, "count", ""); break;
		case OPT_BUFFER: parse_buffer(optarg, o); break;
		case OPT_TIME: o->time_ms = cmd_seconds_ms(optarg, "time"); break;
		}
	}
	cmd_no_more_arguments(argc, argv);
	if (o->via_count > 0)
		return;
	for (size_t i = 0; i < MECHANISMS; i++)
		o->via[i] = &mechanisms[i];
	o->via_count = MECHANISMS;
}

/* ---- CPUs: --cpus same and split ---------------------------------------- */

static int pin_to(int cpu, struct sp_error *e)
{
	if (cpu < 0)
		return 0;
	if (sys_pin_cpu(cpu) < 0)
		return fail_errno(e, SP_FAILURE, errno, "sched_setaffinity(0, [%d])", cpu);
	return 0;
}

/*
 * The first one or two CPUs this process may use (taskset and cgroups
 * narrow them); the parent moves onto the first now, the child takes the
 * second with split.  One CPU and split is an error: figures labelled
 * "split" that were measured on one CPU would mislead.
 */
static int plan_cpus(struct bench_opts *o, struct sp_error *e)
{
	int found[2] = { -1, -1 }, n;

	o->cpu[0] = o->cpu[1] = -1;
	if (o->cpus == CPUS_ANY)
		return 0;
	n = sys_allowed_cpus(found, 2);
	if (n < 0)
		return fail_errno(e, SP_FAILURE, errno, "sched_getaffinity(0)");
	if (o->cpus == CPUS_SPLIT && n < 2)
		return fail(e, SP_FAILURE, "sched_getaffinity(0): only CPU %d may be used here "
			    "(taskset, cpuset); --cpus split needs two: use same or any",
			    found[0]);
	o->cpu[0] = found[0];
	o->cpu[1] = o->cpus == CPUS_SPLIT ? found[1] : found[0];
	return pin_to(o->cpu[0], e);
}

/* ---- the link between the two processes ---------------------------------- */

/* One process's side: a socket is both ends; a pipe pair is two. */
struct end {
	int in, out;
};

struct link {
	struct end parent, child;
	int control[2];		/* child to parent: a sender's counts */
};

/* What a throughput sender says it sent, over the control pipe. */
struct counts {
	uint64_t messages, bytes;
};

/* How long one side waits for the other before calling it gone. */
enum { PEER_WAIT_MS = 3000, DRAIN_MS = 20, CHILD_EXIT_MS = 200 };

static void close_end(struct end *end)
{
	if (end->in >= 0)
		sys_close(end->in);
	if (end->out >= 0 && end->out != end->in)
		sys_close(end->out);
	end->in = end->out = -1;
}

static void link_release(struct link *l)
{
	close_end(&l->parent);
	close_end(&l->child);
	for (int i = 0; i < 2; i++)
		if (l->control[i] >= 0)
			sys_close(l->control[i]);
	l->control[0] = l->control[1] = -1;
}

/* Two pipes, one each way. */
static int pipe_link(struct link *l, struct sp_error *e)
{
	int up[2], down[2];

	if (net_blocking_pipe(up, e) < 0)
		return -1;
	if (net_blocking_pipe(down, e) < 0) {
		sys_close(up[0]);
		sys_close(up[1]);
		return -1;
	}
	l->parent = (struct end){ up[0], down[1] };
	l->child = (struct end){ down[0], up[1] };
	return 0;
}

static int socket_link(const struct mechanism *m, struct link *l, struct sp_error *e)
{
	int fds[2], r;

	if (m->kind == VIA_PAIR)
		r = net_socketpair(AF_UNIX, m->type, 0, fds, e);
	else if (m->kind == VIA_PATH)
		r = net_unix_path_pair(m->type, fds, PEER_WAIT_MS, e);
	else
		r = net_loopback_pair(m->domain, m->type, 0, fds, e);
	if (r < 0)
		return -1;
	l->parent = (struct end){ fds[0], fds[0] };
	l->child = (struct end){ fds[1], fds[1] };
	/* A message's last segment must not wait for an ACK (Nagle), as in sockperf. */
	if (m->kind == VIA_LOOPBACK && m->type == SOCK_STREAM)
		for (int i = 0; i < 2; i++)
			if (sys_setsockopt_int(fds[i], IPPROTO_TCP, TCP_NODELAY, 1) < 0)
				return fail_errno(e, SP_FAILURE, errno, "setsockopt(%d, TCP_NODELAY)",
						  fds[i]);
	/* A datagram socket hears nothing when its peer dies: it waits a while. */
	if (m->type == SOCK_DGRAM)
		for (int i = 0; i < 2; i++)
			if (sys_setsockopt_timeout(fds[i], SO_RCVTIMEO, PEER_WAIT_MS) < 0)
				return fail_errno(e, SP_FAILURE, errno, "setsockopt(%d, SO_RCVTIMEO)",
						  fds[i]);
	return 0;
}

/*
 * --buffer: both pipes' size, or each socket's send and receive buffer
 * (an AF_UNIX stream's sender's governs).  The kernel doubles a socket's
 * and caps it at net.core.wmem_max and rmem_max; a pipe over
 * fs.pipe-max-size is refused (EPERM), which ends the row.
 */
static int size_buffers(const struct mechanism *m, const struct link *l, int bytes,
			struct sp_error *e)
{
	int fds[2] = { l->parent.out, l->child.out };

	for (int i = 0; i < 2 && bytes > 0; i++) {
		if (m->kind == VIA_PIPE && sys_pipe_size(fds[i], bytes) < 0)
			return fail_errno(e, SP_FAILURE, errno, "fcntl(%d, F_SETPIPE_SZ, %d)",
					  fds[i], bytes);
		if (m->kind != VIA_PIPE &&
		    (sys_setsockopt_int(fds[i], SOL_SOCKET, SO_SNDBUF, bytes) < 0 ||
		     sys_setsockopt_int(fds[i], SOL_SOCKET, SO_RCVBUF, bytes) < 0))
			return fail_errno(e, SP_FAILURE, errno, "setsockopt(%d, SO_SNDBUF)", fds[i]);
	}
	return 0;
}

static int make_link(const struct mechanism *m, int buffer, struct link *l,
		     struct sp_error *e)
{
	*l = (struct link){ { -1, -1 }, { -1, -1 }, { -1, -1 } };
	if ((m->kind == VIA_PIPE ? pipe_link(l, e) : socket_link(m, l, e)) < 0 ||
	    size_buffers(m, l, buffer, e) < 0)
		return -1;
	if (sys_pipe(l->control) < 0)
		return fail_errno(e, SP_FAILURE, errno, "pipe2");
	return 0;
}

/* The largest message a datagram or packet mechanism takes, as the socket says. */
static size_t largest_message(const struct mechanism *m, int fd)
{
	int sndbuf;

	if (is_stream(m))
		return SIZE_MAX;
	if (m->largest)
		return m->largest;
	/* AF_UNIX refuses a datagram over its send buffer, less 32 bytes. */
	if (sys_getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf) < 0 || sndbuf <= 32)
		return UDP_LARGEST;
	return (size_t)sndbuf - 32;
}

/* ---- moving one message ------------------------------------------------- */

static int send_message(const struct end *end, const char *buf, size_t size,
			struct sp_error *e)
{
	return io_write_all(end->out, buf, size, e);
}

/* A stream's message may come in pieces; a datagram comes whole or not at all. */
static int receive_message(const struct end *end, bool stream, char *buf, size_t size,
			   struct sp_error *e)
{
	ssize_t r;

	if (stream) {
		r = io_read_full(end->in, buf, size, e);
		if (r >= 0 && (size_t)r < size)
			return fail(e, SP_FAILURE, "read(%d): end of data after %zd of %zu bytes",
				    end->in, r, size);
		return r < 0 ? -1 : 0;
	}
	do
		r = sys_read(end->in, buf, size);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return fail(e, SP_TIMEOUT, "read(%d): no message in %d s (a datagram lost?)",
			    end->in, PEER_WAIT_MS / 1000);
	if (r < 0)
		return fail_errno(e, SP_FAILURE, errno, "read(%d)", end->in);
	if ((size_t)r != size)
		return fail(e, SP_FAILURE, "read(%d): a message of %zd bytes, %zu expected",
			    end->in, r, size);
	return 0;
}

/* ---- one row ------------------------------------------------------------ */

struct row {
	const struct mechanism *m;
	size_t size;
	bool latency;
	unsigned long count, warmup;	/* latency: round trips */
	int time_ms;			/* throughput */
};

struct latency_result {
	double pct[5];		/* p50 p90 p99 p99.9 max, seconds */
	double mean, per_second;
};

struct throughput_result {
	double seconds;
	uint64_t messages, bytes, sent;	/* sent: messages, as the sender says */
};

/* ---- latency ------------------------------------------------------------ */

/* The child: answers each message with one of the same size, warm-up included. */
static int echo_messages(const struct row *row, const struct end *end, char *buf,
			 struct sp_error *e)
{
	bool stream = is_stream(row->m);

	for (unsigned long i = 0; i < row->warmup + row->count; i++)
		if (receive_message(end, stream, buf, row->size, e) < 0 ||
		    send_message(end, buf, row->size, e) < 0)
			return -1;
	return 0;
}

/* n round trips; each one's time in samples[] unless samples is NULL (warm-up). */
static int ping_pong(const struct row *row, const struct end *end, char *buf,
		     double *samples, unsigned long n, struct report_progress *p, struct sp_error *e)
{
	bool stream = is_stream(row->m);
	double before = clock_now_seconds(), now;

	for (unsigned long i = 0; i < n; i++) {
		if (send_message(end, buf, row->size, e) < 0 ||
		    receive_message(end, stream, buf, row->size, e) < 0)
			return -1;
		now = clock_now_seconds();
		if (samples)
			samples[i] = now - before;
		before = now;
		if (samples && report_progress_due(p, now))
			report_progress_tick(p, (double)i / (double)n);
	}
	return 0;
}

static void summarize_latency(double *samples, unsigned long n, double elapsed,
			      struct latency_result *r)
{
	static const double q[4] = { 0.50, 0.90, 0.99, 0.999 };
	double sum = 0;

	samples_sort(samples, n);
	for (int i = 0; i < 4; i++)
		r->pct[i] = samples_percentile(samples, n, q[i]);
	r->pct[4] = samples[n - 1];
	for (unsigned long i = 0; i < n; i++)
		sum += samples[i];
	r->mean = sum / (double)n;
	r->per_second = (double)n / elapsed;
}

static int measure_latency(const struct row *row, const struct end *end, char *buf,
			   struct report_progress *p, struct latency_result *r, struct sp_error *e)
{
	double *samples = malloc(row->count * sizeof(*samples));
	double t0;

	if (!samples)
		return fail_errno(e, SP_FAILURE, ENOMEM, "malloc");
	if (ping_pong(row, end, buf, NULL, row->warmup, p, e) < 0)
		goto fail;
	t0 = clock_now_seconds();
	if (ping_pong(row, end, buf, samples, row->count, p, e) < 0)
		goto fail;
	summarize_latency(samples, row->count, clock_now_seconds() - t0, r);
	free(samples);
	return 0;
fail:
	free(samples);
	return -1;
}

/* ---- throughput ----------------------------------------------------------- */

/* The child: streams for the row's time, then says what it sent. */
static int send_for(const struct row *row, const struct end *end, int control, char *buf,
		    struct sp_error *e)
{
	double deadline = clock_now_seconds() + row->time_ms / 1000.0;
	struct counts sent = { 0, 0 };

	do {
		if (send_message(end, buf, row->size, e) < 0)
			return -1;
		sent.messages++;
		sent.bytes += row->size;
	} while (clock_now_seconds() < deadline);
	return io_write_all(control, &sent, sizeof(sent), e);
}

/* The sender's counts, once it has written them; its end otherwise. */
static int read_counts(int control, struct throughput_result *r, struct sp_error *e)
{
	struct pollfd p = { .fd = control, .events = POLLIN };
	struct counts sent;
	ssize_t n;

	if (sys_poll(&p, 1, PEER_WAIT_MS) == 0)
		return fail(e, SP_TIMEOUT, "read(%d): the sender said nothing in %d s", control,
			    PEER_WAIT_MS / 1000);
	n = sys_read(control, &sent, sizeof(sent));
	if (n < 0)
		return fail_errno(e, SP_FAILURE, errno, "read(%d)", control);
	if (n != (ssize_t)sizeof(sent))
		return fail(e, SP_FAILURE, "read(%d): the sender ended without its counts", control);
	r->sent = sent.messages;
	return 0;
}

/* A stream: everything until end of file, in reads as large as the buffer. */
static int receive_stream(const struct end *end, char *buf, size_t room,
			  struct throughput_result *r, struct sp_error *e)
{
	for (;;) {
		ssize_t n = sys_read(end->in, buf, room);

		if (n > 0)
			r->bytes += (uint64_t)n;
		else if (n == 0)
			return 0;
		else if (errno != EINTR)
			return fail_errno(e, SP_FAILURE, errno, "read(%d)", end->in);
	}
}

/*
 * Nothing is queued: wait for a datagram or the sender's counts.  Returns
 * 1 to read on, 0 when the sender is done and nothing more came.
 */
static int await_datagrams(const struct end *end, int control, bool *sender_done,
			   struct throughput_result *r, struct sp_error *e)
{
	struct pollfd p[2] = { { .fd = end->in, .events = POLLIN },
			       { .fd = *sender_done ? -1 : control, .events = POLLIN } };
	int n = sys_poll(p, 2, *sender_done ? DRAIN_MS : PEER_WAIT_MS);

	if (n < 0)
		return errno == EINTR ? 1 : fail_errno(e, SP_FAILURE, errno, "poll");
	if (n == 0 && *sender_done)
		return 0;
	if (n == 0)
		return fail(e, SP_TIMEOUT, "recvfrom(%d): nothing in %d s", end->in,
			    PEER_WAIT_MS / 1000);
	if (p[1].revents) {
		if (read_counts(control, r, e) < 0)
			return -1;
		*sender_done = true;
	}
	return 1;
}

/*
 * Datagrams and packets: read while they come (MSG_DONTWAIT: no poll()
 * while the queue holds some); when it is empty, wait for more or for the
 * sender's counts, then drain what is still queued.  What never came is
 * lost, and counted.
 */
static int receive_datagrams(const struct row *row, const struct end *end, int control,
			     char *buf, struct throughput_result *r, struct sp_error *e)
{
	bool sender_done = false;
	int more = 1;

	while (more > 0 && !(sender_done && r->messages >= r->sent)) {
		ssize_t n = sys_recvfrom(end->in, buf, row->size, MSG_DONTWAIT, NULL, NULL);

		if (n > 0) {
			r->messages++;
			r->bytes += (uint64_t)n;
		} else if (n == 0) {	/* a packet socket whose sender is gone */
			return sender_done ? 0 : read_counts(control, r, e);
		} else if (errno == EAGAIN) {
			more = await_datagrams(end, control, &sender_done, r, e);
		} else if (errno != EINTR) {
			return fail_errno(e, SP_FAILURE, errno, "recvfrom(%d)", end->in);
		}
	}
	return more < 0 ? -1 : 0;
}

/* Stream reads take up to this much, whatever the writer's message size. */
enum { STREAM_READ = 256 * 1024 };

static int measure_throughput(const struct row *row, const struct end *end, int control,
			      struct throughput_result *r, struct sp_error *e)
{
	size_t room = is_stream(row->m) && row->size < STREAM_READ ? STREAM_READ : row->size;
	char *buf = io_alloc_buffer(room);
	double t0 = clock_now_seconds();
	int status;

	*r = (struct throughput_result){ 0 };
	if (!buf)
		return fail_errno(e, SP_FAILURE, ENOMEM, "malloc");
	if (is_stream(row->m)) {
		status = receive_stream(end, buf, room, r, e);
		if (status == 0)
			status = read_counts(control, r, e);
		r->messages = r->bytes / row->size;
		if (status == 0 && r->sent * row->size != r->bytes)
			status = fail(e, SP_FAILURE, "read(%d): %" PRIu64 " bytes received, %"
				      PRIu64 " sent", end->in, r->bytes, r->sent * row->size);
	} else {
		status = receive_datagrams(row, end, control, buf, r, e);
	}
	r->seconds = clock_now_seconds() - t0;
	free(buf);
	return status;
}

/* ---- the table ------------------------------------------------------------ */

/* A rate in whole units where it is large; a slow one (1 GiB messages) keeps its fraction. */
static int rate_decimals(double per_second)
{
	return per_second >= 100 ? 0 : 2;
}

/* A result row on stdout: the table's text (its header before the first
 * row), or its JSON object. */
static void begin_row(struct record *r, const struct row *row, const char *mode)
{
	record_init(r, RECORD_LINE, "row");
	r->to_stdout = true;
	record_cstring(r, "via", row->m->name);
	record_cstring(r, "mode", mode);
	record_integer(r, "size", (long long)row->size);
}

static void print_latency(const struct row *row, const struct latency_result *r, bool first)
{
	static const char *const keys[5] = { "p50_us", "p90_us", "p99_us", "p999_us", "max_us" };
	struct record rec;

	begin_row(&rec, row, "latency");
	if (first)
		record_text(&rec, "%-20s %8s %9s %9s %9s %9s %9s %9s %10s\n", "VIA", "SIZE", "p50",
			    "p90", "p99", "p99.9", "max", "mean", "rt/s");
	record_text(&rec, "%-20s %8zu", row->m->name, row->size);
	for (int i = 0; i < 5; i++) {
		record_text(&rec, " %9.2f", r->pct[i] * 1e6);
		record_number(&rec, keys[i], r->pct[i] * 1e6, 3);
	}
	record_text(&rec, " %9.2f %10.*f", r->mean * 1e6, rate_decimals(r->per_second),
		    r->per_second);
	record_number(&rec, "mean_us", r->mean * 1e6, 3);
	record_number(&rec, "rt_per_s", r->per_second, rate_decimals(r->per_second));
	event_emit(&rec);
}

/* after_table: the latency table came before, a blank line after it. */
static void print_throughput(const struct row *row, const struct throughput_result *r,
			     bool first, bool after_table)
{
	double mib = (double)r->bytes / (1024.0 * 1024.0) / r->seconds;
	double msgs = (double)r->messages / r->seconds;
	uint64_t lost = r->sent > r->messages ? r->sent - r->messages : 0;
	struct record rec;

	begin_row(&rec, row, "throughput");
	if (first)
		record_text(&rec, "%s%-20s %8s %10s %11s %14s %10s\n", after_table ? "\n" : "",
			    "VIA", "SIZE", "MiB/s", "msg/s", "bytes", "lost");
	record_text(&rec, "%-20s %8zu %10.1f %11.*f %14" PRIu64, row->m->name, row->size, mib,
		    rate_decimals(msgs), msgs, r->bytes);
	record_number(&rec, "mib_per_s", mib, 3);
	record_number(&rec, "msg_per_s", msgs, rate_decimals(msgs));
	record_integer(&rec, "bytes", (long long)r->bytes);
	if (is_stream(row->m)) {
		record_text(&rec, " %10s", "-");
		record_cstring(&rec, "lost", NULL);
	} else {
		record_text(&rec, " %10" PRIu64, lost);
		record_integer(&rec, "lost", (long long)lost);
	}
	event_emit(&rec);
}

/* ---- the two processes ---------------------------------------------------- */

/* The child of one row: the echo (latency) or the sender (throughput). */
static _Noreturn void run_child(const struct bench_opts *o, const struct row *row,
				struct link *l, pid_t parent)
{
	char *buf = io_alloc_buffer(row->size);
	struct sp_error e;
	int r;

	/* A parent that dies (kill -9) takes its child along: none is left behind. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		proc_exit_child(SP_FAILURE);
	close_end(&l->parent);
	sys_close(l->control[0]);
	if (!buf)
		r = fail_errno(&e, SP_FAILURE, ENOMEM, "malloc");
	else if (o->cpu[1] != o->cpu[0] && pin_to(o->cpu[1], &e) < 0)
		r = -1;
	else {
		memset(buf, 'x', row->size);
		r = row->latency ? echo_messages(row, &l->child, buf, &e)
				 : send_for(row, &l->child, l->control[1], buf, &e);
	}
	proc_exit_child(r < 0 ? report_failure(&e) : SP_OK);
}

/*
 * Reaps the row's child.  A row that failed because the child died says
 * how it died; a child still running after a failure is killed.
 */
static int finish_child(pid_t pid, int status, struct sp_error *e)
{
	struct sp_error child;

	if (status < 0 && !proc_has_exited(pid, CHILD_EXIT_MS)) {
		proc_kill(pid);
		return -1;
	}
	if (proc_wait(pid, &child) < 0) {
		*e = child;
		return -1;
	}
	return status;
}

union result {
	struct latency_result latency;
	struct throughput_result throughput;
};

static int measure_in_parent(const struct row *row, struct link *l, struct report_progress *p,
			     union result *r, struct sp_error *e)
{
	char *buf;
	int status;

	if (!row->latency)
		return measure_throughput(row, &l->parent, l->control[0], &r->throughput, e);
	buf = io_alloc_buffer(row->size);
	if (!buf)
		return fail_errno(e, SP_FAILURE, ENOMEM, "malloc");
	memset(buf, 'x', row->size);
	status = measure_latency(row, &l->parent, buf, p, &r->latency, e);
	free(buf);
	return status;
}

static int run_row(const struct bench_opts *o, struct row *row, struct report_progress *p,
		   union result *r, struct sp_error *e)
{
	struct link l;
	pid_t parent = getpid(), pid;
	int status;

	if (make_link(row->m, o->buffer, &l, e) < 0) {
		link_release(&l);
		return -1;
	}
	if (row->size > largest_message(row->m, l.parent.in)) {
		report_note("%s: %zu bytes do not fit in one message; %zu are sent",
			    row->m->name, row->size, largest_message(row->m, l.parent.in));
		row->size = largest_message(row->m, l.parent.in);
	}
	pid = proc_fork(e);
	if (pid == 0)
		run_child(o, row, &l, parent);
	status = pid < 0 ? -1 : 0;
	if (pid > 0) {
		close_end(&l.child);
		sys_close(l.control[1]);
		l.control[1] = -1;
		status = finish_child(pid, measure_in_parent(row, &l, p, r, e), e);
	}
	link_release(&l);
	return status;
}

/* ---- the command ------------------------------------------------------------ */

static uint64_t size_of(const struct bench_opts *o, size_t i, bool latency)
{
	if (o->size_count == 0)
		return latency ? LATENCY_SIZE : THROUGHPUT_SIZE;
	return o->sizes[i];
}

/*
 * Round trips before the measured ones: a tenth of them, 10 to 10000, and
 * no more than WARMUP_BYTES of messages (one at least), or a warm-up of
 * 1 GiB messages would take longer than what it warms up for.
 */
static unsigned long warmup_of(unsigned long count, size_t size)
{
	unsigned long w = count / 10, by_bytes = WARMUP_BYTES / (size ? size : 1);

	w = w < 10 ? 10 : w > 10000 ? 10000 : w;
	if (w > by_bytes)
		w = by_bytes ? by_bytes : 1;
	return w;
}

/* Every row of one mode: each mechanism, each size, in the order given. */
static int run_mode(const struct bench_opts *o, bool latency, struct report_progress *p,
		    struct sp_error *e)
{
	size_t sizes = o->size_count ? o->size_count : 1;
	bool first = true;

	for (size_t v = 0; v < o->via_count; v++) {
		for (size_t s = 0; s < sizes; s++) {
			size_t size = (size_t)size_of(o, s, latency);
			struct row row = { o->via[v], size, latency, o->count,
					   warmup_of(o->count, size), o->time_ms };
			union result r;
			int status;

			report_progress_begin(p, "%s, %s, %zu bytes", latency ? "latency" : "throughput",
				       row.m->name, row.size);
			status = run_row(o, &row, p, &r, e);
			report_progress_end(p, status == 0);
			if (status < 0)
				return -1;
			if (latency)
				print_latency(&row, &r.latency, first);
			else
				print_throughput(&row, &r.throughput, first, o->latency);
			first = false;
			if (io_flush_stdout(e) < 0)
				return -1;
		}
	}
	return 0;
}

static int cmd_bench_exec(int argc, char **argv)
{
	struct bench_opts o = { .latency = true, .throughput = true, .count = DEFAULT_COUNT,
				.time_ms = DEFAULT_TIME_MS };
	struct report_progress p;
	struct sp_error e;

	parse_bench_options(argc, argv, &o);
	if (plan_cpus(&o, &e) < 0)
		return report_failure(&e);
	report_progress_init(&p);
	if (o.latency && run_mode(&o, true, &p, &e) < 0)
		return report_failure(&e);
	if (o.throughput && run_mode(&o, false, &p, &e) < 0)
		return report_failure(&e);
	return SP_OK;
}

const struct sp_cmd cmd_bench_entry = {
	.name = "bench",
	.synopsis = "[--via LIST] [--mode latency|throughput|both] [--size LIST] "
		    "[--count N | --time SECONDS] [--cpus same|split|any] [--buffer BYTES]",
	.summary = "Measure IPC latency and throughput between two processes, every mechanism",
	.options = bench_options,
	.notes = "Latency is the round trip (there and back), in microseconds, over\n"
		 "every sample; throughput is counted at the receiver.  With --json,\n"
		 "each row is one JSON object on stdout.\n",
	.exec = cmd_bench_exec,
};
