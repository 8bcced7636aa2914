#!/bin/bash
# pvio's real-Xen scenarios: real Xen 4.17, a Debian dom0 and a PV guest
# under QEMU (software emulation), through ../shared/xen-in-qemu.
#
#   tests/xen/run.sh [SCENARIO...]     (as root; default: all, in this order)
#   tests/xen/run.sh --prepare         only the base images (step 1 below)
#
#   linux-netfront  Linux's xen-netfront (guest) against pvio-netback (dom0)
#   pvio-pair       pvio-netfront against pvio-netback
#   linux-netback   pvio-netfront against Linux's xen-netback
#   xl-hotplug      xl network-attach/-list/-detach and xl destroy with
#                   pvio-netback, no pvio toolstack
#   xenstore-compat the xenstore-utils script tests/xen/xenstore-script.sh
#                   against oxenstored (dom0 and a guest) and, on the host,
#                   against pvio-xenstored (PVIO_BUILDDIR, default the
#                   source tree, holds the built daemon): the same transcript
#   platform        the xen platform's unit tests (test_platform_xen) in
#                   dom0, in a guest, and across the two
#
# It builds the Debian packages (scripts/build-debs.sh), puts pvio-dom0 into
# the dom0 image (installed there with dpkg at boot) and pvio-domu, unpacked
# with dpkg-deb -x, into the guest's initramfs, then boots Xen once for all
# the scenarios (XEN_BOOT_EACH=1: once each); every boot starts from a
# clean image. One line per scenario says PASS or FAIL; a failure prints
# the log lines and keeps the whole serial console.
#
# Environment:
#   XEN_WORKDIR  images, packages and logs (default /var/tmp/pvio-xen); the
#                first build there downloads ~1 GB and takes 5-10 minutes
#   XEN_IN_QEMU  the xen-in-qemu scripts (default ../shared/xen-in-qemu
#                beside the repository, else /work/shared/xen-in-qemu)
#   XEN_TIMEOUT  seconds one boot may take (default 2400)
#   XEN_BOOT_EACH=1  one boot per scenario instead of one for all
#   XEN_PARALLEL=1   with XEN_BOOT_EACH=1, all the boots at once
#   XEN_DEBS     take the packages from this directory instead of building
#                them (scripts/build-debs.sh's output)
#   XEN_ENV_RETRIES  boots to retry when Xen or dom0 did not start under
#                QEMU (default 1; the scenarios still fail if it never does)
#
# Exit status: 0 every scenario passed, 1 one failed, 2 the harness could
# not get to the boots, 3 ../shared/xen-in-qemu is not on this machine.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
all="linux-netfront pvio-pair linux-netback xl-hotplug xenstore-compat platform"
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
	{ echo "tests/xen/run.sh: xen-in-qemu not found (looked in $top/../shared and /work/shared); set XEN_IN_QEMU to the directory with build.sh and run.sh" >&2; exit 3; }
prepare_only=0
if [ "${1:-}" = --prepare ]; then
	prepare_only=1
	shift
fi
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
if [ $prepare_only = 1 ]; then
	progress "base images ready in $work ($(($(date +%s) - T0)) s)"
	exit 0
fi

# 2. the packages: built here, or those of XEN_DEBS (.ci/run has just
# built them from the same tree).
debs=${XEN_DEBS:-$work/pvio-debs}
if [ -n "${XEN_DEBS:-}" ]; then
	ls "$debs"/pvio-dom0_*.deb "$debs"/pvio-domu_*.deb >/dev/null 2>&1 ||
		die "XEN_DEBS=$debs has no pvio-dom0 and pvio-domu packages"
	progress "the Debian packages from $debs"
else
	progress "building the Debian packages"
	"$top/scripts/build-debs.sh" "$debs" >"$work/logs/build-debs.log" 2>&1 ||
		{ tail -30 "$work/logs/build-debs.log"; die "building the packages failed; log: $work/logs/build-debs.log"; }
fi

# The test programs the images carry (built in this configured tree).
testbins=
case " $scenarios " in *" platform "*)
	make -C "$top" -s tests/xen/test_platform_xen >"$work/logs/build-tests.log" 2>&1 ||
		{ tail -30 "$work/logs/build-tests.log"; die "building tests/xen/test_platform_xen failed (configure the tree first); log: $work/logs/build-tests.log"; }
	testbins=$top/tests/xen/test_platform_xen
	;;
esac

# 3. the overlays
progress "preparing the dom0 and guest overlays"
"$top/tests/xen/make-overlays.sh" "$work" "$debs" $testbins >"$work/logs/overlays.log" 2>&1 ||
	{ cat "$work/logs/overlays.log"; die "preparing the overlays failed"; }
OVERLAY=$work/overlay-dom0 DOMU_OVERLAY=$work/overlay-domu \
	"$xq/build.sh" "$work" >"$work/logs/build-images.log" 2>&1 ||
	{ tail -30 "$work/logs/build-images.log"; die "building the images failed; log: $work/logs/build-images.log"; }
progress "images ready ($(($(date +%s) - T0)) s so far)"

