/*
 * libFuzzer target over what a frontend takes from a backend: the RX
 * response parser, and the virtio-net header (and software checksum) for
 * a frame's bytes.
 *
 * Input: one byte of negotiated features (bit 0 sg, 1 gso_tcpv4, 2
 * gso_tcpv6, 3 ctrl_ring, 4 csum_blank and 5 data_validated for the
 * frame), a 16-bit little-endian frame length L, L bytes of frame, then
 * netif_rx_response_t images of 8 bytes each, in ring order.
 */
#include "config.h"

#include "netif.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RSPS 512

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static void check_rx(const netif_rx_response_t *rsps, size_t n,
		     const struct netif_features *f)
{
	unsigned pos = 0;
	while (pos < n) {
		struct netif_rx_packet pkt;
		unsigned left = (unsigned)n - pos;
		enum netif_rx_reason reason =
			netif_rx_parse(rsps + pos, left, f, &pkt);

		CHECK(reason < NETIF_RX_REASON_COUNT);
		CHECK(netif_rx_reason_str(reason) != NULL);
		if (reason == NETIF_RX_INCOMPLETE)
			break;
		CHECK(pkt.nr_slots >= 1 && pkt.nr_slots <= left);
		if (reason == NETIF_RX_OK) {
			uint32_t sum = 0;
			CHECK(pkt.nr_frags >= 1 &&
			      pkt.nr_frags <= XEN_NETIF_NR_SLOTS_MIN);
			for (unsigned i = 0; i < pkt.nr_frags; i++) {
				CHECK(pkt.frags[i].slot < pkt.nr_slots);
				CHECK(i == 0 || pkt.frags[i].slot >
							pkt.frags[i - 1].slot);
				CHECK((uint32_t)pkt.frags[i].offset +
					      pkt.frags[i].len <=
				      NETIF_PAGE_BYTES);
				sum += pkt.frags[i].len;
			}
			CHECK(sum == pkt.size);
			CHECK(pkt.size >= NETIF_ETH_HLEN);
			if (pkt.has_gso)
				CHECK(pkt.gso_size > 0);
		} else {
			CHECK(pkt.bad_slot < pkt.nr_slots);
		}
		pos += pkt.nr_slots;
	}
}

/* What a backend writes, a frontend reads back unchanged. */
static void check_rx_round_trip(uint32_t size, uint8_t bits,
				const struct netif_features *f)
{
	bool gso = (bits & 0x40) && (f->gso_tcpv4 || f->gso_tcpv6);
	unsigned nr = netif_rx_slots_needed(size, gso, f);
	if (nr == 0)
		return;
	CHECK(nr <= XEN_NETIF_NR_SLOTS_MIN + 1);
	netif_rx_request_t reqs[XEN_NETIF_NR_SLOTS_MIN + 1];
	netif_rx_response_t rsps[XEN_NETIF_NR_SLOTS_MIN + 1];
	for (unsigned i = 0; i < nr; i++)
		reqs[i] = (netif_rx_request_t){.id = (uint16_t)i, .gref = i};
	struct netif_rx_meta meta = {
		.size = size,
		.csum_blank = bits & 0x10,
		.data_validated = bits & 0x20,
		.has_gso = gso,
		.gso_size = 1448,
		.gso_type = f->gso_tcpv4 ? XEN_NETIF_GSO_TYPE_TCPV4
					 : XEN_NETIF_GSO_TYPE_TCPV6,
	};
	CHECK(netif_rx_responses(reqs, nr, &meta, rsps) == nr);
	struct netif_rx_packet pkt;
	enum netif_rx_reason reason = netif_rx_parse(rsps, nr, f, &pkt);
	if (size < NETIF_ETH_HLEN) {
		CHECK(reason == NETIF_RX_RUNT);
		return;
	}
	CHECK(reason == NETIF_RX_OK);
	CHECK(pkt.size == size && pkt.nr_slots == nr);
	CHECK(pkt.has_gso == gso);
	CHECK(!(pkt.flags & NETRXF_csum_blank) == !meta.csum_blank);
}

