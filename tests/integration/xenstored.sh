#!/bin/sh
# Integration test of pvio-xenstored with the real clients: Debian's
# xenstore-utils and libxenstore (through xs-check). Runs in a private
# temporary directory; the daemon is killed on exit, even on failure.
set -eu

top=${top_builddir:-.}
daemon=$top/xenstore/pvio-xenstored
check=$top/tests/integration/xs-check
for tool in xenstore-read xenstore-write xenstore-ls xenstore-list \
	xenstore-rm xenstore-chmod xenstore-watch xenstore-exists; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool missing (Debian package xenstore-utils)"
		exit 77
	fi
done

tmp=$(mktemp -d)
pid=
watcher=
dpid=
gwatchers=
cleanup() {
	if [ -n "$watcher" ]; then kill "$watcher" 2>/dev/null || true; fi
	for w in $gwatchers; do kill "$w" 2>/dev/null || true; done
	# The detached daemon, even when the test failed before noting its pid.
	if [ -z "$dpid" ] && [ -s "$tmp/detached.pid" ]; then
		dpid=$(cat "$tmp/detached.pid")
	fi
	if [ -n "$dpid" ]; then kill "$dpid" 2>/dev/null || true; fi
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

# Waits (at most ~10 s) until the command succeeds.
wait_for() {
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -lt 200 ] || return 1
		sleep 0.05
	done
}

sock=$tmp/socket
doms=$tmp/domains
"$daemon" --foreground --socket "$sock" --domain-socket-dir "$doms" \
	--pidfile "$tmp/pid" --log-level info --quota-nodes 10 \
	--quota-connections 2 2>"$tmp/daemon.log" &
