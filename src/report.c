/*
 * report.c: the one way to tell the user something on stderr.
 *
 * Errors have SPEC's shape, "sockpair: COMMAND: CALL(DETAILS): REASON".
 * Leaves compose the "CALL(DETAILS): REASON" part in an sp_error (error.c)
 * at the failure site, while errno is still the call's; the command prints
 * it once, at the top, with report_failure().
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *report_command;
bool report_quiet;

/*
 * One write per line, so lines from parent and child never interleave;
 * through the trace's writer, so that on a terminal owned by the line
 * editor the line prints above the one being typed.
 */
static void emit_line(const char *prefix, const char *text)
{
	char line[1024];
	int n = snprintf(line, sizeof(line) - 1, "%s%s", prefix, text);

	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	fflush(stdout);
	trace_write(line, (size_t)n);
}

static void error_prefix(char *buf, size_t size)
{
	if (report_command)
		snprintf(buf, size, "sockpair: %s: ", report_command);
	else
		snprintf(buf, size, "sockpair: ");
}

static void json_error(const struct sp_error *e, const char *prefix)
{
	char line[2048], message[1024];
	struct json j;

	snprintf(message, sizeof(message), "%s%s", prefix, e->text);
	json_begin(&j, line, sizeof(line), "error", clock_since_start());
	json_cstring(&j, "message", message);
	json_string(&j, "call", e->text, strcspn(e->text, "(:"));
	json_cstring(&j, "errno", e->err ? strerrorname_np(e->err) : NULL);
	json_integer(&j, "status", e->status);
	trace_write(line, json_end(&j));
}

/* Prints e as SPEC's error line (or its JSON event); returns its exit status. */
int report_failure(const struct sp_error *e)
{
	char prefix[64];

	error_prefix(prefix, sizeof(prefix));
	if (trace_json)
		json_error(e, prefix);
	else
		emit_line(prefix, e->text);
	return e->status;
}

/* Prints an error line made here; returns status. */
int report_error(int status, const char *fmt, ...)
{
	struct sp_error e = { .status = status };
	va_list ap;

	va_start(ap, fmt);
	text_vformat(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
	return report_failure(&e);
}

/* An event's JSON object begun, with its peer if there is one. */
static void begin_event(struct json *j, char *line, size_t size, const char *event,
			const char *peer)
{
	json_begin(j, line, size, event, clock_since_start());
	if (peer)
		json_cstring(j, "peer", peer);
}

static void vreport_event(const char *event, const char *peer, const char *fmt, va_list ap)
{
	char text[768], line[1024];
	struct json j;

	if (report_quiet)
		return;
	text_vformat(text, sizeof(text), fmt, ap);
	if (!trace_json) {
		emit_line("", text);
		return;
	}
	begin_event(&j, line, sizeof(line), event, peer);
	json_cstring(&j, "message", text);
	trace_write(line, json_end(&j));
}

/*
 * A result asked for (http-head -n's line per request and its summary,
 * --recv-fd's descriptors), on stderr as text even under -q, which
 * silences announcements, not results.
 */
void report_result(const char *fmt, ...)
{
	char text[768];
	va_list ap;

	va_start(ap, fmt);
	text_vformat(text, sizeof(text), fmt, ap);
	va_end(ap);
	emit_line("", text);
}

/* A connection event on stderr, unless -q: the text line, or the JSON event
 * of that name with the peer. */
void report_event(const char *event, const char *peer, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport_event(event, peer, fmt, ap);
	va_end(ap);
}

/*
 * An event of a proxy's connection number, unless -q: "#N " and the text,
 * or the JSON event with "conn": N, the peer if given, and ending (how
 * it was over) if given, else the message.
 */
void report_conn_event(const char *event, unsigned long conn, const char *peer,
		       const char *ending, const char *fmt, ...)
{
	char text[768], shown[800], line[1024];
	struct json j;
	va_list ap;

	if (report_quiet)
		return;
	va_start(ap, fmt);
	text_vformat(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!trace_json) {
		snprintf(shown, sizeof(shown), "#%lu %s", conn, text);
		emit_line("", shown);
		return;
	}
	json_begin(&j, line, sizeof(line), event, clock_since_start());
	json_integer(&j, "conn", (long long)conn);
	if (peer)
		json_cstring(&j, "peer", peer);
	if (ending)
		json_cstring(&j, "ending", ending);
	else
		json_cstring(&j, "message", text);
	trace_write(line, json_end(&j));
}

/* A proxy's new connection: "#N connection from CLIENT", and " (faults on)"
 * (JSON: "faults": true) if the faults touch it. */
void report_conn_opened(unsigned long conn, const char *peer, bool faulty)
{
	char line[1024];
	struct json j;

	if (report_quiet)
		return;
	if (!trace_json) {
		snprintf(line, sizeof(line), "#%lu connection from %s%s", conn, peer,
			 faulty ? " (faults on)" : "");
		emit_line("", line);
		return;
	}
	json_begin(&j, line, sizeof(line), "connection", clock_since_start());
	json_integer(&j, "conn", (long long)conn);
	json_cstring(&j, "peer", peer);
	if (faulty)
		json_bool(&j, "faults", true);
	trace_write(line, json_end(&j));
}

/* Any other announcement, unless -q: its JSON event is a "note". */
void report_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport_event("note", NULL, fmt, ap);
	va_end(ap);
}

