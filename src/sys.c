/*
 * sys.c: the call layer.  Every system call sockpair makes on a socket, a
 * pipe or a standard stream is made here: the call, then (with --trace) a
 * line saying what it was given and what it returned, in strace's words.
 * Each wrapper returns as the call does and leaves errno as the call left
 * it, so callers read errno exactly as they would after the raw call.
 *
 * Tracing costs one test of trace_enabled when it is off.  Names follow
 * the system call strace shows (recv() is recvfrom, isatty() is an ioctl),
 * so that --trace can be read against strace -f line by line.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Runs a hook after a call if WANTED, errno kept: the caller reads the call's. */
#define AFTER_CALL(wanted, ...)                        \
	do {                                           \
		if (wanted) {                          \
			int saved_errno_ = errno;      \
			__VA_ARGS__;                   \
			errno = saved_errno_;          \
		}                                      \
	} while (0)

/* The counting sinks (-x, --stats, SIGUSR1) and the tracer (--trace). */
#define COUNT(...) AFTER_CALL(conn_wanted(), __VA_ARGS__)
#define TRACE(...) AFTER_CALL(trace_enabled, __VA_ARGS__)

static const char *addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	return sa && len >= sizeof(sa_family_t) ? addr_format(sa, len, buf, size) : "NULL";
}

/* ---- sockets ------------------------------------------------------------ */

int sys_socket(int domain, int type, int protocol)
{
	int fd = socket(domain, type, protocol);
	char args[96];

	TRACE(trace_ret(fd, "socket(%s)",
			parse_socket_triple(domain, type, protocol, args, sizeof(args))));
	if (fd >= 0)
		COUNT(conn_open(fd, false, NULL));
	return fd;
}

int sys_socketpair(int domain, int type, int protocol, int fds[2])
{
	int r = socketpair(domain, type, protocol, fds);
	char args[96], result[32];

	if (r == 0)
		snprintf(result, sizeof(result), "[%d, %d]", fds[0], fds[1]);
	TRACE(parse_socket_triple(domain, type, protocol, args, sizeof(args));
	      r == 0 ? trace_call(result, "socketpair(%s)", args)
		     : trace_ret(r, "socketpair(%s)", args));
	if (r == 0)
		COUNT(conn_open(fds[0], false, NULL); conn_open(fds[1], false, NULL));
	return r;
}

int sys_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int r = bind(fd, sa, len);
	char addr[128];

	TRACE(trace_ret(r, "bind(%d, %s)", fd, addr_text(sa, len, addr, sizeof(addr))));
	return r;
}

int sys_listen(int fd, int backlog)
{
	int r = listen(fd, backlog);

	TRACE(trace_ret(r, "listen(%d, %d)", fd, backlog));
	if (r == 0)
		COUNT(conn_listening(fd));
	return r;
}

/* accept4(); the peer's address in *sa when sa is given. */
int sys_accept(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	int r = accept4(fd, sa, len, flags);
	char addr[128];

	TRACE(trace_ret(r, "accept4(%d, %s)", fd,
			r >= 0 && sa ? addr_text(sa, *len, addr, sizeof(addr)) : "NULL"));
	if (r >= 0)
		COUNT(conn_open(r, true, sa ? addr_text(sa, *len, addr, sizeof(addr)) : NULL));
	return r;
}

int sys_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int r = connect(fd, sa, len);
	char addr[128];

	TRACE(trace_ret(r, "connect(%d, %s)", fd, addr_text(sa, len, addr, sizeof(addr))));
	/* A non-blocking connect() names the peer now, and is a connection
	 * once SO_ERROR says 0 (see sys_getsockopt_int). */
	if (r == 0 || errno == EINPROGRESS)
		COUNT(conn_connected(fd, addr_text(sa, len, addr, sizeof(addr)), r == 0));
	return r;
}

