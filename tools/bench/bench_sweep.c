/*
 * pvio-bench sweep: TCP round-trip latency and TCP bandwidth between two
 * guests against message size (powers of two, 1 byte to 64 KiB), along
 * each selected path, as the classic PV vs native comparisons show them.
 * Paths are plug-ins (sweep_paths[]); they are built with pvio-bench net's
 * path builders and the run is supervised as net's is (net_supervise).
 *
 * The measurements use a small client and server of their own rather than
 * sockperf and iperf3: sockperf refuses messages under 14 bytes, and one
 * program for both metrics measures every size the same way. The server
 * runs in the second guest's namespace, the client's socket is made in the
 * first's. A round trip is SIZE bytes one way and SIZE bytes back, one
 * outstanding, TCP_NODELAY on both ends; bandwidth is one stream of
 * SIZE-byte writes (Nagle left on, as iperf3 -l SIZE does), the bytes the
 * receiver counted over its time from first byte to end of stream.
 *
 * Each point is the median of --runs runs, interleaved across the paths,
 * each run starting with another path; the spread (lowest and highest
 * run) goes to the CSV and the plots' error bars.
 */
#include "config.h"

#include "bench.h"
#include "bench_net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SWEEP_PORT	5202 /* the sweep's server, in guest[1] */
#define SWEEP_MAGIC	0x70767377u
#define SWEEP_MAX_SIZE	65536u
#define SWEEP_MAX_SIZES 17 /* 1, 2, 4, ... 64 KiB */
#define SWEEP_MAX_PATHS 5
#define SWEEP_MAX_RUNS	100
/* Seconds without progress on a socket: beyond TCP's retransmission
 * backoff after a few losses on a loaded machine. */
#define SWEEP_IO_TIMEOUT      30
#define SWEEP_IO_TIMEOUT_TEXT "30"
#define SWEEP_PLOT_WIDTH      1024
#define SWEEP_PLOT_HEIGHT     640

enum sweep_metric { METRIC_LATENCY, METRIC_BANDWIDTH, METRIC_COUNT };
static const char *const metric_names[METRIC_COUNT] = {"latency", "bandwidth"};
static const char *const metric_units[METRIC_COUNT] = {"us", "Mbit/s"};

/* ---- the paths ---- */

/* One path between two guests as the sweep measures it. */
struct sweep_path {
	const struct sweep_path_type *type;
	struct net_path net;
	pid_t server; /* the sweep's server in net.guest[1] */
};

/*
 * A path plug-in: setup builds it and leaves guest[0] able to reach
 * guest[1] over TCP (recording in rec everything it creates, so that the
 * supervisor can remove it); teardown, in the worker after the last run,
 * ends what setup started that would otherwise run until the cleanup.
 * Another path (the emulated NIC) is one more entry in sweep_paths[].
 */
struct sweep_path_type {
	const char *name;  /* as --paths spells it, and in the CSV */
	const char *title; /* in the plots' keys */
	void (*setup)(struct sweep_path *p, struct net_cleanup *rec);
	void (*teardown)(struct sweep_path *p);
};

/* Reap pid within ms after SIGTERM, else SIGKILL it. */
static void stop_process(pid_t pid, unsigned ms)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (unsigned waited = 0; waited < ms; waited += 10) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void setup_native(struct sweep_path *p, struct net_cleanup *rec)
{
	p->net.kind = NET_PATH_BRIDGE;
	net_path_setup(&p->net, rec);
}

static void setup_pvio(struct sweep_path *p, struct net_cleanup *rec)
{
	p->net.kind = NET_PATH_PVIO;
	net_path_setup(&p->net, rec);
}

/* The emulated e1000 (type=ioemu, pvio-ioemu) on the pvio path's host: the
 * HVM side of the comparison. */
static void setup_emu(struct sweep_path *p, struct net_cleanup *rec)
{
	p->net.kind = NET_PATH_EMU;
	net_path_setup(&p->net, rec);
}

/* The emulated RTL8139, xl's default model= for ioemu. */
static void setup_emu_rtl8139(struct sweep_path *p, struct net_cleanup *rec)
{
	p->net.kind = NET_PATH_EMU_RTL;
	net_path_setup(&p->net, rec);
}

/* The servers net_path_setup started (iperf3, sockperf); the namespaces
 * and the pvio host are the supervisor's to remove. */
static void teardown_net_servers(struct sweep_path *p)
{
	for (int s = 0; s < 2; s++)
		stop_process(p->net.servers[s], 2000);
}

static const struct sweep_path_type sweep_paths[] = {
	{"native", "native (veth pairs on a bridge)", setup_native,
	 teardown_net_servers},
	{"pvio", "pvio (netfront, netback, xenbr0)", setup_pvio,
	 teardown_net_servers},
	{"emu", "emulated e1000 (type=ioemu, xenbr0)", setup_emu,
	 teardown_net_servers},
	{"emu-rtl8139", "emulated RTL8139 (type=ioemu, xenbr0)",
	 setup_emu_rtl8139, teardown_net_servers},
};
#define SWEEP_PATH_TYPES (sizeof(sweep_paths) / sizeof(sweep_paths[0]))

