/* pvio-ioemu-nic's RTL8139 driver, in Linux 8139too's order: reset, MAC
 * from the 93C46 bit-banged through 9346CR (address width probed as
 * 8139too does), IDR, RX/TX enable before their configuration, the RX
 * ring buffer, the four TX descriptors; then per interrupt an ISR read
 * and ack, and per received packet the CR.BUFE read, the CAPR write and
 * the ISR acknowledgement that driver makes. */
#include "config.h"

#include "ioemu_layout.h"
#include "nic.h"
#include "pvio_tap.h"
#include "rtl8139_regs.h"

#include <string.h>

#define RX_LEN	    32768u /* RCR.RBLEN 10 */
#define RX_RING	    0x0u
#define RX_PAD	    (16u + 2048u) /* RCR.WRAP: packets run on past the end */
#define TX_BUFS	    0x10000u
#define TX_BUF	    2048u
#define RAM_NEEDED  (TX_BUFS + RTL_NR_TX * TX_BUF)
#define ETH_ZLEN    60u
#define RX_MAX_SIZE (1518u + 4u)
_Static_assert(RX_RING + RX_LEN + RX_PAD <= TX_BUFS, "RX ring and pad fit");
_Static_assert(RAM_NEEDED <= IOEMU_RAM_BYTES, "buffers fit");

/* 9346CR in EEPROM programming mode, chip select high. */
#define EE_ENB	    (RTL_9346_EEM_PROG << RTL_9346_EEM_SHIFT | RTL_9346_EECS)
#define EE_READ_CMD 6u /* start bit, opcode 10 */

static uint32_t in(struct nic *n, uint32_t reg, unsigned size)
{
	return nic_access(n, IOREQ_TYPE_PIO, IOEMU_RTL8139_PIO_BASE + reg, size,
			  IOREQ_READ, 0);
}

static void out(struct nic *n, uint32_t reg, unsigned size, uint32_t v)
{
	nic_access(n, IOREQ_TYPE_PIO, IOEMU_RTL8139_PIO_BASE + reg, size,
		   IOREQ_WRITE, v);
}

static uint16_t read_eeprom(struct nic *n, unsigned location, int addr_len)
{
	unsigned cmd = location | EE_READ_CMD << addr_len;
	out(n, RTL_9346CR, 1, EE_ENB & ~RTL_9346_EECS);
	out(n, RTL_9346CR, 1, EE_ENB);
	for (int i = 4 + addr_len; i >= 0; i--) {
		unsigned di = cmd & (1u << i) ? RTL_9346_EEDI : 0;
		out(n, RTL_9346CR, 1, EE_ENB | di);
		out(n, RTL_9346CR, 1, EE_ENB | di | RTL_9346_EESK);
	}
	out(n, RTL_9346CR, 1, EE_ENB);
	uint16_t v = 0;
	for (int i = 0; i < 16; i++) {
		out(n, RTL_9346CR, 1, EE_ENB | RTL_9346_EESK);
		v = (uint16_t)(v << 1 |
			       (in(n, RTL_9346CR, 1) & RTL_9346_EEDO ? 1 : 0));
		out(n, RTL_9346CR, 1, EE_ENB);
	}
	out(n, RTL_9346CR, 1, EE_ENB & ~RTL_9346_EECS);
	out(n, RTL_9346CR, 1, 0);
	return v;
}

static int chip_reset(struct nic *n)
{
	out(n, RTL_CR, 1, RTL_CR_RST);
	for (int i = 0; i < 1000 && !n->dead; i++)
		if (!(in(n, RTL_CR, 1) & RTL_CR_RST))
			return 0;
	pvio_log("eth%u: CR.RST did not clear", n->devid);
	return -1;
}

