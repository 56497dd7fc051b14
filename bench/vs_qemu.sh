#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# shm against QEMU's own live migration, side by side, in one run: the same
# Linux guest (tests/qemu.sh: 256 MiB, a 64 MiB region rewritten at a
# chosen rate, an echo connection from the observer) moved back and forth
# between two hosts over the same link, by each tool in turn: shm (shmctl
# migrate, driver qemu; it compresses as it pays, --compress=auto), shm-lz4
# (the same, every page LZ4 shrinks: --compress=always), QEMU pre-copy,
# QEMU multifd (4 channels); idle,
# then rewriting memory ever faster; over a link shaped to 200 Mbit/s (the
# wire is the limit), then over the bare veth (the hosts' CPUs are); last,
# rewriting memory faster than a link shaped to 50 Mbit/s moves it, where
# no pre-copy converges.
#
# Per run: total time, as an operator waits for it: from the start of the
# destination QEMU (shmctl serve starts it; for QEMU's own migration the
# script does, as libvirt would) to the source's end of the migration
# (QEMU's own "total-time", which leaves that start out, is in the
# diagnostics); downtime, the vCPU blackout (the destination's
# first entry into guest mode less the source's last exit), measured for
# every tool by shm's BPF probe; bytes on the wire (the source host's
# uplink counter); CPU seconds on the source host in the migration's own
# threads: QEMU's migration and multifd threads, plus shm.ko's threads and
# shmctl for shm (its QEMU's migration thread too, for the device state);
# and CPU per GiB of guest memory moved (pages sent with their contents:
# shm's "pages", QEMU's "normal-bytes"; not per GiB on the wire, which
# compression shrinks). Both QEMU runs get QEMU's downtime limit set to
# shm's default maximum (300 ms) and no bandwidth cap of their own. A QEMU
# migration not done in SHM_BENCH_TIMEOUT seconds (90) is cancelled: "no
# convergence" (QEMU itself would go on for ever); shm without
# --force-cutover gives up by itself when pre-copy stalls, and says so
# ("gave-up", after its --stall-wait of 30 s). Then the ratios, shm / QEMU.
# A migration by shm and one by QEMU go first, not counted: the first of a
# boot pays for cold caches.
set -u
. "$SHM_REPO/tests/lib.sh"
. "$SHM_REPO/tests/qemu.sh"

# The runs, LINK/RATE: the link (a tbf rate, or veth) and the pages per
# second the guest rewrites.
CASES=${SHM_BENCH_CASES:-200mbit/0 200mbit/1000 200mbit/4000 veth/0 veth/1000 veth/4000 50mbit/4000}
TIMEOUT=${SHM_BENCH_TIMEOUT:-90}
# Each run's tools, in the order of the table; the ratios set each of
# shm's (shm*) against each of QEMU's.
TOOLS="shm shm-lz4 qemu multifd"
TICK=$(getconf CLK_TCK)

qemu_required

dir=$(mktemp -d)
name=bench
cleanup() {
	[[ -n $guest_echo_pid ]] && kill "$guest_echo_pid" 2>/dev/null
	pkill -KILL -f "qemu-system-x86_64 -name $name " 2>/dev/null
	pkill -f "$SHMCTL serve" 2>/dev/null
	wait 2>/dev/null
	qemu_net_down
	rm -rf "$dir" "/dev/shm/shm-$name.ram"
}
trap cleanup EXIT

ns() { echo "$qemu_net-$1"; }
addr() { [[ $1 == a ]] && echo "$QEMU_A_IP" || echo "$QEMU_B_IP"; }
other() { [[ $1 == a ]] && echo b || echo a; }

# Where the guest is, and its QEMU there: host, QMP socket, pid.
here=a qmp=$dir/$name.qmp pid=

