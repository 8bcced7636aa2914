/*
 * Unit tests of pvio-netfront's data path (frontend/tx.c, rx.c, pool.c)
 * with the test as the backend: the rings, pools and "grants" are private
 * memory, the backend's end of each ring is a pvio_back_ring on the same
 * shared area, and the TAP is one end of a datagram socket pair (frames
 * keep their boundaries, as on a TAP). The hostile cases are the trust
 * model of docs/netif-frontend.md: ids, slot counts, offsets and lengths
 * bounded, and no buffer reused while in flight.
 */
#include "config.h"

#include "cunit_main.h"
#include "frontend/netfront.h"
#include "pvio_tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TX_GREF_BASE 1000u
#define RX_GREF_BASE 2000u

/* ---- what the data path calls in vif.c and main.c ---- */

bool nf_verbose;
void nf_log(const char *fmt, ...)
{
	(void)fmt;
}
void nf_debug(const char *fmt, ...)
{
	(void)fmt;
}
void nf_conn_fail(struct nf_conn *c, const char *fmt, ...)
{
	if (c->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->fail_why, sizeof(c->fail_why), fmt, ap);
	va_end(ap);
	c->failed = 1;
}
void nf_conn_complain(struct nf_conn *c, enum nf_complaint what,
		      const char *fmt, ...)
{
	(void)fmt;
	c->complained[what] = true;
}
void nf_conn_notify(struct nf_conn *c)
{
	c->stats.notify_sent++;
}

/* ---- the fixture: one connection and the backend's view of it ---- */

static struct nf_vif vif;
static struct nf_conn *c;
static int kernel_fd; /* the kernel's side of the "TAP" */
static struct pvio_back_ring tx_back, rx_back;

static void conn_open(bool sg, bool trusted)
{
	int sv[2];
	CU_ASSERT_FATAL(
		socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) == 0);
	int big = 4 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	memset(&vif, 0, sizeof(vif));
	vif.tap_fd = sv[0];
	kernel_fd = sv[1];
	vif.trusted = trusted;
	strcpy(vif.ifname, "eth0");
	strcpy(vif.label, "vif1.0");

	c = calloc(1, sizeof(*c));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	c->vif = &vif;
	c->features = (struct netif_features){.rx_copy = true,
					      .rx_notify = true,
					      .sg = sg,
					      .ipv4_csum = true,
					      .ipv6_csum = true,
					      .gso_tcpv4 = sg,
					      .gso_tcpv6 = sg};
	/* The backend takes the same, unless a test says otherwise. */
	c->tx_features = c->features;
	c->tx_sring = aligned_alloc(NETIF_PAGE_BYTES, NETIF_PAGE_BYTES);
	c->rx_sring = aligned_alloc(NETIF_PAGE_BYTES, NETIF_PAGE_BYTES);
	c->tx_pages = aligned_alloc(NETIF_PAGE_BYTES,
				    NF_RING_SLOTS * NETIF_PAGE_BYTES);
	c->rx_pages = aligned_alloc(NETIF_PAGE_BYTES,
				    NF_RING_SLOTS * NETIF_PAGE_BYTES);
	CU_ASSERT_FATAL(c->tx_sring && c->rx_sring && c->tx_pages &&
			c->rx_pages);
	for (unsigned i = 0; i < NF_RING_SLOTS; i++) {
		c->tx_gref[i] = TX_GREF_BASE + i;
		c->rx_gref[i] = RX_GREF_BASE + i;
	}
	char why[128];
	CU_ASSERT_EQUAL_FATAL(nf_conn_rings_init(c, why, sizeof(why)), 0);
	pvio_back_ring_attach(&tx_back, c->tx_sring, &c->tx.layout, 0);
	pvio_back_ring_attach(&rx_back, c->rx_sring, &c->rx.layout, 0);
	c->tap_pending = true; /* as the worker starts */
	nf_rx_post(c);
}

static void conn_close(void)
{
	close(vif.tap_fd);
	close(kernel_fd);
	free(c->tx_sring);
	free(c->rx_sring);
	free(c->tx_pages);
	free(c->rx_pages);
	free(c);
	c = NULL;
}

/* A frame of len bytes: Ethernet IPv4 TCP headers, then a pattern. */
static void make_frame(uint8_t *f, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
	if (len < 54)
		return;
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *ip = f + 14;
	size_t ip_len = len - 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[6] = ip[7] = 0; /* not a fragment */
	ip[9] = 6;	   /* TCP */
	ip[20 + 12] = 5 << 4;
}

/* A frame of len bytes: Ethernet IPv6 UDP headers, then a pattern. */
static void make_frame6(uint8_t *f, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 5);
	f[12] = 0x86;
	f[13] = 0xdd;
	uint8_t *ip = f + 14;
	size_t payload = len - 14 - 40;
	ip[0] = 0x60;
	ip[4] = (uint8_t)(payload >> 8);
	ip[5] = (uint8_t)payload;
	ip[6] = 17; /* UDP */
}

