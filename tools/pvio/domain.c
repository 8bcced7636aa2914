/* Guest domains: their ids and names in the store, their records in the
 * run directory, the identity of what runs in them, and their
 * destruction (shared by `pvio destroy` and `host stop`). */
#include "config.h"

#include "args.h"
#include "domain.h"
#include "files.h"
#include "host.h"
#include "ioemu_nic.h"
#include "msg.h"
#include "netns.h"
#include "store.h"
#include "vif.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
			char *name = pvio_store_readf(
				h, XBT_NULL, "/local/domain/%u/name", ids[i]);
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

char *domain_record_path(const struct host *host, unsigned domid)
{
	return pvio_strfmt("%s/domains/%u", host->rundir, domid);
}

void guest_netns(const struct host *host, unsigned domid, char *out, size_t len)
{
	char *rec = domain_record_path(host, domid);
	char *text = read_text_file(rec);
	free(rec);
	if (!text || kv_get(text, "netns", out, len))
		snprintf(out, len, "pvio-%s-%u", host->id, domid);
	free(text);
}

/* A transaction body: the domain's nodes and leftover backend dirs. */
static int remove_domain_nodes(struct pvio_xenbus *xb, xs_transaction_t t,
			       void *arg)
{
	unsigned domid = *(const unsigned *)arg;
	struct xs_handle *h = pvio_xenbus_handle(xb);
	char *vm = pvio_store_readf(h, t, "/local/domain/%u/vm", domid);
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
	pvio_store_rm_cleanup(h, t, p, "/local/domain/0");
	free(p);
	p = pvio_strfmt("/local/domain/0/device-model/%u", domid);
	pvio_store_rm_cleanup(h, t, p, "/local/domain/0");
	free(p);
	return 0;
}

/* The identity of a process that runs as domid inside its domain. */
void guest_env(const struct host *host, unsigned domid, char **env)
{
	env[0] = pvio_strfmt("PVIO_DOMID=%u", domid);
	char *sock = domid ? domain_socket(host, domid) : NULL;
	env[1] =
		pvio_strfmt("XENSTORED_PATH=%s", sock ? sock : host->xs_socket);
	free(sock);
	env[2] = pvio_strfmt("PVIO_RUNDIR=%s", host->rundir);
	env[3] = NULL;
}

bool domain_dying(const struct host *host, unsigned domid)
{
	char *rec = domain_record_path(host, domid);
	char *text = read_text_file(rec);
	char v[8];
	bool dying = text && !kv_get(text, "dying", v, sizeof(v));
	free(text);
	free(rec);
	return dying;
}

/* The record says so from the start of a destroy until it is gone (or,
 * when xenstored did not release the domain, until a second destroy). */
static void mark_dying(const struct host *host, unsigned domid)
{
	char *rec = domain_record_path(host, domid);
	char *text = read_text_file(rec);
	char v[8];
	if (text && kv_get(text, "dying", v, sizeof(v))) {
		char *marked = pvio_strfmt("%sdying=1\n", text);
		if (write_text_file(rec, marked))
			pvio_warn("cannot write %s", rec);
		free(marked);
	}
	free(text);
	free(rec);
}

int domain_destroy(const struct host *host, struct pvio_xenbus *xb,
		   unsigned domid)
{
	mark_dying(host, domid);
	struct xs_handle *h = xb ? pvio_xenbus_handle(xb) : NULL;
	bool released = true;
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
					vif_detach(host, xb, domid, devid,
						   true);
			}
			free(ents);
		}
		free(fe);
		free(be);
		ioemu_nic_detach_all(host, xb, domid);
		/* ENOENT: never introduced (a create that failed early). */
		errno = 0;
		if (!xs_release_domain(h, domid) && errno != ENOENT) {
			pvio_err("cannot release domain %u in xenstored: %s "
				 "(its nodes and record stay; `pvio destroy "
				 "%u` again, or `pvio host stop`)",
				 domid, strerror(errno ? errno : EIO), domid);
			released = false;
		}
	}
	netns_kill_all(netns);
	/* Its grants and ports die with it, as on Xen: nothing a later
	 * domain could inherit. */
	sim_state_remove(host, domid);
	netns_delete(netns);
	/* What xenstored still knows of stays findable: the nodes, for a
	 * second destroy, and the record, so that the id is not handed out
	 * again and host stop clears it. */
	if (!released)
		return -1;
	if (xb && pvio_xenbus_transaction(xb, remove_domain_nodes, &domid, 0))
		pvio_warn("cannot remove /local/domain/%u", domid);
	char *rec = domain_record_path(host, domid);
	unlink(rec);
	free(rec);
	return 0;
}

int domain_attach_vif(const struct host *host, struct pvio_xenbus *xb,
		      unsigned domid, const char *dom, struct pvio_nic *nic)
{
	unsigned backend;
	if (domid == 0) {
		pvio_err("cannot attach a vif to Domain-0");
		return -1;
	}
	if (resolve_domain(pvio_xenbus_handle(xb), nic->backend, &backend))
		return -1;
	if (backend != 0) {
		pvio_err("backend=%s: only Domain-0 runs backends on the sim "
			 "platform",
			 nic->backend);
		return -1;
	}
	bool ioemu = !strcmp(nic->type, "ioemu");
	if (!ioemu && nic->model) {
		pvio_err("model=%s applies to type=ioemu only", nic->model);
		return -1;
	}
	if (!ioemu)
		return vif_attach(host, xb, domid, dom, nic);
	if (nic->vifname || nic->rate_usecs || nic->ip ||
	    nic->mtu != PVIO_MTU_DEFAULT) {
		pvio_err(
			"type=ioemu takes mac, bridge, model, script and devid "
			"(vifname, rate, ip and mtu are for type=vif)");
		return -1;
	}
	if (!nic->model)
		nic->model = "rtl8139"; /* xl's default for an emulated NIC */
	char *script;
	char mac[18];
	if (vif_prepare(host, xb, domid, dom, nic, &script, mac))
		return -1;
	char netns[64];
	char *env[4];
	guest_netns(host, domid, netns, sizeof(netns));
	guest_env(host, domid, env);
	struct ioemu_guest guest = {netns, env};
	int rc = ioemu_nic_attach(host, xb, domid, nic, script, mac, &guest);
	for (int i = 0; env[i]; i++)
		free(env[i]);
	free(script);
	return rc;
}
