# The xenstore-compat scenario's dom0 part (sourced by tests/xen/dom0-init.sh,
# whose check, say, wait_for and create_guest it uses): the command script
# tests/xen/xenstore-script.sh against this dom0's oxenstored, its guest
# commands run in a real PV guest (no vif) by its agent
# (tests/xen/xenstore-agent.sh) through that guest's own connection. The
# normalised transcript must be tests/xen/xenstore-expected.txt, the one
# pvio-xenstored gives (tests/integration/xenstore-compat.sh, in make check),
# but for the differences docs/compatibility.md records as pvio's deliberate
# choices: tests/xen/xenstore-oxenstored.diff holds them, as `diff -u`
# prints them (from its third line: the file names and dates vary).
# The transcript goes to the console, each line "XSCOMPAT| ...", for
# tests/xen/run.sh to keep. make-overlays.sh installs these files in
# /usr/local/share/pvio-xen.
XSC_SHARE=/usr/local/share/pvio-xen

scenario_xenstore_compat() {
	if ! create_guest xenstore ''; then
		check "xl create (a guest with no vif)" false
		return
	fi
	say "guest domain $domid created, running the xenstore agent"
	local agent=/local/domain/$domid/agent
	check "agent directory $agent given to domain $domid" \
		sh -c "xenstore-write $agent '' && xenstore-chmod $agent n$domid" || return
	check "the guest's agent answers (it may still be booting)" \
		wait_for 300 xenstore-read $agent/ready || return
	local t0=$SECONDS
	# On the console as it goes: a slow step shows where it is.
	XSC_DOMID=$domid XSC_GUEST=agent XSC_TMP=/tmp sh $XSC_SHARE/xenstore-script.sh |
		tee /tmp/xenstore-oxenstored.txt | sed -u 's/^/XSCOMPAT| /'
	say "the script ran in $((SECONDS - t0)) s, $(wc -l </tmp/xenstore-oxenstored.txt) lines"
	diff -u $XSC_SHARE/xenstore-expected.txt /tmp/xenstore-oxenstored.txt |
		tail -n +3 >/tmp/xenstore.diff
	tail -n +3 $XSC_SHARE/xenstore-oxenstored.diff >/tmp/xenstore-accepted.diff
	if ! check "oxenstored's transcript is pvio-xenstored's but for the recorded differences" \
		cmp -s /tmp/xenstore-accepted.diff /tmp/xenstore.diff; then
		say "oxenstored against pvio-xenstored (xenstore-expected.txt), all differences:"
		sed 's/^/XSCOMPAT-DIFF| /' /tmp/xenstore.diff
	fi
	check "xl destroy" xl destroy domU
	check "no /local/domain/$domid left" wait_for 30 sh -c "! xenstore-exists /local/domain/$domid"
}
