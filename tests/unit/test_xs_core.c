/*
 * Unit tests of the pvio-xenstored core: the tree, permissions, watches,
 * transactions, domains and quotas, driven through the wire protocol
 * without sockets.
 */
#include "config.h"

#include "cunit_main.h"
#include "xs_test_client.h"

#include <errno.h>
#include <stdio.h>

static struct xsd *d;
static struct xsd_conn *dom0;

/* Allocation failures on demand: the test links with --wrap for the
 * allocators (tests/xenstore.am), so the core's calls come here. Once
 * armed, the allocation after fault_skip more fails; with fault_sticky,
 * every one after it fails too. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
static bool fault_armed, fault_sticky;
static unsigned fault_skip, fault_hits;

static bool fault_now(void)
{
	if (!fault_armed)
		return false;
	if (fault_skip) {
		fault_skip--;
		return false;
	}
	fault_hits++;
	fault_armed = fault_sticky;
	return true;
}

void *__wrap_malloc(size_t n)
{
	return fault_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fault_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fault_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return fault_now() ? NULL : __real_strdup(s);
}

static void fault_arm(unsigned skip, bool sticky)
{
	fault_skip = skip;
	fault_sticky = sticky;
	fault_hits = 0;
	fault_armed = true;
}

static void fault_disarm(void)
{
	fault_armed = false;
}

static int setup(void)
{
	d = xsd_new(NULL, NULL);
	dom0 = d ? xsd_conn_new(d, 0, true) : NULL;
	xs_tc_forget();
	return dom0 ? 0 : 1;
}

static int teardown(void)
{
	xsd_free(d);
	d = NULL;
	return 0;
}

/* Fresh state for every test. */
static void fresh(void)
{
	teardown();
	CU_ASSERT_EQUAL_FATAL(setup(), 0);
}

#define V(c, type, tx, lit) xs_tc_verdict((c), (type), (tx), XS_LIT(lit))
#define ASSERT_V(c, type, tx, lit, want)                                       \
	CU_ASSERT_STRING_EQUAL(V(c, type, tx, lit), want)
/* A reply's payload is exactly these bytes (a literal with its nuls). */
#define ASSERT_BYTES(r, lit)                                                   \
	do {                                                                   \
		CU_ASSERT_EQUAL((r)->len, sizeof(lit) - 1);                    \
		CU_ASSERT_EQUAL(memcmp((r)->data, lit, sizeof(lit) - 1), 0);   \
	} while (0)

/* Sends a request and returns its full reply. */
static struct xs_reply reply;
static struct xs_reply *R(struct xsd_conn *c, uint32_t type, uint32_t tx,
			  const void *p, size_t len)
{
	memset(&reply, 0, sizeof(reply));
	CU_ASSERT_EQUAL(xs_tc_request(c, type, tx, p, len, &reply), 0);
	return &reply;
}

static void write_value(struct xsd_conn *c, uint32_t tx, const char *path,
			const char *value)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t pl = strlen(path) + 1, vl = strlen(value);
	memcpy(buf, path, pl);
	memcpy(buf + pl, value, vl);
	CU_ASSERT_STRING_EQUAL(xs_tc_verdict(c, XS_WRITE, tx, buf, pl + vl),
			       "OK");
}

static const char *read_value(struct xsd_conn *c, uint32_t tx, const char *path)
{
	return xs_tc_verdict(c, XS_READ, tx, path, strlen(path) + 1);
}

static const char *path_op(struct xsd_conn *c, uint32_t type, uint32_t tx,
			   const char *path)
{
	return xs_tc_verdict(c, type, tx, path, strlen(path) + 1);
}

static uint32_t txn_start(struct xsd_conn *c)
{
	struct xs_reply *r = R(c, XS_TRANSACTION_START, 0, XS_LIT("\0"));
	CU_ASSERT_EQUAL(r->type, XS_TRANSACTION_START);
	return (uint32_t)strtoul(r->data, NULL, 10);
}

static struct xsd_conn *introduce(unsigned domid)
{
	char buf[64];
	int l = snprintf(buf, sizeof(buf), "%u%c1234%c7", domid, 0, 0);
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(dom0, XS_INTRODUCE, 0, buf, (size_t)l + 1), "OK");
	struct xsd_conn *c = xsd_conn_new(d, domid, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

/* Gives /local/domain/<domid> to the domain, as a toolstack does. */
static void make_home(unsigned domid)
{
	char path[64], perms[96];
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_MKDIR, 0, path), "OK");
	int l = snprintf(perms, sizeof(perms), "%s%cn%u", path, 0, domid);
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(dom0, XS_SET_PERMS, 0, perms, (size_t)l + 1),
		"OK");
}

/* ---- tree ---- */

static void test_write_read(void)
{
	fresh();
	write_value(dom0, 0, "/a/b/c", "hello");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/a/b/c"), "hello");
	/* Parents were created, empty. */
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/a/b"), "");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/a/x"), "ENOENT");
	/* Values are bytes: embedded nuls survive. */
	ASSERT_V(dom0, XS_WRITE, 0, "/bin\0x\0y", "OK");
	struct xs_reply *r = R(dom0, XS_READ, 0, XS_LIT("/bin\0"));
	CU_ASSERT_EQUAL(r->len, 3);
	CU_ASSERT_EQUAL(memcmp(r->data, "x\0y", 3), 0);
	/* Empty value. */
	ASSERT_V(dom0, XS_WRITE, 0, "/empty\0", "OK");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/empty"), "");
}

static void test_relative_paths(void)
{
	fresh();
	write_value(dom0, 0, "rel/key", "v");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/local/domain/0/rel/key"),
			       "v");
	ASSERT_V(dom0, XS_GET_DOMAIN_PATH, 0, "7\0", "/local/domain/7");
	ASSERT_V(dom0, XS_GET_DOMAIN_PATH, 0, "x7\0", "EINVAL");
}

static void test_directory_order(void)
{
	fresh();
	write_value(dom0, 0, "/d/zeta", "1");
	write_value(dom0, 0, "/d/alpha", "2");
	write_value(dom0, 0, "/d/mid", "3");
	struct xs_reply *r = R(dom0, XS_DIRECTORY, 0, XS_LIT("/d\0"));
	ASSERT_BYTES(r, "zeta\0alpha\0mid\0");
	/* Rewriting keeps the position; remove and re-add goes last. */
	write_value(dom0, 0, "/d/zeta", "again");
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_RM, 0, "/d/alpha"), "OK");
	write_value(dom0, 0, "/d/alpha", "back");
	r = R(dom0, XS_DIRECTORY, 0, XS_LIT("/d\0"));
	ASSERT_BYTES(r, "zeta\0mid\0alpha\0");
	r = R(dom0, XS_DIRECTORY, 0, XS_LIT("/d/mid\0"));
	CU_ASSERT_EQUAL(r->type, XS_DIRECTORY);
	CU_ASSERT_EQUAL(r->len, 0);
	ASSERT_V(dom0, XS_DIRECTORY, 0, "/nope\0", "ENOENT");
}

static void test_directory_part(void)
{
	fresh();
	/* 300 children of 20 bytes each: more than one frame. */
	char path[64];
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/big/child-%014d", i);
		write_value(dom0, 0, path, "");
	}
	ASSERT_V(dom0, XS_DIRECTORY, 0, "/big\0", "E2BIG");

	char all[8192];
	size_t have = 0;
	int pages = 0;
	while (true) {
		char req[64];
		int l = snprintf(req, sizeof(req), "/big%c%zu", 0, have);
		struct xs_reply *r =
			R(dom0, XS_DIRECTORY_PART, 0, req, (size_t)l + 1);
		CU_ASSERT_EQUAL_FATAL(r->type, XS_DIRECTORY_PART);
		size_t gl = strlen(r->data) + 1;
		CU_ASSERT_TRUE_FATAL(r->len >= gl);
		memcpy(all + have, r->data + gl, r->len - gl);
		have += r->len - gl;
		pages++;
		CU_ASSERT_TRUE_FATAL(pages < 10);
		if (have >= 2 && all[have - 2] == '\0')
			break;
	}
	CU_ASSERT_EQUAL(pages, 2);
	CU_ASSERT_EQUAL(have, 300 * 21 + 1);
	snprintf(path, sizeof(path), "child-%014d", 299);
	CU_ASSERT_STRING_EQUAL(all + 299 * 21, path);
	/* Past the end: the generation and an empty list. */
	struct xs_reply *end = R(dom0, XS_DIRECTORY_PART, 0,
				 XS_LIT("/big\0"
					"99999\0"));
	CU_ASSERT_EQUAL(end->type, XS_DIRECTORY_PART);
	CU_ASSERT_EQUAL(end->len, strlen(end->data) + 2);
	CU_ASSERT_EQUAL(end->data[end->len - 1], '\0');
	ASSERT_V(dom0, XS_DIRECTORY_PART, 0,
		 "/big\0"
		 "x1\0",
		 "EINVAL");
}

static void test_mkdir_rm(void)
{
	fresh();
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_MKDIR, 0, "/m/n"), "OK");
	write_value(dom0, 0, "/m/n/leaf", "x");
	/* Idempotent: the existing node keeps its children and value. */
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_MKDIR, 0, "/m/n"), "OK");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/m/n/leaf"), "x");
	/* Recursive removal. */
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_RM, 0, "/m"), "OK");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/m/n/leaf"), "ENOENT");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/m"), "ENOENT");
	/* Missing leaf with an existing parent: fine; otherwise ENOENT. */
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_RM, 0, "/local/nothing"), "OK");
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_RM, 0, "/no/such"), "ENOENT");
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_RM, 0, "/"), "EINVAL");
	struct xs_reply *r = R(dom0, XS_DIRECTORY, 0, XS_LIT("/\0"));
	ASSERT_BYTES(r, "local\0tool\0");
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(dom0, XS_CONTROL, 0, XS_LIT("check\0")), "OK");
}

