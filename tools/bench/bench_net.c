/*
 * pvio-bench net: TCP throughput (iperf3, one stream and several, each
 * direction) and TCP request/response round trips (sockperf ping-pong,
 * p50 and p99)
 * between two guests along three paths, measured in one run, rounds
 * interleaved:
 *   pvio:   two pvio guests, a vif each on xenbr0 of a private pvio host;
 *   relay:  the bare relay (bench_net_relay.c), TAP to TAP through user
 *           space with pvio's offloads: the floor of any such design;
 *   bridge: veth pairs on a bridge, no virtualization: the ceiling.
 * Then, on pvio's path, the negotiated feature set, and the CPU time (per
 * packet and per gigabyte, against the relays'), copies, system calls and
 * notifications per packet; a summary table last.
 *
 * A supervisor process owns the cleanup (net_supervise, which pvio-bench
 * scale shares): the worker records everything before creating it, and
 * whatever way the worker ends (done, failed, Ctrl-C, crashed), the
 * supervisor then removes it.
 */
#include "config.h"

#include "bench.h"
#include "bench_net.h"
#include "netif.h"
#include "ioemu/ioemu_stats.h"
#include "netif_stats.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

/*
 * Copies of a packet's data through user space, by design. pvio: netfront
 * reads it from eth0 into a granted page, netback grant-copies it and
 * writes it to the vif TAP; on the other vif netback reads it and
 * grant-copies it into a posted page, which netfront writes to eth0. With
 * persistent grants netback writes a TX frame from the frontend's mapped
 * pages and reads an RX frame straight into them (one copy fewer each:
 * the statistics file counts those). The relay: a read and a write at
 * each end.
 */
#define COPIES_PVIO   6
#define COPIES_RELAY  4
#define COPIES_BRIDGE 0

struct net_options {
	unsigned rounds, duration, message_size, strace_seconds, streams;
	bool selected[NET_PATH_COUNT];
};

static const char *const path_names[NET_PATH_COUNT] = {
	"pvio", "relay", "bridge", "emu", "emu-rtl8139"};
static const char *const path_titles[NET_PATH_COUNT] = {
	"pvio (netfront, netback, xenbr0)",
	"bare relay (TAP, read+write, TAP)",
	"veth pairs on a bridge",
	"emulated e1000 (traps, device model)",
	"emulated rtl8139 (traps, device model)",
};

/* ---- options ---- */

static bool parse_paths(const char *text, bool selected[NET_PATH_COUNT])
{
	char buf[128];
	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf))
		return false;
	memset(selected, 0, NET_PATH_COUNT * sizeof(bool));
	bool any = false;
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int k = 0;
		while (k < NET_PATH_COUNT && strcmp(tok, path_names[k]))
			k++;
		if (k == NET_PATH_COUNT || selected[k])
			return false;
		selected[k] = any = true;
	}
	return any && text[strlen(text) - 1] != ',' && text[0] != ',' &&
	       !strstr(text, ",,");
}

