/*
 * The 82540EM model (ioemu/e1000.c) against the 8254x manual: reset
 * values, the EEPROM through EERD, CTRL.RST, ICR read-to-clear with ICS,
 * IMS and IMC, ITR throttling, the legacy TX and RX rings (head/tail
 * semantics, wrap, DD/EOP, RS, PSP), receive filters, FCS, buffer sizes,
 * clear-on-read statistics, and what a driver pointing outside its memory
 * gets. The guest's memory is a private buffer; the clock is the test's.
 */
#include "config.h"

#include "e1000.h"

#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"

#define RAM_GPA	  0x10000000ull
#define RAM_BYTES (256u << 10)
#define RING	  0x0u	  /* descriptor ring at RAM_GPA + RING */
#define BUFS	  0x1000u /* buffers, 2048 bytes each */

static const uint8_t mac[6] = {0x00, 0x16, 0x3e, 0x12, 0x34, 0x56};

static uint8_t *ram;
static struct ioemu_mem mem;
static struct e1000 *dev;
static uint64_t clock_ns;
static int interrupts;
static uint8_t sent[8][2048];
static size_t sent_len[8];
static int nsent;

static void fake_transmit(void *opaque, const uint8_t *frame, size_t len)
{
	(void)opaque;
	if (nsent < 8 && len <= sizeof(sent[0])) {
		memcpy(sent[nsent], frame, len);
		sent_len[nsent] = len;
	}
	nsent++;
}

static void fake_interrupt(void *opaque)
{
	(void)opaque;
	interrupts++;
}

static uint64_t fake_now(void *opaque)
{
	(void)opaque;
	return clock_ns;
}

static void setup(void)
{
	if (!ram)
		ram = malloc(RAM_BYTES);
	memset(ram, 0, RAM_BYTES);
	mem = (struct ioemu_mem){
		.host = ram, .gpa_base = RAM_GPA, .size = RAM_BYTES};
	if (!dev)
		dev = malloc(sizeof(*dev));
	struct e1000_host host = {.transmit = fake_transmit,
				  .interrupt = fake_interrupt,
				  .now_ns = fake_now};
	clock_ns = 1000000000ull;
	interrupts = nsent = 0;
	e1000_init(dev, mac, &mem, &host);
}

static void teardown(void)
{
	free(ram);
	free(dev);
	ram = NULL;
	dev = NULL;
}

static uint32_t rd(uint32_t off)
{
	return e1000_mmio_read(dev, off, 4);
}

static void wr(uint32_t off, uint32_t v)
{
	e1000_mmio_write(dev, off, 4, v);
}

static uint16_t eeprom(unsigned addr)
{
	wr(E1K_EERD, E1K_EERD_START | addr << E1K_EERD_ADDR_SHIFT);
	uint32_t v = rd(E1K_EERD);
	CU_ASSERT_TRUE(v & E1K_EERD_DONE);
	return (uint16_t)(v >> E1K_EERD_DATA_SHIFT);
}

static void test_reset_values(void)
{
	setup();
	uint32_t status = rd(E1K_STATUS);
	CU_ASSERT_TRUE(status & E1K_STATUS_LU);
	CU_ASSERT_TRUE(status & E1K_STATUS_FD);
	CU_ASSERT_EQUAL(rd(E1K_ICR), 0);
	CU_ASSERT_EQUAL(rd(E1K_IMS), 0);
	CU_ASSERT_EQUAL(rd(E1K_RCTL), 0);
	CU_ASSERT_EQUAL(rd(E1K_TCTL), 0);
	CU_ASSERT_EQUAL(rd(E1K_ITR), 0);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 0);
	CU_ASSERT_EQUAL(rd(E1K_RDT), 0);
	CU_ASSERT_EQUAL(rd(E1K_TDH), 0);
	CU_ASSERT_EQUAL(rd(E1K_TDT), 0);
	CU_ASSERT_TRUE(rd(E1K_EECD) & E1K_EECD_PRES);
	/* RAL0/RAH0 come from the EEPROM, valid. */
	CU_ASSERT_EQUAL(rd(E1K_RAL0), 0x123e1600u);
	CU_ASSERT_EQUAL(rd(E1K_RAH0), E1K_RAH_AV | 0x5634u);
	CU_ASSERT_EQUAL(rd(E1K_RAL0 + 8), 0);
	CU_ASSERT_EQUAL(rd(E1K_RAH0 + 8), 0);
	/* Statistics start at zero. */
	CU_ASSERT_EQUAL(rd(E1K_GPRC), 0);
	CU_ASSERT_EQUAL(rd(E1K_TPT), 0);
}

