/*
 * pvio-xenstored domains: INTRODUCE, RELEASE (with the cleanup of what the
 * domain owned), IS_DOMAIN_INTRODUCED, GET_DOMAIN_PATH, RESUME, SET_TARGET.
 */
#include "config.h"

#include "xs_core_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int do_get_domain_path(struct req *r)
{
	const char *argv[1] = {0};
	uint32_t domid;
	if (!get_args(r->payload, r->h->len, argv, 1) ||
	    !parse_domid(argv[0], &domid))
		return EINVAL;
	char buf[32];
	int l = snprintf(buf, sizeof(buf), "/local/domain/%" PRIu32, domid);
	send_reply(r->op->c, r->h, buf, (size_t)l + 1);
	return 0;
}

int do_is_domain_introduced(struct req *r)
{
	const char *argv[1] = {0};
	uint32_t domid;
	if (!get_args(r->payload, r->h->len, argv, 1) ||
	    !parse_domid(argv[0], &domid))
		return EINVAL;
	bool yes = domid == 0 || domain_find(r->op->d, domid);
	send_reply(r->op->c, r->h, yes ? "T" : "F", 2);
	return 0;
}

int do_introduce(struct req *r)
{
	struct xsd *d = r->op->d;
	const char *argv[3] = {0};
	uint32_t domid;
	uint64_t mfn, evtchn;
	if (!get_args(r->payload, r->h->len, argv, 3) ||
	    !parse_domid(argv[0], &domid) ||
	    !parse_uint(argv[1], UINT64_MAX / 10, &mfn) ||
	    !parse_uint(argv[2], UINT32_MAX, &evtchn) || domid == 0 ||
	    evtchn == 0)
		return EINVAL; /* port 0 is never a bound event channel */
	struct domain *dom = domain_record(d, domid);
	if (dom && dom->introduced) {
		/* Re-introducing with the same page is harmless. */
		if (dom->mfn != mfn)
			return EINVAL;
		send_ok(r->op->c, r->h);
		return 0;
	}
	if (!dom && !(dom = domain_add(d, domid)))
		return ENOMEM;
	if (d->hooks.domain_introduced) {
		int err = d->hooks.domain_introduced(d->hooks.arg, domid);
		if (err)
			return err; /* the record stays, as dom0 named it */
	}
	dom->introduced = true;
	dom->mfn = mfn;
	xsd_log(d, XSD_LOG_INFO, "domain %" PRIu32 " introduced", domid);
	send_ok(r->op->c, r->h);
	fire_special(d, SPECIAL_INTRODUCE);
	return 0;
}

/* Hands a node to dom0 (its count moves with it; dom0's always exists,
 * it owns the skeleton). */
static void give_to_dom0(struct xs_store *s, struct xs_node *n)
{
	xs_store_account(s, n->perms[0].domid, -1);
	xs_store_account(s, 0, 1);
	n->perms[0].domid = 0;
	n->generation = ++s->generation;
}

/* Finds a node domid owns under a parent it does not own (the top of an
 * owned subtree) and copies its path; the root, which is never removed,
 * goes to dom0 on the way. False when there is none left. */
static bool next_owned_top(struct xs_store *s, uint32_t domid, char *path)
{
	struct xs_hmap_iter it;
	struct xs_hentry *h;
	xs_hmap_iter_init(&it, &s->nodes);
	while ((h = xs_hmap_iter_next(&it))) {
		struct xs_node *nd = xs_container_of(h, struct xs_node, h);
		if (nd->perms[0].domid != domid)
			continue;
		if (!strcmp(nd->path, "/")) {
			give_to_dom0(s, nd);
			continue;
		}
		char parent[PATH_BUF];
		xs_path_parent(nd->path, parent);
		const struct xs_node *pn = xs_store_get(s, parent);
		if (pn && pn->perms[0].domid == domid)
			continue;
		strcpy(path, nd->path);
		return true;
	}
	return false;
}

/* Removes every node a released domain owns, with its subtree. Nothing is
 * allocated to find them; a subtree that cannot be removed (out of
 * memory) goes to dom0, so that nothing stays in the released domain's
 * name, and the log says so. Each round removes or hands over a node. */
