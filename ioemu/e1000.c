/* The 82540EM at register level: registers, interrupts with ITR, the
 * EEPROM, and the legacy descriptor rings in guest memory. */
#include "config.h"

#include "e1000.h"
#include "eth.h"

#include <string.h>

/* The PHY (M88E1011) registers MDIC reaches at PHY address 1. */
#define PHY_ADDR 1u

void e1000_eeprom_build(uint16_t eeprom[E1K_EEPROM_WORDS], const uint8_t mac[6])
{
	memset(eeprom, 0, E1K_EEPROM_WORDS * sizeof(*eeprom));
	for (int i = 0; i < 3; i++)
		eeprom[i] = (uint16_t)(mac[2 * i] | mac[2 * i + 1] << 8);
	eeprom[0x0d] = 0x100e; /* device ID: 82540EM */
	eeprom[0x0e] = 0x8086; /* vendor ID: Intel */
	uint16_t sum = 0;
	for (unsigned i = 0; i < E1K_EEPROM_WORDS - 1; i++)
		sum = (uint16_t)(sum + eeprom[i]);
	eeprom[E1K_EEPROM_WORDS - 1] = (uint16_t)(E1K_EEPROM_CHECKSUM - sum);
}

static uint32_t *stat_reg(struct e1000 *d, uint32_t off)
{
	return &d->stats[(off - E1K_STATS_BASE) / 4];
}

static void stat_add(struct e1000 *d, uint32_t off, uint32_t n)
{
	*stat_reg(d, off) += n;
}

/* The 64-bit octet counters: low dword at lo, high at lo + 4. */
static void stat_add64(struct e1000 *d, uint32_t lo, uint64_t n)
{
	uint64_t v = (uint64_t)*stat_reg(d, lo + 4) << 32 | *stat_reg(d, lo);
	v += n;
	*stat_reg(d, lo) = (uint32_t)v;
	*stat_reg(d, lo + 4) = (uint32_t)(v >> 32);
}

void e1000_reset(struct e1000 *d)
{
	d->ctrl = E1K_CTRL_FD; /* full duplex, loaded from the EEPROM */
	/* The emulated link is always up at 1000 Mb/s full duplex. */
	d->status = E1K_STATUS_FD | E1K_STATUS_LU | E1K_STATUS_SPEED_1000;
	d->eecd = E1K_EECD_PRES;
	eeprom_93c46_pins(&d->ee, false, false, false);
	d->eerd = d->ctrl_ext = d->mdic = 0;
	d->icr = d->ims = d->itr = 0;
	d->rctl = d->rdbal = d->rdbah = d->rdlen = d->rdh = d->rdt = 0;
	d->rdtr = 0;
	d->tctl = d->tdbal = d->tdbah = d->tdlen = d->tdh = d->tdt = 0;
	d->tidv = 0;
	d->tipg = 0;
	memset(d->mta, 0, sizeof(d->mta));
	memset(d->ra, 0, sizeof(d->ra));
	memset(d->stats, 0, sizeof(d->stats));
	d->ra[0] = (uint32_t)d->eeprom[0] | (uint32_t)d->eeprom[1] << 16;
	d->ra[1] = (uint32_t)d->eeprom[2] | E1K_RAH_AV;
	d->ioaddr = 0;
	d->line_high = d->throttled = false;
	d->tx_len = 0;
	d->tx_bad = false;
	memset(d->phy, 0, sizeof(d->phy));
	d->phy[0] = 0x1140; /* autonegotiation on, full duplex, 1000 */
	d->phy[1] = 0x796d; /* link up, autonegotiation complete */
	d->phy[2] = 0x0141; /* the M88E1011's identifier */
	d->phy[3] = 0x0c20;
}

void e1000_init(struct e1000 *d, const uint8_t mac[6],
		const struct ioemu_mem *mem, const struct e1000_host *host)
{
	memset(d, 0, sizeof(*d));
	d->host = *host;
	d->mem = mem;
	e1000_eeprom_build(d->eeprom, mac);
	eeprom_93c46_init(&d->ee, d->eeprom);
	e1000_reset(d);
}