/* The kernel hands a frame to the TAP, with a vnet header. */
static void kernel_send_vnet(const uint8_t *frame, size_t len,
			     const struct virtio_net_hdr *vnet)
{
	struct iovec iov[2] = {{(void *)vnet, sizeof(*vnet)},
			       {(void *)frame, len}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	CU_ASSERT_EQUAL_FATAL(sendmsg(kernel_fd, &msg, 0),
			      (ssize_t)(sizeof(*vnet) + len));
}

/* The kernel hands a frame to the TAP. */
static void kernel_send(const uint8_t *frame, size_t len, uint8_t vnet_flags)
{
	struct virtio_net_hdr vnet = {.flags = vnet_flags};
	struct iovec iov[2] = {{&vnet, sizeof(vnet)}, {(void *)frame, len}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	CU_ASSERT_EQUAL_FATAL(sendmsg(kernel_fd, &msg, 0),
			      (ssize_t)(sizeof(vnet) + len));
}

/* What the frontend wrote to the TAP: -1 when nothing. */
static ssize_t kernel_recv(struct virtio_net_hdr *vnet, uint8_t *buf,
			   size_t size)
{
	struct iovec iov[2] = {{vnet, sizeof(*vnet)}, {buf, size}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	ssize_t n = recvmsg(kernel_fd, &msg, MSG_DONTWAIT);
	return n < 0 ? -1 : n - (ssize_t)sizeof(*vnet);
}

static int tx_take(netif_tx_request_t *reqs, unsigned max)
{
	return pvio_back_take_requests(&tx_back, reqs, max);
}

static void tx_answer(uint16_t id, int16_t status)
{
	netif_tx_response_t rsp = {.id = id, .status = status};
	CU_ASSERT_EQUAL(pvio_back_put_responses(&tx_back, &rsp, 1), 1);
	pvio_back_push_responses(&tx_back);
}

static uint8_t *tx_page_of(grant_ref_t gref)
{
	CU_ASSERT_FATAL(gref >= TX_GREF_BASE &&
			gref < TX_GREF_BASE + NF_RING_SLOTS);
	return c->tx_pages + (size_t)(gref - TX_GREF_BASE) * NETIF_PAGE_BYTES;
}

static uint8_t *rx_page_of(grant_ref_t gref)
{
	CU_ASSERT_FATAL(gref >= RX_GREF_BASE &&
			gref < RX_GREF_BASE + NF_RING_SLOTS);
	return c->rx_pages + (size_t)(gref - RX_GREF_BASE) * NETIF_PAGE_BYTES;
}

/* ---- TX ---- */

static void test_tx_one_frame(void)
{
	uint8_t frame[100];
	netif_tx_request_t req[4];
	conn_open(false, true);
	make_frame(frame, sizeof(frame), 1);
	kernel_send(frame, sizeof(frame), VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CU_ASSERT_EQUAL(nf_tx_from_tap(c), 1);
	CU_ASSERT_FALSE(c->tap_pending); /* read to EAGAIN */
	CU_ASSERT_EQUAL(tx_take(req, 4), 1);
	CU_ASSERT_EQUAL(req[0].size, sizeof(frame));
	CU_ASSERT_EQUAL(req[0].offset, 0);
	CU_ASSERT_EQUAL(req[0].flags,
			NETTXF_csum_blank | NETTXF_data_validated);
	CU_ASSERT_EQUAL(memcmp(tx_page_of(req[0].gref), frame, sizeof(frame)),
			0);
	CU_ASSERT_EQUAL(req[0].gref, TX_GREF_BASE + req[0].id);
	CU_ASSERT_EQUAL(c->tx_nfree, NF_RING_SLOTS - 1);
	CU_ASSERT_EQUAL(c->stats.tx_packets, 1);

	tx_answer(req[0].id, NETIF_RSP_OKAY);
	CU_ASSERT_EQUAL(nf_tx_reap(c), 1);
	CU_ASSERT_EQUAL(c->tx_nfree, NF_RING_SLOTS);
	CU_ASSERT_FALSE(c->failed);
	conn_close();
}

static void test_tx_jumbo_frame_takes_three_slots(void)
{
	static uint8_t frame[9014];
	netif_tx_request_t req[8];
	conn_open(true, true);
	make_frame(frame, sizeof(frame), 2);
	kernel_send(frame, sizeof(frame), 0);
	CU_ASSERT_EQUAL(nf_tx_from_tap(c), 1);
	CU_ASSERT_EQUAL_FATAL(tx_take(req, 8), 3);
	CU_ASSERT_EQUAL(req[0].size, sizeof(frame));
	CU_ASSERT_EQUAL(req[0].flags, NETTXF_more_data);
	CU_ASSERT_EQUAL(req[1].size, NETIF_PAGE_BYTES);
	CU_ASSERT_EQUAL(req[1].flags, NETTXF_more_data);
	CU_ASSERT_EQUAL(req[2].size, sizeof(frame) - 2 * NETIF_PAGE_BYTES);
	CU_ASSERT_EQUAL(req[2].flags, 0);
	CU_ASSERT_NOT_EQUAL(req[0].id, req[1].id);
	CU_ASSERT_NOT_EQUAL(req[1].id, req[2].id);
	CU_ASSERT_NOT_EQUAL(req[0].id, req[2].id);
	for (unsigned i = 0; i < 3; i++) {
		size_t at = i * NETIF_PAGE_BYTES;
		size_t len = i < 2 ? NETIF_PAGE_BYTES : req[2].size;
		CU_ASSERT_EQUAL(
			memcmp(tx_page_of(req[i].gref), frame + at, len), 0);
	}
	CU_ASSERT_EQUAL(c->tx_nfree, NF_RING_SLOTS - 3);
	conn_close();
}

static void test_tx_frame_larger_than_a_page_without_sg_is_dropped(void)
{
	static uint8_t frame[5000];
	netif_tx_request_t req[4];
	conn_open(false, true);
	make_frame(frame, sizeof(frame), 3);
	kernel_send(frame, sizeof(frame), 0);
	kernel_send(frame, 60, 0);
	CU_ASSERT_EQUAL(nf_tx_from_tap(c), 2);
	CU_ASSERT_EQUAL(c->stats.tx_dropped, 1);
	CU_ASSERT_TRUE(c->complained[NF_C_TX_FRAME]);
	CU_ASSERT_EQUAL(tx_take(req, 4), 1);
	CU_ASSERT_EQUAL(req[0].size, 60);
	CU_ASSERT_EQUAL(c->tx_nfree, NF_RING_SLOTS - 1);
	conn_close();
}

static void test_tx_full_ring_waits_and_ids_stay_unique(void)
{
	uint8_t frame[64];
	static netif_tx_request_t req[NF_RING_SLOTS + 1];
	bool seen[NF_RING_SLOTS] = {0};
	conn_open(false, true);
	make_frame(frame, sizeof(frame), 4);
	for (unsigned i = 0; i <= NF_RING_SLOTS; i++)
		kernel_send(frame, sizeof(frame), 0);
	unsigned sent = 0;
	for (int round = 0; round < 10 && !c->tx_blocked; round++) {
		int n = nf_tx_from_tap(c);
		CU_ASSERT_FATAL(n >= 0);
		sent += (unsigned)n;
	}
	CU_ASSERT_EQUAL(sent, NF_RING_SLOTS);
	CU_ASSERT_TRUE(c->tx_blocked);
	CU_ASSERT_TRUE(c->tap_pending); /* one frame left in the TAP */
	CU_ASSERT_EQUAL_FATAL(tx_take(req, NF_RING_SLOTS + 1), NF_RING_SLOTS);
	for (unsigned i = 0; i < NF_RING_SLOTS; i++) {
		CU_ASSERT_FATAL(req[i].id < NF_RING_SLOTS);
		CU_ASSERT_FALSE(seen[req[i].id]); /* no page in flight twice */
		seen[req[i].id] = true;
	}
	uint16_t freed = req[17].id;
	tx_answer(freed, NETIF_RSP_OKAY);
	CU_ASSERT_EQUAL(nf_tx_reap(c), 1);
	CU_ASSERT_FALSE(c->tx_blocked);
	CU_ASSERT_EQUAL(nf_tx_from_tap(c), 1);
	CU_ASSERT_EQUAL(tx_take(req, 2), 1);
	CU_ASSERT_EQUAL(req[0].id, freed); /* the page just answered */
	CU_ASSERT_EQUAL(c->tx_nfree, 0);
	conn_close();
}

static void test_tx_ipv6_partial_checksum_filled_without_offload(void)
{
	uint8_t frame[200], expect[200];
	netif_tx_request_t req[2];
	conn_open(false, true);
	c->tx_features.ipv6_csum = false;
	make_frame6(frame, sizeof(frame), 21);
	struct virtio_net_hdr vnet = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				      .csum_start = 14 + 40,
				      .csum_offset = 6};
	memcpy(expect, frame, sizeof(frame));
	CU_ASSERT_EQUAL_FATAL(netif_checksum_fill(expect, sizeof(expect),
						  vnet.csum_start,
						  vnet.csum_offset),
			      0);
	kernel_send_vnet(frame, sizeof(frame), &vnet);
	CU_ASSERT_EQUAL(nf_tx_from_tap(c), 1);
	CU_ASSERT_EQUAL_FATAL(tx_take(req, 2), 1);
	/* Filled here: no csum_blank for a backend that would not fill it,
	 * still known good. */
	CU_ASSERT_EQUAL(req[0].flags, NETTXF_data_validated);
	CU_ASSERT_EQUAL(memcmp(tx_page_of(req[0].gref), expect, sizeof(expect)),
			0);
	conn_close();
}

static void test_tx_ipv6_partial_checksum_offloaded_when_agreed(void)
{
	uint8_t frame[200];
	netif_tx_request_t req[2];
	conn_open(false, true);
	make_frame6(frame, sizeof(frame), 22);
	struct virtio_net_hdr vnet = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				      .csum_start = 14 + 40,
				      .csum_offset = 6};
	kernel_send_vnet(frame, sizeof(frame), &vnet);
	CU_ASSERT_EQUAL(nf_tx_from_tap(c), 1);
	CU_ASSERT_EQUAL_FATAL(tx_take(req, 2), 1);
	CU_ASSERT_EQUAL(req[0].flags,
			NETTXF_csum_blank | NETTXF_data_validated);
	CU_ASSERT_EQUAL(memcmp(tx_page_of(req[0].gref), frame, sizeof(frame)),
			0);
	conn_close();
}

static void test_tx_checksum_across_pages_filled_gso_refused(void)
{
	static uint8_t frame[6000], expect[6000];
	netif_tx_request_t req[4];
	conn_open(true, true);
	c->tx_features.ipv6_csum = false;
	c->tx_features.gso_tcpv4 = false;
	make_frame6(frame, sizeof(frame), 23);
	/* Across pages: filled in both pages as they lie. */
	struct virtio_net_hdr vnet = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				      .csum_start = 14 + 40,
				      .csum_offset = 6};
	memcpy(expect, frame, sizeof(frame));
	CU_ASSERT_EQUAL_FATAL(netif_checksum_fill(expect, sizeof(expect),
						  vnet.csum_start,
						  vnet.csum_offset),
			      0);
	kernel_send_vnet(frame, sizeof(frame), &vnet);
	/* GSO of a type the backend does not take: dropped. */
	struct virtio_net_hdr gso = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				     .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				     .gso_size = 1448,
				     .csum_start = 34,
				     .csum_offset = 16};
	make_frame(frame, 3000, 24);
	kernel_send_vnet(frame, 3000, &gso);
	CU_ASSERT_EQUAL(nf_tx_from_tap(c), 2);
	CU_ASSERT_EQUAL(c->stats.tx_dropped, 1);
	CU_ASSERT_TRUE(c->complained[NF_C_TX_FRAME]);
	CU_ASSERT_FALSE(c->complained[NF_C_TX_CSUM]);
	CU_ASSERT_EQUAL_FATAL(tx_take(req, 4), 2);
	CU_ASSERT_EQUAL(req[0].flags, NETTXF_data_validated | NETTXF_more_data);
	CU_ASSERT_EQUAL(req[0].size, sizeof(expect));
	CU_ASSERT_EQUAL(memcmp(tx_page_of(req[0].gref), expect, 4096), 0);
	CU_ASSERT_EQUAL(memcmp(tx_page_of(req[1].gref), expect + 4096,
			       sizeof(expect) - 4096),
			0);
	CU_ASSERT_EQUAL(c->tx_nfree, NF_RING_SLOTS - 2);
	conn_close();
}

