/* pvio-xenstored request arguments: nul-terminated strings, numbers,
 * domain ids. */
#include "config.h"

#include "xs_core_int.h"

#include <stdint.h>

/* Splits a payload of nul-terminated strings into argv; returns how many,
 * or -1 when there are more than max or the last is not terminated. */
int split_args(const char *payload, uint32_t len, const char **argv,
	       unsigned max)
{
	unsigned found = 0;
	uint32_t start = 0;
	for (uint32_t i = 0; i < len; i++) {
		if (payload[i])
			continue;
		if (found == max)
			return -1;
		argv[found++] = payload + start;
		start = i + 1;
	}
	return start == len ? (int)found : -1;
}

/* Splits a payload of exactly n nul-terminated strings. */
bool get_args(const char *payload, uint32_t len, const char **argv, unsigned n)
{
	return split_args(payload, len, argv, n) == (int)n;
}

bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

bool parse_domid(const char *s, uint32_t *domid)
{
	uint64_t v;
	if (!parse_uint(s, DOMID_LIMIT - 1, &v))
		return false;
	*domid = (uint32_t)v;
	return true;
}
