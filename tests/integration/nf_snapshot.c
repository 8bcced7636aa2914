/*
 * nf-snapshot DIR KEY...: at every watch event under DIR, read DIR/state
 * and DIR/KEY... in one transaction, retried until it commits (a
 * consistent snapshot: xenstore-ls reads without a transaction) and print
 * "state S keys N/M", N the keys present. Runs until killed. netfront.sh uses
 * it to see that a driver writes its keys and its state together.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

static char *read_in(struct xs_handle *h, xs_transaction_t t, const char *dir,
		     const char *key)
{
	char path[1024];
	unsigned len;
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_read(h, t, path, &len);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: nf-snapshot DIR KEY...\n");
		return 2;
	}
	struct xs_handle *h = xs_open(0);
	if (!h || !xs_watch(h, argv[1], "snap")) {
		fprintf(stderr, "nf-snapshot: watch %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		unsigned n;
		char **ev = xs_read_watch(h, &n);
		if (!ev)
			return 1;
		free(ev);
		for (;;) {
			xs_transaction_t t = xs_transaction_start(h);
			if (t == XBT_NULL)
				return 1;
			char *state = read_in(h, t, argv[1], "state");
			int present = 0;
			for (int i = 2; i < argc; i++) {
				char *v = read_in(h, t, argv[1], argv[i]);
				present += v != NULL;
				free(v);
			}
			/* Committed, not aborted: a read-only transaction
			 * that saw a node change under it fails with EAGAIN,
			 * and the snapshot is taken again. */
			bool done = xs_transaction_end(h, t, false) ||
				    errno != EAGAIN;
			if (done)
				printf("state %s keys %d/%d\n",
				       state ? state : "-", present, argc - 2);
			free(state);
			if (done)
				break;
		}
	}
}
