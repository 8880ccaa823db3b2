/*
 * editor.c: interactive input through GNU readline's callback interface,
 * so that one poll() loop serves both the keyboard and the socket.
 *
 * What the peer sends is printed above the line being typed: the prompt
 * and the typed text are cleared, the output written, and readline redraws
 * them below.  A trailing unterminated line of output (a server's
 * "login: ") becomes the prompt itself, so the user types after it.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

/* A longer partial line, or one with control bytes, is not a prompt. */
enum { PARTIAL_MAX = 256 };

/* Lines kept in the history file across runs. */
enum { HISTORY_MAX = 1000 };

struct editor {
	char *held;		/* a typed line and its "\n", not yet taken */
	size_t held_len, held_off;
	bool installed;
	bool eof;
	char *history_path;	/* NULL: this session's history only */
	struct out_writer previous_writer;	/* put back at editor_close() */
	int history_added;
	char prompt[64];
	char partial[PARTIAL_MAX + 1];	/* peer output after its last "\n" */
	size_t partial_len;
};

/* readline's line handler gets no context pointer: one editor at a time. */
static struct editor *active;
static volatile sig_atomic_t resized, stop_asked;

static void note_resize(int sig)
{
	(void)sig;
	resized = 1;
}

/* Ctrl-Z: noted here (it interrupts the wait), done by editor_follow_signals(). */
static void note_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static void catch_stop(void)
{
	struct sigaction sa = { .sa_handler = note_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTSTP, &sa, NULL);
}

/*
 * Suspends as the shell asked, and comes back exactly as we were: the
 * terminal is given back to its cooked mode before the stop (the shell
 * then finds it as it left it), taken again after fg, and the prompt
 * with the half-typed line redrawn.
 */
static void suspend(void)
{
	stop_asked = 0;
	rl_clear_visible_line();
	fflush(rl_outstream);
	rl_deprep_terminal();
	signal(SIGTSTP, SIG_DFL);
	raise(SIGTSTP);
	/* Here after SIGCONT. */
	catch_stop();
	rl_prep_terminal(1);
	rl_forced_update_display();
}

/* What the signals noted since the last turn asked for: a new size, a stop. */
void editor_follow_signals(struct editor *ed)
{
	if (resized) {
		resized = 0;
		rl_resize_terminal();
	}
	if (stop_asked && ed->installed)
		suspend();
}

static void follow_resize(void)
{
	if (resized) {
		resized = 0;
		rl_resize_terminal();
	}
}

/* What the editor draws is never traced: a trace line would land in it. */
static void write_fd(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = sys_write_quiet(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* a terminal that fails takes the display with it */
		s += w;
		n -= (size_t)w;
	}
}

/* --trace lines while we own the terminal: above the line being typed. */
static void trace_above_prompt(void *arg, const char *line, size_t n)
{
	const struct editor *ed = arg;

	if (!ed->installed) {
		write_fd(STDERR_FILENO, line, n);
		return;
	}
	rl_clear_visible_line();
	fflush(rl_outstream);
	write_fd(STDERR_FILENO, line, n);
	rl_forced_update_display();
}

static void show_prompt(struct editor *ed)
{
	rl_set_prompt(ed->partial_len ? ed->partial : ed->prompt);
}

static void on_line(char *line)
{
	struct editor *ed = active;
	size_t n;

	if (!line) {
		ed->eof = true;
		rl_callback_handler_remove();
		ed->installed = false;
		return;
	}
	if (*line) {
		add_history(line);
		ed->history_added++;
	}
	n = strlen(line);
	free(ed->held);
	ed->held = malloc(n + 1);
	if (ed->held) {
		memcpy(ed->held, line, n);
		ed->held[n] = '\n';
		ed->held_len = n + 1;
		ed->held_off = 0;
	}
	free(line);
	/* The peer's partial line is now on screen, with what was typed after it. */
	ed->partial_len = 0;
	ed->partial[0] = '\0';
	show_prompt(ed);
}

/* Returns NULL when input or output is not a terminal: plain reads, then. */
struct editor *editor_open(const char *prompt, const char *history_path)
{
	struct sigaction sa = { .sa_handler = note_resize };
	struct editor *ed;

