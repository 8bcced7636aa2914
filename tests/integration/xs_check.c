/*
 * xs-check: what the integration tests need beyond xenstore-utils, done
 * through the real libxenstore (or a raw socket for protocol abuse).
 *
 *   xs-check introduce DOMID | release DOMID | introduced DOMID
 *   xs-check conflict PATH     two clients race one key: the second commit
 *                              must fail with EAGAIN
 *   xs-check oversize SOCKET   an oversize frame must close that
 *                              connection only
 *   xs-check pipeline SOCKET   2000 requests sent before reading any reply
 *                              must all be answered, in order
 *   xs-check read PATH         prints the value, or the error's errno name
 *                              (xenstore-read prints no reason)
 *   xs-check longevent GUEST_SOCKET
 *                              a dom0 watcher with a 3000-byte token on the
 *                              guest's home keeps its libxenstore connection
 *                              when the guest writes at a 2000-byte path
 *                              (the event would not fit one frame)
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenstore.h>

#include <xen/io/xs_wire.h>

static int fail(const char *what)
{
	fprintf(stderr, "xs-check: %s: %s\n", what, strerror(errno));
	return 1;
}

static struct xs_handle *open_or_die(void)
{
	struct xs_handle *h = xs_open(0);
	if (!h) {
		fprintf(stderr, "xs-check: xs_open: %s (XENSTORED_PATH=%s)\n",
			strerror(errno), getenv("XENSTORED_PATH"));
		exit(1);
	}
	return h;
}

static int conflict(const char *path)
{
	struct xs_handle *a = open_or_die(), *b = open_or_die();
	xs_transaction_t ta = xs_transaction_start(a);
	xs_transaction_t tb = xs_transaction_start(b);
	if (!ta || !tb)
		return fail("transaction_start");
	unsigned len;
	free(xs_read(a, ta, path, &len));
	free(xs_read(b, tb, path, &len));
	if (!xs_write(a, ta, path, "a", 1) || !xs_write(b, tb, path, "b", 1))
		return fail("write");
	if (!xs_transaction_end(a, ta, false))
		return fail("first commit");
	if (xs_transaction_end(b, tb, false)) {
		fprintf(stderr, "xs-check: second commit succeeded\n");
		return 1;
	}
	if (errno != EAGAIN)
		return fail("second commit (expected EAGAIN)");
	char *v = xs_read(a, XBT_NULL, path, &len);
	if (!v || strcmp(v, "a")) {
		fprintf(stderr, "xs-check: value after conflict is '%s'\n",
			v ? v : "(none)");
		return 1;
	}
	free(v);
	printf("EAGAIN\n");
	xs_close(a);
	xs_close(b);
	return 0;
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	/* A daemon that stops answering or reading fails the check instead
	 * of hanging it. */
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static int oversize(const char *sock)
{
	int bad = raw_connect(sock), good = raw_connect(sock);
	if (bad < 0 || good < 0)
		return fail("connect");
	struct xsd_sockmsg h = {XS_READ, 0, 0, XENSTORE_PAYLOAD_MAX + 1};
	if (write(bad, &h, sizeof(h)) != sizeof(h))
		return fail("write");
	char buf[64];
	ssize_t n = read(bad, buf, sizeof(buf));
	if (n != 0) {
		fprintf(stderr, "xs-check: connection not closed (%zd)\n", n);
		return 1;
	}
	/* The other client is served. */
	struct xsd_sockmsg q = {XS_READ, 7, 0, sizeof("/local")};
	if (write(good, &q, sizeof(q)) != sizeof(q) ||
	    write(good, "/local", q.len) != (ssize_t)q.len)
		return fail("write");
	struct xsd_sockmsg r;
	if (read(good, &r, sizeof(r)) != sizeof(r) || r.type != XS_READ ||
	    r.req_id != 7) {
		fprintf(stderr, "xs-check: other client got no reply\n");
		return 1;
	}
	printf("closed\n");
	close(bad);
	close(good);
	return 0;
}

/* More requests than the daemon's bound on unread replies, all written
 * before reading: the daemon pauses reading and must resume by itself. */
