/*
 * Per-vif statistics that the kernel cannot see: pvio-netback keeps them in
 * a small file it maps (one per vif, updated in place by the vif's worker
 * with no system call), and `pvio network-stats` reads it. Directions are
 * the guest's: tx is guest to bridge, rx bridge to guest.
 */
#ifndef PVIO_NETIF_STATS_H
#define PVIO_NETIF_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netif.h"

#define NETIF_STATS_MAGIC 0x70766e73u /* "pvns" */
/* 2: per-queue counters (nr_queues, queue[]) appended after the fields of
 * version 1 (whose last are the offload counters). */
#define NETIF_STATS_VERSION 2u

enum netif_rx_drop {
	NETIF_RX_DROP_NO_BUFFERS, /* the frontend posted too few RX buffers */
	NETIF_RX_DROP_TOO_BIG,	  /* more slots than the features allow */
	NETIF_RX_DROP_CSUM,  /* blank checksum on a frame nothing can fill */
	NETIF_RX_DROP_GRANT, /* grant copy into a posted buffer failed */
	NETIF_RX_DROP_COUNT
};

/* One queue's share of the traffic: where the kernel's flow steering and
 * the frontend put packets. */
struct netif_queue_stats {
	uint64_t tx_packets; /* written to the vif TAP from this queue */
	uint64_t rx_packets; /* delivered to the frontend on this queue */
};

/*
 * The file's layout. Counters only grow; a reader takes each with a
 * relaxed atomic load (__atomic_load_n) and may see one counter a batch
 * ahead of another. Fields are only ever appended, so that a reader of
 * the older ones keeps their offsets.
 */
struct netif_vif_stats {
	uint32_t magic;	  /* NETIF_STATS_MAGIC */
	uint32_t version; /* NETIF_STATS_VERSION */
	uint32_t domid;
	uint32_t devid;
	uint64_t tx_packets, tx_bytes; /* written to the vif TAP */
	uint64_t rx_packets, rx_bytes; /* delivered to the frontend */
	uint64_t tx_drops[NETIF_TX_REASON_COUNT]; /* by netif_tx_reason */
	uint64_t tx_grant_errors; /* grant copies from the frontend that failed
				   */
	uint64_t tx_tap_errors;	  /* frames the vif TAP refused */
	uint64_t rx_drops[NETIF_RX_DROP_COUNT];
	uint64_t tx_batches;   /* TX ring batches processed */
	uint64_t rx_batches;   /* RX ring batches published */
	uint64_t rx_ring_full; /* times a frame waited for RX buffers */
	uint64_t notify_sent;  /* event-channel notifications to the frontend */
	uint64_t notify_received; /* wake-ups from the frontend */
	uint64_t syscalls;	  /* system calls on the data path */
	uint64_t disabled;	  /* 1 once the vif was disabled as hostile */
	/* Appended (older fields keep their offsets): segmentation and
	 * checksum offload at work. A GSO packet is one ring packet (and one
	 * TAP frame) for gso_size-byte segments on the wire. Version 1 files
	 * may end before these (an older pvio-netback): they read as 0. */
	uint64_t tx_gso_packets; /* GSO packets taken from the TX ring */
	uint64_t rx_gso_packets; /* GSO packets put on the RX ring */
	uint64_t rx_csum_filled; /* blank checksums filled for a frontend
				    that takes none of their kind */
	/* Version 2. Queues of the current (or last) connection; the
	 * counters of queue N stay across reconnects. */
	uint64_t nr_queues;
	struct netif_queue_stats queue[NETIF_QUEUES_MAX];
	/* Appended within version 2 (a reader checks the file's size):
	 * persistent grants at work. */
	uint64_t tx_mapped_packets; /* written to the TAP from the frontend's
				       mapped pages, only the head copied */
	uint64_t tx_maps;	    /* TX pages mapped (and kept) */
	uint64_t rx_mapped_packets; /* read from the TAP straight into the
				       frontend's mapped RX pages */
	uint64_t rx_maps;	    /* RX pages mapped (and kept) */
};

/* tests/integration/netback.sh reads the flag at this offset. */
_Static_assert(offsetof(struct netif_vif_stats, disabled) == 224,
	       "the statistics file's older fields keep their offsets");
/* tests/integration/net-offload.sh and net-mq.sh read these. */
_Static_assert(offsetof(struct netif_vif_stats, tx_gso_packets) == 232 &&
		       offsetof(struct netif_vif_stats, rx_csum_filled) == 248,
	       "version 1's appended counters keep their offsets");
_Static_assert(offsetof(struct netif_vif_stats, nr_queues) == 256 &&
		       offsetof(struct netif_vif_stats, queue) == 264,
	       "version 2's queue counters follow version 1's fields");
/* Appended within version 2: an older version-2 file ends before them
 * (`pvio network-stats` reads them as 0). */
_Static_assert(offsetof(struct netif_vif_stats, tx_mapped_packets) == 520 &&
		       offsetof(struct netif_vif_stats, tx_maps) == 528 &&
		       offsetof(struct netif_vif_stats, rx_mapped_packets) ==
			       536 &&
		       offsetof(struct netif_vif_stats, rx_maps) == 544,
	       "the persistent-grant counters follow the queue counters");

const char *netif_rx_drop_str(enum netif_rx_drop drop);

/*
 * Where the statistics of vif <domid>.<devid> live: <rundir>/netback/
 * vif<domid>.<devid>.stats (by devid, whatever vifname says). The one place
 * that spells the path: pvio-netback creates it, `pvio network-stats` reads
 * it. Returns snprintf's result.
 */
static inline int netif_stats_path(char *buf, size_t size, const char *rundir,
				   unsigned domid, unsigned devid)
{
	return snprintf(buf, size, "%s/netback/vif%u.%u.stats", rundir, domid,
			devid);
}

#endif
