#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# shmctl as an operator meets it: what it prints, and the exit status and
# message of every error case (shmctl.8 lists the exit codes).
set -u
. "$(dirname "$0")/lib.sh"

nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
mon_out=$(mktemp)
cleanup() {
	kill "${monitor:-}" 2>/dev/null
	[[ -d /sys/module/shm ]] || insmod "$SHM_KO"
	rm -f "$mon_out" "$mon_out.key"
}
trap cleanup EXIT

check_exit "--help lists the commands" 0 "session" "$SHMCTL" --help
check_exit "--version names the protocols" 0 \
	"data protocol version 2, control protocol version 2" "$SHMCTL" --version
check_exit "no command" 2 "no command" "$SHMCTL"
check_exit "unknown command" 2 "unknown command 'frobnicate'" "$SHMCTL" frobnicate
check_exit "unknown option" 2 "unknown option" "$SHMCTL" session list --colour
check_exit "session new without a role" 2 "role" "$SHMCTL" session new
check_exit "unknown role" 2 "sideways" "$SHMCTL" session new --role sideways
check_exit "zero streams" 2 "streams" "$SHMCTL" session new --role source --streams 0
check_exit "too many streams" 2 "streams" "$SHMCTL" session new --role source --streams 17
check_exit "downtime too long" 2 "downtime" \
	"$SHMCTL" session new --role source --max-downtime 60001
check_exit "bandwidth garbage" 2 "12X" "$SHMCTL" session new --role source --bandwidth 12X
check_exit "session id not a number" 2 "abc" "$SHMCTL" session show abc
check_exit "unknown session shown" 5 "no session 999999" "$SHMCTL" session show 999999
check_exit "unknown session deleted" 5 "no session 999999" "$SHMCTL" session del 999999

# Where libvirt is not installed (its library made unreadable here),
# shmctl runs, and refuses a libvirt domain saying what to install.
no_libvirt() { # COMMAND...
	local lib

	lib=$(ldconfig -p | awk '/libvirt\.so\.0 /{ print $NF; exit }')
	[[ -n $lib ]] || { "$@"; return; }
	unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' - \
		"$lib" "$@"
}
check_exit "without libvirt: --version" 0 "data protocol" no_libvirt "$SHMCTL" --version
head -c 32 /dev/urandom >"$mon_out.key" && chmod 600 "$mon_out.key"
check_exit "without libvirt: a libvirt domain is refused, saying what to install" \
	6 "libvirt's domains need libvirt.so.0 \(install libvirt0\)" \
	no_libvirt "$SHMCTL" migrate libvirt:web1 --to 127.0.0.1 --key "$mon_out.key"

"$SHMCTL" monitor --json >"$mon_out" 2>/dev/null &
monitor=$!
sleep 0.5
id=$("$SHMCTL" session new --role destination --name web1 --streams 8 \
	--max-downtime 200 --bandwidth 1Gi) || id=
check "session new prints the id alone" test -n "$id" -a "$id" -gt 0
check_exit "session list shows it" 0 "^ *$id +destination +new +\"?web1" "$SHMCTL" session list
check "session show --json" jq -e --argjson id "${id:-0}" \
	'.id == $id and .role == "destination" and .state == "new" and
	 .name == "web1" and .streams == 8 and .max_downtime_ms == 200 and
	 .bandwidth == 1073741824' <<<"$("$SHMCTL" --json session show "$id")"
check "session list --json is an array" jq -e 'length == 1' \
	<<<"$("$SHMCTL" session list --json)"
check "info --json" jq -e '.protocol == 2 and .sessions == 1 and
	.max_sessions == 1024' <<<"$("$SHMCTL" info --json)"

check_exit "unprivileged session new refused" 4 "permission denied" \
	"${nobody[@]}" "$SHMCTL" session new --role source
check_exit "unprivileged session del refused" 4 "permission denied" \
	"${nobody[@]}" "$SHMCTL" session del "$id"