static void test_tx_gso_frame_carries_its_extra(void)
{
	static uint8_t frame[20000];
	netif_tx_request_t req[8];
	conn_open(true, true);
	make_frame(frame, sizeof(frame), 25);
	struct virtio_net_hdr gso = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				     .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				     .gso_size = 1448,
				     .hdr_len = 54,
				     .csum_start = 34,
				     .csum_offset = 16};
	kernel_send_vnet(frame, sizeof(frame), &gso);
	CU_ASSERT_EQUAL(nf_tx_from_tap(c), 1);
	/* Five pages and the GSO extra after the first. */
	CU_ASSERT_EQUAL_FATAL(tx_take(req, 8), 6);
	CU_ASSERT_EQUAL(req[0].flags,
			NETTXF_csum_blank | NETTXF_data_validated |
				NETTXF_more_data | NETTXF_extra_info);
	CU_ASSERT_EQUAL(req[0].size, sizeof(frame));
	netif_extra_info_t extra;
	memcpy(&extra, &req[1], sizeof(extra));
	CU_ASSERT_EQUAL(extra.type, XEN_NETIF_EXTRA_TYPE_GSO);
	CU_ASSERT_EQUAL(extra.flags, 0);
	CU_ASSERT_EQUAL(extra.u.gso.size, 1448);
	CU_ASSERT_EQUAL(extra.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
	CU_ASSERT_EQUAL(memcmp(tx_page_of(req[0].gref), frame, 4096), 0);
	CU_ASSERT_EQUAL(memcmp(tx_page_of(req[5].gref), frame + 4 * 4096,
			       sizeof(frame) - 4 * 4096),
			0);
	CU_ASSERT_EQUAL(req[5].flags, 0);
	CU_ASSERT_EQUAL(c->tx_nfree, NF_RING_SLOTS - 5);
	/* netback parses it back as it was built. */
	struct netif_tx_packet pkt;
	CU_ASSERT_EQUAL(netif_tx_parse(req, 6, &c->tx_features, &pkt),
			NETIF_TX_OK);
	CU_ASSERT_TRUE(pkt.has_gso);
	CU_ASSERT_EQUAL(pkt.nr_frags, 5);
	CU_ASSERT_EQUAL(pkt.nr_slots, 6);
	/* The answers: the extra's is NETIF_RSP_NULL, naming no page. */
	netif_tx_response_t rsps[6];
	CU_ASSERT_EQUAL(netif_tx_responses(req, &pkt, NETIF_RSP_OKAY, rsps), 6);
	CU_ASSERT_EQUAL(pvio_back_put_responses(&tx_back, rsps, 6), 6);
	pvio_back_push_responses(&tx_back);
	CU_ASSERT_EQUAL(nf_tx_reap(c), 6);
	CU_ASSERT_FALSE(c->failed);
	CU_ASSERT_EQUAL(c->tx_nfree, NF_RING_SLOTS);
	conn_close();
}

