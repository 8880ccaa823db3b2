/*
 * event.c: a small callback event loop over epoll, in the manner of
 * redis's ae: a descriptor is registered with the events it wants and a
 * handler, and the loop calls the handler when they come.
 *
 * Each registration has a generation, carried in the epoll event beside
 * the descriptor: a descriptor closed and reused within one turn (a
 * client dropped, another accepted) never gets the old one's events.
 *
 * Timers (a proxy's delays, its connects' deadlines) are a binary heap
 * ordered by when they are due: the wait lasts until the nearest, and
 * then every timer due fires.  Thousands cost no descriptor, and setting
 * or cancelling one is O(log n): a timer knows its place in the heap.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

struct registration {
	event_handler *handler;	/* NULL: the descriptor is not registered */
	void *arg;
	unsigned events;
	uint32_t generation;
};

struct event_loop {
	int epfd;
	struct registration *table;	/* indexed by descriptor */
	size_t size;
	uint32_t generation;
	const sigset_t *wait_mask;	/* the signal mask while waiting; NULL: as is */
	struct event_timer **timers;	/* a heap: timers[0] is due first */
	size_t ntimers, timers_size;
};

enum { EVENTS_PER_WAIT = 256 };

/* A new loop; NULL and *e on failure. */
struct event_loop *event_loop_new(struct sp_error *e)
{
	struct event_loop *l = calloc(1, sizeof(*l));

	if (!l) {
		fail_errno(e, SP_FAILURE, ENOMEM, "malloc");
		return NULL;
	}
	l->epfd = sys_epoll_create();
	if (l->epfd < 0) {
		fail_errno(e, SP_FAILURE, errno, "epoll_create1");
		free(l);
		return NULL;
	}
	return l;
}

/* Closes the epoll descriptor; the watched descriptors stay the caller's. */
void event_loop_free(struct event_loop *l)
{
	if (!l)
		return;
	sys_close(l->epfd);
	free(l->table);
	free(l->timers);
	free(l);
}

static int grow_table(struct event_loop *l, int fd)
{
	size_t size = l->size ? l->size : 64;
	struct registration *table;

	while (size <= (size_t)fd)
		size *= 2;
	table = realloc(l->table, size * sizeof(*table));
	if (!table) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = l->size; i < size; i++)
		table[i] = (struct registration){ .handler = NULL };
	l->table = table;
	l->size = size;
	return 0;
}

static uint64_t event_key(int fd, uint32_t generation)
{
	return (uint64_t)generation << 32 | (uint32_t)fd;
}

/*
 * Registers fd for events (EPOLLIN, EPOLLOUT) with handler(loop, fd,
 * events, arg), or changes what an fd already registered waits for.
 * Returns 0, or -1 with errno set (epoll_ctl's, or ENOMEM).
 */
int event_watch(struct event_loop *l, int fd, unsigned events, event_handler *handler,
		void *arg)
{
	struct registration *reg;
	bool known;

	if ((size_t)fd >= l->size && grow_table(l, fd) < 0)
		return -1;
	reg = &l->table[fd];
	known = reg->handler != NULL;
	if (!known)
		reg->generation = ++l->generation;
	if (sys_epoll_ctl(l->epfd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, events,
			  event_key(fd, reg->generation)) < 0)
		return -1;
	*reg = (struct registration){ .handler = handler, .arg = arg, .events = events,
				      .generation = reg->generation };
	return 0;
}

/* Stops watching fd (call it before closing fd).  Returns 0, or -1 with errno set. */
int event_forget(struct event_loop *l, int fd)
{
	if ((size_t)fd >= l->size || !l->table[fd].handler)
		return 0;
	l->table[fd].handler = NULL;
	return sys_epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, 0, 0);
}

/* The signals the loop lets in only while it waits (proc_hold_signals()). */
void event_loop_wait_with(struct event_loop *l, const sigset_t *mask)
{
	l->wait_mask = mask;
}

/* ---- timers ---------------------------------------------------------- */

void event_timer_init(struct event_timer *t, void (*fire)(void *arg), void *arg)
{
	*t = (struct event_timer){ .fire = fire, .arg = arg };
}

