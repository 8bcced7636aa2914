/*
 * The RTL8139C model (ioemu/rtl8139.c) against its datasheet: reset
 * values, the 93C46 bit-banged through 9346CR (8139too's address-width
 * probe included), IDR dword writes, the RX ring buffer with its 4-byte
 * headers, CBR/CAPR and BUFE, wrap with and without RCR.WRAP, ISR
 * write-1-to-clear with IMR, the four TX descriptors, and what a driver
 * pointing outside its memory gets. And the 82540EM's EECD path to the
 * same EEPROM.
 */
#include "config.h"

#include "e1000.h"
#include "eth.h"
#include "rtl8139.h"

#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"

#define RAM_GPA	  0x20000000ull
#define RAM_BYTES (256u << 10)
#define RING	  0x0u	   /* RX ring buffer */
#define TXBUF	  0x20000u /* TX buffers */

static const uint8_t mac[6] = {0x00, 0x16, 0x3e, 0xab, 0xcd, 0xef};

static uint8_t *ram;
static struct ioemu_mem mem;
static struct rtl8139 *dev;
static int interrupts, nsent;
static size_t sent_len;
static uint8_t sent[2048];

static void fake_transmit(void *opaque, const uint8_t *frame, size_t len)
{
	(void)opaque;
	if (len <= sizeof(sent))
		memcpy(sent, frame, len);
	sent_len = len;
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
	return 1;
}

static const struct e1000_host host = {.transmit = fake_transmit,
				       .interrupt = fake_interrupt,
				       .now_ns = fake_now};

static void setup(void)
{
	if (!ram)
		ram = malloc(RAM_BYTES);
	if (!dev)
		dev = malloc(sizeof(*dev));
	memset(ram, 0, RAM_BYTES);
	mem = (struct ioemu_mem){
		.host = ram, .gpa_base = RAM_GPA, .size = RAM_BYTES};
	interrupts = nsent = 0;
	rtl8139_init(dev, mac, &mem, &host);
}

static uint32_t in(uint32_t reg, unsigned size)
{
	return rtl8139_io_read(dev, reg, size);
}

static void out(uint32_t reg, unsigned size, uint32_t v)
{
	rtl8139_io_write(dev, reg, size, v);
}

/* 8139too's read_eeprom, bit by bit through 9346CR. */
#define EE_ENB (RTL_9346_EEM_PROG << RTL_9346_EEM_SHIFT | RTL_9346_EECS)
static uint16_t read_eeprom(unsigned location, int addr_len)
{
	unsigned cmd = location | 6u << addr_len;
	out(RTL_9346CR, 1, EE_ENB & ~RTL_9346_EECS);
	out(RTL_9346CR, 1, EE_ENB);
	for (int i = 4 + addr_len; i >= 0; i--) {
		unsigned di = cmd & (1u << i) ? RTL_9346_EEDI : 0;
		out(RTL_9346CR, 1, EE_ENB | di);
		out(RTL_9346CR, 1, EE_ENB | di | RTL_9346_EESK);
	}
	out(RTL_9346CR, 1, EE_ENB);
	uint16_t v = 0;
	for (int i = 0; i < 16; i++) {
		out(RTL_9346CR, 1, EE_ENB | RTL_9346_EESK);
		v = (uint16_t)(v << 1 | (in(RTL_9346CR, 1) & RTL_9346_EEDO));
		out(RTL_9346CR, 1, EE_ENB);
	}
	out(RTL_9346CR, 1, 0);
	return v;
}

