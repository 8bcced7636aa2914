/*
 * pvio-xenstored dispatcher: a request frame to its handler (privilege and
 * transaction checks first), its error reply and its debug log line.
 */
#include "config.h"

#include "xs_core_int.h"

#include <stdbool.h>
#include <string.h>

static int do_reset_watches(struct req *r)
{
	conn_drop_watches(r->op->c);
	conn_drop_txns(r->op->c);
	send_ok(r->op->c, r->h);
	return 0;
}

typedef int (*handler_fn)(struct req *r);

static const struct {
	handler_fn fn;
	bool in_txn; /* runs inside the header's transaction */
	bool priv;   /* dom0 only: EACCES for a guest */
} handlers[XS_TYPE_COUNT] = {
	[XS_CONTROL] = {do_control, false, true},
	[XS_DIRECTORY] = {do_directory, true, false},
	[XS_READ] = {do_read, true, false},
	[XS_GET_PERMS] = {do_get_perms, true, false},
	[XS_WATCH] = {do_watch, false, false},
	[XS_UNWATCH] = {do_unwatch, false, false},
	[XS_TRANSACTION_START] = {do_txn_start, false, false},
	[XS_TRANSACTION_END] = {do_txn_end, true, false},
	[XS_INTRODUCE] = {do_introduce, false, true},
	[XS_RELEASE] = {do_release, false, true},
	[XS_GET_DOMAIN_PATH] = {do_get_domain_path, false, false},
	[XS_WRITE] = {do_write, true, false},
	[XS_MKDIR] = {do_mkdir, true, false},
	[XS_RM] = {do_rm, true, false},
	[XS_SET_PERMS] = {do_set_perms, true, false},
	[XS_IS_DOMAIN_INTRODUCED] = {do_is_domain_introduced, false, true},
	[XS_RESUME] = {do_resume, false, true},
	[XS_SET_TARGET] = {do_set_target, false, true},
	[XS_RESET_WATCHES] = {do_reset_watches, false, false},
	[XS_DIRECTORY_PART] = {do_directory_part, true, false},
};

static const char *type_name(uint32_t type)
{
	static const char *const names[XS_TYPE_COUNT] = {
		[XS_CONTROL] = "CONTROL",
		[XS_DIRECTORY] = "DIRECTORY",
		[XS_READ] = "READ",
		[XS_GET_PERMS] = "GET_PERMS",
		[XS_WATCH] = "WATCH",
		[XS_UNWATCH] = "UNWATCH",
		[XS_TRANSACTION_START] = "TRANSACTION_START",
		[XS_TRANSACTION_END] = "TRANSACTION_END",
		[XS_INTRODUCE] = "INTRODUCE",
		[XS_RELEASE] = "RELEASE",
		[XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
		[XS_WRITE] = "WRITE",
		[XS_MKDIR] = "MKDIR",
		[XS_RM] = "RM",
		[XS_SET_PERMS] = "SET_PERMS",
		[XS_WATCH_EVENT] = "WATCH_EVENT",
		[XS_ERROR] = "ERROR",
		[XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
		[XS_RESUME] = "RESUME",
		[XS_SET_TARGET] = "SET_TARGET",
		[XS_RESET_WATCHES] = "RESET_WATCHES",
		[XS_DIRECTORY_PART] = "DIRECTORY_PART",
	};
	return type < XS_TYPE_COUNT && names[type] ? names[type] : "unknown";
}

/* Handles one request; returns 0 or the errno its error reply carried. */
static int handle(struct xsd_conn *c, const struct xsd_sockmsg *h,
		  const char *payload)
{
	struct op op = {.d = c->d, .c = c};
	op.events_tail = &op.events;
	struct req r = {&op, h, payload};

	if (h->type >= XS_TYPE_COUNT || !handlers[h->type].fn)
		return ENOSYS;
	if (handlers[h->type].priv && !c->privileged)
		return EACCES;
	/* As in C xenstored, a transaction id must name an open transaction
	 * whatever the request (WATCH and UNWATCH ignore it); only some
	 * requests run inside it. */
	if (h->tx_id && h->type != XS_WATCH && h->type != XS_UNWATCH) {
		struct txn *t = txn_find(c, h->tx_id);
		if (!t)
			return ENOENT;
		if (handlers[h->type].in_txn)
			op.t = t;
		/* A guest over its memory quota may only end it. */
		if (op.t && h->type != XS_TRANSACTION_END &&
		    domain_over_memory(c))
			return ENOMEM;
	} else if (h->type == XS_TRANSACTION_END) {
		return ENOENT;
	}
	int err = handlers[h->type].fn(&r);
	/* Out of memory half-way, a request may have left the transaction's
	 * copies half-changed: the transaction can no longer commit. */
	if (err == ENOMEM && op.t)
		op.t->lost_change = true;
	if (op.t)
		txn_account(c, op.t);
	if (!err)
		fire_events(c->d, op.events);
	events_free(op.events);
	return err;
}

void dispatch_request(struct xsd_conn *c, const struct xsd_sockmsg *h,
		      const unsigned char *raw)
{
	/* A private, nul-terminated copy: the handlers parse strings. */
	char payload[XENSTORE_PAYLOAD_MAX + 1];
	memcpy(payload, raw, h->len);
	payload[h->len] = '\0';

	int err = handle(c, h, payload);
	if (err)
		send_error(c, h, err);
	if (!c->d->hooks.log || c->d->hooks.log_level < XSD_LOG_DEBUG)
		return;
	/* The first argument (usually the path) says enough; clients choose
	 * its bytes, so only printable ones reach the log. */
	char arg[201];
	size_t i = 0;
	for (; i < sizeof(arg) - 1 && payload[i]; i++)
		arg[i] = payload[i] >= 0x20 && payload[i] < 0x7f ? payload[i]
								 : '?';
	arg[i] = '\0';
	xsd_log(c->d, XSD_LOG_DEBUG, "domain %u%s: %s %s (tx %u): %s", c->domid,
		c->privileged ? " (dom0 socket)" : "", type_name(h->type), arg,
		h->tx_id, err ? errno_name(err) : "OK");
}
