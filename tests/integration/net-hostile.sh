#!/bin/sh
# A hostile frontend against pvio-netback: tests/integration/hostile_netfront
# plays the frontend of one vif in guest mallory (created without
# pvio-netfront) and breaks the protocol one way per case: too many slots,
# offsets past the page, sizes that lie, producer indices racing ahead,
# grant references never granted, garbage extra info, states outside the
# enum, keys missing or malformed. It checks on its side what the backend
# must do (error responses, `disabled`, log lines, InitWait, then service
# again after a reconnect). Here: every case gets a fresh vif, and after
# each the daemon is the same process, the real guests alpha and beta keep
# their vifs and keep moving traffic (ping and iperf3 throughout), and the
# hostile vif detaches cleanly. Needs root.
set -eu
net_name=net-hostile
# shellcheck source=tests/integration/net_lib.sh
. "${srcdir:-.}/tests/integration/net_lib.sh"
hostile=$top/tests/integration/hostile_netfront

echo "== host, two real guests, traffic between them throughout"
# No GSO TCPv4 offered, so that a GSO extra of that type is one the
# backend never offered (gso-not-negotiated); the rest is the default.
PVIO_NETBACK_ARGS=--no-gso-tcpv4
export PVIO_NETBACK_ARGS
net_start
unset PVIO_NETBACK_ARGS
nb=$(netback_pid)
guest_new alpha
vif_attach alpha
a=$domid
guest_new beta
vif_attach beta
b=$domid
guest_addr alpha 0 0 1
guest_addr beta 0 0 2
ping_must alpha 169.254.0.2
(
	export PVIO_NETFRONT=none
	guest_new mallory
)
m=$(domid_of mallory)

traffic_start beta alpha 169.254.0.1
# Broadcasts reach every vif on the bridge: frames for the hostile RX cases.
bg "$tmp/bcast.log" exec alpha -- timeout 900 ping -b -i 0.2 169.254.0.255

# The real guests are untouched and their traffic moves on.
check_bystanders() { # CASE
	for d in "$a" "$b"; do
		[ "$(backend_state "$d" 0)" = 4 ] ||
			fail "$1: vif$d.0's backend left Connected ($(backend_state "$d" 0))"
		[ "$(vif_stat "$d" 0 disabled)" = 0 ] ||
			fail "$1: vif$d.0 of a real guest got disabled"
	done
	traffic_moves "$1"
}

echo "== the cases, one vif each"
cases=$("$hostile" --list | cut -f1)
[ "$(echo "$cases" | wc -l)" -ge 20 ] || fail "hostile_netfront --list: $cases"
# A case the backend gets wrong is reported and the others still run; the
# test fails at the end. Harm beyond the case's own vif fails at once.
failed=
for case in $cases; do
	traffic_mark
	pv network-attach mallory >"$tmp/attach.out" 2>&1 ||
		fail "$case: network-attach: $(cat "$tmp/attach.out")"
	n=$(last_devid "$m")
	backend_is "$m" "$n" 2 || fail "$case: vif$m.$n not InitWait ($(backend_state "$m" "$n"))"
	verdict=ok
	if timeout 300 env PVIO_RUNDIR="$run" "$pvio" exec mallory -- \
		"$hostile" "$case" "$n" >"$tmp/hostile.out" 2>&1; then
		cat "$tmp/hostile.out"
	else
		verdict=FAILED
		cat "$tmp/hostile.out" >&2
		echo "FAIL: $case: the backend did not do what it must (above)" >&2
		failed="$failed $case"
	fi
	[ "$(netback_pid)" = "$nb" ] || fail "$case: pvio-netback died"
	check_bystanders "$case"
	# Whatever the frontend did, the vif keeps its TAP until detached.
	dom0 ip -o link show dev "vif$m.$n" | grep -q "master xenbr0" ||
		fail "$case: vif$m.$n's TAP is gone or off the bridge"
	# Detach needs no answer from the frontend (it exited): the backend
	# must reach Closed, or pvio warns.
	pv network-detach mallory "$n" >"$tmp/detach.out" 2>&1 ||
		fail "$case: network-detach: $(cat "$tmp/detach.out")"
	if [ -s "$tmp/detach.out" ]; then
		echo "FAIL: $case: network-detach: $(cat "$tmp/detach.out")" >&2
		failed="$failed $case(detach)"
		verdict=FAILED
	fi
	wait_for vif_gone "$m" "$n" || fail "$case: vif$m.$n not removed"
	echo "$verdict: $case"
done
[ -z "$failed" ] || fail "cases the backend got wrong:$failed"

echo "== the daemon still serves: the real guests, and a new one"
traffic_stop check
guest_new carol
vif_attach carol
guest_addr carol 0 0 3
ping_must carol 169.254.0.1
ping_must beta 169.254.0.3
[ "$(netback_pid)" = "$nb" ] || fail "pvio-netback died"

net_finish
