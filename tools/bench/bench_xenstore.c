/*
 * pvio-bench xenstore: READ and WRITE operations per second through
 * libxenstore against pvio-xenstored, with one client and with several
 * concurrent clients, next to a bare UNIX-socket request/response echo
 * server exchanging messages of the same sizes in the same run; then the
 * daemon's resident memory holding many nodes.
 *
 * The daemon and the echo server run on one CPU, the clients on the other.
 * Clients are separate processes, as xenstore clients are.
 */
#include "config.h"

#include "bench.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

#include <xen/io/xs_wire.h>

#define MAX_CLIENTS 64
#define MAX_VALUE   2048

struct xs_bench_options {
	uint64_t ops; /* per measurement, shared among the clients */
	unsigned rounds;
	unsigned clients; /* the concurrent case */
	uint64_t nodes;	  /* for the memory figure */
	unsigned value_size;
	const char *daemon;
	int server_cpu, client_cpu;
};

enum op_kind { OP_READ, OP_WRITE };
enum target { TARGET_XENSTORED, TARGET_ECHO };

/* Shared with the client processes. */
struct xs_bench_shared {
	uint32_t ready;
	uint32_t errors;
	uint64_t end_ns[MAX_CLIENTS];
};

struct client_args {
	enum target target;
	enum op_kind op;
	unsigned index;
	uint64_t ops;
	const char *sock;
	int start_fd; /* read end of a pipe: EOF means go */
	int start_wr; /* its write end, which the client must not hold */
	struct xs_bench_shared *sh;
	unsigned value_size;
};

static char value_buf[MAX_VALUE];

static void client_path(char *buf, size_t size, unsigned index)
{
	snprintf(buf, size, "/bench/client%u/key", index);
}

static void wait_for_go(const struct client_args *a)
{
	close(a->start_wr);
	__atomic_add_fetch(&a->sh->ready, 1, __ATOMIC_SEQ_CST);
	char c;
	while (read(a->start_fd, &c, 1) < 0 && errno == EINTR)
		;
}

static int run_xenstore_client(const struct client_args *a)
{
	setenv("XENSTORED_PATH", a->sock, 1);
	struct xs_handle *h = xs_open(0);
	if (!h) {
		perror("pvio-bench xenstore: xs_open");
		return 1;
	}
	char path[64];
	client_path(path, sizeof(path), a->index);
	wait_for_go(a);
	for (uint64_t i = 0; i < a->ops; i++) {
		if (a->op == OP_READ) {
			unsigned len;
			void *v = xs_read(h, XBT_NULL, path, &len);
			if (!v || len != a->value_size)
				return 1;
			free(v);
		} else if (!xs_write(h, XBT_NULL, path, value_buf,
				     a->value_size)) {
			return 1;
		}
	}
	a->sh->end_ns[a->index] = bench_now_ns();
	xs_close(h);
	return 0;
}

/* Fills a UNIX socket address; false when the path does not fit. */
static bool unix_addr(struct sockaddr_un *sa, const char *path)
{
	size_t len = strlen(path);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (len >= sizeof(sa->sun_path))
		return false;
	memcpy(sa->sun_path, path, len + 1);
	return true;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa;
	if (!unix_addr(&sa, path))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* The request and reply sizes libxenstore and the daemon exchange. */
static size_t build_request(unsigned char *buf, enum op_kind op,
			    const char *path, unsigned value_size)
{
	size_t pl = strlen(path) + 1;
	struct xsd_sockmsg h = {op == OP_READ ? XS_READ : XS_WRITE, 0, 0,
				(uint32_t)pl};
	if (op == OP_WRITE)
		h.len += value_size;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), path, pl);
	if (op == OP_WRITE)
		memcpy(buf + sizeof(h) + pl, value_buf, value_size);
	return sizeof(h) + h.len;
}

static int run_echo_client(const struct client_args *a)
{
	int fd = connect_unix(a->sock);
	if (fd < 0) {
		perror("pvio-bench xenstore: connect to the echo server");
		return 1;
	}
	char path[64];
	client_path(path, sizeof(path), a->index);
	unsigned char req[sizeof(struct xsd_sockmsg) + 64 + MAX_VALUE];
	unsigned char rsp[sizeof(struct xsd_sockmsg) + MAX_VALUE];
	size_t req_len = build_request(req, a->op, path, a->value_size);
	size_t rsp_len = sizeof(struct xsd_sockmsg) +
			 (a->op == OP_READ ? a->value_size : 3);
	wait_for_go(a);
	for (uint64_t i = 0; i < a->ops; i++) {
		if (write(fd, req, req_len) != (ssize_t)req_len ||
		    !read_full(fd, rsp, rsp_len))
			return 1;
	}
	a->sh->end_ns[a->index] = bench_now_ns();
	close(fd);
	return 0;
}

