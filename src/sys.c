/*
 * sys.c: the call layer.  Every system call sockpair makes on a socket, a
 * pipe or a standard stream is made here: the call, then (with --trace) a
 * line saying what it was given and what it returned, in strace's words.
 * Each wrapper returns as the call does and leaves errno as the call left
 * it, so callers read errno exactly as they would after the raw call.
 *
 * One wrapper per call, each with its trace line: the file is as long as
 * the list of calls (the data moves are sys-data.c), and read by looking a
 * call up.  Tracing costs one test of trace_enabled when it is off.  Names follow
 * the system call strace shows (recv() is recvfrom, isatty() is an ioctl),
 * so that --trace can be read against strace -f line by line.
 */
#define _GNU_SOURCE
#include "sockpair.h"
#include "sys-layer.h"

#include <dirent.h>
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
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void note_ends(int fd, const struct sockaddr *peer, socklen_t peer_len);

const char *sys_addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
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
	/* peers' socket diagnostics talk to the kernel, not to a peer: no
	 * connection for -x or --stats to tell of. */
	if (fd >= 0 && domain != AF_NETLINK)
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
	if (r == 0)
		AFTER_CALL(conn_capture,
			   conn_capture_pair(fds, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), getpid()));
	return r;
}

int sys_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int r = bind(fd, sa, len);
	char addr[128];

	TRACE(trace_ret(r, "bind(%d, %s)", fd, sys_addr_text(sa, len, addr, sizeof(addr))));
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
			r >= 0 && sa ? sys_addr_text(sa, *len, addr, sizeof(addr)) : "NULL"));
	if (r >= 0)
		COUNT(conn_open(r, true, sa ? sys_addr_text(sa, *len, addr, sizeof(addr)) : NULL));
	if (r >= 0)
		NOTE_ENDS(r);
	return r;
}

int sys_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int r = connect(fd, sa, len);
	char addr[128];

	TRACE(trace_ret(r, "connect(%d, %s)", fd, sys_addr_text(sa, len, addr, sizeof(addr))));
	/* A non-blocking connect() names the peer now, and is a connection
	 * once SO_ERROR says 0 (see sys_getsockopt_int). */
	if (r == 0 || errno == EINPROGRESS)
		COUNT(conn_connected(fd, sys_addr_text(sa, len, addr, sizeof(addr)), r == 0));
	/* A UNIX peer's name as given to connect(), not as the server bound it
	 * (maybe relative to its own directory): the capture's comment. */
	if (r == 0)
		AFTER_CALL(conn_needs_ends(fd), note_ends(fd, sa, len));
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
	if (r == 0 && level == SOL_SOCKET && name == SO_ERROR && *value == 0) {
		COUNT(conn_connected(fd, NULL, true));
		NOTE_ENDS(fd);
	}
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

/* SO_LINGER {1, 0}: the close that follows sends a reset, not a FIN. */
int sys_set_linger_zero(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	int r = setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));

	TRACE(trace_ret(r, "setsockopt(%d, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0})", fd));
	if (r == 0)
		COUNT(conn_will_reset(fd));
	return r;
}

/*
 * --pcap: fd's names (the peer's as given, else as the kernel says), its
 * type and a UNIX peer's pid, for its flow in the capture.  Not traced:
 * the capture's calls, not the command's (the trace of the sockets is
 * the same with --pcap as without).
 */
static void note_ends(int fd, const struct sockaddr *peer, socklen_t peer_len)
{
	struct conn_ends e = { .local_len = sizeof(e.local), .peer_len = sizeof(e.peer) };
	socklen_t len = sizeof(e.type);
	struct ucred cred;

	if (getsockname(fd, (struct sockaddr *)&e.local, &e.local_len) < 0)
		e.local_len = 0;
	if (peer && peer_len <= sizeof(e.peer)) {
		memcpy(&e.peer, peer, peer_len);
		e.peer_len = peer_len;
	} else if (getpeername(fd, (struct sockaddr *)&e.peer, &e.peer_len) < 0) {
		e.peer_len = 0;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &e.type, &len) < 0)
		e.type = SOCK_STREAM;
	len = sizeof(cred);
	if (e.local.ss_family == AF_UNIX &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		e.peer_pid = cred.pid;
	conn_capture_ends(fd, &e);
}

void sys_note_ends(int fd)
{
	note_ends(fd, NULL, 0);
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
			r == 0 ? sys_addr_text((struct sockaddr *)ss, *len, addr, sizeof(addr)) : "..."));
	return r;
}

/* ---- names ---------------------------------------------------------------- */

static void format_addrinfo_list(const struct addrinfo *ai, char *buf, size_t size)
{
	size_t used = 0;
	char one[128];

	buf[0] = '\0';
	for (; ai && used + 4 < size; ai = ai->ai_next) {
		addr_format(ai->ai_addr, ai->ai_addrlen, one, sizeof(one));
		used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", one);
	}
}

