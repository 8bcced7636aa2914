/*
 * One vif: its TAP and statistics (for the device's whole life), and the
 * worker thread that serves a connection (from the frontend's Connected to
 * a disconnect): it opens its own grant and event-channel handles, maps
 * the rings, binds the channel and runs the data path.
 */
#include "config.h"

#include "netback.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_tun.h>

/* After activity the worker spins this long on the rings before it sleeps:
 * a wake-up across cores costs 20-25 us, a peer's next request often comes
 * sooner. An idle vif never spins. */
#define BUSY_POLL_NS 20000

/* Frames a disconnect drains from the TAP, at most (its queue is 500 by
 * default; more means traffic is still coming in). */
#define DRAIN_MAX 1024

enum { EV_EVTCHN = 1, EV_STOP, EV_TAP };

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
	vif->stop_fd = -1;
	pthread_mutex_init(&vif->lock, NULL);
	pthread_cond_init(&vif->cond, NULL);
	pthread_mutex_init(&vif->log_lock, NULL);
	vif->log_window_start = -VIF_LOG_WINDOW_S;

	char err[256];
	vif->tap_fd = tap_open(vif->name, TUN_F_CSUM, err, sizeof(err));
	if (vif->tap_fd < 0) {
		nb_log("%s: cannot create the TAP: %s", vif->name, err);
		vif->failed = true;
		return vif;
	}
	vif->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vif->stop_fd < 0) {
		nb_log("%s: eventfd: %s", vif->name, strerror(errno));
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

static bool worker_should_stop(struct vif *vif)
{
	return vif_worker_state(vif) != VIF_WORKER_RUNNING;
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

static int queue_setup(struct vif *vif, char *msg, size_t msg_size)
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
	q->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};
	rc = q->epoll_fd < 0 ? -errno : 0;
	ev.data.u32 = EV_EVTCHN;
	if (!rc && epoll_ctl(q->epoll_fd, EPOLL_CTL_ADD,
			     pvio_evtchn_fd(q->evtchn), &ev) < 0)
		rc = -errno;
	ev.data.u32 = EV_STOP;
	if (!rc && epoll_ctl(q->epoll_fd, EPOLL_CTL_ADD, vif->stop_fd, &ev) < 0)
		rc = -errno;
	/* The TAP is polled only while RX buffers are posted. */
	ev.events = 0;
	ev.data.u32 = EV_TAP;
	if (!rc && epoll_ctl(q->epoll_fd, EPOLL_CTL_ADD, vif->tap_fd, &ev) < 0)
		rc = -errno;
	if (rc)
		snprintf(msg, msg_size, "epoll: %s", strerror(-rc));
	drain_tap(vif);
	rx_size_reads(vif);
	q->tap_readable = true;
	return rc;
}

