/* The statistics file pvio-netback keeps per vif (netif/netif_stats.h):
 * a checked snapshot of it, and its text for `pvio network-stats`. No
 * xenstore, no host: unit-tested with files the test writes. */
#ifndef PVIO_TOOLS_VIF_STATS_H
#define PVIO_TOOLS_VIF_STATS_H

#include <stddef.h>
#include <stdio.h>

#include "netif/netif_stats.h"

/*
 * A snapshot of the statistics of vif domid.devid in the file at path,
 * each counter loaded atomically (the backend updates them in place).
 * Returns 0, or -1 with a one-line message in err: no file (no backend
 * keeps the vif's statistics), not a statistics file, another version,
 * too short, or another vif's.
 */
int vif_stats_read(const char *path, unsigned domid, unsigned devid,
		   struct netif_vif_stats *out, char *err, size_t errlen);
/* The snapshot as text: a line naming the vif (and domain_name, when not
 * NULL), then indented "what: value" lines. */
void vif_stats_print(FILE *f, const struct netif_vif_stats *stats,
		     const char *domain_name);

#endif
