/*
 * A minimal frontend for pvio-netback's integration test (netback.sh): it
 * runs inside a guest (`pvio exec DOM -- netback_peer ...`, which sets
 * PVIO_DOMID and XENSTORED_PATH), connects to the backend of device/vif/N
 * as the XenBus handshake says, and then drives the rings directly, well
 * or badly, so that the test sees what the backend does with each.
 *
 *   netback_peer [-n DEVID] [--max-frame N] send COUNT   TX COUNT frames
 *   netback_peer [-n DEVID] [--no-csum] [--max-frame N] recv COUNT
 *   (send and recv also take --persistent: write
 *   feature-pvio-persistent-grants where the backend offers it; the
 *   peer's buffers stay granted while it runs, as the key promises)
 *   netback_peer [-n DEVID] hostile WHAT             break the protocol
 *   netback_peer [-n DEVID] [--minimal [--no-csum]] relay TAP  a NIC
 *
 * --minimal: the frontend writes only what Mini-OS's netfront writes
 * (tx-ring-ref, rx-ring-ref, event-channel, request-rx-copy,
 * feature-rx-notify; with --no-csum also feature-no-csum-offload=1): no
 * feature-sg, no IPv6 checksum offload, no GSO, one queue, one channel.
 *
 * send: broadcast frames of ethertype 0x88b5 carrying a sequence number
 * and a byte pattern, sizes 60..1514 (or --max-frame: above a page, one
 * slot per page), small ones every third time split over two slots of a
 * page (feature-sg); every fifth is a UDP/IPv4 datagram with a blank
 * checksum (csum_blank). Every response must be OKAY.
 * recv: posts every RX buffer, takes frames, checks the pattern of the
 * 0x88b5 ones and the UDP checksum of the datagrams (with --no-csum the
 * backend must have filled it; otherwise it may come csum_blank), exits 0
 * once COUNT frames of the sender arrived (at most 10 s).
 * hostile: index (TX producer a ring and more ahead), slots (a packet of
 * NETIF_TX_FATAL_SLOT_COUNT + 1 data slots), crossing (offset + size past
 * the page); then it waits for the backend to stop serving it (its event
 * channel closes): exit 0 when it did within 5 s.
 * relay: the guest's NIC, as a minimal frontend is: a TAP named TAP
 * (the vif's MAC, no offloads, so the guest's kernel fills and checks
 * every checksum itself) whose frames go out one slot each, and frames
 * from the backend written to it. Every frame from the backend is checked
 * against what was negotiated: one slot (no sg), no extra (no GSO), a
 * blank checksum only for a family with checksum offload (then filled
 * here, as the frontend's stack would); every other TCP and UDP checksum
 * over IPv4 and IPv6 must verify. Runs until SIGTERM (at most 10 min),
 * then prints its counts; exits 1 at the first violation.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "netif/netif.h"
#include "pvio_evtchn.h"
#include "pvio_tap.h"
#include "pvio_gnt.h"
#include "pvio_ring.h"
#include "xenstore/xenbus.h"

#define TX_SLOTS     256u
#define RX_SLOTS     256u
#define TX_BUF_PAGES 64u
#define ETHERTYPE    0x88b5
#define JUMBO_PAGES  3u /* a 9014-byte frame */

