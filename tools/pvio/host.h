/* A host: its record (<rundir>/host), its lock, the connection to its
 * xenstored, the pids of its daemons, and what lives under its run
 * directory and in dom0's namespace. */
#ifndef PVIO_TOOLS_HOST_H
#define PVIO_TOOLS_HOST_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "xenstore/xenbus.h"

#define PVIO_DEFAULT_BRIDGE "xenbr0"

/* A host's state, recorded in <rundir>/host as key=value lines. */
struct host {
	char rundir[PATH_MAX];
	char id[17]; /* short random id: makes names unique */
	char xs_socket[PATH_MAX];
	char dom_sock_dir[PATH_MAX];
	char dom0_netns[64]; /* "" when dom0 is the root namespace */
	bool dom0_netns_created;
	char bridge[16];
	bool bridge_created;
	unsigned last_domid; /* the domid rover: the last one created */
};

/* Exports XENSTORED_PATH (the dom0 socket) and PVIO_RUNDIR, for pvio and
 * what it runs. */
void host_export_env(const struct host *host);
/* pid runs with this host's PVIO_RUNDIR, which pvio gives everything it
 * starts. */
bool runs_for_host(const struct host *host, pid_t pid);
/* <rundir>/name, malloc'd. */
char *host_file(const struct host *host, const char *name);
/* Reads <rundir>/host and exports XENSTORED_PATH; -1 when there is none
 * (a message unless quiet), -2 when it is damaged (always a message). */
int host_load(struct host *host, bool quiet);
int host_save(const struct host *host);
int host_lock(const struct host *host);
/*
 * The prologue of every command that works on a running host: load its
 * record, take its lock when the command changes the host (held until
 * exit), and reach its xenstored. NULL after a message.
 */
struct pvio_xenbus *host_connect(struct host *host, bool exclusive);
/* The live daemons of this host (0: none; a stale pidfile's pid, which
 * may name anything since, counts as none). */
pid_t xenstored_pid(const struct host *host);
pid_t netback_pid(const struct host *host);
bool host_running(const struct host *host);
/* Removes the sim platform's state of domid (<rundir>/dom<domid>: grant
 * table, pages, event-channel ports, sockets; layout in platform/sim.h), so
 * that nothing of a dead domain outlives it or reaches a later one. */
void sim_state_remove(const struct host *host, unsigned domid);
/* Every domain's sim state, including what a crashed run left. */
void sim_state_remove_all(const struct host *host);
/* The xenstore socket of guest domid, malloc'd. */
char *domain_socket(const struct host *host, unsigned domid);
/* `ip [-n DOM0_NETNS] ARGS... NULL`, its output in out. */
int host_ip(const struct host *host, char *out, size_t outlen, ...);
/* A network interface of that name exists in dom0's namespace. */
bool link_exists(const struct host *host, const char *dev);

#endif
