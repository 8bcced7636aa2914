/*
 * The Intel 82540EM (8254x family) registers, bits and legacy descriptors
 * the emulation and the guest driver use, as the 8254x Software
 * Developer's Manual defines them (register offsets in the MMIO BAR).
 * Shared by the device model and the guest driver: one spelling.
 */
#ifndef PVIO_IOEMU_E1000_REGS_H
#define PVIO_IOEMU_E1000_REGS_H

#include <stdint.h>

/* General */
#define E1K_CTRL     0x0000u
#define E1K_STATUS   0x0008u
#define E1K_EECD     0x0010u
#define E1K_EERD     0x0014u
#define E1K_CTRL_EXT 0x0018u
#define E1K_MDIC     0x0020u
/* Interrupts */
#define E1K_ICR 0x00c0u
#define E1K_ITR 0x00c4u
#define E1K_ICS 0x00c8u
#define E1K_IMS 0x00d0u
#define E1K_IMC 0x00d8u
/* Receive */
#define E1K_RCTL  0x0100u
#define E1K_RDBAL 0x2800u
#define E1K_RDBAH 0x2804u
#define E1K_RDLEN 0x2808u
#define E1K_RDH	  0x2810u
#define E1K_RDT	  0x2818u
#define E1K_RDTR  0x2820u
/* Transmit */
#define E1K_TCTL  0x0400u
#define E1K_TIPG  0x0410u
#define E1K_TDBAL 0x3800u
#define E1K_TDBAH 0x3804u
#define E1K_TDLEN 0x3808u
#define E1K_TDH	  0x3810u
#define E1K_TDT	  0x3818u
#define E1K_TIDV  0x3820u
/* Filters: 128 multicast table words, 16 receive address pairs */
#define E1K_MTA	     0x5200u
#define E1K_MTA_REGS 128u
#define E1K_RAL0     0x5400u
#define E1K_RAH0     0x5404u
#define E1K_RA_PAIRS 16u
/* Statistics (0x4000-0x40fc), clear on read */
#define E1K_STATS_BASE 0x4000u
#define E1K_STATS_END  0x4100u
#define E1K_CRCERRS    0x4000u
#define E1K_MPC	       0x4010u
#define E1K_GPRC       0x4074u
#define E1K_BPRC       0x4078u
#define E1K_MPRC       0x407cu
#define E1K_GPTC       0x4080u
#define E1K_GORCL      0x4088u
#define E1K_GORCH      0x408cu
#define E1K_GOTCL      0x4090u
#define E1K_GOTCH      0x4094u
#define E1K_RNBC       0x40a0u
#define E1K_ROC	       0x40acu
#define E1K_TORL       0x40c0u
#define E1K_TORH       0x40c4u
#define E1K_TOTL       0x40c8u
#define E1K_TOTH       0x40ccu
#define E1K_TPR	       0x40d0u
#define E1K_TPT	       0x40d4u
#define E1K_MPTC       0x40f0u
#define E1K_BPTC       0x40f4u

/* I/O BAR: indirect register access */
#define E1K_IOADDR 0x0u
#define E1K_IODATA 0x4u

