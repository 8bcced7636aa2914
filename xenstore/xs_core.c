/*
 * pvio-xenstored core state: quota defaults, the store with its skeleton
 * and special nodes, teardown. The parts: xs_conn.c (connections),
 * xs_dispatch.c (requests to handlers), xs_tree.c, xs_txn.c, xs_watch.c,
 * xs_domain.c, xs_control.c (the requests), xs_perms.c, xs_path.c,
 * xs_args.c, xs_frame.c, xs_log.c (what they share). No I/O here.
 */
#include "config.h"

#include "xs_core_int.h"

#include <stdlib.h>

void xsd_quota_defaults(struct xsd_quota *q)
{
	q->nodes = 1000;
	q->node_size = 2048;
	q->watches = 128;
	q->transactions = 10;
	q->perms = 5;
	q->txn_nodes = 1024;
	q->outstanding = 20;
	q->queued_frames = 1024;
	q->connections = 32;
	q->dom0_queue_bytes = 32u << 20;
	q->memory = (2u << 20) + (512u << 10); /* C xenstored's hard limit */
}

struct xsd *xsd_new(const struct xsd_quota *quota,
		    const struct xsd_hooks *hooks)
{
	struct xsd *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	if (quota)
		d->quota = *quota;
	else
		xsd_quota_defaults(&d->quota);
	if (hooks)
		d->hooks = *hooks;
	xs_store_init(&d->store);
	/* Untouched pages cost no memory. */
	d->released_at = calloc(DOMID_LIMIT, sizeof(*d->released_at));
	if (!d->released_at) {
		free(d);
		return NULL;
	}
	static const struct xs_perm dom0_only = {0, 0};
	/* The skeleton every Xen host has, owned by dom0. */
	static const char *const skeleton[] = {"/", "/local", "/local/domain",
					       "/tool"};
	for (size_t i = 0; i < sizeof(skeleton) / sizeof(skeleton[0]); i++) {
		struct xs_node *n = xs_node_new(skeleton[i], &dom0_only, 1);
		if (!n || xs_store_insert(&d->store, n)) {
			xs_node_free(n);
			xsd_free(d);
			return NULL;
		}
		if (i > 0) {
			char parent[PATH_BUF];
			const char *name = xs_path_parent(skeleton[i], parent);
			if (xs_node_add_child(xs_store_get(&d->store, parent),
					      name)) {
				xsd_free(d);
				return NULL;
			}
		}
	}
	for (int i = 0; i < SPECIAL_COUNT; i++) {
		d->special[i].perms = malloc(sizeof(struct xs_perm));
		if (!d->special[i].perms) {
			xsd_free(d);
			return NULL;
		}
		d->special[i].perms[0] = dom0_only;
		d->special[i].nperms = 1;
	}
	return d;
}

void xsd_free(struct xsd *d)
{
	if (!d)
		return;
	while (d->conns)
		xsd_conn_free(d->conns);
	while (d->domains) {
		struct domain *dom = d->domains;
		d->domains = dom->next;
		free(dom);
	}
	xs_store_destroy(&d->store);
	for (int i = 0; i < SPECIAL_COUNT; i++)
		free(d->special[i].perms);
	free(d->released_at);
	free(d);
}

const struct xsd_quota *xsd_get_quota(const struct xsd *d)
{
	return &d->quota;
}

size_t xsd_node_count(const struct xsd *d)
{
	return d->store.nodes.count;
}
