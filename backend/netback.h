/*
 * pvio-netback: the dom0 side of the Xen netif protocol. One daemon serves
 * every vif of every guest; what its files share lives here.
 *
 * Threads: the main thread does xenstore only (main.c, xenbus.c: watches
 * and the per-device state machine) and owns every struct vif. A pool of
 * worker threads (worker.c) runs the data path: each queue of a connected
 * vif (one ring pair, its event channel or two, its own descriptor of the
 * multi-queue TAP) is served by one of them, with its own grant and
 * event-channel handles, moving packets between the rings and the TAP
 * (tx.c: guest to TAP, rx.c: TAP to guest); workers never touch xenstore.
 */
#ifndef PVIO_NETBACK_H
#define PVIO_NETBACK_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "credit.h"
#include "netif/netif.h"
#include "netif/netif_stats.h"
#include "pvio_evtchn.h"
#include "pvio_gnt.h"
#include "pvio_ring.h"
#include "util/pvio_log.h"
#include "xenstore/xenbus.h"

#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#define NETBACK_PATH_MAX 256

/* Ring slots on one 4 KiB page (xen/io/netif.h, PROTOCOL.md). */
#define NETBACK_TX_RING_SLOTS                                                  \
	PVIO_RING_SLOTS(NETIF_PAGE_BYTES, sizeof(union netif_tx_sring_entry))
#define NETBACK_RX_RING_SLOTS                                                  \
	PVIO_RING_SLOTS(NETIF_PAGE_BYTES, sizeof(union netif_rx_sring_entry))

/* The largest TX frame: a TX packet's size is 16 bits (a GSO packet's
 * too, as in Linux netback). */
#define NETBACK_MAX_FRAME 65535u
/* The largest RX frame: the slots a packet may take, a page each (with
 * TSO set on the TAP, GSO frames of up to 64 KiB and their headers). */
#define NETBACK_RX_MAX_FRAME (XEN_NETIF_NR_SLOTS_MIN * NETIF_PAGE_BYTES)

/* Frames read from the TAP per RX batch, at most. */
#define NETBACK_RX_BATCH 64u
/* Persistent grants (grants.c): at most this many of a frontend's pages
 * mapped per queue and direction (pvio-netfront uses a ring's worth, 256;
 * Linux's does not ask), in a table twice as big. A frontend that names
 * more grants gets the rest copied. */
#define NETBACK_MAPS_MAX  512u
#define NETBACK_MAP_SLOTS 1024u
/* The bytes of a mapped TX packet netback copies and validates its
 * headers in (Ethernet, VLAN, IPv4 or IPv6 with options, TCP with
 * options); a packet whose headers go past them is copied whole. */
#define NETBACK_TX_HEAD_BYTES 256u
/* TAP write iovec entries of one TX packet: its virtio-net header, the
 * copied head and the rest of every data slot. */
#define NETBACK_TX_IOV_MAX (2u + XEN_NETIF_NR_SLOTS_MIN)

/* Default busy-poll after activity (--busy-poll), microseconds, where the
 * process may run on more CPUs than it has workers (else none: spinning
 * workers on every CPU would hold the ones the frontends need). About one
 * request/response round trip through two guests, so that the next
 * request finds the worker still looking: on the two-CPU test machine the
 * ping-pong p50 went from 1.87x the relay's without polling to 1.44x with
 * 30 us and 0.8x with 60 or 100 us (docs/performance.md). */
#define NETBACK_BUSY_POLL_US_DEFAULT 100u
/* --workers, at most. */
#define NETBACK_WORKERS_MAX 64u

/* What this pvio-netback offers (xenbus.c: set from the options before
 * the first vif, read-only after): what it takes on the TX ring. */
extern struct netif_features netback_offer;

/* ---- logging (log.c) ---- */

extern bool netback_verbose;

/* One line "pvio-netback: <text>\n" on stderr, written at once (workers
 * log from their own threads). */
void nb_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void nb_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct vif;
/*
 * A line about vif that its guest can cause, "vifD.N: <text>": at most
 * PVIO_LOG_LIMIT_LINES per PVIO_LOG_LIMIT_WINDOW_S seconds per vif
 * (util/pvio_log.h; callers add their own once-per-reason limits), then
 * one line saying the rest is suppressed. Any thread.
 */
