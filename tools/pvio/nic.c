/* Network devices the xl way: `pvio network-attach`, `network-detach` and
 * `network-list`. Keys, permissions, the transaction, the hotplug calling
 * convention and the teardown follow libxl (libxl_nic.c, libxl_device.c,
 * libxl_linux.c). The toolstack stays backend-agnostic: it writes
 * xenstore, waits for the backend through watches and runs the script. */
#include "config.h"

#include "pvio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int timeout_ms(void)
{
	return g_opts.timeout_s * 1000;
}

static const char *script_dir(void)
{
	const char *env = getenv("PVIO_SCRIPTDIR");
	return env && *env ? env : PVIO_SCRIPTDIR;
}

/* As libxl__abs_path against the script directory. */
static char *script_path(const char *script)
{
	if (script[0] == '/')
		return strdup(script);
	return pvio_strfmt("%s/%s", script_dir(), script);
}

static char *be_path(unsigned domid, int devid)
{
	return pvio_strfmt("/local/domain/0/backend/vif/%u/%d", domid, devid);
}

static char *fe_path(unsigned domid, int devid)
{
	return pvio_strfmt("/local/domain/%u/device/vif/%d", domid, devid);
}

static char *libxl_path(unsigned domid, int devid)
{
	return pvio_strfmt("/libxl/%u/device/vif/%d", domid, devid);
}

/* `SCRIPT online|offline type_if=vif` in dom0's namespace, with the
 * environment libxl gives it (get_hotplug_env). Its output lands in out. */
static int run_hotplug(const struct host *host, struct xs_handle *h,
		       unsigned domid, int devid, const char *action, char *out,
		       size_t outlen)
{
	char *be = be_path(domid, devid);
	char *script = xs_readf(h, XBT_NULL, "%s/script", be);
	char *gw = xs_readf(h, XBT_NULL, "%s/gatewaydev", be);
	free(be);
	if (!script) {
		snprintf(out, outlen, "no script in the backend directory");
		free(gw);
		return -1;
	}
	char *env[] = {
		pvio_strfmt("script=%s", script),
		pvio_strfmt("XENBUS_TYPE=vif"),
		pvio_strfmt("XENBUS_PATH=backend/vif/%u/%d", domid, devid),
		pvio_strfmt("XENBUS_BASE_PATH=backend"),
		pvio_strfmt("netdev=%s", gw ? gw : ""),
		/* Always vifD.N: the script renames it to vifname. */
		pvio_strfmt("vif=vif%u.%d", domid, devid),
		NULL,
	};
	char *argv[] = {script, (char *)action, "type_if=vif", NULL};
	char **full = netns_argv(host->dom0_netns, argv);
	int rc = run_cmd_env(full, env, timeout_ms(), out, outlen);
	if (rc == -2)
		snprintf(out, outlen, "timed out after %d s", g_opts.timeout_s);
	free(full);
	for (int i = 0; env[i]; i++)
		free(env[i]);
	free(script);
	free(gw);
	return rc;
}

static bool state_closed(int s)
{
	return s == XenbusStateClosed;
}

static bool state_backend_ready(int s)
{
	return s >= XenbusStateInitWait && s <= XenbusStateConnected;
}

static void remove_nodes(struct xs_handle *h, unsigned domid, int devid)
{
	char *fe = fe_path(domid, devid), *be = be_path(domid, devid),
	     *lx = libxl_path(domid, devid);
	/* Keep the device/ directories `pvio create` made. */
	char *fe_stop = pvio_strfmt("/local/domain/%u/device", domid);
	char *lx_stop = pvio_strfmt("/libxl/%u/device", domid);
	for (int tries = 0; tries < 10; tries++) {
		xs_transaction_t t = xs_transaction_start(h);
		if (!t)
			break;
		xs_rm_cleanup(h, t, fe, fe_stop);
		xs_rm_cleanup(h, t, be, "/local/domain/0");
		xs_rm_cleanup(h, t, lx, lx_stop);
		if (xs_transaction_end(h, t, false) || errno != EAGAIN)
			break;
	}
	free(fe);
	free(be);
	free(lx);
	free(fe_stop);
	free(lx_stop);
}

int nic_detach(const struct host *host, struct xs_handle *h, unsigned domid,
	       int devid, bool quiet)
{
	char *be = be_path(domid, devid);
	char *state_node = pvio_strfmt("%s/state", be);
	char *state = xs_read(h, XBT_NULL, state_node, &(unsigned){0});
	if (state && atoi(state) != XenbusStateClosed) {
		/* libxl__initiate_device_generic_remove: online=0, Closing. */
		char *online = pvio_strfmt("%s/online", be);
		for (int tries = 0; tries < 10; tries++) {
			xs_transaction_t t = xs_transaction_start(h);
			if (!t)
				break;
			xs_write(h, t, online, "0", 1);
			xs_writef(h, t, state_node, "%d", XenbusStateClosing);
			if (xs_transaction_end(h, t, false) || errno != EAGAIN)
				break;
		}
		free(online);
		int s = xs_wait_int(h, state_node, state_closed, timeout_ms());
		if (s == -1)
			pvio_warn(
				"the backend of vif%u.%d did not reach Closed "
				"within %d s; removing the device anyway",
				domid, devid, g_opts.timeout_s);
	}
	free(state);
	char *script = xs_readf(h, XBT_NULL, "%s/script", be);
	if (script) {
		char out[1024];
		int rc = run_hotplug(host, h, domid, devid, "offline", out,
				     sizeof(out));
		if (rc && !quiet)
			pvio_warn("hotplug script offline for vif%u.%d: %s",
				  domid, devid, out);
	}
	free(script);
	remove_nodes(h, domid, devid);
	free(state_node);
	free(be);
	return 0;
}

