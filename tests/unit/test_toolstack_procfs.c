/* Unit tests of what `pvio list` reads from /proc (tools/pvio/procfs.c):
 * stat lines with awkward command names, the State letters, and the
 * figures of this test's own process. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "tests/unit/cunit_main.h"

/* A stat line as Linux 6.1 writes one (proc(5)), with fields 14-17 and
 * 20 and 24 set from the arguments. */
static void stat_line(char *buf, size_t len, const char *comm, char state,
		      unsigned long long ut, unsigned long long st,
		      long long cut, long long cst, long threads, long long rss)
{
	snprintf(buf, len,
		 "4242 (%s) %c 1 4242 4242 0 -1 4194560 1234 0 5 0 %llu %llu "
		 "%lld %lld 20 0 %ld 0 987654 12345678 %lld "
		 "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 "
		 "0\n",
		 comm, state, ut, st, cut, cst, threads, rss);
}

static void test_stat_parse(void)
{
	char buf[512];
	struct proc_stat st;
	stat_line(buf, sizeof(buf), "pvio-netfront", 'S', 120, 30, 4, 6, 3,
		  900);
	CU_ASSERT_EQUAL_FATAL(proc_stat_parse(buf, &st), 0);
	CU_ASSERT_EQUAL(st.state, 'S');
	CU_ASSERT_EQUAL(st.utime, 120);
	CU_ASSERT_EQUAL(st.stime, 30);
	CU_ASSERT_EQUAL(st.cutime, 4);
	CU_ASSERT_EQUAL(st.cstime, 6);
	CU_ASSERT_EQUAL(st.num_threads, 3);
	CU_ASSERT_EQUAL(st.rss, 900);
	/* A command name with spaces and parentheses: fields start after
	 * the last ')'. */
	stat_line(buf, sizeof(buf), "a) R 1 (b", 'R', 7, 8, 0, 0, 1, 10);
	CU_ASSERT_EQUAL_FATAL(proc_stat_parse(buf, &st), 0);
	CU_ASSERT_EQUAL(st.state, 'R');
	CU_ASSERT_EQUAL(st.utime, 7);
	CU_ASSERT_EQUAL(st.stime, 8);
	stat_line(buf, sizeof(buf), "zombie", 'Z', 1, 1, 0, 0, 1, 0);
	CU_ASSERT_EQUAL(proc_stat_parse(buf, &st), 0);
	CU_ASSERT_EQUAL(st.state, 'Z');

	const char *bad[] = {
		"",
		"4242",
		"4242 (x",
		"4242 x) S 1",
		"4242 (x)S 1 2 3",
		"4242 (x) S 1 4242 4242 0 -1 4194560 1234 0 5 0 120",
		"4242 (x) S 1 4242 4242 0 -1 4194560 1234 0 5 0 a b 0 0 20 0 "
		"1 0 1 1 1",
		/* Negative children's times are not times. */
		"4242 (x) S 1 4242 4242 0 -1 4194560 1234 0 5 0 1 1 -1 0 20 0 "
		"1 0 1 1 1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CU_ASSERT_EQUAL(proc_stat_parse(bad[i], &st), -1);
}

static void letters(int r, int s, int t, int z, bool dying, const char *want)
{
	struct domain_usage u;
	memset(&u, 0, sizeof(u));
	for (int i = 0; i < r; i++)
		domain_usage_add_state(&u, 'R');
	for (int i = 0; i < s; i++)
		domain_usage_add_state(&u, i % 2 ? 'D' : 'S');
	for (int i = 0; i < t; i++)
		domain_usage_add_state(&u, 'T');
	for (int i = 0; i < z; i++)
		domain_usage_add_state(&u, 'Z');
	char out[7];
	domain_state_letters(&u, dying, out);
	if (strcmp(out, want))
		fprintf(stderr, "\n  r%d s%d t%d z%d dying %d: %s, not %s\n", r,
			s, t, z, dying, out, want);
	CU_ASSERT_STRING_EQUAL(out, want);
}

static void test_state_letters(void)
{
	letters(1, 0, 0, 0, false, "r-----");
	letters(1, 5, 2, 1, false, "r-----");
	letters(0, 3, 0, 0, false, "-b----");
	letters(0, 1, 2, 0, false, "-b----");
	letters(0, 0, 2, 0, false, "--p---");
	letters(0, 0, 0, 2, false, "-----d");
	letters(0, 0, 0, 0, false, "-b----"); /* nothing runs: idle */
	letters(0, 2, 0, 0, true, "-b---d");
	letters(1, 0, 0, 0, true, "r----d");
	letters(0, 0, 0, 0, true, "-b---d");
}

/* This process burns CPU: its figures grow and say it runs. */
static void test_own_usage(void)
{
	pid_t self = getpid();
	struct domain_usage before, after;
	procfs_usage(&self, 1, &before);
	CU_ASSERT_EQUAL(before.processes, 1);
	CU_ASSERT_TRUE(before.threads >= 1);
	CU_ASSERT_TRUE(before.rss_kib > 0);
	/* This thread reads its own stat while it runs. */
	CU_ASSERT_TRUE(before.running >= 1);
	/* Burn CPU until the tick counter moves (bounded in count). */
	volatile unsigned long spin = 0;
	for (int round = 0; round < 2000; round++) {
		for (int i = 0; i < 1000000; i++)
			spin = spin + (unsigned long)i;
		procfs_usage(&self, 1, &after);
		if (after.ticks > before.ticks)
			break;
	}
	CU_ASSERT_TRUE(after.ticks > before.ticks);
	CU_ASSERT_TRUE(procfs_ticks_to_s(after.ticks) > 0);

	/* A child that exited and was waited for counts (cutime). */
	struct domain_usage with_child;
	pid_t child = fork();
	if (child == 0) {
		struct domain_usage mine;
		pid_t me = getpid();
		procfs_usage(&me, 1, &mine);
		for (int round = 0; round < 2000; round++) {
			struct domain_usage now;
			for (int i = 0; i < 1000000; i++)
				spin = spin + (unsigned long)i;
			procfs_usage(&me, 1, &now);
			if (now.ticks > mine.ticks)
				_exit(0);
		}
		_exit(1);
	}
	CU_ASSERT_FATAL(child > 0);
	int status;
	CU_ASSERT_EQUAL(waitpid(child, &status, 0), child);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	procfs_usage(&self, 1, &with_child);
	CU_ASSERT_TRUE(with_child.ticks > after.ticks);

	/* A pid that does not exist is skipped. */
	pid_t gone[2] = {self, 0x7ffffff0};
	struct domain_usage u;
	procfs_usage(gone, 2, &u);
	CU_ASSERT_EQUAL(u.processes, 1);
	procfs_usage(gone + 1, 1, &u);
	CU_ASSERT_EQUAL(u.processes, 0);
	CU_ASSERT_EQUAL(u.ticks, 0);
}

static CU_TestInfo tests[] = {
	{"/proc/PID/stat lines", test_stat_parse},
	{"xl's State letters", test_state_letters},
	{"this process's figures", test_own_usage},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"toolstack /proc", NULL, NULL, NULL, NULL, tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return pvio_cunit_run(suites);
}
