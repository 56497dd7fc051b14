#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Real QEMU/KVM guests moved with shmctl (driver qemu) between the two
# hosts of tests/qemu.sh: a Linux guest rewriting memory, reading its disk
# (shared storage: the image is one file both hosts see) and echoing an
# observer's long-lived TCP connection, so that QEMU's device emulation
# writes guest RAM all through pre-copy.
#
#   migrate A -> B     memory equal at the pause (--verify), the guest's
#                      self-check passes there, same IP, the connection
#                      lives, the probe reports the gaps, A is left clean
#   migrate B -> A     back, under heavy dirtying
#   cancelled          Ctrl-C mid-way: the guest runs on at A, reachable,
#                      and B has no VM, session or file left
#   destination killed its QEMU SIGKILLed mid-way: the same
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/qemu.sh"

why=$(qemu_missing)
[[ -z $why ]] || skip_all "$why"

dir=$(mktemp -d)
name=g$$
serve_pids=()
cleanup() {
	[[ -n $guest_echo_pid ]] && kill "$guest_echo_pid" 2>/dev/null
	kill "${serve_pids[@]}" 2>/dev/null
	wait 2>/dev/null
	qemu_guest_stop "$name" "$dir"
	pkill -KILL -f "qemu-system-x86_64 -name $name " 2>/dev/null
	qemu_net_down
	rm -rf "$dir" "/dev/shm/shm-$name.ram"
}
trap cleanup EXIT

bail() {
	echo "Bail out! $*"
	exit 1
}

on_a() { ip netns exec "$qemu_net-a" "$@"; }
on_b() { ip netns exec "$qemu_net-b" "$@"; }

qemu_net_up "shm-q$$" || bail "cannot make the network"
head -c 32 /dev/urandom >"$dir/key" && chmod 600 "$dir/key"

# shmctl serve on host NS (a or b), its QEMUs' files in $dir/run-NS.
start_serve() { # NS ADDR
	ip netns exec "$qemu_net-$1" "$SHMCTL" serve --listen "$2" \
		--key "$dir/key" --rundir "$dir/run-$1" >"$dir/serve-$1.log" 2>&1 &
	serve_pids+=($!)
	for _ in $(seq 100); do
		grep -q "serving migrations" "$dir/serve-$1.log" && return
		sleep 0.1
	done
	diag <"$dir/serve-$1.log"
	bail "shmctl serve did not start on $1"
}

# The QMP socket of the guest's QEMU on host NS, wherever it was started.
qmp_on() { # NS
	if [[ $1 == a && -S $dir/$name.qmp ]]; then
		echo "$dir/$name.qmp"
	else
		ls "$dir/run-$1"/qemu-"$name"-*/qmp 2>/dev/null | head -n1
	fi
}

# Whether a QEMU of our guest runs in netns NS.
qemu_in() { # NS
	local pid
	for pid in $(pgrep -f "qemu-system-x86_64 -name $name "); do
		[[ $(ip netns identify "$pid") == "$qemu_net-$1" ]] && return 0
	done
	return 1
}

# Nothing of a migration left on host NS: no QEMU of ours, no run
# directory, no session.
clean_on() { # NS
	! qemu_in "$1" && [[ -z $(ls -A "$dir/run-$1" 2>/dev/null) ]] &&
		[[ -z $(ip netns exec "$qemu_net-$1" "$SHMCTL" status 2>&1 |
			grep -v "no migrations") ]]
}

guest_ok() { # [what]
	local answer
	answer=$(guest_ctl check)
	diag "guest check${1:+ ($1)}: $answer"
	[[ $answer == ok* ]]
}

# A migration from host FROM to host TO's address; its output in OUT.
migrate() { # FROM TO_ADDR OUT [OPTIONS]
	local from=$1 to=$2 out=$3
	shift 3
	timeout -k 5 240 ip netns exec "$qemu_net-$from" "$SHMCTL" migrate \
		"qemu:$(qmp_on "$from")" --to "$to" --key "$dir/key" "$@" \
		>"$out" 2>"$out.err"
}