/* ---- interrupts ---- */

static uint64_t itr_interval_ns(const struct e1000 *d)
{
	return (uint64_t)(d->itr & 0xffff) * 256;
}

static void deliver(struct e1000 *d)
{
	uint64_t now = d->host.now_ns(d->host.opaque);
	uint64_t gap = itr_interval_ns(d);
	if (gap && d->last_irq_ns && now - d->last_irq_ns < gap) {
		d->throttled = true; /* e1000_timer delivers it */
		return;
	}
	d->throttled = false;
	d->last_irq_ns = now;
	d->host.interrupt(d->host.opaque);
}

/* The line follows ICR & IMS; a rising edge is an interrupt. */
static void update_irq(struct e1000 *d)
{
	bool level = (d->icr & d->ims) != 0;
	if (level && !d->line_high) {
		d->line_high = true;
		deliver(d);
	} else if (!level) {
		d->line_high = false;
		d->throttled = false;
	}
}

static void raise_cause(struct e1000 *d, uint32_t causes)
{
	d->icr |= causes & E1K_ICR_MASK;
	update_irq(d);
}

uint64_t e1000_irq_due_in_ns(const struct e1000 *d, uint64_t now)
{
	if (!d->throttled)
		return UINT64_MAX;
	uint64_t due = d->last_irq_ns + itr_interval_ns(d);
	return due > now ? due - now : 0;
}

void e1000_timer(struct e1000 *d)
{
	if (!d->throttled)
		return;
	uint64_t now = d->host.now_ns(d->host.opaque);
	if (now - d->last_irq_ns < itr_interval_ns(d))
		return;
	d->throttled = false;
	if (d->icr & d->ims) {
		d->last_irq_ns = now;
		d->host.interrupt(d->host.opaque);
	}
}

/* ---- rings ---- */

/* Descriptors in a ring of len bytes (RDLEN/TDLEN: multiples of 128). */
static uint32_t ring_count(uint32_t len)
{
	return len / 16;
}

static uint64_t ring_base(uint32_t lo, uint32_t hi)
{
	return (uint64_t)hi << 32 | (lo & ~0xfu);
}

/* Head and tail inside a ring of at least 8 descriptors; otherwise the
 * ring does nothing (the datasheet leaves it undefined; no access). */
static bool ring_ok(struct e1000 *d, uint32_t n, uint32_t head, uint32_t tail)
{
	if (n >= 8 && head < n && tail < n)
		return true;
	d->faults.bad_ring++;
	return false;
}

/* ---- transmit ---- */

static void tx_emit(struct e1000 *d)
{
	if (d->tx_bad || d->tx_len == 0) {
		d->tx_len = 0;
		d->tx_bad = false;
		return;
	}
	size_t len = d->tx_len;
	/* TCTL.PSP: short frames padded to 64 bytes with the FCS. */
	if ((d->tctl & E1K_TCTL_PSP) && len < 60) {
		memset(d->tx_frame + len, 0, 60 - len);
		len = 60;
	}
	d->host.transmit(d->host.opaque, d->tx_frame, len);
	stat_add(d, E1K_GPTC, 1);
	stat_add(d, E1K_TPT, 1);
	stat_add64(d, E1K_GOTCL, len + 4);
	stat_add64(d, E1K_TOTL, len + 4);
	if (d->tx_frame[0] == 0xff &&
	    !memcmp(d->tx_frame, "\xff\xff\xff\xff\xff\xff", 6))
		stat_add(d, E1K_BPTC, 1);
	else if (d->tx_frame[0] & 1)
		stat_add(d, E1K_MPTC, 1);
	d->tx_len = 0;
}

