/*
 * The XenBus side (main thread only): watches on the backend directory,
 * each device's frontend state and @releaseDomain, and one function that
 * looks at a device's nodes and moves its state machine (device_update):
 * every event, whatever it names, leads there, so the reaction depends on
 * what the store holds, never on which event came first.
 */
#include "config.h"

#include "netback.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKEND_BASE "/local/domain/0/backend/vif"

/* What pvio-netback offers (docs/netif-backend.md): rx-copy, sg, IPv4 and
 * IPv6 checksum offload, GSO TCPv4 and TCPv6 (each can be switched off,
 * main.c); persistent grants (a pvio extension); split event channels (unless
 * --no-split-event-channels) and
 * --max-queues queues (set by xenbus_start); no control ring. */
struct netif_features netback_offer = {
	.rx_copy = true,
	.rx_notify = true,
	.sg = true,
	.ipv4_csum = true,
	.ipv6_csum = true,
	.gso_tcpv4 = true,
	.gso_tcpv6 = true,
	/* Kept mappings of a frontend's TX buffers (tx.c), where the
	 * frontend writes the key too. */
	.persistent_grants = true,
};

static struct vif *find_vif(struct netback *nb, unsigned domid, unsigned devid)
{
	for (struct vif *v = nb->vifs; v; v = v->next)
		if (v->domid == domid && v->devid == devid)
			return v;
	return NULL;
}

static void unlink_vif(struct netback *nb, struct vif *vif)
{
	for (struct vif **p = &nb->vifs; *p; p = &(*p)->next)
		if (*p == vif) {
			*p = vif->next;
			return;
		}
}

static bool read_flag(struct netback *nb, const char *dir, const char *key)
{
	char path[NETBACK_PATH_MAX + 32];
	uint64_t v = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return pvio_xenbus_read_uint(nb->xb, XBT_NULL, path, &v) == 0 && v == 1;
}

static bool hotplug_connected(struct netback *nb, const struct vif *vif)
{
	char path[NETBACK_PATH_MAX + 32];
	char *v = NULL;
	snprintf(path, sizeof(path), "%s/hotplug-status", vif->be_dir);
	bool yes = pvio_xenbus_read_str(nb->xb, XBT_NULL, path, &v) == 0 &&
		   !strcmp(v, "connected");
	free(v);
	return yes;
}

struct state_write {
	const char *dir;
	enum xenbus_state state;
	const struct netif_key_value *kv; /* written with it, may be NULL */
	unsigned nkv;
};

/* A transaction body: the keys and the state, only while the device's
 * directory exists (a write would otherwise make it again). */
static int state_write_txn(struct pvio_xenbus *xb, xs_transaction_t t,
			   void *arg)
{
	const struct state_write *w = arg;
	enum xenbus_state cur;
	int rc = pvio_xenbus_read_state(xb, t, w->dir, &cur);
	if (rc)
		return rc;
	if (cur == XenbusStateUnknown)
		return 0;
	char path[NETBACK_PATH_MAX + 64];
	/* A teardown the toolstack began (Closing, online=0) is written over
	 * by nothing but Closed: a worker reaped meanwhile must not send the
	 * device back to InitWait, where nothing would finish it. */
	if (w->state != XenbusStateClosed) {
		bool online = false;
		snprintf(path, sizeof(path), "%s/online", w->dir);
		rc = pvio_xenbus_read_feature(xb, t, path, &online);
		if (cur == XenbusStateClosing || rc || !online)
			return 0;
	}
	for (unsigned i = 0; i < w->nkv; i++) {
		snprintf(path, sizeof(path), "%s/%s", w->dir, w->kv[i].key);
		rc = pvio_xenbus_write_str(xb, t, path, w->kv[i].value);
		if (rc)
			return rc;
	}
	return pvio_xenbus_switch_state(xb, t, w->dir, w->state);
}

static void set_state_at(struct netback *nb, const char *name,
			 const char *be_dir, enum xenbus_state state,
			 const struct netif_key_value *kv, unsigned nkv)
{
	struct state_write w = {be_dir, state, kv, nkv};
	int rc = pvio_xenbus_transaction(nb->xb, state_write_txn, &w, 0);
	if (rc)
		nb_log("%s: cannot write state %s: %s", name,
		       pvio_xenbus_state_name(state), strerror(-rc));
	else
		nb_debug("%s: state %s", name, pvio_xenbus_state_name(state));
}

static void set_state(struct netback *nb, struct vif *vif,
		      enum xenbus_state state, const struct netif_key_value *kv,
		      unsigned nkv)
{
	set_state_at(nb, vif->name, vif->be_dir, state, kv, nkv);
}

