/*
 * clock.c: the one clock: monotonic, for deadlines, idle times and the
 * time since start; and the time of day, for a capture's timestamps.
 */
#define _GNU_SOURCE
#include "sockpair.h"

#include <time.h>

/* Monotonic milliseconds; never fails (CLOCK_MONOTONIC always exists). */
long long clock_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static double started;

/* The command starts now: the times of -x and --json count from here. */
void clock_mark_start(void)
{
	started = clock_now_seconds();
}

/* Seconds since clock_mark_start(). */
double clock_since_start(void)
{
	return clock_now_seconds() - started;
}

/* Monotonic seconds, with the clock's resolution. */
double clock_now_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Microseconds since the epoch: a capture's timestamps, which readers
 * show as the time of day. */
uint64_t clock_epoch_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}
