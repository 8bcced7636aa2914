#!/bin/bash
# The dom0 init of pvio's real-Xen scenarios (tests/xen/run.sh boots it
# through ../shared/xen-in-qemu's run.sh with INIT= pointing here). It
# installs the pvio-dom0 package with dpkg, brings up xenstored,
# xenconsoled and the bridge xenbr0, runs the one scenario named on the
# kernel command line (pvio_scenario=NAME), and prints SMOKE-RESULT: PASS or
# FAIL. Every wait is bounded; on failure it dumps what it knows. The
# minimal dom0 has no wget: busybox's is used.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
DOM0=169.254.10.1
DOMU=169.254.10.2
B=/usr/lib/xen-4.17/bin
T0=$(cut -d' ' -f1 /proc/uptime)
say() { echo "SMOKE: pvio: $* (dom0 uptime $(cut -d' ' -f1 /proc/uptime))"; }
failures=0
check() { # check WHAT COMMAND...: one assertion, said either way
	local what=$1
	shift
	if "$@"; then
		say "ok: $what"
	else
		say "FAILED: $what"
		failures=$((failures + 1))
		return 1
	fi
}
# wait_for SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS.
wait_for() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.5
	done
}

mount -t proc proc /proc 2>/dev/null
mount -t sysfs sys /sys 2>/dev/null
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/log
# One boot runs the scenarios named, in order: pvio_scenario=a+b+c (QEMU's -initrd list is comma-separated).
scenarios=$(sed -n 's/.*pvio_scenario=\([a-z0-9+-]*\).*/\1/p' /proc/cmdline | tr + ' ')
say "dom0 init started, scenarios '${scenarios}'"

# ---- the package (installed with dpkg into the image) ----
if dpkg -s pvio-dom0 2>/dev/null | grep -q '^Status: install ok installed'; then
	say "pvio-dom0 $(dpkg-query -W -f '${Version}' pvio-dom0) installed"
else
	say "FAILED: pvio-dom0 is not installed in the image"
	echo "SMOKE-RESULT: FAIL"
	sync
	echo o >/proc/sysrq-trigger
	sleep 30
	exit 1
fi

# ---- Xen's dom0 services ----
# Not xen-netback: pvio-dom0 blacklists it, and use_backend loads it only
# for a scenario with Linux's backend.
modules="xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd bridge tun"
for m in $modules; do
	modprobe $m || say "modprobe $m failed"
done
mount -t xenfs xenfs /proc/xen
mkdir -p /run/xen /run/xenstored /var/log/xen/console /var/lib/xen
export XENSTORED_ROOTDIR=/run/xenstored
$B/oxenstored --pid-file /run/xenstore.pid
wait_for 30 xenstore-read -s / >/dev/null 2>&1 || say "xenstored did not answer"
$B/xen-init-dom0 >/dev/null
$B/xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console
ip link set lo up
ip link add xenbr0 type bridge stp_state 0 forward_delay 0
ip addr add $DOM0/24 dev xenbr0
ip link set xenbr0 up
say "xenstored, xenconsoled and xenbr0 up; xen-netback loaded: $([ -d /sys/module/xen_netback ] && echo yes || echo no)"

