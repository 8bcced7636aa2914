/*
 * pvio-bench scale: many guests on one pvio host, all on xenbr0, one vif
 * each, built with bench_net_paths.c's pvio path and run under
 * bench_net.c's supervisor (everything it creates is removed however the
 * run ends). It measures, in this order:
 *   - pvio-netback's memory (PSS and RSS, /proc/PID/smaps_rollup) with no
 *     vif, then with 1, 2, 4, ... vifs connected (--vifs), each step with
 *     traffic on every vif (each guest's iperf3 --bidir with dom0, whose
 *     xenbr0 gets an address): memory per vif, aggregate throughput and
 *     CPU seconds per gigabyte of netback and of the netfronts;
 *   - --pairs guest pairs streaming at once (iperf3, one stream each):
 *     each pair's throughput, the aggregate and Jain's fairness index;
 *   - the round trip (sockperf ping-pong, p50 and p99) of one more pair,
 *     first idle, then while the pairs stream.
 */
#include "config.h"

#include "bench.h"
#include "bench_net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCALE_MAX_GUESTS 64
#define SCALE_MAX_STEPS	 16
#define SCALE_DOM0_ADDR	 "169.254.1.254"
/* dom0's iperf3 servers: one per guest, from this port. */
#define SCALE_DOM0_PORT 5301

struct scale_options {
	unsigned pairs, duration, message_size;
	unsigned vifs[SCALE_MAX_STEPS];
	size_t n_steps;
	const char *csv;
};

struct scale_guest {
	struct net_guest g;
	unsigned domid;
	bool attached;
	pid_t netfront;
};

/* The worker's state (one run per process). */
static struct {
	const struct scale_options *o;
	struct net_cleanup *rec;
	char rundir[PATH_MAX];
	struct scale_guest guest[SCALE_MAX_GUESTS];
	unsigned n_guests, n_attached;
	struct net_guest dom0;
	pid_t netback;
	FILE *csv;
} S;

static char output[256 * 1024];

static uint64_t now_ms(void)
{
	return bench_now_ns() / 1000000u;
}

/* ---- what the processes use ---- */

/* Pss and Rss of pid in KiB, from /proc/PID/smaps_rollup. */
static bool memory_kib(pid_t pid, double *pss, double *rss)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	unsigned long long kb;
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Pss: %llu kB", &kb) == 1) {
			*pss = (double)kb;
			found |= 1;
		} else if (sscanf(line, "Rss: %llu kB", &kb) == 1) {
			*rss = (double)kb;
			found |= 2;
		}
	}
	fclose(f);
	return found == 3;
}

static pid_t netback_pid(void)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/netback.pid", S.rundir);
	FILE *f = fopen(path, "r");
	int pid = 0;
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

/* CPU microseconds of netback and of the attached guests' netfronts. */
static void cpu_now(double *netback, double *netfronts)
{
	*netback = net_cpu_us(S.netback);
	*netfronts = 0;
	for (unsigned i = 0; i < S.n_attached; i++)
		*netfronts += net_cpu_us(S.guest[i].netfront);
}

/* ---- the CSV file: one figure a line ---- */

static void csv_row(const char *section, const char *row, const char *metric,
		    double value, const char *unit)
{
	if (S.csv)
		fprintf(S.csv, "%s,%s,%s,%.3f,%s\n", section, row, metric,
			value, unit);
}

/* ---- guests ---- */

static void guests_create(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct scale_guest *sg = &S.guest[i];
		char name[16], addr[32];
		snprintf(name, sizeof(name), "g%02u", i + 1);
		snprintf(addr, sizeof(addr), "169.254.1.%u", i + 1);
		net_pvio_guest_create(S.rec, S.rundir, name, addr, &sg->g,
				      &sg->domid);
	}
	S.n_guests = n;
}

/* Attach vifs until the first n guests have one, each up, with its
 * iperf3 server in dom0 listening. */
