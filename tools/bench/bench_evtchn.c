/*
 * pvio-bench evtchn: notify-to-wake round trip of a sim event channel
 * between two processes on different CPUs, against a bare eventfd ping-pong
 * and a bare UNIX stream socket ping-pong measured in the same run. Every
 * side blocks: this measures the wake-up path.
 */
#include "config.h"

#include "bench.h"
#include "bench_sim.h"
#include "pvio_evtchn.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define WARMUP 100

struct evtchn_options {
	uint64_t round_trips;
	unsigned rounds;
	int first_cpu, second_cpu;
};

/* Shared by the two processes of one measurement. */
struct evtchn_shared {
	int port;	/* the parent's unbound port */
	uint32_t ready; /* the child has bound */
};

struct child_args {
	struct evtchn_shared *sh;
	uint64_t count;
	int fds[2]; /* eventfds or a socketpair end, as the kind needs */
};

static int read_exact(int fd, void *buf, size_t len)
{
	return read(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

static int write_exact(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

/* Children never outlive a parent that failed half-way. */
static int child_guard(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	return getppid() == 1 ? -1 : 0;
}

/* ---- bare eventfd ---- */

static int eventfd_child(void *arg)
{
	struct child_args *a = arg;
	uint64_t v;

	if (child_guard())
		return 1;
	for (uint64_t i = 0; i < a->count; i++)
		if (read_exact(a->fds[0], &v, sizeof(v)) ||
		    write_exact(a->fds[1], &v, sizeof(v)))
			return 1;
	return 0;
}

static double measure_eventfd(const struct evtchn_options *opt)
{
	struct child_args a = {.count = opt->round_trips + WARMUP};
	uint64_t one = 1, v;

	a.fds[0] = eventfd(0, EFD_CLOEXEC); /* parent -> child */
	a.fds[1] = eventfd(0, EFD_CLOEXEC); /* child -> parent */
	if (a.fds[0] < 0 || a.fds[1] < 0) {
		perror("pvio-bench evtchn: eventfd");
		exit(1);
	}
	pid_t child = bench_fork_pinned(opt->second_cpu, eventfd_child, &a);
	uint64_t start = 0;
	for (uint64_t i = 0; i < a.count; i++) {
		if (i == WARMUP)
			start = bench_now_ns();
		if (write_exact(a.fds[0], &one, sizeof(one)) ||
		    read_exact(a.fds[1], &v, sizeof(v))) {
			fprintf(stderr, "pvio-bench evtchn: eventfd failed\n");
			exit(1);
		}
	}
	double ns = (double)(bench_now_ns() - start) / opt->round_trips;
	if (bench_wait_child(child) != 0) {
		fprintf(stderr, "pvio-bench evtchn: eventfd child failed\n");
		exit(1);
	}
	close(a.fds[0]);
	close(a.fds[1]);
	return ns;
}

/* ---- bare UNIX stream socket ---- */

static int socket_child(void *arg)
{
	struct child_args *a = arg;
	char c;

	if (child_guard())
		return 1;
	for (uint64_t i = 0; i < a->count; i++)
		if (read_exact(a->fds[1], &c, 1) ||
		    write_exact(a->fds[1], &c, 1))
			return 1;
	return 0;
}

static double measure_socket(const struct evtchn_options *opt)
{
	struct child_args a = {.count = opt->round_trips + WARMUP};
	char c = 1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a.fds)) {
		perror("pvio-bench evtchn: socketpair");
		exit(1);
	}
	pid_t child = bench_fork_pinned(opt->second_cpu, socket_child, &a);
	uint64_t start = 0;
	for (uint64_t i = 0; i < a.count; i++) {
		if (i == WARMUP)
			start = bench_now_ns();
		if (write_exact(a.fds[0], &c, 1) ||
		    read_exact(a.fds[0], &c, 1)) {
			fprintf(stderr, "pvio-bench evtchn: socket failed\n");
			exit(1);
		}
	}
	double ns = (double)(bench_now_ns() - start) / opt->round_trips;
	if (bench_wait_child(child) != 0) {
		fprintf(stderr, "pvio-bench evtchn: socket child failed\n");
		exit(1);
	}
	close(a.fds[0]);
	close(a.fds[1]);
	return ns;
}

/* ---- pvio event channel ---- */

static int evtchn_child(void *arg)
{
	struct child_args *a = arg;
	struct pvio_evtchn *h;

	if (child_guard())
		return 1;
	bench_sim_set_domid(1);
	if (pvio_evtchn_open(PVIO_PLATFORM_SIM, &h))
		return 1;
	int port =
		pvio_evtchn_bind_interdomain(h, 0, (evtchn_port_t)a->sh->port);
	if (port < 0)
		return 2;
	__atomic_store_n(&a->sh->ready, 1, __ATOMIC_RELEASE);
	for (uint64_t i = 0; i < a->count; i++)
		if (pvio_evtchn_wait(h, -1) != port ||
		    pvio_evtchn_unmask(h, (evtchn_port_t)port) ||
		    pvio_evtchn_notify(h, (evtchn_port_t)port))
			return 3;
	pvio_evtchn_close(h);
	return 0;
}

static double measure_evtchn(struct evtchn_shared *sh,
			     const struct evtchn_options *opt)
{
	struct child_args a = {.sh = sh, .count = opt->round_trips + WARMUP};
	struct pvio_evtchn *h;
	int err;

	bench_sim_set_domid(0);
	if ((err = pvio_evtchn_open(PVIO_PLATFORM_SIM, &h))) {
		fprintf(stderr, "pvio-bench evtchn: open: %s %s\n",
			strerror(-err), pvio_platform_last_error());
		exit(1);
	}
	int port = pvio_evtchn_alloc_unbound(h, 1);
	if (port < 0) {
		fprintf(stderr, "pvio-bench evtchn: alloc_unbound: %s\n",
			strerror(-port));
		exit(1);
	}
	sh->port = port;
	sh->ready = 0;
	pid_t child = bench_fork_pinned(opt->second_cpu, evtchn_child, &a);
	/* Bounded: the child binds within milliseconds or has failed. */
	for (int i = 0; !__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE); i++) {
		if (i > 100000) {
			fprintf(stderr, "pvio-bench evtchn: the child did not "
					"bind\n");
			exit(1);
		}
		sched_yield();
	}
	uint64_t start = 0;
	for (uint64_t i = 0; i < a.count; i++) {
		if (i == WARMUP)
			start = bench_now_ns();
		if (pvio_evtchn_notify(h, (evtchn_port_t)port) ||
		    pvio_evtchn_wait(h, 5000) != port ||
		    pvio_evtchn_unmask(h, (evtchn_port_t)port)) {
			fprintf(stderr,
				"pvio-bench evtchn: ping-pong failed\n");
			exit(1);
		}
	}
	double ns = (double)(bench_now_ns() - start) / opt->round_trips;
	if (bench_wait_child(child) != 0) {
		fprintf(stderr, "pvio-bench evtchn: event-channel child "
				"failed\n");
		exit(1);
	}
	pvio_evtchn_close(h);
	return ns;
}

