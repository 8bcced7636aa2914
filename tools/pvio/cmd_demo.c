/*
 * `pvio demo`: the main job in one command. A sim host, two guests with a
 * vif each on xenbr0, the xenstore layout of one vif, pings both ways, a
 * short comparison sweep (pvio-bench sweep), then the host stops again
 * (--keep: it stays, with the commands to use and stop it).
 *
 * Each step runs the pvio verb a user would type, by running this very
 * binary, and shows that command: the demo is also the tutorial. Steps
 * are numbered; a failing one says what failed, which log to read and
 * what to try next.
 */
#include "config.h"

#include "commands.h"
#include "domain.h"
#include "files.h"
#include "host.h"
#include "msg.h"
#include "options.h"
#include "proc.h"
#include "programs.h"
#include "store.h"
#include "vif.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEMO_STEPS 7

/* The two guests: names, MACs (Xen's OUI) and link-local addresses. */
static const struct demo_guest {
	const char *name, *mac, *addr;
} guests[2] = {
	{"demo-a", "00:16:3e:de:00:01", "169.254.222.1"},
	{"demo-b", "00:16:3e:de:00:02", "169.254.222.2"},
};

struct demo {
	char self[PATH_MAX]; /* this pvio */
	char out[PATH_MAX];  /* the sweep's results */
	bool keep, private_rundir, host_started;
	int step;
	const char *step_title;
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void step(struct demo *d, const char *title)
{
	d->step++;
	d->step_title = title;
	printf("\n[%d/%d] %s\n", d->step, DEMO_STEPS, title);
	fflush(stdout);
}

/* Text indented under a step. */
static void indented(const char *text)
{
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		printf("      %.*s\n", (int)n, p);
		p += n + (nl ? 1 : 0);
	}
	fflush(stdout);
}

