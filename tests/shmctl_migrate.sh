#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# shmctl migrate and shmctl serve end to end, between two hosts (network
# namespaces joined by a veth shaped to 200 Mbit/s), with the test VMM: a
# migration that works, and each way one can fail. Every failure must leave
# the source guest running with its memory intact (its self-check passes)
# and nothing of the migration on the destination.
#
#   src: shm-testvmm run (guest writing)      dst: shmctl serve
#        shmctl migrate testvmm:SOCK --to 10.214.0.2
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"

vmm=$SHM_REPO/build/tests/vmm/shm-testvmm
[[ -c /dev/kvm ]] || skip_all "no /dev/kvm"

dir=$(mktemp -d)
serve_pid=
cleanup() {
	[[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null
	pkill -KILL -f "$dir/" 2>/dev/null
	wait 2>/dev/null
	hosts_del
	rm -rf "$dir"
}
trap cleanup EXIT

hosts_make 10.214.0 200mbit
# The VMs' beacons go from 10.214.0.100 to a client at 10.214.0.254, on
# whichever host runs them; the client's MAC is known there.
for h in "$src" "$dst"; do
	ip -n "$h" neigh add 10.214.0.254 lladdr 02:00:00:00:00:fe dev mig0 \
		nud permanent
done
head -c 32 /dev/urandom >"$dir/key" && chmod 600 "$dir/key"
head -c 32 /dev/urandom >"$dir/other-key" && chmod 600 "$dir/other-key"
mkdir -p "$dir/dst"

# shmctl serve on the destination, in the background: serve_pid is its
# own pid (not a subshell's), so that killing it kills the daemon.
start_serve() { # [OPTIONS]
	cat "$dir/serve.log" >>"$dir/serve-old.log" 2>/dev/null
	: >"$dir/serve.log"
	ip netns exec "$dst" env SHM_TESTVMM_HASH="$dir/dst.hash" \
		${restore_delay:+SHM_TESTVMM_RESTORE_DELAY_MS=$restore_delay} \
		"$SHMCTL" serve --listen $dst_addr --key "$dir/key" \
		--rundir "$dir/dst" "$@" >>"$dir/serve.log" 2>&1 &
	serve_pid=$!
	serve_ready "$dir/serve.log"
}

stop_serve() { # [SIGNAL]
	kill -"${1:-TERM}" "$serve_pid" 2>/dev/null
	wait "$serve_pid" 2>/dev/null
	serve_pid=
}

# A source VM named NAME, its guest writing (WORKLOAD: some 300 pages/s
# by default) and its VMM writing too. Its page hashes at the pause go to
# NAME.hash (SHM_TESTVMM_HASH).
start_vm() { # NAME [WORKLOAD...]
	local workload=("${@:2}")
	((${#workload[@]})) || workload=(--workload seq --rate 300)
	on_src env SHM_TESTVMM_HASH="$dir/$1.hash" "$vmm" run \
		--beacon-from 10.214.0.100 --beacon-to 10.214.0.254:9 --ctl "$dir/$1.sock" --ram 32M \
		"${workload[@]}" --writer-pages 64 --writer-rate 200 \
		>"$dir/$1.log" 2>&1 &
	"$vmm" ctl "$dir/$1.sock" info >/dev/null
}

vm_ctl() { # NAME COMMAND
	"$vmm" ctl "$dir/$1.sock" "${@:2}"
}

# A migration in the foreground; one that hangs is killed after 120 s,
# with what every process was doing then.
migrate() { # NAME [OPTIONS]
	local rc=0
	on_src timeout -k 5 120 "$SHMCTL" migrate "testvmm:$dir/$1.sock" \
		--to $dst_addr --key "$dir/key" "${@:2}" || rc=$?
	((rc != 124)) || hung
	return $rc
}

hung() {
	echo "shmctl migrate hung; the processes then:"
	dump_processes 'shmctl|shm-testvmm'
	on_src ss -tnpi | diag
	on_dst ss -tnpi | diag
}

# The same in the background, output to NAME.out; its pid (shmctl's own)
# in migrate_pid.
migrate_bg() { # NAME [OPTIONS]
	ip netns exec "$src" "$SHMCTL" migrate "testvmm:$dir/$1.sock" \
		--to $dst_addr --key "$dir/key" "${@:2}" >"$dir/$1.out" 2>&1 &
	migrate_pid=$!
}

# Until NAME's migration is in pre-copy (its output says so): what a
# failure test breaks. A loaded machine may take its time to get there.
until_precopy() { # NAME
	for _ in $(seq 600); do
		grep -q "^precopy" "$dir/$1.out" && return
		sleep 0.1
	done
}

# The source guest runs on, untouched: it counts on and checks itself.
source_intact() { # NAME DESCRIPTION
	local before
	before=$(vm_ctl "$1" stats | sed -n 's/.* writes=\([0-9]*\).*/\1/p')
	sleep 0.5
	check "$2: source guest runs on" \
		test "$(vm_ctl "$1" stats | sed -n 's/.* writes=\([0-9]*\).*/\1/p')" -gt "${before:-0}"
	check "$2: source guest's self-check" vm_ctl "$1" selfcheck
}

# Nothing of a failed migration stays on the destination: no VM (its VMM
# and control socket), no session.
destination_clean() { # DESCRIPTION
	local i
	# A cut link shows as the keepalive's timeout there (link.h).
	for i in $(seq 300); do
		dst_leftovers || break
		sleep 0.1
	done
	check "$1: no VM left on the destination" \
		bash -c "! pgrep -f -- '[-]-ctl $dir/dst/' && ! ls '$dir'/dst/*.sock"
	check "$1: no session left on the destination" \
		test "$(on_dst "$SHMCTL" session list | wc -l)" -le 1
}

dst_leftovers() {
	pgrep -f -- "[-]-ctl $dir/dst/" >/dev/null || ls "$dir"/dst/*.sock \
		>/dev/null 2>&1 || (($(on_dst "$SHMCTL" session list | wc -l) > 1))
}

start_serve

# The migration itself, under load: the guest and its VMM write all along.
start_vm web
check "dry run passes preflight" migrate web --dry-run
check_exit "status shows nothing in flight" 0 "no migrations in flight" \
	on_src "$SHMCTL" status
ip netns exec "$src" "$SHMCTL" downtime --ip 10.214.0.100 --dev mig0 --json \
	>"$dir/probe.json" 2>"$dir/probe.err" &
probe=$!
for _ in $(seq 100); do
	grep -q probing "$dir/probe.err" && break
	sleep 0.1
done
tracing=/sys/kernel/tracing
echo >"$tracing/trace"
echo 1 >"$tracing/events/shm/enable"
migrate_bg web --watch-ip 10.214.0.100@mig0
rc=0
wait "$migrate_pid" || rc=$?
diag <"$dir/web.out"
check "migrate" test $rc -eq 0
check_exit "the report" 0 "paused.*ms" grep -E "rounds|paused|zero pages" "$dir/web.out"
echo 0 >"$tracing/events/shm/enable"
grep -E 'shm_(round|cutover)' "$tracing/trace" >"$dir/trace.txt"
diag <"$dir/trace.txt"
check "tracepoints: round 1 starts with every page and ends" \
	grep -Eq "shm_round_end: .* round=1 sent=[1-9]" "$dir/trace.txt"
check "tracepoints: the final round, sent, acknowledged, resumed, in order" \
	awk '/final=1/ && !f { f = NR } /milestone=1/ && !s { s = NR }
	     /milestone=2/ { a = NR } /milestone=3/ && !r { r = NR }
	     END { exit !(f && s && a && r && f < s && s < a && a < r) }' \
	"$dir/trace.txt"
kill -TERM "$probe"
wait "$probe"
diag <"$dir/probe.json"
# Figures in microseconds: the report's, and the probe's on its own.
blackout=$(sed -n 's/^  blackout *\([0-9.]*\) ms.*/\1/p' "$dir/web.out" | awk '{ printf "%d", $1 * 1000 }')
gap=$(sed -n 's/^  client gap *\([0-9.]*\) ms.*/\1/p' "$dir/web.out" | awk '{ printf "%d", $1 * 1000 }')
# Of the gaps the probe saw on its own (a busy emulated host has others
# during pre-copy), the one nearest the report's.
seen=$(jq -r --argjson g "${gap:-0}" '[.long_gaps[] | select(.kind == "packets")
	| .us] | min_by(. - $g | fabs) // 0' "$dir/probe.json")
check "the report measures the blackout" test -n "$blackout"
check "the report measures the client gap" test -n "$gap"
# The guest's last datagram leaves in the exit that sent it, after the
# vCPU stopped running, later still if emulation deschedules the thread
# in between (17 ms seen once, 31 ms once in CI): 50 ms of slack.
check "client gap ($gap us) >= blackout ($blackout us)" \
	test "${gap:-0}" -ge $((${blackout:-1000000} - 50000))
check "shmctl downtime on its own sees that gap (${seen} us)" \
	test "${seen:-0}" -ge $((${gap:-1000000} - 2000)) -a \
	"${seen:-0}" -le $((${gap:-0} + 2000))
check "memory on the destination equals the source's at the pause, byte for byte" \
	cmp "$dir/web.hash" "$dir/dst.hash"
dst_sock=$(ls "$dir"/dst/*.sock 2>/dev/null | head -1)
check "the destination guest runs" "$vmm" ctl "$dst_sock" stats
check "the destination guest's self-check" "$vmm" ctl "$dst_sock" selfcheck
check "the destination's memory passes the host-side check after a pause" \
	bash -c "'$vmm' ctl '$dst_sock' pause && '$vmm' ctl '$dst_sock' check"
check_fails "the source VMM let go of the VM" vm_ctl web info
"$vmm" ctl "$dst_sock" quit >/dev/null 2>&1
rm -f "$dir"/dst/*

# Refusals, before anything moves: exit status 6.
start_vm db
check_exit "wrong key refused" 6 "key" \
	on_src "$SHMCTL" migrate "testvmm:$dir/db.sock" --to $dst_addr \
	--key "$dir/other-key"
chmod 644 "$dir/key"
check_exit "a key file others can read is refused" 6 "chmod" migrate db
chmod 600 "$dir/key"
check_exit "nobody listening" 6 "connect" \
	on_src "$SHMCTL" migrate "testvmm:$dir/db.sock" --to $dst_addr:7999 \
	--key "$dir/key"
sed 's/^flags\t*: /&shm_test_feature /' /proc/cpuinfo >"$dir/cpuinfo"
check_exit "a CPU feature the destination lacks" 6 "shm_test_feature" \
	on_src env SHM_PROC_CPUINFO="$dir/cpuinfo" "$SHMCTL" migrate \
	"testvmm:$dir/db.sock" --to $dst_addr --key "$dir/key"
stop_serve
start_serve --reserve 1Ti
check_exit "not enough memory on the destination" 6 "memory" migrate db
stop_serve
start_serve
rmmod shm
check_exit "shm.ko not loaded here" 6 "shm.ko is not loaded" migrate db
insmod "$SHM_KO"
source_intact db "after the refusals"
destination_clean "after the refusals"

# A guest writing as fast as it can, over all its memory, against a
# migration capped at 4 MB/s: pre-copy stalls. shmctl waits --stall-wait
# seconds for the guest to ease off, then gives up and says why, the VM
# running on; with --force-cutover it moves the VM all the same.
start_vm hog --workload seq
check_exit "a stalled pre-copy: migrate gives up and says why" 1 \
	"pre-copy cannot converge" migrate hog --bandwidth 4M --stall-wait 2
source_intact hog "stalled"
destination_clean "stalled"
check "a stalled pre-copy, --force-cutover: migrate moves the VM" \
	migrate hog --bandwidth 4M --force-cutover
check "--force-cutover: memory on the destination equals the source's at the pause" \
	cmp "$dir/hog.hash" "$dir/dst.hash"
dst_sock=$(ls "$dir"/dst/*.sock 2>/dev/null | head -1)
check "--force-cutover: the destination guest's self-check" \
	"$vmm" ctl "$dst_sock" selfcheck
"$vmm" ctl "$dst_sock" quit >/dev/null 2>&1
rm -f "$dir"/dst/*

# Compressed, under the same load as the first: LZ4 where it shrinks a
# page, the memory the same byte for byte.
start_vm zip
check_exit "--compress: migrate, and its report says so" 0 '"compress":"always"' \
	migrate zip --compress --json
check "--compress: memory on the destination equals the source's at the pause" \
	cmp "$dir/zip.hash" "$dir/dst.hash"
dst_sock=$(ls "$dir"/dst/*.sock 2>/dev/null | head -1)
check "--compress: the destination guest's self-check" \
	"$vmm" ctl "$dst_sock" selfcheck
"$vmm" ctl "$dst_sock" quit >/dev/null 2>&1
rm -f "$dir"/dst/*

# Broken mid-pre-copy, the link now too slow to finish first. Two at once
# is the destination's default limit: a third is refused.
hosts_shape 8mbit
start_vm app
start_vm cache
migrate_bg db
m1=$migrate_pid
migrate_bg app
m2=$migrate_pid
until_precopy db
until_precopy app
# Held in pre-copy by the slow link: what status shows of each.
check_exit "status shows a migration in flight" 0 "source .*db.sock to $dst_addr" \
	on_src "$SHMCTL" status
check_exit "status shows the other one too" 0 "source .*app.sock to $dst_addr" \
	on_src "$SHMCTL" status
check_exit "a third migration at once is over this host's limit" 6 \
	"this host already sends 2 migrations" migrate cache
check_exit "a third migration at once is over the destination's limit" 6 \
	"destination already receives 2 migrations" \
	migrate cache --max-migrations 3
stop_serve KILL
rc1=0 rc2=0
wait "$m1" || rc1=$?
wait "$m2" || rc2=$?
diag <"$dir/db.out"
diag <"$dir/app.out"
check "destination killed: both migrations fail" test $rc1 -eq 1 -a $rc2 -eq 1
source_intact db "destination killed"
source_intact app "destination killed"
source_intact cache "destination killed"
destination_clean "destination killed"
start_serve

migrate_bg db
until_precopy db
kill -KILL "$migrate_pid"
wait "$migrate_pid" 2>/dev/null
diag <"$dir/db.out"
source_intact db "shmctl migrate killed"
destination_clean "shmctl migrate killed"
check "shmctl migrate killed: no session left on the source" \
	test "$(on_src "$SHMCTL" session list | wc -l)" -le 1

migrate_bg db
until_precopy db
kill -INT "$migrate_pid"
rc=0
wait "$migrate_pid" || rc=$?
diag <"$dir/db.out"
check "Ctrl-C: migrate fails and says why" \
	bash -c "test $rc -eq 1 && grep -q interrupted '$dir/db.out'"
source_intact db "Ctrl-C"
destination_clean "Ctrl-C"

migrate_bg db
until_precopy db
ip -n "$src" link set mig0 down
rc=0
wait "$migrate_pid" || rc=$?
diag <"$dir/db.out"
check "link cut: migrate fails" test $rc -eq 1
source_intact db "link cut"
ip -n "$src" link set mig0 up
destination_clean "link cut"

# The link cut at the very end: the destination was told GO and runs the
# guest, its RUNNING never arrives. The source must not resume its copy:
# one VM, never two. The destination's answers are slowed (netem, 5 s)
# as soon as the source says "ready" (it pauses its VM next); its restore,
# slowed too (5 s), leaves the time for that; the link is cut while
# RUNNING is on its way.
hosts_shape 200mbit
stop_serve
restore_delay=5000 start_serve
migrate_bg db
for _ in $(seq 600); do
	grep -q "^ready" "$dir/db.out" && break
	sleep 0.1
done
on_dst tc qdisc add dev mig0 root netem delay 5s
for _ in $(seq 300); do
	grep -q "the VM runs here now" "$dir/serve.log" && break
	sleep 0.1
done
ip -n "$src" link set mig0 down
rc=0
wait "$migrate_pid" || rc=$?
diag <"$dir/db.out"
check_exit "cut after GO: migrate fails and says the VM may run there" 0 \
	"stays paused here" bash -c "test $rc -eq 1 && cat '$dir/db.out'"
check_exit "cut after GO: the source VM stays paused" 0 "state=paused" \
	vm_ctl db stats
dst_vm=$(ls "$dir"/dst/*.sock 2>/dev/null | head -1)
check_exit "cut after GO: the destination runs the guest" 0 "state=running" \
	"$vmm" ctl "${dst_vm:-none}" stats
"$vmm" ctl "${dst_vm:-none}" quit >/dev/null 2>&1
ip -n "$src" link set mig0 up
on_dst tc qdisc del dev mig0 root

finish
