/*
 * The sim platform's grant tables.
 *
 * Each granting domain has a table of Xen grant_entry_v1_t in a shared file
 * and a file holding the granted pages (frame N at offset N * 4096). Mapping
 * a grant maps the same file range (zero copy); copying goes through a
 * cached mapping of the whole page file. The checks are Xen's: the entry
 * must permit access to the caller's domain, read-only stays read-only, and
 * GTF_reading/GTF_writing are set with compare-and-swap on flags and domid
 * together while a mapping exists, so the granter cannot end access under
 * it.
 *
 * Copies do not touch the guest-visible flags, so that a batch costs no
 * atomic operation per segment: each copying handle owns a slot in the
 * granting domain's copier table whose sequence number is odd while a batch
 * runs. Ending access clears the entry, then waits until every slot that was
 * odd has moved on (both sequentially consistent), so a copy either sees the
 * ended entry or is waited for. Batches are short (at most a few pages per
 * segment).
 *
 * This is a faithful stand-in for tests, not a security boundary: any local
 * process can open the files.
 */
#include "config.h"

#include "platform_ops.h"
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE PVIO_GNT_PAGE_BYTES

_Static_assert(sizeof(grant_entry_v1_t) == 8, "grant_entry_v1 layout");
_Static_assert(offsetof(grant_entry_v1_t, flags) == 0, "flags first");
_Static_assert(offsetof(grant_entry_v1_t, domid) == 2, "domid second");

/* flags and domid are updated together as one 32-bit word, as Xen does. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define COMBO(flags, domid) ((uint32_t)(flags) | (uint32_t)(domid) << 16)
#define COMBO_FLAGS(w)	    ((uint16_t)(w))
#define COMBO_DOMID(w)	    ((uint16_t)((w) >> 16))
#else
#define COMBO(flags, domid) ((uint32_t)(flags) << 16 | (uint32_t)(domid))
#define COMBO_FLAGS(w)	    ((uint16_t)((w) >> 16))
#define COMBO_DOMID(w)	    ((uint16_t)(w))
#endif

#define IN_USE (GTF_reading | GTF_writing)

/* What Xen keeps privately per grant reference. */
struct sim_active {
	uint32_t owner_pid; /* sharing process; 0: reference free */
	uint32_t reserved;
	uint32_t maps_ro; /* read-only mappings (under the entry lock) */
	uint32_t maps_rw; /* writable mappings (under the entry lock) */
};

/* One copying handle's slot in a granting domain's copier table. */
struct sim_copier {
	uint32_t owner_pid; /* 0: slot free */
	uint32_t seq;	    /* odd while a copy batch runs */
	uint8_t pad[56];    /* one cache line per copier */
};
_Static_assert(sizeof(struct sim_copier) == 64, "copier slot");

#define NR_COPIERS 256u
/* How long ending access waits for copies in flight before deferring. */
#define DRAIN_SPINS 10000

/* The state files of one domain, as opened by one handle. */
struct sim_gnt_domain {
	domid_t domid;
	grant_entry_v1_t *table;
	struct sim_active *active;
	int active_fd; /* byte-range locks serialise map/unmap per entry */
	int pages_fd;
	int pages_ro_fd; /* read-only mappings: mprotect cannot make them
			    writable */
	uint8_t *pages;	 /* whole page file, for copies; mapped on first use */
	uint32_t *local_maps; /* this handle's mappings per reference */
	struct sim_copier *copiers;
	struct sim_copier *slot; /* the handle's own, once claimed */
	struct sim_gnt_domain *next_entered; /* in the running copy batch */
	bool entered;
	struct sim_gnt_domain *next;
};

static uint32_t *combo_of(grant_entry_v1_t *e)
{
	return (uint32_t *)(void *)e;
}

static void domain_close(struct sim_gnt_domain *d)
{
	if (d->pages)
		munmap(d->pages, (size_t)PVIO_SIM_NR_GRANTS * PAGE);
	munmap(d->table, PVIO_SIM_NR_GRANTS * sizeof(*d->table));
	munmap(d->active, PVIO_SIM_NR_GRANTS * sizeof(*d->active));
	if (d->slot)
		__atomic_store_n(&d->slot->owner_pid, 0, __ATOMIC_RELEASE);
	munmap(d->copiers, NR_COPIERS * sizeof(*d->copiers));
	close(d->active_fd);
	close(d->pages_fd);
	close(d->pages_ro_fd);
	free(d->local_maps);
	free(d);
}

