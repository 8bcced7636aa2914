/* Helpers shared by the pvio-bench subcommands. */
#include "config.h"

#include "bench.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bench_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

void bench_pick_cpus(int *first, int *second)
{
	cpu_set_t set;
	int found = 0;

	*first = 0;
	*second = 0;
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (found++ == 0)
			*first = *second = cpu;
		else
			*second = cpu;
	}
	if (found < 2)
		fprintf(stderr,
			"pvio-bench: only one CPU available; both "
			"processes share CPU %d\n",
			*first);
}

void *bench_shared_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("pvio-bench: mmap");
		exit(1);
	}
	return p;
}

void bench_shared_free(void *p, size_t bytes)
{
	munmap(p, bytes);
}

pid_t bench_fork_pinned(int cpu, int (*fn)(void *arg), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("pvio-bench: fork");
		exit(1);
	}
	if (pid == 0) {
		if (bench_pin_cpu(cpu))
			fprintf(stderr, "pvio-bench: cannot pin to CPU %d\n",
				cpu);
		_exit(fn(arg));
	}
	return pid;
}

int bench_wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

uint64_t bench_parse_count(const char *option, const char *value)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(value, &end, 10);
	if (errno || end == value || *end || v == 0 || value[0] == '-') {
		fprintf(stderr,
			"pvio-bench: %s expects a positive integer, got '%s'\n",
			option, value);
		exit(2);
	}
	return v;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_median(double *samples, size_t n)
{
	if (n == 0)
		return 0;
	qsort(samples, n, sizeof(*samples), compare_double);
	return n % 2 ? samples[n / 2]
		     : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

void bench_report(const char *what, double value, const char *unit)
{
	printf("  %-44s %14.1f %s\n", what, value, unit);
}

double bench_report_samples(const char *what, double *samples, size_t n,
			    const char *unit)
{
	double median = bench_median(samples, n);

	printf("  %-44s %14.1f %s  (range %.1f..%.1f over %zu runs)\n", what,
	       median, unit, n ? samples[0] : 0.0, n ? samples[n - 1] : 0.0, n);
	return median;
}

void bench_report_ratio(const char *what, double ratio, const char *target)
{
	printf("  %-44s %14.3f   (target %s)\n", what, ratio, target);
}
