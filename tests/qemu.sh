# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Real QEMU guests for shell tests: a Linux guest running shm-guest
# (tests/guest/: memory and disk under load, TCP echo, a control port), on
# either of two hosts made of network namespaces, watched from a third.
# Source it after lib.sh:
#
#   qemu_net_up shm-g$$                   # $qemu_net-a, -b, -obs, -sw
#   qemu_guest_start "$qemu_net-a" g1 "$dir" 64 1000 200 || bail...
#   guest_ctl check                       # "ok pages=..." (control.c)
#   guest_checks g1 "$dir"                # the same, diagnosed if not
#   serve_start b "$QEMU_B_IP" "$dir"     # shmctl serve on host b
#   guest_echo_start "$dir/echo.out" 10   # a long-lived echo connection
#   guest_echo_wait "$dir/echo.out"       # its verdict
#   qemu_guest_stop g1 "$dir"; qemu_net_down
#
#                     $qemu_net-sw: bridge sw
#         port sw-a /     port sw-b |        \ port sw-obs
#   $qemu_net-a              $qemu_net-b          $qemu_net-obs
#   up0 in bridge shmbr0     up0 in shmbr0        eth0 10.218.0.254
#   shmbr0 10.218.0.1        shmbr0 10.218.0.2    (the observer: clients)
#   + the guests' taps       + ...
#
# Both hosts have a bridge of the same name, so a guest's command line
# works unchanged on either: tests/guest/qemu-ifup puts its tap there. The
# guest is 10.218.0.100 (MAC 52:54:00:21:80:64) wherever it runs: echo on
# TCP port 7, control on 7001.
#
# Needs: /dev/kvm, build/tests/guest/shm-guest, and the guest's initramfs
# for the running kernel, which tests/vm/boot builds (tests/guest/mkguest).

QEMU_A_IP=10.218.0.1
QEMU_B_IP=10.218.0.2
QEMU_OBS_IP=10.218.0.254
QEMU_GUEST_IP=10.218.0.100
QEMU_GUEST_MAC=52:54:00:21:80:64
# The guest's CPU model (see qemu_guest_start for why not plain "host").
QEMU_GUEST_CPU=host,-tsc-deadline
# One QMP command to a QEMU (bench/qmp.c): $QMP SOCKET COMMAND [ARGUMENTS].
QMP=$SHM_REPO/build/tests/qmp
SHM_GUEST=${SHM_GUEST:-$SHM_REPO/build/tests/guest/shm-guest}
SHM_GUEST_INITRD=${SHM_GUEST_INITRD:-$SHM_REPO/build/vm/guest-initramfs-$(uname -r).cpio.gz}
# Seconds a guest may take from QEMU's start to "shm-guest: ready": a
# nested guest under TCG boots in 10-20 s, more when the machine is busy.
QEMU_BOOT_TIMEOUT=${QEMU_BOOT_TIMEOUT:-60}
QEMU_BOOT_TRIES=${QEMU_BOOT_TRIES:-4}

qemu_net=
guest_echo_pid=

# Why a test of QEMU guests cannot run here, if it cannot; nothing if it can.
qemu_missing() {
	[[ -c /dev/kvm ]] || { echo "no /dev/kvm"; return; }
	[[ -x $SHM_GUEST ]] || { echo "$SHM_GUEST not built"; return; }
	[[ -x $QMP ]] || { echo "$QMP not built"; return; }
	[[ -r $SHM_GUEST_INITRD ]] || { echo "no $SHM_GUEST_INITRD (tests/guest/mkguest)"; return; }
	command -v qemu-system-x86_64 >/dev/null || echo "no qemu-system-x86_64"
}

# The whole test skipped, saying why, unless QEMU guests can run here.
qemu_required() {
	local why

	why=$(qemu_missing)
	[[ -z $why ]] || skip_all "$why"
}

