/*
 * Internal to pvio-xenstored's core (the xs_*.c files but xs_store.c and
 * xs_hmap.c, which are below it): the state behind the opaque types of
 * xs_core.h and the functions the parts share. Not for the daemon's host, the
 * tests or the fuzzer: they use xs_core.h.
 */
#ifndef PVIO_XS_CORE_INT_H
#define PVIO_XS_CORE_INT_H

#include "xs_core.h"
#include "xs_hmap.h"
#include "xs_store.h"

/* Before xs_wire.h, which declares xsd_errors only when errno.h is in. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>

/* Xen's first reserved domain id: introduced domids must lie below it. */
#define DOMID_LIMIT 0x7ff0u

/* Room for an absolute path, or a relative one joined to a home path. */
#define PATH_BUF (XENSTORE_ABS_PATH_MAX + 64)
#define HDR_LEN	 sizeof(struct xsd_sockmsg)
/* Input buffer: several maximum frames, so pipelined requests need few
 * reads. */
#define IN_BUF (4 * (HDR_LEN + XENSTORE_PAYLOAD_MAX))

/* A watch event to fire: exact events reach only watches of that very
 * path (descendants of a removed subtree); the others reach watches at or
 * above the path. perms decide who may see it. */
struct event {
	struct event *next;
	bool exact;
	/* The node's permissions, then (nold of them) those it had before a
	 * SET_PERMS: a watcher that just lost access hears of it too. */
	uint32_t nperms, nold;
	struct xs_perm *perms;
	char path[];
};

struct txn_entry {
	struct xs_hentry h; /* key: path */
	char *path;
	bool base_exists;
	uint64_t base_gen;
	bool modified; /* node replaces the store's at commit */
	/* The private copy, taken at the first look; NULL = absent. */
	struct xs_node *node;
};

struct txn {
	struct txn *next;
	uint32_t id;
	struct xs_hmap entries;
	struct event *events, **events_tail;
	long node_delta;    /* nodes the connection's domain gains on commit */
	uint64_t start_gen; /* the store's generation when it started */
	bool lost_change;   /* a request failed half-way: commit is ENOMEM */
	size_t memory;	    /* charged to the connection's domain */
};

struct watch {
	struct watch *next;
	char *path; /* absolute, or a special @ name */
	char *token;
	bool relative; /* events strip the connection's home prefix */
};

struct frame {
	struct frame *next;
	bool is_reply;
	bool charged; /* to the connection's domain (account_memory) */
	size_t len, off;
	unsigned char data[];
};

/* Log lines a domain causes: at most LOG_LINES_PER_WINDOW per window,
 * the rest counted and reported with the next line that gets through. */
#define LOG_WINDOW_MS	     1000u
#define LOG_LINES_PER_WINDOW 10u
struct log_limit {
	uint64_t window_start;
	unsigned lines, suppressed;
};

/* A domain xenstored knows: introduced, or only named by dom0 in a
 * permission list (as libxl names a domain before INTRODUCE: on Xen the
 * hypervisor vouches for it, here dom0 does). */
struct domain {
	struct domain *next;
	uint32_t domid;
	bool introduced;
	uint64_t mfn;
	bool has_target;
	uint32_t target;
	struct log_limit log_limit;
	/* What its connections hold (xs_account.c). */
	size_t memory;
	unsigned ntxns, nwatches;
};

struct xsd_conn {
	struct xsd *d;
	struct xsd_conn *prev, *next;
	uint32_t domid;
	bool privileged;
	bool dead;
	char home[32]; /* /local/domain/<domid> */
	unsigned char in[IN_BUF];
	size_t in_len;
	struct frame *out_head, *out_tail;
	unsigned out_frames, out_replies;
	size_t out_bytes; /* of the queued frames */
	struct watch *watches;
	struct txn *txns;
	uint32_t next_txn_id;
};

enum special_node { SPECIAL_INTRODUCE, SPECIAL_RELEASE, SPECIAL_COUNT };