static void test_tx_response_id_out_of_range_breaks(void)
{
	uint8_t frame[64];
	netif_tx_request_t req[2];
	conn_open(false, true);
	make_frame(frame, sizeof(frame), 5);
	kernel_send(frame, sizeof(frame), 0);
	CU_ASSERT_EQUAL(nf_tx_from_tap(c), 1);
	CU_ASSERT_EQUAL(tx_take(req, 2), 1);
	tx_answer(NF_RING_SLOTS + 44, NETIF_RSP_OKAY);
	CU_ASSERT_EQUAL(nf_tx_reap(c), -1);
	CU_ASSERT_TRUE(c->failed);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->fail_why, "not outstanding"));
	CU_ASSERT_EQUAL(c->tx_nfree, NF_RING_SLOTS - 1);
	conn_close();
}

static void test_tx_response_twice_for_one_id_breaks(void)
{
	uint8_t frame[64];
	netif_tx_request_t req[2];
	conn_open(false, true);
	make_frame(frame, sizeof(frame), 6);
	kernel_send(frame, sizeof(frame), 0);
	kernel_send(frame, sizeof(frame), 0);
	CU_ASSERT_EQUAL(nf_tx_from_tap(c), 2);
	CU_ASSERT_EQUAL(tx_take(req, 2), 2);
	tx_answer(req[0].id, NETIF_RSP_OKAY);
	tx_answer(req[0].id, NETIF_RSP_OKAY); /* instead of req[1] */
	CU_ASSERT_EQUAL(nf_tx_reap(c), -1);
	CU_ASSERT_TRUE(c->failed);
	/* The first answer returned its page once; the second none. */
	CU_ASSERT_EQUAL(c->tx_nfree, NF_RING_SLOTS - 1);
	CU_ASSERT_TRUE(c->tx_outstanding[req[1].id]);
	conn_close();
}

