/* pvio-bench: a private sim run directory for the platform benchmarks. */
#include "config.h"

#include "bench_sim.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The directory made here, removed at exit by the process that made it
 * (a benchmark that fails exits on the spot). */
static struct {
	pid_t owner;
	char dir[4096];
} made;

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw);

static void remove_made(void)
{
	if (!made.dir[0] || getpid() != made.owner)
		return;
	nftw(made.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	made.dir[0] = 0;
}

char *bench_sim_rundir_create(const char *who)
{
	setenv("PVIO_PLATFORM", "sim", 1);
	const char *given = getenv("PVIO_RUNDIR");
	if (given && *given)
		return NULL;
	const char *tmp = getenv("TMPDIR");
	char *dir = malloc(4096);
	if (!dir) {
		fprintf(stderr, "pvio-bench %s: out of memory\n", who);
		exit(1);
	}
	snprintf(dir, 4096, "%s/pvio-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr,
			"pvio-bench %s: cannot create a run directory %s (set "
			"TMPDIR or PVIO_RUNDIR to a writable directory)\n",
			who, dir);
		exit(1);
	}
	setenv("PVIO_RUNDIR", dir, 1);
	if (!made.owner)
		atexit(remove_made);
	made.owner = getpid();
	snprintf(made.dir, sizeof(made.dir), "%s", dir);
	return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void bench_sim_rundir_remove(char *dir)
{
	if (!dir)
		return;
	remove_made();
	unsetenv("PVIO_RUNDIR");
	free(dir);
}

void bench_sim_set_domid(unsigned domid)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%u", domid);
	setenv("PVIO_DOMID", buf, 1);
}
