/* Unit tests of the pvio toolstack's process helpers: a daemon started
 * detached, and what the caller hears when it cannot be (fork failing, as
 * under a process limit, is simulated by interposing fork()). */
#include "config.h"

#include <CUnit/Basic.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "files.h"
#include "proc.h"
#include "tests/unit/cunit_main.h"

static bool fork_fails;

/* The program's fork: libc's unless the test makes it fail. */
pid_t fork(void)
{
	if (fork_fails) {
		errno = EAGAIN;
		return -1;
	}
	pid_t (*real_fork)(void) = (pid_t(*)(void))dlsym(RTLD_NEXT, "fork");
	return real_fork ? real_fork() : -1;
}

static char tmpdir[] = "/tmp/pvio-proc-test.XXXXXX";
static char stderr_path[300];
static int saved_stderr = -1;

static int suite_init(void)
{
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(stderr_path, sizeof(stderr_path), "%s/stderr", tmpdir);
	return 0;
}

static int suite_clean(void)
{
	char log[300];
	snprintf(log, sizeof(log), "%s/daemon.log", tmpdir);
	unlink(log);
	unlink(stderr_path);
	rmdir(tmpdir);
	return 0;
}

/* stderr into a file, to read what a call printed. */
static void capture_stderr(void)
{
	fflush(stderr);
	saved_stderr = dup(2);
	int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0 && saved_stderr >= 0);
	dup2(fd, 2);
	close(fd);
}

/* What the call printed (malloc'd). */
static char *captured_stderr(void)
{
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	saved_stderr = -1;
	return read_text_file(stderr_path);
}

static void test_spawn_detached(void)
{
	char log[300];
	snprintf(log, sizeof(log), "%s/daemon.log", tmpdir);
	char *argv[] = {"sh", "-c", "echo \"started as $PVIO_TEST_ID\"", NULL};
	char *env[] = {"PVIO_TEST_ID=7", NULL};
	pid_t pid = spawn_detached("the test daemon", argv, env, log);
	CU_ASSERT_FATAL(pid > 0);
	int status;
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char *text = read_text_file(log);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "started as 7\n");
	free(text);
}

/* A daemon that cannot be forked is reported, in one line that names it
 * and the reason, and the caller gets -1. */
static void test_spawn_fork_fails(void)
{
	char log[300];
	snprintf(log, sizeof(log), "%s/daemon.log", tmpdir);
	char *argv[] = {"sh", "-c", "exit 0", NULL};
	capture_stderr();
	fork_fails = true;
	pid_t pid = spawn_detached("pvio-xenstored", argv, NULL, log);
	fork_fails = false;
	char *err = captured_stderr();
	CU_ASSERT_EQUAL(pid, -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_STRING_EQUAL(err, "pvio: cannot start pvio-xenstored: "
				    "Resource temporarily unavailable\n");
	free(err);
}

/* A command that cannot be forked says why in its output, which callers
 * put in their one-line messages. */
static void test_run_cmd_fork_fails(void)
{
	char out[256] = "stale";
	char *argv[] = {"ip", "link", NULL};
	fork_fails = true;
	int rc = run_cmd(argv, out, sizeof(out));
	fork_fails = false;
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_STRING_EQUAL(
		out, "cannot run ip: Resource temporarily unavailable");
}

int main(void)
{
	static CU_TestInfo tests[] = {
		{"a daemon starts detached", test_spawn_detached},
		{"a daemon that cannot fork is reported",
		 test_spawn_fork_fails},
		{"a command that cannot fork says why",
		 test_run_cmd_fork_fails},
		CU_TEST_INFO_NULL,
	};
	static CU_SuiteInfo suites[] = {
		{"process helpers", suite_init, suite_clean, NULL, NULL, tests},
		CU_SUITE_INFO_NULL,
	};
	return pvio_cunit_run(suites);
}
