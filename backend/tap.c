/* TAP devices: open, virtio-net header, offloads. */
#include "config.h"

#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int tap_open(const char *name, unsigned offloads, char *err, size_t err_size)
{
	struct ifreq ifr;
	if (strlen(name) >= IFNAMSIZ) {
		snprintf(err, err_size, "interface name %s is longer than %d",
			 name, IFNAMSIZ - 1);
		return -ENAMETOOLONG;
	}
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, err_size, "open /dev/net/tun: %s", strerror(e));
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	const char *step = "TUNSETIFF";
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	int hdr = (int)sizeof(struct virtio_net_hdr);
	step = "TUNSETVNETHDRSZ";
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		goto fail;
	step = "TUNSETOFFLOAD";
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)offloads) < 0)
		goto fail;
	return fd;
fail:;
	int e = errno;
	snprintf(err, err_size, "%s on %s: %s", step, name, strerror(e));
	close(fd);
	return -e;
}

int tap_mtu(int fd)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	int rc = ioctl(sock, SIOCGIFMTU, &ifr) < 0 ? -errno : ifr.ifr_mtu;
	close(sock);
	return rc;
}
