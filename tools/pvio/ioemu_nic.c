/* Emulated NICs (type=ioemu), as libxl runs an HVM guest's emulated NIC:
 * a device model per NIC in dom0 (QEMU's place) with its TAP vifD.N-emu
 * on the bridge, and here also the guest-side driver, which on a real
 * HVM guest would be the guest kernel's. */
#include "config.h"

#include "files.h"
#include "host.h"
#include "ioemu_nic.h"
#include "msg.h"
#include "netns.h"
#include "options.h"
#include "proc.h"
#include "programs.h"
#include "store.h"

#include "ioemu/ioemu_layout.h"
#include "ioemu/ioemu_stats.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

char *ioemu_dm_path(unsigned domid, int devid)
{
	return pvio_strfmt(IOEMU_DM_DIR_FMT, domid, (unsigned)devid);
}

char *ioemu_guest_path(unsigned domid, int devid)
{
	return pvio_strfmt(IOEMU_GUEST_DIR_FMT, domid, (unsigned)devid);
}

bool ioemu_nic_exists(struct pvio_xenbus *xb, unsigned domid, int devid)
{
	char *dm = ioemu_dm_path(domid, devid),
	     *guest = ioemu_guest_path(domid, devid);
	bool yes = pvio_xenbus_exists(xb, XBT_NULL, dm) ||
		   pvio_xenbus_exists(xb, XBT_NULL, guest);
	free(dm);
	free(guest);
	return yes;
}

/* <rundir>/ioemu/<what>-D.N.pid */
static char *pidfile_path(const struct host *host, const char *what,
			  unsigned domid, int devid)
{
	return pvio_strfmt("%s/ioemu/%s-%u.%d.pid", host->rundir, what, domid,
			   devid);
}

static void stop_recorded(const struct host *host, const char *what,
			  unsigned domid, int devid)
{
	char *path = pidfile_path(host, what, domid, devid);
	pid_t pid = read_pidfile(path);
	/* A stale pidfile may name anything since: only the host's own. */
	if (pid > 0 && pid_alive(pid) && runs_for_host(host, pid))
		stop_pid(pid, 3000);
	unlink(path);
	free(path);
}

static int start_recorded(const struct host *host, const char *what,
			  unsigned domid, int devid, const char *prog,
			  char **argv, const char *netns, char *const env[],
			  const char *log)
{
	char **full = netns_argv(netns, argv);
	pid_t pid = spawn_detached(prog, full, env, log);
	free(full);
	if (pid < 0)
		return -1;
	char *dir = pvio_strfmt("%s/ioemu", host->rundir);
	mkdir_p(dir, 0755);
	free(dir);
	char *path = pidfile_path(host, what, domid, devid);
	char *text = pvio_strfmt("%d\n", (int)pid);
	int err = write_text_file(path, text);
	free(text);
	free(path);
	if (err) {
		pvio_err("cannot record the pid of %s", prog);
		stop_pid(pid, 3000);
		return -1;
	}
	return 0;
}

struct new_ioemu {
	unsigned domid;
	int devid;
	const struct pvio_nic *nic;
	const char *script, *mac;
};

/* A transaction body: the device model's configuration [n0,rD] and the
 * guest's side [nD,r0]. */
