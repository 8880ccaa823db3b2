/*
 * tls.c: TLS for connect --tls and http-head https://, with OpenSSL; the
 * one file that knows the library.
 *
 * OpenSSL moves the ciphertext through a BIO of ours whose reads and
 * writes are the call layer's sys_recv_tls() and sys_send_tls(): --trace
 * shows them as the socket calls they are, with the ciphertext's sizes.
 * What the application reads and writes is counted here as the socket's
 * data (conn_moved), so that -x and --pcap show the plaintext.
 *
 * Reads and writes behave as read(2) and write(2) on a non-blocking
 * socket: -1 and EAGAIN when OpenSSL needs the socket, partial writes,
 * 0 at the peer's close_notify or at a TCP end without one (as curl and
 * s_client take it).  A protocol failure is -1 and EPROTO; tls_fail()
 * makes the error record of it, with OpenSSL's reason.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct tls {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	int keylog_fd;		/* SSLKEYLOGFILE, appended to; -1: none */
	bool verify;		/* the certificate is checked (not --insecure) */
	bool notified;		/* our close_notify is sent */
	/* The last read waits for the socket to take a write (a key update's
	 * answer), the last write for data to come (a renegotiation). */
	bool read_needs_write, write_needs_read;
	char reason[160];	/* the last failure, as OpenSSL words it */
};

/* ---- the BIO: ciphertext through the call layer ---------------------------- */

static int bio_write(BIO *b, const char *buf, int n)
{
	struct tls *t = BIO_get_data(b);
	ssize_t w = sys_send_tls(t->fd, buf, (size_t)n);

	BIO_clear_retry_flags(b);
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)w;
}

static int bio_read(BIO *b, char *buf, int n)
{
	struct tls *t = BIO_get_data(b);
	ssize_t r = sys_recv_tls(t->fd, buf, (size_t)n);

	BIO_clear_retry_flags(b);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		BIO_set_retry_read(b);
	return (int)r;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static BIO_METHOD *bio_method(void)
{
	static BIO_METHOD *m;

	if (!m) {
		m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sockpair");
		if (m) {
			BIO_meth_set_write(m, bio_write);
			BIO_meth_set_read(m, bio_read);
			BIO_meth_set_ctrl(m, bio_ctrl);
		}
	}
	return m;
}

/* ---- failures ---------------------------------------------------------------- */

/* OpenSSL's reason for the failure just met, in t->reason. */
static const char *note_reason(struct tls *t, int ssl_error, int err)
{
	unsigned long code = ERR_peek_last_error();
	long verify = SSL_get_verify_result(t->ssl);

	/* Unverified (--insecure), the result stays what it was: no reason. */
	if (t->verify && verify != X509_V_OK &&
	    ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED)
		snprintf(t->reason, sizeof(t->reason), "certificate verify failed (%s)",
			 X509_verify_cert_error_string(verify));
	else if (code && ERR_SYSTEM_ERROR(code))
		snprintf(t->reason, sizeof(t->reason), "%s", strerror(ERR_GET_REASON(code)));
	else if (code && ERR_reason_error_string(code))
		snprintf(t->reason, sizeof(t->reason), "%s", ERR_reason_error_string(code));
	else if (ssl_error == SSL_ERROR_SYSCALL && err)
		snprintf(t->reason, sizeof(t->reason), "%s", strerror(err));
	else
		snprintf(t->reason, sizeof(t->reason), "the peer closed the connection");
	ERR_clear_error();
	return t->reason;
}

/* A protocol failure after the handshake (EPROTO from a read or a write),
 * as the error record: OpenSSL's reason, exit 7. */
int tls_fail(const struct tls *t, const char *peer, struct sp_error *e)
{
	return fail(e, SP_TLS, "TLS with %s: %s", peer, t->reason);
}

/*
 * What an SSL call's result r means as read(2) would say it: r itself,
 * 0 for a close_notify, or -1 with errno (EAGAIN: OpenSSL needs the
 * socket; EPROTO: a protocol failure, its reason noted).
 */
static int result_of(struct tls *t, int r, bool writing)
{
	int saved = errno, code;

	t->read_needs_write = t->write_needs_read = false;
	if (r > 0)
		return r;
	code = SSL_get_error(t->ssl, r);
	switch (code) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		t->read_needs_write = !writing && code == SSL_ERROR_WANT_WRITE;
		t->write_needs_read = writing && code == SSL_ERROR_WANT_READ;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (saved && saved != EAGAIN) {
			note_reason(t, code, saved);
			errno = saved;
			return -1;
		}
		return 0;
	default:
		note_reason(t, code, saved);
		errno = EPROTO;
		return -1;
	}
}

/* ---- the handshake ------------------------------------------------------------- */

/* A key line, whole, with one write: two processes may append at once. */
static void write_key_line(const SSL *ssl, const char *line)
{
	const struct tls *t = SSL_get_app_data(ssl);
	size_t n = strlen(line);
	char buf[512];

	if (!t || t->keylog_fd < 0 || n + 1 > sizeof(buf))
		return;
	memcpy(buf, line, n);
	buf[n] = '\n';
	(void)sys_write_quiet(t->keylog_fd, buf, n + 1);
}