int bench_evtchn(int argc, char **argv)
{
	uint64_t round_trips = 5000, rounds = 11;
	const struct bench_option options[] = {
		{"round-trips", "round trips per run", &round_trips, 1, 0,
		 NULL},
		BENCH_ROUNDS_OPTION(rounds),
		{NULL, NULL, NULL, 0, 0, NULL},
	};
	int parsed = bench_parse_options("evtchn", argc, argv, options,
					 BENCH_SIM_HELP);
	if (parsed)
		return parsed == 1 ? 0 : 2;
	struct evtchn_options opt = {.round_trips = round_trips,
				     .rounds = (unsigned)rounds};

	bench_pin_pair("evtchn", &opt.first_cpu, &opt.second_cpu);
	char *rundir = bench_sim_rundir_create("evtchn");
	struct evtchn_shared *sh = bench_shared_alloc(sizeof(*sh));
	double *efd = calloc(opt.rounds, sizeof(double));
	double *sock = calloc(opt.rounds, sizeof(double));
	double *evt = calloc(opt.rounds, sizeof(double));
	if (!efd || !sock || !evt) {
		fprintf(stderr, "pvio-bench evtchn: out of memory\n");
		return 1;
	}
	printf("pvio-bench evtchn: notify-to-wake round trip, blocking, "
	       "CPUs %d and %d\n",
	       opt.first_cpu, opt.second_cpu);
	printf("  %u rounds, interleaved; medians of %llu round trips "
	       "each\n",
	       opt.rounds, (unsigned long long)opt.round_trips);
	for (unsigned r = 0; r < opt.rounds; r++) {
		efd[r] = measure_eventfd(&opt);
		sock[r] = measure_socket(&opt);
		evt[r] = measure_evtchn(sh, &opt);
		fprintf(stderr, "  round %u/%u done\n", r + 1, opt.rounds);
	}
	printf("round trip:\n");
	double me = bench_report_samples("bare eventfd ping-pong", efd,
					 opt.rounds, "ns");
	double ms = bench_report_samples("bare UNIX socket ping-pong", sock,
					 opt.rounds, "ns");
	double mv = bench_report_samples("pvio event channel (sim)", evt,
					 opt.rounds, "ns");
	bench_report_ratio("ratio pvio / eventfd", mv / me, "<= 1.5");
	bench_report_ratio("ratio pvio / UNIX socket", mv / ms, "none");
	free(efd);
	free(sock);
	free(evt);
	bench_shared_free(sh, sizeof(*sh));
	bench_sim_rundir_remove(rundir);
	return 0;
}
