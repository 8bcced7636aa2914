/* Network namespaces: a command run inside one, the processes in one,
 * their creation and deletion (through ip netns). */
#ifndef PVIO_TOOLS_NETNS_H
#define PVIO_TOOLS_NETNS_H

#include <sys/types.h>

/* argv to run inside netns ("" = here) through `ip netns exec`, which
 * also remounts /sys for the namespace. Free with free() only. */
char **netns_argv(const char *netns, char *const argv[]);
int netns_pids(const char *netns, pid_t *pids, int max);
/* SIGTERM to every process in it, then SIGKILL to those left. */
void netns_kill_all(const char *netns);
/* `ip netns add` with lo up; -1 after a message. */
int netns_create(const char *name);
/* `ip netns delete` if it exists (a warning when that fails). */
void netns_delete(const char *name);

#endif