int sys_shutdown(int fd, int how)
{
	int r = shutdown(fd, how);

	if (r == 0 && how != SHUT_RD)
		COUNT(conn_shut(fd));
	TRACE(trace_ret(r, "shutdown(%d, %s)", fd,
			how == SHUT_WR ? "SHUT_WR" : how == SHUT_RD ? "SHUT_RD" : "SHUT_RDWR"));
	return r;
}

static const char *sockopt_name(int level, int name, char *buf, size_t size)
{
	static const struct { int level, name; const char *text; } names[] = {
		{ SOL_SOCKET, SO_DOMAIN, "SOL_SOCKET, SO_DOMAIN" },
		{ SOL_SOCKET, SO_TYPE, "SOL_SOCKET, SO_TYPE" },
		{ SOL_SOCKET, SO_PROTOCOL, "SOL_SOCKET, SO_PROTOCOL" },
		{ SOL_SOCKET, SO_SNDBUF, "SOL_SOCKET, SO_SNDBUF" },
		{ SOL_SOCKET, SO_RCVBUF, "SOL_SOCKET, SO_RCVBUF" },
		{ SOL_SOCKET, SO_ERROR, "SOL_SOCKET, SO_ERROR" },
		{ SOL_SOCKET, SO_REUSEADDR, "SOL_SOCKET, SO_REUSEADDR" },
		{ SOL_SOCKET, SO_PEERCRED, "SOL_SOCKET, SO_PEERCRED" },
		{ SOL_SOCKET, SO_PASSCRED, "SOL_SOCKET, SO_PASSCRED" },
		{ IPPROTO_TCP, TCP_INFO, "SOL_TCP, TCP_INFO" },
		{ IPPROTO_TCP, TCP_NODELAY, "SOL_TCP, TCP_NODELAY" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].level == level && names[i].name == name)
			return names[i].text;
	snprintf(buf, size, "%d, %d", level, name);
	return buf;
}

/* getsockopt() of an int option (SO_TYPE, SO_ERROR, ...): the value in *value. */
int sys_getsockopt_int(int fd, int level, int name, int *value)
{
	socklen_t len = sizeof(*value);
	int r = getsockopt(fd, level, name, value, &len);
	char opt[32], result[32];

	if (r == 0)
		snprintf(result, sizeof(result), "%d", *value);
	if (r == 0 && level == SOL_SOCKET && name == SO_ERROR && *value == 0)
		COUNT(conn_connected(fd, NULL, true));
	TRACE(r == 0 ? trace_call("0", "getsockopt(%d, %s, [%s])", fd,
				  sockopt_name(level, name, opt, sizeof(opt)), result)
		     : trace_ret(r, "getsockopt(%d, %s)", fd,
				 sockopt_name(level, name, opt, sizeof(opt))));
	return r;
}

/* getsockopt() of a structure; described: how to show it (NULL: "{...}"). */
int sys_getsockopt(int fd, int level, int name, void *value, socklen_t *len,
		   const char *described)
{
	int r = getsockopt(fd, level, name, value, len);
	char opt[32];

	TRACE(r == 0 ? trace_call("0", "getsockopt(%d, %s, %s)", fd,
				  sockopt_name(level, name, opt, sizeof(opt)),
				  described ? described : "{...}")
		     : trace_ret(r, "getsockopt(%d, %s)", fd,
				 sockopt_name(level, name, opt, sizeof(opt))));
	return r;
}

/* SO_PEERCRED: who is at the other end of a UNIX socket. */
int sys_peer_credentials(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);
	int r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len);

	TRACE(r == 0 ? trace_call("0", "getsockopt(%d, SOL_SOCKET, SO_PEERCRED, "
				  "{pid=%d, uid=%u, gid=%u})", fd, (int)cred->pid,
				  (unsigned)cred->uid, (unsigned)cred->gid)
		     : trace_ret(r, "getsockopt(%d, SOL_SOCKET, SO_PEERCRED)", fd));
	return r;
}

