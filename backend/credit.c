/*
 * The TX credit scheduler (credit.h): arithmetic only, the caller brings
 * the time.
 */
#include "config.h"

#include "credit.h"

#include <errno.h>

void credit_init(struct credit *c)
{
	*c = (struct credit){0};
}

uint64_t credit_burst(const struct credit *c)
{
	return c->bytes > CREDIT_BURST_MIN ? c->bytes : CREDIT_BURST_MIN;
}

void credit_set(struct credit *c, uint64_t bytes, uint64_t usecs,
		int64_t now_us)
{
	bool was_limited = credit_limited(c);
	c->bytes = usecs ? bytes : 0;
	c->usecs = usecs;
	if (!credit_limited(c))
		return;
	if (!was_limited || c->remaining > c->bytes)
		c->remaining = c->bytes;
	c->window_start_us = now_us;
}

/* A window has passed since the last refill: one more window's bytes,
 * saved up to the burst. */
static void credit_refill(struct credit *c, int64_t now_us)
{
	uint64_t burst = credit_burst(c);
	uint64_t sum = c->remaining + c->bytes;
	if (sum < c->remaining) /* wrapped */
		sum = UINT64_MAX;
	c->remaining = sum < burst ? sum : burst;
	c->window_start_us = now_us;
}

bool credit_take(struct credit *c, uint32_t size, int64_t now_us,
		 int64_t *retry_us)
{
	if (!credit_limited(c))
		return true;
	if (size > c->remaining) {
		int64_t next = c->window_start_us + (int64_t)c->usecs;
		if (now_us >= next)
			credit_refill(c, now_us);
		if (size > c->remaining) {
			*retry_us = c->window_start_us + (int64_t)c->usecs;
			return false;
		}
	}
	c->remaining -= size;
	return true;
}

/* A decimal number above zero up to max, ending at *end. */
static int parse_number(const char *s, const char **end, uint64_t max,
			uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (p == s)
		return -EINVAL;
	*end = p;
	*out = v;
	return 0;
}

int credit_parse_rate(const char *s, uint64_t *bytes, uint64_t *usecs,
		      const char **why)
{
	const char *p;
	uint64_t b, u;
	int rc = parse_number(s, &p, UINT64_MAX, &b);
	if (rc) {
		*why = rc == -ERANGE ? "bytes overflow" : "no bytes number";
		return -EINVAL;
	}
	if (*p != ',') {
		*why = "no ',' after the bytes";
		return -EINVAL;
	}
	/* Windows of more than an hour are a typo, and keep the window
	 * arithmetic on signed microseconds far from overflow. */
	rc = parse_number(p + 1, &p, 3600000000u, &u);
	if (rc) {
		*why = rc == -ERANGE ? "interval above an hour"
				     : "no usecs number after ','";
		return -EINVAL;
	}
	if (*p) {
		*why = "trailing characters";
		return -EINVAL;
	}
	if (!b || !u) {
		*why = !b ? "zero bytes" : "zero usecs";
		return -EINVAL;
	}
	*bytes = b;
	*usecs = u;
	return 0;
}
