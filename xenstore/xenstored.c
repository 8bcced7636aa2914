/*
 * pvio-xenstored: a xenstore daemon for hosts without Xen. It speaks Xen
 * 4.17's wire protocol over UNIX sockets: one privileged socket for dom0
 * and one socket per introduced domain, whose clients act as that domain.
 * The protocol logic lives in xs_core.c; this file is the event loop.
 */
#include "config.h"

#include "pvio_sim_layout.h"
#include "xs_core.h"
#include "xs_sockets.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define DEFAULT_SOCKET PVIO_XS_DEFAULT_SOCKET
#define DEFAULT_RUNDIR PVIO_DEFAULT_RUNDIR

enum item_kind { ITEM_LISTENER, ITEM_CONN, ITEM_SIGNAL };

/* Everything registered with epoll. */
struct item {
	struct item *next;
	enum item_kind kind;
	int fd;
	bool privileged; /* listener: what its clients act as */
	unsigned domid;
	bool closed; /* freed at the end of the loop iteration */
	uint32_t events;
	struct xsd_conn *conn;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static struct {
	int epfd;
	struct xsd *xsd;
	struct item *items;
	char socket_path[PATH_MAX];
	char domain_dir[PATH_MAX];
	char pidfile[PATH_MAX];
	enum xsd_log_level log_level;
	bool use_syslog;
	bool stop;
	int spare_fd; /* given up to refuse a client when out of fds */
} g = {.epfd = -1, .log_level = XSD_LOG_WARNING, .spare_fd = -1};

static const char *const level_names[] = {"error", "warning", "info", "debug"};

static void log_msg(enum xsd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void log_msg(enum xsd_log_level level, const char *fmt, ...)
{
	if (level > g.log_level)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g.use_syslog) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO,
					   LOG_DEBUG};
		syslog(prio[level], "%s", msg);
	} else {
		fprintf(stderr, "pvio-xenstored: %s: %s\n", level_names[level],
			msg);
	}
}

static void core_log(void *arg, enum xsd_log_level level, const char *msg)
{
	(void)arg;
	log_msg(level, "%s", msg);
}

static struct item *item_new(enum item_kind kind, int fd)
{
	struct item *it = calloc(1, sizeof(*it));
	if (!it)
		return NULL;
	it->kind = kind;
	it->fd = fd;
	it->events = EPOLLIN;
	struct epoll_event ev = {.events = it->events, .data.ptr = it};
	if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(it);
		return NULL;
	}
	it->next = g.items;
	g.items = it;
	return it;
}

static void item_close(struct item *it)
{
	if (it->closed)
		return;
	it->closed = true;
	epoll_ctl(g.epfd, EPOLL_CTL_DEL, it->fd, NULL);
	close(it->fd);
	if (it->conn) {
		xsd_conn_free(it->conn);
		it->conn = NULL;
	}
	if (it->kind == ITEM_LISTENER && it->path[0])
		unlink(it->path);
}

static void items_reap(void)
{
	for (struct item **p = &g.items; *p;) {
		struct item *it = *p;
		if (it->closed) {
			*p = it->next;
			free(it);
		} else {
			p = &it->next;
		}
	}
}

static int mkdir_parents(const char *dir)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return errno;
	return 0;
}

/* Binds a listening socket at path; refuses a path a live daemon holds. */
static int listen_at(const char *path, int *fd_out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_msg(XSD_LOG_ERROR, "socket path too long (max %zu): %s",
			sizeof(sa.sun_path) - 1, path);
		return ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);

	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		int err = mkdir_parents(dir);
		if (err) {
			log_msg(XSD_LOG_ERROR, "cannot create directory %s: %s",
				dir, strerror(err));
			return err;
		}
	}

	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_msg(XSD_LOG_ERROR,
				"%s exists and is not a socket; remove it or "
				"choose another path",
				path);
			return EEXIST;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 &&
		    connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			log_msg(XSD_LOG_ERROR,
				"socket %s is in use by a running xenstored; "
				"stop it or choose another path (--socket)",
				path);
			return EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		/* Nobody listens: a stale socket from an earlier run. */
		unlink(path);
	}

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		int err = errno;
		log_msg(XSD_LOG_ERROR, "cannot listen on %s: %s", path,
			strerror(err));
		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