static void test_deep_tree(void)
{
	fresh();
	/* The deepest path the protocol allows: removing it must not
	 * exhaust the daemon's stack. */
	char path[XENSTORE_ABS_PATH_MAX + 1];
	size_t len = 0;
	while (len + 2 <= XENSTORE_ABS_PATH_MAX) {
		path[len++] = '/';
		path[len++] = 'd';
	}
	path[len] = '\0';
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_MKDIR, 0, path), "OK");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, path), "");
	ASSERT_V(dom0, XS_WATCH, 0, "/d\0deep\0", "OK");
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "/d", "deep"), 1);
	uint32_t t = txn_start(dom0);
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_RM, t, "/d"), "OK");
	ASSERT_V(dom0, XS_TRANSACTION_END, t, "T\0", "OK");
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "/d", "deep"), 1);
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, path), "ENOENT");
	CU_ASSERT_EQUAL(xsd_node_count(d), 4);
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(dom0, XS_CONTROL, 0, XS_LIT("check\0")), "OK");
}

static void test_bad_requests(void)
{
	fresh();
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/a//b"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/a/"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/a b"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "@releaseDomain"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, ""), "EINVAL");
	/* Missing terminator, extra argument. */
	ASSERT_V(dom0, XS_READ, 0, "/local", "EINVAL");
	ASSERT_V(dom0, XS_READ, 0, "/local\0/tool\0", "EINVAL");
	ASSERT_V(dom0, XS_WRITE, 0, "/novalue", "EINVAL");
	/* Unknown and reply-only types. */
	ASSERT_V(dom0, 999, 0, "/\0", "ENOSYS");
	ASSERT_V(dom0, XS_WATCH_EVENT, 0, "/\0", "ENOSYS");
	ASSERT_V(dom0, XS_ERROR, 0, "/\0", "ENOSYS");
	/* Unknown transaction. */
	ASSERT_V(dom0, XS_READ, 42, "/local\0", "ENOENT");
	ASSERT_V(dom0, XS_TRANSACTION_END, 0, "T\0", "ENOENT");
	/* A too long path. */
	char longp[XENSTORE_ABS_PATH_MAX + 8];
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, longp), "EINVAL");
	/* Still alive after all that. */
	CU_ASSERT_FALSE(xsd_conn_is_dead(dom0));
}

static void test_oversize_frame(void)
{
	fresh();
	struct xsd_conn *other = xsd_conn_new(d, 0, true);
	struct xsd_sockmsg h = {XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1};
	CU_ASSERT_EQUAL(xsd_conn_feed_all(dom0, &h, sizeof(h)), -1);
	CU_ASSERT_TRUE(xsd_conn_is_dead(dom0));
	/* Everybody else carries on. */
	write_value(other, 0, "/still", "here");
	CU_ASSERT_STRING_EQUAL(read_value(other, 0, "/still"), "here");
	xsd_conn_free(dom0);
	dom0 = other;
}

static void test_pipelined_frames(void)
{
	fresh();
	/* Two requests in one write, the second split across two. */
	unsigned char buf[256];
	struct xsd_sockmsg h1 = {XS_WRITE, 1, 0, sizeof("/p\0v") - 1};
	struct xsd_sockmsg h2 = {XS_READ, 2, 0, sizeof("/p")};
	size_t n = 0;
	memcpy(buf + n, &h1, sizeof(h1));
	n += sizeof(h1);
	memcpy(buf + n, "/p\0v", h1.len);
	n += h1.len;
	memcpy(buf + n, &h2, sizeof(h2));
	n += sizeof(h2);
	memcpy(buf + n, "/p", h2.len);
	n += h2.len;
	CU_ASSERT_EQUAL(xsd_conn_feed_all(dom0, buf, n - 2), 0);
	CU_ASSERT_EQUAL(xsd_conn_feed_all(dom0, buf + n - 2, 2), 0);
	struct xs_reply r = {0};
	CU_ASSERT_EQUAL(xs_tc_pop(dom0, &r), 1);
	CU_ASSERT_EQUAL(r.req_id, 1);
	CU_ASSERT_STRING_EQUAL(r.data, "OK");
	CU_ASSERT_EQUAL(xs_tc_pop(dom0, &r), 1);
	CU_ASSERT_EQUAL(r.req_id, 2);
	CU_ASSERT_EQUAL(r.type, XS_READ);
	CU_ASSERT_STRING_EQUAL(r.data, "v");
}

/* ---- permissions ---- */

static void test_perms_guest(void)
{
	fresh();
	struct xsd_conn *g = introduce(5);
	make_home(5);
	/* Relative paths resolve under the guest's home, which it owns. */
	write_value(g, 0, "data/key", "guest");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/local/domain/5/data/key"),
			       "guest");
	/* The new node is owned by the guest, inheriting the rest. */
	ASSERT_V(g, XS_GET_PERMS, 0, "data/key\0", "n5");
	/* dom0's private nodes are out of reach. */
	write_value(dom0, 0, "/local/domain/0/secret", "s");
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "/local/domain/0/secret"),
			       "EACCES");
	CU_ASSERT_STRING_EQUAL(path_op(g, XS_RM, 0, "/local/domain/0/secret"),
			       "EACCES");
	CU_ASSERT_STRING_EQUAL(path_op(g, XS_MKDIR, 0, "/local/domain/0/x"),
			       "EACCES");
	CU_ASSERT_STRING_EQUAL(path_op(g, XS_DIRECTORY, 0, "/local/domain"),
			       "EACCES");
	/* No existence leak: a missing node under an unreadable parent. */
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "/local/domain/0/missing"),
			       "EACCES");
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "missing"), "ENOENT");
	ASSERT_V(g, XS_WRITE, 0, "/local/domain/0/secret\0x", "EACCES");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/local/domain/0/secret"),
			       "s");
	xsd_conn_free(g);
}

static void test_perms_entries(void)
{
	fresh();
	struct xsd_conn *g5 = introduce(5);
	struct xsd_conn *g6 = introduce(6);
	write_value(dom0, 0, "/shared/k", "v");
	/* No access by default, both for domain 6. */
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/shared/k\0n0\0b6\0", "OK");
	CU_ASSERT_STRING_EQUAL(read_value(g5, 0, "/shared/k"), "EACCES");
	/* Default read: only the node's own permissions count. */
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/shared/k\0r0\0b6\0", "OK");
	CU_ASSERT_STRING_EQUAL(read_value(g5, 0, "/shared/k"), "v");
	ASSERT_V(g5, XS_WRITE, 0, "/shared/k\0x", "EACCES");
	ASSERT_V(g6, XS_WRITE, 0, "/shared/k\0y", "OK");
	/* Write access does not let a non-owner change the permissions. */
	ASSERT_V(g6, XS_SET_PERMS, 0, "/shared/k\0r0\0b6\0b5\0", "EACCES");
	ASSERT_V(g5, XS_SET_PERMS, 0, "/shared/k\0r0\0b5\0", "EACCES");
	/* A missing child: ENOENT only to who holds the right it needed on
	 * the parent. */
	CU_ASSERT_STRING_EQUAL(read_value(g5, 0, "/shared/k/none"), "ENOENT");
	CU_ASSERT_STRING_EQUAL(path_op(g5, XS_RM, 0, "/shared/k/none"),
			       "EACCES");
	CU_ASSERT_STRING_EQUAL(path_op(g6, XS_RM, 0, "/shared/k/none"), "OK");
	ASSERT_V(g5, XS_SET_PERMS, 0, "/shared/k/none\0n5\0", "EACCES");
	ASSERT_V(g6, XS_SET_PERMS, 0, "/shared/k/none\0n6\0", "ENOENT");
	/* A listed domain gets exactly its entry, not the default. */
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/shared/k\0r0\0n5\0", "OK");
	CU_ASSERT_STRING_EQUAL(read_value(g5, 0, "/shared/k"), "EACCES");
	CU_ASSERT_STRING_EQUAL(read_value(g6, 0, "/shared/k"), "y");
	/* The first entry naming a domain decides; a later one adds
	 * nothing. */
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/shared/k\0n0\0r5\0w5\0", "OK");
	CU_ASSERT_STRING_EQUAL(read_value(g5, 0, "/shared/k"), "y");
	ASSERT_V(g5, XS_WRITE, 0, "/shared/k\0x", "EACCES");
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/shared/k\0r0\0n5\0", "OK");
	/* GET_PERMS format. */
	struct xs_reply *r = R(dom0, XS_GET_PERMS, 0, XS_LIT("/shared/k\0"));
	ASSERT_BYTES(r, "r0\0n5\0");
	/* Bad permission strings. */
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/shared/k\0x0\0", "EINVAL");
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/shared/k\0r\0", "EINVAL");
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/shared/k\0", "EINVAL");
	xsd_conn_free(g5);
	xsd_conn_free(g6);
}

static void test_perms_owner_change(void)
{
	fresh();
	struct xsd_conn *g = introduce(5);
	make_home(5);
	write_value(g, 0, "mine", "1");
	/* The owner may add entries but not give the node away. */
	ASSERT_V(g, XS_SET_PERMS, 0, "mine\0n5\0r6\0", "OK");
	ASSERT_V(g, XS_SET_PERMS, 0, "mine\0n6\0", "EPERM");
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/local/domain/5/mine\0n6\0", "OK");
	/* Now it is domain 6's: domain 5 lost access. */
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "mine"), "EACCES");
	/* Specials: only dom0 may change them. */
	ASSERT_V(g, XS_SET_PERMS, 0, "@releaseDomain\0n5\0", "EACCES");
	ASSERT_V(dom0, XS_SET_PERMS, 0, "@releaseDomain\0n0\0r5\0", "OK");
	ASSERT_V(g, XS_GET_PERMS, 0, "@releaseDomain\0", "n0");
	xsd_conn_free(g);
}