struct peer {
	struct pvio_xenbus *xb;
	char fe[64], be[256];
	unsigned devid;
	struct pvio_gntshr *gs;
	struct pvio_evtchn *ev;
	int port;
	struct pvio_front_ring tx, rx;
	uint8_t *tx_bufs, *rx_bufs;
	grant_ref_t tx_refs[TX_BUF_PAGES], rx_refs[RX_SLOTS];
	uint8_t tx_pending[TX_BUF_PAGES]; /* slots of the page unanswered */
	unsigned tx_outstanding;
	struct netif_features chosen;
	uint8_t mac[6];
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "netback_peer: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int read_be_key(void *ctx, const char *key, char *value, size_t size)
{
	struct peer *p = ctx;
	char path[320];
	char *v;
	snprintf(path, sizeof(path), "%s/%s", p->be, key);
	int rc = pvio_xenbus_read_str(p->xb, XBT_NULL, path, &v);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	snprintf(value, size, "%s", v);
	free(v);
	return 1;
}

struct conn_txn {
	struct peer *p;
	struct netif_key_value kv[NETIF_MAX_KEYS];
	unsigned nkv;
};

static int write_conn(struct pvio_xenbus *xb, xs_transaction_t t, void *arg)
{
	struct conn_txn *c = arg;
	char path[128];
	for (unsigned i = 0; i < c->nkv; i++) {
		snprintf(path, sizeof(path), "%s/%s", c->p->fe, c->kv[i].key);
		int rc = pvio_xenbus_write_str(xb, t, path, c->kv[i].value);
		if (rc)
			return rc;
	}
	return pvio_xenbus_switch_state(xb, t, c->p->fe, XenbusStateConnected);
}

/* Mini-OS's keys (netfront.c), and no others: one queue, flat. */
static unsigned minimal_conn_keys(const struct netif_frontend_conn *conn,
				  bool no_csum, struct netif_key_value *kv)
{
	const struct netif_queue_conn *q = &conn->queues[0];
	unsigned n = 0;
#define KEY(name, ...)                                                         \
	do {                                                                   \
		snprintf(kv[n].key, sizeof(kv[n].key), "%s", name);            \
		snprintf(kv[n].value, sizeof(kv[n].value), __VA_ARGS__);       \
		n++;                                                           \
	} while (0)
	KEY("tx-ring-ref", "%u", q->tx_ring_ref);
	KEY("rx-ring-ref", "%u", q->rx_ring_ref);
	KEY("event-channel", "%u", q->evtchn_tx);
	KEY("request-rx-copy", "1");
	KEY("feature-rx-notify", "1");
	if (no_csum)
		KEY("feature-no-csum-offload", "1");
#undef KEY
	return n;
}

static void peer_connect(struct peer *p, bool no_csum, bool minimal,
			 bool persistent)
{
	char *v;
	p->xb = pvio_xenbus_open();
	if (!p->xb)
		die("cannot connect to xenstore: %s", strerror(errno));
	snprintf(p->fe, sizeof(p->fe), "device/vif/%u", p->devid);
	char path[128];
	snprintf(path, sizeof(path), "%s/backend", p->fe);
	if (pvio_xenbus_read_str(p->xb, XBT_NULL, path, &v))
		die("no %s", path);
	snprintf(p->be, sizeof(p->be), "%s", v);
	free(v);
	snprintf(path, sizeof(path), "%s/mac", p->fe);
	if (pvio_xenbus_scanf(p->xb, XBT_NULL, path,
			      "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &p->mac[0],
			      &p->mac[1], &p->mac[2], &p->mac[3], &p->mac[4],
			      &p->mac[5]) != 6)
		die("bad %s", path);
	/* Start over, as a frontend that (re)starts does. */
	if (pvio_xenbus_switch_state(p->xb, XBT_NULL, p->fe,
				     XenbusStateInitialising))
		die("cannot write %s/state", p->fe);
	if (pvio_xenbus_wait_state(p->xb, p->be,
				   PVIO_XENBUS_STATE_BIT(XenbusStateInitWait),
				   5000, NULL))
		die("backend %s never reached InitWait", p->be);
	struct netif_features offer, supported = {0};
	struct netif_key_error kerr;
	if (netif_read_backend_offer(read_be_key, p, &offer, &kerr))
		die("backend offer: %s = %s: %s", kerr.key, kerr.value,
		    kerr.why);
	supported.rx_copy = supported.rx_notify = true;
	supported.sg = !minimal;
	supported.ipv4_csum = !no_csum;
	supported.ipv6_csum = !no_csum && !minimal;
	supported.persistent_grants = persistent;
	netif_frontend_choose(&offer, &supported, &p->chosen);

	if (pvio_gntshr_open(PVIO_PLATFORM_AUTO, &p->gs) ||
	    pvio_evtchn_open(PVIO_PLATFORM_AUTO, &p->ev))
		die("platform: %s", pvio_platform_last_error());
	grant_ref_t ring_refs[2];
	void *rings;
	if (pvio_gntshr_share(p->gs, 0, 2, true, ring_refs, &rings))
		die("cannot share the rings");
	void *txa = rings, *rxa = (uint8_t *)rings + 4096;
	pvio_sring_init(txa, 4096);
	pvio_sring_init(rxa, 4096);
	struct pvio_ring_layout tl, rl;
	pvio_ring_layout_init(&tl, 4096, sizeof(netif_tx_request_t),
			      sizeof(netif_tx_response_t),
			      sizeof(union netif_tx_sring_entry));
	pvio_ring_layout_init(&rl, 4096, sizeof(netif_rx_request_t),
			      sizeof(netif_rx_response_t),
			      sizeof(union netif_rx_sring_entry));
	pvio_front_ring_attach(&p->tx, txa, &tl, 0);
	pvio_front_ring_attach(&p->rx, rxa, &rl, 0);
	void *a;
	if (pvio_gntshr_share(p->gs, 0, TX_BUF_PAGES, false, p->tx_refs, &a))
		die("cannot share the TX buffers");
	p->tx_bufs = a;
	if (pvio_gntshr_share(p->gs, 0, RX_SLOTS, true, p->rx_refs, &a))
		die("cannot share the RX buffers");
	p->rx_bufs = a;
	p->port = pvio_evtchn_alloc_unbound(p->ev, 0);
	if (p->port < 0)
		die("alloc_unbound: %s", strerror(-p->port));

	/* A minimal frontend (as Mini-OS's): one queue in the flat layout,
	 * one event channel, no multi-queue-num-queues, whatever the
	 * backend offers. */
	struct netif_frontend_conn conn = {
		.nr_queues = 1,
		.queues = {{.tx_ring_ref = ring_refs[0],
			    .rx_ring_ref = ring_refs[1],
			    .evtchn_tx = (evtchn_port_t)p->port,
			    .evtchn_rx = (evtchn_port_t)p->port}},
		.features = p->chosen,
	};
	struct conn_txn c = {.p = p};
	c.nkv = minimal ? minimal_conn_keys(&conn, no_csum, c.kv)
			: netif_frontend_conn_keys(&conn, c.kv, NETIF_MAX_KEYS);
	int rc = pvio_xenbus_transaction(p->xb, write_conn, &c, 0);
	if (rc)
		die("cannot write the keys: %s", strerror(-rc));
	if (pvio_xenbus_wait_state(p->xb, p->be,
				   PVIO_XENBUS_STATE_BIT(XenbusStateConnected),
				   5000, NULL))
		die("backend %s never reached Connected", p->be);
}

static void kick(struct peer *p)
{
	pvio_evtchn_notify(p->ev, (evtchn_port_t)p->port);
}

/* Waits for an event (at most ms); true when the peer's channel closed. */
static bool wait_event(struct peer *p, int ms)
{
	int port = pvio_evtchn_wait(p->ev, ms);
	if (port >= 0)
		pvio_evtchn_unmask(p->ev, (evtchn_port_t)port);
	return pvio_evtchn_peer_closed(p->ev, (evtchn_port_t)p->port) == 1;
}

/* Takes TX responses; each must be OKAY for a packet sent. */
static void tx_reap(struct peer *p)
{
	netif_tx_response_t rsps[TX_SLOTS];
	int n = pvio_front_take_responses(&p->tx, rsps, TX_SLOTS);
	if (n < 0)
		die("TX ring broken by the backend");
	for (int i = 0; i < n; i++) {
		if (rsps[i].status == NETIF_RSP_NULL)
			continue;
		if (rsps[i].status != NETIF_RSP_OKAY)
			die("TX response id %u status %d", rsps[i].id,
			    rsps[i].status);
		unsigned page = rsps[i].id / 2;
		if (page >= TX_BUF_PAGES || !p->tx_pending[page])
			die("TX response for id %u never sent", rsps[i].id);
		p->tx_pending[page]--;
		p->tx_outstanding--;
	}
}

/* Ones' complement sum over len bytes (big-endian words). */
static uint32_t sum16(const uint8_t *b, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* A UDP/IPv4 broadcast datagram of len bytes in all, checksum field left
 * holding the pseudo-header sum (what a CHECKSUM_PARTIAL packet holds). */
static void build_udp(uint8_t *f, unsigned len, const uint8_t *mac,
		      unsigned seq)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *ip = f + 14;
	unsigned iplen = len - 14, udplen = iplen - 20;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = 17;
	uint8_t src[4] = {169, 254, 77, 1}, dst[4] = {169, 254, 255, 255};
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	uint16_t ipsum = (uint16_t)~fold(sum16(ip, 20, 0));
	ip[10] = (uint8_t)(ipsum >> 8);
	ip[11] = (uint8_t)ipsum;
	uint8_t *udp = ip + 20;
	udp[0] = 0x30;
	udp[1] = 0x39; /* 12345 */
	udp[2] = 0x30;
	udp[3] = 0x39;
	udp[4] = (uint8_t)(udplen >> 8);
	udp[5] = (uint8_t)udplen;
	for (unsigned i = 8; i < udplen; i++)
		udp[i] = (uint8_t)(seq + i);
	uint32_t ph = sum16(ip + 12, 8, 0) + 17 + udplen;
	uint16_t partial = fold(ph);
	udp[6] = (uint8_t)(partial >> 8);
	udp[7] = (uint8_t)partial;
}

/* True when the datagram's UDP checksum verifies. */
static bool udp_ok(const uint8_t *f, unsigned len)
{
	const uint8_t *ip = f + 14;
	unsigned udplen = (unsigned)ip[24] << 8 | ip[25];
	if (udplen + 34 > len)
		return false;
	uint32_t s = sum16(ip + 12, 8, 0) + 17 + udplen;
	return fold(sum16(ip + 20, udplen, s)) == 0xffff;
}

static void build_frame(uint8_t *f, unsigned len, const uint8_t *mac,
			unsigned seq)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	f[14] = (uint8_t)(seq >> 8);
	f[15] = (uint8_t)seq;
	for (unsigned i = 16; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i);
}

