/*
 * Event channels on the sim platform: every domain is a forked process.
 * Binding rules, delivery only to the bound peer, masking, and what the peer
 * sees when a process dies.
 */
#include "config.h"

#include "cunit_main.h"
#include "pvio_evtchn.h"
#include "sim_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#define WAIT_MS 5000

struct evt_shared {
	int port;
	int results[16];
};

static struct evt_shared *sh;

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

static void reset_shared(void)
{
	memset(sh, 0, sizeof(*sh));
	for (int i = 0; i < 16; i++)
		sh->results[i] = 12345;
}

static struct pvio_evtchn *open_as(unsigned domid)
{
	struct pvio_evtchn *h = NULL;
	fixture_set_domid(domid);
	int err = pvio_evtchn_open(PVIO_PLATFORM_AUTO, &h);
	fixture_set_domid(0);
	return err ? NULL : h;
}

/*
 * The start of most tests: dom0's handle, a fresh link for the child, and a
 * port of dom0's allocated for domain peer, published in sh->port.
 */
static int open_dom0_port_for(unsigned peer, struct pvio_evtchn **h,
			      struct fixture_link *l)
{
	*h = open_as(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*h);
	CU_ASSERT_EQUAL_FATAL(fixture_link_open(l), 0);
	reset_shared();
	int port = pvio_evtchn_alloc_unbound(*h, peer);
	CU_ASSERT_FATAL(port > 0);
	sh->port = port;
	return port;
}

/* ---- ping-pong ---- */

#define ROUNDS 200

static int child_pong(struct fixture_link *l, void *arg)
{
	struct pvio_evtchn *h;

	(void)arg;
	if (pvio_evtchn_open(PVIO_PLATFORM_AUTO, &h))
		return 1;
	int port = pvio_evtchn_bind_interdomain(h, 0, (evtchn_port_t)sh->port);
	sh->results[0] = port;
	if (child_send(l, 1) || port < 0)
		return 2;
	for (int i = 0; i < ROUNDS; i++) {
		if (pvio_evtchn_wait(h, WAIT_MS) != port)
			return 3;
		if (pvio_evtchn_unmask(h, port) || pvio_evtchn_notify(h, port))
			return 4;
	}
	pvio_evtchn_close(h);
	return 0;
}

static void test_ping_pong(void)
{
	struct fixture_link l;
	struct pvio_evtchn *h;
	int v;
	int port = open_dom0_port_for(1, &h, &l);
	/* Nothing pending yet. */
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), -EAGAIN);
	pid_t pid = fixture_fork_domain(1, child_pong, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT(sh->results[0] > 0);
	CU_ASSERT_EQUAL(pvio_evtchn_peer_closed(h, port), 0);
	int ok = 0;
	for (int i = 0; i < ROUNDS; i++) {
		if (pvio_evtchn_notify(h, port))
			break;
		/* Every other round through poll() on the one fd. */
		if (i % 2) {
			struct pollfd pfd = {.fd = pvio_evtchn_fd(h),
					     .events = POLLIN};
			if (poll(&pfd, 1, WAIT_MS) != 1)
				break;
			if (pvio_evtchn_pending(h) != port)
				break;
		} else if (pvio_evtchn_wait(h, WAIT_MS) != port) {
			break;
		}
		if (pvio_evtchn_unmask(h, port))
			break;
		ok++;
	}
	CU_ASSERT_EQUAL(ok, ROUNDS);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	pvio_evtchn_close(h);
	fixture_link_close(&l);
}

/* ---- binding rules ---- */

static int child_bind_attempts(struct fixture_link *l, void *arg)
{
	struct pvio_evtchn *h;

	(void)arg;
	if (pvio_evtchn_open(PVIO_PLATFORM_AUTO, &h))
		return 1;
	sh->results[0] =
		pvio_evtchn_bind_interdomain(h, 0, (evtchn_port_t)sh->port);
	sh->results[1] = pvio_evtchn_bind_interdomain(h, 0, 0);
	sh->results[2] = pvio_evtchn_bind_interdomain(h, 0, 1u << 20);
	sh->results[3] = pvio_evtchn_bind_interdomain(h, 99, 1);
	sh->results[4] =
		pvio_evtchn_bind_interdomain(h, DOMID_FIRST_RESERVED, 1);
	pvio_evtchn_close(h);
	return child_send(l, 1) ? 2 : 0;
}