static void tx_append(struct e1000 *d, uint64_t addr, uint32_t len)
{
	if (d->tx_bad || len == 0)
		return;
	if (len > E1K_TX_MAX_FRAME - d->tx_len) {
		d->faults.tx_oversize++;
		d->tx_bad = true;
		return;
	}
	if (ioemu_mem_read(d->mem, addr, d->tx_frame + d->tx_len, len)) {
		d->faults.bad_dma++;
		d->tx_bad = true;
		return;
	}
	d->tx_len += len;
}

/* Everything between TDH and TDT, as the DMA engine does. */
static void tx_process(struct e1000 *d)
{
	if (!(d->tctl & E1K_TCTL_EN))
		return;
	uint32_t n = ring_count(d->tdlen);
	if (d->tdh == d->tdt || !ring_ok(d, n, d->tdh, d->tdt))
		return;
	uint64_t base = ring_base(d->tdbal, d->tdbah);
	uint32_t causes = 0;
	for (uint32_t done = 0; d->tdh != d->tdt && done < n; done++) {
		uint64_t at = base + (uint64_t)d->tdh * 16;
		struct e1k_tx_desc desc;
		if (ioemu_mem_read(d->mem, at, &desc, sizeof(desc))) {
			/* The ring itself is outside memory: nothing to do. */
			d->faults.bad_dma++;
			d->tx_len = 0;
			d->tx_bad = false;
			d->tdh = d->tdt;
			break;
		}
		uint32_t dword = (uint32_t)desc.length |
				 (uint32_t)desc.cso << 16 |
				 (uint32_t)desc.cmd << 24;
		bool eop, rs;
		if (desc.cmd & E1K_TXD_CMD_DEXT) {
			uint32_t dtyp = (dword >> E1K_TXD_DTYP_SHIFT) & 0xf;
			uint8_t dcmd = desc.cmd;
			eop = dcmd & E1K_TXD_CMD_EOP;
			rs = dcmd & E1K_TXD_CMD_RS;
			if (dtyp == E1K_TXD_DTYP_DATA) {
				if (dcmd & E1K_TXD_DCMD_TSE) {
					d->faults.tx_unsupported++;
					d->tx_bad = true;
				}
				tx_append(d, desc.buffer_addr, dword & 0xfffff);
			} else {
				/* A context descriptor carries no data; its
				 * offloads are not emulated. */
				eop = false;
				if (dtyp != 0)
					d->faults.tx_unsupported++;
			}
		} else {
			eop = desc.cmd & E1K_TXD_CMD_EOP;
			rs = desc.cmd & E1K_TXD_CMD_RS;
			tx_append(d, desc.buffer_addr, desc.length);
		}
		if (eop)
			tx_emit(d);
		if (rs) {
			uint8_t status = E1K_TXD_STAT_DD;
			if (ioemu_mem_write(
				    d->mem,
				    at + offsetof(struct e1k_tx_desc, status),
				    &status, 1) == 0)
				causes |= E1K_ICR_TXDW;
		}
		d->tdh = (d->tdh + 1) % n;
	}
	if (d->tdh == d->tdt)
		causes |= E1K_ICR_TXQE;
	raise_cause(d, causes);
}

/* ---- receive ---- */

static uint32_t rx_buffer_bytes(uint32_t rctl)
{
	uint32_t bsize = (rctl >> E1K_RCTL_BSIZE_SHIFT) & 3;
	uint32_t bytes = 2048u >> bsize;
	/* BSEX multiplies by 16; with BSIZE 00 it is reserved. */
	if ((rctl & E1K_RCTL_BSEX) && bsize)
		bytes *= 16;
	return bytes;
}

static uint32_t rx_free(const struct e1000 *d, uint32_t n)
{
	return (d->rdt + n - d->rdh) % n;
}

bool e1000_can_receive(const struct e1000 *d)
{
	uint32_t n = ring_count(d->rdlen);
	return (d->rctl & E1K_RCTL_EN) && n >= 8 && d->rdh < n && d->rdt < n &&
	       d->rdh != d->rdt;
}

