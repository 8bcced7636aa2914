#include "config.h"

#include "util/pvio_stop.h"

volatile sig_atomic_t pvio_stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	pvio_stop_requested = 1;
}

void pvio_stop_on_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
