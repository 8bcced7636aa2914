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
	size_t entry_size; /* bytes of one slot (union of request and response)
			    */
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

/* Initialise a fresh shared area (SHARED_RING_INIT): the frontend does this. */
void pvio_sring_init(void *area, size_t area_bytes);

struct pvio_front_ring {
	struct pvio_generic_sring *sring;
	uint8_t *slots;
	struct pvio_ring_layout layout;
	RING_IDX req_prod_pvt; /* requests written, not necessarily published */
	RING_IDX req_pushed;   /* requests published to the peer */
	RING_IDX rsp_cons;     /* responses consumed */
	bool broken;	       /* the peer broke the protocol; ring is dead */
};

struct pvio_back_ring {
	struct pvio_generic_sring *sring;
	uint8_t *slots;
	struct pvio_ring_layout layout;
	RING_IDX
		rsp_prod_pvt; /* responses written, not necessarily published */
	RING_IDX rsp_pushed;  /* responses published to the peer */
	RING_IDX req_cons;    /* requests consumed */
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

/* Slots the frontend may still fill with requests. */
unsigned pvio_front_free_requests(const struct pvio_front_ring *ring);

/*
 * Write up to n requests (contiguous array of layout.req_size entries) into
 * the ring without publishing them. Returns how many were written.
 */
unsigned pvio_front_put_requests(struct pvio_front_ring *ring, const void *reqs,
				 unsigned n);

/*
 * Publish every written request (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY).
 * Returns true when the backend must be notified.
 */
bool pvio_front_push_requests(struct pvio_front_ring *ring);

/*
 * Copy up to max responses out of the ring into rsps (private memory).
 * Returns the number copied, or -EPROTO when the backend produced responses
 * for requests never sent (the ring is then marked broken).
 */
int pvio_front_take_responses(struct pvio_front_ring *ring, void *rsps,
			      unsigned max);

/*
 * Before sleeping: re-arm rsp_event and re-check (RING_FINAL_CHECK_FOR_
 * RESPONSES). Returns the number of responses waiting (0 means it is safe
 * to sleep until notified) or -EPROTO.
 */
int pvio_front_final_check_responses(struct pvio_front_ring *ring);

/* Requests sent whose responses have not been consumed yet. */
unsigned pvio_front_outstanding(const struct pvio_front_ring *ring);

/*
 * Copy up to max requests into reqs (private memory). Returns the number
 * copied, or -EPROTO when the frontend's index is more than a ring ahead
 * or moved backwards (the ring is then marked broken).
 */
int pvio_back_take_requests(struct pvio_back_ring *ring, void *reqs,
			    unsigned max);

/* RING_FINAL_CHECK_FOR_REQUESTS: requests waiting after re-arming, or -EPROTO.
 */
int pvio_back_final_check_requests(struct pvio_back_ring *ring);

/*
 * Write up to n responses without publishing them; never more than the
 * requests consumed and not yet answered. Returns how many were written.
 */
unsigned pvio_back_put_responses(struct pvio_back_ring *ring, const void *rsps,
				 unsigned n);

/* Publish written responses; true when the frontend must be notified. */
bool pvio_back_push_responses(struct pvio_back_ring *ring);

/* Requests consumed and not yet answered. */
unsigned pvio_back_unanswered(const struct pvio_back_ring *ring);

#endif
