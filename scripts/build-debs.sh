#!/bin/sh
# Build pvio's Debian packages (pvio-dom0, pvio-domu, pvio-bench) from this
# tree, in a copy of it so that the tree stays clean, and check them with
# lintian.
#
#   scripts/build-debs.sh [OUTDIR]     (default /tmp/pvio-debs)
#
# In a git tree the copy holds the files git knows (tracked, and new ones
# not ignored), so uncommitted changes are built too; elsewhere (a release
# tarball) the whole tree. The .deb files land in OUTDIR.
# Environment: DEB_BUILD_OPTIONS (default nocheck: CI runs the tests
# outside the package build), LINTIAN=0 skips lintian.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/pvio-debs}
case "$out" in /*) ;; *) out=$(pwd)/$out ;; esac

for tool in dpkg-buildpackage dh; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "build-debs.sh: $tool is missing; install the Debian packages dpkg-dev, debhelper and git" >&2
		exit 1
	}
done

rm -rf "$out"
mkdir -p "$out/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard) |
		(cd "$top" && xargs -0 cp -a --parents -t "$out/src" 2>/dev/null || true)
else
	# A release tarball: everything in it is source.
	cp -a "$top/." "$out/src/"
fi
# Deleted-but-tracked files are simply absent; a copy missing debian/ is not.
[ -f "$out/src/debian/control" ] || {
	echo "build-debs.sh: no debian/control in the copy of $top" >&2
	exit 1
}

echo "build-debs.sh: building in $out/src"
(
	cd "$out/src"
	DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck} \
		dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$out/build.log" 2>&1
) || {
	tail -40 "$out/build.log" >&2
	echo "build-debs.sh: dpkg-buildpackage failed; whole log in $out/build.log" >&2
	exit 1
}
rm -rf "$out/src"

if [ "${LINTIAN:-1}" != 0 ]; then
	if command -v lintian >/dev/null 2>&1; then
		# Overrides (debian/*.lintian-overrides) say why each is there.
		lintian --fail-on error,warning "$out"/*.changes ||
			{ echo "build-debs.sh: lintian found problems (above)" >&2; exit 1; }
	else
		echo "build-debs.sh: lintian not installed; packages not checked" >&2
	fi
fi
ls -l "$out"/*.deb
