/*
 * RX: bridge to guest. One pass takes the buffers the frontend posted
 * (private copies), reads frames from the TAP (up to NETBACK_RX_BATCH, one
 * io_uring submission for all of them where liburing is there, else one
 * readv each), copies them into the posted pages with one grant copy
 * (rx-copy), and answers each buffer in its request's slot with one push
 * for the batch. Frames that find too few buffers wait, in order, at the
 * start of the arena, and the TAP is not read until the frontend posts
 * more: the kernel queues meanwhile.
 */
#include "config.h"

#include "netback.h"
#include "pvio_tap.h"

#include <endian.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

/* A batch's frames, each at a 64-byte boundary, with room to read one
 * more of the largest size. */
#define RX_ARENA_BYTES ((size_t)1 << 20)
#define RX_READ_ROOM   ((size_t)NETBACK_RX_MAX_FRAME + 64)
#define RX_ALIGN(n)    (((n) + 63u) & ~(size_t)63u)

int rx_init(struct vif_queue *q)
{
	q->rx.arena_size = RX_ARENA_BYTES + RX_READ_ROOM;
	q->rx.arena = malloc(q->rx.arena_size);
	if (!q->rx.arena)
		return -ENOMEM;
	q->rx.persistent = q->vif->conn.features.persistent_grants;
	q->rx.direct = true;
	map_cache_init(&q->rx.maps, true, &q->vif->stats->rx_maps, "RX");
#ifdef HAVE_LIBURING
	q->rx.uring_ok =
		io_uring_queue_init(NETBACK_RX_BATCH, &q->rx.uring, 0) == 0;
#endif
	return 0;
}

void rx_fini(struct vif_queue *q)
{
	if (q->gnttab && q->rx.arena)
		map_cache_clear(q, &q->rx.maps);
#ifdef HAVE_LIBURING
	if (q->rx.uring_ok)
		io_uring_queue_exit(&q->rx.uring);
	q->rx.uring_ok = false;
#endif
	free(q->rx.arena);
	q->rx.arena = NULL;
}

bool rx_wants_tap(struct vif_queue *q)
{
	if (q->rx.nr_pending)
		return false;
	if (q->rx.nr_reqs > q->rx.used_reqs ||
	    __atomic_load_n(&q->rx_ring.sring->req_prod, __ATOMIC_ACQUIRE) !=
		    q->rx_ring.req_cons)
		return true;
	/* No buffers: the TAP is watched only until a frame is seen waiting
	 * for them (counted in rx_ring_full), then left to queue it. */
	return !q->rx.waiting;
}

/* The frame's network protocol, past one VLAN tag. */
static unsigned ethertype(const uint8_t *frame, uint32_t len)
{
	if (len < NETIF_ETH_HLEN)
		return 0;
	unsigned type = (unsigned)frame[12] << 8 | frame[13];
	if (type == ETH_P_8021Q && len >= NETIF_ETH_HLEN + 4)
		type = (unsigned)frame[16] << 8 | frame[17];
	return type;
}

static void rx_drop(struct vif *vif, enum netif_rx_drop why, bool *logged,
		    uint32_t len, const char *detail)
{
	stat_add(&vif->stats->rx_drops[why], 1);
	if (*logged)
		return;
	*logged = true;
	vif_log(vif,
		"RX frame of %u bytes dropped: %s (%s); further ones are "
		"only counted",
		len, netif_rx_drop_str(why), detail);
}

void rx_set_offload(struct vif *vif)
{
	unsigned flags = netif_tun_offload(&vif->conn.features);
	/* Blank checksums are filled here for a frontend that takes none:
	 * the kernel need not fill them for every frame on the bridge. */
	flags |= TUN_F_CSUM;
	/* The offloads are the TAP device's (tun.c keeps them on the
	 * device, not on the queue's file), so queue 0's descriptor sets
	 * them for every queue. */
	int err = pvio_tap_set_offload(vif->tap_fd, flags);
	stat_add(&vif->stats->syscalls, 1);
	if (err)
		vif_log(vif, "TUNSETOFFLOAD %#x: %s; the TAP keeps what it had",
			flags, strerror(-err));
}

