#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Real QEMU/KVM guests moved with shmctl (driver qemu) between the two
# hosts of tests/qemu.sh: a Linux guest rewriting 1000 pages/s and reading
# its disk (its image one file both hosts see: shared storage), which an
# observer's long-lived TCP connection keeps busy, so that QEMU's device
# emulation (virtio-net receiving, virtio-blk reading) writes guest RAM
# all through pre-copy.
#
#   preflight          a dry run passes and leaves B clean; a flag of A's
#                      CPU that B's lacks refuses nothing while the guest
#                      gets the same CPU on B; a guest CPU feature B's
#                      QEMU cannot give is refused, named, the VM runs on
#                      at A and B is clean; so is a B whose run directory
#                      has no room for the guest's RAM file
#   migrate A -> B     memory equal at the pause (--verify), QEMU runs on
#                      B, A's QEMU and RAM are gone, the probe reports the
#                      blackout and the client gap, the guest's self-check
#                      (every page of its region) passes there
#   migrate B -> A     back, from a QEMU shmctl serve started; B is clean
#   cancelled          Ctrl-C mid-way: the VM runs on at A and answers,
#                      and a second migration before it is refused
#   destination killed its QEMU SIGKILLed mid-way: the same; B is clean
#   shmctl killed      SIGKILLed mid-way with QEMU stopped, as a scan of
#                      its writes stops it: the same, QEMU runs again
#   serve killed       the destination's shmctl serve SIGKILLed mid-way:
#                      the same, and B clean (no QEMU, no run directory);
#                      and again while B's QEMU starts, pages already
#                      coming
#   disk full          B's run directory filled up mid-way: the same, and
#                      shmctl says the RAM file's filesystem is full
#   the connection     the observer's, through all of the above, every
#                      byte back
#   heavy dirtying     faster than the link: shmctl says pre-copy cannot
#                      converge and the VM runs on at A; if the guest
#                      eases off once pre-copy stalled, shmctl waits and
#                      moves it; back with --force-cutover; memory equal,
#                      self-checks (or, if the guest fell short of its
#                      rate, it simply moves)
#
# The source's QEMU has multifd on, as its owner may choose for QEMU's own
# migrations: shm's runs without, and each QEMU has its own capabilities
# back afterwards (the destination's without x-ignore-shared).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/qemu.sh"

qemu_required

dir=$(mktemp -d)
name=g$$

cleanup() {
	[[ -n $guest_echo_pid ]] && kill "$guest_echo_pid" 2>/dev/null
	((_tap_failed)) && qemu_consoles_diag "$name" "$dir"
	kill "${serve_pid[@]}" 2>/dev/null
	wait 2>/dev/null
	qemu_guest_stop "$name" "$dir"
	pkill -KILL -f "qemu-system-x86_64 -name $name " 2>/dev/null
	qemu_net_down
	mountpoint -q "$dir/run-b" && umount "$dir/run-b"
	rm -rf "$dir" "/dev/shm/shm-$name.ram"
}
trap cleanup EXIT


qemu_net_up "shm-q$$" || bail "cannot make the network"
head -c 32 /dev/urandom >"$dir/key" && chmod 600 "$dir/key"


stop_serve() { # NS
	kill "${serve_pid[$1]}"
	wait "${serve_pid[$1]}" 2>/dev/null
}

# B's shmctl serve started again, its run directory (its QEMU's RAM file)
# on a filesystem of SIZE, or back on the test's own. Started after the
# mount, which may not reach the mount namespace of a running one.
small_rundir_b() { # SIZE|off
	stop_serve b
	mountpoint -q "$dir/run-b" && umount "$dir/run-b"
	if [[ $1 != off ]]; then
		mkdir -p "$dir/run-b"
		mount -t tmpfs -o "size=$1" shm-rundir "$dir/run-b"
	fi
	serve_start b "$QEMU_B_IP" "$dir"
}

# The QMP socket of the guest's QEMU on host NS, wherever it was started.
qmp_on() { # NS
	if [[ $1 == a && -S $dir/$name.qmp ]]; then
		echo "$dir/$name.qmp"
	else
		ls "$dir/run-$1"/qemu-"$name"-*/qmp 2>/dev/null | head -n1
	fi
}

