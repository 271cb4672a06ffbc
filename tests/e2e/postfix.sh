#!/usr/bin/env bash
# postfix.sh - the tarpit in front of a real Postfix (Debian's postfix,
# its own instance via `postfix -c DIR`) with the shipped main.cf lines:
# helpers under systemd-socket-activate --accept on unix:private/tarpit-
# check and -store in its queue directory, clients on 127.0.0.x.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/postfix-lib.sh"
pf_need

SC=$TOOLS/smtp-client
ADMIN="$BIN/tarpit-admin -c $T/tarpit.conf"
cat >"$T/tarpit.conf" <<CONF
database = $T/tarpit.db
sleep = 2s
CONF
PF=$T/pf
at_exit 'pf_stop "$PF"'
pf_start "$PF" unix unix || { not_ok "postfix starts"; done_testing; exit 1; }
pf_helpers "$PF" "$T/tarpit.conf" || { done_testing; exit 1; }
CSOCK=$PF/queue/private/tarpit-check
note "postfix $(postconf -h mail_version) started from $PF/etc on 127.0.0.1:$PF_PORT"
check "the policy sockets are Postfix's alone, mode 0660" \
    test "$(stat -c %U:%a "$CSOCK" "$PF/queue/private/tarpit-store" | sort -u)" = postfix:660
# stopped PID - the activator PID is gone, and nothing accepts on the check
# socket any more
stopped() {
    kill -TERM -- "-$1"
    for i in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
}

# send NAME ARGS... - run smtp-client, keep its output in $T/NAME.out
send() { local n=$1; shift; "$SC" "$@" 127.0.0.1 "$PF_PORT" >"$T/$n.out" 2>&1; }
# ms NAME STEP [N] - the reply time of the Nth STEP line
ms() { awk -v s="$2" -v n="${3:-1}" '$1 == s && ++i == n {print $3}' "$T/$1.out"; }
code() { awk -v s="$2" -v n="${3:-1}" '$1 == s && ++i == n {print $2}' "$T/$1.out"; }
qid() { awk '$1 == "eom" && $2 == 250 {print $4}' "$T/$1.out" | sed -n "${2:-1}p"; }
field() { json_field "$($ADMIN --json check "$1" 2>/dev/null)" "$2"; }
# in_log PATTERN - wait up to 5 s for PATTERN in the maillog
in_log() {
    local i; for i in $(seq 1 50); do grep -qE "$1" "$PF/maillog" && return 0; sleep 0.1; done
    return 1
}

# 1. A new client waits at RCPT, its message is queued, its network escapes.
send s1 -b 127.0.1.5 -r user@example.test
expect_range "1. new client waits at RCPT about sleep=2s (ms)" "$(ms s1 rcpt)" 1900 4000
q=$(qid s1)
if [ -n "$q" ] && in_log "$q: to=<user@example.test>.*status=sent"; then
    ok "1. its message is accepted and delivered ($q in the maillog)"
else
    not_ok "1. its message is accepted and delivered" "$(cat "$T/s1.out")"
fi
expect_eq "1. tarpit-admin check shows one escape for 127.0.1.0/24" "$(field 127.0.1.5 escapes)" "1"

# 2. Another client of the same /24 is not delayed.
send s2 -b 127.0.1.77 -r user@example.test
expect_range "2. same /24 is not delayed at RCPT (ms)" "$(ms s2 rcpt)" 0 1000
expect_eq "2. and its message is queued" "$(code s2 eom)" "250"

# 2b. The same with swaks, a client admins know, from a new /24.
t0=$(now_ms)
swaks --silent 1 --server 127.0.0.1 --port "$PF_PORT" --local-interface 127.0.2.9 \
    --from sender@example.org --to user@example.test >"$T/swaks.out" 2>&1
rc=$? took=$(( $(now_ms) - t0 ))
expect_eq "2b. swaks from a new /24: message accepted" "$rc" "0"
expect_range "2b. swaks session took the wait (ms)" "$took" 1900 5000
expect_eq "2b. and its network escaped" "$(field 127.0.2.9 escapes)" "1"

# 3. Several recipients: one wait, not one per recipient.
send s3 -b 127.0.3.5 -r a@example.test -r b@example.test -r c@example.test
expect_range "3. first of three recipients waits (ms)" "$(ms s3 rcpt 1)" 1900 4000
expect_range "3. second recipient does not (ms)" "$(ms s3 rcpt 2)" 0 1000
expect_range "3. third recipient does not (ms)" "$(ms s3 rcpt 3)" 0 1000
expect_eq "3. queued once, tarpitted once" "$(code s3 eom)/$(field 127.0.3.5 tarpits)" "250/1"

