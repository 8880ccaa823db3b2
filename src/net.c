/*
 * net.c: sockets and addresses.  Functions here never print and never
 * exit: they trace the calls they make and, on failure, fill the caller's
 * sp_error with the call that failed and why.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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

/* The names the user would write; the SOCK_ and AF_ forms come second. */
static const char *name_of(const struct sp_name *table, int value,
			   char *buf, size_t size)
{
	for (; table->name; table++)
		if (table->value == value && table->name[0] <= 'Z')
			return table->name;
	snprintf(buf, size, "%d", value);
	return buf;
}

int net_parse_domain(const char *s, int *out)
{
	return lookup_name(domains, s, out);
}

int net_parse_type(const char *s, int *out)
{
	return lookup_name(types, s, out);
}

int net_parse_protocol(const char *s, int *out)
{
	const struct protoent *p = getprotobyname(s);

	if (p) {
		*out = p->p_proto;
		return 0;
	}
	return lookup_name(protocols, s, out);
}

const char *net_domain_name(int domain, char *buf, size_t size)
{
	return name_of(domains, domain, buf, size);
}

const char *net_type_name(int type, char *buf, size_t size)
{
	return name_of(types, type, buf, size);
}

static const char *format_unix(const struct sockaddr_un *sun, socklen_t len,
			       char *buf, size_t size)
{
	size_t path_len = len - offsetof(struct sockaddr_un, sun_path);

	/* A peer chose this name: it is shown escaped, never raw. */
	if (len <= offsetof(struct sockaddr_un, sun_path))
		snprintf(buf, size, "(unnamed)");
	else if (sun->sun_path[0] == '\0' && size > 1) {
		buf[0] = '@';
		report_escape(sun->sun_path + 1, path_len - 1, buf + 1, size - 1);
	} else
		report_escape(sun->sun_path, strnlen(sun->sun_path, path_len), buf, size);
	return buf;
}

/* 127.0.0.1:80, [::1]:80, /path, @abstract; never fails. */
const char *net_format_addr(const struct sockaddr *sa, socklen_t len,
			    char *buf, size_t size)
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

static const char *triple(int domain, int type, int protocol, char *buf, size_t size)
{
	char d[16], t[16];

	snprintf(buf, size, "%s, %s, %d", net_domain_name(domain, d, sizeof(d)),
		 net_type_name(type, t, sizeof(t)), protocol);
	return buf;
}

int net_socketpair(int domain, int type, int protocol, int fds[2],
		   struct sp_error *e)
{
	char args[64], result[32];

	triple(domain, type, protocol, args, sizeof(args));
	if (socketpair(domain, type, protocol, fds) < 0) {
		trace_ret(-1, "socketpair(%s)", args);
		return fail_errno(e, SP_FAILURE, errno, "socketpair(%s)", args);
	}
	snprintf(result, sizeof(result), "[%d, %d]", fds[0], fds[1]);
	trace_call(result, "socketpair(%s)", args);
	return 0;
}

static int traced_socket(int domain, int type, int protocol, struct sp_error *e)
{
	char args[64];
	int fd;

	triple(domain, type, protocol, args, sizeof(args));
	fd = socket(domain, type, protocol);
	trace_ret(fd, "socket(%s)", args);
	if (fd < 0)
		return fail_errno(e, SP_FAILURE, errno, "socket(%s)", args);
	return fd;
}

/* Which exit status a failed bind or connect deserves, by SPEC's table. */
static int connect_status(int err)
{
	switch (err) {
	case ETIMEDOUT:
		return SP_TIMEOUT;
	case ECONNREFUSED: case ENETUNREACH: case EHOSTUNREACH:
	case EADDRINUSE: case EADDRNOTAVAIL: case EACCES: case EPERM:
	case ECONNRESET: case ENOENT:
		return SP_CONNECT;
	default:
		return SP_FAILURE;
	}
}

static int traced_addr_call(int (*call)(int, const struct sockaddr *, socklen_t),
			    const char *name, int fd, const struct sockaddr *sa,
			    socklen_t len, struct sp_error *e)
{
	char addr[128];
	int r;

	net_format_addr(sa, len, addr, sizeof(addr));
	r = call(fd, sa, len);
	trace_ret(r, "%s(%d, %s)", name, fd, addr);
	if (r < 0)
		return fail_errno(e, connect_status(errno), errno, "%s(%s)", name, addr);
	return 0;
}

