/*
 * Unit tests of the shared ring: semantics in one process, interoperability
 * with Xen's ring.h macros, hostile peers, and a ten-million-request exchange
 * between two processes over shared memory.
 */
#include "config.h"

#include "cunit_main.h"
#include "pvio_ring.h"
#include "xen_ring_barriers.h"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xen/grant_table.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>

int ring_layout_matches_xen(void);

#define PAGE_BYTES 4096

/* A test request/response pair: 12-byte requests, 4-byte responses, like
 * netif TX, so that slots are shared by the two sizes. */
struct test_req {
	uint32_t seq;
	uint32_t a;
	uint32_t b;
};
struct test_rsp {
	uint32_t seq;
};

struct ring_pair {
	void *area;
	struct pvio_ring_layout layout;
	struct pvio_front_ring front;
	struct pvio_back_ring back;
};

static void pair_open(struct ring_pair *p, RING_IDX start)
{
	p->area = aligned_alloc(PAGE_BYTES, PAGE_BYTES);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->area);
	memset(p->area, 0xa5, PAGE_BYTES);
	pvio_sring_init(p->area, PAGE_BYTES);
	CU_ASSERT_EQUAL_FATAL(pvio_ring_layout_init(&p->layout, PAGE_BYTES,
						    sizeof(struct test_req),
						    sizeof(struct test_rsp), 0),
			      0);
	struct pvio_generic_sring *s = p->area;
	s->req_prod = s->rsp_prod = start;
	s->req_event = s->rsp_event = start + 1;
	pvio_front_ring_attach(&p->front, p->area, &p->layout, start);
	pvio_back_ring_attach(&p->back, p->area, &p->layout, start);
}

static void pair_close(struct ring_pair *p)
{
	free(p->area);
}

static struct test_req make_req(uint32_t seq)
{
	return (struct test_req){seq, seq * 2654435761u, ~seq};
}

static void test_layout(void)
{
	struct pvio_ring_layout l;

	CU_ASSERT_TRUE(ring_layout_matches_xen());
	CU_ASSERT_EQUAL(pvio_ring_layout_init(&l, PAGE_BYTES, 12, 4, 0), 0);
	CU_ASSERT_EQUAL(l.nr_slots, 256);
	CU_ASSERT_EQUAL(l.entry_size, 12);
	/* Several pages: (4 * 4096 - 64) / 12 = 1360 -> 1024 slots. */
	CU_ASSERT_EQUAL(pvio_ring_layout_init(&l, 4 * PAGE_BYTES, 12, 4, 0), 0);
	CU_ASSERT_EQUAL(l.nr_slots, 1024);
	/* Refusals: no room for one slot, zero sizes, a slot smaller than an
	 * entry. */
	CU_ASSERT_EQUAL(pvio_ring_layout_init(&l, 64, 12, 4, 0), -EINVAL);
	CU_ASSERT_EQUAL(pvio_ring_layout_init(&l, PAGE_BYTES, 0, 4, 0),
			-EINVAL);
	CU_ASSERT_EQUAL(pvio_ring_layout_init(&l, PAGE_BYTES, 12, 4, 8),
			-EINVAL);
}

static void test_sring_init(void)
{
	uint8_t area[PAGE_BYTES];
	struct pvio_generic_sring *s = (void *)area;

	memset(area, 0xff, sizeof(area));
	pvio_sring_init(area, sizeof(area));
	CU_ASSERT_EQUAL(s->req_prod, 0);
	CU_ASSERT_EQUAL(s->rsp_prod, 0);
	CU_ASSERT_EQUAL(s->req_event, 1);
	CU_ASSERT_EQUAL(s->rsp_event, 1);
	for (size_t i = 16; i < PVIO_SRING_HEADER_BYTES; i++)
		CU_ASSERT_EQUAL(area[i], 0);
	/* Slots are left alone. */
	CU_ASSERT_EQUAL(area[PVIO_SRING_HEADER_BYTES], 0xff);
}

/* One full round trip of n requests starting at the pair's current index. */
static void round_trip(struct ring_pair *p, uint32_t first_seq, unsigned n)
{
	struct test_req reqs[256], got[256];
	struct test_rsp rsps[256], rgot[256];

	CU_ASSERT_FATAL(n <= 256);
	for (unsigned i = 0; i < n; i++)
		reqs[i] = make_req(first_seq + i);
	CU_ASSERT_EQUAL(pvio_front_put_requests(&p->front, reqs, n), n);
	pvio_front_push_requests(&p->front);
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p->back, got, 256), (int)n);
	CU_ASSERT_EQUAL(memcmp(reqs, got, n * sizeof(reqs[0])), 0);
	for (unsigned i = 0; i < n; i++)
		rsps[i].seq = got[i].seq;
	CU_ASSERT_EQUAL(pvio_back_put_responses(&p->back, rsps, n), n);
	pvio_back_push_responses(&p->back);
	CU_ASSERT_EQUAL(pvio_front_take_responses(&p->front, rgot, 256),
			(int)n);
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_EQUAL(rgot[i].seq, first_seq + i);
}

