/*
 * A connection queue's lifetime: the pages it grants (rings and buffer
 * pools, granted once at connect, never per packet), its descriptor of
 * the multi-queue TAP, the worker thread with its event channel(s), and
 * the worker's event loop. A vif with N queues has N of each.
 */
#include "config.h"

#include "netfront.h"
#include "pvio_tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum { TAG_CTL = 1, TAG_TAP, TAG_EVTCHN };

static bool atomic_get(const int *flag)
{
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

static void wake_fd(int fd)
{
	uint64_t one = 1;
	/* An eventfd only fails to count when it would overflow. */
	if (write(fd, &one, sizeof(one)) < 0)
		nf_debug("eventfd write: %s", strerror(errno));
}

void nf_conn_fail(struct nf_conn *c, const char *fmt, ...)
{
	if (atomic_get(&c->failed))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->fail_why, sizeof(c->fail_why), fmt, ap);
	va_end(ap);
	/* Nothing more happens on the rings: the channel and the TAP leave
	 * the loop, which then only waits to be stopped. */
	epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, c->tap_fd, NULL);
	if (c->evtchn)
		epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, pvio_evtchn_fd(c->evtchn),
			  NULL);
	__atomic_store_n(&c->failed, 1, __ATOMIC_RELEASE);
	wake_fd(c->worker_event_fd);
}

void nf_conn_complain(struct nf_conn *c, enum nf_complaint what,
		      const char *fmt, ...)
{
	if (c->complained[what])
		return;
	c->complained[what] = true;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nf_log("%s: queue %u: %s (logged once per connection)", c->vif->label,
	       c->index, msg);
}

void nf_conn_notify(struct nf_conn *c, evtchn_port_t port)
{
	int err = pvio_evtchn_notify(c->evtchn, port);
	c->stats.notify_sent++;
	if (err == -ENOTCONN)
		nf_conn_fail(c, "the backend closed event channel %u", port);
	else if (err)
		nf_conn_fail(c, "notify on event channel %u: %s", port,
			     strerror(-err));
}

unsigned nf_vif_keys(const struct nf_vif *vif, bool num_queues_key,
		     struct netif_key_value *kv, unsigned max)
{
	struct netif_frontend_conn fc = {
		.nr_queues = vif->nr_queues,
		.split_evtchn = vif->queues[0]->features.split_evtchn,
		.num_queues_key = num_queues_key,
		.features = vif->queues[0]->features,
	};
	for (unsigned i = 0; i < vif->nr_queues; i++) {
		const struct nf_conn *c = vif->queues[i];
		fc.queues[i] = (struct netif_queue_conn){
			.tx_ring_ref = c->tx_ring_ref,
			.rx_ring_ref = c->rx_ring_ref,
			.evtchn_tx = c->port_tx,
			.evtchn_rx = c->port_rx,
		};
	}
	return netif_frontend_conn_keys(&fc, kv, max);
}

void nf_conn_kick(struct nf_conn *c)
{
	__atomic_store_n(&c->kick, 1, __ATOMIC_RELEASE);
	wake_fd(c->ctl_fd);
}

/* ---- the worker ---- */

