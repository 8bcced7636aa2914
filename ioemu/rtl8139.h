/*
 * The Realtek RTL8139C at register level, pure, as e1000.h is for the
 * 82540EM: the I/O BAR's byte, word and dword registers, the four TX
 * descriptors (TSD/TSAD), the RX ring buffer at RBSTART with its 4-byte
 * packet headers and CAPR/CBR, IMR/ISR, and the 93C46 through 9346CR.
 */
#ifndef PVIO_IOEMU_RTL8139_H
#define PVIO_IOEMU_RTL8139_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e1000.h" /* struct e1000_host, e1000_faults: the same callbacks */
#include "eeprom_93c46.h"
#include "guest_mem.h"
#include "rtl8139_regs.h"

struct rtl8139 {
	struct e1000_host host;
	const struct ioemu_mem *mem;
	struct eeprom_93c46 eeprom;
	uint8_t regs[RTL_REGS]; /* the plain ones, little-endian */
	uint32_t tsd[RTL_NR_TX], tsad[RTL_NR_TX];
	uint32_t rbstart, rcr, tcr, mpc;
	uint16_t capr, cbr, imr, isr;
	uint8_t cr, cfg9346;
	bool line_high;
	uint8_t tx_frame[RTL_TX_MAX];
	struct e1000_faults faults;
	uint64_t rx_delivered, rx_delivered_bytes; /* as struct e1000's */
};

void rtl8139_init(struct rtl8139 *d, const uint8_t mac[6],
		  const struct ioemu_mem *mem, const struct e1000_host *host);
void rtl8139_reset(struct rtl8139 *d);

/* An access at offset of the I/O BAR (1, 2 or 4 bytes). */
uint32_t rtl8139_io_read(struct rtl8139 *d, uint32_t offset, unsigned size);
void rtl8139_io_write(struct rtl8139 *d, uint32_t offset, unsigned size,
		      uint32_t value);

bool rtl8139_can_receive(const struct rtl8139 *d);
/* As e1000_receive: 1 delivered or dropped, 0 no room in the ring yet. */
int rtl8139_receive(struct rtl8139 *d, const uint8_t *frame, size_t len);

/* The RX ring buffer's size (RCR.RBLEN: 8, 16, 32 or 64 KiB). */
uint32_t rtl8139_rx_ring_bytes(const struct rtl8139 *d);

/* EEPROM words: the ID, the MAC in words 7-9. */
void rtl8139_eeprom_build(uint16_t words[EEPROM_93C46_WORDS],
			  const uint8_t mac[6]);

#endif
