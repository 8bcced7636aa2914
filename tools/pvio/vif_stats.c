/* Reading and printing the per-vif statistics file of pvio-netback. */
#include "config.h"

#include "vif_stats.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The least bytes of the file's layout in version v: fields are only
 * appended. A version-1 file may end before its offload counters (an
 * older pvio-netback: they read as 0) and has no queue counters; a
 * version-2 one may end before its persistent-grant counters. */
static size_t stats_min_size(uint32_t version)
{
	return version == 1
		       ? offsetof(struct netif_vif_stats, tx_gso_packets)
		       : offsetof(struct netif_vif_stats, tx_mapped_packets);
}

/* The header is written once, before the file is used: a plain read.
 * *version is the file's. */
static int check_header(int fd, const char *path, const struct stat *st,
			uint32_t *version, char *err, size_t errlen)
{
	uint32_t head[2];
	if (st->st_size < (off_t)sizeof(head) ||
	    pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head)) {
		snprintf(err, errlen,
			 "%s: %lld bytes, too short for a statistics file",
			 path, (long long)st->st_size);
		return -1;
	}
	if (head[0] != NETIF_STATS_MAGIC) {
		snprintf(err, errlen,
			 "%s is not a vif statistics file (magic 0x%08" PRIx32
			 ", expected 0x%08x)",
			 path, head[0], NETIF_STATS_MAGIC);
		return -1;
	}
	if (head[1] != NETIF_STATS_VERSION && head[1] != 1) {
		snprintf(err, errlen,
			 "%s: statistics version %" PRIu32
			 ", this pvio reads version %u (pvio and pvio-netback "
			 "differ)",
			 path, head[1], NETIF_STATS_VERSION);
		return -1;
	}
	if ((size_t)st->st_size < stats_min_size(head[1])) {
		snprintf(err, errlen,
			 "%s: %lld bytes, version %u has at least %zu: "
			 "truncated",
			 path, (long long)st->st_size, head[1],
			 stats_min_size(head[1]));
		return -1;
	}
	*version = head[1];
	return 0;
}

#define LOAD(field) out->field = __atomic_load_n(&map->field, __ATOMIC_RELAXED)

/* A counter appended within its version, when the file has it. */
#define LOAD_APPENDED(field)                                                   \
	do {                                                                   \
		if (size >= offsetof(struct netif_vif_stats, field) +          \
				    sizeof(map->field))                        \
			LOAD(field);                                           \
	} while (0)

static void snapshot(const struct netif_vif_stats *map, uint32_t version,
		     size_t size, struct netif_vif_stats *out)
{
	memset(out, 0, sizeof(*out));
	LOAD(magic);
	LOAD(version);
	LOAD(domid);
	LOAD(devid);
	LOAD(tx_packets);
	LOAD(tx_bytes);
	LOAD(rx_packets);
	LOAD(rx_bytes);
	for (unsigned i = 0; i < NETIF_TX_REASON_COUNT; i++)
		LOAD(tx_drops[i]);
	LOAD(tx_grant_errors);
	LOAD(tx_tap_errors);
	for (unsigned i = 0; i < NETIF_RX_DROP_COUNT; i++)
		LOAD(rx_drops[i]);
	LOAD(tx_batches);
	LOAD(rx_batches);
	LOAD(rx_ring_full);
	LOAD(notify_sent);
	LOAD(notify_received);
	LOAD(syscalls);
	LOAD(disabled);
	LOAD_APPENDED(tx_gso_packets);
	LOAD_APPENDED(rx_gso_packets);
	LOAD_APPENDED(rx_csum_filled);
	if (version < 2)
		return;
	LOAD(nr_queues);
	for (unsigned i = 0; i < NETIF_QUEUES_MAX; i++) {
		LOAD(queue[i].tx_packets);
		LOAD(queue[i].rx_packets);
	}
	LOAD_APPENDED(tx_mapped_packets);
	LOAD_APPENDED(tx_maps);
	LOAD_APPENDED(rx_mapped_packets);
	LOAD_APPENDED(rx_maps);
}

#undef LOAD_APPENDED
#undef LOAD

