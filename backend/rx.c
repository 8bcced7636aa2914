/*
 * RX: bridge to guest. One pass takes the buffers the frontend posted
 * (private copies), reads frames from the TAP while there are buffers for
 * them (up to NETBACK_RX_BATCH), copies them all into the posted pages
 * with one grant copy (rx-copy), and answers each buffer in its request's
 * slot with one push for the batch. A frame that finds too few buffers is
 * held, and the TAP is not read until the frontend posts more: the kernel
 * queues meanwhile.
 */
#include "config.h"

#include "netback.h"

#include <endian.h>
#include <linux/if_ether.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* A batch's frames, each at a 64-byte boundary, with room to read one
 * more of the largest size. */
#define RX_ARENA_BYTES ((size_t)1 << 20)
#define RX_READ_ROOM   ((size_t)NETBACK_MAX_FRAME + 64)
#define RX_ALIGN(n)    (((n) + 63u) & ~(size_t)63u)

int rx_init(struct vif_queue *q)
{
	q->rx.arena_size = RX_ARENA_BYTES + RX_READ_ROOM;
	q->rx.arena = malloc(q->rx.arena_size);
	return q->rx.arena ? 0 : -ENOMEM;
}

void rx_fini(struct vif_queue *q)
{
	free(q->rx.arena);
	q->rx.arena = NULL;
}

