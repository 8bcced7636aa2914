/* Parsers for the pvio command line: xl's key=value vif syntax, MACs,
 * rates, devids, domain ids and names. Pure functions (no I/O) so that the
 * unit tests cover them; each failure fills a one-line message. */
#ifndef PVIO_TOOLS_ARGS_H
#define PVIO_TOOLS_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h> /* DOMID_FIRST_RESERVED */

#define PVIO_MTU_DEFAULT 1500U
/* Linux interface names: IFNAMSIZ - 1. */
#define PVIO_IFNAME_MAX 15

/* One vif as `xl network-attach` describes it. Strings point into the
 * caller's arguments. */
struct pvio_nic {
	uint8_t mac[6];
	bool has_mac;
	const char *bridge;  /* default xenbr0 */
	const char *ip;	     /* optional */
	const char *type;    /* "vif" or "ioemu" (an emulated NIC) */
	const char *model;   /* ioemu: "e1000" or "rtl8139"; NULL: unset */
	const char *vifname; /* optional */
	const char *script;  /* default vif-bridge */
	const char *backend; /* domain name or id, default 0 */
	uint64_t rate_bytes; /* bytes per interval; 0 when no rate */
	uint32_t rate_usecs; /* interval; 0 when no rate */
	unsigned mtu;	     /* default 1500 */
	int devid;	     /* -1: next free */
};

void pvio_nic_init(struct pvio_nic *nic);
/* Applies one "key=value" argument; on failure returns -1 and writes a
 * message naming the problem into err. */
int pvio_nic_parse_arg(struct pvio_nic *nic, const char *arg, char *err,
		       size_t errlen);

/* xl's "RATE/s[@INTERVAL]": RATE is N[GMK]{B,b}/s (b: bits), INTERVAL is
 * N[m|u]s (default 50ms). Gives bytes per interval and the interval in
 * microseconds, as libxl writes them ("bytes,usecs"). */
int pvio_parse_rate(const char *s, uint64_t *bytes, uint32_t *usecs, char *err,
		    size_t errlen);
/* Non-negative decimal within [0, max]; no sign, no spaces, no suffix. */
int pvio_parse_uint(const char *s, unsigned long max, unsigned long *out);
int pvio_parse_devid(const char *s, int *devid);
/* A domain id in decimal, below Xen's DOMID_FIRST_RESERVED (xen/xen.h). */
int pvio_parse_domid(const char *s, unsigned *domid);
/* Domain names: 1-63 characters of [A-Za-z0-9_.-], not all digits (a
 * string of digits names a domid, as with xl). */
bool pvio_valid_domain_name(const char *s);
/* A Linux interface name: 1-15 characters, no '/', ':' or whitespace. */
bool pvio_valid_ifname(const char *s);

#endif
