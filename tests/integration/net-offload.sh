#!/bin/sh
# Checksum and segmentation offload, every combination the protocol
# allows: for each set of offers pvio-netback can make (PVIO_NETBACK_ARGS:
# all; no GSO; no IPv6 checksum, so GSO TCPv4 only; no checksum; no sg;
# nothing), one host whose guests make each set of offers pvio-netfront can
# make (PVIO_NETFRONT_ARGS, the same six, and a second "all"). Around a
# ring of guests, each sends the next a file over TCP on IPv4 and on IPv6
# (same SHA-256 on arrival) and UDP datagrams of 1472 bytes and of 4000
# (IP fragments, larger than the MTU), on both IP versions (same SHA-256).
#
# Each feature's effect is asserted from the counters: GSO on the TX ring
# when the backend offers it (the ring carries far fewer packets than the
# sender's TCP segments: fewer than a quarter) and not when it does not
# (at least half as many), GSO on the RX ring when the sender's packets
# were GSO and the receiver offers it, blank checksums filled by the
# backend for a receiver that takes none of their kind. Needs root.
set -eu
net_name=net-offload
# shellcheck source=tests/integration/net_lib.sh
. "${srcdir:-.}/tests/integration/net_lib.sh"

# A set of offers: the options, and what is offered (sg, IPv4 and IPv6
# checksum, GSO TCPv4 and TCPv6), as netif_features_switch_off leaves it.
profile_args() {
	case $1 in
	full | full2) echo "" ;;
	nogso) echo "--no-gso" ;;
	v4only) echo "--no-ipv6-csum" ;;
	nocsum) echo "--no-csum" ;;
	nosg) echo "--no-sg" ;;
	none) echo "--no-sg --no-csum" ;;
	esac
}
# sg csum4 csum6 gso4 gso6
profile_features() {
	case $1 in
	full | full2) echo "1 1 1 1 1" ;;
	nogso) echo "1 1 1 0 0" ;;
	v4only) echo "1 1 0 1 0" ;;
	nocsum) echo "1 0 0 0 0" ;;
	nosg) echo "0 1 1 0 0" ;;
	none) echo "0 0 0 0 0" ;;
	esac
}
# Whether PROFILE takes GSO of IP version 4 or 6 (netif_gso_usable).
takes_gso() { # PROFILE 4|6
	set -- "$2" $(profile_features "$1")
	if [ "$1" = 4 ]; then [ "$2$3$5" = 111 ]; else [ "$2$4$6" = 111 ]; fi
}
takes_csum() { # PROFILE 4|6
	set -- "$2" $(profile_features "$1")
	if [ "$1" = 4 ]; then [ "$3" = 1 ]; else [ "$4" = 1 ]; fi
}

# The xenstore keys say what was offered.
check_keys() { # DIR PROFILE (a backend or frontend directory)
	set -- "$1" "$2" $(profile_features "$2")
	for kv in "feature-sg=$3" "feature-ipv6-csum-offload=$5" \
		"feature-gso-tcpv4=$6" "feature-gso-tcpv6=$7"; do
		got=$(xs xenstore-read "$1/${kv%=*}" 2>/dev/null || echo 0)
		[ "$got" = "${kv#*=}" ] ||
			fail "$1/${kv%=*} is '$got' for offers '$2', expected ${kv#*=}"
	done
	no_csum=$(xs xenstore-read "$1/feature-no-csum-offload" 2>/dev/null || echo 0)
	[ "$no_csum" = $((1 - $4)) ] ||
		fail "$1/feature-no-csum-offload is '$no_csum' for offers '$2'"
}

# The sender's TCP segments so far (its netns' MIB: IPv4 and IPv6).
tcp_out_segs() { # NAME
	gx "$1" cat /proc/net/snmp | awk '
		$1 == "Tcp:" && !seen { for (i = 2; i <= NF; i++) col[$i] = i; seen = 1; next }
		$1 == "Tcp:" { print $col["OutSegs"] }'
}

