/*
 * pvio-ioemu-nic: the guest's driver for an emulated NIC, in the guest's
 * namespace like pvio-netfront: a TAP eth<N> is the guest's interface.
 * This file is what any model needs: the guest side of the transport
 * (the vCPU's ioreq page, the interrupt's port), the guest memory the
 * rings and buffers live in, the TAP and the event loop. The models'
 * drivers (nic_e1000.c, nic_rtl8139.c) drive the device only through
 * register accesses, each one a trap, and their rings.
 *
 * --hostile first plays a broken driver (nonsense registers, rings and
 * buffers outside its memory) and checks the answers the datasheet gives,
 * then resets the NIC and drives it normally: the device model must come
 * through it whole (tests/integration/ioemu.sh).
 */
#include "config.h"

#include "guest_mem.h"
#include "ioemu_layout.h"
#include "ioreq.h"
#include "nic.h"
#include "pvio_evtchn.h"
#include "pvio_tap.h"
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
#include <unistd.h>

/* Linux e1000's initial throttle: 20000 interrupts/s in 256 ns units. */
#define ITR_DEFAULT 195u

/* What the event loop keeps beside struct nic. */
struct guest {
	struct nic nic;
	struct pvio_xenbus *xb;
	char guest_dir[128], dm_dir[128];
	char ram_path[512], page_path[512];
	struct pvio_evtchn *irq_evtchn;
	evtchn_port_t irq_port;
};

/* ---- what the models' drivers use ---- */

uint32_t nic_access(struct nic *n, uint8_t type, uint64_t addr, unsigned size,
		    uint8_t dir, uint32_t value)
{
	uint64_t data = value;
	if (n->dead)
		return 0xffffffffu;
	int err = ioemu_vcpu_access(n->vcpu, type, addr, size, dir, &data);
	if (err) {
		pvio_log("eth%u: the device model does not answer (%s): the "
			 "NIC is gone",
			 n->devid, strerror(-err));
		n->dead = true;
		pvio_stop_requested = 1;
		return 0xffffffffu;
	}
	return (uint32_t)data;
}

uint64_t nic_gpa(uint32_t off)
{
	return IOEMU_RAM_GPA + off;
}

void *nic_host(struct nic *n, uint32_t off, uint32_t len)
{
	return ioemu_mem_ptr(&n->ram, nic_gpa(off), len);
}

void nic_deliver(struct nic *n, uint32_t off, uint32_t len)
{
	void *p = nic_host(n, off, len);
	uint8_t hdr[PVIO_TAP_VNET_HDR_BYTES] = {0};
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {p, len}};
	if (p && writev(n->tap, iov, 2) >= 0)
		n->rx_frames++;
	else
		n->rx_dropped++;
}

uint32_t nic_take(struct nic *n, uint32_t off, uint32_t cap)
{
	void *p = nic_host(n, off, cap);
	if (!p)
		return 0;
	uint8_t hdr[PVIO_TAP_VNET_HDR_BYTES];
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {p, cap}};
	ssize_t got = readv(n->tap, iov, 2);
	if (got <= (ssize_t)sizeof(hdr))
		return 0;
	n->tx_frames++;
	return (uint32_t)(got - (ssize_t)sizeof(hdr));
}

void nic_expect(struct nic *n, const char *what, uint32_t got, uint32_t want)
{
	n->checks++;
	if (got != want) {
		n->failures++;
		pvio_log("eth%u: hostile: %s: got 0x%08x, the datasheet says "
			 "0x%08x",
			 n->devid, what, got, want);
	}
}

/* ---- setup ---- */

