/* pvio-xenstored CONTROL: check, memreport, quota (dom0 only). */
#include "config.h"

#include "xs_core_int.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* CONTROL commands: small and useful for operators and tests. */
static unsigned *quota_field(struct xsd_quota *q, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{"nodes", offsetof(struct xsd_quota, nodes)},
		{"node-size", offsetof(struct xsd_quota, node_size)},
		{"watches", offsetof(struct xsd_quota, watches)},
		{"transactions", offsetof(struct xsd_quota, transactions)},
		{"perms", offsetof(struct xsd_quota, perms)},
		{"transaction-nodes", offsetof(struct xsd_quota, txn_nodes)},
		{"outstanding", offsetof(struct xsd_quota, outstanding)},
		{"queued-frames", offsetof(struct xsd_quota, queued_frames)},
		{"connections", offsetof(struct xsd_quota, connections)},
		{"dom0-queue-bytes",
		 offsetof(struct xsd_quota, dom0_queue_bytes)},
		{"memory-per-domain", offsetof(struct xsd_quota, memory)},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(fields[i].name, name))
			return (unsigned *)((char *)q + fields[i].off);
	return NULL;
}

int do_control(struct req *r)
{
	struct xsd *d = r->op->d;
	const char *argv[3] = {0};
	int argc = split_args(r->payload, r->h->len, argv, 3);
	if (argc < 1)
		return EINVAL;
	char buf[XENSTORE_PAYLOAD_MAX - 1];
	int len;
	if (!strcmp(argv[0], "help")) {
		len = snprintf(buf, sizeof(buf),
			       "check\nhelp\nmemreport\nquota [NAME VALUE]\n");
	} else if (!strcmp(argv[0], "check")) {
		if (!xs_store_consistent(&d->store))
			return EIO;
		len = snprintf(buf, sizeof(buf), "OK");
	} else if (!strcmp(argv[0], "memreport")) {
		size_t conns = 0, doms = 0;
		for (struct xsd_conn *c = d->conns; c; c = c->next)
			conns++;
		for (struct domain *o = d->domains; o; o = o->next)
			doms++;
		len = snprintf(buf, sizeof(buf),
			       "nodes %zu\nconnections %zu\ndomains %zu\n",
			       d->store.nodes.count, conns, doms);
		/* What each introduced domain holds, while the reply has
		 * room. */
		for (struct domain *o = d->domains; o; o = o->next) {
			if (!o->introduced)
				continue;
			int l = snprintf(buf + len, sizeof(buf) - (size_t)len,
					 "domain %u memory %zu transactions %u "
					 "watches %u\n",
					 o->domid, o->memory, o->ntxns,
					 o->nwatches);
			if (l < 0 || (size_t)(len + l) >= sizeof(buf)) {
				buf[len] = '\0';
				break;
			}
			len += l;
		}
	} else if (!strcmp(argv[0], "quota") && argc == 1) {
		const struct xsd_quota *q = &d->quota;
		len = snprintf(
			buf, sizeof(buf),
			"nodes %u\nnode-size %u\nwatches %u\ntransactions "
			"%u\nperms %u\ntransaction-nodes %u\noutstanding "
			"%u\nqueued-frames %u\nconnections %u\n"
			"dom0-queue-bytes %u\nmemory-per-domain %u\n",
			q->nodes, q->node_size, q->watches, q->transactions,
			q->perms, q->txn_nodes, q->outstanding,
			q->queued_frames, q->connections, q->dom0_queue_bytes,
			q->memory);
	} else if (!strcmp(argv[0], "quota") && argc == 3) {
		unsigned *f = quota_field(&d->quota, argv[1]);
		uint64_t v;
		if (!f || !parse_uint(argv[2], UINT32_MAX, &v) || v == 0)
			return EINVAL;
		*f = (unsigned)v;
		len = snprintf(buf, sizeof(buf), "OK");
	} else {
		return EINVAL;
	}
	send_reply(r->op->c, r->h, buf, (size_t)len + 1);
	return 0;
}
