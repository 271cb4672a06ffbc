#!/usr/bin/env bash
# after.sh - what happens after the tarpit: greylisting the networks that
# failed it, blocking the hopeless, the blocklist for Postfix, and
# learning from mail logs.
. "$(dirname "$0")/../lib.sh"

PC=$TOOLS/policy-client
WP=$TOOLS/watch-peer
A="$BIN/tarpit-admin -c $T/tarpit.conf"
cat >"$T/tarpit.conf" <<CONF
database = $T/tarpit.db
sleep = 2s
greylist = yes
greylist_delay = 3s
greylist_retries = 2
CONF
CPORT=$(free_port); activate "$T/check.log" "$CPORT" "$BIN/tarpit-check" -c "$T/tarpit.conf"
CHECK_PID=$ACTIVATOR
SPORT=$(free_port); activate "$T/store.log" "$SPORT" "$BIN/tarpit-store" -c "$T/tarpit.conf"
PEERS=()
at_exit 'for p in "${PEERS[@]}"; do kill "$p" 2>/dev/null; done'
# hangup - a client of 127.0.0.0/24 that hangs up 0.5 s into its wait
hangup() {
    "$WP" -d 500 -m close >"$T/peer" & PEERS+=("$!")
    local i; for i in $(seq 1 100); do grep -q server_port "$T/peer" 2>/dev/null && break; sleep 0.02; done
    { printf 'request=smtpd_access_policy\nprotocol_state=RCPT\n'; cat "$T/peer"; printf '\n'; } |
        "$PC" -t 10000 127.0.0.1 "${1:-$CPORT}" >/dev/null
}
# mail PORT RCPT [PORT#] - a request from 127.0.0.9 for one recipient
mail() { req 127.0.0.9 "${3:-7}" "recipient=$2" | "$PC" 127.0.0.1 "$1"; }

# --- Greylisting (taRgrey) ---------------------------------------------------
hangup
j=$($A --json check 127.0.0.1)
expect_eq "a hang-up is a failure of the network" "$(json_field "$j" hangups)/$(json_field "$j" recent_failures)" "1/1"
out=$(mail "$CPORT" a@example.test)
expect_eq "the network that failed is greylisted, not tarpitted" "$(act_of "$out")" "action=DEFER_IF_PERMIT"
expect_range "... at once (ms)" "$(ms_of "$out")" 0 500
out=$(mail "$CPORT" a@example.test 8)
expect_eq "a retry too soon is deferred again" "$(act_of "$out")" "action=DEFER_IF_PERMIT"
# A spam run to many addresses: each tuple is on its own.
for r in b c d; do out=$(mail "$CPORT" "$r@example.test" 9); done
expect_eq "another recipient's tuple is deferred on its own (1 of 2)" "$(act_of "$out")" "action=DEFER_IF_PERMIT"
check "greylisting is logged with the retries" grep -q "greylisted (retry 2; 2 pass, the last greylist_delay after the first)" "$T/check.log"
sleep 3.1
out=$(mail "$CPORT" a@example.test 10)
expect_eq "the first retry after greylist_delay passes: rescued" "$(act_of "$out")" "action=DUNNO"
expect_range "... without a wait (ms)" "$(ms_of "$out")" 0 1000
check "the rescue is logged" grep -q "passed greylisting after 3 retries: DUNNO without a wait" "$T/check.log"
j=$($A --json check 127.0.0.1)
expect_eq "the rescue is a pending pass: failures cleared, learned retried" \
    "$(json_field "$j" pending)/$(json_field "$j" recent_failures)/$(json_field "$j" learned)" "1/0/2"
mail "$SPORT" a@example.test 10 >/dev/null
j=$($A --json check 127.0.0.1)
expect_eq "its delivery escapes the network" "$(json_field "$j" escapes)/$(json_field "$j" pending)" "1/0"
check "tarpit-admin check says how it escaped" sh -c "$A check 127.0.0.1 | grep -q '^learned *retried'"
out=$(mail "$CPORT" z@example.test 13)
expect_range "an escaped network is neither greylisted nor tarpitted (ms)" "$(ms_of "$out")" 0 500
check "... and the check log says why it passed" grep -q "network=127.0.0.0/24: DUNNO (escaped)" "$T/check.log"
expect_eq "stats: all 5 deferrals counted" "$(json_field "$($A --json stats)" greylisted)" "5"

