#!/usr/bin/env bash
# journal.sh - import-log reading journal files, made by Debian's
# systemd-journal-remote from export-format text holding Postfix sessions
# of two instances: what it learns, the cursor (a second run learns
# nothing, an appended entry only itself, a cursor gone or garbled means
# the oldest entry), --since/--until/--from-start/--dry-run, and a file it
# cannot read (exit 6, nothing written).  And: only tarpit-admin links
# libsystemd.
. "$(dirname "$0")/../lib.sh"

export TZ=UTC
A="$BIN/tarpit-admin -c $T/tarpit.conf"
printf 'database = %s/db/tarpit.db\noffender_threshold = 3\n' "$T" >"$T/tarpit.conf"
mkdir -m 0750 "$T/db"
CURSOR=$T/db/tarpit.db.journal-cursor
REMOTE=/lib/systemd/systemd-journal-remote
J=$T/mail.journal
BOOT=0123456789abcdef0123456789abcdef
mono=1000000

PFUID=$(id -u postfix)
# entry SECONDS IDENTIFIER MESSAGE [UID COMM] - one entry in journal export
# format; journald's trusted fields are those of Postfix's daemon (the
# identifier's last word) unless given
entry() {
    mono=$((mono + 1000000))
    printf '__REALTIME_TIMESTAMP=%s000000\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n' "$1" "$mono" "$BOOT"
    printf '_UID=%s\n_COMM=%s\n' "${4:-$PFUID}" "${5:-${2##*/}}"
    printf '_HOSTNAME=mx1\nSYSLOG_IDENTIFIER=%s\nMESSAGE=%s\n\n' "$2" "$3"
}
# append FILE - the export text on stdin, appended to journal FILE
append() { "$REMOTE" --output="$1" - >"$T/remote.log" 2>&1; }

# 2026-11-01 10:00:00 UTC and on: a delivery through the first instance,
# one through a second (postfix-mx2), a session that never delivered, a
# look-alike line of another program, and three offending lines.
t0=$(date -u -d '2026-11-01 10:00:00' +%s)
{
    entry $((t0 + 0)) postfix/smtpd "connect from mail.example.net[192.0.2.10]"
    entry $((t0 + 1)) postfix/smtpd "4ABC1: client=mail.example.net[192.0.2.10]"
    entry $((t0 + 2)) postfix/cleanup "4ABC1: message-id=<1@example.net>"
    entry $((t0 + 3)) postfix/qmgr "4ABC1: from=<a@example.net>, size=1234, nrcpt=1 (queue active)"
    entry $((t0 + 10)) postfix-mx2/smtpd "5DEF1: client=relay.example.org[2001:db8:5::25]"
    entry $((t0 + 11)) postfix-mx2/qmgr "5DEF1: from=<b@example.org>, size=99, nrcpt=1 (queue active)"
    entry $((t0 + 20)) postfix/smtpd "6AAA1: client=unknown[198.51.100.9]"
    entry $((t0 + 21)) sshd "7BBB1: client=x[203.0.113.1]" 0 sshd
    entry $((t0 + 22)) sshd "7BBB1: from=<c@example.com>, size=1, nrcpt=1 (queue active)" 0 sshd
    for i in 1 2 3; do
        entry $((t0 + 30 + i)) postfix/smtpd "warning: hostname bot$i.example does not resolve to address 203.0.113.$((40 + i))"
    done
} | append "$J"
check "systemd-journal-remote made a journal file" test -s "$J"

# --- A first run, and a second that finds nothing new ---------------------
out=$($A import-log --seed --journal-file "$J" 2>"$T/err")
expect_eq "journal: exit 0, the Postfix entries of both instances, the deliveries" \
    "$?:$(head -1 <<<"$out")" "0:10 journal entries: 2 networks delivered mail, 0 correspondents (offenders not looked for)"
expect_eq "journal: both delivering networks escaped (seeded), nothing else recorded" \
    "$($A list | awk '{print $1, $9, $10}' | tr '\n' ';')" "192.0.2.0/24 escaped seeded;2001:db8:5::/64 escaped seeded;"
expect_eq "journal: nothing said on stderr" "$(cat "$T/err")" ""
check "journal: the cursor is kept beside the database" test -s "$CURSOR"
$A dump >"$T/dump1"
out=$($A import-log --seed --journal-file "$J")
expect_eq "again: nothing new is read" "$(head -1 <<<"$out")" \
    "0 journal entries: 0 networks delivered mail, 0 correspondents (offenders not looked for)"
