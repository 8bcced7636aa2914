#!/bin/sh
# Multi-queue and split event channels end to end: pvio-netback offers 4
# queues and split channels; guest pairs whose pvio-netfront takes 1, 2 or
# 4 queues, with split channels on and off (every combination), move a
# TCP file over IPv4 and over IPv6 and a UDP file, each arriving with the
# same SHA-256. With several queues, parallel TCP flows must land on at
# least two queues in each direction (the per-queue counters of
# `pvio network-stats`), and the xenstore keys must be the layout Linux
# uses: flat for one queue, queue-N/ otherwise, and pvio-netback must hold
# no more descriptors or threads once the guests are gone. Last, the
# backend is killed and restarted offering neither feature: guests that
# had 4 queues and split channels reconnect with one of each, keeping no
# thread or descriptor of the others. Needs root.
set -eu
net_name=net-mq
# shellcheck source=tests/integration/net_lib.sh
. "${srcdir:-.}/tests/integration/net_lib.sh"

# The drivers with options: the toolstack starts whatever PVIO_NETBACK and
# PVIO_NETFRONT name.
wrapper() { # FILE PROGRAM ARGS...
	f=$1
	shift
	printf '#!/bin/sh\nexec %s "$@"\n' "$*" >"$f"
	chmod +x "$f"
}
wrapper "$tmp/netback" "$top/backend/pvio-netback" --max-queues 4
export PVIO_NETBACK="$tmp/netback"

# Guest NAME's per-queue counters: "tx" or "rx" of queue Q.
queue_stat() { # DOMID DEVID Q tx|rx
	pv network-stats "$1" "$2" >"$tmp/stats.out" 2>&1 ||
		fail "network-stats $1 $2: $(cat "$tmp/stats.out")"
	awk -v q="$3" -v d="$4" '
		$1 == "queue" && $2 == q ":" {
			print (d == "tx" ? $4 : $7); found = 1
		}
		END { if (!found) print 0 }' "$tmp/stats.out"
}
nr_queues_stat() { # DOMID DEVID
	pv network-stats "$1" "$2" | awk '$1 == "queues:" { print $2 }'
}
# How many of the first N queues of vif DOMID.0 carried more than 100
# packets in direction DIR (the odd neighbour solicitation does not count).
busy_queues() { # DOMID N DIR
	busy=0
	q=0
	while [ "$q" -lt "$2" ]; do
		[ "$(queue_stat "$1" 0 "$q" "$3")" -gt 100 ] && busy=$((busy + 1))
		q=$((q + 1))
	done
	echo "$busy"
}

# A file in 1400-byte UDP datagrams, few enough (64 KiB: 47) for the
# receiving socket's buffer to hold them all however slowly socat reads
# (it holds about 90). A datagram lost anyway (a short file) is tried
# again, at most three times; a file of the right size with other bytes
# is corruption.
udp_file() { # FROM TO ADDRESS PORT BYTES
	head -c "$5" /dev/urandom >"$tmp/file"
	sent=$(sha256sum <"$tmp/file")
	case $3 in
	*:*) listen="UDP6-RECV:$4,reuseaddr" target="UDP6-SENDTO:[$3]:$4" ;;
	*) listen="UDP-RECV:$4,bind=$3,reuseaddr" target="UDP-SENDTO:$3:$4" ;;
	esac
	for try in 1 2 3; do
		rm -f "$tmp/received"
		PVIO_RUNDIR=$run "$pvio" exec "$2" -- timeout 60 socat -u \
			"$listen" "CREATE:$tmp/received" \
			>"$tmp/socat-recv.log" 2>&1 &
		receiver=$!
		bg_pids="$bg_pids $receiver"
		wait_for udp_listens "$2" "$4" || fail "socat does not listen on UDP in $2"
		gx "$1" timeout 60 socat -u -b 1400 "OPEN:$tmp/file" \
			"$target" >"$tmp/socat-send.log" 2>&1 ||
			fail "sending the UDP file: $(cat "$tmp/socat-send.log")"
		wait_for received_all "$5" || true
		kill "$receiver" 2>/dev/null || true
		wait "$receiver" 2>/dev/null || true
		forget_pid "$receiver"
		size=$(wc -c <"$tmp/received" 2>/dev/null || echo 0)
		if [ "$size" -eq "$5" ]; then
			got=$(sha256sum <"$tmp/received")
			[ "$got" = "$sent" ] ||
				fail "UDP to $3 changed the file: sent $sent, got $got"
			rm -f "$tmp/file" "$tmp/received"
			return 0
		fi
		echo "UDP try $try: $size of $5 bytes arrived; again"
	done
	fail "UDP to $3: the file never arrived whole ($size of $5 bytes)"
}
udp_listens() { gx "$1" ss -Hlun "sport = :$2" | grep -q .; }
received_all() { [ "$(wc -c <"$tmp/received" 2>/dev/null || echo 0)" -ge "$1" ]; }

