/*
 * pvio-xenstored core: paths, permissions, replies, the tree requests,
 * CONTROL, the dispatcher and the connections (Xen 4.17 wire semantics),
 * over the tree of xs_store.c. Transactions live in xs_txn.c, watches in
 * xs_watch.c, the domain requests in xs_domain.c. No I/O here.
 */
#include "config.h"

#include "xs_core_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const special_names[SPECIAL_COUNT] = {"@introduceDomain",
							 "@releaseDomain"};

void xsd_quota_defaults(struct xsd_quota *q)
{
	q->nodes = 1000;
	q->node_size = 2048;
	q->watches = 128;
	q->transactions = 10;
	q->perms = 5;
	q->txn_nodes = 1024;
	q->outstanding = 20;
	q->queued_frames = 1024;
	q->connections = 32;
	q->dom0_queue_bytes = 32u << 20;
}

void xsd_log(struct xsd *d, enum xsd_log_level level, const char *fmt, ...)
{
	if (!d->hooks.log || level > d->hooks.log_level)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->hooks.log(d->hooks.arg, level, msg);
}

static uint64_t now_ms(const struct xsd *d)
{
	if (d->hooks.now_ms)
		return d->hooks.now_ms(d->hooks.arg);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void xsd_log_dom(struct xsd *d, uint32_t domid, enum xsd_log_level level,
		 const char *fmt, ...)
{
	if (!d->hooks.log || level > d->hooks.log_level)
		return;
	/* Checked before formatting: a suppressed line costs a clock read. */
	struct domain *dom = domid ? domain_find(d, domid) : NULL;
	struct log_limit *l = dom ? &dom->log_limit : &d->log_limit;
	uint64_t now = now_ms(d);
	if (!l->lines || now - l->window_start >= LOG_WINDOW_MS) {
		if (l->suppressed)
			xsd_log(d, XSD_LOG_WARNING,
				"%u similar messages caused by %s%u suppressed",
				l->suppressed,
				dom ? "domain " : "domains, last ", domid);
		l->window_start = now;
		l->lines = 0;
		l->suppressed = 0;
	}
	if (l->lines >= LOG_LINES_PER_WINDOW) {
		l->suppressed++;
		return;
	}
	l->lines++;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->hooks.log(d->hooks.arg, level, msg);
}

/* ---- paths ---- */

static bool path_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '/' ||
	       ch == '_' || ch == '@';
}

static int special_index(const char *path)
{
	for (int i = 0; i < SPECIAL_COUNT; i++)
		if (!strcmp(path, special_names[i]))
			return i;
	return -1;
}

/* The length of the "/local/domain/<N>/" prefix of path, or 0. */
static size_t domain_home_len(const char *path)
{
	static const char prefix[] = "/local/domain/";
	const size_t pl = sizeof(prefix) - 1;
	if (strncmp(path, prefix, pl))
		return 0;
	size_t i = pl;
	while (path[i] >= '0' && path[i] <= '9')
		i++;
	return i > pl && path[i] == '/' ? i + 1 : 0;
}

/* Turns a client's path into the absolute canonical form. Specials (the
 * @ names) are accepted only where allow_special says so. */
int canon_path(const struct xsd_conn *c, const char *in, char *out,
	       bool allow_special, bool *relative)
{
	if (relative)
		*relative = false;
	if (in[0] == '@') {
		if (!allow_special || special_index(in) < 0)
			return EINVAL;
		strcpy(out, in);
		return 0;
	}
	size_t len = strlen(in);
	if (in[0] == '/') {
		if (len > XENSTORE_ABS_PATH_MAX)
			return EINVAL;
		memcpy(out, in, len + 1);
	} else {
		if (len == 0 || len > XENSTORE_REL_PATH_MAX)
			return EINVAL;
		snprintf(out, PATH_BUF, "%s/%s", c->home, in);
		if (relative)
			*relative = true;
	}
	for (const char *p = out; *p; p++) {
		if (!path_char_ok(*p))
			return EINVAL;
		if (p[0] == '/' && p[1] == '/')
			return EINVAL;
	}
	len = strlen(out);
	if (len > 1 && out[len - 1] == '/')
		return EINVAL;
	/* A guest's paths are held to XENSTORE_REL_PATH_MAX below any
	 * domain's home, and whole elsewhere (C xenstored's rule): with a
	 * watch token, a path must still fit one event frame. */
	if (!c->privileged &&
	    len - domain_home_len(out) > XENSTORE_REL_PATH_MAX)
		return EINVAL;
	return 0;
}

