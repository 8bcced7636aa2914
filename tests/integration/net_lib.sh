# Shared by the end-to-end network tests (tests/integration/net-*.sh):
# sourced, not run. A private host under its own run directory, guests with
# real pvio-netback and pvio-netfront, addresses, traffic helpers, and a
# cleanup that leaves nothing behind even when a test fails: no guest,
# namespace, TAP, bridge, process or xenstore node.
#
# Each test sets net_name before sourcing this file, then calls net_start,
# makes guests with guest_new / vif_attach, and ends with net_finish.
# Variables set here (domid, devid, iperf_bytes, ...) are for the tests.
# shellcheck shell=sh disable=SC2034

top=${top_builddir:-.}
src=${srcdir:-.}
top=$(cd "$top" && pwd)
abs_src=$(cd "$src" && pwd)
pvio=$top/tools/pvio/pvio

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, bridges, TAPs)"
	exit 77
fi
for tool in ip ping iperf3 socat jq sha256sum timeout xenstore-read \
	xenstore-write xenstore-ls; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool missing (scripts/install-deps.sh installs it)"
		exit 77
	fi
done
for prog in backend/pvio-netback frontend/pvio-netfront tools/pvio/pvio; do
	if [ ! -x "$top/$prog" ]; then
		# Not a skip: the drivers are part of the build.
		echo "FAIL: $top/$prog is not built" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvio-${net_name:?set by the test}.XXXXXX")
run=$tmp/run
export PVIO_SCRIPTDIR="$abs_src/tools/hotplug"
# Generous: sanitizer builds on a loaded 2-core machine are slow.
export PVIO_TIMEOUT=20
# Not exported: a process that carries PVIO_RUNDIR=$run is one of the
# host's, and none may be left at the end.
unset XENSTORED_PATH PVIO_NETBACK PVIO_NETFRONT PVIO_RUNDIR PVIO_NETBACK_ARGS \
	PVIO_NETFRONT_ARGS
bg_pids=
host_id=

# shellcheck source=tests/integration/host_lib.sh
. "$abs_src/tests/integration/host_lib.sh"
# Waits of at most about 30 s.
WAIT_TRIES=600

# What any pvio daemon or driver logs when a sanitizer caught it.
sanitizer_reports() {
	grep -l -E "runtime error|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer" \
		"$run"/*.log "$tmp"/*.log 2>/dev/null
}

dump_logs() {
	for f in "$run"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $(basename "$f") (last 40 lines)" >&2
		tail -n 40 "$f" >&2
	done
}

fail() {
	echo "FAIL: $*" >&2
	dump_logs
	exit 1
}

# PID is a live child of this shell.
child_of_us() {
	[ "$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2)" = "$$" ]
}

net_cleanup() {
	status=$?
	trap - EXIT INT TERM
	for pid in $bg_pids; do
		# Only a job still ours: one that ended long ago may have left
		# its pid to another test's process (pid_max is 32768 here).
		child_of_us "$pid" && kill "$pid" 2>/dev/null || true
	done
	host_remove "$run" "$pvio"
	# A restarted backend (net-faults) runs outside host start's record.
	for p in $(host_pids); do
		kill -9 "$p" 2>/dev/null || true
	done
	if [ -n "${NET_LOG_DIR:-}" ]; then
		# CI keeps the logs to grep them for sanitizer reports.
		mkdir -p "$NET_LOG_DIR/$net_name"
		cp "$run"/*.log "$tmp"/*.log "$NET_LOG_DIR/$net_name/" 2>/dev/null || true
	fi
	reports=$(sanitizer_reports || true)
	if [ -n "$reports" ]; then
		echo "FAIL: sanitizer reports in: $reports" >&2
		for f in $reports; do
			grep -E -A 30 "runtime error|Sanitizer" "$f" | head -n 60 >&2
		done
		status=1
	fi
	rm -rf "$tmp"
	exit "$status"
}
trap net_cleanup EXIT
trap 'exit 1' INT TERM

pv() { PVIO_RUNDIR=$run "$pvio" "$@"; }
# The host's processes (by their environment), pvio's own included.
host_pids() {
	grep -l -s -z -x -F "PVIO_RUNDIR=$run" /proc/[0-9]*/environ | cut -d/ -f3
}
# The dom0 side: xenstore and namespace.
xs() { XENSTORED_PATH=$run/xenstored/socket "$@"; }
dom0() { ip netns exec "pvio-$host_id-dom0" "$@"; }
# A command inside guest NAME, with its identity.
gx() {
	name=$1
	shift
	pv exec "$name" -- "$@"
}

