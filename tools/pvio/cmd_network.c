/* Network devices the xl way: `pvio network-attach`, `network-detach` and
 * `network-list`, and `network-stats` from what pvio-netback counts. Keys,
 * permissions, the transaction and the hotplug calling convention follow libxl
 * (vif_attach in vif.c, which create shares for a config's vifs).
 * The toolstack stays backend-agnostic: it writes xenstore, waits for the
 * backend through watches and runs the script. */
#include "config.h"

#include "args.h"
#include "commands.h"
#include "domain.h"
#include "host.h"
#include "ioemu_nic.h"
#include "msg.h"
#include "store.h"
#include "vif.h"
#include "vif_stats.h"

#include "netif/netif.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_network_attach(int argc, char **argv)
{
	if (argc < 2) {
		pvio_err("usage: pvio network-attach DOM [key=value ...]");
		return 2;
	}
	struct pvio_nic nic;
	pvio_nic_init(&nic);
	char msg[256];
	for (int i = 2; i < argc; i++)
		if (pvio_nic_parse_arg(&nic, argv[i], msg, sizeof(msg))) {
			pvio_err("%s", msg);
			return 2;
		}
	struct host host;
	struct pvio_xenbus *xb = host_connect(&host, true);
	if (!xb)
		return 1;
	unsigned domid;
	int rc = 1;
	if (resolve_domain(pvio_xenbus_handle(xb), argv[1], &domid) == 0)
		rc = domain_attach_vif(&host, xb, domid, argv[1], &nic) ? 1 : 0;
	pvio_xenbus_close(xb);
	return rc;
}

/* The devid named by DEVID or MAC, as xl: a ':' means a MAC. */
static int find_devid(struct pvio_xenbus *xb, unsigned domid, const char *what,
		      int *devid)
{
	struct xs_handle *h = pvio_xenbus_handle(xb);
	if (!strchr(what, ':')) {
		if (pvio_parse_devid(what, devid))
			return -1;
		char *fe = vif_fe_path(domid, *devid),
		     *be = vif_be_path(domid, *devid);
		bool exists = pvio_xenbus_exists(xb, XBT_NULL, fe) ||
			      pvio_xenbus_exists(xb, XBT_NULL, be) ||
			      ioemu_nic_exists(xb, domid, *devid);
		free(fe);
		free(be);
		return exists ? 0 : -1;
	}
	uint8_t want[6];
	if (netif_parse_mac(what, want))
		return -1;
	char *dir = pvio_strfmt("/local/domain/%u/device/vif", domid);
	unsigned num;
	char **ents = xs_directory(h, XBT_NULL, dir, &num);
	free(dir);
	int rc = -1;
	for (unsigned i = 0; ents && i < num && rc; i++) {
		char *m = pvio_store_readf(h, XBT_NULL,
					   "/local/domain/%u/device/vif/%s/mac",
					   domid, ents[i]);
		uint8_t have[6];
		if (m && !netif_parse_mac(m, have) &&
		    !memcmp(have, want, sizeof(have)) &&
		    !pvio_parse_devid(ents[i], devid))
			rc = 0;
		free(m);
	}
	free(ents);
	/* Emulated NICs keep their MAC in the device model's directory. */
	dir = pvio_strfmt("/local/domain/0/device-model/%u/vif", domid);
	ents = xs_directory(h, XBT_NULL, dir, &num);
	free(dir);
	for (unsigned i = 0; ents && i < num && rc; i++) {
		char *m = pvio_store_readf(
			h, XBT_NULL,
			"/local/domain/0/device-model/%u/vif/%s/mac", domid,
			ents[i]);
		uint8_t have[6];
		if (m && !netif_parse_mac(m, have) &&
		    !memcmp(have, want, sizeof(have)) &&
		    !pvio_parse_devid(ents[i], devid))
			rc = 0;
		free(m);
	}
	free(ents);
	return rc;
}

