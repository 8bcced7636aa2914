/*
 * pvio-xenstored tree requests: READ, WRITE, MKDIR, RM, DIRECTORY,
 * DIRECTORY_PART, GET_PERMS, SET_PERMS, over the walk that checks
 * permissions and creates or removes nodes (through xs_txn.c's access).
 */
#include "config.h"

#include "xs_core_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The errno for a node that does not exist: EACCES when the caller has
 * none of the rights it needed on the nearest existing ancestor (as C
 * xenstored), so that denial leaks nothing. */
static int missing_errno(struct op *op, const char *path, unsigned need)
{
	if (op->c->privileged)
		return ENOENT;
	char buf[PATH_BUF];
	strcpy(buf, path);
	while (strcmp(buf, "/")) {
		char parent[PATH_BUF];
		xs_path_parent(buf, parent);
		strcpy(buf, parent);
		int err;
		const struct xs_node *n = op_get(op, buf, &err);
		if (err)
			return err;
		if (n)
			return perm_mask(op->c, n->perms, n->nperms) & need
				       ? ENOENT
				       : EACCES;
	}
	return ENOENT;
}

static const struct xs_node *get_checked(struct op *op, const char *path,
					 unsigned need, int *err)
{
	const struct xs_node *n = op_get(op, path, err);
	if (*err)
		return NULL;
	if (!n) {
		*err = missing_errno(op, path, need);
		return NULL;
	}
	if ((perm_mask(op->c, n->perms, n->nperms) & need) != need) {
		*err = EACCES;
		return NULL;
	}
	return n;
}

static bool over_size(const struct op *op, const struct xs_node *n)
{
	return !op->c->privileged &&
	       xs_node_record_size(n) > op->d->quota.node_size;
}

/* Would creating path below its nearest existing ancestor a (alen bytes
 * of path, 0 for the root) put any node over the size quota: a with its
 * new child name, each new parent with its one child name, the new node
 * with a value of vlen bytes? Every new node inherits a's number of
 * permissions. Checked before anything is created, so that a refusal
 * leaves no half-made chain behind. */
static bool creation_over_size(const struct op *op, const struct xs_node *a,
			       size_t alen, const char *path, uint32_t vlen)
{
	if (op->c->privileged)
		return false;
	size_t limit = op->d->quota.node_size;
	size_t perms = a->nperms * 8u, have = xs_node_record_size(a);
	const char *name = path + alen + 1;
	while (true) {
		const char *end = strchr(name, '/');
		size_t nl = end ? (size_t)(end - name) : strlen(name);
		if (have + nl + 1 > limit)
			return true;
		if (!end)
			return perms + vlen > limit;
		have = perms;
		name = end + 1;
	}
}

/* Returns the node at path, creating it and any missing parents (each
 * inherits its parent's permissions; an unprivileged creator becomes the
 * owner). A new node must have room for a value of vlen bytes. *created
 * tells whether the node itself is new. */
static struct xs_node *get_or_create(struct op *op, const char *path,
				     uint32_t vlen, bool *created, int *err)
{
	*created = false;
	const struct xs_node *n = op_get(op, path, err);
	if (*err)
		return NULL;
	if (n) {
		if (!(perm_mask(op->c, n->perms, n->nperms) & XSD_PERM_WRITE)) {
			*err = EACCES;
			return NULL;
		}
		return op_modify(op, path, err);
	}

	/* Find the nearest existing ancestor and count what is missing. */
	char anc[PATH_BUF];
	strcpy(anc, path);
	unsigned missing = 0;
	const struct xs_node *a = NULL;
	while (!a) {
		/* The root always exists; should it not, fail, never spin. */
		if (!strcmp(anc, "/")) {
			xsd_log(op->d, XSD_LOG_ERROR,
				"the root node is missing");
			*err = EIO;
			return NULL;
		}
		char parent[PATH_BUF];
		xs_path_parent(anc, parent);
		strcpy(anc, parent);
		missing++;
		a = op_get(op, anc, err);
		if (*err)
			return NULL;
	}
	if (!(perm_mask(op->c, a->perms, a->nperms) & XSD_PERM_WRITE)) {
		*err = EACCES;
		return NULL;
	}
	if (!op->c->privileged) {
		long have = xs_store_owned(&op->d->store, op->c->domid) +
			    (op->t ? op->t->node_delta : 0);
		if (have + (long)missing > (long)op->d->quota.nodes) {
			*err = ENOSPC;
			return NULL;
		}
	}

	size_t alen = strcmp(anc, "/") ? strlen(anc) : 0;
	if (creation_over_size(op, a, alen, path, vlen)) {
		*err = ENOSPC;
		return NULL;
	}

	/* Create downwards from the ancestor. */
	struct xs_node *parent = op_modify(op, anc, err);
	if (!parent)
		return NULL;
	while (true) {
		const char *name = path + alen + 1;
		const char *end = strchr(name, '/');
		size_t clen = end ? (size_t)(end - path) : strlen(path);
		char child[PATH_BUF], cname[PATH_BUF];
		memcpy(child, path, clen);
		child[clen] = '\0';
		memcpy(cname, name, clen - alen - 1);
		cname[clen - alen - 1] = '\0';

		struct xs_node *nn =
			xs_node_new(child, parent->perms, parent->nperms);
		if (!nn) {
			*err = ENOMEM;
			return NULL;
		}
		if (!op->c->privileged)
			nn->perms[0].domid = op->c->domid;
		*err = xs_node_add_child(parent, cname);
		if (*err) {
			xs_node_free(nn);
			return NULL;
		}
		op_touch(op, parent);
		*err = op_insert(op, nn);
		if (*err) {
			xs_node_remove_child(parent, cname);
			xs_node_free(nn);
			return NULL;
		}
		if (!end) {
			*created = true;
			return nn;
		}
		alen = clen;
		parent = nn;
	}
}