static int traced_getsockname(int fd, struct sockaddr_storage *ss, socklen_t *len,
			      struct sp_error *e)
{
	char addr[128];
	int r;

	*len = sizeof(*ss);
	r = getsockname(fd, (struct sockaddr *)ss, len);
	trace_call(r < 0 ? "-1" : net_format_addr((struct sockaddr *)ss, *len,
						  addr, sizeof(addr)),
		   "getsockname(%d)", fd);
	if (r < 0)
		return fail_errno(e, SP_FAILURE, errno, "getsockname(%d)", fd);
	return 0;
}

static socklen_t loopback_any_port(int domain, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (domain == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		return sizeof(*in6);
	}
	struct sockaddr_in *in = (void *)ss;
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*in);
}

/* A socket of the triple bound to a free loopback port; its address in *ss. */
static int bound_loopback_socket(int domain, int type, int protocol,
				 struct sockaddr_storage *ss, socklen_t *len,
				 struct sp_error *e)
{
	int fd = traced_socket(domain, type, protocol, e);

	if (fd < 0)
		return -1;
	*len = loopback_any_port(domain, ss);
	if (traced_addr_call(bind, "bind", fd, (struct sockaddr *)ss, *len, e) < 0 ||
	    traced_getsockname(fd, ss, len, e) < 0) {
		net_close(fd);
		return -1;
	}
	return fd;
}

static int connected_stream_pair(int domain, int type, int protocol, int fds[2],
				 struct sp_error *e)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int listener, client = -1, server = -1;

	listener = bound_loopback_socket(domain, type, protocol, &ss, &len, e);
	if (listener < 0)
		return -1;
	if (listen(listener, 1) < 0) {
		trace_ret(-1, "listen(%d, 1)", listener);
		fail_errno(e, SP_FAILURE, errno, "listen(%d, 1)", listener);
		goto fail;
	}
	trace_ret(0, "listen(%d, 1)", listener);
	client = traced_socket(domain, type, protocol, e);
	if (client < 0 ||
	    traced_addr_call(connect, "connect", client, (struct sockaddr *)&ss, len, e) < 0)
		goto fail;
	server = accept(listener, NULL, NULL);
	trace_ret(server, "accept(%d)", listener);
	if (server < 0) {
		fail_errno(e, SP_FAILURE, errno, "accept(%d)", listener);
		goto fail;
	}
	net_close(listener);
	fds[0] = client;
	fds[1] = server;
	return 0;
fail:
	if (client >= 0)
		net_close(client);
	net_close(listener);
	return -1;
}

static int connected_dgram_pair(int domain, int type, int protocol, int fds[2],
				struct sp_error *e)
{
	struct sockaddr_storage a, b;
	socklen_t alen, blen;
	int fa, fb;

	fa = bound_loopback_socket(domain, type, protocol, &a, &alen, e);
	if (fa < 0)
		return -1;
	fb = bound_loopback_socket(domain, type, protocol, &b, &blen, e);
	if (fb < 0 ||
	    traced_addr_call(connect, "connect", fa, (struct sockaddr *)&b, blen, e) < 0 ||
	    traced_addr_call(connect, "connect", fb, (struct sockaddr *)&a, alen, e) < 0) {
		if (fb >= 0)
			net_close(fb);
		net_close(fa);
		return -1;
	}
	fds[0] = fa;
	fds[1] = fb;
	return 0;
}

/*
 * What socket_create_pair() needs on Windows and Linux refuses: a connected
 * pair of inet or inet6 sockets, made the long way over loopback.
 */
int net_loopback_pair(int domain, int type, int protocol, int fds[2],
		      struct sp_error *e)
{
	if (type == SOCK_DGRAM)
		return connected_dgram_pair(domain, type, protocol, fds, e);
	return connected_stream_pair(domain, type, protocol, fds, e);
}

/* Returns -1 with errno set; the caller decides whether that is an error. */
int net_getsockopt_int(int fd, int level, int name, const char *name_text,
		       int *value)
{
	socklen_t len = sizeof(*value);
	int r = getsockopt(fd, level, name, value, &len);

	if (r == 0)
		trace_call("0", "getsockopt(%d, SOL_SOCKET, %s, [%d])", fd, name_text, *value);
	else
		trace_ret(r, "getsockopt(%d, SOL_SOCKET, %s)", fd, name_text);
	return r;
}