# --- Greylisting with a bound ------------------------------------------------
# A sender too long for a key is greylisted under a hash, never let
# through; a hundred RCPTs make greylist_entries (20) entries, no more.
cat >"$T/bound.conf" <<CONF
database = $T/bound.db
sleep = 2s
CONF
PB=$(free_port); activate "$T/bound.log" "$PB" "$BIN/tarpit-check" -c "$T/bound.conf"
G="$BIN/tarpit-admin -c $T/bound.conf"
hangup "$PB"
long=$(head -c 1000 /dev/zero | tr '\0' a)@spam.test
out=$(req 127.0.0.9 30 "sender=$long" | "$PC" 127.0.0.1 "$PB")
expect_eq "a 1,000-character sender: greylisted all the same" "$(act_of "$out")" "action=DEFER_IF_PERMIT"
check "... under a hash of its tuple" sh -c "$G dump | grep -q '^@grey%20127.0.0.0/24%20#[0-9a-f]\{32\} '"
for i in $(seq 1 100); do req 127.0.0.9 31 "recipient=r$i@example.test"; done | "$PC" 127.0.0.1 "$PB" >"$T/rcpts"
expect_eq "100 RCPTs on one connection: all deferred" "$(grep -c '^action=DEFER_IF_PERMIT' "$T/rcpts")" "100"
expect_eq "... making greylist_entries (20) entries in all, the long one among them" \
    "$($G dump | grep -c '^@grey')" "20"
expect_eq "... counted in the network's record" "$(json_field "$($G --json check 127.0.0.9)" grey_made)" "20"

# --- block_after: the hopeless are blocked ----------------------------------
cat >"$T/block.conf" <<CONF
database = $T/block.db
sleep = 2s
greylist = no
block_after = 2
block_for = 1h
CONF
P2=$(free_port); activate "$T/block.log" "$P2" "$BIN/tarpit-check" -c "$T/block.conf"
B="$BIN/tarpit-admin -c $T/block.conf"
hangup "$P2"
out=$(mail "$P2" a@example.test 20)      # 127.0.0.9: same /24, a second chance
expect_eq "one failure: still tarpitted, not blocked" "$(act_of "$out")" "action=DUNNO"
hangup "$P2"
j=$($B --json check 127.0.0.1)
expect_eq "two failures without an escape: blocked" "$(printf '%s' "$j" | sed 's/.*"state":"\([a-z]*\)".*/\1/')" "blocked"
check "the block says why" grep -q '"comment":"blocked after 2 failed waits"' <<<"$j"
out=$(mail "$P2" a@example.test 21)
expect_eq "a blocked network gets block_action at once" "$(cut -d' ' -f1 <<<"$out")" "action=REJECT"
expect_range "... without a wait (ms)" "$(ms_of "$out")" 0 500
expect_eq "stats: the block is counted" "$(json_field "$($B --json stats)" blocks)" "1"

# --- export-map: a table Postfix reads before anything else -----------------
$B block 2001:db8:66::1 --comment manual >/dev/null
$B block 198.51.100.7 >/dev/null
check "export-map -o writes the file" sh -c "$B export-map -o '$T/blocked.cidr' | grep -q 'wrote 3 blocked networks'"
check "export-map replaced it atomically (no temporary left)" sh -c "! ls '$T'/blocked.cidr.tmp.* 2>/dev/null"
if command -v postmap >/dev/null; then
    expect_eq "postmap -q: a blocked IPv4 address" "$(postmap -q 127.0.0.200 "cidr:$T/blocked.cidr")" "REJECT Your network is blocked here"
    expect_eq "postmap -q: a blocked IPv6 address" "$(postmap -q 2001:db8:66::abcd "cidr:$T/blocked.cidr")" "REJECT Your network is blocked here"
    expect_eq "postmap -q: in a blocked /24" "$(postmap -q 198.51.100.99 "cidr:$T/blocked.cidr")" "REJECT Your network is blocked here"
    postmap -q 192.0.2.1 "cidr:$T/blocked.cidr" >/dev/null
    expect_eq "postmap -q: any other address is not found" "$?" "1"
else
    not_ok "postmap -q on the exported map" "postmap is not installed"
fi
$B export-map --format access >"$T/blocked.access" 2>"$T/err"
expect_eq "export-map --format access: octet and 16-bit networks" \
    "$(grep -v '^#' "$T/blocked.access" | cut -f1 | sort | tr '\n' ' ')" "127.0.0 198.51.100 2001:db8:66:0 "
