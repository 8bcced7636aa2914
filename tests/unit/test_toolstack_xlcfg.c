/* Unit tests of the xl domain configuration parser (tools/pvio/xlcfg.c):
 * xl.cfg(5)'s syntax, pvio's reading of the keys, vif specs, and the
 * line each error names. */
#include "config.h"

#include <CUnit/Basic.h>
#include <string.h>

#include "tests/unit/cunit_main.h"
#include "xlcfg.h"

static char err[256];
static int err_line;

static int parse(const char *text, struct xlcfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	err[0] = 0;
	err_line = -1;
	return xlcfg_parse(text, strlen(text), cfg, &err_line, err,
			   sizeof(err));
}

static void test_syntax(void)
{
	struct xlcfg cfg;
	const char *text = "# an xl config\n"
			   "name = \"guest-1\"\n"
			   "memory=512 # MiB\n"
			   "vcpus = 0x2; maxvcpus = 4\n"
			   "kernel = '/boot/vmlinuz'\n"
			   "vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0',\n"
			   "        # a comment inside the list\n"
			   "        \"bridge=xenbr1\",\n"
			   "      ]\n"
			   "extra = \"a\\tb \\\"q\\\" \\x41\\101\\\\\"\n"
			   "empty = []\n";
	CU_ASSERT_EQUAL_FATAL(parse(text, &cfg), 0);
	CU_ASSERT_EQUAL(cfg.n, 8);
	const struct xlcfg_setting *s = xlcfg_get(&cfg, "name");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->type, XLCFG_STRING);
	CU_ASSERT_STRING_EQUAL(s->text, "guest-1");
	CU_ASSERT_EQUAL(s->line, 2);
	s = xlcfg_get(&cfg, "memory");
	CU_ASSERT_EQUAL(s->type, XLCFG_NUMBER);
	CU_ASSERT_STRING_EQUAL(s->text, "512");
	CU_ASSERT_EQUAL(s->line, 3);
	s = xlcfg_get(&cfg, "maxvcpus");
	CU_ASSERT_EQUAL(s->line, 4);
	CU_ASSERT_STRING_EQUAL(xlcfg_get(&cfg, "vcpus")->text, "0x2");
	CU_ASSERT_STRING_EQUAL(xlcfg_get(&cfg, "kernel")->text,
			       "/boot/vmlinuz");
	s = xlcfg_get(&cfg, "vif");
	CU_ASSERT_EQUAL_FATAL(s->type, XLCFG_LIST);
	CU_ASSERT_EQUAL_FATAL(s->nitems, 2);
	CU_ASSERT_STRING_EQUAL(s->items[0].text,
			       "mac=00:16:3e:00:00:01,bridge=xenbr0");
	CU_ASSERT_EQUAL(s->items[0].line, 6);
	CU_ASSERT_STRING_EQUAL(s->items[1].text, "bridge=xenbr1");
	CU_ASSERT_EQUAL(s->items[1].line, 8);
	CU_ASSERT_STRING_EQUAL(xlcfg_get(&cfg, "extra")->text,
			       "a\tb \"q\" AA\\");
	CU_ASSERT_EQUAL(xlcfg_get(&cfg, "extra")->line, 10);
	CU_ASSERT_EQUAL(xlcfg_get(&cfg, "empty")->nitems, 0);
	CU_ASSERT_PTR_NULL(xlcfg_get(&cfg, "disk"));
	xlcfg_free(&cfg);

	/* The last setting of a key counts; CRLF files; no final newline. */
	CU_ASSERT_EQUAL_FATAL(parse("name='a'\r\nname='b'", &cfg), 0);
	CU_ASSERT_EQUAL(cfg.n, 2);
	CU_ASSERT_STRING_EQUAL(xlcfg_get(&cfg, "name")->text, "b");
	CU_ASSERT_EQUAL(xlcfg_get(&cfg, "name")->line, 2);
	xlcfg_free(&cfg);

	/* Nothing but comments and blank lines: no settings. */
	CU_ASSERT_EQUAL(parse("\n# nothing\n\n  ;\n", &cfg), 0);
	CU_ASSERT_EQUAL(cfg.n, 0);
	xlcfg_free(&cfg);
}