static const char *family_name(int family)
{
	return family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" : "AF_UNSPEC";
}

/*
 * getaddrinfo(), traced with the addresses it found or its reason.
 * Returns as getaddrinfo() does, errno kept for EAI_SYSTEM.
 */
int sys_getaddrinfo(const char *host, const char *port, const struct addrinfo *hints,
		    struct addrinfo **res)
{
	int r = getaddrinfo(host, port, hints, res);
	char list[512];

	TRACE(if (r == 0)
		      format_addrinfo_list(*res, list, sizeof(list));
	      trace_call(r == 0 ? list : r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r),
			 "getaddrinfo(\"%s\", \"%s\", %s)", host ? host : "", port,
			 family_name(hints->ai_family)));
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

/* ---- directories: /proc, for peers ------------------------------------ */

/* opendir(), traced as the openat() it makes. */
DIR *sys_opendir(const char *path)
{
	DIR *dir = opendir(path);

	TRACE(trace_ret(dir ? dirfd(dir) : -1,
			"openat(AT_FDCWD, \"%s\", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY)", path));
	return dir;
}

/*
 * readdir(): the next entry, or NULL at the end (errno unchanged) or on
 * failure (errno set).  Only a failure is traced: the getdents64() calls
 * behind it are the C library's, one per buffer of entries, not one per
 * entry, so a line per entry would show calls that were never made.
 */
struct dirent *sys_readdir(DIR *dir)
{
	int saved = errno;
	struct dirent *d;

	errno = 0;
	d = readdir(dir);
	if (!d && errno)
		TRACE(trace_ret(-1, "getdents64(%d)", dirfd(dir)));
	else if (!d)
		errno = saved;
	return d;
}

/* closedir(), traced as the close() it makes. */
int sys_closedir(DIR *dir)
{
	int fd = dirfd(dir);
	int r = closedir(dir);

	TRACE(trace_ret(r, "close(%d)", fd));
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

/* epoll_wait(), or epoll_pwait() with mask as the signal mask while it waits. */
int sys_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms,
		   const sigset_t *mask)
{
	return mask ? epoll_pwait(epfd, events, max, timeout_ms, mask)
		    : epoll_wait(epfd, events, max, timeout_ms);
}

/* ---- files around a UNIX socket ------------------------------------------- */

int sys_fstatat(int dirfd, const char *name, struct stat *st)
{
	int r = fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW);

	TRACE(trace_ret(r, "newfstatat(%d, \"%s\", AT_SYMLINK_NOFOLLOW)", dirfd, name));
	return r;
}

/* stat(), following links: what a path names. */
int sys_stat(const char *path, struct stat *st)
{
	int r = stat(path, st);

	TRACE(trace_ret(r, "newfstatat(AT_FDCWD, \"%s\", 0)", path));
	return r;
}

/* renameat2(): within one directory here; RENAME_NOREPLACE refuses to overwrite. */
int sys_renameat(int dirfd, const char *from, const char *to, unsigned flags)
{
	int r = renameat2(dirfd, from, dirfd, to, flags);

	TRACE(trace_ret(r, "renameat2(%d, \"%s\", %d, \"%s\", %s)", dirfd, from, dirfd, to,
			flags & RENAME_NOREPLACE ? "RENAME_NOREPLACE" : "0"));
	return r;
}

/* The owner, group and mode of a name in a directory (not following a symlink). */
int sys_set_owner_mode(int dirfd, const char *name, uid_t uid, gid_t gid, mode_t mode)
{
	int r = fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);

	TRACE(trace_ret(r, "fchownat(%d, \"%s\", %u, %u, AT_SYMLINK_NOFOLLOW)", dirfd, name,
			(unsigned)uid, (unsigned)gid));
	if (r < 0)
		return r;
	r = fchmodat(dirfd, name, mode & 07777, 0);
	TRACE(trace_ret(r, "fchmodat(%d, \"%s\", 0%o)", dirfd, name, (unsigned)(mode & 07777)));
	return r;
}

int sys_unlinkat(int dirfd, const char *name)
{
	int r = unlinkat(dirfd, name, 0);

	TRACE(trace_ret(r, "unlinkat(%d, \"%s\", 0)", dirfd, name));
	return r;
}

/* mkdtemp(): a new directory, 0700, its name made from template's XXXXXX. */
char *sys_mkdtemp(char *template)
{
	char *r = mkdtemp(template);

	TRACE(trace_ret(r ? 0 : -1, "mkdir(\"%s\", 0700)", template));
	return r;
}

int sys_mkdir(const char *path, mode_t mode)
{
	int r = mkdir(path, mode);

	TRACE(trace_ret(r, "mkdir(\"%s\", 0%o)", path, (unsigned)mode));
	return r;
}

int sys_rmdir(const char *path)
{
	int r = rmdir(path);

	TRACE(trace_ret(r, "rmdir(\"%s\")", path));
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
