/*
 * net_vif_stats FILE: prints the per-vif statistics pvio-netback keeps in
 * FILE (struct netif_vif_stats, netif/netif_stats.h), one "name<TAB>value"
 * line per counter, for the network tests to read until `pvio
 * network-stats` exists. Drop counters are named by their reason:
 * "tx_drops[too many slots]". Exit 1 with a message when FILE is missing
 * or is not a statistics file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netif/netif_stats.h"

static void put(const char *name, const uint64_t *counter)
{
	printf("%s\t%llu\n", name,
	       (unsigned long long)__atomic_load_n(counter, __ATOMIC_RELAXED));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: net_vif_stats FILE\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "net_vif_stats: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	const struct netif_vif_stats *s;
	if (st.st_size < (off_t)sizeof(*s)) {
		fprintf(stderr,
			"net_vif_stats: %s: %lld bytes, a statistics file has "
			"%zu\n",
			argv[1], (long long)st.st_size, sizeof(*s));
		return 1;
	}
	s = mmap(NULL, sizeof(*s), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (s == MAP_FAILED) {
		fprintf(stderr, "net_vif_stats: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	if (s->magic != NETIF_STATS_MAGIC ||
	    s->version != NETIF_STATS_VERSION) {
		fprintf(stderr,
			"net_vif_stats: %s: magic %#x version %u (want %#x "
			"version %u)\n",
			argv[1], s->magic, s->version, NETIF_STATS_MAGIC,
			NETIF_STATS_VERSION);
		return 1;
	}
	printf("vif\tvif%u.%u\n", s->domid, s->devid);
	put("tx_packets", &s->tx_packets);
	put("tx_bytes", &s->tx_bytes);
	put("rx_packets", &s->rx_packets);
	put("rx_bytes", &s->rx_bytes);
	char name[96];
	for (int r = 1; r < NETIF_TX_REASON_COUNT; r++) {
		snprintf(name, sizeof(name), "tx_drops[%s]",
			 netif_tx_reason_str((enum netif_tx_reason)r));
		put(name, &s->tx_drops[r]);
	}
	put("tx_grant_errors", &s->tx_grant_errors);
	put("tx_tap_errors", &s->tx_tap_errors);
	for (int d = 0; d < NETIF_RX_DROP_COUNT; d++) {
		snprintf(name, sizeof(name), "rx_drops[%s]",
			 netif_rx_drop_str((enum netif_rx_drop)d));
		put(name, &s->rx_drops[d]);
	}
	put("tx_batches", &s->tx_batches);
	put("rx_batches", &s->rx_batches);
	put("rx_ring_full", &s->rx_ring_full);
	put("notify_sent", &s->notify_sent);
	put("notify_received", &s->notify_received);
	put("syscalls", &s->syscalls);
	put("disabled", &s->disabled);
	return 0;
}