static void test_wraparound(void)
{
	struct ring_pair p;

	/* Start just below 2^32 so that the indices wrap inside the batches,
	 * and at an index that is not a multiple of the ring size so that
	 * slots wrap inside a batch too. */
	pair_open(&p, UINT32_MAX - 300);
	uint32_t seq = 0;
	for (int round = 0; round < 12; round++) {
		round_trip(&p, seq, 100);
		seq += 100;
	}
	CU_ASSERT_TRUE(p.front.req_prod_pvt < 1000);
	CU_ASSERT_FALSE(p.front.broken);
	CU_ASSERT_FALSE(p.back.broken);
	pair_close(&p);
}

static void test_full_and_empty(void)
{
	struct ring_pair p;
	struct test_req reqs[300], got[300];
	struct test_rsp rsps[300];

	pair_open(&p, 0);
	unsigned size = p.layout.nr_slots;
	CU_ASSERT_EQUAL(pvio_front_free_requests(&p.front), size);
	/* Empty: nothing to take on either side. */
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, got, 300), 0);
	CU_ASSERT_EQUAL(pvio_front_take_responses(&p.front, rsps, 300), 0);
	/* Backend cannot answer requests it never received. */
	CU_ASSERT_EQUAL(pvio_back_put_responses(&p.back, rsps, 1), 0);

	for (unsigned i = 0; i < 300; i++)
		reqs[i] = make_req(i);
	CU_ASSERT_EQUAL(pvio_front_put_requests(&p.front, reqs, 300), size);
	CU_ASSERT_EQUAL(pvio_front_free_requests(&p.front), 0);
	CU_ASSERT_EQUAL(pvio_front_put_requests(&p.front, reqs, 1), 0);
	pvio_front_push_requests(&p.front);
	/* Full ring: the consumer sees exactly a ring's worth. */
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, got, 300), (int)size);
	CU_ASSERT_EQUAL(memcmp(reqs, got, size * sizeof(reqs[0])), 0);
	/* Consuming requests does not free slots: only responses do. */
	CU_ASSERT_EQUAL(pvio_front_free_requests(&p.front), 0);
	CU_ASSERT_EQUAL(pvio_back_unanswered(&p.back), size);
	for (unsigned i = 0; i < size; i++)
		rsps[i].seq = i;
	CU_ASSERT_EQUAL(pvio_back_put_responses(&p.back, rsps, 300), size);
	pvio_back_push_responses(&p.back);
	CU_ASSERT_EQUAL(pvio_front_outstanding(&p.front), size);
	CU_ASSERT_EQUAL(pvio_front_take_responses(&p.front, rsps, 10), 10);
	CU_ASSERT_EQUAL(pvio_front_free_requests(&p.front), 10);
	CU_ASSERT_EQUAL(pvio_front_take_responses(&p.front, rsps, 300),
			(int)size - 10);
	CU_ASSERT_EQUAL(pvio_front_free_requests(&p.front), size);
	CU_ASSERT_EQUAL(pvio_front_outstanding(&p.front), 0);
	pair_close(&p);
}

/*
 * Entry sizes off the fast paths: 20-byte requests in 36-byte slots (one
 * copy per entry, slot stride differs from the entry's) and 36-byte
 * responses filling their slots (whole runs), both across the slot wrap.
 */
static void test_odd_entry_sizes(void)
{
	struct odd_req {
		uint32_t w[5];
	} reqs[40], got[40];
	struct odd_rsp {
		uint32_t w[9];
	} rsps[40], rgot[40];
	struct pvio_ring_layout layout;
	struct pvio_front_ring front;
	struct pvio_back_ring back;
	void *area = aligned_alloc(PAGE_BYTES, PAGE_BYTES);

	CU_ASSERT_PTR_NOT_NULL_FATAL(area);
	memset(area, 0, PAGE_BYTES);
	CU_ASSERT_EQUAL_FATAL(pvio_ring_layout_init(&layout, PAGE_BYTES,
						    sizeof(struct odd_req),
						    sizeof(struct odd_rsp), 0),
			      0);
	CU_ASSERT_EQUAL(layout.entry_size, 36);
	CU_ASSERT_EQUAL(layout.nr_slots, 64); /* (4096 - 64) / 36 = 112 */
	/* Start 10 slots before the end so that every batch wraps. */
	RING_IDX start = 54;
	struct pvio_generic_sring *s = area;
	s->req_prod = s->rsp_prod = start;
	s->req_event = s->rsp_event = start + 1;
	pvio_front_ring_attach(&front, area, &layout, start);
	pvio_back_ring_attach(&back, area, &layout, start);
	for (unsigned round = 0; round < 5; round++) {
		for (unsigned i = 0; i < 40; i++)
			for (unsigned w = 0; w < 5; w++)
				reqs[i].w[w] = round * 1000 + i * 10 + w;
		CU_ASSERT_EQUAL(pvio_front_put_requests(&front, reqs, 40), 40);
		pvio_front_push_requests(&front);
		CU_ASSERT_EQUAL_FATAL(pvio_back_take_requests(&back, got, 40),
				      40);
		CU_ASSERT_EQUAL(memcmp(reqs, got, sizeof(reqs)), 0);
		for (unsigned i = 0; i < 40; i++)
			for (unsigned w = 0; w < 9; w++)
				rsps[i].w[w] = got[i].w[0] * 7 + w;
		CU_ASSERT_EQUAL(pvio_back_put_responses(&back, rsps, 40), 40);
		pvio_back_push_responses(&back);
		CU_ASSERT_EQUAL_FATAL(
			pvio_front_take_responses(&front, rgot, 40), 40);
		CU_ASSERT_EQUAL(memcmp(rsps, rgot, sizeof(rsps)), 0);
	}
	free(area);
}

