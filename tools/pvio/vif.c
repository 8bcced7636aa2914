/* A vif's xenstore directories, its hotplug script and its teardown, as
 * libxl (libxl_nic.c, libxl_device.c, libxl_linux.c): what network-attach,
 * network-detach, create (a config's vifs) and destroy share. */
#include "config.h"

#include "args.h"
#include "host.h"
#include "ioemu_nic.h"
#include "msg.h"
#include "netns.h"
#include "options.h"
#include "proc.h"
#include "programs.h"
#include "store.h"
#include "vif.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

char *vif_be_path(unsigned domid, int devid)
{
	return pvio_strfmt("/local/domain/0/backend/vif/%u/%d", domid, devid);
}

char *vif_fe_path(unsigned domid, int devid)
{
	return pvio_strfmt("/local/domain/%u/device/vif/%d", domid, devid);
}

char *vif_libxl_path(unsigned domid, int devid)
{
	return pvio_strfmt("/libxl/%u/device/vif/%d", domid, devid);
}

/* `SCRIPT online|offline type_if=vif` in dom0's namespace, with the
 * environment libxl gives it (get_hotplug_env). Its output lands in out. */
int vif_run_hotplug(const struct host *host, struct xs_handle *h,
		    unsigned domid, int devid, const char *action, char *out,
		    size_t outlen)
{
	char *be = vif_be_path(domid, devid);
	char *script = pvio_store_readf(h, XBT_NULL, "%s/script", be);
	char *gw = pvio_store_readf(h, XBT_NULL, "%s/gatewaydev", be);
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
	int rc = run_cmd_env(full, env, pvio_timeout_ms(), out, outlen);
	if (rc == -2)
		snprintf(out, outlen, "timed out after %d s", g_opts.timeout_s);
	free(full);
	for (int i = 0; env[i]; i++)
		free(env[i]);
	free(script);
	free(gw);
	return rc;
}

void vif_remove_nodes(struct pvio_xenbus *xb, unsigned domid, int devid)
{
	/* The device's three directories; keep the device/ directories
	 * `pvio create` made. */
	struct pvio_store_rm rm[] = {
		{vif_fe_path(domid, devid),
		 pvio_strfmt("/local/domain/%u/device", domid)},
		{vif_be_path(domid, devid), pvio_strfmt("/local/domain/0")},
		{vif_libxl_path(domid, devid),
		 pvio_strfmt("/libxl/%u/device", domid)},
	};
	int err = pvio_store_rm_all(xb, rm, sizeof(rm) / sizeof(rm[0]));
	if (err)
		pvio_warn("cannot remove the nodes of vif%u.%d: %s", domid,
			  devid, strerror(-err));
}

/* A transaction body: libxl__initiate_device_generic_remove's online=0
 * and Closing. */
static int close_backend_txn(struct pvio_xenbus *xb, xs_transaction_t t,
			     void *arg)
{
	const char *be = arg;
	char *online = pvio_strfmt("%s/online", be);
	int err = pvio_xenbus_write_str(xb, t, online, "0");
	free(online);
	if (!err)
		err = pvio_xenbus_switch_state(xb, t, be, XenbusStateClosing);
	return err;
}

int vif_detach(const struct host *host, struct pvio_xenbus *xb, unsigned domid,
	       int devid, bool quiet)
{
	struct xs_handle *h = pvio_xenbus_handle(xb);
	char *be = vif_be_path(domid, devid);
	enum xenbus_state state;
	if (pvio_xenbus_read_state(xb, XBT_NULL, be, &state) == 0 &&
	    state != XenbusStateUnknown && state != XenbusStateClosed) {
		int err = pvio_xenbus_transaction(xb, close_backend_txn, be, 0);
		/* Closed, or gone: the backend is done with it. */
		if (!err)
			err = pvio_xenbus_wait_state(
				xb, be,
				PVIO_XENBUS_STATE_BIT(XenbusStateClosed) |
					PVIO_XENBUS_STATE_BIT(
						XenbusStateUnknown),
				pvio_timeout_ms(), NULL);
		if (err == -ETIMEDOUT)
			pvio_warn(
				"the backend of vif%u.%d did not reach Closed "
				"within %d s; removing the device anyway",
				domid, devid, g_opts.timeout_s);
		else if (err)
			pvio_warn("closing vif%u.%d: %s", domid, devid,
				  strerror(-err));
	}
	char *script = pvio_store_readf(h, XBT_NULL, "%s/script", be);
	if (script) {
		char out[1024];
		int rc = vif_run_hotplug(host, h, domid, devid, "offline", out,
					 sizeof(out));
		if (rc && !quiet)
			pvio_warn("hotplug script offline for vif%u.%d: %s",
				  domid, devid, out);
	}
	free(script);
	vif_remove_nodes(xb, domid, devid);
	free(be);
	return 0;
}

/* ---- network-attach: what libxl_nic.c and libxl_device.c do ---- */

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

int vif_prepare(const struct host *host, struct pvio_xenbus *xb, unsigned domid,
		const char *dom, struct pvio_nic *nic, char **script,
		char mac[18])
{
	*script = script_path(nic->script);
	if (nic_check(host, xb, domid, dom, nic, *script) ||
	    nic_mac(nic, mac)) {
		free(*script);
		*script = NULL;
		return -1;
	}
	return 0;
}

int vif_attach(const struct host *host, struct pvio_xenbus *xb, unsigned domid,
	       const char *dom, struct pvio_nic *nic)
{
	char *script;
	char mac[18];
	if (vif_prepare(host, xb, domid, dom, nic, &script, mac))
		return -1;
	int rc = -1;
	int err = write_device(xb, domid, nic->devid, nic, script, mac);
	if (err) {
		pvio_err("cannot write the vif's xenstore nodes: %s",
			 strerror(-err));
		goto out;
	}
	rc = nic_connect(host, xb, domid, nic->devid, script);
out:
	free(script);
	return rc;
}
