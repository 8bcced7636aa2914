#!/bin/sh
# An idle vif costs no CPU: after a burst of traffic between two guests,
# once no frame moves any more, pvio-netback's and both pvio-netfronts'
# threads are not scheduled at all over a window of about 2 seconds (no
# voluntary or involuntary context switch, no user or system time). A
# periodic timer, a busy-poll that does not end or an epoll_wait with a
# timeout on an idle vif fails it. The guests and dom0 run without IPv6
# (no router solicitation, DAD or MLD), so that nothing talks on its own;
# a window in which a frame moved anyway (ARP) is retried, a bounded
# number of times. Needs root.
set -eu
net_name=net-idle
# shellcheck source=tests/integration/net_lib.sh
. "${srcdir:-.}/tests/integration/net_lib.sh"

quiet_ipv6() { # COMMAND-PREFIX...: IPv6 off for every interface, now and later
	"$@" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 ||
		fail "cannot turn IPv6 off ($*)"
}

echo "== host and two guests, IPv6 off"
net_start
quiet_ipv6 dom0
guest_new alpha
guest_new beta
quiet_ipv6 gx alpha
quiet_ipv6 gx beta
vif_attach alpha
a=$domid
vif_attach beta
b=$domid
guest_addr_v4() { # NAME HOST
	gx "$1" ip addr add "169.254.0.$2/24" dev eth0 || fail "address on $1"
}
guest_addr_v4 alpha 1
guest_addr_v4 beta 2

# The drivers' processes: pvio-netback and the host's two pvio-netfronts.
nb=$(netback_pid)
nfs=$(for p in $(host_pids); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = pvio-netfront ] && echo "$p"
done)
[ "$(echo "$nfs" | wc -w)" = 2 ] || fail "not two pvio-netfronts: '$nfs'"
drivers="$nb $nfs"

echo "== a burst of traffic"
ping_must alpha 169.254.0.2
iperf_pair alpha beta 169.254.0.2 5201 1
iperf_pair alpha beta 169.254.0.2 5202 1 -R
ping_must beta 169.254.0.1

# Frames counted anywhere on the path: both vif TAPs in dom0, both eth0s,
# and pvio-netback's statistics of both vifs.
frames() {
	for v in "vif$a.0" "vif$b.0"; do
		dom0 cat "/sys/class/net/$v/statistics/rx_packets" \
			"/sys/class/net/$v/statistics/tx_packets"
	done
	for g in alpha beta; do
		gx "$g" cat /sys/class/net/eth0/statistics/rx_packets \
			/sys/class/net/eth0/statistics/tx_packets
	done
	for d in "$a" "$b"; do
		vif_stat "$d" 0 tx_packets
		vif_stat "$d" 0 rx_packets
	done
}

# One line per thread of the drivers: "PID/TID COMM voluntary involuntary
# utime stime" (utime and stime in clock ticks).
threads() {
	for p in $drivers; do
		for t in /proc/"$p"/task/*; do
			[ -d "$t" ] || continue
			vol=$(sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' "$t/status" 2>/dev/null)
			inv=$(sed -n 's/^nonvoluntary_ctxt_switches:[[:space:]]*//p' "$t/status" 2>/dev/null)
			# utime and stime: fields 14 and 15, counted after the
			# ")" that ends the name.
			times=$(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12, $13}')
			echo "$p/${t##*/} $(cat "$t/comm" 2>/dev/null) ${vol:-?} ${inv:-?} ${times:-? ?}"
		done
	done
}

echo "== waiting for a quiet window of 2 s"
quiet=no
window=0
while [ $window -lt 10 ]; do
	window=$((window + 1))
	frames >"$tmp/frames.before"
	threads >"$tmp/threads.before"
	# The window: not a timing check, a span in which nothing may run.
	sleep 2
	threads >"$tmp/threads.after"
	frames >"$tmp/frames.after"
	if ! cmp -s "$tmp/frames.before" "$tmp/frames.after"; then
		echo "window $window: frames moved; again"
		continue
	fi
	quiet=yes
	break
done
[ $quiet = yes ] ||
	fail "frames kept moving in 10 windows of 2 s: $(paste "$tmp/frames.before" "$tmp/frames.after" | tr '\t\n' ' ,')"
# The threads that ran (or came or went) during the quiet window.
if ! cmp -s "$tmp/threads.before" "$tmp/threads.after"; then
	echo "thread  comm  voluntary  involuntary  utime  stime (before, after):" >&2
	diff "$tmp/threads.before" "$tmp/threads.after" >&2 || true
	fail "the drivers ran while no frame moved (window $window of 2 s)"
fi
echo "idle: $(wc -l <"$tmp/threads.after") threads of pvio-netback ($nb) and pvio-netfront ($(echo "$nfs" | tr '\n' ' ')) not scheduled in 2 s (window $window):"
cat "$tmp/threads.after"

echo "== still working after the idle window"
ping_must alpha 169.254.0.2
net_finish
