/*
 * TX: guest to bridge. One pass takes every request the frontend
 * published (private copies: XSA-155), parses them into packets with
 * netif_tx_parse, fetches the data of every accepted packet with one grant
 * copy, writes each frame to the TAP with its virtio-net header, and
 * answers the whole batch with one push (and at most one notification,
 * shared with RX by the worker loop).
 *
 * With persistent grants (feature-pvio-persistent-grants, both ends) the
 * frontend's TX pages are mapped read-only the first time a request names
 * them and kept until the queue stops: a packet's first bytes are copied
 * out of them and its headers validated in that copy, and the TAP write
 * takes the copy and then the rest straight from the pages, one copy
 * fewer than the grant copy into staging. A frontend that writes into a
 * page after the validation changes only its own packet's payload.
 */
#include "config.h"

#include "netback.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

/* One ring's worth of data (each slot carries at most a page). */
#define TX_STAGING_BYTES ((size_t)NETBACK_TX_RING_SLOTS * NETIF_PAGE_BYTES)

int tx_init(struct vif_queue *q)
{
	q->tx.persistent = q->vif->conn.features.persistent_grants;
	map_cache_init(&q->tx.maps, false, &q->vif->stats->tx_maps, "TX");
	credit_init(&q->tx.credit);
	q->tx.credit_timer_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (q->tx.credit_timer_fd < 0)
		return -errno;
	q->tx.staging_size = TX_STAGING_BYTES;
	q->tx.staging = malloc(q->tx.staging_size);
	if (!q->tx.staging)
		return -ENOMEM;
#ifdef HAVE_LIBURING
	/* Where io_uring is refused (old kernel, seccomp, sysctl), writev. */
	q->tx.uring_ok = io_uring_queue_init(NETBACK_TX_RING_SLOTS,
					     &q->tx.uring, 0) == 0;
	if (!q->tx.uring_ok)
		nb_debug("io_uring unavailable: TAP writes one by one");
#endif
	return 0;
}

void tx_fini(struct vif_queue *q)
{
	if (q->gnttab)
		map_cache_clear(q, &q->tx.maps);
#ifdef HAVE_LIBURING
	if (q->tx.uring_ok)
		io_uring_queue_exit(&q->tx.uring);
	q->tx.uring_ok = false;
#endif
	/* tx_init made the timer before the staging area (a queue whose
	 * setup failed earlier has neither). */
	if (q->tx.staging && q->tx.credit_timer_fd >= 0)
		close(q->tx.credit_timer_fd);
	free(q->tx.staging);
	q->tx.staging = NULL;
}

static int64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Arms (at > 0: CLOCK_MONOTONIC microseconds) or disarms the credit
 * timer. */
static void tx_credit_arm(struct vif_queue *q, int64_t at)
{
	struct vif *vif = q->vif;
	struct itimerspec its = {0};
	its.it_value.tv_sec = at / 1000000;
	its.it_value.tv_nsec = (long)(at % 1000000) * 1000;
	stat_add(&vif->stats->syscalls, 1);
	if (timerfd_settime(q->tx.credit_timer_fd, TFD_TIMER_ABSTIME, &its,
			    NULL) < 0) {
		/* Never for a valid descriptor and time; the queue would wait
		 * forever. */
		vif_log(vif, "credit timer: %s", strerror(errno));
		vif_set_exit(vif, VIF_WORKER_FAILED);
	}
}

bool tx_credit_waits(const struct vif_queue *q)
{
	return q->tx.credit_held;
}

void tx_credit_timer(struct vif_queue *q)
{
	uint64_t expirations;
	ssize_t r =
		read(q->tx.credit_timer_fd, &expirations, sizeof(expirations));
	(void)r; /* EAGAIN: disarmed or re-armed since it fired */
}

/* A new limit from the main thread (vif->rate_gen moved): applied to this
 * queue's own credit from now, and a packet that waited is looked at again
 * at once. Every queue takes the vif's full rate (as Linux's netback). */
