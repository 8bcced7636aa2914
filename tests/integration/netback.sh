#!/bin/sh
# Integration test of pvio-netback under the toolstack, with netback_peer
# as the frontend (a minimal one that drives the rings well and badly):
# the TAP and InitWait at attach; frames both ways between two guests
# (sg, checksum offload and its absence); a bad key, a refused grant, a
# hostile ring each cost only that vif, logged once, while another guest's
# traffic carries on; a frontend that dies and comes back; detach, a
# removed directory, @releaseDomain; a backend restart takes devices up
# again; SIGTERM and SIGKILL leave no TAP. Needs root.
set -eu

top=${top_builddir:-.}
src=${srcdir:-.}
top=$(cd "$top" && pwd)
pvio=$top/tools/pvio/pvio
peer=$top/tests/integration/netback_peer
xscheck=$top/tests/integration/xs-check
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, bridges, TAPs)"
	exit 77
fi
for tool in ip od xenstore-read xenstore-write xenstore-rm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool missing (Debian packages iproute2, xenstore-utils)"
		exit 77
	fi
done

tmp=$(mktemp -d)
run=$tmp/host
abs_src=$(cd "$src" && pwd)
export PVIO_NETBACK="$top/backend/pvio-netback"
export PVIO_NETFRONT=none
export PVIO_SCRIPTDIR="$abs_src/tools/hotplug"
export PVIO_TIMEOUT=5
export PVIO_RUNDIR="$run"
unset XENSTORED_PATH