/* ---- options ---- */

struct sweep_options {
	unsigned runs, duration;
	size_t n_sizes, n_paths;
	unsigned sizes[SWEEP_MAX_SIZES];
	const struct sweep_path_type *paths[SWEEP_MAX_PATHS];
	bool plots_required;
	char out[PATH_MAX];
};

/* "1", "64", "1K" / "1k" (1024): a power of two from 1 to 64K. */
static bool parse_size(const char *text, size_t len, unsigned *size, char *why,
		       size_t why_size)
{
	char buf[16];
	if (len == 0 || len >= sizeof(buf)) {
		snprintf(why, why_size, "'%.*s' is not a size", (int)len, text);
		return false;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	unsigned long mult = 1;
	if (buf[len - 1] == 'K' || buf[len - 1] == 'k') {
		mult = 1024;
		buf[--len] = '\0';
	}
	char *end;
	errno = 0;
	unsigned long v = strtoul(buf, &end, 10);
	if (!len || errno || *end || buf[0] < '0' || buf[0] > '9' ||
	    v > SWEEP_MAX_SIZE) {
		snprintf(why, why_size, "'%.*s' is not a size in bytes",
			 (int)len + (mult > 1), text);
		return false;
	}
	v *= mult;
	if (v < 1 || v > SWEEP_MAX_SIZE || (v & (v - 1))) {
		snprintf(why, why_size,
			 "'%.*s' is not a power of two from 1 to 64K",
			 (int)(len + (mult > 1)), text);
		return false;
	}
	*size = (unsigned)v;
	return true;
}

/* --sizes MIN..MAX (every power of two between) or A,B,C (those). */
static bool parse_sizes(const char *text, struct sweep_options *o, char *why,
			size_t why_size)
{
	const char *dots = strstr(text, "..");
	o->n_sizes = 0;
	if (dots) {
		unsigned lo, hi;
		if (!parse_size(text, (size_t)(dots - text), &lo, why,
				why_size) ||
		    !parse_size(dots + 2, strlen(dots + 2), &hi, why, why_size))
			return false;
		if (lo > hi) {
			snprintf(why, why_size, "MIN is above MAX");
			return false;
		}
		for (unsigned s = lo; s <= hi; s *= 2)
			o->sizes[o->n_sizes++] = s;
		return true;
	}
	for (const char *s = text;;) {
		size_t len = strcspn(s, ",");
		unsigned size;
		if (!parse_size(s, len, &size, why, why_size))
			return false;
		for (size_t i = 0; i < o->n_sizes; i++)
			if (o->sizes[i] >= size) {
				snprintf(why, why_size,
					 "'%.*s' is not above the size "
					 "before it",
					 (int)len, s);
				return false;
			}
		o->sizes[o->n_sizes++] = size;
		if (!s[len])
			return true;
		s += len + 1;
	}
}

static bool parse_path_list(const char *text, struct sweep_options *o)
{
	o->n_paths = 0;
	for (const char *s = text;;) {
		size_t len = strcspn(s, ",");
		size_t k = 0;
		while (k < SWEEP_PATH_TYPES &&
		       (strlen(sweep_paths[k].name) != len ||
			strncmp(sweep_paths[k].name, s, len)))
			k++;
		if (k == SWEEP_PATH_TYPES || o->n_paths == SWEEP_MAX_PATHS)
			return false;
		for (size_t i = 0; i < o->n_paths; i++)
			if (o->paths[i] == &sweep_paths[k])
				return false;
		o->paths[o->n_paths++] = &sweep_paths[k];
		if (!s[len])
			return true;
		s += len + 1;
	}
}

/* mkdir -p dir; false with errno set. */
static bool make_dirs(const char *dir)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return false;
	}
	for (char *s = buf + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return false;
		*s = c;
		if (!c)
			break;
	}
	struct stat st;
	if (stat(dir, &st))
		return false;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return false;
	}
	return true;
}

/* ---- the sweep's client and server ---- */

/* What the client asks for, first on every connection. */
struct sweep_hello {
	uint32_t magic, metric, size, pad;
};

/* What the server counted of a stream, its answer at the stream's end. */
struct sweep_count {
	uint64_t bytes, ns;
};

static uint8_t io_buf[SWEEP_MAX_SIZE];

static bool send_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = send(fd, (const char *)buf + done, len - done,
				 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* Read exactly len bytes: 1, or 0 at a clean end of stream before any,
 * or -1 (errno set; EPIPE for an end mid-message). */
static int recv_all(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = recv(fd, (char *)buf + done, len - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EPIPE;
			return done ? -1 : 0;
		}
		done += (size_t)n;
	}
	return 1;
}

static void socket_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = SWEEP_IO_TIMEOUT};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void set_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* One connection: a ping-pong until the client closes, or a stream
 * counted and answered. Errors end the connection only. */