bool net_in_path(const char *tool)
{
	const char *path = getenv("PATH");
	char buf[4096];
	if (strchr(tool, '/'))
		return access(tool, X_OK) == 0;
	snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/bin:/bin");
	char *save = NULL;
	for (char *dir = strtok_r(buf, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		char full[PATH_MAX];
		snprintf(full, sizeof(full), "%s/%s", dir, tool);
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

void net_find_pvio(const char *given, char *out, size_t size)
{
	const char *env = getenv("PVIO");
	char scripts[PATH_MAX];
	if (!getenv("PVIO_SCRIPTDIR") &&
	    bench_beside_self("hotplug/vif-bridge", scripts, sizeof(scripts))) {
		*strrchr(scripts, '/') = '\0';
		setenv("PVIO_SCRIPTDIR", scripts, 1);
	}
	if (given || (env && *env))
		snprintf(out, size, "%s", given ? given : env);
	else if (!bench_beside_self("pvio/pvio", out, size) &&
		 !bench_beside_self("pvio", out, size))
		snprintf(out, size, "pvio");
}

/* ---- measurements ---- */

static char output[256 * 1024];

/* The last line of output that says something, for an error message. */
static const char *last_words(void)
{
	size_t len = strlen(output);
	while (len && (output[len - 1] == '\n' || output[len - 1] == ' '))
		output[--len] = '\0';
	const char *nl = strrchr(output, '\n');
	return len ? (nl ? nl + 1 : output) : "(no output)";
}

/* iperf3's server takes one test at a time and turns a client away
 * (closing on its unread cookie: a reset) while it is still ending the
 * last one; a slow path makes that more likely. */
static bool iperf3_server_busy(void)
{
	return strstr(output, "the server is busy") ||
	       strstr(output, "unable to receive control message");
}

bool net_iperf3_received(const char *json, const char *sum, double *mbps,
			 double *bytes)
{
	char key[64];
	snprintf(key, sizeof(key), "\"%s\"", sum);
	const char *at = NULL;
	/* The last: the end's sums follow the intervals'. */
	for (const char *s = json; (s = strstr(s, key)); s++)
		at = s;
	const char *bps = at ? strstr(at, "\"bits_per_second\"") : NULL;
	const char *n = at ? strstr(at, "\"bytes\"") : NULL;
	double v, b;
	if (!bps || !n || sscanf(bps + 17, " : %lf", &v) != 1 ||
	    sscanf(n + 7, " : %lf", &b) != 1)
		return false;
	*mbps = v / 1e6;
	*bytes = b;
	return true;
}

/* One iperf3 run from guest[0] with streams parallel streams; Mbit/s the
 * receiver counted, and the bytes into *bytes. */
static double measure_throughput(const struct net_path *p, bool reverse,
				 unsigned streams, unsigned secs,
				 const char *tmpdir, double *bytes)
{
	const char *argv[32];
	char t[16], port[8], parallel[16];
	snprintf(t, sizeof(t), "%u", secs);
	snprintf(port, sizeof(port), "%d", NET_IPERF_PORT);
	snprintf(parallel, sizeof(parallel), "%u", streams);
	net_guest_argv(&p->guest[0], argv, 32, "iperf3", "-c", p->guest[1].addr,
		       "-p", port, "-t", t, "-J", "--connect-timeout", "5000",
		       "-P", parallel, reverse ? "-R" : NULL, NULL);
	const char *from = p->guest[reverse].label,
		   *to = p->guest[!reverse].label;
	for (int attempt = 1;; attempt++) {
		int status = net_run(argv, (secs + 20) * 1000, output,
				     sizeof(output));
		double v, b;
		if (!status &&
		    net_iperf3_received(output, "sum_received", &v, &b)) {
			if (bytes)
				*bytes = b;
			return v;
		}
		if (attempt < 3 && iperf3_server_busy()) {
			fprintf(stderr,
				"  %s: iperf3 %s -> %s: the server was still "
				"busy; again in 1 s\n",
				p->name, from, to);
			sleep(1);
			continue;
		}
		const char *err = strstr(output, "\"error\"");
		char log[PATH_MAX], tail[2048];
		snprintf(log, sizeof(log), "%s/%s-iperf3.log", tmpdir, p->name);
		net_log_tail(log, tail, sizeof(tail));
		net_fatal("%s path: iperf3 %s -> %s (%u streams) failed: %s%s",
			  p->name, from, to, streams, err ? err : last_words(),
			  tail);
	}
}

/* One sockperf ping-pong from guest[0]: round-trip p50 and p99 in us. */
static void measure_latency(const struct net_path *p, unsigned secs,
			    unsigned message_size, double *p50, double *p99)
{
	const char *argv[32];
	char t[16], port[8], size[16];
	snprintf(t, sizeof(t), "%u", secs);
	snprintf(port, sizeof(port), "%d", NET_SOCKPERF_PORT);
	snprintf(size, sizeof(size), "%u", message_size);
	net_guest_argv(&p->guest[0], argv, 32, "sockperf", "ping-pong", "--tcp",
		       "-i", p->guest[1].addr, "-p", port, "-t", t, "-m", size,
		       "--full-rtt", NULL);
	int status = net_run(argv, (secs + 20) * 1000, output, sizeof(output));
	const char *a = strstr(output, "percentile 50.000 =");
	const char *b = strstr(output, "percentile 99.000 =");
	if (status || !a || !b || sscanf(a + 19, "%lf", p50) != 1 ||
	    sscanf(b + 19, "%lf", p99) != 1)
		net_fatal("%s path: sockperf ping-pong %s -> %s failed: %s",
			  p->name, p->guest[0].label, p->guest[1].label,
			  last_words());
}

/* ---- pvio's counters ---- */

/* What pvio-netback counted on both vifs together. */
struct vif_totals {
	uint64_t packets, syscalls, notifies, batches;
	uint64_t mapped; /* frames netback did not copy itself: TX from,
			    RX into, the frontend's mapped pages */
};

/* Sums both vifs' statistics; false (with the reason) when unreadable. */
static bool read_vif_totals(const struct net_path *p, struct vif_totals *t,
			    char *why, size_t size)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < 2; i++) {
		char path[PATH_MAX + 64];
		struct netif_vif_stats s;
		netif_stats_path(path, sizeof(path), p->pvio_rundir,
				 p->domid[i], 0);
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(&s, 1, sizeof(s), f) : 0;
		if (f)
			fclose(f);
		if (n != sizeof(s) || s.magic != NETIF_STATS_MAGIC ||
		    s.version != NETIF_STATS_VERSION ||
		    s.domid != p->domid[i] || s.devid != 0) {
			snprintf(why, size, "%s: %s", path,
				 !f		  ? strerror(errno)
				 : n != sizeof(s) ? "short file"
						  : "wrong magic, version or "
						    "vif");
			return false;
		}
		t->packets += s.tx_packets + s.rx_packets;
		t->syscalls += s.syscalls;
		t->notifies += s.notify_sent + s.notify_received;
		t->batches += s.tx_batches + s.rx_batches;
		t->mapped += s.tx_mapped_packets + s.rx_mapped_packets;
	}
	/* Every packet is tx on one vif and rx on the other. */
	t->packets /= 2;
	return true;
}

static void add_delta(struct vif_totals *acc, const struct vif_totals *a,
		      const struct vif_totals *b)
{
	acc->packets += b->packets - a->packets;
	acc->syscalls += b->syscalls - a->syscalls;
	acc->notifies += b->notifies - a->notifies;
	acc->batches += b->batches - a->batches;
	acc->mapped += b->mapped - a->mapped;
}

/* ---- the programs that move the frames ---- */

/* pid of pvio-netfront in a guest's namespace, or 0. */
pid_t net_netfront_pid(const struct net_guest *g)
{
	char *end;
	if (net_run((const char *const[]){"ip", "netns", "pids", g->netns,
					  NULL},
		    10000, output, sizeof(output)))
		return 0;
	for (char *s = output; *s; s = end) {
		long pid = strtol(s, &end, 10);
		if (end == s)
			break;
		char path[64], comm[32] = "";
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		FILE *f = fopen(path, "r");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = '\0';
			fclose(f);
		}
		if (!strcmp(comm, "pvio-netfront\n"))
			return (pid_t)pid;
	}
	return 0;
}

/*
 * The processes that move a path's frames through user space: pvio-netback
 * and both pvio-netfronts, or both relays; how many were found (0 when one
 * is missing, or the path has none).
 */
static size_t path_movers(const struct net_path *p, pid_t pids[3])
{
	if (p->kind == NET_PATH_RELAY) {
		pids[0] = p->relay[0];
		pids[1] = p->relay[1];
		return 2;
	}
	if (p->kind != NET_PATH_PVIO)
		return 0;
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/netback.pid", p->pvio_rundir);
	FILE *f = fopen(path, "r");
	int pid = 0;
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	pids[0] = (pid_t)pid;
	pids[1] = net_netfront_pid(&p->guest[0]);
	pids[2] = net_netfront_pid(&p->guest[1]);
	return pids[0] && pids[1] && pids[2] ? 3 : 0;
}

