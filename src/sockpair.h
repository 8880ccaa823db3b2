/*
 * sockpair.h: the one header.  Sections follow the files that define them,
 * in the order the program is built, from the bottom up:
 *
 *   text.c                           depends on nothing of ours
 *   error.c                          the error record
 *   parse.c addr.c clock.c samples.c values and names; addresses; the clock;
 *   frame.c                          percentiles of measured times; framing
 *   out.c                            where diagnostic lines go, whole
 *   sink-text.c sink-json.c          the sinks: a record as text, as JSON,
 *   sink-hexdump.c sink-pcap.c       as -x's hexdump, as --pcap's packets
 *   record.c                         the one event record; event_emit()
 *   trace.c                          --trace: each call a record
 *   conn.c conn-capture.c            each socket's counters: -x, --stats;
 *                                    its flow for --pcap
 *   sys.c                            the call layer: every system call on a
 *                                    socket, pipe or standard stream
 *   report.c                         what the user reads on stderr
 *   io.c proc.c stats.c              bytes; processes and signals; the
 *                                    kernel's view of a connection
 *   diag.c owners.c                  every socket as the kernel's socket
 *                                    diagnostics list it; who holds each
 *   net.c editor.c http.c line.c     sockets; the terminal; HTTP heads; lines;
 *   flow.c tls.c                     the copy engine: splice, buffer; TLS
 *   relay.c event.c scan.c           the relay loop; the callback loop; -z
 *   cmd.c, cmd-*.c, main.c           the commands
 *
 * Each file calls only files below it (tests/lib/layers.py checks), so
 * this also serves as an index of the program.
 */
#ifndef SOCKPAIR_H
#define SOCKPAIR_H

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifndef SOCKPAIR_VERSION
#define SOCKPAIR_VERSION "0.0.0"
#endif

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* Exit statuses: SPEC's table, so that scripts can tell failures apart. */
enum sp_status {
	SP_OK = 0,
	SP_FAILURE = 1,		/* a system call failed, the child failed */
	SP_USAGE = 2,		/* unknown command or option, a bad value */
	SP_RESOLVE = 3,		/* getaddrinfo, getservbyname */
	SP_CONNECT = 4,		/* refused, unreachable, in use, permission */
	SP_TIMEOUT = 5,
	SP_PROTOCOL = 6,	/* the peer broke the protocol */
	SP_TLS = 7,		/* the TLS handshake or the certificate failed */
};

/* text.c */
enum { TEXT_QUOTE_SHOWN = 32, TEXT_QUOTE_SIZE = 4 * TEXT_QUOTE_SHOWN + 8 };
const char *text_escape(const void *buf, size_t n, char *out, size_t size);
size_t text_quote(char *out, size_t size, const void *buf, size_t n);
void text_vformat(char *buf, size_t size, const char *fmt, va_list ap);
const char *text_show_peer(const void *buf, size_t n, char *out, size_t size);
size_t text_json_string(char *out, size_t size, const void *buf, size_t n);

/* A JSON object on one line, built in a caller's buffer; always valid. */
struct json {
	char *buf;
	size_t size, len;
	bool need_comma, full;
};
void json_start(struct json *j, char *buf, size_t size);
void json_begin(struct json *j, char *buf, size_t size, const char *event, double time);
void json_string(struct json *j, const char *key, const void *s, size_t n);
void json_cstring(struct json *j, const char *key, const char *s);
void json_number(struct json *j, const char *key, double v, int decimals);
void json_integer(struct json *j, const char *key, long long v);
void json_bool(struct json *j, const char *key, bool v);
void json_open(struct json *j, const char *key);
void json_close(struct json *j);
size_t json_end(struct json *j);

/* error.c */
/*
 * A failure as the leaves record it: the text "CALL(DETAILS): REASON",
 * composed where errno is still fresh, the errno itself, and the exit
 * status of its class.  Leaves fill one and return -1; only commands print
 * it (report_failure).
 */
struct sp_error {
	int status;
	int err;		/* the errno it was filled with; 0: none */
	char text[512];
};
int fail(struct sp_error *e, int status, const char *fmt, ...) PRINTF_LIKE(3, 4);
int fail_errno(struct sp_error *e, int status, int err, const char *fmt, ...)
	PRINTF_LIKE(4, 5);

/* queue.c */
/* Bytes waiting to be written somewhere, growing as needed. */
struct byte_queue {
	char *buf;
	size_t len, cap;
};
int queue_add(struct byte_queue *q, const void *data, size_t n);
void queue_consume(struct byte_queue *q, size_t n);
void queue_free(struct byte_queue *q);
void *queue_grow(void *items, size_t *cap, size_t used, size_t size, size_t first);

/* addr.c */
struct sockaddr_un;
const char *addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);
const char *addr_strip_brackets(const char *host, char *buf, size_t size);
int addr_unix(const char *path, struct sockaddr_un *sun, socklen_t *len);
struct host_port {
	const char *host;	/* in the string split, brackets left out */
	size_t host_len;
	const char *port;	/* after the colon; NULL: no port given */
	size_t port_len;
	bool bracketed;		/* "[v6]" */
	bool bare_ipv6;		/* several colons and no brackets: no port */
};
enum { ADDR_SPLIT_NO_BRACKET = 1, ADDR_SPLIT_AFTER_BRACKET };
int addr_split_host_port(const char *s, size_t n, struct host_port *hp);

/* clock.c */
long long clock_now_ms(void);
double clock_now_seconds(void);
void clock_mark_start(void);
double clock_since_start(void);
uint64_t clock_epoch_us(void);

/* samples.c */
void samples_sort(double *v, size_t n);
double samples_percentile(const double *sorted, size_t n, double q);

/* frame.c */
size_t frame_crlf(char *p, size_t n, bool *last_was_cr);
size_t frame_datagram(const char *p, size_t n, size_t max, bool at_end);

