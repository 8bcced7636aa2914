/* The 93C46's Microwire read, clocked by the NIC's pins. */
#include "config.h"

#include "eeprom_93c46.h"

#include <string.h>

void eeprom_93c46_init(struct eeprom_93c46 *e,
		       const uint16_t words[EEPROM_93C46_WORDS])
{
	memset(e, 0, sizeof(*e));
	memcpy(e->words, words, sizeof(e->words));
	e->dout = true; /* DO floats high while not reading */
}

static void rising_edge(struct eeprom_93c46 *e, bool di)
{
	switch (e->state) {
	case EE_IDLE:
		if (di) { /* the start bit */
			e->state = EE_COMMAND;
			e->bits = 0;
			e->shift = 0;
		}
		return;
	case EE_COMMAND:
		e->shift = (uint16_t)(e->shift << 1 | di);
		/* Two opcode bits, then six address bits. */
		if (++e->bits < 8)
			return;
		if ((e->shift >> 6) == 2) {
			e->addr = e->shift & 0x3f;
			e->state = EE_READING;
			e->bitpos = 15;
			e->dout = false; /* the dummy bit */
		} else {
			e->state = EE_IGNORING;
		}
		return;
	case EE_READING:
		if (e->bitpos < 0) { /* sequential read: the next word */
			e->addr = (e->addr + 1) % EEPROM_93C46_WORDS;
			e->bitpos = 15;
		}
		e->dout = (e->words[e->addr] >> e->bitpos) & 1;
		e->bitpos--;
		return;
	case EE_IGNORING:
		return;
	}
}

void eeprom_93c46_pins(struct eeprom_93c46 *e, bool cs, bool sk, bool di)
{
	if (!cs) {
		e->state = EE_IDLE;
		e->dout = true;
	} else if (sk && !e->sk) {
		rising_edge(e, di);
	}
	e->cs = cs;
	e->sk = sk;
}

bool eeprom_93c46_dout(const struct eeprom_93c46 *e)
{
	return e->dout;
}
