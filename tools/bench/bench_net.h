/* pvio-bench net and scale: what their files share (bench_net.c measures
 * and reports, and supervises a run; bench_net_paths.c builds and removes
 * the three paths, the pvio one also piece by piece for many guests;
 * bench_net_relay.c is the bare relay; bench_scale.c is pvio-bench
 * scale). */
#ifndef PVIO_BENCH_NET_H
#define PVIO_BENCH_NET_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* NET_PATH_EMU, NET_PATH_EMU_RTL: the emulated e1000 and RTL8139
 * (type=ioemu) on the pvio path's host, the HVM side of the PV
 * comparison. */
enum net_path_kind {
	NET_PATH_PVIO,
	NET_PATH_RELAY,
	NET_PATH_BRIDGE,
	NET_PATH_EMU,
	NET_PATH_EMU_RTL
};
#define NET_PATH_COUNT 5

/* Ports of the servers in the second guest (namespaces are private). */
#define NET_IPERF_PORT	  5201
#define NET_SOCKPERF_PORT 11111

/* One guest: its namespace, its address on eth0 and how to run in it. */
struct net_guest {
	char label[16];
	char netns[64];
	char addr[16];
	const char *prefix[8]; /* argv prefix that runs a command inside */
};

/* Frames one relay moved, per direction; written by the relay alone. */
struct net_relay_counters {
	uint64_t to_bridge, to_guest;
};

struct net_path {
	enum net_path_kind kind;
	const char *name;  /* as --paths spells it */
	const char *title; /* for the report */
	struct net_guest guest[2];
	pid_t servers[2]; /* iperf3 and sockperf in guest[1] */
	/* pvio */
	char pvio_rundir[PATH_MAX];
	unsigned domid[2];
	/* relay */
	pid_t relay[2];
	struct net_relay_counters *relay_counters; /* [2], shared memory */
};

/*
 * What must not outlive the run, recorded before it is created, in memory
 * shared with the supervisor that removes it once the worker has ended,
 * however it ended.
 */
#define NET_MAX_NETNS 8
struct net_cleanup {
	char run_id[12];
	char tmpdir[128];	    /* /tmp/pvio-bench-net.<run id> */
	char pvio[PATH_MAX];	    /* the toolstack CLI */
	char pvio_rundir[PATH_MAX]; /* a private pvio host, when started */
	unsigned n_netns;
	char netns[NET_MAX_NETNS][64];
};

/* The subcommand running, for messages ("net" unless set). */
extern const char *net_command;

/* Print "pvio-bench <command>: MESSAGE" and end the worker (the supervisor
 * cleans up). */
__attribute__((noreturn, format(printf, 1, 2))) void net_fatal(const char *fmt,
							       ...);

/*
 * Run argv (NULL-terminated) to its end, at most timeout_ms: stdout and
 * stderr together into out (size bytes, NUL-terminated, the tail dropped
 * when longer). Returns its exit status, or -1 when it was killed or ran
 * out of time (out then says so).
 */
int net_run(const char *const *argv, unsigned timeout_ms, char *out,
	    size_t size);

/* Run argv, which must succeed within 30 s; net_fatal naming what it was
 * for and its output otherwise. */
void net_must(const char *what, const char *const *argv);

/* The last lines of a log, "\n  PATH:\n..." (empty when unreadable). */
void net_log_tail(const char *path, char *out, size_t size);

/* Start argv in the background, output to log; returns its pid. */
pid_t net_spawn(const char *const *argv, const char *log);

/* argv = guest's prefix + the NULL-terminated arguments; max entries. */
void net_guest_argv(const struct net_guest *g, const char **argv, size_t max,
		    ...);

/* Build a path (namespaces, links, addresses, servers) and check that TCP
 * gets from guest[0] to guest[1]; net_fatal with the reason otherwise. */
void net_path_setup(struct net_path *p, struct net_cleanup *rec);

/*
 * The pvio path piece by piece, for benchmarks that put many guests on one
 * host. net_pvio_host_start records rundir in rec, then starts the host;
 * net_pvio_guest_create makes a guest called name (g: its label, namespace,
 * `pvio exec` prefix and addr; rundir and rec->pvio must outlive g), with
 * no vif; net_pvio_guest_attach gives it one (network-attach);
 * net_pvio_guest_up waits for its eth0 and addresses it. Failures end the
 * worker with the logs of netback and the guest's netfront.
 */
