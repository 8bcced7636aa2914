/*
 * pvio-bench net: the paths between two guests (pvio, the bare relay,
 * veth pairs on a bridge, the emulated e1000), the commands that build
 * them and the
 * cleanup that removes them. Everything a path creates lives in network
 * namespaces named for the run (pvbench-<id>-*), or in a private pvio host
 * (its own pvio-<hostid>-* namespaces); addresses are link-local.
 */
#include "config.h"

#include "bench.h"
#include "bench_net.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NET_STEP_TIMEOUT_MS  30000 /* one ip or pvio command */
#define NET_READY_TIMEOUT_MS 10000 /* eth0 appearing, a server listening */

const char *net_command = "net";

void net_fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "pvio-bench %s: ", net_command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ms(void)
{
	return bench_now_ns() / 1000000u;
}

static void exec_child(const char *const *argv)
{
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int net_run(const char *const *argv, unsigned timeout_ms, char *out,
	    size_t size)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		net_fatal("pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		net_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		exec_child(argv);
	}
	close(p[1]);
	size_t len = 0;
	uint64_t deadline = now_ms() + timeout_ms;
	bool timed_out = false, exited = false;
	int status = 0, reads_after_exit = 0;
	/* Until EOF, or the command's exit: a daemon it started may hold
	 * the pipe open for ever. */
	for (;;) {
		if (!exited && now_ms() >= deadline) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		struct pollfd pfd = {p[0], POLLIN, 0};
		int r = poll(&pfd, 1, 50);
		if (r > 0 && exited && ++reads_after_exit > 64)
			break; /* something it left behind keeps writing */
		if (r > 0) {
			char scratch[4096];
			char *dst = len + 1 < size ? out + len : scratch;
			size_t room = len + 1 < size ? size - 1 - len
						     : sizeof(scratch);
			ssize_t n = read(p[0], dst, room);
			if (n == 0)
				break;
			if (n > 0 && dst != scratch)
				len += (size_t)n;
			continue;
		}
		if (exited)
			break; /* drained what the command wrote */
		if (waitpid(pid, &status, WNOHANG) == pid)
			exited = true;
	}
	close(p[0]);
	if (!exited)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	out[len] = '\0';
	if (timed_out) {
		snprintf(out + len, size - len, "%s(%s killed after %u s)",
			 len ? "\n" : "", argv[0], timeout_ms / 1000);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

pid_t net_spawn(const char *const *argv, const char *log)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		net_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);
		if (null < 0 || fd < 0)
			_exit(126);
		dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		exec_child(argv);
	}
	return pid;
}

void net_guest_argv(const struct net_guest *g, const char **argv, size_t max,
		    ...)
{
	size_t n = 0;
	for (size_t i = 0; g->prefix[i] && n + 1 < max; i++)
		argv[n++] = g->prefix[i];
	va_list ap;
	va_start(ap, max);
	for (const char *a; (a = va_arg(ap, const char *));) {
		if (n + 1 >= max)
			net_fatal("internal: command too long for %s",
				  g->label);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
}

void net_must(const char *what, const char *const *argv)
{
	static char out[8192];
	int status = net_run(argv, NET_STEP_TIMEOUT_MS, out, sizeof(out));
	if (status != 0) {
		size_t len = strlen(out);
		while (len && out[len - 1] == '\n')
			out[--len] = '\0';
		net_fatal("%s: `%s ...` failed: %s", what, argv[0],
			  len ? out : "(no output)");
	}
}

#define MUST(what, ...) net_must(what, (const char *const[]){__VA_ARGS__, NULL})

/* ---- namespaces ---- */

static int home_ns = -1;

int net_ns_enter(const char *netns)
{
	char path[PATH_MAX];
	if (home_ns < 0)
		home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return rc;
}

int net_ns_home(void)
{
	if (home_ns < 0)
		return 0;
	return setns(home_ns, CLONE_NEWNET) ? -errno : 0;
}

static void enter_or_die(const char *netns)
{
	int rc = net_ns_enter(netns);
	if (rc < 0)
		net_fatal("cannot enter namespace %s: %s", netns,
			  strerror(-rc));
}

static void home_or_die(void)
{
	int rc = net_ns_home();
	if (rc < 0)
		net_fatal("cannot return to the initial namespace: %s",
			  strerror(-rc));
}

/* Whether something listens on TCP port in netns (IPv4 or IPv6). */
static bool listening(const char *netns, unsigned port)
{
	bool found = false;
	enter_or_die(netns);
	static const char *const tables[] = {"/proc/self/net/tcp",
					     "/proc/self/net/tcp6"};
	for (size_t t = 0; t < 2 && !found; t++) {
		FILE *f = fopen(tables[t], "r");
		char line[512];
		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f)) {
			char local[64];
			unsigned state;
			if (sscanf(line, " %*d: %63s %*s %x", local, &state) !=
			    2)
				continue;
			const char *colon = strrchr(local, ':');
			found = colon && state == 0x0A &&
				strtoul(colon + 1, NULL, 16) == port;
		}
		fclose(f);
	}
	home_or_die();
	return found;
}

