/*
 * sys-data.c: the call layer's moves of data: read, write and their
 * socket forms, splice, sendfile, and the control messages that carry
 * descriptors and credentials over a UNIX socket.  Each call is traced
 * (--trace) with the bytes it moved, and counted for -x and --stats.
 */
#define _GNU_SOURCE
#include "sockpair.h"
#include "sys-layer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- data ---------------------------------------------------------------- */

ssize_t sys_read(int fd, void *buf, size_t n)
{
	ssize_t r = read(fd, buf, n);

	TRACE(trace_data("read", fd, buf, r > 0 ? (size_t)r : 0, n, r, NULL));
	NOTE_ENDS(fd);
	COUNT(conn_moved(fd, false, buf, r, errno, NULL, 0));
	return r;
}

ssize_t sys_write(int fd, const void *buf, size_t n)
{
	ssize_t r = write(fd, buf, n);

	TRACE(trace_data("write", fd, buf, n, n, r, NULL));
	NOTE_ENDS(fd);
	COUNT(conn_moved(fd, true, buf, r, errno, NULL, 0));
	return r;
}

/*
 * A write that is never traced: the trace's own lines and the reports on
 * stderr (tracing them would recurse), and what the line editor draws on
 * the terminal (a trace line would be drawn in the middle of it).
 */
ssize_t sys_write_quiet(int fd, const void *buf, size_t n)
{
	return write(fd, buf, n);
}

/*
 * A lock on the file behind fd, taken (waiting for it) or released; not
 * traced, as sys_write_quiet().  POSIX record locks are the process's:
 * a forked child and its parent exclude each other, and one that dies
 * lets go.
 */
int sys_lock_quiet(int fd, bool lock)
{
	struct flock fl = { .l_type = lock ? F_WRLCK : F_UNLCK, .l_whence = SEEK_SET };
	int r;

	while ((r = fcntl(fd, lock ? F_SETLKW : F_SETLK, &fl)) < 0 && errno == EINTR)
		;
	return r;
}

/* An anonymous file, to lock; not traced. */
int sys_memfd_quiet(const char *name)
{
	return memfd_create(name, MFD_CLOEXEC);
}

/* Its close, not traced either: the trace never showed it open. */
int sys_close_quiet(int fd)
{
	return close(fd);
}

ssize_t sys_writev(int fd, const struct iovec *iov, int count)
{
	ssize_t r = writev(fd, iov, count);

	TRACE(trace_ret(r, "writev(%d, [%d buffers], %d)", fd, count, count));
	return r;
}

/* Room for every name msg_flags() knows, and a hex rest. */
enum { MSG_FLAGS_TEXT = 96 };

/* The flags sockpair passes, named in strace's order (by bit); others in hex. */
static const char *msg_flags(int flags, char buf[MSG_FLAGS_TEXT])
{
	static const struct { int bit; const char *name; } names[] = {
		{ MSG_PEEK, "MSG_PEEK" }, { MSG_TRUNC, "MSG_TRUNC" },
		{ MSG_DONTWAIT, "MSG_DONTWAIT" }, { MSG_NOSIGNAL, "MSG_NOSIGNAL" },
		{ MSG_CMSG_CLOEXEC, "MSG_CMSG_CLOEXEC" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].bit) {
			used += (size_t)snprintf(buf + used, MSG_FLAGS_TEXT - used, "%s%s",
						 used ? "|" : "", names[i].name);
			flags &= ~names[i].bit;
		}
	if (flags || !used)
		snprintf(buf + used, MSG_FLAGS_TEXT - used, "%s%#x", used ? "|" : "",
			 (unsigned)flags);
	return buf;
}

/* What a read brought into buf: with MSG_TRUNC, r may be a longer message's length. */
static ssize_t bytes_in(ssize_t r, size_t n)
{
	return r > (ssize_t)n ? (ssize_t)n : r;
}

/* recv(), recvfrom() when from is given; traced as the recvfrom it is. */
ssize_t sys_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
		     socklen_t *from_len)
{
	ssize_t r = recvfrom(fd, buf, n, flags, from, from_len);
	char addr[128], extra[160], flag_text[MSG_FLAGS_TEXT];

	TRACE(snprintf(extra, sizeof(extra), "%s, %s", msg_flags(flags, flag_text),
		       from && r >= 0 ? sys_addr_text(from, *from_len, addr, sizeof(addr)) : "NULL");
	      trace_data("recvfrom", fd, buf, r > 0 ? (size_t)bytes_in(r, n) : 0, n, r, extra));
	NOTE_ENDS(fd);
	COUNT(conn_moved(fd, false, buf, bytes_in(r, n), errno, from && r >= 0 ? from : NULL,
			 from && r >= 0 ? *from_len : 0));
	return r;
}