static void test_eeprom(void)
{
	setup();
	CU_ASSERT_EQUAL(eeprom(0), 0x1600);
	CU_ASSERT_EQUAL(eeprom(1), 0x123e);
	CU_ASSERT_EQUAL(eeprom(2), 0x5634);
	uint16_t sum = 0;
	for (unsigned i = 0; i < E1K_EEPROM_WORDS; i++)
		sum = (uint16_t)(sum + eeprom(i));
	CU_ASSERT_EQUAL(sum, E1K_EEPROM_CHECKSUM);
	/* The 93C46 decodes 6 address bits. */
	CU_ASSERT_EQUAL(eeprom(64 + 1), 0x123e);
	/* Without START nothing is read and DONE is clear. */
	wr(E1K_EERD, 2u << E1K_EERD_ADDR_SHIFT);
	CU_ASSERT_FALSE(rd(E1K_EERD) & E1K_EERD_DONE);
}

static void test_ctrl_rst(void)
{
	setup();
	wr(E1K_IMS, E1K_ICR_RXT0);
	wr(E1K_RCTL, E1K_RCTL_EN);
	wr(E1K_RDLEN, 4096);
	wr(E1K_RAL0, 0x01020304);
	wr(E1K_MTA + 8, 0xffffffffu);
	wr(E1K_CTRL, rd(E1K_CTRL) | E1K_CTRL_RST);
	CU_ASSERT_FALSE(rd(E1K_CTRL) & E1K_CTRL_RST); /* self-clearing */
	CU_ASSERT_EQUAL(rd(E1K_IMS), 0);
	CU_ASSERT_EQUAL(rd(E1K_RCTL), 0);
	CU_ASSERT_EQUAL(rd(E1K_RDLEN), 0);
	CU_ASSERT_EQUAL(rd(E1K_MTA + 8), 0);
	CU_ASSERT_EQUAL(rd(E1K_RAL0), 0x123e1600u); /* from the EEPROM again */
}

static void test_icr_ims_imc(void)
{
	setup();
	/* Masked: the cause is latched, no interrupt. */
	wr(E1K_ICS, E1K_ICR_TXDW);
	CU_ASSERT_EQUAL(interrupts, 0);
	/* Unmasking a latched cause raises the line. */
	wr(E1K_IMS, E1K_ICR_TXDW | E1K_ICR_RXT0);
	CU_ASSERT_EQUAL(interrupts, 1);
	CU_ASSERT_EQUAL(rd(E1K_IMS), E1K_ICR_TXDW | E1K_ICR_RXT0);
	/* More causes while the line is high: no new edge. */
	wr(E1K_ICS, E1K_ICR_RXT0);
	CU_ASSERT_EQUAL(interrupts, 1);
	/* Read to clear: everything, once. */
	CU_ASSERT_EQUAL(rd(E1K_ICR), E1K_ICR_TXDW | E1K_ICR_RXT0);
	CU_ASSERT_EQUAL(rd(E1K_ICR), 0);
	wr(E1K_ICS, E1K_ICR_RXT0);
	CU_ASSERT_EQUAL(interrupts, 2);
	/* Write 1 to clear. */
	wr(E1K_ICR, E1K_ICR_RXT0);
	CU_ASSERT_EQUAL(rd(E1K_ICR), 0);
	/* IMC masks; IMS sets bits, never clears them. */
	wr(E1K_IMC, E1K_ICR_RXT0);
	CU_ASSERT_EQUAL(rd(E1K_IMS), E1K_ICR_TXDW);
	CU_ASSERT_EQUAL(rd(E1K_IMC), 0); /* write-only */
	wr(E1K_ICS, E1K_ICR_RXT0);
	CU_ASSERT_EQUAL(interrupts, 2);
	CU_ASSERT_EQUAL(rd(E1K_ICR), E1K_ICR_RXT0); /* latched all the same */
	/* Causes the 82540EM lacks stay 0. */
	wr(E1K_ICS, 0x80000000u);
	CU_ASSERT_EQUAL(rd(E1K_ICR), 0);
}

