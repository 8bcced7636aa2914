#!/bin/sh
# Smoke test of pvio-bench: every subcommand runs a tiny workload to the
# end and prints its ratios against the baselines; bad options are refused
# with exit status 2 and a message naming them. The figures themselves are
# not checked (no timing assertions): docs/performance.md records them.
set -eu

bench=${top_builddir:-.}/tools/pvio-bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# run NAME ARGS...: the subcommand must succeed and print ratio lines.
run() {
	name=$1
	shift
	if ! "$bench" "$name" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
		cat "$tmp/$name.out" "$tmp/$name.err" >&2
		fail "pvio-bench $name $* failed"
	fi
	grep -q "ratio" "$tmp/$name.out" ||
		fail "pvio-bench $name printed no ratio"
	echo "ok: pvio-bench $name $*"
}

run ring --requests 20000 --round-trips 2000 --rounds 1
run evtchn --round-trips 200 --rounds 1
run gntcopy --bytes 1048576 --rounds 1
run xenstore --ops 200 --rounds 1 --clients 2 --nodes 500

# A benchmark that fails midway leaves no sim run directory behind: here
# it runs out of descriptors once the directory exists.
mkdir "$tmp/fail"
for name in evtchn gntcopy; do
	# shellcheck disable=SC3045 # dash and bash both have ulimit -n
	if (ulimit -n 5 && TMPDIR=$tmp/fail exec "$bench" "$name" --rounds 1) \
		>/dev/null 2>&1; then
		fail "pvio-bench $name ran with 5 descriptors"
	fi
	[ -z "$(ls -A "$tmp/fail")" ] ||
		fail "pvio-bench $name left $(ls "$tmp/fail") after failing"
	echo "ok: pvio-bench $name cleans up after a failure"
done

# refuse BADARGS... EXPECTED: exit status 2 and EXPECTED on stderr.
refuse() {
	expected=$1
	shift
	status=0
	"$bench" "$@" >/dev/null 2>"$tmp/refuse.err" || status=$?
	[ "$status" -eq 2 ] || fail "pvio-bench $* exited $status, not 2"
	grep -qF -- "$expected" "$tmp/refuse.err" ||
		fail "pvio-bench $*: no '$expected' in: $(cat "$tmp/refuse.err")"
	echo "ok: refused pvio-bench $*"
}

refuse "--batch expects an integer in 1..256, got '0'" ring --batch 0
refuse "--batch expects an integer in 1..256, got '300'" ring --batch 300
refuse "--rounds expects an integer in 1..1000, got 'x'" evtchn --rounds x
refuse "--bytes needs a value" gntcopy --bytes
refuse "unknown argument '--bogus'" ring --bogus
refuse "unknown argument 'extra'" xenstore extra
refuse "--clients expects an integer in 2..64, got '1'" xenstore --clients 1
refuse "unknown command 'nosuch'" nosuch

"$bench" ring --help | grep -q -- "--requests N" || fail "ring --help"
refuse "--paths expects a comma-separated list of pvio, relay, bridge, emu and emu-rtl8139, each once, got 'relay,relay'" \
	net --paths relay,relay
refuse "--paths expects a comma-separated list of pvio, relay, bridge, emu and emu-rtl8139, each once, got 'veth'" \
	net --paths veth
refuse "--duration expects an integer in 1..3600, got '0'" net --duration 0

# pvio-bench net needs root (namespaces, bridges, TAPs), iperf3 and
# sockperf (scripts/install-deps.sh).
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: pvio-bench net needs root; the rest passed"
	exit 77
fi

# left_behind ID: what a net run with that id could leave (namespaces,
# its files, processes carrying its marker, a pvio host's namespaces).
left_behind() {
	for ns in /run/netns/pvbench-"$1"-*; do
		[ ! -e "$ns" ] || echo "$ns"
	done
	[ ! -e "/tmp/pvio-bench-net.$1" ] || echo "/tmp/pvio-bench-net.$1"
	grep -lsxz "PVIO_BENCH_NET_RUN=$1" /proc/[0-9]*/environ || true
	sed -n 's/^  pvio host \([0-9a-f]*\) .*/\1/p' "$tmp/net.err" |
		while read -r host; do
			for ns in /run/netns/pvio-"$host"-*; do
				[ ! -e "$ns" ] || echo "$ns"
			done
		done
}

# net NAME ARGS...: run pvio-bench net, keep its output in $tmp/NAME.*,
# set $status and $run_id.
net() {
	name=$1
	shift
	status=0
	"$bench" net "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || status=$?
	cp "$tmp/$name.err" "$tmp/net.err"
	run_id=$(sed -n 's/^pvio-bench net: run \([0-9a-f]\{8\}\):.*/\1/p' \
		"$tmp/$name.out")
	[ -n "$run_id" ] || fail "pvio-bench net $*: no run id: $(cat "$tmp/$name.out" "$tmp/$name.err")"
}