static int add_listener(const char *path, bool privileged, unsigned domid)
{
	int fd;
	int err = listen_at(path, &fd);
	if (err)
		return err;
	struct item *it = item_new(ITEM_LISTENER, fd);
	if (!it) {
		close(fd);
		unlink(path);
		return ENOMEM;
	}
	it->privileged = privileged;
	it->domid = domid;
	snprintf(it->path, sizeof(it->path), "%s", path);
	return 0;
}

static int domain_introduced(void *arg, unsigned domid)
{
	(void)arg;
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), PVIO_XS_DOMAIN_SOCKET_FMT, g.domain_dir,
		 domid);
	int err = add_listener(path, false, domid);
	if (!err)
		log_msg(XSD_LOG_INFO, "domain %u: listening on %s", domid,
			path);
	return err ? EIO : 0;
}

static void domain_released(void *arg, unsigned domid)
{
	(void)arg;
	for (struct item *it = g.items; it; it = it->next)
		if (it->kind == ITEM_LISTENER && !it->privileged &&
		    it->domid == domid)
			item_close(it);
}

static void accept_clients(struct item *l)
{
	while (true) {
		int fd = accept4(l->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
		    g.spare_fd >= 0) {
			/* Out of descriptors: the listener would stay
			 * readable and the loop spin, so take the client
			 * with the spare descriptor and drop it. */
			close(g.spare_fd);
			int drop = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
			if (drop >= 0)
				close(drop);
			g.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			log_msg(XSD_LOG_ERROR,
				"out of file descriptors: a client on %s was "
				"refused",
				l->path);
			continue;
		}
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_msg(XSD_LOG_WARNING, "accept on %s: %s",
					l->path, strerror(errno));
			return;
		}
		struct xsd_conn *c =
			xsd_conn_new(g.xsd, l->domid, l->privileged);
		struct item *it = c ? item_new(ITEM_CONN, fd) : NULL;
		if (!it) {
			log_msg(XSD_LOG_WARNING, "client on %s refused: %s",
				l->path, strerror(c ? ENOMEM : errno));
			xsd_conn_free(c);
			close(fd);
			continue;
		}
		it->conn = c;
		it->domid = l->domid;
		xsd_conn_set_user(c, it);
		log_msg(XSD_LOG_DEBUG, "client connected on %s", l->path);
	}
}

static void read_client(struct item *it)
{
	while (!it->closed) {
		size_t avail;
		void *space = xsd_conn_in_space(it->conn, &avail);
		if (!avail)
			return;
		ssize_t n = read(it->fd, space, avail);
		if (n == 0) {
			log_msg(XSD_LOG_DEBUG, "client of domain %u left",
				it->domid);
			item_close(it);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				item_close(it);
			return;
		}
		xsd_conn_in_commit(it->conn, (size_t)n);
		if ((size_t)n < avail)
			return;
	}
}

/* Writes what the connection has queued; returns -1 when the peer is
 * gone. */
