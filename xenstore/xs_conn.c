/*
 * pvio-xenstored connections: input buffering and frame splitting (output
 * paces input), the output queue the host writes out, and a
 * connection's life.
 */
#include "config.h"

#include "xs_core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool output_blocked(const struct xsd_conn *c)
{
	return c->out_replies >= c->d->quota.outstanding;
}

int xsd_conn_process(struct xsd_conn *c)
{
	size_t off = 0;
	int dispatched = 0;
	while (!c->dead && !output_blocked(c)) {
		struct xsd_sockmsg h;
		if (c->in_len - off < HDR_LEN)
			break;
		memcpy(&h, c->in + off, HDR_LEN);
		if (h.len > XENSTORE_PAYLOAD_MAX) {
			conn_kill(c, "frame longer than XENSTORE_PAYLOAD_MAX");
			break;
		}
		if (c->in_len - off < HDR_LEN + h.len)
			break;
		dispatch_request(c, &h, c->in + off + HDR_LEN);
		off += HDR_LEN + h.len;
		dispatched++;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return c->dead ? -1 : dispatched;
}

void *xsd_conn_in_space(struct xsd_conn *c, size_t *avail)
{
	*avail = (c->dead || output_blocked(c)) ? 0 : sizeof(c->in) - c->in_len;
	return c->in + c->in_len;
}

int xsd_conn_in_commit(struct xsd_conn *c, size_t n)
{
	c->in_len += n;
	return xsd_conn_process(c) < 0 ? -1 : 0;
}

int xsd_conn_feed_all(struct xsd_conn *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len && !c->dead) {
		size_t avail;
		void *space = xsd_conn_in_space(c, &avail);
		if (!avail) {
			/* Nobody reads here: discard what is queued. */
			size_t l;
			while (xsd_conn_out_peek(c, &l))
				xsd_conn_out_consume(c, l);
			continue;
		}
		size_t n = len < avail ? len : avail;
		memcpy(space, p, n);
		p += n;
		len -= n;
		if (xsd_conn_in_commit(c, n) < 0)
			return -1;
	}
	return c->dead ? -1 : 0;
}

const void *xsd_conn_out_peek(const struct xsd_conn *c, size_t *len)
{
	if (!c->out_head) {
		*len = 0;
		return NULL;
	}
	*len = c->out_head->len - c->out_head->off;
	return c->out_head->data + c->out_head->off;
}

void xsd_conn_out_consume(struct xsd_conn *c, size_t n)
{
	while (n && c->out_head) {
		struct frame *f = c->out_head;
		size_t left = f->len - f->off;
		size_t take = n < left ? n : left;
		f->off += take;
		n -= take;
		if (f->off < f->len)
			break;
		c->out_head = f->next;
		if (!c->out_head)
			c->out_tail = NULL;
		frame_free(c, f);
	}
}

bool xsd_conn_has_output(const struct xsd_conn *c)
{
	return c->out_head != NULL;
}

struct xsd_conn *xsd_conn_new(struct xsd *d, unsigned domid, bool privileged)
{
	if (!privileged) {
		if (!domain_find(d, domid)) {
			errno = ENOENT;
			return NULL;
		}
		/* Each connection costs the daemon memory and a descriptor. */
		unsigned open = 0;
		for (struct xsd_conn *o = d->conns; o; o = o->next)
			open += !o->privileged && !o->dead && o->domid == domid;
		if (open >= d->quota.connections) {
			xsd_log_dom(d, domid, XSD_LOG_WARNING,
				    "domain %u has %u connections: refused",
				    domid, open);
			errno = EMFILE;
			return NULL;
		}
	}
	struct xsd_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->d = d;
	c->domid = privileged ? 0 : domid;
	c->privileged = privileged;
	c->next_txn_id = 1;
	snprintf(c->home, sizeof(c->home), "/local/domain/%u", c->domid);
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	return c;
}

void xsd_conn_free(struct xsd_conn *c)
{
	if (!c)
		return;
	conn_drop_watches(c);
	conn_drop_txns(c);
	frames_drop(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

bool xsd_conn_is_dead(const struct xsd_conn *c)
{
	return c->dead;
}
