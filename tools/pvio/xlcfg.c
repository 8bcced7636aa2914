/* xl domain configuration files: the parser and pvio's reading of the
 * keys; see xlcfg.h. The syntax follows xl.cfg(5): KEY = VALUE settings
 * separated by newlines or ';', strings in single or double quotes with
 * C escapes, decimal or 0x numbers, lists in [ ] that may span lines,
 * '#' comments. */
#include "config.h"

#include "args.h"
#include "xlcfg.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lexer {
	const char *p, *end;
	int line;
	char *err;
	size_t errlen;
	int err_line;
};

static int fail(struct lexer *lx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct lexer *lx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(lx->err, lx->errlen, fmt, ap);
	va_end(ap);
	lx->err_line = lx->line;
	return -1;
}

/* A character for messages: printable as itself, else its code. */
static const char *shown(char c, char buf[8])
{
	if (isprint((unsigned char)c))
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", (unsigned char)c);
	return buf;
}

/* Skips blanks and comments; newlines too when in_list. */
static void skip_space(struct lexer *lx, bool in_list)
{
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (c == ' ' || c == '\t' || c == '\r') {
			lx->p++;
		} else if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (c == '\n' && in_list) {
			lx->line++;
			lx->p++;
		} else {
			return;
		}
	}
}

static bool ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

static char *dup_range(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	if (out) {
		memcpy(out, s, n);
		out[n] = 0;
	}
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A quoted string at lx->p, escapes resolved, into *out (malloc'd). */
static int lex_string(struct lexer *lx, char **out)
{
	char quote = *lx->p++;
	size_t cap = 16, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return fail(lx, "out of memory");
	for (;;) {
		if (lx->p >= lx->end || *lx->p == '\n') {
			free(buf);
			return fail(lx, "unterminated string (no closing %c)",
				    quote);
		}
		char c = *lx->p++;
		if (c == quote)
			break;
		if (c == '\\') {
			if (lx->p >= lx->end) {
				free(buf);
				return fail(lx,
					    "unterminated string (no "
					    "closing %c)",
					    quote);
			}
			char e = *lx->p++;
			int v;
			switch (e) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'a':
				c = '\a';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'v':
				c = '\v';
				break;
			case '\\':
			case '\'':
			case '"':
				c = e;
				break;
			case 'x':
				v = 0;
				for (int i = 0; i < 2; i++) {
					int d = lx->p < lx->end ? hexval(*lx->p)
								: -1;
					if (d < 0) {
						free(buf);
						return fail(lx,
							    "\\x needs two hex "
							    "digits");
					}
					v = v * 16 + d;
					lx->p++;
				}
				c = (char)v;
				break;
			default:
				if (e < '0' || e > '7') {
					char b[8];
					free(buf);
					return fail(lx,
						    "unknown escape \\%s in a "
						    "string",
						    e == '\n' ? "(newline)"
							      : shown(e, b));
				}
				v = e - '0';
				for (int i = 0; i < 2 && lx->p < lx->end &&
						*lx->p >= '0' && *lx->p <= '7';
				     i++)
					v = v * 8 + (*lx->p++ - '0');
				if (v > 255) {
					free(buf);
					return fail(lx, "octal escape above "
							"\\377");
				}
				c = (char)v;
			}
		}
		if (c == 0) {
			free(buf);
			return fail(lx, "a NUL character in a string");
		}
		if (n + 1 >= cap) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				return fail(lx, "out of memory");
			}
			buf = bigger;
			cap *= 2;
		}
		buf[n++] = c;
	}
	buf[n] = 0;
	*out = buf;
	return 0;
}

/* A decimal or 0x number at lx->p, its text into *out. */
static int lex_number(struct lexer *lx, char **out)
{
	const char *start = lx->p;
	if (lx->end - lx->p > 2 && lx->p[0] == '0' &&
	    (lx->p[1] == 'x' || lx->p[1] == 'X') && hexval(lx->p[2]) >= 0) {
		lx->p += 2;
		while (lx->p < lx->end && hexval(*lx->p) >= 0)
			lx->p++;
	} else {
		while (lx->p < lx->end && isdigit((unsigned char)*lx->p))
			lx->p++;
	}
	if (lx->p < lx->end && ident_char(*lx->p))
		return fail(lx, "malformed number '%.*s' (strings need quotes)",
			    (int)(lx->p - start + 1), start);
	if (lx->p - start > 64)
		return fail(lx, "number too long");
	*out = dup_range(start, (size_t)(lx->p - start));
	return *out ? 0 : fail(lx, "out of memory");
}

