/*
 * pvio-netfront: the guest side of the netif split driver. One TAP
 * eth<N> per device/vif/N is the guest's NIC; packets move between it and
 * the rings shared with pvio-netback.
 *
 * Threads: the main thread does xenstore only (xenbus.c, main.c); each
 * connected vif has one worker thread (vif.c) that owns the connection's
 * grant and event-channel handles and runs the data path (tx.c, rx.c).
 * The two meet in struct nf_conn: the main thread creates and stops it,
 * the worker reports setup and failures through it.
 */
#ifndef PVIO_NETFRONT_H
#define PVIO_NETFRONT_H

#include <net/if.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "netif/netif.h"
#include "pvio_evtchn.h"
#include "pvio_gnt.h"
#include "pvio_ring.h"
#include "xenstore/xenbus.h"

/* Slots of a one-page netif ring (both TX and RX): one pool page each. */
#define NF_RING_SLOTS 256u
/* Pages one TX frame may take with feature-sg: a netif packet's size is
 * 16 bits (a GSO packet's too), so 16 pages hold the largest. */
#define NF_TX_MAX_FRAME_PAGES 16u
/* Frames read from the TAP before one push and notify. */
#define NF_TX_BATCH 64u
/* The largest RX frame: the slots a packet may take, a page each. */
#define NF_RX_MAX_FRAME (XEN_NETIF_NR_SLOTS_MIN * NETIF_PAGE_BYTES)
/* RX responses held while a packet is incomplete: a ring's worth plus the
 * longest packet. */
#define NF_RX_PENDING_MAX (NF_RING_SLOTS + XEN_NETIF_NR_SLOTS_MIN + 2u)
/* Default busy-poll after activity, microseconds (--busy-poll), where the
 * process may run on at least NF_BUSY_POLL_MIN_CPUS CPUs (else none). */
#define NF_BUSY_POLL_US_DEFAULT 25u
#define NF_BUSY_POLL_MIN_CPUS	4u
/* How often, at most, a worker asks whether the backend's end of the
 * channel closed (sim: one poll() each), microseconds. */
#define NF_PEER_CHECK_US 100000u

/* ---- logging ---- */

extern bool nf_verbose;
void nf_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void nf_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * What a backend can make the frontend complain about: each is logged at
 * most once per connection (the backend is a peer, not a user; its
 * misbehaviour must not flood the log), and counted.
 */
enum nf_complaint {
	NF_C_TX_STATUS, /* TX response with an error status */
	NF_C_TX_FRAME,	/* a frame from the TAP that cannot be sent */
	NF_C_TX_CSUM,	/* a partial checksum that cannot be offloaded */
	NF_C_RX_PARSE,	/* an RX packet netif_rx_parse refused */
	NF_C_RX_VNET,	/* an RX frame whose checksum cannot be set up */
	NF_C_RX_TAP,	/* the TAP refused an RX frame */
	NF_C_TAP_READ,	/* reading the TAP failed */
	NF_C_COUNT
};

/* ---- statistics (per connection, summed per vif) ---- */

struct nf_stats {
	uint64_t tx_packets, tx_bytes;	 /* sent on the TX ring */
	uint64_t tx_dropped;		 /* frames from the TAP not sent */
	uint64_t tx_errors;		 /* TX responses with an error status */
	uint64_t rx_packets, rx_bytes;	 /* written to the TAP */
	uint64_t rx_dropped;		 /* RX packets not written */
	uint64_t rx_errors;		 /* RX responses with an error status */
	uint64_t notify_sent, wakeups;	 /* event channel */
	uint64_t tx_batches, rx_batches; /* pushes */
};

/* ---- one connection: rings, pools, event channel, worker ---- */

struct nf_vif;

struct nf_conn {
	struct nf_vif *vif;
	/* What this frontend wrote it takes on the RX ring (its keys). */
	struct netif_features features;
	/* What the backend offered to take on the TX ring. */
	struct netif_features tx_features;
	unsigned tx_frame_pages; /* pages offered to one TAP read */

