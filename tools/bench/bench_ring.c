/*
 * pvio-bench ring: throughput and round-trip latency of the shared ring
 * between two processes pinned to different CPUs, against the same workload
 * driven by Xen's ring.h macros and a bare cache-line ping-pong, all measured
 * in the same run. Every side busy-polls: this measures the ring, not the
 * wake-up mechanism.
 */
#include "config.h"

#include "bench.h"
#include "pvio_ring.h"
#include "xen_ring_barriers.h"

#include <stdio.h>
#include <stdlib.h>

#include <xen/grant_table.h>
#include <xen/io/netif.h>

#define RING_PAGE_BYTES 4096
#define MAX_BATCH	256

struct ring_options {
	uint64_t requests;    /* per throughput measurement */
	uint64_t round_trips; /* per latency measurement */
	unsigned batch;
	unsigned rounds;
	int front_cpu, back_cpu;
};

/* Memory shared by the two processes of one measurement. */
struct ring_shared {
	uint8_t area[RING_PAGE_BYTES] __attribute__((aligned(RING_PAGE_BYTES)));
	uint32_t back_ready __attribute__((aligned(64)));
	uint32_t back_errors;
	uint64_t pingpong __attribute__((aligned(64)));
};

struct back_args {
	struct ring_shared *sh;
	uint64_t count; /* requests to answer */
	unsigned batch;
};

/* Busy polling: a compiler barrier only. A pause instruction costs up to
 * ~140 cycles on recent x86 cores, which would dominate the round trip. */
static void cpu_relax(void)
{
	__asm__ __volatile__("" ::: "memory");
}

static uint32_t load_relaxed(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void announce_ready(struct ring_shared *sh)
{
	__atomic_store_n(&sh->back_ready, 1, __ATOMIC_RELEASE);
}

static void wait_back_ready(struct ring_shared *sh)
{
	while (!__atomic_load_n(&sh->back_ready, __ATOMIC_ACQUIRE))
		cpu_relax();
}

static void prepare(struct ring_shared *sh)
{
	memset(sh, 0, sizeof(*sh));
	SHARED_RING_INIT((netif_tx_sring_t *)sh->area);
}

static netif_tx_request_t make_request(uint16_t id)
{
	return (netif_tx_request_t){
		.gref = id, .offset = 0, .flags = 0, .id = id, .size = 1500};
}

static const struct pvio_ring_layout *netif_tx_layout(void)
{
	static struct pvio_ring_layout layout;

	if (!layout.nr_slots &&
	    pvio_ring_layout_init(&layout, RING_PAGE_BYTES,
				  sizeof(netif_tx_request_t),
				  sizeof(netif_tx_response_t),
				  sizeof(union netif_tx_sring_entry))) {
		fprintf(stderr, "pvio-bench: netif TX layout rejected\n");
		exit(1);
	}
	return &layout;
}

/* ---- backends (child process) ---- */

static int pvio_back(void *arg)
{
	struct back_args *a = arg;
	struct pvio_back_ring back;
	netif_tx_request_t reqs[MAX_BATCH];
	uint16_t expect = 0;

	pvio_back_ring_attach(&back, a->sh->area, netif_tx_layout(), 0);
	announce_ready(a->sh);
	for (uint64_t done = 0; done < a->count;) {
		int n = pvio_back_take_requests(&back, reqs, a->batch);
		if (n < 0)
			return 1;
		if (n == 0) {
			cpu_relax();
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (reqs[i].id != expect++)
				a->sh->back_errors++;
			netif_tx_response_t *rsp =
				pvio_back_response_slot(&back, (unsigned)i);
			rsp->id = reqs[i].id;
			rsp->status = NETIF_RSP_OKAY;
		}
		pvio_back_produce_responses(&back, (unsigned)n);
		pvio_back_push_responses(&back);
		done += (unsigned)n;
	}
	return 0;
}

static int xen_back(void *arg)
{
	struct back_args *a = arg;
	netif_tx_back_ring_t back;
	netif_tx_sring_t *sring = (netif_tx_sring_t *)a->sh->area;
	uint16_t expect = 0;
	int notify;

	BACK_RING_INIT(&back, sring, RING_PAGE_BYTES);
	announce_ready(a->sh);
	for (uint64_t done = 0; done < a->count;) {
		RING_IDX prod = load_relaxed(&sring->req_prod);
		if (prod == back.req_cons) {
			cpu_relax();
			continue;
		}
		rmb();
		unsigned n = 0;
		while (back.req_cons != prod && n < a->batch) {
			netif_tx_request_t req;
			RING_COPY_REQUEST(&back, back.req_cons, &req);
			back.req_cons++;
			if (req.id != expect++)
				a->sh->back_errors++;
			netif_tx_response_t *rsp =
				RING_GET_RESPONSE(&back, back.rsp_prod_pvt);
			rsp->id = req.id;
			rsp->status = NETIF_RSP_OKAY;
			back.rsp_prod_pvt++;
			n++;
		}
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&back, notify);
		(void)notify;
		done += n;
	}
	return 0;
}

