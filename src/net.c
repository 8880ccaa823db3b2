/*
 * net.c: sockets and addresses, on the call layer (sys.c), which traces:
 * pairs, resolution, listening, accepting and connecting; UNIX sockets at
 * a path are net-unix.c's.  Functions here never print and never exit: on
 * failure they fill the caller's sp_error with the call that failed and
 * why, and return -1.
 */
#define _GNU_SOURCE
#include "sockpair.h"
#include "net-layer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

/* Which exit status a failed bind or connect deserves, by SPEC's table. */
int net_connect_status(int err)
{
	switch (err) {
	case ETIMEDOUT:
		return SP_TIMEOUT;
	case ECONNREFUSED: case ENETUNREACH: case EHOSTUNREACH:
	case EADDRINUSE: case EADDRNOTAVAIL: case EACCES: case EPERM:
	case ECONNRESET: case ENOENT:
		return SP_CONNECT;
	default:
		return SP_FAILURE;
	}
}

/* socketpair(); -1 and *e on failure. */
int net_socketpair(int domain, int type, int protocol, int fds[2], struct sp_error *e)
{
	char args[64];

	if (sys_socketpair(domain, type, protocol, fds) < 0)
		return fail_errno(e, SP_FAILURE, errno, "socketpair(%s)",
				  parse_socket_triple(domain, type, protocol, args, sizeof(args)));
	return 0;
}

int net_open_socket(int domain, int type, int protocol, struct sp_error *e)
{
	char args[64];
	int fd = sys_socket(domain, type, protocol);

	if (fd < 0)
		return fail_errno(e, SP_FAILURE, errno, "socket(%s)",
				  parse_socket_triple(domain, type, protocol, args, sizeof(args)));
	return fd;
}

/* bind() or connect() to an address, failing in SPEC's words. */
int net_address_call(int (*call)(int, const struct sockaddr *, socklen_t),
			const char *name, int fd, const struct sockaddr *sa, socklen_t len,
			struct sp_error *e)
{
	char addr[128];

	if (call(fd, sa, len) < 0)
		return fail_errno(e, net_connect_status(errno), errno, "%s(%s)", name,
				  addr_format(sa, len, addr, sizeof(addr)));
	return 0;
}

int net_bind_to(int fd, const struct sockaddr *sa, socklen_t len, struct sp_error *e)
{
	return net_address_call(sys_bind, "bind", fd, sa, len, e);
}

int net_connect_to(int fd, const struct sockaddr *sa, socklen_t len, struct sp_error *e)
{
	return net_address_call(sys_connect, "connect", fd, sa, len, e);
}

int net_listen_on_socket(int fd, int backlog, const char *name, struct sp_error *e)
{
	if (sys_listen(fd, backlog) < 0)
		return fail_errno(e, SP_CONNECT, errno, "listen(%s)", name);
	return 0;
}

static socklen_t loopback_any_port(int domain, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (domain == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		return sizeof(*in6);
	}
	struct sockaddr_in *in = (void *)ss;
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*in);
}

/* A socket of the triple bound to a free loopback port; its address in *ss. */
static int bound_loopback_socket(int domain, int type, int protocol,
				 struct sockaddr_storage *ss, socklen_t *len,
				 struct sp_error *e)
{
	int fd = net_open_socket(domain, type, protocol, e);

	if (fd < 0)
		return -1;
	*len = loopback_any_port(domain, ss);
	if (net_bind_to(fd, (struct sockaddr *)ss, *len, e) < 0)
		goto fail;
	if (sys_getname(fd, false, ss, len) < 0) {
		fail_errno(e, SP_FAILURE, errno, "getsockname(%d)", fd);
		goto fail;
	}
	return fd;
fail:
	sys_close(fd);
	return -1;
}

static int connected_stream_pair(int domain, int type, int protocol, int fds[2],
				 struct sp_error *e)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int listener, client = -1, server;

	listener = bound_loopback_socket(domain, type, protocol, &ss, &len, e);
	if (listener < 0)
		return -1;
	if (net_listen_on_socket(listener, 1, "loopback", e) < 0)
		goto fail;
	client = net_open_socket(domain, type, protocol, e);
	if (client < 0 || net_connect_to(client, (struct sockaddr *)&ss, len, e) < 0)
		goto fail;
	server = sys_accept(listener, NULL, NULL, SOCK_CLOEXEC);
	if (server < 0) {
		fail_errno(e, SP_FAILURE, errno, "accept4(%d)", listener);
		goto fail;
	}
	sys_close(listener);
	fds[0] = client;
	fds[1] = server;
	return 0;
fail:
	if (client >= 0)
		sys_close(client);
	sys_close(listener);
	return -1;
}

static int connected_dgram_pair(int domain, int type, int protocol, int fds[2],
				struct sp_error *e)
{
	struct sockaddr_storage a, b;
	socklen_t alen, blen;
	int fa, fb;

