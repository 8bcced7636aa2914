/*
 * pvio-ioemu-dm: the device model of one emulated NIC, in dom0, as QEMU is
 * for a Xen HVM guest. It serves the guest's trapped register accesses
 * from the shared ioreq page, moves frames between the emulated NIC's
 * rings in guest memory and the TAP vif<D>.<N>-emu, and raises the NIC's
 * interrupt over an event channel. docs/ioemu.md has the whole picture.
 */
#include "config.h"

#include "e1000.h"
#include "guest_mem.h"
#include "ioemu_layout.h"
#include "ioemu_stats.h"
#include "ioreq.h"
#include "rtl8139.h"
#include "pvio_evtchn.h"
#include "pvio_tap.h"
#include "util/pvio_log.h"
#include "util/pvio_stop.h"
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
#include <time.h>
#include <unistd.h>

struct dm {
	unsigned domid, devid;
	struct pvio_xenbus *xb;
	char dm_dir[128], guest_dir[128];
	int tap;
	struct pvio_evtchn *evtchn;
	struct ioemu_ioreq_server *ioreq;
	evtchn_port_t irq_port;
	bool irq_lost; /* the guest closed its interrupt port */
	struct ioemu_mem mem;
	bool rtl; /* model=rtl8139, else e1000 */
	struct e1000 nic;
	struct rtl8139 rtl8139;
	/* A frame the NIC had no descriptors for yet (its RX FIFO). */
	uint8_t rx_frame[E1K_TX_MAX_FRAME];
	size_t rx_len;
	bool rx_held;
	uint64_t ioreqs, interrupts, tx_frames, tx_bytes;
	struct ioemu_nic_stats *stats; /* for network-stats; NULL: none */
	char stats_path[512];
};

/* The emulated NIC, whichever model it is. */
static struct e1000_faults *nic_faults(struct dm *dm)
{
	return dm->rtl ? &dm->rtl8139.faults : &dm->nic.faults;
}

static bool nic_can_receive(struct dm *dm)
{
	return dm->rtl ? rtl8139_can_receive(&dm->rtl8139)
		       : e1000_can_receive(&dm->nic);
}

static int nic_receive(struct dm *dm, const uint8_t *frame, size_t len)
{
	return dm->rtl ? rtl8139_receive(&dm->rtl8139, frame, len)
		       : e1000_receive(&dm->nic, frame, len);
}

/* The counters network-stats reads, published in place. */
static void publish_stats(struct dm *dm)
{
	struct ioemu_nic_stats *s = dm->stats;
	if (!s)
		return;
	const struct e1000_faults *f = nic_faults(dm);
#define PUT(field, v) __atomic_store_n(&s->field, (v), __ATOMIC_RELAXED)
	PUT(tx_packets, dm->tx_frames);
	PUT(tx_bytes, dm->tx_bytes);
	PUT(rx_packets,
	    dm->rtl ? dm->rtl8139.rx_delivered : dm->nic.rx_delivered);
	PUT(rx_bytes, dm->rtl ? dm->rtl8139.rx_delivered_bytes
			      : dm->nic.rx_delivered_bytes);
	PUT(ioreqs, dm->ioreqs);
	PUT(interrupts, dm->interrupts);
	PUT(bad_access, f->bad_access);
	PUT(bad_dma, f->bad_dma);
	PUT(bad_ring, f->bad_ring);
	PUT(tx_oversize, f->tx_oversize);
	PUT(tx_unsupported, f->tx_unsupported);
#undef PUT
}

static void open_stats(struct dm *dm, const char *model)
{
	char dir[512];
	snprintf(dir, sizeof(dir), IOEMU_STATS_DIR, pvio_sim_rundir());
	mkdir(dir, 0755);
	snprintf(dm->stats_path, sizeof(dm->stats_path), IOEMU_STATS_FMT,
		 pvio_sim_rundir(), dm->domid, dm->devid);
	void *p;
	int err = ioemu_map_file(dm->stats_path, sizeof(*dm->stats), 1, &p);
	if (err) {
		pvio_log("no statistics file %s: %s", dm->stats_path,
			 strerror(-err));
		dm->stats_path[0] = 0;
		return;
	}
	dm->stats = p;
	dm->stats->domid = dm->domid;
	dm->stats->devid = dm->devid;
	snprintf(dm->stats->model, sizeof(dm->stats->model), "%s", model);
	dm->stats->size = sizeof(*dm->stats);
	dm->stats->version = IOEMU_STATS_VERSION;
	__atomic_store_n(&dm->stats->magic, IOEMU_STATS_MAGIC,
			 __ATOMIC_RELEASE);
}

