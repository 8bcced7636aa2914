#!/bin/sh
# The emulated NICs (type=ioemu) end to end: guests whose e1000 or
# RTL8139 is driven at register level through the ioreq page by
# pvio-ioemu-nic and emulated by pvio-ioemu-dm in dom0. Two emulated
# guests, one of each model, ping each other (IPv4 and IPv6 link-local)
# and move a file each way with its SHA-256 intact; a PV
# guest and an emulated one talk across the bridge; a driver that writes
# nonsense and points descriptors outside its memory gets the datasheet's
# answers and leaves the device model whole; a device model killed takes
# only its own NIC down; detach and destroy leave no process, TAP,
# xenstore node or shared-memory file. Needs root.
set -eu
net_name=ioemu
# shellcheck source=tests/integration/net_lib.sh
. "${srcdir:-.}/tests/integration/net_lib.sh"
unset PVIO_IOEMU_DM PVIO_IOEMU_NIC
for prog in ioemu/pvio-ioemu-dm ioemu/pvio-ioemu-nic; do
	[ -x "$top/$prog" ] || fail "$top/$prog is not built"
done

dm_dir() { echo "/local/domain/0/device-model/$1/vif/$2"; }     # DOMID DEVID
guest_dir() { echo "/local/domain/$1/device/ioemu/$2"; }        # DOMID DEVID
emu_state() { xs xenstore-read "$(guest_dir "$1" "$2")/state" 2>/dev/null; }
emu_connected() { [ "$(emu_state "$1" "$2")" = 4 ]; }
pidfile_pid() { cat "$run/ioemu/$1-$2.$3.pid" 2>/dev/null; } # dm|nic DOMID DEVID
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
# Exited (a zombie whose reaper has not come by counts as exited).
gone() {
	! alive "$1" || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# Attaches an emulated NIC to guest NAME (extra keys as network-attach
# takes them); waits until the guest's driver is Connected and eth<devid>
# up. Sets domid and devid.
emu_attach() {
	name=$1
	shift
	pv network-attach "$name" type=ioemu "$@" >"$tmp/attach.out" 2>&1 ||
		fail "network-attach $name type=ioemu $*: $(cat "$tmp/attach.out")"
	domid=$(domid_of "$name")
	devid=$(xs xenstore-list "/local/domain/$domid/device/ioemu" | tail -n 1)
	wait_for emu_connected "$domid" "$devid" ||
		fail "emulated NIC $domid.$devid not Connected (guest state $(emu_state "$domid" "$devid"))"
	wait_for eth_up "$name" "$devid" || fail "no eth$devid up in $name"
}

# Nothing of emulated NIC DOMID.DEVID is left.
emu_gone() {
	! dom0 ip link show dev "vif$1.$2-emu" >/dev/null 2>&1 &&
		! xs xenstore-read "$(dm_dir "$1" "$2")/state" >/dev/null 2>&1 &&
		! xs xenstore-read "$(guest_dir "$1" "$2")/state" >/dev/null 2>&1 &&
		[ ! -e "$run/dom$1/ioemu-$2-ioreq" ] &&
		[ ! -e "$run/dom$1/ioemu-$2-ram" ] &&
		[ ! -e "$run/ioemu/vif$1.$2-emu.stats" ] &&
		[ ! -e "$run/ioemu/dm-$1.$2.pid" ] &&
		[ ! -e "$run/ioemu/nic-$1.$2.pid" ]
}

emu_stat() { # DOMID DEVID tx_bytes|rx_bytes|traps|absorbed
	pv network-stats "$1" "$2" >"$tmp/stats.out" 2>&1 ||
		fail "network-stats $1 $2: $(cat "$tmp/stats.out")"
	awk -v k="$3" '
		/^ *tx \(guest to bridge\):/ { v["tx_bytes"] = $7 }
		/^ *rx \(bridge to guest\):/ { v["rx_bytes"] = $7 }
		/^ *traps/ { v["traps"] = $NF }
		/^ *absorbed/ { v["absorbed"] = $4 + $7 + $11 + $15 + $19 }
		END { print v[k] + 0 }' "$tmp/stats.out"
}

echo "== host, two emulated guests and a PV one"
net_start
guest_new alpha
guest_new beta
guest_new gamma
emu_attach alpha model=e1000
a=$domid
# No model=: xl's default for an emulated NIC, the RTL8139.
emu_attach beta mac=00:16:3e:00:00:02
b=$domid
vif_attach gamma
g=$domid
guest_addr alpha 0 0 1
guest_addr beta 0 0 2
guest_addr gamma 0 0 3

echo "== the layout: device model directory, TAP on the bridge, MAC from the EEPROM"
[ "$(xs xenstore-read "$(dm_dir "$a" 0)/model")" = e1000 ] || fail "no model in $(dm_dir "$a" 0)"
[ "$(xs xenstore-read "$(dm_dir "$b" 0)/model")" = rtl8139 ] || fail "the default model is not rtl8139"
[ "$(xs xenstore-read "$(dm_dir "$b" 0)/ifname")" = "vif$b.0-emu" ] || fail "ifname"
dom0 ip -o link show dev "vif$a.0-emu" | grep -q "master xenbr0" ||
	fail "vif$a.0-emu not on xenbr0: $(dom0 ip -o link show dev "vif$a.0-emu" 2>&1)"
# The guest's driver read the MAC out of the emulated EEPROM (bit-banged
# through the RTL8139's 9346CR).
gx beta ip -o link show dev eth0 | grep -q "link/ether 00:16:3e:00:00:02" ||
	fail "beta's eth0 lacks the EEPROM's MAC: $(gx beta ip -o link show dev eth0)"
pv network-list beta >"$tmp/list.out" || fail "network-list beta"
grep -q "00:16:3e:00:00:02 .*/local/domain/0/device-model/$b/vif/0" "$tmp/list.out" ||
	fail "network-list beta: $(cat "$tmp/list.out")"
echo "== ping between the emulated guests, IPv4 and IPv6"
ping_must alpha 169.254.0.2
ping_must beta 169.254.0.1
ping_must alpha fe80::0:2%eth0 -6
ping_must beta 169.254.0.1 -s 1400

echo "== PV and emulated across the bridge"
ping_must gamma 169.254.0.1
ping_must alpha 169.254.0.3
iperf_pair gamma alpha 169.254.0.1 5201 1
echo "tcp gamma (PV) -> alpha (e1000): $iperf_bytes bytes"

echo "== a 4 MiB file each way between e1000 and rtl8139, same SHA-256"
tcp_file alpha beta 169.254.0.2 5300 4194304
tcp_file beta alpha 169.254.0.1 5300 4194304
tx=$(emu_stat "$a" 0 tx_bytes)
rx=$(emu_stat "$b" 0 rx_bytes)
[ "$tx" -ge 4194304 ] || fail "vif$a.0-emu tx_bytes $tx: less than the file"
[ "$rx" -ge 4194304 ] || fail "vif$b.0-emu rx_bytes $rx: less than the file"
[ "$(emu_stat "$b" 0 tx_bytes)" -ge 4194304 ] || fail "vif$b.0-emu tx_bytes: less than the file"
[ "$(emu_stat "$a" 0 traps)" -gt 0 ] || fail "no traps counted"
[ "$(emu_stat "$a" 0 absorbed)" = 0 ] || fail "alpha's driver made errors: $(cat "$tmp/stats.out")"
[ "$(emu_stat "$b" 0 absorbed)" = 0 ] || fail "beta's driver made errors: $(cat "$tmp/stats.out")"

echo "== a hostile driver: nonsense registers, rings and buffers outside its memory"
guest_new delta
cat >"$tmp/hostile-nic" <<EOS
#!/bin/sh
exec "$top/ioemu/pvio-ioemu-nic" --hostile "\$@"
EOS
chmod +x "$tmp/hostile-nic"
guest_new epsilon
PVIO_IOEMU_NIC=$tmp/hostile-nic emu_attach delta model=e1000
d=$domid
PVIO_IOEMU_NIC=$tmp/hostile-nic emu_attach epsilon model=rtl8139
e=$domid
for dom in "$d" "$e"; do
	log=$run/domain-$dom-ioemu-0.log
	grep -q "hostile: [0-9]* checks, 0 answers off the datasheet" "$log" ||
		fail "the hostile driver's checks (domain $dom): $(cat "$log")"
	alive "$(pidfile_pid dm "$dom" 0)" || fail "the device model of domain $dom died"
	[ "$(emu_stat "$dom" 0 absorbed)" -gt 0 ] || fail "nothing absorbed: $(cat "$tmp/stats.out")"
done
# After their resets the same device models serve them normally.
guest_addr delta 0 0 4
guest_addr epsilon 0 0 5
ping_must delta 169.254.0.1
ping_must epsilon 169.254.0.2

echo "== a device model that dies takes only its own NIC"
dm=$(pidfile_pid dm "$b" 0)
alive "$dm" || fail "no device model for beta"
kill -9 "$dm"
wait_for eth_gone beta 0 || fail "beta's eth0 outlived its device model"
nic=$(pidfile_pid nic "$b" 0)
wait_for gone "$nic" || fail "beta's driver outlived its device model"
grep -q "the NIC is gone" "$run/domain-$b-ioemu-0.log" ||
	fail "beta's driver did not say why it stopped: $(cat "$run/domain-$b-ioemu-0.log")"
ping_must alpha 169.254.0.3
ping_must gamma 169.254.0.4
pv network-detach beta 0 >"$tmp/detach.out" 2>&1 || fail "detach beta: $(cat "$tmp/detach.out")"
wait_for emu_gone "$b" 0 || fail "beta's emulated NIC left something"

echo "== detach by MAC cleans up"
adm=$(pidfile_pid dm "$a" 0)
anic=$(pidfile_pid nic "$a" 0)
mac=$(xs xenstore-read "$(dm_dir "$a" 0)/mac")
pv network-detach alpha "$mac" >"$tmp/detach.out" 2>&1 || fail "detach alpha $mac: $(cat "$tmp/detach.out")"
emu_gone "$a" 0 || fail "alpha's emulated NIC left something"
wait_for gone "$adm" || fail "alpha's device model survived detach"
wait_for gone "$anic" || fail "alpha's driver survived detach"
eth_gone alpha 0 || fail "alpha's eth0 survived detach"

echo "== destroy takes delta's emulated NIC with it"
ddm=$(pidfile_pid dm "$d" 0)
pv destroy delta >"$tmp/destroy.out" 2>&1 || fail "destroy delta: $(cat "$tmp/destroy.out")"
emu_gone "$d" 0 || fail "delta's emulated NIC left something"
wait_for gone "$ddm" || fail "delta's device model survived destroy"
xs xenstore-read "/local/domain/0/device-model/$d" >/dev/null 2>&1 &&
	fail "/local/domain/0/device-model/$d left"

net_finish
