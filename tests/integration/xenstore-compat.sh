#!/bin/sh
# The pvio-xenstored half of the xenstore compatibility comparison: the
# command script tests/xen/xenstore-script.sh against a private
# pvio-xenstored, its guest commands through an introduced domain's own
# socket; the normalised transcript must be tests/xen/xenstore-expected.txt,
# which tests/xen/run.sh's xenstore-compat scenario checks oxenstored (Xen
# 4.17, in a real dom0, with a real guest) gives too.
#
#   tests/integration/xenstore-compat.sh [OUT]
#
# OUT (default: a temporary file) keeps the transcript. Run from the build
# tree (top_builddir, srcdir as make check sets them).
set -eu

top=${top_builddir:-.}
src=${srcdir:-$top}
daemon=$top/xenstore/pvio-xenstored
check=$top/tests/integration/xs-check
script=$src/tests/xen/xenstore-script.sh
expected=$src/tests/xen/xenstore-expected.txt
for tool in xenstore-read xenstore-write xenstore-ls xenstore-list \
	xenstore-rm xenstore-chmod xenstore-watch xenstore-exists; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool missing (Debian package xenstore-utils)"
		exit 77
	fi
done
for f in "$daemon" "$check"; do
	[ -x "$f" ] || { echo "FAIL: $f not built" >&2; exit 1; }
done

tmp=$(mktemp -d)
pid=
agent=
cleanup() {
	if [ -n "$agent" ]; then kill "$agent" 2>/dev/null || true; fi
	# Watchers the script left running when it failed half-way.
	for p in "$tmp"/scratch/watch-*.pid "$tmp"/guest/watch-*.pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	[ -f "$tmp/daemon.log" ] && sed 's/^/daemon: /' "$tmp/daemon.log" >&2
	exit 1
}
wait_for() { # at most ~10 s
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -lt 200 ] || return 1
		sleep 0.05
	done
}

# Not the domain id Xen's first guest gets (1): the normalisation is
# exercised either way.
domid=7
"$daemon" --foreground --socket "$tmp/socket" --domain-socket-dir "$tmp/domains" \
	--log-level info 2>"$tmp/daemon.log" &
pid=$!
wait_for test -S "$tmp/socket" || fail "pvio-xenstored did not create its socket"
XENSTORED_PATH=$tmp/socket
export XENSTORED_PATH
# The domain as libxl leaves it: introduced, its home readable by it.
"$check" introduce $domid || fail "introduce $domid"
wait_for test -S "$tmp/domains/domain-$domid" || fail "no socket for domain $domid"
xenstore-write /local/domain/$domid "" || fail "creating /local/domain/$domid"
xenstore-chmod /local/domain/$domid n0 r$domid || fail "chmod /local/domain/$domid"

# run_script HOW OUT: the script, its guest commands run as HOW says; its
# transcript must be the expected one.
run_script() {
	XSC_DOMID=$domid XSC_GUEST=$1 XSC_TMP=$tmp/scratch XSC_GUEST_TMP=$tmp/guest \
		XSC_STEP_TIMEOUT=20 sh "$script" >"$2" || fail "the script failed ($1)"
	if ! diff -u "$expected" "$2" >"$tmp/diff"; then
		cat "$tmp/diff" >&2
		fail "pvio-xenstored's transcript ($1) differs from $expected (above)"
	fi
}
mkdir "$tmp/scratch" "$tmp/guest"
out=${1:-$tmp/transcript}

# The guest's commands straight on its socket.
run_script "socket:$tmp/domains/domain-$domid" "$out"

# Again through the agent the real-Xen guest runs (tests/xen/xenstore-agent.sh),
# here on the guest's socket: the scenario's own path, checked on the host.
xenstore-write /local/domain/$domid/agent "" || fail "creating agent/"
xenstore-chmod /local/domain/$domid/agent n$domid || fail "chmod agent/"
XENSTORED_PATH=$tmp/domains/domain-$domid sh "$src/tests/xen/xenstore-agent.sh" \
	>"$tmp/agent.log" 2>&1 &
agent=$!
wait_for xenstore-exists /local/domain/$domid/agent/ready || fail "the agent did not start"
run_script agent "$tmp/transcript-agent"
echo "pvio-xenstored's transcript is $expected ($(wc -l <"$out") lines), straight and through the agent"
