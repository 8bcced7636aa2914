/* Helpers shared by the pvio-bench subcommands. */
#include "config.h"

#include "bench.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

void bench_pick_cpus(const char *cmd, int *first, int *second)
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
			"pvio-bench %s: only one CPU available; both "
			"processes share CPU %d\n",
			cmd, *first);
}

void bench_pin_pair(const char *cmd, int *first, int *second)
{
	bench_pick_cpus(cmd, first, second);
	if (bench_pin_cpu(*first))
		fprintf(stderr, "pvio-bench %s: cannot pin to CPU %d\n", cmd,
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

/* Parse a count for --name; false after a message naming the option. */
static bool parse_count(const char *cmd, const struct bench_option *o,
			const char *text)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v < o->min ||
	    (o->max && v > o->max)) {
		if (o->max)
			fprintf(stderr,
				"pvio-bench %s: --%s expects an integer in "
				"%" PRIu64 "..%" PRIu64 ", got '%s'\n",
				cmd, o->name, o->min, o->max, text);
		else
			fprintf(stderr,
				"pvio-bench %s: --%s expects an integer of at "
				"least %" PRIu64 ", got '%s'\n",
				cmd, o->name, o->min, text);
		return false;
	}
	*o->value = v;
	return true;
}

static void print_options_help(const char *cmd, const struct bench_option *opts,
			       const char *footer)
{
	printf("usage: pvio-bench %s [OPTIONS]\n", cmd);
	for (const struct bench_option *o = opts; o->name; o++) {
		char flag[48];
		bool is_flag = o->value && o->min == 1 && o->max == 1;
		snprintf(flag, sizeof(flag), "--%s%s", o->name,
			 is_flag    ? ""
			 : o->value ? " N"
				    : " TEXT");
		if (is_flag)
			printf("  %-22s %s\n", flag, o->help);
		else if (o->value && o->max)
			printf("  %-22s %s, %" PRIu64 "..%" PRIu64
			       " (default %" PRIu64 ")\n",
			       flag, o->help, o->min, o->max, *o->value);
		else if (o->value)
			printf("  %-22s %s (default %" PRIu64 ")\n", flag,
			       o->help, *o->value);
		else
			printf("  %-22s %s\n", flag, o->help);
	}
	if (footer)
		printf("%s\n", footer);
}

int bench_parse_options(const char *cmd, int argc, char **argv,
			const struct bench_option *opts, const char *footer)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			print_options_help(cmd, opts, footer);
			return 1;
		}
		const struct bench_option *o = NULL;
		if (!strncmp(arg, "--", 2))
			for (o = opts; o->name && strcmp(o->name, arg + 2); o++)
				;
		if (!o || !o->name) {
			fprintf(stderr,
				"pvio-bench %s: unknown argument '%s' (see "
				"`pvio-bench %s --help`)\n",
				cmd, arg, cmd);
			return 2;
		}
		if (o->value && o->min == 1 && o->max == 1) {
			*o->value = 1; /* a flag */
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "pvio-bench %s: --%s needs a value\n",
				cmd, o->name);
			return 2;
		}
		const char *text = argv[++i];
		if (o->value) {
			if (!parse_count(cmd, o, text))
				return 2;
		} else {
			*o->text = text;
		}
	}
	return 0;
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
	bench_report_precise(what, value, 1, unit);
}

void bench_report_precise(const char *what, double value, int decimals,
			  const char *unit)
{
	printf("  %-44s %14.*f %s\n", what, decimals, value, unit);
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

bool bench_beside_self(const char *rel, char *out, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	int len = snprintf(out, size, "%s/%s", exe, rel);
	struct stat st;
	return len > 0 && (size_t)len < size && stat(out, &st) == 0 &&
	       S_ISREG(st.st_mode) && access(out, X_OK) == 0;
}
