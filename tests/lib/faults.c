/*
 * faults.so: LD_PRELOAD'ed by tests to break what the kernel never breaks,
 * so that the checks sockpair makes can be seen to work.
 *
 *   SP_FAULT_FLIP_AT=N      recv() returns stream byte N with its bits flipped
 *   SP_FAULT_WRITER_EXIT_AT=N  a write() that would pass byte N ends the
 *                           process instead (a writer that dies mid-stream)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static long long env_offset(const char *name)
{
	const char *v = getenv(name);

	return v ? atoll(v) : -1;
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	static ssize_t (*real)(int, void *, size_t, int);
	static long long seen;
	long long at = env_offset("SP_FAULT_FLIP_AT");
	ssize_t r;

	if (!real)
		real = (ssize_t (*)(int, void *, size_t, int))dlsym(RTLD_NEXT, "recv");
	r = real(fd, buf, n, flags);
	if (r > 0 && at >= seen && at < seen + r)
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
	ssize_t r;

	if (!real)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (at >= 0 && fd > 2 && written + (long long)n > at)
		_exit(3);
	r = real(fd, buf, n);
	if (r > 0 && fd > 2)
		written += r;
	return r;
}
