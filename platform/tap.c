/* TAP devices: /dev/net/tun and the interface ioctls (pvio_tap.h). */
#include "config.h"

#include "pvio_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

_Static_assert(PVIO_TAP_VNET_HDR_BYTES == sizeof(struct virtio_net_hdr),
	       "the TAP's default vnet header is struct virtio_net_hdr");

static int ifreq_for(const char *name, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	if (strlen(name) >= sizeof(ifr->ifr_name))
		return -ENAMETOOLONG;
	strcpy(ifr->ifr_name, name);
	return 0;
}

/* A descriptor on the TAP ifr names (made if it does not exist). */
static int tap_attach(struct ifreq *ifr, short extra_flags)
{
	int err;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ifr->ifr_flags =
		(short)(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | extra_flags);
	int hdr = (int)PVIO_TAP_VNET_HDR_BYTES;
	if (ioctl(fd, TUNSETIFF, ifr) < 0 ||
	    ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int pvio_tap_open(const char *name)
{
	struct ifreq ifr;
	int err = ifreq_for(name, &ifr);
	return err ? err : tap_attach(&ifr, 0);
}

int pvio_tap_open_multi_queue(const char *name)
{
	struct ifreq ifr;
	int err = ifreq_for(name, &ifr);
	return err ? err : tap_attach(&ifr, IFF_MULTI_QUEUE);
}

int pvio_tap_open_queue(int fd)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	/* By its name now: a hotplug script may have renamed it. */
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	if (!(ifr.ifr_flags & IFF_MULTI_QUEUE))
		return -EINVAL;
	return tap_attach(&ifr, IFF_MULTI_QUEUE);
}

int pvio_tap_set_offload(int fd, unsigned tun_flags)
{
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tun_flags) < 0)
		return -errno;
	return 0;
}

/* The interface ioctls go through any socket of the namespace. */
static int if_ioctl(unsigned long request, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	int err = ioctl(s, request, ifr) < 0 ? -errno : 0;
	close(s);
	return err;
}

int pvio_tap_set_mac(const char *name, const uint8_t mac[6])
{
	struct ifreq ifr;
	int err = ifreq_for(name, &ifr);
	if (err)
		return err;
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	return if_ioctl(SIOCSIFHWADDR, &ifr);
}

int pvio_tap_set_mtu(const char *name, unsigned mtu)
{
	struct ifreq ifr;
	int err = ifreq_for(name, &ifr);
	if (err)
		return err;
	ifr.ifr_mtu = (int)mtu;
	return if_ioctl(SIOCSIFMTU, &ifr);
}

int pvio_tap_get_mtu(int fd, unsigned *mtu)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	int err = if_ioctl(SIOCGIFMTU, &ifr);
	if (!err)
		*mtu = (unsigned)ifr.ifr_mtu;
	return err;
}

int pvio_tap_set_up(const char *name, bool up)
{
	struct ifreq ifr;
	int err = ifreq_for(name, &ifr);
	if (err)
		return err;
	err = if_ioctl(SIOCGIFFLAGS, &ifr);
	if (err)
		return err;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	return if_ioctl(SIOCSIFFLAGS, &ifr);
}
