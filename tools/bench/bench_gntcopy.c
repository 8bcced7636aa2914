/*
 * pvio-bench gntcopy: grant-copy throughput on the sim platform for 64 B,
 * 1500 B and 4 KiB segments, against plain memcpy of the same sizes over the
 * same working set, measured in the same run. A child process (domain 1)
 * grants a pool of pages to domain 0; the parent copies out of them in
 * batches of segments, as a backend does with a guest's TX buffers.
 */
#include "config.h"

#include "bench.h"
#include "bench_sim.h"
#include "pvio_gnt.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define PAGE	   PVIO_GNT_PAGE_BYTES
#define POOL_PAGES 256
#define BATCH	   64
/*
 * Destination slots start 128 bytes into a page: source and destination at
 * the same offset within their pages would measure the CPU's 4K-aliasing
 * stalls (half the speed of small copies), not the copy.
 */
#define DST_SKEW 128

static const unsigned sizes[] = {64, 1500, 4096};
#define NR_SIZES (sizeof(sizes) / sizeof(sizes[0]))

struct gntcopy_shared {
	grant_ref_t refs[POOL_PAGES];
	uint32_t ready; /* 1: granted; -1: failed */
	uint32_t done;	/* the parent has finished */
};

struct gntcopy_options {
	uint64_t bytes; /* per measurement */
	unsigned rounds;
	int first_cpu, second_cpu;
};

static int granter(void *arg)
{
	struct gntcopy_shared *sh = arg;
	struct pvio_gntshr *s;
	uint8_t *pages;

	/* Never outlive a parent that failed half-way. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 1;
	bench_sim_set_domid(1);
	if (pvio_gntshr_open(PVIO_PLATFORM_SIM, &s) ||
	    pvio_gntshr_share(s, 0, POOL_PAGES, false, sh->refs,
			      (void **)&pages)) {
		__atomic_store_n(&sh->ready, (uint32_t)-1, __ATOMIC_RELEASE);
		return 1;
	}
	for (size_t i = 0; i < (size_t)POOL_PAGES * PAGE; i++)
		pages[i] = (uint8_t)(i * 7);
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	/* Keep the grants until the parent is done (bounded: 10 minutes). */
	struct timespec ms = {0, 1000000};
	for (int i = 0; i < 600000; i++) {
		if (__atomic_load_n(&sh->done, __ATOMIC_ACQUIRE))
			break;
		nanosleep(&ms, NULL);
	}
	int err = pvio_gntshr_unshare(s, pages, POOL_PAGES);
	pvio_gntshr_close(s);
	return err ? 2 : 0;
}

static void compiler_barrier(void)
{
	__asm__ __volatile__("" ::: "memory");
}

/* Copies per measurement so that each moves about opt->bytes. */
static uint64_t batches_for(const struct gntcopy_options *opt, unsigned size)
{
	uint64_t n = opt->bytes / ((uint64_t)size * BATCH);
	return n ? n : 1;
}

static double measure_memcpy(const struct gntcopy_options *opt, unsigned size,
			     const uint8_t *src, uint8_t *dst)
{
	uint64_t batches = batches_for(opt, size);
	unsigned page = 0;
	uint64_t start = bench_now_ns();

	for (uint64_t b = 0; b < batches; b++) {
		for (unsigned i = 0; i < BATCH; i++) {
			memcpy(dst + (size_t)page * PAGE + DST_SKEW,
			       src + (size_t)page * PAGE, size);
			page = (page + 1) % POOL_PAGES;
		}
		compiler_barrier();
	}
	uint64_t ns = bench_now_ns() - start;
	return (double)(batches * BATCH * size) / ((double)ns / 1e9);
}

static double measure_gntcopy(const struct gntcopy_options *opt, unsigned size,
			      struct pvio_gnttab *t, pvio_gnt_copy_seg_t *segs,
			      uint8_t *dst)
{
	uint64_t batches = batches_for(opt, size);

	for (unsigned i = 0; i < POOL_PAGES; i++) {
		segs[i].len = (uint16_t)size;
		segs[i].dest.virt = dst + (size_t)i * PAGE + DST_SKEW;
	}
	unsigned first = 0;
	uint64_t start = bench_now_ns();
	for (uint64_t b = 0; b < batches; b++) {
		pvio_gnt_copy_seg_t *batch = &segs[first];
		if (pvio_gnttab_copy(t, BATCH, batch)) {
			fprintf(stderr, "pvio-bench gntcopy: copy failed\n");
			exit(1);
		}
		for (unsigned i = 0; i < BATCH; i++)
			if (batch[i].status != GNTST_okay) {
				fprintf(stderr,
					"pvio-bench gntcopy: segment status "
					"%d (%s)\n",
					batch[i].status,
					pvio_gnt_status_str(batch[i].status));
				exit(1);
			}
		first = (first + BATCH) % POOL_PAGES;
	}
	uint64_t ns = bench_now_ns() - start;
	/* The copies were real: byte 1 of every granted page is 7. */
	if (size > 1 && dst[DST_SKEW + 1] != 7) {
		fprintf(stderr, "pvio-bench gntcopy: copied data is wrong\n");
		exit(1);
	}
	return (double)(batches * BATCH * size) / ((double)ns / 1e9);
}