# shellcheck source=tests/integration/host_lib.sh
. "$abs_src/tests/integration/host_lib.sh"
bg_pids=
cleanup() {
	for p in $bg_pids; do kill -9 "$p" 2>/dev/null || true; done
	host_remove "$run" "$pvio"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

fail() { fail_with_logs "$*" "$run"/*.log "$tmp"/*.out; }

xs() { XENSTORED_PATH=$run/xenstored/socket "$@"; }
be_state() { xs xenstore-read "/local/domain/0/backend/vif/$1/$2/state" 2>/dev/null; }
state_is() { [ "$(be_state "$1" "$2")" = "$3" ]; }
has_link() { ip -n "$dom0ns" link show dev "$1" >/dev/null 2>&1; }
no_link() { ! has_link "$1"; }
log_has() { grep -q "$1" "$run/netback.log"; }
log_count() { grep -c "$1" "$run/netback.log" || true; }
# A 64-bit counter of a vif's statistics file at byte offset $2 (negative:
# from the end). Offsets of netif_stats.h's struct netif_vif_stats: fields
# are only appended (the offload counters, then version 2's per-queue
# counters, after disabled).
stat_at() {
	f=$run/netback/$1.stats
	off=$2
	[ "$off" -ge 0 ] || off=$(($(stat -c %s "$f") + off))
	od -An -t u8 -j "$off" -N 8 "$f" | tr -d ' '
}
tx_packets() { stat_at "$1" 16; }
rx_packets() { stat_at "$1" 32; }
# Fixed offset (netif_stats.h asserts it): the counters appended after it
# move the end.
disabled() { stat_at "$1" 224; }
peer_in() { # DOM ARGS...: netback_peer inside the guest
	dom=$1
	shift
	"$pvio" exec "$dom" -- "$peer" "$@"
}
# Frames from guest $1 to guest $2 (recv args $4...), $3 of them.
traffic() {
	from=$1 to=$2 count=$3
	shift 3
	rm -f "$tmp/recv.out" "$tmp/send.out"
	peer_in "$to" "$@" recv "$count" >"$tmp/recv.out" 2>&1 &
	rpid=$!
	bg_pids="$bg_pids $rpid"
	# The receiver says when it is connected, its buffers posted (the
	# backend may still read Connected from its previous frontend).
	wait_for grep -qs "^ready" "$tmp/recv.out" ||
		fail "receiver $to never connected"
	state_is "$(dom_id "$to")" "$tdev" 4 || fail "receiver's backend not Connected"
	# shellcheck disable=SC2086 # options, split on purpose
	peer_in "$from" $send_args send "$count" >"$tmp/send.out" 2>&1 ||
		fail "send $from -> $to"
	wait "$rpid" || fail "recv $from -> $to"
}
tdev=0
send_args=
dom_id() { case $1 in a) echo 1 ;; b) echo 2 ;; c) echo 3 ;; esac; }

echo "== start, attach: TAP, features, InitWait"
"$pvio" host start >/dev/null || fail "host start"
dom0ns=pvio-$(host_id "$run")-dom0
for g in a b c; do "$pvio" create name=$g >/dev/null || fail "create $g"; done
for g in a b c; do "$pvio" network-attach $g || fail "attach $g"; done
for d in 1 2 3; do
	has_link vif$d.0 || fail "no TAP vif$d.0"
	state_is $d 0 2 || fail "vif$d.0 state $(be_state $d 0), not InitWait"
	[ "$(od -An -t x4 -N 4 "$run/netback/vif$d.0.stats" | tr -d ' ')" = 70766e73 ] ||
		fail "vif$d.0 statistics file"
done
ip -n "$dom0ns" -o link show dev vif1.0 | grep -q "master xenbr0" ||
	fail "vif1.0 not on the bridge"
for k in feature-rx-copy feature-sg feature-ipv6-csum-offload; do
	[ "$(xs xenstore-read /local/domain/0/backend/vif/1/0/$k)" = 1 ] ||
		fail "$k not offered"
done
for k in feature-gso-tcpv4 feature-gso-tcpv6; do
	[ "$(xs xenstore-read /local/domain/0/backend/vif/1/0/$k)" = 1 ] ||
		fail "$k not offered"
done

echo "== frames a -> b (sg, csum_blank passed on)"
traffic a b 300
grep -q "^received 300 (udp: 60 csum_blank, 0 filled)" "$tmp/recv.out" ||
	fail "recv: $(cat "$tmp/recv.out")"
[ "$(tx_packets vif1.0)" -ge 300 ] || fail "vif1.0 tx_packets $(tx_packets vif1.0)"
[ "$(rx_packets vif2.0)" -ge 300 ] || fail "vif2.0 rx_packets $(rx_packets vif2.0)"
# Both peers exited: their backends noticed and wait for them again.
wait_for state_is 1 0 2 || fail "vif1.0 not back to InitWait after its frontend exited"
log_has "vif1.0: the frontend closed its event channel or died" ||
	fail "frontend exit not logged"

echo "== frames c -> b, b without checksum offload: filled in software"
traffic c b 300 --no-csum
grep -q "^received 300 (udp: 0 csum_blank, 60 filled)" "$tmp/recv.out" ||
	fail "recv --no-csum: $(cat "$tmp/recv.out")"

echo "== frames a -> b with persistent grants: TX from, RX into mapped pages"
# Both peers write feature-pvio-persistent-grants (a pvio extension): the
# frames (sg, two slots in one page, UDP csum_blank) go from a's mapped
# pages to the TAP and from b's vif TAP into b's mapped pages, checked
# byte for byte by the receiver.
stat_at() { od -An -t u8 -j "$2" -N 8 "$run/netback/$1.stats" | tr -d ' '; }
tx_mapped0=$(stat_at vif1.0 520)
rx_mapped0=$(stat_at vif2.0 536)
send_args=--persistent
traffic a b 300 --persistent
send_args=
grep -q "^received 300 (udp: 60 csum_blank, 0 filled)" "$tmp/recv.out" ||
	fail "recv --persistent: $(cat "$tmp/recv.out")"
[ "$(xs xenstore-read /local/domain/0/backend/vif/1/0/feature-pvio-persistent-grants)" = 1 ] ||
	fail "persistent grants not offered"
tx_mapped=$(($(stat_at vif1.0 520) - tx_mapped0))
rx_mapped=$(($(stat_at vif2.0 536) - rx_mapped0))
[ "$tx_mapped" -ge 300 ] || fail "vif1.0: $tx_mapped TX frames from mapped pages, not 300"
[ "$rx_mapped" -ge 1 ] || fail "vif2.0: no RX frame into mapped pages"
echo "TX from mapped pages $tx_mapped, RX into mapped pages $rx_mapped"
# Without the key (the runs above), nothing was mapped on vif3.0.
[ "$(stat_at vif3.0 520)" = 0 ] || fail "vif3.0 mapped without the key"

echo "== jumbo frames a -> b: three slots each way"
"$pvio" network-attach a mtu=9000 || fail "attach a mtu=9000"
"$pvio" network-attach b mtu=9000 || fail "attach b mtu=9000"
tdev=1
send_args="-n 1 --max-frame 9014"
traffic a b 200 -n 1 --max-frame 9014
grep -q "^received 200 " "$tmp/recv.out" || fail "jumbo: $(cat "$tmp/recv.out")"
tdev=0
send_args=
"$pvio" network-detach a 1 || fail "detach a 1"
"$pvio" network-detach b 1 || fail "detach b 1"

echo "== bad keys and refused grants: logged once, InitWait kept"
fe=/local/domain/1/device/vif/0
xs xenstore-write $fe/state 1
xs xenstore-write $fe/tx-ring-ref abc $fe/rx-ring-ref 9 $fe/event-channel 5 \
	$fe/request-rx-copy 1 $fe/feature-rx-notify 1 $fe/state 4
wait_for log_has 'vif1.0: frontend refused: .*tx-ring-ref = "abc"' ||
	fail "bad tx-ring-ref not logged"
xs xenstore-write $fe/state 4 # the same again: not logged again
xs xenstore-write $fe/tx-ring-ref 4000 $fe/state 4
wait_for log_has 'vif1.0: cannot connect to the frontend (domain 1): tx-ring-ref 4000' ||
	fail "refused grant not logged"
[ "$(log_count 'tx-ring-ref = "abc"')" = 1 ] || fail "bad key logged more than once"
state_is 1 0 2 || fail "vif1.0 left InitWait after a bad connect"

echo "== hostile frontends lose their vif only"
for what in slots index crossing; do
	peer_in a hostile $what >"$tmp/hostile.out" 2>&1 ||
		fail "hostile $what: $(cat "$tmp/hostile.out")"
	[ "$(disabled vif1.0)" = 1 ] || fail "hostile $what: stats disabled not 1"
done
log_has 'vif1.0: frontend disabled: TX packet at ring index 0: fatal slot count: slot .* flags 0x4' ||
	fail "disable by slots not logged with the slot"
log_has 'vif1.0: frontend disabled: TX packet at ring index 0: .*slot 0 (index 0) has gref [0-9]* offset 4000 size 200' ||
	fail "disable by a slot crossing its page not logged with the slot"
log_has 'vif1.0: frontend disabled: TX ring: request producer 1000' ||
	fail "disable by index not logged with the index"
[ "$(log_count 'vif1.0: frontend disabled')" = 3 ] ||
	fail "each disable logged once: $(log_count 'vif1.0: frontend disabled')"
# Meanwhile another guest's traffic carries on, and the hostile one comes
# back once it reconnects from Initialising.
traffic c b 100
traffic a b 100

echo "== a frontend that dies is waited for"
peer_in a recv 100000 >"$tmp/dying.out" 2>&1 &
dpid=$!
bg_pids="$bg_pids $dpid"
wait_for state_is 1 0 4 || fail "vif1.0 never connected"
for p in $(ip netns pids "pvio-$(host_id "$run")-1"); do kill -9 "$p"; done
wait "$dpid" 2>/dev/null || true
wait_for state_is 1 0 2 || fail "vif1.0 not InitWait after its frontend died"
has_link vif1.0 || fail "vif1.0 TAP gone with its frontend"

echo "== detach, removed directory, @releaseDomain: TAP and statistics go"
"$pvio" network-detach a 0 || fail "detach"
no_link vif1.0 || fail "vif1.0 left after detach"
[ ! -e "$run/netback/vif1.0.stats" ] || fail "vif1.0 statistics left"
"$pvio" network-attach a || fail "attach a again"
has_link vif1.0 || fail "no vif1.0 after attach"
xs xenstore-rm /local/domain/0/backend/vif/1/0
xs xenstore-rm /local/domain/1/device/vif/0
wait_for no_link vif1.0 || fail "vif1.0 left after its directory went"
# Domain 3 goes without a detach: its nodes, then RELEASE.
xs xenstore-rm /local/domain/3
XENSTORED_PATH=$run/xenstored/socket "$xscheck" release 3 ||
	fail "release domain 3"
wait_for no_link vif3.0 || fail "vif3.0 left after @releaseDomain"
wait_for log_has "vif3.0: domain 3 is gone" || fail "release not logged"

echo "== restart: devices taken up again, hotplug script run"
nbpid=$(cat "$run/netback.pid")
kill -9 "$nbpid"
wait_for no_link vif2.0 || fail "a killed backend left vif2.0"
ip netns exec "$dom0ns" env XENSTORED_PATH="$run/xenstored/socket" \
	PVIO_DOMID=0 PVIO_RUNDIR="$run" PVIO_PLATFORM=sim "$PVIO_NETBACK" \
	>>"$run/netback.log" 2>&1 &
nb2=$!
bg_pids="$bg_pids $nb2"
wait_for has_link vif2.0 || fail "restart did not recreate vif2.0"
wait_for sh -c "ip -n $dom0ns -o link show dev vif2.0 | grep -q 'master xenbr0'" ||
	fail "restart did not put vif2.0 on the bridge"
state_is 2 0 2 || fail "vif2.0 state $(be_state 2 0) after restart"
"$pvio" network-attach a || fail "attach a after restart"
traffic a b 100

echo "== a guest cannot flood the log"
"$pvio" network-attach b || fail "attach b's second vif"
fe=/local/domain/2/device/vif/1
xs xenstore-write $fe/rx-ring-ref 9 $fe/event-channel 5 $fe/request-rx-copy 1 \
	$fe/feature-rx-notify 1
# One bad connect at a time: the backend reads the frontend's keys when its
# watch fires, so writes faster than it reads would coalesce into fewer
# refusals than connects on a loaded machine.
refused_or_quiet() {
	log_has "tx-ring-ref = \"x$i\"" || log_has "vif2.1: more messages than 20 in 60 s"
}
i=0
while [ $i -lt 30 ]; do
	xs xenstore-write $fe/tx-ring-ref "x$i" $fe/state 4
	wait_for refused_or_quiet || fail "bad connect $i neither refused nor suppressed"
	i=$((i + 1))
done
wait_for log_has "vif2.1: more messages than 20 in 60 s" ||
	fail "no suppression after 30 bad connects"
[ "$(log_count 'vif2.1: frontend refused')" -le 20 ] ||
	fail "$(log_count 'vif2.1: frontend refused') refusals logged in a minute"

echo "== SIGTERM: every vif closed, exit 0"
kill -TERM "$nb2"
wait "$nb2" || fail "backend exit status $? on SIGTERM"
no_link vif1.0 || fail "vif1.0 left after SIGTERM"
no_link vif2.0 || fail "vif2.0 left after SIGTERM"
state_is 2 0 6 || fail "vif2.0 not Closed after SIGTERM"
log_has "pvio-netback: stopped" || fail "no stop logged"
"$pvio" host stop >/dev/null || fail "host stop"
echo "PASS"