static bool node_exists(struct xs_handle *h, const char *path)
{
	unsigned len;
	char *v = xs_read(h, XBT_NULL, path, &len);
	free(v);
	return v != NULL;
}

/* libxl__device_nextid: the last frontend entry + 1. */
static int next_devid(struct xs_handle *h, unsigned domid)
{
	unsigned num;
	char *dir = pvio_strfmt("/local/domain/%u/device/vif", domid);
	char **ents = xs_directory(h, XBT_NULL, dir, &num);
	free(dir);
	int devid = 0;
	if (ents && num)
		devid = atoi(ents[num - 1]) + 1;
	free(ents);
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

static bool link_in_dom0(const struct host *host, const char *name)
{
	char *argv[] = {"ip", "link", "show", "dev", (char *)name, NULL};
	char **full = netns_argv(host->dom0_netns, argv);
	char out[512];
	bool ok = run_cmd(full, out, sizeof(out)) == 0;
	free(full);
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

static bool write_device(struct xs_handle *h, unsigned domid, int devid,
			 const struct pvio_nic *nic, const char *script,
			 const char *mac)
{
	char *fe = fe_path(domid, devid), *be = be_path(domid, devid),
	     *lx = libxl_path(domid, devid);
	struct xs_permissions fe_perms[2] = {{domid, XS_PERM_NONE},
					     {0, XS_PERM_READ}};
	struct xs_permissions be_perms[2] = {{0, XS_PERM_NONE},
					     {domid, XS_PERM_READ}};
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
	bool ok = false;
	for (int tries = 0; tries < 10; tries++) {
		xs_transaction_t t = xs_transaction_start(h);
		if (!t)
			break;
		char *p1 = pvio_strfmt("%s/frontend", lx);
		char *p2 = pvio_strfmt("%s/backend", lx);
		char *p3 = pvio_strfmt("%s/backend", fe);
		char *p4 = pvio_strfmt("%s/frontend", be);
		xs_rm(h, t, lx);
		ok = xs_writef(h, t, p1, "%s", fe) &&
		     xs_writef(h, t, p2, "%s", be);
		xs_rm(h, t, fe);
		ok = ok && xs_mkdir(h, t, fe) &&
		     xs_set_permissions(h, t, fe, fe_perms, 2) &&
		     xs_writef(h, t, p3, "%s", be) &&
		     write_keys(h, t, fe, fents, fe_perms, 2) &&
		     write_keys(h, t, fe, ro_fents, be_perms, 2);
		xs_rm(h, t, be);
		ok = ok && xs_mkdir(h, t, be) &&
		     xs_set_permissions(h, t, be, be_perms, 2) &&
		     xs_writef(h, t, p4, "%s", fe) &&
		     write_keys(h, t, be, bents, NULL, 0);
		free(p1);
		free(p2);
		free(p3);
		free(p4);
		if (!ok) {
			int err = errno;
			xs_transaction_end(h, t, true);
			errno = err;
			break;
		}
		if (xs_transaction_end(h, t, false))
			break;
		ok = false;
		if (errno != EAGAIN)
			break;
	}
	free(fe);
	free(be);
	free(lx);
	free(s_domid);
	free(s_devid);
	free(s_mtu);
	free(s_rate);
	free(s_state);
	return ok;
}

int cmd_network_attach(int argc, char **argv)
{
	if (argc < 2) {
		pvio_err("usage: pvio network-attach DOM [key=value ...]");
		return 2;
	}
	struct pvio_nic nic;
	pvio_nic_init(&nic);
	char err[256];
	for (int i = 2; i < argc; i++)
		if (pvio_nic_parse_arg(&nic, argv[i], err, sizeof(err))) {
			pvio_err("%s", err);
			return 2;
		}
	struct host host;
	if (host_load(&host, false) || host_lock(&host) < 0)
		return 1;
	struct xs_handle *h = xs_connect();
	if (!h)
		return 1;
	int rc = 1;
	unsigned domid, backend;
	char *script = NULL;
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
	/* Validate everything before the first write. */
	script = script_path(nic.script);
	struct stat st;
	if (stat(script, &st) || !S_ISREG(st.st_mode) || access(script, X_OK)) {
		pvio_err("hotplug script %s: %s", script,
			 errno ? strerror(errno) : "not an executable file");
		goto out;
	}
	if (!is_bridge(&host, nic.bridge)) {
		pvio_err("bridge '%s' does not exist in dom0 (network "
			 "namespace %s)",
			 nic.bridge,
			 host.dom0_netns[0] ? host.dom0_netns : "root");
		goto out;
	}
	if (nic.devid < 0)
		nic.devid = next_devid(h, domid);
	char *fe = fe_path(domid, nic.devid), *be = be_path(domid, nic.devid);
	bool in_use = node_exists(h, fe) || node_exists(h, be);
	free(fe);
	free(be);
	if (in_use) {
		pvio_err("devid %d is in use on domain %s", nic.devid, argv[1]);
		goto out;
	}
	char vif[32];
	snprintf(vif, sizeof(vif), "vif%u.%d", domid, nic.devid);
	if (strlen(vif) > PVIO_IFNAME_MAX) {
		pvio_err("interface name %s is too long for Linux", vif);
		goto out;
	}
	if (nic.vifname && link_in_dom0(&host, nic.vifname)) {
		pvio_err("vifname %s: an interface of that name exists in "
			 "dom0",
			 nic.vifname);
		goto out;
	}
	if (!nic.has_mac) {
		/* xl's default: Xen's OUI 00:16:3e, then random. */
		uint8_t r[3];
		if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
			pvio_err("getrandom: %s", strerror(errno));
			goto out;
		}
		uint8_t def[6] = {0x00, 0x16, 0x3e, (uint8_t)(r[0] & 0x7f),
				  r[1], r[2]};
		memcpy(nic.mac, def, sizeof(def));
	}
	char mac[18];
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", nic.mac[0],
		 nic.mac[1], nic.mac[2], nic.mac[3], nic.mac[4], nic.mac[5]);

	if (!write_device(h, domid, nic.devid, &nic, script, mac)) {
		pvio_err("cannot write the vif's xenstore nodes: %s",
			 strerror(errno));
		remove_nodes(h, domid, nic.devid);
		goto out;
	}
	char *be_state = pvio_strfmt("/local/domain/0/backend/vif/%u/%d/state",
				     domid, nic.devid);
	int s = xs_wait_int(h, be_state, state_backend_ready, timeout_ms());
	free(be_state);
	if (s < 0) {
		pvio_err("no backend answered for %s within %d s (is "
			 "pvio-netback running? see `pvio host status`)",
			 vif, g_opts.timeout_s);
		remove_nodes(h, domid, nic.devid);
		goto out;
	}
	char out[1024];
	int hs = run_hotplug(&host, h, domid, nic.devid, "online", out,
			     sizeof(out));
	char *status = xs_readf(h, XBT_NULL,
				"/local/domain/0/backend/vif/%u/%d/"
				"hotplug-status",
				domid, nic.devid);
	bool connected = status && !strcmp(status, "connected");
	free(status);
	if (hs != 0 || !connected) {
		char *why = xs_readf(h, XBT_NULL,
				     "/local/domain/0/backend/vif/%u/%d/"
				     "hotplug-error",
				     domid, nic.devid);
		pvio_err("hotplug script %s online failed for %s: %s", script,
			 vif,
			 why	? why
			 : *out ? out
				: (hs ? "non-zero exit status"
				      : "hotplug-status is not connected"));
		free(why);
		nic_detach(&host, h, domid, nic.devid, true);
		goto out;
	}
	rc = 0;
out:
	free(script);
	xs_close(h);
	return rc;
}

