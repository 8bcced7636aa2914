#!/bin/sh
# Faults while traffic flows. alpha and beta move traffic throughout
# (ping and iperf3); meanwhile a third guest, itself busy sending, has its
# vif detached, is destroyed, and has its pvio-netfront killed with
# SIGKILL: each time the backend cleans up that vif only and the traffic
# between alpha and beta carries on. Last, pvio-netback itself is killed
# with SIGKILL and started again: the frontends reconnect, the guests keep
# their interfaces (same ifindex, same addresses) and traffic resumes.
# Needs root.
set -eu
net_name=net-faults
# shellcheck source=tests/integration/net_lib.sh
. "${srcdir:-.}/tests/integration/net_lib.sh"

echo "== host, alpha and beta, traffic between them"
net_start
guest_new alpha
vif_attach alpha
a=$domid
guest_new beta
vif_attach beta
b=$domid
guest_addr alpha 0 0 1
guest_addr beta 0 0 2
ping_must alpha 169.254.0.2
iperf_server beta 5201 # for the busy third guests, one after another
traffic_start alpha beta 169.254.0.2

# Guest NAME (address 169.254.0.HOST) sends to beta in the background until
# killed or cut off; returns once its vif carried some of it.
busy_guest() { # NAME HOST
	guest_new "$1"
	vif_attach "$1"
	guest_addr "$1" 0 0 "$2"
	ping_must "$1" 169.254.0.2
	bg "$tmp/busy-$1.log" exec "$1" -- timeout 300 iperf3 -c 169.254.0.2 \
		-p 5201 -t 120 --connect-timeout 10000
	busy=$domid
	wait_for sent_some "$busy" || fail "$1 sends nothing"
}
sent_some() { [ "$(vif_stat "$1" 0 tx_bytes)" -gt 1000000 ] 2>/dev/null; }
netfront_pid() { # NAME: pvio-netfront in guest NAME's namespace
	for p in $(ip netns pids "pvio-$host_id-$(domid_of "$1")"); do
		case "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" in
		*pvio-netfront*) echo "$p" ;;
		esac
	done
}
bystanders_fine() { # LABEL
	[ -n "$(netback_pid)" ] || fail "$1: pvio-netback died"
	both_connected "$a" 0 || fail "$1: alpha's vif left Connected"
	both_connected "$b" 0 || fail "$1: beta's vif left Connected"
	traffic_moves "$1"
	traffic_mark
}
echo "== network-detach during traffic"
busy_guest gamma 3
traffic_mark
pv network-detach gamma 0 >"$tmp/detach.out" 2>&1 ||
	fail "detach: $(cat "$tmp/detach.out")"
[ ! -s "$tmp/detach.out" ] || fail "detach: $(cat "$tmp/detach.out")"
wait_for vif_gone "$busy" 0 || fail "vif$busy.0 not removed"
wait_for eth_gone gamma 0 || fail "eth0 still in gamma after detach"
[ -n "$(netfront_pid gamma)" ] || fail "gamma's pvio-netfront died with its vif"
bystanders_fine "detach"
echo "== the guest gets a vif again"
vif_attach gamma
guest_addr gamma 0 0 3
ping_must gamma 169.254.0.1

echo "== destroy during traffic"
bg "$tmp/busy-gamma2.log" exec gamma -- timeout 300 ping -f -s 1400 -w 120 169.254.0.2
wait_for sent_some "$busy" || fail "gamma sends nothing"
traffic_mark
pv destroy gamma >"$tmp/destroy.out" 2>&1 || fail "destroy: $(cat "$tmp/destroy.out")"
[ ! -s "$tmp/destroy.out" ] || fail "destroy: $(cat "$tmp/destroy.out")"
wait_for vif_gone "$busy" 0 || fail "vif$busy.0 not removed by destroy"
! ip netns list | grep -q "^pvio-$host_id-$busy\b" || fail "gamma's namespace left"
bystanders_fine "destroy"

echo "== SIGKILL of a frontend during traffic"
# The server may still serve gamma's connection: a new one for delta.
iperf_server beta 5202
guest_new delta
vif_attach delta
d=$domid
guest_addr delta 0 0 4
bg "$tmp/busy-delta.log" exec delta -- timeout 300 iperf3 -c 169.254.0.2 \
	-p 5202 -t 120 --connect-timeout 10000
