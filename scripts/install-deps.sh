#!/bin/sh
# Install every build and test dependency of pvio on Debian 12.
# Idempotent and non-interactive; run as root.
set -eu

export DEBIAN_FRONTEND=noninteractive

packages="
build-essential
autoconf
automake
libtool
pkg-config
libxen-dev
libcunit1-dev
liburing-dev
clang
clang-format
iproute2
xenstore-utils
xen-utils-common
procps
iperf3
sockperf
ethtool
strace
iputils-ping
socat
jq
gnuplot-nox
debhelper
dpkg-dev
lintian
"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: must run as root (apt-get install)" >&2
	exit 1
fi

# iperf3, sockperf: the traffic and latency of `pvio-bench net`; ethtool
# and strace: its offload check and system-call counts.
# xen-utils-common: Xen's hotplug scripts (/etc/xen/scripts), which the
# toolstack tests run through script=. Recommends stay out: they pull in
# the hypervisor and a boot loader. iputils-ping, iperf3, socat and jq:
# traffic in the network tests (tests/integration/net-*.sh). gnuplot-nox:
# the plots of `pvio-bench sweep` (its pngcairo terminal). debhelper,
# dpkg-dev, lintian: the Debian packages (scripts/build-debs.sh, CI).
# Wait for another apt or dpkg run (an unattended upgrade, a second
# install) instead of failing on its lock.
lock_wait="-o DPkg::Lock::Timeout=600"
# shellcheck disable=SC2086
apt-get $lock_wait update -q
# shellcheck disable=SC2086
apt-get $lock_wait install -y -q --no-install-recommends $packages