int bench_gntcopy(int argc, char **argv)
{
	uint64_t bytes = 256u << 20, rounds = 11;
	const struct bench_option options[] = {
		{"bytes", "bytes copied per measurement", &bytes, 1, 0, NULL},
		BENCH_ROUNDS_OPTION(rounds),
		{NULL, NULL, NULL, 0, 0, NULL},
	};
	int parsed = bench_parse_options("gntcopy", argc, argv, options,
					 BENCH_SIM_HELP);
	if (parsed)
		return parsed == 1 ? 0 : 2;
	struct gntcopy_options opt = {.bytes = bytes,
				      .rounds = (unsigned)rounds};

	bench_pin_pair("gntcopy", &opt.first_cpu, &opt.second_cpu);
	char *rundir = bench_sim_rundir_create("gntcopy");
	struct gntcopy_shared *sh = bench_shared_alloc(sizeof(*sh));
	pid_t child = bench_fork_pinned(opt.second_cpu, granter, sh);
	for (int i = 0; !__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE); i++) {
		if (i > 1000000) {
			fprintf(stderr, "pvio-bench gntcopy: the granting "
					"process did not start\n");
			return 1;
		}
		sched_yield();
	}
	if (sh->ready != 1) {
		fprintf(stderr, "pvio-bench gntcopy: granting failed\n");
		return 1;
	}
	struct pvio_gnttab *t;
	int err = pvio_gnttab_open(PVIO_PLATFORM_SIM, &t);
	if (err) {
		fprintf(stderr, "pvio-bench gntcopy: open: %s %s\n",
			strerror(-err), pvio_platform_last_error());
		return 1;
	}
	/* The same working set for both: a pool of pages copied into a
	 * destination pool, page after page. */
	uint8_t *src = aligned_alloc(PAGE, (size_t)POOL_PAGES * PAGE);
	uint8_t *dst = aligned_alloc(PAGE, (size_t)(POOL_PAGES + 1) * PAGE);
	pvio_gnt_copy_seg_t *segs = calloc(POOL_PAGES, sizeof(*segs));
	double *mc = calloc(opt.rounds * NR_SIZES, sizeof(double));
	double *gc = calloc(opt.rounds * NR_SIZES, sizeof(double));
	if (!src || !dst || !segs || !mc || !gc) {
		fprintf(stderr, "pvio-bench gntcopy: out of memory\n");
		return 1;
	}
	memset(src, 0x5a, (size_t)POOL_PAGES * PAGE);
	memset(dst, 0, (size_t)(POOL_PAGES + 1) * PAGE);
	for (unsigned i = 0; i < POOL_PAGES; i++) {
		segs[i].source.foreign.ref = sh->refs[i];
		segs[i].source.foreign.offset = 0;
		segs[i].source.foreign.domid = 1;
		segs[i].flags = GNTCOPY_source_gref;
	}
	printf("pvio-bench gntcopy: grant copy out of %u granted pages "
	       "(sim), batches of %u segments\n",
	       POOL_PAGES, BATCH);
	printf("  %u rounds, interleaved; medians of about %llu bytes "
	       "each\n",
	       opt.rounds, (unsigned long long)opt.bytes);
	for (unsigned r = 0; r < opt.rounds; r++) {
		for (unsigned s = 0; s < NR_SIZES; s++) {
			mc[s * opt.rounds + r] =
				measure_memcpy(&opt, sizes[s], src, dst);
			gc[s * opt.rounds + r] =
				measure_gntcopy(&opt, sizes[s], t, segs, dst);
		}
		fprintf(stderr, "  round %u/%u done\n", r + 1, opt.rounds);
	}
	for (unsigned s = 0; s < NR_SIZES; s++) {
		printf("%u-byte segments:\n", sizes[s]);
		for (unsigned r = 0; r < opt.rounds; r++) {
			mc[s * opt.rounds + r] /= 1e6;
			gc[s * opt.rounds + r] /= 1e6;
		}
		double m = bench_report_samples("memcpy", &mc[s * opt.rounds],
						opt.rounds, "MB/s");
		double g = bench_report_samples("pvio grant copy (sim)",
						&gc[s * opt.rounds], opt.rounds,
						"MB/s");
		bench_report_ratio("ratio grant copy / memcpy", g / m,
				   sizes[s] == PAGE ? ">= 0.8" : "none");
	}
	__atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
	pvio_gnttab_close(t);
	int status = bench_wait_child(child);
	free(src);
	free(dst);
	free(segs);
	free(mc);
	free(gc);
	bench_shared_free(sh, sizeof(*sh));
	bench_sim_rundir_remove(rundir);
	if (status != 0) {
		fprintf(stderr, "pvio-bench gntcopy: the granting process "
				"failed to end access\n");
		return 1;
	}
	return 0;
}
