/*
 * The data path's threads: a pool of workers, each serving many queues
 * (of one vif or several) through one epoll set. Each queue of a vif is
 * given to the least-loaded worker at connect, so that a vif's queues
 * spread over the workers; the main thread hands a queue over and takes
 * it back through the worker's mailbox, and the worker does the queue's
 * setup and teardown itself, since the grant and event-channel handles
 * belong to the thread that uses them.
 *
 * Why few threads: a frame the worker writes to one vif's TAP is bridged
 * inside that write, so it is already queued on the destination vif's TAP
 * when the write returns. A worker serving both vifs finds it at its next
 * pass, without the wake-up a second thread would need.
 */
#include "config.h"

#include "netback.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* How often, at most, a queue asks the platform whether its frontend's end
 * of the channel closed (sim: one poll() each): a death also shows as a
 * refused notification, and a check put off is made when it falls due,
 * even on an idle worker (its epoll_wait then has a timeout). */
#define PEER_CHECK_INTERVAL_NS 100000000

/* Events taken per epoll_wait. */
#define WORKER_EVENTS 64

enum worker_op { OP_NONE, OP_ATTACH, OP_DETACH };

struct nb_worker {
	unsigned index;
	pthread_t thread;
	bool started;
	int epoll_fd;
	int ctl_fd; /* eventfd: the mailbox has a request, or stop */

	/* The mailbox: one request at a time (only the main thread asks). */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum worker_op op;
	struct vif_queue *op_queue;
	bool op_done;
	int op_rc;
	char op_msg[256];
	int mail; /* atomic: a request waits (seen without a system call) */
	int stop; /* atomic */

	unsigned nr_queues; /* main thread's count, for placement */

	/* The worker's own. */
	struct vif_queue *queues; /* served, linked by worker_next */
	uint64_t passes;	  /* worker_pass calls */
	int64_t busy_poll_ns;
};

static struct nb_worker *workers;
static unsigned nr_workers;

/* The ctl eventfd's epoll tag: no queue. */
static struct nb_poll_tag ctl_tag = {NULL, NB_EV_CTL};

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

/* A queue stops with its vif: one queue's violation stops them all. */
static bool queue_stopping(struct vif_queue *q)
{
	return vif_worker_state(q->vif) != VIF_WORKER_RUNNING;
}

/* Work is visible in shared memory: the frontend published TX requests
 * not taken yet, or RX buffers for a frame that waits for them (two loads,
 * no system call). */
static bool ring_has_work(const struct vif_queue *q)
{
	const struct pvio_generic_sring *tx = q->tx_ring.sring;
	const struct pvio_generic_sring *rx = q->rx_ring.sring;
	/* Requests that wait for credit are no work until the timer. */
	if (!tx_credit_waits(q) &&
	    __atomic_load_n(&tx->req_prod, __ATOMIC_ACQUIRE) !=
		    q->tx_ring.req_cons)
		return true;
	return q->rx.nr_pending &&
	       __atomic_load_n(&rx->req_prod, __ATOMIC_ACQUIRE) !=
		       q->rx_ring.req_cons;
}

/* Poll the TAP for reading only while frames can go somewhere. */
static int update_tap_poll(struct nb_worker *w, struct vif_queue *q)
{
	struct vif *vif = q->vif;
	bool want = rx_wants_tap(q);
	if (want == q->tap_polled)
		return 0;
	struct epoll_event ev = {.events = want ? EPOLLIN : 0,
				 .data.ptr = &q->tag_tap};
	stat_add(&vif->stats->syscalls, 1);
	if (epoll_ctl(w->epoll_fd, EPOLL_CTL_MOD, q->tap_fd, &ev) < 0) {
		nb_log("%s: queue %u: epoll_ctl on the TAP: %s", vif->name,
		       q->index, strerror(errno));
		return -1;
	}
	q->tap_polled = want;
	return 0;
}

/* A dead or closed frontend leaves its port pending; asked after a
 * wake-up, at most every PEER_CHECK_INTERVAL_NS. */
static void peer_check(struct vif_queue *q, int64_t now)
{
	q->peer_check_due = false;
	q->peer_checked_ns = now;
	if (pvio_evtchn_peer_closed(q->evtchn, q->port_tx) == 1 ||
	    (q->port_rx != q->port_tx &&
	     pvio_evtchn_peer_closed(q->evtchn, q->port_rx) == 1))
		vif_set_exit(q->vif, VIF_WORKER_PEER_GONE);
}