static void serve_one(int fd)
{
	struct sweep_hello h;
	socket_timeouts(fd);
	if (recv_all(fd, &h, sizeof(h)) != 1 || h.magic != SWEEP_MAGIC ||
	    h.size < 1 || h.size > SWEEP_MAX_SIZE)
		return;
	if (h.metric == METRIC_LATENCY) {
		set_nodelay(fd);
		while (recv_all(fd, io_buf, h.size) == 1 &&
		       send_all(fd, io_buf, h.size))
			;
		return;
	}
	if (h.metric != METRIC_BANDWIDTH)
		return;
	struct sweep_count c = {0, 0};
	uint64_t first = 0;
	for (;;) {
		ssize_t n = recv(fd, io_buf, sizeof(io_buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		if (n == 0)
			break;
		if (!first)
			first = bench_now_ns();
		c.bytes += (uint64_t)n;
	}
	c.ns = first ? bench_now_ns() - first : 0;
	send_all(fd, &c, sizeof(c));
}

/* The server's process: listens in netns until it is stopped. */
static int server_main(const char *netns, const char *addr, int ready_fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int rc = net_ns_enter(netns);
	int fd = rc ? -1 : socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(SWEEP_PORT)};
	inet_pton(AF_INET, addr, &sa.sin_addr);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 4)) {
		int err = rc ? -rc : errno;
		dprintf(ready_fd, "%s", strerror(err));
		return 1;
	}
	dprintf(ready_fd, "ok");
	close(ready_fd);
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			usleep(10000); /* out of descriptors: not a spin */
			continue;
		}
		serve_one(c);
		close(c);
	}
}

/* Start the sweep's server in guest[1]; listening when this returns. */
static void start_server(struct sweep_path *p)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC))
		net_fatal("pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		net_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		close(pipefd[0]);
		_exit(server_main(p->net.guest[1].netns, p->net.guest[1].addr,
				  pipefd[1]));
	}
	close(pipefd[1]);
	p->server = pid;
	char answer[256] = "";
	struct pollfd pfd = {pipefd[0], POLLIN, 0};
	ssize_t n = 0;
	if (poll(&pfd, 1, 10000) == 1)
		n = read(pipefd[0], answer, sizeof(answer) - 1);
	close(pipefd[0]);
	answer[n > 0 ? n : 0] = '\0';
	if (strcmp(answer, "ok"))
		net_fatal("%s path: the sweep's server in %s could not "
			  "listen on %s:%d: %s",
			  p->type->name, p->net.guest[1].label,
			  p->net.guest[1].addr, SWEEP_PORT,
			  answer[0] ? answer : "no answer within 10 s");
}

/* A connection from guest[0] to the server, asking for metric at size. */
static int connect_server(const struct sweep_path *p, enum sweep_metric m,
			  unsigned size)
{
	const struct net_guest *from = &p->net.guest[0], *to = &p->net.guest[1];
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(SWEEP_PORT)};
	inet_pton(AF_INET, to->addr, &sa.sin_addr);
	/* A socket belongs to the namespace it was made in. */
	int rc = net_ns_enter(from->netns);
	if (rc)
		net_fatal("cannot enter namespace %s: %s", from->netns,
			  strerror(-rc));
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = errno;
	rc = net_ns_home();
	if (fd < 0 || rc)
		net_fatal("socket in %s: %s", from->netns,
			  strerror(fd < 0 ? err : -rc));
	if (m == METRIC_LATENCY)
		set_nodelay(fd);
	err = 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno;
		struct pollfd pfd = {fd, POLLOUT, 0};
		if (err == EINPROGRESS) {
			socklen_t len = sizeof(err);
			err = poll(&pfd, 1, SWEEP_IO_TIMEOUT * 1000) == 1
				      ? (getsockopt(fd, SOL_SOCKET, SO_ERROR,
						    &err, &len),
					 err)
				      : ETIMEDOUT;
		}
	}
	if (err)
		net_fatal("%s path: connecting from %s to %s:%d: %s",
			  p->type->name, from->label, to->addr, SWEEP_PORT,
			  strerror(err));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	socket_timeouts(fd);
	struct sweep_hello h = {SWEEP_MAGIC, (uint32_t)m, size, 0};
	if (!send_all(fd, &h, sizeof(h)))
		net_fatal("%s path: sending to the sweep's server: %s",
			  p->type->name, strerror(errno));
	return fd;
}

/* Segments TCP retransmitted in netns so far (/proc/net/snmp), or -1. */
static long long tcp_retransmits(const char *netns)
{
	if (net_ns_enter(netns))
		return -1;
	FILE *f = fopen("/proc/self/net/snmp", "r");
	net_ns_home();
	char head[1024], vals[1024];
	long long found = -1;
	/* Two "Tcp:" lines: the field names, then their values. */
	while (f && found < 0 && fgets(head, sizeof(head), f)) {
		if (strncmp(head, "Tcp:", 4) || !fgets(vals, sizeof(vals), f))
			continue;
		char *hs = NULL, *vs = NULL;
		for (char *h = strtok_r(head, " \n", &hs),
			  *v = strtok_r(vals, " \n", &vs);
		     h && v; h = strtok_r(NULL, " \n", &hs),
			  v = strtok_r(NULL, " \n", &vs))
			if (!strcmp(h, "RetransSegs"))
				found = strtoll(v, NULL, 10);
	}
	if (f)
		fclose(f);
	return found;
}