static void test_itr(void)
{
	setup();
	wr(E1K_ITR, 1000); /* 256 us between interrupts */
	wr(E1K_IMS, E1K_ICR_RXT0);
	wr(E1K_ICS, E1K_ICR_RXT0);
	CU_ASSERT_EQUAL(interrupts, 1);
	rd(E1K_ICR);
	clock_ns += 10000; /* 10 us later: throttled */
	wr(E1K_ICS, E1K_ICR_RXT0);
	CU_ASSERT_EQUAL(interrupts, 1);
	uint64_t due = e1000_irq_due_in_ns(dev, clock_ns);
	CU_ASSERT_EQUAL(due, 256000 - 10000);
	e1000_timer(dev); /* early: nothing */
	CU_ASSERT_EQUAL(interrupts, 1);
	clock_ns += due;
	e1000_timer(dev);
	CU_ASSERT_EQUAL(interrupts, 2);
	CU_ASSERT_EQUAL(e1000_irq_due_in_ns(dev, clock_ns), UINT64_MAX);
	/* ITR 0: no throttle. */
	wr(E1K_ITR, 0);
	rd(E1K_ICR);
	wr(E1K_ICS, E1K_ICR_RXT0);
	CU_ASSERT_EQUAL(interrupts, 3);
}

/* ---- TX ---- */

static struct e1k_tx_desc *txd(unsigned i)
{
	return (struct e1k_tx_desc *)(ram + RING + i * 16);
}

static void tx_ring(unsigned n)
{
	wr(E1K_TDBAL, (uint32_t)(RAM_GPA + RING));
	wr(E1K_TDBAH, 0);
	wr(E1K_TDLEN, n * 16);
	wr(E1K_TDH, 0);
	wr(E1K_TDT, 0);
	wr(E1K_TCTL, E1K_TCTL_EN | E1K_TCTL_PSP);
}

static void tx_put(unsigned i, unsigned len, uint8_t cmd, uint8_t fill)
{
	memset(ram + BUFS + i * 2048, fill, len);
	*txd(i) = (struct e1k_tx_desc){.buffer_addr = RAM_GPA + BUFS + i * 2048,
				       .length = (uint16_t)len,
				       .cmd = cmd};
}

static void test_tx_ring(void)
{
	setup();
	tx_ring(8);
	wr(E1K_IMS, E1K_ICR_TXDW);
	tx_put(0, 100, E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS, 0xa1);
	tx_put(1, 30, E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS, 0xa2);
	/* A frame over two descriptors; RS only on the last. */
	tx_put(2, 200, 0, 0xa3);
	tx_put(3, 300, E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS, 0xa4);
	wr(E1K_TDT, 4);
	CU_ASSERT_EQUAL(nsent, 3);
	CU_ASSERT_EQUAL(sent_len[0], 100);
	CU_ASSERT_EQUAL(sent[0][99], 0xa1);
	CU_ASSERT_EQUAL(sent_len[1], 60); /* TCTL.PSP pads short frames */
	CU_ASSERT_EQUAL(sent[1][29], 0xa2);
	CU_ASSERT_EQUAL(sent[1][30], 0);
	CU_ASSERT_EQUAL(sent_len[2], 500);
	CU_ASSERT_EQUAL(sent[2][199], 0xa3);
	CU_ASSERT_EQUAL(sent[2][200], 0xa4);
	CU_ASSERT_EQUAL(rd(E1K_TDH), 4);
	CU_ASSERT_TRUE(txd(0)->status & E1K_TXD_STAT_DD);
	CU_ASSERT_FALSE(txd(2)->status & E1K_TXD_STAT_DD); /* no RS */
	CU_ASSERT_TRUE(txd(3)->status & E1K_TXD_STAT_DD);
	CU_ASSERT_EQUAL(rd(E1K_ICR), E1K_ICR_TXDW | E1K_ICR_TXQE);
	CU_ASSERT_EQUAL(interrupts, 1);
	/* Wrap: 4..7 then 0..1, TDT=2. */
	for (unsigned i = 4; i < 8; i++)
		tx_put(i, 64, E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS, (uint8_t)i);
	tx_put(0, 64, E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS, 0x10);
	tx_put(1, 64, E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS, 0x11);
	nsent = 0;
	wr(E1K_TDT, 2);
	CU_ASSERT_EQUAL(nsent, 6);
	CU_ASSERT_EQUAL(sent[5][0], 0x11);
	CU_ASSERT_EQUAL(rd(E1K_TDH), 2);
	/* Statistics: 9 good frames, cleared by the read. */
	CU_ASSERT_EQUAL(rd(E1K_GPTC), 9);
	CU_ASSERT_EQUAL(rd(E1K_GPTC), 0);
	/* TCTL.EN clear: nothing moves. */
	wr(E1K_TCTL, 0);
	tx_put(2, 64, E1K_TXD_CMD_EOP, 0x22);
	nsent = 0;
	wr(E1K_TDT, 3);
	CU_ASSERT_EQUAL(nsent, 0);
	CU_ASSERT_EQUAL(rd(E1K_TDH), 2);
	/* ... until it is set again. */
	wr(E1K_TCTL, E1K_TCTL_EN);
	CU_ASSERT_EQUAL(nsent, 1);
	CU_ASSERT_EQUAL(rd(E1K_TDH), 3);
}