/* The channel woke: take a port and unmask it (one handle per queue:
 * with split channels a second pending port keeps the handle readable,
 * and the next epoll_wait, level-triggered, reports it at once, so one
 * pending call per wake-up is enough), and the peer check when it is due.
 * Which port woke needs no routing of its own: a pass looks at both
 * rings, two loads each. */
static void take_events(struct vif_queue *q, int64_t now)
{
	struct vif *vif = q->vif;
	int port = pvio_evtchn_pending(q->evtchn);
	stat_add(&vif->stats->syscalls, 1);
	if (port >= 0) {
		stat_add(&vif->stats->notify_received, 1);
		stat_add(&vif->stats->syscalls, 1);
		pvio_evtchn_unmask(q->evtchn, (evtchn_port_t)port);
	}
	q->peer_check_due = true;
	if (now - q->peer_checked_ns >= PEER_CHECK_INTERVAL_NS)
		peer_check(q, now);
}

/* Re-arm the ring events and look again (RING_FINAL_CHECK_FOR_REQUESTS):
 * true when there is work after all. The RX ring is re-armed only while
 * a frame waits for buffers, so that a frontend posting buffers to an idle
 * vif does not notify for each. */
static bool final_check(struct vif_queue *q)
{
	/* While a packet waits for credit the timer wakes the worker, and
	 * the frontend's requests are no work before it. */
	int n = tx_credit_waits(q)
			? 0
			: pvio_back_final_check_requests(&q->tx_ring);
	if (n < 0) {
		vif_disable_ring(q, "TX", &q->tx_ring);
		return false;
	}
	if (n > 0)
		return true;
	if (!rx_wants_tap(q) || q->rx.nr_pending) {
		n = pvio_back_final_check_requests(&q->rx_ring);
		if (n < 0) {
			vif_disable_ring(q, "RX", &q->rx_ring);
			return false;
		}
		if (n > 0)
			return true;
	}
	return false;
}

/* Registers a set-up queue in the worker's epoll set. */
static int queue_register(struct nb_worker *w, struct vif_queue *q)
{
	q->tag_evtchn = (struct nb_poll_tag){q, NB_EV_EVTCHN};
	q->tag_tap = (struct nb_poll_tag){q, NB_EV_TAP};
	q->tag_credit = (struct nb_poll_tag){q, NB_EV_CREDIT};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &q->tag_credit};
	if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, q->tx.credit_timer_fd, &ev) <
	    0)
		return -errno;
	ev = (struct epoll_event){.events = EPOLLIN,
				  .data.ptr = &q->tag_evtchn};
	if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, pvio_evtchn_fd(q->evtchn),
		      &ev) < 0) {
		int err = -errno;
		epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, q->tx.credit_timer_fd,
			  NULL);
		return err;
	}
	/* The TAP is polled only while RX buffers are posted. */
	ev = (struct epoll_event){.events = 0, .data.ptr = &q->tag_tap};
	if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, q->tap_fd, &ev) < 0) {
		int err = -errno;
		epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, pvio_evtchn_fd(q->evtchn),
			  NULL);
		epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, q->tx.credit_timer_fd,
			  NULL);
		return err;
	}
	return 0;
}

/* Stops serving q: out of the epoll set and the list, torn down. The
 * main thread is told when the worker stopped it on its own. */
static void queue_remove(struct nb_worker *w, struct vif_queue *q)
{
	struct vif *vif = q->vif;
	epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, q->tap_fd, NULL);
	epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, pvio_evtchn_fd(q->evtchn), NULL);
	epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, q->tx.credit_timer_fd, NULL);
	for (struct vif_queue **p = &w->queues; *p; p = &(*p)->worker_next)
		if (*p == q) {
			*p = q->worker_next;
			break;
		}
	q->worker_next = NULL;
	vif_queue_teardown(q);
	if (vif_worker_state(vif) != VIF_WORKER_STOPPED) {
		/* Tell the main thread it has a vif to move on. */
		uint64_t one = 1;
		ssize_t wr = write(vif->main_wake_fd, &one, sizeof(one));
		(void)wr; /* an eventfd write fails only on overflow */
	}
}

/* The mailbox's request, done in the worker (under the lock: the main
 * thread waits for it anyway). */
