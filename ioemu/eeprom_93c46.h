/*
 * A 93C46 serial EEPROM (64 words of 16 bits, Microwire) as the NICs'
 * pins reach it: the RTL8139's 9346CR and the 82540EM's EECD bit-bang
 * CS, SK and DI and sample DO. READ (start bit, opcode 10, 6 address
 * bits) answers a dummy 0 and then the word MSB first, one bit per rising
 * SK, continuing into the next word (sequential read); leading zeros
 * before the start bit are ignored, and CS low ends any command. The
 * other commands (write, erase, EWEN/EWDS) are taken and ignored: the
 * emulated EEPROM is read-only.
 */
#ifndef PVIO_IOEMU_EEPROM_93C46_H
#define PVIO_IOEMU_EEPROM_93C46_H

#include <stdbool.h>
#include <stdint.h>

#define EEPROM_93C46_WORDS 64u

struct eeprom_93c46 {
	uint16_t words[EEPROM_93C46_WORDS];
	bool cs, sk, dout;
	enum { EE_IDLE, EE_COMMAND, EE_READING, EE_IGNORING } state;
	unsigned bits;	/* command bits taken after the start bit */
	uint16_t shift; /* them */
	unsigned addr;
	int bitpos; /* the data bit DO shows next (15..0) */
};

/* Words as given; pins low. */
void eeprom_93c46_init(struct eeprom_93c46 *e,
		       const uint16_t words[EEPROM_93C46_WORDS]);
/* The pins the NIC drives now. */
void eeprom_93c46_pins(struct eeprom_93c46 *e, bool cs, bool sk, bool di);
/* What DO shows. */
bool eeprom_93c46_dout(const struct eeprom_93c46 *e);

#endif