static void test_perms_target_and_inherit(void)
{
	fresh();
	struct xsd_conn *g = introduce(5);
	struct xsd_conn *dm = introduce(6);
	make_home(5);
	/* Missing parents inherit the parent's entries; the guest owns all
	 * it creates. */
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/local/domain/5\0n5\0r7\0", "OK");
	write_value(g, 0, "a/b/c", "1");
	struct xs_reply *r =
		R(dom0, XS_GET_PERMS, 0, XS_LIT("/local/domain/5/a\0"));
	CU_ASSERT_EQUAL(r->len, sizeof("n5\0r7"));
	CU_ASSERT_EQUAL(memcmp(r->data, "n5\0r7", sizeof("n5\0r7")), 0);
	r = R(dom0, XS_GET_PERMS, 0, XS_LIT("/local/domain/5/a/b/c\0"));
	CU_ASSERT_EQUAL(r->len, sizeof("n5\0r7"));
	CU_ASSERT_EQUAL(memcmp(r->data, "n5\0r7", sizeof("n5\0r7")), 0);
	/* Domain 6 is a stranger until SET_TARGET makes it act for 5, as a
	 * device model does. */
	CU_ASSERT_STRING_EQUAL(read_value(dm, 0, "/local/domain/5/a/b/c"),
			       "EACCES");
	ASSERT_V(dm, XS_GET_PERMS, 0, "/local/domain/5/a\0", "EACCES");
	ASSERT_V(dom0, XS_SET_TARGET, 0,
		 "6\0"
		 "5\0",
		 "OK");
	CU_ASSERT_STRING_EQUAL(read_value(dm, 0, "/local/domain/5/a/b/c"), "1");
	ASSERT_V(dm, XS_WRITE, 0,
		 "/local/domain/5/a/b/c\0"
		 "2",
		 "OK");
	ASSERT_V(dom0, XS_SET_TARGET, 0,
		 "9\0"
		 "5\0",
		 "ENOENT");
	ASSERT_V(g, XS_SET_TARGET, 0,
		 "5\0"
		 "6\0",
		 "EACCES");
	xsd_conn_free(g);
	xsd_conn_free(dm);
}

/* ---- watches ---- */

static void test_watch_basic(void)
{
	fresh();
	ASSERT_V(dom0, XS_WATCH, 0, "/w\0tok\0", "OK");
	/* Fires once at once, even though /w does not exist. */
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "/w", "tok"), 1);
	write_value(dom0, 0, "/w", "1");
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "/w", "tok"), 1);
	write_value(dom0, 0, "/w/deep/er", "2");
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "/w/deep/er", "tok"), 1);
	/* Siblings with a common prefix do not match. */
	write_value(dom0, 0, "/wx", "3");
	CU_ASSERT_EQUAL(xs_tc_pending_events(dom0), 0);
	ASSERT_V(dom0, XS_WATCH, 0, "/w\0tok\0", "EEXIST");
	ASSERT_V(dom0, XS_WATCH, 0, "/w\0tok2\0", "OK");
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "/w", "tok2"), 1);
	ASSERT_V(dom0, XS_UNWATCH, 0, "/w\0tok\0", "OK");
	ASSERT_V(dom0, XS_UNWATCH, 0, "/w\0tok\0", "ENOENT");
	write_value(dom0, 0, "/w", "4");
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "/w", "tok"), 0);
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "/w", "tok2"), 1);
	ASSERT_V(dom0, XS_RESET_WATCHES, 0, "\0", "OK");
	write_value(dom0, 0, "/w", "5");
	CU_ASSERT_EQUAL(xs_tc_pending_events(dom0), 0);
}

static void test_watch_rm_subtree(void)
{
	fresh();
	write_value(dom0, 0, "/t/a/b", "1");
	write_value(dom0, 0, "/t/c", "2");
	ASSERT_V(dom0, XS_WATCH, 0, "/t/a/b\0deep\0", "OK");
	ASSERT_V(dom0, XS_WATCH, 0, "/t\0top\0", "OK");
	ASSERT_V(dom0, XS_WATCH, 0, "/\0root\0", "OK");
	xs_tc_collect(dom0);
	xs_tc_forget();
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_RM, 0, "/t"), "OK");
	/* Watchers above see the removed root; a watched descendant sees
	 * its own path. */
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "/t", "top"), 1);
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "/t", "root"), 1);
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "/t/a/b", "deep"), 1);
	CU_ASSERT_EQUAL(xs_tc_pending_events(dom0), 0);
}

static void test_watch_permission_filter(void)
{
	fresh();
	struct xsd_conn *g = introduce(5);
	make_home(5);
	ASSERT_V(g, XS_WATCH, 0, "/local/domain\0all\0", "OK");
	ASSERT_V(g, XS_WATCH, 0, "device\0rel\0", "OK");
	CU_ASSERT_EQUAL(xs_tc_take_events(g, "/local/domain", "all"), 1);
	CU_ASSERT_EQUAL(xs_tc_take_events(g, "device", "rel"), 1);
	/* A change the guest may not read is not delivered to it. */
	write_value(dom0, 0, "/local/domain/0/private", "x");
	CU_ASSERT_EQUAL(xs_tc_pending_events(g), 0);
	/* One it may read is, and relative watches get relative paths. */
	write_value(dom0, 0, "/local/domain/5/device/vif/0", "y");
	CU_ASSERT_EQUAL(
		xs_tc_take_events(g, "/local/domain/5/device/vif/0", "all"), 1);
	CU_ASSERT_EQUAL(xs_tc_take_events(g, "device/vif/0", "rel"), 1);
	/* Losing access is a change the guest hears of (the old list let it
	 * read); after that, nothing more. */
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/local/domain/5/device/vif/0\0n0\0",
		 "OK");
	CU_ASSERT_EQUAL(
		xs_tc_take_events(g, "/local/domain/5/device/vif/0", "all"), 1);
	CU_ASSERT_EQUAL(xs_tc_take_events(g, "device/vif/0", "rel"), 1);
	/* Its parent is still readable, and lists it: like C xenstored, a
	 * change of the node reaches the guest. A node whose parent it may
	 * not read either does not. */
	write_value(dom0, 0, "/local/domain/5/device/vif/0", "z");
	CU_ASSERT_EQUAL(
		xs_tc_take_events(g, "/local/domain/5/device/vif/0", "all"), 1);
	CU_ASSERT_EQUAL(xs_tc_take_events(g, "device/vif/0", "rel"), 1);
	write_value(dom0, 0, "/local/domain/0/private/deeper", "x");
	CU_ASSERT_EQUAL(xs_tc_pending_events(g), 0);
	xsd_conn_free(g);
}

static void test_watch_special(void)
{
	fresh();
	ASSERT_V(dom0, XS_WATCH, 0, "@introduceDomain\0in\0", "OK");
	ASSERT_V(dom0, XS_WATCH, 0, "@releaseDomain\0out\0", "OK");
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "@introduceDomain", "in"), 1);
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "@releaseDomain", "out"), 1);
	struct xsd_conn *g = introduce(3);
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "@introduceDomain", "in"), 1);
	/* A guest that stays (domain 4) hears only what it may read: nothing
	 * while the special node is dom0's alone. */
	struct xsd_conn *w = introduce(4);
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "@introduceDomain", "in"), 1);
	ASSERT_V(w, XS_WATCH, 0, "@releaseDomain\0g\0", "OK");
	CU_ASSERT_EQUAL(xs_tc_take_events(w, "@releaseDomain", "g"), 1);
	ASSERT_V(dom0, XS_RELEASE, 0, "3\0", "OK");
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "@releaseDomain", "out"), 1);
	CU_ASSERT_EQUAL(xs_tc_pending_events(w), 0);
	xsd_conn_free(g);
	/* Once dom0 lets it read the special node, it hears. */
	ASSERT_V(dom0, XS_SET_PERMS, 0, "@releaseDomain\0n0\0r4\0", "OK");
	g = introduce(3);
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "@introduceDomain", "in"), 1);
	ASSERT_V(dom0, XS_RELEASE, 0, "3\0", "OK");
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "@releaseDomain", "out"), 1);
	CU_ASSERT_EQUAL(xs_tc_take_events(w, "@releaseDomain", "g"), 1);
	xsd_conn_free(g);
	xsd_conn_free(w);
}

/* Every queued frame of c fits the wire limit; returns how many. */
static unsigned drain_checking_frames(struct xsd_conn *c)
{
	unsigned n = 0;
	size_t len;
	const unsigned char *p;
	while ((p = xsd_conn_out_peek(c, &len))) {
		struct xsd_sockmsg h;
		CU_ASSERT_FATAL(len >= sizeof(h));
		memcpy(&h, p, sizeof(h));
		CU_ASSERT(h.len <= XENSTORE_PAYLOAD_MAX);
		xsd_conn_out_consume(c, sizeof(h) + h.len);
		n++;
	}
	return n;
}

/* A guest's path with a long watch token never makes a frame over
 * XENSTORE_PAYLOAD_MAX (libxenstore would drop the watcher). */
