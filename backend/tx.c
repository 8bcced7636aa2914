/*
 * TX: guest to bridge. One pass takes every request the frontend
 * published (private copies: XSA-155), parses them into packets with
 * netif_tx_parse, fetches the data of every accepted packet with one grant
 * copy, writes each frame to the TAP with its virtio-net header, and
 * answers the whole batch with one push (and at most one notification,
 * shared with RX by the worker loop).
 */
#include "config.h"

#include "netback.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* One ring's worth of data (each slot carries at most a page). */
#define TX_STAGING_BYTES ((size_t)NETBACK_TX_RING_SLOTS * NETIF_PAGE_BYTES)

int tx_init(struct vif_queue *q)
{
	q->tx.staging_size = TX_STAGING_BYTES;
	q->tx.staging = malloc(q->tx.staging_size);
	return q->tx.staging ? 0 : -ENOMEM;
}

void tx_fini(struct vif_queue *q)
{
	free(q->tx.staging);
	q->tx.staging = NULL;
}

/* A packet the vif keeps (ERROR, DROP): counted, and logged once per
 * reason per connection, since the frontend can repeat it at will. */
static void tx_refuse(struct vif *vif, const struct netif_tx_packet *pkt,
		      enum netif_tx_reason reason, RING_IDX idx)
{
	struct vif_queue *q = vif->q;
	stat_add(&vif->stats->tx_drops[reason], 1);
	if (q->tx.logged_reasons & (1u << reason))
		return;
	q->tx.logged_reasons |= 1u << reason;
	vif_log(vif,
		"TX packet at ring index %u refused: %s (size %u, %u data "
		"slots); further ones are only counted",
		idx, netif_tx_reason_str(reason), pkt->size, pkt->nr_frags);
}

static void tx_disable(struct vif *vif, const netif_tx_request_t *first,
		       const struct netif_tx_packet *pkt,
		       enum netif_tx_reason reason, RING_IDX idx)
{
	const netif_tx_request_t *bad = &first[pkt->bad_slot];
	stat_add(&vif->stats->tx_drops[reason], 1);
	vif_disable(vif,
		    "TX packet at ring index %u: %s: slot %u (index %u) has "
		    "gref %u offset %u size %u flags %#x id %u (packet size "
		    "%u)",
		    idx, netif_tx_reason_str(reason), pkt->bad_slot,
		    idx + pkt->bad_slot, bad->gref, bad->offset, bad->size,
		    bad->flags, bad->id, first->size);
}

/* Grant copy segments for an accepted packet: one per non-empty slot, into
 * consecutive bytes of the staging area. */
static unsigned tx_add_segments(struct vif_queue *q, domid_t dom,
				const struct netif_tx_packet *pkt,
				uint8_t *data, pvio_gnt_copy_seg_t *segs)
{
	unsigned n = 0;
	uint32_t pos = 0;
	for (unsigned i = 0; i < pkt->nr_frags; i++) {
		const struct netif_tx_frag *f = &pkt->frags[i];
		if (!f->size)
			continue; /* legal in a later slot; nothing to copy */
		pvio_gnt_copy_seg_t *s = &segs[n++];
		s->source.foreign.ref = f->gref;
		s->source.foreign.offset = f->offset;
		s->source.foreign.domid = dom;
		s->dest.virt = data + pos;
		s->len = f->size;
		s->flags = GNTCOPY_source_gref;
		s->status = GNTST_okay;
		pos += f->size;
	}
	(void)q;
	return n;
}

/* Writes one fetched frame to the TAP. */
static void tx_write_frame(struct vif *vif, struct tx_slot_state *ps)
{
	struct vif_queue *q = vif->q;
	const struct netif_tx_packet *pkt = &ps->pkt;
	uint8_t *data = q->tx.staging + ps->data_off;
	struct virtio_net_hdr vnet;
	int rc = netif_vnet_for_frame(pkt->flags & NETTXF_csum_blank,
				      pkt->flags & NETTXF_data_validated, data,
				      pkt->size, &vnet);
	if (rc < 0) {
		/* A blank checksum nothing can fill: the frame would leave
		 * with a wrong one. */
		ps->status = NETIF_RSP_ERROR;
		stat_add(&vif->stats->tx_tap_errors, 1);
		if (!q->tx.logged_csum) {
			q->tx.logged_csum = true;
			vif_log(vif,
				"TX frame of %u bytes with a blank checksum "
				"that cannot be filled (%s); dropped, further "
				"ones are only counted",
				pkt->size,
				rc == -EPROTONOSUPPORT
					? "not TCP or UDP over IPv4 or IPv6"
					: "headers cut short");
		}
		return;
	}
	struct iovec iov[2] = {{&vnet, sizeof(vnet)}, {data, pkt->size}};
	stat_add(&vif->stats->syscalls, 1);
	if (writev(vif->tap_fd, iov, 2) < 0) {
		/* The guest's packet was fine: it is answered OKAY, as a
		 * frame the bridge drops would be. */
		stat_add(&vif->stats->tx_tap_errors, 1);
		/* EIO: the TAP is down, as it is until the hotplug script
		 * brings it up; the guest's early frames (neighbour
		 * discovery) meet it. Nothing is wrong. */
		if (errno == EIO) {
			nb_debug("%s: TAP down, %u-byte frame dropped",
				 vif->name, pkt->size);
			return;
		}
		if (!q->tx.logged_tap) {
			q->tx.logged_tap = true;
			vif_log(vif,
				"TAP refused a %u-byte frame: %s; further "
				"ones are only counted",
				pkt->size, strerror(errno));
		}
		return;
	}
	stat_add(&vif->stats->tx_packets, 1);
	stat_add(&vif->stats->tx_bytes, pkt->size);
}

