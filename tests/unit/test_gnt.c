/*
 * Grant tables on the sim platform: every domain is a forked process, and
 * every rule Xen enforces is checked, refusals included.
 */
#include "config.h"

#include "cunit_main.h"
#include "pvio_gnt.h"
#include "sim_fixture.h"

#include <fcntl.h>
#include <setjmp.h>

#define PAGE PVIO_GNT_PAGE_BYTES

/* What the parent and a child exchange besides the step tokens. */
struct gnt_shared {
	grant_ref_t refs[4];
	uint32_t nr_refs;
	int results[16];
	int16_t status[16];
	uint8_t snapshot[64];
};

static struct gnt_shared *sh;

static int suite_init(void)
{
	if (fixture_init())
		return -1;
	sh = fixture_shared(sizeof(*sh));
	return sh ? 0 : -1;
}

static int suite_cleanup(void)
{
	if (sh)
		munmap(sh, sizeof(*sh));
	return fixture_cleanup();
}

static struct pvio_gntshr *open_sharer_as(unsigned domid)
{
	struct pvio_gntshr *h = NULL;
	fixture_set_domid(domid);
	int err = pvio_gntshr_open(PVIO_PLATFORM_AUTO, &h);
	CU_ASSERT_EQUAL(err, 0);
	fixture_set_domid(0);
	return err ? NULL : h;
}

/* The guest-visible flags of a domain's grant entry, read from its table. */
static uint16_t entry_flags(unsigned domid, grant_ref_t ref)
{
	char path[512];
	grant_entry_v1_t e = {0};
	snprintf(path, sizeof(path), "%s/dom%u/grant-table", fixture_rundir,
		 domid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0xffff;
	if (pread(fd, &e, sizeof(e), (off_t)ref * sizeof(e)) != sizeof(e))
		e.flags = 0xffff;
	close(fd);
	return e.flags;
}

static void reset_shared(void)
{
	memset(sh, 0, sizeof(*sh));
	for (int i = 0; i < 16; i++)
		sh->results[i] = 12345;
}

/*
 * The start of most tests: domain 1's sharing handle and a fresh link for
 * the child that maps or copies as another domain.
 */
static struct pvio_gntshr *start_as_domain1(struct fixture_link *l)
{
	struct pvio_gntshr *s = open_sharer_as(1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(fixture_link_open(l), 0);
	reset_shared();
	return s;
}

/* ---- map and share, zero copy ---- */

static int child_map_write(struct fixture_link *l, void *arg)
{
	struct pvio_gnttab *t;
	void *addr;
	int v;

	(void)arg;
	if (pvio_gnttab_open(PVIO_PLATFORM_AUTO, &t))
		return 1;
	sh->results[0] =
		pvio_gnttab_map(t, 1, sh->nr_refs, sh->refs, true, &addr);
	if (sh->results[0] == 0) {
		memcpy(sh->snapshot, (uint8_t *)addr + PAGE, 64);
		((uint8_t *)addr)[100] = 0xab; /* seen by the granter */
	}
	if (child_send(l, 1) || child_recv(l, &v))
		return 2;
	if (sh->results[0] == 0)
		sh->results[1] = pvio_gnttab_unmap(t, addr, sh->nr_refs);
	pvio_gnttab_close(t);
	return child_send(l, 2) ? 3 : 0;
}

static void test_share_map_zero_copy(void)
{
	struct fixture_link l;
	uint8_t *page;
	int v;

	struct pvio_gntshr *s = start_as_domain1(&l);
	sh->nr_refs = 2;
	CU_ASSERT_EQUAL_FATAL(
		pvio_gntshr_share(s, 0, 2, true, sh->refs, (void **)&page), 0);
	CU_ASSERT(sh->refs[0] >= GNTTAB_NR_RESERVED_ENTRIES);
	CU_ASSERT_EQUAL(page[0], 0); /* fresh pages are zeroed */
	CU_ASSERT_EQUAL(entry_flags(1, sh->refs[0]), GTF_permit_access);
	memset(page + PAGE, 0x5a, 64);

	pid_t pid = fixture_fork_domain(0, child_map_write, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(sh->results[0], 0);
	CU_ASSERT_EQUAL(sh->snapshot[0], 0x5a);
	CU_ASSERT_EQUAL(sh->snapshot[63], 0x5a);
	CU_ASSERT_EQUAL(page[100], 0xab);
	/* Xen marks an entry in use while it is mapped. */
	CU_ASSERT_EQUAL(entry_flags(1, sh->refs[0]),
			GTF_permit_access | GTF_reading | GTF_writing);
	CU_ASSERT_EQUAL(parent_send(&l, 1), 0);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(sh->results[1], 0);
	CU_ASSERT_EQUAL(entry_flags(1, sh->refs[0]), GTF_permit_access);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s, page, 2), 0);
	CU_ASSERT_EQUAL(entry_flags(1, sh->refs[0]), GTF_invalid);
	pvio_gntshr_close(s);
	fixture_link_close(&l);
}

/* ---- a grant for another domain ---- */

static int child_foreign_attempts(struct fixture_link *l, void *arg)
{
	struct pvio_gnttab *t;
	void *addr;
	uint8_t buf[64];

	(void)arg;
	if (pvio_gnttab_open(PVIO_PLATFORM_AUTO, &t))
		return 1;
	sh->results[0] = pvio_gnttab_map(t, 1, 1, sh->refs, false, &addr);
	pvio_gnt_copy_seg_t seg = {
		.source.foreign = {.ref = sh->refs[0], .offset = 0, .domid = 1},
		.dest.virt = buf,
		.len = sizeof(buf),
		.flags = GNTCOPY_source_gref,
	};
	sh->results[1] = pvio_gnttab_copy(t, 1, &seg);
	sh->status[0] = seg.status;
	pvio_gnttab_close(t);
	return child_send(l, 1) ? 2 : 0;
}

static void test_map_grant_of_other_domain(void)
{
	struct fixture_link l;
	void *page;
	int v;

	struct pvio_gntshr *s = start_as_domain1(&l);
	CU_ASSERT_EQUAL_FATAL(pvio_gntshr_share(s, 0, 1, true, sh->refs, &page),
			      0);
	/* Domain 2 tries to use a grant meant for domain 0. */
	pid_t pid = fixture_fork_domain(2, child_foreign_attempts, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	CU_ASSERT_EQUAL(sh->results[0], -EINVAL); /* gntdev's one answer */
	CU_ASSERT_EQUAL(sh->results[1], 0);
	CU_ASSERT_EQUAL(sh->status[0], GNTST_general_error);
	CU_ASSERT_EQUAL(entry_flags(1, sh->refs[0]), GTF_permit_access);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s, page, 1), 0);
	pvio_gntshr_close(s);
	fixture_link_close(&l);
}

