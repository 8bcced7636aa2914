#!/bin/sh
# Several guests and vifs at once: alpha on xenbr0, beta on a second
# bridge xenbr1, gamma on both (eth0 on xenbr0, eth1 on xenbr1) and routing
# between them. xenbr1 carries jumbo frames (mtu=9000): each takes three
# pages, so several ring slots per packet both ways. Everything talks at the same time: TCP alpha -> gamma over
# gamma's eth0, TCP gamma -> beta over its eth1, UDP beta -> alpha routed
# through gamma (in on one vif, out on the other), and pings over IPv4 and
# IPv6 on both bridges. Each stream must move data, and each of the four
# vifs must have carried a stream each way. Needs root.
set -eu
net_name=net-multi
# shellcheck source=tests/integration/net_lib.sh
. "${srcdir:-.}/tests/integration/net_lib.sh"

echo "== host, a second bridge, three guests, four vifs"
net_start
dom0 ip link add xenbr1 type bridge || fail "cannot add xenbr1"
dom0 ip link set xenbr1 up
guest_new alpha
vif_attach alpha
a=$domid
guest_new beta
vif_attach beta bridge=xenbr1 mtu=9000
b=$domid
guest_new gamma
vif_attach gamma
g=$domid
vif_attach gamma bridge=xenbr1 mtu=9000
[ "$devid" = 1 ] || fail "gamma's second vif got devid $devid"
dom0 ip -o link show dev "vif$b.0" | grep -q "master xenbr1" ||
	fail "vif$b.0 not on xenbr1"
dom0 ip -o link show dev "vif$g.1" | grep -q "master xenbr1" ||
	fail "vif$g.1 not on xenbr1"
[ "$(ifindex_of gamma eth0)" != "$(ifindex_of gamma eth1)" ] ||
	fail "gamma's two vifs share one interface"
[ "$(gx beta cat /sys/class/net/eth0/mtu)" = 9000 ] || fail "beta's eth0 mtu"
[ "$(gx gamma cat /sys/class/net/eth1/mtu)" = 9000 ] || fail "gamma's eth1 mtu"

guest_addr alpha 0 10 1
guest_addr gamma 0 10 3
guest_addr gamma 1 20 3
guest_addr beta 0 20 2
gx gamma sysctl -q -w net.ipv4.ip_forward=1 || fail "forwarding in gamma"
gx alpha ip route add 169.254.20.0/24 via 169.254.10.3 || fail "route in alpha"
gx beta ip route add 169.254.10.0/24 via 169.254.20.3 || fail "route in beta"
ping_must alpha 169.254.10.3
ping_must beta 169.254.20.3
ping_must alpha 169.254.20.2
# Whole jumbo frames, never fragmented (DF set).
ping_must beta 169.254.20.3 -M "do" -s 8972
ping_must gamma 169.254.20.2 -M "do" -s 8972

echo "== everything at once"
iperf_server gamma 5201
iperf_server gamma 5202
iperf_server beta 5203
jobs=
job() { # LABEL COMMAND...: in the background, its output labelled
	label=$1
	shift
	("$@" && echo "ok: $label") &
	jobs="$jobs $!"
}
report_bytes() { # CLIENT SERVER-ADDRESS PORT SECS [options]
	iperf_client "$@"
	echo "iperf3 in $*: $iperf_bytes bytes"
}
job "tcp alpha -> gamma eth0" report_bytes alpha 169.254.10.3 5201 3
job "tcp gamma eth1 -> beta" report_bytes beta 169.254.20.3 5202 3 -R
# Back the other way, so that each vif carries a stream in each direction.
job "udp beta -> alpha through gamma" report_bytes alpha 169.254.20.2 5203 3 \
	-u -b 20M -R
job "ping alpha -> beta through gamma" ping_must alpha 169.254.20.2
job "ping6 gamma eth0 -> alpha" ping_must gamma fe80::10:1%eth0 -6
job "ping6 gamma eth1 -> beta" ping_must gamma fe80::20:2%eth1 -6
job "ping6 beta -> gamma eth1, large" ping_must beta fe80::20:3%eth0 -6 -s 6000
failed=0
for j in $jobs; do
	wait "$j" || failed=$((failed + 1))
done
[ "$failed" = 0 ] || fail "$failed of the simultaneous streams failed (above)"

echo "== every vif carried traffic both ways"
for vif in "$a 0" "$b 0" "$g 0" "$g 1"; do
	# shellcheck disable=SC2086 # DOMID DEVID
	set -- $vif
	for counter in tx_bytes rx_bytes; do
		value=$(vif_stat "$1" "$2" $counter)
		[ "$value" -gt 1000000 ] ||
			fail "vif$1.$2 $counter is $value after the streams"
	done
	[ "$(vif_stat "$1" "$2" disabled)" = 0 ] || fail "vif$1.$2 disabled"
	echo "vif$1.$2: tx $(vif_stat "$1" "$2" tx_bytes) rx $(vif_stat "$1" "$2" rx_bytes) bytes"
done

echo "== gamma's second vif goes, the first stays"
pv network-detach gamma 1 >"$tmp/detach.out" 2>&1 ||
	fail "detach gamma 1: $(cat "$tmp/detach.out")"
[ ! -s "$tmp/detach.out" ] || fail "detach gamma 1: $(cat "$tmp/detach.out")"
wait_for vif_gone "$g" 1 || fail "vif$g.1 not removed"
wait_for eth_gone gamma 1 || fail "eth1 still in gamma"
ping_must alpha 169.254.10.3
dom0 ip link del xenbr1 || fail "cannot remove xenbr1"

net_finish
