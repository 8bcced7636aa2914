/*
 * Event channels: one API over the xen and sim platforms, shaped after
 * libxenevtchn.
 *
 * Like the Linux evtchn driver, a port reported by pvio_evtchn_pending() is
 * masked until pvio_evtchn_unmask(); notifications arriving meanwhile are
 * kept and delivered on unmask. One file descriptor per handle becomes
 * readable when any of its ports may be pending: poll it, then call
 * pvio_evtchn_pending() until it returns -EAGAIN.
 *
 * Errors (negative errno, the same on both platforms; proven against Xen
 * 4.17 and Linux's evtchn driver: tests/xen/test_platform_xen.c):
 *   -ESRCH     no such remote domain (bind), or a domain id from
 *              DOMID_FIRST_RESERVED up
 *   -EINVAL    bad port; a remote port that is not unbound for this
 *              domain (allocated for another, already bound, closed, its
 *              allocator gone); a local port not bound on this handle
 *              (never, or no longer after unbind)
 *   -ENOSPC    no free port in this domain
 *
 * A peer's closing is told by xenstore (its state node) on both platforms.
 * The sim tells it early too, and a driver may use that as a hint: its
 * notify then fails with -ENOTCONN, the port reads closed in
 * pvio_evtchn_peer_closed() and a waiter is woken. Xen drops a
 * notification to a closed peer silently (notify returns 0) and wakes
 * nobody; peer_closed() is -EOPNOTSUPP there.
 */
#ifndef PVIO_EVTCHN_H
#define PVIO_EVTCHN_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/event_channel.h>

#include "pvio_platform.h"

struct pvio_evtchn;

int pvio_evtchn_open(enum pvio_platform platform, struct pvio_evtchn **out);

/* Close; every port of the handle is unbound (peers see them close). */
void pvio_evtchn_close(struct pvio_evtchn *h);

/* The one descriptor to poll (POLLIN) for all ports of the handle. */
int pvio_evtchn_fd(struct pvio_evtchn *h);

/* Allocate a port that remote_domid may bind. Returns the port or -errno. */
int pvio_evtchn_alloc_unbound(struct pvio_evtchn *h, domid_t remote_domid);

/*
 * Bind to remote_port of remote_domid, which must have been allocated for
 * this domain. Returns the local port or -errno.
 */
int pvio_evtchn_bind_interdomain(struct pvio_evtchn *h, domid_t remote_domid,
				 evtchn_port_t remote_port);

/* Notify the peer of port. */
int pvio_evtchn_notify(struct pvio_evtchn *h, evtchn_port_t port);

/* A pending port (now masked), or -EAGAIN when none is. Never blocks. */
int pvio_evtchn_pending(struct pvio_evtchn *h);

/*
 * Wait up to timeout_ms (-1: no limit) for a pending port. Returns the port,
 * -ETIMEDOUT, or -errno.
 */
int pvio_evtchn_wait(struct pvio_evtchn *h, int timeout_ms);

int pvio_evtchn_unmask(struct pvio_evtchn *h, evtchn_port_t port);

int pvio_evtchn_unbind(struct pvio_evtchn *h, evtchn_port_t port);

/*
 * 1 when the peer of port has closed it or died, 0 when it is connected,
 * -EINVAL for a port not bound on the handle, -EOPNOTSUPP on xen (there the
 * toolstack reports domain death through xenstore).
 */
int pvio_evtchn_peer_closed(struct pvio_evtchn *h, evtchn_port_t port);

#endif
