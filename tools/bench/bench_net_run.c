/*
 * pvio-bench net and sweep: one run between guests, supervised. The
 * supervisor records the run (id, files, the pvio CLI), forks the worker
 * that builds the paths and measures, and once the worker has ended,
 * however it ended (done, failed, Ctrl-C, crashed), removes everything the
 * record names.
 */
#include "config.h"

#include "bench.h"
#include "bench_net.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *net_command = "net";

bool net_in_path(const char *tool)
{
	const char *path = getenv("PATH");
	char buf[4096];
	if (strchr(tool, '/'))
		return access(tool, X_OK) == 0;
	snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/bin:/bin");
	char *save = NULL;
	for (char *dir = strtok_r(buf, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		char full[PATH_MAX];
		snprintf(full, sizeof(full), "%s/%s", dir, tool);
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

/*
 * The pvio CLI: --pvio, $PVIO, the build tree's (tools/pvio/pvio beside
 * tools/pvio-bench), an installed one beside pvio-bench, then PATH. A
 * build tree's pvio has no installed hotplug scripts: unless
 * PVIO_SCRIPTDIR says where they are, use the tree's tools/hotplug.
 */
static void find_pvio(const char *given, char *out, size_t size)
{
	const char *env = getenv("PVIO");
	char scripts[PATH_MAX];
	if (!getenv("PVIO_SCRIPTDIR") &&
	    bench_beside_self("hotplug/vif-bridge", scripts, sizeof(scripts))) {
		*strrchr(scripts, '/') = '\0';
		setenv("PVIO_SCRIPTDIR", scripts, 1);
	}
	if (given || (env && *env))
		snprintf(out, size, "%s", given ? given : env);
	else if (!bench_beside_self("pvio/pvio", out, size) &&
		 !bench_beside_self("pvio", out, size))
		snprintf(out, size, "pvio");
}

struct net_cleanup *net_run_begin(const char *cmd, const char *pvio_arg)
{
	net_command = cmd;
	if (geteuid() != 0) {
		fprintf(stderr,
			"pvio-bench %s: needs root (network namespaces, "
			"bridges, TAPs)\n",
			cmd);
		return NULL;
	}
	/* Every path starts both servers (net_path_setup). */
	static const char *const tools[][2] = {{"ip", "iproute2"},
					       {"iperf3", "iperf3"},
					       {"sockperf", "sockperf"}};
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (!net_in_path(tools[i][0])) {
			fprintf(stderr,
				"pvio-bench %s: %s not found; install the "
				"Debian package %s (scripts/install-deps.sh)\n",
				cmd, tools[i][0], tools[i][1]);
			return NULL;
		}

	struct net_cleanup *rec = bench_shared_alloc(sizeof(*rec));
	find_pvio(pvio_arg, rec->pvio, sizeof(rec->pvio));
	uint32_t id;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	snprintf(rec->run_id, sizeof(rec->run_id), "%08x", id);
	snprintf(rec->tmpdir, sizeof(rec->tmpdir), "/tmp/pvio-bench-%s.%s", cmd,
		 rec->run_id);
	if (mkdir(rec->tmpdir, 0700)) {
		fprintf(stderr, "pvio-bench %s: mkdir %s: %s\n", cmd,
			rec->tmpdir, strerror(errno));
		bench_shared_free(rec, sizeof(*rec));
		return NULL;
	}
	unsetenv("XENSTORED_PATH");
	return rec;
}

static volatile sig_atomic_t worker_pid;
static volatile sig_atomic_t stop_signal;

static void forward_signal(int sig)
{
	stop_signal = sig;
	if (worker_pid > 0)
		kill((pid_t)worker_pid, SIGTERM);
}

int net_supervise(struct net_cleanup *rec, int (*worker)(void *arg), void *arg)
{
	const char *cmd = net_command;
	struct sigaction sa = {.sa_handler = forward_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "pvio-bench %s: fork: %s\n", cmd,
			strerror(errno));
		rmdir(rec->tmpdir);
		return 1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		setenv(NET_RUN_ENV, rec->run_id, 1);
		int rc = worker(arg);
		fflush(NULL);
		_exit(rc);
	}
	worker_pid = pid;
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	worker_pid = 0;
	/* A second Ctrl-C must not cut the cleanup short. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	unsigned problems = net_cleanup_run(rec);
	if (problems)
		fprintf(stderr,
			"pvio-bench %s: cleanup of run %s had to force or "
			"could not remove %u thing(s), named above\n",
			cmd, rec->run_id, problems);
	if (stop_signal) {
		fprintf(stderr,
			"pvio-bench %s: stopped by signal %d; run %s "
			"cleaned up\n",
			cmd, (int)stop_signal, rec->run_id);
		return 128 + stop_signal;
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "pvio-bench %s: the worker died of signal %d\n",
			cmd, WTERMSIG(status));
		return 1;
	}
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	return rc ? rc : problems ? 1 : 0;
}