static int domain_open(domid_t domid, bool create, struct sim_gnt_domain **out)
{
	struct sim_gnt_domain *d = calloc(1, sizeof(*d));
	void *map;
	int err;

	if (!d)
		return -ENOMEM;
	d->domid = domid;
	d->active_fd = d->pages_fd = d->pages_ro_fd = -1;
	err = pvio_sim_map_file(domid, "grant-table",
				PVIO_SIM_NR_GRANTS * sizeof(grant_entry_v1_t),
				create, &map, NULL);
	if (err)
		goto fail;
	d->table = map;
	err = pvio_sim_map_file(domid, "grant-active",
				PVIO_SIM_NR_GRANTS * sizeof(struct sim_active),
				create, &map, &d->active_fd);
	if (err)
		goto fail_table;
	d->active = map;
	err = pvio_sim_map_file(domid, "grant-copiers",
				NR_COPIERS * sizeof(struct sim_copier), create,
				&map, NULL);
	if (err)
		goto fail_active;
	d->copiers = map;
	char path[256];
	err = pvio_sim_path(path, sizeof(path), domid, "grant-pages");
	if (err)
		goto fail_copiers;
	d->pages_fd =
		open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
	if (d->pages_fd < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto fail_copiers;
	}
	if (create &&
	    ftruncate(d->pages_fd, (off_t)PVIO_SIM_NR_GRANTS * PAGE)) {
		err = -errno;
		goto fail_pages;
	}
	d->pages_ro_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->pages_ro_fd < 0) {
		err = -errno;
		goto fail_pages;
	}
	*out = d;
	return 0;
fail_pages:
	close(d->pages_fd);
fail_copiers:
	munmap(d->copiers, NR_COPIERS * sizeof(*d->copiers));
fail_active:
	munmap(d->active, PVIO_SIM_NR_GRANTS * sizeof(*d->active));
	close(d->active_fd);
fail_table:
	munmap(d->table, PVIO_SIM_NR_GRANTS * sizeof(*d->table));
fail:
	free(d);
	return err;
}