expect_eq "again: the database is as it was" "$($A dump | md5sum)" "$(md5sum <"$T/dump1")"

# --- Appended entries: only those ----------------------------------------
{
    entry $((t0 + 100)) postfix/smtpd "8CCC1: client=new.example.com[192.0.2.200]"
    entry $((t0 + 101)) postfix/smtpd "8CCC2: client=later.example.com[198.51.100.77]"
    entry $((t0 + 102)) postfix/qmgr "8CCC2: from=<d@example.com>, size=5, nrcpt=1 (queue active)"
} | append "$J"
out=$($A import-log --seed --journal-file "$J")
expect_eq "appended: only the new entries are read" "$(head -1 <<<"$out")" \
    "3 journal entries: 1 network delivered mail, 0 correspondents (offenders not looked for)"
expect_eq "appended: the new delivery escaped" "$(sed -n 2p <<<"$out")" "198.51.100.0/24 escaped (1 message)"

# --- A cursor that names no entry: from the oldest, said once --------------
cp "$CURSOR" "$T/good-cursor"
echo "s=00000000000000000000000000000000;i=99;b=$BOOT;m=1;t=1;x=1" >"$CURSOR"
out=$($A import-log --seed --journal-file "$J" 2>"$T/err"); rc=$?
expect_eq "a cursor gone: exit 0, every entry again, one line on stderr" \
    "$rc:$(head -1 <<<"$out" | cut -d" " -f1):$(wc -l <"$T/err")" "0:13:1"
check "a cursor gone: the line says so" grep -q 'no longer holds the entry' "$T/err"
expect_eq "a cursor gone: what was learned stays learned" \
    "$(grep -c 'already escaped' <<<"$out")" "3"
echo 'not a cursor at all' >"$CURSOR"
out=$($A import-log --seed --journal-file "$J" 2>"$T/err"); rc=$?
expect_eq "a garbled cursor: the same" "$rc:$(head -1 <<<"$out" | cut -d' ' -f1):$(wc -l <"$T/err")" "0:13:1"
expect_eq "the cursor is the last entry's again" "$(cat "$CURSOR")" "$(cat "$T/good-cursor")"

# --- --from-start, --dry-run, --since, --until, --offenders ---------------
out=$($A import-log --seed --journal-file "$J" --from-start --dry-run --offenders)
expect_eq "--from-start --dry-run --offenders: all, with the offender, as would" \
    "$(head -1 <<<"$out"):$(grep -c 'would block' <<<"$out")" "13 journal entries: 3 networks delivered mail, 0 correspondents:1"
expect_eq "--dry-run: the cursor and the database untouched" \
    "$(cat "$CURSOR"):$($A list | wc -l)" "$(cat "$T/good-cursor"):3"
out=$($A import-log --seed --journal-file "$J" --from-start --dry-run --since "2026-11-01 10:00:10" --until "2026-11-01 10:00:30")
expect_eq "--since/--until: the entries in between only (journalctl's time forms)" \
    "$(head -1 <<<"$out")" "3 journal entries: 1 network delivered mail, 0 correspondents (offenders not looked for)"
out=$($A import-log --seed --journal-file "$J" --from-start --dry-run --since @$((t0 + 100)))
expect_eq "--since @UNIX" "$(head -1 <<<"$out" | cut -d' ' -f1)" "3"
out=$($A import-log --seed --journal-file "$J" --from-start --offenders)
expect_eq "--offenders: the network with 3 offending lines is blocked" \
    "$($A list | awk '$1 == "203.0.113.0/24" {print $9}')" "blocked"

# --- Without --seed (as the import timer runs it): only what is safe -------
# The deliveries above came in while the tarpit ran (or might have): not
# one is learned.  A host our Postfix delivered mail to is a correspondent.
S="$BIN/tarpit-admin -c $T/safe.conf"
printf 'database = %s/db/safe.db\n' "$T" >"$T/safe.conf"
{
    entry $((t0 + 200)) postfix/smtp "9DDD1: to=<x@partner.example>, relay=mx.partner.example[203.0.113.25]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 77)"
    entry $((t0 + 201)) postfix/smtp "9DDD2: to=<y@other.example>, relay=mx.other.example[198.18.7.7]:25, delay=1, delays=0.1/0/0.5/0.4, dsn=4.4.1, status=deferred (connect timed out)"
} | append "$J"
out=$($S import-log --journal-file "$J")
expect_eq "without --seed: deliveries here counted, not learned; the correspondent learned" \
    "$(head -1 <<<"$out")" "15 journal entries: 3 networks delivered mail (learned only with --seed), 1 correspondent (offenders not looked for)"
