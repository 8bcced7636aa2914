/* Unit tests of the pvio toolstack's argument parsers: xl's key=value vif
 * syntax, MACs, rates, devids, domain ids and names. */
#include "config.h"

#include <CUnit/Basic.h>
#include <string.h>

#include "args.h"
#include "tests/unit/cunit_main.h"

static char err[256];

/* A vif's MAC as xl takes it (netif_parse_mac's syntax), unicast only,
 * each refusal saying which rule the text broke. */
static void test_mac(void)
{
	struct pvio_nic nic;
	pvio_nic_init(&nic);
	CU_ASSERT_EQUAL(pvio_nic_parse_arg(&nic, "mac=00:16:3e:0a:BB:7f", err,
					   sizeof(err)),
			0);
	CU_ASSERT_TRUE(nic.has_mac);
	static const uint8_t want[6] = {0x00, 0x16, 0x3e, 0x0a, 0xbb, 0x7f};
	CU_ASSERT_EQUAL(memcmp(nic.mac, want, sizeof(want)), 0);
	static const struct {
		const char *arg, *why;
	} bad[] = {
		{"mac=", "malformed MAC ''"},
		{"mac=00:16:3e:0a:bb", "malformed MAC '00:16:3e:0a:bb'"},
		{"mac=00:16:3e:0a:bb:7f:01", "malformed MAC"},
		{"mac=00:16:3e:0a:bb:7g", "malformed MAC"},
		{"mac=00:16:3e:0a:bb:777", "malformed MAC"},
		{"mac=00:16:3e:0a:bb:7f ", "malformed MAC"},
		{"mac=00163e0abb7f", "malformed MAC"},
		/* xl takes two digits and colons only. */
		{"mac=0:16:3e:a:b:c", "malformed MAC"},
		{"mac=00-16-3e-01-02-03", "malformed MAC"},
		/* Multicast and broadcast cannot be a vif's address. */
		{"mac=01:00:5e:00:00:01",
		 "MAC '01:00:5e:00:00:01' is multicast"},
		{"mac=ff:ff:ff:ff:ff:ff", "is multicast"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = 0;
		CU_ASSERT_EQUAL(
			pvio_nic_parse_arg(&nic, bad[i].arg, err, sizeof(err)),
			-1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].why));
	}
}