/* ---- frontends (parent process); each returns elapsed nanoseconds ---- */

static uint64_t pvio_front_stream(struct ring_shared *sh, uint64_t count,
				  unsigned batch)
{
	struct pvio_front_ring front;
	netif_tx_response_t rsps[MAX_BATCH];
	uint64_t sent = 0, answered = 0;

	pvio_front_ring_attach(&front, sh->area, netif_tx_layout(), 0);
	wait_back_ready(sh);
	uint64_t start = bench_now_ns();
	while (answered < count) {
		unsigned want = pvio_front_free_requests(&front);
		if (want > batch)
			want = batch;
		if (want > count - sent)
			want = (unsigned)(count - sent);
		for (unsigned i = 0; i < want; i++)
			*(netif_tx_request_t *)pvio_front_request_slot(
				&front, i) = make_request((uint16_t)(sent + i));
		sent += pvio_front_produce_requests(&front, want);
		pvio_front_push_requests(&front);
		int n = pvio_front_take_responses(&front, rsps, MAX_BATCH);
		if (n < 0)
			return 0;
		for (int i = 0; i < n; i++)
			if (rsps[i].status != NETIF_RSP_OKAY)
				return 0;
		answered += (unsigned)n;
	}
	return bench_now_ns() - start;
}

static uint64_t xen_front_stream(struct ring_shared *sh, uint64_t count,
				 unsigned batch)
{
	netif_tx_front_ring_t front;
	netif_tx_sring_t *sring = (netif_tx_sring_t *)sh->area;
	netif_tx_response_t rsps[MAX_BATCH];
	uint64_t sent = 0, answered = 0;
	int notify;

	FRONT_RING_INIT(&front, sring, RING_PAGE_BYTES);
	wait_back_ready(sh);
	uint64_t start = bench_now_ns();
	while (answered < count) {
		unsigned want = RING_FREE_REQUESTS(&front);
		if (want > batch)
			want = batch;
		if (want > count - sent)
			want = (unsigned)(count - sent);
		for (unsigned i = 0; i < want; i++) {
			*RING_GET_REQUEST(&front, front.req_prod_pvt) =
				make_request((uint16_t)(sent + i));
			front.req_prod_pvt++;
		}
		sent += want;
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front, notify);
		(void)notify;
		RING_IDX prod = load_relaxed(&sring->rsp_prod);
		rmb();
		unsigned n = 0;
		while (front.rsp_cons != prod && n < MAX_BATCH) {
			RING_COPY_RESPONSE(&front, front.rsp_cons, &rsps[n]);
			front.rsp_cons++;
			if (rsps[n++].status != NETIF_RSP_OKAY)
				return 0;
		}
		answered += n;
	}
	return bench_now_ns() - start;
}

static uint64_t pvio_front_round_trips(struct ring_shared *sh, uint64_t count)
{
	struct pvio_front_ring front;
	netif_tx_response_t rsp;

	pvio_front_ring_attach(&front, sh->area, netif_tx_layout(), 0);
	wait_back_ready(sh);
	uint64_t start = bench_now_ns();
	for (uint64_t i = 0; i < count; i++) {
		*(netif_tx_request_t *)pvio_front_request_slot(&front, 0) =
			make_request((uint16_t)i);
		pvio_front_produce_requests(&front, 1);
		pvio_front_push_requests(&front);
		int n;
		while ((n = pvio_front_take_responses(&front, &rsp, 1)) == 0)
			cpu_relax();
		if (n < 0 || rsp.status != NETIF_RSP_OKAY)
			return 0;
	}
	return bench_now_ns() - start;
}