static void queue_teardown(struct vif *vif)
{
	struct vif_queue *q = vif->q;
	if (q->epoll_fd >= 0)
		close(q->epoll_fd);
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

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Work is visible in shared memory: the frontend published TX requests
 * not taken yet, or RX buffers for a frame that waits for them (two loads,
 * no system call). */
static bool ring_has_work(const struct vif_queue *q)
{
	const struct pvio_generic_sring *tx = q->tx_ring.sring;
	const struct pvio_generic_sring *rx = q->rx_ring.sring;
	if (__atomic_load_n(&tx->req_prod, __ATOMIC_ACQUIRE) !=
	    q->tx_ring.req_cons)
		return true;
	return q->rx.nr_pending &&
	       __atomic_load_n(&rx->req_prod, __ATOMIC_ACQUIRE) !=
		       q->rx_ring.req_cons;
}

/* Poll the TAP for reading only while frames can go somewhere. */
static int update_tap_poll(struct vif *vif)
{
	struct vif_queue *q = vif->q;
	bool want = rx_wants_tap(vif);
	if (want == q->tap_polled)
		return 0;
	struct epoll_event ev = {.events = want ? EPOLLIN : 0,
				 .data.u32 = EV_TAP};
	stat_add(&vif->stats->syscalls, 1);
	if (epoll_ctl(q->epoll_fd, EPOLL_CTL_MOD, vif->tap_fd, &ev) < 0) {
		nb_log("%s: epoll_ctl on the TAP: %s", vif->name,
		       strerror(errno));
		return -1;
	}
	q->tap_polled = want;
	return 0;
}

/* Takes every pending port; false when the frontend is gone. */
static bool take_events(struct vif *vif)
{
	struct vif_queue *q = vif->q;
	int port;
	while ((port = pvio_evtchn_pending(q->evtchn)) >= 0) {
		stat_add(&vif->stats->notify_received, 1);
		stat_add(&vif->stats->syscalls, 2);
		pvio_evtchn_unmask(q->evtchn, (evtchn_port_t)port);
	}
	/* A dead or closed peer leaves its port pending: look only after a
	 * wake-up, never per packet. */
	if (pvio_evtchn_peer_closed(q->evtchn, q->port) == 1) {
		vif_set_exit(vif, VIF_WORKER_PEER_GONE);
		return false;
	}
	return true;
}

/* Re-arm the ring events and look again (RING_FINAL_CHECK_FOR_REQUESTS):
 * true when there is work after all. The RX ring is re-armed only while
 * a frame waits for buffers, so that a frontend posting buffers to an idle
 * vif does not notify for each. */
static bool final_check(struct vif *vif)
{
	struct vif_queue *q = vif->q;
	int n = pvio_back_final_check_requests(&q->tx_ring);
	if (n < 0) {
		vif_disable(vif,
			    "TX ring: request producer %u is more than a ring "
			    "ahead of the responses (%u) or behind the "
			    "requests taken (%u)",
			    q->tx_ring.sring->req_prod, q->tx_ring.rsp_prod_pvt,
			    q->tx_ring.req_cons);
		return false;
	}
	if (n > 0)
		return true;
	if (!rx_wants_tap(vif) || q->rx.nr_pending) {
		n = pvio_back_final_check_requests(&q->rx_ring);
		if (n < 0) {
			vif_disable(vif,
				    "RX ring: request producer %u is more "
				    "than a ring ahead of the responses (%u) "
				    "or behind the requests taken (%u)",
				    q->rx_ring.sring->req_prod,
				    q->rx_ring.rsp_prod_pvt,
				    q->rx_ring.req_cons);
			return false;
		}
		if (n > 0)
			return true;
	}
	return false;
}

static void worker_loop(struct vif *vif)
{
	struct vif_queue *q = vif->q;
	int64_t last_work = 0;
	for (;;) {
		if (worker_should_stop(vif))
			return;
		int t = tx_process(vif);
		int r = t < 0 ? -1 : rx_process(vif);
		if (t < 0 || r < 0)
			return;
		/* One notification for both directions: they share the
		 * channel. */
		if (q->need_notify) {
			q->need_notify = false;
			if (!vif_notify(vif))
				return;
		}
		if (t > 0 || r > 0) {
			last_work = now_ns();
			continue;
		}
		if (now_ns() - last_work < BUSY_POLL_NS) {
			if (!ring_has_work(q))
				cpu_relax();
			continue;
		}
		if (final_check(vif))
			continue;
		if (worker_should_stop(vif))
			return;
		if (update_tap_poll(vif) < 0) {
			vif_set_exit(vif, VIF_WORKER_FAILED);
			return;
		}
		struct epoll_event evs[4];
		stat_add(&vif->stats->syscalls, 1);
		int n = epoll_wait(q->epoll_fd, evs, 4, -1);
		if (n < 0 && errno != EINTR) {
			nb_log("%s: epoll_wait: %s", vif->name,
			       strerror(errno));
			vif_set_exit(vif, VIF_WORKER_FAILED);
			return;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case EV_EVTCHN:
				if (!take_events(vif))
					return;
				break;
			case EV_TAP:
				q->tap_readable = true;
				break;
			case EV_STOP:
				vif_set_exit(vif, VIF_WORKER_STOPPED);
				return;
			}
		}
	}
}

static void *worker_main(void *arg)
{
	struct vif *vif = arg;
	char msg[256] = "";
	int rc = queue_setup(vif, msg, sizeof(msg));
	pthread_mutex_lock(&vif->lock);
	vif->connect_err = rc;
	snprintf(vif->connect_msg, sizeof(vif->connect_msg), "%s", msg);
	vif->connect_done = true;
	pthread_cond_signal(&vif->cond);
	pthread_mutex_unlock(&vif->lock);
	if (rc == 0)
		worker_loop(vif);
	queue_teardown(vif);
	if (rc == 0 && vif_worker_state(vif) != VIF_WORKER_STOPPED) {
		/* Tell the main thread it has a worker to join. */
		uint64_t one = 1;
		ssize_t w = write(vif->main_wake_fd, &one, sizeof(one));
		(void)w; /* an eventfd write fails only on overflow */
	}
	return NULL;
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
	vif->q->epoll_fd = -1;
	vif->conn = *conn;
	vif->exit_reason = VIF_WORKER_RUNNING;
	vif->connect_done = false;
	/* A stop request left over from an earlier connection. */
	uint64_t junk;
	while (read(vif->stop_fd, &junk, sizeof(junk)) > 0)
		;
	int rc = pthread_create(&vif->worker, NULL, worker_main, vif);
	if (rc) {
		snprintf(msg, msg_size, "cannot start the worker: %s",
			 strerror(rc));
		free(vif->q);
		vif->q = NULL;
		return -rc;
	}
	pthread_mutex_lock(&vif->lock);
	while (!vif->connect_done)
		pthread_cond_wait(&vif->cond, &vif->lock);
	rc = vif->connect_err;
	snprintf(msg, msg_size, "%s", vif->connect_msg);
	pthread_mutex_unlock(&vif->lock);
	if (rc) {
		pthread_join(vif->worker, NULL);
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
	uint64_t one = 1;
	ssize_t w = write(vif->stop_fd, &one, sizeof(one));
	(void)w;
	pthread_join(vif->worker, NULL);
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
	if (vif->stop_fd >= 0)
		close(vif->stop_fd);
	stats_destroy(vif->stats, vif->stats_path);
	pthread_mutex_destroy(&vif->lock);
	pthread_mutex_destroy(&vif->log_lock);
	pthread_cond_destroy(&vif->cond);
	free(vif);
}