# The pid of our guest's QEMU in netns NS; non-zero if there is none.
qemu_pid_in() { # NS
	host_pid_of "$1" "qemu-system-x86_64 -name $name "
}

qemu_in() { # NS
	qemu_pid_in "$1" >/dev/null
}

# Nothing of a migration left on host NS: no QEMU of ours, no run
# directory, no session.
clean_on() { # NS
	! qemu_in "$1" && [[ -z $(ls -A "$dir/run-$1" 2>/dev/null) ]] &&
		[[ -z $(ip netns exec "$qemu_net-$1" "$SHMCTL" status 2>&1 |
			grep -v "no migrations") ]]
}


# QEMU's migration capabilities at QMP, as "name=true|false" lines.
caps_of() { # QMP
	"$QMP" "$1" query-migrate-capabilities |
		jq -r '.[] | "\(.capability)=\(.state)"'
}

# QEMU at QMP has capability=state for each CAP=STATE given.
caps_are() { # QMP CAP=STATE...
	local qmp=$1 caps

	shift
	caps=$(caps_of "$qmp")
	echo "$caps" | grep -E "multifd|ignore-shared|switchover|events"
	for cap; do
		grep -qx "$cap" <<<"$caps" || return 1
	done
}

# QEMU at QMP runs its VM (QMP's word for it).
qemu_runs() { # QMP
	[[ -S $1 ]] && "$QMP" "$1" query-status | grep -q '"status":"running"'
}

# A migration from host FROM to host TO's address; its output in OUT.
migrate() { # FROM TO_ADDR OUT [OPTIONS]
	local from=$1 to=$2 out=$3
	shift 3
	timeout -k 5 240 ip netns exec "$qemu_net-$from" "$SHMCTL" migrate \
		"qemu:$(qmp_on "$from")" --to "$to" --key "$dir/key" "$@" \
		>"$out" 2>"$out.err"
}

# Migration output OUT says nothing was moved because pre-copy stalls.
says_stalled() { # OUT
	cat "$1.err"
	grep -q "pre-copy cannot converge" "$1.err"
}

# A migration in the background, stopped by HOW once pre-copy runs: INT
# (Ctrl-C on shmctl), dest-kill (SIGKILL to the destination's QEMU), kill
# (SIGKILL to shmctl, A's QEMU stopped as a scan of its writes stops it),
# serve-kill (SIGKILL to B's shmctl serve, started again after), and
# serve-kill-starting (the same while B's QEMU starts).
migrate_broken() { # HOW
	local pid rc=0 phase=precopy

	[[ $1 == serve-kill-starting ]] && phase=starting
	migrate_until "$phase" a "$dir/broken.out" "qemu:$(qmp_on a)" \
		--to "$QEMU_B_IP" --key "$dir/key"
	pid=$host_pid
	case $1 in
	INT)
		# Before the Ctrl-C, a second migration of the VM: QEMU's
		# monitor is the first one's.
		check_exit "a second shmctl migrate of a VM on the move is refused" \
			6 "no greeting in 5 s: another client has this monitor" \
			on_host a "$SHMCTL" migrate "qemu:$(qmp_on a)" \
			--to "$QEMU_B_IP" --key "$dir/key"
		kill -INT "$pid"
		;;
	dest-kill) kill -KILL "$(qemu_pid_in b)" ;;
	kill)
		kill -STOP "$(qemu_pid_in a)"
		kill -KILL "$pid"
		;;
	serve-kill*)
		kill -KILL "${serve_pid[b]}"
		wait "${serve_pid[b]}" 2>/dev/null
		serve_start b "$QEMU_B_IP" "$dir"
		;;
	disk-full)
		head -c 1G /dev/zero >"$dir/run-b/fill" 2>/dev/null
		;;
	esac
	wait "$pid" 2>/dev/null || rc=$?
	rm -f "$dir/run-b/fill"
	diag <"$dir/broken.out"
	diag "shmctl migrate exited $rc"
	((rc != 0)) && { [[ $1 != disk-full ]] ||
		grep -q "is the filesystem of its RAM file full" "$dir/broken.out"; }
}