void rx_size_reads(struct vif_queue *q)
{
	struct vif *vif = q->vif;
	const struct netif_features *feat = &vif->conn.features;
	/* With GSO the TAP hands frames of up to 64 KiB whatever the MTU. */
	if (netif_gso_usable(feat, XEN_NETIF_GSO_TYPE_TCPV4) ||
	    netif_gso_usable(feat, XEN_NETIF_GSO_TYPE_TCPV6)) {
		q->rx.read_len = NETBACK_RX_MAX_FRAME;
		return;
	}
	/* A frame of the TAP's MTU (no GSO is set, so none is longer), a
	 * VLAN tag, and one byte more, so that a read that fills its buffer
	 * is known to be cut short. */
	unsigned mtu;
	int err = pvio_tap_get_mtu(q->tap_fd, &mtu);
	stat_add(&vif->stats->syscalls, 3);
	uint32_t len = !err ? (uint32_t)mtu + NETIF_ETH_HLEN + 4 + 1
			    : NETBACK_RX_MAX_FRAME;
	if (q->rx.read_len && len < q->rx.read_len * 2)
		len = q->rx.read_len * 2; /* grown: at least twice as big */
	q->rx.read_len =
		len < NETBACK_RX_MAX_FRAME ? len : NETBACK_RX_MAX_FRAME;
}

/* The GSO type of a TAP frame's header (XEN_NETIF_GSO_TYPE_NONE: none;
 * 0xff: one netif has no type for). */
static uint8_t rx_gso_type(const struct virtio_net_hdr *vnet)
{
	switch (vnet->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return XEN_NETIF_GSO_TYPE_NONE;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return XEN_NETIF_GSO_TYPE_TCPV4;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return XEN_NETIF_GSO_TYPE_TCPV6;
	default:
		return 0xff;
	}
}

/*
 * What the frontend is told about a frame the TAP gave with vnet: a GSO
 * frame goes whole (with a GSO extra) to a frontend that takes its type;
 * a blank checksum goes to a frontend that takes checksum offload for the
 * protocol, and is filled here for one that does not. Returns false when
 * the frame is dropped (counted).
 */
static bool rx_prepare(struct vif_queue *q, const struct virtio_net_hdr *vnet,
		       const struct iovec *iov, unsigned niov, uint32_t len,
		       struct netif_rx_meta *meta)
{
	/* The headers lie in the first piece (a page, or the whole frame). */
	const uint8_t *data = iov[0].iov_base;
	struct vif *vif = q->vif;
	const struct netif_features *feat = &vif->conn.features;
	memset(meta, 0, sizeof(*meta));
	meta->size = len;
	uint8_t gso = rx_gso_type(vnet);
	if (gso != XEN_NETIF_GSO_TYPE_NONE) {
		/* TSO is set on the TAP only for what the frontend takes;
		 * frames queued before a reconnect may still be GSO. */
		if (!netif_gso_usable(feat, gso) || vnet->gso_size == 0) {
			rx_drop(vif, NETIF_RX_DROP_TOO_BIG, &q->rx.logged_big,
				len, "GSO frame the frontend does not take");
			return false;
		}
		meta->has_gso = true;
		meta->gso_type = gso;
		meta->gso_size = le16toh(vnet->gso_size);
		meta->csum_blank = true;
		meta->data_validated = true;
		return true;
	}
	if (vnet->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		unsigned type = ethertype(
			data,
			len < iov[0].iov_len ? len : (uint32_t)iov[0].iov_len);
		if ((type == ETH_P_IP && feat->ipv4_csum) ||
		    (type == ETH_P_IPV6 && feat->ipv6_csum)) {
			meta->csum_blank = true;
		} else if (netif_checksum_fill_iov(
				   iov, niov, len, le16toh(vnet->csum_start),
				   le16toh(vnet->csum_offset)) < 0) {
			rx_drop(vif, NETIF_RX_DROP_CSUM, &q->rx.logged_csum,
				len, "checksum position outside the frame");
			return false;
		} else {
			stat_add(&vif->stats->rx_csum_filled, 1);
		}
		meta->data_validated = true;
	} else if (vnet->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		meta->data_validated = true;
	}
	return true;
}

