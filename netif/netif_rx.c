/*
 * RX, backend to frontend: the slots a packet takes, the responses a
 * backend writes for it, and the checks a frontend makes on them before
 * trusting a byte (Linux netfront's xennet_get_responses and
 * xennet_get_extras, hardened since XSA-403 against a hostile backend).
 */
#include "config.h"

#include "netif.h"
#include "netif_extra.h"

#include <string.h>

unsigned netif_rx_slots_needed(uint32_t size, bool gso,
			       const struct netif_features *negotiated)
{
	if (size == 0)
		return 0;
	uint32_t pages = (size + NETIF_PAGE_BYTES - 1) / NETIF_PAGE_BYTES;
	if (pages > 1 && !negotiated->sg)
		return 0;
	if (pages > XEN_NETIF_NR_SLOTS_MIN)
		return 0;
	if (gso && !negotiated->gso_tcpv4 && !negotiated->gso_tcpv6)
		return 0;
	return pages + (gso ? 1 : 0);
}

unsigned netif_rx_responses(const netif_rx_request_t *reqs, unsigned nr_slots,
			    const struct netif_rx_meta *meta,
			    netif_rx_response_t *rsps)
{
	unsigned extra_slot = meta->has_gso ? 1 : nr_slots;
	uint32_t left = meta->size;
	unsigned last_data = nr_slots - 1;

	if (nr_slots == 0)
		return 0;
	if (meta->has_gso && last_data == 1)
		last_data = 0;
	for (unsigned i = 0; i < nr_slots; i++) {
		if (i == extra_slot) {
			netif_extra_info_t gso;

			memset(&gso, 0, sizeof(gso));
			gso.type = XEN_NETIF_EXTRA_TYPE_GSO;
			gso.u.gso.size = meta->gso_size;
			gso.u.gso.type = meta->gso_type;
			_Static_assert(sizeof(gso) == sizeof(rsps[i]),
				       "an extra fills an RX response slot");
			memcpy(&rsps[i], &gso, sizeof(gso));
			continue;
		}
		uint32_t len =
			left < NETIF_PAGE_BYTES ? left : NETIF_PAGE_BYTES;
		uint16_t flags = 0;

		left -= len;
		if (i == 0) {
			/* A blank checksum is one nothing has to verify. */
			if (meta->csum_blank)
				flags |= NETRXF_csum_blank |
					 NETRXF_data_validated;
			else if (meta->data_validated)
				flags |= NETRXF_data_validated;
			if (meta->has_gso)
				flags |= NETRXF_extra_info;
		}
		if (i != last_data)
			flags |= NETRXF_more_data;
		rsps[i].id = reqs[i].id;
		rsps[i].offset = 0;
		rsps[i].flags = flags;
		rsps[i].status = (int16_t)len;
	}
	return nr_slots;
}

/* What a frontend accepts in the extras of an RX packet. */
static enum netif_rx_reason
check_extras(const struct netif_extra_chain *chain,
	     const struct netif_features *negotiated,
	     struct netif_rx_packet *pkt, unsigned *bad_slot)
{
	if (chain->error == NETIF_EXTRA_BAD_TYPE) {
		*bad_slot = chain->bad_slot;
		return NETIF_RX_EXTRA_UNKNOWN;
	}
	if (chain->error == NETIF_EXTRA_TOO_MANY) {
		*bad_slot = chain->bad_slot;
		return NETIF_RX_EXTRA_MALFORMED;
	}
	/* Multicast control goes frontend to backend only. */
	if (chain->nr_mcast > 0) {
		*bad_slot =
			chain->mcast[0].type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD
				? chain->slot[XEN_NETIF_EXTRA_TYPE_MCAST_ADD]
				: chain->slot[XEN_NETIF_EXTRA_TYPE_MCAST_DEL];
		return NETIF_RX_EXTRA_UNKNOWN;
	}
	/* A hash is set up through the control ring. */
	if (chain->has[XEN_NETIF_EXTRA_TYPE_HASH] && !negotiated->ctrl_ring) {
		*bad_slot = chain->slot[XEN_NETIF_EXTRA_TYPE_HASH];
		return NETIF_RX_EXTRA_UNKNOWN;
	}
	if (chain->has[XEN_NETIF_EXTRA_TYPE_GSO]) {
		const netif_extra_info_t *gso =
			&chain->info[XEN_NETIF_EXTRA_TYPE_GSO];

		*bad_slot = chain->slot[XEN_NETIF_EXTRA_TYPE_GSO];
		if (!netif_gso_extra_valid(gso))
			return NETIF_RX_EXTRA_MALFORMED;
		if ((gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4 &&
		     !negotiated->gso_tcpv4) ||
		    (gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6 &&
		     !negotiated->gso_tcpv6))
			return NETIF_RX_EXTRA_UNKNOWN;
		pkt->has_gso = true;
		pkt->gso_size = gso->u.gso.size;
		pkt->gso_type = gso->u.gso.type;
	}
	return NETIF_RX_OK;
}

