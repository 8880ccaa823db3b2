/*
 * cmd.c: the command table, lookup, the one option parser every command
 * uses, and the usage texts built from the same option tables.  A new
 * command is one line here and one extern in sockpair.h.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

const struct sp_cmd *const sp_commands[] = {
	&cmd_pair_entry,
	&cmd_fork_echo_entry,
	&cmd_listen_entry,
	&cmd_connect_entry,
	&cmd_talkback_entry,
	&cmd_http_head_entry,
	&cmd_bench_entry,
	&cmd_proxy_entry,
	&cmd_peers_entry,
	&cmd_help_entry,
	NULL
};

enum { OPT_TRACE = CMD_LONG_ONLY + 0x80, OPT_STATS, OPT_JSON, OPT_PCAP };

/* The options every command takes, before or after its name. */
static const struct cmd_option common_options[] = {
	{ 'q', "quiet", NULL, "no progress, announcements or connection events" },
	{ OPT_TRACE, "trace", NULL, "show each socket call and its result on stderr" },
	{ 'x', "hexdump", NULL, "show every chunk that crosses a socket, as xxd lines" },
	{ OPT_STATS, "stats", NULL, "a summary of each connection as it ends (SIGUSR1: now)" },
	{ OPT_JSON, "json", NULL, "every diagnostic on stderr as one JSON object per line" },
	{ OPT_PCAP, "pcap", "FILE", "write what crosses the sockets to FILE as pcapng (tshark)" },
	{ 'h', "help", NULL, "show this help and exit" },
	CMD_OPT_END
};

/* The global ones: only before the command. */
static const struct cmd_option global_options[] = {
	{ 'V', "version", NULL, "print the version and exit" },
	CMD_OPT_END
};

/* Options a parser can hold: a command's, the common ones, the end row. */
enum { OPTIONS_MAX = 32 };

