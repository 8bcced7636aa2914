/*
 * libFuzzer target over the readers of keys a peer wrote:
 * netif_read_frontend_conn (the backend reading a frontend's rings,
 * channels, queues and features) and netif_read_backend_offer (a frontend
 * reading the backend's offer).
 *
 * Input: one byte of the backend's offer (bit 0 split event channels,
 * bits 1-3 multi-queue-max-queues: 0, 1, 2, 4, 8, 16, 4096 or 5000, bit 4
 * sg, bit 5 feature-pvio-persistent-grants), then the peer's directory as lines
 * "key=value" (a value may hold any byte but a newline; a line without '=' is a
 * key that cannot be read, -EACCES). A connection read must keep the reader's
 * promises, and the keys written for it must read back the same.
 */
#include "config.h"

#include "netif.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 128

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

struct entry {
	char key[64];
	char value[96];
	int error;
};

struct dir {
	unsigned nr;
	struct entry entries[MAX_ENTRIES];
};

static int dir_read(void *ctx, const char *key, char *value, size_t size)
{
	const struct dir *d = ctx;
	/* The last write of a key wins, as in a store. */
	for (unsigned i = d->nr; i-- > 0;) {
		if (strcmp(d->entries[i].key, key))
			continue;
		if (d->entries[i].error)
			return d->entries[i].error;
		snprintf(value, size, "%s", d->entries[i].value);
		return 1;
	}
	return 0;
}

static void parse_dir(const uint8_t *data, size_t size, struct dir *d)
{
	d->nr = 0;
	size_t pos = 0;
	while (pos < size && d->nr < MAX_ENTRIES) {
		size_t end = pos;
		while (end < size && data[end] != '\n')
			end++;
		struct entry *e = &d->entries[d->nr];
		memset(e, 0, sizeof(*e));
		size_t eq = pos;
		while (eq < end && data[eq] != '=')
			eq++;
		size_t klen = eq - pos < sizeof(e->key) - 1
				      ? eq - pos
				      : sizeof(e->key) - 1;
		memcpy(e->key, data + pos, klen);
		e->key[strnlen(e->key, klen)] = '\0';
		if (eq == end) {
			e->error = -EACCES;
		} else {
			size_t vlen = end - eq - 1 < sizeof(e->value) - 1
					      ? end - eq - 1
					      : sizeof(e->value) - 1;
			memcpy(e->value, data + eq + 1, vlen);
			e->value[strnlen(e->value, vlen)] = '\0';
		}
		d->nr++;
		pos = end + 1;
	}
}

static const unsigned max_queues_choices[8] = {0, 1, 2, 4, 8, 16, 4096, 5000};

static void check_error(const struct netif_key_error *err)
{
	CHECK(err->why != NULL);
	CHECK(memchr(err->key, '\0', sizeof(err->key)) != NULL);
	CHECK(memchr(err->value, '\0', sizeof(err->value)) != NULL);
}

/* What an accepted connection promises. */
static void check_conn(const struct netif_frontend_conn *c,
		       const struct netif_features *offer)
{
	unsigned max = offer->max_queues > 1 ? offer->max_queues : 1;
	if (max > NETIF_QUEUES_MAX)
		max = NETIF_QUEUES_MAX;
	CHECK(c->nr_queues >= 1 && c->nr_queues <= max);
	CHECK(c->features.max_queues == c->nr_queues);
	CHECK(!c->split_evtchn || offer->split_evtchn);
	CHECK(c->features.split_evtchn == c->split_evtchn);
	CHECK(c->features.rx_copy && c->features.rx_notify);
	CHECK(!c->features.persistent_grants || offer->persistent_grants);
	/* sg, gso-tcpv4/v6 and ipv6-csum are the frontend's own offer
	 * (what it takes on RX), whatever the backend offered: nothing to
	 * hold them to here but the round trip below. */
	for (unsigned q = 0; q < c->nr_queues; q++) {
		CHECK(c->queues[q].evtchn_tx != 0);
		CHECK(c->queues[q].evtchn_rx != 0);
		CHECK(c->split_evtchn ||
		      c->queues[q].evtchn_rx == c->queues[q].evtchn_tx);
	}
}

/* The keys written for c read back as c. */
static void check_round_trip(const struct netif_frontend_conn *c,
			     const struct netif_features *offer)
{
	struct netif_frontend_conn w = *c;
	w.num_queues_key = c->nr_queues > 1;
	struct netif_key_value kv[NETIF_MAX_KEYS];
	unsigned n = netif_frontend_conn_keys(&w, kv, NETIF_MAX_KEYS);
	CHECK(n < NETIF_MAX_KEYS);
	static struct dir d;
	d.nr = 0;
	for (unsigned i = 0; i < n; i++) {
		struct entry *e = &d.entries[d.nr++];
		memset(e, 0, sizeof(*e));
		snprintf(e->key, sizeof(e->key), "%s", kv[i].key);
		snprintf(e->value, sizeof(e->value), "%s", kv[i].value);
	}
	struct netif_frontend_conn back;
	struct netif_key_error err;
	CHECK(netif_read_frontend_conn(dir_read, &d, offer, &back, &err) == 0);
	CHECK(back.nr_queues == c->nr_queues);
	CHECK(back.split_evtchn == c->split_evtchn);
	CHECK(!memcmp(back.queues, c->queues,
		      c->nr_queues * sizeof(c->queues[0])));
	CHECK(back.features.sg == c->features.sg);
	CHECK(back.features.gso_tcpv4 == c->features.gso_tcpv4);
	CHECK(back.features.gso_tcpv6 == c->features.gso_tcpv6);
	CHECK(back.features.ipv4_csum == c->features.ipv4_csum);
	CHECK(back.features.ipv6_csum == c->features.ipv6_csum);
	CHECK(back.features.persistent_grants == c->features.persistent_grants);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct netif_features offer = {
		.rx_copy = true,
		.rx_notify = true,
		.ipv4_csum = true,
		.ipv6_csum = true,
		.split_evtchn = data[0] & 1,
		.max_queues = max_queues_choices[(data[0] >> 1) & 7],
		.sg = data[0] & 16,
		.persistent_grants = data[0] & 32,
	};
	static struct dir d;
	parse_dir(data + 1, size - 1, &d);

	struct netif_frontend_conn conn;
	struct netif_key_error err;
	memset(&err, 0, sizeof(err));
	int rc = netif_read_frontend_conn(dir_read, &d, &offer, &conn, &err);
	if (rc == 0) {
		check_conn(&conn, &offer);
		check_round_trip(&conn, &offer);
	} else {
		CHECK(rc == -EINVAL || rc == -EACCES);
		check_error(&err);
	}

	struct netif_features read;
	memset(&err, 0, sizeof(err));
	rc = netif_read_backend_offer(dir_read, &d, &read, &err);
	if (rc == 0) {
		CHECK(read.max_queues <= 4096);
		struct netif_features chosen, supported = {.max_queues = 64};
		netif_frontend_choose(&read, &supported, &chosen);
		CHECK(chosen.max_queues >= 1 &&
		      chosen.max_queues <= NETIF_QUEUES_MAX);
	} else {
		CHECK(rc == -EINVAL || rc == -EACCES);
		check_error(&err);
	}
	return 0;
}
