/*
 * The frontend's half of the XenBus handshake, per device/vif/N (main
 * thread only). Decisions are made from the states in the store, not from
 * the events that announced them, so that a missed or coalesced event
 * changes nothing: every event re-reads both states and moves one step.
 *
 *   backend InitWait, no connection      -> grant, bind, keys + Connected
 *   backend Connected                    -> kick the worker once
 *   backend InitWait/Initialising again
 *     after Connected, backend Closed
 *     with online=1, backend directory
 *     gone, or the worker reports the
 *     channel closed or a broken ring    -> tear down, Initialising, and
 *                                           connect again at InitWait
 *   backend Closing (or Closed, online=0) -> Closing; at backend Closed
 *                                           tear down, Closed
 *   frontend directory removed           -> tear down, delete eth<N>
 */
#include "config.h"

#include "netfront.h"
#include "pvio_tap.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VIF_DIR		"device/vif"
#define NF_ETH_DATA_LEN 1500u
#define NF_MTU_MIN	68u
#define NF_MTU_MAX	(65535u - NETIF_ETH_HLEN)
#define TXN_MAX_TRIES	0 /* the helper's default */

/* At most this many lines a minute per vif from what a backend does
 * (reconnects, offers refused): it must not be able to flood the log. */
#define VIF_LOG_PER_MINUTE 20u

static void vif_log(struct nf_vif *vif, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vif_log(struct nf_vif *vif, const char *fmt, ...)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - vif->log_window >= 60) {
		vif->log_window = now.tv_sec;
		vif->log_lines = 0;
	}
	if (vif->log_lines >= VIF_LOG_PER_MINUTE) {
		if (vif->log_lines++ == VIF_LOG_PER_MINUTE)
			nf_log("%s: more than %u lines this minute; the rest "
			       "of it is not logged",
			       vif->label, VIF_LOG_PER_MINUTE);
		return;
	}
	vif->log_lines++;
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nf_log("%s: %s", vif->label, msg);
}

static struct nf_vif *vif_find(struct nf_daemon *d, unsigned devid)
{
	for (struct nf_vif *v = d->vifs; v; v = v->next)
		if (v->devid == devid)
			return v;
	return NULL;
}

