/*
 * cmd-fork-echo.c: the socket_create_pair() IPC example and the
 * stream_socket_pair() example, both a socket pair across fork().
 *
 * The manual's parent never waits, so which line comes first is up to the
 * scheduler, and the child may be orphaned.  Here the parent reaps the
 * child before it prints, so the child's line always comes first, and a
 * child that fails makes the parent fail.  -i turns the pair into a line
 * echo: the parent is the relay every command shares, the child answers
 * each line with its own pid.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum style { STYLE_SOCKET, STYLE_STREAM };

struct fork_echo_opts {
	enum style style;
	int type;
	bool interactive, style_given;
	const char *pass_file;	/* --pass-fd: the file whose descriptor goes over */
	int diagnostics[2];	/* -i on a terminal: the child's stderr lines, to the parent */
};

enum { OPT_STYLE = CMD_LONG_ONLY, OPT_PASS_FD };

static const struct cmd_option fork_echo_options[] = {
	{ OPT_STYLE, "style", "STYLE", "socket: socket_create_pair()'s IPC example (default);\n"
	  "                       stream: stream_socket_pair()'s example" },
	{ 't', "type", "TYPE", "stream (default), dgram or seqpacket" },
	{ 'i', "interactive", NULL, "send each input line to the child, print its answer;\n"
	  "                       GNU readline on a terminal" },
	{ OPT_PASS_FD, "pass-fd", "FILE", "pass FILE, opened, to the child (SCM_RIGHTS); it reads\n"
	  "                       the first line, and the parent shows the offset it moved" },
	CMD_OPT_END
};

static void parse_fork_echo_options(int argc, char **argv, struct fork_echo_opts *o)
{
	int c;

	while ((c = cmd_getopt(&cmd_fork_echo_entry, argc, argv)) != -1) {
		switch (c) {
		case OPT_STYLE:
			if (strcmp(optarg, "socket") == 0)
				o->style = STYLE_SOCKET;
			else if (strcmp(optarg, "stream") == 0)
				o->style = STYLE_STREAM;
			else
				usage_error("invalid style '%s' (socket or stream)", optarg);
			o->style_given = true;
			break;
		case 't':
			if (parse_type(optarg, &o->type) < 0 ||
			    (o->type != SOCK_STREAM && o->type != SOCK_DGRAM &&
			     o->type != SOCK_SEQPACKET))
				usage_error("invalid type '%s' (stream, dgram or seqpacket)", optarg);
			break;
		case 'i':
			o->interactive = true;
			break;
		case OPT_PASS_FD:
			o->pass_file = optarg;
			break;
		}
	}
	cmd_no_more_arguments(argc, argv);
	if (o->pass_file && (o->interactive || o->style_given))
		usage_error("--pass-fd passes a file instead of the examples' messages; "
			    "not with %s", o->interactive ? "-i" : "--style");
	/* An AF_UNIX datagram pair never tells the child that input ended. */
	if (o->interactive && o->type == SOCK_DGRAM)
		usage_error("-i needs a connected type: stream or seqpacket");
}

/* ---- the two examples ------------------------------------------------ */

/*
 * Reads what the other process sent: on a stream until `want` bytes (or
 * end of file), on a packet type the one message.
 */
static ssize_t read_message(int fd, int type, char *buf, size_t want,
			    struct sp_error *e)
{
	ssize_t r;

	if (type == SOCK_STREAM)
		return io_read_full(fd, buf, want, e);
	do
		r = sys_read(fd, buf, want);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return fail_errno(e, SP_FAILURE, errno, "read(%d)", fd);
	return r;
}

/* fgets() on the socket, as the stream example does; the "\n" is dropped. */
static ssize_t read_line(int fd, int type, char *buf, size_t size, struct sp_error *e)
{
	size_t got = 0;

	while (got < size - 1 && (got == 0 || buf[got - 1] != '\n')) {
		ssize_t r = read_message(fd, type, buf + got, type == SOCK_STREAM ? 1 : size - 1, e);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
		if (type != SOCK_STREAM)
			break;
	}
	if (got > 0 && buf[got - 1] == '\n')
		got--;
	buf[got] = '\0';
	return (ssize_t)got;
}

/* Lines are at most "Received Message From Parent." or a pid line. */
enum { SHOWN_MAX = 128 };

/* One side of the socket example: send ours, check theirs, say so. */
static int socket_style_side(int fd, int type, const char *mine, const char *theirs,
			     char *shown, struct sp_error *e)
{
	size_t want = strlen(theirs);
	char buf[64];
	ssize_t got;

	if (io_write_all(fd, mine, strlen(mine), e) < 0)
		return -1;
	got = read_message(fd, type, buf, want, e);
	if (got < 0)
		return -1;
	if ((size_t)got != want || memcmp(buf, theirs, want) != 0)
		return fail(e, SP_FAILURE, "read(%d): expected '%s', got %zd bytes", fd,
			    theirs, got);
	snprintf(shown, SHOWN_MAX, "Received %s", theirs);
	return 0;
}