static void check_bad(const char *text, int line, const char *what)
{
	struct xlcfg cfg;
	CU_ASSERT_EQUAL(parse(text, &cfg), -1);
	CU_ASSERT_EQUAL(err_line, line);
	if (!strstr(err, what))
		fprintf(stderr, "\n  for %s: error '%s' lacks '%s'\n", text,
			err, what);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, what));
	/* A failed parse leaves the config as it was: empty. */
	CU_ASSERT_EQUAL(cfg.n, 0);
	xlcfg_free(&cfg);
}

static void test_syntax_errors(void)
{
	check_bad("name = guest\n", 1, "'guest' needs quotes");
	check_bad("name = \"guest\n", 1, "unterminated string");
	check_bad("\n\nname 'x'\n", 3, "expected '=' after key 'name'");
	check_bad("name =\n", 1, "has no value");
	check_bad("vif = [ 'a',\n 'b'\n", 1, "not closed");
	check_bad("vif = [ 'a' 'b' ]\n", 1, "expected ',' or ']'");
	check_bad("vif = [ ,'a' ]\n", 1, "empty list item");
	check_bad("vif = [ 'a',, ]\n", 1, "empty list item");
	check_bad("vif = [ ['a'] ]\n", 1, "lists inside lists");
	check_bad("a = 1\nb = 2 3\n", 2, "after the value of 'b'");
	check_bad("x = 12ab\n", 1, "malformed number");
	check_bad("= 1\n", 1, "where a key should be");
	check_bad("1x = 1\n", 1, "where a key should be");
	check_bad("vif += [ 'a' ]\n", 1, "'vif +=' is not supported");
	check_bad("s = 'a\\q'\n", 1, "unknown escape");
	check_bad("s = 'a\\x4'\n", 1, "two hex digits");
	check_bad("s = 'a\\0b'\n", 1, "NUL character");
	check_bad("s = '\\777'\n", 1, "octal escape");
	check_bad("a = 1\n\nb = '\n", 3, "unterminated string");
	struct xlcfg cfg;
	const char nul[] = "a = 1\nb = 2\0\n";
	memset(&cfg, 0, sizeof(cfg));
	CU_ASSERT_EQUAL(xlcfg_parse(nul, sizeof(nul) - 1, &cfg, &err_line, err,
				    sizeof(err)),
			-1);
	CU_ASSERT_EQUAL(err_line, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "NUL byte"));
	xlcfg_free(&cfg);
}

