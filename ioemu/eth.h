/* Ethernet's CRC-32 two ways: the FCS the NICs append (IEEE 802.3,
 * reflected, inverted) and the big-endian CRC the RTL8139's multicast
 * hash takes its top 6 bits from. */
#ifndef PVIO_IOEMU_ETH_H
#define PVIO_IOEMU_ETH_H

#include <stddef.h>
#include <stdint.h>

/* The FCS of a frame (its first byte is the least significant one on the
 * wire). */
uint32_t eth_fcs32(const uint8_t *p, size_t len);
/* CRC-32 shifted MSB first, not inverted at the end (the RTL8139's MAR
 * hash index is its top 6 bits). */
uint32_t eth_crc32_be(const uint8_t *p, size_t len);

#endif