static void test_consumer_gets_private_copy(void)
{
	struct ring_pair p;
	/* Not slot 0: the rewrite below must find the request's own slot. */
	const RING_IDX start = 5;
	struct test_req req = make_req(7), got, rewritten;

	pair_open(&p, start);
	pvio_front_put_requests(&p.front, &req, 1);
	pvio_front_push_requests(&p.front);
	/* Poisoned, so that a take that copies nothing is seen. */
	memset(&got, 0xee, sizeof(got));
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, &got, 1), 1);
	CU_ASSERT_EQUAL(memcmp(&got, &req, sizeof(req)), 0);
	/* The frontend rewrites the slot after the backend took it, as a
	 * hostile one may (XSA-155). */
	uint8_t *slot = pvio_ring_slot_at(p.front.slots, &p.layout, start);
	memset(slot, 0x5a, sizeof(req));
	memcpy(&rewritten, pvio_ring_slot_at(p.back.slots, &p.layout, start),
	       sizeof(rewritten));
	/* The backend's view of the shared slot did change ... */
	CU_ASSERT_NOT_EQUAL(memcmp(&rewritten, &req, sizeof(req)), 0);
	/* ... its copy did not, and nothing new was published. */
	CU_ASSERT_EQUAL(memcmp(&got, &req, sizeof(req)), 0);
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, &got, 1), 0);
	CU_ASSERT_EQUAL(memcmp(&got, &req, sizeof(req)), 0);
	pair_close(&p);
}

static void test_request_notifications(void)
{
	struct ring_pair p;
	struct test_req reqs[8], got[8];

	for (unsigned i = 0; i < 8; i++)
		reqs[i] = make_req(i);
	pair_open(&p, 0);
	/* Nothing published: no notification. */
	CU_ASSERT_FALSE(pvio_front_push_requests(&p.front));
	/* req_event starts at 1: the first request wakes the backend. */
	pvio_front_put_requests(&p.front, reqs, 1);
	CU_ASSERT_TRUE(pvio_front_push_requests(&p.front));
	/* The backend has not re-armed: more requests do not notify. */
	pvio_front_put_requests(&p.front, reqs, 2);
	CU_ASSERT_FALSE(pvio_front_push_requests(&p.front));
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, got, 8), 3);
	/* Drained and re-armed (req_event = 4): the next batch notifies once,
	 * whatever its size, because 4 lies inside it. */
	CU_ASSERT_EQUAL(pvio_back_final_check_requests(&p.back), 0);
	CU_ASSERT_EQUAL(p.back.sring->req_event, 4);
	pvio_front_put_requests(&p.front, reqs, 5);
	CU_ASSERT_TRUE(pvio_front_push_requests(&p.front));
	pvio_front_put_requests(&p.front, reqs, 1);
	CU_ASSERT_FALSE(pvio_front_push_requests(&p.front));
	/* An event index in the middle of a batch still notifies; one just
	 * past the batch does not. */
	p.back.sring->req_event = p.front.req_prod_pvt + 3;
	pvio_front_put_requests(&p.front, reqs, 2);
	CU_ASSERT_FALSE(pvio_front_push_requests(&p.front));
	pvio_front_put_requests(&p.front, reqs, 2);
	CU_ASSERT_TRUE(pvio_front_push_requests(&p.front));
	pair_close(&p);
}

static void test_response_notifications(void)
{
	struct ring_pair p;
	struct test_req reqs[8], got[8];
	struct test_rsp rsps[8] = {{0}};

	for (unsigned i = 0; i < 8; i++)
		reqs[i] = make_req(i);
	pair_open(&p, 0);
	pvio_front_put_requests(&p.front, reqs, 8);
	pvio_front_push_requests(&p.front);
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, got, 8), 8);
	/* rsp_event starts at 1. */
	pvio_back_put_responses(&p.back, rsps, 2);
	CU_ASSERT_TRUE(pvio_back_push_responses(&p.back));
	pvio_back_put_responses(&p.back, rsps, 1);
	CU_ASSERT_FALSE(pvio_back_push_responses(&p.back));
	CU_ASSERT_EQUAL(pvio_front_take_responses(&p.front, rsps, 8), 3);
	CU_ASSERT_EQUAL(pvio_front_final_check_responses(&p.front), 0);
	CU_ASSERT_EQUAL(p.front.sring->rsp_event, 4);
	pvio_back_put_responses(&p.back, rsps, 1);
	CU_ASSERT_TRUE(pvio_back_push_responses(&p.back));
	pair_close(&p);
}

/*
 * The race the final check exists for: the consumer finds the ring empty,
 * the producer publishes before the consumer re-arms (so the producer sees
 * no reason to notify), and the consumer must then find the request in its
 * final check instead of sleeping forever.
 */
