#!/bin/sh
# The xenstore compatibility script: one sequence of xenstore-utils commands,
# some run as dom0 and some as a guest through that guest's own connection,
# whose transcript (each command, its output, its stderr and exit code) is
# printed normalised, so that the same script run against pvio-xenstored and
# against Xen's oxenstored gives the same text (tests/xen/xenstore-expected.txt).
#
#   XSC_DOMID=N XSC_GUEST=HOW tests/xen/xenstore-script.sh >transcript
#
# dom0's commands use the environment as it is (XENSTORED_PATH or
# libxenstore's default). HOW runs the guest's:
#   socket:PATH  with XENSTORED_PATH=PATH (pvio-xenstored's domain socket)
#   agent        through the guest's agent (tests/xen/xenstore-agent.sh, in a
#                real guest, over its /dev/xen/xenbus): each command is written
#                to /local/domain/N/agent/cmdK, its transcript read back from
#                agent/outK
# Before it runs, domain N exists as libxl leaves it: /local/domain/N with
# the permissions (n0,rN). XSC_TMP is a scratch directory (default /tmp),
# XSC_GUEST_TMP the agent's (default /tmp, the guest's); XSC_STEP_TIMEOUT
# bounds the wait for each of the agent's answers (seconds, default 60).
#
# Normalised: the guest's domain id (in paths and permission lists) reads G.
# Nothing else in the tools' output depends on the run (no generation
# counters or transaction ids reach it). Commands are printed as written,
# with $G for the guest's domain id.
# shellcheck disable=SC2016 # the commands are printed as written, $G and all
set -u
G=${XSC_DOMID:?XSC_DOMID: the guest domain id}
how=${XSC_GUEST:?XSC_GUEST: socket:PATH or agent}
tmp=${XSC_TMP:-/tmp}
guest_tmp=${XSC_GUEST_TMP:-/tmp}
step_timeout=${XSC_STEP_TIMEOUT:-60}
case $how in
socket:?* | agent) ;;
*)
	echo "xenstore-script.sh: XSC_GUEST='$how': want socket:PATH or agent" >&2
	exit 2
	;;
esac

# What every command runs with, dom0's and the guest's alike: G, T (the
# scratch directory where the command runs), and the background watchers.
# watch_start NAME PATH: xenstore-watch PATH in the background, once its
# first event (the one at registration) is in; watch_end NAME LAST: once
# LAST is among its events (every earlier one has arrived then: events keep
# their order), stops it and prints its events.
prelude() { # prelude SCRATCHDIR
	cat <<EOF
G=$G
T=$1
watch_start() {
	xenstore-watch "\$2" >"\$T/watch-\$1" 2>&1 </dev/null &
	echo \$! >"\$T/watch-\$1.pid"
	i=0
	until [ -s "\$T/watch-\$1" ]; do
		i=\$((i + 1))
		[ \$i -le 300 ] || { echo "no first event for \$2 in 30 s"; return 1; }
		sleep 0.1
	done
}
watch_end() {
	i=0
	until grep -qx "\$2" "\$T/watch-\$1"; do
		i=\$((i + 1))
		[ \$i -le 300 ] || { echo "(no event for \$2 in 30 s)"; break; }
		sleep 0.1
	done
	kill "\$(cat "\$T/watch-\$1.pid")"
	cat "\$T/watch-\$1"
	rm -f "\$T/watch-\$1" "\$T/watch-\$1.pid"
}
EOF
}

# body SCRATCHDIR COMMAND: the shell text that runs COMMAND and prints its
# stdout, its stderr (each line "stderr: ...") and "rc=N".
body() {
	prelude "$1"
	cat <<EOF
{
$2
} >"\$T/out" 2>"\$T/err" </dev/null
rc=\$?
awk 1 "\$T/out"
sed 's/^/stderr: /' "\$T/err"
echo rc=\$rc
EOF
}

normalise() {
	sed -e "s#/local/domain/$G\\b#/local/domain/G#g" \
		-e "s/\\([(,]\\)\\([nrwb]\\)$G\\b/\\1\\2G/g"
}

agent_step=0
agent_run() { # agent_run TEXT: TEXT run by the guest's agent, its output
	agent_step=$((agent_step + 1))
	local_dir=/local/domain/$G/agent
	if ! xenstore-write -R "$local_dir/cmd$agent_step" "$1"; then
		echo "(could not hand $local_dir/cmd$agent_step to the agent)"
		return
	fi
	waited=0
	until answer=$(xenstore-read -R "$local_dir/out$agent_step" 2>/dev/null); do
		waited=$((waited + 1))
		if [ $waited -gt $((step_timeout * 10)) ]; then
			echo "(no answer from the guest's agent in $step_timeout s)"
			return
		fi
		sleep 0.1
	done
	printf '%s\n' "$answer"
	xenstore-rm "$local_dir/cmd$agent_step" "$local_dir/out$agent_step"
}