check_exit "unprivileged session list allowed" 0 "web1" \
	"${nobody[@]}" "$SHMCTL" session list

check "session del" "$SHMCTL" session del "$id"
check "session list empty again" test -z "$("$SHMCTL" session list)"
sleep 0.5
kill "$monitor"
wait "$monitor" 2>/dev/null
diag <"$mon_out"
events=$(jq -r '"\(.event) \(.state // "-")"' "$mon_out" 2>&1 | tr '\n' ',')
diag "monitor saw: $events"
check "monitor saw new, cancelled, del" \
	grep -q "^new new,state cancelled,del -,$" <<<"$events"

rmmod shm
check_exit "info without the module" 3 "not loaded.*(modprobe|insmod)" "$SHMCTL" info
check_exit "session list without the module" 3 "not loaded" "$SHMCTL" session list
check_exit "trace without the module" 3 "not loaded" "$SHMCTL" trace --duration 1
insmod "$SHM_KO"

# A source that compresses (a bare --compress: always), one that does as
# it pays, one by default (never); a destination is refused.
zip=$("$SHMCTL" session new --role source --compress) || zip=
check "session new --compress: show says always" jq -e '.compress == "always"' \
	<<<"$("$SHMCTL" --json session show "${zip:-0}")"
check_exit "session new --compress: text says always" 0 "compress: +always" \
	"$SHMCTL" session show "${zip:-0}"
"$SHMCTL" session del "${zip:-0}"
zip=$("$SHMCTL" session new --role source --compress=auto) || zip=
check "session new --compress=auto: show says auto" jq -e '.compress == "auto"' \
	<<<"$("$SHMCTL" --json session show "${zip:-0}")"
"$SHMCTL" session del "${zip:-0}"
zip=$("$SHMCTL" session new --role source) || zip=
check "session new: compresses never by default" jq -e '.compress == "never"' \
	<<<"$("$SHMCTL" --json session show "${zip:-0}")"
"$SHMCTL" session del "${zip:-0}"
check_exit "session new --compress=WORD: the words are named" 2 \
	"--compress is never, auto or always, not 'fast'" \
	"$SHMCTL" session new --role source --compress=fast
check_exit "migrate --compress=WORD: the words are named" 2 \
	"--compress is never, auto or always, not 'lz4'" \
	"$SHMCTL" migrate qemu:/nonexistent --to 127.0.0.1 --compress=lz4
zip=$("$SHMCTL" session new --role destination --compress=auto) || zip=
check "session new --role destination --compress=auto: its source compresses" \
	jq -e '.role == "destination" and .compress == "auto"' \
	<<<"$("$SHMCTL" --json session show "${zip:-0}")"
"$SHMCTL" session del "${zip:-0}"

# A kernel without LZ4: its module out, and none loads (the kernel's
# modprobe is none) until the old one is back.
modprobe_was=$(cat /proc/sys/kernel/modprobe)
grep -q '^lz4 ' /proc/modules && modprobe -r lz4 2>/dev/null
if ! grep -q '^lz4 ' /proc/modules; then
	echo >/proc/sys/kernel/modprobe
	check_exit "no LZ4: a source that compresses is refused" 1 \
		"cannot compress: no LZ4 in this kernel" \
		"$SHMCTL" session new --role source --compress=auto
	check_exit "no LZ4: a destination whose source compresses is refused" 1 \
		"cannot take compressed pages: no LZ4 in this kernel" \
		"$SHMCTL" session new --role destination --compress=always
	check "no LZ4: a session that does not compress is made" \
		bash -c "id=\$('$SHMCTL' session new --role destination) && '$SHMCTL' session del \$id"
	echo "$modprobe_was" >/proc/sys/kernel/modprobe
else
	skip "no LZ4: sessions that compress are refused" "lz4 could not be unloaded"
fi

finish