static int child_bind(struct fixture_link *l, void *arg)
{
	struct pvio_evtchn *h;
	int v;

	(void)arg;
	if (pvio_evtchn_open(PVIO_PLATFORM_AUTO, &h))
		return 1;
	sh->results[5] =
		pvio_evtchn_bind_interdomain(h, 0, (evtchn_port_t)sh->port);
	/* A second bind of the same port is refused. */
	sh->results[6] =
		pvio_evtchn_bind_interdomain(h, 0, (evtchn_port_t)sh->port);
	if (child_send(l, 1) || child_recv(l, &v))
		return 2;
	pvio_evtchn_close(h);
	return 0;
}

static void test_bind_rules(void)
{
	struct fixture_link l;
	struct pvio_evtchn *h;
	int v;
	open_dom0_port_for(1, &h, &l);
	/* Domain 2 tries to bind a port allocated for domain 1. */
	pid_t pid = fixture_fork_domain(2, child_bind_attempts, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	CU_ASSERT_EQUAL(sh->results[0], -EINVAL);
	CU_ASSERT_EQUAL(sh->results[1], -EINVAL);
	CU_ASSERT_EQUAL(sh->results[2], -EINVAL);
	CU_ASSERT_EQUAL(sh->results[3], -ESRCH);
	CU_ASSERT_EQUAL(sh->results[4], -ESRCH);
	/* Domain 1 may, once. */
	pid = fixture_fork_domain(1, child_bind, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT(sh->results[5] > 0);
	CU_ASSERT_EQUAL(sh->results[6], -EINVAL);
	CU_ASSERT_EQUAL(parent_send(&l, 1), 0);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);

	/* Local ports never allocated here are refused. */
	CU_ASSERT_EQUAL(pvio_evtchn_notify(h, 0), -EINVAL);
	CU_ASSERT_EQUAL(pvio_evtchn_notify(h, 999), -EINVAL);
	CU_ASSERT_EQUAL(pvio_evtchn_notify(h, 1u << 30), -EINVAL);
	CU_ASSERT_EQUAL(pvio_evtchn_unmask(h, 999), -EINVAL);
	CU_ASSERT_EQUAL(pvio_evtchn_unbind(h, 999), -EINVAL);
	CU_ASSERT_EQUAL(pvio_evtchn_peer_closed(h, 999), -EINVAL);
	CU_ASSERT_EQUAL(pvio_evtchn_alloc_unbound(h, DOMID_FIRST_RESERVED),
			-ESRCH);
	/* Notify on a port nobody bound yet is dropped, as on Xen. */
	int lonely = pvio_evtchn_alloc_unbound(h, 5);
	CU_ASSERT(lonely > 0);
	CU_ASSERT_EQUAL(pvio_evtchn_notify(h, (evtchn_port_t)lonely), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_unbind(h, (evtchn_port_t)lonely), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_notify(h, (evtchn_port_t)lonely), -EINVAL);
	pvio_evtchn_close(h);
	fixture_link_close(&l);
}

/* ---- a notify reaches only the bound peer ---- */

struct peer_arg {
	int port;    /* remote port to bind */
	int slot;    /* where to report */
	bool expect; /* whether a notification should arrive */
};

static int child_listen(struct fixture_link *l, void *arg)
{
	struct peer_arg *a = arg;
	struct pvio_evtchn *h;
	int v;

	if (pvio_evtchn_open(PVIO_PLATFORM_AUTO, &h))
		return 1;
	int port = pvio_evtchn_bind_interdomain(h, 0, (evtchn_port_t)a->port);
	if (port < 0)
		return 2;
	if (child_send(l, port) || child_recv(l, &v))
		return 3;
	/* A notification is in the peer's socket when notify returns, and
	 * the parent notified before it let us go on: a port that is not
	 * pending now was not notified (no sleep needed to prove absence). */
	sh->results[a->slot] = a->expect ? pvio_evtchn_wait(h, WAIT_MS)
					 : pvio_evtchn_pending(h);
	sh->results[a->slot + 1] = port;
	pvio_evtchn_close(h);
	return child_send(l, 0) ? 4 : 0;
}

static void test_notify_reaches_only_bound_peer(void)
{
	struct fixture_link l1, l2;
	struct pvio_evtchn *h = open_as(0);
	int v1, v2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL_FATAL(fixture_link_open(&l1), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_link_open(&l2), 0);
	reset_shared();
	int a = pvio_evtchn_alloc_unbound(h, 1);
	int b = pvio_evtchn_alloc_unbound(h, 2);
	CU_ASSERT(a > 0 && b > 0 && a != b);
	struct peer_arg pa = {a, 0, true}, pb = {b, 2, false};
	pid_t p1 = fixture_fork_domain(1, child_listen, &l1, &pa);
	pid_t p2 = fixture_fork_domain(2, child_listen, &l2, &pb);
	CU_ASSERT_EQUAL(parent_recv(&l1, &v1), 0);
	CU_ASSERT_EQUAL(parent_recv(&l2, &v2), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_notify(h, (evtchn_port_t)a), 0);
	CU_ASSERT_EQUAL(parent_send(&l1, 1), 0);
	CU_ASSERT_EQUAL(parent_send(&l2, 1), 0);
	CU_ASSERT_EQUAL(parent_recv(&l1, &v1), 0);
	CU_ASSERT_EQUAL(parent_recv(&l2, &v2), 0);
	CU_ASSERT_EQUAL(fixture_reap(p1), 0);
	CU_ASSERT_EQUAL(fixture_reap(p2), 0);
	CU_ASSERT_EQUAL(sh->results[0], sh->results[1]); /* domain 1 woke */
	CU_ASSERT_EQUAL(sh->results[2], -EAGAIN);	 /* domain 2 did not */
	pvio_evtchn_close(h);
	fixture_link_close(&l1);
	fixture_link_close(&l2);
}

/* ---- masking ---- */

static int child_notify_on_request(struct fixture_link *l, void *arg)
{
	struct pvio_evtchn *h;
	int v;

	(void)arg;
	if (pvio_evtchn_open(PVIO_PLATFORM_AUTO, &h))
		return 1;
	int port = pvio_evtchn_bind_interdomain(h, 0, (evtchn_port_t)sh->port);
	if (port < 0 || child_send(l, port))
		return 2;
	for (int i = 0; i < 3; i++) {
		if (child_recv(l, &v))
			return 3;
		for (int n = 0; n < v; n++)
			if (pvio_evtchn_notify(h, (evtchn_port_t)port))
				return 4;
		if (child_send(l, 0))
			return 5;
	}
	pvio_evtchn_close(h);
	return 0;
}

static void test_mask_and_unmask(void)
{
	struct fixture_link l;
	struct pvio_evtchn *h;
	int v;
	int port = open_dom0_port_for(3, &h, &l);
	pid_t pid = fixture_fork_domain(3, child_notify_on_request, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	/* Three notifications coalesce into one pending event. */
	CU_ASSERT_EQUAL(parent_send(&l, 3), 0);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, WAIT_MS), port);
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), -EAGAIN);
	/* Masked: a notification is kept, not reported. */
	CU_ASSERT_EQUAL(parent_send(&l, 1), 0);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), -EAGAIN);
	/* Unmask reports it, and the fd says so. */
	CU_ASSERT_EQUAL(pvio_evtchn_unmask(h, port), 0);
	struct pollfd pfd = {.fd = pvio_evtchn_fd(h), .events = POLLIN};
	CU_ASSERT_EQUAL(poll(&pfd, 1, WAIT_MS), 1);
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), port);
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), -EAGAIN);
	CU_ASSERT_EQUAL(pvio_evtchn_unmask(h, port), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, 0), -ETIMEDOUT);
	CU_ASSERT_EQUAL(parent_send(&l, 1), 0);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, WAIT_MS), port);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	pvio_evtchn_close(h);
	fixture_link_close(&l);
}

