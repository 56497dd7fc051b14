#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The downtime probes against a known truth. The test VMM blacks its guest
# out for X ms (`blackout X`: its vCPUs all out of guest mode, as measured
# by the VMM itself) while `shmctl downtime` watches: its vCPU blackout must
# match X's measured pause, and the gap in the guest's beacon (a datagram a
# millisecond while the guest makes progress) must match it too.
#
#   netns shm-dt-PID: dev v0 10.217.0.1 ── v1 (its peer, down the wire)
#   shm-testvmm, beacon from 10.217.0.100 to 10.217.0.254 (static neighbour)
#   shmctl downtime --pid VMM --ip 10.217.0.100 --dev v0
set -u
. "$(dirname "$0")/lib.sh"

vmm=$SHM_REPO/build/tests/vmm/shm-testvmm
[[ -c /dev/kvm ]] || skip_all "no /dev/kvm"

dir=$(mktemp -d)
ns=shm-dt-$$
cleanup() {
	pkill -KILL -f "$dir/" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
on() { ip netns exec "$ns" "$@"; }

ip netns add "$ns" && on ip link set lo up &&
	on ip link add v0 type veth peer name v1 &&
	on ip addr add 10.217.0.1/24 dev v0 &&
	on ip link set v0 up && on ip link set v1 up &&
	on ip neigh add 10.217.0.254 lladdr 02:00:00:00:00:fe dev v0 nud permanent ||
	{ echo "Bail out! cannot make the network"; exit 1; }

on "$vmm" run --ctl "$dir/vm.sock" --ram 16M --workload seq --rate 4000 \
	--beacon-from 10.217.0.100 --beacon-to 10.217.0.254:9 \
	>"$dir/vm.log" 2>&1 &
pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$("$vmm" ctl "$dir/vm.sock" info)")
[[ -n $pid ]] || { diag <"$dir/vm.log"; echo "Bail out! no VM"; exit 1; }

# The longest gap of KIND the probe saw overlap the VMM's pause, in us:
# under emulation, vCPUs also sit out of guest mode for a few ms now and
# then, which must not be taken for the blackout.
gap_over() { # KIND JSON
	jq -r --arg k "$1" --argjson s "${start:-0}" --argjson e "${end:-0}" \
		'[.long_gaps[] | select(.kind == $k and .start_ns < $e and
		  .end_ns > $s) | .us] | max // 0' "$2"
}

# Probes one blackout of MS ms; leaves the truth and both figures, in us.
probe_blackout() { # MS
	local out=$dir/probe-$1.json
	ip netns exec "$ns" "$SHMCTL" downtime --pid "$pid" --ip 10.217.0.100 \
		--dev v0 --json >"$out" 2>"$dir/probe.err" &
	local probe=$!
	for _ in $(seq 100); do
		grep -q probing "$dir/probe.err" && break
		kill -0 "$probe" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q probing "$dir/probe.err"; then
		diag <"$dir/probe.err"
		echo "Bail out! shmctl downtime did not start"
		exit 1
	fi
	sleep 0.5
	reply=$(timeout 30 "$vmm" ctl "$dir/vm.sock" blackout "$1")
	truth=$(sed -n 's/.*paused_us=\([0-9]*\).*/\1/p' <<<"$reply")
	start=$(sed -n 's/.*start_ns=\([0-9]*\).*/\1/p' <<<"$reply")
	end=$(sed -n 's/.*end_ns=\([0-9]*\).*/\1/p' <<<"$reply")
	[[ -n $truth ]] || { dump_processes 'shmctl|shm-testvmm'; diag <"$dir/vm.log"; }
	sleep 0.5
	kill -TERM "$probe"
	timeout 10 tail --pid="$probe" -f /dev/null || dump_processes shmctl
	wait "$probe"
	blackout=$(gap_over vcpus "$out")
	gap=$(gap_over packets "$out")
	diag "blackout $1 ms: the VMM measured ${truth} us; the probes ${blackout} us (vCPUs), ${gap} us (packets)"
}

# Within TOL us plus PCT percent of the truth, and never below it. The
# VMM's truth runs from "all vCPUs out" to "resume asked": the real
# blackout also holds the kick before and the vCPU threads' wake-up after,
# a few ms under emulation. The packets' tolerance is wider by the
# beacon's own period: a datagram per 1 ms tick of progress, which
# emulation stretches to about 4 ms.
near() { # VALUE TRUTH TOL PCT
	(($1 >= $2 && $1 <= $2 + $3 + $2 * $4 / 100))
}

# Up to three tries each: the emulated host sometimes deschedules a vCPU
# thread for 10 ms or more between KVM and user space, which is real
# blackout but not the VMM's truth.
for ms in 5 20 100 500 2000; do
	for try in 1 2 3; do
		start= end=
		probe_blackout $ms
		near "$blackout" "$truth" 5000 2 &&
			near "$gap" "$truth" 10000 2 && break
	done
	check "vCPU blackout of $ms ms: within 5 ms + 2%" near "$blackout" "$truth" 5000 2
	check "packet gap of $ms ms: within 10 ms + 2%" near "$gap" "$truth" 10000 2
done
"$vmm" ctl "$dir/vm.sock" quit >/dev/null
finish
