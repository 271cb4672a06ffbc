#!/usr/bin/env bash
# protection.sh - no legitimate mail lost, no bot let in by what the
# tarpit learns: a real Postfix, in a network namespace of the test's own
# (so that a TEST-NET host, 192.0.2.25, can live on its loopback), with
# the helpers under systemd-socket-activate on the shipped
# unix:private/tarpit-check and -store.
#
#  1. A sender whose client gives up after 2 s of a 4 s wait and retries
#     every 2 s is delivered on its first retry after greylist_delay,
#     without a wait, and is not blocked (block_after = 2); a bot that
#     hangs up and never retries stays out, and so does one that retries
#     once (greylist_retries = 2).  swaks giving up says QUIT first: a
#     goodbye, counted as a hang-up.
#  2. A storm of bots while Postfix is under stress (stress=yes: no wait)
#     delivers; the import that the timer runs learns none of them.
#  3. A message our Postfix relays to 192.0.2.25 (smtp-sink) makes that
#     host a correspondent after the next import, from the maillog file
#     and from a journal file: its mail no longer waits.
set -u
if [ "${1:-}" != --inside ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "SKIPPED: protection.sh makes a network namespace: run it as root" >&2
        exit 77
    fi
    NS=tarpit-prot-$$
    ip netns add "$NS" || exit 1
    trap 'ip netns del "$NS" 2>/dev/null' EXIT
    trap 'exit 130' INT TERM
    ip netns exec "$NS" ip link set lo up || exit 1
    ip netns exec "$NS" ip addr add 192.0.2.25/32 dev lo || exit 1
    ip netns exec "$NS" "$0" --inside
    exit $?
fi

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/postfix-lib.sh"
pf_need
SC=$TOOLS/smtp-client
ADMIN="$BIN/tarpit-admin -c $T/tarpit.conf"
cat >"$T/tarpit.conf" <<CONF
database = $T/tarpit.db
sleep = 4s
greylist_delay = 5s
greylist_retries = 2
block_after = 2
CONF
SINK_PORT=2525
setsid smtp-sink -u nobody 192.0.2.25:$SINK_PORT 20 >"$T/sink.log" 2>&1 &
PGIDS+=("$!")
STRESS_PORT=$(free_port)
PF=$T/pf
at_exit 'pf_stop "$PF"'
# 127.0.0.1 may relay (the message of part 3); the test's clients come
# from other addresses and are not in mynetworks.
PF_EXTRA="mynetworks = 127.0.0.1/32
transport_maps = inline:{relay.test=smtp:[192.0.2.25]:$SINK_PORT}
smtp_helo_name = mx.example.test"
PF_MASTER_EXTRA="smtp      unix  - - n -    - smtp
127.0.0.1:$STRESS_PORT inet n - n - - smtpd -o stress=yes"
pf_start "$PF" unix unix || { not_ok "postfix starts"; done_testing; exit 1; }
pf_helpers "$PF" "$T/tarpit.conf" || { done_testing; exit 1; }
note "postfix $(postconf -h mail_version) in the test's namespace on 127.0.0.1:$PF_PORT (and :$STRESS_PORT under stress)"

field() { json_field "$($ADMIN --json check "$1" 2>/dev/null)" "$2"; }
state() { $ADMIN --json check "$1" 2>/dev/null | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
# reached_qmgr ADDR - did a message from ADDR ever reach the queue manager?
reached_qmgr() {
    local q
    for q in $(sed -n "s/.*smtpd.*: \([0-9A-F]*\): client=[^ ]*\[$1\].*/\1/p" "$PF/maillog"); do
        grep -q "$q: from=" "$PF/maillog" && return 0
    done
    return 1
}

# --- 1. The rescue ----------------------------------------------------------
# sender ADDR TRIES - an MTA with a 2 s timeout: tries until delivered (at
# most TRIES), 2 s apart; one line per try: "N START_MS RESULT"
sender() {
    local addr=$1 n t0 res
    for n in $(seq 1 "$2"); do
        t0=$(now_ms)
        "$SC" -b "$addr" -g 2000 -r user@example.test 127.0.0.1 "$PF_PORT" >"$T/try.$addr.$n" 2>&1
        res=$(awk '$1 == "rcpt" {r = $2} $1 == "eom" {e = $2} END {print (e == 250 ? "delivered" : r)}' "$T/try.$addr.$n")
        echo "$n $t0 $res"
        [ "$res" = delivered ] && return 0
        sleep 2
    done
    return 1
}
# bot ADDR RETRY_AFTER_S - a bot that gives up after 0.8 s; with
# RETRY_AFTER_S it tries once more that much later
bot() {
    "$SC" -b "$1" -g 800 -r user@example.test 127.0.0.1 "$PF_PORT" >"$T/bot.$1.1" 2>&1
    [ -n "${2:-}" ] || return 0
    sleep "$2"
    "$SC" -b "$1" -g 800 -r user@example.test 127.0.0.1 "$PF_PORT" >"$T/bot.$1.2" 2>&1
}
bot 127.0.32.5 &
b1=$!
bot 127.0.33.5 6 &
b2=$!
swaks --silent 1 --server 127.0.0.1 --port "$PF_PORT" --local-interface 127.0.34.5 --timeout 2 \
    --from news@list.example --to user@example.test >"$T/swaks.out" 2>&1 &
b3=$!
sender 127.0.31.5 8 >"$T/sender.tries"
rc=$?
wait "$b1" "$b2" "$b3"
cat "$T/sender.tries" | sed 's/^/       try /'
expect_eq "1. the short-timeout sender is delivered" "$rc" "0"
first=$(awk '$3 == "gave-up" {print; exit}' "$T/sender.tries")
grey1=$(awk '$3 == "450" {print $2; exit}' "$T/sender.tries")
last=$(tail -1 "$T/sender.tries")
expect_eq "1. its first try gave up during the wait (a hang-up)" "${first%% *}/$(awk '{print $3}' <<<"$first")" "1/gave-up"
if [ -n "$grey1" ]; then
    gap=$(( $(awk '{print $2}' <<<"$last") - grey1 ))
    prev=$(awk -v n="$(awk '{print $1}' <<<"$last")" '$1 == n - 1 {print $2}' "$T/sender.tries")
    # The tarpit keeps whole seconds: greylist_delay 5 s is passed by a
    # try 4 to 5 s after the first, by this client's clock.
    expect_range "1. delivered at the try that came greylist_delay (5 s) after its first greylisted one (ms)" "$gap" 3900 9000
    expect_range "1. ... the first such try: the one before came earlier than that (ms)" "$(( prev - grey1 ))" 0 5200
else
    not_ok "1. the sender was greylisted between" "$(cat "$T/sender.tries")"
fi
n=$(awk '{print $1}' <<<"$last")
expect_range "1. the delivering try was answered without a wait (ms)" "$(awk '$1 == "rcpt" {print $3}' "$T/try.127.0.31.5.$n")" 0 1500
expect_eq "1. its network escaped through the rescue, not blocked (block_after = 2)" \
    "$(state 127.0.31.5)/$(field 127.0.31.5 escapes)/$(field 127.0.31.5 learned)" "escaped/1/2"
grep -E "client=127\.0\.31\.5 " "$T/check.log" | sed 's/^/       | /'
check "1. the check log says the rescue" grep -qE "client=127\.0\.31\.5 .*passed greylisting after [0-9]+ retries: DUNNO without a wait" "$T/check.log"
check "1. the store log says the escape" grep -q "client=127.0.31.5 network=127.0.31.0/24: escape recorded" "$T/store.log"

expect_eq "1. a bot that hangs up and never retries: a hang-up, nothing delivered" \
    "$(field 127.0.32.5 hangups)/$(field 127.0.32.5 escapes)/$(reached_qmgr 127.0.32.5 && echo queued)" "1/0/"
expect_eq "1. a bot that retries once: greylisted (450), nothing delivered" \
    "$(awk '$1 == "rcpt" {print $2}' "$T/bot.127.0.33.5.2")/$(field 127.0.33.5 escapes)/$(reached_qmgr 127.0.33.5 && echo queued)" "450/0/"
expect_eq "1. swaks giving up says QUIT: a hang-up (goodbye), not an early talker" \
    "$(field 127.0.34.5 hangups)/$(field 127.0.34.5 early_talkers)" "1/0"
check "1. ... logged as a goodbye" grep -qE "client=127\.0\.34\.5 .*hang-up after .*said goodbye" "$T/check.log"

# --- 2. A storm under stress, then the import the timer runs -----------------
pids=()
for i in $(seq 1 12); do
    "$SC" -b "127.0.$((60 + i)).9" -g 800 -r user@example.test 127.0.0.1 "$STRESS_PORT" >"$T/storm.$i" 2>&1 &
    pids+=("$!")
done
wait "${pids[@]}"
stormed=$(cat "$T"/storm.* | awk '$1 == "eom" && $2 == 250' | wc -l)
expect_eq "2. under stress no bot waited: all 12 delivered" "$stormed" "12"
check "2. the check log says stress" grep -q "client=127.0.61.9 network=127.0.61.0/24: DUNNO (stress)" "$T/check.log"
timer_cmd=$(sed -n 's|^ExecStart=@SBINDIR@/tarpit-admin ||p' "$TOP/units/tarpit-import.service")
$ADMIN $timer_cmd >/dev/null 2>&1        # --journal: this machine's, none of the storm's
$ADMIN ${timer_cmd/--journal/} "$PF/maillog" >"$T/import.out"
escaped=0
for i in $(seq 1 12); do [ "$(state "127.0.$((60 + i)).9")" = escaped ] && escaped=$((escaped + 1)); done
expect_eq "2. the timer's import ('$timer_cmd', on the maillog too): no bot network escaped" "$escaped" "0"

# --- 3. Correspondents: the hosts we deliver to ------------------------------
"$SC" -b 127.0.0.1 -r friend@relay.test 127.0.0.1 "$PF_PORT" >"$T/out.msg" 2>&1
q=$(pf_qid "$T/out.msg")
if [ -n "$q" ] && pf_delivered "$PF" "$q"; then
    ok "3. our Postfix relayed a message to 192.0.2.25 ($q status=sent)"
else
    not_ok "3. our Postfix relayed a message to 192.0.2.25" "$(grep "${q:-none}" "$PF/maillog" | tail -3)"
fi
# The maillog as the journal would hold it (journald's _UID and _COMM of
# Postfix's daemons): Debian's journal-remote makes a journal file of it,
# read through sd-journal like the system journal.
awk -v boot=0123456789abcdef0123456789abcdef -v uid="$(id -u postfix)" '
    match($0, /^[A-Z][a-z][a-z] +[0-9]+ [0-9:]+ [^ ]+ [^ []+\[[0-9]+\]: /) {
        head = substr($0, 1, RLENGTH - 2); msg = substr($0, RLENGTH + 1)
        n = split(head, w, " "); ident = w[n]; sub(/\[.*/, "", ident)
        t++
        printf "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n", 1764000000000000 + t * 1000, t * 1000, boot
        comm = ident; sub(/.*\//, "", comm)
        printf "_UID=%s\n_COMM=%s\nSYSLOG_IDENTIFIER=%s\nMESSAGE=%s\n\n", uid, comm, ident, msg
    }' "$PF/maillog" | /lib/systemd/systemd-journal-remote --output="$T/mail.journal" - >"$T/remote.log" 2>&1
printf 'database = %s/journal.db\n' "$T" >"$T/journal.conf"
"$BIN/tarpit-admin" -c "$T/journal.conf" ${timer_cmd/--journal/--journal-file} "$T/mail.journal" >"$T/jimport.out"
expect_eq "3. from the journal: 192.0.2.0/24 is a correspondent" \
    "$("$BIN/tarpit-admin" -c "$T/journal.conf" list | awk '$1 == "192.0.2.0/24" {print $9, $10}')" "escaped correspondent"
expect_eq "3. ... and no bot of the storm escaped there either" \
    "$("$BIN/tarpit-admin" -c "$T/journal.conf" list | awk '$10 != "correspondent"' | wc -l)" "0"
$ADMIN ${timer_cmd/--journal/} "$PF/maillog" >"$T/import2.out"
expect_eq "3. from the maillog: 192.0.2.0/24 is a correspondent" "$(state 192.0.2.25)/$(field 192.0.2.25 learned)" "escaped/4"
"$SC" -b 192.0.2.25 -r user@example.test 127.0.0.1 "$PF_PORT" >"$T/reply.msg" 2>&1
expect_range "3. the correspondent's reply does not wait (ms)" "$(pf_rcpt_ms "$T/reply.msg")" 0 1500
check "3. ... and the check log says why" grep -q "client=192.0.2.25 network=192.0.2.0/24: DUNNO (escaped)" "$T/check.log"

pf_stop "$PF"
no_crash
done_testing