bool net_tcp_reaches(const struct net_guest *from, const struct net_guest *to,
		     unsigned port, unsigned timeout_ms, char *err, size_t size)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, to->addr, &sa.sin_addr);
	uint64_t deadline = now_ms() + timeout_ms;
	int last = ETIMEDOUT;
	do {
		/* A socket belongs to the namespace it was made in. */
		enter_or_die(from->netns);
		int fd = socket(AF_INET,
				SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		home_or_die();
		if (fd < 0)
			net_fatal("socket: %s", strerror(errno));
		int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		if (rc < 0 && errno == EINPROGRESS) {
			struct pollfd pfd = {fd, POLLOUT, 0};
			if (poll(&pfd, 1, 1000) == 1) {
				socklen_t len = sizeof(last);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &last,
					   &len);
				rc = last ? -1 : 0;
			} else {
				last = ETIMEDOUT;
			}
		} else if (rc < 0) {
			last = errno;
		}
		close(fd);
		if (rc == 0)
			return true;
		if (last != ETIMEDOUT)
			usleep(100000);
	} while (now_ms() < deadline);
	snprintf(err, size,
		 "a TCP connection from %s (%s) to %s:%u failed for %u s: "
		 "last error: %s",
		 from->label, from->addr, to->addr, port, timeout_ms / 1000,
		 strerror(last));
	return false;
}

/* ---- building the paths ---- */

static void record_netns(struct net_cleanup *rec, const char *name)
{
	if (rec->n_netns >= NET_MAX_NETNS)
		net_fatal("internal: more than %d namespaces", NET_MAX_NETNS);
	snprintf(rec->netns[rec->n_netns], sizeof(rec->netns[0]), "%s", name);
	__atomic_add_fetch(&rec->n_netns, 1, __ATOMIC_SEQ_CST);
}

/* A fresh namespace pvbench-<id>-<tag>, recorded before it exists. */
static void add_netns(struct net_cleanup *rec, const char *tag, char *name,
		      size_t size)
{
	snprintf(name, size, "pvbench-%s-%s", rec->run_id, tag);
	record_netns(rec, name);
	MUST("create a namespace", "ip", "netns", "add", name);
	MUST("bring up lo", "ip", "-n", name, "link", "set", "lo", "up");
}

static void netns_guest(struct net_guest *g, const char *label,
			const char *netns, const char *addr)
{
	snprintf(g->label, sizeof(g->label), "%s", label);
	snprintf(g->netns, sizeof(g->netns), "%s", netns);
	snprintf(g->addr, sizeof(g->addr), "%s", addr);
	g->prefix[0] = "ip";
	g->prefix[1] = "netns";
	g->prefix[2] = "exec";
	g->prefix[3] = g->netns;
	g->prefix[4] = NULL;
}