static int epoll_add(int ep, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* What the worker sets up itself: its event channel, its epoll set, the
 * rings' first RX buffers. */
static int worker_setup(struct nf_conn *c)
{
	struct nf_vif *vif = c->vif;
	int err = pvio_evtchn_open(PVIO_PLATFORM_AUTO, &c->evtchn);
	if (err) {
		snprintf(c->setup_why, sizeof(c->setup_why),
			 "cannot open event channels: %s",
			 pvio_platform_last_error()[0]
				 ? pvio_platform_last_error()
				 : strerror(-err));
		c->evtchn = NULL;
		return err;
	}
	/* Two ports on the one handle with split channels. */
	unsigned nr_ports = c->features.split_evtchn ? 2 : 1;
	for (unsigned i = 0; i < nr_ports; i++) {
		int port =
			pvio_evtchn_alloc_unbound(c->evtchn, vif->backend_id);
		if (port < 0) {
			snprintf(c->setup_why, sizeof(c->setup_why),
				 "cannot allocate an event channel for "
				 "domain %u: %s",
				 vif->backend_id, strerror(-port));
			return port;
		}
		if (i == 0)
			c->port_tx = c->port_rx = (evtchn_port_t)port;
		else
			c->port_rx = (evtchn_port_t)port;
	}
	c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epoll_fd < 0) {
		err = -errno;
		snprintf(c->setup_why, sizeof(c->setup_why), "epoll: %s",
			 strerror(errno));
		return err;
	}
	/* The TAP edge-triggered: a read stops before EAGAIN only when the
	 * ring is full, and tap_pending remembers it. */
	if ((err = epoll_add(c->epoll_fd, c->ctl_fd, EPOLLIN, TAG_CTL)) ||
	    (err = epoll_add(c->epoll_fd, c->tap_fd, EPOLLIN | EPOLLET,
			     TAG_TAP)) ||
	    (err = epoll_add(c->epoll_fd, pvio_evtchn_fd(c->evtchn), EPOLLIN,
			     TAG_EVTCHN))) {
		snprintf(c->setup_why, sizeof(c->setup_why), "epoll: %s",
			 strerror(-err));
		return err;
	}
	c->tap_pending = true;
	nf_rx_post(c);
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The backend's death (sim: its end of the channel closed) wakes the
 * channel once, maybe together with its last responses: asked after a
 * wake-up (xen: -EOPNOTSUPP, no cost; sim: a poll()), at most every
 * NF_PEER_CHECK_US; one put off is made when it falls due. */
static void peer_check(struct nf_conn *c, uint64_t now)
{
	c->peer_check_due = false;
	c->peer_checked_us = now;
	evtchn_port_t ports[2] = {c->port_tx, c->port_rx};
	for (unsigned i = 0; i < (c->port_rx != c->port_tx ? 2u : 1u); i++)
		if (pvio_evtchn_peer_closed(c->evtchn, ports[i]) == 1) {
			nf_conn_fail(c,
				     "the backend closed event channel %u "
				     "(its process exited?)",
				     ports[i]);
			return;
		}
}

/* How long the worker may sleep: until a peer check put off is due. */
static int peer_check_timeout_ms(const struct nf_conn *c)
{
	if (!c->peer_check_due)
		return -1;
	uint64_t due = c->peer_checked_us + NF_PEER_CHECK_US, now = now_us();
	return due <= now ? 0 : (int)((due - now) / 1000u) + 1;
}

static void peer_check_if_due(struct nf_conn *c)
{
	if (!c->peer_check_due || atomic_get(&c->failed))
		return;
	uint64_t now = now_us();
	if (now - c->peer_checked_us >= NF_PEER_CHECK_US)
		peer_check(c, now);
}

/* One pending call per wake-up: with split channels a second pending
 * port keeps the handle readable, and the next epoll_wait (level-
 * triggered) reports it at once. */
static void drain_evtchn(struct nf_conn *c)
{
	int port = pvio_evtchn_pending(c->evtchn);
	if (port >= 0) {
		c->stats.wakeups++;
		int err = pvio_evtchn_unmask(c->evtchn, (evtchn_port_t)port);
		if (err) {
			nf_conn_fail(c, "unmask event channel %d: %s", port,
				     strerror(-err));
			return;
		}
	} else if (port != -EAGAIN) {
		nf_conn_fail(c, "event channel %u: %s", c->port_tx,
			     strerror(-port));
		return;
	}
	c->peer_check_due = true;
	peer_check_if_due(c);
}

/* Wait up to timeout_ms for events and take them in. False: stop. */
static bool poll_events(struct nf_conn *c, int timeout_ms)
{
	struct epoll_event evs[4];
	int n = epoll_wait(c->epoll_fd, evs, 4, timeout_ms);
	if (n < 0 && errno != EINTR) {
		nf_conn_fail(c, "epoll_wait: %s", strerror(errno));
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		switch (evs[i].data.u64) {
		case TAG_CTL: {
			uint64_t v;
			if (read(c->ctl_fd, &v, sizeof(v)) < 0 &&
			    errno != EAGAIN)
				nf_debug("ctl read: %s", strerror(errno));
			break;
		}
		case TAG_TAP:
			c->tap_pending = true;
			break;
		case TAG_EVTCHN:
			if (!atomic_get(&c->failed))
				drain_evtchn(c);
			break;
		}
	}
	if (atomic_get(&c->stop))
		return false;
	if (__atomic_exchange_n(&c->kick, 0, __ATOMIC_ACQ_REL) &&
	    !atomic_get(&c->failed)) {
		/* Notifications sent before the backend bound were dropped,
		 * as on Xen: once it is Connected, tell it to look. */
		nf_conn_notify(c, c->port_tx);
		if (c->port_rx != c->port_tx && !atomic_get(&c->failed))
			nf_conn_notify(c, c->port_rx);
		c->tap_pending = true;
	}
	return true;
}

/* One round of work: until nothing is left, with a short busy-poll after
 * activity, then re-arm the event indices. False: stop. */
static bool run_data_path(struct nf_conn *c)
{
	uint64_t spin_until = 0;
	while (!atomic_get(&c->failed)) {
		int r, progress = 0;
		if ((r = nf_rx_process(c)) < 0)
			break;
		progress += r;
		if ((r = nf_tx_reap(c)) < 0)
			break;
		progress += r;
		if (c->tap_pending && !c->tx_blocked) {
			if ((r = nf_tx_from_tap(c)) < 0)
				break;
			progress += r;
		}
		if (progress) {
			if (c->busy_poll_us)
				spin_until = now_us() + c->busy_poll_us;
			continue;
		}
		/* Idle: spin a little on the rings and the descriptors
		 * (no event index re-armed meanwhile, so the backend sends
		 * no notification we would then have to take). */
		if (spin_until && now_us() < spin_until) {
			if (!poll_events(c, 0))
				return false;
			continue;
		}
		spin_until = 0;
		r = pvio_front_final_check_responses(&c->rx);
		if (r > 0)
			continue;
		if (r < 0) {
			nf_conn_fail(c, "the backend broke the RX ring's "
					"indices (rsp_prod ahead of requests)");
			break;
		}
		/* TX responses wake the frontend only when it waits for
		 * pool pages; otherwise they are reaped as it sends. */
		if (c->tx_blocked) {
			r = pvio_front_final_check_responses(&c->tx);
			if (r > 0)
				continue;
			if (r < 0) {
				nf_conn_fail(c, "the backend broke the TX "
						"ring's indices");
				break;
			}
		}
		break;
	}
	return true;
}

/* The handles close in the thread that used them. */
static void worker_release(struct nf_conn *c)
{
	if (c->epoll_fd >= 0)
		close(c->epoll_fd);
	c->epoll_fd = -1;
	if (c->evtchn)
		pvio_evtchn_close(c->evtchn); /* unbinds: the backend sees it */
	c->evtchn = NULL;
}

static void *worker_main(void *arg)
{
	struct nf_conn *c = arg;
	int err = worker_setup(c);
	if (err)
		worker_release(c);
	c->setup_err = err;
	sem_post(&c->setup_done);
	if (err)
		return NULL;
	while (poll_events(c, peer_check_timeout_ms(c))) {
		peer_check_if_due(c);
		if (!atomic_get(&c->failed) && !run_data_path(c))
			break;
	}
	worker_release(c);
	return NULL;
}

/* ---- the main thread's side ---- */

static void unshare_all(struct nf_conn *c)
{
	struct pvio_gntshr *g = c->vif->gntshr;
	if (!g)
		return;
	/* Grants the backend still maps are deferred: the handle ends them
	 * at its next share or at reclaim. */
	if (c->tx_sring)
		pvio_gntshr_unshare(g, c->tx_sring, 1);
	if (c->rx_sring)
		pvio_gntshr_unshare(g, c->rx_sring, 1);
	if (c->tx_pages)
		pvio_gntshr_unshare(g, c->tx_pages, NF_RING_SLOTS);
	if (c->rx_pages)
		pvio_gntshr_unshare(g, c->rx_pages, NF_RING_SLOTS);
	pvio_gntshr_reclaim(g);
}

static int share_all(struct nf_conn *c, char *why, size_t why_size)
{
	struct nf_vif *vif = c->vif;
	struct {
		const char *what;
		uint32_t count;
		bool writable;
		grant_ref_t *refs;
		void **addr;
	} shares[] = {
		{"the TX ring", 1, true, &c->tx_ring_ref, &c->tx_sring},
		{"the RX ring", 1, true, &c->rx_ring_ref, &c->rx_sring},
		{"the TX buffers", NF_RING_SLOTS, false, c->tx_gref,
		 (void **)&c->tx_pages},
		{"the RX buffers", NF_RING_SLOTS, true, c->rx_gref,
		 (void **)&c->rx_pages},
	};
	if (!vif->gntshr) {
		int err = pvio_gntshr_open(PVIO_PLATFORM_AUTO, &vif->gntshr);
		if (err) {
			snprintf(why, why_size,
				 "cannot open the grant table: %s",
				 pvio_platform_last_error()[0]
					 ? pvio_platform_last_error()
					 : strerror(-err));
			vif->gntshr = NULL;
			return err;
		}
	}
	for (size_t i = 0; i < sizeof(shares) / sizeof(shares[0]); i++) {
		int err = pvio_gntshr_share(vif->gntshr, vif->backend_id,
					    shares[i].count, shares[i].writable,
					    shares[i].refs, shares[i].addr);
		if (err) {
			*shares[i].addr = NULL;
			snprintf(why, why_size,
				 "cannot grant %s (%u pages) to domain %u: %s",
				 shares[i].what, shares[i].count,
				 vif->backend_id, strerror(-err));
			return err;
		}
	}
	return 0;
}

static void conn_free(struct nf_conn *c)
{
	unshare_all(c);
	if (c->own_tap && c->tap_fd >= 0)
		close(c->tap_fd); /* detaches the queue */
	if (c->ctl_fd >= 0)
		close(c->ctl_fd);
	sem_destroy(&c->setup_done);
	free(c);
}

int nf_conn_start(struct nf_vif *vif, const struct netif_features *features,
		  const struct netif_features *tx_features, unsigned index,
		  unsigned busy_poll_us, int worker_event_fd,
		  struct nf_conn **out, char *why, size_t why_size)
{
	struct nf_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	c->vif = vif;
	c->index = index;
	c->tap_fd = vif->tap_fd;
	c->features = *features;
	c->tx_features = *tx_features;
	c->busy_poll_us = busy_poll_us;
	c->worker_event_fd = worker_event_fd;
	c->epoll_fd = -1;
	sem_init(&c->setup_done, 0, 0);
	if (index > 0) {
		c->tap_fd = pvio_tap_open_queue(vif->tap_fd);
		if (c->tap_fd < 0) {
			int err = c->tap_fd;
			snprintf(why, why_size,
				 "cannot open queue %u of %s: %s", index,
				 vif->ifname, strerror(-err));
			c->ctl_fd = -1;
			conn_free(c);
			return err;
		}
		c->own_tap = true;
	}
	c->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->ctl_fd < 0) {
		int err = -errno;
		snprintf(why, why_size, "eventfd: %s", strerror(errno));
		conn_free(c);
		return err;
	}
	int err = share_all(c, why, why_size);
	if (!err)
		err = nf_conn_rings_init(c, why, why_size);
	if (err) {
		conn_free(c);
		return err;
	}

	err = pthread_create(&c->thread, NULL, worker_main, c);
	if (err) {
		snprintf(why, why_size, "cannot start a worker thread: %s",
			 strerror(err));
		conn_free(c);
		return -err;
	}
	c->thread_started = true;
	/* Named so that top -H, perf and taskset tell the queues apart. */
	char name[16];
	snprintf(name, sizeof(name), "nf-q%u", index);
	pthread_setname_np(c->thread, name);
	while (sem_wait(&c->setup_done) && errno == EINTR)
		;
	if (c->setup_err) {
		err = c->setup_err;
		snprintf(why, why_size, "%s", c->setup_why);
		pthread_join(c->thread, NULL);
		conn_free(c);
		return err;
	}
	*out = c;
	return 0;
}

