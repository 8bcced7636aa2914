/*
 * TX: frames from the TAP straight into pool pages granted read-only to
 * the backend (one readv per frame: the vnet header, the pages, an
 * overflow buffer), requests built in the ring, one push and at most one
 * notification per batch. Responses give the pages back by id, and an id
 * that is not outstanding is a broken backend.
 */
#include "config.h"

#include "netfront.h"
#include "pvio_tap.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Room for the largest frame: its pages, and a GSO extra's ring slot
 * where the backend takes GSO. */
static bool tx_room(const struct nf_conn *c)
{
	unsigned extra =
		netif_gso_usable(&c->tx_features, XEN_NETIF_GSO_TYPE_TCPV4) ||
		netif_gso_usable(&c->tx_features, XEN_NETIF_GSO_TYPE_TCPV6);
	return c->tx_nfree >= c->tx_frame_pages &&
	       pvio_front_free_requests(&c->tx) >= c->tx_frame_pages + extra;
}

int nf_tx_reap(struct nf_conn *c)
{
	netif_tx_response_t rsps[NF_RING_SLOTS];
	int n = pvio_front_take_responses(&c->tx, rsps, NF_RING_SLOTS);
	if (n < 0) {
		nf_conn_fail(c,
			     "TX ring: the backend produced responses to "
			     "requests never sent (rsp_prod %u, %u sent)",
			     c->tx.sring->rsp_prod, c->tx.req_pushed);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		/* An extra slot's answer (a GSO packet's second slot): it
		 * names no page, its id is whatever the slot held. */
		if (rsps[i].status == NETIF_RSP_NULL)
			continue;
		uint16_t id = rsps[i].id;
		/* XSA-403: a response must name a request in flight, or the
		 * page would go back to the pool twice and be reused while
		 * the backend may still read it. */
		if (id >= NF_RING_SLOTS || !c->tx_outstanding[id]) {
			nf_conn_fail(c,
				     "TX response at ring index %u carries id "
				     "%u, which is not outstanding",
				     c->tx.rsp_cons - (unsigned)n + (unsigned)i,
				     id);
			return -1;
		}
		c->tx_outstanding[id] = false;
		c->tx_free[c->tx_nfree++] = id;
		if (rsps[i].status != NETIF_RSP_OKAY) {
			c->stats.tx_errors++;
			nf_conn_complain(c, NF_C_TX_STATUS,
					 "TX response for id %u has status %d",
					 id, rsps[i].status);
		}
	}
	if (c->tx_blocked && tx_room(c))
		c->tx_blocked = false;
	return n;
}

static uint16_t frame_ethertype(const uint8_t *frame, size_t len)
{
	size_t at = 12;
	uint16_t type = (uint16_t)(frame[at] << 8 | frame[at + 1]);
	if ((type == 0x8100 || type == 0x88a8) && len >= 18) {
		at += 4;
		type = (uint16_t)(frame[at] << 8 | frame[at + 1]);
	}
	return type;
}

/*
 * A partial checksum the backend did not agree to fill (IPv6 without
 * feature-ipv6-csum-offload, IPv4 with feature-no-csum-offload): filled
 * here, in the pages the frame was read into. False: it cannot be (its
 * place lies outside the frame), drop it.
 */
static bool tx_checksum(struct nf_conn *c, const struct virtio_net_hdr *vnet,
			const uint16_t *ids, size_t len, uint16_t *flags)
{
	const uint8_t *frame = nf_tx_page(c, ids[0]);
	uint16_t type = frame_ethertype(frame, len);
	if ((type == 0x0800 && c->tx_features.ipv4_csum) ||
	    (type == 0x86dd && c->tx_features.ipv6_csum))
		return true;
	struct iovec iov[NF_TX_MAX_FRAME_PAGES];
	unsigned n = 0;
	for (size_t at = 0; at < len; at += NETIF_PAGE_BYTES, n++) {
		iov[n].iov_base = nf_tx_page(c, ids[n]);
		iov[n].iov_len = len - at < NETIF_PAGE_BYTES ? len - at
							     : NETIF_PAGE_BYTES;
	}
	if (netif_checksum_fill_iov(iov, n, len, vnet->csum_start,
				    vnet->csum_offset)) {
		nf_conn_complain(c, NF_C_TX_CSUM,
				 "a %zu-byte frame (ethertype 0x%04x) with a "
				 "partial checksum outside it was dropped",
				 len, type);
		return false;
	}
	*flags &= (uint16_t)~NETTXF_csum_blank;
	return true;
}

/* Validate one frame read into the pages at ids; fill reqs. Returns the
 * ring slots it takes (a GSO extra's included), 0 to drop it. */
