/*
 * One vif: its TAP and statistics (for the device's whole life), and its
 * queue (from the frontend's Connected to a disconnect), set up by the
 * worker that serves it (worker.c): it opens its own grant and
 * event-channel handles, maps the rings and binds the channel.
 */
#include "config.h"

#include "netback.h"
#include "pvio_tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_tun.h>

/* Frames a disconnect drains from the TAP, at most (its queue is 500 by
 * default; more means traffic is still coming in). */
#define DRAIN_MAX 1024

struct vif *vif_create(unsigned domid, unsigned devid, const char *be_dir,
		       const char *fe_dir, const char *rundir, int main_wake_fd)
{
	struct vif *vif = calloc(1, sizeof(*vif));
	if (!vif) {
		nb_log("vif%u.%u: out of memory", domid, devid);
		return NULL;
	}
	vif->domid = domid;
	vif->devid = devid;
	snprintf(vif->name, sizeof(vif->name), "vif%u.%u", domid, devid);
	snprintf(vif->be_dir, sizeof(vif->be_dir), "%s", be_dir);
	snprintf(vif->fe_dir, sizeof(vif->fe_dir), "%s", fe_dir);
	snprintf(vif->fe_state_path, sizeof(vif->fe_state_path), "%s/state",
		 fe_dir);
	vif->main_wake_fd = main_wake_fd;
	vif->tap_fd = -1;
	pthread_mutex_init(&vif->log_lock, NULL);
	vif->log_window_start = -VIF_LOG_WINDOW_S;

	vif->tap_fd = pvio_tap_open(vif->name);
	int err = vif->tap_fd < 0
			  ? vif->tap_fd
			  : pvio_tap_set_offload(vif->tap_fd, TUN_F_CSUM);
	if (err) {
		nb_log("%s: cannot create the TAP: %s", vif->name,
		       strerror(-err));
		vif->failed = true;
		return vif;
	}
	vif->stats = stats_create(rundir, domid, devid, vif->stats_path,
				  sizeof(vif->stats_path));
	if (!vif->stats)
		vif->failed = true;
	return vif;
}