static void test_reset_values(void)
{
	setup();
	CU_ASSERT_EQUAL(in(RTL_IDR0, 4), 0xab3e1600u); /* from the EEPROM */
	CU_ASSERT_EQUAL(in(RTL_IDR0 + 4, 2), 0xefcd);
	CU_ASSERT_EQUAL(in(RTL_CR, 1), RTL_CR_BUFE);
	CU_ASSERT_EQUAL(in(RTL_CAPR, 2), 0xfff0);
	CU_ASSERT_EQUAL(in(RTL_CBR, 2), 0);
	CU_ASSERT_EQUAL(in(RTL_IMR, 2), 0);
	CU_ASSERT_EQUAL(in(RTL_ISR, 2), 0);
	for (unsigned i = 0; i < RTL_NR_TX; i++)
		CU_ASSERT_EQUAL(in(RTL_TSD0 + 4 * i, 4), RTL_TSD_OWN);
	CU_ASSERT_EQUAL(in(RTL_TCR, 4) & RTL_TCR_HWVER_MASK,
			RTL_TCR_HWVER_8139C);
	CU_ASSERT_EQUAL(in(RTL_RCR, 4), 0);
	CU_ASSERT_FALSE(in(RTL_MSR, 1) & RTL_MSR_LINKB); /* link up */
	CU_ASSERT_TRUE(in(RTL_BMSR, 2) & RTL_BMSR_LINK);
	/* CR.RST: back to these, self-clearing, the MAC kept. */
	out(RTL_IMR, 2, 0xffff);
	out(RTL_RCR, 4, 0x1234);
	out(RTL_CR, 1, RTL_CR_RST);
	CU_ASSERT_FALSE(in(RTL_CR, 1) & RTL_CR_RST);
	CU_ASSERT_EQUAL(in(RTL_IMR, 2), 0);
	CU_ASSERT_EQUAL(in(RTL_RCR, 4), 0);
	CU_ASSERT_EQUAL(in(RTL_IDR0, 4), 0xab3e1600u);
}

static void test_eeprom(void)
{
	setup();
	CU_ASSERT_EQUAL(read_eeprom(0, 6), RTL_EEPROM_ID);
	CU_ASSERT_EQUAL(read_eeprom(7, 6), 0x1600);
	CU_ASSERT_EQUAL(read_eeprom(8, 6), 0xab3e);
	CU_ASSERT_EQUAL(read_eeprom(9, 6), 0xefcd);
	/* 8139too probes with 8 address bits: a 93C46 takes 6 and answers
	 * early, so the ID does not come back and it settles on 6. */
	CU_ASSERT_NOT_EQUAL(read_eeprom(0, 8), RTL_EEPROM_ID);
	/* Outside programming mode DO is not the EEPROM's. */
	out(RTL_9346CR, 1, RTL_9346_EECS | RTL_9346_EESK);
	CU_ASSERT_EQUAL(in(RTL_9346CR, 1) & RTL_9346_EEDO, 0);
}

static void test_e1000_eecd(void)
{
	/* The 82540EM's EECD reaches the same 93C46 logic (Linux e1000's
	 * Microwire read): request, grant, opcode 110, 6 address bits. */
	static struct e1000 e;
	e1000_init(&e, mac, &mem, &host);
	for (unsigned word = 0; word < 3; word++) {
		uint32_t eecd = E1K_EECD_REQ;
		e1000_mmio_write(&e, E1K_EECD, 4, eecd);
		CU_ASSERT_TRUE(e1000_mmio_read(&e, E1K_EECD, 4) & E1K_EECD_GNT);
		eecd |= E1K_EECD_CS;
		e1000_mmio_write(&e, E1K_EECD, 4, eecd);
		unsigned cmd = 6u << 6 | word;
		for (int i = 8; i >= 0; i--) {
			uint32_t di = cmd & (1u << i) ? E1K_EECD_DI : 0;
			e1000_mmio_write(&e, E1K_EECD, 4, eecd | di);
			e1000_mmio_write(&e, E1K_EECD, 4,
					 eecd | di | E1K_EECD_SK);
			e1000_mmio_write(&e, E1K_EECD, 4, eecd | di);
		}
		uint16_t v = 0;
		for (int i = 0; i < 16; i++) {
			e1000_mmio_write(&e, E1K_EECD, 4, eecd | E1K_EECD_SK);
			v = (uint16_t)(v << 1 |
				       !!(e1000_mmio_read(&e, E1K_EECD, 4) &
					  E1K_EECD_DO));
			e1000_mmio_write(&e, E1K_EECD, 4, eecd);
		}
		e1000_mmio_write(&e, E1K_EECD, 4, 0);
		CU_ASSERT_EQUAL(v, e.eeprom[word]);
	}
	CU_ASSERT_EQUAL(e.eeprom[1], 0xab3e);
}

