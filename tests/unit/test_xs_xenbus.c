/*
 * Tests of the xenbus helpers against a pvio-xenstored started for the
 * run on a private socket (no root needed).
 */
#include "config.h"

#include "cunit_main.h"
#include "xenbus.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/pvio-xenbus-test.XXXXXX";
static char sock_path[256], dom_dir[256];
static pid_t daemon_pid = -1;
static struct pvio_xenbus *xb;

static int start_daemon(void)
{
	const char *bin = getenv("PVIO_XENSTORED");
	if (!bin)
		bin = "./xenstore/pvio-xenstored";
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/socket", tmpdir);
	snprintf(dom_dir, sizeof(dom_dir), "%s/domains", tmpdir);
	daemon_pid = fork();
	if (daemon_pid < 0)
		return -1;
	if (daemon_pid == 0) {
		execl(bin, bin, "--foreground", "--socket", sock_path,
		      "--domain-socket-dir", dom_dir, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	/* Bounded wait for the socket. */
	struct stat st;
	for (int i = 0; i < 400; i++) {
		if (stat(sock_path, &st) == 0)
			break;
		if (waitpid(daemon_pid, NULL, WNOHANG) == daemon_pid) {
			daemon_pid = -1;
			return -1;
		}
		usleep(25000);
	}
	setenv("XENSTORED_PATH", sock_path, 1);
	xb = pvio_xenbus_open();
	return xb ? 0 : -1;
}

static int stop_daemon(void)
{
	pvio_xenbus_close(xb);
	xb = NULL;
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = -1;
	}
	rmdir(dom_dir);
	unlink(sock_path);
	rmdir(tmpdir);
	return 0;
}

static void test_typed(void)
{
	uint64_t u;
	int64_t i;
	bool f;
	char *s;
	CU_ASSERT_EQUAL(pvio_xenbus_write_uint(xb, XBT_NULL, "/ty/u", 42), 0);
	CU_ASSERT_EQUAL(pvio_xenbus_read_uint(xb, XBT_NULL, "/ty/u", &u), 0);
	CU_ASSERT_EQUAL(u, 42);
	CU_ASSERT_EQUAL(pvio_xenbus_printf(xb, XBT_NULL, "/ty/i", "%d", -7), 0);
	CU_ASSERT_EQUAL(pvio_xenbus_read_int(xb, XBT_NULL, "/ty/i", &i), 0);
	CU_ASSERT_EQUAL(i, -7);
	CU_ASSERT_EQUAL(pvio_xenbus_read_uint(xb, XBT_NULL, "/ty/i", &u),
			-EINVAL);
	CU_ASSERT_EQUAL(pvio_xenbus_write_str(xb, XBT_NULL, "/ty/s", "abc"), 0);
	CU_ASSERT_EQUAL(pvio_xenbus_read_uint(xb, XBT_NULL, "/ty/s", &u),
			-EINVAL);
	CU_ASSERT_EQUAL(pvio_xenbus_read_str(xb, XBT_NULL, "/ty/s", &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "abc");
	free(s);
	CU_ASSERT_EQUAL(pvio_xenbus_read_str(xb, XBT_NULL, "/ty/none", &s),
			-ENOENT);
	/* Features: missing is off, 1 on, other values refused. */
	CU_ASSERT_EQUAL(pvio_xenbus_read_feature(xb, XBT_NULL, "/ty/f", &f), 0);
	CU_ASSERT_FALSE(f);
	pvio_xenbus_write_str(xb, XBT_NULL, "/ty/f", "1");
	CU_ASSERT_EQUAL(pvio_xenbus_read_feature(xb, XBT_NULL, "/ty/f", &f), 0);
	CU_ASSERT_TRUE(f);
	pvio_xenbus_write_str(xb, XBT_NULL, "/ty/f", "2");
	CU_ASSERT_EQUAL(pvio_xenbus_read_feature(xb, XBT_NULL, "/ty/f", &f),
			-EINVAL);
	/* scanf, as netback reads "bytes,usecs" rates. */
	pvio_xenbus_write_str(xb, XBT_NULL, "/ty/rate", "1000,20000");
	unsigned long bytes, usecs;
	CU_ASSERT_EQUAL(pvio_xenbus_scanf(xb, XBT_NULL, "/ty/rate", "%lu,%lu",
					  &bytes, &usecs),
			2);
	CU_ASSERT_EQUAL(bytes, 1000);
	CU_ASSERT_EQUAL(usecs, 20000);
	/* Directory, in insertion order. */
	char **names;
	unsigned n;
	CU_ASSERT_EQUAL(pvio_xenbus_directory(xb, XBT_NULL, "/ty", &names, &n),
			0);
	CU_ASSERT_EQUAL_FATAL(n, 5);
	CU_ASSERT_STRING_EQUAL(names[0], "u");
	CU_ASSERT_STRING_EQUAL(names[4], "rate");
	free(names);
	CU_ASSERT_TRUE(pvio_xenbus_exists(xb, XBT_NULL, "/ty/u"));
	CU_ASSERT_EQUAL(pvio_xenbus_rm(xb, XBT_NULL, "/ty"), 0);
	CU_ASSERT_FALSE(pvio_xenbus_exists(xb, XBT_NULL, "/ty/u"));
	CU_ASSERT_EQUAL(pvio_xenbus_mkdir(xb, XBT_NULL, "/ty/dir"), 0);
	CU_ASSERT_TRUE(pvio_xenbus_exists(xb, XBT_NULL, "/ty/dir"));
	CU_ASSERT_EQUAL(pvio_xenbus_write_str(xb, XBT_NULL, "bad//path", "x"),
			-EINVAL);
}

struct conflict_arg {
	struct pvio_xenbus *other;
	int attempts;
	bool always; /* conflict on every attempt, not just the first */
};

/* Increments /cnt; on its first attempt another client changes /cnt
 * behind its back, so that the commit conflicts. */
static int increment(struct pvio_xenbus *h, xs_transaction_t t, void *p)
{
	struct conflict_arg *a = p;
	uint64_t v;
	int rc = pvio_xenbus_read_uint(h, t, "/cnt", &v);
	if (rc)
		return rc;
	if (a->attempts++ == 0 || a->always)
		pvio_xenbus_write_uint(a->other, XBT_NULL, "/cnt", 100);
	return pvio_xenbus_write_uint(h, t, "/cnt", v + 1);
}

static int refuse(struct pvio_xenbus *h, xs_transaction_t t, void *p)
{
	(void)p;
	pvio_xenbus_write_str(h, t, "/refused", "x");
	return -EPERM;
}

static void test_transaction(void)
{
	struct conflict_arg a = {pvio_xenbus_open(), 0, false};
	CU_ASSERT_PTR_NOT_NULL_FATAL(a.other);
	pvio_xenbus_write_uint(xb, XBT_NULL, "/cnt", 1);
	CU_ASSERT_EQUAL(pvio_xenbus_transaction(xb, increment, &a, 0), 0);
	CU_ASSERT_EQUAL(a.attempts, 2);
	uint64_t v;
	CU_ASSERT_EQUAL(pvio_xenbus_read_uint(xb, XBT_NULL, "/cnt", &v), 0);
	CU_ASSERT_EQUAL(v, 101);
	/* Every attempt conflicts: give up with EAGAIN. */
	a.attempts = 0;
	a.always = true;
	CU_ASSERT_EQUAL(pvio_xenbus_transaction(xb, increment, &a, 3), -EAGAIN);
	CU_ASSERT_EQUAL(a.attempts, 3);
	/* The body's own error aborts, and nothing it wrote stays. */
	CU_ASSERT_EQUAL(pvio_xenbus_transaction(xb, refuse, NULL, 0), -EPERM);
	CU_ASSERT_FALSE(pvio_xenbus_exists(xb, XBT_NULL, "/refused"));
	pvio_xenbus_close(a.other);
}

struct seen {
	int count;
	char last[128];
	struct pvio_xenbus_watch *self;
	bool unwatch_self;
};

static void on_change(struct pvio_xenbus *h, const char *path, void *arg)
{
	struct seen *s = arg;
	s->count++;
	snprintf(s->last, sizeof(s->last), "%s", path);
	if (s->unwatch_self)
		pvio_xenbus_unwatch(h, s->self);
}

/* Polls and dispatches until cond holds (bounded). */
static bool pump_until(const int *counter, int want)
{
	int fd = pvio_xenbus_fd(xb);
	for (int i = 0; i < 100 && *counter < want; i++) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 50) > 0)
			pvio_xenbus_dispatch(xb);
	}
	return *counter >= want;
}