expect_eq "without --seed: only the correspondent's network is recorded, learned so" \
    "$($S list | awk '{print $1, $9, $10}' | tr '\n' ';')" "203.0.113.0/24 escaped correspondent;"
printf 'database = %s/db/safe2.db\nlearn_correspondents = no\n' "$T" >"$T/safe2.conf"
"$BIN/tarpit-admin" -c "$T/safe2.conf" import-log --journal-file "$J" >/dev/null
expect_eq "learn_correspondents = no: nothing learned" "$("$BIN/tarpit-admin" -c "$T/safe2.conf" list | wc -l)" "0"

# --- Forged entries: logger -t postfix/smtpd by another user ------------------
# A system user (www-data) writes Postfix-looking lines with logger(1):
# SYSLOG_IDENTIFIER is the sender's word, _UID and _COMM are journald's.
F=$T/forged.journal
{
    entry $((t0 + 300)) postfix/smtpd "AAAA1: client=x.example[203.0.113.77]" 33 logger
    entry $((t0 + 301)) postfix/qmgr "AAAA1: from=<f@example.com>, size=1, nrcpt=1 (queue active)" 33 logger
    entry $((t0 + 302)) postfix/smtp "AAAA2: to=<g@example.org>, relay=y.example[203.0.113.78]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)" 33 logger
    for i in 1 2 3; do
        entry $((t0 + 310 + i)) postfix/smtpd "warning: hostname bot.example does not resolve to address 198.51.100.$i" 33 logger
    done
    entry $((t0 + 320)) postfix/smtpd "AAAA3: client=z.example[192.0.2.99]" "$PFUID" smtpd
} | append "$F"
printf 'database = %s/db/forged.db\noffender_threshold = 3\n' "$T" >"$T/forged.conf"
out=$("$BIN/tarpit-admin" -c "$T/forged.conf" import-log --seed --offenders --journal-file "$F")
expect_eq "forged entries (another user's logger): none read" "$(head -1 <<<"$out" | cut -d' ' -f1)" "1"
expect_eq "forged entries: nothing escaped, nothing blocked" \
    "$("$BIN/tarpit-admin" -c "$T/forged.conf" list | wc -l)" "0"

# --- Usage -----------------------------------------------------------------
for bad in "--journal $J" "--since yesterday $J" "--from-start $J" "--journal-file" \
    "--journal --since someday" "--journal --journal-file $J"; do
    $A import-log $bad >/dev/null 2>&1
    expect_eq "import-log $bad: a usage error (exit 2)" "$?" "2"
done

# --- A journal it cannot read: exit 6, nothing written ---------------------
$A dump >"$T/dump2"
cp "$CURSOR" "$T/cursor2"
head -c 65536 /dev/urandom >"$T/damaged.journal"
$A import-log --seed --journal-file "$T/damaged.journal" >/dev/null 2>"$T/err"
expect_eq "not a journal: exit 6, said" "$?:$(grep -c 'damaged.journal' "$T/err")" "6:1"
head -c 200000 "$J" >"$T/cut.journal"
$A import-log --seed --journal-file "$T/cut.journal" --from-start >/dev/null 2>"$T/err"
expect_eq "a journal cut short: exit 6, said" "$?:$(grep -c 'cut.journal' "$T/err")" "6:1"
cp "$J" "$T/private.journal"
chmod 0600 "$T/private.journal"
chown -R nobody "$T/db"
setpriv --reuid=nobody --regid=nogroup --clear-groups $A import-log --seed --journal-file "$T/private.journal" >/dev/null 2>"$T/err"
expect_eq "a journal it may not read: exit 6, 'Permission denied'" \
    "$?:$(grep -c 'private.journal: Permission denied' "$T/err")" "6:1"
chown -R root "$T/db"
expect_eq "after each of them: the database and the cursor unchanged" \
    "$($A dump | md5sum):$(cat "$CURSOR")" "$(md5sum <"$T/dump2"):$(cat "$T/cursor2")"

# --- libsystemd: tarpit-admin's alone ------------------------------------
expect_eq "only tarpit-admin links libsystemd" \
    "$(for p in check store admin; do ldd "$BIN/tarpit-$p" | grep -c libsystemd; done | tr '\n' ' ')" "0 0 1 "

done_testing