static void test_final_check_race(void)
{
	struct ring_pair p;
	struct test_req req = make_req(1), got;

	pair_open(&p, 0);
	pvio_front_put_requests(&p.front, &req, 1);
	CU_ASSERT_TRUE(pvio_front_push_requests(&p.front));
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, &got, 1), 1);
	/* Consumer: ring empty. Producer slips in before the re-arm. */
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, &got, 1), 0);
	pvio_front_put_requests(&p.front, &req, 1);
	CU_ASSERT_FALSE(pvio_front_push_requests(&p.front));
	/* The final check re-arms and sees the request: no sleep. */
	CU_ASSERT_EQUAL(pvio_back_final_check_requests(&p.back), 1);
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, &got, 1), 1);
	/* The other order: re-arm first, then the producer must notify. */
	CU_ASSERT_EQUAL(pvio_back_final_check_requests(&p.back), 0);
	pvio_front_put_requests(&p.front, &req, 1);
	CU_ASSERT_TRUE(pvio_front_push_requests(&p.front));

	/* Same race on the response side. */
	struct test_rsp rsp = {0};
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, &got, 1), 1);
	pvio_back_put_responses(&p.back, &rsp, 1);
	pvio_back_push_responses(&p.back);
	CU_ASSERT_EQUAL(pvio_front_take_responses(&p.front, &rsp, 4), 1);
	CU_ASSERT_EQUAL(pvio_front_take_responses(&p.front, &rsp, 4), 0);
	pvio_back_put_responses(&p.back, &rsp, 1);
	CU_ASSERT_FALSE(pvio_back_push_responses(&p.back));
	CU_ASSERT_EQUAL(pvio_front_final_check_responses(&p.front), 1);
	pair_close(&p);
}

static void test_hostile_request_index(void)
{
	struct ring_pair p;
	struct test_req got[4];
	unsigned size;

	/* Runaway: more than a ring's worth ahead. */
	pair_open(&p, 100);
	size = p.layout.nr_slots;
	p.back.sring->req_prod = 100 + size + 1;
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, got, 4), -EPROTO);
	CU_ASSERT_TRUE(p.back.broken);
	/* Sticky: even after the index looks sane again. */
	p.back.sring->req_prod = 101;
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, got, 4), -EPROTO);
	CU_ASSERT_EQUAL(pvio_back_final_check_requests(&p.back), -EPROTO);
	CU_ASSERT_EQUAL(pvio_back_put_responses(&p.back, got, 1), 0);
	pair_close(&p);

	/* Exactly a ring's worth is legal. */
	pair_open(&p, 100);
	p.back.sring->req_prod = 100 + size;
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, got, 4), 4);
	/* Moving backwards behind what was consumed. */
	p.back.sring->req_prod = 102;
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, got, 4), -EPROTO);
	pair_close(&p);

	/* Unanswered requests plus new ones beyond a ring: the frontend
	 * overwrote slots the backend has not answered. */
	pair_open(&p, 0);
	p.back.sring->req_prod = size;
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, got, 4), 4);
	p.back.sring->req_prod = size + 1;
	CU_ASSERT_EQUAL(pvio_back_take_requests(&p.back, got, 4), -EPROTO);
	pair_close(&p);

	/* Near the 32-bit wrap a runaway index is still caught. */
	pair_open(&p, UINT32_MAX - 2);
	p.back.sring->req_prod = (UINT32_MAX - 2) + size + 7;
	CU_ASSERT_EQUAL(pvio_back_final_check_requests(&p.back), -EPROTO);
	pair_close(&p);
}

static void test_hostile_response_index(void)
{
	struct ring_pair p;
	struct test_req reqs[4] = {{0}};
	struct test_rsp rsps[8];

	pair_open(&p, 0);
	pvio_front_put_requests(&p.front, reqs, 4);
	/* Responses before any request was published. */
	p.front.sring->rsp_prod = 1;
	CU_ASSERT_EQUAL(pvio_front_take_responses(&p.front, rsps, 8), -EPROTO);
	CU_ASSERT_EQUAL(pvio_front_put_requests(&p.front, reqs, 1), 0);
	pair_close(&p);

	pair_open(&p, 0);
	pvio_front_put_requests(&p.front, reqs, 4);
	pvio_front_push_requests(&p.front);
	/* More responses than requests sent. */
	p.front.sring->rsp_prod = 5;
	CU_ASSERT_EQUAL(pvio_front_final_check_responses(&p.front), -EPROTO);
	pair_close(&p);

	pair_open(&p, 0);
	pvio_front_put_requests(&p.front, reqs, 4);
	pvio_front_push_requests(&p.front);
	p.front.sring->rsp_prod = 4;
	CU_ASSERT_EQUAL(pvio_front_take_responses(&p.front, rsps, 8), 4);
	/* Backwards. */
	p.front.sring->rsp_prod = 3;
	CU_ASSERT_EQUAL(pvio_front_take_responses(&p.front, rsps, 8), -EPROTO);
	pair_close(&p);
}

/* ---- Interoperability with Xen's ring.h macros ---- */

