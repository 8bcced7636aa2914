/*
 * Guest memory as the device model reaches it: a mapping of the guest's
 * region, addressed by guest-physical address. Every access is bounds
 * checked: a descriptor that points outside the region gets -EFAULT, never
 * a stray access in the device model.
 *
 * On sim the region is a file the guest created under the run directory
 * (ioemu_layout.h); on real Xen it would be xenforeignmemory_map of the
 * guest's frames behind the same calls.
 *
 * The guest may change its memory at any moment: callers copy what they
 * validate (ioemu_mem_read) rather than validating in place.
 */
#ifndef PVIO_IOEMU_GUEST_MEM_H
#define PVIO_IOEMU_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "pvio_platform.h"

struct ioemu_mem {
	uint8_t *host;	   /* where the region is mapped here */
	uint64_t gpa_base; /* its first guest-physical address */
	uint64_t size;	   /* bytes */
};

/* The host address of [gpa, gpa + len) when all of it is in the region,
 * else NULL (len 0 included: nothing to point at). */
void *ioemu_mem_ptr(const struct ioemu_mem *m, uint64_t gpa, uint64_t len);
/* Copy from / to guest memory; 0 or -EFAULT (nothing copied). */
int ioemu_mem_read(const struct ioemu_mem *m, uint64_t gpa, void *dst,
		   size_t len);
int ioemu_mem_write(const struct ioemu_mem *m, uint64_t gpa, const void *src,
		    size_t len);

/*
 * Map an existing shared file of at least bytes bytes (the device model's
 * side), or create one of exactly bytes bytes (create: the guest's side,
 * which owns it). Returns the mapping in *out or -errno; -EINVAL when an
 * existing file is smaller than bytes.
 */
int ioemu_map_file(const char *path, size_t bytes, int create, void **out);
void ioemu_unmap_file(void *p, size_t bytes);

/*
 * The device model's view of emulated NIC devid of guest domid: its memory
 * region on platform (sim: the file ioemu_layout.h names). -EOPNOTSUPP on
 * xen (foreign mapping is not wired up yet), else 0 or -errno.
 */
int ioemu_mem_map_guest(enum pvio_platform platform, domid_t domid,
			unsigned devid, uint64_t gpa_base, uint64_t size,
			struct ioemu_mem *out);
void ioemu_mem_unmap_guest(struct ioemu_mem *m);

#endif