# With ipv4_prefix = 23 a network is not on an octet boundary.
printf 'database = %s/block23.db\nipv4_prefix = 23\n' "$T" >"$T/block23.conf"
"$BIN/tarpit-admin" -c "$T/block23.conf" block 198.51.100.7 >/dev/null
"$BIN/tarpit-admin" -c "$T/block23.conf" export-map --format access >"$T/blocked23.access" 2>"$T/err"
check "export-map --format access: says what it left out (a /23)" grep -q "1 network not on" "$T/err"

# --- import-log: escapes from accepted mail, blocks for offenders ------------
cat >"$T/mail.log" <<'LOG'
Nov 22 06:00:01 mx postfix/smtpd[100]: connect from a.example[203.0.113.5]
Nov 22 06:00:01 mx postfix/smtpd[100]: 4A1B2C3D4E: client=a.example[203.0.113.5]
Nov 22 06:00:02 mx postfix/cleanup[101]: 4A1B2C3D4E: message-id=<1@a.example>
Nov 22 06:00:02 mx postfix/qmgr[102]: 4A1B2C3D4E: from=<x@a.example>, size=500, nrcpt=1 (queue active)
Nov 22 06:00:03 mx postfix/smtpd[100]: 5B2C3D4E5F: client=b.example[2001:db8:77::9]
Nov 22 06:00:03 mx postfix/smtpd[100]: lost connection after DATA from b.example[2001:db8:77::9]
Nov 22 06:00:04 mx postfix/smtpd[100]: warning: hostname bad.example does not resolve to address 192.0.2.66
Nov 22 06:00:05 mx postfix/smtpd[100]: warning: hostname bad.example does not resolve to address 192.0.2.66
Nov 22 06:00:06 mx postfix/smtpd[100]: warning: unknown[192.0.2.67]: SASL LOGIN authentication failed: UGFzc3dvcmQ6
Nov 22 06:00:07 mx postfix/smtpd[100]: warning: unknown[198.18.0.1]: SASL PLAIN authentication failed:
Nov 22 06:00:08 mx postfix/smtpd[100]: NOQUEUE: reject: RCPT from unknown[198.51.100.200]: 450 4.1.8 <"does not resolve to address 100.64.7.99"@spam.test>: Sender address rejected: Domain not found; from=<"does not resolve to address 100.64.7.99"@spam.test> to=<u@example.test> proto=ESMTP helo=<x>
Nov 22 06:00:09 mx postfix/smtpd[100]: NOQUEUE: reject: RCPT from unknown[198.51.100.200]: 450 4.1.8 <"does not resolve to address 100.64.7.99"@spam.test>: Sender address rejected: Domain not found; from=<"does not resolve to address 100.64.7.99"@spam.test> to=<u@example.test> proto=ESMTP helo=<x>
Nov 22 06:00:10 mx postfix/smtpd[100]: NOQUEUE: reject: RCPT from unknown[198.51.100.200]: 450 4.1.8 <"does not resolve to address 100.64.7.99"@spam.test>: Sender address rejected: Domain not found; from=<"does not resolve to address 100.64.7.99"@spam.test> to=<u@example.test> proto=ESMTP helo=<x>
Nov 22 06:00:11 mx postfix/smtpd[100]: NOQUEUE: reject: RCPT from unknown[198.51.100.200]: 554 5.7.1 <u@example.test>: Relay access denied; from=<"x[100.64.8.9]: SASL LOGIN authentication failed"@spam.test> to=<u@example.test> proto=ESMTP helo=<x>
Nov 22 06:00:12 mx postfix/smtpd[100]: NOQUEUE: reject: RCPT from unknown[198.51.100.200]: 554 5.7.1 <u@example.test>: Relay access denied; from=<"x[100.64.8.9]: SASL LOGIN authentication failed"@spam.test> to=<u@example.test> proto=ESMTP helo=<x>
Nov 22 06:00:13 mx postfix/smtpd[100]: NOQUEUE: reject: RCPT from unknown[198.51.100.200]: 554 5.7.1 <u@example.test>: Relay access denied; from=<"x[100.64.8.9]: SASL LOGIN authentication failed"@spam.test> to=<u@example.test> proto=ESMTP helo=<x>
LOG
cat >"$T/journal.txt" <<'LOG'
__CURSOR=s=1
SYSLOG_IDENTIFIER=postfix/smtpd
MESSAGE=6C3D4E5F60: client=c.example[198.51.100.44]

