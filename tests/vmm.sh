#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test VMM (tests/vmm/) on its own, before shm moves anything with it.
# For each workload a source VM runs, pauses, saves its vCPUs; a destination
# VMM gets a byte copy of its RAM, restores, resumes, and the guest carries
# on and passes its self-check. Then the checks themselves are put to the
# test: a copy that missed the VMM's own writes, or one page, must be caught.
#
#   source: run --mem $shm-src        destination: run --incoming --mem $shm-dst
#     selfcheck, pause, save STATE,     hash = source's, check,
#     check, hash            ──dd──▶    restore STATE, resume, selfcheck
#
# The copy is dd between the two /dev/shm files: this tests the VMM, not
# shm.ko, which will do that copy in later tests. Also: the VM fd can be
# taken with pidfd_getfd, as shmctl will.
set -u
. "$(dirname "$0")/lib.sh"

vmm=${SHM_TESTVMM:-$SHM_REPO/build/tests/vmm/shm-testvmm}
[[ -c /dev/kvm ]] || skip_all "no /dev/kvm"
[[ -x $vmm ]] || skip_all "$vmm not built"

dir=$(mktemp -d)
shm=/dev/shm/shm-vmm-test-$$
declare -A pid=()
cleanup() {
	local p
	for p in "${pid[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait
	rm -rf "$dir" "$shm"-*
}
trap cleanup EXIT

ctl() { # NAME COMMAND [FILE]
	"$vmm" ctl "$dir/$1.sock" "${@:2}"
}

field() { # STATS KEY
	sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"
}

value() { # NAME KEY: from its stats line; KEY progress: writes + writer
	local stats
	stats=$(ctl "$1" stats)
	if [[ $2 == progress ]]; then
		echo $(($(field "$stats" writes) + $(field "$stats" writer)))
	else
		field "$stats" "$2"
	fi
}

# Starts VMM NAME with its RAM in $shm-NAME; returns once it answers.
start() { # NAME ARGS...
	local name=$1
	shift
	"$vmm" run --ctl "$dir/$name.sock" --mem "$shm-$name" "$@" \
		>"$dir/$name.log" 2>&1 &
	pid[$name]=$!
	ctl "$name" info >/dev/null
}

stop() { # NAME
	ctl "$1" quit >/dev/null
	wait "${pid[$1]}"
	unset "pid[$1]"
}

# Polls for up to 20 s until `value NAME KEY` is greater than MIN.
wait_above() { # NAME KEY MIN
	local i v
	for ((i = 0; i < 200; i++)); do
		v=$(value "$1" "$2")
		((${v:-0} > $3)) && return 0
		sleep 0.1
	done
	echo "$1: $2 stayed at ${v:-?}, not above $3"
	return 1
}

# What went wrong, when something did.
logs() { # SINCE_FAILED
	local f
	((_tap_failed > $1)) || return 0
	for f in "$dir"/*.log; do
		diag "--- $(basename "$f"):"
		diag <"$f"
	done
}

# One migration by hand. COMMON goes to both VMMs, the rest to one each
# (the destination may cut its RAM into other memslots: only gpa matters).
migrate() { # NAME COMMON SOURCE_ARGS DEST_ARGS
	local w=$1 common=$2 failed=$_tap_failed vcpus t0 t1 n before
	# shellcheck disable=SC2086 # word splitting of the argument lists
	start src $common $3
	vcpus=$(sed -n 's/.*vcpus=\([0-9]*\).*/\1/p' <<<"$(ctl src info)")
	check "$w: guest started on $vcpus vCPUs" wait_above src started $((vcpus - 1))
	t0=$EPOCHREALTIME n=$(value src progress)
	sleep 1
	t1=$EPOCHREALTIME n=$(($(value src progress) - n))
	diag "$w: $((n * 1000000 / (${t1/./} - ${t0/./}))) pages/s (vCPUs and writer)"
	check "$w: source self-check" ctl src selfcheck
	check "$w: pause" ctl src pause
	before=$(value src progress)
	diag "$w: $(ctl src stats)"
	check "$w: save" ctl src save "$dir/state"
	check "$w: source host-side check" ctl src check
	ctl src hash "$dir/src.hash" >/dev/null

	# shellcheck disable=SC2086
	start dst --incoming $common $4
	check_fails "$w: resume refused before restore" ctl dst resume
	dd if="$shm-src" of="$shm-dst" bs=1M conv=notrunc status=none
	ctl dst hash "$dir/dst.hash" >/dev/null
	check "$w: destination RAM is the source's" cmp "$dir/src.hash" "$dir/dst.hash"
	check "$w: destination host-side check" ctl dst check
	check "$w: restore" ctl dst restore "$dir/state"
	check "$w: resume" ctl dst resume
	check "$w: guest carries on from $before pages" wait_above dst progress "$before"
	check "$w: destination self-check" ctl dst selfcheck
	stop src
	stop dst
	logs "$failed"
}

