/*
 * trace.c: --trace, the one place that formats a call and its result.
 *
 * Lines look like strace's, one per call, on stderr:
 *   socketpair(AF_UNIX, SOCK_STREAM, 0) = [3, 4]
 *   write(3, "ABCdef123\n", 10) = 10
 *   connect(5, 127.0.0.1:1) = -1 ECONNREFUSED (Connection refused)
 * Every function here leaves errno as it found it, so a wrapper can trace
 * between the call and the caller's look at errno.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool trace_enabled, trace_json;
static char trace_prefix[32];
/* The pid of a forked child, 0 in the parent: JSON lines carry it. */
static int child_pid;
static struct trace_writer trace_writer;

/*
 * Where trace lines go: stderr, through report.c, which main() sets; the
 * editor takes them while it owns the terminal, to print them above the
 * line being typed.  Returns the writer there was, to put back.  Without
 * one (a fuzz harness), lines go nowhere.
 */
struct trace_writer trace_set_writer(struct trace_writer writer)
{
	struct trace_writer old = trace_writer;

	trace_writer = writer;
	return old;
}

/*
 * Taken around what must reach stderr in one piece when another process
 * writes there too (report.c sets it before a fork); NULL: none needed.
 */
static trace_lock_fn *trace_lock;
static int trace_held;

void trace_set_lock(trace_lock_fn *lock)
{
	trace_lock = lock;
}

/*
 * Keeps the lines written until trace_hold(false) together, one process's
 * at a time: a -x chunk is a header and many writes of lines.  Nests.
 */
void trace_hold(bool hold)
{
	if ((hold ? trace_held++ : --trace_held) == 0 && trace_lock)
		trace_lock(hold);
}

/* The command, for --json's first event. */
static const char *command_name;
static bool start_sent;

void trace_set_command(const char *name)
{
	command_name = name;
}

/* --json's first line, before whatever comes first. */
static void send_start_event(void)
{
	char line[256];
	struct json j;

	if (!trace_writer.write)
		return;
	start_sent = true;
	json_begin(&j, line, sizeof(line), "start", 0.0);
	json_integer(&j, "version", 1);
	json_cstring(&j, "command", command_name);
	json_cstring(&j, "sockpair", SOCKPAIR_VERSION);
	trace_writer.write(trace_writer.arg, line, json_end(&j));
}

/*
 * --json's start event now, if nothing has sent it yet: at the end of a
 * run that had nothing else to say (SPEC: always printed), and before a
 * fork, so that a child's first line does not begin a second start.
 */
void trace_start(void)
{
	if (!trace_json || start_sent)
		return;
	trace_hold(true);
	send_start_event();
	trace_hold(false);
}

/* Whether stderr holds a line begun and not ended (a progress step). */
static bool line_open;

/* report.c says when its progress line is left open, or closed. */
void trace_note_open_line(bool open)
{
	line_open = open;
}

/* A forked child's lines begin "[pid N] " from now on. */
void trace_set_child(void)
{
	snprintf(trace_prefix, sizeof(trace_prefix), "[pid %d] ", (int)getpid());
	child_pid = (int)getpid();
}

/*
 * A whole line to where trace lines go (-x and --stats use it too): a
 * progress line being printed is ended first.
 */
void trace_write(const char *line, size_t n)
{
	if (!trace_writer.write)
		return;
	trace_hold(true);
	if (trace_json && !start_sent)
		send_start_event();
	if (line_open) {
		line_open = false;
		trace_writer.write(trace_writer.arg, "\n", 1);
	}
	trace_writer.write(trace_writer.arg, line, n);
	trace_hold(false);
}

/*
 * A call as a JSON object: its name, the arguments as shown, the result
 * (a number where it is one, else the text: "[3, 4]", an address), and
 * the errno name of a failure.
 */
static void json_call(const char *call, const char *result)
{
	char line[1024], *end;
	const char *open = strchr(call, '(');
	size_t name_len = open ? (size_t)(open - call) : strlen(call);
	size_t args_len = open && strlen(open) >= 2 ? strlen(open) - 2 : 0;
	long long number = strtoll(result, &end, 10);
	struct json j;

	json_begin(&j, line, sizeof(line), "call", clock_since_start());
	if (child_pid)
		json_integer(&j, "pid", child_pid);
	json_string(&j, "name", call, name_len);
	json_string(&j, "args", open ? open + 1 : "", args_len);
	if (end != result && (*end == '\0' || *end == ' '))
		json_integer(&j, "result", number);
	else
		json_cstring(&j, "result", result);
	if (number == -1 && *end == ' ') {
		char name[32];
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(end + 1, " "), end + 1);
		json_cstring(&j, "errno", name);
	} else {
		json_cstring(&j, "errno", NULL);
	}
	trace_write(line, json_end(&j));
}

static void trace_line(const char *call, const char *result)
{
	char line[512];
	int n;

	if (trace_json) {
		json_call(call, result);
		return;
	}
	n = snprintf(line, sizeof(line), "%s%s = %s\n", trace_prefix, call, result);
	if (n >= (int)sizeof(line)) {
		n = (int)sizeof(line);
		line[n - 1] = '\n';
	}
	trace_write(line, (size_t)n);
}

static void format_errno_result(char *buf, size_t size, int err)
{
	const char *name = strerrorname_np(err);

	snprintf(buf, size, "-1 %s (%s)", name ? name : "E?", strerror(err));
}

/* "call = result" with the result given as text; errno left as found. */
void trace_call(const char *result, const char *fmt, ...)
{
	int saved = errno;
	char call[384];
	va_list ap;

	if (!trace_enabled)
		return;
	va_start(ap, fmt);
	vsnprintf(call, sizeof(call), fmt, ap);
	va_end(ap);
	trace_line(call, result);
	errno = saved;
}

/* "= ret", or "= -1 ENAME (reason)" from errno as the call left it. */
void trace_ret(long ret, const char *fmt, ...)
{
	int saved = errno;
	char call[384], result[128];
	va_list ap;

	if (!trace_enabled)
		return;
	if (ret < 0)
		format_errno_result(result, sizeof(result), saved);
	else
		snprintf(result, sizeof(result), "%ld", ret);
	va_start(ap, fmt);
	vsnprintf(call, sizeof(call), fmt, ap);
	va_end(ap);
	trace_line(call, result);
	errno = saved;
}

/*
 * A call that moves data: call(fd, "data", count[, extra]) = ret.  As
 * strace does, a write shows the bytes it was given, a read the bytes it
 * returned: the caller says how many of buf to show.
 */
void trace_data(const char *call, int fd, const void *buf, size_t shown_len,
		size_t count, ssize_t ret, const char *extra)
{
	int saved = errno;
	char shown[TEXT_QUOTE_SIZE];

	if (!trace_enabled)
		return;
	if (ret < 0 && shown_len == 0)
		snprintf(shown, sizeof(shown), "...");
	else
		text_quote(shown, sizeof(shown), buf, shown_len);
	trace_ret(ret, "%s(%d, %s, %zu%s%s)", call, fd, shown, count, extra ? ", " : "",
		  extra ? extra : "");
	errno = saved;
}