/* End the worker: a run failed (what: the step; errno: why), with TCP's
 * retransmissions in the sending guest and, on pvio, the drivers' logs. */
__attribute__((noreturn)) static void run_failed(const struct sweep_path *p,
						 enum sweep_metric m,
						 unsigned size,
						 const char *what)
{
	char why[512];
	int err = errno;
	snprintf(why, sizeof(why),
		 "%s run at %u bytes: %s: %s (TCP retransmissions in %s so "
		 "far: %lld)",
		 metric_names[m], size, what,
		 err == EAGAIN ? "no progress for " SWEEP_IO_TIMEOUT_TEXT " s"
			       : strerror(err),
		 p->net.guest[0].label, tcp_retransmits(p->net.guest[0].netns));
	if (p->net.kind == NET_PATH_PVIO)
		net_pvio_fail(p->net.pvio_rundir, p->net.domid, 2, why);
	net_fatal("%s path: %s", p->type->name, why);
}

/* Round trips of one latency run, in ns (the run's median is kept). */
#define SWEEP_MAX_ROUND_TRIPS (1u << 20)
static double round_trips[SWEEP_MAX_ROUND_TRIPS];

/* One latency run: the median round trip over secs, in microseconds. */
static double run_latency(const struct sweep_path *p, unsigned size,
			  unsigned secs)
{
	int fd = connect_server(p, METRIC_LATENCY, size);
	memset(io_buf, 0x5a, size);
	/* A few round trips first: the connection's first ones pay for
	 * its setup. */
	for (int i = 0; i < 8; i++)
		if (!send_all(fd, io_buf, size) ||
		    recv_all(fd, io_buf, size) != 1)
			run_failed(p, METRIC_LATENCY, size, "warm-up");
	uint64_t start = bench_now_ns(), end = start + secs * 1000000000ull;
	size_t n = 0;
	for (uint64_t t = start; t < end && n < SWEEP_MAX_ROUND_TRIPS;) {
		if (!send_all(fd, io_buf, size))
			run_failed(p, METRIC_LATENCY, size, "send");
		if (recv_all(fd, io_buf, size) != 1)
			run_failed(p, METRIC_LATENCY, size, "receive");
		uint64_t now = bench_now_ns();
		round_trips[n++] = (double)(now - t);
		t = now;
	}
	close(fd);
	return bench_median(round_trips, n) / 1000.0;
}

/* One bandwidth run: a stream of size-byte writes for secs, in Mbit/s
 * as the receiver counted it. */
static double run_bandwidth(const struct sweep_path *p, unsigned size,
			    unsigned secs)
{
	int fd = connect_server(p, METRIC_BANDWIDTH, size);
	memset(io_buf, 0xa5, size);
	uint64_t end = bench_now_ns() + secs * 1000000000ull;
	while (bench_now_ns() < end)
		if (!send_all(fd, io_buf, size))
			run_failed(p, METRIC_BANDWIDTH, size, "send");
	struct sweep_count c;
	if (shutdown(fd, SHUT_WR) || recv_all(fd, &c, sizeof(c)) != 1)
		run_failed(p, METRIC_BANDWIDTH, size, "the receiver's count");
	close(fd);
	if (!c.bytes || !c.ns)
		net_fatal("%s path: bandwidth run at %u bytes: the receiver "
			  "counted nothing",
			  p->type->name, size);
	return (double)c.bytes * 8.0 / ((double)c.ns / 1e9) / 1e6;
}

/* ---- progress ---- */

static uint64_t sweep_start_ns;

static void size_text(unsigned size, char *out, size_t len)
{
	if (size >= 1024)
		snprintf(out, len, "%u KiB", size / 1024);
	else
		snprintf(out, len, "%u B", size);
}

/*
 * "path size metric run i/R point k/N elapsed m:ss", on one line that a
 * terminal sees overwritten, as plain lines otherwise. On a terminal the
 * cursor goes back to the line's start, so that an error message written
 * next (net_fatal) replaces the line rather than trailing it.
 */
static void progress(const struct sweep_path *p, unsigned size,
		     enum sweep_metric m, unsigned run, unsigned runs,
		     unsigned point, unsigned points)
{
	static int tty = -1;
	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	char sz[16];
	size_text(size, sz, sizeof(sz));
	unsigned secs =
		(unsigned)((bench_now_ns() - sweep_start_ns) / 1000000000u);
	fprintf(stderr,
		"sweep: %-7s %7s %-9s run %u/%u  point %u/%u  elapsed "
		"%u:%02u%s",
		p->type->name, sz, metric_names[m], run, runs, point, points,
		secs / 60, secs % 60, tty ? "\033[K\r" : "\n");
	fflush(stderr);
}