static int rtl_up(struct nic *n)
{
	if (chip_reset(n))
		return -1;
	uint32_t ver = in(n, RTL_TCR, 4) & RTL_TCR_HWVER_MASK;
	if (ver != RTL_TCR_HWVER_8139C)
		pvio_log("eth%u: TCR says hardware version 0x%08x, not an "
			 "RTL8139C; going on",
			 n->devid, ver);
	/* A 93C56 answers its ID to an 8-bit address, a 93C46 does not. */
	int addr_len = read_eeprom(n, 0, 8) == RTL_EEPROM_ID ? 8 : 6;
	if (read_eeprom(n, 0, addr_len) != RTL_EEPROM_ID) {
		pvio_log("eth%u: the EEPROM's ID is not 0x%04x", n->devid,
			 RTL_EEPROM_ID);
		return -1;
	}
	for (unsigned i = 0; i < 3; i++) {
		uint16_t w = read_eeprom(n, RTL_EEPROM_MAC_WORD + i, addr_len);
		n->mac[2 * i] = (uint8_t)w;
		n->mac[2 * i + 1] = (uint8_t)(w >> 8);
	}
	if (chip_reset(n))
		return -1;
	memset(nic_host(n, 0, RAM_NEEDED), 0, RAM_NEEDED);
	out(n, RTL_9346CR, 1, RTL_9346_EEM_CFG << RTL_9346_EEM_SHIFT);
	out(n, RTL_IDR0, 4,
	    (uint32_t)n->mac[0] | (uint32_t)n->mac[1] << 8 |
		    (uint32_t)n->mac[2] << 16 | (uint32_t)n->mac[3] << 24);
	out(n, RTL_IDR0 + 4, 4, (uint32_t)n->mac[4] | (uint32_t)n->mac[5] << 8);
	/* Enable first: the thresholds are taken once RE/TE are on. */
	out(n, RTL_CR, 1, RTL_CR_RE | RTL_CR_TE);
	out(n, RTL_RCR, 4,
	    RTL_RCR_AB | RTL_RCR_AM | RTL_RCR_APM | RTL_RCR_WRAP |
		    2u << RTL_RCR_RBLEN_SHIFT | 7u << 8 /* MXDMA */ |
		    7u << 13 /* RXFTH: whole packets */);
	out(n, RTL_TCR, 4, 6u << 8 /* MXDMA 1024 */ | 3u << 24 /* IFG */);
	out(n, RTL_9346CR, 1, 0);
	out(n, RTL_RBSTART, 4, (uint32_t)nic_gpa(RX_RING));
	for (unsigned i = 0; i < RTL_NR_TX; i++)
		out(n, RTL_TSAD0 + 4 * i, 4,
		    (uint32_t)nic_gpa(TX_BUFS + i * TX_BUF));
	out(n, RTL_MPC, 4, 0);
	/* Every multicast group: the stack joins ones the driver cannot
	 * see. */
	out(n, RTL_MAR0, 4, 0xffffffffu);
	out(n, RTL_MAR0 + 4, 4, 0xffffffffu);
	n->rx_next = n->tx_tail = n->tx_clean = 0;
	out(n, RTL_IMR, 2,
	    RTL_INT_ROK | RTL_INT_RER | RTL_INT_TOK | RTL_INT_TER |
		    RTL_INT_RXOVW | RTL_INT_FOVW | RTL_INT_LINKCHG |
		    RTL_INT_TIMEOUT | RTL_INT_SERR);
	return n->dead ? -1 : 0;
}

static bool tx_room(struct nic *n)
{
	return n->tx_tail - n->tx_clean < RTL_NR_TX;
}

/* One frame per descriptor, round robin; its TSD write starts it. */
static void tx_send(struct nic *n)
{
	while (tx_room(n) && !n->dead) {
		unsigned entry = n->tx_tail % RTL_NR_TX;
		uint32_t off = TX_BUFS + entry * TX_BUF;
		uint32_t len = nic_take(n, off, RTL_TX_MAX);
		if (!len)
			return;
		if (len < ETH_ZLEN) { /* the driver pads, not the chip */
			memset(nic_host(n, off + len, ETH_ZLEN - len), 0,
			       ETH_ZLEN - len);
			len = ETH_ZLEN;
		}
		out(n, RTL_TSD0 + 4 * entry, 4, len | 8u << 16 /* ERTXTH */);
		n->tx_tail++;
	}
}

static void tx_done(struct nic *n)
{
	while (n->tx_clean != n->tx_tail && !n->dead) {
		unsigned entry = n->tx_clean % RTL_NR_TX;
		uint32_t st = in(n, RTL_TSD0 + 4 * entry, 4);
		if (!(st & (RTL_TSD_TOK | RTL_TSD_TUN | RTL_TSD_TABT)))
			return;
		n->tx_clean++;
	}
}

static void rx(struct nic *n)
{
	for (unsigned budget = 0; budget < RX_LEN / 16 && !n->dead &&
				  !(in(n, RTL_CR, 1) & RTL_CR_BUFE);
	     budget++) {
		uint32_t at = n->rx_next % RX_LEN;
		const volatile uint8_t *h = nic_host(n, RX_RING + at, 4);
		uint16_t status = (uint16_t)(h[0] | h[1] << 8);
		uint16_t size = (uint16_t)(h[2] | h[3] << 8);
		if (!(status & RTL_RX_ROK) || size < 8 + 4 ||
		    size > RX_MAX_SIZE) {
			/* A header the chip would not write: start again
			 * where it writes now. */
			n->rx_dropped++;
			n->rx_next = in(n, RTL_CBR, 2);
			out(n, RTL_CAPR, 2, (uint16_t)(n->rx_next - 16));
			break;
		}
		nic_deliver(n, RX_RING + at + 4, size - 4u);
		n->rx_next = (n->rx_next + size + 4 + 3) & ~3u;
		out(n, RTL_CAPR, 2, (uint16_t)(n->rx_next - 16));
		uint32_t ack = in(n, RTL_ISR, 2) &
			       (RTL_INT_ROK | RTL_INT_RXOVW | RTL_INT_FOVW);
		if (ack)
			out(n, RTL_ISR, 2,
			    RTL_INT_ROK | RTL_INT_RXOVW | RTL_INT_FOVW);
	}
}