/* ---- a handle with one channel ---- */

/* Notifies as many times as asked, until asked for none: then it closes
 * its handle (the channel closes) and exits. */
static int child_notify_until_zero(struct fixture_link *l, void *arg)
{
	struct pvio_evtchn *h;
	int v;

	(void)arg;
	if (pvio_evtchn_open(PVIO_PLATFORM_AUTO, &h))
		return 1;
	int port = pvio_evtchn_bind_interdomain(h, 0, (evtchn_port_t)sh->port);
	if (port < 0 || child_send(l, port))
		return 2;
	for (int i = 0; i < 100; i++) {
		if (child_recv(l, &v))
			return 3;
		if (v == 0) {
			pvio_evtchn_close(h);
			return 0;
		}
		for (int n = 0; n < v; n++)
			if (pvio_evtchn_notify(h, (evtchn_port_t)port))
				return 4;
		if (child_send(l, 0))
			return 5;
	}
	return 6;
}

/* Asks the child for n notifications and waits until they were sent. */
static void notify_from_child(struct fixture_link *l, int n)
{
	int v;
	CU_ASSERT_EQUAL(parent_send(l, n), 0);
	CU_ASSERT_EQUAL(parent_recv(l, &v), 0);
}

/*
 * A handle whose only channel is connected waits on that connection alone
 * (evtchn_sim.c, solo_wait): timeouts still end a wait, the fd still
 * tells, a second channel and its removal change nothing visible, and the
 * peer's death still wakes the waiter.
 */
