/*
 * The emulation transport, in Xen's layout: a shared page of struct
 * shared_iopage (xen/hvm/ioreq.h), one ioreq_t slot per vCPU, each with
 * its event channel (vp_eport).
 *
 * The guest side (ioemu_vcpu) plays what the vCPU and Xen do on a trapped
 * access: fill addr, size, data, dir and type (IOREQ_TYPE_COPY for MMIO,
 * IOREQ_TYPE_PIO for port I/O), set STATE_IOREQ_READY, notify vp_eport,
 * and block until the device model sets STATE_IORESP_READY; then take the
 * data of a read and return the slot to STATE_IOREQ_NONE.
 *
 * The device model side (ioemu_ioreq_server) is QEMU's cpu_get_ioreq /
 * handle_ioreq: on a notification it takes a READY slot (INPROCESS),
 * emulates it, writes the result and sets IORESP_READY, then notifies.
 *
 * On sim the page is a file the guest creates (ioemu_layout.h) and the
 * vCPU's port is allocated unbound for the device model's domain and
 * written into vp_eport, as Xen does for an ioreq server. Errors are
 * negative errno: -ENOTCONN when the other side is gone.
 */
#ifndef PVIO_IOEMU_IOREQ_H
#define PVIO_IOEMU_IOREQ_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/hvm/ioreq.h>

#include "pvio_evtchn.h"

/* The guest's vCPU. */
struct ioemu_vcpu;

/* Create the shared page at page_path and the vCPU's port for dm_domid. */
int ioemu_vcpu_create(enum pvio_platform platform, const char *page_path,
		      domid_t dm_domid, struct ioemu_vcpu **out);
void ioemu_vcpu_destroy(struct ioemu_vcpu *v);

/*
 * One trapped access of size bytes (1, 2, 4 or 8) at addr; dir IOREQ_READ
 * or IOREQ_WRITE, *data the value written or read. Blocks until the device
 * model answers; -ENOTCONN when it is gone.
 */
int ioemu_vcpu_access(struct ioemu_vcpu *v, uint8_t type, uint64_t addr,
		      uint32_t size, uint8_t dir, uint64_t *data);
/* Accesses made so far (each one a trap). */
uint64_t ioemu_vcpu_traps(const struct ioemu_vcpu *v);

/* The device model's end of one guest's page. */
struct ioemu_ioreq_server;

/* The emulation of one access: fill req->data for a read. */
typedef void (*ioemu_ioreq_fn)(void *opaque, ioreq_t *req);

/*
 * Map the guest's page (sim: page_path) and bind every vCPU's vp_eport of
 * guest_domid on evtchn (the caller's handle, which it polls).
 */
int ioemu_server_open(const char *page_path, domid_t guest_domid,
		      struct pvio_evtchn *evtchn,
		      struct ioemu_ioreq_server **out);
void ioemu_server_close(struct ioemu_ioreq_server *s);

/* port is one of the server's vCPU ports. */
bool ioemu_server_owns_port(const struct ioemu_ioreq_server *s,
			    evtchn_port_t port);
/* One of its ports, for pvio_evtchn_peer_closed. */
evtchn_port_t ioemu_server_port(const struct ioemu_ioreq_server *s);

/*
 * Serve what the vCPU of port has READY (a slot in another state is left
 * alone: a guest writing nonsense there gets no answer). Returns 1 when a
 * request was served, 0 when none was ready, or -errno from the notify.
 */
int ioemu_server_serve(struct ioemu_ioreq_server *s, evtchn_port_t port,
		       ioemu_ioreq_fn fn, void *opaque);

#endif
