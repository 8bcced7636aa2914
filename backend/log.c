/* Log lines on stderr, one write each so threads do not interleave. */
#include "config.h"

#include "netback.h"

#include <stdio.h>
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
