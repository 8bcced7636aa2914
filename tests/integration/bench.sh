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
refuse "--vifs expects increasing counts in 1..64 separated by commas (at most 16), got '2,1'" \
	scale --vifs 2,1
refuse "--vifs expects increasing counts in 1..64 separated by commas (at most 16), got '1,,2'" \
	scale --vifs 1,,2
refuse "--pairs expects an integer in 1..31, got '0'" scale --pairs 0
refuse "--streams expects an integer in 2..128, got '1'" net --streams 1

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
	for dir in /tmp/pvio-bench-net."$1" /tmp/pvio-bench-scale."$1"; do
		[ ! -e "$dir" ] || echo "$dir"
	done
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
for title in "TCP throughput alpha -> beta (iperf3, 1 stream)" \
	"TCP throughput beta -> alpha (iperf3, 1 stream)" \
	"TCP throughput alpha -> beta (iperf3, 4 streams)" \
	"TCP throughput beta -> alpha (iperf3, 4 streams)" \
	"TCP round trip, 64-byte ping-pong (sockperf), p50" \
	"TCP round trip, 64-byte ping-pong (sockperf), p99"; do
	grep -qF "$title" "$out" || fail "net printed no '$title'"
done
# Every figure of every path: 6 lines each, a number and its range.
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
	[ "$n" = 6 ] || fail "net: $n figures, not 6, for '$row': $(cat "$out")"
done
[ "$(grep -cE '^  ratio relay / bridge +[0-9.]+' "$out")" = 6 ] ||
	fail "net: not 6 relay / bridge ratios"
grep -qE '^  strace, iperf3: both relays +[0-9.]+ system calls per packet' \
	"$out" || fail "net: no relay system call count"
grep -qE '^  ping-pong: CPU, both relays +[0-9.]+ us per packet' "$out" ||
	fail "net: no relay CPU time"
grep -qE '^  iperf3: CPU, both relays +[0-9.]+ CPU s per GB received' "$out" ||
	fail "net: no relay CPU time per gigabyte"
# The summary table: a row per figure, numbers in the columns of the
# paths run ("-" in the others), ratios where pvio ran.
num='[0-9]+\.[0-9]+'
# (The emu path, when run, reports below the table, not in it.)
if [ "${paths#pvio,relay,bridge}" != "$paths" ]; then
	cols="$num +$num +$num +$num +$num"
	cpu_cols="$num +$num +- +$num +-"
else
	cols="- +$num +$num +- +-"
	cpu_cols="- +$num +- +- +-"
fi
for row in "TCP 1 stream a->b, Mbit/s" "TCP 1 stream b->a, Mbit/s" \
	"TCP 4 streams a->b, Mbit/s" "TCP 4 streams b->a, Mbit/s" \
	"round trip p50, us" "round trip p99, us"; do
	grep -qE "^  $row +$cols\$" "$out" ||
		fail "net: summary row '$row' lacks its numbers: $(cat "$out")"
done
grep -qE "^  iperf3 CPU s per GB +$cpu_cols\$" "$out" ||
	fail "net: summary row of CPU per GB lacks its numbers: $(cat "$out")"
if [ "$paths" = pvio,relay,bridge ]; then
	[ "$(grep -cE '^  ratio pvio / relay +[0-9.]+ +\(target' "$out")" = 6 ] ||
		fail "net: not 6 pvio / relay ratios"
	[ "$(grep -cE '^  ratio pvio / bridge +[0-9.]+ +\(target' "$out")" = 6 ] ||
		fail "net: not 6 pvio / bridge ratios"
	# The negotiated feature set, as both ends wrote it in xenstore.
	grep -qE '^    backend: +.*feature-sg=[01]' "$out" ||
		fail "net: no backend feature set: $(cat "$out")"
	grep -qE '^    frontend: +.*request-rx-copy=1' "$out" ||
		fail "net: no frontend feature set: $(cat "$out")"
	for what in "iperf3: netback system calls" "ping-pong: notifications" \
		"strace, iperf3: both netfronts" "iperf3: CPU, netback"; do
		grep -qE "^  $what +[0-9.]+ " "$out" ||
			fail "net: no '$what' figure: $(cat "$out")"
	done
	grep -qE '^  iperf3: CPU, pvio in all +[0-9.]+ CPU s per GB received' \
		"$out" || fail "net: no pvio CPU time per gigabyte"
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

