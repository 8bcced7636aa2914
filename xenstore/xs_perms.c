/*
 * pvio-xenstored permissions and the domains they name: the domains known
 * (introduced, or named by dom0), what a connection may do with a node,
 * permission entries parsed and purged of stale domains (XSA-322).
 */
#include "config.h"

#include "xs_core_int.h"

#include <stdlib.h>

struct domain *domain_record(struct xsd *d, uint32_t domid)
{
	for (struct domain *dom = d->domains; dom; dom = dom->next)
		if (dom->domid == domid)
			return dom;
	return NULL;
}

struct domain *domain_find(struct xsd *d, uint32_t domid)
{
	struct domain *dom = domain_record(d, domid);
	return dom && dom->introduced ? dom : NULL;
}

struct domain *domain_add(struct xsd *d, uint32_t domid)
{
	struct domain *dom = calloc(1, sizeof(*dom));
	if (!dom)
		return NULL;
	dom->domid = domid;
	dom->next = d->domains;
	d->domains = dom;
	return dom;
}

int domain_declare(struct xsd *d, uint32_t domid)
{
	if (domid == 0 || domain_record(d, domid))
		return 0;
	return domain_add(d, domid) ? 0 : ENOMEM;
}

/* Does an entry naming domid, copied at generation since (0: now), still
 * name the domain it meant? */
static bool entry_current(struct xsd *d, uint32_t domid, uint64_t since)
{
	if (domid == 0)
		return true;
	if (domid >= DOMID_LIMIT || !domain_record(d, domid))
		return false;
	return !since || d->released_at[domid] <= since;
}

void perms_drop_stale(struct xsd *d, struct xs_perm *perms, uint32_t *np,
		      uint64_t since)
{
	if (!entry_current(d, perms[0].domid, since))
		perms[0].domid = 0;
	uint32_t kept = 1;
	for (uint32_t i = 1; i < *np; i++)
		if (entry_current(d, perms[i].domid, since))
			perms[kept++] = perms[i];
	*np = kept;
}

unsigned perm_mask(const struct xsd_conn *c, const struct xs_perm *p,
		   uint32_t np)
{
	if (c->privileged)
		return XSD_PERM_ALL | XSD_PERM_OWNER;
	const struct domain *dom = domain_find(c->d, c->domid);
	bool has_target = dom && dom->has_target;
	uint32_t target = has_target ? dom->target : 0;
	/* A domain acts for itself and, after SET_TARGET, for its target. */
	if (p[0].domid == c->domid || (has_target && p[0].domid == target))
		return XSD_PERM_ALL | XSD_PERM_OWNER;
	/* The first entry naming it (or its target) decides, as in C
	 * xenstored; later ones do not add rights. */
	for (uint32_t i = 1; i < np; i++)
		if (p[i].domid == c->domid ||
		    (has_target && p[i].domid == target))
			return p[i].mask;
	return p[0].mask;
}

int parse_perm(const char *s, struct xs_perm *p)
{
	switch (s[0]) {
	case 'n':
		p->mask = 0;
		break;
	case 'r':
		p->mask = XSD_PERM_READ;
		break;
	case 'w':
		p->mask = XSD_PERM_WRITE;
		break;
	case 'b':
		p->mask = XSD_PERM_ALL;
		break;
	default:
		return EINVAL;
	}
	uint64_t v;
	if (!parse_uint(s + 1, UINT32_MAX, &v))
		return EINVAL;
	p->domid = (uint32_t)v;
	return 0;
}
