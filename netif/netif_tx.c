/*
 * TX, frontend to backend: validating a packet's requests (the checks of
 * Linux netback's xenvif_tx_build_gops and xenvif_count_requests), the
 * responses that answer them, and the requests a frontend builds.
 */
#include "config.h"

#include "netif.h"
#include "netif_extra.h"

#include <string.h>

static bool gso_type_negotiated(uint8_t type,
				const struct netif_features *negotiated)
{
	return (type == XEN_NETIF_GSO_TYPE_TCPV4 && negotiated->gso_tcpv4) ||
	       (type == XEN_NETIF_GSO_TYPE_TCPV6 && negotiated->gso_tcpv6);
}

static enum netif_tx_reason fail(struct netif_tx_packet *pkt,
				 enum netif_tx_reason reason, unsigned slot)
{
	pkt->bad_slot = slot;
	return reason;
}

/* Takes the extras after the first slot; NETIF_TX_OK when they are fine. */
static enum netif_tx_reason take_extras(const netif_tx_request_t *reqs,
					unsigned n, struct netif_tx_packet *pkt,
					unsigned *gso_slot)
{
	struct netif_extra_chain chain;

	netif_extra_chain_walk(reqs, sizeof(*reqs), 1, n, &chain);
	if (chain.error == NETIF_EXTRA_BAD_TYPE)
		return fail(pkt, NETIF_TX_EXTRA_UNKNOWN, chain.bad_slot);
	/* Every defined type at most once fits: a longer chain is hostile. */
	if (chain.error == NETIF_EXTRA_TOO_MANY)
		return fail(pkt, NETIF_TX_EXTRA_MALFORMED, chain.bad_slot);
	if (!chain.complete)
		return NETIF_TX_INCOMPLETE;
	pkt->nr_extras = chain.nr;
	if (chain.has[XEN_NETIF_EXTRA_TYPE_GSO]) {
		const netif_extra_info_t *gso =
			&chain.info[XEN_NETIF_EXTRA_TYPE_GSO];

		if (!netif_gso_extra_valid(gso))
			return fail(pkt, NETIF_TX_EXTRA_MALFORMED,
				    chain.slot[XEN_NETIF_EXTRA_TYPE_GSO]);
		*gso_slot = chain.slot[XEN_NETIF_EXTRA_TYPE_GSO];
		pkt->has_gso = true;
		pkt->gso_size = gso->u.gso.size;
		pkt->gso_type = gso->u.gso.type;
	}
	for (unsigned i = 0; i < chain.nr_mcast; i++) {
		pkt->mcast[i].type = chain.mcast[i].type;
		memcpy(pkt->mcast[i].addr, chain.mcast[i].u.mcast.addr,
		       sizeof(pkt->mcast[i].addr));
	}
	pkt->nr_mcast = chain.nr_mcast;
	if (chain.has[XEN_NETIF_EXTRA_TYPE_HASH]) {
		pkt->has_hash = true;
		pkt->hash = chain.info[XEN_NETIF_EXTRA_TYPE_HASH];
	}
	return NETIF_TX_OK;
}

