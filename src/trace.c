/*
 * trace.c: --trace, the one place that makes a call and its result a
 * record (record.c; the sinks print it).
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

bool trace_enabled;

/*
 * A call as a record: the strace-like line, and for JSON its name, the
 * arguments as shown, the result (a number where it is one, else the
 * text: "[3, 4]", an address), and the errno name of a failure.
 */
static void trace_line(const char *call, const char *result)
{
	const char *open = strchr(call, '(');
	size_t name_len = open ? (size_t)(open - call) : strlen(call);
	size_t args_len = open && strlen(open) >= 2 ? strlen(open) - 2 : 0;
	char *end, name[32];
	long long number = strtoll(result, &end, 10);
	struct record r;

	record_init(&r, RECORD_CALL, "call");
	record_text(&r, "%s%s = %s", record_child_prefix(), call, result);
	record_child_field(&r);
	record_string(&r, "name", call, name_len);
	record_string(&r, "args", open ? open + 1 : "", args_len);
	if (end != result && (*end == '\0' || *end == ' '))
		record_integer(&r, "result", number);
	else
		record_cstring(&r, "result", result);
	if (number == -1 && *end == ' ') {
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(end + 1, " "), end + 1);
		record_cstring(&r, "errno", name);
	} else {
		record_cstring(&r, "errno", NULL);
	}
	event_emit(&r);
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