static int pipeline(const char *sock)
{
	enum { N = 2000 };
	int fd = raw_connect(sock);
	if (fd < 0)
		return fail("connect");
	static unsigned char reqs[N * (sizeof(struct xsd_sockmsg) + 7)];
	size_t len = 0;
	for (uint32_t i = 0; i < N; i++) {
		struct xsd_sockmsg h = {XS_READ, i, 0, 7};
		memcpy(reqs + len, &h, sizeof(h));
		memcpy(reqs + len + sizeof(h), "/local", 7);
		len += sizeof(h) + 7;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, reqs + off, len - off);
		if (n <= 0)
			return fail("write");
		off += (size_t)n;
	}
	for (uint32_t i = 0; i < N; i++) {
		struct xsd_sockmsg r;
		if (read(fd, &r, sizeof(r)) != sizeof(r) || r.len != 0 ||
		    r.type != XS_READ || r.req_id != i) {
			fprintf(stderr, "xs-check: reply %u missing or wrong\n",
				i);
			return 1;
		}
	}
	close(fd);
	printf("%d\n", N);
	return 0;
}

static int long_event(const char *guest_sock)
{
	const char *dash = strrchr(guest_sock, '-');
	unsigned domid = dash ? (unsigned)strtoul(dash + 1, NULL, 10) : 0;
	char home[64], token[3001], path[2100];
	snprintf(home, sizeof(home), "/local/domain/%u", domid);
	memset(token, 't', sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	/* A daemon that sends nothing fails the check instead of hanging. */
	alarm(10);
	struct xs_handle *w = open_or_die();
	if (!xs_watch(w, home, token))
		return fail("watch");
	unsigned n;
	char **ev = xs_read_watch(w, &n); /* the first, at once */
	if (!ev)
		return fail("first event");
	free(ev);
	setenv("XENSTORED_PATH", guest_sock, 1);
	struct xs_handle *g = open_or_die();
	int l = snprintf(path, sizeof(path), "%s/", home);
	memset(path + l, 'L', 2000);
	path[l + 2000] = '\0';
	char short_path[80];
	snprintf(short_path, sizeof(short_path), "%s/short", home);
	if (!xs_write(g, XBT_NULL, path, "x", 1) ||
	    !xs_write(g, XBT_NULL, short_path, "y", 1))
		return fail("guest write");
	/* libxenstore drops a connection that receives a frame over
	 * XENSTORE_PAYLOAD_MAX: the next event must come, and be the
	 * short one. */
	ev = xs_read_watch(w, &n);
	if (!ev)
		return fail("watcher lost its connection");
	bool ok = !strcmp(ev[XS_WATCH_PATH], short_path);
	if (!ok)
		fprintf(stderr, "xs-check: event for %.80s...\n",
			ev[XS_WATCH_PATH]);
	free(ev);
	if (!xs_rm(g, XBT_NULL, path) || !xs_rm(g, XBT_NULL, short_path))
		return fail("guest rm");
	xs_close(g);
	xs_close(w);
	printf("kept\n");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr,
			"usage: xs-check introduce|release|introduced DOMID\n"
			"       xs-check conflict PATH\n"
			"       xs-check oversize SOCKET\n"
			"       xs-check pipeline SOCKET\n"
			"       xs-check read PATH\n"
			"       xs-check longevent GUEST_SOCKET\n");
		return 2;
	}
	const char *cmd = argv[1], *arg = argv[2];
	if (!strcmp(cmd, "conflict"))
		return conflict(arg);
	if (!strcmp(cmd, "oversize"))
		return oversize(arg);
	if (!strcmp(cmd, "pipeline"))
		return pipeline(arg);
	if (!strcmp(cmd, "longevent"))
		return long_event(arg);
	if (!strcmp(cmd, "read")) {
		struct xs_handle *h = open_or_die();
		unsigned len;
		char *v = xs_read(h, XBT_NULL, arg, &len);
		if (v)
			printf("%s\n", v);
		else
			printf("%s\n", errno == EACCES	 ? "EACCES"
				       : errno == ENOENT ? "ENOENT"
							 : strerror(errno));
		free(v);
		xs_close(h);
		return 0;
	}
	unsigned domid = (unsigned)strtoul(arg, NULL, 10);
	struct xs_handle *h = open_or_die();
	int rc = 0;
	if (!strcmp(cmd, "introduce")) {
		if (!xs_introduce_domain(h, domid, 1234, 7))
			rc = fail("introduce");
	} else if (!strcmp(cmd, "release")) {
		if (!xs_release_domain(h, domid))
			rc = fail("release");
	} else if (!strcmp(cmd, "introduced")) {
		printf("%s\n", xs_is_domain_introduced(h, domid) ? "T" : "F");
	} else {
		fprintf(stderr, "xs-check: unknown command '%s'\n", cmd);
		rc = 2;
	}
	xs_close(h);
	return rc;
}
