/*
 * faults.so: LD_PRELOAD'ed by tests to break what the kernel never breaks,
 * so that the checks sockpair makes can be seen to work.
 *
 *   SP_FAULT_FLIP_AT=N      recvfrom() returns stream byte N with its bits flipped
 *   SP_FAULT_WRITER_EXIT_AT=N  a write() that would pass byte N ends the
 *                           process instead (a writer that dies mid-stream)
 *   SP_FAULT_REPEAT_AT=N    the write() that holds byte N sends its bytes
 *                           twice, and says once
 *   SP_FAULT_DROP_AT=N      the write() that holds byte N sends nothing, and
 *                           says it sent all
 *   SP_FAULT_SPLICE_OUT_EINVAL=FD  splice() into FD fails with EINVAL, as a
 *                           sink that cannot splice would
 *   SP_FAULT_SPLICE_IN_EINVAL_AFTER=N  splice() from anything but a pipe
 *                           fails with EINVAL once N bytes came that way
 *                           (gVisor at a file's end)
 *   SP_FAULT_SENDFILE_EINVAL_AFTER=N  sendfile() fails with EINVAL once N
 *                           bytes went that way (a file it cannot read)
 *   SP_FAULT_HOLD_REMOVAL=DIR  the first unlink() or unlinkat() writes a byte
 *                           to the fifo DIR/reached, then waits for one from
 *                           the fifo DIR/go: the test acts in between, at the
 *                           very moment sockpair has decided to remove a file
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static long long env_offset(const char *name)
{
	const char *v = getenv(name);

	return v ? atoll(v) : -1;
}

/* Whether the n bytes from stream offset `from` on hold byte `at`. */
static int holds(long long from, size_t n, long long at)
{
	return at >= from && at < from + (long long)n;
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
		 socklen_t *from_len)
{
	static ssize_t (*real)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	static long long seen;
	long long at = env_offset("SP_FAULT_FLIP_AT");
	ssize_t r;

	if (!real)
		real = (ssize_t (*)(int, void *, size_t, int, struct sockaddr *, socklen_t *))
			dlsym(RTLD_NEXT, "recvfrom");
	r = real(fd, buf, n, flags, from, from_len);
	if (r > 0 && holds(seen, (size_t)r, at))
		((unsigned char *)buf)[at - seen] ^= 0xff;
	if (r > 0)
		seen += r;
	return r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	static long long written;
	long long at = env_offset("SP_FAULT_WRITER_EXIT_AT");
	long long repeat = env_offset("SP_FAULT_REPEAT_AT");
	long long drop = env_offset("SP_FAULT_DROP_AT");
	ssize_t r;

	if (!real)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (fd <= 2)
		return real(fd, buf, n);
	if (at >= 0 && written + (long long)n > at)
		_exit(3);
	if (holds(written, n, drop))
		r = (ssize_t)n;
	else
		r = real(fd, buf, n);
	if (r > 0 && holds(written, (size_t)r, repeat) && real(fd, buf, (size_t)r) != r)
		_exit(4);
	if (r > 0)
		written += r;
	return r;
}

ssize_t splice(int in, loff_t *in_off, int out, loff_t *out_off, size_t n, unsigned flags)
{
	static ssize_t (*real)(int, loff_t *, int, loff_t *, size_t, unsigned);
	static long long from_stdin;
	long long sink = env_offset("SP_FAULT_SPLICE_OUT_EINVAL");
	long long after = env_offset("SP_FAULT_SPLICE_IN_EINVAL_AFTER");
	ssize_t r;

	if (!real)
		real = (ssize_t (*)(int, loff_t *, int, loff_t *, size_t, unsigned))
			dlsym(RTLD_NEXT, "splice");
	struct stat st;
	int source = fstat(in, &st) == 0 && !S_ISFIFO(st.st_mode);

	if ((sink >= 0 && out == sink) || (after >= 0 && source && from_stdin >= after)) {
		errno = EINVAL;
		return -1;
	}
	r = real(in, in_off, out, out_off, n, flags);
	if (r > 0 && source)
		from_stdin += r;
	return r;
}

ssize_t sendfile(int out, int in, off_t *offset, size_t n)
{
	static ssize_t (*real)(int, int, off_t *, size_t);
	static long long sent;
	long long after = env_offset("SP_FAULT_SENDFILE_EINVAL_AFTER");
	ssize_t r;

	if (!real)
		real = (ssize_t (*)(int, int, off_t *, size_t))dlsym(RTLD_NEXT, "sendfile");
	if (after >= 0 && sent >= after) {
		errno = EINVAL;
		return -1;
	}
	r = real(out, in, offset, n);
	if (r > 0)
		sent += r;
	return r;
}

static void hold_before_removal(void)
{
	static int held;
	const char *dir = getenv("SP_FAULT_HOLD_REMOVAL");
	char path[4096], byte = 'x';
	int fd;

	if (!dir || held++)
		return;
	snprintf(path, sizeof(path), "%s/reached", dir);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		(void)!write(fd, &byte, 1);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/go", dir);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		(void)!read(fd, &byte, 1);
		close(fd);
	}
}

int unlink(const char *path)
{
	static int (*real)(const char *);

	if (!real)
		real = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
	hold_before_removal();
	return real(path);
}

int unlinkat(int dirfd, const char *path, int flags)
{
	static int (*real)(int, const char *, int);

	if (!real)
		real = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");
	hold_before_removal();
	return real(dirfd, path, flags);
}