static void test_tx_hostile(void)
{
	setup();
	tx_ring(8);
	/* A buffer beyond the guest's memory, one that straddles its end,
	 * and one far outside: dropped, descriptors still completed. */
	*txd(0) = (struct e1k_tx_desc){.buffer_addr = RAM_GPA + RAM_BYTES,
				       .length = 64,
				       .cmd = E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS};
	*txd(1) = (struct e1k_tx_desc){.buffer_addr = RAM_GPA + RAM_BYTES - 8,
				       .length = 64,
				       .cmd = E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS};
	*txd(2) = (struct e1k_tx_desc){.buffer_addr = ~0ull - 4,
				       .length = 64,
				       .cmd = E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS};
	wr(E1K_TDT, 3);
	CU_ASSERT_EQUAL(nsent, 0);
	CU_ASSERT_EQUAL(rd(E1K_TDH), 3);
	CU_ASSERT_TRUE(txd(2)->status & E1K_TXD_STAT_DD);
	CU_ASSERT_EQUAL(dev->faults.bad_dma, 3);
	/* A frame longer than the TX FIFO: dropped at EOP. */
	for (unsigned i = 3; i < 7; i++)
		*txd(i) = (struct e1k_tx_desc){.buffer_addr = RAM_GPA + BUFS,
					       .length = 6000};
	txd(6)->cmd = E1K_TXD_CMD_EOP;
	wr(E1K_TDT, 7);
	CU_ASSERT_EQUAL(nsent, 0);
	CU_ASSERT_EQUAL(dev->faults.tx_oversize, 1);
	/* The next frame is whole again. */
	tx_put(7, 80, E1K_TXD_CMD_EOP, 0x77);
	wr(E1K_TDT, 0);
	CU_ASSERT_EQUAL(nsent, 1);
	CU_ASSERT_EQUAL(sent_len[0], 80);
	/* A tail beyond the ring does nothing. */
	wr(E1K_TDT, 9);
	CU_ASSERT_EQUAL(rd(E1K_TDH), 0);
	CU_ASSERT_EQUAL(dev->faults.bad_ring, 1);
	/* A ring outside memory. */
	wr(E1K_TDBAL, 0);
	wr(E1K_TDBAH, 0x7);
	wr(E1K_TDT, 5);
	CU_ASSERT_EQUAL(nsent, 1);
	/* A ring of fewer than 8 descriptors: RDLEN/TDLEN are 128-byte
	 * multiples, so 0 here. */
	wr(E1K_TDLEN, 127);
	CU_ASSERT_EQUAL(rd(E1K_TDLEN), 0);
}

/* ---- RX ---- */

static struct e1k_rx_desc *rxd(unsigned i)
{
	return (struct e1k_rx_desc *)(ram + RING + i * 16);
}

static void rx_ring(unsigned n, uint32_t rctl)
{
	for (unsigned i = 0; i < n; i++)
		*rxd(i) = (struct e1k_rx_desc){.buffer_addr = RAM_GPA + BUFS +
							      i * 2048};
	wr(E1K_RDBAL, (uint32_t)(RAM_GPA + RING));
	wr(E1K_RDBAH, 0);
	wr(E1K_RDLEN, n * 16);
	wr(E1K_RDH, 0);
	wr(E1K_RDT, n - 1);
	wr(E1K_RCTL, rctl);
}

static uint8_t frame[2048];