/* eth0 up with its address, through the guest's own prefix. */
static void guest_address(const struct net_guest *g)
{
	const char *argv[16];
	char cidr[32];
	snprintf(cidr, sizeof(cidr), "%s/24", g->addr);
	net_guest_argv(g, argv, 16, "ip", "addr", "add", cidr, "dev", "eth0",
		       NULL);
	net_must("address eth0", argv);
	net_guest_argv(g, argv, 16, "ip", "link", "set", "eth0", "up", NULL);
	net_must("bring up eth0", argv);
}

/* A namespace with the bridge br0, up. */
static void host_with_bridge(struct net_cleanup *rec, const char *tag,
			     char *name, size_t size)
{
	add_netns(rec, tag, name, size);
	MUST("create the bridge", "ip", "-n", name, "link", "add", "br0",
	     "type", "bridge");
	MUST("bring up the bridge", "ip", "-n", name, "link", "set", "br0",
	     "up");
}

static void setup_bridge(struct net_path *p, struct net_cleanup *rec)
{
	static const char *const tags[2] = {"b1", "b2"},
				 *const ports[2] = {"veth0", "veth1"},
				 *const addrs[2] = {"169.254.3.1",
						    "169.254.3.2"};
	char host[64], guest[64];
	host_with_bridge(rec, "bh", host, sizeof(host));
	for (int i = 0; i < 2; i++) {
		const char *port = ports[i];
		add_netns(rec, tags[i], guest, sizeof(guest));
		MUST("create a veth pair", "ip", "-n", host, "link", "add",
		     port, "type", "veth", "peer", "name", "eth0", "netns",
		     guest);
		MUST("enslave the veth", "ip", "-n", host, "link", "set", port,
		     "master", "br0", "up");
		netns_guest(&p->guest[i], i ? "beta" : "alpha", guest,
			    addrs[i]);
		guest_address(&p->guest[i]);
	}
}

static void setup_relay(struct net_path *p, struct net_cleanup *rec)
{
	static const char *const tags[2] = {"r1", "r2"},
				 *const ports[2] = {"tap0", "tap1"},
				 *const addrs[2] = {"169.254.2.1",
						    "169.254.2.2"};
	char host[64], guest[64];
	host_with_bridge(rec, "rh", host, sizeof(host));
	for (int i = 0; i < 2; i++) {
		const char *port = ports[i];
		add_netns(rec, tags[i], guest, sizeof(guest));
		p->relay[i] = net_relay_start(guest, host, port,
					      &p->relay_counters[i]);
		MUST("enslave the relay's TAP", "ip", "-n", host, "link", "set",
		     port, "master", "br0", "up");
		netns_guest(&p->guest[i], i ? "beta" : "alpha", guest,
			    addrs[i]);
		guest_address(&p->guest[i]);
	}
}

