/* The pvio toolstack: shared declarations of the CLI's parts (host,
 * domains, network devices) and their helpers. */
#ifndef PVIO_TOOLS_PVIO_H
#define PVIO_TOOLS_PVIO_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <xenstore.h>

#include "args.h"
#include "pvio_sim_layout.h" /* PVIO_DEFAULT_RUNDIR, a domain's sim state */
#include "xenstore/xenbus.h"
#include "xenstore/xs_sockets.h"

#define PVIO_DEFAULT_BRIDGE    "xenbr0"
#define PVIO_DEFAULT_TIMEOUT_S 10

/* XenBus states (xen/io/xenbus.h). */
#include <xen/io/xenbus.h>

/* A host's state, recorded in <rundir>/host as key=value lines. */
struct host {
	char rundir[PATH_MAX];
	char id[17]; /* short random id: makes names unique */
	char xs_socket[PATH_MAX];
	char dom_sock_dir[PATH_MAX];
	char dom0_netns[64]; /* "" when dom0 is the root namespace */
	bool dom0_netns_created;
	char bridge[16];
	bool bridge_created;
	unsigned last_domid; /* the domid rover: the last one created */
};

/* What the command line chose; filled by main(). */
struct pvio_opts {
	char rundir[PATH_MAX];
	int timeout_s; /* waits for backends and scripts */
};
extern struct pvio_opts g_opts;

/* util.c */
void pvio_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pvio_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *pvio_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mkdir_p(const char *path, mode_t mode);
/* Removes path and everything below it (a warning per failure). */
void rm_tree(const char *path);
char *read_text_file(const char *path);
int write_text_file(const char *path, const char *text);
/* Value of key in "key=value" lines, copied into out; -1 when absent. */
int kv_get(const char *text, const char *key, char *out, size_t outlen);
/* Runs argv (PATH lookup), its stdout and stderr captured into out (may
 * be NULL); returns the exit status, or -1 when it could not run. */
int run_cmd(char *const argv[], char *out, size_t outlen);
/* The same with extra environment ("K=V", NULL-ended) and a timeout
 * (0: none); -2 when the timeout killed it. */
int run_cmd_env(char *const argv[], char *const env[], int timeout_ms,
		char *out, size_t outlen);
/* Starts argv detached (own session, stdio to logfile, no inherited
 * descriptors), with the given extra environment ("K=V", NULL-ended). */
pid_t spawn_detached(char *const argv[], char *const env[],
		     const char *logfile);
bool pid_alive(pid_t pid);
/* SIGTERM, wait up to timeout_ms, then SIGKILL. */
void stop_pid(pid_t pid, int timeout_ms);
pid_t read_pidfile(const char *path);
void sleep_ms(int ms);
/* Closes every descriptor above 2 (in a child before exec). */
void close_extra_fds(void);
/* Finds a pvio program: next to this binary, in the build tree's room,
 * or in the install directories. NULL when absent. */
char *find_program(const char *name, const char *room);
/* A driver pvio starts: the program env_name names ('none': none), else
 * name as find_program finds it (none when absent). 0 with *prog (NULL:
 * none), or -1 after a message when env_name names nothing runnable. */
int driver_program(const char *env_name, const char *name, const char *room,
		   char **prog);

/* xenstore helpers */
/* Opens the xenbus helpers on XENSTORED_PATH; NULL after a message. */
struct pvio_xenbus *xb_connect(void);
char *xs_readf(struct xs_handle *h, xs_transaction_t t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool xs_writef(struct xs_handle *h, xs_transaction_t t, const char *path,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Removes path, then each parent left empty, stopping below stop. */
void xs_rm_cleanup(struct xs_handle *h, xs_transaction_t t, const char *path,
		   const char *stop);

/* host.c */
/* Reads <rundir>/host and exports XENSTORED_PATH; -1 when there is none
 * (a message unless quiet), -2 when it is damaged (always a message). */
int host_load(struct host *host, bool quiet);
int host_save(const struct host *host);
int host_lock(const struct host *host);
/*
 * The prologue of every command that works on a running host: load its
 * record, take its lock when the command changes the host (held until
 * exit), and reach its xenstored. NULL after a message.
 */
struct pvio_xenbus *host_connect(struct host *host, bool exclusive);
bool host_running(const struct host *host);
/* A network interface of that name exists in dom0's namespace. */
bool link_exists(const struct host *host, const char *dev);
/* Removes the sim platform's state of domid (<rundir>/dom<domid>: grant
 * table, pages, event-channel ports, sockets; layout in platform/sim.h), so
 * that nothing of a dead domain outlives it or reaches a later one. */
void sim_state_remove(const struct host *host, unsigned domid);
char *domain_socket(const struct host *host, unsigned domid);
int cmd_host(int argc, char **argv);
/* argv to run inside netns ("" = here) through `ip netns exec`, which
 * also remounts /sys for the namespace. Free with free() only. */
char **netns_argv(const char *netns, char *const argv[]);
int netns_pids(const char *netns, pid_t *pids, int max);
void netns_kill_all(const char *netns);
/* `ip netns add` with lo up; -1 after a message. */
int netns_create(const char *name);
/* `ip netns delete` if it exists (a warning when that fails). */
void netns_delete(const char *name);

/* domain.c */
/* Resolves a name or domid; -1 (after an error message) when unknown. */
int resolve_domain(struct xs_handle *h, const char *dom, unsigned *domid);
int domain_ids(struct xs_handle *h, unsigned *ids, int max);
int domain_destroy(const struct host *host, struct pvio_xenbus *xb,
		   unsigned domid);
int cmd_create(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_exec(int argc, char **argv);

/* nic.c */
int nic_detach(const struct host *host, struct pvio_xenbus *xb, unsigned domid,
	       int devid, bool quiet);
int cmd_network_attach(int argc, char **argv);
int cmd_network_detach(int argc, char **argv);
int cmd_network_list(int argc, char **argv);

#endif
