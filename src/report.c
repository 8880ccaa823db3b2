/*
 * report.c: the one way to tell the user something on stderr.
 *
 * Errors have SPEC's shape, "sockpair: COMMAND: CALL(DETAILS): REASON".
 * Leaves compose the "CALL(DETAILS): REASON" part with fail() or
 * fail_errno() at the failure site, while errno is still the call's; the
 * command prints it once, at the top, with report_failure().
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

int fail(struct sp_error *e, int status, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->err = 0;
	va_start(ap, fmt);
	vformat(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return -1;
}

int fail_errno(struct sp_error *e, int status, int err, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	e->status = status;
	e->err = err;
	va_start(ap, fmt);
	vformat(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	used = strlen(e->text);
	snprintf(e->text + used, sizeof(e->text) - used, ": %s", strerror(err));
	return -1;
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
	(void)!write(STDERR_FILENO, line, (size_t)n);
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

int report_failure(const struct sp_error *e)
{
	emit_error("%s", e->text);
	return e->status;
}

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

void report_note(const char *fmt, ...)
{
	va_list ap;

	if (report_quiet)
		return;
	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}

/* SPEC's announcement, with the port the kernel gave, for scripts to read. */
void report_listening(int fd, const char *unix_path)
{
	char name[128];

	if (unix_path)
		report_note("listening on %s", unix_path);
	else if (net_name_of(fd, false, name, sizeof(name)) == 0)
		report_note("listening on %s", name);
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
	(void)!write(STDERR_FILENO, line, strlen(line));
}

void report_step_done(bool ok)
{
	if (!report_quiet)
		(void)!write(STDERR_FILENO, ok ? "OK.\n" : "failed.\n", ok ? 4 : 8);
}

void usage_error(const char *fmt, ...)
{
	struct sp_error e;
	va_list ap;

	va_start(ap, fmt);
	vformat(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
	report_failure(&e);
	fputs("Try 'sockpair --help' for more information.\n", stderr);
	exit(SP_USAGE);
}

/* The length of the valid UTF-8 sequence at p (at most n bytes), 0 if none. */
static size_t utf8_sequence(const unsigned char *p, size_t n)
{
	size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
	uint32_t cp;

	if (len == 0 || p[0] > 0xf4 || len > n)
		return 0;
	cp = p[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < (len == 2 ? 0x80u : len == 3 ? 0x800u : 0x10000u) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;	/* overlong, out of range, or a surrogate */
	/* C1 controls (U+0080..U+009F): some terminals obey them too. */
	return cp >= 0x80 && cp <= 0x9f ? 0 : len;
}

/*
 * Bytes from a peer (a UNIX client's name, say), made safe to show: control
 * characters, backslashes and bytes that are not UTF-8 become escapes
 * (\n, \\, \x1b), so nothing a peer sends can move the cursor or forge a
 * line.  Always NUL-terminates; cuts at a whole escape when out is full.
 */
const char *report_escape(const void *buf, size_t n, char *out, size_t size)
{
	static const char named[] = "\n\r\t\\", letter[] = "nrt\\";
	const unsigned char *p = buf;
	size_t used = 0;

	for (size_t i = 0; i < n && size > 0;) {
		const char *hit = p[i] ? memchr(named, p[i], sizeof(named) - 1) : NULL;
		size_t seq = p[i] >= 0x80 ? utf8_sequence(p + i, n - i) : 0;
		char one[8];
		size_t w;

		if (hit)
			w = (size_t)snprintf(one, sizeof(one), "\\%c", letter[hit - named]);
		else if (seq)
			w = (size_t)snprintf(one, sizeof(one), "%.*s", (int)seq, (const char *)p + i);
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			w = (size_t)snprintf(one, sizeof(one), "\\x%02x", p[i]);
		else
			w = (size_t)snprintf(one, sizeof(one), "%c", p[i]);
		if (used + w >= size)
			break;
		memcpy(out + used, one, w);
		used += w;
		i += seq ? seq : 1;
	}
	if (size > 0)
		out[used] = '\0';
	return out;
}
