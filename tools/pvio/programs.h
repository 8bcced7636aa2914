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

#endif