const struct sp_cmd *cmd_find(const char *name)
{
	for (const struct sp_cmd *const *c = sp_commands; *c; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

/*
 * The edits (insert, delete, change, swap two neighbours) from a to b,
 * counted up to 3: only "close" matters, and names are short.
 */
static size_t edit_distance(const char *a, const char *b)
{
	enum { NAME_MAX_LEN = 32 };
	size_t la = strlen(a), lb = strlen(b);
	size_t d[NAME_MAX_LEN + 1][NAME_MAX_LEN + 1];

	if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
		return 3;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb] < 3 ? d[la][lb] : 3;
}

/* The command a typo most likely meant: two edits at most, fewer than it has letters. */
static const struct sp_cmd *closest_command(const char *name)
{
	const struct sp_cmd *best = NULL;
	size_t best_distance = 3;

	for (const struct sp_cmd *const *c = sp_commands; *c; c++) {
		size_t d = edit_distance(name, (*c)->name);

		if (d < best_distance && d < strlen(name)) {
			best = *c;
			best_distance = d;
		}
	}
	return best;
}

/* The command named, or a usage error that names the one it is close to. */
const struct sp_cmd *cmd_find_or_fail(const char *name)
{
	const struct sp_cmd *cmd = cmd_find(name), *close;

	if (cmd)
		return cmd;
	close = closest_command(name);
	if (close)
		usage_error("unknown command '%s'; did you mean '%s'?", name, close->name);
	usage_error("unknown command '%s'", name);
}

/* An argument named "[=MS]" may be left out (long options only). */
static bool optional_argument_of(const struct cmd_option *o)
{
	return o->arg && o->arg[0] == '[';
}

static void print_option(const struct cmd_option *o, FILE *out)
{
	const char *gap = o->arg && !optional_argument_of(o) ? " " : "";
	char left[40];

	if (o->key < CMD_LONG_ONLY)
		snprintf(left, sizeof(left), "  -%c, --%s%s%s", o->key, o->name, gap,
			 o->arg ? o->arg : "");
	else
		snprintf(left, sizeof(left), "      --%s%s%s", o->name, gap, o->arg ? o->arg : "");
	fprintf(out, "%-22s %s\n", left, o->help);
}

static void print_options(const struct cmd_option *o, FILE *out)
{
	for (; o && o->name; o++)
		print_option(o, out);
}

/* The list of commands and the global options, for --help and errors. */
void cmd_print_usage(FILE *out)
{
	fprintf(out, "Usage: sockpair [--trace] [-x] [--stats] [--json] [-q] COMMAND [OPTIONS] [ARGS]\n"
		     "       sockpair --help | --version | help COMMAND\n\n"
		     "The socket examples of the PHP manual, in C, as a diagnostic tool.\n\n"
		     "Commands:\n");
	for (const struct sp_cmd *const *c = sp_commands; *c; c++)
		fprintf(out, "  %-11s %s\n", (*c)->name, (*c)->summary);
	fprintf(out, "\nGlobal options (before or after COMMAND):\n");
	print_options(common_options, out);
	print_options(global_options, out);
	fprintf(out, "\nSOCKPAIR_TRACE=1 in the environment is the same as --trace.\n"
		     "'sockpair help COMMAND' shows the options of COMMAND.\n");
}

/* One command's usage and options, built from its option table. */
void cmd_print_help(const struct sp_cmd *cmd, FILE *out)
{
	fprintf(out, "Usage: sockpair %s %s\n\n%s.\n\nOptions:\n", cmd->name, cmd->synopsis,
		cmd->summary);
	print_options(cmd->options, out);
	print_options(common_options, out);
	if (cmd->notes)
		fprintf(out, "\n%s", cmd->notes);
}

/* ---- the option parser ------------------------------------------------- */

/* getopt_long's short string and long rows, made from option tables. */
struct parser {
	char shorts[3 * OPTIONS_MAX + 4];
	struct option longs[OPTIONS_MAX];
	size_t used;
};

static void add_options(struct parser *p, const struct cmd_option *o)
{
	for (; o && o->name && p->used + 1 < OPTIONS_MAX; o++) {
		p->longs[p->used++] = (struct option){
			o->name,
			optional_argument_of(o) ? optional_argument
			: o->arg		 ? required_argument
						 : no_argument,
			NULL, o->key
		};
		if (o->key < CMD_LONG_ONLY) {
			size_t n = strlen(p->shorts);
			p->shorts[n++] = (char)o->key;
			if (o->arg)
				p->shorts[n++] = ':';
			p->shorts[n] = '\0';
		}
	}
}

/* The argument as typed, without "=value". */
static const char *typed_option(char **argv)
{
	static char text[64];
	const char *arg = argv[optind - 1];

	snprintf(text, sizeof(text), "%.*s", (int)strcspn(arg, "="), arg);
	return text;
}

/*
 * getopt_long's complaint about a long option, worded as glibc words it
 * (opterr = 0 so that glibc, which would name the command's argv[0], stays
 * quiet): given a value it takes none, ambiguous, or unknown.
 */
static _Noreturn void long_option_error(const struct parser *p, const char *typed, bool valued)
{
	const char *name = typed + 2, *exact = NULL;
	size_t n = strlen(name), matches = 0, used = 0;
	char list[256];

	for (size_t i = 0; i < p->used && !exact; i++) {
		if (strncmp(p->longs[i].name, name, n) != 0)
			continue;
		if (strlen(p->longs[i].name) == n)
			exact = p->longs[i].name;
		else if (used + 1 < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, " '--%s'",
						 p->longs[i].name);
		matches++;
	}
	if (exact || matches == 1) {
		if (!exact) {	/* an abbreviation of one option */
			for (size_t i = 0; i < p->used && !exact; i++)
				if (strncmp(p->longs[i].name, name, n) == 0)
					exact = p->longs[i].name;
		}
		if (valued)
			usage_error("option '--%s' doesn't allow an argument", exact);
		usage_error("option '--%s' requires an argument", exact);
	}
	if (matches > 1)
		usage_error("option '%s' is ambiguous; possibilities:%s", typed, list);
	usage_error("unrecognized option '%s'", typed);
}

static _Noreturn void option_error(const struct parser *p, int c, char **argv)
{
	const char *typed = typed_option(argv);
	bool is_long = strncmp(argv[optind - 1], "--", 2) == 0;

	if (c == ':')
		usage_error("option '%s' requires an argument",
			    is_long ? typed : (char[]){ '-', (char)optopt, '\0' });
	if (is_long)
		long_option_error(p, typed, strchr(argv[optind - 1], '=') != NULL);
	usage_error("invalid option -- '%c'", optopt);
}

/* ---- TLS's options ------------------------------------------------------ */

/* --cafile, --sni, --alpn, --insecure into *t: whether c was one of them. */
bool cmd_tls_option(int c, const char *arg, struct tls_options *t)
{
	switch (c) {
	case CMD_TLS_CAFILE:
		t->cafile = arg;
		return true;
	case CMD_TLS_SNI:
		if (!*arg)
			usage_error("--sni needs a name");
		t->sni = arg;
		return true;
	case CMD_TLS_ALPN:
		if (!*arg || strstr(arg, ",,") || arg[0] == ',' || arg[strlen(arg) - 1] == ',' ||
		    strlen(arg) > 200)
			usage_error("invalid ALPN list '%s' (names separated by commas)", arg);
		t->alpn = arg;
		return true;
	case CMD_TLS_INSECURE:
		t->insecure = true;
		return true;
	default:
		return false;
	}
}

/* TLS's options where no TLS is spoken: needs says what would speak it. */
void cmd_check_tls_options(const struct tls_options *t, const char *needs)
{
	const char *given = t->cafile ? "--cafile" : t->sni ? "--sni" : t->alpn ? "--alpn"
			  : t->insecure ? "--insecure" : NULL;

	if (given && !t->on)
		usage_error("%s is for TLS: %s", given, needs);
	if (t->cafile && t->insecure)
		usage_error("--cafile verifies the certificate, --insecure does not: not both");
}

/* ---- --pcap: the capture file ------------------------------------------- */

static const char *capture_path;	/* as given; NULL: no capture */
static int capture_fd = -1;

/* The first failed write, said at once: a proxy that runs on for hours
 * must not keep a full disk to itself until it ends. */
static int capture_failed(int err)
{
	report_error(SP_FAILURE, "write(%s): %s", capture_path, strerror(err));
	errno = err;
	return -1;
}

/* A capture block, whole: a FIFO's reader sees blocks, never parts. */
static int write_capture(const void *block, size_t n)
{
	const char *p = block;

	while (n) {
		ssize_t w = sys_write_quiet(capture_fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* stdout may be non-blocking, shared with another process */
			(void)sys_poll(&(struct pollfd){ .fd = capture_fd, .events = POLLOUT }, 1, -1);
			continue;
		}
		if (w <= 0)
			return capture_failed(w < 0 ? errno : ENOSPC);
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The file let go of: in a forked child, which writes none of it, and at
 * an exit() that did not come back through cmd_end_capture().  Not
 * traced: the command's calls are the trace, not the capture's. */
static void close_capture(void)
{
	if (capture_fd > STDERR_FILENO)
		(void)sys_close_quiet(capture_fd);
	capture_fd = -1;
}

/*
 * --pcap FILE, once the command is known: FILE created 0600 (a capture
 * holds whatever crossed, secrets too) or truncated keeping its mode;
 * "-" stdout, only where stdout carries no data (proxy).
 */
static void open_capture(const struct sp_cmd *cmd)
{
	bool to_stdout = strcmp(capture_path, "-") == 0;

	if (cmd->capture == CAPTURE_NONE)
		usage_error("option '--pcap' is not for %s: it captures no sockets", cmd->name);
	if (to_stdout && cmd->capture != CAPTURE_FILE_OR_STDOUT)
		usage_error("'--pcap -': %s's stdout carries data; give a FILE", cmd->name);
	capture_fd = to_stdout ? STDOUT_FILENO
			       : sys_open(capture_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
					  "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC");
	if (capture_fd < 0)
		exit(report_error(SP_FAILURE, "open(%s): %s", capture_path, strerror(errno)));
	atexit(close_capture);
	if (sink_pcap_start(write_capture, close_capture) < 0)
		exit(SP_FAILURE);	/* write_capture() said why */
	conn_capture = true;
}

/* The command's status, or a failure if the capture could not be written
 * whole (said when it happened): a capture cut short is never a success. */
int cmd_end_capture(int status)
{
	bool failed = sink_pcap_error() != 0;

	if (capture_fd < 0)
		return status;
	sink_pcap_stop();	/* no more blocks; the file is closed here */
	conn_capture = false;
	if (!failed && capture_fd != STDOUT_FILENO && sys_close(capture_fd) < 0) {
		report_error(SP_FAILURE, "close(%s): %s", capture_path, strerror(errno));
		failed = true;
	}
	capture_fd = -1;
	return failed && status == SP_OK ? SP_FAILURE : status;
}

/*
 * getopt_long() over the command's options and the common ones, which it
 * handles itself (-h, -q, --trace), as it does every error, in SPEC's
 * usage-error form.  Returns the key of the command's next option (optarg
 * set), or -1 at the end.  cmd NULL: the global options, before the
 * command name, where parsing stops.
 */
int cmd_getopt(const struct sp_cmd *cmd, int argc, char **argv)
{
	static struct parser p;
	static const struct sp_cmd *built;
	static bool built_once;
	int c;

	if (!built_once || built != cmd) {
		memset(&p, 0, sizeof(p));
		strcpy(p.shorts, cmd ? ":" : "+:");
		add_options(&p, cmd ? cmd->options : global_options);
		add_options(&p, common_options);
		built = cmd;
		built_once = true;
	}
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, p.shorts, p.longs, NULL);
		switch (c) {
		case 'h':
			if (cmd)
				cmd_print_help(cmd, stdout);
			else
				cmd_print_usage(stdout);
			exit(fflush(stdout) == 0 ? SP_OK : SP_FAILURE);
		case 'q':
			record_quiet = true;
			continue;
		case OPT_TRACE:
			trace_enabled = true;
			continue;
		case 'x':
			conn_hexdump = true;
			continue;
		case OPT_STATS:
			conn_stats = true;
			continue;
		case OPT_JSON:
			record_json = true;
			continue;
		case OPT_PCAP:
			capture_path = optarg;
			continue;
		case ':': case '?':
			option_error(&p, c, argv);
		case -1:
			if (cmd && capture_path && capture_fd < 0)
				open_capture(cmd);
			return c;
		default:
			return c;
		}
	}
}

/* Arguments left after the options are a usage error. */
void cmd_no_more_arguments(int argc, char **argv)
{
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

/* ---- values of options that several commands share, one wording each -- */

/*
 * A service name for a port ("http", "www"), by getservbyname() as the
 * manual's example looks up www, tcp's first.  An unknown name is a name
 * resolution failure: the error line, exit 3.
 */
static unsigned lookup_service(const char *name)
{
	unsigned port = sys_getservbyname(name, "tcp");

	return port ? port : sys_getservbyname(name, "udp");
}

/* Whether a name is a service /etc/services knows, for a port. */
bool cmd_is_service(const char *name)
{
	return lookup_service(name) != 0;
}

static unsigned service_port(const char *name)
{
	unsigned port = lookup_service(name);

	/* Name resolution's reason is gai_strerror()'s (SPEC), as getaddrinfo()
	 * would give it for this name. */
	if (!port)
		exit(report_error(SP_RESOLVE, "getservbyname(%s): %s", name,
				  gai_strerror(EAI_SERVICE)));
	return port;
}

/* A port as typed: a service name (it starts with a letter), or digits in
 * range; anything else is a usage error. */
static unsigned port_of(const char *arg, bool allow_zero, const char *range)
{
	unsigned port;

	if (isalpha((unsigned char)arg[0]))
		return service_port(arg);
	if (parse_port(arg, allow_zero, &port) < 0)
		usage_error("invalid port '%s' (%s)", arg, range);
	return port;
}

/* A server's -p: 0 to 65535 (0: a free one) or a service name; returned as
 * digits, for getaddrinfo(). */
const char *cmd_server_port(const char *arg)
{
	static char digits[8];

	snprintf(digits, sizeof(digits), "%u",
		 port_of(arg, true, "0 to 65535; 0 picks a free one"));
	return digits;
}

/* A client's port: 1 to 65535, or a service name. */
unsigned cmd_client_port(const char *arg)
{
	return port_of(arg, false, "1 to 65535");
}

/* -U PATH: sun_path holds 107 bytes and a NUL; "@NAME" is abstract. */
const char *cmd_unix_path(const char *arg)
{
	if (!arg[0] || strlen(arg) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		usage_error("invalid UNIX socket path '%s' (1 to 107 bytes)", arg);
	return arg;
}

/* -b N: 0 to INT32_MAX; anything else is a usage error (exits 2). */
int cmd_parse_backlog(const char *arg)
{
	unsigned long backlog;

	if (parse_uint(arg, INT32_MAX, &backlog) < 0)
		usage_error("invalid backlog '%s'", arg);
	return (int)backlog;
}

/* -4 or -6, given once. */
void cmd_set_family(int *family, int c)
{
	if (*family != AF_UNSPEC)
		usage_error("-4 and -6 cannot be combined");
	*family = c == '4' ? AF_INET : AF_INET6;
}

/*
 * A count of things, 1 to max, for the option named what ("count",
 * "--max-line"), unit after the range (" bytes"); else a usage error.
 */
unsigned long cmd_count(const char *arg, unsigned long max, const char *what, const char *unit)
{
	unsigned long n;

	if (parse_uint(arg, max, &n) < 0 || n == 0)
		usage_error("invalid %s '%s' (1 to %lu%s)", what, arg, max, unit);
	return n;
}

/*
 * SECONDS as milliseconds, for the option named what ("timeout",
 * "interval"); out of (0, 86400] is a usage error (exits 2).
 */
int cmd_seconds_ms(const char *arg, const char *what)
{
	int ms;

	if (parse_seconds(arg, &ms) < 0)
		usage_error("invalid %s '%s' (seconds, above 0 and at most 86400)", what, arg);
	return ms;
}

/* SPEC's announcement, with the port the kernel gave, for scripts to read. */
/*
 * So that --max-clients is reachable: the soft descriptor limit up to the
 * hard one, and a note if clients of per_client descriptors each (and a
 * few the server needs of its own) will not fit.  quiet: the limit is a
 * default, not asked for: no note.
 */
void cmd_raise_descriptor_limit(unsigned long max_clients, unsigned per_client, bool quiet)
{
	unsigned long long limit = 0;

	if ((sys_raise_nofile(&limit) < 0 && limit == 0) || quiet)
		return;
	/* The listener, epoll, the spare and stdio need a few of their own. */
	if (limit < per_client * max_clients + 16)
		report_note("descriptor limit %llu: fewer than --max-clients %lu can connect",
			    limit, max_clients);
}

void cmd_announce_listening(int fd, const char *unix_path)
{
	char name[128];

	if (unix_path)
		report_listening(unix_path, true);
	else if (net_name_of(fd, false, name, sizeof(name)) == 0)
		report_listening(name, false);
}

/* ---- help ---------------------------------------------------------------- */

static int cmd_help_exec(int argc, char **argv)
{
	const struct sp_cmd *cmd;

	while (cmd_getopt(&cmd_help_entry, argc, argv) != -1)
		;
	if (optind >= argc) {
		cmd_print_usage(stdout);
		return SP_OK;
	}
	if (argc - optind > 1)
		usage_error("too many arguments");
	cmd = cmd_find_or_fail(argv[optind]);
	cmd_print_help(cmd, stdout);
	return SP_OK;
}

const struct sp_cmd cmd_help_entry = {
	.name = "help",
	.synopsis = "[COMMAND]",
	.summary = "Show the list of commands, or the options of one",
	.options = NULL,
	.exec = cmd_help_exec,
};