static void test_one_channel(void)
{
	struct fixture_link l;
	struct pvio_evtchn *h;
	int v;
	int port = open_dom0_port_for(4, &h, &l);
	pid_t pid = fixture_fork_domain(4, child_notify_until_zero, &l, NULL);
	CU_ASSERT_EQUAL_FATAL(parent_recv(&l, &v), 0);
	/* Takes the binder's connection in; then nothing is pending, and
	 * waits with timeouts of different lengths end. */
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, 0), -ETIMEDOUT);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, 30), -ETIMEDOUT);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, 60), -ETIMEDOUT);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, 1), -ETIMEDOUT);
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), -EAGAIN);

	notify_from_child(&l, 2);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, WAIT_MS), port);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, 0), -ETIMEDOUT); /* masked */
	CU_ASSERT_EQUAL(pvio_evtchn_unmask(h, (evtchn_port_t)port), 0);

	/* Through the fd and pending, which then leave it quiet. */
	notify_from_child(&l, 1);
	struct pollfd pfd = {.fd = pvio_evtchn_fd(h), .events = POLLIN};
	CU_ASSERT_EQUAL(poll(&pfd, 1, WAIT_MS), 1);
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), port);
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), -EAGAIN);
	CU_ASSERT_EQUAL(pvio_evtchn_unmask(h, (evtchn_port_t)port), 0);
	CU_ASSERT_EQUAL(poll(&pfd, 1, 0), 0);

	/* A notification kept while masked, reported at unmask through
	 * wait, and the fd quiet after pending looked once more. */
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, 0), -ETIMEDOUT);
	notify_from_child(&l, 1);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, WAIT_MS), port);
	notify_from_child(&l, 1);
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), -EAGAIN);
	CU_ASSERT_EQUAL(pvio_evtchn_unmask(h, (evtchn_port_t)port), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, WAIT_MS), port);
	CU_ASSERT_EQUAL(pvio_evtchn_unmask(h, (evtchn_port_t)port), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), -EAGAIN);
	CU_ASSERT_EQUAL(poll(&pfd, 1, 0), 0);

	/* A second port, unbound: the handle waits on its whole set. */
	int other = pvio_evtchn_alloc_unbound(h, 9);
	CU_ASSERT_FATAL(other > 0);
	notify_from_child(&l, 1);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, WAIT_MS), port);
	CU_ASSERT_EQUAL(pvio_evtchn_unmask(h, (evtchn_port_t)port), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_unbind(h, (evtchn_port_t)other), 0);
	notify_from_child(&l, 3);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, WAIT_MS), port);
	CU_ASSERT_EQUAL(pvio_evtchn_unmask(h, (evtchn_port_t)port), 0);

	/* The peer closes while the handle waits: the wait ends with the
	 * port, which then reads closed. */
	CU_ASSERT_EQUAL(parent_send(&l, 0), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, WAIT_MS), port);
	CU_ASSERT_EQUAL(pvio_evtchn_peer_closed(h, (evtchn_port_t)port), 1);
	CU_ASSERT_EQUAL(pvio_evtchn_notify(h, (evtchn_port_t)port), -ENOTCONN);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	pvio_evtchn_close(h);
	fixture_link_close(&l);
}

