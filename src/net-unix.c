/*
 * net-unix.c: UNIX sockets at a path: listening where the path says and
 * nowhere else (a directory opened once, the file's identity checked
 * before it is removed), probing, connecting, a pair through a path, and
 * descriptors passed with data.  On the call layer, as net.c; the helpers
 * the two share are in net-layer.h.
 */
#define _GNU_SOURCE
#include "sockpair.h"
#include "net-layer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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
		return fail_errno(e, net_connect_status(err), err, "%s(%s)", call_name, shown);
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
	int fd = net_open_socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, &ignored);
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
		return fail_errno(e, net_connect_status(errno), errno, "open(%s)", dir);
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
	return net_address_call(sys_bind, "bind", fd, (struct sockaddr *)&sun, len, e);
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
	fd = net_open_socket(AF_UNIX, type, 0, e);
	if (fd < 0)
		return -1;
	if (ul->path[0] == '@')
		r = net_bind_to(fd, (struct sockaddr *)&sun, len, e);
	else
		r = bind_unix_file(ul, fd, e);
	if (r < 0 || (type != SOCK_DGRAM && net_listen_on_socket(fd, backlog, ul->path, e) < 0)) {
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
		return net_connect_one((struct sockaddr *)&sun, len, type, timeout_ms, e);
	fd = net_open_socket(AF_UNIX, type, 0, e);
	if (fd < 0)
		return -1;
	if (net_bind_to(fd, (struct sockaddr *)&autobind, sizeof(autobind), e) < 0 ||
	    net_connect_to(fd, (struct sockaddr *)&sun, len, e) < 0) {
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
