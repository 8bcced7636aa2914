/* pvio xenbus helpers over libxenstore. */
#include "config.h"

#include "xenbus.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xen/io/xs_wire.h>

struct pvio_xenbus_watch {
	struct pvio_xenbus_watch *next;
	char *path;
	char token[32];
	pvio_xenbus_watch_fn fn;
	void *arg;
	bool removed; /* unwatched during a dispatch; freed after it */
};

struct pvio_xenbus {
	struct xs_handle *xs;
	struct pvio_xenbus_watch *watches;
	unsigned next_token;
	unsigned dispatching; /* nesting depth of pvio_xenbus_dispatch */
};

/* libxenstore reports errors through errno; make sure it is non-zero. */
static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

struct pvio_xenbus *pvio_xenbus_open(void)
{
	struct pvio_xenbus *xb = calloc(1, sizeof(*xb));
	if (!xb)
		return NULL;
	xb->xs = xs_open(0);
	if (!xb->xs) {
		int err = errno;
		free(xb);
		errno = err;
		return NULL;
	}
	return xb;
}

static void watch_free(struct pvio_xenbus_watch *w)
{
	free(w->path);
	free(w);
}

void pvio_xenbus_close(struct pvio_xenbus *xb)
{
	if (!xb)
		return;
	while (xb->watches) {
		struct pvio_xenbus_watch *w = xb->watches;
		xb->watches = w->next;
		watch_free(w);
	}
	xs_close(xb->xs);
	free(xb);
}

struct xs_handle *pvio_xenbus_handle(struct pvio_xenbus *xb)
{
	return xb->xs;
}

