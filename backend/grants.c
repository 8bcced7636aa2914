/*
 * Persistent grants (feature-pvio-persistent-grants, both ends): a queue
 * keeps the mappings of the frontend's pages it was handed, one table per
 * direction, until it stops. Mapping a page costs about what copying it
 * does (docs/performance.md), so it is only worth it kept.
 */
#include "config.h"

#include "netback.h"

#include <string.h>

void map_cache_init(struct nb_map_cache *c, bool writable, uint64_t *counter,
		    const char *what)
{
	memset(c->maps, 0, sizeof(c->maps));
	c->nr = 0;
	c->writable = writable;
	c->logged = false;
	c->counter = counter;
	c->what = what;
}

uint8_t *map_cache_get(struct vif_queue *q, struct nb_map_cache *c,
		       grant_ref_t ref)
{
	struct vif *vif = q->vif;
	_Static_assert(NETBACK_MAP_SLOTS == 1u << 10, "hash: 10 bits");
	unsigned slot =
		(unsigned)((ref * 0x9e3779b1u) >> 22) & (NETBACK_MAP_SLOTS - 1);
	for (;; slot = (slot + 1) & (NETBACK_MAP_SLOTS - 1)) {
		struct nb_mapping *m = &c->maps[slot];
		if (!m->page)
			break;
		if (m->ref == ref)
			return m->page;
	}
	if (c->nr >= NETBACK_MAPS_MAX)
		return NULL;
	void *page;
	stat_add(&vif->stats->syscalls, 1);
	int rc = pvio_gnttab_map(q->gnttab, (domid_t)vif->domid, 1, &ref,
				 c->writable, &page);
	if (rc) {
		if (!c->logged) {
			c->logged = true;
			vif_log(vif,
				"%s gref %u: map refused: %s; packets naming "
				"it are grant-copied (and fail there if it is "
				"not granted)",
				c->what, ref, strerror(-rc));
		}
		return NULL;
	}
	c->maps[slot] = (struct nb_mapping){ref, page};
	c->nr++;
	stat_add(c->counter, 1);
	return page;
}

void map_cache_clear(struct vif_queue *q, struct nb_map_cache *c)
{
	for (unsigned i = 0; i < NETBACK_MAP_SLOTS && c->nr; i++) {
		struct nb_mapping *m = &c->maps[i];
		if (!m->page)
			continue;
		pvio_gnttab_unmap(q->gnttab, m->page, 1);
		m->page = NULL;
		c->nr--;
	}
}
