/*
 * pvio-xenstored watches: watch events (queued by a request, fired after
 * its reply or at commit, filtered by the node's permissions), WATCH and
 * UNWATCH.
 */
#include "config.h"

#include "xs_core_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct event *event_new(const char *path, bool exact,
			const struct xs_perm *perms, uint32_t nperms,
			const struct xs_perm *old, uint32_t nold)
{
	size_t len = strlen(path) + 1;
	struct event *ev = malloc(sizeof(*ev) + len);
	if (!ev)
		return NULL;
	ev->perms = malloc((nperms + nold) * sizeof(*perms));
	if (!ev->perms) {
		free(ev);
		return NULL;
	}
	memcpy(ev->perms, perms, nperms * sizeof(*perms));
	if (nold)
		memcpy(ev->perms + nperms, old, nold * sizeof(*old));
	ev->nperms = nperms;
	ev->nold = nold;
	ev->exact = exact;
	ev->next = NULL;
	memcpy(ev->path, path, len);
	return ev;
}

void events_free(struct event *ev)
{
	while (ev) {
		struct event *next = ev->next;
		free(ev->perms);
		free(ev);
		ev = next;
	}
}

/* Queues an event; inside a transaction it waits for the commit. */
/* An event for path could not even be made: every dom0 connection that
 * would have heard of it is closed, so that it knows (a guest's events
 * may be dropped, as when it does not read). */
static void event_lost(struct xsd *d, const char *path)
{
	for (struct xsd_conn *c = d->conns; c; c = c->next) {
		if (!c->privileged || c->dead)
			continue;
		for (struct watch *w = c->watches; w; w = w->next) {
			if (xs_path_under(path, w->path)) {
				conn_kill(c, "out of memory for a watch event");
				break;
			}
		}
	}
}

static void queue_event(struct op *op, struct event *ev, const char *path)
{
	if (!ev) {
		xsd_log_dom(op->d, op->c->domid, XSD_LOG_WARNING,
			    "out of memory: watch event for %.200s lost", path);
		event_lost(op->d, path);
		return;
	}
	if (op->t) {
		*op->t->events_tail = ev;
		op->t->events_tail = &ev->next;
	} else {
		*op->events_tail = ev;
		op->events_tail = &ev->next;
	}
}

void op_event(struct op *op, const char *path, bool exact,
	      const struct xs_perm *perms, uint32_t nperms)
{
	queue_event(op, event_new(path, exact, perms, nperms, NULL, 0), path);
}

void op_event_perms(struct op *op, const char *path,
		    const struct xs_perm *perms, uint32_t nperms,
		    const struct xs_perm *old, uint32_t nold)
{
	queue_event(op, event_new(path, false, perms, nperms, old, nold), path);
}

static void send_event(struct xsd_conn *c, const struct watch *w,
		       const char *path)
{
	if (c->privileged) {
		/* dom0 keeps every event; one that stops reading for good is
		 * closed, so that its client knows it lost some. */
		if (c->out_bytes + HDR_LEN + strlen(path) + strlen(w->token) +
			    2 >
		    c->d->quota.dom0_queue_bytes) {
			conn_kill(c, "not reading its watch events (queue "
				     "limit reached)");
			return;
		}
	} else if (c->out_frames >= c->d->quota.queued_frames) {
		xsd_log_dom(c->d, c->domid, XSD_LOG_WARNING,
			    "domain %u is not reading: watch event %.200s "
			    "dropped",
			    c->domid, path);
		return;
	}
	if (w->relative) {
		size_t hl = strlen(c->home);
		if (!strncmp(path, c->home, hl) && path[hl] == '/')
			path += hl + 1;
	}
	int err = queue_frame(c, XS_WATCH_EVENT, 0, 0, path, strlen(path) + 1,
			      w->token, strlen(w->token) + 1, false);
	/* dom0 must not lose an event unaware: out of memory, its connection
	 * goes (an event too long for a frame is the guest's doing, and
	 * dropped for everyone, as by C xenstored). */
	if (err == ENOMEM && c->privileged) {
		conn_kill(c, "out of memory for a watch event");
		return;
	}
	if (err)
		xsd_log_dom(c->d, c->domid, XSD_LOG_WARNING,
			    "domain %u: watch event %.64s... dropped: %s",
			    c->domid, path,
			    err == E2BIG    ? "path and token exceed one frame"
			    : err == EDQUOT ? "domain over its memory quota"
					    : "out of memory");
}

/* May c hear of ev? If it may read the node, as it is now or was before
 * a SET_PERMS, or its parent (whose child list names the node anyway), as
 * C xenstored decides. */