/* ---- read-only stays read-only ---- */

static sigjmp_buf fault_jump;

static void on_fault(int sig)
{
	(void)sig;
	siglongjmp(fault_jump, 1);
}

static int child_readonly(struct fixture_link *l, void *arg)
{
	struct pvio_gnttab *t;
	void *addr = NULL;
	uint8_t buf[64];

	(void)arg;
	if (pvio_gnttab_open(PVIO_PLATFORM_AUTO, &t))
		return 1;
	sh->results[0] = pvio_gnttab_map(t, 1, 1, sh->refs, true, &addr);
	sh->results[1] = pvio_gnttab_map(t, 1, 1, sh->refs, false, &addr);
	memset(buf, 0xee, sizeof(buf));
	pvio_gnt_copy_seg_t segs[2] = {
		{/* into the read-only grant: refused */
		 .source.virt = buf,
		 .dest.foreign = {.ref = sh->refs[0], .offset = 8, .domid = 1},
		 .len = 16,
		 .flags = GNTCOPY_dest_gref},
		{/* out of it: allowed */
		 .source.foreign = {.ref = sh->refs[0],
				    .offset = 0,
				    .domid = 1},
		 .dest.virt = buf,
		 .len = 32,
		 .flags = GNTCOPY_source_gref},
	};
	sh->results[2] = pvio_gnttab_copy(t, 2, segs);
	sh->status[0] = segs[0].status;
	sh->status[1] = segs[1].status;
	memcpy(sh->snapshot, buf, 32);
	/* Writing through the read-only mapping faults, as on Xen. */
	struct sigaction sa = {.sa_handler = on_fault};
	sigaction(SIGSEGV, &sa, NULL);
	sh->results[3] = 0;
	if (sh->results[1] == 0) {
		if (sigsetjmp(fault_jump, 1) == 0) {
			*(volatile uint8_t *)addr = 0x11;
			sh->results[3] = 1; /* the write went through */
		} else {
			sh->results[3] = -1; /* faulted */
		}
		/* Nor can the mapping be made writable afterwards. */
		sh->results[5] = mprotect(addr, PAGE, PROT_READ | PROT_WRITE)
					 ? -errno
					 : 0;
		sh->results[4] = pvio_gnttab_unmap(t, addr, 1);
	}
	pvio_gnttab_close(t);
	return child_send(l, 1) ? 2 : 0;
}