/* Packets from one guest's eth0 towards the other's so far (pvio:
 * netback's counters; relay: its own). */
static uint64_t path_packets(const struct net_path *p)
{
	struct vif_totals t;
	char why[PATH_MAX + 128];
	if (p->kind == NET_PATH_RELAY)
		return __atomic_load_n(&p->relay_counters[0].to_bridge,
				       __ATOMIC_RELAXED) +
		       __atomic_load_n(&p->relay_counters[1].to_bridge,
				       __ATOMIC_RELAXED);
	return read_vif_totals(p, &t, why, sizeof(why)) ? t.packets : 0;
}

double net_cpu_us(pid_t pid)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	bool got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	/* Fields 14 and 15, counted after the ")" that ends the name. */
	const char *rest = got ? strrchr(line, ')') : NULL;
	unsigned long utime, stime;
	if (!rest || sscanf(rest + 1,
			    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			    "%lu %lu",
			    &utime, &stime) != 2)
		return 0;
	return (double)(utime + stime) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

/* The movers' CPU time, the packets and (iperf3) the bytes received over
 * the rounds' measurements, by kind (0: iperf3, 1: ping-pong). */
struct cpu_use {
	size_t n;
	pid_t pid[3];
	double start[3], us[2][3], bytes;
	uint64_t packets_start, packets[2];
};

static void cpu_begin(const struct net_path *p, struct cpu_use *c)
{
	for (size_t i = 0; i < c->n; i++)
		c->start[i] = net_cpu_us(c->pid[i]);
	c->packets_start = c->n ? path_packets(p) : 0;
}

static void cpu_end(const struct net_path *p, struct cpu_use *c, int kind)
{
	for (size_t i = 0; i < c->n; i++)
		c->us[kind][i] += net_cpu_us(c->pid[i]) - c->start[i];
	if (c->n)
		c->packets[kind] += path_packets(p) - c->packets_start;
}

/* ---- the rounds ---- */

/* The throughput runs: one stream and several, each way. */
enum { TPUT_ONE, TPUT_ONE_REV, TPUT_MANY, TPUT_MANY_REV, TPUT_COUNT };

struct samples {
	double *tput[TPUT_COUNT]; /* Mbit/s */
	double *p50, *p99;
};

/* Snapshot the pvio counters around one measurement. */
struct accounting {
	bool have;
	char why[PATH_MAX + 128];
	struct vif_totals tput, pingpong, before;
};

static void account_begin(const struct net_path *p, struct accounting *acc)
{
	if (p->kind == NET_PATH_PVIO && acc->have)
		acc->have = read_vif_totals(p, &acc->before, acc->why,
					    sizeof(acc->why));
}

static void account_end(const struct net_path *p, struct accounting *acc,
			struct vif_totals *into)
{
	struct vif_totals after;
	if (p->kind != NET_PATH_PVIO || !acc->have)
		return;
	acc->have = read_vif_totals(p, &after, acc->why, sizeof(acc->why));
	if (acc->have)
		add_delta(into, &acc->before, &after);
}

static void print_offloads(const struct net_path *p)
{
	const char *argv[16];
	net_guest_argv(&p->guest[0], argv, 16, "ethtool", "-k", "eth0", NULL);
	if (net_run(argv, 10000, output, sizeof(output))) {
		printf("  %-8s eth0 offloads: (ethtool failed: %s)\n", p->name,
		       last_words());
		return;
	}
	static const char *const keys[] = {"tx-checksumming", "scatter-gather",
					   "tcp-segmentation-offload",
					   "generic-segmentation-offload"};
	printf("  %-8s eth0 of %s:", p->name, p->guest[0].label);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char want[64], val[16] = "?";
		snprintf(want, sizeof(want), "\n%s: ", keys[k]);
		const char *at = strstr(output, want);
		if (at)
			sscanf(at + strlen(want), "%15s", val);
		printf(" %s %s%s", keys[k], val,
		       k + 1 < sizeof(keys) / sizeof(keys[0]) ? "," : "\n");
	}
}

/* Prints the keys of one xenstore directory that say what an end offers
 * or chose (feature-*, request-*, multi-queue-*), as they are: a feature
 * another branch adds shows without a change here. */
static void print_feature_keys(const struct net_path *p, const char *pvio,
			       const char *who, const char *dir)
{
	/* In dom0 (`pvio exec 0`), whose xenstore socket sees both. */
	const char *const argv[] = {pvio,	   "--rundir", p->pvio_rundir,
				    "exec",	   "0",	       "--",
				    "xenstore-ls", dir,	       NULL};
	printf("    %-9s", who);
	if (net_run(argv, 10000, output, sizeof(output))) {
		printf(" (xenstore-ls %s failed: %s)\n", dir, last_words());
		return;
	}
	static const char *const prefixes[] = {"feature-", "request-",
					       "multi-queue-"};
	unsigned col = 14, shown = 0;
	for (char *line = output, *next; *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		char key[64], value[64];
		/* Top-level "key = \"value\"" lines only (queue-N/ is
		 * indented). */
		if (sscanf(line, "%63[^ =] = \"%63[^\"]\"", key, value) != 2)
			continue;
		bool wanted = false;
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]);
		     i++)
			wanted |=
				!strncmp(key, prefixes[i], strlen(prefixes[i]));
		if (!wanted)
			continue;
		unsigned len = (unsigned)(strlen(key) + strlen(value) + 2);
		if (shown && col + len > 78) {
			printf("\n    %-9s", "");
			col = 14;
		}
		printf(" %s=%s", key, value);
		col += len;
		shown++;
	}
	printf("%s\n", shown ? "" : " (none)");
}

/* The feature set of alpha's vif, both ends, from the pvio host's
 * xenstore. */
