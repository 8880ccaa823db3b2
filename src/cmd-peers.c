/*
 * cmd-peers.c: who is at the other end of a socket.
 *
 * No manual example asks it, but every socket example leaves the
 * question: which process listens here, which are connected, who holds
 * the other end of this socketpair?  ss -xp prints a peer's inode that
 * must be looked up on another row, lsof +E is slow and hard to script.
 * Here the kernel's socket diagnostics (diag.c: one dump per family)
 * give each socket and its peer, one walk of /proc (owners.c) gives the
 * holders, and the join is made once: each listener, then each of its
 * connections as both ends, the client's on the left.
 *
 * It is longer than a command usually is (some 780 lines) because it
 * holds three views, a target's listeners and connections, a datagram
 * socket's, a process's sockets, each as text and as JSON, and the
 * matching of what was typed (a path, @NAME, PORT, HOST:PORT) to the
 * kernel's sockets; diag.c and owners.c only gather.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

enum { OPT_PID = CMD_LONG_ONLY };

static const struct cmd_option peers_options[] = {
	{ OPT_PID, "pid", "PID", "every socket of process PID, and who holds each peer" },
	CMD_OPT_END
};

enum target_kind { TARGET_PATH, TARGET_ABSTRACT, TARGET_PORT };

/* A target as typed, and what it stands for. */
struct target {
	const char *typed;
	enum target_kind kind;
	dev_t dev;		/* TARGET_PATH: the socket file */
	ino_t ino;
	char name[108];		/* TARGET_ABSTRACT: sun_path's bytes, NUL first */
	size_t name_len;
	unsigned port;		/* TARGET_PORT */
	struct addrinfo *hosts;	/* HOST:PORT's addresses; NULL: any address */
};

/* What one run sees: every socket, every holder. */
struct peers {
	struct diag_table sockets;
	struct owner_table owners;
	bool unseen;		/* a "?" was shown: the note at the end */
};

