#include "config.h"

#include "xs_hmap.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a: short paths, no adversarial keys beyond what quotas bound. */
static uint32_t hash_key(const char *key)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

void xs_hmap_init(struct xs_hmap *m)
{
	m->buckets = NULL;
	m->nbuckets = 0;
	m->count = 0;
}

void xs_hmap_destroy(struct xs_hmap *m)
{
	free(m->buckets);
	xs_hmap_init(m);
}

struct xs_hentry *xs_hmap_get(const struct xs_hmap *m, const char *key)
{
	if (!m->nbuckets)
		return NULL;
	uint32_t h = hash_key(key);
	for (struct xs_hentry *e = m->buckets[h & (m->nbuckets - 1)]; e;
	     e = e->next)
		if (e->hash == h && !strcmp(e->key, key))
			return e;
	return NULL;
}

static int rehash(struct xs_hmap *m, size_t n)
{
	struct xs_hentry **b = calloc(n, sizeof(*b));
	if (!b)
		return -1;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct xs_hentry *e = m->buckets[i];
		while (e) {
			struct xs_hentry *next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
	return 0;
}

int xs_hmap_reserve(struct xs_hmap *m, size_t n)
{
	size_t want = m->nbuckets ? m->nbuckets : 64;
	while (want < n)
		want *= 2;
	return want == m->nbuckets ? 0 : rehash(m, want);
}

int xs_hmap_put(struct xs_hmap *m, struct xs_hentry *e)
{
	if (m->count >= m->nbuckets &&
	    rehash(m, m->nbuckets ? m->nbuckets * 2 : 64) < 0)
		return -1;
	e->hash = hash_key(e->key);
	struct xs_hentry **slot = &m->buckets[e->hash & (m->nbuckets - 1)];
	e->next = *slot;
	*slot = e;
	m->count++;
	return 0;
}

void xs_hmap_del(struct xs_hmap *m, struct xs_hentry *e)
{
	struct xs_hentry **p = &m->buckets[e->hash & (m->nbuckets - 1)];
	while (*p && *p != e)
		p = &(*p)->next;
	if (*p) {
		*p = e->next;
		m->count--;
	}
}

void xs_hmap_iter_init(struct xs_hmap_iter *it, const struct xs_hmap *m)
{
	it->m = m;
	it->bucket = 0;
	it->next = m->nbuckets ? m->buckets[0] : NULL;
}

struct xs_hentry *xs_hmap_iter_next(struct xs_hmap_iter *it)
{
	while (!it->next) {
		if (++it->bucket >= it->m->nbuckets)
			return NULL;
		it->next = it->m->buckets[it->bucket];
	}
	struct xs_hentry *e = it->next;
	it->next = e->next;
	return e;
}
