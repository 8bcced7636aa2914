/* Guest domains on the sim platform: `pvio create`, `destroy`, `list` and
 * `exec`. A guest is a network namespace, the processes started in it, and
 * the xenstore nodes libxl writes for a PV domain. */
#include "config.h"

#include "args.h"
#include "commands.h"
#include "domain.h"
#include "files.h"
#include "host.h"
#include "msg.h"
#include "netns.h"
#include "proc.h"
#include "programs.h"
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static bool mknod_perms(struct xs_handle *h, xs_transaction_t t,
			const char *path, struct xs_permissions *perms,
			unsigned n)
{
	return xs_mkdir(h, t, path) && xs_set_permissions(h, t, path, perms, n);
}

struct new_domain {
	unsigned domid;
	const char *name, *uuid;
};

/* What libxl__domain_make and libxl__build_post write for a PV domain: a
 * transaction body (pvio_xenbus_transaction). */
static int write_domain_nodes(struct pvio_xenbus *xb, xs_transaction_t t,
			      void *arg)
{
	const struct new_domain *d = arg;
	struct xs_handle *h = pvio_xenbus_handle(xb);
	unsigned domid = d->domid;
	struct xs_permissions noperm[1] = {{0, XS_PERM_NONE}};
	struct xs_permissions roperm[2] = {{0, XS_PERM_NONE},
					   {domid, XS_PERM_READ}};
	struct xs_permissions rwperm[1] = {{domid, XS_PERM_NONE}};
	static const char *const ro_dirs[] = {"cpu", "memory", "device",
					      "control"};
	static const char *const rw_dirs[] = {
		"control/shutdown",
		"control/feature-poweroff",
		"control/feature-reboot",
		"control/feature-suspend",
		"control/sysrq",
		"device/suspend/event-channel",
		"data",
		"drivers",
		"feature",
		"attr",
		"error",
	};
	char *dom = pvio_strfmt("/local/domain/%u", domid);
	char *vm = pvio_strfmt("/vm/%s", d->uuid);
	char *lx = pvio_strfmt("/libxl/%u", domid);
	xs_rm(h, t, dom);
	xs_rm(h, t, vm);
	xs_rm(h, t, lx);
	bool ok = mknod_perms(h, t, dom, roperm, 2) &&
		  mknod_perms(h, t, vm, roperm, 2) &&
		  mknod_perms(h, t, lx, noperm, 1);
	char *p = pvio_strfmt("%s/device", lx);
	ok = ok && mknod_perms(h, t, p, noperm, 1);
	free(p);
	p = pvio_strfmt("%s/vm", dom);
	ok = ok && pvio_store_writef(h, t, p, "%s", vm);
	free(p);
	p = pvio_strfmt("%s/name", dom);
	ok = ok && pvio_store_writef(h, t, p, "%s", d->name);
	free(p);
	for (size_t i = 0; ok && i < sizeof(ro_dirs) / sizeof(*ro_dirs); i++) {
		p = pvio_strfmt("%s/%s", dom, ro_dirs[i]);
		ok = mknod_perms(h, t, p, roperm, 2);
		free(p);
	}
	for (size_t i = 0; ok && i < sizeof(rw_dirs) / sizeof(*rw_dirs); i++) {
		p = pvio_strfmt("%s/%s", dom, rw_dirs[i]);
		ok = mknod_perms(h, t, p, rwperm, 1);
		free(p);
	}
	p = pvio_strfmt("%s/uuid", vm);
	ok = ok && pvio_store_writef(h, t, p, "%s", d->uuid);
	free(p);
	p = pvio_strfmt("%s/name", vm);
	ok = ok && pvio_store_writef(h, t, p, "%s", d->name);
	free(p);
	p = pvio_strfmt("%s/control/platform-feature-multiprocessor-suspend",
			dom);
	ok = ok && pvio_store_writef(h, t, p, "1");
	free(p);
	p = pvio_strfmt("%s/control/platform-feature-xs_reset_watches", dom);
	ok = ok && pvio_store_writef(h, t, p, "1");
	free(p);
	p = pvio_strfmt("%s/type", lx);
	ok = ok && pvio_store_writef(h, t, p, "pv");
	free(p);
	p = pvio_strfmt("%s/domid", dom);
	ok = ok && pvio_store_writef(h, t, p, "%u", domid);
	free(p);
	int err = ok ? 0 : -(errno ? errno : EIO);
	free(dom);
	free(vm);
	free(lx);
	return err;
}

static bool domid_in_use(const struct host *host, const unsigned *ids, int n,
			 unsigned domid)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == domid)
			return true;
	/* A leftover record: its namespace may still exist. */
	char *rec = domain_record_path(host, domid);
	bool used = access(rec, F_OK) == 0;
	free(rec);
	return used;
}

