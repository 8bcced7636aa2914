#!/bin/sh
# Integration test of the installed layout: a clean copy of the sources
# (make distdir) is configured with --prefix in a build of its own,
# installed, and the build is removed; then the README's walkthrough (the
# lines between its "walkthrough" markers, verbatim) runs with the
# installed pvio alone: programs from $prefix/bin and $prefix/sbin, the
# hotplug script from $prefix/etc/pvio/scripts; then `pvio demo` with the
# installed pvio. Needs root.
set -eu

top=${top_builddir:-.}
src=${srcdir:-.}
top=$(cd "$top" && pwd)
abs_src=$(cd "$src" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, bridges, TAPs)"
	exit 77
fi
for tool in ip ping make xenstore-read; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool missing (scripts/install-deps.sh installs it)"
		exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvio-install-test.XXXXXX")
prefix=$tmp/prefix
run=$tmp/run
# shellcheck source=tests/integration/host_lib.sh
. "$abs_src/tests/integration/host_lib.sh"
cleanup() {
	if [ -x "$prefix/bin/pvio" ]; then
		host_remove "$run" "$prefix/bin/pvio"
		host_remove "$tmp/demo-run" "$prefix/bin/pvio"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { fail_with_logs "$*" "$tmp"/*.log "$run"/*.log; }

echo "== make distdir, configure --prefix, make install"
# MAKEFLAGS of the make check that runs this test must not reach it.
unset MAKEFLAGS MFLAGS MAKELEVEL
make -C "$top" distdir distdir="$tmp/src" >"$tmp/distdir.log" 2>&1 ||
	fail "make distdir"
(cd "$tmp/src" && ./configure --prefix="$prefix" >"$tmp/configure.log" 2>&1) ||
	fail "configure --prefix=$prefix"
make -C "$tmp/src" -j2 install >"$tmp/install.log" 2>&1 || fail "make install"
rm -rf "$tmp/src"
for f in bin/pvio bin/pvio-bench sbin/pvio-xenstored sbin/pvio-netback \
	sbin/pvio-netfront etc/pvio/scripts/vif-bridge; do
	[ -x "$prefix/$f" ] || fail "make install made no $prefix/$f"
done

echo "== the README's walkthrough with the installed pvio"
# Nothing of the build tree or of the caller's host may help.
unset PVIO_SCRIPTDIR PVIO_NETBACK PVIO_NETFRONT PVIO_BENCH XENSTORED_PATH PVIO
export PATH="$prefix/bin:$prefix/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
# A private host: the README's commands, under the test's run directory.
export PVIO_RUNDIR=$run
export PVIO_TIMEOUT=20
sed -n '/<!-- walkthrough begin -->/,/<!-- walkthrough end -->/p' \
	"$abs_src/README.md" | sed -n 's/^    \(pvio .*\)$/\1/p' >"$tmp/walkthrough"
[ "$(wc -l <"$tmp/walkthrough")" -ge 10 ] ||
	fail "no walkthrough in README.md: $(cat "$tmp/walkthrough")"
for verb in "host start" create network-attach "exec .* ping" list network-list destroy "host stop"; do
	grep -q "^pvio $verb" "$tmp/walkthrough" || fail "the walkthrough has no pvio $verb"
done
eth_up() { pvio exec "$1" -- ip link show dev eth0 up 2>/dev/null | grep -q UP; }
n=0
while IFS= read -r line; do
	n=$((n + 1))
	# A guest's eth0 comes up when its pvio-netfront connects, soon
	# after network-attach: the test waits, a user would not notice.
	case $line in
	"pvio exec "*" -- ip addr add "*)
		guest=$(echo "$line" | cut -d' ' -f3)
		wait_for eth_up "$guest" || fail "no eth0 up in $guest"
		;;
	esac
	echo "\$ $line" >>"$tmp/walkthrough.log"
	sh -c "$line" >>"$tmp/walkthrough.log" 2>&1 ||
		fail "README walkthrough line $n failed: $line"
	case $line in
	"pvio host start"*)
		grep -q "host started under $run" "$tmp/walkthrough.log" ||
			fail "host start under $run"
		id=$(host_id "$run")
		;;
	"pvio network-attach alice "*)
		# The installed hotplug script did the plugging.
		script=$(XENSTORED_PATH=$run/xenstored/socket xenstore-read \
			/local/domain/0/backend/vif/1/0/script) || fail "no script node"
		[ "$script" = "$prefix/etc/pvio/scripts/vif-bridge" ] ||
			fail "vif 1.0 was plugged by $script"
		;;
	"pvio network-list "*)
		grep -Eq '^0 +0 +00:16:3e:00:00:01 ' "$tmp/walkthrough.log" ||
			fail "network-list shows no vif 0 of alice"
		;;
	esac
done <"$tmp/walkthrough"
grep -q " 3 received" "$tmp/walkthrough.log" || fail "the ping had no 3 replies"
grep -q "^alice " "$tmp/walkthrough.log" || fail "list shows no alice"
pvio host status >/dev/null 2>&1 && fail "the walkthrough left the host running"
[ -n "${id:-}" ] || fail "no host id seen"
if ip netns list | grep -q "^pvio-$id-"; then fail "namespaces left"; fi

echo "== pvio demo with the installed pvio"
# It finds the drivers, the hotplug script and pvio-bench in the prefix.
# Until pvio-bench has a sweep, the installed one is asked and the demo
# says it has none; once it has, the stand-in keeps the test short.
demo_run=$tmp/demo-run
if "$prefix/bin/pvio-bench" --help | grep -q '^  sweep '; then
	bench_env="PVIO_BENCH=$abs_src/tests/integration/standin-bench.sh"
	want="plots: $tmp/results/latency.png"
else
	bench_env=
	want="$prefix/bin/pvio-bench has no \`sweep\` command yet"
fi
env $bench_env pvio --rundir "$demo_run" demo --out "$tmp/results" >"$tmp/demo.log" 2>&1 ||
	fail "the installed pvio demo failed"
grep -qF "$want" "$tmp/demo.log" || fail "the demo's sweep step: no '$want'"
grep -q "^     script = \"$prefix/etc/pvio/scripts/vif-bridge\"$" "$tmp/demo.log" ||
	fail "the demo's vifs were not plugged by the installed script"
grep -q '^pvio demo: done' "$tmp/demo.log" || fail "the demo did not finish"
PVIO_RUNDIR=$demo_run pvio host status >/dev/null 2>&1 && fail "the demo left its host running"
echo "PASS: make install; the README's walkthrough with the installed pvio"
