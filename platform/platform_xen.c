/*
 * The xen platform: thin wrappers over libxengnttab (gnttab and gntshr) and
 * libxenevtchn, with what the Linux drivers do not check themselves added
 * so that pvio_gnt.h's and pvio_evtchn.h's contract holds as on the sim:
 * shares and bound ports are tracked per handle (gntalloc's unshare is a
 * bare munmap; the evtchn driver ignores unmasks of ports it does not know
 * and reports others as -ENOTCONN), and grant copy segments gntdev would
 * refuse the whole batch for get their own status. The kernel (gntalloc)
 * defers ending access to pages a peer still maps, and retries by itself.
 */
#include "config.h"

#include "platform_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/types.h>

#include <xenevtchn.h>
#include <xengnttab.h>

/* One share: what unshare must be given back. */
struct xen_share {
	void *addr;
	uint32_t count;
	struct xen_share *next;
};

struct xen_gntshr {
	struct pvio_gntshr base;
	xengntshr_handle *xgs;
	struct xen_share *shares;
};

struct xen_gnttab {
	struct pvio_gnttab base;
	xengnttab_handle *xgt;
};

struct xen_evtchn {
	struct pvio_evtchn base;
	xenevtchn_handle *xce;
	evtchn_port_t *ports; /* bound on this handle, unordered */
	size_t nr_ports, cap_ports;
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
	struct xen_share *sh;

	/* The mappings outlive the descriptor: unshare them first. */
	while ((sh = h->shares)) {
		h->shares = sh->next;
		xengntshr_unshare(h->xgs, sh->addr, sh->count);
		free(sh);
	}
	xengntshr_close(h->xgs);
	free(h);
}

