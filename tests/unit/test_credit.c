/*
 * Unit tests of pvio-netback's TX credit scheduler (backend/credit.c) with
 * a fake clock: the time is whatever the test passes.
 */
#include "config.h"

#include "backend/credit.h"
#include "cunit_main.h"

#include <errno.h>

/* 1000 bytes per 10 ms, starting at t = 1 s. */
#define T0     1000000
#define WINDOW 10000

static void test_unlimited(void)
{
	struct credit c;
	int64_t retry = -1;
	credit_init(&c);
	CU_ASSERT_FALSE(credit_limited(&c));
	for (int i = 0; i < 1000; i++)
		CU_ASSERT_TRUE(credit_take(&c, 65535, T0, &retry));
	CU_ASSERT_EQUAL(retry, -1);
}

static void test_window(void)
{
	struct credit c;
	int64_t retry = 0;
	credit_init(&c);
	credit_set(&c, 1000, WINDOW, T0);
	CU_ASSERT_TRUE(credit_limited(&c));
	/* A full window's bytes at once, then nothing more in it. */
	CU_ASSERT_TRUE(credit_take(&c, 600, T0, &retry));
	CU_ASSERT_TRUE(credit_take(&c, 400, T0 + 10, &retry));
	CU_ASSERT_FALSE(credit_take(&c, 1, T0 + 20, &retry));
	CU_ASSERT_EQUAL(retry, T0 + WINDOW);
	/* Refused again just before the window ends, nothing taken. */
	CU_ASSERT_FALSE(credit_take(&c, 1, T0 + WINDOW - 1, &retry));
	CU_ASSERT_EQUAL(retry, T0 + WINDOW);
	/* The next window brings the next 1000. */
	CU_ASSERT_TRUE(credit_take(&c, 1000, T0 + WINDOW, &retry));
	CU_ASSERT_FALSE(credit_take(&c, 60, T0 + WINDOW, &retry));
	CU_ASSERT_EQUAL(retry, T0 + 2 * WINDOW);
}

/* A steady sender never gets more than one window's bytes per window
 * beyond the burst it saved: the bound the integration test holds. */
static void test_steady_bound(void)
{
	struct credit c;
	credit_init(&c);
	credit_set(&c, 1000, WINDOW, T0);
	uint64_t sent = 0;
	int64_t now = T0, retry;
	const int64_t span = 100 * WINDOW;
	while (now < T0 + span) {
		if (credit_take(&c, 100, now, &retry))
			sent += 100;
		else
			now = retry; /* the timer fires on time */
	}
	CU_ASSERT(sent <= 1000 * (uint64_t)(span / WINDOW) + 1000);
	CU_ASSERT(sent >= 1000 * (uint64_t)(span / WINDOW));
}

/* Idle windows save credit up to the burst, no further. */
static void test_saves_up_to_burst(void)
{
	struct credit c;
	int64_t retry;
	credit_init(&c);
	credit_set(&c, 1000, WINDOW, T0);
	CU_ASSERT_EQUAL(credit_burst(&c), CREDIT_BURST_MIN);
	CU_ASSERT_TRUE(credit_take(&c, 1000, T0, &retry));
	/* Each look after a window adds one window's bytes. */
	int64_t now = T0;
	for (int i = 0; i < 1000; i++) {
		now += WINDOW;
		CU_ASSERT_FALSE(
			credit_take(&c, CREDIT_BURST_MIN + 1, now, &retry));
	}
	CU_ASSERT_EQUAL(c.remaining, CREDIT_BURST_MIN);
	CU_ASSERT_TRUE(credit_take(&c, CREDIT_BURST_MIN, now, &retry));
	CU_ASSERT_FALSE(credit_take(&c, 1, now, &retry));

	/* A window larger than the minimum burst is its own burst. */
	credit_set(&c, 4u * CREDIT_BURST_MIN, WINDOW, now);
	CU_ASSERT_EQUAL(credit_burst(&c), 4u * CREDIT_BURST_MIN);
}

/* A packet larger than one window's bytes still goes once the credit has
 * saved up enough: a small rate does not wedge the vif. */
static void test_big_packet_goes(void)
{
	struct credit c;
	int64_t retry, now = T0;
	credit_init(&c);
	credit_set(&c, 100, WINDOW, T0);
	int tries = 0;
	while (!credit_take(&c, 65535, now, &retry) && tries < 10000) {
		CU_ASSERT(retry > now);
		now = retry;
		tries++;
	}
	CU_ASSERT(tries < 10000);
	/* About 65535 / 100 windows of saving. */
	CU_ASSERT(tries >= 655 && tries <= 656);
}