# ---- pvio-netback, started the way its unit starts it ----
# run_unit NAME: the unit's EnvironmentFile, ExecStartPre and ExecStart
# (a leading '-' ignores failure, as in systemd), in the background.
run_unit() {
	local unit=/lib/systemd/system/$1.service line cmd
	[ -f "$unit" ] || { say "no unit $unit"; return 1; }
	set -a
	# shellcheck disable=SC1090
	. "/etc/default/$1"
	set +a
	while IFS= read -r line; do
		case "$line" in
		RuntimeDirectory=*) mkdir -p "/run/${line#RuntimeDirectory=}" ;;
		ExecStartPre=*)
			cmd=${line#ExecStartPre=}
			eval "${cmd#-}" || [ "${cmd#-}" != "$cmd" ] || return 1
			;;
		ExecStart=*)
			cmd=${line#ExecStart=}
			eval "$cmd >>/var/log/$1.log 2>&1 &"
			echo $! >/run/$1.pid
			;;
		esac
	done <"$unit"
}
netback_running() { kill -0 "$(cat /run/pvio-netback.pid 2>/dev/null)" 2>/dev/null; }
# use_backend pvio|linux: who serves backend/vif for the next scenario.
# Never both: each would take the other's vifs.
use_backend() {
	if [ "$1" = linux ]; then
		if netback_running; then
			kill "$(cat /run/pvio-netback.pid)"
			wait_for 20 sh -c '! kill -0 $(cat /run/pvio-netback.pid) 2>/dev/null'
		fi
		modprobe xen-netback
		check "xen-netback loaded, pvio-netback stopped" sh -c '[ -d /sys/module/xen_netback ] && ! kill -0 $(cat /run/pvio-netback.pid 2>/dev/null) 2>/dev/null'
		return
	fi
	[ -d /sys/module/xen_netback ] && modprobe -r xen-netback
	netback_running && return 0
	# Debug log for the scenarios (the unit's options come from here).
	sed -i 's/^PVIO_NETBACK_OPTS=.*/PVIO_NETBACK_OPTS="-v"/' /etc/default/pvio-netback
	run_unit pvio-netback
	wait_for 20 grep -q started /var/log/pvio-netback.log ||
		say "pvio-netback did not say it started"
	check "xen-netback unloaded, pvio-netback runs (from its unit)" sh -c '[ ! -d /sys/module/xen_netback ]' && netback_running
}

# ---- the scenarios kept in files of their own ----
. /usr/local/lib/pvio-xen/platform.sh

# ---- the guest ----
# The vifs use pvio's hotplug script (pvio-dom0's), which libxl runs
# itself: Xen's /etc/xen/scripts/vif-bridge works too (it bridged the
# first runs) but, with its locking and helper scripts, overran libxl's
# hotplug timeout when the emulated dom0 crawled on a loaded host.
domu_cfg() { # domu_cfg NETFRONT [VIF]: the guest's config on stdout
	cat <<CFG
name   = "domU"
type   = "pv"
memory = 256
vcpus  = 1
kernel = "/root/domU-vmlinuz"
ramdisk = "/root/domU.cpio.gz"
extra  = "console=hvc0 rdinit=/init quiet pvio_domu=$1"
vif    = [ ${2-'bridge=xenbr0,mac=00:16:3e:00:00:02,script=/etc/pvio/scripts/vif-bridge'} ]
on_crash = "destroy"
CFG
}
domid=
create_guest() { # create_guest NETFRONT [VIF]
	domu_cfg "$@" >/run/domU.cfg
	local t0 t1
	t0=$(date +%s.%N)
	xl create /run/domU.cfg >/tmp/xl-create.log 2>&1
	local rc=$?
	t1=$(date +%s.%N)
	cat /tmp/xl-create.log
	say "xl create rc=$rc, $(awk "BEGIN{print $t1-$t0}") s"
	domid=$(xl domid domU 2>/dev/null)
	[ $rc = 0 ] && [ -n "$domid" ]
}
# The static busybox the guest runs too (make-overlays.sh). Its wget (Debian
# 12's busybox 1.35, static or not) dies with SIGSEGV when given -T, so
# coreutils' timeout bounds each fetch instead: 300 s, what 4 MiB takes
# at the 0.6 Mbit/s seen on an emulated dom0 with the host's two cores
# shared by three QEMUs (a quiet host: seconds).
WGET="/usr/local/bin/busybox-static wget"
guest_http() { timeout 300 $WGET -q -O - "http://$DOMU:8000/$1" 2>/dev/null; }
guest_ready() { timeout 20 $WGET -q -O /dev/null "http://$DOMU:8000/guest.sha256" 2>/dev/null; }

