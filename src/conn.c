/*
 * conn.c: what sockpair knows of each socket it holds, by descriptor:
 * the peer's name, the bytes and calls each way, how the connection
 * ended.  The call layer (sys.c) keeps it up to date; the two sinks here
 * read it: -x shows every chunk that crosses a socket as xxd lines, and
 * --stats a summary when a connection ends (or on SIGUSR1).
 *
 * The state lives beside the descriptor, not in the sinks: the sinks only
 * format it (with the kernel's view that sys.c reads for them).
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool conn_hexdump, conn_stats, conn_counting, conn_name_peers;

struct conn {
	bool open;		/* a socket of ours */
	bool connection;	/* connected or accepted: worth a summary */
	bool listening;
	bool peer_eof_first;	/* the peer's end of data came before our shutdown */
	bool shut_by_us;
	int failure;		/* the first errno that was not EAGAIN or EINTR */
	double opened;		/* clock_now_seconds() at open */
	uint64_t sent, received;
	unsigned long writes, reads;
	char peer[128];
	/* A proxy's side of connection number: what it receives is what
	 * that side sent, shown once (what we send on is the other side's). */
	unsigned long number;
	const char *side;	/* "client", "server"; NULL: not a proxy's */
};

static struct conn *table;
static size_t table_size;
static char child_prefix[24];
static int child_pid;

/* A forked child's -x headers read "-- [pid N] sent ...". */
void conn_set_child(void)
{
	snprintf(child_prefix, sizeof(child_prefix), "[pid %d] ", (int)getpid());
	child_pid = (int)getpid();
}

/* The state of fd, grown into as needed; NULL if memory is short. */
static struct conn *slot(int fd)
{
	size_t size = table_size ? table_size : 64;
	struct conn *grown;

	if (fd < 0)
		return NULL;
	if ((size_t)fd < table_size)
		return &table[fd];
	while (size <= (size_t)fd)
		size *= 2;
	grown = realloc(table, size * sizeof(*grown));
	if (!grown)
		return NULL;
	memset(grown + table_size, 0, (size - table_size) * sizeof(*grown));
	table = grown;
	table_size = size;
	return &table[fd];
}

/* An open socket of ours, or NULL: only sockets are counted and shown. */
static struct conn *socket_of(int fd)
{
	return fd >= 0 && (size_t)fd < table_size && table[fd].open ? &table[fd] : NULL;
}

bool conn_is_socket(int fd)
{
	return socket_of(fd) != NULL;
}

/*
 * A new socket; accepted: a connection from its start.  Any other (a pair
 * end among them: the one a forked child keeps is closed unused by the
 * parent) is summarised once it moved data or connected.  Never fails:
 * without memory, it goes uncounted.
 */
void conn_open(int fd, bool accepted, const char *peer)
{
	struct conn *c = conn_wanted() ? slot(fd) : NULL;

	if (!c)
		return;
	*c = (struct conn){ .open = true, .connection = accepted, .opened = clock_now_seconds() };
	snprintf(c->peer, sizeof(c->peer), "%s", peer ? peer : "(unnamed)");
}

/* connect() named the peer (NULL: as before); established: it answered. */
void conn_connected(int fd, const char *peer, bool established)
{
	struct conn *c = socket_of(fd);

	if (!c)
		return;
	c->connection |= established;
	if (peer)
		snprintf(c->peer, sizeof(c->peer), "%s", peer);
}

void conn_listening(int fd)
{
	struct conn *c = socket_of(fd);

	if (c)
		c->listening = true;
}

/* fd is a proxy's side ("client", "server") of its connection number. */
void conn_set_side(int fd, unsigned long number, const char *side)
{
	struct conn *c = socket_of(fd);

	if (c) {
		c->number = number;
		c->side = side;
	}
}

void conn_shut(int fd)
{
	struct conn *c = socket_of(fd);

	if (c && !c->peer_eof_first)
		c->shut_by_us = true;
}

/* ---- -x: the bytes ------------------------------------------------------ */

/* The longest line xxd_line() writes, with the "> " before it. */
enum { XXD_LINE_MAX = 2 + 16 + 1 + 40 + 2 + 16 + 1 };