/* One side of the stream example: send ours, show the line we got. */
static int stream_style_side(int fd, int type, const char *mine, char *shown,
			     struct sp_error *e)
{
	if (io_write_all(fd, mine, strlen(mine), e) < 0 ||
	    read_line(fd, type, shown, SHOWN_MAX, e) < 0)
		return -1;
	return 0;
}

static const char parent_message[] = "Message From Parent.";
static const char child_message[] = "Message From Child.";

static int child_side(const struct fork_echo_opts *o, int fd, char *shown,
		      struct sp_error *e)
{
	if (o->style == STYLE_SOCKET)
		return socket_style_side(fd, o->type, child_message, parent_message, shown, e);
	return stream_style_side(fd, o->type, "message from child\n", shown, e);
}

static int parent_side(const struct fork_echo_opts *o, int fd, pid_t child,
		       char *shown, struct sp_error *e)
{
	char mine[64];

	if (o->style == STYLE_SOCKET)
		return socket_style_side(fd, o->type, parent_message, child_message, shown, e);
	snprintf(mine, sizeof(mine), "child PID: %d\n", (int)child);
	return stream_style_side(fd, o->type, mine, shown, e);
}

/* ---- -i: the child echoes lines, the parent relays ------------------- */

enum { ECHO_READ = 16 * 1024 };

/*
 * Prefixes each line in buf[0..n) with "child PID: "; returns the length
 * written to out, which has room for a prefix before every byte.
 */
static size_t prefix_lines(const char *buf, size_t n, const char *prefix,
			   size_t prefix_len, bool *at_line_start, char *out)
{
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		if (*at_line_start) {
			memcpy(out + used, prefix, prefix_len);
			used += prefix_len;
		}
		out[used++] = buf[i];
		*at_line_start = buf[i] == '\n';
	}
	return used;
}

/*
 * Writes the answer to one read, in ECHO_READ pieces: over seqpacket each
 * write is a packet, and the parent takes packets of up to that.
 */
static int write_answer(int fd, const char *out, size_t n, struct sp_error *e)
{
	for (size_t at = 0; at < n; at += ECHO_READ)
		if (io_write_all(fd, out + at, n - at < ECHO_READ ? n - at : ECHO_READ, e) < 0)
			return -1;
	return 0;
}

/*
 * Answers each line with "child PID: line", passing bytes through as they
 * come, so no line is too long.  A read of up to ECHO_READ takes one whole
 * packet over seqpacket, as the parent sends no longer ones.  A last line
 * without "\n" gets one at the end.
 */