# The checks every data scenario makes, both directions.
traffic_checks() {
	check "dom0 pings the guest" ping -c 5 -i 0.2 -W 2 $DOMU
	local out
	out=$(guest_http cgi-bin/ping)
	echo "$out"
	check "the guest pings dom0" grep -q PING-OK <<<"$out"
	check "iperf3 dom0 -> guest (TCP, 5 s)" iperf3 -c $DOMU -t 5 -f m
	check "iperf3 guest -> dom0 (TCP, reverse, 5 s)" iperf3 -c $DOMU -t 5 -R -f m
	guest_http guest.bin >/tmp/guest.bin
	local want got
	want=$(guest_http guest.sha256)
	got=$(sha256sum /tmp/guest.bin | cut -d' ' -f1)
	say "file guest -> dom0: $(stat -c %s /tmp/guest.bin) bytes, sha256 $got (guest: $want)"
	check "file guest -> dom0 intact" test -n "$want" -a "$want" = "$got"
	mkdir -p /srv
	dd if=/dev/urandom of=/srv/dom0.bin bs=64k count=64 2>/dev/null
	/usr/local/bin/busybox-static httpd -p 8000 -h /srv
	want=$(sha256sum /srv/dom0.bin | cut -d' ' -f1)
	got=$(guest_http cgi-bin/pull)
	say "file dom0 -> guest: sha256 $want, the guest got '$got'"
	check "file dom0 -> guest intact" test "$want" = "$got"
}

# What a vif served by pvio-netback looks like once connected.
vif_connected() { # vif_connected DOMID DEVID
	[ "$(xenstore-read /local/domain/0/backend/vif/$1/$2/state 2>/dev/null)" = 4 ] &&
		[ "$(xenstore-read /local/domain/$1/device/vif/$2/state 2>/dev/null)" = 4 ]
}
on_bridge() { [ "$(basename "$(readlink /sys/class/net/$1/master 2>/dev/null)")" = xenbr0 ]; }
gone() { # gone DOMID DEVID: nothing left of the vif
	! xenstore-read /local/domain/0/backend/vif/$1/$2/state >/dev/null 2>&1 &&
		! xenstore-read /local/domain/$1/device/vif/$2/state >/dev/null 2>&1 &&
		[ ! -e /sys/class/net/vif$1.$2 ] &&
		[ ! -e /sys/class/net/xenbr0/brif/vif$1.$2 ]
}

# Scenarios in files of their own.
. /usr/local/share/pvio-xen/xenstore-compat.sh

dump() {
	say "---- state for the log ----"
	xl list
	xenstore-ls -f /local/domain/0/backend 2>/dev/null | head -80
	[ -n "$domid" ] && xenstore-ls -f /local/domain/$domid/device 2>/dev/null | head -60
	ip -d link show master xenbr0
	ip -s link
	ip neigh
	echo "----- pvio-netback log -----"
	cat /var/log/pvio-netback.log 2>/dev/null | tail -80
	echo "----- xl devd / hotplug logs -----"
	tail -40 /var/log/xen/xl-domU.log 2>/dev/null
	tail -20 /var/log/xen/xen-hotplug.log 2>/dev/null
	echo "----- xl dmesg (tail) -----"
	xl dmesg | tail -20
	echo "----- dom0 dmesg (tail) -----"
	dmesg | tail -30
}