static void progress_done(void)
{
	if (isatty(STDERR_FILENO))
		fputc('\n', stderr);
}

/* ---- the worker ---- */

/* What the worker measured, in memory shared with the supervisor. */
struct sweep_results {
	bool complete;
	double v[SWEEP_MAX_PATHS][SWEEP_MAX_SIZES][METRIC_COUNT]
		[SWEEP_MAX_RUNS];
};

struct sweep_run {
	const struct sweep_options *o;
	struct sweep_results *results;
};

static int sweep_worker(struct net_cleanup *rec, void *arg)
{
	const struct sweep_run *run = arg;
	const struct sweep_options *o = run->o;
	static struct sweep_path paths[SWEEP_MAX_PATHS];
	for (size_t i = 0; i < o->n_paths; i++) {
		struct sweep_path *p = &paths[i];
		p->type = o->paths[i];
		p->net.name = p->type->name;
		p->net.title = p->type->title;
		fprintf(stderr, "sweep: setting up the %s path\n",
			p->type->name);
		p->type->setup(p, rec);
		start_server(p);
	}
	sweep_start_ns = bench_now_ns();
	unsigned point = 0, points = (unsigned)(o->n_sizes * o->n_paths *
						METRIC_COUNT * o->runs);
	for (size_t s = 0; s < o->n_sizes; s++)
		for (unsigned r = 0; r < o->runs; r++)
			/* Each run starts with another path, so that no path
			 * always follows the same neighbour. */
			for (size_t step = 0; step < o->n_paths; step++) {
				size_t i = (step + r) % o->n_paths;
				struct sweep_path *p = &paths[i];
				for (int m = 0; m < METRIC_COUNT; m++) {
					progress(p, o->sizes[s],
						 (enum sweep_metric)m, r + 1,
						 o->runs, ++point, points);
					run->results->v[i][s][m][r] =
						m == METRIC_LATENCY
							? run_latency(
								  p,
								  o->sizes[s],
								  o->duration)
							: run_bandwidth(
								  p,
								  o->sizes[s],
								  o->duration);
				}
			}
	progress_done();
	for (size_t i = o->n_paths; i-- > 0;) {
		stop_process(paths[i].server, 2000);
		if (paths[i].type->teardown)
			paths[i].type->teardown(&paths[i]);
	}
	run->results->complete = true;
	return 0;
}

/* ---- the results ---- */

/* One point: the median of its runs and their spread. */
struct sweep_point {
	double median, low, high;
};

static struct sweep_point point_of(const struct sweep_results *res, size_t i,
				   size_t s, int m, unsigned runs)
{
	double v[SWEEP_MAX_RUNS];
	memcpy(v, res->v[i][s][m], runs * sizeof(double));
	struct sweep_point pt;
	pt.median = bench_median(v, runs); /* sorts v */
	pt.low = v[0];
	pt.high = v[runs - 1];
	return pt;
}

/* The host, for the plots' titles: CPU model and count. */
static void host_text(char *out, size_t size)
{
	char line[256], model[200] = "";
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && !model[0] && fgets(line, sizeof(line), f)) {
		const char *colon = strchr(line, ':');
		if (colon && !strncmp(line, "model name", 10)) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
		}
	}
	if (f)
		fclose(f);
	if (!model[0]) {
		struct utsname u;
		snprintf(model, sizeof(model), "%s",
			 uname(&u) ? "unknown CPU" : u.machine);
	}
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(out, size, "%s, %ld CPU%s", model, cpus, cpus == 1 ? "" : "s");
}

static bool write_csv(const char *file, const struct sweep_options *o,
		      const struct sweep_results *res)
{
	FILE *f = fopen(file, "w");
	if (!f)
		return false;
	fprintf(f, "path,size_bytes,metric,unit,median,low,high,runs\n");
	for (size_t i = 0; i < o->n_paths; i++)
		for (size_t s = 0; s < o->n_sizes; s++)
			for (int m = 0; m < METRIC_COUNT; m++) {
				struct sweep_point pt =
					point_of(res, i, s, m, o->runs);
				fprintf(f, "%s,%u,%s,%s,%.3f,%.3f,%.3f,%u\n",
					o->paths[i]->name, o->sizes[s],
					metric_names[m], metric_units[m],
					pt.median, pt.low, pt.high, o->runs);
			}
	return fclose(f) == 0;
}

/* Text safe inside a gnuplot double-quoted string. */
static void gp_quote(const char *in, char *out, size_t size)
{
	size_t n = 0;
	for (; *in && n + 2 < size; in++) {
		if (*in == '"' || *in == '\\')
			out[n++] = '\\';
		out[n++] = *in;
	}
	out[n] = '\0';
}