	fa = bound_loopback_socket(domain, type, protocol, &a, &alen, e);
	if (fa < 0)
		return -1;
	fb = bound_loopback_socket(domain, type, protocol, &b, &blen, e);
	if (fb < 0 || net_connect_to(fa, (struct sockaddr *)&b, blen, e) < 0 ||
	    net_connect_to(fb, (struct sockaddr *)&a, alen, e) < 0) {
		if (fb >= 0)
			sys_close(fb);
		sys_close(fa);
		return -1;
	}
	fds[0] = fa;
	fds[1] = fb;
	return 0;
}

/*
 * What socket_create_pair() needs on Windows and Linux refuses: a connected
 * pair of inet or inet6 sockets, made the long way over loopback.  -1 and
 * *e on failure.
 */
int net_loopback_pair(int domain, int type, int protocol, int fds[2], struct sp_error *e)
{
	if (type == SOCK_DGRAM)
		return connected_dgram_pair(domain, type, protocol, fds, e);
	return connected_stream_pair(domain, type, protocol, fds, e);
}

/* The local (getsockname) or peer (getpeername) name, formatted into buf;
 * -1 with errno set on error. */
int net_name_of(int fd, bool peer, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (sys_getname(fd, peer, &ss, &len) < 0)
		return -1;
	addr_format((struct sockaddr *)&ss, len, buf, size);
	return 0;
}

/* ---- addresses --------------------------------------------------------- */

/*
 * Every address of host:port, of the family (AF_UNSPEC for any) and type.
 * passive: a server's, where a NULL host means the wildcard.  Returns 0,
 * or -1 and *e with gai_strerror()'s reason and exit status 3.
 */
int net_resolve(const char *host, const char *port, int family, int type,
		bool passive, struct addrinfo **res, struct sp_error *e)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = type,
				  .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) };
	int r = sys_getaddrinfo(host, port, &hints, res);
	int err = errno;

	if (r != 0) {
		const char *why = r == EAI_SYSTEM ? strerror(err) : gai_strerror(r);
		if (r == EAI_SYSTEM)
			return fail_errno(e, SP_RESOLVE, err, "getaddrinfo(%s, %s)",
					  host ? host : "*", port);
		return fail(e, SP_RESOLVE, "getaddrinfo(%s, %s): %s", host ? host : "*", port, why);
	}
	return 0;
}

/* One address: socket, SO_REUSEADDR, bind and (for a stream) listen. */
static int listen_on(const struct addrinfo *ai, int backlog, struct sp_error *e)
{
	char name[128];
	int fd = net_open_socket(ai->ai_family, ai->ai_socktype, 0, e);

	if (fd < 0)
		return -1;
	addr_format(ai->ai_addr, ai->ai_addrlen, name, sizeof(name));
	if (sys_setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0) {
		fail_errno(e, SP_FAILURE, errno, "setsockopt(%s, SO_REUSEADDR)", name);
		goto fail;
	}
	if (net_bind_to(fd, ai->ai_addr, ai->ai_addrlen, e) < 0 ||
	    (ai->ai_socktype == SOCK_STREAM && net_listen_on_socket(fd, backlog, name, e) < 0))
		goto fail;
	return fd;
fail:
	sys_close(fd);
	return -1;
}

/*
 * A listening (or, for UDP, bound) socket on host:port: the first address
 * the name resolves to that takes it.  A NULL host is the family's
 * loopback, as SPEC's servers default; "[::1]" is accepted.  -1 and *e
 * with the last attempt's error.
 */
int net_listen_host(const char *host, const char *port, int family, int type,
		    int backlog, struct sp_error *e)
{
	struct addrinfo *ai, *a;
	char bare[64];
	int fd = -1;

	if (!host)
		host = family == AF_INET6 ? "::1" : "127.0.0.1";
	if (net_resolve(addr_strip_brackets(host, bare, sizeof(bare)), port, family, type,
			true, &ai, e) < 0)
		return -1;
	for (a = ai; a && fd < 0; a = a->ai_next)
		fd = listen_on(a, backlog, e);
	freeaddrinfo(ai);
	return fd;
}

/* A pipe whose ends block (sys_pipe() makes them non-blocking), as perf's measured pipe does. */
int net_blocking_pipe(int fds[2], struct sp_error *e)
{
	if (sys_pipe(fds) < 0)
		return fail_errno(e, SP_FAILURE, errno, "pipe2");
	for (int i = 0; i < 2; i++)
		if (sys_set_nonblocking(fds[i], false) < 0) {
			fail_errno(e, SP_FAILURE, errno, "fcntl(%d, ~O_NONBLOCK)", fds[i]);
			sys_close(fds[0]);
			sys_close(fds[1]);
			return -1;
		}
	return 0;
}

/*
 * A spare descriptor, held for net_shed_connection(): /dev/null, opened
 * while the table has room.  -1 if it could not be.
 */
int net_open_spare(void)
{
	return sys_open("/dev/null", O_RDONLY | O_CLOEXEC, "O_RDONLY|O_CLOEXEC");
}