static void test_readonly_grant(void)
{
	struct fixture_link l;
	uint8_t *page;
	int v;

	struct pvio_gntshr *s = start_as_domain1(&l);
	CU_ASSERT_EQUAL_FATAL(
		pvio_gntshr_share(s, 0, 1, false, sh->refs, (void **)&page), 0);
	CU_ASSERT_EQUAL(entry_flags(1, sh->refs[0]),
			GTF_permit_access | GTF_readonly);
	memset(page, 0x33, 64);
	pid_t pid = fixture_fork_domain(0, child_readonly, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	CU_ASSERT_EQUAL(sh->results[0], -EINVAL); /* writable map refused */
	CU_ASSERT_EQUAL(sh->results[1], 0);	  /* read-only map fine */
	CU_ASSERT_EQUAL(sh->results[2], 0);
	CU_ASSERT_EQUAL(sh->status[0], GNTST_general_error);
	CU_ASSERT_EQUAL(sh->status[1], GNTST_okay);
	CU_ASSERT_EQUAL(sh->snapshot[0], 0x33);
	CU_ASSERT_EQUAL(sh->snapshot[31], 0x33);
	CU_ASSERT_EQUAL(sh->results[3], -1);
	CU_ASSERT_EQUAL(sh->results[4], 0);
	CU_ASSERT_EQUAL(sh->results[5], -EACCES); /* no mprotect to writable */
	/* Nothing reached the page. */
	CU_ASSERT_EQUAL(page[0], 0x33);
	CU_ASSERT_EQUAL(page[8], 0x33);
	CU_ASSERT_EQUAL(page[64], 0);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s, page, 1), 0);
	pvio_gntshr_close(s);
	fixture_link_close(&l);
}

/* ---- copy: per-segment status, bounds ---- */

static int child_copy_batch(struct fixture_link *l, void *arg)
{
	struct pvio_gnttab *t;
	uint8_t in[PAGE], out[PAGE];
	void *addr;

	(void)arg;
	if (pvio_gnttab_open(PVIO_PLATFORM_AUTO, &t))
		return 1;
	memset(out, 0, sizeof(out));
	memset(in, 0x77, sizeof(in));
	grant_ref_t r = sh->refs[0];
#define FROM(ref_, dom_, off_, len_)                                           \
	{.source.foreign = {.ref = (ref_), .offset = (off_), .domid = (dom_)}, \
	 .dest.virt = out,                                                     \
	 .len = (len_),                                                        \
	 .flags = GNTCOPY_source_gref}
	pvio_gnt_copy_seg_t segs[] = {
		FROM(r, 1, 0, 64),			 /* fine */
		FROM(r, 1, 4000, 200),			 /* past the page */
		FROM(r, 1, 4095, 1),			 /* last byte: fine */
		FROM(PVIO_GNT_PAGE_BYTES * 4, 1, 0, 8),	 /* out of range */
		FROM(3, 1, 0, 8),			 /* never granted */
		FROM(r, 77, 0, 8),			 /* no such domain */
		FROM(r, DOMID_FIRST_RESERVED + 1, 0, 8), /* bad domain id */
		{/* write into the grant: fine */
		 .source.virt = in,
		 .dest.foreign = {.ref = r, .offset = 1000, .domid = 1},
		 .len = 500,
		 .flags = GNTCOPY_dest_gref},
		{/* whole page, gref to gref within the same grant */
		 .source.foreign = {.ref = r, .offset = 0, .domid = 1},
		 .dest.foreign = {.ref = r, .offset = 0, .domid = 1},
		 .len = PAGE,
		 .flags = GNTCOPY_source_gref | GNTCOPY_dest_gref},
	};
#undef FROM
	unsigned n = sizeof(segs) / sizeof(segs[0]);
	sh->results[0] = pvio_gnttab_copy(t, n, segs);
	for (unsigned i = 0; i < n; i++)
		sh->status[i] = segs[i].status;
	memcpy(sh->snapshot, out, 64);
	/* Mapping refusals with the same meanings. */
	grant_ref_t bad = PVIO_GNT_PAGE_BYTES * 4, never = 3;
	sh->results[1] = pvio_gnttab_map(t, 1, 1, &bad, false, &addr);
	sh->results[2] = pvio_gnttab_map(t, 1, 1, &never, false, &addr);
	sh->results[3] = pvio_gnttab_map(t, 77, 1, &r, false, &addr);
	grant_ref_t mixed[2] = {r, never}; /* all or nothing */
	sh->results[4] = pvio_gnttab_map(t, 1, 2, mixed, false, &addr);
	sh->results[5] = pvio_gnttab_unmap(t, out, 1);
	pvio_gnttab_close(t);
	return child_send(l, 1) ? 2 : 0;
}

