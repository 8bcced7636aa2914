/* `pvio host start|stop|status`: what dom0 runs on the sim platform
 * (pvio-xenstored, the dom0 nodes, the bridge, pvio-netback), recorded in
 * the run directory so that stop removes exactly what start created. */
#include "config.h"

#include "args.h"
#include "commands.h"
#include "domain.h"
#include "files.h"
#include "host.h"
#include "msg.h"
#include "netns.h"
#include "options.h"
#include "proc.h"
#include "programs.h"
#include "pvio_sim_layout.h"
#include "store.h"
#include "xenstore/xs_sockets.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The default host owns the root namespace and libxenstore's default
 * socket; every other host lives in namespaces of its own. */
static bool is_default_rundir(const char *rundir)
{
	char real[PATH_MAX];
	if (realpath(rundir, real) && !strcmp(real, PVIO_DEFAULT_RUNDIR))
		return true;
	return !strcmp(rundir, PVIO_DEFAULT_RUNDIR);
}

/*
 * Kill what is left of the process group a daemon led (spawn_detached makes
 * it a session leader): the children of a backend that crashed, which the
 * root namespace of the default host does not take down with it. Only
 * processes carrying this host's PVIO_RUNDIR: Linux does not hand out a
 * group's id as a pid while the group lives, but checking costs nothing.
 */
