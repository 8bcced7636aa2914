/*
 * Unit tests of netif/, the protocol core: every verdict of the TX and RX
 * parsers with its action and responses, the RX slot count, the requests a
 * frontend builds, feature keys in both directions with each malformed
 * case, the virtio-net header and the software checksum.
 */
#include "config.h"

#include "cunit_main.h"
#include "netif.h"
#include "netif_stats.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <string.h>

/* ---- TX helpers ---- */

static netif_tx_request_t tx_req(grant_ref_t gref, uint16_t offset,
				 uint16_t flags, uint16_t id, uint16_t size)
{
	netif_tx_request_t req = {
		.gref = gref,
		.offset = offset,
		.flags = flags,
		.id = id,
		.size = size,
	};
	return req;
}

static netif_extra_info_t extra_gso(uint16_t mss, uint8_t type, bool more)
{
	netif_extra_info_t e;

	memset(&e, 0, sizeof(e));
	e.type = XEN_NETIF_EXTRA_TYPE_GSO;
	e.flags = more ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
	e.u.gso.size = mss;
	e.u.gso.type = type;
	return e;
}

static netif_extra_info_t extra_of_type(uint8_t type, bool more)
{
	netif_extra_info_t e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.flags = more ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
	return e;
}

/* An extra in a TX slot: it overlays the request's first 8 bytes. */
static netif_tx_request_t tx_extra(netif_extra_info_t e, uint16_t id)
{
	netif_tx_request_t req;

	memset(&req, 0, sizeof(req));
	memcpy(&req, &e, sizeof(e));
	req.id = id;
	return req;
}

static const struct netif_features no_features;

static struct netif_features gso4_features(void)
{
	struct netif_features f = {.sg = true, .gso_tcpv4 = true};
	return f;
}

/* A chain of nr data slots of 100 bytes each, ids 100 + i. */
static void tx_chain(netif_tx_request_t *reqs, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		reqs[i] = tx_req(10 + i, 0, i + 1 < nr ? NETTXF_more_data : 0,
				 (uint16_t)(100 + i), 100);
	reqs[0].size = (uint16_t)(100 * nr);
}

static void test_tx_single_slot(void)
{
	netif_tx_request_t reqs[1] = {tx_req(
		7, 128, NETTXF_csum_blank | NETTXF_data_validated, 3, 60)};
	struct netif_tx_packet pkt;

	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 1, &no_features, &pkt),
			NETIF_TX_OK);
	CU_ASSERT_EQUAL(netif_tx_action(NETIF_TX_OK), NETIF_ACCEPT);
	CU_ASSERT_EQUAL(pkt.size, 60);
	CU_ASSERT_EQUAL(pkt.flags, NETTXF_csum_blank | NETTXF_data_validated);
	CU_ASSERT_EQUAL(pkt.nr_slots, 1);
	CU_ASSERT_EQUAL(pkt.nr_extras, 0);
	CU_ASSERT_EQUAL(pkt.nr_frags, 1);
	CU_ASSERT_EQUAL(pkt.frags[0].gref, 7);
	CU_ASSERT_EQUAL(pkt.frags[0].offset, 128);
	CU_ASSERT_EQUAL(pkt.frags[0].size, 60);
	CU_ASSERT_FALSE(pkt.has_gso);
}

static void test_tx_fragments(void)
{
	netif_tx_request_t reqs[4] = {
		tx_req(1, 0, NETTXF_more_data | NETTXF_data_validated, 5, 3000),
		tx_req(2, 96, NETTXF_more_data, 6, 1000),
		/* A zero-length fragment in the middle is legal. */
		tx_req(3, 4096, NETTXF_more_data, 7, 0),
		tx_req(4, 100, 0, 8, 500),
	};
	struct netif_tx_packet pkt;

	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 4, &no_features, &pkt),
			NETIF_TX_OK);
	CU_ASSERT_EQUAL(pkt.size, 3000);
	CU_ASSERT_EQUAL(pkt.flags, NETTXF_data_validated);
	CU_ASSERT_EQUAL(pkt.nr_slots, 4);
	CU_ASSERT_EQUAL(pkt.nr_frags, 4);
	CU_ASSERT_EQUAL(pkt.frags[0].size, 1500);
	CU_ASSERT_EQUAL(pkt.frags[1].gref, 2);
	CU_ASSERT_EQUAL(pkt.frags[1].offset, 96);
	CU_ASSERT_EQUAL(pkt.frags[1].size, 1000);
	CU_ASSERT_EQUAL(pkt.frags[2].size, 0);
	CU_ASSERT_EQUAL(pkt.frags[3].gref, 4);
	CU_ASSERT_EQUAL(pkt.frags[3].size, 500);
}

static void test_tx_stops_at_packet_end(void)
{
	/* Two packets in the given requests: only the first is parsed. */
	netif_tx_request_t reqs[3] = {
		tx_req(1, 0, NETTXF_more_data, 1, 200),
		tx_req(2, 0, 0, 2, 100),
		tx_req(3, 0, 0, 3, 60),
	};
	struct netif_tx_packet pkt;

	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 3, &no_features, &pkt),
			NETIF_TX_OK);
	CU_ASSERT_EQUAL(pkt.nr_slots, 2);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs + 2, 1, &no_features, &pkt),
			NETIF_TX_OK);
	CU_ASSERT_EQUAL(pkt.nr_slots, 1);
}

static void test_tx_max_slots_accepted(void)
{
	netif_tx_request_t reqs[XEN_NETIF_NR_SLOTS_MIN];
	struct netif_tx_packet pkt;

	tx_chain(reqs, XEN_NETIF_NR_SLOTS_MIN);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, XEN_NETIF_NR_SLOTS_MIN,
				       &no_features, &pkt),
			NETIF_TX_OK);
	CU_ASSERT_EQUAL(pkt.nr_slots, XEN_NETIF_NR_SLOTS_MIN);
	CU_ASSERT_EQUAL(pkt.nr_frags, XEN_NETIF_NR_SLOTS_MIN);
	CU_ASSERT_EQUAL(pkt.frags[XEN_NETIF_NR_SLOTS_MIN - 1].gref,
			10 + XEN_NETIF_NR_SLOTS_MIN - 1);
}

static void test_tx_too_many_slots(void)
{
	netif_tx_request_t reqs[NETIF_TX_FATAL_SLOT_COUNT];
	struct netif_tx_packet pkt;

	for (unsigned nr = XEN_NETIF_NR_SLOTS_MIN + 1;
	     nr <= NETIF_TX_FATAL_SLOT_COUNT; nr++) {
		tx_chain(reqs, nr);
		CU_ASSERT_EQUAL(netif_tx_parse(reqs, nr, &no_features, &pkt),
				NETIF_TX_TOO_MANY_SLOTS);
		/* The whole chain is consumed so that all of it is answered. */
		CU_ASSERT_EQUAL(pkt.nr_slots, nr);
		CU_ASSERT_EQUAL(pkt.bad_slot, XEN_NETIF_NR_SLOTS_MIN);
	}
	CU_ASSERT_EQUAL(netif_tx_action(NETIF_TX_TOO_MANY_SLOTS), NETIF_ERROR);
}

static void test_tx_fatal_slots(void)
{
	netif_tx_request_t reqs[NETIF_TX_FATAL_SLOT_COUNT + 1];
	struct netif_tx_packet pkt;

	tx_chain(reqs, NETIF_TX_FATAL_SLOT_COUNT + 1);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, NETIF_TX_FATAL_SLOT_COUNT + 1,
				       &no_features, &pkt),
			NETIF_TX_FATAL_SLOTS);
	CU_ASSERT_EQUAL(pkt.bad_slot, NETIF_TX_FATAL_SLOT_COUNT - 1);
	CU_ASSERT_EQUAL(netif_tx_action(NETIF_TX_FATAL_SLOTS), NETIF_DISABLE);
	/* Known as soon as the last allowed slot asks for more. */
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, NETIF_TX_FATAL_SLOT_COUNT,
				       &no_features, &pkt),
			NETIF_TX_FATAL_SLOTS);
}

static void test_tx_incomplete(void)
{
	netif_tx_request_t reqs[3] = {0};
	struct netif_tx_packet pkt;

	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 0, &no_features, &pkt),
			NETIF_TX_INCOMPLETE);
	tx_chain(reqs, 3);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 2, &no_features, &pkt),
			NETIF_TX_INCOMPLETE);
	CU_ASSERT_EQUAL(netif_tx_action(NETIF_TX_INCOMPLETE), NETIF_INCOMPLETE);

	/* An extra announced but not given, and a chain of extras cut. */
	struct netif_features f = gso4_features();
	reqs[0] = tx_req(1, 0, NETTXF_extra_info, 1, 1000);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 1, &f, &pkt), NETIF_TX_INCOMPLETE);
	reqs[1] = tx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_TCPV4, true), 2);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 2, &f, &pkt), NETIF_TX_INCOMPLETE);
	/* Data after the extras, cut. */
	reqs[0].flags |= NETTXF_more_data;
	reqs[1] = tx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_TCPV4, false), 2);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 2, &f, &pkt), NETIF_TX_INCOMPLETE);
}

static void test_tx_crosses_page(void)
{
	struct netif_tx_packet pkt;

	/* The first slot alone. */
	netif_tx_request_t one[1] = {tx_req(1, 100, 0, 1, 4000)};
	CU_ASSERT_EQUAL(netif_tx_parse(one, 1, &no_features, &pkt),
			NETIF_TX_CROSSES_PAGE);
	CU_ASSERT_EQUAL(pkt.bad_slot, 0);
	CU_ASSERT_EQUAL(netif_tx_action(NETIF_TX_CROSSES_PAGE), NETIF_DISABLE);
	one[0] = tx_req(1, 96, 0, 1, 4000); /* ends exactly at the page end */
	CU_ASSERT_EQUAL(netif_tx_parse(one, 1, &no_features, &pkt),
			NETIF_TX_OK);

	/* The first slot's own share (what the others leave) crosses. */
	netif_tx_request_t two[2] = {
		tx_req(1, 2000, NETTXF_more_data, 1, 3000),
		tx_req(2, 0, 0, 2, 500),
	};
	CU_ASSERT_EQUAL(netif_tx_parse(two, 2, &no_features, &pkt),
			NETIF_TX_CROSSES_PAGE);
	CU_ASSERT_EQUAL(pkt.bad_slot, 0);
	two[1].size = 904; /* share 2096: 2000 + 2096 = 4096 */
	CU_ASSERT_EQUAL(netif_tx_parse(two, 2, &no_features, &pkt),
			NETIF_TX_OK);

	/* A following slot, even in a packet already in error. */
	netif_tx_request_t three[3] = {
		tx_req(1, 0, NETTXF_more_data, 1, 100),
		tx_req(2, 0, NETTXF_more_data, 2, 200),
		tx_req(3, 4000, 0, 3, 97),
	};
	CU_ASSERT_EQUAL(netif_tx_parse(three, 3, &no_features, &pkt),
			NETIF_TX_CROSSES_PAGE);
	CU_ASSERT_EQUAL(pkt.bad_slot, 2);
}

static void test_tx_frag_exceeds_total(void)
{
	netif_tx_request_t reqs[3] = {
		tx_req(1, 0, NETTXF_more_data, 1, 1000),
		tx_req(2, 0, NETTXF_more_data, 2, 900),
		tx_req(3, 0, 0, 3, 200), /* only 100 left */
	};
	struct netif_tx_packet pkt;

	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 3, &no_features, &pkt),
			NETIF_TX_FRAG_EXCEEDS_TOTAL);
	CU_ASSERT_EQUAL(pkt.nr_slots, 3);
	CU_ASSERT_EQUAL(pkt.bad_slot, 2);
	CU_ASSERT_EQUAL(netif_tx_action(NETIF_TX_FRAG_EXCEEDS_TOTAL),
			NETIF_ERROR);

	/* A 64 KiB frame whose first size wrapped to 16: an error only. */
	netif_tx_request_t big[2] = {
		tx_req(1, 0, NETTXF_more_data, 1, 16),
		tx_req(2, 0, 0, 2, 4096),
	};
	CU_ASSERT_EQUAL(netif_tx_parse(big, 2, &no_features, &pkt),
			NETIF_TX_FRAG_EXCEEDS_TOTAL);
	CU_ASSERT_EQUAL(pkt.nr_slots, 2);
}

static void test_tx_runt(void)
{
	struct netif_tx_packet pkt;
	netif_tx_request_t one[1] = {tx_req(1, 0, 0, 1, NETIF_ETH_HLEN - 1)};

	CU_ASSERT_EQUAL(netif_tx_parse(one, 1, &no_features, &pkt),
			NETIF_TX_RUNT);
	CU_ASSERT_EQUAL(pkt.nr_slots, 1);
	CU_ASSERT_EQUAL(netif_tx_action(NETIF_TX_RUNT), NETIF_ERROR);
	one[0].size = NETIF_ETH_HLEN;
	CU_ASSERT_EQUAL(netif_tx_parse(one, 1, &no_features, &pkt),
			NETIF_TX_OK);
	one[0].size = 0;
	CU_ASSERT_EQUAL(netif_tx_parse(one, 1, &no_features, &pkt),
			NETIF_TX_RUNT);

	/* A big packet whose first slot holds less than a header. */
	netif_tx_request_t two[2] = {
		tx_req(1, 0, NETTXF_more_data, 1, 1010),
		tx_req(2, 0, 0, 2, 1000),
	};
	CU_ASSERT_EQUAL(netif_tx_parse(two, 2, &no_features, &pkt),
			NETIF_TX_RUNT);
	CU_ASSERT_EQUAL(pkt.nr_slots, 2);
	CU_ASSERT_EQUAL(pkt.bad_slot, 0);
}

static void test_tx_gso(void)
{
	struct netif_features f = gso4_features();
	netif_tx_request_t reqs[3] = {
		tx_req(1, 0, NETTXF_extra_info | NETTXF_more_data, 1, 3000),
		tx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_TCPV4, false), 99),
		tx_req(2, 0, 0, 2, 1000),
	};
	struct netif_tx_packet pkt;

	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 3, &f, &pkt), NETIF_TX_OK);
	CU_ASSERT_EQUAL(pkt.nr_slots, 3);
	CU_ASSERT_EQUAL(pkt.nr_extras, 1);
	CU_ASSERT_EQUAL(pkt.nr_frags, 2);
	CU_ASSERT_TRUE(pkt.has_gso);
	CU_ASSERT_EQUAL(pkt.gso_size, 1448);
	CU_ASSERT_EQUAL(pkt.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
	CU_ASSERT_EQUAL(pkt.frags[0].size, 2000);
	CU_ASSERT_EQUAL(pkt.frags[1].gref, 2);
	CU_ASSERT_EQUAL(pkt.frags[1].size, 1000);

	/* A GSO type the frontend was not given: drop, vif stays. */
	reqs[1] = tx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_TCPV6, false), 9);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 3, &f, &pkt),
			NETIF_TX_GSO_NOT_NEGOTIATED);
	CU_ASSERT_EQUAL(pkt.nr_slots, 3);
	CU_ASSERT_EQUAL(netif_tx_action(NETIF_TX_GSO_NOT_NEGOTIATED),
			NETIF_DROP);
	reqs[1] = tx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_TCPV4, false), 9);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 3, &no_features, &pkt),
			NETIF_TX_GSO_NOT_NEGOTIATED);
	CU_ASSERT_EQUAL(pkt.nr_slots, 3);
}