# xenstore-compat's pvio-xenstored half runs here, on the host: the make
# check test, which checks pvio's transcript against the checked-in file
# that dom0 checks oxenstored's against.
xs_pvio=
if [[ " $scenarios " == *" xenstore-compat "* ]]; then
	progress "xenstore-compat: the script against pvio-xenstored (host)"
	top_builddir=${PVIO_BUILDDIR:-$top} srcdir=$top sh "$top/tests/integration/xenstore-compat.sh" \
		"$work/logs/xenstore-pvio.txt" >"$work/logs/xenstore-pvio.log" 2>&1 ||
		{ cat "$work/logs/xenstore-pvio.log"; xs_pvio="FAIL (pvio-xenstored's transcript: $work/logs/xenstore-pvio.log)"; }
fi

# 4. the boots: one for all the scenarios (each creates and destroys its
# own guest; the backend is switched between them), or one each with
# XEN_BOOT_EACH=1. Either way every boot starts from a clean image.
if [ "${XEN_BOOT_EACH:-0}" = 1 ]; then
	boots=$scenarios
else
	boots=$(echo $scenarios | tr ' ' +)
fi
pass=0
fail=0
results=()
# The consoles are read with grep -a: a console can hold stray binary
# bytes, and plain grep then prints "binary file matches" instead of lines.
# dom0_started LOG: the boot got as far as pvio's dom0 init.
dom0_started() { grep -aq "SMOKE: pvio: dom0 init started" "$1"; }
boot() { # boot SCENARIOS: one QEMU run; its console in logs/boot-SCENARIOS.console.log
	local log=$work/logs/boot-$1.console.log retries=${XEN_ENV_RETRIES:-1}
	while :; do
		WORKDIR=$work TIMEOUT=${XEN_TIMEOUT:-2400} INIT=/usr/local/sbin/pvio-xen-init \
			EXTRA_LINUX="pvio_scenario=$1" "$xq/run.sh" "$log" 2>&1 |
			grep -a --line-buffered -E "SMOKE: pvio: (scenario|FAILED)|SMOKE-SCENARIO|MISMATCH" |
			sed -u "s/^/    [$1] /"
		# Only a boot that never reached pvio's init is retried: whatever
		# happened after that is a result.
		dom0_started "$log" && return
		[ "$retries" -gt 0 ] || return
		retries=$((retries - 1))
		cp "$log" "$log.env-failed"
		echo "    [$1] Xen or dom0 did not start under QEMU (environment, not pvio; console kept in $log.env-failed): booting again"
	done
}
# XEN_PARALLEL=1 (with XEN_BOOT_EACH=1): the boots at once, for a machine
# with cores to spare (each QEMU is one busy thread per virtual CPU).
if [ "${XEN_PARALLEL:-0}" = 1 ]; then
	progress "booting Xen for each of $scenarios at once"
	t=$(date +%s)
	for b in $boots; do boot "$b" & done
	wait
	progress "boots done in $(($(date +%s) - t)) s"
fi
for b in $boots; do
	log=$work/logs/boot-$b.console.log
	t=$(date +%s)
	if [ "${XEN_PARALLEL:-0}" != 1 ]; then
		progress "booting Xen for $(echo $b | tr + ' ') (3-7 minutes a scenario on a busy machine)"
		boot "$b"
	fi
	secs=$(($(date +%s) - t))
	for s in $(echo $b | tr + ' '); do
		line=$(grep -a -m1 "SMOKE-SCENARIO: $s " "$log")
		case "$line" in
		*" $s PASS"*)
			verdict="PASS ${line#*PASS }"
			pass=$((pass + 1))
			;;
		*)
			if ! dom0_started "$log"; then
				verdict="FAIL (environment: Xen or dom0 did not start under QEMU, not a pvio result)"
			elif [ -z "$line" ]; then
				verdict="FAIL (no result: the boot hung, timed out or stopped before it)"
			else
				verdict="FAIL ${line#*FAIL }"
			fi
			fail=$((fail + 1))
			;;
		esac
		if [ "$s" = xenstore-compat ]; then
			sed -n 's/^.*XSCOMPAT| //p' "$log" | tr -d '\r' >"$work/logs/xenstore-oxenstored.txt"
			# What tests/xen/xenstore-oxenstored.diff would be, to review.
			diff -u "$top/tests/xen/xenstore-expected.txt" "$work/logs/xenstore-oxenstored.txt" \
				>"$work/logs/xenstore-oxenstored.diff"
			if [ -n "$xs_pvio" ]; then
				case $verdict in PASS*) pass=$((pass - 1)) fail=$((fail + 1)) ;; esac
				verdict="$xs_pvio; oxenstored's half: $verdict"
			fi
		fi
		results+=("xen scenario $s: $verdict")
	done
	if ! grep -aq "SMOKE-RESULT: PASS" "$log"; then
		echo "----- the failures' log lines (whole console: $log) -----"
		grep -aE "SMOKE|DOMU|PLATFORM|pvio-netback|pvio-netfront|libxl|vif-bridge|panic|Oops" "$log" | tail -200
		echo "----- end -----"
	fi
	progress "boot done in ${secs} s"
done

echo
printf '%s\n' "${results[@]}"
echo "xen scenarios: $pass passed, $fail failed, $(($(date +%s) - T0)) s in all"
[ "$fail" = 0 ]
