/* A synchronous client of the xenstored core for unit tests: sends one
 * request frame into a connection and takes its reply, keeping any watch
 * events that arrive for later inspection. */
#ifndef PVIO_XS_TEST_CLIENT_H
#define PVIO_XS_TEST_CLIENT_H

#include "xs_core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

struct xs_reply {
	uint32_t type;
	uint32_t req_id;
	uint32_t tx_id;
	uint32_t len;
	char data[XENSTORE_PAYLOAD_MAX + 1]; /* always nul-terminated */
};

/* Watch events received while waiting for replies, per connection. */
#define XS_TC_MAX_EVENTS 256
struct xs_tc_event {
	const struct xsd_conn *conn;
	char path[256];
	char token[64];
};
static struct xs_tc_event xs_tc_events[XS_TC_MAX_EVENTS];
static unsigned xs_tc_nevents;

/* Pops one whole frame from the connection's output; 0 when there is
 * none. */
static inline int xs_tc_pop(struct xsd_conn *c, struct xs_reply *r)
{
	size_t len;
	const unsigned char *p = xsd_conn_out_peek(c, &len);
	if (!p)
		return 0;
	struct xsd_sockmsg h;
	memcpy(&h, p, sizeof(h));
	r->type = h.type;
	r->req_id = h.req_id;
	r->tx_id = h.tx_id;
	r->len = h.len;
	memcpy(r->data, p + sizeof(h), h.len);
	r->data[h.len] = '\0';
	xsd_conn_out_consume(c, sizeof(h) + h.len);
	return 1;
}

static inline void xs_tc_stash(struct xsd_conn *c, const struct xs_reply *r)
{
	if (xs_tc_nevents == XS_TC_MAX_EVENTS)
		abort();
	struct xs_tc_event *e = &xs_tc_events[xs_tc_nevents++];
	e->conn = c;
	/* Test paths and tokens are short; longer ones are truncated. */
	size_t pl = strnlen(r->data, sizeof(e->path) - 1);
	memcpy(e->path, r->data, pl);
	e->path[pl] = '\0';
	const char *token = r->data + strlen(r->data) + 1;
	size_t tl = strnlen(token, sizeof(e->token) - 1);
	memcpy(e->token, token, tl);
	e->token[tl] = '\0';
}

/* Moves every queued event of c into the stash. */
static inline void xs_tc_collect(struct xsd_conn *c)
{
	struct xs_reply r;
	while (xs_tc_pop(c, &r))
		if (r.type == XS_WATCH_EVENT)
			xs_tc_stash(c, &r);
}

static inline void xs_tc_forget(void)
{
	xs_tc_nevents = 0;
}

/* Number of stashed events of c (after collecting) with this path and
 * token; each one counted is removed. */
static inline unsigned xs_tc_take_events(struct xsd_conn *c, const char *path,
					 const char *token)
{
	xs_tc_collect(c);
	unsigned n = 0;
	for (unsigned i = 0; i < xs_tc_nevents;) {
		struct xs_tc_event *e = &xs_tc_events[i];
		if (e->conn == c && !strcmp(e->path, path) &&
		    !strcmp(e->token, token)) {
			n++;
			memmove(e, e + 1, (xs_tc_nevents - i - 1) * sizeof(*e));
			xs_tc_nevents--;
		} else {
			i++;
		}
	}
	return n;
}

static inline unsigned xs_tc_pending_events(struct xsd_conn *c)
{
	xs_tc_collect(c);
	unsigned n = 0;
	for (unsigned i = 0; i < xs_tc_nevents; i++)
		n += xs_tc_events[i].conn == c;
	return n;
}

/* Sends a request and returns 0 with its reply, or -1 when the connection
 * died or gave no reply. */
static inline int xs_tc_request(struct xsd_conn *c, uint32_t type,
				uint32_t tx_id, const void *payload, size_t len,
				struct xs_reply *r)
{
	static uint32_t req_id;
	unsigned char frame[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = {type, ++req_id, tx_id, (uint32_t)len};
	if (len > XENSTORE_PAYLOAD_MAX)
		return -1;
	xs_tc_collect(c);
	memcpy(frame, &h, sizeof(h));
	memcpy(frame + sizeof(h), payload, len);
	if (xsd_conn_feed_all(c, frame, sizeof(h) + len) < 0)
		return -1;
	while (xs_tc_pop(c, r)) {
		if (r->type == XS_WATCH_EVENT) {
			xs_tc_stash(c, r);
			continue;
		}
		return r->req_id == req_id ? 0 : -1;
	}
	return -1;
}

/* The reply as a short verdict: "OK" for success, the errno name for an
 * error, "dead" when the connection died. Value-returning requests give
 * their payload. */
static inline const char *xs_tc_verdict(struct xsd_conn *c, uint32_t type,
					uint32_t tx_id, const void *payload,
					size_t len)
{
	static struct xs_reply r;
	if (xs_tc_request(c, type, tx_id, payload, len, &r) < 0)
		return "dead";
	return r.data;
}

/* For string literals with embedded nuls: the literal's length. */
#define XS_LIT(s) (s), (sizeof(s) - 1)

#endif