net_start() {
	pv host start >"$tmp/start.out" 2>&1 ||
		fail "host start: $(cat "$tmp/start.out")"
	host_id=$(sed -n 's/^id=//p' "$run/host")
	[ -n "$host_id" ] || fail "no host id in $run/host"
	[ -n "$(netback_pid)" ] || fail "no pvio-netback running"
}

netback_pid() {
	pid=$(cat "$run/netback.pid" 2>/dev/null) || return 0
	if kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

# The domain id of guest NAME.
domid_of() { pv list "$1" | awk 'NR == 2 {print $2}'; }

# Creates guest NAME (PVIO_NETFRONT as the caller exports it).
guest_new() {
	pv create name="$1" >"$tmp/create.out" 2>&1 ||
		fail "create $1: $(cat "$tmp/create.out")"
}

backend_state() { # DOMID DEVID
	xs xenstore-read "/local/domain/0/backend/vif/$1/$2/state" 2>/dev/null
}
frontend_state() { # DOMID DEVID
	xs xenstore-read "/local/domain/$1/device/vif/$2/state" 2>/dev/null
}
backend_is() { [ "$(backend_state "$1" "$2")" = "$3" ]; }
both_connected() {
	backend_is "$1" "$2" 4 && [ "$(frontend_state "$1" "$2")" = 4 ]
}

# The devid the last attach to domain DOMID got.
last_devid() {
	xs xenstore-list "/local/domain/$1/device/vif" | tail -n 1
}

# Attaches a vif to guest NAME (extra keys as network-attach takes them),
# waits until both ends are Connected and eth<devid> is up in the guest.
# Sets devid (and domid) to the new vif's.
vif_attach() {
	name=$1
	shift
	pv network-attach "$name" "$@" >"$tmp/attach.out" 2>&1 ||
		fail "network-attach $name $*: $(cat "$tmp/attach.out")"
	domid=$(domid_of "$name")
	devid=$(last_devid "$domid")
	wait_for both_connected "$domid" "$devid" ||
		fail "vif$domid.$devid not Connected (backend $(backend_state "$domid" "$devid"), frontend $(frontend_state "$domid" "$devid"))"
	wait_for eth_up "$name" "$devid" || fail "no eth$devid up in $name"
}
eth_up() { gx "$1" ip link show dev "eth$2" up 2>/dev/null | grep -q UP; }
eth_gone() { ! gx "$1" ip link show dev "eth$2" >/dev/null 2>&1; } # NAME DEVID

# Gives eth<DEVID> of guest NAME the IPv4 address 169.254.NET.HOST/24 and
# the IPv6 link-local fe80::NET:HOST/64 (no duplicate detection: usable at
# once).
guest_addr() { # NAME DEVID NET HOST
	gx "$1" ip addr add "169.254.$3.$4/24" dev "eth$2" ||
		fail "address on $1 eth$2"
	gx "$1" ip -6 addr add "fe80::$3:$4/64" dev "eth$2" nodad ||
		fail "IPv6 address on $1 eth$2"
}

# Five echo replies within 20 s (ping keeps sending until it has them).
ping_ok() { # NAME ADDRESS [ping options]
	name=$1
	addr=$2
	shift 2
	gx "$name" ping -q -c 5 -i 0.2 -w 20 "$@" "$addr" >"$(ping_out "$name" "$addr")" 2>&1
}
ping_must() {
	ping_ok "$@" || fail "$1 cannot ping $2: $(cat "$(ping_out "$1" "$2")")"
}
# Each pair its own output: pings may run side by side.
ping_out() { echo "$tmp/ping-$1-$(echo "$2" | tr -c '[:alnum:]\n' _).out"; }

# Starts a one-off iperf3 server in guest NAME on PORT, in the background;
# returns once it listens.
iperf_server() { # NAME PORT
	PVIO_RUNDIR=$run "$pvio" exec "$1" -- timeout 120 iperf3 -s -1 -p "$2" \
		>"$tmp/iperf-server-$1-$2.log" 2>&1 &
	bg_pids="$bg_pids $!"
	wait_for listens "$1" "$2" ||
		fail "iperf3 server in $1 on port $2 does not listen"
}
listens() { gx "$1" ss -Hltn "sport = :$2" | grep -q .; } # NAME PORT
udp_listens() { gx "$1" ss -Hlun "sport = :$2" | grep -q .; } # NAME PORT

# A background job reaped: cleanup must not signal its pid, which another
# process may have by then.
forget_pid() { bg_pids=$(echo " $bg_pids " | sed "s/ $1 / /"); }

# Starts socat in guest TO receiving from LISTEN (a socat address, with
# socat's OPTIONS) into FILE, and returns once it listens on PORT (tcp or
# udp); $receiver is its pid.
socat_receiver() { # TO tcp|udp PORT LISTEN FILE [OPTIONS...]
	to=$1 proto=$2 port=$3 listen=$4 file=$5
	shift 5
	PVIO_RUNDIR=$run "$pvio" exec "$to" -- timeout 120 socat -u "$@" \
		"$listen" "CREATE:$file" >"$tmp/socat-recv.log" 2>&1 &
	receiver=$!
	bg_pids="$bg_pids $receiver"
	if [ "$proto" = udp ]; then
		listening=udp_listens
	else
		listening=listens
	fi
	wait_for "$listening" "$to" "$port" ||
		fail "socat does not listen on $proto port $port in $to"
}

# A file of BYTES random bytes from guest FROM to guest TO at ADDRESS (IPv4,
# or IPv6 with its scope) and PORT over TCP, arriving with the same SHA-256.
tcp_file() { # FROM TO ADDRESS PORT BYTES
	f=$tmp/tcp-$1-$4
	head -c "$5" /dev/urandom >"$f"
	rm -f "$f.got"
	# One listener for both families: IPv4 arrives as v4-mapped.
	socat_receiver "$2" tcp "$4" "TCP6-LISTEN:$4,ipv6only=0,reuseaddr" "$f.got"
	case $3 in
	*:*) target="TCP6:[$3]:$4" ;;
	*) target="TCP4:$3:$4" ;;
	esac
	gx "$1" timeout 120 socat -u "OPEN:$f" "$target,connect-timeout=10" \
		>"$tmp/socat-send.log" 2>&1 ||
		fail "$1 -> $2 at $3: sending the file: $(cat "$tmp/socat-send.log")"
	wait "$receiver" ||
		fail "$2: receiving the file from $1: $(cat "$tmp/socat-recv.log")"
	forget_pid "$receiver"
	[ "$(sha256sum <"$f.got")" = "$(sha256sum <"$f")" ] ||
		fail "$1 -> $2 at $3: the file changed on the way ($(wc -c <"$f.got") of $5 bytes)"
	rm -f "$f" "$f.got"
	echo "tcp $1 -> $3: $5 bytes, same SHA-256"
}