int sys_setsockopt_int(int fd, int level, int name, int value)
{
	int r = setsockopt(fd, level, name, &value, sizeof(value));
	char opt[32];

	TRACE(trace_ret(r, "setsockopt(%d, %s, [%d])", fd,
			sockopt_name(level, name, opt, sizeof(opt)), value));
	return r;
}

/* SO_RCVTIMEO or SO_SNDTIMEO: a blocking call on fd gives up after ms (EAGAIN). */
int sys_setsockopt_timeout(int fd, int name, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	int r = setsockopt(fd, SOL_SOCKET, name, &tv, sizeof(tv));

	TRACE(trace_ret(r, "setsockopt(%d, SOL_SOCKET, %s, {tv_sec=%ld, tv_usec=%ld})", fd,
			name == SO_RCVTIMEO ? "SO_RCVTIMEO" : "SO_SNDTIMEO", (long)tv.tv_sec,
			(long)tv.tv_usec));
	return r;
}

/* getsockname() or getpeername(); the address in *ss and *len. */
int sys_getname(int fd, bool peer, struct sockaddr_storage *ss, socklen_t *len)
{
	int r;
	char addr[128];

	*len = sizeof(*ss);
	r = peer ? getpeername(fd, (struct sockaddr *)ss, len)
		 : getsockname(fd, (struct sockaddr *)ss, len);
	TRACE(trace_ret(r, "%s(%d, %s)", peer ? "getpeername" : "getsockname", fd,
			r == 0 ? addr_text((struct sockaddr *)ss, *len, addr, sizeof(addr)) : "..."));
	return r;
}

/* ---- data ---------------------------------------------------------------- */

ssize_t sys_read(int fd, void *buf, size_t n)
{
	ssize_t r = read(fd, buf, n);

	TRACE(trace_data("read", fd, buf, r > 0 ? (size_t)r : 0, n, r, NULL));
	COUNT(conn_moved(fd, false, buf, r, errno, NULL));
	return r;
}

ssize_t sys_write(int fd, const void *buf, size_t n)
{
	ssize_t r = write(fd, buf, n);

	TRACE(trace_data("write", fd, buf, n, n, r, NULL));
	COUNT(conn_moved(fd, true, buf, r, errno, NULL));
	return r;
}

/*
 * A write that is never traced: the trace's own lines and the reports on
 * stderr (tracing them would recurse), and what the line editor draws on
 * the terminal (a trace line would be drawn in the middle of it).
 */
ssize_t sys_write_quiet(int fd, const void *buf, size_t n)
{
	return write(fd, buf, n);
}

/*
 * A lock on the file behind fd, taken (waiting for it) or released; not
 * traced, as sys_write_quiet().  POSIX record locks are the process's:
 * a forked child and its parent exclude each other, and one that dies
 * lets go.
 */
int sys_lock_quiet(int fd, bool lock)
{
	struct flock fl = { .l_type = lock ? F_WRLCK : F_UNLCK, .l_whence = SEEK_SET };
	int r;

	while ((r = fcntl(fd, lock ? F_SETLKW : F_SETLK, &fl)) < 0 && errno == EINTR)
		;
	return r;
}

/* An anonymous file, to lock; not traced. */
int sys_memfd_quiet(const char *name)
{
	return memfd_create(name, MFD_CLOEXEC);
}

ssize_t sys_writev(int fd, const struct iovec *iov, int count)
{
	ssize_t r = writev(fd, iov, count);

	TRACE(trace_ret(r, "writev(%d, [%d buffers], %d)", fd, count, count));
	return r;
}

/* Room for every name msg_flags() knows, and a hex rest. */
enum { MSG_FLAGS_TEXT = 96 };