	/* Main thread -> worker: stop and kick requests, and their wake-up. */
	int ctl_fd; /* eventfd */
	int stop;   /* atomic */
	int kick;   /* atomic: notify the backend once and look at the rings */
	pthread_t thread;
	bool thread_started;

	/* Worker -> main thread: setup done (setup_err 0) or failed. */
	sem_t setup_done;
	int setup_err;
	char setup_why[192];
	/* Worker -> main thread: the connection broke (atomic flag; the
	 * worker then waits to be stopped). Written once before the flag. */
	int failed;
	char fail_why[192];

	/* Grants: made and ended by the main thread (through the vif's
	 * sharing handle) before the worker starts and after it stopped. */
	void *tx_sring, *rx_sring;
	grant_ref_t tx_ring_ref, rx_ring_ref;
	uint8_t *tx_pages; /* TX pool: page i (id i) granted read-only */
	grant_ref_t tx_gref[NF_RING_SLOTS];
	uint8_t *rx_pages; /* RX pool: page i granted writable, posted in
			      every ring slot i */
	grant_ref_t rx_gref[NF_RING_SLOTS];
	unsigned busy_poll_us;
	int worker_event_fd;

	/* Owned by the worker from here on. */
	struct pvio_evtchn *evtchn;
	evtchn_port_t port;
	int epoll_fd;
	bool peer_check_due;	  /* woken since the last peer check */
	uint64_t peer_checked_us; /* CLOCK_MONOTONIC */

	struct pvio_front_ring tx, rx;

	uint16_t tx_free[NF_RING_SLOTS]; /* stack of free ids */
	unsigned tx_nfree;
	bool tx_outstanding[NF_RING_SLOTS];
	bool tap_pending; /* the TAP may hold frames not read yet */
	bool tx_blocked;  /* the ring or pool was full: wait for responses */

	RING_IDX rx_done; /* responses before this index are processed */
	netif_rx_response_t rx_pending[NF_RX_PENDING_MAX];
	unsigned rx_npending; /* taken, starting at ring index rx_done */

	bool complained[NF_C_COUNT];
	struct nf_stats stats;
	/* Scratch for one TAP read: the vnet header and what overflows the
	 * offered pages (a frame that does not fit is dropped). */
	uint8_t tx_overflow[4096];
	/* An RX frame copied out of the pages: one that is not contiguous
	 * in them, or any whose headers are parsed from an untrusted
	 * backend (what was parsed is then what the kernel gets). */
	uint8_t rx_scratch[NF_RX_MAX_FRAME];
};

/* ---- one device/vif/N ---- */

struct nf_vif {
	struct nf_daemon *daemon;
	struct nf_vif *next;
	unsigned devid;
	char label[32];	 /* "vif<D>.<N>": what log lines name */
	char fe_dir[48]; /* device/vif/N (relative to the domain) */
	char *be_dir;	 /* the backend directory (absolute) */
	domid_t backend_id;
	uint8_t mac[6];
	unsigned mtu;	  /* from the mtu key */
	unsigned mtu_set; /* what the TAP was last given */
	bool trusted;	  /* the trusted key: 0 = hostile backend */
	char ifname[IFNAMSIZ];
	int tap_fd; /* lives as long as the device */
	/* Shares the connections' pages; kept across reconnects so that
	 * grants the backend still mapped at a teardown are ended later. */
	struct pvio_gntshr *gntshr;
	struct pvio_xenbus_watch *be_watch;
	enum xenbus_state state; /* what this frontend last wrote */
	struct nf_conn *conn;	 /* NULL while disconnected */
	bool backend_connected;	 /* the backend reached Connected on conn */
	bool config_failed;	 /* unusable; logged once, left alone */
	struct netif_key_value keys[NETIF_MAX_KEYS]; /* written at connect */
	unsigned nkeys;
	struct nf_stats total; /* of finished connections */
	/* Lines the backend can cause, per minute (vif_log in xenbus.c). */
	int64_t log_window;
	unsigned log_lines;
};

