/*
 * libFuzzer target over the pvio-xenstored frame parser and dispatcher.
 *
 * Input: a sequence of chunks {u8 client, u16le length, bytes}. Client
 * 0 and 1 are privileged (dom0) connections, 2 and 3 connections of the
 * introduced domain 1. Bytes go to that connection as if read from its
 * socket; output is drained between chunks. A connection that dies is
 * replaced. At the end the tree must pass the daemon's consistency check.
 */
#include "config.h"

#include "xs_core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

#define NCONNS 4

/* Discards what the connections have queued, as if their clients read. */
static void drain(struct xsd_conn **conns, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len;
		while (conns[i] && xsd_conn_out_peek(conns[i], &len))
			xsd_conn_out_consume(conns[i], len);
	}
}

static void send_frame(struct xsd_conn *c, uint32_t type, const char *p,
		       uint32_t len)
{
	unsigned char buf[sizeof(struct xsd_sockmsg) + 64];
	struct xsd_sockmsg h = {type, 0, 0, len};
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), p, len);
	xsd_conn_feed_all(c, buf, sizeof(h) + len);
}

/* A literal with its terminating nul as the payload. */
#define SEND(c, type, lit) send_frame((c), (type), (lit), sizeof(lit))

static struct xsd_conn *open_conn(struct xsd *d, int i)
{
	return i < 2 ? xsd_conn_new(d, 0, true) : xsd_conn_new(d, 1, false);
}

/* Logging is on, so that formatting every message is exercised too. */
static void discard_log(void *arg, enum xsd_log_level level, const char *msg)
{
	(void)arg;
	(void)level;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xsd_quota q;
	xsd_quota_defaults(&q);
	/* Small limits reach the quota paths quickly. */
	q.nodes = 20;
	q.watches = 4;
	q.transactions = 2;
	q.txn_nodes = 16;
	q.outstanding = 4;
	q.queued_frames = 16;
	q.memory = 32 * 1024;
	q.dom0_queue_bytes = 64 * 1024;
	struct xsd_hooks hooks = {.log = discard_log,
				  .log_level = XSD_LOG_DEBUG};
	struct xsd *d = xsd_new(&q, &hooks);
	if (!d)
		return 0;
	struct xsd_conn *conns[NCONNS] = {NULL};
	conns[0] = open_conn(d, 0);
	SEND(conns[0], XS_INTRODUCE,
	     "1\0"
	     "5\0"
	     "3");
	SEND(conns[0], XS_MKDIR, "/local/domain/1");
	SEND(conns[0], XS_SET_PERMS, "/local/domain/1\0n1");
	drain(conns, NCONNS);

	while (size >= 3) {
		unsigned which = data[0] % NCONNS;
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (!conns[which])
			conns[which] = open_conn(d, (int)which);
		if (!conns[which]) {
			/* The domain was released: bring it back. */
			struct xsd_conn *admin = xsd_conn_new(d, 0, true);
			if (admin) {
				SEND(admin, XS_INTRODUCE,
				     "1\0"
				     "5\0"
				     "3");
				xsd_conn_free(admin);
			}
			conns[which] = open_conn(d, (int)which);
		}
		if (conns[which])
			xsd_conn_feed_all(conns[which], data, len);
		data += len;
		size -= len;
		drain(conns, NCONNS);
		for (int i = 0; i < NCONNS; i++) {
			if (conns[i] && xsd_conn_is_dead(conns[i])) {
				xsd_conn_free(conns[i]);
				conns[i] = NULL;
			}
		}
	}

	/* The invariant: every child listed exists, every node is listed. */
	struct xsd_conn *checker = xsd_conn_new(d, 0, true);
	if (checker) {
		drain(conns, NCONNS);
		SEND(checker, XS_CONTROL, "check");
		size_t len;
		const unsigned char *p = xsd_conn_out_peek(checker, &len);
		struct xsd_sockmsg h;
		if (!p || len < sizeof(h))
			abort();
		memcpy(&h, p, sizeof(h));
		if (h.type != XS_CONTROL)
			abort();
	}
	xsd_free(d);
	return 0;
}