/* The largest frame sent and expected (--max-frame, default 1514). */
static unsigned frame_max = 1514;

static unsigned frame_len(unsigned seq)
{
	return 60 + (seq * 97) % (frame_max - 60 + 1);
}

/* The first of n consecutive free pages of the TX pool, from *next on;
 * TX_BUF_PAGES when they are not free yet. */
static unsigned tx_pages(struct peer *p, unsigned n, unsigned *next)
{
	if (*next + n > TX_BUF_PAGES)
		*next = 0;
	for (unsigned i = 0; i < n; i++)
		if (p->tx_pending[*next + i])
			return TX_BUF_PAGES;
	unsigned first = *next;
	*next += n;
	return first;
}

static void do_send(struct peer *p, unsigned count)
{
	static uint8_t frame[JUMBO_PAGES * 4096];
	unsigned seq = 0, next = 0;
	int64_t deadline = now_ms() + 10000;
	while (seq < count || p->tx_outstanding) {
		if (now_ms() > deadline)
			die("TX: %u of %u sent, %u unanswered after 10 s", seq,
			    count, p->tx_outstanding);
		tx_reap(p);
		bool udp = seq % 5 == 4;
		unsigned len = udp ? 60 + seq % 1000 : frame_len(seq);
		unsigned npages = (len + 4095) / 4096;
		unsigned page = seq < count && pvio_front_free_requests(
						       &p->tx) >= JUMBO_PAGES
					? tx_pages(p, npages, &next)
					: TX_BUF_PAGES;
		if (page == TX_BUF_PAGES) {
			if (pvio_front_final_check_responses(&p->tx) == 0)
				wait_event(p, 100);
			continue;
		}
		if (udp)
			build_udp(frame, len, p->mac, seq);
		else
			build_frame(frame, len, p->mac, seq);
		/* One slot per page; a small frame every third time in two
		 * slots of one page (the second at offset 2048). */
		struct netif_tx_frag frags[JUMBO_PAGES + 1];
		uint16_t ids[JUMBO_PAGES + 1];
		unsigned nfr = 0;
		if (npages == 1 && seq % 3 == 1 && len > 100) {
			unsigned first = len / 2;
			uint8_t *buf = p->tx_bufs + (size_t)page * 4096;
			memcpy(buf, frame, first);
			memcpy(buf + 2048, frame + first, len - first);
			frags[0] = (struct netif_tx_frag){p->tx_refs[page], 0,
							  (uint16_t)first};
			frags[1] =
				(struct netif_tx_frag){p->tx_refs[page], 2048,
						       (uint16_t)(len - first)};
			ids[0] = (uint16_t)(page * 2);
			ids[1] = (uint16_t)(page * 2 + 1);
			nfr = 2;
		} else {
			for (unsigned i = 0; i < npages; i++) {
				unsigned chunk = len - i * 4096 < 4096
							 ? len - i * 4096
							 : 4096;
				memcpy(p->tx_bufs + (size_t)(page + i) * 4096,
				       frame + i * 4096, chunk);
				frags[i] = (struct netif_tx_frag){
					p->tx_refs[page + i], 0,
					(uint16_t)chunk};
				ids[i] = (uint16_t)((page + i) * 2);
			}
			nfr = npages;
		}
		netif_tx_request_t reqs[JUMBO_PAGES + 1];
		uint16_t flags =
			udp ? NETTXF_csum_blank | NETTXF_data_validated : 0;
		if (netif_tx_build(len, frags, nfr, ids, flags, reqs) != nfr)
			die("netif_tx_build");
		pvio_front_put_requests(&p->tx, reqs, nfr);
		for (unsigned i = 0; i < nfr; i++)
			p->tx_pending[ids[i] / 2]++;
		p->tx_outstanding += nfr;
		if (pvio_front_push_requests(&p->tx))
			kick(p);
		seq++;
	}
	printf("sent %u\n", count);
}

