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

static uint8_t *slot_at(uint8_t *slots, const struct pvio_ring_layout *layout,
			RING_IDX idx)
{
	return slots +
	       (size_t)(idx & (layout->nr_slots - 1)) * layout->entry_size;
}

/*
 * Copy n entries between the ring (starting at index idx) and a private
 * array of `size`-byte elements. When entries are packed without padding the
 * copy is at most two memcpy calls (before and after the wrap).
 */
static void copy_entries(uint8_t *slots, const struct pvio_ring_layout *layout,
			 RING_IDX idx, void *priv, size_t size, unsigned n,
			 bool to_ring)
{
	uint8_t *p = priv;

	if (size == layout->entry_size) {
		RING_IDX first = idx & (layout->nr_slots - 1);
		unsigned run = layout->nr_slots - first;
		if (run > n)
			run = n;
		for (int part = 0; part < 2 && n > 0; part++) {
			uint8_t *s = slots + (size_t)first * size;
			if (to_ring)
				memcpy(s, p, (size_t)run * size);
			else
				memcpy(p, s, (size_t)run * size);
			p += (size_t)run * size;
			n -= run;
			first = 0;
			run = n;
		}
		return;
	}
	for (unsigned i = 0; i < n; i++, p += size) {
		uint8_t *s = slot_at(slots, layout, idx + i);
		if (to_ring)
			memcpy(s, p, size);
		else
			memcpy(p, s, size);
	}
}

/* True when the peer's event index lies in (old, new]: it asked to be woken. */
static bool peer_wants_event(RING_IDX event, RING_IDX old, RING_IDX new)
{
	return (RING_IDX)(new - event) < (RING_IDX)(new - old);
}

static RING_IDX load_acquire(const RING_IDX *idx)
{
	return __atomic_load_n(idx, __ATOMIC_ACQUIRE);
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

unsigned pvio_front_free_requests(const struct pvio_front_ring *ring)
{
	return ring->layout.nr_slots - (ring->req_prod_pvt - ring->rsp_cons);
}

unsigned pvio_front_outstanding(const struct pvio_front_ring *ring)
{
	return ring->req_prod_pvt - ring->rsp_cons;
}

unsigned pvio_front_put_requests(struct pvio_front_ring *ring, const void *reqs,
				 unsigned n)
{
	unsigned space = pvio_front_free_requests(ring);

	if (ring->broken)
		return 0;
	if (n > space)
		n = space;
	copy_entries(ring->slots, &ring->layout, ring->req_prod_pvt,
		     (void *)reqs, ring->layout.req_size, n, true);
	ring->req_prod_pvt += n;
	return n;
}

bool pvio_front_push_requests(struct pvio_front_ring *ring)
{
	RING_IDX old = ring->req_pushed;
	RING_IDX new = ring->req_prod_pvt;

	if (old == new)
		return false;
	__atomic_store_n(&ring->sring->req_prod, new, __ATOMIC_RELEASE);
	ring->req_pushed = new;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return peer_wants_event(
		__atomic_load_n(&ring->sring->req_event, __ATOMIC_RELAXED), old,
		new);
}

/* Responses published and not consumed, validated against what was sent. */
static int front_pending(struct pvio_front_ring *ring)
{
	if (ring->broken)
		return -EPROTO;
	RING_IDX prod = load_acquire(&ring->sring->rsp_prod);
	RING_IDX avail = prod - ring->rsp_cons;
	if (avail > (RING_IDX)(ring->req_pushed - ring->rsp_cons)) {
		ring->broken = true;
		return -EPROTO;
	}
	return (int)avail;
}

int pvio_front_take_responses(struct pvio_front_ring *ring, void *rsps,
			      unsigned max)
{
	int avail = front_pending(ring);

	if (avail <= 0)
		return avail;
	unsigned n = (unsigned)avail < max ? (unsigned)avail : max;
	copy_entries(ring->slots, &ring->layout, ring->rsp_cons, rsps,
		     ring->layout.rsp_size, n, false);
	ring->rsp_cons += n;
	return (int)n;
}

int pvio_front_final_check_responses(struct pvio_front_ring *ring)
{
	int avail = front_pending(ring);

	if (avail != 0)
		return avail;
	__atomic_store_n(&ring->sring->rsp_event, ring->rsp_cons + 1,
			 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return front_pending(ring);
}

unsigned pvio_back_unanswered(const struct pvio_back_ring *ring)
{
	return ring->req_cons - ring->rsp_prod_pvt;
}

/*
 * Requests published and not consumed. The frontend may have at most a
 * ring's worth of requests unanswered; more, or an index behind what was
 * already consumed, is a protocol violation (never a wrap).
 */
static int back_pending(struct pvio_back_ring *ring)
{
	if (ring->broken)
		return -EPROTO;
	RING_IDX prod = load_acquire(&ring->sring->req_prod);
	RING_IDX avail = prod - ring->req_cons;
	if (avail > ring->layout.nr_slots ||
	    (RING_IDX)(prod - ring->rsp_prod_pvt) > ring->layout.nr_slots) {
		ring->broken = true;
		return -EPROTO;
	}
	return (int)avail;
}

int pvio_back_take_requests(struct pvio_back_ring *ring, void *reqs,
			    unsigned max)
{
	int avail = back_pending(ring);

	if (avail <= 0)
		return avail;
	unsigned n = (unsigned)avail < max ? (unsigned)avail : max;
	copy_entries(ring->slots, &ring->layout, ring->req_cons, reqs,
		     ring->layout.req_size, n, false);
	ring->req_cons += n;
	return (int)n;
}

int pvio_back_final_check_requests(struct pvio_back_ring *ring)
{
	int avail = back_pending(ring);

	if (avail != 0)
		return avail;
	__atomic_store_n(&ring->sring->req_event, ring->req_cons + 1,
			 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return back_pending(ring);
}

unsigned pvio_back_put_responses(struct pvio_back_ring *ring, const void *rsps,
				 unsigned n)
{
	unsigned owed = pvio_back_unanswered(ring);

	if (ring->broken)
		return 0;
	if (n > owed)
		n = owed;
	copy_entries(ring->slots, &ring->layout, ring->rsp_prod_pvt,
		     (void *)rsps, ring->layout.rsp_size, n, true);
	ring->rsp_prod_pvt += n;
	return n;
}

bool pvio_back_push_responses(struct pvio_back_ring *ring)
{
	RING_IDX old = ring->rsp_pushed;
	RING_IDX new = ring->rsp_prod_pvt;

	if (old == new)
		return false;
	__atomic_store_n(&ring->sring->rsp_prod, new, __ATOMIC_RELEASE);
	ring->rsp_pushed = new;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return peer_wants_event(
		__atomic_load_n(&ring->sring->rsp_event, __ATOMIC_RELAXED), old,
		new);
}
