#include "config.h"

#include "util/pvio_log.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static const char *log_name = "pvio";

void pvio_log_set_name(const char *name)
{
	log_name = name;
}

void pvio_vlog(const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s: ", log_name);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* stderr is the log file: a short write has nowhere to go. */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

void pvio_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pvio_vlog(fmt, ap);
	va_end(ap);
}

enum pvio_log_verdict pvio_log_limit_take(struct pvio_log_limit *l,
					  int64_t now_s)
{
	if (!l->lines || now_s - l->window_start >= PVIO_LOG_LIMIT_WINDOW_S) {
		l->window_start = now_s;
		l->lines = 0;
	}
	if (l->lines > PVIO_LOG_LIMIT_LINES)
		return PVIO_LOG_SUPPRESSED;
	l->lines++;
	return l->lines > PVIO_LOG_LIMIT_LINES ? PVIO_LOG_LAST : PVIO_LOG_PRINT;
}

enum pvio_log_verdict pvio_log_limit_now(struct pvio_log_limit *l)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return pvio_log_limit_take(l, ts.tv_sec);
}