/* out.c */
struct out_writer {
	void (*write)(void *arg, const char *line, size_t n);
	void *arg;
};
struct out_writer out_set_writer(struct out_writer writer);
bool out_has_writer(void);
typedef void out_lock_fn(bool lock);
void out_set_lock(out_lock_fn *lock);
void out_hold(bool hold);
void out_note_open_line(bool open);
void out_write(const char *line, size_t n);
void out_write_raw(const char *bytes, size_t n);

/* record.c: one event record, whatever it tells; the sinks format it */
enum record_kind {
	RECORD_LINE,		/* an announcement, a result, a stats line, an error */
	RECORD_STEP,		/* a step begun: its text stays on an open line */
	RECORD_PROGRESS,	/* a long step's live line: its text and fraction */
	RECORD_STEP_DONE,	/* "OK." or "failed." (text), the JSON progress event */
	RECORD_CALL,		/* --trace: a call and its result */
	RECORD_DATA,		/* -x, --pcap: a chunk of data that crossed a socket */
	RECORD_FLOW_START,	/* --pcap: a connection began (its handshake) */
	RECORD_FLOW_END,	/* --pcap: one end of a flow finished (FIN) or reset it */
};
enum field_type { FIELD_STRING, FIELD_INTEGER, FIELD_NUMBER, FIELD_BOOL, FIELD_OPEN, FIELD_CLOSE };
struct record_field {
	const char *key;
	enum field_type type;
	int decimals;		/* FIELD_NUMBER's */
	const char *s;		/* FIELD_STRING's, len bytes; NULL: null */
	size_t len;
	long long i;
	double d;
	bool b;
};
enum { RECORD_TEXT = 1024, RECORD_FIELDS = 40 };
/*
 * A connection or a datagram socket as --pcap shows it (conn.c fills it,
 * sink-pcap.c numbers its bytes): two ends with IP addresses, real ones
 * for TCP and UDP, made up in 127.255.0.0/16 for a UNIX socket.
 */
struct capture_flow {
	bool datagrams;		/* UDP packets; otherwise a TCP flow */
	/* A stream's [0] connected, its [1] accepted; a datagram socket's
	 * [0] is ours, [1] its peer (family 0: each datagram names it). */
	struct sockaddr_storage end[2];
	char comment[224];	/* on its first packet; "": none */
	unsigned holders;	/* descriptors of ours on it (conn.c's) */
	bool forked;		/* a child was forked while both ends were ours */
	bool started, fin[2], reset;	/* sink-pcap.c's, from here */
	uint32_t seq[2], acked[2];
};
struct record {
	enum record_kind kind;
	const char *event;	/* its JSON event's name */
	bool announcement;	/* -q silences it */
	bool text_only;		/* no JSON form: a table's spacing, a side line */
	bool to_stdout;		/* a result row (bench, -z): on stdout */
	bool live;		/* RECORD_STEP_DONE of a live line: erase it */
	double time;		/* seconds since the start */
	double fraction;	/* RECORD_PROGRESS: how far; < 0: just begun */
	size_t text_len;
	char text[RECORD_TEXT];	/* its line(s) of text, no last newline */
	unsigned nfields;
	struct record_field field[RECORD_FIELDS];
	/* RECORD_DATA: the bytes, the offset of their direction, the mark of
	 * their hexdump lines ('>' sent, '<' received) */
	const unsigned char *data;
	size_t data_len;
	uint64_t offset;
	char mark;
	bool shown;		/* -x wants it; otherwise only --pcap does */
	/* --pcap: the flow, which end sent the bytes or ended, and a
	 * datagram's other address where the socket has no peer */
	struct capture_flow *flow;
	int from;
	bool reset;		/* RECORD_FLOW_END: an RST, not a FIN */
	const struct sockaddr *other;
};
extern bool record_json;	/* --json: the JSON sink instead of text */
extern bool record_quiet;	/* -q: announcements silenced */
extern const char *record_command;	/* for the JSON start event */
void record_init(struct record *r, enum record_kind kind, const char *event);
void record_announce(struct record *r, const char *event);
void record_text(struct record *r, const char *fmt, ...) PRINTF_LIKE(2, 3);
void record_string(struct record *r, const char *key, const void *s, size_t n);
void record_cstring(struct record *r, const char *key, const char *s);
void record_integer(struct record *r, const char *key, long long v);
void record_number(struct record *r, const char *key, double v, int decimals);
void record_bool(struct record *r, const char *key, bool v);
void record_open(struct record *r, const char *key);
void record_close(struct record *r);
void record_set_child(void);
const char *record_child_prefix(void);
void record_child_field(struct record *r);
bool record_live_progress(void);
void record_start(void);
void event_emit(const struct record *r);

/* sink-text.c, sink-json.c, sink-hexdump.c: the sinks event_emit() feeds */
void sink_text_emit(const struct record *r);
void sink_json_start(void);
void sink_json_emit(const struct record *r);
void sink_hexdump_emit(const struct record *r);
/* sink-pcap.c writes each block whole through a writer given from above,
 * which returns -1 with errno on failure (and then the capture stops);
 * closer lets go of the file where the capture is forgotten (a child). */
typedef int capture_writer(const void *block, size_t n);
int sink_pcap_start(capture_writer *write, void (*closer)(void));
bool sink_pcap_on(void);
void sink_pcap_emit(const struct record *r);
void sink_pcap_forget(void);
void sink_pcap_stop(void);
int sink_pcap_error(void);

/* trace.c */
extern bool trace_enabled;
void trace_call(const char *result, const char *fmt, ...) PRINTF_LIKE(2, 3);
void trace_ret(long ret, const char *fmt, ...) PRINTF_LIKE(2, 3);
void trace_data(const char *call, int fd, const void *buf, size_t shown_len,
		size_t count, ssize_t ret, const char *extra);

/* conn.c */
extern bool conn_hexdump;	/* -x: every chunk that crosses a socket */
extern bool conn_stats;		/* --stats: a summary as each connection ends */
extern bool conn_counting;	/* count without --stats: SIGUSR1 may ask */

