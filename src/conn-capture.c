/*
 * conn-capture.c: --pcap's view of sockpair's sockets.  Each connection
 * (or datagram socket) is one flow between two IP ends, which the call
 * layer names as it accepts, connects or first moves data (conn_ends);
 * the chunks conn.c records and the ends told here go to sink-pcap.c as
 * records of that flow.
 *
 * A UNIX socket has no IP address, so its flow is given a pair in
 * 127.255.0.0/16: the accepting end 127.255.0.1 port 80 (Wireshark tries
 * HTTP there, the commonest protocol over a local socket), the connecting
 * end a fresh address and port each time; its first packet's comment
 * says what it really is.  A pair whose two ends are both ours is one
 * flow, recorded once, at the sends.  A proxy joins its two sockets of a
 * connection into one flow from the client to the target.
 */
#define _GNU_SOURCE
#include "sockpair.h"
#include "conn-layer.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static unsigned long unix_flows;	/* made-up addresses handed out */

static void set_inet(struct sockaddr_storage *ss, uint32_t addr, uint16_t port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(addr);
	in->sin_port = htons(port);
}

/* A UNIX flow's two ends: [0] connected (a fresh one), [1] accepted. */
static void made_up_ends(struct capture_flow *f)
{
	unsigned long k = unix_flows++;

	set_inet(&f->end[0], 0x7fff0000u | (uint32_t)(2 + k % 65000), (uint16_t)(1024 + k % 64000));
	set_inet(&f->end[1], 0x7fff0001u, 80);
}

/* A UNIX socket's name: its path, "@NAME" when abstract, "" unnamed. */
static const char *unix_name(const struct sockaddr_storage *ss, socklen_t len, char *buf,
			     size_t size)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
	size_t offset = offsetof(struct sockaddr_un, sun_path);
	size_t n = len > offset ? len - offset : 0;

	if (n == 0 || ss->ss_family != AF_UNIX)
		return "";
	if (sun->sun_path[0] == '\0')
		snprintf(buf, size, "@%.*s", (int)(n - 1), sun->sun_path + 1);
	else
		snprintf(buf, size, "%.*s", (int)strnlen(sun->sun_path, n), sun->sun_path);
	return buf;
}

/* "sockpair: /run/docker.sock, peer pid 812": what a UNIX flow is. */
static void unix_comment(struct capture_flow *f, const struct conn_ends *e, bool accepted)
{
	char a[110], b[110];
	const char *first = unix_name(accepted ? &e->local : &e->peer,
				      accepted ? e->local_len : e->peer_len, a, sizeof(a));
	const char *second = unix_name(accepted ? &e->peer : &e->local,
				       accepted ? e->peer_len : e->local_len, b, sizeof(b));
	const char *name = *first ? first : *second ? second : "socketpair";

	if (e->peer_pid > 0)
		snprintf(f->comment, sizeof(f->comment), "sockpair: %s, peer pid %d", name,
			 e->peer_pid);
	else
		snprintf(f->comment, sizeof(f->comment), "sockpair: %s", name);
}

static void copy_name(struct sockaddr_storage *to, const struct sockaddr_storage *from,
		      socklen_t len)
{
	memset(to, 0, sizeof(*to));
	if (len > 0)
		memcpy(to, from, len < sizeof(*to) ? len : sizeof(*to));
}

static struct capture_flow *new_flow(const struct conn_ends *e, bool accepted, int ours)
{
	struct capture_flow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->datagrams = e->type == SOCK_DGRAM;
	if (e->local.ss_family == AF_UNIX) {
		made_up_ends(f);
		unix_comment(f, e, accepted);
	} else {
		copy_name(&f->end[ours], &e->local, e->local_len);
		copy_name(&f->end[1 - ours], &e->peer, e->peer_len);
	}
	f->seq[0] = 0x10000000u;	/* any: readers show them from 0 */
	f->seq[1] = 0x20000000u;
	f->acked[0] = f->seq[0];
	f->acked[1] = f->seq[1];
	return f;
}

/* The flow's handshake, now: a live capture shows the connection as it
 * begins, with the time it began, not at its first bytes. */
static void start(struct capture_flow *f)
{
	struct record r;

	if (f->datagrams)
		return;
	record_init(&r, RECORD_FLOW_START, "flow");
	r.flow = f;
	event_emit(&r);
}

/* Whether fd is a socket of ours whose flow nobody has named yet. */
bool conn_needs_ends(int fd)
{
	const struct conn *c = conn_capture ? conn_socket_of(fd) : NULL;

	return c && !c->flow && !c->listening;
}

/*
 * fd's flow, from what the call layer read of it.  A stream's ends are
 * the connecting one and the accepting one; a datagram socket's, itself
 * and its peer.  Without memory it goes uncaptured.
 */
