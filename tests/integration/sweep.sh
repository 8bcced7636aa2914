#!/bin/sh
# pvio-bench sweep end to end at a reduced size (--quick): the CSV has a
# row with numbers for every path, size and metric, both plots are PNG
# images of the size asked of gnuplot, the summary has figures, and the
# run's namespaces, pvio host, processes and files are gone afterwards.
# Also: bad options are refused, no gnuplot still writes the CSV (and is
# an error with --plots), a failing path and Ctrl-C clean up. The figures
# themselves are not checked (no timing assertions).
set -eu

bench=${top_builddir:-.}/tools/pvio-bench
abs_src=$(cd "${srcdir:-.}" && pwd)
tmp=$(mktemp -d)
sweep_pid=
cleanup() {
	[ -z "$sweep_pid" ] || kill "$sweep_pid" 2>/dev/null || true
	[ -z "$sweep_pid" ] || wait "$sweep_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# refuse EXPECTED ARGS...: exit status 2 and EXPECTED on stderr.
refuse() {
	expected=$1
	shift
	status=0
	"$bench" sweep "$@" >/dev/null 2>"$tmp/refuse.err" || status=$?
	[ "$status" -eq 2 ] || fail "pvio-bench sweep $* exited $status, not 2"
	grep -qF -- "$expected" "$tmp/refuse.err" ||
		fail "pvio-bench sweep $*: no '$expected' in: $(cat "$tmp/refuse.err")"
	echo "ok: refused pvio-bench sweep $*"
}

sizes_msg="--sizes expects MIN..MAX or a comma-separated list of powers of two from 1 to 64K (K = 1024), got"
refuse "$sizes_msg '3': '3' is not a power of two from 1 to 64K" --sizes 3
refuse "$sizes_msg '0..64': '0' is not a power of two" --sizes 0..64
refuse "$sizes_msg '1..128K': '128K' is not a power of two from 1 to 64K" --sizes 1..128K
refuse "$sizes_msg '64..1': MIN is above MAX" --sizes 64..1
refuse "$sizes_msg '1,,2': '' is not a size" --sizes 1,,2
refuse "$sizes_msg '1K,64': '64' is not above the size before it" --sizes 1K,64
refuse "$sizes_msg '1x': '1x' is not a size in bytes" --sizes 1x
refuse "--paths expects a comma-separated list of native, pvio, emu, emu-rtl8139, each once, got 'veth'" \
	--paths veth
refuse "--paths expects a comma-separated list of native, pvio, emu, emu-rtl8139, each once, got 'native,native'" \
	--paths native,native
refuse "--runs expects an integer in 1..100, got '0'" --runs 0
refuse "--duration expects an integer in 1..600, got '0'" --quick --duration 0
refuse "unknown argument 'extra'" --quick extra
"$bench" sweep --help | grep -q -- "--quick  " || fail "sweep --help has no --quick"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: pvio-bench sweep needs root; the refusals passed"
	exit 77
fi

# --plots without gnuplot: an error before anything is built.
status=0
PATH=/nonexistent "$bench" sweep --plots --out "$tmp/noplot" \
	>/dev/null 2>"$tmp/noplot.err" || status=$?
[ "$status" -eq 1 ] || fail "sweep --plots without gnuplot exited $status"
grep -qF -- "--plots: gnuplot not found; install the Debian package gnuplot-nox" \
	"$tmp/noplot.err" || fail "sweep --plots without gnuplot: $(cat "$tmp/noplot.err")"
echo "ok: sweep --plots refuses to run without gnuplot"

export PVIO_SCRIPTDIR="$abs_src/tools/hotplug"

# left_behind NAME: what the run that wrote $tmp/NAME.out and .err could
# leave: its namespaces, files, marked processes and its pvio host's
# namespaces.
left_behind() {
	id=$(sed -n 's/^pvio-bench sweep: run \([0-9a-f]\{8\}\):.*/\1/p' "$tmp/$1.out")
	[ -n "$id" ] || { echo "no run id in $tmp/$1.out"; return; }
	for ns in /run/netns/pvbench-"$id"-*; do
		[ ! -e "$ns" ] || echo "$ns"
	done
	[ ! -e "/tmp/pvio-bench-sweep.$id" ] || echo "/tmp/pvio-bench-sweep.$id"
	grep -lsxz "PVIO_BENCH_NET_RUN=$id" /proc/[0-9]*/environ || true
	sed -n 's/^  pvio host \([0-9a-f]*\) .*/\1/p' "$tmp/$1.err" | while read -r host; do
		for ns in /run/netns/pvio-"$host"-*; do
			[ ! -e "$ns" ] || echo "$ns"
		done
	done
}

# png_size FILE: "WIDTHxHEIGHT" from the IHDR chunk of a PNG file, or
# "not a PNG" when its signature or first chunk is wrong.
png_size() {
	sig=$(od -An -tx1 -N8 "$1" | tr -d ' \n')
	ihdr=$(od -An -c -j12 -N4 "$1" | tr -d ' \n')
	if [ "$sig" != 89504e470d0a1a0a ] || [ "$ihdr" != IHDR ]; then
		echo "not a PNG"
		return
	fi
	w=$(od -An -tu1 -j16 -N4 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
	h=$(od -An -tu1 -j20 -N4 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
	echo "${w}x$h"
}

# The quick sweep, as `pvio demo` runs it.
out=$tmp/out
status=0
"$bench" sweep --quick --out "$out" >"$tmp/quick.out" 2>"$tmp/quick.err" ||
	status=$?
if [ "$status" -ne 0 ]; then
	cat "$tmp/quick.out" "$tmp/quick.err" >&2
	fail "pvio-bench sweep --quick exited $status"
fi
csv=$out/sweep.csv
[ "$(head -n1 "$csv")" = "path,size_bytes,metric,unit,median,low,high,runs" ] ||
	fail "sweep.csv header: $(head -n1 "$csv")"
[ "$(wc -l <"$csv")" -eq 21 ] || fail "sweep.csv: not 20 rows: $(cat "$csv")"
num='[0-9]+\.[0-9]+'
for path in native pvio; do
	for size in 1 64 1024 16384 65536; do
		for metric in latency:us bandwidth:Mbit/s; do
			row="$path,$size,${metric%%:*},${metric#*:}"
			line=$(grep -E "^$row,$num,$num,$num,2\$" "$csv") ||
				fail "sweep.csv: no row $row with numbers: $(cat "$csv")"
			echo "$line" | awk -F, '$5 > 0 && $6 <= $5 && $5 <= $7 { ok = 1 }
				END { exit !ok }' ||
				fail "sweep.csv: $line: not low <= median <= high, median > 0"
		done
	done
done
echo "ok: sweep.csv has every path, size and metric with numbers"
for plot in latency bandwidth; do
	size=$(png_size "$out/$plot.png")
	[ "$size" = 1024x640 ] || fail "$plot.png: $size, not a 1024x640 PNG"
done
if command -v file >/dev/null; then
	file "$out/latency.png" | grep -q "PNG image data, 1024 x 640" ||
		fail "file: $(file "$out/latency.png")"
fi
echo "ok: latency.png and bandwidth.png are 1024x640 PNG images"
sum=$tmp/quick.out
grep -qE '^ +size +\| +native +pvio +pvio/native +\| +native +pvio +pvio/native$' \
	"$sum" || fail "summary has no column heads: $(cat "$sum")"
for size in "1 B" "64 B" "1 KiB" "16 KiB" "64 KiB"; do
	grep -qE "^ +$size +\| +$num +$num +$num +\| +$num +$num +$num\$" "$sum" ||
		fail "summary has no figures for $size: $(cat "$sum")"
done
grep -qxF "results in $(cd "$out" && pwd): sweep.csv, latency.png, bandwidth.png (sweep.gp renders them)" \
	"$sum" || fail "summary does not say where the files are: $(cat "$sum")"
grep -qE '^sweep: (native|pvio) +64 KiB bandwidth run 2/2  point 40/40  elapsed [0-9]+:[0-9]{2}$' \
	"$tmp/quick.err" || fail "no progress line for the last point: $(cat "$tmp/quick.err")"
leftovers=$(left_behind quick)
[ -z "$leftovers" ] || fail "sweep --quick left: $leftovers"
echo "ok: sweep --quick: summary with figures, progress, nothing left behind"

# No gnuplot: the CSV all the same, a note, exit 0.
mkdir "$tmp/bin"
for tool in ip iperf3 sockperf; do
	ln -s "$(command -v "$tool")" "$tmp/bin/$tool"
done
status=0
PATH=$tmp/bin "$bench" sweep --paths native --sizes 1 --runs 1 --duration 1 \
	--out "$tmp/csvonly" >"$tmp/csvonly.out" 2>"$tmp/csvonly.err" || status=$?
[ "$status" -eq 0 ] || fail "sweep without gnuplot exited $status: $(cat "$tmp/csvonly.err")"
grep -qE "^native,1,bandwidth,Mbit/s,$num,$num,$num,1\$" "$tmp/csvonly/sweep.csv" ||
	fail "sweep without gnuplot wrote no CSV"
[ ! -e "$tmp/csvonly/latency.png" ] || fail "sweep without gnuplot made a plot"
grep -qF "no plots: gnuplot not found" "$tmp/csvonly.out" ||
	fail "sweep without gnuplot did not say so: $(cat "$tmp/csvonly.out")"
leftovers=$(left_behind csvonly)
[ -z "$leftovers" ] || fail "sweep without gnuplot left: $leftovers"
echo "ok: sweep without gnuplot writes the CSV, says so and exits 0"

# The emulated NICs, path plug-ins like the others, when they are built:
# their rows, and their ratios to native in the summary; both in one run
# (they share the pvio host, each pair on a subnet of its own). Their
# plots too: a path name with a '-' must not break gnuplot's datablocks.
top=${top_builddir:-.}
if [ -x "$top/ioemu/pvio-ioemu-dm" ] && [ -x "$top/ioemu/pvio-ioemu-nic" ]; then
	status=0
	"$bench" sweep --paths native,emu,emu-rtl8139 --sizes 1 --runs 1 \
		--duration 1 --out "$tmp/emu" >"$tmp/emu.out" 2>"$tmp/emu.err" ||
		status=$?
	[ "$status" -eq 0 ] || fail "sweep --paths native,emu,emu-rtl8139 exited $status: $(cat "$tmp/emu.err")"
	for path in emu emu-rtl8139; do
		for metric in latency:us bandwidth:Mbit/s; do
			grep -qE "^$path,1,${metric%%:*},${metric#*:},$num,$num,$num,1\$" \
				"$tmp/emu/sweep.csv" || fail "no $path $metric row: $(cat "$tmp/emu/sweep.csv")"
		done
	done
	grep -qE '^ +size +\| +native +emu +emu-rtl8139 +emu/native +emu-rtl8139/native +\|' "$tmp/emu.out" ||
		fail "summary without the emulated paths: $(cat "$tmp/emu.out")"
	for plot in latency bandwidth; do
		[ -s "$tmp/emu/$plot.png" ] || fail "no $plot.png with the emulated paths: $(cat "$tmp/emu.out")"
	done
	leftovers=$(left_behind emu)
	[ -z "$leftovers" ] || fail "sweep --paths native,emu,emu-rtl8139 left: $leftovers"
	echo "ok: sweep --paths native,emu,emu-rtl8139"
fi

# A path that cannot carry traffic (no backend): a clear failure, no
# results, nothing left.
status=0
PVIO_NETBACK=none PVIO_TIMEOUT=2 "$bench" sweep --paths native,pvio --sizes 1 \
	--runs 1 --duration 1 --out "$tmp/broken" >"$tmp/broken.out" \
	2>"$tmp/broken.err" || status=$?
[ "$status" -eq 1 ] || fail "sweep with no backend exited $status, not 1"
grep -q "^pvio-bench sweep: pvio path: no traffic between the guests: " \
	"$tmp/broken.err" || fail "sweep with no backend: $(cat "$tmp/broken.err")"
[ ! -e "$tmp/broken/sweep.csv" ] || fail "a failed sweep wrote a CSV"
leftovers=$(left_behind broken)
[ -z "$leftovers" ] || fail "failed sweep left: $leftovers"
echo "ok: sweep fails clearly with no backend and cleans up"

# Interrupted half-way (as Ctrl-C): exit 130, nothing left.
"$bench" sweep --paths native --runs 50 --duration 1 --out "$tmp/int" \
	>"$tmp/int.out" 2>"$tmp/int.err" &
sweep_pid=$!
i=0
until grep -qs "point 2/" "$tmp/int.err"; do
	i=$((i + 1))
	[ $i -lt 600 ] || fail "sweep made no progress in 60 s: $(cat "$tmp/int.err")"
	sleep 0.1
done
kill -INT "$sweep_pid"
status=0
wait "$sweep_pid" || status=$?
sweep_pid=
[ "$status" -eq 130 ] || fail "interrupted sweep exited $status, not 130"
leftovers=$(left_behind int)
[ -z "$leftovers" ] || fail "interrupted sweep left: $leftovers"
echo "ok: sweep interrupted cleans up"
echo "PASS: pvio-bench sweep"