static void guests_attach(unsigned n)
{
	unsigned first = S.n_attached;
	for (unsigned i = first; i < n; i++)
		net_pvio_guest_attach(S.rec, S.rundir, &S.guest[i].g,
				      S.guest[i].domid);
	for (unsigned i = first; i < n; i++) {
		struct scale_guest *sg = &S.guest[i];
		net_pvio_guest_up(S.rundir, &sg->g, sg->domid);
		sg->netfront = net_netfront_pid(&sg->g);
		if (!sg->netfront)
			net_pvio_fail(S.rundir, &sg->domid, 1,
				      "no pvio-netfront in a guest with a vif");
		sg->attached = true;
		char log[PATH_MAX];
		snprintf(log, sizeof(log), "%s/dom0-iperf3-%u.log",
			 S.rec->tmpdir, i + 1);
		net_server_start(&S.dom0, NET_SERVER_IPERF3,
				 SCALE_DOM0_PORT + i, log);
		S.n_attached = i + 1;
	}
}

/* ---- running clients side by side ---- */

struct client {
	pid_t pid;
	char log[PATH_MAX];
	char what[64]; /* "iperf3 g01 -> g02" */
};

static void client_start(struct client *c, const char *const *argv)
{
	c->pid = net_spawn(argv, c->log);
}

/* Wait for every client, at most timeout_ms in all; net_fatal when one
 * failed or ran out of time (the others are killed by the cleanup). */
static void clients_wait(struct client *c, size_t n, unsigned timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	size_t left = n;
	while (left) {
		for (size_t i = 0; i < n; i++) {
			int status;
			if (!c[i].pid ||
			    waitpid(c[i].pid, &status, WNOHANG) != c[i].pid)
				continue;
			c[i].pid = 0;
			left--;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				char tail[2048];
				net_log_tail(c[i].log, tail, sizeof(tail));
				net_fatal("%s failed (status %d)%s", c[i].what,
					  status, tail);
			}
		}
		if (left && now_ms() >= deadline) {
			for (size_t i = 0; i < n; i++)
				if (c[i].pid)
					net_fatal("%s did not end within %u s",
						  c[i].what, timeout_ms / 1000);
		}
		if (left)
			usleep(20000);
	}
}

/* The whole of a client's output file into output. */
static const char *client_output(const struct client *c)
{
	FILE *f = fopen(c->log, "r");
	size_t n = f ? fread(output, 1, sizeof(output) - 1, f) : 0;
	if (f)
		fclose(f);
	output[n] = '\0';
	return output;
}

static void iperf3_result(const struct client *c, const char *sum, double *mbps,
			  double *bytes)
{
	if (!net_iperf3_received(client_output(c), sum, mbps, bytes))
		net_fatal("%s: no result in iperf3's output %s", c->what,
			  c->log);
}

/* ---- the vif steps ---- */

struct step {
	unsigned vifs;
	double pss, rss, per_vif, mbps, netback_s_gb, netfronts_s_gb;
};

static void measure_step(unsigned vifs, double pss0, struct step *st)
{
	static struct client c[SCALE_MAX_GUESTS];
	char t[16], port[SCALE_MAX_GUESTS][8];
	unsigned secs = S.o->duration;
	snprintf(t, sizeof(t), "%u", secs);
	st->vifs = vifs;
	double nb0, nf0, nb1, nf1;
	cpu_now(&nb0, &nf0);
	for (unsigned i = 0; i < vifs; i++) {
		const char *argv[32];
		snprintf(port[i], sizeof(port[i]), "%u", SCALE_DOM0_PORT + i);
		snprintf(c[i].log, sizeof(c[i].log), "%s/step-%u-%u.json",
			 S.rec->tmpdir, vifs, i + 1);
		snprintf(c[i].what, sizeof(c[i].what),
			 "iperf3 --bidir %s <-> dom0", S.guest[i].g.label);
		net_guest_argv(&S.guest[i].g, argv, 32, "iperf3", "-c",
			       SCALE_DOM0_ADDR, "-p", port[i], "-t", t, "-J",
			       "--bidir", "--connect-timeout", "5000", NULL);
		client_start(&c[i], argv);
	}
	clients_wait(c, vifs, (secs + 30) * 1000);
	cpu_now(&nb1, &nf1);
	/* After the traffic: what the vifs' buffers took is touched. */
	if (!memory_kib(S.netback, &st->pss, &st->rss))
		net_fatal("cannot read /proc/%d/smaps_rollup (pvio-netback)",
			  (int)S.netback);
	st->per_vif = (st->pss - pss0) / vifs;
	double bytes = 0;
	st->mbps = 0;
	for (unsigned i = 0; i < vifs; i++) {
		double m, b;
		iperf3_result(&c[i], "sum_received", &m, &b);
		st->mbps += m;
		bytes += b;
		iperf3_result(&c[i], "sum_received_bidir_reverse", &m, &b);
		st->mbps += m;
		bytes += b;
	}
	double gb = bytes / 1e9;
	st->netback_s_gb = gb > 0 ? (nb1 - nb0) / 1e6 / gb : 0;
	st->netfronts_s_gb = gb > 0 ? (nf1 - nf0) / 1e6 / gb : 0;
	fprintf(stderr, "  %u vif(s): %.0f Mbit/s\n", vifs, st->mbps);
}