extern bool conn_capture;	/* --pcap: every chunk, as packets */
extern bool conn_capture_joins;	/* proxy: a flow begins when its sides are joined */

/* Whether any sink wants data counted: off, the call layer skips it all. */
static inline bool conn_wanted(void)
{
	return conn_hexdump || conn_stats || conn_counting || conn_capture;
}

/* Whether a sink must see every byte: nothing may splice them past us. */
static inline bool conn_sees_bytes(void)
{
	return conn_hexdump || conn_capture;
}
extern bool conn_name_peers;	/* -x headers name the peer: a server of several */
/* What the kernel says of a connection, read by stats.c for --stats. */
struct conn_view {
	bool tcp, unix_domain;
	unsigned rtt_us, rttvar_us, cwnd, retrans, total_retrans, pmtu;
	uint64_t bytes_acked, bytes_received, delivery_rate;	/* bytes/s */
	int pid, inq, outq;
	unsigned uid, gid;
};
struct tcp_info;
void conn_view_tcp(struct conn_view *v, const struct tcp_info *ti);
void conn_add_kernel_view(struct record *r, const struct conn_view *v, const char *side,
			  const char *indent);
bool conn_is_socket(int fd);
void conn_open(int fd, bool accepted, const char *peer);
void conn_connected(int fd, const char *peer, bool established);
void conn_listening(int fd);
void conn_shut(int fd);
void conn_set_side(int fd, unsigned long number, const char *side);
void conn_set_tls(int fd);
void conn_moved(int fd, bool sent, const void *buf, ssize_t n, int err,
		const struct sockaddr *other, socklen_t other_len);
/* What the call layer tells a capture of a socket's connection. */
struct conn_ends {
	int type;		/* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	struct sockaddr_storage local, peer;
	socklen_t local_len, peer_len;	/* 0: no name */
	int peer_pid;		/* a UNIX peer's (SO_PEERCRED); 0: unknown */
};
bool conn_needs_ends(int fd);
void conn_capture_ends(int fd, const struct conn_ends *e);
void conn_capture_pair(const int fds[2], int type, int pid);
void conn_join(int client_fd, int server_fd);
void conn_will_reset(int fd);
void conn_forked(int child);
bool conn_wants_stats(int fd);
typedef void conn_viewer(int fd, struct conn_view *v);
void conn_set_viewer(conn_viewer *f);
void conn_closing(int fd);
void conn_report_side(int fd);
void conn_report_open(int fd, const struct conn_view *v);
int conn_last_fd(void);

/* sys.c: each returns as the system call does, errno as the call left it */
struct iovec;
struct pollfd;
struct stat;
struct ucred;
struct epoll_event;
int sys_socket(int domain, int type, int protocol);
int sys_socketpair(int domain, int type, int protocol, int fds[2]);
int sys_bind(int fd, const struct sockaddr *sa, socklen_t len);
int sys_listen(int fd, int backlog);
int sys_accept(int fd, struct sockaddr *sa, socklen_t *len, int flags);
int sys_connect(int fd, const struct sockaddr *sa, socklen_t len);
int sys_shutdown(int fd, int how);
int sys_getsockopt_int(int fd, int level, int name, int *value);
int sys_set_linger_zero(int fd);
int sys_getsockopt(int fd, int level, int name, void *value, socklen_t *len,
		   const char *described);
int sys_peer_credentials(int fd, struct ucred *cred);
int sys_setsockopt_int(int fd, int level, int name, int value);
int sys_setsockopt_timeout(int fd, int name, int ms);
int sys_getname(int fd, bool peer, struct sockaddr_storage *ss, socklen_t *len);
ssize_t sys_read(int fd, void *buf, size_t n);
ssize_t sys_write(int fd, const void *buf, size_t n);
ssize_t sys_write_quiet(int fd, const void *buf, size_t n);
int sys_lock_quiet(int fd, bool lock);
int sys_memfd_quiet(const char *name);
int sys_close_quiet(int fd);
ssize_t sys_writev(int fd, const struct iovec *iov, int count);
ssize_t sys_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
		     socklen_t *from_len);
ssize_t sys_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
		   socklen_t to_len);
ssize_t sys_splice(int from, int to, size_t n, unsigned flags);
ssize_t sys_recv_tls(int fd, void *buf, size_t n);
ssize_t sys_send_tls(int fd, const void *buf, size_t n);
ssize_t sys_sendfile(int to, int from, size_t n);
int sys_close(int fd);
int sys_open(const char *path, int flags, const char *flags_text);
int sys_pipe(int fds[2]);
int sys_pipe_size(int fd, int size);
int sys_set_nonblocking(int fd, bool on);
int sys_get_flags(int fd);
int sys_restore_flags(int fd, int flags);
int sys_isatty(int fd);
int sys_ioctl_int(int fd, unsigned long request, const char *request_name, int *value);
int sys_fstat(int fd, struct stat *st);
int sys_poll(struct pollfd *p, unsigned n, int timeout_ms);
int sys_epoll_create(void);
int sys_epoll_ctl(int epfd, int op, int fd, unsigned events, uint64_t data);
int sys_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms,
		   const sigset_t *mask);
int sys_fstatat(int dirfd, const char *name, struct stat *st);
int sys_unlinkat(int dirfd, const char *name);
int sys_stat(const char *path, struct stat *st);
int sys_renameat(int dirfd, const char *from, const char *to, unsigned flags);
int sys_set_owner_mode(int dirfd, const char *name, uid_t uid, gid_t gid, mode_t mode);
char *sys_mkdtemp(char *template);
int sys_mkdir(const char *path, mode_t mode);
int sys_rmdir(const char *path);
int sys_fchdir(int fd);
pid_t sys_fork(void);
pid_t sys_waitpid(pid_t pid, int *status);
int sys_kill(pid_t pid, int sig);
int sys_raise_nofile(unsigned long long *now);
int sys_allowed_cpus(int *cpus, int max);
int sys_pin_cpu(int cpu);
unsigned sys_getservbyname(const char *name, const char *proto);
off_t sys_lseek(int fd, off_t offset, int whence);
ssize_t sys_readlink(const char *path, char *buf, size_t size);
DIR *sys_opendir(const char *path);
struct dirent *sys_readdir(DIR *dir);
int sys_closedir(DIR *dir);
struct addrinfo;
int sys_getaddrinfo(const char *host, const char *port, const struct addrinfo *hints,
		    struct addrinfo **res);