abs_src=$(cd "${srcdir:-.}" && pwd)
export PVIO_SCRIPTDIR="$abs_src/tools/hotplug"
paths=relay,bridge
top=${top_builddir:-.}
if [ -x "$top/backend/pvio-netback" ] && [ -x "$top/frontend/pvio-netfront" ]; then
	paths=pvio,relay,bridge
	# The emulated e1000 shares the pvio path's host.
	if [ -x "$top/ioemu/pvio-ioemu-dm" ] && [ -x "$top/ioemu/pvio-ioemu-nic" ]; then
		paths=pvio,relay,bridge,emu
	fi
fi
net full --paths "$paths" --rounds 1 --duration 1 --strace 1
if [ "$status" -ne 0 ]; then
	cat "$tmp/full.out" "$tmp/full.err" >&2
	fail "pvio-bench net --paths $paths failed"
fi
out=$tmp/full.out
for title in "TCP throughput alpha -> beta" "TCP throughput beta -> alpha" \
	"TCP round trip, 64-byte ping-pong (sockperf), p50" \
	"TCP round trip, 64-byte ping-pong (sockperf), p99"; do
	grep -qF "$title" "$out" || fail "net printed no '$title'"
done
# Every figure of every path: 4 lines each, a number and its range.
rows="bare relay (TAP, read+write, TAP)
veth pairs on a bridge"
[ "$paths" = relay,bridge ] || rows="$rows
pvio (netfront, netback, xenbr0)"
case $paths in
*emu*)
	rows="$rows
emulated e1000 (traps, device model)"
	grep -qE "emu \(e1000\), per frame guest to guest +[0-9.]+ traps, [0-9.]+ interrupts" "$out" ||
		fail "net: no traps per frame for the emu path: $(cat "$out")"
	;;
esac
echo "$rows" | while read -r row; do
	n=$(grep -F "  $row " "$out" | grep -cE \
		' [0-9.]+ (Mbit/s|us)  \(range [0-9.]+\.\.[0-9.]+ over 1 runs\)$')
	[ "$n" = 4 ] || fail "net: $n figures, not 4, for '$row': $(cat "$out")"
done
[ "$(grep -cE '^  ratio relay / bridge +[0-9.]+' "$out")" = 4 ] ||
	fail "net: not 4 relay / bridge ratios"
grep -qE '^  strace, iperf3: both relays +[0-9.]+ system calls per packet' \
	"$out" || fail "net: no relay system call count"
grep -qE '^  ping-pong: CPU, both relays +[0-9.]+ us per packet' "$out" ||
	fail "net: no relay CPU time"
if [ "$paths" = pvio,relay,bridge ]; then
	[ "$(grep -cE '^  ratio pvio / relay +[0-9.]+ +\(target' "$out")" = 4 ] ||
		fail "net: not 4 pvio / relay ratios"
	for what in "iperf3: netback system calls" "ping-pong: notifications" \
		"strace, iperf3: both netfronts" "iperf3: CPU, netback"; do
		grep -qE "^  $what +[0-9.]+ " "$out" ||
			fail "net: no '$what' figure: $(cat "$out")"
	done
fi
leftovers=$(left_behind "$run_id")
[ -z "$leftovers" ] || fail "net run $run_id left: $leftovers"
echo "ok: pvio-bench net --paths $paths, nothing left behind"

# The pvio path with no backend: a clear failure, and nothing left.
export PVIO_NETBACK=none PVIO_TIMEOUT=2
net nobackend --paths pvio --rounds 1 --duration 1
unset PVIO_NETBACK PVIO_TIMEOUT
[ "$status" -eq 1 ] || fail "net with no backend exited $status, not 1"
grep -q "pvio path: no traffic between the guests: " "$tmp/nobackend.err" ||
	fail "net with no backend: $(cat "$tmp/nobackend.err")"
leftovers=$(left_behind "$run_id")
[ -z "$leftovers" ] || fail "failed net run $run_id left: $leftovers"
echo "ok: pvio-bench net fails clearly with no backend and cleans up"

# Interrupted half-way (as Ctrl-C): nothing left either.
"$bench" net --paths relay,bridge --rounds 50 --duration 1 \
	>"$tmp/int.out" 2>"$tmp/int.err" &
pid=$!
i=0
until grep -qs "round 1/50 done" "$tmp/int.err"; do
	i=$((i + 1))
	[ $i -lt 600 ] || { kill "$pid"; fail "net made no progress in 60 s"; }
	sleep 0.1
done
kill -INT "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 130 ] || fail "interrupted net exited $status, not 130"
cp "$tmp/int.err" "$tmp/net.err"
run_id=$(sed -n 's/^pvio-bench net: run \([0-9a-f]\{8\}\):.*/\1/p' "$tmp/int.out")
leftovers=$(left_behind "$run_id")
[ -z "$leftovers" ] || fail "interrupted net run $run_id left: $leftovers"
echo "ok: pvio-bench net interrupted cleans up"
echo "PASS: pvio-bench"
