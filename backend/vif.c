/*
 * One vif: its TAP and statistics (for the device's whole life), and its
 * queues (from the frontend's Connected to a disconnect), each set up by
 * the worker that serves it (worker.c): it opens its own grant and
 * event-channel handles, maps the rings and binds the channel(s). The TAP
 * is multi-queue: queue 0 reads and writes the descriptor the device was
 * made with, every other queue one of its own, opened at connect.
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
	pthread_mutex_init(&vif->rate_lock, NULL);

	vif->tap_fd = pvio_tap_open_multi_queue(vif->name);
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

/* "queue N: " before what a queue's setup says, when there are several
 * (a one-queue vif's messages are as they always were). */
static const char *queue_label(struct vif_queue *q)
{
	if (q->vif->nr_queues <= 1)
		return "";
	snprintf(q->label, sizeof(q->label), "queue %u: ", q->index);
	return q->label;
}

void vif_disable_ring(struct vif_queue *q, const char *which,
		      const struct pvio_back_ring *ring)
{
	vif_disable(q->vif,
		    "%s%s ring: request producer %u is more than a ring ahead "
		    "of the responses (%u) or behind the requests taken (%u)",
		    queue_label(q), which,
		    __atomic_load_n(&ring->sring->req_prod, __ATOMIC_RELAXED),
		    ring->rsp_prod_pvt, ring->req_cons);
}

bool vif_notify(struct vif_queue *q, evtchn_port_t port)
{
	struct vif *vif = q->vif;
	int rc = pvio_evtchn_notify(q->evtchn, port);
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
static void drain_tap(int tap_fd)
{
	uint8_t buf[2048];
	for (int i = 0; i < DRAIN_MAX; i++)
		if (read(tap_fd, buf, sizeof(buf)) < 0)
			break;
}

/* Binds the frontend's port (key names it in errors); the local port or
 * -errno with msg. */
static int bind_port(struct vif_queue *q, evtchn_port_t remote, const char *key,
		     char *msg, size_t msg_size)
{
	int rc = pvio_evtchn_bind_interdomain(q->evtchn, (domid_t)q->vif->domid,
					      remote);
	if (rc < 0)
		snprintf(msg, msg_size, "%s%s %u: bind refused: %s",
			 queue_label(q), key, remote, strerror(-rc));
	return rc;
}

int vif_queue_setup(struct vif_queue *q, char *msg, size_t msg_size)
{
	struct vif *vif = q->vif;
	const struct netif_queue_conn *c = &vif->conn.queues[q->index];
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
		snprintf(msg, msg_size, "%stx-ring-ref %u: map refused: %s",
			 queue_label(q), c->tx_ring_ref, strerror(-rc));
		return rc;
	}
	rc = pvio_gnttab_map(q->gnttab, dom, 1, &c->rx_ring_ref, true,
			     &q->rx_area);
	if (rc) {
		q->rx_area = NULL;
		snprintf(msg, msg_size, "%srx-ring-ref %u: map refused: %s",
			 queue_label(q), c->rx_ring_ref, strerror(-rc));
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
	bool split = vif->conn.split_evtchn;
	rc = bind_port(q, c->evtchn_tx,
		       split ? "event-channel-tx" : "event-channel", msg,
		       msg_size);
	if (rc < 0)
		return rc;
	q->port_tx = q->port_rx = (evtchn_port_t)rc;
	if (split) {
		rc = bind_port(q, c->evtchn_rx, "event-channel-rx", msg,
			       msg_size);
		if (rc < 0)
			return rc;
		q->port_rx = (evtchn_port_t)rc;
	}

	rc = tx_init(q);
	if (!rc)
		rc = rx_init(q);
	if (rc) {
		snprintf(msg, msg_size, "out of memory for buffers");
		return rc;
	}
	drain_tap(q->tap_fd);
	rx_size_reads(q);
	q->tap_readable = true;
	return 0;
}

void vif_queue_teardown(struct vif_queue *q)
{
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
	q->evtchn = NULL;
	q->gnttab = NULL;
	q->tx_area = q->rx_area = NULL;
	drain_tap(q->tap_fd);
}

/* The queues' memory and their TAP descriptors (queue 0 has the vif's). */
static void free_queues(struct vif *vif)
{
	for (unsigned i = 1; i < vif->nr_queues; i++)
		if (vif->queues[i].tap_fd >= 0)
			close(vif->queues[i].tap_fd);
	free(vif->queues);
	vif->queues = NULL;
	vif->nr_queues = 0;
}

/* The queues (not set up yet): a TAP descriptor each. */
static int alloc_queues(struct vif *vif, char *msg, size_t msg_size)
{
	unsigned n = vif->conn.nr_queues ? vif->conn.nr_queues : 1;
	vif->queues = calloc(n, sizeof(*vif->queues));
	if (!vif->queues) {
		snprintf(msg, msg_size, "out of memory for %u queues", n);
		return -ENOMEM;
	}
	vif->nr_queues = n;
	for (unsigned i = 0; i < n; i++) {
		struct vif_queue *q = &vif->queues[i];
		q->vif = vif;
		q->index = i;
		q->stats = &vif->stats->queue[i];
		q->tap_fd =
			i == 0 ? vif->tap_fd : pvio_tap_open_queue(vif->tap_fd);
		if (q->tap_fd < 0) {
			int err = q->tap_fd;
			snprintf(msg, msg_size,
				 "cannot open queue %u of the TAP: %s", i,
				 strerror(-err));
			free_queues(vif);
			return err;
		}
	}
	__atomic_store_n(&vif->stats->nr_queues, n, __ATOMIC_RELAXED);
	return 0;
}

/* Takes every queue back from its worker, then frees them. */
static void detach_queues(struct vif *vif)
{
	for (unsigned i = 0; i < vif->nr_queues; i++)
		worker_detach(&vif->queues[i]);
	free_queues(vif);
}

int vif_connect(struct vif *vif, const struct netif_frontend_conn *conn,
		char *msg, size_t msg_size)
{
	if (vif->connected)
		return -EALREADY;
	vif->conn = *conn;
	vif->exit_reason = VIF_WORKER_RUNNING;
	int rc = alloc_queues(vif, msg, msg_size);
	if (rc)
		return rc;
	/* Before any queue reads: what the TAP hands every queue. */
	rx_set_offload(vif);
	for (unsigned i = 0; i < vif->nr_queues; i++) {
		rc = worker_attach(&vif->queues[i], msg, msg_size);
		if (rc) {
			/* The queues set up so far go back. */
			vif_set_exit(vif, VIF_WORKER_STOPPED);
			detach_queues(vif);
			return rc;
		}
	}
	vif->connected = true;
	return 0;
}

enum vif_worker_exit vif_disconnect(struct vif *vif)
{
	if (!vif->connected)
		return VIF_WORKER_STOPPED;
	vif_set_exit(vif, VIF_WORKER_STOPPED);
	detach_queues(vif);
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
	pthread_mutex_destroy(&vif->rate_lock);
	free(vif);
}