# The test VM runs QEMU guests under multi-threaded TCG, where QEMU 7.2 may
# run code of the test VM's kernel that another vCPU just patched, stale:
# a vCPU inside KVM_RUN while the kvm_entry tracepoint's static call is
# switched (a BPF probe attached or gone) ends in an int3 oops there. So
# what the probes of shmctl migrate and downtime switch is switched once,
# before the first guest runs, and stays: two probes on KVM's kvm_entry
# and kvm_exit (their trace events, recording nothing, and a `shmctl
# downtime` living as long as the test VM), whose third and fourth come and
# go with no patching, and a clsact qdisc on lo (tc's ingress/egress hooks).
# And a QEMU whose vCPU never runs: its local APIC, software-disabled from
# reset, holds KVM's apic_sw_disabled static key, which every guest would
# otherwise switch twice (its vCPU created; a second after it enabled its
# APIC, under its running vCPU: an int3 oops in apic_has_pending_timer).
# Called before a test starts its first QEMU (qemu_guest_start does).
qemu_hold_code_patches() {
	local t=/sys/kernel/tracing

	[[ -e /run/shm-code-patches-held ]] && return
	echo 0 >"$t/tracing_on"
	echo 1 >"$t/events/kvm/kvm_entry/enable"
	echo 1 >"$t/events/kvm/kvm_exit/enable"
	# Not a child of ours (a test's `wait` would wait for it), nor in our
	# process group (which the runner kills).
	setsid -f "$SHMCTL" downtime --pid 1 --ip 127.0.0.9 --dev lo \
		--duration 86400 </dev/null >/dev/null 2>&1
	setsid -f qemu-system-x86_64 -name shm-code-patch-holder -accel kvm -S \
		-m 16M -smp 1 -nodefaults -no-user-config -display none \
		</dev/null >/dev/null 2>&1
	touch /run/shm-code-patches-held
	sleep 1
}

# One host: netns NS with bridge shmbr0 at ADDR, its uplink up0 on port
# PORT of the switch. (Not a port named "a": ip takes that for "address".)
# The bridge has up0's MAC, set: left to itself it takes the lowest of its
# ports', so a guest's tap (a random MAC) coming or going would change the
# host's MAC under the other host's ARP cache. New connections to the host
# then went unanswered for up to a minute (QEMU's own migration, stuck in
# "setup" with its SYNs sent to a MAC that had left with a tap).
_qemu_host() { # NS PORT ADDR
	ip netns add "$1" &&
		ip -n "$1" link add up0 type veth peer name "$2" netns "$qemu_net-sw" &&
		ip -n "$qemu_net-sw" link set "$2" master sw up &&
		ip -n "$1" link add shmbr0 type bridge forward_delay 0 &&
		ip -n "$1" link set shmbr0 address \
			"$(ip netns exec "$1" cat /sys/class/net/up0/address)" &&
		ip -n "$1" link set up0 master shmbr0 up &&
		ip -n "$1" addr add "$3/24" dev shmbr0 &&
		ip -n "$1" link set shmbr0 up &&
		ip -n "$1" link set lo up
}

# The network above, everything up. Returns non-zero if any step failed
# (the caller bails out; qemu_net_down cleans up what was made).
qemu_net_up() { # PREFIX
	qemu_net=$1
	# QEMU opens /dev/net/tun; nothing makes that node for a module not
	# yet loaded (no udev, no kmod-static-nodes in the test VM).
	modprobe tun 2>/dev/null
	ip netns add "$qemu_net-sw" &&
		ip -n "$qemu_net-sw" link add sw type bridge forward_delay 0 &&
		ip -n "$qemu_net-sw" link set sw up &&
		ip -n "$qemu_net-sw" link set lo up &&
		_qemu_host "$qemu_net-a" sw-a "$QEMU_A_IP" &&
		_qemu_host "$qemu_net-b" sw-b "$QEMU_B_IP" &&
		ip netns add "$qemu_net-obs" &&
		ip -n "$qemu_net-obs" link add eth0 type veth peer name sw-obs \
			netns "$qemu_net-sw" &&
		ip -n "$qemu_net-sw" link set sw-obs master sw up &&
		ip -n "$qemu_net-obs" addr add "$QEMU_OBS_IP/24" dev eth0 &&
		ip -n "$qemu_net-obs" link set eth0 up &&
		ip -n "$qemu_net-obs" link set lo up
}

# Stop the guests first: a namespace lives on while QEMU is in it.
qemu_net_down() {
	local ns

	[[ -n $qemu_net ]] || return 0
	for ns in a b obs sw; do
		ip netns del "$qemu_net-$ns" 2>/dev/null
	done
	return 0
}

