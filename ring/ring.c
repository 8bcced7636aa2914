/*
 * Shared I/O ring with Xen's layout and event-suppression semantics.
 *
 * Ordering: a producer writes slots, then publishes its index with a release
 * store; a consumer reads the index with an acquire load before copying
 * slots. The notify decision and the consumer's final check each need a full
 * barrier between a store and a load of different words (store-load
 * ordering), which only a sequentially consistent fence provides.
 */
#include "config.h"

#include "pvio_ring.h"

#include <errno.h>

int pvio_ring_layout_init(struct pvio_ring_layout *layout, size_t area_bytes,
			  size_t req_size, size_t rsp_size, size_t entry_size)
{
	if (req_size == 0 || rsp_size == 0)
		return -EINVAL;
	if (entry_size == 0)
		entry_size = PVIO_RING_ENTRY_BYTES(req_size, rsp_size);
	if (entry_size < req_size || entry_size < rsp_size)
		return -EINVAL;
	if (area_bytes < PVIO_SRING_HEADER_BYTES + entry_size)
		return -EINVAL;
	size_t fit = (area_bytes - PVIO_SRING_HEADER_BYTES) / entry_size;
	if (fit > PVIO_RING_MAX_SLOTS)
		fit = PVIO_RING_MAX_SLOTS;
	layout->req_size = req_size;
	layout->rsp_size = rsp_size;
	layout->entry_size = entry_size;
	layout->nr_slots = __RD32((uint32_t)fit);
	return 0;
}

void pvio_sring_init(void *area, size_t area_bytes)
{
	struct pvio_generic_sring *sring = area;

	memset(area, 0,
	       area_bytes < PVIO_SRING_HEADER_BYTES ? area_bytes
						    : PVIO_SRING_HEADER_BYTES);
	sring->req_event = 1;
	sring->rsp_event = 1;
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void attach_common(struct pvio_generic_sring **sring, uint8_t **slots,
			  struct pvio_ring_layout *dst, void *area,
			  const struct pvio_ring_layout *layout)
{
	*sring = area;
	*slots = (uint8_t *)area + PVIO_SRING_HEADER_BYTES;
	*dst = *layout;
}

void pvio_front_ring_attach(struct pvio_front_ring *ring, void *area,
			    const struct pvio_ring_layout *layout,
			    RING_IDX start_idx)
{
	attach_common(&ring->sring, &ring->slots, &ring->layout, area, layout);
	ring->req_prod_pvt = start_idx;
	ring->req_pushed = start_idx;
	ring->rsp_cons = start_idx;
	ring->broken = false;
}

void pvio_back_ring_attach(struct pvio_back_ring *ring, void *area,
			   const struct pvio_ring_layout *layout,
			   RING_IDX start_idx)
{
	attach_common(&ring->sring, &ring->slots, &ring->layout, area, layout);
	ring->rsp_prod_pvt = start_idx;
	ring->rsp_pushed = start_idx;
	ring->req_cons = start_idx;
	ring->broken = false;
}

/*
 * Final checks re-arm the event index, then a full fence, then re-read the
 * producer index: with the producer's store, fence and load in push
 * (pvio_ring_publish), either the producer sees the new event index or
 * this side sees the new producer index (C11's fence-to-fence ordering).
 */
int pvio_front_final_check_responses(struct pvio_front_ring *ring)
{
	int avail = pvio_ring_front_pending(
		ring, pvio_ring_load_acquire(&ring->sring->rsp_prod));

	if (avail != 0)
		return avail;
	__atomic_store_n(&ring->sring->rsp_event, ring->rsp_cons + 1,
			 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return pvio_ring_front_pending(
		ring, pvio_ring_load_acquire(&ring->sring->rsp_prod));
}

int pvio_back_final_check_requests(struct pvio_back_ring *ring)
{
	int avail = pvio_ring_back_pending(
		ring, pvio_ring_load_acquire(&ring->sring->req_prod));

	if (avail != 0)
		return avail;
	__atomic_store_n(&ring->sring->req_event, ring->req_cons + 1,
			 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return pvio_ring_back_pending(
		ring, pvio_ring_load_acquire(&ring->sring->req_prod));
}
