/*
 * spawn-time: whole-process time of two commands, run alternately one
 * run at a time (A B B A ...), so that a machine whose speed drifts
 * slows both alike.  Prints the median wall time of each and the median
 * of the per-pair ratios B/A, for wall time and for CPU time.
 *
 *   spawn-time RUNS 'command A' 'command B'
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct sample { double wall, cpu; };

static char **split(char *s)
{
	char **argv = calloc(strlen(s) / 2 + 2, sizeof(*argv));
	int n = 0;

	for (char *t = strtok(s, " "); t; t = strtok(NULL, " "))
		argv[n++] = t;
	return argv;
}

static struct sample run_once(char **argv, posix_spawn_file_actions_t *fa)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (posix_spawn(&pid, argv[0], fa, NULL, argv, environ) != 0)
		perror(argv[0]), exit(1);
	wait4(pid, &status, 0, &ru);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "%s failed\n", argv[0]), exit(1);
	return (struct sample){
		(t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3,
		ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec +
			ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec,
	};
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return fprintf(stderr, "usage: spawn-time RUNS 'A' 'B'\n"), 2;
	int runs = atoi(argv[1]);
	char **a = split(argv[2]), **b = split(argv[3]);
	double *wa = calloc(runs, sizeof(double)), *wb = calloc(runs, sizeof(double));
	double *rw = calloc(runs, sizeof(double)), *rc = calloc(runs, sizeof(double));
	posix_spawn_file_actions_t fa;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (int i = 0; i < 20; i++)
		run_once(a, &fa), run_once(b, &fa);
	for (int i = 0; i < runs; i++) {
		struct sample sa, sb;
		if (i % 2 == 0) {
			sa = run_once(a, &fa);
			sb = run_once(b, &fa);
		} else {
			sb = run_once(b, &fa);
			sa = run_once(a, &fa);
		}
		wa[i] = sa.wall, wb[i] = sb.wall;
		rw[i] = sb.wall / sa.wall;
		rc[i] = sa.cpu > 0 ? sb.cpu / sa.cpu : 1;
	}
	printf("%.1f %.1f %.3f %.3f\n", median(wa, runs), median(wb, runs),
	       median(rw, runs), median(rc, runs));
	return 0;
}