# pvio-netback's descriptors and threads: after each pair is gone they
# must be what they were after the first (a queue's TAP descriptor, grant
# and event-channel handles, epoll registrations all go with it).
nb_fds() { ls "/proc/$(netback_pid)/fd" | wc -l; }
nb_threads() { ls "/proc/$(netback_pid)/task" | wc -l; }
idle_fds=
idle_threads=
check_nothing_left() { # LABEL
	fds=$(nb_fds)
	threads=$(nb_threads)
	if [ -z "$idle_fds" ]; then
		idle_fds=$fds
		idle_threads=$threads
	fi
	[ "$fds" = "$idle_fds" ] ||
		fail "$1: pvio-netback holds $fds descriptors, $idle_fds before: $(ls -l "/proc/$(netback_pid)/fd")"
	[ "$threads" = "$idle_threads" ] ||
		fail "$1: pvio-netback runs $threads threads, $idle_threads before"
}

key() { xs xenstore-read "/local/domain/$1/device/vif/0/$2" 2>/dev/null; }
has_key() { xs xenstore-exists "/local/domain/$1/device/vif/0/$2" 2>/dev/null; }

# The frontend's keys for QUEUES queues, SPLIT yes or no: Linux's layout.
check_keys() { # DOMID QUEUES SPLIT
	[ "$(key "$1" multi-queue-num-queues)" = "$2" ] ||
		fail "dom $1: multi-queue-num-queues '$(key "$1" multi-queue-num-queues)', want $2"
	if [ "$2" = 1 ]; then
		has_key "$1" tx-ring-ref || fail "dom $1: one queue but no flat tx-ring-ref"
		! has_key "$1" queue-0 || fail "dom $1: one queue in queue-0/"
		dir=
	else
		! has_key "$1" tx-ring-ref || fail "dom $1: $2 queues and a flat tx-ring-ref"
		has_key "$1" "queue-$(($2 - 1))/rx-ring-ref" ||
			fail "dom $1: no queue-$(($2 - 1))/rx-ring-ref"
		! has_key "$1" "queue-$2" || fail "dom $1: a queue-$2/ of too many"
		dir=queue-0/
	fi
	if [ "$3" = yes ]; then
		has_key "$1" "${dir}event-channel-tx" && has_key "$1" "${dir}event-channel-rx" ||
			fail "dom $1: split channels but no ${dir}event-channel-tx/-rx"
		! has_key "$1" "${dir}event-channel" || fail "dom $1: split and ${dir}event-channel"
	else
		has_key "$1" "${dir}event-channel" || fail "dom $1: no ${dir}event-channel"
		! has_key "$1" "${dir}event-channel-tx" || fail "dom $1: ${dir}event-channel-tx unasked"
	fi
}

echo "== host: pvio-netback offers 4 queues and split event channels"
net_start
wait_for grep -q "up to 4 queues per vif, split event channels offered" "$run/netback.log" ||
	fail "pvio-netback did not start with 4 queues: $(cat "$run/netback.log")"

