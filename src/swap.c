/*
 * swap.c: proxy --swap PATH: stand in front of a live UNIX server without
 * touching its clients.  sockpair's own socket, bound at a fresh name in
 * PATH's directory with PATH's owner, group and mode, takes PATH's place
 * by rename(2), so that PATH never stops existing; the original waits at
 * PATH.sockpair-orig, where the proxy connects.  At the end the original
 * goes back over PATH, but only while PATH is still sockpair's socket:
 * nothing sockpair did not create is ever removed or replaced.
 *
 * After a SIGKILL, `mv PATH.sockpair-orig PATH` restores it.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The name of path in its directory: what follows its last '/'. */
static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* PATH must be a live socket, and its backup name free: else exit 4, nothing done. */
static int check_swappable(struct swap *s, struct stat *st, struct sp_error *e)
{
	int err;

	if (s->path[0] == '@')
		return fail(e, SP_USAGE, "--swap %s: an abstract name has no file to swap", s->path);
	if (snprintf(s->orig, sizeof(s->orig), "%s.sockpair-orig", s->path) >= 108 ||
	    snprintf(s->ul.path, sizeof(s->ul.path), "%s.sockpair-%d", s->path, (int)getpid()) >=
		    (int)sizeof(s->ul.path))
		return fail(e, SP_USAGE, "--swap %s: path too long for its backup name (107 bytes)",
			    s->path);
	if (sys_stat(s->path, st) < 0 && errno == ENOENT)
		return fail_errno(e, SP_CONNECT, ENOENT, "--swap %s", s->path);
	err = net_unix_probe(s->path);
	if (err)
		return fail_errno(e, SP_CONNECT, err, "--swap %s: not a live socket: connect", s->path);
	if (sys_stat(s->orig, st) == 0 || errno != ENOENT)
		return fail(e, SP_CONNECT, "--swap %s: %s exists already: nothing was changed",
			    s->path, s->orig);
	if (sys_fstatat(AT_FDCWD, s->path, st) < 0 || !S_ISSOCK(st->st_mode))
		return fail(e, SP_CONNECT, "--swap %s: not a socket", s->path);
	return 0;
}

/* Renames the original aside and ours into its place; undone on failure. */
static int take_place(struct swap *s, struct sp_error *e)
{
	int dir = s->ul.dirfd, err;
	struct stat st;

	if (sys_renameat(dir, base_of(s->path), base_of(s->orig), RENAME_NOREPLACE) < 0)
		return fail_errno(e, SP_CONNECT, errno, "rename(%s, %s)", s->path, s->orig);
	if (sys_renameat(dir, s->ul.base, base_of(s->path), 0) < 0) {
		err = errno;
		(void)sys_renameat(dir, base_of(s->orig), base_of(s->path), RENAME_NOREPLACE);
		return fail_errno(e, SP_CONNECT, err, "rename(%s, %s)", s->ul.path, s->path);
	}
	if (sys_fstatat(dir, base_of(s->path), &st) == 0) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	s->swapped = true;
	return 0;
}

/*
 * Binds sockpair's socket in PATH's place (see the top); returns it,
 * listening, or -1 and *e with nothing changed.  s->orig is then where
 * the server is.
 */
int swap_begin(struct swap *s, const char *path, int backlog, struct sp_error *e)
{
	struct stat st;
	int fd;

	*s = (struct swap){ .ul = { .dirfd = -1 } };
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (check_swappable(s, &st, e) < 0)
		return -1;
	fd = net_listen_unix(&s->ul, SOCK_STREAM, backlog, e);
	if (fd < 0)
		return -1;
	if (sys_set_owner_mode(s->ul.dirfd, s->ul.base, st.st_uid, st.st_gid, st.st_mode) < 0) {
		fail_errno(e, SP_CONNECT, errno, "fchownat(%s)", s->ul.path);
	} else if (take_place(s, e) == 0) {
		report_note("swapped %s (the original is at %s until sockpair ends)", s->path,
			    s->orig);
		return fd;
	}
	sys_close(fd);
	net_unix_cleanup(&s->ul);
	return -1;
}

/* The original back over PATH, if PATH is still ours; said if it is not. */
void swap_end(struct swap *s)
{
	struct stat st;

	if (s->swapped) {
		bool ours = sys_fstatat(s->ul.dirfd, base_of(s->path), &st) == 0 &&
			    st.st_dev == s->dev && st.st_ino == s->ino;
		if (!ours)
			report_note("%s is no longer sockpair's socket: left alone; the original "
				    "is at %s", s->path, s->orig);
		else if (sys_renameat(s->ul.dirfd, base_of(s->orig), base_of(s->path), 0) < 0)
			report_error(SP_FAILURE, "rename(%s, %s): %s (mv %s %s restores it)", s->orig,
				     s->path, strerror(errno), s->orig, s->path);
		s->swapped = false;
	}
	net_unix_cleanup(&s->ul);
}
