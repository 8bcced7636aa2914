/* Messages: one line on stderr per error or warning. */
#include "config.h"

#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* One line on stderr: prefix, message, newline. */
static void report(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pvio_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report("pvio: ", fmt, ap);
	va_end(ap);
}

void pvio_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report("pvio: warning: ", fmt, ap);
	va_end(ap);
}

char *pvio_strfmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("pvio: out of memory\n", stderr);
		exit(1);
	}
	va_end(ap);
	return s;
}
