/*
 * The xenstore tree of pvio-xenstored: nodes with their values, permissions
 * and insertion-ordered children, indexed by full path, with a generation
 * counter for transaction conflict checks and per-domain node counts for
 * the quota. Internal to the daemon core (the xs_*.c files).
 */
#ifndef PVIO_XS_STORE_H
#define PVIO_XS_STORE_H

#include "xs_hmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Permission bits (the letters n, r, w, b). */
#define XSD_PERM_READ  1u
#define XSD_PERM_WRITE 2u
#define XSD_PERM_ALL   (XSD_PERM_READ | XSD_PERM_WRITE)

struct xs_perm {
	uint32_t domid;
	uint32_t mask;
};

struct xs_node {
	struct xs_hentry h; /* key: path */
	char *path;
	char *value;
	uint32_t value_len;
	struct xs_perm *perms; /* [0] is owner and default */
	uint32_t nperms;
	char **children; /* names, in insertion order */
	uint32_t nchildren, children_cap;
	size_t children_bytes; /* sum of strlen(name) + 1 */
	uint64_t generation;
};

struct xs_owner_count {
	uint32_t domid;
	long nodes;
};

struct xs_store {
	struct xs_hmap nodes;
	uint64_t generation;
	struct xs_owner_count *owners;
	size_t nowners;
};

void xs_store_init(struct xs_store *s);
/* Frees every node. */
void xs_store_destroy(struct xs_store *s);

struct xs_node *xs_node_new(const char *path, const struct xs_perm *perms,
			    uint32_t nperms);
struct xs_node *xs_node_dup(const struct xs_node *src);
void xs_node_free(struct xs_node *n);
/* What the node-size quota counts: value, child names and permissions. */
size_t xs_node_record_size(const struct xs_node *n);
/* These return 0 or ENOMEM and leave the node unchanged on failure. */
int xs_node_add_child(struct xs_node *n, const char *name);
int xs_node_set_value(struct xs_node *n, const char *value, uint32_t len);
int xs_node_set_perms(struct xs_node *n, const struct xs_perm *p, uint32_t np);
void xs_node_remove_child(struct xs_node *n, const char *name);

struct xs_node *xs_store_get(const struct xs_store *s, const char *path);
/* Takes the node, gives it a new generation and counts it for its owner;
 * 0 or ENOMEM. */
int xs_store_insert(struct xs_store *s, struct xs_node *n);
/* Unlinks, uncounts and frees the node (not its descendants). */
void xs_store_remove(struct xs_store *s, struct xs_node *n);
long xs_store_owned(struct xs_store *s, uint32_t domid);
/* Makes room for domid's node count; 0 or ENOMEM. Once reserved,
 * accounting for domid (and inserting its nodes) cannot fail for it. */
int xs_store_reserve_owner(struct xs_store *s, uint32_t domid);
/* 0, or ENOMEM when domid had no count and none could be made. */
int xs_store_account(struct xs_store *s, uint32_t domid, long delta);

/* Every listed child exists, every node but the root is listed, and the
 * per-owner node counts match the tree (CONTROL check). */
bool xs_store_consistent(const struct xs_store *s);

/* Splits "/a/b" into parent "/a" (written to parent, which must hold the
 * path) and returns the name "b". */
const char *xs_path_parent(const char *path, char *parent);
/* "parent/name" (no double slash under the root), on the heap: paths
 * nest deep, and recursive walks must not hold path buffers on the stack.
 * NULL when out of memory. */
char *xs_path_child(const char *parent, const char *name);
/* Is path at or below base? */
bool xs_path_under(const char *path, const char *base);

#endif