/* ---- domains and permissions ---- */

unsigned perm_mask(const struct xsd_conn *c, const struct xs_perm *p,
		   uint32_t np)
{
	if (c->privileged)
		return XSD_PERM_ALL | XSD_PERM_OWNER;
	const struct domain *dom = domain_find(c->d, c->domid);
	bool has_target = dom && dom->has_target;
	uint32_t target = has_target ? dom->target : 0;
	/* A domain acts for itself and, after SET_TARGET, for its target. */
	if (p[0].domid == c->domid || (has_target && p[0].domid == target))
		return XSD_PERM_ALL | XSD_PERM_OWNER;
	/* The first entry naming it (or its target) decides, as in C
	 * xenstored; later ones do not add rights. */
	for (uint32_t i = 1; i < np; i++)
		if (p[i].domid == c->domid ||
		    (has_target && p[i].domid == target))
			return p[i].mask;
	return p[0].mask;
}

/* ---- output frames ---- */

int queue_frame(struct xsd_conn *c, uint32_t type, uint32_t req_id,
		uint32_t tx_id, const void *p1, size_t l1, const void *p2,
		size_t l2, bool is_reply)
{
	/* No frame on the wire is longer: libxenstore drops a connection
	 * that sends one. */
	if (l1 + l2 > XENSTORE_PAYLOAD_MAX)
		return E2BIG;
	struct frame *f = malloc(sizeof(*f) + HDR_LEN + l1 + l2);
	if (!f)
		return ENOMEM;
	struct xsd_sockmsg h = {type, req_id, tx_id, (uint32_t)(l1 + l2)};
	memcpy(f->data, &h, HDR_LEN);
	if (l1)
		memcpy(f->data + HDR_LEN, p1, l1);
	if (l2)
		memcpy(f->data + HDR_LEN + l1, p2, l2);
	f->len = HDR_LEN + l1 + l2;
	f->off = 0;
	c->out_bytes += f->len;
	f->is_reply = is_reply;
	f->next = NULL;
	if (c->out_tail)
		c->out_tail->next = f;
	else
		c->out_head = f;
	c->out_tail = f;
	c->out_frames++;
	if (is_reply)
		c->out_replies++;
	return 0;
}

static const char *errno_name(int err)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "EIO";
}

void conn_kill(struct xsd_conn *c, const char *why)
{
	xsd_log_dom(c->d, c->domid, XSD_LOG_WARNING,
		    "closing connection of domain %u: %s", c->domid, why);
	c->dead = true;
}

/* A reply that cannot be queued closes the connection: its client would
 * otherwise wait for ever, not knowing whether its request was done. */
static void queue_reply(struct xsd_conn *c, uint32_t type,
			const struct xsd_sockmsg *req, const void *data,
			size_t len)
{
	int err = queue_frame(c, type, req->req_id, req->tx_id, data, len, NULL,
			      0, true);
	if (err)
		conn_kill(c, err == ENOMEM ? "out of memory for a reply"
					   : "reply longer than a frame");
}

static void send_error(struct xsd_conn *c, const struct xsd_sockmsg *req,
		       int err)
{
	const char *name = errno_name(err);
	queue_reply(c, XS_ERROR, req, name, strlen(name) + 1);
}

void send_reply(struct xsd_conn *c, const struct xsd_sockmsg *req,
		const void *data, size_t len)
{
	queue_reply(c, req->type, req, data, len);
}

void send_ok(struct xsd_conn *c, const struct xsd_sockmsg *req)
{
	send_reply(c, req, "OK", 3);
}

/* ---- special watches ---- */