/*
 * Xen's domid rover: the next id after the last one created, wrapping to
 * 1, skipping ids in use. A destroyed domain's id is not handed out again
 * until the rover wraps, so that whatever still refers to it (a backend's
 * handles, a watch) cannot meet a new domain under the old id. 0 when all
 * are in use.
 */
static unsigned next_domid(const struct host *host, const unsigned *ids, int n)
{
	unsigned domid = host->last_domid;
	for (unsigned tries = 1; tries < DOMID_FIRST_RESERVED; tries++) {
		if (++domid >= DOMID_FIRST_RESERVED)
			domid = 1;
		if (!domid_in_use(host, ids, n, domid))
			return domid;
	}
	return 0;
}

/* A random (version 4) UUID in its text form; -1 after a message. */
static int new_uuid(char uuid[37])
{
	uint8_t u[16];
	if (getrandom(u, sizeof(u), 0) != sizeof(u)) {
		pvio_err("getrandom: %s", strerror(errno));
		return -1;
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	snprintf(uuid, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
	return 0;
}

/* Whether a domain of ids is called name (with a message if so). */
static bool name_in_use(struct xs_handle *h, const unsigned *ids, int n,
			const char *name)
{
	for (int i = 0; i < n; i++) {
		char *other = pvio_store_readf(h, XBT_NULL,
					       "/local/domain/%u/name", ids[i]);
		bool taken = other && !strcmp(other, name);
		free(other);
		if (taken) {
			pvio_err("domain name '%s' is in use by domain %u",
				 name, ids[i]);
			return true;
		}
	}
	return false;
}

/* xenstored opens an introduced domain's socket; bounded wait for it. */
static int wait_domain_socket(const struct host *host, unsigned domid)
{
	char *sock = domain_socket(host, domid);
	bool ready = false;
	for (int i = 0; i < 250 && !(ready = access(sock, F_OK) == 0); i++)
		sleep_ms(20);
	if (!ready)
		pvio_err("xenstored created no socket %s for domain %u", sock,
			 domid);
	free(sock);
	return ready ? 0 : -1;
}

/* The guest driver nf (NULL: none), detached, inside the guest with its
 * identity. -1 after a message. */
static int start_netfront(const struct host *host, unsigned domid,
			  const char *netns, const char *nf)
{
	if (!nf)
		return 0;
	char *env[4];
	guest_env(host, domid, env);
	char **argv_nf = driver_argv(nf, "PVIO_NETFRONT_ARGS");
	if (!argv_nf) {
		for (int i = 0; env[i]; i++)
			free(env[i]);
		return -1;
	}
	char **full = netns_argv(netns, argv_nf);
	char *log =
		pvio_strfmt("%s/domain-%u-netfront.log", host->rundir, domid);
	pid_t pid = spawn_detached(nf, full, env, log);
	free(full);
	free(argv_nf);
	free(log);
	for (int i = 0; env[i]; i++)
		free(env[i]);
	return pid < 0 ? -1 : 0;
}

int cmd_create(int argc, char **argv)
{
	const char *name = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "name=", 5)) {
			name = argv[i] + 5;
		} else {
			pvio_err("unknown argument '%s' (usage: pvio create "
				 "name=NAME)",
				 argv[i]);
			return 2;
		}
	}
	if (!name) {
		pvio_err("usage: pvio create name=NAME");
		return 2;
	}
	if (!pvio_valid_domain_name(name)) {
		pvio_err("invalid domain name '%s' (1-63 of A-Z a-z 0-9 _ . "
			 "-, not only digits)",
			 name);
		return 2;
	}
	/* The guest driver: PVIO_NETFRONT names it, else pvio-netfront
	 * next to pvio or where it installs. Checked before anything is
	 * made. */
	char *nf;
	if (driver_program("PVIO_NETFRONT", "pvio-netfront", "frontend", &nf))
		return 1;
	struct host host;
	struct pvio_xenbus *xb = host_connect(&host, true);
	if (!xb) {
		free(nf);
		return 1;
	}
	struct xs_handle *h = pvio_xenbus_handle(xb);
	unsigned ids[1024];
	int n = domain_ids(h, ids, 1024);
	if (name_in_use(h, ids, n, name)) {
		pvio_xenbus_close(xb);
		free(nf);
		return 1;
	}
	unsigned domid = next_domid(&host, ids, n);
	if (!domid) {
		pvio_err("no free domain id (%u domains exist; destroy some)",
			 (unsigned)n);
		pvio_xenbus_close(xb);
		free(nf);
		return 1;
	}

	char uuid[37];
	if (new_uuid(uuid)) {
		pvio_xenbus_close(xb);
		free(nf);
		return 1;
	}
	char netns[64];
	snprintf(netns, sizeof(netns), "pvio-%s-%u", host.id, domid);

	char *domdir = pvio_strfmt("%s/domains", host.rundir);
	char *rec = domain_record_path(&host, domid);
	char *text =
		pvio_strfmt("name=%s\nnetns=%s\nuuid=%s\n", name, netns, uuid);
	int rc = 1;
	if (mkdir_p(domdir, 0755) || write_text_file(rec, text)) {
		pvio_err("cannot write %s: %s", rec, strerror(errno));
		goto out;
	}
	host.last_domid = domid;
	if (host_save(&host))
		goto fail;
	/* A fresh domain starts with fresh grant and port tables, whatever
	 * a crashed run left under this id. */
	sim_state_remove(&host, domid);
	if (netns_create(netns))
		goto fail;
	struct new_domain nd = {domid, name, uuid};
	int err = pvio_xenbus_transaction(xb, write_domain_nodes, &nd, 0);
	if (err) {
		pvio_err("cannot write /local/domain/%u: %s", domid,
			 strerror(-err));
		goto fail;
	}
	/* mfn and event channel mean nothing on sim; xenstored only needs
	 * the domain to exist. */
	if (!xs_introduce_domain(h, domid, domid, 1)) {
		pvio_err("xenstored refused to introduce domain %u: %s", domid,
			 strerror(errno));
		goto fail;
	}
	if (wait_domain_socket(&host, domid))
		goto fail;

	if (start_netfront(&host, domid, netns, nf))
		goto fail;
	printf("created domain %s (domid %u)\n", name, domid);
	rc = 0;
	goto out;
