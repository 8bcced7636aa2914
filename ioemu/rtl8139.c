/* The RTL8139C at register level: the I/O BAR, four TX descriptors, the
 * RX ring buffer, the interrupt, the 93C46. */
#include "config.h"

#include "eth.h"
#include "rtl8139.h"

#include <string.h>

void rtl8139_eeprom_build(uint16_t words[EEPROM_93C46_WORDS],
			  const uint8_t mac[6])
{
	memset(words, 0, EEPROM_93C46_WORDS * sizeof(*words));
	words[0] = RTL_EEPROM_ID;
	words[1] = 0x10ec; /* vendor: Realtek */
	words[2] = 0x8139; /* device */
	for (int i = 0; i < 3; i++)
		words[RTL_EEPROM_MAC_WORD + i] =
			(uint16_t)(mac[2 * i] | mac[2 * i + 1] << 8);
}

void rtl8139_reset(struct rtl8139 *d)
{
	uint8_t idr[6];
	memcpy(idr, d->regs + RTL_IDR0, 6); /* a soft reset keeps the MAC */
	memset(d->regs, 0, sizeof(d->regs));
	memcpy(d->regs + RTL_IDR0, idr, 6);
	for (unsigned i = 0; i < RTL_NR_TX; i++) {
		d->tsd[i] = RTL_TSD_OWN; /* every descriptor is the driver's */
		d->tsad[i] = 0;
	}
	d->rbstart = d->rcr = d->mpc = 0;
	d->tcr = RTL_TCR_HWVER_8139C;
	d->capr = 0xfff0; /* CAPR + 16 = 0 = CBR: the ring is empty */
	d->cbr = 0;
	d->imr = d->isr = 0;
	d->cr = RTL_CR_BUFE;
	d->cfg9346 = 0;
	d->line_high = false;
	eeprom_93c46_pins(&d->eeprom, false, false, false);
	/* The link is up at 100 Mb/s (MSR.LINKB clear), autonegotiated. */
	d->regs[RTL_MSR] = 0;
	d->regs[RTL_BMCR] = 0x00;
	d->regs[RTL_BMCR + 1] = 0x10; /* autonegotiation enable */
	d->regs[RTL_BMSR] = 0x2d;     /* link, autonegotiation done, ext */
	d->regs[RTL_BMSR + 1] = 0x78;
}

void rtl8139_init(struct rtl8139 *d, const uint8_t mac[6],
		  const struct ioemu_mem *mem, const struct e1000_host *host)
{
	memset(d, 0, sizeof(*d));
	d->host = *host;
	d->mem = mem;
	uint16_t words[EEPROM_93C46_WORDS];
	rtl8139_eeprom_build(words, mac);
	eeprom_93c46_init(&d->eeprom, words);
	/* Power-on: IDR0-5 autoload from the EEPROM. */
	for (int i = 0; i < 3; i++) {
		uint16_t w = words[RTL_EEPROM_MAC_WORD + i];
		d->regs[RTL_IDR0 + 2 * i] = (uint8_t)w;
		d->regs[RTL_IDR0 + 2 * i + 1] = (uint8_t)(w >> 8);
	}
	rtl8139_reset(d);
}

/* ---- interrupt ---- */

static void update_irq(struct rtl8139 *d)
{
	bool level = (d->isr & d->imr) != 0;
	if (level && !d->line_high) {
		d->line_high = true;
		d->host.interrupt(d->host.opaque);
	} else if (!level) {
		d->line_high = false;
	}
}

/* The INTA line is level-triggered: while it is high, every new event
 * unmasked in IMR re-asserts it (what re-injection at EOI comes to over
 * an edge-only event channel). Without that, a cause set between the
 * driver's ISR read and its write-1-to-clear ack would leave the line
 * high with nobody told. */
static void raise_isr(struct rtl8139 *d, uint16_t bits)
{
	d->isr |= bits & RTL_INT_MASK;
	if (d->line_high && (bits & d->imr))
		d->host.interrupt(d->host.opaque);
	else
		update_irq(d);
}

/* ---- receive ---- */

uint32_t rtl8139_rx_ring_bytes(const struct rtl8139 *d)
{
	return 8192u << ((d->rcr >> RTL_RCR_RBLEN_SHIFT) & 3);
}

/* Where the driver reads (CAPR + 16) and where the chip writes (CBR),
 * as offsets into the ring. */
static uint32_t rx_read_pos(const struct rtl8139 *d)
{
	return (uint16_t)(d->capr + 16) % rtl8139_rx_ring_bytes(d);
}

static uint32_t rx_used(const struct rtl8139 *d)
{
	uint32_t n = rtl8139_rx_ring_bytes(d);
	return (d->cbr % n + n - rx_read_pos(d)) % n;
}

