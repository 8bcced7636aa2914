/*
 * pvio shared I/O ring: front and back handles over a shared area laid out
 * exactly as Xen's DEFINE_RING_TYPES (xen/io/ring.h), for any fixed-size
 * request/response pair.
 *
 * The consumer side always copies entries out of shared memory into private
 * buffers, and every index read from the peer is checked, so a hostile peer
 * is reported as -EPROTO instead of causing undefined behaviour or a hang.
 */
#ifndef PVIO_RING_H
#define PVIO_RING_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/io/ring.h>

/*
 * The generic shared ring: Xen's own sring header, instantiated with 1-byte
 * entries. Slots of the real entry size start where its ring[] starts.
 */
DEFINE_RING_TYPES(pvio_generic, uint8_t, uint8_t);

/* The data path, inlined into every caller even where gcc would keep one
 * out-of-line copy per file (it did for several callers, a call per batch
 * that cost up to 10% of the benchmark's throughput). */
#define PVIO_RING_INLINE static inline __attribute__((always_inline))

#define PVIO_SRING_HEADER_BYTES offsetof(struct pvio_generic_sring, ring)

#define PVIO_RING_ENTRY_BYTES(req_size, rsp_size)                              \
	((req_size) > (rsp_size) ? (req_size) : (rsp_size))

/*
 * Number of slots for an area of area_bytes: the largest power of two that
 * fits, as __CONST_RING_SIZE computes it. Constant when the arguments are.
 * (Entries are unions, so their size is the larger of the two, rounded to the
 * union's alignment by the caller's sizeof.)
 */
#define PVIO_RING_SLOTS(area_bytes, entry_bytes)                               \
	((uint32_t)__RD32(((area_bytes)-PVIO_SRING_HEADER_BYTES) /             \
			  (entry_bytes)))

/* Largest ring the library accepts: 2^20 slots (Xen's netif allows 2^8). */
#define PVIO_RING_MAX_SLOTS (1u << 20)

/* Layout of one ring: computed once, shared by both ends. */
struct pvio_ring_layout {
	size_t req_size;   /* bytes of one request */
	size_t rsp_size;   /* bytes of one response */
	size_t entry_size; /* bytes of one slot (the request/response union) */
	RING_IDX nr_slots; /* power of two */
};

/*
 * Compute the layout of a ring of req_size/rsp_size entries over an area of
 * area_bytes. entry_size is the size of the slot union as the protocol
 * defines it (sizeof(union X_sring_entry)); pass 0 to use the larger of the
 * two sizes. Returns 0, or -EINVAL when the sizes make no ring.
 */
int pvio_ring_layout_init(struct pvio_ring_layout *layout, size_t area_bytes,
			  size_t req_size, size_t rsp_size, size_t entry_size);

/* Address of the slot of ring index idx. */
PVIO_RING_INLINE uint8_t *
pvio_ring_slot_at(uint8_t *slots, const struct pvio_ring_layout *layout,
		  RING_IDX idx)
{
	return slots +
	       (size_t)(idx & (layout->nr_slots - 1)) * layout->entry_size;
}

/* Initialise a fresh shared area (SHARED_RING_INIT): the frontend does this. */
void pvio_sring_init(void *area, size_t area_bytes);

/* Private indices: *_pvt counts entries written, *_pushed those published. */
struct pvio_front_ring {
	struct pvio_generic_sring *sring;
	uint8_t *slots;
	struct pvio_ring_layout layout;
	RING_IDX req_prod_pvt;
	RING_IDX req_pushed;
	RING_IDX rsp_cons; /* responses consumed */
	bool broken;	   /* the peer broke the protocol; the ring is dead */
};

struct pvio_back_ring {
	struct pvio_generic_sring *sring;
	uint8_t *slots;
	struct pvio_ring_layout layout;
	RING_IDX rsp_prod_pvt;
	RING_IDX rsp_pushed;
	RING_IDX req_cons; /* requests consumed */
	bool broken;
};

/*
 * Attach a front handle to a shared area. The area must already be
 * initialised (pvio_sring_init) or be a live ring whose indices start at
 * start_idx (FRONT_RING_ATTACH); a fresh ring starts at 0.
 */
void pvio_front_ring_attach(struct pvio_front_ring *ring, void *area,
			    const struct pvio_ring_layout *layout,
			    RING_IDX start_idx);
void pvio_back_ring_attach(struct pvio_back_ring *ring, void *area,
			   const struct pvio_ring_layout *layout,
			   RING_IDX start_idx);

/*
 * The data-path operations below are PVIO_RING_INLINE (defined at the end of
 * this header): the data path calls them once per batch, and with a call
 * each a generic ring with run-time entry sizes loses to Xen's macros.
 */

/* Slots the frontend may still fill with requests. */
PVIO_RING_INLINE unsigned
pvio_front_free_requests(const struct pvio_front_ring *ring);