# A migration in the background, stopped by HOW (INT: Ctrl-C on shmctl;
# dest-kill: SIGKILL to the destination's QEMU) once pre-copy runs.
migrate_broken() { # HOW
	local pid qpid rc=0
	ip netns exec "$qemu_net-a" "$SHMCTL" migrate "qemu:$(qmp_on a)" \
		--to "$QEMU_B_IP" --key "$dir/key" >"$dir/broken.out" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		grep -q "precopy" "$dir/broken.out" && break
		sleep 0.1
	done
	if [[ $1 == INT ]]; then
		kill -INT "$pid"
	else
		qpid=$(cat "$dir"/run-b/qemu-"$name"-*/pid 2>/dev/null)
		[[ -n $qpid ]] && kill -KILL "$qpid"
	fi
	wait "$pid" || rc=$?
	diag <"$dir/broken.out"
	diag "shmctl migrate exited $rc"
	((rc != 0))
}

plan 14

qemu_guest_start "$qemu_net-a" "$name" "$dir" 64 1000 200 ||
	bail "the guest did not boot"
start_serve b "$QEMU_B_IP"
start_serve a "$QEMU_A_IP"
guest_echo_start "$dir/echo.out" 600

# --- A to B, under load, device emulation writing guest RAM throughout.
if migrate a "$QEMU_B_IP" "$dir/ab.json" --json --verify \
	--watch-ip "$QEMU_GUEST_IP@up0"; then
	ok "A -> B: migrated, memory equal at the pause (--verify)"
else
	diag <"$dir/ab.json.err"
	diag <"$dir/serve-b.log"
	not_ok "A -> B: migrated, memory equal at the pause (--verify)"
fi
diag "$(cat "$dir/ab.json")"
if qemu_in b && ! qemu_in a && [[ ! -e /dev/shm/shm-$name.ram ]]; then
	ok "A -> B: QEMU runs on B; A's QEMU and RAM file are gone"
else
	not_ok "A -> B: QEMU runs on B; A's QEMU and RAM file are gone"
fi
if guest_ok "on B"; then
	ok "A -> B: same address, and the guest's self-check passes on B"
else
	not_ok "A -> B: same address, and the guest's self-check passes on B"
fi
blackout=$(jq -r '.blackout_us // empty' "$dir/ab.json" 2>/dev/null)
gap=$(jq -r '.gap_us // empty' "$dir/ab.json" 2>/dev/null)
diag "blackout ${blackout:-?} us, client gap ${gap:-?} us"
if [[ $blackout =~ ^[0-9]+$ && $gap =~ ^[0-9]+$ ]] && ((blackout > 0 && gap > 0)); then
	ok "A -> B: the probe reports the blackout and the client's gap"
else
	not_ok "A -> B: the probe reports the blackout and the client's gap"
fi

# --- B to A, the guest rewriting memory as fast as it can.
guest_ctl rate 100000 >/dev/null
if migrate b "$QEMU_A_IP" "$dir/ba.out" --force-cutover; then
	ok "B -> A under heavy dirtying: migrated"
else
	diag <"$dir/ba.out.err"
	diag <"$dir/serve-a.log"
	not_ok "B -> A under heavy dirtying: migrated"
fi
diag <"$dir/ba.out"
guest_ctl rate 1000 >/dev/null
if guest_ok "back on A" && qemu_in a && ! qemu_in b; then
	ok "B -> A: the guest runs on A and passes its self-check"
else
	not_ok "B -> A: the guest runs on A and passes its self-check"
fi
if echo_verdict=$(guest_echo_wait "$dir/echo.out" stop); then
	ok "a TCP connection from the observer lived through both moves"
else
	not_ok "a TCP connection from the observer lived through both moves"
fi
diag "$echo_verdict"
check "B is left clean after it sent the VM away" clean_on b

# --- Failures mid-way leave the guest running on A and B clean. A slow
# link keeps pre-copy going long enough to break it.
on_a tc qdisc add dev up0 root tbf rate 40mbit burst 256kb latency 100ms
if migrate_broken INT; then
	ok "cancelled (Ctrl-C): shmctl migrate fails"
else
	not_ok "cancelled (Ctrl-C): shmctl migrate fails"
fi
if qemu_in a && guest_ok "after Ctrl-C"; then
	ok "cancelled: the guest runs on at A, reachable, self-check passes"
else
	not_ok "cancelled: the guest runs on at A, reachable, self-check passes"
fi
sleep 1
check "cancelled: B is left clean" clean_on b

if migrate_broken dest-kill; then
	ok "destination QEMU killed: shmctl migrate fails"
else
	not_ok "destination QEMU killed: shmctl migrate fails"
fi
if qemu_in a && guest_ok "after the destination died"; then
	ok "destination QEMU killed: the guest runs on at A, self-check passes"
else
	not_ok "destination QEMU killed: the guest runs on at A, self-check passes"
fi
sleep 1
check "destination QEMU killed: B is left clean" clean_on b
finish