/* A descriptor received from peer: "received descriptor N: WHAT (KIND)". */
void report_descriptor(const char *peer, int fd, const char *what, const char *kind)
{
	char line[1024];
	struct json j;

	/* Asked for (--recv-fd): not an announcement -q silences. */
	if (!trace_json) {
		report_result("received descriptor %d: %s (%s)", fd, what, kind);
		return;
	}
	begin_event(&j, line, sizeof(line), "descriptor", peer);
	json_integer(&j, "fd", fd);
	json_cstring(&j, "target", what);
	json_cstring(&j, "kind", kind);
	trace_write(line, json_end(&j));
}

/* Who sent a message (SCM_CREDENTIALS): "credentials: pid N uid N gid N". */
void report_credentials(const char *peer, int pid, unsigned uid, unsigned gid)
{
	char line[512];
	struct json j;

	if (!trace_json) {
		report_result("credentials: pid %d uid %u gid %u", pid, uid, gid);
		return;
	}
	begin_event(&j, line, sizeof(line), "credentials", peer);
	json_integer(&j, "pid", pid);
	json_integer(&j, "uid", uid);
	json_integer(&j, "gid", gid);
	trace_write(line, json_end(&j));
}

/*
 * SPEC's announcement "listening on ADDRESS" (a host:port, [v6]:port or a
 * UNIX path), for scripts to read; as JSON, address and port, or path.
 */
void report_listening(const char *address, bool unix_path)
{
	char line[1024];
	struct host_port hp;
	struct json j;

	if (report_quiet)
		return;
	if (!trace_json) {
		emit_line("listening on ", address);
		return;
	}
	json_begin(&j, line, sizeof(line), "listening", clock_since_start());
	if (unix_path || addr_split_host_port(address, strlen(address), &hp) != 0 || !hp.port) {
		json_cstring(&j, "path", address);
	} else {
		json_string(&j, "address", hp.host, hp.host_len);
		json_integer(&j, "port", strtol(hp.port, NULL, 10));
	}
	trace_write(line, json_end(&j));
}

/* The step report_step() began, for its JSON event at the end. */
static char step_text[512];

/*
 * A step in the manual's style: "Sending HTTP HEAD request..." now, and
 * "OK." or "failed." on the same line when it is over.  Progress, so -q
 * silences it; an error line of its own follows a failed step.  As JSON,
 * one "progress" event when the step is over.
 */
void report_step(const char *fmt, ...)
{
	va_list ap;

	if (report_quiet)
		return;
	va_start(ap, fmt);
	text_vformat(step_text, sizeof(step_text), fmt, ap);
	va_end(ap);
	if (trace_json)
		return;
	fflush(stdout);
	trace_write(step_text, strlen(step_text));
	trace_note_open_line(true);
}

/* A step that is its own line ("Reading response:"); as JSON, a progress
 * event that went well. */
void report_milestone(const char *text)
{
	if (report_quiet)
		return;
	if (!trace_json) {
		emit_line("", text);
		return;
	}
	snprintf(step_text, sizeof(step_text), "%s", text);
	report_step_done(true);
}

