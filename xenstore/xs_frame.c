/*
 * pvio-xenstored output frames: replies, errors and events queued on a
 * connection, never longer than the wire allows; a reply that cannot be
 * queued closes the connection.
 */
#include "config.h"

#include "xs_core_int.h"

#include <stdlib.h>
#include <string.h>

int queue_frame(struct xsd_conn *c, uint32_t type, uint32_t req_id,
		uint32_t tx_id, const void *p1, size_t l1, const void *p2,
		size_t l2, bool is_reply)
{
	/* No frame on the wire is longer: libxenstore drops a connection
	 * that sends one. */
	if (l1 + l2 > XENSTORE_PAYLOAD_MAX)
		return E2BIG;
	/* A guest's frames count against its memory: an event beyond the
	 * quota is refused (EDQUOT), a reply never is (the request is done,
	 * and outstanding replies are bounded anyway). */
	size_t cost = sizeof(struct frame) + HDR_LEN + l1 + l2;
	if (account_memory(c, cost, is_reply))
		return EDQUOT;
	struct frame *f = malloc(sizeof(*f) + HDR_LEN + l1 + l2);
	if (!f) {
		unaccount_memory(c, cost);
		return ENOMEM;
	}
	f->charged = !c->privileged;
	struct xsd_sockmsg h = {type, req_id, tx_id, (uint32_t)(l1 + l2)};
	memcpy(f->data, &h, HDR_LEN);
	if (l1)
		memcpy(f->data + HDR_LEN, p1, l1);
	if (l2)
		memcpy(f->data + HDR_LEN + l1, p2, l2);
	f->len = HDR_LEN + l1 + l2;
	f->off = 0;
	c->out_bytes += f->len;
	f->is_reply = is_reply;
	f->next = NULL;
	if (c->out_tail)
		c->out_tail->next = f;
	else
		c->out_head = f;
	c->out_tail = f;
	c->out_frames++;
	if (is_reply)
		c->out_replies++;
	return 0;
}

const char *errno_name(int err)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "EIO";
}

void conn_kill(struct xsd_conn *c, const char *why)
{
	xsd_log_dom(c->d, c->domid, XSD_LOG_WARNING,
		    "closing connection of domain %u: %s", c->domid, why);
	c->dead = true;
}

/* A reply that cannot be queued closes the connection: its client would
 * otherwise wait for ever, not knowing whether its request was done. */
static void queue_reply(struct xsd_conn *c, uint32_t type,
			const struct xsd_sockmsg *req, const void *data,
			size_t len)
{
	int err = queue_frame(c, type, req->req_id, req->tx_id, data, len, NULL,
			      0, true);
	if (err)
		conn_kill(c, err == ENOMEM ? "out of memory for a reply"
					   : "reply longer than a frame");
}

void send_error(struct xsd_conn *c, const struct xsd_sockmsg *req, int err)
{
	const char *name = errno_name(err);
	queue_reply(c, XS_ERROR, req, name, strlen(name) + 1);
}

void send_reply(struct xsd_conn *c, const struct xsd_sockmsg *req,
		const void *data, size_t len)
{
	queue_reply(c, req->type, req, data, len);
}

void send_ok(struct xsd_conn *c, const struct xsd_sockmsg *req)
{
	send_reply(c, req, "OK", 3);
}

void frame_free(struct xsd_conn *c, struct frame *f)
{
	c->out_frames--;
	c->out_bytes -= f->len;
	if (f->is_reply)
		c->out_replies--;
	if (f->charged)
		unaccount_memory(c, sizeof(struct frame) + f->len);
	free(f);
}

void frames_drop(struct xsd_conn *c)
{
	while (c->out_head) {
		struct frame *f = c->out_head;
		c->out_head = f->next;
		frame_free(c, f);
	}
	c->out_tail = NULL;
}