/* Xen frontend (macros) against pvio backend, on the netif TX ring. */
static void test_interop_xen_front_pvio_back(void)
{
	void *area = aligned_alloc(PAGE_BYTES, PAGE_BYTES);
	netif_tx_sring_t *sring = area;
	netif_tx_front_ring_t xfront;
	struct pvio_ring_layout layout;
	struct pvio_back_ring back;
	int notify;

	CU_ASSERT_PTR_NOT_NULL_FATAL(area);
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&xfront, sring, PAGE_BYTES);
	CU_ASSERT_EQUAL_FATAL(
		pvio_ring_layout_init(&layout, PAGE_BYTES,
				      sizeof(netif_tx_request_t),
				      sizeof(netif_tx_response_t),
				      sizeof(union netif_tx_sring_entry)),
		0);
	CU_ASSERT_EQUAL(layout.nr_slots, RING_SIZE(&xfront));
	pvio_back_ring_attach(&back, area, &layout, 0);

	uint16_t id = 0, expect_id = 0, expect_rsp = 0;
	/* Enough rounds to wrap the slots many times, with varying batch
	 * sizes; notify decisions must match the peer's re-arming. */
	for (unsigned round = 0; round < 600; round++) {
		unsigned batch = 1 + round % 97;
		for (unsigned i = 0; i < batch; i++) {
			netif_tx_request_t *req =
				RING_GET_REQUEST(&xfront, xfront.req_prod_pvt);
			req->gref = 1000 + id;
			req->offset = id % 4096;
			req->flags = NETTXF_more_data;
			req->id = id;
			req->size = 60 + id % 1400;
			xfront.req_prod_pvt++;
			id++;
		}
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&xfront, notify);
		/* The backend always re-arms before returning to sleep, so
		 * every batch after a drain must notify. */
		CU_ASSERT_TRUE(notify);

		netif_tx_request_t reqs[128];
		netif_tx_response_t rsps[128];
		int n = pvio_back_take_requests(&back, reqs, 128);
		CU_ASSERT_EQUAL_FATAL(n, (int)batch);
		for (int i = 0; i < n; i++) {
			CU_ASSERT_EQUAL(reqs[i].id, expect_id);
			CU_ASSERT_EQUAL(reqs[i].gref, 1000u + expect_id);
			CU_ASSERT_EQUAL(reqs[i].size, 60 + expect_id % 1400);
			rsps[i].id = reqs[i].id;
			rsps[i].status = NETIF_RSP_OKAY;
			expect_id++;
		}
		CU_ASSERT_EQUAL(pvio_back_final_check_requests(&back), 0);
		CU_ASSERT_EQUAL(pvio_back_put_responses(&back, rsps, n),
				(unsigned)n);
		bool back_notify = pvio_back_push_responses(&back);

		int more;
		RING_FINAL_CHECK_FOR_RESPONSES(&xfront, more);
		CU_ASSERT_TRUE(more);
		CU_ASSERT_TRUE(back_notify);
		while (RING_HAS_UNCONSUMED_RESPONSES(&xfront)) {
			netif_tx_response_t *rsp =
				RING_GET_RESPONSE(&xfront, xfront.rsp_cons);
			CU_ASSERT_EQUAL(rsp->id, expect_rsp);
			CU_ASSERT_EQUAL(rsp->status, NETIF_RSP_OKAY);
			expect_rsp++;
			xfront.rsp_cons++;
		}
		/* The Xen front re-armed after draining: the next pvio push
		 * must notify it. */
		RING_FINAL_CHECK_FOR_RESPONSES(&xfront, more);
		CU_ASSERT_FALSE(more);
	}
	CU_ASSERT_EQUAL(expect_rsp, id);
	CU_ASSERT_FALSE(back.broken);
	free(area);
}

/* pvio frontend against a Xen backend (macros), on the blkif ring, whose
 * responses are smaller than its slots. */