static void test_copy_statuses(void)
{
	struct fixture_link l;
	uint8_t *page;
	int v;

	struct pvio_gntshr *s = start_as_domain1(&l);
	CU_ASSERT_EQUAL_FATAL(
		pvio_gntshr_share(s, 0, 1, true, sh->refs, (void **)&page), 0);
	for (unsigned i = 0; i < PAGE; i++)
		page[i] = (uint8_t)i;
	pid_t pid = fixture_fork_domain(0, child_copy_batch, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	CU_ASSERT_EQUAL(sh->results[0], 0);
	CU_ASSERT_EQUAL(sh->status[0], GNTST_okay);
	CU_ASSERT_EQUAL(sh->status[1], GNTST_bad_copy_arg);
	CU_ASSERT_EQUAL(sh->status[2], GNTST_okay);
	CU_ASSERT_EQUAL(sh->status[3], GNTST_bad_gntref);
	CU_ASSERT_EQUAL(sh->status[4], GNTST_general_error);
	CU_ASSERT_EQUAL(sh->status[5], GNTST_bad_domain);
	CU_ASSERT_EQUAL(sh->status[6], GNTST_bad_domain);
	CU_ASSERT_EQUAL(sh->status[7], GNTST_okay);
	CU_ASSERT_EQUAL(sh->status[8], GNTST_okay);
	/* Segment 2 copied byte 4095 over byte 0 of out; the rest is
	 * segment 0's. */
	CU_ASSERT_EQUAL(sh->snapshot[0], 0xff);
	CU_ASSERT_EQUAL(sh->snapshot[1], 1);
	CU_ASSERT_EQUAL(sh->snapshot[63], 63);
	CU_ASSERT_EQUAL(page[999], (uint8_t)999);
	CU_ASSERT_EQUAL(page[1000], 0x77);
	CU_ASSERT_EQUAL(page[1499], 0x77);
	CU_ASSERT_EQUAL(page[1500], (uint8_t)1500);
	CU_ASSERT_EQUAL(sh->results[1], -EINVAL);
	CU_ASSERT_EQUAL(sh->results[2], -EINVAL);
	CU_ASSERT_EQUAL(sh->results[3], -EINVAL);
	CU_ASSERT_EQUAL(sh->results[4], -EINVAL);
	CU_ASSERT_EQUAL(sh->results[5], -EINVAL);
	/* The failed all-or-nothing map left the entry unused. */
	CU_ASSERT_EQUAL(entry_flags(1, sh->refs[0]), GTF_permit_access);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s, page, 1), 0);
	pvio_gntshr_close(s);
	fixture_link_close(&l);
}

/* ---- one batch, two granting domains ---- */

static int child_copy_between_domains(struct fixture_link *l, void *arg)
{
	struct pvio_gnttab *t;

	(void)arg;
	if (pvio_gnttab_open(PVIO_PLATFORM_AUTO, &t))
		return 1;
	pvio_gnt_copy_seg_t segs[3] = {
		{/* domain 1's page into domain 2's */
		 .source.foreign = {.ref = sh->refs[0],
				    .offset = 0,
				    .domid = 1},
		 .dest.foreign = {.ref = sh->refs[1],
				  .offset = 100,
				  .domid = 2},
		 .len = 50,
		 .flags = GNTCOPY_source_gref | GNTCOPY_dest_gref},
		{/* and back, into domain 1's read-only grant: refused */
		 .source.foreign = {.ref = sh->refs[1],
				    .offset = 0,
				    .domid = 2},
		 .dest.foreign = {.ref = sh->refs[0], .offset = 0, .domid = 1},
		 .len = 50,
		 .flags = GNTCOPY_source_gref | GNTCOPY_dest_gref},
		{/* the next reference of domain 2 was never granted */
		 .source.foreign = {.ref = sh->refs[1] + 1,
				    .offset = 0,
				    .domid = 2},
		 .dest.virt = sh->snapshot,
		 .len = 8,
		 .flags = GNTCOPY_source_gref},
	};
	sh->results[0] = pvio_gnttab_copy(t, 3, segs);
	for (int i = 0; i < 3; i++)
		sh->status[i] = segs[i].status;
	pvio_gnttab_close(t);
	return child_send(l, 1) ? 2 : 0;
}