/*
 * With the descriptor table full, accept() fails with EMFILE and the
 * connection stays queued, so a level-triggered loop would spin on it.
 * Giving up the spare descriptor lets us accept that client, only to close
 * it; the spare is then taken again.
 */
void net_shed_connection(int lfd, int *spare_fd)
{
	int fd;

	if (*spare_fd < 0)
		return;
	sys_close(*spare_fd);
	fd = sys_accept(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		sys_close(fd);
	*spare_fd = net_open_spare();
}

/* Accepts one client (blocking); its address, formatted, goes into peer.
 * -1 and *e on failure, or when a stop signal came. */
int net_accept(int lfd, char *peer, size_t size, struct sp_error *e)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	for (;;) {
		len = sizeof(ss);
		fd = sys_accept(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
		if (fd >= 0 || errno != EINTR || proc_stopped_by())
			break;
		/* SIGUSR1 is answered when it comes, with what is open now,
		 * not by a connection accepted later. */
		if (proc_usr1_pending())
			stats_report_connections();
	}
	if (fd < 0)
		return fail_errno(e, SP_FAILURE, errno, "accept4(%d)", lfd);
	addr_format((struct sockaddr *)&ss, len, peer, size);
	return fd;
}

/*
 * connect() bounded by a timeout: non-blocking, so that connect returns
 * EINPROGRESS at once; poll() waits for writability, and SO_ERROR then
 * says how the attempt ended, since poll only says that it did.
 */
static int connect_within(int fd, const struct sockaddr *sa, socklen_t len,
			  int timeout_ms, const char *name, struct sp_error *e)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0, r;

	if (sys_set_nonblocking(fd, true) < 0)
		return fail_errno(e, SP_FAILURE, errno, "fcntl(%s, O_NONBLOCK)", name);
	r = sys_connect(fd, sa, len);
	if (r < 0 && errno != EINPROGRESS)
		return fail_errno(e, net_connect_status(errno), errno, "connect(%s)", name);
	if (r < 0) {
		do
			r = sys_poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR && !proc_stopped_by());
		if (r == 0)
			return fail_errno(e, SP_TIMEOUT, ETIMEDOUT, "connect(%s)", name);
		if (r < 0)
			return fail_errno(e, SP_FAILURE, errno, "poll(%s)", name);
		if (sys_getsockopt_int(fd, SOL_SOCKET, SO_ERROR, &err) < 0)
			return fail_errno(e, SP_FAILURE, errno, "getsockopt(%s, SO_ERROR)", name);
		if (err)
			return fail_errno(e, net_connect_status(err), err, "connect(%s)", name);
	}
	if (sys_set_nonblocking(fd, false) < 0)
		return fail_errno(e, SP_FAILURE, errno, "fcntl(%s, ~O_NONBLOCK)", name);
	return 0;
}

/* Without a timeout, connect() blocks as the manual's example does. */
int net_connect_one(const struct sockaddr *sa, socklen_t len, int type,
		       int timeout_ms, struct sp_error *e)
{
	char name[128];
	int fd = net_open_socket(sa->sa_family, type, 0, e);
	int r;

	if (fd < 0)
		return -1;
	addr_format(sa, len, name, sizeof(name));
	if (timeout_ms >= 0)
		r = connect_within(fd, sa, len, timeout_ms, name, e);
	else
		r = net_connect_to(fd, sa, len, e);
	if (r < 0) {
		sys_close(fd);
		return -1;
	}
	return fd;
}

/*
 * A connect() that does not wait, for an event loop (proxy): a
 * non-blocking socket for the address, its connect() begun.  Returns the
 * socket, with *done true if it is connected already (else the loop waits
 * for it to be writable, then asks net_connect_result()); or -1 and errno.
 */
int net_connect_start(const struct sockaddr *sa, socklen_t len, bool *done)
{
	int fd = sys_socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -1;
	*done = sys_connect(fd, sa, len) == 0;
	if (*done || errno == EINPROGRESS)
		return fd;
	err = errno;
	sys_close(fd);
	errno = err;
	return -1;
}

/* How a connect begun by net_connect_start() ended: 0, or its errno. */
int net_connect_result(int fd)
{
	int err = 0;

	if (sys_getsockopt_int(fd, SOL_SOCKET, SO_ERROR, &err) < 0)
		return errno;
	return err;
}

/* One address of a list, for callers that report each attempt; -1 and *e. */
int net_connect_addr(const struct addrinfo *ai, int timeout_ms, struct sp_error *e)
{
	return net_connect_one(ai->ai_addr, ai->ai_addrlen, ai->ai_socktype, timeout_ms, e);
}

/*
 * Connects to the first address that answers, trying them all in order;
 * on failure -1 and *e with the last attempt's error.  timeout_ms < 0: none.
 */
int net_connect_any(const struct addrinfo *ai, int timeout_ms, struct sp_error *e)
{
	int fd = -1;

	for (; ai && fd < 0 && !proc_stopped_by(); ai = ai->ai_next)
		fd = net_connect_addr(ai, timeout_ms, e);
	return fd;
}
