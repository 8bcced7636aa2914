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
echo "PASS: pvio-bench"
