/*
 * Internal: the ops tables behind pvio_gnt.h and pvio_evtchn.h. Each platform
 * provides one table per kind of handle; every handle starts with a pointer
 * to its table, so the public calls dispatch without knowing the platform.
 */
#ifndef PVIO_PLATFORM_OPS_H
#define PVIO_PLATFORM_OPS_H

#include "pvio_evtchn.h"
#include "pvio_gnt.h"

struct pvio_gntshr {
	const struct pvio_gntshr_ops *ops;
};

struct pvio_gnttab {
	const struct pvio_gnttab_ops *ops;
};

struct pvio_evtchn {
	const struct pvio_evtchn_ops *ops;
};

struct pvio_gntshr_ops {
	int (*open)(struct pvio_gntshr **out);
	void (*close)(struct pvio_gntshr *h);
	int (*share)(struct pvio_gntshr *h, domid_t domid, uint32_t count,
		     bool writable, grant_ref_t *refs, void **addr);
	int (*unshare)(struct pvio_gntshr *h, void *addr, uint32_t count);
	int (*reclaim)(struct pvio_gntshr *h);
};

struct pvio_gnttab_ops {
	int (*open)(struct pvio_gnttab **out);
	void (*close)(struct pvio_gnttab *h);
	int (*map)(struct pvio_gnttab *h, domid_t domid, uint32_t count,
		   const grant_ref_t *refs, bool writable, void **addr);
	int (*unmap)(struct pvio_gnttab *h, void *addr, uint32_t count);
	int (*copy)(struct pvio_gnttab *h, uint32_t count,
		    pvio_gnt_copy_seg_t *segs);
};

struct pvio_evtchn_ops {
	int (*open)(struct pvio_evtchn **out);
	void (*close)(struct pvio_evtchn *h);
	int (*fd)(struct pvio_evtchn *h);
	int (*alloc_unbound)(struct pvio_evtchn *h, domid_t remote_domid);
	int (*bind_interdomain)(struct pvio_evtchn *h, domid_t remote_domid,
				evtchn_port_t remote_port);
	int (*notify)(struct pvio_evtchn *h, evtchn_port_t port);
	int (*pending)(struct pvio_evtchn *h);
	int (*wait)(struct pvio_evtchn *h, int timeout_ms);
	int (*unmask)(struct pvio_evtchn *h, evtchn_port_t port);
	int (*unbind)(struct pvio_evtchn *h, evtchn_port_t port);
	int (*peer_closed)(struct pvio_evtchn *h, evtchn_port_t port);
};

extern const struct pvio_gntshr_ops pvio_xen_gntshr_ops, pvio_sim_gntshr_ops;
extern const struct pvio_gnttab_ops pvio_xen_gnttab_ops, pvio_sim_gnttab_ops;
extern const struct pvio_evtchn_ops pvio_xen_evtchn_ops, pvio_sim_evtchn_ops;

/* The wait calls' deadline: pvio_deadline_ms(timeout_ms) is -1 for no
 * limit (timeout_ms < 0); pvio_ms_left() is then -1, else the milliseconds
 * left, 0 once past. */
int64_t pvio_deadline_ms(int timeout_ms);
int pvio_ms_left(int64_t deadline);

/* Record the message pvio_platform_last_error() returns (printf style). */
void pvio_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
