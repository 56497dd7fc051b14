#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# libvirt's domains moved with shmctl (driver libvirt) between the two
# hosts of tests/qemu.sh, each with a libvirtd of its own
# (tests/libvirt.sh): tests/qemu.sh's guest as a defined domain, its RAM a
# shared memfd, rewriting 1000 pages/s and reading its disk (shared
# storage), an observer's TCP connection busy all along.
#
#   refusals           a domain libvirt does not have, one that is not
#                      running, one whose RAM is not shared, one with QEMU
#                      arguments of its own: each refused saying what to
#                      change, nothing started on B
#   migrate A -> B     memory equal at the pause (--verify); libvirt runs
#                      the domain on B, its XML (35 KB) whole; on A it is
#                      defined and shut off, as after `virsh migrate`; the
#                      guest's self-check passes
#   destination killed on the way back, A's QEMU SIGKILLed mid-way:
#                      shmctl fails, the domain runs on at B with its own
#                      capabilities, A is clean
#   shmctl killed      SIGKILLed mid-way, QEMU stopped as a scan of its
#                      writes stops it: the same, its guard restarts QEMU
#   serve killed while A's libvirtd starts the domain: the same, and A's
#                      domain is shut off again, its guard's doing
#   migrate B -> A     back into A's defined domain, which runs again
#   the connection     the observer's, through all of it
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/qemu.sh"
. "$(dirname "$0")/libvirt.sh"

qemu_required
why=$(libvirt_missing)
[[ -z $why ]] || skip_all "$why"

dir=$(mktemp -d)
name=lv$$

cleanup() {
	local ns

	[[ -n $guest_echo_pid ]] && kill "$guest_echo_pid" 2>/dev/null
	if ((_tap_failed)); then
		diag "last lines of the guest's console:"
		tail -n 30 "$dir/$name.console" 2>/dev/null | tr -d '\r' | diag
		for ns in a b; do
			diag "libvirtd's log on $ns:"
			tail -n 15 "$libvirt_dir/$ns.log" 2>/dev/null | diag
		done
	fi
	kill "${serve_pid[@]}" 2>/dev/null
	wait "${serve_pid[@]}" 2>/dev/null
	for ns in a b; do
		on_host "$ns" virsh destroy "$name" >/dev/null 2>&1
		on_host "$ns" virsh destroy "$name-ram" >/dev/null 2>&1
		on_host "$ns" virsh destroy "$name-arg" >/dev/null 2>&1
	done
	libvirt_down
	qemu_net_down
	rm -rf "$dir"
}
trap cleanup EXIT

qemu_net_up "shm-l$$" || bail "cannot make the network"
libvirt_up "$dir" a b || bail "libvirtd did not start"
head -c 32 /dev/urandom >"$dir/key" && chmod 600 "$dir/key"

# The domain's state on host NS, as libvirt has it ("running", "shut
# off"), or nothing if libvirt has no such domain there.
state_on() { # NS [DOMAIN]
	on_host "$1" virsh domstate "${2:-$name}" 2>/dev/null | head -n1
}

# Host NS has no domain of ours active (running or paused), and no
# migration.
clean_on() { # NS
	local state

	state=$(state_on "$1")
	[[ -z $state || $state == "shut off" ]] &&
		[[ -z $(on_host "$1" "$SHMCTL" status 2>&1 | grep -v "no migrations") ]]
}

# A migration of DOMAIN from A refused (exit status 6), saying PATTERN.
refused() { # DESCRIPTION PATTERN DOMAIN
	check_exit "$1" 6 "$2" on_host a "$SHMCTL" migrate "libvirt:$3" \
		--to "$QEMU_B_IP" --key "$dir/key"
}