static void test_watch_dispatch(void)
{
	struct seen a = {0}, b = {0};
	struct pvio_xenbus_watch *wa =
		pvio_xenbus_watch(xb, "/wd/a", on_change, &a);
	b.self = pvio_xenbus_watch(xb, "/wd/b", on_change, &b);
	b.unwatch_self = true;
	CU_ASSERT_PTR_NOT_NULL_FATAL(wa);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b.self);
	/* The initial events. */
	CU_ASSERT_TRUE(pump_until(&a.count, 1));
	CU_ASSERT_TRUE(pump_until(&b.count, 1));
	CU_ASSERT_STRING_EQUAL(a.last, "/wd/a");
	pvio_xenbus_write_str(xb, XBT_NULL, "/wd/a/x", "1");
	CU_ASSERT_TRUE(pump_until(&a.count, 2));
	CU_ASSERT_STRING_EQUAL(a.last, "/wd/a/x");
	/* b unwatched itself from its callback: no further calls. */
	pvio_xenbus_write_str(xb, XBT_NULL, "/wd/b", "1");
	pvio_xenbus_write_str(xb, XBT_NULL, "/wd/a", "2");
	CU_ASSERT_TRUE(pump_until(&a.count, 3));
	CU_ASSERT_EQUAL(b.count, 1);
	pvio_xenbus_unwatch(xb, wa);
	CU_ASSERT_EQUAL(pvio_xenbus_dispatch(xb), 0);
}