# 4. Two messages in one session: the first waits, the second does not.
$ADMIN del 127.0.3.5 >/dev/null
send s4 -b 127.0.3.5 -m 2 -r user@example.test
expect_range "4. first message of the session waits (ms)" "$(ms s4 rcpt 1)" 1900 4000
expect_range "4. second message of the session does not (ms)" "$(ms s4 rcpt 2)" 0 1000
expect_eq "4. both queued" "$(code s4 eom 1) $(code s4 eom 2)" "250 250"

# 4b. postmaster@ from a new network: no wait, no record (RFC 5321 4.5.1).
send pm -b 127.0.40.5 -r postmaster@example.test
expect_range "4b. postmaster@ from a new /24 is not delayed at RCPT (ms)" "$(ms pm rcpt)" 0 1000
expect_eq "4b. its message is queued, and its network has no record" \
    "$(code pm eom)/$(field 127.0.40.5 tarpits)" "250/"

# 5. A client that gives up during the wait: nothing queued, no escape.
send s5 -b 127.0.5.5 -g 800 -r user@example.test
expect_eq "5. the client gave up during the wait" "$(awk '$1 == "rcpt" {print $2}' "$T/s5.out")" "gave-up"
if in_log 'lost connection after RCPT from [^ ]*\[127\.0\.5\.5\]'; then
    ok "5. smtpd logs the lost connection"
else
    not_ok "5. smtpd logs the lost connection" "$(tail -3 "$PF/maillog")"
fi
expect_eq "5. no escape recorded" "$(field 127.0.5.5 escapes)" "0"
# smtpd opens a queue file at MAIL FROM ("QID: client=..."); it must never
# reach the queue manager.
q5=$(sed -n 's/.*smtpd.*: \([0-9A-F]*\): client=[^ ]*\[127\.0\.5\.5\].*/\1/p' "$PF/maillog")
if [ -n "$q5" ] && ! grep -qE "($q5: from=|$q5: to=)" "$PF/maillog"; then
    ok "5. nothing queued for it ($q5 never reached the queue manager)"
else
    not_ok "5. nothing queued for it" "$(grep -E "127.0.5.5|${q5:-none}" "$PF/maillog" | tail -3)"
fi

# 6. Load: 200 messages from 20 /24s, two parallel streams per network.
t0=$(now_ms)
pids=()
for n in $(seq 1 20); do
    for s in 1 2; do
        (
            for m in $(seq 1 5); do
                "$SC" -b "127.0.$((100 + n)).$((s * 10 + m))" -r "user@example.test" \
                    127.0.0.1 "$PF_PORT" >>"$T/load.$n.$s" 2>&1
            done
        ) &
        pids+=("$!")
    done
done
for p in "${pids[@]}"; do wait "$p"; done
queued=$(cat "$T"/load.* | awk '$1 == "eom" && $2 == 250' | wc -l)
expect_eq "6. all 200 messages from 20 networks accepted" "$queued" "200"
exact=0 summary=
for n in $(seq 1 20); do
    j=$($ADMIN --json check "127.0.$((100 + n)).1")
    t=$(json_field "$j" tarpits) e=$(json_field "$j" escapes) p=$(json_field "$j" pending)
    [ "$t" -ge 1 ] && [ "$t" = "$e" ] && [ "$p" = 0 ] && exact=$((exact + 1))
    summary="$summary $t/$e"
done
expect_eq "6. every network: escapes exactly equal its completed waits" "$exact" "20"
echo "       (tarpits/escapes per network:$summary; $(( $(now_ms) - t0 )) ms)"

# 7. tarpit-check not running: default_action=DUNNO lets mail through at once.
stopped "$CHECK_PID"
send s6 -b 127.0.6.5 -r user@example.test
expect_range "7. check port closed: no wait at RCPT, at most Postfix's 1s retry delay (ms)" "$(ms s6 rcpt)" 0 2500
expect_eq "7. and the message is queued" "$(code s6 eom)" "250"
check "7. smtpd logged the failed policy connection" in_log "private/tarpit-check.*(Connection refused|connect)"

# 8. The watched wait: a client that hangs up 2 s into a 20 s wait frees
#    its smtpd at once ("lost connection after RCPT" within a second or
#    two, not at the end of the sleep).
sed 's/^sleep = 2s/sleep = 20s/' "$T/tarpit.conf" >"$T/long.conf"
activate_unix "$T/check-long.log" "$CSOCK" "$BIN/tarpit-check" -c "$T/long.conf"
LONG_PID=$ACTIVATOR
send s9 -b 127.0.9.5 -g 2000 -r user@example.test
t_gone=$(now_ms)
freed=
for i in $(seq 1 200); do
    if grep -qE 'lost connection after RCPT from [^ ]*\[127\.0\.9\.5\]' "$PF/maillog"; then
        freed=$(( $(now_ms) - t_gone )); break
    fi
    sleep 0.05
