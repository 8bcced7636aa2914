/* Network namespaces: running a command in one, the processes in one,
 * creating and deleting them. */
#include "config.h"

#include "msg.h"
#include "netns.h"
#include "proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char **netns_argv(const char *netns, char *const argv[])
{
	int n = 0;
	while (argv[n])
		n++;
	char **out = calloc((size_t)n + 5, sizeof(*out));
	if (!out) {
		pvio_err("out of memory");
		exit(1);
	}
	int k = 0;
	if (netns && *netns) {
		out[k++] = "ip";
		out[k++] = "netns";
		out[k++] = "exec";
		out[k++] = (char *)netns;
	}
	for (int i = 0; i < n; i++)
		out[k++] = argv[i];
	return out;
}

int netns_pids(const char *netns, pid_t *pids, int max)
{
	char out[8192];
	char *argv[] = {"ip", "netns", "pids", (char *)netns, NULL};
	if (run_cmd(argv, out, sizeof(out)) != 0)
		return 0;
	int n = 0;
	for (char *p = strtok(out, " \n"); p && n < max;
	     p = strtok(NULL, " \n"))
		if (atoi(p) > 0 && atoi(p) != getpid())
			pids[n++] = atoi(p);
	return n;
}

/* Up to timeout_ms for every one of pids to be gone. */
static void wait_pids_gone(const pid_t *pids, int n, int timeout_ms)
{
	for (int waited = 0;; waited += 20) {
		int alive = 0;
		for (int i = 0; i < n && !alive; i++)
			alive = pid_alive(pids[i]);
		if (!alive || waited >= timeout_ms)
			return;
		sleep_ms(20);
	}
}

void netns_kill_all(const char *netns)
{
	/* SIGTERM to all at once, 2 s for all of them together (not each),
	 * then SIGKILL. Processes may fork while we kill: a few rounds,
	 * bounded. */
	for (int round = 0; round < 5; round++) {
		pid_t pids[512];
		int n = netns_pids(netns, pids, 512);
		if (!n)
			return;
		for (int i = 0; i < n; i++)
			kill(pids[i], round ? SIGKILL : SIGTERM);
		wait_pids_gone(pids, n, round ? 1000 : 2000);
	}
}

static bool netns_exists(const char *name)
{
	char *path = pvio_strfmt("/run/netns/%s", name);
	bool ok = access(path, F_OK) == 0;
	free(path);
	return ok;
}

int netns_create(const char *name)
{
	char out[512];
	char *add[] = {"ip", "netns", "add", (char *)name, NULL};
	if (run_cmd(add, out, sizeof(out))) {
		pvio_err("cannot create network namespace %s: %s", name, out);
		return -1;
	}
	char *lo[] = {"ip",  "-n", (char *)name, "link",
		      "set", "lo", "up",	 NULL};
	if (run_cmd(lo, out, sizeof(out))) {
		pvio_err("cannot bring lo up in %s: %s", name, out);
		return -1;
	}
	return 0;
}

void netns_delete(const char *name)
{
	char out[512];
	char *del[] = {"ip", "netns", "delete", (char *)name, NULL};
	if (netns_exists(name) && run_cmd(del, out, sizeof(out)))
		pvio_warn("cannot delete network namespace %s: %s", name, out);
}