/* What to read and do when step d->step failed: why, the logs, next. */
static void failed(struct demo *d, const char *next, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void failed(struct demo *d, const char *next, const char *fmt, ...)
{
	char what[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr,
		"\npvio demo: step %d/%d (%s) failed: %s\n"
		"  logs:  %s/xenstored.log, %s/netback.log, "
		"%s/domain-<id>-netfront.log\n"
		"  next:  %s\n",
		d->step, DEMO_STEPS, d->step_title, what, g_opts.rundir,
		g_opts.rundir, g_opts.rundir, next);
}

/* `pvio ARGS...` (this binary, the demo's host): shown, run, its output
 * indented below. The exit status, with the output in out. */
static int pvio_run(struct demo *d, char *out, size_t outlen, bool show_output,
		    ...)
{
	char *argv[16];
	int n = 0;
	argv[n++] = d->self;
	va_list ap;
	va_start(ap, show_output);
	for (char *a; n < 15 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	printf("    $ pvio");
	for (int i = 1; i < n; i++)
		printf(" %s", argv[i]);
	printf("\n");
	fflush(stdout);
	int rc = run_cmd(argv, out, outlen);
	if (show_output && *out)
		indented(out);
	return rc;
}

/* The first line of out, for one-line messages. */
static const char *first_line(char *out)
{
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = 0;
	return *out ? out : "no output";
}

static int start_host(struct demo *d)
{
	step(d, "Starting a sim host: pvio-xenstored, bridge xenbr0, "
		"pvio-netback (dom0)");
	char out[4096];
	int rc = pvio_run(d, out, sizeof(out), true, "host", "start", NULL);
	if (rc == 0 && strstr(out, "already running")) {
		failed(d,
		       "stop it (`pvio host stop`) or run `pvio demo` "
		       "without --rundir (a private host)",
		       "a host is already running under %s", g_opts.rundir);
		return -1;
	}
	if (rc) {
		failed(d,
		       "run it alone (`pvio --rundir DIR host start`); "
		       "`pvio host status` shows what runs",
		       "`pvio host start` exited with status %d: %s", rc,
		       first_line(out));
		return -1;
	}
	d->host_started = true;
	return 0;
}

static int create_guests(struct demo *d)
{
	step(d, "Creating two guests (each a network namespace running "
		"pvio-netfront)");
	for (int i = 0; i < 2; i++) {
		char out[4096], arg[64];
		snprintf(arg, sizeof(arg), "name=%s", guests[i].name);
		int rc = pvio_run(d, out, sizeof(out), true, "create", arg,
				  NULL);
		if (rc) {
			failed(d,
			       "`pvio host status` shows whether the host "
			       "runs; `pvio list` which domains exist",
			       "`pvio create %s` exited with status %d: %s",
			       arg, rc, first_line(out));
			return -1;
		}
	}
	char out[4096];
	if (pvio_run(d, out, sizeof(out), true, "list", NULL)) {
		failed(d, "`pvio host status` shows whether xenstored runs",
		       "`pvio list` failed: %s", first_line(out));
		return -1;
	}
	return 0;
}

/* Reads a vif node of domid, or NULL. */
static char *vif_node(unsigned domid, bool backend, const char *key)
{
	struct pvio_xenbus *xb = pvio_store_connect();
	if (!xb)
		return NULL;
	char *dir = backend ? vif_be_path(domid, 0) : vif_fe_path(domid, 0);
	char *v = pvio_store_readf(pvio_xenbus_handle(xb), XBT_NULL, "%s/%s",
				   dir, key);
	free(dir);
	pvio_xenbus_close(xb);
	return v;
}

static bool is_connected(unsigned domid, bool backend)
{
	char *s = vif_node(domid, backend, "state");
	bool ok = s && !strcmp(s, "4");
	free(s);
	return ok;
}

/* eth0 exists and is up inside the guest's namespace. */
static bool eth0_up(const struct host *host, unsigned domid)
{
	char netns[64], out[1024];
	guest_netns(host, domid, netns, sizeof(netns));
	char *argv[] = {"ip",  "-n",   netns, "link", "show",
			"dev", "eth0", "up",  NULL};
	return run_cmd(argv, out, sizeof(out)) == 0 && strstr(out, "eth0");
}

/* Both ends of vif domid.0 Connected and the guest's eth0 up: a bounded
 * wait (the command timeout). */
static int wait_vif_ready(struct demo *d, const struct host *host,
			  unsigned domid, const char *name)
{
	for (int waited = 0; waited < pvio_timeout_ms(); waited += 50) {
		if (interrupted)
			return -1;
		if (is_connected(domid, true) && is_connected(domid, false) &&
		    eth0_up(host, domid))
			return 0;
		sleep_ms(50);
	}
	char *be = vif_node(domid, true, "state");
	char *fe = vif_node(domid, false, "state");
	char next[PATH_MAX + 128];
	snprintf(next, sizeof(next),
		 "read %s/domain-%u-netfront.log (the guest's driver) "
		 "and netback.log",
		 host->rundir, domid);
	failed(d, next,
	       "vif%u.0 of %s did not connect within %d s (backend state "
	       "%s, frontend state %s; 4 is Connected)",
	       domid, name, g_opts.timeout_s, be ? be : "none",
	       fe ? fe : "none");
	free(be);
	free(fe);
	return -1;
}

static int domid_of(const char *name, unsigned *domid)
{
	struct pvio_xenbus *xb = pvio_store_connect();
	if (!xb)
		return -1;
	int rc = resolve_domain(pvio_xenbus_handle(xb), name, domid);
	pvio_xenbus_close(xb);
	return rc;
}

static int attach_vifs(struct demo *d, const struct host *host,
		       unsigned domids[2])
{
	step(d, "Attaching a vif to each guest on xenbr0, with an address");
	for (int i = 0; i < 2; i++) {
		const struct demo_guest *g = &guests[i];
		char out[4096], mac[64], cidr[32];
		snprintf(mac, sizeof(mac), "mac=%s", g->mac);
		snprintf(cidr, sizeof(cidr), "%s/24", g->addr);
		int rc = pvio_run(d, out, sizeof(out), true, "network-attach",
				  (char *)g->name, mac, "bridge=xenbr0", NULL);
		if (rc) {
			failed(d,
			       "netback.log says what the backend did; `pvio "
			       "network-list` shows the vifs",
			       "`pvio network-attach %s` exited with status "
			       "%d: %s",
			       g->name, rc, first_line(out));
			return -1;
		}
		if (domid_of(g->name, &domids[i]) ||
		    wait_vif_ready(d, host, domids[i], g->name))
			return -1;
		rc = pvio_run(d, out, sizeof(out), true, "exec",
			      (char *)g->name, "--", "ip", "addr", "add", cidr,
			      "dev", "eth0", NULL);
		if (rc) {
			failed(d, "the guest's eth0 is its pvio-netfront's TAP",
			       "cannot give %s's eth0 the address %s: %s",
			       g->name, cidr, first_line(out));
			return -1;
		}
	}
	for (int i = 0; i < 2; i++) {
		char netns[64];
		guest_netns(host, domids[i], netns, sizeof(netns));
		printf("    %s: domid %u, eth0 %s, vif%u.0 on xenbr0, network "
		       "namespace %s\n",
		       guests[i].name, domids[i], guests[i].addr, domids[i],
		       netns);
	}
	if (host->dom0_netns[0])
		printf("    dom0 (xenbr0, the vifs, pvio-netback): network "
		       "namespace %s\n",
		       host->dom0_netns);
	return 0;
}

/* A vif directory as xenstore-ls shows one, the keys that tell the
 * story first, at most max lines. */
static void show_dir(struct xs_handle *h, const char *dir,
		     const char *const *keys, int max)
{
	unsigned num = 0;
	char **ents = xs_directory(h, XBT_NULL, dir, &num);
	printf("    %s:\n", dir);
	int shown = 0;
	for (int k = 0; keys[k] && shown < max; k++) {
		char *v = pvio_store_readf(h, XBT_NULL, "%s/%s", dir, keys[k]);
		if (!v)
			continue;
		printf("     %s = \"%s\"\n", keys[k], v);
		free(v);
		shown++;
	}
	if (num > (unsigned)shown)
		printf("     ... %u more (xenstore-ls %s)\n",
		       num - (unsigned)shown, dir);
	free(ents);
}

static int show_xenstore(struct demo *d, const struct host *host,
			 unsigned domid)
{
	step(d, "The xenstore layout of one vif (as xenstore-ls shows it)");
	struct pvio_xenbus *xb = pvio_store_connect();
	if (!xb) {
		failed(d, "`pvio host status` shows whether xenstored runs",
		       "cannot reach pvio-xenstored at %s", host->xs_socket);
		return -1;
	}
	struct xs_handle *h = pvio_xenbus_handle(xb);
	static const char *const be_keys[] = {
		"frontend", "frontend-id",    "state",	"online", "mac",
		"bridge",   "hotplug-status", "script", NULL};
	static const char *const fe_keys[] = {
		"backend",	 "backend-id",	    "state",
		"mac",		 "tx-ring-ref",	    "rx-ring-ref",
		"event-channel", "request-rx-copy", NULL};
	char *be = vif_be_path(domid, 0), *fe = vif_fe_path(domid, 0);
	printf("    the backend's directory (dom0 reads and writes it; the "
	       "guest may read it):\n");
	show_dir(h, be, be_keys, 8);
	printf("    the frontend's directory (the guest writes its rings' "
	       "grant references and event channel there):\n");
	show_dir(h, fe, fe_keys, 8);
	printf("    the whole tree (with --keep): XENSTORED_PATH=%s "
	       "xenstore-ls -f\n",
	       host->xs_socket);
	free(be);
	free(fe);
	pvio_xenbus_close(xb);
	return 0;
}

/* "rtt min/avg/max/mdev = a/b/c/d ms" and "N received" of ping's
 * summary. */
static bool ping_summary(const char *out, int *received, double rtt[3])
{
	const char *r = strstr(out, " received");
	const char *t = strstr(out, "min/avg/max");
	if (!r || !t)
		return false;
	while (r > out && r[-1] >= '0' && r[-1] <= '9')
		r--;
	*received = atoi(r);
	t = strchr(t, '=');
	return t &&
	       sscanf(t + 1, "%lf/%lf/%lf", &rtt[0], &rtt[1], &rtt[2]) == 3;
}

static int ping_across(struct demo *d)
{
	step(d, "Pinging across, both ways (guest to guest through "
		"netfront, netback and xenbr0)");
	for (int i = 0; i < 2; i++) {
		const struct demo_guest *from = &guests[i], *to = &guests[!i];
		char out[4096];
		/* -w: a bound; ping keeps sending until it has its replies. */
		int rc = pvio_run(d, out, sizeof(out), false, "exec",
				  (char *)from->name, "--", "ping", "-q", "-c",
				  "5", "-i", "0.2", "-w", "20",
				  (char *)to->addr, NULL);
		int received = 0;
		double rtt[3];
		if (rc || !ping_summary(out, &received, rtt)) {
			indented(out);
			failed(d,
			       "`pvio network-stats` shows what netback "
			       "counted (drops, errors); netback.log why",
			       "%s cannot ping %s (%s): ping exited with "
			       "status %d",
			       from->name, to->name, to->addr, rc);
			return -1;
		}
		printf("    %s -> %s: %d of 5 replies, round trip %.3f ms "
		       "(min %.3f, max %.3f)\n",
		       from->name, to->name, received, rtt[1], rtt[0], rtt[2]);
	}
	return 0;
}

/* PVIO_BENCH, else pvio-bench next to pvio, in the build tree or where
 * it installs. NULL after a message. */
static char *bench_program(struct demo *d)
{
	const char *env = getenv("PVIO_BENCH");
	if (env && *env)
		return strdup(env);
	char *p = find_program("pvio-bench", "tools");
	if (!p)
		failed(d,
		       "build it (make) or install it (make install); or "
		       "name it with PVIO_BENCH=PATH",
		       "pvio-bench not found next to %s nor in %s", d->self,
		       PVIO_BINDIR);
	return p;
}

/* pvio-bench lists a sweep command (`pvio-bench --help`). */
static bool bench_has_sweep(const char *bench)
{
	char out[4096];
	char *argv[] = {(char *)bench, "--help", NULL};
	if (run_cmd(argv, out, sizeof(out)) != 0)
		return false;
	for (char *line = out; line; line = strchr(line, '\n')) {
		line += *line == '\n';
		while (*line == ' ')
			line++;
		if (!strncmp(line, "sweep", 5) &&
		    (line[5] == ' ' || line[5] == '\t' || !line[5]))
			return true;
	}
	return false;
}

/* bench in the foreground: its progress (stderr) on the terminal, its
 * summary (stdout) into summary_path. The exit status, -1 when it did
 * not run. */
static int run_sweep(struct demo *d, const char *bench,
		     const char *summary_path)
{
	char *argv[] = {(char *)bench, "sweep", "--quick",
			"--out",       d->out,	NULL};
	printf("    $ %s sweep --quick --out %s\n", bench, d->out);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(summary_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		close_extra_fds();
		/* This pvio, and its hotplug scripts, for the sweep's own
		 * host. */
		setenv("PVIO", d->self, 1);
		setenv("PVIO_SCRIPTDIR", hotplug_script_dir(), 0);
		unsetenv("PVIO_RUNDIR");
		unsetenv("XENSTORED_PATH");
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static bool nonempty_file(const char *dir, const char *name)
{
	char *p = pvio_strfmt("%s/%s", dir, name);
	struct stat st;
	bool ok = stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
	free(p);
	return ok;
}

/* 0: done, 1: skipped (no sweep in this pvio-bench), -1: failed. */
static int sweep(struct demo *d)
{
	step(d, "A short comparison sweep: latency and bandwidth against "
		"message size, native and pvio");
	char *bench = bench_program(d);
	if (!bench)
		return -1;
	if (!bench_has_sweep(bench)) {
		printf("    %s has no `sweep` command yet (`%s --help` lists "
		       "what it has);\n"
		       "    skipped. `pvio-bench net` measures the paths at "
		       "one message size.\n",
		       bench, bench);
		free(bench);
		return 1;
	}
	if (mkdir_p(d->out, 0755)) {
		failed(d, "give another directory with --out DIR",
		       "cannot create %s: %s", d->out, strerror(errno));
		free(bench);
		return -1;
	}
	char *summary = pvio_strfmt("%s/summary.txt", d->out);
	int rc = run_sweep(d, bench, summary);
	int result = 0;
	if (rc) {
		char next[PATH_MAX * 2];
		snprintf(next, sizeof(next),
			 "its messages are above, its table in %s; run it "
			 "alone: %s sweep --quick --out %s",
			 summary, bench, d->out);
		failed(d, next, "`pvio-bench sweep` exited with status %d", rc);
		result = -1;
	} else {
		char *text = read_text_file(summary);
		printf("\n    Results (%s):\n", summary);
		indented(text && *text ? text
				       : "(pvio-bench printed no table)");
		free(text);
		/* The CSV is the result; the plots need gnuplot, without
		 * which the sweep still succeeds (and says so). */
		bool plots = nonempty_file(d->out, "latency.png") &&
			     nonempty_file(d->out, "bandwidth.png");
		if (!nonempty_file(d->out, "sweep.csv")) {
			failed(d, "run the sweep alone to see why",
			       "pvio-bench sweep wrote no %s/sweep.csv",
			       d->out);
			result = -1;
		} else if (plots) {
			printf("\n    plots: %s/latency.png\n"
			       "           %s/bandwidth.png\n"
			       "    data:  %s/sweep.csv\n",
			       d->out, d->out, d->out);
		} else {
			printf("\n    data:  %s/sweep.csv\n"
			       "    no plots (gnuplot missing? "
			       "scripts/install-deps.sh installs it)\n",
			       d->out);
		}
	}
	free(summary);
	free(bench);
	return result;
}

/* The host stopped (and, if it was the demo's own, its directory
 * removed when nothing failed). */
static int stop_host(struct demo *d, bool keep_logs)
{
	char out[4096];
	int rc = pvio_run(d, out, sizeof(out), true, "host", "stop", NULL);
	if (rc) {
		failed(d,
		       "run `pvio host stop` again; `pvio host status` "
		       "shows what is left",
		       "`pvio host stop` exited with status %d: %s", rc,
		       first_line(out));
		return -1;
	}
	d->host_started = false;
	if (d->private_rundir && !keep_logs)
		rm_tree(g_opts.rundir);
	else if (d->private_rundir)
		printf("    its logs stay in %s\n", g_opts.rundir);
	return 0;
}

static void how_to_use(const struct demo *d)
{
	printf("    The host keeps running. Use it (as root) with:\n"
	       "      export PVIO_RUNDIR=%s\n"
	       "      pvio list\n"
	       "      pvio network-list %s %s\n"
	       "      pvio exec %s -- ping -c 3 %s\n"
	       "      pvio network-stats %s\n"
	       "    Stop it with:\n"
	       "      pvio --rundir %s host stop\n",
	       g_opts.rundir, guests[0].name, guests[1].name, guests[0].name,
	       guests[1].addr, guests[0].name, g_opts.rundir);
	(void)d;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pvio [--rundir DIR] demo [--keep] [--out DIR]\n"
		"\n"
		"Starts a sim host (in a private run directory unless "
		"--rundir\n"
		"or PVIO_RUNDIR names one), two guests with a vif each on "
		"xenbr0,\n"
		"shows a vif's xenstore nodes, pings both ways, runs "
		"`pvio-bench\n"
		"sweep --quick` and stops the host again.\n"
		"\n"
		"  --keep     leave the host running (and say how to use it)\n"
		"  --out DIR  where the sweep writes its CSV and plots\n"
		"             (default ./pvio-demo-results)\n"
		"  PVIO_BENCH the pvio-bench to run (default: the one next "
		"to pvio)\n");
}

static int demo_options(int argc, char **argv, struct demo *d)
{
	const char *out = "pvio-demo-results";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--keep")) {
			d->keep = true;
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 1;
		} else {
			pvio_err("demo: unknown argument '%s'", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!*out) {
		pvio_err("demo: --out needs a directory");
		return 2;
	}
	char cwd[PATH_MAX];
	if (out[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
		pvio_err("getcwd: %s", strerror(errno));
		return 2;
	}
	int n = out[0] == '/'
			? snprintf(d->out, sizeof(d->out), "%s", out)
			: snprintf(d->out, sizeof(d->out), "%s/%s", cwd, out);
	if (n >= (int)sizeof(d->out)) {
		pvio_err("demo: --out path too long");
		return 2;
	}
	ssize_t len = readlink("/proc/self/exe", d->self, sizeof(d->self) - 1);
	if (len <= 0) {
		pvio_err("cannot find this program (/proc/self/exe): %s",
			 strerror(errno));
		return 2;
	}
	d->self[len] = 0;
	return 0;
}

/* The demo's run directory: the one given, else a private one. */
static int demo_rundir(struct demo *d)
{
	if (g_opts.rundir_given)
		return 0;
	char tmpl[] = "/tmp/pvio-demo.XXXXXX";
	if (!mkdtemp(tmpl)) {
		pvio_err("cannot create a run directory under /tmp: %s",
			 strerror(errno));
		return -1;
	}
	snprintf(g_opts.rundir, sizeof(g_opts.rundir), "%s", tmpl);
	setenv("PVIO_RUNDIR", g_opts.rundir, 1);
	d->private_rundir = true;
	return 0;
}

int cmd_demo(int argc, char **argv)
{
	struct demo d;
	memset(&d, 0, sizeof(d));
	int rc = demo_options(argc, argv, &d);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (geteuid() != 0) {
		pvio_err("demo: needs root (network namespaces, bridges, "
			 "TAPs): sudo pvio demo");
		return 1;
	}
	if (demo_rundir(&d))
		return 1;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	printf("pvio demo: a sim host under %s\n"
	       "(to type the commands below yourself: export "
	       "PVIO_RUNDIR=%s)\n",
	       g_opts.rundir, g_opts.rundir);
	struct host host;
	unsigned domids[2] = {0, 0};
	int swept = 0;
	bool ok = start_host(&d) == 0 && !interrupted &&
		  host_load(&host, false) == 0 && create_guests(&d) == 0 &&
		  !interrupted && attach_vifs(&d, &host, domids) == 0 &&
		  !interrupted && show_xenstore(&d, &host, domids[0]) == 0 &&
		  ping_across(&d) == 0 && !interrupted &&
		  (swept = sweep(&d)) >= 0 && !interrupted;
	if (interrupted) {
		fprintf(stderr, "\npvio demo: interrupted at step %d/%d (%s)\n",
			d.step, DEMO_STEPS, d.step_title);
		ok = false;
	}
	d.step = DEMO_STEPS - 1;
	if (ok && d.keep) {
		step(&d, "Keeping the host (--keep)");
		how_to_use(&d);
	} else if (d.host_started && d.keep) {
		step(&d, "Keeping the host for a look (--keep)");
		how_to_use(&d);
	} else if (d.host_started) {
		step(&d, "Stopping the host");
		if (stop_host(&d, !ok))
			ok = false;
	} else if (d.private_rundir) {
		/* host start failed and undid itself: its logs stay. */
		fprintf(stderr, "pvio demo: the logs stay in %s\n",
			g_opts.rundir);
	}
	if (!ok)
		return 1;
	printf("\npvio demo: done%s.\n",
	       swept == 1 ? " (without the sweep: this pvio-bench has none)"
			  : "");
	return 0;
}
