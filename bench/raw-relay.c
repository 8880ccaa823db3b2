/*
 * raw-relay: the simplest correct relay, the limit `make bench` compares
 * sockpair listen/connect against: blocking read() and write() of one
 * buffer, no poll, no second direction.
 *
 *   raw-relay recv ADDRESS    bind, print the port, accept one, socket -> stdout
 *   raw-relay send ADDRESS    connect, stdin -> socket
 *
 * ADDRESS is 127.0.0.1:PORT (PORT 0 to bind a free one) or a UNIX path.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { BUFFER = 256 * 1024 };

static socklen_t address(const char *spec, struct sockaddr_storage *ss)
{
	const char *colon = strrchr(spec, ':');

	memset(ss, 0, sizeof(*ss));
	if (spec[0] == '/') {
		struct sockaddr_un *sun = (void *)ss;
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", spec);
		return sizeof(*sun);
	}
	struct sockaddr_in *in = (void *)ss;
	in->sin_family = AF_INET;
	in->sin_port = htons((unsigned short)atoi(colon + 1));
	inet_pton(AF_INET, "127.0.0.1", &in->sin_addr);
	return sizeof(*in);
}

static int copy(int from, int to, char *buf)
{
	ssize_t n;

	while ((n = read(from, buf, BUFFER)) > 0)
		for (ssize_t off = 0, w; off < n; off += w)
			if ((w = write(to, buf + off, (size_t)(n - off))) <= 0)
				return 1;
	return n < 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	char *buf = malloc(BUFFER);
	socklen_t len;
	int fd, one = 1;

	if (argc != 3 || !buf)
		return fprintf(stderr, "usage: raw-relay recv|send ADDRESS\n"), 2;
	len = address(argv[2], &ss);
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (strcmp(argv[1], "send") == 0) {
		if (connect(fd, (struct sockaddr *)&ss, len) < 0)
			return perror("connect"), 1;
		return copy(0, fd, buf);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0)
		return perror("bind"), 1;
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	fprintf(stderr, "listening on %s\n", ss.ss_family == AF_UNIX ? argv[2] :
		(snprintf(buf, 64, "127.0.0.1:%u", ntohs(((struct sockaddr_in *)&ss)->sin_port)), buf));
	int c = accept(fd, NULL, NULL);
	return c < 0 ? 1 : copy(c, 1, buf);
}
