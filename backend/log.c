/* Log lines on stderr, one write each so threads do not interleave. */
#include "config.h"

#include "netback.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

bool netback_verbose;

static void vlog(const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "pvio-netback: ");
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

void nb_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void nb_debug(const char *fmt, ...)
{
	if (!netback_verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void vif_log(struct vif *vif, const char *fmt, ...)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&vif->log_lock);
	if (ts.tv_sec - vif->log_window_start >= VIF_LOG_WINDOW_S) {
		vif->log_window_start = ts.tv_sec;
		vif->log_lines = 0;
	}
	unsigned line = ++vif->log_lines;
	pthread_mutex_unlock(&vif->log_lock);
	if (line > VIF_LOG_BURST + 1)
		return;
	if (line == VIF_LOG_BURST + 1) {
		nb_log("%s: more messages than %d in %d s; the rest of this "
		       "minute's are suppressed",
		       vif->name, VIF_LOG_BURST, VIF_LOG_WINDOW_S);
		return;
	}
	char text[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	nb_log("%s: %s", vif->name, text);
}