/* The script that renders both plots, with the data inline. */
static bool write_gnuplot(const char *file, const char *dir,
			  const struct sweep_options *o,
			  const struct sweep_results *res, const char *host)
{
	FILE *f = fopen(file, "w");
	if (!f)
		return false;
	char qhost[512], qdir[2 * PATH_MAX];
	gp_quote(host, qhost, sizeof(qhost));
	gp_quote(dir, qdir, sizeof(qdir));
	fprintf(f,
		"# pvio-bench sweep: `gnuplot %s` renders the plots "
		"again.\n",
		"sweep.gp");
	for (size_t i = 0; i < o->n_paths; i++)
		for (int m = 0; m < METRIC_COUNT; m++) {
			/* Datablocks are named by the path's index: a
			 * path's name may hold a '-', which gnuplot's
			 * names cannot. */
			fprintf(f, "# %s\n$path%zu_%s << EOD\n",
				o->paths[i]->name, i, metric_names[m]);
			for (size_t s = 0; s < o->n_sizes; s++) {
				struct sweep_point pt =
					point_of(res, i, s, m, o->runs);
				fprintf(f, "%u %.3f %.3f %.3f\n", o->sizes[s],
					pt.median, pt.low, pt.high);
			}
			fprintf(f, "EOD\n");
		}
	fprintf(f,
		"set encoding utf8\n"
		"if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
		"  set terminal pngcairo size %d,%d font \"DejaVu Sans,12\" "
		"linewidth 1.5\n"
		"} else {\n"
		"  set terminal png size %d,%d font \"DejaVuSans,11\"\n"
		"}\n"
		"set termoption noenhanced\n"
		"set logscale x 2\n"
		"set logscale y 10\n"
		"set grid xtics ytics mytics\n"
		"set key top left box opaque\n"
		"set xlabel \"message size (bytes, log scale)\"\n"
		"set xrange [%g:%g]\n",
		SWEEP_PLOT_WIDTH, SWEEP_PLOT_HEIGHT, SWEEP_PLOT_WIDTH,
		SWEEP_PLOT_HEIGHT, o->sizes[0] / 1.5,
		o->sizes[o->n_sizes - 1] * 1.5);
	/* A tic per size, labelled every other one when there are many. */
	fprintf(f, "set xtics (");
	for (size_t s = 0; s < o->n_sizes; s++) {
		char sz[16];
		unsigned v = o->sizes[s];
		if (v >= 1024)
			snprintf(sz, sizeof(sz), "%uK", v / 1024);
		else
			snprintf(sz, sizeof(sz), "%u", v);
		bool label = o->n_sizes <= 9 || s % 2 == 0;
		fprintf(f, "%s\"%s\" %u%s", s ? ", " : "", label ? sz : "", v,
			label ? "" : " 1");
	}
	fprintf(f, ")\n");
	static const char *const ylabels[METRIC_COUNT] = {
		"TCP round-trip time (µs, log scale)",
		"TCP bandwidth (Mbit/s, log scale)"};
	static const char *const titles[METRIC_COUNT] = {
		"TCP round-trip latency, request/response of the message size",
		"TCP bandwidth, one stream of writes of the message size"};
	for (int m = 0; m < METRIC_COUNT; m++) {
		fprintf(f,
			"set output \"%s/%s.png\"\n"
			"set ylabel \"%s\"\n"
			"set title \"%s\\n%s; median of %u run%s, bars: "
			"lowest to highest\"\n"
			"plot ",
			qdir, metric_names[m], ylabels[m], titles[m], qhost,
			o->runs, o->runs == 1 ? "" : "s");
		/* Per path: its error bars, solid, then its line, dashed
		 * after the first path, carrying the key's entry. */
		for (size_t i = 0; i < o->n_paths; i++) {
			char qtitle[256];
			gp_quote(o->paths[i]->title, qtitle, sizeof(qtitle));
			fprintf(f,
				"%s$path%zu_%s using 1:2:3:4 with yerrorbars "
				"lt "
				"%zu lw 1.5 dt 1 pt 0 notitle, \\\n"
				"     $path%zu_%s using 1:2 with linespoints "
				"lt %zu "
				"lw 2 "
				"dt %zu pt %zu ps 1.2 title \"%s\"",
				i ? ", \\\n     " : "", i, metric_names[m],
				i + 1, i, metric_names[m], i + 1, i + 1,
				2 * i + 5, qtitle);
		}
		fprintf(f, "\nunset output\n");
	}
	return fclose(f) == 0;
}

