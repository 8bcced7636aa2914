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
		"usage: pvio-netback [-v] [-h]\n"
		"The dom0 network backend: serves every vif under\n"
		"/local/domain/0/backend/vif with a TAP vif<domid>.<devid>.\n"
		"  -v, --verbose  log state changes (debug)\n"
		"  -h, --help     this text\n"
		"Environment: XENSTORED_PATH (the xenstore socket), "
		"PVIO_RUNDIR\n"
		"(statistics under <rundir>/netback/), PVIO_PLATFORM, "
		"PVIO_DOMID.\n");
}

enum { EV_XENBUS = 1, EV_SIGNAL, EV_WORKERS };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			netback_verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
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
	if (xenbus_start(&nb)) {
		xenbus_shutdown(&nb);
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
	pvio_xenbus_close(nb.xb);
	nb_log("stopped");
	return rc;
}