static int read_backend_key(void *ctx, const char *key, char *value,
			    size_t size)
{
	struct nf_vif *vif = ctx;
	char path[XENSTORE_ABS_PATH_MAX + 1];
	if (snprintf(path, sizeof(path), "%s/%s", vif->be_dir, key) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	char *v;
	int err = pvio_xenbus_read_str(vif->daemon->xb, XBT_NULL, path, &v);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	snprintf(value, size, "%s", v);
	free(v);
	return 1;
}

/* ---- writing our own directory ---- */

struct state_txn {
	struct nf_vif *vif;
	enum xenbus_state state;
	bool with_keys; /* write vif->keys (else remove them) */
};

static int write_state_txn(struct pvio_xenbus *xb, xs_transaction_t t,
			   void *arg)
{
	struct state_txn *a = arg;
	struct nf_vif *vif = a->vif;
	char path[128];
	/* Never recreate a directory the toolstack removed. */
	if (!pvio_xenbus_exists(xb, t, vif->fe_dir))
		return -ENOENT;
	for (unsigned i = 0; i < vif->nkeys; i++) {
		snprintf(path, sizeof(path), "%s/%s", vif->fe_dir,
			 vif->keys[i].key);
		int err = a->with_keys
				  ? pvio_xenbus_write_str(xb, t, path,
							  vif->keys[i].value)
				  : pvio_xenbus_rm(xb, t, path);
		if (err && !(err == -ENOENT && !a->with_keys))
			return err;
	}
	return pvio_xenbus_switch_state(xb, t, vif->fe_dir, a->state);
}

/* Our state (with the connection's keys, or without any). */
static int set_state(struct nf_vif *vif, enum xenbus_state state,
		     bool with_keys)
{
	struct state_txn a = {vif, state, with_keys};
	int err = pvio_xenbus_transaction(vif->daemon->xb, write_state_txn, &a,
					  TXN_MAX_TRIES);
	if (err && err != -ENOENT) {
		nf_log("%s: cannot write state %s to %s: %s", vif->label,
		       pvio_xenbus_state_name(state), vif->fe_dir,
		       strerror(-err));
		return err;
	}
	if (!with_keys)
		vif->nkeys = 0;
	vif->state = state;
	nf_debug("%s: frontend %s", vif->label, pvio_xenbus_state_name(state));
	return err;
}

/* ---- connect and tear down ---- */

static void teardown(struct nf_vif *vif, enum xenbus_state next)
{
	if (vif->conn) {
		nf_conn_stop(vif->conn, &vif->total);
		vif->conn = NULL;
	}
	vif->backend_connected = false;
	if (vif->state != next || vif->nkeys)
		set_state(vif, next, false);
}

static void connect_backend(struct nf_vif *vif)
{
	struct nf_daemon *d = vif->daemon;
	struct netif_features offer, chosen;
	struct netif_key_error kerr;
	int err =
		netif_read_backend_offer(read_backend_key, vif, &offer, &kerr);
	if (err) {
		vif_log(vif, "backend offer refused: %s/%s = '%s': %s",
			vif->be_dir, kerr.key, kerr.value, kerr.why);
		return;
	}
	if (!offer.rx_copy) {
		vif_log(vif, "the backend does not offer feature-rx-copy (the "
			     "only receive path there is); not connecting");
		return;
	}
	/* chosen: the keys it writes, what it takes on RX; offer: what
	 * the backend takes on TX. */
	netif_frontend_choose(&offer, &d->offer, &chosen);

	/* Without scatter-gather either way a frame must fit one page: the
	 * MTU an Ethernet frame gets then (as Linux netfront). */
	bool sg = chosen.sg && offer.sg;
	unsigned mtu =
		sg || vif->mtu <= NF_ETH_DATA_LEN ? vif->mtu : NF_ETH_DATA_LEN;
	if (mtu != vif->mtu_set) {
		err = pvio_tap_set_mtu(vif->ifname, mtu);
		if (err)
			nf_log("%s: cannot set the MTU of %s to %u: %s",
			       vif->label, vif->ifname, mtu, strerror(-err));
		else
			vif->mtu_set = mtu;
		if (mtu < vif->mtu)
			vif_log(vif, "MTU %u instead of %u: %s no feature-sg",
				mtu, vif->mtu,
				offer.sg ? "this frontend offers"
					 : "the backend offers");
	}
	/* What the kernel hands over is what the backend takes (a blank
	 * checksum of a kind it does not take is filled in tx.c). */
	unsigned offload = netif_tun_offload(&offer);
	err = pvio_tap_set_offload(vif->tap_fd, offload);
	if (err)
		nf_log("%s: TUNSETOFFLOAD %#x on %s: %s", vif->label, offload,
		       vif->ifname, strerror(-err));

	struct nf_conn *conn;
	char why[256];
	err = nf_conn_start(vif, &chosen, &offer, d->busy_poll_us,
			    d->worker_event_fd, &conn, why, sizeof(why));
	if (err) {
		vif_log(vif, "cannot connect: %s", why);
		return;
	}
	vif->nkeys = nf_conn_keys(conn, vif->keys, NETIF_MAX_KEYS);
	/* Keys and Connected in one transaction: the backend sees all or
	 * nothing. */
	err = set_state(vif, XenbusStateConnected, true);
	if (err) {
		nf_conn_stop(conn, &vif->total);
		vif->nkeys = 0;
		return;
	}
	vif->conn = conn;
	vif->backend_connected = false;
	char takes[96], backend_takes[96];
	netif_features_str(&chosen, takes, sizeof(takes));
	netif_features_str(&offer, backend_takes, sizeof(backend_takes));
	vif_log(vif,
		"%s up, Connected: tx-ring-ref %u rx-ring-ref %u "
		"event-channel %u, takes: %s; backend takes: %s; TAP offload "
		"%#x, mtu %u, backend %s",
		vif->ifname, conn->tx_ring_ref, conn->rx_ring_ref, conn->port,
		takes, backend_takes, offload, vif->mtu_set,
		vif->trusted ? "trusted" : "untrusted");
}

static bool backend_online(struct nf_vif *vif)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	snprintf(path, sizeof(path), "%s/online", vif->be_dir);
	uint64_t v;
	return !pvio_xenbus_read_uint(vif->daemon->xb, XBT_NULL, path, &v) &&
	       v == 1;
}