static void kill_group_leftovers(const struct host *host, pid_t pgid)
{
	DIR *proc = pgid > 0 ? opendir("/proc") : NULL;
	struct dirent *de;
	while (proc && (de = readdir(proc))) {
		char path[300], buf[512];
		int pid = atoi(de->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		char *rp =
			fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		int ppid, pgrp;
		char state;
		if (rp &&
		    sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
		    pgrp == pgid && runs_for_host(host, pid))
			stop_pid(pid, 500);
	}
	if (proc)
		closedir(proc);
}

/* Removes the UNIX socket at path if nothing listens on it any more. */
static void unlink_if_stale(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	if (lstat(path, &st) || !S_ISSOCK(st.st_mode) ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    errno == ECONNREFUSED)
		unlink(path);
	close(fd);
}

/* Stops what the record says the host runs; tolerant of any part
 * missing, so that it also clears a half-started host. */
static void host_teardown(struct host *host)
{
	if (host_running(host)) {
		struct pvio_xenbus *xb = pvio_xenbus_open();
		unsigned ids[1024];
		int n = xb ? domain_ids(pvio_xenbus_handle(xb), ids, 1024) : 0;
		for (int i = 0; i < n; i++)
			if (ids[i] != 0)
				domain_destroy(host, xb, ids[i]);
		if (xb)
			pvio_xenbus_close(xb);
	}
	/* Domains the store no longer lists but the run dir still records. */
	char *domdir = host_file(host, "domains");
	DIR *dir = opendir(domdir);
	struct dirent *de;
	while (dir && (de = readdir(dir))) {
		unsigned id;
		if (!pvio_parse_domid(de->d_name, &id) && id)
			domain_destroy(host, NULL, id);
	}
	if (dir)
		closedir(dir);
	stop_pid(netback_pid(host), 3000);
	char *nbpid = host_file(host, "netback.pid");
	kill_group_leftovers(host, read_pidfile(nbpid));
	unlink(nbpid);
	free(nbpid);
	stop_pid(xenstored_pid(host), 3000);
	/* With dom0's processes stopped (the guests' went with their
	 * namespaces), the host's sim state goes. */
	if (host->dom0_netns_created)
		netns_kill_all(host->dom0_netns);
	sim_state_remove_all(host);
	if (host->dom0_netns_created) {
		netns_delete(host->dom0_netns);
	} else if (host->bridge_created && link_exists(host, host->bridge)) {
		char out[512];
		if (host_ip(host, out, sizeof(out), "link", "delete", "dev",
			    host->bridge, NULL))
			pvio_warn("cannot delete bridge %s: %s", host->bridge,
				  out);
	}
	rmdir(domdir);
	free(domdir);
	char *xsd = host_file(host, "xenstored.pid");
	unlink(xsd);
	free(xsd);
	/* A xenstored that crashed left its sockets behind. */
	unlink_if_stale(host->xs_socket);
	DIR *socks = opendir(host->dom_sock_dir);
	while (socks && (de = readdir(socks))) {
		if (strncmp(de->d_name, PVIO_XS_DOMAIN_SOCKET_PREFIX,
			    strlen(PVIO_XS_DOMAIN_SOCKET_PREFIX)))
			continue;
		char *sock =
			pvio_strfmt("%s/%s", host->dom_sock_dir, de->d_name);
		unlink_if_stale(sock);
		free(sock);
	}
	if (socks)
		closedir(socks);
	rmdir(host->dom_sock_dir);
	/* The dom0 socket's directory, if start made it and it is empty. */
	char *sockdir = strdup(host->xs_socket);
	char *slash = sockdir ? strrchr(sockdir, '/') : NULL;
	if (slash && slash != sockdir) {
		*slash = 0;
		rmdir(sockdir);
	}
	free(sockdir);
	char *rec = host_file(host, "host");
	unlink(rec);
	free(rec);
}

static int start_xenstored(struct host *host)
{
	char *prog = find_program("pvio-xenstored", "xenstore");
	if (!prog) {
		pvio_err("pvio-xenstored not found next to pvio nor in %s",
			 PVIO_SBINDIR);
		return -1;
	}
	char *sockdir = strdup(host->xs_socket);
	*strrchr(sockdir, '/') = 0;
	if (mkdir_p(sockdir, 0755) || mkdir_p(host->dom_sock_dir, 0755)) {
		pvio_err("cannot create %s: %s", sockdir, strerror(errno));
		free(sockdir);
		free(prog);
		return -1;
	}
	free(sockdir);
	char *pidfile = host_file(host, "xenstored.pid");
	char *log = host_file(host, "xenstored.log");
	char *argv[] = {prog,
			"--foreground",
			"--socket",
			host->xs_socket,
			"--domain-socket-dir",
			host->dom_sock_dir,
			"--pidfile",
			pidfile,
			"--log-level",
			"info",
			NULL};
	pid_t pid = spawn_detached("pvio-xenstored", argv, NULL, log);
	int rc = -1;
	/* Ready once its pidfile names it and the socket answers. */
	for (int i = 0; i < 250 && pid > 0; i++) {
		if (!pid_alive(pid)) {
			char *text = read_text_file(log);
			char *last = text ? strrchr(text, '\n') : NULL;
			while (last && last > text && last[1] == 0) {
				*last = 0;
				last = strrchr(text, '\n');
			}
			pvio_err("pvio-xenstored exited at start: %s (log %s)",
				 last	? last + 1
				 : text ? text
					: "",
				 log);
			free(text);
			break;
		}
		if (read_pidfile(pidfile) == pid) {
			struct xs_handle *h = xs_open(XS_OPEN_SOCKETONLY);
			if (h) {
				xs_close(h);
				rc = 0;
				break;
			}
		}
		sleep_ms(20);
	}
	if (rc && pid > 0 && pid_alive(pid)) {
		pvio_err("pvio-xenstored did not answer on %s within 5 s "
			 "(log %s)",
			 host->xs_socket, log);
		stop_pid(pid, 1000);
	}
	free(pidfile);
	free(log);
	free(prog);
	return rc;
}

static int write_dom0_nodes(void)
{
	struct pvio_xenbus *xb = pvio_store_connect();
	if (!xb)
		return -1;
	int err = pvio_xenbus_write_str(xb, XBT_NULL, "/local/domain/0/name",
					"Domain-0");
	if (!err)
		err = pvio_xenbus_write_str(xb, XBT_NULL,
					    "/local/domain/0/domid", "0");
	if (err)
		pvio_err("cannot write /local/domain/0: %s", strerror(-err));
	pvio_xenbus_close(xb);
	return err ? -1 : 0;
}

static int start_netback(struct host *host, const char *prog)
{
	char *log = host_file(host, "netback.log");
	char *pidfile = host_file(host, "netback.pid");
	char *env[] = {"PVIO_DOMID=0", NULL};
	char **argv = driver_argv(prog, "PVIO_NETBACK_ARGS");
	if (!argv) {
		free(log);
		free(pidfile);
		return -1;
	}
	char **full = netns_argv(host->dom0_netns, argv);
	pid_t pid = spawn_detached(prog, full, env, log);
	free(full);
	free(argv);
	int rc = pid < 0 ? -1 : 0; /* spawn_detached said why */
	char num[32];
	snprintf(num, sizeof(num), "%d\n", (int)pid);
	if (!rc && write_text_file(pidfile, num)) {
		pvio_err("cannot write %s: %s", pidfile, strerror(errno));
		rc = -1;
	}
	free(log);
	free(pidfile);
	return rc;
}

static int host_start(void)
{
	struct host host;
	if (mkdir_p(g_opts.rundir, 0755)) {
		pvio_err("cannot create the run directory %s: %s",
			 g_opts.rundir, strerror(errno));
		return 1;
	}
	memset(&host, 0, sizeof(host));
	snprintf(host.rundir, sizeof(host.rundir), "%s", g_opts.rundir);
	if (host_lock(&host) < 0)
		return 1;
	int loaded = host_load(&host, true);
	if (loaded == -2)
		return 1;
	if (loaded == 0) {
		if (host_running(&host)) {
			printf("host already running under %s\n", host.rundir);
			return 0;
		}
		pvio_warn("clearing a stopped host's leftovers in %s",
			  host.rundir);
		host_teardown(&host);
	}

	memset(&host, 0, sizeof(host));
	snprintf(host.rundir, sizeof(host.rundir), "%s", g_opts.rundir);
	uint8_t rnd[4];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		pvio_err("getrandom: %s", strerror(errno));
		return 1;
	}
	snprintf(host.id, sizeof(host.id), "%02x%02x%02x%02x", rnd[0], rnd[1],
		 rnd[2], rnd[3]);
	snprintf(host.bridge, sizeof(host.bridge), "%s", PVIO_DEFAULT_BRIDGE);
	/* Socket paths must fit a sockaddr_un (108 bytes). */
	if (strlen(host.rundir) > 80) {
		pvio_err("run directory %s: path too long for UNIX sockets "
			 "(80 characters at most)",
			 host.rundir);
		return 1;
	}
	snprintf(host.dom_sock_dir, sizeof(host.dom_sock_dir),
		 "%.80s/" PVIO_XS_RUNDIR_SUBDIR, host.rundir);
	if (is_default_rundir(host.rundir)) {
		snprintf(host.xs_socket, sizeof(host.xs_socket), "%s",
			 PVIO_XS_DEFAULT_SOCKET);
	} else {
		snprintf(host.xs_socket, sizeof(host.xs_socket),
			 "%.80s/" PVIO_XS_RUNDIR_SUBDIR "/socket", host.rundir);
		snprintf(host.dom0_netns, sizeof(host.dom0_netns),
			 "pvio-%s-dom0", host.id);
	}
	host_export_env(&host);
	/* The backend daemon: PVIO_NETBACK names it, else pvio-netback next
	 * to pvio or where it installs. Checked before anything is made. */
	char *nb;
	if (driver_program("PVIO_NETBACK", "pvio-netback", "backend", &nb))
		return 1;
	/* Record before creating anything: stop can undo a partial start. */
	if (host_save(&host)) {
		free(nb);
		return 1;
	}
	if (host.dom0_netns[0]) {
		if (netns_create(host.dom0_netns))
			goto fail;
		host.dom0_netns_created = true;
		if (host_save(&host))
			goto fail;
	}
	if (!link_exists(&host, host.bridge)) {
		char out[512];
		if (host_ip(&host, out, sizeof(out), "link", "add", host.bridge,
			    "type", "bridge", NULL)) {
			pvio_err("cannot create bridge %s: %s", host.bridge,
				 out);
			goto fail;
		}
		host.bridge_created = true;
		if (host_save(&host))
			goto fail;
		if (host_ip(&host, out, sizeof(out), "link", "set", host.bridge,
			    "up", NULL)) {
			pvio_err("cannot bring bridge %s up: %s", host.bridge,
				 out);
			goto fail;
		}
	}
	if (start_xenstored(&host) || write_dom0_nodes())
		goto fail;
	if (nb && start_netback(&host, nb))
		goto fail;
	printf("host started under %s\n", host.rundir);
	printf("export XENSTORED_PATH=%s\n", host.xs_socket);
	if (!nb)
		printf("no pvio-netback: vifs need a backend before they "
		       "attach\n");
	free(nb);
	return 0;
fail:
	free(nb);
	host_teardown(&host);
	return 1;
}

