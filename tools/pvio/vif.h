/* A vif's xenstore directories, its hotplug script and its teardown: what
 * network-attach, network-detach and destroy share. */
#ifndef PVIO_TOOLS_VIF_H
#define PVIO_TOOLS_VIF_H

#include <stdbool.h>
#include <stddef.h>

#include "args.h"
#include "host.h"
#include "xenstore/xenbus.h"

/* The backend, frontend and /libxl directories of vif domid.devid. */
char *vif_be_path(unsigned domid, int devid);
char *vif_fe_path(unsigned domid, int devid);
char *vif_libxl_path(unsigned domid, int devid);
/* `SCRIPT online|offline type_if=vif` in dom0's namespace, with the
 * environment libxl gives it; its output lands in out. */
int vif_run_hotplug(const struct host *host, struct xs_handle *h,
		    unsigned domid, int devid, const char *action, char *out,
		    size_t outlen);
/* Removes the three directories and the parents left empty (a warning
 * when that fails). */
void vif_remove_nodes(struct pvio_xenbus *xb, unsigned domid, int devid);
/* libxl's teardown: Closing, wait for Closed, script offline, remove. */
int vif_detach(const struct host *host, struct pvio_xenbus *xb, unsigned domid,
	       int devid, bool quiet);
/* libxl's network-attach of nic to domain domid (dom: its name for
 * messages): checks the script, bridge, devid (the next free one unless
 * given: nic->devid is set) and names, writes the nodes, waits for the
 * backend's InitWait, runs the script online. On failure the device is
 * gone again and -1 returned after a message. */
int vif_attach(const struct host *host, struct pvio_xenbus *xb, unsigned domid,
	       const char *dom, struct pvio_nic *nic);
/* vif_attach's checks before its first write, for any NIC type: the
 * script (*script: its full path, to free), bridge, devid, names, and the
 * MAC as the store spells it (xl's random one unless given). -1 after a
 * message. */
int vif_prepare(const struct host *host, struct pvio_xenbus *xb, unsigned domid,
		const char *dom, struct pvio_nic *nic, char **script,
		char mac[18]);

#endif
