/*
 * libFuzzer target over pvio's xl domain configuration parser
 * (tools/pvio/xlcfg.c): the input is a config file. It is parsed, read
 * as a domain (the key policy), each vif spec parsed as network-attach
 * would take it, and the input is also tried as one command-line
 * override. Whatever the bytes, no crash, no leak, and every error names
 * a line within the input.
 */
#include "config.h"

#include "xlcfg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void no_warning(void *ctx, int line, const char *msg)
{
	(void)msg;
	int lines = *(const int *)ctx;
	if (line < 0 || line > lines)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	int lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += text[i] == '\n';
	struct xlcfg cfg = {NULL, 0};
	char err[256];
	int line = -1;
	if (xlcfg_parse(text, size, &cfg, &line, err, sizeof(err))) {
		if (line < 1 || line > lines || !err[0])
			abort();
	} else {
		struct xl_domain d;
		if (xl_domain_from_cfg(&cfg, &d, no_warning, &lines, &line, err,
				       sizeof(err)) == 0) {
			for (size_t i = 0; i < d.nvifs; i++) {
				char *spec = strdup(d.vifs[i].text);
				struct pvio_nic nic;
				if (spec)
					xl_vif_parse(spec, &nic, err,
						     sizeof(err));
				free(spec);
			}
		} else if (line < -1 || line > lines || !err[0]) {
			abort();
		}
	}
	xlcfg_free(&cfg);

	/* The same bytes as `pvio create FILE ARG` would take an ARG. */
	char *arg = malloc(size + 1);
	if (!arg)
		return 0;
	memcpy(arg, data, size);
	arg[size] = 0;
	struct xlcfg over = {NULL, 0};
	if (xlcfg_parse_override(arg, &over, err, sizeof(err)) == 0 &&
	    over.n != 1)
		abort();
	xlcfg_free(&over);
	free(arg);
	return 0;
}