static int guest_side_init(struct guest *g)
{
	struct nic *n = &g->nic;
	snprintf(g->page_path, sizeof(g->page_path), IOEMU_SIM_IOREQ_FMT,
		 pvio_sim_rundir(), n->domid, n->devid);
	snprintf(g->ram_path, sizeof(g->ram_path), IOEMU_SIM_RAM_FMT,
		 pvio_sim_rundir(), n->domid, n->devid);
	char dir[512];
	snprintf(dir, sizeof(dir), PVIO_SIM_DOMAIN_DIR_FMT, pvio_sim_rundir(),
		 n->domid);
	mkdir(pvio_sim_rundir(), 0755);
	mkdir(dir, 0755);
	void *ram;
	int err = ioemu_map_file(g->ram_path, IOEMU_RAM_BYTES, 1, &ram);
	if (err) {
		pvio_log("guest memory %s: %s", g->ram_path, strerror(-err));
		return -1;
	}
	n->ram = (struct ioemu_mem){.host = ram,
				    .gpa_base = IOEMU_RAM_GPA,
				    .size = IOEMU_RAM_BYTES};
	if ((err = ioemu_vcpu_create(PVIO_PLATFORM_AUTO, g->page_path, 0,
				     &n->vcpu))) {
		pvio_log("the ioreq page %s: %s", g->page_path, strerror(-err));
		return -1;
	}
	if ((err = pvio_evtchn_open(PVIO_PLATFORM_AUTO, &g->irq_evtchn))) {
		pvio_log("event channels: %s", strerror(-err));
		return -1;
	}
	int port = pvio_evtchn_alloc_unbound(g->irq_evtchn, 0);
	if (port < 0) {
		pvio_log("the interrupt's port: %s", strerror(-port));
		return -1;
	}
	g->irq_port = (evtchn_port_t)port;
	char path[256];
	snprintf(path, sizeof(path), "%s/irq-port", g->guest_dir);
	if ((err = pvio_xenbus_write_uint(g->xb, XBT_NULL, path,
					  g->irq_port)) ||
	    (err = pvio_xenbus_switch_state(g->xb, XBT_NULL, g->guest_dir,
					    XenbusStateInitialised))) {
		pvio_log("writing %s: %s", g->guest_dir, strerror(-err));
		return -1;
	}
	enum xenbus_state st;
	if (pvio_xenbus_wait_state(g->xb, g->dm_dir,
				   PVIO_XENBUS_STATE_BIT(XenbusStateConnected),
				   30000, &st)) {
		pvio_log("the device model of vif%u.%u did not connect within "
			 "30 s (see its log)",
			 n->domid, n->devid);
		return -1;
	}
	return 0;
}

static void run(struct guest *g)
{
	struct nic *n = &g->nic;
	struct pollfd pfd[2] = {
		{.fd = pvio_evtchn_fd(g->irq_evtchn), .events = POLLIN},
		{.fd = n->tap, .events = POLLIN},
	};
	while (!pvio_stop_requested) {
		pfd[1].events = n->model->tx_room(n) ? POLLIN : 0;
		int r = poll(pfd, 2, 1000);
		if (r < 0 && errno != EINTR)
			break;
		int port;
		bool any = false;
		while (!n->dead &&
		       (port = pvio_evtchn_pending(g->irq_evtchn)) >= 0) {
			any = true;
			n->interrupts++;
			n->model->interrupt(n);
			pvio_evtchn_unmask(g->irq_evtchn, (evtchn_port_t)port);
		}
		if (!n->dead && (pfd[1].revents & POLLIN))
			n->model->tx_send(n);
		if (!any && r == 0 &&
		    pvio_evtchn_peer_closed(g->irq_evtchn, g->irq_port) == 1) {
			pvio_log("eth%u: the device model closed the interrupt "
				 "port: the NIC is gone",
				 n->devid);
			n->dead = true;
			break;
		}
	}
}

