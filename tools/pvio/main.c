/*
 * pvio: the toolstack of the sim platform. xl's verbs and syntax over
 * pvio-xenstored: a host (dom0), guest domains, and vifs.
 *
 * Layers, each using only those below it (docs/toolstack.md):
 *   main.c                      options, dispatch
 *   cmd_host.c cmd_domain.c cmd_network.c cmd_demo.c
 *                               the commands (commands.h); never each other
 *                               (the demo runs this binary for each verb)
 *   domain.c -> vif.c -> host.c what a domain, a vif, a host is and owns
 *   store.c netns.c programs.c proc.c files.c msg.c vif_stats.c, args.c,
 *   xlcfg.c (xl config files), procfs.c (/proc figures)
 *                               helpers named for what they handle
 */
#include "config.h"

#include "args.h"
#include "commands.h"
#include "msg.h"
#include "options.h"
#include "programs.h"
#include "pvio_sim_layout.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pvio_opts g_opts;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pvio [--rundir DIR] COMMAND [ARGS]\n"
		"\n"
		"The xl toolstack's verbs for the pvio sim platform.\n"
		"\n"
		"  demo [--keep] [--out DIR]       the quick start: a host, "
		"two guests,\n"
		"                                  pings, a comparison sweep\n"
		"  host start|stop|status          dom0: pvio-xenstored, "
		"xenbr0, pvio-netback\n"
		"  create [FILE] [KEY=VALUE...]    a guest domain (network "
		"namespace),\n"
		"                                  from an xl config FILE "
		"and/or keys\n"
		"                                  (name memory vcpus vif "
		"...)\n"
		"  destroy DOM                     tear a guest down\n"
		"  list [DOM...]                   domains, as `xl list`\n"
		"  exec DOM -- CMD [ARG...]        run CMD inside DOM (its "
		"namespace,\n"
		"                                  PVIO_DOMID and xenstore "
		"socket)\n"
		"  network-attach DOM [KEY=VALUE...]\n"
		"                                  keys: mac bridge ip type "
		"vifname script\n"
		"                                  backend rate mtu devid (as "
		"xl)\n"
		"  network-detach DOM DEVID|MAC\n"
		"  network-list DOM...\n"
		"  network-stats DOM [DEVID]       per-vif counters "
		"pvio-netback keeps\n"
		"\n"
		"DOM is a domain name or id. Options and environment:\n"
		"  -r, --rundir DIR   the host's state (PVIO_RUNDIR, default "
		"%s)\n"
		"  -t, --timeout S    waits for backends and hotplug scripts "
		"(PVIO_TIMEOUT, %d)\n"
		"  PVIO_SCRIPTDIR     where relative script= names resolve "
		"(%s)\n"
		"  PVIO_NETBACK, PVIO_NETFRONT\n"
		"                     the backend / guest driver programs "
		"('none': none)\n"
		"  PVIO_NETBACK_ARGS, PVIO_NETFRONT_ARGS\n"
		"                     their options (words split at spaces)\n"
		"  PVIO_BENCH         the pvio-bench `pvio demo` runs\n",
		PVIO_DEFAULT_RUNDIR, PVIO_DEFAULT_TIMEOUT_S,
		hotplug_script_dir());
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{"host", cmd_host},
	{"create", cmd_create},
	{"destroy", cmd_destroy},
	{"list", cmd_list},
	{"exec", cmd_exec},
	{"network-attach", cmd_network_attach},
	{"network-detach", cmd_network_detach},
	{"network-list", cmd_network_list},
	{"network-stats", cmd_network_stats},
	{"demo", cmd_demo},
};

static int set_rundir(const char *dir)
{
	if (!*dir) {
		pvio_err("empty run directory");
		return -1;
	}
	int n;
	if (dir[0] == '/') {
		n = snprintf(g_opts.rundir, sizeof(g_opts.rundir), "%s", dir);
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd))) {
			pvio_err("getcwd failed");
			return -1;
		}
		n = snprintf(g_opts.rundir, sizeof(g_opts.rundir), "%s/%s", cwd,
			     dir);
	}
	if (n >= (int)sizeof(g_opts.rundir)) {
		pvio_err("run directory path too long");
		return -1;
	}
	/* Trailing slashes would make two names for one host. */
	size_t len = strlen(g_opts.rundir);
	while (len > 1 && g_opts.rundir[len - 1] == '/')
		g_opts.rundir[--len] = 0;
	return 0;
}

static int set_timeout(const char *s)
{
	unsigned long v;
	if (pvio_parse_uint(s, 3600, &v) || v == 0) {
		pvio_err("invalid timeout '%s' (seconds, 1-3600)", s);
		return -1;
	}
	g_opts.timeout_s = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	const char *env = getenv("PVIO_RUNDIR");
	if (set_rundir(env && *env ? env : PVIO_DEFAULT_RUNDIR))
		return 2;
	g_opts.rundir_given = env && *env;
	g_opts.timeout_s = PVIO_DEFAULT_TIMEOUT_S;
	env = getenv("PVIO_TIMEOUT");
	if (env && *env && set_timeout(env))
		return 2;

	static const struct option opts[] = {
		{"rundir", required_argument, NULL, 'r'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	/* '+': options end at the command; its arguments are its own. */
	/* ':' and opterr = 0: our own one-line messages. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:r:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (set_rundir(optarg))
				return 2;
			g_opts.rundir_given = true;
			break;
		case 't':
			if (set_timeout(optarg))
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			pvio_err(
				"option '%s' needs a value (see `pvio --help`)",
				argv[optind - 1]);
			return 2;
		default:
			pvio_err("unknown option '%s' (see `pvio --help`)",
				 argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc) {
		pvio_err("no command (see `pvio --help`)");
		return 2;
	}
	setenv("PVIO_RUNDIR", g_opts.rundir, 1);
	/* pvio runs the sim platform: what it starts must not pick real Xen
	 * even where /dev/xen exists (unless the caller chose). */
	setenv("PVIO_PLATFORM", "sim", 0);
	const char *cmd = argv[optind];
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - optind, argv + optind);
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	pvio_err("unknown command '%s' (see `pvio --help`)", cmd);
	return 2;
}