dom0() { # dom0 COMMAND
	printf '$ dom0: %s\n' "$1"
	sh -c "$(body "$tmp" "$1")" | normalise
}
guest() { # guest COMMAND: through the guest's own connection
	printf '$ guest: %s\n' "$1"
	# Not in a pipeline: agent_run counts its steps in this shell.
	case $how in
	socket:*) XENSTORED_PATH=${how#socket:} sh -c "$(body "$tmp" "$1")" >"$tmp/guest-step" ;;
	agent) agent_run "$(body "$guest_tmp" "$1")" >"$tmp/guest-step" ;;
	esac
	normalise <"$tmp/guest-step"
}
section() { printf '\n== %s\n' "$1"; }

echo "# xenstore compatibility transcript (tests/xen/xenstore-script.sh)"

section "dom0: write, read, list, ls, exists"
dom0 'xenstore-write /xsc/a 1 /xsc/b/c "two words" /xsc/empty ""'
dom0 'xenstore-read /xsc/a /xsc/b/c /xsc/empty'
dom0 'xenstore-read -p /xsc/a'
dom0 'xenstore-list /xsc'
dom0 'xenstore-list -p /xsc/b'
dom0 'xenstore-ls /xsc'
dom0 'xenstore-ls -f /xsc'
dom0 'xenstore-exists /xsc/b'
dom0 'xenstore-exists /xsc/nope'
dom0 'xenstore-read /xsc/nope'
dom0 'xenstore-list /xsc/nope'
dom0 'xenstore-ls /xsc/nope'
dom0 'xenstore-write /xsc/esc "a\tb\\\\c\001d"'
dom0 'xenstore-read /xsc/esc'
dom0 'xenstore-read -R /xsc/esc | od -An -c'
dom0 'xenstore-write /xsc/big "$(printf "%4000s" "")"'
dom0 'xenstore-read /xsc/big | wc -c'
dom0 'xenstore-rm /xsc/big'
dom0 'xenstore-write "/xsc/bad path" 1'
dom0 'xenstore-ls /xsc//a'
dom0 'xenstore-ls /xsc/a/'
dom0 'xenstore-write /xsc/a/ 1'

section "dom0: rm"
dom0 'xenstore-rm /xsc/b'
dom0 'xenstore-exists /xsc/b/c'
dom0 'xenstore-rm /xsc/b'
dom0 'xenstore-rm /xsc/nope/deeper'
dom0 'xenstore-write /xsc/t/u/v 1'
dom0 'xenstore-rm -t /xsc/t/u/v'
dom0 'xenstore-exists /xsc/t'

section "dom0: transactions (a tool's command with several paths is one)"
dom0 'xenstore-write /xsc/tx/a 1 "/xsc/tx/bad path" 2'
dom0 'xenstore-exists /xsc/tx/a'
dom0 'xenstore-write /xsc/r1 1 /xsc/r2 2'
dom0 'xenstore-rm /xsc/r1 /xsc/nope/x'
dom0 'xenstore-read /xsc/r1 /xsc/r2'
dom0 'xenstore-read /xsc/r1 /xsc/nope /xsc/r2'
dom0 'xenstore-rm /xsc/r1 /xsc/r2'
dom0 'xenstore-list /xsc'

section "dom0: permissions"
dom0 'xenstore-ls -f -p /xsc'
dom0 'xenstore-write /xsc/p/rw 1 /xsc/p/ro 2 /xsc/p/none 3 /xsc/p/wo 4 /xsc/p/own 5 /xsc/p/unknown 6'
dom0 'xenstore-chmod /xsc/p n0 r$G'
dom0 'xenstore-chmod /xsc/p/rw n0 b$G'
dom0 'xenstore-chmod /xsc/p/ro n0 r$G'
dom0 'xenstore-chmod /xsc/p/wo n0 w$G'
dom0 'xenstore-chmod /xsc/p/own n$G'
dom0 'xenstore-chmod /xsc/p/unknown n0 r4000'
dom0 'xenstore-write /xsc/rec/x/y 1'
dom0 'xenstore-chmod -r /xsc/rec n0 r$G'
dom0 'xenstore-write /xsc/up/x/y 1'
dom0 'xenstore-chmod -u /xsc/up/x/y n0 r$G'
dom0 'xenstore-chmod /xsc n0'
dom0 'xenstore-ls -f -p /xsc'
dom0 'xenstore-chmod /xsc/nope n0'