/* ---- the pairs ---- */

static void pingpong(const struct net_guest *from, const struct net_guest *to,
		     unsigned secs, double *p50, double *p99)
{
	const char *argv[32];
	char t[16], port[8], size[16];
	snprintf(t, sizeof(t), "%u", secs);
	snprintf(port, sizeof(port), "%d", NET_SOCKPERF_PORT);
	snprintf(size, sizeof(size), "%u", S.o->message_size);
	net_guest_argv(from, argv, 32, "sockperf", "ping-pong", "--tcp", "-i",
		       to->addr, "-p", port, "-t", t, "-m", size, "--full-rtt",
		       NULL);
	int status = net_run(argv, (secs + 30) * 1000, output, sizeof(output));
	const char *a = strstr(output, "percentile 50.000 =");
	const char *b = strstr(output, "percentile 99.000 =");
	if (status || !a || !b || sscanf(a + 19, "%lf", p50) != 1 ||
	    sscanf(b + 19, "%lf", p99) != 1) {
		size_t len = strlen(output);
		net_fatal("sockperf ping-pong %s -> %s failed: %.*s",
			  from->label, to->label, len > 400 ? 400 : (int)len,
			  len > 400 ? output + len - 400 : output);
	}
}

struct pairs_result {
	double mbps[SCALE_MAX_GUESTS / 2], sum, jain;
	double idle_p50, idle_p99, load_p50, load_p99;
	double netback_s_gb;
};

/* Jain's fairness index of n shares: (sum x)^2 / (n sum x^2); 1 when all
 * are equal, 1/n when one pair has everything. */
static double jain_index(const double *x, unsigned n)
{
	double sum = 0, squares = 0;
	for (unsigned i = 0; i < n; i++) {
		sum += x[i];
		squares += x[i] * x[i];
	}
	return squares > 0 ? sum * sum / (n * squares) : 0;
}