/* Requests sent whose responses have not been consumed yet. */
PVIO_RING_INLINE unsigned
pvio_front_outstanding(const struct pvio_front_ring *ring);

/*
 * Write up to n requests (contiguous array of layout.req_size entries) into
 * the ring without publishing them. Returns how many were written.
 */
PVIO_RING_INLINE unsigned pvio_front_put_requests(struct pvio_front_ring *ring,
						  const void *reqs, unsigned n);

/*
 * Build requests in place, as RING_GET_REQUEST allows: the slot of the i-th
 * request after those already written, or NULL when i is not below
 * pvio_front_free_requests(). A producer may write shared memory directly;
 * only consumers must work on private copies. pvio_front_produce_requests
 * then counts the first n built slots as written (not yet published) and
 * returns how many it counted.
 */
PVIO_RING_INLINE void *pvio_front_request_slot(struct pvio_front_ring *ring,
					       unsigned i);
PVIO_RING_INLINE unsigned
pvio_front_produce_requests(struct pvio_front_ring *ring, unsigned n);

/*
 * Publish every written request (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY).
 * Returns true when the backend must be notified.
 */
PVIO_RING_INLINE bool pvio_front_push_requests(struct pvio_front_ring *ring);

/*
 * Copy up to max responses out of the ring into rsps (private memory).
 * Returns the number copied, or -EPROTO when the backend produced responses
 * for requests never sent (the ring is then marked broken).
 */
PVIO_RING_INLINE int pvio_front_take_responses(struct pvio_front_ring *ring,
					       void *rsps, unsigned max);

/*
 * Before sleeping: re-arm rsp_event and re-check (RING_FINAL_CHECK_FOR_
 * RESPONSES). Returns the number of responses waiting (0 means it is safe
 * to sleep until notified) or -EPROTO.
 */
int pvio_front_final_check_responses(struct pvio_front_ring *ring);

/* Requests consumed and not yet answered. */
PVIO_RING_INLINE unsigned
pvio_back_unanswered(const struct pvio_back_ring *ring);

/*
 * Copy up to max requests into reqs (private memory). Returns the number
 * copied, or -EPROTO when the frontend's index is more than a ring ahead
 * or moved backwards (the ring is then marked broken).
 */
PVIO_RING_INLINE int pvio_back_take_requests(struct pvio_back_ring *ring,
					     void *reqs, unsigned max);

/* RING_FINAL_CHECK_FOR_REQUESTS: requests waiting after re-arming, or
 * -EPROTO. */
int pvio_back_final_check_requests(struct pvio_back_ring *ring);

/*
 * Write up to n responses without publishing them; never more than the
 * requests consumed and not yet answered. Returns how many were written.
 */
PVIO_RING_INLINE unsigned pvio_back_put_responses(struct pvio_back_ring *ring,
						  const void *rsps, unsigned n);

/* Build responses in place: the slot of the i-th response after those
 * already written, or NULL when i is not below pvio_back_unanswered(). */
PVIO_RING_INLINE void *pvio_back_response_slot(struct pvio_back_ring *ring,
					       unsigned i);
PVIO_RING_INLINE unsigned
pvio_back_produce_responses(struct pvio_back_ring *ring, unsigned n);

/* Publish written responses; true when the frontend must be notified. */
PVIO_RING_INLINE bool pvio_back_push_responses(struct pvio_back_ring *ring);

/* ---- implementation ---- */

PVIO_RING_INLINE void *pvio_front_request_slot(struct pvio_front_ring *ring,
					       unsigned i)
{
	if (ring->broken ||
	    i >= ring->layout.nr_slots - (ring->req_prod_pvt - ring->rsp_cons))
		return NULL;
	return pvio_ring_slot_at(ring->slots, &ring->layout,
				 ring->req_prod_pvt + i);
}

PVIO_RING_INLINE void *pvio_back_response_slot(struct pvio_back_ring *ring,
					       unsigned i)
{
	if (ring->broken || i >= ring->req_cons - ring->rsp_prod_pvt)
		return NULL;
	return pvio_ring_slot_at(ring->slots, &ring->layout,
				 ring->rsp_prod_pvt + i);
}

/*
 * Copy n entries of `size` bytes between private memory (stride size) and
 * ring slots (stride entry_size, wrapping at the ring's end).
 */