enum netif_tx_reason netif_tx_parse(const netif_tx_request_t *reqs, unsigned n,
				    const struct netif_features *negotiated,
				    struct netif_tx_packet *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	if (n == 0)
		return NETIF_TX_INCOMPLETE;

	const netif_tx_request_t *first = &reqs[0];
	pkt->size = first->size;
	pkt->flags = first->flags & (NETTXF_csum_blank | NETTXF_data_validated);
	unsigned gso_slot = 0;
	if (first->flags & NETTXF_extra_info) {
		enum netif_tx_reason reason =
			take_extras(reqs, n, pkt, &gso_slot);

		if (reason != NETIF_TX_OK)
			return reason;
	}
	/*
	 * A multicast filter change travels on a request of its own: as in
	 * Linux netback, the first slot and its extras are the whole of it,
	 * answered without being forwarded.
	 */
	if (pkt->nr_mcast > 0) {
		pkt->size = 0;
		pkt->nr_slots = 1 + pkt->nr_extras;
		return NETIF_TX_OK;
	}

	/*
	 * The following data slots: each takes its share from the size the
	 * first slot claims. Errors that leave the vif up are noted and the
	 * walk goes on to the end of the packet, so that all its slots can
	 * be answered; fatal ones end it at once.
	 */
	enum netif_tx_reason error = NETIF_TX_OK;
	uint32_t left = first->size;
	unsigned nr_data = 1;
	bool more = first->flags & NETTXF_more_data;
	unsigned slot = 1 + pkt->nr_extras;

	pkt->frags[0].gref = first->gref;
	pkt->frags[0].offset = first->offset;
	for (; more; slot++) {
		if (nr_data >= NETIF_TX_FATAL_SLOT_COUNT)
			return fail(pkt, NETIF_TX_FATAL_SLOTS, slot - 1);
		if (slot >= n)
			return NETIF_TX_INCOMPLETE;

		const netif_tx_request_t *req = &reqs[slot];

		if ((uint32_t)req->offset + req->size > NETIF_PAGE_BYTES)
			return fail(pkt, NETIF_TX_CROSSES_PAGE, slot);
		nr_data++;
		if (nr_data > XEN_NETIF_NR_SLOTS_MIN && error == NETIF_TX_OK) {
			error = NETIF_TX_TOO_MANY_SLOTS;
			pkt->bad_slot = slot;
		}
		/*
		 * A frontend sending 64 KiB or more overflows the first
		 * slot's 16-bit size, and its fragments then add up to more
		 * than it: an error for that packet (not fatal: old Linux
		 * frontends do it).
		 */
		if (error == NETIF_TX_OK && req->size > left) {
			error = NETIF_TX_FRAG_EXCEEDS_TOTAL;
			pkt->bad_slot = slot;
		}
		if (error == NETIF_TX_OK) {
			left -= req->size;
			pkt->frags[nr_data - 1].gref = req->gref;
			pkt->frags[nr_data - 1].offset = req->offset;
			pkt->frags[nr_data - 1].size = req->size;
		}
		more = req->flags & NETTXF_more_data;
	}
	pkt->nr_slots = slot;
	pkt->nr_frags = nr_data <= XEN_NETIF_NR_SLOTS_MIN
				? nr_data
				: XEN_NETIF_NR_SLOTS_MIN;

	if (error != NETIF_TX_FRAG_EXCEEDS_TOTAL) {
		/* The first slot's own share is what the others left. */
		if ((uint32_t)first->offset + left > NETIF_PAGE_BYTES)
			return fail(pkt, NETIF_TX_CROSSES_PAGE, 0);
		pkt->frags[0].size = (uint16_t)left;
	}
	if (error != NETIF_TX_OK)
		return error;
	if (left < NETIF_ETH_HLEN)
		return fail(pkt, NETIF_TX_RUNT, 0);
	if (pkt->has_gso && !gso_type_negotiated(pkt->gso_type, negotiated))
		return fail(pkt, NETIF_TX_GSO_NOT_NEGOTIATED, gso_slot);
	return NETIF_TX_OK;
}

enum netif_action netif_tx_action(enum netif_tx_reason reason)
{
	switch (reason) {
	case NETIF_TX_OK:
		return NETIF_ACCEPT;
	case NETIF_TX_INCOMPLETE:
		return NETIF_INCOMPLETE;
	case NETIF_TX_TOO_MANY_SLOTS:
	case NETIF_TX_FRAG_EXCEEDS_TOTAL:
	case NETIF_TX_RUNT:
		return NETIF_ERROR;
	case NETIF_TX_GSO_NOT_NEGOTIATED:
		return NETIF_DROP;
	case NETIF_TX_FATAL_SLOTS:
	case NETIF_TX_CROSSES_PAGE:
	case NETIF_TX_EXTRA_UNKNOWN:
	case NETIF_TX_EXTRA_MALFORMED:
	case NETIF_TX_REASON_COUNT:
		break;
	}
	return NETIF_DISABLE;
}

const char *netif_tx_reason_str(enum netif_tx_reason reason)
{
	switch (reason) {
	case NETIF_TX_OK:
		return "ok";
	case NETIF_TX_INCOMPLETE:
		return "incomplete packet";
	case NETIF_TX_TOO_MANY_SLOTS:
		return "too many slots";
	case NETIF_TX_FATAL_SLOTS:
		return "fatal slot count";
	case NETIF_TX_CROSSES_PAGE:
		return "slot crosses its page";
	case NETIF_TX_FRAG_EXCEEDS_TOTAL:
		return "fragment larger than the packet";
	case NETIF_TX_RUNT:
		return "runt first slot";
	case NETIF_TX_EXTRA_UNKNOWN:
		return "unknown extra info";
	case NETIF_TX_EXTRA_MALFORMED:
		return "malformed extra info";
	case NETIF_TX_GSO_NOT_NEGOTIATED:
		return "GSO not negotiated";
	case NETIF_TX_REASON_COUNT:
		break;
	}
	return "unknown reason";
}