/* The flags sockpair passes, named in strace's order (by bit); others in hex. */
static const char *msg_flags(int flags, char buf[MSG_FLAGS_TEXT])
{
	static const struct { int bit; const char *name; } names[] = {
		{ MSG_PEEK, "MSG_PEEK" }, { MSG_TRUNC, "MSG_TRUNC" },
		{ MSG_DONTWAIT, "MSG_DONTWAIT" }, { MSG_NOSIGNAL, "MSG_NOSIGNAL" },
		{ MSG_CMSG_CLOEXEC, "MSG_CMSG_CLOEXEC" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].bit) {
			used += (size_t)snprintf(buf + used, MSG_FLAGS_TEXT - used, "%s%s",
						 used ? "|" : "", names[i].name);
			flags &= ~names[i].bit;
		}
	if (flags || !used)
		snprintf(buf + used, MSG_FLAGS_TEXT - used, "%s%#x", used ? "|" : "",
			 (unsigned)flags);
	return buf;
}

/* What a read brought into buf: with MSG_TRUNC, r may be a longer message's length. */
static ssize_t bytes_in(ssize_t r, size_t n)
{
	return r > (ssize_t)n ? (ssize_t)n : r;
}

/* recv(), recvfrom() when from is given; traced as the recvfrom it is. */
ssize_t sys_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
		     socklen_t *from_len)
{
	ssize_t r = recvfrom(fd, buf, n, flags, from, from_len);
	char addr[128], extra[160], flag_text[MSG_FLAGS_TEXT];

	TRACE(snprintf(extra, sizeof(extra), "%s, %s", msg_flags(flags, flag_text),
		       from && r >= 0 ? addr_text(from, *from_len, addr, sizeof(addr)) : "NULL");
	      trace_data("recvfrom", fd, buf, r > 0 ? (size_t)bytes_in(r, n) : 0, n, r, extra));
	COUNT(conn_moved(fd, false, buf, bytes_in(r, n), errno,
			 from && r >= 0 ? addr_text(from, *from_len, addr, sizeof(addr)) : NULL));
	return r;
}

/* send(), sendto() when to is given; traced as the sendto it is. */
ssize_t sys_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
		   socklen_t to_len)
{
	ssize_t r = sendto(fd, buf, n, flags, to, to_len);
	char addr[128], extra[160], flag_text[MSG_FLAGS_TEXT];

	TRACE(snprintf(extra, sizeof(extra), "%s, %s", msg_flags(flags, flag_text),
		       addr_text(to, to_len, addr, sizeof(addr)));
	      trace_data("sendto", fd, buf, n, n, r, extra));
	COUNT(conn_moved(fd, true, buf, r, errno,
			 to ? addr_text(to, to_len, addr, sizeof(addr)) : NULL));
	return r;
}

/* ---- control messages: descriptors and credentials (AF_UNIX) ----------- */

/* strace's list of descriptors, "[5, 6]"; a long list ends in "...". */
static void fd_list(char *buf, size_t size, const int *fds, int n)
{
	size_t used = (size_t)snprintf(buf, size, "[");

	for (int i = 0; i < n && used < size; i++) {
		if (i == 16) {
			used += (size_t)snprintf(buf + used, size - used, ", ...");
			break;
		}
		used += (size_t)snprintf(buf + used, size - used, "%s%d", i ? ", " : "", fds[i]);
	}
	if (used < size)
		snprintf(buf + used, size - used, "]");
}

/* The control part of a traced sendmsg or recvmsg, in strace's words. */
static void control_text(char *buf, size_t size, const struct sys_control *c)
{
	char fds[160];
	int used = snprintf(buf, size, "[");

	if (c->has_creds)
		used += snprintf(buf + used, size - (size_t)used,
				 "{SOL_SOCKET, SCM_CREDENTIALS, {pid=%d, uid=%u, gid=%u}}",
				 c->pid, c->uid, c->gid);
	if (c->nfds > 0) {
		fd_list(fds, sizeof(fds), c->fds, c->nfds);
		snprintf(buf + used, size - (size_t)used, "%s{SOL_SOCKET, SCM_RIGHTS, %s}",
			 c->has_creds ? ", " : "", fds);
	}
	used = (int)strlen(buf);
	snprintf(buf + used, size - (size_t)used, "]%s", c->truncated ? ", MSG_CTRUNC" : "");
}