static void test_interop_pvio_front_xen_back(void)
{
	void *area = aligned_alloc(PAGE_BYTES, PAGE_BYTES);
	blkif_back_ring_t xback;
	struct pvio_ring_layout layout;
	struct pvio_front_ring front;
	int notify, more;

	CU_ASSERT_PTR_NOT_NULL_FATAL(area);
	pvio_sring_init(area, PAGE_BYTES);
	CU_ASSERT_EQUAL_FATAL(pvio_ring_layout_init(&layout, PAGE_BYTES,
						    sizeof(blkif_request_t),
						    sizeof(blkif_response_t),
						    0),
			      0);
	pvio_front_ring_attach(&front, area, &layout, 0);
	BACK_RING_INIT(&xback, (blkif_sring_t *)area, PAGE_BYTES);
	CU_ASSERT_EQUAL(layout.nr_slots, RING_SIZE(&xback));

	uint64_t next_id = 0, expect_id = 0, expect_rsp = 0;
	for (unsigned round = 0; round < 500; round++) {
		unsigned batch = 1 + round % 32;
		blkif_request_t reqs[32];
		memset(reqs, 0, sizeof(reqs));
		for (unsigned i = 0; i < batch; i++) {
			reqs[i].operation = BLKIF_OP_READ;
			reqs[i].nr_segments = 1 + next_id % 11;
			reqs[i].id = next_id;
			reqs[i].sector_number = next_id * 8;
			reqs[i].seg[0].gref = (grant_ref_t)next_id;
			next_id++;
		}
		CU_ASSERT_EQUAL_FATAL(
			pvio_front_put_requests(&front, reqs, batch), batch);
		bool front_notify = pvio_front_push_requests(&front);
		CU_ASSERT_TRUE(front_notify);

		RING_FINAL_CHECK_FOR_REQUESTS(&xback, more);
		CU_ASSERT_TRUE(more);
		while (RING_HAS_UNCONSUMED_REQUESTS(&xback)) {
			blkif_request_t req;
			RING_COPY_REQUEST(&xback, xback.req_cons, &req);
			xback.req_cons++;
			CU_ASSERT_EQUAL(req.id, expect_id);
			CU_ASSERT_EQUAL(req.sector_number, expect_id * 8);
			CU_ASSERT_EQUAL(req.nr_segments, 1 + expect_id % 11);
			blkif_response_t *rsp =
				RING_GET_RESPONSE(&xback, xback.rsp_prod_pvt);
			rsp->id = req.id;
			rsp->operation = req.operation;
			rsp->status = BLKIF_RSP_OKAY;
			xback.rsp_prod_pvt++;
			expect_id++;
		}
		RING_FINAL_CHECK_FOR_REQUESTS(&xback, more);
		CU_ASSERT_FALSE(more);
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&xback, notify);
		/* The pvio front re-armed at the end of the last round. */
		CU_ASSERT_TRUE(notify);

		blkif_response_t rsps[32];
		int n = pvio_front_take_responses(&front, rsps, 32);
		CU_ASSERT_EQUAL_FATAL(n, (int)batch);
		for (int i = 0; i < n; i++) {
			CU_ASSERT_EQUAL(rsps[i].id, expect_rsp);
			CU_ASSERT_EQUAL(rsps[i].status, BLKIF_RSP_OKAY);
			expect_rsp++;
		}
		CU_ASSERT_EQUAL(pvio_front_final_check_responses(&front), 0);
	}
	CU_ASSERT_EQUAL(expect_rsp, next_id);
	free(area);
}

/* ---- Two processes over shared memory ---- */

#define XPROC_MESSAGES	 10000000u
#define XPROC_RING_PAGES 4
#define XPROC_BATCH	 64
/* A blocked side that waits this long with work pending lost a wake-up;
 * a bound on liveness, not a performance expectation. */
#define XPROC_WAIT_LIMIT_S 30
#define XPROC_DEADLINE_S   900

struct xproc_req {
	uint64_t seq;
	uint32_t payload[5];
	uint32_t checksum;
};
struct xproc_rsp {
	uint64_t seq;
	uint32_t checksum; /* echo of the request's checksum */
	uint32_t status;
};

/* Wake-up words shared by the two processes, one per direction. */
struct xproc_shared {
	uint32_t wake_back;
	uint32_t wake_front;
	uint32_t back_errors;
	uint32_t back_lost_wakeups;
	uint64_t back_received;
};

static uint32_t payload_checksum(const uint32_t *w, unsigned n, uint64_t seq)
{
	uint32_t h = 2166136261u ^ (uint32_t)seq;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ w[i]) * 16777619u;
	return h;
}

static void fill_request(struct xproc_req *req, uint64_t seq)
{
	req->seq = seq;
	for (unsigned i = 0; i < 5; i++)
		req->payload[i] = (uint32_t)(seq * 40503u + i * 7919u);
	req->checksum = payload_checksum(req->payload, 5, seq);
}

