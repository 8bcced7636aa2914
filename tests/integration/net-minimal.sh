#!/bin/sh
# A minimal frontend, one that writes only what Mini-OS's netfront writes
# (tx-ring-ref, rx-ring-ref, event-channel, request-rx-copy,
# feature-rx-notify: no feature-sg, no IPv6 checksum offload, no GSO, no
# multi-queue, no split channels), works with pvio-netback: netback_peer's
# relay is guest mini's NIC (a TAP without offloads, so mini's kernel
# fills and checks every checksum in software), and a real guest, alpha
# (pvio-netfront, checksum offload on: its frames reach mini's vif TAP
# with partial checksums), talks to it over TCP and UDP, IPv4 and IPv6.
# The relay fails on any frame the negotiation forbids (more than one
# slot, a GSO extra, a blank checksum for a family without offload) and on
# any TCP or UDP checksum that does not verify; files arrive with the same
# SHA-256, and neither guest's kernel counts a checksum error. Twice: as
# Mini-OS (IPv4 checksum offload by default), and with
# feature-no-csum-offload=1 (no offload at all: the backend fills every
# partial checksum). Needs root.
set -eu
net_name=net-minimal
# shellcheck source=tests/integration/net_lib.sh
. "${srcdir:-.}/tests/integration/net_lib.sh"
peer=$top/tests/integration/netback_peer
[ -x "$peer" ] || {
	echo "FAIL: $peer is not built" >&2
	exit 1
}

# Checksum errors guest NAME's kernel counted (TCP, UDP, UDP over IPv6).
csum_errors() { # NAME
	gx "$1" cat /proc/net/snmp /proc/net/snmp6 | awk '
		$1 == "Tcp:" || $1 == "Udp:" {
			if (!($1 in hdr)) { for (i = 2; i <= NF; i++) col[$1, $i] = i; hdr[$1] = 1; next }
			if (($1, "InCsumErrors") in col) n += $(col[$1, "InCsumErrors"])
		}
		$1 == "Udp6InCsumErrors" { n += $2 }
		END { print n + 0 }'
}

# A file over TCP (net_lib.sh's tcp_file: the same SHA-256 must arrive),
# said in the log.
file_over_tcp() { # FROM TO ADDRESS PORT BYTES
	tcp_file "$@"
	echo "tcp $1 -> $3: $5 bytes, same SHA-256"
}

# The count the relay printed for WHAT (e.g. "verified: ipv4 tcp").
relay_count() { # OUTPUT FAMILY PROTO SECTION
	sed -n "s/.*$4[^;]*$2 tcp \([0-9]*\) udp \([0-9]*\).*/\1 \2/p" "$1" |
		awk -v p="$3" '{ print (p == "tcp") ? $1 : $2 }'
}

echo "== host; alpha with pvio-netfront; mini with no driver of its own"
net_start
guest_new alpha
vif_attach alpha
guest_addr alpha 0 0 1
(
	export PVIO_NETFRONT=none
	guest_new mini
)
m=$(domid_of mini)
runs=0