/*
 * sendmsg() of buf with descriptors in one SCM_RIGHTS message (nfds 0:
 * none); flags as send() takes them.
 */
ssize_t sys_sendmsg(int fd, const void *buf, size_t n, const int *fds, int nfds, int flags)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * SYS_FDS_MAX)];
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct sys_control shown = { .nfds = nfds };
	char extra[256], ctl[224], flag_text[MSG_FLAGS_TEXT];
	ssize_t r;

	if (nfds < 0 || nfds > SYS_FDS_MAX) {
		errno = EINVAL;	/* the kernel's answer to more than SCM_MAX_FD */
		return -1;
	}
	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.space;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	r = sendmsg(fd, &msg, flags);
	TRACE(memcpy(shown.fds, fds, sizeof(int) * (size_t)nfds);
	      control_text(ctl, sizeof(ctl), &shown);
	      snprintf(extra, sizeof(extra), "%s, %s", ctl, msg_flags(flags, flag_text));
	      trace_data("sendmsg", fd, buf, n, n, r, extra));
	COUNT(conn_moved(fd, true, buf, r, errno, NULL));
	return r;
}

/* Takes what recvmsg() found beside the data into c. */
static void take_control(struct msghdr *msg, struct sys_control *c)
{
	c->nfds = 0;
	c->has_creds = false;
	c->truncated = (msg->msg_flags & MSG_CTRUNC) != 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_RIGHTS) {
			size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			const unsigned char *data = CMSG_DATA(cm);

			for (size_t i = 0; i < n; i++) {
				int received;

				memcpy(&received, data + i * sizeof(int), sizeof(int));
				/* Never more than SCM_MAX_FD arrive; one more is closed, not leaked. */
				if (c->nfds < SYS_FDS_MAX)
					c->fds[c->nfds++] = received;
				else
					sys_close(received);
			}
		} else if (cm->cmsg_type == SCM_CREDENTIALS &&
			   cm->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred cred;

			memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
			c->has_creds = true;
			c->pid = (int)cred.pid;
			c->uid = (unsigned)cred.uid;
			c->gid = (unsigned)cred.gid;
		}
	}
}

/*
 * recvmsg() with room for what c asks (descriptors, credentials), received
 * close-on-exec; the sender's address in *from when from is given.  What
 * came beside the data is in c.  The data is counted and shown (-x) by
 * sys_recvmsg_seen(), which the caller calls once it has said what came
 * beside it (SPEC: the credentials before the data they came with).
 */
ssize_t sys_recvmsg(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
		    socklen_t *from_len, struct sys_control *c)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * SYS_FDS_MAX) +
			   CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = n };
	struct msghdr msg = {
		.msg_name = from, .msg_namelen = from ? *from_len : 0,
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
		.msg_controllen = (c->want_fds ? CMSG_SPACE(sizeof(int) * SYS_FDS_MAX) : 0) +
				  (c->want_creds ? CMSG_SPACE(sizeof(struct ucred)) : 0),
	};
	char addr[128], ctl[512], extra[640], flag_text[MSG_FLAGS_TEXT];
	ssize_t r;

	if (msg.msg_controllen == 0)
		msg.msg_control = NULL;
	r = recvmsg(fd, &msg, flags | MSG_CMSG_CLOEXEC);
	if (r >= 0) {
		take_control(&msg, c);
		if (from)
			*from_len = msg.msg_namelen;
	} else {
		c->nfds = 0;
		c->has_creds = c->truncated = false;
	}
	TRACE(control_text(ctl, sizeof(ctl), c);
	      snprintf(extra, sizeof(extra), "%s, %s%s%s", ctl,
		       msg_flags(flags | MSG_CMSG_CLOEXEC, flag_text), from && r >= 0 ? ", " : "",
		       from && r >= 0 ? addr_text(from, *from_len, addr, sizeof(addr)) : "");
	      trace_data("recvmsg", fd, buf, r > 0 ? (size_t)bytes_in(r, n) : 0, n, r, extra));
	return r;
}

