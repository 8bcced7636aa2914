#!/bin/sh
# Integration test of pvio-netfront's control path, against the scripted
# stand-in backend (tests/integration/standin-netback.sh), which plays the
# backend's xenstore half and lets the test drive the backend's state:
#
# - the TAP eth<N> appears in the guest with the store's MAC and MTU, up,
#   a TAP with a vnet header;
# - the frontend's keys and Connected are written in one transaction: no
#   snapshot of its directory ever shows some keys without the others, or
#   Connected without them (a watcher snapshots it at every event);
# - a backend that restarts its handshake (InitWait after Connected) or
#   closes while online makes the frontend tear down (Initialising, keys
#   gone) and connect again, with eth0, its address and its route kept;
# - detach: Closing then Closed, and eth<N> deleted with its directory;
#   another device stays;
# - SIGTERM: the daemon exits, its TAPs go, its devices read Closed;
# - a new pvio-netfront takes a Closed device up again, with trusted=0.
# Needs root (namespaces, TAPs, bridges).
set -eu

top=${top_builddir:-.}
src=${srcdir:-.}
pvio=$(cd "$top" && pwd)/tools/pvio/pvio
netfront=$(cd "$top" && pwd)/frontend/pvio-netfront
snapshot=$(cd "$top" && pwd)/tests/integration/nf-snapshot
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, TAPs)"
	exit 77
fi
for tool in ip xenstore-ls xenstore-read xenstore-write xenstore-watch; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool missing (Debian packages iproute2, xenstore-utils)"
		exit 77
	fi
done

tmp=$(mktemp -d)
run=$tmp/host
abs_src=$(cd "$src" && pwd)
export PVIO_NETBACK="$abs_src/tests/integration/standin-netback.sh"
export PVIO_NETFRONT="$netfront"
export PVIO_SCRIPTDIR="$abs_src/tools/hotplug"
export PVIO_TIMEOUT=20 # a bound for a loaded machine, not a timing check
export PVIO_RUNDIR="$run"
unset XENSTORED_PATH

