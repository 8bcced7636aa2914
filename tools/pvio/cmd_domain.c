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
#include "procfs.h"
#include "programs.h"
#include "store.h"
#include "xlcfg.h"

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
	const struct xl_domain *cfg; /* memory, vcpus */
};

/* libxl__build_pre's memory/target and static-max (KiB) and
 * libxl__build_post's cpu/N/availability, from memory=, maxmem=, vcpus=
 * and maxvcpus= (xl's default: one vcpu, no memory figure on sim). */
static bool write_resource_nodes(struct xs_handle *h, xs_transaction_t t,
				 const char *dom, const struct xl_domain *cfg)
{
	bool ok = true;
	unsigned long mem = cfg->memory_mb ? cfg->memory_mb : cfg->maxmem_mb;
	unsigned long max = cfg->maxmem_mb ? cfg->maxmem_mb : mem;
	char *p;
	if (mem) {
		p = pvio_strfmt("%s/memory/target", dom);
		ok = pvio_store_writef(h, t, p, "%lu", mem * 1024);
		free(p);
		p = pvio_strfmt("%s/memory/static-max", dom);
		ok = ok && pvio_store_writef(h, t, p, "%lu", max * 1024);
		free(p);
	}
	unsigned vcpus = cfg->vcpus ? cfg->vcpus : 1;
	unsigned maxvcpus = cfg->maxvcpus > vcpus ? cfg->maxvcpus : vcpus;
	for (unsigned i = 0; ok && i < maxvcpus; i++) {
		p = pvio_strfmt("%s/cpu/%u/availability", dom, i);
		ok = pvio_store_writef(h, t, p, "%s",
				       i < vcpus ? "online" : "offline");
		free(p);
	}
	return ok;
}

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
	ok = ok && write_resource_nodes(h, t, dom, d->cfg);
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

/* Where a config's settings came from, for messages: "guest.cfg:3",
 * "command line" (line 0), or the whole config (line -1). */
static void where(char *out, size_t len, const char *file, int line)
{
	if (line > 0)
		snprintf(out, len, "%s:%d", file, line);
	else if (line < 0 && file)
		snprintf(out, len, "%s", file);
	else
		snprintf(out, len, "command line");
}

static void warn_setting(void *file, int line, const char *msg)
{
	char at[PATH_MAX + 16];
	where(at, sizeof(at), file, line);
	pvio_warn("%s: %s", at, msg);
}

/* An xl config file, whole: at most 1 MiB (a config is a few lines).
 * NULL after a message. */