SYSLOG_IDENTIFIER=postfix/qmgr
MESSAGE=6C3D4E5F60: from=<y@c.example>, size=900, nrcpt=2 (queue active)
LOG
I="$BIN/tarpit-admin -c $T/import.conf"
printf 'database = %s/import.db\noffender_threshold = 3\n' "$T" >"$T/import.conf"
out=$($I import-log --seed --offenders --dry-run "$T/mail.log" "$T/journal.txt")
check "import-log --dry-run: says what it would do" grep -q "203.0.113.0/24 would escape" <<<"$out"
check "import-log --dry-run: writes nothing" test ! -e "$T/import.db"
out=$($I import-log --seed --offenders "$T/mail.log" "$T/journal.txt")
expect_eq "import-log: accepted messages make their networks escaped (syslog and journal)" \
    "$($I --json check 203.0.113.5 198.51.100.44 | grep -c '"state":"escaped"')" "2"
$I check 2001:db8:77::9 >/dev/null 2>&1
expect_eq "import-log: a message never accepted earns nothing" "$?" "1"
expect_eq "import-log --offenders: 3 offending lines from one /24 block it" \
    "$($I --json check 192.0.2.66 | sed 's/.*"state":"\([a-z]*\)".*/\1/')" "blocked"
$I check 198.18.0.1 >/dev/null 2>&1
expect_eq "import-log --offenders: one line is not enough" "$?" "1"
check "import-log: prints what it did" grep -q "192.0.2.0/24 blocked (3 offending lines)" <<<"$out"
$I check 100.64.7.99 >/dev/null 2>&1
expect_eq "import-log --offenders: the words in a sender address block nobody (does not resolve)" "$?" "1"
$I check 100.64.8.9 >/dev/null 2>&1
expect_eq "import-log --offenders: ... nor a forged SASL line in one" "$?" "1"
# A correspondent is a host our Postfix delivered mail to, not where a
# bounce or a notice (from=<>) went: a remote client names that address.
# And only a Postfix line's own identifier counts, at its place: not one
# that another program quotes in its message.
cat >"$T/corr.log" <<'LOG'
Nov 22 07:00:00 mx postfix/qmgr[102]: 7D7D7D7D7D: from=<>, size=2000, nrcpt=1 (queue active)
Nov 22 07:00:01 mx postfix/smtp[103]: 7D7D7D7D7D: to=<u@[198.51.100.7]>, relay=none[198.51.100.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
Nov 22 07:00:02 mx dovecot: imap-login: Disconnected: user=<x postfix/smtp[1]: 8E8E8E8E8E: to=<a@b.example>, relay=x[192.0.2.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (ok)>
Nov 22 07:00:03 mx postfix/qmgr[102]: 9F9F9F9F9F: from=<me@example.test>, size=900, nrcpt=1 (queue active)
Nov 22 07:00:04 mx postfix/smtp[103]: 9F9F9F9F9F: to=<you@partner.example>, relay=mx.partner.example[203.0.113.30]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
LOG
printf 'database = %s/corr.db\n' "$T" >"$T/corr.conf"
C="$BIN/tarpit-admin -c $T/corr.conf"
$C import-log "$T/corr.log" >/dev/null
expect_eq "import-log: a host we relayed mail to is a correspondent" \
    "$($C --json check 203.0.113.30 | sed 's/.*"state":"\([a-z]*\)".*/\1/')" "escaped"
$C check 198.51.100.7 >/dev/null 2>&1
expect_eq "... not where a null-sender notice went (MAIL FROM:<u@[ADDR]> NOTIFY=SUCCESS)" "$?" "1"
$C check 192.0.2.7 >/dev/null 2>&1
expect_eq "... nor a delivery line quoted in another program's message" "$?" "1"

# Configured offence patterns replace the built-in ones.
printf 'database = %s/import2.db\noffender_threshold = 2\noffender_pattern = /^too many errors after [A-Z]+ from [^[ ]*\\[([0-9a-fA-F.:]+)\\]/\n' "$T" >"$T/import2.conf"
printf 'Nov 22 08:00:00 mx postfix/smtpd[1]: too many errors after RCPT from bot[198.51.100.9]\n%.0s' 1 2 >>"$T/mail.log"
out=$("$BIN/tarpit-admin" -c "$T/import2.conf" import-log --offenders "$T/mail.log")
check "import-log: an offender_pattern from the config blocks its matches" grep -q "198.51.100.0/24 blocked (2 offending lines)" <<<"$out"
if grep -q '192.0.2.0/24 blocked' <<<"$out"; then
    not_ok "import-log: ... and replaces the built-in patterns" "$out"
else
    ok "import-log: ... and replaces the built-in patterns"
fi

no_crash
done_testing