static void test_tx_extra_malformed(void)
{
	struct netif_features f = gso4_features();
	netif_tx_request_t reqs[8];
	struct netif_tx_packet pkt;

	reqs[0] = tx_req(1, 0, NETTXF_extra_info, 1, 100);
	/* GSO with an MSS of 0. */
	reqs[1] = tx_extra(extra_gso(0, XEN_NETIF_GSO_TYPE_TCPV4, false), 2);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 2, &f, &pkt),
			NETIF_TX_EXTRA_MALFORMED);
	CU_ASSERT_EQUAL(pkt.bad_slot, 1);
	CU_ASSERT_EQUAL(netif_tx_action(NETIF_TX_EXTRA_MALFORMED),
			NETIF_DISABLE);
	/* GSO of a type that does not exist (and NONE). */
	reqs[1] = tx_extra(extra_gso(1448, 3, false), 2);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 2, &f, &pkt),
			NETIF_TX_EXTRA_MALFORMED);
	reqs[1] = tx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_NONE, false), 2);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 2, &f, &pkt),
			NETIF_TX_EXTRA_MALFORMED);
	/* The bad GSO second in the chain. */
	reqs[1] = tx_extra(extra_of_type(XEN_NETIF_EXTRA_TYPE_HASH, true), 2);
	reqs[2] = tx_extra(extra_gso(0, XEN_NETIF_GSO_TYPE_TCPV4, false), 3);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 3, &f, &pkt),
			NETIF_TX_EXTRA_MALFORMED);
	CU_ASSERT_EQUAL(pkt.bad_slot, 2);
	/* More extras than there are types. */
	for (unsigned i = 1; i <= NETIF_MAX_EXTRAS + 1; i++)
		reqs[i] = tx_extra(extra_of_type(XEN_NETIF_EXTRA_TYPE_HASH,
						 i <= NETIF_MAX_EXTRAS),
				   (uint16_t)i);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, NETIF_MAX_EXTRAS + 2, &f, &pkt),
			NETIF_TX_EXTRA_MALFORMED);
	CU_ASSERT_EQUAL(pkt.bad_slot, NETIF_MAX_EXTRAS + 1);
	/* Exactly NETIF_MAX_EXTRAS is fine. */
	reqs[NETIF_MAX_EXTRAS] =
		tx_extra(extra_of_type(XEN_NETIF_EXTRA_TYPE_HASH, false), 9);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, NETIF_MAX_EXTRAS + 1, &f, &pkt),
			NETIF_TX_OK);
	CU_ASSERT_EQUAL(pkt.nr_extras, NETIF_MAX_EXTRAS);
	CU_ASSERT_TRUE(pkt.has_hash);
}

static void test_tx_extra_unknown(void)
{
	struct netif_features f = gso4_features();
	netif_tx_request_t reqs[3];
	struct netif_tx_packet pkt;

	reqs[0] = tx_req(1, 0, NETTXF_extra_info, 1, 100);
	reqs[1] = tx_extra(extra_of_type(XEN_NETIF_EXTRA_TYPE_NONE, false), 2);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 2, &f, &pkt),
			NETIF_TX_EXTRA_UNKNOWN);
	CU_ASSERT_EQUAL(pkt.bad_slot, 1);
	CU_ASSERT_EQUAL(netif_tx_action(NETIF_TX_EXTRA_UNKNOWN), NETIF_DISABLE);
	reqs[1] = tx_extra(extra_of_type(XEN_NETIF_EXTRA_TYPE_MAX, false), 2);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 2, &f, &pkt),
			NETIF_TX_EXTRA_UNKNOWN);
	/* Second in the chain; known even before the chain ends. */
	reqs[1] = tx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_TCPV4, true), 2);
	reqs[2] = tx_extra(extra_of_type(200, true), 3);
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 3, &f, &pkt),
			NETIF_TX_EXTRA_UNKNOWN);
	CU_ASSERT_EQUAL(pkt.bad_slot, 2);
}

static void test_tx_extras_kept(void)
{
	struct netif_features f = gso4_features();
	netif_extra_info_t hash =
		extra_of_type(XEN_NETIF_EXTRA_TYPE_HASH, false);
	hash.u.hash.type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
	hash.u.hash.value[0] = 0xab;
	netif_tx_request_t reqs[3] = {
		tx_req(1, 0, NETTXF_extra_info, 1, 100),
		tx_extra(extra_gso(536, XEN_NETIF_GSO_TYPE_TCPV4, true), 2),
		tx_extra(hash, 3),
	};
	struct netif_tx_packet pkt;

	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 3, &f, &pkt), NETIF_TX_OK);
	CU_ASSERT_EQUAL(pkt.nr_extras, 2);
	CU_ASSERT_EQUAL(pkt.nr_slots, 3);
	CU_ASSERT_EQUAL(pkt.gso_size, 536);
	CU_ASSERT_TRUE(pkt.has_hash);
	CU_ASSERT_EQUAL(pkt.hash.u.hash.type,
			_XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
	CU_ASSERT_EQUAL(pkt.hash.u.hash.value[0], 0xab);
}

static void test_tx_mcast(void)
{
	netif_extra_info_t add =
		extra_of_type(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, true);
	netif_extra_info_t del =
		extra_of_type(XEN_NETIF_EXTRA_TYPE_MCAST_DEL, false);
	const uint8_t a[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	const uint8_t d[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x02};
	memcpy(add.u.mcast.addr, a, 6);
	memcpy(del.u.mcast.addr, d, 6);
	/* The request carries no data: its size and more_data do not count. */
	netif_tx_request_t reqs[4] = {
		tx_req(0, 0, NETTXF_extra_info | NETTXF_more_data, 1, 0),
		tx_extra(add, 2),
		tx_extra(del, 3),
		tx_req(5, 0, 0, 4, 60),
	};
	struct netif_tx_packet pkt;

	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 4, &no_features, &pkt),
			NETIF_TX_OK);
	CU_ASSERT_EQUAL(pkt.nr_slots, 3);
	CU_ASSERT_EQUAL(pkt.nr_frags, 0);
	CU_ASSERT_EQUAL(pkt.size, 0);
	CU_ASSERT_EQUAL(pkt.nr_mcast, 2);
	CU_ASSERT_EQUAL(pkt.mcast[0].type, XEN_NETIF_EXTRA_TYPE_MCAST_ADD);
	CU_ASSERT_EQUAL(memcmp(pkt.mcast[0].addr, a, 6), 0);
	CU_ASSERT_EQUAL(pkt.mcast[1].type, XEN_NETIF_EXTRA_TYPE_MCAST_DEL);
	CU_ASSERT_EQUAL(memcmp(pkt.mcast[1].addr, d, 6), 0);
}

/* The longest packet short of fatal fits NETIF_TX_MAX_PACKET_SLOTS. */
static void test_tx_longest_packet(void)
{
	struct netif_features f = gso4_features();
	netif_tx_request_t reqs[NETIF_TX_MAX_PACKET_SLOTS];
	netif_tx_request_t data[NETIF_TX_FATAL_SLOT_COUNT];
	struct netif_tx_packet pkt;

	tx_chain(data, NETIF_TX_FATAL_SLOT_COUNT);
	reqs[0] = data[0];
	reqs[0].flags |= NETTXF_extra_info;
	reqs[1] = tx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_TCPV4, true), 1);
	reqs[2] = tx_extra(extra_of_type(XEN_NETIF_EXTRA_TYPE_HASH, true), 2);
	reqs[3] = tx_extra(extra_of_type(XEN_NETIF_EXTRA_TYPE_HASH, true), 3);
	reqs[4] = tx_extra(extra_of_type(XEN_NETIF_EXTRA_TYPE_HASH, false), 4);
	for (unsigned i = 1; i < NETIF_TX_FATAL_SLOT_COUNT; i++)
		reqs[NETIF_MAX_EXTRAS + i] = data[i];
	CU_ASSERT_EQUAL(
		netif_tx_parse(reqs, NETIF_TX_MAX_PACKET_SLOTS, &f, &pkt),
		NETIF_TX_TOO_MANY_SLOTS);
	CU_ASSERT_EQUAL(pkt.nr_slots, NETIF_TX_MAX_PACKET_SLOTS);
	CU_ASSERT_EQUAL(pkt.nr_extras, NETIF_MAX_EXTRAS);
	/* One slot fewer given: it waits for the rest. */
	CU_ASSERT_EQUAL(
		netif_tx_parse(reqs, NETIF_TX_MAX_PACKET_SLOTS - 1, &f, &pkt),
		NETIF_TX_INCOMPLETE);
	/* The last data slot asking for more: fatal without reading on. */
	reqs[NETIF_TX_MAX_PACKET_SLOTS - 1].flags |= NETTXF_more_data;
	CU_ASSERT_EQUAL(
		netif_tx_parse(reqs, NETIF_TX_MAX_PACKET_SLOTS, &f, &pkt),
		NETIF_TX_FATAL_SLOTS);
	CU_ASSERT_EQUAL(pkt.bad_slot, NETIF_TX_MAX_PACKET_SLOTS - 1);
}

static void test_tx_responses(void)
{
	struct netif_features f = gso4_features();
	netif_tx_request_t reqs[4] = {
		tx_req(1, 0, NETTXF_extra_info | NETTXF_more_data, 11, 3000),
		tx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_TCPV4, false), 12),
		tx_req(2, 0, NETTXF_more_data, 13, 1000),
		tx_req(3, 0, 0, 14, 1000),
	};
	struct netif_tx_packet pkt;
	netif_tx_response_t rsps[4];

	CU_ASSERT_EQUAL_FATAL(netif_tx_parse(reqs, 4, &f, &pkt), NETIF_TX_OK);
	memset(rsps, 0x55, sizeof(rsps));
	CU_ASSERT_EQUAL(netif_tx_responses(reqs, &pkt, NETIF_RSP_OKAY, rsps),
			4);
	CU_ASSERT_EQUAL(rsps[0].id, 11);
	CU_ASSERT_EQUAL(rsps[0].status, NETIF_RSP_OKAY);
	CU_ASSERT_EQUAL(rsps[1].status, NETIF_RSP_NULL);
	CU_ASSERT_EQUAL(rsps[2].id, 13);
	CU_ASSERT_EQUAL(rsps[2].status, NETIF_RSP_OKAY);
	CU_ASSERT_EQUAL(rsps[3].id, 14);
	CU_ASSERT_EQUAL(rsps[3].status, NETIF_RSP_OKAY);

	/* An erroneous packet: every slot answered, extras still NULL. */
	reqs[3].size = 2500; /* 2000 left */
	CU_ASSERT_EQUAL_FATAL(netif_tx_parse(reqs, 4, &f, &pkt),
			      NETIF_TX_FRAG_EXCEEDS_TOTAL);
	CU_ASSERT_EQUAL(netif_tx_responses(reqs, &pkt, NETIF_RSP_ERROR, rsps),
			4);
	CU_ASSERT_EQUAL(rsps[0].status, NETIF_RSP_ERROR);
	CU_ASSERT_EQUAL(rsps[1].status, NETIF_RSP_NULL);
	CU_ASSERT_EQUAL(rsps[2].status, NETIF_RSP_ERROR);
	CU_ASSERT_EQUAL(rsps[3].id, 14);
	CU_ASSERT_EQUAL(rsps[3].status, NETIF_RSP_ERROR);

	/* Too many slots: 19 answers, in ring order. */
	netif_tx_request_t many[XEN_NETIF_NR_SLOTS_MIN + 1];
	netif_tx_response_t many_rsps[XEN_NETIF_NR_SLOTS_MIN + 1];
	tx_chain(many, XEN_NETIF_NR_SLOTS_MIN + 1);
	CU_ASSERT_EQUAL_FATAL(netif_tx_parse(many, XEN_NETIF_NR_SLOTS_MIN + 1,
					     &no_features, &pkt),
			      NETIF_TX_TOO_MANY_SLOTS);
	CU_ASSERT_EQUAL(
		netif_tx_responses(many, &pkt, NETIF_RSP_ERROR, many_rsps),
		XEN_NETIF_NR_SLOTS_MIN + 1);
	for (unsigned i = 0; i < XEN_NETIF_NR_SLOTS_MIN + 1; i++) {
		CU_ASSERT_EQUAL(many_rsps[i].id, 100 + i);
		CU_ASSERT_EQUAL(many_rsps[i].status, NETIF_RSP_ERROR);
	}
}

static void test_tx_reason_strings(void)
{
	for (int r = 0; r < NETIF_TX_REASON_COUNT; r++) {
		const char *s = netif_tx_reason_str((enum netif_tx_reason)r);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT_STRING_NOT_EQUAL(s, "unknown reason");
		for (int o = 0; o < r; o++)
			CU_ASSERT_STRING_NOT_EQUAL(
				s,
				netif_tx_reason_str((enum netif_tx_reason)o));
	}
	CU_ASSERT_STRING_EQUAL(netif_tx_reason_str(NETIF_TX_REASON_COUNT),
			       "unknown reason");
}

static void test_tx_build(void)
{
	const struct netif_tx_frag frags[3] = {
		{.gref = 5, .offset = 64, .size = 1000},
		{.gref = 6, .offset = 0, .size = 4096},
		{.gref = 7, .offset = 10, .size = 4},
	};
	const uint16_t ids[3] = {40, 41, 42};
	netif_tx_request_t reqs[3];

	CU_ASSERT_EQUAL(
		netif_tx_build(5100, frags, 3, ids, NETTXF_csum_blank, reqs),
		3);
	CU_ASSERT_EQUAL(reqs[0].gref, 5);
	CU_ASSERT_EQUAL(reqs[0].offset, 64);
	CU_ASSERT_EQUAL(reqs[0].size, 5100);
	CU_ASSERT_EQUAL(reqs[0].id, 40);
	CU_ASSERT_EQUAL(reqs[0].flags, NETTXF_csum_blank | NETTXF_more_data);
	CU_ASSERT_EQUAL(reqs[1].size, 4096);
	CU_ASSERT_EQUAL(reqs[1].flags, NETTXF_more_data);
	CU_ASSERT_EQUAL(reqs[1].id, 41);
	CU_ASSERT_EQUAL(reqs[2].size, 4);
	CU_ASSERT_EQUAL(reqs[2].flags, 0);
	CU_ASSERT_EQUAL(reqs[2].id, 42);

	/* What it builds, the backend accepts as it was meant. */
	struct netif_tx_packet pkt;
	struct netif_features sg = {.sg = true};
	CU_ASSERT_EQUAL_FATAL(netif_tx_parse(reqs, 3, &sg, &pkt), NETIF_TX_OK);
	CU_ASSERT_EQUAL(pkt.size, 5100);
	CU_ASSERT_EQUAL(pkt.flags, NETTXF_csum_blank);
	for (unsigned i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(pkt.frags[i].gref, frags[i].gref);
		CU_ASSERT_EQUAL(pkt.frags[i].offset, frags[i].offset);
		CU_ASSERT_EQUAL(pkt.frags[i].size, frags[i].size);
	}

	/* One slot: no more_data. */
	CU_ASSERT_EQUAL(netif_tx_build(1000, frags, 1, ids, 0, reqs), 1);
	CU_ASSERT_EQUAL(reqs[0].flags, 0);
	CU_ASSERT_EQUAL(reqs[0].size, 1000);
}

static void test_tx_build_refuses(void)
{
	struct netif_tx_frag frags[XEN_NETIF_NR_SLOTS_MIN + 1];
	uint16_t ids[XEN_NETIF_NR_SLOTS_MIN + 1] = {0};
	netif_tx_request_t reqs[XEN_NETIF_NR_SLOTS_MIN + 1];

	for (unsigned i = 0; i <= XEN_NETIF_NR_SLOTS_MIN; i++)
		frags[i] = (struct netif_tx_frag){.gref = i, .size = 100};
	/* Sizes that do not add up. */
	CU_ASSERT_EQUAL(netif_tx_build(201, frags, 2, ids, 0, reqs), 0);
	CU_ASSERT_EQUAL(netif_tx_build(199, frags, 2, ids, 0, reqs), 0);
	/* No slot, too many slots. */
	CU_ASSERT_EQUAL(netif_tx_build(0, frags, 0, ids, 0, reqs), 0);
	CU_ASSERT_EQUAL(netif_tx_build(1900, frags, XEN_NETIF_NR_SLOTS_MIN + 1,
				       ids, 0, reqs),
			0);
	CU_ASSERT_EQUAL(netif_tx_build(1800, frags, XEN_NETIF_NR_SLOTS_MIN, ids,
				       0, reqs),
			XEN_NETIF_NR_SLOTS_MIN);
	/* Flags that are not the first slot's to give. */
	CU_ASSERT_EQUAL(
		netif_tx_build(200, frags, 2, ids, NETTXF_more_data, reqs), 0);
	CU_ASSERT_EQUAL(
		netif_tx_build(200, frags, 2, ids, NETTXF_extra_info, reqs), 0);
	/* A slot across its page. */
	frags[1].offset = 4000;
	CU_ASSERT_EQUAL(netif_tx_build(200, frags, 2, ids, 0, reqs), 0);
	/* More than the first slot's 16-bit size can say. */
	struct netif_tx_frag big[17];
	for (unsigned i = 0; i < 17; i++)
		big[i] = (struct netif_tx_frag){.gref = i, .size = 4096};
	CU_ASSERT_EQUAL(netif_tx_build(17 * 4096, big, 17, ids, 0, reqs), 0);
}

/* ---- RX ---- */

static netif_rx_response_t rx_rsp(uint16_t id, uint16_t offset, uint16_t flags,
				  int16_t status)
{
	netif_rx_response_t rsp = {
		.id = id, .offset = offset, .flags = flags, .status = status};
	return rsp;
}

static netif_rx_response_t rx_extra(netif_extra_info_t e)
{
	netif_rx_response_t rsp;

	memcpy(&rsp, &e, sizeof(rsp));
	return rsp;
}

