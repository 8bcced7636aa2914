/*
 * The pvio-xenstored core: the store (a tree with insertion-ordered
 * children, permissions and generation counters), transactions, watches,
 * domains, quotas and the message dispatcher. It performs no I/O: a caller
 * (the daemon's event loop, a unit test or the fuzzer) feeds the bytes a
 * client sent into its connection and takes the reply and event frames out.
 */
#ifndef PVIO_XS_CORE_H
#define PVIO_XS_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xsd;
struct xsd_conn;

/* Limits applied to unprivileged domains (C xenstored defaults where it
 * has them), counted per domain over all its connections; the
 * outstanding bound paces every connection, dom0's included, whose
 * events are bounded by dom0_queue_bytes instead of queued_frames. */
struct xsd_quota {
	unsigned nodes;		/* nodes a domain may own */
	unsigned node_size;	/* bytes of value, child names and perms */
	unsigned watches;	/* watches per domain */
	unsigned transactions;	/* open transactions per domain */
	unsigned perms;		/* permission entries per node */
	unsigned txn_nodes;	/* nodes one transaction may touch */
	unsigned outstanding;	/* replies queued before input pauses */
	unsigned queued_frames; /* a guest's frames queued before events drop */
	unsigned connections;	/* open connections per domain */
	/* Bytes a dom0 connection may have queued: its events are never
	 * dropped, it is closed (which its client sees) beyond this. */
	unsigned dom0_queue_bytes;
	/* Bytes a guest's connections together may make the daemon hold:
	 * transaction copies, queued replies and events, watches. */
	unsigned memory;
};

void xsd_quota_defaults(struct xsd_quota *q);

enum xsd_log_level {
	XSD_LOG_ERROR,
	XSD_LOG_WARNING,
	XSD_LOG_INFO,
	XSD_LOG_DEBUG,
};

/* What the core asks of its host (all optional). */
struct xsd_hooks {
	/* A domain was introduced / released: open or remove its socket.
	 * A non-zero return from introduced makes INTRODUCE fail with that
	 * errno. */
	int (*domain_introduced)(void *arg, unsigned domid);
	void (*domain_released)(void *arg, unsigned domid);
	void (*log)(void *arg, enum xsd_log_level level, const char *msg);
	/* Messages less severe than this are not even formatted; at
	 * XSD_LOG_DEBUG every request is logged with its outcome. */
	enum xsd_log_level log_level;
	/* Milliseconds of a monotonic clock, for the log's rate limit;
	 * CLOCK_MONOTONIC when NULL. */
	uint64_t (*now_ms)(void *arg);
	void *arg;
};

struct xsd *xsd_new(const struct xsd_quota *quota,
		    const struct xsd_hooks *hooks);
void xsd_free(struct xsd *d);
const struct xsd_quota *xsd_get_quota(const struct xsd *d);
size_t xsd_node_count(const struct xsd *d);

/* A client connection. privileged connections act as dom0 and bypass
 * permissions and quotas; the others act as domain domid, which must have
 * been introduced. Returns NULL with errno ENOENT (domid not introduced),
 * EMFILE (the domain has its quota of connections) or ENOMEM. */
struct xsd_conn *xsd_conn_new(struct xsd *d, unsigned domid, bool privileged);
/* Ends the connection: its transactions abort and its watches go. */
void xsd_conn_free(struct xsd_conn *c);
/* True once the connection must be closed: a malformed frame, or its
 * domain was released. */
bool xsd_conn_is_dead(const struct xsd_conn *c);

/* Input: write at most *avail bytes at the returned address, then commit
 * them; complete frames are dispatched. *avail is 0 when the connection
 * must not read now (its replies are not being read, or it is dead). */
void *xsd_conn_in_space(struct xsd_conn *c, size_t *avail);
/* Returns 0, or -1 when the connection is now dead. */
int xsd_conn_in_commit(struct xsd_conn *c, size_t n);
/* Dispatches frames buffered while the output was full; returns how many,
 * or -1 when the connection is now dead. */
int xsd_conn_process(struct xsd_conn *c);
/* Convenience for tests and the fuzzer: feeds all of data, dispatching as it
 * goes and discarding output whenever the output bound would stop it.
 * Returns 0, or -1 when the connection died. */
int xsd_conn_feed_all(struct xsd_conn *c, const void *data, size_t len);

/* Output: the bytes of the oldest queued frame not yet written. */
const void *xsd_conn_out_peek(const struct xsd_conn *c, size_t *len);
void xsd_conn_out_consume(struct xsd_conn *c, size_t n);
bool xsd_conn_has_output(const struct xsd_conn *c);

#endif