/*
 * What a message over a UNIX socket carried beside its data: descriptors
 * (SCM_RIGHTS) and the sender's credentials (SCM_CREDENTIALS).
 */
enum { SYS_FDS_MAX = 253 };	/* SCM_MAX_FD: the most one message can carry */
struct sys_control {
	bool want_fds, want_creds;	/* the room recvmsg() gives; what does
					   not fit is MSG_CTRUNC, closed by the kernel */
	int fds[SYS_FDS_MAX];	/* received, close-on-exec: the receiver's to close */
	int nfds;
	bool has_creds;
	int pid;
	unsigned uid, gid;
	bool truncated;		/* MSG_CTRUNC: control data was lost */
};
ssize_t sys_sendmsg(int fd, const void *buf, size_t n, const int *fds, int nfds, int flags);
ssize_t sys_recvmsg(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
		    socklen_t *from_len, struct sys_control *c);
void sys_recvmsg_seen(int fd, const void *buf, size_t n, ssize_t r, const struct sockaddr *from,
		      socklen_t from_len);

/* report.c */
extern const char *report_command;	/* "pair", ...; names the error line */
int report_failure(const struct sp_error *e);
int report_error(int status, const char *fmt, ...) PRINTF_LIKE(2, 3);
void report_conn_opened(unsigned long conn, const char *peer, bool faulty);
void report_conn_event(const char *event, unsigned long conn, const char *peer,
		       const char *ending, const char *fmt, ...) PRINTF_LIKE(5, 6);
