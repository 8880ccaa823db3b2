/*
 * diag.c: the kernel's socket diagnostics (NETLINK_SOCK_DIAG), as ss(8)
 * reads them: one dump request per family, UNIX_DIAG for the UNIX
 * sockets (name, file, peer, queues, pending connections) and INET_DIAG
 * for TCP over IPv4 and IPv6 (addresses, queues, TCP_INFO), every socket
 * of the network namespace in one table, sorted by inode.
 *
 * Written by hand, without libmnl: a request is a header and one small
 * structure, a reply a run of messages each with a few attributes; the
 * helper would save some thirty lines and add a dependency, and its
 * socket calls would not go through the call layer (--trace shows these).
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>
#include <stdlib.h>
#include <string.h>

/* The kernel sends a dump in skbs of at most 32 KiB to a reader whose
 * buffer is that large: a smaller one would be cut (MSG_TRUNC). */
enum { DIAG_BUFFER = 64 * 1024 };

static struct diag_socket *add_socket(struct diag_table *t)
{
	struct diag_socket *grown = queue_grow(t->v, &t->cap, t->n, sizeof(*grown), 256);

	if (!grown)
		return NULL;
	t->v = grown;
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	return &t->v[t->n++];
}

/* A client (ino) whose connection the listener has not accepted yet. */
static int add_pending(struct diag_table *t, uint32_t listener, uint32_t ino)
{
	struct diag_waiting *grown = queue_grow(t->pending, &t->pending_cap, t->npending,
						sizeof(*grown), 64);

	if (!grown)
		return -1;
	t->pending = grown;
	t->pending[t->npending++] = (struct diag_waiting){ listener, ino };
	return 0;
}

/* Each attribute of a message: its type, its payload and the payload's length. */
#define EACH_ATTR(a, start, len)                                                   \
	for (const struct nlattr *a = (start); (len) >= (int)sizeof(*a) &&          \
	     a->nla_len >= sizeof(*a) && (int)a->nla_len <= (len);                   \
	     (len) -= NLA_ALIGN(a->nla_len),                                          \
	     a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len)))
#define ATTR_DATA(a) ((const void *)((const char *)(a) + NLA_HDRLEN))
#define ATTR_LEN(a) ((size_t)((a)->nla_len - NLA_HDRLEN))

static int take_unix_attr(struct diag_table *t, struct diag_socket *s, const struct nlattr *a)
{
	const void *data = ATTR_DATA(a);
	size_t len = ATTR_LEN(a);

	switch (a->nla_type) {
	case UNIX_DIAG_NAME:
		s->name_len = len < sizeof(s->name) ? len : sizeof(s->name);
		memcpy(s->name, data, s->name_len);
		break;
	case UNIX_DIAG_VFS:
		if (len >= sizeof(struct unix_diag_vfs)) {
			const struct unix_diag_vfs *vfs = data;

			s->has_vfs = true;
			s->vfs_ino = vfs->udiag_vfs_ino;
			s->vfs_dev = vfs->udiag_vfs_dev;
		}
		break;
	case UNIX_DIAG_PEER:
		if (len >= sizeof(uint32_t))
			memcpy(&s->peer, data, sizeof(uint32_t));
		break;
	case UNIX_DIAG_RQLEN:
		if (len >= sizeof(struct unix_diag_rqlen)) {
			const struct unix_diag_rqlen *q = data;

			s->rqueue = q->udiag_rqueue;
			s->wqueue = q->udiag_wqueue;
		}
		break;
	case UNIX_DIAG_ICONS:
		/* A listener's connections not accepted yet, by their clients'
		 * inodes (the server ends have none until accept()). */
		for (size_t i = 0; i + sizeof(uint32_t) <= len; i += sizeof(uint32_t)) {
			uint32_t ino;

			memcpy(&ino, (const char *)data + i, sizeof(ino));
			if (ino && add_pending(t, s->ino, ino) < 0)
				return -1;
		}
		break;
	}
	return 0;
}

static int take_unix(struct diag_table *t, const struct nlmsghdr *h)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	struct diag_socket *s;

	if (len < 0)
		return 0;
	s = add_socket(t);
	if (!s)
		return -1;
	s->family = AF_UNIX;
	s->type = m->udiag_type;
	s->state = m->udiag_state;
	s->ino = m->udiag_ino;
	EACH_ATTR(a, (const struct nlattr *)(m + 1), len)
		if (take_unix_attr(t, s, a) < 0)
			return -1;
	return 0;
}

