# Shared by the integration tests that run private pvio hosts: sourced, not
# run. What removing a host takes, and the waits and failure reports the
# tests have in common.
# shellcheck shell=sh

# The id of the host under run directory $1 ("" before host start): every
# namespace it makes is named pvio-<id>-*.
host_id() { sed -n 's/^id=//p' "$1/host" 2>/dev/null || true; }

# Stops the host under run directory $1 with the pvio CLI $2, then removes
# what a failed stop left: the host's namespaces and the processes in them.
# Never fails, so that a cleanup trap runs to its end.
host_remove() {
	hr_id=$(host_id "$1")
	PVIO_RUNDIR=$1 "$2" host stop >/dev/null 2>&1 || true
	[ -n "$hr_id" ] || return 0
	for hr_ns in $(ip netns list | awk '{print $1}' | grep "^pvio-$hr_id-"); do
		for hr_p in $(ip netns pids "$hr_ns"); do
			kill -9 "$hr_p" 2>/dev/null || true
		done
		ip netns delete "$hr_ns" 2>/dev/null || true
	done
	return 0
}

# Waits until the command succeeds: at most WAIT_TRIES times 50 ms (default
# 200, about 10 s; a bound, not a timing check).
wait_for() {
	wf_i=0
	until "$@"; do
		wf_i=$((wf_i + 1))
		[ $wf_i -lt "${WAIT_TRIES:-200}" ] || return 1
		sleep 0.05
	done
}

# Reports FAIL: $1 with every file named after it (the host's logs), each
# line prefixed by its file's name, and exits 1.
fail_with_logs() {
	echo "FAIL: $1" >&2
	shift
	for fl_f in "$@"; do
		[ -f "$fl_f" ] && sed "s|^|$(basename "$fl_f"): |" "$fl_f" >&2
	done
	exit 1
}