void report_note(const char *fmt, ...) PRINTF_LIKE(1, 2);
void report_warning(const char *fmt, ...) PRINTF_LIKE(1, 2);
void report_event(const char *event, const char *peer, const char *fmt, ...) PRINTF_LIKE(3, 4);
void report_listening(const char *address, bool unix_path);
void report_descriptor(const char *peer, int fd, const char *what, const char *kind);
void report_credentials(const char *peer, int pid, unsigned uid, unsigned gid);
void report_step(const char *fmt, ...) PRINTF_LIKE(1, 2);
void report_step_done(bool ok);
struct report_progress {
	bool live;		/* a line rewritten in place, on a terminal */
	double next;		/* when it is next rewritten */
	char text[128];
};
void report_progress_init(struct report_progress *p);
void report_progress_begin(struct report_progress *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
void report_progress_tick(struct report_progress *p, double fraction);
void report_progress_end(struct report_progress *p, bool ok);
/* Whether a tick is due: tested in measuring loops, so inline. */
static inline bool report_progress_due(const struct report_progress *p, double now)
{
	return p->live && now >= p->next;
}
void report_milestone(const char *text);
void report_raw(const char *bytes, size_t n);
void report_trace_line(void *arg, const char *line, size_t n);
void report_share_stderr(void);
void report_release_stderr(void);
_Noreturn void usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* parse.c: each returns 0, or -1 for anything but a whole valid value */
int parse_size(const char *s, uint64_t *out);
int parse_uint(const char *s, unsigned long max, unsigned long *out);
int parse_escapes(const char *s, char **out, size_t *len);
int parse_port(const char *s, bool allow_zero, unsigned *out);
int parse_seconds(const char *s, int *ms);
int parse_domain(const char *s, int *out);
int parse_type(const char *s, int *out);
int parse_protocol(const char *s, int *out);
const char *parse_domain_name(int domain, char *buf, size_t size);
const char *parse_type_name(int type, char *buf, size_t size);
const char *parse_socket_triple(int domain, int type, int protocol, char *buf, size_t size);
void parse_wait_status(int status, char *buf, size_t size);

/* proc.c */
pid_t proc_fork(struct sp_error *e);
int proc_wait(pid_t pid, struct sp_error *e);
_Noreturn void proc_exit_child(int status);
bool proc_has_exited(pid_t pid, int wait_ms);
void proc_kill(pid_t pid);
void proc_stop_on_signals(void);
int proc_stopped_by(void);
void proc_report_on_usr1(void);
bool proc_usr1_pending(void);
void proc_toggle_on_usr2(void);
bool proc_usr2_pending(void);
void proc_hold_signals(sigset_t *waiting);
void proc_release_signals(const sigset_t *waiting);

/* io.c */
int io_write_all(int fd, const void *buf, size_t n, struct sp_error *e);
int io_writev_all(int fd, struct iovec *iov, int count, struct sp_error *e);
ssize_t io_read_full(int fd, void *buf, size_t n, struct sp_error *e);
int io_flush_stdout(struct sp_error *e);
const char *io_describe_fd(int fd, char *what, size_t size);
void *io_alloc_buffer(size_t size);
void io_trace_stdout_on_socket(void);
int io_wait_until(int fd, short events, long long deadline_ms);
/*
 * A standard stream as sockpair may use it (io_open_local): moved without
 * blocking, and without changing flags on a description others share.
 */
struct local_end {
	int fd;			/* what to read or write */
	int poll_fd;		/* what poll() watches: the stream itself (see io.c) */
	bool owned;		/* our own reopening: ours to set and close */
	bool socket;		/* a shared socket: MSG_DONTWAIT, never spliced */
	bool terminal;
	bool regular;		/* a regular file: always ready, sendfile(2)'s source */
	bool poll_first;	/* moved only when poll() says it is ready */
};
void io_open_local(int fd, int how, struct local_end *end);
void io_close_local(struct local_end *end);
ssize_t io_local_read(const struct local_end *end, void *buf, size_t n);
ssize_t io_local_write(const struct local_end *end, const void *buf, size_t n);

/* net.c: each returns -1 and fills *e on failure, unless it says otherwise */
struct addrinfo;
int net_socketpair(int domain, int type, int protocol, int fds[2], struct sp_error *e);
int net_loopback_pair(int domain, int type, int protocol, int fds[2], struct sp_error *e);
int net_name_of(int fd, bool peer, char *buf, size_t size);
int net_resolve(const char *host, const char *port, int family, int type,
		bool passive, struct addrinfo **res, struct sp_error *e);
int net_listen_host(const char *host, const char *port, int family, int type,
		    int backlog, struct sp_error *e);
struct unix_listener {
	char path[108];		/* as given: a path, or "@name" (abstract) */
	int dirfd;		/* the path's directory, opened once; -1: none */
	char base[108];		/* the socket's name in that directory */
	bool created;		/* a file we made, to remove at the end */
	dev_t dev;
	ino_t ino;
};
int net_listen_unix(struct unix_listener *ul, int type, int backlog, struct sp_error *e);
void net_unix_cleanup(struct unix_listener *ul);
int net_blocking_pipe(int fds[2], struct sp_error *e);
int net_unix_path_pair(int type, int fds[2], int wait_ms, struct sp_error *e);
int net_open_spare(void);
void net_shed_connection(int lfd, int *spare_fd);
int net_accept(int lfd, char *peer, size_t size, struct sp_error *e);
int net_connect_any(const struct addrinfo *ai, int timeout_ms, struct sp_error *e);
int net_connect_addr(const struct addrinfo *ai, int timeout_ms, struct sp_error *e);
int net_connect_start(const struct sockaddr *sa, socklen_t len, bool *done);
int net_connect_result(int fd);
int net_connect_unix(const char *path, int type, int timeout_ms, struct sp_error *e);
int net_unix_probe(const char *path);
int net_send_fds(int fd, const void *buf, size_t n, const int *fds, int nfds,
		 struct sp_error *e);

/* stats.c */
void stats_kernel_view(int fd, struct conn_view *v);
void stats_report_connections(void);

/* diag.c: NETLINK_SOCK_DIAG; each returns -1 and fills *e on failure */
/* The states as the kernel numbers them, for TCP and (three of them) UNIX. */
enum diag_state {
	DIAG_ESTABLISHED = 1, DIAG_SYN_SENT, DIAG_SYN_RECV, DIAG_FIN_WAIT1, DIAG_FIN_WAIT2,
	DIAG_TIME_WAIT, DIAG_CLOSE, DIAG_CLOSE_WAIT, DIAG_LAST_ACK, DIAG_LISTEN, DIAG_CLOSING
};
struct diag_socket {
	uint32_t ino;		/* "socket:[INO]" in /proc/PID/fd; 0: TCP, not accepted */
	uint8_t family;		/* AF_UNIX, AF_INET, AF_INET6 */
	uint8_t type;		/* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	uint8_t state;		/* enum diag_state */
	bool pending;		/* TCP: a server end its listener has not accepted */
	uint32_t waiting_on;	/* UNIX: a client whose connection this listener
				   (by inode) has not accepted; 0: none */
	/* Listening: connections queued, and the backlog's limit; else the
	 * bytes unread here and (TCP) the bytes sent and not acknowledged. */
	uint32_t rqueue, wqueue;
	/* UNIX */
	uint32_t peer;		/* the other end's inode; 0: none */
	char name[108];		/* sun_path's bytes; abstract: a NUL first */
	size_t name_len;	/* 0: unnamed */
	bool has_vfs;		/* bound at a path: the file's inode and device */
	uint32_t vfs_ino, vfs_dev;
	/* TCP */
	struct sockaddr_storage src, dst;
	struct conn_view view;	/* TCP_INFO, as --stats shows it */
};
struct diag_table {
	struct diag_socket *v;	/* sorted by inode */
	size_t n, cap;
	struct diag_waiting { uint32_t listener, client; } *pending;
	size_t npending, pending_cap;	/* the clients listeners' queues named */
};
int diag_read_all(struct diag_table *t, bool unix_sockets, bool tcp_sockets, struct sp_error *e);
const struct diag_socket *diag_find(const struct diag_table *t, uint32_t ino);
void diag_free(struct diag_table *t);
const char *diag_state_name(const struct diag_socket *s);

/* owners.c: who holds each socket, from one walk of /proc/PID/fd */
struct owner {
	uint32_t ino;		/* the socket */
	int pid, fd;
	char comm[16];		/* /proc/PID/comm */
};
struct owner_table {
	struct owner *v;	/* sorted by inode, pid, fd */
	size_t n, cap;
	int *hidden;		/* the processes whose descriptors we may not see */
	size_t nhidden, hidden_cap;
};
int owners_read_all(struct owner_table *t, struct sp_error *e);
size_t owners_of(const struct owner_table *t, uint32_t ino, const struct owner **first);
bool owners_hidden(const struct owner_table *t, int pid);
void owners_free(struct owner_table *t);

/* flow.c */
/*
 * Bytes going one way (flow.c): read from one side, written to the other.  They wait
 * in buf, or, where both sides can splice(2), in a kernel pipe instead.
 */
struct flow {
	char *buf;
	size_t start, end;	/* pending bytes in buf are buf[start..end) */
	bool source_done;	/* end of file, or the source is gone */
	int pipe[2];		/* splicing: the pipe; -1 when using buf only */
	size_t in_pipe, pipe_size;
	bool pipe_full;		/* splicing in met EAGAIN: wait for the pipe to drain */
	bool bounce_out;	/* the sink cannot splice: pipe -> buf -> write() */
	bool source_unspliced;	/* the source cannot splice: buf once the pipe drains */
	bool sendfile;		/* a regular file to the peer: sendfile(2), no pipe, no buf */
};

/* Large enough that a loopback connection moves at memory speed. */
enum { FLOW_BUFFER = 256 * 1024 };
/* A pipe's worth is what one splice() moves: more per call, fewer calls. */
enum { FLOW_SPLICE_PIPE = 1024 * 1024 };
int flow_init(struct flow *f, struct sp_error *e);
void flow_init_lazy(struct flow *f);
int flow_need_buffer(struct flow *f);
void flow_free(struct flow *f);
bool flow_splices(const struct flow *f);
size_t flow_pending(const struct flow *f);
size_t flow_room(const struct flow *f);
void flow_took(struct flow *f, size_t n);
void flow_compact(struct flow *f);
void flow_close_pipe(struct flow *f);
void flow_discard(struct flow *f);
void flow_start_splicing(struct flow *f, size_t pipe_size);
ssize_t flow_splice_in(struct flow *f, int fd, bool blocking);
ssize_t flow_splice_out(struct flow *f, int fd, bool blocking);

/* tls.c: TLS over a connected socket; nothing else knows the library */
struct tls;
struct tls_options {
	bool on;		/* connect --tls, an https:// URL */
	const char *cafile;	/* NULL: the system's store */
	const char *sni;	/* the name sent and checked; NULL: the host */
	const char *alpn;	/* "h2,http/1.1"; NULL: none offered */
	bool insecure;		/* no verification (said on stderr) */
	bool unsaid;		/* the handshake's line left out (-n's later requests) */
};
struct tls *tls_connect(int fd, const char *host, const char *peer, const struct tls_options *o,
			long long deadline_ms, struct sp_error *e);
ssize_t tls_read(struct tls *t, void *buf, size_t n);
ssize_t tls_write(struct tls *t, const void *buf, size_t n);
bool tls_pending(const struct tls *t);
bool tls_read_needs_write(const struct tls *t);
bool tls_write_needs_read(const struct tls *t);
int tls_close_notify(struct tls *t);
int tls_fail(const struct tls *t, const char *peer, struct sp_error *e);
void tls_free(struct tls *t);

/* line.c */
struct line_reader {
	size_t max;		/* a piece is at most this long */
	size_t held;		/* bytes of an incomplete piece in buf */
	char *buf;		/* max bytes, allocated while something is held */
};
bool line_next(struct line_reader *lr, const char **data, size_t *n,
	       const char **piece, size_t *len);
void line_release_idle(struct line_reader *lr);
void line_release(struct line_reader *lr);
void line_trim(const char **s, size_t *n);

/* http.c */
/* A target of up to 8 KiB (SPEC), and its NUL. */
enum { HTTP_HOST_MAX = 256, HTTP_TARGET_MAX = 8192, HTTP_PATH_MAX = HTTP_TARGET_MAX + 1,
       HTTP_HEAD_MAX = 64 * 1024 };
struct http_target {
	const char *original;	/* as the user wrote it */
	char host[HTTP_HOST_MAX];	/* without the brackets of an IPv6 literal */
	bool ipv6_literal;
	unsigned port;		/* 0: none given */
	bool https;		/* https://: TLS, port 443 by default */
	char path[HTTP_PATH_MAX];	/* with its query */
};
enum head_state { HEAD_MORE, HEAD_DONE, HEAD_BAD };
struct http_head {
	size_t seen;		/* bytes already searched for the end */
	size_t length;		/* HEAD_DONE: the head's size, blank line included */
	const char *why;	/* HEAD_BAD: the reason */
};
int http_parse_target(const char *arg, struct http_target *t, char *err, size_t size);
int http_check_path(const char *path, char *err, size_t size);
enum head_state http_head_feed(struct http_head *h, const char *buf, size_t len);

/* editor.c */
struct editor;
struct editor *editor_open(const char *prompt, const char *history_path);
const char *editor_history_path(char *buf, size_t size);
void editor_close(struct editor *ed);
void editor_read_key(struct editor *ed);
void editor_follow_signals(struct editor *ed);
bool editor_at_eof(const struct editor *ed);
size_t editor_take(struct editor *ed, char *buf, size_t size);
void editor_print(struct editor *ed, const char *buf, size_t n);

/* scan.c */
enum scan_result { SCAN_OPEN, SCAN_REFUSED, SCAN_TIMED_OUT, SCAN_UNREACHABLE };
struct scan_port {
	unsigned port;
	bool done;
	enum scan_result result;
	int err;		/* the connect's errno; 0: open */
	double ms;		/* how long the attempt took */
};
int scan_ports(const struct addrinfo *ai, struct scan_port *ports, size_t n, int timeout_ms,
	       void (*report)(const struct scan_port *p, void *arg), void *arg,
	       struct sp_error *e);

/* relay.c */
struct relay_options {
	int in_fd;		/* local input: stdin */
	int out_fd;		/* local output: stdout */
	struct editor *editor;	/* non-NULL: input is typed through readline */
	bool crlf;		/* input's "\n" goes out as "\r\n" */
	bool datagrams;		/* each input line is one datagram; no end */
	size_t packet_max;	/* a SOCK_SEQPACKET peer: each write one packet of
				   at most this; 0: a byte stream */
	bool reply_to_sender;	/* unconnected: send to whoever sent last */
	bool end_with_peer;	/* the peer's end ends the relay once stdin's
				   present bytes are sent (nc -l) */
	int idle_timeout_ms;	/* 0 or -1: none */
	void *arg;		/* the caller's, given to every hook */
	void (*on_sender)(void *arg, const struct sockaddr *sa, socklen_t len);
	/* A side channel read when it is ready: on_side(arg, side_fd) returns
	 * false once it has ended (fork-echo -i: the child's diagnostics). */
	bool (*on_side)(void *arg, int fd);
	int side_fd;
	/* listen --recv-fd, --creds: the peer is read with recvmsg(), and
	 * on_control hears what each message carried beside its data.  It
	 * returns true to end the relay there (--attach): that message's
	 * data is not relayed. */
	bool recv_fds, recv_creds;
	bool (*on_control)(void *arg, const struct sys_control *c, const void *data, ssize_t n);
	/* connect --send-fd: passed with the first bytes sent ("\0" if none). */
	const int *send_fds;
	int send_nfds;
	/* The peer may be any descriptor, not only a socket (--attach): it is
	 * not shut down, and a terminal's EIO is its end. */
	bool peer_any;
	/* connect --tls: the peer's bytes go through TLS (never spliced). */
	struct tls *tls;
};
struct relay;
struct relay *relay_new(const struct relay_options *o, struct sp_error *e);
int relay_run(struct relay *r, int peer_fd, const char *peer_name, struct sp_error *e);
bool relay_failed_locally(const struct relay *r);
void relay_set_editor(struct relay *r, struct editor *ed);
void relay_set_peer_any(struct relay *r, bool any);
void relay_free(struct relay *r);

/* event.c */
struct event_loop;
typedef void event_handler(struct event_loop *loop, int fd, unsigned events, void *arg);
struct event_loop *event_loop_new(struct sp_error *e);
void event_loop_free(struct event_loop *l);
int event_watch(struct event_loop *l, int fd, unsigned events, event_handler *handler,
		void *arg);
int event_forget(struct event_loop *l, int fd);
int event_run_once(struct event_loop *l, int timeout_ms, struct sp_error *e);
void event_loop_wait_with(struct event_loop *l, const sigset_t *mask);
struct event_timer {		/* fires once, at a monotonic time */
	double at;		/* clock_now_seconds() */
	size_t slot;		/* 1 + its place in the loop's heap; 0: not set */
	void (*fire)(void *arg);
	void *arg;
};
void event_timer_init(struct event_timer *t, void (*fire)(void *arg), void *arg);
int event_timer_set(struct event_loop *l, struct event_timer *t, double at);
void event_timer_cancel(struct event_loop *l, struct event_timer *t);
bool event_timer_pending(const struct event_timer *t);

/* pump.c: flows on the event loop, many at once */
struct pump_flow;
struct fault_gate;
struct pump_end {		/* one descriptor, as the pump moves it */
	int fd;
	struct event_loop *loop;
	struct pump_flow *reader, *writer;	/* the flows reading it, writing it */
	unsigned watched;	/* the events the loop is asked for now */
	void (*on_change)(void *arg);	/* after each turn that touched it */
	void *arg;
};
struct pump_flow {
	struct flow f;
	struct pump_end *from, *to;
	bool ended;		/* the source's end of data came */
	bool shut;		/* ... and was passed on: the sink is shut down */
	bool may_splice;	/* nothing watches the bytes: bulk may splice */
	bool bulk;		/* a read filled its room: splice from now on */
	bool dropping;		/* pump_drop(): its sink shut, what comes is dropped */
	int read_error, write_error;	/* the source's failure, the sink's */
	uint64_t taken;		/* bytes read from the source */
	uint64_t dropped;	/* ... and forgotten: pending at pump_drop(), or read since */
	struct fault_gate *gate;	/* faults: what may go out when; NULL: all, now */
	struct event_timer timer;	/* the gate's next opening */
};
void pump_end_init(struct pump_end *end, struct event_loop *loop, int fd,
		   void (*on_change)(void *arg), void *arg);
void pump_flow_init(struct pump_flow *p, struct pump_end *from, struct pump_end *to,
		    bool may_splice);
void pump_set_gate(struct pump_flow *p, struct fault_gate *gate);
void pump_start(struct pump_flow *p);
void pump_kick(struct pump_flow *p);
void pump_drop(struct pump_flow *p);
bool pump_failed(const struct pump_flow *p);
bool pump_done(const struct pump_flow *p);
void pump_end_release(struct pump_end *end);
void pump_flow_free(struct pump_flow *p);

/* swap.c: proxy --swap */
struct swap {
	char path[108];		/* the live socket's path, as given */
	char orig[128];		/* PATH.sockpair-orig: where the original waits */
	struct unix_listener ul;	/* ours, bound at a fresh name in PATH's directory */
	dev_t dev;		/* ours, once at PATH */
	ino_t ino;
	bool swapped;		/* ours is at PATH: swap_end() puts the original back */
};
int swap_begin(struct swap *s, const char *path, int backlog, struct sp_error *e);
void swap_end(struct swap *s);

/* cmd.c */
/* One option of a command: its getopt_long row and its --help line. */
struct cmd_option {
	int key;		/* the short letter, or a CMD_LONG_ONLY + n value */
	const char *name;	/* the long name */
	const char *arg;	/* the argument's name in --help; NULL: none */
	const char *help;	/* the --help text ("\n" + 23 spaces continues it) */
};
enum { CMD_LONG_ONLY = 0x100 };
/* The rows several commands share, worded once. */
#define CMD_OPT_IPV4 { '4', "ipv4", NULL, "IPv4 only" }
#define CMD_OPT_IPV6 { '6', "ipv6", NULL, "IPv6 only" }
#define CMD_OPT_ADDRESS { 'a', "address", "ADDR", "the address to bind (default 127.0.0.1, ::1 with -6)" }
#define CMD_OPT_BACKLOG { 'b', "backlog", "N", "listen()'s backlog (default SOMAXCONN)" }
#define CMD_OPT_PORT(help) { 'p', "port", "PORT", help }
#define CMD_OPT_TIMEOUT(help) { 'w', "timeout", "SECS", help }
#define CMD_OPT_END { 0, NULL, NULL, NULL }
/* TLS's, for connect --tls and http-head https:// (cmd_tls_option). */
enum { CMD_TLS = CMD_LONG_ONLY + 0x60, CMD_TLS_CAFILE, CMD_TLS_SNI, CMD_TLS_ALPN, CMD_TLS_INSECURE };
#define CMD_OPT_CAFILE { CMD_TLS_CAFILE, "cafile", "FILE", "TLS: verify the server with the CAs in FILE\n" \
	"                       (default: the system's store)" }