int cmd_network_detach(int argc, char **argv)
{
	if (argc != 3) {
		pvio_err("usage: pvio network-detach DOM DEVID|MAC");
		return 2;
	}
	struct host host;
	struct pvio_xenbus *xb = host_connect(&host, true);
	if (!xb)
		return 1;
	struct xs_handle *h = pvio_xenbus_handle(xb);
	unsigned domid;
	int devid, rc = 1;
	if (resolve_domain(h, argv[1], &domid))
		goto out;
	if (find_devid(xb, domid, argv[2], &devid)) {
		pvio_err("domain %s has no vif %s (see `pvio network-list %s`)",
			 argv[1], argv[2], argv[1]);
		goto out;
	}
	if (ioemu_nic_exists(xb, domid, devid))
		rc = ioemu_nic_detach(&host, xb, domid, devid, false) ? 1 : 0;
	else
		rc = vif_detach(&host, xb, domid, devid, false) ? 1 : 0;
out:
	pvio_xenbus_close(xb);
	return rc;
}

static int read_int(struct xs_handle *h, const char *dir, const char *key)
{
	char *v = pvio_store_readf(h, XBT_NULL, "%s/%s", dir, key);
	int n = v ? atoi(v) : -1;
	free(v);
	return n;
}

/* A ring's key of vif directory fe: flat for one queue, queue 0's for
 * several (queue-N/, which xl does not read: it shows -1 there). */
static int read_queue0_int(struct xs_handle *h, const char *fe, const char *key)
{
	int n = read_int(h, fe, key);
	if (n < 0) {
		char *q = pvio_strfmt("%s/queue-0", fe);
		n = read_int(h, q, key);
		free(q);
	}
	return n;
}

/* xl's one evt-ch column: the event channel, or with split event
 * channels the TX one. */
static int read_evtchn(struct xs_handle *h, const char *fe)
{
	int n = read_queue0_int(h, fe, "event-channel");
	return n >= 0 ? n : read_queue0_int(h, fe, "event-channel-tx");
}

static int cmp_ent(const void *a, const void *b)
{
	return atoi(*(char *const *)a) - atoi(*(char *const *)b);
}

int cmd_network_list(int argc, char **argv)
{
	if (argc < 2) {
		pvio_err("usage: pvio network-list DOM...");
		return 2;
	}
	struct host host;
	struct pvio_xenbus *xb = host_connect(&host, false);
	if (!xb)
		return 1;
	struct xs_handle *h = pvio_xenbus_handle(xb);
	unsigned ids[256];
	int n = 0;
	for (int i = 1; i < argc && n < 256; i++)
		if (resolve_domain(h, argv[i], &ids[n++])) {
			pvio_xenbus_close(xb);
			return 1;
		}
	/* xl network-list's columns (xl_nic.c). */
	printf("%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s\n", "Idx", "BE",
	       "Mac Addr.", "handle", "state", "evt-ch", "tx-", "rx-ring-ref",
	       "BE-path");
	for (int d = 0; d < n; d++) {
		char *dir = pvio_strfmt("/local/domain/%u/device/vif", ids[d]);
		unsigned num;
		char **ents = xs_directory(h, XBT_NULL, dir, &num);
		if (ents)
			qsort(ents, num, sizeof(*ents), cmp_ent);
		for (unsigned i = 0; ents && i < num; i++) {
			char *fe = pvio_strfmt("%s/%s", dir, ents[i]);
			char *mac = pvio_store_readf(h, XBT_NULL, "%s/mac", fe);
			char *be =
				pvio_store_readf(h, XBT_NULL, "%s/backend", fe);
			printf("%-3d %-2d %-17s %6d %5d %6d %5d/%-11d %-30s\n",
			       atoi(ents[i]), read_int(h, fe, "backend-id"),
			       mac ? mac : "-", atoi(ents[i]),
			       read_int(h, fe, "state"), read_evtchn(h, fe),
			       read_queue0_int(h, fe, "tx-ring-ref"),
			       read_queue0_int(h, fe, "rx-ring-ref"),
			       be ? be : "-");
			free(fe);
			free(mac);
			free(be);
		}
		free(ents);
		free(dir);
		/* Emulated NICs: no rings; evt-ch is the interrupt's port. */
		dir = pvio_strfmt("/local/domain/%u/device/ioemu", ids[d]);
		ents = xs_directory(h, XBT_NULL, dir, &num);
		if (ents)
			qsort(ents, num, sizeof(*ents), cmp_ent);
		for (unsigned i = 0; ents && i < num; i++) {
			char *gd = pvio_strfmt("%s/%s", dir, ents[i]);
			char *be =
				pvio_store_readf(h, XBT_NULL, "%s/backend", gd);
			char *mac =
				be ? pvio_store_readf(h, XBT_NULL, "%s/mac", be)
				   : NULL;
			printf("%-3d %-2d %-17s %6d %5d %6d %5d/%-11d %-30s\n",
			       atoi(ents[i]), read_int(h, gd, "backend-id"),
			       mac ? mac : "-", atoi(ents[i]),
			       read_int(h, gd, "state"),
			       read_int(h, gd, "irq-port"), -1, -1,
			       be ? be : "-");
			free(gd);
			free(mac);
			free(be);
		}
		free(ents);
		free(dir);
	}
	pvio_xenbus_close(xb);
	return 0;
}