bool rx_wants_tap(struct vif *vif)
{
	struct vif_queue *q = vif->q;
	if (q->rx.held)
		return false;
	return q->rx.nr_reqs > q->rx.used_reqs ||
	       __atomic_load_n(&q->rx_ring.sring->req_prod, __ATOMIC_ACQUIRE) !=
		       q->rx_ring.req_cons;
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

/*
 * What the frontend is told about a frame the TAP gave with vnet: a blank
 * checksum goes to a frontend that takes checksum offload for the
 * protocol, and is filled here for one that does not. Returns false when
 * the frame is dropped (counted).
 */
static bool rx_prepare(struct vif *vif, const struct virtio_net_hdr *vnet,
		       uint8_t *data, uint32_t len, struct netif_rx_meta *meta)
{
	struct vif_queue *q = vif->q;
	const struct netif_features *feat = &vif->conn.features;
	memset(meta, 0, sizeof(*meta));
	meta->size = len;
	if (vnet->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		/* No TSO offload is set on the TAP: not expected. */
		rx_drop(vif, NETIF_RX_DROP_TOO_BIG, &q->rx.logged_big, len,
			"GSO frame from the TAP");
		return false;
	}
	if (vnet->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		unsigned type = ethertype(data, len);
		if ((type == ETH_P_IP && feat->ipv4_csum) ||
		    (type == ETH_P_IPV6 && feat->ipv6_csum)) {
			meta->csum_blank = true;
		} else if (netif_checksum_fill(
				   data, len, le16toh(vnet->csum_start),
				   le16toh(vnet->csum_offset)) < 0) {
			rx_drop(vif, NETIF_RX_DROP_CSUM, &q->rx.logged_csum,
				len, "checksum position outside the frame");
			return false;
		}
		meta->data_validated = true;
	} else if (vnet->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		meta->data_validated = true;
	}
	return true;
}

/* Gives frame f the next f->nr_slots posted buffers: one segment each. */
static void rx_assign(struct vif *vif, struct rx_frame *f, unsigned *nsegs)
{
	struct vif_queue *q = vif->q;
	f->first_req = q->rx.used_reqs;
	f->first_seg = *nsegs;
	uint32_t left = f->len;
	for (unsigned i = 0; i < f->nr_slots; i++) {
		const netif_rx_request_t *req =
			&q->rx.reqs[q->rx.used_reqs + i];
		pvio_gnt_copy_seg_t *s = &q->rx.segs[(*nsegs)++];
		uint32_t chunk =
			left < NETIF_PAGE_BYTES ? left : NETIF_PAGE_BYTES;
		s->source.virt = f->data + (size_t)i * NETIF_PAGE_BYTES;
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

/* Reads one frame into the arena. Returns 1 with *f filled, 0 when the
 * frame was dropped, -1 when the TAP has nothing more. */
static int rx_read_frame(struct vif *vif, struct rx_frame *f,
			 struct virtio_net_hdr *vnet)
{
	struct vif_queue *q = vif->q;
	uint8_t *data = q->rx.arena + q->rx.arena_used;
	struct iovec iov[2] = {{vnet, sizeof(*vnet)},
			       {data, NETBACK_MAX_FRAME}};
	stat_add(&vif->stats->syscalls, 1);
	ssize_t r = readv(vif->tap_fd, iov, 2);
	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR)
			vif_log(vif, "reading the TAP: %s", strerror(errno));
		q->tap_readable = false;
		return -1;
	}
	if ((size_t)r <= sizeof(*vnet))
		return 0;
	uint32_t len = (uint32_t)((size_t)r - sizeof(*vnet));
	if (!rx_prepare(vif, vnet, data, len, &f->meta))
		return 0;
	f->nr_slots = netif_rx_slots_needed(len, false, &vif->conn.features);
	if (!f->nr_slots) {
		rx_drop(vif, NETIF_RX_DROP_TOO_BIG, &q->rx.logged_big, len,
			vif->conn.features.sg ? "more than the slots allowed"
					      : "frontend has no feature-sg");
		return 0;
	}
	f->data = data;
	f->len = len;
	q->rx.arena_used += RX_ALIGN(len);
	return 1;
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

int rx_process(struct vif *vif)
{
	struct vif_queue *q = vif->q;
	int n = pvio_back_take_requests(&q->rx_ring, q->rx.reqs + q->rx.nr_reqs,
					NETBACK_RX_RING_SLOTS - q->rx.nr_reqs);
	if (n < 0) {
		vif_disable(vif,
			    "RX ring: request producer %u is more than a ring "
			    "ahead of the responses (%u) or behind the "
			    "requests taken (%u)",
			    q->rx_ring.sring->req_prod, q->rx_ring.rsp_prod_pvt,
			    q->rx_ring.req_cons);
		return -1;
	}
	q->rx.nr_reqs += (unsigned)n;

	unsigned nframes = 0, nsegs = 0;
	q->rx.arena_used = 0;
	if (q->rx.held) {
		struct rx_frame *f = &q->rx.frames[0];
		if (q->rx.nr_reqs - q->rx.used_reqs < f->nr_slots)
			return 0; /* still too few buffers */
		q->rx.held = false;
		q->rx.arena_used = RX_ALIGN(f->len);
		rx_assign(vif, f, &nsegs);
		nframes = 1;
	}
	/* Reads, dropped frames included, are bounded too. */
	for (unsigned reads = 0;
	     reads < 2 * NETBACK_RX_BATCH && q->tap_readable &&
	     nframes < NETBACK_RX_BATCH &&
	     q->rx.arena_size - q->rx.arena_used >= RX_READ_ROOM &&
	     q->rx.nr_reqs > q->rx.used_reqs;
	     reads++) {
		struct rx_frame *f = &q->rx.frames[nframes];
		int got = rx_read_frame(vif, f, &q->rx.vnet[nframes]);
		if (got < 0)
			break;
		if (got == 0)
			continue;
		if (q->rx.nr_reqs - q->rx.used_reqs < f->nr_slots) {
			q->rx.held = true; /* frames[nframes], not in batch */
			stat_add(&vif->stats->rx_ring_full, 1);
			break;
		}
		rx_assign(vif, f, &nsegs);
		nframes++;
	}
	if (nframes == 0) {
		if (q->rx.held)
			goto keep_held;
		return 0;
	}

	if (nsegs) {
		stat_add(&vif->stats->syscalls, 1);
		int rc = pvio_gnttab_copy(q->gnttab, nsegs, q->rx.segs);
		for (unsigned i = 0; i < nsegs && rc < 0; i++)
			q->rx.segs[i].status = GNTST_general_error;
	}
	unsigned nrsp = 0;
	uint64_t bytes = 0, delivered = 0;
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
	}
	/* Responses go in the slots of the requests they answer: requests
	 * are used, and answered, in ring order. */
	pvio_back_put_responses(&q->rx_ring, q->rx.rsps, nrsp);
	if (pvio_back_push_responses(&q->rx_ring))
		q->need_notify = true;
	stat_add(&vif->stats->rx_packets, delivered);
	stat_add(&vif->stats->rx_bytes, bytes);
	stat_add(&vif->stats->rx_batches, 1);

	q->rx.nr_reqs -= q->rx.used_reqs;
	memmove(q->rx.reqs, q->rx.reqs + q->rx.used_reqs,
		q->rx.nr_reqs * sizeof(q->rx.reqs[0]));
	q->rx.used_reqs = 0;
keep_held:
	if (q->rx.held && nframes) {
		/* The held frame waits at the arena's start, as frames[0]. */
		struct rx_frame *h = &q->rx.frames[nframes];
		memmove(q->rx.arena, h->data, h->len);
		q->rx.frames[0] = *h;
		q->rx.frames[0].data = q->rx.arena;
	} else if (q->rx.held) {
		struct rx_frame *h = &q->rx.frames[0];
		if (h->data != q->rx.arena) {
			memmove(q->rx.arena, h->data, h->len);
			h->data = q->rx.arena;
		}
	}
	return (int)nframes;
}