static void note(enum netif_rx_reason *error, unsigned *bad_slot,
		 enum netif_rx_reason reason, unsigned slot)
{
	if (*error != NETIF_RX_OK)
		return;
	*error = reason;
	*bad_slot = slot;
}

enum netif_rx_reason netif_rx_parse(const netif_rx_response_t *rsps, unsigned n,
				    const struct netif_features *negotiated,
				    struct netif_rx_packet *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	if (n == 0)
		return NETIF_RX_INCOMPLETE;

	/*
	 * Every check notes the first fault and the walk goes on to the end
	 * of the chain, so that the frontend can take all of the packet's
	 * slots back and drop it whole.
	 */
	enum netif_rx_reason error = NETIF_RX_OK;
	unsigned bad_slot = 0;
	unsigned nr_extras = 0;
	pkt->flags =
		rsps[0].flags & (NETRXF_csum_blank | NETRXF_data_validated);

	unsigned nr_data = 0;
	uint32_t total = 0;
	unsigned slot = 0;
	for (;;) {
		const netif_rx_response_t *rsp = &rsps[slot];

		nr_data++;
		if (rsp->status < 0)
			note(&error, &bad_slot, NETIF_RX_STATUS_ERROR, slot);
		else if ((uint32_t)rsp->offset + (uint32_t)rsp->status >
			 NETIF_PAGE_BYTES)
			note(&error, &bad_slot, NETIF_RX_BAD_OFFSET, slot);
		if (nr_data > XEN_NETIF_NR_SLOTS_MIN)
			note(&error, &bad_slot, NETIF_RX_TOO_MANY_SLOTS, slot);
		if (error == NETIF_RX_OK) {
			pkt->frags[nr_data - 1].slot = slot;
			pkt->frags[nr_data - 1].offset = rsp->offset;
			pkt->frags[nr_data - 1].len = (uint16_t)rsp->status;
			total += (uint32_t)rsp->status;
		}
		slot++;
		if (slot == 1 && (rsp->flags & NETRXF_extra_info)) {
			struct netif_extra_chain chain;
			unsigned extra_bad = 0;

			netif_extra_chain_walk(rsps, sizeof(*rsps), 1, n,
					       &chain);
			if (!chain.complete)
				return NETIF_RX_INCOMPLETE;
			enum netif_rx_reason reason = check_extras(
				&chain, negotiated, pkt, &extra_bad);
			if (reason != NETIF_RX_OK)
				note(&error, &bad_slot, reason, extra_bad);
			nr_extras = chain.nr;
			slot += nr_extras;
		}
		if (!(rsp->flags & NETRXF_more_data))
			break;
		if (slot >= n)
			return NETIF_RX_INCOMPLETE;
	}
	pkt->nr_slots = slot;
	pkt->nr_frags = nr_data <= XEN_NETIF_NR_SLOTS_MIN
				? nr_data
				: XEN_NETIF_NR_SLOTS_MIN;
	if (error == NETIF_RX_OK && total < NETIF_ETH_HLEN)
		note(&error, &bad_slot, NETIF_RX_RUNT, 0);
	if (error != NETIF_RX_OK) {
		pkt->bad_slot = bad_slot;
		pkt->has_gso = false;
		return error;
	}
	pkt->size = total;
	return NETIF_RX_OK;
}

const char *netif_rx_reason_str(enum netif_rx_reason reason)
{
	switch (reason) {
	case NETIF_RX_OK:
		return "ok";
	case NETIF_RX_INCOMPLETE:
		return "incomplete packet";
	case NETIF_RX_STATUS_ERROR:
		return "error status";
	case NETIF_RX_BAD_OFFSET:
		return "data past its page";
	case NETIF_RX_TOO_MANY_SLOTS:
		return "too many slots";
	case NETIF_RX_EXTRA_UNKNOWN:
		return "unknown extra info";
	case NETIF_RX_EXTRA_MALFORMED:
		return "malformed extra info";
	case NETIF_RX_RUNT:
		return "runt packet";
	case NETIF_RX_REASON_COUNT:
		break;
	}
	return "unknown reason";
}