qemu_net_up "shm-bench$$" || { echo "Bail out! no network"; exit 1; }
head -c 32 /dev/urandom >"$dir/key" && chmod 600 "$dir/key"
for h in a b; do
	ip netns exec "$(ns $h)" "$SHMCTL" serve --listen "$(addr $h)" \
		--key "$dir/key" --rundir "$dir/run-$h" >"$dir/serve-$h.log" 2>&1 &
done
qemu_guest_start "$(ns a)" "$name" "$dir" 64 0 0 ||
	{ echo "Bail out! the guest did not boot"; exit 1; }
pid=$(qemu_guest_pid "$name" "$dir")
guest_echo_start "$dir/echo.out" 3600 16384

# QEMU PID's CPU ticks, as "all N" (the process's, ended threads too)
# and a "TID N" line per thread.
cpu_snapshot() { # PID
	local task

	awk '{ print "all", $14 + $15 }' "/proc/$1/stat"
	for task in /proc/"$1"/task/*; do
		awk -v tid="${task##*/}" '{ print tid, $14 + $15 }' "$task/stat" 2>/dev/null
	done
}

# Ticks of QEMU PID's threads that are not in snapshot S0 or have ended
# since: the migration's own (QEMU's migration thread, multifd's), without
# the main loop's and vCPUs', which under nested emulation burn the same
# whoever migrates, and more the longer it takes.
cpu_spent() { # PID S0
	awk 'NR == FNR { before[$1] = $2; next }
	     { after[$1] = $2 }
	     END {
		for (t in after)
			if (t != "all" && t in before)
				lived += after[t] - before[t]
		print after["all"] - before["all"] - lived
	     }' <(echo "$2") <(cpu_snapshot "$1")
}

tx_bytes() { # HOST
	ip netns exec "$(ns "$1")" cat /sys/class/net/up0/statistics/tx_bytes
}

# The guest's QEMU at QMP quits, and its RAM file goes.
quit_qemu() { # QMP PID
	local ram
	ram=$(tr '\0' '\n' 2>/dev/null <"/proc/$2/cmdline" |
		sed -n 's/.*mem-path=\([^,]*\).*/\1/p')
	"$QMP" "$1" quit >/dev/null 2>&1
	for _ in $(seq 50); do
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$2" 2>/dev/null
	[[ -n $ram ]] && rm -f "$ram"
}

# Both hosts' uplinks shaped to RATE, or bare (veth).
set_link() { # RATE
	local h

	for h in a b; do
		ip netns exec "$(ns $h)" tc qdisc del dev up0 root 2>/dev/null
		[[ $1 == veth ]] ||
			ip netns exec "$(ns $h)" tc qdisc add dev up0 root tbf \
				rate "$1" burst 256kb latency 100ms
	done
}

# Figures of the run just done, for the table: one line in $results.
record() { # RATE TOOL VERDICT TOTAL_MS DOWNTIME_US BYTES CPU_TICKS EXTRA_CPU_US MOVED_BYTES
	echo "$link $*" >>"$results"
}

