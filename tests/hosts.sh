# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Two hosts for shell tests, as tests/hosts.c makes them for C ones:
# network namespaces joined by a veth named mig0 on both sides, the
# source's side shaped with tbf, loopback up. Source it after lib.sh:
#
#   hosts_make 10.214.0 200mbit      # src=... at .1, dst=... at .2
#   on_src CMD...; on_dst CMD...     # run CMD on one host
#   hosts_shape 8mbit                # reshape the link
#
# hosts_del (or the caller's cleanup) removes them.

hosts_make() { # NET RATE
	src=shm-src-$$ dst=shm-dst-$$
	src_addr=$1.1 dst_addr=$1.2
	ip netns add "$src" && ip netns add "$dst" &&
		ip link add mig0 netns "$src" type veth peer name mig0 netns "$dst" &&
		ip -n "$src" addr add "$src_addr/24" dev mig0 &&
		ip -n "$dst" addr add "$dst_addr/24" dev mig0 &&
		ip -n "$src" link set mig0 up && ip -n "$dst" link set mig0 up &&
		ip -n "$src" link set lo up && ip -n "$dst" link set lo up &&
		on_src tc qdisc add dev mig0 root tbf rate "$2" burst 256kb latency 100ms ||
		{ echo "Bail out! cannot make the two hosts"; exit 1; }
}

hosts_shape() { # RATE
	on_src tc qdisc change dev mig0 root tbf rate "$1" burst 64kb latency 100ms
}

hosts_del() {
	ip netns del "$src" 2>/dev/null
	ip netns del "$dst" 2>/dev/null
}

on_src() { ip netns exec "$src" "$@"; }
on_dst() { ip netns exec "$dst" "$@"; }
