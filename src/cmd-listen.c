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
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct listen_opts {
	const char *port;	/* digits, checked */
	const char *address;	/* NULL: loopback */
	const char *unix_path;
	bool udp, keep_open;
	bool recv_fd, attach, creds;	/* AF_UNIX only */
	int backlog, family;
};

enum { OPT_RECV_FD = CMD_LONG_ONLY, OPT_ATTACH, OPT_CREDS };

static const struct cmd_option listen_options[] = {
	CMD_OPT_PORT("the port (default 0: a free one, announced)"),
	CMD_OPT_ADDRESS,
	{ 'U', "unix", "PATH", "a UNIX socket instead; @NAME is an abstract name" },
	{ 'u', "udp", NULL, "datagrams: each to stdout, stdin lines to the last sender" },
	CMD_OPT_BACKLOG,
	{ 'k', "keep-open", NULL, "accept the next client when one leaves" },
	CMD_OPT_IPV4,
	CMD_OPT_IPV6,
	{ OPT_RECV_FD, "recv-fd", NULL, "announce the descriptors a client passes (SCM_RIGHTS)" },
	{ OPT_ATTACH, "attach", NULL, "relay the first descriptor passed instead of the client\n"
	  "                       (a console socket, as runc's recvtty)" },
	{ OPT_CREDS, "creds", NULL, "show who sent each message (SO_PASSCRED)" },
	CMD_OPT_END
};

static void parse_listen_options(int argc, char **argv, struct listen_opts *o)
{
	bool port_given = false;
	int c;

	while ((c = cmd_getopt(&cmd_listen_entry, argc, argv)) != -1) {
		switch (c) {
		case 'p': o->port = cmd_server_port(optarg); port_given = true; break;
		case 'a': o->address = optarg; break;
		case 'U': o->unix_path = cmd_unix_path(optarg); break;
		case 'u': o->udp = true; break;
		case 'b': o->backlog = cmd_parse_backlog(optarg); break;
		case 'k': o->keep_open = true; break;
		case '4': case '6': cmd_set_family(&o->family, c); break;
		case OPT_RECV_FD: o->recv_fd = true; break;
		case OPT_ATTACH: o->attach = o->recv_fd = true; break;
		case OPT_CREDS: o->creds = true; break;
		}
	}
	/* A PORT standing alone is -p PORT, as nc -l 8080 takes it. */
	if (optind < argc && o->unix_path)
		usage_error("-U listens on a UNIX socket; a PORT does not apply");
	if (optind < argc && port_given)
		usage_error("unexpected argument '%s' (-p gave the port already)", argv[optind]);
	if (optind < argc)
		o->port = cmd_server_port(argv[optind++]);
	cmd_no_more_arguments(argc, argv);
	if ((o->recv_fd || o->creds) && !o->unix_path)
		usage_error("--%s works on a UNIX socket only: it needs -U PATH",
			    o->attach ? "attach" : o->recv_fd ? "recv-fd" : "creds");
	if (o->attach && o->udp)
		usage_error("--attach replaces a client's connection; -u has none");
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
	/* Before the announcement: no client can come before it is on. */
	if (fd >= 0 && o->creds && sys_setsockopt_int(fd, SOL_SOCKET, SO_PASSCRED, 1) < 0) {
		fail_errno(e, SP_FAILURE, errno, "setsockopt(SO_PASSCRED)");
		sys_close(fd);
		return -1;
	}
	if (fd >= 0)
		cmd_announce_listening(fd, o->unix_path);
	return fd;
}

/* ---- --recv-fd, --attach, --creds: what clients pass beside their data ---- */

/* The relay's hooks' state (their arg): the command's, one per run. */
struct passing {
	bool recv_fd, attach, datagrams;
	const char *peer;	/* the client now; NULL: datagrams, several */
	int attached;		/* --attach: the descriptor that takes over; -1: none */
};

static void announce_descriptor(const struct passing *p, int fd)
{
	char what[512];
	const char *kind = io_describe_fd(fd, what, sizeof(what));

	report_descriptor(p->peer, fd, what, kind);
}

/* --attach: the carried bytes belong to the client's connection, now over. */
static void announce_attached(const struct passing *p, const void *data, ssize_t n)
{
	char shown[TEXT_QUOTE_SIZE];

	if (n <= 0) {
		report_note("attached descriptor %d", p->attached);
		return;
	}
	report_note("attached descriptor %d; the %zd bytes sent with it (%s) are not relayed",
		    p->attached, n, text_show_peer(data, (size_t)n, shown, sizeof(shown)));
}

/*
 * The relay's on_control: who sent (--creds), what was passed (announced,
 * then closed, or kept to attach), what was lost.  Returns true when a
 * descriptor takes the client's place.
 */
static bool take_control(void *arg, const struct sys_control *c, const void *data, ssize_t n)
{
	struct passing *passing = arg;
	int discarded = 0;

	/* A stream's end of file is no message: its "credentials" are zeros. */
	if (c->has_creds && (n > 0 || passing->datagrams))
		report_credentials(passing->peer, c->pid, c->uid, c->gid);
	if (c->truncated)
		report_note("recvmsg: control data truncated (MSG_CTRUNC): descriptors sent "
			    "with it were discarded%s", passing->recv_fd ? "" : " (no --recv-fd)");
	for (int i = 0; i < c->nfds; i++) {
		if (!passing->recv_fd) {
			sys_close(c->fds[i]);
			discarded++;
			continue;
		}
		announce_descriptor(passing, c->fds[i]);
		if (passing->attach && passing->attached < 0)
			passing->attached = c->fds[i];
		else
			sys_close(c->fds[i]);
	}
	if (discarded)
		report_note("closed %d descriptors passed without --recv-fd", discarded);
	if (passing->attached < 0)
		return false;
	announce_attached(passing, data, n);
	return true;
}