plan 52

qemu_guest_start "$qemu_net-a" "$name" "$dir" 64 1000 200 ||
	bail "the guest did not boot"
serve_start b "$QEMU_B_IP" "$dir"
serve_start a "$QEMU_A_IP" "$dir"
guest_echo_start "$dir/echo.out" 3600

# --- Preflight. A dry run starts the VM's QEMU on B, paused, to read the
# CPU it gives the guest there, and removes it.
check_exit "dry run: preflight passes on both hosts" 0 "preflight passed" \
	on_host a "$SHMCTL" migrate "qemu:$(qmp_on a)" --to "$QEMU_B_IP" \
	--key "$dir/key" --dry-run
check "dry run: B is left clean" eventually 10 clean_on b
# What counts is the guest's CPU, not the host's: a flag A's CPU has and
# B's lacks is no reason to refuse while B's QEMU gives the guest all it
# had.
sed 's/^flags\t*: /&shm_test_feature /' /proc/cpuinfo >"$dir/cpuinfo"
check_exit "a host CPU flag B lacks, the guest's CPU the same: preflight passes" \
	0 "preflight passed" on_host a env SHM_PROC_CPUINFO="$dir/cpuinfo" \
	"$SHMCTL" migrate "qemu:$(qmp_on a)" --to "$QEMU_B_IP" \
	--key "$dir/key" --dry-run
# B's QEMU as on a host without popcnt (CPUID.01H:ECX bit 23): the guest
# would find it gone.
mkdir "$dir/no-popcnt"
printf '#!/bin/sh\nexec %s "$@" -cpu %s,-popcnt\n' \
	"$(command -v qemu-system-x86_64)" "$QEMU_GUEST_CPU" \
	>"$dir/no-popcnt/qemu-system-x86_64"
chmod +x "$dir/no-popcnt/qemu-system-x86_64"
stop_serve b
PATH=$dir/no-popcnt:$PATH serve_start b "$QEMU_B_IP" "$dir"
check_exit "a CPU feature B's QEMU cannot give the guest: refused, naming it" \
	6 "lack features it uses: CPUID.\(EAX=01H,ECX=0H\):ECX bit 23" \
	on_host a "$SHMCTL" migrate "qemu:$(qmp_on a)" --to "$QEMU_B_IP" \
	--key "$dir/key"
check "... the VM runs on at A, answers, passes its self-check" \
	eval 'qemu_runs "$(qmp_on a)" && guest_checks "$name" "$dir"'
check "... B is left clean" eventually 10 clean_on b
# B's run directory too small for the guest's 256 MiB RAM file.
small_rundir_b 128M
check_exit "B's run directory without room for the RAM file: refused" 6 \
	"has 12[0-9] MiB free, the VM's RAM file there needs 256 MiB" \
	on_host a "$SHMCTL" migrate "qemu:$(qmp_on a)" --to "$QEMU_B_IP" \
	--key "$dir/key" --dry-run
check "... B is left clean" eventually 10 clean_on b
small_rundir_b off

# --- A to B, device emulation writing guest RAM throughout; its owner
# chose multifd for QEMU's own migrations, which a pipe cannot carry.
"$QMP" "$(qmp_on a)" migrate-set-capabilities \
	'"capabilities":[{"capability":"multifd","state":true}]' >/dev/null
if migrate a "$QEMU_B_IP" "$dir/ab.json" --json --verify \
	--watch-ip "$QEMU_GUEST_IP@up0"; then
	ok "A -> B: migrated, memory equal at the pause (--verify)"
else
	diag <"$dir/ab.json.err"
	diag <"$dir/serve-b.log"
	not_ok "A -> B: migrated, memory equal at the pause (--verify)"
fi
diag "$(cat "$dir/ab.json")"
if qemu_in b && qemu_runs "$(qmp_on b)" && ! qemu_in a &&
	[[ ! -e /dev/shm/shm-$name.ram ]]; then
	ok "A -> B: QEMU runs the VM on B; A's QEMU and RAM file are gone"