void fire_special(struct xsd *d, enum special_node which)
{
	struct xs_node *n = &d->special[which];
	struct event *ev = event_new(special_names[which], false, n->perms,
				     n->nperms, NULL, 0);
	if (!ev) {
		xsd_log(d, XSD_LOG_ERROR, "out of memory: %s event lost",
			special_names[which]);
		return;
	}
	fire_event(d, ev);
	events_free(ev);
}

/* ---- argument parsing ---- */

/* Splits a payload of nul-terminated strings into argv; returns how many,
 * or -1 when there are more than max or the last is not terminated. */
static int split_args(const char *payload, uint32_t len, const char **argv,
		      unsigned max)
{
	unsigned found = 0;
	uint32_t start = 0;
	for (uint32_t i = 0; i < len; i++) {
		if (payload[i])
			continue;
		if (found == max)
			return -1;
		argv[found++] = payload + start;
		start = i + 1;
	}
	return start == len ? (int)found : -1;
}

/* Splits a payload of exactly n nul-terminated strings. */
bool get_args(const char *payload, uint32_t len, const char **argv, unsigned n)
{
	return split_args(payload, len, argv, n) == (int)n;
}

bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

bool parse_domid(const char *s, uint32_t *domid)
{
	uint64_t v;
	if (!parse_uint(s, DOMID_LIMIT - 1, &v))
		return false;
	*domid = (uint32_t)v;
	return true;
}

static int parse_perm(const char *s, struct xs_perm *p)
{
	switch (s[0]) {
	case 'n':
		p->mask = 0;
		break;
	case 'r':
		p->mask = XSD_PERM_READ;
		break;
	case 'w':
		p->mask = XSD_PERM_WRITE;
		break;
	case 'b':
		p->mask = XSD_PERM_ALL;
		break;
	default:
		return EINVAL;
	}
	uint64_t v;
	if (!parse_uint(s + 1, UINT32_MAX, &v))
		return EINVAL;
	p->domid = (uint32_t)v;
	return 0;
}

/* ---- the tree operations ---- */

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

/* ---- message handlers ---- */

/* Reads one path argument and canonicalises it. */
static int one_path(struct req *r, char *path)
{
	const char *argv[1] = {0};
	if (!get_args(r->payload, r->h->len, argv, 1))
		return EINVAL;
	return canon_path(r->op->c, argv[0], path, false, NULL);
}

static int do_read(struct req *r)
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

static int do_write(struct req *r)
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

static int do_mkdir(struct req *r)
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

static int do_rm(struct req *r)
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

static int do_directory(struct req *r)
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
static int do_directory_part(struct req *r)
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

static int do_get_perms(struct req *r)
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

static int do_set_perms(struct req *r)
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

static int do_reset_watches(struct req *r)
{
	conn_drop_watches(r->op->c);
	conn_drop_txns(r->op->c);
	send_ok(r->op->c, r->h);
	return 0;
}

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
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(fields[i].name, name))
			return (unsigned *)((char *)q + fields[i].off);
	return NULL;
}