static void rx_requests(netif_rx_request_t *reqs, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++) {
		reqs[i].id = (uint16_t)(200 + i);
		reqs[i].pad = 0;
		reqs[i].gref = 300 + i;
	}
}

static void test_rx_slots_needed(void)
{
	struct netif_features sg = {.sg = true};
	struct netif_features gso = {.sg = true, .gso_tcpv6 = true};

	CU_ASSERT_EQUAL(netif_rx_slots_needed(0, false, &sg), 0);
	CU_ASSERT_EQUAL(netif_rx_slots_needed(1, false, &no_features), 1);
	CU_ASSERT_EQUAL(netif_rx_slots_needed(4096, false, &no_features), 1);
	/* More than a page needs scatter-gather. */
	CU_ASSERT_EQUAL(netif_rx_slots_needed(4097, false, &no_features), 0);
	CU_ASSERT_EQUAL(netif_rx_slots_needed(4097, false, &sg), 2);
	CU_ASSERT_EQUAL(netif_rx_slots_needed(XEN_NETIF_NR_SLOTS_MIN * 4096,
					      false, &sg),
			XEN_NETIF_NR_SLOTS_MIN);
	CU_ASSERT_EQUAL(netif_rx_slots_needed(XEN_NETIF_NR_SLOTS_MIN * 4096 + 1,
					      false, &sg),
			0);
	/* A GSO extra takes one more, only where GSO was negotiated. */
	CU_ASSERT_EQUAL(netif_rx_slots_needed(65535, true, &gso), 17);
	CU_ASSERT_EQUAL(netif_rx_slots_needed(100, true, &gso), 2);
	CU_ASSERT_EQUAL(netif_rx_slots_needed(100, true, &sg), 0);
	CU_ASSERT_EQUAL(netif_rx_slots_needed(0, true, &gso), 0);
}

static void test_rx_responses_one_slot(void)
{
	netif_rx_request_t reqs[1];
	netif_rx_response_t rsps[1];
	struct netif_rx_meta meta = {.size = 60};

	rx_requests(reqs, 1);
	CU_ASSERT_EQUAL(netif_rx_responses(reqs, 1, &meta, rsps), 1);
	CU_ASSERT_EQUAL(rsps[0].id, 200);
	CU_ASSERT_EQUAL(rsps[0].offset, 0);
	CU_ASSERT_EQUAL(rsps[0].status, 60);
	CU_ASSERT_EQUAL(rsps[0].flags, 0);

	/* RX bit positions: data_validated is bit 0, csum_blank bit 1. */
	meta.data_validated = true;
	netif_rx_responses(reqs, 1, &meta, rsps);
	CU_ASSERT_EQUAL(rsps[0].flags, 1u << 0);
	CU_ASSERT_EQUAL(rsps[0].flags, NETRXF_data_validated);
	meta.data_validated = false;
	meta.csum_blank = true;
	netif_rx_responses(reqs, 1, &meta, rsps);
	/* A blank checksum is also one nothing needs to verify. */
	CU_ASSERT_EQUAL(rsps[0].flags, (1u << 1) | (1u << 0));
	CU_ASSERT_EQUAL(rsps[0].flags,
			NETRXF_csum_blank | NETRXF_data_validated);
}

static void test_rx_responses_pages(void)
{
	netif_rx_request_t reqs[3];
	netif_rx_response_t rsps[3];
	struct netif_rx_meta meta = {.size = 9000, .data_validated = true};
	struct netif_features sg = {.sg = true};

	rx_requests(reqs, 3);
	CU_ASSERT_EQUAL_FATAL(netif_rx_slots_needed(9000, false, &sg), 3);
	CU_ASSERT_EQUAL(netif_rx_responses(reqs, 3, &meta, rsps), 3);
	CU_ASSERT_EQUAL(rsps[0].status, 4096);
	CU_ASSERT_EQUAL(rsps[0].flags,
			NETRXF_data_validated | NETRXF_more_data);
	CU_ASSERT_EQUAL(rsps[1].status, 4096);
	CU_ASSERT_EQUAL(rsps[1].flags, NETRXF_more_data);
	CU_ASSERT_EQUAL(rsps[2].status, 9000 - 8192);
	CU_ASSERT_EQUAL(rsps[2].flags, 0);
	for (unsigned i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(rsps[i].id, 200 + i);
		CU_ASSERT_EQUAL(rsps[i].offset, 0);
	}

	/* The frontend reads back what the backend wrote. */
	struct netif_rx_packet pkt;
	CU_ASSERT_EQUAL_FATAL(netif_rx_parse(rsps, 3, &sg, &pkt), NETIF_RX_OK);
	CU_ASSERT_EQUAL(pkt.size, 9000);
	CU_ASSERT_EQUAL(pkt.nr_slots, 3);
	CU_ASSERT_EQUAL(pkt.nr_frags, 3);
	CU_ASSERT_EQUAL(pkt.flags, NETRXF_data_validated);
	CU_ASSERT_EQUAL(pkt.frags[2].slot, 2);
	CU_ASSERT_EQUAL(pkt.frags[2].len, 9000 - 8192);
}

static void test_rx_responses_gso(void)
{
	netif_rx_request_t reqs[3];
	netif_rx_response_t rsps[3];
	struct netif_rx_meta meta = {.size = 5000,
				     .csum_blank = true,
				     .has_gso = true,
				     .gso_size = 1448,
				     .gso_type = XEN_NETIF_GSO_TYPE_TCPV4};
	struct netif_features f = gso4_features();

	rx_requests(reqs, 3);
	CU_ASSERT_EQUAL_FATAL(netif_rx_slots_needed(5000, true, &f), 3);
	CU_ASSERT_EQUAL(netif_rx_responses(reqs, 3, &meta, rsps), 3);
	CU_ASSERT_EQUAL(rsps[0].status, 4096);
	CU_ASSERT_EQUAL(rsps[0].flags,
			NETRXF_csum_blank | NETRXF_data_validated |
				NETRXF_more_data | NETRXF_extra_info);
	/* The GSO extra is the second slot. */
	netif_extra_info_t gso;
	memcpy(&gso, &rsps[1], sizeof(gso));
	CU_ASSERT_EQUAL(gso.type, XEN_NETIF_EXTRA_TYPE_GSO);
	CU_ASSERT_EQUAL(gso.flags, 0);
	CU_ASSERT_EQUAL(gso.u.gso.size, 1448);
	CU_ASSERT_EQUAL(gso.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
	CU_ASSERT_EQUAL(gso.u.gso.features, 0);
	CU_ASSERT_EQUAL(rsps[2].id, 202);
	CU_ASSERT_EQUAL(rsps[2].status, 904);
	CU_ASSERT_EQUAL(rsps[2].flags, 0);

	struct netif_rx_packet pkt;
	CU_ASSERT_EQUAL_FATAL(netif_rx_parse(rsps, 3, &f, &pkt), NETIF_RX_OK);
	CU_ASSERT_EQUAL(pkt.size, 5000);
	CU_ASSERT_EQUAL(pkt.nr_slots, 3);
	CU_ASSERT_EQUAL(pkt.nr_frags, 2);
	CU_ASSERT_EQUAL(pkt.frags[0].slot, 0);
	CU_ASSERT_EQUAL(pkt.frags[1].slot, 2);
	CU_ASSERT_TRUE(pkt.has_gso);
	CU_ASSERT_EQUAL(pkt.gso_size, 1448);
	CU_ASSERT_EQUAL(pkt.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
	CU_ASSERT_EQUAL(pkt.flags, NETRXF_csum_blank | NETRXF_data_validated);

	/* GSO in one page: the extra is the last slot, no more_data. */
	meta.size = 3000;
	CU_ASSERT_EQUAL_FATAL(netif_rx_slots_needed(3000, true, &f), 2);
	CU_ASSERT_EQUAL(netif_rx_responses(reqs, 2, &meta, rsps), 2);
	CU_ASSERT_EQUAL(rsps[0].flags, NETRXF_csum_blank |
					       NETRXF_data_validated |
					       NETRXF_extra_info);
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 2, &f, &pkt), NETIF_RX_OK);
	CU_ASSERT_EQUAL(pkt.size, 3000);
	CU_ASSERT_EQUAL(pkt.nr_slots, 2);
}

static void test_rx_parse_ok_offset(void)
{
	netif_rx_response_t rsps[2] = {
		rx_rsp(9, 2048, NETRXF_more_data, 2048),
		rx_rsp(9, 100, 0, 3996),
	};
	struct netif_features sg = {.sg = true};
	struct netif_rx_packet pkt;

	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 2, &sg, &pkt), NETIF_RX_OK);
	CU_ASSERT_EQUAL(pkt.size, 2048 + 3996);
	CU_ASSERT_EQUAL(pkt.frags[0].offset, 2048);
	CU_ASSERT_EQUAL(pkt.frags[1].offset, 100);
	CU_ASSERT_EQUAL(pkt.frags[1].len, 3996);
}

static void test_rx_status_error(void)
{
	struct netif_rx_packet pkt;
	netif_rx_response_t one[1] = {rx_rsp(1, 0, 0, NETIF_RSP_ERROR)};

	CU_ASSERT_EQUAL(netif_rx_parse(one, 1, &no_features, &pkt),
			NETIF_RX_STATUS_ERROR);
	CU_ASSERT_EQUAL(pkt.nr_slots, 1);
	one[0].status = NETIF_RSP_DROPPED;
	CU_ASSERT_EQUAL(netif_rx_parse(one, 1, &no_features, &pkt),
			NETIF_RX_STATUS_ERROR);

	/* A bad slot in the middle: the whole chain is still consumed. */
	netif_rx_response_t three[3] = {
		rx_rsp(1, 0, NETRXF_more_data, 4096),
		rx_rsp(2, 0, NETRXF_more_data, -1),
		rx_rsp(3, 0, 0, 100),
	};
	struct netif_features sg = {.sg = true};
	CU_ASSERT_EQUAL(netif_rx_parse(three, 3, &sg, &pkt),
			NETIF_RX_STATUS_ERROR);
	CU_ASSERT_EQUAL(pkt.nr_slots, 3);
	CU_ASSERT_EQUAL(pkt.bad_slot, 1);
}

static void test_rx_bad_offset(void)
{
	struct netif_rx_packet pkt;
	netif_rx_response_t one[1] = {rx_rsp(1, 100, 0, 4000)};

	CU_ASSERT_EQUAL(netif_rx_parse(one, 1, &no_features, &pkt),
			NETIF_RX_BAD_OFFSET);
	CU_ASSERT_EQUAL(pkt.nr_slots, 1);
	one[0] = rx_rsp(1, 96, 0, 4000);
	CU_ASSERT_EQUAL(netif_rx_parse(one, 1, &no_features, &pkt),
			NETIF_RX_OK);
	one[0] = rx_rsp(1, 5000, 0, 20);
	CU_ASSERT_EQUAL(netif_rx_parse(one, 1, &no_features, &pkt),
			NETIF_RX_BAD_OFFSET);
}

static void test_rx_too_many_slots(void)
{
	netif_rx_response_t rsps[XEN_NETIF_NR_SLOTS_MIN + 2];
	struct netif_features sg = {.sg = true};
	struct netif_rx_packet pkt;

	for (unsigned i = 0; i < XEN_NETIF_NR_SLOTS_MIN + 1; i++)
		rsps[i] = rx_rsp(
			(uint16_t)i, 0,
			i < XEN_NETIF_NR_SLOTS_MIN ? NETRXF_more_data : 0, 100);
	CU_ASSERT_EQUAL(
		netif_rx_parse(rsps, XEN_NETIF_NR_SLOTS_MIN + 1, &sg, &pkt),
		NETIF_RX_TOO_MANY_SLOTS);
	CU_ASSERT_EQUAL(pkt.nr_slots, XEN_NETIF_NR_SLOTS_MIN + 1);
	CU_ASSERT_EQUAL(pkt.bad_slot, XEN_NETIF_NR_SLOTS_MIN);
	/* Eighteen is fine. */
	rsps[XEN_NETIF_NR_SLOTS_MIN - 1].flags = 0;
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, XEN_NETIF_NR_SLOTS_MIN, &sg, &pkt),
			NETIF_RX_OK);
	CU_ASSERT_EQUAL(pkt.nr_frags, XEN_NETIF_NR_SLOTS_MIN);
}

static void test_rx_incomplete(void)
{
	struct netif_features f = gso4_features();
	struct netif_rx_packet pkt;
	netif_rx_response_t rsps[3] = {
		rx_rsp(1, 0, NETRXF_more_data, 4096),
		rx_rsp(2, 0, NETRXF_more_data, 4096),
	};

	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 0, &f, &pkt), NETIF_RX_INCOMPLETE);
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 2, &f, &pkt), NETIF_RX_INCOMPLETE);
	CU_ASSERT_EQUAL(pkt.nr_slots, 0);
	/* The extra missing, or its chain cut. */
	rsps[0] = rx_rsp(1, 0, NETRXF_extra_info, 100);
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 1, &f, &pkt), NETIF_RX_INCOMPLETE);
	rsps[1] = rx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_TCPV4, true));
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 2, &f, &pkt), NETIF_RX_INCOMPLETE);
	/* Data after the extra, missing. */
	rsps[0].flags |= NETRXF_more_data;
	rsps[1] = rx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_TCPV4, false));
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 2, &f, &pkt), NETIF_RX_INCOMPLETE);
	rsps[2] = rx_rsp(3, 0, 0, 50);
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 3, &f, &pkt), NETIF_RX_OK);
	CU_ASSERT_EQUAL(pkt.size, 150);
}

static void test_rx_extra_unknown(void)
{
	struct netif_features f = gso4_features();
	struct netif_rx_packet pkt;
	netif_rx_response_t rsps[3] = {
		rx_rsp(1, 0, NETRXF_extra_info | NETRXF_more_data, 100),
		rx_extra(extra_of_type(XEN_NETIF_EXTRA_TYPE_NONE, false)),
		rx_rsp(3, 0, 0, 100),
	};

	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 3, &f, &pkt),
			NETIF_RX_EXTRA_UNKNOWN);
	/* The packet is dropped whole. */
	CU_ASSERT_EQUAL(pkt.nr_slots, 3);
	CU_ASSERT_EQUAL(pkt.bad_slot, 1);
	rsps[1] = rx_extra(extra_of_type(XEN_NETIF_EXTRA_TYPE_MAX, false));
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 3, &f, &pkt),
			NETIF_RX_EXTRA_UNKNOWN);
	/* Multicast control never comes from a backend. */
	rsps[1] =
		rx_extra(extra_of_type(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, false));
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 3, &f, &pkt),
			NETIF_RX_EXTRA_UNKNOWN);
	/* A hash without the control ring that sets it up. */
	rsps[1] = rx_extra(extra_of_type(XEN_NETIF_EXTRA_TYPE_HASH, false));
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 3, &f, &pkt),
			NETIF_RX_EXTRA_UNKNOWN);
	f.ctrl_ring = true;
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 3, &f, &pkt), NETIF_RX_OK);
	/* GSO of a type the frontend did not ask for. */
	rsps[1] = rx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_TCPV6, false));
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 3, &f, &pkt),
			NETIF_RX_EXTRA_UNKNOWN);
	CU_ASSERT_EQUAL(pkt.nr_slots, 3);
	CU_ASSERT_FALSE(pkt.has_gso);
}

static void test_rx_extra_malformed(void)
{
	struct netif_features f = gso4_features();
	struct netif_rx_packet pkt;
	netif_rx_response_t rsps[8] = {
		rx_rsp(1, 0, NETRXF_extra_info, 100),
		rx_extra(extra_gso(0, XEN_NETIF_GSO_TYPE_TCPV4, false)),
	};

	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 2, &f, &pkt),
			NETIF_RX_EXTRA_MALFORMED);
	CU_ASSERT_EQUAL(pkt.nr_slots, 2);
	rsps[1] = rx_extra(extra_gso(1448, 7, false));
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 2, &f, &pkt),
			NETIF_RX_EXTRA_MALFORMED);
	/* A chain longer than one extra of each type. */
	for (unsigned i = 1; i <= NETIF_MAX_EXTRAS + 1; i++)
		rsps[i] = rx_extra(extra_gso(1448, XEN_NETIF_GSO_TYPE_TCPV4,
					     i <= NETIF_MAX_EXTRAS));
	CU_ASSERT_EQUAL(netif_rx_parse(rsps, NETIF_MAX_EXTRAS + 2, &f, &pkt),
			NETIF_RX_EXTRA_MALFORMED);
	CU_ASSERT_EQUAL(pkt.nr_slots, NETIF_MAX_EXTRAS + 2);
	CU_ASSERT_EQUAL(pkt.bad_slot, NETIF_MAX_EXTRAS + 1);
}

