/*
 * Test fixture for the sim platform: a private run directory per test
 * program, domains as forked processes, and bounded step-by-step
 * synchronisation between parent and child over pipes.
 */
#ifndef PVIO_SIM_FIXTURE_H
#define PVIO_SIM_FIXTURE_H

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long any single step may take before the test calls it a hang. */
#define FIXTURE_STEP_MS 10000

static char fixture_rundir[256];

static int fixture_rm(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Suite init: a fresh PVIO_RUNDIR, platform forced to sim, dom0. */
static inline int fixture_init(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(fixture_rundir, sizeof(fixture_rundir), "%s/pvio-test-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fixture_rundir))
		return -1;
	setenv("PVIO_RUNDIR", fixture_rundir, 1);
	setenv("PVIO_PLATFORM", "sim", 1);
	setenv("PVIO_DOMID", "0", 1);
	return 0;
}

static inline int fixture_cleanup(void)
{
	if (fixture_rundir[0])
		nftw(fixture_rundir, fixture_rm, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static inline void fixture_set_domid(unsigned domid)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%u", domid);
	setenv("PVIO_DOMID", buf, 1);
}

/* Two pipes: parent -> child and child -> parent. */
struct fixture_link {
	int to_child[2];
	int to_parent[2];
};

static inline int fixture_link_open(struct fixture_link *l)
{
	if (pipe(l->to_child))
		return -1;
	if (pipe(l->to_parent)) {
		close(l->to_child[0]);
		close(l->to_child[1]);
		return -1;
	}
	return 0;
}

static inline void fixture_link_close(struct fixture_link *l)
{
	close(l->to_child[0]);
	close(l->to_child[1]);
	close(l->to_parent[0]);
	close(l->to_parent[1]);
}

static inline int fixture_send(int fd, int value)
{
	return write(fd, &value, sizeof(value)) == sizeof(value) ? 0 : -1;
}

/* Receive one value, waiting at most FIXTURE_STEP_MS; -1 on timeout/EOF. */
static inline int fixture_recv(int fd, int *value)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	if (poll(&pfd, 1, FIXTURE_STEP_MS) != 1)
		return -1;
	return read(fd, value, sizeof(*value)) == sizeof(*value) ? 0 : -1;
}

/* Child side helpers. */
static inline int child_send(struct fixture_link *l, int v)
{
	return fixture_send(l->to_parent[1], v);
}
static inline int child_recv(struct fixture_link *l, int *v)
{
	return fixture_recv(l->to_child[0], v);
}
/* Parent side helpers. */
static inline int parent_send(struct fixture_link *l, int v)
{
	return fixture_send(l->to_child[1], v);
}
static inline int parent_recv(struct fixture_link *l, int *v)
{
	return fixture_recv(l->to_parent[0], v);
}

/* Fork a child acting as domain domid; it exits with fn's result. */
static inline pid_t
fixture_fork_domain(unsigned domid, int (*fn)(struct fixture_link *, void *),
		    struct fixture_link *l, void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		fixture_set_domid(domid);
		alarm(FIXTURE_STEP_MS / 1000 * 3); /* never outlive a hang */
		_exit(fn(l, arg));
	}
	return pid;
}

/*
 * Reap a child, killing it if it has not exited within FIXTURE_STEP_MS.
 * Returns its exit status, 128 + signal when killed by one, or -1.
 */
static inline int fixture_reap(pid_t pid)
{
	int status;
	for (int i = 0; i < FIXTURE_STEP_MS / 10; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status)
						 : 128 + WTERMSIG(status);
		if (r < 0)
			return -1;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* Memory shared with children forked afterwards. */
static inline void *fixture_shared(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

#endif
