/*
 * TAP devices for the drivers: a small API over /dev/net/tun, kept apart
 * so that the frontend's and the backend's copies can become one.
 */
#ifndef PVIO_TAP_H
#define PVIO_TAP_H

#include <stddef.h>

/*
 * Opens a new TAP named name (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, not
 * persistent: it goes when the descriptor closes), non-blocking and
 * close-on-exec, with the virtio-net header of struct virtio_net_hdr and
 * the TUN_F_* offloads given. Returns the descriptor, or -errno with err
 * saying which step failed.
 */
int tap_open(const char *name, unsigned offloads, char *err, size_t err_size);

/* The MTU of the TAP behind fd (whatever it was renamed to), or -errno. */
int tap_mtu(int fd);

#endif