/* Reads a frontend key for netif_read_frontend_conn. */
struct fe_reader {
	struct netback *nb;
	const struct vif *vif;
	char bad_key[48]; /* a key that could not be read as a string */
	const char *bad_why;
};

static int read_fe_key(void *ctx, const char *key, char *value, size_t size)
{
	struct fe_reader *r = ctx;
	char path[NETBACK_PATH_MAX + 64];
	char *v = NULL;
	snprintf(path, sizeof(path), "%s/%s", r->vif->fe_dir, key);
	int rc = pvio_xenbus_read_str(r->nb->xb, XBT_NULL, path, &v);
	if (rc == -ENOENT)
		return 0;
	if (rc == -EINVAL) {
		snprintf(r->bad_key, sizeof(r->bad_key), "%s", key);
		r->bad_why = "not a string (embedded nul)";
	}
	if (rc)
		return rc;
	size_t len = strlen(v);
	if (len >= size) {
		/* Cut short it could read as another valid value. */
		snprintf(r->bad_key, sizeof(r->bad_key), "%s", key);
		r->bad_why = "value too long";
		free(v);
		return -E2BIG;
	}
	memcpy(value, v, len + 1);
	free(v);
	return 1;
}

/* A failed connect is logged once per distinct reason: a frontend that
 * rewrites its state with the same bad keys does not fill the log. */