static bool rx_empty(const struct rtl8139 *d)
{
	return rx_used(d) == 0;
}

bool rtl8139_can_receive(const struct rtl8139 *d)
{
	/* Room for at least a minimal packet. */
	return (d->cr & RTL_CR_RE) &&
	       rtl8139_rx_ring_bytes(d) - rx_used(d) > RTL_RX_HDR + 64 + 4;
}

static bool rx_filter(const struct rtl8139 *d, const uint8_t *dst,
		      uint16_t *status)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	if (!memcmp(dst, bcast, 6)) {
		*status = RTL_RX_BAR;
		return d->rcr & (RTL_RCR_AB | RTL_RCR_AAP);
	}
	if (dst[0] & 1) {
		*status = RTL_RX_MAR;
		if (d->rcr & RTL_RCR_AAP)
			return true;
		unsigned bit = eth_crc32_be(dst, 6) >> 26;
		return (d->rcr & RTL_RCR_AM) &&
		       (d->regs[RTL_MAR0 + bit / 8] >> (bit % 8) & 1);
	}
	*status = RTL_RX_PAM;
	if (!memcmp(dst, d->regs + RTL_IDR0, 6))
		return d->rcr & (RTL_RCR_APM | RTL_RCR_AAP);
	*status = 0;
	return d->rcr & RTL_RCR_AAP;
}

/* Bytes into the ring at offset off: past its end they wrap to the start
 * unless RCR.WRAP lets them run on into the driver's pad. */
static int rx_put(struct rtl8139 *d, uint32_t off, const uint8_t *p,
		  uint32_t len)
{
	uint32_t n = rtl8139_rx_ring_bytes(d);
	uint32_t first = len;
	if (!(d->rcr & RTL_RCR_WRAP) && off + len > n)
		first = n - off;
	if (ioemu_mem_write(d->mem, (uint64_t)d->rbstart + off, p, first))
		return -1;
	if (first < len &&
	    ioemu_mem_write(d->mem, d->rbstart, p + first, len - first))
		return -1;
	return 0;
}

int rtl8139_receive(struct rtl8139 *d, const uint8_t *frame, size_t len)
{
	if (!(d->cr & RTL_CR_RE) || len < 14)
		return 1;
	uint16_t status;
	if (!rx_filter(d, frame, &status))
		return 1;
	uint32_t n = rtl8139_rx_ring_bytes(d);
	uint32_t with_crc = (uint32_t)len + 4;
	uint32_t need = (RTL_RX_HDR + with_crc + 3) & ~3u;
	if (len > 4096 || need >= n) { /* can never fit: the FIFO drops it */
		d->mpc = (d->mpc + 1) & 0xffffff;
		raise_isr(d, RTL_INT_RXOVW);
		return 1;
	}
	/* Strictly less: a full ring would look empty (CBR == CAPR + 16). */
	if (need >= n - rx_used(d))
		return 0;
	uint32_t at = d->cbr % n;
	uint8_t hdr[RTL_RX_HDR] = {(uint8_t)(status | RTL_RX_ROK),
				   (uint8_t)(status >> 8), (uint8_t)with_crc,
				   (uint8_t)(with_crc >> 8)};
	uint32_t fcs = eth_fcs32(frame, len);
	uint8_t crc[4] = {(uint8_t)fcs, (uint8_t)(fcs >> 8),
			  (uint8_t)(fcs >> 16), (uint8_t)(fcs >> 24)};
	/* The header never straddles the end: packets are dword aligned and
	 * the ring is a multiple of 8 KiB. */
	if (rx_put(d, at, hdr, RTL_RX_HDR) ||
	    rx_put(d, (at + RTL_RX_HDR) % n, frame, (uint32_t)len) ||
	    rx_put(d, (at + RTL_RX_HDR + (uint32_t)len) % n, crc, 4)) {
		/* RBSTART points outside guest memory: the packet is lost. */
		d->faults.bad_dma++;
		d->mpc = (d->mpc + 1) & 0xffffff;
		return 1;
	}
	d->cbr = (uint16_t)((at + need) % n);
	d->rx_delivered++;
	d->rx_delivered_bytes += len;
	d->cr &= (uint8_t)~RTL_CR_BUFE;
	raise_isr(d, RTL_INT_ROK);
	return 1;
}

/* ---- transmit ---- */

static void tx_one(struct rtl8139 *d, unsigned i)
{
	uint32_t size = d->tsd[i] & RTL_TSD_SIZE_MASK;
	if (size == 0 || size > RTL_TX_MAX) {
		d->faults.tx_oversize += size > RTL_TX_MAX;
		d->tsd[i] |= RTL_TSD_OWN | RTL_TSD_TABT;
		raise_isr(d, RTL_INT_TER);
		return;
	}
	if (ioemu_mem_read(d->mem, d->tsad[i], d->tx_frame, size)) {
		d->faults.bad_dma++;
		d->tsd[i] |= RTL_TSD_OWN | RTL_TSD_TABT;
		raise_isr(d, RTL_INT_TER);
		return;
	}
	d->host.transmit(d->host.opaque, d->tx_frame, size);
	d->tsd[i] |= RTL_TSD_OWN | RTL_TSD_TOK;
	raise_isr(d, RTL_INT_TOK);
}