static int range_lock(int fd, off_t start, off_t len, short type, bool wait)
{
	struct flock fl = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = start,
		.l_len = len,
	};
	while (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Lock one entry's bookkeeping against other mappers; released on death. */
static int entry_lock(struct sim_gnt_domain *d, grant_ref_t ref)
{
	return range_lock(d->active_fd,
			  (off_t)ref * (off_t)sizeof(struct sim_active),
			  sizeof(struct sim_active), F_WRLCK, true);
}

static void entry_unlock(struct sim_gnt_domain *d, grant_ref_t ref)
{
	range_lock(d->active_fd, (off_t)ref * (off_t)sizeof(struct sim_active),
		   sizeof(struct sim_active), F_UNLCK, true);
}

/*
 * Every handle mapping ref holds a shared lock on one byte past the
 * bookkeeping for as long as it does. The kernel drops it when the process
 * dies, which is how the granter tells live mappings from dead ones (Xen
 * releases a destroyed domain's mappings).
 */
static off_t maplock_offset(grant_ref_t ref)
{
	return (off_t)PVIO_SIM_NR_GRANTS * (off_t)sizeof(struct sim_active) +
	       (off_t)ref;
}

/* Make the in-use flags say what the map counts say (entry locked). */
static void flags_settle(struct sim_gnt_domain *d, grant_ref_t ref)
{
	struct sim_active *a = &d->active[ref];
	uint16_t clear = 0;

	if (!a->maps_rw)
		clear |= GTF_writing;
	if (!a->maps_rw && !a->maps_ro)
		clear |= GTF_reading;
	if (clear)
		__atomic_fetch_and(combo_of(&d->table[ref]), ~COMBO(clear, 0),
				   __ATOMIC_SEQ_CST);
}

/*
 * Drop the pins of mappers that died. Returns true when none is alive (the
 * in-use flags are then clear).
 */
static bool drop_dead_pins(struct sim_gnt_domain *d, grant_ref_t ref)
{
	bool all_dead = false;

	if (entry_lock(d, ref))
		return false;
	if (range_lock(d->active_fd, maplock_offset(ref), 1, F_WRLCK, false) ==
	    0) {
		d->active[ref].maps_ro = d->active[ref].maps_rw = 0;
		flags_settle(d, ref);
		range_lock(d->active_fd, maplock_offset(ref), 1, F_UNLCK,
			   false);
		all_dead = true;
	}
	entry_unlock(d, ref);
	return all_dead;
}

/* Free a page's memory; the next share of the frame starts zeroed. */
static void frame_discard(struct sim_gnt_domain *d, uint32_t frame)
{
	fallocate(d->pages_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		  (off_t)frame * PAGE, PAGE);
}

/*
 * Map count frames of d's page file at one contiguous address, one mmap per
 * run of consecutive frames. Without PROT_WRITE the frames come through a
 * read-only descriptor, so that the kernel refuses to make them writable
 * later (mprotect), as Xen refuses to for a read-only grant.
 */
static int map_frames(struct sim_gnt_domain *d, const uint32_t *frames,
		      uint32_t count, int prot, void **addr)
{
	size_t bytes = (size_t)count * PAGE;
	int fd = prot & PROT_WRITE ? d->pages_fd : d->pages_ro_fd;
	uint8_t *base =
		mmap(NULL, bytes, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	for (uint32_t i = 0; i < count;) {
		uint32_t run = 1;
		while (i + run < count && frames[i + run] == frames[i] + run)
			run++;
		if (mmap(base + (size_t)i * PAGE, (size_t)run * PAGE, prot,
			 MAP_SHARED | MAP_FIXED, fd,
			 (off_t)frames[i] * PAGE) == MAP_FAILED) {
			int err = -errno;
			munmap(base, bytes);
			return err;
		}
		i += run;
	}
	*addr = base;
	return 0;
}

/* ---- granting side ---- */

struct share_region {
	uint8_t *addr;
	uint32_t count;
	struct share_region *next;
	grant_ref_t refs[];
};

struct sim_gntshr {
	struct pvio_gntshr base;
	domid_t self;
	uint32_t pid;
	struct sim_gnt_domain *dom;
	struct share_region *regions;
	grant_ref_t *deferred; /* ended while mapped: retried later */
	uint32_t nr_deferred;
};

#define SHR(h) ((struct sim_gntshr *)(void *)(h))

static bool ref_claim(struct sim_gnt_domain *d, grant_ref_t ref, uint32_t pid)
{
	uint32_t expected = 0;
	return __atomic_compare_exchange_n(&d->active[ref].owner_pid, &expected,
					   pid, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

static void ref_release(struct sim_gnt_domain *d, grant_ref_t ref)
{
	__atomic_store_n(&d->active[ref].owner_pid, 0, __ATOMIC_RELEASE);
}

/*
 * Clear ref's entry unless a mapping holds it: 0, or -EBUSY. An entry this
 * sharer already cleared stays cleared.
 */
static int ref_clear(struct sim_gnt_domain *d, grant_ref_t ref)
{
	uint32_t *w = combo_of(&d->table[ref]);
	uint32_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST);

	bool dropped = false;

	while (old) {
		if (COMBO_FLAGS(old) & IN_USE) {
			/* Once: a live mapper may map again meanwhile. */
			if (dropped || !drop_dead_pins(d, ref))
				return -EBUSY;
			dropped = true;
			old = __atomic_load_n(w, __ATOMIC_SEQ_CST);
			continue;
		}
		if (__atomic_compare_exchange_n(w, &old, 0, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			break;
	}
	return 0;
}

/*
 * Wait for the copy batches running now to finish: after entries were
 * cleared, later batches see them cleared. Returns 0, or -EBUSY when a live
 * copier takes too long (the caller retries later).
 */
static int copiers_drain(struct sim_gnt_domain *d)
{
	for (unsigned i = 0; i < NR_COPIERS; i++) {
		struct sim_copier *c = &d->copiers[i];
		uint32_t seq = __atomic_load_n(&c->seq, __ATOMIC_SEQ_CST);
		if (!(seq & 1))
			continue;
		for (int spins = 0;
		     __atomic_load_n(&c->seq, __ATOMIC_SEQ_CST) == seq;
		     spins++) {
			if (spins < DRAIN_SPINS) {
				sched_yield();
				continue;
			}
			uint32_t owner = __atomic_load_n(&c->owner_pid,
							 __ATOMIC_ACQUIRE);
			if (owner && !pvio_sim_pid_dead((pid_t)owner))
				return -EBUSY;
			/* It died mid-batch: its batch is over. */
			__atomic_compare_exchange_n(&c->seq, &seq, seq + 1,
						    false, __ATOMIC_SEQ_CST,
						    __ATOMIC_SEQ_CST);
			break;
		}
	}
	return 0;
}

/* The reference is unused and unreachable: free its page and itself. */
static void ref_free(struct sim_gnt_domain *d, grant_ref_t ref)
{
	frame_discard(d, ref);
	ref_release(d, ref);
}

/* End access to one reference: 0 when free again, -EBUSY to retry later. */
static int ref_end(struct sim_gnt_domain *d, grant_ref_t ref)
{
	if (ref_clear(d, ref) || copiers_drain(d))
		return -EBUSY;
	ref_free(d, ref);
	return 0;
}

/*
 * Take back references whose sharer died and that nobody maps: clear them
 * all, wait for copies once, then free each one that is still the dead
 * process's (another process may be reclaiming at the same time).
 */
static void reclaim_dead_owners(struct sim_gnt_domain *d, uint32_t self_pid)
{
	bool any = false;

	for (grant_ref_t ref = GNTTAB_NR_RESERVED_ENTRIES;
	     ref < PVIO_SIM_NR_GRANTS; ref++) {
		uint32_t owner = __atomic_load_n(&d->active[ref].owner_pid,
						 __ATOMIC_ACQUIRE);
		if (owner && pvio_sim_pid_dead((pid_t)owner) &&
		    ref_clear(d, ref) == 0)
			any = true;
	}
	if (!any || copiers_drain(d))
		return;
	for (grant_ref_t ref = GNTTAB_NR_RESERVED_ENTRIES;
	     ref < PVIO_SIM_NR_GRANTS; ref++) {
		uint32_t owner = __atomic_load_n(&d->active[ref].owner_pid,
						 __ATOMIC_ACQUIRE);
		if (!owner || !pvio_sim_pid_dead((pid_t)owner) ||
		    __atomic_load_n(combo_of(&d->table[ref]), __ATOMIC_SEQ_CST))
			continue;
		/* Take it over first, so that nobody else frees it twice. */
		if (__atomic_compare_exchange_n(
			    &d->active[ref].owner_pid, &owner, self_pid, false,
			    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			ref_free(d, ref);
	}
}

/* Claim count free references, consecutive when possible. */
static int refs_claim(struct sim_gntshr *h, uint32_t count, grant_ref_t *refs)
{
	struct sim_gnt_domain *d = h->dom;
	const grant_ref_t first = GNTTAB_NR_RESERVED_ENTRIES;

	for (grant_ref_t start = first; start + count <= PVIO_SIM_NR_GRANTS;) {
		uint32_t got = 0;
		while (got < count && ref_claim(d, start + got, h->pid))
			got++;
		if (got == count) {
			for (uint32_t i = 0; i < count; i++)
				refs[i] = start + i;
			return 0;
		}
		for (uint32_t i = 0; i < got; i++)
			ref_release(d, start + i);
		start += got + 1;
	}
	for (int pass = 0; pass < 2; pass++) {
		uint32_t got = 0;
		for (grant_ref_t ref = first;
		     ref < PVIO_SIM_NR_GRANTS && got < count; ref++)
			if (ref_claim(d, ref, h->pid))
				refs[got++] = ref;
		if (got == count)
			return 0;
		for (uint32_t i = 0; i < got; i++)
			ref_release(d, refs[i]);
		if (pass == 0)
			reclaim_dead_owners(d, h->pid);
	}
	return -ENOSPC;
}

static int sim_gntshr_open(struct pvio_gntshr **out)
{
	struct sim_gntshr *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	if ((err = pvio_sim_self_domid(&h->self)) ||
	    (err = domain_open(h->self, true, &h->dom))) {
		free(h);
		return err;
	}
	h->pid = (uint32_t)getpid();
	h->base.ops = &pvio_sim_gntshr_ops;
	*out = &h->base;
	return 0;
}

static int sim_gntshr_reclaim(struct pvio_gntshr *base)
{
	struct sim_gntshr *h = SHR(base);
	uint32_t kept = 0;

	for (uint32_t i = 0; i < h->nr_deferred; i++)
		if (ref_end(h->dom, h->deferred[i]))
			h->deferred[kept++] = h->deferred[i];
	h->nr_deferred = kept;
	return (int)kept;
}

static int defer_ref(struct sim_gntshr *h, grant_ref_t ref)
{
	grant_ref_t *n =
		realloc(h->deferred, (h->nr_deferred + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	h->deferred = n;
	h->deferred[h->nr_deferred++] = ref;
	return 0;
}

static int sim_gntshr_share(struct pvio_gntshr *base, domid_t domid,
			    uint32_t count, bool writable, grant_ref_t *refs,
			    void **addr)
{
	struct sim_gntshr *h = SHR(base);
	struct sim_gnt_domain *d = h->dom;
	struct share_region *r;
	int err;

	if (count > PVIO_SIM_NR_GRANTS - GNTTAB_NR_RESERVED_ENTRIES)
		return -ENOSPC; /* more than the table holds: gntalloc's answer
				 */
	sim_gntshr_reclaim(base);
	r = malloc(sizeof(*r) + count * sizeof(r->refs[0]));
	if (!r)
		return -ENOMEM;
	if ((err = refs_claim(h, count, r->refs))) {
		free(r);
		return err;
	}
	for (uint32_t i = 0; i < count; i++)
		frame_discard(d, r->refs[i]); /* fresh zeroed pages */
	/* frame == ref: the sim's guest-physical layout of granted pages. */
	err = map_frames(d, r->refs, count, PROT_READ | PROT_WRITE,
			 (void **)&r->addr);
	if (err) {
		for (uint32_t i = 0; i < count; i++)
			ref_release(d, r->refs[i]);
		free(r);
		return err;
	}
	uint16_t flags = GTF_permit_access | (writable ? 0 : GTF_readonly);
	for (uint32_t i = 0; i < count; i++) {
		grant_entry_v1_t *e = &d->table[r->refs[i]];
		e->frame = r->refs[i];
		/* Publish flags last, as a guest must. */
		__atomic_store_n(combo_of(e), COMBO(flags, domid),
				 __ATOMIC_RELEASE);
		refs[i] = r->refs[i];
	}
	r->count = count;
	r->next = h->regions;
	h->regions = r;
	*addr = r->addr;
	return 0;
}

static int sim_gntshr_unshare(struct pvio_gntshr *base, void *addr,
			      uint32_t count)
{
	struct sim_gntshr *h = SHR(base);
	struct share_region **pp = &h->regions, *r;
	int ret = 0;

	while ((r = *pp) && r->addr != addr)
		pp = &r->next;
	if (!r || r->count != count)
		return -EINVAL;
	*pp = r->next;
	munmap(r->addr, (size_t)count * PAGE);
	sim_gntshr_reclaim(base);
	/* Clear every entry first, so that one drain covers them all. */
	uint32_t cleared = 0;
	for (uint32_t i = 0; i < count; i++) {
		if (ref_clear(h->dom, r->refs[i]) == 0) {
			r->refs[cleared++] = r->refs[i];
			continue;
		}
		if (defer_ref(h, r->refs[i]))
			ret = -ENOMEM;
	}
	bool drained = copiers_drain(h->dom) == 0;
	for (uint32_t i = 0; i < cleared; i++) {
		if (drained) {
			ref_free(h->dom, r->refs[i]);
			continue;
		}
		if (defer_ref(h, r->refs[i]))
			ret = -ENOMEM;
	}
	free(r);
	return ret;
}

static void sim_gntshr_close(struct pvio_gntshr *base)
{
	struct sim_gntshr *h = SHR(base);

	while (h->regions)
		sim_gntshr_unshare(base, h->regions->addr, h->regions->count);
	/* Still-mapped references stay granted; once this process is gone
	 * a later share reclaims them when their mappings are dropped. */
	sim_gntshr_reclaim(base);
	free(h->deferred);
	domain_close(h->dom);
	free(h);
}

const struct pvio_gntshr_ops pvio_sim_gntshr_ops = {
	.open = sim_gntshr_open,
	.close = sim_gntshr_close,
	.share = sim_gntshr_share,
	.unshare = sim_gntshr_unshare,
	.reclaim = sim_gntshr_reclaim,
};

/* ---- mapping and copying side ---- */

struct map_region {
	uint8_t *addr;
	uint32_t count;
	bool writable;
	struct sim_gnt_domain *dom;
	struct map_region *next;
	grant_ref_t refs[];
};

struct sim_gnttab {
	struct pvio_gnttab base;
	domid_t self;
	uint32_t pid;
	struct sim_gnt_domain *doms;
	struct sim_gnt_domain *last; /* most recently used, for copies */
	struct sim_gnt_domain *entered;
	struct map_region *maps;
};

#define TAB(h) ((struct sim_gnttab *)(void *)(h))

static int gnttab_domain(struct sim_gnttab *h, domid_t domid,
			 struct sim_gnt_domain **out)
{
	struct sim_gnt_domain *d = h->last;

	if (d && d->domid == domid) {
		*out = d;
		return 0;
	}
	for (d = h->doms; d; d = d->next)
		if (d->domid == domid) {
			*out = h->last = d;
			return 0;
		}
	int err = domain_open(domid, false, &d);
	if (err)
		return err;
	d->next = h->doms;
	h->doms = d;
	*out = h->last = d;
	return 0;
}

/* Check an entry for access by self; returns 0 or a GNTST_* code. */
static int16_t entry_check(uint32_t combo, domid_t self, bool write)
{
	uint16_t flags = COMBO_FLAGS(combo);

	/* Xen's answer to all three (_set_status_v1): a general error. */
	if ((flags & GTF_type_mask) != GTF_permit_access)
		return GNTST_general_error;
	if (COMBO_DOMID(combo) != self)
		return GNTST_general_error;
	if (write && (flags & GTF_readonly))
		return GNTST_general_error;
	return GNTST_okay;
}

/* Every refused map is -EINVAL, as Linux's gntdev reports them on Xen. */
static int gntst_errno(int16_t st)
{
	return st == GNTST_okay ? 0 : -EINVAL;
}

/* Pin ref for a mapping: mark it in use in the guest-visible flags. */
static int ref_pin(struct sim_gnt_domain *d, grant_ref_t ref, domid_t self,
		   bool writable, uint32_t *frame)
{
	uint32_t *w = combo_of(&d->table[ref]);
	int err;

	if (!d->local_maps &&
	    !(d->local_maps = calloc(PVIO_SIM_NR_GRANTS, sizeof(uint32_t))))
		return -ENOMEM;
	if ((err = entry_lock(d, ref)))
		return err;
	if (d->local_maps[ref] == 0 &&
	    (err = range_lock(d->active_fd, maplock_offset(ref), 1, F_RDLCK,
			      true)))
		goto out;
	uint32_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST);
	for (;;) {
		err = gntst_errno(entry_check(old, self, writable));
		if (err)
			goto unlock_map;
		uint16_t flags = COMBO_FLAGS(old) | GTF_reading |
				 (writable ? GTF_writing : 0);
		if (__atomic_compare_exchange_n(
			    w, &old, COMBO(flags, COMBO_DOMID(old)), false,
			    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			break;
	}
	*frame = __atomic_load_n(&d->table[ref].frame, __ATOMIC_ACQUIRE);
	if (*frame >= PVIO_SIM_NR_GRANTS) {
		err = -EINVAL; /* GNTST_bad_page: the granter wrote garbage */
		flags_settle(d, ref);
		goto unlock_map;
	}
	if (writable)
		d->active[ref].maps_rw++;
	else
		d->active[ref].maps_ro++;
	d->local_maps[ref]++;
	goto out;
unlock_map:
	if (d->local_maps[ref] == 0)
		range_lock(d->active_fd, maplock_offset(ref), 1, F_UNLCK,
			   false);
out:
	entry_unlock(d, ref);
	return err;
}

static void ref_unpin(struct sim_gnt_domain *d, grant_ref_t ref, bool writable)
{
	struct sim_active *a = &d->active[ref];

	if (entry_lock(d, ref))
		return;
	if (writable && a->maps_rw)
		a->maps_rw--;
	else if (!writable && a->maps_ro)
		a->maps_ro--;
	flags_settle(d, ref);
	if (d->local_maps[ref] && --d->local_maps[ref] == 0)
		range_lock(d->active_fd, maplock_offset(ref), 1, F_UNLCK,
			   false);
	entry_unlock(d, ref);
}

static int sim_gnttab_open(struct pvio_gnttab **out)
{
	struct sim_gnttab *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	if ((err = pvio_sim_self_domid(&h->self))) {
		free(h);
		return err;
	}
	h->pid = (uint32_t)getpid();
	h->base.ops = &pvio_sim_gnttab_ops;
	*out = &h->base;
	return 0;
}

static int sim_gnttab_map(struct pvio_gnttab *base, domid_t domid,
			  uint32_t count, const grant_ref_t *refs,
			  bool writable, void **addr)
{
	struct sim_gnttab *h = TAB(base);
	struct sim_gnt_domain *d;
	struct map_region *r;
	uint32_t *frames;
	uint32_t pinned = 0;
	int err;

	if (count > PVIO_SIM_NR_GRANTS)
		return -EINVAL;
	if ((err = gnttab_domain(h, domid, &d)))
		return err == -ESRCH ? -EINVAL : err; /* gntdev's answer */
	for (uint32_t i = 0; i < count; i++)
		if (refs[i] >= PVIO_SIM_NR_GRANTS)
			return -EINVAL;
	r = malloc(sizeof(*r) + count * sizeof(r->refs[0]));
	frames = malloc(count * sizeof(*frames));
	if (!r || !frames) {
		err = -ENOMEM;
		goto fail;
	}
	for (; pinned < count; pinned++)
		if ((err = ref_pin(d, refs[pinned], h->self, writable,
				   &frames[pinned])))
			goto fail;
	err = map_frames(d, frames, count,
			 writable ? PROT_READ | PROT_WRITE : PROT_READ,
			 (void **)&r->addr);
	if (err)
		goto fail;
	memcpy(r->refs, refs, count * sizeof(*refs));
	r->count = count;
	r->writable = writable;
	r->dom = d;
	r->next = h->maps;
	h->maps = r;
	free(frames);
	*addr = r->addr;
	return 0;
fail:
	while (pinned--)
		ref_unpin(d, refs[pinned], writable);
	free(frames);
	free(r);
	return err;
}

static int sim_gnttab_unmap(struct pvio_gnttab *base, void *addr,
			    uint32_t count)
{
	struct sim_gnttab *h = TAB(base);
	struct map_region **pp = &h->maps, *r;

	while ((r = *pp) && r->addr != addr)
		pp = &r->next;
	if (!r || r->count != count)
		return -EINVAL;
	*pp = r->next;
	munmap(r->addr, (size_t)count * PAGE);
	for (uint32_t i = 0; i < count; i++)
		ref_unpin(r->dom, r->refs[i], r->writable);
	free(r);
	return 0;
}

/* Claim a copier slot in d's table, taking back slots of dead processes. */
static int copier_claim(struct sim_gnttab *h, struct sim_gnt_domain *d)
{
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < NR_COPIERS; i++) {
			struct sim_copier *c = &d->copiers[i];
			uint32_t expected = 0;
			if (__atomic_compare_exchange_n(
				    &c->owner_pid, &expected, h->pid, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
				d->slot = c;
				return 0;
			}
		}
		for (unsigned i = 0; i < NR_COPIERS; i++) {
			struct sim_copier *c = &d->copiers[i];
			uint32_t owner = __atomic_load_n(&c->owner_pid,
							 __ATOMIC_ACQUIRE);
			uint32_t seq =
				__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
			if (!owner || !pvio_sim_pid_dead((pid_t)owner))
				continue;
			if (seq & 1)
				__atomic_compare_exchange_n(
					&c->seq, &seq, seq + 1, false,
					__ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
			__atomic_compare_exchange_n(&c->owner_pid, &owner, 0,
						    false, __ATOMIC_ACQ_REL,
						    __ATOMIC_RELAXED);
		}
	}
	return -ENOSPC;
}

/* Mark a copy batch running against d (once per batch and domain). */
static int copier_enter(struct sim_gnttab *h, struct sim_gnt_domain *d)
{
	if (d->entered)
		return 0;
	if (!d->slot && copier_claim(h, d))
		return -ENOSPC;
	uint32_t seq = d->slot->seq + 1;
	/* Sequentially consistent: ordered before the entry loads. */
	__atomic_store_n(&d->slot->seq, seq, __ATOMIC_SEQ_CST);
	d->entered = true;
	d->next_entered = h->entered;
	h->entered = d;
	return 0;
}

static void copiers_leave(struct sim_gnttab *h)
{
	while (h->entered) {
		struct sim_gnt_domain *d = h->entered;
		h->entered = d->next_entered;
		d->entered = false;
		__atomic_store_n(&d->slot->seq, d->slot->seq + 1,
				 __ATOMIC_RELEASE);
	}
}

/*
 * Make domid's pages reachable for this batch: open the domain, map its page
 * file, mark the batch running there. The fast path skips this while
 * segments keep naming the same domain.
 */
static int16_t copy_domain(struct sim_gnttab *h, domid_t domid,
			   struct sim_gnt_domain **out)
{
	struct sim_gnt_domain *d;

	if (domid >= DOMID_FIRST_RESERVED || gnttab_domain(h, domid, &d))
		return GNTST_bad_domain;
	if (!d->pages) {
		void *p = mmap(NULL, (size_t)PVIO_SIM_NR_GRANTS * PAGE,
			       PROT_READ | PROT_WRITE, MAP_SHARED, d->pages_fd,
			       0);
		if (p == MAP_FAILED)
			return GNTST_general_error;
		d->pages = p;
	}
	if (copier_enter(h, d))
		return GNTST_no_space;
	*out = d;
	return GNTST_okay;
}

/* Resolve one foreign side of a copy segment to a pointer into the page. */
static inline __attribute__((always_inline)) int16_t
copy_resolve(struct sim_gnttab *h, domid_t domid, grant_ref_t ref,
	     uint16_t offset, uint16_t len, bool write, uint8_t **ptr)
{
	struct sim_gnt_domain *d = h->last;
	int16_t st;

	if ((uint32_t)offset + len > PAGE)
		return GNTST_bad_copy_arg;
	if (__builtin_expect(!d || d->domid != domid || !d->entered, 0) &&
	    (st = copy_domain(h, domid, &d)))
		return st;
	if (ref >= PVIO_SIM_NR_GRANTS)
		return GNTST_bad_gntref;
	uint32_t combo =
		__atomic_load_n(combo_of(&d->table[ref]), __ATOMIC_SEQ_CST);
	st = entry_check(combo, h->self, write);
	if (st != GNTST_okay)
		return st;
	uint32_t frame = d->table[ref].frame;
	if (frame >= PVIO_SIM_NR_GRANTS)
		return GNTST_bad_page;
	*ptr = d->pages + (size_t)frame * PAGE + offset;
	return GNTST_okay;
}

static int16_t copy_one(struct sim_gnttab *h, pvio_gnt_copy_seg_t *s)
{
	uint8_t *src = s->source.virt, *dst = s->dest.virt;
	int16_t st;

	/* Linux's gntdev refuses local-to-local copies. */
	if (!(s->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)))
		return GNTST_bad_copy_arg;

	if (s->flags & GNTCOPY_source_gref) {
		st = copy_resolve(
			h, s->source.foreign.domid, s->source.foreign.ref,
			s->source.foreign.offset, s->len, false, &src);
		if (st)
			return st;
	}
	if (s->flags & GNTCOPY_dest_gref) {
		st = copy_resolve(h, s->dest.foreign.domid, s->dest.foreign.ref,
				  s->dest.foreign.offset, s->len, true, &dst);
		if (st)
			return st;
	}
	if (s->len && (!src || !dst))
		return GNTST_bad_virt_addr;
	memmove(dst, src, s->len);
	return GNTST_okay;
}

static int sim_gnttab_copy(struct pvio_gnttab *base, uint32_t count,
			   pvio_gnt_copy_seg_t *segs)
{
	struct sim_gnttab *h = TAB(base);

	for (uint32_t i = 0; i < count; i++)
		segs[i].status = copy_one(h, &segs[i]);
	copiers_leave(h);
	return 0;
}

static void sim_gnttab_close(struct pvio_gnttab *base)
{
	struct sim_gnttab *h = TAB(base);

	while (h->maps)
		sim_gnttab_unmap(base, h->maps->addr, h->maps->count);
	while (h->doms) {
		struct sim_gnt_domain *d = h->doms;
		h->doms = d->next;
		domain_close(d);
	}
	free(h);
}

const struct pvio_gnttab_ops pvio_sim_gnttab_ops = {
	.open = sim_gnttab_open,
	.close = sim_gnttab_close,
	.map = sim_gnttab_map,
	.unmap = sim_gnttab_unmap,
	.copy = sim_gnttab_copy,
};