static void serve_mailbox(struct nb_worker *w)
{
	__atomic_store_n(&w->mail, 0, __ATOMIC_RELEASE);
	uint64_t junk;
	ssize_t r = read(w->ctl_fd, &junk, sizeof(junk));
	(void)r;
	pthread_mutex_lock(&w->lock);
	if (w->op != OP_NONE && !w->op_done) {
		struct vif_queue *q = w->op_queue;
		w->op_rc = 0;
		w->op_msg[0] = '\0';
		if (w->op == OP_ATTACH) {
			int rc = vif_queue_setup(q, w->op_msg,
						 sizeof(w->op_msg));
			if (!rc) {
				rc = queue_register(w, q);
				if (rc)
					snprintf(w->op_msg, sizeof(w->op_msg),
						 "epoll: %s", strerror(-rc));
			}
			if (rc) {
				vif_queue_teardown(q);
			} else {
				q->worker_next = w->queues;
				w->queues = q;
			}
			w->op_rc = rc;
		} else {
			/* Still served (it did not stop on its own)? */
			for (struct vif_queue *v = w->queues; v;
			     v = v->worker_next)
				if (v == q) {
					vif_set_exit(q->vif,
						     VIF_WORKER_STOPPED);
					queue_remove(w, q);
					break;
				}
		}
		w->op_done = true;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
}

static bool worker_stopping(struct nb_worker *w)
{
	return __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE);
}

/* One notification per queue for both directions when they share the
 * channel; with split channels TX responses go on port_tx, RX on
 * port_rx. */
static void queue_notify(struct vif_queue *q)
{
	if (q->port_tx == q->port_rx) {
		if (q->need_notify || q->need_notify_tx)
			vif_notify(q, q->port_tx);
	} else {
		bool alive = !q->need_notify_tx || vif_notify(q, q->port_tx);
		if (alive && q->need_notify)
			vif_notify(q, q->port_rx);
	}
	q->need_notify = q->need_notify_tx = false;
}

/*
 * One pass over every queue: TX of all of them first (a frame written to
 * a TAP may be bridged to another served vif's TAP within the write), then
 * RX, then the notifications. Returns the packets moved.
 */
static int worker_pass(struct nb_worker *w)
{
	int moved = 0;
	/* Vifs (not queues) that wrote in this pass, marked by pass number
	 * in each vif's slot for this worker (no other thread writes it). */
	unsigned writers = 0;
	uint64_t pass = ++w->passes;
	for (struct vif_queue *v = w->queues; v; v = v->worker_next) {
		if (queue_stopping(v))
			continue;
		int t = tx_process(v);
		if (t > 0) {
			moved += t;
			if (v->vif->wrote_in_pass[w->index] != pass) {
				v->vif->wrote_in_pass[w->index] = pass;
				writers++;
			}
		}
	}
	for (struct vif_queue *v = w->queues; v; v = v->worker_next) {
		if (queue_stopping(v))
			continue;
		/* A frame written a moment ago is likely on a TAP of another
		 * of these vifs already (the bridge sends nothing back to the
		 * port it came from; which of that vif's queues it is on, the
		 * kernel's flow hash chose): look without waiting for epoll
		 * to say so. */
		bool own = v->vif->wrote_in_pass[w->index] == pass;
		if (writers > (own ? 1u : 0u))
			v->tap_readable = true;
		int r = rx_process(v);
		if (r > 0)
			moved += r;
	}
	for (struct vif_queue *v = w->queues; v; v = v->worker_next)
		if (!queue_stopping(v))
			queue_notify(v);
	return moved;
}

/* Queues that stopped (disabled, peer gone, failed) leave. */
static void reap_stopped(struct nb_worker *w)
{
	for (struct vif_queue *v = w->queues, *next; v; v = next) {
		next = v->worker_next;
		if (queue_stopping(v))
			queue_remove(w, v);
	}
}

/* Before sleeping: the final checks, the TAPs' polling, the peer checks
 * put off. Returns false when there is work after all; *timeout_ms is how
 * long the sleep may last (-1: until an event). */