static void wake(uint32_t *word)
{
	__atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Sleep until *word moves from seen; false when the liveness bound passed. */
static bool wait_for_wake(uint32_t *word, uint32_t seen)
{
	struct timespec limit = {XPROC_WAIT_LIMIT_S, 0};
	long rc = syscall(SYS_futex, word, FUTEX_WAIT, seen, &limit, NULL, 0);
	return !(rc == -1 && errno == ETIMEDOUT);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void xproc_backend(void *area, const struct pvio_ring_layout *layout,
			  struct xproc_shared *sh)
{
	struct pvio_back_ring back;
	struct xproc_req reqs[XPROC_BATCH];
	struct xproc_rsp rsps[XPROC_BATCH];
	uint64_t expect = 0;
	double deadline = now_s() + XPROC_DEADLINE_S;

	pvio_back_ring_attach(&back, area, layout, 0);
	while (expect < XPROC_MESSAGES && now_s() < deadline) {
		uint32_t seen =
			__atomic_load_n(&sh->wake_back, __ATOMIC_SEQ_CST);
		int n = pvio_back_take_requests(&back, reqs, XPROC_BATCH);
		if (n < 0) {
			sh->back_errors++;
			break;
		}
		if (n == 0) {
			n = pvio_back_final_check_requests(&back);
			if (n < 0) {
				sh->back_errors++;
				break;
			}
			if (n == 0 && !wait_for_wake(&sh->wake_back, seen) &&
			    pvio_back_final_check_requests(&back) > 0)
				sh->back_lost_wakeups++;
			continue;
		}
		for (int i = 0; i < n; i++) {
			const struct xproc_req *r = &reqs[i];
			bool ok = r->seq == expect &&
				  r->checksum == payload_checksum(r->payload, 5,
								  r->seq);
			if (!ok)
				sh->back_errors++;
			rsps[i].seq = r->seq;
			rsps[i].checksum = r->checksum;
			rsps[i].status = ok ? 0 : 1;
			expect++;
		}
		sh->back_received = expect;
		pvio_back_put_responses(&back, rsps, (unsigned)n);
		if (pvio_back_push_responses(&back))
			wake(&sh->wake_front);
	}
	sh->back_received = expect;
	/* Make sure the frontend is not left asleep. */
	wake(&sh->wake_front);
}

static void test_cross_process_ten_million(void)
{
	size_t bytes = XPROC_RING_PAGES * PAGE_BYTES;
	void *area = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct xproc_shared *sh =
		mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct pvio_ring_layout layout;

	CU_ASSERT_FATAL(area != MAP_FAILED && sh != MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	pvio_sring_init(area, bytes);
	CU_ASSERT_EQUAL_FATAL(
		pvio_ring_layout_init(&layout, bytes, sizeof(struct xproc_req),
				      sizeof(struct xproc_rsp), 0),
		0);

	pid_t child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0) {
		xproc_backend(area, &layout, sh);
		_exit(0);
	}

	struct pvio_front_ring front;
	struct xproc_req reqs[XPROC_BATCH];
	struct xproc_rsp rsps[XPROC_BATCH];
	uint64_t sent = 0, answered = 0, bad = 0, lost_wakeups = 0;
	int proto_errors = 0;
	double deadline = now_s() + XPROC_DEADLINE_S;

	pvio_front_ring_attach(&front, area, &layout, 0);
	while (answered < XPROC_MESSAGES && now_s() < deadline) {
		uint32_t seen =
			__atomic_load_n(&sh->wake_front, __ATOMIC_SEQ_CST);
		unsigned want = pvio_front_free_requests(&front);
		if (want > XPROC_BATCH)
			want = XPROC_BATCH;
		if (want > XPROC_MESSAGES - sent)
			want = (unsigned)(XPROC_MESSAGES - sent);
		for (unsigned i = 0; i < want; i++)
			fill_request(&reqs[i], sent + i);
		sent += pvio_front_put_requests(&front, reqs, want);
		if (pvio_front_push_requests(&front))
			wake(&sh->wake_back);

		int n = pvio_front_take_responses(&front, rsps, XPROC_BATCH);
		if (n < 0) {
			proto_errors++;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (rsps[i].seq != answered || rsps[i].status != 0)
				bad++;
			answered++;
		}
		if (n > 0 || want > 0)
			continue;
		n = pvio_front_final_check_responses(&front);
		if (n < 0) {
			proto_errors++;
			break;
		}
		if (n == 0 && !wait_for_wake(&sh->wake_front, seen) &&
		    pvio_front_final_check_responses(&front) > 0)
			lost_wakeups++;
	}

	int status = 0;
	if (answered < XPROC_MESSAGES)
		kill(child, SIGKILL);
	CU_ASSERT_EQUAL(waitpid(child, &status, 0), child);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_EQUAL(proto_errors, 0);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(lost_wakeups, 0);
	CU_ASSERT_EQUAL(sh->back_errors, 0);
	CU_ASSERT_EQUAL(sh->back_lost_wakeups, 0);
	CU_ASSERT_EQUAL(sh->back_received, XPROC_MESSAGES);
	CU_ASSERT_EQUAL(answered, XPROC_MESSAGES);
	munmap(area, bytes);
	munmap(sh, sizeof(*sh));
}

/*
 * pvio's producers and consumers order the event-index handshake with a
 * release store and a full fence (pvio_ring_publish, the final checks);
 * Xen's macros with wmb() and mb(). Across processes, each side sleeping
 * until the other wakes it, the two must never leave one asleep with work
 * pending: pvio front against a ring.h back, netif TX layout.
 */
#define XEN_XPROC_MESSAGES 500000u

static void xen_xproc_backend(void *area, struct xproc_shared *sh)
{
	netif_tx_back_ring_t back;
	uint16_t expect = 0;
	uint64_t done = 0;
	double deadline = now_s() + XPROC_DEADLINE_S;
	int more, notify;

	BACK_RING_INIT(&back, (netif_tx_sring_t *)area, PAGE_BYTES);
	while (done < XEN_XPROC_MESSAGES && now_s() < deadline) {
		uint32_t seen =
			__atomic_load_n(&sh->wake_back, __ATOMIC_SEQ_CST);
		RING_FINAL_CHECK_FOR_REQUESTS(&back, more);
		if (!more) {
			if (!wait_for_wake(&sh->wake_back, seen) &&
			    RING_HAS_UNCONSUMED_REQUESTS(&back))
				sh->back_lost_wakeups++;
			continue;
		}
		while (RING_HAS_UNCONSUMED_REQUESTS(&back)) {
			netif_tx_request_t req;
			RING_COPY_REQUEST(&back, back.req_cons, &req);
			back.req_cons++;
			if (req.id != expect++ ||
			    req.size != (uint16_t)(req.id * 3u + 1u))
				sh->back_errors++;
			netif_tx_response_t *rsp =
				RING_GET_RESPONSE(&back, back.rsp_prod_pvt);
			rsp->id = req.id;
			rsp->status = NETIF_RSP_OKAY;
			back.rsp_prod_pvt++;
			done++;
		}
		sh->back_received = done;
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&back, notify);
		if (notify)
			wake(&sh->wake_front);
	}
	sh->back_received = done;
	wake(&sh->wake_front);
}

static void test_cross_process_pvio_front_xen_back(void)
{
	void *area = mmap(NULL, PAGE_BYTES, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct xproc_shared *sh =
		mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct pvio_ring_layout layout;

	CU_ASSERT_FATAL(area != MAP_FAILED && sh != MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	pvio_sring_init(area, PAGE_BYTES);
	CU_ASSERT_EQUAL_FATAL(
		pvio_ring_layout_init(&layout, PAGE_BYTES,
				      sizeof(netif_tx_request_t),
				      sizeof(netif_tx_response_t),
				      sizeof(union netif_tx_sring_entry)),
		0);
	pid_t child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0) {
		xen_xproc_backend(area, sh);
		_exit(0);
	}

	struct pvio_front_ring front;
	netif_tx_request_t reqs[XPROC_BATCH];
	netif_tx_response_t rsps[XPROC_BATCH];
	uint64_t sent = 0, answered = 0, bad = 0, lost_wakeups = 0;
	int proto_errors = 0;
	double deadline = now_s() + XPROC_DEADLINE_S;

	pvio_front_ring_attach(&front, area, &layout, 0);
	while (answered < XEN_XPROC_MESSAGES && now_s() < deadline) {
		uint32_t seen =
			__atomic_load_n(&sh->wake_front, __ATOMIC_SEQ_CST);
		unsigned want = pvio_front_free_requests(&front);
		if (want > XPROC_BATCH)
			want = XPROC_BATCH;
		if (want > XEN_XPROC_MESSAGES - sent)
			want = (unsigned)(XEN_XPROC_MESSAGES - sent);
		for (unsigned i = 0; i < want; i++) {
			uint16_t id = (uint16_t)(sent + i);
			reqs[i] = (netif_tx_request_t){
				.id = id, .size = (uint16_t)(id * 3u + 1u)};
		}
		sent += pvio_front_put_requests(&front, reqs, want);
		if (pvio_front_push_requests(&front))
			wake(&sh->wake_back);
		int n = pvio_front_take_responses(&front, rsps, XPROC_BATCH);
		if (n < 0) {
			proto_errors++;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (rsps[i].id != (uint16_t)answered ||
			    rsps[i].status != NETIF_RSP_OKAY)
				bad++;
			answered++;
		}
		if (n > 0 || want > 0)
			continue;
		n = pvio_front_final_check_responses(&front);
		if (n < 0) {
			proto_errors++;
			break;
		}
		if (n == 0 && !wait_for_wake(&sh->wake_front, seen) &&
		    pvio_front_final_check_responses(&front) > 0)
			lost_wakeups++;
	}

	int status = 0;
	if (answered < XEN_XPROC_MESSAGES)
		kill(child, SIGKILL);
	CU_ASSERT_EQUAL(waitpid(child, &status, 0), child);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_EQUAL(proto_errors, 0);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(lost_wakeups, 0);
	CU_ASSERT_EQUAL(sh->back_errors, 0);
	CU_ASSERT_EQUAL(sh->back_lost_wakeups, 0);
	CU_ASSERT_EQUAL(sh->back_received, XEN_XPROC_MESSAGES);
	CU_ASSERT_EQUAL(answered, XEN_XPROC_MESSAGES);
	munmap(area, PAGE_BYTES);
	munmap(sh, sizeof(*sh));
}

static CU_TestInfo semantics_tests[] = {
	{"layout matches Xen", test_layout},
	{"SHARED_RING_INIT", test_sring_init},
	{"32-bit index wrap-around", test_wraparound},
	{"full and empty ring", test_full_and_empty},
	{"odd entry sizes", test_odd_entry_sizes},
	{"consumer gets a private copy", test_consumer_gets_private_copy},
	{"request notifications", test_request_notifications},
	{"response notifications", test_response_notifications},
	{"final-check race", test_final_check_race},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo hostile_tests[] = {
	{"runaway and backwards request index", test_hostile_request_index},
	{"responses never requested", test_hostile_response_index},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo interop_tests[] = {
	{"Xen ring.h front, pvio back (netif TX)",
	 test_interop_xen_front_pvio_back},
	{"pvio front, Xen ring.h back (blkif)",
	 test_interop_pvio_front_xen_back},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo xproc_tests[] = {
	{"ten million requests across processes",
	 test_cross_process_ten_million},
	{"pvio front, Xen ring.h back, sleeping on both sides",
	 test_cross_process_pvio_front_xen_back},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"ring semantics", NULL, NULL, NULL, NULL, semantics_tests},
	{"hostile peer", NULL, NULL, NULL, NULL, hostile_tests},
	{"ring.h interoperability", NULL, NULL, NULL, NULL, interop_tests},
	{"cross-process", NULL, NULL, NULL, NULL, xproc_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return pvio_cunit_run(suites);
}
