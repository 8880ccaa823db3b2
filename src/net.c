/*
 * net.c: sockets and addresses, on the call layer (sys.c), which traces.
 * Functions here never print and never exit: on failure they fill the
 * caller's sp_error with the call that failed and why, and return -1.
 */
#define _GNU_SOURCE
#include "sockpair.h"

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
static int connect_status(int err)
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

static int open_socket(int domain, int type, int protocol, struct sp_error *e)
{
	char args[64];
	int fd = sys_socket(domain, type, protocol);

	if (fd < 0)
		return fail_errno(e, SP_FAILURE, errno, "socket(%s)",
				  parse_socket_triple(domain, type, protocol, args, sizeof(args)));
	return fd;
}

/* bind() or connect() to an address, failing in SPEC's words. */
static int address_call(int (*call)(int, const struct sockaddr *, socklen_t),
			const char *name, int fd, const struct sockaddr *sa, socklen_t len,
			struct sp_error *e)
{
	char addr[128];

	if (call(fd, sa, len) < 0)
		return fail_errno(e, connect_status(errno), errno, "%s(%s)", name,
				  addr_format(sa, len, addr, sizeof(addr)));
	return 0;
}

static int bind_to(int fd, const struct sockaddr *sa, socklen_t len, struct sp_error *e)
{
	return address_call(sys_bind, "bind", fd, sa, len, e);
}

static int connect_to(int fd, const struct sockaddr *sa, socklen_t len, struct sp_error *e)
{
	return address_call(sys_connect, "connect", fd, sa, len, e);
}

static int listen_on_socket(int fd, int backlog, const char *name, struct sp_error *e)
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
	int fd = open_socket(domain, type, protocol, e);

	if (fd < 0)
		return -1;
	*len = loopback_any_port(domain, ss);
	if (bind_to(fd, (struct sockaddr *)ss, *len, e) < 0)
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
	if (listen_on_socket(listener, 1, "loopback", e) < 0)
		goto fail;
	client = open_socket(domain, type, protocol, e);
	if (client < 0 || connect_to(client, (struct sockaddr *)&ss, len, e) < 0)
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
	if (fb < 0 || connect_to(fa, (struct sockaddr *)&b, blen, e) < 0 ||
	    connect_to(fb, (struct sockaddr *)&a, alen, e) < 0) {
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
	int fd = open_socket(ai->ai_family, ai->ai_socktype, 0, e);

	if (fd < 0)
		return -1;
	addr_format(ai->ai_addr, ai->ai_addrlen, name, sizeof(name));
	if (sys_setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0) {
		fail_errno(e, SP_FAILURE, errno, "setsockopt(%s, SO_REUSEADDR)", name);
		goto fail;
	}
	if (bind_to(fd, ai->ai_addr, ai->ai_addrlen, e) < 0 ||
	    (ai->ai_socktype == SOCK_STREAM && listen_on_socket(fd, backlog, name, e) < 0))
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

/* ---- UNIX sockets ------------------------------------------------------ */

/*
 * bind() and connect() take no directory descriptor, so for a name inside
 * an opened directory the process steps into it for the one call: the
 * name then resolves there, whatever has been renamed or swapped for a
 * symlink along the path since the directory was opened.
 */
static int unix_call_at(int dirfd, const char *call_name,
			int (*call)(int, const struct sockaddr *, socklen_t),
			int fd, const char *base, const char *shown, struct sp_error *e)
{
	struct sockaddr_un sun;
	socklen_t len;
	int cwd, r, err;

	if (addr_unix(base, &sun, &len) < 0)
		return fail(e, SP_USAGE, "%s(%s): path too long or empty", call_name, shown);
	cwd = sys_open(".", O_PATH | O_DIRECTORY | O_CLOEXEC, "O_PATH|O_DIRECTORY|O_CLOEXEC");
	if (cwd < 0)
		return fail_errno(e, SP_FAILURE, errno, "open(\".\")");
	if (sys_fchdir(dirfd) < 0) {
		err = errno;
		sys_close(cwd);
		return fail_errno(e, SP_FAILURE, err, "fchdir(%s)", shown);
	}
	r = call(fd, (struct sockaddr *)&sun, len);
	err = errno;
	if (sys_fchdir(cwd) < 0) {
		err = errno;
		r = -1;
		call_name = "fchdir";
	}
	sys_close(cwd);
	if (r < 0)
		return fail_errno(e, connect_status(err), err, "%s(%s)", call_name, shown);
	return 0;
}

/* The socket file's identity, not following a symlink; -1 when absent. */
static int unix_file_id(const struct unix_listener *ul, struct stat *st)
{
	return sys_fstatat(ul->dirfd, ul->base, st);
}

/*
 * Whether a socket is bound to the file, asked as SPEC says: by
 * connecting.  Only ECONNREFUSED means that nothing is; anything else
 * means it is live.  The probe is a datagram socket: the kernel finds the
 * bound socket first and then refuses a stream listener with EPROTOTYPE,
 * so a listener never sees the probe as a client (a connection would be
 * the one client of a listener like ours).  A datagram socket is not
 * disturbed by a connect() either.
 */
static bool unix_socket_is_dead(const struct unix_listener *ul)
{
	struct sp_error ignored = { .err = 0 };
	int fd = open_socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, &ignored);
	bool dead;

	if (fd < 0)
		return false;	/* cannot tell: leave the file alone */
	dead = unix_call_at(ul->dirfd, "connect", sys_connect, fd, ul->base, ul->path,
			    &ignored) < 0 && ignored.err == ECONNREFUSED;
	sys_close(fd);
	return dead;
}

