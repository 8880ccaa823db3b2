/*
 * parse.c: option values.  Every parser accepts the whole string or
 * nothing, and returns -1 on anything else, so a caller can say
 * "invalid value" with the text the user typed.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* strtoul accepts "-1" (as ULONG_MAX) and leading blanks; we do not. */
static int parse_digits(const char *s, char **end, unsigned long long *out)
{
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	*out = strtoull(s, end, 10);
	return errno ? -1 : 0;
}

/* A decimal number up to max; -1 for anything else. */
int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long long v;
	char *end;

	if (parse_digits(s, &end, &v) < 0 || *end || v > max)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

/* N with an optional binary suffix K, M or G; zero is not a size. */
int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (parse_digits(s, &end, &v) < 0)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	default: return -1;
	}
	if (*end || v == 0 || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One escape after a backslash; returns the input consumed, or -1. */
static int parse_one_escape(const char *s, char *byte)
{
	static const char from[] = "nrt\\0";
	static const char to[] = "\n\r\t\\\0";
	const char *hit = *s ? strchr(from, *s) : NULL;
	int hi, lo;

	if (hit) {
		*byte = to[hit - from];
		return 1;
	}
	if (*s != 'x')
		return -1;
	hi = hex_value(s[1]);
	lo = hi < 0 ? -1 : hex_value(s[2]);
	if (lo < 0)
		return -1;
	*byte = (char)(hi << 4 | lo);
	return 3;
}

/* Decodes \n \r \t \\ \0 \xHH into a new buffer, which may hold NULs. */
int parse_escapes(const char *s, char **out, size_t *len)
{
	char *buf = malloc(strlen(s) + 1);
	size_t n = 0;

	if (!buf)
		return -1;
	while (*s) {
		int used;

		if (*s != '\\') {
			buf[n++] = *s++;
			continue;
		}
		used = parse_one_escape(s + 1, &buf[n++]);
		if (used < 0) {
			free(buf);
			return -1;
		}
		s += 1 + used;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* A TCP or UDP port, 0 to 65535; zero only where allowed (a free port). */
int parse_port(const char *s, bool allow_zero, unsigned *out)
{
	unsigned long v;

	if (parse_uint(s, 65535, &v) < 0 || (v == 0 && !allow_zero))
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Seconds, fractions allowed ("0.5"), as whole milliseconds: above zero, a
 * day at most (SPEC's range; well inside an int of milliseconds). */
int parse_seconds(const char *s, int *ms)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v <= 0 || v > 86400.0)
		return -1;
	*ms = v * 1000 < 1 ? 1 : (int)(v * 1000);
	return 0;
}

/* ---- socket domains, types and protocols, by name or number ---------- */

/* A name users write, and the number it stands for. */
struct sp_name {
	const char *name;
	int value;
};

static const struct sp_name domains[] = {
	{ "unix", AF_UNIX }, { "local", AF_LOCAL }, { "inet", AF_INET },
	{ "inet6", AF_INET6 }, { "AF_UNIX", AF_UNIX }, { "AF_LOCAL", AF_LOCAL },
	{ "AF_INET", AF_INET }, { "AF_INET6", AF_INET6 }, { NULL, 0 }
};

static const struct sp_name types[] = {
	{ "stream", SOCK_STREAM }, { "dgram", SOCK_DGRAM },
	{ "seqpacket", SOCK_SEQPACKET }, { "raw", SOCK_RAW }, { "rdm", SOCK_RDM },
	{ "SOCK_STREAM", SOCK_STREAM }, { "SOCK_DGRAM", SOCK_DGRAM },
	{ "SOCK_SEQPACKET", SOCK_SEQPACKET }, { "SOCK_RAW", SOCK_RAW },
	{ "SOCK_RDM", SOCK_RDM }, { NULL, 0 }
};

/* For machines without /etc/protocols (no netbase): the usual few. */
static const struct sp_name protocols[] = {
	{ "ip", IPPROTO_IP }, { "icmp", IPPROTO_ICMP }, { "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP }, { "ipv6", IPPROTO_IPV6 },
	{ "ipv6-icmp", IPPROTO_ICMPV6 }, { "sctp", IPPROTO_SCTP },
	{ "udplite", IPPROTO_UDPLITE }, { "raw", IPPROTO_RAW }, { NULL, 0 }
};

static int lookup_name(const struct sp_name *table, const char *s, int *out)
{
	unsigned long number;

	for (; table->name; table++) {
		if (strcasecmp(table->name, s) == 0) {
			*out = table->value;
			return 0;
		}
	}
	if (parse_uint(s, INT32_MAX, &number) < 0)
		return -1;
	*out = (int)number;
	return 0;
}

/* The kernel's name (AF_UNIX, SOCK_STREAM: strace's words), else the number. */
static const char *name_of(const struct sp_name *table, int value,
			   char *buf, size_t size)
{
	for (; table->name; table++)
		if (table->value == value && table->name[0] <= 'Z')
			return table->name;
	snprintf(buf, size, "%d", value);
	return buf;
}

/* unix, AF_INET6, ... or a number; -1 for anything else. */
int parse_domain(const char *s, int *out)
{
	return lookup_name(domains, s, out);
}

/* stream, SOCK_DGRAM, ... or a number; -1 for anything else. */
int parse_type(const char *s, int *out)
{
	return lookup_name(types, s, out);
}

/* A getprotobyname() name, a known one, or a number; -1 otherwise. */
int parse_protocol(const char *s, int *out)
{
	const struct protoent *p = getprotobyname(s);

	if (p) {
		*out = p->p_proto;
		return 0;
	}
	return lookup_name(protocols, s, out);
}

/* AF_UNIX, ... or the number in buf; never fails. */
const char *parse_domain_name(int domain, char *buf, size_t size)
{
	return name_of(domains, domain, buf, size);
}

/* SOCK_STREAM, ... or the number in buf; never fails. */
const char *parse_type_name(int type, char *buf, size_t size)
{
	return name_of(types, type, buf, size);
}

/* socket()'s three arguments as strace shows them: "AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0". */
const char *parse_socket_triple(int domain, int type, int protocol, char *buf, size_t size)
{
	char d[16], t[64];
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	snprintf(t, sizeof(t), "%s%s%s", parse_type_name(base, d, sizeof(d)),
		 type & SOCK_NONBLOCK ? "|SOCK_NONBLOCK" : "",
		 type & SOCK_CLOEXEC ? "|SOCK_CLOEXEC" : "");
	/* peers' socket diagnostics: the one netlink protocol sockpair opens. */
	if (domain == AF_NETLINK && protocol == NETLINK_SOCK_DIAG)
		snprintf(buf, size, "AF_NETLINK, %s, NETLINK_SOCK_DIAG", t);
	else
		snprintf(buf, size, "%s, %s, %d", parse_domain_name(domain, d, sizeof(d)), t,
			 protocol);
	return buf;
}

/* How a child ended, from waitpid()'s status: "exited with status 1". */
void parse_wait_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "stopped with status 0x%x", status);
}