/* Returns -1 with errno set, as getsockopt(SO_PEERCRED) does. */
int net_peer_credentials(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);
	int r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len);

	if (r == 0)
		trace_call("0", "getsockopt(%d, SOL_SOCKET, SO_PEERCRED, {pid=%d, uid=%u, gid=%u})",
			   fd, (int)cred->pid, (unsigned)cred->uid, (unsigned)cred->gid);
	else
		trace_ret(r, "getsockopt(%d, SOL_SOCKET, SO_PEERCRED)", fd);
	return r;
}

/* The local (getsockname) or peer (getpeername) name, formatted; -1 on error. */
int net_name_of(int fd, bool peer, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		     : getsockname(fd, (struct sockaddr *)&ss, &len);

	if (r == 0)
		net_format_addr((struct sockaddr *)&ss, len, buf, size);
	trace_call(r == 0 ? buf : "-1", "%s(%d)", peer ? "getpeername" : "getsockname", fd);
	return r;
}

int net_shutdown(int fd, int how)
{
	int r = shutdown(fd, how);

	trace_ret(r, "shutdown(%d, %s)", fd,
		  how == SHUT_WR ? "SHUT_WR" : how == SHUT_RD ? "SHUT_RD" : "SHUT_RDWR");
	return r;
}

int net_close(int fd)
{
	int r = close(fd);

	trace_ret(r, "close(%d)", fd);
	return r;
}

/* ---- addresses --------------------------------------------------------- */

/* "[::1]" is how users write IPv6 literals; getaddrinfo wants "::1". */
const char *net_strip_brackets(const char *host, char *buf, size_t size)
{
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < size) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		return buf;
	}
	return host;
}

static void format_addrinfo_list(const struct addrinfo *ai, char *buf, size_t size)
{
	size_t used = 0;
	char one[128];

	buf[0] = '\0';
	for (; ai && used + 4 < size; ai = ai->ai_next) {
		net_format_addr(ai->ai_addr, ai->ai_addrlen, one, sizeof(one));
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 used ? ", " : "", one);
	}
}

static const char *family_name(int family)
{
	return family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" : "AF_UNSPEC";
}

/*
 * Every address of host:port, of the family (AF_UNSPEC for any) and type.
 * passive: a server's, where a NULL host means the wildcard.  Returns 0,
 * or -1 and *e with gai_strerror()'s reason and exit status 3.
 */
int net_resolve(const char *host, const char *port, int family, int type,
		bool passive, struct addrinfo **res, struct sp_error *e)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = type,
				  .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) };
	char list[512];
	int r = getaddrinfo(host, port, &hints, res);

	if (r != 0) {
		const char *why = r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r);
		trace_call(why, "getaddrinfo(\"%s\", \"%s\", %s)", host ? host : "", port,
			   family_name(family));
		return fail(e, SP_RESOLVE, "getaddrinfo(%s, %s): %s", host ? host : "*",
			    port, why);
	}
	format_addrinfo_list(*res, list, sizeof(list));
	trace_call(list, "getaddrinfo(\"%s\", \"%s\", %s)", host ? host : "", port,
		   family_name(family));
	return 0;
}

/* Fills *sun for a path, or for "@name" in Linux's abstract namespace. */
int net_unix_address(const char *path, struct sockaddr_un *sun, socklen_t *len)
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

static int traced_listen(int fd, int backlog, const char *name, struct sp_error *e)
{
	int r = listen(fd, backlog);

	trace_ret(r, "listen(%d, %d)", fd, backlog);
	if (r < 0)
		return fail_errno(e, SP_CONNECT, errno, "listen(%s)", name);
	return 0;
}

static void reuse_address(int fd)
{
	int on = 1;
	int r = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));

	trace_ret(r, "setsockopt(%d, SOL_SOCKET, SO_REUSEADDR, [1])", fd);
}