# One run of the relay as mini's eth<devid>; extra netback_peer options
# follow the label.
minimal_run() { # LABEL [--no-csum]
	label=$1
	shift
	echo "== $label"
	pv network-attach mini >"$tmp/attach.out" 2>&1 ||
		fail "network-attach mini: $(cat "$tmp/attach.out")"
	n=$(last_devid "$m")
	wait_for backend_is "$m" "$n" 2 || fail "vif$m.$n not InitWait"
	relay_out=$tmp/relay-$n.out
	bg "$relay_out" exec mini -- timeout 900 "$peer" -n "$n" --minimal "$@" \
		relay "eth$n"
	relay=$!
	wait_for both_connected "$m" "$n" ||
		fail "vif$m.$n not Connected (backend $(backend_state "$m" "$n"), frontend $(frontend_state "$m" "$n"))"
	wait_for eth_up mini "$n" || fail "no eth$n up in mini: $(cat "$relay_out")"
	# A new address each run: alpha's neighbour entry for the last one
	# names the last vif's MAC.
	runs=$((runs + 1))
	host=$((1 + runs))
	guest_addr mini "$n" 0 "$host"
	v4=169.254.0.$host
	v6=fe80::0:$host

	# What the backend negotiated: one queue (flat keys), one event
	# channel, no sg, no GSO.
	grep -q -F "vif$m.$n: connected:" "$run/netback.log" ||
		fail "no connect line for vif$m.$n"
	line=$(grep -F "vif$m.$n: connected:" "$run/netback.log" | tail -n 1)
	case $line in
	*" sg"* | *ipv6-csum* | *gso* | *event-channel-tx*) fail "vif$m.$n negotiated more than it was offered: $line" ;;
	*"connected: 1 queue (queue 0: "*) ;;
	*) fail "vif$m.$n negotiated more than one queue: $line" ;;
	esac
	echo "$line"

	ping_must alpha "$v4"
	ping_must alpha "$v6%eth0" -6
	ping_must mini 169.254.0.1
	file_over_tcp alpha mini "$v4" 5301 8388608
	file_over_tcp mini alpha 169.254.0.1 5302 8388608
	file_over_tcp alpha mini "$v6%eth0" 5303 4194304
	file_over_tcp mini alpha "fe80::0:1%eth$n" 5304 4194304
	iperf_pair alpha mini "$v4" 5305 2 -u -b 20M
	echo "udp alpha -> mini: $iperf_bytes bytes"
	iperf_pair alpha mini "$v4" 5306 2 -u -b 20M -R
	echo "udp mini -> alpha: $iperf_bytes bytes"
	iperf_pair alpha mini "$v6%eth0" 5307 2 -u -b 20M
	echo "udp over IPv6 alpha -> mini: $iperf_bytes bytes"

	kill "$relay"
	wait "$relay" || fail "$label: the relay failed: $(cat "$relay_out")"
	cat "$relay_out"
	grep -q "^relay: tx" "$relay_out" || fail "$label: no counts from the relay"
	[ "$(vif_stat "$m" "$n" disabled)" = 0 ] || fail "vif$m.$n disabled"
	for g in alpha mini; do
		e=$(csum_errors "$g")
		[ "$e" = 0 ] || fail "$label: $g's kernel counted $e checksum errors"
	done
	pv network-detach mini "$n" >"$tmp/detach.out" 2>&1 ||
		fail "network-detach mini $n: $(cat "$tmp/detach.out")"
	wait_for vif_gone "$m" "$n" || fail "vif$m.$n still there after detach"
}

# Every TCP and UDP frame counted, checked here or filled here.
seen() { # OUT FAMILY PROTO
	v=$(relay_count "$1" "$2" "$3" verified)
	b=$(relay_count "$1" "$2" "$3" "csum_blank filled here")
	echo $((v + b))
}

minimal_run "as Mini-OS: IPv4 checksum offload by default, nothing else"
for fam in ipv4 ipv6; do
	for proto in tcp udp; do
		[ "$(seen "$relay_out" $fam $proto)" -gt 0 ] ||
			fail "no $fam $proto frame reached the minimal frontend"
	done
done
# Without feature-ipv6-csum-offload every IPv6 checksum came filled
# (the relay fails on a blank one): verified here.
for proto in tcp udp; do
	[ "$(relay_count "$relay_out" ipv6 $proto verified)" -gt 0 ] ||
		fail "no IPv6 $proto checksum verified"
done

minimal_run "with feature-no-csum-offload=1: no offload at all" --no-csum
for fam in ipv4 ipv6; do
	for proto in tcp udp; do
		[ "$(relay_count "$relay_out" $fam $proto verified)" -gt 0 ] ||
			fail "no $fam $proto checksum verified"
		[ "$(relay_count "$relay_out" $fam $proto "csum_blank filled here")" = 0 ] ||
			fail "$fam $proto csum_blank to a frontend without offload"
	done
done

net_finish