static void test_rx_runt(void)
{
	struct netif_rx_packet pkt;
	netif_rx_response_t one[1] = {rx_rsp(1, 0, 0, NETIF_ETH_HLEN - 1)};

	CU_ASSERT_EQUAL(netif_rx_parse(one, 1, &no_features, &pkt),
			NETIF_RX_RUNT);
	CU_ASSERT_EQUAL(pkt.nr_slots, 1);
	one[0].status = NETIF_ETH_HLEN;
	CU_ASSERT_EQUAL(netif_rx_parse(one, 1, &no_features, &pkt),
			NETIF_RX_OK);
	/* Split over two slots, the total counts. */
	netif_rx_response_t two[2] = {
		rx_rsp(1, 0, NETRXF_more_data, 6),
		rx_rsp(2, 0, 0, 8),
	};
	struct netif_features sg = {.sg = true};
	CU_ASSERT_EQUAL(netif_rx_parse(two, 2, &sg, &pkt), NETIF_RX_OK);
	two[1].status = 7;
	CU_ASSERT_EQUAL(netif_rx_parse(two, 2, &sg, &pkt), NETIF_RX_RUNT);
	CU_ASSERT_EQUAL(pkt.nr_slots, 2);
}

static void test_rx_lying_id(void)
{
	/* Ids are ignored: positions find the buffers. */
	netif_rx_response_t rsps[2] = {
		rx_rsp(0xffff, 0, NETRXF_more_data, 4096),
		rx_rsp(0xffff, 0, 0, 100),
	};
	struct netif_features sg = {.sg = true};
	struct netif_rx_packet pkt;

	CU_ASSERT_EQUAL(netif_rx_parse(rsps, 2, &sg, &pkt), NETIF_RX_OK);
	CU_ASSERT_EQUAL(pkt.frags[0].slot, 0);
	CU_ASSERT_EQUAL(pkt.frags[1].slot, 1);
}

static void test_rx_reason_strings(void)
{
	for (int r = 0; r < NETIF_RX_REASON_COUNT; r++) {
		const char *s = netif_rx_reason_str((enum netif_rx_reason)r);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT_STRING_NOT_EQUAL(s, "unknown reason");
		for (int o = 0; o < r; o++)
			CU_ASSERT_STRING_NOT_EQUAL(
				s,
				netif_rx_reason_str((enum netif_rx_reason)o));
	}
	for (int d = 0; d < NETIF_RX_DROP_COUNT; d++) {
		const char *s = netif_rx_drop_str((enum netif_rx_drop)d);
		CU_ASSERT_STRING_NOT_EQUAL(s, "unknown drop");
		for (int o = 0; o < d; o++)
			CU_ASSERT_STRING_NOT_EQUAL(
				s, netif_rx_drop_str((enum netif_rx_drop)o));
	}
	char path[64];
	CU_ASSERT_EQUAL(netif_stats_path(path, sizeof(path), "/run/x", 3, 1),
			(int)strlen("/run/x/netback/vif3.1.stats"));
	CU_ASSERT_STRING_EQUAL(path, "/run/x/netback/vif3.1.stats");
}

/* ---- feature keys ---- */

/* A peer's directory: keys and values, or an errno for a key. */
struct fake_dir {
	unsigned nr;
	struct {
		const char *key;
		char value[128];
		int error; /* returned instead of the value when non-zero */
	} entries[96];
};

static void dir_set(struct fake_dir *dir, const char *key, const char *value)
{
	for (unsigned i = 0; i < dir->nr; i++) {
		if (strcmp(dir->entries[i].key, key) == 0) {
			snprintf(dir->entries[i].value,
				 sizeof(dir->entries[i].value), "%s", value);
			dir->entries[i].error = 0;
			return;
		}
	}
	CU_ASSERT_FATAL(dir->nr < 96);
	dir->entries[dir->nr].key = key;
	snprintf(dir->entries[dir->nr].value,
		 sizeof(dir->entries[dir->nr].value), "%s", value);
	dir->entries[dir->nr].error = 0;
	dir->nr++;
}

static void dir_remove(struct fake_dir *dir, const char *key)
{
	for (unsigned i = 0; i < dir->nr; i++) {
		if (strcmp(dir->entries[i].key, key) == 0) {
			dir->entries[i] = dir->entries[--dir->nr];
			return;
		}
	}
}

static void dir_fail(struct fake_dir *dir, const char *key, int error)
{
	dir_set(dir, key, "");
	for (unsigned i = 0; i < dir->nr; i++)
		if (strcmp(dir->entries[i].key, key) == 0)
			dir->entries[i].error = error;
}

static void dir_from_keys(struct fake_dir *dir,
			  const struct netif_key_value *kv, unsigned nr)
{
	dir->nr = 0;
	for (unsigned i = 0; i < nr; i++)
		dir_set(dir, kv[i].key, kv[i].value);
}

static int dir_read(void *ctx, const char *key, char *value, size_t size)
{
	const struct fake_dir *dir = ctx;

	for (unsigned i = 0; i < dir->nr; i++) {
		if (strcmp(dir->entries[i].key, key) != 0)
			continue;
		if (dir->entries[i].error)
			return dir->entries[i].error;
		snprintf(value, size, "%s", dir->entries[i].value);
		return 1;
	}
	return 0;
}

static const char *kv_get(const struct netif_key_value *kv, unsigned nr,
			  const char *key)
{
	for (unsigned i = 0; i < nr; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

static void test_backend_offer_keys(void)
{
	/* What the agreement has pvio-netback offer. */
	struct netif_features offer = {.rx_copy = true,
				       .sg = true,
				       .ipv4_csum = true,
				       .ipv6_csum = true};
	struct netif_key_value kv[NETIF_MAX_KEYS];
	unsigned nr = netif_backend_offer_keys(&offer, kv, NETIF_MAX_KEYS);

	CU_ASSERT_TRUE(nr > 0 && nr <= NETIF_MAX_KEYS);
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-rx-copy"), "1");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-rx-flip"), "0");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-sg"), "1");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-ipv6-csum-offload"),
			       "1");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-gso-tcpv4"), "0");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-gso-tcpv6"), "0");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-split-event-channels"),
			       "0");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-ctrl-ring"), "0");
	/* Absent means IPv4 checksum offload is on; no multi-queue. */
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "feature-no-csum-offload"));
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "multi-queue-max-queues"));

	offer.ipv4_csum = false;
	offer.max_queues = 4;
	nr = netif_backend_offer_keys(&offer, kv, NETIF_MAX_KEYS);
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-no-csum-offload"), "1");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "multi-queue-max-queues"), "4");

	/* Never more than max. */
	CU_ASSERT_EQUAL(netif_backend_offer_keys(&offer, kv, 3), 3);
	CU_ASSERT_EQUAL(netif_backend_offer_keys(&offer, kv, 0), 0);
}

static void test_backend_offer_round_trip(void)
{
	struct netif_features offers[3] = {
		{.rx_copy = true, .sg = true, .ipv4_csum = true},
		{.rx_copy = true,
		 .sg = true,
		 .ipv4_csum = true,
		 .ipv6_csum = true,
		 .gso_tcpv4 = true,
		 .gso_tcpv6 = true,
		 .split_evtchn = true,
		 .mcast_ctrl = true,
		 .ctrl_ring = true,
		 .max_queues = 8},
		{.ipv4_csum = false},
	};
	for (unsigned i = 0; i < 3; i++) {
		struct netif_key_value kv[NETIF_MAX_KEYS];
		unsigned nr = netif_backend_offer_keys(&offers[i], kv,
						       NETIF_MAX_KEYS);
		struct fake_dir dir;
		struct netif_features read;
		struct netif_key_error err;

		dir_from_keys(&dir, kv, nr);
		CU_ASSERT_EQUAL_FATAL(
			netif_read_backend_offer(dir_read, &dir, &read, &err),
			0);
		CU_ASSERT_EQUAL(read.rx_copy, offers[i].rx_copy);
		CU_ASSERT_EQUAL(read.sg, offers[i].sg);
		CU_ASSERT_EQUAL(read.ipv4_csum, offers[i].ipv4_csum);
		CU_ASSERT_EQUAL(read.ipv6_csum, offers[i].ipv6_csum);
		CU_ASSERT_EQUAL(read.gso_tcpv4, offers[i].gso_tcpv4);
		CU_ASSERT_EQUAL(read.gso_tcpv6, offers[i].gso_tcpv6);
		CU_ASSERT_EQUAL(read.split_evtchn, offers[i].split_evtchn);
		CU_ASSERT_EQUAL(read.mcast_ctrl, offers[i].mcast_ctrl);
		CU_ASSERT_EQUAL(read.ctrl_ring, offers[i].ctrl_ring);
		CU_ASSERT_EQUAL(read.max_queues, offers[i].max_queues);
	}
}

static void test_backend_offer_missing_keys(void)
{
	struct fake_dir dir = {0};
	struct netif_features offer;
	struct netif_key_error err;

	CU_ASSERT_EQUAL(netif_read_backend_offer(dir_read, &dir, &offer, &err),
			0);
	CU_ASSERT_FALSE(offer.rx_copy);
	CU_ASSERT_FALSE(offer.sg);
	CU_ASSERT_FALSE(offer.gso_tcpv4);
	CU_ASSERT_TRUE(offer.ipv4_csum);
	CU_ASSERT_EQUAL(offer.max_queues, 0);
}

static void check_offer_refused(struct fake_dir *dir, const char *key,
				const char *value, const char *why, int error)
{
	struct netif_features offer;
	struct netif_key_error err;

	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(netif_read_backend_offer(dir_read, dir, &offer, &err),
			error);
	CU_ASSERT_STRING_EQUAL(err.key, key);
	CU_ASSERT_STRING_EQUAL(err.value, value);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err.why);
	CU_ASSERT_STRING_EQUAL(err.why, why);
}

static void test_backend_offer_malformed(void)
{
	struct fake_dir dir = {0};

	dir_set(&dir, "feature-rx-copy", "1");
	dir_set(&dir, "feature-sg", "2");
	check_offer_refused(&dir, "feature-sg", "2", "not 0 or 1", -EINVAL);
	dir_set(&dir, "feature-sg", "yes");
	check_offer_refused(&dir, "feature-sg", "yes", "not 0 or 1", -EINVAL);
	dir_set(&dir, "feature-sg", "");
	check_offer_refused(&dir, "feature-sg", "", "not 0 or 1", -EINVAL);
	dir_set(&dir, "feature-sg", "1");
	dir_set(&dir, "feature-gso-tcpv6", "01");
	check_offer_refused(&dir, "feature-gso-tcpv6", "01", "not 0 or 1",
			    -EINVAL);
	dir_set(&dir, "feature-gso-tcpv6", "0");
	dir_set(&dir, "multi-queue-max-queues", "four");
	check_offer_refused(&dir, "multi-queue-max-queues", "four",
			    "not a decimal number", -EINVAL);
	dir_set(&dir, "multi-queue-max-queues", "-1");
	check_offer_refused(&dir, "multi-queue-max-queues", "-1",
			    "not a decimal number", -EINVAL);
	dir_set(&dir, "multi-queue-max-queues", "5000");
	check_offer_refused(&dir, "multi-queue-max-queues", "5000",
			    "out of range", -EINVAL);
	dir_set(&dir, "multi-queue-max-queues", "99999999999");
	check_offer_refused(&dir, "multi-queue-max-queues", "99999999999",
			    "out of range", -EINVAL);
	dir_set(&dir, "multi-queue-max-queues", "2");
	/* A value too long for the error is cut, never overrun. */
	char long_value[100];
	memset(long_value, 'x', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	dir_set(&dir, "feature-ctrl-ring", long_value);
	check_offer_refused(&dir, "feature-ctrl-ring",
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
			    "not 0 or 1", -EINVAL);
	dir_set(&dir, "feature-ctrl-ring", "0");
	/* The reader's own failure is passed on with the key named. */
	dir_fail(&dir, "feature-ipv6-csum-offload", -EACCES);
	check_offer_refused(&dir, "feature-ipv6-csum-offload", "",
			    "could not be read", -EACCES);
	dir_set(&dir, "feature-ipv6-csum-offload", "1");
	struct netif_features offer;
	struct netif_key_error err;
	CU_ASSERT_EQUAL(netif_read_backend_offer(dir_read, &dir, &offer, &err),
			0);
	CU_ASSERT_EQUAL(offer.max_queues, 2);
	CU_ASSERT_TRUE(offer.ipv6_csum);
}

static void test_frontend_choose(void)
{
	struct netif_features offer = {.rx_copy = true,
				       .sg = true,
				       .ipv4_csum = true,
				       .ipv6_csum = true,
				       .gso_tcpv4 = true,
				       .split_evtchn = true,
				       .max_queues = 4};
	struct netif_features supported = {.sg = true,
					   .ipv4_csum = true,
					   .gso_tcpv4 = true,
					   .gso_tcpv6 = true,
					   .max_queues = 2};
	struct netif_features chosen;

	netif_frontend_choose(&offer, &supported, &chosen);
	CU_ASSERT_TRUE(chosen.rx_copy);
	CU_ASSERT_TRUE(chosen.rx_notify);
	CU_ASSERT_TRUE(chosen.sg);
	CU_ASSERT_TRUE(chosen.ipv4_csum);
	CU_ASSERT_FALSE(chosen.ipv6_csum); /* not supported */
	CU_ASSERT_TRUE(chosen.gso_tcpv4);
	/* An offer of what the frontend takes on RX: not the backend's to
	 * grant (Linux netfront writes it whatever was offered). */
	CU_ASSERT_TRUE(chosen.gso_tcpv6);
	CU_ASSERT_FALSE(chosen.split_evtchn);
	CU_ASSERT_EQUAL(chosen.max_queues, 2);

	/* IPv4 checksum offload is the frontend's to refuse, offer or not. */
	offer.ipv4_csum = false;
	netif_frontend_choose(&offer, &supported, &chosen);
	CU_ASSERT_TRUE(chosen.ipv4_csum);
	supported.ipv4_csum = false;
	offer.ipv4_csum = true;
	netif_frontend_choose(&offer, &supported, &chosen);
	CU_ASSERT_FALSE(chosen.ipv4_csum);
	/* Nothing offered: one queue, copy and notify still. */
	struct netif_features nothing = {0};
	netif_frontend_choose(&nothing, &supported, &chosen);
	CU_ASSERT_TRUE(chosen.rx_copy);
	CU_ASSERT_TRUE(chosen.rx_notify);
	CU_ASSERT_TRUE(chosen.sg);
	CU_ASSERT_FALSE(chosen.split_evtchn);
	CU_ASSERT_EQUAL(chosen.max_queues, 1);
}

static const struct netif_features pvio_offer = {
	.rx_copy = true, .sg = true, .ipv4_csum = true, .ipv6_csum = true};

static struct netif_frontend_conn sample_conn(void)
{
	struct netif_frontend_conn conn = {
		.nr_queues = 1,
		.queues = {{.tx_ring_ref = 8,
			    .rx_ring_ref = 9,
			    .evtchn_tx = 17,
			    .evtchn_rx = 17}},
		.features = {.rx_copy = true,
			     .rx_notify = true,
			     .sg = true,
			     .ipv4_csum = true,
			     .ipv6_csum = true},
	};
	return conn;
}

static void test_frontend_conn_keys(void)
{
	struct netif_frontend_conn conn = sample_conn();
	struct netif_key_value kv[NETIF_MAX_KEYS];
	unsigned nr = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);

	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "tx-ring-ref"), "8");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "rx-ring-ref"), "9");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "event-channel"), "17");
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "event-channel-tx"));
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "request-rx-copy"), "1");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-rx-notify"), "1");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-sg"), "1");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-no-csum-offload"), "0");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-ipv6-csum-offload"),
			       "1");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-gso-tcpv4"), "0");

	conn.split_evtchn = true;
	conn.queues[0].evtchn_rx = 18;
	conn.features.ipv4_csum = false;
	conn.queues[0].tx_ring_ref = 4294967295u;
	nr = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "event-channel"));
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "event-channel-tx"), "17");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "event-channel-rx"), "18");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-no-csum-offload"), "1");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "tx-ring-ref"), "4294967295");
	CU_ASSERT_EQUAL(netif_frontend_conn_keys(&conn, kv, 2), 2);
}

/* feature-pvio-persistent-grants: a pvio extension both ends must write
 * before the backend keeps mappings (Linux's netfront ends access to its
 * buffers after every response). */