static void test_watch_event_size(void)
{
	fresh();
	struct xsd_conn *g = introduce(5);
	make_home(5);
	/* Guests: XENSTORE_REL_PATH_MAX below a home, whole elsewhere. */
	char path[XENSTORE_ABS_PATH_MAX + 2], buf[XENSTORE_PAYLOAD_MAX];
	size_t hl = (size_t)snprintf(path, sizeof(path), "/local/domain/5/");
	for (size_t i = hl; i < hl + XENSTORE_REL_PATH_MAX + 1; i++)
		path[i] = (i - hl) % 100 == 99 ? '/' : 'p';
	path[hl + XENSTORE_REL_PATH_MAX + 1] = '\0';
	CU_ASSERT_STRING_EQUAL(path_op(g, XS_MKDIR, 0, path), "EINVAL");
	path[hl + XENSTORE_REL_PATH_MAX] = '\0';
	CU_ASSERT_STRING_EQUAL(path_op(g, XS_MKDIR, 0, path), "OK");
	/* Relative, the same path is within the limit. */
	CU_ASSERT_STRING_EQUAL(path_op(g, XS_READ, 0, path + hl), "");
	char outside[XENSTORE_REL_PATH_MAX + 8] = "/tool/";
	memset(outside + 6, 'o', XENSTORE_REL_PATH_MAX - 5);
	outside[XENSTORE_REL_PATH_MAX + 1] = '\0';
	CU_ASSERT_STRING_EQUAL(path_op(g, XS_READ, 0, outside), "EINVAL");
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_READ, 0, outside), "ENOENT");

	/* dom0 watches the guest's home with a 3000-byte token. */
	struct xsd_conn *w = xsd_conn_new(d, 0, true);
	memcpy(buf, "/local/domain/5", 16);
	memset(buf + 16, 't', 3000);
	buf[3016] = '\0';
	CU_ASSERT_STRING_EQUAL(xs_tc_verdict(w, XS_WATCH, 0, buf, 3017), "OK");
	CU_ASSERT_EQUAL(drain_checking_frames(w), 1);
	/* A change at a long path: the event would not fit, it is dropped. */
	write_value(g, 0, path + hl, "x");
	CU_ASSERT_EQUAL(drain_checking_frames(w), 0);
	/* A short one still reaches the watcher. */
	write_value(g, 0, "short", "x");
	CU_ASSERT_EQUAL(drain_checking_frames(w), 1);
	xsd_conn_free(w);
	xsd_conn_free(g);
}

/* ---- transactions ---- */

static void test_txn_isolation_commit(void)
{
	fresh();
	struct xsd_conn *other = xsd_conn_new(d, 0, true);
	ASSERT_V(other, XS_WATCH, 0, "/tx\0w\0", "OK");
	CU_ASSERT_EQUAL(xs_tc_take_events(other, "/tx", "w"), 1);
	uint32_t t = txn_start(dom0);
	CU_ASSERT_NOT_EQUAL(t, 0);
	write_value(dom0, t, "/tx/a", "1");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, t, "/tx/a"), "1");
	CU_ASSERT_STRING_EQUAL(read_value(other, 0, "/tx/a"), "ENOENT");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/tx/a"), "ENOENT");
	/* No event before the commit. */
	CU_ASSERT_EQUAL(xs_tc_pending_events(other), 0);
	ASSERT_V(dom0, XS_TRANSACTION_START, t, "\0", "EBUSY");
	ASSERT_V(dom0, XS_TRANSACTION_END, t, "T\0", "OK");
	CU_ASSERT_STRING_EQUAL(read_value(other, 0, "/tx/a"), "1");
	CU_ASSERT_EQUAL(xs_tc_take_events(other, "/tx/a", "w"), 1);
	/* The transaction is gone. */
	ASSERT_V(dom0, XS_READ, t, "/tx/a\0", "ENOENT");
	/* An unknown transaction id is refused by any request but WATCH and
	 * UNWATCH, which ignore it. */
	ASSERT_V(dom0, XS_GET_DOMAIN_PATH, t, "3\0", "ENOENT");
	ASSERT_V(dom0, XS_TRANSACTION_START, t, "\0", "ENOENT");
	ASSERT_V(dom0, XS_WATCH, t, "/tx\0w2\0", "OK");
	xsd_conn_free(other);
}

/* What a transaction has seen stays as it saw it: value, children,
 * permissions and existence, whatever changes outside; commit then fails. */
static void test_txn_read_isolation(void)
{
	fresh();
	struct xsd_conn *other = xsd_conn_new(d, 0, true);
	write_value(dom0, 0, "/iso/x", "0");
	write_value(dom0, 0, "/iso/gone", "g");
	uint32_t t = txn_start(dom0);
	CU_ASSERT_STRING_EQUAL(read_value(dom0, t, "/iso/x"), "0");
	ASSERT_BYTES(R(dom0, XS_DIRECTORY, t, XS_LIT("/iso\0")), "x\0gone\0");
	ASSERT_BYTES(R(dom0, XS_GET_PERMS, t, XS_LIT("/iso/x\0")), "n0\0");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, t, "/iso/new"), "ENOENT");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, t, "/iso/gone"), "g");

	write_value(other, 0, "/iso/x", "1");
	write_value(other, 0, "/iso/new", "n");
	ASSERT_V(other, XS_SET_PERMS, 0, "/iso/x\0n0\0r5\0", "OK");
	CU_ASSERT_STRING_EQUAL(path_op(other, XS_RM, 0, "/iso/gone"), "OK");

	CU_ASSERT_STRING_EQUAL(read_value(dom0, t, "/iso/x"), "0");
	ASSERT_BYTES(R(dom0, XS_DIRECTORY, t, XS_LIT("/iso\0")), "x\0gone\0");
	ASSERT_BYTES(R(dom0, XS_GET_PERMS, t, XS_LIT("/iso/x\0")), "n0\0");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, t, "/iso/new"), "ENOENT");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, t, "/iso/gone"), "g");
	ASSERT_V(dom0, XS_TRANSACTION_END, t, "T\0", "EAGAIN");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/iso/x"), "1");
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(dom0, XS_CONTROL, 0, XS_LIT("check\0")), "OK");
	xsd_conn_free(other);
}

static void test_txn_abort(void)
{
	fresh();
	ASSERT_V(dom0, XS_WATCH, 0, "/ab\0w\0", "OK");
	xs_tc_collect(dom0);
	xs_tc_forget();
	write_value(dom0, 0, "/ab/keep", "k");
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0, "/ab/keep", "w"), 1);
	uint32_t t = txn_start(dom0);
	write_value(dom0, t, "/ab/new", "n");
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_RM, t, "/ab/keep"), "OK");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, t, "/ab/keep"), "ENOENT");
	ASSERT_V(dom0, XS_TRANSACTION_END, t, "F\0", "OK");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/ab/keep"), "k");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/ab/new"), "ENOENT");
	CU_ASSERT_EQUAL(xs_tc_pending_events(dom0), 0);
	ASSERT_V(dom0, XS_TRANSACTION_END, t, "X\0", "ENOENT");
}

static void test_txn_conflict(void)
{
	fresh();
	struct xsd_conn *other = xsd_conn_new(d, 0, true);
	write_value(dom0, 0, "/c/x", "0");
	uint32_t t1 = txn_start(dom0);
	uint32_t t2 = txn_start(other);
	CU_ASSERT_STRING_EQUAL(read_value(dom0, t1, "/c/x"), "0");
	CU_ASSERT_STRING_EQUAL(read_value(other, t2, "/c/x"), "0");
	write_value(dom0, t1, "/c/x", "1");
	write_value(other, t2, "/c/x", "2");
	ASSERT_V(dom0, XS_TRANSACTION_END, t1, "T\0", "OK");
	ASSERT_V(other, XS_TRANSACTION_END, t2, "T\0", "EAGAIN");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/c/x"), "1");
	/* A plain write also conflicts with what a transaction read. */
	t1 = txn_start(dom0);
	CU_ASSERT_STRING_EQUAL(read_value(dom0, t1, "/c/x"), "1");
	write_value(other, 0, "/c/x", "3");
	write_value(dom0, t1, "/c/y", "4");
	ASSERT_V(dom0, XS_TRANSACTION_END, t1, "T\0", "EAGAIN");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/c/y"), "ENOENT");
	/* Disjoint transactions both commit. */
	write_value(dom0, 0, "/c/p", "");
	write_value(dom0, 0, "/c/q", "");
	t1 = txn_start(dom0);
	t2 = txn_start(other);
	write_value(dom0, t1, "/c/p", "a");
	write_value(other, t2, "/c/q", "b");
	ASSERT_V(dom0, XS_TRANSACTION_END, t1, "T\0", "OK");
	ASSERT_V(other, XS_TRANSACTION_END, t2, "T\0", "OK");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/c/p"), "a");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/c/q"), "b");
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(dom0, XS_CONTROL, 0, XS_LIT("check\0")), "OK");
	xsd_conn_free(other);
}

static void test_txn_tree_ops(void)
{
	fresh();
	write_value(dom0, 0, "/tt/old/x", "1");
	uint32_t t = txn_start(dom0);
	write_value(dom0, t, "/tt/new/y", "2");
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_RM, t, "/tt/old"), "OK");
	CU_ASSERT_STRING_EQUAL(path_op(dom0, XS_MKDIR, t, "/tt/dir"), "OK");
	struct xs_reply *r = R(dom0, XS_DIRECTORY, t, XS_LIT("/tt\0"));
	ASSERT_BYTES(r, "new\0dir\0");
	ASSERT_V(dom0, XS_SET_PERMS, t, "/tt/dir\0r0\0", "OK");
	ASSERT_V(dom0, XS_TRANSACTION_END, t, "T\0", "OK");
	r = R(dom0, XS_DIRECTORY, 0, XS_LIT("/tt\0"));
	ASSERT_BYTES(r, "new\0dir\0");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/tt/old/x"), "ENOENT");
	ASSERT_V(dom0, XS_GET_PERMS, 0, "/tt/dir\0", "r0");
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(dom0, XS_CONTROL, 0, XS_LIT("check\0")), "OK");
}