/* Gives frame f the next f->nr_slots posted buffers: one segment for each
 * data slot (a GSO extra takes the second slot and no data). */
static void rx_assign(struct vif_queue *q, struct rx_frame *f, unsigned *nsegs)
{
	struct vif *vif = q->vif;
	f->first_req = q->rx.used_reqs;
	f->first_seg = *nsegs;
	uint32_t left = f->len;
	unsigned page = 0;
	for (unsigned i = 0; i < f->nr_slots; i++) {
		if (f->meta.has_gso && i == 1)
			continue;
		const netif_rx_request_t *req =
			&q->rx.reqs[q->rx.used_reqs + i];
		pvio_gnt_copy_seg_t *s = &q->rx.segs[(*nsegs)++];
		uint32_t chunk =
			left < NETIF_PAGE_BYTES ? left : NETIF_PAGE_BYTES;
		s->source.virt = f->data + (size_t)page++ * NETIF_PAGE_BYTES;
		s->dest.foreign.ref = req->gref;
		s->dest.foreign.offset = 0;
		s->dest.foreign.domid = (domid_t)vif->domid;
		s->len = (uint16_t)chunk;
		s->flags = GNTCOPY_dest_gref;
		s->status = GNTST_okay;
		left -= chunk;
	}
	q->rx.used_reqs += f->nr_slots;
}

/* The ring slots a frame takes; 0 when it cannot go (dropped, counted). */
static unsigned rx_slots(struct vif_queue *q, uint32_t len, bool gso)
{
	struct vif *vif = q->vif;
	unsigned n = netif_rx_slots_needed(len, gso, &vif->conn.features);
	if (!n)
		rx_drop(vif, NETIF_RX_DROP_TOO_BIG, &q->rx.logged_big, len,
			vif->conn.features.sg ? "more than the slots allowed"
					      : "frontend has no feature-sg");
	return n;
}

/* A frame of len bytes that filled its read of read_len: it may have been
 * longer (the MTU went up). Dropped (true); the reads grow to the new
 * MTU. */
static bool rx_filled_read(struct vif_queue *q, uint32_t len, uint32_t read_len)
{
	if (len < read_len)
		return false;
	rx_drop(q->vif, NETIF_RX_DROP_TOO_BIG, &q->rx.logged_big, len,
		read_len < NETBACK_RX_MAX_FRAME
			? "longer than the TAP's MTU when connected"
			: "longer than the slots a packet may take");
	if (read_len < NETBACK_RX_MAX_FRAME)
		rx_size_reads(q);
	return true;
}

/* A frame read into the arena at data (r bytes with its header, or
 * -errno): 1 with *f filled and the arena advanced, 0 when it was dropped,
 * -1 when the TAP had nothing. */
static int rx_take_frame(struct vif_queue *q, struct rx_frame *f,
			 const struct virtio_net_hdr *vnet, uint8_t *data,
			 long r, uint32_t read_len)
{
	struct vif *vif = q->vif;
	if (r < 0) {
		if (r != -EAGAIN && r != -EINTR)
			vif_log(vif, "reading the TAP: %s", strerror((int)-r));
		q->tap_readable = false;
		return -1;
	}
	if ((size_t)r <= sizeof(*vnet))
		return 0;
	uint32_t len = (uint32_t)((size_t)r - sizeof(*vnet));
	if (rx_filled_read(q, len, read_len))
		return 0;
	/* The frame stays where it was read (past the arena's free start:
	 * a batched read's room, holes left by dropped frames included), so
	 * that a 64 KiB GSO frame is not moved again. */
	uint8_t *dst = data;
	struct iovec whole = {dst, len};
	if (!rx_prepare(q, vnet, &whole, 1, len, &f->meta))
		return 0;
	f->nr_slots = rx_slots(q, len, f->meta.has_gso);
	if (!f->nr_slots)
		return 0;
	f->data = dst;
	f->len = len;
	/* A frame larger than a page: worth reading into the pages. */
	if (len > NETIF_PAGE_BYTES)
		q->rx.direct = true;
	q->rx.arena_used = (size_t)(dst - q->rx.arena) + RX_ALIGN(len);
	return 1;
}