static int write_nodes_txn(struct pvio_xenbus *xb, xs_transaction_t t,
			   void *arg)
{
	const struct new_ioemu *d = arg;
	struct xs_handle *h = pvio_xenbus_handle(xb);
	char *dm = ioemu_dm_path(d->domid, d->devid),
	     *guest = ioemu_guest_path(d->domid, d->devid);
	struct xs_permissions dm_perms[2] = {{0, XS_PERM_NONE},
					     {d->domid, XS_PERM_READ}};
	struct xs_permissions guest_perms[2] = {{d->domid, XS_PERM_NONE},
						{0, XS_PERM_READ}};
	char *domid = pvio_strfmt("%u", d->domid);
	char *devid = pvio_strfmt("%d", d->devid);
	char *ifname = pvio_strfmt("vif%u.%d-emu", d->domid, d->devid);
	char *state = pvio_strfmt("%d", XenbusStateInitialising);
	const char *dm_keys[] = {
		"frontend", guest,	    "frontend-id", domid,
		"handle",   devid,	    "type",	   "ioemu",
		"model",    d->nic->model,  "mac",	   d->mac,
		"bridge",   d->nic->bridge, "script",	   d->script,
		"ifname",   ifname,	    "online",	   "1",
		"state",    state,	    NULL};
	const char *guest_keys[] = {
		"backend", dm,	  "backend-id", "0",
		"handle",  devid, "model",	d->nic->model,
		"state",   state, NULL};
	bool ok = true;
	xs_rm(h, t, dm);
	xs_rm(h, t, guest);
	ok = xs_mkdir(h, t, dm) && xs_set_permissions(h, t, dm, dm_perms, 2) &&
	     xs_mkdir(h, t, guest) &&
	     xs_set_permissions(h, t, guest, guest_perms, 2);
	for (int i = 0; ok && dm_keys[i]; i += 2) {
		char *p = pvio_strfmt("%s/%s", dm, dm_keys[i]);
		ok = pvio_store_writef(h, t, p, "%s", dm_keys[i + 1]) &&
		     xs_set_permissions(h, t, p, dm_perms, 2);
		free(p);
	}
	for (int i = 0; ok && guest_keys[i]; i += 2) {
		char *p = pvio_strfmt("%s/%s", guest, guest_keys[i]);
		ok = pvio_store_writef(h, t, p, "%s", guest_keys[i + 1]) &&
		     xs_set_permissions(h, t, p, guest_perms, 2);
		free(p);
	}
	int err = ok ? 0 : -(errno ? errno : EIO);
	free(dm);
	free(guest);
	free(domid);
	free(devid);
	free(ifname);
	free(state);
	return err;
}

/* `SCRIPT add|remove type_if=tap` in dom0's namespace, with libxl's
 * environment for the emulated twin. */
static int run_tap_hotplug(const struct host *host, struct xs_handle *h,
			   unsigned domid, int devid, const char *action,
			   char *out, size_t outlen)
{
	char *dm = ioemu_dm_path(domid, devid);
	char *script = pvio_store_readf(h, XBT_NULL, "%s/script", dm);
	free(dm);
	if (!script) {
		snprintf(out, outlen,
			 "no script in the device model's "
			 "directory");
		return -1;
	}
	char *env[] = {
		pvio_strfmt("script=%s", script),
		pvio_strfmt("XENBUS_TYPE=vif"),
		pvio_strfmt("XENBUS_PATH=device-model/%u/vif/%d", domid, devid),
		pvio_strfmt("XENBUS_BASE_PATH=device-model"),
		pvio_strfmt("netdev="),
		pvio_strfmt("vif=vif%u.%d-emu", domid, devid),
		NULL,
	};
	char *argv[] = {script, (char *)action, "type_if=tap", NULL};
	char **full = netns_argv(host->dom0_netns, argv);
	int rc = run_cmd_env(full, env, pvio_timeout_ms(), out, outlen);
	if (rc == -2)
		snprintf(out, outlen, "timed out after %d s", g_opts.timeout_s);
	free(full);
	for (int i = 0; env[i]; i++)
		free(env[i]);
	free(script);
	return rc;
}

