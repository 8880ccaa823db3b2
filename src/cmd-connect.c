/*
 * cmd-connect.c: socket_connect(), as a telnet-like client.
 *
 * The manual connects and writes a request.  This command connects to
 * every address a name resolves to until one answers (TCP, UDP or a UNIX
 * socket), then relays stdin to the peer and the peer to stdout.  At the
 * end of stdin it half-closes and waits for the peer to finish, so
 * `printf 'x\n' | sockpair connect host port` works in scripts; on a
 * terminal, input is typed with GNU readline and kept in a history.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct connect_opts {
	const char *host, *unix_path;
	char host_buf[256];	/* HOST of a HOST:PORT argument */
	char port[8];		/* digits, for getaddrinfo() */
	const char *ports;	/* -z: the port, range or list, as typed */
	bool udp, crlf, zero_io;
	bool pass_out;		/* -F: the connection goes out over stdout */
	int send_fds[SYS_FDS_MAX];	/* --send-fd, in the order given */
	int send_nfds;
	int family, timeout_ms;	/* timeout_ms -1: none */
	struct tls_options tls;	/* --tls and its options */
};

/* -z's attempts are bounded by -w, or by this. */
enum { ZERO_IO_TIMEOUT_MS = 2000 };

enum { OPT_CRLF = CMD_LONG_ONLY, OPT_SEND_FD };

static const struct cmd_option connect_options[] = {
	{ 'U', "unix", "PATH", "a UNIX socket instead of HOST PORT; @NAME is abstract" },
	{ 'u', "udp", NULL, "datagrams: each input line is one datagram" },
	CMD_OPT_IPV4,
	CMD_OPT_IPV6,
	CMD_OPT_TIMEOUT("give up connecting, or on a silent peer, after SECS"),
	{ OPT_CRLF, "crlf", NULL, "send line ends as \\r\\n, as telnet does" },
	{ 'z', "zero-io", NULL, "only tell whether each port (LOW-HIGH, a,b,...) answers;\n"
	  "                       with -U, whether the socket is live" },
	{ OPT_SEND_FD, "send-fd", "N", "pass descriptor N with the first data (-U; repeatable)" },
	{ 'F', "pass-fd-out", NULL, "pass the connected socket over stdout (a UNIX socket)\n"
	  "                       and exit, as nc -F (ssh's ProxyUseFdpass)" },
	{ CMD_TLS, "tls", NULL, "speak TLS over the connection, as openssl s_client" },
	CMD_OPT_CAFILE,
	CMD_OPT_SNI,
	CMD_OPT_ALPN,
	CMD_OPT_INSECURE,
	CMD_OPT_END
};

static void set_port(struct connect_opts *o, const char *arg)
{
	/* -z takes a range or a list, read when the scan starts. */
	if (o->zero_io && strpbrk(arg, ",-")) {
		o->ports = arg;
		return;
	}
	snprintf(o->port, sizeof(o->port), "%u", cmd_client_port(arg));
	o->ports = o->port;
}

/*
 * One argument: HOST:PORT or [V6]:PORT, as http-head takes them.  A bare
 * IPv6 address has colons of its own: it needs its brackets for a port.
 */
static void split_host_port(struct connect_opts *o, const char *arg)
{
	struct host_port hp;
	size_t host_len;

	if (addr_split_host_port(arg, strlen(arg), &hp) != 0 || !hp.port)
		usage_error(hp.bare_ipv6 ? "missing PORT (an IPv6 address and a port "
			    "are written [ADDRESS]:PORT)" : "missing PORT");
	host_len = (size_t)(hp.port - 1 - arg);	/* brackets kept, as typed */
	if (host_len == 0 || host_len >= sizeof(o->host_buf))
		usage_error("invalid host in '%s'", arg);
	memcpy(o->host_buf, arg, host_len);
	o->host_buf[host_len] = '\0';
	o->host = o->host_buf;
	set_port(o, hp.port);
}

/* nc's order (PORT HOST) typed by habit: a number for a host, a name that is no service. */
static void check_order(const char *host, const char *port)
{
	unsigned number;

	if (parse_port(host, false, &number) == 0 && isalpha((unsigned char)port[0]) &&
	    !cmd_is_service(port))
		usage_error("'%s' is not a port; did you mean 'connect %s %s'?", port, port, host);
}

