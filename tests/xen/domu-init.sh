#!/bin/sh
# /init of the guest of the real-Xen scenarios (busybox initramfs). The
# netfront comes from the kernel command line that the dom0 init wrote
# into the guest's config: pvio_domu=linux (Linux's xen-netfront) or
# pvio_domu=pvio (pvio-netfront, unpacked from the pvio-domu package),
# or pvio_domu=xenstore (no NIC: tests/xen/xenstore-agent.sh).
# Then it serves the dom0 init over HTTP (busybox httpd on port 8000):
# /guest.bin and its checksum, and CGI scripts that ping dom0, pull a file
# from dom0 and list the NICs, so that dom0 drives every check.
export PATH=/bin:/usr/bin:/sbin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
DOM0=169.254.10.1
SELF=169.254.10.2
mode=$(sed -n 's/.*pvio_domu=\([a-z]*\).*/\1/p' /proc/cmdline)
echo "DOMU: pvio guest init, netfront ${mode:-unset} (uptime $(cut -d' ' -f1 /proc/uptime))"
ip link set lo up

case "$mode" in
pvio)
	# The devices pvio-netfront opens (/dev/xen/gntalloc, evtchn, gntdev)
	# and the TAP it makes; /dev/xen/xenbus is built into the kernel.
	for m in xen-evtchn xen-gntalloc xen-gntdev tun; do
		insmod /lib/pvio-modules/$m.ko || echo "DOMU: insmod $m failed"
	done
	# The unit's settings, as systemd would read them.
	set -a
	. /etc/default/pvio-netfront
	set +a
	(/usr/sbin/pvio-netfront -v 2>&1 | sed 's/^/DOMU: /') &
	;;
linux)
	insmod /lib/xen-netfront.ko
	;;
xenstore)
	# No NIC: the xenstore-compat scenario's agent, for good.
	/usr/local/sbin/pvio-xenstore-agent
	while true; do sleep 3600; done
	;;
platform)
	# The xen platform's tests (tests/xen/platform.sh in dom0): alone,
	# then the guest's half against dom0. No NIC.
	for m in xen-evtchn xen-gntalloc xen-gntdev; do
		insmod /lib/pvio-modules/$m.ko || echo "DOMU: insmod $m failed"
	done
	for half in local guest; do
		key=result
		[ $half = local ] && key=local-result
		PVIO_TEST_RESULT_KEY=$key /usr/local/bin/test_platform_xen $half 2>&1 | sed 's/^/DOMU: /'
	done
	echo "DOMU-PLATFORM-DONE (uptime $(cut -d' ' -f1 /proc/uptime))"
	while true; do sleep 3600; done
	;;
*)
	echo "DOMU: unknown pvio_domu='$mode'"
	;;
esac

i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 300 ]; do
	sleep 0.2
	i=$((i + 1))
done
ip addr add $SELF/24 dev eth0
ip link set eth0 up
echo "DOMU: eth0 up after $i polls (uptime $(cut -d' ' -f1 /proc/uptime)), driver=$(basename "$(readlink /sys/class/net/eth0/device/driver 2>/dev/null)" 2>/dev/null)"

iperf3 -s -D
mkdir -p /srv/cgi-bin
dd if=/dev/urandom of=/srv/guest.bin bs=64k count=64 2>/dev/null
sha256sum /srv/guest.bin | cut -d' ' -f1 >/srv/guest.sha256
cgi() {
	{
		printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\n'
		cat
	} >/srv/cgi-bin/$1
	chmod +x /srv/cgi-bin/$1
}
cgi ping <<CGI
ping -c 3 -W 2 $DOM0 && echo PING-OK
CGI
cgi pull <<CGI
rm -f /tmp/from-dom0.bin
wget -q -O /tmp/from-dom0.bin http://$DOM0:8000/dom0.bin && sha256sum /tmp/from-dom0.bin | cut -d' ' -f1
CGI
cgi netdevs <<CGI
ls /sys/class/net
CGI
httpd -p 8000 -h /srv
echo "DOMU-READY (uptime $(cut -d' ' -f1 /proc/uptime))"
while true; do sleep 3600; done