static int flush_client(struct item *it)
{
	size_t len;
	const void *p;
	while ((p = xsd_conn_out_peek(it->conn, &len))) {
		ssize_t n = send(it->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		xsd_conn_out_consume(it->conn, (size_t)n);
	}
	return 0;
}

/* After each batch of events: write queued output, resume connections
 * whose input paused, close dead ones, and adjust epoll interest. */
static void service_clients(void)
{
	for (struct item *it = g.items; it; it = it->next) {
		if (it->kind != ITEM_CONN || it->closed)
			continue;
		size_t avail = 0;
		/* Alternate writing and dispatching what is buffered until
		 * the client stops reading or nothing is left: no epoll
		 * event would come for frames already in the buffer. */
		while (true) {
			if (xsd_conn_is_dead(it->conn) ||
			    flush_client(it) < 0) {
				item_close(it);
				break;
			}
			xsd_conn_in_space(it->conn, &avail);
			if (!avail || xsd_conn_process(it->conn) <= 0)
				break;
		}
		if (it->closed)
			continue;
		if (xsd_conn_is_dead(it->conn)) {
			item_close(it);
			continue;
		}
		xsd_conn_in_space(it->conn, &avail);
		uint32_t want = (avail ? EPOLLIN : 0) |
				(xsd_conn_has_output(it->conn) ? EPOLLOUT : 0);
		if (want != it->events) {
			struct epoll_event ev = {.events = want,
						 .data.ptr = it};
			if (epoll_ctl(g.epfd, EPOLL_CTL_MOD, it->fd, &ev) == 0)
				it->events = want;
		}
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pvio-xenstored [OPTIONS]\n"
		"\n"
		"A xenstore daemon speaking Xen 4.17's wire protocol over UNIX "
		"sockets,\n"
		"for hosts without Xen. libxenstore clients (xenstore-read "
		"and friends)\n"
		"reach it through XENSTORED_PATH=<socket>.\n"
		"\n"
		"  -s, --socket PATH          privileged (dom0) socket, mode "
		"0600\n"
		"                             (default " DEFAULT_SOCKET ")\n"
		"  -d, --domain-socket-dir DIR\n"
		"                             where INTRODUCE creates "
		"domain-<N> sockets\n"
		"                             (default $PVIO_RUNDIR/xenstored, "
		"PVIO_RUNDIR\n"
		"                             defaulting to " DEFAULT_RUNDIR
		")\n"
		"  -F, --foreground           do not detach\n"
		"  -p, --pidfile FILE         write the daemon's pid to FILE\n"
		"  -l, --log-level LEVEL      error, warning (default), info "
		"or debug\n"
		"      --syslog               log to syslog (always, once "
		"detached)\n"
		"  -h, --help                 show this help\n"
		"\n"
		"Quotas for unprivileged domains (C xenstored defaults):\n"
		"      --quota-nodes N              nodes a domain owns "
		"(1000)\n"
		"      --quota-node-size N          bytes per node (2048)\n"
		"      --quota-watches N            watches per connection "
		"(128)\n"
		"      --quota-transactions N       transactions per "
		"connection (10)\n"
		"      --quota-perms N              permissions per node (5)\n"
		"      --quota-transaction-nodes N  nodes per transaction "
		"(1024)\n"
		"      --quota-connections N        connections per domain "
		"(32)\n"
		"Bounds for every connection:\n"
		"      --quota-outstanding N        unread replies before "
		"input pauses (20)\n"
		"      --quota-queued-frames N      queued frames before "
		"events drop (1024)\n"
		"\n"
		"A guest process acts as domain N when it connects to the "
		"domain's socket:\n"
		"  XENSTORED_PATH=<domain-socket-dir>/domain-N xenstore-read "
		"name\n"
		"SIGTERM or SIGINT stops the daemon cleanly.\n");
}

static unsigned parse_quota(const char *opt, const char *value)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(value, &end, 10);
	if (errno || *end || !*value || v == 0 || v > UINT32_MAX) {
		fprintf(stderr,
			"pvio-xenstored: --%s needs a positive integer, got "
			"'%s'\n",
			opt, value);
		exit(2);
	}
	return (unsigned)v;
}

