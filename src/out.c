/*
 * out.c: where the diagnostics' lines go.  One writer takes them: stderr
 * (report.c's, which main() sets), the line editor while it owns the
 * terminal (to print them above the line being typed), a forked child's
 * pipe to its parent.  The sinks (sink-*.c) write through here, so every
 * line reaches the writer whole, ends a progress line left open first, and
 * is kept together with its neighbours while out_hold() says so.
 */
#include "sockpair.h"

static struct out_writer writer;

/* Returns the writer there was, to put back.  Without one (a fuzz
 * harness), lines go nowhere. */
struct out_writer out_set_writer(struct out_writer w)
{
	struct out_writer old = writer;

	writer = w;
	return old;
}

/*
 * Taken around what must reach stderr in one piece when another process
 * writes there too (report.c sets it before a fork); NULL: none needed.
 */
static out_lock_fn *lock;
static int held;

void out_set_lock(out_lock_fn *fn)
{
	lock = fn;
}

/*
 * Keeps the lines written until out_hold(false) together, one process's
 * at a time: a -x chunk is a header and many writes of lines.  Nests.
 */
void out_hold(bool hold)
{
	if ((hold ? held++ : --held) == 0 && lock)
		lock(hold);
}

/* Whether stderr holds a line begun and not ended (a progress step). */
static bool line_open;

void out_note_open_line(bool open)
{
	line_open = open;
}

bool out_has_writer(void)
{
	return writer.write != NULL;
}

/* n bytes of whole lines (or, for a progress step, one left open). */
void out_write(const char *line, size_t n)
{
	if (!writer.write)
		return;
	out_hold(true);
	if (line_open) {
		line_open = false;
		writer.write(writer.arg, "\n", 1);
	}
	writer.write(writer.arg, line, n);
	out_hold(false);
}

/* Bytes as they are, for a live line that rewrites itself in place. */
void out_write_raw(const char *bytes, size_t n)
{
	if (writer.write)
		writer.write(writer.arg, bytes, n);
}
