/*
 * pvio-xenstored transactions: every node a request reads or writes goes
 * through here, into the transaction's private copies when it runs in one
 * (taken at its first look at a node, so that reads are isolated too);
 * commit checks generations (EAGAIN) and applies. TRANSACTION_START/END.
 */
#include "config.h"

#include "xs_core_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct txn_entry *txn_entry(struct op *op, const char *path, int *err)
{
	struct txn *t = op->t;
	struct xs_hentry *h = xs_hmap_get(&t->entries, path);
	if (h)
		return xs_container_of(h, struct txn_entry, h);
	if (!op->c->privileged && t->entries.count >= op->d->quota.txn_nodes) {
		*err = ENOSPC;
		return NULL;
	}
	struct txn_entry *e = calloc(1, sizeof(*e));
	if (!e || !(e->path = strdup(path))) {
		free(e);
		*err = ENOMEM;
		return NULL;
	}
	e->h.key = e->path;
	const struct xs_node *cur = xs_store_get(&op->d->store, path);
	e->base_exists = cur != NULL;
	e->base_gen = cur ? cur->generation : 0;
	/* The node as the transaction first saw it: it reads the same until
	 * the end, whatever happens outside (commit then fails). */
	if ((cur && !(e->node = xs_node_dup(cur))) ||
	    xs_hmap_put(&t->entries, &e->h) < 0) {
		xs_node_free(e->node);
		free(e->path);
		free(e);
		*err = ENOMEM;
		return NULL;
	}
	return e;
}

/* The node at path as this request sees it; NULL with *err == 0 when it
 * does not exist. */
const struct xs_node *op_get(struct op *op, const char *path, int *err)
{
	*err = 0;
	if (!op->t)
		return xs_store_get(&op->d->store, path);
	struct txn_entry *e = txn_entry(op, path, err);
	return e ? e->node : NULL;
}

/* How many nodes removing the subtree at path would add to the
 * transaction's entries: every node of the subtree, as the transaction
 * sees it, that it has not touched yet. Looks without touching. */
static size_t subtree_untouched(struct op *op, const char *path)
{
	struct xs_hentry *h = xs_hmap_get(&op->t->entries, path);
	const struct txn_entry *e =
		h ? xs_container_of(h, struct txn_entry, h) : NULL;
	const struct xs_node *n =
		e ? e->node : xs_store_get(&op->d->store, path);
	size_t count = e == NULL;
	for (uint32_t i = 0; n && i < n->nchildren; i++) {
		char *child = xs_path_child(path, n->children[i]);
		if (!child)
			return SIZE_MAX;
		size_t c = subtree_untouched(op, child);
		free(child);
		if (c == SIZE_MAX)
			return SIZE_MAX;
		count += c;
	}
	return count;
}

int op_rm_room(struct op *op, const char *path, const char *parent)
{
	if (!op->t || op->c->privileged)
		return 0;
	size_t need = subtree_untouched(op, path);
	if (need == SIZE_MAX)
		return ENOMEM;
	need += xs_hmap_get(&op->t->entries, parent) == NULL;
	return op->t->entries.count + need > op->d->quota.txn_nodes ? ENOSPC
								    : 0;
}

/* A writable version of an existing node. */
struct xs_node *op_modify(struct op *op, const char *path, int *err)
{
	*err = 0;
	if (!op->t)
		return xs_store_get(&op->d->store, path);
	struct txn_entry *e = txn_entry(op, path, err);
	if (!e || !e->node)
		return NULL;
	e->modified = true;
	return e->node;
}

/* Records that a node changed: outside a transaction it gets a new
 * generation now; inside, at commit. */
void op_touch(struct op *op, struct xs_node *n)
{
	if (!op->t)
		n->generation = ++op->d->store.generation;
}

int op_insert(struct op *op, struct xs_node *n)
{
	if (!op->t)
		return xs_store_insert(&op->d->store, n);
	int err;
	struct txn_entry *e = txn_entry(op, n->path, &err);
	if (!e)
		return err;
	xs_node_free(e->node);
	e->node = n;
	e->modified = true;
	if (n->perms[0].domid == op->c->domid)
		op->t->node_delta++;
	return 0;
}

