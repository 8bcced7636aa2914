/*
 * hostile_netfront: the frontend of one vif that speaks the netif protocol
 * badly on purpose, one way per case, and checks what pvio-netback must do
 * about it (DRIVERS.md): bad keys or states leave the backend in InitWait
 * with a log line naming the vif; an error answers NETIF_RSP_ERROR (or
 * DROPPED) and the vif stays; a protocol violation disables the vif
 * (statistics `disabled`, a log line with the reason, the backend state
 * left alone) until the frontend reconnects. Every case ends by proving
 * that the vif serves again: a good frame is answered NETIF_RSP_OKAY.
 *
 * Run inside the guest with its identity (`pvio exec DOM -- hostile_netfront
 * CASE DEVID`, with no pvio-netfront serving that vif), after network-attach.
 * `hostile_netfront --list` prints the cases. Exit 0 when the backend did
 * what it must, 1 with a line saying what it did instead, 2 on bad usage.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/netif.h>

#include "netif/netif.h"
#include "netif/netif_stats.h"
#include "pvio_evtchn.h"
#include "pvio_gnt.h"
#include "xenstore/xenbus.h"

#define TX_RING_SIZE __CONST_RING_SIZE(netif_tx, NETIF_PAGE_BYTES)
#define RX_RING_SIZE __CONST_RING_SIZE(netif_rx, NETIF_PAGE_BYTES)
/* TX buffer pages granted read-only: enough for the longest packet. */
#define NR_BUFS 32u
/* A grant reference this frontend never granted (sim: 4096 per domain,
 * handed out from the lowest free one). */
#define UNGRANTED_REF 4000u
/* Bounded waits: generous for sanitizer builds on a loaded machine. */
#define WAIT_MS 30000
/* How long a case that expects nothing to happen watches. */
#define QUIET_MS    2000
#define FRAME_BYTES 60u

struct hostile {
	const char *name; /* the case */
	unsigned domid, devid;
	char fe[64];  /* frontend directory */
	char *be;     /* backend directory */
	char vif[32]; /* "vifD.N" as the backend's log names it */
	uint8_t mac[6];
	struct pvio_xenbus *xb;
	struct pvio_gntshr *gs;
	struct pvio_evtchn *ev;
	/* The connection: rings and event channel, renewed on reconnect. */
	netif_tx_sring_t *tx;
	netif_rx_sring_t *rx;
	grant_ref_t tx_ref, rx_ref;
	int port;
	RING_IDX tx_prod, tx_cons, rx_prod;
	/* Read-only TX buffers, granted once. */
	uint8_t *bufs;
	grant_ref_t buf_refs[NR_BUFS];
	uint16_t next_id;
	const struct netif_vif_stats *stats;
	char log[512];
	long log_offset;
};