static void test_idr_and_config_locks(void)
{
	setup();
	out(RTL_IDR0, 1, 0x55); /* dword writes only */
	CU_ASSERT_EQUAL(in(RTL_IDR0, 1), 0x00);
	out(RTL_IDR0, 4, 0x44332211u);
	CU_ASSERT_EQUAL(in(RTL_IDR0, 4), 0x44332211u);
	out(RTL_CONFIG1, 1, 0x80); /* locked */
	CU_ASSERT_EQUAL(in(RTL_CONFIG1, 1), 0);
	out(RTL_9346CR, 1, RTL_9346_EEM_CFG << RTL_9346_EEM_SHIFT);
	out(RTL_CONFIG1, 1, 0x80);
	CU_ASSERT_EQUAL(in(RTL_CONFIG1, 1), 0x80);
	out(RTL_TCR, 4, 0);
	CU_ASSERT_EQUAL(in(RTL_TCR, 4) & RTL_TCR_HWVER_MASK,
			RTL_TCR_HWVER_8139C);
	CU_ASSERT_EQUAL(in(0xfe, 4), 0xffffffffu); /* past the BAR */
	CU_ASSERT_EQUAL(in(0, 3), 0xffffffffu);
}

static uint8_t frame[4200];

static size_t make_frame(size_t len, uint8_t fill)
{
	memset(frame, fill, len);
	memcpy(frame, mac, 6);
	return len;
}

static void rx_on(uint32_t rcr)
{
	out(RTL_RBSTART, 4, (uint32_t)(RAM_GPA + RING));
	out(RTL_CR, 1, RTL_CR_RE | RTL_CR_TE);
	out(RTL_RCR, 4, rcr);
	out(RTL_IMR, 2, RTL_INT_ROK | RTL_INT_TOK | RTL_INT_TER);
}

static void test_rx_ring(void)
{
	setup();
	rx_on(RTL_RCR_APM); /* 8 KiB ring, no WRAP */
	CU_ASSERT_EQUAL(rtl8139_rx_ring_bytes(dev), 8192);
	size_t len = make_frame(100, 0x11);
	CU_ASSERT_EQUAL(rtl8139_receive(dev, frame, len), 1);
	/* Header: status ROK|PAM, length with CRC; then frame and FCS. */
	CU_ASSERT_EQUAL(ram[0] | ram[1] << 8, RTL_RX_ROK | RTL_RX_PAM);
	CU_ASSERT_EQUAL(ram[2] | ram[3] << 8, 104);
	CU_ASSERT_EQUAL(ram[4 + 99], 0x11);
	uint32_t fcs = eth_fcs32(frame, len);
	CU_ASSERT_EQUAL(ram[104] | ram[105] << 8 | ram[106] << 16 |
				(uint32_t)ram[107] << 24,
			fcs);
	/* CBR: dword aligned past the packet; BUFE clear; ROK raised. */
	CU_ASSERT_EQUAL(in(RTL_CBR, 2), 108);
	CU_ASSERT_FALSE(in(RTL_CR, 1) & RTL_CR_BUFE);
	CU_ASSERT_EQUAL(in(RTL_ISR, 2), RTL_INT_ROK);
	CU_ASSERT_EQUAL(interrupts, 1);
	/* The driver reads it: CAPR = read pointer - 16; empty again. */
	out(RTL_CAPR, 2, 108 - 16);
	CU_ASSERT_TRUE(in(RTL_CR, 1) & RTL_CR_BUFE);
	/* ISR: write 1 to clear, only those bits. */
	out(RTL_ISR, 2, RTL_INT_TOK);
	CU_ASSERT_EQUAL(in(RTL_ISR, 2), RTL_INT_ROK);
	out(RTL_ISR, 2, RTL_INT_ROK);
	CU_ASSERT_EQUAL(in(RTL_ISR, 2), 0);
	/* Filters: another unicast, broadcast without AB: nothing. */
	frame[0] = 0x02;
	rtl8139_receive(dev, frame, len);
	memset(frame, 0xff, 6);
	rtl8139_receive(dev, frame, len);
	CU_ASSERT_EQUAL(in(RTL_CBR, 2), 108);
	CU_ASSERT_EQUAL(dev->rx_delivered, 1);
	CU_ASSERT_EQUAL(dev->rx_delivered_bytes, 100);
}