/*
 * --attach: the relay runs between stdin/stdout and the descriptor the
 * client passed, until it ends, as recvtty does with a console socket.
 */
static int relay_attached(struct relay *r, struct passing *passing, struct sp_error *e)
{
	char name[32];
	int fd = passing->attached, result;

	passing->attached = -1;
	snprintf(name, sizeof(name), "descriptor %d", fd);
	relay_set_peer_any(r, true);
	result = relay_run(r, fd, name, e);
	relay_set_peer_any(r, false);
	sys_close(fd);
	report_event("closed", name, "closed %s", name);
	return result;
}

static void note_sender(void *arg, const struct sockaddr *sa, socklen_t len)
{
	char name[128];

	(void)arg;
	addr_format(sa, len, name, sizeof(name));
	report_event("connection", name, "connection from %s", name);
}

/* A UNIX client has no address worth showing, but it has credentials. */
static void note_client(int fd, const char *peer, bool unix_domain)
{
	struct ucred cred;

	if (unix_domain && sys_peer_credentials(fd, &cred) == 0)
		report_event("connection", peer, "connection from %s (pid %d, uid %u, gid %u)", peer,
			    (int)cred.pid, (unsigned)cred.uid, (unsigned)cred.gid);
	else
		report_event("connection", peer, "connection from %s", peer);
}

/*
 * Accepts and relays, one client after another with -k.  With -k a
 * client's failure (a reset, say) is reported and the next one served;
 * a failure of stdin or stdout ends the command.
 */
/*
 * On a terminal, input is typed with the line editor, as connect's is; it
 * opens with the first client (nothing reads the keys before), and stays
 * for the next ones with -k.
 */
static struct editor *open_editor(struct relay *r, struct editor *ed)
{
	char history[4096];

	if (!ed) {
		ed = editor_open("> ", editor_history_path(history, sizeof(history)));
		relay_set_editor(r, ed);
	}
	return ed;
}

static int serve_clients(int *lfd, const struct listen_opts *o, struct relay *r,
			 struct passing *passing, struct editor **ed, struct sp_error *e)
{
	char peer[128];

	do {
		int fd = net_accept(*lfd, peer, sizeof(peer), e);
		if (fd < 0)
			return proc_stopped_by() ? 0 : -1;
		*ed = open_editor(r, *ed);
		if (!o->keep_open) {
			/* Like nc: one client; later ones are refused, not queued. */
			sys_close(*lfd);
			*lfd = -1;
		}
		note_client(fd, peer, o->unix_path != NULL);
		passing->peer = peer;
		int result = relay_run(r, fd, peer, e);
		sys_close(fd);
		report_event("closed", peer, "closed %s", peer);
		if (result == 0 && passing->attached >= 0)
			result = relay_attached(r, passing, e);
		if (passing->attached >= 0) {	/* the relay failed before it ran */
			sys_close(passing->attached);
			passing->attached = -1;
		}
		if (result < 0 && (!o->keep_open || relay_failed_locally(r)))
			return -1;
		if (result < 0)
			report_failure(e);
	} while (o->keep_open && !proc_stopped_by());
	return 0;
}

static struct relay *new_relay(const struct listen_opts *o, struct passing *passing,
			       struct sp_error *e)
{
	struct relay_options ro = {
		.in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .arg = passing,
		.end_with_peer = !o->udp,
		.datagrams = o->udp, .reply_to_sender = o->udp,
		.on_sender = o->udp ? note_sender : NULL,
		.recv_fds = o->recv_fd, .recv_creds = o->creds,
		.on_control = o->recv_fd || o->creds ? take_control : NULL,
	};

	*passing = (struct passing){ .recv_fd = o->recv_fd, .attach = o->attach,
				     .datagrams = o->udp, .attached = -1 };
	return relay_new(&ro, e);
}

static int cmd_listen_exec(int argc, char **argv)
{
	struct listen_opts o = { .port = "0", .backlog = SOMAXCONN, .family = AF_UNSPEC };
	struct unix_listener ul = { .dirfd = -1 };
	struct editor *ed = NULL;
	struct passing passing;
	struct relay *r;
	struct sp_error e;
	int fd, result = -1;

	parse_listen_options(argc, argv, &o);
	proc_stop_on_signals();
	proc_report_on_usr1();
	conn_name_peers = o.keep_open || o.udp;
	r = new_relay(&o, &passing, &e);
	if (!r)
		return report_failure(&e);
	fd = open_listener(&o, &ul, &e);
	if (fd >= 0 && o.udp) {
		ed = open_editor(r, ed);
		result = relay_run(r, fd, o.unix_path ? o.unix_path : "sender", &e);
	} else if (fd >= 0) {
		result = serve_clients(&fd, &o, r, &passing, &ed, &e);
	}
	if (fd >= 0)
		sys_close(fd);
	net_unix_cleanup(&ul);
	relay_free(r);
	editor_close(ed);
	return result < 0 ? report_failure(&e) : SP_OK;
}

const struct sp_cmd cmd_listen_entry = {
	.name = "listen",
	.capture = CAPTURE_FILE,
	.synopsis = "[-p PORT] [-a ADDRESS] [-U PATH [--recv-fd [--attach]] [--creds]] [-u] "
		    "[-b BACKLOG] [-k] [-4|-6] [PORT]",
	.summary = "Listen, accept a client and relay it to stdin and stdout, like nc -l",
	.options = listen_options,
	.exec = cmd_listen_exec,
};