static int do_control(struct req *r)
{
	struct xsd *d = r->op->d;
	const char *argv[3] = {0};
	int argc = split_args(r->payload, r->h->len, argv, 3);
	if (argc < 1)
		return EINVAL;
	char buf[1024];
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
	} else if (!strcmp(argv[0], "quota") && argc == 1) {
		const struct xsd_quota *q = &d->quota;
		len = snprintf(
			buf, sizeof(buf),
			"nodes %u\nnode-size %u\nwatches %u\ntransactions "
			"%u\nperms %u\ntransaction-nodes %u\noutstanding "
			"%u\nqueued-frames %u\nconnections %u\n"
			"dom0-queue-bytes %u\n",
			q->nodes, q->node_size, q->watches, q->transactions,
			q->perms, q->txn_nodes, q->outstanding,
			q->queued_frames, q->connections, q->dom0_queue_bytes);
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

typedef int (*handler_fn)(struct req *r);

static const struct {
	handler_fn fn;
	bool in_txn; /* runs inside the header's transaction */
	bool priv;   /* dom0 only: EACCES for a guest */
} handlers[XS_TYPE_COUNT] = {
	[XS_CONTROL] = {do_control, false, true},
	[XS_DIRECTORY] = {do_directory, true, false},
	[XS_READ] = {do_read, true, false},
	[XS_GET_PERMS] = {do_get_perms, true, false},
	[XS_WATCH] = {do_watch, false, false},
	[XS_UNWATCH] = {do_unwatch, false, false},
	[XS_TRANSACTION_START] = {do_txn_start, false, false},
	[XS_TRANSACTION_END] = {do_txn_end, true, false},
	[XS_INTRODUCE] = {do_introduce, false, true},
	[XS_RELEASE] = {do_release, false, true},
	[XS_GET_DOMAIN_PATH] = {do_get_domain_path, false, false},
	[XS_WRITE] = {do_write, true, false},
	[XS_MKDIR] = {do_mkdir, true, false},
	[XS_RM] = {do_rm, true, false},
	[XS_SET_PERMS] = {do_set_perms, true, false},
	[XS_IS_DOMAIN_INTRODUCED] = {do_is_domain_introduced, false, true},
	[XS_RESUME] = {do_resume, false, true},
	[XS_SET_TARGET] = {do_set_target, false, true},
	[XS_RESET_WATCHES] = {do_reset_watches, false, false},
	[XS_DIRECTORY_PART] = {do_directory_part, true, false},
};

static const char *type_name(uint32_t type)
{
	static const char *const names[XS_TYPE_COUNT] = {
		[XS_CONTROL] = "CONTROL",
		[XS_DIRECTORY] = "DIRECTORY",
		[XS_READ] = "READ",
		[XS_GET_PERMS] = "GET_PERMS",
		[XS_WATCH] = "WATCH",
		[XS_UNWATCH] = "UNWATCH",
		[XS_TRANSACTION_START] = "TRANSACTION_START",
		[XS_TRANSACTION_END] = "TRANSACTION_END",
		[XS_INTRODUCE] = "INTRODUCE",
		[XS_RELEASE] = "RELEASE",
		[XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
		[XS_WRITE] = "WRITE",
		[XS_MKDIR] = "MKDIR",
		[XS_RM] = "RM",
		[XS_SET_PERMS] = "SET_PERMS",
		[XS_WATCH_EVENT] = "WATCH_EVENT",
		[XS_ERROR] = "ERROR",
		[XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
		[XS_RESUME] = "RESUME",
		[XS_SET_TARGET] = "SET_TARGET",
		[XS_RESET_WATCHES] = "RESET_WATCHES",
		[XS_DIRECTORY_PART] = "DIRECTORY_PART",
	};
	return type < XS_TYPE_COUNT && names[type] ? names[type] : "unknown";
}

/* Handles one request; returns 0 or the errno its error reply carried. */
static int handle(struct xsd_conn *c, const struct xsd_sockmsg *h,
		  const char *payload)
{
	struct op op = {.d = c->d, .c = c};
	op.events_tail = &op.events;
	struct req r = {&op, h, payload};

	if (h->type >= XS_TYPE_COUNT || !handlers[h->type].fn)
		return ENOSYS;
	if (handlers[h->type].priv && !c->privileged)
		return EACCES;
	/* As in C xenstored, a transaction id must name an open transaction
	 * whatever the request (WATCH and UNWATCH ignore it); only some
	 * requests run inside it. */
	if (h->tx_id && h->type != XS_WATCH && h->type != XS_UNWATCH) {
		struct txn *t = txn_find(c, h->tx_id);
		if (!t)
			return ENOENT;
		if (handlers[h->type].in_txn)
			op.t = t;
	} else if (h->type == XS_TRANSACTION_END) {
		return ENOENT;
	}
	int err = handlers[h->type].fn(&r);
	/* Out of memory half-way, a request may have left the transaction's
	 * copies half-changed: the transaction can no longer commit. */
	if (err == ENOMEM && op.t)
		op.t->lost_change = true;
	if (!err)
		fire_events(c->d, op.events);
	events_free(op.events);
	return err;
}

static void dispatch(struct xsd_conn *c, const struct xsd_sockmsg *h,
		     const unsigned char *raw)
{
	/* A private, nul-terminated copy: the handlers parse strings. */
	char payload[XENSTORE_PAYLOAD_MAX + 1];
	memcpy(payload, raw, h->len);
	payload[h->len] = '\0';

	int err = handle(c, h, payload);
	if (err)
		send_error(c, h, err);
	if (!c->d->hooks.log || c->d->hooks.log_level < XSD_LOG_DEBUG)
		return;
	/* The first argument (usually the path) says enough; clients choose
	 * its bytes, so only printable ones reach the log. */
	char arg[201];
	size_t i = 0;
	for (; i < sizeof(arg) - 1 && payload[i]; i++)
		arg[i] = payload[i] >= 0x20 && payload[i] < 0x7f ? payload[i]
								 : '?';
	arg[i] = '\0';
	xsd_log(c->d, XSD_LOG_DEBUG, "domain %u%s: %s %s (tx %u): %s", c->domid,
		c->privileged ? " (dom0 socket)" : "", type_name(h->type), arg,
		h->tx_id, err ? errno_name(err) : "OK");
}

/* ---- connections ---- */

static bool output_blocked(const struct xsd_conn *c)
{
	return c->out_replies >= c->d->quota.outstanding;
}

int xsd_conn_process(struct xsd_conn *c)
{
	size_t off = 0;
	int dispatched = 0;
	while (!c->dead && !output_blocked(c)) {
		struct xsd_sockmsg h;
		if (c->in_len - off < HDR_LEN)
			break;
		memcpy(&h, c->in + off, HDR_LEN);
		if (h.len > XENSTORE_PAYLOAD_MAX) {
			conn_kill(c, "frame longer than XENSTORE_PAYLOAD_MAX");
			break;
		}
		if (c->in_len - off < HDR_LEN + h.len)
			break;
		dispatch(c, &h, c->in + off + HDR_LEN);
		off += HDR_LEN + h.len;
		dispatched++;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return c->dead ? -1 : dispatched;
}

void *xsd_conn_in_space(struct xsd_conn *c, size_t *avail)
{
	*avail = (c->dead || output_blocked(c)) ? 0 : sizeof(c->in) - c->in_len;
	return c->in + c->in_len;
}

int xsd_conn_in_commit(struct xsd_conn *c, size_t n)
{
	c->in_len += n;
	return xsd_conn_process(c) < 0 ? -1 : 0;
}

int xsd_conn_feed_all(struct xsd_conn *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len && !c->dead) {
		size_t avail;
		void *space = xsd_conn_in_space(c, &avail);
		if (!avail) {
			/* Nobody reads here: discard what is queued. */
			size_t l;
			while (xsd_conn_out_peek(c, &l))
				xsd_conn_out_consume(c, l);
			continue;
		}
		size_t n = len < avail ? len : avail;
		memcpy(space, p, n);
		p += n;
		len -= n;
		if (xsd_conn_in_commit(c, n) < 0)
			return -1;
	}
	return c->dead ? -1 : 0;
}

const void *xsd_conn_out_peek(const struct xsd_conn *c, size_t *len)
{
	if (!c->out_head) {
		*len = 0;
		return NULL;
	}
	*len = c->out_head->len - c->out_head->off;
	return c->out_head->data + c->out_head->off;
}

void xsd_conn_out_consume(struct xsd_conn *c, size_t n)
{
	while (n && c->out_head) {
		struct frame *f = c->out_head;
		size_t left = f->len - f->off;
		size_t take = n < left ? n : left;
		f->off += take;
		n -= take;
		if (f->off < f->len)
			break;
		c->out_head = f->next;
		if (!c->out_head)
			c->out_tail = NULL;
		c->out_frames--;
		c->out_bytes -= f->len;
		if (f->is_reply)
			c->out_replies--;
		free(f);
	}
}

bool xsd_conn_has_output(const struct xsd_conn *c)
{
	return c->out_head != NULL;
}

struct xsd_conn *xsd_conn_new(struct xsd *d, unsigned domid, bool privileged)
{
	if (!privileged) {
		if (!domain_find(d, domid)) {
			errno = ENOENT;
			return NULL;
		}
		/* Each connection costs the daemon memory and a descriptor. */
		unsigned open = 0;
		for (struct xsd_conn *o = d->conns; o; o = o->next)
			open += !o->privileged && !o->dead && o->domid == domid;
		if (open >= d->quota.connections) {
			xsd_log_dom(d, domid, XSD_LOG_WARNING,
				    "domain %u has %u connections: refused",
				    domid, open);
			errno = EMFILE;
			return NULL;
		}
	}
	struct xsd_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->d = d;
	c->domid = privileged ? 0 : domid;
	c->privileged = privileged;
	c->next_txn_id = 1;
	snprintf(c->home, sizeof(c->home), "/local/domain/%u", c->domid);
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	return c;
}

void xsd_conn_free(struct xsd_conn *c)
{
	if (!c)
		return;
	conn_drop_watches(c);
	conn_drop_txns(c);
	size_t l;
	while (xsd_conn_out_peek(c, &l))
		xsd_conn_out_consume(c, l);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

unsigned xsd_conn_domid(const struct xsd_conn *c)
{
	return c->domid;
}

bool xsd_conn_is_dead(const struct xsd_conn *c)
{
	return c->dead;
}

void *xsd_conn_get_user(const struct xsd_conn *c)
{
	return c->user;
}

void xsd_conn_set_user(struct xsd_conn *c, void *user)
{
	c->user = user;
}

struct xsd_conn *xsd_conn_first(struct xsd *d)
{
	return d->conns;
}

struct xsd_conn *xsd_conn_next(struct xsd_conn *c)
{
	return c->next;
}

/* ---- the daemon state ---- */

struct xsd *xsd_new(const struct xsd_quota *quota,
		    const struct xsd_hooks *hooks)
{
	struct xsd *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	if (quota)
		d->quota = *quota;
	else
		xsd_quota_defaults(&d->quota);
	if (hooks)
		d->hooks = *hooks;
	xs_store_init(&d->store);
	/* Untouched pages cost no memory. */
	d->released_at = calloc(DOMID_LIMIT, sizeof(*d->released_at));
	if (!d->released_at) {
		free(d);
		return NULL;
	}
	static const struct xs_perm dom0_only = {0, 0};
	/* The skeleton every Xen host has, owned by dom0. */
	static const char *const skeleton[] = {"/", "/local", "/local/domain",
					       "/tool"};
	for (size_t i = 0; i < sizeof(skeleton) / sizeof(skeleton[0]); i++) {
		struct xs_node *n = xs_node_new(skeleton[i], &dom0_only, 1);
		if (!n || xs_store_insert(&d->store, n)) {
			xs_node_free(n);
			xsd_free(d);
			return NULL;
		}
		if (i > 0) {
			char parent[PATH_BUF];
			const char *name = xs_path_parent(skeleton[i], parent);
			if (xs_node_add_child(xs_store_get(&d->store, parent),
					      name)) {
				xsd_free(d);
				return NULL;
			}
		}
	}
	for (int i = 0; i < SPECIAL_COUNT; i++) {
		d->special[i].perms = malloc(sizeof(struct xs_perm));
		if (!d->special[i].perms) {
			xsd_free(d);
			return NULL;
		}
		d->special[i].perms[0] = dom0_only;
		d->special[i].nperms = 1;
	}
	return d;
}

void xsd_free(struct xsd *d)
{
	if (!d)
		return;
	while (d->conns)
		xsd_conn_free(d->conns);
	while (d->domains) {
		struct domain *dom = d->domains;
		d->domains = dom->next;
		free(dom);
	}
	xs_store_destroy(&d->store);
	for (int i = 0; i < SPECIAL_COUNT; i++)
		free(d->special[i].perms);
	free(d->released_at);
	free(d);
}

const struct xsd_quota *xsd_get_quota(const struct xsd *d)
{
	return &d->quota;
}

size_t xsd_node_count(const struct xsd *d)
{
	return d->store.nodes.count;
}