static void test_tx_responses_for_requests_never_sent_break(void)
{
	conn_open(false, true);
	struct pvio_generic_sring *s = c->tx_sring;
	__atomic_store_n(&s->rsp_prod, 3, __ATOMIC_RELEASE);
	CU_ASSERT_EQUAL(nf_tx_reap(c), -1);
	CU_ASSERT_TRUE(c->failed);
	CU_ASSERT_EQUAL(c->tx_nfree, NF_RING_SLOTS);
	conn_close();
}

static void test_tx_error_status_counts_and_frees(void)
{
	uint8_t frame[64];
	netif_tx_request_t req[2];
	conn_open(false, true);
	make_frame(frame, sizeof(frame), 7);
	kernel_send(frame, sizeof(frame), 0);
	CU_ASSERT_EQUAL(nf_tx_from_tap(c), 1);
	CU_ASSERT_EQUAL(tx_take(req, 2), 1);
	tx_answer(req[0].id, NETIF_RSP_ERROR);
	CU_ASSERT_EQUAL(nf_tx_reap(c), 1);
	CU_ASSERT_FALSE(c->failed);
	CU_ASSERT_EQUAL(c->stats.tx_errors, 1);
	CU_ASSERT_EQUAL(c->tx_nfree, NF_RING_SLOTS);
	conn_close();
}

/* ---- RX ---- */

/* The backend delivers frame into posted buffers (whole pages from
 * offset 0, as netif_rx_responses lays them out). Returns slots used. */
static unsigned rx_deliver_frame(const uint8_t *frame, size_t len,
				 uint16_t flags)
{
	netif_rx_request_t reqs[XEN_NETIF_NR_SLOTS_MIN];
	netif_rx_response_t rsps[XEN_NETIF_NR_SLOTS_MIN];
	struct netif_rx_meta meta = {.size = (uint32_t)len,
				     .csum_blank = flags & NETRXF_csum_blank,
				     .data_validated =
					     flags & NETRXF_data_validated};
	unsigned slots =
		netif_rx_slots_needed((uint32_t)len, false, &c->features);
	CU_ASSERT_FATAL(slots > 0);
	CU_ASSERT_EQUAL_FATAL(pvio_back_take_requests(&rx_back, reqs, slots),
			      (int)slots);
	for (unsigned i = 0; i < slots; i++) {
		size_t at = (size_t)i * NETIF_PAGE_BYTES;
		size_t n = len - at < NETIF_PAGE_BYTES ? len - at
						       : NETIF_PAGE_BYTES;
		memcpy(rx_page_of(reqs[i].gref), frame + at, n);
	}
	CU_ASSERT_EQUAL(netif_rx_responses(reqs, slots, &meta, rsps), slots);
	CU_ASSERT_EQUAL(pvio_back_put_responses(&rx_back, rsps, slots), slots);
	pvio_back_push_responses(&rx_back);
	return slots;
}

static void rx_answer_raw(const netif_rx_response_t *rsps, unsigned n)
{
	netif_rx_request_t reqs[NF_RING_SLOTS];
	CU_ASSERT_EQUAL_FATAL(pvio_back_take_requests(&rx_back, reqs, n),
			      (int)n);
	CU_ASSERT_EQUAL(pvio_back_put_responses(&rx_back, rsps, n), n);
	pvio_back_push_responses(&rx_back);
}

static RING_IDX rx_posted(void)
{
	return __atomic_load_n(
		&((struct pvio_generic_sring *)c->rx_sring)->req_prod,
		__ATOMIC_ACQUIRE);
}

static void test_rx_ring_stocked_at_start(void)
{
	conn_open(false, true);
	CU_ASSERT_EQUAL(rx_posted(), NF_RING_SLOTS);
	netif_rx_request_t reqs[NF_RING_SLOTS];
	CU_ASSERT_EQUAL_FATAL(
		pvio_back_take_requests(&rx_back, reqs, NF_RING_SLOTS),
		NF_RING_SLOTS);
	for (unsigned i = 0; i < NF_RING_SLOTS; i++) {
		CU_ASSERT_EQUAL(reqs[i].id, i);
		CU_ASSERT_EQUAL(reqs[i].gref, RX_GREF_BASE + i);
	}
	conn_close();
}