static void measure_pairs(struct pairs_result *r)
{
	unsigned pairs = S.o->pairs, secs = S.o->duration;
	const struct net_guest *rr_client = &S.guest[2 * pairs].g,
			       *rr_server = &S.guest[2 * pairs + 1].g;
	char log[PATH_MAX];
	for (unsigned k = 0; k < pairs; k++) {
		snprintf(log, sizeof(log), "%s/pair-%u-iperf3.log",
			 S.rec->tmpdir, k + 1);
		net_server_start(&S.guest[2 * k + 1].g, NET_SERVER_IPERF3,
				 NET_IPERF_PORT, log);
	}
	snprintf(log, sizeof(log), "%s/rr-sockperf.log", S.rec->tmpdir);
	net_server_start(rr_server, NET_SERVER_SOCKPERF, NET_SOCKPERF_PORT,
			 log);
	char err[512];
	if (!net_tcp_reaches(rr_client, rr_server, NET_SOCKPERF_PORT, 10000,
			     err, sizeof(err)))
		net_fatal("%s", err);
	pingpong(rr_client, rr_server, secs, &r->idle_p50, &r->idle_p99);

	/* The streams last a second longer than the round trips, which
	 * start once the streams are under way. */
	static struct client c[SCALE_MAX_GUESTS / 2];
	char t[16], port[8];
	snprintf(t, sizeof(t), "%u", secs + 1);
	snprintf(port, sizeof(port), "%d", NET_IPERF_PORT);
	double nb0, nf0, nb1, nf1;
	cpu_now(&nb0, &nf0);
	for (unsigned k = 0; k < pairs; k++) {
		const struct net_guest *from = &S.guest[2 * k].g,
				       *to = &S.guest[2 * k + 1].g;
		const char *argv[32];
		snprintf(c[k].log, sizeof(c[k].log), "%s/pair-%u.json",
			 S.rec->tmpdir, k + 1);
		snprintf(c[k].what, sizeof(c[k].what), "iperf3 %s -> %s",
			 from->label, to->label);
		net_guest_argv(from, argv, 32, "iperf3", "-c", to->addr, "-p",
			       port, "-t", t, "-J", "--connect-timeout", "5000",
			       NULL);
		client_start(&c[k], argv);
	}
	usleep(500000);
	pingpong(rr_client, rr_server, secs, &r->load_p50, &r->load_p99);
	clients_wait(c, pairs, (secs + 30) * 1000);
	cpu_now(&nb1, &nf1);
	double bytes = 0;
	r->sum = 0;
	for (unsigned k = 0; k < pairs; k++) {
		double b;
		iperf3_result(&c[k], "sum_received", &r->mbps[k], &b);
		r->sum += r->mbps[k];
		bytes += b;
	}
	r->jain = jain_index(r->mbps, pairs);
	r->netback_s_gb = bytes > 0 ? (nb1 - nb0) / 1e6 / (bytes / 1e9) : 0;
}

/* ---- the report ---- */

static void report_pairs(const struct pairs_result *r)
{
	unsigned pairs = S.o->pairs;
	printf("%u pair%s streaming at once (iperf3, one TCP stream each, "
	       "%u s):\n",
	       pairs, pairs > 1 ? "s" : "", S.o->duration + 1);
	printf("  %-6s %-16s %12s\n", "pair", "client -> server", "Mbit/s");
	for (unsigned k = 0; k < pairs; k++) {
		char who[40], row[16];
		snprintf(who, sizeof(who), "%s -> %s", S.guest[2 * k].g.label,
			 S.guest[2 * k + 1].g.label);
		printf("  %-6u %-16s %12.1f\n", k + 1, who, r->mbps[k]);
		snprintf(row, sizeof(row), "pair %u", k + 1);
		csv_row("pairs", row, "throughput", r->mbps[k], "Mbit/s");
	}
	printf("  %-23s %12.1f Mbit/s\n", "aggregate", r->sum);
	printf("  %-23s %12.3f (1.000: equal shares; 1/%u: one pair has all)\n",
	       "Jain's fairness index", r->jain, pairs);
	printf("  %-23s %12.3f CPU s per GB received\n", "netback CPU",
	       r->netback_s_gb);
	csv_row("pairs", "all", "aggregate", r->sum, "Mbit/s");
	csv_row("pairs", "all", "jain", r->jain, "index");
	csv_row("pairs", "all", "netback_cpu", r->netback_s_gb, "s/GB");
	const struct net_guest *a = &S.guest[2 * pairs].g,
			       *b = &S.guest[2 * pairs + 1].g;
	printf("round trip of one more pair, %s -> %s (%u-byte sockperf "
	       "ping-pong, %u s):\n",
	       a->label, b->label, S.o->message_size, S.o->duration);
	printf("  %-23s %12s %12s\n", "", "p50 us", "p99 us");
	printf("  %-23s %12.1f %12.1f\n", "idle", r->idle_p50, r->idle_p99);
	printf("  %-23s %12.1f %12.1f\n", "while the pairs stream", r->load_p50,
	       r->load_p99);
	printf("  %-23s %12.3f %12.3f\n", "ratio loaded / idle",
	       r->idle_p50 > 0 ? r->load_p50 / r->idle_p50 : 0,
	       r->idle_p99 > 0 ? r->load_p99 / r->idle_p99 : 0);
	csv_row("round_trip", "idle", "p50", r->idle_p50, "us");
	csv_row("round_trip", "idle", "p99", r->idle_p99, "us");
	csv_row("round_trip", "loaded", "p50", r->load_p50, "us");
	csv_row("round_trip", "loaded", "p99", r->load_p99, "us");
}

