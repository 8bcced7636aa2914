/* pvio-ioemu-nic's 82540EM driver, in Linux e1000's order: reset, MAC
 * from the EEPROM (checksum checked), receive address and multicast
 * table, rings, throttle and mask; then one ICR read per interrupt. */
#include "config.h"

#include "e1000_regs.h"
#include "ioemu_layout.h"
#include "nic.h"
#include "pvio_tap.h"

#include <string.h>

#define N_RX	   256u
#define N_TX	   256u
#define BUF_BYTES  2048u
#define RX_RING	   0x0u
#define TX_RING	   0x1000u
#define RX_BUFS	   0x2000u
#define TX_BUFS	   (RX_BUFS + N_RX * BUF_BYTES)
#define RAM_NEEDED (TX_BUFS + N_TX * BUF_BYTES)
_Static_assert(RAM_NEEDED <= IOEMU_RAM_BYTES, "rings and buffers fit");

static uint32_t rd(struct nic *n, uint32_t off)
{
	return nic_access(n, IOREQ_TYPE_COPY, IOEMU_E1000_MMIO_BASE + off, 4,
			  IOREQ_READ, 0);
}

static void wr(struct nic *n, uint32_t off, uint32_t v)
{
	nic_access(n, IOREQ_TYPE_COPY, IOEMU_E1000_MMIO_BASE + off, 4,
		   IOREQ_WRITE, v);
}

static volatile struct e1k_rx_desc *rx_desc(struct nic *n, uint32_t i)
{
	return nic_host(n, RX_RING + i * 16, 16);
}

static volatile struct e1k_tx_desc *tx_desc(struct nic *n, uint32_t i)
{
	return nic_host(n, TX_RING + i * 16, 16);
}

/* ---- bring-up, as e1000_probe / e1000_open ---- */

static int e1000_hw_reset(struct nic *n)
{
	wr(n, E1K_IMC, 0xffffffffu);
	wr(n, E1K_CTRL, rd(n, E1K_CTRL) | E1K_CTRL_RST);
	for (int i = 0; i < 1000 && !n->dead; i++)
		if (!(rd(n, E1K_CTRL) & E1K_CTRL_RST)) {
			wr(n, E1K_IMC, 0xffffffffu);
			rd(n, E1K_ICR);
			return 0;
		}
	pvio_log("eth%u: CTRL.RST did not clear", n->devid);
	return -1;
}

static int eeprom_word(struct nic *n, unsigned addr, uint16_t *word)
{
	wr(n, E1K_EERD, E1K_EERD_START | addr << E1K_EERD_ADDR_SHIFT);
	for (int i = 0; i < 1000 && !n->dead; i++) {
		uint32_t v = rd(n, E1K_EERD);
		if (v & E1K_EERD_DONE) {
			*word = (uint16_t)(v >> E1K_EERD_DATA_SHIFT);
			return 0;
		}
	}
	pvio_log("eth%u: EEPROM word %u: EERD never reported done", n->devid,
		 addr);
	return -1;
}

static int read_mac(struct nic *n)
{
	uint16_t words[E1K_EEPROM_WORDS], sum = 0;
	for (unsigned i = 0; i < E1K_EEPROM_WORDS; i++) {
		if (eeprom_word(n, i, &words[i]))
			return -1;
		sum = (uint16_t)(sum + words[i]);
	}
	if (sum != E1K_EEPROM_CHECKSUM) {
		pvio_log("eth%u: the EEPROM checksum is 0x%04x, not 0x%04x",
			 n->devid, sum, E1K_EEPROM_CHECKSUM);
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		n->mac[2 * i] = (uint8_t)words[i];
		n->mac[2 * i + 1] = (uint8_t)(words[i] >> 8);
	}
	return 0;
}

static void setup_rings(struct nic *n)
{
	memset(nic_host(n, 0, RAM_NEEDED), 0, RAM_NEEDED);
	for (uint32_t i = 0; i < N_RX; i++)
		rx_desc(n, i)->buffer_addr = nic_gpa(RX_BUFS + i * BUF_BYTES);
	n->rx_next = n->tx_tail = n->tx_clean = 0;

	wr(n, E1K_TDBAL, (uint32_t)nic_gpa(TX_RING));
	wr(n, E1K_TDBAH, (uint32_t)(nic_gpa(TX_RING) >> 32));
	wr(n, E1K_TDLEN, N_TX * 16);
	wr(n, E1K_TDH, 0);
	wr(n, E1K_TDT, 0);
	wr(n, E1K_TIPG, 0x0060200au); /* IPGT 10, IPGR1 8, IPGR2 6 */
	wr(n, E1K_TCTL,
	   E1K_TCTL_EN | E1K_TCTL_PSP | 0x0fu << 4 /* CT */ |
		   0x40u << 12 /* COLD, full duplex */);

	wr(n, E1K_RDBAL, (uint32_t)nic_gpa(RX_RING));
	wr(n, E1K_RDBAH, (uint32_t)(nic_gpa(RX_RING) >> 32));
	wr(n, E1K_RDLEN, N_RX * 16);
	wr(n, E1K_RDH, 0);
	wr(n, E1K_RDT, N_RX - 1);
	/* 2048-byte buffers, no CRC in them, broadcast; every multicast
	 * (the guest's stack joins groups the driver cannot see). */
	wr(n, E1K_RCTL,
	   E1K_RCTL_EN | E1K_RCTL_BAM | E1K_RCTL_MPE | E1K_RCTL_SECRC);
}

