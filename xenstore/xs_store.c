/* The xenstore tree of pvio-xenstored (see xs_store.h). */
#include "config.h"

#include "xs_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xs_store_init(struct xs_store *s)
{
	memset(s, 0, sizeof(*s));
	xs_hmap_init(&s->nodes);
}

void xs_store_destroy(struct xs_store *s)
{
	struct xs_hmap_iter it;
	struct xs_hentry *h;
	xs_hmap_iter_init(&it, &s->nodes);
	while ((h = xs_hmap_iter_next(&it)))
		xs_node_free(xs_container_of(h, struct xs_node, h));
	xs_hmap_destroy(&s->nodes);
	free(s->owners);
	s->owners = NULL;
	s->nowners = 0;
}

void xs_node_free(struct xs_node *n)
{
	if (!n)
		return;
	for (uint32_t i = 0; i < n->nchildren; i++)
		free(n->children[i]);
	free(n->children);
	free(n->perms);
	free(n->value);
	free(n->path);
	free(n);
}

struct xs_node *xs_node_new(const char *path, const struct xs_perm *perms,
			    uint32_t nperms)
{
	struct xs_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->path = strdup(path);
	n->perms = malloc(nperms * sizeof(*perms));
	if (!n->path || !n->perms) {
		xs_node_free(n);
		return NULL;
	}
	memcpy(n->perms, perms, nperms * sizeof(*perms));
	n->nperms = nperms;
	n->h.key = n->path;
	return n;
}

struct xs_node *xs_node_dup(const struct xs_node *src)
{
	struct xs_node *n = xs_node_new(src->path, src->perms, src->nperms);
	if (!n)
		return NULL;
	if (src->value_len) {
		n->value = malloc(src->value_len);
		if (!n->value)
			goto fail;
		memcpy(n->value, src->value, src->value_len);
		n->value_len = src->value_len;
	}
	if (src->nchildren) {
		n->children = calloc(src->nchildren, sizeof(char *));
		if (!n->children)
			goto fail;
		n->children_cap = src->nchildren;
		for (uint32_t i = 0; i < src->nchildren; i++) {
			n->children[i] = strdup(src->children[i]);
			if (!n->children[i])
				goto fail;
			n->nchildren++;
		}
		n->children_bytes = src->children_bytes;
	}
	n->generation = src->generation;
	return n;
fail:
	xs_node_free(n);
	return NULL;
}

/* What the node-size quota counts: value, child names and permissions. */
size_t xs_node_record_size(const struct xs_node *n)
{
	return n->value_len + n->children_bytes + n->nperms * 8u;
}

int xs_node_add_child(struct xs_node *n, const char *name)
{
	if (n->nchildren == n->children_cap) {
		uint32_t cap = n->children_cap ? n->children_cap * 2 : 4;
		char **c = realloc(n->children, cap * sizeof(*c));
		if (!c)
			return ENOMEM;
		n->children = c;
		n->children_cap = cap;
	}
	char *copy = strdup(name);
	if (!copy)
		return ENOMEM;
	n->children[n->nchildren++] = copy;
	n->children_bytes += strlen(name) + 1;
	return 0;
}

void xs_node_remove_child(struct xs_node *n, const char *name)
{
	for (uint32_t i = 0; i < n->nchildren; i++) {
		if (strcmp(n->children[i], name))
			continue;
		n->children_bytes -= strlen(name) + 1;
		free(n->children[i]);
		memmove(&n->children[i], &n->children[i + 1],
			(n->nchildren - i - 1) * sizeof(char *));
		n->nchildren--;
		return;
	}
}

int xs_node_set_value(struct xs_node *n, const char *value, uint32_t len)
{
	char *v = NULL;
	if (len) {
		v = malloc(len);
		if (!v)
			return ENOMEM;
		memcpy(v, value, len);
	}
	free(n->value);
	n->value = v;
	n->value_len = len;
	return 0;
}

int xs_node_set_perms(struct xs_node *n, const struct xs_perm *p, uint32_t np)
{
	struct xs_perm *copy = malloc(np * sizeof(*p));
	if (!copy)
		return ENOMEM;
	memcpy(copy, p, np * sizeof(*p));
	free(n->perms);
	n->perms = copy;
	n->nperms = np;
	return 0;
}