pair=0
for queues in 1 2 4; do
	for split in yes no; do
		pair=$((pair + 1))
		echo "== $queues queue(s), split event channels $split"
		opts="--queues $queues"
		[ "$split" = yes ] || opts="$opts --no-split-event-channels"
		wrapper "$tmp/netfront-$pair" "$top/frontend/pvio-netfront" $opts
		PVIO_NETFRONT="$tmp/netfront-$pair"
		export PVIO_NETFRONT
		guest_new "a$pair"
		guest_new "b$pair"
		vif_attach "a$pair"
		a=$domid
		vif_attach "b$pair"
		b=$domid
		unset PVIO_NETFRONT
		check_keys "$a" "$queues" "$split"
		check_keys "$b" "$queues" "$split"
		[ "$(nr_queues_stat "$a" 0)" = "$queues" ] ||
			fail "vif$a.0 has $(nr_queues_stat "$a" 0) queues, want $queues"
		grep -q "vif$a.0: connected: $queues queue" "$run/netback.log" ||
			fail "the backend did not log $queues queues for vif$a.0"
		if [ "$queues" -gt 1 ]; then
			tap_queues=$(dom0 ip -d link show dev "vif$a.0" | grep -c multi_queue || true)
			[ "$tap_queues" -ge 1 ] ||
				fail "vif$a.0 is not a multi-queue TAP: $(dom0 ip -d link show dev "vif$a.0")"
		fi
		guest_addr "a$pair" 0 "$pair" 1
		guest_addr "b$pair" 0 "$pair" 2
		ping_must "a$pair" "169.254.$pair.2"

		tcp_file "a$pair" "b$pair" "169.254.$pair.2" 5301 8388608
		tcp_file "b$pair" "a$pair" "fe80::$pair:1%eth0" 5302 8388608
		udp_file "a$pair" "b$pair" "169.254.$pair.2" 5303 65536
		udp_file "b$pair" "a$pair" "fe80::$pair:1%eth0" 5304 65536

		if [ "$queues" -gt 1 ]; then
			# 16 flows each way: the chance that the kernels' flow
			# hashes put all of them on one queue is 2^-15 or less.
			iperf_pair "a$pair" "b$pair" "169.254.$pair.2" 5310 2 -P 16
			iperf_pair "a$pair" "b$pair" "169.254.$pair.2" 5311 2 -P 16 -R
			pv network-stats "$a" 0 >"$tmp/stats-a.out"
			pv network-stats "$b" 0 >"$tmp/stats-b.out"
			for vif in "$a" "$b"; do
				for dir in tx rx; do
					n=$(busy_queues "$vif" "$queues" "$dir")
					[ "$n" -ge 2 ] ||
						fail "vif$vif.0: only $n queue(s) carried $dir traffic: $(cat "$tmp/stats-a.out" "$tmp/stats-b.out")"
				done
			done
			grep "queue [0-9]:" "$tmp/stats-a.out"
		fi
		[ "$(vif_stat "$a" 0 disabled)" = 0 ] || fail "vif$a.0 disabled"
		[ "$(vif_stat "$b" 0 disabled)" = 0 ] || fail "vif$b.0 disabled"
		pv destroy "a$pair" >"$tmp/destroy.out" 2>&1 || fail "destroy a$pair: $(cat "$tmp/destroy.out")"
		pv destroy "b$pair" >"$tmp/destroy.out" 2>&1 || fail "destroy b$pair: $(cat "$tmp/destroy.out")"
		wait_for vif_gone "$a" 0 || fail "vif$a.0 left after destroy"
		wait_for vif_gone "$b" 0 || fail "vif$b.0 left after destroy"
		check_nothing_left "after $queues queue(s), split $split"
	done
done

echo "== two vifs of 4 queues do not fit one guest's grants: the second gets fewer"
# Each queue takes 514 grants; the sim grant table holds 4096 a domain.
wrapper "$tmp/netfront-many" "$top/frontend/pvio-netfront" --queues 4
PVIO_NETFRONT="$tmp/netfront-many"
export PVIO_NETFRONT
guest_new many
unset PVIO_NETFRONT
vif_attach many
vif_attach many
m=$domid
[ "$(key "$m" multi-queue-num-queues)" = 4 ] || fail "the first vif of 'many' has $(key "$m" multi-queue-num-queues) queues"
second=$(xs xenstore-read "/local/domain/$m/device/vif/1/multi-queue-num-queues")
[ "$second" -ge 1 ] && [ "$second" -lt 4 ] ||
	fail "the second vif of 'many' has $second queues"
