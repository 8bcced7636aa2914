/* xenstore helpers of the toolstack over libxenstore and the xenbus
 * helpers: the connection, formatted reads and writes, removal with the
 * parents left empty. */
#include "config.h"

#include "msg.h"
#include "store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pvio_xenbus *pvio_store_connect(void)
{
	struct pvio_xenbus *xb = pvio_xenbus_open();
	if (!xb)
		pvio_err("cannot reach xenstored at %s: %s (is the host "
			 "running? `pvio host status`)",
			 getenv("XENSTORED_PATH"), strerror(errno));
	return xb;
}

char *pvio_store_readf(struct xs_handle *h, xs_transaction_t t, const char *fmt,
		       ...)
{
	va_list ap;
	char *path;
	va_start(ap, fmt);
	int n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	unsigned len;
	char *v = xs_read(h, t, path, &len);
	free(path);
	return v;
}

bool pvio_store_writef(struct xs_handle *h, xs_transaction_t t,
		       const char *path, const char *fmt, ...)
{
	va_list ap;
	char *v;
	va_start(ap, fmt);
	int n = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	bool ok = xs_write(h, t, path, v, (unsigned)n);
	free(v);
	return ok;
}

void pvio_store_rm_cleanup(struct xs_handle *h, xs_transaction_t t,
			   const char *path, const char *stop)
{
	char *p = strdup(path);
	if (!p)
		return;
	xs_rm(h, t, p);
	/* As libxl__xs_path_cleanup: drop parents the removal left empty. */
	for (;;) {
		char *slash = strrchr(p, '/');
		if (!slash || slash == p)
			break;
		*slash = 0;
		if (strlen(p) <= strlen(stop))
			break;
		unsigned num;
		char **kids = xs_directory(h, t, p, &num);
		if (!kids)
			break;
		free(kids);
		if (num)
			break;
		xs_rm(h, t, p);
	}
	free(p);
}

struct rm_list {
	const struct pvio_store_rm *rm;
	size_t n;
};

static int rm_all_txn(struct pvio_xenbus *xb, xs_transaction_t t, void *arg)
{
	const struct rm_list *l = arg;
	struct xs_handle *h = pvio_xenbus_handle(xb);
	for (size_t i = 0; i < l->n; i++)
		pvio_store_rm_cleanup(h, t, l->rm[i].path, l->rm[i].stop);
	return 0;
}

int pvio_store_rm_all(struct pvio_xenbus *xb, struct pvio_store_rm *rm,
		      size_t n)
{
	struct rm_list l = {rm, n};
	int err = pvio_xenbus_transaction(xb, rm_all_txn, &l, 0);
	for (size_t i = 0; i < n; i++) {
		free(rm[i].path);
		free(rm[i].stop);
	}
	return err;
}