/* Inlined with a caller's buffer of one small entry, gcc also sees the
 * copies for the other sizes, which that layout rules out, and warns that
 * they would overflow it: they never run. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
#define PVIO_RING_COPY_LOOP(fixed_size)                                        \
	for (unsigned i = 0; i < n; i++) {                                     \
		uint8_t *slot =                                                \
			slots + (size_t)((idx + i) & mask) * entry_size;       \
		if (to_ring)                                                   \
			memcpy(slot, priv + (size_t)i * (fixed_size),          \
			       (fixed_size));                                  \
		else                                                           \
			memcpy(priv + (size_t)i * (fixed_size), slot,          \
			       (fixed_size));                                  \
	}

PVIO_RING_INLINE void
pvio_ring_copy_entries(uint8_t *slots, const struct pvio_ring_layout *layout,
		       RING_IDX idx, uint8_t *priv, size_t size, unsigned n,
		       bool to_ring)
{
	/* Locals: stores through uint8_t pointers would otherwise force the
	 * layout to be reloaded for every entry. */
	const RING_IDX mask = layout->nr_slots - 1;
	const size_t entry_size = layout->entry_size;

	/* The protocols' small entries (netif's are 4 to 12 bytes) get one
	 * inlined fixed-size copy each: a libc memcpy call per batch costs
	 * more than it saves at these sizes. */
	switch (size) {
	case 4:
		PVIO_RING_COPY_LOOP(4);
		return;
	case 8:
		PVIO_RING_COPY_LOOP(8);
		return;
	case 12:
		PVIO_RING_COPY_LOOP(12);
		return;
	case 16:
		PVIO_RING_COPY_LOOP(16);
		return;
	}
	if (size == entry_size) {
		/* Packed: at most two runs, before and after the wrap. */
		unsigned first = idx & mask;
		unsigned run = mask + 1 - first < n ? mask + 1 - first : n;
		uint8_t *ring_parts[2] = {slots + (size_t)first * size, slots};
		size_t part_bytes[2] = {(size_t)run * size,
					(size_t)(n - run) * size};
		for (int part = 0; part < 2; part++) {
			if (to_ring)
				memcpy(ring_parts[part], priv,
				       part_bytes[part]);
			else
				memcpy(priv, ring_parts[part],
				       part_bytes[part]);
			priv += part_bytes[part];
		}
		return;
	}
	PVIO_RING_COPY_LOOP(size);
}
#undef PVIO_RING_COPY_LOOP
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

PVIO_RING_INLINE void
pvio_ring_copy_to_ring(uint8_t *slots, const struct pvio_ring_layout *layout,
		       RING_IDX idx, const void *src, size_t size, unsigned n)
{
	/* The cast only lets one loop serve both directions; nothing is
	 * written through src. */
	pvio_ring_copy_entries(slots, layout, idx, (uint8_t *)src, size, n,
			       true);
}

PVIO_RING_INLINE void
pvio_ring_copy_from_ring(void *dst, uint8_t *slots,
			 const struct pvio_ring_layout *layout, RING_IDX idx,
			 size_t size, unsigned n)
{
	pvio_ring_copy_entries(slots, layout, idx, dst, size, n, false);
}

/* True when the peer's event index lies in (old, new]: it asked to be woken. */
PVIO_RING_INLINE bool pvio_ring_peer_wants_event(RING_IDX event, RING_IDX old,
						 RING_IDX new)
{
	return (RING_IDX)(new - event) < (RING_IDX)(new - old);
}

PVIO_RING_INLINE RING_IDX pvio_ring_load_acquire(const RING_IDX *idx)
{
	return __atomic_load_n(idx, __ATOMIC_ACQUIRE);
}

/*
 * A producer publishes its index: a release store (the slots before it),
 * then a full fence, so that the event index it reads next is ordered
 * after the store; the consumer's final check pairs with it through the
 * same fence (ring.c). These are the instructions Xen's
 * RING_PUSH_*_AND_CHECK_NOTIFY gives with wmb() and mb(): on x86 a plain
 * store and a locked operation on the stack. A sequentially consistent
 * store instead (a locked exchange on the index's own cache line, which
 * the consumer is polling) cost 10 to 15% of the batched throughput on
 * AMD EPYC (docs/performance.md).
 */