/* An IPv4 client of a dual-stack listener is ::ffff:a.b.c.d at the
 * server's end and a.b.c.d at its own: kept as IPv4, so that the two
 * ends of the connection are found to be one. */
static bool v4_mapped(const __be32 *addr)
{
	return addr[0] == 0 && addr[1] == 0 && addr[2] == htonl(0xffff);
}

static void take_address(struct sockaddr_storage *ss, int family, const __be32 *addr,
			 __be16 port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6 && v4_mapped(addr)) {
		family = AF_INET;
		addr += 3;
	}
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = port;
		memcpy(&in->sin_addr, addr, sizeof(in->sin_addr));
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = port;
		memcpy(&in6->sin6_addr, addr, sizeof(in6->sin6_addr));
	}
}

static int take_inet(struct diag_table *t, const struct nlmsghdr *h)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	struct diag_socket *s;

	if (len < 0)
		return 0;
	s = add_socket(t);
	if (!s)
		return -1;
	s->family = m->idiag_family;
	s->type = SOCK_STREAM;
	s->state = m->idiag_state;
	s->ino = m->idiag_inode;
	s->rqueue = m->idiag_rqueue;
	s->wqueue = m->idiag_wqueue;
	/* A connection in its listener's accept queue has no socket inode yet. */
	s->pending = !s->ino && (s->state == DIAG_ESTABLISHED || s->state == DIAG_CLOSE_WAIT);
	take_address(&s->src, s->family, m->id.idiag_src, m->id.idiag_sport);
	take_address(&s->dst, s->family, m->id.idiag_dst, m->id.idiag_dport);
	EACH_ATTR(a, (const struct nlattr *)(m + 1), len) {
		if (a->nla_type == INET_DIAG_INFO) {
			struct tcp_info ti;

			/* An older kernel's tcp_info is shorter: the rest stays 0. */
			memset(&ti, 0, sizeof(ti));
			memcpy(&ti, ATTR_DATA(a), ATTR_LEN(a) < sizeof(ti) ? ATTR_LEN(a) : sizeof(ti));
			conn_view_tcp(&s->view, &ti);
		}
	}
	return 0;
}

/* One reply's messages into t; 1 at the dump's end, 0 for more, -1 failed. */
static int take_reply(struct diag_table *t, const char *buf, ssize_t n, int family,
		      struct sp_error *e)
{
	unsigned len = (unsigned)n;	/* unsigned: NLMSG_OK compares it with nlmsg_len */

	for (const struct nlmsghdr *h = (const void *)buf; NLMSG_OK(h, len);
	     h = NLMSG_NEXT(h, len)) {
		/* A dump the kernel could not finish says so at its end. */
		if (h->nlmsg_type == NLMSG_DONE && h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) &&
		    *(const int *)NLMSG_DATA(h) < 0)
			return fail_errno(e, SP_FAILURE, -*(const int *)NLMSG_DATA(h),
					  "recvmsg(NETLINK_SOCK_DIAG)");
		if (h->nlmsg_flags & NLM_F_DUMP_INTR)
			return fail(e, SP_FAILURE, "recvmsg(NETLINK_SOCK_DIAG): the dump was "
				    "interrupted by sockets coming and going; run it again");
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *err = NLMSG_DATA(h);

			return fail_errno(e, SP_FAILURE, -err->error, "recvmsg(NETLINK_SOCK_DIAG)");
		}
		if ((family == AF_UNIX ? take_unix(t, h) : take_inet(t, h)) < 0)
			return fail_errno(e, SP_FAILURE, ENOMEM, "malloc(socket table)");
	}
	return 0;
}

/* Sends one dump request on fd and reads the whole reply into t. */
static int dump(int fd, const void *req, size_t req_len, int family, struct diag_table *t,
		struct sp_error *e)
{
	char *buf = malloc(DIAG_BUFFER);
	struct sys_control none = { .want_fds = false };
	int done = 0;

	if (!buf)
		return fail_errno(e, SP_FAILURE, ENOMEM, "malloc(%d)", DIAG_BUFFER);
	if (sys_sendmsg(fd, req, req_len, NULL, 0, 0) < 0) {
		done = fail_errno(e, SP_FAILURE, errno, "sendmsg(NETLINK_SOCK_DIAG)");
	}
	while (done == 0) {
		ssize_t n = sys_recvmsg(fd, buf, DIAG_BUFFER, 0, NULL, NULL, &none);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			done = fail_errno(e, SP_FAILURE, n < 0 ? errno : EPROTO,
					  "recvmsg(NETLINK_SOCK_DIAG)");
		else
			done = take_reply(t, buf, n, family, e);
	}
	free(buf);
	return done < 0 ? -1 : 0;
}