/* --send-fd N: an inherited descriptor, open now (checked before connecting). */
static void add_send_fd(struct connect_opts *o, const char *arg)
{
	unsigned long fd;
	struct stat st;

	if (parse_uint(arg, INT_MAX, &fd) < 0)
		usage_error("invalid descriptor '%s'", arg);
	if (o->send_nfds == SYS_FDS_MAX)
		usage_error("too many --send-fd (%d at most, SCM_MAX_FD)", SYS_FDS_MAX);
	if (sys_fstat((int)fd, &st) < 0)
		usage_error("--send-fd %lu: %s", fd, strerror(errno));
	o->send_fds[o->send_nfds++] = (int)fd;
}

/* -F needs a UNIX socket on stdout to pass the connection over. */
static void check_stdout_unix(void)
{
	int domain = 0;

	if (sys_getsockopt_int(STDOUT_FILENO, SOL_SOCKET, SO_DOMAIN, &domain) < 0 ||
	    domain != AF_UNIX)
		usage_error("-F passes the connection over stdout, which must be a UNIX socket");
}

static void check_passing(const struct connect_opts *o)
{
	if (o->send_nfds && !o->unix_path)
		usage_error("--send-fd passes descriptors over a UNIX socket: it needs -U PATH");
	if ((o->send_nfds || o->pass_out) && o->zero_io)
		usage_error("-z sends nothing; not with %s", o->pass_out ? "-F" : "--send-fd");
	if (o->send_nfds && o->pass_out)
		usage_error("-F passes the connection itself; not with --send-fd");
	if (o->pass_out)
		check_stdout_unix();
}

static void check_tls(const struct connect_opts *o)
{
	cmd_check_tls_options(&o->tls, "add --tls");
	if (o->tls.on && (o->unix_path || o->udp || o->zero_io || o->pass_out || o->send_nfds))
		usage_error("--tls is for a TCP connection; not with %s",
			    o->unix_path ? "-U" : o->udp ? "-u" : o->zero_io ? "-z"
			    : o->pass_out ? "-F" : "--send-fd");
}

static void parse_connect_options(int argc, char **argv, struct connect_opts *o)
{
	int c;

	while ((c = cmd_getopt(&cmd_connect_entry, argc, argv)) != -1) {
		switch (c) {
		case 'U': o->unix_path = cmd_unix_path(optarg); break;
		case 'u': o->udp = true; break;
		case '4': case '6': cmd_set_family(&o->family, c); break;
		case 'w': o->timeout_ms = cmd_seconds_ms(optarg, "timeout"); break;
		case OPT_CRLF: o->crlf = true; break;
		case 'z': o->zero_io = true; break;
		case OPT_SEND_FD: add_send_fd(o, optarg); break;
		case 'F': o->pass_out = true; break;
		case CMD_TLS: o->tls.on = true; break;
		default: cmd_tls_option(c, optarg, &o->tls); break;
		}
	}
	check_passing(o);
	check_tls(o);
	if (o->zero_io && o->udp)
		usage_error("-z tells whether TCP ports or UNIX sockets answer; not with -u");
	if (o->zero_io && o->timeout_ms < 0)
		o->timeout_ms = ZERO_IO_TIMEOUT_MS;
	if (o->unix_path) {
		if (optind < argc)
			usage_error("-U connects to a UNIX socket; HOST and PORT do not apply");
		if (o->family != AF_UNSPEC)
			usage_error("-U connects to a UNIX socket; -4 and -6 do not apply");
		return;
	}
	if (argc - optind == 0)
		usage_error("missing HOST and PORT");
	if (argc - optind > 2)
		usage_error("unexpected argument '%s'", argv[optind + 2]);
	if (argc - optind == 2) {
		o->host = argv[optind];
		check_order(argv[optind], argv[optind + 1]);
		set_port(o, argv[optind + 1]);
	} else {
		split_host_port(o, argv[optind]);
	}
}

static int connect_to(const struct connect_opts *o, struct sp_error *e)
{
	int type = o->udp ? SOCK_DGRAM : SOCK_STREAM;
	struct addrinfo *ai;
	char bare[256];
	int fd;

	if (o->unix_path)
		return net_connect_unix(o->unix_path, type, o->timeout_ms, e);
	if (net_resolve(addr_strip_brackets(o->host, bare, sizeof(bare)), o->port,
			o->family, type, false, &ai, e) < 0)
		return -1;
	fd = net_connect_any(ai, o->timeout_ms, e);
	freeaddrinfo(ai);
	return fd;
}