static void connect_refused(struct vif *vif, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void connect_refused(struct vif *vif, const char *fmt, ...)
{
	char msg[sizeof(vif->last_refusal)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (vif->quiet_refusal || !strcmp(msg, vif->last_refusal)) {
		nb_debug("%s: %s (again)", vif->name, msg);
		return;
	}
	snprintf(vif->last_refusal, sizeof(vif->last_refusal), "%s", msg);
	vif_log(vif, "%s; staying in InitWait", msg);
}

static void try_connect(struct netback *nb, struct vif *vif)
{
	struct fe_reader r = {nb, vif, "", NULL};
	struct netif_frontend_conn conn;
	struct netif_key_error kerr;
	memset(&kerr, 0, sizeof(kerr));
	/* Whatever fails waits for the frontend's next state write. */
	vif->wait_fe_change = true;
	int rc = netif_read_frontend_conn(read_fe_key, &r, &netback_offer,
					  &conn, &kerr);
	if (rc && r.bad_key[0]) {
		connect_refused(vif, "frontend refused: %s/%s: %s", vif->fe_dir,
				r.bad_key, r.bad_why);
		return;
	}
	if (rc == -EINVAL) {
		connect_refused(vif, "frontend refused: %s/%s = \"%s\": %s",
				vif->fe_dir, kerr.key, kerr.value,
				kerr.why ? kerr.why : "invalid");
		return;
	}
	if (rc) {
		connect_refused(vif,
				"cannot read the frontend's keys in %s: %s",
				vif->fe_dir, strerror(-rc));
		return;
	}
	char msg[256];
	rc = vif_connect(vif, &conn, msg, sizeof(msg));
	if (rc) {
		connect_refused(vif,
				"cannot connect to the frontend (domain %u): "
				"%s",
				vif->domid, msg);
		return;
	}
	vif->wait_fe_change = false;
	vif->quiet_refusal = false;
	vif->last_refusal[0] = 0;
	const struct netif_queue_conn *q0 = &conn.queues[0];
	char channels[48];
	if (conn.split_evtchn)
		snprintf(channels, sizeof(channels),
			 "event-channel-tx %u -rx %u", q0->evtchn_tx,
			 q0->evtchn_rx);
	else
		snprintf(channels, sizeof(channels), "event-channel %u",
			 q0->evtchn_tx);
	char takes[96];
	netif_features_str(&conn.features, takes, sizeof(takes));
	vif_log(vif,
		"connected: %u queue%s (queue 0: tx-ring-ref %u rx-ring-ref "
		"%u %s), frontend takes: %s",
		conn.nr_queues, conn.nr_queues == 1 ? "" : "s", q0->tx_ring_ref,
		q0->rx_ring_ref, channels, takes);
}

static void destroy_vif(struct netback *nb, struct vif *vif, bool write_closed)
{
	if (vif->fe_watch)
		pvio_xenbus_unwatch(nb->xb, vif->fe_watch);
	unlink_vif(nb, vif);
	/* Everything goes before Closed is written: the toolstack takes
	 * Closed to mean the TAP and the statistics are gone. */
	char name[sizeof(vif->name)], be_dir[sizeof(vif->be_dir)];
	memcpy(name, vif->name, sizeof(name));
	memcpy(be_dir, vif->be_dir, sizeof(be_dir));
	vif_destroy(vif);
	if (write_closed)
		set_state_at(nb, name, be_dir, XenbusStateClosed, NULL, 0);
	nb_log("%s: removed", name);
}

static void on_frontend_event(struct pvio_xenbus *xb, const char *path,
			      void *arg);

/* A device the backend takes up: TAP, statistics, features, InitWait. */
static void take_up(struct netback *nb, unsigned domid, unsigned devid,
		    const char *be_dir, enum xenbus_state be_state)
{
	char fe_dir[NETBACK_PATH_MAX];
	char path[NETBACK_PATH_MAX + 32];
	char *v = NULL;
	snprintf(path, sizeof(path), "%s/frontend", be_dir);
	if (pvio_xenbus_read_str(nb->xb, XBT_NULL, path, &v) == 0 &&
	    strlen(v) < sizeof(fe_dir) && v[0] == '/')
		snprintf(fe_dir, sizeof(fe_dir), "%s", v);
	else
		snprintf(fe_dir, sizeof(fe_dir),
			 "/local/domain/%u/device/vif/%u", domid, devid);
	free(v);
	struct vif *vif = vif_create(domid, devid, be_dir, fe_dir, nb->rundir,
				     nb->wake_fd);
	if (!vif)
		return;
	vif->next = nb->vifs;
	nb->vifs = vif;
	if (vif->failed)
		return; /* logged; kept so it is not retried on every event */

	/* After a restart the new TAP is not on the bridge: the script that
	 * put the old one there runs again (below, once it exists). A
	 * frontend still Connected talks to rings of the old process: it
	 * must go through Initialising before the backend connects. */
	if (be_state != XenbusStateInitialising)
		vif->run_hotplug = hotplug_connected(nb, vif);
	pvio_xenbus_read_state(nb->xb, XBT_NULL, fe_dir, &vif->fe_state_seen);
	vif->wait_fe_change = vif->fe_state_seen == XenbusStateConnected;

	struct netif_key_value kv[NETIF_MAX_KEYS];
	unsigned nkv =
		netif_backend_offer_keys(&netback_offer, kv, NETIF_MAX_KEYS);
	set_state(nb, vif, XenbusStateInitWait, kv, nkv);
	nb_log("%s: TAP created, InitWait (frontend %s)", vif->name, fe_dir);
	if (vif->run_hotplug) {
		int rc = hotplug_run(nb->xb, vif, "online");
		if (rc)
			nb_log("%s: hotplug script online failed (%d)",
			       vif->name, rc);
	}
	vif->fe_watch = pvio_xenbus_watch(nb->xb, vif->fe_state_path,
					  on_frontend_event, nb);
	if (!vif->fe_watch)
		nb_log("%s: cannot watch %s: %s", vif->name, vif->fe_state_path,
		       strerror(errno));
}

static bool domain_exists(struct netback *nb, unsigned domid)
{
	char dom[48];
	snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
	return pvio_xenbus_exists(nb->xb, XBT_NULL, dom);
}

/* A worker that stopped by itself: join it and act on why. */
static void reap_worker(struct netback *nb, struct vif *vif)
{
	enum vif_worker_exit why = vif_disconnect(vif);
	switch (why) {
	case VIF_WORKER_DISABLED:
		vif->broken = true; /* logged by the worker */
		break;
	case VIF_WORKER_PEER_GONE:
		vif_log(vif, "the frontend closed its event channel or died; "
			     "waiting for it to reconnect");
		/* Connect again at once if it is Connected: a frontend that
		 * reconnected quickly may have written its new keys before
		 * this was noticed, and will not write them again. Keys of
		 * a dead one fail to bind: no need to say so. */
		vif->wait_fe_change = false;
		vif->quiet_refusal = true;
		set_state(nb, vif, XenbusStateInitWait, NULL, 0);
		break;
	case VIF_WORKER_FAILED:
		vif->wait_fe_change = true;
		set_state(nb, vif, XenbusStateInitWait, NULL, 0);
		break;
	default:
		break;
	}
}

/*
 * The backend's `rate` node ("bytes,usecs", from xl's rate=RATE/s@INTERVAL)
 * limits the vif's TX: a changed value goes to the worker (through
 * rate_gen, and a kick so that a packet waiting for credit under the old
 * limit is looked at again), whether connected or not. A malformed value
 * is logged once and leaves the vif unlimited, as Linux does; removing the
 * node removes the limit.
 */
static void update_rate(struct netback *nb, struct vif *vif)
{
	char path[NETBACK_PATH_MAX + 16];
	char *v = NULL;
	snprintf(path, sizeof(path), "%s/rate", vif->be_dir);
	int rc = pvio_xenbus_read_str(nb->xb, XBT_NULL, path, &v);
	if (rc && rc != -ENOENT)
		return; /* unreadable now: the next event reads it again */
	const char *value = rc ? "" : v;
	/* Compared as stored (cut short): a long bad value is logged once. */
	char seen[sizeof(vif->rate_value)];
	snprintf(seen, sizeof(seen), "%s", value);
	if (!strcmp(seen, vif->rate_value)) {
		free(v);
		return;
	}
	memcpy(vif->rate_value, seen, sizeof(seen));
	uint64_t bytes = 0, usecs = 0;
	const char *why = NULL;
	if (value[0] && credit_parse_rate(value, &bytes, &usecs, &why)) {
		vif_log(vif,
			"%s = \"%.63s\": %s (expected \"bytes,usecs\"); TX not "
			"limited",
			path, value, why);
		bytes = usecs = 0;
	} else if (value[0]) {
		vif_log(vif, "TX limited to %llu bytes per %llu us",
			(unsigned long long)bytes, (unsigned long long)usecs);
	} else {
		vif_log(vif, "TX not limited");
	}
	free(v);
	pthread_mutex_lock(&vif->rate_lock);
	vif->rate_bytes = bytes;
	vif->rate_usecs = usecs;
	__atomic_store_n(&vif->rate_gen, vif->rate_gen + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vif->rate_lock);
	if (vif->connected)
		worker_kick(vif);
}

/* How device_update was reached. */
enum update_cause {
	UPDATE_SCAN,	 /* the initial scan (a restart takes devices up) */
	UPDATE_BACKEND,	 /* a backend node changed, or a worker stopped */
	UPDATE_FRONTEND, /* the frontend wrote its state */
};

static void device_update(struct netback *nb, unsigned domid, unsigned devid,
			  enum update_cause cause)
{
	char be_dir[NETBACK_PATH_MAX];
	snprintf(be_dir, sizeof(be_dir), BACKEND_BASE "/%u/%u", domid, devid);
	struct vif *vif = find_vif(nb, domid, devid);
	enum xenbus_state be_state;
	if (pvio_xenbus_read_state(nb->xb, XBT_NULL, be_dir, &be_state))
		return;
	if (be_state == XenbusStateUnknown &&
	    !pvio_xenbus_exists(nb->xb, XBT_NULL, be_dir)) {
		/* The directory is gone: nothing to write to. */
		if (vif)
			destroy_vif(nb, vif, false);
		return;
	}
	bool online = read_flag(nb, be_dir, "online");
	if (!vif) {
		if (!online)
			return;
		/* At start every online device counts (a restart); later only
		 * new ones, and not those this process closed itself. */
		if (be_state == XenbusStateInitialising ||
		    (cause == UPDATE_SCAN && be_state != XenbusStateClosing &&
		     domain_exists(nb, domid)))
			take_up(nb, domid, devid, be_dir, be_state);
		return;
	}

	enum xenbus_state fe_state;
	if (pvio_xenbus_read_state(nb->xb, XBT_NULL, vif->fe_dir, &fe_state))
		return;
	if (!online &&
	    (be_state == XenbusStateClosing || fe_state == XenbusStateClosing ||
	     fe_state == XenbusStateClosed || fe_state == XenbusStateUnknown)) {
		destroy_vif(nb, vif, true);
		return;
	}
	if (vif->failed || !online)
		return;
	update_rate(nb, vif);
	if (vif->connected && vif_worker_state(vif) != VIF_WORKER_RUNNING) {
		reap_worker(nb, vif);
		if (pvio_xenbus_read_state(nb->xb, XBT_NULL, be_dir, &be_state))
			return;
	}

	/* Every write of the frontend's state is a change, even of the same
	 * value: two quick writes (Initialising, Connected) may both be
	 * read as the second. The watch's first event is no write. */
	if (cause == UPDATE_FRONTEND) {
		if (vif->fe_watch_primed) {
			nb_debug("%s: frontend %s -> %s", vif->name,
				 pvio_xenbus_state_name(vif->fe_state_seen),
				 pvio_xenbus_state_name(fe_state));
			vif->wait_fe_change = false;
			vif->quiet_refusal = false;
		}
		vif->fe_watch_primed = true;
	}
	vif->fe_state_seen = fe_state;
	switch (fe_state) {
	case XenbusStateInitialising:
	case XenbusStateClosed:
		/* The frontend starts over: serve it again from InitWait. */
		if (vif->connected)
			vif_disconnect(vif);
		vif->broken = false;
		if (be_state != XenbusStateInitWait)
			set_state(nb, vif, XenbusStateInitWait, NULL, 0);
		break;
	case XenbusStateClosing:
	case XenbusStateUnknown:
		if (vif->connected)
			vif_disconnect(vif);
		break;
	case XenbusStateConnected:
		if (!vif->connected && !vif->broken && !vif->wait_fe_change)
			try_connect(nb, vif);
		if (vif->connected && be_state != XenbusStateConnected &&
		    hotplug_connected(nb, vif))
			set_state(nb, vif, XenbusStateConnected, NULL, 0);
		break;
	default:
		break;
	}
}

/* Every device under the backend directory, and every vif (which may have
 * lost its directory). */
static void scan_all(struct netback *nb, enum update_cause cause)
{
	char **doms = NULL;
	unsigned ndoms = 0;
	if (pvio_xenbus_directory(nb->xb, XBT_NULL, BACKEND_BASE, &doms,
				  &ndoms) == 0) {
		for (unsigned i = 0; i < ndoms; i++) {
			char dir[NETBACK_PATH_MAX];
			unsigned domid;
			char end;
			if (sscanf(doms[i], "%u%c", &domid, &end) != 1)
				continue;
			snprintf(dir, sizeof(dir), BACKEND_BASE "/%u", domid);
			char **devs = NULL;
			unsigned ndevs = 0;
			if (pvio_xenbus_directory(nb->xb, XBT_NULL, dir, &devs,
						  &ndevs))
				continue;
			for (unsigned j = 0; j < ndevs; j++) {
				unsigned devid;
				if (sscanf(devs[j], "%u%c", &devid, &end) == 1)
					device_update(nb, domid, devid, cause);
			}
			free(devs);
		}
		free(doms);
	}
	for (struct vif *v = nb->vifs, *next; v; v = next) {
		next = v->next;
		device_update(nb, v->domid, v->devid, UPDATE_BACKEND);
	}
}

static void on_backend_event(struct pvio_xenbus *xb, const char *path,
			     void *arg)
{
	struct netback *nb = arg;
	unsigned domid, devid;
	(void)xb;
	if (!strncmp(path, BACKEND_BASE "/", sizeof(BACKEND_BASE)) &&
	    sscanf(path + sizeof(BACKEND_BASE), "%u/%u", &domid, &devid) == 2)
		device_update(nb, domid, devid, UPDATE_BACKEND);
	else
		scan_all(nb, UPDATE_BACKEND);
}

static void on_frontend_event(struct pvio_xenbus *xb, const char *path,
			      void *arg)
{
	struct netback *nb = arg;
	(void)xb;
	for (struct vif *v = nb->vifs; v; v = v->next)
		if (!strcmp(path, v->fe_state_path)) {
			device_update(nb, v->domid, v->devid, UPDATE_FRONTEND);
			return;
		}
}

/* A domain went: its vifs go with it, whatever state they are in. */
static void on_release_domain(struct pvio_xenbus *xb, const char *path,
			      void *arg)
{
	struct netback *nb = arg;
	(void)xb;
	(void)path;
	for (struct vif *v = nb->vifs, *next; v; v = next) {
		next = v->next;
		if (!domain_exists(nb, v->domid)) {
			nb_log("%s: domain %u is gone", v->name, v->domid);
			destroy_vif(nb, v, true);
		}
	}
}

int xenbus_start(struct netback *nb)
{
	netback_offer.max_queues = nb->max_queues;
	netback_offer.split_evtchn = nb->split_evtchn;
	/* Devices that exist already were left by a backend before us. */
	scan_all(nb, UPDATE_SCAN);
	nb->started = true;
	nb->be_watch =
		pvio_xenbus_watch(nb->xb, BACKEND_BASE, on_backend_event, nb);
	if (!nb->be_watch) {
		nb_log("cannot watch %s: %s", BACKEND_BASE, strerror(errno));
		return -1;
	}
	nb->release_watch = pvio_xenbus_watch(nb->xb, "@releaseDomain",
					      on_release_domain, nb);
	if (!nb->release_watch) {
		nb_log("cannot watch @releaseDomain: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void xenbus_workers_changed(struct netback *nb)
{
	for (struct vif *v = nb->vifs, *next; v; v = next) {
		next = v->next;
		if (v->connected && vif_worker_state(v) != VIF_WORKER_RUNNING)
			device_update(nb, v->domid, v->devid, UPDATE_BACKEND);
	}
}

void xenbus_shutdown(struct netback *nb)
{
	while (nb->vifs)
		destroy_vif(nb, nb->vifs, true);
}