/*
 * Whether a UNIX socket (a path or @name) is live, asked as listen asks,
 * with a datagram probe that no listener takes for a client: 0 when
 * something is bound there (a stream listener answers EPROTOTYPE), else
 * the errno that says why not (ECONNREFUSED: stale; ENOENT: no file).
 */
int net_unix_probe(const char *path)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, err;

	if (addr_unix(path, &sun, &len) < 0)
		return EINVAL;
	fd = sys_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	err = sys_connect(fd, (struct sockaddr *)&sun, len) == 0 ? 0 : errno;
	sys_close(fd);
	return err == EPROTOTYPE ? 0 : err;
}

/*
 * Removes the socket file at ul->base if nothing accepts on it, and only
 * if it is still the very file found dead (same device and inode, in the
 * same opened directory): a file swapped in meanwhile is left alone.
 */
static bool remove_stale_socket(const struct unix_listener *ul)
{
	struct stat before, now;

	if (unix_file_id(ul, &before) < 0 || !S_ISSOCK(before.st_mode) ||
	    !unix_socket_is_dead(ul))
		return false;
	if (unix_file_id(ul, &now) < 0 || now.st_dev != before.st_dev ||
	    now.st_ino != before.st_ino)
		return false;
	return sys_unlinkat(ul->dirfd, ul->base) == 0;
}

/*
 * Splits ul->path into the directory, opened once (following symlinks, as
 * the user spelled it), and the last component, which is never followed.
 */
static int unix_open_directory(struct unix_listener *ul, struct sp_error *e)
{
	const char *slash = strrchr(ul->path, '/');
	char dir[sizeof(ul->path)];

	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
		snprintf(ul->base, sizeof(ul->base), "%s", ul->path);
	} else {
		snprintf(dir, sizeof(dir), "%.*s", slash == ul->path ? 1 : (int)(slash - ul->path),
			 ul->path);
		snprintf(ul->base, sizeof(ul->base), "%s", slash + 1);
	}
	if (!ul->base[0])
		return fail(e, SP_USAGE, "bind(%s): names a directory, not a socket", ul->path);
	ul->dirfd = sys_open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC, "O_PATH|O_DIRECTORY|O_CLOEXEC");
	if (ul->dirfd < 0)
		return fail_errno(e, connect_status(errno), errno, "open(%s)", dir);
	return 0;
}

/*
 * The socket is bound under the name as given, so that ss -xl, lsof -U and
 * /proc/net/unix show what the user typed (bound through the directory,
 * they would show only the last component).
 */
static int bind_as_given(const struct unix_listener *ul, int fd, struct sp_error *e)
{
	struct sockaddr_un sun;
	socklen_t len;

	if (addr_unix(ul->path, &sun, &len) < 0)
		return fail(e, SP_USAGE, "bind(%s): path too long or empty", ul->path);
	return address_call(sys_bind, "bind", fd, (struct sockaddr *)&sun, len, e);
}

/* The socket file bind() made, in the directory opened: ours to remove. */
static bool bound_in_directory(const struct unix_listener *ul, struct stat *st)
{
	return unix_file_id(ul, st) == 0 && S_ISSOCK(st->st_mode);
}

/* Whether the path's directory is still the one opened: not renamed,
 * nor swapped for a symlink to another. */