/* Removes the subtree at path (len bytes, in a buffer of PATH_BUF that
 * child paths are built in), queueing an exact event for every removed
 * descendant; the caller queues the event for the root. Outside a
 * transaction nothing here can fail half-way: it allocates nothing but
 * the events, whose loss is logged. */
static int remove_subtree(struct op *op, char *path, size_t len)
{
	int err;
	const struct xs_node *n = op_get(op, path, &err);
	if (!n)
		return err;
	uint32_t nc = n->nchildren;
	for (uint32_t i = 0; i < nc; i++) {
		/* Look again: in a transaction removing a child may have
		 * replaced n's copy. */
		n = op_get(op, path, &err);
		if (!n)
			return err ? err : EIO;
		size_t nl = strlen(n->children[i]);
		if (len + 1 + nl >= PATH_BUF)
			return EIO; /* a store path is never this long */
		path[len] = '/';
		memcpy(path + len + 1, n->children[i], nl + 1);
		const struct xs_node *cn = op_get(op, path, &err);
		if (cn) {
			op_event(op, path, true, cn->perms, cn->nperms);
			err = remove_subtree(op, path, len + 1 + nl);
		}
		path[len] = '\0';
		if (err)
			return err;
	}
	return op_remove(op, path);
}

int rm_node(struct op *op, const char *path)
{
	/* The root can never be removed, by any request. */
	if (!strcmp(path, "/"))
		return EINVAL;
	int err;
	const struct xs_node *n = op_get(op, path, &err);
	if (err)
		return err;
	if (!n)
		return ENOENT;
	/* On the heap (paths nest ~1500 levels deep, the recursion must
	 * stay small), and before anything changes. */
	char *buf = malloc(PATH_BUF);
	if (!buf)
		return ENOMEM;
	op_event(op, path, false, n->perms, n->nperms);
	char parent_path[PATH_BUF];
	const char *name = xs_path_parent(path, parent_path);
	size_t len = strlen(path);
	memcpy(buf, path, len + 1);
	err = remove_subtree(op, buf, len);
	free(buf);
	if (err)
		return err;
	struct xs_node *parent = op_modify(op, parent_path, &err);
	if (!parent)
		return err ? err : EIO;
	xs_node_remove_child(parent, name);
	op_touch(op, parent);
	return 0;
}

/* Reads one path argument and canonicalises it. */
static int one_path(struct req *r, char *path)
{
	const char *argv[1] = {0};
	if (!get_args(r->payload, r->h->len, argv, 1))
		return EINVAL;
	return canon_path(r->op->c, argv[0], path, false, NULL);
}

int do_read(struct req *r)
{
	char path[PATH_BUF];
	int err = one_path(r, path);
	if (err)
		return err;
	const struct xs_node *n = get_checked(r->op, path, XSD_PERM_READ, &err);
	if (!n)
		return err;
	send_reply(r->op->c, r->h, n->value, n->value_len);
	return 0;
}