void vif_set_exit(struct vif *vif, enum vif_worker_exit why)
{
	int expected = VIF_WORKER_RUNNING;
	/* The first reason wins: a stop request after a disable is still a
	 * disable. */
	__atomic_compare_exchange_n(&vif->exit_reason, &expected, (int)why,
				    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

enum vif_worker_exit vif_worker_state(struct vif *vif)
{
	return (enum vif_worker_exit)__atomic_load_n(&vif->exit_reason,
						     __ATOMIC_ACQUIRE);
}

void vif_disable(struct vif *vif, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* Once per disable: the worker stops right after, and the frontend
	 * is ignored until it reconnects. */
	vif_log(vif, "frontend disabled: %s; ignored until it reconnects", why);
	__atomic_store_n(&vif->stats->disabled, 1, __ATOMIC_RELAXED);
	vif_set_exit(vif, VIF_WORKER_DISABLED);
}

void vif_disable_ring(struct vif *vif, const char *which,
		      const struct pvio_back_ring *ring)
{
	vif_disable(vif,
		    "%s ring: request producer %u is more than a ring ahead of "
		    "the responses (%u) or behind the requests taken (%u)",
		    which,
		    __atomic_load_n(&ring->sring->req_prod, __ATOMIC_RELAXED),
		    ring->rsp_prod_pvt, ring->req_cons);
}

bool vif_notify(struct vif *vif)
{
	struct vif_queue *q = vif->q;
	int rc = pvio_evtchn_notify(q->evtchn, q->port);
	stat_add(&vif->stats->syscalls, 1);
	if (rc == -ENOTCONN) {
		vif_set_exit(vif, VIF_WORKER_PEER_GONE);
		return false;
	}
	if (rc == 0)
		stat_add(&vif->stats->notify_sent, 1);
	return true;
}

/* Where the backend ring starts: the frontend's last published response
 * index (BACK_RING_ATTACH), so a frontend that did not reinitialise its
 * ring is not answered twice. Anything it wrote there is checked like any
 * later index. */
static RING_IDX ring_start(const void *area)
{
	const struct pvio_generic_sring *s = area;
	return __atomic_load_n(&s->rsp_prod, __ATOMIC_ACQUIRE);
}

/* Frames the kernel queued while no frontend was connected (or for one
 * that is gone): stale for whoever connects next. */
static void drain_tap(struct vif *vif)
{
	uint8_t buf[2048];
	for (int i = 0; i < DRAIN_MAX; i++)
		if (read(vif->tap_fd, buf, sizeof(buf)) < 0)
			break;
}

int vif_queue_setup(struct vif *vif, char *msg, size_t msg_size)
{
	struct vif_queue *q = vif->q;
	const struct netif_frontend_conn *c = &vif->conn;
	domid_t dom = (domid_t)vif->domid;
	int rc = pvio_gnttab_open(PVIO_PLATFORM_AUTO, &q->gnttab);
	if (rc) {
		snprintf(msg, msg_size, "cannot open grant table: %s (%s)",
			 strerror(-rc), pvio_platform_last_error());
		return rc;
	}
	rc = pvio_gnttab_map(q->gnttab, dom, 1, &c->tx_ring_ref, true,
			     &q->tx_area);
	if (rc) {
		q->tx_area = NULL;
		snprintf(msg, msg_size, "tx-ring-ref %u: map refused: %s",
			 c->tx_ring_ref, strerror(-rc));
		return rc;
	}
	rc = pvio_gnttab_map(q->gnttab, dom, 1, &c->rx_ring_ref, true,
			     &q->rx_area);
	if (rc) {
		q->rx_area = NULL;
		snprintf(msg, msg_size, "rx-ring-ref %u: map refused: %s",
			 c->rx_ring_ref, strerror(-rc));
		return rc;
	}
	struct pvio_ring_layout tx_layout, rx_layout;
	pvio_ring_layout_init(&tx_layout, NETIF_PAGE_BYTES,
			      sizeof(netif_tx_request_t),
			      sizeof(netif_tx_response_t),
			      sizeof(union netif_tx_sring_entry));
	pvio_ring_layout_init(&rx_layout, NETIF_PAGE_BYTES,
			      sizeof(netif_rx_request_t),
			      sizeof(netif_rx_response_t),
			      sizeof(union netif_rx_sring_entry));
	pvio_back_ring_attach(&q->tx_ring, q->tx_area, &tx_layout,
			      ring_start(q->tx_area));
	pvio_back_ring_attach(&q->rx_ring, q->rx_area, &rx_layout,
			      ring_start(q->rx_area));

	rc = pvio_evtchn_open(PVIO_PLATFORM_AUTO, &q->evtchn);
	if (rc) {
		snprintf(msg, msg_size, "cannot open event channels: %s (%s)",
			 strerror(-rc), pvio_platform_last_error());
		return rc;
	}
	rc = pvio_evtchn_bind_interdomain(q->evtchn, dom, c->evtchn_tx);
	if (rc < 0) {
		snprintf(msg, msg_size, "event-channel %u: bind refused: %s",
			 c->evtchn_tx, strerror(-rc));
		return rc;
	}
	q->port = (evtchn_port_t)rc;

	rc = tx_init(q);
	if (!rc)
		rc = rx_init(q);
	if (rc) {
		snprintf(msg, msg_size, "out of memory for buffers");
		return rc;
	}
	rx_set_offload(vif);
	drain_tap(vif);
	rx_size_reads(vif);
	q->tap_readable = true;
	return 0;
}

void vif_queue_teardown(struct vif *vif)
{
	struct vif_queue *q = vif->q;
	tx_fini(q);
	rx_fini(q);
	if (q->evtchn)
		pvio_evtchn_close(q->evtchn); /* unbinds: the peer sees it */
	if (q->gnttab) {
		if (q->tx_area)
			pvio_gnttab_unmap(q->gnttab, q->tx_area, 1);
		if (q->rx_area)
			pvio_gnttab_unmap(q->gnttab, q->rx_area, 1);
		pvio_gnttab_close(q->gnttab);
	}
	drain_tap(vif);
}

int vif_connect(struct vif *vif, const struct netif_frontend_conn *conn,
		char *msg, size_t msg_size)
{
	if (vif->connected)
		return -EALREADY;
	vif->q = calloc(1, sizeof(*vif->q));
	if (!vif->q) {
		snprintf(msg, msg_size, "out of memory");
		return -ENOMEM;
	}
	vif->conn = *conn;
	vif->exit_reason = VIF_WORKER_RUNNING;
	int rc = worker_attach(vif, msg, msg_size);
	if (rc) {
		free(vif->q);
		vif->q = NULL;
		return rc;
	}
	vif->connected = true;
	return 0;
}

enum vif_worker_exit vif_disconnect(struct vif *vif)
{
	if (!vif->connected)
		return VIF_WORKER_STOPPED;
	vif_set_exit(vif, VIF_WORKER_STOPPED);
	worker_detach(vif);
	free(vif->q);
	vif->q = NULL;
	vif->connected = false;
	return vif_worker_state(vif);
}

void vif_destroy(struct vif *vif)
{
	if (!vif)
		return;
	vif_disconnect(vif);
	/* Not persistent: closing the last descriptor deletes the TAP,
	 * whatever the hotplug script renamed it to. */
	if (vif->tap_fd >= 0)
		close(vif->tap_fd);
	stats_destroy(vif->stats, vif->stats_path);
	pthread_mutex_destroy(&vif->log_lock);
	free(vif);
}
