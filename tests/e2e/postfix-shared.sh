#!/usr/bin/env bash
# postfix-shared.sh - two MX hosts, as two real Postfix instances (mx1 and
# mx2, each `postfix -c DIR` with its own helpers under
# systemd-socket-activate), sharing one redis-server: the first message
# to mx1 waits and is delivered, the next one from that /24 to mx2 does
# not wait.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/postfix-lib.sh"
pf_need

SC=$TOOLS/smtp-client
rs_start || { not_ok "redis-server starts"; done_testing; exit 1; }
for mx in mx1 mx2; do
    mkdir -p "$T/$mx"
    printf 'database = redis://127.0.0.1:%s/0\nstate_directory = %s/%s\nsleep = 2s\n' \
        "$RS_PORT" "$T" "$mx" >"$T/$mx.conf"
done
ADMIN="$BIN/tarpit-admin -c $T/mx2.conf"
declare -A PORT MASTER
for mx in mx1 mx2; do
    cport=$(free_port); activate "$T/$mx-check.log" "$cport" "$BIN/tarpit-check" -c "$T/$mx.conf"
    sport=$(free_port); activate "$T/$mx-store.log" "$sport" "$BIN/tarpit-store" -c "$T/$mx.conf"
    pf_start "$T/$mx/pf" "$cport" "$sport" || { not_ok "postfix $mx starts"; done_testing; exit 1; }
    PORT[$mx]=$PF_PORT MASTER[$mx]=$PF_MASTER
    at_exit "PF_MASTER=${MASTER[$mx]} pf_stop '$T/$mx/pf'"
done
note "two Postfix instances: mx1 on 127.0.0.1:${PORT[mx1]}, mx2 on 127.0.0.1:${PORT[mx2]}, one redis-server"

"$SC" -b 127.0.3.5 -r user@example.test 127.0.0.1 "${PORT[mx1]}" >"$T/s1" 2>&1
expect_range "mx1: a new network waits at RCPT about sleep=2s (ms)" "$(pf_rcpt_ms "$T/s1")" 1900 4000
q=$(pf_qid "$T/s1")
check "mx1: its message is delivered ($q)" pf_delivered "$T/mx1/pf" "$q"
expect_eq "the escape is on the server" "$(json_field "$($ADMIN --json check 127.0.3.5)" escapes)" "1"
"$SC" -b 127.0.3.77 -r user@example.test 127.0.0.1 "${PORT[mx2]}" >"$T/s2" 2>&1
expect_range "mx2: the next message from that /24 does not wait (ms)" "$(pf_rcpt_ms "$T/s2")" 0 1000
q=$(pf_qid "$T/s2")
check "mx2: and is delivered ($q)" pf_delivered "$T/mx2/pf" "$q"
"$SC" -b 127.0.4.5 -r user@example.test 127.0.0.1 "${PORT[mx2]}" >"$T/s3" 2>&1
expect_range "mx2: a network new to both waits there too (ms)" "$(pf_rcpt_ms "$T/s3")" 1900 4000
no_crash
done_testing