static void remove_owned_nodes(struct op *op, uint32_t domid)
{
	struct xs_store *s = &op->d->store;
	char path[PATH_BUF];
	while (next_owned_top(s, domid, path)) {
		int err = rm_node(op, path);
		if (!err)
			continue;
		struct xs_node *nd = xs_store_get(s, path);
		xsd_log(op->d, XSD_LOG_ERROR,
			"domain %" PRIu32
			" released: cannot remove %.200s (%s); "
			"dom0 keeps it",
			domid, path, strerror(err));
		if (nd && nd->perms[0].domid == domid)
			give_to_dom0(s, nd);
	}
}

/* Drops a released domain from every remaining permission list, so that
 * a later domain with the same id inherits none of its rights (the lesson
 * of XSA-322). */
static bool drop_perm_entries(struct xs_node *n, uint32_t domid)
{
	uint32_t kept = 1;
	for (uint32_t i = 1; i < n->nperms; i++)
		if (n->perms[i].domid != domid)
			n->perms[kept++] = n->perms[i];
	bool changed = kept != n->nperms;
	n->nperms = kept;
	return changed;
}

static void forget_domain_perms(struct xsd *d, uint32_t domid)
{
	struct xs_hmap_iter it;
	struct xs_hentry *h;
	xs_hmap_iter_init(&it, &d->store.nodes);
	while ((h = xs_hmap_iter_next(&it))) {
		struct xs_node *n = xs_container_of(h, struct xs_node, h);
		if (drop_perm_entries(n, domid))
			n->generation = ++d->store.generation;
	}
	for (int i = 0; i < SPECIAL_COUNT; i++)
		drop_perm_entries(&d->special[i], domid);
}

int do_release(struct req *r)
{
	struct xsd *d = r->op->d;
	const char *argv[1] = {0};
	uint32_t domid;
	if (!get_args(r->payload, r->h->len, argv, 1) ||
	    !parse_domid(argv[0], &domid) || domid == 0)
		return EINVAL;
	/* A domain dom0 only named goes too: its entries must not pass to
	 * the next domain of that id. */
	struct domain *dom = domain_record(d, domid);
	if (!dom)
		return ENOENT;
	bool introduced = dom->introduced;
	d->released_at[domid] = ++d->store.generation;
	for (struct xsd_conn *c = d->conns; c; c = c->next) {
		if (!c->privileged && c->domid == domid) {
			c->dead = true;
			conn_drop_watches(c);
			conn_drop_txns(c);
			/* Nobody will read it, and the memory it holds is
			 * the domain's, which goes now. */
			frames_drop(c);
		}
	}
	remove_owned_nodes(r->op, domid);
	forget_domain_perms(d, domid);
	for (struct domain **p = &d->domains; *p; p = &(*p)->next) {
		if (*p == dom) {
			*p = dom->next;
			break;
		}
	}
	for (struct domain *o = d->domains; o; o = o->next)
		if (o->has_target && o->target == domid)
			o->has_target = false;
	free(dom);
	if (introduced && d->hooks.domain_released)
		d->hooks.domain_released(d->hooks.arg, domid);
	xsd_log(d, XSD_LOG_INFO, "domain %" PRIu32 " released", domid);
	send_ok(r->op->c, r->h);
	if (introduced)
		fire_special(d, SPECIAL_RELEASE);
	return 0;
}

int do_resume(struct req *r)
{
	const char *argv[1] = {0};
	uint32_t domid;
	if (!get_args(r->payload, r->h->len, argv, 1) ||
	    !parse_domid(argv[0], &domid))
		return EINVAL;
	if (domid != 0 && !domain_find(r->op->d, domid))
		return ENOENT;
	send_ok(r->op->c, r->h);
	return 0;
}

int do_set_target(struct req *r)
{
	const char *argv[2] = {0};
	uint32_t domid, target;
	if (!get_args(r->payload, r->h->len, argv, 2) ||
	    !parse_domid(argv[0], &domid) || !parse_domid(argv[1], &target))
		return EINVAL;
	struct domain *dom = domain_find(r->op->d, domid);
	/* Both must be introduced, as in C xenstored (dom0 always is). */
	if (!dom || (target != 0 && !domain_find(r->op->d, target)))
		return ENOENT;
	dom->has_target = true;
	dom->target = target;
	send_ok(r->op->c, r->h);
	return 0;
}