#ifdef HAVE_LIBURING
/* The fewest reads of a batch: a frame and the read that finds the TAP
 * empty, in one submission. */
#define RX_READ_BATCH_MIN 2u

/* How long a batch of reads may take to complete before io_uring is given
 * up on (they complete at once when the kernel honours RWF_NOWAIT). */
#define RX_URING_TIMEOUT_NS 100000000

/*
 * Up to max reads in one io_uring submission (one system call for the
 * batch), each into its own room of the arena. RWF_NOWAIT: a read of an
 * empty TAP completes at once with -EAGAIN instead of waiting (io_uring
 * would otherwise arm a poll for it, O_NONBLOCK or not), so the reads
 * complete in submission order, frames first. Returns the frames kept, or
 * -1 when io_uring cannot serve the TAP (the frames of a batch that did
 * not complete are lost: a kernel that ignores RWF_NOWAIT costs them once).
 */
static int rx_read_frames_uring(struct vif_queue *q, unsigned max)
{
	struct vif *vif = q->vif;
	unsigned first = q->rx.nr_pending, got = 0;
	size_t base = q->rx.arena_used;
	unsigned room = (unsigned)((q->rx.arena_size - base) /
				   RX_ALIGN(q->rx.read_len));
	if (max > room)
		max = room;
	for (unsigned i = 0; i < max; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&q->rx.uring);
		q->rx.iov[i][0] = (struct iovec){&q->rx.vnet[first + i],
						 sizeof(q->rx.vnet[0])};
		q->rx.iov[i][1] = (struct iovec){
			q->rx.arena + base + i * RX_ALIGN(q->rx.read_len),
			q->rx.read_len};
		io_uring_prep_readv2(sqe, q->tap_fd, q->rx.iov[i], 2, 0,
				     RWF_NOWAIT);
		io_uring_sqe_set_data64(sqe, i);
	}
	stat_add(&vif->stats->syscalls, 1);
	int rc = io_uring_submit(&q->rx.uring);
	if (rc < 0) {
		vif_log(vif, "io_uring submit: %s; reading frames one by one",
			strerror(-rc));
		return -1;
	}
	long res[NETBACK_RX_BATCH];
	for (unsigned seen = 0; seen < max; seen++) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = {0, RX_URING_TIMEOUT_NS};
		if (io_uring_peek_cqe(&q->rx.uring, &cqe) != 0 &&
		    io_uring_wait_cqe_timeout(&q->rx.uring, &cqe, &ts) != 0) {
			/* A read left waiting would take a frame later,
			 * behind our back: exiting the ring cancels it. */
			vif_log(vif, "io_uring reads of the TAP do not "
				     "complete at once; reading frames one by "
				     "one");
			return -1;
		}
		res[io_uring_cqe_get_data64(cqe)] = cqe->res;
		io_uring_cqe_seen(&q->rx.uring, cqe);
	}
	bool empty = false;
	for (unsigned i = 0; i < max; i++) {
		if (res[i] == -EOPNOTSUPP || res[i] == -EINVAL) {
			/* No RWF_NOWAIT for this file: every read fails
			 * so, none takes a frame. */
			if (got == 0 && i == 0) {
				nb_debug("%s: io_uring reads refused (%s)",
					 vif->name, strerror((int)-res[i]));
				return -1;
			}
			continue;
		}
		if (res[i] == -EAGAIN) {
			empty = true;
			continue;
		}
		/* Its header is used here, once: the frame's meta keeps
		 * what it said. */
		got += rx_take_frame(q, &q->rx.frames[first + got],
				     &q->rx.vnet[first + i],
				     q->rx.iov[i][1].iov_base, res[i],
				     (uint32_t)q->rx.iov[i][1].iov_len) == 1;
	}
	if (empty)
		q->tap_readable = false;
	unsigned next = empty ? 2 * got : 2 * max;
	q->rx.read_batch = next < RX_READ_BATCH_MIN  ? RX_READ_BATCH_MIN
			   : next > NETBACK_RX_BATCH ? NETBACK_RX_BATCH
						     : next;
	return (int)got;
}
#endif

