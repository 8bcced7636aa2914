/*
 * The sim platform's event channels.
 *
 * Each domain has a port table in a shared file: which ports exist, which
 * domain an unbound port is for, and which handle owns each port. Each
 * handle listens on a UNIX stream socket under the run directory (file
 * sockets, so that they reach across network namespaces). Binding connects
 * to the allocating handle's socket and names the port; from then on the
 * channel is that connection:
 *
 *   notify   = one send() of one byte on it, straight to the peer process
 *   wake     = epoll_wait() on the handle's epoll fd + one recv() draining
 *              every byte that arrived; for a handle whose only channel is
 *              connected (a driver's queue, the common case) one recv()
 *              on that connection, blocking in wait(), without the epoll
 *              set: one system call per wake-up, as an eventfd's read
 *   death    = EOF (the kernel closes the connection of a dying process),
 *              so the peer sees the port close and notify fails -ENOTCONN
 *
 * No daemon sits on the path. A port reported pending is masked until
 * unmasked, as with the Linux evtchn driver. Not a security boundary: any
 * local process can open the files and sockets.
 */
#include "config.h"

#include "platform_ops.h"
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

enum port_state {
	PORT_FREE = 0,
	PORT_RESERVED,	  /* being set up by its owner */
	PORT_UNBOUND,	  /* allocated for remote_domid to bind */
	PORT_INTERDOMAIN, /* bound */
};

/* One port of a domain, in the shared port table. */
struct sim_port {
	uint32_t state; /* enum port_state, updated atomically */
	uint32_t owner_pid;
	uint32_t owner_handle;
	uint32_t remote_port;
	uint16_t remote_domid;
	uint16_t reserved[7];
};
_Static_assert(sizeof(struct sim_port) == 32, "port table entry");

#define PORT_TABLE_BYTES (PVIO_SIM_NR_PORTS * sizeof(struct sim_port))

/* The first message on a channel connection: who binds which port. */
struct bind_msg {
	uint32_t magic;
	uint32_t allocator_port;
	uint32_t binder_port;
	uint16_t binder_domid;
	uint16_t reserved;
};
#define BIND_MAGIC 0x70766542u /* "pveB" */
/* Accepted connections whose bind message has not arrived yet. */
#define MAX_BINDING 16

enum channel_kind {
	CH_NONE = 0,
	CH_UNBOUND,   /* allocated here, no peer yet */
	CH_CONNECTED, /* fd is the connection to the peer */
	CH_CLOSED,    /* the peer closed its end or died */
};

struct channel {
	uint8_t kind;
	bool pending;
	bool masked;
	int fd;
	domid_t remote_domid;
	evtchn_port_t remote_port;
};

/* epoll tags beyond the port range. */
#define TAG_LISTEN  (1ull << 32)
#define TAG_WAKE    (2ull << 32)
#define TAG_BINDING (3ull << 32) /* | fd: a bind message is awaited */
#define TAG_KIND(t) ((t) & (0xffffull << 32))

struct remote_table {
	domid_t domid;
	struct sim_port *ports;
	struct remote_table *next;
};

