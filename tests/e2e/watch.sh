#!/usr/bin/env bash
# watch.sh - the watched wait: real TCP connections on loopback stand in
# for smtpd's connection to the SMTP client, and tarpit-check (sleep 30s)
# must see the client hang up (FIN or RST) or talk, IPv4 and IPv6.
. "$(dirname "$0")/../lib.sh"

PC=$TOOLS/policy-client
WP=$TOOLS/watch-peer
ADMIN="$BIN/tarpit-admin -c $T/tarpit.conf"
cat >"$T/tarpit.conf" <<CONF
database = $T/tarpit.db
sleep = 30s
greylist = no
CONF
CPORT=$(free_port); activate "$T/check.log" "$CPORT" "$BIN/tarpit-check" -c "$T/tarpit.conf"
CHECK_PID=$ACTIVATOR
PEERS=()
at_exit 'for p in "${PEERS[@]}"; do kill "$p" 2>/dev/null; done'

# peer NAME ARGS... - start a stand-in connection; its attributes in
# $T/NAME, the moment of its hang-up or talk in $T/NAME.event.  A RST or
# a talk must come after the helper began to watch (a socket already
# reset cannot be found; bytes already queued are not talk over the
# wait), so those peers wait 2.5 s: time for a busy machine to start
# the helper.  A FIN before the watch begins is seen all the same.
peer() {
    local n=$1; shift
    "$WP" -e "$T/$n.event" "$@" >"$T/$n" &
    PEERS+=("$!")
    local i; for i in $(seq 1 100); do grep -q server_port "$T/$n" 2>/dev/null && return 0; sleep 0.02; done
    return 1
}
# ask_for NAME [PORT] - a policy request naming that connection:
# "REPLY MS SENT_AT REPLIED_AT" (policy-client -a)
ask_for() {
    { printf 'request=smtpd_access_policy\nprotocol_state=RCPT\n'; cat "$T/$1"; printf '\n'; } |
        "$PC" -a -t 60000 127.0.0.1 "${2:-$CPORT}"
}
# (the reply may hold spaces: count from the end)
took_ms() { awk '{print $(NF-2)}' <<<"$1"; }
replied_at() { awk '{print $NF}' <<<"$1"; }

# noticed NAME OUT WHAT - the reply came soon after the peer's event.
# Both moments are read from one clock (CLOCK_MONOTONIC) by the two
# sides that saw them, so the bound is not moved by when the peer or
# the request was started: the reply cannot come before the event that
# caused it (0).  The helper looks every 500 ms, then records the end of
# the wait (a synchronous write) before it answers; the rest of the 5 s
# is for a busy machine's scheduling and disk.  A wait that missed the
# event answers only after the full 30 s.
noticed() {
    local ev; ev=$(cat "$T/$1.event" 2>/dev/null)
    if [ -z "$ev" ]; then not_ok "$3" "the peer recorded no event"; return; fi
    expect_range "$3" "$(( $(replied_at "$2") - ev ))" 0 5000
}
# waited OUT WHAT - the database recorded the wait's real length
# (last_wait_ms, in $j), not the 30 s it was begun with: it lies within
# the request's round trip, which the client timed around it
waited() {
    expect_range "$2" "$(json_field "$j" last_wait_ms)" 0 "$(( $(took_ms "$1") + 1 ))"
}

# 1. FIN 2 s into a 30 s wait: answered within the next look.
peer fin -d 2000 -m close
out=$(ask_for fin)
noticed fin "$out" "FIN: answered soon after the hang-up (ms after it)"
j=$($ADMIN --json check 127.0.0.1)
expect_eq "FIN: a hang-up is recorded, no pending wait" "$(json_field "$j" hangups)/$(json_field "$j" pending)" "1/0"
waited "$out" "FIN: the time it waited is recorded (last_wait_ms)"
$ADMIN del 127.0.0.1 >/dev/null

# 2. RST instead of FIN.
peer rst -d 2500 -m rst
out=$(ask_for rst)
noticed rst "$out" "RST: answered soon after the reset (ms after it)"
j=$($ADMIN --json check 127.0.0.1)
expect_eq "RST: a hang-up is recorded" "$(json_field "$j" hangups)" "1"
$ADMIN del 127.0.0.1 >/dev/null

# 3. The client talks during the wait: an early talker, rejected.
peer talk -d 2500 -m talk
out=$(ask_for talk)
noticed talk "$out" "early talker: answered soon after it talked (ms after it)"
expect_eq "early talker: answered with early_talker_action (REJECT)" "$(act_of "$out")" "action=REJECT"
j=$($ADMIN --json check 127.0.0.1)
expect_eq "early talker: counted, neither hang-up nor pending" \
    "$(json_field "$j" early_talkers)/$(json_field "$j" hangups)/$(json_field "$j" pending)" "1/0/0"
$ADMIN del 127.0.0.1 >/dev/null

