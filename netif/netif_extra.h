/*
 * Extra-info chains, internal to netif/: both directions carry
 * netif_extra_info_t slots after a packet's first slot, chained with
 * XEN_NETIF_EXTRA_FLAG_MORE. The walk is the same on TX and RX; what each
 * direction accepts in them differs, so the walker only reports.
 */
#ifndef PVIO_NETIF_EXTRA_H
#define PVIO_NETIF_EXTRA_H

#include "netif.h"

enum netif_extra_error {
	NETIF_EXTRA_FINE = 0,
	NETIF_EXTRA_BAD_TYPE, /* type 0 or >= XEN_NETIF_EXTRA_TYPE_MAX */
	NETIF_EXTRA_TOO_MANY, /* more than NETIF_MAX_EXTRAS in the chain */
};

struct netif_extra_chain {
	unsigned nr;   /* slots in the chain (walked so far if incomplete) */
	bool complete; /* its last slot (no FLAG_MORE) lies within n */
	enum netif_extra_error error; /* the first one met */
	unsigned bad_slot;	      /* where it was met */
	/* The last extra of each defined type, by type (0 unused). */
	bool has[XEN_NETIF_EXTRA_TYPE_MAX];
	netif_extra_info_t info[XEN_NETIF_EXTRA_TYPE_MAX];
	unsigned slot[XEN_NETIF_EXTRA_TYPE_MAX]; /* where each was */
	/* MCAST_ADD / MCAST_DEL in chain order; a repeat replaces its type. */
	unsigned nr_mcast;
	netif_extra_info_t mcast[2];
};

/*
 * Walk the chain starting at slot start of n slots of stride bytes each
 * (the extra overlays the first 8 bytes of a slot). Walks to the chain's
 * end even past an error, so that its length is known, but never past n.
 */
void netif_extra_chain_walk(const void *slots, size_t stride, unsigned start,
			    unsigned n, struct netif_extra_chain *chain);

/* A GSO extra both sides can use: a non-zero MSS, TCPv4 or TCPv6. */
bool netif_gso_extra_valid(const netif_extra_info_t *gso);

#endif
