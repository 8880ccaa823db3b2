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
#include <string.h>
#include <unistd.h>

bool trace_enabled;
static char trace_prefix[32];
typedef void trace_writer_fn(const char *line, size_t n);
static trace_writer_fn *trace_writer;

/*
 * Where trace lines go: stderr, through report.c, which main() sets; the
 * editor takes them while it owns the terminal, to print them above the
 * line being typed.  Returns the writer there was, to put back.  Without
 * one (a fuzz harness), lines go nowhere.
 */
trace_writer_fn *trace_set_writer(trace_writer_fn *writer)
{
	trace_writer_fn *old = trace_writer;

	trace_writer = writer;
	return old;
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
}

/*
 * A whole line to where trace lines go (-x and --stats use it too): a
 * progress line being printed is ended first.
 */
void trace_write(const char *line, size_t n)
{
	if (!trace_writer)
		return;
	if (line_open) {
		line_open = false;
		trace_writer("\n", 1);
	}
	trace_writer(line, n);
}

static void trace_line(const char *call, const char *result)
{
	char line[512];
	int n;

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
