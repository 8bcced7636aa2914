/*
 * pvio platform layer: which platform grant tables and event channels run on,
 * and the sim platform's per-process settings.
 *
 * - xen: the Xen libraries (libxengnttab with gntshr, libxenevtchn).
 * - sim: an emulation on a plain Linux host; state under a run directory.
 *
 * Environment (read when a handle is opened):
 *   PVIO_PLATFORM  xen | sim | auto (default auto: xen iff /dev/xen/evtchn
 *                  and /dev/xen/gntdev exist)
 *   PVIO_RUNDIR    sim state directory (default /run/pvio)
 *   PVIO_DOMID     this process's domain id on sim (default 0)
 */
#ifndef PVIO_PLATFORM_H
#define PVIO_PLATFORM_H

#include <stdint.h>

#include <xen/xen.h>

enum pvio_platform {
	PVIO_PLATFORM_AUTO = 0, /* resolve from PVIO_PLATFORM / /dev/xen */
	PVIO_PLATFORM_SIM = 1,
	PVIO_PLATFORM_XEN = 2,
};

#include "pvio_sim_layout.h" /* PVIO_DEFAULT_RUNDIR */

/*
 * Resolve the platform: an explicit value is returned as is; AUTO reads
 * PVIO_PLATFORM and probes /dev/xen. Returns PVIO_PLATFORM_SIM or _XEN, or
 * -EINVAL when PVIO_PLATFORM holds something else (see
 * pvio_platform_last_error()).
 */
int pvio_platform_resolve(enum pvio_platform requested);

/* "sim", "xen" or "auto". */
const char *pvio_platform_name(enum pvio_platform platform);

/* The sim run directory: PVIO_RUNDIR or /run/pvio. */
const char *pvio_sim_rundir(void);

/*
 * This process's domain id on the sim platform: PVIO_DOMID, default 0.
 * Returns 0, or -EINVAL when PVIO_DOMID is not a domain id below
 * DOMID_FIRST_RESERVED.
 */
int pvio_sim_self_domid(domid_t *domid);

/*
 * A human-readable description of the last failure of an open or
 * configuration call in this thread (what failed, where, what to do), or ""
 * when there is none. Data-path calls report only through their return
 * values.
 */
const char *pvio_platform_last_error(void);

#endif