static int relay_with_peer(const struct connect_opts *o, int fd, const char *peer,
			   struct tls *tls, struct sp_error *e)
{
	struct relay_options ro = { .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .tls = tls,
				    .crlf = o->crlf, .datagrams = o->udp,
				    /* As nc and telnet: the peer's end is the end, once
				     * what stdin holds now has gone out. */
				    .end_with_peer = !o->udp,
				    .idle_timeout_ms = o->timeout_ms,
				    .send_fds = o->send_fds, .send_nfds = o->send_nfds };
	char history[4096];
	struct relay *r;
	int result;

	ro.editor = editor_open("> ", editor_history_path(history, sizeof(history)));
	r = relay_new(&ro, e);
	result = r ? relay_run(r, fd, peer, e) : -1;
	relay_free(r);
	editor_close(ro.editor);
	/* As telnet says it: on a terminal, the end is not silent. */
	if (ro.editor && result == 0 && !proc_stopped_by())
		report_event("closed", peer, "connection closed by %s", peer);
	return result;
}

/* ---- -z: whether ports answer -------------------------------------------- */

static _Noreturn void out_of_memory(void)
{
	struct sp_error e;

	fail_errno(&e, SP_FAILURE, ENOMEM, "malloc");
	exit(report_failure(&e));
}

/* "80", "8000-8010", "22,80,443-445": the ports, in order; exits 2 if bad. */
static struct scan_port *parse_port_list(const char *list, size_t *n)
{
	struct scan_port *ports = NULL;
	char *copy = strdup(list), *item, *next;
	size_t count = 0, cap = 0;

	if (!copy)
		out_of_memory();
	/* Not strtok(): it would skip an empty item, which is a mistake to say. */
	for (item = copy; item; item = next) {
		char *dash;
		unsigned low, high;

		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		dash = strchr(item, '-');	/* this item's, now that it ends at its comma */
		if (!item[0])
			usage_error("invalid port list '%s' (an empty item)", list);
		if (dash)
			*dash = '\0';
		low = cmd_client_port(item);
		high = dash ? cmd_client_port(dash + 1) : low;
		if (high < low)
			usage_error("invalid port range '%s-%s'", item, dash + 1);
		if (count + (high - low + 1) > 65535)
			usage_error("too many ports in '%s' (65535 at most)", list);
		for (unsigned port = low; port <= high; port++) {
			if (count == cap) {
				cap = cap ? 2 * cap : 64;
				ports = realloc(ports, cap * sizeof(*ports));
				if (!ports)
					out_of_memory();
			}
			ports[count++] = (struct scan_port){ .port = port };
		}
	}
	free(copy);
	if (count == 0)
		usage_error("missing PORT");
	*n = count;
	return ports;
}

static const char *const result_words[] = {
	[SCAN_OPEN] = "open", [SCAN_REFUSED] = "refused",
	[SCAN_TIMED_OUT] = "timed out", [SCAN_UNREACHABLE] = "unreachable",
};

/* The exit status of a failed check, by SPEC's table. */
static int result_status(enum scan_result r)
{
	return r == SCAN_OPEN ? SP_OK : r == SCAN_TIMED_OUT ? SP_TIMEOUT : SP_CONNECT;
}

struct zero_io {
	const char *host;
	int status;		/* the first failure's, in port order */
};

/* One check's result on stdout: "HOST PORT open 0.120 ms", "PATH refused"
 * (or, with --json, its object, as bench prints its rows). */
static void print_check(const char *host, unsigned port, const char *path, enum scan_result r,
			double ms)
{
	char shown[256];
	struct record rec;

	record_init(&rec, RECORD_LINE, "check");
	rec.to_stdout = true;
	if (path) {
		record_text(&rec, "%s", text_escape(path, strlen(path), shown, sizeof(shown)));
		record_cstring(&rec, "path", path);
	} else {
		record_text(&rec, "%s %u", host, port);
		record_cstring(&rec, "host", host);
		record_integer(&rec, "port", port);
	}
	record_text(&rec, " %s", result_words[r]);
	record_cstring(&rec, "state", result_words[r]);
	if (r == SCAN_OPEN && !path) {
		record_text(&rec, " %.3f ms", ms);
		record_number(&rec, "ms", ms, 3);
	} else if (r == SCAN_OPEN) {
		record_number(&rec, "ms", ms, 3);
	}
	event_emit(&rec);
	fflush(stdout);
}

static void print_port(const struct scan_port *p, void *arg)
{
	struct zero_io *z = arg;

	print_check(z->host, p->port, NULL, p->result, p->ms);
	if (!z->status)
		z->status = result_status(p->result);
}