/* One line as xxd prints it: offset, 8 groups of 2 bytes, the text. */
static size_t xxd_line(char *out, uint64_t offset, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t used = (size_t)sprintf(out, "%08" PRIx64 ":", offset);

	for (size_t i = 0; i < 16; i++) {
		if (i % 2 == 0)
			out[used++] = ' ';
		out[used++] = i < n ? digits[p[i] >> 4] : ' ';
		out[used++] = i < n ? digits[p[i] & 15] : ' ';
	}
	out[used++] = ' ';
	out[used++] = ' ';
	for (size_t i = 0; i < n; i++)
		out[used++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	out[used++] = '\n';
	return used;
}

/* Bytes of data in one JSON data event: its hex is twice as long. */
enum { JSON_DATA_BYTES = 4096 };

static void json_dump(const struct conn *c, bool sent, const unsigned char *p, size_t n,
		      uint64_t offset, const char *peer)
{
	static const char digits[] = "0123456789abcdef";
	char line[2 * JSON_DATA_BYTES + 512], hex[2 * JSON_DATA_BYTES];
	struct json j;

	for (size_t at = 0; at < n; at += JSON_DATA_BYTES) {
		size_t len = n - at < JSON_DATA_BYTES ? n - at : JSON_DATA_BYTES;

		for (size_t i = 0; i < len; i++) {
			hex[2 * i] = digits[p[at + i] >> 4];
			hex[2 * i + 1] = digits[p[at + i] & 15];
		}
		json_begin(&j, line, sizeof(line), "data", clock_since_start());
		if (child_pid)
			json_integer(&j, "pid", child_pid);
		if (c->side) {
			json_integer(&j, "conn", (long long)c->number);
			json_cstring(&j, "from", c->side);
		} else {
			json_cstring(&j, "peer", peer);
			json_cstring(&j, "direction", sent ? "sent" : "received");
		}
		json_integer(&j, "bytes", (long long)len);
		json_integer(&j, "offset", (long long)(offset + at));
		json_string(&j, "hex", hex, 2 * len);
		trace_write(line, json_end(&j));
	}
}

/* The header of a chunk: "-- sent 5 bytes at +0.000102 s", or a proxy's
 * "-- #3 client sent 5 bytes at ...". */
static int dump_header(const struct conn *c, bool sent, size_t n, const char *peer, char *text,
		       size_t size)
{
	if (c->side)
		return snprintf(text, size, "-- #%lu %s sent %zu bytes at +%.6f s\n", c->number,
				c->side, n, clock_since_start());
	return snprintf(text, size, "-- %s%s%s%s %zu bytes at +%.6f s\n", child_prefix,
			conn_name_peers ? peer : "", conn_name_peers ? " " : "",
			sent ? "sent" : "received", n, clock_since_start());
}

static void dump(const struct conn *c, bool sent, const void *buf, size_t n, uint64_t offset,
		 const char *peer)
{
	const unsigned char *p = buf;
	static char text[64 * 1024];
	/* A proxy's client is the one who sends "> " lines, as a user would. */
	char mark = c->side ? (strcmp(c->side, "client") == 0 ? '>' : '<') : sent ? '>' : '<';
	size_t used;

	if (trace_json) {
		json_dump(c, sent, p, n, offset, peer);
		return;
	}
	/* Lines go out a bufferful at a time: a write per line would be the
	 * cost of -x, not the formatting.  The chunk stays whole. */
	trace_hold(true);
	used = (size_t)dump_header(c, sent, n, peer, text, sizeof(text));
	for (size_t at = 0; at < n; at += 16) {
		if (used + XXD_LINE_MAX > sizeof(text)) {
			trace_write(text, used);
			used = 0;
		}
		text[used++] = mark;
		text[used++] = ' ';
		used += xxd_line(text + used, offset + at, p + at, n - at < 16 ? n - at : 16);
	}
	trace_write(text, used);
	trace_hold(false);
}

/*
 * A call moved data on fd: n bytes (buf: the bytes, or NULL when they
 * stayed in the kernel, as with splice), sent or received; n < 0: it
 * failed with err.  from: the datagram's sender or receiver, if any.
 */
void conn_moved(int fd, bool sent, const void *buf, ssize_t n, int err, const char *other)
{
	struct conn *c = socket_of(fd);
	uint64_t *count;

	if (!c)
		return;
	if (n < 0) {
		if (err != EAGAIN && err != EINTR && !c->failure)
			c->failure = err;
		return;
	}
	/* An unconnected datagram socket's peer is whom it last heard or told. */
	if (other && !c->connection)
		snprintf(c->peer, sizeof(c->peer), "%s", other);
	count = sent ? &c->sent : &c->received;
	if (n == 0 && !sent && !c->shut_by_us)
		c->peer_eof_first = true;
	/* A proxy's side: what it sent us is shown; what we send it, the
	 * other side's bytes, was shown as they arrived. */
	if (n > 0 && conn_hexdump && buf && !(c->side && sent))
		dump(c, sent, buf, (size_t)n, *count, other ? other : c->peer);
	*count += (uint64_t)n;
	if (sent)
		c->writes++;
	else
		c->reads++;
}

/* ---- --stats: the summary ------------------------------------------------ */

static const char *ending(const struct conn *c)
{
	if (c->failure == ECONNRESET || c->failure == EPIPE)
		return "reset by peer";
	if (c->failure)
		return "error";
	return c->peer_eof_first ? "closed by peer" : "closed by us";
}

/* The kernel's view as a line; side: a proxy's "client" or "server" ("tcp client: ..."). */
static void print_kernel_view(const struct conn_view *v, const char *side)
{
	char line[512];
	int len = 0;

	if (v->tcp)
		len = snprintf(line, sizeof(line),
			       "tcp%s%s: rtt:%.3f/%.3f cwnd:%u retrans:%u/%u pmtu:%u bytes_acked:%" PRIu64
			       " bytes_received:%" PRIu64 " delivery_rate:%" PRIu64 "bps\n",
			       side ? " " : "", side ? side : "",
			       v->rtt_us / 1000.0, v->rttvar_us / 1000.0, v->cwnd, v->retrans,
			       v->total_retrans, v->pmtu, v->bytes_acked, v->bytes_received,
			       v->delivery_rate * 8);
	else if (v->unix_domain && !side)
		len = snprintf(line, sizeof(line), "unix: peer pid %d uid %u gid %u, inq %d, outq %d\n",
			       v->pid, v->uid, v->gid, v->inq, v->outq);
	if (len > 0)
		trace_write(line, (size_t)len);
}

static void json_view(struct json *j, const struct conn_view *v)
{
	if (v->tcp) {
		json_open(j, "tcp");
		json_number(j, "rtt_ms", v->rtt_us / 1000.0, 3);
		json_number(j, "rttvar_ms", v->rttvar_us / 1000.0, 3);
		json_integer(j, "cwnd", v->cwnd);
		json_integer(j, "retrans", v->retrans);
		json_integer(j, "total_retrans", v->total_retrans);
		json_integer(j, "pmtu", v->pmtu);
		json_integer(j, "bytes_acked", (long long)v->bytes_acked);
		json_integer(j, "bytes_received", (long long)v->bytes_received);
		json_integer(j, "delivery_rate_bps", (long long)(v->delivery_rate * 8));
		json_close(j);
	} else if (v->unix_domain) {
		json_open(j, "unix");
		json_integer(j, "pid", v->pid);
		json_integer(j, "uid", v->uid);
		json_integer(j, "gid", v->gid);
		json_integer(j, "inq", v->inq);
		json_integer(j, "outq", v->outq);
		json_close(j);
	}
}

static void json_stats(const struct conn *c, const char *end, const struct conn_view *v)
{
	char line[1024];
	struct json j;

	json_begin(&j, line, sizeof(line), "stats", clock_since_start());
	if (child_pid)
		json_integer(&j, "pid", child_pid);
	json_cstring(&j, "peer", c->peer);
	json_number(&j, "seconds", clock_now_seconds() - c->opened, 3);
	json_integer(&j, "sent", (long long)c->sent);
	json_integer(&j, "writes", (long long)c->writes);
	json_integer(&j, "received", (long long)c->received);
	json_integer(&j, "reads", (long long)c->reads);
	json_cstring(&j, "ending", end);
	if (v)
		json_view(&j, v);
	trace_write(line, json_end(&j));
}

static void print_stats(const struct conn *c, const char *end, const struct conn_view *v)
{
	char line[512];
	int len;

	if (trace_json) {
		json_stats(c, end, v);
		return;
	}
	len = snprintf(line, sizeof(line),
		       "stats: %s%s %.3f s, sent %" PRIu64 " bytes in %lu write%s, received %" PRIu64
		       " bytes in %lu read%s, %s\n", child_prefix, c->peer,
		       clock_now_seconds() - c->opened, c->sent, c->writes, c->writes == 1 ? "" : "s",
		       c->received, c->reads, c->reads == 1 ? "" : "s", end);
	trace_write(line, (size_t)len);
	if (v)
		print_kernel_view(v, NULL);
}

/* A proxy's sides are summed up by the proxy, a connection a line. */
static bool worth_a_summary(const struct conn *c)
{
	return !c->listening && !c->side && (c->connection || c->sent || c->received);
}

/* Whether fd is a connection whose summary --stats would print. */
bool conn_wants_stats(int fd)
{
	const struct conn *c = socket_of(fd);

	return conn_stats && c && worth_a_summary(c);
}

static conn_viewer *viewer;

/* Who reads the kernel's view of a closing connection (stats.c): above us. */
void conn_set_viewer(conn_viewer *f)
{
	viewer = f;
}

/* fd is being closed: its summary, with the kernel's view while the
 * socket still has one, then the state is forgotten. */
void conn_closing(int fd)
{
	struct conn *c = socket_of(fd);
	struct conn_view v;

	if (!c)
		return;
	if (conn_wants_stats(fd)) {
		memset(&v, 0, sizeof(v));
		if (viewer)
			viewer(fd, &v);
		print_stats(c, ending(c), &v);
	}
	c->open = false;
}

/* A proxy's TCP side, after its connection's line: "tcp client: ..." (text only). */
void conn_report_side(int fd)
{
	const struct conn *c = socket_of(fd);
	struct conn_view v;

	if (!c || !c->side || !viewer || trace_json)
		return;
	memset(&v, 0, sizeof(v));
	viewer(fd, &v);
	print_kernel_view(&v, c->side);
}

/* SIGUSR1: the summary of an open connection, marked "open". */
void conn_report_open(int fd, const struct conn_view *v)
{
	const struct conn *c = socket_of(fd);

	if (c && worth_a_summary(c))
		print_stats(c, "open", v);
}

/* The highest descriptor that may be an open socket, for walking them all. */
int conn_last_fd(void)
{
	return (int)table_size - 1;
}
