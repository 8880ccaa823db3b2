/*
 * http.c: the two pieces of HTTP that http-head needs, as pure functions
 * (no I/O, no exit), so that the fuzzers can drive them directly: reading
 * a target the way users write it, and recognising the end of a response
 * head as it arrives.
 */
#include "sockpair.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* ---- targets ---------------------------------------------------------- */

static int target_error(char *err, size_t size, const char *fmt, const char *what)
{
	snprintf(err, size, fmt, what);
	return -1;
}

/*
 * Bytes that would break the request line or the Host header: a space
 * ends the path, CR and LF end the line (request smuggling), and control
 * bytes have no business there.
 */
static bool safe_for_request(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

static bool valid_host(const char *s, size_t n, bool bracketed)
{
	if (n == 0 || n >= HTTP_HOST_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (bracketed ? !(isxdigit(c) || c == ':' || c == '.' || c == '%' || isalnum(c))
			      : !(isalnum(c) || c == '-' || c == '.' || c == '_'))
			return false;
	}
	return true;
}

/* "[::1]" or "name", then optionally ":PORT"; the rest is the path. */
static int split_authority(const char *s, size_t n, struct http_target *t,
			   char *err, size_t size)
{
	struct host_port hp;
	int shape = addr_split_host_port(s, n, &hp);
	const char *host = hp.host, *port = hp.port;
	size_t host_len = hp.host_len;

	if (shape == ADDR_SPLIT_NO_BRACKET)
		return target_error(err, size, "%s: an IPv6 address needs its closing ']'", "host");
	if (shape == ADDR_SPLIT_AFTER_BRACKET)
		return target_error(err, size, "%s: expected ':' after ']'", "host");
	t->ipv6_literal = hp.bracketed || hp.bare_ipv6;
	if (!valid_host(host, host_len, t->ipv6_literal))
		return target_error(err, size, t->ipv6_literal && s[0] != '['
				    ? "invalid host in '%s' (an IPv6 address with a port is "
				      "written [ADDRESS]:PORT)" : "invalid host in '%s'", t->original);
	memcpy(t->host, host, host_len);
	t->host[host_len] = '\0';
	if (port) {
		char digits[8];
		size_t len = (size_t)(s + n - port);
		unsigned value;
		if (len == 0 || len >= sizeof(digits))
			return target_error(err, size, "invalid port in '%s' (1 to 65535)", t->original);
		memcpy(digits, port, len);
		digits[len] = '\0';
		if (parse_port(digits, false, &value) < 0)
			return target_error(err, size, "invalid port in '%s' (1 to 65535)", t->original);
		t->port = value;
	}
	return 0;
}

/*
 * HOST, HOST:PORT, [V6]:PORT or http[s]://HOST[:PORT][/PATH], as users write
 * them.  Returns 0, or -1 with the reason in err.  port stays 0 when the
 * target names none; a fragment (#...) is not sent, as browsers do not.
 */
int http_parse_target(const char *arg, struct http_target *t, char *err, size_t size)
{
	const char *s = arg, *scheme_end = strstr(arg, "://"), *path;
	size_t n;

	memset(t, 0, sizeof(*t));
	t->original = arg;
	if (scheme_end) {
		size_t scheme_len = (size_t)(scheme_end - arg);
		t->https = scheme_len == 5 && strncasecmp(arg, "https", 5) == 0;
		if (!t->https && (scheme_len != 4 || strncasecmp(arg, "http", 4) != 0))
			return target_error(err, size,
					    "unsupported scheme in '%s' (only http:// and https://)", arg);
		s = scheme_end + 3;
	}
	path = s + strcspn(s, "/?#");
	if (split_authority(s, (size_t)(path - s), t, err, size) < 0)
		return -1;
	n = strcspn(path, "#");
	if (n == 0)
		path = "/", n = 1;
	/* A query with no path before it is sent after a "/": count it. */
	if (n + (path[0] == '?') >= sizeof(t->path))
		return target_error(err, size, "%s: longer than 8192 bytes", "path");
	snprintf(t->path, sizeof(t->path), "%s%.*s", path[0] == '?' ? "/" : "", (int)n, path);
	if (!safe_for_request(t->path, strlen(t->path)))
		return target_error(err, size, "%s: spaces and control characters must be percent-encoded",
				    "path");
	return 0;
}

/* Checks a path given with --path as the target's own path is checked. */
int http_check_path(const char *path, char *err, size_t size)
{
	if (path[0] != '/')
		return target_error(err, size, "%s: must start with '/'", "--path");
	if (strlen(path) >= HTTP_PATH_MAX)
		return target_error(err, size, "%s: longer than 8192 bytes", "--path");
	if (!safe_for_request(path, strlen(path)))
		return target_error(err, size, "%s: spaces and control characters must be percent-encoded",
				    "--path");
	return 0;
}

/* ---- response heads --------------------------------------------------- */

/* "HTTP/d.d ddd": what a status line starts with; enough of it to judge. */
static bool status_line_starts_well(const char *s, size_t n)
{
	static const char proto[] = "HTTP/";

	for (size_t i = 0; i < n && i < 5; i++)
		if (s[i] != proto[i])
			return false;
	if (n > 5 && !isdigit((unsigned char)s[5]))
		return false;
	if (n > 6 && s[6] != '.')
		return false;
	if (n > 7 && !isdigit((unsigned char)s[7]))
		return false;
	if (n > 8 && s[8] != ' ')
		return false;
	for (size_t i = 9; i < n && i < 12; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * Takes the next bytes of a response as they arrive, in buf[0..len) where
 * the first `seen` were looked at already.  Returns HEAD_MORE, HEAD_DONE
 * with h->length the head's size (the blank line included, and nothing
 * after it), or HEAD_BAD with the reason in h->why.  The end is "\r\n\r\n",
 * or "\n\n" from a sloppy server.
 */
enum head_state http_head_feed(struct http_head *h, const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);
	size_t first_line = nl ? (size_t)(nl - buf) : len;

	if (!status_line_starts_well(buf, first_line)) {
		h->why = "not an HTTP response";
		return HEAD_BAD;
	}
	if (nl && first_line < 12) {
		h->why = "status line too short";
		return HEAD_BAD;
	}
	for (size_t i = h->seen > 3 ? h->seen - 3 : 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if ((i >= 1 && buf[i - 1] == '\n') ||
		    (i >= 3 && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')) {
			h->length = i + 1;
			return HEAD_DONE;
		}
	}
	h->seen = len;
	if (len >= HTTP_HEAD_MAX) {
		h->why = "response head over 64 KiB";
		return HEAD_BAD;
	}
	return HEAD_MORE;
}