static void test_copy_between_domains(void)
{
	struct fixture_link l;
	struct pvio_gntshr *s1 = open_sharer_as(1), *s2 = open_sharer_as(2);
	uint8_t *p1, *p2;
	int v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s2);
	CU_ASSERT_EQUAL_FATAL(fixture_link_open(&l), 0);
	reset_shared();
	CU_ASSERT_EQUAL_FATAL(
		pvio_gntshr_share(s1, 0, 1, false, &sh->refs[0], (void **)&p1),
		0);
	CU_ASSERT_EQUAL_FATAL(
		pvio_gntshr_share(s2, 0, 1, true, &sh->refs[1], (void **)&p2),
		0);
	memset(p1, 0x61, PAGE);
	pid_t pid =
		fixture_fork_domain(0, child_copy_between_domains, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	CU_ASSERT_EQUAL(sh->results[0], 0);
	CU_ASSERT_EQUAL(sh->status[0], GNTST_okay);
	CU_ASSERT_EQUAL(sh->status[1], GNTST_general_error);
	CU_ASSERT_EQUAL(sh->status[2], GNTST_general_error);
	CU_ASSERT_EQUAL(p2[99], 0);
	CU_ASSERT_EQUAL(p2[100], 0x61);
	CU_ASSERT_EQUAL(p2[149], 0x61);
	CU_ASSERT_EQUAL(p2[150], 0);
	CU_ASSERT_EQUAL(p1[0], 0x61);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s1, p1, 1), 0);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s2, p2, 1), 0);
	pvio_gntshr_close(s1);
	pvio_gntshr_close(s2);
	fixture_link_close(&l);
}

/* ---- ending access while mapped is deferred ---- */

static int child_hold_mapping(struct fixture_link *l, void *arg)
{
	struct pvio_gnttab *t;
	uint8_t *addr;
	int v;

	(void)arg;
	if (pvio_gnttab_open(PVIO_PLATFORM_AUTO, &t))
		return 1;
	sh->results[0] =
		pvio_gnttab_map(t, 1, 1, sh->refs, false, (void **)&addr);
	if (sh->results[0])
		return 2;
	if (child_send(l, 1) || child_recv(l, &v))
		return 3;
	/* The granter has ended access: the page must still be there. */
	memcpy(sh->snapshot, addr, 64);
	sh->results[1] = pvio_gnttab_unmap(t, addr, 1);
	if (child_send(l, 2) || child_recv(l, &v))
		return 4;
	/* Access has ended for good now. */
	sh->results[2] =
		pvio_gnttab_map(t, 1, 1, sh->refs, false, (void **)&addr);
	pvio_gnttab_close(t);
	return child_send(l, 3) ? 5 : 0;
}

static void test_end_access_while_mapped(void)
{
	struct fixture_link l;
	uint8_t *page;
	int v;

	struct pvio_gntshr *s = start_as_domain1(&l);
	CU_ASSERT_EQUAL_FATAL(
		pvio_gntshr_share(s, 0, 1, true, sh->refs, (void **)&page), 0);
	memset(page, 0x42, 64);
	pid_t pid = fixture_fork_domain(0, child_hold_mapping, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(sh->results[0], 0);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s, page, 1), 0); /* deferred */
	CU_ASSERT_EQUAL(pvio_gntshr_reclaim(s), 1);
	CU_ASSERT_EQUAL(entry_flags(1, sh->refs[0]),
			GTF_permit_access | GTF_reading);
	CU_ASSERT_EQUAL(parent_send(&l, 1), 0);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(sh->snapshot[0], 0x42);
	CU_ASSERT_EQUAL(sh->snapshot[63], 0x42);
	CU_ASSERT_EQUAL(sh->results[1], 0);
	/* Unmapped: the deferred end completes. */
	CU_ASSERT_EQUAL(pvio_gntshr_reclaim(s), 0);
	CU_ASSERT_EQUAL(entry_flags(1, sh->refs[0]), GTF_invalid);
	CU_ASSERT_EQUAL(parent_send(&l, 2), 0);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(sh->results[2], -EINVAL);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	pvio_gntshr_close(s);
	fixture_link_close(&l);
}