static bool directory_unchanged(const struct unix_listener *ul)
{
	char dir[sizeof(ul->path) + 2];
	const char *slash = strrchr(ul->path, '/');
	struct stat opened, now;

	/* "DIR/." follows DIR's symlinks as the open did. */
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s/.", (int)(slash - ul->path), ul->path);
	return sys_fstat(ul->dirfd, &opened) == 0 && sys_fstatat(AT_FDCWD, dir, &now) == 0 &&
	       opened.st_dev == now.st_dev && opened.st_ino == now.st_ino;
}

/*
 * Under the name given while its directory is the one opened and holds no
 * such name yet; else through that directory, where the stale check
 * looked.  *by_path: the name given was bound, resolved once more.
 */
static int bind_in_directory(struct unix_listener *ul, int fd, bool *by_path,
			     struct sp_error *e)
{
	struct stat st;

	*by_path = directory_unchanged(ul) && unix_file_id(ul, &st) < 0 && errno == ENOENT;
	if (*by_path)
		return bind_as_given(ul, fd, e);
	return unix_call_at(ul->dirfd, "bind", sys_bind, fd, ul->base, ul->path, e);
}

/*
 * The file is ours to remove at the end only if the directory opened holds
 * it: a name bound by path counts when the directory was still that one
 * after the bind, the name absent from it before (a directory swapped
 * between check and bind leaves our file where it went, and nothing of
 * anyone else's is ever taken for it).
 */
static int bind_unix_file(struct unix_listener *ul, int fd, struct sp_error *e)
{
	struct stat st;
	bool by_path;

	if (unix_open_directory(ul, e) < 0)
		return -1;
	if (bind_in_directory(ul, fd, &by_path, e) < 0 &&
	    (e->err != EADDRINUSE || !remove_stale_socket(ul) ||
	     bind_in_directory(ul, fd, &by_path, e) < 0))
		return -1;
	if (bound_in_directory(ul, &st) && (!by_path || directory_unchanged(ul))) {
		ul->created = true;
		ul->dev = st.st_dev;
		ul->ino = st.st_ino;
	}
	return 0;
}

/*
 * Binds a UNIX socket at ul->path ("@name": abstract).  A socket file
 * left behind by a dead listener is replaced; a live socket, or a file
 * that is not a socket, is left untouched and is an error (EADDRINUSE,
 * exit status 4).
 */
int net_listen_unix(struct unix_listener *ul, int type, int backlog, struct sp_error *e)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, r;

	ul->dirfd = -1;
	ul->created = false;
	if (addr_unix(ul->path, &sun, &len) < 0)
		return fail(e, SP_USAGE, "bind(%s): path too long or empty", ul->path);
	fd = open_socket(AF_UNIX, type, 0, e);
	if (fd < 0)
		return -1;
	if (ul->path[0] == '@')
		r = bind_to(fd, (struct sockaddr *)&sun, len, e);
	else
		r = bind_unix_file(ul, fd, e);
	if (r < 0 || (type != SOCK_DGRAM && listen_on_socket(fd, backlog, ul->path, e) < 0)) {
		sys_close(fd);
		net_unix_cleanup(ul);
		return -1;
	}
	return fd;
}

/* Removes the socket file, if it is still the one we created. */
void net_unix_cleanup(struct unix_listener *ul)
{
	struct stat st;

	if (ul->created && unix_file_id(ul, &st) == 0 && st.st_dev == ul->dev &&
	    st.st_ino == ul->ino)
		sys_unlinkat(ul->dirfd, ul->base);
	ul->created = false;
	if (ul->dirfd >= 0)
		sys_close(ul->dirfd);
	ul->dirfd = -1;
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

/* A datagram server at a path answers its client by that client's autobound name. */
static int connect_back(int server, int client, struct sp_error *e)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (sys_getname(client, false, &ss, &len) < 0)
		return fail_errno(e, SP_FAILURE, errno, "getsockname(%d)", client);
	if (sys_connect(server, (struct sockaddr *)&ss, len) < 0)
		return fail_errno(e, SP_FAILURE, errno, "connect(%d)", server);
	return 0;
}

/* Connects a client to the listener at ul's path: fds[0] the client, fds[1] the server's. */
static int connect_path(const struct unix_listener *ul, int type, int lfd, int fds[2],
			int wait_ms, struct sp_error *e)
{
	char peer[128];

	fds[0] = net_connect_unix(ul->path, type, wait_ms, e);
	if (fds[0] < 0)
		return -1;
	fds[1] = type == SOCK_DGRAM ? lfd : net_accept(lfd, peer, sizeof(peer), e);
	if (fds[1] < 0 || (type == SOCK_DGRAM && connect_back(lfd, fds[0], e) < 0)) {
		sys_close(fds[0]);
		return -1;
	}
	if (type != SOCK_DGRAM)
		sys_close(lfd);
	return 0;
}