void vif_log(struct vif *vif, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- statistics (stats.c) ---- */

/* Maps <rundir>/netback/vif<D>.<N>.stats, fresh; NULL on failure (logged). */
struct netif_vif_stats *stats_create(const char *rundir, unsigned domid,
				     unsigned devid, char *path,
				     size_t path_size);
void stats_destroy(struct netif_vif_stats *stats, const char *path);

/* A vif's counters have one writer per queue (its worker), and a vif's
 * queues may be served by different workers: an atomic add (relaxed), so
 * that none is lost and a reader never sees a torn value. */
static inline void stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* ---- one vif ---- */

/* Why a worker stopped on its own (set before it signals the main thread). */
enum vif_worker_exit {
	VIF_WORKER_RUNNING = 0,
	VIF_WORKER_STOPPED,   /* asked to (vif_disconnect) */
	VIF_WORKER_DISABLED,  /* the frontend broke the protocol */
	VIF_WORKER_PEER_GONE, /* the frontend closed its channel or died */
	VIF_WORKER_FAILED,    /* a local failure (epoll, TAP) */
};

/* TX: what one batch keeps per packet until its responses are written. */
struct tx_slot_state {
	struct netif_tx_packet pkt;
	unsigned first_req;	     /* index of its first request in tx.reqs */
	uint32_t data_off;	     /* where its data lies in tx.staging */
	unsigned first_seg, nr_segs; /* its grant copy segments */
	int16_t status;		     /* the response status */
	bool forward;		     /* write it to the TAP */
	/* Written from the frontend's mapped pages (pages[i]: frag i's),
	 * only its head copied into staging at data_off. */
	bool mapped;
	uint32_t head_len;
	uint8_t *pages[XEN_NETIF_NR_SLOTS_MIN];
};

/* One kept mapping of a frontend's page. */
struct nb_mapping {
	grant_ref_t ref;
	uint8_t *page; /* NULL: a free slot of the table */
};

/* A queue's kept mappings of one direction's pages (open addressing on
 * the reference), all read-only or all writable. */
struct nb_map_cache {
	struct nb_mapping maps[NETBACK_MAP_SLOTS];
	unsigned nr;
	bool writable;
	bool logged;	   /* a refused map was logged */
	uint64_t *counter; /* in the statistics file: pages mapped */
	const char *what;  /* "TX" or "RX", in messages */
};

/* RX: one frame read from the TAP and waiting for (or given) buffers. */
struct rx_frame {
	uint8_t *data;
	uint32_t len;
	struct netif_rx_meta meta;
	unsigned first_req; /* its requests in rx.reqs */
	unsigned first_seg; /* its segments in rx.segs */
	unsigned nr_slots;
};

/* What a worker's epoll event names: a queue's channel or TAP, or the
 * worker's own mailbox (q NULL). */
enum nb_event_kind { NB_EV_CTL, NB_EV_EVTCHN, NB_EV_TAP, NB_EV_CREDIT };
struct vif_queue;
struct nb_poll_tag {
	struct vif_queue *q;
	enum nb_event_kind kind;
};

/* One queue of a vif: from the main thread's vif_connect to its
 * vif_disconnect. The data path's state is its worker's alone. */
struct vif_queue {
	struct vif *vif;
	unsigned index; /* queue-<index>/ */
	char label[24]; /* "queue <index>: " in messages */
	int tap_fd;	/* this queue's descriptor of the TAP */
	struct netif_queue_stats *stats; /* in the vif's statistics file */
	struct nb_worker *worker;	 /* serving it (main thread's) */
	struct vif_queue *worker_next; /* in its worker's list (the worker's) */

	struct pvio_gnttab *gnttab;
	struct pvio_evtchn *evtchn;
	/* Local ports bound to the frontend's: TX requests and responses
	 * on port_tx, RX on port_rx (the same port unless split). */
	evtchn_port_t port_tx, port_rx;
	void *tx_area, *rx_area;
	struct pvio_back_ring tx_ring, rx_ring;
	struct nb_poll_tag tag_evtchn, tag_tap; /* in the worker's epoll set */
	struct nb_poll_tag
		tag_credit;	 /* its credit timer (tx.credit_timer_fd) */
	bool peer_check_due;	 /* woken since the last check */
	int64_t peer_checked_ns; /* CLOCK_MONOTONIC */
	bool tap_polled;	 /* the TAP is in the epoll set for reading */
	bool tap_readable;   /* it may have frames (until a read says EAGAIN) */
	bool need_notify;    /* RX responses were pushed, the frontend asked */
	bool need_notify_tx; /* TX responses were pushed, the frontend asked */

	struct {
		netif_tx_request_t
			reqs[NETBACK_TX_RING_SLOTS + NETIF_TX_MAX_PACKET_SLOTS];
		unsigned nr_reqs; /* taken, first nr_reqs of reqs */
		struct tx_slot_state pkts[NETBACK_TX_RING_SLOTS];
		pvio_gnt_copy_seg_t segs[NETBACK_TX_RING_SLOTS];
		netif_tx_response_t rsps[NETBACK_TX_RING_SLOTS];
		struct virtio_net_hdr vnet[NETBACK_TX_RING_SLOTS];
		struct iovec iov[NETBACK_TX_RING_SLOTS][NETBACK_TX_IOV_MAX];
		unsigned niov[NETBACK_TX_RING_SLOTS];
		unsigned ready[NETBACK_TX_RING_SLOTS]; /* packets to write */
		/* Persistent grants negotiated: the frontend's TX pages are
		 * mapped once and kept until the queue stops. */
		bool persistent;
		struct nb_map_cache maps;
#ifdef HAVE_LIBURING
		struct io_uring uring; /* batches the TAP writes */
		bool uring_ok;
#endif
		uint8_t *staging; /* grant-copy target, one ring's data */
		size_t staging_size;
		unsigned logged_reasons; /* bit per netif_tx_reason */
		bool logged_grant, logged_tap, logged_csum;
		/* The rate limit (credit.h): a packet the credit did not
		 * cover waits, with the rest, in reqs or on the ring, until
		 * credit_retry_us, when credit_timer_fd (armed only then)
		 * fires. */
		struct credit credit;
		int credit_timer_fd;
		bool credit_held;
		int64_t credit_retry_us; /* CLOCK_MONOTONIC */
		unsigned rate_gen_seen;	 /* vif->rate_gen applied */
	} tx;

	struct {
		netif_rx_request_t reqs[NETBACK_RX_RING_SLOTS];
		unsigned nr_reqs, used_reqs; /* taken / given to frames */
		struct rx_frame frames[NETBACK_RX_BATCH];
		unsigned nr_frames;
		pvio_gnt_copy_seg_t segs[NETBACK_RX_RING_SLOTS];
		netif_rx_response_t rsps[NETBACK_RX_RING_SLOTS];
		struct virtio_net_hdr vnet[NETBACK_RX_BATCH];
		struct iovec iov[NETBACK_RX_BATCH][2];
#ifdef HAVE_LIBURING
		struct io_uring uring; /* batches the TAP reads */
		bool uring_ok;
#endif
		uint32_t read_len; /* frame bytes one batched read takes */
		/* Reads one batch submits: a read of an empty TAP costs
		 * about what a frame's does, so the batch follows what the
		 * last one found (one more than its frames, doubled when
		 * every read found one). */
		unsigned read_batch;
		uint8_t *arena; /* frames read from the TAP, packed */
		size_t arena_size, arena_used;
		/* Frames read and not delivered yet, frames[0..]: those the
		 * ring had too few buffers for wait, and the TAP is not
		 * read until they go. */
		unsigned nr_pending;
		bool waiting; /* frames wait for buffers (rx_ring_full) */
		/* Persistent grants negotiated: frames are read straight
		 * into the frontend's posted pages, mapped once and kept
		 * until the queue stops (rx_direct). */
		bool persistent;
		struct nb_map_cache maps;
		/* Read straight into the pages while the frames are larger
		 * than a page: a small frame's copy costs less than the
		 * batched reads it would give up (one readv per frame and
		 * one more that finds the TAP empty). */
		bool direct;
		bool logged_grant, logged_csum, logged_big;
	} rx;
};

struct vif {
	struct vif *next;
	unsigned domid, devid;
	char name[24];		       /* vifD.N: logs and the TAP */
	char be_dir[NETBACK_PATH_MAX]; /* /local/domain/0/backend/vif/D/N */
	char fe_dir[NETBACK_PATH_MAX]; /* from the backend's frontend key */
	char fe_state_path[NETBACK_PATH_MAX + 8];
	struct pvio_xenbus_watch *fe_watch;
	int tap_fd;
	struct netif_vif_stats *stats;
	char stats_path[NETBACK_PATH_MAX];

	/* State machine (main thread). */
	enum xenbus_state fe_state_seen; /* the last frontend state handled */
	bool connected; /* a worker runs (or ran and has not been joined) */
	bool broken;	/* disabled: ignore the frontend until 1 or 6 */
	bool wait_fe_change;	/* a connect failed, or the peer went: wait for
				   the frontend's next state */
	bool fe_watch_primed;	/* the frontend watch's first event came */
	bool run_hotplug;	/* taken up after a restart: run the script */
	bool failed;		/* could not be created: never retried */
	char last_refusal[320]; /* the last connect failure logged */
	bool quiet_refusal;	/* the frontend went: its stale keys may fail
				   to connect, unlogged */

	/* Connection and workers. */
	struct netif_frontend_conn conn;
	int main_wake_fd; /* shared eventfd: a worker stopped on its own */
	/* enum vif_worker_exit, atomic: one for every queue, so that a
	 * protocol violation on one queue stops them all (as Linux
	 * disables the whole vif). */
	int exit_reason;
	/* vif_log's budget. */
	pthread_mutex_t log_lock;
	struct pvio_log_limit log_limit;

	/* The last pass of worker i in which one of its queues of this vif
	 * wrote to the TAP (worker i's slot: its own to write). */
	uint64_t wrote_in_pass[NETBACK_WORKERS_MAX];
	/* Allocated at connect, freed at disconnect: conn.nr_queues. */
	struct vif_queue *queues;
	unsigned nr_queues;

	/* The `rate` node (xenbus.c): the main thread sets the limit under
	 * rate_lock and moves rate_gen (atomic); each queue's worker takes
	 * it when rate_gen moved past what that queue applied. Each queue
	 * has its own credit at the full rate, as Linux's netback keeps it
	 * (docs/netif-backend.md). bytes 0: not limited. */
	pthread_mutex_t rate_lock;
	uint64_t rate_bytes, rate_usecs;
	unsigned rate_gen;
	char rate_value[64]; /* the node's last value seen (main thread) */
};

/* vif.c */
struct vif *vif_create(unsigned domid, unsigned devid, const char *be_dir,
		       const char *fe_dir, const char *rundir,
		       int main_wake_fd);
/* Gives each queue to a worker and waits for them to map, bind and
 * report. Returns 0, or -errno with msg saying what failed (the frontend
 * stays as it was, every queue set up so far taken back). */
int vif_connect(struct vif *vif, const struct netif_frontend_conn *conn,
		char *msg, size_t msg_size);
/* Takes the queues back from their workers: rings unmapped, channels
 * unbound, the extra TAP queues closed, queued frames dropped. Returns
 * the workers' exit reason. */
enum vif_worker_exit vif_disconnect(struct vif *vif);
/* The worker's exit reason without waiting (RUNNING while it runs). */
enum vif_worker_exit vif_worker_state(struct vif *vif);
/* Disconnects, closes the TAP (which deletes it), removes the stats. */
void vif_destroy(struct vif *vif);

/* Worker side (vif.c): the queue's setup (map, bind, buffers) and
 * teardown, in the worker that serves it. */
int vif_queue_setup(struct vif_queue *q, char *msg, size_t msg_size);
void vif_queue_teardown(struct vif_queue *q);

/* Worker-side helpers (vif.c): shared by tx.c and rx.c. */
void vif_set_exit(struct vif *vif, enum vif_worker_exit why);
/* Notifies the frontend on port (q->port_tx or q->port_rx); false when it
 * is gone (the worker must stop). */
bool vif_notify(struct vif_queue *q, evtchn_port_t port);

/* tx.c: the rate limit. tx_credit_waits: a packet waits for credit (the
 * worker then leaves the TX ring alone); tx_credit_timer: the timer
 * fired. */
bool tx_credit_waits(const struct vif_queue *q);
void tx_credit_timer(struct vif_queue *q);

/* tx.c: one pass over the TX ring. Returns the packets handled, or -1
 * when the vif was disabled or must stop. */
int tx_process(struct vif_queue *q);

/* grants.c: kept mappings of a frontend's pages (persistent grants). */
void map_cache_init(struct nb_map_cache *c, bool writable, uint64_t *counter,
		    const char *what);
/* The kept mapping of page ref, made on first use; NULL when it cannot
 * be mapped (not granted to us, or the table is full): the caller then
 * grant-copies, which reports what was wrong. */
uint8_t *map_cache_get(struct vif_queue *q, struct nb_map_cache *c,
		       grant_ref_t ref);
/* Ends every mapping (the frontend may then end its grants). */
void map_cache_clear(struct vif_queue *q, struct nb_map_cache *c);
int tx_init(struct vif_queue *q);
void tx_fini(struct vif_queue *q);

/* rx.c: one pass from the TAP to the RX ring. Returns frames delivered,
 * or -1 when the vif was disabled or must stop. */
int rx_process(struct vif_queue *q);
/* True when the RX path wants the TAP polled (buffers are posted). */
bool rx_wants_tap(struct vif_queue *q);
int rx_init(struct vif_queue *q);
/* Sizes the batched reads for the TAP's MTU (at connect, and when a frame
 * filled its read). */
void rx_size_reads(struct vif_queue *q);
/* TUNSETOFFLOAD on the TAP for what the frontend takes (its feature
 * keys): TSO only when it takes GSO. Once per connection, for every queue
 * (the offloads are the device's), before the queues are set up. */
void rx_set_offload(struct vif *vif);
void rx_fini(struct vif_queue *q);

/* The disable path (vif.c): log once with the values, stats, exit. */
void vif_disable(struct vif *vif, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Disable for a ring whose request index the ring helpers refused (more
 * than a ring ahead, or backwards); which: "TX" or "RX". */
void vif_disable_ring(struct vif_queue *q, const char *which,
		      const struct pvio_back_ring *ring);

/* ---- worker.c: the pool of data-path threads ---- */

struct nb_worker;
/* Defaults for --workers and --busy-poll, from the CPUs the process may
 * run on (the latter for that many workers), and for --max-queues: one
 * queue per CPU, as Linux netback (at most NETIF_QUEUES_MAX). */
unsigned workers_default_count(void);
unsigned workers_default_max_queues(void);
unsigned workers_default_busy_poll_us(unsigned nr_workers);
int workers_start(unsigned count, unsigned busy_poll_us);
/* After every queue was detached. */
void workers_stop(void);
/* The least-loaded worker takes q (its vif's conn set) and sets it up; 0
 * or -errno with msg. */
int worker_attach(struct vif_queue *q, char *msg, size_t msg_size);
/* Its worker stops serving it (if it had not stopped on its own). */
void worker_detach(struct vif_queue *q);
/* Wakes the workers serving vif's queues (if connected) to look at them:
 * a new rate limit to apply. */
void worker_kick(struct vif *vif);

/* ---- xenbus.c: the state machine ---- */

struct netback;
int xenbus_start(struct netback *nb);
void xenbus_workers_changed(struct netback *nb);
void xenbus_shutdown(struct netback *nb);

/* hotplug.c: runs the vif's hotplug script as the toolstack would. */
int hotplug_run(struct pvio_xenbus *xb, const struct vif *vif,
		const char *action);

struct netback {
	struct pvio_xenbus *xb;
	struct vif *vifs;
	const char *rundir;
	int wake_fd; /* eventfd the workers write when they stop */
	struct pvio_xenbus_watch *be_watch, *release_watch;
	bool started; /* the initial scan is done */
	/* Offered: multi-queue-max-queues (--max-queues), and
	 * feature-split-event-channels (off with --no-split-event-channels). */
	unsigned max_queues;
	bool split_evtchn;
};

#endif
