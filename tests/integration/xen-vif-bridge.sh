#!/bin/sh
# Xen's own hotplug script through script=: /etc/xen/scripts/vif-bridge
# (Debian xen-utils-common) must work with pvio's calling convention, as
# it does with libxl's: the vif renamed, its MTU set, on the bridge,
# hotplug-status=connected, and off the bridge after detach. Needs root.
set -eu

top=${top_builddir:-.}
src=${srcdir:-.}
pvio=$(cd "$top" && pwd)/tools/pvio/pvio
xen_script=/etc/xen/scripts/vif-bridge
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, bridges, TAPs)"
	exit 77
fi
if [ ! -x "$xen_script" ]; then
	echo "SKIP: $xen_script missing (Debian package xen-utils-common)"
	exit 77
fi

tmp=$(mktemp -d)
abs_src=$(cd "$src" && pwd)
export PVIO_RUNDIR="$tmp/host"
export PVIO_NETBACK="$abs_src/tests/integration/standin-netback.sh"
export PVIO_NETFRONT=none
export PVIO_TIMEOUT=5
export XENSTORED_PATH="$PVIO_RUNDIR/xenstored/socket"
# shellcheck source=tests/integration/host_lib.sh
. "$abs_src/tests/integration/host_lib.sh"
cleanup() {
	host_remove "$PVIO_RUNDIR" "$pvio"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { fail_with_logs "$*" "$PVIO_RUNDIR"/*.log; }

"$pvio" host start >/dev/null || fail "host start"
dom0ns=pvio-$(sed -n 's/^id=//p' "$PVIO_RUNDIR/host")-dom0
"$pvio" create name=guest >/dev/null || fail "create"
"$pvio" network-attach guest script="$xen_script" vifname=guest-x mtu=9000 ||
	fail "attach with Xen's vif-bridge"
be=/local/domain/0/backend/vif/1/0
[ "$(xenstore-read $be/hotplug-status)" = connected ] || fail "hotplug-status"
[ "$(xenstore-read $be/script)" = "$xen_script" ] || fail "script node"
ip -n "$dom0ns" -o link show dev guest-x >"$tmp/link" || fail "not renamed"
grep -q "mtu 9000 .*master xenbr0" "$tmp/link" || fail "link: $(cat "$tmp/link")"
"$pvio" network-detach guest 0 2>"$tmp/err" || fail "detach"
[ ! -s "$tmp/err" ] || fail "detach: $(cat "$tmp/err")"
if ip -n "$dom0ns" link show dev guest-x >/dev/null 2>&1; then
	fail "guest-x left"
fi
if xenstore-read $be/state 2>/dev/null; then fail "$be left"; fi
"$pvio" host stop >/dev/null || fail "host stop"
echo "PASS"