#define CMD_OPT_SNI { CMD_TLS_SNI, "sni", "NAME", "TLS: the server name sent and checked (default: HOST)" }
#define CMD_OPT_ALPN { CMD_TLS_ALPN, "alpn", "LIST", "TLS: the protocols offered, as h2,http/1.1" }
#define CMD_OPT_INSECURE { CMD_TLS_INSECURE, "insecure", NULL, "TLS: do not verify the certificate (said on stderr)" }

/* Whether a command's sockets may be captured (--pcap), and where. */
enum cmd_capture { CAPTURE_NONE, CAPTURE_FILE, CAPTURE_FILE_OR_STDOUT };

struct sp_cmd {
	const char *name;
	enum cmd_capture capture;
	const char *synopsis;	/* the arguments, after "sockpair NAME " */
	const char *summary;	/* one line, for the list of commands */
	const struct cmd_option *options;	/* ended by CMD_OPT_END */
	const char *notes;	/* after the options in --help; NULL: none */
	int (*exec)(int argc, char **argv);
};

extern const struct sp_cmd *const sp_commands[];
const struct sp_cmd *cmd_find(const char *name);
const struct sp_cmd *cmd_find_or_fail(const char *name);
void cmd_print_usage(FILE *out);
void cmd_print_help(const struct sp_cmd *cmd, FILE *out);
int cmd_getopt(const struct sp_cmd *cmd, int argc, char **argv);
void cmd_no_more_arguments(int argc, char **argv);
const char *cmd_server_port(const char *arg);
unsigned cmd_client_port(const char *arg);
bool cmd_is_service(const char *name);
const char *cmd_unix_path(const char *arg);
int cmd_parse_backlog(const char *arg);
void cmd_set_family(int *family, int c);
unsigned long cmd_count(const char *arg, unsigned long max, const char *what, const char *unit);
int cmd_seconds_ms(const char *arg, const char *what);
void cmd_announce_listening(int fd, const char *unix_path);
void cmd_raise_descriptor_limit(unsigned long max_clients, unsigned per_client, bool quiet);
int cmd_end_capture(int status);
struct tls_options;
bool cmd_tls_option(int c, const char *arg, struct tls_options *t);
void cmd_check_tls_options(const struct tls_options *t, const char *needs);