static unsigned tx_frame(struct nf_conn *c, ssize_t got,
			 const struct virtio_net_hdr *vnet, const uint16_t *ids,
			 netif_tx_request_t *reqs)
{
	size_t capacity = (size_t)c->tx_frame_pages * NETIF_PAGE_BYTES;
	if (got < (ssize_t)PVIO_TAP_VNET_HDR_BYTES)
		return 0;
	size_t len = (size_t)got - PVIO_TAP_VNET_HDR_BYTES;
	if (len > capacity || len > XEN_NETIF_MAX_TX_SIZE) {
		nf_conn_complain(c, NF_C_TX_FRAME,
				 "a frame of %zu bytes or more from %s was "
				 "dropped: the ring takes %zu (MTU above what "
				 "the backend's features allow?)",
				 len, c->vif->ifname,
				 capacity < XEN_NETIF_MAX_TX_SIZE
					 ? capacity
					 : (size_t)XEN_NETIF_MAX_TX_SIZE);
		return 0;
	}
	if (len < NETIF_ETH_HLEN)
		return 0;
	uint16_t flags, gso_size;
	uint8_t gso_type;
	int err = netif_vnet_to_tx(vnet, &flags, &gso_type, &gso_size);
	if (!err && gso_type != XEN_NETIF_GSO_TYPE_NONE &&
	    !netif_gso_usable(&c->tx_features, gso_type))
		err = -EOPNOTSUPP;
	if (err) {
		nf_conn_complain(c, NF_C_TX_FRAME,
				 "a GSO frame (gso_type %u, gso_size %u) from "
				 "%s was dropped: %s",
				 vnet->gso_type, vnet->gso_size, c->vif->ifname,
				 err == -EINVAL
					 ? "no MSS"
					 : "the backend takes no GSO of it");
		return 0;
	}
	if (gso_type == XEN_NETIF_GSO_TYPE_NONE &&
	    (flags & NETTXF_csum_blank) &&
	    !tx_checksum(c, vnet, ids, len, &flags))
		return 0;
	struct netif_tx_frag frags[NF_TX_MAX_FRAME_PAGES];
	unsigned nr =
		(unsigned)((len + NETIF_PAGE_BYTES - 1) / NETIF_PAGE_BYTES);
	size_t left = len;
	for (unsigned i = 0; i < nr; i++) {
		frags[i].gref = c->tx_gref[ids[i]];
		frags[i].offset = 0;
		frags[i].size =
			(uint16_t)(left < NETIF_PAGE_BYTES ? left
							   : NETIF_PAGE_BYTES);
		left -= frags[i].size;
	}
	return netif_tx_build_gso((uint32_t)len, frags, nr, ids, flags,
				  gso_type, gso_size, reqs);
}

int nf_tx_from_tap(struct nf_conn *c)
{
	struct virtio_net_hdr vnet;
	struct iovec iov[NF_TX_MAX_FRAME_PAGES + 2];
	uint16_t ids[NF_TX_MAX_FRAME_PAGES];
	netif_tx_request_t reqs[NF_TX_MAX_FRAME_PAGES + 1];
	const unsigned pages = c->tx_frame_pages;
	unsigned frames = 0, sent = 0;

	iov[0].iov_base = &vnet;
	iov[0].iov_len = sizeof(vnet);
	iov[pages + 1].iov_base = c->tx_overflow;
	iov[pages + 1].iov_len = sizeof(c->tx_overflow);
	while (frames < NF_TX_BATCH) {
		if (!tx_room(c)) {
			c->tx_blocked = true;
			break;
		}
		/* Offer the top of the free stack; only the pages the frame
		 * filled leave it. */
		for (unsigned i = 0; i < pages; i++) {
			ids[i] = c->tx_free[c->tx_nfree - 1 - i];
			iov[i + 1].iov_base = nf_tx_page(c, ids[i]);
			iov[i + 1].iov_len = NETIF_PAGE_BYTES;
		}
		ssize_t got = readv(c->vif->tap_fd, iov, (int)pages + 2);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				nf_conn_complain(
					c, NF_C_TAP_READ, "reading %s: %s",
					c->vif->ifname, strerror(errno));
			c->tap_pending = false;
			break;
		}
		frames++;
		unsigned nr = tx_frame(c, got, &vnet, ids, reqs);
		if (!nr) {
			c->stats.tx_dropped++;
			continue;
		}
		pvio_front_put_requests(&c->tx, reqs, nr);
		/* The pages: one per data slot (a GSO extra has none). */
		unsigned npages =
			reqs[0].flags & NETTXF_extra_info ? nr - 1 : nr;
		for (unsigned i = 0; i < npages; i++)
			c->tx_outstanding[ids[i]] = true;
		c->tx_nfree -= npages;
		c->stats.tx_packets++;
		c->stats.tx_bytes += (size_t)got - PVIO_TAP_VNET_HDR_BYTES;
		sent++;
	}
	if (sent) {
		c->stats.tx_batches++;
		if (pvio_front_push_requests(&c->tx))
			nf_conn_notify(c);
	}
	return (int)frames;
}
