#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The README's demo (scripts/demo runs it in the test VM): a running VM
# moves from host A to host B with shmctl while it keeps working, and the
# checks that say it arrived whole. A test too: every claim it prints is
# checked.
#
#   host A (netns shm-a)                      host B (netns shm-b)
#   shm-testvmm: 128 MiB guest,               shmctl serve
#   writing 1000 pages/s, its VMM 200/s       (starts the VM there)
#   shmctl migrate --to $dst_addr
#        10.215.0.1 ── veth, 1 Gbit/s ── $dst_addr
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

say() { diag "$*"; }
writes() { "$vmm" ctl "$1" stats | sed -n 's/.* writes=\([0-9]*\).*/\1/p'; }

say "== two hosts: network namespaces joined by a 1 Gbit/s veth"
hosts_make 10.215.0 1gbit
# The VM's traffic (its beacon) goes from 10.215.0.100 to a client at
# 10.215.0.254, whose MAC both hosts know.
for h in "$src" "$dst"; do
	ip -n "$h" neigh add 10.215.0.254 lladdr 02:00:00:00:00:fe dev mig0 \
		nud permanent
done
# Both hosts hold the same key (on real hosts: copy it over ssh).
head -c 32 /dev/urandom >"$dir/key" && chmod 600 "$dir/key"

say "== host B: shmctl serve --listen $dst_addr"
on_dst env SHM_TESTVMM_HASH="$dir/b.hash" "$SHMCTL" serve \
	--listen "$dst_addr" --key "$dir/key" --rundir "$dir/b" \
	>"$dir/serve.log" 2>&1 &
serve_pid=$!

say "== host A: a VM, 128 MiB, its guest writing 1000 pages/s and its VMM 200/s,"
say "   sending from 10.215.0.100 while it runs"
on_src env SHM_TESTVMM_HASH="$dir/a.hash" "$vmm" run --ctl "$dir/vm1.sock" \
	--ram 128M --workload random --rate 1000 --writer-pages 256 \
	--writer-rate 200 --beacon-from 10.215.0.100 \
	--beacon-to 10.215.0.254:9 >"$dir/vm1.log" 2>&1 &
"$vmm" ctl "$dir/vm1.sock" info >/dev/null
sleep 1
before=$(writes "$dir/vm1.sock")
say "   the guest has written $before pages so far"

say "== host A: shmctl migrate vm1 --to $dst_addr --watch-ip 10.215.0.100@mig0"
on_src "$SHMCTL" migrate "$dir/vm1.sock" --to "$dst_addr" --key "$dir/key" \
	--watch-ip 10.215.0.100@mig0 \
	>"$dir/migrate.out" 2>&1 &
migrate_pid=$!
# Both hosts' shmctl status, taken together, once pre-copy runs.
for _ in $(seq 30); do
	on_src "$SHMCTL" status >"$dir/status-a" &
	on_dst "$SHMCTL" status >"$dir/status-b"
	wait $!
	grep -q "source *precopy" "$dir/status-a" && break
	sleep 0.2
done
say "   meanwhile, shmctl status on host A and on host B:"
diag <"$dir/status-a"
diag <"$dir/status-b"
rc=0
wait "$migrate_pid" || rc=$?
diag <"$dir/migrate.out"
check "shmctl migrate succeeded" test $rc -eq 0
check "the report gives the blackout and the client gap" \
	bash -c "grep -Eq 'blackout +[0-9]' '$dir/migrate.out' &&
		 grep -Eq 'client gap +[0-9]' '$dir/migrate.out'"
diag <"$dir/serve.log"

vm=$(ls "$dir"/b/*.sock 2>/dev/null | head -1)
say "== host B: the VM runs there now"
check "host B's memory equals host A's at the pause, byte for byte" \
	cmp "$dir/a.hash" "$dir/b.hash"
after=$(writes "$vm")
sleep 1
check "the guest keeps writing on host B ($after pages, then more)" \
	test "$(writes "$vm")" -gt "$after"
check "the guest checks its memory on host B" \
	bash -c "'$vmm' ctl '$vm' selfcheck >/dev/null"
check "host A let go of the VM (its VMM exited)" \
	bash -c "! '$vmm' ctl '$dir/vm1.sock' info 2>/dev/null"
"$vmm" ctl "$vm" quit >/dev/null 2>&1
finish