static void reconnect(struct nf_vif *vif, const char *why)
{
	vif_log(vif,
		"%s: disconnected; %s and its addresses stay, waiting for "
		"the backend",
		why, vif->ifname);
	teardown(vif, XenbusStateInitialising);
}

/* One step of the state machine from the states in the store. */
static void vif_update(struct nf_vif *vif)
{
	if (vif->config_failed)
		return;
	enum xenbus_state be;
	int err = pvio_xenbus_read_state(vif->daemon->xb, XBT_NULL, vif->be_dir,
					 &be);
	if (err) {
		nf_log("%s: cannot read %s/state: %s", vif->label, vif->be_dir,
		       strerror(-err));
		return;
	}
	nf_debug("%s: backend %s, frontend %s%s", vif->label,
		 pvio_xenbus_state_name(be), pvio_xenbus_state_name(vif->state),
		 vif->conn ? ", connected" : "");

	/* Detach: the toolstack wrote online=0 with Closing. */
	if (be == XenbusStateClosing ||
	    (be == XenbusStateClosed && !backend_online(vif))) {
		if (vif->state != XenbusStateClosing &&
		    vif->state != XenbusStateClosed)
			set_state(vif, XenbusStateClosing, vif->nkeys > 0);
		/* The rings go once the backend has unmapped them. */
		if (be == XenbusStateClosed && vif->state != XenbusStateClosed)
			teardown(vif, XenbusStateClosed);
		return;
	}

	if (vif->conn) {
		switch (be) {
		case XenbusStateConnected:
			if (!vif->backend_connected) {
				vif->backend_connected = true;
				nf_conn_kick(vif->conn);
				vif_log(vif, "backend Connected");
			}
			return;
		case XenbusStateInitialising:
		case XenbusStateInitWait:
			if (!vif->backend_connected)
				return; /* it has not seen our keys yet */
			reconnect(vif, "the backend restarted its handshake");
			break;
		case XenbusStateClosed:
			reconnect(vif, "the backend closed");
			break;
		case XenbusStateUnknown:
			reconnect(vif, "the backend's directory is gone");
			break;
		default:
			return;
		}
	}

	if (be == XenbusStateInitWait) {
		if (vif->state != XenbusStateInitialising)
			set_state(vif, XenbusStateInitialising, false);
		connect_backend(vif);
	} else if (vif->state != XenbusStateInitialising) {
		set_state(vif, XenbusStateInitialising, false);
	}
}

static void on_backend_state(struct pvio_xenbus *xb, const char *path,
			     void *arg)
{
	(void)xb;
	(void)path;
	vif_update(arg);
}

/* ---- devices appearing and going ---- */

static void vif_free(struct nf_vif *vif)
{
	if (vif->be_watch)
		pvio_xenbus_unwatch(vif->daemon->xb, vif->be_watch);
	if (vif->conn)
		nf_conn_stop(vif->conn, &vif->total);
	if (vif->tap_fd >= 0)
		close(vif->tap_fd); /* deletes eth<N> */
	if (vif->gntshr)
		pvio_gntshr_close(vif->gntshr);
	free(vif->be_dir);
	free(vif);
}

static void vif_remove(struct nf_vif *vif)
{
	struct nf_daemon *d = vif->daemon;
	for (struct nf_vif **p = &d->vifs; *p; p = &(*p)->next) {
		if (*p == vif) {
			*p = vif->next;
			break;
		}
	}
	nf_log("%s: device removed; %s deleted (tx %llu packets, rx %llu "
	       "packets)",
	       vif->label, vif->ifname,
	       (unsigned long long)(vif->total.tx_packets +
				    (vif->conn ? vif->conn->stats.tx_packets
					       : 0)),
	       (unsigned long long)(vif->total.rx_packets +
				    (vif->conn ? vif->conn->stats.rx_packets
					       : 0)));
	vif_free(vif);
}

static int read_key(struct nf_vif *vif, const char *key, char **out)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", vif->fe_dir, key);
	return pvio_xenbus_read_str(vif->daemon->xb, XBT_NULL, path, out);
}