struct xs_node *xs_store_get(const struct xs_store *s, const char *path)
{
	struct xs_hentry *e = xs_hmap_get(&s->nodes, path);
	return e ? xs_container_of(e, struct xs_node, h) : NULL;
}

static struct xs_owner_count *owner_slot(struct xs_store *s, uint32_t domid,
					 bool create)
{
	for (size_t i = 0; i < s->nowners; i++)
		if (s->owners[i].domid == domid)
			return &s->owners[i];
	if (!create)
		return NULL;
	struct xs_owner_count *o =
		realloc(s->owners, (s->nowners + 1) * sizeof(*o));
	if (!o)
		return NULL;
	s->owners = o;
	o[s->nowners] = (struct xs_owner_count){domid, 0};
	return &o[s->nowners++];
}

long xs_store_owned(struct xs_store *s, uint32_t domid)
{
	struct xs_owner_count *o = owner_slot(s, domid, false);
	return o ? o->nodes : 0;
}

int xs_store_reserve_owner(struct xs_store *s, uint32_t domid)
{
	return owner_slot(s, domid, true) ? 0 : ENOMEM;
}

int xs_store_account(struct xs_store *s, uint32_t domid, long delta)
{
	struct xs_owner_count *o = owner_slot(s, domid, true);
	if (!o)
		return ENOMEM;
	o->nodes += delta;
	return 0;
}

int xs_store_insert(struct xs_store *s, struct xs_node *n)
{
	/* The owner's count first: once in the index, the node counts. */
	if (xs_store_reserve_owner(s, n->perms[0].domid) ||
	    xs_hmap_put(&s->nodes, &n->h) < 0)
		return ENOMEM;
	n->generation = ++s->generation;
	xs_store_account(s, n->perms[0].domid, 1);
	return 0;
}

void xs_store_remove(struct xs_store *s, struct xs_node *n)
{
	xs_hmap_del(&s->nodes, &n->h);
	xs_store_account(s, n->perms[0].domid, -1);
	xs_node_free(n);
}

const char *xs_path_parent(const char *path, char *parent)
{
	const char *slash = strrchr(path, '/');
	size_t plen = (size_t)(slash - path);
	if (plen == 0) {
		strcpy(parent, "/");
	} else {
		memcpy(parent, path, plen);
		parent[plen] = '\0';
	}
	return slash + 1;
}

char *xs_path_child(const char *parent, const char *name)
{
	const char *base = strcmp(parent, "/") ? parent : "";
	size_t len = strlen(base) + strlen(name) + 2;
	char *p = malloc(len);
	if (p)
		snprintf(p, len, "%s/%s", base, name);
	return p;
}

bool xs_path_under(const char *path, const char *base)
{
	size_t bl = strlen(base);
	if (strncmp(path, base, bl))
		return false;
	return path[bl] == '\0' || path[bl] == '/' || !strcmp(base, "/");
}

/* Nodes whose owner is domid. */
static long count_owned(const struct xs_store *s, uint32_t domid)
{
	struct xs_hmap_iter it;
	struct xs_hentry *h;
	long n = 0;
	xs_hmap_iter_init(&it, &s->nodes);
	while ((h = xs_hmap_iter_next(&it)))
		n += xs_container_of(h, struct xs_node, h)->perms[0].domid ==
		     domid;
	return n;
}

bool xs_store_consistent(const struct xs_store *s)
{
	struct xs_hmap_iter it;
	struct xs_hentry *h;
	size_t linked = 0;
	xs_hmap_iter_init(&it, &s->nodes);
	while ((h = xs_hmap_iter_next(&it))) {
		const struct xs_node *n = xs_container_of(h, struct xs_node, h);
		for (uint32_t i = 0; i < n->nchildren; i++) {
			char *child = xs_path_child(n->path, n->children[i]);
			if (!child)
				return false;
			bool found = xs_store_get(s, child) != NULL;
			free(child);
			if (!found)
				return false;
			linked++;
		}
	}
	if (linked + 1 != s->nodes.count)
		return false;
	/* The quota's counts agree with the owners in the tree. */
	size_t owned = 0;
	for (size_t i = 0; i < s->nowners; i++) {
		long n = count_owned(s, s->owners[i].domid);
		if (n != s->owners[i].nodes)
			return false;
		owned += (size_t)n;
	}
	return owned == s->nodes.count;
}
