#!/bin/sh
# A stand-in for pvio-netback in the toolstack's integration tests, until
# the real one exists. `pvio host start` runs it as it would run
# pvio-netback (PVIO_NETBACK=<this script>): in dom0's network namespace,
# XENSTORED_PATH set, stopped with SIGTERM.
#
# It plays the backend's half of the XenBus handshake for every vif under
# /local/domain/0/backend/vif: at Initialising with online=1 it creates
# the TAP vifD.N, advertises netback's features and goes InitWait; once
# the hotplug script wrote hotplug-status=connected it goes Connected
# (a real backend also waits for its frontend: there is none here); at
# Closing it deletes the TAP and goes Closed.
set -u
base=/local/domain/0/backend/vif

tap_delete() { # D N
	name=$(xenstore-read "$base/$1/$2/vifname" 2>/dev/null) || name=
	for dev in $name "vif$1.$2"; do
		ip link show dev "$dev" >/dev/null 2>&1 &&
			ip tuntap del dev "$dev" mode tap
	done
	return 0
}

handle() { # D N
	dir=$base/$1/$2
	state=$(xenstore-read "$dir/state" 2>/dev/null) || return 0
	online=$(xenstore-read "$dir/online" 2>/dev/null) || online=0
	# online=0 comes with Closing, in one transaction; testing it too
	# undoes a racing write of ours that overwrote Closing.
	[ "$online" = 0 ] && [ "$state" != 6 ] && state=5
	case "$state" in
	1)
		[ "$online" = 1 ] || return 0
		ip link show dev "vif$1.$2" >/dev/null 2>&1 ||
			ip tuntap add dev "vif$1.$2" mode tap || return 0
		xenstore-write "$dir/feature-sg" 1 "$dir/feature-gso-tcpv4" 1 \
			"$dir/feature-gso-tcpv6" 1 \
			"$dir/feature-ipv6-csum-offload" 1 \
			"$dir/feature-rx-copy" 1 "$dir/feature-rx-flip" 0 \
			"$dir/state" 2
		;;
	2)
		hs=$(xenstore-read "$dir/hotplug-status" 2>/dev/null) || hs=
		[ "$hs" = connected ] && xenstore-write "$dir/state" 4
		;;
	5)
		tap_delete "$1" "$2"
		xenstore-write "$dir/state" 6
		;;
	esac
	return 0
}

# Events name the node that changed; the device is the two components
# after $base. Only nodes the handshake depends on matter.
xenstore-watch "$base" | while read -r path; do
	case "$path" in
	"$base"/*/*/state | "$base"/*/*/online | "$base"/*/*/hotplug-status)
		rest=${path#"$base"/}
		d=${rest%%/*}
		rest=${rest#*/}
		handle "$d" "${rest%%/*}"
		;;
	esac
done &

# SIGTERM: stop the watcher and the loop with us (we lead our group).
trap 'trap - TERM INT; kill 0' TERM INT
wait