done
if [ -n "$freed" ]; then
    expect_range "8. hang-up mid-wait: smtpd logs the lost connection soon after (ms)" "$freed" 0 2500
else
    not_ok "8. hang-up mid-wait: smtpd logs the lost connection soon after" "not within 10 s"
fi
expect_eq "8. the hang-up is recorded for 127.0.9.0/24" "$(field 127.0.9.5 hangups)/$(field 127.0.9.5 escapes)" "1/0"
stopped "$LONG_PID"

# 9. Greylisting (taRgrey) through Postfix: a network that hung up is
#     deferred, then its retry after greylist_delay is rescued: accepted
#     without a wait (greylist_retries = 1).
printf 'greylist = yes\ngreylist_delay = 1s\ngreylist_retries = 1\n' | cat "$T/tarpit.conf" - >"$T/grey.conf"
activate_unix "$T/check-grey.log" "$CSOCK" "$BIN/tarpit-check" -c "$T/grey.conf"
GREY_PID=$ACTIVATOR
send s10a -b 127.0.21.5 -g 800 -r user@example.test
in_log 'lost connection after RCPT from [^ ]*\[127\.0\.21\.5\]' >/dev/null
send s10b -b 127.0.21.5 -r user@example.test
expect_eq "9. after a hang-up, the next try is greylisted (450 at RCPT)" "$(code s10b rcpt)" "450"
check "9. smtpd logs the greylisting text" in_log 'Recipient address rejected: Greylisted'
sleep 1.2
send s10c -b 127.0.21.5 -r user@example.test
expect_eq "9. the retry after greylist_delay is accepted" "$(code s10c rcpt) $(code s10c eom)" "250 250"
expect_range "9. ... rescued: without a wait (ms)" "$(ms s10c rcpt)" 0 1500
expect_eq "9. and its delivery escapes its network (learned: retried)" \
    "$(field 127.0.21.5 escapes)/$(field 127.0.21.5 learned)" "1/2"
stopped "$GREY_PID"

# 10. import-log on this Postfix's own maillog: without --seed (as the
#     import timer runs it) no inbound delivery is learned; with --seed (a
#     log of before the tarpit) the networks that delivered are escaped in
#     a fresh database, the one that gave up is not.
printf 'database = %s/imported.db\n' "$T" >"$T/import.conf"
"$BIN/tarpit-admin" -c "$T/import.conf" import-log "$PF/maillog" >"$T/import.out"
expect_eq "10. import-log without --seed: no inbound delivery learned" \
    "$("$BIN/tarpit-admin" -c "$T/import.conf" list | wc -l)" "0"
"$BIN/tarpit-admin" -c "$T/import.conf" import-log --seed "$PF/maillog" >"$T/import.out"
ij() { json_field "$("$BIN/tarpit-admin" -c "$T/import.conf" --json check "$1" 2>/dev/null)" escapes; }
expect_eq "10. import-log --seed of the real maillog: delivering networks escaped" \
    "$(ij 127.0.1.5) $(ij 127.0.3.5) $(ij 127.0.101.1) $(ij 127.0.21.5)" "1 1 1 1"
expect_eq "10. ... the client that gave up is not" "$(ij 127.0.5.5)" ""

# 11. A wait longer than the policy timeout: smtpd gives up on the helper,
#    applies default_action (DUNNO) and the mail goes through unescaped.
pf_stop "$PF"
sed -i 's/^sleep = 2s/sleep = 6s/' "$T/tarpit.conf"
PF=$T/pf7
pf_start "$PF" unix unix 2s || not_ok "11. postfix restarts with timeout=2s"
pf_helpers "$PF" "$T/tarpit.conf" "$T/check2.log" "$T/store2.log"
send s7 -b 127.0.7.5 -r user@example.test
expect_range "11. sleep 6s > timeout 2s: smtpd gives up after two tries, 2 x 2s + 1s (ms)" "$(ms s7 rcpt)" 4800 7500
expect_eq "11. default_action=DUNNO: the message is still accepted" "$(code s7 eom)" "250"
check "11. smtpd logs the timeout" in_log "problem talking to server private/tarpit-check: Connection timed out"
expect_eq "11. no escape for a wait the client did not sit out" "$(field 127.0.7.5 escapes)" "0"
expect_eq "11. both tries were tarpit attempts" "$(field 127.0.7.5 tarpits)" "2"
if wait_no_children "$CHECK_PID" 3000; then
    ok "11. both abandoned helpers exited: $(grep -c 'smtpd closed the policy connection' "$T/check2.log") logged smtpd closing on them"
else
    not_ok "11. both abandoned helpers exited" "$(pgrep -a -P "$CHECK_PID")"