struct sim_evtchn {
	struct pvio_evtchn base;
	domid_t self;
	uint32_t pid;
	uint32_t handle_id;
	int epfd;
	int listen_fd;
	int wake_fd; /* re-raises the poll fd when unmask finds a port pending
		      */
	struct sim_port *ports;
	struct remote_table *remotes;
	/* Ports ready to report: each at most once, since queued ports are
	 * masked. */
	evtchn_port_t ready[PVIO_SIM_NR_PORTS];
	uint32_t ready_head, ready_count;
	int binding[MAX_BINDING]; /* accepted, bind message awaited */
	unsigned nr_binding;
	struct channel ch[PVIO_SIM_NR_PORTS];
	/* The handle's only channel when it has exactly one and that one is
	 * connected (0: not so), recomputed after any channel changed
	 * (solo_stale); and the receive timeout set on solo_fd's socket
	 * (-1: none). */
	evtchn_port_t solo;
	bool solo_stale;
	int solo_fd, solo_timeout_ms;
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

#define EVT(h) ((struct sim_evtchn *)(void *)(h))

static uint32_t next_handle_id;

static int socket_path(char *buf, size_t len, domid_t domid, uint32_t pid,
		       uint32_t handle_id)
{
	char name[64];
	snprintf(name, sizeof(name), "evtchn-%u-%u.sock", pid, handle_id);
	int err = pvio_sim_path(buf, len, domid, name);
	if (err)
		pvio_set_error("event-channel socket path under %s is longer "
			       "than a UNIX socket allows: use a shorter "
			       "PVIO_RUNDIR",
			       pvio_sim_rundir());
	return err;
}

static int epoll_add(struct sim_evtchn *h, int fd, uint64_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
	return epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void raise_port(struct sim_evtchn *h, evtchn_port_t port)
{
	struct channel *c = &h->ch[port];

	if (c->pending)
		return;
	c->pending = true;
	if (c->masked)
		return;
	c->masked = true;
	h->ready[(h->ready_head + h->ready_count++) % PVIO_SIM_NR_PORTS] = port;
}

static void channel_close_fd(struct sim_evtchn *h, struct channel *c)
{
	if (c->fd >= 0) {
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		/* A socket that reuses the number starts without a timeout. */
		if (c->fd == h->solo_fd)
			h->solo_fd = -1;
		close(c->fd);
		c->fd = -1;
	}
}

static void peer_gone(struct sim_evtchn *h, evtchn_port_t port)
{
	struct channel *c = &h->ch[port];

	channel_close_fd(h, c);
	c->kind = CH_CLOSED;
	h->solo_stale = true;
	raise_port(h, port); /* wake a waiter so that it can tell */
}

/*
 * Takes what arrived on port's connection (flags MSG_DONTWAIT, or 0 to
 * block up to the socket's receive timeout): every byte is one
 * notification, one recv takes them all. True when the port was raised
 * (notified, or the peer went).
 */
static bool channel_receive(struct sim_evtchn *h, evtchn_port_t port, int flags)
{
	char buf[256];
	ssize_t n = recv(h->ch[port].fd, buf, sizeof(buf), flags);

	if (n > 0) {
		raise_port(h, port);
		return true;
	}
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return false;
	peer_gone(h, port);
	return true;
}

/* The solo channel (see struct sim_evtchn), 0 when there is none. */
static evtchn_port_t solo_port(struct sim_evtchn *h)
{
	if (!h->solo_stale)
		return h->solo;
	h->solo_stale = false;
	h->solo = 0;
	unsigned open = 0;
	evtchn_port_t last = 0;
	for (evtchn_port_t port = 1; port < PVIO_SIM_NR_PORTS && open < 2;
	     port++)
		if (h->ch[port].kind != CH_NONE) {
			open++;
			last = port;
		}
	if (open == 1 && h->ch[last].kind == CH_CONNECTED && !h->nr_binding)
		h->solo = last;
	return h->solo;
}

/* Forget fd as a connection whose bind message is awaited; false if it
 * was not one. */
static bool binding_drop(struct sim_evtchn *h, int fd)
{
	for (unsigned i = 0; i < h->nr_binding; i++)
		if (h->binding[i] == fd) {
			h->binding[i] = h->binding[--h->nr_binding];
			epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
			return true;
		}
	return false;
}

/*
 * Take an accepted connection: attach it to the port its bind message
 * names, or refuse it. A message not there yet is waited for through the
 * epoll set, never here: a binder that is slow or stuck between connect
 * and send must not stall this handle's ports.
 */
static void attach_connection(struct sim_evtchn *h, int fd)
{
	struct bind_msg m;

	h->solo_stale = true;
	ssize_t n = recv(fd, &m, sizeof(m), MSG_DONTWAIT);

	if (n < 0 && errno == EAGAIN) {
		for (unsigned i = 0; i < h->nr_binding; i++)
			if (h->binding[i] == fd)
				return; /* a spurious wake-up: wait on */
		if (h->nr_binding == MAX_BINDING ||
		    epoll_add(h, fd, TAG_BINDING | (uint32_t)fd))
			goto refuse;
		h->binding[h->nr_binding++] = fd;
		return;
	}
	binding_drop(h, fd);
	if (n != sizeof(m) || m.magic != BIND_MAGIC || m.allocator_port == 0 ||
	    m.allocator_port >= PVIO_SIM_NR_PORTS)
		goto refuse;
	struct channel *c = &h->ch[m.allocator_port];
	struct sim_port *p = &h->ports[m.allocator_port];
	if (c->kind != CH_UNBOUND ||
	    __atomic_load_n(&p->state, __ATOMIC_ACQUIRE) != PORT_INTERDOMAIN ||
	    p->remote_domid != m.binder_domid)
		goto refuse;
	/* Accepted non-blocking for the bind message; a channel blocks in
	 * wait() (solo_wait), every other call says MSG_DONTWAIT. */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		goto refuse;
	c->kind = CH_CONNECTED;
	c->fd = fd;
	c->remote_domid = m.binder_domid;
	c->remote_port = m.binder_port;
	p->remote_port = m.binder_port;
	if (epoll_add(h, fd, m.allocator_port)) {
		c->fd = -1;
		c->kind = CH_CLOSED;
		goto refuse;
	}
	return;
refuse:
	binding_drop(h, fd);
	close(fd); /* the binder sees EOF: its port closes */
}

static void service_listener(struct sim_evtchn *h)
{
	for (int i = 0; i < 1024; i++) {
		int fd = accept4(h->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		attach_connection(h, fd);
	}
}

static void handle_event(struct sim_evtchn *h, uint64_t tag)
{
	switch (TAG_KIND(tag)) {
	case TAG_LISTEN:
		service_listener(h);
		return;
	case TAG_BINDING:
		attach_connection(h, (int)(uint32_t)tag);
		return;
	case TAG_WAKE: {
		uint64_t v;
		if (read(h->wake_fd, &v, sizeof(v)) < 0) {
			/* already reset by an earlier pass */
		}
		return;
	}
	}
	evtchn_port_t port = (evtchn_port_t)tag;
	if (h->ch[port].kind == CH_CONNECTED)
		channel_receive(h, port, MSG_DONTWAIT);
}

static int pop_ready(struct sim_evtchn *h)
{
	while (h->ready_count) {
		evtchn_port_t port = h->ready[h->ready_head];
		h->ready_head = (h->ready_head + 1) % PVIO_SIM_NR_PORTS;
		h->ready_count--;
		struct channel *c = &h->ch[port];
		if (c->kind != CH_NONE && c->pending) {
			c->pending = false;
			return (int)port;
		}
	}
	return -EAGAIN;
}

static int poll_events(struct sim_evtchn *h, int timeout_ms)
{
	struct epoll_event evs[32];
	int n = epoll_wait(h->epfd, evs, 32, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++)
		handle_event(h, evs[i].data.u64);
	return n;
}

static struct sim_port *remote_ports(struct sim_evtchn *h, domid_t domid,
				     int *err)
{
	struct remote_table *r;
	void *map;

	if (domid == h->self)
		return h->ports;
	for (r = h->remotes; r; r = r->next)
		if (r->domid == domid)
			return r->ports;
	*err = pvio_sim_map_file(domid, "evtchn", PORT_TABLE_BYTES, false, &map,
				 NULL);
	if (*err)
		return NULL;
	r = malloc(sizeof(*r));
	if (!r) {
		munmap(map, PORT_TABLE_BYTES);
		*err = -ENOMEM;
		return NULL;
	}
	r->domid = domid;
	r->ports = map;
	r->next = h->remotes;
	h->remotes = r;
	return r->ports;
}

/*
 * Free a port. Its owner is cleared first: a process that claims the port
 * next is its owner before it can store its pid, and a reclaimer must not
 * take it for a dead process's meanwhile.
 */
static void port_free(struct sim_port *p)
{
	__atomic_store_n(&p->owner_pid, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->state, PORT_FREE, __ATOMIC_RELEASE);
}

/* Claim a free port of the own domain (reserved until published). */
static int port_alloc(struct sim_evtchn *h)
{
	for (int pass = 0; pass < 2; pass++) {
		for (evtchn_port_t port = 1; port < PVIO_SIM_NR_PORTS; port++) {
			struct sim_port *p = &h->ports[port];
			uint32_t st = PORT_FREE;
			if (!__atomic_compare_exchange_n(
				    &p->state, &st, PORT_RESERVED, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				continue;
			__atomic_store_n(&p->owner_pid, h->pid,
					 __ATOMIC_RELAXED);
			p->owner_handle = h->handle_id;
			p->remote_port = 0;
			return (int)port;
		}
		/* Full: take back the ports of processes that died, through
		 * RESERVED so that the owner is cleared before anyone can
		 * claim them again. */
		for (evtchn_port_t port = 1; port < PVIO_SIM_NR_PORTS; port++) {
			struct sim_port *p = &h->ports[port];
			uint32_t st =
				__atomic_load_n(&p->state, __ATOMIC_ACQUIRE);
			uint32_t owner = __atomic_load_n(&p->owner_pid,
							 __ATOMIC_RELAXED);
			if (st != PORT_FREE &&
			    pvio_sim_pid_dead((pid_t)owner) &&
			    __atomic_compare_exchange_n(
				    &p->state, &st, PORT_RESERVED, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				port_free(p);
		}
	}
	return -ENOSPC;
}

static int sim_evtchn_open(struct pvio_evtchn **out)
{
	struct sim_evtchn *h = calloc(1, sizeof(*h));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	void *map;
	int err;

	if (!h)
		return -ENOMEM;
	h->epfd = h->listen_fd = h->wake_fd = h->solo_fd = -1;
	for (unsigned i = 0; i < PVIO_SIM_NR_PORTS; i++)
		h->ch[i].fd = -1;
	if ((err = pvio_sim_self_domid(&h->self)))
		goto fail;
	if ((err = pvio_sim_map_file(h->self, "evtchn", PORT_TABLE_BYTES, true,
				     &map, NULL)))
		goto fail;
	h->ports = map;
	h->pid = (uint32_t)getpid();
	h->handle_id = __atomic_fetch_add(&next_handle_id, 1, __ATOMIC_RELAXED);
	if ((err = socket_path(h->sock_path, sizeof(h->sock_path), h->self,
			       h->pid, h->handle_id)))
		goto fail;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	h->listen_fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->epfd < 0 || h->wake_fd < 0 || h->listen_fd < 0) {
		err = -errno;
		goto fail;
	}
	memcpy(sa.sun_path, h->sock_path, strlen(h->sock_path) + 1);
	unlink(h->sock_path); /* left by an earlier process with this pid */
	if (bind(h->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(h->listen_fd, SOMAXCONN)) {
		err = -errno;
		pvio_set_error("cannot listen on %s: %s", h->sock_path,
			       strerror(errno));
		goto fail;
	}
	if ((err = epoll_add(h, h->listen_fd, TAG_LISTEN)) ||
	    (err = epoll_add(h, h->wake_fd, TAG_WAKE)))
		goto fail_unlink;
	h->base.ops = &pvio_sim_evtchn_ops;
	*out = &h->base;
	return 0;
fail_unlink:
	unlink(h->sock_path);
fail:
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	if (h->epfd >= 0)
		close(h->epfd);
	if (h->ports)
		munmap(h->ports, PORT_TABLE_BYTES);
	free(h);
	return err;
}

static int sim_evtchn_fd(struct pvio_evtchn *base)
{
	return EVT(base)->epfd;
}

static int sim_evtchn_alloc_unbound(struct pvio_evtchn *base, domid_t remote)
{
	struct sim_evtchn *h = EVT(base);
	int port = port_alloc(h);

	if (port < 0)
		return port;
	struct sim_port *p = &h->ports[port];
	p->remote_domid = remote;
	__atomic_store_n(&p->state, PORT_UNBOUND, __ATOMIC_RELEASE);
	h->ch[port] = (struct channel){
		.kind = CH_UNBOUND, .fd = -1, .remote_domid = remote};
	h->solo_stale = true;
	return port;
}

static int connect_owner(domid_t domid, const struct sim_port *p, int *fd_out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int err = socket_path(sa.sun_path, sizeof(sa.sun_path), domid,
			      p->owner_pid, p->owner_handle);
	if (err)
		return err;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno == ECONNREFUSED || errno == ENOENT ? -ESRCH
							       : -errno;
		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

static int sim_evtchn_bind_interdomain(struct pvio_evtchn *base, domid_t remote,
				       evtchn_port_t rport)
{
	struct sim_evtchn *h = EVT(base);
	int err = 0, fd = -1;
	struct sim_port *rports = remote_ports(h, remote, &err);

	if (!rports)
		return err;
	if (rport == 0 || rport >= PVIO_SIM_NR_PORTS)
		return -EINVAL;
	struct sim_port *rp = &rports[rport];
	uint32_t st = __atomic_load_n(&rp->state, __ATOMIC_ACQUIRE);
	/* Xen: only an unbound port allocated for this very domain. */
	if (st != PORT_UNBOUND || rp->remote_domid != h->self)
		return -EINVAL;
	int port = port_alloc(h);
	if (port < 0)
		return port;
	if (!__atomic_compare_exchange_n(&rp->state, &st, PORT_INTERDOMAIN,
					 false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		port_free(&h->ports[port]);
		return -EINVAL;
	}
	if ((err = connect_owner(remote, rp, &fd))) {
		/* The allocating process is gone: its port goes with it. */
		uint32_t bound = PORT_INTERDOMAIN;
		if (err == -ESRCH)
			port_free(rp);
		else /* unless its owner freed it meanwhile */
			__atomic_compare_exchange_n(
				&rp->state, &bound, PORT_UNBOUND, false,
				__ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
		port_free(&h->ports[port]);
		/* A port closed with its owner: no longer unbound (Xen). */
		return err == -ESRCH ? -EINVAL : err;
	}
	struct bind_msg m = {.magic = BIND_MAGIC,
			     .allocator_port = rport,
			     .binder_port = (uint32_t)port,
			     .binder_domid = h->self};
	if (send(fd, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m) ||
	    epoll_add(h, fd, (uint64_t)port)) {
		err = -errno;
		close(fd);
		port_free(rp);
		port_free(&h->ports[port]);
		return err ? err : -EIO;
	}
	struct sim_port *p = &h->ports[port];
	p->remote_domid = remote;
	p->remote_port = rport;
	__atomic_store_n(&p->state, PORT_INTERDOMAIN, __ATOMIC_RELEASE);
	h->ch[port] = (struct channel){.kind = CH_CONNECTED,
				       .fd = fd,
				       .remote_domid = remote,
				       .remote_port = rport};
	h->solo_stale = true;
	return port;
}

static struct channel *channel_of(struct sim_evtchn *h, evtchn_port_t port)
{
	if (port == 0 || port >= PVIO_SIM_NR_PORTS ||
	    h->ch[port].kind == CH_NONE)
		return NULL;
	return &h->ch[port];
}

static int sim_evtchn_notify(struct pvio_evtchn *base, evtchn_port_t port)
{
	struct sim_evtchn *h = EVT(base);
	struct channel *c = channel_of(h, port);

	if (!c)
		return -EINVAL;
	if (c->kind == CH_UNBOUND)
		service_listener(h);
	switch (c->kind) {
	case CH_UNBOUND:
		return 0; /* Xen drops notifications on an unbound port */
	case CH_CLOSED:
		return -ENOTCONN;
	}
	static const char token = 1;
	if (send(c->fd, &token, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
		return 0;
	if (errno == EAGAIN)
		return 0; /* the peer has notifications it has not read yet */
	peer_gone(h, port);
	return -ENOTCONN;
}

static int sim_evtchn_pending(struct pvio_evtchn *base)
{
	struct sim_evtchn *h = EVT(base);
	int port = pop_ready(h);

	if (port != -EAGAIN)
		return port;
	evtchn_port_t solo = solo_port(h);
	if (solo && channel_receive(h, solo, MSG_DONTWAIT))
		return pop_ready(h);
	/* Whatever else made the fd readable (a connection, the unmask
	 * wake-up) is in the epoll set. */
	int err = poll_events(h, 0);
	if (err < 0)
		return err;
	return pop_ready(h);
}

/* Receive timeouts this close to the one wanted are left as they are (a
 * wait may end that much late, or loop once when early): a setsockopt per
 * wait would cost as much as the epoll_wait saved. */
#define SOLO_TIMEOUT_SLACK_MS 10

/* Waits up to left ms (-1: no limit) for the solo channel, blocking in its
 * recv(). 0, or -errno when the timeout cannot be set. */
static int solo_wait(struct sim_evtchn *h, evtchn_port_t solo, int left)
{
	int fd = h->ch[solo].fd;

	if (left == 0) {
		channel_receive(h, solo, MSG_DONTWAIT);
		return 0;
	}
	int have = fd == h->solo_fd ? h->solo_timeout_ms : -1;
	if ((have < 0) != (left < 0) ||
	    (left > 0 && abs(left - have) > SOLO_TIMEOUT_SLACK_MS)) {
		struct timeval tv = {0};
		if (left > 0) {
			tv.tv_sec = left / 1000;
			tv.tv_usec = (left % 1000) * 1000;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
			return -errno;
		h->solo_fd = fd;
		h->solo_timeout_ms = left;
	}
	channel_receive(h, solo, 0);
	return 0;
}

static int sim_evtchn_wait(struct pvio_evtchn *base, int timeout_ms)
{
	struct sim_evtchn *h = EVT(base);
	int64_t deadline = pvio_deadline_ms(timeout_ms);
	int port = pop_ready(h);

	while (port == -EAGAIN) {
		int left = pvio_ms_left(deadline);
		evtchn_port_t solo = solo_port(h);
		int n = solo ? solo_wait(h, solo, left) : poll_events(h, left);
		if (n < 0)
			return n;
		port = pop_ready(h);
		if (port == -EAGAIN && left == 0)
			return -ETIMEDOUT;
	}
	return port;
}

static int sim_evtchn_unmask(struct pvio_evtchn *base, evtchn_port_t port)
{
	struct sim_evtchn *h = EVT(base);
	struct channel *c = channel_of(h, port);

	if (!c)
		return -EINVAL;
	c->masked = false;
	if (c->pending) {
		c->pending = false; /* raise_port queues it again */
		raise_port(h, port);
		uint64_t one = 1;
		if (write(h->wake_fd, &one, sizeof(one)) < 0)
			return -errno;
	}
	return 0;
}

static int sim_evtchn_unbind(struct pvio_evtchn *base, evtchn_port_t port)
{
	struct sim_evtchn *h = EVT(base);
	struct channel *c = channel_of(h, port);

	if (!c)
		return -EINVAL;
	if (c->kind == CH_UNBOUND)
		service_listener(h); /* a binder may be waiting in line */
	channel_close_fd(h, c);
	*c = (struct channel){.kind = CH_NONE, .fd = -1};
	h->solo_stale = true;
	port_free(&h->ports[port]);
	return 0;
}

static int sim_evtchn_peer_closed(struct pvio_evtchn *base, evtchn_port_t port)
{
	struct sim_evtchn *h = EVT(base);
	struct channel *c = channel_of(h, port);

	if (!c)
		return -EINVAL;
	if (c->kind == CH_UNBOUND)
		service_listener(h);
	if (c->kind == CH_CONNECTED) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLRDHUP};
		if (poll(&pfd, 1, 0) == 1 &&
		    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			peer_gone(h, port);
	}
	return c->kind == CH_CLOSED;
}

static void sim_evtchn_close(struct pvio_evtchn *base)
{
	struct sim_evtchn *h = EVT(base);

	service_listener(h);
	for (evtchn_port_t port = 1; port < PVIO_SIM_NR_PORTS; port++)
		if (h->ch[port].kind != CH_NONE)
			sim_evtchn_unbind(base, port);
	while (h->nr_binding)
		close(h->binding[--h->nr_binding]);
	close(h->listen_fd);
	unlink(h->sock_path);
	close(h->wake_fd);
	close(h->epfd);
	while (h->remotes) {
		struct remote_table *r = h->remotes;
		h->remotes = r->next;
		munmap(r->ports, PORT_TABLE_BYTES);
		free(r);
	}
	munmap(h->ports, PORT_TABLE_BYTES);
	free(h);
}

const struct pvio_evtchn_ops pvio_sim_evtchn_ops = {
	.open = sim_evtchn_open,
	.close = sim_evtchn_close,
	.fd = sim_evtchn_fd,
	.alloc_unbound = sim_evtchn_alloc_unbound,
	.bind_interdomain = sim_evtchn_bind_interdomain,
	.notify = sim_evtchn_notify,
	.pending = sim_evtchn_pending,
	.wait = sim_evtchn_wait,
	.unmask = sim_evtchn_unmask,
	.unbind = sim_evtchn_unbind,
	.peer_closed = sim_evtchn_peer_closed,
};