static char *read_config_file(const char *path, size_t *len)
{
	enum { MAX_CONFIG = 1 << 20 };
	FILE *f = fopen(path, "r");
	if (!f) {
		pvio_err("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(MAX_CONFIG + 1);
	size_t n = buf ? fread(buf, 1, MAX_CONFIG + 1, f) : 0;
	bool bad = !buf || ferror(f);
	int err = errno;
	fclose(f);
	if (bad) {
		pvio_err("cannot read %s: %s", path,
			 buf ? strerror(err) : "out of memory");
		free(buf);
		return NULL;
	}
	if (n > MAX_CONFIG) {
		pvio_err("%s: larger than 1 MiB; not a domain configuration",
			 path);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/*
 * `pvio create [FILE] [KEY=VALUE...]`, as `xl create`: the settings of
 * FILE (xl.cfg(5) syntax), then those of the command line, which
 * override the file's. What pvio takes of them is xl_domain_from_cfg's.
 * 0 with cfg and d filled, 2 after a message.
 */
static int create_config(int argc, char **argv, struct xlcfg *cfg,
			 struct xl_domain *d, const char **file)
{
	char msg[512];
	int line;
	*file = NULL;
	for (int i = 1; i < argc; i++) {
		if (strchr(argv[i], '=')) {
			if (xlcfg_parse_override(argv[i], cfg, msg,
						 sizeof(msg))) {
				pvio_err("command line: %s", msg);
				return 2;
			}
			continue;
		}
		if (*file) {
			pvio_err("two configuration files ('%s' and '%s'); "
				 "usage: pvio create [FILE] [KEY=VALUE...]",
				 *file, argv[i]);
			return 2;
		}
		if (i != 1) {
			pvio_err("the configuration file '%s' comes before "
				 "KEY=VALUE overrides (usage: pvio create "
				 "[FILE] [KEY=VALUE...])",
				 argv[i]);
			return 2;
		}
		*file = argv[i];
		size_t len;
		char *text = read_config_file(*file, &len);
		if (!text)
			return 2;
		int rc = xlcfg_parse(text, len, cfg, &line, msg, sizeof(msg));
		free(text);
		if (rc) {
			pvio_err("%s:%d: %s", *file, line, msg);
			return 2;
		}
	}
	if (!cfg->n) {
		pvio_err("usage: pvio create name=NAME [KEY=VALUE...], or "
			 "pvio create FILE [KEY=VALUE...] (an xl config)");
		return 2;
	}
	if (xl_domain_from_cfg(cfg, d, warn_setting, (void *)*file, &line, msg,
			       sizeof(msg))) {
		char at[PATH_MAX + 16];
		where(at, sizeof(at), *file, line);
		pvio_err("%s: %s", at, msg);
		return 2;
	}
	return 0;
}

/* The vif specs of a config, checked before the domain exists: a bad
 * one is reported by its line and makes nothing. specs[i] are the
 * split copies the nics point into. 0, or 2 after a message. */
static int config_nics(const struct xl_domain *d, const char *file,
		       struct pvio_nic *nics, char **specs)
{
	char msg[256], at[PATH_MAX + 16];
	for (size_t i = 0; i < d->nvifs; i++) {
		specs[i] = strdup(d->vifs[i].text);
		if (!specs[i] ||
		    xl_vif_parse(specs[i], &nics[i], msg, sizeof(msg))) {
			where(at, sizeof(at), file, d->vifs[i].line);
			pvio_err("%s: vif %zu: %s", at, i + 1,
				 specs[i] ? msg : "out of memory");
			return 2;
		}
	}
	return 0;
}

/* The domain d describes, with its vifs; 0 or 1 after a message (what
 * was made of it is destroyed again, as xl create does). */
static int create_domain(const struct xl_domain *d, struct pvio_nic *nics,
			 size_t nnics)
{
	const char *name = d->name;
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
	if (d->uuid)
		snprintf(uuid, sizeof(uuid), "%s", d->uuid);
	else if (new_uuid(uuid)) {
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
	struct new_domain nd = {domid, name, uuid, d};
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
	for (size_t i = 0; i < nnics; i++) {
		if (domain_attach_vif(&host, xb, domid, name, &nics[i]))
			goto fail;
		printf("attached vif%u.%d\n", domid, nics[i].devid);
	}
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

int cmd_create(int argc, char **argv)
{
	struct xlcfg cfg = {NULL, 0};
	struct xl_domain d;
	const char *file;
	int rc = create_config(argc, argv, &cfg, &d, &file);
	/* Every vif of the config: libxl attaches a config's devices in
	 * list order, devid 0, 1, ... */
	size_t nvifs = rc ? 0 : d.nvifs;
	struct pvio_nic *nics = calloc(nvifs ? nvifs : 1, sizeof(*nics));
	char **specs = calloc(nvifs ? nvifs : 1, sizeof(*specs));
	if (!rc && (!nics || !specs)) {
		pvio_err("out of memory");
		rc = 1;
	}
	if (!rc)
		rc = config_nics(&d, file, nics, specs);
	if (!rc)
		rc = create_domain(&d, nics, nvifs);
	for (size_t i = 0; i < nvifs; i++)
		free(specs[i]);
	free(specs);
	free(nics);
	xlcfg_free(&cfg);
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

/* One `pvio list` row's figures. */
struct domain_figures {
	unsigned long mem_mib;
	unsigned vcpus;
	char state[7];
	double cpu_s;
};

/* Online vcpus as libxl records them (cpu/N/availability); 0 when the
 * domain has no cpu nodes (Domain-0, an older pvio's guest). */
static unsigned online_vcpus(struct xs_handle *h, unsigned domid)
{
	char *dir = pvio_strfmt("/local/domain/%u/cpu", domid);
	unsigned num, online = 0;
	char **ents = xs_directory(h, XBT_NULL, dir, &num);
	for (unsigned i = 0; ents && i < num; i++) {
		char *a = pvio_store_readf(h, XBT_NULL, "%s/%s/availability",
					   dir, ents[i]);
		online += a && !strcmp(a, "online");
		free(a);
	}
	free(ents);
	free(dir);
	return online;
}

/*
 * A domain's processes are its figures: Domain-0's are the host's
 * daemons, a guest's those in its namespace. Mem and VCPUs are what it
 * was created with where it has them (memory/target, cpu/N), else what
 * its processes use (resident memory, threads; Domain-0: the host's
 * CPUs).
 */
static void domain_figures(const struct host *host, struct xs_handle *h,
			   unsigned domid, struct domain_figures *f)
{
	pid_t pids[512];
	int n = 0;
	bool dying = false;
	if (domid == 0) {
		pid_t xsd = xenstored_pid(host), nb = netback_pid(host);
		if (xsd)
			pids[n++] = xsd;
		if (nb)
			pids[n++] = nb;
	} else {
		char netns[64];
		guest_netns(host, domid, netns, sizeof(netns));
		n = netns_pids(netns, pids, 512);
		dying = domain_dying(host, domid);
	}
	struct domain_usage u;
	procfs_usage(pids, n, &u);
	domain_state_letters(&u, dying, f->state);
	f->cpu_s = procfs_ticks_to_s(u.ticks);
	char *target = pvio_store_readf(
		h, XBT_NULL, "/local/domain/%u/memory/target", domid);
	unsigned long kib = target ? strtoul(target, NULL, 10) : 0;
	free(target);
	if (!kib)
		kib = (unsigned long)u.rss_kib;
	f->mem_mib = (kib + 1023) / 1024;
	f->vcpus = online_vcpus(h, domid);
	if (!f->vcpus) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		f->vcpus = domid == 0 ? (unsigned)(cpus > 0 ? cpus : 1)
				      : (unsigned)u.threads;
	}
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
	/* xl list's columns (xl_info.c), from what the domain was created
	 * with (memory/target, cpu/N) and what its processes do (/proc). */
	printf("Name                                        ID   Mem "
	       "VCPUs\tState\tTime(s)\n");
	for (int i = 0; i < n; i++) {
		struct domain_figures f;
		domain_figures(&host, h, ids[i], &f);
		char *name = pvio_store_readf(h, XBT_NULL,
					      "/local/domain/%u/name", ids[i]);
		printf("%-40s %5u %5lu %5u     %s  %8.1f\n",
		       name ? name : "(null)", ids[i], f.mem_mib, f.vcpus,
		       f.state, f.cpu_s);
		free(name);
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