static void test_rx_frame_reaches_the_tap_and_buffer_is_reposted(void)
{
	uint8_t frame[300], got[400];
	struct virtio_net_hdr vnet;
	conn_open(false, true);
	make_frame(frame, sizeof(frame), 8);
	rx_deliver_frame(frame, sizeof(frame), 0);
	CU_ASSERT_EQUAL(nf_rx_process(c), 1);
	CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)),
			(ssize_t)sizeof(frame));
	CU_ASSERT_EQUAL(memcmp(got, frame, sizeof(frame)), 0);
	CU_ASSERT_EQUAL(vnet.flags, 0);
	CU_ASSERT_EQUAL(rx_posted(), NF_RING_SLOTS + 1);
	CU_ASSERT_EQUAL(c->stats.rx_packets, 1);
	CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)), -1);
	conn_close();
}

static void check_csum_blank_frame(bool trusted)
{
	uint8_t frame[200], got[300];
	struct virtio_net_hdr vnet;
	conn_open(false, trusted);
	make_frame(frame, sizeof(frame), 9);
	rx_deliver_frame(frame, sizeof(frame),
			 NETRXF_csum_blank | NETRXF_data_validated);
	CU_ASSERT_EQUAL(nf_rx_process(c), 1);
	CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)),
			(ssize_t)sizeof(frame));
	CU_ASSERT_EQUAL(memcmp(got, frame, sizeof(frame)), 0);
	CU_ASSERT_EQUAL(vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CU_ASSERT_EQUAL(vnet.csum_start, 14 + 20);
	CU_ASSERT_EQUAL(vnet.csum_offset, 16);
	conn_close();
}

static void test_rx_csum_blank_gets_needs_csum(void)
{
	check_csum_blank_frame(true);
}

static void test_rx_csum_blank_from_untrusted_backend(void)
{
	check_csum_blank_frame(false);
}

static void test_rx_jumbo_frame_across_the_pool_wrap(void)
{
	static uint8_t frame[9000], got[9100];
	uint8_t small[60];
	struct virtio_net_hdr vnet;
	conn_open(true, false);
	make_frame(small, sizeof(small), 10);
	/* Move the ring to two slots before the pool's end. */
	for (unsigned i = 0; i < NF_RING_SLOTS - 2; i++) {
		rx_deliver_frame(small, sizeof(small), 0);
		CU_ASSERT_EQUAL_FATAL(nf_rx_process(c), 1);
		CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)),
				(ssize_t)sizeof(small));
	}
	make_frame(frame, sizeof(frame), 11);
	CU_ASSERT_EQUAL(
		rx_deliver_frame(frame, sizeof(frame),
				 NETRXF_csum_blank | NETRXF_data_validated),
		3);
	CU_ASSERT_EQUAL(nf_rx_process(c), 1);
	CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)),
			(ssize_t)sizeof(frame));
	CU_ASSERT_EQUAL(memcmp(got, frame, sizeof(frame)), 0);
	CU_ASSERT_EQUAL(vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CU_ASSERT_FALSE(c->failed);
	conn_close();
}

static void test_rx_frame_across_the_wrap_goes_in_pieces(void)
{
	static uint8_t frame[6000], got[6100];
	uint8_t small[60];
	struct virtio_net_hdr vnet;
	conn_open(true, true);
	make_frame(small, sizeof(small), 24);
	for (unsigned i = 0; i < NF_RING_SLOTS - 1; i++) {
		rx_deliver_frame(small, sizeof(small), 0);
		CU_ASSERT_EQUAL_FATAL(nf_rx_process(c), 1);
		CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)),
				(ssize_t)sizeof(small));
	}
	/* Pool pages 255 and 0: written from each page, no copy. */
	make_frame(frame, sizeof(frame), 25);
	CU_ASSERT_EQUAL(rx_deliver_frame(frame, sizeof(frame), 0), 2);
	CU_ASSERT_EQUAL(nf_rx_process(c), 1);
	CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)),
			(ssize_t)sizeof(frame));
	CU_ASSERT_EQUAL(memcmp(got, frame, sizeof(frame)), 0);
	CU_ASSERT_EQUAL(vnet.flags, 0);
	conn_close();
}

static void test_rx_id_is_ignored_slot_finds_the_buffer(void)
{
	uint8_t got[100];
	struct virtio_net_hdr vnet;
	conn_open(false, false);
	/* The backend fills slot 0's page but names id 77. */
	uint8_t *page0 = c->rx_pages;
	make_frame(page0, 64, 12);
	netif_rx_response_t rsp = {.id = 77, .offset = 0, .status = 64};
	rx_answer_raw(&rsp, 1);
	CU_ASSERT_EQUAL(nf_rx_process(c), 1);
	CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)), 64);
	CU_ASSERT_EQUAL(memcmp(got, page0, 64), 0);
	conn_close();
}