void net_log_tail(const char *path, char *out, size_t size)
{
	char buf[16384];
	out[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	if (fseek(f, -(long)(sizeof(buf) - 1), SEEK_END))
		rewind(f); /* shorter than buf */
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *start = buf;
	int lines = 0;
	for (size_t i = n; i-- > 0;)
		if (buf[i] == '\n' && i + 1 < n && ++lines == 6) {
			start = buf + i + 1;
			break;
		}
	snprintf(out, size, "\n  %s:\n%.*s", path, (int)size / 2, start);
}

void net_pvio_fail(const char *rundir, const unsigned *domids, size_t n,
		   const char *why)
{
	static char logs[16384];
	char path[PATH_MAX + 64];
	size_t len = 0, each = sizeof(logs) / 8;
	snprintf(path, sizeof(path), "%s/netback.log", rundir);
	net_log_tail(path, logs, each);
	len = strlen(logs);
	/* Each guest's NIC: a pvio-netfront, or an emulated NIC's guest
	 * driver and device model (a missing log adds nothing). */
	static const char *const nic_logs[] = {"%s/domain-%u-netfront.log",
					       "%s/domain-%u-ioemu-0.log",
					       "%s/ioemu-%u.0-dm.log"};
	for (size_t i = 0; i < n && i < 2; i++)
		for (size_t k = 0; k < sizeof(nic_logs) / sizeof(nic_logs[0]);
		     k++) {
			snprintf(path, sizeof(path), nic_logs[k], rundir,
				 domids[i]);
			net_log_tail(path, logs + len, each);
			len += strlen(logs + len);
		}
	net_fatal("pvio path: no traffic between the guests: %s%s", why, logs);
}

__attribute__((noreturn)) static void pvio_fail(const struct net_path *p,
						const char *why)
{
	net_pvio_fail(p->pvio_rundir, p->domid, 2, why);
}

/* Runs a pvio command that must succeed; a failure is the pvio path's
 * (domids: the guests whose logs say why). */
static void pvio_must_for(const char *rundir, const unsigned *domids, size_t n,
			  const char *const *argv)
{
	static char out[8192], why[9000];
	if (net_run(argv, NET_STEP_TIMEOUT_MS, out, sizeof(out)) == 0)
		return;
	size_t len = strlen(out);
	while (len && out[len - 1] == '\n')
		out[--len] = '\0';
	snprintf(why, sizeof(why), "`pvio %s %s` failed: %s", argv[3],
		 argv[4] ? argv[4] : "", len ? out : "(no output)");
	net_pvio_fail(rundir, domids, n, why);
}

/* domid and namespace of the guest called name, from the host's domain
 * records (docs/toolstack.md). */
static bool pvio_domain(const char *rundir, const char *name, unsigned *domid,
			char *netns, size_t size)
{
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/domains", rundir);
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	for (struct dirent *e; !found && (e = readdir(d));) {
		char path[PATH_MAX + 300], line[256], want[64];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(want, sizeof(want), "name=%s\n", name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		bool named = false;
		netns[0] = '\0';
		while (fgets(line, sizeof(line), f)) {
			named |= !strcmp(line, want);
			if (!strncmp(line, "netns=", 6)) {
				snprintf(netns, size, "%.*s", (int)size - 1,
					 line + 6);
				netns[strcspn(netns, "\n")] = '\0';
			}
		}
		fclose(f);
		found = named && netns[0];
		*domid = (unsigned)strtoul(e->d_name, NULL, 10);
	}
	closedir(d);
	return found;
}

/* The id a pvio host recorded in <rundir>/host (its namespaces carry
 * it); false when there is none. */
static bool pvio_host_id(const char *rundir, char *id, size_t size)
{
	char line[128], path[PATH_MAX + 8], fmt[16];
	bool found = false;
	snprintf(path, sizeof(path), "%s/host", rundir);
	snprintf(fmt, sizeof(fmt), "id=%%%zus", size - 1);
	FILE *f = fopen(path, "r");
	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, fmt, id) == 1;
	if (f)
		fclose(f);
	return found;
}

void net_pvio_host_start(struct net_cleanup *rec, const char *rundir)
{
	snprintf(rec->pvio_rundir, sizeof(rec->pvio_rundir), "%s", rundir);
	pvio_must_for(rundir, NULL, 0,
		      (const char *const[]){rec->pvio, "--rundir", rundir,
					    "host", "start", NULL});
	char host_id[32];
	if (pvio_host_id(rundir, host_id, sizeof(host_id)))
		fprintf(stderr, "  pvio host %s (namespaces pvio-%s-*)\n",
			host_id, host_id);
}

/* g runs commands through `pvio --rundir DIR exec WHO --` (DIR and pvio
 * outlive g). */
static void pvio_prefix(struct net_guest *g, const char *pvio,
			const char *rundir, const char *who)
{
	g->prefix[0] = pvio;
	g->prefix[1] = "--rundir";
	g->prefix[2] = rundir;
	g->prefix[3] = "exec";
	g->prefix[4] = who;
	g->prefix[5] = "--";
	g->prefix[6] = NULL;
}

void net_pvio_guest_create(const struct net_cleanup *rec, const char *rundir,
			   const char *name, const char *addr,
			   struct net_guest *g, unsigned *domid)
{
	char arg[32];
	snprintf(arg, sizeof(arg), "name=%s", name);
	pvio_must_for(rundir, NULL, 0,
		      (const char *const[]){rec->pvio, "--rundir", rundir,
					    "create", arg, NULL});
	snprintf(g->label, sizeof(g->label), "%s", name);
	if (!pvio_domain(rundir, name, domid, g->netns, sizeof(g->netns)))
		net_pvio_fail(rundir, NULL, 0,
			      "no domain record for a guest pvio created");
	snprintf(g->addr, sizeof(g->addr), "%s", addr);
	pvio_prefix(g, rec->pvio, rundir, g->label);
}

void net_pvio_guest_attach(const struct net_cleanup *rec, const char *rundir,
			   const struct net_guest *g, unsigned domid)
{
	pvio_must_for(rundir, &domid, 1,
		      (const char *const[]){rec->pvio, "--rundir", rundir,
					    "network-attach", g->label, NULL});
}

void net_pvio_guest_up(const char *rundir, const struct net_guest *g,
		       unsigned domid)
{
	/* pvio-netfront creates eth0 in the guest once it sees the vif. */
	const char *argv[16];
	static char out[4096];
	net_guest_argv(g, argv, 16, "ip", "link", "show", "eth0", NULL);
	uint64_t deadline = now_ms() + NET_READY_TIMEOUT_MS;
	while (net_run(argv, NET_STEP_TIMEOUT_MS, out, sizeof(out))) {
		if (now_ms() >= deadline) {
			char why[256];
			snprintf(why, sizeof(why),
				 "pvio-netfront made no eth0 in %s (domain %u) "
				 "within %d s",
				 g->label, domid, NET_READY_TIMEOUT_MS / 1000);
			net_pvio_fail(rundir, &domid, 1, why);
		}
		usleep(100000);
	}
	guest_address(g);
}

bool net_pvio_dom0(const struct net_cleanup *rec, const char *rundir,
		   const char *addr, struct net_guest *g)
{
	char host_id[32];
	if (!pvio_host_id(rundir, host_id, sizeof(host_id)))
		return false;
	snprintf(g->label, sizeof(g->label), "dom0");
	snprintf(g->netns, sizeof(g->netns), "pvio-%s-dom0", host_id);
	snprintf(g->addr, sizeof(g->addr), "%s", addr);
	pvio_prefix(g, rec->pvio, rundir, "0");
	return true;
}

/* The pvio path and the emu paths share one private host (the cleanup
 * knows one): the first of them starts it. Each has its own two guests and
 * subnet on its xenbr0. */
static void setup_pvio(struct net_path *p, struct net_cleanup *rec)
{
	bool emu = p->kind == NET_PATH_EMU || p->kind == NET_PATH_EMU_RTL;
	bool rtl = p->kind == NET_PATH_EMU_RTL;
	const char *dir = p->pvio_rundir;
	snprintf(p->pvio_rundir, sizeof(p->pvio_rundir), "%s/pvio",
		 rec->tmpdir);
	if (!rec->pvio_rundir[0])
		net_pvio_host_start(rec, dir);
	for (int i = 0; i < 2; i++) {
		const char *name = rtl	 ? (i ? "rtl-beta" : "rtl-alpha")
				   : emu ? (i ? "emu-beta" : "emu-alpha")
					 : (i ? "beta" : "alpha");
		/* Subnets of their own on the shared xenbr0
		 * (docs/performance.md): two pairs with one address would
		 * answer for each other. */
		const char *const addrs[3][2] = {
			{"169.254.1.1", "169.254.1.2"},
			{"169.254.4.1", "169.254.4.2"},
			{"169.254.5.1", "169.254.5.2"}};
		const char *addr = addrs[rtl ? 2 : emu ? 1 : 0][i];
		net_pvio_guest_create(rec, dir, name, addr, &p->guest[i],
				      &p->domid[i]);
		if (emu)
			pvio_must_for(
				dir, &p->domid[i], 1,
				(const char *const[]){
					rec->pvio, "--rundir", dir,
					"network-attach", name, "type=ioemu",
					rtl ? "model=rtl8139" : "model=e1000",
					NULL});
		else
			net_pvio_guest_attach(rec, dir, &p->guest[i],
					      p->domid[i]);
	}
	/* pvio-netfront (or pvio-ioemu-nic) creates eth0 in each guest once
	 * it sees its device. */
	for (int i = 0; i < 2; i++)
		net_pvio_guest_up(dir, &p->guest[i], p->domid[i]);
}

pid_t net_server_start(const struct net_guest *srv, enum net_server kind,
		       unsigned port, const char *log)
{
	static const char *const names[2] = {"iperf3", "sockperf"};
	const char *argv[24];
	char porttext[8];
	snprintf(porttext, sizeof(porttext), "%u", port);
	if (kind == NET_SERVER_IPERF3)
		net_guest_argv(srv, argv, 24, "iperf3", "-s", "-B", srv->addr,
			       "-p", porttext, NULL);
	else
		net_guest_argv(srv, argv, 24, "sockperf", "server", "--tcp",
			       "-i", srv->addr, "-p", porttext, NULL);
	pid_t pid = net_spawn(argv, log);
	uint64_t deadline = now_ms() + NET_READY_TIMEOUT_MS;
	while (!listening(srv->netns, port)) {
		char tail[2048];
		if (waitpid(pid, NULL, WNOHANG) == pid ||
		    now_ms() >= deadline) {
			net_log_tail(log, tail, sizeof(tail));
			net_fatal("%s in %s is not listening on port %u%s",
				  names[kind], srv->label, port, tail);
		}
		usleep(50000);
	}
	return pid;
}

/* The servers in the second guest, listening before this returns. */
static void start_servers(struct net_path *p, const char *tmpdir)
{
	char log[PATH_MAX];
	snprintf(log, sizeof(log), "%s/%s-iperf3.log", tmpdir, p->name);
	p->servers[0] = net_server_start(&p->guest[1], NET_SERVER_IPERF3,
					 NET_IPERF_PORT, log);
	snprintf(log, sizeof(log), "%s/%s-sockperf.log", tmpdir, p->name);
	p->servers[1] = net_server_start(&p->guest[1], NET_SERVER_SOCKPERF,
					 NET_SOCKPERF_PORT, log);
}

void net_path_setup(struct net_path *p, struct net_cleanup *rec)
{
	switch (p->kind) {
	case NET_PATH_PVIO:
	case NET_PATH_EMU:
	case NET_PATH_EMU_RTL:
		setup_pvio(p, rec);
		break;
	case NET_PATH_RELAY:
		setup_relay(p, rec);
		break;
	case NET_PATH_BRIDGE:
		setup_bridge(p, rec);
		break;
	}
	start_servers(p, rec->tmpdir);
	char err[512];
	if (!net_tcp_reaches(&p->guest[0], &p->guest[1], NET_SOCKPERF_PORT,
			     NET_READY_TIMEOUT_MS, err, sizeof(err))) {
		if (p->kind == NET_PATH_PVIO || p->kind == NET_PATH_EMU ||
		    p->kind == NET_PATH_EMU_RTL)
			pvio_fail(p, err);
		net_fatal("%s path: no traffic between the guests: %s", p->name,
			  err);
	}
}

/* ---- cleanup (in the supervisor, after the worker ended) ---- */

/* Whether pid's environment carries marker (NAME=VALUE). */
static bool has_marker(pid_t pid, const char *marker)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	static char env[256 * 1024];
	ssize_t n = read(fd, env, sizeof(env) - 1);
	close(fd);
	if (n <= 0)
		return false;
	env[n] = '\0';
	size_t mlen = strlen(marker);
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(env + i) + 1)
		if (!strncmp(env + i, marker, mlen) && env[i + mlen] == '\0')
			return true;
	return false;
}

