#!/bin/bash
# The overlays of the real-Xen images (tests/xen/run.sh):
#
#   tests/xen/make-overlays.sh WORKDIR DEBDIR [TEST-PROGRAM...]
#
# WORKDIR/rootfs (the dom0 root): pvio-dom0 installed with dpkg.
# WORKDIR/overlay-dom0: the dom0 init /usr/local/sbin/pvio-xen-init.
# WORKDIR/overlay-domu: the pvio-domu package unpacked (dpkg-deb -x: the
# busybox guest has no dpkg), the libraries pvio-netfront links (from the
# dom0 root, the same Debian release), the kernel modules it needs, and
# the guest's /init; xenstore-utils and the xenstore-compat agent. Test
# programs (tests/xen/test_platform_xen) go into both images'
# /usr/local/bin with their libraries.
set -euo pipefail
work=$1
debs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$work/rootfs
kver=$(ls "$root/lib/modules" | sort -V | tail -1)

# copy_libs BINARY DEST [missing]: the shared libraries BINARY links, as
# the dom0 root's loader resolves them (the same release as the guest's),
# into DEST; one the root lacks (libcunit for a test program) from this
# host. With `missing`, only those (for the dom0 overlay: its /lib is
# usr/lib, merged /usr, and must stay a link).
copy_libs() {
	local bin=$1 dest=$2 only=${3:-} name arrow path rest lib src
	cp "$bin" "$root/tmp/pvio-ldd.bin"
	chroot "$root" ldd /tmp/pvio-ldd.bin >"$root/tmp/pvio-ldd.txt" || true
	while read -r name arrow path rest; do
		case "$name" in
		/*) lib=$name src=$root$name ;; # the loader
		*)
			[ "$arrow" = "=>" ] || continue # linux-vdso
			if [ "$path" = not ]; then
				lib=$(ldd "$bin" | awk -v n="$name" '$1 == n {print $3}')
				src=$lib
				[ -z "$only" ] || lib=/usr/lib/$(basename "$(dirname "$lib")")/$name
			else
				[ -z "$only" ] || continue
				lib=$path src=$root$path
			fi
			;;
		esac
		[ -z "$only" ] || [ "${name#/}" = "$name" ] || continue
		[ -n "$lib" ] || { echo "make-overlays.sh: $name (for $bin) not found" >&2; return 1; }
		mkdir -p "$dest$(dirname "$lib")"
		cp -L "$src" "$dest$lib"
	done <"$root/tmp/pvio-ldd.txt"
	rm -f "$root/tmp/pvio-ldd.bin" "$root/tmp/pvio-ldd.txt"
}

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
mkdir -p "$dom0/usr/local/lib/pvio-xen"
install -m 0644 "$here/platform.sh" "$dom0/usr/local/lib/pvio-xen/"
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
copy_libs "$domu/usr/sbin/pvio-netfront" "$domu"
copy_libs "$root/usr/bin/xenstore" "$domu"
mkdir -p "$domu/usr/local/bin"
for t in "$@"; do
	install -m 0755 "$t" "$dom0/usr/local/bin/"
	install -m 0755 "$t" "$domu/usr/local/bin/"
	copy_libs "$t" "$dom0" missing
	copy_libs "$t" "$domu"
done
for m in drivers/xen/xen-evtchn drivers/xen/xen-gntalloc drivers/xen/xen-gntdev drivers/net/tun; do
	cp "$root/lib/modules/$kver/kernel/$m.ko" "$domu/lib/pvio-modules/"
done
install -m 0755 "$here/domu-init.sh" "$domu/init"
echo "dom0 overlay: $(cd "$dom0" && find . -type f | tr '\n' ' ')"
echo "guest overlay: $(cd "$domu" && find . -type f | tr '\n' ' ')"
