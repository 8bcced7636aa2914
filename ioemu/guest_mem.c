/* Guest memory through a mapping, every access bounds checked (pure:
 * the fuzzer and the unit tests link it alone; guest_map.c maps). */
#include "config.h"

#include "guest_mem.h"

#include <errno.h>
#include <string.h>

void *ioemu_mem_ptr(const struct ioemu_mem *m, uint64_t gpa, uint64_t len)
{
	if (!m->host || len == 0 || gpa < m->gpa_base)
		return NULL;
	uint64_t off = gpa - m->gpa_base;
	/* off + len may not wrap: compare against what is left. */
	if (off >= m->size || len > m->size - off)
		return NULL;
	return m->host + off;
}

int ioemu_mem_read(const struct ioemu_mem *m, uint64_t gpa, void *dst,
		   size_t len)
{
	const void *p = ioemu_mem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int ioemu_mem_write(const struct ioemu_mem *m, uint64_t gpa, const void *src,
		    size_t len)
{
	void *p = ioemu_mem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}