int vif_stats_read(const char *path, unsigned domid, unsigned devid,
		   struct netif_vif_stats *out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen,
				 "no statistics for vif%u.%u: %s does not "
				 "exist (is pvio-netback running? `pvio host "
				 "status`)",
				 domid, devid, path);
		else
			snprintf(err, errlen, "cannot open %s: %s", path,
				 strerror(errno));
		return -1;
	}
	struct stat st;
	int rc = -1;
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "cannot stat %s: %s", path,
			 strerror(errno));
		goto out;
	}
	uint32_t version;
	if (check_header(fd, path, &st, &version, err, errlen))
		goto out;
	/* A version-1 file maps as far as it goes (the fields past it are
	 * not read). */
	const struct netif_vif_stats *map =
		mmap(NULL, sizeof(*map), PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %s: %s", path,
			 strerror(errno));
		goto out;
	}
	snapshot(map, version, (size_t)st.st_size, out);
	munmap((void *)map, sizeof(*map));
	if (out->domid != domid || out->devid != devid) {
		snprintf(err, errlen,
			 "%s holds the statistics of vif%" PRIu32 ".%" PRIu32
			 ", not vif%u.%u",
			 path, out->domid, out->devid, domid, devid);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

void vif_stats_print(FILE *f, const struct netif_vif_stats *s,
		     const char *domain_name)
{
	fprintf(f, "vif%" PRIu32 ".%" PRIu32, s->domid, s->devid);
	if (domain_name)
		fprintf(f, " (domain %s)", domain_name);
	fputc('\n', f);
	fprintf(f,
		"  tx (guest to bridge): %" PRIu64 " packets, %" PRIu64
		" bytes\n",
		s->tx_packets, s->tx_bytes);
	fprintf(f,
		"  rx (bridge to guest): %" PRIu64 " packets, %" PRIu64
		" bytes\n",
		s->rx_packets, s->rx_bytes);
	fputs("  tx drops:\n", f);
	/* NETIF_TX_OK counts nothing: every other reason is a drop. */
	for (unsigned r = NETIF_TX_OK + 1; r < NETIF_TX_REASON_COUNT; r++)
		fprintf(f, "    %s: %" PRIu64 "\n",
			netif_tx_reason_str((enum netif_tx_reason)r),
			s->tx_drops[r]);
	fprintf(f,
		"  tx errors: %" PRIu64 " grant copies, %" PRIu64
		" TAP writes\n",
		s->tx_grant_errors, s->tx_tap_errors);
	fputs("  rx drops:\n", f);
	for (unsigned r = 0; r < NETIF_RX_DROP_COUNT; r++)
		fprintf(f, "    %s: %" PRIu64 "\n",
			netif_rx_drop_str((enum netif_rx_drop)r),
			s->rx_drops[r]);
	fprintf(f, "  gso: %" PRIu64 " tx packets, %" PRIu64 " rx packets\n",
		s->tx_gso_packets, s->rx_gso_packets);
	fprintf(f, "  rx checksums filled: %" PRIu64 "\n", s->rx_csum_filled);
	fprintf(f, "  rx ring full: %" PRIu64 "\n", s->rx_ring_full);
	fprintf(f, "  batches: %" PRIu64 " tx, %" PRIu64 " rx\n", s->tx_batches,
		s->rx_batches);
	fprintf(f, "  notifications: %" PRIu64 " sent, %" PRIu64 " received\n",
		s->notify_sent, s->notify_received);
	fprintf(f, "  syscalls: %" PRIu64 "\n", s->syscalls);
	fprintf(f, "  disabled: %s\n",
		s->disabled ? "yes (the frontend broke the protocol)" : "no");
	/* Every queue that ever carried a packet, and those of the current
	 * connection (a version-1 file has none). */
	if (s->version < 2)
		return;
	fprintf(f, "  queues: %" PRIu64 "\n", s->nr_queues);
	for (unsigned q = 0; q < NETIF_QUEUES_MAX; q++) {
		const struct netif_queue_stats *qs = &s->queue[q];
		if (q >= s->nr_queues && !qs->tx_packets && !qs->rx_packets)
			continue;
		fprintf(f,
			"    queue %u: tx %" PRIu64 " packets, rx %" PRIu64
			" packets\n",
			q, qs->tx_packets, qs->rx_packets);
	}
	/* feature-pvio-persistent-grants at work (0 on a file that ends
	 * before these counters, or when the frontend did not take it). */
	fprintf(f,
		"  persistent grants: tx %" PRIu64 " packets from %" PRIu64
		" mapped pages, rx %" PRIu64 " packets into %" PRIu64
		" mapped pages\n",
		s->tx_mapped_packets, s->tx_maps, s->rx_mapped_packets,
		s->rx_maps);
}
