/*
 * The TX rate limit of a vif (the backend's `rate` node, "bytes,usecs", as
 * xl writes it from rate=RATE/s@INTERVAL): a credit scheduler with the
 * behaviour of Linux's netback. Each window of usecs adds bytes to the
 * credit, which saves up across idle windows to at most
 * max(bytes, CREDIT_BURST_MIN): a packet larger than one window's bytes
 * still goes once the credit has grown enough, so that a small rate never
 * wedges a vif. A packet the credit does not cover waits for the next
 * window.
 *
 * Pure: no clock, no I/O. The caller passes the time (microseconds of any
 * monotonic clock), so that the arithmetic is unit-tested with a fake one
 * (tests/unit/test_credit.c).
 */
#ifndef PVIO_NETBACK_CREDIT_H
#define PVIO_NETBACK_CREDIT_H

#include <stdbool.h>
#include <stdint.h>

/* The least the credit may save up to: two of the largest TX packets
 * (64 KiB each), as Linux allows. */
#define CREDIT_BURST_MIN 131072u

struct credit {
	uint64_t bytes; /* per window; 0: not limited */
	uint64_t usecs; /* the window */
	uint64_t remaining;
	int64_t window_start_us;
};

/* Not limited. */
void credit_init(struct credit *c);

/* A new limit (bytes 0: none) from now on. A running credit keeps what it
 * has up to the new window's bytes, so that lowering the limit takes
 * effect at once; a vif that was not limited starts with a full window. */
void credit_set(struct credit *c, uint64_t bytes, uint64_t usecs,
		int64_t now_us);

static inline bool credit_limited(const struct credit *c)
{
	return c->bytes != 0;
}

/* The most the credit saves up to. */
uint64_t credit_burst(const struct credit *c);

/* Takes size bytes of credit for a packet that goes now: true. False when
 * the credit does not cover it: *retry_us is when the next window opens
 * (the packet waits until then; nothing was taken). */
bool credit_take(struct credit *c, uint32_t size, int64_t now_us,
		 int64_t *retry_us);

/* Parses a `rate` node's value, "bytes,usecs" (decimal, both above zero,
 * nothing else). 0, or -EINVAL with *why saying what is wrong. */
int credit_parse_rate(const char *s, uint64_t *bytes, uint64_t *usecs,
		      const char **why);

#endif
