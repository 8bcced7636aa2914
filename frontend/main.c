/*
 * pvio-netfront: options, signals and the main thread's event loop
 * (xenstore watches, worker reports, SIGTERM).
 */
#include "config.h"

#include "netfront.h"
#include "util/pvio_log.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

bool nf_verbose;

void nf_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pvio_vlog(fmt, ap);
	va_end(ap);
}

void nf_debug(const char *fmt, ...)
{
	if (!nf_verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	pvio_vlog(fmt, ap);
	va_end(ap);
}

static unsigned cpus_usable(void)
{
	cpu_set_t cpus;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		return (unsigned)CPU_COUNT(&cpus);
	return 1;
}

/* One queue per CPU, as Linux netfront, within the grants a domain has. */
static unsigned default_queues(void)
{
	unsigned cpus = cpus_usable();
	return cpus < NF_QUEUES_DEFAULT_MAX ? cpus : NF_QUEUES_DEFAULT_MAX;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pvio-netfront [-v] [--busy-poll US] [--queues N] "
		"[--no-split-event-channels]\n"
		"                     [--no-FEATURE...]\n"
		"The guest's netif driver: watches device/vif of its own "
		"domain and gives\n"
		"each device a TAP eth<N> connected to its backend.\n"
		"  -v, --verbose     debug log\n"
		"  --busy-poll US    after activity, poll this long before "
		"sleeping\n"
		"                    (0: never; default %u on %u CPUs or more, "
		"else 0)\n"
		"  --queues N        queues per vif at most, 1 to %u, as many "
		"as the\n"
		"                    backend offers (default: the CPUs, at "
		"most %u; here %u)\n"
		"  --no-split-event-channels\n"
		"                    one event channel per queue even when "
		"split ones\n"
		"                    are offered\n"
		"  -h, --help        this text\n"
		"Offloads offered to the backend (what this frontend takes "
		"on RX; all by\n"
		"default; what it sends is what the backend offers):\n"
		"%s"
		"Environment: XENSTORED_PATH, PVIO_DOMID, PVIO_RUNDIR, "
		"PVIO_PLATFORM\n"
		"(set by `pvio create`; PVIO_NETFRONT_ARGS there passes "
		"options).\n",
		NF_BUSY_POLL_US_DEFAULT, NF_BUSY_POLL_MIN_CPUS,
		NETIF_QUEUES_MAX, NF_QUEUES_DEFAULT_MAX, default_queues(),
		netif_offload_options_help);
}

/*
 * Spinning pays only with a core to spare: on two, a worker that spins
 * holds the core the backend or the other guest's next step needs (the
 * path has more runnable stages than cores), so it spins by default only
 * where it may run on NF_BUSY_POLL_MIN_CPUS or more.
 */
static unsigned default_busy_poll(void)
{
	if (cpus_usable() >= NF_BUSY_POLL_MIN_CPUS)
		return NF_BUSY_POLL_US_DEFAULT;
	return 0;
}

/* getopt's value for every --no-FEATURE option: FEATURE is netif's name
 * (netif_features_switch_off). */
#define OPT_NO_FEATURE 0x100

