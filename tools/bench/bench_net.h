/* pvio-bench net: what its files share (bench_net.c measures and reports,
 * bench_net_paths.c builds and removes the three paths, bench_net_relay.c
 * is the bare relay, bench_net_run.c supervises a run; bench_sweep.c
 * measures along the same paths). */
#ifndef PVIO_BENCH_NET_H
#define PVIO_BENCH_NET_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum net_path_kind { NET_PATH_PVIO, NET_PATH_RELAY, NET_PATH_BRIDGE };
#define NET_PATH_COUNT 3

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

/* The subcommand whose run this is ("net", "sweep"): names it in messages
 * and its files. */
extern const char *net_command;

/* Print "pvio-bench COMMAND: MESSAGE" and end the worker (the supervisor
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

/* Whether a TCP connection from one guest reaches port in the other; err
 * says why not. */
bool net_tcp_reaches(const struct net_guest *from, const struct net_guest *to,
		     unsigned port, unsigned timeout_ms, char *err,
		     size_t size);

/* Remove everything rec names; returns how many things had to be forced
 * or could not be removed (0: clean). Runs in the supervisor. */
unsigned net_cleanup_run(struct net_cleanup *rec);

/*
 * Start a supervised run of command cmd (sets net_command): checks for
 * root and the tools every path needs, finds the pvio CLI (pvio_arg, else
 * $PVIO, the build tree, beside pvio-bench, PATH), picks the run id and
 * makes its tmpdir (/tmp/pvio-bench-CMD.<id>). NULL after a message
 * saying what is missing.
 */
struct net_cleanup *net_run_begin(const char *cmd, const char *pvio_arg);

/*
 * Run worker(arg) in a child marked with the run's id, forward SIGINT,
 * SIGTERM and SIGHUP to it, and once it has ended remove everything rec
 * names. Returns the exit status for the command: the worker's, 1 when
 * it died or the cleanup had to force something, 128 + signal when
 * stopped.
 */
int net_supervise(struct net_cleanup *rec, int (*worker)(void *arg), void *arg);

/* Whether tool can run: a path to an executable, or a name in PATH. */
bool net_in_path(const char *tool);

/* Processes carrying this run's marker in their environment. */
#define NET_RUN_ENV "PVIO_BENCH_NET_RUN"
unsigned net_kill_marked(const char *run_id, bool report);

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
