/*
 * io.c: moving bytes on the call layer: the loops that finish a partial
 * transfer, and standard streams used without touching the flags that
 * others share with us.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <limits.h>
#include <unistd.h>

/*
 * What descriptor fd is, as SPEC names it: *what gets what /proc/self/fd/N
 * says (escaped for the terminal), and the kind is returned.
 */
const char *io_describe_fd(int fd, char *what, size_t size)
{
	char link[64], target[4096];
	struct stat st;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (sys_readlink(link, target, sizeof(target)) < 0)
		snprintf(target, sizeof(target), "?");
	text_escape(target, strlen(target), what, size);
	if (sys_fstat(fd, &st) < 0)
		return "not open";
	switch (st.st_mode & S_IFMT) {
	case S_IFREG: return "regular file";
	case S_IFDIR: return "directory";
	case S_IFIFO: return "pipe";
	case S_IFSOCK: return "socket";
	case S_IFCHR: return "character device";
	case S_IFBLK: return "block device";
	default: return "anonymous";	/* an anon_inode: eventfd, epoll, ... */
	}
}

/*
 * A buffer for the kernel to copy into or out of, released by free().
 * Page-aligned: a large copy runs some 5 % faster from a page boundary
 * than from where malloc() puts a large block, 16 bytes past one.
 */
void *io_alloc_buffer(size_t size)
{
	enum { PAGE = 4096 };
	size_t pages = size / PAGE + (size % PAGE != 0 || size == 0);

	return aligned_alloc(PAGE, pages * PAGE);
}

static const char *fd_name(int fd, char *buf, size_t size)
{
	if (fd == STDOUT_FILENO)
		return "stdout";
	snprintf(buf, size, "%d", fd);
	return buf;
}