/* A string or a number: an atom. */
static int lex_atom(struct lexer *lx, struct xlcfg_atom *a)
{
	char c = *lx->p;
	a->line = lx->line;
	if (c == '"' || c == '\'') {
		a->type = XLCFG_STRING;
		return lex_string(lx, &a->text);
	}
	if (isdigit((unsigned char)c)) {
		a->type = XLCFG_NUMBER;
		return lex_number(lx, &a->text);
	}
	char b[8];
	if (ident_start(c)) {
		int n = 0;
		while (n < 32 && lx->p + n < lx->end && ident_char(lx->p[n]))
			n++;
		return fail(lx,
			    "a value must be a quoted string, a number or a "
			    "list ('%.*s' needs quotes)",
			    n, lx->p);
	}
	return fail(lx, "unexpected %s where a value should be", shown(c, b));
}

static void free_setting(struct xlcfg_setting *s)
{
	free(s->key);
	free(s->text);
	for (size_t i = 0; i < s->nitems; i++)
		free(s->items[i].text);
	free(s->items);
	memset(s, 0, sizeof(*s));
}

/* [ atom, atom, ... ] with an optional trailing comma; lines may break
 * anywhere inside. */
static int lex_list(struct lexer *lx, struct xlcfg_setting *s)
{
	int open_line = lx->line;
	lx->p++; /* '[' */
	s->type = XLCFG_LIST;
	size_t cap = 0;
	for (;;) {
		skip_space(lx, true);
		if (lx->p >= lx->end) {
			lx->line = open_line;
			return fail(lx, "list opened here is not closed "
					"(no ']')");
		}
		if (*lx->p == ']') {
			lx->p++;
			return 0;
		}
		if (*lx->p == '[')
			return fail(lx, "lists inside lists are not supported");
		if (*lx->p == ',')
			return fail(lx, "empty list item (two commas or a "
					"leading comma)");
		if (s->nitems == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct xlcfg_atom *bigger =
				realloc(s->items, ncap * sizeof(*bigger));
			if (!bigger)
				return fail(lx, "out of memory");
			s->items = bigger;
			cap = ncap;
		}
		struct xlcfg_atom *a = &s->items[s->nitems];
		memset(a, 0, sizeof(*a));
		if (lex_atom(lx, a))
			return -1;
		s->nitems++;
		skip_space(lx, true);
		if (lx->p < lx->end && *lx->p == ',') {
			lx->p++;
			continue;
		}
		if (lx->p < lx->end && *lx->p != ']') {
			char b[8];
			return fail(lx, "expected ',' or ']' in a list, not %s",
				    shown(*lx->p, b));
		}
	}
}

/* One KEY = VALUE at lx->p (a key starts there). */
static int lex_setting(struct lexer *lx, struct xlcfg_setting *s)
{
	const char *start = lx->p;
	s->line = lx->line;
	while (lx->p < lx->end && ident_char(*lx->p))
		lx->p++;
	size_t klen = (size_t)(lx->p - start);
	if (klen > 64)
		return fail(lx, "key '%.16s...' is too long", start);
	s->key = dup_range(start, klen);
	if (!s->key)
		return fail(lx, "out of memory");
	skip_space(lx, false);
	if (lx->end - lx->p >= 2 && lx->p[0] == '+' && lx->p[1] == '=')
		return fail(lx,
			    "'%s +=' is not supported by pvio (use '%s = "
			    "[...]' with every item)",
			    s->key, s->key);
	if (lx->p >= lx->end || *lx->p != '=')
		return fail(lx, "expected '=' after key '%s'", s->key);
	lx->p++;
	skip_space(lx, false);
	if (lx->p >= lx->end || *lx->p == '\n' || *lx->p == ';')
		return fail(lx, "key '%s' has no value", s->key);
	if (*lx->p == '[')
		return lex_list(lx, s);
	struct xlcfg_atom a;
	if (lex_atom(lx, &a))
		return -1;
	s->type = a.type;
	s->text = a.text;
	return 0;
}