static void rx_post(struct peer *p)
{
	unsigned n = pvio_front_free_requests(&p->rx);
	for (unsigned i = 0; i < n; i++) {
		netif_rx_request_t *r = pvio_front_request_slot(&p->rx, i);
		unsigned slot = (p->rx.req_prod_pvt + i) & (RX_SLOTS - 1);
		r->id = (uint16_t)slot;
		r->gref = p->rx_refs[slot];
	}
	pvio_front_produce_requests(&p->rx, n);
	if (pvio_front_push_requests(&p->rx))
		kick(p);
}

static void do_recv(struct peer *p, unsigned count)
{
	unsigned got = 0, udp_blank = 0, udp_filled = 0;
	bool seen[65536] = {false};
	int64_t deadline = now_ms() + 10000;
	rx_post(p);
	/* Connected, buffers posted: a sender may start. */
	printf("ready\n");
	fflush(stdout);
	netif_rx_response_t rsps[RX_SLOTS];
	unsigned pending = 0;
	while (got < count) {
		if (now_ms() > deadline)
			die("RX: %u of %u frames after 10 s", got, count);
		RING_IDX first = p->rx.rsp_cons - pending;
		int n = pvio_front_take_responses(&p->rx, rsps + pending,
						  RX_SLOTS - pending);
		if (n < 0)
			die("RX ring broken by the backend");
		pending += (unsigned)n;
		unsigned off = 0;
		while (off < pending) {
			struct netif_rx_packet pkt;
			enum netif_rx_reason r = netif_rx_parse(
				rsps + off, pending - off, &p->chosen, &pkt);
			if (r == NETIF_RX_INCOMPLETE)
				break;
			if (r != NETIF_RX_OK)
				die("RX packet: %s", netif_rx_reason_str(r));
			/* Linearise: frames are found by slot position. */
			static uint8_t f[65536];
			unsigned len = 0;
			for (unsigned k = 0; k < pkt.nr_frags; k++) {
				unsigned slot =
					(first + off + pkt.frags[k].slot) &
					(RX_SLOTS - 1);
				memcpy(f + len,
				       p->rx_bufs + (size_t)slot * 4096 +
					       pkt.frags[k].offset,
				       pkt.frags[k].len);
				len += pkt.frags[k].len;
			}
			off += pkt.nr_slots;
			if (len < 16)
				continue;
			unsigned type = (unsigned)f[12] << 8 | f[13];
			if (type == ETHERTYPE) {
				unsigned seq = (unsigned)f[14] << 8 | f[15];
				if (len != frame_len(seq))
					die("RX frame %u: %u bytes, sent %u",
					    seq, len, frame_len(seq));
				for (unsigned i = 16; i < len; i++)
					if (f[i] != (uint8_t)(seq * 7 + i))
						die("RX frame %u: byte %u", seq,
						    i);
				if (!seen[seq])
					got++;
				seen[seq] = true;
			} else if (type == 0x0800 && len > 42 && f[23] == 17 &&
				   f[36] == 0x30 && f[37] == 0x39) {
				bool blank = pkt.flags & NETRXF_csum_blank;
				if (blank && !p->chosen.ipv4_csum)
					die("RX: csum_blank to a frontend "
					    "without checksum offload");
				if (!blank && !udp_ok(f, len))
					die("RX: UDP datagram of %u bytes "
					    "with a wrong checksum",
					    len);
				if (blank)
					udp_blank++;
				else
					udp_filled++;
				got++;
			}
		}
		memmove(rsps, rsps + off, (pending - off) * sizeof(rsps[0]));
		pending -= off;
		rx_post(p);
		if (n == 0 && pvio_front_final_check_responses(&p->rx) == 0 &&
		    wait_event(p, 100))
			die("RX: backend went away");
	}
	printf("received %u (udp: %u csum_blank, %u filled)\n", got, udp_blank,
	       udp_filled);
}

