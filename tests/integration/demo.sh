#!/bin/sh
# Integration test of `pvio demo`, the quick start's main job, with the
# real drivers and a stand-in pvio-bench (tests/integration/standin-bench.sh
# keeps the sweep's contract; PVIO_BENCH names it): every step shows in the
# output, the pings and the results table are there, the host and its
# namespaces are gone afterwards; --keep leaves the host running and it can
# be stopped as the demo says; a pvio-bench without sweep, a failing sweep
# and a guest whose vif never connects are reported with what failed,
# where to look and what to do. Needs root.
set -eu

top=${top_builddir:-.}
src=${srcdir:-.}
top=$(cd "$top" && pwd)
abs_src=$(cd "$src" && pwd)
pvio=$top/tools/pvio/pvio
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, bridges, TAPs)"
	exit 77
fi
for tool in ip ping; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool missing (scripts/install-deps.sh installs it)"
		exit 77
	fi
done
for prog in backend/pvio-netback frontend/pvio-netfront xenstore/pvio-xenstored; do
	[ -x "$top/$prog" ] || {
		echo "FAIL: $top/$prog is not built" >&2
		exit 1
	}
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvio-demo-test.XXXXXX")
export PVIO_BENCH="$abs_src/tests/integration/standin-bench.sh"
export STANDIN_BENCH_LOG="$tmp/bench-calls"
# Generous bounds for a loaded machine (waits, not timing checks).
export PVIO_TIMEOUT=20
# The demo finds the drivers and scripts from the build tree by itself.
unset PVIO_RUNDIR XENSTORED_PATH PVIO_NETBACK PVIO_NETFRONT PVIO_SCRIPTDIR

# shellcheck source=tests/integration/host_lib.sh
. "$abs_src/tests/integration/host_lib.sh"
rundirs=
cleanup() {
	for r in $rundirs; do
		host_remove "$r" "$pvio"
		rm -rf "$r"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	for f in "$tmp"/*.out "$tmp"/*.err; do
		[ -f "$f" ] && sed "s|^|$(basename "$f"): |" "$f" >&2
	done
	exit 1
}

# Sets run to the run directory a demo's output names, remembered for the
# cleanup (not in a subshell: the cleanup needs rundirs).
demo_rundir() { # OUTPUT-FILE
	run=$(sed -n 's/^pvio demo: a sim host under \(.*\)$/\1/p' "$1")
	[ -n "$run" ] || fail "no run directory in the demo's output"
	rundirs="$rundirs $run"
}
# The namespaces a demo's output names (its guests' and dom0's).
demo_netns() { grep -o 'namespace pvio-[0-9a-f]*-[0-9a-z]*' "$1" | cut -d' ' -f2 | sort -u; }
netns_gone() { ! ip netns list | awk '{print $1}' | grep -qx "$1"; }
# No process left that carries the host's run directory.
no_host_process() {
	! grep -l -s -z -x -F "PVIO_RUNDIR=$1" /proc/[0-9]*/environ >/dev/null
}

echo "== the demo, to its end"
"$pvio" demo --out "$tmp/results" >"$tmp/demo.out" 2>"$tmp/demo.err" ||
	fail "pvio demo exited $?"
demo_rundir "$tmp/demo.out"
for n in 1 2 3 4 5 6 7; do
	grep -q "^\[$n/7\] " "$tmp/demo.out" || fail "no step $n/7 in the output"
done
for cmd in "pvio host start" "pvio create name=demo-a" "pvio create name=demo-b" \
	"pvio network-attach demo-a mac=00:16:3e:de:00:01 bridge=xenbr0" \
	"pvio network-attach demo-b mac=00:16:3e:de:00:02 bridge=xenbr0" \
	"pvio list" "pvio host stop"; do
	grep -qF "\$ $cmd" "$tmp/demo.out" || fail "the demo did not show \`$cmd\`"
done
# The xenstore layout: both directories of vif1.0 with their keys.
grep -q '^    /local/domain/0/backend/vif/1/0:$' "$tmp/demo.out" || fail "no backend directory"
grep -q '^    /local/domain/1/device/vif/0:$' "$tmp/demo.out" || fail "no frontend directory"
grep -q '^     state = "4"$' "$tmp/demo.out" || fail "no Connected state shown"
# Flat for one queue, queue 0's for several (the frontend's --queues
# default is the CPUs).
grep -qE '^     (queue-0/)?tx-ring-ref = "[0-9]*"$' "$tmp/demo.out" || fail "no ring reference shown"
grep -qE '^     (queue-0/)?event-channel(-tx)? = "[0-9]*"$' "$tmp/demo.out" || fail "no event channel shown"
# pvio list's rows for both guests, State and Time filled in.
grep -Eq '^      demo-a +1 +[0-9]+ +1 +[-rbpscd]{6} +[0-9]+\.[0-9]$' "$tmp/demo.out" ||
	fail "no list row for demo-a"
