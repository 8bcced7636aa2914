/*
 * The Realtek RTL8139C registers (I/O BAR, 256 bytes), bits and the RX
 * ring buffer's packet header, as the RTL8139 datasheet defines them.
 * Shared by the device model and the guest driver.
 */
#ifndef PVIO_IOEMU_RTL8139_REGS_H
#define PVIO_IOEMU_RTL8139_REGS_H

#define RTL_IDR0    0x00 /* 6 bytes: the MAC */
#define RTL_MAR0    0x08 /* 8 bytes: multicast hash */
#define RTL_TSD0    0x10 /* 4 dwords: transmit status of descriptor 0-3 */
#define RTL_TSAD0   0x20 /* 4 dwords: transmit start address 0-3 */
#define RTL_RBSTART 0x30
#define RTL_CR	    0x37
#define RTL_CAPR    0x38 /* 16 bits */
#define RTL_CBR	    0x3a /* 16 bits, read-only */
#define RTL_IMR	    0x3c /* 16 bits */
#define RTL_ISR	    0x3e /* 16 bits, write 1 to clear */
#define RTL_TCR	    0x40
#define RTL_RCR	    0x44
#define RTL_MPC	    0x4c /* missed packets, 24 bits; a write clears */
#define RTL_9346CR  0x50
#define RTL_CONFIG0 0x51
#define RTL_CONFIG1 0x52
#define RTL_MSR	    0x58
#define RTL_CONFIG3 0x59
#define RTL_CONFIG4 0x5a
#define RTL_TSAD    0x60 /* 16 bits: the four descriptors' status */
#define RTL_BMCR    0x62
#define RTL_BMSR    0x64
#define RTL_NR_TX   4u
#define RTL_REGS    0x100u

/* CR */
#define RTL_CR_BUFE (1u << 0)
#define RTL_CR_TE   (1u << 2)
#define RTL_CR_RE   (1u << 3)
#define RTL_CR_RST  (1u << 4)
/* ISR / IMR */
#define RTL_INT_ROK	(1u << 0)
#define RTL_INT_RER	(1u << 1)
#define RTL_INT_TOK	(1u << 2)
#define RTL_INT_TER	(1u << 3)
#define RTL_INT_RXOVW	(1u << 4)
#define RTL_INT_LINKCHG (1u << 5)
#define RTL_INT_FOVW	(1u << 6)
#define RTL_INT_TIMEOUT (1u << 14)
#define RTL_INT_SERR	(1u << 15)
#define RTL_INT_MASK	0xe07fu
/* TSD */
#define RTL_TSD_SIZE_MASK 0x1fffu
#define RTL_TSD_OWN	  (1u << 13)
#define RTL_TSD_TUN	  (1u << 14)
#define RTL_TSD_TOK	  (1u << 15)
#define RTL_TSD_TABT	  (1u << 30)
/* The largest frame the TX FIFO takes. */
#define RTL_TX_MAX 1792u
/* TCR: the hardware version bits of an RTL8139C (HWVERID 1110100). */
#define RTL_TCR_HWVER_8139C 0x74000000u
#define RTL_TCR_HWVER_MASK  0x7cc00000u
/* RCR */
#define RTL_RCR_AAP	    (1u << 0)
#define RTL_RCR_APM	    (1u << 1)
#define RTL_RCR_AM	    (1u << 2)
#define RTL_RCR_AB	    (1u << 3)
#define RTL_RCR_WRAP	    (1u << 7)
#define RTL_RCR_RBLEN_SHIFT 11
/* 9346CR: EEM 00 normal, 10 EEPROM programming (the pins below reach
 * the 93C46), 11 configuration registers writable. */
#define RTL_9346_EEM_SHIFT 6
#define RTL_9346_EEM_PROG  2u
#define RTL_9346_EEM_CFG   3u
#define RTL_9346_EECS	   (1u << 3)
#define RTL_9346_EESK	   (1u << 2)
#define RTL_9346_EEDI	   (1u << 1)
#define RTL_9346_EEDO	   (1u << 0)
/* MSR: LINKB is the inverse of the link. */
#define RTL_MSR_LINKB (1u << 2)
/* BMSR: link up, autonegotiation complete. */
#define RTL_BMSR_LINK	 (1u << 2)
#define RTL_BMSR_ANEG_OK (1u << 5)

/* The RX packet header: status (ROK, ..., BAR, PAM, MAR), then the
 * length with the 4 CRC bytes; packets start dword aligned. */
#define RTL_RX_ROK (1u << 0)
#define RTL_RX_BAR (1u << 13)
#define RTL_RX_PAM (1u << 14)
#define RTL_RX_MAR (1u << 15)
#define RTL_RX_HDR 4u

/* The EEPROM: word 0 the ID 0x8129, the MAC in words 7-9. */
#define RTL_EEPROM_ID	    0x8129u
#define RTL_EEPROM_MAC_WORD 7u

#endif
