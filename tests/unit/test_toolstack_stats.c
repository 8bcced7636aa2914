/* Unit tests of `pvio network-stats`'s reading and printing of the
 * statistics file pvio-netback keeps per vif (netif/netif_stats.h), with
 * files the test writes. */
#include "config.h"

#include <CUnit/Basic.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/cunit_main.h"
#include "vif_stats.h"

static char tmpdir[] = "/tmp/pvio-stats-test.XXXXXX";
static char path[300];
static char err[512];

static int suite_init(void)
{
	if (!mkdtemp(tmpdir))
		return -1;
	/* Where pvio-netback puts them, under a run directory. */
	char dir[300];
	snprintf(dir, sizeof(dir), "%s/netback", tmpdir);
	if (mkdir(dir, 0755))
		return -1;
	netif_stats_path(path, sizeof(path), tmpdir, 3, 1);
	return 0;
}

static int suite_clean(void)
{
	char dir[300];
	unlink(path);
	snprintf(dir, sizeof(dir), "%s/netback", tmpdir);
	rmdir(dir);
	rmdir(tmpdir);
	return 0;
}

/* Every counter distinct, so that one printed in another's place shows. */
static struct netif_vif_stats sample(void)
{
	struct netif_vif_stats s;
	memset(&s, 0, sizeof(s));
	s.magic = NETIF_STATS_MAGIC;
	s.version = NETIF_STATS_VERSION;
	s.domid = 3;
	s.devid = 1;
	s.tx_packets = 1001;
	s.tx_bytes = 1500000000002ULL; /* past 32 bits */
	s.rx_packets = 1003;
	s.rx_bytes = 1004;
	for (unsigned r = 0; r < NETIF_TX_REASON_COUNT; r++)
		s.tx_drops[r] = 100 + r;
	s.tx_grant_errors = 2001;
	s.tx_tap_errors = 2002;
	for (unsigned r = 0; r < NETIF_RX_DROP_COUNT; r++)
		s.rx_drops[r] = 300 + r;
	s.tx_batches = 4001;
	s.rx_batches = 4002;
	s.rx_ring_full = 4003;
	s.notify_sent = 4004;
	s.notify_received = 4005;
	s.syscalls = 4006;
	s.disabled = 0;
	s.tx_gso_packets = 5001;
	s.rx_gso_packets = 5002;
	s.rx_csum_filled = 5003;
	s.nr_queues = 2;
	s.queue[0].tx_packets = 6001;
	s.queue[0].rx_packets = 6002;
	s.queue[1].tx_packets = 6003;
	s.queue[1].rx_packets = 6004;
	/* A queue of an earlier connection with more queues. */
	s.queue[3].rx_packets = 6005;
	s.tx_mapped_packets = 7001;
	s.tx_maps = 7002;
	s.rx_mapped_packets = 7003;
	s.rx_maps = 7004;
	return s;
}

/* The file as pvio-netback leaves it: the structure, padded to size. */
static void write_file(const void *data, size_t len, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, data, len) == (ssize_t)len);
	CU_ASSERT_FATAL(ftruncate(fd, (off_t)size) == 0);
	close(fd);
}