/* The devid named by DEVID or MAC, as xl: a ':' means a MAC. */
static int find_devid(struct xs_handle *h, unsigned domid, const char *what,
		      int *devid)
{
	if (!strchr(what, ':')) {
		if (pvio_parse_devid(what, devid))
			return -1;
		char *fe = fe_path(domid, *devid), *be = be_path(domid, *devid);
		bool exists = node_exists(h, fe) || node_exists(h, be);
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
		char *m = xs_readf(h, XBT_NULL,
				   "/local/domain/%u/device/vif/%s/mac", domid,
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
	if (host_load(&host, false) || host_lock(&host) < 0)
		return 1;
	struct xs_handle *h = xs_connect();
	if (!h)
		return 1;
	unsigned domid;
	int devid, rc = 1;
	if (resolve_domain(h, argv[1], &domid))
		goto out;
	if (find_devid(h, domid, argv[2], &devid)) {
		pvio_err("domain %s has no vif %s (see `pvio network-list %s`)",
			 argv[1], argv[2], argv[1]);
		goto out;
	}
	rc = nic_detach(&host, h, domid, devid, false) ? 1 : 0;
out:
	xs_close(h);
	return rc;
}

static int read_int(struct xs_handle *h, const char *dir, const char *key)
{
	char *v = xs_readf(h, XBT_NULL, "%s/%s", dir, key);
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
	if (host_load(&host, false))
		return 1;
	struct xs_handle *h = xs_connect();
	if (!h)
		return 1;
	unsigned ids[256];
	int n = 0;
	for (int i = 1; i < argc && n < 256; i++)
		if (resolve_domain(h, argv[i], &ids[n++])) {
			xs_close(h);
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
			char *mac = xs_readf(h, XBT_NULL, "%s/mac", fe);
			char *be = xs_readf(h, XBT_NULL, "%s/backend", fe);
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
	}
	xs_close(h);
	return 0;
}