static size_t make_frame(const uint8_t *dst, size_t len, uint8_t fill)
{
	memset(frame, fill, len);
	memcpy(frame, dst, 6);
	memcpy(frame + 6, "\x00\x16\x3e\xaa\xbb\xcc", 6);
	frame[12] = 0x08;
	frame[13] = 0x00;
	return len;
}

static void test_rx_ring(void)
{
	setup();
	rx_ring(8, E1K_RCTL_EN | E1K_RCTL_SECRC | E1K_RCTL_BAM);
	wr(E1K_IMS, E1K_ICR_RXT0);
	CU_ASSERT_TRUE(e1000_can_receive(dev));
	/* RDT 7: descriptors 0..6 are the device's. */
	for (unsigned i = 0; i < 7; i++) {
		size_t len = make_frame(mac, 100 + i, (uint8_t)i);
		CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 1);
		CU_ASSERT_EQUAL(rxd(i)->length, 100 + i);
		CU_ASSERT_EQUAL(rxd(i)->status &
					(E1K_RXD_STAT_DD | E1K_RXD_STAT_EOP),
				E1K_RXD_STAT_DD | E1K_RXD_STAT_EOP);
		CU_ASSERT_EQUAL(ram[BUFS + i * 2048 + 99], (uint8_t)i);
	}
	CU_ASSERT_EQUAL(rd(E1K_RDH), 7);
	/* RDH == RDT: no descriptors; the frame waits. */
	CU_ASSERT_FALSE(e1000_can_receive(dev));
	size_t len = make_frame(mac, 64, 0x55);
	CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 0);
	CU_ASSERT_EQUAL(rd(E1K_RNBC), 1);
	/* Give back 0..6 (RDT 6 hands over 7, 0..5): the ring wraps. */
	for (unsigned i = 0; i < 8; i++)
		rxd(i)->status = 0;
	wr(E1K_RDT, 6);
	CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 1);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 0);
	CU_ASSERT_TRUE(rxd(7)->status & E1K_RXD_STAT_DD);
	CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 1);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 1);
	CU_ASSERT_EQUAL(rd(E1K_ICR) & E1K_ICR_RXT0, E1K_ICR_RXT0);
	CU_ASSERT_EQUAL(interrupts, 1);
	CU_ASSERT_EQUAL(rd(E1K_GPRC), 9);
	CU_ASSERT_EQUAL(rd(E1K_GPRC), 0);
	CU_ASSERT_EQUAL(dev->rx_delivered, 9); /* not cleared by the read */
	/* 64-bit octet counters: low then high, cleared by the high read;
	 * counted with the FCS. */
	uint64_t octets = rd(E1K_GORCL);
	octets |= (uint64_t)rd(E1K_GORCH) << 32;
	CU_ASSERT_EQUAL(octets, (100 + 101 + 102 + 103 + 104 + 105 + 106) +
					2 * 64 + 9 * 4);
	CU_ASSERT_EQUAL(rd(E1K_GORCL), 0);
}

static void test_rx_filters(void)
{
	setup();
	rx_ring(16, E1K_RCTL_EN | E1K_RCTL_SECRC);
	static const uint8_t other[6] = {0x00, 0x16, 0x3e, 0x99, 0x99, 0x99};
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t mcast[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};
	size_t len = make_frame(other, 80, 1);
	e1000_receive(dev, frame, len);
	len = make_frame(bcast, 80, 2);
	e1000_receive(dev, frame, len); /* BAM clear */
	len = make_frame(mcast, 80, 3);
	e1000_receive(dev, frame, len); /* no MTA bit, no MPE */
	CU_ASSERT_EQUAL(rd(E1K_RDH), 0);
	/* MO 00: the hash is bits 47:36 of the address. */
	uint32_t hash = (uint32_t)(mcast[4] >> 4 | mcast[5] << 4) & 0xfff;
	wr(E1K_MTA + 4 * (hash >> 5), 1u << (hash & 31));
	e1000_receive(dev, frame, len);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 1);
	CU_ASSERT_EQUAL(rd(E1K_MPRC), 1);
	wr(E1K_RCTL, rd(E1K_RCTL) | E1K_RCTL_BAM);
	len = make_frame(bcast, 80, 2);
	e1000_receive(dev, frame, len);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 2);
	CU_ASSERT_EQUAL(rd(E1K_BPRC), 1);
	/* A second receive address, then promiscuous. */
	wr(E1K_RAL0 + 8, 0x993e1600u);
	wr(E1K_RAH0 + 8, E1K_RAH_AV | 0x9999u);
	len = make_frame(other, 80, 1);
	e1000_receive(dev, frame, len);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 3);
	wr(E1K_RAH0 + 8, 0x9999u); /* AV clear */
	e1000_receive(dev, frame, len);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 3);
	wr(E1K_RCTL, rd(E1K_RCTL) | E1K_RCTL_UPE);
	e1000_receive(dev, frame, len);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 4);
	/* Oversize without LPE: dropped, counted. */
	len = make_frame(mac, 1600, 4);
	e1000_receive(dev, frame, len);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 4);
	CU_ASSERT_EQUAL(rd(E1K_ROC), 1);
	/* RCTL.EN clear: nothing arrives. */
	wr(E1K_RCTL, 0);
	CU_ASSERT_FALSE(e1000_can_receive(dev));
	len = make_frame(mac, 80, 5);
	CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 1);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 4);
}