/* Descriptors the driver handed over (OWN clear) while TE was off. */
static void tx_pending(struct rtl8139 *d)
{
	for (unsigned i = 0; i < RTL_NR_TX; i++)
		if (!(d->tsd[i] & RTL_TSD_OWN))
			tx_one(d, i);
}

/* ---- registers ---- */

static uint8_t reg_byte(const struct rtl8139 *d, uint32_t off)
{
	uint32_t v;
	unsigned shift = 8 * (off & 3);
	if (off >= RTL_TSD0 && off < RTL_TSD0 + 16)
		return (uint8_t)(d->tsd[(off - RTL_TSD0) / 4] >> shift);
	if (off >= RTL_TSAD0 && off < RTL_TSAD0 + 16)
		return (uint8_t)(d->tsad[(off - RTL_TSAD0) / 4] >> shift);
	switch (off & ~3u) {
	case RTL_RBSTART:
		return (uint8_t)(d->rbstart >> shift);
	case RTL_TCR:
		return (uint8_t)(d->tcr >> shift);
	case RTL_RCR:
		return (uint8_t)(d->rcr >> shift);
	case RTL_MPC:
		return (uint8_t)(d->mpc >> shift);
	}
	switch (off) {
	case RTL_CR:
		return (uint8_t)((d->cr & ~RTL_CR_BUFE) |
				 (rx_empty(d) ? RTL_CR_BUFE : 0));
	case RTL_CAPR:
	case RTL_CAPR + 1:
		v = d->capr;
		return (uint8_t)(v >> 8 * (off - RTL_CAPR));
	case RTL_CBR:
	case RTL_CBR + 1:
		v = d->cbr;
		return (uint8_t)(v >> 8 * (off - RTL_CBR));
	case RTL_IMR:
	case RTL_IMR + 1:
		return (uint8_t)(d->imr >> 8 * (off - RTL_IMR));
	case RTL_ISR:
	case RTL_ISR + 1:
		return (uint8_t)(d->isr >> 8 * (off - RTL_ISR));
	case RTL_9346CR: {
		uint8_t b = d->cfg9346 & ~RTL_9346_EEDO;
		if ((b >> RTL_9346_EEM_SHIFT) == RTL_9346_EEM_PROG &&
		    eeprom_93c46_dout(&d->eeprom))
			b |= RTL_9346_EEDO;
		return b;
	}
	case RTL_TSAD:
	case RTL_TSAD + 1: {
		/* OWN, TABT, TUN, TOK of the four, one bit each (datasheet
		 * "Transmit Status of All Descriptors"). */
		uint16_t all = 0;
		for (unsigned i = 0; i < RTL_NR_TX; i++) {
			all |= (uint16_t)(!!(d->tsd[i] & RTL_TSD_OWN) << i);
			all |= (uint16_t)(!!(d->tsd[i] & RTL_TSD_TABT)
					  << (i + 4));
			all |= (uint16_t)(!!(d->tsd[i] & RTL_TSD_TUN)
					  << (i + 8));
			all |= (uint16_t)(!!(d->tsd[i] & RTL_TSD_TOK)
					  << (i + 12));
		}
		return (uint8_t)(all >> 8 * (off - RTL_TSAD));
	}
	default:
		return d->regs[off];
	}
}

uint32_t rtl8139_io_read(struct rtl8139 *d, uint32_t offset, unsigned size)
{
	if ((size != 1 && size != 2 && size != 4) || offset >= RTL_REGS ||
	    size > RTL_REGS - offset) {
		d->faults.bad_access++;
		return 0xffffffffu;
	}
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)reg_byte(d, offset + i) << (8 * i);
	return v;
}

/* value's bytes that fall on [reg, reg + width), merged into old: the
 * register as the write leaves it. *touched: any byte fell there. */
static uint32_t merge(uint32_t old, uint32_t reg, unsigned width,
		      uint32_t offset, unsigned size, uint32_t value,
		      bool *touched)
{
	*touched = false;
	for (unsigned i = 0; i < size; i++) {
		uint32_t at = offset + i;
		if (at < reg || at >= reg + width)
			continue;
		unsigned lane = 8 * (at - reg);
		old = (old & ~(0xffu << lane)) | ((value >> (8 * i)) & 0xffu)
							 << lane;
		*touched = true;
	}
	return old;
}