section "guest: its own home (relative paths)"
dom0 'xenstore-write /local/domain/$G/xsc ""'
dom0 'xenstore-chmod /local/domain/$G/xsc n$G'
guest 'xenstore-write xsc/mine 1 xsc/sub/leaf 2'
guest 'xenstore-read xsc/mine xsc/sub/leaf'
guest 'xenstore-list xsc'
guest 'xenstore-ls -p xsc'
dom0 'xenstore-ls -f -p /local/domain/$G/xsc'
guest 'xenstore-chmod xsc/mine n$G r0'
guest 'xenstore-chmod xsc/mine n0'
guest 'xenstore-read xsc/nope'
guest 'xenstore-ls xsc/nope'
guest 'xenstore-write xsc/big "$(printf "%3000s" "")"'
guest 'xenstore-exists xsc/big'
guest 'xenstore-rm xsc/sub'
dom0 'xenstore-write /local/domain/$G/xsc/secret s'
dom0 'xenstore-chmod /local/domain/$G/xsc/secret n0'
guest 'xenstore-ls xsc'
guest 'xenstore-ls -p xsc'
guest 'xenstore-rm xsc/secret'
dom0 'xenstore-exists /local/domain/$G/xsc/secret'

section "guest: dom0's nodes"
guest 'xenstore-read /xsc/p/rw /xsc/p/ro'
guest 'xenstore-read /xsc/p/none'
guest 'xenstore-read /xsc/p/wo'
guest 'xenstore-read /xsc/p/unknown'
guest 'xenstore-exists /xsc/p/ro'
guest 'xenstore-exists /xsc/p/none'
guest 'xenstore-list /xsc/p'
guest 'xenstore-ls -f /xsc/p'
guest 'xenstore-ls -f -p /xsc/p'
guest 'xenstore-ls /xsc/p/none'
guest 'xenstore-ls /xsc/p/missing'
guest 'xenstore-ls /xsc/missing'
guest 'xenstore-ls /local/domain/0/missing'
guest 'xenstore-ls /xsc'
guest 'xenstore-write /xsc/p/rw x'
guest 'xenstore-write /xsc/p/ro x'
guest 'xenstore-write /xsc/p/wo x'
guest 'xenstore-write /xsc/p/new x'
guest 'xenstore-write /xsc/p/rw/child x'
guest 'xenstore-write /local/domain/0/xsc x'
dom0 'xenstore-ls -f -p /xsc/p'
guest 'xenstore-chmod /xsc/p/rw n0 r$G'
guest 'xenstore-chmod /xsc/p/own n$G r0'
guest 'xenstore-chmod /xsc/p/ro n$G'
guest 'xenstore-chmod -r /xsc/p n$G'
guest 'xenstore-rm /xsc/p/ro'
guest 'xenstore-rm /xsc/p/wo'
guest 'xenstore-rm /xsc/p/missing'
guest 'xenstore-rm /xsc/missing/x'
dom0 'xenstore-ls -f -p /xsc/p'

section "guest: transactions"
guest 'xenstore-write /xsc/p/rw y /xsc/p/ro z'
guest 'xenstore-read /xsc/p/rw /xsc/p/ro'
guest 'xenstore-rm xsc/mine /xsc/p/ro'
guest 'xenstore-exists xsc/mine'
guest 'xenstore-read xsc/mine /xsc/p/none'

section "dom0: watches"
dom0 'watch_start d1 /xsc/w'
dom0 'watch_start d2 /xsc/w/x/y'
dom0 'watch_start d3 /xsc/w/x/ghost'
dom0 'xenstore-write /xsc/w/x/y 1'
dom0 'xenstore-write /xsc/w/x/y 1'
dom0 'xenstore-chmod /xsc/w/x n0 r$G'
dom0 'xenstore-rm /xsc/w'
dom0 'xenstore-write /xsc/w/x/ghost end'
dom0 'xenstore-write /xsc/w/x/y end'
dom0 'watch_end d1 /xsc/w/x/y'
dom0 'watch_end d2 /xsc/w/x/y'
dom0 'watch_end d3 /xsc/w/x/ghost'

section "guest: watches"
dom0 'xenstore-write /xsc/gw ""'
guest 'watch_start g1 /xsc/gw'
guest 'watch_start g2 xsc'
dom0 'xenstore-write /xsc/gw/secret 1'
dom0 'xenstore-write /xsc/gw/open 1'
dom0 'xenstore-chmod /xsc/gw/open n0 r$G'
dom0 'xenstore-write /xsc/gw/open 2'
dom0 'xenstore-rm /xsc/gw/secret'
dom0 'xenstore-write /xsc/gw/end 1'
dom0 'xenstore-chmod /xsc/gw/end n0 r$G'
dom0 'xenstore-write /local/domain/$G/xsc/fromdom0 1'
dom0 'xenstore-write /local/domain/$G/xsc/hidden 1'
dom0 'xenstore-chmod /local/domain/$G/xsc/hidden n0'
guest 'xenstore-write xsc/own 1'
dom0 'xenstore-rm /local/domain/$G/xsc/own'
guest 'xenstore-write xsc/end 1'
guest 'watch_end g1 /xsc/gw/end'
guest 'watch_end g2 xsc/end'

section "cleanup"
dom0 'xenstore-rm /xsc /local/domain/$G/xsc'
dom0 'xenstore-exists /xsc'