static uint64_t xen_front_round_trips(struct ring_shared *sh, uint64_t count)
{
	netif_tx_front_ring_t front;
	netif_tx_sring_t *sring = (netif_tx_sring_t *)sh->area;
	netif_tx_response_t rsp;
	int notify;

	FRONT_RING_INIT(&front, sring, RING_PAGE_BYTES);
	wait_back_ready(sh);
	uint64_t start = bench_now_ns();
	for (uint64_t i = 0; i < count; i++) {
		*RING_GET_REQUEST(&front, front.req_prod_pvt) =
			make_request((uint16_t)i);
		front.req_prod_pvt++;
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front, notify);
		(void)notify;
		while (load_relaxed(&sring->rsp_prod) == front.rsp_cons)
			cpu_relax();
		rmb();
		RING_COPY_RESPONSE(&front, front.rsp_cons, &rsp);
		front.rsp_cons++;
		if (rsp.status != NETIF_RSP_OKAY)
			return 0;
	}
	return bench_now_ns() - start;
}

/* ---- bare cache-line ping-pong ---- */

struct pingpong_args {
	struct ring_shared *sh;
	uint64_t count;
};

static int pingpong_back(void *arg)
{
	struct pingpong_args *a = arg;

	announce_ready(a->sh);
	for (uint64_t i = 0; i < a->count; i++) {
		while (__atomic_load_n(&a->sh->pingpong, __ATOMIC_ACQUIRE) !=
		       2 * i + 1)
			cpu_relax();
		__atomic_store_n(&a->sh->pingpong, 2 * i + 2, __ATOMIC_RELEASE);
	}
	return 0;
}

static uint64_t pingpong_front(struct ring_shared *sh, uint64_t count)
{
	wait_back_ready(sh);
	uint64_t start = bench_now_ns();
	for (uint64_t i = 0; i < count; i++) {
		__atomic_store_n(&sh->pingpong, 2 * i + 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(&sh->pingpong, __ATOMIC_ACQUIRE) !=
		       2 * i + 2)
			cpu_relax();
	}
	return bench_now_ns() - start;
}

/* ---- driver ---- */

enum workload { STREAM, ROUND_TRIP };
enum driver { PVIO, XEN_MACROS };

/* Run one measurement; returns elapsed ns, exits on a failed run. */
static uint64_t measure(struct ring_shared *sh, const struct ring_options *opt,
			enum workload w, enum driver d)
{
	struct back_args args = {
		.sh = sh,
		.count = w == STREAM ? opt->requests : opt->round_trips,
		.batch = w == STREAM ? opt->batch : 1,
	};

	prepare(sh);
	pid_t child = bench_fork_pinned(
		opt->back_cpu, d == PVIO ? pvio_back : xen_back, &args);
	uint64_t ns;
	if (w == STREAM)
		ns = d == PVIO ? pvio_front_stream(sh, args.count, opt->batch)
			       : xen_front_stream(sh, args.count, opt->batch);
	else
		ns = d == PVIO ? pvio_front_round_trips(sh, args.count)
			       : xen_front_round_trips(sh, args.count);
	if (bench_wait_child(child) != 0 || ns == 0 || sh->back_errors) {
		fprintf(stderr,
			"pvio-bench ring: a %s %s run failed (protocol error "
			"or lost request)\n",
			d == PVIO ? "pvio" : "ring.h",
			w == STREAM ? "throughput" : "round-trip");
		exit(1);
	}
	return ns;
}

static uint64_t measure_pingpong(struct ring_shared *sh,
				 const struct ring_options *opt)
{
	struct pingpong_args args = {.sh = sh, .count = opt->round_trips};

	prepare(sh);
	pid_t child = bench_fork_pinned(opt->back_cpu, pingpong_back, &args);
	uint64_t ns = pingpong_front(sh, opt->round_trips);
	if (bench_wait_child(child) != 0) {
		fprintf(stderr, "pvio-bench ring: ping-pong child failed\n");
		exit(1);
	}
	return ns;
}