/* RCTL.MO picks which 12 bits of the address index the MTA. */
static bool mta_match(const struct e1000 *d, const uint8_t *dst)
{
	unsigned shift = 4 - ((d->rctl >> E1K_RCTL_MO_SHIFT) & 3);
	uint32_t hash =
		((uint32_t)dst[4] >> shift | (uint32_t)dst[5] << (8 - shift)) &
		0xfff;
	return d->mta[hash >> 5] >> (hash & 31) & 1;
}

static bool rx_filter(struct e1000 *d, const uint8_t *dst)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	if (!memcmp(dst, bcast, 6))
		return d->rctl & (E1K_RCTL_BAM | E1K_RCTL_MPE | E1K_RCTL_UPE);
	if (dst[0] & 1)
		return (d->rctl & (E1K_RCTL_MPE | E1K_RCTL_UPE)) ||
		       mta_match(d, dst);
	if (d->rctl & E1K_RCTL_UPE)
		return true;
	for (unsigned i = 0; i < E1K_RA_PAIRS; i++) {
		uint32_t lo = d->ra[2 * i], hi = d->ra[2 * i + 1];
		uint8_t ra[6] = {(uint8_t)lo,	      (uint8_t)(lo >> 8),
				 (uint8_t)(lo >> 16), (uint8_t)(lo >> 24),
				 (uint8_t)hi,	      (uint8_t)(hi >> 8)};
		if ((hi & E1K_RAH_AV) && !memcmp(ra, dst, 6))
			return true;
	}
	return false;
}

int e1000_receive(struct e1000 *d, const uint8_t *frame, size_t len)
{
	if (!(d->rctl & E1K_RCTL_EN) || len < 14)
		return 1;
	if (!rx_filter(d, frame))
		return 1;
	size_t max = (d->rctl & E1K_RCTL_LPE) ? E1K_TX_MAX_FRAME : 1518 - 4;
	if (len > max) {
		stat_add(d, E1K_ROC, 1);
		return 1;
	}
	uint32_t n = ring_count(d->rdlen);
	if (!ring_ok(d, n, d->rdh, d->rdt))
		return 1;
	bool strip = d->rctl & E1K_RCTL_SECRC;
	uint8_t fcs[4];
	if (!strip) {
		uint32_t c = eth_fcs32(frame, len);
		for (int i = 0; i < 4; i++)
			fcs[i] = (uint8_t)(c >> (8 * i));
	}
	size_t total = len + (strip ? 0 : 4);
	uint32_t bufsz = rx_buffer_bytes(d->rctl);
	uint32_t need = (uint32_t)((total + bufsz - 1) / bufsz);
	if (need > rx_free(d, n)) {
		if (need >= n) { /* can never fit: the FIFO drops it */
			stat_add(d, E1K_MPC, 1);
			raise_cause(d, E1K_ICR_RXO);
			return 1;
		}
		stat_add(d, E1K_RNBC, 1);
		return 0;
	}
	uint64_t base = ring_base(d->rdbal, d->rdbah);
	size_t done = 0;
	bool bad = false;
	while (done < total) {
		uint64_t at = base + (uint64_t)d->rdh * 16;
		struct e1k_rx_desc desc;
		if (ioemu_mem_read(d->mem, at, &desc, sizeof(desc))) {
			d->faults.bad_dma++;
			return 1; /* the ring is outside memory: dropped */
		}
		size_t chunk = total - done < bufsz ? total - done : bufsz;
		struct e1k_rx_desc wb = {.buffer_addr = desc.buffer_addr};
		/* The frame, then as much of the FCS as falls here. */
		size_t from_frame = done < len ? len - done : 0;
		if (from_frame > chunk)
			from_frame = chunk;
		int err = bad ? -1 : 0;
		if (!err && from_frame)
			err = ioemu_mem_write(d->mem, desc.buffer_addr,
					      frame + done, from_frame);
		if (!err && chunk > from_frame)
			err = ioemu_mem_write(d->mem,
					      desc.buffer_addr + from_frame,
					      fcs + (done + from_frame - len),
					      chunk - from_frame);
		if (err) {
			/* A buffer outside memory: the rest of the frame is
			 * lost, its descriptors say so. */
			if (!bad)
				d->faults.bad_dma++;
			bad = true;
			wb.errors = E1K_RXD_ERR_RXE;
			chunk = total - done < bufsz ? total - done : bufsz;
		} else {
			wb.length = (uint16_t)chunk;
		}
		done += chunk;
		wb.status = E1K_RXD_STAT_DD | E1K_RXD_STAT_IXSM |
			    (done == total ? E1K_RXD_STAT_EOP : 0);
		if (ioemu_mem_write(d->mem, at, &wb, sizeof(wb)))
			d->faults.bad_dma++;
		d->rdh = (d->rdh + 1) % n;
	}
	if (!bad) {
		d->rx_delivered++;
		d->rx_delivered_bytes += len;
		stat_add(d, E1K_GPRC, 1);
		stat_add64(d, E1K_GORCL, len + 4);
		static const uint8_t bcast[6] = {0xff, 0xff, 0xff,
						 0xff, 0xff, 0xff};
		if (!memcmp(frame, bcast, 6))
			stat_add(d, E1K_BPRC, 1);
		else if (frame[0] & 1)
			stat_add(d, E1K_MPRC, 1);
	}
	stat_add(d, E1K_TPR, 1);
	stat_add64(d, E1K_TORL, len + 4);
	uint32_t causes = E1K_ICR_RXT0;
	/* RDMTS: free descriptors at or below 1/2, 1/4 or 1/8 of the ring. */
	uint32_t rdmts = (d->rctl >> E1K_RCTL_RDMTS_SHIFT) & 3;
	if (rdmts < 3 && rx_free(d, n) <= n >> (rdmts + 1))
		causes |= E1K_ICR_RXDMT0;
	raise_cause(d, causes);
	return 1;
}