static void *connect_later(void *arg)
{
	(void)arg;
	struct pvio_xenbus *h = pvio_xenbus_open();
	if (!h)
		return NULL;
	pvio_xenbus_switch_state(h, XBT_NULL, "/dev/fe", XenbusStateInitWait);
	pvio_xenbus_switch_state(h, XBT_NULL, "/dev/fe", XenbusStateConnected);
	pvio_xenbus_close(h);
	return NULL;
}

static void test_state(void)
{
	enum xenbus_state s;
	CU_ASSERT_EQUAL(pvio_xenbus_read_state(xb, XBT_NULL, "/dev/fe", &s), 0);
	CU_ASSERT_EQUAL(s, XenbusStateUnknown);
	CU_ASSERT_EQUAL(pvio_xenbus_switch_state(xb, XBT_NULL, "/dev/fe",
						 XenbusStateInitialising),
			0);
	CU_ASSERT_EQUAL(pvio_xenbus_read_state(xb, XBT_NULL, "/dev/fe", &s), 0);
	CU_ASSERT_EQUAL(s, XenbusStateInitialising);
	CU_ASSERT_STRING_EQUAL(pvio_xenbus_state_name(s), "Initialising");
	CU_ASSERT_STRING_EQUAL(pvio_xenbus_state_name(99), "Invalid");

	/* Already there: returns at once. */
	CU_ASSERT_EQUAL(pvio_xenbus_wait_state(
				xb, "/dev/fe",
				PVIO_XENBUS_STATE_BIT(XenbusStateInitialising),
				-1, &s),
			0);
	/* Reached by another client while waiting. */
	pthread_t th;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, connect_later, NULL),
			      0);
	CU_ASSERT_EQUAL(
		pvio_xenbus_wait_state(
			xb, "/dev/fe",
			PVIO_XENBUS_STATE_BIT(XenbusStateConnected) |
				PVIO_XENBUS_STATE_BIT(XenbusStateClosed),
			30000, &s),
		0);
	CU_ASSERT_EQUAL(s, XenbusStateConnected);
	pthread_join(th, NULL);
	/* Never reached: times out. */
	CU_ASSERT_EQUAL(
		pvio_xenbus_wait_state(xb, "/dev/fe",
				       PVIO_XENBUS_STATE_BIT(XenbusStateClosed),
				       100, &s),
		-ETIMEDOUT);
	/* Inside a caller's transaction. */
	xs_transaction_t t = xs_transaction_start(pvio_xenbus_handle(xb));
	CU_ASSERT_EQUAL(
		pvio_xenbus_switch_state(xb, t, "/dev/fe", XenbusStateClosing),
		0);
	CU_ASSERT_TRUE(xs_transaction_end(pvio_xenbus_handle(xb), t, false));
	CU_ASSERT_EQUAL(pvio_xenbus_read_state(xb, XBT_NULL, "/dev/fe", &s), 0);
	CU_ASSERT_EQUAL(s, XenbusStateClosing);
}