wait_for sent_some "$d" || fail "delta sends nothing"
nf=$(netfront_pid delta)
[ -n "$nf" ] || fail "no pvio-netfront in delta"
traffic_mark
kill -9 "$nf"
# DRIVERS.md: the backend disconnects (unmaps, unbinds), keeps the TAP and
# goes back to InitWait for a frontend that may come back.
wait_for backend_is "$d" 0 2 || fail "vif$d.0's backend is $(backend_state "$d" 0), not InitWait, after its frontend died"
dom0 ip link show dev "vif$d.0" >/dev/null 2>&1 || fail "vif$d.0 TAP went with its frontend"
wait_for eth_gone delta 0 || fail "delta's eth0 outlived its driver"
bystanders_fine "kill -9 netfront"
pv destroy delta >"$tmp/destroy.out" 2>&1 || fail "destroy delta: $(cat "$tmp/destroy.out")"
[ ! -s "$tmp/destroy.out" ] || fail "destroy delta: $(cat "$tmp/destroy.out")"
wait_for vif_gone "$d" 0 || fail "vif$d.0 not removed by destroy"

echo "== SIGKILL of the backend during traffic, and a restart"
traffic_stop check
ifa=$(ifindex_of alpha eth0)
ifb=$(ifindex_of beta eth0)
bg "$tmp/ping-across.log" exec alpha -- timeout 300 ping -i 0.1 -w 200 169.254.0.2
wait_for sh -c "grep -q 'bytes from' '$tmp/ping-across.log'" || fail "no ping before the kill"
old=$(netback_pid)
prog=$(tr '\0' '\n' <"/proc/$old/cmdline" | head -n 1)
kill -9 "$old"
wait_for sh -c "! kill -0 $old 2>/dev/null" || fail "pvio-netback survived SIGKILL"
# The frontends notice (sim: the event channel's peer closed) and start over.
wait_for sh -c "[ \"\$(XENSTORED_PATH=$run/xenstored/socket xenstore-read /local/domain/$a/device/vif/0/state)\" = 1 ]" ||
	fail "alpha's frontend is $(frontend_state "$a" 0), not Initialising, with the backend dead"
# Started as `host start` does: in dom0's namespace with dom0's identity,
# its own session, the same log and pidfile (host stop stops it).
# shellcheck disable=SC2016 # expanded by the backend's shell
PVIO_RUNDIR=$run "$pvio" exec 0 -- setsid sh -c 'echo $$ >"$1"; exec "$2"' \
	sh "$run/netback.pid" "$prog" >>"$run/netback.log" 2>&1 </dev/null &
wait_for sh -c "[ -s '$run/netback.pid' ] && [ \"\$(cat '$run/netback.pid')\" != $old ]" ||
	fail "the backend did not start again"
wait_for both_connected "$a" 0 || fail "alpha did not reconnect (backend $(backend_state "$a" 0), frontend $(frontend_state "$a" 0))"
wait_for both_connected "$b" 0 || fail "beta did not reconnect (backend $(backend_state "$b" 0), frontend $(frontend_state "$b" 0))"
# The restarted backend put its new TAPs on the bridge itself.
for dom in "$a" "$b"; do
	dom0 ip -o link show dev "vif$dom.0" | grep -q "master xenbr0" ||
		fail "vif$dom.0 not on xenbr0 after the restart"
done
[ "$(ifindex_of alpha eth0)" = "$ifa" ] || fail "alpha's eth0 changed ifindex"
[ "$(ifindex_of beta eth0)" = "$ifb" ] || fail "beta's eth0 changed ifindex"
gx alpha ip -o addr show dev eth0 | grep -q "169.254.0.1/24" || fail "alpha lost its address"
gx beta ip -o -6 addr show dev eth0 | grep -q "fe80::2/64" || fail "beta lost its IPv6 address"
# The ping that ran across the kill gets replies again.
replies_now=$(grep -c "bytes from" "$tmp/ping-across.log")
wait_for sh -c "[ \$(grep -c 'bytes from' '$tmp/ping-across.log') -gt $replies_now ]" ||
	fail "the ping across the restart got no reply since"
ping_must beta 169.254.0.1
iperf_pair beta alpha 169.254.0.1 5203 2
echo "tcp beta->alpha after the restart: $iperf_bytes bytes"

net_finish