/* ---- a mapper that died ---- */

static int child_map_and_hang(struct fixture_link *l, void *arg)
{
	struct pvio_gnttab *t;
	void *addr;
	int v;

	(void)arg;
	if (pvio_gnttab_open(PVIO_PLATFORM_AUTO, &t) ||
	    pvio_gnttab_map(t, 1, 2, sh->refs, true, &addr) ||
	    pvio_gnttab_map(t, 1, 1, sh->refs, false, &addr))
		return 1;
	child_send(l, 1);
	child_recv(l, &v); /* killed while waiting here */
	return 2;
}

static void test_mapper_died(void)
{
	struct fixture_link l;
	void *page;
	int v;

	struct pvio_gntshr *s = start_as_domain1(&l);
	CU_ASSERT_EQUAL_FATAL(pvio_gntshr_share(s, 0, 2, true, sh->refs, &page),
			      0);
	pid_t pid = fixture_fork_domain(0, child_map_and_hang, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(entry_flags(1, sh->refs[0]),
			GTF_permit_access | GTF_reading | GTF_writing);
	kill(pid, SIGKILL);
	CU_ASSERT_EQUAL(fixture_reap(pid), 128 + SIGKILL);
	/* Its mappings died with it, as a destroyed domain's do on Xen. */
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s, page, 2), 0);
	CU_ASSERT_EQUAL(entry_flags(1, sh->refs[0]), GTF_invalid);
	CU_ASSERT_EQUAL(entry_flags(1, sh->refs[1]), GTF_invalid);
	pvio_gntshr_close(s);
	fixture_link_close(&l);
}

/* ---- ending access waits for copies in flight ---- */

/*
 * White box: a copier slot of the granting domain's copier table (64-byte
 * slots: owner pid, then a sequence number that is odd during a batch), set
 * by hand to stand for a copy batch in flight.
 */
static uint32_t *copier_slot(unsigned domid, void **map)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/dom%u/grant-copiers", fixture_rundir,
		 domid);
	int fd = open(path, O_RDWR);
	if (fd < 0)
		return NULL;
	*map = mmap(NULL, 256 * 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (*map == MAP_FAILED)
		return NULL;
	for (unsigned i = 0; i < 256; i++) {
		uint32_t *slot = (uint32_t *)((uint8_t *)*map + i * 64);
		if (slot[0] == 0)
			return slot;
	}
	return NULL;
}

static int child_exit_now(struct fixture_link *l, void *arg)
{
	(void)l;
	(void)arg;
	return 0;
}

static void test_end_access_waits_for_copies(void)
{
	struct pvio_gntshr *s = open_sharer_as(1);
	grant_ref_t ref;
	void *page, *map = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(pvio_gntshr_share(s, 0, 1, true, &ref, &page), 0);
	uint32_t *slot = copier_slot(1, &map);
	CU_ASSERT_PTR_NOT_NULL_FATAL(slot);
	/* A live copier in the middle of a batch: the end is deferred. */
	slot[0] = (uint32_t)getpid();
	__atomic_store_n(&slot[1], 1, __ATOMIC_SEQ_CST);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s, page, 1), 0); /* deferred */
	CU_ASSERT_EQUAL(entry_flags(1, ref), GTF_invalid);   /* no new copies */
	CU_ASSERT_EQUAL(pvio_gntshr_reclaim(s), 1);
	/* Its batch ends: the reference is free again. */
	__atomic_store_n(&slot[1], 2, __ATOMIC_SEQ_CST);
	CU_ASSERT_EQUAL(pvio_gntshr_reclaim(s), 0);

	/* A copier that died mid-batch does not hold anything up. */
	struct fixture_link l;
	CU_ASSERT_EQUAL_FATAL(fixture_link_open(&l), 0);
	pid_t dead = fixture_fork_domain(0, child_exit_now, &l, NULL);
	CU_ASSERT_EQUAL(fixture_reap(dead), 0);
	CU_ASSERT_EQUAL_FATAL(pvio_gntshr_share(s, 0, 1, true, &ref, &page), 0);
	slot[0] = (uint32_t)dead;
	__atomic_store_n(&slot[1], 3, __ATOMIC_SEQ_CST);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s, page, 1), 0);
	CU_ASSERT_EQUAL(__atomic_load_n(&slot[1], __ATOMIC_SEQ_CST), 4);
	slot[0] = 0;
	munmap(map, 256 * 64);
	pvio_gntshr_close(s);
	fixture_link_close(&l);
}