int pvio_xenbus_read_str(struct pvio_xenbus *xb, xs_transaction_t t,
			 const char *path, char **out)
{
	unsigned len;
	errno = 0;
	char *v = xs_read(xb->xs, t, path, &len);
	if (!v)
		return neg_errno();
	/* libxenstore nul-terminates; a value with an embedded nul is not a
	 * string. */
	if (strlen(v) != len) {
		free(v);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int pvio_xenbus_read_uint(struct pvio_xenbus *xb, xs_transaction_t t,
			  const char *path, uint64_t *out)
{
	char *v;
	int rc = pvio_xenbus_read_str(xb, t, path, &v);
	if (rc)
		return rc;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	rc = (!*v || *end || errno || v[0] == '-') ? -EINVAL : 0;
	free(v);
	if (!rc)
		*out = n;
	return rc;
}

int pvio_xenbus_read_int(struct pvio_xenbus *xb, xs_transaction_t t,
			 const char *path, int64_t *out)
{
	char *v;
	int rc = pvio_xenbus_read_str(xb, t, path, &v);
	if (rc)
		return rc;
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	rc = (!*v || *end || errno) ? -EINVAL : 0;
	free(v);
	if (!rc)
		*out = n;
	return rc;
}

int pvio_xenbus_read_feature(struct pvio_xenbus *xb, xs_transaction_t t,
			     const char *path, bool *out)
{
	uint64_t v;
	int rc = pvio_xenbus_read_uint(xb, t, path, &v);
	if (rc == -ENOENT) {
		*out = false;
		return 0;
	}
	if (rc)
		return rc;
	if (v > 1)
		return -EINVAL;
	*out = v == 1;
	return 0;
}

int pvio_xenbus_scanf(struct pvio_xenbus *xb, xs_transaction_t t,
		      const char *path, const char *fmt, ...)
{
	char *v;
	int rc = pvio_xenbus_read_str(xb, t, path, &v);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	rc = vsscanf(v, fmt, ap);
	va_end(ap);
	free(v);
	return rc < 0 ? -ERANGE : rc;
}

int pvio_xenbus_write_str(struct pvio_xenbus *xb, xs_transaction_t t,
			  const char *path, const char *value)
{
	errno = 0;
	return xs_write(xb->xs, t, path, value, (unsigned)strlen(value))
		       ? 0
		       : neg_errno();
}

int pvio_xenbus_write_uint(struct pvio_xenbus *xb, xs_transaction_t t,
			   const char *path, uint64_t value)
{
	return pvio_xenbus_printf(xb, t, path, "%" PRIu64, value);
}

int pvio_xenbus_printf(struct pvio_xenbus *xb, xs_transaction_t t,
		       const char *path, const char *fmt, ...)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -E2BIG;
	return pvio_xenbus_write_str(xb, t, path, buf);
}

int pvio_xenbus_mkdir(struct pvio_xenbus *xb, xs_transaction_t t,
		      const char *path)
{
	errno = 0;
	return xs_mkdir(xb->xs, t, path) ? 0 : neg_errno();
}

int pvio_xenbus_rm(struct pvio_xenbus *xb, xs_transaction_t t, const char *path)
{
	errno = 0;
	return xs_rm(xb->xs, t, path) ? 0 : neg_errno();
}

int pvio_xenbus_directory(struct pvio_xenbus *xb, xs_transaction_t t,
			  const char *path, char ***names, unsigned *count)
{
	errno = 0;
	char **v = xs_directory(xb->xs, t, path, count);
	if (!v)
		return neg_errno();
	*names = v;
	return 0;
}

bool pvio_xenbus_exists(struct pvio_xenbus *xb, xs_transaction_t t,
			const char *path)
{
	unsigned len;
	char *v = xs_read(xb->xs, t, path, &len);
	free(v);
	return v != NULL;
}

int pvio_xenbus_transaction(struct pvio_xenbus *xb, pvio_xenbus_txn_fn fn,
			    void *arg, unsigned max_attempts)
{
	if (!max_attempts)
		max_attempts = 32;
	for (unsigned attempt = 0; attempt < max_attempts; attempt++) {
		errno = 0;
		xs_transaction_t t = xs_transaction_start(xb->xs);
		if (t == XBT_NULL)
			return neg_errno();
		int rc = fn(xb, t, arg);
		if (rc) {
			xs_transaction_end(xb->xs, t, true);
			return rc < 0 ? rc : -EINVAL;
		}
		errno = 0;
		if (xs_transaction_end(xb->xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return neg_errno();
	}
	return -EAGAIN;
}

struct pvio_xenbus_watch *pvio_xenbus_watch(struct pvio_xenbus *xb,
					    const char *path,
					    pvio_xenbus_watch_fn fn, void *arg)
{
	struct pvio_xenbus_watch *w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path))) {
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	snprintf(w->token, sizeof(w->token), "pvio-xenbus-%u",
		 xb->next_token++);
	w->fn = fn;
	w->arg = arg;
	/* Registered before xs_watch: its first event may come at once. */
	w->next = xb->watches;
	xb->watches = w;
	if (!xs_watch(xb->xs, path, w->token)) {
		int err = errno;
		xb->watches = w->next;
		watch_free(w);
		errno = err;
		return NULL;
	}
	return w;
}

static void reap_watches(struct pvio_xenbus *xb)
{
	for (struct pvio_xenbus_watch **p = &xb->watches; *p;) {
		struct pvio_xenbus_watch *w = *p;
		if (w->removed) {
			*p = w->next;
			watch_free(w);
		} else {
			p = &w->next;
		}
	}
}

void pvio_xenbus_unwatch(struct pvio_xenbus *xb, struct pvio_xenbus_watch *w)
{
	if (!w || w->removed)
		return;
	xs_unwatch(xb->xs, w->path, w->token);
	w->removed = true;
	if (!xb->dispatching)
		reap_watches(xb);
}

int pvio_xenbus_fd(struct pvio_xenbus *xb)
{
	return xs_fileno(xb->xs);
}

int pvio_xenbus_dispatch(struct pvio_xenbus *xb)
{
	int ran = 0;
	char **ev;
	xb->dispatching++;
	while ((ev = xs_check_watch(xb->xs))) {
		for (struct pvio_xenbus_watch *w = xb->watches; w;
		     w = w->next) {
			if (!w->removed &&
			    !strcmp(w->token, ev[XS_WATCH_TOKEN])) {
				w->fn(xb, ev[XS_WATCH_PATH], w->arg);
				ran++;
				break;
			}
		}
		free(ev);
	}
	if (--xb->dispatching == 0)
		reap_watches(xb);
	return ran;
}

const char *pvio_xenbus_state_name(enum xenbus_state state)
{
	static const char *const names[] = {
		"Unknown",     "Initialising",	"InitWait",
		"Initialised", "Connected",	"Closing",
		"Closed",      "Reconfiguring", "Reconfigured",
	};
	_Static_assert(sizeof(names) / sizeof(*names) ==
			       XenbusStateReconfigured + 1,
		       "a name per state");
	if (pvio_xenbus_state_valid(state))
		return names[state];
	return "Invalid";
}

static int state_path(char *buf, size_t size, const char *dir)
{
	if (snprintf(buf, size, "%s/state", dir) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

int pvio_xenbus_read_state(struct pvio_xenbus *xb, xs_transaction_t t,
			   const char *dir, enum xenbus_state *state)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	int rc = state_path(path, sizeof(path), dir);
	if (rc)
		return rc;
	uint64_t v;
	rc = pvio_xenbus_read_uint(xb, t, path, &v);
	if (rc == -ENOENT || rc == -EINVAL ||
	    (!rc && v > XenbusStateReconfigured)) {
		*state = XenbusStateUnknown;
		return 0;
	}
	if (rc)
		return rc;
	*state = (enum xenbus_state)v;
	return 0;
}

struct switch_arg {
	const char *dir;
	enum xenbus_state state;
};

static int switch_in_txn(struct pvio_xenbus *xb, xs_transaction_t t, void *p)
{
	struct switch_arg *a = p;
	enum xenbus_state cur;
	int rc = pvio_xenbus_read_state(xb, t, a->dir, &cur);
	if (rc || cur == a->state)
		return rc;
	char path[XENSTORE_ABS_PATH_MAX + 1];
	rc = state_path(path, sizeof(path), a->dir);
	return rc ? rc : pvio_xenbus_write_uint(xb, t, path, a->state);
}

int pvio_xenbus_switch_state(struct pvio_xenbus *xb, xs_transaction_t t,
			     const char *dir, enum xenbus_state state)
{
	if (!pvio_xenbus_state_valid(state))
		return -EINVAL;
	struct switch_arg a = {dir, state};
	if (t != XBT_NULL)
		return switch_in_txn(xb, t, &a);
	return pvio_xenbus_transaction(xb, switch_in_txn, &a, 0);
}

static void note_change(struct pvio_xenbus *xb, const char *path, void *arg)
{
	(void)xb;
	(void)path;
	*(bool *)arg = true;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pvio_xenbus_wait_state(struct pvio_xenbus *xb, const char *dir,
			   unsigned state_mask, int timeout_ms,
			   enum xenbus_state *reached)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	int rc = state_path(path, sizeof(path), dir);
	if (rc)
		return rc;
	bool changed = true;
	struct pvio_xenbus_watch *w =
		pvio_xenbus_watch(xb, path, note_change, &changed);
	if (!w)
		return neg_errno();
	int fd = pvio_xenbus_fd(xb);
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	while (true) {
		if (changed) {
			changed = false;
			enum xenbus_state s;
			rc = pvio_xenbus_read_state(xb, XBT_NULL, dir, &s);
			if (rc)
				break;
			if (state_mask & PVIO_XENBUS_STATE_BIT(s)) {
				if (reached)
					*reached = s;
				break;
			}
		}
		int wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				rc = -ETIMEDOUT;
				break;
			}
			wait = (int)left;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n = poll(&pfd, 1, wait);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (n > 0)
			pvio_xenbus_dispatch(xb);
	}
	pvio_xenbus_unwatch(xb, w);
	return rc;
}