static void test_rx_offset_past_the_page_is_dropped(void)
{
	uint8_t got[100];
	struct virtio_net_hdr vnet;
	conn_open(false, false);
	netif_rx_response_t rsp = {.id = 0, .offset = 4000, .status = 200};
	rx_answer_raw(&rsp, 1);
	CU_ASSERT_EQUAL(nf_rx_process(c), 1);
	CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)), -1);
	CU_ASSERT_EQUAL(c->stats.rx_dropped, 1);
	CU_ASSERT_TRUE(c->complained[NF_C_RX_PARSE]);
	CU_ASSERT_FALSE(c->failed);
	CU_ASSERT_EQUAL(rx_posted(), NF_RING_SLOTS + 1); /* reposted */
	conn_close();
}

static void test_rx_error_status_is_counted(void)
{
	conn_open(false, false);
	netif_rx_response_t rsp = {.id = 0, .status = NETIF_RSP_ERROR};
	rx_answer_raw(&rsp, 1);
	CU_ASSERT_EQUAL(nf_rx_process(c), 1);
	CU_ASSERT_EQUAL(c->stats.rx_errors, 1);
	CU_ASSERT_FALSE(c->failed);
	conn_close();
}

static void check_rx_gso_frame(bool trusted)
{
	static uint8_t frame[30000], got[40000];
	netif_rx_request_t reqs[XEN_NETIF_NR_SLOTS_MIN];
	netif_rx_response_t rsps[XEN_NETIF_NR_SLOTS_MIN];
	struct virtio_net_hdr vnet;
	conn_open(true, trusted);
	make_frame(frame, sizeof(frame), 26);
	struct netif_rx_meta meta = {.size = sizeof(frame),
				     .csum_blank = true,
				     .data_validated = true,
				     .has_gso = true,
				     .gso_size = 1448,
				     .gso_type = XEN_NETIF_GSO_TYPE_TCPV4};
	unsigned slots =
		netif_rx_slots_needed(sizeof(frame), true, &c->features);
	CU_ASSERT_EQUAL_FATAL(slots, 8 + 1);
	CU_ASSERT_EQUAL_FATAL(pvio_back_take_requests(&rx_back, reqs, slots),
			      (int)slots);
	/* The data in every slot but the extra's (the second). */
	for (unsigned i = 0, page = 0; i < slots; i++) {
		if (i == 1)
			continue;
		size_t at = (size_t)page++ * NETIF_PAGE_BYTES;
		size_t n = sizeof(frame) - at < NETIF_PAGE_BYTES
				   ? sizeof(frame) - at
				   : NETIF_PAGE_BYTES;
		memcpy(rx_page_of(reqs[i].gref), frame + at, n);
	}
	CU_ASSERT_EQUAL(netif_rx_responses(reqs, slots, &meta, rsps), slots);
	CU_ASSERT_EQUAL(pvio_back_put_responses(&rx_back, rsps, slots), slots);
	pvio_back_push_responses(&rx_back);
	CU_ASSERT_EQUAL(nf_rx_process(c), 1);
	CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)),
			(ssize_t)sizeof(frame));
	CU_ASSERT_EQUAL(memcmp(got, frame, sizeof(frame)), 0);
	CU_ASSERT_EQUAL(vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CU_ASSERT_EQUAL(vnet.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	CU_ASSERT_EQUAL(vnet.gso_size, 1448);
	CU_ASSERT_EQUAL(vnet.hdr_len, 14 + 20 + 20);
	CU_ASSERT_EQUAL(vnet.csum_start, 14 + 20);
	CU_ASSERT_EQUAL(vnet.csum_offset, 16);
	CU_ASSERT_EQUAL(c->stats.rx_packets, 1);
	conn_close();
}

static void test_rx_gso_frame_gets_its_gso_header(void)
{
	check_rx_gso_frame(true);
}

static void test_rx_gso_frame_from_untrusted_backend(void)
{
	check_rx_gso_frame(false);
}

static void test_rx_gso_not_offered_is_dropped(void)
{
	uint8_t frame[3000];
	conn_open(true, true);
	c->features.gso_tcpv4 = false;
	make_frame(frame, sizeof(frame), 27);
	netif_rx_request_t reqs[3];
	netif_rx_response_t rsps[3];
	struct netif_rx_meta meta = {.size = sizeof(frame),
				     .csum_blank = true,
				     .has_gso = true,
				     .gso_size = 1448,
				     .gso_type = XEN_NETIF_GSO_TYPE_TCPV4};
	CU_ASSERT_EQUAL_FATAL(pvio_back_take_requests(&rx_back, reqs, 2), 2);
	CU_ASSERT_EQUAL(netif_rx_responses(reqs, 2, &meta, rsps), 2);
	CU_ASSERT_EQUAL(pvio_back_put_responses(&rx_back, rsps, 2), 2);
	pvio_back_push_responses(&rx_back);
	CU_ASSERT_EQUAL(nf_rx_process(c), 1);
	CU_ASSERT_EQUAL(c->stats.rx_dropped, 1);
	CU_ASSERT_TRUE(c->complained[NF_C_RX_PARSE]);
	struct virtio_net_hdr vnet;
	uint8_t got[4000];
	CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)), -1);
	conn_close();
}

