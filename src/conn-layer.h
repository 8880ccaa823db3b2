/*
 * conn-layer.h: what conn.c and conn-capture.c share, and nothing else
 * includes: the state of each socket, and the capture's hooks into it.
 */
#ifndef SOCKPAIR_CONN_LAYER_H
#define SOCKPAIR_CONN_LAYER_H

struct conn {
	bool open;		/* a socket of ours */
	bool connection;	/* connected or accepted: worth a summary */
	bool accepted;
	bool listening;
	bool peer_eof_first;	/* the peer's end of data came before our shutdown */
	bool shut_by_us;
	int failure;		/* the first errno that was not EAGAIN or EINTR */
	double opened;		/* clock_now_seconds() at open */
	uint64_t sent, received;
	unsigned long writes, reads;
	char peer[128];
	/* A proxy's side of connection number: what it receives is what
	 * that side sent, shown once (what we send on is the other side's). */
	unsigned long number;
	const char *side;	/* "client", "server"; NULL: not a proxy's */
	/* --pcap: the flow it is an end of, and which of the flow's ends is
	 * the far one (what it receives comes from there) */
	struct capture_flow *flow;
	int peer_end;
	bool resetting;		/* its close is a reset (SO_LINGER 0) */
	bool tls;		/* its data is TLS's plaintext: -x says so */
};

struct conn *conn_socket_of(int fd);
struct capture_flow *capture_flow_of(const struct conn *c, bool sent, size_t n);
void capture_end(const struct conn *c, bool by_peer, bool reset);
void capture_closing(struct conn *c);

#endif
