/*
 * pvio-ioemu-nic: the guest's driver for an emulated NIC, in the guest's
 * namespace like pvio-netfront: a TAP eth<N> is the guest's interface.
 * It drives the 82540EM only through register reads and writes (each one
 * a trap through the ioreq page) and legacy descriptor rings in its own
 * memory, in the order Linux's e1000 driver does: reset, MAC from the
 * EEPROM (checksum checked), receive address and multicast table, rings,
 * interrupt throttling and mask; then frames move on ICR's causes.
 *
 * --hostile first plays a broken driver (nonsense registers, rings and
 * buffers outside its memory) and checks the answers the datasheet gives,
 * then resets the NIC and drives it normally: the device model must come
 * through it whole (tests/integration/ioemu.sh).
 */
#include "config.h"

#include "e1000_regs.h"
#include "guest_mem.h"
#include "ioemu_layout.h"
#include "ioreq.h"
#include "pvio_evtchn.h"
#include "pvio_tap.h"
#include "xenstore/xenbus.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define N_RX	   256u
#define N_TX	   256u
#define BUF_BYTES  2048u
#define RX_RING	   0x0u
#define TX_RING	   0x1000u
#define RX_BUFS	   0x2000u
#define TX_BUFS	   (RX_BUFS + N_RX * BUF_BYTES)
#define RAM_NEEDED (TX_BUFS + N_TX * BUF_BYTES)
_Static_assert(RAM_NEEDED <= IOEMU_RAM_BYTES, "rings and buffers fit");

/* Linux e1000's initial throttle: 20000 interrupts/s in 256 ns units. */
#define ITR_DEFAULT 195u

static void nic_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void nic_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pvio-ioemu-nic: %s\n", line);
}

static volatile sig_atomic_t stop_requested;
static void on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct nic {
	unsigned domid, devid;
	struct pvio_xenbus *xb;
	char guest_dir[128], dm_dir[128];
	char ram_path[512], page_path[512];
	struct ioemu_vcpu *vcpu;
	struct pvio_evtchn *irq_evtchn;
	evtchn_port_t irq_port;
	struct ioemu_mem ram; /* the guest's own view of its memory */
	int tap;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	unsigned itr;
	uint32_t rx_next, tx_tail, tx_clean;
	bool dead; /* the device model is gone */
	uint64_t interrupts, tx_frames, rx_frames, rx_dropped;
};

/* ---- register access: every one traps ---- */

static uint32_t access_or_die(struct nic *n, uint8_t type, uint64_t addr,
			      unsigned size, uint8_t dir, uint32_t value)
{
	uint64_t data = value;
	if (n->dead)
		return 0xffffffffu;
	int err = ioemu_vcpu_access(n->vcpu, type, addr, size, dir, &data);
	if (err) {
		nic_log("eth%u: the device model does not answer (%s): the "
			"NIC is gone",
			n->devid, strerror(-err));
		n->dead = true;
		stop_requested = 1;
		return 0xffffffffu;
	}
	return (uint32_t)data;
}

static uint32_t rd(struct nic *n, uint32_t off)
{
	return access_or_die(n, IOREQ_TYPE_COPY, IOEMU_E1000_MMIO_BASE + off, 4,
			     IOREQ_READ, 0);
}

static void wr(struct nic *n, uint32_t off, uint32_t v)
{
	access_or_die(n, IOREQ_TYPE_COPY, IOEMU_E1000_MMIO_BASE + off, 4,
		      IOREQ_WRITE, v);
}

static uint64_t gpa(uint32_t off)
{
	return IOEMU_RAM_GPA + off;
}

static void *host(struct nic *n, uint32_t off, uint32_t len)
{
	return ioemu_mem_ptr(&n->ram, gpa(off), len);
}

static volatile struct e1k_rx_desc *rx_desc(struct nic *n, uint32_t i)
{
	return host(n, RX_RING + i * 16, 16);
}