static void test_persistent_grants_negotiation(void)
{
	struct netif_key_value kv[NETIF_MAX_KEYS];
	struct fake_dir dir;
	struct netif_features read, chosen;
	struct netif_key_error err;

	/* Not offered: no key at all, so the offer looks like Linux's. */
	unsigned nr = netif_backend_offer_keys(&pvio_offer, kv, NETIF_MAX_KEYS);
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "feature-pvio-persistent-grants"));
	struct netif_features offer = pvio_offer;
	offer.persistent_grants = true;
	nr = netif_backend_offer_keys(&offer, kv, NETIF_MAX_KEYS);
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-pvio-persistent-grants"),
			       "1");
	dir_from_keys(&dir, kv, nr);
	CU_ASSERT_EQUAL_FATAL(
		netif_read_backend_offer(dir_read, &dir, &read, &err), 0);
	CU_ASSERT_TRUE(read.persistent_grants);

	/* On only when both offer it. */
	struct netif_features supported = {.persistent_grants = true};
	netif_frontend_choose(&read, &supported, &chosen);
	CU_ASSERT_TRUE(chosen.persistent_grants);
	supported.persistent_grants = false;
	netif_frontend_choose(&read, &supported, &chosen);
	CU_ASSERT_FALSE(chosen.persistent_grants);
	supported.persistent_grants = true;
	netif_frontend_choose(&pvio_offer, &supported, &chosen);
	CU_ASSERT_FALSE(chosen.persistent_grants);

	/* The frontend's key round-trips, and is refused unless offered. */
	struct netif_frontend_conn conn = sample_conn();
	conn.features.persistent_grants = true;
	nr = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "feature-pvio-persistent-grants"),
			       "1");
	dir_from_keys(&dir, kv, nr);
	struct netif_frontend_conn back;
	CU_ASSERT_EQUAL_FATAL(
		netif_read_frontend_conn(dir_read, &dir, &offer, &back, &err),
		0);
	CU_ASSERT_TRUE(back.features.persistent_grants);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(netif_read_frontend_conn(dir_read, &dir, &pvio_offer,
						 &back, &err),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err.key, "feature-pvio-persistent-grants");
	CU_ASSERT_PTR_NOT_NULL_FATAL(err.why);
	CU_ASSERT_STRING_EQUAL(err.why, "not offered by the backend");
	conn.features.persistent_grants = false;
	nr = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "feature-pvio-persistent-grants"));
}

static void test_frontend_conn_round_trip(void)
{
	struct netif_frontend_conn conn = sample_conn();
	struct netif_key_value kv[NETIF_MAX_KEYS];
	unsigned nr = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);
	struct fake_dir dir;
	struct netif_frontend_conn read;
	struct netif_key_error err;

	dir_from_keys(&dir, kv, nr);
	CU_ASSERT_EQUAL_FATAL(netif_read_frontend_conn(
				      dir_read, &dir, &pvio_offer, &read, &err),
			      0);
	CU_ASSERT_EQUAL(read.queues[0].tx_ring_ref, 8);
	CU_ASSERT_EQUAL(read.queues[0].rx_ring_ref, 9);
	CU_ASSERT_EQUAL(read.queues[0].evtchn_tx, 17);
	CU_ASSERT_EQUAL(read.queues[0].evtchn_rx, 17);
	CU_ASSERT_FALSE(read.split_evtchn);
	CU_ASSERT_TRUE(read.features.rx_copy);
	CU_ASSERT_TRUE(read.features.rx_notify);
	CU_ASSERT_TRUE(read.features.sg);
	CU_ASSERT_TRUE(read.features.ipv4_csum);
	CU_ASSERT_TRUE(read.features.ipv6_csum);
	CU_ASSERT_FALSE(read.features.gso_tcpv4);
	CU_ASSERT_EQUAL(read.features.max_queues, 1);

	/* Split channels, when offered. */
	struct netif_features offer = pvio_offer;
	offer.split_evtchn = true;
	conn.split_evtchn = true;
	conn.queues[0].evtchn_rx = 18;
	conn.features.ipv4_csum = false;
	nr = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);
	dir_from_keys(&dir, kv, nr);
	CU_ASSERT_EQUAL_FATAL(
		netif_read_frontend_conn(dir_read, &dir, &offer, &read, &err),
		0);
	CU_ASSERT_TRUE(read.split_evtchn);
	CU_ASSERT_TRUE(read.features.split_evtchn);
	CU_ASSERT_EQUAL(read.queues[0].evtchn_tx, 17);
	CU_ASSERT_EQUAL(read.queues[0].evtchn_rx, 18);
	CU_ASSERT_FALSE(read.features.ipv4_csum);

	/* A minimal Linux-style frontend: absent flags read as off. */
	dir.nr = 0;
	dir_set(&dir, "tx-ring-ref", "768");
	dir_set(&dir, "rx-ring-ref", "769");
	dir_set(&dir, "event-channel", "5");
	dir_set(&dir, "request-rx-copy", "1");
	dir_set(&dir, "feature-rx-notify", "1");
	CU_ASSERT_EQUAL_FATAL(netif_read_frontend_conn(
				      dir_read, &dir, &pvio_offer, &read, &err),
			      0);
	CU_ASSERT_FALSE(read.features.sg);
	CU_ASSERT_TRUE(read.features.ipv4_csum);
	dir_set(&dir, "multi-queue-num-queues", "1");
	CU_ASSERT_EQUAL(netif_read_frontend_conn(dir_read, &dir, &pvio_offer,
						 &read, &err),
			0);
}

/* A Linux netfront writes its offers (sg, GSO, IPv6 checksum) whatever
 * the backend offered: they say what it takes on RX, and are taken. */
static void test_frontend_conn_offers_its_own(void)
{
	struct fake_dir dir;
	struct netif_frontend_conn read;
	struct netif_key_error err;
	struct netif_features offer = {.rx_copy = true, .ipv4_csum = true};

	dir.nr = 0;
	dir_set(&dir, "tx-ring-ref", "768");
	dir_set(&dir, "rx-ring-ref", "769");
	dir_set(&dir, "event-channel", "5");
	dir_set(&dir, "request-rx-copy", "1");
	dir_set(&dir, "feature-rx-notify", "1");
	dir_set(&dir, "feature-sg", "1");
	dir_set(&dir, "feature-gso-tcpv4", "1");
	dir_set(&dir, "feature-gso-tcpv6", "1");
	dir_set(&dir, "feature-ipv6-csum-offload", "1");
	CU_ASSERT_EQUAL_FATAL(
		netif_read_frontend_conn(dir_read, &dir, &offer, &read, &err),
		0);
	CU_ASSERT_TRUE(read.features.sg);
	CU_ASSERT_TRUE(read.features.gso_tcpv4);
	CU_ASSERT_TRUE(read.features.gso_tcpv6);
	CU_ASSERT_TRUE(read.features.ipv4_csum);
	CU_ASSERT_TRUE(read.features.ipv6_csum);
	CU_ASSERT_TRUE(
		netif_gso_usable(&read.features, XEN_NETIF_GSO_TYPE_TCPV6));
}

/* The keys of a good connection, then one of them changed. */
static void check_conn_refused(const char *set_key, const char *set_value,
			       const char *remove_key,
			       const struct netif_features *offer,
			       const char *key, const char *value,
			       const char *why, int error)
{
	struct netif_frontend_conn conn = sample_conn();
	struct netif_key_value kv[NETIF_MAX_KEYS];
	unsigned nr = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);
	struct fake_dir dir;
	struct netif_frontend_conn read;
	struct netif_key_error err;

	dir_from_keys(&dir, kv, nr);
	if (set_key && error == -EINVAL)
		dir_set(&dir, set_key, set_value);
	else if (set_key)
		dir_fail(&dir, set_key, error);
	if (remove_key)
		dir_remove(&dir, remove_key);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(netif_read_frontend_conn(dir_read, &dir,
						 offer ? offer : &pvio_offer,
						 &read, &err),
			error);
	CU_ASSERT_STRING_EQUAL(err.key, key);
	CU_ASSERT_STRING_EQUAL(err.value, value);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err.why);
	CU_ASSERT_STRING_EQUAL(err.why, why);
}

static void test_frontend_conn_malformed(void)
{
	check_conn_refused(NULL, NULL, "tx-ring-ref", NULL, "tx-ring-ref", "",
			   "missing", -EINVAL);
	check_conn_refused("rx-ring-ref", "12a", NULL, NULL, "rx-ring-ref",
			   "12a", "not a decimal number", -EINVAL);
	check_conn_refused("rx-ring-ref", " 12", NULL, NULL, "rx-ring-ref",
			   " 12", "not a decimal number", -EINVAL);
	check_conn_refused("tx-ring-ref", "4294967296", NULL, NULL,
			   "tx-ring-ref", "4294967296", "out of range",
			   -EINVAL);
	check_conn_refused(NULL, NULL, "event-channel", NULL, "event-channel",
			   "", "missing", -EINVAL);
	check_conn_refused("event-channel", "0", NULL, NULL, "event-channel",
			   "0", "not an event channel (0 is no port)", -EINVAL);
	check_conn_refused("event-channel", "x", NULL, NULL, "event-channel",
			   "x", "not a decimal number", -EINVAL);
	/* Split channels the backend did not offer. */
	check_conn_refused("event-channel-tx", "5", NULL, NULL,
			   "event-channel-tx", "5",
			   "split event channels not offered", -EINVAL);
	struct netif_features split = pvio_offer;
	split.split_evtchn = true;
	check_conn_refused("event-channel-tx", "5", NULL, &split,
			   "event-channel-rx", "", "missing", -EINVAL);
	/* The copying receive path and notifications are required. */
	check_conn_refused("request-rx-copy", "0", NULL, NULL,
			   "request-rx-copy", "0", "not 1", -EINVAL);
	check_conn_refused(NULL, NULL, "request-rx-copy", NULL,
			   "request-rx-copy", "", "missing", -EINVAL);
	check_conn_refused("request-rx-copy", "true", NULL, NULL,
			   "request-rx-copy", "true", "not 0 or 1", -EINVAL);
	check_conn_refused(NULL, NULL, "feature-rx-notify", NULL,
			   "feature-rx-notify", "", "missing", -EINVAL);
	check_conn_refused("feature-rx-notify", "0", NULL, NULL,
			   "feature-rx-notify", "0", "not 1", -EINVAL);
	/* Flags: 0 or 1; the offloads are the frontend's own offers (what
	 * it takes on RX), the rest only what was offered. */
	check_conn_refused("feature-sg", "2", NULL, NULL, "feature-sg", "2",
			   "not 0 or 1", -EINVAL);
	check_conn_refused("feature-gso-tcpv4", "yes", NULL, NULL,
			   "feature-gso-tcpv4", "yes", "not 0 or 1", -EINVAL);
	check_conn_refused("feature-gso-tcpv6", "2", NULL, NULL,
			   "feature-gso-tcpv6", "2", "not 0 or 1", -EINVAL);
	check_conn_refused("request-multicast-control", "1", NULL, NULL,
			   "request-multicast-control", "1",
			   "not offered by the backend", -EINVAL);
	check_conn_refused("feature-no-csum-offload", "on", NULL, NULL,
			   "feature-no-csum-offload", "on", "not 0 or 1",
			   -EINVAL);
	/* More than one queue. */
	check_conn_refused("multi-queue-num-queues", "2", NULL, NULL,
			   "multi-queue-num-queues", "2",
			   "multi-queue not offered", -EINVAL);
	check_conn_refused("multi-queue-num-queues", "0", NULL, NULL,
			   "multi-queue-num-queues", "0",
			   "no queues (at least 1)", -EINVAL);
	check_conn_refused("multi-queue-num-queues", "x", NULL, NULL,
			   "multi-queue-num-queues", "x",
			   "not a decimal number", -EINVAL);
	/* Half-written split channels: -rx without -tx. */
	struct netif_features split_offer = pvio_offer;
	split_offer.split_evtchn = true;
	check_conn_refused("event-channel-rx", "6", NULL, &split_offer,
			   "event-channel-rx", "6",
			   "without event-channel-tx (split channels "
			   "half-written)",
			   -EINVAL);
	/* A failing read is passed on. */
	check_conn_refused("rx-ring-ref", NULL, NULL, NULL, "rx-ring-ref", "",
			   "could not be read", -EIO);
}

/* ---- multi-queue and split channels ---- */

static const struct netif_features mq_offer = {.rx_copy = true,
					       .sg = true,
					       .ipv4_csum = true,
					       .ipv6_csum = true,
					       .split_evtchn = true,
					       .max_queues = 4};

/* nr queues, queue q with rings 100+2q/101+2q and ports 10+2q/11+2q. */
static struct netif_frontend_conn mq_conn(unsigned nr, bool split)
{
	struct netif_frontend_conn conn = sample_conn();
	conn.nr_queues = nr;
	conn.split_evtchn = split;
	conn.features.split_evtchn = split;
	conn.num_queues_key = true;
	for (unsigned q = 0; q < nr; q++) {
		conn.queues[q].tx_ring_ref = 100 + 2 * q;
		conn.queues[q].rx_ring_ref = 101 + 2 * q;
		conn.queues[q].evtchn_tx = 10 + 2 * q;
		conn.queues[q].evtchn_rx = split ? 11 + 2 * q : 10 + 2 * q;
	}
	return conn;
}

static void test_multi_queue_keys(void)
{
	struct netif_frontend_conn conn = mq_conn(3, true);
	struct netif_key_value kv[NETIF_MAX_KEYS];
	unsigned nr = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);

	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "multi-queue-num-queues"), "3");
	/* Hierarchical: nothing of a queue in the device directory. */
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "tx-ring-ref"));
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "event-channel"));
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "event-channel-tx"));
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "queue-0/tx-ring-ref"), "100");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "queue-2/rx-ring-ref"), "105");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "queue-1/event-channel-tx"),
			       "12");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "queue-1/event-channel-rx"),
			       "13");
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "queue-1/event-channel"));
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "queue-3/tx-ring-ref"));
	/* Features stay in the device directory. */
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "request-rx-copy"), "1");
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "queue-0/request-rx-copy"));

	/* One queue: the flat layout, with the count Linux writes too. */
	conn = mq_conn(1, false);
	nr = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "multi-queue-num-queues"), "1");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "tx-ring-ref"), "100");
	CU_ASSERT_STRING_EQUAL(kv_get(kv, nr, "event-channel"), "10");
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "queue-0/tx-ring-ref"));
	/* And none when the backend offered no multi-queue. */
	conn.num_queues_key = false;
	nr = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);
	CU_ASSERT_PTR_NULL(kv_get(kv, nr, "multi-queue-num-queues"));

	/* The most queues fit NETIF_MAX_KEYS. */
	conn = mq_conn(NETIF_QUEUES_MAX, true);
	nr = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);
	CU_ASSERT_TRUE(nr < NETIF_MAX_KEYS);
	char key[40];
	snprintf(key, sizeof(key), "queue-%u/event-channel-rx",
		 NETIF_QUEUES_MAX - 1);
	CU_ASSERT_PTR_NOT_NULL(kv_get(kv, nr, key));
}

static void test_multi_queue_round_trip(void)
{
	for (unsigned nr_queues = 1; nr_queues <= 4; nr_queues++) {
		for (int split = 0; split < 2; split++) {
			struct netif_frontend_conn conn =
				mq_conn(nr_queues, split);
			struct netif_key_value kv[NETIF_MAX_KEYS];
			unsigned nr = netif_frontend_conn_keys(&conn, kv,
							       NETIF_MAX_KEYS);
			struct fake_dir dir;
			struct netif_frontend_conn read;
			struct netif_key_error err;

			dir_from_keys(&dir, kv, nr);
			CU_ASSERT_EQUAL_FATAL(
				netif_read_frontend_conn(
					dir_read, &dir, &mq_offer, &read, &err),
				0);
			CU_ASSERT_EQUAL(read.nr_queues, nr_queues);
			CU_ASSERT_EQUAL(read.features.max_queues, nr_queues);
			CU_ASSERT_EQUAL(read.split_evtchn, split);
			CU_ASSERT_EQUAL(read.features.split_evtchn, split);
			for (unsigned q = 0; q < nr_queues; q++) {
				CU_ASSERT_EQUAL(read.queues[q].tx_ring_ref,
						conn.queues[q].tx_ring_ref);
				CU_ASSERT_EQUAL(read.queues[q].rx_ring_ref,
						conn.queues[q].rx_ring_ref);
				CU_ASSERT_EQUAL(read.queues[q].evtchn_tx,
						conn.queues[q].evtchn_tx);
				CU_ASSERT_EQUAL(read.queues[q].evtchn_rx,
						conn.queues[q].evtchn_rx);
			}
		}
	}
}