static int read_model(struct guest *g)
{
	char path[192], *model = NULL;
	snprintf(path, sizeof(path), "%s/model", g->guest_dir);
	if (pvio_xenbus_read_str(g->xb, XBT_NULL, path, &model)) {
		pvio_log("no %s: the toolstack writes it", path);
		return -1;
	}
	const struct nic_model *models[] = {&nic_e1000, &nic_rtl8139};
	for (size_t i = 0; i < sizeof(models) / sizeof(*models); i++)
		if (!strcmp(model, models[i]->name))
			g->nic.model = models[i];
	if (!g->nic.model)
		pvio_log("%s: model '%s' has no driver here (e1000, rtl8139)",
			 path, model);
	free(model);
	return g->nic.model ? 0 : -1;
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
	pvio_log_set_name("pvio-ioemu-nic");
	static struct guest g = {.nic = {.tap = -1, .itr = ITR_DEFAULT}};
	struct nic *n = &g.nic;
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
				pvio_log(
					"--%s %s: not a number from 0 to 65535",
					c == 'n' ? "devid" : "itr", optarg);
				return 2;
			}
			if (c == 'n') {
				n->devid = (unsigned)v;
				have_dev = true;
			} else {
				n->itr = (unsigned)v;
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
				"the TAP eth<N>. --itr: the e1000's ITR "
				"(default %u).\nEnvironment: PVIO_DOMID, "
				"XENSTORED_PATH, PVIO_RUNDIR.\n",
				ITR_DEFAULT);
			return c == 'h' ? 0 : 2;
		}
	}
	if (!have_dev || optind != argc) {
		pvio_log("usage: pvio-ioemu-nic --devid N [--itr 256NS] "
			 "[--hostile]");
		return 2;
	}
	domid_t self;
	if (pvio_sim_self_domid(&self)) {
		pvio_log("PVIO_DOMID is not a domain id");
		return 2;
	}
	n->domid = self;
	snprintf(g.guest_dir, sizeof(g.guest_dir), IOEMU_GUEST_DIR_FMT,
		 n->domid, n->devid);
	snprintf(g.dm_dir, sizeof(g.dm_dir), IOEMU_DM_DIR_FMT, n->domid,
		 n->devid);
	snprintf(n->ifname, sizeof(n->ifname), "eth%u", n->devid);
	pvio_stop_on_signals();

	int rc = 1;
	g.xb = pvio_xenbus_open();
	if (!g.xb) {
		pvio_log("cannot reach xenstore: %s", strerror(errno));
		return 1;
	}
	if (read_model(&g))
		goto out;
	n->tap = pvio_tap_open(n->ifname);
	if (n->tap < 0) {
		pvio_log("cannot create %s: %s", n->ifname, strerror(-n->tap));
		goto out;
	}
	if (guest_side_init(&g))
		goto out;
	if (be_hostile) {
		n->model->hostile(n);
		pvio_log("eth%u: hostile: %d checks, %d answers off the "
			 "datasheet",
			 n->devid, n->checks, n->failures);
	}
	if (n->model->up(n))
		goto out;
	int err = pvio_tap_set_mac(n->ifname, n->mac);
	if (!err)
		err = pvio_tap_set_up(n->ifname, n->model->link_up(n));
	if (err) {
		pvio_log("%s: %s", n->ifname, strerror(-err));
		goto out;
	}
	pvio_xenbus_switch_state(g.xb, XBT_NULL, g.guest_dir,
				 XenbusStateConnected);
	pvio_log("eth%u: %s %02x:%02x:%02x:%02x:%02x:%02x up", n->devid,
		 n->model->name, n->mac[0], n->mac[1], n->mac[2], n->mac[3],
		 n->mac[4], n->mac[5]);
	run(&g);
	pvio_log(
		"eth%u: %llu traps, %llu interrupts, %llu frames out, %llu in, "
		"%llu dropped",
		n->devid, (unsigned long long)ioemu_vcpu_traps(n->vcpu),
		(unsigned long long)n->interrupts,
		(unsigned long long)n->tx_frames,
		(unsigned long long)n->rx_frames,
		(unsigned long long)n->rx_dropped);
	rc = n->dead ? 1 : 0;
out:
	if (!n->dead && n->vcpu)
		pvio_xenbus_switch_state(g.xb, XBT_NULL, g.guest_dir,
					 XenbusStateClosed);
	ioemu_vcpu_destroy(n->vcpu);
	if (g.irq_evtchn)
		pvio_evtchn_close(g.irq_evtchn);
	ioemu_unmap_file(n->ram.host, IOEMU_RAM_BYTES);
	if (g.page_path[0])
		unlink(g.page_path);
	if (g.ram_path[0])
		unlink(g.ram_path);
	if (n->tap >= 0)
		close(n->tap);
	pvio_xenbus_close(g.xb);
	return rc;
}