/* ---- targets ------------------------------------------------------------ */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool is_socket_file(const char *path)
{
	struct stat st;

	return sys_stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void parse_host_port(const char *arg, struct target *t)
{
	struct host_port hp;
	char host[256], port[32];
	struct sp_error e;

	if (addr_split_host_port(arg, strlen(arg), &hp) != 0 || !hp.port || !hp.host_len ||
	    hp.host_len >= sizeof(host) || hp.port_len >= sizeof(port))
		usage_error("invalid target '%s' (PATH, @NAME, PORT or HOST:PORT)", arg);
	snprintf(host, sizeof(host), "%.*s", (int)hp.host_len, hp.host);
	snprintf(port, sizeof(port), "%.*s", (int)hp.port_len, hp.port);
	t->port = cmd_client_port(port);
	snprintf(port, sizeof(port), "%u", t->port);
	if (net_resolve(host, port, AF_UNSPEC, SOCK_STREAM, false, &t->hosts, &e) < 0)
		exit(report_failure(&e));
}

/*
 * PATH, @NAME, PORT or HOST:PORT.  A name with a '/' is a path, digits
 * are a port; a bare word is a path if a socket is there, else a port if
 * /etc/services knows it, else a path (that will match nothing).
 */
static void parse_target(const char *arg, struct target *t)
{
	memset(t, 0, sizeof(*t));
	t->typed = arg;
	if (arg[0] == '@') {
		t->kind = TARGET_ABSTRACT;
		t->name_len = strlen(cmd_unix_path(arg));
		memcpy(t->name + 1, arg + 1, t->name_len - 1);
	} else if (strchr(arg, '/') || (!all_digits(arg) && is_socket_file(arg))) {
		t->kind = TARGET_PATH;
		cmd_unix_path(arg);
	} else if (all_digits(arg) || (!strchr(arg, ':') && cmd_is_service(arg))) {
		t->kind = TARGET_PORT;
		t->port = cmd_client_port(arg);
	} else if (strchr(arg, ':')) {
		t->kind = TARGET_PORT;
		parse_host_port(arg, t);
	} else {
		t->kind = TARGET_PATH;
		cmd_unix_path(arg);
	}
}

/* The socket file's identity; false if there is none at the path. */
static bool locate_path(struct target *t)
{
	struct stat st;

	if (sys_stat(t->typed, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	return true;
}

/* ---- matching ------------------------------------------------------------ */

/* UNIX_DIAG_VFS's device is the kernel's own dev_t: major << 20 | minor. */
/* The kernel gives the socket file's inode in 32 bits (udiag_vfs_ino):
 * compared as it gives it, or no socket on an inode64 filesystem matches. */
static bool same_file(const struct diag_socket *s, const struct target *t)
{
	return s->has_vfs && s->vfs_ino == (uint32_t)t->ino &&
	       makedev(s->vfs_dev >> 20, s->vfs_dev & 0xfffff) == t->dev;
}

static bool port_of_address(const struct sockaddr_storage *ss, unsigned *port)
{
	if (ss->ss_family == AF_INET)
		*port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	else if (ss->ss_family == AF_INET6)
		*port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	else
		return false;
	return true;
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, &any6, sizeof(any6)) == 0;
}

/* Whether a TCP socket's own address is the target's (a listener's
 * wildcard address stands for every host). */
static bool tcp_at(const struct diag_socket *s, const struct target *t)
{
	unsigned port;

	if (s->family == AF_UNIX || !(s->ino || s->pending) || !port_of_address(&s->src, &port) ||
	    port != t->port)
		return false;
	if (!t->hosts || (s->state == DIAG_LISTEN && is_wildcard(&s->src)))
		return true;
	for (const struct addrinfo *ai = t->hosts; ai; ai = ai->ai_next)
		if (same_host(&s->src, ai->ai_addr))
			return true;
	return false;
}

/* Whether socket s is at the target: bound at its file or name, or TCP at its port. */
static bool at_target(const struct diag_socket *s, const struct target *t)
{
	switch (t->kind) {
	case TARGET_PATH:
		return s->family == AF_UNIX && same_file(s, t);
	case TARGET_ABSTRACT:
		return s->family == AF_UNIX && s->name_len == t->name_len &&
		       memcmp(s->name, t->name, t->name_len) == 0;
	case TARGET_PORT:
		return tcp_at(s, t);
	}
	return false;
}

static bool same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	unsigned pa, pb;

	return port_of_address(a, &pa) && port_of_address(b, &pb) && pa == pb &&
	       same_host(a, (const struct sockaddr *)b);
}

/* The other end of a connection: a UNIX socket's peer; a TCP socket's,
 * found by its swapped addresses if it is on this host.  NULL: none seen. */
static const struct diag_socket *peer_of(const struct peers *p, const struct diag_socket *s)
{
	if (s->family == AF_UNIX)
		return diag_find(&p->sockets, s->peer);
	for (size_t i = 0; i < p->sockets.n; i++) {
		const struct diag_socket *o = &p->sockets.v[i];

		/* Families may differ: a dual-stack listener's end is an IPv6
		 * socket whose addresses diag.c gave as IPv4, as its client's. */
		if (o != s && o->family != AF_UNIX && (o->ino || o->pending) &&
		    same_endpoint(&o->src, &s->dst) &&
		    same_endpoint(&o->dst, &s->src))
			return o;
	}
	return NULL;
}

/* ---- text and fields -------------------------------------------------------- */

/*
 * Who holds socket s: "nc 1234 fd 3, nc 1240 fd 3"; "? fd ?" when none is
 * visible and some process could not be seen; "(not accepted)" for a
 * connection still in its listener's queue.
 */
static const char *holders_text(struct peers *p, const struct diag_socket *s, char *buf,
				size_t size)
{
	const struct owner *o;
	size_t n = s ? owners_of(&p->owners, s->ino, &o) : 0, used = 0;
	char comm[4 * sizeof(o->comm) + 1];

	if (n == 0) {
		if (s && s->pending)
			return "(not accepted)";
		if (s && p->owners.nhidden == 0)
			return "(no process)";
		p->unseen = true;
		return "? fd ?";
	}
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char one[sizeof(comm) + 48], tail[48];
		size_t len, tail_len;

		text_escape(o[i].comm, strlen(o[i].comm), comm, sizeof(comm));
		len = (size_t)snprintf(one, sizeof(one), "%s%s %d fd %d", i ? ", " : "", comm,
				       o[i].pid, o[i].fd);
		tail_len = (size_t)snprintf(tail, sizeof(tail), ", ... (%zu in all)", n);
		/* Room for this holder, and for the tail if more follow. */
		if (used + len + (i + 1 < n ? tail_len : 0) >= size) {
			if (used + tail_len < size)
				memcpy(buf + used, tail, tail_len + 1);
			break;
		}
		memcpy(buf + used, one, len + 1);
		used += len;
	}
	return buf;
}

