/*
 * libFuzzer target over netif_tx_parse, the backend's check of what a
 * frontend put on its TX ring.
 *
 * Input: one byte of negotiated features (bit 0 sg, 1 gso_tcpv4, 2
 * gso_tcpv6, 3 mcast_ctrl), then netif_tx_request_t images of 12 bytes
 * each, in ring order. They are consumed packet after packet as a
 * backend would, and every verdict must keep the parser's promises.
 */
#include "config.h"

#include "netif.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REQS 512

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static void check_responses(const netif_tx_request_t *reqs,
			    const struct netif_tx_packet *pkt, unsigned left)
{
	netif_tx_response_t rsps[NETIF_TX_MAX_PACKET_SLOTS + 1];
	const netif_tx_response_t sentinel = {0xbeef, 0x7eed};

	CHECK(pkt->nr_slots <= NETIF_TX_MAX_PACKET_SLOTS);
	for (unsigned i = 0; i <= NETIF_TX_MAX_PACKET_SLOTS; i++)
		rsps[i] = sentinel;
	CHECK(netif_tx_responses(reqs, pkt, NETIF_RSP_ERROR, rsps) ==
	      pkt->nr_slots);
	for (unsigned i = 0; i < pkt->nr_slots; i++) {
		bool extra = i >= 1 && i <= pkt->nr_extras;
		CHECK(rsps[i].status ==
		      (extra ? NETIF_RSP_NULL : NETIF_RSP_ERROR));
		CHECK(rsps[i].id == reqs[i].id);
	}
	/* Exactly nr_slots answers, never one more. */
	CHECK(memcmp(&rsps[pkt->nr_slots], &sentinel, sizeof(sentinel)) == 0);
	CHECK(pkt->nr_slots <= left);
}

/* What an accepted packet promises; and it survives being rebuilt. */
static void check_accepted(const struct netif_tx_packet *pkt,
			   const struct netif_features *f)
{
	if (pkt->nr_mcast > 0) {
		CHECK(pkt->nr_mcast <= 2);
		CHECK(pkt->nr_frags == 0 && pkt->size == 0);
		CHECK(pkt->nr_slots == 1 + pkt->nr_extras);
		return;
	}
	CHECK(pkt->nr_frags >= 1 && pkt->nr_frags <= XEN_NETIF_NR_SLOTS_MIN);
	CHECK(pkt->nr_slots == pkt->nr_frags + pkt->nr_extras);
	CHECK(pkt->nr_extras <= NETIF_MAX_EXTRAS);
	uint32_t sum = 0;
	for (unsigned i = 0; i < pkt->nr_frags; i++) {
		CHECK((uint32_t)pkt->frags[i].offset + pkt->frags[i].size <=
		      NETIF_PAGE_BYTES);
		sum += pkt->frags[i].size;
	}
	CHECK(sum == pkt->size);
	CHECK(pkt->frags[0].size >= NETIF_ETH_HLEN);
	CHECK((pkt->flags & ~(NETTXF_csum_blank | NETTXF_data_validated)) == 0);
	if (pkt->has_gso) {
		CHECK(pkt->gso_size > 0);
		CHECK((pkt->gso_type == XEN_NETIF_GSO_TYPE_TCPV4 &&
		       f->gso_tcpv4) ||
		      (pkt->gso_type == XEN_NETIF_GSO_TYPE_TCPV6 &&
		       f->gso_tcpv6));
	}

	/* A frontend building these frags (and its GSO) gets the same
	 * packet back. */
	netif_tx_request_t built[XEN_NETIF_NR_SLOTS_MIN + 1];
	uint16_t ids[XEN_NETIF_NR_SLOTS_MIN];
	for (unsigned i = 0; i < pkt->nr_frags; i++)
		ids[i] = (uint16_t)i;
	uint8_t gso_type =
		pkt->has_gso ? pkt->gso_type : XEN_NETIF_GSO_TYPE_NONE;
	unsigned nbuilt =
		netif_tx_build_gso(pkt->size, pkt->frags, pkt->nr_frags, ids,
				   pkt->flags, gso_type, pkt->gso_size, built);
	CHECK(nbuilt == pkt->nr_frags + (pkt->has_gso ? 1 : 0));
	struct netif_tx_packet again;
	CHECK(netif_tx_parse(built, nbuilt, f, &again) == NETIF_TX_OK);
	CHECK(again.size == pkt->size && again.nr_frags == pkt->nr_frags);
	CHECK(again.nr_slots == nbuilt);
	CHECK(again.has_gso == pkt->has_gso);
	if (pkt->has_gso)
		CHECK(again.gso_type == pkt->gso_type &&
		      again.gso_size == pkt->gso_size &&
		      (again.flags & NETTXF_csum_blank));
	CHECK(memcmp(again.frags, pkt->frags,
		     pkt->nr_frags * sizeof(pkt->frags[0])) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static netif_tx_request_t reqs[MAX_REQS];

	if (size < 1)
		return 0;
	struct netif_features f = {
		.rx_copy = true,
		.rx_notify = true,
		.sg = data[0] & 1,
		.ipv4_csum = true,
		.gso_tcpv4 = data[0] & 2,
		.gso_tcpv6 = data[0] & 4,
		.mcast_ctrl = data[0] & 8,
	};
	size_t n = (size - 1) / sizeof(reqs[0]);
	if (n > MAX_REQS)
		n = MAX_REQS;
	memcpy(reqs, data + 1, n * sizeof(reqs[0]));

	unsigned pos = 0;
	while (pos < n) {
		struct netif_tx_packet pkt;
		unsigned left = (unsigned)n - pos;
		enum netif_tx_reason reason =
			netif_tx_parse(reqs + pos, left, &f, &pkt);

		CHECK(reason < NETIF_TX_REASON_COUNT);
		CHECK(netif_tx_reason_str(reason) != NULL);
		enum netif_action action = netif_tx_action(reason);
		if (action == NETIF_INCOMPLETE)
			break;
		if (action == NETIF_DISABLE) {
			CHECK(pkt.bad_slot < left);
			break;
		}
		CHECK(pkt.nr_slots >= 1 && pkt.nr_slots <= left);
		if (action == NETIF_ACCEPT)
			check_accepted(&pkt, &f);
		check_responses(reqs + pos, &pkt, left);
		pos += pkt.nr_slots;
	}
	return 0;
}