bool event_timer_pending(const struct event_timer *t)
{
	return t->slot != 0;
}

static void place(struct event_loop *l, size_t i, struct event_timer *t)
{
	l->timers[i] = t;
	t->slot = i + 1;
}

static void sift_up(struct event_loop *l, size_t i)
{
	struct event_timer *t = l->timers[i];

	while (i > 0 && l->timers[(i - 1) / 2]->at > t->at) {
		place(l, i, l->timers[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(l, i, t);
}

static void sift_down(struct event_loop *l, size_t i)
{
	struct event_timer *t = l->timers[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= l->ntimers)
			break;
		if (child + 1 < l->ntimers && l->timers[child + 1]->at < l->timers[child]->at)
			child++;
		if (l->timers[child]->at >= t->at)
			break;
		place(l, i, l->timers[child]);
		i = child;
	}
	place(l, i, t);
}

/* The timer no longer fires; one not set is fine. */
void event_timer_cancel(struct event_loop *l, struct event_timer *t)
{
	struct event_timer *last;
	size_t i;

	if (!t->slot)
		return;
	i = t->slot - 1;
	t->slot = 0;
	last = l->timers[--l->ntimers];
	if (last == t)
		return;
	/* The last one fills the hole, then finds its place either way. */
	place(l, i, last);
	sift_up(l, i);
	sift_down(l, last->slot - 1);
}

/*
 * The timer fires (its fire(arg) is called) once at the monotonic time at
 * (clock_now_seconds()), or soon after; a timer already set moves there.
 * Returns 0, or -1 with errno ENOMEM.
 */
int event_timer_set(struct event_loop *l, struct event_timer *t, double at)
{
	event_timer_cancel(l, t);
	if (l->ntimers == l->timers_size) {
		size_t size = l->timers_size ? 2 * l->timers_size : 64;
		struct event_timer **grown = realloc(l->timers, size * sizeof(*grown));

		if (!grown) {
			errno = ENOMEM;
			return -1;
		}
		l->timers = grown;
		l->timers_size = size;
	}
	t->at = at;
	place(l, l->ntimers++, t);
	sift_up(l, l->ntimers - 1);
	return 0;
}

/* The wait: timeout_ms (-1: none), or less if a timer is due sooner. */
static int until_next_timer(const struct event_loop *l, int timeout_ms)
{
	double left;
	int ms;

	if (!l->ntimers)
		return timeout_ms;
	left = l->timers[0]->at - clock_now_seconds();
	/* Rounded up: waking a moment early would find nothing due. */
	ms = left <= 0 ? 0 : left >= 86400 ? 86400000 : (int)(left * 1000) + 1;
	return timeout_ms >= 0 && timeout_ms < ms ? timeout_ms : ms;
}

/* Every timer due now, earliest first; one set again while firing waits its turn. */
static void fire_due_timers(struct event_loop *l)
{
	double now = clock_now_seconds();

	while (l->ntimers && l->timers[0]->at <= now) {
		struct event_timer *t = l->timers[0];

		event_timer_cancel(l, t);
		t->fire(t->arg);
	}
}

/* ---- waiting ---------------------------------------------------------- */

/*
 * Waits up to timeout_ms (-1: no limit), or until the nearest timer, and
 * calls the handler of each descriptor that is ready, then fires the
 * timers that are due.  Returns the number of descriptors handled (0 on a
 * timeout or a signal), or -1 and *e when epoll_wait() fails.
 */
int event_run_once(struct event_loop *l, int timeout_ms, struct sp_error *e)
{
	struct epoll_event ready[EVENTS_PER_WAIT];
	int n = sys_epoll_wait(l->epfd, ready, EVENTS_PER_WAIT, until_next_timer(l, timeout_ms),
			       l->wait_mask);

	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0)
		return fail_errno(e, SP_FAILURE, errno, "epoll_wait");
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)ready[i].data.u64;
		uint32_t generation = (uint32_t)(ready[i].data.u64 >> 32);
		struct registration *reg = (size_t)fd < l->size ? &l->table[fd] : NULL;

		if (reg && reg->handler && reg->generation == generation)
			reg->handler(l, fd, ready[i].events, reg->arg);
	}
	fire_due_timers(l);
	return n;
}