static int xen_gntshr_share(struct pvio_gntshr *base, domid_t domid,
			    uint32_t count, bool writable, grant_ref_t *refs,
			    void **addr)
{
	struct xen_gntshr *h = XEN_OF(xen_gntshr, base);
	struct xen_share *sh = malloc(sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	errno = 0;
	void *p = xengntshr_share_pages(h->xgs, domid, (int)count, refs,
					writable);
	if (!p) {
		int err = errno_or(-ENOMEM);
		free(sh);
		return err;
	}
	*sh = (struct xen_share){.addr = p, .count = count, .next = h->shares};
	h->shares = sh;
	*addr = p;
	return 0;
}

static int xen_gntshr_unshare(struct pvio_gntshr *base, void *addr,
			      uint32_t count)
{
	struct xen_gntshr *h = XEN_OF(xen_gntshr, base);
	struct xen_share **pp = &h->shares, *sh;

	/* libxengnttab would munmap whatever lies at addr. */
	while ((sh = *pp) && sh->addr != addr)
		pp = &sh->next;
	if (!sh || sh->count != count)
		return -EINVAL;
	errno = 0;
	if (xengntshr_unshare(h->xgs, addr, count))
		return errno_or(-EINVAL);
	*pp = sh->next;
	free(sh);
	return 0;
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

/* What gntdev refuses a whole batch for (-EINVAL): a foreign side past
 * its page, or no foreign side. */
static bool copy_seg_bad(const pvio_gnt_copy_seg_t *s)
{
	if (!(s->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)))
		return true;
	if ((s->flags & GNTCOPY_source_gref) &&
	    (uint32_t)s->source.foreign.offset + s->len > PVIO_GNT_PAGE_BYTES)
		return true;
	return (s->flags & GNTCOPY_dest_gref) &&
	       (uint32_t)s->dest.foreign.offset + s->len > PVIO_GNT_PAGE_BYTES;
}

static int grant_copy(struct xen_gnttab *h, uint32_t count,
		      pvio_gnt_copy_seg_t *segs)
{
	errno = 0;
	return xengnttab_grant_copy(h->xgt, count, segs) ? errno_or(-EINVAL)
							 : 0;
}

static int xen_gnttab_copy(struct pvio_gnttab *base, uint32_t count,
			   pvio_gnt_copy_seg_t *segs)
{
	struct xen_gnttab *h = XEN_OF(xen_gnttab, base);
	uint32_t bad = 0;

	for (uint32_t i = 0; i < count; i++)
		bad += copy_seg_bad(&segs[i]);
	if (!bad)
		return grant_copy(h, count, segs);
	/* The rare batch with bad segments: they get GNTST_bad_copy_arg (as
	 * Xen would answer them), the others go to the kernel. */
	pvio_gnt_copy_seg_t *good = malloc((count - bad + 1) * sizeof(*good));
	if (!good)
		return -ENOMEM;
	uint32_t n = 0;
	for (uint32_t i = 0; i < count; i++)
		if (!copy_seg_bad(&segs[i]))
			good[n++] = segs[i];
	int err = n ? grant_copy(h, n, good) : 0;
	n = 0;
	for (uint32_t i = 0; i < count && !err; i++)
		segs[i].status = copy_seg_bad(&segs[i]) ? GNTST_bad_copy_arg
							: good[n++].status;
	free(good);
	return err;
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
	free(h->ports);
	free(h);
}

/* Where port is in h->ports, or -1. */
static ssize_t port_index(const struct xen_evtchn *h, evtchn_port_t port)
{
	for (size_t i = 0; i < h->nr_ports; i++)
		if (h->ports[i] == port)
			return (ssize_t)i;
	return -1;
}

/* Record a port the kernel just bound on h; unbinds it if out of memory. */
static int port_track(struct xen_evtchn *h, int port)
{
	if (h->nr_ports == h->cap_ports) {
		size_t cap = h->cap_ports ? 2 * h->cap_ports : 8;
		evtchn_port_t *p = realloc(h->ports, cap * sizeof(*p));
		if (!p) {
			xenevtchn_unbind(h->xce, (evtchn_port_t)port);
			return -ENOMEM;
		}
		h->ports = p;
		h->cap_ports = cap;
	}
	h->ports[h->nr_ports++] = (evtchn_port_t)port;
	return port;
}

static int xen_evtchn_fd(struct pvio_evtchn *base)
{
	return xenevtchn_fd(XEN_OF(xen_evtchn, base)->xce);
}

static int xen_evtchn_alloc_unbound(struct pvio_evtchn *base, domid_t remote)
{
	struct xen_evtchn *h = XEN_OF(xen_evtchn, base);
	errno = 0;
	int port = xenevtchn_bind_unbound_port(h->xce, remote);
	return port < 0 ? errno_or(-EINVAL) : port_track(h, port);
}

static int xen_evtchn_bind_interdomain(struct pvio_evtchn *base, domid_t remote,
				       evtchn_port_t rport)
{
	struct xen_evtchn *h = XEN_OF(xen_evtchn, base);
	errno = 0;
	int port = xenevtchn_bind_interdomain(h->xce, remote, rport);
	return port < 0 ? errno_or(-EINVAL) : port_track(h, port);
}

static int xen_evtchn_notify(struct pvio_evtchn *base, evtchn_port_t port)
{
	struct xen_evtchn *h = XEN_OF(xen_evtchn, base);
	if (port_index(h, port) < 0)
		return -EINVAL;
	errno = 0;
	return xenevtchn_notify(h->xce, port) ? errno_or(-EINVAL) : 0;
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
	struct xen_evtchn *h = XEN_OF(xen_evtchn, base);
	if (port_index(h, port) < 0)
		return -EINVAL;
	errno = 0;
	return xenevtchn_unmask(h->xce, port) ? errno_or(-EINVAL) : 0;
}

static int xen_evtchn_unbind(struct pvio_evtchn *base, evtchn_port_t port)
{
	struct xen_evtchn *h = XEN_OF(xen_evtchn, base);
	ssize_t i = port_index(h, port);
	if (i < 0)
		return -EINVAL;
	errno = 0;
	if (xenevtchn_unbind(h->xce, port))
		return errno_or(-EINVAL);
	h->ports[i] = h->ports[--h->nr_ports];
	return 0;
}

static int xen_evtchn_peer_closed(struct pvio_evtchn *base, evtchn_port_t port)
{
	return port_index(XEN_OF(xen_evtchn, base), port) < 0 ? -EINVAL
							      : -EOPNOTSUPP;
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
