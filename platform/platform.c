/*
 * Platform choice and dispatch of the grant-table and event-channel calls to
 * the xen or sim implementation.
 */
#include "config.h"

#include "platform_ops.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static __thread char last_error[256];

void pvio_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

const char *pvio_platform_last_error(void)
{
	return last_error;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pvio_deadline_ms(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

int pvio_ms_left(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t left = deadline - now_ms();
	return left < 0 ? 0 : (int)left;
}

const char *pvio_platform_name(enum pvio_platform platform)
{
	switch (platform) {
	case PVIO_PLATFORM_SIM:
		return "sim";
	case PVIO_PLATFORM_XEN:
		return "xen";
	case PVIO_PLATFORM_AUTO:
		return "auto";
	}
	return "unknown";
}

int pvio_platform_resolve(enum pvio_platform requested)
{
	if (requested == PVIO_PLATFORM_SIM || requested == PVIO_PLATFORM_XEN)
		return requested;
	if (requested != PVIO_PLATFORM_AUTO) {
		pvio_set_error("unknown platform value %d", (int)requested);
		return -EINVAL;
	}
	const char *env = getenv("PVIO_PLATFORM");
	if (env && *env && strcmp(env, "auto")) {
		if (!strcmp(env, "sim"))
			return PVIO_PLATFORM_SIM;
		if (!strcmp(env, "xen"))
			return PVIO_PLATFORM_XEN;
		pvio_set_error("PVIO_PLATFORM='%s': expected xen, sim or auto",
			       env);
		return -EINVAL;
	}
	/* Both devices are what the xen implementation opens. */
	if (access("/dev/xen/evtchn", F_OK) == 0 &&
	    access("/dev/xen/gntdev", F_OK) == 0)
		return PVIO_PLATFORM_XEN;
	return PVIO_PLATFORM_SIM;
}

const char *pvio_sim_rundir(void)
{
	const char *dir = getenv("PVIO_RUNDIR");
	return dir && *dir ? dir : PVIO_DEFAULT_RUNDIR;
}

int pvio_sim_self_domid(domid_t *domid)
{
	const char *env = getenv("PVIO_DOMID");
	char *end;

	if (!env || !*env) {
		*domid = 0;
		return 0;
	}
	errno = 0;
	unsigned long v = strtoul(env, &end, 10);
	if (errno || *end || env[0] == '-' || v >= DOMID_FIRST_RESERVED) {
		pvio_set_error("PVIO_DOMID='%s': expected a domain id from 0 "
			       "to %u",
			       env, DOMID_FIRST_RESERVED - 1);
		return -EINVAL;
	}
	*domid = (domid_t)v;
	return 0;
}

/* Grant sharing. */

int pvio_gntshr_open(enum pvio_platform platform, struct pvio_gntshr **out)
{
	int p = pvio_platform_resolve(platform);
	if (p < 0)
		return p;
	last_error[0] = 0;
	return p == PVIO_PLATFORM_XEN ? pvio_xen_gntshr_ops.open(out)
				      : pvio_sim_gntshr_ops.open(out);
}

void pvio_gntshr_close(struct pvio_gntshr *h)
{
	if (h)
		h->ops->close(h);
}

int pvio_gntshr_share(struct pvio_gntshr *h, domid_t domid, uint32_t count,
		      bool writable, grant_ref_t *refs, void **addr)
{
	if (!h || !refs || !addr || count == 0)
		return -EINVAL;
	if (domid >= DOMID_FIRST_RESERVED)
		return -ESRCH;
	return h->ops->share(h, domid, count, writable, refs, addr);
}

int pvio_gntshr_unshare(struct pvio_gntshr *h, void *addr, uint32_t count)
{
	if (!h || !addr || count == 0)
		return -EINVAL;
	return h->ops->unshare(h, addr, count);
}

int pvio_gntshr_reclaim(struct pvio_gntshr *h)
{
	if (!h)
		return -EINVAL;
	return h->ops->reclaim(h);
}

/* Grant mapping and copying. */

int pvio_gnttab_open(enum pvio_platform platform, struct pvio_gnttab **out)
{
	int p = pvio_platform_resolve(platform);
	if (p < 0)
		return p;
	last_error[0] = 0;
	return p == PVIO_PLATFORM_XEN ? pvio_xen_gnttab_ops.open(out)
				      : pvio_sim_gnttab_ops.open(out);
}

void pvio_gnttab_close(struct pvio_gnttab *h)
{
	if (h)
		h->ops->close(h);
}

int pvio_gnttab_map(struct pvio_gnttab *h, domid_t domid, uint32_t count,
		    const grant_ref_t *refs, bool writable, void **addr)
{
	if (!h || !refs || !addr || count == 0)
		return -EINVAL;
	if (domid >= DOMID_FIRST_RESERVED)
		return -ESRCH;
	return h->ops->map(h, domid, count, refs, writable, addr);
}

int pvio_gnttab_unmap(struct pvio_gnttab *h, void *addr, uint32_t count)
{
	if (!h || !addr || count == 0)
		return -EINVAL;
	return h->ops->unmap(h, addr, count);
}

int pvio_gnttab_copy(struct pvio_gnttab *h, uint32_t count,
		     pvio_gnt_copy_seg_t *segs)
{
	if (!h || (count && !segs))
		return -EINVAL;
	if (count == 0)
		return 0;
	return h->ops->copy(h, count, segs);
}

const char *pvio_gnt_status_str(int16_t status)
{
	static const char *const msgs[] = GNTTABOP_error_msgs;
	int i = -status;

	if (i < 0 || i >= (int)(sizeof(msgs) / sizeof(msgs[0])))
		return "unknown grant status";
	return msgs[i];
}

/* Event channels. */

int pvio_evtchn_open(enum pvio_platform platform, struct pvio_evtchn **out)
{
	int p = pvio_platform_resolve(platform);
	if (p < 0)
		return p;
	last_error[0] = 0;
	return p == PVIO_PLATFORM_XEN ? pvio_xen_evtchn_ops.open(out)
				      : pvio_sim_evtchn_ops.open(out);
}

void pvio_evtchn_close(struct pvio_evtchn *h)
{
	if (h)
		h->ops->close(h);
}

int pvio_evtchn_fd(struct pvio_evtchn *h)
{
	return h ? h->ops->fd(h) : -EINVAL;
}

int pvio_evtchn_alloc_unbound(struct pvio_evtchn *h, domid_t remote_domid)
{
	if (!h)
		return -EINVAL;
	if (remote_domid >= DOMID_FIRST_RESERVED)
		return -ESRCH;
	return h->ops->alloc_unbound(h, remote_domid);
}

int pvio_evtchn_bind_interdomain(struct pvio_evtchn *h, domid_t remote_domid,
				 evtchn_port_t remote_port)
{
	if (!h)
		return -EINVAL;
	if (remote_domid >= DOMID_FIRST_RESERVED)
		return -ESRCH;
	return h->ops->bind_interdomain(h, remote_domid, remote_port);
}

int pvio_evtchn_notify(struct pvio_evtchn *h, evtchn_port_t port)
{
	return h ? h->ops->notify(h, port) : -EINVAL;
}

int pvio_evtchn_pending(struct pvio_evtchn *h)
{
	return h ? h->ops->pending(h) : -EINVAL;
}

int pvio_evtchn_wait(struct pvio_evtchn *h, int timeout_ms)
{
	return h ? h->ops->wait(h, timeout_ms) : -EINVAL;
}

int pvio_evtchn_unmask(struct pvio_evtchn *h, evtchn_port_t port)
{
	return h ? h->ops->unmask(h, port) : -EINVAL;
}

int pvio_evtchn_unbind(struct pvio_evtchn *h, evtchn_port_t port)
{
	return h ? h->ops->unbind(h, port) : -EINVAL;
}

int pvio_evtchn_peer_closed(struct pvio_evtchn *h, evtchn_port_t port)
{
	return h ? h->ops->peer_closed(h, port) : -EINVAL;
}