migrate idle "--ram 32M --workload idle --writer-pages 256 --writer-rate 5000" \
	"--slots 1" "--slots 2"
migrate seq "--ram 32M --workload seq" "--slots 2" "--slots 1"
migrate random "--ram 64M --vcpus 2 --workload random --writer-pages 64" \
	"--slots 3 --gib-pages" "--slots 1"
migrate hot "--ram 32M --vcpus 2 --workload hot --hot 8 --rate 20000" \
	"--slots 1" "--slots 4"

# shmctl will attach with pidfd_open + pidfd_getfd: the fd must be the VM.
failed=$_tap_failed
start src --ram 16M --workload idle
info=$(ctl src info)
check "getfd: the VM fd, taken with pidfd_getfd" "$vmm" getfd \
	"$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$info")" \
	"$(sed -n 's/.*vmfd=\([0-9]*\).*/\1/p' <<<"$info")"
stop src
logs "$failed"

# A copy taken before the VMM's last writes: the pages written by the writer
# thread differ, and so do its counters, which restore compares with the
# saved device state.
failed=$_tap_failed
common="--ram 32M --workload idle --writer-pages 128 --writer-rate 5000"
# shellcheck disable=SC2086
start src $common
ctl src pause >/dev/null
cp "$shm-src" "$dir/early"
ctl src resume >/dev/null
before=$(value src writer)
check "lost VMM writes: the writer writes" wait_above src writer "$before"
ctl src pause >/dev/null
ctl src save "$dir/state" >/dev/null
ctl src hash "$dir/src.hash" >/dev/null
# shellcheck disable=SC2086
start dst --incoming $common
dd if="$dir/early" of="$shm-dst" bs=1M conv=notrunc status=none
ctl dst hash "$dir/dst.hash" >/dev/null
check_fails "lost VMM writes: hashes differ" cmp -s "$dir/src.hash" "$dir/dst.hash"
check_fails "lost VMM writes: restore refuses the RAM" ctl dst restore "$dir/state"
stop src
stop dst
logs "$failed"

# One page stale, the rest right: both checks must name it. The guest
# writes its pages in order, slowly, so the stale page (the last one it
# wrote before the pause) is not rewritten before the self-check runs.
failed=$_tap_failed
common="--ram 32M --workload seq --span 4096 --rate 500"
# shellcheck disable=SC2086
start src $common
check "stale page: the guest writes" wait_above src writes 0
ctl src pause >/dev/null
ctl src hash "$dir/early.hash" >/dev/null
cp "$shm-src" "$dir/early"
ctl src resume >/dev/null
check "stale page: the guest writes more" wait_above src writes "$(value src writes)"
ctl src pause >/dev/null
ctl src save "$dir/state" >/dev/null
ctl src hash "$dir/src.hash" >/dev/null
# shellcheck disable=SC2086
start dst --incoming $common
dd if="$shm-src" of="$shm-dst" bs=1M conv=notrunc status=none
gfn=$(paste -d' ' "$dir/early.hash" "$dir/src.hash" | awk '$2 != $4 { g = $1 } END { print g }')
diag "stale page: gfn 0x$gfn from before the last writes"
dd if="$dir/early" of="$shm-dst" bs=4096 skip=$((16#$gfn)) seek=$((16#$gfn)) \
	count=1 conv=notrunc status=none
check_fails "stale page: host-side check finds it" ctl dst check
check "stale page: restore" ctl dst restore "$dir/state"
check "stale page: resume" ctl dst resume
check_fails "stale page: guest self-check finds it" ctl dst selfcheck
stop src
stop dst
logs "$failed"

finish