static bool prepare_sleep(struct nb_worker *w, int *timeout_ms)
{
	int64_t now = now_ns(), wait_ns = -1;
	for (struct vif_queue *v = w->queues; v; v = v->worker_next) {
		if (queue_stopping(v))
			continue;
		if (final_check(v))
			return false;
		if (v->peer_check_due) {
			int64_t left = v->peer_checked_ns +
				       PEER_CHECK_INTERVAL_NS - now;
			if (left <= 0)
				peer_check(v, now);
			else if (wait_ns < 0 || left < wait_ns)
				wait_ns = left;
		}
		if (!queue_stopping(v) && update_tap_poll(w, v) < 0)
			vif_set_exit(v->vif, VIF_WORKER_FAILED);
	}
	*timeout_ms = wait_ns < 0 ? -1 : (int)(wait_ns / 1000000) + 1;
	return true;
}

/* Takes the events of one epoll_wait in: flags only, since the batch may
 * name a queue twice and queues leave only after it. */
static void take_batch(struct nb_worker *w, const struct epoll_event *evs,
		       int n)
{
	int64_t now = n > 0 ? now_ns() : 0;
	for (int i = 0; i < n; i++) {
		const struct nb_poll_tag *tag = evs[i].data.ptr;
		if (tag->kind == NB_EV_CTL) {
			__atomic_store_n(&w->mail, 1, __ATOMIC_RELEASE);
			continue;
		}
		if (queue_stopping(tag->q))
			continue;
		if (tag->kind == NB_EV_EVTCHN)
			take_events(tag->q, now);
		else if (tag->kind == NB_EV_CREDIT)
			tx_credit_timer(tag->q);
		else
			tag->q->tap_readable = true;
	}
}

/* One epoll_wait of the worker's set; false when it failed (every queue
 * then stops). */
static void wait_events(struct nb_worker *w, int timeout_ms)
{
	struct epoll_event evs[WORKER_EVENTS];
	/* A wait serves every queue: counted once, on the first. */
	if (w->queues)
		stat_add(&w->queues->vif->stats->syscalls, 1);
	int n = epoll_wait(w->epoll_fd, evs, WORKER_EVENTS, timeout_ms);
	if (n < 0 && errno != EINTR) {
		nb_log("worker %u: epoll_wait: %s", w->index, strerror(errno));
		for (struct vif_queue *v = w->queues; v; v = v->worker_next)
			vif_set_exit(v->vif, VIF_WORKER_FAILED);
		n = 0;
	}
	take_batch(w, evs, n);
}

/* Passes with work in a row before the worker looks at its events anyway
 * (TAPs that became readable, the mailbox), without sleeping. */
#define PASSES_BETWEEN_LOOKS 32

static void *worker_main(void *arg)
{
	struct nb_worker *w = arg;
	int64_t last_work = 0;
	unsigned busy_passes = 0;
	for (;;) {
		if (__atomic_load_n(&w->mail, __ATOMIC_ACQUIRE))
			serve_mailbox(w);
		reap_stopped(w);
		if (worker_stopping(w) && !w->queues)
			break;
		if (worker_pass(w) > 0) {
			if (w->busy_poll_ns)
				last_work = now_ns();
			if (++busy_passes >= PASSES_BETWEEN_LOOKS) {
				busy_passes = 0;
				wait_events(w, 0);
			}
			continue;
		}
		busy_passes = 0;
		if (w->busy_poll_ns && w->queues &&
		    now_ns() - last_work < w->busy_poll_ns) {
			bool work = false;
			for (struct vif_queue *v = w->queues; v && !work;
			     v = v->worker_next)
				work = !queue_stopping(v) && ring_has_work(v);
			if (!work)
				cpu_relax();
			continue;
		}
		int timeout_ms;
		if (!prepare_sleep(w, &timeout_ms))
			continue;
		/* Queues that stopped in the pass or the checks leave before
		 * the worker sleeps. */
		reap_stopped(w);
		if (__atomic_load_n(&w->mail, __ATOMIC_ACQUIRE))
			continue;
		wait_events(w, timeout_ms);
	}
	return NULL;
}

static unsigned cpus_usable(void)
{
	cpu_set_t cpus;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		return (unsigned)CPU_COUNT(&cpus);
	return 1;
}

unsigned workers_default_count(void)
{
	unsigned cpus = cpus_usable();
	/* On two CPUs the frontends and the guests' stacks need the other
	 * one; beyond, about half of them. */
	return cpus <= 2 ? 1 : cpus / 2;
}

unsigned workers_default_max_queues(void)
{
	unsigned cpus = cpus_usable();
	return cpus < NETIF_QUEUES_MAX ? cpus : NETIF_QUEUES_MAX;
}

