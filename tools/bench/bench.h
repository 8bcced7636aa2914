/* pvio-bench: shared helpers for the benchmark subcommands. */
#ifndef PVIO_BENCH_H
#define PVIO_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One subcommand: `pvio-bench NAME [options]`. */
struct bench_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

int bench_ring(int argc, char **argv);
int bench_evtchn(int argc, char **argv);
int bench_gntcopy(int argc, char **argv);
int bench_xenstore(int argc, char **argv);
int bench_net(int argc, char **argv);
int bench_scale(int argc, char **argv);
int bench_sweep(int argc, char **argv);

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);

/*
 * Whether rel, relative to the directory pvio-bench runs from, names an
 * executable (the build tree's or an installed sibling program); its path
 * is left in out either way.
 */
bool bench_beside_self(const char *rel, char *out, size_t size);

/* Pin the calling process to one CPU; returns 0 or -errno. */
int bench_pin_cpu(int cpu);

/*
 * The two CPUs a benchmark's two processes run on (a warning naming cmd
 * when there is only one). bench_pin_pair also pins the caller to the
 * first, with a warning when it cannot.
 */
void bench_pick_cpus(const char *cmd, int *first, int *second);
void bench_pin_pair(const char *cmd, int *first, int *second);

/* Anonymous memory shared with children forked after the call. */
void *bench_shared_alloc(size_t bytes);
void bench_shared_free(void *p, size_t bytes);

/* Fork a child that runs fn(arg) pinned to cpu and exits with its result. */
pid_t bench_fork_pinned(int cpu, int (*fn)(void *arg), void *arg);

/* Wait for a child; returns its exit status or -1 when it failed. */
int bench_wait_child(pid_t pid);

/*
 * One option of a subcommand, `--NAME VALUE`: a count (value set) bounded by
 * [min, max] (max 0: no upper bound), or a string (text set). The pointed-to
 * variable holds the default on entry. A count bounded by [1, 1] is a flag
 * (BENCH_FLAG): `--NAME` alone, setting it to 1. A table ends with a zero
 * entry.
 */
struct bench_option {
	const char *name;
	const char *help;
	uint64_t *value;
	uint64_t min, max;
	const char **text;
};

/* A flag `--NAME` (no value): var, a uint64_t, becomes 1. */
#define BENCH_FLAG(name, help, var)                                            \
	{                                                                      \
		name, help, &(var), 1, 1, NULL                                 \
	}

/* The --rounds option every subcommand has. */
#define BENCH_ROUNDS_OPTION(var)                                               \
	{                                                                      \
		"rounds",                                                      \
			"runs of each measurement; medians are reported with " \
			"their range",                                         \
			&(var), 1, 1000, NULL                                  \
	}

/*
 * Parse `pvio-bench CMD [--NAME VALUE]...` against opts. Returns 0 to go
 * on; 1 after printing the help for --help (footer, if any, follows the
 * option list); 2 after a one-line error naming the bad option or argument.
 */
int bench_parse_options(const char *cmd, int argc, char **argv,
			const struct bench_option *opts, const char *footer);

/* Median of n samples (sorts them in place; 0 when n is 0). */
double bench_median(double *samples, size_t n);

/*
 * Print the median of n samples with their range, and return the median
 * (sorts the samples in place).
 */
double bench_report_samples(const char *what, double *samples, size_t n,
			    const char *unit);

/* Print a result line and a ratio line in one consistent format. */
void bench_report(const char *what, double value, const char *unit);
/* The same with a chosen number of decimals (small per-item counts). */
void bench_report_precise(const char *what, double value, int decimals,
			  const char *unit);
void bench_report_ratio(const char *what, double ratio, const char *target);

#endif