static int client_main(void *arg)
{
	const struct client_args *a = arg;
	return a->target == TARGET_XENSTORED ? run_xenstore_client(a)
					     : run_echo_client(a);
}

/* The baseline: one process, epoll over all clients, answering each
 * request frame with a reply frame of the size the daemon would send. */
struct echo_conn {
	int fd;
	size_t have;
	unsigned char buf[4 * (sizeof(struct xsd_sockmsg) + 4096)];
};

struct echo_args {
	int listen_fd;
	unsigned value_size;
};

static void echo_serve(struct echo_conn *c, unsigned value_size)
{
	static unsigned char reply[sizeof(struct xsd_sockmsg) + MAX_VALUE];
	size_t off = 0;
	while (c->have - off >= sizeof(struct xsd_sockmsg)) {
		struct xsd_sockmsg h;
		memcpy(&h, c->buf + off, sizeof(h));
		if (c->have - off < sizeof(h) + h.len)
			break;
		off += sizeof(h) + h.len;
		h.len = h.type == XS_READ ? value_size : 3;
		memcpy(reply, &h, sizeof(h));
		if (h.type != XS_READ)
			memcpy(reply + sizeof(h), "OK", 3);
		if (send(c->fd, reply, sizeof(h) + h.len, MSG_NOSIGNAL) < 0)
			return;
	}
	memmove(c->buf, c->buf + off, c->have - off);
	c->have -= off;
}