fail:
	domain_destroy(&host, xb, domid);
out:
	free(domdir);
	free(rec);
	free(text);
	free(nf);
	pvio_xenbus_close(xb);
	return rc;
}

int cmd_destroy(int argc, char **argv)
{
	if (argc != 2) {
		pvio_err("usage: pvio destroy DOM");
		return 2;
	}
	struct host host;
	struct pvio_xenbus *xb = host_connect(&host, true);
	if (!xb)
		return 1;
	unsigned domid;
	int rc = 1;
	if (resolve_domain(pvio_xenbus_handle(xb), argv[1], &domid) == 0) {
		if (domid == 0)
			pvio_err("cannot destroy Domain-0 (use `pvio host "
				 "stop`)");
		else
			rc = domain_destroy(&host, xb, domid) ? 1 : 0;
	}
	pvio_xenbus_close(xb);
	return rc;
}

int cmd_list(int argc, char **argv)
{
	struct host host;
	struct pvio_xenbus *xb = host_connect(&host, false);
	if (!xb)
		return 1;
	struct xs_handle *h = pvio_xenbus_handle(xb);
	unsigned ids[1024];
	int n;
	if (argc > 1) {
		n = 0;
		for (int i = 1; i < argc && n < 1024; i++)
			if (resolve_domain(h, argv[i], &ids[n++])) {
				pvio_xenbus_close(xb);
				return 1;
			}
	} else {
		n = domain_ids(h, ids, 1024);
	}
	/* xl list's columns (xl_info.c). The sim platform has no memory,
	 * vcpus or cpu time of its own: Mem is memory/target if a tool
	 * wrote it, one vcpu, no time. */
	printf("Name                                        ID   Mem "
	       "VCPUs\tState\tTime(s)\n");
	for (int i = 0; i < n; i++) {
		char *name = pvio_store_readf(h, XBT_NULL,
					      "/local/domain/%u/name", ids[i]);
		char *mem = pvio_store_readf(
			h, XBT_NULL, "/local/domain/%u/memory/target", ids[i]);
		printf("%-40s %5u %5lu %5d     %s  %8.1f\n",
		       name ? name : "(null)", ids[i],
		       mem ? strtoul(mem, NULL, 10) / 1024 : 0UL, 1,
		       ids[i] == 0 ? "r-----" : "-b----", 0.0);
		free(name);
		free(mem);
	}
	pvio_xenbus_close(xb);
	return 0;
}

int cmd_exec(int argc, char **argv)
{
	int first = 2;
	if (argc > 2 && !strcmp(argv[2], "--"))
		first = 3;
	if (argc <= first) {
		pvio_err("usage: pvio exec DOM -- COMMAND [ARG...]");
		return 2;
	}
	struct host host;
	struct pvio_xenbus *xb = host_connect(&host, false);
	if (!xb)
		return 1;
	unsigned domid;
	int rc = resolve_domain(pvio_xenbus_handle(xb), argv[1], &domid);
	pvio_xenbus_close(xb);
	if (rc)
		return 1;
	char netns[64];
	if (domid == 0)
		snprintf(netns, sizeof(netns), "%s", host.dom0_netns);
	else
		guest_netns(&host, domid, netns, sizeof(netns));
	char *env[4];
	guest_env(&host, domid, env);
	for (int i = 0; env[i]; i++)
		putenv(env[i]);
	char **full = netns_argv(netns, argv + first);
	execvp(full[0], full);
	pvio_err("cannot run %s: %s", full[0], strerror(errno));
	return 127;
}