/*
 * Reads up to max frames after the pending ones into frames[nr_pending..]
 * (packed, each read given room for the largest frame). Returns how many
 * were kept.
 */
static unsigned rx_read_frames(struct vif_queue *q, unsigned max)
{
	struct vif *vif = q->vif;
	unsigned got = 0, first = q->rx.nr_pending;
#ifdef HAVE_LIBURING
	unsigned batch = q->rx.read_batch < RX_READ_BATCH_MIN
				 ? RX_READ_BATCH_MIN
				 : q->rx.read_batch;
	if (q->rx.uring_ok && max > 1) {
		int kept = rx_read_frames_uring(q, max < batch ? max : batch);
		if (kept >= 0)
			return (unsigned)kept;
		/* Not usable here: one readv at a time from now on. */
		io_uring_queue_exit(&q->rx.uring);
		q->rx.uring_ok = false;
	}
#endif
	/* Reads, dropped frames included, are bounded. */
	for (unsigned reads = 0;
	     reads < 2 * max && got < max &&
	     q->rx.arena_size - q->rx.arena_used >= RX_READ_ROOM;
	     reads++) {
		uint8_t *data = q->rx.arena + q->rx.arena_used;
		struct iovec iov[2] = {
			{&q->rx.vnet[first + got], sizeof(q->rx.vnet[0])},
			{data, NETBACK_RX_MAX_FRAME}};
		stat_add(&vif->stats->syscalls, 1);
		ssize_t r = readv(q->tap_fd, iov, 2);
		int kept = rx_take_frame(
			q, &q->rx.frames[first + got], &q->rx.vnet[first + got],
			data, r < 0 ? -errno : r, NETBACK_RX_MAX_FRAME);
		if (kept < 0)
			break;
		got += (unsigned)kept;
	}
	return got;
}

/* Error responses for the buffers of a frame whose copy failed. */
static unsigned rx_error_responses(const netif_rx_request_t *reqs,
				   unsigned nr_slots, netif_rx_response_t *rsps)
{
	for (unsigned i = 0; i < nr_slots; i++) {
		rsps[i].id = reqs[i].id;
		rsps[i].offset = 0;
		rsps[i].flags = 0;
		rsps[i].status = NETIF_RSP_ERROR;
	}
	return nr_slots;
}

/* Pushes nrsp responses (delivered frames, bytes in all) and lets go of
 * the requests they used. Responses go in the slots of the requests they
 * answer: requests are used, and answered, in ring order. */
static void rx_publish(struct vif_queue *q, unsigned nrsp, uint64_t delivered,
		       uint64_t gso_delivered, uint64_t bytes)
{
	struct vif *vif = q->vif;
	pvio_back_put_responses(&q->rx_ring, q->rx.rsps, nrsp);
	if (pvio_back_push_responses(&q->rx_ring))
		q->need_notify = true;
	stat_add(&vif->stats->rx_packets, delivered);
	stat_add(&q->stats->rx_packets, delivered);
	stat_add(&vif->stats->rx_bytes, bytes);
	if (gso_delivered)
		stat_add(&vif->stats->rx_gso_packets, gso_delivered);
	stat_add(&vif->stats->rx_batches, 1);

	q->rx.nr_reqs -= q->rx.used_reqs;
	memmove(q->rx.reqs, q->rx.reqs + q->rx.used_reqs,
		q->rx.nr_reqs * sizeof(q->rx.reqs[0]));
	q->rx.used_reqs = 0;
}

/*
 * Persistent grants: frames read from the TAP straight into the pages the
 * frontend posted, mapped, one read at a time (a frame takes the pages of
 * the next requests, and how many is known only once it is read). Where
 * the frontend takes GSO the second request's page is left out of the
 * read, since a GSO frame's extra takes that slot; a frame of several
 * pages that is not GSO is then moved up into it. Returns the frames
 * delivered, or -1 when the copying path is to serve this pass: fewer
 * buffers posted than the largest frame takes, or a page that cannot be
 * mapped (the grant copy then reports what is wrong with it).
 */
