/*
 * TAP devices for the drivers: open one the way both pvio drivers need it
 * (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, non-blocking, not persistent) and
 * set its offloads, MAC, MTU and link state through ioctls.
 *
 * Self-contained (no pvio-netfront state), so that it can move to a room
 * both drivers share. Every function returns 0 (or a descriptor) on
 * success and a negative errno on failure.
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
 * descriptor (O_NONBLOCK, O_CLOEXEC). The device lives as long as the
 * descriptor: closing it deletes the interface.
 */
int pvio_tap_open(const char *name);

/* TUNSETOFFLOAD: TUN_F_* flags (TUN_F_CSUM: the kernel may hand frames
 * with a partial checksum, flagged VIRTIO_NET_HDR_F_NEEDS_CSUM). */
int pvio_tap_set_offload(int fd, unsigned tun_flags);

int pvio_tap_set_mac(const char *name, const uint8_t mac[6]);
int pvio_tap_set_mtu(const char *name, unsigned mtu);
int pvio_tap_get_mtu(const char *name, unsigned *mtu);
/* IFF_UP on or off; other flags are kept. */
int pvio_tap_set_up(const char *name, bool up);

/* "00:16:3e:01:02:03" -> mac. -EINVAL unless six two-digit hex bytes. */
int pvio_tap_parse_mac(const char *text, uint8_t mac[6]);

#endif