/* send(), sendto() when to is given; traced as the sendto it is. */
ssize_t sys_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
		   socklen_t to_len)
{
	ssize_t r = sendto(fd, buf, n, flags, to, to_len);
	char addr[128], extra[160], flag_text[MSG_FLAGS_TEXT];

	TRACE(snprintf(extra, sizeof(extra), "%s, %s", msg_flags(flags, flag_text),
		       sys_addr_text(to, to_len, addr, sizeof(addr)));
	      trace_data("sendto", fd, buf, n, n, r, extra));
	NOTE_ENDS(fd);
	COUNT(conn_moved(fd, true, buf, r, errno, to, to_len));
	return r;
}

/* ---- control messages: descriptors and credentials (AF_UNIX) ----------- */

/* strace's list of descriptors, "[5, 6]"; a long list ends in "...". */
static void fd_list(char *buf, size_t size, const int *fds, int n)
{
	size_t used = (size_t)snprintf(buf, size, "[");

	for (int i = 0; i < n && used < size; i++) {
		if (i == 16) {
			used += (size_t)snprintf(buf + used, size - used, ", ...");
			break;
		}
		used += (size_t)snprintf(buf + used, size - used, "%s%d", i ? ", " : "", fds[i]);
	}
	if (used < size)
		snprintf(buf + used, size - used, "]");
}

/* The control part of a traced sendmsg or recvmsg, in strace's words. */
static void control_text(char *buf, size_t size, const struct sys_control *c)
{
	char fds[160];
	int used = snprintf(buf, size, "[");

	if (c->has_creds)
		used += snprintf(buf + used, size - (size_t)used,
				 "{SOL_SOCKET, SCM_CREDENTIALS, {pid=%d, uid=%u, gid=%u}}",
				 c->pid, c->uid, c->gid);
	if (c->nfds > 0) {
		fd_list(fds, sizeof(fds), c->fds, c->nfds);
		snprintf(buf + used, size - (size_t)used, "%s{SOL_SOCKET, SCM_RIGHTS, %s}",
			 c->has_creds ? ", " : "", fds);
	}
	used = (int)strlen(buf);
	snprintf(buf + used, size - (size_t)used, "]%s", c->truncated ? ", MSG_CTRUNC" : "");
}

/*
 * sendmsg() of buf with descriptors in one SCM_RIGHTS message (nfds 0:
 * none); flags as send() takes them.
 */
ssize_t sys_sendmsg(int fd, const void *buf, size_t n, const int *fds, int nfds, int flags)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * SYS_FDS_MAX)];
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct sys_control shown = { .nfds = nfds };
	char extra[256], ctl[224], flag_text[MSG_FLAGS_TEXT];
	ssize_t r;

	if (nfds < 0 || nfds > SYS_FDS_MAX) {
		errno = EINVAL;	/* the kernel's answer to more than SCM_MAX_FD */
		return -1;
	}
	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.space;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	r = sendmsg(fd, &msg, flags);
	/* fds may be NULL when nfds is 0: memcpy() must not see it. */
	TRACE(if (nfds > 0)
		      memcpy(shown.fds, fds, sizeof(int) * (size_t)nfds);
	      control_text(ctl, sizeof(ctl), &shown);
	      snprintf(extra, sizeof(extra), "%s, %s", ctl, msg_flags(flags, flag_text));
	      trace_data("sendmsg", fd, buf, n, n, r, extra));
	NOTE_ENDS(fd);
	COUNT(conn_moved(fd, true, buf, r, errno, NULL, 0));
	return r;
}

/* Takes what recvmsg() found beside the data into c. */
static void take_control(struct msghdr *msg, struct sys_control *c)
{
	c->nfds = 0;
	c->has_creds = false;
	c->truncated = (msg->msg_flags & MSG_CTRUNC) != 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_RIGHTS) {
			size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			const unsigned char *data = CMSG_DATA(cm);

			for (size_t i = 0; i < n; i++) {
				int received;

				memcpy(&received, data + i * sizeof(int), sizeof(int));
				/* Never more than SCM_MAX_FD arrive; one more is closed, not leaked. */
				if (c->nfds < SYS_FDS_MAX)
					c->fds[c->nfds++] = received;
				else
					sys_close(received);
			}
		} else if (cm->cmsg_type == SCM_CREDENTIALS &&
			   cm->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred cred;

			memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
			c->has_creds = true;
			c->pid = (int)cred.pid;
			c->uid = (unsigned)cred.uid;
			c->gid = (unsigned)cred.gid;
		}
	}
}

