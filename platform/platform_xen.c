/*
 * The xen platform: thin wrappers over libxengnttab (gnttab and gntshr) and
 * libxenevtchn. The kernel (gntalloc) defers ending access to pages a peer
 * still maps, so unshare never reports -EBUSY here.
 */
#include "config.h"

#include "platform_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <xenevtchn.h>
#include <xengnttab.h>

struct xen_gntshr {
	struct pvio_gntshr base;
	xengntshr_handle *xgs;
};

struct xen_gnttab {
	struct pvio_gnttab base;
	xengnttab_handle *xgt;
};

struct xen_evtchn {
	struct pvio_evtchn base;
	xenevtchn_handle *xce;
};

#define XEN_OF(type, h) ((struct type *)(void *)(h))

static int errno_or(int fallback)
{
	return errno ? -errno : fallback;
}

static int xen_gntshr_open(struct pvio_gntshr **out)
{
	struct xen_gntshr *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->xgs = xengntshr_open(NULL, 0);
	if (!h->xgs) {
		int err = errno_or(-ENODEV);
		pvio_set_error("xengntshr_open failed: is this a Xen domain "
			       "with /dev/xen/gntalloc? (PVIO_PLATFORM=sim "
			       "selects the emulation)");
		free(h);
		return err;
	}
	h->base.ops = &pvio_xen_gntshr_ops;
	*out = &h->base;
	return 0;
}

static void xen_gntshr_close(struct pvio_gntshr *base)
{
	struct xen_gntshr *h = XEN_OF(xen_gntshr, base);
	xengntshr_close(h->xgs);
	free(h);
}

static int xen_gntshr_share(struct pvio_gntshr *base, domid_t domid,
			    uint32_t count, bool writable, grant_ref_t *refs,
			    void **addr)
{
	struct xen_gntshr *h = XEN_OF(xen_gntshr, base);
	errno = 0;
	void *p = xengntshr_share_pages(h->xgs, domid, (int)count, refs,
					writable);
	if (!p)
		return errno_or(-ENOMEM);
	*addr = p;
	return 0;
}

static int xen_gntshr_unshare(struct pvio_gntshr *base, void *addr,
			      uint32_t count)
{
	struct xen_gntshr *h = XEN_OF(xen_gntshr, base);
	return xengntshr_unshare(h->xgs, addr, count) ? errno_or(-EINVAL) : 0;
}

static int xen_gntshr_reclaim(struct pvio_gntshr *base)
{
	(void)base;
	return 0;
}

const struct pvio_gntshr_ops pvio_xen_gntshr_ops = {
	.open = xen_gntshr_open,
	.close = xen_gntshr_close,
	.share = xen_gntshr_share,
	.unshare = xen_gntshr_unshare,
	.reclaim = xen_gntshr_reclaim,
};

static int xen_gnttab_open(struct pvio_gnttab **out)
{
	struct xen_gnttab *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->xgt = xengnttab_open(NULL, 0);
	if (!h->xgt) {
		int err = errno_or(-ENODEV);
		pvio_set_error("xengnttab_open failed: is this a Xen domain "
			       "with /dev/xen/gntdev? (PVIO_PLATFORM=sim "
			       "selects the emulation)");
		free(h);
		return err;
	}
	h->base.ops = &pvio_xen_gnttab_ops;
	*out = &h->base;
	return 0;
}

static void xen_gnttab_close(struct pvio_gnttab *base)
{
	struct xen_gnttab *h = XEN_OF(xen_gnttab, base);
	xengnttab_close(h->xgt);
	free(h);
}

static int xen_gnttab_map(struct pvio_gnttab *base, domid_t domid,
			  uint32_t count, const grant_ref_t *refs,
			  bool writable, void **addr)
{
	struct xen_gnttab *h = XEN_OF(xen_gnttab, base);
	errno = 0;
	/* libxengnttab takes a non-const array it does not modify. */
	void *p = xengnttab_map_domain_grant_refs(
		h->xgt, count, domid, (uint32_t *)(uintptr_t)refs,
		writable ? PROT_READ | PROT_WRITE : PROT_READ);
	if (!p)
		return errno_or(-EINVAL);
	*addr = p;
	return 0;
}

static int xen_gnttab_unmap(struct pvio_gnttab *base, void *addr,
			    uint32_t count)
{
	struct xen_gnttab *h = XEN_OF(xen_gnttab, base);
	return xengnttab_unmap(h->xgt, addr, count) ? errno_or(-EINVAL) : 0;
}

static int xen_gnttab_copy(struct pvio_gnttab *base, uint32_t count,
			   pvio_gnt_copy_seg_t *segs)
{
	struct xen_gnttab *h = XEN_OF(xen_gnttab, base);
	return xengnttab_grant_copy(h->xgt, count, segs) ? errno_or(-EINVAL)
							 : 0;
}

