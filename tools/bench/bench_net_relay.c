/*
 * pvio-bench net, the bare relay: one process per guest copies frames
 * between a TAP eth0 in the guest's namespace and a TAP on the bridge in
 * the host's, one read and one write per frame, a blocking thread per
 * direction. Both TAPs carry the virtio-net header with the offloads pvio
 * negotiates by default (TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6: blank
 * checksums and TCP GSO frames of up to 64 KiB; no UFO), so the header
 * read from one TAP is valid as it stands for the other. This is the
 * floor of any design that moves frames through user space.
 */
#include "config.h"

#include "pvio_tap.h"

#include "bench_net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

/* The largest frame a TAP hands out with TSO (a 64 KiB GSO frame, its
 * headers and the vnet header), with room to spare. */
#define RELAY_BUF (128 * 1024)

struct relay_dir {
	int in, out;
	uint64_t *frames;
};

/* A TAP named name in the current namespace, opened as the drivers open
 * theirs and with the offloads pvio negotiates, but blocking: the relay
 * sleeps in read(). Returns the fd or -errno. */
static int open_tap(const char *name)
{
	int fd = pvio_tap_open(name);
	if (fd < 0)
		return fd;
	int err =
		pvio_tap_set_offload(fd, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	if (!err && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static void *relay_loop(void *arg)
{
	const struct relay_dir *d = arg;
	static __thread unsigned char buf[RELAY_BUF];

	for (;;) {
		ssize_t n = read(d->in, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			perror("pvio-bench net relay: read");
			_exit(1);
		}
		/* A frame the other TAP refuses (its link still down) is
		 * dropped, as a NIC would. */
		if (write(d->out, buf, (size_t)n) == n)
			__atomic_store_n(d->frames, *d->frames + 1,
					 __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Both TAPs, each made in its namespace; NULL or what failed. */
static const char *open_taps(const char *guest_ns, const char *host_ns,
			     const char *tap_name, int *guest, int *host,
			     int *err)
{
	if ((*err = net_ns_enter(guest_ns)) < 0)
		return "enter the guest namespace";
	if ((*err = *guest = open_tap("eth0")) < 0)
		return "create TAP eth0 in the guest";
	if ((*err = net_ns_enter(host_ns)) < 0)
		return "enter the host namespace";
	if ((*err = *host = open_tap(tap_name)) < 0)
		return "create the bridge-side TAP";
	return NULL;
}

/* The relay process; reports "ok" or the reason it failed on ready. */
static void relay_main(const char *guest_ns, const char *host_ns,
		       const char *tap_name,
		       struct net_relay_counters *counters, int ready)
{
	char msg[256] = "ok";
	int guest = -1, host = -1, err = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	const char *failed =
		open_taps(guest_ns, host_ns, tap_name, &guest, &host, &err);
	if (failed)
		snprintf(msg, sizeof(msg), "cannot %s: %s", failed,
			 strerror(-err));
	if (write(ready, msg, strlen(msg)) < 0 || failed)
		_exit(1);
	close(ready);

	static struct relay_dir up, down;
	up = (struct relay_dir){guest, host, &counters->to_bridge};
	down = (struct relay_dir){host, guest, &counters->to_guest};
	pthread_t t;
	if (pthread_create(&t, NULL, relay_loop, &down)) {
		perror("pvio-bench net relay: pthread_create");
		_exit(1);
	}
	relay_loop(&up);
	_exit(1);
}

pid_t net_relay_start(const char *guest_ns, const char *host_ns,
		      const char *tap_name, struct net_relay_counters *counters)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		net_fatal("relay: pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		net_fatal("relay: fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		relay_main(guest_ns, host_ns, tap_name, counters, p[1]);
	}
	close(p[1]);
	char msg[256];
	ssize_t n;
	while ((n = read(p[0], msg, sizeof(msg) - 1)) < 0 && errno == EINTR)
		;
	close(p[0]);
	msg[n > 0 ? n : 0] = '\0';
	if (strcmp(msg, "ok"))
		net_fatal("relay for %s: %s", guest_ns,
			  n > 0 ? msg : "it died before reporting");
	return pid;
}
