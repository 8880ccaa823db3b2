/*
 * record.c: one event record for everything sockpair tells the user on
 * stderr: a call (--trace), a chunk of data (-x), a connection's event, a
 * progress step, a stats line, a result, an error.  Whoever has something
 * to say fills a record (its kind, its JSON event name, its fields, and
 * its line of text) and hands it to event_emit(); the sinks that are on
 * format it: text or JSON (--json), the hexdump of a chunk (-x).  No
 * command decides between text and JSON, and another output (a capture
 * file) is one more sink, not a branch in every command.
 *
 * A field's string is the caller's: it must live until event_emit()
 * returns.  A record too full for more fields or text keeps what fitted.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool record_json, record_quiet;
const char *record_command;

static char child_prefix[24];
static int child_pid;

/* A forked child's records carry its pid ("[pid N] " in text); it writes
 * no capture (its peer, the parent, records the same bytes). */
void record_set_child(void)
{
	sink_pcap_forget();
	child_pid = (int)getpid();
	snprintf(child_prefix, sizeof(child_prefix), "[pid %d] ", child_pid);
}

/* "[pid N] " in a forked child, "" in the parent. */
const char *record_child_prefix(void)
{
	return child_prefix;
}

void record_init(struct record *r, enum record_kind kind, const char *event)
{
	r->kind = kind;
	r->event = event;
	r->announcement = r->text_only = r->to_stdout = r->live = false;
	r->time = clock_since_start();
	r->fraction = 0;
	r->text_len = 0;
	r->text[0] = '\0';
	r->nfields = 0;
	r->data = NULL;
	r->data_len = 0;
	r->offset = 0;
	r->shown = kind == RECORD_DATA;
	r->flow = NULL;
	r->from = 0;
	r->reset = false;
	r->other = NULL;
	r->mark = 0;
}

/* An announcement -q silences (a result or an error is never silenced). */
void record_announce(struct record *r, const char *event)
{
	record_init(r, RECORD_LINE, event);
	r->announcement = true;
}

/* Appends to the record's text; "\n" between lines, none after the last. */
void record_text(struct record *r, const char *fmt, ...)
{
	size_t room = sizeof(r->text) - r->text_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->text + r->text_len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		r->text[r->text_len] = '\0';
	else
		r->text_len += (size_t)n < room ? (size_t)n : room - 1;
}

static struct record_field *add_field(struct record *r, const char *key, enum field_type type)
{
	struct record_field *f;

	if (r->nfields >= RECORD_FIELDS)
		return NULL;
	f = &r->field[r->nfields++];
	*f = (struct record_field){ .key = key, .type = type };
	return f;
}

void record_string(struct record *r, const char *key, const void *s, size_t n)
{
	struct record_field *f = add_field(r, key, FIELD_STRING);

	if (f) {
		f->s = s;
		f->len = n;
	}
}

/* NULL is JSON's null. */
void record_cstring(struct record *r, const char *key, const char *s)
{
	record_string(r, key, s, s ? strlen(s) : 0);
}

void record_integer(struct record *r, const char *key, long long v)
{
	struct record_field *f = add_field(r, key, FIELD_INTEGER);

	if (f)
		f->i = v;
}

void record_number(struct record *r, const char *key, double v, int decimals)
{
	struct record_field *f = add_field(r, key, FIELD_NUMBER);

	if (f) {
		f->d = v;
		f->decimals = decimals;
	}
}

void record_bool(struct record *r, const char *key, bool v)
{
	struct record_field *f = add_field(r, key, FIELD_BOOL);

	if (f)
		f->b = v;
}

/* "key": { ... } around the fields added until record_close(). */
void record_open(struct record *r, const char *key)
{
	add_field(r, key, FIELD_OPEN);
}

void record_close(struct record *r)
{
	add_field(r, NULL, FIELD_CLOSE);
}

/* The pid field of a forked child's record (none in the parent). */
void record_child_field(struct record *r)
{
	if (child_pid)
		record_integer(r, "pid", child_pid);
}

/* Whether a long step may be drawn as a live line (the text sink's, if
 * stderr is a terminal). */
bool record_live_progress(void)
{
	return !record_quiet && !record_json;
}

/* --json's start event now, if nothing has sent it yet: at the end of a
 * run that had nothing else to say (SPEC: always printed), and before a
 * fork, so that a child's first line does not begin a second start. */
void record_start(void)
{
	if (record_json)
		sink_json_start();
}

/* The record to the sinks that are on. */
void event_emit(const struct record *r)
{
	if (r->flow && sink_pcap_on())
		sink_pcap_emit(r);
	if ((r->kind == RECORD_DATA && !r->shown) || r->kind == RECORD_FLOW_START ||
	    r->kind == RECORD_FLOW_END)
		return;
	if (r->announcement && record_quiet)
		return;
	if (record_json) {
		if (!r->text_only)
			sink_json_emit(r);
		return;
	}
	if (r->kind == RECORD_DATA)
		sink_hexdump_emit(r);
	else
		sink_text_emit(r);
}