# shellcheck source=tests/integration/host_lib.sh
. "$abs_src/tests/integration/host_lib.sh"
# Waits of at most about 30 s.
WAIT_TRIES=600
watcher=
cleanup() {
	if [ -n "$watcher" ]; then kill "$watcher" 2>/dev/null || true; fi
	host_remove "$run" "$pvio"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

fail() { fail_with_logs "$*" "$run"/*.log; }

xs() { XENSTORED_PATH=$run/xenstored/socket "$@"; }
fe=/local/domain/1/device/vif
be=/local/domain/0/backend/vif/1
fe_state() { [ "$(xs xenstore-read "$fe/$1/state" 2>/dev/null)" = "$2" ]; }
be_write() { xs xenstore-write "$be/$1/$2" "$3"; }
in_guest() { "$pvio" exec a -- "$@"; }
link_of() { in_guest ip -o -d link show dev "$1" 2>/dev/null; }
no_link() { ! in_guest ip link show dev "$1" >/dev/null 2>&1; }
connections() { # DEVID COUNT: the frontend connected COUNT times
	[ "$(grep -c "vif1.$1: eth$1 up, Connected" "$run/domain-1-netfront.log")" = "$2" ]
}
keys="tx-ring-ref rx-ring-ref event-channel request-rx-copy feature-rx-notify feature-sg"

# The stand-in goes Connected as soon as the hotplug script reported, a
# real backend only once its frontend is Connected too (and a frontend,
# as Linux netfront, connects only at the backend's InitWait). This
# script holds the report until the frontend is Connected (bounded), so
# that the stand-in keeps that order.
cat >"$tmp/vif-after-frontend" <<EOS
#!/bin/sh
if [ "\$1" = online ]; then
	fe=\$(xenstore-read "\$XENBUS_PATH/frontend")
	i=0
	until [ "\$(xenstore-read "\$fe/state" 2>/dev/null)" = 4 ]; do
		i=\$((i + 1))
		[ \$i -lt 300 ] || break # within PVIO_TIMEOUT
		sleep 0.05
	done
fi
exec "$PVIO_SCRIPTDIR/vif-bridge" "\$@"
EOS
chmod +x "$tmp/vif-after-frontend"
script=script=$tmp/vif-after-frontend

echo "== host, guest, snapshots of the device's keys at every event"
"$pvio" host start >/dev/null || fail "host start"
"$pvio" create name=a >/dev/null || fail "create"
# shellcheck disable=SC2086 # one argument per key
xs "$snapshot" "$fe/0" $keys >"$tmp/snapshots" &
watcher=$!

echo "== attach: eth0 with the store's MAC and MTU, Connected"
"$pvio" network-attach a mac=00:16:3e:12:34:56 mtu=9000 "$script" \
	>"$tmp/out" 2>&1 ||
	fail "network-attach: $(cat "$tmp/out")"
wait_for fe_state 0 4 || fail "frontend of vif1.0 not Connected"
wait_for link_of eth0 >/dev/null || fail "no eth0 in the guest"
link_of eth0 >"$tmp/link"
grep -q "link/ether 00:16:3e:12:34:56 " "$tmp/link" || fail "MAC: $(cat "$tmp/link")"
grep -q " mtu 9000 " "$tmp/link" || fail "MTU: $(cat "$tmp/link")"
grep -q "<[^>]*UP[^>]*>" "$tmp/link" || fail "eth0 down: $(cat "$tmp/link")"
grep -q "tun type tap pi off vnet_hdr on multi_queue .*persist off" "$tmp/link" ||
	fail "not a non-persistent multi-queue TAP with a vnet header: $(cat "$tmp/link")"
for k in $keys; do
	v=$(xs xenstore-read "$fe/0/$k") || fail "no $k"
	case "$v" in '' | *[!0-9]*) fail "$k = '$v'" ;; esac
done
[ "$(xs xenstore-read "$fe/0/request-rx-copy")" = 1 ] || fail "request-rx-copy"
[ "$(xs xenstore-read "$fe/0/feature-sg")" = 1 ] || fail "feature-sg (offered)"
[ "$(xs xenstore-read "$fe/0/event-channel")" != 0 ] || fail "event-channel 0"
"$pvio" network-list a >"$tmp/nl"
ev=$(xs xenstore-read "$fe/0/event-channel")
tx=$(xs xenstore-read "$fe/0/tx-ring-ref")
rx=$(xs xenstore-read "$fe/0/rx-ring-ref")
grep -q "^0   0  00:16:3e:12:34:56      0     4 *$ev  *$tx/$rx " "$tmp/nl" ||
	fail "network-list: $(cat "$tmp/nl")"
grep -q "vif1.0: new device: eth0 mac 00:16:3e:12:34:56 mtu 9000" \
	"$run/domain-1-netfront.log" || fail "log does not name the device"

echo "== a second device: eth1, default MTU"
"$pvio" network-attach a mac=00:16:3e:12:34:57 "$script" >"$tmp/out" 2>&1 ||
	fail "attach 1: $(cat "$tmp/out")"
wait_for fe_state 1 4 || fail "frontend of vif1.1 not Connected"
link_of eth1 | grep -q " mtu 1500 .*link/ether 00:16:3e:12:34:57 " ||
	fail "eth1: $(link_of eth1)"

echo "== the backend restarts its handshake: reconnect, eth0 kept"
in_guest ip addr add 169.254.77.1/16 dev eth0 || fail "address"
in_guest ip route add 169.254.0.0/24 via 169.254.77.2 dev eth0 || fail "route"
ifindex=$(link_of eth0 | cut -d: -f1)
# hotplug-status cleared first, so that the stand-in stays at InitWait.
be_write 0 hotplug-status ""
be_write 0 state 2
# The frontend is Connected before and after: the log tells them apart.
wait_for connections 0 2 || fail "no reconnect after InitWait"
grep -q "vif1.0: the backend restarted its handshake: disconnected" \
	"$run/domain-1-netfront.log" || fail "reconnect not logged"
fe_state 0 4 || fail "not Connected after the reconnect"
for k in $keys; do
	xs xenstore-read "$fe/0/$k" >/dev/null || fail "no $k after reconnect"
done
be_write 0 hotplug-status connected
wait_for sh -c "[ \"\$(XENSTORED_PATH=$run/xenstored/socket xenstore-read $be/0/state)\" = 4 ]" ||
	fail "stand-in not Connected again"

echo "== the backend closes while online: Initialising without keys, then back"
be_write 0 hotplug-status ""
be_write 0 state 6
wait_for fe_state 0 1 || fail "frontend not Initialising after backend Closed"
for k in $keys; do
	if xs xenstore-read "$fe/0/$k" >/dev/null 2>&1; then
		fail "$k left behind while Initialising"
	fi
done
be_write 0 state 2
wait_for connections 0 3 || fail "no reconnect after Closed, InitWait"
fe_state 0 4 || fail "not Connected after Closed, InitWait"
be_write 0 hotplug-status connected
[ "$(link_of eth0 | cut -d: -f1)" = "$ifindex" ] || fail "eth0 was recreated"
in_guest ip -o addr show dev eth0 | grep -q "inet 169.254.77.1/16" ||
	fail "address lost: $(in_guest ip -o addr show dev eth0)"
in_guest ip route show dev eth0 | grep -q "169.254.0.0/24 via 169.254.77.2" ||
	fail "route lost: $(in_guest ip route show dev eth0)"

echo "== detach: Closing, Closed, eth0 deleted, eth1 stays"
"$pvio" network-detach a 0 >/dev/null || fail "network-detach"
wait_for no_link eth0 || fail "eth0 still there after detach"
xs xenstore-read "$fe/0/state" >/dev/null 2>&1 && fail "frontend dir left"
grep -q "vif1.0: device removed; eth0 deleted" "$run/domain-1-netfront.log" ||
	fail "removal not logged"
link_of eth1 >/dev/null || fail "eth1 went with eth0"
fe_state 1 4 || fail "vif1.1 left Connected"

echo "== keys and Connected only ever seen together"
kill "$watcher" 2>/dev/null || true
watcher=
nkeys=$(echo "$keys" | wc -w)
# Some keys but not all, or Connected without them: a write outside one
# transaction.
all="keys $nkeys/$nkeys"
grep -v -e " keys 0/$nkeys\$" -e " $all\$" "$tmp/snapshots" >"$tmp/bad" || true
grep "^state 4 " "$tmp/snapshots" | grep -v " $all\$" >>"$tmp/bad" || true
[ ! -s "$tmp/bad" ] || fail "partial snapshots: $(cat "$tmp/bad")"
grep -q "^state 4 keys $nkeys/$nkeys\$" "$tmp/snapshots" || fail "never saw Connected"
grep -q "^state 1 keys 0/$nkeys\$" "$tmp/snapshots" || fail "never saw Initialising"
[ "$(wc -l <"$tmp/snapshots")" -gt 5 ] || fail "too few snapshots"

echo "== SIGTERM: the daemon exits, TAPs gone, the device reads Closed"
ns=$(sed -n 's/^netns=//p' "$run/domains/1")
pid=
for p in $(ip netns pids "$ns"); do
	[ "$(readlink "/proc/$p/exe")" = "$netfront" ] && pid=$p
done
[ -n "$pid" ] || fail "no pvio-netfront in the guest"
kill -TERM "$pid"
wait_for sh -c "! kill -0 $pid 2>/dev/null" || fail "pvio-netfront ignores SIGTERM"
grep -q "signal 15: closing every vif" "$run/domain-1-netfront.log" ||
	fail "SIGTERM not logged"
wait_for no_link eth1 || fail "eth1 outlived pvio-netfront"
fe_state 1 6 || fail "vif1.1 state $(xs xenstore-read "$fe/1/state") after SIGTERM"

echo "== a new pvio-netfront takes the device up again, trusting it less"
xs xenstore-write "$fe/1/trusted" 0
# shellcheck disable=SC2016 # expanded inside the guest
"$pvio" exec a -- sh -c 'setsid "$1" >>"$2" 2>&1 </dev/null &' sh \
	"$netfront" "$run/domain-1-netfront.log" || fail "second pvio-netfront"
be_write 1 hotplug-status ""
be_write 1 state 2
wait_for connections 1 2 || fail "vif1.1 not connected by the new pvio-netfront"
fe_state 1 4 || fail "vif1.1 not Connected after the restart"
grep -q "vif1.1: new device: eth1 .*, untrusted" "$run/domain-1-netfront.log" ||
	fail "trusted=0 not read"
link_of eth1 | grep -q " mtu 1500 .*link/ether 00:16:3e:12:34:57 " ||
	fail "eth1 after the restart: $(link_of eth1)"

"$pvio" destroy a >/dev/null || fail "destroy"
"$pvio" host stop >/dev/null || fail "host stop"
echo "PASS"