void net_pvio_host_start(struct net_cleanup *rec, const char *rundir);
void net_pvio_guest_create(const struct net_cleanup *rec, const char *rundir,
			   const char *name, const char *addr,
			   struct net_guest *g, unsigned *domid);
void net_pvio_guest_attach(const struct net_cleanup *rec, const char *rundir,
			   const struct net_guest *g, unsigned domid);
void net_pvio_guest_up(const char *rundir, const struct net_guest *g,
		       unsigned domid);
/* dom0 of the host as a guest (`pvio exec 0`, its namespace; addr is for
 * the caller to put on xenbr0); false before the host started. */
bool net_pvio_dom0(const struct net_cleanup *rec, const char *rundir,
		   const char *addr, struct net_guest *g);
/* End the worker: the pvio path failed (why), with the logs of netback and
 * of the first two of domids' netfronts. */
__attribute__((noreturn)) void net_pvio_fail(const char *rundir,
					     const unsigned *domids, size_t n,
					     const char *why);

/* A server in guest srv, on srv->addr:port, output to log; returns its
 * pid once it listens (net_fatal when it does not within 10 s). */
enum net_server { NET_SERVER_IPERF3, NET_SERVER_SOCKPERF };
pid_t net_server_start(const struct net_guest *srv, enum net_server kind,
		       unsigned port, const char *log);

/* Whether a TCP connection from one guest reaches port in the other; err
 * says why not. */
bool net_tcp_reaches(const struct net_guest *from, const struct net_guest *to,
		     unsigned port, unsigned timeout_ms, char *err,
		     size_t size);

/* Remove everything rec names; returns how many things had to be forced
 * or could not be removed (0: clean). Runs in the supervisor. */
unsigned net_cleanup_run(struct net_cleanup *rec);

/* Processes carrying this run's marker in their environment. */
#define NET_RUN_ENV "PVIO_BENCH_NET_RUN"
unsigned net_kill_marked(const char *run_id, bool report);

/* Mbit/s and bytes the receiver counted in iperf3's JSON output (-J), in
 * the end's sum called sum ("sum_received"; with --bidir also
 * "sum_received_bidir_reverse"); false when it has no result. */
bool net_iperf3_received(const char *json, const char *sum, double *mbps,
			 double *bytes);

/* CPU time (user + system, all threads) pid has used, in microseconds
 * (clock ticks: 10 ms steps); 0 when it is gone. */
double net_cpu_us(pid_t pid);

/* pid of pvio-netfront in a guest's namespace, or 0. */
pid_t net_netfront_pid(const struct net_guest *g);

/* Whether tool can run: a path to an executable, or a name in PATH. */
bool net_in_path(const char *tool);

/*
 * The pvio CLI into out: given (--pvio), $PVIO, the build tree's
 * (tools/pvio/pvio beside tools/pvio-bench), an installed one beside
 * pvio-bench, then PATH. A build tree's pvio has no installed hotplug
 * scripts: unless PVIO_SCRIPTDIR says where they are, the tree's
 * tools/hotplug is used.
 */
void net_find_pvio(const char *given, char *out, size_t size);

/* Root, ip, iperf3 and sockperf: false after saying which is missing. */
bool net_needs_met(void);

/*
 * Run worker(rec, arg) in a child process under a supervisor that, however
 * the worker ends (done, failed, a signal, a crash), removes everything
 * rec names (net_cleanup_run). rec is fresh shared memory with the run's
 * id, its directory /tmp/pvio-bench-<net_command>.<id> (created) and the
 * pvio CLI (pvio_arg: see net_find_pvio). Prints the run's id line first;
 * returns the exit status for main: the worker's, 1 when the cleanup had
 * to force something, 128 + signal when stopped.
 */
int net_supervise(const char *pvio_arg,
		  int (*worker)(struct net_cleanup *rec, void *arg), void *arg);

/* Start the bare relay between a TAP eth0 in guest_ns and a TAP tap_name
 * on the bridge br0 in host_ns; returns once both TAPs exist. */
pid_t net_relay_start(const char *guest_ns, const char *host_ns,
		      const char *tap_name,
		      struct net_relay_counters *counters);

/* Enter the named network namespace (fd of /run/netns/NAME or a path);
 * returns 0 or -errno. net_ns_home returns to the worker's own. */
int net_ns_enter(const char *netns);
int net_ns_home(void);

#endif
