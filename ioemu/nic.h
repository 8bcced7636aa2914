/*
 * pvio-ioemu-nic's pieces: the guest's driver of an emulated NIC. The
 * common part (nic_main.c: the guest side of the transport, its memory,
 * the TAP, the event loop) and one file per model (nic_e1000.c,
 * nic_rtl8139.c) that drives the device only through register accesses,
 * each one a trap, and through its rings in guest memory.
 */
#ifndef PVIO_IOEMU_NIC_H
#define PVIO_IOEMU_NIC_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"
#include "ioreq.h"
#include "util/pvio_log.h"

struct nic;

/* What a model's driver does, in the order Linux's drivers do it. */
struct nic_model {
	const char *name;
	/* Probe and open: reset, the MAC from the EEPROM into n->mac, rings,
	 * interrupts. -1 after a message. */
	int (*up)(struct nic *n);
	/* A TX slot is free for a frame from the TAP. */
	bool (*tx_room)(struct nic *n);
	/* Frames from the TAP while slots are free. */
	void (*tx_send)(struct nic *n);
	/* The interrupt: find out why, then move what it says. */
	void (*interrupt)(struct nic *n);
	/* The link as the NIC reports it. */
	bool (*link_up)(struct nic *n);
	/* Nonsense first, checked against the datasheet (--hostile). */
	void (*hostile)(struct nic *n);
};

extern const struct nic_model nic_e1000, nic_rtl8139;

struct nic {
	unsigned domid, devid;
	const struct nic_model *model;
	struct ioemu_vcpu *vcpu;
	struct ioemu_mem ram; /* the guest's own view of its memory */
	int tap;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	unsigned itr;
	bool dead; /* the device model is gone */
	uint64_t interrupts, tx_frames, rx_frames, rx_dropped;
	/* The models' ring positions. */
	uint32_t rx_next, tx_tail, tx_clean;
	/* --hostile: checks made and answers off the datasheet. */
	int checks, failures;
};

/* One trapped access; all ones (and n->dead, and the event loop stops)
 * once the device model does not answer. */
uint32_t nic_access(struct nic *n, uint8_t type, uint64_t addr, unsigned size,
		    uint8_t dir, uint32_t value);
/* Guest-physical address of offset off of the memory region, and where
 * it is here. */
uint64_t nic_gpa(uint32_t off);
void *nic_host(struct nic *n, uint32_t off, uint32_t len);
/* The frame in [off, off + len) of guest memory to the TAP. */
void nic_deliver(struct nic *n, uint32_t off, uint32_t len);
/* Reads one frame from the TAP into guest memory at off (at most cap
 * bytes); its length, or 0 when none is queued. */
uint32_t nic_take(struct nic *n, uint32_t off, uint32_t cap);
/* --hostile: an answer against what the datasheet says. */
void nic_expect(struct nic *n, const char *what, uint32_t got, uint32_t want);

#endif
