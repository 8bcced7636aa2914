/* Network devices the xl way: `pvio network-attach`, `network-detach` and
 * `network-list`, and `network-stats` from what pvio-netback counts. Keys,
 * permissions, the transaction and the hotplug calling convention follow libxl.
 * The toolstack stays backend-agnostic: it writes xenstore, waits for the
 * backend through watches and runs the script. */
#include "config.h"

#include "args.h"
#include "commands.h"
#include "domain.h"
#include "host.h"
#include "ioemu_nic.h"
#include "msg.h"
#include "netns.h"
#include "options.h"
#include "proc.h"
#include "programs.h"
#include "store.h"
#include "vif.h"
#include "vif_stats.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* As libxl__abs_path against the script directory. */
static char *script_path(const char *script)
{
	if (script[0] == '/')
		return strdup(script);
	return pvio_strfmt("%s/%s", hotplug_script_dir(), script);
}

/* Scripts say why last; errors stay one line. */
static const char *last_line(char *text)
{
	size_t n = strlen(text);
	while (n && text[n - 1] == '\n')
		text[--n] = 0;
	char *nl = strrchr(text, '\n');
	return nl ? nl + 1 : text;
}

/* libxl__device_nextid: the last frontend entry + 1, over the domain's
 * vifs and emulated NICs (one devid space, as xl's NIC list). */
static int next_devid(struct xs_handle *h, unsigned domid)
{
	int devid = 0;
	const char *kinds[] = {"vif", "ioemu"};
	for (int k = 0; k < 2; k++) {
		unsigned num;
		char *dir = pvio_strfmt("/local/domain/%u/device/%s", domid,
					kinds[k]);
		char **ents = xs_directory(h, XBT_NULL, dir, &num);
		free(dir);
		for (unsigned i = 0; ents && i < num; i++)
			if (atoi(ents[i]) + 1 > devid)
				devid = atoi(ents[i]) + 1;
		free(ents);
	}
	return devid;
}

static bool is_bridge(const struct host *host, const char *name)
{
	char *path = pvio_strfmt("/sys/class/net/%s/bridge", name);
	bool ok;
	if (!host->dom0_netns[0]) {
		ok = access(path, F_OK) == 0;
	} else {
		/* /sys shows the caller's namespace: look from inside. */
		char *argv[] = {"test", "-d", path, NULL};
		char **full = netns_argv(host->dom0_netns, argv);
		char out[256];
		ok = run_cmd(full, out, sizeof(out)) == 0;
		free(full);
	}
	free(path);
	return ok;
}

/* libxl__xs_writev_perms: each key written and given perms. */
static bool write_keys(struct xs_handle *h, xs_transaction_t t, const char *dir,
		       char *const kv[], struct xs_permissions *perms,
		       unsigned nperms)
{
	for (int i = 0; kv[i]; i += 2) {
		char *p = pvio_strfmt("%s/%s", dir, kv[i]);
		bool ok =
			xs_write(h, t, p, kv[i + 1],
				 (unsigned)strlen(kv[i + 1])) &&
			(!perms || xs_set_permissions(h, t, p, perms, nperms));
		free(p);
		if (!ok)
			return false;
	}
	return true;
}

struct new_device {
	unsigned domid;
	int devid;
	char *const *fents, *const *ro_fents, *const *bents;
};

/* A transaction body: libxl__device_generic_add for a vif. */
static int write_device_txn(struct pvio_xenbus *xb, xs_transaction_t t,
			    void *arg)
{
	const struct new_device *d = arg;
	struct xs_handle *h = pvio_xenbus_handle(xb);
	char *fe = vif_fe_path(d->domid, d->devid),
	     *be = vif_be_path(d->domid, d->devid),
	     *lx = vif_libxl_path(d->domid, d->devid);
	struct xs_permissions fe_perms[2] = {{d->domid, XS_PERM_NONE},
					     {0, XS_PERM_READ}};
	struct xs_permissions be_perms[2] = {{0, XS_PERM_NONE},
					     {d->domid, XS_PERM_READ}};
	char *p1 = pvio_strfmt("%s/frontend", lx);
	char *p2 = pvio_strfmt("%s/backend", lx);
	char *p3 = pvio_strfmt("%s/backend", fe);
	char *p4 = pvio_strfmt("%s/frontend", be);
	xs_rm(h, t, lx);
	bool ok = pvio_store_writef(h, t, p1, "%s", fe) &&
		  pvio_store_writef(h, t, p2, "%s", be);
	xs_rm(h, t, fe);
	ok = ok && xs_mkdir(h, t, fe) &&
	     xs_set_permissions(h, t, fe, fe_perms, 2) &&
	     pvio_store_writef(h, t, p3, "%s", be) &&
	     write_keys(h, t, fe, d->fents, fe_perms, 2) &&
	     write_keys(h, t, fe, d->ro_fents, be_perms, 2);
	xs_rm(h, t, be);
	ok = ok && xs_mkdir(h, t, be) &&
	     xs_set_permissions(h, t, be, be_perms, 2) &&
	     pvio_store_writef(h, t, p4, "%s", fe) &&
	     write_keys(h, t, be, d->bents, NULL, 0);
	int err = ok ? 0 : -(errno ? errno : EIO);
	free(p1);
	free(p2);
	free(p3);
	free(p4);
	free(fe);
	free(be);
	free(lx);
	return err;
}