# A domain for a refusal, in $dir/SUFFIX.xml: the guest's XML, named
# NAME-SUFFIX, without its interface, disk and console (the guest's own),
# and changed by the sed EXPRESSIONS given.
other_domain() { # SUFFIX EXPRESSIONS...
	sed -e "s|<name>$name</name>|<name>$name-$1</name>|" \
		-e "/<interface/,/<\/interface>/d" -e "/<disk/,/<\/disk>/d" \
		-e "s|<serial type='file'>.*</serial>||" "${@:2}" \
		"$dir/$name.xml" >"$dir/$1.xml"
}

# QEMU's migration capabilities on host NS have each CAP=STATE given.
caps_are() { # NS CAP=STATE...
	local ns=$1 caps

	shift
	caps=$(on_host "$ns" virsh qemu-monitor-command "$name" --return-value \
		'{"execute":"query-migrate-capabilities"}' |
		jq -r '.[] | "\(.capability)=\(.state)"')
	echo "$caps" | grep -E "ignore-shared|switchover"
	for cap; do
		grep -qx "$cap" <<<"$caps" || return 1
	done
}

# A migration of the domain from host FROM to TO_ADDR; its output in OUT.
migrate() { # FROM TO_ADDR OUT [OPTIONS]
	local from=$1 to=$2 out=$3

	shift 3
	on_host "$from" timeout -k 5 240 "$SHMCTL" migrate "libvirt:$name" \
		--to "$to" --key "$dir/key" "$@" >"$out" 2>"$out.err"
}

# A migration from B to A, stopped once pre-copy runs by HOW: dest-kill
# (SIGKILL to A's QEMU), kill (SIGKILL to shmctl, B's QEMU stopped as a
# scan of its writes stops it), or serve-kill-starting (SIGKILL to A's
# shmctl serve while its libvirtd starts the domain, started again after).
migrate_broken() { # HOW
	local pid rc=0 qemu="qemu-system-x86_64 -name guest=$name," phase=precopy

	[[ $1 == serve-kill-starting ]] && phase=starting
	migrate_until "$phase" b "$dir/broken.out" "libvirt:$name" \
		--to "$QEMU_A_IP" --key "$dir/key"
	pid=$host_pid
	case $1 in
	dest-kill) kill -KILL "$(host_pid_of a "$qemu")" ;;
	kill)
		# As a scan of QEMU's writes leaves it, which the guard undoes.
		kill -STOP "$(host_pid_of b "$qemu")"
		kill -KILL "$pid"
		;;
	serve-kill-starting)
		kill -KILL "${serve_pid[a]}"
		wait "${serve_pid[a]}" 2>/dev/null
		serve_start a "$QEMU_A_IP" "$dir"
		;;
	esac
	wait "$pid" 2>/dev/null || rc=$?
	diag <"$dir/broken.out"
	diag "shmctl migrate exited $rc"
	((rc != 0))
}

plan 27

qemu_hold_code_patches
libvirt_guest_xml "$name" "$dir" 64 1000 200 >"$dir/$name.xml" ||
	bail "no disk for the guest"
# A description of 35 KB, which escaping for the wire makes 47 KB: what
# a domain of many devices may come to.
description=$(printf "shm moves this domain's XML whole. %.0s" $(seq 1000))
description=${description% }
sed -i "s|</name>|</name><description>$description</description>|" "$dir/$name.xml"
if ! on_host a virsh -q define "$dir/$name.xml" >/dev/null ||
	! on_host a virsh -q start "$name" >/dev/null; then
	bail "libvirt did not start the domain"
fi
for _ in $(seq "$QEMU_BOOT_TIMEOUT"); do
	grep -q '^shm-guest: ready' "$dir/$name.console" 2>/dev/null && break
	sleep 1
done
guest_checks "$name" "$dir" >/dev/null || bail "the guest did not boot"
serve_start b "$QEMU_B_IP" "$dir"
serve_start a "$QEMU_A_IP" "$dir"
guest_echo_start "$dir/echo.out" 3600

# --- Refusals, before anything starts on B.
refused "a domain libvirt does not have: refused, saying so" \
	"libvirt has no such domain" no-such-domain