static int e1000_up(struct nic *n)
{
	if (e1000_hw_reset(n) || read_mac(n))
		return -1;
	uint32_t lo = (uint32_t)n->mac[0] | (uint32_t)n->mac[1] << 8 |
		      (uint32_t)n->mac[2] << 16 | (uint32_t)n->mac[3] << 24;
	uint32_t hi = (uint32_t)n->mac[4] | (uint32_t)n->mac[5] << 8;
	wr(n, E1K_RAL0, lo);
	wr(n, E1K_RAH0, hi | E1K_RAH_AV);
	for (unsigned i = 0; i < E1K_MTA_REGS; i++)
		wr(n, E1K_MTA + 4 * i, 0);
	wr(n, E1K_CTRL, rd(n, E1K_CTRL) | E1K_CTRL_SLU | E1K_CTRL_ASDE);
	setup_rings(n);
	wr(n, E1K_ITR, n->itr);
	wr(n, E1K_IMS,
	   E1K_ICR_RXT0 | E1K_ICR_TXDW | E1K_ICR_LSC | E1K_ICR_RXDMT0 |
		   E1K_ICR_RXO | E1K_ICR_RXSEQ);
	return n->dead ? -1 : 0;
}

/* ---- data path ---- */

static uint32_t tx_free(const struct nic *n)
{
	return N_TX - 1 - (n->tx_tail + N_TX - n->tx_clean) % N_TX;
}

static void tx_reclaim(struct nic *n)
{
	while (n->tx_clean != n->tx_tail &&
	       (tx_desc(n, n->tx_clean)->status & E1K_TXD_STAT_DD)) {
		tx_desc(n, n->tx_clean)->status = 0;
		n->tx_clean = (n->tx_clean + 1) % N_TX;
	}
}

/* Frames from the guest's stack into TX buffers; one TDT write for the
 * batch. */
static void tx_send(struct nic *n)
{
	tx_reclaim(n);
	uint32_t queued = 0;
	while (queued < 32 && tx_free(n) > 0) {
		uint32_t i = n->tx_tail;
		uint32_t len = nic_take(n, TX_BUFS + i * BUF_BYTES, BUF_BYTES);
		if (!len)
			break;
		volatile struct e1k_tx_desc *d = tx_desc(n, i);
		d->buffer_addr = nic_gpa(TX_BUFS + i * BUF_BYTES);
		d->length = (uint16_t)len;
		d->status = 0;
		d->cmd = E1K_TXD_CMD_EOP | E1K_TXD_CMD_IFCS | E1K_TXD_CMD_RS;
		n->tx_tail = (i + 1) % N_TX;
		queued++;
	}
	if (queued) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		wr(n, E1K_TDT, n->tx_tail);
	}
}

static void rx_clean(struct nic *n)
{
	uint32_t done = 0;
	while (done < N_RX) {
		volatile struct e1k_rx_desc *d = rx_desc(n, n->rx_next);
		uint8_t status = d->status;
		if (!(status & E1K_RXD_STAT_DD))
			break;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		uint16_t len = d->length;
		if ((status & E1K_RXD_STAT_EOP) && !d->errors && len &&
		    len <= BUF_BYTES) {
			nic_deliver(n, RX_BUFS + n->rx_next * BUF_BYTES, len);
		} else {
			n->rx_dropped++; /* spans buffers or has errors */
		}
		d->status = 0;
		n->rx_next = (n->rx_next + 1) % N_RX;
		done++;
	}
	if (done) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		wr(n, E1K_RDT, (n->rx_next + N_RX - 1) % N_RX);
	}
}

static bool tx_room(struct nic *n)
{
	tx_reclaim(n);
	return tx_free(n) > 0;
}

static bool link_up(struct nic *n)
{
	return (rd(n, E1K_STATUS) & E1K_STATUS_LU) != 0;
}

/* The interrupt handler: one ICR read says why (and clears it). */
static void on_interrupt(struct nic *n)
{
	uint32_t icr = rd(n, E1K_ICR);
	if (icr & E1K_ICR_LSC)
		pvio_tap_set_up(n->ifname,
				(rd(n, E1K_STATUS) & E1K_STATUS_LU) != 0);
	tx_reclaim(n);
	rx_clean(n);
}

/* ---- the hostile driver ---- */