static void tx_rate_refresh(struct vif_queue *q)
{
	struct vif *vif = q->vif;
	if (__atomic_load_n(&vif->rate_gen, __ATOMIC_ACQUIRE) ==
	    q->tx.rate_gen_seen)
		return;
	pthread_mutex_lock(&vif->rate_lock);
	uint64_t bytes = vif->rate_bytes, usecs = vif->rate_usecs;
	q->tx.rate_gen_seen = __atomic_load_n(&vif->rate_gen, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&vif->rate_lock);
	credit_set(&q->tx.credit, bytes, usecs, monotonic_us());
	if (q->tx.credit_held) {
		q->tx.credit_retry_us = 0;
		tx_credit_arm(q, 0);
	}
}

/* A packet the vif keeps (ERROR, DROP): counted, and logged once per
 * reason per connection, since the frontend can repeat it at will. */
static void tx_refuse(struct vif_queue *q, const struct netif_tx_packet *pkt,
		      enum netif_tx_reason reason, RING_IDX idx)
{
	struct vif *vif = q->vif;
	stat_add(&vif->stats->tx_drops[reason], 1);
	if (q->tx.logged_reasons & (1u << reason))
		return;
	q->tx.logged_reasons |= 1u << reason;
	vif_log(vif,
		"TX packet at ring index %u refused: %s (size %u, %u data "
		"slots); further ones are only counted",
		idx, netif_tx_reason_str(reason), pkt->size, pkt->nr_frags);
}

static void tx_disable(struct vif *vif, const netif_tx_request_t *first,
		       const struct netif_tx_packet *pkt,
		       enum netif_tx_reason reason, RING_IDX idx)
{
	const netif_tx_request_t *bad = &first[pkt->bad_slot];
	stat_add(&vif->stats->tx_drops[reason], 1);
	vif_disable(vif,
		    "TX packet at ring index %u: %s: slot %u (index %u) has "
		    "gref %u offset %u size %u flags %#x id %u (packet size "
		    "%u)",
		    idx, netif_tx_reason_str(reason), pkt->bad_slot,
		    idx + pkt->bad_slot, bad->gref, bad->offset, bad->size,
		    bad->flags, bad->id, first->size);
}

/* Every data slot's page of pkt mapped into ps->pages; false if one
 * cannot be. */
static bool tx_map_packet(struct vif_queue *q, struct tx_slot_state *ps)
{
	const struct netif_tx_packet *pkt = &ps->pkt;
	for (unsigned i = 0; i < pkt->nr_frags; i++) {
		ps->pages[i] = NULL;
		if (pkt->frags[i].size &&
		    !(ps->pages[i] = map_cache_get(q, &q->tx.maps,
						   pkt->frags[i].gref)))
			return false;
	}
	return true;
}

/* Grant copy segments for an accepted packet: one per non-empty slot, into
 * consecutive bytes of the staging area. */
static unsigned tx_add_segments(struct vif_queue *q, domid_t dom,
				const struct netif_tx_packet *pkt,
				uint8_t *data, pvio_gnt_copy_seg_t *segs)
{
	unsigned n = 0;
	uint32_t pos = 0;
	for (unsigned i = 0; i < pkt->nr_frags; i++) {
		const struct netif_tx_frag *f = &pkt->frags[i];
		if (!f->size)
			continue; /* legal in a later slot; nothing to copy */
		pvio_gnt_copy_seg_t *s = &segs[n++];
		s->source.foreign.ref = f->gref;
		s->source.foreign.offset = f->offset;
		s->source.foreign.domid = dom;
		s->dest.virt = data + pos;
		s->len = f->size;
		s->flags = GNTCOPY_source_gref;
		s->status = GNTST_okay;
		pos += f->size;
	}
	(void)q;
	return n;
}

/* The virtio-net header for ps from the first avail bytes of its data
 * at data (all of it, or a mapped packet's copied head). */
static int tx_vnet_header(const struct tx_slot_state *ps, const uint8_t *data,
			  uint32_t avail, struct virtio_net_hdr *vnet)
{
	const struct netif_tx_packet *pkt = &ps->pkt;
	/* A GSO packet goes to the TAP whole, for the kernel to segment
	 * (its checksum is blank whatever the flags say, as Linux netback
	 * takes it). */
	if (pkt->has_gso)
		return netif_vnet_for_packet(true, true, pkt->gso_type,
					     pkt->gso_size, data, avail,
					     pkt->size, vnet);
	return netif_vnet_for_packet(pkt->flags & NETTXF_csum_blank,
				     pkt->flags & NETTXF_data_validated,
				     XEN_NETIF_GSO_TYPE_NONE, 0, data, avail,
				     pkt->size, vnet);
}