int op_remove(struct op *op, const char *path)
{
	if (!op->t) {
		struct xs_node *n = xs_store_get(&op->d->store, path);
		if (n)
			xs_store_remove(&op->d->store, n);
		return 0;
	}
	int err;
	struct txn_entry *e = txn_entry(op, path, &err);
	if (!e)
		return err;
	const struct xs_node *old = e->node;
	if (old && old->perms[0].domid == op->c->domid)
		op->t->node_delta--;
	xs_node_free(e->node);
	e->node = NULL;
	e->modified = true;
	return 0;
}

/* What the transaction holds: its index, entries with their copies, and
 * the events waiting for its commit. */
static size_t txn_memory(struct txn *t)
{
	size_t bytes = sizeof(*t) + t->entries.nbuckets * sizeof(void *);
	struct xs_hmap_iter it;
	struct xs_hentry *h;
	xs_hmap_iter_init(&it, &t->entries);
	while ((h = xs_hmap_iter_next(&it))) {
		struct txn_entry *e = xs_container_of(h, struct txn_entry, h);
		bytes += sizeof(*e) + strlen(e->path) + 1 +
			 (e->node ? node_memory(e->node) : 0);
	}
	for (const struct event *ev = t->events; ev; ev = ev->next)
		bytes += sizeof(*ev) + strlen(ev->path) + 1 +
			 (ev->nperms + ev->nold) * sizeof(struct xs_perm);
	return bytes;
}

void txn_account(struct xsd_conn *c, struct txn *t)
{
	if (c->privileged)
		return;
	size_t now = txn_memory(t);
	if (now > t->memory)
		account_memory(c, now - t->memory, true);
	else
		unaccount_memory(c, t->memory - now);
	t->memory = now;
}

static void txn_free(struct xsd_conn *c, struct txn *t)
{
	unaccount_memory(c, t->memory);
	unsigned *count = domain_counter(c, COUNT_TXNS);
	if (count && *count)
		(*count)--;
	struct xs_hmap_iter it;
	struct xs_hentry *h;
	xs_hmap_iter_init(&it, &t->entries);
	while ((h = xs_hmap_iter_next(&it))) {
		struct txn_entry *e = xs_container_of(h, struct txn_entry, h);
		xs_node_free(e->node);
		free(e->path);
		free(e);
	}
	xs_hmap_destroy(&t->entries);
	events_free(t->events);
	free(t);
}

