/*
 * raw-pair: the throughput limit of an AF_UNIX stream socketpair on this
 * machine, for `make bench` to compare `sockpair pair --size` against.
 * No tracing: a writer child and a reading parent, which with "check"
 * compares what it reads with memcmp() (all bytes are 'x').  Buffers are
 * page-aligned: malloc() puts 1 MiB 16 bytes past a page, where the
 * kernel's copies run some 5 % slower on this machine, and a reference
 * should be the best a bare writer and reader do.
 *
 *   raw-pair BYTES [CHUNK [SNDBUF [check]]]     prints "BYTES SECONDS"
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long long size = argc > 1 ? strtoull(argv[1], NULL, 0) : 1ULL << 30;
	size_t chunk = argc > 2 ? strtoul(argv[2], NULL, 0) : 256 * 1024;
	int sndbuf = argc > 3 ? atoi(argv[3]) : 0;
	int check = argc > 4 && strcmp(argv[4], "check") == 0;
	size_t room = (chunk + 4095) / 4096 * 4096;
	char *buf = aligned_alloc(4096, room), *want = aligned_alloc(4096, room);
	struct timespec t0, t1;
	int fds[2];

	if (!buf || !want || socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
		return perror("raw-pair"), 1;
	if (sndbuf > 0)
		setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	memset(buf, 'x', chunk);
	memset(want, 'x', chunk);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[1]);
		for (unsigned long long sent = 0; sent < size;) {
			size_t n = size - sent < chunk ? size - sent : chunk;
			ssize_t w = write(fds[0], buf, n);
			if (w <= 0)
				_exit(1);
			sent += (size_t)w;
		}
		_exit(0);
	}
	close(fds[0]);
	unsigned long long got = 0;
	for (ssize_t r; got < size && (r = read(fds[1], buf, chunk)) > 0;) {
		if (check && memcmp(buf, want, (size_t)r) != 0)
			return fputs("raw-pair: corrupt data\n", stderr), 1;
		got += (size_t)r;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waitpid(pid, NULL, 0);
	printf("%llu %.6f\n", got, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return got == size ? 0 : 1;
}
