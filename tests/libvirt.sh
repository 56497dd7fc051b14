# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# libvirt on the two hosts of tests/qemu.sh, for shell tests of libvirt's
# domains: a libvirtd of its own on each host, in the host's network
# namespace and a mount namespace where libvirt's directories are its own
# (tmpfs), its socket where shmctl on that host finds it through
# LIBVIRT_DEFAULT_URI. Source it after qemu.sh:
#
#   libvirt_up "$dir" a b                 # libvirtd on hosts a and b
#   libvirt_guest_xml NAME DIR [MEM_MIB RATE DISK_RATE] >g.xml
#   on_host a virsh define g.xml          # virsh, shmctl, ... with host a's
#   libvirt_down
#
# The guest is tests/qemu.sh's, as libvirt starts it: the same kernel,
# initramfs, disk, bridge, MAC and address, its console a file.

libvirt_pids=()

# Why libvirt's domains cannot be tested here, if they cannot.
libvirt_missing() {
	command -v libvirtd >/dev/null || { echo "no libvirtd"; return; }
	command -v virsh >/dev/null || echo "no virsh"
}

# Host NS's libvirt URI: its libvirtd's socket.
libvirt_uri() { # NS
	echo "qemu+unix:///system?socket=$libvirt_dir/$1/libvirt-sock"
}

# Commands on host NS talk to its libvirtd (tests/qemu.sh's on_host).
host_env() { # NS
	echo "LIBVIRT_DEFAULT_URI=$(libvirt_uri "$1")"
}

# A libvirtd on each host NS given, one after the other: the first probes
# QEMU (seconds under TCG) for a cache the others share.
libvirt_up() { # DIR NS...
	local ns conf

	libvirt_dir=$1/libvirt
	shift
	mkdir -p "$libvirt_dir/cache"
	for ns; do
		conf=$libvirt_dir/$ns-etc
		mkdir -p "$conf" "$libvirt_dir/$ns"
		# Root's QEMU, no confinement, no cgroups, no per-domain /dev,
		# no virtlogd: what a test VM without systemd can give it.
		cat >"$conf/libvirtd.conf" <<-EOF
			unix_sock_dir = "$libvirt_dir/$ns"
			unix_sock_rw_perms = "0700"
			auth_unix_rw = "none"
			auth_unix_ro = "none"
			log_outputs = "3:file:$libvirt_dir/$ns.log"
		EOF
		cat >"$conf/qemu.conf" <<-EOF
			security_driver = "none"
			user = "root"
			group = "root"
			dynamic_ownership = 0
			remember_owner = 0
			cgroup_controllers = [ ]
			namespaces = [ ]
			stdio_handler = "file"
		EOF
		mkdir -p /run/libvirt
		ip netns exec "$qemu_net-$ns" unshare -m --propagation private \
			bash -c 'for d in /var/lib/libvirt /var/log/libvirt /run/libvirt /etc/libvirt; do
					mount -t tmpfs libvirt "$d" || exit
				done
				mount --bind "$1/cache" /var/cache/libvirt &&
				cp "$2"/*.conf /etc/libvirt/ &&
				exec libvirtd -f /etc/libvirt/libvirtd.conf -p "$1/$3.pid"' \
			libvirtd "$libvirt_dir" "$conf" "$ns" >"$libvirt_dir/$ns.out" 2>&1 &
		libvirt_pids+=($!)
		for _ in $(seq 120); do
			on_host "$ns" timeout 10 virsh version >/dev/null 2>&1 && continue 2
			kill -0 "${libvirt_pids[-1]}" 2>/dev/null || break
			sleep 1
		done
		diag "libvirtd on $ns did not answer:"
		tail -n 20 "$libvirt_dir/$ns.out" "$libvirt_dir/$ns.log" 2>&1 | diag
		return 1
	done
}

# The libvirtds stopped: each destroys nothing, so destroy domains first.
libvirt_down() {
	local pid

	for pid in "${libvirt_pids[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	libvirt_pids=()
}

# A domain of tests/qemu.sh's guest: its RAM a shared memfd (what shm
# moves), else as qemu_guest_start has it.
libvirt_guest_xml() { # NAME DIR [MEM_MIB RATE DISK_RATE]
	local name=$1 dir=$2 mem=${3:-64} rate=${4:-0} disk_rate=${5:-0}

	if [[ ! -f $dir/disk.img ]]; then
		"$SHM_GUEST" --make-disk "$dir/disk.img" 64 || return
	fi
	cat <<-EOF
		<domain type='kvm'>
		  <name>$name</name>
		  <memory unit='MiB'>256</memory>
		  <vcpu>1</vcpu>
		  <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>
		  <os>
		    <type arch='x86_64' machine='q35'>hvm</type>
		    <kernel>/boot/vmlinuz-$(uname -r)</kernel>
		    <initrd>$SHM_GUEST_INITRD</initrd>
		    <cmdline>console=ttyS0 quiet nopv clocksource=hpet shmg_ip=$QEMU_GUEST_IP/24 shmg_mem=$mem shmg_rate=$rate shmg_disk_rate=$disk_rate</cmdline>
		  </os>
		  <cpu mode='host-passthrough'><feature policy='disable' name='tsc-deadline'/></cpu>
		  <devices>
		    <emulator>$(command -v qemu-system-x86_64)</emulator>
		    <disk type='file' device='disk'>
		      <driver name='qemu' type='raw'/>
		      <source file='$dir/disk.img'/>
		      <target dev='vda' bus='virtio'/>
		    </disk>
		    <interface type='bridge'>
		      <source bridge='shmbr0'/>
		      <mac address='$QEMU_GUEST_MAC'/>
		      <model type='virtio'/>
		      <driver name='qemu'/>
		    </interface>
		    <serial type='file'><source path='$dir/$name.console' append='on'/></serial>
		    <memballoon model='none'/>
		  </devices>
		</domain>
	EOF
}
