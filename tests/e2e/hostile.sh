#!/usr/bin/env bash
# hostile.sh - hostile clients on the policy port: each gets its documented
# answer or a clean close within idle_timeout; no helper crashes or stays
# behind, and the database does not change.
. "$(dirname "$0")/../lib.sh"

PC=$TOOLS/policy-client
A="$BIN/tarpit-admin -c $T/tarpit.conf"
cat >"$T/tarpit.conf" <<CONF
database = $T/tarpit.db
sleep = 30s
idle_timeout = 2s
CONF
CPORT=$(free_port); activate "$T/check.log" "$CPORT" "$BIN/tarpit-check" -c "$T/tarpit.conf"
CHECK_PID=$ACTIVATOR
SPORT=$(free_port); activate "$T/store.log" "$SPORT" "$BIN/tarpit-store" -c "$T/tarpit.conf"
$A block 198.51.100.1 --comment seed >/dev/null     # a database to keep unchanged
$A dump >"$T/before"
# answered NAME WANT INPUT-COMMAND - send it to both helpers, compare
answered() {
    local name=$1 want=$2; shift 2
    local c s
    c=$("$@" | "$PC" -t 5000 127.0.0.1 "$CPORT" | awk '{print $1}' | tr '\n' ' ')
    s=$("$@" | "$PC" -t 5000 127.0.0.1 "$SPORT" | awk '{print $1}' | tr '\n' ' ')
    expect_eq "$name (check)" "${c% }" "$want"
    expect_eq "$name (store)" "${s% }" "$want"
}
r() { printf 'request=smtpd_access_policy\nclient_port=1\n'; printf '%s\n' "$@"; printf '\n'; }

answered "oversized line: closed" "eof" sh -c "printf 'request=smtpd_access_policy\nx='; head -c 100000 /dev/zero | tr '\\0' a; printf '\n\n'"
answered "oversized request of many lines: closed" "eof" sh -c "printf 'request=smtpd_access_policy\n'; for i in \$(seq 1 3000); do printf 'attr%d=%s\n' \$i 0123456789abcdef; done; printf '\n'"
answered "thousands of short attributes: DUNNO" "action=DUNNO" sh -c "printf 'request=smtpd_access_policy\n'; for i in \$(seq 1 3000); do printf 'a=\n'; done; printf '\n'"
answered "NUL bytes: DUNNO" "action=DUNNO" printf 'request=smtpd_access_policy\nclient_address=192.0.2.1\000\n\n'
answered "no final blank line: closed, unanswered" "eof" printf 'request=smtpd_access_policy\nclient_address=192.0.2.1\n'
answered "bare CR line ends: one line without '=': DUNNO" "action=DUNNO" printf 'request=smtpd_access_policy\rclient_address=192.0.2.1\r\n\n'
answered "LF only, CRLF, and mixed: all framed" "action=DUNNO action=DUNNO" \
    printf 'request=smtpd_access_policy\r\nclient_address=unknown\n\r\nrequest=smtpd_access_policy\nclient_address=unknown\r\n\n'
for addr in unknown "" "fe80::1%eth0%x" "::ffff:" "::ffff:999.1.1.1" "192.0.2.1/24" \
    "$(head -c 300 /dev/zero | tr '\0' 1)" "1.2.3.4.5" "[192.0.2.1]" "192.0.2.1 "; do
    answered "odd client_address \"${addr:0:20}\": DUNNO at once" "action=DUNNO" r "client_address=$addr"
done
answered "a request that is not a policy request: DUNNO" "action=DUNNO" printf 'request=junk\nclient_address=192.0.2.1\n\n'
answered "attribute names like paths or commands: DUNNO, nothing opened" "action=DUNNO" \
    r "../../etc/passwd=1" "client_address=|rm -rf /" "database=/tmp/x"

# One byte a second: closed within idle_timeout (2 s) of the start.
t0=$(now_ms)
( printf 'request=smtpd_access_policy\n'; for i in 1 2 3 4 5 6; do printf 'x'; sleep 1; done ) |
    "$PC" -t 10000 127.0.0.1 "$CPORT" >"$T/slow"
took=$(( $(now_ms) - t0 ))
expect_eq "one byte a second: closed" "$(act_of "$(cat "$T/slow")")" "eof"
check "one byte a second: the helper gave up at idle_timeout" grep -q "no complete request within idle_timeout" "$T/check.log"

# Connects and never speaks: closed after idle_timeout.
exec 7<>"/dev/tcp/127.0.0.1/$CPORT"
t0=$(now_ms)
if read -r -t 6 _ <&7; then got=data; else got=$?; fi
took=$(( $(now_ms) - t0 ))
exec 7>&-
expect_range "silent client: closed after idle_timeout 2s (ms)" "$took" 1900 3500

# Never reads our replies: the helper is not held beyond its reply timeout.
exec 8<>"/dev/tcp/127.0.0.1/$SPORT"
yes $'request=smtpd_access_policy\nclient_address=unknown\n' >&8 2>/dev/null &
writer=$!
sleep 1
if wait_no_children "$ACTIVATOR" 20000; then
    ok "a client that never reads: its helper gave up and exited"
else
    not_ok "a client that never reads: its helper gave up and exited" "still $(children "$ACTIVATOR") running"
fi
kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null
exec 8>&-

# Nothing changed, nothing crashed, nothing left behind.
$A dump >"$T/after"
if cmp -s "$T/before" "$T/after"; then ok "the database is unchanged"
else not_ok "the database is unchanged" "$(diff "$T/before" "$T/after" | head -5)"; fi
wait_no_children "$CHECK_PID" 5000
expect_eq "no helper process left" "$(children "$CHECK_PID")" "0"
no_crash
done_testing
