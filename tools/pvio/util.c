/* Helpers of the pvio toolstack: messages, files, processes, xenstore. */
#include "config.h"

#include "pvio.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One line on stderr: prefix, message, newline. */
static void report(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pvio_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report("pvio: ", fmt, ap);
	va_end(ap);
}

void pvio_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report("pvio: warning: ", fmt, ap);
	va_end(ap);
}

char *pvio_strfmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("pvio: out of memory\n", stderr);
		exit(1);
	}
	va_end(ap);
	return s;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path))
		pvio_warn("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

void rm_tree(const char *path)
{
	if (access(path, F_OK) == 0)
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -1;
	return 0;
}

char *read_text_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n = getdelim(&buf, &len, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return strdup("");
	}
	return buf;
}

int write_text_file(const char *path, const char *text)
{
	/* Write a temporary and rename: readers never see half a file. */
	char *tmp = pvio_strfmt("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	int rc = -1;
	if (f) {
		bool ok = fputs(text, f) >= 0;
		ok = (fclose(f) == 0) && ok;
		if (ok && rename(tmp, path) == 0)
			rc = 0;
		else
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

int kv_get(const char *text, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len > klen && !strncmp(line, key, klen) &&
		    line[klen] == '=') {
			size_t vlen = len - klen - 1;
			if (vlen >= outlen)
				return -1;
			memcpy(out, line + klen + 1, vlen);
			out[vlen] = 0;
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -1;
}

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
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
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

pid_t spawn_detached(char *const argv[], char *const env[], const char *logfile)
{
	pid_t pid = fork();
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

static bool is_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
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

struct pvio_xenbus *xb_connect(void)
{
	struct pvio_xenbus *xb = pvio_xenbus_open();
	if (!xb)
		pvio_err("cannot reach xenstored at %s: %s (is the host "
			 "running? `pvio host status`)",
			 getenv("XENSTORED_PATH"), strerror(errno));
	return xb;
}

char *xs_readf(struct xs_handle *h, xs_transaction_t t, const char *fmt, ...)
{
	va_list ap;
	char *path;
	va_start(ap, fmt);
	int n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	unsigned len;
	char *v = xs_read(h, t, path, &len);
	free(path);
	return v;
}

bool xs_writef(struct xs_handle *h, xs_transaction_t t, const char *path,
	       const char *fmt, ...)
{
	va_list ap;
	char *v;
	va_start(ap, fmt);
	int n = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	bool ok = xs_write(h, t, path, v, (unsigned)n);
	free(v);
	return ok;
}

void xs_rm_cleanup(struct xs_handle *h, xs_transaction_t t, const char *path,
		   const char *stop)
{
	char *p = strdup(path);
	if (!p)
		return;
	xs_rm(h, t, p);
	/* As libxl__xs_path_cleanup: drop parents the removal left empty. */
	for (;;) {
		char *slash = strrchr(p, '/');
		if (!slash || slash == p)
			break;
		*slash = 0;
		if (strlen(p) <= strlen(stop))
			break;
		unsigned num;
		char **kids = xs_directory(h, t, p, &num);
		if (!kids)
			break;
		free(kids);
		if (num)
			break;
		xs_rm(h, t, p);
	}
	free(p);
}