udp_listens() { gx "$1" ss -Hlun "sport = :$2" | grep -q .; } # NAME PORT
size_is() { [ "$(wc -c <"$1" 2>/dev/null || echo 0)" -eq "$2" ]; } # FILE BYTES

# COUNT datagrams of SIZE bytes from S to R, in order into one file: the
# same SHA-256 at the other end. Few enough that no queue on the way
# overflows (at most 3 frames each, far below a TAP's 500; the receiving
# socket's buffer holds them all).
udp_file() { # S R PORT ADDRESS 4|6 SIZE COUNT
	f=$tmp/udp-$1-$3
	head -c $(($6 * $7)) /dev/urandom >"$f"
	if [ "$5" = 4 ]; then
		recv="UDP-RECV:$3"
		send="UDP-SENDTO:$4:$3"
	else
		recv="UDP6-RECV:$3"
		send="UDP6-SENDTO:[$4]:$3"
	fi
	PVIO_RUNDIR=$run "$pvio" exec "$2" -- timeout 120 socat -u -b 65536 \
		"$recv,rcvbuf=1048576" "CREATE:$f.got" \
		>"$tmp/socat-udp-recv.log" 2>&1 &
	receiver=$!
	bg_pids="$bg_pids $receiver"
	wait_for udp_listens "$2" "$3" || fail "no UDP receiver in $2 on $3"
	gx "$1" timeout 60 socat -u -b "$6" "OPEN:$f" "$send" \
		>"$tmp/socat-udp-send.log" 2>&1 ||
		fail "$1 -> $2 UDP/IPv$5: $(cat "$tmp/socat-udp-send.log")"
	wait_for size_is "$f.got" $(($6 * $7)) ||
		fail "$1 -> $2 UDP/IPv$5 $6-byte datagrams: $(wc -c <"$f.got") of $(($6 * $7)) bytes arrived; $(pv network-stats "$1"; pv network-stats "$2"; gx "$2" cat /proc/net/snmp | grep -E "^(Ip|Udp):")"
	kill "$receiver" 2>/dev/null || true
	wait "$receiver" 2>/dev/null || true
	[ "$(sha256sum <"$f.got")" = "$(sha256sum <"$f")" ] ||
		fail "$1 -> $2 UDP/IPv$5 $6-byte datagrams: the data changed on the way"
	rm -f "$f" "$f.got"
}

serves_queues() { [ "$(vif_stat "$1" 0 nr_queues)" = "$2" ]; } # DOMID N

# One guest per frontend profile, in the order of the ring; full2 has 3
# queues (the others 1), so that GSO and checksums cross several queues
# both ways (full -> full2 and full2 -> nogso).
guests="full full2 nogso v4only nocsum nosg none"
# Bytes of each TCP file: a few MiB.
file_bytes=4194304

