/* The ioreq transport: a vCPU's trapped access and the device model's
 * answer, through a shared page in Xen's layout. */
#include "config.h"

#include "guest_mem.h"
#include "ioemu_layout.h"
#include "ioreq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IOREQ_PAGE_BYTES 4096u

_Static_assert(sizeof(shared_iopage_t) <= IOREQ_PAGE_BYTES,
	       "the ioreq slots fit one page");
_Static_assert(sizeof(ioreq_t) == 32, "Xen's ioreq_t is 32 bytes");

/* The state nibble is a bitfield: the barriers order it against the rest
 * of the slot, as QEMU's xen_rmb/xen_wmb do. */
static unsigned slot_state(volatile ioreq_t *r)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	unsigned st = r->state;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return st;
}

static void slot_set_state(volatile ioreq_t *r, unsigned st)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	r->state = st & 0xf;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

struct ioemu_vcpu {
	shared_iopage_t *page;
	struct pvio_evtchn *evtchn;
	evtchn_port_t port;
	uint64_t traps;
};

int ioemu_vcpu_create(enum pvio_platform platform, const char *page_path,
		      domid_t dm_domid, struct ioemu_vcpu **out)
{
	struct ioemu_vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	void *page;
	int err = ioemu_map_file(page_path, IOREQ_PAGE_BYTES, 1, &page);
	if (err) {
		free(v);
		return err;
	}
	v->page = page;
	if ((err = pvio_evtchn_open(platform, &v->evtchn)))
		goto fail;
	int port = pvio_evtchn_alloc_unbound(v->evtchn, dm_domid);
	if (port < 0) {
		err = port;
		goto fail;
	}
	v->port = (evtchn_port_t)port;
	/* What Xen tells the device model: the port to bind. */
	v->page->vcpu_ioreq[0].vp_eport = v->port;
	slot_set_state(&v->page->vcpu_ioreq[0], STATE_IOREQ_NONE);
	*out = v;
	return 0;
fail:
	ioemu_vcpu_destroy(v);
	return err;
}

void ioemu_vcpu_destroy(struct ioemu_vcpu *v)
{
	if (!v)
		return;
	if (v->evtchn)
		pvio_evtchn_close(v->evtchn);
	ioemu_unmap_file(v->page, IOREQ_PAGE_BYTES);
	free(v);
}

uint64_t ioemu_vcpu_traps(const struct ioemu_vcpu *v)
{
	return v->traps;
}

int ioemu_vcpu_access(struct ioemu_vcpu *v, uint8_t type, uint64_t addr,
		      uint32_t size, uint8_t dir, uint64_t *data)
{
	volatile ioreq_t *r = &v->page->vcpu_ioreq[0];
	r->addr = addr;
	r->data = dir == IOREQ_WRITE ? *data : 0;
	r->count = 1;
	r->size = size;
	r->data_is_ptr = 0;
	r->dir = dir & 1;
	r->df = 0;
	r->type = type;
	slot_set_state(r, STATE_IOREQ_READY);
	v->traps++;
	int err = pvio_evtchn_notify(v->evtchn, v->port);
	if (err)
		return err;
	/* The vCPU is blocked until the answer, as on Xen; what the device
	 * model cannot answer any more (it died) ends the wait. */
	while (slot_state(r) != STATE_IORESP_READY) {
		int port = pvio_evtchn_wait(v->evtchn, 1000);
		if (port >= 0) {
			pvio_evtchn_unmask(v->evtchn, (evtchn_port_t)port);
			continue;
		}
		if (port != -ETIMEDOUT)
			return port;
		if (slot_state(r) == STATE_IORESP_READY)
			break;
		if (pvio_evtchn_peer_closed(v->evtchn, v->port) == 1)
			return -ENOTCONN;
	}
	if (dir == IOREQ_READ)
		*data = r->data;
	slot_set_state(r, STATE_IOREQ_NONE);
	return 0;
}

struct ioemu_ioreq_server {
	shared_iopage_t *page;
	struct pvio_evtchn *evtchn;
	evtchn_port_t ports[IOEMU_VCPUS_MAX];
	unsigned nr_vcpus;
};

int ioemu_server_open(const char *page_path, domid_t guest_domid,
		      struct pvio_evtchn *evtchn,
		      struct ioemu_ioreq_server **out)
{
	struct ioemu_ioreq_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	void *page;
	int err = ioemu_map_file(page_path, IOREQ_PAGE_BYTES, 0, &page);
	if (err) {
		free(s);
		return err;
	}
	s->page = page;
	s->evtchn = evtchn;
	s->nr_vcpus = IOEMU_VCPUS_MAX;
	for (unsigned i = 0; i < s->nr_vcpus; i++) {
		evtchn_port_t rport = s->page->vcpu_ioreq[i].vp_eport;
		int port = pvio_evtchn_bind_interdomain(evtchn, guest_domid,
							rport);
		if (port < 0) {
			err = port;
			s->nr_vcpus = i;
			ioemu_server_close(s);
			return err;
		}
		s->ports[i] = (evtchn_port_t)port;
	}
	*out = s;
	return 0;
}

void ioemu_server_close(struct ioemu_ioreq_server *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nr_vcpus; i++)
		pvio_evtchn_unbind(s->evtchn, s->ports[i]);
	ioemu_unmap_file(s->page, IOREQ_PAGE_BYTES);
	free(s);
}

bool ioemu_server_owns_port(const struct ioemu_ioreq_server *s,
			    evtchn_port_t port)
{
	for (unsigned i = 0; i < s->nr_vcpus; i++)
		if (s->ports[i] == port)
			return true;
	return false;
}

evtchn_port_t ioemu_server_port(const struct ioemu_ioreq_server *s)
{
	return s->ports[0];
}

int ioemu_server_serve(struct ioemu_ioreq_server *s, evtchn_port_t port,
		       ioemu_ioreq_fn fn, void *opaque)
{
	unsigned i = 0;
	while (i < s->nr_vcpus && s->ports[i] != port)
		i++;
	if (i == s->nr_vcpus)
		return 0;
	volatile ioreq_t *r = &s->page->vcpu_ioreq[i];
	if (slot_state(r) != STATE_IOREQ_READY)
		return 0;
	slot_set_state(r, STATE_IOREQ_INPROCESS);
	/* Copy, then emulate: the guest may rewrite the slot meanwhile. */
	ioreq_t req;
	req.addr = r->addr;
	req.data = r->data;
	req.count = r->count;
	req.size = r->size;
	req.vp_eport = r->vp_eport;
	req.state = STATE_IOREQ_INPROCESS;
	req.data_is_ptr = r->data_is_ptr;
	req.dir = r->dir;
	req.df = r->df;
	req.type = r->type;
	fn(opaque, &req);
	if (req.dir == IOREQ_READ)
		r->data = req.data;
	slot_set_state(r, STATE_IORESP_READY);
	int err = pvio_evtchn_notify(s->evtchn, port);
	return err ? err : 1;
}