static void report_steps(const struct step *st, size_t n, double pss0,
			 double rss0)
{
	printf("vifs connected, each guest streaming both ways with dom0 "
	       "(iperf3 --bidir, %u s):\n",
	       S.o->duration);
	printf("  %4s %12s %12s %12s %12s %12s %12s\n", "vifs", "netback",
	       "netback", "PSS per", "aggregate", "netback CPU", "netfronts");
	printf("  %4s %12s %12s %12s %12s %12s %12s\n", "", "PSS KiB",
	       "RSS KiB", "vif KiB", "Mbit/s", "s per GB", "CPU s / GB");
	printf("  %4u %12.0f %12.0f %12s %12s %12s %12s\n", 0, pss0, rss0, "-",
	       "-", "-", "-");
	csv_row("vifs", "0", "pss", pss0, "KiB");
	csv_row("vifs", "0", "rss", rss0, "KiB");
	for (size_t i = 0; i < n; i++) {
		char row[16];
		printf("  %4u %12.0f %12.0f %12.1f %12.1f %12.3f %12.3f\n",
		       st[i].vifs, st[i].pss, st[i].rss, st[i].per_vif,
		       st[i].mbps, st[i].netback_s_gb, st[i].netfronts_s_gb);
		snprintf(row, sizeof(row), "%u", st[i].vifs);
		csv_row("vifs", row, "pss", st[i].pss, "KiB");
		csv_row("vifs", row, "rss", st[i].rss, "KiB");
		csv_row("vifs", row, "pss_per_vif", st[i].per_vif, "KiB");
		csv_row("vifs", row, "aggregate", st[i].mbps, "Mbit/s");
		csv_row("vifs", row, "netback_cpu", st[i].netback_s_gb, "s/GB");
		csv_row("vifs", row, "netfronts_cpu", st[i].netfronts_s_gb,
			"s/GB");
	}
}

static int scale_worker(struct net_cleanup *rec, void *arg)
{
	const struct scale_options *o = arg;
	S.o = o;
	S.rec = rec;
	unsigned need = 2 * o->pairs + 2;
	unsigned max_vifs = o->vifs[o->n_steps - 1];
	unsigned n_guests = need > max_vifs ? need : max_vifs;
	printf("  %u guests (g01..g%02u) on one pvio host, one vif each on "
	       "xenbr0; dom0 %s; %u s per measurement\n",
	       n_guests, n_guests, SCALE_DOM0_ADDR, o->duration);
	fflush(stdout);
	if (o->csv) {
		S.csv = fopen(o->csv, "w");
		if (!S.csv)
			net_fatal("cannot write %s: %s", o->csv,
				  strerror(errno));
		fprintf(S.csv, "section,row,metric,value,unit\n");
	}

	snprintf(S.rundir, sizeof(S.rundir), "%s/pvio", rec->tmpdir);
	fprintf(stderr, "  starting the pvio host and %u guests\n", n_guests);
	net_pvio_host_start(rec, S.rundir);
	if (!net_pvio_dom0(rec, S.rundir, SCALE_DOM0_ADDR, &S.dom0))
		net_fatal("the pvio host under %s recorded no id", S.rundir);
	const char *argv[16];
	net_guest_argv(&S.dom0, argv, 16, "ip", "addr", "add",
		       SCALE_DOM0_ADDR "/24", "dev", "xenbr0", NULL);
	net_must("address dom0's xenbr0", argv);
	S.netback = netback_pid();
	if (!S.netback)
		net_pvio_fail(S.rundir, NULL, 0, "no pvio-netback pid");
	guests_create(n_guests);

	double pss0, rss0;
	if (!memory_kib(S.netback, &pss0, &rss0))
		net_fatal("cannot read /proc/%d/smaps_rollup (pvio-netback)",
			  (int)S.netback);
	static struct step steps[SCALE_MAX_STEPS];
	for (size_t i = 0; i < o->n_steps; i++) {
		fprintf(stderr, "  connecting %u vif(s)\n", o->vifs[i]);
		guests_attach(o->vifs[i]);
		measure_step(o->vifs[i], pss0, &steps[i]);
	}
	guests_attach(need > S.n_attached ? need : S.n_attached);
	fprintf(stderr, "  %u pair(s) streaming\n", o->pairs);
	static struct pairs_result pr;
	measure_pairs(&pr);

	report_steps(steps, o->n_steps, pss0, rss0);
	report_pairs(&pr);
	if (S.csv && fclose(S.csv))
		net_fatal("writing %s: %s", o->csv, strerror(errno));
	S.csv = NULL;
	fflush(stdout);
	return 0;
}

