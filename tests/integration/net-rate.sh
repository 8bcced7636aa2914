#!/bin/sh
# The backend's `rate` node ("bytes,usecs") limits a vif's TX (guest to
# bridge), and follows the node while the vif runs: guest alpha, attached
# with rate=10Mb/s@20ms, sends UDP to beta as fast as it can throughout;
# the bytes pvio-netback forwarded from alpha over measured intervals stay
# within each limit in force (an upper bound only: load can only lower the
# throughput), after lowering it to 1 Mbit/s by a xenstore-write as well;
# removing the node, or writing a malformed value (logged once, naming
# it), lets the vif run unlimited: there the throughput must exceed the
# old 1 Mbit/s bound several times over. Needs root.
set -eu
net_name=net-rate
# shellcheck source=tests/integration/net_lib.sh
. "${srcdir:-.}/tests/integration/net_lib.sh"

# Must match backend/credit.h: the credit saves up to this much.
burst_min=131072
# Slack for the counters read while a batch is being written: one packet.
packet_max=65535

now_us() { echo $(($(date +%s%N) / 1000)); }

rate_node() { echo "/local/domain/0/backend/vif/$a/0/rate"; }

# Bytes vif$a.0 forwarded over an interval of about SECS seconds of
# traffic (m_bytes), and the interval's length in microseconds (m_us).
# The clock is read before the first counter and after the second: a delay
# anywhere makes the interval longer, never shorter.
measure() { # SECS
	m_t0=$(now_us)
	m_b0=$(vif_stat "$a" 0 tx_bytes)
	# Traffic moves in the interval (else a bound proves nothing).
	wait_for tx_beyond "$m_b0" || fail "no TX on vif$a.0 past $m_b0 bytes"
	sleep "$1"
	m_b1=$(vif_stat "$a" 0 tx_bytes)
	m_t1=$(now_us)
	m_bytes=$((m_b1 - m_b0))
	m_us=$((m_t1 - m_t0))
}
tx_beyond() { [ "$(vif_stat "$a" 0 tx_bytes)" -gt "$1" ]; }

# The most a limit of BYTES per USECS lets through in ELAPSED us: the
# credit saved (at most the burst), one window's bytes for each window
# begun, and a packet of counter skew.
allowed() { # BYTES USECS ELAPSED_US
	burst=$1
	[ "$burst" -ge $burst_min ] || burst=$burst_min
	echo $((burst + $1 * ($3 / $2 + 2) + packet_max))
}

# The interval's bytes stay within the limit BYTES,USECS.
assert_within() { # LABEL BYTES USECS
	measure 2
	max=$(allowed "$2" "$3" "$m_us")
	echo "$1: $m_bytes bytes in $m_us us (limit $2 per $3 us: at most $max)"
	[ "$m_bytes" -le "$max" ] ||
		fail "$1: vif$a.0 forwarded $m_bytes bytes in $m_us us, more than the $max a limit of $2 bytes per $3 us allows"
}

# The interval's bytes exceed FACTOR times what BYTES,USECS would allow.
assert_beyond() { # LABEL BYTES USECS FACTOR
	measure 2
	max=$(allowed "$2" "$3" "$m_us")
	echo "$1: $m_bytes bytes in $m_us us (the old limit allowed $max)"
	[ "$m_bytes" -gt $(($4 * max)) ] ||
		fail "$1: vif$a.0 forwarded $m_bytes bytes in $m_us us, not $4 times the $max of the old limit: still limited?"
}

# The backend logged LINE (fixed string) about vif$a.0.
logged() { grep -q -F "vif$a.0: $1" "$run/netback.log"; }
wait_logged() {
	wait_for logged "$1" || fail "pvio-netback did not log \"vif$a.0: $1\""
}

echo "== host, alpha limited to 10 Mbit/s (20 ms windows), beta; 2 queues each"
# Several queues whatever the CPUs: each queue has its own credit at the
# full rate (docs/netif-backend.md, Rate limit), and the one UDP flow stays
# on one of them, so the vif's TX is held to the rate.
PVIO_NETBACK_ARGS="--max-queues 4"
export PVIO_NETBACK_ARGS
net_start
unset PVIO_NETBACK_ARGS
PVIO_NETFRONT_ARGS="--queues 2"
export PVIO_NETFRONT_ARGS
guest_new alpha
guest_new beta
unset PVIO_NETFRONT_ARGS
vif_attach alpha rate=10Mb/s@20ms
a=$domid
vif_attach beta
serves_2_queues() { [ "$(vif_stat "$1" 0 nr_queues)" = 2 ]; }
wait_for serves_2_queues "$a" ||
	fail "vif$a.0 serves $(vif_stat "$a" 0 nr_queues) queues, not 2"
guest_addr alpha 0 0 1
guest_addr beta 0 0 2
node=$(xs xenstore-read "$(rate_node)")
[ "$node" = "25000,20000" ] || fail "rate node is \"$node\", not 25000,20000"
wait_logged "TX limited to 25000 bytes per 20000 us"
ping_must alpha 169.254.0.2

echo "== UDP from alpha to beta as fast as it goes, throughout"
# 8 KiB datagrams (fragmented into full frames); a full queue in alpha
# blocks or drops them, either is fine: only vif$a.0's TX is counted.
bg "$tmp/blast.log" exec alpha -- timeout 300 socat -u /dev/zero \
	UDP-SENDTO:169.254.0.2:9
blast=$!

assert_within "10 Mbit/s" 25000 20000

echo "== lowered to 1 Mbit/s while the traffic runs"
xs xenstore-write "$(rate_node)" "2500,20000"
wait_logged "TX limited to 2500 bytes per 20000 us"
assert_within "1 Mbit/s" 2500 20000

echo "== removed: unlimited"
xs xenstore-rm "$(rate_node)"
wait_logged "TX not limited"
assert_beyond "no limit" 2500 20000 4

echo "== limited again, then a malformed value: logged once, unlimited"
xs xenstore-write "$(rate_node)" "2500,20000"
wait_for sh -c "[ \$(grep -c -F 'vif$a.0: TX limited to 2500 bytes per 20000 us' '$run/netback.log') -ge 2 ]" ||
	fail "the limit written again was not applied"
assert_within "1 Mbit/s again" 2500 20000
xs xenstore-write "$(rate_node)" "2500;20000"
bad="$(rate_node) = \"2500;20000\": no ',' after the bytes (expected \"bytes,usecs\"); TX not limited"
wait_logged "$bad"
assert_beyond "malformed" 2500 20000 4
# The same value again, and another change to the directory: no new line.
xs xenstore-write "$(rate_node)" "2500;20000"
xs xenstore-write "/local/domain/0/backend/vif/$a/0/rate-note" "x"
assert_beyond "malformed, rewritten" 2500 20000 4
n=$(grep -c -F "vif$a.0: $bad" "$run/netback.log")
[ "$n" = 1 ] || fail "the malformed value was logged $n times, not once"
xs xenstore-rm "/local/domain/0/backend/vif/$a/0/rate-note"

kill "$blast"
[ "$(vif_stat "$a" 0 disabled)" = 0 ] || fail "vif$a.0 disabled"
ping_must alpha 169.254.0.2
net_finish