int tx_process(struct vif *vif)
{
	struct vif_queue *q = vif->q;
	const struct netif_features *feat = &vif->conn.features;
	domid_t dom = (domid_t)vif->domid;

	int n = pvio_back_take_requests(&q->tx_ring, q->tx.reqs + q->tx.nr_reqs,
					NETBACK_TX_RING_SLOTS);
	if (n < 0) {
		vif_disable(vif,
			    "TX ring: request producer %u is more than a ring "
			    "ahead of the responses (%u) or behind the "
			    "requests taken (%u)",
			    q->tx_ring.sring->req_prod, q->tx_ring.rsp_prod_pvt,
			    q->tx_ring.req_cons);
		return -1;
	}
	if (n == 0)
		return 0;
	q->tx.nr_reqs += (unsigned)n;
	/* Ring index of reqs[0]. */
	RING_IDX base = q->tx_ring.req_cons - q->tx.nr_reqs;

	unsigned off = 0, npkts = 0, nsegs = 0;
	uint32_t staged = 0;
	while (off < q->tx.nr_reqs) {
		struct tx_slot_state *ps = &q->tx.pkts[npkts];
		enum netif_tx_reason reason = netif_tx_parse(
			q->tx.reqs + off, q->tx.nr_reqs - off, feat, &ps->pkt);
		enum netif_action action = netif_tx_action(reason);
		if (action == NETIF_INCOMPLETE)
			break; /* the rest of it is not published yet */
		if (action == NETIF_DISABLE) {
			tx_disable(vif, q->tx.reqs + off, &ps->pkt, reason,
				   base + off);
			return -1;
		}
		if (ps->pkt.nr_slots == 0) {
			/* Never from netif_tx_parse; a guard against
			 * looping on the same request forever. */
			vif_disable(vif,
				    "TX packet at ring index %u: parsed "
				    "into no slots",
				    base + off);
			return -1;
		}
		ps->first_req = off;
		/* A multicast filter change (only with the extras, not
		 * offered) carries no frame: answered, not forwarded. */
		ps->forward = action == NETIF_ACCEPT && ps->pkt.size > 0;
		ps->first_seg = nsegs;
		ps->nr_segs = 0;
		if (ps->forward) {
			ps->status = NETIF_RSP_OKAY;
			ps->data_off = staged;
			ps->nr_segs = tx_add_segments(q, dom, &ps->pkt,
						      q->tx.staging + staged,
						      q->tx.segs + nsegs);
			nsegs += ps->nr_segs;
			staged += ps->pkt.size;
		} else if (action == NETIF_ACCEPT) {
			ps->status = NETIF_RSP_OKAY;
		} else {
			ps->status = action == NETIF_DROP ? NETIF_RSP_DROPPED
							  : NETIF_RSP_ERROR;
			tx_refuse(vif, &ps->pkt, reason, base + off);
		}
		off += ps->pkt.nr_slots;
		npkts++;
	}
	if (npkts == 0)
		return 0;

	/* One grant copy for the whole batch. */
	if (nsegs) {
		stat_add(&vif->stats->syscalls, 1);
		int rc = pvio_gnttab_copy(q->gnttab, nsegs, q->tx.segs);
		for (unsigned i = 0; i < nsegs && rc < 0; i++)
			q->tx.segs[i].status = GNTST_general_error;
	}
	for (unsigned p = 0; p < npkts; p++) {
		struct tx_slot_state *ps = &q->tx.pkts[p];
		if (!ps->forward)
			continue;
		for (unsigned i = 0; i < ps->nr_segs; i++) {
			const pvio_gnt_copy_seg_t *s =
				&q->tx.segs[ps->first_seg + i];
			if (s->status == GNTST_okay)
				continue;
			ps->forward = false;
			ps->status = NETIF_RSP_ERROR;
			stat_add(&vif->stats->tx_grant_errors, 1);
			if (!q->tx.logged_grant) {
				q->tx.logged_grant = true;
				vif_log(vif,
					"TX grant copy from gref %u offset "
					"%u length %u failed: %s; further "
					"failures are only counted",
					s->source.foreign.ref,
					s->source.foreign.offset, s->len,
					pvio_gnt_status_str(s->status));
			}
			break;
		}
		if (ps->forward)
			tx_write_frame(vif, ps);
	}

	/* Responses for every packet of the batch, in ring order. */
	unsigned nrsp = 0;
	for (unsigned p = 0; p < npkts; p++) {
		struct tx_slot_state *ps = &q->tx.pkts[p];
		nrsp += netif_tx_responses(q->tx.reqs + ps->first_req, &ps->pkt,
					   ps->status, q->tx.rsps + nrsp);
	}
	pvio_back_put_responses(&q->tx_ring, q->tx.rsps, nrsp);
	if (pvio_back_push_responses(&q->tx_ring))
		q->need_notify = true;
	stat_add(&vif->stats->tx_batches, 1);

	/* Requests of a packet still incomplete wait for the rest. */
	q->tx.nr_reqs -= off;
	memmove(q->tx.reqs, q->tx.reqs + off,
		q->tx.nr_reqs * sizeof(q->tx.reqs[0]));
	return (int)npkts;
}