static void stats_add(struct nf_stats *total, const struct nf_stats *s)
{
	total->tx_packets += s->tx_packets;
	total->tx_bytes += s->tx_bytes;
	total->tx_dropped += s->tx_dropped;
	total->tx_errors += s->tx_errors;
	total->rx_packets += s->rx_packets;
	total->rx_bytes += s->rx_bytes;
	total->rx_dropped += s->rx_dropped;
	total->rx_errors += s->rx_errors;
	total->notify_sent += s->notify_sent;
	total->wakeups += s->wakeups;
	total->tx_batches += s->tx_batches;
	total->rx_batches += s->rx_batches;
}

void nf_conn_stop(struct nf_conn *c, struct nf_stats *total)
{
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	wake_fd(c->ctl_fd);
	pthread_join(c->thread, NULL);
	stats_add(total, &c->stats);
	nf_debug("%s: queue %u done: tx %llu packets %llu bytes (%llu "
		 "dropped, %llu errors), rx %llu packets %llu bytes (%llu "
		 "dropped, %llu errors), %llu notifications sent, %llu "
		 "wake-ups",
		 c->vif->label, c->index,
		 (unsigned long long)c->stats.tx_packets,
		 (unsigned long long)c->stats.tx_bytes,
		 (unsigned long long)c->stats.tx_dropped,
		 (unsigned long long)c->stats.tx_errors,
		 (unsigned long long)c->stats.rx_packets,
		 (unsigned long long)c->stats.rx_bytes,
		 (unsigned long long)c->stats.rx_dropped,
		 (unsigned long long)c->stats.rx_errors,
		 (unsigned long long)c->stats.notify_sent,
		 (unsigned long long)c->stats.wakeups);
	conn_free(c);
}
