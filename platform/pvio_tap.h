/*
 * TAP devices, the host side of every pvio NIC (a guest's eth<N>, dom0's
 * vif<D>.<N>): open one the way the drivers need it (IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR with struct virtio_net_hdr, non-blocking, not persistent)
 * and set its offloads, MAC, MTU and link state through ioctls. One copy
 * for both drivers (and the benchmark's relay).
 *
 * Every function returns 0 (or a descriptor) on success and a negative
 * errno on failure.
 */
#ifndef PVIO_TAP_H
#define PVIO_TAP_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

/* Bytes of the virtio-net header the TAP puts before every frame (the
 * kernel's default vnet_hdr_sz: struct virtio_net_hdr). */
#define PVIO_TAP_VNET_HDR_BYTES 10u

/*
 * Create the TAP `name` in the caller's network namespace and return its
 * descriptor (O_NONBLOCK, O_CLOEXEC), its virtio-net header set to
 * PVIO_TAP_VNET_HDR_BYTES. The device lives as long as the descriptor:
 * closing it deletes the interface.
 */
int pvio_tap_open(const char *name);

/*
 * The same, IFF_MULTI_QUEUE: the first queue of a TAP that
 * pvio_tap_open_queue gives more. The kernel spreads the frames it sends
 * over the queues by flow (and takes frames written to any); the device
 * lives until its last queue's descriptor is closed.
 */
int pvio_tap_open_multi_queue(const char *name);

/* Another queue (a new descriptor, as pvio_tap_open's) of the
 * multi-queue TAP behind fd, whatever it is called now. -EINVAL when it
 * is not multi-queue. Closing it detaches the queue only. */
int pvio_tap_open_queue(int fd);

/* TUNSETOFFLOAD: TUN_F_* flags (TUN_F_CSUM: the kernel may hand frames
 * with a partial checksum, flagged VIRTIO_NET_HDR_F_NEEDS_CSUM). */
int pvio_tap_set_offload(int fd, unsigned tun_flags);

int pvio_tap_set_mac(const char *name, const uint8_t mac[6]);
int pvio_tap_set_mtu(const char *name, unsigned mtu);
/* The MTU of the TAP behind fd, under whatever name it has now (a hotplug
 * script may have renamed it). */
int pvio_tap_get_mtu(int fd, unsigned *mtu);
/* IFF_UP on or off; other flags are kept. */
int pvio_tap_set_up(const char *name, bool up);

#endif
