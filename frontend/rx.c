/*
 * RX: every ring slot i is posted with pool page i (granted writable); the
 * backend copies a frame into the posted pages; responses (private copies)
 * are parsed by netif_rx_parse, and the frame goes to the TAP with one
 * writev straight from the pages. The slot position, never the id the
 * backend wrote, finds the page, and a page is posted again only once its
 * frame was written, so a response cannot make a buffer in flight reused.
 */
#include "config.h"

#include "netfront.h"
#include "pvio_tap.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define RX_MASK (NF_RING_SLOTS - 1)

void nf_rx_post(struct nf_conn *c)
{
	RING_IDX prod = c->rx.req_prod_pvt;
	unsigned n = 0;
	/* Request index p carries page p & mask: free once every response
	 * before p - ring size was processed. */
	while ((RING_IDX)(prod + n - c->rx_done) < NF_RING_SLOTS) {
		netif_rx_request_t *req = pvio_front_request_slot(&c->rx, n);
		if (!req)
			break;
		unsigned slot = (prod + n) & RX_MASK;
		req->id = (uint16_t)slot;
		req->gref = c->rx_gref[slot];
		n++;
	}
	if (!n)
		return;
	pvio_front_produce_requests(&c->rx, n);
	if (pvio_front_push_requests(&c->rx))
		nf_conn_notify(c);
}

/* One fragment's bytes in its page, bounded whatever netif said. */
static uint8_t *frag_data(const struct nf_conn *c, RING_IDX first,
			  const struct netif_rx_packet *pkt, unsigned i)
{
	unsigned offset = pkt->frags[i].offset, len = pkt->frags[i].len;
	if (offset + len > NETIF_PAGE_BYTES)
		return NULL;
	return nf_rx_page(c, (first + pkt->frags[i].slot) & RX_MASK) + offset;
}

/*
 * The frame as one run of bytes in the pool when it is one (every page
 * but the last full from offset 0, in consecutive slots that do not wrap
 * the pool), as a backend that fills pages in order delivers it; NULL
 * otherwise.
 */
static const uint8_t *contiguous_frame(const struct nf_conn *c, RING_IDX first,
				       const struct netif_rx_packet *pkt)
{
	const uint8_t *start = frag_data(c, first, pkt, 0);
	const uint8_t *next = start;
	for (unsigned i = 0; i < pkt->nr_frags; i++) {
		const uint8_t *data = frag_data(c, first, pkt, i);
		if (data != next || (i + 1 < pkt->nr_frags &&
				     pkt->frags[i].offset + pkt->frags[i].len !=
					     NETIF_PAGE_BYTES))
			return NULL;
		next = data + pkt->frags[i].len;
	}
	return start;
}