# A host whose backend makes offers BPROFILE; the ring of transfers.
run_host() { # BPROFILE
	bp=$1
	echo "== backend offers: $bp ($(profile_args "$bp"))"
	# Up to 4 queues whatever the CPUs, so that guest full2 (3 queues)
	# carries GSO and checksums on several queues.
	PVIO_NETBACK_ARGS="--max-queues 4 $(profile_args "$bp")"
	export PVIO_NETBACK_ARGS
	net_start
	unset PVIO_NETBACK_ARGS
	n=0
	for g in $guests; do
		n=$((n + 1))
		PVIO_NETFRONT_ARGS=$(profile_args "$g")
		# One queue for the others, whatever the CPUs: the one-queue
		# (flat keys) case stays covered too.
		if [ "$g" = full2 ]; then
			PVIO_NETFRONT_ARGS="$PVIO_NETFRONT_ARGS --queues 3"
		else
			PVIO_NETFRONT_ARGS="$PVIO_NETFRONT_ARGS --queues 1"
		fi
		export PVIO_NETFRONT_ARGS
		guest_new "$g"
		unset PVIO_NETFRONT_ARGS
		vif_attach "$g"
		eval "dom_$g=$domid"
		guest_addr "$g" 0 0 "$n"
		eval "host_$g=$n"
		check_keys "/local/domain/0/backend/vif/$domid/0" "$bp"
		check_keys "/local/domain/$domid/device/vif/0" "$g"
		want_queues=1
		[ "$g" != full2 ] || want_queues=3
		wait_for serves_queues "$domid" "$want_queues" ||
			fail "vif$domid.0 ($g) serves $(vif_stat "$domid" 0 nr_queues) queues, not $want_queues"
	done
	set -- $guests
	first=$1
	port=5400
	for s in $guests; do
		shift
		r=${1:-$first}
		eval "sd=\$dom_$s rd=\$dom_$r rh=\$host_$r"
		for v in 4 6; do
			if [ $v = 4 ]; then addr=169.254.0.$rh; else addr=fe80::0:$rh%eth0; fi
			segs0=$(tcp_out_segs "$s")
			tx0=$(vif_stat "$sd" 0 tx_packets)
			txg0=$(vif_stat "$sd" 0 tx_gso_packets)
			rx0=$(vif_stat "$rd" 0 rx_packets)
			rxg0=$(vif_stat "$rd" 0 rx_gso_packets)
			fill0=$(vif_stat "$rd" 0 rx_csum_filled)
			port=$((port + 1))
			tcp_file "$s" "$r" "$addr" "$port" "$file_bytes"
			segs=$(($(tcp_out_segs "$s") - segs0))
			tx=$(($(vif_stat "$sd" 0 tx_packets) - tx0))
			txg=$(($(vif_stat "$sd" 0 tx_gso_packets) - txg0))
			rx=$(($(vif_stat "$rd" 0 rx_packets) - rx0))
			rxg=$(($(vif_stat "$rd" 0 rx_gso_packets) - rxg0))
			fill=$(($(vif_stat "$rd" 0 rx_csum_filled) - fill0))
			what="$s -> $r TCP/IPv$v under backend $bp: $segs segments, TX ring $tx packets ($txg GSO), RX ring $rx ($rxg GSO), $fill checksums filled"
			echo "$what"
			if takes_gso "$bp" $v; then
				[ $((tx * 4)) -lt "$segs" ] && [ "$txg" -gt 0 ] ||
					fail "GSO not used on the TX ring: $what"
				if takes_gso "$r" $v; then
					[ $((rx * 4)) -lt "$segs" ] && [ "$rxg" -gt 0 ] ||
						fail "GSO not used on the RX ring: $what"
				fi
			else
				[ $((tx * 2)) -ge "$segs" ] && [ "$txg" -eq 0 ] ||
					fail "GSO on the TX ring not offered: $what"
			fi
			if ! takes_gso "$r" $v; then
				[ "$rxg" -eq 0 ] && [ $((rx * 2)) -ge "$segs" ] ||
					fail "GSO on the RX ring not offered: $what"
			fi
			# Partial checksums reach the receiver's vif when the
			# backend took them from the sender.
			if takes_csum "$bp" $v && ! takes_csum "$r" $v; then
				[ "$fill" -gt 0 ] ||
					fail "no checksum filled for a receiver without offload: $what"
			fi
			if takes_csum "$r" $v; then
				[ "$fill" -eq 0 ] ||
					fail "checksums filled for a receiver that takes them: $what"
			fi
			for size in 1472 4000; do
				port=$((port + 1))
				udp_file "$s" "$r" "$port" "$addr" "$v" "$size" 16
			done
		done
		[ "$(vif_stat "$sd" 0 disabled)" = 0 ] || fail "vif$sd.0 disabled"
	done
	net_finish
}

for bp in ${NET_OFFLOAD_BACKENDS:-full nogso v4only nocsum nosg none}; do
	run_host "$bp"
done
