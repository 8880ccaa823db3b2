/*
 * echo-epoll: the least a line server can do, the limit `make bench`
 * holds talkback against: one epoll loop, non-blocking accept, and each
 * read written straight back (a client sends one line at a time).  With
 * -o each read goes to stdout first, as SPEC asks of talkback (a line is
 * on stdout before its reply): what that costs, bare.
 *
 *   echo-epoll [-o]     prints "listening on 127.0.0.1:PORT" on stderr
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int to_stdout = argc > 1 && strcmp(argv[1], "-o") == 0;
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN }, evs[256];
	struct rlimit rl;
	socklen_t len = sizeof(in);
	static char buf[65536];
	int one = 1;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&in, sizeof(in)) < 0 || listen(l, SOMAXCONN) < 0)
		return perror("echo-epoll"), 1;
	getsockname(l, (struct sockaddr *)&in, &len);
	fprintf(stderr, "listening on 127.0.0.1:%u\n", ntohs(in.sin_port));
	int ep = epoll_create1(0);
	ev.data.fd = l;
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == l) {
				int c;
				while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r > 0 && to_stdout && write(STDOUT_FILENO, buf, (size_t)r) != r)
				return perror("echo-epoll: stdout"), 1;
			if (r <= 0 || write(fd, buf, (size_t)r) != r)
				close(fd);
		}
	}
}
