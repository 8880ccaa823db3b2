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

static void error_prefix(char *buf, size_t size)
{
	if (report_command)
		snprintf(buf, size, "sockpair: %s: ", report_command);
	else
		snprintf(buf, size, "sockpair: ");
}

/* Prints e as SPEC's error line (or its JSON event); returns its exit status. */
int report_failure(const struct sp_error *e)
{
	struct record r;

	record_init(&r, RECORD_LINE, "error");
	error_prefix(r.text, sizeof(r.text));
	r.text_len = strlen(r.text);
	record_text(&r, "%s", e->text);
	record_string(&r, "message", r.text, r.text_len);
	record_string(&r, "call", e->text, strcspn(e->text, "(:"));
	record_cstring(&r, "errno", e->err ? strerrorname_np(e->err) : NULL);
	record_integer(&r, "status", e->status);
	event_emit(&r);
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

/* An announcement: its text, and as JSON the event with the peer (if
 * any) and the text as its message. */
static void vreport_event(const char *event, const char *peer, const char *fmt, va_list ap)
{
	struct record r;

	if (record_quiet)
		return;
	record_announce(&r, event);
	text_vformat(r.text, sizeof(r.text), fmt, ap);
	r.text_len = strlen(r.text);
	if (peer)
		record_cstring(&r, "peer", peer);
	record_string(&r, "message", r.text, r.text_len);
	event_emit(&r);
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
	struct record r;
	va_list ap;

	if (record_quiet)
		return;
	record_announce(&r, event);
	record_text(&r, "#%lu ", conn);
	va_start(ap, fmt);
	text_vformat(r.text + r.text_len, sizeof(r.text) - r.text_len, fmt, ap);
	va_end(ap);
	record_integer(&r, "conn", (long long)conn);
	if (peer)
		record_cstring(&r, "peer", peer);
	if (ending)
		record_cstring(&r, "ending", ending);
	else
		record_cstring(&r, "message", r.text + r.text_len);
	r.text_len = strlen(r.text);
	event_emit(&r);
}

/* A proxy's new connection: "#N connection from CLIENT", and " (faults on)"
 * (JSON: "faults": true) if the faults touch it. */
void report_conn_opened(unsigned long conn, const char *peer, bool faulty)
{
	struct record r;

	record_announce(&r, "connection");
	record_text(&r, "#%lu connection from %s%s", conn, peer, faulty ? " (faults on)" : "");
	record_integer(&r, "conn", (long long)conn);
	record_cstring(&r, "peer", peer);
	if (faulty)
		record_bool(&r, "faults", true);
	event_emit(&r);
}

/* Any other announcement, unless -q: its JSON event is a "note". */
void report_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport_event("note", NULL, fmt, ap);
	va_end(ap);
}

/* "sockpair: CMD: WHAT": a warning, never silenced, not an error. */
void report_warning(const char *fmt, ...)
{
	struct record r;
	va_list ap;

	record_init(&r, RECORD_LINE, "warning");
	error_prefix(r.text, sizeof(r.text));
	r.text_len = strlen(r.text);
	va_start(ap, fmt);
	text_vformat(r.text + r.text_len, sizeof(r.text) - r.text_len, fmt, ap);
	va_end(ap);
	r.text_len = strlen(r.text);
	record_cstring(&r, "message", r.text + strlen("sockpair: ") +
		       (report_command ? strlen(report_command) + 2 : 0));
	event_emit(&r);
}

/*
 * A descriptor received from peer: "received descriptor N: WHAT (KIND)".
 * Asked for (--recv-fd): a result, not an announcement -q silences.
 */
void report_descriptor(const char *peer, int fd, const char *what, const char *kind)
{
	struct record r;

	record_init(&r, RECORD_LINE, "descriptor");
	record_text(&r, "received descriptor %d: %s (%s)", fd, what, kind);
	if (peer)
		record_cstring(&r, "peer", peer);
	record_integer(&r, "fd", fd);
	record_cstring(&r, "target", what);
	record_cstring(&r, "kind", kind);
	event_emit(&r);
}

