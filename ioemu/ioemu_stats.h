/*
 * What a device model counts for `pvio network-stats`: a file it creates
 * at <rundir>/ioemu/vif<D>.<N>-emu.stats, maps and updates in place (one
 * writer, no system call), and removes when it exits. Readers load each
 * counter atomically and check magic, version and size. Header only: the
 * toolstack reads it without linking ioemu/.
 */
#ifndef PVIO_IOEMU_STATS_H
#define PVIO_IOEMU_STATS_H

#include <stdint.h>

#define IOEMU_STATS_MAGIC   0x50494f45u /* "PIOE" */
#define IOEMU_STATS_VERSION 1u
/* printf format: run directory, domid, devid. */
#define IOEMU_STATS_DIR "%s/ioemu"
#define IOEMU_STATS_FMT "%s/ioemu/vif%u.%u-emu.stats"

struct ioemu_nic_stats {
	uint32_t magic, version, size;
	uint32_t domid, devid;
	char model[12];
	/* Directions are the guest's: tx is guest to bridge. */
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
	uint64_t ioreqs;     /* trapped register accesses served */
	uint64_t interrupts; /* interrupts raised (after ITR) */
	/* Guest mistakes the model absorbed (struct e1000_faults). */
	uint64_t bad_access, bad_dma, bad_ring, tx_oversize, tx_unsupported;
};

#endif