/* What the toolstack wrote for the device. -1 after a message. */
static int vif_read_config(struct nf_vif *vif)
{
	char *v = NULL;
	int err = read_key(vif, "backend", &vif->be_dir);
	if (err || vif->be_dir[0] != '/') {
		nf_log("%s: %s/backend: %s", vif->label, vif->fe_dir,
		       err ? strerror(-err) : "not an absolute path");
		return -1;
	}
	err = read_key(vif, "backend-id", &v);
	char *end;
	unsigned long id = err ? 0 : strtoul(v, &end, 10);
	if (err || !*v || *end || id >= DOMID_FIRST_RESERVED) {
		nf_log("%s: %s/backend-id '%s': %s", vif->label, vif->fe_dir,
		       err ? "" : v, err ? strerror(-err) : "not a domain id");
		free(v);
		return -1;
	}
	vif->backend_id = (domid_t)id;
	free(v);
	err = read_key(vif, "mac", &v);
	if (err || netif_parse_mac(v, vif->mac)) {
		nf_log("%s: %s/mac '%s': %s", vif->label, vif->fe_dir,
		       err ? "" : v,
		       err ? strerror(-err)
			   : "not a MAC address (xx:xx:xx:xx:xx:xx)");
		free(v);
		return -1;
	}
	free(v);
	vif->mtu = NF_ETH_DATA_LEN;
	err = read_key(vif, "mtu", &v);
	if (!err) {
		unsigned long mtu = strtoul(v, &end, 10);
		if (!*v || *end || mtu < NF_MTU_MIN || mtu > NF_MTU_MAX)
			nf_log("%s: %s/mtu '%s' is not from %u to %u; using "
			       "%u",
			       vif->label, vif->fe_dir, v, NF_MTU_MIN,
			       NF_MTU_MAX, NF_ETH_DATA_LEN);
		else
			vif->mtu = (unsigned)mtu;
		free(v);
	}
	vif->trusted = true;
	err = read_key(vif, "trusted", &v);
	if (!err) {
		/* Anything but "1" is distrust: the safe reading. */
		vif->trusted = !strcmp(v, "1");
		if (strcmp(v, "0") && strcmp(v, "1"))
			nf_log("%s: %s/trusted '%s' is not 0 or 1; the "
			       "backend is not trusted",
			       vif->label, vif->fe_dir, v);
		free(v);
	}
	return 0;
}

/* The TAP the guest sees as its NIC. -1 after a message. */
static int vif_make_tap(struct nf_vif *vif)
{
	snprintf(vif->ifname, sizeof(vif->ifname), "eth%u", vif->devid);
	int fd = pvio_tap_open(vif->ifname);
	if (fd < 0) {
		nf_log("%s: cannot create TAP %s: %s", vif->label, vif->ifname,
		       strerror(-fd));
		return -1;
	}
	vif->tap_fd = fd;
	const char *step = "TUNSETOFFLOAD";
	int err = pvio_tap_set_offload(fd, TUN_F_CSUM);
	if (!err && (step = "set the MAC", 1))
		err = pvio_tap_set_mac(vif->ifname, vif->mac);
	if (!err && (step = "set the MTU", 1))
		err = pvio_tap_set_mtu(vif->ifname, vif->mtu);
	if (!err && (step = "bring it up", 1))
		err = pvio_tap_set_up(vif->ifname, true);
	if (err) {
		nf_log("%s: %s: cannot %s: %s", vif->label, vif->ifname, step,
		       strerror(-err));
		return -1;
	}
	vif->mtu_set = vif->mtu;
	return 0;
}