/* What sys_recvmsg(fd, buf, n, ...) returned as r, counted and shown now. */
void sys_recvmsg_seen(int fd, const void *buf, size_t n, ssize_t r, const struct sockaddr *from,
		      socklen_t from_len)
{
	char addr[128];

	COUNT(conn_moved(fd, false, buf, bytes_in(r, n), errno,
			 from && r >= 0 ? addr_text(from, from_len, addr, sizeof(addr)) : NULL));
}

ssize_t sys_splice(int from, int to, size_t n, unsigned flags)
{
	ssize_t r = splice(from, NULL, to, NULL, n, flags);

	TRACE(trace_ret(r, "splice(%d, NULL, %d, NULL, %zu, %s)", from, to, n,
			flags & SPLICE_F_NONBLOCK ? "SPLICE_F_MOVE|SPLICE_F_NONBLOCK"
						  : "SPLICE_F_MOVE"));
	/* The bytes stay in the kernel: counted, not shown (-x never splices). */
	COUNT(conn_moved(from, false, NULL, r, errno, NULL);
	      conn_moved(to, true, NULL, r, errno, NULL));
	return r;
}

/* sendfile() from the file's own offset, which it moves, as read() would. */
ssize_t sys_sendfile(int to, int from, size_t n)
{
	ssize_t r = sendfile(to, from, NULL, n);

	TRACE(trace_ret(r, "sendfile(%d, %d, NULL, %zu)", to, from, n));
	/* 0 is the file's end, not a write. */
	if (r != 0)
		COUNT(conn_moved(to, true, NULL, r, errno, NULL));
	return r;
}

/* ---- descriptors ------------------------------------------------------- */


int sys_close(int fd)
{
	int r;

	if (conn_wanted() && conn_is_socket(fd))
		conn_closing(fd);
	r = close(fd);

	TRACE(trace_ret(r, "close(%d)", fd));
	return r;
}

int sys_open(const char *path, int flags, const char *flags_text)
{
	int fd = open(path, flags, 0600);

	TRACE(trace_ret(fd, "open(\"%s\", %s)", path, flags_text));
	return fd;
}

int sys_pipe(int fds[2])
{
	int r = pipe2(fds, O_NONBLOCK | O_CLOEXEC);
	char result[32];

	if (r == 0)
		snprintf(result, sizeof(result), "0 [%d, %d]", fds[0], fds[1]);
	TRACE(r == 0 ? trace_call(result, "pipe2(O_NONBLOCK|O_CLOEXEC)")
		     : trace_ret(r, "pipe2(O_NONBLOCK|O_CLOEXEC)"));
	return r;
}

/* F_GETPIPE_SZ, or F_SETPIPE_SZ to size; returns what fcntl() does. */
int sys_pipe_size(int fd, int size)
{
	int r = size ? fcntl(fd, F_SETPIPE_SZ, size) : fcntl(fd, F_GETPIPE_SZ);

	TRACE(size ? trace_ret(r, "fcntl(%d, F_SETPIPE_SZ, %d)", fd, size)
		   : trace_ret(r, "fcntl(%d, F_GETPIPE_SZ)", fd));
	return r;
}

/*
 * O_NONBLOCK on or off, for a descriptor that is ours alone (never a
 * standard stream: see io_open_local).  Returns the flags it had, so
 * that a caller can put them back, or -1.
 */
int sys_set_nonblocking(int fd, bool on)
{
	int flags = fcntl(fd, F_GETFL);
	int wanted, r = 0;

	TRACE(trace_ret(flags, "fcntl(%d, F_GETFL)", fd));
	if (flags < 0)
		return -1;
	wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	if (wanted != flags) {
		r = fcntl(fd, F_SETFL, wanted);
		TRACE(trace_ret(r, "fcntl(%d, F_SETFL, %s)", fd, on ? "O_NONBLOCK" : "~O_NONBLOCK"));
	}
	return r < 0 ? -1 : flags;
}