/* The virtio-net header and iovec of a fetched frame (*niov entries).
 * Returns false when it cannot go (its status says why). */
static bool tx_prepare_frame(struct vif_queue *q, struct tx_slot_state *ps,
			     struct virtio_net_hdr *vnet, struct iovec *iov,
			     unsigned *niov)
{
	struct vif *vif = q->vif;
	const struct netif_tx_packet *pkt = &ps->pkt;
	uint8_t *data = q->tx.staging + ps->data_off;
	int rc;
	if (ps->mapped) {
		rc = tx_vnet_header(ps, data, ps->head_len, vnet);
		unsigned n = 0;
		if (rc == 0)
			n = netif_tx_mapped_iov(pkt, ps->pages, data,
						ps->head_len, iov + 1,
						NETBACK_TX_IOV_MAX - 1);
		if (n) {
			iov[0] = (struct iovec){vnet, sizeof(*vnet)};
			*niov = 1 + n;
			stat_add(&vif->stats->tx_mapped_packets, 1);
			return true;
		}
		/* Headers past the head (or a slot layout the iovec cannot
		 * take): the whole packet is copied out of the pages and
		 * looked at again, as a grant-copied one is. */
		netif_tx_gather(pkt, ps->pages, pkt->size, data);
		ps->mapped = false;
	}
	rc = tx_vnet_header(ps, data, pkt->size, vnet);
	if (rc < 0) {
		/* A blank checksum nothing can fill: the frame would leave
		 * with a wrong one. */
		ps->status = NETIF_RSP_ERROR;
		stat_add(&vif->stats->tx_tap_errors, 1);
		if (!q->tx.logged_csum) {
			q->tx.logged_csum = true;
			vif_log(vif,
				"TX %sframe of %u bytes with a blank checksum "
				"that cannot be filled (%s); dropped, further "
				"ones are only counted",
				pkt->has_gso ? "GSO " : "", pkt->size,
				rc == -EPROTONOSUPPORT
					? "not TCP or UDP over IPv4 or IPv6"
				: pkt->has_gso
					? "not TCP over the IP version of its "
					  "GSO type, or headers cut short"
					: "headers cut short");
		}
		return false;
	}
	iov[0] = (struct iovec){vnet, sizeof(*vnet)};
	iov[1] = (struct iovec){data, pkt->size};
	*niov = 2;
	return true;
}

/* The outcome of one TAP write (res: bytes or -errno). */
static void tx_written(struct vif_queue *q, const struct tx_slot_state *ps,
		       long res)
{
	struct vif *vif = q->vif;
	if (res >= 0) {
		stat_add(&vif->stats->tx_packets, 1);
		stat_add(&vif->stats->tx_bytes, ps->pkt.size);
		if (ps->pkt.has_gso)
			stat_add(&vif->stats->tx_gso_packets, 1);
		stat_add(&q->stats->tx_packets, 1);
		return;
	}
	/* The guest's packet was fine: it is answered OKAY, as a frame the
	 * bridge drops would be. */
	stat_add(&vif->stats->tx_tap_errors, 1);
	/* EIO: the TAP is down, as it is until the hotplug script brings
	 * it up; the guest's early frames (neighbour discovery) meet it.
	 * Nothing is wrong. */
	if (res == -EIO) {
		nb_debug("%s: TAP down, %u-byte frame dropped", vif->name,
			 ps->pkt.size);
		return;
	}
	if (!q->tx.logged_tap) {
		q->tx.logged_tap = true;
		vif_log(vif,
			"TAP refused a %u-byte frame: %s; further ones are "
			"only counted",
			ps->pkt.size, strerror((int)-res));
	}
}

#ifdef HAVE_LIBURING
/* Every prepared frame in one io_uring submission: one system call for
 * the batch instead of one writev each (a TAP write never blocks, so the
 * submission completes them all). False when the submission failed:
 * nothing was written. */