static bool event_visible(const struct xsd_conn *c, const struct event *ev,
			  const struct xs_node *parent)
{
	unsigned mask = perm_mask(c, ev->perms, ev->nperms);
	if (ev->nold)
		mask |= perm_mask(c, ev->perms + ev->nperms, ev->nold);
	if (parent)
		mask |= perm_mask(c, parent->perms, parent->nperms);
	return mask & XSD_PERM_READ;
}

void fire_event(struct xsd *d, const struct event *ev)
{
	const struct xs_node *parent = NULL;
	if (ev->path[0] == '/') {
		char parent_path[PATH_BUF];
		xs_path_parent(ev->path, parent_path);
		parent = xs_store_get(&d->store, parent_path);
	}
	for (struct xsd_conn *c = d->conns; c; c = c->next) {
		if (c->dead)
			continue;
		bool visible = event_visible(c, ev, parent);
		for (struct watch *w = c->watches; w; w = w->next) {
			bool match = ev->exact
					     ? !strcmp(ev->path, w->path)
					     : xs_path_under(ev->path, w->path);
			if (match && visible)
				send_event(c, w, ev->path);
		}
	}
}

void fire_events(struct xsd *d, struct event *ev)
{
	for (; ev; ev = ev->next)
		fire_event(d, ev);
}

static size_t watch_memory(const char *path, const char *token)
{
	return sizeof(struct watch) + strlen(path) + strlen(token) + 2;
}

static void watch_free(struct watch *w)
{
	free(w->path);
	free(w->token);
	free(w);
}

/* An unlinked watch of c: freed and uncounted. */
static void watch_drop(struct xsd_conn *c, struct watch *w)
{
	unaccount_memory(c, watch_memory(w->path, w->token));
	unsigned *count = domain_counter(c, COUNT_WATCHES);
	if (count && *count)
		(*count)--;
	watch_free(w);
}

void conn_drop_watches(struct xsd_conn *c)
{
	while (c->watches) {
		struct watch *w = c->watches;
		c->watches = w->next;
		watch_drop(c, w);
	}
}

int do_watch(struct req *r)
{
	struct xsd_conn *c = r->op->c;
	const char *argv[2] = {0};
	if (!get_args(r->payload, r->h->len, argv, 2))
		return EINVAL;
	char path[PATH_BUF];
	bool relative;
	int err = canon_path(c, argv[0], path, true, &relative);
	if (err)
		return err;
	for (struct watch *w = c->watches; w; w = w->next)
		if (!strcmp(w->path, path) && !strcmp(w->token, argv[1]))
			return EEXIST;
	/* Counted per domain: more connections buy no more watches. */
	unsigned *count = domain_counter(c, COUNT_WATCHES);
	if (count && *count >= c->d->quota.watches)
		return E2BIG;
	size_t cost = watch_memory(path, argv[1]);
	if (account_memory(c, cost, false))
		return ENOMEM;
	struct watch *w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)) || !(w->token = strdup(argv[1]))) {
		if (w)
			watch_free(w);
		unaccount_memory(c, cost);
		return ENOMEM;
	}
	if (count)
		(*count)++;
	w->relative = relative;
	/* Append: events for one change reach watches in registration
	 * order. */
	struct watch **p = &c->watches;
	while (*p)
		p = &(*p)->next;
	*p = w;
	send_ok(c, r->h);
	/* Every new watch fires once at once, whether the path exists or
	 * not. */
	send_event(c, w, path);
	return 0;
}

int do_unwatch(struct req *r)
{
	struct xsd_conn *c = r->op->c;
	const char *argv[2] = {0};
	if (!get_args(r->payload, r->h->len, argv, 2))
		return EINVAL;
	char path[PATH_BUF];
	int err = canon_path(c, argv[0], path, true, NULL);
	if (err)
		return err;
	for (struct watch **p = &c->watches; *p; p = &(*p)->next) {
		struct watch *w = *p;
		if (strcmp(w->path, path) || strcmp(w->token, argv[1]))
			continue;
		*p = w->next;
		watch_drop(c, w);
		send_ok(c, r->h);
		return 0;
	}
	return ENOENT;
}

void fire_special(struct xsd *d, enum special_node which)
{
	struct xs_node *n = &d->special[which];
	struct event *ev = event_new(special_names[which], false, n->perms,
				     n->nperms, NULL, 0);
	if (!ev) {
		xsd_log(d, XSD_LOG_ERROR, "out of memory: %s event lost",
			special_names[which]);
		return;
	}
	fire_event(d, ev);
	events_free(ev);
}