static int write_device(struct pvio_xenbus *xb, unsigned domid, int devid,
			const struct pvio_nic *nic, const char *script,
			const char *mac)
{
	char *s_domid = pvio_strfmt("%u", domid);
	char *s_devid = pvio_strfmt("%d", devid);
	char *s_mtu = pvio_strfmt("%u", nic->mtu);
	char *s_rate =
		pvio_strfmt("%llu,%u", (unsigned long long)nic->rate_bytes,
			    nic->rate_usecs);
	char *s_state = pvio_strfmt("%d", XenbusStateInitialising);
	char *fents[] = {"backend-id", "0",	"state", s_state,
			 "handle",     s_devid, "mac",	 (char *)mac,
			 "trusted",    "1",	NULL};
	char *ro_fents[] = {"mtu", s_mtu, NULL};
	/* Backend keys in libxl's order; optional ones only when set. */
	char *bents[40];
	int n = 0;
#define BENT(k, v)                                                             \
	do {                                                                   \
		bents[n++] = (k);                                              \
		bents[n++] = (char *)(v);                                      \
	} while (0)
	BENT("frontend-id", s_domid);
	BENT("online", "1");
	BENT("state", s_state);
	BENT("script", script);
	if (nic->vifname)
		BENT("vifname", nic->vifname);
	BENT("mac", mac);
	if (nic->ip)
		BENT("ip", nic->ip);
	if (nic->rate_usecs)
		BENT("rate", s_rate);
	if (nic->mtu != PVIO_MTU_DEFAULT)
		BENT("mtu", s_mtu);
	BENT("bridge", nic->bridge);
	BENT("handle", s_devid);
	BENT("type", nic->type);
	/* The backend waits for the script before it goes Connected. */
	BENT("hotplug-status", "");
	bents[n] = NULL;
#undef BENT
	struct new_device d = {domid, devid, fents, ro_fents, bents};
	int err = pvio_xenbus_transaction(xb, write_device_txn, &d, 0);
	free(s_domid);
	free(s_devid);
	free(s_mtu);
	free(s_rate);
	free(s_state);
	return err;
}

/*
 * Everything network-attach checks before its first write: the script,
 * the bridge, the devid (the next free one unless given), the names. -1
 * after a message.
 */
static int nic_check(const struct host *host, struct pvio_xenbus *xb,
		     unsigned domid, const char *dom, struct pvio_nic *nic,
		     const char *script)
{
	struct stat st;
	/* A directory fails with no errno: none stale in the message. */
	errno = 0;
	if (stat(script, &st) || !S_ISREG(st.st_mode) || access(script, X_OK)) {
		pvio_err("hotplug script %s: %s", script,
			 errno ? strerror(errno) : "not an executable file");
		return -1;
	}
	if (!is_bridge(host, nic->bridge)) {
		pvio_err("bridge '%s' does not exist in dom0 (network "
			 "namespace %s)",
			 nic->bridge,
			 host->dom0_netns[0] ? host->dom0_netns : "root");
		return -1;
	}
	if (nic->devid < 0)
		nic->devid = next_devid(pvio_xenbus_handle(xb), domid);
	char *fe = vif_fe_path(domid, nic->devid),
	     *be = vif_be_path(domid, nic->devid);
	bool in_use = pvio_xenbus_exists(xb, XBT_NULL, fe) ||
		      pvio_xenbus_exists(xb, XBT_NULL, be) ||
		      ioemu_nic_exists(xb, domid, nic->devid);
	free(fe);
	free(be);
	if (in_use) {
		pvio_err("devid %d is in use on domain %s", nic->devid, dom);
		return -1;
	}
	char vif[32];
	snprintf(vif, sizeof(vif), "vif%u.%d", domid, nic->devid);
	if (strlen(vif) > PVIO_IFNAME_MAX) {
		pvio_err("interface name %s is too long for Linux", vif);
		return -1;
	}
	if (nic->vifname && link_exists(host, nic->vifname)) {
		pvio_err("vifname %s: an interface of that name exists in "
			 "dom0",
			 nic->vifname);
		return -1;
	}
	return 0;
}

/* The MAC as written to the store; xl's default when none was given:
 * Xen's OUI 00:16:3e, then random. -1 after a message. */
static int nic_mac(struct pvio_nic *nic, char mac[18])
{
	if (!nic->has_mac) {
		uint8_t r[3];
		if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
			pvio_err("getrandom: %s", strerror(errno));
			return -1;
		}
		uint8_t def[6] = {0x00, 0x16, 0x3e, (uint8_t)(r[0] & 0x7f),
				  r[1], r[2]};
		memcpy(nic->mac, def, sizeof(def));
	}
	snprintf(mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", nic->mac[0],
		 nic->mac[1], nic->mac[2], nic->mac[3], nic->mac[4],
		 nic->mac[5]);
	return 0;
}