# Pings both ways, with the round trip.
for pair in "demo-a -> demo-b" "demo-b -> demo-a"; do
	grep -Eq "^    $pair: [1-5] of 5 replies, round trip [0-9]+\.[0-9]{3} ms" "$tmp/demo.out" ||
		fail "no ping result for $pair"
done
# The sweep as the contract says, its table and where the plots are.
[ "$(cat "$STANDIN_BENCH_LOG")" = "--help
sweep --quick --out $tmp/results" ] || fail "pvio-bench calls: $(cat "$STANDIN_BENCH_LOG")"
grep -q '^      native  20 ' "$tmp/demo.out" || fail "no results table"
grep -qF "plots: $tmp/results/latency.png" "$tmp/demo.out" || fail "no latency plot named"
grep -qF "$tmp/results/bandwidth.png" "$tmp/demo.out" || fail "no bandwidth plot named"
grep -qF "data:  $tmp/results/sweep.csv" "$tmp/demo.out" || fail "no CSV named"
grep -q '^pvio demo: done\.$' "$tmp/demo.out" || fail "no final line"
# The host is gone: its directory, namespaces and processes.
namespaces=$(demo_netns "$tmp/demo.out")
[ "$(echo "$namespaces" | wc -w)" = 3 ] || fail "namespaces named: $namespaces"
for ns in $namespaces; do
	netns_gone "$ns" || fail "namespace $ns left behind"
done
[ ! -e "$run" ] || fail "the private run directory $run is left"
no_host_process "$run" || fail "processes of the demo's host left"

echo "== the demo with the real pvio-bench: its quick sweep's files"
# The quick start's own path: the sweep the build made, found from the
# build tree as a user's run finds it (no PVIO_BENCH).
status=0
env -u PVIO_BENCH "$pvio" demo --out "$tmp/real" >"$tmp/real.out" \
	2>"$tmp/real.err" || status=$?
demo_rundir "$tmp/real.out"
[ "$status" -eq 0 ] || fail "pvio demo with the real sweep exited $status: $(tail -20 "$tmp/real.err")"
for path in native pvio; do
	for metric in latency bandwidth; do
		grep -qE "^$path,[0-9]+,$metric,[^,]+,[0-9.]+," "$tmp/real/sweep.csv" ||
			fail "no $path $metric rows in the demo's sweep.csv"
	done
done
for plot in latency bandwidth; do
	[ "$(od -An -tx1 -N8 "$tmp/real/$plot.png" | tr -d ' ')" = 89504e470d0a1a0a ] ||
		fail "$plot.png from the demo is not a PNG image"
done
grep -qF "plots: $tmp/real/latency.png" "$tmp/real.out" || fail "no plot named by the real demo"
grep -q '^pvio demo: done\.$' "$tmp/real.out" || fail "no final line from the real demo"
[ ! -e "$run" ] || fail "the real demo's run directory $run is left"
no_host_process "$run" || fail "processes of the real demo's host left"

echo "== --keep, with a pvio-bench that has no sweep"
: >"$STANDIN_BENCH_LOG"
STANDIN_BENCH=nosweep "$pvio" demo --keep --out "$tmp/results2" >"$tmp/keep.out" 2>"$tmp/keep.err" ||
	fail "pvio demo --keep exited $?"
demo_rundir "$tmp/keep.out"
grep -q 'has no `sweep` command yet' "$tmp/keep.out" || fail "no word on the missing sweep"
grep -q '^pvio demo: done (without the sweep' "$tmp/keep.out" || fail "final line"
[ "$(cat "$STANDIN_BENCH_LOG")" = "--help" ] || fail "a sweep ran: $(cat "$STANDIN_BENCH_LOG")"
[ ! -e "$tmp/results2" ] || fail "results written without a sweep"
grep -qF "export PVIO_RUNDIR=$run" "$tmp/keep.out" || fail "no word on how to use it"
grep -qF "pvio --rundir $run host stop" "$tmp/keep.out" || fail "no word on how to stop it"
for verb in "pvio list" "pvio exec demo-a" "pvio network-list demo-a demo-b"; do
	grep -qF "      $verb" "$tmp/keep.out" || fail "no example of $verb"
done
PVIO_RUNDIR=$run "$pvio" host status >"$tmp/status.out" || fail "the kept host is not running"
PVIO_RUNDIR=$run "$pvio" list >"$tmp/list.out" || fail "list on the kept host"
grep -q '^demo-b ' "$tmp/list.out" || fail "demo-b is not listed"
PVIO_RUNDIR=$run "$pvio" exec demo-a -- ping -q -c 2 -i 0.2 -w 20 169.254.222.2 >"$tmp/ping.out" 2>&1 ||
	fail "the kept guests cannot ping"
namespaces=$(demo_netns "$tmp/keep.out")
"$pvio" --rundir "$run" host stop >"$tmp/stop.out" || fail "the stop the demo named"
for ns in $namespaces; do
	netns_gone "$ns" || fail "namespace $ns left behind after the stop"
done
no_host_process "$run" || fail "processes of the kept host left after the stop"

echo "== a failing sweep"
STANDIN_BENCH=fail "$pvio" demo --out "$tmp/results3" >"$tmp/fail.out" 2>"$tmp/fail.err" &&
	fail "the demo succeeded with a failing sweep"
demo_rundir "$tmp/fail.out"
grep -q "step 6/7 (.*) failed: \`pvio-bench sweep\` exited with status 3" "$tmp/fail.err" ||
	fail "no word on the sweep's failure"
grep -q "cannot start the native path" "$tmp/fail.err" || fail "the sweep's own message is lost"
grep -q "^  next:  .*run it alone" "$tmp/fail.err" || fail "no next step"
grep -q '^\[7/7\] Stopping the host' "$tmp/fail.out" || fail "the host was not stopped"
grep -q "its logs stay in $run" "$tmp/fail.out" || fail "no word on the logs"
[ -f "$run/netback.log" ] || fail "the logs were removed"
for ns in $(demo_netns "$tmp/fail.out"); do
	netns_gone "$ns" || fail "namespace $ns left behind"
done

echo "== a sweep without plots (no gnuplot) still succeeds"
STANDIN_BENCH=noplots "$pvio" demo --out "$tmp/results5" >"$tmp/noplots.out" 2>"$tmp/noplots.err" ||
	fail "the demo failed without plots"
demo_rundir "$tmp/noplots.out"
grep -qF "data:  $tmp/results5/sweep.csv" "$tmp/noplots.out" || fail "no CSV named"
grep -q "no plots (gnuplot missing?" "$tmp/noplots.out" || fail "no word on the plots"
grep -q "plots: " "$tmp/noplots.out" && fail "plots named that do not exist"
[ ! -e "$run" ] || fail "the private run directory $run is left"

echo "== a guest whose vif never connects (no guest driver)"
PVIO_NETFRONT=none PVIO_TIMEOUT=2 "$pvio" demo --out "$tmp/results4" \
	>"$tmp/nf.out" 2>"$tmp/nf.err" && fail "the demo succeeded without guest drivers"
demo_rundir "$tmp/nf.out"
grep -q "step 3/7 (.*) failed: vif1.0 of demo-a did not connect within 2 s" "$tmp/nf.err" ||
	fail "no word on the vif"
grep -q "^  logs:  $run/xenstored.log, $run/netback.log" "$tmp/nf.err" || fail "no logs named"
grep -q "^  next:  read $run/domain-1-netfront.log" "$tmp/nf.err" || fail "no next step"
grep -q '^\[4/7\]' "$tmp/nf.out" && fail "the demo went on after a failed step"
grep -q '^\[7/7\] Stopping the host' "$tmp/nf.out" || fail "the host was not stopped"
PVIO_RUNDIR=$run "$pvio" host status >/dev/null 2>&1 && fail "the host still runs"
no_host_process "$run" || fail "processes of the failed demo's host left"

echo "== bad arguments"
"$pvio" demo --bogus >"$tmp/bad.out" 2>"$tmp/bad.err" && fail "accepted --bogus"
grep -q "demo: unknown argument '--bogus'" "$tmp/bad.err" || fail "unclear: $(cat "$tmp/bad.err")"
"$pvio" demo --help >"$tmp/help.out" || fail "demo --help"
grep -q -- "--keep" "$tmp/help.out" || fail "help names no --keep"

echo "PASS: pvio demo"