run_shm() { # RATE TOOL (shm, or shm-lz4: --compress=always)
	local to rc=0 b0 c0 t0 cpu out=$dir/shm.json opts=()
	[[ $2 == shm-lz4 ]] && opts=(--compress=always)
	to=$(other "$here")
	b0=$(tx_bytes "$here") c0=$(cpu_snapshot "$pid") t0=$(date +%s%N)
	# Ctrl-C, should it outlast QEMU's limit by a minute.
	timeout -s INT -k 30 $((TIMEOUT + 60)) \
		ip netns exec "$(ns "$here")" "$SHMCTL" migrate "qemu:$qmp" \
		--to "$(addr "$to")" --key "$dir/key" --json --keep-source \
		"${opts[@]}" >"$out" 2>"$dir/shm.err" || rc=$?
	if ((rc)); then
		diag "$2: $(cat "$dir/shm.err")"
		record "$1" "$2" "$( ((rc == 124)) && echo timed-out || echo gave-up)" \
			$((($(date +%s%N) - t0) / 1000000)) - - - - -
		return
	fi
	cpu=$(cpu_spent "$pid" "$c0")
	jq -r --arg t "$2" '.blackout_why // empty | $t + ": blackout not measured: " + .' "$out" | diag
	jq -r --arg t "$2" '"\($t): set up in \(.setup_ms) ms (checks, streams open); \(.rounds) rounds; \(.pages) pages (\(.lz4_pages) LZ4) in \(.bytes) bytes; CPU: shm.ko \(.cpu_shm_ko_us / 1000 | floor) ms, shmctl \(.cpu_shmctl_us / 1000 | floor) ms"' "$out" | diag
	record "$1" "$2" ok "$(jq -r .total_ms "$out")" \
		"$(jq -r '.blackout_us // "-"' "$out")" \
		$(($(tx_bytes "$here") - b0)) "$cpu" \
		$(($(jq -r .cpu_shm_ko_us "$out") + $(jq -r .cpu_shmctl_us "$out"))) \
		$(($(jq -r .pages "$out") * 4096))
	quit_qemu "$qmp" "$pid"
	here=$to
	qmp=$(ls -t "$dir/run-$to"/qemu-"$name"-*/qmp | head -n1)
	pid=$(cat "$(dirname "$qmp")/pid")
}

# The destination's command line: the source's, with its own files,
# waiting for an incoming migration.
incoming_args() { # PID TO
	local arg skip=
	while IFS= read -r -d '' arg; do
		if [[ -n $skip ]]; then
			skip=
			continue
		fi
		case $arg in
		-qmp | -pidfile | -serial | -incoming | -D) skip=1; continue ;;
		-daemonize | -S) continue ;;
		*mem-path=*) arg=$(sed "s|mem-path=[^,]*|mem-path=$dir/q-$2.ram|" <<<"$arg") ;;
		esac
		printf '%s\0' "$arg"
	done <"/proc/$1/cmdline"
	# With a log of its own (-D), a daemonized QEMU keeps its errors.
	printf '%s\0' -qmp "unix:$dir/q-$2.qmp,server=on,wait=off" \
		-pidfile "$dir/q-$2.pid" -serial "file:$dir/q-$2.console" \
		-D "$dir/q-$2.debug.log" -incoming defer -daemonize
}