int do_write(struct req *r)
{
	const char *nul = memchr(r->payload, 0, r->h->len);
	if (!nul)
		return EINVAL;
	char path[PATH_BUF];
	int err = canon_path(r->op->c, r->payload, path, false, NULL);
	if (err)
		return err;
	const char *value = nul + 1;
	uint32_t vlen = r->h->len - (uint32_t)(value - r->payload);
	if (!r->op->c->privileged && vlen > r->op->d->quota.node_size)
		return ENOSPC;
	bool created;
	struct xs_node *n = get_or_create(r->op, path, vlen, &created, &err);
	if (!n)
		return err;
	char *old = n->value;
	uint32_t old_len = n->value_len;
	n->value = NULL;
	n->value_len = 0;
	err = xs_node_set_value(n, value, vlen);
	if (!err && over_size(r->op, n)) {
		free(n->value);
		err = ENOSPC;
	}
	if (err) {
		n->value = old;
		n->value_len = old_len;
		return err;
	}
	free(old);
	op_touch(r->op, n);
	op_event(r->op, path, false, n->perms, n->nperms);
	send_ok(r->op->c, r->h);
	return 0;
}

int do_mkdir(struct req *r)
{
	char path[PATH_BUF];
	int err = one_path(r, path);
	if (err)
		return err;
	const struct xs_node *n = op_get(r->op, path, &err);
	if (err)
		return err;
	if (!n) {
		bool created;
		struct xs_node *nn =
			get_or_create(r->op, path, 0, &created, &err);
		if (!nn)
			return err;
		op_event(r->op, path, false, nn->perms, nn->nperms);
	} else if (!(perm_mask(r->op->c, n->perms, n->nperms) &
		     XSD_PERM_WRITE)) {
		return EACCES;
	}
	send_ok(r->op->c, r->h);
	return 0;
}

int do_rm(struct req *r)
{
	char path[PATH_BUF];
	int err = one_path(r, path);
	if (err)
		return err;
	if (!strcmp(path, "/"))
		return EINVAL;
	const struct xs_node *n = op_get(r->op, path, &err);
	if (err)
		return err;
	if (!n) {
		/* A missing leaf under an existing parent is already gone,
		 * for a caller who could have removed it. */
		char parent_path[PATH_BUF];
		xs_path_parent(path, parent_path);
		const struct xs_node *p = op_get(r->op, parent_path, &err);
		if (err)
			return err;
		if (!p)
			return missing_errno(r->op, path, XSD_PERM_WRITE);
		if (!(perm_mask(r->op->c, p->perms, p->nperms) &
		      XSD_PERM_WRITE))
			return EACCES;
		send_ok(r->op->c, r->h);
		return 0;
	}
	if (!(perm_mask(r->op->c, n->perms, n->nperms) & XSD_PERM_WRITE))
		return EACCES;
	char parent_path[PATH_BUF];
	xs_path_parent(path, parent_path);
	err = op_rm_room(r->op, path, parent_path);
	if (err)
		return err;
	err = rm_node(r->op, path);
	if (err)
		return err;
	send_ok(r->op->c, r->h);
	return 0;
}

int do_directory(struct req *r)
{
	char path[PATH_BUF];
	int err = one_path(r, path);
	if (err)
		return err;
	const struct xs_node *n = get_checked(r->op, path, XSD_PERM_READ, &err);
	if (!n)
		return err;
	if (n->children_bytes > XENSTORE_PAYLOAD_MAX)
		return E2BIG;
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t len = 0;
	for (uint32_t i = 0; i < n->nchildren; i++) {
		size_t l = strlen(n->children[i]) + 1;
		memcpy(buf + len, n->children[i], l);
		len += l;
	}
	send_reply(r->op->c, r->h, buf, len);
	return 0;
}

/* DIRECTORY_PART: "generation\0" then whole child names from the byte
 * offset on; an extra nul marks the end of the list. An offset at or past
 * the end gets the empty list, as from C xenstored. */
int do_directory_part(struct req *r)
{
	const char *argv[2] = {0};
	if (!get_args(r->payload, r->h->len, argv, 2))
		return EINVAL;
	char path[PATH_BUF];
	int err = canon_path(r->op->c, argv[0], path, false, NULL);
	if (err)
		return err;
	uint64_t offset;
	if (!parse_uint(argv[1], UINT32_MAX, &offset))
		return EINVAL;
	const struct xs_node *n = get_checked(r->op, path, XSD_PERM_READ, &err);
	if (!n)
		return err;
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t len =
		(size_t)snprintf(buf, sizeof(buf), "%" PRIu64, n->generation) +
		1;
	size_t pos = 0;
	uint32_t i = 0;
	for (; i < n->nchildren && pos < offset; i++)
		pos += strlen(n->children[i]) + 1;
	for (; i < n->nchildren; i++) {
		size_t l = strlen(n->children[i]) + 1;
		/* Keep one byte for the end marker. */
		if (len + l + 1 > sizeof(buf))
			break;
		memcpy(buf + len, n->children[i], l);
		len += l;
	}
	if (i == n->nchildren)
		buf[len++] = '\0';
	send_reply(r->op->c, r->h, buf, len);
	return 0;
}

