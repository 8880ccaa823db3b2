/*
 * net-layer.h: what net.c and net-unix.c share, and nothing else includes:
 * the socket calls that fail in SPEC's words (the call, the address, the
 * exit status by SPEC's table).
 */
#ifndef SOCKPAIR_NET_LAYER_H
#define SOCKPAIR_NET_LAYER_H

int net_connect_status(int err);
int net_open_socket(int domain, int type, int protocol, struct sp_error *e);
int net_address_call(int (*call)(int, const struct sockaddr *, socklen_t),
		     const char *name, int fd, const struct sockaddr *sa, socklen_t len,
		     struct sp_error *e);
int net_bind_to(int fd, const struct sockaddr *sa, socklen_t len, struct sp_error *e);
int net_connect_to(int fd, const struct sockaddr *sa, socklen_t len, struct sp_error *e);
int net_listen_on_socket(int fd, int backlog, const char *name, struct sp_error *e);
int net_connect_one(const struct sockaddr *sa, socklen_t len, int type, int timeout_ms,
		    struct sp_error *e);

#endif
