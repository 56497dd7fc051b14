#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The BPF pipeline end to end: shm.ko's tracepoints, the CO-RE program in
# bpf/trace.bpf.c and its skeleton inside shmctl. Sessions are created and
# deleted while `shmctl trace` runs; its counts and events must match.
set -u
. "$(dirname "$0")/lib.sh"

ns=shm-trace-test
trace_out=$(mktemp) trace_err=$(mktemp)
cleanup() {
	kill "${tracer:-}" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -f "$trace_out" "$trace_err"
}
trap cleanup EXIT
ip netns add "$ns"

# Starts `shmctl trace ARGS...` in the background (so not under check,
# whose subshell would lose $tracer) and waits until its probes are attached.
start_tracer() { # DESCRIPTION ARGS...
	local desc=$1 i
	shift
	"$SHMCTL" trace --json "$@" >"$trace_out" 2>"$trace_err" &
	tracer=$!
	for ((i = 0; i < 100; i++)); do
		if grep -q "^tracing" "$trace_err"; then
			ok "$desc"
			return
		fi
		kill -0 "$tracer" 2>/dev/null || break
		sleep 0.1
	done
	diag <"$trace_err"
	not_ok "$desc"
}
stop_tracer() {
	local rc=0
	kill -INT "$tracer" && wait "$tracer" || rc=$?
	diag <"$trace_err"
	((rc == 0)) && ok "tracer stops on SIGINT" || not_ok "tracer stops on SIGINT"
}
churn() { # COUNT [NETNS]
	local i id
	for ((i = 0; i < $1; i++)); do
		id=$(${2:+ip netns exec "$2"} "$SHMCTL" session new --role source) &&
		${2:+ip netns exec "$2"} "$SHMCTL" session del "$id" || return
	done
}
expect() { # DESCRIPTION JQ-FILTER
	check "$1" jq -e "$2" "$trace_out"
}

start_tracer "tracer attaches"
check "20 sessions created and deleted here" churn 20
check "5 more in another namespace" churn 5 "$ns"
stop_tracer
expect "20 creations counted" '.created == 20'
expect "20 deletions counted" '.deleted == 20'
expect "20 new -> cancelled counted, nothing else" \
	'.transitions == [{"from": "new", "to": "cancelled", "count": 20}]'
expect "nothing dropped" '.dropped == 0'
expect "60 events, all of this namespace" \
	"(.events | length) == 60 and
	 (.events | map(.netns) | unique) == [$(stat -L -c %i /proc/self/ns/net)]"
expect "timestamps never go back" \
	'[.events[].time_ns] as $t | $t == ($t | sort)'
expect "each session: created, cancelled, deleted, in that order" \
	'.events | group_by(.session) | all(map(.event) == ["new", "state", "del"])'

start_tracer "tracer attaches to all namespaces" --all-namespaces
churn_both() { churn 3 && churn 4 "$ns"; }
check "3 sessions here, 4 in another namespace" churn_both
stop_tracer
expect "7 creations counted across namespaces" '.created == 7 and .deleted == 7'
expect "two namespaces seen" '(.events | map(.netns) | unique | length) == 2'

check "--duration ends the trace by itself" \
	timeout 20 "$SHMCTL" trace --duration 1
finish