else
	not_ok "A -> B: QEMU runs the VM on B; A's QEMU and RAM file are gone"
fi
check "A -> B: the report's setup and pause fit in its total" jq -e \
	'.setup_ms > 0 and .paused_ms > 0 and .setup_ms + .paused_ms < .total_ms' \
	"$dir/ab.json"
blackout=$(jq -r '.blackout_us // empty' "$dir/ab.json" 2>/dev/null)
gap=$(jq -r '.gap_us // empty' "$dir/ab.json" 2>/dev/null)
diag "blackout ${blackout:-?} us, client gap ${gap:-?} us"
if [[ $blackout =~ ^[0-9]+$ && $gap =~ ^[0-9]+$ ]] && ((blackout > 0 && gap > 0)); then
	ok "A -> B: the probe reports the blackout and the client gap"
else
	not_ok "A -> B: the probe reports the blackout and the client gap"
fi
check "A -> B: the guest answers on B at its address, its self-check passes" \
	guest_checks "$name" "$dir"
check "A -> B: B's QEMU has its own capabilities back (no x-ignore-shared)" \
	caps_are "$(qmp_on b)" x-ignore-shared=false pause-before-switchover=false \
	events=false

# --- B to A, from the QEMU that shmctl serve started on B, compressed.
if migrate b "$QEMU_A_IP" "$dir/ba.out" --verify --compress; then
	ok "B -> A: migrated back compressed, memory equal at the pause"
else
	diag <"$dir/ba.out.err"
	diag <"$dir/serve-a.log"
	not_ok "B -> A: migrated back compressed, memory equal at the pause"
fi
diag <"$dir/ba.out"
check "B -> A: the report says pages went compressed" \
	grep -Eq "[1-9][0-9]* of them LZ4 \(--compress=always\)" "$dir/ba.out"
if qemu_in a && qemu_runs "$(qmp_on a)" && ! qemu_in b; then
	ok "B -> A: QEMU runs the VM on A"
else
	not_ok "B -> A: QEMU runs the VM on A"
fi
check "B -> A: the guest's self-check passes on A" guest_checks "$name" "$dir"
check "B is left clean after it sent the VM away" clean_on b

# --- Failures mid-way leave the VM running on A and B clean. A slow
# link keeps pre-copy going long enough to break it.
on_host a tc qdisc add dev up0 root tbf rate 40mbit burst 256kb latency 100ms
for how in INT dest-kill kill serve-kill serve-kill-starting disk-full; do
	# Room for the RAM file at the start, filled up once pre-copy runs.
	[[ $how == disk-full ]] && small_rundir_b 300M
	case $how in
	INT) what="cancelled (Ctrl-C)" ;;
	dest-kill) what="destination QEMU killed" ;;
	kill) what="shmctl migrate killed, QEMU stopped" ;;
	serve-kill) what="destination's shmctl serve killed" ;;
	serve-kill-starting)
		what="destination's shmctl serve killed while its QEMU starts" ;;
	disk-full) what="B's disk full, the migration says so" ;;
	esac
	"$QMP" "$(qmp_on a)" migrate-set-capabilities \
		'"capabilities":[{"capability":"multifd","state":true}]' >/dev/null
	if migrate_broken "$how"; then
		ok "$what: shmctl migrate fails"
	else
		not_ok "$what: shmctl migrate fails"
	fi
	check "$what: the VM runs on at A, answers, passes its self-check" \
		eval 'qemu_runs "$(qmp_on a)" && guest_checks "$name" "$dir"'
	check "$what: A's QEMU has its own capabilities back (multifd)" \
		caps_are "$(qmp_on a)" multifd=true x-ignore-shared=false \
		pause-before-switchover=false events=false
	check "$what: B is left clean" eventually 10 clean_on b
done
small_rundir_b off
"$QMP" "$(qmp_on a)" migrate-set-capabilities \
	'"capabilities":[{"capability":"multifd","state":false}]' >/dev/null