static void do_hostile(struct peer *p, const char *what)
{
	netif_tx_request_t reqs[NETIF_TX_FATAL_SLOT_COUNT + 1];
	if (!strcmp(what, "index")) {
		/* Publish a producer index far past anything granted. */
		__atomic_store_n(&p->tx.sring->req_prod, 1000,
				 __ATOMIC_SEQ_CST);
	} else if (!strcmp(what, "slots") || !strcmp(what, "crossing")) {
		unsigned n = !strcmp(what, "slots")
				     ? NETIF_TX_FATAL_SLOT_COUNT + 1
				     : 1;
		for (unsigned i = 0; i < n; i++) {
			reqs[i] = (netif_tx_request_t){
				.gref = p->tx_refs[0],
				.offset = 0,
				.flags = i + 1 < n ? NETTXF_more_data : 0,
				.id = (uint16_t)i,
				.size = (uint16_t)(i == 0 ? n * 60 : 60),
			};
		}
		if (!strcmp(what, "crossing")) {
			reqs[0].offset = 4000;
			reqs[0].size = 200;
		}
		pvio_front_put_requests(&p->tx, reqs, n);
		pvio_front_push_requests(&p->tx);
	} else {
		die("hostile: unknown %s (index, slots, crossing)", what);
	}
	kick(p);
	int64_t deadline = now_ms() + 5000;
	while (now_ms() < deadline)
		if (wait_event(p, 100)) {
			printf("backend closed the channel\n");
			return;
		}
	die("hostile %s: the backend still serves the vif after 5 s", what);
}