	if (!sys_isatty(STDIN_FILENO) || !sys_isatty(STDOUT_FILENO) || active)
		return NULL;
	ed = calloc(1, sizeof(*ed));
	if (!ed)
		return NULL;
	snprintf(ed->prompt, sizeof(ed->prompt), "%s", prompt);
	setlocale(LC_CTYPE, "");
	rl_readline_name = "sockpair";
	using_history();
	if (history_path) {
		ed->history_path = strdup(history_path);
		read_history(history_path);
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
	catch_stop();
	active = ed;
	rl_callback_handler_install(ed->prompt, on_line);
	ed->installed = true;
	ed->previous_writer = out_set_writer((struct out_writer){ trace_above_prompt, ed });
	return ed;
}

/*
 * $XDG_STATE_HOME/sockpair/history, else ~/.local/state/sockpair/history;
 * NULL when neither variable says where home is.
 */
const char *editor_history_path(char *buf, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	if (state && *state == '/')
		n = snprintf(buf, size, "%s/sockpair/history", state);
	else if (home && *home)
		n = snprintf(buf, size, "%s/.local/state/sockpair/history", home);
	else
		return NULL;
	return n > 0 && (size_t)n < size ? buf : NULL;
}

/* mkdir -p of the file's directory, private as XDG asks (0700). */
static int make_parent_dirs(const char *path)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (sys_mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return sys_mkdir(dir, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/*
 * Appends this session's lines, so that two sessions at once both keep
 * theirs, then trims the file to HISTORY_MAX lines.  A history that cannot
 * be saved costs the user nothing else: no error.
 */
static void save_history(struct editor *ed)
{
	int fd;

	if (!ed->history_path || ed->history_added == 0 ||
	    make_parent_dirs(ed->history_path) < 0)
		return;
	fd = sys_open(ed->history_path, O_WRONLY | O_CREAT | O_CLOEXEC, "O_WRONLY|O_CREAT|O_CLOEXEC");
	if (fd < 0)
		return;
	sys_close(fd);
	append_history(ed->history_added, ed->history_path);
	history_truncate_file(ed->history_path, HISTORY_MAX);
}

/*
 * Restores the terminal; the cursor ends on a line of its own.  A bare
 * prompt, nothing typed after it and no peer's line in it, is erased: left
 * there, it would be a stray "> " line under the last event.
 */
void editor_close(struct editor *ed)
{
	if (!ed)
		return;
	if (ed->installed) {
		if (rl_end == 0 && ed->partial_len == 0)
			rl_clear_visible_line();
		else
			fputc('\n', rl_outstream);
		rl_callback_handler_remove();
		fflush(rl_outstream);
	}
	out_set_writer(ed->previous_writer);
	signal(SIGTSTP, SIG_DFL);
	save_history(ed);
	clear_history();
	free(ed->history_path);
	free(ed->held);
	free(ed);
	active = NULL;
}

/* Feeds readline the key that poll() said is there; never fails. */
void editor_read_key(struct editor *ed)
{
	follow_resize();
	if (ed->installed)
		rl_callback_read_char();
}

/* Whether input has ended (Ctrl-D) and every typed line was taken. */
bool editor_at_eof(const struct editor *ed)
{
	return ed->eof && ed->held_off == ed->held_len;
}

/* Moves up to size bytes of the typed line into buf; the rest stays held. */
size_t editor_take(struct editor *ed, char *buf, size_t size)
{
	size_t n = ed->held_len - ed->held_off;

	if (n > size)
		n = size;
	if (n == 0)
		return 0;	/* nothing held: ed->held may be NULL */
	memcpy(buf, ed->held + ed->held_off, n);
	ed->held_off += n;
	return n;
}

static bool fits_in_prompt(const char *s, size_t n)
{
	if (n > PARTIAL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (iscntrl((unsigned char)s[i]) && s[i] != '\t')
			return false;
	return true;
}

static void write_out(const char *s, size_t n)
{
	write_fd(STDOUT_FILENO, s, n);
}

/* Sets ed->partial from the tail of buf, or writes that tail out as a line. */
static void keep_partial(struct editor *ed, const char *tail, size_t n)
{
	if (fits_in_prompt(tail, n)) {
		memcpy(ed->partial, tail, n);
		ed->partial[n] = '\0';
		ed->partial_len = n;
		return;
	}
	write_out(tail, n);
	write_out("\n", 1);
	ed->partial_len = 0;
	ed->partial[0] = '\0';
}

/* Shows peer output above the line being typed; a terminal that fails is ignored. */
void editor_print(struct editor *ed, const char *buf, size_t n)
{
	const char *nl = memrchr(buf, '\n', n);
	char joined[2 * PARTIAL_MAX + 2];

	if (!ed->installed) {
		write_out(buf, n);
		return;
	}
	follow_resize();
	rl_clear_visible_line();
	fflush(rl_outstream);
	if (nl) {
		write_out(ed->partial, ed->partial_len);
		write_out(buf, (size_t)(nl + 1 - buf));
		keep_partial(ed, nl + 1, (size_t)(buf + n - nl - 1));
	} else if (ed->partial_len + n <= PARTIAL_MAX) {
		memcpy(joined, ed->partial, ed->partial_len);
		memcpy(joined + ed->partial_len, buf, n);
		keep_partial(ed, joined, ed->partial_len + n);
	} else {
		write_out(ed->partial, ed->partial_len);
		ed->partial_len = 0;
		keep_partial(ed, buf, n);
	}
	show_prompt(ed);
	rl_forced_update_display();
}