/* ---- domains ---- */

static void test_domains(void)
{
	fresh();
	CU_ASSERT_PTR_NULL(xsd_conn_new(d, 9, false));
	ASSERT_V(dom0, XS_IS_DOMAIN_INTRODUCED, 0, "9\0", "F");
	ASSERT_V(dom0, XS_IS_DOMAIN_INTRODUCED, 0, "0\0", "T");
	struct xsd_conn *g = introduce(9);
	ASSERT_V(dom0, XS_IS_DOMAIN_INTRODUCED, 0, "9\0", "T");
	ASSERT_V(dom0, XS_INTRODUCE, 0,
		 "9\0"
		 "1234\0"
		 "7\0",
		 "OK");
	ASSERT_V(dom0, XS_INTRODUCE, 0,
		 "9\0"
		 "999\0"
		 "7\0",
		 "EINVAL");
	ASSERT_V(dom0, XS_INTRODUCE, 0,
		 "0\0"
		 "1\0"
		 "1\0",
		 "EINVAL");
	/* Event channel port 0 is never bound: refused. */
	ASSERT_V(dom0, XS_INTRODUCE, 0,
		 "10\0"
		 "1\0"
		 "0\0",
		 "EINVAL");
	ASSERT_V(dom0, XS_IS_DOMAIN_INTRODUCED, 0, "10\0", "F");
	ASSERT_V(g, XS_INTRODUCE, 0,
		 "10\0"
		 "1\0"
		 "1\0",
		 "EACCES");
	ASSERT_V(g, XS_RELEASE, 0, "9\0", "EACCES");
	ASSERT_V(g, XS_CONTROL, 0, "check\0", "EACCES");
	/* Like C xenstored, the domain-management requests are dom0's. */
	ASSERT_V(g, XS_IS_DOMAIN_INTRODUCED, 0, "9\0", "EACCES");
	ASSERT_V(g, XS_RESUME, 0, "9\0", "EACCES");
	ASSERT_V(g, XS_SET_TARGET, 0,
		 "9\0"
		 "4\0",
		 "EACCES");
	ASSERT_V(dom0, XS_RESUME, 0, "9\0", "OK");
	ASSERT_V(dom0, XS_RESUME, 0, "11\0", "ENOENT");
	/* The target must be an introduced domain too. */
	ASSERT_V(dom0, XS_SET_TARGET, 0,
		 "9\0"
		 "4\0",
		 "ENOENT");
	ASSERT_V(dom0, XS_INTRODUCE, 0,
		 "4\0"
		 "1\0"
		 "1\0",
		 "OK");
	ASSERT_V(dom0, XS_SET_TARGET, 0,
		 "9\0"
		 "4\0",
		 "OK");
	make_home(9);
	write_value(g, 0, "owned/by/guest", "x");
	write_value(dom0, 0, "/local/domain/9/by-dom0", "y");
	write_value(dom0, 0, "/shared9", "s");
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/shared9\0n0\0r9\0r4\0b9\0", "OK");
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "/shared9"), "s");
	ASSERT_V(g, XS_WATCH, 0, "owned\0gw\0", "OK");
	ASSERT_V(dom0, XS_RELEASE, 0, "9\0", "OK");
	CU_ASSERT_TRUE(xsd_conn_is_dead(g));
	/* Nodes the domain owned are gone, with their subtrees; dom0's
	 * stay. */
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/local/domain/9/owned"),
			       "ENOENT");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/local/domain/9"),
			       "ENOENT");
	ASSERT_V(dom0, XS_IS_DOMAIN_INTRODUCED, 0, "9\0", "F");
	/* Its entries in other nodes' permissions are gone: a new domain 9
	 * inherits nothing. */
	struct xs_reply *r = R(dom0, XS_GET_PERMS, 0, XS_LIT("/shared9\0"));
	CU_ASSERT_EQUAL(r->len, sizeof("n0\0r4"));
	CU_ASSERT_EQUAL(memcmp(r->data, "n0\0r4", sizeof("n0\0r4")), 0);
	struct xsd_conn *again = introduce(9);
	CU_ASSERT_STRING_EQUAL(read_value(again, 0, "/shared9"), "EACCES");
	xsd_conn_free(again);
	ASSERT_V(dom0, XS_RELEASE, 0, "9\0", "OK");
	ASSERT_V(dom0, XS_RELEASE, 0, "9\0", "ENOENT");
	ASSERT_V(dom0, XS_RELEASE, 0, "0\0", "EINVAL");
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(dom0, XS_CONTROL, 0, XS_LIT("check\0")), "OK");
	xsd_conn_free(g);
}

/* A released domain that owned / leaves the root behind, given to dom0. */
static void test_release_root_owner(void)
{
	fresh();
	struct xsd_conn *g = introduce(5);
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/\0n5\0", "OK");
	ASSERT_V(dom0, XS_RELEASE, 0, "5\0", "OK");
	CU_ASSERT_STRING_EQUAL_FATAL(read_value(dom0, 0, "/"), "");
	ASSERT_V(dom0, XS_GET_PERMS, 0, "/\0", "n0");
	/* dom0's nodes below it stay; writing works (it used to spin). */
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/local/domain"), "");
	write_value(dom0, 0, "/after/release", "x");
	CU_ASSERT_STRING_EQUAL(read_value(dom0, 0, "/after/release"), "x");
	ASSERT_V(dom0, XS_RM, 0, "/\0", "EINVAL");
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(dom0, XS_CONTROL, 0, XS_LIT("check\0")), "OK");
	xsd_conn_free(g);
}

/* A new domain with a reused id inherits nothing (XSA-322): neither an
 * entry a transaction committed after its predecessor was released, nor
 * one naming a domain nobody knew; dom0 may name a domain before
 * introducing it (as libxl does). */
static void test_domid_reuse(void)
{
	fresh();
	struct xsd_conn *g5 = introduce(5);
	write_value(dom0, 0, "/reuse/base", "b");
	uint32_t t = txn_start(dom0);
	write_value(dom0, t, "/reuse/base/late", "l");
	ASSERT_V(dom0, XS_SET_PERMS, t, "/reuse/base/late\0n0\0r5\0", "OK");
	ASSERT_V(dom0, XS_RELEASE, 0, "5\0", "OK");
	xsd_conn_free(g5);
	g5 = introduce(5);
	ASSERT_V(dom0, XS_TRANSACTION_END, t, "T\0", "OK");
	ASSERT_BYTES(R(dom0, XS_GET_PERMS, 0, XS_LIT("/reuse/base/late\0")),
		     "n0\0");
	CU_ASSERT_STRING_EQUAL(read_value(g5, 0, "/reuse/base/late"), "EACCES");

	/* A guest naming a domain nobody knows grants it nothing. */
	make_home(5);
	write_value(g5, 0, "gift", "g");
	ASSERT_V(g5, XS_SET_PERMS, 0, "gift\0n5\0r7\0", "OK");
	ASSERT_BYTES(R(dom0, XS_GET_PERMS, 0, XS_LIT("/local/domain/5/gift\0")),
		     "n5\0");
	struct xsd_conn *g7 = introduce(7);
	CU_ASSERT_STRING_EQUAL(read_value(g7, 0, "/local/domain/5/gift"),
			       "EACCES");

	/* dom0 names domain 8 before introducing it: that works; released
	 * without ever being introduced, its entries go. */
	ASSERT_V(dom0, XS_MKDIR, 0, "/local/domain/8\0", "OK");
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/local/domain/8\0n8\0", "OK");
	write_value(dom0, 0, "/pre9", "p");
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/pre9\0n0\0r9\0", "OK");
	struct xsd_conn *g8 = introduce(8);
	write_value(g8, 0, "mine", "m");
	ASSERT_V(dom0, XS_RELEASE, 0, "9\0", "OK");
	ASSERT_BYTES(R(dom0, XS_GET_PERMS, 0, XS_LIT("/pre9\0")), "n0\0");
	struct xsd_conn *g9 = introduce(9);
	CU_ASSERT_STRING_EQUAL(read_value(g9, 0, "/pre9"), "EACCES");
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(dom0, XS_CONTROL, 0, XS_LIT("check\0")), "OK");
	xsd_conn_free(g5);
	xsd_conn_free(g7);
	xsd_conn_free(g8);
	xsd_conn_free(g9);
}

static void test_control(void)
{
	fresh();
	const char *q = V(dom0, XS_CONTROL, 0, "quota\0");
	CU_ASSERT_PTR_NOT_NULL(strstr(q, "nodes 1000\n"));
	ASSERT_V(dom0, XS_CONTROL, 0,
		 "quota\0nodes\0"
		 "5\0",
		 "OK");
	CU_ASSERT_EQUAL(xsd_get_quota(d)->nodes, 5);
	ASSERT_V(dom0, XS_CONTROL, 0,
		 "quota\0bogus\0"
		 "5\0",
		 "EINVAL");
	ASSERT_V(dom0, XS_CONTROL, 0, "frobnicate\0", "EINVAL");
}

/* ---- quotas ---- */

