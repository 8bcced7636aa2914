#!/bin/bash
# pvio's real-Xen scenarios: real Xen 4.17, a Debian dom0 and a PV guest
# under QEMU (software emulation), through ../shared/xen-in-qemu.
#
#   tests/xen/run.sh [SCENARIO...]     (as root; default: all, in this order)
#
#   linux-netfront  Linux's xen-netfront (guest) against pvio-netback (dom0)
#   pvio-pair       pvio-netfront against pvio-netback
#   linux-netback   pvio-netfront against Linux's xen-netback
#   xl-hotplug      xl network-attach/-list/-detach and xl destroy with
#                   pvio-netback, no pvio toolstack
#
# It builds the Debian packages (scripts/build-debs.sh), puts pvio-dom0 into
# the dom0 image (installed there with dpkg at boot) and pvio-domu, unpacked
# with dpkg-deb -x, into the guest's initramfs, then boots once per
# scenario: every run starts from a clean image. One line per scenario
# says PASS or FAIL; a failure prints the scenario's log lines and keeps
# the whole serial console.
#
# Environment:
#   XEN_WORKDIR  images, packages and logs (default /var/tmp/pvio-xen); the
#                first build there downloads ~1 GB and takes 5-10 minutes
#   XEN_IN_QEMU  the xen-in-qemu scripts (default ../shared/xen-in-qemu
#                beside the repository, else /work/shared/xen-in-qemu)
#   XEN_TIMEOUT  seconds one boot may take (default 900)
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
all="linux-netfront pvio-pair linux-netback xl-hotplug"
work=${XEN_WORKDIR:-/var/tmp/pvio-xen}
xq=${XEN_IN_QEMU:-}
if [ -z "$xq" ]; then
	for d in "$top/../shared/xen-in-qemu" /work/shared/xen-in-qemu; do
		[ -x "$d/build.sh" ] && { xq=$d; break; }
	done
fi
progress() { echo "[xen $(date +%T)] $*"; }
die() { echo "tests/xen/run.sh: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, mkfs, QEMU)"
[ -n "$xq" ] && [ -x "$xq/build.sh" ] && [ -x "$xq/run.sh" ] ||
	die "xen-in-qemu not found; set XEN_IN_QEMU to the directory with build.sh and run.sh"
scenarios=${*:-$all}
for s in $scenarios; do
	case " $all " in *" $s "*) ;; *) die "unknown scenario '$s' (one of: $all)" ;; esac
done
mkdir -p "$work/logs"
T0=$(date +%s)

# 1. the base images (once per XEN_WORKDIR): the dom0 root is what the
# guest's libraries and kernel modules come from.
if [ ! -x "$work/rootfs/usr/lib/xen-4.17/bin/xl" ]; then
	progress "first build of the Xen images in $work (5-10 minutes, ~1 GB of packages)"
	"$xq/build.sh" "$work" >"$work/logs/build-base.log" 2>&1 ||
		{ tail -30 "$work/logs/build-base.log"; die "building the base images failed (environment, not pvio); log: $work/logs/build-base.log"; }
fi

# 2. the packages
progress "building the Debian packages"
"$top/scripts/build-debs.sh" "$work/debs" >"$work/logs/build-debs.log" 2>&1 ||
	{ tail -30 "$work/logs/build-debs.log"; die "building the packages failed; log: $work/logs/build-debs.log"; }

# 3. the overlays
progress "preparing the dom0 and guest overlays"
"$top/tests/xen/make-overlays.sh" "$work" "$work/debs" >"$work/logs/overlays.log" 2>&1 ||
	{ cat "$work/logs/overlays.log"; die "preparing the overlays failed"; }
OVERLAY=$work/overlay-dom0 DOMU_OVERLAY=$work/overlay-domu \
	"$xq/build.sh" "$work" >"$work/logs/build-images.log" 2>&1 ||
	{ tail -30 "$work/logs/build-images.log"; die "building the images failed; log: $work/logs/build-images.log"; }
progress "images ready ($(($(date +%s) - T0)) s so far)"

# 4. one boot per scenario
pass=0
fail=0
results=()
for s in $scenarios; do
	log=$work/logs/$s.console.log
	progress "scenario $s: booting Xen (65-190 s)"
	t=$(date +%s)
	WORKDIR=$work TIMEOUT=${XEN_TIMEOUT:-900} INIT=/usr/local/sbin/pvio-xen-init \
		EXTRA_LINUX="pvio_scenario=$s" "$xq/run.sh" "$log" >"$work/logs/$s.run.log" 2>&1
	secs=$(($(date +%s) - t))
	if grep -q "SMOKE-RESULT: PASS" "$log"; then
		verdict="PASS"
		pass=$((pass + 1))
	else
		if ! grep -q "SMOKE: pvio: dom0 init started" "$log"; then
			verdict="FAIL (environment: Xen or dom0 did not start under QEMU, not a pvio result)"
		elif ! grep -q "SMOKE-RESULT" "$log"; then
			verdict="FAIL (no result: the run hung or timed out)"
		else
			verdict="FAIL"
		fi
		fail=$((fail + 1))
		echo "----- $s: the scenario's lines (whole console: $log) -----"
		grep -E "SMOKE|DOMU|pvio-netback|pvio-netfront|libxl|vif-bridge|panic|Oops" "$log" | tail -150
		echo "----- end of $s -----"
	fi
	results+=("xen scenario $s: $verdict (${secs} s)")
	progress "${results[-1]}"
done

echo
printf '%s\n' "${results[@]}"
echo "xen scenarios: $pass passed, $fail failed, $(($(date +%s) - T0)) s in all"
[ "$fail" = 0 ]
