/*
 * cmd.c: the command table, lookup, and the usage texts built from it.
 * A new command is one line here and one extern in sockpair.h.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

const struct sp_cmd *const sp_commands[] = {
	&cmd_pair_entry,
	&cmd_fork_echo_entry,
	&cmd_listen_entry,
	&cmd_connect_entry,
	&cmd_talkback_entry,
	&cmd_http_head_entry,
	&cmd_help_entry,
	NULL
};

static const char common_options[] =
	"  -q, --quiet          no progress, announcements or connection events\n"
	"      --trace          show each socket call and its result on stderr\n"
	"  -h, --help           show this help and exit\n";

const struct sp_cmd *cmd_find(const char *name)
{
	for (const struct sp_cmd *const *c = sp_commands; *c; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

void cmd_print_usage(FILE *out)
{
	fprintf(out, "Usage: sockpair [--trace] [-q] COMMAND [OPTIONS] [ARGS]\n"
		     "       sockpair --help | --version | help COMMAND\n\n"
		     "The socket examples of the PHP manual, in C, as a diagnostic tool.\n\n"
		     "Commands:\n");
	for (const struct sp_cmd *const *c = sp_commands; *c; c++)
		fprintf(out, "  %-11s %s\n", (*c)->name, (*c)->summary);
	fprintf(out, "\nGlobal options (before or after COMMAND):\n%s"
		     "  -V, --version        print the version and exit\n\n"
		     "SOCKPAIR_TRACE=1 in the environment is the same as --trace.\n"
		     "'sockpair help COMMAND' shows the options of COMMAND.\n",
		common_options);
}

void cmd_print_help(const struct sp_cmd *cmd, FILE *out)
{
	fprintf(out, "Usage: sockpair %s %s\n\n%s.\n\nOptions:\n%s%s",
		cmd->name, cmd->synopsis, cmd->summary, cmd->options, common_options);
}

/* The argument as typed, without "=value", for "unknown option" messages. */
static const char *typed_option(char **argv)
{
	static char text[64];
	const char *arg = argv[optind - 1];

	snprintf(text, sizeof(text), "%.*s", (int)strcspn(arg, "="), arg);
	return text;
}

/*
 * The options every command shares, and getopt's complaints, which we
 * word ourselves: glibc's would name the command's argv[0], not sockpair.
 */
void cmd_common_option(const struct sp_cmd *cmd, int c, char **argv)
{
	switch (c) {
	case 'h':
		cmd_print_help(cmd, stdout);
		exit(fflush(stdout) == 0 ? SP_OK : SP_FAILURE);
	case 'q':
		report_quiet = true;
		return;
	case OPT_TRACE:
		trace_enabled = true;
		return;
	case ':':
		usage_error("option '%s' requires an argument", typed_option(argv));
	case '?':
		if (optopt)
			usage_error("invalid option -- '%c'", optopt);
		usage_error("unrecognized option '%s'", typed_option(argv));
	default:
		usage_error("option '%s' is not handled", typed_option(argv));
	}
}

/* ---- values of options that several commands share, one wording each -- */

/* A server's -p: 0 to 65535, 0 meaning a free one, kept as typed. */
const char *cmd_server_port(const char *arg)
{
	unsigned port;

	if (parse_port(arg, true, &port) < 0)
		usage_error("invalid port '%s' (0 to 65535; 0 picks a free one)", arg);
	return arg;
}

/* A client's port: 1 to 65535. */
unsigned cmd_client_port(const char *arg)
{
	unsigned port;

	if (parse_port(arg, false, &port) < 0)
		usage_error("invalid port '%s' (1 to 65535)", arg);
	return port;
}

/* -U PATH: sun_path holds 107 bytes and a NUL; "@NAME" is abstract. */
const char *cmd_unix_path(const char *arg)
{
	if (!arg[0] || strlen(arg) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		usage_error("invalid UNIX socket path '%s' (1 to 107 bytes)", arg);
	return arg;
}

int cmd_backlog(const char *arg)
{
	unsigned long backlog;

	if (parse_uint(arg, INT32_MAX, &backlog) < 0)
		usage_error("invalid backlog '%s'", arg);
	return (int)backlog;
}

/* -4 or -6, given once. */
void cmd_family(int *family, int c)
{
	if (*family != AF_UNSPEC)
		usage_error("-4 and -6 cannot be combined");
	*family = c == '4' ? AF_INET : AF_INET6;
}

int cmd_timeout_ms(const char *arg)
{
	int ms;

	if (parse_seconds(arg, &ms) < 0)
		usage_error("invalid timeout '%s' (seconds, above 0 and at most 86400)", arg);
	return ms;
}

static int cmd_help_exec(int argc, char **argv)
{
	const struct sp_cmd *cmd;

	if (argc < 2) {
		cmd_print_usage(stdout);
		return SP_OK;
	}
	if (argc > 2)
		usage_error("too many arguments");
	cmd = cmd_find(argv[1]);
	if (!cmd)
		usage_error("unknown command '%s'", argv[1]);
	cmd_print_help(cmd, stdout);
	return SP_OK;
}

const struct sp_cmd cmd_help_entry = {
	.name = "help",
	.synopsis = "[COMMAND]",
	.summary = "Show the list of commands, or the options of one",
	.options = "",
	.exec = cmd_help_exec,
};