static void write_cr(struct rtl8139 *d, uint8_t v)
{
	if (v & RTL_CR_RST) {
		rtl8139_reset(d); /* RST self-clears */
		return;
	}
	bool te_on = !(d->cr & RTL_CR_TE) && (v & RTL_CR_TE);
	d->cr = (uint8_t)((d->cr & RTL_CR_BUFE) |
			  (v & (RTL_CR_TE | RTL_CR_RE)));
	if (te_on)
		tx_pending(d);
}

static void write_9346(struct rtl8139 *d, uint8_t v)
{
	d->cfg9346 = v & 0xce; /* EEM, EECS, EESK, EEDI */
	if ((v >> RTL_9346_EEM_SHIFT) == RTL_9346_EEM_PROG)
		eeprom_93c46_pins(&d->eeprom, v & RTL_9346_EECS,
				  v & RTL_9346_EESK, v & RTL_9346_EEDI);
	else
		eeprom_93c46_pins(&d->eeprom, false, false, false);
}

void rtl8139_io_write(struct rtl8139 *d, uint32_t offset, unsigned size,
		      uint32_t value)
{
	if ((size != 1 && size != 2 && size != 4) || offset >= RTL_REGS ||
	    size > RTL_REGS - offset) {
		d->faults.bad_access++;
		return;
	}
	bool hit;
	uint32_t v;
	/* IDR0-5 take dword writes only (datasheet). */
	if (offset < RTL_IDR0 + 6) {
		if (size != 4 || offset % 4) {
			d->faults.bad_access++;
			return;
		}
		for (unsigned i = 0; i < 4; i++)
			if (offset + i < RTL_IDR0 + 6)
				d->regs[offset + i] = (uint8_t)(value >> 8 * i);
		return;
	}
	for (unsigned i = 0; i < RTL_NR_TX; i++) {
		v = merge(d->tsad[i], RTL_TSAD0 + 4 * i, 4, offset, size, value,
			  &hit);
		if (hit)
			d->tsad[i] = v;
		v = merge(d->tsd[i], RTL_TSD0 + 4 * i, 4, offset, size, value,
			  &hit);
		if (hit) {
			/* Size and early threshold; the status bits clear;
			 * OWN written 0 hands the descriptor over. */
			d->tsd[i] = v & (RTL_TSD_SIZE_MASK | RTL_TSD_OWN |
					 0x003f0000u);
			if (!(v & RTL_TSD_OWN) && (d->cr & RTL_CR_TE))
				tx_one(d, i);
		}
	}
	v = merge(d->rbstart, RTL_RBSTART, 4, offset, size, value, &hit);
	if (hit)
		d->rbstart = v;
	v = merge(d->rcr, RTL_RCR, 4, offset, size, value, &hit);
	if (hit)
		d->rcr = v & 0x0f00ffffu;
	v = merge(d->tcr, RTL_TCR, 4, offset, size, value, &hit);
	if (hit)
		d->tcr = (v & ~RTL_TCR_HWVER_MASK) | RTL_TCR_HWVER_8139C;
	merge(d->mpc, RTL_MPC, 4, offset, size, value, &hit);
	if (hit)
		d->mpc = 0; /* any write clears the counter */
	v = merge(d->capr, RTL_CAPR, 2, offset, size, value, &hit);
	if (hit)
		d->capr = (uint16_t)v;
	v = merge(d->imr, RTL_IMR, 2, offset, size, value, &hit);
	if (hit) {
		d->imr = (uint16_t)(v & RTL_INT_MASK);
		update_irq(d);
	}
	/* ISR: write 1 to clear; bytes not written clear nothing. */
	v = merge(0, RTL_ISR, 2, offset, size, value, &hit);
	if (hit) {
		d->isr &= (uint16_t)~v;
		update_irq(d);
	}
	for (unsigned i = 0; i < size; i++) {
		uint32_t at = offset + i;
		uint8_t b = (uint8_t)(value >> 8 * i);
		if (at == RTL_CR)
			write_cr(d, b);
		else if (at == RTL_9346CR)
			write_9346(d, b);
		else if ((at >= RTL_MAR0 && at < RTL_MAR0 + 8))
			d->regs[at] = b;
		else if (at >= RTL_CONFIG0 && at <= RTL_CONFIG4 &&
			 at != RTL_MSR &&
			 (d->cfg9346 >> RTL_9346_EEM_SHIFT) == RTL_9346_EEM_CFG)
			d->regs[at] = b; /* CONFIGn: only when unlocked */
		else if (at == RTL_BMCR || at == RTL_BMCR + 1)
			d->regs[at] = at == RTL_BMCR + 1 ? b & 0x7f : b;
		/* The rest is read-only (CBR, MSR, BMSR, TSAD) or handled
		 * above. */
	}
}