pid=$!
wait_for test -S "$sock" || fail "daemon did not create $sock"
wait_for test -s "$tmp/pid" || fail "no pidfile"
[ "$(cat "$tmp/pid")" = "$pid" ] || fail "pidfile holds $(cat "$tmp/pid")"
[ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode $(stat -c %a "$sock")"
export XENSTORED_PATH="$sock"

echo "== read, write, ls, list, exists"
xenstore-write /t/a 1 /t/b/c "two words" || fail "xenstore-write"
[ "$(xenstore-read /t/a)" = 1 ] || fail "read /t/a"
[ "$(xenstore-read /t/b/c)" = "two words" ] || fail "read /t/b/c"
[ "$(xenstore-list /t | tr '\n' ' ')" = "a b " ] || fail "list order"
xenstore-ls /t | grep -q 'c = "two words"' || fail "xenstore-ls"
xenstore-exists /t/b || fail "exists /t/b"
if xenstore-exists /t/nope 2>/dev/null; then fail "exists /t/nope"; fi
if xenstore-read /t/nope 2>/dev/null; then fail "read of a missing key"; fi
xenstore-write rel 3
[ "$(xenstore-read /local/domain/0/rel)" = 3 ] || fail "relative path"

echo "== a directory beyond one frame (libxenstore pages it)"
set --
i=0
while [ $i -lt 300 ]; do
	set -- "$@" "/big/child-name-number-$i" "$i"
	i=$((i + 1))
done
xenstore-write "$@" || fail "writing 300 keys"
[ "$(xenstore-list /big | wc -l)" = 300 ] || fail "xenstore-list /big"
[ "$(xenstore-list /big | head -1)" = child-name-number-0 ] || fail "order"
[ "$(xenstore-list /big | tail -1)" = child-name-number-299 ] || fail "order"
xenstore-rm /big

echo "== chmod"
xenstore-chmod /t/a r0 w7 || fail "xenstore-chmod"
xenstore-ls -p /t | grep -q 'a = "1".*(r0,w7)' || fail "perms not shown"
xenstore-chmod -r /t b0 || fail "xenstore-chmod -r"
xenstore-ls -p /t | grep -q 'c = "two words".*(b0)' || fail "recursive chmod"

echo "== watch"
xenstore-watch -n 3 /w >"$tmp/watch.out" 2>&1 &
watcher=$!
wait_for grep -qx /w "$tmp/watch.out" || fail "no initial watch event"
xenstore-write /w/x 1
xenstore-rm /w
wait_for sh -c "! kill -0 $watcher 2>/dev/null" || fail "watcher still waiting"
watcher=
[ "$(tr '\n' ' ' <"$tmp/watch.out")" = "/w /w/x /w " ] ||
	fail "watch events: $(cat "$tmp/watch.out")"

echo "== rm of a subtree"
xenstore-write /sub/a/b/c 1 /sub/a/d 2
xenstore-rm /sub/a || fail "xenstore-rm"
if xenstore-exists /sub/a/b/c 2>/dev/null; then fail "subtree survived"; fi
xenstore-exists /sub || fail "parent removed"
xenstore-rm /sub/missing || fail "rm of a missing leaf"

echo "== transaction conflict between two libxenstore clients"
[ "$("$check" conflict /race)" = EAGAIN ] || fail "no conflict"

echo "== oversize frame"
[ "$("$check" oversize "$sock")" = closed ] || fail "oversize frame"

echo "== pipelined requests beyond the unread-reply bound"
[ "$("$check" pipeline "$sock")" = 2000 ] || fail "pipelined requests"

echo "== guest domain"
"$check" introduce 5 || fail "introduce"
[ "$("$check" introduced 5)" = T ] || fail "not introduced"
guest=$doms/domain-5
wait_for test -S "$guest" || fail "no guest socket"
xenstore-write /local/domain/5/name guest5 /local/domain/0/secret s
xenstore-chmod /local/domain/5 n5
xenstore-chmod /local/domain/5/name n5
XENSTORED_PATH=$guest xenstore-write data/key v || fail "guest write"
[ "$(xenstore-read /local/domain/5/data/key)" = v ] || fail "guest data"
[ "$(XENSTORED_PATH=$guest xenstore-read name)" = guest5 ] ||
	fail "guest read"
[ "$(XENSTORED_PATH=$guest "$check" read /local/domain/0/secret)" = EACCES ] ||
	fail "guest read dom0's secret"
# Denial tells nothing about existence.
[ "$(XENSTORED_PATH=$guest "$check" read /local/domain/0/none)" = EACCES ] ||
	fail "existence leak"
[ "$(XENSTORED_PATH=$guest "$check" read none)" = ENOENT ] ||
	fail "missing key of the guest's own"
if XENSTORED_PATH=$guest xenstore-write /local/domain/0/secret x 2>/dev/null; then
	fail "guest wrote dom0's secret"
fi
if XENSTORED_PATH=$guest xenstore-chmod data/key n0 2>/dev/null; then
	fail "guest gave its node away"
fi

echo "== a guest's long path and a dom0 watcher's long token"
[ "$("$check" longevent "$guest")" = kept ] ||
	fail "dom0 watcher lost to a guest's long path"

echo "== guest quota (--quota-nodes 10)"
# The guest owns its home, name, data and data/key: six more nodes fit.
for i in 1 2 3 4 5 6; do
	XENSTORED_PATH=$guest xenstore-write "q$i" x || fail "guest write q$i"
done
if XENSTORED_PATH=$guest xenstore-write q7 x 2>/dev/null; then
	fail "node quota not enforced"
fi
xenstore-write /local/domain/0/after-quota 1 || fail "dom0 bound by quota"
XENSTORED_PATH=$guest xenstore-rm q1 || fail "guest rm"
XENSTORED_PATH=$guest xenstore-write q7 x || fail "quota not freed by rm"

echo "== guest connection quota (--quota-connections 2)"
for i in 1 2; do
	XENSTORED_PATH=$guest xenstore-watch data >"$tmp/gw$i" 2>&1 &
	gwatchers="$gwatchers $!"
	wait_for grep -qx data "$tmp/gw$i" || fail "guest watcher $i"
done
if XENSTORED_PATH=$guest xenstore-read name >/dev/null 2>&1; then
	fail "third guest connection accepted"
fi
grep -q "domain 5 has 2 connections: refused" "$tmp/daemon.log" ||
	fail "refusal not logged"
xenstore-read /local/domain/5/name >/dev/null || fail "dom0 refused"
for w in $gwatchers; do kill "$w"; wait "$w" 2>/dev/null || true; done
gwatchers=
wait_for sh -c "XENSTORED_PATH=$guest xenstore-read name >/dev/null 2>&1" ||
	fail "guest connections not freed"

echo "== release"
xenstore-watch -n 2 @releaseDomain >"$tmp/release.out" 2>&1 &
watcher=$!
wait_for grep -qx @releaseDomain "$tmp/release.out" || fail "no initial event"
"$check" release 5 || fail "release"
wait_for sh -c "! kill -0 $watcher 2>/dev/null" || fail "no @releaseDomain"
watcher=
[ "$("$check" introduced 5)" = F ] || fail "still introduced"
if [ -e "$guest" ]; then fail "guest socket left behind"; fi
if xenstore-exists /local/domain/5/data 2>/dev/null; then
	fail "guest-owned nodes left behind"
fi

echo "== a second daemon on the same socket"
if "$daemon" --foreground --socket "$sock" --domain-socket-dir "$doms" \
	2>"$tmp/err2"; then
	fail "second daemon started"
fi
grep -q "in use" "$tmp/err2" || fail "unclear error: $(cat "$tmp/err2")"

echo "== detached mode"
# The command returns once the socket is bound; the pidfile names the
# daemon, which keeps serving.
"$daemon" --socket "$tmp/detached.sock" --domain-socket-dir "$tmp/dd" \
	--pidfile "$tmp/detached.pid" || fail "detached start"
test -S "$tmp/detached.sock" || fail "no socket after a detached start"
wait_for test -s "$tmp/detached.pid" || fail "no pidfile (detached)"
dpid=$(cat "$tmp/detached.pid")
XENSTORED_PATH="$tmp/detached.sock" xenstore-write /d 1 || fail "detached"
kill -TERM "$dpid"
wait_for sh -c "! kill -0 $dpid 2>/dev/null" || fail "detached daemon lives"
dpid=
[ ! -e "$tmp/detached.sock" ] || fail "detached socket left behind"

echo "== bad options"
if "$daemon" --log-level loud 2>"$tmp/err3"; then fail "--log-level loud"; fi
grep -q "unknown log level" "$tmp/err3" || fail "unclear: $(cat "$tmp/err3")"
if "$daemon" --quota-nodes 0 2>/dev/null; then fail "--quota-nodes 0"; fi
if "$daemon" --quota-memory-per-domain 0 2>/dev/null; then
	fail "--quota-memory-per-domain 0"
fi
"$daemon" --help | grep -q -- --quota-memory-per-domain ||
	fail "--help lacks the memory quota"
"$daemon" --help | grep -q XENSTORED_PATH || fail "--help"

echo "== SIGTERM"
kill -TERM "$pid"
wait "$pid" || fail "daemon exit status $?"
pid=
[ ! -e "$sock" ] || fail "socket left behind"
[ ! -e "$tmp/pid" ] || fail "pidfile left behind"
echo "PASS"
