/* The programs pvio runs: its own daemons and drivers, found next to it,
 * in the build tree or where they install, or named by the environment. */
#ifndef PVIO_TOOLS_PROGRAMS_H
#define PVIO_TOOLS_PROGRAMS_H

/* Finds a pvio program: next to this binary, in the build tree's room,
 * or in the install directories. NULL when absent. */
char *find_program(const char *name, const char *room);
/* A driver pvio starts: the program env_name names ('none': none), else
 * name as find_program finds it (none when absent). 0 with *prog (NULL:
 * none), or -1 after a message when env_name names nothing runnable. */
int driver_program(const char *env_name, const char *name, const char *room,
		   char **prog);

/* The command line of driver prog: prog, then the words (split at
 * spaces and tabs, no quoting) of the environment variable args_env
 * (PVIO_NETBACK_ARGS, PVIO_NETFRONT_ARGS) when set. NULL-terminated, one
 * allocation (free() it); NULL when out of memory (after a message). */
char **driver_argv(const char *prog, const char *args_env);

/* The hotplug script directory relative script= names resolve against:
 * PVIO_SCRIPTDIR, else the source tree's tools/hotplug when this pvio is
 * the build tree's (so that a build works without make install), else
 * the installed $(sysconfdir)/pvio/scripts. */
const char *hotplug_script_dir(void);

#endif
