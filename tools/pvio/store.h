/* The toolstack's xenstore helpers, over libxenstore and the xenbus
 * helpers (xenstore/xenbus.h): what those do not already offer. */
#ifndef PVIO_TOOLS_STORE_H
#define PVIO_TOOLS_STORE_H

#include <stdbool.h>
#include <xenstore.h>

#include "xenstore/xenbus.h"

/* Opens the xenbus helpers on XENSTORED_PATH; NULL after a message. */
struct pvio_xenbus *pvio_store_connect(void);
/* The value at the formatted path (malloc'd), NULL when unreadable. */
char *pvio_store_readf(struct xs_handle *h, xs_transaction_t t, const char *fmt,
		       ...) __attribute__((format(printf, 3, 4)));
/* Writes the formatted value at path. */
bool pvio_store_writef(struct xs_handle *h, xs_transaction_t t,
		       const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Removes path, then each parent left empty, stopping below stop. */
void pvio_store_rm_cleanup(struct xs_handle *h, xs_transaction_t t,
			   const char *path, const char *stop);

/* A device's directory and the ancestor its emptied parents stop below. */
struct pvio_store_rm {
	char *path, *stop;
};
/* Removes every one of the n directories as pvio_store_rm_cleanup does,
 * in one transaction (libxl__device_destroy), then frees their strings.
 * Returns 0 or pvio_xenbus_transaction's -errno. */
int pvio_store_rm_all(struct pvio_xenbus *xb, struct pvio_store_rm *rm,
		      size_t n);

#endif