static int host_stop(void)
{
	struct host host;
	int rc = host_load(&host, true);
	if (rc == 0) {
		if (host_lock(&host) < 0)
			return 1;
		rc = host_load(&host, true); /* again under the lock */
	}
	if (rc == -2)
		return 1;
	if (rc) {
		printf("no host under %s\n", g_opts.rundir);
		return 0;
	}
	host_teardown(&host);
	printf("host under %s stopped\n", host.rundir);
	return 0;
}

static int host_status(void)
{
	struct host host;
	if (host_load(&host, true)) {
		printf("run directory:  %s\nhost:           not running\n",
		       g_opts.rundir);
		return 1;
	}
	pid_t xsd = xenstored_pid(&host), nb = netback_pid(&host);
	bool up = xsd != 0;
	printf("run directory:  %s\n", host.rundir);
	printf("host id:        %s\n", host.id);
	printf("xenstored:      %s", up ? "running" : "stopped");
	if (up)
		printf(" (pid %d)", (int)xsd);
	printf("\nXENSTORED_PATH: %s\n", host.xs_socket);
	printf("dom0 netns:     %s\n",
	       host.dom0_netns[0] ? host.dom0_netns : "(root namespace)");
	printf("bridge:         %s (%s)\n", host.bridge,
	       link_exists(&host, host.bridge) ? "present" : "missing");
	if (nb)
		printf("pvio-netback:   running (pid %d)\n", (int)nb);
	else
		printf("pvio-netback:   not running\n");
	if (up) {
		struct pvio_xenbus *xb = pvio_xenbus_open();
		unsigned ids[1024];
		int n = xb ? domain_ids(pvio_xenbus_handle(xb), ids, 1024) : 0;
		printf("domains:        %d (with Domain-0)\n", n);
		if (xb)
			pvio_xenbus_close(xb);
	}
	printf("use it with:    export XENSTORED_PATH=%s PVIO_RUNDIR=%s\n",
	       host.xs_socket, host.rundir);
	return up ? 0 : 1;
}

int cmd_host(int argc, char **argv)
{
	if (argc != 2) {
		pvio_err("usage: pvio host start|stop|status");
		return 2;
	}
	if (!strcmp(argv[1], "start"))
		return host_start();
	if (!strcmp(argv[1], "stop"))
		return host_stop();
	if (!strcmp(argv[1], "status"))
		return host_status();
	pvio_err("unknown host command '%s' (start, stop or status)", argv[1]);
	return 2;
}
