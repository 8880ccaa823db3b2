/*
 * conn.c: what sockpair knows of each socket it holds, by descriptor:
 * the peer's name, the bytes and calls each way, how the connection
 * ended.  The call layer (sys.c) keeps it up to date, and this file makes
 * the records that tell of it (record.c): each chunk that crosses a socket
 * (-x), and a summary when a connection ends or on SIGUSR1 (--stats).
 *
 * The state lives beside the descriptor, not in the sinks: the sinks only
 * format its records (with the kernel's view that stats.c reads).
 */
#define _GNU_SOURCE
#include "sockpair.h"
#include "conn-layer.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool conn_hexdump, conn_stats, conn_counting, conn_name_peers, conn_capture, conn_capture_joins;

static struct conn *table;
static size_t table_size;
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
struct conn *conn_socket_of(int fd)
{
	return fd >= 0 && (size_t)fd < table_size && table[fd].open ? &table[fd] : NULL;
}

bool conn_is_socket(int fd)
{
	return conn_socket_of(fd) != NULL;
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
	*c = (struct conn){ .open = true, .connection = accepted, .accepted = accepted,
			    .opened = clock_now_seconds() };
	snprintf(c->peer, sizeof(c->peer), "%s", peer ? peer : "(unnamed)");
}

/* connect() named the peer (NULL: as before); established: it answered. */
void conn_connected(int fd, const char *peer, bool established)
{
	struct conn *c = conn_socket_of(fd);

	if (!c)
		return;
	c->connection |= established;
	if (peer)
		snprintf(c->peer, sizeof(c->peer), "%s", peer);
}

void conn_listening(int fd)
{
	struct conn *c = conn_socket_of(fd);

	if (c)
		c->listening = true;
}

/* fd is a proxy's side ("client", "server") of its connection number. */
void conn_set_side(int fd, unsigned long number, const char *side)
{
	struct conn *c = conn_socket_of(fd);

	if (c) {
		c->number = number;
		c->side = side;
	}
}

/* fd's data is counted as TLS's plaintext (tls.c): -x headers say "(tls)". */
void conn_set_tls(int fd)
{
	struct conn *c = conn_socket_of(fd);

	if (c)
		c->tls = true;
}

void conn_shut(int fd)
{
	struct conn *c = conn_socket_of(fd);

	if (c && !c->peer_eof_first)
		c->shut_by_us = true;
	if (c && c->flow && !c->side)
		capture_end(c, false, false);
}

/* ---- -x: the bytes ------------------------------------------------------ */

/*
 * A chunk as a record: "-- sent 5 bytes at +0.000102 s", a proxy's
 * "-- #3 client sent 5 bytes at ...", or a server's "-- PEER sent ...";
 * the sinks show its bytes (hexdump, JSON) where shown, and --pcap
 * writes it as a packet of its flow where flow is given.
 */
static void dump(const struct conn *c, bool sent, const void *buf, size_t n, uint64_t offset,
		 const char *peer, bool shown, struct capture_flow *flow,
		 const struct sockaddr *other)
{
	struct record r;

	record_init(&r, RECORD_DATA, "data");
	r.data = buf;
	r.data_len = n;
	r.offset = offset;
	r.shown = shown;
	r.flow = flow;
	r.from = sent ? 1 - c->peer_end : c->peer_end;
	r.other = other;
	if (!shown) {
		event_emit(&r);
		return;
	}
	/* A proxy's client is the one who sends "> " lines, as a user would. */
	r.mark = c->side ? (strcmp(c->side, "client") == 0 ? '>' : '<') : sent ? '>' : '<';
	record_child_field(&r);
	if (c->side) {
		record_text(&r, "-- #%lu %s sent %zu bytes at +%.6f s", c->number, c->side, n,
			    r.time);
		record_integer(&r, "conn", (long long)c->number);
		record_cstring(&r, "from", c->side);
	} else {
		record_text(&r, "-- %s%s%s%s %zu bytes at +%.6f s%s", record_child_prefix(),
			    conn_name_peers ? peer : "", conn_name_peers ? " " : "",
			    sent ? "sent" : "received", n, r.time, c->tls ? " (tls)" : "");
		if (c->tls)
			record_bool(&r, "tls", true);
		record_cstring(&r, "peer", peer);
		record_cstring(&r, "direction", sent ? "sent" : "received");
	}
	event_emit(&r);
}

