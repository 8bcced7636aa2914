/* What the command line chose (filled by main()), for every layer. */
#ifndef PVIO_TOOLS_OPTIONS_H
#define PVIO_TOOLS_OPTIONS_H

#include <limits.h>
#include <stdbool.h>

#define PVIO_DEFAULT_TIMEOUT_S 10

struct pvio_opts {
	char rundir[PATH_MAX];
	int timeout_s;	   /* waits for backends and scripts */
	bool rundir_given; /* by --rundir or PVIO_RUNDIR */
};
extern struct pvio_opts g_opts;

static inline int pvio_timeout_ms(void)
{
	return g_opts.timeout_s * 1000;
}

#endif