/* The first holder as fields (process, pid, fd: null if none), and how many. */
static void add_holder_fields(struct record *r, const struct peers *p,
			      const struct diag_socket *s)
{
	const struct owner *o;
	size_t n = s ? owners_of(&p->owners, s->ino, &o) : 0;

	if (n) {
		record_cstring(r, "process", o->comm);
		record_integer(r, "pid", o->pid);
		record_integer(r, "fd", o->fd);
	} else {
		record_cstring(r, "process", NULL);
		record_cstring(r, "pid", NULL);
		record_cstring(r, "fd", NULL);
	}
	record_integer(r, "holders", (long long)n);
}

/* A socket's own name: "/path", "@name", a TCP address, "(unnamed)". */
static const char *name_of(const struct diag_socket *s, char *buf, size_t size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (s->family != AF_UNIX)
		return addr_format((const struct sockaddr *)&s->src, sizeof(s->src), buf, size);
	if (!s->name_len)
		return "(unnamed)";
	memcpy(sun.sun_path, s->name, s->name_len);
	return addr_format((const struct sockaddr *)&sun,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + s->name_len), buf,
			   size);
}

/* "path" for a UNIX socket, "address" for TCP. */
static void add_name_field(struct record *r, const struct diag_socket *s, const char *name)
{
	record_cstring(r, s->family == AF_UNIX ? "path" : "address", name);
}

/*
 * The bytes queued at one end: inq, what it has not read; outq, what it
 * sent that the other end has not read (TCP: still in flight, or in the
 * peer's queue when the peer is on this host).
 */
static void queues(const struct diag_socket *s, const struct diag_socket *peer, long long *inq,
		   long long *outq)
{
	*inq = s->rqueue;
	if (s->family == AF_UNIX)
		*outq = peer ? peer->rqueue : 0;
	else
		*outq = (long long)s->wqueue + (peer ? peer->rqueue : 0);
}

static const char *kind_of(const struct diag_socket *s)
{
	if (s->family != AF_UNIX)
		return "tcp";
	return s->type == SOCK_DGRAM ? "unix dgram" : s->type == SOCK_SEQPACKET ? "unix seqpacket"
										: "unix stream";
}

/* ---- the rows ------------------------------------------------------------- */

/* "NAME listening, backlog Q/LIMIT: HOLDERS", or "NAME STATE: HOLDERS". */
static void print_anchor(struct peers *p, const struct diag_socket *s, const char *name)
{
	char holders[512], shown[4 * 108 + 1];
	struct record r;

	text_escape(name, strlen(name), shown, sizeof(shown));
	record_init(&r, RECORD_LINE, "socket");
	r.to_stdout = true;
	if (s->state == DIAG_LISTEN)
		record_text(&r, "%s listening, backlog %u/%u: %s", shown, s->rqueue, s->wqueue,
			    holders_text(p, s, holders, sizeof(holders)));
	else
		record_text(&r, "%s %s, inq %u: %s", shown, kind_of(s), s->rqueue,
			    holders_text(p, s, holders, sizeof(holders)));
	add_name_field(&r, s, name);
	record_cstring(&r, "state", diag_state_name(s));
	add_holder_fields(&r, p, s);
	record_cstring(&r, "peer", NULL);
	/* Every object has inq and outq (SPEC); a listener queues connections,
	 * not bytes: its counts are queued and backlog, its byte queues null. */
	if (s->state == DIAG_LISTEN) {
		record_cstring(&r, "inq", NULL);
		record_cstring(&r, "outq", NULL);
		record_integer(&r, "queued", s->rqueue);
		record_integer(&r, "backlog", s->wqueue);
	} else {
		record_integer(&r, "inq", s->rqueue);
		record_integer(&r, "outq", s->wqueue);
	}
	event_emit(&r);
}

