/*
 * sys-layer.h: what the call layer's files (sys.c, sys-data.c) share, and
 * nothing else includes: the hooks that run after a call, errno kept.
 */
#ifndef SOCKPAIR_SYS_LAYER_H
#define SOCKPAIR_SYS_LAYER_H

/* Runs a hook after a call if WANTED, errno kept: the caller reads the call's. */
#define AFTER_CALL(wanted, ...)                        \
	do {                                           \
		if (wanted) {                          \
			int saved_errno_ = errno;      \
			__VA_ARGS__;                   \
			errno = saved_errno_;          \
		}                                      \
	} while (0)

/* The counting sinks (-x, --stats, SIGUSR1) and the tracer (--trace). */
#define COUNT(...) AFTER_CALL(conn_wanted(), __VA_ARGS__)
#define TRACE(...) AFTER_CALL(trace_enabled, __VA_ARGS__)

/* --pcap: a socket's first data names its flow if nothing did before (a
 * datagram socket, which neither accepts nor connects). */
#define NOTE_ENDS(fd) AFTER_CALL(conn_needs_ends(fd), sys_note_ends(fd))
void sys_note_ends(int fd);

/* An address as --trace shows it; "NULL" for none. */
const char *sys_addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

#endif