/* ---- relay: the guest's NIC through a minimal frontend ---- */

static volatile sig_atomic_t relay_stop;

static void on_stop(int sig)
{
	(void)sig;
	relay_stop = 1;
}

/* What the relay saw of the backend's frames, by family (0: IPv4,
 * 1: IPv6) and protocol (0: TCP, 1: UDP). */
struct relay_counts {
	unsigned long tx, rx;
	unsigned long verified[2][2]; /* checksum checked here, good */
	unsigned long blank[2][2];    /* came csum_blank, filled here */
};

/* The TCP or UDP checksum of an IPv4 or IPv6 frame: 1 when it verifies,
 * 0 when not, -1 for any other frame (or an IP fragment). *fam, *proto:
 * the indices of struct relay_counts. */
static int l4_check(const uint8_t *f, unsigned len, unsigned *fam,
		    unsigned *proto)
{
	if (len < 14)
		return -1;
	unsigned type = (unsigned)f[12] << 8 | f[13];
	const uint8_t *ip = f + 14, *l4;
	unsigned iplen = len - 14, l4len, next;
	uint32_t sum;
	if (type == 0x0800) {
		if (iplen < 20 || ip[0] >> 4 != 4)
			return -1;
		unsigned ihl = (ip[0] & 15u) * 4,
			 tot = (unsigned)ip[2] << 8 | ip[3];
		if (ihl < 20 || tot < ihl || tot > iplen || (ip[6] & 0x3f) ||
		    ip[7])
			return -1;
		*fam = 0;
		next = ip[9];
		l4 = ip + ihl;
		l4len = tot - ihl;
		sum = sum16(ip + 12, 8, 0);
	} else if (type == 0x86dd) {
		if (iplen < 40)
			return -1;
		unsigned plen = (unsigned)ip[4] << 8 | ip[5];
		if (plen + 40 > iplen)
			return -1;
		*fam = 1;
		next = ip[6];
		l4 = ip + 40;
		l4len = plen;
		sum = sum16(ip + 8, 32, 0);
	} else {
		return -1;
	}
	if (next == 6 && l4len >= 20)
		*proto = 0;
	else if (next == 17 && l4len >= 8)
		*proto = 1;
	else
		return -1;
	/* UDP over IPv4 may go without a checksum. */
	if (next == 17 && *fam == 0 && !l4[6] && !l4[7])
		return 1;
	sum += next + l4len;
	return fold(sum16(l4, l4len, sum)) == 0xffff;
}

/* One frame from the TAP onto the TX ring, one slot, no flags (the guest's
 * stack filled its checksums: the TAP takes no offload). False when the
 * ring or the buffers are full (nothing read). */
