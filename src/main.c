/*
 * main.c: global options, then the command table does the rest.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void parse_global_options(int argc, char **argv)
{
	int c;

	while ((c = cmd_getopt(NULL, argc, argv)) != -1) {
		if (c == 'V') {
			printf("sockpair %s\n", SOCKPAIR_VERSION);
			exit(fflush(stdout) == 0 ? SP_OK : SP_FAILURE);
		}
	}
}

static bool trace_requested_by_environment(void)
{
	const char *v = getenv("SOCKPAIR_TRACE");

	return v && *v && strcmp(v, "0") != 0;
}

/* Data that never reached stdout is a failure, not a success (git's check). */
static int check_stdout(int status)
{
	struct sp_error e;

	if (io_flush_stdout(&e) < 0 && status == SP_OK)
		status = report_failure(&e);
	record_start();
	return status;
}

/*
 * A closed 0, 1 or 2 would be the number of the next socket: stdin's reads
 * would then take the peer's data, and stdout would echo it back.  Each
 * closed one is opened on /dev/null instead (open() takes the lowest free
 * number, so going up from 0 fills the gaps in place).
 */
static void fill_standard_descriptors(void)
{
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		struct stat st;

		if (sys_fstat(fd, &st) == 0 || errno != EBADF)
			continue;
		if (sys_open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY,
			     fd == STDIN_FILENO ? "O_RDONLY" : "O_WRONLY") != fd)
			exit(SP_FAILURE);
	}
}

int main(int argc, char **argv)
{
	const struct sp_cmd *cmd;

	fill_standard_descriptors();
	io_trace_stdout_on_socket();
	clock_mark_start();
	conn_set_viewer(stats_kernel_view);
	out_set_writer((struct out_writer){ report_trace_line, NULL });

	/* A peer that goes away is an event to report, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	trace_enabled = trace_requested_by_environment();
	parse_global_options(argc, argv);
	if (optind >= argc) {
		cmd_print_usage(stderr);
		return SP_USAGE;
	}
	cmd = cmd_find_or_fail(argv[optind]);
	report_command = cmd->name;
	record_command = cmd->name;
	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: 0 restarts getopt from scratch */
	return check_stdout(cmd_end_capture(cmd->exec(argc, argv)));
}