/* ---- death ---- */

static int child_bind_and_hang(struct fixture_link *l, void *arg)
{
	struct pvio_evtchn *h;
	int v;

	(void)arg;
	if (pvio_evtchn_open(PVIO_PLATFORM_AUTO, &h))
		return 1;
	int port = pvio_evtchn_bind_interdomain(h, 0, (evtchn_port_t)sh->port);
	if (port < 0 || child_send(l, port))
		return 2;
	child_recv(l, &v); /* killed while waiting here */
	return 3;
}

static void test_notify_after_peer_died(void)
{
	struct fixture_link l;
	struct pvio_evtchn *h;
	int v;
	int port = open_dom0_port_for(1, &h, &l);
	pid_t pid = fixture_fork_domain(1, child_bind_and_hang, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_notify(h, (evtchn_port_t)port), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_peer_closed(h, (evtchn_port_t)port), 0);
	kill(pid, SIGKILL);
	CU_ASSERT_EQUAL(fixture_reap(pid), 128 + SIGKILL);
	/* The port closing wakes the waiter, who can tell. */
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, WAIT_MS), port);
	CU_ASSERT_EQUAL(pvio_evtchn_peer_closed(h, (evtchn_port_t)port), 1);
	CU_ASSERT_EQUAL(pvio_evtchn_notify(h, (evtchn_port_t)port), -ENOTCONN);
	CU_ASSERT_EQUAL(pvio_evtchn_unbind(h, (evtchn_port_t)port), 0);
	pvio_evtchn_close(h);
	fixture_link_close(&l);
}

static int child_alloc_and_die(struct fixture_link *l, void *arg)
{
	struct pvio_evtchn *h;
	int v;

	(void)arg;
	if (pvio_evtchn_open(PVIO_PLATFORM_AUTO, &h))
		return 1;
	int a = pvio_evtchn_alloc_unbound(h, 0);
	int b = pvio_evtchn_alloc_unbound(h, 0);
	if (a < 0 || b < 0 || child_send(l, a) || child_send(l, b))
		return 2;
	child_recv(l, &v); /* killed while waiting here */
	return 3;
}

static void test_allocator_died(void)
{
	struct fixture_link l;
	struct pvio_evtchn *h = open_as(0);
	int a, b;

	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL_FATAL(fixture_link_open(&l), 0);
	pid_t pid = fixture_fork_domain(4, child_alloc_and_die, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &a), 0);
	CU_ASSERT_EQUAL(parent_recv(&l, &b), 0);
	int port = pvio_evtchn_bind_interdomain(h, 4, (evtchn_port_t)a);
	CU_ASSERT(port > 0);
	kill(pid, SIGKILL);
	CU_ASSERT_EQUAL(fixture_reap(pid), 128 + SIGKILL);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, WAIT_MS), port);
	CU_ASSERT_EQUAL(pvio_evtchn_notify(h, (evtchn_port_t)port), -ENOTCONN);
	CU_ASSERT_EQUAL(pvio_evtchn_peer_closed(h, (evtchn_port_t)port), 1);
	/* The dead process's other port cannot be bound any more. */
	CU_ASSERT_EQUAL(pvio_evtchn_bind_interdomain(h, 4, (evtchn_port_t)b),
			-EINVAL);
	pvio_evtchn_close(h);
	fixture_link_close(&l);
}