struct txn *txn_find(struct xsd_conn *c, uint32_t id)
{
	for (struct txn *t = c->txns; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

static void txn_unlink(struct xsd_conn *c, struct txn *t)
{
	for (struct txn **p = &c->txns; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			return;
		}
	}
}

/* Applies a transaction: EAGAIN when any node it read or wrote has changed
 * since it first looked, ENOSPC when the nodes it adds no longer fit the
 * domain's quota. */
static int txn_commit(struct xsd_conn *c, struct txn *t)
{
	struct xsd *d = c->d;
	struct xs_store *s = &d->store;
	struct xs_hmap_iter it;
	struct xs_hentry *h;
	size_t inserts = 0;

	if (t->lost_change)
		return ENOMEM;
	xs_hmap_iter_init(&it, &t->entries);
	while ((h = xs_hmap_iter_next(&it))) {
		struct txn_entry *e = xs_container_of(h, struct txn_entry, h);
		const struct xs_node *cur = xs_store_get(s, e->path);
		if ((cur != NULL) != e->base_exists ||
		    (cur && cur->generation != e->base_gen))
			return EAGAIN;
		if (e->modified && e->node)
			inserts++;
	}
	/* Each of a domain's concurrent transactions fits its node quota
	 * alone; together they may not. */
	if (!c->privileged && t->node_delta > 0 &&
	    xs_store_owned(s, c->domid) + t->node_delta > (long)d->quota.nodes)
		return ENOSPC;
	/* Entries copied before a domain was released name its
	 * predecessor, not the domain that now has that id (XSA-322). */
	xs_hmap_iter_init(&it, &t->entries);
	while ((h = xs_hmap_iter_next(&it))) {
		struct txn_entry *e = xs_container_of(h, struct txn_entry, h);
		if (e->modified && e->node)
			perms_drop_stale(d, e->node->perms, &e->node->nperms,
					 t->start_gen);
	}
	/* Grow the index and make every owner's count first, so that
	 * applying cannot fail half-way. */
	if (xs_hmap_reserve(&s->nodes, s->nodes.count + inserts) < 0)
		return ENOMEM;
	xs_hmap_iter_init(&it, &t->entries);
	while ((h = xs_hmap_iter_next(&it))) {
		struct txn_entry *e = xs_container_of(h, struct txn_entry, h);
		if (e->modified && e->node &&
		    xs_store_reserve_owner(s, e->node->perms[0].domid))
			return ENOMEM;
	}
	xs_hmap_iter_init(&it, &t->entries);
	while ((h = xs_hmap_iter_next(&it))) {
		struct txn_entry *e = xs_container_of(h, struct txn_entry, h);
		if (!e->modified)
			continue;
		struct xs_node *cur = xs_store_get(s, e->path);
		if (cur)
			xs_store_remove(s, cur);
		if (e->node) {
			/* Cannot fail after the reservations above; should it,
			 * say so (CONTROL check will tell the damage). */
			if (xs_store_insert(s, e->node)) {
				xsd_log_dom(
					d, c->domid, XSD_LOG_ERROR,
					"commit: %.200s lost (out of memory)",
					e->path);
				xs_node_free(e->node);
			}
			e->node = NULL;
		}
	}
	return 0;
}

void conn_drop_txns(struct xsd_conn *c)
{
	while (c->txns) {
		struct txn *t = c->txns;
		c->txns = t->next;
		txn_free(c, t);
	}
}

int do_txn_start(struct req *r)
{
	struct xsd_conn *c = r->op->c;
	if (r->h->tx_id)
		return EBUSY; /* no nesting */
	/* Counted per domain: more connections buy no more transactions. */
	unsigned *count = domain_counter(c, COUNT_TXNS);
	if (count && *count >= c->d->quota.transactions)
		return ENOSPC;
	if (account_memory(c, sizeof(struct txn), false))
		return ENOMEM;
	struct txn *t = calloc(1, sizeof(*t));
	if (!t) {
		unaccount_memory(c, sizeof(struct txn));
		return ENOMEM;
	}
	t->memory = c->privileged ? 0 : sizeof(*t);
	if (count)
		(*count)++;
	xs_hmap_init(&t->entries);
	t->events_tail = &t->events;
	t->start_gen = c->d->store.generation;
	do {
		t->id = c->next_txn_id++;
	} while (t->id == 0 || txn_find(c, t->id));
	t->next = c->txns;
	c->txns = t;
	char buf[16];
	int l = snprintf(buf, sizeof(buf), "%" PRIu32, t->id);
	send_reply(c, r->h, buf, (size_t)l + 1);
	return 0;
}

int do_txn_end(struct req *r)
{
	struct xsd_conn *c = r->op->c;
	const char *argv[1] = {0};
	if (!get_args(r->payload, r->h->len, argv, 1))
		return EINVAL;
	bool commit;
	if (!strcmp(argv[0], "T"))
		commit = true;
	else if (!strcmp(argv[0], "F"))
		commit = false;
	else
		return EINVAL;
	struct txn *t = r->op->t;
	/* The transaction ends whatever the outcome. */
	txn_unlink(c, t);
	r->op->t = NULL;
	int err = commit ? txn_commit(c, t) : 0;
	if (!err) {
		send_ok(c, r->h);
		if (commit)
			fire_events(c->d, t->events);
	}
	txn_free(c, t);
	return err;
}