/* A TCP end on a row: its address, then its holders (the other host's, unknown). */
static const char *tcp_end_text(struct peers *p, const struct diag_socket *s,
				const struct sockaddr_storage *addr, char *buf, size_t size)
{
	char where[64], holders[448];

	addr_format((const struct sockaddr *)addr, sizeof(*addr), where, sizeof(where));
	snprintf(buf, size, "%s %s", where,
		 s ? holders_text(p, s, holders, sizeof(holders)) : "(another host)");
	return buf;
}

/* The peer's fields: {"process", "pid", "fd", "holders"[, "address"]};
 * where holds the address until the record is emitted. */
static void add_peer_fields(struct record *r, const struct peers *p,
			    const struct diag_socket *s, const struct diag_socket *peer,
			    char *where, size_t size)
{
	record_open(r, "peer");
	add_holder_fields(r, p, peer);
	if (s->family != AF_UNIX)
		record_cstring(r, "address", addr_format((const struct sockaddr *)&s->dst,
							 sizeof(s->dst), where, size));
	record_close(r);
}

/*
 * One connection as both ends, the client's on the left (indented under
 * its listener):  "  CLIENT <-> SERVER, inq X, outq Y"; TCP: each end's
 * address first, and the server end's "tcp:" figures of --stats below.
 * The queues and the fields are the server end's.
 */
static void print_connection(struct peers *p, const struct diag_socket *server,
			     const struct diag_socket *client, const char *name)
{
	char left[512], right[512], where[64];
	long long inq, outq;
	struct record r;

	if (server->family == AF_UNIX) {
		if (client)
			holders_text(p, client, left, sizeof(left));
		else
			snprintf(left, sizeof(left), "(peer closed)");
		holders_text(p, server, right, sizeof(right));
	} else {
		tcp_end_text(p, client, &server->dst, left, sizeof(left));
		tcp_end_text(p, server, &server->src, right, sizeof(right));
	}
	queues(server, client, &inq, &outq);
	record_init(&r, RECORD_LINE, "socket");
	r.to_stdout = true;
	record_text(&r, "  %s <-> %s, inq %lld, outq %lld", left, right, inq, outq);
	add_name_field(&r, server, name);
	record_cstring(&r, "state", diag_state_name(server));
	add_holder_fields(&r, p, server);
	add_peer_fields(&r, p, server, client, where, sizeof(where));
	record_integer(&r, "inq", inq);
	record_integer(&r, "outq", outq);
	if (server->view.tcp)
		conn_add_kernel_view(&r, &server->view, NULL, "    ");
	event_emit(&r);
}

/*
 * A UNIX client whose connection is still in the listener's queue:
 * "  CLIENT <-> (not accepted)".  Its server end has no descriptor yet,
 * and the kernel's diagnostics do not list it: its queues are unknown.
 */
static size_t print_waiting(struct peers *p, const struct diag_socket *client, const char *name)
{
	char left[512];
	struct record r;

	holders_text(p, client, left, sizeof(left));
	record_init(&r, RECORD_LINE, "socket");
	r.to_stdout = true;
	record_text(&r, "  %s <-> (not accepted)", left);
	record_cstring(&r, "path", name);
	record_cstring(&r, "state", "not accepted");
	record_cstring(&r, "process", NULL);
	record_cstring(&r, "pid", NULL);
	record_cstring(&r, "fd", NULL);
	record_integer(&r, "holders", 0);
	record_open(&r, "peer");
	add_holder_fields(&r, p, client);
	record_close(&r);
	event_emit(&r);
	return 1;
}

/* Whether s is one of a listener's connections: at the same name (UNIX)
 * or at its address (TCP: any, for a wildcard listener). */
static bool accepted_from(const struct diag_socket *s, const struct diag_socket *listener)
{
	if (s == listener || s->state == DIAG_LISTEN || s->family != listener->family)
		return false;
	if (s->family == AF_UNIX)
		return s->type == listener->type;
	return is_wildcard(&listener->src) ||
	       same_host(&s->src, (const struct sockaddr *)&listener->src);
}

static const char *row_name(const struct target *t, const struct diag_socket *s, char *buf,
			    size_t size)
{
	return t->kind == TARGET_PORT ? name_of(s, buf, size) : t->typed;
}