/* Lowering the limit keeps at most the new window's bytes; removing it
 * lets everything go; a vif limited anew starts with a full window. */
static void test_change(void)
{
	struct credit c;
	int64_t retry;
	credit_init(&c);
	credit_set(&c, 100000, WINDOW, T0);
	CU_ASSERT_TRUE(credit_take(&c, 1000, T0, &retry));
	credit_set(&c, 500, WINDOW, T0 + 1);
	CU_ASSERT_EQUAL(c.remaining, 500);
	CU_ASSERT_FALSE(credit_take(&c, 501, T0 + 2, &retry));
	CU_ASSERT_EQUAL(retry, T0 + 1 + WINDOW);
	CU_ASSERT_TRUE(credit_take(&c, 500, T0 + 2, &retry));
	/* Raising it does not hand out credit before the window. */
	credit_set(&c, 100000, WINDOW, T0 + 3);
	CU_ASSERT_EQUAL(c.remaining, 0);
	CU_ASSERT_FALSE(credit_take(&c, 1, T0 + 4, &retry));
	CU_ASSERT_TRUE(credit_take(&c, 100000, T0 + 3 + WINDOW, &retry));
	credit_set(&c, 0, 0, T0 + 5);
	CU_ASSERT_FALSE(credit_limited(&c));
	CU_ASSERT_TRUE(credit_take(&c, 65535, T0 + 6, &retry));
	credit_set(&c, 2000, WINDOW, T0 + 7);
	CU_ASSERT_EQUAL(c.remaining, 2000);
	/* A zero window means no limit. */
	credit_set(&c, 2000, 0, T0 + 8);
	CU_ASSERT_FALSE(credit_limited(&c));
}

/* Credit near the top of its range does not wrap when a window adds. */
static void test_no_wrap(void)
{
	struct credit c;
	int64_t retry;
	const uint64_t bytes = UINT64_MAX - 10;
	credit_init(&c);
	credit_set(&c, bytes, WINDOW, T0);
	CU_ASSERT_EQUAL(credit_burst(&c), bytes);
	CU_ASSERT_TRUE(credit_take(&c, (uint32_t)0, T0, &retry));
	c.remaining = 100; /* as if almost all of it had gone */
	CU_ASSERT_TRUE(credit_take(&c, 65535, T0 + WINDOW, &retry));
	CU_ASSERT_EQUAL(c.remaining, bytes - 65535);
}

static void test_parse(void)
{
	uint64_t b = 0, u = 0;
	const char *why = NULL;
	CU_ASSERT_EQUAL(credit_parse_rate("125000,50000", &b, &u, &why), 0);
	CU_ASSERT_EQUAL(b, 125000);
	CU_ASSERT_EQUAL(u, 50000);
	CU_ASSERT_EQUAL(
		credit_parse_rate("18446744073709551615,1", &b, &u, &why), 0);
	CU_ASSERT_EQUAL(b, UINT64_MAX);
	CU_ASSERT_EQUAL(credit_parse_rate("1,3600000000", &b, &u, &why), 0);

	static const struct {
		const char *s, *why;
	} bad[] = {
		{"", "no bytes number"},
		{"abc", "no bytes number"},
		{"-1,5", "no bytes number"},
		{"100", "no ',' after the bytes"},
		{"100;5", "no ',' after the bytes"},
		{"100,", "no usecs number after ','"},
		{"100,x", "no usecs number after ','"},
		{"100,5 ", "trailing characters"},
		{"100,5,7", "trailing characters"},
		{"0,5", "zero bytes"},
		{"5,0", "zero usecs"},
		{"18446744073709551616,1", "bytes overflow"},
		{"1,3600000001", "interval above an hour"},
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = u = 7;
		why = NULL;
		CU_ASSERT_EQUAL(credit_parse_rate(bad[i].s, &b, &u, &why),
				-EINVAL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(why);
		CU_ASSERT_STRING_EQUAL(why, bad[i].why);
		/* Nothing written on failure. */
		CU_ASSERT_EQUAL(b, 7);
		CU_ASSERT_EQUAL(u, 7);
	}
}

static CU_TestInfo credit_tests[] = {
	{"unlimited", test_unlimited},
	{"one window", test_window},
	{"steady sender bound", test_steady_bound},
	{"saves up to the burst", test_saves_up_to_burst},
	{"big packet goes", test_big_packet_goes},
	{"limit changed", test_change},
	{"no wrap", test_no_wrap},
	{"rate node parse", test_parse},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"credit", NULL, NULL, NULL, NULL, credit_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return pvio_cunit_run(suites);
}
