#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Linux guest that migration tests move, on its own (tests/qemu.sh,
# tests/guest/): QEMU boots it on host A; it rewrites memory and reads its
# disk under way, keeps a long-lived TCP connection from the observer
# intact, passes its self-check and obeys its control port. Then the
# self-check is put to the test: a page of the region corrupted from the
# host, through the guest's RAM file, must be caught and named.
#
#   observer 10.218.0.254 ── switch ── host A: shmbr0 ── tap ── guest .100
#   echo client, guest_ctl                       shm-guest: 64 MiB region,
#                                                1000 pages/s, 200 reads/s
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/qemu.sh"

qemu_required

dir=$(mktemp -d)
name=g$$
cleanup() {
	[[ -n $guest_echo_pid ]] && kill "$guest_echo_pid" 2>/dev/null
	if ((_tap_failed)) && [[ -f $dir/$name.console ]]; then
		qemu_guest_pid "$name" "$dir" >/dev/null ||
			diag "guest $name: its QEMU is gone"
		diag "last lines of the guest's console:"
		tail -n 40 "$dir/$name.console" | tr -d '\r' | diag
	fi
	qemu_guest_stop "$name" "$dir"
	qemu_net_down
	rm -rf "$dir"
}
trap cleanup EXIT

value() { # KEY: from the guest's stats
	guest_field "$(guest_ctl stats 2>&1)" "$1"
}

# Stats KEY grows by at least MIN in S seconds.
grows() { # KEY MIN S
	local a b

	a=$(value "$1")
	sleep "$3"
	b=$(value "$1")
	echo "$1: ${a:-?} -> ${b:-?} in $3 s"
	[[ -n $a && -n $b ]] && ((b - a >= $2))
}

# ... and does not move in S seconds.
stays() { # KEY S
	local a b

	a=$(value "$1")
	sleep "$2"
	b=$(value "$1")
	echo "$1: ${a:-?} -> ${b:-?} in $2 s"
	[[ -n $a && -n $b ]] && ((a == b))
}

# At rest, the generations add up to the writes: gen[] is whole.
gens_add_up() {
	local ans

	ans=$(guest_ctl check) || { echo "$ans"; return 1; }
	echo "$ans"
	(($(guest_field "$ans" gen_total) == $(guest_field "$ans" writes)))
}

console_has() { # PATTERN S
	local i

	for ((i = 0; i < $2 * 10; i++)); do
		tr -d '\r' <"$dir/$name.console" | grep -q -- "$1" && return 0
		sleep 0.1
	done
	echo "no line matching /$1/ on the console in $2 s"
	return 1
}

qemu_net_up "shm-g$$" || bail "cannot make the network"
if qemu_guest_start "$qemu_net-a" "$name" "$dir" 64 1000 200; then
	ok "guest boots on host A and serves"
else
	not_ok "guest boots on host A and serves"
	bail "no guest"
fi

guest_echo_start "$dir/echo.out" 10
check "writer rewrites pages (1000/s)" grows writes 200 2
check "disk reader reads blocks (200/s)" grows reads 40 2
check "echo: 10 s of a long-lived connection, all back intact" \
	guest_echo_wait "$dir/echo.out"
check_exit "self-check passes under load" 0 "^ok pages=16384 gen_total=" \
	guest_ctl check

check "rate 0 answered" guest_ctl rate 0
sleep 0.5
check "the writer stops at rate 0" stays writes 1
check "at rest, generations add up to the writes" gens_add_up
check_exit "an unknown command is refused" 1 "^err unknown command" \
	guest_ctl frobnicate
check_fails "no FAIL on the console so far" grep -q FAIL "$dir/$name.console"

# The region's first page, as the guest sees it: with q35 and 256 MiB,
# guest-physical addresses below 2 GiB are offsets in the RAM file.
pfn0=$(value pfn0)
if [[ -n $pfn0 ]] && ((pfn0 >= 0 && pfn0 < 65536)); then
	printf 'CORRUPT!' | dd of="/dev/shm/shm-$name.ram" bs=1 \
		seek=$((pfn0 * 4096 + 64)) conv=notrunc status=none
	check_exit "self-check finds a page corrupted from the host" 1 \
		"^FAIL page 0: want gen [0-9]+, word 8 is 0x2154505552524f43" \
		guest_ctl check
	check "... and so does the periodic one, on the console" \
		console_has "^shm-guest: FAIL page 0: " 15
else
	diag "stats: $(guest_ctl stats 2>&1)"
	not_ok "self-check finds a page corrupted from the host: no pfn0"
fi
finish