run_qemu() { # RATE TOOL (qemu or multifd)
	local to dqmp dpid status probe b0 c0 t0 tm cpu info elapsed caps setup
	to=$(other "$here")
	dqmp=$dir/q-$to.qmp
	rm -f "$dqmp" "$dir/q-$to.pid"
	t0=$(date +%s%N)
	mapfile -d '' -t args < <(incoming_args "$pid" "$to")
	if ! ip netns exec "$(ns "$to")" "${args[@]}" >"$dir/q-$to.log" 2>&1; then
		diag "$2: the destination QEMU did not start: $(cat "$dir/q-$to.log")"
		record "$1" "$2" failed - - - - -
		return
	fi
	dpid=$(cat "$dir/q-$to.pid")
	# The same capabilities on both ends; shm's own (x-ignore-shared,
	# pause-before-switchover) off, whatever ran before.
	caps='{"capability":"multifd","state":'$([[ $2 == multifd ]] && echo true || echo false)'}'
	caps+=',{"capability":"x-ignore-shared","state":false}'
	caps+=',{"capability":"pause-before-switchover","state":false}'
	for q in "$qmp" "$dqmp"; do
		"$QMP" "$q" migrate-set-capabilities "\"capabilities\":[$caps]" >/dev/null
		[[ $2 == multifd ]] &&
			"$QMP" "$q" migrate-set-parameters '"multifd-channels":4' >/dev/null
	done
	"$QMP" "$qmp" migrate-set-parameters \
		'"downtime-limit":300,"max-bandwidth":100000000000' >/dev/null
	"$QMP" "$dqmp" migrate-incoming "\"uri\":\"tcp:$(addr "$to"):4444\"" >/dev/null
	# The destination's start, up to here, counts; the probe's does not.
	setup=$((($(date +%s%N) - t0) / 1000000))
	"$SHMCTL" downtime --pid "$pid" --pid "$dpid" --json \
		--duration $((TIMEOUT + 60)) >"$dir/probe.json" 2>"$dir/probe.err" &
	probe=$!
	for _ in $(seq 100); do
		grep -q probing "$dir/probe.err" && break
		sleep 0.1
	done
	b0=$(tx_bytes "$here") c0=$(cpu_snapshot "$pid") tm=$(date +%s%N)
	"$QMP" "$qmp" migrate "\"uri\":\"tcp:$(addr "$to"):4444\"" >/dev/null
	while :; do
		info=$("$QMP" "$qmp" query-migrate)
		status=$(jq -r .status <<<"$info")
		elapsed=$((setup + ($(date +%s%N) - tm) / 1000000))
		[[ $status == completed || $status == failed ]] && break
		if ((elapsed > TIMEOUT * 1000)); then
			# Cancelled for good before the next run starts.
			"$QMP" "$qmp" migrate_cancel >/dev/null
			for _ in $(seq 300); do
				"$QMP" "$qmp" query-migrate | grep -q '"status":"cancelled"' && break
				sleep 0.1
			done
			status="no-convergence"
			break
		fi
		sleep 0.2
	done
	cpu=$(cpu_spent "$pid" "$c0")
	kill -INT "$probe"
	wait "$probe"
	if [[ $status != completed ]]; then
		diag "$2: $status after $elapsed ms: $(jq -c '{status, "error-desc"}' <<<"$info")"
		kill -0 "$dpid" 2>/dev/null || diag "$2: the destination QEMU is gone"
		cat "$dir/q-$to.log" "$dir/q-$to.debug.log" 2>/dev/null | diag
		record "$1" "$2" "$status" "$elapsed" - - - - -
		quit_qemu "$dqmp" "$dpid"
		# A destination whose migration failed may be gone already.
		rm -f "$dir/q-$to.ram"
		return
	fi
	record "$1" "$2" ok $((setup + $(jq -r '."total-time"' <<<"$info"))) \
		"$(jq --argjson s "$pid" --argjson d "$dpid" -r '
			([.vms[] | select(.pid == $d)][0].first_entry_ns) -
			([.vms[] | select(.pid == $s)][0].last_exit_ns) | . / 1000 | floor' \
			"$dir/probe.json")" \
		$(($(tx_bytes "$here") - b0)) "$cpu" 0 \
		"$(jq -r '.ram."normal-bytes"' <<<"$info")"
	diag "$2: started the destination in $setup ms; QEMU's own figures: total-time $(jq -r '."total-time"' <<<"$info") ms, downtime $(jq -r .downtime <<<"$info") ms, $(jq -r .ram.transferred <<<"$info") bytes of RAM"
	quit_qemu "$qmp" "$pid"
	here=$to qmp=$dqmp pid=$dpid
}

# One migration by TOOL, its figures a line in $results.
migrate_by() { # RATE TOOL
	if [[ $2 == shm* ]]; then
		run_shm "$1" "$2"
	else
		run_qemu "$1" "$2"
	fi
	diag "$(tail -n1 "$results")"
}

# The first migration of a boot pays for cold caches (binaries and
# libraries read over 9p, among others): one by each program, over the
# bare veth, before the table and not in it.
diag "warm-up, not counted:"
results=$dir/warm-up link=veth
migrate_by 0 shm
migrate_by 0 qemu
results=$dir/results

