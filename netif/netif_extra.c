/* Extra-info chains: the walk shared by the TX and RX parsers. */
#include "config.h"

#include "netif_extra.h"

#include <string.h>

static void note_error(struct netif_extra_chain *chain,
		       enum netif_extra_error error, unsigned slot)
{
	if (chain->error != NETIF_EXTRA_FINE)
		return;
	chain->error = error;
	chain->bad_slot = slot;
}

static void keep_mcast(struct netif_extra_chain *chain,
		       const netif_extra_info_t *extra)
{
	for (unsigned i = 0; i < chain->nr_mcast; i++) {
		if (chain->mcast[i].type == extra->type) {
			chain->mcast[i] = *extra;
			return;
		}
	}
	/* Two types only, each kept once: there is always room. */
	chain->mcast[chain->nr_mcast++] = *extra;
}

void netif_extra_chain_walk(const void *slots, size_t stride, unsigned start,
			    unsigned n, struct netif_extra_chain *chain)
{
	const uint8_t *base = slots;

	memset(chain, 0, sizeof(*chain));
	for (unsigned slot = start; slot < n; slot++) {
		netif_extra_info_t extra;

		memcpy(&extra, base + (size_t)slot * stride, sizeof(extra));
		chain->nr++;
		if (chain->nr > NETIF_MAX_EXTRAS)
			note_error(chain, NETIF_EXTRA_TOO_MANY, slot);
		if (extra.type == XEN_NETIF_EXTRA_TYPE_NONE ||
		    extra.type >= XEN_NETIF_EXTRA_TYPE_MAX) {
			note_error(chain, NETIF_EXTRA_BAD_TYPE, slot);
		} else if (chain->error == NETIF_EXTRA_FINE) {
			chain->has[extra.type] = true;
			chain->info[extra.type] = extra;
			chain->slot[extra.type] = slot;
			if (extra.type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD ||
			    extra.type == XEN_NETIF_EXTRA_TYPE_MCAST_DEL)
				keep_mcast(chain, &extra);
		}
		if (!(extra.flags & XEN_NETIF_EXTRA_FLAG_MORE)) {
			chain->complete = true;
			return;
		}
	}
}

bool netif_gso_extra_valid(const netif_extra_info_t *gso)
{
	return gso->u.gso.size != 0 &&
	       (gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4 ||
		gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6);
}