static volatile struct e1k_tx_desc *tx_desc(struct nic *n, uint32_t i)
{
	return host(n, TX_RING + i * 16, 16);
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
	nic_log("eth%u: CTRL.RST did not clear", n->devid);
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
	nic_log("eth%u: EEPROM word %u: EERD never reported done", n->devid,
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
		nic_log("eth%u: the EEPROM checksum is 0x%04x, not 0x%04x",
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
	memset(host(n, 0, RAM_NEEDED), 0, RAM_NEEDED);
	for (uint32_t i = 0; i < N_RX; i++)
		rx_desc(n, i)->buffer_addr = gpa(RX_BUFS + i * BUF_BYTES);
	n->rx_next = n->tx_tail = n->tx_clean = 0;

	wr(n, E1K_TDBAL, (uint32_t)gpa(TX_RING));
	wr(n, E1K_TDBAH, (uint32_t)(gpa(TX_RING) >> 32));
	wr(n, E1K_TDLEN, N_TX * 16);
	wr(n, E1K_TDH, 0);
	wr(n, E1K_TDT, 0);
	wr(n, E1K_TIPG, 0x0060200au); /* IPGT 10, IPGR1 8, IPGR2 6 */
	wr(n, E1K_TCTL,
	   E1K_TCTL_EN | E1K_TCTL_PSP | 0x0fu << 4 /* CT */ |
		   0x40u << 12 /* COLD, full duplex */);

	wr(n, E1K_RDBAL, (uint32_t)gpa(RX_RING));
	wr(n, E1K_RDBAH, (uint32_t)(gpa(RX_RING) >> 32));
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
		uint8_t hdr[PVIO_TAP_VNET_HDR_BYTES];
		struct iovec iov[2] = {
			{hdr, sizeof(hdr)},
			{host(n, TX_BUFS + i * BUF_BYTES, BUF_BYTES),
			 BUF_BYTES}};
		ssize_t got = readv(n->tap, iov, 2);
		if (got <= (ssize_t)sizeof(hdr))
			break;
		volatile struct e1k_tx_desc *d = tx_desc(n, i);
		d->buffer_addr = gpa(TX_BUFS + i * BUF_BYTES);
		d->length = (uint16_t)(got - (ssize_t)sizeof(hdr));
		d->status = 0;
		d->cmd = E1K_TXD_CMD_EOP | E1K_TXD_CMD_IFCS | E1K_TXD_CMD_RS;
		n->tx_tail = (i + 1) % N_TX;
		queued++;
	}
	if (queued) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		wr(n, E1K_TDT, n->tx_tail);
		n->tx_frames += queued;
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
			uint8_t hdr[PVIO_TAP_VNET_HDR_BYTES] = {0};
			struct iovec iov[2] = {
				{hdr, sizeof(hdr)},
				{host(n, RX_BUFS + n->rx_next * BUF_BYTES, len),
				 len}};
			if (writev(n->tap, iov, 2) >= 0)
				n->rx_frames++;
			else
				n->rx_dropped++;
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

/* The interrupt handler: one ICR read says why (and clears it). */
static void on_interrupt(struct nic *n)
{
	n->interrupts++;
	uint32_t icr = rd(n, E1K_ICR);
	if (icr & E1K_ICR_LSC)
		pvio_tap_set_up(n->ifname,
				(rd(n, E1K_STATUS) & E1K_STATUS_LU) != 0);
	tx_reclaim(n);
	rx_clean(n);
}

/* ---- the hostile driver ---- */

static int hostile_checks;
static int hostile_failures;

static void expect(struct nic *n, const char *what, uint32_t got, uint32_t want)
{
	hostile_checks++;
	if (got != want) {
		hostile_failures++;
		nic_log("eth%u: hostile: %s: got 0x%08x, the datasheet says "
			"0x%08x",
			n->devid, what, got, want);
	}
}

static void hostile(struct nic *n)
{
	/* Reserved and write-only registers, odd sizes, outside the BAR. */
	expect(n, "a reserved register reads 0", rd(n, 0x0004), 0);
	expect(n, "IMC is write-only", rd(n, E1K_IMC), 0);
	wr(n, E1K_STATUS, 0);
	expect(n, "STATUS ignores writes (LU still set)",
	       rd(n, E1K_STATUS) & E1K_STATUS_LU, E1K_STATUS_LU);
	expect(n, "beyond the MMIO BAR floats high",
	       access_or_die(n, IOREQ_TYPE_COPY,
			     IOEMU_E1000_MMIO_BASE + IOEMU_E1000_MMIO_BYTES, 4,
			     IOREQ_READ, 0),
	       0xffffffffu);
	expect(n, "an unaligned dword read is absorbed",
	       access_or_die(n, IOREQ_TYPE_COPY, IOEMU_E1000_MMIO_BASE + 2, 4,
			     IOREQ_READ, 0),
	       0xffffffffu);
	expect(n, "an unknown I/O port floats high",
	       access_or_die(n, IOREQ_TYPE_PIO, 0x80, 1, IOREQ_READ, 0),
	       0xffffffffu);
	access_or_die(n, IOREQ_TYPE_COPY, IOEMU_E1000_MMIO_BASE + E1K_CTRL, 2,
		      IOREQ_WRITE, 0xffff);
	access_or_die(n, 0x55, 0x1234, 4, IOREQ_WRITE, 1);
	for (uint32_t off = 0; off < 0x6000; off += 0x44)
		if (off != E1K_CTRL && off != E1K_ICR && off != E1K_ICS &&
		    off != E1K_IMS)
			wr(n, off, 0xdeadbeef ^ off);
	/* ICR: causes set by ICS read back once, then read as zero. */
	wr(n, E1K_IMC, 0xffffffffu);
	rd(n, E1K_ICR);
	wr(n, E1K_ICS, E1K_ICR_TXDW | E1K_ICR_RXT0);
	expect(n, "ICR holds what ICS set", rd(n, E1K_ICR),
	       E1K_ICR_TXDW | E1K_ICR_RXT0);
	expect(n, "ICR is clear after its read", rd(n, E1K_ICR), 0);
	/* A TX ring outside memory, then a ring whose buffers are. */
	wr(n, E1K_TDBAL, 0x10);
	wr(n, E1K_TDBAH, 0xffffffffu);
	wr(n, E1K_TDLEN, N_TX * 16);
	wr(n, E1K_TDH, 0);
	wr(n, E1K_TCTL, E1K_TCTL_EN);
	wr(n, E1K_TDT, 5);
	wr(n, E1K_TDT, 0xffff); /* beyond the ring */
	memset(host(n, 0, RAM_NEEDED), 0, RAM_NEEDED);
	for (uint32_t i = 0; i < 16; i++) {
		volatile struct e1k_tx_desc *d = tx_desc(n, i);
		d->buffer_addr = i & 1 ? ~0ull - 8 : gpa(IOEMU_RAM_BYTES - 8);
		d->length = 0xffff;
		d->cmd = (uint8_t)(E1K_TXD_CMD_EOP | E1K_TXD_CMD_RS |
				   (i % 4 == 3 ? E1K_TXD_CMD_DEXT : 0));
	}
	wr(n, E1K_TDBAL, (uint32_t)gpa(TX_RING));
	wr(n, E1K_TDBAH, 0);
	wr(n, E1K_TDH, 0);
	wr(n, E1K_TDT, 16);
	expect(n, "TDH followed TDT past the bad buffers", rd(n, E1K_TDH), 16);
	expect(n, "bad buffers still get DD (RS)",
	       tx_desc(n, 0)->status & E1K_TXD_STAT_DD, E1K_TXD_STAT_DD);
	/* RX: a ring of buffers outside memory, then RDT beyond the ring. */
	for (uint32_t i = 0; i < N_RX; i++)
		rx_desc(n, i)->buffer_addr = 0xfffffffffffff000ull;
	wr(n, E1K_RDBAL, (uint32_t)gpa(RX_RING));
	wr(n, E1K_RDBAH, 0);
	wr(n, E1K_RDLEN, N_RX * 16);
	wr(n, E1K_RDH, 0);
	wr(n, E1K_RDT, N_RX - 1);
	wr(n, E1K_RCTL,
	   E1K_RCTL_EN | E1K_RCTL_UPE | E1K_RCTL_MPE | E1K_RCTL_BAM);
	wr(n, E1K_RDLEN, 0);
	wr(n, E1K_RDT, 0xffff);
	expect(n, "RDLEN keeps 128-byte multiples",
	       (wr(n, E1K_RDLEN, 0x12345), rd(n, E1K_RDLEN)), 0x12300);
	expect(n, "RDT keeps 16 bits",
	       (wr(n, E1K_RDT, 0x12345), rd(n, E1K_RDT)), 0x2345);
	nic_log("eth%u: hostile: %d checks, %d answers off the datasheet",
		n->devid, hostile_checks, hostile_failures);
}

/* ---- setup ---- */

static int guest_side_init(struct nic *n)
{
	snprintf(n->page_path, sizeof(n->page_path), IOEMU_SIM_IOREQ_FMT,
		 pvio_sim_rundir(), n->domid, n->devid);
	snprintf(n->ram_path, sizeof(n->ram_path), IOEMU_SIM_RAM_FMT,
		 pvio_sim_rundir(), n->domid, n->devid);
	char dir[512];
	snprintf(dir, sizeof(dir), PVIO_SIM_DOMAIN_DIR_FMT, pvio_sim_rundir(),
		 n->domid);
	mkdir(pvio_sim_rundir(), 0755);
	mkdir(dir, 0755);
	void *ram;
	int err = ioemu_map_file(n->ram_path, IOEMU_RAM_BYTES, 1, &ram);
	if (err) {
		nic_log("guest memory %s: %s", n->ram_path, strerror(-err));
		return -1;
	}
	n->ram = (struct ioemu_mem){.host = ram,
				    .gpa_base = IOEMU_RAM_GPA,
				    .size = IOEMU_RAM_BYTES};
	if ((err = ioemu_vcpu_create(PVIO_PLATFORM_AUTO, n->page_path, 0,
				     &n->vcpu))) {
		nic_log("the ioreq page %s: %s", n->page_path, strerror(-err));
		return -1;
	}
	if ((err = pvio_evtchn_open(PVIO_PLATFORM_AUTO, &n->irq_evtchn))) {
		nic_log("event channels: %s", strerror(-err));
		return -1;
	}
	int port = pvio_evtchn_alloc_unbound(n->irq_evtchn, 0);
	if (port < 0) {
		nic_log("the interrupt's port: %s", strerror(-port));
		return -1;
	}
	n->irq_port = (evtchn_port_t)port;
	char path[256];
	snprintf(path, sizeof(path), "%s/irq-port", n->guest_dir);
	if ((err = pvio_xenbus_write_uint(n->xb, XBT_NULL, path,
					  n->irq_port)) ||
	    (err = pvio_xenbus_switch_state(n->xb, XBT_NULL, n->guest_dir,
					    XenbusStateInitialised))) {
		nic_log("writing %s: %s", n->guest_dir, strerror(-err));
		return -1;
	}
	enum xenbus_state st;
	if (pvio_xenbus_wait_state(n->xb, n->dm_dir,
				   PVIO_XENBUS_STATE_BIT(XenbusStateConnected),
				   30000, &st)) {
		nic_log("the device model of vif%u.%u did not connect within "
			"30 s (see its log)",
			n->domid, n->devid);
		return -1;
	}
	return 0;
}

static void run(struct nic *n)
{
	struct pollfd pfd[2] = {
		{.fd = pvio_evtchn_fd(n->irq_evtchn), .events = POLLIN},
		{.fd = n->tap, .events = POLLIN},
	};
	while (!stop_requested) {
		tx_reclaim(n);
		pfd[1].events = tx_free(n) ? POLLIN : 0;
		int r = poll(pfd, 2, 1000);
		if (r < 0 && errno != EINTR)
			break;
		int port;
		bool any = false;
		while ((port = pvio_evtchn_pending(n->irq_evtchn)) >= 0) {
			any = true;
			on_interrupt(n);
			pvio_evtchn_unmask(n->irq_evtchn, (evtchn_port_t)port);
		}
		if (pfd[1].revents & POLLIN)
			tx_send(n);
		if (!any && r == 0 &&
		    pvio_evtchn_peer_closed(n->irq_evtchn, n->irq_port) == 1) {
			nic_log("eth%u: the device model closed the interrupt "
				"port: the NIC is gone",
				n->devid);
			n->dead = true;
			break;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"devid", required_argument, NULL, 'n'},
		{"itr", required_argument, NULL, 'i'},
		{"hostile", no_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static struct nic n = {.tap = -1, .itr = ITR_DEFAULT};
	bool have_dev = false, be_hostile = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		unsigned long v;
		switch (c) {
		case 'n':
		case 'i':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || v > 0xffff) {
				nic_log("--%s %s: not a number from 0 to 65535",
					c == 'n' ? "devid" : "itr", optarg);
				return 2;
			}
			if (c == 'n') {
				n.devid = (unsigned)v;
				have_dev = true;
			} else {
				n.itr = (unsigned)v;
			}
			break;
		case 'x':
			be_hostile = true;
			break;
		case 'h':
		default:
			fprintf(c == 'h' ? stdout : stderr,
				"usage: pvio-ioemu-nic --devid N [--itr "
				"256NS] [--hostile]\n"
				"The guest's driver of emulated NIC N (started "
				"by `pvio network-attach DOM\ntype=ioemu`): "
				"the TAP eth<N>. Environment: PVIO_DOMID, "
				"XENSTORED_PATH,\nPVIO_RUNDIR.\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!have_dev || optind != argc) {
		nic_log("usage: pvio-ioemu-nic --devid N [--itr 256NS] "
			"[--hostile]");
		return 2;
	}
	domid_t self;
	if (pvio_sim_self_domid(&self)) {
		nic_log("PVIO_DOMID is not a domain id");
		return 2;
	}
	n.domid = self;
	snprintf(n.guest_dir, sizeof(n.guest_dir), IOEMU_GUEST_DIR_FMT, n.domid,
		 n.devid);
	snprintf(n.dm_dir, sizeof(n.dm_dir), IOEMU_DM_DIR_FMT, n.domid,
		 n.devid);
	snprintf(n.ifname, sizeof(n.ifname), "eth%u", n.devid);
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int rc = 1;
	n.xb = pvio_xenbus_open();
	if (!n.xb) {
		nic_log("cannot reach xenstore: %s", strerror(errno));
		return 1;
	}
	n.tap = pvio_tap_open(n.ifname);
	if (n.tap < 0) {
		nic_log("cannot create %s: %s", n.ifname, strerror(-n.tap));
		goto out;
	}
	if (guest_side_init(&n))
		goto out;
	if (be_hostile)
		hostile(&n);
	if (e1000_up(&n))
		goto out;
	int err = pvio_tap_set_mac(n.ifname, n.mac);
	if (!err)
		err = pvio_tap_set_up(
			n.ifname, (rd(&n, E1K_STATUS) & E1K_STATUS_LU) != 0);
	if (err) {
		nic_log("%s: %s", n.ifname, strerror(-err));
		goto out;
	}
	pvio_xenbus_switch_state(n.xb, XBT_NULL, n.guest_dir,
				 XenbusStateConnected);
	nic_log("eth%u: e1000 %02x:%02x:%02x:%02x:%02x:%02x up (ITR %u)",
		n.devid, n.mac[0], n.mac[1], n.mac[2], n.mac[3], n.mac[4],
		n.mac[5], n.itr);
	run(&n);
	nic_log("eth%u: %llu traps, %llu interrupts, %llu frames out, %llu in, "
		"%llu dropped",
		n.devid, (unsigned long long)ioemu_vcpu_traps(n.vcpu),
		(unsigned long long)n.interrupts,
		(unsigned long long)n.tx_frames,
		(unsigned long long)n.rx_frames,
		(unsigned long long)n.rx_dropped);
	rc = n.dead ? 1 : 0;
out:
	if (!n.dead && n.vcpu)
		pvio_xenbus_switch_state(n.xb, XBT_NULL, n.guest_dir,
					 XenbusStateClosed);
	ioemu_vcpu_destroy(n.vcpu);
	if (n.irq_evtchn)
		pvio_evtchn_close(n.irq_evtchn);
	ioemu_unmap_file(n.ram.host, IOEMU_RAM_BYTES);
	if (n.page_path[0])
		unlink(n.page_path);
	if (n.ram_path[0])
		unlink(n.ram_path);
	if (n.tap >= 0)
		close(n.tap);
	pvio_xenbus_close(n.xb);
	return rc;
}
