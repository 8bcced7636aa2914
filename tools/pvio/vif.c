/* A vif's xenstore directories, its hotplug script and its teardown, as
 * libxl (libxl_nic.c, libxl_device.c, libxl_linux.c): what network-attach,
 * network-detach and destroy share. */
#include "config.h"

#include "host.h"
#include "msg.h"
#include "netns.h"
#include "options.h"
#include "proc.h"
#include "store.h"
#include "vif.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct device_ref {
	unsigned domid;
	int devid;
};

/* A transaction body: the device's three directories, and the parents
 * their removal leaves empty (libxl__device_destroy). */
static int remove_nodes_txn(struct pvio_xenbus *xb, xs_transaction_t t,
			    void *arg)
{
	const struct device_ref *d = arg;
	struct xs_handle *h = pvio_xenbus_handle(xb);
	char *fe = vif_fe_path(d->domid, d->devid),
	     *be = vif_be_path(d->domid, d->devid),
	     *lx = vif_libxl_path(d->domid, d->devid);
	/* Keep the device/ directories `pvio create` made. */
	char *fe_stop = pvio_strfmt("/local/domain/%u/device", d->domid);
	char *lx_stop = pvio_strfmt("/libxl/%u/device", d->domid);
	pvio_store_rm_cleanup(h, t, fe, fe_stop);
	pvio_store_rm_cleanup(h, t, be, "/local/domain/0");
	pvio_store_rm_cleanup(h, t, lx, lx_stop);
	free(fe);
	free(be);
	free(lx);
	free(fe_stop);
	free(lx_stop);
	return 0;
}

void vif_remove_nodes(struct pvio_xenbus *xb, unsigned domid, int devid)
{
	struct device_ref d = {domid, devid};
	int err = pvio_xenbus_transaction(xb, remove_nodes_txn, &d, 0);
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