static bool relay_tx_one(struct peer *p, int tap, unsigned *next,
			 struct relay_counts *n)
{
	if (pvio_front_free_requests(&p->tx) < 1)
		return false;
	unsigned page = tx_pages(p, 1, next);
	if (page == TX_BUF_PAGES)
		return false;
	static uint8_t buf[PVIO_TAP_VNET_HDR_BYTES + 65536];
	ssize_t r = read(tap, buf, sizeof(buf));
	if (r < 0) {
		if (errno == EAGAIN || errno == EINTR) {
			*next = page; /* not used */
			return false;
		}
		die("relay: TAP read: %s", strerror(errno));
	}
	unsigned len = (unsigned)r - PVIO_TAP_VNET_HDR_BYTES;
	const struct virtio_net_hdr *vnet = (const void *)buf;
	if (r < (ssize_t)PVIO_TAP_VNET_HDR_BYTES + 14 || len > 4096 ||
	    vnet->gso_type != VIRTIO_NET_HDR_GSO_NONE ||
	    (vnet->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		/* Not what a TAP without offloads gives: said, skipped. */
		fprintf(stderr, "relay: TAP frame of %u bytes skipped\n", len);
		*next = page;
		return true;
	}
	memcpy(p->tx_bufs + (size_t)page * 4096, buf + PVIO_TAP_VNET_HDR_BYTES,
	       len);
	struct netif_tx_frag frag = {p->tx_refs[page], 0, (uint16_t)len};
	uint16_t id = (uint16_t)(page * 2);
	netif_tx_request_t req;
	if (netif_tx_build(len, &frag, 1, &id, 0, &req) != 1)
		die("netif_tx_build");
	pvio_front_put_requests(&p->tx, &req, 1);
	p->tx_pending[page]++;
	p->tx_outstanding++;
	if (pvio_front_push_requests(&p->tx))
		kick(p);
	n->tx++;
	return true;
}

/* A frame from the backend, checked against what was negotiated, to the
 * TAP. */
static void relay_rx_frame(struct peer *p, int tap, uint8_t *f, unsigned len,
			   uint16_t flags, struct relay_counts *n)
{
	unsigned fam = 0, proto = 0;
	if (flags & NETRXF_csum_blank) {
		int rc = l4_check(f, len, &fam, &proto);
		if (rc < 0)
			die("relay: csum_blank on a frame of %u bytes that is "
			    "not TCP or UDP over IP",
			    len);
		bool offered =
			fam == 0 ? p->chosen.ipv4_csum : p->chosen.ipv6_csum;
		if (!offered)
			die("relay: csum_blank %s frame of %u bytes to a "
			    "frontend without %s checksum offload",
			    fam ? "IPv6" : "IPv4", len, fam ? "IPv6" : "IPv4");
		struct virtio_net_hdr vnet;
		if (netif_vnet_for_frame(true, false, f, len, &vnet) < 0 ||
		    netif_checksum_fill(f, len, le16toh(vnet.csum_start),
					le16toh(vnet.csum_offset)) < 0 ||
		    l4_check(f, len, &fam, &proto) != 1)
			die("relay: cannot fill a blank checksum");
		n->blank[fam][proto]++;
	} else {
		int rc = l4_check(f, len, &fam, &proto);
		if (rc == 0)
			die("relay: %s %s frame of %u bytes with a wrong "
			    "checksum",
			    fam ? "IPv6" : "IPv4", proto ? "UDP" : "TCP", len);
		if (rc == 1)
			n->verified[fam][proto]++;
	}
	struct virtio_net_hdr none = {0};
	struct iovec iov[2] = {{&none, sizeof(none)}, {f, len}};
	if (writev(tap, iov, 2) < 0 && errno != EIO)
		die("relay: TAP write: %s", strerror(errno));
	n->rx++;
}

/* Takes the RX responses: every frame in one slot with no extra. */
static void relay_rx(struct peer *p, int tap, struct relay_counts *n)
{
	netif_rx_response_t rsps[RX_SLOTS];
	int got = pvio_front_take_responses(&p->rx, rsps, RX_SLOTS);
	if (got < 0)
		die("RX ring broken by the backend");
	static uint8_t f[4096];
	for (int i = 0; i < got; i++) {
		const netif_rx_response_t *r = &rsps[i];
		if (r->flags & (NETRXF_more_data | NETRXF_extra_info))
			die("relay: RX response id %u has flags %#x: %s to a "
			    "frontend without %s",
			    r->id, r->flags,
			    r->flags & NETRXF_more_data ? "more_data"
							: "extra_info",
			    r->flags & NETRXF_more_data ? "feature-sg" : "GSO");
		struct netif_rx_packet pkt;
		enum netif_rx_reason why =
			netif_rx_parse(r, 1, &p->chosen, &pkt);
		if (why != NETIF_RX_OK)
			die("relay: RX response id %u: %s", r->id,
			    netif_rx_reason_str(why));
		if (pkt.nr_frags != 1 || r->id >= RX_SLOTS)
			die("relay: RX response id %u: %u pieces", r->id,
			    pkt.nr_frags);
		unsigned len = pkt.frags[0].len;
		memcpy(f,
		       p->rx_bufs + (size_t)r->id * 4096 + pkt.frags[0].offset,
		       len);
		relay_rx_frame(p, tap, f, len, pkt.flags, n);
	}
	if (got > 0)
		rx_post(p);
}

static void do_relay(struct peer *p, const char *name)
{
	int tap = pvio_tap_open(name);
	if (tap < 0)
		die("relay: TAP %s: %s", name, strerror(-tap));
	int rc = pvio_tap_set_mac(name, p->mac);
	if (!rc)
		rc = pvio_tap_set_up(name, true);
	if (rc)
		die("relay: TAP %s: %s", name, strerror(-rc));
	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct relay_counts n = {0};
	unsigned next = 0;
	rx_post(p);
	printf("ready\n");
	fflush(stdout);
	int64_t deadline = now_ms() + 600000;
	while (!relay_stop && now_ms() < deadline) {
		tx_reap(p);
		bool tx_room = true;
		for (int i = 0; i < 64 && tx_room; i++)
			tx_room = relay_tx_one(p, tap, &next, &n);
		relay_rx(p, tap, &n);
		/* Sleep only when neither ring has more (re-armed). */
		if (pvio_front_final_check_responses(&p->tx) ||
		    pvio_front_final_check_responses(&p->rx))
			continue;
		struct pollfd fds[2] = {
			{pvio_evtchn_fd(p->ev), POLLIN, 0},
			{tap, tx_room ? POLLIN : 0, 0},
		};
		if (poll(fds, 2, 100) < 0 && errno != EINTR)
			die("relay: poll: %s", strerror(errno));
		int port;
		while ((port = pvio_evtchn_pending(p->ev)) >= 0)
			pvio_evtchn_unmask(p->ev, (evtchn_port_t)port);
		if (pvio_evtchn_peer_closed(p->ev, (evtchn_port_t)p->port) == 1)
			die("relay: the backend went away");
	}
	printf("relay: tx %lu rx %lu; checksums verified: ipv4 tcp %lu udp "
	       "%lu, ipv6 tcp %lu udp %lu; csum_blank filled here: ipv4 tcp "
	       "%lu udp %lu, ipv6 tcp %lu udp %lu\n",
	       n.tx, n.rx, n.verified[0][0], n.verified[0][1], n.verified[1][0],
	       n.verified[1][1], n.blank[0][0], n.blank[0][1], n.blank[1][0],
	       n.blank[1][1]);
	close(tap);
}

int main(int argc, char **argv)
{
	struct peer p;
	memset(&p, 0, sizeof(p));
	bool no_csum = false, minimal = false, persistent = false;
	static const struct option opts[] = {
		{"no-csum", no_argument, NULL, 'c'},
		{"persistent", no_argument, NULL, 'P'},
		{"minimal", no_argument, NULL, 'M'},
		{"max-frame", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		if (c == 'n')
			p.devid = (unsigned)atoi(optarg);
		else if (c == 'c')
			no_csum = true;
		else if (c == 'M')
			minimal = true;
		else if (c == 'P')
			persistent = true;
		else if (c == 'm')
			frame_max = (unsigned)atoi(optarg);
		else
			return 2;
	}
	if (frame_max < 60 || frame_max > JUMBO_PAGES * 4096)
		die("--max-frame: 60 to %u", JUMBO_PAGES * 4096);
	if (argc - optind != 2)
		die("usage: netback_peer [-n DEVID] [--no-csum] [--max-frame "
		    "N] "
		    "send|recv COUNT | hostile index|slots|crossing | "
		    "[--minimal] relay TAP");
	const char *mode = argv[optind], *arg = argv[optind + 1];
	if (minimal && strcmp(mode, "relay"))
		die("--minimal: relay only (send and recv use feature-sg)");
	peer_connect(&p, no_csum, minimal, persistent);
	if (!strcmp(mode, "send"))
		do_send(&p, (unsigned)atoi(arg));
	else if (!strcmp(mode, "recv"))
		do_recv(&p, (unsigned)atoi(arg));
	else if (!strcmp(mode, "hostile"))
		do_hostile(&p, arg);
	else if (!strcmp(mode, "relay"))
		do_relay(&p, arg);
	else
		die("unknown mode %s", mode);
	/* Closing unbinds the channel and ends the grants, as a frontend
	 * that exits does. */
	pvio_evtchn_close(p.ev);
	pvio_gntshr_close(p.gs);
	pvio_xenbus_close(p.xb);
	return 0;
}