static int write_pidfile(void)
{
	if (!g.pidfile[0])
		return 0;
	FILE *f = fopen(g.pidfile, "w");
	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f)) {
		log_msg(XSD_LOG_ERROR, "cannot write pidfile %s: %s", g.pidfile,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void copy_opt(char *dst, size_t size, const char *opt, const char *v)
{
	if (snprintf(dst, size, "%s", v) >= (int)size) {
		fprintf(stderr, "pvio-xenstored: --%s: path too long\n", opt);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct xsd_quota quota;
	xsd_quota_defaults(&quota);
	bool foreground = false;
	const char *rundir = getenv("PVIO_RUNDIR");
	snprintf(g.socket_path, sizeof(g.socket_path), "%s", DEFAULT_SOCKET);
	snprintf(g.domain_dir, sizeof(g.domain_dir),
		 "%s/" PVIO_XS_RUNDIR_SUBDIR,
		 rundir && *rundir ? rundir : DEFAULT_RUNDIR);

	enum {
		OPT_SYSLOG = 256,
		OPT_Q_NODES,
		OPT_Q_NODE_SIZE,
		OPT_Q_WATCHES,
		OPT_Q_TXNS,
		OPT_Q_PERMS,
		OPT_Q_TXN_NODES,
		OPT_Q_OUTSTANDING,
		OPT_Q_QUEUED,
		OPT_Q_CONNECTIONS,
	};
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"domain-socket-dir", required_argument, NULL, 'd'},
		{"foreground", no_argument, NULL, 'F'},
		{"pidfile", required_argument, NULL, 'p'},
		{"log-level", required_argument, NULL, 'l'},
		{"syslog", no_argument, NULL, OPT_SYSLOG},
		{"help", no_argument, NULL, 'h'},
		{"quota-nodes", required_argument, NULL, OPT_Q_NODES},
		{"quota-node-size", required_argument, NULL, OPT_Q_NODE_SIZE},
		{"quota-watches", required_argument, NULL, OPT_Q_WATCHES},
		{"quota-transactions", required_argument, NULL, OPT_Q_TXNS},
		{"quota-perms", required_argument, NULL, OPT_Q_PERMS},
		{"quota-transaction-nodes", required_argument, NULL,
		 OPT_Q_TXN_NODES},
		{"quota-outstanding", required_argument, NULL,
		 OPT_Q_OUTSTANDING},
		{"quota-queued-frames", required_argument, NULL, OPT_Q_QUEUED},
		{"quota-connections", required_argument, NULL,
		 OPT_Q_CONNECTIONS},
		{NULL, 0, NULL, 0},
	};
	int opt, idx = -1;
	while ((opt = getopt_long(argc, argv, "s:d:Fp:l:h", opts, &idx)) !=
	       -1) {
		const char *name = idx >= 0 ? opts[idx].name : "";
		switch (opt) {
		case 's':
			copy_opt(g.socket_path, sizeof(g.socket_path), "socket",
				 optarg);
			break;
		case 'd':
			copy_opt(g.domain_dir, sizeof(g.domain_dir),
				 "domain-socket-dir", optarg);
			break;
		case 'F':
			foreground = true;
			break;
		case 'p':
			copy_opt(g.pidfile, sizeof(g.pidfile), "pidfile",
				 optarg);
			break;
		case 'l': {
			int found = -1;
			for (int i = 0; i < 4; i++)
				if (!strcmp(optarg, level_names[i]))
					found = i;
			if (found < 0) {
				fprintf(stderr,
					"pvio-xenstored: unknown log level "
					"'%s' (error, warning, info, "
					"debug)\n",
					optarg);
				return 2;
			}
			g.log_level = (enum xsd_log_level)found;
			break;
		}
		case OPT_SYSLOG:
			g.use_syslog = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_Q_NODES:
			quota.nodes = parse_quota(name, optarg);
			break;
		case OPT_Q_NODE_SIZE:
			quota.node_size = parse_quota(name, optarg);
			break;
		case OPT_Q_WATCHES:
			quota.watches = parse_quota(name, optarg);
			break;
		case OPT_Q_TXNS:
			quota.transactions = parse_quota(name, optarg);
			break;
		case OPT_Q_PERMS:
			quota.perms = parse_quota(name, optarg);
			break;
		case OPT_Q_TXN_NODES:
			quota.txn_nodes = parse_quota(name, optarg);
			break;
		case OPT_Q_OUTSTANDING:
			quota.outstanding = parse_quota(name, optarg);
			break;
		case OPT_Q_QUEUED:
			quota.queued_frames = parse_quota(name, optarg);
			break;
		case OPT_Q_CONNECTIONS:
			quota.connections = parse_quota(name, optarg);
			break;
		default:
			usage(stderr);
			return 2;
		}
		idx = -1;
	}
	if (optind < argc) {
		fprintf(stderr, "pvio-xenstored: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (g.use_syslog)
		openlog("pvio-xenstored", LOG_PID, LOG_DAEMON);

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	g.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	g.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g.epfd < 0) {
		log_msg(XSD_LOG_ERROR, "epoll_create1: %s", strerror(errno));
		return 1;
	}
	struct xsd_hooks hooks = {
		.domain_introduced = domain_introduced,
		.domain_released = domain_released,
		.log = core_log,
		.log_level = g.log_level,
	};
	g.xsd = xsd_new(&quota, &hooks);
	if (!g.xsd) {
		log_msg(XSD_LOG_ERROR, "out of memory");
		return 1;
	}
	if (add_listener(g.socket_path, true, 0))
		return 1;
	int err = mkdir_parents(g.domain_dir);
	if (err) {
		log_msg(XSD_LOG_ERROR,
			"cannot create the domain socket directory %s: %s "
			"(--domain-socket-dir)",
			g.domain_dir, strerror(err));
		unlink(g.socket_path);
		return 1;
	}

	/* Detach only once the socket is bound: an error still reaches the
	 * caller's terminal, and the socket exists when the parent exits. */
	if (!foreground) {
		if (daemon(1, 0) < 0) { /* keep relative paths valid */
			log_msg(XSD_LOG_ERROR, "daemon: %s", strerror(errno));
			unlink(g.socket_path);
			return 1;
		}
		if (!g.use_syslog) {
			g.use_syslog = true;
			openlog("pvio-xenstored", LOG_PID, LOG_DAEMON);
		}
	}
	if (write_pidfile() < 0) {
		unlink(g.socket_path);
		return 1;
	}

	int sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 || !item_new(ITEM_SIGNAL, sfd)) {
		log_msg(XSD_LOG_ERROR, "signalfd: %s", strerror(errno));
		unlink(g.socket_path);
		return 1;
	}
	log_msg(XSD_LOG_INFO, "listening on %s; domain sockets in %s",
		g.socket_path, g.domain_dir);

	struct epoll_event evs[64];
	while (!g.stop) {
		int n = epoll_wait(g.epfd, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_msg(XSD_LOG_ERROR, "epoll_wait: %s",
				strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct item *it = evs[i].data.ptr;
			if (it->closed)
				continue;
			switch (it->kind) {
			case ITEM_LISTENER:
				accept_clients(it);
				break;
			case ITEM_CONN:
				if (evs[i].events &
				    (EPOLLIN | EPOLLHUP | EPOLLERR))
					read_client(it);
				break;
			case ITEM_SIGNAL: {
				struct signalfd_siginfo si;
				if (read(it->fd, &si, sizeof(si)) ==
				    sizeof(si)) {
					log_msg(XSD_LOG_INFO,
						"signal %u: exiting",
						si.ssi_signo);
					g.stop = true;
				}
				break;
			}
			}
		}
		service_clients();
		items_reap();
	}

	for (struct item *it = g.items; it; it = it->next)
		item_close(it);
	items_reap();
	xsd_free(g.xsd);
	close(g.epfd);
	if (g.spare_fd >= 0)
		close(g.spare_fd);
	if (g.pidfile[0])
		unlink(g.pidfile);
	return 0;
}
