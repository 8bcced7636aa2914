/* Processes: run a command and capture its output, start a daemon
 * detached, watch and stop a pid. */
#include "config.h"

#include "files.h"
#include "msg.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void close_extra_fds(void)
{
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++)
		close(fd);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int run_cmd(char *const argv[], char *out, size_t outlen)
{
	return run_cmd_env(argv, NULL, 0, out, outlen);
}

int run_cmd_env(char *const argv[], char *const env[], int timeout_ms,
		char *out, size_t outlen)
{
	int pfd[2];
	pid_t pid = -1;
	if (pipe2(pfd, O_CLOEXEC) == 0 && (pid = fork()) < 0) {
		int err = errno;
		close(pfd[0]);
		close(pfd[1]);
		errno = err;
	}
	if (pid < 0) {
		/* Callers put the output in their messages: say why there is
		 * none. */
		if (out && outlen)
			snprintf(out, outlen, "cannot run %s: %s", argv[0],
				 strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* Its own process group, so that a timeout kills all of it. */
		setpgid(0, 0);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close_extra_fds();
		for (int i = 0; env && env[i]; i++)
			putenv(env[i]);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(pfd[1]);
	long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	bool timed_out = false;
	size_t used = 0;
	char sink[512];
	for (;;) {
		if (deadline) {
			long left = deadline - now_ms();
			struct pollfd p = {.fd = pfd[0], .events = POLLIN};
			if (left <= 0 || poll(&p, 1, (int)left) == 0) {
				timed_out = true;
				kill(-pid, SIGKILL);
				break;
			}
		}
		bool keep = out && used + 1 < outlen;
		char *dst = keep ? out + used : sink;
		size_t room = keep ? outlen - used - 1 : sizeof(sink);
		ssize_t n = read(pfd[0], dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (keep)
			used += (size_t)n;
	}
	close(pfd[0]);
	if (out && outlen) {
		out[used] = 0;
		/* One-line messages: drop trailing newlines. */
		while (used && out[used - 1] == '\n')
			out[--used] = 0;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (timed_out)
		return -2;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

pid_t spawn_detached(const char *name, char *const argv[], char *const env[],
		     const char *logfile)
{
	pid_t pid = fork();
	if (pid < 0)
		pvio_err("cannot start %s: %s", name, strerror(errno));
	if (pid != 0)
		return pid;
	setsid();
	int null = open("/dev/null", O_RDONLY);
	int log = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (null >= 0)
		dup2(null, 0);
	if (log >= 0) {
		dup2(log, 1);
		dup2(log, 2);
	}
	close_extra_fds();
	for (int i = 0; env && env[i]; i++)
		putenv(env[i]);
	execvp(argv[0], argv);
	fprintf(stderr, "pvio: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

bool pid_alive(pid_t pid)
{
	if (pid <= 0)
		return false;
	/* Reap it if it is our own exited child. */
	int status;
	if (waitpid(pid, &status, WNOHANG) == pid)
		return false;
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return false;
	/* A zombie is dead for our purposes. */
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	bool zombie = false;
	if (fgets(buf, sizeof(buf), f)) {
		char *rp = strrchr(buf, ')');
		zombie = rp && rp[1] == ' ' && rp[2] == 'Z';
	}
	fclose(f);
	return !zombie;
}

void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void stop_pid(pid_t pid, int timeout_ms)
{
	if (!pid_alive(pid))
		return;
	kill(pid, SIGTERM);
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		if (!pid_alive(pid))
			return;
		sleep_ms(20);
	}
	kill(pid, SIGKILL);
	for (int i = 0; i < 100 && pid_alive(pid); i++)
		sleep_ms(10);
}

pid_t read_pidfile(const char *path)
{
	char *text = read_text_file(path);
	if (!text)
		return 0;
	long pid = strtol(text, NULL, 10);
	free(text);
	return pid > 0 ? (pid_t)pid : 0;
}