fi
# ... and the shipped defaults keep well clear of it.
shipped_timeout=$(sed -n 's/.*tarpit-check, timeout=\([0-9]*\)s.*/\1/p' "$TOP/share/postfix/main.cf")
shipped_sleep=$("$BIN/tarpit-admin" -c "$TOP/tarpit.conf" config sleep)
shipped_sleep=${shipped_sleep%s}
if [ -n "$shipped_timeout" ] && [ -n "$shipped_sleep" ] && [ $((shipped_sleep + 10)) -le "$shipped_timeout" ]; then
    ok "11. shipped sleep ${shipped_sleep}s sits at least 10s below the shipped timeout ${shipped_timeout}s"
else
    not_ok "11. shipped sleep sits at least 10s below the shipped timeout" "sleep=$shipped_sleep timeout=$shipped_timeout"
fi

# The shipped submission lines are valid Postfix configuration.
S=$T/sub && mkdir -p "$S"
sed '/^#/d' "$TOP/share/postfix/main.cf" "$TOP/share/postfix/submission.cf" >"$S/main.cf"
sed '/^#/d' "$TOP/share/postfix/master.cf" >"$S/master.cf"
if postconf -c "$S" -M submission/inet 2>"$T/sub.err" | grep -q 'smtpd_recipient_restrictions=\$submission_recipient_restrictions' \
   && postconf -c "$S" -h submission_recipient_restrictions 2>>"$T/sub.err" | grep -q 'policy_context=submission' \
   && postconf -c "$S" -M submission/inet 2>>"$T/sub.err" | grep -q 'smtpd_end_of_data_restrictions=\$submission_end_of_data_restrictions' \
   && postconf -c "$S" -h submission_end_of_data_restrictions 2>>"$T/sub.err" | grep -q 'private/tarpit-store.*policy_context=submission' \
   && [ ! -s "$T/sub.err" ]; then
    ok "share/postfix submission lines parse cleanly with postconf"
else
    not_ok "share/postfix submission lines parse cleanly with postconf" "$(cat "$T/sub.err")"
fi

# 13. The blocked-networks map in front of Postfix (check_client_access
#     cidr:, as INSTALL has it, in a directory of root's): Postfix reads a
#     cidr table only when a process starts, so export-map --postfix-reload
#     reloads it when the table changed, and a block and then an unblock
#     take effect on the next session.
mkdir -m 0755 "$T/map"
MAP=$T/map/blocked.cidr
$ADMIN export-map -o "$MAP" >/dev/null
postconf -c "$PF/etc" -e "smtpd_client_restrictions = check_client_access cidr:$MAP" 2>/dev/null
postfix -c "$PF/etc" reload >/dev/null 2>&1
# rcpt_code_until WANT - RCPT's reply code of a session from 127.0.7.5
# to postmaster@ (which the tarpit check never refuses: only the map can),
# tried up to 20 times in 10 s until it is WANT (a reload's old smtpd
# processes finish their own session first)
rcpt_code_until() {
    local i c=
    for i in $(seq 1 20); do
        send s13 -b 127.0.7.5 -r postmaster@example.test
        c=$(code s13 rcpt)
        [ "$c" = "$1" ] && break
        sleep 0.5
    done
    printf '%s' "$c"
}
$ADMIN allow 127.0.7.5 >/dev/null
expect_eq "13. a client not in the map: RCPT accepted" "$(rcpt_code_until 250)" "250"
$ADMIN block 127.0.7.5 >/dev/null
MAIL_CONFIG=$PF/etc $ADMIN export-map --postfix-reload -o "$MAP" >"$T/map.out" 2>&1
check "13. export-map --postfix-reload: the table changed, Postfix reloaded" grep -q "postfix reloaded" "$T/map.out"
expect_eq "13. the blocked network is refused (554) by the next sessions" "$(rcpt_code_until 554)" "554"
MAIL_CONFIG=$PF/etc $ADMIN export-map --postfix-reload -o "$MAP" >"$T/map.out" 2>&1
check "13. the same table again: no reload" sh -c "! grep -q 'postfix reloaded' '$T/map.out'"
$ADMIN unblock 127.0.7.5 >/dev/null
MAIL_CONFIG=$PF/etc $ADMIN export-map --postfix-reload -o "$MAP" >/dev/null 2>&1
expect_eq "13. after unblock: accepted again, no manual postfix reload" "$(rcpt_code_until 250)" "250"
postconf -c "$PF/etc" -e "smtpd_client_restrictions =" 2>/dev/null

# Afterwards: Postfix stopped, every helper gone.
pf_stop "$PF"
if wait_no_children "$STORE_PID" 5000 && wait_no_children "$CHECK_PID" 5000; then
    ok "12. every helper process is gone once Postfix has stopped"
else
    not_ok "12. every helper process is gone once Postfix has stopped" "$(pgrep -P "$STORE_PID" -P "$CHECK_PID" -a)"
fi
no_crash
done_testing