static void print_features(const struct net_path *p, const char *pvio)
{
	char dir[2][96];
	snprintf(dir[0], sizeof(dir[0]), "/local/domain/0/backend/vif/%u/0",
		 p->domid[0]);
	snprintf(dir[1], sizeof(dir[1]), "/local/domain/%u/device/vif/0",
		 p->domid[0]);
	printf("  %-8s negotiated, vif of %s (xenstore feature-*, request-*, "
	       "multi-queue-*):\n",
	       p->name, p->guest[0].label);
	print_feature_keys(p, pvio, "backend:", dir[0]);
	print_feature_keys(p, pvio, "frontend:", dir[1]);
}

/* ---- strace accounting ---- */

/* What strace -c counted for one or more processes: every system call
 * by name, and the total. */
#define STRACE_MAX_NAMES 64
struct strace_summary {
	uint64_t total;
	size_t n;
	struct {
		char name[32];
		uint64_t calls, errors;
	} rows[STRACE_MAX_NAMES];
};

static void summary_add(struct strace_summary *s, const char *name,
			uint64_t calls, uint64_t errors)
{
	size_t i = 0;
	while (i < s->n && strcmp(s->rows[i].name, name))
		i++;
	if (i == s->n) {
		if (s->n == STRACE_MAX_NAMES)
			return;
		snprintf(s->rows[s->n++].name, sizeof(s->rows[0].name), "%s",
			 name);
	}
	s->rows[i].calls += calls;
	s->rows[i].errors += errors;
}

/* Adds the rows of strace's summary file to s (none when it has none). */
static void strace_read(const char *file, struct strace_summary *s)
{
	FILE *f = fopen(file, "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		double pct, secs;
		unsigned long long usecs, n;
		int used;
		if (sscanf(line, "%lf %lf %llu %llu%n", &pct, &secs, &usecs, &n,
			   &used) != 4)
			continue;
		/* The name is the last column; the errors column stands
		 * before it when some calls failed. */
		line[strcspn(line, "\n")] = '\0';
		const char *name = strrchr(line, ' ');
		name = name ? name + 1 : line + used;
		unsigned long long errors = 0;
		if (sscanf(line + used, "%llu", &errors) != 1)
			errors = 0;
		if (!strcmp(name, "total"))
			s->total += n;
		else
			summary_add(s, name, n, errors);
	}
	if (f)
		fclose(f);
}

/* "name N.NN, ..." for the top calls per packet, most frequent first. */
static void summary_top(struct strace_summary *s, double packets, char *out,
			size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	for (int k = 0; k < 4; k++) {
		size_t best = s->n;
		for (size_t i = 0; i < s->n; i++)
			if (s->rows[i].calls &&
			    (best == s->n ||
			     s->rows[i].calls > s->rows[best].calls))
				best = i;
		if (best == s->n || len + 1 >= size)
			break;
		len += (size_t)snprintf(out + len, size - len, "%s%s %.2f",
					k ? ", " : "", s->rows[best].name,
					(double)s->rows[best].calls / packets);
		if (s->rows[best].errors && len + 1 < size)
			len += (size_t)snprintf(
				out + len, size - len, " (%.2f failed)",
				(double)s->rows[best].errors / packets);
		s->rows[best].calls = 0;
	}
}

/* Reap pid within ms, or kill it; whether it ended by itself. */
static bool wait_bounded(pid_t pid, unsigned ms)
{
	for (unsigned waited = 0; waited < ms; waited += 10) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return true;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return false;
}

/*
 * Count the system calls of pids (n of them) with strace -c while guest[0]
 * runs the workload for secs, into sums[group[i]] (zeroed first).
 */
static bool strace_run(const struct net_path *p, const pid_t *pids, size_t n,
		       bool pingpong, unsigned secs, unsigned message_size,
		       const char *tmpdir, const int *group,
		       struct strace_summary *sums)
{
	pid_t tracer[4];
	char file[4][PATH_MAX], pidtext[4][16];
	for (size_t i = 0; i < n; i++) {
		snprintf(file[i], sizeof(file[i]), "%s/strace-%s-%zu.txt",
			 tmpdir, p->name, i);
		snprintf(pidtext[i], sizeof(pidtext[i]), "%d", (int)pids[i]);
		char log[PATH_MAX + 8];
		snprintf(log, sizeof(log), "%s.log", file[i]);
		tracer[i] = net_spawn(
			(const char *const[]){"strace", "-c", "-f", "-o",
					      file[i], "-p", pidtext[i], NULL},
			log);
	}
	/* Attaching takes a moment; what it misses is not counted on
	 * either side of the ratio (packets are counted the same way). */
	usleep(300000);
	if (pingpong) {
		double p50, p99;
		measure_latency(p, secs, message_size, &p50, &p99);
	} else {
		measure_throughput(p, false, 1, secs, tmpdir, NULL);
	}
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		/* On SIGINT strace detaches, writes its summary and exits
		 * 130. */
		kill(tracer[i], SIGINT);
		ok &= wait_bounded(tracer[i], 10000);
		uint64_t before = sums[group[i]].total;
		strace_read(file[i], &sums[group[i]]);
		ok &= sums[group[i]].total > before;
	}
	return ok;
}

/* Per packet: pvio's netback, both netfronts, both relays. */
enum { FIG_NETBACK, FIG_NETFRONTS, FIG_RELAYS, FIG_COUNT };
struct strace_figures {
	bool have[FIG_COUNT];
	double calls[FIG_COUNT];
	char top[FIG_COUNT][256];
};

static void strace_figure(struct strace_figures *fig, int which,
			  struct strace_summary *sum, double packets)
{
	fig->have[which] = true;
	fig->calls[which] = (double)sum->total / packets;
	summary_top(sum, packets, fig->top[which], sizeof(fig->top[which]));
}