/*
 * recvmsg() with room for what c asks (descriptors, credentials), received
 * close-on-exec; the sender's address in *from when from is given.  What
 * came beside the data is in c.  The data is counted and shown (-x) by
 * sys_recvmsg_seen(), which the caller calls once it has said what came
 * beside it (SPEC: the credentials before the data they came with).
 */
ssize_t sys_recvmsg(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
		    socklen_t *from_len, struct sys_control *c)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * SYS_FDS_MAX) +
			   CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = n };
	struct msghdr msg = {
		.msg_name = from, .msg_namelen = from ? *from_len : 0,
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
		.msg_controllen = (c->want_fds ? CMSG_SPACE(sizeof(int) * SYS_FDS_MAX) : 0) +
				  (c->want_creds ? CMSG_SPACE(sizeof(struct ucred)) : 0),
	};
	char addr[128], ctl[512], extra[640], flag_text[MSG_FLAGS_TEXT];
	ssize_t r;

	if (msg.msg_controllen == 0)
		msg.msg_control = NULL;
	r = recvmsg(fd, &msg, flags | MSG_CMSG_CLOEXEC);
	if (r >= 0) {
		take_control(&msg, c);
		if (from)
			*from_len = msg.msg_namelen;
	} else {
		c->nfds = 0;
		c->has_creds = c->truncated = false;
	}
	TRACE(control_text(ctl, sizeof(ctl), c);
	      snprintf(extra, sizeof(extra), "%s, %s%s%s", ctl,
		       msg_flags(flags | MSG_CMSG_CLOEXEC, flag_text), from && r >= 0 ? ", " : "",
		       from && r >= 0 ? sys_addr_text(from, *from_len, addr, sizeof(addr)) : "");
	      trace_data("recvmsg", fd, buf, r > 0 ? (size_t)bytes_in(r, n) : 0, n, r, extra));
	return r;
}

/* What sys_recvmsg(fd, buf, n, ...) returned as r, counted and shown now. */
void sys_recvmsg_seen(int fd, const void *buf, size_t n, ssize_t r, const struct sockaddr *from,
		      socklen_t from_len)
{
	NOTE_ENDS(fd);
	COUNT(conn_moved(fd, false, buf, bytes_in(r, n), errno, from && r >= 0 ? from : NULL,
			 from && r >= 0 ? from_len : 0));
}

/*
 * TLS's moves of ciphertext (tls.c's BIO): traced as the recvfrom and
 * sendto they are, but not counted, since tls.c counts the plaintext
 * (-x and --pcap show what the application said).
 */
ssize_t sys_recv_tls(int fd, void *buf, size_t n)
{
	ssize_t r = recvfrom(fd, buf, n, 0, NULL, NULL);

	TRACE(trace_data("recvfrom", fd, buf, r > 0 ? (size_t)r : 0, n, r, "0, NULL"));
	return r;
}

ssize_t sys_send_tls(int fd, const void *buf, size_t n)
{
	ssize_t r = sendto(fd, buf, n, MSG_NOSIGNAL, NULL, 0);

	TRACE(trace_data("sendto", fd, buf, n, n, r, "MSG_NOSIGNAL, NULL"));
	return r;
}

ssize_t sys_splice(int from, int to, size_t n, unsigned flags)
{
	ssize_t r = splice(from, NULL, to, NULL, n, flags);

	TRACE(trace_ret(r, "splice(%d, NULL, %d, NULL, %zu, %s)", from, to, n,
			flags & SPLICE_F_NONBLOCK ? "SPLICE_F_MOVE|SPLICE_F_NONBLOCK"
						  : "SPLICE_F_MOVE"));
	/* The bytes stay in the kernel: counted, not shown (-x and --pcap never splice). */
	COUNT(conn_moved(from, false, NULL, r, errno, NULL, 0);
	      conn_moved(to, true, NULL, r, errno, NULL, 0));
	return r;
}

/* sendfile() from the file's own offset, which it moves, as read() would. */
ssize_t sys_sendfile(int to, int from, size_t n)
{
	ssize_t r = sendfile(to, from, NULL, n);

	TRACE(trace_ret(r, "sendfile(%d, %d, NULL, %zu)", to, from, n));
	/* 0 is the file's end, not a write. */
	if (r != 0)
		COUNT(conn_moved(to, true, NULL, r, errno, NULL, 0));
	return r;
}