/* Ends a progress line with "OK." or "failed.". */
void report_step_done(bool ok)
{
	char line[1024];
	struct json j;
	size_t n = strlen(step_text);

	if (report_quiet)
		return;
	if (!trace_json) {
		trace_note_open_line(false);
		trace_write(ok ? "OK.\n" : "failed.\n", ok ? 4 : 8);
		return;
	}
	while (n > 0 && (step_text[n - 1] == '.' || step_text[n - 1] == ':'))
		n--;
	json_begin(&j, line, sizeof(line), "progress", clock_since_start());
	json_string(&j, "step", step_text, n);
	json_bool(&j, "ok", ok);
	trace_write(line, json_end(&j));
}

/*
 * A step that takes a while (bench's rows): on a terminal, a live line
 * rewritten in place with how far it has gone, and erased when the step
 * is over; elsewhere report_step()'s line ("... OK.", or a progress event
 * with --json).  -q silences both.
 */
enum { PROGRESS_EVERY_MS = 250 };

void report_progress_init(struct report_progress *p)
{
	*p = (struct report_progress){
		.live = !report_quiet && !trace_json && sys_isatty(STDERR_FILENO)
	};
}

static void progress_draw(struct report_progress *p, const char *extra)
{
	char line[192];
	int n = snprintf(line, sizeof(line), "\r\033[K%s%s", p->text, extra);

	report_raw(line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
	trace_note_open_line(true);
	p->next = clock_now_seconds() + PROGRESS_EVERY_MS / 1000.0;
}

void report_progress_begin(struct report_progress *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	text_vformat(p->text, sizeof(p->text), fmt, ap);
	va_end(ap);
	p->next = 0;
	if (p->live)
		progress_draw(p, "");
	else
		report_step("%s...", p->text);
}

/* How far the step has gone, 0 to 1: shown when report_progress_due(). */
void report_progress_tick(struct report_progress *p, double fraction)
{
	char extra[16];

	snprintf(extra, sizeof(extra), " %3.0f%%", fraction * 100);
	progress_draw(p, extra);
}

void report_progress_end(struct report_progress *p, bool ok)
{
	if (!p->live) {
		report_step_done(ok);
		return;
	}
	report_raw("\r\033[K", 4);
	trace_note_open_line(false);
}

/* SPEC's usage error: the reason, the Try line, exit 2; plain text even
 * under --json (git's die: exempt from the file's prefix). */
void usage_error(const char *fmt, ...)
{
	char prefix[64], text[512];
	va_list ap;

	va_start(ap, fmt);
	text_vformat(text, sizeof(text), fmt, ap);
	va_end(ap);
	error_prefix(prefix, sizeof(prefix));
	fflush(stdout);
	fprintf(stderr, "%s%s\n", prefix, text);
	if (report_command)
		fprintf(stderr, "Try 'sockpair %s --help' for more information.\n", report_command);
	else
		fputs("Try 'sockpair --help' for more information.\n", stderr);
	exit(SP_USAGE);
}

/* The file whose lock parent and child take to write to stderr; -1: none. */
static int stderr_lock = -1;

static void lock_stderr(bool lock)
{
	(void)sys_lock_quiet(stderr_lock, lock);
}

/*
 * Before a fork whose child writes diagnostics to our stderr too.  A pipe
 * keeps only writes of 4 KiB whole, and a -x chunk or a JSON line is
 * longer: without a lock one process's lines landed inside the other's.
 */
void report_share_stderr(void)
{
	if (!trace_enabled && !trace_json && !conn_wanted())
		return;	/* errors only: one line, one write */
	if (stderr_lock < 0)
		stderr_lock = sys_memfd_quiet("sockpair-stderr");
	if (stderr_lock >= 0)
		trace_set_lock(lock_stderr);
}

/*
 * Bytes to stderr as they are, all of them: the trace's lines go out
 * through here.  A stderr that stays full (EAGAIN, set by someone else)
 * is waited for; one that fails loses the rest, with nowhere to say so.
 */
void report_raw(const char *bytes, size_t n)
{
	struct pollfd p = { .fd = STDERR_FILENO, .events = POLLOUT };

	while (n > 0) {
		ssize_t w = sys_write_quiet(STDERR_FILENO, bytes, n);
		if (w < 0 && (errno == EINTR || (errno == EAGAIN && sys_poll(&p, 1, -1) >= 0)))
			continue;
		if (w <= 0)
			break;
		bytes += w;
		n -= (size_t)w;
	}
}

/* The trace's writer (main sets it): its lines, as report_raw() writes. */
void report_trace_line(void *arg, const char *line, size_t n)
{
	(void)arg;
	report_raw(line, n);
}