static uint64_t now_ns(void *opaque)
{
	(void)opaque;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void nic_transmit(void *opaque, const uint8_t *frame, size_t len)
{
	struct dm *dm = opaque;
	uint8_t hdr[PVIO_TAP_VNET_HDR_BYTES] = {0};
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)frame, len}};
	/* A full TAP queue drops the frame, as a wire would not take it. */
	if (writev(dm->tap, iov, 2) >= 0) {
		dm->tx_frames++;
		dm->tx_bytes += len;
	}
}

static void nic_interrupt(void *opaque)
{
	struct dm *dm = opaque;
	dm->interrupts++;
	if (pvio_evtchn_notify(dm->evtchn, dm->irq_port) == -ENOTCONN)
		dm->irq_lost = true;
}

/* One trapped access, routed by address space as the guest's BARs are. */
static void handle_ioreq(void *opaque, ioreq_t *req)
{
	struct dm *dm = opaque;
	dm->ioreqs++;
	bool read = req->dir == IOREQ_READ;
	uint32_t value = (uint32_t)req->data;
	uint32_t size = req->size;
	/* Rep and data-in-memory forms are not a NIC register access. */
	if (req->data_is_ptr || req->count != 1 || size > 4) {
		nic_faults(dm)->bad_access++;
		if (read)
			req->data = ~0ull;
		return;
	}
	uint64_t a = req->addr;
	if (dm->rtl) {
		if (req->type == IOREQ_TYPE_PIO &&
		    a >= IOEMU_RTL8139_PIO_BASE &&
		    a - IOEMU_RTL8139_PIO_BASE < IOEMU_RTL8139_PIO_BYTES) {
			uint32_t off = (uint32_t)(a - IOEMU_RTL8139_PIO_BASE);
			if (read)
				req->data = rtl8139_io_read(&dm->rtl8139, off,
							    size);
			else
				rtl8139_io_write(&dm->rtl8139, off, size,
						 value);
			return;
		}
		dm->rtl8139.faults.bad_access++;
		if (read)
			req->data = ~0ull;
		return;
	}
	if (req->type == IOREQ_TYPE_COPY && a >= IOEMU_E1000_MMIO_BASE &&
	    a - IOEMU_E1000_MMIO_BASE < IOEMU_E1000_MMIO_BYTES) {
		uint32_t off = (uint32_t)(a - IOEMU_E1000_MMIO_BASE);
		if (read)
			req->data = e1000_mmio_read(&dm->nic, off, size);
		else
			e1000_mmio_write(&dm->nic, off, size, value);
		return;
	}
	if (req->type == IOREQ_TYPE_PIO && a >= IOEMU_E1000_PIO_BASE &&
	    a - IOEMU_E1000_PIO_BASE < IOEMU_E1000_PIO_BYTES) {
		uint32_t off = (uint32_t)(a - IOEMU_E1000_PIO_BASE);
		if (read)
			req->data = e1000_pio_read(&dm->nic, off, size);
		else
			e1000_pio_write(&dm->nic, off, size, value);
		return;
	}
	/* Nothing decodes the address: reads float high, writes vanish. */
	dm->nic.faults.bad_access++;
	if (read)
		req->data = ~0ull;
}

/* Frames from the TAP while the NIC takes them; a frame it has no room
 * for yet stays held (the TAP keeps the rest queued). */
static void pump_rx(struct dm *dm)
{
	for (int i = 0; i < 64; i++) {
		if (dm->rx_held) {
			if (!nic_can_receive(dm) ||
			    !nic_receive(dm, dm->rx_frame, dm->rx_len))
				return;
			dm->rx_held = false;
			continue;
		}
		if (!nic_can_receive(dm))
			return;
		uint8_t hdr[PVIO_TAP_VNET_HDR_BYTES];
		struct iovec iov[2] = {{hdr, sizeof(hdr)},
				       {dm->rx_frame, sizeof(dm->rx_frame)}};
		ssize_t n = readv(dm->tap, iov, 2);
		if (n <= (ssize_t)sizeof(hdr))
			return;
		dm->rx_len = (size_t)n - sizeof(hdr);
		dm->rx_held = true;
	}
}

