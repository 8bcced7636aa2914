/* Processes: commands run with their output captured, daemons started
 * detached, pids watched and stopped. */
#ifndef PVIO_TOOLS_PROC_H
#define PVIO_TOOLS_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Runs argv (PATH lookup), its stdout and stderr captured into out (may
 * be NULL); returns the exit status, or -1 when it could not run (out
 * then says why). */
int run_cmd(char *const argv[], char *out, size_t outlen);
/* The same with extra environment ("K=V", NULL-ended) and a timeout
 * (0: none); -2 when the timeout killed it. */
int run_cmd_env(char *const argv[], char *const env[], int timeout_ms,
		char *out, size_t outlen);
/* Starts argv detached (own session, stdio to logfile, no inherited
 * descriptors), with the given extra environment ("K=V", NULL-ended).
 * -1 after a message naming it name when it cannot be forked. */
pid_t spawn_detached(const char *name, char *const argv[], char *const env[],
		     const char *logfile);
bool pid_alive(pid_t pid);
/* SIGTERM, wait up to timeout_ms, then SIGKILL. */
void stop_pid(pid_t pid, int timeout_ms);
/* The pid a pidfile names; 0 when none. */
pid_t read_pidfile(const char *path);
void sleep_ms(int ms);
/* Closes every descriptor above 2 (in a child before exec). */
void close_extra_fds(void);

#endif