static void test_rx_incomplete_packet_keeps_its_buffers(void)
{
	uint8_t got[5000];
	struct virtio_net_hdr vnet;
	conn_open(true, false);
	make_frame(c->rx_pages, NETIF_PAGE_BYTES, 13);
	make_frame(c->rx_pages + NETIF_PAGE_BYTES, 100, 14);
	netif_rx_response_t first = {
		.id = 0, .flags = NETRXF_more_data, .status = NETIF_PAGE_BYTES};
	netif_rx_response_t last = {.id = 1, .status = 100};
	rx_answer_raw(&first, 1);
	CU_ASSERT_EQUAL(nf_rx_process(c), 1); /* taken, not complete */
	CU_ASSERT_EQUAL(c->stats.rx_packets, 0);
	/* Its page is still the backend's: not posted again. */
	CU_ASSERT_EQUAL(rx_posted(), NF_RING_SLOTS);
	CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)), -1);
	rx_answer_raw(&last, 1);
	CU_ASSERT_EQUAL(nf_rx_process(c), 1);
	CU_ASSERT_EQUAL(kernel_recv(&vnet, got, sizeof(got)),
			NETIF_PAGE_BYTES + 100);
	CU_ASSERT_EQUAL(rx_posted(), NF_RING_SLOTS + 2);
	conn_close();
}

static void test_rx_endless_packet_breaks(void)
{
	static netif_rx_response_t rsps[40];
	conn_open(true, false);
	for (unsigned i = 0; i < 40; i++)
		rsps[i] = (netif_rx_response_t){.id = (uint16_t)i,
						.flags = NETRXF_more_data,
						.status = 100};
	rx_answer_raw(rsps, 40);
	CU_ASSERT_EQUAL(nf_rx_process(c), -1);
	CU_ASSERT_TRUE(c->failed);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->fail_why, "never ends"));
	CU_ASSERT_EQUAL(c->stats.rx_packets, 0);
	conn_close();
}

static void test_rx_responses_for_buffers_never_posted_break(void)
{
	conn_open(false, false);
	struct pvio_generic_sring *s = c->rx_sring;
	__atomic_store_n(&s->rsp_prod, NF_RING_SLOTS + 1, __ATOMIC_RELEASE);
	CU_ASSERT_EQUAL(nf_rx_process(c), -1);
	CU_ASSERT_TRUE(c->failed);
	CU_ASSERT_EQUAL(c->stats.rx_packets, 0);
	conn_close();
}

int main(void)
{
	CU_TestInfo tx_tests[] = {
		{"one frame: request, page, response", test_tx_one_frame},
		{"jumbo frame: three slots",
		 test_tx_jumbo_frame_takes_three_slots},
		{"too big without sg: dropped",
		 test_tx_frame_larger_than_a_page_without_sg_is_dropped},
		{"full ring: waits, unique ids",
		 test_tx_full_ring_waits_and_ids_stay_unique},
		{"IPv6 partial checksum filled without offload",
		 test_tx_ipv6_partial_checksum_filled_without_offload},
		{"IPv6 partial checksum offloaded",
		 test_tx_ipv6_partial_checksum_offloaded_when_agreed},
		{"checksum across pages filled, GSO refused",
		 test_tx_checksum_across_pages_filled_gso_refused},
		{"GSO frame: extra slot, NULL answer",
		 test_tx_gso_frame_carries_its_extra},
		{"id out of range: broken",
		 test_tx_response_id_out_of_range_breaks},
		{"id answered twice: broken",
		 test_tx_response_twice_for_one_id_breaks},
		{"responses never asked for: broken",
		 test_tx_responses_for_requests_never_sent_break},
		{"error status: counted, page back",
		 test_tx_error_status_counts_and_frees},
		CU_TEST_INFO_NULL,
	};
	CU_TestInfo rx_tests[] = {
		{"stocked at start", test_rx_ring_stocked_at_start},
		{"frame to the TAP, reposted",
		 test_rx_frame_reaches_the_tap_and_buffer_is_reposted},
		{"csum_blank: NEEDS_CSUM", test_rx_csum_blank_gets_needs_csum},
		{"csum_blank, untrusted",
		 test_rx_csum_blank_from_untrusted_backend},
		{"jumbo across the wrap",
		 test_rx_jumbo_frame_across_the_pool_wrap},
		{"across the wrap, in pieces",
		 test_rx_frame_across_the_wrap_goes_in_pieces},
		{"id ignored", test_rx_id_is_ignored_slot_finds_the_buffer},
		{"GSO frame: GSO header",
		 test_rx_gso_frame_gets_its_gso_header},
		{"GSO frame, untrusted",
		 test_rx_gso_frame_from_untrusted_backend},
		{"GSO not offered: dropped",
		 test_rx_gso_not_offered_is_dropped},
		{"offset past the page: dropped",
		 test_rx_offset_past_the_page_is_dropped},
		{"error status: counted", test_rx_error_status_is_counted},
		{"incomplete: buffers kept",
		 test_rx_incomplete_packet_keeps_its_buffers},
		{"endless packet: broken", test_rx_endless_packet_breaks},
		{"responses never posted for: broken",
		 test_rx_responses_for_buffers_never_posted_break},
		CU_TEST_INFO_NULL,
	};
	CU_SuiteInfo suites[] = {
		{"netfront tx", NULL, NULL, NULL, NULL, tx_tests},
		{"netfront rx", NULL, NULL, NULL, NULL, rx_tests},
		CU_SUITE_INFO_NULL,
	};
	return pvio_cunit_run(suites);
}
