/*
 * Internal helpers of the sim platform: the run directory layout (the
 * directory names come from pvio_sim_layout.h).
 *
 *   $PVIO_RUNDIR/dom<D>/grant-table   grant_entry_v1_t[PVIO_SIM_NR_GRANTS]
 *   $PVIO_RUNDIR/dom<D>/grant-active  per-reference bookkeeping (Xen keeps
 *                                     this private to the hypervisor)
 *   $PVIO_RUNDIR/dom<D>/grant-pages   the granted pages, frame N at N*4096
 *   $PVIO_RUNDIR/dom<D>/evtchn        the domain's port table
 *   $PVIO_RUNDIR/dom<D>/evtchn-<pid>-<n>.sock  one listening socket per
 *                                     event-channel handle
 */
#ifndef PVIO_SIM_H
#define PVIO_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <xen/xen.h>

/* Grant references per domain; refs below GNTTAB_NR_RESERVED_ENTRIES are
 * never handed out, as on Xen. */
#define PVIO_SIM_NR_GRANTS 4096u
/* Event-channel ports per domain; port 0 is never valid, as on Xen. */
#define PVIO_SIM_NR_PORTS 1024u

/*
 * Format $PVIO_RUNDIR/dom<domid>[/name] into buf. Returns 0 or
 * -ENAMETOOLONG.
 */
int pvio_sim_path(char *buf, size_t len, domid_t domid, const char *name);

/* Create the run directory and dom<domid>/ when missing. */
int pvio_sim_make_domain_dir(domid_t domid);

/*
 * Open (creating it for the own domain when create is set) a state file of
 * bytes bytes and map it shared. Returns 0, -ESRCH when the domain has no
 * such file and create is not set, or -errno.
 */
int pvio_sim_map_file(domid_t domid, const char *name, size_t bytes,
		      bool create, void **map, int *fd_out);

/* true when process pid no longer exists. */
bool pvio_sim_pid_dead(pid_t pid);

#endif