static int check_ports(const struct connect_opts *o)
{
	struct zero_io z = { .host = o->host };
	struct scan_port *ports;
	struct addrinfo *ai;
	struct sp_error e;
	char bare[256];
	size_t n;
	int r;

	ports = parse_port_list(o->ports, &n);
	if (net_resolve(addr_strip_brackets(o->host, bare, sizeof(bare)), "0", o->family,
			SOCK_STREAM, false, &ai, &e) < 0) {
		free(ports);
		return report_failure(&e);
	}
	r = scan_ports(ai, ports, n, o->timeout_ms, print_port, &z, &e);
	freeaddrinfo(ai);
	free(ports);
	if (r < 0)
		return report_failure(&e);
	return proc_stopped_by() ? 128 + proc_stopped_by() : z.status;
}

/* -z -U PATH: live when something is bound there (listen's own test). */
static int check_unix(const struct connect_opts *o)
{
	double start = clock_now_seconds();
	int err = net_unix_probe(o->unix_path);
	double ms = (clock_now_seconds() - start) * 1000;
	enum scan_result r = err == 0 ? SCAN_OPEN : err == ECONNREFUSED || err == ENOENT
			     ? SCAN_REFUSED : SCAN_UNREACHABLE;

	print_check(NULL, 0, o->unix_path, r, ms);
	return result_status(r);
}

/* -F: the connected socket to whoever holds stdout's other end, with a "\0"
 * byte to carry it, as OpenBSD nc -F does; then we are done. */
static int pass_connection(int fd, struct sp_error *e)
{
	static const char carrier = '\0';
	int r = net_send_fds(STDOUT_FILENO, &carrier, 1, &fd, 1, e);

	sys_close(fd);
	return r < 0 ? report_failure(e) : SP_OK;
}

/* The handshake, within -w; the name checked is HOST's, brackets off. */
static struct tls *start_tls(const struct connect_opts *o, int fd, const char *peer,
			     struct sp_error *e)
{
	char bare[256];

	return tls_connect(fd, addr_strip_brackets(o->host, bare, sizeof(bare)), peer, &o->tls,
			   o->timeout_ms < 0 ? -1 : clock_now_ms() + o->timeout_ms, e);
}

static int cmd_connect_exec(int argc, char **argv)
{
	struct connect_opts o = { .family = AF_UNSPEC, .timeout_ms = -1 };
	struct tls *tls = NULL;
	struct sp_error e;
	char peer[128];
	int fd, result;

	parse_connect_options(argc, argv, &o);
	proc_stop_on_signals();
	if (o.zero_io)
		return o.unix_path ? check_unix(&o) : check_ports(&o);
	proc_report_on_usr1();
	fd = connect_to(&o, &e);
	if (fd < 0)
		return proc_stopped_by() ? 128 + proc_stopped_by() : report_failure(&e);
	/* A UNIX server's name is what it bound, maybe relative to its own
	 * directory: the path the user gave says more. */
	if (o.unix_path || net_name_of(fd, true, peer, sizeof(peer)) < 0)
		text_escape(o.unix_path ? o.unix_path : o.host,
			    strlen(o.unix_path ? o.unix_path : o.host), peer, sizeof(peer));
	report_event("connected", peer, "connected to %s", peer);
	if (o.pass_out)
		return pass_connection(fd, &e);
	if (o.tls.on && !(tls = start_tls(&o, fd, peer, &e))) {
		sys_close(fd);
		return report_failure(&e);
	}
	result = relay_with_peer(&o, fd, peer, tls, &e);
	/* The server ended first: ours answers its close_notify (best effort). */
	if (tls)
		(void)tls_close_notify(tls);
	tls_free(tls);
	sys_close(fd);
	if (result < 0)
		return report_failure(&e);
	return proc_stopped_by() ? 128 + proc_stopped_by() : SP_OK;
}

const struct sp_cmd cmd_connect_entry = {
	.name = "connect",
	.capture = CAPTURE_FILE,
	.synopsis = "[-u] [-4|-6] [-w SECONDS] [--crlf] [-z] [-F] [--tls [--cafile FILE] [--sni NAME] "
		    "[--alpn LIST] [--insecure]] HOST PORT | HOST:PORT | -U PATH [--send-fd N]...",
	.summary = "Connect and relay stdin and stdout, like nc or telnet",
	.options = connect_options,
	.exec = cmd_connect_exec,
};
