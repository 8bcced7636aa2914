/*
 * The TAP side: translation between netif's checksum flags and the
 * virtio-net header a TAP opened with IFF_VNET_HDR reads and writes, and
 * the software checksum for a peer that takes no offload. The header's
 * fields are in the host's byte order (a TAP's default on a little-endian
 * host, and what TUNSETVNETLE leaves alone there).
 */
#include "config.h"

#include "netif.h"

#include <errno.h>
#include <string.h>

#define ETHERTYPE_IPV4	0x0800u
#define ETHERTYPE_IPV6	0x86ddu
#define ETHERTYPE_VLAN	0x8100u
#define ETHERTYPE_QINQ	0x88a8u
#define IPPROTO_NUM_TCP 6u
#define IPPROTO_NUM_UDP 17u
#define TCP_CSUM_OFFSET 16u
#define UDP_CSUM_OFFSET 6u
#define TCP_MIN_HLEN	20u
#define UDP_HLEN	8u
#define IPV4_MIN_HLEN	20u
#define IPV6_HLEN	40u
/* IPv6 extension headers walked before giving up. */
#define IPV6_MAX_EXT_HEADERS 8u

int netif_vnet_to_tx(const struct virtio_net_hdr *vnet, uint16_t *flags,
		     uint8_t *gso_type, uint16_t *gso_size)
{
	*flags = 0;
	*gso_type = XEN_NETIF_GSO_TYPE_NONE;
	*gso_size = 0;
	switch (vnet->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (vnet->gso_size == 0)
			return -EINVAL;
		*gso_type = vnet->gso_type == VIRTIO_NET_HDR_GSO_TCPV4
				    ? XEN_NETIF_GSO_TYPE_TCPV4
				    : XEN_NETIF_GSO_TYPE_TCPV6;
		*gso_size = vnet->gso_size;
		*flags = NETTXF_csum_blank | NETTXF_data_validated;
		return 0;
	default:
		/* UDP, ECN: netif has no GSO type for them. */
		return -EOPNOTSUPP;
	}
	if (vnet->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		*flags |= NETTXF_csum_blank | NETTXF_data_validated;
	else if (vnet->flags & VIRTIO_NET_HDR_F_DATA_VALID)
		*flags |= NETTXF_data_validated;
	return 0;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Where a frame's L4 header is and where in it the checksum goes. */
struct l4_place {
	size_t start;  /* offset of the TCP or UDP header */
	size_t end;    /* end of the IP payload it belongs to */
	uint8_t proto; /* IPPROTO_NUM_TCP or _UDP */
};

/*
 * The finders read only the first avail bytes of a frame of len bytes (the
 * headers; a frame in pieces gives its first): a header past avail is cut
 * short, a length past len a lie.
 */
static int find_ipv4_l4(const uint8_t *frame, size_t avail, size_t len,
			size_t l3, struct l4_place *place)
{
	if (avail < l3 + IPV4_MIN_HLEN)
		return -EINVAL;
	const uint8_t *ip = frame + l3;
	if (ip[0] >> 4 != 4)
		return -EINVAL;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	size_t total = get_be16(ip + 2);
	if (ihl < IPV4_MIN_HLEN || total < ihl || l3 + total > len)
		return -EINVAL;
	/* A fragment's checksum covers data this frame does not have. */
	if (get_be16(ip + 6) & 0x3fff)
		return -EPROTONOSUPPORT;
	place->proto = ip[9];
	place->start = l3 + ihl;
	place->end = l3 + total;
	return 0;
}

static bool ipv6_ext_header(uint8_t next)
{
	return next == 0 /* hop-by-hop */ || next == 43 /* routing */ ||
	       next == 60 /* destination options */ ||
	       next == 44 /* fragment */;
}

static int find_ipv6_l4(const uint8_t *frame, size_t avail, size_t len,
			size_t l3, struct l4_place *place)
{
	if (avail < l3 + IPV6_HLEN)
		return -EINVAL;
	const uint8_t *ip = frame + l3;
	if (ip[0] >> 4 != 6)
		return -EINVAL;
	size_t end = l3 + IPV6_HLEN + get_be16(ip + 4);
	if (end > len)
		return -EINVAL;
	uint8_t next = ip[6];
	size_t off = l3 + IPV6_HLEN;
	for (unsigned i = 0; ipv6_ext_header(next); i++) {
		if (i == IPV6_MAX_EXT_HEADERS)
			return -EPROTONOSUPPORT;
		if (off + 8 > end || off + 8 > avail)
			return -EINVAL;
		const uint8_t *ext = frame + off;
		size_t ext_len;
		if (next == 44) {
			/* Offset or more-fragments set: a real fragment. */
			if (get_be16(ext + 2) & 0xfff9)
				return -EPROTONOSUPPORT;
			ext_len = 8;
		} else {
			ext_len = ((size_t)ext[1] + 1) * 8;
		}
		if (off + ext_len > end)
			return -EINVAL;
		next = ext[0];
		off += ext_len;
	}
	place->proto = next;
	place->start = off;
	place->end = end;
	return 0;
}

/* The checksum's place in a TCP or UDP frame (as skb_checksum_setup). */
struct csum_place {
	uint16_t start;	    /* of the L4 header */
	uint16_t offset;    /* of the checksum in it */
	uint16_t l4_hlen;   /* the L4 header's length */
	uint16_t ethertype; /* ETHERTYPE_IPV4 or _IPV6 */
	uint8_t proto;	    /* IPPROTO_NUM_TCP or _UDP */
};

static int find_csum(const uint8_t *frame, size_t avail, size_t len,
		     struct csum_place *out)
{
	struct l4_place place;
	size_t l3 = NETIF_ETH_HLEN;
	int rc;

	if (avail > len)
		avail = len;
	if (avail < NETIF_ETH_HLEN)
		return -EINVAL;
	uint16_t ethertype = get_be16(frame + 12);
	if (ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ) {
		if (avail < NETIF_ETH_HLEN + 4)
			return -EINVAL;
		ethertype = get_be16(frame + 16);
		l3 += 4;
	}
	if (ethertype == ETHERTYPE_IPV4)
		rc = find_ipv4_l4(frame, avail, len, l3, &place);
	else if (ethertype == ETHERTYPE_IPV6)
		rc = find_ipv6_l4(frame, avail, len, l3, &place);
	else
		return -EPROTONOSUPPORT;
	if (rc < 0)
		return rc;

	/* The L4 header, whole within the end of its IP packet and within
	 * what was given to read. */
	size_t offset, hlen;
	if (place.proto == IPPROTO_NUM_TCP) {
		if (place.start + TCP_MIN_HLEN > place.end ||
		    place.start + TCP_MIN_HLEN > avail)
			return -EINVAL;
		hlen = (size_t)(frame[place.start + 12] >> 4) * 4;
		if (hlen < TCP_MIN_HLEN || place.start + hlen > place.end ||
		    place.start + hlen > avail)
			return -EINVAL;
		offset = TCP_CSUM_OFFSET;
	} else if (place.proto == IPPROTO_NUM_UDP) {
		if (place.start + UDP_HLEN > place.end ||
		    place.start + UDP_HLEN > avail)
			return -EINVAL;
		offset = UDP_CSUM_OFFSET;
		hlen = UDP_HLEN;
	} else {
		return -EPROTONOSUPPORT;
	}
	if (place.start > UINT16_MAX - hlen)
		return -EINVAL;
	out->start = (uint16_t)place.start;
	out->offset = (uint16_t)offset;
	out->l4_hlen = (uint16_t)hlen;
	out->ethertype = ethertype;
	out->proto = place.proto;
	return 0;
}

int netif_vnet_for_packet(bool csum_blank, bool data_validated,
			  uint8_t gso_type, uint16_t gso_size,
			  const uint8_t *head, size_t head_len, size_t len,
			  struct virtio_net_hdr *vnet)
{
	struct csum_place place;

	memset(vnet, 0, sizeof(*vnet));
	vnet->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	if (gso_type != XEN_NETIF_GSO_TYPE_NONE) {
		if (gso_size < NETIF_GSO_MIN_MSS ||
		    (gso_type != XEN_NETIF_GSO_TYPE_TCPV4 &&
		     gso_type != XEN_NETIF_GSO_TYPE_TCPV6))
			return -EINVAL;
		int rc = find_csum(head, head_len, len, &place);
		if (rc < 0)
			return rc;
		uint16_t want = gso_type == XEN_NETIF_GSO_TYPE_TCPV4
					? ETHERTYPE_IPV4
					: ETHERTYPE_IPV6;
		if (place.proto != IPPROTO_NUM_TCP || place.ethertype != want)
			return -EINVAL;
		vnet->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vnet->gso_type = gso_type == XEN_NETIF_GSO_TYPE_TCPV4
					 ? VIRTIO_NET_HDR_GSO_TCPV4
					 : VIRTIO_NET_HDR_GSO_TCPV6;
		vnet->gso_size = gso_size;
		vnet->csum_start = place.start;
		vnet->csum_offset = place.offset;
		vnet->hdr_len = (uint16_t)(place.start + place.l4_hlen);
		return 0;
	}
	if (csum_blank) {
		int rc = find_csum(head, head_len, len, &place);

		if (rc < 0)
			return rc;
		vnet->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vnet->csum_start = place.start;
		vnet->csum_offset = place.offset;
		/* What the TAP would round it up to anyway. */
		vnet->hdr_len = (uint16_t)(place.start + place.offset + 2);
	} else if (data_validated) {
		vnet->flags = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	return 0;
}

int netif_vnet_for_frame(bool csum_blank, bool data_validated,
			 const uint8_t *frame, size_t len,
			 struct virtio_net_hdr *vnet)
{
	return netif_vnet_for_packet(csum_blank, data_validated,
				     XEN_NETIF_GSO_TYPE_NONE, 0, frame, len,
				     len, vnet);
}

int netif_vnet_for_gso_frame(uint8_t gso_type, uint16_t gso_size,
			     const uint8_t *frame, size_t len,
			     struct virtio_net_hdr *vnet)
{
	if (gso_type == XEN_NETIF_GSO_TYPE_NONE) {
		memset(vnet, 0, sizeof(*vnet));
		return -EINVAL;
	}
	return netif_vnet_for_packet(true, true, gso_type, gso_size, frame, len,
				     len, vnet);
}

int netif_checksum_fill(uint8_t *frame, size_t len, uint16_t csum_start,
			uint16_t csum_offset)
{
	struct iovec iov = {frame, len};

	return netif_checksum_fill_iov(&iov, 1, len, csum_start, csum_offset);
}

/* The byte at offset at of the frame in iov (the caller checked it lies
 * within). */
static uint8_t *iov_byte(const struct iovec *iov, unsigned n, size_t at)
{
	for (unsigned i = 0; i < n; i++) {
		if (at < iov[i].iov_len)
			return (uint8_t *)iov[i].iov_base + at;
		at -= iov[i].iov_len;
	}
	return NULL;
}

int netif_checksum_fill_iov(const struct iovec *iov, unsigned n, size_t len,
			    uint16_t csum_start, uint16_t csum_offset)
{
	size_t field = (size_t)csum_start + csum_offset;
	size_t total = 0;

	for (unsigned i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (total < len)
		return -EINVAL;
	if (field + 2 > len)
		return -EINVAL;
	/*
	 * Sum from csum_start in 16-bit words counted from it, across the
	 * pieces: odd whether a byte is a high or a low one carries over.
	 */
	uint64_t sum = 0;
	size_t pos = 0;
	bool high = true;
	for (unsigned i = 0; i < n && pos < len; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t piece = iov[i].iov_len;
		if (pos + piece > len)
			piece = len - pos;
		size_t from = 0;
		if (pos + piece <= csum_start) {
			pos += piece;
			continue;
		}
		if (pos < csum_start)
			from = csum_start - pos;
		size_t j = from;
		if (!high && j < piece) {
			sum += p[j++];
			high = true;
		}
		for (; j + 1 < piece; j += 2)
			sum += get_be16(p + j);
		if (j < piece) {
			sum += (uint64_t)p[j] << 8;
			high = false;
		}
		pos += piece;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t csum = (uint16_t)~sum;
	/* 0 means "no checksum" to UDP; 0xffff is the same sum to TCP. */
	if (csum == 0)
		csum = 0xffff;
	*iov_byte(iov, n, field) = (uint8_t)(csum >> 8);
	*iov_byte(iov, n, field + 1) = (uint8_t)csum;
	return 0;
}
