#!/bin/sh
# End to end through pvio-netfront and pvio-netback: two guests on xenbr0
# ping each other over IPv4 and IPv6 link-local, move TCP and UDP both ways
# (iperf3: data must arrive, the speed is not checked), and a 64 MiB file
# sent from one to the other arrives with the same SHA-256. Needs root.
set -eu
net_name=net-basic
# shellcheck source=tests/integration/net_lib.sh
. "${srcdir:-.}/tests/integration/net_lib.sh"

echo "== host and two guests"
net_start
guest_new alpha
guest_new beta
vif_attach alpha
a=$domid
vif_attach beta
b=$domid
guest_addr alpha 0 0 1
guest_addr beta 0 0 2
# The frontend made eth0 with the MAC the toolstack chose.
mac=$(xs xenstore-read "/local/domain/$a/device/vif/0/mac")
gx alpha ip -o link show dev eth0 | grep -q "link/ether $mac" ||
	fail "alpha's eth0 lacks MAC $mac: $(gx alpha ip -o link show dev eth0)"
dom0 ip -o link show dev "vif$a.0" | grep -q "master xenbr0" ||
	fail "vif$a.0 not on xenbr0"

echo "== ping, IPv4 and IPv6, both ways"
ping_must alpha 169.254.0.2
ping_must beta 169.254.0.1
ping_must alpha fe80::0:2%eth0 -6
ping_must beta fe80::0:1%eth0 -6
# Large echoes take several pages per packet (feature-sg).
ping_must alpha 169.254.0.2 -s 8000
ping_must beta fe80::0:1%eth0 -6 -s 8000

echo "== iperf3 TCP and UDP, both ways"
iperf_pair alpha beta 169.254.0.2 5201 2
echo "tcp alpha->beta: $iperf_bytes bytes"
iperf_pair alpha beta 169.254.0.2 5202 2 -R
echo "tcp beta->alpha: $iperf_bytes bytes"
iperf_pair alpha beta 169.254.0.2 5203 2 -u -b 50M
echo "udp alpha->beta: $iperf_bytes bytes"
iperf_pair alpha beta 169.254.0.2 5204 2 -u -b 50M -R
echo "udp beta->alpha: $iperf_bytes bytes"
iperf_pair beta alpha fe80::0:1%eth0 5205 2
echo "tcp over IPv6 beta->alpha: $iperf_bytes bytes"

echo "== a 64 MiB file, alpha to beta, same SHA-256"
tcp_file alpha beta 169.254.0.2 5300 67108864

echo "== the backend counted the traffic"
tx=$(vif_stat "$a" 0 tx_bytes)
rx=$(vif_stat "$b" 0 rx_bytes)
[ "$tx" -ge 67108864 ] || fail "vif$a.0 tx_bytes $tx: less than the file"
[ "$rx" -ge 67108864 ] || fail "vif$b.0 rx_bytes $rx: less than the file"
[ "$(vif_stat "$a" 0 disabled)" = 0 ] || fail "vif$a.0 disabled"

net_finish