static int child_bind_then_unbind(struct fixture_link *l, void *arg)
{
	struct pvio_evtchn *h;
	int v;

	(void)arg;
	if (pvio_evtchn_open(PVIO_PLATFORM_AUTO, &h))
		return 1;
	int port = pvio_evtchn_bind_interdomain(h, 0, (evtchn_port_t)sh->port);
	if (port < 0 || child_send(l, port) || child_recv(l, &v))
		return 2;
	sh->results[0] = pvio_evtchn_unbind(h, (evtchn_port_t)port);
	sh->results[1] = pvio_evtchn_notify(h, (evtchn_port_t)port);
	if (child_send(l, 0) || child_recv(l, &v))
		return 3;
	pvio_evtchn_close(h);
	return 0;
}

static void test_unbind_closes_for_peer(void)
{
	struct fixture_link l;
	struct pvio_evtchn *h;
	int v;
	int port = open_dom0_port_for(1, &h, &l);
	pid_t pid = fixture_fork_domain(1, child_bind_then_unbind, &l, NULL);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_peer_closed(h, (evtchn_port_t)port), 0);
	CU_ASSERT_EQUAL(parent_send(&l, 1), 0);
	CU_ASSERT_EQUAL(parent_recv(&l, &v), 0);
	CU_ASSERT_EQUAL(sh->results[0], 0);
	CU_ASSERT_EQUAL(sh->results[1], -EINVAL);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, WAIT_MS), port);
	CU_ASSERT_EQUAL(pvio_evtchn_peer_closed(h, (evtchn_port_t)port), 1);
	CU_ASSERT_EQUAL(pvio_evtchn_notify(h, (evtchn_port_t)port), -ENOTCONN);
	CU_ASSERT_EQUAL(parent_send(&l, 1), 0);
	CU_ASSERT_EQUAL(fixture_reap(pid), 0);
	pvio_evtchn_close(h);
	fixture_link_close(&l);
}

/* ---- a full port table: what is reclaimed ---- */

/* The sim's port table entry (evtchn_sim.c): state, then owner pid. */
struct port_entry {
	uint32_t state; /* 0 free, 1 reserved, 2 unbound, 3 bound */
	uint32_t owner_pid;
	uint32_t pad[6];
};
#define NR_PORTS 1024

static int child_alloc_unbind(struct fixture_link *l, void *arg)
{
	struct pvio_evtchn *h;

	(void)arg;
	if (pvio_evtchn_open(PVIO_PLATFORM_AUTO, &h))
		return 1;
	int port = pvio_evtchn_alloc_unbound(h, 0);
	if (port < 0 || pvio_evtchn_unbind(h, (evtchn_port_t)port))
		return 2;
	pvio_evtchn_close(h);
	return child_send(l, port) ? 3 : 0;
}

/*
 * When the table is full, ports of dead processes are taken back, but not a
 * port another process has just claimed and not yet signed: a freed port
 * must not keep naming its dead former owner.
 */