static bool tx_write_batch(struct vif_queue *q, const unsigned *which,
			   unsigned n)
{
	struct vif *vif = q->vif;
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&q->tx.uring);
		/* The ring holds a whole TX ring's frames: never NULL. */
		io_uring_prep_writev(sqe, q->tap_fd, q->tx.iov[which[i]],
				     q->tx.niov[which[i]], 0);
		io_uring_sqe_set_data64(sqe, which[i]);
	}
	stat_add(&vif->stats->syscalls, 1);
	int rc = io_uring_submit_and_wait(&q->tx.uring, n);
	if (rc < 0) {
		vif_log(vif, "io_uring submit: %s; writing frames one by one",
			strerror(-rc));
		return false;
	}
	unsigned seen = 0;
	while (seen < n) {
		struct io_uring_cqe *cqe;
		rc = io_uring_wait_cqe(&q->tx.uring, &cqe);
		if (rc < 0) {
			/* Completions lost: those frames count as refused. */
			vif_log(vif, "io_uring wait: %s; %u frames unaccounted",
				strerror(-rc), n - seen);
			stat_add(&vif->stats->tx_tap_errors, n - seen);
			return true;
		}
		tx_written(q, &q->tx.pkts[io_uring_cqe_get_data64(cqe)],
			   cqe->res);
		io_uring_cqe_seen(&q->tx.uring, cqe);
		seen++;
	}
	return true;
}
#endif

/* Writes the prepared frames to the TAP. */
static void tx_write_frames(struct vif_queue *q, const unsigned *which,
			    unsigned n)
{
	struct vif *vif = q->vif;
	if (!n)
		return;
#ifdef HAVE_LIBURING
	/* One frame: a writev costs less than a submission. */
	if (q->tx.uring_ok && n > 1) {
		if (tx_write_batch(q, which, n))
			return;
		/* A ring that failed is not used again. */
		io_uring_queue_exit(&q->tx.uring);
		q->tx.uring_ok = false;
	}
#endif
	for (unsigned i = 0; i < n; i++) {
		stat_add(&vif->stats->syscalls, 1);
		ssize_t w = writev(q->tap_fd, q->tx.iov[which[i]],
				   (int)q->tx.niov[which[i]]);
		tx_written(q, &q->tx.pkts[which[i]], w < 0 ? -errno : w);
	}
}