static void fresh_with_quota(const struct xsd_quota *q)
{
	teardown();
	d = xsd_new(q, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	dom0 = xsd_conn_new(d, 0, true);
	xs_tc_forget();
}

static void test_quota_nodes_and_size(void)
{
	struct xsd_quota q;
	xsd_quota_defaults(&q);
	/* The home directory counts: the guest owns it. */
	q.nodes = 4;
	q.node_size = 64;
	fresh_with_quota(&q);
	struct xsd_conn *g = introduce(5);
	make_home(5);
	write_value(g, 0, "a", "1");
	write_value(g, 0, "b", "2");
	write_value(g, 0, "c", "3");
	ASSERT_V(g, XS_WRITE, 0,
		 "d\0"
		 "4",
		 "ENOSPC");
	ASSERT_V(g, XS_MKDIR, 0, "e/f\0", "ENOSPC");
	/* Removing frees quota. */
	CU_ASSERT_STRING_EQUAL(path_op(g, XS_RM, 0, "a"), "OK");
	write_value(g, 0, "d", "4");
	/* Node size. */
	char big[200];
	memset(big, 'x', sizeof(big));
	memcpy(big, "b", 2);
	CU_ASSERT_STRING_EQUAL(xs_tc_verdict(g, XS_WRITE, 0, big, 100),
			       "ENOSPC");
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "b"), "2");
	/* dom0 is not bound. */
	for (int i = 0; i < 10; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/local/domain/0/n%d", i);
		write_value(dom0, 0, p, "x");
	}
	CU_ASSERT_STRING_EQUAL(xs_tc_verdict(dom0, XS_WRITE, 0, big, 150),
			       "OK");
	xsd_conn_free(g);
}

/* A WRITE refused for size leaves nothing behind: neither the node nor
 * the parents it would have created. */
static void test_quota_size_no_partial_write(void)
{
	struct xsd_quota q;
	xsd_quota_defaults(&q);
	q.node_size = 64;
	fresh_with_quota(&q);
	struct xsd_conn *g = introduce(5);
	make_home(5);
	char req[256];
	/* 60 bytes of value fit the value check, not with the permission. */
	memset(req, 'v', sizeof(req));
	memcpy(req, "k", 2);
	CU_ASSERT_STRING_EQUAL(xs_tc_verdict(g, XS_WRITE, 0, req, 2 + 60),
			       "ENOSPC");
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "k"), "ENOENT");
	/* A missing parent whose child name would not fit. */
	int l = snprintf(req, sizeof(req), "p/%060d/leaf", 0);
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(g, XS_WRITE, 0, req, (size_t)l + 1), "ENOSPC");
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "p"), "ENOENT");
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(g, XS_MKDIR, 0, req, (size_t)l + 1), "ENOSPC");
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "p"), "ENOENT");
	/* The same in a transaction: the commit brings nothing. */
	uint32_t t = txn_start(g);
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(g, XS_WRITE, t, req, (size_t)l + 1), "ENOSPC");
	ASSERT_V(g, XS_TRANSACTION_END, t, "T\0", "OK");
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "p"), "ENOENT");
	/* What fits is written. */
	write_value(g, 0, "p/q", "small");
	/* Permissions count too: 50 bytes of value fit with one entry (58),
	 * not with two (66). */
	memset(req, 'v', sizeof(req));
	memcpy(req, "s", 2);
	CU_ASSERT_STRING_EQUAL(xs_tc_verdict(g, XS_WRITE, 0, req, 2 + 50),
			       "OK");
	ASSERT_V(g, XS_SET_PERMS, 0, "s\0n5\0r0\0", "ENOSPC");
	ASSERT_V(g, XS_GET_PERMS, 0, "s\0", "n5");
	ASSERT_V(dom0, XS_CONTROL, 0, "check\0", "OK");
	xsd_conn_free(g);
}

static void test_quota_nodes_in_transaction(void)
{
	struct xsd_quota q;
	xsd_quota_defaults(&q);
	q.nodes = 4;
	fresh_with_quota(&q);
	struct xsd_conn *g = introduce(5);
	make_home(5); /* the guest owns one node */
	uint32_t t = txn_start(g);
	write_value(g, t, "a", "1");
	write_value(g, t, "b", "2");
	write_value(g, t, "c", "3");
	/* Nodes created inside the transaction count before the commit. */
	ASSERT_V(g, XS_WRITE, t,
		 "d\0"
		 "4",
		 "ENOSPC");
	ASSERT_V(g, XS_TRANSACTION_END, t, "T\0", "OK");
	ASSERT_V(g, XS_WRITE, 0,
		 "d\0"
		 "4",
		 "ENOSPC");
	/* Removal inside a transaction gives the room back at commit. */
	t = txn_start(g);
	CU_ASSERT_STRING_EQUAL(path_op(g, XS_RM, t, "a"), "OK");
	write_value(g, t, "d", "4");
	ASSERT_V(g, XS_TRANSACTION_END, t, "T\0", "OK");
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "d"), "4");
	ASSERT_V(g, XS_WRITE, 0,
		 "e\0"
		 "5",
		 "ENOSPC");
	/* An aborted transaction changes nothing. */
	t = txn_start(g);
	CU_ASSERT_STRING_EQUAL(path_op(g, XS_RM, t, "b"), "OK");
	ASSERT_V(g, XS_TRANSACTION_END, t, "F\0", "OK");
	ASSERT_V(g, XS_WRITE, 0,
		 "e\0"
		 "5",
		 "ENOSPC");
	xsd_conn_free(g);
}

/* A request refused half-way inside a transaction (here: RM of a subtree
 * larger than the transaction may touch) must not leave the transaction
 * with half its work: committing it keeps the tree whole. */
static void test_quota_txn_nodes_rm(void)
{
	struct xsd_quota q;
	xsd_quota_defaults(&q);
	q.txn_nodes = 6;
	fresh_with_quota(&q);
	struct xsd_conn *g = introduce(5);
	make_home(5);
	write_value(g, 0, "a/b/c/d/e", "1");
	write_value(g, 0, "a/x/y/z", "2");
	uint32_t t = txn_start(g);
	CU_ASSERT_STRING_EQUAL(path_op(g, XS_RM, t, "a"), "ENOSPC");
	const char *v = V(g, XS_TRANSACTION_END, t, "T\0");
	CU_ASSERT_TRUE(!strcmp(v, "OK") || !strcmp(v, "EAGAIN"));
	ASSERT_V(dom0, XS_CONTROL, 0, "check\0", "OK");
	/* Nothing was removed. */
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "a/b/c/d/e"), "1");
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "a/x/y/z"), "2");
	xsd_conn_free(g);
}

/* Transactions that fit the node quota each alone may not fit together:
 * the commit checks again. */
static void test_quota_nodes_concurrent_txn(void)
{
	struct xsd_quota q;
	xsd_quota_defaults(&q);
	q.nodes = 5;
	fresh_with_quota(&q);
	struct xsd_conn *g = introduce(5);
	make_home(5);
	write_value(g, 0, "x", "");
	write_value(g, 0, "y", ""); /* 3 owned */
	uint32_t t = txn_start(g);
	write_value(g, t, "x/a", "1"); /* 4 with the transaction */
	write_value(g, 0, "y/b", "2"); /* 4 */
	write_value(g, 0, "y/c", "3"); /* 5 */
	ASSERT_V(g, XS_TRANSACTION_END, t, "T\0", "ENOSPC");
	CU_ASSERT_STRING_EQUAL(read_value(g, 0, "x/a"), "ENOENT");
	ASSERT_V(dom0, XS_CONTROL, 0, "check\0", "OK");
	xsd_conn_free(g);
}

static void test_quota_watch_txn_perms(void)
{
	struct xsd_quota q;
	xsd_quota_defaults(&q);
	q.watches = 2;
	q.transactions = 1;
	q.perms = 2;
	q.txn_nodes = 4;
	fresh_with_quota(&q);
	struct xsd_conn *g = introduce(5);
	make_home(5);
	ASSERT_V(g, XS_WATCH, 0,
		 "a\0"
		 "1\0",
		 "OK");
	ASSERT_V(g, XS_WATCH, 0,
		 "b\0"
		 "2\0",
		 "OK");
	ASSERT_V(g, XS_WATCH, 0,
		 "c\0"
		 "3\0",
		 "E2BIG");
	uint32_t t = txn_start(g);
	ASSERT_V(g, XS_TRANSACTION_START, 0, "\0", "ENOSPC");
	/* Touching more than txn_nodes nodes in one transaction. */
	const char *v = "";
	char p[16];
	for (int i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "k%d", i);
		v = read_value(g, t, p);
		if (!strcmp(v, "ENOSPC"))
			break;
	}
	CU_ASSERT_STRING_EQUAL(v, "ENOSPC");
	ASSERT_V(g, XS_TRANSACTION_END, t, "F\0", "OK");
	write_value(g, 0, "p", "1");
	ASSERT_V(g, XS_SET_PERMS, 0, "p\0n5\0r1\0", "OK");
	ASSERT_V(g, XS_SET_PERMS, 0, "p\0n5\0r1\0r2\0", "ENOSPC");
	/* dom0 is not bound. */
	for (int i = 0; i < 4; i++)
		CU_ASSERT_NOT_EQUAL(txn_start(dom0), 0);
	xsd_conn_free(g);
}

static void test_quota_connections(void)
{
	struct xsd_quota q;
	xsd_quota_defaults(&q);
	q.connections = 2;
	fresh_with_quota(&q);
	struct xsd_conn *a = introduce(5);
	struct xsd_conn *b = xsd_conn_new(d, 5, false);
	CU_ASSERT_PTR_NOT_NULL(b);
	errno = 0;
	CU_ASSERT_PTR_NULL(xsd_conn_new(d, 5, false));
	CU_ASSERT_EQUAL(errno, EMFILE);
	/* Another domain, and dom0, are not affected. */
	struct xsd_conn *other = introduce(6);
	struct xsd_conn *priv = xsd_conn_new(d, 0, true);
	CU_ASSERT_PTR_NOT_NULL(priv);
	/* Closing one makes room. */
	xsd_conn_free(b);
	b = xsd_conn_new(d, 5, false);
	CU_ASSERT_PTR_NOT_NULL(b);
	errno = 0;
	CU_ASSERT_PTR_NULL(xsd_conn_new(d, 77, false));
	CU_ASSERT_EQUAL(errno, ENOENT);
	xsd_conn_free(a);
	xsd_conn_free(b);
	xsd_conn_free(other);
	xsd_conn_free(priv);
}