/* A listener at the target and its connections; each shown is marked. */
static size_t show_listener(struct peers *p, const struct target *t, size_t at, bool *shown)
{
	const struct diag_table *all = &p->sockets;
	size_t count = 1;
	char name[128];

	print_anchor(p, &all->v[at], row_name(t, &all->v[at], name, sizeof(name)));
	shown[at] = true;
	for (size_t i = 0; i < all->n; i++) {
		const struct diag_socket *s = &all->v[i];

		if (shown[i] || !at_target(s, t) || !accepted_from(s, &all->v[at]))
			continue;
		print_connection(p, s, peer_of(p, s), row_name(t, s, name, sizeof(name)));
		shown[i] = true;
		count++;
	}
	for (size_t i = 0; i < all->n; i++)
		if (all->v[i].waiting_on && all->v[i].waiting_on == all->v[at].ino)
			count += print_waiting(p, &all->v[i], row_name(t, &all->v[at], name, sizeof(name)));
	return count;
}

/* A bound datagram socket at the target, and each socket connected to it. */
static size_t show_datagram(struct peers *p, const struct target *t, size_t at, bool *shown)
{
	const struct diag_table *all = &p->sockets;
	const struct diag_socket *bound = &all->v[at];
	size_t count = 1;

	print_anchor(p, bound, t->typed);
	shown[at] = true;
	for (size_t i = 0; i < all->n; i++) {
		if (all->v[i].family == AF_UNIX && all->v[i].peer == bound->ino && i != at) {
			print_connection(p, bound, &all->v[i], t->typed);
			count++;
		}
	}
	return count;
}

/* Connections at the target that no listener claimed (it was closed). */
static size_t show_unclaimed(struct peers *p, const struct target *t, const bool *shown)
{
	const struct diag_table *all = &p->sockets;
	size_t count = 0;
	char name[128], typed[4 * 108 + 1];
	struct record r;

	for (size_t i = 0; i < all->n; i++) {
		const struct diag_socket *s = &all->v[i];

		if (shown[i] || !at_target(s, t))
			continue;
		if (count++ == 0) {
			record_init(&r, RECORD_LINE, "socket");
			r.to_stdout = r.text_only = true;
			record_text(&r, "%s: no listening socket",
				    text_escape(t->typed, strlen(t->typed), typed, sizeof(typed)));
			event_emit(&r);
		}
		print_connection(p, s, peer_of(p, s), row_name(t, s, name, sizeof(name)));
	}
	return count;
}

/* Every socket at the target, in blocks; how many were shown. */
static size_t show_target(struct peers *p, const struct target *t)
{
	const struct diag_table *all = &p->sockets;
	bool *shown = calloc(all->n ? all->n : 1, sizeof(*shown));
	size_t count = 0;

	if (!shown)
		exit(report_error(SP_FAILURE, "malloc(%zu): %s", all->n, strerror(ENOMEM)));
	for (size_t i = 0; i < all->n; i++) {
		if (!at_target(&all->v[i], t))
			continue;
		if (all->v[i].state == DIAG_LISTEN)
			count += show_listener(p, t, i, shown);
		else if (all->v[i].family == AF_UNIX && all->v[i].type == SOCK_DGRAM)
			count += show_datagram(p, t, i, shown);
	}
	count += show_unclaimed(p, t, shown);
	free(shown);
	return count;
}

/* ---- --pid ------------------------------------------------------------------- */

/* "PROCESS PID fd N" of the one holder the row is about. */
static void own_end(const struct owner *o, char *buf, size_t size)
{
	char comm[4 * sizeof(o->comm) + 1];

	snprintf(buf, size, "%s %d fd %d", text_escape(o->comm, strlen(o->comm), comm, sizeof(comm)),
		 o->pid, o->fd);
}

/* A socket of --pid's process that the dumps do not cover (UDP, netlink, ...). */
static void print_other_socket(const struct owner *o)
{
	char end[128];
	struct record r;

	own_end(o, end, sizeof(end));
	record_init(&r, RECORD_LINE, "socket");
	r.to_stdout = true;
	record_text(&r, "%s socket:[%u], not a UNIX or TCP socket", end, o->ino);
	record_cstring(&r, "state", NULL);
	record_cstring(&r, "process", o->comm);
	record_integer(&r, "pid", o->pid);
	record_integer(&r, "fd", o->fd);
	record_cstring(&r, "peer", NULL);
	event_emit(&r);
}