struct nf_daemon {
	struct pvio_xenbus *xb;
	unsigned domid;
	unsigned busy_poll_us;
	/* What every vif offers to take (the feature keys it writes):
	 * everything but what the --no-* options switched off. */
	struct netif_features offer;
	int worker_event_fd; /* eventfd: some worker set conn->failed */
	struct pvio_xenbus_watch *vif_watch;
	struct nf_vif *vifs;
};

/* ---- xenbus.c: devices and the XenBus state machine (main thread) ---- */

int nf_xenbus_start(struct nf_daemon *d);
/* A worker reported a failure: tear its connection down, reconnect. */
void nf_xenbus_worker_event(struct nf_daemon *d);
/* SIGTERM: every vif closed, TAPs deleted. */
void nf_xenbus_shutdown(struct nf_daemon *d);

/* ---- vif.c: a connection's lifetime and its buffer pools ---- */

/*
 * Start a connection for vif with features (what it takes on RX, the keys
 * it writes) and tx_features (what the backend takes on TX): a worker
 * thread grants the rings and pools and allocates the event channel; this
 * returns once it has (0) or could not (-errno, *why says what failed).
 */
int nf_conn_start(struct nf_vif *vif, const struct netif_features *features,
		  const struct netif_features *tx_features,
		  unsigned busy_poll_us, int worker_event_fd,
		  struct nf_conn **out, char *why, size_t why_size);
/*
 * pool.c: a connection's rings and pools in their first state, over pages
 * the caller provided (tx_sring, rx_sring, tx_pages, rx_pages and their
 * references): fresh rings, every TX page free, tx_frame_pages from the
 * features. No platform call, so that the data path is tested without
 * one. Returns 0, or -EINVAL with *why when the rings are not the size
 * the pools are made for.
 */
int nf_conn_rings_init(struct nf_conn *conn, char *why, size_t why_size);
/* The keys that describe conn (netif_frontend_conn_keys). */
unsigned nf_conn_keys(const struct nf_conn *conn, struct netif_key_value *kv,
		      unsigned max);
/* Ask the worker to notify the backend and look at the rings once. */
void nf_conn_kick(struct nf_conn *conn);
/* Stop the worker, end every grant and the channel, free conn; its
 * statistics are added to *total. */
void nf_conn_stop(struct nf_conn *conn, struct nf_stats *total);
/* The worker's side of a failure: record why, wake the main thread. */
void nf_conn_fail(struct nf_conn *conn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Log a complaint the first time it happens on this connection. */
void nf_conn_complain(struct nf_conn *conn, enum nf_complaint what,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Notify the backend; a closed channel fails the connection. */
void nf_conn_notify(struct nf_conn *conn);

static inline uint8_t *nf_tx_page(const struct nf_conn *c, unsigned id)
{
	return c->tx_pages + (size_t)id * NETIF_PAGE_BYTES;
}

static inline uint8_t *nf_rx_page(const struct nf_conn *c, unsigned slot)
{
	return c->rx_pages + (size_t)slot * NETIF_PAGE_BYTES;
}

/* ---- tx.c: TAP -> TX ring ---- */

/* Reap TX responses (ids back to the pool). Returns how many, or -1 when
 * the connection failed. */
int nf_tx_reap(struct nf_conn *c);
/* Read up to a batch of frames from the TAP onto the ring, push, notify.
 * Returns frames sent, or -1 when the connection failed. */
int nf_tx_from_tap(struct nf_conn *c);

/* ---- rx.c: RX ring -> TAP ---- */

/* Post every free RX buffer (at connect and after each batch). */
void nf_rx_post(struct nf_conn *c);
/* Take RX responses, write complete packets to the TAP, repost. Returns
 * packets handled, or -1 when the connection failed. */
int nf_rx_process(struct nf_conn *c);

#endif