static struct xs_node *special_or_null(struct xsd *d, const char *path)
{
	int i = special_index(path);
	return i < 0 ? NULL : &d->special[i];
}

int do_get_perms(struct req *r)
{
	const char *argv[1] = {0};
	if (!get_args(r->payload, r->h->len, argv, 1))
		return EINVAL;
	char path[PATH_BUF];
	int err = canon_path(r->op->c, argv[0], path, true, NULL);
	if (err)
		return err;
	const struct xs_node *n = special_or_null(r->op->d, path);
	if (n) {
		if (!(perm_mask(r->op->c, n->perms, n->nperms) & XSD_PERM_READ))
			return EACCES;
	} else {
		n = get_checked(r->op, path, XSD_PERM_READ, &err);
		if (!n)
			return err;
	}
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t len = 0;
	static const char letters[] = "nrwb";
	for (uint32_t i = 0; i < n->nperms; i++) {
		int l = snprintf(buf + len, sizeof(buf) - len, "%c%" PRIu32,
				 letters[n->perms[i].mask & 3],
				 n->perms[i].domid);
		if (l < 0 || (size_t)l + 1 > sizeof(buf) - len)
			return E2BIG;
		len += (size_t)l + 1;
	}
	send_reply(r->op->c, r->h, buf, len);
	return 0;
}

int do_set_perms(struct req *r)
{
	struct op *op = r->op;
	const char *argv[XENSTORE_PAYLOAD_MAX + 1];
	int argc = split_args(r->payload, r->h->len, argv,
			      XENSTORE_PAYLOAD_MAX + 1);
	if (argc < 2)
		return EINVAL;
	uint32_t np = (uint32_t)argc - 1;
	if (!op->c->privileged && np > op->d->quota.perms)
		return ENOSPC;
	struct xs_perm *perms = calloc(np, sizeof(*perms));
	if (!perms)
		return ENOMEM;
	int err = 0;
	for (uint32_t i = 0; i < np && !err; i++)
		err = parse_perm(argv[i + 1], &perms[i]);
	char path[PATH_BUF];
	if (!err)
		err = canon_path(op->c, argv[0], path, true, NULL);
	/* dom0 vouches for the domains it names; entries naming a domain
	 * nobody knows grant nothing, now or to a later domain of that id. */
	for (uint32_t i = 0; i < np && !err && op->c->privileged; i++)
		if (perms[i].domid < DOMID_LIMIT)
			err = domain_declare(op->d, perms[i].domid);
	if (err)
		goto out;
	perms_drop_stale(op->d, perms, &np, 0);

	struct xs_node *special = special_or_null(op->d, path);
	if (special) {
		if (!op->c->privileged) {
			err = EACCES;
			goto out;
		}
		err = xs_node_set_perms(special, perms, np);
		if (!err)
			send_ok(op->c, r->h);
		goto out;
	}
	/* Write access is not enough: only the owner sets permissions. */
	const struct xs_node *cur =
		get_checked(op, path, XSD_PERM_WRITE | XSD_PERM_OWNER, &err);
	if (!cur)
		goto out;
	/* Only dom0 hands a node to another owner. */
	if (!op->c->privileged && perms[0].domid != cur->perms[0].domid) {
		err = EPERM;
		goto out;
	}
	/* Permissions count towards the node's size. */
	if (!op->c->privileged &&
	    xs_node_record_size(cur) - cur->nperms * 8u + np * 8u >
		    op->d->quota.node_size) {
		err = ENOSPC;
		goto out;
	}
	/* The new owner's count must exist before the node changes hands. */
	if (!op->t &&
	    (err = xs_store_reserve_owner(&op->d->store, perms[0].domid)))
		goto out;
	struct xs_node *n = op_modify(op, path, &err);
	if (!n)
		goto out;
	/* The node takes the new list; the old one serves the event (a
	 * watcher losing access hears of it, as from C xenstored) and is
	 * freed below. */
	struct xs_perm *old = n->perms;
	uint32_t nold = n->nperms;
	n->perms = perms;
	n->nperms = np;
	perms = old;
	if (!op->t && old[0].domid != n->perms[0].domid) {
		xs_store_account(&op->d->store, old[0].domid, -1);
		xs_store_account(&op->d->store, n->perms[0].domid, 1);
	}
	op_touch(op, n);
	op_event_perms(op, path, n->perms, n->nperms, old, nold);
	send_ok(op->c, r->h);
out:
	free(perms);
	return err;
}