static void fail(struct hostile *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void fail(struct hostile *h, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hostile_netfront: %s %s: FAIL: ", h->name, h->vif);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stdout);
	/* Without the exit handlers: the leak checker would add a report of
	 * everything a failed case left open. */
	_exit(1);
}

static void note(struct hostile *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct hostile *h, const char *fmt, ...)
{
	va_list ap;
	printf("hostile_netfront: %s %s: ", h->name, h->vif);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Accept the backend's bind and drain notifications (sim: the owner of a
 * port takes the peer's connection when it polls). */
static void pump_events(struct hostile *h)
{
	int port;
	while ((port = pvio_evtchn_pending(h->ev)) >= 0)
		pvio_evtchn_unmask(h->ev, (evtchn_port_t)port);
}

static void notify(struct hostile *h)
{
	pump_events(h);
	int rc = pvio_evtchn_notify(h->ev, (evtchn_port_t)h->port);
	if (rc)
		fail(h, "notify on port %d: %s", h->port, strerror(-rc));
}

/* ---- xenstore ---- */

static enum xenbus_state backend_state(struct hostile *h)
{
	enum xenbus_state s = XenbusStateUnknown;
	pvio_xenbus_read_state(h->xb, XBT_NULL, h->be, &s);
	return s;
}

static void wait_backend(struct hostile *h, enum xenbus_state want)
{
	enum xenbus_state reached;
	int rc = pvio_xenbus_wait_state(
		h->xb, h->be, PVIO_XENBUS_STATE_BIT(want), WAIT_MS, &reached);
	if (rc)
		fail(h, "backend did not reach %s within %d ms (it is %s)",
		     pvio_xenbus_state_name(want), WAIT_MS,
		     pvio_xenbus_state_name(backend_state(h)));
}

/* The backend holds state for QUIET_MS: it did not act on what we wrote. */
static void backend_stays(struct hostile *h, enum xenbus_state want,
			  const char *after)
{
	long end = now_ms() + QUIET_MS;
	do {
		enum xenbus_state s = backend_state(h);
		if (s != want)
			fail(h, "after %s the backend went %s (must stay %s)",
			     after, pvio_xenbus_state_name(s),
			     pvio_xenbus_state_name(want));
		sleep_ms(50);
	} while (now_ms() < end);
}

struct key {
	const char *key;
	char value[32];
};

struct txn_keys {
	struct hostile *h;
	const struct key *keys;
	unsigned n;
	const char *state; /* written last, in the same transaction */
};

static int write_keys_txn(struct pvio_xenbus *xb, xs_transaction_t t, void *arg)
{
	struct txn_keys *tk = arg;
	char path[128];
	for (unsigned i = 0; i < tk->n; i++) {
		snprintf(path, sizeof(path), "%s/%s", tk->h->fe,
			 tk->keys[i].key);
		int rc = pvio_xenbus_write_str(xb, t, path, tk->keys[i].value);
		if (rc)
			return rc;
	}
	snprintf(path, sizeof(path), "%s/state", tk->h->fe);
	return pvio_xenbus_write_str(xb, t, path, tk->state);
}

/*
 * The keys of the current connection, as a well-behaved frontend writes
 * them, with one changed: key `bad_key` gets `bad_value`, or is left out
 * when bad_value is NULL (bad_key NULL: all good). state is written with
 * them in one transaction.
 */
static void write_keys(struct hostile *h, const char *bad_key,
		       const char *bad_value, const char *state)
{
	struct key keys[8] = {
		{"tx-ring-ref", ""},	    {"rx-ring-ref", ""},
		{"event-channel", ""},	    {"request-rx-copy", "1"},
		{"feature-rx-notify", "1"}, {"feature-sg", "1"},
	};
	unsigned n = 6;
	snprintf(keys[0].value, sizeof(keys[0].value), "%u", h->tx_ref);
	snprintf(keys[1].value, sizeof(keys[1].value), "%u", h->rx_ref);
	snprintf(keys[2].value, sizeof(keys[2].value), "%d", h->port);
	if (bad_key) {
		/* Unwritten keys of an earlier attempt must go too. */
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", h->fe, bad_key);
		pvio_xenbus_rm(h->xb, XBT_NULL, path);
		unsigned i = 0;
		while (i < n && strcmp(keys[i].key, bad_key))
			i++;
		if (i == n) {
			keys[n].key = bad_key;
			n++;
		}
		if (bad_value) {
			snprintf(keys[i].value, sizeof(keys[i].value), "%s",
				 bad_value);
		} else {
			keys[i] = keys[n - 1];
			n--;
		}
	}
	struct txn_keys tk = {h, keys, n, state};
	int rc = pvio_xenbus_transaction(h->xb, write_keys_txn, &tk, 0);
	if (rc)
		fail(h, "writing the frontend's keys: %s", strerror(-rc));
}

static void write_state(struct hostile *h, const char *state)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/state", h->fe);
	int rc = pvio_xenbus_write_str(h->xb, XBT_NULL, path, state);
	if (rc)
		fail(h, "writing state %s: %s", state, strerror(-rc));
}

/* ---- the connection ---- */

static void share_rings(struct hostile *h)
{
	void *tx, *rx;
	int rc = pvio_gntshr_share(h->gs, 0, 1, true, &h->tx_ref, &tx);
	if (!rc)
		rc = pvio_gntshr_share(h->gs, 0, 1, true, &h->rx_ref, &rx);
	if (rc)
		fail(h, "sharing the rings: %s", strerror(-rc));
	h->tx = tx;
	h->rx = rx;
	SHARED_RING_INIT(h->tx);
	SHARED_RING_INIT(h->rx);
	h->tx_prod = h->tx_cons = h->rx_prod = 0;
	h->port = pvio_evtchn_alloc_unbound(h->ev, 0);
	if (h->port < 0)
		fail(h, "allocating an event channel: %s", strerror(-h->port));
}

static void drop_rings(struct hostile *h)
{
	/* -EBUSY: the backend still maps them; they are freed later. */
	if (h->tx)
		pvio_gntshr_unshare(h->gs, h->tx, 1);
	if (h->rx)
		pvio_gntshr_unshare(h->gs, h->rx, 1);
	h->tx = NULL;
	h->rx = NULL;
	if (h->port > 0)
		pvio_evtchn_unbind(h->ev, (evtchn_port_t)h->port);
	h->port = 0;
}

/* The backend no longer maps the rings: ending their grants succeeds
 * (sim: -EBUSY while a peer maps the page). Then they are dropped. */
static void rings_released(struct hostile *h, const char *after)
{
	void *pages[2] = {h->tx, h->rx};
	const char *names[2] = {"TX", "RX"};
	for (int i = 0; i < 2; i++) {
		int rc = pvio_gntshr_unshare(h->gs, pages[i], 1);
		for (long end = now_ms() + WAIT_MS;
		     rc == -EBUSY && now_ms() < end; sleep_ms(20))
			rc = pvio_gntshr_reclaim(h->gs) > 0 ? -EBUSY : 0;
		if (rc)
			fail(h,
			     "after %s the backend still maps the %s ring "
			     "(ending its grant: %s)",
			     after, names[i], strerror(-rc));
	}
	h->tx = NULL;
	h->rx = NULL;
}

/* The backend unbound the event channel (sim: the peer's end closed). */
static void channel_released(struct hostile *h, const char *after)
{
	for (long end = now_ms() + WAIT_MS; now_ms() < end; sleep_ms(20)) {
		pump_events(h);
		if (pvio_evtchn_peer_closed(h->ev, (evtchn_port_t)h->port) == 1)
			return;
	}
	fail(h, "after %s the backend still holds event channel %d", after,
	     h->port);
}

/* Maps the vif's statistics (again after a reconnect: the backend may
 * have made the file anew). */
static void map_stats(struct hostile *h)
{
	char path[512];
	if (h->stats)
		munmap((void *)h->stats, sizeof(*h->stats));
	h->stats = NULL;
	netif_stats_path(path, sizeof(path), getenv("PVIO_RUNDIR"), h->domid,
			 h->devid);
	int fd = -1;
	for (long end = now_ms() + WAIT_MS; now_ms() < end; sleep_ms(50)) {
		struct stat st;
		fd = open(path, O_RDONLY);
		if (fd >= 0 && !fstat(fd, &st) &&
		    st.st_size >= (off_t)sizeof(*h->stats))
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (fd < 0)
		fail(h, "no statistics file %s", path);
	void *map = mmap(NULL, sizeof(*h->stats), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		fail(h, "mapping %s: %s", path, strerror(errno));
	h->stats = map;
	if (h->stats->magic != NETIF_STATS_MAGIC ||
	    h->stats->domid != h->domid || h->stats->devid != h->devid)
		fail(h, "%s: magic %#x for vif%u.%u (want %#x for vif%u.%u)",
		     path, h->stats->magic, h->stats->domid, h->stats->devid,
		     NETIF_STATS_MAGIC, h->domid, h->devid);
}

static uint64_t stat_load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* Waits until *counter reaches at least want. */
static void wait_stat(struct hostile *h, const uint64_t *counter, uint64_t want,
		      const char *what)
{
	for (long end = now_ms() + WAIT_MS; now_ms() < end; sleep_ms(20)) {
		pump_events(h);
		if (stat_load(counter) >= want)
			return;
	}
	fail(h, "statistics: %s is %llu, want at least %llu", what,
	     (unsigned long long)stat_load(counter), (unsigned long long)want);
}

static void connect_rings(struct hostile *h)
{
	share_rings(h);
	write_keys(h, NULL, NULL, "4");
	wait_backend(h, XenbusStateConnected);
	pump_events(h);
	map_stats(h);
}

/* The frontend starts over, as a rebooted guest's driver would: Closed is
 * not needed, Initialising is enough (DRIVERS.md). */
static void reconnect(struct hostile *h)
{
	write_state(h, "1");
	wait_backend(h, XenbusStateInitWait);
	drop_rings(h);
	connect_rings(h);
	note(h, "reconnected");
}

/* ---- the backend's log ---- */

static bool line_names_vif(const char *line, const char *vif)
{
	size_t len = strlen(vif);
	for (const char *p = strstr(line, vif); p; p = strstr(p + 1, vif))
		if (p[len] < '0' || p[len] > '9')
			return true;
	return false;
}

/* Waits for a line of the backend's log, written since we started, that
 * names our vif and contains needle. */
static void expect_log(struct hostile *h, const char *needle)
{
	char line[1024];
	for (long end = now_ms() + WAIT_MS; now_ms() < end; sleep_ms(50)) {
		FILE *f = fopen(h->log, "r");
		if (!f)
			fail(h, "cannot read %s: %s", h->log, strerror(errno));
		fseek(f, h->log_offset, SEEK_SET);
		while (fgets(line, sizeof(line), f)) {
			if (line_names_vif(line, h->vif) &&
			    strstr(line, needle)) {
				fclose(f);
				line[strcspn(line, "\n")] = 0;
				note(h, "backend logged: %s", line);
				return;
			}
		}
		fclose(f);
	}
	fail(h, "pvio-netback logged no line naming %s with \"%s\" in %s",
	     h->vif, needle, h->log);
}

/* Lines of the backend's log, written since we started, naming our vif. */
static unsigned count_log_lines(struct hostile *h)
{
	char line[1024];
	unsigned n = 0;
	FILE *f = fopen(h->log, "r");
	if (!f)
		fail(h, "cannot read %s: %s", h->log, strerror(errno));
	fseek(f, h->log_offset, SEEK_SET);
	while (fgets(line, sizeof(line), f))
		n += line_names_vif(line, h->vif);
	fclose(f);
	return n;
}

/* ---- TX ---- */

static netif_tx_request_t *tx_slot(struct hostile *h, RING_IDX idx)
{
	return &h->tx->ring[idx & (TX_RING_SIZE - 1)].req;
}

/* Publishes n requests and wakes the backend. */
static void tx_push(struct hostile *h, const netif_tx_request_t *reqs,
		    unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		memcpy(tx_slot(h, h->tx_prod + i), &reqs[i], sizeof(reqs[i]));
	h->tx_prod += n;
	__atomic_store_n(&h->tx->req_prod, h->tx_prod, __ATOMIC_RELEASE);
	notify(h);
}

/* Takes n responses (private copies), waiting for them. */
static void tx_take(struct hostile *h, unsigned n, netif_tx_response_t *rsps)
{
	for (long end = now_ms() + WAIT_MS;; sleep_ms(5)) {
		pump_events(h);
		RING_IDX prod =
			__atomic_load_n(&h->tx->rsp_prod, __ATOMIC_ACQUIRE);
		if ((RING_IDX)(prod - h->tx_cons) > h->tx_prod - h->tx_cons)
			fail(h,
			     "backend answered requests never sent "
			     "(rsp_prod %u, req_prod %u)",
			     prod, h->tx_prod);
		if (prod - h->tx_cons >= n)
			break;
		if (now_ms() > end)
			fail(h, "%u of %u TX responses arrived",
			     prod - h->tx_cons, n);
	}
	for (unsigned i = 0; i < n; i++)
		memcpy(&rsps[i],
		       &h->tx->ring[(h->tx_cons + i) & (TX_RING_SIZE - 1)].rsp,
		       sizeof(rsps[i]));
	h->tx_cons += n;
}

static uint16_t new_id(struct hostile *h)
{
	return h->next_id++ % TX_RING_SIZE;
}

static netif_tx_request_t data_req(struct hostile *h, unsigned buf,
				   uint16_t offset, uint16_t size,
				   uint16_t flags)
{
	netif_tx_request_t req = {
		.gref = h->buf_refs[buf % NR_BUFS],
		.offset = offset,
		.flags = flags,
		.id = new_id(h),
		.size = size,
	};
	return req;
}

static netif_tx_request_t extra_req(uint8_t type, uint8_t flags,
				    const uint8_t payload[6])
{
	netif_extra_info_t extra;
	netif_tx_request_t req;
	memset(&extra, 0, sizeof(extra));
	extra.type = type;
	extra.flags = flags;
	memcpy(extra.u.pad, payload, sizeof(extra.u.pad));
	memset(&req, 0, sizeof(req));
	memcpy(&req, &extra, sizeof(extra));
	return req;
}

/* Sends one good frame and checks it is answered OKAY: the vif serves. */
static void good_frame(struct hostile *h)
{
	netif_tx_request_t req = data_req(h, 0, 0, FRAME_BYTES, 0);
	netif_tx_response_t rsp;
	uint64_t before = stat_load(&h->stats->tx_packets);
	tx_push(h, &req, 1);
	tx_take(h, 1, &rsp);
	if (rsp.id != req.id || rsp.status != NETIF_RSP_OKAY)
		fail(h, "a good frame got id %u status %d (want id %u OKAY)",
		     rsp.id, rsp.status, req.id);
	wait_stat(h, &h->stats->tx_packets, before + 1, "tx_packets");
	note(h, "a good frame was answered OKAY: the vif serves");
}

/* For the cases that must not disable the vif (`disabled` is sticky: it
 * says the vif was ever disabled). */
static void expect_not_disabled(struct hostile *h)
{
	if (stat_load(&h->stats->disabled))
		fail(h, "statistics say the vif was disabled");
}

/* The packet of n requests (data and extra slots) is answered: data slots
 * with status, extra slots NETIF_RSP_NULL. */
static void expect_answers(struct hostile *h, const netif_tx_request_t *reqs,
			   const bool *is_extra, unsigned n, int16_t status)
{
	netif_tx_response_t rsps[TX_RING_SIZE];
	if (n > TX_RING_SIZE)
		fail(h, "%u answers expected, more than a ring holds", n);
	tx_take(h, n, rsps);
	for (unsigned i = 0; i < n; i++) {
		int16_t want =
			is_extra && is_extra[i] ? NETIF_RSP_NULL : status;
		if (rsps[i].status != want ||
		    (want != NETIF_RSP_NULL && rsps[i].id != reqs[i].id))
			fail(h,
			     "response %u of %u: id %u status %d (want id "
			     "%u status %d)",
			     i, n, rsps[i].id, rsps[i].status, reqs[i].id,
			     want);
	}
	note(h, "all %u slots answered %d", n, status);
}

/* ---- the cases ---- */

struct hostile_case;
typedef void (*case_fn)(struct hostile *h, const struct hostile_case *c);

struct hostile_case {
	const char *name;
	case_fn run;
	const char *what;
	/* keys and states: the key, its value (NULL: missing), what the
	 * backend's log line must contain */
	const char *key, *value, *log_needle;
	enum netif_tx_reason reason; /* TX cases */
	unsigned nr_slots;	     /* data slots of the packet */
	uint8_t extra_type;	     /* of a garbage extra */
};

/* A connect that fails: log line, InitWait, then a good connect works. */
static void run_bad_key(struct hostile *h, const struct hostile_case *c)
{
	share_rings(h);
	write_keys(h, c->key, c->value, "4");
	expect_log(h, c->log_needle);
	if (backend_state(h) != XenbusStateInitWait)
		fail(h,
		     "after a refused connect the backend is %s (want "
		     "InitWait)",
		     pvio_xenbus_state_name(backend_state(h)));
	/* Nothing it mapped for the attempt stays mapped. */
	rings_released(h, "a refused connect");
	drop_rings(h);
	share_rings(h);
	/* The frontend's next state change: Initialising, then a good
	 * connect. */
	write_state(h, "1");
	write_keys(h, NULL, NULL, "4");
	wait_backend(h, XenbusStateConnected);
	map_stats(h);
	good_frame(h);
	expect_not_disabled(h);
}

/* A state outside the enum, with good keys written: the backend must not
 * take it for Connected (nor for Closed). */
static void run_bad_state(struct hostile *h, const struct hostile_case *c)
{
	share_rings(h);
	write_keys(h, NULL, NULL, c->value);
	char after[64];
	snprintf(after, sizeof(after), "state=\"%s\"", c->value);
	backend_stays(h, XenbusStateInitWait, after);
	write_state(h, "1");
	write_keys(h, NULL, NULL, "4");
	wait_backend(h, XenbusStateConnected);
	map_stats(h);
	good_frame(h);
	expect_not_disabled(h);
}

/* Builds the packet of case c into reqs; is_extra marks extra slots.
 * Returns the slot count. */
static unsigned build_packet(struct hostile *h, const struct hostile_case *c,
			     netif_tx_request_t *reqs, bool *is_extra)
{
	static const uint8_t garbage[6] = {0xde, 0xad, 0xbe, 0xef, 0x5a, 0xa5};
	unsigned n = 0;
	memset(is_extra, 0, sizeof(bool) * (NETIF_TX_MAX_PACKET_SLOTS + 4));
	switch (c->reason) {
	case NETIF_TX_TOO_MANY_SLOTS:
	case NETIF_TX_FATAL_SLOTS:
		/* nr_slots data slots of 60 bytes. */
		for (n = 0; n < c->nr_slots; n++)
			reqs[n] = data_req(
				h, n, 0, FRAME_BYTES,
				n + 1 < c->nr_slots ? NETTXF_more_data : 0);
		reqs[0].size = (uint16_t)(FRAME_BYTES * c->nr_slots);
		return n;
	case NETIF_TX_CROSSES_PAGE:
		if (c->nr_slots == 1) { /* the first slot runs off its page */
			reqs[0] = data_req(h, 0, 4000, 200, 0);
			return 1;
		}
		/* a later fragment does */
		reqs[0] =
			data_req(h, 0, 0, FRAME_BYTES + 100, NETTXF_more_data);
		reqs[1] = data_req(h, 1, 4090, 100, 0);
		return 2;
	case NETIF_TX_FRAG_EXCEEDS_TOTAL:
		/* the first slot says 100 bytes in all, the second holds 200 */
		reqs[0] = data_req(h, 0, 0, 100, NETTXF_more_data);
		reqs[1] = data_req(h, 1, 0, 200, 0);
		return 2;
	case NETIF_TX_RUNT:
		reqs[0] = data_req(h, 0, 0, 10, 0);
		return 1;
	case NETIF_TX_EXTRA_UNKNOWN:
		reqs[0] = data_req(h, 0, 0, FRAME_BYTES, NETTXF_extra_info);
		reqs[1] = extra_req(c->extra_type, 0, garbage);
		is_extra[1] = true;
		return 2;
	case NETIF_TX_GSO_NOT_NEGOTIATED: {
		/* a well-formed GSO extra of a type the backend did not
		 * offer (net-hostile.sh: --no-gso-tcpv4) */
		uint8_t gso[6] = {0};
		uint16_t mss = 1400;
		memcpy(gso, &mss, sizeof(mss));
		gso[2] = XEN_NETIF_GSO_TYPE_TCPV4;
		reqs[0] = data_req(h, 0, 0, FRAME_BYTES, NETTXF_extra_info);
		reqs[1] = extra_req(XEN_NETIF_EXTRA_TYPE_GSO, 0, gso);
		is_extra[1] = true;
		return 2;
	}
	default:
		fail(h, "no packet for reason %d", (int)c->reason);
	}
}

/* A packet the backend answers with an error (or drops); the vif stays. */
static void run_tx_error(struct hostile *h, const struct hostile_case *c)
{
	netif_tx_request_t reqs[NETIF_TX_MAX_PACKET_SLOTS + 4];
	bool is_extra[NETIF_TX_MAX_PACKET_SLOTS + 4];
	connect_rings(h);
	uint64_t drops = stat_load(&h->stats->tx_drops[c->reason]);
	unsigned n = build_packet(h, c, reqs, is_extra);
	tx_push(h, reqs, n);
	enum netif_action action = netif_tx_action(c->reason);
	expect_answers(h, reqs, is_extra, n,
		       action == NETIF_DROP ? NETIF_RSP_DROPPED
					    : NETIF_RSP_ERROR);
	wait_stat(h, &h->stats->tx_drops[c->reason], drops + 1,
		  netif_tx_reason_str(c->reason));
	good_frame(h);
	expect_not_disabled(h);
}

/* Many bad packets, each answered with an error: the log must not grow
 * with them (DRIVERS.md: lines a guest can cause are rate-limited). */
#define FLOOD_PACKETS	200u
#define FLOOD_MAX_LINES 40u

static void run_tx_flood(struct hostile *h, const struct hostile_case *c)
{
	netif_tx_request_t reqs[FLOOD_PACKETS];
	connect_rings(h);
	unsigned before = count_log_lines(h);
	for (unsigned i = 0; i < FLOOD_PACKETS; i++)
		reqs[i] = data_req(h, i, 0, 10, 0);
	tx_push(h, reqs, FLOOD_PACKETS);
	expect_answers(h, reqs, NULL, FLOOD_PACKETS, NETIF_RSP_ERROR);
	wait_stat(h, &h->stats->tx_drops[c->reason], FLOOD_PACKETS,
		  netif_tx_reason_str(c->reason));
	unsigned lines = count_log_lines(h) - before;
	if (lines > FLOOD_MAX_LINES)
		fail(h,
		     "%u bad packets made %u log lines (rate-limited: at "
		     "most %u)",
		     FLOOD_PACKETS, lines, FLOOD_MAX_LINES);
	note(h, "%u bad packets, %u log lines", FLOOD_PACKETS, lines);
	good_frame(h);
	expect_not_disabled(h);
}

/* A violation that disables the vif: the statistics and the log (a line
 * naming the vif with why: the reason or the offending value) say so, the
 * backend's state stays; the frontend reconnects and is served. */
static void expect_disabled(struct hostile *h, const char *why)
{
	wait_stat(h, &h->stats->disabled, 1, "disabled");
	expect_log(h, why);
	if (backend_state(h) != XenbusStateConnected)
		fail(h,
		     "disabling moved the backend to %s (DRIVERS.md: the "
		     "state stays)",
		     pvio_xenbus_state_name(backend_state(h)));
	note(h, "the vif is disabled, the backend still Connected");
	/* It stopped serving: rings unmapped, channel unbound. */
	rings_released(h, "disabling the vif");
	channel_released(h, "disabling the vif");
	note(h, "the backend let go of the rings and the event channel");
	reconnect(h);
	good_frame(h);
}

static void run_tx_disable(struct hostile *h, const struct hostile_case *c)
{
	netif_tx_request_t reqs[NETIF_TX_MAX_PACKET_SLOTS + 4];
	bool is_extra[NETIF_TX_MAX_PACKET_SLOTS + 4];
	connect_rings(h);
	unsigned n = build_packet(h, c, reqs, is_extra);
	tx_push(h, reqs, n);
	wait_stat(h, &h->stats->tx_drops[c->reason], 1,
		  netif_tx_reason_str(c->reason));
	expect_disabled(h, netif_tx_reason_str(c->reason));
}

/* The TX producer index runs far past anything the ring can hold. */
static void run_tx_prod_ahead(struct hostile *h, const struct hostile_case *c)
{
	(void)c;
	connect_rings(h);
	good_frame(h);
	h->tx_prod += 1000;
	__atomic_store_n(&h->tx->req_prod, h->tx_prod, __ATOMIC_RELEASE);
	notify(h);
	char value[16];
	snprintf(value, sizeof(value), "%u", h->tx_prod);
	expect_disabled(h, value);
}

/* The RX producer index runs far ahead: the backend finds it when it
 * next has a frame for us (the test's broadcasts). */
static void run_rx_prod_ahead(struct hostile *h, const struct hostile_case *c)
{
	(void)c;
	connect_rings(h);
	h->rx_prod += 1000;
	__atomic_store_n(&h->rx->req_prod, h->rx_prod, __ATOMIC_RELEASE);
	notify(h);
	char value[16];
	snprintf(value, sizeof(value), "%u", h->rx_prod);
	expect_disabled(h, value);
}

/* TX data in a page never granted: NETIF_RSP_ERROR, tx_grant_errors. */
static void run_tx_ungranted(struct hostile *h, const struct hostile_case *c)
{
	(void)c;
	connect_rings(h);
	uint64_t errors = stat_load(&h->stats->tx_grant_errors);
	netif_tx_request_t req = data_req(h, 0, 0, FRAME_BYTES, 0);
	req.gref = UNGRANTED_REF;
	tx_push(h, &req, 1);
	expect_answers(h, &req, NULL, 1, NETIF_RSP_ERROR);
	wait_stat(h, &h->stats->tx_grant_errors, errors + 1, "tx_grant_errors");
	good_frame(h);
	expect_not_disabled(h);
}

/* RX buffers posted with references never granted: the copies into them
 * fail and are counted; the vif stays. */
static void run_rx_ungranted(struct hostile *h, const struct hostile_case *c)
{
	(void)c;
	connect_rings(h);
	uint64_t drops = stat_load(&h->stats->rx_drops[NETIF_RX_DROP_GRANT]);
	for (unsigned i = 0; i < 64; i++) {
		netif_rx_request_t *req =
			&h->rx->ring[(h->rx_prod + i) & (RX_RING_SIZE - 1)].req;
		req->id = (uint16_t)i;
		req->gref = UNGRANTED_REF + i;
	}
	h->rx_prod += 64;
	__atomic_store_n(&h->rx->req_prod, h->rx_prod, __ATOMIC_RELEASE);
	notify(h);
	wait_stat(h, &h->stats->rx_drops[NETIF_RX_DROP_GRANT], drops + 1,
		  "rx_drops[grant]");
	good_frame(h);
	expect_not_disabled(h);
}

/* Designated initializers: each case sets what it uses. */
#define TX(n, fn, w, ...)                                                      \
	{                                                                      \
		.name = n, .run = fn, .what = w, __VA_ARGS__                   \
	}
#define KEY(n, w, k, v, needle)                                                \
	{                                                                      \
		.name = n, .run = run_bad_key, .what = w, .key = k,            \
		.value = v, .log_needle = needle                               \
	}
#define STATE(n, w, v)                                                         \
	{                                                                      \
		.name = n, .run = run_bad_state, .what = w, .value = v         \
	}

/* No RX buffer ever posted while frames arrive for us (the test's
 * broadcasts): the backend counts the full ring and waits, and TX still
 * works. */
static void run_rx_starved(struct hostile *h, const struct hostile_case *c)
{
	(void)c;
	connect_rings(h);
	wait_stat(h, &h->stats->rx_ring_full, 1, "rx_ring_full");
	good_frame(h);
	expect_not_disabled(h);
}

static const struct hostile_case cases[] = {
	TX("too-many-slots", run_tx_error, "19 data slots: error, vif stays",
	   .reason = NETIF_TX_TOO_MANY_SLOTS, .nr_slots = 19),
	TX("fatal-slots", run_tx_disable, "21 data slots: disabled",
	   .reason = NETIF_TX_FATAL_SLOTS, .nr_slots = 21),
	TX("offset-past-page", run_tx_disable,
	   "first slot at offset 4000 of 200 bytes: disabled",
	   .reason = NETIF_TX_CROSSES_PAGE, .nr_slots = 1),
	TX("fragment-past-page", run_tx_disable,
	   "second slot at offset 4090 of 100 bytes: disabled",
	   .reason = NETIF_TX_CROSSES_PAGE, .nr_slots = 2),
	TX("size-lies", run_tx_error,
	   "total of 100 bytes, a fragment of 200: error",
	   .reason = NETIF_TX_FRAG_EXCEEDS_TOTAL),
	TX("runt", run_tx_error, "a 10-byte packet: error",
	   .reason = NETIF_TX_RUNT),
	TX("log-flood", run_tx_flood,
	   "200 runt packets: errors, the log stays short",
	   .reason = NETIF_TX_RUNT),
	TX("extra-unknown", run_tx_disable, "extra info of type 200: disabled",
	   .reason = NETIF_TX_EXTRA_UNKNOWN, .extra_type = 200),
	TX("extra-none", run_tx_disable, "extra info of type 0: disabled",
	   .reason = NETIF_TX_EXTRA_UNKNOWN, .extra_type = 0),
	TX("gso-not-negotiated", run_tx_error,
	   "a GSO extra of a type never offered: dropped",
	   .reason = NETIF_TX_GSO_NOT_NEGOTIATED),
	TX("tx-prod-ahead", run_tx_prod_ahead,
	   "TX req_prod 1000 past the responses: disabled"),
	TX("rx-prod-ahead", run_rx_prod_ahead,
	   "RX req_prod 1000 ahead: disabled"),
	TX("tx-ungranted", run_tx_ungranted,
	   "TX data in a reference never granted: error"),
	TX("rx-ungranted", run_rx_ungranted,
	   "RX buffers in references never granted: counted"),
	TX("rx-starved", run_rx_starved,
	   "frames arrive, no RX buffer is ever posted: counted, TX goes on"),
	KEY("key-no-tx-ring-ref", "tx-ring-ref missing", "tx-ring-ref", NULL,
	    "tx-ring-ref"),
	KEY("key-rx-ring-ref-huge", "rx-ring-ref 2^64 + 1", "rx-ring-ref",
	    "18446744073709551617", "rx-ring-ref"),
	KEY("key-ring-ref-ungranted", "tx-ring-ref a reference never granted",
	    "tx-ring-ref", "4000", "4000"),
	KEY("key-no-event-channel", "event-channel missing", "event-channel",
	    NULL, "event-channel"),
	KEY("key-event-channel-abc", "event-channel=abc", "event-channel",
	    "abc", "event-channel"),
	KEY("key-event-channel-zero", "event-channel=0", "event-channel", "0",
	    "event-channel"),
	KEY("key-event-channel-unbound", "event-channel a port never allocated",
	    "event-channel", "999", "999"),
	KEY("key-rx-copy-0", "request-rx-copy=0 (rx-flip)", "request-rx-copy",
	    "0", "request-rx-copy"),
	KEY("key-feature-sg-2", "feature-sg=2", "feature-sg", "2",
	    "feature-sg"),
	STATE("state-99", "state=99 with good keys", "99"),
	STATE("state-minus-1", "state=-1 with good keys", "-1"),
	STATE("state-abc", "state=abc with good keys", "abc"),
	STATE("state-empty", "state=\"\" with good keys", ""),
	STATE("state-wraps-to-4", "state=4294967300 (2^32 + 4) with good keys",
	      "4294967300"),
};

#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

static void usage(FILE *to)
{
	fprintf(to, "usage: hostile_netfront CASE DEVID   (inside the guest: "
		    "pvio exec DOM -- ...)\n"
		    "       hostile_netfront --list\n");
}

static void setup(struct hostile *h, unsigned devid)
{
	const char *domid = getenv("PVIO_DOMID");
	const char *rundir = getenv("PVIO_RUNDIR");
	if (!domid || !rundir || !atoi(domid))
		fail(h, "PVIO_DOMID and PVIO_RUNDIR must name a guest (run "
			"me with `pvio exec DOM --`)");
	h->domid = (unsigned)atoi(domid);
	h->devid = devid;
	snprintf(h->vif, sizeof(h->vif), "vif%u.%u", h->domid, devid);
	snprintf(h->fe, sizeof(h->fe), "/local/domain/%u/device/vif/%u",
		 h->domid, devid);
	snprintf(h->log, sizeof(h->log), "%s/netback.log", rundir);
	struct stat st;
	h->log_offset = stat(h->log, &st) ? 0 : (long)st.st_size;

	h->xb = pvio_xenbus_open();
	if (!h->xb)
		fail(h, "cannot reach xenstored: %s", strerror(errno));
	char path[128], *mac;
	snprintf(path, sizeof(path), "%s/backend", h->fe);
	if (pvio_xenbus_read_str(h->xb, XBT_NULL, path, &h->be))
		fail(h, "no %s: attach the vif first", path);
	snprintf(path, sizeof(path), "%s/mac", h->fe);
	if (pvio_xenbus_read_str(h->xb, XBT_NULL, path, &mac) ||
	    sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &h->mac[0], &h->mac[1],
		   &h->mac[2], &h->mac[3], &h->mac[4], &h->mac[5]) != 6)
		fail(h, "no MAC in %s", path);
	free(mac);

	int rc = pvio_gntshr_open(PVIO_PLATFORM_AUTO, &h->gs);
	if (!rc)
		rc = pvio_evtchn_open(PVIO_PLATFORM_AUTO, &h->ev);
	if (rc)
		fail(h, "platform: %s", strerror(-rc));
	void *bufs;
	rc = pvio_gntshr_share(h->gs, 0, NR_BUFS, false, h->buf_refs, &bufs);
	if (rc)
		fail(h, "sharing TX buffers: %s", strerror(-rc));
	h->bufs = bufs;
	/* Every buffer starts with the same harmless frame: broadcast,
	 * from our MAC, a local experimental EtherType. */
	for (unsigned i = 0; i < NR_BUFS; i++) {
		uint8_t *f = h->bufs + (size_t)i * NETIF_PAGE_BYTES;
		memset(f, 0xff, 6);
		memcpy(f + 6, h->mac, 6);
		f[12] = 0x88;
		f[13] = 0xb5;
	}
	wait_backend(h, XenbusStateInitWait);
}

/* A case that passed lets go of everything (sanitizer builds check it). */
static void teardown(struct hostile *h)
{
	if (h->stats)
		munmap((void *)h->stats, sizeof(*h->stats));
	drop_rings(h);
	pvio_gntshr_unshare(h->gs, h->bufs, NR_BUFS);
	pvio_gntshr_close(h->gs);
	pvio_evtchn_close(h->ev);
	pvio_xenbus_close(h->xb);
	free(h->be);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < NR_CASES; i++)
			printf("%s\t%s\n", cases[i].name, cases[i].what);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	const struct hostile_case *c = NULL;
	for (size_t i = 0; i < NR_CASES; i++)
		if (!strcmp(argv[1], cases[i].name))
			c = &cases[i];
	char *end;
	unsigned long devid = strtoul(argv[2], &end, 10);
	if (!c || !*argv[2] || *end || devid > 0xffff) {
		fprintf(stderr,
			"hostile_netfront: %s '%s' (see --list; DEVID is a "
			"number)\n",
			c ? "bad DEVID" : "unknown case",
			c ? argv[2] : argv[1]);
		return 2;
	}
	struct hostile h = {.name = c->name};
	snprintf(h.vif, sizeof(h.vif), "vif?.%lu", devid);
	setup(&h, (unsigned)devid);
	note(&h, "%s", c->what);
	c->run(&h, c);
	note(&h, "PASS");
	teardown(&h);
	return 0;
}