static void strace_accounting(const struct net_path *pvio,
			      const struct net_path *relay,
			      const struct net_options *o, const char *tmpdir,
			      bool pingpong, struct strace_figures *fig)
{
	static struct strace_summary sums[2];
	memset(fig, 0, sizeof(*fig));
	if (pvio) {
		pid_t pids[3];
		static const int group[3] = {0, 1, 1};
		memset(sums, 0, sizeof(sums));
		uint64_t before = path_packets(pvio);
		if (path_movers(pvio, pids) == 3 &&
		    strace_run(pvio, pids, 3, pingpong, o->strace_seconds,
			       o->message_size, tmpdir, group, sums) &&
		    path_packets(pvio) > before) {
			double packets = (double)(path_packets(pvio) - before);
			strace_figure(fig, FIG_NETBACK, &sums[0], packets);
			strace_figure(fig, FIG_NETFRONTS, &sums[1], packets);
		}
	}
	if (relay) {
		static const int group[2] = {0, 0};
		memset(sums, 0, sizeof(sums));
		uint64_t before = path_packets(relay);
		if (strace_run(relay, relay->relay, 2, pingpong,
			       o->strace_seconds, o->message_size, tmpdir,
			       group, sums) &&
		    path_packets(relay) > before)
			strace_figure(fig, FIG_RELAYS, &sums[0],
				      (double)(path_packets(relay) - before));
	}
}

/* ---- the report ---- */

/* A target of pvio's against one baseline (NULL: none). */
struct net_targets {
	const char *relay, *bridge;
};

/* Prints a metric's samples per path and the ratios of every pair of
 * paths; the medians go to median[] (by path kind). */
