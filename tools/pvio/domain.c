/* Guest domains on the sim platform: `pvio create`, `destroy`, `list` and
 * `exec`. A guest is a network namespace, the processes started in it, and
 * the xenstore nodes libxl writes for a PV domain. */
#include "config.h"

#include "pvio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

int domain_ids(struct xs_handle *h, unsigned *ids, int max)
{
	unsigned num;
	char **ents = xs_directory(h, XBT_NULL, "/local/domain", &num);
	int n = 0;
	for (unsigned i = 0; ents && i < num && n < max; i++)
		if (!pvio_parse_domid(ents[i], &ids[n]))
			n++;
	free(ents);
	qsort(ids, (size_t)n, sizeof(*ids), cmp_uint);
	return n;
}

int resolve_domain(struct xs_handle *h, const char *dom, unsigned *domid)
{
	unsigned ids[1024];
	int n = domain_ids(h, ids, 1024);
	unsigned id;
	if (!pvio_parse_domid(dom, &id)) {
		for (int i = 0; i < n; i++)
			if (ids[i] == id) {
				*domid = id;
				return 0;
			}
	} else {
		for (int i = 0; i < n; i++) {
			char *name = xs_readf(h, XBT_NULL,
					      "/local/domain/%u/name", ids[i]);
			bool match = name && !strcmp(name, dom);
			free(name);
			if (match) {
				*domid = ids[i];
				return 0;
			}
		}
	}
	pvio_err("unknown domain '%s' (see `pvio list`)", dom);
	return -1;
}

static char *record_path(const struct host *host, unsigned domid)
{
	return pvio_strfmt("%s/domains/%u", host->rundir, domid);
}

static void guest_netns(const struct host *host, unsigned domid, char *out,
			size_t len)
{
	char *rec = record_path(host, domid);
	char *text = read_text_file(rec);
	free(rec);
	if (!text || kv_get(text, "netns", out, len))
		snprintf(out, len, "pvio-%s-%u", host->id, domid);
	free(text);
}

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
	ok = ok && xs_writef(h, t, p, "%s", vm);
	free(p);
	p = pvio_strfmt("%s/name", dom);
	ok = ok && xs_writef(h, t, p, "%s", d->name);
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
	ok = ok && xs_writef(h, t, p, "%s", d->uuid);
	free(p);
	p = pvio_strfmt("%s/name", vm);
	ok = ok && xs_writef(h, t, p, "%s", d->name);
	free(p);
	p = pvio_strfmt("%s/control/platform-feature-multiprocessor-suspend",
			dom);
	ok = ok && xs_writef(h, t, p, "1");
	free(p);
	p = pvio_strfmt("%s/control/platform-feature-xs_reset_watches", dom);
	ok = ok && xs_writef(h, t, p, "1");
	free(p);
	p = pvio_strfmt("%s/type", lx);
	ok = ok && xs_writef(h, t, p, "pv");
	free(p);
	p = pvio_strfmt("%s/domid", dom);
	ok = ok && xs_writef(h, t, p, "%u", domid);
	free(p);
	int err = ok ? 0 : -(errno ? errno : EIO);
	free(dom);
	free(vm);
	free(lx);
	return err;
}

/* A transaction body: the domain's nodes and leftover backend dirs. */
static int remove_domain_nodes(struct pvio_xenbus *xb, xs_transaction_t t,
			       void *arg)
{
	unsigned domid = *(const unsigned *)arg;
	struct xs_handle *h = pvio_xenbus_handle(xb);
	char *vm = xs_readf(h, t, "/local/domain/%u/vm", domid);
	char *p = pvio_strfmt("/local/domain/%u", domid);
	xs_rm(h, t, p);
	free(p);
	/* Only a /vm/<uuid> path: never let a stray value point the removal
	 * elsewhere. */
	if (vm && !strncmp(vm, "/vm/", 4) && vm[4] && !strchr(vm + 4, '/'))
		xs_rm(h, t, vm);
	free(vm);
	p = pvio_strfmt("/libxl/%u", domid);
	xs_rm(h, t, p);
	free(p);
	p = pvio_strfmt("/local/domain/0/backend/vif/%u", domid);
	xs_rm_cleanup(h, t, p, "/local/domain/0");
	free(p);
	return 0;
}

/* The identity of a process that runs as domid inside its domain. */
static void guest_env(const struct host *host, unsigned domid, char **env)
{
	env[0] = pvio_strfmt("PVIO_DOMID=%u", domid);
	char *sock = domid ? domain_socket(host, domid) : NULL;
	env[1] =
		pvio_strfmt("XENSTORED_PATH=%s", sock ? sock : host->xs_socket);
	free(sock);
	env[2] = pvio_strfmt("PVIO_RUNDIR=%s", host->rundir);
	env[3] = NULL;
}

int domain_destroy(const struct host *host, struct pvio_xenbus *xb,
		   unsigned domid)
{
	struct xs_handle *h = xb ? pvio_xenbus_handle(xb) : NULL;
	char netns[64];
	guest_netns(host, domid, netns, sizeof(netns));
	if (h) {
		/* Devices first, while the guest's drivers can still answer. */
		char *fe = pvio_strfmt("/local/domain/%u/device/vif", domid);
		char *be = pvio_strfmt("/local/domain/0/backend/vif/%u", domid);
		const char *dirs[] = {fe, be};
		for (int d = 0; d < 2; d++) {
			unsigned num;
			char **ents = xs_directory(h, XBT_NULL, dirs[d], &num);
			for (unsigned i = 0; ents && i < num; i++) {
				int devid;
				if (!pvio_parse_devid(ents[i], &devid))
					nic_detach(host, xb, domid, devid,
						   true);
			}
			free(ents);
		}
		free(fe);
		free(be);
		if (xs_is_domain_introduced(h, domid))
			xs_release_domain(h, domid);
	}
	netns_kill_all(netns);
	/* Its grants and ports die with it, as on Xen: nothing a later
	 * domain could inherit. */
	sim_state_remove(host, domid);
	netns_delete(netns);
	if (xb && pvio_xenbus_transaction(xb, remove_domain_nodes, &domid, 0))
		pvio_warn("cannot remove /local/domain/%u", domid);
	char *rec = record_path(host, domid);
	unlink(rec);
	free(rec);
	return 0;
}

static bool domid_in_use(const struct host *host, const unsigned *ids, int n,
			 unsigned domid)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == domid)
			return true;
	/* A leftover record: its namespace may still exist. */
	char *rec = record_path(host, domid);
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
		char *other =
			xs_readf(h, XBT_NULL, "/local/domain/%u/name", ids[i]);
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
	char *argv_nf[] = {(char *)nf, NULL};
	char **full = netns_argv(netns, argv_nf);
	char *log =
		pvio_strfmt("%s/domain-%u-netfront.log", host->rundir, domid);
	pid_t pid = spawn_detached(full, env, log);
	if (pid < 0)
		pvio_err("cannot start %s: %s", nf, strerror(errno));
	free(full);
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
	char *rec = record_path(&host, domid);
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
		char *name =
			xs_readf(h, XBT_NULL, "/local/domain/%u/name", ids[i]);
		char *mem = xs_readf(h, XBT_NULL,
				     "/local/domain/%u/memory/target", ids[i]);
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