/* mq_conn(nr, split)'s keys with one changed (value NULL: removed). */
static void check_mq_refused(unsigned nr, bool split,
			     const struct netif_features *offer,
			     const char *set_key, const char *set_value,
			     const char *key, const char *value,
			     const char *why)
{
	struct netif_frontend_conn conn = mq_conn(nr, split);
	struct netif_key_value kv[NETIF_MAX_KEYS];
	unsigned n = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);
	struct fake_dir dir;
	struct netif_frontend_conn read;
	struct netif_key_error err;

	dir_from_keys(&dir, kv, n);
	if (set_value)
		dir_set(&dir, set_key, set_value);
	else
		dir_remove(&dir, set_key);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(
		netif_read_frontend_conn(dir_read, &dir, offer, &read, &err),
		-EINVAL);
	CU_ASSERT_STRING_EQUAL(err.key, key);
	CU_ASSERT_STRING_EQUAL(err.value, value);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err.why);
	CU_ASSERT_STRING_EQUAL(err.why, why);
}

static void test_multi_queue_refused(void)
{
	/* The count: 0, above the offer, past what pvio sets up, not
	 * offered at all. */
	check_mq_refused(2, false, &mq_offer, "multi-queue-num-queues", "0",
			 "multi-queue-num-queues", "0",
			 "no queues (at least 1)");
	check_mq_refused(2, false, &mq_offer, "multi-queue-num-queues", "5",
			 "multi-queue-num-queues", "5",
			 "more queues than multi-queue-max-queues");
	struct netif_features huge = mq_offer;
	huge.max_queues = 4096;
	check_mq_refused(2, false, &huge, "multi-queue-num-queues", "17",
			 "multi-queue-num-queues", "17",
			 "more queues than multi-queue-max-queues");
	check_mq_refused(2, false, &pvio_offer, "multi-queue-num-queues", "2",
			 "multi-queue-num-queues", "2",
			 "multi-queue not offered");
	check_mq_refused(2, false, &mq_offer, "multi-queue-num-queues",
			 "4294967296", "multi-queue-num-queues", "4294967296",
			 "out of range");
	/* A queue's key missing or malformed, named with its queue. */
	check_mq_refused(3, false, &mq_offer, "queue-2/rx-ring-ref", NULL,
			 "queue-2/rx-ring-ref", "", "missing");
	check_mq_refused(3, false, &mq_offer, "queue-1/tx-ring-ref", "ff",
			 "queue-1/tx-ring-ref", "ff", "not a decimal number");
	check_mq_refused(3, false, &mq_offer, "queue-0/event-channel", NULL,
			 "queue-0/event-channel", "", "missing");
	check_mq_refused(2, false, &mq_offer, "queue-1/event-channel", "0",
			 "queue-1/event-channel", "0",
			 "not an event channel (0 is no port)");
	/* More queues claimed than written. */
	check_mq_refused(2, false, &mq_offer, "multi-queue-num-queues", "3",
			 "queue-2/tx-ring-ref", "", "missing");
	/* Flat keys do not stand in for queue-0/. */
	check_mq_refused(2, false, &mq_offer, "queue-0/tx-ring-ref", NULL,
			 "queue-0/tx-ring-ref", "", "missing");
	/* Split channels half-written, either half. */
	check_mq_refused(2, true, &mq_offer, "queue-1/event-channel-rx", NULL,
			 "queue-1/event-channel-rx", "", "missing");
	check_mq_refused(2, true, &mq_offer, "queue-1/event-channel-tx", NULL,
			 "queue-1/event-channel-rx", "13",
			 "without event-channel-tx (split channels "
			 "half-written)");
	check_mq_refused(2, true, &mq_offer, "queue-0/event-channel-rx", "0",
			 "queue-0/event-channel-rx", "0",
			 "not an event channel (0 is no port)");
	/* Split where they were not offered. */
	struct netif_features no_split = mq_offer;
	no_split.split_evtchn = false;
	check_mq_refused(2, true, &no_split, "request-rx-copy", "1",
			 "queue-0/event-channel-tx", "10",
			 "split event channels not offered");
	/* One kind of channel per vif. */
	check_mq_refused(2, false, &mq_offer, "queue-1/event-channel-tx", "20",
			 "queue-1/event-channel-rx", "", "missing");
}

static void test_multi_queue_mixed_channels(void)
{
	struct netif_frontend_conn conn = mq_conn(2, true);
	struct netif_key_value kv[NETIF_MAX_KEYS];
	unsigned n = netif_frontend_conn_keys(&conn, kv, NETIF_MAX_KEYS);
	struct fake_dir dir;
	struct netif_frontend_conn read;
	struct netif_key_error err;

	/* queue-1 with one channel where queue-0 has split ones. */
	dir_from_keys(&dir, kv, n);
	dir_remove(&dir, "queue-1/event-channel-tx");
	dir_remove(&dir, "queue-1/event-channel-rx");
	dir_set(&dir, "queue-1/event-channel", "30");
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(netif_read_frontend_conn(dir_read, &dir, &mq_offer,
						 &read, &err),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err.key, "queue-1/event-channel");
	CU_ASSERT_STRING_EQUAL(err.why,
			       "one channel where queue-0 has split ones");
}

static void test_frontend_choose_queues(void)
{
	struct netif_features offer = mq_offer, supported = {.max_queues = 8};
	struct netif_features chosen;

	netif_frontend_choose(&offer, &supported, &chosen);
	CU_ASSERT_EQUAL(chosen.max_queues, 4); /* the backend's max */
	offer.max_queues = 4096;
	netif_frontend_choose(&offer, &supported, &chosen);
	CU_ASSERT_EQUAL(chosen.max_queues, 8); /* the frontend's */
	supported.max_queues = 4096;
	netif_frontend_choose(&offer, &supported, &chosen);
	CU_ASSERT_EQUAL(chosen.max_queues, NETIF_QUEUES_MAX);
	supported.max_queues = 0;
	netif_frontend_choose(&offer, &supported, &chosen);
	CU_ASSERT_EQUAL(chosen.max_queues, 1);
	/* Split only when both want it. */
	CU_ASSERT_FALSE(chosen.split_evtchn);
	supported.split_evtchn = true;
	netif_frontend_choose(&offer, &supported, &chosen);
	CU_ASSERT_TRUE(chosen.split_evtchn);
}

/* ---- the virtio-net header and checksums ---- */

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * An independent Internet checksum (RFC 1071) over a list of byte ranges
 * laid end to end: bytes are paired across range boundaries, as if the
 * pseudo-header and segment were one buffer.
 */
struct byte_range {
	const uint8_t *data;
	size_t len;
};