static void remove_files(const struct host *host, unsigned domid, int devid)
{
	char *paths[] = {
		pvio_strfmt(IOEMU_SIM_IOREQ_FMT, host->rundir, domid,
			    (unsigned)devid),
		pvio_strfmt(IOEMU_SIM_RAM_FMT, host->rundir, domid,
			    (unsigned)devid),
		pvio_strfmt(IOEMU_STATS_FMT, host->rundir, domid,
			    (unsigned)devid),
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
}

int ioemu_nic_detach(const struct host *host, struct pvio_xenbus *xb,
		     unsigned domid, int devid, bool quiet)
{
	struct xs_handle *h = pvio_xenbus_handle(xb);
	char out[1024];
	char *dm = ioemu_dm_path(domid, devid);
	char *script = pvio_store_readf(h, XBT_NULL, "%s/script", dm);
	free(dm);
	if (script &&
	    run_tap_hotplug(host, h, domid, devid, "remove", out,
			    sizeof(out)) &&
	    !quiet)
		pvio_warn("hotplug script remove for vif%u.%d-emu: %s", domid,
			  devid, out);
	free(script);
	/* The guest's driver first, as a guest unplugging its NIC; then the
	 * device model, which takes its TAP with it. */
	stop_recorded(host, "nic", domid, devid);
	stop_recorded(host, "dm", domid, devid);
	struct pvio_store_rm rm[] = {
		{ioemu_dm_path(domid, devid), pvio_strfmt("/local/domain/0")},
		{ioemu_guest_path(domid, devid),
		 pvio_strfmt("/local/domain/%u/device", domid)},
	};
	int err = pvio_store_rm_all(xb, rm, sizeof(rm) / sizeof(rm[0]));
	if (err)
		pvio_warn("cannot remove the nodes of vif%u.%d-emu: %s", domid,
			  devid, strerror(-err));
	remove_files(host, domid, devid);
	return 0;
}

void ioemu_nic_detach_all(const struct host *host, struct pvio_xenbus *xb,
			  unsigned domid)
{
	struct xs_handle *h = pvio_xenbus_handle(xb);
	char *dir = pvio_strfmt("/local/domain/0/device-model/%u/vif", domid);
	unsigned num;
	char **ents = xs_directory(h, XBT_NULL, dir, &num);
	for (unsigned i = 0; ents && i < num; i++) {
		int devid;
		if (!pvio_parse_devid(ents[i], &devid))
			ioemu_nic_detach(host, xb, domid, devid, true);
	}
	free(ents);
	free(dir);
	/* Device models whose nodes are gone already (a crash midway). */
	char *pids = pvio_strfmt("%s/ioemu", host->rundir);
	DIR *dp = opendir(pids);
	struct dirent *de;
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "dm-%u.", domid);
	while (dp && (de = readdir(dp))) {
		int devid;
		char tail[32];
		if (strncmp(de->d_name, prefix, strlen(prefix)) ||
		    sscanf(de->d_name + strlen(prefix), "%d%31s", &devid,
			   tail) != 2 ||
		    strcmp(tail, ".pid"))
			continue;
		stop_recorded(host, "dm", domid, devid);
		remove_files(host, domid, devid);
	}
	if (dp)
		closedir(dp);
	free(pids);
}

int ioemu_nic_attach(const struct host *host, struct pvio_xenbus *xb,
		     unsigned domid, const struct pvio_nic *nic,
		     const char *script, const char *mac,
		     const struct ioemu_guest *guest)
{
	char *dm_prog = NULL, *nic_prog = NULL;
	if (driver_program("PVIO_IOEMU_DM", "pvio-ioemu-dm", "ioemu",
			   &dm_prog) ||
	    driver_program("PVIO_IOEMU_NIC", "pvio-ioemu-nic", "ioemu",
			   &nic_prog))
		goto fail_early;
	if (!dm_prog || !nic_prog) {
		pvio_err("type=ioemu needs %s (not found next to pvio, in the "
			 "build tree or the install directories)",
			 dm_prog ? "pvio-ioemu-nic" : "pvio-ioemu-dm");
		goto fail_early;
	}
	struct new_ioemu d = {domid, nic->devid, nic, script, mac};
	int err = pvio_xenbus_transaction(xb, write_nodes_txn, &d, 0);
	if (err) {
		pvio_err("cannot write the emulated NIC's xenstore nodes: %s",
			 strerror(-err));
		goto fail_early;
	}
	char tap[32];
	snprintf(tap, sizeof(tap), "vif%u.%d-emu", domid, nic->devid);
	char *s_domid = pvio_strfmt("%u", domid);
	char *s_devid = pvio_strfmt("%d", nic->devid);
	char *dm_env[] = {pvio_strfmt("PVIO_DOMID=0"),
			  pvio_strfmt("XENSTORED_PATH=%s", host->xs_socket),
			  pvio_strfmt("PVIO_RUNDIR=%s", host->rundir), NULL};
	char *dm_argv[] = {dm_prog,   "--domid", s_domid,
			   "--devid", s_devid,	 NULL};
	char *dm_log = pvio_strfmt("%s/ioemu-%u.%d-dm.log", host->rundir, domid,
				   nic->devid);
	int rc = start_recorded(host, "dm", domid, nic->devid, dm_prog, dm_argv,
				host->dom0_netns, dm_env, dm_log);
	char *dm_dir = ioemu_dm_path(domid, nic->devid);
	if (!rc) {
		err = pvio_xenbus_wait_state(
			xb, dm_dir,
			PVIO_XENBUS_STATE_BIT(XenbusStateInitWait) |
				PVIO_XENBUS_STATE_BIT(XenbusStateConnected) |
				PVIO_XENBUS_STATE_BIT(XenbusStateClosed),
			pvio_timeout_ms(), NULL);
		enum xenbus_state st = XenbusStateUnknown;
		pvio_xenbus_read_state(xb, XBT_NULL, dm_dir, &st);
		if (err || st == XenbusStateClosed) {
			if (err)
				pvio_err("the device model of %s did not "
					 "create its TAP within %d s (see %s)",
					 tap, g_opts.timeout_s, dm_log);
			else
				pvio_err("the device model of %s exited "
					 "before creating its TAP (see %s)",
					 tap, dm_log);
			rc = -1;
		}
	}
	char out[1024] = "";
	if (!rc) {
		struct xs_handle *h = pvio_xenbus_handle(xb);
		int hs = run_tap_hotplug(host, h, domid, nic->devid, "add", out,
					 sizeof(out));
		if (hs) {
			char *why = pvio_store_readf(
				h, XBT_NULL, "%s/hotplug-error", dm_dir);
			size_t n = strlen(out);
			while (n && out[n - 1] == '\n')
				out[--n] = 0;
			pvio_err("hotplug script %s add type_if=tap failed for "
				 "%s: %s",
				 script, tap,
				 why	? why
				 : *out ? out
					: "non-zero exit status");
			free(why);
			rc = -1;
		}
	}
	if (!rc) {
		char *nic_argv[] = {nic_prog, "--devid", s_devid, NULL};
		char *nic_log = pvio_strfmt("%s/domain-%u-ioemu-%d.log",
					    host->rundir, domid, nic->devid);
		rc = start_recorded(host, "nic", domid, nic->devid, nic_prog,
				    nic_argv, guest->netns, guest->env,
				    nic_log);
		free(nic_log);
	}
	for (int i = 0; dm_env[i]; i++)
		free(dm_env[i]);
	free(dm_log);
	free(dm_dir);
	free(s_domid);
	free(s_devid);
	free(dm_prog);
	free(nic_prog);
	if (rc)
		ioemu_nic_detach(host, xb, domid, nic->devid, true);
	return rc ? -1 : 0;
fail_early:
	free(dm_prog);
	free(nic_prog);
	return -1;
}