PVIO_RING_INLINE void pvio_ring_publish(RING_IDX *idx, RING_IDX value)
{
	__atomic_store_n(idx, value, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

PVIO_RING_INLINE unsigned
pvio_front_free_requests(const struct pvio_front_ring *ring)
{
	return ring->layout.nr_slots - (ring->req_prod_pvt - ring->rsp_cons);
}

PVIO_RING_INLINE unsigned
pvio_front_outstanding(const struct pvio_front_ring *ring)
{
	return ring->req_prod_pvt - ring->rsp_cons;
}

PVIO_RING_INLINE unsigned
pvio_front_produce_requests(struct pvio_front_ring *ring, unsigned n)
{
	unsigned space = pvio_front_free_requests(ring);

	if (ring->broken)
		return 0;
	if (n > space)
		n = space;
	ring->req_prod_pvt += n;
	return n;
}

PVIO_RING_INLINE unsigned pvio_front_put_requests(struct pvio_front_ring *ring,
						  const void *reqs, unsigned n)
{
	unsigned space = pvio_front_free_requests(ring);

	if (ring->broken)
		return 0;
	if (n > space)
		n = space;
	pvio_ring_copy_to_ring(ring->slots, &ring->layout, ring->req_prod_pvt,
			       reqs, ring->layout.req_size, n);
	return pvio_front_produce_requests(ring, n);
}

PVIO_RING_INLINE bool pvio_front_push_requests(struct pvio_front_ring *ring)
{
	RING_IDX old = ring->req_pushed;
	RING_IDX new = ring->req_prod_pvt;

	if (old == new)
		return false;
	pvio_ring_publish(&ring->sring->req_prod, new);
	ring->req_pushed = new;
	return pvio_ring_peer_wants_event(
		__atomic_load_n(&ring->sring->req_event, __ATOMIC_RELAXED), old,
		new);
}

/*
 * Responses published (prod) and not consumed, validated against what was
 * sent: a backend cannot answer requests it never saw.
 */
PVIO_RING_INLINE int pvio_ring_front_pending(struct pvio_front_ring *ring,
					     RING_IDX prod)
{
	if (ring->broken)
		return -EPROTO;
	RING_IDX avail = prod - ring->rsp_cons;
	if (avail > (RING_IDX)(ring->req_pushed - ring->rsp_cons)) {
		ring->broken = true;
		return -EPROTO;
	}
	return (int)avail;
}

PVIO_RING_INLINE int pvio_front_take_responses(struct pvio_front_ring *ring,
					       void *rsps, unsigned max)
{
	int avail = pvio_ring_front_pending(
		ring, pvio_ring_load_acquire(&ring->sring->rsp_prod));

	if (avail <= 0)
		return avail;
	unsigned n = (unsigned)avail < max ? (unsigned)avail : max;
	pvio_ring_copy_from_ring(rsps, ring->slots, &ring->layout,
				 ring->rsp_cons, ring->layout.rsp_size, n);
	ring->rsp_cons += n;
	return (int)n;
}

PVIO_RING_INLINE unsigned
pvio_back_unanswered(const struct pvio_back_ring *ring)
{
	return ring->req_cons - ring->rsp_prod_pvt;
}

/*
 * Requests published (prod) and not consumed. The frontend may have at most
 * a ring's worth of requests unanswered; more, or an index behind what was
 * already consumed, is a protocol violation (never a wrap).
 */
PVIO_RING_INLINE int pvio_ring_back_pending(struct pvio_back_ring *ring,
					    RING_IDX prod)
{
	if (ring->broken)
		return -EPROTO;
	RING_IDX avail = prod - ring->req_cons;
	if (avail > ring->layout.nr_slots ||
	    (RING_IDX)(prod - ring->rsp_prod_pvt) > ring->layout.nr_slots) {
		ring->broken = true;
		return -EPROTO;
	}
	return (int)avail;
}

PVIO_RING_INLINE int pvio_back_take_requests(struct pvio_back_ring *ring,
					     void *reqs, unsigned max)
{
	int avail = pvio_ring_back_pending(
		ring, pvio_ring_load_acquire(&ring->sring->req_prod));

	if (avail <= 0)
		return avail;
	unsigned n = (unsigned)avail < max ? (unsigned)avail : max;
	pvio_ring_copy_from_ring(reqs, ring->slots, &ring->layout,
				 ring->req_cons, ring->layout.req_size, n);
	ring->req_cons += n;
	return (int)n;
}

PVIO_RING_INLINE unsigned
pvio_back_produce_responses(struct pvio_back_ring *ring, unsigned n)
{
	unsigned owed = pvio_back_unanswered(ring);

	if (ring->broken)
		return 0;
	if (n > owed)
		n = owed;
	ring->rsp_prod_pvt += n;
	return n;
}

PVIO_RING_INLINE unsigned pvio_back_put_responses(struct pvio_back_ring *ring,
						  const void *rsps, unsigned n)
{
	unsigned owed = pvio_back_unanswered(ring);

	if (ring->broken)
		return 0;
	if (n > owed)
		n = owed;
	pvio_ring_copy_to_ring(ring->slots, &ring->layout, ring->rsp_prod_pvt,
			       rsps, ring->layout.rsp_size, n);
	return pvio_back_produce_responses(ring, n);
}

PVIO_RING_INLINE bool pvio_back_push_responses(struct pvio_back_ring *ring)
{
	RING_IDX old = ring->rsp_pushed;
	RING_IDX new = ring->rsp_prod_pvt;

	if (old == new)
		return false;
	pvio_ring_publish(&ring->sring->rsp_prod, new);
	ring->rsp_pushed = new;
	return pvio_ring_peer_wants_event(
		__atomic_load_n(&ring->sring->rsp_event, __ATOMIC_RELAXED), old,
		new);
}

#endif