# Runs an iperf3 client in guest NAME against ADDRESS:PORT for SECS s
# (extra iperf3 options follow) and checks that data moved: bytes received
# (TCP), or datagrams that arrived (UDP). Sets iperf_bytes.
iperf_client() { # NAME ADDRESS PORT SECS [options]
	name=$1
	addr=$2
	port=$3
	secs=$4
	shift 4
	out=$tmp/iperf-$name-$port.json
	gx "$name" timeout $((secs + 60)) iperf3 -J -c "$addr" -p "$port" \
		-t "$secs" --connect-timeout 10000 "$@" >"$out" 2>&1 ||
		fail "iperf3 $name -> $addr:$port $*: $(head -c 2000 "$out")"
	err=$(jq -r '.error // empty' "$out")
	[ -z "$err" ] || fail "iperf3 $name -> $addr:$port $*: $err"
	case " $* " in
	*" -u "*)
		got=$(jq '.end.sum.packets - .end.sum.lost_packets' "$out")
		bytes=$(jq '.end.sum.bytes' "$out")
		;;
	*)
		got=$(jq '.end.sum_received.bytes' "$out")
		bytes=$got
		;;
	esac
	[ "$got" -gt 0 ] 2>/dev/null ||
		fail "iperf3 $name -> $addr:$port $*: nothing arrived ($got)"
	iperf_bytes=$bytes
}