/* fcntl(F_GETFL): the open file description's flags, or -1. */
int sys_get_flags(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	TRACE(trace_ret(flags, "fcntl(%d, F_GETFL)", fd));
	return flags;
}

/* Puts back flags that sys_set_nonblocking() returned. */
int sys_restore_flags(int fd, int flags)
{
	int r;

	if (flags < 0)
		return 0;
	r = fcntl(fd, F_SETFL, flags);
	TRACE(trace_ret(r, "fcntl(%d, F_SETFL, %#x)", fd, flags));
	return r;
}

/* isatty(), which is an ioctl: 1 or 0, as isatty() returns. */
int sys_isatty(int fd)
{
	int r = isatty(fd);

	TRACE(r ? trace_call("0", "ioctl(%d, TCGETS)", fd)
		: trace_ret(-1, "ioctl(%d, TCGETS)", fd));
	return r;
}

/* An ioctl that reports an int (SIOCINQ, SIOCOUTQ, FIONREAD). */
int sys_ioctl_int(int fd, unsigned long request, const char *request_name, int *value)
{
	int r = ioctl(fd, request, value);
	char result[32];

	if (r == 0)
		snprintf(result, sizeof(result), "0 [%d]", *value);
	TRACE(r == 0 ? trace_call(result, "ioctl(%d, %s)", fd, request_name)
		     : trace_ret(r, "ioctl(%d, %s)", fd, request_name));
	return r;
}

/* lseek(); fork-echo --pass-fd shows the offset a passed descriptor moved. */
off_t sys_lseek(int fd, off_t offset, int whence)
{
	off_t r = lseek(fd, offset, whence);

	TRACE(trace_ret((long)r, "lseek(%d, %lld, %s)", fd, (long long)offset,
			whence == SEEK_SET ? "SEEK_SET" : whence == SEEK_CUR ? "SEEK_CUR" : "SEEK_END"));
	return r;
}

/* readlink(), the result terminated; what /proc/self/fd/N names. */
ssize_t sys_readlink(const char *path, char *buf, size_t size)
{
	ssize_t r = readlink(path, buf, size - 1);

	if (r >= 0)
		buf[r] = '\0';
	TRACE(trace_ret(r, "readlink(\"%s\")", path));
	return r;
}

int sys_fstat(int fd, struct stat *st)
{
	int r = fstat(fd, st);

	TRACE(trace_ret(r, "fstat(%d)", fd));
	return r;
}

/* ---- waiting: poll and epoll_wait stay out of the trace, as SPEC allows -- */

int sys_poll(struct pollfd *p, unsigned n, int timeout_ms)
{
	return poll(p, n, timeout_ms);
}

int sys_epoll_create(void)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);

	TRACE(trace_ret(fd, "epoll_create1(EPOLL_CLOEXEC)"));
	return fd;
}

/* epoll_ctl(); data is what epoll_wait() hands back with the events. */
int sys_epoll_ctl(int epfd, int op, int fd, unsigned events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	int r = epoll_ctl(epfd, op, fd, &ev);

	TRACE(trace_ret(r, "epoll_ctl(%d, %s, %d, %s%s)", epfd,
			op == EPOLL_CTL_ADD ? "EPOLL_CTL_ADD"
			: op == EPOLL_CTL_MOD ? "EPOLL_CTL_MOD" : "EPOLL_CTL_DEL", fd,
			events & EPOLLIN ? "EPOLLIN" : "",
			events & EPOLLOUT ? (events & EPOLLIN ? "|EPOLLOUT" : "EPOLLOUT") : ""));
	return r;
}

int sys_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms)
{
	return epoll_wait(epfd, events, max, timeout_ms);
}

/* ---- files around a UNIX socket ------------------------------------------- */

int sys_fstatat(int dirfd, const char *name, struct stat *st)
{
	int r = fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW);

	TRACE(trace_ret(r, "newfstatat(%d, \"%s\", AT_SYMLINK_NOFOLLOW)", dirfd, name));
	return r;
}