run_scenario() {
	local scenario=$1
	failures=0
	domid=
	if [ "$scenario" = linux-netback ]; then
		use_backend linux
	else
		use_backend pvio
	fi
	case "$scenario" in
	linux-netfront | pvio-pair | linux-netback)
		front=linux
		[ "$scenario" = linux-netfront ] || front=pvio
		if ! create_guest $front; then
			check "xl create" false
		else
			say "guest domain $domid created, netfront $front"
			check "vif $domid.0 connected (backend and frontend state 4)" wait_for 180 vif_connected $domid 0 &&
				check "the guest answers ping (it may still be booting)" wait_for 300 ping -c 1 -W 2 $DOMU &&
				check "guest answers over HTTP" wait_for 180 guest_ready
		fi
		# The traffic checks only with a guest that answers: each would wait
		# for its own timeout otherwise.
		if [ $failures = 0 ]; then
			driver=$(basename "$(readlink /sys/class/net/vif$domid.0/device/driver 2>/dev/null)" 2>/dev/null)
			say "dom0 vif$domid.0: driver '${driver:-none (a TAP)}', master $(basename "$(readlink /sys/class/net/vif$domid.0/master)")"
			if [ "$scenario" = linux-netback ]; then
				check "vif$domid.0 is xen-netback's" test "$driver" = vif
			else
				check "vif$domid.0 is pvio-netback's TAP" test -z "$driver" -a -e /sys/class/net/vif$domid.0/tun_flags
			fi
			traffic_checks
			check "xl destroy" xl destroy domU
			check "after xl destroy nothing is left of vif $domid.0" wait_for 30 gone $domid 0
		fi
		;;
	platform) platform_scenario ;;
	xl-hotplug)
		# A guest with one vif (Linux's netfront, pvio-netback), then a second
		# one hotplugged with xl alone, through pvio's own hotplug script.
		if ! create_guest linux; then
			check "xl create" false
		else
			check "vif $domid.0 connected" wait_for 180 vif_connected $domid 0 &&
				check "the guest answers ping (it may still be booting)" wait_for 300 ping -c 1 -W 2 $DOMU &&
				check "guest answers over HTTP" wait_for 180 guest_ready
		fi
		if [ $failures = 0 ]; then
			check "xl network-attach" xl network-attach domU bridge=xenbr0 mac=00:16:3e:00:00:03 script=/etc/pvio/scripts/vif-bridge
			check "vif $domid.1 connected" wait_for 60 vif_connected $domid 1
			xl network-list domU | tee /tmp/netlist
			check "xl network-list shows devid 1 connected (state 4)" awk '$1 == 1 && $5 == 4 {f=1} END {exit !f}' /tmp/netlist
			check "vif$domid.1 is on xenbr0" on_bridge vif$domid.1
			check "the guest sees eth1" wait_for 30 sh -c "timeout 20 $WGET -q -O - http://$DOMU:8000/cgi-bin/netdevs | grep -qx eth1"
			check "xl network-detach" xl network-detach domU 1
			check "after network-detach nothing is left of vif $domid.1" wait_for 30 gone $domid 1
			xl network-list domU
			check "vif $domid.0 still connected" vif_connected $domid 0
			check "dom0 still pings the guest" ping -c 3 -i 0.2 -W 2 $DOMU
			check "xl destroy" xl destroy domU
			check "after xl destroy nothing is left of vif $domid.0" wait_for 30 gone $domid 0
			check "no backend/vif/$domid left" sh -c "! xenstore-read /local/domain/0/backend/vif/$domid >/dev/null 2>&1"
			check "xenbr0 has no port left" sh -c '[ -z "$(ls /sys/class/net/xenbr0/brif)" ]'
		fi
		;;
	xenstore-compat) scenario_xenstore_compat ;;
	*)
		say "unknown scenario '$scenario'"
		failures=$((failures + 1))
		;;
	esac
	if [ "$scenario" != linux-netback ]; then
		check "pvio-netback still runs" netback_running
	fi
	if [ $failures != 0 ]; then
		dump
		echo "----- guest console -----"
		tail -60 /var/log/xen/console/guest-domU.log 2>/dev/null
		xl destroy domU >/dev/null 2>&1
	fi
	return $failures
}

all_passed=1
for s in $scenarios; do
	t=$(cut -d' ' -f1 /proc/uptime)
	say "scenario $s: starting"
	run_scenario "$s"
	rc=$?
	secs=$(awk "BEGIN{print $(cut -d' ' -f1 /proc/uptime)-$t}")
	if [ $rc = 0 ]; then
		echo "SMOKE-SCENARIO: $s PASS ($secs s in dom0)"
	else
		echo "SMOKE-SCENARIO: $s FAIL ($rc failed checks, $secs s in dom0)"
		all_passed=0
	fi
	rm -f /var/log/xen/console/guest-domU.log
done
say "done, $(awk "BEGIN{print $(cut -d' ' -f1 /proc/uptime)-$T0}") s in dom0"
[ $all_passed = 1 ] && echo "SMOKE-RESULT: PASS" || echo "SMOKE-RESULT: FAIL"
sync
echo o >/proc/sysrq-trigger
sleep 30
