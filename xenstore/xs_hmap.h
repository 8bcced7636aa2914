/* An intrusive string-keyed hash map: entries embed struct xs_hentry, so
 * the store and the transactions index their own records without extra
 * allocations. */
#ifndef PVIO_XS_HMAP_H
#define PVIO_XS_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct xs_hentry {
	struct xs_hentry *next;
	uint32_t hash;
	const char *key; /* owned by the embedding record */
};

struct xs_hmap {
	struct xs_hentry **buckets;
	size_t nbuckets; /* power of two, or 0 before the first insert */
	size_t count;
};

void xs_hmap_init(struct xs_hmap *m);
/* Frees the bucket array only; the caller owns the entries. */
void xs_hmap_destroy(struct xs_hmap *m);
struct xs_hentry *xs_hmap_get(const struct xs_hmap *m, const char *key);
/* Inserts e (e->key set, not present yet); returns -1 when out of memory. */
int xs_hmap_put(struct xs_hmap *m, struct xs_hentry *e);
/* Makes room for n entries without further allocation. */
int xs_hmap_reserve(struct xs_hmap *m, size_t n);
void xs_hmap_del(struct xs_hmap *m, struct xs_hentry *e);

/* Iteration that tolerates deleting the current entry. */
struct xs_hmap_iter {
	const struct xs_hmap *m;
	size_t bucket;
	struct xs_hentry *next;
};
void xs_hmap_iter_init(struct xs_hmap_iter *it, const struct xs_hmap *m);
struct xs_hentry *xs_hmap_iter_next(struct xs_hmap_iter *it);

#define xs_container_of(ptr, type, member)                                     \
	((type *)((char *)(ptr)-offsetof(type, member)))

#endif