static void test_quota_output_bounds(void)
{
	struct xsd_quota q;
	xsd_quota_defaults(&q);
	q.outstanding = 4;
	q.queued_frames = 8;
	fresh_with_quota(&q);
	/* A client that sends without reading: input pauses once four
	 * replies wait. */
	unsigned char frame[64];
	struct xsd_sockmsg h = {XS_READ, 1, 0, sizeof("/local")};
	memcpy(frame, &h, sizeof(h));
	memcpy(frame + sizeof(h), "/local", h.len);
	size_t flen = sizeof(h) + h.len, avail;
	for (int i = 0; i < 10; i++) {
		void *space = xsd_conn_in_space(dom0, &avail);
		if (!avail)
			break;
		memcpy(space, frame, flen);
		CU_ASSERT_EQUAL(xsd_conn_in_commit(dom0, flen), 0);
	}
	xsd_conn_in_space(dom0, &avail);
	CU_ASSERT_EQUAL(avail, 0);
	struct xs_reply r;
	int replies = 0;
	while (xs_tc_pop(dom0, &r))
		replies++;
	CU_ASSERT_EQUAL(replies, 4);
	xsd_conn_in_space(dom0, &avail);
	CU_ASSERT_NOT_EQUAL(avail, 0);

	/* A guest's events beyond the queue bound are dropped, not queued. */
	struct xsd_conn *watcher = introduce(5);
	ASSERT_V(dom0, XS_MKDIR, 0, "/ev\0", "OK");
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/ev\0n0\0r5\0", "OK");
	ASSERT_V(watcher, XS_WATCH, 0, "/ev\0t\0", "OK");
	CU_ASSERT_EQUAL(xs_tc_take_events(watcher, "/ev", "t"), 1);
	/* dom0's are all kept (bounded by bytes, not frames). */
	struct xsd_conn *dom0_watcher = xsd_conn_new(d, 0, true);
	ASSERT_V(dom0_watcher, XS_WATCH, 0, "/ev\0t\0", "OK");
	CU_ASSERT_EQUAL(xs_tc_take_events(dom0_watcher, "/ev", "t"), 1);
	for (int i = 0; i < 20; i++)
		write_value(dom0, 0, "/ev", "x");
	int events = 0;
	while (xs_tc_pop(watcher, &r))
		events++;
	CU_ASSERT_EQUAL(events, 8);
	events = 0;
	while (xs_tc_pop(dom0_watcher, &r))
		events++;
	CU_ASSERT_EQUAL(events, 20);
	/* A dom0 reader that never reads loses its connection, which it
	 * sees, rather than events it would never know of. */
	ASSERT_V(dom0, XS_CONTROL, 0,
		 "quota\0dom0-queue-bytes\0"
		 "200\0",
		 "OK");
	for (int i = 0; i < 20 && !xsd_conn_is_dead(dom0_watcher); i++)
		write_value(dom0, 0, "/ev", "x");
	CU_ASSERT_TRUE(xsd_conn_is_dead(dom0_watcher));
	CU_ASSERT_FALSE(xsd_conn_is_dead(dom0));
	xsd_conn_free(dom0_watcher);
	xsd_conn_free(watcher);
}