/* The far end of a --pid row: "<-> PEER, inq X, outq Y", or the listener's backlog. */
static void add_far_end(struct record *r, struct peers *p, const struct diag_socket *s,
			char *where, size_t size)
{
	const struct diag_socket *peer = peer_of(p, s);
	char far[512];
	long long inq, outq;

	if (s->state == DIAG_LISTEN) {
		record_text(r, " listening, backlog %u/%u", s->rqueue, s->wqueue);
		record_cstring(r, "peer", NULL);
		record_integer(r, "queued", s->rqueue);
		record_integer(r, "backlog", s->wqueue);
		return;
	}
	if (s->family == AF_UNIX && s->waiting_on) {
		record_text(r, " <-> (not accepted)");
		record_cstring(r, "peer", NULL);
		return;
	}
	if (s->family == AF_UNIX && !s->peer) {
		record_text(r, " %s", diag_state_name(s));
		record_cstring(r, "peer", NULL);
		return;
	}
	if (s->family == AF_UNIX && peer)
		holders_text(p, peer, far, sizeof(far));
	else if (s->family == AF_UNIX)
		snprintf(far, sizeof(far), "(peer closed)");
	else
		tcp_end_text(p, peer, &s->dst, far, sizeof(far));
	queues(s, peer, &inq, &outq);
	record_text(r, " <-> %s, inq %lld, outq %lld", far, inq, outq);
	add_peer_fields(r, p, s, peer, where, size);
	record_integer(r, "inq", inq);
	record_integer(r, "outq", outq);
}

/* One socket of --pid's process: "PROCESS PID fd N KIND NAME <-> PEER ...". */
static void print_own_socket(struct peers *p, const struct owner *o, const struct diag_socket *s)
{
	char end[128], name[128], shown[4 * 108 + 1], where[64];
	struct record r;

	own_end(o, end, sizeof(end));
	name_of(s, name, sizeof(name));
	record_init(&r, RECORD_LINE, "socket");
	r.to_stdout = true;
	record_text(&r, "%s %s", end, kind_of(s));
	if (s->family != AF_UNIX || s->name_len)
		record_text(&r, " %s", text_escape(name, strlen(name), shown, sizeof(shown)));
	if (s->family != AF_UNIX && s->state != DIAG_ESTABLISHED && s->state != DIAG_LISTEN)
		record_text(&r, " (%s)", diag_state_name(s));
	add_name_field(&r, s, s->family != AF_UNIX || s->name_len ? name : NULL);
	record_cstring(&r, "state", diag_state_name(s));
	record_cstring(&r, "process", o->comm);
	record_integer(&r, "pid", o->pid);
	record_integer(&r, "fd", o->fd);
	add_far_end(&r, p, s, where, sizeof(where));
	if (s->view.tcp && s->state != DIAG_LISTEN)
		conn_add_kernel_view(&r, &s->view, NULL, "    ");
	event_emit(&r);
}

