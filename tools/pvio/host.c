/* A host: its record in the run directory (<rundir>/host), the lock that
 * serialises the commands that change it, the connection to its
 * xenstored, and what lives under its run directory and in dom0's
 * namespace. */
#include "config.h"

#include "args.h"
#include "files.h"
#include "host.h"
#include "msg.h"
#include "options.h"
#include "proc.h"
#include "pvio_sim_layout.h"
#include "store.h"
#include "xenstore/xs_sockets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

char *host_file(const struct host *host, const char *name)
{
	return pvio_strfmt("%s/%s", host->rundir, name);
}

void host_export_env(const struct host *host)
{
	setenv("XENSTORED_PATH", host->xs_socket, 1);
	setenv("PVIO_RUNDIR", host->rundir, 1);
}

int host_load(struct host *host, bool quiet)
{
	memset(host, 0, sizeof(*host));
	snprintf(host->rundir, sizeof(host->rundir), "%s", g_opts.rundir);
	char *path = host_file(host, "host");
	char *text = read_text_file(path);
	free(path);
	if (!text) {
		if (!quiet)
			pvio_err("no host under %s (start one with `pvio "
				 "--rundir %s host start`)",
				 host->rundir, host->rundir);
		return -1;
	}
	char flag[8] = "";
	int rc = 0;
	rc |= kv_get(text, "id", host->id, sizeof(host->id));
	rc |= kv_get(text, "xenstored_socket", host->xs_socket,
		     sizeof(host->xs_socket));
	rc |= kv_get(text, "domain_socket_dir", host->dom_sock_dir,
		     sizeof(host->dom_sock_dir));
	rc |= kv_get(text, "bridge", host->bridge, sizeof(host->bridge));
	kv_get(text, "dom0_netns", host->dom0_netns, sizeof(host->dom0_netns));
	if (!kv_get(text, "dom0_netns_created", flag, sizeof(flag)))
		host->dom0_netns_created = !strcmp(flag, "1");
	if (!kv_get(text, "bridge_created", flag, sizeof(flag)))
		host->bridge_created = !strcmp(flag, "1");
	char num[16];
	unsigned long last;
	if (!kv_get(text, "last_domid", num, sizeof(num)) &&
	    !pvio_parse_uint(num, DOMID_FIRST_RESERVED - 1, &last))
		host->last_domid = (unsigned)last;
	free(text);
	if (rc) {
		pvio_err("%s/host is damaged: stop what it lists by hand, then "
			 "delete it",
			 host->rundir);
		return -2;
	}
	host_export_env(host);
	return 0;
}

int host_save(const struct host *host)
{
	char *text = pvio_strfmt(
		"id=%s\nxenstored_socket=%s\ndomain_socket_dir=%s\n"
		"dom0_netns=%s\ndom0_netns_created=%d\nbridge=%s\n"
		"bridge_created=%d\nlast_domid=%u\n",
		host->id, host->xs_socket, host->dom_sock_dir, host->dom0_netns,
		host->dom0_netns_created, host->bridge, host->bridge_created,
		host->last_domid);
	char *path = host_file(host, "host");
	int rc = write_text_file(path, text);
	if (rc)
		pvio_err("cannot write %s: %s", path, strerror(errno));
	free(path);
	free(text);
	return rc;
}

int host_lock(const struct host *host)
{
	char *path = host_file(host, "lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		pvio_err("cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	/* Bounded: a stuck pvio command must not hang every other one. */
	for (int i = 0; flock(fd, LOCK_EX | LOCK_NB); i++) {
		if (i >= 600) {
			pvio_err("another pvio command holds %s for 60 s; "
				 "giving up",
				 path);
			free(path);
			close(fd);
			return -1;
		}
		sleep_ms(100);
	}
	free(path);
	return fd; /* held until exit */
}

struct pvio_xenbus *host_connect(struct host *host, bool exclusive)
{
	if (host_load(host, false))
		return NULL;
	/* Read again under the lock: a stop or start may have changed the
	 * record while this command waited for it. */
	if (exclusive && (host_lock(host) < 0 || host_load(host, false)))
		return NULL;
	return pvio_store_connect();
}

/* pid runs with this host's PVIO_RUNDIR, which pvio gives everything it
 * starts. */
bool runs_for_host(const struct host *host, pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	char *want = pvio_strfmt("PVIO_RUNDIR=%s", host->rundir);
	bool found = false;
	FILE *f = fopen(path, "r");
	char *entry = NULL;
	size_t cap = 0;
	while (f && !found && getdelim(&entry, &cap, 0, f) > 0)
		found = !strcmp(entry, want);
	if (f)
		fclose(f);
	free(entry);
	free(want);
	return found;
}

/*
 * The live process a pidfile of this host names, or 0. A pidfile that
 * outlived a crash may name a pid the system has given to something else
 * since: that one is neither reported running nor stopped.
 */
static pid_t host_pidfile(const struct host *host, const char *name)
{
	char *path = host_file(host, name);
	pid_t pid = read_pidfile(path);
	free(path);
	return pid_alive(pid) && runs_for_host(host, pid) ? pid : 0;
}

pid_t xenstored_pid(const struct host *host)
{
	return host_pidfile(host, "xenstored.pid");
}

pid_t netback_pid(const struct host *host)
{
	return host_pidfile(host, "netback.pid");
}

bool host_running(const struct host *host)
{
	return xenstored_pid(host) != 0;
}

void sim_state_remove(const struct host *host, unsigned domid)
{
	char *dir = pvio_strfmt(PVIO_SIM_DOMAIN_DIR_FMT, host->rundir, domid);
	rm_tree(dir);
	free(dir);
}

/* Every domain's sim state, including what a crashed run left. */
void sim_state_remove_all(const struct host *host)
{
	DIR *dir = opendir(host->rundir);
	struct dirent *de;
	while (dir && (de = readdir(dir))) {
		const size_t plen = strlen(PVIO_SIM_DOMAIN_DIR_PREFIX);
		unsigned id;
		if (!strncmp(de->d_name, PVIO_SIM_DOMAIN_DIR_PREFIX, plen) &&
		    !pvio_parse_domid(de->d_name + plen, &id))
			sim_state_remove(host, id);
	}
	if (dir)
		closedir(dir);
}

char *domain_socket(const struct host *host, unsigned domid)
{
	return pvio_strfmt(PVIO_XS_DOMAIN_SOCKET_FMT, host->dom_sock_dir,
			   domid);
}

/* `ip [-n NETNS] ARGS...` */
int host_ip(const struct host *host, char *out, size_t outlen, ...)
{
	char *argv[16];
	int n = 0;
	argv[n++] = "ip";
	if (host->dom0_netns[0]) {
		argv[n++] = "-n";
		argv[n++] = (char *)host->dom0_netns;
	}
	va_list ap;
	va_start(ap, outlen);
	char *a;
	while ((a = va_arg(ap, char *)) && n < 15)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return run_cmd(argv, out, outlen);
}

bool link_exists(const struct host *host, const char *dev)
{
	char out[512];
	return host_ip(host, out, sizeof(out), "link", "show", "dev", dev,
		       NULL) == 0;
}