static void test_rx_wrap_and_full(void)
{
	setup();
	rx_on(RTL_RCR_APM); /* WRAP clear: the tail wraps to RBSTART */
	/* Put the pointers near the end: 8192 - 112. */
	size_t len = make_frame(1000, 0x22);
	uint32_t start = 8192 - 112;
	dev->cbr = (uint16_t)start;
	out(RTL_CAPR, 2, (uint16_t)(start - 16));
	CU_ASSERT_EQUAL(rtl8139_receive(dev, frame, len), 1);
	CU_ASSERT_EQUAL(ram[start + 2] | ram[start + 3] << 8, 1004);
	CU_ASSERT_EQUAL(ram[8191], 0x22);
	CU_ASSERT_EQUAL(ram[0], 0x22); /* wrapped */
	CU_ASSERT_EQUAL(ram[8192], 0); /* nothing past the end */
	uint32_t next = (start + 4 + 1004 + 3) & ~3u;
	CU_ASSERT_EQUAL(in(RTL_CBR, 2), next % 8192);
	/* WRAP set: the packet runs on past the end instead. */
	setup();
	rx_on(RTL_RCR_APM | RTL_RCR_WRAP);
	dev->cbr = (uint16_t)start;
	out(RTL_CAPR, 2, (uint16_t)(start - 16));
	rtl8139_receive(dev, frame, len);
	CU_ASSERT_EQUAL(ram[8192 + 10], 0x22);
	CU_ASSERT_EQUAL(ram[0], 0);
	CU_ASSERT_EQUAL(in(RTL_CBR, 2), next % 8192);
	/* Full: the frame waits until CAPR moves. */
	setup();
	rx_on(RTL_RCR_APM);
	len = make_frame(1500, 0x33);
	int taken = 0;
	while (rtl8139_receive(dev, frame, len) == 1 && taken < 10)
		taken++;
	CU_ASSERT_EQUAL(taken, 5); /* 5 x 1508 bytes in 8 KiB */
	CU_ASSERT_FALSE(rtl8139_can_receive(dev) &&
			rtl8139_receive(dev, frame, len) == 1);
	out(RTL_CAPR, 2, (uint16_t)(1508 - 16)); /* one packet read */
	CU_ASSERT_EQUAL(rtl8139_receive(dev, frame, len), 1);
	/* A frame the chip cannot take: dropped, counted in MPC. */
	len = make_frame(4097, 0x44); /* over 4 KiB: LONG, dropped */
	setup();
	rx_on(RTL_RCR_APM);
	CU_ASSERT_EQUAL(rtl8139_receive(dev, frame, len), 1);
	CU_ASSERT_EQUAL(in(RTL_MPC, 4), 1);
	out(RTL_MPC, 4, 0x1234); /* any write clears */
	CU_ASSERT_EQUAL(in(RTL_MPC, 4), 0);
}

static void test_interrupt_level(void)
{
	setup();
	rx_on(RTL_RCR_APM);
	size_t len = make_frame(64, 1);
	rtl8139_receive(dev, frame, len);
	CU_ASSERT_EQUAL(interrupts, 1);
	/* While the line is high each new cause re-asserts it. */
	rtl8139_receive(dev, frame, len);
	CU_ASSERT_EQUAL(interrupts, 2);
	out(RTL_ISR, 2, RTL_INT_ROK);
	/* Masked causes latch without an interrupt; unmasking raises it. */
	out(RTL_IMR, 2, 0);
	rtl8139_receive(dev, frame, len);
	CU_ASSERT_EQUAL(interrupts, 2);
	CU_ASSERT_EQUAL(in(RTL_ISR, 2), RTL_INT_ROK);
	out(RTL_IMR, 2, RTL_INT_ROK);
	CU_ASSERT_EQUAL(interrupts, 3);
}