/* CTRL */
#define E1K_CTRL_FD	 (1u << 0)
#define E1K_CTRL_ASDE	 (1u << 5)
#define E1K_CTRL_SLU	 (1u << 6)
#define E1K_CTRL_RST	 (1u << 26)
#define E1K_CTRL_PHY_RST (1u << 31)
/* STATUS */
#define E1K_STATUS_FD	      (1u << 0)
#define E1K_STATUS_LU	      (1u << 1)
#define E1K_STATUS_SPEED_1000 (2u << 6)
/* EECD (the 93C46's wires, and the request/grant handshake) */
#define E1K_EECD_SK   (1u << 0)
#define E1K_EECD_CS   (1u << 1)
#define E1K_EECD_DI   (1u << 2)
#define E1K_EECD_DO   (1u << 3)
#define E1K_EECD_REQ  (1u << 6)
#define E1K_EECD_GNT  (1u << 7)
#define E1K_EECD_PRES (1u << 8)
/* EERD (82540EM: 8-bit address) */
#define E1K_EERD_START	    (1u << 0)
#define E1K_EERD_DONE	    (1u << 4)
#define E1K_EERD_ADDR_SHIFT 8
#define E1K_EERD_DATA_SHIFT 16
/* MDIC */
#define E1K_MDIC_REG_SHIFT 16
#define E1K_MDIC_PHY_SHIFT 21
#define E1K_MDIC_OP_WRITE  (1u << 26)
#define E1K_MDIC_OP_READ   (2u << 26)
#define E1K_MDIC_READY	   (1u << 28)
#define E1K_MDIC_ERROR	   (1u << 30)
/* ICR / ICS / IMS / IMC causes */
#define E1K_ICR_TXDW   (1u << 0)
#define E1K_ICR_TXQE   (1u << 1)
#define E1K_ICR_LSC    (1u << 2)
#define E1K_ICR_RXSEQ  (1u << 3)
#define E1K_ICR_RXDMT0 (1u << 4)
#define E1K_ICR_RXO    (1u << 6)
#define E1K_ICR_RXT0   (1u << 7)
#define E1K_ICR_MDAC   (1u << 9)
/* The causes the 82540EM has (others read as 0). */
#define E1K_ICR_MASK 0x0001f6dfu
/* RCTL */
#define E1K_RCTL_EN	     (1u << 1)
#define E1K_RCTL_SBP	     (1u << 2)
#define E1K_RCTL_UPE	     (1u << 3)
#define E1K_RCTL_MPE	     (1u << 4)
#define E1K_RCTL_LPE	     (1u << 5)
#define E1K_RCTL_RDMTS_SHIFT 8
#define E1K_RCTL_MO_SHIFT    12
#define E1K_RCTL_BAM	     (1u << 15)
#define E1K_RCTL_BSIZE_SHIFT 16
#define E1K_RCTL_BSEX	     (1u << 25)
#define E1K_RCTL_SECRC	     (1u << 26)
/* TCTL */
#define E1K_TCTL_EN  (1u << 1)
#define E1K_TCTL_PSP (1u << 3)
/* RAH */
#define E1K_RAH_AV (1u << 31)

/* Legacy receive descriptor (16 bytes). */
struct e1k_rx_desc {
	uint64_t buffer_addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};
#define E1K_RXD_STAT_DD	  (1u << 0)
#define E1K_RXD_STAT_EOP  (1u << 1)
#define E1K_RXD_STAT_IXSM (1u << 2)
#define E1K_RXD_ERR_RXE	  (1u << 7)

/* Legacy transmit descriptor (16 bytes); DEXT selects the extended ones. */
struct e1k_tx_desc {
	uint64_t buffer_addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};
#define E1K_TXD_CMD_EOP	 (1u << 0)
#define E1K_TXD_CMD_IFCS (1u << 1)
#define E1K_TXD_CMD_RS	 (1u << 3)
#define E1K_TXD_CMD_DEXT (1u << 5)
#define E1K_TXD_STAT_DD	 (1u << 0)
/* Extended descriptors: DTYP in bits 23:20 of the second dword (0 context,
 * 1 data), TSE in DCMD. */
#define E1K_TXD_DTYP_SHIFT 20
#define E1K_TXD_DTYP_DATA  1u
#define E1K_TXD_DCMD_TSE   (1u << 2)

_Static_assert(sizeof(struct e1k_rx_desc) == 16, "legacy RX descriptor");
_Static_assert(sizeof(struct e1k_tx_desc) == 16, "legacy TX descriptor");

/* The EEPROM: 64 words (93C46), MAC in words 0-2, words 0x00-0x3f sum to
 * 0xBABA. */
#define E1K_EEPROM_WORDS    64u
#define E1K_EEPROM_CHECKSUM 0xbabau

#endif