static void check_rate(const char *s, uint64_t bytes, uint32_t usecs)
{
	uint64_t b = 0;
	uint32_t u = 0;
	CU_ASSERT_EQUAL(pvio_parse_rate(s, &b, &u, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b, bytes);
	CU_ASSERT_EQUAL(u, usecs);
}

static void test_rate(void)
{
	/* bytes per interval, interval in us: libxl's "rate" key. */
	check_rate("10Mb/s", 62500, 50000);
	check_rate("10MB/s", 500000, 50000);
	check_rate("100Kb/s@20ms", 250, 20000);
	check_rate("1GB/s@1s", 1000000000ULL, 1000000);
	check_rate("1GB/s@2", 2000000000ULL, 2000000);
	check_rate("8b/s@1000us", 0, 1000);
	check_rate("1000000B/s@250u", 250, 250);
	check_rate("4294967295GB/s@1us", 4294967295000ULL, 1);
	uint64_t b;
	uint32_t u;
	const char *bad[] = {"",
			     "10",
			     "10M/s",
			     "10Mb",
			     "10Mb/",
			     "0Mb/s",
			     "-1Mb/s",
			     "10Tb/s",
			     "10Mb/s@",
			     "10Mb/s@0",
			     "10Mb/s@1h",
			     "10Mb/s@x",
			     "Mb/s",
			     "10Mb/sx",
			     "10 Mb/s",
			     "4294967296B/s",
			     "10Mb/s@5000s",
			     "4294967295GB/s@1s"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = 0;
		CU_ASSERT_EQUAL(
			pvio_parse_rate(bad[i], &b, &u, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "rate"));
	}
}

static void test_uint_devid_domid(void)
{
	int devid;
	unsigned domid;
	unsigned long v;
	CU_ASSERT_EQUAL(pvio_parse_devid("0", &devid), 0);
	CU_ASSERT_EQUAL(devid, 0);
	CU_ASSERT_EQUAL(pvio_parse_devid("17", &devid), 0);
	CU_ASSERT_EQUAL(devid, 17);
	CU_ASSERT_EQUAL(pvio_parse_devid("2147483647", &devid), 0);
	CU_ASSERT_EQUAL(pvio_parse_devid("2147483648", &devid), -1);
	CU_ASSERT_EQUAL(pvio_parse_devid("-1", &devid), -1);
	CU_ASSERT_EQUAL(pvio_parse_devid("+1", &devid), -1);
	CU_ASSERT_EQUAL(pvio_parse_devid("1x", &devid), -1);
	CU_ASSERT_EQUAL(pvio_parse_devid("", &devid), -1);
	CU_ASSERT_EQUAL(pvio_parse_devid(" 1", &devid), -1);
	CU_ASSERT_EQUAL(pvio_parse_domid("0", &domid), 0);
	CU_ASSERT_EQUAL(pvio_parse_domid("32751", &domid), 0);
	CU_ASSERT_EQUAL(domid, 32751);
	CU_ASSERT_EQUAL(pvio_parse_domid("32752", &domid), -1); /* 0x7FF0 */
	CU_ASSERT_EQUAL(pvio_parse_domid("guest", &domid), -1);
	CU_ASSERT_EQUAL(pvio_parse_uint("99999999999999999999999", 10, &v), -1);
}

static void test_names(void)
{
	CU_ASSERT_TRUE(pvio_valid_domain_name("guest1"));
	CU_ASSERT_TRUE(pvio_valid_domain_name("Domain-0"));
	CU_ASSERT_TRUE(pvio_valid_domain_name("a.b_c-d"));
	CU_ASSERT_FALSE(pvio_valid_domain_name(""));
	CU_ASSERT_FALSE(pvio_valid_domain_name("12"));
	CU_ASSERT_FALSE(pvio_valid_domain_name("a/b"));
	CU_ASSERT_FALSE(pvio_valid_domain_name("a b"));
	CU_ASSERT_FALSE(pvio_valid_domain_name(
		"0123456789012345678901234567890123456789012345678901234567890"
		"abc"));
	CU_ASSERT_TRUE(pvio_valid_ifname("vif1.0"));
	CU_ASSERT_TRUE(pvio_valid_ifname("abcdefghijklmno"));
	CU_ASSERT_FALSE(pvio_valid_ifname("abcdefghijklmnop"));
	CU_ASSERT_FALSE(pvio_valid_ifname(""));
	CU_ASSERT_FALSE(pvio_valid_ifname("a/b"));
	CU_ASSERT_FALSE(pvio_valid_ifname("a:b"));
	CU_ASSERT_FALSE(pvio_valid_ifname(".."));
}

static void test_nic_defaults_and_keys(void)
{
	struct pvio_nic nic;
	pvio_nic_init(&nic);
	CU_ASSERT_STRING_EQUAL(nic.bridge, "xenbr0");
	CU_ASSERT_STRING_EQUAL(nic.script, "vif-bridge");
	CU_ASSERT_STRING_EQUAL(nic.type, "vif");
	CU_ASSERT_STRING_EQUAL(nic.backend, "0");
	CU_ASSERT_EQUAL(nic.mtu, 1500);
	CU_ASSERT_EQUAL(nic.devid, -1);
	CU_ASSERT_FALSE(nic.has_mac);
	CU_ASSERT_EQUAL(nic.rate_usecs, 0);

	const char *good[] = {"mac=00:16:3e:01:02:03",
			      "bridge=br-test",
			      "ip=10.0.0.2 10.0.0.3",
			      "type=vif",
			      "vifname=guest-eth0",
			      "script=/bin/true",
			      "backend=Domain-0",
			      "rate=10Mb/s@20ms",
			      "mtu=9000",
			      "devid=3"};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		CU_ASSERT_EQUAL(
			pvio_nic_parse_arg(&nic, good[i], err, sizeof(err)), 0);
	CU_ASSERT_TRUE(nic.has_mac);
	CU_ASSERT_EQUAL(nic.mac[5], 3);
	CU_ASSERT_STRING_EQUAL(nic.bridge, "br-test");
	CU_ASSERT_STRING_EQUAL(nic.ip, "10.0.0.2 10.0.0.3");
	CU_ASSERT_STRING_EQUAL(nic.vifname, "guest-eth0");
	CU_ASSERT_STRING_EQUAL(nic.script, "/bin/true");
	CU_ASSERT_STRING_EQUAL(nic.backend, "Domain-0");
	CU_ASSERT_EQUAL(nic.rate_bytes, 25000);
	CU_ASSERT_EQUAL(nic.rate_usecs, 20000);
	CU_ASSERT_EQUAL(nic.mtu, 9000);
	CU_ASSERT_EQUAL(nic.devid, 3);
	CU_ASSERT_PTR_NULL(nic.model);
	CU_ASSERT_EQUAL(
		pvio_nic_parse_arg(&nic, "type=ioemu", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(
		pvio_nic_parse_arg(&nic, "model=e1000", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(nic.type, "ioemu");
	CU_ASSERT_STRING_EQUAL(nic.model, "e1000");

	struct {
		const char *arg, *needle;
	} bad[] = {
		{"mac", "key=value"},
		{"=x", "key=value"},
		{"mac=00:16:3e:01:02", "MAC"},
		{"mac=", "MAC"},
		{"bridge=", "bridge"},
		{"bridge=a/b", "bridge"},
		{"type=tap", "expected vif or ioemu"},
		{"model=ne2k_pci", "invalid model 'ne2k_pci'"},
		{"vifname=abcdefghijklmnop", "vifname"},
		{"rate=fast", "rate"},
		{"mtu=67", "mtu"},
		{"mtu=65536", "mtu"},
		{"mtu=1500x", "mtu"},
		{"devid=-1", "devid"},
		{"devid=x", "devid"},
		{"script=", "script"},
		{"gatewaydev=eth0", "not supported"},
		{"colour=blue", "unknown key 'colour'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = 0;
		CU_ASSERT_EQUAL(
			pvio_nic_parse_arg(&nic, bad[i].arg, err, sizeof(err)),
			-1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].needle));
		/* One line. */
		CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	}
}

static CU_TestInfo tests[] = {
	{"MAC addresses", test_mac},
	{"rates RATE/s[@INTERVAL]", test_rate},
	{"numbers, devids and domids", test_uint_devid_domid},
	{"domain and interface names", test_names},
	{"vif keys and defaults", test_nic_defaults_and_keys},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"toolstack arguments", NULL, NULL, NULL, NULL, tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return pvio_cunit_run(suites);
}