static void test_tx(void)
{
	setup();
	out(RTL_CR, 1, RTL_CR_TE);
	out(RTL_IMR, 2, RTL_INT_TOK | RTL_INT_TER);
	for (unsigned i = 0; i < RTL_NR_TX; i++)
		out(RTL_TSAD0 + 4 * i, 4,
		    (uint32_t)(RAM_GPA + TXBUF + i * 2048));
	memset(ram + TXBUF + 2048, 0x5a, 300);
	/* Descriptor 1: OWN written 0 with the size starts it. */
	out(RTL_TSD0 + 4, 4, 300 | 8u << 16);
	CU_ASSERT_EQUAL(nsent, 1);
	CU_ASSERT_EQUAL(sent_len, 300);
	CU_ASSERT_EQUAL(sent[299], 0x5a);
	uint32_t tsd = in(RTL_TSD0 + 4, 4);
	CU_ASSERT_TRUE(tsd & RTL_TSD_OWN);
	CU_ASSERT_TRUE(tsd & RTL_TSD_TOK);
	CU_ASSERT_EQUAL(tsd & RTL_TSD_SIZE_MASK, 300);
	CU_ASSERT_EQUAL(in(RTL_ISR, 2), RTL_INT_TOK);
	CU_ASSERT_EQUAL(interrupts, 1);
	/* TSAD: OWN and TOK of descriptor 1. */
	CU_ASSERT_EQUAL(in(RTL_TSAD, 2) & 0x2222, 0x2002);
	/* Beyond the FIFO, a buffer outside memory: aborted, TER. */
	out(RTL_TSD0 + 8, 4, 1793);
	CU_ASSERT_TRUE(in(RTL_TSD0 + 8, 4) & RTL_TSD_TABT);
	out(RTL_TSAD0 + 12, 4, 0xfffffff0u);
	out(RTL_TSD0 + 12, 4, 64);
	CU_ASSERT_TRUE(in(RTL_TSD0 + 12, 4) & RTL_TSD_TABT);
	CU_ASSERT_EQUAL(nsent, 1);
	CU_ASSERT_TRUE(in(RTL_ISR, 2) & RTL_INT_TER);
	CU_ASSERT_EQUAL(dev->faults.bad_dma, 1);
	/* TE clear: the descriptor waits until TE is set. */
	out(RTL_CR, 1, 0);
	out(RTL_TSD0, 4, 80);
	CU_ASSERT_EQUAL(nsent, 1);
	out(RTL_CR, 1, RTL_CR_TE);
	CU_ASSERT_EQUAL(nsent, 2);
	CU_ASSERT_EQUAL(sent_len, 80);
}

static void test_rx_hostile(void)
{
	setup();
	/* RBSTART outside memory: dropped, counted, nothing written. */
	out(RTL_RBSTART, 4, 0xfffff000u);
	out(RTL_CR, 1, RTL_CR_RE);
	out(RTL_RCR, 4, RTL_RCR_AAP);
	size_t len = make_frame(200, 7);
	CU_ASSERT_EQUAL(rtl8139_receive(dev, frame, len), 1);
	CU_ASSERT_EQUAL(dev->faults.bad_dma, 1);
	CU_ASSERT_EQUAL(in(RTL_CBR, 2), 0);
	/* A ring straddling the end of memory: the packet is lost, not
	 * written partly outside. */
	out(RTL_RBSTART, 4, (uint32_t)(RAM_GPA + RAM_BYTES - 100));
	CU_ASSERT_EQUAL(rtl8139_receive(dev, frame, len), 1);
	CU_ASSERT_EQUAL(dev->faults.bad_dma, 2);
	/* CAPR anywhere: the ring stays consistent (BUFE from the
	 * pointers, CBR where the chip writes). */
	out(RTL_RBSTART, 4, (uint32_t)RAM_GPA);
	out(RTL_CAPR, 2, 0x1234);
	CU_ASSERT_FALSE(in(RTL_CR, 1) & RTL_CR_BUFE);
	CU_ASSERT_EQUAL(rtl8139_receive(dev, frame, len), 1);
	CU_ASSERT_TRUE(in(RTL_CBR, 2) < 8192);
	/* Sizes the BAR does not have. */
	rtl8139_io_write(dev, 0x10, 3, 1);
	rtl8139_io_write(dev, 0x100, 1, 1);
	CU_ASSERT_EQUAL(dev->faults.bad_access, 2);
}

static CU_TestInfo tests[] = {
	{"reset values and CR.RST", test_reset_values},
	{"93C46 through 9346CR", test_eeprom},
	{"82540EM EECD to the same 93C46", test_e1000_eecd},
	{"IDR, CONFIG and TCR write rules", test_idr_and_config_locks},
	{"RX ring: header, FCS, CBR/CAPR, BUFE, ISR", test_rx_ring},
	{"RX ring: wrap, WRAP, full, oversize", test_rx_wrap_and_full},
	{"interrupt line and IMR", test_interrupt_level},
	{"TX descriptors: TSD/TSAD, OWN, TOK, TABT, TE", test_tx},
	{"RX: ring outside memory, CAPR anywhere", test_rx_hostile},
	CU_TEST_INFO_NULL,
};

static int suite_clean(void)
{
	free(ram);
	free(dev);
	return 0;
}

int main(void)
{
	CU_SuiteInfo suites[] = {
		{"rtl8139", NULL, suite_clean, NULL, NULL, tests},
		CU_SUITE_INFO_NULL,
	};
	return pvio_cunit_run(suites);
}
