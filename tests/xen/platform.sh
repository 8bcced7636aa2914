# The scenario `platform` of the dom0 init (sourced by dom0-init.sh, which
# provides say, check, wait_for, create_guest and $domid): the xen
# platform's own unit tests, tests/xen/test_platform_xen.c, against the
# real hypervisor: in dom0 alone (granting to and binding to itself), in
# the guest alone (tests/xen/domu-init.sh, pvio_domu=platform), then
# across the two, the guest sharing and allocating, dom0 mapping, copying
# and binding; the two sides meet in the guest's
# /local/domain/DOMID/data/pvio-platform.
PLATFORM_TEST=/usr/local/bin/test_platform_xen

platform_run() { # platform_run ARGS...: one run, its output on the console
	"$PLATFORM_TEST" "$@" 2>&1 | sed -u 's/^/PLATFORM: /'
	return "${PIPESTATUS[0]}"
}

platform_scenario() {
	local dir
	for m in xen-evtchn xen-gntdev xen-gntalloc; do modprobe $m; done
	check "test_platform_xen: dom0 alone" platform_run local
	if ! create_guest platform ""; then
		check "xl create (a guest without a vif)" false
		return
	fi
	say "guest domain $domid created for the platform tests"
	dir=/local/domain/$domid/data/pvio-platform
	# The guest boots and runs its one-domain half first.
	if check "the guest ran its one-domain tests" wait_for 900 xenstore-read $dir/local-result; then
		check "test_platform_xen: the guest alone" test "$(xenstore-read $dir/local-result)" = PASS
		check "test_platform_xen: dom0 against the guest's grants and ports" platform_run dom0 "$domid"
		check "the guest finished its half" wait_for 300 xenstore-read $dir/result &&
			check "test_platform_xen: the guest's half" test "$(xenstore-read $dir/result)" = PASS
	fi
	echo "----- guest console (the guest's test output) -----"
	grep -a "DOMU" /var/log/xen/console/guest-domU.log 2>/dev/null | tail -300
	check "xl destroy" xl destroy domU
}