/* ---- registers ---- */

static void eerd_write(struct e1000 *d, uint32_t v)
{
	if (!(v & E1K_EERD_START)) {
		d->eerd = v & ~E1K_EERD_DONE;
		return;
	}
	/* The 93C46 decodes 6 address bits: higher ones wrap. */
	unsigned addr = (v >> E1K_EERD_ADDR_SHIFT) & 0xff;
	uint16_t word = d->eeprom[addr % E1K_EEPROM_WORDS];
	d->eerd = (v & 0xff00u) | E1K_EERD_DONE |
		  (uint32_t)word << E1K_EERD_DATA_SHIFT;
}

static void mdic_write(struct e1000 *d, uint32_t v)
{
	unsigned phy = (v >> E1K_MDIC_PHY_SHIFT) & 0x1f;
	unsigned reg = (v >> E1K_MDIC_REG_SHIFT) & 0x1f;
	uint32_t op = v & (3u << 26);
	uint32_t out = v & 0x03ffffffu;
	if (phy != PHY_ADDR) {
		out |= E1K_MDIC_ERROR;
	} else if (op == E1K_MDIC_OP_READ) {
		out = (out & ~0xffffu) | d->phy[reg];
	} else if (op == E1K_MDIC_OP_WRITE) {
		/* Reset and autonegotiation restart complete at once. */
		d->phy[reg] = (uint16_t)(v & (reg == 0 ? ~0x8200u : 0xffffu));
	}
	d->mdic = out | op | E1K_MDIC_READY;
	if (d->mdic & E1K_MDIC_READY)
		raise_cause(d, E1K_ICR_MDAC);
}