/* One address: socket, SO_REUSEADDR, bind and (for a stream) listen. */
static int listen_on(const struct addrinfo *ai, int backlog, struct sp_error *e)
{
	char name[128];
	int fd = traced_socket(ai->ai_family, ai->ai_socktype, 0, e);

	if (fd < 0)
		return -1;
	net_format_addr(ai->ai_addr, ai->ai_addrlen, name, sizeof(name));
	reuse_address(fd);
	if (traced_addr_call(bind, "bind", fd, ai->ai_addr, ai->ai_addrlen, e) < 0 ||
	    (ai->ai_socktype == SOCK_STREAM && traced_listen(fd, backlog, name, e) < 0)) {
		net_close(fd);
		return -1;
	}
	return fd;
}

/*
 * A listening (or, for UDP, bound) socket on host:port: the first address
 * the name resolves to that takes it.  A NULL host is the family's
 * loopback, as SPEC's servers default; "[::1]" is accepted.
 */
int net_listen_host(const char *host, const char *port, int family, int type,
		    int backlog, struct sp_error *e)
{
	struct addrinfo *ai, *a;
	char bare[64];
	int fd = -1;

	if (!host)
		host = family == AF_INET6 ? "::1" : "127.0.0.1";
	if (net_resolve(net_strip_brackets(host, bare, sizeof(bare)), port, family, type,
			true, &ai, e) < 0)
		return -1;
	for (a = ai; a && fd < 0; a = a->ai_next)
		fd = listen_on(a, backlog, e);
	freeaddrinfo(ai);
	return fd;
}

/*
 * bind() and connect() take no directory descriptor, so for a name inside
 * an opened directory the process steps into it for the one call: the
 * name then resolves there, whatever has been renamed or swapped for a
 * symlink along the path since the directory was opened.
 */
static int unix_call_at(int dirfd, const char *call_name,
			int (*call)(int, const struct sockaddr *, socklen_t),
			int fd, const char *base, const char *shown, struct sp_error *e)
{
	struct sockaddr_un sun;
	socklen_t len;
	int cwd, r, err;

	if (net_unix_address(base, &sun, &len) < 0)
		return fail(e, SP_USAGE, "%s(%s): path too long or empty", call_name, shown);
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0)
		return fail_errno(e, SP_FAILURE, errno, "open(\".\")");
	if (fchdir(dirfd) < 0) {
		err = errno;
		close(cwd);
		return fail_errno(e, SP_FAILURE, err, "fchdir(%s)", shown);
	}
	r = call(fd, (struct sockaddr *)&sun, len);
	err = errno;
	trace_ret(r, "%s(%d, %s)", call_name, fd, shown);
	if (fchdir(cwd) < 0) {
		err = errno;
		r = -1;
		call_name = "fchdir";
	}
	close(cwd);
	if (r < 0)
		return fail_errno(e, connect_status(err), err, "%s(%s)", call_name, shown);
	return 0;
}

/* The socket file's identity, not following a symlink; -1 when absent. */
static int unix_file_id(const struct unix_listener *ul, struct stat *st)
{
	return fstatat(ul->dirfd, ul->base, st, AT_SYMLINK_NOFOLLOW);
}

/*
 * Whether a socket is bound to the file, asked as SPEC says: by
 * connecting.  Only ECONNREFUSED means that nothing is; anything else
 * means it is live.  The probe is a datagram socket: the kernel finds the
 * bound socket first and then refuses a stream listener with EPROTOTYPE,
 * so a listener never sees the probe as a client (a connection would be
 * the one client of a listener like ours).  A datagram socket is not
 * disturbed by a connect() either.
 */
static bool unix_socket_is_dead(const struct unix_listener *ul)
{
	struct sp_error ignored = { .err = 0 };
	int fd = traced_socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, &ignored);
	bool dead;

	if (fd < 0)
		return false;	/* cannot tell: leave the file alone */
	dead = unix_call_at(ul->dirfd, "connect", connect, fd, ul->base, ul->path,
			    &ignored) < 0 && ignored.err == ECONNREFUSED;
	net_close(fd);
	return dead;
}

/*
 * Removes the socket file at ul->base if nothing accepts on it, and only
 * if it is still the very file found dead (same device and inode, in the
 * same opened directory): a file swapped in meanwhile is left alone.
 */
