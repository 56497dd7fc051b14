# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# TAP helpers for shell tests, in the spirit of kselftest. Source it:
#
#   . "$(dirname "$0")/lib.sh"
#   plan 3                          # optional: else the plan comes at the end
#   check "module is listed" grep -qw shm /proc/modules
#   check_fails "bad port refused" "$SHMCTL" serve --port 0
#   check_exit "unknown session" 5 "no session 9" "$SHMCTL" session show 9
#   [[ -c /dev/kvm ]] && ok "kvm" || skip "kvm" "no /dev/kvm"
#   finish                          # exit 1 if any failed, 4 if all skipped
#
# skip_all REASON at the start skips the whole test (exit 4). A test's own
# output should be "# " diagnostics (diag), so that only our lines are TAP.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

_tap_n=0 _tap_plan='' _tap_failed=0 _tap_skipped=0

echo "TAP version 13"

plan() { # COUNT
	_tap_plan=$1
	echo "1..$1"
}

diag() { # MESSAGE... (or stdin, without arguments)
	if (($#)); then printf '%s\n' "$*"; else cat; fi | sed 's/^/# /'
}

ok() { # DESCRIPTION
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n $1"
}

not_ok() { # DESCRIPTION
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n $1"
}

skip() { # DESCRIPTION REASON
	_tap_n=$((_tap_n + 1))
	_tap_skipped=$((_tap_skipped + 1))
	echo "ok $_tap_n $1 # SKIP $2"
}

# Runs COMMAND and shows what it printed (stdout and stderr) as
# diagnostics, so that it never passes for a TAP line of ours. Leaves the
# output in _out and the exit status in _rc.
_run() { # COMMAND...
	_rc=0
	_out=$("$@" 2>&1) || _rc=$?
	[[ -z $_out ]] || diag "$_out"
}

# ok if COMMAND succeeds.
check() { # DESCRIPTION COMMAND...
	local desc=$1
	shift
	_run "$@"
	((_rc == 0)) && ok "$desc" && return
	diag "'$*' failed with status $_rc"
	not_ok "$desc"
}

# The opposite: ok if COMMAND fails (an error path that must refuse).
check_fails() { # DESCRIPTION COMMAND...
	local desc=$1
	shift
	_run "$@"
	((_rc != 0)) && ok "$desc" && return
	diag "'$*' succeeded but should have failed"
	not_ok "$desc"
}

# ok if COMMAND exits with STATUS and prints something matching the
# extended regular expression PATTERN: an error path and its message.
check_exit() { # DESCRIPTION STATUS PATTERN COMMAND...
	local desc=$1 want=$2 pattern=$3
	shift 3
	_run "$@"
	((_rc == want)) && grep -Eq -- "$pattern" <<<"$_out" && ok "$desc" &&
		return
	diag "'$*' exited $_rc (want $want), output should match /$pattern/"
	not_ok "$desc"
}

# What every process whose command line matches PATTERN is doing, as
# diagnostics: for a test that found something hung.
dump_processes() { # PATTERN
	local pid
	for pid in $(pgrep -f "$1"); do
		echo "--- $pid: $(tr '\0' ' ' </proc/$pid/cmdline)"
		cat /proc/$pid/task/*/stack 2>/dev/null | sort | uniq -c
	done | diag
}

bail() { # REASON
	echo "Bail out! $*"
	exit 1
}

# Whether COMMAND succeeds within SECONDS, tried every 0.2 s: for what a
# test waits on that another process does in its own time.
eventually() { # SECONDS COMMAND...
	local tries=$(($1 * 5))

	shift
	while ((tries-- > 1)); do
		"$@" && return
		sleep 0.2
	done
	"$@"
}

# Until shmctl serve, its output in LOG, says it serves; bails out if it
# does not within 10 s.
serve_ready() { # LOG
	for _ in $(seq 100); do
		grep -q "serving migrations" "$1" && return
		sleep 0.1
	done
	diag <"$1"
	bail "shmctl serve did not start ($1)"
}

skip_all() { # REASON
	echo "1..0 # SKIP $1"
	exit $KSFT_SKIP
}

# Last line of a test: the plan if none was given, and the exit status the
# runner reads (a plan not met is a failure: the test stopped early).
finish() {
	if [[ -z $_tap_plan ]]; then
		echo "1..$_tap_n"
	elif ((_tap_n != _tap_plan)); then
		diag "planned $_tap_plan tests but ran $_tap_n"
		exit $KSFT_FAIL
	fi
	((_tap_failed == 0)) || exit $KSFT_FAIL
	((_tap_n == 0 || _tap_skipped < _tap_n)) || exit $KSFT_SKIP
	exit $KSFT_PASS
}