/*
 * Two UNIX sockets of the type connected through a path in a new directory
 * of its own (bench's "unix" mechanisms, as against a socketpair): fds[0]
 * the client, fds[1] the server's end; connecting waits up to wait_ms.
 * Once connected, the path and the directory go: nothing is left on disk,
 * even if the command is killed while it uses them.
 */
int net_unix_path_pair(int type, int fds[2], int wait_ms, struct sp_error *e)
{
	struct unix_listener ul = { .dirfd = -1 };
	const char *tmp = getenv("TMPDIR");
	char dir[96];
	int lfd, r;

	/* sun_path holds 107 bytes: TMPDIR, the directory's name, "/socket". */
	if (!tmp || !*tmp || strlen(tmp) > 64)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/sockpair-bench.XXXXXX", tmp);
	if (!sys_mkdtemp(dir))
		return fail_errno(e, SP_FAILURE, errno, "mkdtemp(%s)", dir);
	snprintf(ul.path, sizeof(ul.path), "%s/socket", dir);
	lfd = net_listen_unix(&ul, type, 1, e);
	r = lfd < 0 ? -1 : connect_path(&ul, type, lfd, fds, wait_ms, e);
	if (r < 0 && lfd >= 0)
		sys_close(lfd);
	net_unix_cleanup(&ul);
	sys_rmdir(dir);
	return r;
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
		return fail_errno(e, connect_status(errno), errno, "connect(%s)", name);
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
			return fail_errno(e, connect_status(err), err, "connect(%s)", name);
	}
	if (sys_set_nonblocking(fd, false) < 0)
		return fail_errno(e, SP_FAILURE, errno, "fcntl(%s, ~O_NONBLOCK)", name);
	return 0;
}

/* Without a timeout, connect() blocks as the manual's example does. */
static int connect_one(const struct sockaddr *sa, socklen_t len, int type,
		       int timeout_ms, struct sp_error *e)
{
	char name[128];
	int fd = open_socket(sa->sa_family, type, 0, e);
	int r;

	if (fd < 0)
		return -1;
	addr_format(sa, len, name, sizeof(name));
	if (timeout_ms >= 0)
		r = connect_within(fd, sa, len, timeout_ms, name, e);
	else
		r = connect_to(fd, sa, len, e);
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
	return connect_one(ai->ai_addr, ai->ai_addrlen, ai->ai_socktype, timeout_ms, e);
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

/*
 * Connects to a UNIX socket; -1 and *e on failure.  A datagram client
 * binds an autobound abstract name first, so that the listener has an
 * address to answer.
 */
int net_connect_unix(const char *path, int type, int timeout_ms, struct sp_error *e)
{
	struct sockaddr_un sun;
	sa_family_t autobind = AF_UNIX;
	socklen_t len;
	int fd;

	if (addr_unix(path, &sun, &len) < 0)
		return fail(e, SP_USAGE, "connect(%s): path too long or empty", path);
	if (type != SOCK_DGRAM)
		return connect_one((struct sockaddr *)&sun, len, type, timeout_ms, e);
	fd = open_socket(AF_UNIX, type, 0, e);
	if (fd < 0)
		return -1;
	if (bind_to(fd, (struct sockaddr *)&autobind, sizeof(autobind), e) < 0 ||
	    connect_to(fd, (struct sockaddr *)&sun, len, e) < 0) {
		sys_close(fd);
		return -1;
	}
	return fd;
}

/*
 * Sends n bytes and descriptors in one SCM_RIGHTS message over a UNIX
 * socket, waiting while it is full (it may be a non-blocking one others
 * share); -1 and *e on failure.
 */
int net_send_fds(int fd, const void *buf, size_t n, const int *fds, int nfds,
		 struct sp_error *e)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	ssize_t w;

	while ((w = sys_sendmsg(fd, buf, n, fds, nfds, MSG_NOSIGNAL)) < 0) {
		if (errno == EAGAIN && sys_poll(&p, 1, -1) >= 0)
			continue;
		if (errno != EINTR && errno != EAGAIN)
			return fail_errno(e, SP_FAILURE, errno, "sendmsg(%d, SCM_RIGHTS)", fd);
	}
	/* One message: the rest of a short send goes without descriptors. */
	if ((size_t)w < n)
		return io_write_all(fd, (const char *)buf + w, n - (size_t)w, e);
	return 0;
}
