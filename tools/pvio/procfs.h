/* What /proc says of a domain's processes: xl list's State letters, CPU
 * time and memory for the sim platform, where a domain is the processes
 * in its namespace. The parsers are pure (unit-tested on given text);
 * procfs_usage reads the files. */
#ifndef PVIO_TOOLS_PROCFS_H
#define PVIO_TOOLS_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The fields of /proc/PID/stat (proc(5)) pvio uses; times in clock
 * ticks, rss in pages. */
struct proc_stat {
	char state; /* R S D T t Z X I ... */
	unsigned long long utime, stime, cutime, cstime;
	long num_threads;
	long long rss;
};

/* One /proc/PID/stat (or task/TID/stat) line. The command name may hold
 * spaces and parentheses: the fields start after the last ')'. -1 when
 * the text is not such a line. */
int proc_stat_parse(const char *text, struct proc_stat *st);

/* A domain's processes together. */
struct domain_usage {
	int processes, threads;
	int running, sleeping, stopped, dead; /* threads by state */
	unsigned long long ticks;	      /* utime+stime+cutime+cstime */
	unsigned long long rss_kib;
};

/* Adds one thread's state letter to u. */
void domain_usage_add_state(struct domain_usage *u, char state);
/* xl list's State column, six letters "rbpscd" or '-': running when any
 * thread runs, paused when all are stopped, dying when all are exiting
 * or when dying is set, else blocked (no process at all is an idle
 * domain: blocked). */
void domain_state_letters(const struct domain_usage *u, bool dying,
			  char out[7]);

/* Reads /proc for pids (gone ones are skipped) into u (zeroed here). */
void procfs_usage(const pid_t *pids, int n, struct domain_usage *u);
/* Clock ticks in seconds. */
double procfs_ticks_to_s(unsigned long long ticks);

#endif
