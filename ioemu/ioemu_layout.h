/*
 * Where an emulated NIC's shared state lives on the sim platform, and the
 * guest-physical layout the guest driver and the device model agree on
 * (on real Xen the firmware assigns the BARs and Xen owns the ioreq page).
 * Header only, so that the toolstack can name the files it cleans up
 * without linking ioemu/.
 *
 *   <rundir>/dom<D>/ioemu-<N>-ioreq  one page: struct shared_iopage
 *                                    (xen/hvm/ioreq.h), one slot per vCPU
 *   <rundir>/dom<D>/ioemu-<N>-ram    the guest memory the device model
 *                                    maps (its DMA buffers and rings)
 */
#ifndef PVIO_IOEMU_LAYOUT_H
#define PVIO_IOEMU_LAYOUT_H

#include "pvio_sim_layout.h"

/* printf format: run directory, domid, devid (all unsigned but the first). */
#define IOEMU_SIM_IOREQ_FMT PVIO_SIM_DOMAIN_DIR_FMT "/ioemu-%u-ioreq"
#define IOEMU_SIM_RAM_FMT   PVIO_SIM_DOMAIN_DIR_FMT "/ioemu-%u-ram"

/* The vCPUs an emulated guest has (slots in the shared ioreq page). */
#define IOEMU_VCPUS_MAX 1u

/* Where the guest's memory region starts in guest-physical space, and its
 * size: what every descriptor's buffer address must fall into. */
#define IOEMU_RAM_GPA	0x40000000ull
#define IOEMU_RAM_BYTES (2u << 20)

/* The e1000's BARs: 128 KiB of registers (MMIO, IOREQ_TYPE_COPY) and the
 * 8-byte IOADDR/IODATA window (port I/O, IOREQ_TYPE_PIO). */
#define IOEMU_E1000_MMIO_BASE  0xf0000000ull
#define IOEMU_E1000_MMIO_BYTES 0x20000u
#define IOEMU_E1000_PIO_BASE   0xc000u
#define IOEMU_E1000_PIO_BYTES  8u

/* The RTL8139's I/O BAR (256 bytes of registers, port I/O). */
#define IOEMU_RTL8139_PIO_BASE	0xc100u
#define IOEMU_RTL8139_PIO_BYTES 0x100u

/* The xenstore directories of emulated NIC <N> of domain <D> (docs/ioemu.md):
 * the device model's configuration (dom0's, readable by the guest) and the
 * guest's side (the guest's, readable by dom0). */
#define IOEMU_DM_DIR_FMT    "/local/domain/0/device-model/%u/vif/%u"
#define IOEMU_GUEST_DIR_FMT "/local/domain/%u/device/ioemu/%u"

#endif
