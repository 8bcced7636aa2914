/*
 * libFuzzer target: pvio-netfront's data path (frontend/tx.c, rx.c) under
 * a backend that writes whatever the input says into the shared rings and
 * pages: TX and RX responses, producer indices, page contents. After each
 * step the pools must still be consistent: every TX page either free once
 * or in flight, never both; no RX page posted twice; nothing read or
 * written outside the rings and pools (ASan). A connection the frontend
 * declares broken ends the run, as it would end the connection.
 *
 * Input: one byte of setup (bit 0 sg, bit 1 trusted, bits 2-7 TX frames
 * sent first), then records: 0 TX response {id, status}, 1 RX response
 * {id, offset, flags, status}, 2 bytes into an RX page {page, offset, len,
 * data}, 3 TX rsp_prod += n, 4 RX rsp_prod += n.
 */
#include "config.h"

#include "frontend/netfront.h"
#include "pvio_tap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
	(void)fmt;
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

struct input {
	const uint8_t *p;
	size_t left;
};

static bool take(struct input *in, void *out, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

static void check_pools(const struct nf_conn *c)
{
	bool free_id[NF_RING_SLOTS] = {0};
	unsigned outstanding = 0;
	if (c->tx_nfree > NF_RING_SLOTS)
		abort();
	for (unsigned i = 0; i < c->tx_nfree; i++) {
		uint16_t id = c->tx_free[i];
		if (id >= NF_RING_SLOTS || free_id[id] || c->tx_outstanding[id])
			abort();
		free_id[id] = true;
	}
	for (unsigned i = 0; i < NF_RING_SLOTS; i++)
		outstanding += c->tx_outstanding[i];
	if (outstanding + c->tx_nfree != NF_RING_SLOTS)
		abort();
	/* Posted and held RX pages: at most one ring's worth, so no page is
	 * in two slots at once. */
	if ((RING_IDX)(c->rx.req_prod_pvt - c->rx_done) > NF_RING_SLOTS ||
	    c->rx_npending > NF_RX_PENDING_MAX)
		abort();
}

static void drain(int fd)
{
	static uint8_t buf[NF_RX_MAX_FRAME + 64];
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void *page_alloc(size_t pages)
{
	void *p = aligned_alloc(NETIF_PAGE_BYTES, pages * NETIF_PAGE_BYTES);
	if (!p)
		abort();
	return p;
}

/* Made once, reset for every input (a fresh 2 MiB each time would be
 * most of the run). */
static struct nf_vif vif;
static struct nf_conn *c;
static int sv[2];
static void *tx_sring, *rx_sring, *tx_pages, *rx_pages;

static void fixture_once(void)
{
	if (c)
		return;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv))
		abort();
	c = malloc(sizeof(*c));
	tx_sring = page_alloc(1);
	rx_sring = page_alloc(1);
	tx_pages = page_alloc(NF_RING_SLOTS);
	rx_pages = page_alloc(NF_RING_SLOTS);
	if (!c)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	uint8_t setup;
	if (!take(&in, &setup, 1))
		return 0;
	fixture_once();
	drain(sv[0]);
	drain(sv[1]);
	memset(&vif, 0, sizeof(vif));
	vif.tap_fd = sv[0];
	vif.trusted = setup & 2;
	strcpy(vif.ifname, "eth0");
	memset(c, 0, sizeof(*c));
	c->vif = &vif;
	c->features = (struct netif_features){.rx_copy = true,
					      .rx_notify = true,
					      .sg = setup & 1,
					      .ipv4_csum = true,
					      .ipv6_csum = true,
					      .gso_tcpv4 = setup & 1,
					      .gso_tcpv6 = setup & 1};
	c->tx_features = c->features;
	c->tx_sring = tx_sring;
	c->rx_sring = rx_sring;
	c->tx_pages = tx_pages;
	c->rx_pages = rx_pages;
	/* What the backend finds in the RX pages is the input's only. */
	memset(rx_pages, 0, NF_RING_SLOTS * NETIF_PAGE_BYTES);
	for (unsigned i = 0; i < NF_RING_SLOTS; i++) {
		c->tx_gref[i] = 1000 + i;
		c->rx_gref[i] = 2000 + i;
	}
	char why[128];
	if (nf_conn_rings_init(c, why, sizeof(why)))
		abort();
	nf_rx_post(c);

	/* Frames in flight for the TX responses to answer (or not). */
	uint8_t frame[64] = {0};
	frame[12] = 0x08;
	for (unsigned i = 0; i < (unsigned)(setup >> 2); i++) {
		uint8_t vnet[PVIO_TAP_VNET_HDR_BYTES] = {0};
		struct iovec iov[2] = {{vnet, sizeof(vnet)},
				       {frame, sizeof(frame)}};
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
		if (sendmsg(sv[1], &msg, 0) < 0)
			abort();
	}
	c->tap_pending = true;
	nf_tx_from_tap(c);
	check_pools(c);

	struct pvio_generic_sring *tx = c->tx_sring, *rx = c->rx_sring;
	uint8_t op;
	while (!c->failed && take(&in, &op, 1)) {
		switch (op % 5) {
		case 0: {
			netif_tx_response_t rsp;
			if (!take(&in, &rsp, sizeof(rsp)))
				break;
			memcpy(pvio_ring_slot_at(c->tx.slots, &c->tx.layout,
						 tx->rsp_prod),
			       &rsp, sizeof(rsp));
			tx->rsp_prod++;
			break;
		}
		case 1: {
			netif_rx_response_t rsp;
			if (!take(&in, &rsp, sizeof(rsp)))
				break;
			memcpy(pvio_ring_slot_at(c->rx.slots, &c->rx.layout,
						 rx->rsp_prod),
			       &rsp, sizeof(rsp));
			rx->rsp_prod++;
			break;
		}
		case 2: {
			uint8_t page, len;
			uint16_t offset;
			uint8_t bytes[255];
			if (!take(&in, &page, 1) || !take(&in, &offset, 2) ||
			    !take(&in, &len, 1))
				break;
			offset %= NETIF_PAGE_BYTES - len;
			if (!take(&in, bytes, len))
				break;
			memcpy(nf_rx_page(c, page) + offset, bytes, len);
			break;
		}
		case 3:
		case 4: {
			uint8_t n;
			if (!take(&in, &n, 1))
				break;
			if (op % 5 == 3)
				tx->rsp_prod += n;
			else
				rx->rsp_prod += n;
			break;
		}
		}
		if (nf_tx_reap(c) >= 0 && nf_rx_process(c) >= 0 &&
		    c->tap_pending)
			nf_tx_from_tap(c);
		check_pools(c);
		drain(sv[1]);
	}

	return 0;
}
