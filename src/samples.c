/*
 * samples.c: measured times, sorted, and their nearest-rank percentiles:
 * bench's round trips and http-head -n's phases read them the same way.
 */
#include "sockpair.h"

#include <stdlib.h>

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void samples_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), compare_doubles);
}

/*
 * The nearest-rank percentile of sorted v[0..n), n > 0: the smallest
 * sample with a fraction q of them at or below it (q in [0, 1]).  The
 * rank is clamped to 1..n, so that q 0 is the minimum and q 1 the maximum.
 */
double samples_percentile(const double *v, size_t n, double q)
{
	size_t rank = (size_t)(q * (double)n + 0.999999);

	return v[rank == 0 ? 0 : rank > n ? n - 1 : rank - 1];
}