/*
 * The written device, as libxl goes on: wait for the backend's InitWait,
 * run the script online, check hotplug-status. On failure the device is
 * taken down again and -1 returned after a message.
 */
static int nic_connect(const struct host *host, struct pvio_xenbus *xb,
		       unsigned domid, int devid, const char *script)
{
	struct xs_handle *h = pvio_xenbus_handle(xb);
	char vif[32];
	snprintf(vif, sizeof(vif), "vif%u.%d", domid, devid);
	char *be_dir = vif_be_path(domid, devid);
	int err = pvio_xenbus_wait_state(
		xb, be_dir,
		PVIO_XENBUS_STATE_BIT(XenbusStateInitWait) |
			PVIO_XENBUS_STATE_BIT(XenbusStateInitialised) |
			PVIO_XENBUS_STATE_BIT(XenbusStateConnected),
		pvio_timeout_ms(), NULL);
	free(be_dir);
	if (err == -ETIMEDOUT) {
		pvio_err("no backend answered for %s within %d s (is "
			 "pvio-netback running? see `pvio host status`)",
			 vif, g_opts.timeout_s);
		vif_remove_nodes(xb, domid, devid);
		return -1;
	}
	if (err) {
		pvio_err("waiting for the backend of %s: %s", vif,
			 strerror(-err));
		vif_remove_nodes(xb, domid, devid);
		return -1;
	}
	char out[1024];
	int hs = vif_run_hotplug(host, h, domid, devid, "online", out,
				 sizeof(out));
	char *status = pvio_store_readf(h, XBT_NULL,
					"/local/domain/0/backend/vif/%u/%d/"
					"hotplug-status",
					domid, devid);
	bool connected = status && !strcmp(status, "connected");
	free(status);
	if (hs == 0 && connected)
		return 0;
	char *why = pvio_store_readf(
		h, XBT_NULL, "/local/domain/0/backend/vif/%u/%d/hotplug-error",
		domid, devid);
	pvio_err("hotplug script %s online failed for %s: %s", script, vif,
		 why	? why
		 : *out ? last_line(out)
			: (hs ? "non-zero exit status"
			      : "hotplug-status is not connected"));
	free(why);
	vif_detach(host, xb, domid, devid, true);
	return -1;
}

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
	struct xs_handle *h = pvio_xenbus_handle(xb);
	int rc = 1;
	unsigned domid, backend;
	char *script = NULL;
	char mac[18];
	if (resolve_domain(h, argv[1], &domid))
		goto out;
	if (domid == 0) {
		pvio_err("cannot attach a vif to Domain-0");
		goto out;
	}
	if (resolve_domain(h, nic.backend, &backend))
		goto out;
	if (backend != 0) {
		pvio_err("backend=%s: only Domain-0 runs backends on the sim "
			 "platform",
			 nic.backend);
		goto out;
	}
	bool ioemu = !strcmp(nic.type, "ioemu");
	if (!ioemu && nic.model) {
		pvio_err("model=%s applies to type=ioemu only", nic.model);
		goto out;
	}
	if (ioemu && (nic.vifname || nic.rate_usecs || nic.ip ||
		      nic.mtu != PVIO_MTU_DEFAULT)) {
		pvio_err(
			"type=ioemu takes mac, bridge, model, script and devid "
			"(vifname, rate, ip and mtu are for type=vif)");
		goto out;
	}
	if (ioemu && !nic.model)
		nic.model = "rtl8139"; /* xl's default for an emulated NIC */
	script = script_path(nic.script);
	if (nic_check(&host, xb, domid, argv[1], &nic, script) ||
	    nic_mac(&nic, mac))
		goto out;
	if (ioemu) {
		char netns[64];
		char *env[4];
		guest_netns(&host, domid, netns, sizeof(netns));
		guest_env(&host, domid, env);
		struct ioemu_guest guest = {netns, env};
		if (ioemu_nic_attach(&host, xb, domid, &nic, script, mac,
				     &guest) == 0)
			rc = 0;
		for (int i = 0; env[i]; i++)
			free(env[i]);
		goto out;
	}
	int err = write_device(xb, domid, nic.devid, &nic, script, mac);
	if (err) {
		pvio_err("cannot write the vif's xenstore nodes: %s",
			 strerror(-err));
		goto out;
	}
	if (nic_connect(&host, xb, domid, nic.devid, script) == 0)
		rc = 0;
out:
	free(script);
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
	if (pvio_parse_mac(what, want))
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
		if (m && !pvio_parse_mac(m, have) &&
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
		if (m && !pvio_parse_mac(m, have) &&
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
			       read_int(h, fe, "state"),
			       read_int(h, fe, "event-channel"),
			       read_int(h, fe, "tx-ring-ref"),
			       read_int(h, fe, "rx-ring-ref"), be ? be : "-");
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
