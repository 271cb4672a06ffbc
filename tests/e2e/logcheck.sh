#!/usr/bin/env bash
# logcheck.sh [LOG_DIR] - the logcheck rules (share/logcheck/) hide every
# routine line and none of the lines an admin must read.  The lines are
# the helpers' own: those the other e2e suites logged (LOG_DIR, collected
# by run-all through TARPIT_LOGS), those of a few sessions run here (a
# wait, a pass, a block, an escape; a config error, a database that cannot
# be opened, a malformed request), and what tarpit-admin's timers print.
# Each is put in the journal's short form and rsyslog's RFC 3339 form, and
# matched with `grep -E -f`, as logcheck matches them.
. "$(dirname "$0")/../lib.sh"

LOGS=${1:-}
PC=$TOOLS/policy-client
IGNORE=$TOP/share/logcheck/ignore.d.server/tarpit
VIOL=$TOP/share/logcheck/violations.ignore.d/tarpit
A="$BIN/tarpit-admin -c $T/tarpit.conf"
printf 'database = %s/tarpit.db\nsleep = 1s\nblock_after = 1\n' "$T" >"$T/tarpit.conf"
printf 'database = %s/no/such/dir/tarpit.db\n' "$T" >"$T/nodb.conf"
printf 'database = %s/tarpit.db\nsleep = forever\n' "$T" >"$T/bad.conf"
chmod 0644 "$T"/*.conf

# --- Lines of our own sessions ------------------------------------------
CPORT=$(free_port); activate "$T/own.log" "$CPORT" "$BIN/tarpit-check" -c "$T/tarpit.conf"
SPORT=$(free_port); activate "$T/own.log" "$SPORT" "$BIN/tarpit-store" -c "$T/tarpit.conf"
NPORT=$(free_port); activate "$T/own.log" "$NPORT" "$BIN/tarpit-check" -c "$T/nodb.conf"
BPORT=$(free_port); activate "$T/own.log" "$BPORT" "$BIN/tarpit-check" -c "$T/bad.conf"
req 192.0.2.1 1 | "$PC" 127.0.0.1 "$CPORT" >/dev/null		# waits, DUNNO
req 192.0.2.1 1 | "$PC" 127.0.0.1 "$CPORT" >/dev/null		# this session waited
req 192.0.2.1 1 | "$PC" 127.0.0.1 "$SPORT" >/dev/null		# escapes
req 192.0.2.2 2 | "$PC" 127.0.0.1 "$CPORT" >/dev/null
req 198.51.100.3 3 | "$PC" 127.0.0.1 "$SPORT" >/dev/null	# no wait on record
$A block 203.0.113.9 >/dev/null
req 203.0.113.9 4 | "$PC" 127.0.0.1 "$CPORT" >/dev/null		# blocked
req 192.0.2.4 5 | "$PC" 127.0.0.1 "$NPORT" >/dev/null		# database trouble
req 192.0.2.5 6 | "$PC" 127.0.0.1 "$BPORT" >/dev/null		# config error
printf 'request=smtpd_access_policy\nclient_address\n\n' | "$PC" 127.0.0.1 "$CPORT" >/dev/null
printf 'hello\n\n' | "$PC" 127.0.0.1 "$CPORT" >/dev/null

# What the timers print (their standard output goes to the journal), and
# an error of tarpit-admin's (its standard error does too).
{
    $A expire
    $A export-map -o "$T/blocked.cidr"
    printf '%s\n' "Nov 22 10:00:00 mx postfix/smtpd[1]: 4AB: client=a.example[192.0.2.7]" \
        "Nov 22 10:00:01 mx postfix/qmgr[2]: 4AB: from=<a@example.org>, size=1, nrcpt=1 (queue active)" |
        $A import-log -
    $A import-log --offenders "$T/tarpit.conf"
    $A -c "$T/nodb.conf" list
} 2>&1 | sed 's/^tarpit-admin: /tarpit-admin: tarpit-admin: /; t; s/^/tarpit-admin: /' >>"$T/own.log"

# --- Every line, in both forms, routine or notable --------------------------
{ cat "$T/own.log"; [ -n "$LOGS" ] && cat "$LOGS"/*.log 2>/dev/null; } |
    grep -aE '^tarpit-(check|store|admin): ' | sort -u >"$T/lines"
# notable: a level word, the watch that cannot work, tarpit-admin's errors
grep -aE '^tarpit-[a-z]+: (warning|error|fatal|panic): |cannot watch the SMTP client|^tarpit-admin: tarpit-admin: ' \
    "$T/lines" >"$T/notable"
grep -avxF -f "$T/notable" "$T/lines" >"$T/routine"
# as_logged FORM - the lines as logcheck reads them: journalctl's short
# form ("Nov 22 15:04:05 mx1 prog[pid]: ...") or rsyslog's RFC 3339 one
as_logged() {
    local stamp="Nov 22 15:04:05"
    [ "$1" = rfc3339 ] && stamp="2026-11-22T15:04:05.123456+00:00"
    sed "s/^\(tarpit-[a-z]*\): /$stamp mx1 \1[4242]: /"
}
# rules FILE - the rules without comments and blank lines, as logcheck
# cleans them
rules() { grep -E --text -v '^[[:space:]]*$|^#' "$1"; }
rules "$IGNORE" >"$T/ignore.rules"
rules "$VIOL" >"$T/viol.rules"

n_routine=$(wc -l <"$T/routine"); n_notable=$(wc -l <"$T/notable")
check "routine lines to match: $n_routine (at least 10)" test "$n_routine" -ge 10
check "notable lines: $n_notable, among them a config error and a database that cannot be used" \
    sh -c "grep -q 'config error\|answering DUNNO to every request\|settings last read whole' '$T/notable' && grep -q 'such file or directory\|cannot open' '$T/notable' && grep -q 'malformed' '$T/notable'"
for form in short rfc3339; do
    as_logged $form <"$T/routine" >"$T/routine.$form"
    as_logged $form <"$T/notable" >"$T/notable.$form"
    left=$(grep -E --text -v -f "$T/ignore.rules" "$T/routine.$form")
    expect_eq "$form: ignore.d.server/tarpit matches every routine line" "$left" ""
    shown=$(grep -E --text -f "$T/ignore.rules" "$T/notable.$form")
    expect_eq "$form: ignore.d.server/tarpit matches no notable line" "$shown" ""
    shown=$(grep -E --text -f "$T/viol.rules" "$T/notable.$form")
    expect_eq "$form: violations.ignore.d/tarpit matches no notable line" "$shown" ""
    left=$(grep -aE ': client=' "$T/routine.$form" | grep -E --text -v -f "$T/viol.rules")
    expect_eq "$form: violations.ignore.d/tarpit matches every decision line" "$left" ""
done
# logcheck's own tool agrees, on one line of each kind.
head -1 "$T/routine.short" >"$T/one"
check "logcheck-test: a routine line is matched" logcheck-test -q -r "$IGNORE" -l "$T/one"
grep -m1 'warning' "$T/notable.short" >"$T/one"
check "logcheck-test: a warning is not" sh -c "! logcheck-test -q -r '$IGNORE' -l '$T/one'"

# systemd's lines about the units, as systemd 252 writes them.
cat >"$T/systemd" <<'SD'
Nov 22 15:04:05 mx1 systemd[1]: Started tarpit-check@12-127.0.0.1:10030-127.0.0.1:41234.service - tarpit: should this SMTP client wait?.
Nov 22 15:04:06 mx1 systemd[1]: tarpit-check@12-127.0.0.1:10030-127.0.0.1:41234.service: Deactivated successfully.
Nov 22 15:04:06 mx1 systemd[1]: tarpit-store@3-127.0.0.1:10031-127.0.0.1:41240.service: Consumed 12ms CPU time.
Nov 22 15:05:00 mx1 systemd[1]: Starting tarpit-expire.service - tarpit: drop records untouched for max_age...
Nov 22 15:05:00 mx1 systemd[1]: Finished tarpit-expire.service - tarpit: drop records untouched for max_age.
SD
expect_eq "systemd's routine lines about the units are matched" \
    "$(grep -E --text -v -f "$T/ignore.rules" "$T/systemd")" ""
echo "Nov 22 15:04:06 mx1 systemd[1]: tarpit-check@12-127.0.0.1:10030-127.0.0.1:41234.service: Failed with result 'exit-code'." >"$T/sdfail"
expect_eq "a unit that failed is not" "$(grep -E --text -c -f "$T/ignore.rules" "$T/sdfail")" "0"

done_testing