static int parse_args(int argc, char **argv, struct nf_daemon *d)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{"verbose", no_argument, NULL, 'v'},
		{"busy-poll", required_argument, NULL, 'b'},
		{"queues", required_argument, NULL, 'q'},
		{"no-split-event-channels", no_argument, NULL, 's'},
		{"no-sg", no_argument, NULL, OPT_NO_FEATURE},
		{"no-csum", no_argument, NULL, OPT_NO_FEATURE},
		{"no-ipv4-csum", no_argument, NULL, OPT_NO_FEATURE},
		{"no-ipv6-csum", no_argument, NULL, OPT_NO_FEATURE},
		{"no-gso", no_argument, NULL, OPT_NO_FEATURE},
		{"no-gso-tcpv4", no_argument, NULL, OPT_NO_FEATURE},
		{"no-gso-tcpv6", no_argument, NULL, OPT_NO_FEATURE},
		{"no-persistent-grants", no_argument, NULL, OPT_NO_FEATURE},
		{NULL, 0, NULL, 0},
	};
	int c, longindex = 0;
	d->busy_poll_us = default_busy_poll();
	d->offer = (struct netif_features){
		.rx_copy = true,
		.rx_notify = true,
		.sg = true,
		.ipv4_csum = true,
		.ipv6_csum = true,
		.gso_tcpv4 = true,
		.gso_tcpv6 = true,
		/* Its pools stay granted for the connection (vif.c). */
		.persistent_grants = true,
	};
	d->max_queues = default_queues();
	d->split_evtchn = true;
	while ((c = getopt_long(argc, argv, "hv", opts, &longindex)) != -1) {
		if (c == OPT_NO_FEATURE) {
			netif_features_switch_off(&d->offer,
						  opts[longindex].name + 3);
			continue;
		}
		switch (c) {
		case 'h':
			usage(stdout);
			exit(0);
		case 'v':
			nf_verbose = true;
			break;
		case 'b': {
			char *end;
			errno = 0;
			unsigned long us = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || us > 1000 ||
			    optarg[0] == '-') {
				nf_log("--busy-poll '%s': expected "
				       "microseconds from 0 to 1000",
				       optarg);
				return -1;
			}
			d->busy_poll_us = (unsigned)us;
			break;
		}
		case 'q': {
			char *end;
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || n < 1 ||
			    n > NETIF_QUEUES_MAX || optarg[0] == '-') {
				nf_log("--queues '%s': expected a number from "
				       "1 to %u",
				       optarg, NETIF_QUEUES_MAX);
				return -1;
			}
			d->max_queues = (unsigned)n;
			break;
		}
		case 's':
			d->split_evtchn = false;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		nf_log("unexpected argument '%s' (pvio-netfront takes "
		       "options only; see --help)",
		       argv[optind]);
		return -1;
	}
	return 0;
}

/* Our domain: the store says it (domid, relative to our home); the sim
 * environment as a fallback. */
static int find_domid(struct nf_daemon *d)
{
	uint64_t v;
	if (!pvio_xenbus_read_uint(d->xb, XBT_NULL, "domid", &v) &&
	    v < DOMID_FIRST_RESERVED) {
		d->domid = (unsigned)v;
		return 0;
	}
	const char *env = getenv("PVIO_DOMID");
	char *end;
	if (env && *env) {
		unsigned long id = strtoul(env, &end, 10);
		if (!*end && id < DOMID_FIRST_RESERVED) {
			d->domid = (unsigned)id;
			return 0;
		}
	}
	nf_log("cannot tell which domain this is: no readable 'domid' in "
	       "the store and PVIO_DOMID is '%s' (run it with `pvio "
	       "create`, or set PVIO_DOMID)",
	       env ? env : "");
	return -1;
}

static int epoll_add(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int main(int argc, char **argv)
{
	struct nf_daemon d = {0};
	setvbuf(stderr, NULL, _IOLBF, 0);
	pvio_log_set_name("pvio-netfront");
	if (parse_args(argc, argv, &d))
		return 2;

	/* Blocked in every thread (workers and libxenstore's inherit the
	 * mask); the main loop takes them through a signalfd. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

	d.xb = pvio_xenbus_open();
	if (!d.xb) {
		const char *path = getenv("XENSTORED_PATH");
		nf_log("cannot connect to xenstore at %s: %s (is the host "
		       "started? `pvio host start`)",
		       path ? path : "the default socket", strerror(errno));
		return 1;
	}
	if (find_domid(&d))
		return 1;
	d.worker_event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || d.worker_event_fd < 0 || ep < 0 ||
	    epoll_add(ep, sfd, 1) || epoll_add(ep, d.worker_event_fd, 2) ||
	    epoll_add(ep, pvio_xenbus_fd(d.xb), 3)) {
		nf_log("cannot set up the event loop: %s", strerror(errno));
		return 1;
	}
	if (nf_xenbus_start(&d))
		return 1;
	nf_log("domain %u: watching device/vif (busy-poll %u us, up to %u "
	       "queues, split event channels %s)",
	       d.domid, d.busy_poll_us, d.max_queues,
	       d.split_evtchn ? "when offered" : "off");

	for (;;) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, -1);
		if (n < 0 && errno != EINTR) {
			nf_log("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u64) {
			case 1: {
				struct signalfd_siginfo si;
				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				nf_log("signal %u: closing every vif",
				       si.ssi_signo);
				nf_xenbus_shutdown(&d);
				pvio_xenbus_close(d.xb);
				return 0;
			}
			case 2: {
				uint64_t v;
				if (read(d.worker_event_fd, &v, sizeof(v)) > 0)
					nf_xenbus_worker_event(&d);
				break;
			}
			case 3:
				pvio_xenbus_dispatch(d.xb);
				break;
			}
		}
	}
	nf_xenbus_shutdown(&d);
	pvio_xenbus_close(d.xb);
	return 1;
}