static void report_metric(const char *title, struct net_path *const *paths,
			  size_t n, double *const *samples, unsigned rounds,
			  const char *unit, struct net_targets target,
			  double median[NET_PATH_COUNT])
{
	double m[NET_PATH_COUNT];
	printf("%s:\n", title);
	for (size_t i = 0; i < n; i++) {
		m[i] = bench_report_samples(paths[i]->title, samples[i], rounds,
					    unit);
		median[paths[i]->kind] = m[i];
	}
	/* Every pair, first over later: pvio over a baseline carries the
	 * targets. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			char what[64];
			snprintf(what, sizeof(what), "ratio %s / %s",
				 paths[i]->name, paths[j]->name);
			const char *t = NULL;
			if (paths[i]->kind == NET_PATH_PVIO)
				t = paths[j]->kind == NET_PATH_RELAY
					    ? target.relay
					    : target.bridge;
			bench_report_ratio(what, m[j] ? m[i] / m[j] : 0,
					   t ? t : "none, for reference");
		}
}

/* One per-packet figure: "KIND: WHO" and the count, 2 decimals. */
static void report_count(const char *kind, const char *who, double value,
			 const char *unit)
{
	char what[80];
	snprintf(what, sizeof(what), "%s: %s", kind, who);
	bench_report_precise(what, value, 2, unit);
}

/* CPU seconds of movers [first, last] per gigabyte (1e9 bytes) iperf3
 * received; false when nothing was counted. */
static bool cpu_per_gb(const struct cpu_use *c, size_t first, size_t last,
		       double *secs)
{
	if (!c || !c->n || c->bytes <= 0 || last >= c->n)
		return false;
	*secs = 0;
	for (size_t i = first; i <= last; i++)
		*secs += c->us[0][i] / 1e6;
	*secs /= c->bytes / 1e9;
	return true;
}

/* CPU time per packet of movers [first, last] for kind; false when
 * nothing was counted. */
static bool cpu_per_packet(const struct cpu_use *c, int kind, size_t first,
			   size_t last, double *us)
{
	if (!c || !c->n || !c->packets[kind] || last >= c->n)
		return false;
	*us = 0;
	for (size_t i = first; i <= last; i++)
		*us += c->us[kind][i];
	*us /= (double)c->packets[kind];
	return true;
}

static void report_per_packet(const struct accounting *acc,
			      const struct strace_figures *fig,
			      const struct net_options *o,
			      const struct cpu_use *pvio_cpu,
			      const struct cpu_use *relay_cpu)
{
	bool have_pvio = pvio_cpu != NULL, have_relay = relay_cpu != NULL;
	static const char *const kinds[2] = {"iperf3", "ping-pong"};
	printf("per packet (one frame from one guest's eth0 to the other's, "
	       "either direction,\nACKs included):\n");
	printf("  %-44s pvio %d (%d with persistent grants), relay %d, "
	       "bridge %d\n  %-44s (by design; the socket copies at both "
	       "ends, on every\n  %-44s path, not counted)\n",
	       "copies through user space", COPIES_PVIO, COPIES_PVIO - 2,
	       COPIES_RELAY, COPIES_BRIDGE, "", "");
	if (have_pvio && !acc->have)
		printf("  netback's counters: unavailable (%s)\n", acc->why);
	/* CPU time of the movers during the rounds (clock ticks, so
	 * coarse on short runs). */
	static const struct {
		bool relay;
		size_t first, last;
		const char *who;
	} cpu_rows[] = {{false, 0, 2, "CPU, pvio in all"},
			{false, 0, 0, "CPU, netback"},
			{false, 1, 2, "CPU, both netfronts"},
			{true, 0, 1, "CPU, both relays"}};
	for (int k = 0; k < 2; k++)
		for (size_t r = 0; r < sizeof(cpu_rows) / sizeof(cpu_rows[0]);
		     r++) {
			double us;
			if (cpu_per_packet(
				    cpu_rows[r].relay ? relay_cpu : pvio_cpu, k,
				    cpu_rows[r].first, cpu_rows[r].last, &us))
				report_count(kinds[k], cpu_rows[r].who, us,
					     "us per packet");
		}
	for (size_t r = 0; r < sizeof(cpu_rows) / sizeof(cpu_rows[0]); r++) {
		double secs;
		if (cpu_per_gb(cpu_rows[r].relay ? relay_cpu : pvio_cpu,
			       cpu_rows[r].first, cpu_rows[r].last, &secs))
			report_count("iperf3", cpu_rows[r].who, secs,
				     "CPU s per GB received");
	}
	for (int k = 0; have_pvio && acc->have && k < 2; k++) {
		const struct vif_totals *t = k ? &acc->pingpong : &acc->tput;
		double pk = t->packets ? (double)t->packets : 1;
		report_count(kinds[k], "copies through user space",
			     COPIES_PVIO - (double)t->mapped / pk,
			     "per packet (statistics file: TX from and RX "
			     "into mapped pages)");
		report_count(kinds[k], "netback system calls",
			     (double)t->syscalls / pk,
			     "per packet (statistics file)");
		report_count(kinds[k], "notifications",
			     (double)t->notifies / pk,
			     "per packet (netback sent + received)");
		/* Each packet is in one TX batch (sender's vif) and one RX
		 * batch (receiver's): 1.00 means no batching. */
		report_count(kinds[k], "packets per ring batch",
			     t->batches ? 2.0 * (double)t->packets /
						  (double)t->batches
					: 0,
			     "(TX and RX batches of both vifs)");
	}
	static const char *const who[FIG_COUNT] = {"netback", "both netfronts",
						   "both relays"};
	for (int k = 0; o->strace_seconds && k < 2; k++) {
		char kind[32];
		snprintf(kind, sizeof(kind), "strace, %s", kinds[k]);
		for (int w = 0; w < FIG_COUNT; w++) {
			if (w == FIG_RELAYS ? !have_relay : !have_pvio)
				continue;
			if (!fig[k].have[w]) {
				printf("  %s: %s: not counted (strace missing, "
				       "it could not attach or no packets)\n",
				       kind, who[w]);
				continue;
			}
			report_count(kind, who[w], fig[k].calls[w],
				     "system calls per packet");
			printf("  %-44s %s\n", "", fig[k].top[w]);
			if (w == FIG_NETFRONTS && fig[k].have[FIG_NETBACK])
				report_count(
					kind, "pvio in all",
					fig[k].calls[FIG_NETBACK] +
						fig[k].calls[FIG_NETFRONTS],
					"system calls per packet");
		}
	}
}

/* An emu path's cost per packet: what both device models counted
 * (ioemu_stats.h) over the whole run, setup included. */
static void report_emu(const struct net_path *p)
{
	uint64_t traps = 0, irqs = 0, frames = 0;
	for (int i = 0; i < 2; i++) {
		char path[PATH_MAX + 64];
		snprintf(path, sizeof(path), IOEMU_STATS_FMT, p->pvio_rundir,
			 p->domid[i], 0u);
		FILE *f = fopen(path, "r");
		struct ioemu_nic_stats st;
		bool ok = f && fread(&st, sizeof(st), 1, f) == 1 &&
			  st.magic == IOEMU_STATS_MAGIC &&
			  st.version == IOEMU_STATS_VERSION &&
			  st.size == sizeof(st);
		if (f)
			fclose(f);
		if (!ok) {
			printf("  %s: the device models' counters: "
			       "unavailable (%s)\n",
			       p->name, path);
			return;
		}
		traps += st.ioreqs;
		irqs += st.interrupts;
		frames += st.tx_packets;
	}
	if (!frames)
		return;
	char what[64];
	snprintf(what, sizeof(what), "%s (%s), per frame guest to guest",
		 p->name, p->kind == NET_PATH_EMU ? "e1000" : "rtl8139");
	printf("  %-44s %.2f traps, %.2f interrupts (both ends, %llu "
	       "frames)\n",
	       what, (double)traps / (double)frames,
	       (double)irqs / (double)frames, (unsigned long long)frames);
}

static int net_worker(const struct net_options *o, struct net_cleanup *rec,
		      struct net_relay_counters *counters)
{
	printf("  rounds: %u, interleaved; medians (range). %u s per "
	       "measurement; addresses 169.254.0.0/16.\n",
	       o->rounds, o->duration);
	static struct net_path all[NET_PATH_COUNT];
	struct net_path *paths[NET_PATH_COUNT], *pvio = NULL, *relay = NULL;
	size_t n = 0;

	for (int k = 0; k < NET_PATH_COUNT; k++) {
		if (!o->selected[k])
			continue;
		struct net_path *p = &all[k];
		p->kind = (enum net_path_kind)k;
		p->name = path_names[k];
		p->title = path_titles[k];
		p->relay_counters = counters;
		fprintf(stderr, "  setting up the %s path\n", p->name);
		net_path_setup(p, rec);
		paths[n++] = p;
		if (p->kind == NET_PATH_PVIO)
			pvio = p;
		if (p->kind == NET_PATH_RELAY)
			relay = p;
	}
	for (size_t i = 0; i < n; i++)
		print_offloads(paths[i]);
	if (pvio)
		print_features(pvio, rec->pvio);
	fflush(stdout);

	struct samples s[NET_PATH_COUNT];
	for (size_t i = 0; i < n; i++) {
		bool ok = true;
		for (int t = 0; t < TPUT_COUNT; t++)
			ok &= (s[i].tput[t] = calloc(o->rounds,
						     sizeof(double))) != NULL;
		s[i].p50 = calloc(o->rounds, sizeof(double));
		s[i].p99 = calloc(o->rounds, sizeof(double));
		if (!ok || !s[i].p50 || !s[i].p99)
			net_fatal("out of memory");
	}
	struct accounting acc = {.have = true};
	static struct cpu_use cpu[NET_PATH_COUNT];
	for (size_t i = 0; i < n; i++)
		cpu[i].n = path_movers(paths[i], cpu[i].pid);
	for (unsigned r = 0; r < o->rounds; r++) {
		/* Each round starts with another path, so that no path
		 * always runs right after the same neighbour. */
		for (size_t step = 0; step < n; step++) {
			size_t i = (step + r) % n;
			struct net_path *p = paths[i];
			for (int t = 0; t < TPUT_COUNT; t++) {
				bool rev =
					t == TPUT_ONE_REV || t == TPUT_MANY_REV;
				unsigned streams =
					t >= TPUT_MANY ? o->streams : 1;
				double bytes;
				account_begin(p, &acc);
				cpu_begin(p, &cpu[i]);
				s[i].tput[t][r] = measure_throughput(
					p, rev, streams, o->duration,
					rec->tmpdir, &bytes);
				cpu_end(p, &cpu[i], 0);
				cpu[i].bytes += bytes;
				account_end(p, &acc, &acc.tput);
			}
			account_begin(p, &acc);
			cpu_begin(p, &cpu[i]);
			measure_latency(p, o->duration, o->message_size,
					&s[i].p50[r], &s[i].p99[r]);
			cpu_end(p, &cpu[i], 1);
			account_end(p, &acc, &acc.pingpong);
		}
		fprintf(stderr, "  round %u/%u done\n", r + 1, o->rounds);
	}

	struct strace_figures fig[2];
	memset(fig, 0, sizeof(fig));
	if (o->strace_seconds && net_in_path("strace") && (pvio || relay)) {
		fprintf(stderr, "  counting system calls with strace\n");
		for (int k = 0; k < 2; k++)
			strace_accounting(pvio, relay, o, rec->tmpdir, k,
					  &fig[k]);
	}

	/* The summary table's rows: the medians by path kind. */
	enum { ROW_TPUT = 0, ROW_P50 = TPUT_COUNT, ROW_P99, ROW_CPU, ROWS };
	double med[ROWS][NET_PATH_COUNT];
	bool have[NET_PATH_COUNT] = {false};
	memset(med, 0, sizeof(med));
	for (size_t i = 0; i < n; i++)
		have[paths[i]->kind] = true;
	char row[ROWS][64];
	double *col[NET_PATH_COUNT];
	char title[128];
	for (int t = 0; t < TPUT_COUNT; t++) {
		bool rev = t == TPUT_ONE_REV || t == TPUT_MANY_REV;
		unsigned streams = t >= TPUT_MANY ? o->streams : 1;
		for (size_t i = 0; i < n; i++)
			col[i] = s[i].tput[t];
		snprintf(title, sizeof(title),
			 "TCP throughput %s -> %s (iperf3, %u stream%s)",
			 rev ? "beta" : "alpha", rev ? "alpha" : "beta",
			 streams, streams > 1 ? "s" : "");
		snprintf(row[ROW_TPUT + t], sizeof(row[0]),
			 "TCP %u stream%s %s, Mbit/s", streams,
			 streams > 1 ? "s" : "", rev ? "b->a" : "a->b");
		report_metric(title, paths, n, col, o->rounds, "Mbit/s",
			      (struct net_targets){
				      ">= 1.0", streams > 1 ? NULL : ">= 0.5"},
			      med[ROW_TPUT + t]);
	}
	for (size_t i = 0; i < n; i++)
		col[i] = s[i].p50;
	snprintf(title, sizeof(title),
		 "TCP round trip, %u-byte ping-pong (sockperf), p50",
		 o->message_size);
	snprintf(row[ROW_P50], sizeof(row[0]), "round trip p50, us");
	report_metric(title, paths, n, col, o->rounds, "us",
		      (struct net_targets){"<= 1.3", NULL}, med[ROW_P50]);
	for (size_t i = 0; i < n; i++)
		col[i] = s[i].p99;
	snprintf(title, sizeof(title),
		 "TCP round trip, %u-byte ping-pong (sockperf), p99",
		 o->message_size);
	snprintf(row[ROW_P99], sizeof(row[0]), "round trip p99, us");
	report_metric(title, paths, n, col, o->rounds, "us",
		      (struct net_targets){NULL, NULL}, med[ROW_P99]);
	const struct cpu_use *pvio_cpu = NULL, *relay_cpu = NULL;
	for (size_t i = 0; i < n; i++) {
		if (paths[i] == pvio)
			pvio_cpu = &cpu[i];
		if (paths[i] == relay)
			relay_cpu = &cpu[i];
	}
	snprintf(row[ROW_CPU], sizeof(row[0]), "iperf3 CPU s per GB");
	bool have_cpu[NET_PATH_COUNT] = {false};
	have_cpu[NET_PATH_PVIO] =
		cpu_per_gb(pvio_cpu, 0, 2, &med[ROW_CPU][NET_PATH_PVIO]);
	have_cpu[NET_PATH_RELAY] =
		cpu_per_gb(relay_cpu, 0, 1, &med[ROW_CPU][NET_PATH_RELAY]);
	report_per_packet(&acc, fig, o, pvio_cpu, relay_cpu);

	/* The summary: one row per figure, one column per path, and pvio's
	 * ratios against both baselines. */
	printf("summary (medians; CPU: pvio-netback and both "
	       "pvio-netfronts, both relays):\n");
	printf("  %-28s %10s %10s %10s %11s %11s\n", "measurement", "pvio",
	       "relay", "bridge", "pvio/relay", "pvio/bridge");
	for (int r = 0; r < ROWS; r++) {
		char cell[NET_PATH_COUNT][16], ratio[2][16];
		for (int k = 0; k < NET_PATH_COUNT; k++) {
			bool shown = r == ROW_CPU ? have_cpu[k] : have[k];
			if (shown)
				snprintf(cell[k], sizeof(cell[k]),
					 r == ROW_CPU ? "%.3f" : "%.1f",
					 med[r][k]);
			else
				snprintf(cell[k], sizeof(cell[k]), "-");
		}
		for (int b = 0; b < 2; b++) {
			int k = b ? NET_PATH_BRIDGE : NET_PATH_RELAY;
			bool shown =
				r == ROW_CPU
					? have_cpu[k] && have_cpu[NET_PATH_PVIO]
					: have[k] && have[NET_PATH_PVIO];
			if (shown && med[r][k] > 0)
				snprintf(ratio[b], sizeof(ratio[b]), "%.3f",
					 med[r][NET_PATH_PVIO] / med[r][k]);
			else
				snprintf(ratio[b], sizeof(ratio[b]), "-");
		}
		printf("  %-28s %10s %10s %10s %11s %11s\n", row[r],
		       cell[NET_PATH_PVIO], cell[NET_PATH_RELAY],
		       cell[NET_PATH_BRIDGE], ratio[0], ratio[1]);
	}

	for (size_t i = 0; i < n; i++)
		if (paths[i]->kind == NET_PATH_EMU ||
		    paths[i]->kind == NET_PATH_EMU_RTL)
			report_emu(paths[i]);
	fflush(stdout);
	return 0;
}

struct net_run_args {
	const struct net_options *o;
	struct net_relay_counters *counters;
};

static int net_run_worker(struct net_cleanup *rec, void *arg)
{
	const struct net_run_args *a = arg;
	return net_worker(a->o, rec, a->counters);
}

/* ---- the supervisor ---- */

static volatile sig_atomic_t worker_pid;
static volatile sig_atomic_t stop_signal;

static void forward_signal(int sig)
{
	stop_signal = sig;
	if (worker_pid > 0)
		kill((pid_t)worker_pid, SIGTERM);
}

int bench_net(int argc, char **argv)
{
	uint64_t rounds = 5, duration = 3, message_size = 64, strace_secs = 2,
		 streams = 4;
	const char *paths_text = "pvio,relay,bridge", *pvio_arg = NULL;
	const struct bench_option options[] = {
		BENCH_ROUNDS_OPTION(rounds),
		{"duration", "seconds of each iperf3 and sockperf run",
		 &duration, 1, 3600, NULL},
		{"message-size", "bytes of each ping-pong message",
		 &message_size, 14, 65000, NULL},
		{"streams", "parallel TCP streams of the multi-stream runs",
		 &streams, 2, 128, NULL},
		{"strace", "seconds of each strace-counted run (0: none)",
		 &strace_secs, 0, 3600, NULL},
		{"paths",
		 "comma-separated paths to measure: pvio, relay, bridge, "
		 "emu (e1000), emu-rtl8139 (default pvio,relay,bridge)",
		 NULL, 0, 0, &paths_text},
		{"pvio",
		 "the pvio CLI (default: $PVIO, then the build tree or bin "
		 "next to pvio-bench)",
		 NULL, 0, 0, &pvio_arg},
		{NULL, NULL, NULL, 0, 0, NULL},
	};
	static const char footer[] =
		"Needs root, iperf3 and sockperf (strace and ethtool for the "
		"accounting).\nThe pvio path runs a private host: `pvio "
		"--rundir DIR host start`, with its pvio-netback and\n"
		"pvio-netfront.";
	int parsed = bench_parse_options("net", argc, argv, options, footer);
	if (parsed)
		return parsed == 1 ? 0 : 2;
	struct net_options o = {
		.rounds = (unsigned)rounds,
		.duration = (unsigned)duration,
		.message_size = (unsigned)message_size,
		.strace_seconds = (unsigned)strace_secs,
		.streams = (unsigned)streams,
	};
	if (!parse_paths(paths_text, o.selected)) {
		fprintf(stderr,
			"pvio-bench net: --paths expects a comma-separated "
			"list of pvio, relay, bridge, emu and emu-rtl8139, "
			"each "
			"once, got "
			"'%s'\n",
			paths_text);
		return 2;
	}
	if (!net_needs_met())
		return 1;
	struct net_relay_counters *counters =
		bench_shared_alloc(2 * sizeof(*counters));
	struct net_run_args args = {&o, counters};
	return net_supervise(pvio_arg, net_run_worker, &args);
}

bool net_needs_met(void)
{
	if (geteuid() != 0) {
		fprintf(stderr,
			"pvio-bench %s: needs root (network namespaces, "
			"bridges, TAPs)\n",
			net_command);
		return false;
	}
	static const char *const tools[][2] = {{"ip", "iproute2"},
					       {"iperf3", "iperf3"},
					       {"sockperf", "sockperf"}};
	for (size_t i = 0; i < 3; i++)
		if (!net_in_path(tools[i][0])) {
			fprintf(stderr,
				"pvio-bench %s: %s not found; install the "
				"Debian package %s (scripts/install-deps.sh)\n",
				net_command, tools[i][0], tools[i][1]);
			return false;
		}
	return true;
}

int net_supervise(const char *pvio_arg,
		  int (*worker)(struct net_cleanup *rec, void *arg), void *arg)
{
	struct net_cleanup *rec = bench_shared_alloc(sizeof(*rec));
	net_find_pvio(pvio_arg, rec->pvio, sizeof(rec->pvio));
	uint32_t id;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	snprintf(rec->run_id, sizeof(rec->run_id), "%08x", id);
	snprintf(rec->tmpdir, sizeof(rec->tmpdir), "/tmp/pvio-bench-%s.%s",
		 net_command, rec->run_id);
	if (mkdir(rec->tmpdir, 0700)) {
		fprintf(stderr, "pvio-bench %s: mkdir %s: %s\n", net_command,
			rec->tmpdir, strerror(errno));
		return 1;
	}
	unsetenv("XENSTORED_PATH");

	printf("pvio-bench %s: run %s: namespaces pvbench-%s-*, files %s\n",
	       net_command, rec->run_id, rec->run_id, rec->tmpdir);
	fflush(stdout);

	struct sigaction sa = {.sa_handler = forward_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "pvio-bench %s: fork: %s\n", net_command,
			strerror(errno));
		rmdir(rec->tmpdir);
		return 1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		setenv(NET_RUN_ENV, rec->run_id, 1);
		_exit(worker(rec, arg));
	}
	worker_pid = pid;
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	worker_pid = 0;
	/* A second Ctrl-C must not cut the cleanup short. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	unsigned problems = net_cleanup_run(rec);
	if (problems)
		fprintf(stderr,
			"pvio-bench %s: cleanup of run %s had to force or "
			"could not remove %u thing(s), named above\n",
			net_command, rec->run_id, problems);
	if (stop_signal) {
		fprintf(stderr,
			"pvio-bench %s: stopped by signal %d; run %s "
			"cleaned up\n",
			net_command, (int)stop_signal, rec->run_id);
		return 128 + stop_signal;
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "pvio-bench %s: the worker died of signal %d\n",
			net_command, WTERMSIG(status));
		return 1;
	}
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	return rc ? rc : problems ? 1 : 0;
}