# 3b. A goodbye: QUIT, and the FIN a second later (a client that gave up,
#     then waited a while for the answer to its QUIT): a hang-up, not talk.
peer quit -d 2500 -m quit -q 1000
out=$(ask_for quit)
noticed quit "$out" "goodbye: answered soon after the QUIT (ms after it)"
expect_eq "goodbye then FIN: answered DUNNO, as a hang-up" "$(act_of "$out")" "action=DUNNO"
j=$($ADMIN --json check 127.0.0.1)
expect_eq "goodbye then FIN: a hang-up, not an early talker" \
    "$(json_field "$j" hangups)/$(json_field "$j" early_talkers)/$(json_field "$j" pending)" "1/0/0"
check "goodbye then FIN: logged as one" grep -q "hang-up after .* of the wait (said goodbye)$" "$T/check.log"
$ADMIN del 127.0.0.1 >/dev/null

# 3c. One short line, and the client stays: QUIT from a client that
#     waits for its answer, or DATA from a talker.  A hang-up (goodbye)
#     within a second, answered with a temporary refusal: the one loses
#     nothing, the other gets no recipient.
peer line -d 2500 -m line
out=$(ask_for line)
noticed line "$out" "one short line: answered soon after it (ms after it)"
expect_eq "one short line, still connected: a temporary refusal" "$(act_of "$out")" "action=DEFER_IF_PERMIT"
j=$($ADMIN --json check 127.0.0.1)
expect_eq "one short line: counted as a hang-up" \
    "$(json_field "$j" hangups)/$(json_field "$j" early_talkers)/$(json_field "$j" pending)" "1/0/0"
$ADMIN del 127.0.0.1 >/dev/null

# 4. early_talker_action = ignore: noted, the wait goes on.
cat >"$T/ignore.conf" <<CONF
database = $T/tarpit.db
greylist = no
sleep = 5s
early_talker_action = ignore
CONF
P2=$(free_port); activate "$T/ignore.log" "$P2" "$BIN/tarpit-check" -c "$T/ignore.conf"
peer talk2 -d 2500 -m talk
out=$(ask_for talk2 "$P2")
expect_range "early_talker_action=ignore: the full wait (ms)" "$(took_ms "$out")" 4950 8000
j=$($ADMIN --json check 127.0.0.1)
expect_eq "ignore: still counted as an early talker, and the wait completed" \
    "$(json_field "$j" early_talkers)/$(json_field "$j" pending)" "1/1"
$ADMIN del 127.0.0.1 >/dev/null

# 5. An unknown 4-tuple: a plain wait, noted once in the log.
printf 'client_address=192.0.2.1\nclient_port=1234\nserver_address=127.0.0.1\nserver_port=25\n' >"$T/unknown"
cat >"$T/short.conf" <<CONF
database = $T/tarpit.db
greylist = no
sleep = 2s
CONF
P3=$(free_port); activate "$T/short.log" "$P3" "$BIN/tarpit-check" -c "$T/short.conf"
out=$(ask_for unknown "$P3")
expect_range "unknown connection: the full wait (ms)" "$(took_ms "$out")" 1950 5000
check "unknown connection: noted in the log" grep -q "cannot watch the SMTP client" "$T/short.log"

# 6. watch_client = no: a client that hangs up is not seen.
cat >"$T/nowatch.conf" <<CONF
database = $T/tarpit.db
greylist = no
sleep = 3s
watch_client = no
CONF
P4=$(free_port); activate "$T/nowatch.log" "$P4" "$BIN/tarpit-check" -c "$T/nowatch.conf"
peer fin2 -d 500 -m close
out=$(ask_for fin2 "$P4")
expect_range "watch_client=no: the full wait despite the hang-up (ms)" "$(took_ms "$out")" 2950 6000
$ADMIN del 127.0.0.1 >/dev/null

# 7. IPv6: FIN and early talk on ::1.
if ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
    peer fin6 -6 -d 1500 -m close
    out=$(ask_for fin6)
    noticed fin6 "$out" "IPv6 FIN: answered soon after the hang-up (ms after it)"
    j=$($ADMIN --json check ::1)
    expect_eq "IPv6: a hang-up for ::/64" "$(json_field "$j" hangups)" "1"
    peer talk6 -6 -d 2500 -m talk
    out=$(ask_for talk6)
    expect_eq "IPv6 early talker: REJECT" "$(act_of "$out")" "action=REJECT"
    peer rst6 -6 -d 2500 -m rst
    out=$(ask_for rst6)
    noticed rst6 "$out" "IPv6 RST: answered soon after the reset (ms after it)"
else
    not_ok "IPv6 on loopback" "::1 is not configured on lo"
fi

# 8. The host-wide histogram counts each hang-up in its 10 s bucket.
out=$($ADMIN --json stats 2>/dev/null)
expect_eq "stats: hang-ups counted host-wide" "$(json_field "$out" hangups)" "6"
expect_eq "stats: all of them in the 0-10s bucket" \
    "$(printf '%s' "$out" | grep -o '{"from":0,"to":10,"count":[0-9]*}')" '{"from":0,"to":10,"count":6}'
# Each waited 1 to 10 s before it hung up: the total is in between.
expect_range "stats: the time waited by those who hung up (ms)" "$(json_field "$out" hangup_ms)" 6000 60000

wait_no_children "$CHECK_PID" 3000
expect_eq "no helper process left" "$(children "$CHECK_PID")" "0"
no_crash
done_testing