static int echo_main(void *arg)
{
	const struct echo_args *a = arg;
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, a->listen_fd, &ev) < 0)
		return 1;
	while (true) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			struct echo_conn *c = evs[i].data.ptr;
			if (!c) {
				int fd = accept(a->listen_fd, NULL, NULL);
				if (fd < 0)
					continue;
				c = calloc(1, sizeof(*c));
				if (!c)
					return 1;
				c->fd = fd;
				struct epoll_event cev = {.events = EPOLLIN,
							  .data.ptr = c};
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
				continue;
			}
			ssize_t r = read(c->fd, c->buf + c->have,
					 sizeof(c->buf) - c->have);
			if (r <= 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				free(c);
				continue;
			}
			c->have += (size_t)r;
			echo_serve(c, a->value_size);
		}
	}
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd = unix_addr(&sa, path)
			 ? socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)
			 : -1;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0) {
		fprintf(stderr, "pvio-bench xenstore: listen on %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
	return fd;
}

struct daemon_args {
	const char *bin;
	const char *sock;
	const char *domdir;
};

static int daemon_main(void *arg)
{
	const struct daemon_args *a = arg;
	execl(a->bin, a->bin, "--foreground", "--socket", a->sock,
	      "--domain-socket-dir", a->domdir, (char *)NULL);
	fprintf(stderr, "pvio-bench xenstore: cannot run %s: %s\n", a->bin,
		strerror(errno));
	return 127;
}

static pid_t start_daemon(const struct xs_bench_options *opt,
			  struct daemon_args *da)
{
	pid_t pid = bench_fork_pinned(opt->server_cpu, daemon_main, da);
	/* Bounded wait until it accepts connections. */
	for (int i = 0; i < 1000; i++) {
		int fd = connect_unix(da->sock);
		if (fd >= 0) {
			close(fd);
			return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	fprintf(stderr, "pvio-bench xenstore: %s did not start\n", da->bin);
	kill(pid, SIGKILL);
	exit(1);
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* What must not outlive pvio-bench, whichever way it ends: the servers
 * and the private directory. */
static struct {
	pid_t owner; /* forked children must not clean up */
	pid_t daemon, echo;
	char tmp[64], xs_sock[PATH_MAX], echo_sock[PATH_MAX], domdir[PATH_MAX];
} run;

/* Async-signal-safe: also runs from the SIGINT/SIGTERM handler. */
static void cleanup_run(void)
{
	if (getpid() != run.owner)
		return;
	if (run.daemon > 0)
		stop_child(run.daemon);
	if (run.echo > 0)
		stop_child(run.echo);
	run.daemon = run.echo = 0;
	if (run.tmp[0]) {
		unlink(run.xs_sock);
		unlink(run.echo_sock);
		rmdir(run.domdir);
		rmdir(run.tmp);
	}
}

static void on_signal(int sig)
{
	cleanup_run();
	_exit(128 + sig);
}

/* One measurement: operations per second over all clients together. */
static double measure(const struct xs_bench_options *opt,
		      struct xs_bench_shared *sh, enum target target,
		      enum op_kind op, unsigned clients, const char *sock)
{
	int go[2];
	if (pipe(go) < 0) {
		perror("pvio-bench xenstore: pipe");
		exit(1);
	}
	memset(sh, 0, sizeof(*sh));
	uint64_t per_client = opt->ops / clients;
	if (!per_client)
		per_client = 1;
	pid_t pids[MAX_CLIENTS];
	struct client_args args[MAX_CLIENTS];
	for (unsigned i = 0; i < clients; i++) {
		args[i] = (struct client_args){
			.target = target,
			.op = op,
			.index = i,
			.ops = per_client,
			.sock = sock,
			.start_fd = go[0],
			.start_wr = go[1],
			.sh = sh,
			.value_size = opt->value_size,
		};
		pids[i] = bench_fork_pinned(opt->client_cpu, client_main,
					    &args[i]);
	}
	close(go[0]);
	/* Bounded wait until every client is connected. */
	for (int i = 0; i < 10000; i++) {
		if (__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) == clients)
			break;
		usleep(1000);
	}
	uint64_t start = bench_now_ns();
	close(go[1]);
	bool failed = false;
	for (unsigned i = 0; i < clients; i++)
		failed |= bench_wait_child(pids[i]) != 0;
	if (failed) {
		fprintf(stderr, "pvio-bench xenstore: a %s client failed\n",
			target == TARGET_ECHO ? "echo" : "xenstore");
		exit(1);
	}
	uint64_t end = 0;
	for (unsigned i = 0; i < clients; i++)
		if (sh->end_ns[i] > end)
			end = sh->end_ns[i];
	return (double)(per_client * clients) * 1e9 / (double)(end - start);
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long kib = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static const char *find_daemon(const char *given)
{
	static char buf[PATH_MAX];
	if (given)
		return given;
	const char *env = getenv("PVIO_XENSTORED");
	if (env && *env)
		return env;
	/* The build tree, then an installed sbin. */
	if (bench_beside_self("../xenstore/pvio-xenstored", buf, sizeof(buf)) ||
	    bench_beside_self("../sbin/pvio-xenstored", buf, sizeof(buf)))
		return buf;
	return "/usr/sbin/pvio-xenstored";
}

/* ---- what a hostile guest can make the daemon hold ---- */

static bool write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	while (len) {
		ssize_t n = write(fd, c, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		c += n;
		len -= (size_t)n;
	}
	return true;
}

static bool read_all(int fd, void *p, size_t len)
{
	char *c = p;
	while (len) {
		ssize_t n = read(fd, c, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		c += n;
		len -= (size_t)n;
	}
	return true;
}

static bool raw_send(int fd, uint32_t type, uint32_t tx, const void *p,
		     size_t len)
{
	struct xsd_sockmsg h = {type, 0, tx, (uint32_t)len};
	return write_all(fd, &h, sizeof(h)) && write_all(fd, p, len);
}

/* Reads one reply; its type, and its payload (nul-terminated) in buf. */
static bool raw_reply(int fd, uint32_t *type, char *buf)
{
	struct xsd_sockmsg h;
	if (!read_all(fd, &h, sizeof(h)) || h.len > XENSTORE_PAYLOAD_MAX ||
	    !read_all(fd, buf, h.len))
		return false;
	buf[h.len] = '\0';
	*type = h.type;
	return true;
}

/* A relative path of about len bytes, unique for (a, b, c), in
 * directories of 100 bytes. */
static void long_path(char *buf, size_t len, unsigned a, unsigned b, unsigned c)
{
	int l = snprintf(buf, len + 1, "h%u-%u-%u", a, b, c);
	for (size_t i = (size_t)l; i < len; i++)
		buf[i] = i % 100 == 99 ? '/' : 'x';
	buf[len] = '\0';
}

static void hostile_report(const char *what, pid_t daemon, long base)
{
	long kib = rss_kib(daemon);
	printf("  %-58s %8.1f MiB (+%.1f)\n", what, kib / 1024.0,
	       (kib - base) / 1024.0);
	fflush(stdout);
}

/*
 * One guest (domain 1) with nconns connections attacks, as in the
 * hardening issue: (1) every connection opens transactions and reads
 * missing long paths in them until refused; (2) after those connections
 * close, every connection but one watches the guest's home with long
 * tokens and never reads, while the last writes at long paths there.
 * The daemon's VmRSS is read after each step.
 */
static int hostile_measure(const char *domdir, pid_t daemon, unsigned nconns,
			   int attack)
{
	struct xs_handle *h = xs_open(0);
	struct xs_permissions perms = {.id = 1, .perms = XS_PERM_NONE};
	if (!h || !xs_introduce_domain(h, 1, 1, 1) ||
	    !xs_mkdir(h, XBT_NULL, "/local/domain/1") ||
	    !xs_set_permissions(h, XBT_NULL, "/local/domain/1", &perms, 1)) {
		perror("pvio-bench xenstore --hostile: set up domain 1");
		return 1;
	}
	char sock[PATH_MAX + 16];
	snprintf(sock, sizeof(sock), "%s/domain-1", domdir);
	static char path[XENSTORE_PAYLOAD_MAX + 1],
		buf[XENSTORE_PAYLOAD_MAX + 1];
	int fds[MAX_CLIENTS];
	long base = rss_kib(daemon);
	hostile_report("daemon RSS, fresh, domain 1 introduced", daemon, base);
	if (attack == 2)
		goto watchers;

	/* (1) transactions reading missing long paths */
	unsigned txns = 0, reads = 0;
	for (unsigned i = 0; i < nconns; i++) {
		fds[i] = connect_unix(sock);
		if (fds[i] < 0) {
			perror("pvio-bench xenstore --hostile: connect");
			return 1;
		}
	}
	for (unsigned i = 0; i < nconns; i++) {
		for (unsigned t = 0; t < 16; t++) {
			uint32_t type;
			if (!raw_send(fds[i], XS_TRANSACTION_START, 0, "", 1) ||
			    !raw_reply(fds[i], &type, buf))
				return 1;
			if (type != XS_TRANSACTION_START)
				break;
			uint32_t tx = (uint32_t)strtoul(buf, NULL, 10);
			txns++;
			bool refused = false;
			for (unsigned j = 0; j < 2048 && !refused; j += 16) {
				for (unsigned k = 0; k < 16; k++) {
					long_path(path, XENSTORE_REL_PATH_MAX,
						  i, t, j + k);
					raw_send(fds[i], XS_READ, tx, path,
						 strlen(path) + 1);
				}
				for (unsigned k = 0; k < 16; k++) {
					if (!raw_reply(fds[i], &type, buf))
						return 1;
					if (strcmp(buf, "ENOENT"))
						refused = true;
					else
						reads++;
				}
			}
		}
	}
	printf("  %u transactions open, %u missing paths read in them\n", txns,
	       reads);
	hostile_report("daemon RSS, transactions held", daemon, base);
	for (unsigned i = 0; i < nconns; i++)
		close(fds[i]);
	/* The daemon notices the closes; a round trip makes sure. */
	free(xs_read(h, XBT_NULL, "/local/domain/1", NULL));
	hostile_report("daemon RSS, after those connections closed", daemon,
		       base);
	xs_close(h);
	return 0;

watchers:
	/* (2) watchers that never read */
	for (unsigned i = 0; i < nconns; i++) {
		fds[i] = connect_unix(sock);
		if (fds[i] < 0)
			return 1;
	}
	unsigned watches = 0;
	for (unsigned i = 0; i + 1 < nconns; i++) {
		for (unsigned w = 0; w < 128; w++) {
			/* path, then a token that makes the event ~4000 B */
			int l = snprintf(buf, sizeof(buf), "/local/domain/1");
			buf[l++] = '\0';
			int tl = snprintf(buf + l, sizeof(buf) - (size_t)l,
					  "w%u-%u-", i, w);
			memset(buf + l + tl, 't', 1800);
			buf[l + tl + 1800] = '\0';
			uint32_t type;
			if (!raw_send(fds[i], XS_WATCH, 0, buf,
				      (size_t)l + (size_t)tl + 1801) ||
			    !raw_reply(fds[i], &type, path))
				return 1;
			if (type != XS_WATCH)
				break;
			watches++;
			/* The first event of the watch came with the reply;
			 * drop it, never read again. */
			raw_reply(fds[i], &type, path);
		}
	}
	int wfd = fds[nconns - 1];
	unsigned writes = 0;
	long_path(path, XENSTORE_REL_PATH_MAX - 40, 9, 9, 9);
	size_t pl = strlen(path) + 1;
	memcpy(path + pl, "v", 1);
	for (unsigned n = 0; n < 256; n++) {
		uint32_t type;
		if (!raw_send(wfd, XS_WRITE, 0, path, pl + 1) ||
		    !raw_reply(wfd, &type, buf))
			return 1;
		writes += type == XS_WRITE;
	}
	printf("  %u watches that never read, %u writes at a long path\n",
	       watches, writes);
	hostile_report("daemon RSS, events queued", daemon, base);
	for (unsigned i = 0; i < nconns; i++)
		close(fds[i]);
	free(xs_read(h, XBT_NULL, "/local/domain/1", NULL));
	hostile_report("daemon RSS, after those connections closed", daemon,
		       base);
	xs_close(h);
	return 0;
}

static void populate(struct xs_handle *h, const struct xs_bench_options *o)
{
	char path[64];
	for (unsigned i = 0; i < MAX_CLIENTS; i++) {
		client_path(path, sizeof(path), i);
		if (!xs_write(h, XBT_NULL, path, value_buf, o->value_size)) {
			perror("pvio-bench xenstore: populate");
			exit(1);
		}
	}
}

int bench_xenstore(int argc, char **argv)
{
	uint64_t ops = 20000, rounds = 5, clients = 8, nodes = 100000,
		 value_size = 32, hostile = 0;
	const char *daemon_arg = NULL;
	const struct bench_option options[] = {
		{"ops", "operations per measurement, shared by the clients",
		 &ops, 1, 0, NULL},
		BENCH_ROUNDS_OPTION(rounds),
		{"clients", "clients of the concurrent case", &clients, 2,
		 MAX_CLIENTS, NULL},
		{"nodes", "nodes for the memory figure", &nodes, 1, 0, NULL},
		{"value-size", "bytes per value", &value_size, 1, MAX_VALUE,
		 NULL},
		{"hostile",
		 "instead: the memory one guest with N connections makes the "
		 "daemon hold (0: off)",
		 &hostile, 0, MAX_CLIENTS, NULL},
		{"daemon",
		 "pvio-xenstored to run (default: $PVIO_XENSTORED, then the "
		 "build tree or sbin next to pvio-bench)",
		 NULL, 0, 0, &daemon_arg},
		{NULL, NULL, NULL, 0, 0, NULL},
	};
	int parsed = bench_parse_options("xenstore", argc, argv, options, NULL);
	if (parsed)
		return parsed == 1 ? 0 : 2;
	struct xs_bench_options opt = {
		.ops = ops,
		.rounds = (unsigned)rounds,
		.clients = (unsigned)clients,
		.nodes = nodes,
		.value_size = (unsigned)value_size,
	};
	opt.daemon = find_daemon(daemon_arg);
	if (access(opt.daemon, X_OK) != 0) {
		fprintf(stderr,
			"pvio-bench xenstore: %s: %s; pass --daemon PATH or "
			"set PVIO_XENSTORED\n",
			opt.daemon, strerror(errno));
		return 1;
	}
	memset(value_buf, 'v', sizeof(value_buf));
	bench_pick_cpus("xenstore", &opt.server_cpu, &opt.client_cpu);

	run.owner = getpid();
	atexit(cleanup_run);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	char tmp[] = "/tmp/pvio-bench-xenstore.XXXXXX";
	if (!mkdtemp(tmp)) {
		perror("pvio-bench xenstore: mkdtemp");
		return 1;
	}
	snprintf(run.tmp, sizeof(run.tmp), "%s", tmp);
	snprintf(run.xs_sock, sizeof(run.xs_sock), "%s/xenstored", tmp);
	snprintf(run.echo_sock, sizeof(run.echo_sock), "%s/echo", tmp);
	snprintf(run.domdir, sizeof(run.domdir), "%s/domains", tmp);
	const char *xs_sock = run.xs_sock, *echo_sock = run.echo_sock;

	struct daemon_args da = {opt.daemon, xs_sock, run.domdir};
	run.daemon = start_daemon(&opt, &da);
	setenv("XENSTORED_PATH", xs_sock, 1);
	if (hostile) {
		/* Each attack on a fresh daemon: freed memory stays in the
		 * heap and would hide the second. */
		printf("pvio-bench xenstore: %s\nhostile guest, %u "
		       "connections:\n",
		       opt.daemon, (unsigned)hostile);
		int rc = 0;
		for (int attack = 1; attack <= 2 && !rc; attack++) {
			if (attack == 2) {
				stop_child(run.daemon);
				run.daemon = start_daemon(&opt, &da);
			}
			rc = hostile_measure(run.domdir, run.daemon,
					     (unsigned)hostile, attack);
		}
		cleanup_run();
		return rc;
	}
	struct xs_handle *h = xs_open(0);
	if (!h) {
		perror("pvio-bench xenstore: xs_open");
		return 1;
	}
	populate(h, &opt);
	struct echo_args ea = {listen_unix(echo_sock), opt.value_size};
	run.echo = bench_fork_pinned(opt.server_cpu, echo_main, &ea);
	close(ea.listen_fd);

	struct xs_bench_shared *sh = bench_shared_alloc(sizeof(*sh));
	/* [op][clients: 0 = one, 1 = many][target] */
	double *s[2][2][2];
	for (int i = 0; i < 8; i++)
		(&s[0][0][0])[i] = calloc(opt.rounds, sizeof(double));

	printf("pvio-bench xenstore: %s; server CPU %d, client CPU %d\n",
	       opt.daemon, opt.server_cpu, opt.client_cpu);
	printf("  %u rounds, interleaved; medians. %llu operations per "
	       "measurement, %u-byte values; 1 and %u clients.\n",
	       opt.rounds, (unsigned long long)opt.ops, opt.value_size,
	       opt.clients);
	fflush(stdout);
	for (unsigned r = 0; r < opt.rounds; r++) {
		for (int op = 0; op < 2; op++)
			for (int m = 0; m < 2; m++)
				for (int t = 0; t < 2; t++)
					s[op][m][t][r] = measure(
						&opt, sh, (enum target)t,
						(enum op_kind)op,
						m ? opt.clients : 1,
						t ? echo_sock : xs_sock);
		fprintf(stderr, "  round %u/%u done\n", r + 1, opt.rounds);
	}
	stop_child(run.echo);
	run.echo = 0;

	static const char *const op_names[] = {"READ", "WRITE"};
	for (int op = 0; op < 2; op++) {
		for (int m = 0; m < 2; m++) {
			printf("%s, %u client%s:\n", op_names[op],
			       m ? opt.clients : 1, m ? "s" : "");
			double x = bench_report_samples(
				"pvio-xenstored via libxenstore", s[op][m][0],
				opt.rounds, "ops/s");
			double e = bench_report_samples("bare UNIX-socket echo",
							s[op][m][1], opt.rounds,
							"ops/s");
			bench_report_ratio("ratio xenstored / echo", x / e,
					   m ? "for reference" : ">= 0.70");
		}
	}

	/* Memory: a fresh daemon holding opt.nodes nodes. */
	xs_close(h);
	stop_child(run.daemon);
	run.daemon = start_daemon(&opt, &da);
	h = xs_open(0);
	if (!h) {
		perror("pvio-bench xenstore: xs_open");
		return 1;
	}
	long before = rss_kib(run.daemon);
	char path[96], value[32];
	for (uint64_t i = 0; i < opt.nodes; i++) {
		/* 100 nodes per directory, like many small devices. */
		snprintf(path, sizeof(path), "/mem/d%llu/n%llu",
			 (unsigned long long)(i / 100),
			 (unsigned long long)(i % 100));
		int l = snprintf(value, sizeof(value), "value-%llu",
				 (unsigned long long)i);
		if (!xs_write(h, XBT_NULL, path, value, (unsigned)l)) {
			perror("pvio-bench xenstore: write");
			return 1;
		}
	}
	long after = rss_kib(run.daemon);
	/* The directories count too. */
	uint64_t total = opt.nodes + (opt.nodes + 99) / 100;
	printf("memory, %llu nodes written (%llu with their directories):\n",
	       (unsigned long long)opt.nodes, (unsigned long long)total);
	bench_report("daemon RSS, empty", (double)before, "KiB");
	bench_report("daemon RSS, filled", (double)after, "KiB");
	bench_report("per node", (after - before) * 1024.0 / (double)total,
		     "bytes");

	xs_close(h);
	for (int i = 0; i < 8; i++)
		free((&s[0][0][0])[i]);
	bench_shared_free(sh, sizeof(*sh));
	cleanup_run();
	return 0;
}