static void test_full_table_reclaim(void)
{
	struct fixture_link l;
	int freed;

	CU_ASSERT_EQUAL_FATAL(fixture_link_open(&l), 0);
	pid_t pid = fixture_fork_domain(11, child_alloc_unbind, &l, NULL);
	CU_ASSERT_EQUAL_FATAL(parent_recv(&l, &freed), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_reap(pid), 0);
	char path[512];
	snprintf(path, sizeof(path), "%s/dom11/evtchn", fixture_rundir);
	int fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	struct port_entry *t = mmap(NULL, NR_PORTS * sizeof(*t),
				    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	CU_ASSERT_FATAL(t != MAP_FAILED);
	/* Every port in use by a live process (us), except the one the dead
	 * child freed, which a live process has just claimed. */
	CU_ASSERT_FATAL(freed > 0 && freed < NR_PORTS);
	for (int i = 1; i < NR_PORTS; i++) {
		if (i == freed)
			continue;
		t[i].owner_pid = (uint32_t)getpid();
		t[i].state = 2;
	}
	/* Its owner stays what unbind left there: the claimer has not
	 * written its pid yet. */
	__atomic_store_n(&t[freed].state, 1, __ATOMIC_SEQ_CST);
	struct pvio_evtchn *h = open_as(11);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(pvio_evtchn_alloc_unbound(h, 0), -ENOSPC);
	CU_ASSERT_EQUAL(t[freed].state, 1);
	/* A port of the dead child is taken back. */
	int dead = freed == 1 ? 2 : 1;
	t[dead].owner_pid = (uint32_t)pid;
	CU_ASSERT_EQUAL(pvio_evtchn_alloc_unbound(h, 0), dead);
	CU_ASSERT_EQUAL(t[freed].state, 1);
	CU_ASSERT_EQUAL(pvio_evtchn_unbind(h, (evtchn_port_t)dead), 0);
	pvio_evtchn_close(h);
	memset(t, 0, NR_PORTS * sizeof(*t));
	munmap(t, NR_PORTS * sizeof(*t));
	fixture_link_close(&l);
}

/* Whatever a broken or hostile local process sends to a handle's socket is
 * refused without harm. */
/* The socket of the only handle open in domid; how many there are. */
static int handle_socket(unsigned domid, struct sockaddr_un *sa)
{
	char path[512];
	int found = 0;

	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	snprintf(path, sizeof(path), "%s/dom%u", fixture_rundir, domid);
	DIR *dir = opendir(path);
	struct dirent *de;
	while (dir && (de = readdir(dir)))
		if (strstr(de->d_name, ".sock")) {
			char full[1024];
			snprintf(full, sizeof(full), "%s/%s", path, de->d_name);
			if (strlen(full) < sizeof(sa->sun_path))
				memcpy(sa->sun_path, full, strlen(full) + 1);
			found++;
		}
	if (dir)
		closedir(dir);
	return found;
}

static void test_garbage_on_handle_socket(void)
{
	struct pvio_evtchn *h = open_as(6);
	struct sockaddr_un sa;

	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	int port = pvio_evtchn_alloc_unbound(h, 1);
	CU_ASSERT(port > 0);
	CU_ASSERT_EQUAL_FATAL(handle_socket(6, &sa), 1);
	const char *junk[] = {"x", "0123456789abcdef0123", ""};
	for (unsigned i = 0; i < 3; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_EQUAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)),
				0);
		if (junk[i][0]) {
			CU_ASSERT(write(fd, junk[i], strlen(junk[i])) > 0);
		} else {
			shutdown(fd, SHUT_WR); /* connects, never speaks */
		}
		CU_ASSERT_EQUAL(pvio_evtchn_pending(h), -EAGAIN);
		/* Refused: the handle closes the connection. */
		char c;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		CU_ASSERT_EQUAL(poll(&pfd, 1, WAIT_MS), 1);
		/* EOF, or a reset when unread junk was left behind. */
		CU_ASSERT(read(fd, &c, 1) <= 0);
		close(fd);
	}
	/* The port is still there for its rightful binder. */
	struct pvio_evtchn *b = open_as(1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	int bport = pvio_evtchn_bind_interdomain(b, 6, (evtchn_port_t)port);
	CU_ASSERT(bport > 0);
	CU_ASSERT_EQUAL(pvio_evtchn_notify(b, (evtchn_port_t)bport), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_wait(h, WAIT_MS), port);
	pvio_evtchn_close(b);
	pvio_evtchn_close(h);
}

/* The first message on a channel connection (evtchn_sim.c). */
struct bind_msg {
	uint32_t magic, allocator_port, binder_port;
	uint16_t binder_domid, reserved;
};