static uint16_t reference_checksum(const struct byte_range *ranges, unsigned nr)
{
	uint32_t sum = 0;
	bool high = true;
	for (unsigned r = 0; r < nr; r++) {
		for (size_t i = 0; i < ranges[r].len; i++) {
			sum += high ? (uint32_t)ranges[r].data[i] << 8
				    : ranges[r].data[i];
			high = !high;
		}
	}
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The ones' complement sum, folded but not complemented. */
static uint16_t folded_sum(const struct byte_range *ranges, unsigned nr)
{
	return (uint16_t)~reference_checksum(ranges, nr);
}

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd

static size_t put_eth(uint8_t *f, uint16_t ethertype)
{
	memset(f, 0, 12);
	f[0] = 0x02;
	f[6] = 0x02;
	f[11] = 1;
	put_be16(f + 12, ethertype);
	return 14;
}

/* An IPv4 header (no options) for payload bytes of proto at f. */
static size_t put_ipv4(uint8_t *f, uint8_t proto, size_t payload)
{
	memset(f, 0, 20);
	f[0] = 0x45;
	put_be16(f + 2, (uint16_t)(20 + payload));
	f[8] = 64;
	f[9] = proto;
	const uint8_t src[4] = {169, 254, 1, 2}, dst[4] = {169, 254, 3, 4};
	memcpy(f + 12, src, 4);
	memcpy(f + 16, dst, 4);
	return 20;
}

static size_t put_ipv6(uint8_t *f, uint8_t next, size_t payload)
{
	memset(f, 0, 40);
	f[0] = 0x60;
	put_be16(f + 4, (uint16_t)payload);
	f[6] = next;
	f[7] = 64;
	f[8] = 0xfe;
	f[9] = 0x80;
	f[23] = 1;
	f[24] = 0xfe;
	f[25] = 0x80;
	f[39] = 2;
	return 40;
}

static size_t put_tcp(uint8_t *f, size_t payload)
{
	memset(f, 0, 20);
	put_be16(f, 40000);
	put_be16(f + 2, 80);
	f[12] = 5 << 4;
	f[13] = 0x18;
	put_be16(f + 14, 65535);
	for (size_t i = 0; i < payload; i++)
		f[20 + i] = (uint8_t)(i * 7 + 3);
	return 20 + payload;
}

static size_t put_udp(uint8_t *f, size_t payload)
{
	memset(f, 0, 8);
	put_be16(f, 5353);
	put_be16(f + 2, 5353);
	put_be16(f + 4, (uint16_t)(8 + payload));
	for (size_t i = 0; i < payload; i++)
		f[8 + i] = (uint8_t)(i * 13 + 1);
	return 8 + payload;
}

static void check_vnet(const uint8_t *frame, size_t len, uint16_t start,
		       uint16_t offset)
{
	struct virtio_net_hdr vnet;

	CU_ASSERT_EQUAL_FATAL(
		netif_vnet_for_frame(true, true, frame, len, &vnet), 0);
	CU_ASSERT_EQUAL(vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CU_ASSERT_EQUAL(vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	CU_ASSERT_EQUAL(vnet.csum_start, start);
	CU_ASSERT_EQUAL(vnet.csum_offset, offset);
	CU_ASSERT_TRUE(vnet.hdr_len >= start + offset + 2);
}

static void check_vnet_fails(const uint8_t *frame, size_t len, int error)
{
	struct virtio_net_hdr vnet;

	CU_ASSERT_EQUAL(netif_vnet_for_frame(true, false, frame, len, &vnet),
			error);
}

static void test_vnet_to_tx(void)
{
	struct virtio_net_hdr vnet = {0};
	uint16_t flags = 0xffff, mss = 7;
	uint8_t gso = 9;

	CU_ASSERT_EQUAL(netif_vnet_to_tx(&vnet, &flags, &gso, &mss), 0);
	CU_ASSERT_EQUAL(flags, 0);
	CU_ASSERT_EQUAL(gso, XEN_NETIF_GSO_TYPE_NONE);
	CU_ASSERT_EQUAL(mss, 0);
	vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vnet.csum_start = 34;
	vnet.csum_offset = 16;
	CU_ASSERT_EQUAL(netif_vnet_to_tx(&vnet, &flags, &gso, &mss), 0);
	CU_ASSERT_EQUAL(flags, NETTXF_csum_blank | NETTXF_data_validated);
	vnet.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	CU_ASSERT_EQUAL(netif_vnet_to_tx(&vnet, &flags, &gso, &mss), 0);
	CU_ASSERT_EQUAL(flags, NETTXF_data_validated);
	/* TCP GSO: the type and MSS, and a blank checksum whatever the
	 * header's flags said. */
	vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vnet.gso_size = 1448;
	CU_ASSERT_EQUAL(netif_vnet_to_tx(&vnet, &flags, &gso, &mss), 0);
	CU_ASSERT_EQUAL(gso, XEN_NETIF_GSO_TYPE_TCPV4);
	CU_ASSERT_EQUAL(mss, 1448);
	CU_ASSERT_EQUAL(flags, NETTXF_csum_blank | NETTXF_data_validated);
	vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	vnet.gso_size = 1428;
	CU_ASSERT_EQUAL(netif_vnet_to_tx(&vnet, &flags, &gso, &mss), 0);
	CU_ASSERT_EQUAL(gso, XEN_NETIF_GSO_TYPE_TCPV6);
	CU_ASSERT_EQUAL(mss, 1428);
	/* No MSS: a lie. */
	vnet.gso_size = 0;
	CU_ASSERT_EQUAL(netif_vnet_to_tx(&vnet, &flags, &gso, &mss), -EINVAL);
	/* What netif has no GSO type for. */
	vnet.gso_size = 1448;
	vnet.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	CU_ASSERT_EQUAL(netif_vnet_to_tx(&vnet, &flags, &gso, &mss),
			-EOPNOTSUPP);
	vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	CU_ASSERT_EQUAL(netif_vnet_to_tx(&vnet, &flags, &gso, &mss),
			-EOPNOTSUPP);
}

static void test_vnet_ipv4(void)
{
	uint8_t f[256];
	size_t n = put_eth(f, ETH_IPV4);

	n += put_ipv4(f + n, 6, 20 + 10);
	n += put_tcp(f + n, 10);
	check_vnet(f, n, 34, 16);
	/* Ethernet padding after the IP packet is allowed. */
	memset(f + n, 0, 20);
	check_vnet(f, n + 20, 34, 16);

	n = put_eth(f, ETH_IPV4);
	n += put_ipv4(f + n, 17, 8 + 5);
	n += put_udp(f + n, 5);
	check_vnet(f, n, 34, 6);

	/* IP options: the L4 header starts after them. */
	n = put_eth(f, ETH_IPV4);
	put_ipv4(f + n, 17, 8 + 4 + 4);
	f[n] = 0x46;
	n += 24;
	n += put_udp(f + n, 4);
	check_vnet(f, n, 38, 6);

	/* One 802.1Q tag. */
	n = put_eth(f, 0x8100);
	put_be16(f + 14, 100);
	put_be16(f + 16, ETH_IPV4);
	n = 18;
	n += put_ipv4(f + n, 6, 20);
	n += put_tcp(f + n, 0);
	check_vnet(f, n, 38, 16);
}

static void test_vnet_ipv6(void)
{
	uint8_t f[256];
	size_t n = put_eth(f, ETH_IPV6);

	n += put_ipv6(f + n, 6, 20 + 3);
	n += put_tcp(f + n, 3);
	check_vnet(f, n, 54, 16);

	/* Hop-by-hop (8 bytes), destination options (16), then UDP. */
	n = put_eth(f, ETH_IPV6);
	n += put_ipv6(f + n, 0, 8 + 16 + 8 + 2);
	memset(f + n, 0, 24);
	f[n] = 60;
	f[n + 1] = 0;
	f[n + 8] = 17;
	f[n + 9] = 1;
	n += 24;
	n += put_udp(f + n, 2);
	check_vnet(f, n, 78, 6);

	/* Routing header, then an atomic fragment header (offset 0, no MF). */
	n = put_eth(f, ETH_IPV6);
	n += put_ipv6(f + n, 43, 8 + 8 + 20);
	memset(f + n, 0, 16);
	f[n] = 44;
	f[n + 8] = 6;
	n += 16;
	n += put_tcp(f + n, 0);
	check_vnet(f, n, 70, 16);
	/* A real fragment: nothing can fill its checksum. */
	f[54 + 8 + 3] = 0x01; /* more fragments */
	check_vnet_fails(f, n, -EPROTONOSUPPORT);
	f[54 + 8 + 3] = 0;
	f[54 + 8 + 2] = 0x01; /* offset 32 */
	check_vnet_fails(f, n, -EPROTONOSUPPORT);
}

static void test_vnet_unsupported(void)
{
	uint8_t f[256];
	size_t n = put_eth(f, ETH_IPV4);

	/* ICMP: not TCP or UDP. */
	n += put_ipv4(f + n, 1, 8);
	memset(f + n, 0, 8);
	n += 8;
	check_vnet_fails(f, n, -EPROTONOSUPPORT);
	/* ARP. */
	put_be16(f + 12, 0x0806);
	check_vnet_fails(f, n, -EPROTONOSUPPORT);
	/* An IPv4 fragment (more fragments; then an offset). */
	n = put_eth(f, ETH_IPV4);
	n += put_ipv4(f + n, 17, 8 + 4);
	n += put_udp(f + n, 4);
	f[14 + 6] = 0x20;
	check_vnet_fails(f, n, -EPROTONOSUPPORT);
	f[14 + 6] = 0;
	f[14 + 7] = 1;
	check_vnet_fails(f, n, -EPROTONOSUPPORT);
	/* The don't-fragment bit alone is fine. */
	f[14 + 7] = 0;
	f[14 + 6] = 0x40;
	check_vnet(f, n, 34, 6);
	/* IPv6 with an unknown next header (ICMPv6). */
	n = put_eth(f, ETH_IPV6);
	n += put_ipv6(f + n, 58, 8);
	memset(f + n, 0, 8);
	n += 8;
	check_vnet_fails(f, n, -EPROTONOSUPPORT);
}

static void test_vnet_truncated_or_lying(void)
{
	uint8_t f[256];
	size_t n = put_eth(f, ETH_IPV4);

	n += put_ipv4(f + n, 6, 20);
	n += put_tcp(f + n, 0);
	/* Cut anywhere inside the headers. */
	for (size_t cut = 0; cut < n; cut++)
		check_vnet_fails(f, cut, -EINVAL);
	check_vnet(f, n, 34, 16);
	/* IHL below 5, or past the frame. */
	f[14] = 0x44;
	check_vnet_fails(f, n, -EINVAL);
	f[14] = 0x4f;
	check_vnet_fails(f, n, -EINVAL);
	f[14] = 0x45;
	/* Wrong version. */
	f[14] = 0x65;
	check_vnet_fails(f, n, -EINVAL);
	f[14] = 0x45;
	/* Total length past the frame, or shorter than the headers. */
	put_be16(f + 16, (uint16_t)(n - 14 + 1));
	check_vnet_fails(f, n, -EINVAL);
	put_be16(f + 16, 19);
	check_vnet_fails(f, n, -EINVAL);
	put_be16(f + 16, 20 + 10); /* TCP cut short inside the packet */
	check_vnet_fails(f, n, -EINVAL);
	put_be16(f + 16, 40);
	/* TCP data offset below 5 or past the packet. */
	f[34 + 12] = 4 << 4;
	check_vnet_fails(f, n, -EINVAL);
	f[34 + 12] = 6 << 4;
	check_vnet_fails(f, n, -EINVAL);
	f[34 + 12] = 5 << 4;
	check_vnet(f, n, 34, 16);

	/* UDP cut short inside the IP packet. */
	n = put_eth(f, ETH_IPV4);
	n += put_ipv4(f + n, 17, 4);
	n += put_udp(f + n, 0);
	check_vnet_fails(f, n, -EINVAL);

	/* IPv6: payload length past the frame; extension header past it. */
	n = put_eth(f, ETH_IPV6);
	n += put_ipv6(f + n, 6, 20);
	n += put_tcp(f + n, 0);
	put_be16(f + 18, 21);
	check_vnet_fails(f, n, -EINVAL);
	put_be16(f + 18, 20);
	f[14] = 0x40;
	check_vnet_fails(f, n, -EINVAL);
	f[14] = 0x60;
	f[20] = 0; /* hop-by-hop claiming (1 + 3) * 8 bytes: past the end */
	f[54] = 6;
	f[55] = 3;
	check_vnet_fails(f, n, -EINVAL);
	/* A VLAN tag with nothing after it. */
	n = put_eth(f, 0x8100);
	check_vnet_fails(f, n + 2, -EINVAL);
}

static void test_vnet_flags_only(void)
{
	/* Without csum_blank the frame is not looked at. */
	const uint8_t junk[3] = {1, 2, 3};
	struct virtio_net_hdr vnet;

	memset(&vnet, 0xff, sizeof(vnet));
	CU_ASSERT_EQUAL(netif_vnet_for_frame(false, true, junk, 3, &vnet), 0);
	CU_ASSERT_EQUAL(vnet.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	CU_ASSERT_EQUAL(vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	CU_ASSERT_EQUAL(vnet.csum_start, 0);
	CU_ASSERT_EQUAL(vnet.csum_offset, 0);
	CU_ASSERT_EQUAL(netif_vnet_for_frame(false, false, junk, 3, &vnet), 0);
	CU_ASSERT_EQUAL(vnet.flags, 0);
	CU_ASSERT_EQUAL(vnet.hdr_len, 0);
}

/*
 * Build a frame, compute its correct checksum independently, blank the
 * field to the pseudo-header sum as a CHECKSUM_PARTIAL sender does, fill
 * it through the vnet header's csum_start/csum_offset, compare.
 */
static void check_fill(uint8_t *f, size_t n, size_t l4, size_t field,
		       const uint8_t *pseudo, size_t pseudo_len)
{
	f[field] = f[field + 1] = 0;
	struct byte_range whole[2] = {{pseudo, pseudo_len}, {f + l4, n - l4}};
	uint16_t expect = reference_checksum(whole, 2);
	if (expect == 0)
		expect = 0xffff;
	struct byte_range ph[1] = {{pseudo, pseudo_len}};
	put_be16(f + field, folded_sum(ph, 1));

	struct virtio_net_hdr vnet;
	CU_ASSERT_EQUAL_FATAL(netif_vnet_for_frame(true, false, f, n, &vnet),
			      0);
	CU_ASSERT_EQUAL(vnet.csum_start + vnet.csum_offset, field);
	CU_ASSERT_EQUAL(
		netif_checksum_fill(f, n, vnet.csum_start, vnet.csum_offset),
		0);
	CU_ASSERT_EQUAL((f[field] << 8 | f[field + 1]), expect);
	/* What a receiver checks: everything sums to all ones. */
	CU_ASSERT_EQUAL(reference_checksum(whole, 2), 0);
}

static void test_checksum_fill_udp_ipv4(void)
{
	uint8_t f[256];
	for (size_t payload = 0; payload < 6; payload++) {
		size_t n = put_eth(f, ETH_IPV4);
		n += put_ipv4(f + n, 17, 8 + 37 + payload);
		n += put_udp(f + n, 37 + payload);
		uint8_t pseudo[12];
		memcpy(pseudo, f + 26, 8); /* source, destination */
		pseudo[8] = 0;
		pseudo[9] = 17;
		put_be16(pseudo + 10, (uint16_t)(8 + 37 + payload));
		check_fill(f, n, 34, 34 + 6, pseudo, sizeof(pseudo));
	}
}

static void test_checksum_fill_tcp_ipv6(void)
{
	uint8_t f[512];
	for (size_t payload = 300; payload < 304; payload++) {
		size_t n = put_eth(f, ETH_IPV6);
		n += put_ipv6(f + n, 6, 20 + payload);
		n += put_tcp(f + n, payload);
		uint8_t pseudo[40];
		memcpy(pseudo, f + 22, 32); /* source, destination */
		memset(pseudo + 32, 0, 8);
		put_be16(pseudo + 34, (uint16_t)(20 + payload));
		pseudo[39] = 6;
		check_fill(f, n, 54, 54 + 16, pseudo, sizeof(pseudo));
	}
}

static void test_checksum_fill_known_vector(void)
{
	/*
	 * RFC 1071's worked example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2,
	 * so its checksum is 220d. Here the four words sit after a zeroed
	 * checksum field at csum_start.
	 */
	uint8_t f[10] = {0, 0, 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	CU_ASSERT_EQUAL(netif_checksum_fill(f, sizeof(f), 0, 0), 0);
	CU_ASSERT_EQUAL(f[0], 0x22);
	CU_ASSERT_EQUAL(f[1], 0x0d);
	/* An odd length pads the last byte with zero. */
	uint8_t g[3] = {0, 0, 0x01};
	CU_ASSERT_EQUAL(netif_checksum_fill(g, sizeof(g), 0, 0), 0);
	CU_ASSERT_EQUAL(g[0], 0xfe);
	CU_ASSERT_EQUAL(g[1], 0xff);
	/* A sum of all ones gives 0, sent as ffff (0 is "none" to UDP). */
	uint8_t h[4] = {0, 0, 0xff, 0xff};
	CU_ASSERT_EQUAL(netif_checksum_fill(h, sizeof(h), 0, 0), 0);
	CU_ASSERT_EQUAL(h[0], 0xff);
	CU_ASSERT_EQUAL(h[1], 0xff);
}

static void test_checksum_fill_bounds(void)
{
	uint8_t f[64] = {0};

	CU_ASSERT_EQUAL(netif_checksum_fill(f, 64, 60, 2), 0);
	CU_ASSERT_EQUAL(netif_checksum_fill(f, 64, 60, 3), -EINVAL);
	CU_ASSERT_EQUAL(netif_checksum_fill(f, 64, 64, 0), -EINVAL);
	CU_ASSERT_EQUAL(netif_checksum_fill(f, 64, 65535, 65535), -EINVAL);
	CU_ASSERT_EQUAL(netif_checksum_fill(f, 0, 0, 0), -EINVAL);
}

static void test_parse_mac(void)
{
	uint8_t mac[6] = {0};
	static const uint8_t want[6] = {0x00, 0x16, 0x3e, 0xab, 0xCD, 0x09};

	CU_ASSERT_EQUAL(netif_parse_mac("00:16:3e:ab:CD:09", mac), 0);
	CU_ASSERT_EQUAL(memcmp(mac, want, sizeof(want)), 0);
	static const char *const bad[] = {
		"",
		"00:16:3e:ab:cd",
		"00:16:3e:ab:cd:09:",
		"00:16:3e:ab:cd:0",
		"00-16-3e-ab-cd-09",
		"0:16:3e:ab:cd:09",
		"00:16:3e:ab:cd:0g",
		"00:16:3e:ab:cd:09 ",
		"000:16:3e:ab:cd:9",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(mac, 0x5a, sizeof(mac));
		CU_ASSERT_EQUAL(netif_parse_mac(bad[i], mac), -EINVAL);
	}
}

static void test_gso_usable(void)
{
	struct netif_features f = {.sg = true,
				   .ipv4_csum = true,
				   .ipv6_csum = true,
				   .gso_tcpv4 = true,
				   .gso_tcpv6 = true};
	CU_ASSERT_TRUE(netif_gso_usable(&f, XEN_NETIF_GSO_TYPE_TCPV4));
	CU_ASSERT_TRUE(netif_gso_usable(&f, XEN_NETIF_GSO_TYPE_TCPV6));
	CU_ASSERT_FALSE(netif_gso_usable(&f, XEN_NETIF_GSO_TYPE_NONE));
	CU_ASSERT_FALSE(netif_gso_usable(&f, 3));
	/* Its IP version's checksum offload. */
	f.ipv6_csum = false;
	CU_ASSERT_TRUE(netif_gso_usable(&f, XEN_NETIF_GSO_TYPE_TCPV4));
	CU_ASSERT_FALSE(netif_gso_usable(&f, XEN_NETIF_GSO_TYPE_TCPV6));
	f.ipv4_csum = false;
	CU_ASSERT_FALSE(netif_gso_usable(&f, XEN_NETIF_GSO_TYPE_TCPV4));
	/* Scatter-gather. */
	f.ipv4_csum = f.ipv6_csum = true;
	f.sg = false;
	CU_ASSERT_FALSE(netif_gso_usable(&f, XEN_NETIF_GSO_TYPE_TCPV4));
	CU_ASSERT_FALSE(netif_gso_usable(&f, XEN_NETIF_GSO_TYPE_TCPV6));
	/* The key itself. */
	f.sg = true;
	f.gso_tcpv4 = false;
	CU_ASSERT_FALSE(netif_gso_usable(&f, XEN_NETIF_GSO_TYPE_TCPV4));
	CU_ASSERT_TRUE(netif_gso_usable(&f, XEN_NETIF_GSO_TYPE_TCPV6));
}

static void test_tun_offload(void)
{
	struct netif_features f = {.sg = true,
				   .ipv4_csum = true,
				   .ipv6_csum = true,
				   .gso_tcpv4 = true,
				   .gso_tcpv6 = true};
	CU_ASSERT_EQUAL(netif_tun_offload(&f),
			TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	f.gso_tcpv6 = false;
	CU_ASSERT_EQUAL(netif_tun_offload(&f), TUN_F_CSUM | TUN_F_TSO4);
	f.sg = false;
	CU_ASSERT_EQUAL(netif_tun_offload(&f), TUN_F_CSUM);
	/* One kind of checksum: the other is filled in software. */
	f.ipv4_csum = false;
	CU_ASSERT_EQUAL(netif_tun_offload(&f), TUN_F_CSUM);
	f.ipv6_csum = false;
	CU_ASSERT_EQUAL(netif_tun_offload(&f), 0);
}

static void test_features_switch_off(void)
{
	const struct netif_features all = {.rx_copy = true,
					   .rx_notify = true,
					   .sg = true,
					   .ipv4_csum = true,
					   .ipv6_csum = true,
					   .gso_tcpv4 = true,
					   .gso_tcpv6 = true};
	static const struct {
		const char *name;
		bool sg, c4, c6, g4, g6;
	} cases[] = {
		{"sg", false, true, true, false, false},
		{"csum", true, false, false, false, false},
		{"ipv4-csum", true, false, true, false, true},
		{"ipv6-csum", true, true, false, true, false},
		{"gso", true, true, true, false, false},
		{"gso-tcpv4", true, true, true, false, true},
		{"gso-tcpv6", true, true, true, true, false},
	};
	char text[96];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct netif_features f = all;
		CU_ASSERT_EQUAL(netif_features_switch_off(&f, cases[i].name),
				0);
		CU_ASSERT_EQUAL(f.sg, cases[i].sg);
		CU_ASSERT_EQUAL(f.ipv4_csum, cases[i].c4);
		CU_ASSERT_EQUAL(f.ipv6_csum, cases[i].c6);
		CU_ASSERT_EQUAL(f.gso_tcpv4, cases[i].g4);
		CU_ASSERT_EQUAL(f.gso_tcpv6, cases[i].g6);
		CU_ASSERT_TRUE(f.rx_copy && f.rx_notify);
		/* Every option is in --help. */
		snprintf(text, sizeof(text), "--no-%s ", cases[i].name);
		CU_ASSERT_PTR_NOT_NULL(
			strstr(netif_offload_options_help, text));
	}
	struct netif_features f = all;
	f.persistent_grants = true;
	CU_ASSERT_EQUAL(netif_features_switch_off(&f, "persistent-grants"), 0);
	CU_ASSERT_FALSE(f.persistent_grants);
	CU_ASSERT_EQUAL(memcmp(&f, &all, sizeof(f)), 0);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(netif_offload_options_help, "--no-persistent-grants\n"));
	CU_ASSERT_EQUAL(netif_features_switch_off(&f, "tso"), -EINVAL);
	CU_ASSERT_EQUAL(netif_features_switch_off(&f, ""), -EINVAL);
	CU_ASSERT_EQUAL(memcmp(&f, &all, sizeof(f)), 0);

	netif_features_str(&all, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text,
			       "sg ipv4-csum ipv6-csum gso-tcpv4 gso-tcpv6");
	netif_features_switch_off(&f, "sg");
	netif_features_switch_off(&f, "csum");
	netif_features_str(&f, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "none");
}

/* Bytes [at, at + len) of what an iovec writes, gathered. */
static void iov_read(const struct iovec *iov, unsigned n, size_t at,
		     uint8_t *out, size_t len)
{
	for (unsigned i = 0; i < n && len; i++) {
		if (at >= iov[i].iov_len) {
			at -= iov[i].iov_len;
			continue;
		}
		size_t chunk = iov[i].iov_len - at;
		if (chunk > len)
			chunk = len;
		memcpy(out, (const uint8_t *)iov[i].iov_base + at, chunk);
		out += chunk;
		len -= chunk;
		at = 0;
	}
}

/*
 * A GSO TCPv4 packet in three granted pages (as netback maps them): its
 * head copied out and validated, then written from the copy and the
 * pages. A frontend that rewrites its headers in the page after the
 * validation changes nothing the kernel parses: the head comes from the
 * copy; only the payload in the pages is the frontend's to change.
 */
static void test_tx_mapped_iov(void)
{
	static uint8_t pages[3][4096];
	uint8_t *page_ptrs[3] = {pages[0], pages[1], pages[2]};
	struct netif_tx_packet pkt = {
		.size = 3000 + 4096 + 500,
		.nr_frags = 3,
		.frags = {{.gref = 8, .offset = 1096, .size = 3000},
			  {.gref = 9, .offset = 0, .size = 4096},
			  {.gref = 10, .offset = 100, .size = 500}},
		.has_gso = true,
		.gso_type = XEN_NETIF_GSO_TYPE_TCPV4,
		.gso_size = 1448,
	};
	uint8_t *f = pages[0] + 1096;
	size_t n = put_eth(f, ETH_IPV4);
	n += put_ipv4(f + n, 6, pkt.size - 14 - 20);
	put_tcp(f + n, 3000 - 54);
	for (size_t i = 0; i < 4096; i++)
		pages[1][i] = (uint8_t)(i * 5 + 1);
	for (size_t i = 0; i < 500; i++)
		pages[2][100 + i] = (uint8_t)(i * 3 + 2);
	/* What the packet is, gathered once before anything changes. */
	static uint8_t whole[3000 + 4096 + 500];
	netif_tx_gather(&pkt, page_ptrs, pkt.size, whole);
	CU_ASSERT_EQUAL(memcmp(whole, f, 3000), 0);
	CU_ASSERT_EQUAL(memcmp(whole + 3000, pages[1], 4096), 0);
	CU_ASSERT_EQUAL(memcmp(whole + 7096, pages[2] + 100, 500), 0);

	uint8_t head[256];
	netif_tx_gather(&pkt, page_ptrs, sizeof(head), head);
	struct virtio_net_hdr vnet;
	CU_ASSERT_EQUAL_FATAL(
		netif_vnet_for_packet(true, true, pkt.gso_type, pkt.gso_size,
				      head, sizeof(head), pkt.size, &vnet),
		0);
	CU_ASSERT_EQUAL(vnet.hdr_len, 14 + 20 + 20);
	struct iovec iov[8];
	n = netif_tx_mapped_iov(&pkt, page_ptrs, head, sizeof(head), iov, 8);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	size_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += iov[i].iov_len;
	CU_ASSERT_EQUAL(total, pkt.size);
	CU_ASSERT_PTR_EQUAL(iov[0].iov_base, head);
	/* The rest straight from the pages: no copy. */
	CU_ASSERT_PTR_EQUAL(iov[1].iov_base, f + sizeof(head));
	CU_ASSERT_PTR_EQUAL(iov[2].iov_base, pages[1]);
	CU_ASSERT_PTR_EQUAL(iov[3].iov_base, pages[2] + 100);
	static uint8_t written[sizeof(whole)];
	iov_read(iov, n, 0, written, pkt.size);
	CU_ASSERT_EQUAL(memcmp(written, whole, pkt.size), 0);

	/* The hostile frontend: its headers turned into nonsense (and the
	 * head's tail too) after the validation. */
	memset(f, 0xff, sizeof(head));
	iov_read(iov, n, 0, written, pkt.size);
	CU_ASSERT_EQUAL(memcmp(written, whole, sizeof(head)), 0);
	/* ... and its payload: that changes its own packet only. */
	pages[1][7] ^= 0x55;
	iov_read(iov, n, 3000 + 7, written, 1);
	CU_ASSERT_EQUAL(written[0], whole[3000 + 7] ^ 0x55);

	/* A head that ends inside a later slot skips into it. */
	uint8_t long_head[3100];
	netif_tx_gather(&pkt, page_ptrs, sizeof(long_head), long_head);
	n = netif_tx_mapped_iov(&pkt, page_ptrs, long_head, sizeof(long_head),
				iov, 8);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_PTR_EQUAL(iov[1].iov_base, pages[1] + 100);
	CU_ASSERT_EQUAL(iov[1].iov_len, 4096 - 100);
	/* Too few entries: 0, never a partial iovec. */
	CU_ASSERT_EQUAL(netif_tx_mapped_iov(&pkt, page_ptrs, head, sizeof(head),
					    iov, 3),
			0);
	/* A packet no longer than its head is the head alone. */
	struct netif_tx_packet small = {
		.size = 60, .nr_frags = 1, .frags = {{.size = 60}}};
	n = netif_tx_mapped_iov(&small, page_ptrs, head, sizeof(head), iov, 8);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(iov[0].iov_len, 60);
}

static void test_tx_build_gso(void)
{
	struct netif_tx_frag frags[3] = {
		{.gref = 10, .offset = 0, .size = 4096},
		{.gref = 11, .offset = 0, .size = 4096},
		{.gref = 12, .offset = 0, .size = 1000},
	};
	uint16_t ids[3] = {5, 6, 7};
	netif_tx_request_t reqs[4];
	struct netif_features f = {.sg = true, .gso_tcpv6 = true};

	CU_ASSERT_EQUAL_FATAL(netif_tx_build_gso(9192, frags, 3, ids, 0,
						 XEN_NETIF_GSO_TYPE_TCPV6, 1428,
						 reqs),
			      4);
	/* The first: the whole size, a blank checksum, the extra after it. */
	CU_ASSERT_EQUAL(reqs[0].size, 9192);
	CU_ASSERT_EQUAL(reqs[0].id, 5);
	CU_ASSERT_EQUAL(reqs[0].flags,
			NETTXF_csum_blank | NETTXF_data_validated |
				NETTXF_more_data | NETTXF_extra_info);
	netif_extra_info_t extra;
	memcpy(&extra, &reqs[1], sizeof(extra));
	CU_ASSERT_EQUAL(extra.type, XEN_NETIF_EXTRA_TYPE_GSO);
	CU_ASSERT_EQUAL(extra.flags, 0);
	CU_ASSERT_EQUAL(extra.u.gso.size, 1428);
	CU_ASSERT_EQUAL(extra.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV6);
	CU_ASSERT_EQUAL(reqs[2].gref, 11);
	CU_ASSERT_EQUAL(reqs[2].id, 6);
	CU_ASSERT_EQUAL(reqs[2].flags, NETTXF_more_data);
	CU_ASSERT_EQUAL(reqs[3].gref, 12);
	CU_ASSERT_EQUAL(reqs[3].size, 1000);
	CU_ASSERT_EQUAL(reqs[3].flags, 0);
	/* What netback parses from it. */
	struct netif_tx_packet pkt;
	CU_ASSERT_EQUAL(netif_tx_parse(reqs, 4, &f, &pkt), NETIF_TX_OK);
	CU_ASSERT_TRUE(pkt.has_gso);
	CU_ASSERT_EQUAL(pkt.gso_size, 1428);
	CU_ASSERT_EQUAL(pkt.nr_frags, 3);
	CU_ASSERT_EQUAL(pkt.nr_slots, 4);
	CU_ASSERT_EQUAL(pkt.frags[0].size, 4096);
	netif_tx_response_t rsps[4];
	CU_ASSERT_EQUAL(netif_tx_responses(reqs, &pkt, NETIF_RSP_OKAY, rsps),
			4);
	CU_ASSERT_EQUAL(rsps[1].status, NETIF_RSP_NULL);
	CU_ASSERT_EQUAL(rsps[3].id, 7);
	/* One data slot: the extra is the last slot. */
	CU_ASSERT_EQUAL(netif_tx_build_gso(1000, frags + 2, 1, ids, 0,
					   XEN_NETIF_GSO_TYPE_TCPV4, 1448,
					   reqs),
			2);
	CU_ASSERT_EQUAL(reqs[0].flags, NETTXF_csum_blank |
					       NETTXF_data_validated |
					       NETTXF_extra_info);
	/* No GSO: netif_tx_build. */
	CU_ASSERT_EQUAL(netif_tx_build_gso(9192, frags, 3, ids, 0,
					   XEN_NETIF_GSO_TYPE_NONE, 0, reqs),
			3);
	CU_ASSERT_EQUAL(reqs[0].flags, NETTXF_more_data);
	/* An MSS of 0 or an unknown type. */
	CU_ASSERT_EQUAL(netif_tx_build_gso(9192, frags, 3, ids, 0,
					   XEN_NETIF_GSO_TYPE_TCPV4, 0, reqs),
			0);
	CU_ASSERT_EQUAL(
		netif_tx_build_gso(9192, frags, 3, ids, 0, 3, 1448, reqs), 0);
}

static void test_vnet_gso(void)
{
	uint8_t f[256];
	struct virtio_net_hdr vnet;
	size_t n = put_eth(f, ETH_IPV4);
	n += put_ipv4(f + n, 6, 20 + 100);
	n += put_tcp(f + n, 100);
	CU_ASSERT_EQUAL_FATAL(netif_vnet_for_gso_frame(XEN_NETIF_GSO_TYPE_TCPV4,
						       1448, f, n, &vnet),
			      0);
	CU_ASSERT_EQUAL(vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CU_ASSERT_EQUAL(vnet.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	CU_ASSERT_EQUAL(vnet.gso_size, 1448);
	CU_ASSERT_EQUAL(vnet.csum_start, 34);
	CU_ASSERT_EQUAL(vnet.csum_offset, 16);
	CU_ASSERT_EQUAL(vnet.hdr_len, 54);
	/* TCP options: the headers end after them. */
	f[34 + 12] = 8 << 4;
	CU_ASSERT_EQUAL(netif_vnet_for_gso_frame(XEN_NETIF_GSO_TYPE_TCPV4, 1448,
						 f, n, &vnet),
			0);
	CU_ASSERT_EQUAL(vnet.hdr_len, 34 + 32);
	/* The type's IP version, and TCP only. */
	CU_ASSERT_EQUAL(netif_vnet_for_gso_frame(XEN_NETIF_GSO_TYPE_TCPV6, 1448,
						 f, n, &vnet),
			-EINVAL);
	CU_ASSERT_EQUAL(netif_vnet_for_gso_frame(XEN_NETIF_GSO_TYPE_TCPV4, 0, f,
						 n, &vnet),
			-EINVAL);
	/* An MSS no TCP uses: thousands of segments for 64 KiB. */
	CU_ASSERT_EQUAL(netif_vnet_for_gso_frame(XEN_NETIF_GSO_TYPE_TCPV4,
						 NETIF_GSO_MIN_MSS - 1, f, n,
						 &vnet),
			-EINVAL);
	CU_ASSERT_EQUAL(netif_vnet_for_gso_frame(XEN_NETIF_GSO_TYPE_TCPV4,
						 NETIF_GSO_MIN_MSS, f, n,
						 &vnet),
			0);
	n = put_eth(f, ETH_IPV4);
	n += put_ipv4(f + n, 17, 8 + 5);
	n += put_udp(f + n, 5);
	CU_ASSERT_EQUAL(netif_vnet_for_gso_frame(XEN_NETIF_GSO_TYPE_TCPV4, 1448,
						 f, n, &vnet),
			-EINVAL);

	n = put_eth(f, ETH_IPV6);
	n += put_ipv6(f + n, 6, 20 + 50);
	n += put_tcp(f + n, 50);
	CU_ASSERT_EQUAL_FATAL(netif_vnet_for_gso_frame(XEN_NETIF_GSO_TYPE_TCPV6,
						       1428, f, n, &vnet),
			      0);
	CU_ASSERT_EQUAL(vnet.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	CU_ASSERT_EQUAL(vnet.csum_start, 54);
	CU_ASSERT_EQUAL(vnet.hdr_len, 74);
	CU_ASSERT_EQUAL(netif_vnet_for_gso_frame(XEN_NETIF_GSO_TYPE_TCPV4, 1428,
						 f, n, &vnet),
			-EINVAL);
	/* Cut short. */
	CU_ASSERT_EQUAL(netif_vnet_for_gso_frame(XEN_NETIF_GSO_TYPE_TCPV6, 1428,
						 f, 60, &vnet),
			-EINVAL);
}

/* The fill over a frame in pieces equals the fill over it whole, wherever
 * it is cut (odd cuts included). */
static void test_checksum_fill_iov(void)
{
	uint8_t whole[301], pieces[301];
	for (size_t i = 0; i < sizeof(whole); i++)
		whole[i] = (uint8_t)(i * 13 + 7);
	memcpy(pieces, whole, sizeof(whole));
	CU_ASSERT_EQUAL_FATAL(netif_checksum_fill(whole, sizeof(whole), 41, 6),
			      0);
	for (size_t a = 0; a <= sizeof(pieces); a += 7) {
		for (size_t b = a; b <= sizeof(pieces); b += 11) {
			uint8_t copy[301];
			memcpy(copy, pieces, sizeof(copy));
			struct iovec iov[3] = {{copy, a},
					       {copy + a, b - a},
					       {copy + b, sizeof(copy) - b}};
			CU_ASSERT_EQUAL(netif_checksum_fill_iov(
						iov, 3, sizeof(copy), 41, 6),
					0);
			CU_ASSERT_EQUAL(memcmp(copy, whole, sizeof(copy)), 0);
		}
	}
	/* Pieces shorter than the length, or a field past it. */
	struct iovec short_iov = {pieces, 100};
	CU_ASSERT_EQUAL(netif_checksum_fill_iov(&short_iov, 1, 200, 10, 6),
			-EINVAL);
	CU_ASSERT_EQUAL(netif_checksum_fill_iov(&short_iov, 1, 100, 90, 9),
			-EINVAL);
}

static CU_TestInfo tx_tests[] = {
	{"single slot", test_tx_single_slot},
	{"fragments take their share of the first size", test_tx_fragments},
	{"stops at the packet's end", test_tx_stops_at_packet_end},
	{"18 data slots accepted", test_tx_max_slots_accepted},
	{"19 and 20 data slots: error", test_tx_too_many_slots},
	{"21 data slots: disable", test_tx_fatal_slots},
	{"incomplete chains", test_tx_incomplete},
	{"a slot across its page: disable", test_tx_crosses_page},
	{"fragment larger than what is left: error",
	 test_tx_frag_exceeds_total},
	{"runt first slot: error", test_tx_runt},
	{"GSO extra, negotiated or dropped", test_tx_gso},
	{"malformed extras: disable", test_tx_extra_malformed},
	{"unknown extras: disable", test_tx_extra_unknown},
	{"GSO and hash extras kept", test_tx_extras_kept},
	{"multicast control request", test_tx_mcast},
	{"the longest packet", test_tx_longest_packet},
	{"responses in ring order", test_tx_responses},
	{"reason strings", test_tx_reason_strings},
	{"frontend builds requests", test_tx_build},
	{"build refuses what the backend would not take",
	 test_tx_build_refuses},
	{"frontend builds a GSO packet", test_tx_build_gso},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo rx_tests[] = {
	{"slots needed", test_rx_slots_needed},
	{"one-slot responses and RX flag positions",
	 test_rx_responses_one_slot},
	{"page-sized responses", test_rx_responses_pages},
	{"GSO extra in the second slot", test_rx_responses_gso},
	{"offsets within the page", test_rx_parse_ok_offset},
	{"error status", test_rx_status_error},
	{"data past its page", test_rx_bad_offset},
	{"too many slots", test_rx_too_many_slots},
	{"incomplete chains", test_rx_incomplete},
	{"unknown extras", test_rx_extra_unknown},
	{"malformed extras", test_rx_extra_malformed},
	{"runt", test_rx_runt},
	{"ids are not trusted", test_rx_lying_id},
	{"reason and drop strings, stats path", test_rx_reason_strings},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo key_tests[] = {
	{"backend offer keys", test_backend_offer_keys},
	{"backend offer round trip", test_backend_offer_round_trip},
	{"backend offer with keys missing", test_backend_offer_missing_keys},
	{"backend offer malformed", test_backend_offer_malformed},
	{"frontend chooses", test_frontend_choose},
	{"frontend connection keys", test_frontend_conn_keys},
	{"frontend connection round trip", test_frontend_conn_round_trip},
	{"TX packet written from mapped pages", test_tx_mapped_iov},
	{"persistent grants negotiated", test_persistent_grants_negotiation},
	{"frontend connection malformed", test_frontend_conn_malformed},
	{"frontend offers its own offloads", test_frontend_conn_offers_its_own},
	{"GSO needs sg and checksum offload", test_gso_usable},
	{"TUNSETOFFLOAD from an offer", test_tun_offload},
	{"switching offers off", test_features_switch_off},
	{"multi-queue keys", test_multi_queue_keys},
	{"multi-queue round trip, split on and off",
	 test_multi_queue_round_trip},
	{"multi-queue keys refused", test_multi_queue_refused},
	{"mixed channel kinds refused", test_multi_queue_mixed_channels},
	{"frontend chooses queues", test_frontend_choose_queues},
	{"the mac key", test_parse_mac},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo vnet_tests[] = {
	{"vnet header to TX flags", test_vnet_to_tx},
	{"IPv4 TCP and UDP", test_vnet_ipv4},
	{"IPv6 TCP and UDP, extension headers", test_vnet_ipv6},
	{"not TCP or UDP", test_vnet_unsupported},
	{"truncated or lying headers", test_vnet_truncated_or_lying},
	{"flags without a blank checksum", test_vnet_flags_only},
	{"checksum fill, UDP over IPv4", test_checksum_fill_udp_ipv4},
	{"checksum fill, TCP over IPv6", test_checksum_fill_tcp_ipv6},
	{"checksum fill, known vectors", test_checksum_fill_known_vector},
	{"checksum fill bounds", test_checksum_fill_bounds},
	{"GSO header for TCPv4 and TCPv6 frames", test_vnet_gso},
	{"checksum fill over pieces", test_checksum_fill_iov},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"netif TX", NULL, NULL, NULL, NULL, tx_tests},
	{"netif RX", NULL, NULL, NULL, NULL, rx_tests},
	{"netif keys", NULL, NULL, NULL, NULL, key_tests},
	{"netif vnet header", NULL, NULL, NULL, NULL, vnet_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return pvio_cunit_run(suites);
}