static uint16_t sum_from(const uint8_t *p, size_t start, size_t len)
{
	uint64_t sum = 0;
	for (size_t i = start; i < len; i++)
		sum += ((i - start) & 1) ? p[i] : (uint64_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void check_vnet(const uint8_t *frame, size_t len, uint8_t bits)
{
	static uint8_t copy[65536];
	struct virtio_net_hdr vnet;
	bool csum_blank = bits & 0x10;
	int rc = netif_vnet_for_frame(csum_blank, bits & 0x20, frame, len,
				      &vnet);

	if (rc < 0) {
		CHECK(csum_blank);
		CHECK(rc == -EINVAL || rc == -EPROTONOSUPPORT);
		return;
	}
	CHECK(vnet.gso_type == VIRTIO_NET_HDR_GSO_NONE);
	if (!csum_blank)
		return;
	CHECK(vnet.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK(vnet.csum_offset == 6 || vnet.csum_offset == 16);
	CHECK(vnet.csum_start >= NETIF_ETH_HLEN);
	CHECK((size_t)vnet.csum_start + vnet.csum_offset + 2 <= len);
	/*
	 * Filled, the checksum verifies: the field held the pseudo-header's
	 * sum, which a receiver adds back.
	 */
	size_t field = (size_t)vnet.csum_start + vnet.csum_offset;
	uint32_t pseudo = (uint32_t)frame[field] << 8 | frame[field + 1];
	memcpy(copy, frame, len);
	CHECK(netif_checksum_fill(copy, len, vnet.csum_start,
				  vnet.csum_offset) == 0);
	uint32_t total = sum_from(copy, vnet.csum_start, len) + pseudo;
	total = (total & 0xffff) + (total >> 16);
	CHECK(total == 0xffff);
	/* The same fill over the frame in pieces (as it lies in ring
	 * pages): the same bytes. */
	static uint8_t pieces[65536];
	memcpy(pieces, frame, len);
	size_t cut1 = bits % (len + 1), cut2 = cut1 + (len - cut1) / 2;
	struct iovec iov[3] = {{pieces, cut1},
			       {pieces + cut1, cut2 - cut1},
			       {pieces + cut2, len - cut2}};
	CHECK(netif_checksum_fill_iov(iov, 3, len, vnet.csum_start,
				      vnet.csum_offset) == 0);
	CHECK(memcmp(pieces, copy, len) == 0);
}

/* A GSO header for the frame: only TCP of the type's IP version, with the
 * checksum and the headers inside it. */
static void check_vnet_gso(const uint8_t *frame, size_t len, uint8_t bits)
{
	struct virtio_net_hdr vnet;
	uint8_t type = bits & 0x40 ? XEN_NETIF_GSO_TYPE_TCPV6
				   : XEN_NETIF_GSO_TYPE_TCPV4;
	uint16_t mss = bits & 0x80 ? 1448 : 0;
	int rc = netif_vnet_for_gso_frame(type, mss, frame, len, &vnet);
	if (rc < 0) {
		CHECK(rc == -EINVAL || rc == -EPROTONOSUPPORT);
		return;
	}
	CHECK(mss >= NETIF_GSO_MIN_MSS);
	CHECK(vnet.gso_size == mss);
	CHECK(vnet.gso_type == (type == XEN_NETIF_GSO_TYPE_TCPV4
					? VIRTIO_NET_HDR_GSO_TCPV4
					: VIRTIO_NET_HDR_GSO_TCPV6));
	CHECK(vnet.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK(vnet.csum_offset == 16);
	CHECK(vnet.hdr_len >= vnet.csum_start + 20 && vnet.hdr_len <= len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static netif_rx_response_t rsps[MAX_RSPS];

	if (size < 3)
		return 0;
	uint8_t bits = data[0];
	struct netif_features f = {
		.rx_copy = true,
		.rx_notify = true,
		.sg = bits & 1,
		.ipv4_csum = true,
		.gso_tcpv4 = bits & 2,
		.gso_tcpv6 = bits & 4,
		.ctrl_ring = bits & 8,
	};
	size_t frame_len = (size_t)data[1] | (size_t)data[2] << 8;
	if (frame_len > size - 3)
		frame_len = size - 3;
	const uint8_t *frame = data + 3;
	check_vnet(frame, frame_len, bits);
	check_vnet_gso(frame, frame_len, bits);
	check_rx_round_trip((uint32_t)frame_len * 3, bits, &f);

	size_t n = (size - 3 - frame_len) / sizeof(rsps[0]);
	if (n > MAX_RSPS)
		n = MAX_RSPS;
	memcpy(rsps, data + 3 + frame_len, n * sizeof(rsps[0]));
	check_rx(rsps, n, &f);
	return 0;
}
