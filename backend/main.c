/*
 * pvio-netback: the dom0 network backend. Options, signals and the main
 * thread's event loop (xenstore watches, workers that stopped, SIGTERM).
 */
#include "config.h"

#include "netback.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pvio-netback [-v] [--workers N] [--busy-poll US] "
		"[--max-queues N]\n"
		"                    [--no-split-event-channels] "
		"[--no-FEATURE...] [-h]\n"
		"The dom0 network backend: serves every vif under\n"
		"/local/domain/0/backend/vif with a TAP vif<domid>.<devid>.\n"
		"  -v, --verbose     log state changes (debug)\n"
		"  --workers N       data-path threads, 1 to %u, each serving "
		"many vifs\n"
		"                    (default: 1 on up to two CPUs, else half "
		"the CPUs;\n"
		"                    here %u)\n"
		"  --busy-poll US    after activity, poll the rings this long "
		"before\n"
		"                    sleeping, 0 to 1000 (default %u where the "
		"CPUs\n"
		"                    outnumber the workers, else 0; here %u)\n"
		"  --max-queues N    multi-queue-max-queues offered, 1 to %u "
		"(default:\n"
		"                    the CPUs; here %u)\n"
		"  --no-split-event-channels\n"
		"                    do not offer "
		"feature-split-event-channels\n"
		"  -h, --help        this text\n"
		"Offloads offered to frontends (what this backend takes on "
		"TX; all by\n"
		"default; what it sends is what each frontend offers):\n"
		"%s"
		"Environment: XENSTORED_PATH (the xenstore socket), "
		"PVIO_RUNDIR\n"
		"(statistics under <rundir>/netback/), PVIO_PLATFORM, "
		"PVIO_DOMID;\n"
		"`pvio host start` passes options from PVIO_NETBACK_ARGS.\n",
		NETBACK_WORKERS_MAX, workers_default_count(),
		NETBACK_BUSY_POLL_US_DEFAULT,
		workers_default_busy_poll_us(workers_default_count()),
		NETIF_QUEUES_MAX, workers_default_max_queues(),
		netif_offload_options_help);
}

/* A number option's value in [min, max]; false (said on stderr) if not. */
static bool parse_count(const char *opt, const char *text, unsigned min,
			unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v < min ||
	    v > max) {
		fprintf(stderr,
			"pvio-netback: %s '%s': expected a number from %u to "
			"%u\n",
			opt, text, min, max);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

enum { EV_XENBUS = 1, EV_SIGNAL, EV_WORKERS };

/* getopt's value for every --no-FEATURE option: FEATURE is netif's name
 * (netif_features_switch_off). */
#define OPT_NO_FEATURE 0x100

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"verbose", no_argument, NULL, 'v'},
		{"workers", required_argument, NULL, 'w'},
		{"busy-poll", required_argument, NULL, 'b'},
		{"max-queues", required_argument, NULL, 'q'},
		{"no-split-event-channels", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
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
	unsigned nr_workers = workers_default_count();
	unsigned busy_poll_us = 0;
	bool busy_poll_set = false;
	unsigned max_queues = workers_default_max_queues();
	bool split_evtchn = true;
	int c, longindex = 0;
	pvio_log_set_name("pvio-netback");
	while ((c = getopt_long(argc, argv, "vh", opts, &longindex)) != -1) {
		if (c == OPT_NO_FEATURE) {
			netif_features_switch_off(&netback_offer,
						  opts[longindex].name + 3);
			continue;
		}
		switch (c) {
		case 'v':
			netback_verbose = true;
			break;
		case 'w':
			if (!parse_count("--workers", optarg, 1,
					 NETBACK_WORKERS_MAX, &nr_workers)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'b':
			if (!parse_count("--busy-poll", optarg, 0, 1000,
					 &busy_poll_us)) {
				usage(stderr);
				return 2;
			}
			busy_poll_set = true;
			break;
		case 'q':
			if (!parse_count("--max-queues", optarg, 1,
					 NETIF_QUEUES_MAX, &max_queues)) {
				usage(stderr);
				return 2;
			}
			break;
		case 's':
			split_evtchn = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!busy_poll_set)
		busy_poll_us = workers_default_busy_poll_us(nr_workers);
	if (optind < argc) {
		fprintf(stderr, "pvio-netback: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}

	/* Signals arrive through a descriptor; workers inherit the mask. A
	 * peer that died must not kill us through SIGPIPE. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL)) {
		nb_log("cannot block signals");
		return 1;
	}
	int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	struct netback nb = {0};
	nb.rundir = pvio_sim_rundir();
	nb.max_queues = max_queues;
	nb.split_evtchn = split_evtchn;
	nb.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (sig_fd < 0 || nb.wake_fd < 0 || ep < 0) {
		nb_log("cannot set up the event loop: %s", strerror(errno));
		return 1;
	}
	nb.xb = pvio_xenbus_open();
	if (!nb.xb) {
		nb_log("cannot connect to xenstore (%s): %s; is the host "
		       "started (pvio host start) and XENSTORED_PATH set?",
		       getenv("XENSTORED_PATH") ? getenv("XENSTORED_PATH")
						: "default socket",
		       strerror(errno));
		return 1;
	}
	struct epoll_event ev = {.events = EPOLLIN};
	ev.data.u32 = EV_XENBUS;
	epoll_ctl(ep, EPOLL_CTL_ADD, pvio_xenbus_fd(nb.xb), &ev);
	ev.data.u32 = EV_SIGNAL;
	epoll_ctl(ep, EPOLL_CTL_ADD, sig_fd, &ev);
	ev.data.u32 = EV_WORKERS;
	epoll_ctl(ep, EPOLL_CTL_ADD, nb.wake_fd, &ev);

	nb_log("started (pid %d, run directory %s)", (int)getpid(), nb.rundir);
	nb_log("%u worker thread%s, busy-poll %u us, up to %u queues per vif, "
	       "split event channels %s",
	       nr_workers, nr_workers == 1 ? "" : "s", busy_poll_us, max_queues,
	       split_evtchn ? "offered" : "not offered");
	if (workers_start(nr_workers, busy_poll_us)) {
		workers_stop();
		pvio_xenbus_close(nb.xb);
		return 1;
	}
	if (xenbus_start(&nb)) {
		xenbus_shutdown(&nb);
		workers_stop();
		pvio_xenbus_close(nb.xb);
		return 1;
	}
	int rc = 0;
	for (bool running = true; running;) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			nb_log("epoll_wait: %s", strerror(errno));
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t junk;
			struct signalfd_siginfo si;
			switch (evs[i].data.u32) {
			case EV_XENBUS:
				pvio_xenbus_dispatch(nb.xb);
				break;
			case EV_WORKERS:
				if (read(nb.wake_fd, &junk, sizeof(junk)) > 0)
					xenbus_workers_changed(&nb);
				break;
			case EV_SIGNAL:
				if (read(sig_fd, &si, sizeof(si)) ==
				    sizeof(si)) {
					nb_log("signal %u: closing every vif",
					       si.ssi_signo);
					running = false;
				}
				break;
			}
		}
	}
	xenbus_shutdown(&nb);
	workers_stop();
	pvio_xenbus_close(nb.xb);
	nb_log("stopped");
	return rc;
}