static int append_setting(struct xlcfg *cfg, struct xlcfg_setting *s)
{
	struct xlcfg_setting *bigger =
		realloc(cfg->settings, (cfg->n + 1) * sizeof(*bigger));
	if (!bigger)
		return -1;
	cfg->settings = bigger;
	cfg->settings[cfg->n++] = *s;
	return 0;
}

/* Parses into a list of its own, so that a failure leaves cfg as it was. */
static int parse_into(struct lexer *lx, struct xlcfg *out)
{
	while (lx->p < lx->end) {
		skip_space(lx, false);
		if (lx->p >= lx->end)
			break;
		char c = *lx->p;
		if (c == '\n') {
			lx->line++;
			lx->p++;
			continue;
		}
		if (c == ';') {
			lx->p++;
			continue;
		}
		if (!ident_start(c)) {
			char b[8];
			return fail(lx, "unexpected %s where a key should be",
				    c ? shown(c, b) : "NUL byte");
		}
		struct xlcfg_setting s;
		memset(&s, 0, sizeof(s));
		if (lex_setting(lx, &s)) {
			free_setting(&s);
			return -1;
		}
		if (append_setting(out, &s)) {
			free_setting(&s);
			return fail(lx, "out of memory");
		}
		skip_space(lx, false);
		if (lx->p < lx->end && *lx->p != '\n' && *lx->p != ';') {
			char b[8];
			return fail(lx,
				    "unexpected %s after the value of '%s' "
				    "(one setting per line or ';')",
				    shown(*lx->p, b),
				    out->settings[out->n - 1].key);
		}
	}
	return 0;
}

/* Moves src's settings to the end of dst. */
static int move_settings(struct xlcfg *dst, struct xlcfg *src)
{
	if (!src->n)
		return 0;
	struct xlcfg_setting *bigger = realloc(
		dst->settings, (dst->n + src->n) * sizeof(*dst->settings));
	if (!bigger)
		return -1;
	dst->settings = bigger;
	memcpy(dst->settings + dst->n, src->settings,
	       src->n * sizeof(*src->settings));
	dst->n += src->n;
	free(src->settings);
	src->settings = NULL;
	src->n = 0;
	return 0;
}

int xlcfg_parse(const char *text, size_t len, struct xlcfg *cfg, int *err_line,
		char *err, size_t errlen)
{
	struct lexer lx = {text, text + len, 1, err, errlen, 0};
	struct xlcfg fresh = {NULL, 0};
	if (memchr(text, 0, len)) {
		const char *nul = memchr(text, 0, len);
		for (const char *q = text; q < nul; q++)
			lx.line += *q == '\n';
		fail(&lx, "a NUL byte (not a text file?)");
	} else if (parse_into(&lx, &fresh) == 0) {
		if (move_settings(cfg, &fresh) == 0)
			return 0;
		fail(&lx, "out of memory");
	}
	xlcfg_free(&fresh);
	*err_line = lx.err_line;
	return -1;
}

/* The whole of s is a number as the file syntax writes one. */
static bool is_number(const char *s)
{
	size_t i = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2]) {
		for (i = 2; s[i]; i++)
			if (hexval(s[i]) < 0)
				return false;
		return true;
	}
	for (; s[i]; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return i > 0;
}