static int rx_direct(struct vif_queue *q)
{
	struct vif *vif = q->vif;
	const struct netif_features *feat = &vif->conn.features;
	unsigned pages =
		(q->rx.read_len + NETIF_PAGE_BYTES - 1) / NETIF_PAGE_BYTES;
	bool gso_slot = pages > 1 &&
			(netif_gso_usable(feat, XEN_NETIF_GSO_TYPE_TCPV4) ||
			 netif_gso_usable(feat, XEN_NETIF_GSO_TYPE_TCPV6));
	unsigned need = pages + (gso_slot ? 1 : 0);
	unsigned nrsp = 0, delivered = 0, gso_delivered = 0;
	uint64_t bytes = 0;
	bool unmappable = false;
	if (need > XEN_NETIF_NR_SLOTS_MIN + 1 ||
	    q->rx.nr_reqs - q->rx.used_reqs < need)
		return -1;
	q->rx.waiting = false;
	while (delivered < NETBACK_RX_BATCH && q->tap_readable &&
	       q->rx.nr_reqs - q->rx.used_reqs >= need) {
		const netif_rx_request_t *reqs = &q->rx.reqs[q->rx.used_reqs];
		uint8_t *page[XEN_NETIF_NR_SLOTS_MIN + 1];
		struct iovec iov[XEN_NETIF_NR_SLOTS_MIN + 2];
		struct virtio_net_hdr vnet;
		unsigned n = 0;
		uint32_t room = q->rx.read_len;
		iov[n++] = (struct iovec){&vnet, sizeof(vnet)};
		for (unsigned i = 0; i < need && !unmappable; i++) {
			page[i] = map_cache_get(q, &q->rx.maps, reqs[i].gref);
			unmappable = !page[i];
			if (unmappable || (gso_slot && i == 1))
				continue;
			uint32_t chunk = room < NETIF_PAGE_BYTES
						 ? room
						 : NETIF_PAGE_BYTES;
			iov[n++] = (struct iovec){page[i], chunk};
			room -= chunk;
		}
		if (unmappable)
			break;
		stat_add(&vif->stats->syscalls, 1);
		ssize_t r = readv(q->tap_fd, iov, (int)n);
		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				vif_log(vif, "reading the TAP: %s",
					strerror(errno));
			q->tap_readable = false;
			break;
		}
		if ((size_t)r <= sizeof(vnet))
			continue;
		uint32_t len = (uint32_t)((size_t)r - sizeof(vnet));
		struct netif_rx_meta meta;
		if (rx_filled_read(q, len, q->rx.read_len) ||
		    !rx_prepare(q, &vnet, iov + 1, n - 1, len, &meta))
			continue;
		unsigned nr_slots = rx_slots(q, len, meta.has_gso);
		if (!nr_slots)
			continue;
		if (gso_slot && !meta.has_gso && len > NETIF_PAGE_BYTES) {
			/* Its data slots follow one another: each page's
			 * bytes move up one request. memmove: a frontend
			 * may post one page in two requests, and both are
			 * then the same mapping. */
			uint32_t left = len - NETIF_PAGE_BYTES;
			for (unsigned i = 1; left; i++) {
				uint32_t chunk = left < NETIF_PAGE_BYTES
							 ? left
							 : NETIF_PAGE_BYTES;
				memmove(page[i], page[i + 1], chunk);
				left -= chunk;
			}
		}
		nrsp += netif_rx_responses(reqs, nr_slots, &meta,
					   q->rx.rsps + nrsp);
		q->rx.used_reqs += nr_slots;
		/* Small frames go back to the batched reads (rx_process). */
		if (len <= NETIF_PAGE_BYTES)
			q->rx.direct = false;
		delivered++;
		bytes += len;
		gso_delivered += meta.has_gso;
	}
	if (!delivered)
		return unmappable ? -1 : 0;
	rx_publish(q, nrsp, delivered, gso_delivered, bytes);
	stat_add(&vif->stats->rx_mapped_packets, delivered);
	return (int)delivered;
}