static int read_config(struct dm *dm, char **model, uint8_t mac[6],
		       char **ifname)
{
	char path[192];
	snprintf(path, sizeof(path), "%s/model", dm->dm_dir);
	if (pvio_xenbus_read_str(dm->xb, XBT_NULL, path, model)) {
		pvio_log("no %s: the toolstack writes it", path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/ifname", dm->dm_dir);
	if (pvio_xenbus_read_str(dm->xb, XBT_NULL, path, ifname)) {
		pvio_log("no %s: the toolstack writes it", path);
		return -1;
	}
	char *m = NULL;
	snprintf(path, sizeof(path), "%s/mac", dm->dm_dir);
	unsigned b[6];
	if (pvio_xenbus_read_str(dm->xb, XBT_NULL, path, &m) ||
	    sscanf(m, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5]) != 6) {
		pvio_log("%s: missing or not a MAC", path);
		free(m);
		return -1;
	}
	free(m);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* The guest's side is Initialised: bind its ports, map its memory. */
static int connect_guest(struct dm *dm)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/irq-port", dm->guest_dir);
	uint64_t irq;
	if (pvio_xenbus_read_uint(dm->xb, XBT_NULL, path, &irq) || irq == 0 ||
	    irq > UINT32_MAX) {
		pvio_log("%s: missing or not a port", path);
		return -1;
	}
	int err = pvio_evtchn_open(PVIO_PLATFORM_AUTO, &dm->evtchn);
	if (err) {
		pvio_log("event channels: %s", strerror(-err));
		return -1;
	}
	snprintf(path, sizeof(path), IOEMU_SIM_IOREQ_FMT, pvio_sim_rundir(),
		 dm->domid, dm->devid);
	if ((err = ioemu_server_open(path, (domid_t)dm->domid, dm->evtchn,
				     &dm->ioreq))) {
		pvio_log("the ioreq page %s: %s", path, strerror(-err));
		return -1;
	}
	int port = pvio_evtchn_bind_interdomain(dm->evtchn, (domid_t)dm->domid,
						(evtchn_port_t)irq);
	if (port < 0) {
		pvio_log("binding the interrupt port %llu of domain %u: %s",
			 (unsigned long long)irq, dm->domid, strerror(-port));
		return -1;
	}
	dm->irq_port = (evtchn_port_t)port;
	if ((err = ioemu_mem_map_guest(PVIO_PLATFORM_AUTO, (domid_t)dm->domid,
				       dm->devid, IOEMU_RAM_GPA,
				       IOEMU_RAM_BYTES, &dm->mem))) {
		pvio_log("mapping the guest's memory: %s", strerror(-err));
		return -1;
	}
	return 0;
}

static void serve(struct dm *dm)
{
	struct pollfd pfd[2] = {
		{.fd = pvio_evtchn_fd(dm->evtchn), .events = POLLIN},
		{.fd = dm->tap, .events = 0},
	};
	while (!pvio_stop_requested && !dm->irq_lost) {
		pfd[1].events =
			!dm->rx_held && nic_can_receive(dm) ? POLLIN : 0;
		uint64_t due =
			dm->rtl ? UINT64_MAX
				: e1000_irq_due_in_ns(&dm->nic, now_ns(NULL));
		int timeout = due == UINT64_MAX
				      ? 1000
				      : (int)((due + 999999) / 1000000);
		int n = poll(pfd, 2, timeout);
		if (n < 0 && errno != EINTR) {
			pvio_log("poll: %s", strerror(errno));
			return;
		}
		int port;
		bool any = false;
		while ((port = pvio_evtchn_pending(dm->evtchn)) >= 0) {
			any = true;
			if (ioemu_server_owns_port(dm->ioreq,
						   (evtchn_port_t)port)) {
				/* Unmask first: a request after the serve
				 * notifies again. */
				pvio_evtchn_unmask(dm->evtchn,
						   (evtchn_port_t)port);
				int r = ioemu_server_serve(dm->ioreq,
							   (evtchn_port_t)port,
							   handle_ioreq, dm);
				if (r == -ENOTCONN)
					return;
			} else {
				pvio_evtchn_unmask(dm->evtchn,
						   (evtchn_port_t)port);
			}
		}
		if (!dm->rtl)
			e1000_timer(&dm->nic);
		pump_rx(dm);
		publish_stats(dm);
		if (!any &&
		    pvio_evtchn_peer_closed(
			    dm->evtchn, ioemu_server_port(dm->ioreq)) == 1) {
			pvio_log(
				"the guest's vCPU port of vif%u.%u closed: the "
				"guest driver is gone",
				dm->domid, dm->devid);
			return;
		}
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pvio-ioemu-dm --domid D --devid N\n"
		"The device model of emulated NIC N of domain D (started by "
		"`pvio network-attach\nD type=ioemu`): its configuration is "
		"in xenstore under\n" IOEMU_DM_DIR_FMT "\n"
		"Environment: XENSTORED_PATH, PVIO_RUNDIR, PVIO_PLATFORM.\n",
		0u, 0u);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"domid", required_argument, NULL, 'd'},
		{"devid", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	pvio_log_set_name("pvio-ioemu-dm");
	static struct dm dm = {.tap = -1};
	bool have_dom = false, have_dev = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		unsigned long v;
		switch (c) {
		case 'd':
		case 'n':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg ||
			    v >= (c == 'd' ? DOMID_FIRST_RESERVED : 65536)) {
				pvio_log("--%s %s: not a number in range",
					 c == 'd' ? "domid" : "devid", optarg);
				return 2;
			}
			if (c == 'd') {
				dm.domid = (unsigned)v;
				have_dom = true;
			} else {
				dm.devid = (unsigned)v;
				have_dev = true;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!have_dom || !have_dev || optind != argc) {
		usage(stderr);
		return 2;
	}
	snprintf(dm.dm_dir, sizeof(dm.dm_dir), IOEMU_DM_DIR_FMT, dm.domid,
		 dm.devid);
	snprintf(dm.guest_dir, sizeof(dm.guest_dir), IOEMU_GUEST_DIR_FMT,
		 dm.domid, dm.devid);
	pvio_stop_on_signals();

	int rc = 1;
	char *model = NULL, *ifname = NULL;
	uint8_t mac[6];
	dm.xb = pvio_xenbus_open();
	if (!dm.xb) {
		pvio_log("cannot reach xenstore (XENSTORED_PATH=%s): %s",
			 getenv("XENSTORED_PATH") ? getenv("XENSTORED_PATH")
						  : "unset",
			 strerror(errno));
		return 1;
	}
	if (read_config(&dm, &model, mac, &ifname))
		goto out;
	if (!strcmp(model, "rtl8139")) {
		dm.rtl = true;
	} else if (strcmp(model, "e1000")) {
		pvio_log("model=%s: this device model emulates e1000 and "
			 "rtl8139",
			 model);
		goto out;
	}
	dm.tap = pvio_tap_open(ifname);
	if (dm.tap < 0) {
		pvio_log("cannot create the TAP %s: %s", ifname,
			 strerror(-dm.tap));
		goto out;
	}
	if (pvio_xenbus_switch_state(dm.xb, XBT_NULL, dm.dm_dir,
				     XenbusStateInitWait))
		goto out;
	pvio_log("vif%u.%u: %s on %s, waiting for the guest", dm.domid,
		 dm.devid, model, ifname);
	enum xenbus_state st;
	while (!pvio_stop_requested &&
	       pvio_xenbus_wait_state(
		       dm.xb, dm.guest_dir,
		       PVIO_XENBUS_STATE_BIT(XenbusStateInitialised), 1000,
		       &st) == -ETIMEDOUT)
		;
	if (pvio_stop_requested) {
		rc = 0;
		goto out;
	}
	if (connect_guest(&dm))
		goto out;
	struct e1000_host host = {.opaque = &dm,
				  .transmit = nic_transmit,
				  .interrupt = nic_interrupt,
				  .now_ns = now_ns};
	if (dm.rtl)
		rtl8139_init(&dm.rtl8139, mac, &dm.mem, &host);
	else
		e1000_init(&dm.nic, mac, &dm.mem, &host);
	if (pvio_xenbus_switch_state(dm.xb, XBT_NULL, dm.dm_dir,
				     XenbusStateConnected))
		goto out;
	open_stats(&dm, model);
	pvio_log("vif%u.%u: connected to the guest", dm.domid, dm.devid);
	serve(&dm);
	rc = 0;
	const struct e1000_faults *f = nic_faults(&dm);
	pvio_log(
		"vif%u.%u: %llu ioreqs, %llu interrupts, %llu frames out, %llu "
		"in; absorbed: %llu bad accesses, %llu bad DMA addresses, "
		"%llu bad rings, %llu oversized and %llu unsupported TX frames",
		dm.domid, dm.devid, (unsigned long long)dm.ioreqs,
		(unsigned long long)dm.interrupts,
		(unsigned long long)dm.tx_frames,
		(unsigned long long)(dm.rtl ? dm.rtl8139.rx_delivered
					    : dm.nic.rx_delivered),
		(unsigned long long)f->bad_access,
		(unsigned long long)f->bad_dma, (unsigned long long)f->bad_ring,
		(unsigned long long)f->tx_oversize,
		(unsigned long long)f->tx_unsupported);
out:
	pvio_xenbus_switch_state(dm.xb, XBT_NULL, dm.dm_dir, XenbusStateClosed);
	if (dm.stats) {
		ioemu_unmap_file(dm.stats, sizeof(*dm.stats));
		unlink(dm.stats_path);
	}
	ioemu_server_close(dm.ioreq);
	if (dm.evtchn)
		pvio_evtchn_close(dm.evtchn);
	ioemu_mem_unmap_guest(&dm.mem);
	if (dm.tap >= 0)
		close(dm.tap);
	free(model);
	free(ifname);
	pvio_xenbus_close(dm.xb);
	return rc;
}
