#!/bin/sh
# Persistent grants (feature-pvio-persistent-grants, a pvio extension:
# docs/netif-backend.md). On only when both ends write the key: pvio-netback
# then maps a frontend's pages once, writes TX frames from them (only the
# headers copied) and reads RX frames from the TAP straight into them;
# otherwise every packet is grant-copied, as for Linux's netfront, which
# does not write the key.
#
# Two hosts: one whose backend offers it, with a guest whose frontend
# takes it and one whose frontend does not (--no-persistent-grants); one
# whose backend does not offer it. On each, TCP files both ways over IPv4
# and one way over IPv6 must arrive with the same SHA-256, the keys must
# say what was negotiated, and the statistics file must show the mapped
# path used exactly where it was negotiated, with the mappings kept (no
# more than the frontend's 256 TX pages per queue, however many packets).
# Needs root.
set -eu
net_name=net-persistent
# shellcheck source=tests/integration/net_lib.sh
. "${srcdir:-.}/tests/integration/net_lib.sh"

# The persistent-grant counters of vif DOMID.0, as `pvio network-stats`
# prints them.
mapped_packets() { vif_stat "$1" 0 tx_mapped_packets; }
maps() { vif_stat "$1" 0 tx_maps; }
rx_mapped_packets() { vif_stat "$1" 0 rx_mapped_packets; }
rx_maps() { vif_stat "$1" 0 rx_maps; }

key_of() { # DIR
	xs xenstore-read "$1/feature-pvio-persistent-grants" 2>/dev/null ||
		echo absent
}

file_bytes=4194304

run_host() { # OFFERED: 1 when the backend offers persistent grants
	offered=$1
	echo "== backend offers persistent grants: $offered"
	if [ "$offered" = 1 ]; then
		PVIO_NETBACK_ARGS=""
	else
		PVIO_NETBACK_ARGS="--no-persistent-grants"
	fi
	export PVIO_NETBACK_ARGS
	net_start
	unset PVIO_NETBACK_ARGS
	host=0
	for g in on off; do
		host=$((host + 1))
		PVIO_NETFRONT_ARGS=""
		[ "$g" = on ] || PVIO_NETFRONT_ARGS="--no-persistent-grants"
		export PVIO_NETFRONT_ARGS
		guest_new "$g"
		unset PVIO_NETFRONT_ARGS
		vif_attach "$g"
		eval "dom_$g=$domid"
		guest_addr "$g" 0 0 "$host"
		be=$(key_of "/local/domain/0/backend/vif/$domid/0")
		fe=$(key_of "/local/domain/$domid/device/vif/0")
		want_be=absent want_fe=absent
		[ "$offered" = 0 ] || want_be=1
		[ "$offered" = 0 ] || [ "$g" = off ] || want_fe=1
		[ "$be" = "$want_be" ] ||
			fail "backend key is '$be' for offer $offered, expected $want_be"
		[ "$fe" = "$want_fe" ] ||
			fail "frontend $g's key is '$fe' (backend offers $offered), expected $want_fe"
	done
	port=5500
	for dir in "on off 169.254.0.2" "off on 169.254.0.1" \
		"on off fe80::0:2%eth0" "off on fe80::0:1%eth0"; do
		set -- $dir
		eval "sd=\$dom_$1 rd=\$dom_$2"
		m0=$(mapped_packets "$sd")
		tx0=$(vif_stat "$sd" 0 tx_packets)
		rm0=$(rx_mapped_packets "$rd")
		rx0=$(vif_stat "$rd" 0 rx_packets)
		port=$((port + 1))
		tcp_file "$1" "$2" "$3" "$port" "$file_bytes"
		m=$(($(mapped_packets "$sd") - m0))
		tx=$(($(vif_stat "$sd" 0 tx_packets) - tx0))
		rm=$(($(rx_mapped_packets "$rd") - rm0))
		rx=$(($(vif_stat "$rd" 0 rx_packets) - rx0))
		what="$1 -> $2 ($3): $tx TX packets, $m from mapped pages, $(maps "$sd") pages mapped; $rx RX packets, $rm into mapped pages, $(rx_maps "$rd") pages mapped"
		echo "$what"
		if [ "$offered" = 1 ] && [ "$1" = on ]; then
			# Nearly every packet (a few with headers past the head
			# may be copied); the mappings are kept, not made per
			# packet.
			[ $((m * 10)) -ge $((tx * 9)) ] && [ "$tx" -gt 0 ] ||
				fail "the mapped path was not used: $what"
			queues=$(vif_stat "$sd" 0 nr_queues)
			[ "$(maps "$sd")" -gt 0 ] &&
				[ "$(maps "$sd")" -le $((256 * queues)) ] ||
				fail "mappings not kept ($queues queues): $what"
		else
			[ "$(mapped_packets "$sd")" = 0 ] && [ "$(maps "$sd")" = 0 ] ||
				fail "mapped without negotiation: $what"
		fi
		# RX: into the receiver's pages when it negotiated them (a
		# batch that finds too few buffers posted is copied).
		if [ "$offered" = 1 ] && [ "$2" = on ]; then
			[ $((rm * 2)) -ge "$rx" ] && [ "$rx" -gt 0 ] ||
				fail "RX not read into mapped pages: $what"
			queues=$(vif_stat "$rd" 0 nr_queues)
			[ "$(rx_maps "$rd")" -gt 0 ] &&
				[ "$(rx_maps "$rd")" -le $((256 * queues)) ] ||
				fail "RX mappings not kept ($queues queues): $what"
		else
			[ "$(rx_mapped_packets "$rd")" = 0 ] &&
				[ "$(rx_maps "$rd")" = 0 ] ||
				fail "RX mapped without negotiation: $what"
		fi
	done
	for g in on off; do
		eval "d=\$dom_$g"
		[ "$(vif_stat "$d" 0 disabled)" = 0 ] || fail "vif$d.0 disabled"
	done
	net_finish
}

run_host 1
run_host 0