/* A guest writes its own state node: whatever it holds outside the enum
 * (0 to 8) reads as Unknown and is never used as a shift count. */
static void test_state_out_of_range(void)
{
	static const char *const bad[] = {
		"9", "31", "32", "40", "255", "4294967297", "-1", "4x", "",
	};
	enum xenbus_state s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		CU_ASSERT_EQUAL(pvio_xenbus_write_str(xb, XBT_NULL,
						      "/dev/hostile/state",
						      bad[i]),
				0);
		s = XenbusStateConnected;
		CU_ASSERT_EQUAL(pvio_xenbus_read_state(xb, XBT_NULL,
						       "/dev/hostile", &s),
				0);
		if (s != XenbusStateUnknown)
			fprintf(stderr, "state '%s' read as %d\n", bad[i],
				(int)s);
		CU_ASSERT_EQUAL(s, XenbusStateUnknown);
	}
	/* 40 is 8 + 32: a shift by it would land on Reconfigured's bit. */
	CU_ASSERT_EQUAL(
		pvio_xenbus_write_str(xb, XBT_NULL, "/dev/hostile/state", "40"),
		0);
	CU_ASSERT_EQUAL(pvio_xenbus_wait_state(
				xb, "/dev/hostile",
				PVIO_XENBUS_STATE_BIT(XenbusStateReconfigured),
				100, &s),
			-ETIMEDOUT);
	s = XenbusStateConnected;
	CU_ASSERT_EQUAL(pvio_xenbus_wait_state(
				xb, "/dev/hostile",
				PVIO_XENBUS_STATE_BIT(XenbusStateUnknown), 100,
				&s),
			0);
	CU_ASSERT_EQUAL(s, XenbusStateUnknown);
	/* The mask bit of a value outside the enum is none (volatile: a
	 * value read at run time, as from the store). */
	volatile int outside[] = {-1, 9, 31, 32, 40, 255};
	for (size_t i = 0; i < sizeof(outside) / sizeof(*outside); i++)
		CU_ASSERT_EQUAL(PVIO_XENBUS_STATE_BIT(outside[i]), 0u);
	volatile int connected = XenbusStateConnected;
	CU_ASSERT_EQUAL(PVIO_XENBUS_STATE_BIT(connected), 1u << 4);
	CU_ASSERT_EQUAL(PVIO_XENBUS_STATE_BIT(XenbusStateReconfigured),
			1u << 8);
	/* Nor is one written by us. */
	CU_ASSERT_EQUAL(pvio_xenbus_switch_state(xb, XBT_NULL, "/dev/hostile",
						 (enum xenbus_state)9),
			-EINVAL);
	CU_ASSERT_EQUAL(pvio_xenbus_rm(xb, XBT_NULL, "/dev/hostile"), 0);
}

int main(void)
{
	static CU_TestInfo tests[] = {
		{"typed reads and writes", test_typed},
		{"transaction retry loop", test_transaction},
		{"watch dispatch", test_watch_dispatch},
		{"state machine", test_state},
		{"states outside the enum", test_state_out_of_range},
		CU_TEST_INFO_NULL,
	};
	static CU_SuiteInfo suites[] = {
		{"xenbus helpers", start_daemon, stop_daemon, NULL, NULL,
		 tests},
		CU_SUITE_INFO_NULL,
	};
	return pvio_cunit_run(suites);
}
