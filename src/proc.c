/*
 * proc.c: the process: children, for the commands that reproduce the
 * manual's pcntl_fork() examples (unlike the manual, the parent always
 * reaps), and the signals that end a command.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Returns the child's pid in the parent, 0 in the child, -1 and *e on error. */
pid_t proc_fork(struct sp_error *e)
{
	pid_t pid;

	fflush(NULL);	/* or both processes would print what stdio held */
	report_share_stderr();
	record_start();
	pid = sys_fork();
	if (pid == 0) {
		record_set_child();
		return 0;
	}
	if (pid < 0)
		return fail_errno(e, SP_FAILURE, errno, "fork()");
	if (conn_capture)
		conn_forked(pid);
	return pid;
}

/* A forked child ends here: what it shared with its parent let go of,
 * and no exit handler of the parent's run twice. */
_Noreturn void proc_exit_child(int status)
{
	report_release_stderr();
	_exit(status);
}

/* Waits for pid; 0 if it exited 0, otherwise -1 and *e saying how it ended. */
int proc_wait(pid_t pid, struct sp_error *e)
{
	char how[96];
	int status;
	pid_t r;

	do
		r = sys_waitpid(pid, &status);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return fail_errno(e, SP_FAILURE, errno, "waitpid(%d)", (int)pid);
	report_release_stderr();
	parse_wait_status(status, how, sizeof(how));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return fail(e, SP_FAILURE, "child %d %s", (int)pid, how);
}

static bool has_exited(pid_t pid)
{
	siginfo_t info = { 0 };

	return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       info.si_pid == pid;
}

/*
 * Whether pid has ended, within wait_ms (0: now), looked at without
 * reaping: proc_wait() still can.  The wait is for a peer's end of file,
 * which comes as its process exits, a moment before its status does.
 */
bool proc_has_exited(pid_t pid, int wait_ms)
{
	const struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < wait_ms && !has_exited(pid); i++)
		nanosleep(&ms, NULL);
	return has_exited(pid);
}

/* Ends a child whose work is no longer wanted, and reaps it: none is left behind. */
void proc_kill(pid_t pid)
{
	struct sp_error ignored;

	(void)sys_kill(pid, SIGKILL);
	(void)proc_wait(pid, &ignored);
}

/* ---- the signals that end a command ----------------------------------- */

static volatile sig_atomic_t stop_signal;

static void remember_signal(int sig)
{
	stop_signal = sig;
}

/*
 * SIGINT and SIGTERM interrupt poll(), accept() and epoll_wait() (no
 * SA_RESTART) and end the command cleanly, so that it can close, unlink
 * and restore the terminal.
 */
void proc_stop_on_signals(void)
{
	struct sigaction sa = { .sa_handler = remember_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* The signal that asked the command to stop, or 0. */
int proc_stopped_by(void)
{
	return stop_signal;
}

static volatile sig_atomic_t usr1_seen;

static void remember_usr1(int sig)
{
	(void)sig;
	usr1_seen = 1;
}

/*
 * SIGUSR1 asks for the --stats lines of the connections open now, as dd
 * answers it: the handler only notes it (and interrupts the wait, no
 * SA_RESTART); the loop prints.
 */
void proc_report_on_usr1(void)
{
	struct sigaction sa = { .sa_handler = remember_usr1 };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	conn_counting = true;
}

/*
 * A loop that checks proc_stopped_by() and then waits could miss a signal
 * that lands between the two, and wait on.  So the loop holds the signals
 * (blocked) and lets them in only while it waits (epoll_pwait with the
 * mask stored in *waiting); proc_release_signals() ends that.
 */
void proc_hold_signals(sigset_t *waiting)
{
	sigset_t held;

	sigemptyset(&held);
	sigaddset(&held, SIGINT);
	sigaddset(&held, SIGTERM);
	sigaddset(&held, SIGUSR1);
	sigaddset(&held, SIGUSR2);
	sigprocmask(SIG_BLOCK, &held, waiting);
	sigdelset(waiting, SIGINT);
	sigdelset(waiting, SIGTERM);
	sigdelset(waiting, SIGUSR1);
	sigdelset(waiting, SIGUSR2);
}

/* The signals held by proc_hold_signals() come as they did before. */
void proc_release_signals(const sigset_t *waiting)
{
	sigprocmask(SIG_SETMASK, waiting, NULL);
}

/* Whether SIGUSR1 came since the last call. */
bool proc_usr1_pending(void)
{
	if (!usr1_seen)
		return false;
	usr1_seen = 0;
	return true;
}

static volatile sig_atomic_t usr2_seen;

static void remember_usr2(int sig)
{
	(void)sig;
	usr2_seen = 1;
}

/* SIGUSR2 turns proxy's faults off and on: noted, and the loop acts. */
void proc_toggle_on_usr2(void)
{
	struct sigaction sa = { .sa_handler = remember_usr2 };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
}

/* Whether SIGUSR2 came since the last call. */
bool proc_usr2_pending(void)
{
	if (!usr2_seen)
		return false;
	usr2_seen = 0;
	return true;
}