static bool remove_stale_socket(const struct unix_listener *ul)
{
	struct stat before, now;
	int r;

	if (unix_file_id(ul, &before) < 0 || !S_ISSOCK(before.st_mode) ||
	    !unix_socket_is_dead(ul))
		return false;
	if (unix_file_id(ul, &now) < 0 || now.st_dev != before.st_dev ||
	    now.st_ino != before.st_ino)
		return false;
	r = unlinkat(ul->dirfd, ul->base, 0);
	trace_ret(r, "unlinkat(%d, \"%s\", 0)", ul->dirfd, ul->base);
	return r == 0;
}

/*
 * Splits ul->path into the directory, opened once (following symlinks, as
 * the user spelled it), and the last component, which is never followed.
 */
static int unix_open_directory(struct unix_listener *ul, struct sp_error *e)
{
	const char *slash = strrchr(ul->path, '/');
	char dir[sizeof(ul->path)];

	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
		snprintf(ul->base, sizeof(ul->base), "%s", ul->path);
	} else {
		snprintf(dir, sizeof(dir), "%.*s", slash == ul->path ? 1 : (int)(slash - ul->path),
			 ul->path);
		snprintf(ul->base, sizeof(ul->base), "%s", slash + 1);
	}
	if (!ul->base[0])
		return fail(e, SP_USAGE, "bind(%s): names a directory, not a socket", ul->path);
	ul->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	trace_ret(ul->dirfd, "open(\"%s\", O_PATH|O_DIRECTORY|O_CLOEXEC)", dir);
	if (ul->dirfd < 0)
		return fail_errno(e, connect_status(errno), errno, "open(%s)", dir);
	return 0;
}

static int bind_unix_file(struct unix_listener *ul, int fd, struct sp_error *e)
{
	struct stat st;

	if (unix_open_directory(ul, e) < 0)
		return -1;
	if (unix_call_at(ul->dirfd, "bind", bind, fd, ul->base, ul->path, e) < 0 &&
	    (e->err != EADDRINUSE || !remove_stale_socket(ul) ||
	     unix_call_at(ul->dirfd, "bind", bind, fd, ul->base, ul->path, e) < 0))
		return -1;
	if (unix_file_id(ul, &st) == 0) {
		ul->created = true;
		ul->dev = st.st_dev;
		ul->ino = st.st_ino;
	}
	return 0;
}

/*
 * Binds a UNIX socket at ul->path ("@name": abstract).  A socket file
 * left behind by a dead listener is replaced; a live socket, or a file
 * that is not a socket, is left untouched and is an error (EADDRINUSE,
 * exit status 4).
 */
int net_listen_unix(struct unix_listener *ul, int type, int backlog, struct sp_error *e)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, r;

	ul->dirfd = -1;
	ul->created = false;
	if (net_unix_address(ul->path, &sun, &len) < 0)
		return fail(e, SP_USAGE, "bind(%s): path too long or empty", ul->path);
	fd = traced_socket(AF_UNIX, type, 0, e);
	if (fd < 0)
		return -1;
	if (ul->path[0] == '@')
		r = traced_addr_call(bind, "bind", fd, (struct sockaddr *)&sun, len, e);
	else
		r = bind_unix_file(ul, fd, e);
	if (r < 0 || (type != SOCK_DGRAM && traced_listen(fd, backlog, ul->path, e) < 0)) {
		net_close(fd);
		net_unix_cleanup(ul);
		return -1;
	}
	return fd;
}

/* Removes the socket file, if it is still the one we created. */
void net_unix_cleanup(struct unix_listener *ul)
{
	struct stat st;

	if (ul->created && unix_file_id(ul, &st) == 0 && st.st_dev == ul->dev &&
	    st.st_ino == ul->ino)
		trace_ret(unlinkat(ul->dirfd, ul->base, 0), "unlinkat(%d, \"%s\", 0)",
			  ul->dirfd, ul->base);
	ul->created = false;
	if (ul->dirfd >= 0)
		close(ul->dirfd);
	ul->dirfd = -1;
}

/* Accepts one client; its address, formatted, goes into peer. */
int net_accept(int lfd, char *peer, size_t size, struct sp_error *e)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	do {
		len = sizeof(ss);
		fd = accept(lfd, (struct sockaddr *)&ss, &len);
	} while (fd < 0 && errno == EINTR && !io_stopped_by());
	if (fd < 0) {
		trace_ret(-1, "accept(%d)", lfd);
		return fail_errno(e, SP_FAILURE, errno, "accept(%d)", lfd);
	}
	net_format_addr((struct sockaddr *)&ss, len, peer, size);
	trace_ret(fd, "accept(%d, %s)", lfd, peer);
	return fd;
}