/* SSLKEYLOGFILE (NSS's key log format), for Wireshark to decrypt a capture. */
static void open_key_log(struct tls *t)
{
	const char *path = getenv("SSLKEYLOGFILE");

	if (!path || !*path)
		return;
	t->keylog_fd = sys_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
				"O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC");
	if (t->keylog_fd >= 0)
		SSL_CTX_set_keylog_callback(t->ctx, write_key_line);
	else
		report_note("SSLKEYLOGFILE %s: %s: no keys written", path, strerror(errno));
}

/* "h2,http/1.1" in ALPN's wire form: each name after its length. */
static int set_alpn(SSL *ssl, const char *list)
{
	unsigned char wire[256];
	size_t used = 0;

	while (*list) {
		size_t n = strcspn(list, ",");

		if (n == 0 || n > 255 || used + 1 + n > sizeof(wire))
			return -1;
		wire[used++] = (unsigned char)n;
		memcpy(wire + used, list, n);
		used += n;
		list += n + (list[n] == ',');
	}
	return SSL_set_alpn_protos(ssl, wire, (unsigned)used) == 0 ? 0 : -1;
}

static bool is_ip_literal(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* The name sent (SNI, not for an address) and checked against the certificate. */
static int set_name(SSL *ssl, const char *name, bool verify)
{
	bool ip = is_ip_literal(name);

	if (!ip && !SSL_set_tlsext_host_name(ssl, name))
		return -1;
	if (!verify)
		return 0;
	if (ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -1;
	return SSL_set1_host(ssl, name) == 1 ? 0 : -1;
}

static SSL_CTX *new_context(const struct tls_options *o, struct sp_error *e)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		fail(e, SP_FAILURE, "SSL_CTX_new: %s", ERR_reason_error_string(ERR_get_error()));
		return NULL;
	}
	if (!o->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (o->cafile ? SSL_CTX_load_verify_locations(ctx, o->cafile, NULL) != 1
			      : SSL_CTX_set_default_verify_paths(ctx) != 1) {
			unsigned long code = ERR_get_error();

			fail(e, SP_FAILURE, "%s: %s", o->cafile ? o->cafile : "the system's certificates",
			     !code ? "not loaded" : ERR_SYSTEM_ERROR(code) ? strerror(ERR_GET_REASON(code))
			     : ERR_reason_error_string(code) ? ERR_reason_error_string(code)
			     : "not loaded");
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	return ctx;
}

/* One SSL for fd, its BIO ours, set up as o says; NULL and *e on failure. */
static struct tls *new_tls(int fd, const char *host, const struct tls_options *o,
			   struct sp_error *e)
{
	struct tls *t = calloc(1, sizeof(*t));
	BIO *bio;

	if (!t) {
		fail_errno(e, SP_FAILURE, ENOMEM, "TLS");
		return NULL;
	}
	t->fd = fd;
	t->keylog_fd = -1;
	t->verify = !o->insecure;
	t->ctx = new_context(o, e);
	if (!t->ctx) {
		free(t);
		return NULL;
	}
	open_key_log(t);
	t->ssl = SSL_new(t->ctx);
	bio = bio_method() ? BIO_new(bio_method()) : NULL;
	if (!t->ssl || !bio || set_name(t->ssl, o->sni ? o->sni : host, !o->insecure) < 0 ||
	    (o->alpn && set_alpn(t->ssl, o->alpn) < 0)) {
		BIO_free(bio);
		fail(e, SP_FAILURE, "TLS set-up for %s failed", o->sni ? o->sni : host);
		tls_free(t);
		return NULL;
	}
	BIO_set_data(bio, t);
	BIO_set_init(bio, 1);
	SSL_set_app_data(t->ssl, t);
	SSL_set_bio(t->ssl, bio, bio);
	SSL_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_set_options(t->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return t;
}

static int handshake(struct tls *t, const char *peer, long long deadline_ms, struct sp_error *e)
{
	for (;;) {
		int r, code, ready;

		errno = 0;	/* what the BIO's calls leave is the reason */
		r = SSL_connect(t->ssl);
		if (r == 1)
			return 0;
		code = SSL_get_error(t->ssl, r);
		if (code != SSL_ERROR_WANT_READ && code != SSL_ERROR_WANT_WRITE)
			return fail(e, SP_TLS, "TLS handshake with %s: %s", peer,
				    note_reason(t, code, errno));
		ready = io_wait_until(t->fd, code == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN,
				      deadline_ms);
		if (ready < 0)
			return fail_errno(e, SP_FAILURE, errno, "poll(%s)", peer);
		if (ready == 0)
			return fail_errno(e, SP_TIMEOUT, ETIMEDOUT, "TLS handshake with %s", peer);
	}
}

/* ---- what the handshake did ---------------------------------------------------- */

static void name_cn(const X509_NAME *name, char *buf, size_t size)
{
	if (!name || X509_NAME_get_text_by_NID((X509_NAME *)name, NID_commonName, buf,
					       (int)size) < 0)
		snprintf(buf, size, "?");
}

static void not_after(const X509 *cert, char *buf, size_t size)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
		strftime(buf, size, "%Y-%m-%d", &tm);
	else
		snprintf(buf, size, "?");
}

/*
 * "tls: TLSv1.3 TLS_AES_256_GCM_SHA384, ALPN http/1.1, certificate
 * CN=NAME, issuer CN=NAME, valid until YYYY-MM-DD, verified", and the
 * tls event with the same fields.
 */
static void report_handshake(const struct tls *t, bool verified)
{
	const unsigned char *alpn = NULL;
	unsigned alpn_len = 0;
	char subject[128] = "?", issuer[128] = "?", until[16] = "?", shown[TEXT_QUOTE_SIZE];
	char subject_shown[4 * 128 + 1], issuer_shown[4 * 128 + 1];
	X509 *cert = SSL_get1_peer_certificate(t->ssl);
	const char *version = SSL_get_version(t->ssl);
	const char *cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(t->ssl));
	struct record r;

	SSL_get0_alpn_selected(t->ssl, &alpn, &alpn_len);
	if (cert) {
		name_cn(X509_get_subject_name(cert), subject, sizeof(subject));
		name_cn(X509_get_issuer_name(cert), issuer, sizeof(issuer));
		not_after(cert, until, sizeof(until));
		X509_free(cert);
	}
	text_escape(alpn, alpn_len, shown, sizeof(shown));
	/* The names are the server's words: shown escaped, never as control codes. */
	text_escape(subject, strlen(subject), subject_shown, sizeof(subject_shown));
	text_escape(issuer, strlen(issuer), issuer_shown, sizeof(issuer_shown));
	record_announce(&r, "tls");
	record_text(&r, "tls: %s %s, ALPN %s, certificate CN=%s, issuer CN=%s, valid until %s, %s",
		    version, cipher, alpn_len ? shown : "none", subject_shown, issuer_shown, until,
		    verified ? "verified" : "not verified");
	record_cstring(&r, "version", version);
	record_cstring(&r, "cipher", cipher);
	if (alpn_len)
		record_string(&r, "alpn", alpn, alpn_len);
	else
		record_cstring(&r, "alpn", NULL);
	record_cstring(&r, "subject_cn", subject);
	record_cstring(&r, "issuer_cn", issuer);
	record_cstring(&r, "not_after", until);
	record_bool(&r, "verified", verified);
	event_emit(&r);
}

/*
 * TLS over the connected socket fd, to host (the name checked, unless
 * o->sni names another): the handshake done by deadline_ms (-1: none),
 * its line reported.  NULL and *e (exit 7 for TLS's own failures).
 * fd, the caller's own, is left non-blocking: a readable socket may hold
 * part of a record, and a blocking read of the rest would outlast any
 * deadline.
 */
struct tls *tls_connect(int fd, const char *host, const char *peer, const struct tls_options *o,
			long long deadline_ms, struct sp_error *e)
{
	struct tls *t;

	if (sys_set_nonblocking(fd, true) < 0) {
		fail_errno(e, SP_FAILURE, errno, "fcntl(%s)", peer);
		return NULL;
	}
	t = new_tls(fd, host, o, e);
	if (t && handshake(t, peer, deadline_ms, e) < 0) {
		tls_free(t);
		return NULL;
	}
	if (!t)
		return NULL;
	conn_set_tls(fd);
	if (!o->unsaid)
		report_handshake(t, !o->insecure);
	if (o->insecure && !o->unsaid)
		report_warning("--insecure: the certificate was not verified");
	return t;
}

/* ---- data ---------------------------------------------------------------------- */

ssize_t tls_read(struct tls *t, void *buf, size_t n)
{
	int r;

	errno = 0;
	r = result_of(t, SSL_read(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n), false);
	conn_moved(t->fd, false, buf, r, errno, NULL, 0);
	return r;
}

/* As write(2): never 0; the peer's close_notify met here is EPIPE. */
ssize_t tls_write(struct tls *t, const void *buf, size_t n)
{
	int r;

	errno = 0;
	r = result_of(t, SSL_write(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n), true);
	if (r == 0) {
		errno = EPIPE;
		r = -1;
	}
	conn_moved(t->fd, true, buf, r, errno, NULL, 0);
	return r;
}

bool tls_read_needs_write(const struct tls *t)
{
	return t->read_needs_write;
}

bool tls_write_needs_read(const struct tls *t)
{
	return t->write_needs_read;
}

/* Plaintext OpenSSL holds already: readable with no poll(). */
bool tls_pending(const struct tls *t)
{
	return SSL_pending(t->ssl) > 0;
}

/*
 * Our end of data: a close_notify (then the caller shuts the socket's
 * sending side).  0 once sent; -1 and EAGAIN while the socket is full.
 */
int tls_close_notify(struct tls *t)
{
	int r;

	if (t->notified)
		return 0;
	errno = 0;
	r = SSL_shutdown(t->ssl);
	if (r < 0 && result_of(t, r, true) < 0)
		return -1;
	t->notified = true;
	return 0;
}

void tls_free(struct tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	if (t->keylog_fd >= 0)
		(void)sys_close(t->keylog_fd);
	free(t);
}