int xlcfg_parse_override(const char *arg, struct xlcfg *cfg, char *err,
			 size_t errlen)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg) {
		snprintf(err, errlen, "'%s' is not KEY=VALUE", arg);
		return -1;
	}
	if (!ident_start(arg[0])) {
		snprintf(err, errlen, "'%.*s' is not a key", (int)(eq - arg),
			 arg);
		return -1;
	}
	for (const char *k = arg; k < eq; k++)
		if (!ident_char(*k)) {
			snprintf(err, errlen, "'%.*s' is not a key",
				 (int)(eq - arg), arg);
			return -1;
		}
	const char *v = eq + 1;
	struct xlcfg one = {NULL, 0};
	int line;
	char msg[256];
	if (*v == '\'' || *v == '"' || *v == '[' || is_number(v)) {
		if (xlcfg_parse(arg, strlen(arg), &one, &line, msg,
				sizeof(msg))) {
			snprintf(err, errlen, "%s: %s", arg, msg);
			return -1;
		}
		if (one.n != 1) {
			xlcfg_free(&one);
			snprintf(err, errlen, "%s: one setting expected", arg);
			return -1;
		}
	} else {
		struct xlcfg_setting s;
		memset(&s, 0, sizeof(s));
		s.key = dup_range(arg, (size_t)(eq - arg));
		s.type = XLCFG_STRING;
		s.text = strdup(v);
		if (!s.key || !s.text || append_setting(&one, &s)) {
			free_setting(&s);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	one.settings[0].line = 0;
	for (size_t i = 0; i < one.settings[0].nitems; i++)
		one.settings[0].items[i].line = 0;
	if (move_settings(cfg, &one)) {
		xlcfg_free(&one);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

const struct xlcfg_setting *xlcfg_get(const struct xlcfg *cfg, const char *key)
{
	for (size_t i = cfg->n; i-- > 0;)
		if (!strcmp(cfg->settings[i].key, key))
			return &cfg->settings[i];
	return NULL;
}

void xlcfg_free(struct xlcfg *cfg)
{
	for (size_t i = 0; i < cfg->n; i++)
		free_setting(&cfg->settings[i]);
	free(cfg->settings);
	cfg->settings = NULL;
	cfg->n = 0;
}

/* ---- what pvio takes from a config ---- */

/* What pvio does with each key it knows of xl.cfg(5). */
enum key_use { KEY_USED, KEY_IGNORED, KEY_REFUSED };

static const struct {
	const char *key;
	enum key_use use;
	const char *why; /* for the ignored and refused ones */
} known_keys[] = {
	{"name", KEY_USED, NULL},
	{"uuid", KEY_USED, NULL},
	{"vif", KEY_USED, NULL},
	{"memory", KEY_USED, NULL},
	{"maxmem", KEY_USED, NULL},
	{"vcpus", KEY_USED, NULL},
	{"maxvcpus", KEY_USED, NULL},
	{"type", KEY_USED, NULL},
	{"builder", KEY_USED, NULL},
	/* What boots a real guest: a sim guest is a namespace. */
	{"kernel", KEY_IGNORED, "a sim guest boots no kernel"},
	{"ramdisk", KEY_IGNORED, "a sim guest boots no kernel"},
	{"extra", KEY_IGNORED, "a sim guest boots no kernel"},
	{"root", KEY_IGNORED, "a sim guest boots no kernel"},
	{"cmdline", KEY_IGNORED, "a sim guest boots no kernel"},
	{"bootloader", KEY_IGNORED, "a sim guest boots no kernel"},
	{"bootloader_args", KEY_IGNORED, "a sim guest boots no kernel"},
	{"disk", KEY_IGNORED, "pvio has no block devices"},
	{"cpus", KEY_IGNORED, "no CPU placement on the sim platform"},
	{"cpus_soft", KEY_IGNORED, "no CPU placement on the sim platform"},
	{"cpu_weight", KEY_IGNORED, "no scheduler parameters"},
	{"cap", KEY_IGNORED, "no scheduler parameters"},
	{"on_poweroff", KEY_IGNORED, "no guest lifecycle actions"},
	{"on_reboot", KEY_IGNORED, "no guest lifecycle actions"},
	{"on_crash", KEY_IGNORED, "no guest lifecycle actions"},
	{"on_watchdog", KEY_IGNORED, "no guest lifecycle actions"},
	{"on_soft_reset", KEY_IGNORED, "no guest lifecycle actions"},
	{"vfb", KEY_IGNORED, "no framebuffer"},
	{"vkb", KEY_IGNORED, "no virtual keyboard"},
	{"vnc", KEY_IGNORED, "no framebuffer"},
	{"sdl", KEY_IGNORED, "no framebuffer"},
	{"serial", KEY_IGNORED, "no consoles"},
	{"localtime", KEY_IGNORED, "the guest shares the host's clock"},
	{"rtc_timeoffset", KEY_IGNORED, "the guest shares the host's clock"},
	{"seclabel", KEY_IGNORED, "no XSM"},
	/* Keys that would change what the guest is. */
	{"pci", KEY_REFUSED, "PCI passthrough is not available on pvio"},
	{"device_model_version", KEY_REFUSED,
	 "pvio guests are PV: no device model"},
	{"device_model_override", KEY_REFUSED,
	 "pvio guests are PV: no device model"},
	{"hvm", KEY_REFUSED, "pvio guests are PV"},
	{"driver_domain", KEY_REFUSED, "only Domain-0 runs backends on pvio"},
};

static int lookup_key(const char *key)
{
	for (size_t i = 0; i < sizeof(known_keys) / sizeof(*known_keys); i++)
		if (!strcmp(known_keys[i].key, key))
			return (int)i;
	return -1;
}

/* A number, as a string or a number, within [min, max]. */
static int number_value(const struct xlcfg_setting *s, unsigned long min,
			unsigned long max, unsigned long *out, int *err_line,
			char *err, size_t errlen)
{
	/* Decimal or 0x, as xl reads numbers (strtol, base 0), from a
	 * number or a string holding one. */
	const char *t = s->type == XLCFG_LIST ? NULL : s->text;
	unsigned long v = 0;
	bool ok = t && is_number(t) && strlen(t) <= 18;
	if (ok)
		v = strtoul(t, NULL, t[1] == 'x' || t[1] == 'X' ? 16 : 10);
	if (!ok || v < min || v > max) {
		*err_line = s->line;
		snprintf(err, errlen, "%s: expected a number from %lu to %lu",
			 s->key, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int string_value(const struct xlcfg_setting *s, const char **out,
			int *err_line, char *err, size_t errlen)
{
	/* On the command line quotes are optional: name=123 is a string
	 * (which no domain may be called). */
	if (s->type != XLCFG_STRING &&
	    !(s->line == 0 && s->type == XLCFG_NUMBER)) {
		*err_line = s->line;
		snprintf(err, errlen, "%s: expected a quoted string", s->key);
		return -1;
	}
	*out = s->text;
	return 0;
}

static bool valid_uuid(const char *u)
{
	/* 8-4-4-4-12 hex digits, as libxl_uuid_from_string reads them. */
	if (strlen(u) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? u[i] != '-' : hexval(u[i]) < 0)
			return false;
	}
	return true;
}

/* The key of one setting; -1 after err for a malformed value. */
static int take_setting(const struct xlcfg_setting *s, struct xl_domain *d,
			int *err_line, char *err, size_t errlen)
{
	const char *k = s->key, *str;
	unsigned long v;
	/* Xen's limits: HVM_MAX_VCPUS is 128 for the guests pvio models;
	 * memory in MiB up to 16 TiB. */
	if (!strcmp(k, "name")) {
		if (string_value(s, &d->name, err_line, err, errlen))
			return -1;
		if (!pvio_valid_domain_name(d->name)) {
			*err_line = s->line;
			snprintf(err, errlen,
				 "name: invalid domain name '%s' (1-63 of "
				 "A-Z a-z 0-9 _ . -, not only digits)",
				 d->name);
			return -1;
		}
	} else if (!strcmp(k, "uuid")) {
		if (string_value(s, &d->uuid, err_line, err, errlen))
			return -1;
		if (!valid_uuid(d->uuid)) {
			*err_line = s->line;
			snprintf(err, errlen,
				 "uuid: '%s' is not a UUID "
				 "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
				 d->uuid);
			return -1;
		}
	} else if (!strcmp(k, "memory") || !strcmp(k, "maxmem")) {
		if (number_value(s, 1, 16UL << 20, &v, err_line, err, errlen))
			return -1;
		if (!strcmp(k, "memory"))
			d->memory_mb = v;
		else
			d->maxmem_mb = v;
	} else if (!strcmp(k, "vcpus") || !strcmp(k, "maxvcpus")) {
		if (number_value(s, 1, 128, &v, err_line, err, errlen))
			return -1;
		if (!strcmp(k, "vcpus"))
			d->vcpus = (unsigned)v;
		else
			d->maxvcpus = (unsigned)v;
	} else if (!strcmp(k, "type") || !strcmp(k, "builder")) {
		if (string_value(s, &str, err_line, err, errlen))
			return -1;
		bool pv = !strcmp(k, "type") ? !strcmp(str, "pv")
					     : !strcmp(str, "generic") ||
						       !strcmp(str, "linux");
		if (!pv) {
			*err_line = s->line;
			snprintf(err, errlen,
				 "%s = \"%s\": pvio guests are PV (%s)", k, str,
				 !strcmp(k, "type") ? "type = \"pv\""
						    : "builder = \"generic\"");
			return -1;
		}
	} else if (!strcmp(k, "vif")) {
		if (s->type != XLCFG_LIST) {
			*err_line = s->line;
			snprintf(err, errlen,
				 "vif: expected a list: vif = [ 'mac=...,"
				 "bridge=...', ... ]");
			return -1;
		}
		for (size_t i = 0; i < s->nitems; i++)
			if (s->items[i].type != XLCFG_STRING) {
				*err_line = s->items[i].line;
				snprintf(err, errlen,
					 "vif: item %zu is not a quoted string",
					 i + 1);
				return -1;
			}
		d->vifs = s->items;
		d->nvifs = s->nitems;
	}
	return 0;
}

int xl_domain_from_cfg(const struct xlcfg *cfg, struct xl_domain *d,
		       xl_warn_fn warn, void *ctx, int *err_line, char *err,
		       size_t errlen)
{
	memset(d, 0, sizeof(*d));
	char msg[256];
	for (size_t i = 0; i < cfg->n; i++) {
		const struct xlcfg_setting *s = &cfg->settings[i];
		/* An earlier setting of a key repeated later does not count
		 * (xl reads the last), but it is still checked. */
		int k = lookup_key(s->key);
		if (k < 0) {
			snprintf(msg, sizeof(msg),
				 "key '%s' is not supported by pvio; ignored",
				 s->key);
			if (warn)
				warn(ctx, s->line, msg);
			continue;
		}
		if (known_keys[k].use == KEY_IGNORED) {
			snprintf(msg, sizeof(msg),
				 "key '%s' is not supported by pvio (%s); "
				 "ignored",
				 s->key, known_keys[k].why);
			if (warn)
				warn(ctx, s->line, msg);
			continue;
		}
		if (known_keys[k].use == KEY_REFUSED) {
			*err_line = s->line;
			snprintf(err, errlen, "key '%s' is not supported: %s",
				 s->key, known_keys[k].why);
			return -1;
		}
		if (take_setting(s, d, err_line, err, errlen))
			return -1;
	}
	const struct xlcfg_setting *name = xlcfg_get(cfg, "name");
	if (!name) {
		*err_line = -1; /* the whole config */
		snprintf(err, errlen,
			 "no name (name = \"NAME\" in the file, "
			 "or name=NAME on the command line)");
		return -1;
	}
	if (d->maxmem_mb && d->memory_mb && d->maxmem_mb < d->memory_mb) {
		const struct xlcfg_setting *m = xlcfg_get(cfg, "maxmem");
		*err_line = m->line;
		snprintf(err, errlen, "maxmem (%lu) is below memory (%lu)",
			 d->maxmem_mb, d->memory_mb);
		return -1;
	}
	if (d->maxvcpus && d->vcpus && d->maxvcpus < d->vcpus) {
		const struct xlcfg_setting *m = xlcfg_get(cfg, "maxvcpus");
		*err_line = m->line;
		snprintf(err, errlen, "maxvcpus (%u) is below vcpus (%u)",
			 d->maxvcpus, d->vcpus);
		return -1;
	}
	return 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	return s;
}

int xl_vif_parse(char *spec, struct pvio_nic *nic, char *err, size_t errlen)
{
	pvio_nic_init(nic);
	/* Items are split at ',' with blanks around them dropped; an empty
	 * item (a trailing comma) is nothing, as in libxl. */
	char *save = NULL;
	for (char *item = strtok_r(spec, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		item = trim(item);
		if (!*item)
			continue;
		char *eq = strchr(item, '=');
		if (eq) {
			/* "mac = 00:..." is written too: drop the blanks. */
			char *kend = eq;
			while (kend > item &&
			       (kend[-1] == ' ' || kend[-1] == '\t'))
				kend--;
			char *v = eq + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			if (kend != eq || v != eq + 1) {
				*kend = '=';
				memmove(kend + 1, v, strlen(v) + 1);
			}
		}
		if (pvio_nic_parse_arg(nic, item, err, errlen))
			return -1;
	}
	return 0;
}