/*
 * A binder that connects and is slow to name its port neither stalls the
 * handle nor loses its channel; a handle closed meanwhile hangs up on it.
 */
static void test_slow_binder(void)
{
	struct pvio_evtchn *h = open_as(12);
	struct sockaddr_un sa;
	char c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	int port = pvio_evtchn_alloc_unbound(h, 5);
	CU_ASSERT_FATAL(port > 0);
	CU_ASSERT_EQUAL_FATAL(handle_socket(12, &sa), 1);
	/* What the binder's claim does to the allocator's table entry. */
	char path[512];
	snprintf(path, sizeof(path), "%s/dom12/evtchn", fixture_rundir);
	int tfd = open(path, O_RDWR);
	CU_ASSERT_FATAL(tfd >= 0);
	struct port_entry *t = mmap(NULL, NR_PORTS * sizeof(*t),
				    PROT_READ | PROT_WRITE, MAP_SHARED, tfd, 0);
	close(tfd);
	CU_ASSERT_FATAL(t != MAP_FAILED);
	__atomic_store_n(&t[port].state, 3, __ATOMIC_SEQ_CST);

	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* Accepted, and nothing to report yet: no waiting for the binder. */
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), -EAGAIN);
	struct bind_msg m = {0x70766542u, (uint32_t)port, 9, 5, 0};
	CU_ASSERT_EQUAL(send(fd, &m, sizeof(m), MSG_NOSIGNAL),
			(ssize_t)sizeof(m));
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), -EAGAIN); /* now attached */
	CU_ASSERT_EQUAL(pvio_evtchn_peer_closed(h, (evtchn_port_t)port), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_notify(h, (evtchn_port_t)port), 0);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	CU_ASSERT_EQUAL(poll(&pfd, 1, WAIT_MS), 1);
	CU_ASSERT_EQUAL(recv(fd, &c, 1, MSG_DONTWAIT), 1); /* the notify */
	close(fd);
	CU_ASSERT_EQUAL(pvio_evtchn_unbind(h, (evtchn_port_t)port), 0);
	munmap(t, NR_PORTS * sizeof(*t));

	/* Still silent when the handle closes: it hangs up, leaks nothing. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CU_ASSERT_EQUAL(pvio_evtchn_pending(h), -EAGAIN);
	pvio_evtchn_close(h);
	pfd.fd = fd;
	CU_ASSERT_EQUAL(poll(&pfd, 1, WAIT_MS), 1);
	CU_ASSERT_EQUAL(recv(fd, &c, 1, MSG_DONTWAIT), 0); /* EOF */
	close(fd);
}

static void test_xen_platform_without_xen(void)
{
	struct pvio_evtchn *h;

	if (access("/dev/xen/evtchn", F_OK) == 0)
		return; /* a real Xen domain: covered in xen-in-qemu */
	CU_ASSERT(pvio_evtchn_open(PVIO_PLATFORM_XEN, &h) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(pvio_platform_last_error(), "evtchn"));
}

static CU_TestInfo evtchn_tests[] = {
	{"ping-pong across processes, wait and poll", test_ping_pong},
	{"binding rules", test_bind_rules},
	{"a notify reaches only the bound peer",
	 test_notify_reaches_only_bound_peer},
	{"mask and unmask", test_mask_and_unmask},
	{"a handle with one channel", test_one_channel},
	{"notify after the peer died", test_notify_after_peer_died},
	{"the allocating process died", test_allocator_died},
	{"unbind closes the port for the peer", test_unbind_closes_for_peer},
	{"a full port table takes back only dead processes' ports",
	 test_full_table_reclaim},
	{"a slow binder neither stalls the handle nor loses its port",
	 test_slow_binder},
	{"garbage on a handle socket is refused",
	 test_garbage_on_handle_socket},
	{"xen platform without Xen fails cleanly",
	 test_xen_platform_without_xen},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"event channels (sim)", suite_init, suite_cleanup, NULL, NULL,
	 evtchn_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return pvio_cunit_run(suites);
}