int bench_ring(int argc, char **argv)
{
	uint64_t requests = 5000000, round_trips = 200000, batch = 64,
		 rounds = 11;
	const struct bench_option options[] = {
		{"requests", "requests per throughput run", &requests, 1, 0,
		 NULL},
		{"round-trips", "round trips per latency run", &round_trips, 1,
		 0, NULL},
		{"batch", "requests per push", &batch, 1, MAX_BATCH, NULL},
		BENCH_ROUNDS_OPTION(rounds),
		{NULL, NULL, NULL, 0, 0, NULL},
	};
	int parsed = bench_parse_options("ring", argc, argv, options, NULL);
	if (parsed)
		return parsed == 1 ? 0 : 2;
	struct ring_options opt = {
		.requests = requests,
		.round_trips = round_trips,
		.batch = (unsigned)batch,
		.rounds = (unsigned)rounds,
	};

	bench_pin_pair("ring", &opt.front_cpu, &opt.back_cpu);
	struct ring_shared *sh = bench_shared_alloc(sizeof(*sh));

	double *tput_pvio = calloc(opt.rounds, sizeof(double));
	double *tput_xen = calloc(opt.rounds, sizeof(double));
	double *rtt_pvio = calloc(opt.rounds, sizeof(double));
	double *rtt_xen = calloc(opt.rounds, sizeof(double));
	double *rtt_pingpong = calloc(opt.rounds, sizeof(double));
	if (!tput_pvio || !tput_xen || !rtt_pvio || !rtt_xen || !rtt_pingpong) {
		fprintf(stderr, "pvio-bench ring: out of memory\n");
		return 1;
	}

	printf("pvio-bench ring: netif TX ring (%u slots, %zu-byte requests) "
	       "on one page; front on CPU %d, back on CPU %d; busy polling\n",
	       netif_tx_layout()->nr_slots, sizeof(netif_tx_request_t),
	       opt.front_cpu, opt.back_cpu);
	printf("  %u rounds, interleaved; medians. Throughput: %llu requests "
	       "in batches of %u. Round trip: %llu x 1 request.\n",
	       opt.rounds, (unsigned long long)opt.requests, opt.batch,
	       (unsigned long long)opt.round_trips);
	fflush(stdout);

	/* Interleave the variants so that a noisy moment hits all alike. */
	for (unsigned r = 0; r < opt.rounds; r++) {
		rtt_pingpong[r] =
			(double)measure_pingpong(sh, &opt) / opt.round_trips;
		rtt_pvio[r] = (double)measure(sh, &opt, ROUND_TRIP, PVIO) /
			      opt.round_trips;
		rtt_xen[r] = (double)measure(sh, &opt, ROUND_TRIP, XEN_MACROS) /
			     opt.round_trips;
		tput_pvio[r] = opt.requests * 1e9 /
			       (double)measure(sh, &opt, STREAM, PVIO);
		tput_xen[r] = opt.requests * 1e9 /
			      (double)measure(sh, &opt, STREAM, XEN_MACROS);
		fprintf(stderr, "  round %u/%u done\n", r + 1, opt.rounds);
	}

	printf("one-way throughput (batched):\n");
	double tp = bench_report_samples("pvio ring", tput_pvio, opt.rounds,
					 "requests/s");
	double tx = bench_report_samples("Xen ring.h macros", tput_xen,
					 opt.rounds, "requests/s");
	bench_report_ratio("ratio pvio / ring.h", tp / tx, ">= 1.0");
	printf("request/response round trip:\n");
	double rb = bench_report_samples("bare cache-line ping-pong",
					 rtt_pingpong, opt.rounds, "ns");
	double rp =
		bench_report_samples("pvio ring", rtt_pvio, opt.rounds, "ns");
	double rx = bench_report_samples("Xen ring.h macros", rtt_xen,
					 opt.rounds, "ns");
	bench_report_ratio("ratio pvio / ping-pong", rp / rb, "<= 1.5");
	bench_report_ratio("ratio ring.h / ping-pong", rx / rb,
			   "for reference");
	bench_report_ratio("ratio pvio / ring.h", rp / rx, "for reference");

	free(tput_pvio);
	free(tput_xen);
	free(rtt_pvio);
	free(rtt_xen);
	free(rtt_pingpong);
	bench_shared_free(sh, sizeof(*sh));
	return 0;
}
