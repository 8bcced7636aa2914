/*
 * A connection's rings and buffer pools in their first state (see
 * nf_conn_rings_init in netfront.h). The pages come from the caller:
 * granted ones in pvio-netfront, private ones in the unit tests.
 */
#include "config.h"

#include "netfront.h"

#include <errno.h>
#include <stdio.h>

int nf_conn_rings_init(struct nf_conn *c, char *why, size_t why_size)
{
	struct pvio_ring_layout tx, rx;
	if (pvio_ring_layout_init(&tx, NETIF_PAGE_BYTES,
				  sizeof(netif_tx_request_t),
				  sizeof(netif_tx_response_t),
				  sizeof(union netif_tx_sring_entry)) ||
	    pvio_ring_layout_init(&rx, NETIF_PAGE_BYTES,
				  sizeof(netif_rx_request_t),
				  sizeof(netif_rx_response_t),
				  sizeof(union netif_rx_sring_entry)) ||
	    tx.nr_slots != NF_RING_SLOTS || rx.nr_slots != NF_RING_SLOTS) {
		snprintf(why, why_size, "netif rings are not %u slots a page",
			 NF_RING_SLOTS);
		return -EINVAL;
	}
	pvio_sring_init(c->tx_sring, NETIF_PAGE_BYTES);
	pvio_sring_init(c->rx_sring, NETIF_PAGE_BYTES);
	pvio_front_ring_attach(&c->tx, c->tx_sring, &tx, 0);
	pvio_front_ring_attach(&c->rx, c->rx_sring, &rx, 0);
	/* Popped from the top: id 0 first. */
	for (unsigned i = 0; i < NF_RING_SLOTS; i++) {
		c->tx_free[i] = (uint16_t)(NF_RING_SLOTS - 1 - i);
		c->tx_outstanding[i] = false;
	}
	c->tx_nfree = NF_RING_SLOTS;
	c->tx_blocked = false;
	c->tx_frame_pages = c->tx_features.sg ? NF_TX_MAX_FRAME_PAGES : 1;
	c->rx_done = 0;
	c->rx_npending = 0;
	return 0;
}