static int by_fd(const void *a, const void *b)
{
	const struct owner *x = *(const struct owner *const *)a, *y = *(const struct owner *const *)b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* Every socket of process pid, by descriptor; how many. */
static size_t show_process(struct peers *p, int pid)
{
	const struct owner **mine = calloc(p->owners.n ? p->owners.n : 1, sizeof(*mine));
	size_t n = 0;

	if (!mine)
		exit(report_error(SP_FAILURE, "malloc(%zu): %s", p->owners.n, strerror(ENOMEM)));
	for (size_t i = 0; i < p->owners.n; i++)
		if (p->owners.v[i].pid == pid)
			mine[n++] = &p->owners.v[i];
	qsort(mine, n, sizeof(*mine), by_fd);
	for (size_t i = 0; i < n; i++) {
		const struct diag_socket *s = diag_find(&p->sockets, mine[i]->ino);

		if (s)
			print_own_socket(p, mine[i], s);
		else
			print_other_socket(mine[i]);
	}
	free(mine);
	return n;
}

/* ---- the command -------------------------------------------------------------- */

struct peers_opts {
	int pid;		/* --pid; 0: the targets */
	char **targets;
	int ntargets;
};

static void parse_peers_options(int argc, char **argv, struct peers_opts *o)
{
	unsigned long pid;
	int c;

	while ((c = cmd_getopt(&cmd_peers_entry, argc, argv)) != -1) {
		if (c == OPT_PID) {
			if (parse_uint(optarg, INT32_MAX, &pid) < 0 || pid == 0)
				usage_error("invalid pid '%s' (1 to %d)", optarg, INT32_MAX);
			o->pid = (int)pid;
		}
	}
	o->targets = argv + optind;
	o->ntargets = argc - optind;
	if (o->pid && o->ntargets)
		usage_error("--pid takes no target ('%s')", o->targets[0]);
	if (!o->pid && !o->ntargets)
		usage_error("no target (PATH, @NAME, PORT or HOST:PORT, or --pid PID)");
}

static int no_socket_at(const char *typed)
{
	char shown[4 * 256 + 1];

	return report_error(SP_FAILURE, "no socket at %s",
			    text_escape(typed, strlen(typed), shown, sizeof(shown)));
}

/* Each target's blocks; the error line for each that matched nothing. */
static int show_targets(struct peers *p, struct target *targets, int n)
{
	int status = SP_OK;

	for (int i = 0; i < n; i++) {
		bool found = targets[i].kind != TARGET_PATH || locate_path(&targets[i]);

		if (!found || show_target(p, &targets[i]) == 0)
			status = no_socket_at(targets[i].typed);
	}
	return status;
}

/* --pid of a process we may not look into: the reason, not "no socket". */
static int show_pid(struct peers *p, int pid)
{
	char typed[32];

	/* Sockets the user may not see are none to show, and the note says
	 * why (SPEC: never an error of its own). */
	if (owners_hidden(&p->owners, pid))
		p->unseen = true;
	else if (show_process(p, pid) > 0)
		return SP_OK;
	snprintf(typed, sizeof(typed), "%d", pid);
	return no_socket_at(typed);
}

/* Whether a target is a UNIX socket (a path, @NAME), or (!unix) a TCP port. */
static bool wants_kind(const struct target *targets, int n, bool unix_socket)
{
	for (int i = 0; i < n; i++)
		if ((targets[i].kind != TARGET_PORT) == unix_socket)
			return true;
	return false;
}

static int cmd_peers_exec(int argc, char **argv)
{
	struct peers_opts o = { 0 };
	struct peers p = { .unseen = false };
	struct target *targets;
	struct sp_error e;
	int status;

	parse_peers_options(argc, argv, &o);
	targets = calloc(o.ntargets ? (size_t)o.ntargets : 1, sizeof(*targets));
	if (!targets)
		return report_error(SP_FAILURE, "malloc(targets): %s", strerror(ENOMEM));
	for (int i = 0; i < o.ntargets; i++)
		parse_target(o.targets[i], &targets[i]);
	/* The sockets first, then their holders: a socket opened in between
	 * has no row; one closed in between shows no holder. */
	if (diag_read_all(&p.sockets, o.pid || wants_kind(targets, o.ntargets, true),
			  o.pid || wants_kind(targets, o.ntargets, false), &e) < 0 ||
	    owners_read_all(&p.owners, &e) < 0)
		status = report_failure(&e);
	else
		status = o.pid ? show_pid(&p, o.pid) : show_targets(&p, targets, o.ntargets);
	if (p.unseen)
		report_note("some processes could not be seen: run as root to see them");
	for (int i = 0; i < o.ntargets; i++)
		if (targets[i].hosts)
			freeaddrinfo(targets[i].hosts);
	free(targets);
	diag_free(&p.sockets);
	owners_free(&p.owners);
	return status;
}

const struct sp_cmd cmd_peers_entry = {
	.name = "peers",
	.synopsis = "PATH | @NAME | PORT | HOST:PORT ...  or  --pid PID",
	.summary = "Show who is at each end of a socket: listener, connections, holders",
	.options = peers_options,
	.notes = "A UNIX socket (PATH, @NAME): the listening socket and its holders (process,\n"
		 "pid, fd; the backlog queued/limit), then each connection, the client's end\n"
		 "on the left, with the bytes queued at the server's end (inq, outq).  A TCP\n"
		 "PORT or HOST:PORT: the same, with both addresses and the tcp: figures of\n"
		 "--stats.  --json: one object per socket on stdout.  A process that may not\n"
		 "be looked into shows as '? fd ?'.\n",
	.exec = cmd_peers_exec,
};