/* One vif's statistics on stdout; -1 after a message. */
static int print_vif_stats(const struct host *host, unsigned domid, int devid,
			   const char *name)
{
	char path[PATH_MAX], err[PATH_MAX + 256];
	if (netif_stats_path(path, sizeof(path), host->rundir, domid,
			     (unsigned)devid) >= (int)sizeof(path)) {
		pvio_err("statistics path of vif%u.%d: too long", domid, devid);
		return -1;
	}
	struct netif_vif_stats stats;
	if (vif_stats_read(path, domid, (unsigned)devid, &stats, err,
			   sizeof(err))) {
		pvio_err("%s", err);
		return -1;
	}
	vif_stats_print(stdout, &stats, name);
	return 0;
}

int cmd_network_stats(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		pvio_err("usage: pvio network-stats DOM [DEVID]");
		return 2;
	}
	int devid = -1;
	if (argc == 3 && pvio_parse_devid(argv[2], &devid)) {
		pvio_err("invalid devid '%s' (a number from 0)", argv[2]);
		return 2;
	}
	struct host host;
	struct pvio_xenbus *xb = host_connect(&host, false);
	if (!xb)
		return 1;
	struct xs_handle *h = pvio_xenbus_handle(xb);
	unsigned domid;
	int rc = 1;
	char *name = NULL;
	char **ents = NULL;
	if (resolve_domain(h, argv[1], &domid))
		goto out;
	name = pvio_store_readf(h, XBT_NULL, "/local/domain/%u/name", domid);
	if (devid >= 0 && ioemu_nic_exists(xb, domid, devid)) {
		rc = ioemu_nic_print_stats(&host, stdout, domid, devid, name)
			     ? 1
			     : 0;
		goto out;
	}
	if (devid >= 0) {
		char *be = vif_be_path(domid, devid);
		bool exists = pvio_xenbus_exists(xb, XBT_NULL, be);
		free(be);
		if (!exists) {
			pvio_err("domain %s has no vif %d (see `pvio "
				 "network-list %s`)",
				 argv[1], devid, argv[1]);
			goto out;
		}
		rc = print_vif_stats(&host, domid, devid, name) ? 1 : 0;
		goto out;
	}
	/* Every vif the backend serves, as network-list orders them. */
	char *dir = pvio_strfmt("/local/domain/0/backend/vif/%u", domid);
	unsigned num = 0;
	ents = xs_directory(h, XBT_NULL, dir, &num);
	free(dir);
	dir = pvio_strfmt("/local/domain/0/device-model/%u/vif", domid);
	unsigned num_emu = 0;
	char **emu = xs_directory(h, XBT_NULL, dir, &num_emu);
	free(dir);
	if ((!ents || !num) && (!emu || !num_emu)) {
		printf("domain %s has no vifs\n", argv[1]);
		free(emu);
		rc = 0;
		goto out;
	}
	if (ents)
		qsort(ents, num, sizeof(*ents), cmp_ent);
	rc = 0;
	for (unsigned i = 0; ents && i < num; i++) {
		if (pvio_parse_devid(ents[i], &devid))
			continue;
		if (print_vif_stats(&host, domid, devid, name))
			rc = 1;
	}
	if (emu)
		qsort(emu, num_emu, sizeof(*emu), cmp_ent);
	for (unsigned i = 0; emu && i < num_emu; i++) {
		if (pvio_parse_devid(emu[i], &devid))
			continue;
		if (ioemu_nic_print_stats(&host, stdout, domid, devid, name))
			rc = 1;
	}
	free(emu);
out:
	free(ents);
	free(name);
	pvio_xenbus_close(xb);
	return rc;
}
