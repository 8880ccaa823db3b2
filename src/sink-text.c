/*
 * sink-text.c: records as the lines a user reads: each record's text, on
 * stderr (a result row: stdout), a progress step's line left open until
 * "OK." or "failed." ends it, and a long step on a terminal as a live
 * line rewritten in place with how far it has gone, erased when done.
 */
#include "sockpair.h"

#include <string.h>

/* The longest line written whole; longer texts go out as they are. */
enum { TEXT_LINE_MAX = RECORD_TEXT + 64 };

static void write_line(const char *text, size_t n)
{
	char line[TEXT_LINE_MAX];

	memcpy(line, text, n);
	line[n++] = '\n';
	out_write(line, n);
}

/* "\r\033[K": back to the line's start, and the line erased. */
static void draw_live(const struct record *r)
{
	char line[TEXT_LINE_MAX];
	int n;

	if (r->fraction < 0)
		n = snprintf(line, sizeof(line), "\r\033[K%s", r->text);
	else
		n = snprintf(line, sizeof(line), "\r\033[K%s %3.0f%%", r->text, r->fraction * 100);
	out_write_raw(line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
	out_note_open_line(true);
}

static void end_step(const struct record *r)
{
	if (r->live) {
		out_write_raw("\r\033[K", 4);
		out_note_open_line(false);
		return;
	}
	out_note_open_line(false);
	fflush(stdout);
	write_line(r->text, r->text_len);
}

void sink_text_emit(const struct record *r)
{
	switch (r->kind) {
	case RECORD_STEP:
		fflush(stdout);
		out_write(r->text, r->text_len);
		out_note_open_line(true);
		return;
	case RECORD_PROGRESS:
		draw_live(r);
		return;
	case RECORD_STEP_DONE:
		end_step(r);
		return;
	case RECORD_LINE:
		if (r->to_stdout) {
			printf("%s\n", r->text);
			return;
		}
		break;
	case RECORD_CALL:
	case RECORD_DATA:
		write_line(r->text, r->text_len);
		return;
	case RECORD_FLOW_START:	/* a capture's alone: never shown */
	case RECORD_FLOW_END:
		return;
	}
	/* Data on stdout first: a diagnostic tells of what came before it. */
	fflush(stdout);
	write_line(r->text, r->text_len);
}