int rx_process(struct vif_queue *q)
{
	struct vif *vif = q->vif;
	int n = pvio_back_take_requests(&q->rx_ring, q->rx.reqs + q->rx.nr_reqs,
					NETBACK_RX_RING_SLOTS - q->rx.nr_reqs);
	if (n < 0) {
		vif_disable_ring(q, "RX", &q->rx_ring);
		return -1;
	}
	q->rx.nr_reqs += (unsigned)n;

	if (q->rx.persistent && q->rx.direct && !q->rx.nr_pending &&
	    q->tap_readable) {
		int direct = rx_direct(q);
		if (direct >= 0)
			return direct;
	}

	/* Frames already read come first; new ones only once they all
	 * went, and no more than there are buffers for (one each at
	 * least) and room in the arena. */
	unsigned avail = q->rx.nr_reqs - q->rx.used_reqs;
	if (!q->rx.nr_pending && q->tap_readable && !avail) {
		/* A frame waits in the TAP and the frontend posted nothing:
		 * counted once per wait, as one read and found short. */
		if (!q->rx.waiting)
			stat_add(&vif->stats->rx_ring_full, 1);
		q->rx.waiting = true;
		return 0;
	}
	if (!q->rx.nr_pending && avail && q->rx.waiting)
		q->rx.waiting = false;
	if (!q->rx.nr_pending && q->tap_readable && avail) {
		unsigned max = NETBACK_RX_BATCH;
		if (max > avail)
			max = avail;
		if (max)
			q->rx.nr_pending = rx_read_frames(q, max);
	}
	if (!q->rx.nr_pending)
		return 0;

	unsigned nframes = 0, nsegs = 0;
	while (nframes < q->rx.nr_pending &&
	       q->rx.nr_reqs - q->rx.used_reqs >=
		       q->rx.frames[nframes].nr_slots)
		rx_assign(q, &q->rx.frames[nframes++], &nsegs);
	/* Counted once per wait, however many passes it lasts. */
	bool short_of_buffers = nframes < q->rx.nr_pending;
	if (short_of_buffers && !q->rx.waiting)
		stat_add(&vif->stats->rx_ring_full, 1);
	q->rx.waiting = short_of_buffers;
	if (nframes == 0)
		return 0;

	if (nsegs) {
		stat_add(&vif->stats->syscalls, 1);
		int rc = pvio_gnttab_copy(q->gnttab, nsegs, q->rx.segs);
		for (unsigned i = 0; i < nsegs && rc < 0; i++)
			q->rx.segs[i].status = GNTST_general_error;
	}
	unsigned nrsp = 0;
	uint64_t bytes = 0, delivered = 0, gso_delivered = 0;
	for (unsigned i = 0; i < nframes; i++) {
		struct rx_frame *f = &q->rx.frames[i];
		const pvio_gnt_copy_seg_t *bad = NULL;
		for (unsigned s = 0; s < f->nr_slots && !bad; s++)
			if (q->rx.segs[f->first_seg + s].status != GNTST_okay)
				bad = &q->rx.segs[f->first_seg + s];
		if (bad) {
			char detail[128];
			snprintf(detail, sizeof(detail), "gref %u: %s",
				 bad->dest.foreign.ref,
				 pvio_gnt_status_str(bad->status));
			rx_drop(vif, NETIF_RX_DROP_GRANT, &q->rx.logged_grant,
				f->len, detail);
			nrsp += rx_error_responses(q->rx.reqs + f->first_req,
						   f->nr_slots,
						   q->rx.rsps + nrsp);
			continue;
		}
		nrsp += netif_rx_responses(q->rx.reqs + f->first_req,
					   f->nr_slots, &f->meta,
					   q->rx.rsps + nrsp);
		bytes += f->len;
		delivered++;
		gso_delivered += f->meta.has_gso;
	}
	rx_publish(q, nrsp, delivered, gso_delivered, bytes);

	/* Frames still waiting move to the arena's start, in order. */
	q->rx.nr_pending -= nframes;
	q->rx.arena_used = 0;
	for (unsigned i = 0; i < q->rx.nr_pending; i++) {
		struct rx_frame *f = &q->rx.frames[nframes + i];
		uint8_t *dst = q->rx.arena + q->rx.arena_used;
		memmove(dst, f->data, f->len);
		f->data = dst;
		q->rx.frames[i] = *f;
		q->rx.arena_used += RX_ALIGN(f->len);
	}
	return (int)nframes;
}
