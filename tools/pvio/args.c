/* Command-line parsers of the pvio toolstack; see args.h. The vif keys,
 * defaults and the rate syntax follow xl (xl_parse.c, libxlu_vif.c). */
#include "config.h"

#include "args.h"
#include "netif/netif.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pvio_nic_init(struct pvio_nic *nic)
{
	memset(nic, 0, sizeof(*nic));
	nic->bridge = "xenbr0";
	nic->type = "vif";
	nic->script = "vif-bridge";
	nic->backend = "0";
	nic->mtu = PVIO_MTU_DEFAULT;
	nic->devid = -1;
}

int pvio_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int pvio_parse_devid(const char *s, int *devid)
{
	unsigned long v;
	/* libxl keeps devids in an int; frontends read them with %d. */
	if (pvio_parse_uint(s, 0x7fffffffUL, &v))
		return -1;
	*devid = (int)v;
	return 0;
}

int pvio_parse_domid(const char *s, unsigned *domid)
{
	unsigned long v;
	if (pvio_parse_uint(s, DOMID_FIRST_RESERVED - 1, &v))
		return -1;
	*domid = (unsigned)v;
	return 0;
}

static int rate_err(char *err, size_t errlen, const char *what,
		    const char *rate)
{
	snprintf(err, errlen,
		 "%s in rate '%s' (expected RATE/s[@INTERVAL], "
		 "e.g. 10Mb/s@20ms)",
		 what, rate);
	return -1;
}

int pvio_parse_rate(const char *s, uint64_t *bytes, uint32_t *usecs, char *err,
		    size_t errlen)
{
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return rate_err(err, errlen, "no number", s);
	errno = 0;
	char *end;
	unsigned long long n = strtoull(p, &end, 10);
	if (errno || n > UINT32_MAX)
		return rate_err(err, errlen, "overflow", s);
	if (n == 0)
		return rate_err(err, errlen, "zero", s);
	p = end;
	uint64_t per_sec = n;
	if (*p == 'G' || *p == 'M' || *p == 'K') {
		per_sec *= *p == 'G'   ? 1000000000ULL
			   : *p == 'M' ? 1000000ULL
				       : 1000ULL;
		p++;
	}
	if (*p != 'B' && *p != 'b')
		return rate_err(err, errlen, "no unit (B or b)", s);
	if (*p == 'b')
		per_sec /= 8;
	p++;
	if (strncmp(p, "/s", 2))
		return rate_err(err, errlen, "no '/s'", s);
	p += 2;

	uint64_t interval = 50000; /* xl's default: 50 ms */
	if (*p == '@') {
		p++;
		if (!isdigit((unsigned char)*p))
			return rate_err(err, errlen, "no interval", s);
		errno = 0;
		unsigned long long iv = strtoull(p, &end, 10);
		if (errno || iv > UINT32_MAX)
			return rate_err(err, errlen, "interval overflow", s);
		if (iv == 0)
			return rate_err(err, errlen, "zero interval", s);
		p = end;
		if (*p == 'm') {
			iv *= 1000;
			p++;
		} else if (*p == 'u') {
			p++;
		} else {
			iv *= 1000000; /* plain seconds */
		}
		if (*p == 's')
			p++;
		if (iv > UINT32_MAX)
			return rate_err(err, errlen, "interval overflow", s);
		interval = iv;
	}
	if (*p)
		return rate_err(err, errlen, "trailing characters", s);
	if (per_sec > UINT64_MAX / interval)
		return rate_err(err, errlen, "overflow", s);
	*bytes = per_sec * interval / 1000000;
	*usecs = (uint32_t)interval;
	return 0;
}

bool pvio_valid_domain_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	bool digits_only = true;
	for (const char *p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
		if (!isdigit((unsigned char)*p))
			digits_only = false;
	}
	return !digits_only;
}

bool pvio_valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > PVIO_IFNAME_MAX || !strcmp(s, ".") ||
	    !strcmp(s, ".."))
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) ||
		    !isprint((unsigned char)*p))
			return false;
	return true;
}

/* A value for a key that takes free text: non-empty, printable, and short
 * enough for a xenstore node. */
