#!/bin/sh
# Integration test of the pvio toolstack: two hosts side by side under
# private run directories, guests, vifs hotplugged the xl way (checked with
# the real xenstore-ls), bad input refused without side effects, and
# nothing left behind. The backend is tests/integration/standin-netback.sh
# until pvio-netback exists. Needs root (namespaces, bridges, TAPs).
set -eu

top=${top_builddir:-.}
src=${srcdir:-.}
pvio=$(cd "$top" && pwd)/tools/pvio/pvio
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, bridges, TAPs)"
	exit 77
fi
for tool in ip xenstore-ls xenstore-read xenstore-write xenstore-watch; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool missing (Debian packages iproute2, xenstore-utils)"
		exit 77
	fi
done

tmp=$(mktemp -d)
run1=$tmp/host1
run2=$tmp/host2
abs_src=$(cd "$src" && pwd)
export PVIO_NETBACK="$abs_src/tests/integration/standin-netback.sh"
export PVIO_NETFRONT=none
export PVIO_SCRIPTDIR="$abs_src/tools/hotplug"
# A bound, not a timing assertion: the shell stand-in answers slowly on a loaded machine.
export PVIO_TIMEOUT=20
unset XENSTORED_PATH

# shellcheck source=tests/integration/host_lib.sh
. "$abs_src/tests/integration/host_lib.sh"
watcher=
stranger=
cleanup() {
	if [ -n "$watcher" ]; then kill "$watcher" 2>/dev/null || true; fi
	if [ -n "$stranger" ]; then kill "$stranger" 2>/dev/null || true; fi
	host_remove "$run1" "$pvio"
	host_remove "$run2" "$pvio"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

fail() { fail_with_logs "$*" "$run1"/*.log "$run2"/*.log; }

p1() { PVIO_RUNDIR=$run1 "$pvio" "$@"; }
connected() { # DOMID DEVID on host 1
	[ "$(xs1 xenstore-read "/local/domain/0/backend/vif/$1/$2/state")" = 4 ]
}
p2() { PVIO_RUNDIR=$run2 "$pvio" "$@"; }
xs1() { XENSTORED_PATH=$run1/xenstored/socket "$@"; }
xs2() { XENSTORED_PATH=$run2/xenstored/socket "$@"; }

echo "== host start, idempotent"
p1 host start >"$tmp/out" || fail "host start: $(cat "$tmp/out")"
id1=$(host_id "$run1")
dom0ns=pvio-$id1-dom0
[ -n "$id1" ] || fail "no host id recorded"
p1 host status >"$tmp/status" || fail "host status says stopped"
grep -q "XENSTORED_PATH: $run1/xenstored/socket" "$tmp/status" ||
	fail "status: $(cat "$tmp/status")"
xsd_pid=$(cat "$run1/xenstored.pid")
nb_pid=$(cat "$run1/netback.pid")
p1 host start >"$tmp/out" || fail "second host start"
grep -q "already running" "$tmp/out" || fail "second start: $(cat "$tmp/out")"
[ "$(cat "$run1/xenstored.pid")" = "$xsd_pid" ] || fail "xenstored restarted"
[ "$(cat "$run1/netback.pid")" = "$nb_pid" ] || fail "netback restarted"
[ "$(xs1 xenstore-read /local/domain/0/name)" = Domain-0 ] || fail "dom0 name"
ip -n "$dom0ns" -d link show dev xenbr0 | grep -q bridge ||
	fail "no xenbr0 in $dom0ns"

echo "== create, list, exec"
# INTRODUCE fires @introduceDomain: the initial event, then one per guest.
xs1 xenstore-watch -n 3 @introduceDomain >"$tmp/intro" 2>&1 &
watcher=$!
wait_for grep -qx @introduceDomain "$tmp/intro" || fail "no initial event"
p1 create name=alpha >/dev/null || fail "create alpha"
p1 create name=beta >/dev/null || fail "create beta"
wait_for sh -c "! kill -0 $watcher 2>/dev/null" || fail "no @introduceDomain"
watcher=
p1 list >"$tmp/list"
head -1 "$tmp/list" | grep -q '^Name  *ID   Mem VCPUs' || fail "list header"
grep -q '^alpha  *1 ' "$tmp/list" || fail "list: $(cat "$tmp/list")"
grep -q '^beta  *2 ' "$tmp/list" || fail "list: $(cat "$tmp/list")"
ip netns list | grep -q "^pvio-$id1-1\b" || fail "no namespace for alpha"
xs1 xenstore-ls -p /local/domain/1 >"$tmp/ls"
grep -q '^name = "alpha".*(n0,r1)' "$tmp/ls" || fail "name perms"
grep -q '^domid = "1".*(n0,r1)' "$tmp/ls" || fail "domid"
grep -q '^device = "".*(n0,r1)' "$tmp/ls" || fail "device perms"
grep -q '^data = "".*(n1)' "$tmp/ls" || fail "data perms"
grep -q '^ shutdown = "".*(n1)' "$tmp/ls" || fail "control/shutdown perms"
vm=$(xs1 xenstore-read /local/domain/1/vm)
[ "$(xs1 xenstore-read "$vm/name")" = alpha ] || fail "$vm/name"
[ "$(xs1 xenstore-read /libxl/1/type)" = pv ] || fail "/libxl/1/type"
# shellcheck disable=SC2016 # expanded inside the guest
[ "$(p1 exec alpha -- sh -c 'echo $PVIO_DOMID')" = 1 ] || fail "PVIO_DOMID"
[ "$(p1 exec alpha -- xenstore-read name)" = alpha ] ||
	fail "guest's own xenstore connection"
if p1 exec alpha -- xenstore-read /local/domain/2/name 2>/dev/null; then
	fail "alpha read beta's name"
fi
p1 exec beta -- xenstore-write data/hello world || fail "guest write data/"
# What a driver in beta leaves in the sim platform's state (platform/sim.h).
# shellcheck disable=SC2016 # expanded inside the guest
p1 exec beta -- sh -c 'mkdir "$PVIO_RUNDIR/dom$PVIO_DOMID" &&
	: >"$PVIO_RUNDIR/dom$PVIO_DOMID/grant-table"' || fail "beta's sim state"
[ "$(p1 exec 2 -- ip -o link | wc -l)" = 1 ] || fail "beta sees links"

echo "== network-attach"
p1 network-attach alpha || fail "attach alpha (defaults)"
be=/local/domain/0/backend/vif/1/0
fe=/local/domain/1/device/vif/0
# attach returns once the script ran (as xl); the backend then connects.
wait_for connected 1 0 || fail "backend of vif1.0 not Connected"
xs1 xenstore-ls -p "$fe" >"$tmp/fe"
xs1 xenstore-ls -p "$be" >"$tmp/be"
for line in "backend = \"$be\".*(n1,r0)" 'backend-id = "0".*(n1,r0)' \
	'state = "1"' 'handle = "0".*(n1,r0)' \
	'mac = "00:16:3e:[0-7][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]"' \
	'trusted = "1"' 'mtu = "1500".*(n0,r1)'; do
	grep -q "^$line" "$tmp/fe" || fail "frontend lacks $line: $(cat "$tmp/fe")"
done
for line in "frontend = \"$fe\".*(n0,r1)" 'frontend-id = "1"' 'online = "1"' \
	'state = "4"' \
	'bridge = "xenbr0"' 'handle = "0"' 'type = "vif"' \
	'hotplug-status = "connected"' 'feature-rx-copy = "1"'; do
	grep -q "^$line" "$tmp/be" || fail "backend lacks $line: $(cat "$tmp/be")"
done
# xenstore-ls cuts values at 80 columns when not on a terminal, and the
# script's path is as long as the build directory's.
[ "$(xs1 xenstore-read "$be/script")" = "$PVIO_SCRIPTDIR/vif-bridge" ] ||
	fail "backend script: $(xs1 xenstore-read "$be/script")"
xs1 xenstore-ls -p "$(dirname "$fe")" | grep -q '^0 = "".*(n1,r0)' ||
	fail "frontend directory perms"
xs1 xenstore-ls -p "$(dirname "$be")" | grep -q '^0 = "".*(n0,r1)' ||
	fail "backend directory perms"
[ "$(xs1 xenstore-read $fe/mac)" = "$(xs1 xenstore-read $be/mac)" ] ||
	fail "MACs differ"
ip -n "$dom0ns" -o link show dev vif1.0 >"$tmp/link"
grep -q "master xenbr0" "$tmp/link" || fail "vif1.0 not on xenbr0"
grep -q "link/ether fe:ff:ff:ff:ff:ff" "$tmp/link" || fail "vif1.0 MAC"
grep -q "<[^>]*UP[^>]*>" "$tmp/link" || fail "vif1.0 down"
p1 exec alpha -- xenstore-read device/vif/0/backend >/dev/null ||
	fail "guest cannot read its vif"

# The hotplug calling convention, as libxl: recorded by a wrapper script.
cat >"$tmp/record-vif" <<EOS
#!/bin/sh
echo "\$* XENBUS_PATH=\$XENBUS_PATH XENBUS_TYPE=\$XENBUS_TYPE vif=\$vif XENBUS_BASE_PATH=\$XENBUS_BASE_PATH" >>"$tmp/hotplug.log"
exec "$PVIO_SCRIPTDIR/vif-bridge" "\$@"
EOS
chmod +x "$tmp/record-vif"
p1 network-attach alpha mac=00:16:3e:aa:bb:cc rate=10Mb/s@20ms mtu=9000 \
	vifname=alpha-e1 ip=10.0.0.5 script="$tmp/record-vif" ||
	fail "attach alpha with keys"
be1=/local/domain/0/backend/vif/1/1
[ "$(xs1 xenstore-read $be1/rate)" = 25000,20000 ] || fail "rate"
[ "$(xs1 xenstore-read $be1/mtu)" = 9000 ] || fail "backend mtu"
[ "$(xs1 xenstore-read $be1/vifname)" = alpha-e1 ] || fail "vifname"
[ "$(xs1 xenstore-read $be1/ip)" = 10.0.0.5 ] || fail "ip"
[ "$(xs1 xenstore-read /local/domain/1/device/vif/1/mac)" = 00:16:3e:aa:bb:cc ] ||
	fail "mac"
grep -qx "online type_if=vif XENBUS_PATH=backend/vif/1/1 XENBUS_TYPE=vif vif=vif1.1 XENBUS_BASE_PATH=backend" \
	"$tmp/hotplug.log" || fail "hotplug call: $(cat "$tmp/hotplug.log")"
ip -n "$dom0ns" -o link show dev alpha-e1 | grep -q "mtu 9000 .*master xenbr0" ||
	fail "alpha-e1: $(ip -n "$dom0ns" -o link show dev alpha-e1)"
p1 network-attach beta || fail "attach beta"
ip -n "$dom0ns" -o link show dev vif2.0 | grep -q "master xenbr0" ||
	fail "vif2.0 not on xenbr0"
p1 network-list alpha >"$tmp/nl"
head -1 "$tmp/nl" | grep -q '^Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path' ||
	fail "network-list header: $(head -1 "$tmp/nl")"
grep -q "^1   0  00:16:3e:aa:bb:cc      1     1     -1    -1/-1          $be1" \
	"$tmp/nl" || fail "network-list: $(cat "$tmp/nl")"
[ "$(wc -l <"$tmp/nl")" = 3 ] || fail "network-list rows"
# The rings' keys as frontends write them (none runs here): flat for one
# queue (alpha's vif 1), in queue-N/ for several with split event
# channels (beta's vif 0, 2 queues): the row shows queue 0's, not -1.
fe1=/local/domain/1/device/vif/1 fe2=/local/domain/2/device/vif/0
xs1 xenstore-write $fe1/tx-ring-ref 8 $fe1/rx-ring-ref 9 \
	$fe1/event-channel 5 || fail "writing alpha's ring keys"
xs1 xenstore-write $fe2/multi-queue-num-queues 2 \
	$fe2/queue-0/tx-ring-ref 10 $fe2/queue-0/rx-ring-ref 11 \
	$fe2/queue-0/event-channel-tx 6 $fe2/queue-0/event-channel-rx 7 \
	$fe2/queue-1/tx-ring-ref 12 $fe2/queue-1/rx-ring-ref 13 \
	$fe2/queue-1/event-channel-tx 14 $fe2/queue-1/event-channel-rx 15 ||
	fail "writing beta's queue keys"
p1 network-list alpha beta >"$tmp/nl"
grep -q "^1   0  00:16:3e:aa:bb:cc      1     1      5     8/9           $be1" \
	"$tmp/nl" || fail "network-list, one queue: $(cat "$tmp/nl")"
grep -q "^0   0  [0-9a-f:]*      0     [0-9]      6    10/11          /local/domain/0/backend/vif/2/0" \
	"$tmp/nl" || fail "network-list, two queues: $(cat "$tmp/nl")"

echo "== network-stats"
# The stand-in backend keeps no statistics: each vif says so.
if p1 network-stats alpha >"$tmp/out" 2>"$tmp/err"; then
	fail "network-stats without statistics files succeeded"
fi
[ "$(grep -c "^pvio: no statistics for vif1\.[01]: $run1/netback/vif1\.[01]\.stats does not exist (is pvio-netback running?" "$tmp/err")" = 2 ] ||
	fail "network-stats without files: $(cat "$tmp/err")"
# What pvio-netback writes (netif/netif_stats.h, version 1): the header,
# then 27 counters; tx drop 2 is "too many slots", rx drop 0 "no RX buffers".
# An older pvio-netback's file ends there; the appended counters (GSO
# packets each way, checksums filled) read as 0.
mkdir -p "$run1/netback"
perl -e 'print pack("L<4 Q<27", 0x70766e73, 1, 1, 0, 5, 600, 7, 800,
	0, 0, 9, (0) x 7, 0, 0, 3, (0) x 3, (0) x 6, 1)' \
	>"$run1/netback/vif1.0.stats"
p1 network-stats alpha 0 >"$tmp/stats" || fail "network-stats alpha 0"
for line in 'vif1.0 (domain alpha)' '  tx (guest to bridge): 5 packets, 600 bytes' \
	'  rx (bridge to guest): 7 packets, 800 bytes' '    too many slots: 9' \
	'    no RX buffers: 3' '  disabled: yes (the frontend broke the protocol)' \
	'  gso: 0 tx packets, 0 rx packets'; do
	grep -qxF "$line" "$tmp/stats" || fail "network-stats lacks '$line': $(cat "$tmp/stats")"
done
perl -e 'print pack("L<4 Q<30", 0x70766e73, 1, 1, 0, 5, 600, 7, 800,
	0, 0, 9, (0) x 7, 0, 0, 3, (0) x 3, (0) x 6, 1, 11, 12, 13)' \
	>"$run1/netback/vif1.0.stats"
p1 network-stats alpha 0 >"$tmp/stats" || fail "network-stats alpha 0"
for line in '  gso: 11 tx packets, 12 rx packets' '  rx checksums filled: 13'; do
	grep -qxF "$line" "$tmp/stats" || fail "network-stats lacks '$line': $(cat "$tmp/stats")"
done
rm "$run1/netback/vif1.0.stats"

echo "== bad input is refused, one line, nothing written"
# Settled first: the backend connects after attach returned.
wait_for connected 1 1 || fail "backend of vif1.1 not Connected"
wait_for connected 2 0 || fail "backend of vif2.0 not Connected"
snapshot() {
	xs1 xenstore-ls -p / >"$1"
	ip -n "$dom0ns" -o link | sed 's/^[0-9]*: //' | cut -d' ' -f1 >>"$1"
	ip netns list | awk '{print $1}' | grep "^pvio-$id1-" | sort >>"$1"
}
snapshot "$tmp/before"
refuse() { # MESSAGE-PATTERN COMMAND...
	pattern=$1
	shift
	if p1 "$@" >"$tmp/out" 2>"$tmp/err"; then
		fail "accepted: $*"
	fi
	[ "$(wc -l <"$tmp/err")" = 1 ] || fail "not one line for $*: $(cat "$tmp/err")"
	grep -q "$pattern" "$tmp/err" || fail "unclear error for $*: $(cat "$tmp/err")"
}
refuse "unknown domain 'nosuch'" network-attach nosuch
refuse "unknown domain '9'" network-attach 9
refuse "malformed MAC '00:16:3e:zz:00:01'" network-attach alpha mac=00:16:3e:zz:00:01
refuse "malformed MAC" network-attach alpha mac=00:16:3e:00:01
refuse "rate '10Mbit'" network-attach alpha rate=10Mbit
refuse "rate '10Mb/s@0'" network-attach alpha rate=10Mb/s@0
refuse "devid 0 is in use" network-attach alpha devid=0
refuse "bridge 'nobr0' does not exist" network-attach alpha bridge=nobr0
refuse "hotplug script $PVIO_SCRIPTDIR/no-such-script" network-attach alpha script=no-such-script
refuse "hotplug script /etc/hostname" network-attach alpha script=/etc/hostname
refuse "hotplug script $tmp: not an executable file" network-attach alpha script="$tmp"
refuse "unknown key 'colour'" network-attach alpha colour=blue
refuse "vifname xenbr0: an interface of that name exists in dom0" network-attach alpha vifname=xenbr0
refuse "invalid mtu" network-attach alpha mtu=10
refuse "invalid model 'ne2k_pci'" network-attach alpha type=ioemu model=ne2k_pci
refuse "model=e1000 applies to type=ioemu only" network-attach alpha model=e1000
refuse "type=ioemu takes mac, bridge, model, script and devid" network-attach alpha type=ioemu mtu=9000
refuse "unknown domain 'nosuch'" network-attach alpha backend=nosuch
refuse "cannot attach a vif to Domain-0" network-attach 0
refuse "hotplug script /bin/false online failed for vif1.2" network-attach alpha script=/bin/false
refuse "domain alpha has no vif 7" network-detach alpha 7
refuse "domain alpha has no vif 00:16:3e:00:00:99" network-detach alpha 00:16:3e:00:00:99
refuse "unknown domain 'nosuch'" network-detach nosuch 0
refuse "unknown domain 'nosuch'" network-list nosuch
refuse "unknown domain 'nosuch'" network-stats nosuch
refuse "domain alpha has no vif 7" network-stats alpha 7
refuse "invalid devid 'x'" network-stats alpha x
refuse "no statistics for vif1.1: $run1/netback/vif1.1.stats does not exist" network-stats alpha 1
refuse "usage: pvio network-stats DOM \[DEVID\]" network-stats
refuse "domain name 'alpha' is in use" create name=alpha
refuse "invalid domain name '123'" create name=123
refuse "usage: pvio create name=NAME" create
refuse "unknown domain 'nosuch'" destroy nosuch
refuse "cannot destroy Domain-0" destroy Domain-0
refuse "unknown command 'frobnicate'" frobnicate
refuse "unknown option '--bogus'" --bogus list
refuse "no command"
if (export PVIO_NETFRONT=/nonexistent/netfront && p1 create name=delta) \
	2>"$tmp/err"; then
	fail "create with a guest driver that does not exist"
fi
grep -q "PVIO_NETFRONT=/nonexistent/netfront: not an executable program" \
	"$tmp/err" || fail "unclear error: $(cat "$tmp/err")"
snapshot "$tmp/after"
diff "$tmp/before" "$tmp/after" >"$tmp/diff" || fail "bad input left changes: $(cat "$tmp/diff")"

echo "== a second host side by side"
if (export PVIO_NETBACK=/nonexistent/netback && p2 host start) 2>"$tmp/err"; then
	fail "host start with a backend that does not exist"
fi
grep -q "PVIO_NETBACK=/nonexistent/netback: not an executable program" \
	"$tmp/err" || fail "unclear error: $(cat "$tmp/err")"
[ ! -e "$run2/host" ] || fail "a refused host start left a host record"
p2 host start >/dev/null || fail "second host start"
id2=$(host_id "$run2")
[ "$id2" != "$id1" ] || fail "hosts share an id"
p2 create name=alpha >/dev/null || fail "create alpha on host 2"
p2 network-attach alpha || fail "attach on host 2"
ip -n "pvio-$id2-dom0" -o link show dev vif1.0 | grep -q "master xenbr0" ||
	fail "host 2's vif1.0 not on its xenbr0"
ip -n "$dom0ns" -o link show dev vif1.0 >/dev/null || fail "host 1 lost vif1.0"
[ "$(xs2 xenstore-read /local/domain/1/name)" = alpha ] || fail "host 2's store"
if xs2 xenstore-read /local/domain/2/name 2>/dev/null; then
	fail "host 2 sees host 1's beta"
fi
p2 host stop >/dev/null || fail "host 2 stop"
! ip netns list | grep -q "^pvio-$id2-" || fail "host 2 left namespaces"
[ ! -e "$run2/xenstored/socket" ] || fail "host 2 left its socket"

echo "== start over a crashed host clears its leftovers"
p2 host start >/dev/null || fail "host 2 start"
id2=$(host_id "$run2")
p2 create name=crashed >/dev/null || fail "create on host 2"
mkdir "$run2/dom1" && : >"$run2/dom1/grant-table" # a driver's state
kill -9 "$(cat "$run2/xenstored.pid")" "$(cat "$run2/netback.pid")"
# The pidfiles outlive the crash; their pids may since name anything.
env -u PVIO_RUNDIR sleep 600 &
stranger=$!
echo "$stranger" >"$run2/xenstored.pid"
echo "$stranger" >"$run2/netback.pid"
wait_for sh -c "! PVIO_RUNDIR=$run2 $pvio host status >/dev/null" ||
	fail "status says a crashed host runs"
p2 host start >"$tmp/out" 2>&1 || fail "start over a crashed host: $(cat "$tmp/out")"
grep -q "clearing a stopped host's leftovers" "$tmp/out" || fail "no notice"
kill -0 "$stranger" || fail "start killed the process a stale pidfile named"
kill "$stranger"
wait "$stranger" 2>/dev/null || true
stranger=
! ip netns list | grep -q "^pvio-$id2-" || fail "crashed host's namespaces left"
[ ! -e "$run2/dom1" ] || fail "crashed host's sim state left"
if xs2 xenstore-list /local/domain | grep -vqx 0; then fail "stale domains"; fi
p2 host stop >/dev/null || fail "host 2 stop"
[ ! -e "$run2/xenstored" ] ||
	fail "the crashed xenstored's sockets left: $(ls "$run2/xenstored")"

echo "== a backend that never answers"
PVIO_NETBACK=none p2 host start >/dev/null || fail "host 2 without backend"
id2=$(host_id "$run2")
p2 create name=lonely >/dev/null || fail "create lonely"
xs2 xenstore-ls -p / >"$tmp/before2"
if PVIO_TIMEOUT=1 p2 network-attach lonely 2>"$tmp/err"; then
	fail "attach without a backend succeeded"
fi
grep -q "no backend answered for vif1.0 within 1 s" "$tmp/err" ||
	fail "unclear timeout: $(cat "$tmp/err")"
xs2 xenstore-ls -p / >"$tmp/after2"
diff "$tmp/before2" "$tmp/after2" >"$tmp/diff" || fail "timeout left nodes: $(cat "$tmp/diff")"
p2 host stop >/dev/null || fail "host 2 stop"

echo "== destroy reports a release xenstored did not make"
p2 host start >/dev/null || fail "host 2 start"
id2=$(host_id "$run2")
p2 create name=doomed >/dev/null || fail "create doomed"
# Its vif's script kills xenstored when destroy takes the vif down, just
# before destroy asks xenstored to release the domain.
cat >"$tmp/kill-xenstored" <<EOS
#!/bin/sh
if [ "\$1" = offline ]; then
	kill -9 "\$(cat "$run2/xenstored.pid")"
	i=0
	while xenstore-read /local/domain/0/name >/dev/null 2>&1 && [ \$i -lt 200 ]; do
		i=\$((i + 1))
		sleep 0.05
	done
	exit 0
fi
exec "$PVIO_SCRIPTDIR/vif-bridge" "\$@"
EOS
chmod +x "$tmp/kill-xenstored"
p2 network-attach doomed script="$tmp/kill-xenstored" || fail "attach doomed"
if p2 destroy doomed 2>"$tmp/err"; then
	fail "destroy succeeded though xenstored never released the domain"
fi
grep -q "^pvio: cannot release domain 1 in xenstored: " "$tmp/err" ||
	fail "unclear error: $(cat "$tmp/err")"
[ "$(grep -c '^pvio: [^w]' "$tmp/err")" = 1 ] || fail "not one error: $(cat "$tmp/err")"
# The guest is gone; its record stays, so that the id is not handed out
# while xenstored may still know it, and host stop finds it.
if ip netns list | grep -q "^pvio-$id2-1\b"; then fail "doomed's namespace left"; fi
[ -e "$run2/domains/1" ] || fail "doomed's record went with a failed release"
p2 host stop >/dev/null || fail "host 2 stop after a failed release"
! ip netns list | grep -q "^pvio-$id2-" || fail "host 2 left namespaces"
[ ! -e "$run2/domains/1" ] || fail "host stop left doomed's record"

echo "== network-detach by devid and by MAC"
p1 network-detach alpha 1 2>"$tmp/err" || fail "detach alpha 1"
p1 network-detach alpha "$(xs1 xenstore-read $fe/mac)" 2>>"$tmp/err" ||
	fail "detach by MAC"
# No warning: the backend reached Closed, the script ran offline.
[ ! -s "$tmp/err" ] || fail "detach: $(cat "$tmp/err")"
grep -qx "offline type_if=vif XENBUS_PATH=backend/vif/1/1 XENBUS_TYPE=vif vif=vif1.1 XENBUS_BASE_PATH=backend" \
	"$tmp/hotplug.log" || fail "offline call: $(cat "$tmp/hotplug.log")"
for path in "$fe" "$be" "$be1" /local/domain/1/device/vif \
	/local/domain/0/backend/vif/1 /libxl/1/device/vif/0; do
	if xs1 xenstore-read "$path" >/dev/null 2>&1; then fail "$path left"; fi
done
for dev in vif1.0 vif1.1 alpha-e1; do
	if ip -n "$dom0ns" link show dev "$dev" >/dev/null 2>&1; then
		fail "$dev left"
	fi
done

echo "== destroy"
# In a subshell whose stderr hides the shell's "Terminated" notice.
(p1 exec beta -- sleep 600 || true) 2>/dev/null &
sleeper=$!
# One that ignores SIGTERM goes too (SIGKILL after the grace period).
(p1 exec beta -- sh -c 'trap "" TERM; exec sleep 601' || true) 2>/dev/null &
stubborn=$!
wait_for sh -c "ip netns pids pvio-$id1-2 | grep -q ." || fail "no process in beta"
wait_for pgrep -fx "sleep 601" >/dev/null || fail "no SIGTERM-proof process in beta"
beta_vm=$(xs1 xenstore-read /local/domain/2/vm)
xs1 xenstore-watch -n 2 @releaseDomain >"$tmp/release" 2>&1 &
watcher=$!
wait_for grep -qx @releaseDomain "$tmp/release" || fail "no initial event"
p1 destroy beta || fail "destroy beta"
wait_for sh -c "! kill -0 $watcher 2>/dev/null" || fail "no @releaseDomain"
watcher=
wait_for sh -c '! pgrep -fx "sleep 601" >/dev/null' ||
	fail "a SIGTERM-proof process survived destroy"
wait "$sleeper" "$stubborn"
for path in /local/domain/2 /local/domain/0/backend/vif/2 /libxl/2 "$beta_vm"; do
	if xs1 xenstore-read "$path" >/dev/null 2>&1; then fail "$path left"; fi
done
if ip -n "$dom0ns" link show dev vif2.0 >/dev/null 2>&1; then fail "vif2.0 left"; fi
if ip netns list | grep -q "^pvio-$id1-2\b"; then fail "beta's namespace left"; fi
[ ! -e "$run1/dom2" ] || fail "beta's grant and port tables left"
p1 list | grep -q '^beta ' && fail "beta still listed"
# Without PVIO_SCRIPTDIR the build tree's pvio finds the source tree's
# scripts (an installed one: $(sysconfdir)/pvio/scripts).
(unset PVIO_SCRIPTDIR && p1 network-attach alpha) || fail "attach after detach"
[ "$(realpath "$(xs1 xenstore-read "$be/script")")" = \
	"$(realpath "$abs_src/tools/hotplug/vif-bridge")" ] ||
	fail "build tree's script: $(xs1 xenstore-read "$be/script")"

echo "== the guest driver starts inside the guest, with its identity"
cat >"$tmp/fake-netfront" <<EOS
#!/bin/sh
{
	echo "domid=\$PVIO_DOMID xs=\$XENSTORED_PATH platform=\$PVIO_PLATFORM"
	echo "name=\$(xenstore-read name)"
	echo "netns=\$(readlink /proc/self/ns/net)"
} >"$tmp/netfront.out.tmp"
mv "$tmp/netfront.out.tmp" "$tmp/netfront.out"
exec sleep 600
EOS
chmod +x "$tmp/fake-netfront"
PVIO_NETFRONT=$tmp/fake-netfront p1 create name=gamma >/dev/null ||
	fail "create gamma"
# Xen's rover: the id after the last created, not beta's 2 again.
[ "$(p1 list gamma | awk 'NR == 2 {print $2}')" = 3 ] || fail "gamma's domid"
wait_for test -s "$tmp/netfront.out" || fail "the guest driver did not run"
grep -qx "domid=3 xs=$run1/xenstored/domain-3 platform=sim" "$tmp/netfront.out" ||
	fail "driver identity: $(cat "$tmp/netfront.out")"
grep -qx "name=gamma" "$tmp/netfront.out" || fail "driver's xenstore"
grep -qxF "netns=$(ip netns exec "pvio-$id1-3" readlink /proc/self/ns/net)" \
	"$tmp/netfront.out" || fail "driver outside the guest's namespace"
p1 destroy gamma || fail "destroy gamma"
if ip netns list | grep -q "^pvio-$id1-3\b"; then fail "gamma's namespace left"; fi
for p in $(pgrep -f "sleep 600"); do
	if [ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$(sed -n 's/^netns=//p' "$tmp/netfront.out")" ]; then
		fail "the guest driver survived destroy"
	fi
done

echo "== host stop"
mkdir "$run1/dom0" && : >"$run1/dom0/evtchn" # as a dom0 driver leaves it
p1 host stop >/dev/null || fail "host stop"
for pid in "$xsd_pid" "$nb_pid"; do
	wait_for sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status" ||
		fail "process $pid survived"
done
if ip netns list | grep -q "^pvio-$id1-"; then fail "namespaces left"; fi
[ ! -e "$run1/xenstored/socket" ] || fail "socket left"
[ ! -e "$run1/host" ] || fail "host record left"
[ ! -e "$run1/dom0" ] || fail "dom0's sim state left"
p1 host status >/dev/null && fail "status says running"
p1 host stop >/dev/null || fail "stop of a stopped host"
echo "PASS"
