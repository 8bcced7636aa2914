/* Ethernet CRCs for the emulated NICs. */
#include "config.h"

#include "eth.h"

#include <stdbool.h>

uint32_t eth_fcs32(const uint8_t *p, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t eth_crc32_be(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = p[i];
		for (int k = 0; k < 8; k++, b >>= 1)
			crc = ((crc >> 31) ^ (b & 1)) ? (crc << 1) ^ 0x04c11db7u
						      : crc << 1;
	}
	return crc;
}