/* ---- a sharer that died ---- */

#define ALL_REFS (4096 - GNTTAB_NR_RESERVED_ENTRIES)

static int child_share_all_and_die(struct fixture_link *l, void *arg)
{
	struct pvio_gntshr *s;
	static grant_ref_t refs[ALL_REFS];
	uint8_t *pages;
	int v;

	(void)arg;
	if (pvio_gntshr_open(PVIO_PLATFORM_AUTO, &s) ||
	    pvio_gntshr_share(s, 0, ALL_REFS, true, refs, (void **)&pages))
		return 1;
	/* The table is full now. */
	grant_ref_t more;
	void *addr;
	sh->results[0] = pvio_gntshr_share(s, 0, 1, true, &more, &addr);
	pages[0] = 0x99;
	sh->refs[0] = refs[0];
	if (child_send(l, 1) || child_recv(l, &v))
		return 2;
	return 0; /* exits without ending access, as a crash would */
}

static void test_sharer_died(void)
{
	struct fixture_link l;
	struct pvio_gnttab *t;
	uint8_t *mapped;
	int v;

	CU_ASSERT_EQUAL_FATAL(fixture_link_open(&l), 0);
	reset_shared();
	pid_t pid = fixture_fork_domain(7, child_share_all_and_die, &l, NULL);
	CU_ASSERT_EQUAL_FATAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(sh->results[0], -ENOSPC);
	CU_ASSERT_EQUAL_FATAL(pvio_gnttab_open(PVIO_PLATFORM_AUTO, &t), 0);
	CU_ASSERT_EQUAL(
		pvio_gnttab_map(t, 7, 1, sh->refs, false, (void **)&mapped), 0);
	CU_ASSERT_EQUAL(parent_send(&l, 1), 0);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);

	/* Another process of domain 7 gets the dead one's references back,
	 * except the one still mapped, whose page stays. */
	struct pvio_gntshr *s = open_sharer_as(7);
	grant_ref_t ref;
	void *page;
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(pvio_gntshr_share(s, 0, 1, true, &ref, &page), 0);
	CU_ASSERT_NOT_EQUAL(ref, sh->refs[0]);
	CU_ASSERT_EQUAL(mapped[0], 0x99);
	CU_ASSERT_EQUAL(entry_flags(7, sh->refs[0]),
			GTF_permit_access | GTF_reading);
	CU_ASSERT_EQUAL(pvio_gnttab_unmap(t, mapped, 1), 0);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s, page, 1), 0);
	pvio_gnttab_close(t);
	pvio_gntshr_close(s);
	fixture_link_close(&l);
}

/* ---- bad arguments and platform selection ---- */

static void test_bad_arguments(void)
{
	struct pvio_gntshr *s = open_sharer_as(1);
	struct pvio_gnttab *t = NULL;
	grant_ref_t refs[2];
	void *addr;
	uint8_t local;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(pvio_gntshr_share(s, 0, 0, true, refs, &addr), -EINVAL);
	CU_ASSERT_EQUAL(pvio_gntshr_share(s, DOMID_FIRST_RESERVED, 1, true,
					  refs, &addr),
			-ESRCH);
	CU_ASSERT_EQUAL(pvio_gntshr_share(s, 0, 1u << 20, true, refs, &addr),
			-ENOSPC);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s, &local, 1), -EINVAL);
	CU_ASSERT_EQUAL(pvio_gntshr_share(s, 0, 2, true, refs, &addr), 0);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s, addr, 1), -EINVAL);
	CU_ASSERT_EQUAL(pvio_gntshr_unshare(s, addr, 2), 0);
	CU_ASSERT_EQUAL(pvio_gnttab_open(PVIO_PLATFORM_AUTO, &t), 0);
	CU_ASSERT_EQUAL(pvio_gnttab_map(t, 1, 0, refs, false, &addr), -EINVAL);
	CU_ASSERT_EQUAL(pvio_gnttab_copy(t, 1, NULL), -EINVAL);
	CU_ASSERT_STRING_EQUAL(pvio_gnt_status_str(GNTST_permission_denied),
			       "permission denied");
	CU_ASSERT_STRING_EQUAL(pvio_gnt_status_str(-100),
			       "unknown grant status");
	pvio_gnttab_close(t);
	pvio_gntshr_close(s);
}