int ioemu_nic_print_stats(const struct host *host, FILE *out, unsigned domid,
			  int devid, const char *name)
{
	char *path = pvio_strfmt(IOEMU_STATS_FMT, host->rundir, domid,
				 (unsigned)devid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	const struct ioemu_nic_stats *s = MAP_FAILED;
	if (fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(*s))
		s = mmap(NULL, sizeof(*s), PROT_READ, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (s == MAP_FAILED) {
		pvio_err("%s: no statistics of vif%u.%d-emu (is its device "
			 "model running?)",
			 path, domid, devid);
		free(path);
		return -1;
	}
	int rc = 0;
	if (s->magic != IOEMU_STATS_MAGIC ||
	    s->version != IOEMU_STATS_VERSION || s->size != sizeof(*s) ||
	    s->domid != domid || s->devid != (unsigned)devid) {
		pvio_err("%s: not the statistics of vif%u.%d-emu (magic, "
			 "version, size or device differ)",
			 path, domid, devid);
		rc = -1;
	} else {
#define LOAD(f) ((unsigned long long)__atomic_load_n(&s->f, __ATOMIC_RELAXED))
		char model[sizeof(s->model) + 1];
		memcpy(model, s->model, sizeof(s->model));
		model[sizeof(s->model)] = 0;
		fprintf(out, "vif%u.%d-emu (domain %s, emulated %s)\n", domid,
			devid, name ? name : "?", model);
		fprintf(out,
			"  tx (guest to bridge): %llu packets, %llu bytes\n",
			LOAD(tx_packets), LOAD(tx_bytes));
		fprintf(out,
			"  rx (bridge to guest): %llu packets, %llu bytes\n",
			LOAD(rx_packets), LOAD(rx_bytes));
		fprintf(out, "  traps (register accesses): %llu\n",
			LOAD(ioreqs));
		fprintf(out, "  interrupts: %llu\n", LOAD(interrupts));
		fprintf(out,
			"  absorbed guest errors: %llu bad accesses, %llu bad "
			"DMA addresses, %llu bad rings, %llu oversized TX "
			"frames, %llu unsupported TX descriptors\n",
			LOAD(bad_access), LOAD(bad_dma), LOAD(bad_ring),
			LOAD(tx_oversize), LOAD(tx_unsupported));
#undef LOAD
	}
	munmap((void *)s, sizeof(*s));
	free(path);
	return rc;
}
