/*
 * addr.c: socket addresses as users write them and read them:
 * 127.0.0.1:80, [::1]:80, /path, @abstract.  Pure: no system calls.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

static const char *format_unix(const struct sockaddr_un *sun, socklen_t len,
			       char *buf, size_t size)
{
	size_t path_len = len - offsetof(struct sockaddr_un, sun_path);

	/* A peer chose this name: it is shown escaped, never raw. */
	if (len <= offsetof(struct sockaddr_un, sun_path))
		snprintf(buf, size, "(unnamed)");
	else if (sun->sun_path[0] == '\0' && size > 1) {
		buf[0] = '@';
		text_escape(sun->sun_path + 1, path_len - 1, buf + 1, size - 1);
	} else
		text_escape(sun->sun_path, strnlen(sun->sun_path, path_len), buf, size);
	return buf;
}

/* 127.0.0.1:80, [::1]:80, /path, @abstract; never fails.  Returns buf. */
const char *addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
		break;
	}
	case AF_UNIX:
		return format_unix((const void *)sa, len, buf, size);
	default:
		snprintf(buf, size, "(family %d)", sa->sa_family);
	}
	return buf;
}

/* "[::1]" is how users write IPv6 literals; getaddrinfo wants "::1".
 * Returns host itself when it has no brackets (or they do not fit buf). */
const char *addr_strip_brackets(const char *host, char *buf, size_t size)
{
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < size) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		return buf;
	}
	return host;
}

/*
 * Splits "host", "host:port", "[v6]", "[v6]:port" or a bare v6 address
 * (several colons, no brackets: all host, no port), as users write them
 * to connect, http-head and proxy.  The host is given without brackets.
 * Returns 0, or an ADDR_SPLIT_ reason; nothing is checked but the shape.
 */
int addr_split_host_port(const char *s, size_t n, struct host_port *hp)
{
	const char *colon;

	*hp = (struct host_port){ .host = s, .host_len = n };
	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return ADDR_SPLIT_NO_BRACKET;
		hp->host = s + 1;
		hp->host_len = (size_t)(close - hp->host);
		hp->bracketed = true;
		if (close + 1 == s + n)
			return 0;
		if (close[1] != ':')
			return ADDR_SPLIT_AFTER_BRACKET;
		colon = close + 1;
	} else {
		colon = memchr(s, ':', n);
		if (!colon)
			return 0;
		if (memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) {
			hp->bare_ipv6 = true;
			return 0;
		}
		hp->host_len = (size_t)(colon - s);
	}
	hp->port = colon + 1;
	hp->port_len = (size_t)(s + n - hp->port);
	return 0;
}

/* Fills *sun for a path, or for "@name" in Linux's abstract namespace;
 * -1 for an empty path or one longer than sun_path holds. */
int addr_unix(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(sun->sun_path))
		return -1;
	memcpy(sun->sun_path, path, n);
	if (path[0] == '@')
		sun->sun_path[0] = '\0';	/* the name is what follows the NUL */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
			   (path[0] == '@' ? 0 : 1));
	return 0;
}