static void test_platform_selection(void)
{
	domid_t d;

	CU_ASSERT_EQUAL(pvio_platform_resolve(PVIO_PLATFORM_AUTO),
			PVIO_PLATFORM_SIM);
	setenv("PVIO_PLATFORM", "xen", 1);
	CU_ASSERT_EQUAL(pvio_platform_resolve(PVIO_PLATFORM_AUTO),
			PVIO_PLATFORM_XEN);
	setenv("PVIO_PLATFORM", "kvm", 1);
	CU_ASSERT_EQUAL(pvio_platform_resolve(PVIO_PLATFORM_AUTO), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(pvio_platform_last_error(), "kvm"));
	setenv("PVIO_PLATFORM", "auto", 1);
	CU_ASSERT_EQUAL(pvio_platform_resolve(PVIO_PLATFORM_AUTO),
			access("/dev/xen/evtchn", F_OK) == 0 &&
					access("/dev/xen/gntdev", F_OK) == 0
				? PVIO_PLATFORM_XEN
				: PVIO_PLATFORM_SIM);
	setenv("PVIO_PLATFORM", "sim", 1);
	CU_ASSERT_EQUAL(pvio_platform_resolve(PVIO_PLATFORM_XEN),
			PVIO_PLATFORM_XEN);
	CU_ASSERT_STRING_EQUAL(pvio_platform_name(PVIO_PLATFORM_SIM), "sim");

	unsetenv("PVIO_DOMID");
	CU_ASSERT_EQUAL(pvio_sim_self_domid(&d), 0);
	CU_ASSERT_EQUAL(d, 0);
	setenv("PVIO_DOMID", "7", 1);
	CU_ASSERT_EQUAL(pvio_sim_self_domid(&d), 0);
	CU_ASSERT_EQUAL(d, 7);
	const char *bad[] = {"-1", "x", "7x", "32752", "99999999999"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("PVIO_DOMID", bad[i], 1);
		CU_ASSERT_EQUAL(pvio_sim_self_domid(&d), -EINVAL);
	}
	struct pvio_gnttab *t;
	CU_ASSERT_EQUAL(pvio_gnttab_open(PVIO_PLATFORM_SIM, &t), -EINVAL);
	setenv("PVIO_DOMID", "0", 1);

	/* The xen platform fails cleanly where there is no Xen. */
	if (access("/dev/xen/gntdev", F_OK) != 0) {
		struct pvio_gntshr *s;
		CU_ASSERT(pvio_gnttab_open(PVIO_PLATFORM_XEN, &t) < 0);
		CU_ASSERT(pvio_gntshr_open(PVIO_PLATFORM_XEN, &s) < 0);
		CU_ASSERT_PTR_NOT_NULL(
			strstr(pvio_platform_last_error(), "PVIO_PLATFORM"));
	}
}

static CU_TestInfo gnt_tests[] = {
	{"share and map, zero copy, in-use flags", test_share_map_zero_copy},
	{"a grant for another domain is refused",
	 test_map_grant_of_other_domain},
	{"read-only stays read-only", test_readonly_grant},
	{"grant copy: per-segment status and bounds", test_copy_statuses},
	{"grant copy between two granting domains", test_copy_between_domains},
	{"ending access while mapped is deferred",
	 test_end_access_while_mapped},
	{"a mapper that died holds nothing", test_mapper_died},
	{"ending access waits for copies in flight",
	 test_end_access_waits_for_copies},
	{"a sharer that died", test_sharer_died},
	{"bad arguments", test_bad_arguments},
	{"platform selection and PVIO_DOMID", test_platform_selection},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"grant tables (sim)", suite_init, suite_cleanup, NULL, NULL,
	 gnt_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return pvio_cunit_run(suites);
}
