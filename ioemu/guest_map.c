/* Guest memory mappings: the shared files of the sim platform (and, on
 * real Xen, where xenforeignmemory_map will go). */
#include "config.h"

#include "guest_mem.h"
#include "ioemu_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int ioemu_map_file(const char *path, size_t bytes, int create, void **out)
{
	int fd = open(path,
		      O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0),
		      0600);
	if (fd < 0)
		return -errno;
	int err = 0;
	if (create) {
		if (ftruncate(fd, (off_t)bytes))
			err = -errno;
	} else {
		struct stat st;
		if (fstat(fd, &st))
			err = -errno;
		else if ((uint64_t)st.st_size < bytes)
			err = -EINVAL;
	}
	if (!err) {
		void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, 0);
		if (p == MAP_FAILED)
			err = -errno;
		else
			*out = p;
	}
	close(fd);
	return err;
}

void ioemu_unmap_file(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

int ioemu_mem_map_guest(enum pvio_platform platform, domid_t domid,
			unsigned devid, uint64_t gpa_base, uint64_t size,
			struct ioemu_mem *out)
{
	int plat = pvio_platform_resolve(platform);
	if (plat < 0)
		return plat;
	if (plat != PVIO_PLATFORM_SIM)
		return -EOPNOTSUPP; /* xenforeignmemory_map goes here */
	if (size == 0 || size > (1ull << 32))
		return -EINVAL;
	char path[512];
	if (snprintf(path, sizeof(path), IOEMU_SIM_RAM_FMT, pvio_sim_rundir(),
		     (unsigned)domid, devid) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	void *p;
	int err = ioemu_map_file(path, (size_t)size, 0, &p);
	if (err)
		return err;
	*out = (struct ioemu_mem){
		.host = p, .gpa_base = gpa_base, .size = size};
	return 0;
}

void ioemu_mem_unmap_guest(struct ioemu_mem *m)
{
	ioemu_unmap_file(m->host, (size_t)m->size);
	m->host = NULL;
}
