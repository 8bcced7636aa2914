/*
 * libFuzzer target over the device models (ioemu/e1000.c, the 82540EM,
 * and ioemu/rtl8139.c, the RTL8139C): the guest is
 * untrusted input. It writes any register with any size, lays out any
 * descriptors and buffers in its memory (and rewrites them midway), and
 * frames arrive from the wire; the model must never touch memory outside
 * the guest's region or its own state, and its heads stay in their rings.
 *
 * Input: a byte whose top bit picks the RTL8139 and whose low 7 bits are
 * L, then L * 64 bytes copied into guest memory, then operations of one
 * opcode byte each (for the RTL8139, 0-2 are I/O BAR accesses at the
 * index's low byte):
 *   0 write: u16 register index (into a table of the registers the model
 *     knows, or raw offsets when the top bit is set), u8 size, u32 value
 *   1 read: u16 index, u8 size
 *   2 I/O BAR: u8 offset, u8 size, u32 value, u8 read
 *   3 frame from the wire: u16 length, the bytes
 *   4 the clock moves: u16 microseconds; the ITR timer runs
 *   5 the guest rewrites its memory: u16 offset, u8 length, the bytes
 */
#include "config.h"

#include "e1000.h"
#include "rtl8139.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

#define RAM_GPA	  0x1000ull
#define RAM_BYTES 65536u

static const uint32_t known[] = {
	E1K_CTRL,  E1K_STATUS, E1K_EECD,  E1K_EERD, E1K_MDIC, E1K_ICR,
	E1K_ITR,   E1K_ICS,    E1K_IMS,	  E1K_IMC,  E1K_RCTL, E1K_TCTL,
	E1K_RDBAL, E1K_RDBAH,  E1K_RDLEN, E1K_RDH,  E1K_RDT,  E1K_TDBAL,
	E1K_TDBAH, E1K_TDLEN,  E1K_TDH,	  E1K_TDT,  E1K_RAL0, E1K_RAH0,
	E1K_MTA,   E1K_GORCL,  E1K_GORCH, E1K_GPRC, E1K_TPT,  E1K_RDTR,
};

static uint64_t now;
static size_t frames_out;

static void on_transmit(void *opaque, const uint8_t *frame, size_t len)
{
	(void)opaque;
	CHECK(len > 0 && len <= E1K_TX_MAX_FRAME);
	volatile uint8_t sink = frame[len - 1]; /* readable, all of it */
	(void)sink;
	frames_out++;
}

static void on_interrupt(void *opaque)
{
	(void)opaque;
}

static uint64_t clock_now(void *opaque)
{
	(void)opaque;
	return now;
}

struct input {
	const uint8_t *p;
	size_t left;
};

static int take(struct input *in, void *out, size_t n)
{
	if (in->left < n)
		return -1;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return 0;
}

static uint32_t offset_of(uint16_t index)
{
	if (index & 0x8000u)
		return (uint32_t)(index & 0x7fffu) * 4 + (index & 3);
	return known[index % (sizeof(known) / sizeof(*known))] +
	       4 * ((index >> 8) & 0x7f);
}

static void check_rtl(const struct rtl8139 *d)
{
	CHECK((d->isr & ~RTL_INT_MASK) == 0);
	CHECK((d->imr & ~RTL_INT_MASK) == 0);
	CHECK(d->cbr < rtl8139_rx_ring_bytes(d));
	CHECK((d->cbr & 3) == 0);
}

static void check_state(const struct e1000 *d)
{
	CHECK(d->tx_len <= E1K_TX_MAX_FRAME);
	CHECK(d->rdh <= 0xffff && d->rdt <= 0xffff);
	CHECK(d->tdh <= 0xffff && d->tdt <= 0xffff);
	CHECK((d->icr & ~E1K_ICR_MASK) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct e1000 *dev;
	static struct rtl8139 *rtl;
	if (!ram) {
		ram = malloc(RAM_BYTES);
		dev = malloc(sizeof(*dev));
		rtl = malloc(sizeof(*rtl));
		if (!ram || !dev || !rtl)
			abort();
	}
	struct input in = {data, size};
	uint8_t blocks = 0;
	take(&in, &blocks, 1);
	bool is_rtl = blocks & 0x80;
	blocks &= 0x7f;
	memset(ram, 0, RAM_BYTES);
	size_t seed = (size_t)blocks * 64;
	if (seed > in.left)
		seed = in.left;
	memcpy(ram, in.p, seed);
	in.p += seed;
	in.left -= seed;
	struct ioemu_mem mem = {
		.host = ram, .gpa_base = RAM_GPA, .size = RAM_BYTES};
	struct e1000_host host = {.transmit = on_transmit,
				  .interrupt = on_interrupt,
				  .now_ns = clock_now};
	static const uint8_t mac[6] = {0x00, 0x16, 0x3e, 1, 2, 3};
	now = 1;
	e1000_init(dev, mac, &mem, &host);
	rtl8139_init(rtl, mac, &mem, &host);
	uint8_t op;
	while (take(&in, &op, 1) == 0) {
		uint16_t idx, len;
		uint8_t sz, off, rd;
		uint32_t v;
		static uint8_t frame[E1K_TX_MAX_FRAME + 64];
		if (is_rtl && op % 6 <= 2) {
			if (take(&in, &idx, 2) || take(&in, &sz, 1) ||
			    take(&in, &v, 4))
				return 0;
			if (op % 6 == 1)
				rtl8139_io_read(rtl, idx & 0x1ff, sz & 7);
			else
				rtl8139_io_write(rtl, idx & 0x1ff, sz & 7, v);
			check_rtl(rtl);
			continue;
		}
		switch (op % 6) {
		case 0:
			if (take(&in, &idx, 2) || take(&in, &sz, 1) ||
			    take(&in, &v, 4))
				return 0;
			e1000_mmio_write(dev, offset_of(idx), sz & 7, v);
			break;
		case 1:
			if (take(&in, &idx, 2) || take(&in, &sz, 1))
				return 0;
			e1000_mmio_read(dev, offset_of(idx), sz & 7);
			break;
		case 2:
			if (take(&in, &off, 1) || take(&in, &sz, 1) ||
			    take(&in, &v, 4) || take(&in, &rd, 1))
				return 0;
			if (rd & 1)
				e1000_pio_read(dev, off & 7, sz & 7);
			else
				e1000_pio_write(dev, off & 7, sz & 7, v);
			break;
		case 3:
			if (take(&in, &len, 2))
				return 0;
			len %= sizeof(frame);
			if (len > in.left)
				len = (uint16_t)in.left;
			memcpy(frame, in.p, len);
			in.p += len;
			in.left -= len;
			if (is_rtl && rtl8139_can_receive(rtl))
				rtl8139_receive(rtl, frame, len);
			else if (!is_rtl && e1000_can_receive(dev))
				e1000_receive(dev, frame, len);
			break;
		case 4:
			if (take(&in, &len, 2))
				return 0;
			now += (uint64_t)len * 1000;
			e1000_irq_due_in_ns(dev, now);
			e1000_timer(dev);
			break;
		case 5:
			if (take(&in, &idx, 2) || take(&in, &sz, 1))
				return 0;
			idx %= RAM_BYTES;
			if (sz > RAM_BYTES - idx)
				sz = (uint8_t)(RAM_BYTES - idx);
			if (sz > in.left)
				sz = (uint8_t)in.left;
			memcpy(ram + idx, in.p, sz);
			in.p += sz;
			in.left -= sz;
			break;
		}
		check_state(dev);
		check_rtl(rtl);
	}
	return 0;
}