static uint32_t reg_read(struct e1000 *d, uint32_t off)
{
	if (off >= E1K_MTA && off < E1K_MTA + E1K_MTA_REGS * 4)
		return d->mta[(off - E1K_MTA) / 4];
	if (off >= E1K_RAL0 && off < E1K_RAL0 + E1K_RA_PAIRS * 8)
		return d->ra[(off - E1K_RAL0) / 4];
	if (off >= E1K_STATS_BASE && off < E1K_STATS_END) {
		uint32_t *r = stat_reg(d, off);
		uint32_t v = *r;
		/* Clear on read; the octet pairs clear when the high dword
		 * is read, so that low-then-high reads one 64-bit value. */
		bool low_of_pair = off == E1K_GORCL || off == E1K_GOTCL ||
				   off == E1K_TORL || off == E1K_TOTL;
		bool high_of_pair = off == E1K_GORCH || off == E1K_GOTCH ||
				    off == E1K_TORH || off == E1K_TOTH;
		if (high_of_pair)
			r[-1] = 0;
		if (!low_of_pair)
			*r = 0;
		return v;
	}
	switch (off) {
	case E1K_CTRL:
		return d->ctrl;
	case E1K_STATUS:
		return d->status;
	case E1K_EECD:
		return (d->eecd & ~E1K_EECD_DO) |
		       (eeprom_93c46_dout(&d->ee) ? E1K_EECD_DO : 0);
	case E1K_EERD:
		return d->eerd;
	case E1K_CTRL_EXT:
		return d->ctrl_ext;
	case E1K_MDIC:
		return d->mdic;
	case E1K_ICR: {
		/* Read to clear; the line drops with it. */
		uint32_t v = d->icr;
		d->icr = 0;
		update_irq(d);
		return v;
	}
	case E1K_ITR:
		return d->itr;
	case E1K_IMS:
		return d->ims;
	case E1K_RCTL:
		return d->rctl;
	case E1K_RDBAL:
		return d->rdbal;
	case E1K_RDBAH:
		return d->rdbah;
	case E1K_RDLEN:
		return d->rdlen;
	case E1K_RDH:
		return d->rdh;
	case E1K_RDT:
		return d->rdt;
	case E1K_RDTR:
		return d->rdtr;
	case E1K_TCTL:
		return d->tctl;
	case E1K_TIPG:
		return d->tipg;
	case E1K_TDBAL:
		return d->tdbal;
	case E1K_TDBAH:
		return d->tdbah;
	case E1K_TDLEN:
		return d->tdlen;
	case E1K_TDH:
		return d->tdh;
	case E1K_TDT:
		return d->tdt;
	case E1K_TIDV:
		return d->tidv;
	default:
		return 0; /* reserved and write-only registers (ICS, IMC) */
	}
}