/* "1,2,4,8,16": strictly increasing counts in 1..SCALE_MAX_GUESTS. */
static bool parse_vifs(const char *text, struct scale_options *o)
{
	const char *s = text;
	o->n_steps = 0;
	for (;;) {
		char *end;
		if (*s < '0' || *s > '9')
			return false;
		errno = 0;
		unsigned long v = strtoul(s, &end, 10);
		if (errno || v < 1 || v > SCALE_MAX_GUESTS ||
		    o->n_steps == SCALE_MAX_STEPS ||
		    (o->n_steps && v <= o->vifs[o->n_steps - 1]))
			return false;
		o->vifs[o->n_steps++] = (unsigned)v;
		if (*end == '\0')
			return true;
		if (*end != ',')
			return false;
		s = end + 1;
	}
}

int bench_scale(int argc, char **argv)
{
	uint64_t pairs = 8, duration = 5, message_size = 64;
	const char *vifs_text = "1,2,4,8,16", *pvio_arg = NULL, *csv = NULL;
	const struct bench_option options[] = {
		{"pairs",
		 "guest pairs streaming at once (one more pair measures the "
		 "round trip)",
		 &pairs, 1, SCALE_MAX_GUESTS / 2 - 1, NULL},
		{"duration", "seconds of each measurement", &duration, 1, 3600,
		 NULL},
		{"vifs",
		 "vif counts to measure netback's memory and CPU at, "
		 "increasing (default 1,2,4,8,16)",
		 NULL, 0, 0, &vifs_text},
		{"message-size", "bytes of each ping-pong message",
		 &message_size, 14, 65000, NULL},
		{"csv",
		 "also write every figure to FILE (section,row,metric,"
		 "value,unit)",
		 NULL, 0, 0, &csv},
		{"pvio",
		 "the pvio CLI (default: $PVIO, then the build tree or bin "
		 "next to pvio-bench)",
		 NULL, 0, 0, &pvio_arg},
		{NULL, NULL, NULL, 0, 0, NULL},
	};
	static const char footer[] =
		"Needs root, iperf3 and sockperf. Runs a private pvio host "
		"(`pvio --rundir DIR host start`)\nwith max(2 * pairs + 2, "
		"largest vif count) guests, each with one vif on xenbr0.";
	net_command = "scale";
	int parsed = bench_parse_options("scale", argc, argv, options, footer);
	if (parsed)
		return parsed == 1 ? 0 : 2;
	static struct scale_options o;
	o.pairs = (unsigned)pairs;
	o.duration = (unsigned)duration;
	o.message_size = (unsigned)message_size;
	o.csv = csv;
	if (!parse_vifs(vifs_text, &o)) {
		fprintf(stderr,
			"pvio-bench scale: --vifs expects increasing counts in "
			"1..%d separated by commas (at most %d), got '%s'\n",
			SCALE_MAX_GUESTS, SCALE_MAX_STEPS, vifs_text);
		return 2;
	}
	if (!net_needs_met())
		return 1;
	return net_supervise(pvio_arg, scale_worker, &o);
}