static bool valid_text(const char *s)
{
	if (!*s || strlen(s) > 1024)
		return false;
	for (const char *p = s; *p; p++)
		if (!isprint((unsigned char)*p))
			return false;
	return true;
}

int pvio_nic_parse_arg(struct pvio_nic *nic, const char *arg, char *err,
		       size_t errlen)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg) {
		snprintf(err, errlen, "'%s' is not key=value", arg);
		return -1;
	}
	size_t klen = (size_t)(eq - arg);
	const char *v = eq + 1;
#define KEY(k) (klen == sizeof(k) - 1 && !strncmp(arg, k, klen))
	if (KEY("mac")) {
		if (netif_parse_mac(v, nic->mac)) {
			snprintf(err, errlen,
				 "malformed MAC '%s' (expected six two-digit "
				 "hex bytes, xx:xx:xx:xx:xx:xx, as xl)",
				 v);
			return -1;
		}
		/* A vif's address must be unicast: bit 0 of the first octet. */
		if (nic->mac[0] & 1) {
			snprintf(err, errlen,
				 "MAC '%s' is multicast (bit 0 of its first "
				 "byte is set): a vif's must be unicast",
				 v);
			return -1;
		}
		nic->has_mac = true;
	} else if (KEY("bridge")) {
		if (!pvio_valid_ifname(v)) {
			snprintf(err, errlen, "invalid bridge name '%s'", v);
			return -1;
		}
		nic->bridge = v;
	} else if (KEY("ip")) {
		if (!valid_text(v)) {
			snprintf(err, errlen, "invalid ip '%s'", v);
			return -1;
		}
		nic->ip = v;
	} else if (KEY("type")) {
		if (strcmp(v, "vif") && strcmp(v, "ioemu")) {
			snprintf(err, errlen,
				 "invalid type '%s' (expected vif or ioemu)",
				 v);
			return -1;
		}
		nic->type = v;
	} else if (KEY("model")) {
		if (strcmp(v, "e1000") && strcmp(v, "rtl8139")) {
			snprintf(err, errlen,
				 "invalid model '%s' (expected e1000 or "
				 "rtl8139)",
				 v);
			return -1;
		}
		nic->model = v;
	} else if (KEY("vifname")) {
		if (!pvio_valid_ifname(v)) {
			snprintf(err, errlen,
				 "invalid vifname '%s' (1-%d characters, no "
				 "'/', ':' or spaces)",
				 v, PVIO_IFNAME_MAX);
			return -1;
		}
		nic->vifname = v;
	} else if (KEY("script")) {
		if (!valid_text(v)) {
			snprintf(err, errlen, "invalid script '%s'", v);
			return -1;
		}
		nic->script = v;
	} else if (KEY("backend")) {
		if (!valid_text(v)) {
			snprintf(err, errlen, "invalid backend '%s'", v);
			return -1;
		}
		nic->backend = v;
	} else if (KEY("rate")) {
		if (pvio_parse_rate(v, &nic->rate_bytes, &nic->rate_usecs, err,
				    errlen))
			return -1;
	} else if (KEY("mtu")) {
		unsigned long mtu;
		/* 68: the IPv4 minimum; 65535: what a TAP accepts. */
		if (pvio_parse_uint(v, 65535, &mtu) || mtu < 68) {
			snprintf(err, errlen,
				 "invalid mtu '%s' (expected 68-65535)", v);
			return -1;
		}
		nic->mtu = (unsigned)mtu;
	} else if (KEY("devid")) {
		if (pvio_parse_devid(v, &nic->devid)) {
			snprintf(err, errlen,
				 "invalid devid '%s' (expected a number >= 0)",
				 v);
			return -1;
		}
	} else if (KEY("gatewaydev") || KEY("accel")) {
		snprintf(err, errlen, "key '%.*s' is not supported by pvio",
			 (int)klen, arg);
		return -1;
	} else {
		snprintf(err, errlen,
			 "unknown key '%.*s' (known: mac, bridge, ip, type, "
			 "model, vifname, script, backend, rate, mtu, devid)",
			 (int)klen, arg);
		return -1;
	}
#undef KEY
	return 0;
}