/*
 * A call moved data on fd: n bytes (buf: the bytes, or NULL when they
 * stayed in the kernel, as with splice), sent or received; n < 0: it
 * failed with err.  other: the datagram's sender or receiver, if any.
 */
void conn_moved(int fd, bool sent, const void *buf, ssize_t n, int err,
		const struct sockaddr *other, socklen_t other_len)
{
	struct conn *c = conn_socket_of(fd);
	char other_text[128];
	struct capture_flow *flow;
	uint64_t *count;
	bool shown;

	if (!c)
		return;
	if (n < 0) {
		if (err != EAGAIN && err != EINTR && !c->failure)
			c->failure = err;
		if (c->flow && err == ECONNRESET)
			capture_end(c, true, true);
		return;
	}
	if (other)
		addr_format(other, other_len, other_text, sizeof(other_text));
	/* An unconnected datagram socket's peer is whom it last heard or told. */
	if (other && !c->connection)
		snprintf(c->peer, sizeof(c->peer), "%s", other_text);
	count = sent ? &c->sent : &c->received;
	if (n == 0 && !sent && !c->shut_by_us)
		c->peer_eof_first = true;
	/* A proxy's side: what it sent us is shown; what we send it, the
	 * other side's bytes, was shown as they arrived. */
	shown = n > 0 && conn_hexdump && buf && !(c->side && sent);
	flow = buf ? capture_flow_of(c, sent, (size_t)n) : NULL;
	if (shown || flow)
		dump(c, sent, buf, (size_t)n, *count, other ? other_text : c->peer, shown, flow,
		     other);
	if (n == 0 && !sent && c->flow && !c->flow->datagrams)
		capture_end(c, true, false);
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

/* TCP_INFO as --stats shows it (stats.c reads it from a socket of ours,
 * diag.c from the kernel's socket diagnostics for any socket). */
void conn_view_tcp(struct conn_view *v, const struct tcp_info *ti)
{
	v->tcp = true;
	v->rtt_us = ti->tcpi_rtt;
	v->rttvar_us = ti->tcpi_rttvar;
	v->cwnd = ti->tcpi_snd_cwnd;
	v->retrans = ti->tcpi_retrans;
	v->total_retrans = ti->tcpi_total_retrans;
	v->pmtu = ti->tcpi_pmtu;
	v->bytes_acked = ti->tcpi_bytes_acked;
	v->bytes_received = ti->tcpi_bytes_received;
	v->delivery_rate = ti->tcpi_delivery_rate;
}

static void add_tcp_view(struct record *r, const struct conn_view *v, const char *side,
			 const char *indent)
{
	record_text(r, "%s%stcp%s%s: rtt:%.3f/%.3f cwnd:%u retrans:%u/%u pmtu:%u bytes_acked:%"
		    PRIu64 " bytes_received:%" PRIu64 " delivery_rate:%" PRIu64 "bps",
		    r->text_len ? "\n" : "", indent, side ? " " : "", side ? side : "",
		    v->rtt_us / 1000.0, v->rttvar_us / 1000.0, v->cwnd, v->retrans,
		    v->total_retrans, v->pmtu, v->bytes_acked, v->bytes_received,
		    v->delivery_rate * 8);
	record_open(r, "tcp");
	record_number(r, "rtt_ms", v->rtt_us / 1000.0, 3);
	record_number(r, "rttvar_ms", v->rttvar_us / 1000.0, 3);
	record_integer(r, "cwnd", v->cwnd);
	record_integer(r, "retrans", v->retrans);
	record_integer(r, "total_retrans", v->total_retrans);
	record_integer(r, "pmtu", v->pmtu);
	record_integer(r, "bytes_acked", (long long)v->bytes_acked);
	record_integer(r, "bytes_received", (long long)v->bytes_received);
	record_integer(r, "delivery_rate_bps", (long long)(v->delivery_rate * 8));
	record_close(r);
}

/*
 * The kernel's view as a line of the record's text (after a newline if
 * it has some; indent before it; "tcp client: ..." for a proxy's side)
 * and its fields: the one wording of --stats, which peers shares.
 */
void conn_add_kernel_view(struct record *r, const struct conn_view *v, const char *side,
			  const char *indent)
{
	if (v->tcp) {
		add_tcp_view(r, v, side, indent);
	} else if (v->unix_domain && !side) {
		record_text(r, "%s%sunix: peer pid %d uid %u gid %u, inq %d, outq %d",
			    r->text_len ? "\n" : "", indent, v->pid, v->uid, v->gid, v->inq, v->outq);
		record_open(r, "unix");
		record_integer(r, "pid", v->pid);
		record_integer(r, "uid", v->uid);
		record_integer(r, "gid", v->gid);
		record_integer(r, "inq", v->inq);
		record_integer(r, "outq", v->outq);
		record_close(r);
	}
}

static void print_stats(const struct conn *c, const char *end, const struct conn_view *v)
{
	double seconds = clock_now_seconds() - c->opened;
	struct record r;

	record_init(&r, RECORD_LINE, "stats");
	record_text(&r, "stats: %s%s %.3f s, sent %" PRIu64 " bytes in %lu write%s, received %"
		    PRIu64 " bytes in %lu read%s, %s", record_child_prefix(), c->peer, seconds,
		    c->sent, c->writes, c->writes == 1 ? "" : "s", c->received, c->reads,
		    c->reads == 1 ? "" : "s", end);
	record_child_field(&r);
	record_cstring(&r, "peer", c->peer);
	record_number(&r, "seconds", seconds, 3);
	record_integer(&r, "sent", (long long)c->sent);
	record_integer(&r, "writes", (long long)c->writes);
	record_integer(&r, "received", (long long)c->received);
	record_integer(&r, "reads", (long long)c->reads);
	record_cstring(&r, "ending", end);
	if (v)
		conn_add_kernel_view(&r, v, NULL, "");
	event_emit(&r);
}

/* A proxy's sides are summed up by the proxy, a connection a line. */
static bool worth_a_summary(const struct conn *c)
{
	return !c->listening && !c->side && (c->connection || c->sent || c->received);
}

/* Whether fd is a connection whose summary --stats would print. */
bool conn_wants_stats(int fd)
{
	const struct conn *c = conn_socket_of(fd);

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
	struct conn *c = conn_socket_of(fd);
	struct conn_view v;

	if (!c)
		return;
	if (conn_wants_stats(fd)) {
		memset(&v, 0, sizeof(v));
		if (viewer)
			viewer(fd, &v);
		print_stats(c, ending(c), &v);
	}
	if (c->flow)
		capture_closing(c);
	c->open = false;
}

/* A proxy's TCP side, after its connection's line: "tcp client: ..."
 * (text only: the JSON stats event has the connection's figures). */
void conn_report_side(int fd)
{
	const struct conn *c = conn_socket_of(fd);
	struct conn_view v;
	struct record r;

	if (!c || !c->side || !viewer)
		return;
	memset(&v, 0, sizeof(v));
	viewer(fd, &v);
	record_init(&r, RECORD_LINE, "stats");
	r.text_only = true;
	conn_add_kernel_view(&r, &v, c->side, "");
	if (r.text_len)
		event_emit(&r);
}

/* SIGUSR1: the summary of an open connection, marked "open". */
void conn_report_open(int fd, const struct conn_view *v)
{
	const struct conn *c = conn_socket_of(fd);

	if (c && worth_a_summary(c))
		print_stats(c, "open", v);
}

/* The highest descriptor that may be an open socket, for walking them all. */
int conn_last_fd(void)
{
	return (int)table_size - 1;
}
