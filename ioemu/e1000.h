/*
 * The Intel 82540EM at register level, pure: register reads and writes
 * as the MMIO BAR sees them, the legacy descriptor rings in guest memory,
 * and frames in and out through callbacks. No I/O of its own, so that the
 * unit tests and the fuzzer drive it directly; the device model
 * (dm_main.c) wires it to the ioreq server, the TAP and the interrupt's
 * event channel. docs/ioemu.md lists what is emulated and what is not.
 */
#ifndef PVIO_IOEMU_E1000_H
#define PVIO_IOEMU_E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e1000_regs.h"
#include "eeprom_93c46.h"
#include "guest_mem.h"

/* The largest frame the TX path assembles (the 82540EM's TX FIFO). */
#define E1K_TX_MAX_FRAME 16384u

struct e1000_host {
	void *opaque;
	/* A frame the guest sent (without FCS). */
	void (*transmit)(void *opaque, const uint8_t *frame, size_t len);
	/* The interrupt line rose (after throttling): notify the guest. */
	void (*interrupt)(void *opaque);
	/* Monotonic nanoseconds, for ITR. */
	uint64_t (*now_ns)(void *opaque);
};

/* What the model counts beyond the datasheet's statistics (for logs and
 * tests): guest mistakes it absorbed. */
struct e1000_faults {
	uint64_t bad_access;  /* unaligned, odd size, outside the BAR */
	uint64_t bad_dma;     /* a descriptor or buffer outside guest memory */
	uint64_t bad_ring;    /* head/tail beyond the ring, ring too small */
	uint64_t tx_oversize; /* a TX frame beyond E1K_TX_MAX_FRAME */
	uint64_t tx_unsupported; /* TSE or an unknown extended descriptor */
};

struct e1000 {
	struct e1000_host host;
	const struct ioemu_mem *mem;
	uint16_t eeprom[E1K_EEPROM_WORDS];
	struct eeprom_93c46 ee; /* the same words behind EECD's pins */
	uint16_t phy[32];
	uint32_t ctrl, status, eecd, eerd, ctrl_ext, mdic;
	uint32_t icr, ims, itr;
	uint32_t rctl, rdbal, rdbah, rdlen, rdh, rdt, rdtr;
	uint32_t tctl, tipg, tdbal, tdbah, tdlen, tdh, tdt, tidv;
	uint32_t mta[E1K_MTA_REGS];
	uint32_t ra[E1K_RA_PAIRS * 2];
	uint32_t stats[(E1K_STATS_END - E1K_STATS_BASE) / 4];
	uint32_t ioaddr; /* the I/O BAR's IOADDR */
	/* Interrupt line and its throttle (ITR, 256 ns units). */
	bool line_high, throttled;
	uint64_t last_irq_ns;
	/* The frame the TX descriptors assemble. */
	uint8_t tx_frame[E1K_TX_MAX_FRAME];
	size_t tx_len;
	bool tx_bad; /* the frame being assembled is dropped at EOP */
	struct e1000_faults faults;
	/* Frames handed to the guest whole (for network-stats). */
	uint64_t rx_delivered, rx_delivered_bytes;
};

/* Power-on: the EEPROM from mac (with its checksum), then a reset. */
void e1000_init(struct e1000 *d, const uint8_t mac[6],
		const struct ioemu_mem *mem, const struct e1000_host *host);
/* The reset CTRL.RST does: every register to its reset value, RAL0/RAH0
 * loaded from the EEPROM. */
void e1000_reset(struct e1000 *d);

/* An access at offset of the MMIO BAR (size 1, 2 or 4; others and
 * unaligned dwords are absorbed: reads give all ones). */
uint32_t e1000_mmio_read(struct e1000 *d, uint32_t offset, unsigned size);
void e1000_mmio_write(struct e1000 *d, uint32_t offset, unsigned size,
		      uint32_t value);
/* The I/O BAR: IOADDR selects a register, IODATA reads or writes it. */
uint32_t e1000_pio_read(struct e1000 *d, uint32_t offset, unsigned size);
void e1000_pio_write(struct e1000 *d, uint32_t offset, unsigned size,
		     uint32_t value);

/* The receiver is enabled and has at least one descriptor. */
bool e1000_can_receive(const struct e1000 *d);
/*
 * A frame from the wire (without FCS): 1 when it was delivered or dropped
 * as the device drops it (filters, size, bad descriptor), 0 when the
 * descriptors it needs are not there yet (keep it and offer it again
 * after the next RDT write, as the FIFO holds it).
 */
int e1000_receive(struct e1000 *d, const uint8_t *frame, size_t len);

/* Nanoseconds until a throttled interrupt is due (UINT64_MAX: none), and
 * the timer that delivers it. */
uint64_t e1000_irq_due_in_ns(const struct e1000 *d, uint64_t now);
void e1000_timer(struct e1000 *d);

/* EEPROM words 0..0x3e with the checksum word making them sum to 0xBABA. */
void e1000_eeprom_build(uint16_t eeprom[E1K_EEPROM_WORDS],
			const uint8_t mac[6]);

#endif
