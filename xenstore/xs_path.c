/*
 * pvio-xenstored paths: a client's path made absolute and checked
 * (characters, limits), and the special @ names.
 */
#include "config.h"

#include "xs_core_int.h"

#include <stdio.h>
#include <string.h>

const char *const special_names[SPECIAL_COUNT] = {"@introduceDomain",
						  "@releaseDomain"};

static bool path_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '/' ||
	       ch == '_' || ch == '@';
}

int special_index(const char *path)
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