static void reg_write(struct e1000 *d, uint32_t off, uint32_t v)
{
	if (off >= E1K_MTA && off < E1K_MTA + E1K_MTA_REGS * 4) {
		d->mta[(off - E1K_MTA) / 4] = v;
		return;
	}
	if (off >= E1K_RAL0 && off < E1K_RAL0 + E1K_RA_PAIRS * 8) {
		unsigned i = (off - E1K_RAL0) / 4;
		/* RAH keeps the address's last two bytes, AS and AV. */
		d->ra[i] = i & 1 ? v & 0x8003ffffu : v;
		return;
	}
	switch (off) {
	case E1K_CTRL:
		if (v & E1K_CTRL_RST) {
			e1000_reset(d); /* RST self-clears */
			return;
		}
		d->ctrl = v & ~E1K_CTRL_PHY_RST;
		return;
	case E1K_EECD:
		/* The request and the wires; GNT follows REQ at once, and
		 * with it software drives the 93C46 (SK, CS, DI; DO reads
		 * back its answer). */
		d->eecd = E1K_EECD_PRES |
			  (v & (E1K_EECD_SK | E1K_EECD_CS | E1K_EECD_DI |
				E1K_EECD_REQ)) |
			  (v & E1K_EECD_REQ ? E1K_EECD_GNT : 0);
		if (d->eecd & E1K_EECD_GNT)
			eeprom_93c46_pins(&d->ee, v & E1K_EECD_CS,
					  v & E1K_EECD_SK, v & E1K_EECD_DI);
		return;
	case E1K_EERD:
		eerd_write(d, v);
		return;
	case E1K_CTRL_EXT:
		d->ctrl_ext = v;
		return;
	case E1K_MDIC:
		mdic_write(d, v);
		return;
	case E1K_ICR:
		d->icr &= ~v; /* write 1 to clear */
		update_irq(d);
		return;
	case E1K_ITR:
		d->itr = v & 0xffff;
		return;
	case E1K_ICS:
		raise_cause(d, v);
		return;
	case E1K_IMS:
		d->ims |= v & E1K_ICR_MASK;
		update_irq(d);
		return;
	case E1K_IMC:
		d->ims &= ~v;
		update_irq(d);
		return;
	case E1K_RCTL:
		d->rctl = v;
		return;
	case E1K_RDBAL:
		d->rdbal = v & ~0xfu;
		return;
	case E1K_RDBAH:
		d->rdbah = v;
		return;
	case E1K_RDLEN:
		d->rdlen = v & 0xfff80u;
		return;
	case E1K_RDH:
		d->rdh = v & 0xffff;
		return;
	case E1K_RDT:
		d->rdt = v & 0xffff;
		return;
	case E1K_RDTR:
		d->rdtr = v & 0xffff;
		return;
	case E1K_TCTL: {
		bool was = d->tctl & E1K_TCTL_EN;
		d->tctl = v;
		if (!was && (v & E1K_TCTL_EN))
			tx_process(d);
		return;
	}
	case E1K_TIPG:
		d->tipg = v;
		return;
	case E1K_TDBAL:
		d->tdbal = v & ~0xfu;
		return;
	case E1K_TDBAH:
		d->tdbah = v;
		return;
	case E1K_TDLEN:
		d->tdlen = v & 0xfff80u;
		return;
	case E1K_TDH:
		d->tdh = v & 0xffff;
		return;
	case E1K_TDT:
		d->tdt = v & 0xffff;
		tx_process(d);
		return;
	case E1K_TIDV:
		d->tidv = v & 0xffff;
		return;
	default:
		return; /* read-only (STATUS, statistics) and reserved */
	}
}

uint32_t e1000_mmio_read(struct e1000 *d, uint32_t offset, unsigned size)
{
	if ((size != 1 && size != 2 && size != 4) || offset % size ||
	    offset >= 0x20000u) {
		d->faults.bad_access++;
		return 0xffffffffu;
	}
	/* A narrower read sees its byte lanes of the dword. */
	uint32_t v = reg_read(d, offset & ~3u);
	v >>= 8 * (offset & 3);
	return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

void e1000_mmio_write(struct e1000 *d, uint32_t offset, unsigned size,
		      uint32_t value)
{
	/* The registers take dword writes only. */
	if (size != 4 || offset % 4 || offset >= 0x20000u) {
		d->faults.bad_access++;
		return;
	}
	reg_write(d, offset, value);
}

uint32_t e1000_pio_read(struct e1000 *d, uint32_t offset, unsigned size)
{
	if (size != 4 || (offset != E1K_IOADDR && offset != E1K_IODATA)) {
		d->faults.bad_access++;
		return 0xffffffffu;
	}
	if (offset == E1K_IOADDR)
		return d->ioaddr;
	return e1000_mmio_read(d, d->ioaddr & 0x1fffcu, 4);
}

void e1000_pio_write(struct e1000 *d, uint32_t offset, unsigned size,
		     uint32_t value)
{
	if (size != 4 || (offset != E1K_IOADDR && offset != E1K_IODATA)) {
		d->faults.bad_access++;
		return;
	}
	if (offset == E1K_IOADDR)
		d->ioaddr = value & 0x1fffcu;
	else
		e1000_mmio_write(d, d->ioaddr, 4, value);
}