static void proc_comm(pid_t pid, char *comm, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	FILE *f = fopen(path, "r");
	comm[0] = '\0';
	if (f) {
		if (fgets(comm, (int)size, f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
}

/*
 * SIGKILL every process carrying the run's marker; with report, name each
 * (they should have been gone). A pvio host's own daemons are spared when
 * report is false: `pvio host stop` stops them in order.
 */
unsigned net_kill_marked(const char *run_id, bool report)
{
	char marker[64];
	unsigned killed = 0;
	snprintf(marker, sizeof(marker), "%s=%s", NET_RUN_ENV, run_id);
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 1 || pid == getpid() ||
		    !has_marker((pid_t)pid, marker))
			continue;
		char comm[32];
		proc_comm((pid_t)pid, comm, sizeof(comm));
		if (!report && (!strcmp(comm, "pvio-xenstored") ||
				!strcmp(comm, "pvio-netback")))
			continue;
		if (report)
			fprintf(stderr,
				"pvio-bench net: cleanup: killing leftover "
				"process %ld (%s)\n",
				pid, comm);
		kill((pid_t)pid, SIGKILL);
		killed++;
	}
	closedir(d);
	return killed;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

/* Namespaces named <prefix>* (a pvio host's, whatever stop left). */
static unsigned delete_netns_prefixed(const char *prefix)
{
	unsigned n = 0;
	DIR *d = opendir("/run/netns");
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		char out[1024];
		fprintf(stderr, "pvio-bench net: cleanup: %s was left\n",
			e->d_name);
		net_run((const char *const[]){"ip", "netns", "delete",
					      e->d_name, NULL},
			NET_STEP_TIMEOUT_MS, out, sizeof(out));
		n++;
	}
	closedir(d);
	return n;
}

unsigned net_cleanup_run(struct net_cleanup *rec)
{
	unsigned problems = 0;
	static char out[16384];

	/* Clients, servers, relays and half-done pvio commands first, so
	 * that nothing holds the pvio host's lock or a TAP. */
	net_kill_marked(rec->run_id, false);
	if (rec->pvio_rundir[0]) {
		char host_id[32] = "";
		bool started = pvio_host_id(rec->pvio_rundir, host_id,
					    sizeof(host_id));
		if (started &&
		    net_run((const char *const[]){rec->pvio, "--rundir",
						  rec->pvio_rundir, "host",
						  "stop", NULL},
			    60000, out, sizeof(out))) {
			fprintf(stderr,
				"pvio-bench net: cleanup: pvio host stop "
				"failed: %s\n",
				out);
			problems++;
		}
		if (started) {
			char prefix[64];
			snprintf(prefix, sizeof(prefix), "pvio-%s-", host_id);
			problems += delete_netns_prefixed(prefix);
		}
	}
	for (unsigned i = 0; i < rec->n_netns && i < NET_MAX_NETNS; i++) {
		char path[128];
		snprintf(path, sizeof(path), "/run/netns/%s", rec->netns[i]);
		if (access(path, F_OK))
			continue;
		if (net_run((const char *const[]){"ip", "netns", "delete",
						  rec->netns[i], NULL},
			    NET_STEP_TIMEOUT_MS, out, sizeof(out))) {
			fprintf(stderr,
				"pvio-bench net: cleanup: cannot delete "
				"namespace %s: %s\n",
				rec->netns[i], out);
			problems++;
		}
	}
	problems += net_kill_marked(rec->run_id, true);
	if (rec->tmpdir[0] &&
	    nftw(rec->tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) &&
	    errno != ENOENT) {
		fprintf(stderr,
			"pvio-bench net: cleanup: cannot remove %s: %s\n",
			rec->tmpdir, strerror(errno));
		problems++;
	}
	return problems;
}
