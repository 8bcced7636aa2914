/*
 * pvio-xenstored logging: lines go to the host's hook; those a domain's
 * activity causes are rate-limited per domain.
 */
#include "config.h"

#include "xs_core_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void xsd_log(struct xsd *d, enum xsd_log_level level, const char *fmt, ...)
{
	if (!d->hooks.log || level > d->hooks.log_level)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->hooks.log(d->hooks.arg, level, msg);
}

static uint64_t now_ms(const struct xsd *d)
{
	if (d->hooks.now_ms)
		return d->hooks.now_ms(d->hooks.arg);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void xsd_log_dom(struct xsd *d, uint32_t domid, enum xsd_log_level level,
		 const char *fmt, ...)
{
	if (!d->hooks.log || level > d->hooks.log_level)
		return;
	/* Checked before formatting: a suppressed line costs a clock read. */
	struct domain *dom = domid ? domain_find(d, domid) : NULL;
	struct log_limit *l = dom ? &dom->log_limit : &d->log_limit;
	uint64_t now = now_ms(d);
	if (!l->lines || now - l->window_start >= LOG_WINDOW_MS) {
		if (l->suppressed)
			xsd_log(d, XSD_LOG_WARNING,
				"%u similar messages caused by %s%u suppressed",
				l->suppressed,
				dom ? "domain " : "domains, last ", domid);
		l->window_start = now;
		l->lines = 0;
		l->suppressed = 0;
	}
	if (l->lines >= LOG_LINES_PER_WINDOW) {
		l->suppressed++;
		return;
	}
	l->lines++;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->hooks.log(d->hooks.arg, level, msg);
}