static void test_read(void)
{
	struct netif_vif_stats in = sample(), out;
	/* A page, as a backend that maps one would size it. */
	write_file(&in, sizeof(in), 4096);
	CU_ASSERT_EQUAL(vif_stats_read(path, 3, 1, &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memcmp(&in, &out, sizeof(in)), 0);
	/* Exactly the structure's size is enough. */
	write_file(&in, sizeof(in), sizeof(in));
	CU_ASSERT_EQUAL(vif_stats_read(path, 3, 1, &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memcmp(&in, &out, sizeof(in)), 0);
}

/* A version-1 file (what a pvio-netback before the queue counters
 * wrote) is read as far as it goes: the offload counters appended within
 * version 1 as far as the file has them (a still older pvio-netback ended
 * before them), the queue counters as 0 (and not printed). */
static void test_read_version1(void)
{
	struct netif_vif_stats in = sample(), out;
	in.version = 1;
	size_t v1 = offsetof(struct netif_vif_stats, nr_queues);
	write_file(&in, v1, v1);
	CU_ASSERT_EQUAL(vif_stats_read(path, 3, 1, &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memcmp(&in, &out, v1), 0);
	CU_ASSERT_EQUAL(out.rx_csum_filled, 5003);
	CU_ASSERT_EQUAL(out.nr_queues, 0);
	CU_ASSERT_EQUAL(out.queue[0].tx_packets, 0);

	size_t first = offsetof(struct netif_vif_stats, tx_gso_packets);
	write_file(&in, first, first);
	CU_ASSERT_EQUAL(vif_stats_read(path, 3, 1, &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memcmp(&in, &out, first), 0);
	CU_ASSERT_EQUAL(out.tx_gso_packets, 0);
	CU_ASSERT_EQUAL(out.rx_gso_packets, 0);
	CU_ASSERT_EQUAL(out.rx_csum_filled, 0);
	/* One appended counter more. */
	write_file(&in, first + 8, first + 8);
	CU_ASSERT_EQUAL(vif_stats_read(path, 3, 1, &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(out.tx_gso_packets, 5001);
	CU_ASSERT_EQUAL(out.rx_gso_packets, 0);

	write_file(&in, first - 8, first - 8);
	CU_ASSERT_EQUAL(vif_stats_read(path, 3, 1, &out, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "version 1 has at least"));
}

/* A version-2 file of a pvio-netback before persistent grants ends at
 * the queue counters: the persistent-grant counters read as 0, and as
 * far as the file has them. */
static void test_read_version2_short(void)
{
	struct netif_vif_stats in = sample(), out;
	size_t end = offsetof(struct netif_vif_stats, tx_mapped_packets);
	write_file(&in, end, end);
	CU_ASSERT_EQUAL(vif_stats_read(path, 3, 1, &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memcmp(&in, &out, end), 0);
	CU_ASSERT_EQUAL(out.queue[3].rx_packets, 6005);
	CU_ASSERT_EQUAL(out.tx_mapped_packets, 0);
	CU_ASSERT_EQUAL(out.rx_maps, 0);
	write_file(&in, end + 16, end + 16);
	CU_ASSERT_EQUAL(vif_stats_read(path, 3, 1, &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(out.tx_mapped_packets, 7001);
	CU_ASSERT_EQUAL(out.tx_maps, 7002);
	CU_ASSERT_EQUAL(out.rx_mapped_packets, 0);
	CU_ASSERT_EQUAL(out.rx_maps, 0);
}

static char *printed(const struct netif_vif_stats *s, const char *name)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	vif_stats_print(f, s, name);
	fclose(f);
	return text;
}

static void test_print(void)
{
	struct netif_vif_stats s = sample();
	char want[4096];
	size_t n = 0;
#define ADD(...) n += (size_t)snprintf(want + n, sizeof(want) - n, __VA_ARGS__)
	ADD("vif3.1 (domain gamma)\n");
	ADD("  tx (guest to bridge): 1001 packets, 1500000000002 bytes\n");
	ADD("  rx (bridge to guest): 1003 packets, 1004 bytes\n");
	ADD("  tx drops:\n");
	for (unsigned r = NETIF_TX_OK + 1; r < NETIF_TX_REASON_COUNT; r++)
		ADD("    %s: %u\n",
		    netif_tx_reason_str((enum netif_tx_reason)r), 100 + r);
	ADD("  tx errors: 2001 grant copies, 2002 TAP writes\n");
	ADD("  rx drops:\n");
	for (unsigned r = 0; r < NETIF_RX_DROP_COUNT; r++)
		ADD("    %s: %u\n", netif_rx_drop_str((enum netif_rx_drop)r),
		    300 + r);
	ADD("  gso: 5001 tx packets, 5002 rx packets\n");
	ADD("  rx checksums filled: 5003\n");
	ADD("  rx ring full: 4003\n");
	ADD("  batches: 4001 tx, 4002 rx\n");
	ADD("  notifications: 4004 sent, 4005 received\n");
	ADD("  syscalls: 4006\n");
	ADD("  disabled: no\n");
	ADD("  queues: 2\n");
	ADD("    queue 0: tx 6001 packets, rx 6002 packets\n");
	ADD("    queue 1: tx 6003 packets, rx 6004 packets\n");
	ADD("    queue 3: tx 0 packets, rx 6005 packets\n");
	ADD("  persistent grants: tx 7001 packets from 7002 mapped pages, rx "
	    "7003 packets into 7004 mapped pages\n");
#undef ADD
	char *text = printed(&s, "gamma");
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
	/* The reasons are netif's names, e.g. */
	CU_ASSERT_PTR_NOT_NULL(strstr(want, "    too many slots: 102\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(want, "    no RX buffers: 300\n"));

	s.version = 1;
	text = printed(&s, NULL);
	CU_ASSERT_PTR_NULL(strstr(text, "queue"));
	free(text);
	s.version = NETIF_STATS_VERSION;

	s.disabled = 1;
	text = printed(&s, NULL);
	CU_ASSERT_EQUAL(strncmp(text, "vif3.1\n", 7), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(
		text, "  disabled: yes (the frontend broke the protocol)\n"));
	free(text);
}

/* Each refusal is one line naming the file and what is wrong with it. */
static void check_refused(unsigned domid, unsigned devid, const char *want)
{
	struct netif_vif_stats out;
	err[0] = 0;
	CU_ASSERT_EQUAL(
		vif_stats_read(path, domid, devid, &out, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fprintf(stderr, "message '%s' lacks '%s'\n", err, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
}

static void test_refused(void)
{
	struct netif_vif_stats s = sample();
	char want[600];

	unlink(path);
	snprintf(want, sizeof(want),
		 "no statistics for vif3.1: %s does not exist (is "
		 "pvio-netback running?",
		 path);
	check_refused(3, 1, want);

	write_file(&s, 6, 6);
	check_refused(3, 1, "6 bytes, too short for a statistics file");

	s.magic = 0x12345678;
	write_file(&s, sizeof(s), sizeof(s));
	check_refused(3, 1,
		      "is not a vif statistics file (magic 0x12345678, "
		      "expected 0x70766e73)");

	s = sample();
	s.version = NETIF_STATS_VERSION + 1;
	write_file(&s, sizeof(s), sizeof(s));
	snprintf(want, sizeof(want),
		 "statistics version %u, this pvio reads version %u",
		 NETIF_STATS_VERSION + 1, NETIF_STATS_VERSION);
	check_refused(3, 1, want);

	/* A version-2 file has every field up to the queue counters (the
	 * persistent-grant ones may be missing: test_read_version2_short;
	 * version 1's may end early: test_read_version1). */
	s = sample();
	size_t v2 = offsetof(struct netif_vif_stats, tx_mapped_packets);
	write_file(&s, v2 - 8, v2 - 8);
	snprintf(want, sizeof(want),
		 "%zu bytes, version %u has at least %zu: truncated", v2 - 8,
		 NETIF_STATS_VERSION, v2);
	check_refused(3, 1, want);

	write_file(&s, sizeof(s), sizeof(s));
	check_refused(3, 2, "holds the statistics of vif3.1, not vif3.2");
	check_refused(4, 1, "holds the statistics of vif3.1, not vif4.1");
}

int main(void)
{
	static CU_TestInfo tests[] = {
		{"a statistics file is read whole", test_read},
		{"every counter printed, reasons by name", test_print},
		{"missing, foreign, other-version, short files", test_refused},
		{"version 1 files, shorter ones too", test_read_version1},
		{"version 2 files before the persistent-grant counters",
		 test_read_version2_short},
		CU_TEST_INFO_NULL,
	};
	static CU_SuiteInfo suites[] = {
		{"vif statistics", suite_init, suite_clean, NULL, NULL, tests},
		CU_SUITE_INFO_NULL,
	};
	return pvio_cunit_run(suites);
}
