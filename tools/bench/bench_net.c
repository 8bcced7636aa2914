/*
 * pvio-bench net: TCP throughput (iperf3, one stream, each direction) and
 * TCP request/response round trips (sockperf ping-pong, p50 and p99)
 * between two guests along three paths, measured in one run, rounds
 * interleaved:
 *   pvio:   two pvio guests, a vif each on xenbr0 of a private pvio host;
 *   relay:  the bare relay (bench_net_relay.c), TAP to TAP through user
 *           space with pvio's offloads: the floor of any such design;
 *   bridge: veth pairs on a bridge, no virtualization: the ceiling.
 * Then, on pvio's path, the copies, system calls and notifications per
 * packet.
 *
 * A supervisor process owns the cleanup: the worker records everything
 * before creating it, and whatever way the worker ends (done, failed,
 * Ctrl-C, crashed), the supervisor then removes it.
 */
#include "config.h"

#include "bench.h"
#include "bench_net.h"
#include "netif_stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Copies of a packet's data through user space, by design. pvio: netfront
 * reads it from eth0 into a granted page, netback grant-copies it and
 * writes it to the vif TAP; on the other vif netback reads it and
 * grant-copies it into a posted page, which netfront writes to eth0. The
 * relay: a read and a write at each end.
 */
#define COPIES_PVIO   6
#define COPIES_RELAY  4
#define COPIES_BRIDGE 0

struct net_options {
	unsigned rounds, duration, message_size, strace_seconds;
	bool selected[NET_PATH_COUNT];
};

static const char *const path_names[NET_PATH_COUNT] = {"pvio", "relay",
						       "bridge"};