/* Writes all n bytes to a blocking descriptor; -1 and *e on failure. */
int io_write_all(int fd, const void *buf, size_t n, struct sp_error *e)
{
	const char *p = buf;
	char name[16];

	while (n > 0) {
		ssize_t w = sys_write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return fail_errno(e, SP_FAILURE, errno, "write(%s)",
					  fd_name(fd, name, sizeof(name)));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes every byte of iov[0..count) to a blocking descriptor; -1 and *e on failure. */
int io_writev_all(int fd, struct iovec *iov, int count, struct sp_error *e)
{
	char name[16];

	while (count > 0) {
		ssize_t w = sys_writev(fd, iov, count);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return fail_errno(e, SP_FAILURE, errno, "write(%s)",
					  fd_name(fd, name, sizeof(name)));
		for (; count > 0 && (size_t)w >= iov->iov_len; iov++, count--)
			w -= (ssize_t)iov->iov_len;
		if (count > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Reads until n bytes or end of file; returns the count, -1 and *e on error. */
ssize_t io_read_full(int fd, void *buf, size_t n, struct sp_error *e)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = sys_read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail_errno(e, SP_FAILURE, errno, "read(%d)", fd);
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/*
 * Flushes stdout while errno still says why it failed: a check made later
 * only finds ferror() set and the reason gone.  -1 and *e on failure.
 */
int io_flush_stdout(struct sp_error *e)
{
	int err;

	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	err = errno ? errno : EIO;
	return fail_errno(e, SP_FAILURE, err, "write(stdout)");
}

/*
 * stdio's write of stdout's buffer, made through the call layer: on a
 * socket --trace must show it (SPEC: every call that takes a socket).
 */
static ssize_t write_stdout_buffer(void *cookie, const char *buf, size_t n)
{
	struct sp_error e;

	(void)cookie;
	if (io_write_all(STDOUT_FILENO, buf, n, &e) < 0) {
		errno = e.err;	/* for io_flush_stdout()'s line */
		return -1;
	}
	return (ssize_t)n;
}

/*
 * A stdout that is a socket gets a stdio stream of its own, whose writes
 * go through sys_write(), traced; any other stdout keeps glibc's.  Once,
 * before anything is printed.
 */
void io_trace_stdout_on_socket(void)
{
	static const cookie_io_functions_t traced = { .write = write_stdout_buffer };
	struct stat st;
	FILE *f;

	if (sys_fstat(STDOUT_FILENO, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	f = fopencookie(NULL, "w", traced);
	if (f)
		stdout = f;
}

/* ---- standard streams, shared with others ------------------------------ */

static bool is_pty_master(int fd)
{
	int number;

	return sys_ioctl_int(fd, TIOCGPTN, "TIOCGPTN", &number) == 0;
}

/*
 * O_NONBLOCK belongs to the open file description, which stdin and stdout
 * share with the shell and with whoever else holds them: set there, it
 * outlives us (even a SIGKILL) and makes the next reader meet EAGAIN.  So
 * a pipe, FIFO or terminal is opened anew through /proc, a description of
 * our own whose flags nobody else sees; a socket is moved with
 * MSG_DONTWAIT; a regular file or a device such as /dev/null never
 * blocks.  A pipe that cannot be reopened is moved only when poll() says
 * it is ready.  Never fails: end->fd is always usable.
 */
void io_open_local(int fd, int how, struct local_end *end)
{
	char proc_path[32];
	struct stat st;

	/*
	 * poll() watches the stream as given, even where it is read through a
	 * reopening: a FIFO opened without a writer (as ours is, once the
	 * writer has gone) hides POLLHUP until a writer comes, which none
	 * will; the shell's blocking open saw its writer, and shows the end.
	 */
	*end = (struct local_end){ .fd = fd, .poll_fd = fd };
	if (fd < 0 || sys_fstat(fd, &st) < 0)
		return;
	if (S_ISSOCK(st.st_mode)) {
		end->socket = true;
		return;
	}
	end->regular = S_ISREG(st.st_mode);
	end->terminal = sys_isatty(fd);
	if (!end->terminal && !S_ISFIFO(st.st_mode))
		return;
	/* A pty master reopened is a new pty (/dev/ptmx): moved as it is. */
	if (end->terminal && is_pty_master(fd)) {
		end->poll_first = true;
		return;
	}
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	end->fd = sys_open(proc_path, how | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
			   how == O_RDONLY ? "O_RDONLY|O_NONBLOCK|O_NOCTTY|O_CLOEXEC"
					   : "O_WRONLY|O_NONBLOCK|O_NOCTTY|O_CLOEXEC");
	end->owned = end->fd >= 0;
	if (!end->owned)
		end->fd = fd;
	/* A terminal moves a line at a time, when poll() says so. */
	end->poll_first = end->terminal || !end->owned;
}

/* Closes what io_open_local() opened; the standard stream stays. */
void io_close_local(struct local_end *end)
{
	if (end->owned)
		sys_close(end->fd);
	end->owned = false;
}

/* read() that never blocks on a descriptor io_open_local() prepared. */
ssize_t io_local_read(const struct local_end *end, void *buf, size_t n)
{
	if (end->socket)
		return sys_recvfrom(end->fd, buf, n, MSG_DONTWAIT, NULL, NULL);
	return sys_read(end->fd, buf, n);
}

/*
 * write() that never blocks on a descriptor io_open_local() prepared.  One
 * that could not be made our own is written after poll() said POLLOUT, a
 * PIPE_BUF at most: that much a pipe then takes without blocking.
 */
ssize_t io_local_write(const struct local_end *end, const void *buf, size_t n)
{
	if (end->socket)
		return sys_sendto(end->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0);
	if (end->poll_first && !end->owned && n > PIPE_BUF)
		n = PIPE_BUF;
	return sys_write(end->fd, buf, n);
}

/*
 * Waits until fd is ready for events (POLLIN, POLLOUT) or the monotonic
 * deadline (clock_now_ms(); -1: none) passes: 1 ready, 0 at the deadline,
 * -1 with errno.  A signal does not cut the wait short.
 */
int io_wait_until(int fd, short events, long long deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		long long left = deadline_ms - clock_now_ms();
		r = sys_poll(&p, 1, deadline_ms < 0 ? -1 : left > 0 ? (int)left : 0);
	} while (r < 0 && errno == EINTR);
	return r;
}
