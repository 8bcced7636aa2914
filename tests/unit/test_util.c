/*
 * Unit tests of util/: the log-line budget with a fake clock (the time is
 * whatever the test passes), the line the logger writes, and the stop
 * request a signal sets.
 */
#include "config.h"

#include "cunit_main.h"
#include "util/pvio_log.h"
#include "util/pvio_stop.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define T0 1000

static void test_budget(void)
{
	struct pvio_log_limit l = {0};
	for (unsigned i = 0; i < PVIO_LOG_LIMIT_LINES; i++)
		CU_ASSERT_EQUAL(pvio_log_limit_take(&l, T0 + 1),
				PVIO_LOG_PRINT);
	CU_ASSERT_EQUAL(pvio_log_limit_take(&l, T0 + 2), PVIO_LOG_LAST);
	for (int i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(pvio_log_limit_take(&l, T0 + 3),
				PVIO_LOG_SUPPRESSED);
	/* The window counts from its first line, not its last. */
	CU_ASSERT_EQUAL(pvio_log_limit_take(&l, T0 + PVIO_LOG_LIMIT_WINDOW_S),
			PVIO_LOG_SUPPRESSED);
	CU_ASSERT_EQUAL(
		pvio_log_limit_take(&l, T0 + 1 + PVIO_LOG_LIMIT_WINDOW_S),
		PVIO_LOG_PRINT);
}

/* A zeroed limit at time 0 (a clock just started) is a fresh window. */
static void test_first_window_at_zero(void)
{
	struct pvio_log_limit l = {0};
	CU_ASSERT_EQUAL(pvio_log_limit_take(&l, 0), PVIO_LOG_PRINT);
	CU_ASSERT_EQUAL(l.lines, 1);
}

/* A quiet window gives back the whole budget. */
static void test_quiet_window(void)
{
	struct pvio_log_limit l = {0};
	for (unsigned i = 0; i < 5; i++)
		pvio_log_limit_take(&l, T0);
	for (unsigned i = 0; i < PVIO_LOG_LIMIT_LINES; i++)
		CU_ASSERT_EQUAL(pvio_log_limit_take(
					&l, T0 + 3 * PVIO_LOG_LIMIT_WINDOW_S),
				PVIO_LOG_PRINT);
}

/* What pvio_log writes to stderr, read back from a pipe. */
static void logged(char *out, size_t size, const char *text)
{
	int p[2];
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	int saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	pvio_log("%s", text);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	ssize_t n = read(p[0], out, size - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = 0;
}

static void test_line(void)
{
	char out[2048];
	pvio_log_set_name("pvio-test");
	logged(out, sizeof(out), "vif1.0: hello");
	CU_ASSERT_STRING_EQUAL(out, "pvio-test: vif1.0: hello\n");

	/* Too long: cut, still one line ending in a newline. */
	char text[1500];
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = 0;
	logged(out, sizeof(out), text);
	size_t len = strlen(out);
	CU_ASSERT(len < 1024);
	CU_ASSERT_EQUAL(out[len - 1], '\n');
	CU_ASSERT_PTR_EQUAL(strchr(out, '\n'), out + len - 1);
	CU_ASSERT_EQUAL(strncmp(out, "pvio-test: xxx", 14), 0);
	pvio_log_set_name("pvio");
}

static void test_stop_on_signal(void)
{
	pvio_stop_on_signals();
	CU_ASSERT_FALSE(pvio_stop_requested);
	raise(SIGTERM);
	CU_ASSERT_TRUE(pvio_stop_requested);
	pvio_stop_requested = 0;
	raise(SIGINT);
	CU_ASSERT_TRUE(pvio_stop_requested);
	/* SIGPIPE ignored: the process is still here. */
	raise(SIGPIPE);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
}

static CU_TestInfo log_tests[] = {
	{"budget of a window", test_budget},
	{"first window at time 0", test_first_window_at_zero},
	{"quiet window refills", test_quiet_window},
	{"one line with the name", test_line},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo stop_tests[] = {
	{"SIGTERM and SIGINT set the flag", test_stop_on_signal},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"log", NULL, NULL, NULL, NULL, log_tests},
	{"stop", NULL, NULL, NULL, NULL, stop_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return pvio_cunit_run(suites);
}