static void test_overrides(void)
{
	struct xlcfg cfg;
	CU_ASSERT_EQUAL_FATAL(parse("name = 'file'\nmemory = 128\n", &cfg), 0);
	/* Bare text is a string on the command line; quoted and list
	 * values in the file's syntax. */
	CU_ASSERT_EQUAL(
		xlcfg_parse_override("name=cli", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(
		xlcfg_parse_override("memory=256", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(xlcfg_parse_override("vif=['bridge=br1','']", &cfg, err,
					     sizeof(err)),
			0);
	CU_ASSERT_EQUAL(
		xlcfg_parse_override("extra=\"x y\"", &cfg, err, sizeof(err)),
		0);
	const struct xlcfg_setting *s = xlcfg_get(&cfg, "name");
	CU_ASSERT_STRING_EQUAL(s->text, "cli");
	CU_ASSERT_EQUAL(s->line, 0);
	CU_ASSERT_STRING_EQUAL(xlcfg_get(&cfg, "memory")->text, "256");
	CU_ASSERT_EQUAL(xlcfg_get(&cfg, "memory")->type, XLCFG_NUMBER);
	s = xlcfg_get(&cfg, "vif");
	CU_ASSERT_EQUAL_FATAL(s->nitems, 2);
	CU_ASSERT_STRING_EQUAL(s->items[1].text, "");
	CU_ASSERT_EQUAL(s->items[0].line, 0);
	CU_ASSERT_STRING_EQUAL(xlcfg_get(&cfg, "extra")->text, "x y");
	/* A bare value that only starts with a digit is a string. */
	CU_ASSERT_EQUAL(
		xlcfg_parse_override("name=1st", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(xlcfg_get(&cfg, "name")->type, XLCFG_STRING);
	CU_ASSERT_STRING_EQUAL(xlcfg_get(&cfg, "name")->text, "1st");
	CU_ASSERT_EQUAL(
		xlcfg_parse_override("vcpus=0x2", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(xlcfg_get(&cfg, "vcpus")->type, XLCFG_NUMBER);
	size_t n = cfg.n;
	CU_ASSERT_EQUAL(xlcfg_parse_override("novalue", &cfg, err, sizeof(err)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not KEY=VALUE"));
	CU_ASSERT_EQUAL(xlcfg_parse_override("=1", &cfg, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(xlcfg_parse_override("a-b=1", &cfg, err, sizeof(err)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'a-b' is not a key"));
	CU_ASSERT_EQUAL(
		xlcfg_parse_override("vif=['x'", &cfg, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not closed"));
	CU_ASSERT_EQUAL(xlcfg_parse_override("a='x' b", &cfg, err, sizeof(err)),
			-1);
	CU_ASSERT_EQUAL(cfg.n, n);
	xlcfg_free(&cfg);
}

struct warnings {
	int n, lines[8];
	char text[8][256];
};

static void collect(void *ctx, int line, const char *msg)
{
	struct warnings *w = ctx;
	if (w->n < 8) {
		w->lines[w->n] = line;
		snprintf(w->text[w->n], sizeof(w->text[0]), "%s", msg);
	}
	w->n++;
}

static int domain(const char *text, struct xlcfg *cfg, struct xl_domain *d,
		  struct warnings *w)
{
	memset(w, 0, sizeof(*w));
	if (parse(text, cfg))
		return -2;
	return xl_domain_from_cfg(cfg, d, collect, w, &err_line, err,
				  sizeof(err));
}

static void test_domain_keys(void)
{
	struct xlcfg cfg;
	struct xl_domain d;
	struct warnings w;
	CU_ASSERT_EQUAL_FATAL(
		domain("name = 'web'\n"
		       "type = 'pv'\n"
		       "vcpus = 2; maxvcpus = 0x10\n"
		       "kernel = '/boot/vmlinuz'\n"
		       "memory = 256\n"
		       "frobnicate = 1\n"
		       "uuid = '0a1b2c3d-0000-4000-8000-00163e000001'\n"
		       "vif = [ 'mac=00:16:3e:00:00:01', 'bridge=xenbr1' ]\n"
		       "maxmem = 512\n",
		       &cfg, &d, &w),
		0);
	CU_ASSERT_STRING_EQUAL(d.name, "web");
	CU_ASSERT_EQUAL(d.vcpus, 2);
	CU_ASSERT_EQUAL(d.maxvcpus, 16); /* 0x10 */
	CU_ASSERT_EQUAL(d.memory_mb, 256);
	CU_ASSERT_EQUAL(d.maxmem_mb, 512);
	CU_ASSERT_STRING_EQUAL(d.uuid, "0a1b2c3d-0000-4000-8000-00163e000001");
	CU_ASSERT_EQUAL_FATAL(d.nvifs, 2);
	CU_ASSERT_STRING_EQUAL(d.vifs[1].text, "bridge=xenbr1");
	/* Ignored keys are reported by name and line. */
	CU_ASSERT_EQUAL_FATAL(w.n, 2);
	CU_ASSERT_EQUAL(w.lines[0], 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(w.text[0], "key 'kernel'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.text[0], "ignored"));
	CU_ASSERT_EQUAL(w.lines[1], 6);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(w.text[1], "key 'frobnicate' is not supported by pvio; "
				  "ignored"));
	xlcfg_free(&cfg);

	/* Only a name: xl's defaults (no vifs, nothing of memory). */
	CU_ASSERT_EQUAL_FATAL(domain("name=\"solo\"", &cfg, &d, &w), 0);
	CU_ASSERT_EQUAL(d.nvifs, 0);
	CU_ASSERT_EQUAL(d.memory_mb, 0);
	CU_ASSERT_EQUAL(d.vcpus, 0);
	CU_ASSERT_PTR_NULL(d.uuid);
	CU_ASSERT_EQUAL(w.n, 0);
	xlcfg_free(&cfg);
}

static void check_refused(const char *text, int line, const char *what)
{
	struct xlcfg cfg;
	struct xl_domain d;
	struct warnings w;
	CU_ASSERT_EQUAL(domain(text, &cfg, &d, &w), -1);
	CU_ASSERT_EQUAL(err_line, line);
	if (!strstr(err, what))
		fprintf(stderr, "\n  for %s: error '%s' lacks '%s'\n", text,
			err, what);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, what));
	xlcfg_free(&cfg);
}

static void test_domain_errors(void)
{
	check_refused("memory = 1\n", -1, "no name");
	check_refused("name = 'a'\ntype = 'hvm'\n", 2, "pvio guests are PV");
	check_refused("name = 'a'\nbuilder = 'hvm'\n", 2, "pvio guests are PV");
	check_refused("name = 'a'\n\npci = [ '01:00.0' ]\n", 3,
		      "key 'pci' is not supported");
	check_refused("name = 5\n", 1, "expected a quoted string");
	check_refused("name = 'bad name'\n", 1, "invalid domain name");
	check_refused("name = '123'\n", 1, "invalid domain name");
	check_refused("name = 'a'\nmemory = 'lots'\n", 2,
		      "memory: expected a "
		      "number");
	check_refused("name = 'a'\nmemory = 0\n", 2, "memory: expected");
	check_refused("name = 'a'\nvcpus = 129\n", 2, "vcpus: expected");
	check_refused("name = 'a'\nvcpus = [ 1 ]\n", 2, "vcpus: expected");
	check_refused("name = 'a'\nvcpus = 0x81\n", 2, "vcpus: expected");
	check_refused("name = 'a'\nmemory = '12x'\n", 2, "memory: expected");
	check_refused("name = 'a'\nmemory = 99999999999999999999\n", 2,
		      "memory: expected");
	check_refused("name = 'a'\nvif = 'bridge=xenbr0'\n", 2,
		      "vif: expected a list");
	check_refused("name = 'a'\nvif = [ 'x',\n 7 ]\n", 3,
		      "item 2 is not a quoted string");
	check_refused("name = 'a'\nuuid = 'nope'\n", 2, "is not a UUID");
	check_refused("name = 'a'\nmemory = 512\nmaxmem = 256\n", 3,
		      "maxmem (256) is below memory (512)");
	check_refused("name = 'a'\nvcpus = 4\nmaxvcpus = 2\n", 3,
		      "maxvcpus (2) is below vcpus (4)");
}

static void test_vif_spec(void)
{
	struct pvio_nic nic;
	char spec[] = " mac = 00:16:3e:0a:0b:0c , bridge=xenbr1,,"
		      "ip=169.254.1.2,vifname=web0,rate=10Mb/s,mtu=9000 ";
	CU_ASSERT_EQUAL_FATAL(xl_vif_parse(spec, &nic, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(nic.has_mac);
	CU_ASSERT_EQUAL(nic.mac[5], 0x0c);
	CU_ASSERT_STRING_EQUAL(nic.bridge, "xenbr1");
	CU_ASSERT_STRING_EQUAL(nic.ip, "169.254.1.2");
	CU_ASSERT_STRING_EQUAL(nic.vifname, "web0");
	CU_ASSERT_EQUAL(nic.mtu, 9000);
	CU_ASSERT_NOT_EQUAL(nic.rate_usecs, 0);
	/* Empty: every default, as xl's vif = [ '' ]. */
	char empty[] = "";
	CU_ASSERT_EQUAL_FATAL(xl_vif_parse(empty, &nic, err, sizeof(err)), 0);
	CU_ASSERT_FALSE(nic.has_mac);
	CU_ASSERT_STRING_EQUAL(nic.bridge, "xenbr0");
	CU_ASSERT_EQUAL(nic.devid, -1);
	char bad_mac[] = "mac=00:16:3e:zz:00:01";
	CU_ASSERT_EQUAL(xl_vif_parse(bad_mac, &nic, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "malformed MAC"));
	char bad_key[] = "bridge=xenbr0,colour=blue";
	CU_ASSERT_EQUAL(xl_vif_parse(bad_key, &nic, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown key 'colour'"));
	char gatewaydev[] = "gatewaydev=eth9";
	CU_ASSERT_EQUAL(xl_vif_parse(gatewaydev, &nic, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not supported"));
	char no_eq[] = "xenbr0";
	CU_ASSERT_EQUAL(xl_vif_parse(no_eq, &nic, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not key=value"));
}

int main(void)
{
	CU_TestInfo tests[] = {
		{"syntax", test_syntax},
		{"syntax errors name their line", test_syntax_errors},
		{"command-line overrides", test_overrides},
		{"domain keys", test_domain_keys},
		{"domain key errors", test_domain_errors},
		{"vif specs", test_vif_spec},
		CU_TEST_INFO_NULL,
	};
	CU_SuiteInfo suites[] = {
		{"xlcfg", NULL, NULL, NULL, NULL, tests},
		CU_SUITE_INFO_NULL,
	};
	return pvio_cunit_run(suites);
}
