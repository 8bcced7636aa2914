/* pvio-netback's log lines: util/'s stderr logger and line budget. */
#include "config.h"

#include "netback.h"
#include "util/pvio_log.h"

#include <stdio.h>

bool netback_verbose;

void nb_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pvio_vlog(fmt, ap);
	va_end(ap);
}

void nb_debug(const char *fmt, ...)
{
	if (!netback_verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	pvio_vlog(fmt, ap);
	va_end(ap);
}

void vif_log(struct vif *vif, const char *fmt, ...)
{
	pthread_mutex_lock(&vif->log_lock);
	enum pvio_log_verdict verdict = pvio_log_limit_now(&vif->log_limit);
	pthread_mutex_unlock(&vif->log_lock);
	if (verdict == PVIO_LOG_SUPPRESSED)
		return;
	if (verdict == PVIO_LOG_LAST) {
		nb_log("%s: more messages than %u in %d s; the rest of this "
		       "minute's are suppressed",
		       vif->name, PVIO_LOG_LIMIT_LINES,
		       PVIO_LOG_LIMIT_WINDOW_S);
		return;
	}
	char text[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	nb_log("%s: %s", vif->name, text);
}
