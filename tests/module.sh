#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Loading and unloading shm.ko: with no session, with live sessions in two
# network namespaces and an event listener, after a namespace holding
# sessions is removed, and over many cycles. Leaves the module loaded.
set -u
. "$(dirname "$0")/lib.sh"

ns=shm-module-test
loaded() { [[ -d /sys/module/shm ]]; }
family_registered() { genl ctrl get name shm >/dev/null 2>&1; }
new_sessions() { # COUNT [NETNS]
	local i
	for ((i = 0; i < $1; i++)); do
		${2:+ip netns exec "$2"} "$SHMCTL" session new --role source \
			>/dev/null || return
	done
}
session_count() { # [NETNS]
	${1:+ip netns exec "$1"} "$SHMCTL" --json info | jq -e .sessions
}
cleanup() {
	ip netns del "$ns" 2>/dev/null
	kill "${monitor:-}" 2>/dev/null
	loaded || insmod "$SHM_KO"
}
trap cleanup EXIT

check "module is loaded" loaded
check "module licence is GPL" test "$(modinfo -F license "$SHM_KO")" = GPL
check "version in sysfs is the build's" \
	test "$(cat /sys/module/shm/version)" = "$(cat "$SHM_REPO/VERSION")"
check "family shm registered" family_registered

check "unload with no session" rmmod shm
check_fails "family gone after unload" family_registered
check "load again" insmod "$SHM_KO"
check "family registered again" family_registered

ip netns add "$ns"
check "5 sessions in the initial namespace" new_sessions 5
check "3 sessions in another namespace" new_sessions 3 "$ns"
"$SHMCTL" monitor >/dev/null 2>&1 &
monitor=$!
check "unload with 8 live sessions and a listener" rmmod shm
check "load again" insmod "$SHM_KO"
check "no session survived the reload" test "$(session_count)" = 0
check "nor in the other namespace" test "$(session_count "$ns")" = 0

check "sessions in a namespace about to go" new_sessions 3 "$ns"
check "2 sessions here" new_sessions 2
check "namespace with live sessions removed" ip netns del "$ns"
check "sessions of this namespace untouched" test "$(session_count)" = 2

cycles() {
	local i
	for ((i = 0; i < 20; i++)); do
		new_sessions 2 && rmmod shm && insmod "$SHM_KO" || return
	done
}
check "20 load/unload cycles with live sessions" cycles
check "module is loaded at the end" loaded
finish
