/*
 * sockpair.h: the one header.  Sections follow the files that define them,
 * so this also serves as an index of the program.
 */
#ifndef SOCKPAIR_H
#define SOCKPAIR_H

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
};

/*
 * A failure as the leaves record it: the text "CALL(DETAILS): REASON",
 * composed where errno is still fresh, and the exit status of its class.
 * Leaves fill one and return -1; only commands print it (report_failure).
 */
struct sp_error {
	int status;
	int err;		/* the errno it was filled with; 0: none */
	char text[512];
};

/* cmd.c */
struct sp_cmd {
	const char *name;
	const char *synopsis;	/* the arguments, after "sockpair NAME " */
	const char *summary;	/* one line, for the list of commands */
	const char *options;	/* the option lines of NAME --help */
	int (*exec)(int argc, char **argv);
};

/* Options every command accepts after its name, as main() does before it. */
enum { OPT_TRACE = 0x100, OPT_COMMON_LAST };
#define COMMON_SHORT_OPTIONS "+:hq"
#define COMMON_LONG_OPTIONS                                  \
	{ "help", no_argument, NULL, 'h' },                  \
	{ "quiet", no_argument, NULL, 'q' },                 \
	{ "trace", no_argument, NULL, OPT_TRACE }

extern const struct sp_cmd *const sp_commands[];
const struct sp_cmd *cmd_find(const char *name);
void cmd_print_usage(FILE *out);
void cmd_print_help(const struct sp_cmd *cmd, FILE *out);
void cmd_common_option(const struct sp_cmd *cmd, int c, char **argv);
const char *cmd_server_port(const char *arg);
unsigned cmd_client_port(const char *arg);
const char *cmd_unix_path(const char *arg);
int cmd_backlog(const char *arg);
void cmd_family(int *family, int c);
int cmd_timeout_ms(const char *arg);

extern const struct sp_cmd cmd_help_entry;
extern const struct sp_cmd cmd_pair_entry;
extern const struct sp_cmd cmd_fork_echo_entry;
extern const struct sp_cmd cmd_listen_entry;
extern const struct sp_cmd cmd_connect_entry;
extern const struct sp_cmd cmd_talkback_entry;
extern const struct sp_cmd cmd_http_head_entry;

/* report.c */
extern const char *report_command;	/* "pair", ...; names the error line */
extern bool report_quiet;
int fail(struct sp_error *e, int status, const char *fmt, ...) PRINTF_LIKE(3, 4);
int fail_errno(struct sp_error *e, int status, int err, const char *fmt, ...)
	PRINTF_LIKE(4, 5);
int report_failure(const struct sp_error *e);
int report_error(int status, const char *fmt, ...) PRINTF_LIKE(2, 3);
void report_note(const char *fmt, ...) PRINTF_LIKE(1, 2);
void report_step(const char *fmt, ...) PRINTF_LIKE(1, 2);
void report_step_done(bool ok);
void report_listening(int fd, const char *unix_path);
_Noreturn void usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
const char *report_escape(const void *buf, size_t n, char *out, size_t size);

/* trace.c */
extern bool trace_enabled;
void trace_set_child(void);
void trace_set_writer(void (*writer)(const char *line, size_t n));
void trace_call(const char *result, const char *fmt, ...) PRINTF_LIKE(2, 3);
void trace_ret(long ret, const char *fmt, ...) PRINTF_LIKE(2, 3);
void trace_data(const char *call, int fd, const void *buf, size_t shown_len,
		size_t count, ssize_t ret);
size_t trace_quote(char *out, size_t size, const void *buf, size_t n);

/* parse.c */
int parse_size(const char *s, uint64_t *out);
int parse_uint(const char *s, unsigned long max, unsigned long *out);
int parse_escapes(const char *s, char **out, size_t *len);
int parse_port(const char *s, bool allow_zero, unsigned *out);
int parse_seconds(const char *s, int *ms);

/* net.c */
int net_parse_domain(const char *s, int *out);
int net_parse_type(const char *s, int *out);
int net_parse_protocol(const char *s, int *out);
const char *net_domain_name(int domain, char *buf, size_t size);
const char *net_type_name(int type, char *buf, size_t size);
const char *net_format_addr(const struct sockaddr *sa, socklen_t len,
			    char *buf, size_t size);
int net_socketpair(int domain, int type, int protocol, int fds[2],
		   struct sp_error *e);
int net_loopback_pair(int domain, int type, int protocol, int fds[2],
		      struct sp_error *e);
int net_getsockopt_int(int fd, int level, int name, const char *name_text,
		       int *value);
struct ucred;
int net_peer_credentials(int fd, struct ucred *cred);
int net_name_of(int fd, bool peer, char *buf, size_t size);
struct addrinfo;
struct sockaddr_un;
struct unix_listener {
	char path[108];		/* as given: a path, or "@name" (abstract) */
	int dirfd;		/* the path's directory, opened once; -1: none */
	char base[108];		/* the socket's name in that directory */
	bool created;		/* a file we made, to remove at the end */
	dev_t dev;
	ino_t ino;
};
const char *net_strip_brackets(const char *host, char *buf, size_t size);
int net_resolve(const char *host, const char *port, int family, int type,
		bool passive, struct addrinfo **res, struct sp_error *e);