static int set_blocking(int fd, bool blocking)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	flags = blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
	return fcntl(fd, F_SETFL, flags);
}

/*
 * connect() bounded by a timeout: non-blocking, so that connect returns
 * EINPROGRESS at once; poll() waits for writability, and SO_ERROR then
 * says how the attempt ended, since poll only says that it did.
 */
static int connect_within(int fd, const struct sockaddr *sa, socklen_t len,
			  int timeout_ms, const char *name, struct sp_error *e)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0, r;
	socklen_t elen = sizeof(err);

	set_blocking(fd, false);
	r = connect(fd, sa, len);
	trace_ret(r, "connect(%d, %s)", fd, name);
	if (r < 0 && errno != EINPROGRESS)
		return fail_errno(e, connect_status(errno), errno, "connect(%s)", name);
	if (r < 0) {
		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR && !io_stopped_by());
		trace_ret(r, "poll([{fd=%d, POLLOUT}], 1, %d)", fd, timeout_ms);
		if (r == 0)
			return fail_errno(e, SP_TIMEOUT, ETIMEDOUT, "connect(%s)", name);
		if (r < 0)
			return fail_errno(e, SP_FAILURE, errno, "poll(%s)", name);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		trace_call(err ? strerrorname_np(err) : "0",
			   "getsockopt(%d, SOL_SOCKET, SO_ERROR)", fd);
		if (err)
			return fail_errno(e, connect_status(err), err, "connect(%s)", name);
	}
	set_blocking(fd, true);
	return 0;
}

/* Without a timeout, connect() blocks as the manual's example does. */
static int connect_one(const struct sockaddr *sa, socklen_t len, int type,
		       int timeout_ms, struct sp_error *e)
{
	char name[128];
	int fd = traced_socket(sa->sa_family, type, 0, e);
	int r;

	if (fd < 0)
		return -1;
	net_format_addr(sa, len, name, sizeof(name));
	if (timeout_ms >= 0)
		r = connect_within(fd, sa, len, timeout_ms, name, e);
	else
		r = traced_addr_call(connect, "connect", fd, sa, len, e);
	if (r < 0) {
		net_close(fd);
		return -1;
	}
	return fd;
}

/* One address of a list, for callers that report each attempt. */
int net_connect_addr(const struct addrinfo *ai, int timeout_ms, struct sp_error *e)
{
	return connect_one(ai->ai_addr, ai->ai_addrlen, ai->ai_socktype, timeout_ms, e);
}

/*
 * Connects to the first address that answers, trying them all in order;
 * on failure *e holds the last attempt's error.  timeout_ms < 0: none.
 */
int net_connect_any(const struct addrinfo *ai, int timeout_ms, struct sp_error *e)
{
	int fd = -1;

	for (; ai && fd < 0 && !io_stopped_by(); ai = ai->ai_next)
		fd = net_connect_addr(ai, timeout_ms, e);
	return fd;
}

/*
 * Connects to a UNIX socket.  A datagram client binds an autobound
 * abstract name first, so that the listener has an address to answer.
 */
int net_connect_unix(const char *path, int type, int timeout_ms, struct sp_error *e)
{
	struct sockaddr_un sun;
	sa_family_t autobind = AF_UNIX;
	socklen_t len;
	int fd;

	if (net_unix_address(path, &sun, &len) < 0)
		return fail(e, SP_USAGE, "connect(%s): path too long or empty", path);
	if (type != SOCK_DGRAM)
		return connect_one((struct sockaddr *)&sun, len, type, timeout_ms, e);
	fd = traced_socket(AF_UNIX, type, 0, e);
	if (fd < 0)
		return -1;
	if (traced_addr_call(bind, "bind", fd, (struct sockaddr *)&autobind,
			     sizeof(autobind), e) < 0 ||
	    traced_addr_call(connect, "connect", fd, (struct sockaddr *)&sun, len, e) < 0) {
		net_close(fd);
		return -1;
	}
	return fd;
}
