/* Guest domains: ids and names in the store, records in the run
 * directory, the identity of what runs in them, their destruction. */
#ifndef PVIO_TOOLS_DOMAIN_H
#define PVIO_TOOLS_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <xenstore.h>

#include "args.h"
#include "host.h"
#include "xenstore/xenbus.h"

/* The domids the store lists, sorted; at most max. */
int domain_ids(struct xs_handle *h, unsigned *ids, int max);
/* Resolves a name or domid; -1 (after an error message) when unknown. */
int resolve_domain(struct xs_handle *h, const char *dom, unsigned *domid);
/* <rundir>/domains/<domid>, malloc'd. */
char *domain_record_path(const struct host *host, unsigned domid);
/* The namespace of guest domid (from its record). */
void guest_netns(const struct host *host, unsigned domid, char *out,
		 size_t len);
/* The environment ("K=V", malloc'd, NULL-ended in env[3]) of a process
 * that runs as domid: PVIO_DOMID, XENSTORED_PATH, PVIO_RUNDIR. */
void guest_env(const struct host *host, unsigned domid, char **env);
/* A destroy of domid has begun (its record says dying). */
bool domain_dying(const struct host *host, unsigned domid);
/* Detaches its vifs, releases it, kills its processes, removes its
 * namespace, sim state, nodes and record. xb may be NULL (no xenstored).
 * -1 after a message when xenstored did not release it: the nodes and
 * the record then stay. */
int domain_destroy(const struct host *host, struct pvio_xenbus *xb,
		   unsigned domid);
/* network-attach: nic's backend resolved (Domain-0 only on sim), then
 * vif_attach, or for type=ioemu the same checks (vif_prepare) and
 * ioemu_nic_attach. -1 after a message. */
int domain_attach_vif(const struct host *host, struct pvio_xenbus *xb,
		      unsigned domid, const char *dom, struct pvio_nic *nic);

#endif