# pvio-bench scale, reduced: 2 pairs (6 guests), 1 and 2 vifs. Every row
# of its tables must carry its numbers, and the CSV file every figure.
if [ "$paths" = pvio,relay,bridge ]; then
	status=0
	"$bench" scale --pairs 2 --vifs 1,2 --duration 1 --csv "$tmp/scale.csv" \
		>"$tmp/scale.out" 2>"$tmp/scale.err" || status=$?
	cp "$tmp/scale.err" "$tmp/net.err"
	out=$tmp/scale.out
	[ "$status" -eq 0 ] ||
		fail "pvio-bench scale failed: $(cat "$out" "$tmp/scale.err")"
	run_id=$(sed -n 's/^pvio-bench scale: run \([0-9a-f]\{8\}\):.*/\1/p' "$out")
	[ -n "$run_id" ] || fail "pvio-bench scale: no run id: $(cat "$out")"
	n='[0-9]+\.[0-9]+'
	for re in "^  1 +g01 -> g02 +$n\$" "^  2 +g03 -> g04 +$n\$" \
		"^  aggregate +$n Mbit/s\$" "^  Jain's fairness index +$n " \
		"^  netback CPU +$n CPU s per GB received\$" \
		"^  idle +$n +$n\$" "^  while the pairs stream +$n +$n\$" \
		"^  ratio loaded / idle +$n +$n\$" \
		"^ +0 +[0-9]+ +[0-9]+ +- +- +- +-\$" \
		"^ +1 +[0-9]+ +[0-9]+ +-?$n +$n +$n +$n\$" \
		"^ +2 +[0-9]+ +[0-9]+ +-?$n +$n +$n +$n\$"; do
		grep -qE "$re" "$out" ||
			fail "pvio-bench scale: no line matching '$re': $(cat "$out")"
	done
	grep -q "round trip of one more pair, g05 -> g06" "$out" ||
		fail "pvio-bench scale: the round-trip pair is not g05 -> g06"
	head -n 1 "$tmp/scale.csv" | grep -qx "section,row,metric,value,unit" ||
		fail "pvio-bench scale: CSV header: $(head -n 1 "$tmp/scale.csv")"
	for row in "pairs,pair 1,throughput" "pairs,pair 2,throughput" \
		"pairs,all,jain" "round_trip,loaded,p99" "vifs,0,pss" \
		"vifs,2,pss_per_vif" "vifs,2,netback_cpu"; do
		grep -qE "^$row,-?$n,[A-Za-z/]+\$" "$tmp/scale.csv" ||
			fail "pvio-bench scale: no CSV row '$row': $(cat "$tmp/scale.csv")"
	done
	leftovers=$(left_behind "$run_id")
	[ -z "$leftovers" ] || fail "scale run $run_id left: $leftovers"
	echo "ok: pvio-bench scale --pairs 2 --vifs 1,2, nothing left behind"

	# With no backend: a clear failure, and nothing left either.
	status=0
	PVIO_NETBACK=none PVIO_TIMEOUT=2 "$bench" scale --pairs 1 --vifs 1 \
		--duration 1 >"$tmp/scale-fail.out" 2>"$tmp/scale-fail.err" ||
		status=$?
	cp "$tmp/scale-fail.err" "$tmp/net.err"
	[ "$status" -eq 1 ] || fail "scale with no backend exited $status, not 1"
	grep -q "^pvio-bench scale: pvio path: " "$tmp/scale-fail.err" ||
		fail "scale with no backend: $(cat "$tmp/scale-fail.err")"
	run_id=$(sed -n 's/^pvio-bench scale: run \([0-9a-f]\{8\}\):.*/\1/p' \
		"$tmp/scale-fail.out")
	[ -n "$run_id" ] || fail "failed scale: no run id"
	leftovers=$(left_behind "$run_id")
	[ -z "$leftovers" ] || fail "failed scale run $run_id left: $leftovers"
	echo "ok: pvio-bench scale fails clearly with no backend and cleans up"
fi
echo "PASS: pvio-bench"