/* The memory domain domid holds, from CONTROL memreport; -1 if absent. */
static long domain_memory(unsigned domid)
{
	struct xs_reply *r = R(dom0, XS_CONTROL, 0, XS_LIT("memreport\0"));
	char key[32];
	snprintf(key, sizeof(key), "domain %u memory ", domid);
	const char *p = strstr(r->data, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* Transactions and watches count per domain, not per connection. */
static void test_quota_per_domain_counts(void)
{
	struct xsd_quota q;
	xsd_quota_defaults(&q);
	q.transactions = 2;
	q.watches = 3;
	fresh_with_quota(&q);
	struct xsd_conn *a = introduce(5);
	struct xsd_conn *b = xsd_conn_new(d, 5, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	make_home(5);
	CU_ASSERT_NOT_EQUAL(txn_start(a), 0);
	CU_ASSERT_NOT_EQUAL(txn_start(a), 0);
	ASSERT_V(b, XS_TRANSACTION_START, 0, "\0", "ENOSPC");
	ASSERT_V(a, XS_WATCH, 0, "w1\0t\0", "OK");
	ASSERT_V(a, XS_WATCH, 0, "w2\0t\0", "OK");
	ASSERT_V(b, XS_WATCH, 0, "w3\0t\0", "OK");
	ASSERT_V(b, XS_WATCH, 0, "w4\0t\0", "E2BIG");
	/* Closing a connection gives its share back. */
	xsd_conn_free(a);
	CU_ASSERT_NOT_EQUAL(txn_start(b), 0);
	ASSERT_V(b, XS_WATCH, 0, "w4\0t\0", "OK");
	xsd_conn_free(b);
}

/* A guest's transactions, queued events and watches count against one
 * memory quota for the domain; it all comes back when it disconnects. */
static void test_quota_memory(void)
{
	struct xsd_quota q;
	xsd_quota_defaults(&q);
	q.memory = 256 * 1024;
	fresh_with_quota(&q);
	struct xsd_conn *g[4];
	g[0] = introduce(5);
	for (int i = 1; i < 4; i++) {
		g[i] = xsd_conn_new(d, 5, false);
		CU_ASSERT_PTR_NOT_NULL_FATAL(g[i]);
	}
	make_home(5);
	CU_ASSERT_EQUAL(domain_memory(5), 0);
	/* Transactions reading missing long paths, from every connection,
	 * until the quota refuses. */
	char path[XENSTORE_REL_PATH_MAX + 1];
	unsigned reads = 0;
	bool refused = false;
	for (int i = 0; i < 4 && !refused; i++) {
		uint32_t t = txn_start(g[i]);
		for (unsigned j = 0; j < 400 && !refused; j++) {
			int l = snprintf(path, sizeof(path), "m%d-%u", i, j);
			memset(path + l, 'x', 1500);
			path[l + 1500] = '\0';
			const char *v = path_op(g[i], XS_READ, t, path);
			if (!strcmp(v, "ENOENT"))
				reads++;
			else {
				CU_ASSERT_STRING_EQUAL(v, "ENOMEM");
				refused = true;
			}
		}
	}
	CU_ASSERT_TRUE(refused);
	long held = domain_memory(5);
	CU_ASSERT(held > 200 * 1024);
	/* Over by at most what one request added. */
	CU_ASSERT(held <= 256 * 1024 + 8 * 1024);
	/* Over the quota: no new watch, transaction or read in one; a
	 * transaction may still end. */
	ASSERT_V(g[3], XS_WATCH, 0, "home\0t\0", "ENOMEM");
	ASSERT_V(g[3], XS_TRANSACTION_START, 0, "\0", "ENOMEM");
	/* Reads outside transactions cost nothing kept, and still work. */
	CU_ASSERT_STRING_EQUAL(read_value(g[3], 0, "/local/domain/5"), "");
	for (int i = 0; i < 4; i++)
		xsd_conn_free(g[i]);
	CU_ASSERT_EQUAL(domain_memory(5), 0);

	/* Events queued for connections that never read stop at the quota
	 * too (the frame count alone would allow far more). */
	for (int i = 0; i < 4; i++)
		g[i] = xsd_conn_new(d, 5, false);
	char req[XENSTORE_PAYLOAD_MAX];
	for (int i = 0; i < 4; i++) {
		int l = snprintf(req, sizeof(req), "home%c", 0);
		memset(req + l, 't', 2000);
		req[l + 2000] = '\0';
		CU_ASSERT_STRING_EQUAL(
			xs_tc_verdict(g[i], XS_WATCH, 0, req, (size_t)l + 2001),
			"OK");
	}
	xs_tc_forget();
	for (int i = 0; i < 200; i++)
		write_value(dom0, 0, "/local/domain/5/home", "x");
	held = domain_memory(5);
	CU_ASSERT(held <= 256 * 1024);
	CU_ASSERT(held > 200 * 1024);
	for (int i = 0; i < 4; i++)
		xsd_conn_free(g[i]);
	CU_ASSERT_EQUAL(domain_memory(5), 0);
}

/* A guest that never reads its watches: its dropped events are logged a
 * few times a window, not once each. */
static uint64_t fake_now;
static unsigned log_lines, log_suppressed_lines;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static void count_lines(void *arg, enum xsd_log_level level, const char *msg)
{
	(void)arg;
	(void)level;
	log_lines++;
	log_suppressed_lines += strstr(msg, "suppressed") != NULL;
}

static void test_log_rate_limit(void)
{
	teardown();
	struct xsd_quota q;
	xsd_quota_defaults(&q);
	q.queued_frames = 4;
	struct xsd_hooks hooks = {.log = count_lines,
				  .log_level = XSD_LOG_WARNING,
				  .now_ms = fake_clock};
	fake_now = 1000;
	d = xsd_new(&q, &hooks);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	dom0 = xsd_conn_new(d, 0, true);
	xs_tc_forget();
	struct xsd_conn *g = introduce(5);
	make_home(5);
	ASSERT_V(g, XS_WATCH, 0, "home\0t\0", "OK");
	log_lines = log_suppressed_lines = 0;
	for (int i = 0; i < 1000; i++)
		write_value(dom0, 0, "/local/domain/5/home", "x");
	CU_ASSERT(log_lines >= 1);
	CU_ASSERT(log_lines <= 10);
	/* A window later, the count of what was left out comes first. */
	fake_now += 5000;
	log_lines = 0;
	write_value(dom0, 0, "/local/domain/5/home", "x");
	CU_ASSERT_EQUAL(log_lines, 2);
	CU_ASSERT_EQUAL(log_suppressed_lines, 1);
	xsd_conn_free(g);
}

/* ---- allocation failures ---- */

static unsigned log_warnings;

static void count_log(void *arg, enum xsd_log_level level, const char *msg)
{
	(void)arg;
	(void)msg;
	log_warnings += level <= XSD_LOG_WARNING;
}

/* The state each fault scenario starts from: domains 5 and 6, 5 owning a
 * subtree under its home and a node elsewhere, a watcher on everything. */
static struct xsd_conn *g5, *g6, *watcher;

static void fault_fresh(void)
{
	teardown();
	struct xsd_hooks hooks = {.log = count_log,
				  .log_level = XSD_LOG_WARNING};
	d = xsd_new(NULL, &hooks);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	dom0 = xsd_conn_new(d, 0, true);
	xs_tc_forget();
	g5 = introduce(5);
	g6 = introduce(6);
	make_home(5);
	make_home(6);
	write_value(g5, 0, "a/b/c", "1");
	write_value(g5, 0, "a/d", "2");
	write_value(dom0, 0, "/other/x", "3");
	ASSERT_V(dom0, XS_SET_PERMS, 0, "/other/x\0n5\0", "OK");
	watcher = xsd_conn_new(d, 0, true);
	ASSERT_V(watcher, XS_WATCH, 0, "/\0w\0", "OK");
	xs_tc_collect(watcher);
	xs_tc_forget();
	log_warnings = 0;
}

enum fault_op {
	FAULT_WRITE_NEW_OWNER, /* dom0 gives a new node to domain 6 */
	FAULT_GUEST_WRITE,
	FAULT_COMMIT, /* a transaction hands nodes to domain 6 */
	FAULT_RM,
	FAULT_RELEASE,
	FAULT_DENIED, /* a request that fails anyway: its error reply */
	FAULT_OPS
};

/* The request under test; returns its connection and whether a reply
 * came. */
static struct xs_reply fault_reply;

static struct xsd_conn *fault_run(enum fault_op op, unsigned skip, bool sticky,
				  bool *replied)
{
	struct xs_reply r;
	struct xsd_conn *c = dom0;
	uint32_t t = 0;
	if (op == FAULT_COMMIT) {
		t = txn_start(dom0);
		write_value(dom0, t, "/given/n1", "x");
		write_value(dom0, t, "/given/n2", "y");
		ASSERT_V(dom0, XS_SET_PERMS, t, "/given/n1\0n6\0", "OK");
		ASSERT_V(dom0, XS_SET_PERMS, t, "/given/n2\0n6\0", "OK");
	}
	fault_arm(skip, sticky);
	int rc = -1;
	switch (op) {
	case FAULT_WRITE_NEW_OWNER:
		rc = xs_tc_request(dom0, XS_SET_PERMS, 0,
				   XS_LIT("/other/x\0n6\0"), &r);
		break;
	case FAULT_GUEST_WRITE:
		c = g5;
		rc = xs_tc_request(g5, XS_WRITE, 0, XS_LIT("a/new/leaf\0v"),
				   &r);
		break;
	case FAULT_COMMIT:
		rc = xs_tc_request(dom0, XS_TRANSACTION_END, t, XS_LIT("T\0"),
				   &r);
		break;
	case FAULT_RM:
		c = g5;
		rc = xs_tc_request(g5, XS_RM, 0, XS_LIT("a\0"), &r);
		break;
	case FAULT_RELEASE:
		rc = xs_tc_request(dom0, XS_RELEASE, 0, XS_LIT("5\0"), &r);
		break;
	case FAULT_DENIED:
		c = g6;
		rc = xs_tc_request(g6, XS_WRITE, 0,
				   XS_LIT("/local/domain/5/a\0v"), &r);
		break;
	case FAULT_OPS:
		break;
	}
	fault_disarm();
	*replied = rc == 0;
	if (*replied)
		fault_reply = r;
	return c;
}

/* After every failure: the client got a reply or lost its connection
 * (never silence), the tree and the owners' counts are consistent, a
 * released domain owns nothing, and what went wrong was said. */
static void fault_check(enum fault_op op, struct xsd_conn *c, bool replied)
{
	CU_ASSERT(replied || xsd_conn_is_dead(c));
	/* The dom0 watcher heard of a change that was made, or lost its
	 * connection: it never misses an event unaware. */
	if (op == FAULT_GUEST_WRITE && replied &&
	    !strcmp(fault_reply.data, "OK"))
		CU_ASSERT(xsd_conn_is_dead(watcher) ||
			  xs_tc_take_events(watcher,
					    "/local/domain/5/a/new/leaf",
					    "w") == 1);
	struct xsd_conn *admin = xsd_conn_new(d, 0, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	CU_ASSERT_STRING_EQUAL(
		xs_tc_verdict(admin, XS_CONTROL, 0, XS_LIT("check\0")), "OK");
	if (op == FAULT_RELEASE && replied && !strcmp(fault_reply.data, "OK")) {
		static const char *const paths[] = {
			"/local/domain/5\0", "/local/domain/5/a\0",
			"/local/domain/5/a/b/c\0", "/other/x\0"};
		for (size_t i = 0; i < 4; i++) {
			const char *v =
				xs_tc_verdict(admin, XS_GET_PERMS, 0, paths[i],
					      strlen(paths[i]) + 1);
			CU_ASSERT(!strcmp(v, "ENOENT") || v[1] != '5');
		}
	}
	xsd_conn_free(admin);
}

static void run_fault_op(enum fault_op op, bool sticky)
{
	for (unsigned skip = 0; skip < 10000; skip++) {
		fault_fresh();
		bool replied;
		struct xsd_conn *c = fault_run(op, skip, sticky, &replied);
		if (!fault_hits) {
			/* The request needed fewer allocations: done. */
			CU_ASSERT(replied);
			break;
		}
		fault_check(op, c, replied);
		/* A failure is the request's ENOMEM, or it is logged. */
		bool enomem = replied && !strcmp(fault_reply.data, "ENOMEM");
		if (!enomem && !log_warnings)
			printf("\nop %d skip %u sticky %d: reply '%s', no "
			       "log\n",
			       op, skip, sticky,
			       replied ? fault_reply.data : "-");
		CU_ASSERT(enomem || log_warnings > 0);
	}
	xsd_conn_free(g5);
	xsd_conn_free(g6);
	xsd_conn_free(watcher);
	g5 = g6 = watcher = NULL;
}

static void test_alloc_failures(void)
{
	for (int op = 0; op < FAULT_OPS; op++) {
		run_fault_op((enum fault_op)op, false);
		run_fault_op((enum fault_op)op, true);
	}
}

int main(void)
{
	static CU_TestInfo tree[] = {
		{"write and read", test_write_read},
		{"relative paths", test_relative_paths},
		{"directory order", test_directory_order},
		{"directory part", test_directory_part},
		{"mkdir and rm", test_mkdir_rm},
		{"deep tree", test_deep_tree},
		{"bad requests", test_bad_requests},
		{"oversize frame", test_oversize_frame},
		{"pipelined frames", test_pipelined_frames},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo perms[] = {
		{"guest", test_perms_guest},
		{"entries", test_perms_entries},
		{"owner change", test_perms_owner_change},
		{"target and inheritance", test_perms_target_and_inherit},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo watches[] = {
		{"basic", test_watch_basic},
		{"rm subtree", test_watch_rm_subtree},
		{"permission filter", test_watch_permission_filter},
		{"special", test_watch_special},
		{"event frame size", test_watch_event_size},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo txns[] = {
		{"isolation and commit", test_txn_isolation_commit},
		{"read isolation", test_txn_read_isolation},
		{"abort", test_txn_abort},
		{"conflict", test_txn_conflict},
		{"tree ops", test_txn_tree_ops},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo domains[] = {
		{"introduce and release", test_domains},
		{"release of the root's owner", test_release_root_owner},
		{"domid reuse", test_domid_reuse},
		{"control", test_control},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo quotas[] = {
		{"nodes and size", test_quota_nodes_and_size},
		{"nodes in a transaction", test_quota_nodes_in_transaction},
		{"nodes, concurrent transactions",
		 test_quota_nodes_concurrent_txn},
		{"size: no partial write", test_quota_size_no_partial_write},
		{"watches, transactions, perms", test_quota_watch_txn_perms},
		{"transaction nodes: RM", test_quota_txn_nodes_rm},
		{"connections", test_quota_connections},
		{"output bounds", test_quota_output_bounds},
		{"log rate limit", test_log_rate_limit},
		{"per-domain transactions and watches",
		 test_quota_per_domain_counts},
		{"memory per domain", test_quota_memory},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo faults[] = {
		{"every allocation failing", test_alloc_failures},
		CU_TEST_INFO_NULL,
	};
	static CU_SuiteInfo suites[] = {
		{"xs tree", setup, teardown, NULL, NULL, tree},
		{"xs perms", setup, teardown, NULL, NULL, perms},
		{"xs watches", setup, teardown, NULL, NULL, watches},
		{"xs transactions", setup, teardown, NULL, NULL, txns},
		{"xs domains", setup, teardown, NULL, NULL, domains},
		{"xs quotas", setup, teardown, NULL, NULL, quotas},
		{"xs allocation failures", setup, teardown, NULL, NULL, faults},
		CU_SUITE_INFO_NULL,
	};
	return pvio_cunit_run(suites);
}
