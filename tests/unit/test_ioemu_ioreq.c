/*
 * The ioreq transport (ioemu/ioreq.c) over the sim platform: a guest
 * (forked, domain 1) makes trapped accesses through the shared page in
 * Xen's layout and blocks until the device model (this process, dom0)
 * answers; a slot that is not READY is left alone; a device model that
 * goes away ends the vCPU's wait with -ENOTCONN.
 */
#include "config.h"

#include "ioemu_layout.h"
#include "ioreq.h"

#include <stdio.h>

#include "cunit_main.h"
#include "sim_fixture.h"

static char page_path[512];

static void set_page_path(void)
{
	snprintf(page_path, sizeof(page_path), IOEMU_SIM_IOREQ_FMT,
		 fixture_rundir, 1u, 0u);
	char dir[512];
	snprintf(dir, sizeof(dir), PVIO_SIM_DOMAIN_DIR_FMT, fixture_rundir, 1u);
	mkdir(dir, 0755);
}

/* The device model's registers: what was written at an address, plus
 * one on the way back, so that a read proves the round trip. */
static uint64_t regs[16];
static unsigned served;

static void dm_fn(void *opaque, ioreq_t *req)
{
	(void)opaque;
	served++;
	unsigned i = (unsigned)(req->addr & 0xf);
	if (req->dir == IOREQ_WRITE)
		regs[i] = req->data + (req->type == IOREQ_TYPE_PIO ? 100 : 0);
	else
		req->data = regs[i] + 1;
}

static int guest_accesses(struct fixture_link *l, void *arg)
{
	(void)arg;
	struct ioemu_vcpu *v;
	if (ioemu_vcpu_create(PVIO_PLATFORM_SIM, page_path, 0, &v))
		return 10;
	child_send(l, 1); /* the page and its port exist */
	int go;
	if (child_recv(l, &go))
		return 11;
	for (uint64_t k = 0; k < 50; k++) {
		uint64_t data = 1000 + k;
		if (ioemu_vcpu_access(v, IOREQ_TYPE_COPY, 0xf0000000u + (k & 7),
				      4, IOREQ_WRITE, &data))
			return 12;
		data = 0;
		if (ioemu_vcpu_access(v, IOREQ_TYPE_COPY, 0xf0000000u + (k & 7),
				      4, IOREQ_READ, &data))
			return 13;
		if (data != 1000 + k + 1)
			return 14;
	}
	uint64_t data = 7;
	if (ioemu_vcpu_access(v, IOREQ_TYPE_PIO, 0xc008, 2, IOREQ_WRITE,
			      &data) ||
	    ioemu_vcpu_access(v, IOREQ_TYPE_PIO, 0xc008, 2, IOREQ_READ, &data))
		return 15;
	if (data != 108)
		return 16;
	if (ioemu_vcpu_traps(v) != 102)
		return 17;
	child_send(l, 2); /* done */
	ioemu_vcpu_destroy(v);
	return 0;
}

static void test_round_trip(void)
{
	set_page_path();
	struct fixture_link l;
	CU_ASSERT_FATAL(fixture_link_open(&l) == 0);
	pid_t pid = fixture_fork_domain(1, guest_accesses, &l, NULL);
	int v;
	CU_ASSERT_FATAL(parent_recv(&l, &v) == 0);
	struct pvio_evtchn *evtchn;
	CU_ASSERT_FATAL(pvio_evtchn_open(PVIO_PLATFORM_SIM, &evtchn) == 0);
	struct ioemu_ioreq_server *srv;
	CU_ASSERT_FATAL(ioemu_server_open(page_path, 1, evtchn, &srv) == 0);
	/* Nothing READY yet: nothing served. */
	CU_ASSERT_EQUAL(
		ioemu_server_serve(srv, ioemu_server_port(srv), dm_fn, NULL),
		0);
	CU_ASSERT_EQUAL(served, 0);
	parent_send(&l, 1);
	bool done = false;
	for (int rounds = 0; !done && rounds < 100000; rounds++) {
		struct pollfd pfd[2] = {
			{.fd = pvio_evtchn_fd(evtchn), .events = POLLIN},
			{.fd = l.to_parent[0], .events = POLLIN}};
		if (poll(pfd, 2, FIXTURE_STEP_MS) <= 0)
			break;
		int port;
		while ((port = pvio_evtchn_pending(evtchn)) >= 0) {
			CU_ASSERT_TRUE(ioemu_server_owns_port(srv, port));
			pvio_evtchn_unmask(evtchn, (evtchn_port_t)port);
			ioemu_server_serve(srv, (evtchn_port_t)port, dm_fn,
					   NULL);
		}
		if (pfd[1].revents & POLLIN)
			done = parent_recv(&l, &v) == 0 && v == 2;
	}
	CU_ASSERT_TRUE(done);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	CU_ASSERT_EQUAL(served, 102);
	ioemu_server_close(srv);
	pvio_evtchn_close(evtchn);
	fixture_link_close(&l);
}

static int guest_outlives_dm(struct fixture_link *l, void *arg)
{
	(void)arg;
	struct ioemu_vcpu *v;
	if (ioemu_vcpu_create(PVIO_PLATFORM_SIM, page_path, 0, &v))
		return 10;
	child_send(l, 1);
	int go;
	if (child_recv(l, &go)) /* the device model bound, then exited */
		return 11;
	uint64_t data = 0;
	int err = ioemu_vcpu_access(v, IOREQ_TYPE_COPY, 0xf0000000u, 4,
				    IOREQ_READ, &data);
	ioemu_vcpu_destroy(v);
	return err == -ENOTCONN ? 0 : 12;
}

static void test_dm_gone(void)
{
	set_page_path();
	struct fixture_link l;
	CU_ASSERT_FATAL(fixture_link_open(&l) == 0);
	pid_t pid = fixture_fork_domain(1, guest_outlives_dm, &l, NULL);
	int v;
	CU_ASSERT_FATAL(parent_recv(&l, &v) == 0);
	struct pvio_evtchn *evtchn;
	CU_ASSERT_FATAL(pvio_evtchn_open(PVIO_PLATFORM_SIM, &evtchn) == 0);
	struct ioemu_ioreq_server *srv;
	CU_ASSERT_FATAL(ioemu_server_open(page_path, 1, evtchn, &srv) == 0);
	ioemu_server_close(srv);
	pvio_evtchn_close(evtchn);
	parent_send(&l, 1);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	fixture_link_close(&l);
}

static void test_server_refuses_missing_page(void)
{
	struct pvio_evtchn *evtchn;
	CU_ASSERT_FATAL(pvio_evtchn_open(PVIO_PLATFORM_SIM, &evtchn) == 0);
	struct ioemu_ioreq_server *srv = NULL;
	CU_ASSERT_EQUAL(
		ioemu_server_open("/nonexistent/ioreq", 1, evtchn, &srv),
		-ENOENT);
	CU_ASSERT_PTR_NULL(srv);
	pvio_evtchn_close(evtchn);
}

static CU_TestInfo tests[] = {
	{"trapped accesses round trip", test_round_trip},
	{"the device model goes away", test_dm_gone},
	{"no page, no server", test_server_refuses_missing_page},
	CU_TEST_INFO_NULL,
};

static int suite_init(void)
{
	return fixture_init();
}

static int suite_clean(void)
{
	return fixture_cleanup();
}

int main(void)
{
	CU_SuiteInfo suites[] = {
		{"ioreq", suite_init, suite_clean, NULL, NULL, tests},
		CU_SUITE_INFO_NULL,
	};
	return pvio_cunit_run(suites);
}
