/*
 * stats.c: what the kernel says of a connection, for --stats: TCP_INFO
 * for TCP, the peer's credentials and the queues for a UNIX socket, read
 * through the call layer (so --trace shows them).  conn.c asks for it as
 * a connection closes (conn_set_viewer); SIGUSR1 asks for every open one.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <netinet/in.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static void tcp_view(int fd, struct conn_view *v)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (sys_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len, NULL) < 0)
		return;
	conn_view_tcp(v, &ti);
}

static void unix_view(int fd, struct conn_view *v)
{
	struct ucred cred;

	if (sys_peer_credentials(fd, &cred) < 0)
		return;
	v->unix_domain = true;
	v->pid = (int)cred.pid;
	v->uid = (unsigned)cred.uid;
	v->gid = (unsigned)cred.gid;
	if (sys_ioctl_int(fd, SIOCINQ, "SIOCINQ", &v->inq) < 0)
		v->inq = -1;
	if (sys_ioctl_int(fd, SIOCOUTQ, "SIOCOUTQ", &v->outq) < 0)
		v->outq = -1;
}

/* TCP_INFO for TCP, credentials and queues for UNIX; nothing for the rest. */
void stats_kernel_view(int fd, struct conn_view *v)
{
	int domain = 0, type = 0;

	memset(v, 0, sizeof(*v));
	if (sys_getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &domain) < 0 ||
	    sys_getsockopt_int(fd, SOL_SOCKET, SO_TYPE, &type) < 0)
		return;
	if ((domain == AF_INET || domain == AF_INET6) && type == SOCK_STREAM)
		tcp_view(fd, v);
	else if (domain == AF_UNIX)
		unix_view(fd, v);
}

/* SIGUSR1: the --stats lines of every connection open now, marked open. */
void stats_report_connections(void)
{
	struct conn_view v;

	for (int fd = 0; fd <= conn_last_fd(); fd++) {
		if (!conn_is_socket(fd))
			continue;
		stats_kernel_view(fd, &v);
		conn_report_open(fd, &v);
	}
}