static bool link_up(struct nic *n)
{
	return !(in(n, RTL_MSR, 1) & RTL_MSR_LINKB);
}

static void on_interrupt(struct nic *n)
{
	uint32_t status = in(n, RTL_ISR, 2);
	if (status == 0 || status == 0xffff)
		return;
	uint32_t rx_bits = RTL_INT_ROK | RTL_INT_RXOVW | RTL_INT_FOVW;
	if (status & ~(rx_bits | RTL_INT_TER))
		out(n, RTL_ISR, 2, status & ~(rx_bits | RTL_INT_TER));
	if (status & (rx_bits | RTL_INT_RER))
		rx(n);
	if (status & (RTL_INT_TOK | RTL_INT_TER)) {
		tx_done(n);
		if (status & RTL_INT_TER)
			out(n, RTL_ISR, 2, RTL_INT_TER);
	}
	if (status & RTL_INT_LINKCHG)
		pvio_tap_set_up(n->ifname, link_up(n));
}

static void hostile(struct nic *n)
{
	chip_reset(n);
	nic_expect(n, "a read past the I/O BAR floats high",
		   in(n, RTL_REGS - 2, 4), 0xffffffffu);
	nic_expect(n, "a 3-byte access is absorbed",
		   nic_access(n, IOREQ_TYPE_PIO, IOEMU_RTL8139_PIO_BASE, 3,
			      IOREQ_READ, 0),
		   0xffffffffu);
	nic_expect(n, "MMIO where only the I/O BAR decodes floats high",
		   nic_access(n, IOREQ_TYPE_COPY, IOEMU_E1000_MMIO_BASE, 4,
			      IOREQ_READ, 0),
		   0xffffffffu);
	uint32_t idr = in(n, RTL_IDR0, 4);
	out(n, RTL_IDR0, 1, 0x12);
	nic_expect(n, "IDR takes dword writes only", in(n, RTL_IDR0, 4), idr);
	out(n, RTL_TCR, 4, 0);
	nic_expect(n, "TCR's hardware version is read-only",
		   in(n, RTL_TCR, 4) & RTL_TCR_HWVER_MASK, RTL_TCR_HWVER_8139C);
	out(n, RTL_CONFIG1, 1, 0xaa);
	nic_expect(n, "CONFIG1 is locked without 9346CR EEM 11",
		   in(n, RTL_CONFIG1, 1), 0);
	nic_expect(n, "CAPR resets to 0xfff0", in(n, RTL_CAPR, 2), 0xfff0);
	nic_expect(n, "the empty ring reads BUFE",
		   in(n, RTL_CR, 1) & RTL_CR_BUFE, RTL_CR_BUFE);
	/* TX: a buffer outside memory, a size beyond the FIFO: aborted. */
	out(n, RTL_CR, 1, RTL_CR_TE);
	out(n, RTL_TSAD0, 4, 0xfffff000u);
	out(n, RTL_TSD0, 4, 100);
	nic_expect(n, "TSD0 after a buffer outside memory",
		   in(n, RTL_TSD0, 4) & (RTL_TSD_OWN | RTL_TSD_TABT),
		   RTL_TSD_OWN | RTL_TSD_TABT);
	out(n, RTL_TSAD0 + 4, 4, (uint32_t)nic_gpa(TX_BUFS));
	out(n, RTL_TSD0 + 4, 4, 4000);
	nic_expect(n, "TSD1 after a frame beyond the FIFO",
		   in(n, RTL_TSD0 + 4, 4) & (RTL_TSD_OWN | RTL_TSD_TABT),
		   RTL_TSD_OWN | RTL_TSD_TABT);
	nic_expect(n, "ISR has TER", in(n, RTL_ISR, 2) & RTL_INT_TER,
		   RTL_INT_TER);
	out(n, RTL_ISR, 2, RTL_INT_TER);
	nic_expect(n, "ISR is write 1 to clear",
		   in(n, RTL_ISR, 2) & RTL_INT_TER, 0);
	/* RX: the ring outside memory, CAPR anywhere. */
	out(n, RTL_RBSTART, 4, 0xffff0000u);
	out(n, RTL_CAPR, 2, 0x1234);
	out(n, RTL_CR, 1, RTL_CR_RE | RTL_CR_TE);
	out(n, RTL_RCR, 4,
	    RTL_RCR_AAP | RTL_RCR_AB | 3u << RTL_RCR_RBLEN_SHIFT);
	for (uint32_t off = 0; off < RTL_REGS; off += 3)
		if (off != RTL_CR && off != RTL_9346CR)
			out(n, off, 1, 0xa5 ^ off);
}

const struct nic_model nic_rtl8139 = {
	.name = "rtl8139",
	.up = rtl_up,
	.tx_room = tx_room,
	.tx_send = tx_send,
	.interrupt = on_interrupt,
	.link_up = link_up,
	.hostile = hostile,
};
