/* The sim platform's run directory and state files. */
#include "config.h"

#include "platform_ops.h"
#include "pvio_sim_layout.h"
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int pvio_sim_path(char *buf, size_t len, domid_t domid, const char *name)
{
	int n = snprintf(buf, len, PVIO_SIM_DOMAIN_DIR_FMT "%s%s",
			 pvio_sim_rundir(), (unsigned)domid, name ? "/" : "",
			 name ? name : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pvio_sim_make_domain_dir(domid_t domid)
{
	char path[256];
	int err;

	if (mkdir(pvio_sim_rundir(), 0755) && errno != EEXIST) {
		err = -errno;
		pvio_set_error("cannot create the sim run directory %s (set "
			       "PVIO_RUNDIR to a writable directory)",
			       pvio_sim_rundir());
		return err;
	}
	err = pvio_sim_path(path, sizeof(path), domid, NULL);
	if (err)
		return err;
	if (mkdir(path, 0755) && errno != EEXIST) {
		err = -errno;
		pvio_set_error("cannot create %s", path);
		return err;
	}
	return 0;
}

int pvio_sim_map_file(domid_t domid, const char *name, size_t bytes,
		      bool create, void **map, int *fd_out)
{
	char path[256];
	int err = pvio_sim_path(path, sizeof(path), domid, name);
	if (err)
		return err;
	if (create && (err = pvio_sim_make_domain_dir(domid)))
		return err;
	int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
	if (fd < 0)
		return errno == ENOENT && !create ? -ESRCH : -errno;
	struct stat st;
	if (fstat(fd, &st)) {
		err = -errno;
		goto fail;
	}
	/* Zero is every file's valid initial state, so whoever comes first
	 * sizes it and nobody ever initialises anything. */
	if ((size_t)st.st_size < bytes && ftruncate(fd, (off_t)bytes)) {
		err = -errno;
		goto fail;
	}
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	*map = p;
	if (fd_out)
		*fd_out = fd;
	else
		close(fd);
	return 0;
fail:
	pvio_set_error("sim state file %s: %s", path, strerror(-err));
	close(fd);
	return err;
}

bool pvio_sim_pid_dead(pid_t pid)
{
	return pid > 0 && kill(pid, 0) < 0 && errno == ESRCH;
}
