#!/bin/sh
# The guest's half of the real-Xen xenstore-compat scenario: the guest's
# /init (tests/xen/domu-init.sh, pvio_domu=xenstore) runs it in place of a
# netfront. It runs the shell text dom0 writes to agent/cmd1, cmd2, ... (in
# its home, /local/domain/N/agent, which dom0 creates and gives to this
# domain) and writes what it printed to agent/out1, out2, ...: so dom0's
# tests/xen/xenstore-script.sh runs its guest commands here, with this
# guest's xenstore-utils over /dev/xen/xenbus, through the real xenstored's
# connection for this domain. Every wait is bounded; once idle for 30
# minutes it stops, and /init then sleeps.
step=1
tries=0
# agent/ready says the agent runs; dom0 makes agent/ writable for it first.
until xenstore-write agent/ready 1 2>/dev/null; do
	tries=$((tries + 1))
	[ $tries -le 3000 ] || {
		echo "DOMU: xenstore agent: agent/ never became writable"
		exit 1
	}
	sleep 0.2
done
echo "DOMU: xenstore agent ready (uptime $(cut -d' ' -f1 /proc/uptime))"
idle=0
while [ $idle -le 9000 ]; do
	if text=$(xenstore-read -R agent/cmd$step 2>/dev/null); then
		out=$(sh -c "$text" 2>&1)
		xenstore-write -R agent/out$step "$out" ||
			xenstore-write agent/out$step "(the agent could not write the ${#out} bytes of answer $step)"
		step=$((step + 1))
		idle=0
	else
		idle=$((idle + 1))
		sleep 0.2
	fi
done
echo "DOMU: xenstore agent idle for 30 minutes, stopped after $((step - 1)) commands"
