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

#define NETIF_STATS_MAGIC   0x70766e73u /* "pvns" */
#define NETIF_STATS_VERSION 1u

enum netif_rx_drop {
	NETIF_RX_DROP_NO_BUFFERS, /* the frontend posted too few RX buffers */
	NETIF_RX_DROP_TOO_BIG,	  /* more slots than the features allow */
	NETIF_RX_DROP_CSUM,  /* blank checksum on a frame nothing can fill */
	NETIF_RX_DROP_GRANT, /* grant copy into a posted buffer failed */
	NETIF_RX_DROP_COUNT
};

/*
 * The file's layout. Counters only grow; a reader takes each with a
 * relaxed atomic load (__atomic_load_n) and may see one counter a batch
 * ahead of another.
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
	 * TAP frame) for gso_size-byte segments on the wire. */
	uint64_t tx_gso_packets; /* GSO packets taken from the TX ring */
	uint64_t rx_gso_packets; /* GSO packets put on the RX ring */
	uint64_t rx_csum_filled; /* blank checksums filled for a frontend
				    that takes none of their kind */
};

/* tests/integration/netback.sh reads the flag at this offset. */
_Static_assert(offsetof(struct netif_vif_stats, disabled) == 224,
	       "the statistics file's older fields keep their offsets");

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
