/*
 * fault.c: a proxy that misbehaves on purpose, in the manner of
 * Toxiproxy's toxics: --delay, --rate, --slice, --close-after,
 * --reset-after, --blackhole, each for both directions or one (up:
 * client to server, down: server to client), and --faulty, the share of
 * connections they touch.
 *
 * A faulty direction's flow goes through a gate.  The gate keeps a record
 * of each chunk read (its size, when it came, when it is due) beside the
 * bytes in the flow's buffer, and tells the pump how many may go out now
 * and, if none, when some may: the pump then sleeps on a loop timer, not
 * on the socket.  Order is kept because a chunk is never due before the
 * one ahead of it.  What the gate does to the connection as a whole (a
 * close, a reset) it only says, by its trip; the proxy acts on it.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Chunks that may wait in one direction; then reading waits (back-pressure). */
enum { FAULT_CHUNKS = 256 };

/* A delay or a slice's pause: 24 hours at most. */
enum { FAULT_MS_MAX = 86400000 };

/* --rate moves a twentieth of a second's bytes per write: smooth, yet few calls. */
enum { RATE_STEPS = 20 };

/* A rate's timer may fire late; this much lateness is made up, no more (no burst). */
static const double RATE_SLACK = 0.05;

/* A byte that waited this long was held (not merely passed on). */
static const double HELD_AT_LEAST = 0.001;

/* ---- the options ------------------------------------------------------- */

enum { UP = 1, DOWN = 2 };

/* The directions an argument names by its prefix; *rest: what follows it. */
static unsigned ways_of(const char *option, const char *arg, const char **rest)
{
	const char *colon = strchr(arg, ':');

	*rest = arg;
	if (strncmp(arg, "up:", 3) == 0) {
		*rest = arg + 3;
		return UP;
	}
	if (strncmp(arg, "down:", 5) == 0) {
		*rest = arg + 5;
		return DOWN;
	}
	if (colon)
		usage_error("invalid %s '%s': unknown prefix '%.*s' (up: or down:)", option, arg,
			    (int)(colon - arg + 1), arg);
	return UP | DOWN;
}

static bool parse_ms(const char *s, unsigned *ms)
{
	unsigned long v;

	if (parse_uint(s, FAULT_MS_MAX, &v) < 0)
		return false;
	*ms = (unsigned)v;
	return true;
}

/* "MS[~JITTER]" */
static bool parse_delay(const char *s, struct fault_way *w)
{
	char ms[16];
	size_t n = strcspn(s, "~");

	if (n >= sizeof(ms))
		return false;
	memcpy(ms, s, n);
	ms[n] = '\0';
	w->jitter_ms = 0;
	return parse_ms(ms, &w->delay_ms) && (!s[n] || parse_ms(s + n + 1, &w->jitter_ms));
}

/* "BYTES[/MS]" */
static bool parse_slice(const char *s, struct fault_way *w)
{
	char bytes[32];
	size_t n = strcspn(s, "/");

	if (n >= sizeof(bytes))
		return false;
	memcpy(bytes, s, n);
	bytes[n] = '\0';
	w->slice_ms = 0;
	return parse_size(bytes, &w->slice) == 0 && (!s[n] || parse_ms(s + n + 1, &w->slice_ms));
}

/* One fault option's value for one direction; false: it does not parse. */
static bool parse_fault(int key, const char *s, struct fault_way *w)
{
	switch (key) {
	case FAULT_DELAY: return parse_delay(s, w);
	case FAULT_RATE: return parse_size(s, &w->rate) == 0;
	case FAULT_SLICE: return parse_slice(s, w);
	case FAULT_CLOSE_AFTER: return parse_size(s, &w->close_after) == 0;
	case FAULT_RESET_AFTER: return parse_size(s, &w->reset_after) == 0;
	}
	return false;
}

static const char *const fault_forms[] = {
	[FAULT_DELAY - FAULT_DELAY] = "MS[~JITTER], each 0 to 86400000",
	[FAULT_RATE - FAULT_DELAY] = "BYTES per second, at least 1, with k or M",
	[FAULT_SLICE - FAULT_DELAY] = "BYTES[/MS], BYTES at least 1",
	[FAULT_CLOSE_AFTER - FAULT_DELAY] = "BYTES, at least 1, with k or M",
	[FAULT_RESET_AFTER - FAULT_DELAY] = "BYTES, at least 1, with k or M",
	[FAULT_BLACKHOLE - FAULT_DELAY] = "MS, 0 to 86400000",
};

