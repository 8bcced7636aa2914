#!/bin/sh
# The pvio CLI's files are layered (tools/pvio/main.c, docs/toolstack.md):
# each may include only the headers of layers below its own, so that no
# two files call each other and the commands never call one another. A
# new file needs a layer here.
set -eu
src=${srcdir:-.}
dir=$src/tools/pvio

layer() { # FILE (without .c/.h) -> its layer, or nothing
	case $1 in
	msg | args | options) echo 0 ;;
	files | programs | store | vif_stats | xlcfg | procfs) echo 1 ;;
	proc) echo 2 ;;
	netns) echo 3 ;;
	host) echo 4 ;;
	ioemu_nic) echo 5 ;;
	vif) echo 6 ;;
	domain) echo 7 ;;
	commands | cmd_host | cmd_domain | cmd_network | cmd_demo) echo 8 ;;
	main) echo 9 ;;
	esac
}

bad=0
for f in "$dir"/*.c "$dir"/*.h; do
	name=$(basename "$f")
	base=${name%.*}
	mine=$(layer "$base")
	if [ -z "$mine" ]; then
		echo "FAIL: $name has no layer in $0" >&2
		bad=1
		continue
	fi
	for inc in $(sed -n 's/^#include "\([a-z_]*\)\.h"$/\1/p' "$f"); do
		[ "$inc" = "$base" ] && continue # its own header
		[ "$inc" = config ] && continue
		# A command file declares itself in commands.h.
		[ "$inc" = commands ] && [ "$mine" = 8 ] && continue
		theirs=$(layer "$inc")
		[ -n "$theirs" ] || continue # another room's header (pvio_sim_layout.h)
		if [ "$theirs" -ge "$mine" ]; then
			echo "FAIL: $name (layer $mine) includes $inc.h (layer $theirs)" >&2
			bad=1
		fi
	done
done
[ $bad = 0 ] && echo "PASS: tools/pvio is layered"
exit $bad