grep -q "vif$m.1: cannot set up queue $second of 4: .*; going on with $second" \
	"$run/domain-$m-netfront.log" || fail "the frontend did not say why vif$m.1 has $second queues"
[ "$(nr_queues_stat "$m" 1)" = "$second" ] || fail "vif$m.1: the backend serves $(nr_queues_stat "$m" 1) queues, not $second"
pv destroy many >"$tmp/destroy.out" 2>&1 || fail "destroy many: $(cat "$tmp/destroy.out")"
wait_for vif_gone "$m" 1 || fail "vif$m.1 left after destroy"
check_nothing_left "after the two vifs of 'many'"

echo "== backend restart: 4-queue guests reconnect to a backend offering neither"
wrapper "$tmp/netfront-all" "$top/frontend/pvio-netfront" --queues 4
PVIO_NETFRONT="$tmp/netfront-all"
export PVIO_NETFRONT
guest_new plain1
guest_new plain2
vif_attach plain1
a=$domid
vif_attach plain2
b=$domid
check_keys "$a" 4 yes
guest_addr plain1 0 9 1
guest_addr plain2 0 9 2
tcp_file plain1 plain2 169.254.9.2 5320 4194304
old=$(netback_pid)
kill -9 "$old"
wait_for sh -c "! kill -0 $old 2>/dev/null" || fail "pvio-netback survived SIGKILL"
wrapper "$tmp/netback" "$top/backend/pvio-netback" --max-queues 1 --no-split-event-channels
# Started as net-faults.sh does: as `host start` would (host stop stops it).
# shellcheck disable=SC2016 # expanded by the backend's shell
PVIO_RUNDIR=$run "$pvio" exec 0 -- setsid sh -c 'echo $$ >"$1"; exec "$2"' \
	sh "$run/netback.pid" "$tmp/netback" >>"$run/netback.log" 2>&1 </dev/null &
wait_for grep -q "up to 1 queues per vif, split event channels not offered" "$run/netback.log" ||
	fail "the restarted pvio-netback did not start"
wait_for both_connected "$a" 0 || fail "plain1 did not reconnect (backend $(backend_state "$a" 0), frontend $(frontend_state "$a" 0))"
wait_for both_connected "$b" 0 || fail "plain2 did not reconnect (backend $(backend_state "$b" 0), frontend $(frontend_state "$b" 0))"
# One queue now, flat, one channel: the queue-N/ keys of before are gone.
check_keys "$a" 1 no
check_keys "$b" 1 no
wait_for sh -c "ip netns exec pvio-$host_id-dom0 ip link show dev vif$a.0 | grep -q 'master xenbr0'" ||
	fail "vif$a.0 not on the bridge after the restart"
tcp_file plain1 plain2 169.254.9.2 5321 4194304
# The frontend that went from 4 queues to 1 holds what one that started
# with 1 holds: the other queues' threads and descriptors went.
guest_new plain3
vif_attach plain3
c=$domid
unset PVIO_NETFRONT
check_keys "$c" 1 no
nf_pid() { # DOMID
	for p in $(host_pids); do
		if grep -q -s -z -x -F "PVIO_DOMID=$1" "/proc/$p/environ" &&
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = pvio-netfront ]; then
			echo "$p"
		fi
	done
}
pa=$(nf_pid "$a")
pc=$(nf_pid "$c")
[ -n "$pa" ] && [ -n "$pc" ] || fail "no pvio-netfront of plain1 ($pa) or plain3 ($pc)"
fa=$(ls "/proc/$pa/fd" | wc -l)
fc=$(ls "/proc/$pc/fd" | wc -l)
[ "$fa" = "$fc" ] || fail "plain1's pvio-netfront holds $fa descriptors after going from 4 queues to 1, plain3's $fc"
ta=$(ls "/proc/$pa/task" | wc -l)
tc=$(ls "/proc/$pc/task" | wc -l)
[ "$ta" = "$tc" ] || fail "plain1's pvio-netfront runs $ta threads after going from 4 queues to 1, plain3's $tc"

net_finish