int tx_process(struct vif_queue *q)
{
	struct vif *vif = q->vif;
	/* The TX ring carries what this backend offered. */
	const struct netif_features *feat = &netback_offer;
	domid_t dom = (domid_t)vif->domid;

	tx_rate_refresh(q);
	bool limited = credit_limited(&q->tx.credit);
	int64_t now = limited ? monotonic_us() : 0;
	/* A packet waits for credit: the ring is left alone until then. */
	bool resume = q->tx.credit_held;
	if (resume) {
		if (now < q->tx.credit_retry_us)
			return 0;
		q->tx.credit_held = false;
	}
	int n = pvio_back_take_requests(&q->tx_ring, q->tx.reqs + q->tx.nr_reqs,
					NETBACK_TX_RING_SLOTS);
	if (n < 0) {
		vif_disable_ring(q, "TX", &q->tx_ring);
		return -1;
	}
	if (n == 0 && !resume)
		return 0;
	q->tx.nr_reqs += (unsigned)n;
	/* Ring index of reqs[0]. */
	RING_IDX base = q->tx_ring.req_cons - q->tx.nr_reqs;

	unsigned off = 0, npkts = 0, nsegs = 0;
	uint32_t staged = 0;
	while (off < q->tx.nr_reqs) {
		struct tx_slot_state *ps = &q->tx.pkts[npkts];
		enum netif_tx_reason reason = netif_tx_parse(
			q->tx.reqs + off, q->tx.nr_reqs - off, feat, &ps->pkt);
		enum netif_action action = netif_tx_action(reason);
		if (action == NETIF_INCOMPLETE)
			break; /* the rest of it is not published yet */
		if (action == NETIF_DISABLE) {
			tx_disable(vif, q->tx.reqs + off, &ps->pkt, reason,
				   base + off);
			return -1;
		}
		if (ps->pkt.nr_slots == 0) {
			/* Never from netif_tx_parse; a guard against
			 * looping on the same request forever. */
			vif_disable(vif,
				    "TX packet at ring index %u: parsed "
				    "into no slots",
				    base + off);
			return -1;
		}
		ps->first_req = off;
		/* A multicast filter change (only with the extras, not
		 * offered) carries no frame: answered, not forwarded. */
		ps->forward = action == NETIF_ACCEPT && ps->pkt.size > 0;
		if (ps->forward && limited &&
		    !credit_take(&q->tx.credit, ps->pkt.size, now,
				 &q->tx.credit_retry_us)) {
			/* It and the rest wait for the next window. */
			q->tx.credit_held = true;
			tx_credit_arm(q, q->tx.credit_retry_us);
			break;
		}
		ps->first_seg = nsegs;
		ps->nr_segs = 0;
		ps->mapped = false;
		if (ps->forward) {
			ps->status = NETIF_RSP_OKAY;
			/* The packet's whole size is kept in staging even
			 * when mapped: room to copy it if its headers are
			 * not all in the head. */
			ps->data_off = staged;
			if (q->tx.persistent && tx_map_packet(q, ps)) {
				ps->mapped = true;
				ps->head_len =
					ps->pkt.size < NETBACK_TX_HEAD_BYTES
						? ps->pkt.size
						: NETBACK_TX_HEAD_BYTES;
				netif_tx_gather(&ps->pkt, ps->pages,
						ps->head_len,
						q->tx.staging + staged);
			} else {
				ps->nr_segs =
					tx_add_segments(q, dom, &ps->pkt,
							q->tx.staging + staged,
							q->tx.segs + nsegs);
				nsegs += ps->nr_segs;
			}
			staged += ps->pkt.size;
		} else if (action == NETIF_ACCEPT) {
			ps->status = NETIF_RSP_OKAY;
		} else {
			ps->status = action == NETIF_DROP ? NETIF_RSP_DROPPED
							  : NETIF_RSP_ERROR;
			tx_refuse(q, &ps->pkt, reason, base + off);
		}
		off += ps->pkt.nr_slots;
		npkts++;
	}
	if (npkts == 0)
		return 0;

	unsigned nready = 0;
	/* One grant copy for the whole batch. */
	if (nsegs) {
		stat_add(&vif->stats->syscalls, 1);
		int rc = pvio_gnttab_copy(q->gnttab, nsegs, q->tx.segs);
		for (unsigned i = 0; i < nsegs && rc < 0; i++)
			q->tx.segs[i].status = GNTST_general_error;
	}
	for (unsigned p = 0; p < npkts; p++) {
		struct tx_slot_state *ps = &q->tx.pkts[p];
		if (!ps->forward)
			continue;
		for (unsigned i = 0; i < ps->nr_segs; i++) {
			const pvio_gnt_copy_seg_t *s =
				&q->tx.segs[ps->first_seg + i];
			if (s->status == GNTST_okay)
				continue;
			ps->forward = false;
			ps->status = NETIF_RSP_ERROR;
			stat_add(&vif->stats->tx_grant_errors, 1);
			if (!q->tx.logged_grant) {
				q->tx.logged_grant = true;
				vif_log(vif,
					"TX grant copy from gref %u offset "
					"%u length %u failed: %s; further "
					"failures are only counted",
					s->source.foreign.ref,
					s->source.foreign.offset, s->len,
					pvio_gnt_status_str(s->status));
			}
			break;
		}
		if (ps->forward &&
		    tx_prepare_frame(q, ps, &q->tx.vnet[p], q->tx.iov[p],
				     &q->tx.niov[p]))
			q->tx.ready[nready++] = p;
	}
	tx_write_frames(q, q->tx.ready, nready);

	/* Responses for every packet of the batch, in ring order. */
	unsigned nrsp = 0;
	for (unsigned p = 0; p < npkts; p++) {
		struct tx_slot_state *ps = &q->tx.pkts[p];
		nrsp += netif_tx_responses(q->tx.reqs + ps->first_req, &ps->pkt,
					   ps->status, q->tx.rsps + nrsp);
	}
	pvio_back_put_responses(&q->tx_ring, q->tx.rsps, nrsp);
	if (pvio_back_push_responses(&q->tx_ring))
		q->need_notify_tx = true;
	stat_add(&vif->stats->tx_batches, 1);

	/* Requests of a packet still incomplete wait for the rest. */
	q->tx.nr_reqs -= off;
	memmove(q->tx.reqs, q->tx.reqs + off,
		q->tx.nr_reqs * sizeof(q->tx.reqs[0]));
	return (int)npkts;
}
