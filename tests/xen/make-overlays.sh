#!/bin/bash
# The overlays of the real-Xen images (tests/xen/run.sh):
#
#   tests/xen/make-overlays.sh WORKDIR DEBDIR
#
# WORKDIR/rootfs (the dom0 root): pvio-dom0 installed with dpkg.
# WORKDIR/overlay-dom0: the dom0 init /usr/local/sbin/pvio-xen-init.
# WORKDIR/overlay-domu: the pvio-domu package unpacked (dpkg-deb -x: the
# busybox guest has no dpkg), the libraries pvio-netfront links (from the
# dom0 root, the same Debian release), the kernel modules it needs, and
# the guest's /init; xenstore-utils and the xenstore-compat agent.
set -euo pipefail
work=$1
debs=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$work/rootfs
kver=$(ls "$root/lib/modules" | sort -V | tail -1)

# dom0: pvio-dom0 installed into the dom0 root with dpkg (in a chroot: at
# boot, under emulation, dpkg takes a minute), with what apt would pull in
# beside it that the minimal dom0 lacks (liburing2). Its maintainer
# scripts run as in any image build: no systemd runs in the chroot, so
# the units are enabled, not started.
pkgs=$work/dom0-debs
rm -rf "$pkgs"
mkdir -p "$pkgs"
cp "$debs"/pvio-dom0_*.deb "$pkgs/"
for dep in liburing2; do
	if ! chroot "$root" dpkg -s "$dep" >/dev/null 2>&1; then
		(cd "$pkgs" && apt-get download -q "$dep")
	fi
done
rm -rf "$root/tmp/pvio-debs"
cp -a "$pkgs" "$root/tmp/pvio-debs"
chroot "$root" sh -c 'dpkg -i /tmp/pvio-debs/*.deb'
rm -rf "$root/tmp/pvio-debs"
chroot "$root" dpkg -s pvio-dom0 | grep -E '^(Status|Version)'
dom0=$work/overlay-dom0
rm -rf "$dom0"
mkdir -p "$dom0/usr/local/sbin"
install -m 0755 "$here/dom0-init.sh" "$dom0/usr/local/sbin/pvio-xen-init"
# What dom0-init.sh sources and runs for the xenstore-compat scenario.
mkdir -p "$dom0/usr/local/share/pvio-xen"
install -m 0644 "$here/xenstore-compat.sh" "$here/xenstore-script.sh" \
	"$here/xenstore-expected.txt" "$here/xenstore-oxenstored.diff" \
	"$dom0/usr/local/share/pvio-xen/"
# wget and httpd for the checks: the static busybox that build.sh puts in
# the guest (busybox-static on the host).
mkdir -p "$dom0/usr/local/bin"
install -m 0755 /bin/busybox "$dom0/usr/local/bin/busybox-static"

domu=$work/overlay-domu
rm -rf "$domu"
mkdir -p "$domu/lib/pvio-modules"
dpkg-deb -x "$debs"/pvio-domu_*.deb "$domu"
# xenstore-utils for the xenstore-compat scenario's agent: one program,
# each command a link named after it.
mkdir -p "$domu/usr/bin" "$domu/usr/local/sbin"
cp "$root/usr/bin/xenstore" "$domu/usr/bin/"
for c in chmod exists list ls read rm watch write; do
	ln -sf xenstore "$domu/usr/bin/xenstore-$c"
done
install -m 0755 "$here/xenstore-agent.sh" "$domu/usr/local/sbin/pvio-xenstore-agent"
# Shared libraries: as the dom0 root's loader resolves them.
cp "$domu/usr/sbin/pvio-netfront" "$root/tmp/pvio-netfront.ldd"
cp "$root/usr/bin/xenstore" "$root/tmp/xenstore.ldd"
libs=$(chroot "$root" ldd /tmp/pvio-netfront.ldd /tmp/xenstore.ldd | awk '/=>/ {print $3} /ld-linux/ {print $1}' | sort -u)
rm -f "$root/tmp/pvio-netfront.ldd" "$root/tmp/xenstore.ldd"
for l in $libs; do
	mkdir -p "$domu$(dirname "$l")"
	cp -L "$root$l" "$domu$l"
done
for m in drivers/xen/xen-evtchn drivers/xen/xen-gntalloc drivers/xen/xen-gntdev drivers/net/tun; do
	cp "$root/lib/modules/$kver/kernel/$m.ko" "$domu/lib/pvio-modules/"
done
install -m 0755 "$here/domu-init.sh" "$domu/init"
echo "dom0 overlay: $(cd "$dom0" && find . -type f | tr '\n' ' ')"
echo "guest overlay: $(cd "$domu" && find . -type f | tr '\n' ' ')"