# The PID of guest NAME's QEMU if it runs: its pidfile, checked against the
# process's own command line (a stale pidfile's PID may be someone else's).
qemu_guest_pid() { # NAME DIR
	local pid

	pid=$(cat "$2/$1.pid" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		grep -q -- "^qemu-system-x86_64 -name $1 " &&
		echo "$pid"
}

# Starts guest NAME in netns HOSTNS, its files in DIR: NAME.console,
# NAME.qmp (QMP socket), NAME.pid, disk.img (made if missing), RAM in
# /dev/shm/shm-NAME.ram. The guest's region is MEM_MIB (64) MiB, rewritten
# at RATE (0) pages/s, its disk read at DISK_RATE (0) blocks/s. Returns once
# the guest says it is ready, or non-zero with the console's last lines as
# diagnostics. A nested guest under TCG now and then never finishes its
# kernel's boot (seen mostly in the first minutes of the test VM): a boot
# not done in QEMU_BOOT_TIMEOUT is tried again, QEMU_BOOT_TRIES times.
qemu_guest_start() { # HOSTNS NAME DIR [MEM_MIB RATE DISK_RATE]
	local try

	qemu_hold_code_patches
	for ((try = 1; try <= QEMU_BOOT_TRIES; try++)); do
		_qemu_guest_boot "$@" && return 0
		[[ -f $3/$2.pid ]] || return 1
		qemu_guest_stop "$2" "$3"
		diag "guest $2: boot $try of $QEMU_BOOT_TRIES failed"
	done
	return 1
}

_qemu_guest_boot() { # HOSTNS NAME DIR [MEM_MIB RATE DISK_RATE]
	local ns=$1 name=$2 dir=$3 mem=${4:-64} rate=${5:-0} disk_rate=${6:-0}
	local console=$dir/$name.console d=${3//,/,,} deadline

	if [[ ! -f $dir/disk.img ]]; then
		"$SHM_GUEST" --make-disk "$dir/disk.img" 64 || return
	fi
	rm -f "$console"
	# Exactly this shape: the migration tool starts the destination with
	# a copy of this command line. QEMU option values double a comma.
	# Nested in TCG's emulated SVM, a guest's timer interrupt now and
	# then stays pending for good and the guest hangs (see also
	# kvm_amd.vgif=0 in tests/vm/boot): no paravirt clock (nopv), the
	# HPET as clocksource and no TSC-deadline timer made it boot. One
	# vCPU and a quiet kernel: each vCPU and every byte on the serial
	# console costs trips out of two levels of guest.
	if ! ip netns exec "$ns" qemu-system-x86_64 -name "$name" \
		-accel kvm -cpu "$QEMU_GUEST_CPU" -machine q35,memory-backend=ram0 \
		-m 256M -smp 1 \
		-object "memory-backend-file,id=ram0,size=256M,mem-path=/dev/shm/shm-$name.ram,share=on" \
		-nodefaults -no-user-config -display none \
		-kernel "/boot/vmlinuz-$(uname -r)" -initrd "$SHM_GUEST_INITRD" \
		-append "console=ttyS0 quiet nopv clocksource=hpet shmg_ip=$QEMU_GUEST_IP/24 shmg_mem=$mem shmg_rate=$rate shmg_disk_rate=$disk_rate" \
		-netdev "tap,id=n0,script=$SHM_REPO/tests/guest/qemu-ifup,downscript=no" \
		-device "virtio-net-pci,netdev=n0,mac=$QEMU_GUEST_MAC" \
		-drive "file=$d/disk.img,if=none,id=d0,format=raw" \
		-device virtio-blk-pci,drive=d0 \
		-serial "file:$d/$name.console" \
		-qmp "unix:$d/$name.qmp,server=on,wait=off" \
		-pidfile "$dir/$name.pid" -daemonize >"$dir/$name.qemu" 2>&1; then
		diag "guest $name: QEMU did not start:"
		diag <"$dir/$name.qemu"
		return 1
	fi
	deadline=$((SECONDS + QEMU_BOOT_TIMEOUT))
	while ((SECONDS < deadline)); do
		grep -q '^shm-guest: ready' "$console" 2>/dev/null && return 0
		qemu_guest_pid "$name" "$dir" >/dev/null || break
		sleep 0.2
	done
	if qemu_guest_pid "$name" "$dir" >/dev/null; then
		diag "guest $name: not ready after ${QEMU_BOOT_TIMEOUT}s"
	else
		diag "guest $name: QEMU exited before the guest was ready"
	fi
	diag "last lines of its console ($console):"
	tail -n 30 "$console" 2>/dev/null | tr -d '\r' | diag
	return 1
}

# Kills guest NAME's QEMU (TERM, then KILL after 10 s) and removes its RAM.
qemu_guest_stop() { # NAME DIR
	local pid i

	if pid=$(qemu_guest_pid "$1" "$2"); then
		kill "$pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "/dev/shm/shm-$1.ram"
}

# The environment of commands on host NS, as NAME=VALUE lines: none here
# (tests/libvirt.sh's names the host's libvirtd).
host_env() { # NS
	:
}

# COMMAND on host NS (a or b).
on_host() { # NS COMMAND...
	local env

	mapfile -t env < <(host_env "$1")
	ip netns exec "$qemu_net-$1" env "${env[@]}" "${@:2}"
}

# The same in the background, its pid in host_pid: the command's own (ip
# and env exec it), which a signal to it must reach.
on_host_bg() { # NS COMMAND...
	local env

	mapfile -t env < <(host_env "$1")
	ip netns exec "$qemu_net-$1" env "${env[@]}" "${@:2}" &
	host_pid=$!
}

# The pid of a process on host NS whose command line matches PATTERN;
# status 1 if there is none.
host_pid_of() { # NS PATTERN
	local pid

	for pid in $(pgrep -f -- "$2"); do
		[[ $(ip netns identify "$pid") == "$qemu_net-$1" ]] &&
			echo "$pid" && return 0
	done
	return 1
}

# shmctl migrate ARGS on host NS in the background, its output in OUT,
# until its progress shows PHASE (60 s at most): "starting" while the
# destination's VM starts, "precopy" once it is there; where a failure
# test breaks it. Its pid in host_pid.
migrate_until() { # PHASE NS OUT ARGS...
	# There before the loop below reads it.
	: >"$3"
	on_host_bg "$2" "$SHMCTL" migrate "${@:4}" >"$3" 2>&1
	for _ in $(seq 600); do
		grep -q "$1" "$3" && break
		sleep 0.1
	done
}

declare -A serve_pid
# shmctl serve on host NS at ADDR, with the key DIR/key, the QEMUs it
# starts in DIR/run-NS, its log in DIR/serve-NS.log; its pid in
# serve_pid[NS].
serve_start() { # NS ADDR DIR
	on_host_bg "$1" "$SHMCTL" serve --listen "$2" --key "$3/key" \
		--rundir "$3/run-$1" >"$3/serve-$1.log" 2>&1
	serve_pid[$1]=$host_pid
	serve_ready "$3/serve-$1.log"
}

# The last lines of each console guest NAME has now: the one it was
# started with, and those of the QEMUs shmctl serve started for it, which
# go when the guest moves away again (so guest_checks shows them when it
# fails, not only the test's end).
qemu_consoles_diag() { # NAME DIR
	local console

	for console in "$2/$1.console" "$2"/run-*/qemu-*/serial.log; do
		[[ -f $console ]] || continue
		diag "last lines of the guest's console $console:"
		tail -n 30 "$console" | tr -d '\r' | diag
	done
}

# Guest NAME answers, and its self-check passes. If not, where the switch
# and the observer think the guest is, and its consoles.
guest_checks() { # NAME DIR
	local ans

	ans=$(guest_ctl check 2>&1)
	echo "$ans"
	[[ $ans == "ok pages="* ]] && return
	ip netns exec "$qemu_net-sw" bridge fdb show | grep -i "$QEMU_GUEST_MAC"
	ip netns exec "$qemu_net-obs" ip neigh show "$QEMU_GUEST_IP"
	qemu_consoles_diag "$1" "$2"
	return 1
}

# One command to the guest's control port, from the observer; prints the
# answer. Status 0 if it is "ok ...", 1 another answer, 2 none within
# GUEST_CTL_TIMEOUT (30) s.
guest_ctl() { # COMMAND...
	ip netns exec "$qemu_net-obs" "$SHM_GUEST" --ctl "$QEMU_GUEST_IP" \
		--timeout "${GUEST_CTL_TIMEOUT:-30}" "$@"
}

# Field KEY of an answer "ok k1=v1 k2=v2 ...".
guest_field() { # ANSWER KEY
	sed -n "s/.* $2=\([-0-9]*\).*/\1/p" <<<"$1"
}

# A long-lived echo connection from the observer in the background: sends
# RATE (65536) bytes/s for DURATION (10) s, or until guest_echo_wait is
# told to stop it, then verifies the rest comes back. Its verdict, one line
# "echo: sent=N verified=N max_stall_ms=N ok|FAIL: why", goes to OUT.
guest_echo_start() { # OUT [DURATION [RATE]]
	ip netns exec "$qemu_net-obs" "$SHM_GUEST" --echo-client "$QEMU_GUEST_IP" \
		--duration "${2:-10}" --echo-rate "${3:-65536}" >"$1" 2>&1 &
	guest_echo_pid=$!
}

# Waits for the echo connection (stop: SIGTERM it first, ending its
# sending early); prints its verdict, status 0 if all came back intact.
# The verdict line decides, not `wait`: this may run in a subshell, as in
# $(...), which cannot wait for its parent's child.
guest_echo_wait() { # OUT [stop]
	local pid=$guest_echo_pid

	[[ -n $pid ]] || return 1
	[[ ${2:-} != stop ]] || kill -TERM "$pid" 2>/dev/null
	while [[ -e /proc/$pid && $(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) != Z ]]; do
		sleep 0.2
	done
	wait "$pid" 2>/dev/null
	guest_echo_pid=
	cat "$1"
	grep -q '^echo: .* ok$' "$1"
}