static void test_rx_fcs_and_buffer_sizes(void)
{
	setup();
	/* SECRC clear: the FCS lands after the frame. */
	rx_ring(8, E1K_RCTL_EN);
	size_t len = make_frame(mac, 60, 0);
	memset(frame + 14, 0, 46);
	e1000_receive(dev, frame, len);
	CU_ASSERT_EQUAL(rxd(0)->length, 64);
	/* CRC-32 (IEEE 802.3) of that frame, least significant byte first. */
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		crc ^= frame[i];
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
	}
	crc = ~crc;
	uint8_t *fcs = ram + BUFS + 60;
	CU_ASSERT_EQUAL(fcs[0] | fcs[1] << 8 | fcs[2] << 16 |
				(uint32_t)fcs[3] << 24,
			crc);
	/* BSIZE 11 (256 bytes): a 600-byte frame takes 3 descriptors, EOP
	 * on the last only. */
	setup();
	rx_ring(8, E1K_RCTL_EN | E1K_RCTL_SECRC | 3u << E1K_RCTL_BSIZE_SHIFT);
	len = make_frame(mac, 600, 0x5a);
	CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 1);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 3);
	CU_ASSERT_EQUAL(rxd(0)->length, 256);
	CU_ASSERT_EQUAL(rxd(1)->length, 256);
	CU_ASSERT_EQUAL(rxd(2)->length, 88);
	CU_ASSERT_FALSE(rxd(0)->status & E1K_RXD_STAT_EOP);
	CU_ASSERT_TRUE(rxd(2)->status & E1K_RXD_STAT_EOP);
	CU_ASSERT_EQUAL(ram[BUFS + 2 * 2048 + 87], 0x5a);
	/* 4 descriptors left (3..6), a frame needing 5 waits... */
	len = make_frame(mac, 1100, 0x5b);
	CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 0);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 3);
	/* ... and one needing more than the whole ring is dropped. */
	wr(E1K_RCTL, rd(E1K_RCTL) | E1K_RCTL_LPE);
	len = make_frame(mac, 2048, 0x5c);
	CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 1);
	CU_ASSERT_EQUAL(rd(E1K_MPC), 1);
}

static void test_rx_hostile(void)
{
	setup();
	rx_ring(8, E1K_RCTL_EN | E1K_RCTL_SECRC);
	rxd(0)->buffer_addr = RAM_GPA + RAM_BYTES - 10; /* straddles the end */
	rxd(1)->buffer_addr = ~0ull - 100;
	size_t len = make_frame(mac, 100, 1);
	CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 1);
	CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 1);
	/* Consumed, flagged with an error, nothing written outside. */
	CU_ASSERT_EQUAL(rd(E1K_RDH), 2);
	CU_ASSERT_TRUE(rxd(0)->errors & E1K_RXD_ERR_RXE);
	CU_ASSERT_TRUE(rxd(1)->status & E1K_RXD_STAT_DD);
	CU_ASSERT_EQUAL(dev->faults.bad_dma, 2);
	CU_ASSERT_EQUAL(rd(E1K_GPRC), 0);
	CU_ASSERT_EQUAL(dev->rx_delivered, 0);
	/* RDT beyond the ring, a head beyond the ring, a ring outside
	 * memory: nothing is received. */
	wr(E1K_RDT, 100);
	CU_ASSERT_FALSE(e1000_can_receive(dev));
	CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 1);
	wr(E1K_RDT, 5);
	wr(E1K_RDH, 9);
	CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 1);
	wr(E1K_RDH, 2);
	wr(E1K_RDBAH, 0x1);
	CU_ASSERT_EQUAL(e1000_receive(dev, frame, len), 1);
	CU_ASSERT_EQUAL(rd(E1K_RDH), 2);
}