static int echo_lines(int fd, struct sp_error *e)
{
	char prefix[32], buf[ECHO_READ];
	size_t prefix_len = (size_t)snprintf(prefix, sizeof(prefix), "child %d: ",
					     (int)getpid());
	char *out = malloc(ECHO_READ * (prefix_len + 1));
	bool at_line_start = true;
	int result = 0;
	ssize_t r;

	if (!out)
		return fail_errno(e, SP_FAILURE, ENOMEM, "malloc");
	while (result == 0 && (r = sys_read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			result = fail_errno(e, SP_FAILURE, errno, "read(%d)", fd);
		else
			result = write_answer(fd, out, prefix_lines(buf, (size_t)r, prefix,
					      prefix_len, &at_line_start, out), e);
	}
	free(out);
	if (result == 0 && !at_line_start)
		result = io_write_all(fd, "\n", 1, e);
	return result;
}

/* ---- the child's diagnostics, printed by the parent ----------------------- */

/*
 * On a terminal the parent's line editor owns the screen: a line the
 * child wrote to stderr itself would land in the middle of the prompt.
 * So the child's diagnostic lines (--trace, -x, errors) go through a pipe
 * to the parent, which prints them above the line being typed.
 */
static void write_to_parent(void *arg, const char *line, size_t n)
{
	const int *fd = arg;
	struct pollfd p = { .fd = *fd, .events = POLLOUT };

	while (n > 0) {
		ssize_t w = sys_write_quiet(*fd, line, n);
		if (w < 0 && errno == EAGAIN && sys_poll(&p, 1, -1) >= 0)
			continue;
		if (w <= 0)
			return;	/* the parent is gone: nobody to tell */
		line += w;
		n -= (size_t)w;
	}
}

/* The child's lines as they come: a line is printed once it is whole. */
struct child_lines {
	char held[4096];
	size_t len;
};

/* Reads the child's lines; prints the whole ones.  false at their end. */
static bool print_child_lines(void *arg, int fd)
{
	struct child_lines *lines = arg;
	char *held = lines->held;
	size_t len = lines->len, size = sizeof(lines->held);
	ssize_t n = sys_read(fd, held + len, size - len);
	char *nl;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	len += (size_t)n;
	while ((nl = memchr(held, '\n', len)) != NULL) {
		out_write(held, (size_t)(nl + 1 - held));
		len -= (size_t)(nl + 1 - held);
		memmove(held, nl + 1, len);
	}
	if (n == 0 || len == size) {
		if (len)
			out_write(held, len);
		len = 0;
	}
	lines->len = len;
	return n > 0;
}

static void close_diagnostics(struct fork_echo_opts *o)
{
	for (int i = 0; i < 2; i++)
		if (o->diagnostics[i] >= 0)
			sys_close(o->diagnostics[i]);
	o->diagnostics[0] = o->diagnostics[1] = -1;
}

static int relay_to_child(int fd, const struct fork_echo_opts *o, struct child_lines *lines,
			  struct sp_error *e)
{
	struct relay_options ro = { .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO,
				    .packet_max = o->type == SOCK_SEQPACKET ? ECHO_READ : 0,
				    .side_fd = o->diagnostics[0],
				    .on_side = o->diagnostics[0] >= 0 ? print_child_lines : NULL };
	struct relay *r;
	int result;

	proc_stop_on_signals();
	ro.editor = editor_open("> ", NULL);
	ro.arg = lines;
	r = relay_new(&ro, e);
	result = r ? relay_run(r, fd, "child", e) : -1;
	relay_free(r);
	editor_close(ro.editor);
	return result;
}

/* ---- --pass-fd: an open file, passed to the child ------------------------ */

/*
 * Prints the first line read through fd, a byte at a time: no further, so
 * the offset stops after its "\n".  A read that fails prints nothing.
 */
static int print_first_line(int fd, struct sp_error *e)
{
	char c = '\0';
	bool started = false;
	ssize_t r;

	while (c != '\n' && (r = sys_read(fd, &c, 1)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && started)
			putchar('\n');
		if (r < 0)
			return fail_errno(e, SP_FAILURE, errno, "read(%d)", fd);
		if (!started)
			printf("child %d: ", (int)getpid());
		started = true;
		putchar(c);
	}
	if (!started)
		printf("child %d: ", (int)getpid());
	if (c != '\n')
		putchar('\n');
	return io_flush_stdout(e);
}

/* The child's side: take the descriptor, say what it is, read through it. */
static int receive_file(int sock, struct sp_error *e)
{
	struct sys_control c = { .want_fds = true };
	char byte, what[512];
	const char *kind;
	ssize_t r;
	int result;

	do {
		r = sys_recvmsg(sock, &byte, 1, 0, NULL, NULL, &c);
		sys_recvmsg_seen(sock, &byte, 1, r, NULL, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return fail_errno(e, SP_FAILURE, errno, "recvmsg(%d)", sock);
	if (c.nfds == 0)
		return fail(e, SP_FAILURE, "recvmsg(%d): no descriptor came%s", sock,
			    c.truncated ? " (MSG_CTRUNC)" : "");
	for (int i = 1; i < c.nfds; i++)	/* one was sent: any more are not ours */
		sys_close(c.fds[i]);
	kind = io_describe_fd(c.fds[0], what, sizeof(what));
	printf("child %d: received descriptor %d: %s (%s)\n", (int)getpid(), c.fds[0], what, kind);
	result = print_first_line(c.fds[0], e);
	sys_close(c.fds[0]);
	return result;
}

/* The parent's last word: where the shared offset is now. */
static void print_offset(int fd)
{
	off_t at = sys_lseek(fd, 0, SEEK_CUR);

	if (at < 0)
		printf("parent: offset unknown (lseek: %s)\n", strerror(errno));
	else
		printf("parent: offset now %lld\n", (long long)at);
}

/*
 * The parent opens the file and sends its descriptor over the pair; the
 * child reads a line through it; the offset the child moved is the
 * parent's too: one open file description, two descriptors.
 */
static int pass_file(const struct fork_echo_opts *o, int fds[2])
{
	static const char carrier = '\0';
	struct sp_error e, child_error;
	int file, r, child_status;
	pid_t pid;

	file = sys_open(o->pass_file, O_RDONLY | O_CLOEXEC, "O_RDONLY|O_CLOEXEC");
	if (file < 0) {
		fail_errno(&e, SP_FAILURE, errno, "open(\"%s\")", o->pass_file);
		sys_close(fds[0]);
		sys_close(fds[1]);
		return report_failure(&e);
	}
	pid = proc_fork(&e);
	if (pid == 0) {
		sys_close(fds[1]);
		sys_close(file);
		r = receive_file(fds[0], &e);
		sys_close(fds[0]);
		proc_exit_child(r < 0 ? report_failure(&e) : SP_OK);
	}
	sys_close(fds[0]);
	r = pid < 0 ? -1 : net_send_fds(fds[1], &carrier, 1, &file, 1, &e);
	sys_close(fds[1]);
	child_status = pid < 0 ? 0 : proc_wait(pid, &child_error);
	if (r == 0 && child_status == 0)
		print_offset(file);
	sys_close(file);
	if (r < 0)
		return report_failure(&e);
	return child_status < 0 ? report_failure(&child_error) : SP_OK;
}

/* ---- the command ----------------------------------------------------- */

static _Noreturn void run_child(const struct fork_echo_opts *o, int fds[2])
{
	char shown[SHOWN_MAX];
	struct sp_error e;
	int r, parent_fd = o->diagnostics[1];	/* lives as long as the child */

	/* To the parent before the first traced call: written straight to the
	 * terminal, a line would land on the parent's prompt. */
	if (o->diagnostics[1] >= 0) {
		out_set_writer((struct out_writer){ write_to_parent, &parent_fd });
		/* Not stderr: no lock to share.  Held while the pipe is full, it
		 * would stop the parent, which empties the pipe, in its own trace. */
		out_set_lock(NULL);
		sys_close(o->diagnostics[0]);
	}
	sys_close(fds[1]);
	/* Ctrl-C is for the parent, which ends the child by closing the pair. */
	if (o->interactive)
		signal(SIGINT, SIG_IGN);
	r = o->interactive ? echo_lines(fds[0], &e) : child_side(o, fds[0], shown, &e);
	sys_close(fds[0]);
	if (r == 0 && !o->interactive) {
		printf("%s\n", shown);
		r = io_flush_stdout(&e);
	}
	proc_exit_child(r < 0 ? report_failure(&e) : SP_OK);
}

static int cmd_fork_echo_exec(int argc, char **argv)
{
	struct fork_echo_opts o = { .style = STYLE_SOCKET, .type = SOCK_STREAM,
				    .diagnostics = { -1, -1 } };
	struct sp_error e, child_error;
	char shown[SHOWN_MAX];
	struct child_lines lines = { .len = 0 };	/* the child's, to print */
	int fds[2], r, child_status;
	pid_t pid;

	parse_fork_echo_options(argc, argv, &o);
	if (net_socketpair(AF_UNIX, o.type, 0, fds, &e) < 0)
		return report_failure(&e);
	if (o.pass_file)
		return pass_file(&o, fds);
	/* Without it, the child's lines go to stderr as they would anyway. */
	if (o.interactive && sys_isatty(STDIN_FILENO) && sys_isatty(STDOUT_FILENO) &&
	    sys_pipe(o.diagnostics) < 0)
		o.diagnostics[0] = o.diagnostics[1] = -1;
	pid = proc_fork(&e);
	if (pid == 0)
		run_child(&o, fds);
	if (pid < 0) {
		sys_close(fds[0]);
		sys_close(fds[1]);
		close_diagnostics(&o);
		return report_failure(&e);
	}
	sys_close(fds[0]);
	if (o.diagnostics[1] >= 0) {
		sys_close(o.diagnostics[1]);
		o.diagnostics[1] = -1;
	}
	if (o.interactive)
		r = relay_to_child(fds[1], &o, &lines, &e);
	else
		r = parent_side(&o, fds[1], pid, shown, &e);
	sys_close(fds[1]);
	child_status = proc_wait(pid, &child_error);
	/* The child's last lines, written as it ended, after the relay. */
	while (o.diagnostics[0] >= 0 && print_child_lines(&lines, o.diagnostics[0]))
		;
	close_diagnostics(&o);
	if (child_status < 0)
		return report_failure(r < 0 ? &e : &child_error);
	if (r < 0)
		return report_failure(&e);
	/* Printed only now that the child is reaped: its line comes first. */
	if (!o.interactive)
		printf("%s\n", shown);
	return o.interactive && proc_stopped_by() ? 128 + proc_stopped_by() : SP_OK;
}

const struct sp_cmd cmd_fork_echo_entry = {
	.name = "fork-echo",
	.capture = CAPTURE_FILE,
	.synopsis = "[--style socket|stream] [-t TYPE] [-i] [--pass-fd FILE]",
	.summary = "Talk to a forked child over a socket pair, as the IPC examples do",
	.options = fork_echo_options,
	.exec = cmd_fork_echo_exec,
};