/* Write one parsed packet whose first response was at ring index first. */
static void rx_deliver(struct nf_conn *c, const struct netif_rx_packet *pkt,
		       RING_IDX first)
{
	struct iovec iov[XEN_NETIF_NR_SLOTS_MIN + 1];
	struct virtio_net_hdr vnet;
	size_t size = 0;

	for (unsigned i = 0; i < pkt->nr_frags; i++) {
		if (!frag_data(c, first, pkt, i)) {
			c->stats.rx_dropped++;
			return;
		}
		size += pkt->frags[i].len;
	}
	/* A GSO packet's checksum is blank whatever the flags say. */
	bool csum_blank = (pkt->flags & NETRXF_csum_blank) || pkt->has_gso;
	bool validated = pkt->flags & NETRXF_data_validated;
	uint8_t gso_type =
		pkt->has_gso ? pkt->gso_type : XEN_NETIF_GSO_TYPE_NONE;
	const uint8_t *frame = contiguous_frame(c, first, pkt);
	const uint8_t *head = frag_data(c, first, pkt, 0);
	size_t head_len = pkt->frags[0].len;
	/* The checksum's place is parsed from the headers in the first
	 * piece: in place when the backend is trusted, else from a private
	 * copy of that piece, which is then what gets written (the rest is
	 * payload, written from the pages). Headers that go past the first
	 * piece are parsed from a copy of the whole frame. */
	bool head_copied = false, copied = false;
	int err = 0;
	if (csum_blank) {
		if (!c->vif->trusted) {
			memcpy(c->rx_scratch, head, head_len);
			head = c->rx_scratch;
			head_copied = true;
		}
		err = netif_vnet_for_packet(true, validated, gso_type,
					    pkt->gso_size, head, head_len, size,
					    &vnet);
		if (err == -EINVAL && pkt->nr_frags > 1) {
			size_t at = 0;
			for (unsigned i = 0; i < pkt->nr_frags; i++) {
				memcpy(c->rx_scratch + at,
				       frag_data(c, first, pkt, i),
				       pkt->frags[i].len);
				at += pkt->frags[i].len;
			}
			copied = true;
			err = netif_vnet_for_packet(
				true, validated, gso_type, pkt->gso_size,
				c->rx_scratch, size, size, &vnet);
		}
	} else {
		netif_vnet_for_packet(false, validated, XEN_NETIF_GSO_TYPE_NONE,
				      0, NULL, 0, 0, &vnet);
	}
	if (err) {
		c->stats.rx_dropped++;
		nf_conn_complain(c, NF_C_RX_VNET,
				 "an RX frame of %zu bytes with a blank "
				 "checksum that cannot be set up (%s) was "
				 "dropped",
				 size, strerror(-err));
		return;
	}

	unsigned n = 0;
	iov[n].iov_base = &vnet;
	iov[n++].iov_len = sizeof(vnet);
	if (copied) {
		iov[n].iov_base = c->rx_scratch;
		iov[n++].iov_len = size;
	} else if (frame && !head_copied) {
		iov[n].iov_base = (void *)frame;
		iov[n++].iov_len = size;
	} else {
		iov[n].iov_base = (void *)head;
		iov[n++].iov_len = head_len;
		for (unsigned i = 1; i < pkt->nr_frags; i++) {
			iov[n].iov_base = frag_data(c, first, pkt, i);
			iov[n++].iov_len = pkt->frags[i].len;
		}
	}
	ssize_t put;
	do
		put = writev(c->vif->tap_fd, iov, (int)n);
	while (put < 0 && errno == EINTR);
	if (put < 0) {
		c->stats.rx_dropped++;
		nf_conn_complain(c, NF_C_RX_TAP,
				 "%s refused a %zu-byte frame%s: %s",
				 c->vif->ifname, size,
				 copied	       ? " (copied)"
				 : head_copied ? " (headers copied)"
					       : "",
				 strerror(errno));
		return;
	}
	c->stats.rx_packets++;
	c->stats.rx_bytes += size;
}

int nf_rx_process(struct nf_conn *c)
{
	int n = pvio_front_take_responses(&c->rx,
					  c->rx_pending + c->rx_npending,
					  NF_RX_PENDING_MAX - c->rx_npending);
	if (n < 0) {
		nf_conn_fail(c,
			     "RX ring: the backend produced responses to "
			     "requests never posted (rsp_prod %u, %u posted)",
			     c->rx.sring->rsp_prod, c->rx.req_pushed);
		return -1;
	}
	c->rx_npending += (unsigned)n;

	unsigned pos = 0, packets = 0;
	while (pos < c->rx_npending) {
		unsigned avail = c->rx_npending - pos;
		struct netif_rx_packet pkt;
		enum netif_rx_reason why = netif_rx_parse(
			c->rx_pending + pos, avail, &c->features, &pkt);
		if (why == NETIF_RX_INCOMPLETE) {
			/* The rest of the packet is still to come; netif
			 * refuses packets longer than it could ever be. */
			if (avail > XEN_NETIF_NR_SLOTS_MIN + NETIF_MAX_EXTRAS) {
				nf_conn_fail(c,
					     "RX ring: a packet of more than "
					     "%u slots never ends",
					     avail);
				return -1;
			}
			break;
		}
		if (pkt.nr_slots == 0 || pkt.nr_slots > avail) {
			nf_conn_fail(c,
				     "RX ring: a packet at ring index %u "
				     "(%s) takes %u of %u responses",
				     c->rx_done + pos, netif_rx_reason_str(why),
				     pkt.nr_slots, avail);
			return -1;
		}
		if (why == NETIF_RX_OK) {
			rx_deliver(c, &pkt, c->rx_done + pos);
		} else if (why == NETIF_RX_STATUS_ERROR) {
			c->stats.rx_errors++;
		} else {
			c->stats.rx_dropped++;
			nf_conn_complain(c, NF_C_RX_PARSE,
					 "RX packet at ring index %u dropped: "
					 "%s (slot %u)",
					 c->rx_done + pos,
					 netif_rx_reason_str(why),
					 pkt.bad_slot);
		}
		pos += pkt.nr_slots;
		packets++;
	}
	if (pos) {
		c->rx_npending -= pos;
		memmove(c->rx_pending, c->rx_pending + pos,
			c->rx_npending * sizeof(c->rx_pending[0]));
		c->rx_done += pos;
		c->stats.rx_batches++;
		nf_rx_post(c);
	}
	return (int)packets + (n > 0 && !packets);
}
