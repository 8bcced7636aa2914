/* The per-vif statistics file (netif/netif_stats.h), mapped and updated in
 * place by the vif's worker. */
#include "config.h"

#include "netback.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct netif_vif_stats *stats_create(const char *rundir, unsigned domid,
				     unsigned devid, char *path,
				     size_t path_size)
{
	char dir[NETBACK_PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s/netback", rundir) >=
		    (int)sizeof(dir) ||
	    netif_stats_path(path, path_size, rundir, domid, devid) >=
		    (int)path_size) {
		nb_log("vif%u.%u: statistics path under %s is too long", domid,
		       devid, rundir);
		return NULL;
	}
	/* The run directory too: on Xen nothing else makes it (on sim the
	 * toolstack does), and /run is empty at boot. */
	if ((mkdir(rundir, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0755) < 0 && errno != EEXIST)) {
		nb_log("vif%u.%u: cannot create %s: %s", domid, devid, dir,
		       strerror(errno));
		return NULL;
	}
	/* A file a previous run left is started afresh. */
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		nb_log("vif%u.%u: cannot create %s: %s", domid, devid, path,
		       strerror(errno));
		return NULL;
	}
	struct netif_vif_stats *s = MAP_FAILED;
	if (ftruncate(fd, sizeof(*s)) == 0)
		s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
	int err = errno;
	close(fd);
	if (s == MAP_FAILED) {
		nb_log("vif%u.%u: cannot map %s: %s", domid, devid, path,
		       strerror(err));
		unlink(path);
		return NULL;
	}
	s->version = NETIF_STATS_VERSION;
	s->domid = domid;
	s->devid = devid;
	/* The magic last: a reader that sees it sees the rest. */
	__atomic_store_n(&s->magic, NETIF_STATS_MAGIC, __ATOMIC_RELEASE);
	return s;
}

void stats_destroy(struct netif_vif_stats *stats, const char *path)
{
	if (!stats)
		return;
	munmap(stats, sizeof(*stats));
	unlink(path);
}
