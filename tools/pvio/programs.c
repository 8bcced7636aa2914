/* Finding the programs pvio runs: its own daemons and drivers, and the
 * ones the environment names. */
#include "config.h"

#include "msg.h"
#include "programs.h"

#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* This process is the pvio the build tree made, not an installed one. */
static bool running_from_build_tree(void)
{
	char *self = realpath("/proc/self/exe", NULL);
	char *built = realpath(PVIO_BUILD_EXE, NULL);
	bool same = self && built && !strcmp(self, built);
	free(self);
	free(built);
	return same;
}

const char *hotplug_script_dir(void)
{
	const char *env = getenv("PVIO_SCRIPTDIR");
	if (env && *env)
		return env;
	return running_from_build_tree() ? PVIO_BUILD_SCRIPTDIR
					 : PVIO_SCRIPTDIR;
}

char *find_program(const char *name, const char *room)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		char *dir = dirname(self);
		char *candidates[] = {
			pvio_strfmt("%s/%s", dir, name),
			/* The build tree: tools/pvio/pvio, <room>/NAME. */
			pvio_strfmt("%s/../../%s/%s", dir, room, name),
			/* An install: bin/pvio next to sbin/. */
			pvio_strfmt("%s/../sbin/%s", dir, name),
		};
		char *found = NULL;
		for (size_t i = 0; i < sizeof(candidates) / sizeof(*candidates);
		     i++) {
			if (!found && is_executable(candidates[i]))
				found = realpath(candidates[i], NULL);
			free(candidates[i]);
		}
		if (found)
			return found;
	}
	const char *dirs[] = {PVIO_SBINDIR, PVIO_BINDIR};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		char *p = pvio_strfmt("%s/%s", dirs[i], name);
		if (is_executable(p))
			return p;
		free(p);
	}
	return NULL;
}

/* prog runs: an executable file, as a path or found in PATH. */
static bool program_runnable(const char *prog)
{
	if (strchr(prog, '/'))
		return is_executable(prog);
	const char *path = getenv("PATH");
	char *dirs = strdup(path && *path ? path : "/usr/bin:/bin");
	bool found = false;
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		char *p = pvio_strfmt("%s/%s", d, prog);
		found = is_executable(p);
		free(p);
	}
	free(dirs);
	return found;
}

int driver_program(const char *env_name, const char *name, const char *room,
		   char **prog)
{
	const char *env = getenv(env_name);
	*prog = NULL;
	if (!env || !*env) {
		*prog = find_program(name, room);
		return 0;
	}
	if (!strcmp(env, "none"))
		return 0;
	if (!program_runnable(env)) {
		pvio_err("%s=%s: not an executable program (a path, a command "
			 "in PATH, or 'none')",
			 env_name, env);
		return -1;
	}
	*prog = strdup(env);
	return 0;
}

char **driver_argv(const char *prog, const char *args_env)
{
	const char *args = getenv(args_env);
	if (!args)
		args = "";
	size_t len = strlen(args);
	/* At most one word per two characters, prog and the NULL. */
	size_t slots = len / 2 + 3;
	char **argv = malloc(slots * sizeof(*argv) + len + 1);
	if (!argv) {
		pvio_err("out of memory");
		return NULL;
	}
	char *words = (char *)(argv + slots);
	memcpy(words, args, len + 1);
	size_t n = 0;
	argv[n++] = (char *)prog;
	for (char *save = NULL, *w = strtok_r(words, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	argv[n] = NULL;
	return argv;
}