/* Who sent a message (SCM_CREDENTIALS): "credentials: pid N uid N gid N". */
void report_credentials(const char *peer, int pid, unsigned uid, unsigned gid)
{
	struct record r;

	record_init(&r, RECORD_LINE, "credentials");
	record_text(&r, "credentials: pid %d uid %u gid %u", pid, uid, gid);
	if (peer)
		record_cstring(&r, "peer", peer);
	record_integer(&r, "pid", pid);
	record_integer(&r, "uid", uid);
	record_integer(&r, "gid", gid);
	event_emit(&r);
}

/*
 * SPEC's announcement "listening on ADDRESS" (a host:port, [v6]:port or a
 * UNIX path), for scripts to read; as JSON, address and port, or path.
 */
void report_listening(const char *address, bool unix_path)
{
	struct host_port hp;
	struct record r;

	record_announce(&r, "listening");
	record_text(&r, "listening on %s", address);
	if (unix_path || addr_split_host_port(address, strlen(address), &hp) != 0 || !hp.port) {
		record_cstring(&r, "path", address);
	} else {
		record_string(&r, "address", hp.host, hp.host_len);
		record_integer(&r, "port", strtol(hp.port, NULL, 10));
	}
	event_emit(&r);
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
	struct record r;
	va_list ap;

	if (record_quiet)
		return;
	va_start(ap, fmt);
	text_vformat(step_text, sizeof(step_text), fmt, ap);
	va_end(ap);
	record_init(&r, RECORD_STEP, "progress");
	r.announcement = r.text_only = true;
	record_text(&r, "%s", step_text);
	event_emit(&r);
}

/* The step's name for JSON: its text without the dots or colon after it. */
static size_t step_name_length(void)
{
	size_t n = strlen(step_text);

	while (n > 0 && (step_text[n - 1] == '.' || step_text[n - 1] == ':'))
		n--;
	return n;
}

static void end_step(bool ok, bool live)
{
	struct record r;

	record_init(&r, RECORD_STEP_DONE, "progress");
	r.announcement = true;
	r.live = live;
	record_text(&r, "%s", ok ? "OK." : "failed.");
	record_string(&r, "step", step_text, step_name_length());
	record_bool(&r, "ok", ok);
	event_emit(&r);
}

/* Ends a progress line with "OK." or "failed.". */
void report_step_done(bool ok)
{
	end_step(ok, false);
}

/* A step that is its own line ("Reading response:"); as JSON, a progress
 * event that went well. */
void report_milestone(const char *text)
{
	struct record r;

	if (record_quiet)
		return;
	snprintf(step_text, sizeof(step_text), "%s", text);
	record_announce(&r, "progress");
	record_text(&r, "%s", text);
	record_string(&r, "step", step_text, step_name_length());
	record_bool(&r, "ok", true);
	event_emit(&r);
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
		.live = record_live_progress() && sys_isatty(STDERR_FILENO)
	};
}

/* fraction < 0: just begun. */
static void progress_draw(struct report_progress *p, double fraction)
{
	struct record r;

	record_init(&r, RECORD_PROGRESS, "progress");
	r.announcement = r.text_only = true;
	r.fraction = fraction;
	record_text(&r, "%s", p->text);
	event_emit(&r);
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
		progress_draw(p, -1);
	else
		report_step("%s...", p->text);
}

/* How far the step has gone, 0 to 1: shown when report_progress_due(). */
void report_progress_tick(struct report_progress *p, double fraction)
{
	progress_draw(p, fraction);
}

void report_progress_end(struct report_progress *p, bool ok)
{
	if (p->live)
		end_step(ok, true);
	else
		report_step_done(ok);
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
	if (!trace_enabled && !record_json && !conn_wanted())
		return;	/* errors only: one line, one write */
	if (stderr_lock < 0)
		stderr_lock = sys_memfd_quiet("sockpair-stderr");
	if (stderr_lock >= 0)
		out_set_lock(lock_stderr);
}

/* The child is gone (the parent), or about to be (the child): no lock. */
void report_release_stderr(void)
{
	out_set_lock(NULL);
	if (stderr_lock >= 0)
		(void)sys_close_quiet(stderr_lock);
	stderr_lock = -1;
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
