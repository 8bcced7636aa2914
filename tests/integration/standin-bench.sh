#!/bin/sh
# A stand-in for pvio-bench in tests/integration/demo.sh until `pvio-bench
# sweep` exists (branch sweep): `pvio demo` runs it as PVIO_BENCH. It keeps
# the sweep's contract: `sweep --quick --out DIR` exits 0, prints a summary
# table on stdout and writes DIR/sweep.csv, DIR/latency.png and
# DIR/bandwidth.png. STANDIN_BENCH selects a behaviour:
#   sweep    (default) the contract above
#   nosweep  a pvio-bench without sweep (as on main today)
#   fail     sweep fails with status 3 after a message on stderr
#   noplots  the CSV and the table but no plots (no gnuplot: still 0)
# Each call is logged to $STANDIN_BENCH_LOG when set.
set -eu
mode=${STANDIN_BENCH:-sweep}
[ -z "${STANDIN_BENCH_LOG:-}" ] || echo "$*" >>"$STANDIN_BENCH_LOG"

usage() {
	echo "usage: pvio-bench COMMAND [OPTIONS]"
	echo
	echo "commands:"
	echo "  ring       shared ring throughput and round-trip latency"
	echo "  net        TCP throughput and round trips between two guests"
	[ "$mode" = nosweep ] || echo "  sweep      latency and bandwidth against message size"
}

case ${1:-} in
--help | -h)
	usage
	exit 0
	;;
sweep) ;;
*)
	echo "pvio-bench: unknown command '${1:-}'" >&2
	usage >&2
	exit 2
	;;
esac
if [ "$mode" = nosweep ]; then
	echo "pvio-bench: unknown command 'sweep'" >&2
	exit 2
fi
[ "${2:-}" = --quick ] && [ "${3:-}" = --out ] && [ -n "${4:-}" ] && [ $# = 4 ] || {
	echo "standin-bench: expected sweep --quick --out DIR, got: $*" >&2
	exit 64
}
out=$4
if [ "$mode" = fail ]; then
	echo "pvio-bench sweep: cannot start the native path's namespaces" >&2
	exit 3
fi
mkdir -p "$out"
echo "sweep: 4/4 points" >&2
printf 'path,size,latency_us,bandwidth_mbps\nnative,1,20,10\npvio,1,40,5\n' >"$out/sweep.csv"
# The PNG signature and an IHDR chunk: enough for the demo's check.
[ "$mode" = noplots ] && echo "pvio-bench sweep: no gnuplot: no plots" >&2
[ "$mode" = noplots ] || for f in latency bandwidth; do
	printf '\211PNG\r\n\032\n\000\000\000\015IHDR' >"$out/$f.png"
done
echo "path    latency(us)  bandwidth(Mb/s)"
echo "native  20           10"
echo "pvio    40           5"