/* --blackhole, --blackhole=MS, --blackhole=up, --blackhole=down:MS */
static void parse_blackhole(struct fault_plan *p, const char *arg)
{
	const char *rest = "";
	unsigned ways = arg ? ways_of("--blackhole", arg, &rest) : UP | DOWN;
	unsigned ms;

	if (arg && (strcmp(arg, "up") == 0 || strcmp(arg, "down") == 0)) {
		ways = arg[0] == 'u' ? UP : DOWN;
		rest = "";
	}
	if (*rest && !parse_ms(rest, &ms))
		usage_error("invalid --blackhole '%s' (%s, after up: or down:)", arg,
			    fault_forms[FAULT_BLACKHOLE - FAULT_DELAY]);
	if (*rest)
		p->blackhole_ms = (int)ms;
	p->up.blackhole |= (ways & UP) != 0;
	p->down.blackhole |= (ways & DOWN) != 0;
}

static double parse_fraction(const char *arg)
{
	char *end;
	double f;

	errno = 0;
	f = strtod(arg, &end);
	if (errno || end == arg || *end || !(f >= 0 && f <= 1))
		usage_error("invalid --faulty '%s' (a fraction, 0 to 1)", arg);
	return f;
}

/* A fault option of proxy (key FAULT_*), into the plan; bad input is a usage error. */
void fault_option(struct fault_plan *p, int key, const char *arg)
{
	const char *option = key == FAULT_DELAY	     ? "--delay"
			     : key == FAULT_RATE	     ? "--rate"
			     : key == FAULT_SLICE	     ? "--slice"
			     : key == FAULT_CLOSE_AFTER ? "--close-after"
							: "--reset-after";
	const char *value;
	unsigned ways;

	if (key == FAULT_FAULTY) {
		p->faulty = parse_fraction(arg);
		return;
	}
	p->any = true;
	if (key == FAULT_BLACKHOLE) {
		parse_blackhole(p, arg);
		return;
	}
	ways = ways_of(option, arg, &value);
	if ((ways & UP && !parse_fault(key, value, &p->up)) ||
	    (ways & DOWN && !parse_fault(key, value, &p->down)))
		usage_error("invalid %s '%s' (%s, after up: or down:)", option, arg,
			    fault_forms[key - FAULT_DELAY]);
}

/* An empty plan: no faults, on every connection once there are some. */
void fault_plan_init(struct fault_plan *p)
{
	*p = (struct fault_plan){ .blackhole_ms = -1, .faulty = 1 };
}

/* Whether the direction has a fault at all: a gate is worth its cost. */
bool fault_way_active(const struct fault_way *w)
{
	return w->delay_ms || w->jitter_ms || w->rate || w->slice || w->close_after ||
	       w->reset_after || w->blackhole;
}

/* ---- chance: jitter, and which connections are faulty ------------------ */

/* xorshift64*: not for secrets, only for spreading delays and choices. */
static double uniform(void)
{
	static uint64_t state;

	if (!state) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		state = ((uint64_t)ts.tv_nsec << 20 ^ (uint64_t)ts.tv_sec ^ (uint64_t)getpid()) | 1;
	}
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (double)((state * 0x2545F4914F6CDD1DULL) >> 11) / (double)(1ULL << 53);
}

/* Whether a new connection is one the faults touch (--faulty). */
bool fault_chosen(const struct fault_plan *p)
{
	return p->any && (p->faulty >= 1 || uniform() < p->faulty);
}

/* ---- the gate ---------------------------------------------------------- */

struct fault_chunk {
	size_t bytes;		/* left of it */
	double arrived, due;
};

/*
 * A gate for one direction of connection conn, whose bytes come from side
 * ("client", "server"); *on: the faults are on (SIGUSR2).  -1 with errno
 * ENOMEM if its chunk records cannot be had.
 */