int net_unix_address(const char *path, struct sockaddr_un *sun, socklen_t *len);
int net_listen_host(const char *host, const char *port, int family, int type,
		    int backlog, struct sp_error *e);
int net_listen_unix(struct unix_listener *ul, int type, int backlog, struct sp_error *e);
void net_unix_cleanup(struct unix_listener *ul);
int net_accept(int lfd, char *peer, size_t size, struct sp_error *e);
int net_connect_any(const struct addrinfo *ai, int timeout_ms, struct sp_error *e);
int net_connect_addr(const struct addrinfo *ai, int timeout_ms, struct sp_error *e);
int net_connect_unix(const char *path, int type, int timeout_ms, struct sp_error *e);
int net_shutdown(int fd, int how);
int net_close(int fd);

/* io.c */
long long io_now_ms(void);
ssize_t io_read(int fd, void *buf, size_t n);
ssize_t io_write(int fd, const void *buf, size_t n);
int io_write_all(int fd, const void *buf, size_t n, struct sp_error *e);
struct iovec;
int io_writev_all(int fd, struct iovec *iov, int count, struct sp_error *e);
ssize_t io_read_full(int fd, void *buf, size_t n, struct sp_error *e);
int io_flush_stdout(struct sp_error *e);

/*
 * A standard stream as sockpair may use it (io_open_local): moved without
 * blocking, and without changing flags on a description others share.
 */
struct local_end {
	int fd;			/* what to read or write */
	bool owned;		/* our own reopening of a pipe: ours to set and close */
	bool socket;		/* a shared socket: MSG_DONTWAIT, never spliced */
	bool terminal;
	bool poll_first;	/* moved only when poll() says it is ready */
};
void io_open_local(int fd, int how, struct local_end *end);
void io_close_local(struct local_end *end);
ssize_t io_local_read(const struct local_end *end, void *buf, size_t n);
ssize_t io_local_write(const struct local_end *end, const void *buf, size_t n);

struct editor;

/*
 * Bytes going one way: read from one side, written to the other.  They wait
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
};

struct relay {
	/* Set by the caller: */
	int in_fd;		/* local input: stdin */
	int out_fd;		/* local output: stdout */
	int peer_fd;		/* the socket */
	const char *peer_name;	/* for error lines */
	struct editor *editor;	/* non-NULL: input is typed through readline */
	bool crlf;		/* input's "\n" goes out as "\r\n" */
	bool datagrams;		/* each input line is one datagram; no end */
	bool end_with_peer;	/* the peer's end ends the relay once stdin's
				   present bytes are sent (nc -l) */
	bool reply_to_sender;	/* unconnected: send to whoever sent last */
	int idle_timeout_ms;	/* 0 or -1: none */
	void (*on_sender)(const struct sockaddr *sa, socklen_t len);
	/* Kept by io_relay() across calls: */
	struct local_end in, out;	/* in_fd and out_fd as moved */
	struct flow up;		/* local input -> peer */
	struct flow down;	/* peer -> local output */
	bool peer_write_shut, last_was_cr;
	bool local_failed;	/* the failure was stdin's or stdout's */
	bool lost;		/* input could not be delivered: lost_error at the end */
	struct sp_error lost_error;
	bool one_way;		/* one direction left: blocking calls, no poll() */
	unsigned long moves;	/* reads and writes that did something */
	unsigned stuck;		/* moves that met EAGAIN since the last poll() */
	struct sockaddr_storage sender;
	socklen_t sender_len;
};
int io_relay_init(struct relay *r, struct sp_error *e);
int io_relay(struct relay *r, struct sp_error *e);
void io_relay_release(struct relay *r);
void io_stop_on_signals(void);
int io_stopped_by(void);

/* line.c */
struct line_reader {
	size_t max;		/* a piece is at most this long */
	size_t held;		/* bytes of an incomplete piece in buf */
	char *buf;		/* max bytes, allocated while something is held */
};
bool line_next(struct line_reader *lr, const char **data, size_t *n,
	       const char **piece, size_t *len);
void line_release(struct line_reader *lr);
void line_free(struct line_reader *lr);
void line_trim(const char **s, size_t *n);

/* http.c */
enum { HTTP_HOST_MAX = 256, HTTP_PATH_MAX = 8192, HTTP_HEAD_MAX = 64 * 1024 };
struct http_target {
	const char *original;	/* as the user wrote it */
	char host[HTTP_HOST_MAX];	/* without the brackets of an IPv6 literal */
	bool ipv6_literal;
	unsigned port;		/* 0: none given */
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
struct editor *editor_open(const char *prompt, const char *history_path);
const char *editor_history_path(char *buf, size_t size);
void editor_close(struct editor *ed);
void editor_read_key(struct editor *ed);
bool editor_at_eof(const struct editor *ed);
size_t editor_take(struct editor *ed, char *buf, size_t size);
void editor_print(struct editor *ed, const char *buf, size_t n);

/* proc.c */
pid_t proc_fork(struct sp_error *e);
int proc_wait(pid_t pid, struct sp_error *e);

#endif