unsigned netif_tx_responses(const netif_tx_request_t *reqs,
			    const struct netif_tx_packet *pkt, int16_t status,
			    netif_tx_response_t *rsps)
{
	for (unsigned i = 0; i < pkt->nr_slots; i++) {
		bool extra = i >= 1 && i <= pkt->nr_extras;

		rsps[i].id = reqs[i].id;
		rsps[i].status = extra ? NETIF_RSP_NULL : status;
	}
	return pkt->nr_slots;
}

unsigned netif_tx_build(uint32_t size, const struct netif_tx_frag *frags,
			unsigned nr_frags, const uint16_t *ids, uint16_t flags,
			netif_tx_request_t *reqs)
{
	return netif_tx_build_gso(size, frags, nr_frags, ids, flags,
				  XEN_NETIF_GSO_TYPE_NONE, 0, reqs);
}

unsigned netif_tx_build_gso(uint32_t size, const struct netif_tx_frag *frags,
			    unsigned nr_frags, const uint16_t *ids,
			    uint16_t flags, uint8_t gso_type, uint16_t gso_size,
			    netif_tx_request_t *reqs)
{
	bool gso = gso_type != XEN_NETIF_GSO_TYPE_NONE;

	if (nr_frags == 0 || nr_frags > XEN_NETIF_NR_SLOTS_MIN)
		return 0;
	if (size > XEN_NETIF_MAX_TX_SIZE)
		return 0;
	if (flags & ~(NETTXF_csum_blank | NETTXF_data_validated))
		return 0;
	if (gso && (gso_size == 0 || (gso_type != XEN_NETIF_GSO_TYPE_TCPV4 &&
				      gso_type != XEN_NETIF_GSO_TYPE_TCPV6)))
		return 0;
	uint32_t sum = 0;
	for (unsigned i = 0; i < nr_frags; i++) {
		if ((uint32_t)frags[i].offset + frags[i].size >
		    NETIF_PAGE_BYTES)
			return 0;
		sum += frags[i].size;
	}
	if (sum != size)
		return 0;
	/* With GSO the extra takes slot 1 and data slot i moves one on. */
	unsigned shift = gso ? 1 : 0;
	for (unsigned i = 0; i < nr_frags; i++) {
		netif_tx_request_t *req = &reqs[i == 0 ? 0 : i + shift];

		req->gref = frags[i].gref;
		req->offset = frags[i].offset;
		req->flags = (i + 1 < nr_frags ? NETTXF_more_data : 0);
		req->id = ids[i];
		req->size = i == 0 ? (uint16_t)size : frags[i].size;
	}
	reqs[0].flags |= flags;
	if (gso) {
		netif_extra_info_t extra;

		memset(&extra, 0, sizeof(extra));
		extra.type = XEN_NETIF_EXTRA_TYPE_GSO;
		extra.u.gso.size = gso_size;
		extra.u.gso.type = gso_type;
		_Static_assert(sizeof(extra) <= sizeof(reqs[1]),
			       "an extra fits a TX request slot");
		memset(&reqs[1], 0, sizeof(reqs[1]));
		memcpy(&reqs[1], &extra, sizeof(extra));
		reqs[0].flags |= NETTXF_extra_info | NETTXF_csum_blank |
				 NETTXF_data_validated;
	}
	return nr_frags + shift;
}

void netif_tx_gather(const struct netif_tx_packet *pkt, uint8_t *const *pages,
		     uint32_t len, uint8_t *dst)
{
	for (unsigned i = 0; i < pkt->nr_frags && len; i++) {
		const struct netif_tx_frag *f = &pkt->frags[i];
		uint32_t chunk = f->size < len ? f->size : len;
		if (!chunk)
			continue;
		memcpy(dst, pages[i] + f->offset, chunk);
		dst += chunk;
		len -= chunk;
	}
}

unsigned netif_tx_mapped_iov(const struct netif_tx_packet *pkt,
			     uint8_t *const *pages, const uint8_t *head,
			     uint32_t head_len, struct iovec *iov, unsigned max)
{
	unsigned n = 0;
	if (head_len > pkt->size)
		head_len = pkt->size;
	if (head_len) {
		if (!max)
			return 0;
		iov[n++] = (struct iovec){(void *)head, head_len};
	}
	/* Bytes of the head still to skip in the frags. */
	uint32_t skip = head_len;
	for (unsigned i = 0; i < pkt->nr_frags; i++) {
		const struct netif_tx_frag *f = &pkt->frags[i];
		if (skip >= f->size) {
			skip -= f->size;
			continue;
		}
		if (n == max)
			return 0;
		iov[n++] = (struct iovec){pages[i] + f->offset + skip,
					  (size_t)f->size - skip};
		skip = 0;
	}
	return n;
}