static void vif_add(struct nf_daemon *d, unsigned devid)
{
	struct nf_vif *vif = calloc(1, sizeof(*vif));
	if (!vif) {
		nf_log("vif%u.%u: out of memory", d->domid, devid);
		return;
	}
	vif->daemon = d;
	vif->devid = devid;
	vif->tap_fd = -1;
	snprintf(vif->label, sizeof(vif->label), "vif%u.%u", d->domid, devid);
	snprintf(vif->fe_dir, sizeof(vif->fe_dir), VIF_DIR "/%u", devid);
	vif->next = d->vifs;
	d->vifs = vif;
	pvio_xenbus_read_state(d->xb, XBT_NULL, vif->fe_dir, &vif->state);

	/* A device that cannot work is reported once and kept (so that
	 * its events do not retry it) until its directory goes. */
	if (vif_read_config(vif) || vif_make_tap(vif)) {
		vif->config_failed = true;
		return;
	}
	nf_log("%s: new device: %s mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u, "
	       "backend %s (domain %u), %s",
	       vif->label, vif->ifname, vif->mac[0], vif->mac[1], vif->mac[2],
	       vif->mac[3], vif->mac[4], vif->mac[5], vif->mtu, vif->be_dir,
	       vif->backend_id, vif->trusted ? "trusted" : "untrusted");
	char path[XENSTORE_ABS_PATH_MAX + 1];
	snprintf(path, sizeof(path), "%s/state", vif->be_dir);
	/* It fires once at once: that first event starts the handshake. */
	vif->be_watch = pvio_xenbus_watch(d->xb, path, on_backend_state, vif);
	if (!vif->be_watch) {
		nf_log("%s: cannot watch %s: %s", vif->label, path,
		       strerror(errno));
		vif->config_failed = true;
	}
}

static bool parse_devid(const char *s, unsigned *devid, const char **rest)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	unsigned long v = strtoul(s, &end, 10);
	if (v > 0xffff || (*end && *end != '/'))
		return false;
	*devid = (unsigned)v;
	*rest = end;
	return true;
}

/* Every device in the directory, and only those. */
static void vif_scan(struct nf_daemon *d)
{
	char **names = NULL;
	unsigned count = 0;
	int err =
		pvio_xenbus_directory(d->xb, XBT_NULL, VIF_DIR, &names, &count);
	if (err && err != -ENOENT) {
		nf_log("cannot list %s: %s", VIF_DIR, strerror(-err));
		return;
	}
	for (struct nf_vif *v = d->vifs, *next; v; v = next) {
		next = v->next;
		bool listed = false;
		for (unsigned i = 0; i < count && !listed; i++) {
			unsigned id;
			const char *rest;
			listed = parse_devid(names[i], &id, &rest) && !*rest &&
				 id == v->devid;
		}
		if (!listed)
			vif_remove(v);
	}
	for (unsigned i = 0; i < count; i++) {
		unsigned id;
		const char *rest;
		if (parse_devid(names[i], &id, &rest) && !*rest &&
		    !vif_find(d, id))
			vif_add(d, id);
	}
	free(names);
}

static void on_vif_dir(struct pvio_xenbus *xb, const char *path, void *arg)
{
	struct nf_daemon *d = arg;
	(void)xb;
	/* Relative watches report relative paths; accept absolute too. */
	const char *rel = strstr(path, VIF_DIR);
	if (!rel)
		return;
	rel += strlen(VIF_DIR);
	unsigned devid;
	const char *rest;
	if (!*rel || *rel != '/' || !parse_devid(rel + 1, &devid, &rest)) {
		vif_scan(d);
		return;
	}
	struct nf_vif *vif = vif_find(d, devid);
	/* Keys under a known device are ours or fixed; only the device's
	 * own node (created, removed) matters. */
	if (vif && *rest)
		return;
	if (vif && !pvio_xenbus_exists(d->xb, XBT_NULL, vif->fe_dir))
		vif_remove(vif);
	else if (!vif)
		vif_scan(d);
}

int nf_xenbus_start(struct nf_daemon *d)
{
	d->vif_watch = pvio_xenbus_watch(d->xb, VIF_DIR, on_vif_dir, d);
	if (!d->vif_watch) {
		nf_log("cannot watch %s: %s", VIF_DIR, strerror(errno));
		return -1;
	}
	return 0;
}

void nf_xenbus_worker_event(struct nf_daemon *d)
{
	for (struct nf_vif *v = d->vifs; v; v = v->next) {
		if (!v->conn ||
		    !__atomic_load_n(&v->conn->failed, __ATOMIC_ACQUIRE))
			continue;
		reconnect(v, v->conn->fail_why);
		vif_update(v);
	}
}

void nf_xenbus_shutdown(struct nf_daemon *d)
{
	while (d->vifs) {
		struct nf_vif *v = d->vifs;
		d->vifs = v->next;
		if (v->conn || v->state == XenbusStateConnected)
			teardown(v, XenbusStateClosed);
		vif_free(v);
	}
	if (d->vif_watch)
		pvio_xenbus_unwatch(d->xb, d->vif_watch);
}
