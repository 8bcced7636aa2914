/* Emulated NICs (type=ioemu): their xenstore directories, the device
 * model in dom0 and the driver in the guest, the hotplug script for the
 * vif<D>.<N>-emu TAP, their statistics and their teardown. The layout is
 * in docs/toolstack.md and docs/ioemu.md. */
#ifndef PVIO_TOOLS_IOEMU_NIC_H
#define PVIO_TOOLS_IOEMU_NIC_H

#include <stdbool.h>
#include <stdio.h>

#include "args.h"
#include "host.h"
#include "xenstore/xenbus.h"

/* The device model's directory and the guest's, malloc'd. */
char *ioemu_dm_path(unsigned domid, int devid);
char *ioemu_guest_path(unsigned domid, int devid);
bool ioemu_nic_exists(struct pvio_xenbus *xb, unsigned domid, int devid);

/* Where a guest process runs: its namespace and environment. */
struct ioemu_guest {
	const char *netns;
	char *const *env;
};

/*
 * Writes the directories, starts the device model, waits for its TAP,
 * runs `SCRIPT add type_if=tap`, starts the guest's driver. -1 after a
 * message, with everything undone.
 */
int ioemu_nic_attach(const struct host *host, struct pvio_xenbus *xb,
		     unsigned domid, const struct pvio_nic *nic,
		     const char *script, const char *mac,
		     const struct ioemu_guest *guest);
/* Script remove, both processes stopped, directories, files and pidfiles
 * removed. */
int ioemu_nic_detach(const struct host *host, struct pvio_xenbus *xb,
		     unsigned domid, int devid, bool quiet);
/* Every emulated NIC of domid (destroy). */
void ioemu_nic_detach_all(const struct host *host, struct pvio_xenbus *xb,
			  unsigned domid);
/* The device model's counters on out; -1 after a message. */
int ioemu_nic_print_stats(const struct host *host, FILE *out, unsigned domid,
			  int devid, const char *name);

#endif