unsigned workers_default_busy_poll_us(unsigned nr_workers)
{
	return cpus_usable() > nr_workers ? NETBACK_BUSY_POLL_US_DEFAULT : 0;
}

int workers_start(unsigned count, unsigned busy_poll_us)
{
	workers = calloc(count, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	for (unsigned i = 0; i < count; i++) {
		struct nb_worker *w = &workers[i];
		w->index = i;
		w->busy_poll_ns = (int64_t)busy_poll_us * 1000;
		w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
		w->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		pthread_mutex_init(&w->lock, NULL);
		pthread_cond_init(&w->cond, NULL);
		nr_workers = i + 1;
		struct epoll_event ev = {.events = EPOLLIN,
					 .data.ptr = &ctl_tag};
		if (w->epoll_fd < 0 || w->ctl_fd < 0 ||
		    epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->ctl_fd, &ev) < 0) {
			nb_log("worker %u: %s", i, strerror(errno));
			return -errno;
		}
		int rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc) {
			nb_log("cannot start worker %u: %s", i, strerror(rc));
			return -rc;
		}
		/* Named so that top -H, perf and taskset tell the workers
		 * apart. */
		char name[16];
		snprintf(name, sizeof(name), "nb-w%u", i);
		pthread_setname_np(w->thread, name);
		w->started = true;
	}
	return 0;
}

void workers_stop(void)
{
	for (unsigned i = 0; i < nr_workers; i++) {
		struct nb_worker *w = &workers[i];
		if (w->started) {
			__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
			uint64_t one = 1;
			ssize_t wr = write(w->ctl_fd, &one, sizeof(one));
			(void)wr;
			pthread_join(w->thread, NULL);
		}
		if (w->epoll_fd >= 0)
			close(w->epoll_fd);
		if (w->ctl_fd >= 0)
			close(w->ctl_fd);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
	}
	free(workers);
	workers = NULL;
	nr_workers = 0;
}

/* Posts op for q to w and waits for the worker to do it. */
static int worker_request(struct nb_worker *w, enum worker_op op,
			  struct vif_queue *q, char *msg, size_t msg_size)
{
	pthread_mutex_lock(&w->lock);
	w->op = op;
	w->op_queue = q;
	w->op_done = false;
	pthread_mutex_unlock(&w->lock);
	__atomic_store_n(&w->mail, 1, __ATOMIC_RELEASE);
	uint64_t one = 1;
	ssize_t wr = write(w->ctl_fd, &one, sizeof(one));
	(void)wr;
	pthread_mutex_lock(&w->lock);
	while (!w->op_done)
		pthread_cond_wait(&w->cond, &w->lock);
	int rc = w->op_rc;
	if (msg)
		snprintf(msg, msg_size, "%s", w->op_msg);
	w->op = OP_NONE;
	w->op_queue = NULL;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int worker_attach(struct vif_queue *q, char *msg, size_t msg_size)
{
	if (!nr_workers) {
		snprintf(msg, msg_size, "no worker thread");
		return -ENOENT;
	}
	struct nb_worker *best = &workers[0];
	for (unsigned i = 1; i < nr_workers; i++)
		if (workers[i].nr_queues < best->nr_queues)
			best = &workers[i];
	int rc = worker_request(best, OP_ATTACH, q, msg, msg_size);
	if (rc)
		return rc;
	q->worker = best;
	best->nr_queues++;
	return 0;
}

/* An empty mailbox: the worker wakes, finds no request, and makes a
 * pass over its queues. */
static void worker_wake(struct nb_worker *w)
{
	__atomic_store_n(&w->mail, 1, __ATOMIC_RELEASE);
	uint64_t one = 1;
	ssize_t wr = write(w->ctl_fd, &one, sizeof(one));
	(void)wr;
}

void worker_kick(struct vif *vif)
{
	/* Queues of one vif may share a worker: one wake-up each is enough,
	 * a second finds nothing more to do. */
	for (unsigned i = 0; i < vif->nr_queues; i++)
		if (vif->queues[i].worker)
			worker_wake(vif->queues[i].worker);
}

void worker_detach(struct vif_queue *q)
{
	struct nb_worker *w = q->worker;
	if (!w)
		return;
	worker_request(w, OP_DETACH, q, NULL, 0);
	w->nr_queues--;
	q->worker = NULL;
}