static int dump_unix(int fd, struct diag_table *t, struct sp_error *e)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.r = { .sdiag_family = AF_UNIX, .udiag_states = ~0u,
		       .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER |
				     UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN },
	};

	return dump(fd, &req, sizeof(req), AF_UNIX, t, e);
}

static int dump_tcp(int fd, int family, struct diag_table *t, struct sp_error *e)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 2 },
		.r = { .sdiag_family = (uint8_t)family, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_ext = 1 << (INET_DIAG_INFO - 1), .idiag_states = ~0u },
	};

	return dump(fd, &req, sizeof(req), family, t, e);
}

static int by_inode(const void *a, const void *b)
{
	uint32_t x = ((const struct diag_socket *)a)->ino, y = ((const struct diag_socket *)b)->ino;

	return x < y ? -1 : x > y;
}

/* The clients the listeners' queues named, marked with their listener. */
static void mark_waiting(struct diag_table *t)
{
	for (size_t i = 0; i < t->npending; i++) {
		struct diag_socket *s = (struct diag_socket *)diag_find(t, t->pending[i].client);

		if (s)
			s->waiting_on = t->pending[i].listener;
	}
}

/*
 * Every UNIX socket and every TCP socket (IPv4, IPv6) of this network
 * namespace into t, sorted by inode.  Returns -1 and fills *e if the
 * netlink socket or a dump failed (t is then the caller's to free).
 */
int diag_read_all(struct diag_table *t, bool unix_sockets, bool tcp_sockets, struct sp_error *e)
{
	int fd = sys_socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int r = 0;

	memset(t, 0, sizeof(*t));
	if (fd < 0)
		return fail_errno(e, SP_FAILURE, errno, "socket(AF_NETLINK, NETLINK_SOCK_DIAG)");
	/* Only the dumps asked for: a busy host's TCP table, with a TCP_INFO
	 * each, is no cost to a question about a UNIX path. */
	if (unix_sockets)
		r = dump_unix(fd, t, e);
	if (r == 0 && tcp_sockets)
		r = dump_tcp(fd, AF_INET, t, e);
	if (r == 0 && tcp_sockets)
		r = dump_tcp(fd, AF_INET6, t, e);
	sys_close(fd);
	if (r < 0)
		return -1;
	if (t->n)	/* qsort(NULL, 0, ...) is undefined */
		qsort(t->v, t->n, sizeof(t->v[0]), by_inode);
	mark_waiting(t);
	return 0;
}

/* The socket of this inode, or NULL. */
const struct diag_socket *diag_find(const struct diag_table *t, uint32_t ino)
{
	struct diag_socket key = { .ino = ino };

	if (!ino || !t->n)
		return NULL;
	return bsearch(&key, t->v, t->n, sizeof(t->v[0]), by_inode);
}

void diag_free(struct diag_table *t)
{
	free(t->v);
	free(t->pending);
	memset(t, 0, sizeof(*t));
}

/* The TCP state's name as ss words it, lower case; UNIX sockets use the
 * same numbers (TCP_ESTABLISHED, TCP_LISTEN, TCP_CLOSE: unconnected). */
const char *diag_state_name(const struct diag_socket *s)
{
	static const char *const names[] = {
		[DIAG_ESTABLISHED] = "established", [DIAG_SYN_SENT] = "syn-sent",
		[DIAG_SYN_RECV] = "syn-recv", [DIAG_FIN_WAIT1] = "fin-wait-1",
		[DIAG_FIN_WAIT2] = "fin-wait-2", [DIAG_TIME_WAIT] = "time-wait",
		[DIAG_CLOSE] = "unconnected", [DIAG_CLOSE_WAIT] = "close-wait",
		[DIAG_LAST_ACK] = "last-ack", [DIAG_LISTEN] = "listening", [DIAG_CLOSING] = "closing",
	};

	if (s->family != AF_UNIX && s->state == DIAG_CLOSE)
		return "closed";
	return s->state < sizeof(names) / sizeof(names[0]) && names[s->state] ? names[s->state]
									       : "unknown";
}