static const char *const path_titles[NET_PATH_COUNT] = {
	"pvio (netfront, netback, xenbr0)",
	"bare relay (TAP, read+write, TAP)",
	"veth pairs on a bridge",
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

/* One iperf3 run from guest[0]; Mbit/s the receiver counted. */
/* iperf3's server takes one test at a time and turns a client away
 * (closing on its unread cookie: a reset) while it is still ending the
 * last one; a slow path makes that more likely. */
static bool iperf3_server_busy(void)
{
	return strstr(output, "the server is busy") ||
	       strstr(output, "unable to receive control message");
}

/* One iperf3 run from guest[0]; Mbit/s the receiver counted. */
static double measure_throughput(const struct net_path *p, bool reverse,
				 unsigned secs, const char *tmpdir)
{
	const char *argv[32];
	char t[16], port[8];
	snprintf(t, sizeof(t), "%u", secs);
	snprintf(port, sizeof(port), "%d", NET_IPERF_PORT);
	net_guest_argv(&p->guest[0], argv, 32, "iperf3", "-c", p->guest[1].addr,
		       "-p", port, "-t", t, "-J", "--connect-timeout", "5000",
		       reverse ? "-R" : NULL, NULL);
	const char *from = p->guest[reverse].label,
		   *to = p->guest[!reverse].label;
	for (int attempt = 1;; attempt++) {
		int status = net_run(argv, (secs + 20) * 1000, output,
				     sizeof(output));
		const char *sum = NULL;
		for (const char *s = output;
		     (s = strstr(s, "\"sum_received\"")); s++)
			sum = s;
		const char *bps =
			sum ? strstr(sum, "\"bits_per_second\"") : NULL;
		double v;
		if (!status && bps && sscanf(bps + 17, " : %lf", &v) == 1)
			return v / 1e6;
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
		net_fatal("%s path: iperf3 %s -> %s failed: %s%s", p->name,
			  from, to, err ? err : last_words(), tail);
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
}

/* ---- the programs that move the frames ---- */

/* pid of pvio-netfront in a guest's namespace, or 0. */
static pid_t netfront_pid(const struct net_guest *g)
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
	pids[1] = netfront_pid(&p->guest[0]);
	pids[2] = netfront_pid(&p->guest[1]);
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

/* CPU time (user + system, all threads) pid has used, in microseconds. */
static double cpu_us(pid_t pid)
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

/* The movers' CPU time and the packets over the rounds' measurements,
 * by kind (0: iperf3, 1: ping-pong). */
struct cpu_use {
	size_t n;
	pid_t pid[3];
	double start[3], us[2][3];
	uint64_t packets_start, packets[2];
};

static void cpu_begin(const struct net_path *p, struct cpu_use *c)
{
	for (size_t i = 0; i < c->n; i++)
		c->start[i] = cpu_us(c->pid[i]);
	c->packets_start = c->n ? path_packets(p) : 0;
}

static void cpu_end(const struct net_path *p, struct cpu_use *c, int kind)
{
	for (size_t i = 0; i < c->n; i++)
		c->us[kind][i] += cpu_us(c->pid[i]) - c->start[i];
	if (c->n)
		c->packets[kind] += path_packets(p) - c->packets_start;
}

/* ---- the rounds ---- */

struct samples {
	double *tput[2]; /* guest[0] -> guest[1], reverse; Mbit/s */
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
		measure_throughput(p, false, secs, tmpdir);
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

static void report_metric(const char *title, struct net_path *const *paths,
			  size_t n, double *const *samples, unsigned rounds,
			  const char *unit, const char *target)
{
	double median[NET_PATH_COUNT];
	printf("%s:\n", title);
	for (size_t i = 0; i < n; i++)
		median[i] = bench_report_samples(paths[i]->title, samples[i],
						 rounds, unit);
	/* Every pair, first over later: pvio / relay carries the target. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			char what[64];
			snprintf(what, sizeof(what), "ratio %s / %s",
				 paths[i]->name, paths[j]->name);
			bool targeted = paths[i]->kind == NET_PATH_PVIO &&
					paths[j]->kind == NET_PATH_RELAY &&
					target;
			bench_report_ratio(
				what, median[j] ? median[i] / median[j] : 0,
				targeted ? target : "none, for reference");
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
	printf("  %-44s pvio %d, relay %d, bridge %d (by design; the "
	       "socket copies\n  %-44s at both ends, on every path, not "
	       "counted)\n",
	       "copies through user space", COPIES_PVIO, COPIES_RELAY,
	       COPIES_BRIDGE, "");
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
	for (int k = 0; have_pvio && acc->have && k < 2; k++) {
		const struct vif_totals *t = k ? &acc->pingpong : &acc->tput;
		double pk = t->packets ? (double)t->packets : 1;
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

static int net_worker(const struct net_options *o, struct net_cleanup *rec,
		      struct net_relay_counters *counters)
{
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
	fflush(stdout);

	struct samples s[NET_PATH_COUNT];
	for (size_t i = 0; i < n; i++) {
		s[i].tput[0] = calloc(o->rounds, sizeof(double));
		s[i].tput[1] = calloc(o->rounds, sizeof(double));
		s[i].p50 = calloc(o->rounds, sizeof(double));
		s[i].p99 = calloc(o->rounds, sizeof(double));
		if (!s[i].tput[0] || !s[i].tput[1] || !s[i].p50 || !s[i].p99)
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
			for (int dir = 0; dir < 2; dir++) {
				account_begin(p, &acc);
				cpu_begin(p, &cpu[i]);
				s[i].tput[dir][r] = measure_throughput(
					p, dir, o->duration, rec->tmpdir);
				cpu_end(p, &cpu[i], 0);
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

	double *col[NET_PATH_COUNT];
	char title[128];
	for (int dir = 0; dir < 2; dir++) {
		for (size_t i = 0; i < n; i++)
			col[i] = s[i].tput[dir];
		snprintf(title, sizeof(title),
			 "TCP throughput %s -> %s (iperf3, one stream)",
			 dir ? "beta" : "alpha", dir ? "alpha" : "beta");
		report_metric(title, paths, n, col, o->rounds, "Mbit/s",
			      ">= 0.8");
	}
	for (size_t i = 0; i < n; i++)
		col[i] = s[i].p50;
	snprintf(title, sizeof(title),
		 "TCP round trip, %u-byte ping-pong (sockperf), p50",
		 o->message_size);
	report_metric(title, paths, n, col, o->rounds, "us", "<= 1.5");
	for (size_t i = 0; i < n; i++)
		col[i] = s[i].p99;
	snprintf(title, sizeof(title),
		 "TCP round trip, %u-byte ping-pong (sockperf), p99",
		 o->message_size);
	report_metric(title, paths, n, col, o->rounds, "us", NULL);
	const struct cpu_use *pvio_cpu = NULL, *relay_cpu = NULL;
	for (size_t i = 0; i < n; i++) {
		if (paths[i] == pvio)
			pvio_cpu = &cpu[i];
		if (paths[i] == relay)
			relay_cpu = &cpu[i];
	}
	report_per_packet(&acc, fig, o, pvio_cpu, relay_cpu);
	fflush(stdout);
	return 0;
}

/* ---- the run ---- */

struct net_worker_args {
	const struct net_options *o;
	struct net_cleanup *rec;
	struct net_relay_counters *counters;
};

static int run_worker(void *arg)
{
	const struct net_worker_args *w = arg;
	return net_worker(w->o, w->rec, w->counters);
}

int bench_net(int argc, char **argv)
{
	uint64_t rounds = 5, duration = 3, message_size = 64, strace_secs = 2;
	const char *paths_text = "pvio,relay,bridge", *pvio_arg = NULL;
	const struct bench_option options[] = {
		BENCH_ROUNDS_OPTION(rounds),
		{"duration", "seconds of each iperf3 and sockperf run",
		 &duration, 1, 3600, NULL},
		{"message-size", "bytes of each ping-pong message",
		 &message_size, 14, 65000, NULL},
		{"strace", "seconds of each strace-counted run (0: none)",
		 &strace_secs, 0, 3600, NULL},
		{"paths",
		 "comma-separated paths to measure: pvio, relay, bridge "
		 "(default all three)",
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
	};
	if (!parse_paths(paths_text, o.selected)) {
		fprintf(stderr,
			"pvio-bench net: --paths expects a comma-separated "
			"list of pvio, relay and bridge, each once, got "
			"'%s'\n",
			paths_text);
		return 2;
	}
	struct net_cleanup *rec = net_run_begin("net", pvio_arg);
	if (!rec)
		return 1;
	struct net_relay_counters *counters =
		bench_shared_alloc(2 * sizeof(*counters));

	printf("pvio-bench net: run %s: namespaces pvbench-%s-*, files %s\n",
	       rec->run_id, rec->run_id, rec->tmpdir);
	printf("  rounds: %u, interleaved; medians (range). %u s per "
	       "measurement; addresses 169.254.0.0/16.\n",
	       o.rounds, o.duration);
	fflush(stdout);

	struct net_worker_args w = {&o, rec, counters};
	return net_supervise(rec, run_worker, &w);
}