# One iperf3 run: server in SERVER on PORT, client in CLIENT.
iperf_pair() { # CLIENT SERVER ADDRESS PORT SECS [options]
	c=$1
	s=$2
	shift 2
	iperf_server "$s" "$2"
	iperf_client "$c" "$@"
}

# Runs PROGRAM... (a pvio command line) in the background, output to LOG;
# cleanup stops it.
bg() { # LOG PVIO-ARGS...
	log=$1
	shift
	PVIO_RUNDIR=$run "$pvio" "$@" >"$log" 2>&1 &
	bg_pids="$bg_pids $!"
}

# Traffic throughout a test, from guest CLIENT to guest SERVER at ADDRESS:
# ping every 0.2 s, and one-second iperf3 runs one after another.
# traffic_mark notes how far both got; traffic_moves waits until both
# went further (and fails on a failed iperf3 run); traffic_stop ends both.
traffic_start() { # CLIENT SERVER ADDRESS
	traffic_dir=$tmp/traffic
	mkdir -p "$traffic_dir"
	bg "$traffic_dir/ping.log" exec "$1" -- timeout 900 ping -i 0.2 "$3"
	bg "$traffic_dir/server.log" exec "$2" -- timeout 900 iperf3 -s -p 5999
	wait_for listens "$2" 5999 || fail "no iperf3 server in $2"
	# shellcheck disable=SC2016 # expanded inside the guest
	bg "$traffic_dir/loop.log" exec "$1" -- sh -c '
		i=0
		while [ $i -lt 400 ] && [ ! -e "$1/stop" ]; do
			i=$((i + 1))
			if iperf3 -J -c "$2" -p 5999 -t 1 \
				--connect-timeout 10000 >"$1/iperf-$i.json" 2>&1; then
				echo "ok $i" >>"$1/runs"
			else
				echo "FAIL $i" >>"$1/runs"
			fi
		done' sh "$traffic_dir" "$3"
	traffic_loop=$!
	traffic_mark
}
traffic_pings() {
	n=$(grep -c "bytes from" "$traffic_dir/ping.log" 2>/dev/null) || true
	echo "${n:-0}"
}
traffic_runs() {
	n=$(grep -c "^ok" "$traffic_dir/runs" 2>/dev/null) || true
	echo "${n:-0}"
}
traffic_mark() {
	traffic_pings_mark=$(traffic_pings)
	traffic_runs_mark=$(traffic_runs)
}
traffic_beyond_mark() {
	[ "$(traffic_pings)" -gt "$traffic_pings_mark" ] &&
		[ "$(traffic_runs)" -gt "$traffic_runs_mark" ]
}
traffic_moves() { # LABEL
	if grep -q "^FAIL" "$traffic_dir/runs" 2>/dev/null; then
		run_no=$(sed -n 's/^FAIL //p' "$traffic_dir/runs" | head -n 1)
		fail "$1: an iperf3 run of the traffic failed: $(head -c 2000 "$traffic_dir/iperf-$run_no.json")"
	fi
	wait_for traffic_beyond_mark ||
		fail "$1: the traffic stopped ($(traffic_pings) ping replies, $(traffic_runs) iperf3 runs)"
}
# Stops the traffic; with "check", fails when an iperf3 run failed.
traffic_stop() { # [check]
	touch "$traffic_dir/stop"
	wait_for sh -c "! kill -0 $traffic_loop 2>/dev/null" ||
		fail "the iperf3 loop did not stop"
	if [ "${1:-}" = check ]; then
		traffic_moves "end"
	fi
	echo "traffic: $(traffic_pings) ping replies, $(traffic_runs) iperf3 runs"
}