other_domain ram -e "/<memoryBacking>/d"
on_host a virsh -q define "$dir/ram.xml" >/dev/null
refused "a domain that is not running: refused, saying so" \
	"domain $name-ram is not running" "$name-ram"
# Started paused: its QEMU is all the test needs, no guest runs.
on_host a virsh -q start --paused "$name-ram" >/dev/null
refused "a domain whose RAM is not shared: refused, saying what to add" \
	"its RAM is not shared: add <memoryBacking><source type='memfd'/><access mode='shared'/>" \
	"$name-ram"
on_host a virsh -q destroy "$name-ram" >/dev/null
on_host a virsh -q undefine "$name-ram" >/dev/null
# Shared RAM, and a QEMU argument of the domain's own, which the
# destination's libvirtd would run unchecked.
other_domain arg \
	-e "s|<domain type='kvm'>|<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>|" \
	-e "s|</domain>|<qemu:commandline><qemu:arg value='-msg'/><qemu:arg value='timestamp=on'/></qemu:commandline></domain>|"
on_host a virsh -q create --paused "$dir/arg.xml" >/dev/null
refused "a domain with QEMU arguments of its own: refused, saying so" \
	"its XML has an element <qemu:commandline>" "$name-arg"
on_host a virsh -q destroy "$name-arg" >/dev/null
check "... B is left clean" clean_on b

# --- A to B.
if migrate a "$QEMU_B_IP" "$dir/ab.out" --verify; then
	ok "A -> B: migrated, memory equal at the pause (--verify)"
else
	diag <"$dir/ab.out.err"
	diag <"$dir/serve-b.log"
	not_ok "A -> B: migrated, memory equal at the pause (--verify)"
fi
diag <"$dir/ab.out"
check "A -> B: libvirt runs the domain on B" eval '[[ $(state_on b) == running ]]'
check "A -> B: on A the domain is defined, shut off" \
	eval '[[ $(state_on a) == "shut off" ]]'
check "A -> B: its XML came whole (a description of 35 KB)" \
	eval '[[ $(on_host b virsh desc "$name") == "$description" ]]'
check "A -> B: the guest answers on B, its self-check passes" guest_checks "$name" "$dir"
check "A -> B: B's QEMU has its own capabilities back" \
	caps_are b x-ignore-shared=false pause-before-switchover=false

# --- Failures mid-way, from B's domain to A's: the domain runs on at B.
on_host b tc qdisc add dev up0 root tbf rate 40mbit burst 256kb latency 100ms
for how in dest-kill kill serve-kill-starting; do
	case $how in
	dest-kill) what="destination QEMU killed" ;;
	kill) what="shmctl migrate killed" ;;
	serve-kill-starting)
		what="A's shmctl serve killed while its libvirtd starts the domain" ;;
	esac
	check "$what: shmctl migrate fails" migrate_broken "$how"
	check "$what: the domain runs on at B, its guest passes its self-check" \
		eval '[[ $(state_on b) == running ]] && guest_checks "$name" "$dir"'
	check "$what: B's QEMU has its own capabilities back" \
		caps_are b x-ignore-shared=false pause-before-switchover=false
	check "$what: A is left clean" eventually 10 clean_on a
done
on_host b tc qdisc del dev up0 root

# --- Back to A, into its defined domain.
if migrate b "$QEMU_A_IP" "$dir/ba.out" --verify; then
	ok "B -> A: migrated back, memory equal at the pause"
else
	diag <"$dir/ba.out.err"
	diag <"$dir/serve-a.log"
	not_ok "B -> A: migrated back, memory equal at the pause"
fi
check "B -> A: A's domain runs again, B has none" \
	eval '[[ $(state_on a) == running && -z $(state_on b) ]]'
check "B -> A: the guest's self-check passes on A" guest_checks "$name" "$dir"

check "the observer's TCP connection lived through every move and failure" \
	guest_echo_wait "$dir/echo.out" stop
finish
