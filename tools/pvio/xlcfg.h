/* xl domain configuration files (xl.cfg(5)): the parser, and what pvio
 * takes from a parsed file. Pure functions (no I/O) over text that a
 * user wrote or was given, so that the unit tests and a fuzz target
 * cover them; every failure names the line. */
#ifndef PVIO_TOOLS_XLCFG_H
#define PVIO_TOOLS_XLCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "args.h"

enum xlcfg_type { XLCFG_STRING, XLCFG_NUMBER, XLCFG_LIST };

/* A string (unquoted, escapes resolved) or a number (its digits). */
struct xlcfg_atom {
	enum xlcfg_type type; /* XLCFG_STRING or XLCFG_NUMBER */
	char *text;
	int line;
};

/* One KEY = VALUE. line 0: given on the command line. */
struct xlcfg_setting {
	char *key;
	int line;
	enum xlcfg_type type;
	char *text;		  /* STRING, NUMBER */
	struct xlcfg_atom *items; /* LIST */
	size_t nitems;
};

struct xlcfg {
	struct xlcfg_setting *settings; /* in the order given */
	size_t n;
};

/* Parses len bytes of text and appends its settings to cfg (zeroed
 * before the first call). On failure returns -1, sets *err_line to the
 * offending line and writes the reason into err; cfg keeps what it had. */
int xlcfg_parse(const char *text, size_t len, struct xlcfg *cfg, int *err_line,
		char *err, size_t errlen);
/* A command-line override "KEY=VALUE", as `xl create FILE KEY=VALUE`
 * takes it: VALUE in the file's syntax ('...', "...", a number, [...]),
 * or else the bare text as a string. Appended with line 0. */
int xlcfg_parse_override(const char *arg, struct xlcfg *cfg, char *err,
			 size_t errlen);
/* The setting of key that counts (the last one, as xl), or NULL. */
const struct xlcfg_setting *xlcfg_get(const struct xlcfg *cfg, const char *key);
void xlcfg_free(struct xlcfg *cfg);

/* What a pvio domain takes from an xl config (docs/toolstack.md lists
 * the keys and the decision for each). Strings point into the cfg. */
struct xl_domain {
	const char *name;
	const char *uuid;		    /* NULL: a random one */
	unsigned long memory_mb, maxmem_mb; /* 0: not given */
	unsigned vcpus, maxvcpus;	    /* 0: not given */
	const struct xlcfg_atom *vifs;	    /* each a vif spec string */
	size_t nvifs;
};

/* Called for each key pvio ignores (line 0: the command line). */
typedef void (*xl_warn_fn)(void *ctx, int line, const char *msg);

/* Fills d from cfg. Keys that pvio ignores without changing what it
 * builds get a warning through warn; keys whose absence would change the
 * meaning (an HVM guest, passthrough), malformed values and a missing
 * name fail with -1, *err_line (0: the command line; -1: the whole
 * config, for a missing name) and err. */
int xl_domain_from_cfg(const struct xlcfg *cfg, struct xl_domain *d,
		       xl_warn_fn warn, void *ctx, int *err_line, char *err,
		       size_t errlen);

/* One vif spec ("mac=...,bridge=...", as in a vif = [ ... ] list) into
 * nic (initialised here). spec is split in place: nic points into it.
 * An empty spec is a vif with every default, as with xl. */
int xl_vif_parse(char *spec, struct pvio_nic *nic, char *err, size_t errlen);

#endif