/* Render the plots; false with the reason in why. */
static bool render_plots(const char *dir, const struct sweep_options *o,
			 const struct sweep_results *res, const char *host,
			 char *why, size_t size)
{
	char script[PATH_MAX + 16];
	snprintf(script, sizeof(script), "%s/sweep.gp", dir);
	if (!write_gnuplot(script, dir, o, res, host)) {
		snprintf(why, size, "cannot write %s: %s", script,
			 strerror(errno));
		return false;
	}
	static char out[16384];
	int status = net_run((const char *const[]){"gnuplot", script, NULL},
			     60000, out, sizeof(out));
	if (status) {
		snprintf(why, size, "gnuplot %s failed (status %d): %.400s",
			 script, status, out[0] ? out : "(no output)");
		return false;
	}
	for (int m = 0; m < METRIC_COUNT; m++) {
		char png[PATH_MAX + 16];
		struct stat st;
		snprintf(png, sizeof(png), "%s/%s.png", dir, metric_names[m]);
		if (stat(png, &st) || st.st_size == 0) {
			snprintf(why, size, "gnuplot made no %s", png);
			return false;
		}
	}
	return true;
}

/* Per size: each path's latency and bandwidth, and every path's ratio
 * to native when native was measured. */
static void print_summary(const struct sweep_options *o,
			  const struct sweep_results *res, const char *host)
{
	size_t native = o->n_paths;
	for (size_t i = 0; i < o->n_paths; i++)
		if (!strcmp(o->paths[i]->name, "native"))
			native = i;
	size_t cols = o->n_paths + (native < o->n_paths ? o->n_paths - 1 : 0);
	printf("pvio-bench sweep: TCP between two guests; median of %u run%s "
	       "of %u s; %s\n",
	       o->runs, o->runs == 1 ? "" : "s", o->duration, host);
	static const char *const heads[METRIC_COUNT] = {
		"round-trip latency (us)", "bandwidth (Mbit/s)"};
	printf("%8s", "");
	for (int m = 0; m < METRIC_COUNT; m++)
		printf("  | %-*s",
		       m + 1 < METRIC_COUNT ? (int)(cols * 12 - 1) : 0,
		       heads[m]);
	printf("\n%8s", "size");
	for (int m = 0; m < METRIC_COUNT; m++) {
		printf("  |");
		for (size_t i = 0; i < o->n_paths; i++)
			printf(" %11s", o->paths[i]->name);
		for (size_t i = 0; native < o->n_paths && i < o->n_paths; i++)
			if (i != native) {
				char head[32];
				snprintf(head, sizeof(head), "%s/native",
					 o->paths[i]->name);
				printf(" %11s", head);
			}
	}
	printf("\n");
	for (size_t s = 0; s < o->n_sizes; s++) {
		char sz[16];
		size_text(o->sizes[s], sz, sizeof(sz));
		printf("%8s", sz);
		for (int m = 0; m < METRIC_COUNT; m++) {
			double med[SWEEP_MAX_PATHS];
			printf("  |");
			for (size_t i = 0; i < o->n_paths; i++) {
				med[i] = point_of(res, i, s, m, o->runs).median;
				printf(" %11.1f", med[i]);
			}
			for (size_t i = 0;
			     native < o->n_paths && i < o->n_paths; i++)
				if (i != native)
					printf(" %11.2f",
					       med[native]
						       ? med[i] / med[native]
						       : 0.0);
		}
		printf("\n");
	}
}

/* ---- the command ---- */

static const char sweep_footer[] =
	"Measures along each path (--paths, default native,pvio): native, two\n"
	"namespaces joined by veth pairs to a bridge; pvio, two pvio guests "
	"with\n"
	"pvio-netfront and pvio-netback across xenbr0 of a private pvio host;\n"
	"emu, two guests with an emulated e1000 (type=ioemu) on that host.\n"
	"--sizes takes MIN..MAX (every power of two between) or a list, in "
	"bytes\n"
	"with K = 1024: 1..64K (the default), 64..4K, 1,64,1K. --quick is\n"
	"--sizes 1,64,1K,16K,64K --runs 2 --duration 1 unless those are "
	"given.\n"
	"Writes DIR/sweep.csv (one row per path, size and metric: median, "
	"low,\n"
	"high over the runs), and with gnuplot DIR/latency.png, "
	"DIR/bandwidth.png\n"
	"and their script DIR/sweep.gp. Without gnuplot it says so, writes "
	"the\n"
	"CSV and exits 0, unless --plots asked for the plots (then 1).\n"
	"Needs root, iperf3 and sockperf (pvio-bench net's paths start them).";

