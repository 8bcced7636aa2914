/*
 * pvio-xenstored per-domain accounting: the memory a guest makes the
 * daemon hold for it (transaction copies, queued replies and events,
 * watches), its open transactions and its watches, counted per domain
 * over all its connections (as C xenstored does), so that more
 * connections buy a guest nothing. dom0 is not limited.
 */
#include "config.h"

#include "xs_core_int.h"

#include <string.h>

/* The domain c's charges go to, or NULL (dom0, or a released domain,
 * whose connections hold nothing any more). */
static struct domain *charged_domain(const struct xsd_conn *c)
{
	return c->privileged ? NULL : domain_find(c->d, c->domid);
}

int account_memory(struct xsd_conn *c, size_t bytes, bool force)
{
	struct domain *dom = charged_domain(c);
	if (!dom)
		return 0;
	if (!force && dom->memory + bytes > c->d->quota.memory)
		return ENOMEM;
	dom->memory += bytes;
	return 0;
}

void unaccount_memory(struct xsd_conn *c, size_t bytes)
{
	struct domain *dom = charged_domain(c);
	if (dom)
		dom->memory -= bytes < dom->memory ? bytes : dom->memory;
}

bool domain_over_memory(const struct xsd_conn *c)
{
	const struct domain *dom = charged_domain(c);
	return dom && dom->memory > c->d->quota.memory;
}

unsigned *domain_counter(struct xsd_conn *c, enum domain_count what)
{
	struct domain *dom = charged_domain(c);
	if (!dom)
		return NULL;
	return what == COUNT_TXNS ? &dom->ntxns : &dom->nwatches;
}

size_t node_memory(const struct xs_node *n)
{
	return sizeof(*n) + strlen(n->path) + 1 + n->value_len +
	       n->children_bytes + n->nchildren * sizeof(char *) +
	       n->nperms * sizeof(struct xs_perm);
}