static void test_access_sizes_and_pio(void)
{
	setup();
	uint32_t status = rd(E1K_STATUS);
	CU_ASSERT_EQUAL(e1000_mmio_read(dev, E1K_STATUS, 2), status & 0xffff);
	CU_ASSERT_EQUAL(e1000_mmio_read(dev, E1K_STATUS + 1, 1),
			(status >> 8) & 0xff);
	CU_ASSERT_EQUAL(e1000_mmio_read(dev, E1K_STATUS + 2, 4), 0xffffffffu);
	CU_ASSERT_EQUAL(e1000_mmio_read(dev, 0x20000, 4), 0xffffffffu);
	CU_ASSERT_EQUAL(e1000_mmio_read(dev, 0x1000, 8), 0xffffffffu);
	e1000_mmio_write(dev, E1K_IMS, 2, 0xffff);
	CU_ASSERT_EQUAL(rd(E1K_IMS), 0);
	CU_ASSERT_EQUAL(dev->faults.bad_access, 4);
	/* Reserved registers read 0; STATUS ignores writes. */
	CU_ASSERT_EQUAL(rd(0x0004), 0);
	wr(E1K_STATUS, 0);
	CU_ASSERT_EQUAL(rd(E1K_STATUS), status);
	/* IOADDR/IODATA reach the same registers. */
	e1000_pio_write(dev, E1K_IOADDR, 4, E1K_STATUS);
	CU_ASSERT_EQUAL(e1000_pio_read(dev, E1K_IODATA, 4), status);
	e1000_pio_write(dev, E1K_IOADDR, 4, E1K_IMS);
	e1000_pio_write(dev, E1K_IODATA, 4, E1K_ICR_LSC);
	CU_ASSERT_EQUAL(rd(E1K_IMS), E1K_ICR_LSC);
	CU_ASSERT_EQUAL(e1000_pio_read(dev, 2, 4), 0xffffffffu);
	/* MDIC: the PHY at address 1 answers; another address errors. */
	wr(E1K_MDIC, E1K_MDIC_OP_READ | 1u << E1K_MDIC_PHY_SHIFT |
			     2u << E1K_MDIC_REG_SHIFT);
	uint32_t mdic = rd(E1K_MDIC);
	CU_ASSERT_TRUE(mdic & E1K_MDIC_READY);
	CU_ASSERT_EQUAL(mdic & 0xffff, 0x0141);
	wr(E1K_MDIC, E1K_MDIC_OP_READ | 2u << E1K_MDIC_PHY_SHIFT);
	CU_ASSERT_TRUE(rd(E1K_MDIC) & E1K_MDIC_ERROR);
}

static CU_TestInfo tests[] = {
	{"reset values", test_reset_values},
	{"EEPROM through EERD", test_eeprom},
	{"CTRL.RST", test_ctrl_rst},
	{"ICR, ICS, IMS, IMC", test_icr_ims_imc},
	{"ITR throttling", test_itr},
	{"TX ring: RS, DD, EOP, PSP, wrap, TCTL.EN", test_tx_ring},
	{"TX: buffers and rings outside memory", test_tx_hostile},
	{"RX ring: RDH/RDT, wrap, held frames", test_rx_ring},
	{"RX filters: RAL/RAH, MTA, BAM, UPE, LPE", test_rx_filters},
	{"RX: FCS and buffer sizes", test_rx_fcs_and_buffer_sizes},
	{"RX: buffers and rings outside memory", test_rx_hostile},
	{"access sizes, I/O BAR, MDIC", test_access_sizes_and_pio},
	CU_TEST_INFO_NULL,
};

static int suite_clean(void)
{
	teardown();
	return 0;
}

int main(void)
{
	CU_SuiteInfo suites[] = {
		{"e1000", NULL, suite_clean, NULL, NULL, tests},
		CU_SUITE_INFO_NULL,
	};
	return pvio_cunit_run(suites);
}
