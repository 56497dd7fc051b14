#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# QEMU VMs that shm cannot move as they are: shmctl migrate refuses each
# before anything moves (exit status 6) with a sentence that says what to
# change, and leaves QEMU as it was. RAM outside a memory backend, in one
# that cannot be shared or is not shared; another accelerator; the KVM
# dirty ring; a snapshot disk; a disk at a relative path; an option the
# qemu driver does not know; a VM that never started; a monitor libvirtd
# holds (socat holds it here, at the path libvirt gives it). Each QEMU
# stays paused from its start (-S): no guest needs to run for this.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/qemu.sh"

qemu_required

dir=$(mktemp -d)
name=refused$$
cleanup() {
	pkill -KILL -f "qemu-system-x86_64 -name $name " 2>/dev/null
	rm -rf "$dir" "/dev/shm/shm-$name.ram"
}
trap cleanup EXIT
head -c 32 /dev/urandom >"$dir/key" && chmod 600 "$dir/key"
truncate -s 1M "$dir/disk.img"

# RAM as shm moves it: one shared file backend.
RAM=(-machine "q35,memory-backend=ram0" -object
	"memory-backend-file,id=ram0,size=64M,mem-path=/dev/shm/shm-$name.ram,share=on")

# shmctl migrate refuses a QEMU started (paused, in $dir) with ARGS,
# saying PATTERN; that QEMU is still there, still paused. Its monitor is
# $qmp, held by another client meanwhile if $hold is set.
qmp=$dir/vm.qmp hold=
refused() { # DESCRIPTION PATTERN ARGS...
	local desc=$1 pattern=$2 out rc=0 holder=
	shift 2
	rm -f "$qmp"
	if ! (cd "$dir" && qemu-system-x86_64 -name "$name" -S -m 64M -smp 1 \
		-nodefaults -no-user-config -display none \
		-qmp "unix:$qmp,server=on,wait=off" -pidfile "$dir/pid" \
		-daemonize "$@") >"$dir/qemu.log" 2>&1; then
		diag <"$dir/qemu.log"
		not_ok "$desc (QEMU did not start)"
		return
	fi
	if [[ -n $hold ]]; then
		# Greeted: the monitor is the holder's.
		socat -u "UNIX-CONNECT:$qmp" - >"$dir/held" &
		holder=$!
		for _ in $(seq 50); do
			grep -q QMP "$dir/held" && break
			sleep 0.1
		done
	fi
	out=$("$SHMCTL" migrate "qemu:$qmp" --to 127.0.0.1 --key "$dir/key" \
		--dry-run 2>&1) || rc=$?
	[[ -n $holder ]] && kill "$holder" && wait "$holder" 2>/dev/null
	diag "$out"
	if ((rc == 6)) && grep -Eq -- "$pattern" <<<"$out" &&
		"$QMP" "$qmp" query-status | grep -q '"status":"prelaunch"'; then
		ok "$desc"
	else
		diag "exit status $rc (want 6), output should match /$pattern/"
		not_ok "$desc"
	fi
	kill "$(cat "$dir/pid")"
	for _ in $(seq 50); do
		pgrep -f "qemu-system-x86_64 -name $name " >/dev/null || break
		sleep 0.1
	done
	rm -f "/dev/shm/shm-$name.ram"
}

plan 10
qemu_hold_code_patches

refused "RAM outside a memory backend" \
	"not in a shared memory backend: start it with -object memory-backend-file" \
	-accel kvm
refused "RAM in a backend that cannot be shared" \
	"its RAM \(memory-backend-ram\) is not shareable" \
	-accel kvm -machine q35,memory-backend=ram0 \
	-object memory-backend-ram,id=ram0,size=64M
refused "RAM not shared" "its RAM backend ram0 is not shared: add share=on" \
	-accel kvm "${RAM[@]/share=on/share=off}"
refused "TCG, not KVM" "accelerator tcg: shm moves KVM VMs" \
	-accel tcg "${RAM[@]}"
refused "the KVM dirty ring" "dirty ring: start it without dirty-ring-size" \
	-accel kvm,dirty-ring-size=4096 "${RAM[@]}"
refused "a snapshot disk" "a snapshot disk lives on this host only" \
	-accel kvm "${RAM[@]}" \
	-drive "file=$dir/disk.img,format=raw,if=none,id=d0,snapshot=on"
refused "a disk at a relative path" \
	"disk disk.img is not an absolute path: the destination could not find it" \
	-accel kvm "${RAM[@]}" -drive file=disk.img,format=raw,if=none,id=d0
refused "an option the driver does not know" \
	"QEMU option -chardev is not one shm's qemu driver knows how to move" \
	-accel kvm "${RAM[@]}" -chardev null,id=c0
refused "a VM that never started" \
	"its VM is prelaunch, neither running nor paused" -accel kvm "${RAM[@]}"
mkdir "$dir/domain-1-web"
qmp=$dir/domain-1-web/monitor.sock hold=1
refused "a libvirt domain, whose monitor libvirtd holds" \
	"this is libvirt's domain-1-web, whose monitor libvirtd holds: name the domain as libvirt:NAME" \
	-accel kvm "${RAM[@]}"

finish
