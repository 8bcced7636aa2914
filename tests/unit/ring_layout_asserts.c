/*
 * Compile-time proof that pvio's generic ring lays out memory exactly as
 * Xen's DEFINE_RING_TYPES does for the netif TX/RX and blkif rings of the
 * installed headers: same header size and index offsets, same slot size,
 * same number of slots on one page.
 */
#include "config.h"

#include "pvio_ring.h"

#include <xen/grant_table.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>

#define PAGE_BYTES 4096

#define ASSERT_SAME_HEADER(name)                                               \
	_Static_assert(offsetof(struct name##_sring, ring) ==                  \
			       PVIO_SRING_HEADER_BYTES,                        \
		       #name ": header size");                                 \
	_Static_assert(offsetof(struct name##_sring, req_prod) ==              \
			       offsetof(struct pvio_generic_sring, req_prod),  \
		       #name ": req_prod");                                    \
	_Static_assert(offsetof(struct name##_sring, req_event) ==             \
			       offsetof(struct pvio_generic_sring, req_event), \
		       #name ": req_event");                                   \
	_Static_assert(offsetof(struct name##_sring, rsp_prod) ==              \
			       offsetof(struct pvio_generic_sring, rsp_prod),  \
		       #name ": rsp_prod");                                    \
	_Static_assert(offsetof(struct name##_sring, rsp_event) ==             \
			       offsetof(struct pvio_generic_sring, rsp_event), \
		       #name ": rsp_event")

#define ASSERT_SAME_SLOTS(name, req_t, rsp_t, expected)                        \
	_Static_assert(                                                        \
		sizeof(union name##_sring_entry) ==                            \
			PVIO_RING_ENTRY_BYTES(sizeof(req_t), sizeof(rsp_t)),   \
		#name ": entry size");                                         \
	_Static_assert(PVIO_RING_SLOTS(PAGE_BYTES,                             \
				       sizeof(union name##_sring_entry)) ==    \
			       __CONST_RING_SIZE(name, PAGE_BYTES),            \
		       #name ": slot count");                                  \
	_Static_assert(PVIO_RING_SLOTS(PAGE_BYTES,                             \
				       sizeof(union name##_sring_entry)) ==    \
			       (expected),                                     \
		       #name ": slot count on a page")

ASSERT_SAME_HEADER(pvio_generic);
ASSERT_SAME_HEADER(netif_tx);
ASSERT_SAME_HEADER(netif_rx);
ASSERT_SAME_HEADER(blkif);

/* PROTOCOL.md: netif TX 256 slots of 12/4 bytes, RX 256 of 8/8 bytes. */
_Static_assert(sizeof(netif_tx_request_t) == 12, "netif TX request");
_Static_assert(sizeof(netif_tx_response_t) == 4, "netif TX response");
_Static_assert(sizeof(netif_rx_request_t) == 8, "netif RX request");
_Static_assert(sizeof(netif_rx_response_t) == 8, "netif RX response");
ASSERT_SAME_SLOTS(netif_tx, netif_tx_request_t, netif_tx_response_t, 256);
ASSERT_SAME_SLOTS(netif_rx, netif_rx_request_t, netif_rx_response_t, 256);
ASSERT_SAME_SLOTS(blkif, blkif_request_t, blkif_response_t, 32);

/* The runtime layout agrees with the compile-time one; checked by a test. */
int ring_layout_matches_xen(void);
int ring_layout_matches_xen(void)
{
	struct pvio_ring_layout tx, rx, blk;

	if (pvio_ring_layout_init(&tx, PAGE_BYTES, sizeof(netif_tx_request_t),
				  sizeof(netif_tx_response_t), 0) ||
	    pvio_ring_layout_init(&rx, PAGE_BYTES, sizeof(netif_rx_request_t),
				  sizeof(netif_rx_response_t), 0) ||
	    pvio_ring_layout_init(&blk, PAGE_BYTES, sizeof(blkif_request_t),
				  sizeof(blkif_response_t), 0))
		return 0;
	return tx.nr_slots == __CONST_RING_SIZE(netif_tx, PAGE_BYTES) &&
	       rx.nr_slots == __CONST_RING_SIZE(netif_rx, PAGE_BYTES) &&
	       blk.nr_slots == __CONST_RING_SIZE(blkif, PAGE_BYTES) &&
	       tx.entry_size == sizeof(union netif_tx_sring_entry) &&
	       blk.entry_size == sizeof(union blkif_sring_entry);
}