check "the observer's TCP connection lived through every move and failure" \
	guest_echo_wait "$dir/echo.out" stop

# --- Heavy dirtying: the guest is asked to rewrite its region several
# times faster than the link moves it (8000 pages/s, 31 MiB/s, against 50
# Mbit/s). Under emulation it manages some hundreds (a scan of QEMU's
# writes stops its vCPUs too), which pre-copy outruns: shmctl then moves
# it, memory equal at the pause, and the rest is skipped (a test VMM's
# guest stalls pre-copy in tests/shmctl_migrate.sh instead). Else three
# migrations: one that waits 5 s once pre-copy stalled, then
# refuses saying why, the VM running on at A; one during which the guest,
# once pre-copy stalled, eases off to 200 pages/s: shmctl waits and moves
# it; and one back from B at 8000 pages/s again, with --force-cutover.
on_host a tc qdisc change dev up0 root tbf rate 50mbit burst 256kb latency 100ms
guest_ctl rate 8000 >/dev/null
what="heavy dirtying"
if migrate a "$QEMU_B_IP" "$dir/heavy.out" --verify --stall-wait 5; then
	diag <"$dir/heavy.out"
	ok "$what: shmctl moves the VM (memory equal at the pause) or refuses"
	why="pre-copy converged: the guest wrote slower than asked"
	skip "$what: refused, the VM runs on at A, passes its self-check" "$why"
	skip "$what: refused, B is left clean" "$why"
	skip "$what, easing off once stalled: shmctl waits, then moves the VM" "$why"
	skip "$what, eased off: the guest's self-check passes on B" "$why"
	skip "$what, --force-cutover: migrated back, memory equal at the pause" "$why"
else
	check "$what: shmctl moves the VM (memory equal at the pause) or refuses" \
		says_stalled "$dir/heavy.out"
	check "$what: refused, the VM runs on at A, passes its self-check" \
		eval 'qemu_runs "$(qmp_on a)" && guest_checks "$name" "$dir"'
	check "$what: refused, B is left clean" eventually 10 clean_on b

	migrate a "$QEMU_B_IP" "$dir/eased.out" --verify --stall-wait 90 &
	pid=$!
	for _ in $(seq 1800); do
		grep -q "^stalled" "$dir/eased.out" || ! kill -0 "$pid" 2>/dev/null && break
		sleep 0.1
	done
	guest_ctl rate 200 >/dev/null
	rc=0
	wait "$pid" || rc=$?
	diag <"$dir/eased.out"
	what2="$what, easing off once stalled: shmctl waits, then moves the VM"
	if ((rc)); then
		diag <"$dir/eased.out.err"
		not_ok "$what2"
	elif grep -q "^stalled" "$dir/eased.out"; then
		ok "$what2"
	else
		skip "$what2" "pre-copy converged before it stalled"
	fi
	check "$what, eased off: the guest's self-check passes on B" guest_checks "$name" "$dir"

	guest_ctl rate 8000 >/dev/null
	on_host b tc qdisc add dev up0 root tbf rate 50mbit burst 256kb latency 100ms
	if migrate b "$QEMU_A_IP" "$dir/forced.out" --force-cutover --verify; then
		ok "$what, --force-cutover: migrated back, memory equal at the pause"
	else
		diag <"$dir/forced.out.err"
		not_ok "$what, --force-cutover: migrated back, memory equal at the pause"
	fi
	diag <"$dir/forced.out"
fi
check "$what: the guest's self-check passes where it runs" guest_checks "$name" "$dir"
# For the record: a guest nested in TCG's emulated SVM with nested paging
# has been seen to reset under this load (it runs at its boot-time rate
# again); tests/run says why the test VM's KVM runs without.
stats=$(guest_ctl stats 2>&1)
diag "guest: $stats"
[[ $stats != *" rate=8000 "* ]] && diag "the guest no longer runs at 8000 pages/s: it restarted"
# Pages the test VM's kernel moved (compaction), once a suspect of those.
diag "$(grep -E '^(pgmigrate_success|compact_stall|compact_daemon_wake) ' /proc/vmstat | tr '\n' ' ')"
finish
