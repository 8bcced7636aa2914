#!/bin/sh
# Integration test of `pvio create FILE` (xl domain configuration files)
# and of `pvio list`'s figures: a config's vifs attached in list order
# with their mac and bridge, memory and vcpus in xenstore as libxl writes
# them, command-line overrides, unsupported keys reported by file and
# line, refused configs that make nothing; State and Time(s) from the
# guest's processes (a CPU-burning one makes Time grow and State r).
# The backend is the shell stand-in (no guest driver: the guests'
# processes are the test's own). Needs root.
set -eu

top=${top_builddir:-.}
src=${srcdir:-.}
pvio=$(cd "$top" && pwd)/tools/pvio/pvio
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, bridges, TAPs)"
	exit 77
fi
for tool in ip xenstore-read xenstore-list; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool missing (Debian packages iproute2, xenstore-utils)"
		exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvio-config-test.XXXXXX")
run=$tmp/run
abs_src=$(cd "$src" && pwd)
export PVIO_NETBACK="$abs_src/tests/integration/standin-netback.sh"
export PVIO_NETFRONT=none
export PVIO_SCRIPTDIR="$abs_src/tools/hotplug"
export PVIO_TIMEOUT=20
unset XENSTORED_PATH PVIO_RUNDIR

# shellcheck source=tests/integration/host_lib.sh
. "$abs_src/tests/integration/host_lib.sh"
burner=
cleanup() {
	if [ -n "$burner" ]; then kill "$burner" 2>/dev/null || true; fi
	host_remove "$run" "$pvio"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { fail_with_logs "$*" "$run"/*.log "$tmp"/*.err; }

pv() { PVIO_RUNDIR=$run "$pvio" "$@"; }
xs() { XENSTORED_PATH=$run/xenstored/socket "$@"; }
# A column of guest NAME's `pvio list` row (1 Name ... 5 State, 6 Time).
column() { pv list "$1" | awk -v c="$2" 'NR == 2 {print $c}'; }
domid_of() { column "$1" 2; }

pv host start >"$tmp/start.out" || fail "host start: $(cat "$tmp/start.out")"
dom0ns=pvio-$(host_id "$run")-dom0
ip -n "$dom0ns" link add xenbr1 type bridge || fail "cannot add xenbr1"
ip -n "$dom0ns" link set xenbr1 up

echo "== create from an xl config: vifs in order, memory, vcpus"
cat >"$tmp/web.cfg" <<'EOF'
# An xl PV guest, as xl.cfg(5) writes one.
name = "web"
kernel = "/boot/vmlinuz-6.1"   # line 3: no kernel boots on sim
memory = 256
vcpus = 2; maxvcpus = 3
vif = [ 'mac=00:16:3e:00:0a:01,bridge=xenbr1',
        # the second NIC
        "mac=00:16:3e:00:0a:02, bridge=xenbr0",
      ]
on_crash = 'restart'
EOF
pv create "$tmp/web.cfg" >"$tmp/create.out" 2>"$tmp/create.err" ||
	fail "create web.cfg: $(cat "$tmp/create.err")"
grep -qx "pvio: warning: $tmp/web.cfg:3: key 'kernel' is not supported by pvio (a sim guest boots no kernel); ignored" \
	"$tmp/create.err" || fail "kernel not reported by line: $(cat "$tmp/create.err")"
grep -q "web.cfg:10: key 'on_crash' is not supported by pvio" "$tmp/create.err" ||
	fail "on_crash not reported: $(cat "$tmp/create.err")"
[ "$(wc -l <"$tmp/create.err")" = 2 ] || fail "other messages: $(cat "$tmp/create.err")"
d=$(domid_of web)
[ -n "$d" ] || fail "web is not listed"
[ "$(xs xenstore-list "/local/domain/$d/device/vif" | tr '\n' ' ')" = "0 1 " ] ||
	fail "vifs: $(xs xenstore-list "/local/domain/$d/device/vif")"
for v in "0 00:16:3e:00:0a:01 xenbr1" "1 00:16:3e:00:0a:02 xenbr0"; do
	set -- $v
	[ "$(xs xenstore-read "/local/domain/$d/device/vif/$1/mac")" = "$2" ] || fail "vif $1's mac"
	[ "$(xs xenstore-read "/local/domain/0/backend/vif/$d/$1/mac")" = "$2" ] || fail "vif $1's backend mac"
	[ "$(xs xenstore-read "/local/domain/0/backend/vif/$d/$1/bridge")" = "$3" ] || fail "vif $1's bridge"
	[ "$(xs xenstore-read "/local/domain/0/backend/vif/$d/$1/hotplug-status")" = connected ] ||
		fail "vif $1 not plugged by its script"
	ip -n "$dom0ns" link show dev "vif$d.$1" | grep -q "master $3" ||
		fail "vif$d.$1 is not on $3"
done
pv network-list web >"$tmp/nl.out" || fail "network-list web"
awk 'NR > 1 {print $1, $3}' "$tmp/nl.out" >"$tmp/nl.macs"
printf '0 00:16:3e:00:0a:01\n1 00:16:3e:00:0a:02\n' | cmp -s - "$tmp/nl.macs" ||
	fail "network-list: $(cat "$tmp/nl.out")"
[ "$(xs xenstore-read "/local/domain/$d/memory/target")" = 262144 ] || fail "memory/target"
[ "$(xs xenstore-read "/local/domain/$d/memory/static-max")" = 262144 ] || fail "memory/static-max"
for c in "0 online" "1 online" "2 offline"; do
	set -- $c
	[ "$(xs xenstore-read "/local/domain/$d/cpu/$1/availability")" = "$2" ] ||
		fail "cpu/$1/availability"
done
[ "$(column web 3)" = 256 ] || fail "list Mem: $(pv list web)"
[ "$(column web 4)" = 2 ] || fail "list VCPUs: $(pv list web)"

echo "== command-line keys override the file's"
pv create "$tmp/web.cfg" name=db memory=64 'vif=[]' vcpus=1 \
	>"$tmp/create2.out" 2>"$tmp/create2.err" || fail "create with overrides: $(cat "$tmp/create2.err")"
d2=$(domid_of db)
[ "$(column db 3)" = 64 ] || fail "override memory: $(pv list db)"
[ "$(column db 4)" = 1 ] || fail "override vcpus: $(pv list db)"
if xs xenstore-list "/local/domain/$d2/device/vif" >/dev/null 2>&1 &&
	[ -n "$(xs xenstore-list "/local/domain/$d2/device/vif")" ]; then
	fail "vif=[] on the command line left vifs"
fi

echo "== configs that change meaning or are malformed make nothing"
# The domains (names and ids: the other columns are live figures).
domains() { pv list | awk '{print $1, $2}'; }
domains >"$tmp/before"
refuse() { # PATTERN FILE-CONTENT [ARG...]
	pattern=$1
	printf '%b' "$2" >"$tmp/bad.cfg"
	shift 2
	if pv create "$tmp/bad.cfg" "$@" >"$tmp/bad.out" 2>"$tmp/bad.err"; then
		fail "accepted: $(cat "$tmp/bad.cfg")"
	fi
	grep -q "$pattern" "$tmp/bad.err" || fail "unclear: $(cat "$tmp/bad.err") (want $pattern)"
}
refuse 'bad.cfg:2: type = "hvm": pvio guests are PV' \
	'name = "h"\ntype = "hvm"\n'
refuse "bad.cfg:3: key 'pci' is not supported: PCI passthrough" 'name = "p"\n\npci = [ "01:00.0" ]\n'
refuse "bad.cfg:4: vif 2: malformed MAC '00:16:3e:zz:00:01'" \
	"name = 'm'\nvif = [\n  'bridge=xenbr0',\n  'mac=00:16:3e:zz:00:01' ]\n"
refuse "bad.cfg:2: a value must be a quoted string" 'name = "q"\nmemory = lots\n'
refuse "bad.cfg:1: unterminated string" 'name = "u\n'
refuse "bad.cfg: no name" 'memory = 128\n'
refuse "command line: name: invalid domain name 'bad name'" 'name = "x"\n' 'name=bad name'
refuse "domain name 'web' is in use" 'name = "web"\n'
refuse "bridge 'xenbr9' does not exist" "name = 'b'\nvif = [ 'bridge=xenbr0', 'bridge=xenbr9' ]\n"
if pv create "$tmp/nonexistent.cfg" 2>"$tmp/bad.err"; then fail "accepted a missing file"; fi
grep -q "cannot read $tmp/nonexistent.cfg: No such file" "$tmp/bad.err" || fail "missing file: $(cat "$tmp/bad.err")"
domains >"$tmp/after"
cmp -s "$tmp/before" "$tmp/after" || fail "a refused create left a domain: $(cat "$tmp/after")"

echo "== list: State and Time from the guest's processes"
pv create name=burn >/dev/null 2>"$tmp/burn.err" || fail "create burn"
# No process yet: an idle domain.
[ "$(column burn 5)" = -b---- ] || fail "idle state: $(pv list burn)"
t0=$(column burn 6)
# A process in the guest that burns CPU until it is killed (pvio exec
# and ip netns exec exec it: $! is its pid).
PVIO_RUNDIR=$run "$pvio" exec burn -- sh -c 'while :; do :; done' &
burner=$!
greater() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a > b)}'; }
time_grew() { greater "$(column burn 6)" "$t0"; }
runs() { [ "$(column burn 5)" = r----- ]; }
wait_for time_grew || fail "Time did not grow from $t0: $(pv list burn)"
wait_for runs || fail "State while burning: $(pv list burn)"
# Stopped: paused; then it sleeps: blocked, its time kept.
kill -STOP "$burner"
paused() { [ "$(column burn 5)" = --p--- ]; }
wait_for paused || fail "State when stopped: $(pv list burn)"
kill -CONT "$burner"
kill "$burner"
wait "$burner" 2>/dev/null || true
burner=
PVIO_RUNDIR=$run "$pvio" exec burn -- sleep 600 >/dev/null 2>&1 &
sleeper=$!
blocked() { [ "$(column burn 5)" = -b---- ] && [ "$(pv list burn | awk 'NR == 2 {print $3}')" -gt 0 ]; }
wait_for blocked || fail "State when sleeping: $(pv list burn)"
kill "$sleeper" 2>/dev/null || true
# Domain-0's row: the host's daemons.
dom0_time=$(pv list Domain-0 | awk 'NR == 2 {print $6}')
[ "$(pv list Domain-0 | awk 'NR == 2 {print $4}')" = "$(nproc)" ] || fail "dom0 VCPUs: $(pv list Domain-0)"
[ "$(pv list Domain-0 | awk 'NR == 2 {print $3}')" -gt 0 ] || fail "dom0 Mem: $(pv list Domain-0)"
[ -n "$dom0_time" ] || fail "no dom0 time"

pv destroy burn >/dev/null || fail "destroy burn"
pv destroy web >/dev/null || fail "destroy web"
pv destroy db >/dev/null || fail "destroy db"
echo "PASS: create from xl configs, list from /proc"
