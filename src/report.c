/*
 * report.c: the one way to tell the user something on stderr.
 *
 * Errors have SPEC's shape, "sockpair: COMMAND: CALL(DETAILS): REASON".
 * Leaves compose the "CALL(DETAILS): REASON" part in an sp_error (error.c)
 * at the failure site, while errno is still the call's; the command prints
 * it once, at the top, with report_failure().
 */
#include "sockpair.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *report_command;
bool report_quiet;

static void vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	if (vsnprintf(buf, size, fmt, ap) < 0)
		snprintf(buf, size, "(unprintable)");
}

/* One write per line, so lines from parent and child never interleave. */
static void emit(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "%s", prefix);
	vformat(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	fflush(stdout);
	(void)!sys_write_quiet(STDERR_FILENO, line, (size_t)n);
}

static void emit_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void emit_error(const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	if (report_command)
		snprintf(prefix, sizeof(prefix), "sockpair: %s: ", report_command);
	else
		snprintf(prefix, sizeof(prefix), "sockpair: ");
	va_start(ap, fmt);
	emit(prefix, fmt, ap);
	va_end(ap);
}

/* Prints e as SPEC's error line; returns its exit status. */
int report_failure(const struct sp_error *e)
{
	emit_error("%s", e->text);
	return e->status;
}

/* Prints an error line made here; returns status. */
int report_error(int status, const char *fmt, ...)
{
	struct sp_error e;
	va_list ap;

	va_start(ap, fmt);
	vformat(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
	e.status = status;
	return report_failure(&e);
}

/* An announcement or connection event on stderr, unless -q. */
void report_note(const char *fmt, ...)
{
	va_list ap;

	if (report_quiet)
		return;
	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}

/*
 * A step in the manual's style: "Sending HTTP HEAD request..." now, and
 * "OK." or "failed." on the same line when it is over.  Progress, so -q
 * silences it; an error line of its own follows a failed step.
 */
void report_step(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (report_quiet)
		return;
	va_start(ap, fmt);
	vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	fflush(stdout);
	(void)!sys_write_quiet(STDERR_FILENO, line, strlen(line));
	trace_note_open_line(true);
}

/* Ends a progress line with "OK." or "failed.". */
void report_step_done(bool ok)
{
	if (report_quiet)
		return;
	(void)!sys_write_quiet(STDERR_FILENO, ok ? "OK.\n" : "failed.\n", ok ? 4 : 8);
	trace_note_open_line(false);
}

/* SPEC's usage error: the reason, the Try line, exit 2 (git's die, exempt from the prefix). */
void usage_error(const char *fmt, ...)
{
	struct sp_error e;
	va_list ap;

	va_start(ap, fmt);
	vformat(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
	report_failure(&e);
	if (report_command)
		fprintf(stderr, "Try 'sockpair %s --help' for more information.\n", report_command);
	else
		fputs("Try 'sockpair --help' for more information.\n", stderr);
	exit(SP_USAGE);
}

/* Bytes to stderr as they are: the trace's lines go out through here. */
void report_raw(const char *bytes, size_t n)
{
	(void)!sys_write_quiet(STDERR_FILENO, bytes, n);
}