int bench_sweep(int argc, char **argv)
{
	net_command = "sweep";
	uint64_t runs = 5, duration = 2, quick = 0, plots = 0;
	const char *sizes_text = "1..64K", *paths_text = "native,pvio",
		   *out_arg = NULL, *pvio_arg = NULL;
	const struct bench_option options[] = {
		{"sizes", "message sizes, powers of two: MIN..MAX or A,B,...",
		 NULL, 0, 0, &sizes_text},
		{"runs", "runs per point; medians with their spread", &runs, 1,
		 SWEEP_MAX_RUNS, NULL},
		{"duration", "seconds of each run (latency and bandwidth)",
		 &duration, 1, 600, NULL},
		{"paths",
		 "comma-separated paths: native, pvio, emu, emu-rtl8139 "
		 "(default "
		 "native,pvio)",
		 NULL, 0, 0, &paths_text},
		{"out",
		 "directory for the results (default ./pvio-sweep-DATE, or "
		 "under /tmp when . is not writable)",
		 NULL, 0, 0, &out_arg},
		BENCH_FLAG("quick", "a reduced sweep (CI, pvio demo)", quick),
		BENCH_FLAG("plots",
			   "the plots are required: no gnuplot is an error",
			   plots),
		{"pvio",
		 "the pvio CLI (default: $PVIO, then the build tree or bin "
		 "next to pvio-bench)",
		 NULL, 0, 0, &pvio_arg},
		{NULL, NULL, NULL, 0, 0, NULL},
	};
	int parsed =
		bench_parse_options("sweep", argc, argv, options, sweep_footer);
	if (parsed)
		return parsed == 1 ? 0 : 2;
	if (quick) {
		/* The quick defaults, then what was given over them. */
		runs = 2;
		duration = 1;
		sizes_text = "1,64,1K,16K,64K";
		bench_parse_options("sweep", argc, argv, options, NULL);
	}
	static struct sweep_options o;
	o.runs = (unsigned)runs;
	o.duration = (unsigned)duration;
	o.plots_required = plots;
	char why[128];
	if (!parse_sizes(sizes_text, &o, why, sizeof(why))) {
		fprintf(stderr,
			"pvio-bench sweep: --sizes expects MIN..MAX or a "
			"comma-separated list of powers of two from 1 to 64K "
			"(K = 1024), got '%s': %s\n",
			sizes_text, why);
		return 2;
	}
	if (!parse_path_list(paths_text, &o)) {
		fprintf(stderr,
			"pvio-bench sweep: --paths expects a comma-separated "
			"list of");
		for (size_t k = 0; k < SWEEP_PATH_TYPES; k++)
			fprintf(stderr, "%s %s", k ? "," : "",
				sweep_paths[k].name);
		fprintf(stderr, ", each once, got '%s'\n", paths_text);
		return 2;
	}
	if (out_arg) {
		snprintf(o.out, sizeof(o.out), "%s", out_arg);
	} else {
		char stamp[32];
		time_t now = time(NULL);
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S",
			 localtime(&now));
		snprintf(o.out, sizeof(o.out), "%s/pvio-sweep-%s",
			 access(".", W_OK) ? "/tmp" : ".", stamp);
	}
	char real[PATH_MAX];
	if (!make_dirs(o.out) || !realpath(o.out, real)) {
		fprintf(stderr, "pvio-bench sweep: --out %s: %s\n", o.out,
			strerror(errno));
		return 1;
	}
	/* Absolute, so that sweep.gp renders from anywhere. */
	snprintf(o.out, sizeof(o.out), "%s", real);
	bool have_gnuplot = net_in_path("gnuplot");
	if (!have_gnuplot && o.plots_required) {
		fprintf(stderr, "pvio-bench sweep: --plots: gnuplot not found; "
				"install the Debian package gnuplot-nox "
				"(scripts/install-deps.sh)\n");
		return 1;
	}

	if (!net_needs_met())
		return 1;
	struct sweep_results *res = bench_shared_alloc(sizeof(*res));
	fprintf(stderr,
		"pvio-bench sweep: %zu sizes x %zu paths x %u runs of %u s, "
		"latency and bandwidth\n",
		o.n_sizes, o.n_paths, o.runs, o.duration);
	struct sweep_run run = {&o, res};
	int rc = net_supervise(pvio_arg, sweep_worker, &run);
	if (rc || !res->complete) {
		bench_shared_free(res, sizeof(*res));
		return rc ? rc : 1;
	}

	char host[256], csv[PATH_MAX + 16];
	host_text(host, sizeof(host));
	snprintf(csv, sizeof(csv), "%s/sweep.csv", o.out);
	if (!write_csv(csv, &o, res)) {
		fprintf(stderr, "pvio-bench sweep: cannot write %s: %s\n", csv,
			strerror(errno));
		return 1;
	}
	bool plotted = false;
	char plot_why[2 * PATH_MAX + 1024] =
		"gnuplot not found; install the Debian package "
		"gnuplot-nox (scripts/install-deps.sh)";
	if (have_gnuplot)
		plotted = render_plots(o.out, &o, res, host, plot_why,
				       sizeof(plot_why));
	print_summary(&o, res, host);
	bench_shared_free(res, sizeof(*res));
	if (plotted)
		printf("results in %s: sweep.csv, latency.png, bandwidth.png "
		       "(sweep.gp renders them)\n",
		       o.out);
	else
		printf("results in %s: sweep.csv (no plots: %s)\n", o.out,
		       plot_why);
	/* No gnuplot is a note unless the plots were asked for; gnuplot
	 * failing is an error. */
	if (!plotted && (have_gnuplot || o.plots_required)) {
		fprintf(stderr, "pvio-bench sweep: %s\n", plot_why);
		return 1;
	}
	if (!plotted)
		fprintf(stderr, "pvio-bench sweep: %s; the CSV is written\n",
			plot_why);
	return 0;
}