int fault_gate_init(struct fault_gate *g, const struct fault_way *w, const bool *on,
		    unsigned long conn, const char *side)
{
	*g = (struct fault_gate){ .way = w, .on = on, .conn = conn, .side = side };
	g->chunks = calloc(FAULT_CHUNKS, sizeof(*g->chunks));
	if (!g->chunks) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void fault_gate_free(struct fault_gate *g)
{
	free(g->chunks);
	g->chunks = NULL;
}

/* The bytes it may still forward before its close or reset; UINT64_MAX: no limit. */
static uint64_t limit_of(const struct fault_way *w)
{
	uint64_t close = w->close_after ? w->close_after : UINT64_MAX;
	uint64_t reset = w->reset_after ? w->reset_after : UINT64_MAX;

	return close < reset ? close : reset;
}

bool fault_gate_has_room(const struct fault_gate *g)
{
	return g->count < FAULT_CHUNKS;
}

static struct fault_chunk *chunk_at(const struct fault_gate *g, unsigned i)
{
	return &g->chunks[(g->head + i) % FAULT_CHUNKS];
}

/* When a chunk that came now is due: after the delay and its jitter, never
 * before the chunk ahead of it (order kept). */
static double due_of(struct fault_gate *g, double now)
{
	const struct fault_way *w = g->way;
	double due = now;

	if (*g->on && w->delay_ms)
		due += w->delay_ms / 1000.0;
	if (*g->on && w->jitter_ms)
		due += (2 * uniform() - 1) * w->jitter_ms / 1000.0;
	if (due < now)
		due = now;
	if (due < g->last_due)
		due = g->last_due;
	g->last_due = due;
	return due;
}

/*
 * n bytes were read now, into the flow after those it holds: returns how
 * many of them it keeps, from the first; the rest are dropped (a
 * blackhole, or past a close or reset's count).
 */
size_t fault_gate_take(struct fault_gate *g, size_t n, double now)
{
	size_t keep = n;

	if (*g->on && g->way->blackhole)
		keep = 0;
	if (*g->on && limit_of(g->way) != UINT64_MAX) {
		uint64_t used = g->forwarded + g->queued, limit = limit_of(g->way);
		/* Bytes kept while faults were off may already pass the limit. */
		uint64_t left = used < limit ? limit - used : 0;
		keep = keep < left ? keep : (size_t)left;
	}
	g->dropped += n - keep;
	if (keep == 0)
		return 0;
	*chunk_at(g, g->count++) = (struct fault_chunk){ keep, now, due_of(g, now) };
	g->queued += keep;
	return keep;
}

/* The bytes of the chunks due by now; *next: when the first one not due is. */
static size_t due_bytes(const struct fault_gate *g, double now, double *next)
{
	size_t n = 0;

	for (unsigned i = 0; i < g->count; i++) {
		const struct fault_chunk *c = chunk_at(g, i);
		if (c->due > now) {
			*next = c->due;
			break;
		}
		n += c->bytes;
	}
	return n;
}

/* At most one rate step's bytes, when the rate's clock allows. */
static size_t rate_allows(const struct fault_gate *g, size_t n, double now, double *next)
{
	uint64_t step = g->way->rate / RATE_STEPS ? g->way->rate / RATE_STEPS : 1;

	if (now < g->rate_at) {
		*next = g->rate_at;
		return 0;
	}
	return n < step ? n : (size_t)step;
}

/*
 * How many of the pending bytes may be written now.  0: none yet, and
 * *next is when some may (0: only when more arrive).
 */
size_t fault_gate_allows(const struct fault_gate *g, size_t pending, double now, double *next)
{
	const struct fault_way *w = g->way;
	size_t n;

	*next = 0;
	if (!*g->on)
		return pending;
	n = due_bytes(g, now, next);
	if (n && w->rate)
		n = rate_allows(g, n, now, next);
	if (n && w->slice && now < g->slice_at) {
		*next = g->slice_at;
		n = 0;
	}
	if (n && w->slice)
		n = n < w->slice ? n : (size_t)w->slice;
	return n < pending ? n : pending;
}

/* -x: when the bytes that came at one time went on, and how long they waited. */
static void report_forwarded(const struct fault_gate *g, size_t n, double held)
{
	struct record r;

	record_init(&r, RECORD_LINE, "forwarded");
	record_text(&r, "-- #%lu %s's %zu bytes forwarded at +%.6f s, held %.6f s", g->conn,
		    g->side, n, r.time, held);
	record_integer(&r, "conn", (long long)g->conn);
	record_cstring(&r, "from", g->side);
	record_integer(&r, "bytes", (long long)n);
	record_integer(&r, "offset", (long long)g->forwarded);
	record_number(&r, "held", held, 6);
	event_emit(&r);
}

/* The wait of the pending bytes' oldest, and the records of n bytes gone out. */
static double consume(struct fault_gate *g, size_t n, double now)
{
	double oldest = g->count ? now - chunk_at(g, 0)->arrived : 0;

	while (n && g->count) {
		struct fault_chunk *c = chunk_at(g, 0);
		size_t part = n < c->bytes ? n : c->bytes;
		double waited = now - c->arrived;

		if (waited >= HELD_AT_LEAST)
			g->held += part;
		if (waited > g->most_waited)
			g->most_waited = waited;
		c->bytes -= part;
		n -= part;
		if (c->bytes == 0) {
			g->head = (g->head + 1) % FAULT_CHUNKS;
			g->count--;
		}
	}
	return oldest;
}

/* n pending bytes were written now: the clocks move, and the limit may trip. */
void fault_gate_sent(struct fault_gate *g, size_t n, double now)
{
	const struct fault_way *w = g->way;
	double held = consume(g, n, now);

	if (conn_hexdump)
		report_forwarded(g, n, held);
	g->forwarded += n;
	g->queued -= n;
	if (w->rate) {
		if (g->rate_at < now - RATE_SLACK)
			g->rate_at = now;
		g->rate_at += (double)n / (double)w->rate;
	}
	if (w->slice)
		g->slice_at = now + w->slice_ms / 1000.0;
	if (*g->on && g->forwarded >= limit_of(w) && g->trip == FAULT_NONE)
		g->trip = w->reset_after == limit_of(w) ? FAULT_RESET : FAULT_CLOSE;
}

/* A blackhole forwards not even the end of data (faults on). */
bool fault_gate_holds_end(const struct fault_gate *g)
{
	return *g->on && g->way->blackhole;
}

/* What it held is gone (the flow was discarded, and counts it): no record is left of it. */
void fault_gate_discard(struct fault_gate *g)
{
	g->queued = 0;
	g->head = g->count = 0;
}

/* ---- what the faults did, said ----------------------------------------- */

/* A fault that ended connection conn: "#3 reset-after: 5000 bytes from server
 * forwarded, resetting both sides"; the "fault" JSON event. */
void fault_report_trip(unsigned long conn, const struct fault_gate *g)
{
	const char *name = g->trip == FAULT_RESET ? "reset-after" : "close-after";
	struct record r;

	record_announce(&r, "fault");
	record_text(&r, "#%lu %s: %" PRIu64 " bytes from %s forwarded, %s both sides", conn, name,
		    g->forwarded, g->side, g->trip == FAULT_RESET ? "resetting" : "closing");
	record_integer(&r, "conn", (long long)conn);
	record_cstring(&r, "fault", name);
	record_cstring(&r, "from", g->side);
	record_integer(&r, "bytes", (long long)g->forwarded);
	event_emit(&r);
}

/* A blackhole's time is up: "#3 blackhole: 500 ms, closing both sides". */
void fault_report_blackhole(unsigned long conn, int ms)
{
	struct record r;

	record_announce(&r, "fault");
	record_text(&r, "#%lu blackhole: %d ms, closing both sides", conn, ms);
	record_integer(&r, "conn", (long long)conn);
	record_cstring(&r, "fault", "blackhole");
	record_integer(&r, "ms", ms);
	event_emit(&r);
}

/*
 * --stats: the held and dropped bytes of a faulty connection's two
 * directions, a line of the connection's stats record and its fields;
 * up_dropped, down_dropped: those its flows forgot besides the gates' own
 * (after a close, and in a direction with no gate).
 */
void fault_add_stats(struct record *r, unsigned long conn, const struct fault_gate *up,
		     const struct fault_gate *down, uint64_t up_dropped, uint64_t down_dropped)
{
	record_text(r, "\nfaults: #%lu client sent: held %" PRIu64 " bytes, waited %.3f s at most, "
		    "dropped %" PRIu64 " bytes; server sent: held %" PRIu64
		    " bytes, waited %.3f s at most, dropped %" PRIu64 " bytes",
		    conn, up->held, up->most_waited, up->dropped + up_dropped, down->held,
		    down->most_waited, down->dropped + down_dropped);
	record_integer(r, "client_held", (long long)up->held);
	record_number(r, "client_waited", up->most_waited, 3);
	record_integer(r, "client_dropped", (long long)(up->dropped + up_dropped));
	record_integer(r, "server_held", (long long)down->held);
	record_number(r, "server_waited", down->most_waited, 3);
	record_integer(r, "server_dropped", (long long)(down->dropped + down_dropped));
}