const struct pvio_gnttab_ops pvio_xen_gnttab_ops = {
	.open = xen_gnttab_open,
	.close = xen_gnttab_close,
	.map = xen_gnttab_map,
	.unmap = xen_gnttab_unmap,
	.copy = xen_gnttab_copy,
};

static int xen_evtchn_open(struct pvio_evtchn **out)
{
	struct xen_evtchn *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->xce = xenevtchn_open(NULL, 0);
	if (!h->xce) {
		int err = errno_or(-ENODEV);
		pvio_set_error("xenevtchn_open failed: is this a Xen domain "
			       "with /dev/xen/evtchn? (PVIO_PLATFORM=sim "
			       "selects the emulation)");
		free(h);
		return err;
	}
	/* pending() must not block: the caller polls the descriptor. */
	int fd = xenevtchn_fd(h->xce);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int err = -errno;
		xenevtchn_close(h->xce);
		free(h);
		return err;
	}
	h->base.ops = &pvio_xen_evtchn_ops;
	*out = &h->base;
	return 0;
}

static void xen_evtchn_close(struct pvio_evtchn *base)
{
	struct xen_evtchn *h = XEN_OF(xen_evtchn, base);
	xenevtchn_close(h->xce);
	free(h);
}

static int xen_evtchn_fd(struct pvio_evtchn *base)
{
	return xenevtchn_fd(XEN_OF(xen_evtchn, base)->xce);
}

static int xen_evtchn_alloc_unbound(struct pvio_evtchn *base, domid_t remote)
{
	errno = 0;
	int port = xenevtchn_bind_unbound_port(XEN_OF(xen_evtchn, base)->xce,
					       remote);
	return port < 0 ? errno_or(-EINVAL) : port;
}

static int xen_evtchn_bind_interdomain(struct pvio_evtchn *base, domid_t remote,
				       evtchn_port_t rport)
{
	errno = 0;
	int port = xenevtchn_bind_interdomain(XEN_OF(xen_evtchn, base)->xce,
					      remote, rport);
	return port < 0 ? errno_or(-EINVAL) : port;
}

static int xen_evtchn_notify(struct pvio_evtchn *base, evtchn_port_t port)
{
	return xenevtchn_notify(XEN_OF(xen_evtchn, base)->xce, port)
		       ? errno_or(-EINVAL)
		       : 0;
}

static int xen_evtchn_pending(struct pvio_evtchn *base)
{
	errno = 0;
	int port = xenevtchn_pending(XEN_OF(xen_evtchn, base)->xce);
	if (port >= 0)
		return port;
	return errno == EWOULDBLOCK ? -EAGAIN : errno_or(-EIO);
}

/* Until a port is pending or the time is up: a readable descriptor with
 * nothing to read (a spurious wake-up, EINTR) waits on. */
static int xen_evtchn_wait(struct pvio_evtchn *base, int timeout_ms)
{
	struct pollfd pfd = {.fd = xen_evtchn_fd(base), .events = POLLIN};
	int64_t deadline = pvio_deadline_ms(timeout_ms);

	for (;;) {
		int port = xen_evtchn_pending(base);
		if (port != -EAGAIN)
			return port;
		int left = pvio_ms_left(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return -errno;
	}
}

static int xen_evtchn_unmask(struct pvio_evtchn *base, evtchn_port_t port)
{
	return xenevtchn_unmask(XEN_OF(xen_evtchn, base)->xce, port)
		       ? errno_or(-EINVAL)
		       : 0;
}

static int xen_evtchn_unbind(struct pvio_evtchn *base, evtchn_port_t port)
{
	return xenevtchn_unbind(XEN_OF(xen_evtchn, base)->xce, port)
		       ? errno_or(-EINVAL)
		       : 0;
}

static int xen_evtchn_peer_closed(struct pvio_evtchn *base, evtchn_port_t port)
{
	(void)base;
	(void)port;
	return -EOPNOTSUPP;
}

const struct pvio_evtchn_ops pvio_xen_evtchn_ops = {
	.open = xen_evtchn_open,
	.close = xen_evtchn_close,
	.fd = xen_evtchn_fd,
	.alloc_unbound = xen_evtchn_alloc_unbound,
	.bind_interdomain = xen_evtchn_bind_interdomain,
	.notify = xen_evtchn_notify,
	.pending = xen_evtchn_pending,
	.wait = xen_evtchn_wait,
	.unmask = xen_evtchn_unmask,
	.unbind = xen_evtchn_unbind,
	.peer_closed = xen_evtchn_peer_closed,
};
