/*
 * cmd-listen.c: socket_create_listen(), grown into a netcat-style listener.
 *
 * The manual's function binds a port and listens, and stops there.  This
 * command binds (TCP, UDP or a UNIX socket), announces the address it got
 * (so -p 0 is usable from scripts), accepts a client and relays: the peer
 * to stdout, stdin to the peer, half-closing at the end of stdin.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct listen_opts {
	const char *port;	/* digits, checked */
	const char *address;	/* NULL: loopback */
	const char *unix_path;
	bool udp, keep_open;
	int backlog, family;
};

static void parse_listen_options(int argc, char **argv, struct listen_opts *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "address", required_argument, NULL, 'a' },
		{ "unix", required_argument, NULL, 'U' },
		{ "udp", no_argument, NULL, 'u' },
		{ "backlog", required_argument, NULL, 'b' },
		{ "keep-open", no_argument, NULL, 'k' },
		{ "ipv4", no_argument, NULL, '4' },
		{ "ipv6", no_argument, NULL, '6' },
		COMMON_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:a:U:ub:k46hq", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->port = cmd_server_port(optarg); break;
		case 'a': o->address = optarg; break;
		case 'U': o->unix_path = cmd_unix_path(optarg); break;
		case 'u': o->udp = true; break;
		case 'b': o->backlog = cmd_backlog(optarg); break;
		case 'k': o->keep_open = true; break;
		case '4': case '6': cmd_family(&o->family, c); break;
		default:
			cmd_common_option(&cmd_listen_entry, c, argv);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (o->unix_path && (o->address || o->family != AF_UNSPEC || strcmp(o->port, "0")))
		usage_error("-U listens on a UNIX socket; -p, -a, -4 and -6 do not apply");
}

static int open_listener(const struct listen_opts *o, struct unix_listener *ul,
			 struct sp_error *e)
{
	int type = o->udp ? SOCK_DGRAM : SOCK_STREAM;
	int fd;

	if (o->unix_path) {
		snprintf(ul->path, sizeof(ul->path), "%s", o->unix_path);
		fd = net_listen_unix(ul, type, o->backlog, e);
	} else {
		fd = net_listen_host(o->address, o->port, o->family, type, o->backlog, e);
	}
	if (fd >= 0)
		report_listening(fd, o->unix_path);
	return fd;
}

static void note_sender(const struct sockaddr *sa, socklen_t len)
{
	char name[128];

	report_note("connection from %s", net_format_addr(sa, len, name, sizeof(name)));
}

/* A UNIX client has no address worth showing, but it has credentials. */
static void note_client(int fd, const char *peer, bool unix_domain)
{
	struct ucred cred;

	if (unix_domain && net_peer_credentials(fd, &cred) == 0)
		report_note("connection from %s (pid %d, uid %u, gid %u)", peer,
			    (int)cred.pid, (unsigned)cred.uid, (unsigned)cred.gid);
	else
		report_note("connection from %s", peer);
}

/*
 * Accepts and relays, one client after another with -k.  With -k a
 * client's failure (a reset, say) is reported and the next one served;
 * a failure of stdin or stdout ends the command.
 */
static int serve_clients(int *lfd, const struct listen_opts *o, struct relay *r,
			 struct sp_error *e)
{
	char peer[128];

	do {
		int fd = net_accept(*lfd, peer, sizeof(peer), e);
		if (fd < 0)
			return io_stopped_by() ? 0 : -1;
		if (!o->keep_open) {
			/* Like nc: one client; later ones are refused, not queued. */
			net_close(*lfd);
			*lfd = -1;
		}
		note_client(fd, peer, o->unix_path != NULL);
		r->peer_fd = fd;
		r->peer_name = peer;
		r->end_with_peer = true;
		int result = io_relay(r, e);
		net_close(fd);
		report_note("closed %s", peer);
		if (result < 0 && (!o->keep_open || r->local_failed))
			return -1;
		if (result < 0)
			report_failure(e);
	} while (o->keep_open && !io_stopped_by());
	return 0;
}

static int serve_datagrams(int fd, const struct listen_opts *o, struct relay *r,
			   struct sp_error *e)
{
	r->peer_fd = fd;
	r->peer_name = o->unix_path ? o->unix_path : "sender";
	r->datagrams = true;
	r->reply_to_sender = true;
	r->on_sender = note_sender;
	return io_relay(r, e);
}

static int cmd_listen_exec(int argc, char **argv)
{
	struct listen_opts o = { .port = "0", .backlog = SOMAXCONN, .family = AF_UNSPEC };
	struct relay r = { .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO };
	struct unix_listener ul = { .dirfd = -1 };
	struct sp_error e;
	int fd, result = -1;

	parse_listen_options(argc, argv, &o);
	io_stop_on_signals();
	if (io_relay_init(&r, &e) < 0)
		return report_failure(&e);
	fd = open_listener(&o, &ul, &e);
	if (fd >= 0)
		result = o.udp ? serve_datagrams(fd, &o, &r, &e)
			       : serve_clients(&fd, &o, &r, &e);
	if (fd >= 0)
		net_close(fd);
	net_unix_cleanup(&ul);
	io_relay_release(&r);
	return result < 0 ? report_failure(&e) : SP_OK;
}

const struct sp_cmd cmd_listen_entry = {
	.name = "listen",
	.synopsis = "[-p PORT] [-a ADDRESS] [-U PATH] [-u] [-b BACKLOG] [-k] [-4|-6]",
	.summary = "Listen, accept a client and relay it to stdin and stdout, like nc -l",
	.options =
		"  -p, --port PORT      the port (default 0: a free one, announced)\n"
		"  -a, --address ADDR   the address to bind (default 127.0.0.1, ::1 with -6)\n"
		"  -U, --unix PATH      a UNIX socket instead; @NAME is an abstract name\n"
		"  -u, --udp            datagrams: each to stdout, stdin lines to the last sender\n"
		"  -b, --backlog N      listen()'s backlog (default SOMAXCONN)\n"
		"  -k, --keep-open      accept the next client when one leaves\n"
		"  -4, --ipv4           IPv4 only\n"
		"  -6, --ipv6           IPv6 only\n",
	.exec = cmd_listen_exec,
};