# ifindex of DEV in guest NAME.
ifindex_of() { gx "$1" cat "/sys/class/net/$2/ifindex" 2>/dev/null; }

stats_file() { echo "$run/netback/vif$1.$2.stats"; } # DOMID DEVID
# One counter of vif DOMID.DEVID from `pvio network-stats`: tx_bytes,
# rx_bytes, tx_packets, rx_packets, tx_gso_packets, rx_gso_packets,
# rx_csum_filled, nr_queues, tx_mapped_packets, tx_maps, rx_mapped_packets,
# rx_maps, or disabled (1 or 0).
vif_stat() { # DOMID DEVID NAME
	pv network-stats "$1" "$2" >"$tmp/stats.out" 2>&1 ||
		fail "network-stats $1 $2: $(cat "$tmp/stats.out")"
	awk -v k="$3" '
		/^ *tx \(guest to bridge\):/ { tx_packets = $5; tx_bytes = $7 }
		/^ *rx \(bridge to guest\):/ { rx_packets = $5; rx_bytes = $7 }
		/^ *gso:/ { tx_gso = $2; rx_gso = $5 }
		/^ *rx checksums filled:/ { csum_filled = $4 }
		/^ *disabled:/ { disabled = ($2 == "yes") }
		/^ *queues:/ { nr_queues = $2 }
		/^ *persistent grants:/ {
			tx_mapped = $4; tx_maps = $7; rx_mapped = $11; rx_maps = $14
		}
		END {
			v["tx_packets"] = tx_packets; v["tx_bytes"] = tx_bytes
			v["rx_packets"] = rx_packets; v["rx_bytes"] = rx_bytes
			v["tx_gso_packets"] = tx_gso; v["rx_gso_packets"] = rx_gso
			v["rx_csum_filled"] = csum_filled
			v["disabled"] = disabled + 0
			v["nr_queues"] = nr_queues
			v["tx_mapped_packets"] = tx_mapped; v["tx_maps"] = tx_maps
			v["rx_mapped_packets"] = rx_mapped; v["rx_maps"] = rx_maps
			print v[k]
		}' "$tmp/stats.out"
}

# The vif of DOMID.DEVID is gone from dom0: TAP, backend directory and
# statistics file.
vif_gone() { # DOMID DEVID
	! dom0 ip link show dev "vif$1.$2" >/dev/null 2>&1 &&
		! xs xenstore-read "/local/domain/0/backend/vif/$1/$2/state" >/dev/null 2>&1 &&
		[ ! -e "$(stats_file "$1" "$2")" ]
}

# Destroys every guest, checks that nothing of them is left (backend
# directories, vif TAPs, statistics files), stops the host and checks that
# it left no namespace or process, then prints PASS.
net_finish() {
	[ -n "$(netback_pid)" ] || fail "pvio-netback died"
	for d in $(xs xenstore-list /local/domain | grep -vx 0); do
		pv destroy "$d" >"$tmp/destroy.out" 2>&1 ||
			fail "destroy $d: $(cat "$tmp/destroy.out")"
	done
	if xs xenstore-list /local/domain/0/backend/vif 2>/dev/null | grep -q .; then
		fail "backend directories left: $(xs xenstore-ls /local/domain/0/backend/vif)"
	fi
	if dom0 ip -o link | grep -q ' vif[0-9]'; then
		fail "vif TAPs left: $(dom0 ip -o link)"
	fi
	stats_left=$(find "$run/netback" -mindepth 1 2>/dev/null || true)
	[ -z "$stats_left" ] || fail "statistics files left: $stats_left"
	pid=$(netback_pid)
	pv host stop >"$tmp/stop.out" 2>&1 || fail "host stop: $(cat "$tmp/stop.out")"
	# SIGTERM: the backend exits 0 after closing every vif (DRIVERS.md).
	wait_for sh -c "! kill -0 $pid 2>/dev/null" || fail "pvio-netback survived host stop"
	if ip netns list | grep -q "^pvio-$host_id-"; then
		fail "namespaces left: $(ip netns list | grep "^pvio-$host_id-")"
	fi
	left=$(host_pids || true)
	[ -z "$left" ] || fail "processes left: $left"
	echo "PASS"
}