extern const struct sp_cmd cmd_help_entry;
extern const struct sp_cmd cmd_pair_entry;
extern const struct sp_cmd cmd_fork_echo_entry;
extern const struct sp_cmd cmd_listen_entry;
extern const struct sp_cmd cmd_connect_entry;
extern const struct sp_cmd cmd_talkback_entry;
extern const struct sp_cmd cmd_http_head_entry;
extern const struct sp_cmd cmd_bench_entry;
extern const struct sp_cmd cmd_proxy_entry;
extern const struct sp_cmd cmd_peers_entry;

/* fault.c: proxy's faults */
enum fault_key {		/* proxy's option keys for them */
	FAULT_DELAY = CMD_LONG_ONLY + 64, FAULT_RATE, FAULT_SLICE, FAULT_CLOSE_AFTER,
	FAULT_RESET_AFTER, FAULT_BLACKHOLE, FAULT_FAULTY
};
struct fault_way {		/* one direction's faults, as asked */
	unsigned delay_ms, jitter_ms;
	uint64_t rate;		/* bytes per second; 0: no limit */
	uint64_t slice;		/* bytes per write; 0: as they come */
	unsigned slice_ms;	/* between slices */
	uint64_t close_after, reset_after;	/* 0: never */
	bool blackhole;
};
struct fault_plan {
	struct fault_way up, down;	/* client to server, server to client */
	int blackhole_ms;	/* both sides closed this long after accept; -1: never */
	double faulty;		/* the share of connections touched, 0 to 1 */
	bool any;		/* a fault was asked for */
};
enum fault_trip { FAULT_NONE, FAULT_CLOSE, FAULT_RESET };
struct fault_chunk;
struct fault_gate {		/* one faulty direction's bytes, held */
	const struct fault_way *way;
	const bool *on;		/* the faults are on (SIGUSR2 turns them off) */
	unsigned long conn;
	const char *side;	/* who sent the bytes: "client", "server" */
	struct fault_chunk *chunks;	/* a ring of the chunks held */
	unsigned head, count;
	double last_due, rate_at, slice_at;
	uint64_t queued;	/* bytes held now */
	uint64_t forwarded, held, dropped;
	double most_waited;
	enum fault_trip trip;	/* the limit was reached: the proxy acts */
};
void fault_plan_init(struct fault_plan *p);
void fault_option(struct fault_plan *p, int key, const char *arg);
bool fault_chosen(const struct fault_plan *p);
bool fault_way_active(const struct fault_way *w);
int fault_gate_init(struct fault_gate *g, const struct fault_way *w, const bool *on,
		    unsigned long conn, const char *side);
void fault_gate_free(struct fault_gate *g);
bool fault_gate_has_room(const struct fault_gate *g);
size_t fault_gate_take(struct fault_gate *g, size_t n, double now);
size_t fault_gate_allows(const struct fault_gate *g, size_t pending, double now, double *next);
void fault_gate_sent(struct fault_gate *g, size_t n, double now);
void fault_gate_discard(struct fault_gate *g);
bool fault_gate_holds_end(const struct fault_gate *g);
void fault_report_trip(unsigned long conn, const struct fault_gate *g);
void fault_report_blackhole(unsigned long conn, int ms);
void fault_add_stats(struct record *r, unsigned long conn, const struct fault_gate *up,
		     const struct fault_gate *down, uint64_t up_dropped, uint64_t down_dropped);

#endif