shaped=
for run in $CASES; do
	link=${run%/*} rate=${run#*/}
	[[ $link == "$shaped" ]] || set_link "$link"
	shaped=$link
	guest_ctl rate "$rate" >/dev/null
	sleep 3
	for tool in $TOOLS; do
		migrate_by "$rate" "$tool"
		if guest_ctl check >/dev/null; then
			ok "$link, rate $rate: $tool, the guest's self-check passes after"
		else
			not_ok "$link, rate $rate: $tool, the guest's self-check passes after"
		fi
	done
done
guest_echo_wait "$dir/echo.out" stop | diag

# The table, then the ratios.
awk -v tick="$TICK" -v tool_list="$TOOLS" '
function cpu(t, x) { return t == "-" ? -1 : t / tick + x / 1e6 }
# A downtime the probe did not catch is "-", never 0.
function ms(v, fmt, div) { return v == "-" ? "-" : sprintf(fmt, v / div) }
# CPU seconds per GiB of guest memory moved.
function per_gib(k) { return moved[k] ? c[k] / (moved[k] / 2^30) : 0 }
{
	run = $1 " " $2; tool = $3
	ok[run, tool] = $4 == "ok"; verdict[run, tool] = $4
	total[run, tool] = $5; down[run, tool] = $6; bytes[run, tool] = $7
	c[run, tool] = cpu($8, $9); moved[run, tool] = $10
	if (!(run in seen)) { seen[run] = 1; order[n++] = run }
}
END {
	nt = split(tool_list, tools, " ")
	printf "shm vs QEMU 7.2, 256 MiB guest (TCG: read the ratios)\n"
	printf "%-8s %-8s %-8s %8s %12s %9s %9s %7s %10s  %s\n", "link",
	       "pages/s", "tool", "total s", "downtime ms", "wire MiB",
	       "moved MiB", "CPU s", "CPU s/GiB", "verdict"
	for (i = 0; i < n; i++) {
		split(order[i], lr, " ")
		for (t = 1; t <= nt; t++) {
			k = order[i] SUBSEP tools[t]
			if (!(k in verdict))
				continue
			if (!ok[k]) {
				printf "%-8s %-8s %-8s %8.1f %12s %9s %9s %7s %10s  %s\n",
				       lr[1], lr[2], tools[t], total[k] / 1000, "-",
				       "-", "-", "-", "-", verdict[k]
				continue
			}
			printf "%-8s %-8s %-8s %8.1f %12s %9.1f %9.1f %7.2f %10.2f  ok\n",
			       lr[1], lr[2], tools[t], total[k] / 1000,
			       ms(down[k], "%.1f", 1000), bytes[k] / 2^20,
			       moved[k] / 2^20, c[k], per_gib(k)
		}
	}
	printf "\nratios shm / QEMU (targets: total <= 0.7, downtime <= 0.7, CPU per GiB <= 0.5)\n"
	printf "%-8s %-8s %-8s %-8s %7s %9s %8s\n", "link", "pages/s", "shm", "vs",
	       "total", "downtime", "CPU/GiB"
	for (i = 0; i < n; i++) {
		split(order[i], lr, " ")
		for (u = 1; u <= nt; u++)
			for (t = 1; t <= nt; t++) {
				s = order[i] SUBSEP tools[u]; q = order[i] SUBSEP tools[t]
				if (tools[u] !~ /^shm/ || tools[t] ~ /^shm/ ||
				    !(s in verdict) || !(q in verdict))
					continue
				if (ok[s] && ok[q])
					printf "%-8s %-8s %-8s %-8s %7.2f %9s %8.2f\n",
					       lr[1], lr[2], tools[u], tools[t],
					       total[s] / total[q],
					       down[q] == "-" ? "-" : ms(down[s], "%.2f", down[q]),
					       per_gib(s) / per_gib(q)
				else
					printf "%-8s %-8s %-8s %-8s %s after %.1f s, %s %s after %.1f s\n",
					       lr[1], lr[2], tools[u], tools[t], verdict[s],
					       total[s] / 1000, tools[t], verdict[q],
					       total[q] / 1000
			}
	}
}' "$dir/results" | diag
finish
