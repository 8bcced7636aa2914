/* pvio-bench: benchmarks that report ratios against baselines measured in
 * the same run. */
#include "config.h"

#include "bench.h"

#include <stdio.h>
#include <string.h>

static const struct bench_command commands[] = {
	{"ring", "shared ring throughput and round-trip latency", bench_ring},
	{"evtchn", "event-channel notify-to-wake round trip", bench_evtchn},
	{"gntcopy", "grant-copy throughput against memcpy", bench_gntcopy},
	{"xenstore", "pvio-xenstored operations per second and memory",
	 bench_xenstore},
	{"net",
	 "TCP throughput and round trips between two guests: pvio, a "
	 "bare relay, a bridge",
	 bench_net},
	{"scale",
	 "many guests on one host: fairness, round trip under load, "
	 "netback's memory and CPU per vif",
	 bench_scale},
	{"sweep",
	 "TCP latency and bandwidth against message size, native and pvio, "
	 "as CSV and plots",
	 bench_sweep},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: pvio-bench COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n`pvio-bench COMMAND --help` describes its options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "pvio-bench: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