struct xsd {
	struct xs_store store;
	struct xs_node special[SPECIAL_COUNT];
	struct xsd_conn *conns;
	struct domain *domains;
	/* Per domid, the store generation of its last RELEASE (0: never):
	 * a permission entry a transaction copied before then names a
	 * predecessor, and is dropped at commit. */
	uint64_t *released_at;
	struct log_limit log_limit; /* dom0's and unknown domains' lines */
	struct xsd_quota quota;
	struct xsd_hooks hooks;
};

/* One request being handled: the transaction it runs in, if any, and the
 * events it produced outside a transaction (fired after the reply). */
struct op {
	struct xsd *d;
	struct xsd_conn *c;
	struct txn *t;
	struct event *events, **events_tail;
};

/* A request being handled: its operation context, header and payload
 * (nul-terminated). */
struct req {
	struct op *op;
	const struct xsd_sockmsg *h;
	const char *payload;
};

/* Beyond the stored r/w bits: the caller owns the node (or is dom0, or
 * acts for the owner after SET_TARGET). Only an owner may SET_PERMS. */
#define XSD_PERM_OWNER 4u

/* xs_log.c */
void xsd_log(struct xsd *d, enum xsd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A line the activity of domain domid caused (a guest can make many):
 * rate-limited per domain, checked before it is formatted. Debug lines
 * (-l debug, one per request) are not limited: the operator asked. */
void xsd_log_dom(struct xsd *d, uint32_t domid, enum xsd_log_level level,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* xs_path.c */
extern const char *const special_names[SPECIAL_COUNT];
/* The index of a special @ name, or -1. */
int special_index(const char *path);
/* Turns a client's path into the absolute canonical form (out holds
 * PATH_BUF); 0 or EINVAL. Specials only where allow_special says so. */
int canon_path(const struct xsd_conn *c, const char *in, char *out,
	       bool allow_special, bool *relative);

/* xs_args.c */
/* Splits a payload of nul-terminated strings into argv; returns how many,
 * or -1 when there are more than max or the last is not terminated. */
int split_args(const char *payload, uint32_t len, const char **argv,
	       unsigned max);
bool get_args(const char *payload, uint32_t len, const char **argv, unsigned n);
bool parse_uint(const char *s, uint64_t max, uint64_t *out);
bool parse_domid(const char *s, uint32_t *domid);

/* xs_perms.c: the domains known, and what they may do */
/* An introduced domain, or NULL. */
struct domain *domain_find(struct xsd *d, uint32_t domid);
/* Any known domain (introduced or named by dom0), or NULL. */
struct domain *domain_record(struct xsd *d, uint32_t domid);
struct domain *domain_add(struct xsd *d, uint32_t domid);
/* dom0 named domid in a permission list: remember that it exists (0 or
 * ENOMEM). */
int domain_declare(struct xsd *d, uint32_t domid);
/* Drops the entries of a permission list that name no known domain, or
 * (since > 0) a domain released after generation since; an owner so named
 * gives way to dom0 (C xenstored's rule, against XSA-322). */
void perms_drop_stale(struct xsd *d, struct xs_perm *perms, uint32_t *np,
		      uint64_t since);
unsigned perm_mask(const struct xsd_conn *c, const struct xs_perm *p,
		   uint32_t np);
/* "r5" and the like; 0 or EINVAL. */
int parse_perm(const char *s, struct xs_perm *p);

/* xs_account.c: a guest's memory, transactions and watches, per domain;
 * no-ops for dom0 and for a released domain's connections. */
/* Charges bytes; ENOMEM (nothing charged) when that would take the
 * domain over its memory quota, unless force. */
int account_memory(struct xsd_conn *c, size_t bytes, bool force);
void unaccount_memory(struct xsd_conn *c, size_t bytes);
bool domain_over_memory(const struct xsd_conn *c);
enum domain_count { COUNT_TXNS, COUNT_WATCHES };
/* The domain's count of open transactions or watches, or NULL. */
unsigned *domain_counter(struct xsd_conn *c, enum domain_count what);
/* What a node costs the daemon, near enough. */
size_t node_memory(const struct xs_node *n);

/* xs_frame.c */
/* 0; E2BIG (longer than a frame), EDQUOT (an event over the domain's
 * memory quota) or ENOMEM, with nothing queued. */
int queue_frame(struct xsd_conn *c, uint32_t type, uint32_t req_id,
		uint32_t tx_id, const void *p1, size_t l1, const void *p2,
		size_t l2, bool is_reply);
const char *errno_name(int err);
/* Marks the connection dead (the host closes it), saying why. */
void conn_kill(struct xsd_conn *c, const char *why);
void send_reply(struct xsd_conn *c, const struct xsd_sockmsg *req,
		const void *data, size_t len);
void send_ok(struct xsd_conn *c, const struct xsd_sockmsg *req);
void send_error(struct xsd_conn *c, const struct xsd_sockmsg *req, int err);
/* Unlinked frames: freed, uncounted, uncharged. */
void frame_free(struct xsd_conn *c, struct frame *f);
/* Drops all the connection's queued output. */
void frames_drop(struct xsd_conn *c);

/* xs_dispatch.c: one request frame (payload of h->len bytes at raw) */
void dispatch_request(struct xsd_conn *c, const struct xsd_sockmsg *h,
		      const unsigned char *raw);

/* xs_tree.c: the tree requests */
int rm_node(struct op *op, const char *path);
int do_read(struct req *r);
int do_write(struct req *r);
int do_mkdir(struct req *r);
int do_rm(struct req *r);
int do_directory(struct req *r);
int do_directory_part(struct req *r);
int do_get_perms(struct req *r);
int do_set_perms(struct req *r);

/* xs_control.c */
int do_control(struct req *r);

/* xs_txn.c: node access through the request's transaction */
const struct xs_node *op_get(struct op *op, const char *path, int *err);
struct xs_node *op_modify(struct op *op, const char *path, int *err);
void op_touch(struct op *op, struct xs_node *n);
int op_insert(struct op *op, struct xs_node *n);
int op_remove(struct op *op, const char *path);
/* ENOSPC when removing the subtree at path (and updating its parent)
 * would take the request's transaction past the nodes it may touch:
 * checked before RM starts, so that it is refused whole, never half-done. */
int op_rm_room(struct op *op, const char *path, const char *parent);
struct txn *txn_find(struct xsd_conn *c, uint32_t id);
/* Charges the guest's domain for what the transaction holds now. */
void txn_account(struct xsd_conn *c, struct txn *t);
void conn_drop_txns(struct xsd_conn *c);
int do_txn_start(struct req *r);
int do_txn_end(struct req *r);

/* xs_watch.c: events and watches */
void fire_special(struct xsd *d, enum special_node which);
struct event *event_new(const char *path, bool exact,
			const struct xs_perm *perms, uint32_t nperms,
			const struct xs_perm *old, uint32_t nold);
void events_free(struct event *ev);
void op_event(struct op *op, const char *path, bool exact,
	      const struct xs_perm *perms, uint32_t nperms);
/* The event of a SET_PERMS: readers under the old or the new list hear it. */
void op_event_perms(struct op *op, const char *path,
		    const struct xs_perm *perms, uint32_t nperms,
		    const struct xs_perm *old, uint32_t nold);
void fire_event(struct xsd *d, const struct event *ev);
void fire_events(struct xsd *d, struct event *ev);
void conn_drop_watches(struct xsd_conn *c);
int do_watch(struct req *r);
int do_unwatch(struct req *r);

/* xs_domain.c: domain requests */
int do_get_domain_path(struct req *r);
int do_is_domain_introduced(struct req *r);
int do_introduce(struct req *r);
int do_release(struct req *r);
int do_resume(struct req *r);
int do_set_target(struct req *r);

#endif
