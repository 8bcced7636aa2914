/*
 * What pvio's daemons share for their logs: one line on stderr per call,
 * written at once so that threads do not interleave, and a budget for the
 * lines a guest can cause so that it cannot flood the log.
 */
#ifndef PVIO_LOG_H
#define PVIO_LOG_H

#include <stdarg.h>
#include <stdint.h>

/* The program's name, in front of every line ("pvio" until main sets it). */
void pvio_log_set_name(const char *name);

/* "<name>: <text>\n" on stderr in one write; a longer line is cut. */
void pvio_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pvio_vlog(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

/* At most PVIO_LOG_LIMIT_LINES lines a window of PVIO_LOG_LIMIT_WINDOW_S
 * seconds; zeroed, a limit starts its first window at its first line. */
#define PVIO_LOG_LIMIT_LINES	20u
#define PVIO_LOG_LIMIT_WINDOW_S 60

struct pvio_log_limit {
	int64_t window_start; /* seconds, CLOCK_MONOTONIC */
	unsigned lines;	      /* asked for in this window */
};

enum pvio_log_verdict {
	PVIO_LOG_PRINT,	     /* within the budget */
	PVIO_LOG_LAST,	     /* the first over it: say the rest is dropped */
	PVIO_LOG_SUPPRESSED, /* over it: drop */
};

/* Counts one line against l at now_s (seconds); the caller serializes. */
enum pvio_log_verdict pvio_log_limit_take(struct pvio_log_limit *l,
					  int64_t now_s);

/* pvio_log_limit_take at CLOCK_MONOTONIC's now. */
enum pvio_log_verdict pvio_log_limit_now(struct pvio_log_limit *l);

#endif
