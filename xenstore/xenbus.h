/*
 * pvio xenbus helpers: what drivers and tools need on top of libxenstore.
 * Typed reads and writes, a transaction retry loop, watch dispatch that
 * plugs into an event loop, and the XenBus state machine.
 *
 * The handle connects like libxenstore does: XENSTORED_PATH, else
 * $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket (on real Xen,
 * the kernel's xenbus device). Functions return 0 (or a count) on success
 * and a negative errno on failure; paths may be relative (to the caller's
 * domain home) or absolute; t is a transaction or XBT_NULL.
 */
#ifndef PVIO_XENBUS_H
#define PVIO_XENBUS_H

#include <stdbool.h>
#include <stdint.h>
#include <xenstore.h>

#include <xen/io/xenbus.h>

struct pvio_xenbus;
struct pvio_xenbus_watch;

struct pvio_xenbus *pvio_xenbus_open(void);
void pvio_xenbus_close(struct pvio_xenbus *xb);
/* The libxenstore handle underneath, for anything not wrapped here. */
struct xs_handle *pvio_xenbus_handle(struct pvio_xenbus *xb);

/* ---- typed reads and writes ---- */

/* *out is a nul-terminated malloc'd copy; free it. */
int pvio_xenbus_read_str(struct pvio_xenbus *xb, xs_transaction_t t,
			 const char *path, char **out);
/* Decimal numbers; -EINVAL when the value is not one or is out of range. */
int pvio_xenbus_read_uint(struct pvio_xenbus *xb, xs_transaction_t t,
			  const char *path, uint64_t *out);
int pvio_xenbus_read_int(struct pvio_xenbus *xb, xs_transaction_t t,
			 const char *path, int64_t *out);
/* A feature flag: "1" is true, "0" or a missing node false (the xenbus
 * convention); anything else -EINVAL. */
int pvio_xenbus_read_feature(struct pvio_xenbus *xb, xs_transaction_t t,
			     const char *path, bool *out);
/* sscanf on the value; returns the number of items converted. */
int pvio_xenbus_scanf(struct pvio_xenbus *xb, xs_transaction_t t,
		      const char *path, const char *fmt, ...)
	__attribute__((format(scanf, 4, 5)));

int pvio_xenbus_write_str(struct pvio_xenbus *xb, xs_transaction_t t,
			  const char *path, const char *value);
int pvio_xenbus_write_uint(struct pvio_xenbus *xb, xs_transaction_t t,
			   const char *path, uint64_t value);
int pvio_xenbus_printf(struct pvio_xenbus *xb, xs_transaction_t t,
		       const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int pvio_xenbus_mkdir(struct pvio_xenbus *xb, xs_transaction_t t,
		      const char *path);
int pvio_xenbus_rm(struct pvio_xenbus *xb, xs_transaction_t t,
		   const char *path);
/* Child names in insertion order: *names is one malloc'd block (free it
 * once). */
int pvio_xenbus_directory(struct pvio_xenbus *xb, xs_transaction_t t,
			  const char *path, char ***names, unsigned *count);
bool pvio_xenbus_exists(struct pvio_xenbus *xb, xs_transaction_t t,
			const char *path);

/* ---- transactions ---- */

/* The body of a transaction: return 0 to commit, a negative errno to abort
 * (which pvio_xenbus_transaction then returns). It may run several times. */
typedef int (*pvio_xenbus_txn_fn)(struct pvio_xenbus *xb, xs_transaction_t t,
				  void *arg);
/* Runs fn in a transaction, retrying while the commit reports a conflict
 * (EAGAIN), at most max_attempts times (0: a default of 32). Returns 0,
 * fn's error, -EAGAIN when every attempt conflicted, or another -errno. */
int pvio_xenbus_transaction(struct pvio_xenbus *xb, pvio_xenbus_txn_fn fn,
			    void *arg, unsigned max_attempts);

/* ---- watches ---- */

/* Called with the path that changed (at or below the watched one). */
typedef void (*pvio_xenbus_watch_fn)(struct pvio_xenbus *xb, const char *path,
				     void *arg);
/* Registers a watch; it fires once at once (xenstore semantics). Returns
 * NULL with errno set on failure. */
struct pvio_xenbus_watch *pvio_xenbus_watch(struct pvio_xenbus *xb,
					    const char *path,
					    pvio_xenbus_watch_fn fn, void *arg);
/* Safe from inside a callback, including the watch's own. */
void pvio_xenbus_unwatch(struct pvio_xenbus *xb, struct pvio_xenbus_watch *w);
/* A descriptor that becomes readable when watch events are pending: add it
 * to poll/epoll and call pvio_xenbus_dispatch when it is. */
int pvio_xenbus_fd(struct pvio_xenbus *xb);
/* Runs the callbacks of every pending event without blocking; returns how
 * many ran. */
int pvio_xenbus_dispatch(struct pvio_xenbus *xb);

/* ---- the XenBus state machine (dir/state) ---- */

/*
 * Whether state is one of the enum's (XenbusStateUnknown to
 * XenbusStateReconfigured). A state node is written by the peer, a guest
 * maybe: nothing read from one is used as an index or a shift count
 * before this says yes.
 */
static inline bool pvio_xenbus_state_valid(long long state)
{
	return state >= XenbusStateUnknown && state <= XenbusStateReconfigured;
}

const char *pvio_xenbus_state_name(enum xenbus_state state);
/* A missing or unparsable state node, or one outside the enum, reads as
 * XenbusStateUnknown. */
int pvio_xenbus_read_state(struct pvio_xenbus *xb, xs_transaction_t t,
			   const char *dir, enum xenbus_state *state);
/* Writes dir/state unless it already holds that state; -EINVAL for a
 * state outside the enum. */
int pvio_xenbus_switch_state(struct pvio_xenbus *xb, xs_transaction_t t,
			     const char *dir, enum xenbus_state state);
/* Waits until dir/state holds one of the states in the bit mask
 * (1u << state), for at most timeout_ms (negative: forever). Other
 * watches' callbacks run meanwhile. Returns 0 with *reached set, or
 * -ETIMEDOUT. */
int pvio_xenbus_wait_state(struct pvio_xenbus *xb, const char *dir,
			   unsigned state_mask, int timeout_ms,
			   enum xenbus_state *reached);

/* The bit of a state in a wait_state mask; none (0) for a value outside
 * the enum. Use it through PVIO_XENBUS_STATE_BIT. */
static inline unsigned pvio_xenbus_state_bit(long long state)
{
	return pvio_xenbus_state_valid(state) ? 1u << state : 0u;
}

#define PVIO_XENBUS_STATE_BIT(s) pvio_xenbus_state_bit(s)

#endif