void conn_capture_ends(int fd, const struct conn_ends *e)
{
	struct conn *c = conn_socket_of(fd);
	bool stream = e->type != SOCK_DGRAM;
	int ours = stream && c && c->accepted ? 1 : 0;

	if (!c || c->flow)
		return;
	c->flow = new_flow(e, stream && c->accepted, ours);
	if (!c->flow)
		return;
	c->flow->holders = 1;
	c->peer_end = 1 - ours;
	/* A proxy's sides begin as one flow, when they are joined. */
	if (!conn_capture_joins)
		start(c->flow);
}

/* Both ends of a socketpair are ours: one flow, fds[0] its first end. */
void conn_capture_pair(const int fds[2], int type, int pid)
{
	struct conn *a = conn_socket_of(fds[0]), *b = conn_socket_of(fds[1]);
	struct conn_ends e = { .type = type, .peer_pid = pid };

	if (!a || !b)
		return;
	e.local.ss_family = AF_UNIX;
	a->flow = b->flow = new_flow(&e, false, 0);
	if (!a->flow)
		return;
	a->flow->holders = 2;
	a->peer_end = 1;
	b->peer_end = 0;
	/* Begun at its first packet: a fork may yet name the peer (conn_forked). */
}

/* Forgets c's flow; the last of its ends frees it. */
static void release(struct conn *c)
{
	if (--c->flow->holders == 0)
		free(c->flow);
	c->flow = NULL;
}

/* "sockpair: client /a.sock, peer pid 1; target /b.sock, peer pid 2". */
static void join_comments(struct capture_flow *f, const char *target)
{
	char joined[sizeof(f->comment)];
	const char *prefix = "sockpair: ";
	size_t skip = strlen(prefix);

	if (!*target)
		return;
	if (!*f->comment) {
		snprintf(f->comment, sizeof(f->comment), "%s", target);
		return;
	}
	snprintf(joined, sizeof(joined), "%sclient %s; target %s", prefix, f->comment + skip,
		 target + skip);
	memcpy(f->comment, joined, sizeof(joined));
}

/*
 * A proxy's connection: what the client's socket carries and what the
 * target's carries are one flow, from the client's address to the
 * target's, as if the proxy were not there.
 */
void conn_join(int client_fd, int server_fd)
{
	struct conn *client = conn_socket_of(client_fd), *server = conn_socket_of(server_fd);
	struct capture_flow *f;

	if (!client || !client->flow || !server)
		return;
	f = client->flow;
	client->peer_end = 0;
	if (server->flow) {
		f->end[1] = server->flow->end[server->peer_end];
		join_comments(f, server->flow->comment);
		release(server);
	}
	server->flow = f;
	server->peer_end = 1;
	f->holders++;
	start(f);
}

/* SO_LINGER 0 was set: fd's close resets the connection. */
void conn_will_reset(int fd)
{
	struct conn *c = conn_socket_of(fd);

	if (c)
		c->resetting = true;
}

/*
 * The flow a chunk belongs in, or NULL if it is not recorded here: a
 * stream's end of data is its FIN, not a packet; a proxy records what
 * each side sent it (what it sends on is the other side's); a pair with
 * both ends ours records the sends only.
 */
struct capture_flow *capture_flow_of(const struct conn *c, bool sent, size_t n)
{
	if (!conn_capture || !c->flow || (n == 0 && !c->flow->datagrams))
		return NULL;
	if (c->side)
		return sent ? NULL : c->flow;
	return !sent && c->flow->holders > 1 ? NULL : c->flow;
}

/* An end of c's flow finished (FIN) or reset it: the peer's end, or ours. */
void capture_end(const struct conn *c, bool by_peer, bool reset)
{
	struct record r;

	if (!conn_capture)
		return;
	record_init(&r, RECORD_FLOW_END, "flow");
	r.flow = c->flow;
	r.from = by_peer ? c->peer_end : 1 - c->peer_end;
	r.reset = reset;
	event_emit(&r);
}

/*
 * A child was forked: of a pair whose ends are both ours, one may be the
 * child's now, which the parent closes unused; that close ends nothing.
 * The child is the peer the pair's comment names, if nothing was
 * written of the flow yet.
 */
void conn_forked(int child)
{
	for (int fd = 0; fd <= conn_last_fd(); fd++) {
		struct conn *c = conn_socket_of(fd);

		if (!c || !c->flow || c->flow->holders < 2 || c->flow->forked)
			continue;
		c->flow->forked = true;
		if (!c->flow->started)
			snprintf(c->flow->comment, sizeof(c->flow->comment),
				 "sockpair: socketpair, peer pid %d", child);
	}
}

/*
 * c is being closed: a reset if SO_LINGER said so, else our FIN (but see
 * conn_forked).  A proxy's sides pass on FINs, which their reads recorded.
 */
void capture_closing(struct conn *c)
{
	if (c->resetting)
		capture_end(c, false, true);
	else if (!c->side && (c->flow->holders == 1 || !c->flow->forked))
		capture_end(c, false, false);
	release(c);
}
