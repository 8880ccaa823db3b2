/*
 * owners.c: who holds each socket.  One walk of /proc/PID/fd for every
 * process: each descriptor that reads "socket:[INODE]" is a holder of
 * that socket (a process, a descriptor, the process's name).  A process
 * whose descriptors we may not read (another user's, without root) is
 * remembered as hidden: the caller shows what it cannot name as "?", and
 * says so once.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int add_owner(struct owner_table *t, uint32_t ino, int pid, int fd)
{
	struct owner *grown = queue_grow(t->v, &t->cap, t->n, sizeof(*grown), 256);

	if (!grown)
		return -1;
	t->v = grown;
	t->v[t->n++] = (struct owner){ .ino = ino, .pid = pid, .fd = fd };
	return 0;
}

static int add_hidden(struct owner_table *t, int pid)
{
	int *grown = queue_grow(t->hidden, &t->hidden_cap, t->nhidden, sizeof(*grown), 64);

	if (!grown)
		return -1;
	t->hidden = grown;
	t->hidden[t->nhidden++] = pid;
	return 0;
}

/* A decimal name ("1234", not "self"), as an int; -1 otherwise. */
static int number_of(const char *name)
{
	long v = 0;

	if (!*name)
		return -1;
	for (const char *p = name; *p; p++) {
		if (!isdigit((unsigned char)*p) || v > 1000000000L)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return (int)v;
}

/* The inode of a "socket:[INODE]" link; 0 if it is not one. */
static uint32_t socket_inode(const char *link)
{
	unsigned long v;
	char *end;

	if (strncmp(link, "socket:[", 8) != 0)
		return 0;
	v = strtoul(link + 8, &end, 10);
	return *end == ']' && v <= UINT32_MAX ? (uint32_t)v : 0;
}

/* /proc/PID/comm into every holder from first on, "?" if it is gone. */
static void name_holders(struct owner_table *t, size_t first, int pid)
{
	char path[64], comm[sizeof(t->v[0].comm)] = "?";
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = sys_open(path, O_RDONLY | O_CLOEXEC, "O_RDONLY|O_CLOEXEC");
	if (fd >= 0) {
		ssize_t n = sys_read(fd, comm, sizeof(comm) - 1);

		comm[n > 0 ? n : 0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		sys_close(fd);
	}
	for (size_t i = first; i < t->n; i++)
		memcpy(t->v[i].comm, comm, sizeof(comm));
}

/* Whether a failure to read a process's descriptors means "not ours to
 * see" (rather than "it has exited"). */
static bool denied(int err)
{
	return err == EACCES || err == EPERM;
}

/* One process's socket descriptors into t; -1 only when memory is short. */
static int walk_process(struct owner_table *t, int pid)
{
	char dir_path[64], path[96], link[64];
	size_t first = t->n;
	struct dirent *d;
	DIR *dir;

	snprintf(dir_path, sizeof(dir_path), "/proc/%d/fd", pid);
	dir = sys_opendir(dir_path);
	if (!dir)
		return denied(errno) ? add_hidden(t, pid) : 0;
	while ((d = sys_readdir(dir)) != NULL) {
		int fd = number_of(d->d_name);
		uint32_t ino;

		if (fd < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%d", dir_path, fd);
		if (sys_readlink(path, link, sizeof(link)) < 0)
			continue;
		ino = socket_inode(link);
		if (ino && add_owner(t, ino, pid, fd) < 0) {
			sys_closedir(dir);
			return -1;
		}
	}
	sys_closedir(dir);
	if (t->n > first)
		name_holders(t, first, pid);
	return 0;
}

static int by_holder(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

/*
 * Every process's socket descriptors into t, sorted by inode.  Returns -1
 * and fills *e if /proc cannot be read or memory is short.
 */
int owners_read_all(struct owner_table *t, struct sp_error *e)
{
	struct dirent *d;
	DIR *proc;
	int r = 0;

	memset(t, 0, sizeof(*t));
	proc = sys_opendir("/proc");
	if (!proc)
		return fail_errno(e, SP_FAILURE, errno, "opendir(/proc)");
	while (r == 0 && (d = sys_readdir(proc)) != NULL) {
		int pid = number_of(d->d_name);

		if (pid > 0)
			r = walk_process(t, pid);
	}
	sys_closedir(proc);
	if (r < 0)
		return fail_errno(e, SP_FAILURE, ENOMEM, "malloc(descriptor table)");
	if (t->n)	/* qsort(NULL, 0, ...) is undefined */
		qsort(t->v, t->n, sizeof(t->v[0]), by_holder);
	return 0;
}

/* The holders of a socket: how many, the first in *first (sorted by pid, fd). */
size_t owners_of(const struct owner_table *t, uint32_t ino, const struct owner **first)
{
	size_t lo = 0, hi = t->n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < t->n && t->v[end].ino == ino; end++)
		;
	*first = t->n ? &t->v[lo] : NULL;
	return end - lo;
}

/* Whether pid is a process whose descriptors we were not allowed to read. */
bool owners_hidden(const struct owner_table *t, int pid)
{
	for (size_t i = 0; i < t->nhidden; i++)
		if (t->hidden[i] == pid)
			return true;
	return false;
}

void owners_free(struct owner_table *t)
{
	free(t->v);
	free(t->hidden);
	memset(t, 0, sizeof(*t));
}