int sys_unlinkat(int dirfd, const char *name)
{
	int r = unlinkat(dirfd, name, 0);

	TRACE(trace_ret(r, "unlinkat(%d, \"%s\", 0)", dirfd, name));
	return r;
}

int sys_fchdir(int fd)
{
	int r = fchdir(fd);

	TRACE(trace_ret(r, "fchdir(%d)", fd));
	return r;
}

/* ---- processes and their resources ------------------------------------- */

/* fork(); the child's trace line is its parent's to print. */
pid_t sys_fork(void)
{
	pid_t pid = fork();

	if (pid != 0)
		TRACE(trace_ret(pid, "fork()"));
	return pid;
}

/* waitpid(pid, &status, 0), traced with how the child ended. */
pid_t sys_waitpid(pid_t pid, int *status)
{
	pid_t r = waitpid(pid, status, 0);
	char how[96], result[128];

	if (r < 0) {
		TRACE(trace_ret(-1, "waitpid(%d)", (int)pid));
		return r;
	}
	TRACE(parse_wait_status(*status, how, sizeof(how));
	      snprintf(result, sizeof(result), "%d (%s)", (int)r, how);
	      trace_call(result, "waitpid(%d)", (int)pid));
	return r;
}

int sys_kill(pid_t pid, int sig)
{
	int r = kill(pid, sig);

	TRACE(trace_ret(r, "kill(%d, SIG%s)", (int)pid, sigabbrev_np(sig)));
	return r;
}

/* Raises the soft limit on descriptors to the hard one; the limit after, in *now. */
int sys_raise_nofile(unsigned long long *now)
{
	struct rlimit rl;
	int r;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	*now = rl.rlim_cur == RLIM_INFINITY ? ~0ULL : (unsigned long long)rl.rlim_cur;
	if (rl.rlim_cur >= rl.rlim_max)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	r = setrlimit(RLIMIT_NOFILE, &rl);
	TRACE(trace_ret(r, "setrlimit(RLIMIT_NOFILE, %llu)", (unsigned long long)rl.rlim_cur));
	if (r == 0)
		*now = rl.rlim_cur == RLIM_INFINITY ? ~0ULL : (unsigned long long)rl.rlim_cur;
	return r;
}

/* The first max CPUs this process may run on, in cpus[]; how many, or -1. */
int sys_allowed_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int r = sched_getaffinity(0, sizeof(set), &set), n = 0;
	char list[64] = "[";

	for (int cpu = 0; r == 0 && cpu < CPU_SETSIZE && n < max; cpu++)
		if (CPU_ISSET(cpu, &set))
			cpus[n++] = cpu;
	/* The first max of them are all the caller asked for, and all it sees. */
	TRACE(for (int i = 0; i < n && strlen(list) < sizeof(list) - 16; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i ? ", " : "",
			 cpus[i]);
	      strcat(list, "]");
	      r == 0 ? trace_call(list, "sched_getaffinity(0)")
		     : trace_ret(r, "sched_getaffinity(0)"));
	return r < 0 ? -1 : n;
}

/* Pins the calling process to one CPU. */
int sys_pin_cpu(int cpu)
{
	cpu_set_t set;
	int r;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	r = sched_setaffinity(0, sizeof(set), &set);
	TRACE(trace_ret(r, "sched_setaffinity(0, [%d])", cpu));
	return r;
}

/* getservbyname(name, proto); its port in host order, 0 if none. */
unsigned sys_getservbyname(const char *name, const char *proto)
{
	const struct servent *s = getservbyname(name, proto);
	unsigned port = s ? ntohs((uint16_t)s->s_port) : 0;
	char result[16];

	TRACE(snprintf(result, sizeof(result), "%u", port);
	      trace_call(s ? result : "NULL", "getservbyname(\"%s\", \"%s\")", name, proto));
	return port;
}