static void hostile(struct nic *n)
{
	/* Reserved and write-only registers, odd sizes, outside the BAR. */
	nic_expect(n, "a reserved register reads 0", rd(n, 0x0004), 0);
	nic_expect(n, "IMC is write-only", rd(n, E1K_IMC), 0);
	wr(n, E1K_STATUS, 0);
	nic_expect(n, "STATUS ignores writes (LU still set)",
		   rd(n, E1K_STATUS) & E1K_STATUS_LU, E1K_STATUS_LU);
	nic_expect(n, "beyond the MMIO BAR floats high",
		   nic_access(n, IOREQ_TYPE_COPY,
			      IOEMU_E1000_MMIO_BASE + IOEMU_E1000_MMIO_BYTES, 4,
			      IOREQ_READ, 0),
		   0xffffffffu);
	nic_expect(n, "an unaligned dword read is absorbed",
		   nic_access(n, IOREQ_TYPE_COPY, IOEMU_E1000_MMIO_BASE + 2, 4,
			      IOREQ_READ, 0),
		   0xffffffffu);
	nic_expect(n, "an unknown I/O port floats high",
		   nic_access(n, IOREQ_TYPE_PIO, 0x80, 1, IOREQ_READ, 0),
		   0xffffffffu);
	nic_access(n, IOREQ_TYPE_COPY, IOEMU_E1000_MMIO_BASE + E1K_CTRL, 2,
		   IOREQ_WRITE, 0xffff);
	nic_access(n, 0x55, 0x1234, 4, IOREQ_WRITE, 1);
	for (uint32_t off = 0; off < 0x6000; off += 0x44)
		if (off != E1K_CTRL && off != E1K_ICR && off != E1K_ICS &&
		    off != E1K_IMS)
			wr(n, off, 0xdeadbeef ^ off);
	/* ICR: causes set by ICS read back once, then read as zero. */
	wr(n, E1K_IMC, 0xffffffffu);
	rd(n, E1K_ICR);
	wr(n, E1K_ICS, E1K_ICR_TXDW | E1K_ICR_RXT0);
	nic_expect(n, "ICR holds what ICS set", rd(n, E1K_ICR),
		   E1K_ICR_TXDW | E1K_ICR_RXT0);
	nic_expect(n, "ICR is clear after its read", rd(n, E1K_ICR), 0);
	/* A TX ring outside memory, then a ring whose buffers are. */
	wr(n, E1K_TDBAL, 0x10);
	wr(n, E1K_TDBAH, 0xffffffffu);
	wr(n, E1K_TDLEN, N_TX * 16);
	wr(n, E1K_TDH, 0);
	wr(n, E1K_TCTL, E1K_TCTL_EN);
	wr(n, E1K_TDT, 5);
	wr(n, E1K_TDT, 0xffff); /* beyond the ring */
	memset(nic_host(n, 0, RAM_NEEDED), 0, RAM_NEEDED);
	for (uint32_t i = 0; i < 16; i++) {
		volatile struct e1k_tx_desc *d = tx_desc(n, i);
		d->buffer_addr =
			i & 1 ? ~0ull - 8 : nic_gpa(IOEMU_RAM_BYTES - 8);
		d->length = 0xffff;
		d->cmd = (uint8_t)(E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS |
				   (i % 4 == 3 ? E1K_TXD_CMD_DEXT : 0));
	}
	wr(n, E1K_TDBAL, (uint32_t)nic_gpa(TX_RING));
	wr(n, E1K_TDBAH, 0);
	wr(n, E1K_TDH, 0);
	wr(n, E1K_TDT, 16);
	nic_expect(n, "TDH followed TDT past the bad buffers", rd(n, E1K_TDH),
		   16);
	nic_expect(n, "bad buffers still get DD (RS)",
		   tx_desc(n, 0)->status & E1K_TXD_STAT_DD, E1K_TXD_STAT_DD);
	/* RX: a ring of buffers outside memory, then RDT beyond the ring. */
	for (uint32_t i = 0; i < N_RX; i++)
		rx_desc(n, i)->buffer_addr = 0xfffffffffffff000ull;
	wr(n, E1K_RDBAL, (uint32_t)nic_gpa(RX_RING));
	wr(n, E1K_RDBAH, 0);
	wr(n, E1K_RDLEN, N_RX * 16);
	wr(n, E1K_RDH, 0);
	wr(n, E1K_RDT, N_RX - 1);
	wr(n, E1K_RCTL,
	   E1K_RCTL_EN | E1K_RCTL_UPE | E1K_RCTL_MPE | E1K_RCTL_BAM);
	wr(n, E1K_RDLEN, 0);
	wr(n, E1K_RDT, 0xffff);
	nic_expect(n, "RDLEN keeps 128-byte multiples",
		   (wr(n, E1K_RDLEN, 0x12345), rd(n, E1K_RDLEN)), 0x12300);
	nic_expect(n, "RDT keeps 16 bits",
		   (wr(n, E1K_RDT, 0x12345), rd(n, E1K_RDT)), 0x2345);
}

const struct nic_model nic_e1000 = {
	.name = "e1000",
	.up = e1000_up,
	.tx_room = tx_room,
	.tx_send = tx_send,
	.interrupt = on_interrupt,
	.link_up = link_up,
	.hostile = hostile,
};
