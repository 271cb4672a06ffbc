#!/usr/bin/env bash
# owner.sh - root's tarpit-admin and a state directory of another user's:
# nothing that user plants there (a link to a file of root's, in place of
# the lock file or of an output's temporary name) reaches root's files,
# and what root's tarpit-admin creates there belongs to the directory's
# owner, so the helpers can still open it.  The user here is nobody.
. "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" != 0 ]; then
    echo "SKIPPED: owner.sh needs root (it is about what root does)" >&2
    exit 77
fi

D=$T/state
mkdir -m 0750 "$D"
chown nobody:nogroup "$D"
A="$BIN/tarpit-admin -c $T/tarpit.conf"
printf 'database = %s/tarpit.db\n' "$D" >"$T/tarpit.conf"
# root's secret, mode 0600
S=$T/root.secret
printf 'root secret\n' >"$S"
chmod 0600 "$S"
sum() { md5sum <"$S"; }
before=$(sum)
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# 1. The lock file is a link to root's file.
as_nobody ln -s "$S" "$D/tarpit.db.lock"
$A block 192.0.2.1 --for 1h >"$T/out" 2>"$T/err"
rc=$?
expect_eq "a lock file linked to root's file: root's file untouched" "$(sum)" "$before"
expect_eq "... and the command says it could not open it (exit 4)" "$rc:$(grep -c 'Permission denied' "$T/err")" "4:1"
rm -f "$D/tarpit.db.lock"

# 2. What root's tarpit-admin creates there is the owner's.
$A block 192.0.2.1 --for 1h >/dev/null
expect_eq "block as root: the database and its lock file belong to the directory's owner" \
    "$(stat -c %U:%G "$D/tarpit.db" "$D/tarpit.db.lock" | sort -u)" "nobody:nogroup"
expect_eq "... and the helpers' user can read the record" \
    "$(as_nobody $A --json check 192.0.2.1 | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p')" "blocked"
rm -f "$D"/tarpit.db*
$A dump >/dev/null 2>&1
printf '# tarpit dump 1\n198.51.100.0/24 escapes=1 last_seen=%s\n' "$(date +%s)" >"$T/dump"
chmod 0600 "$T/dump"
$A load "$T/dump" >/dev/null
expect_eq "load as root (the restore path): root's 0600 dump read, the new database the owner's" \
    "$(stat -c %U "$D/tarpit.db")/$(as_nobody $A --json check 198.51.100.1 | sed -n 's/.*"escapes":\([0-9]*\).*/\1/p')" "nobody/1"

# 3. Links planted for the output's temporary names.
for i in $(seq 0 300); do as_nobody ln -s "$S" "$D/blocked.cidr.tmp.$(( $$ + i ))" 2>/dev/null; done
$A block 203.0.113.9 >/dev/null
$A export-map -o "$D/blocked.cidr" >"$T/out" 2>&1
expect_eq "export-map -o among planted links: root's file untouched" "$(sum)" "$before"
check "... the table is written" grep -q '^203.0.113.0/24' "$D/blocked.cidr"
expect_eq "... as a file of the owner's, mode 0644, not a link" \
    "$(stat -c %U:%a:%F "$D/blocked.cidr")" "nobody:644:regular file"
as_nobody ln -sf "$S" "$D/blocked.cidr"
$A export-map -o "$D/blocked.cidr" >/dev/null 2>&1
expect_eq "export-map -o over a link in its place: the link is replaced, not followed" \
    "$(sum):$(stat -c %F "$D/blocked.cidr")" "$before:regular file"

# 4. Where the owner may not write, root's output is root's.
mkdir -m 0700 "$T/rootdir"
$A export-map -o "$T/rootdir/blocked.cidr" >/dev/null
expect_eq "export-map -o into root's own directory: written, as root" \
    "$(stat -c %U "$T/rootdir/blocked.cidr" 2>/dev/null)" "root"

# 4a. A link to root's directory planted on the way: root's output does not
#     follow it there.
mkdir -m 0755 "$T/rootdir2"
as_nobody ln -s "$T/rootdir2" "$D/sub"
$A export-map -o "$D/sub/blocked.cidr" >/dev/null 2>"$T/err"
expect_eq "export-map -o through a link planted in the state directory: refused, nothing in root's directory (exit 6)" \
    "$?:$(ls "$T/rootdir2" | wc -l)" "6:0"
rm -f "$D/sub"

# 4b. doctor, run as root, checks as the owner sees things: a database of
#     root's (as an older version's load as root left it) is found.
$A doctor >"$T/doctor" 2>&1
check "doctor as root: the links planted in the state directory are found" \
    grep -q "blocked.cidr.tmp.[0-9]* is a link" "$T/doctor"
rm -f "$D"/blocked.cidr.tmp.*
$A doctor >"$T/doctor" 2>&1
check "doctor as root: the files are the owner's, and it can read the database as the owner" \
    sh -c "grep -q 'every file in $D is its owner' '$T/doctor' && grep -q 'can be read by the directory' '$T/doctor'"
cp "$D/tarpit.db" "$T/db.copy"
rm -f "$D/tarpit.db"
cp "$T/db.copy" "$D/tarpit.db"                 # root:root now
chmod 0640 "$D/tarpit.db"
$A doctor >"$T/doctor" 2>&1
expect_eq "doctor as root: a database of root's is found (exit 5)" \
    "$?:$(grep -c "tarpit.db belongs to uid 0, not to nobody" "$T/doctor")" "5:1"
chown nobody:nogroup "$D/tarpit.db"

# 4c. tarpit-check run by hand as root: the files it makes are the
#     directory owner's, and it runs as that owner.
rm -f "$D"/tarpit.db*
printf 'database = %s/tarpit.db\nsleep = 1s\n' "$D" >"$T/helper.conf"
{ printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.44\n'
  printf 'client_port=4000\nclient_name=unknown\nrecipient=a@example.net\n\n'; sleep 5; } |
    "$BIN/tarpit-check" -c "$T/helper.conf" >"$T/root-helper.out" 2>"$T/root-helper.err"
expect_eq "tarpit-check as root: answers" "$(cat "$T/root-helper.out")" "action=DUNNO"
expect_eq "... and the database, its lock and slot files are the directory owner's" \
    "$(stat -c %U:%G "$D/tarpit.db" "$D/tarpit.db.lock" "$D/tarpit.db.slots" | sort -u)" "nobody:nogroup"
check "... and it says it became the owner" grep -q "started as root: running as the owner of $D" "$T/root-helper.err"
expect_eq "... so the helpers' user still writes there: a wait recorded" \
    "$(as_nobody $A --json check 192.0.2.44 | sed -n 's/.*"tarpits":\([0-9]*\).*/\1/p')" "1"

# 5. Inputs: a file root names is read with root's rights; not a device.
$A load /dev/zero >/dev/null 2>"$T/err"
expect_eq "load /dev/zero: refused, not a regular file (exit 6)" "$?:$(grep -c 'not a regular file' "$T/err")" "6:1"
$A import-log /dev/zero >/dev/null 2>"$T/err"
expect_eq "import-log /dev/zero: refused too" "$?:$(grep -c 'not a regular file' "$T/err")" "6:1"
expect_eq "after all of it: root's file untouched" "$(sum)" "$before"

# 6. Root in reserve: the process that opens the owner's database can
#    never become root again (real, effective and saved ids all the
#    owner's), and the process that stays root opens nothing there.
#    `serve` on a pipe keeps both alive while they are looked at.
NOBODY=$(id -u nobody)
# uids PID - real, effective and saved uid
uids() { awk '/^Uid:/ {print $2, $3, $4}' "/proc/$1/status" 2>/dev/null; }
# in_dir PID - does the process hold a file of $D open?
in_dir() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q " $D/"; }
# serving CONF - root's tarpit-admin serve on a pipe, one request answered;
# sets ADM (the command's process) and PROCS (it and its children)
serving() {
    rm -f "$T/in"
    mkfifo "$T/in"
    "$BIN/tarpit-admin" -c "$1" serve <"$T/in" >"$T/serve.out" 2>&1 &
    ADM=$!
    exec 7>"$T/in"
    printf 'info\n' >&7
    for i in $(seq 1 100); do grep -q . "$T/serve.out" && break; sleep 0.05; done
    PROCS="$ADM $(pgrep -P "$ADM" | tr '\n' ' ')"
}
serving "$T/tarpit.conf"
worker=; rooted_in_dir=0
for p in $PROCS; do
    in_dir "$p" && [ "$(uids "$p")" = "$NOBODY $NOBODY $NOBODY" ] && worker=$p
    u=$(uids "$p"); case " $u " in *" 0 "*) in_dir "$p" && rooted_in_dir=1 ;; esac
done
expect_eq "root's tarpit-admin: the process holding the database is the owner's for good (uid $NOBODY real, effective, saved)" \
    "$([ -n "$worker" ] && echo yes)" "yes"
expect_eq "... and no process of it that could be root holds a file of the state directory" "$rooted_in_dir" "0"
exec 7>&-
wait "$ADM"

# 6b. The journal, root's to read (here a journal file of root's, mode
#     0600, named on the command line): read by root's part and handed to
#     the owner's, which learns from it and keeps the cursor, as the
#     owner's file; a second run reads nothing new.
REMOTE=/lib/systemd/systemd-journal-remote
if [ -x "$REMOTE" ]; then
    PFUID=$(id -u postfix 2>/dev/null || echo 0)
    t0=$(date +%s)
    jentry() {
        printf '__REALTIME_TIMESTAMP=%s000000\n__MONOTONIC_TIMESTAMP=%s000000\n' "$1" "$1"
        printf '_BOOT_ID=0123456789abcdef0123456789abcdef\n_UID=%s\n_COMM=%s\n' "$PFUID" "${2##*/}"
        printf '_HOSTNAME=mx1\nSYSLOG_IDENTIFIER=%s\nMESSAGE=%s\n\n' "$2" "$3"
    }
    { jentry "$t0" postfix/smtpd "9AB1: client=mail.example.net[192.0.2.150]"
      jentry $((t0 + 1)) postfix/qmgr "9AB1: from=<a@example.net>, size=12, nrcpt=1 (queue active)"
    } | "$REMOTE" --output="$T/mail.journal" - >"$T/remote.log" 2>&1
    chmod 0600 "$T/mail.journal"
    $A import-log --seed --journal-file "$T/mail.journal" >"$T/out" 2>&1
    expect_eq "import-log --journal-file as root: the entries come through root's part" \
        "$?:$(head -1 "$T/out")" "0:2 journal entries: 1 network delivered mail, 0 correspondents (offenders not looked for)"
    expect_eq "... the cursor is the owner's, beside the database" "$(stat -c %U "$D/tarpit.db.journal-cursor")" "nobody"
    expect_eq "... and a second run reads nothing new" \
        "$($A import-log --seed --journal-file "$T/mail.journal" 2>&1 | head -1)" \
        "0 journal entries: 0 networks delivered mail, 0 correspondents (offenders not looked for)"
    as_nobody ln -sf "$S" "$D/tarpit.db.journal-cursor"
    $A import-log --seed --journal-file "$T/mail.journal" >"$T/out" 2>&1
    expect_eq "... a link planted as the cursor: not followed (read from the start), replaced by a file" \
        "$?:$(head -1 "$T/out" | cut -d' ' -f1-3):$(stat -c %F "$D/tarpit.db.journal-cursor")" "0:2 journal entries::regular file"
else
    note "systemd-journal-remote not there: the journal's case left out"
fi

# 6a. A FIFO the owner planted where the slots file goes: info answers
#     (it used to hang, opening it).
rm -f "$D/tarpit.db.slots"
as_nobody mkfifo "$D/tarpit.db.slots"
timeout 20 $A info >"$T/out" 2>&1
expect_eq "a FIFO at the slots file: info still answers" "$?:$(grep -c "^database" "$T/out" | sed "s/[1-9][0-9]*/some/")" "0:some"
rm -f "$D/tarpit.db.slots"

# 6b. The same with the database on a server (state_directory the owner's):
#     the process connected to the server is the owner's for good.
if command -v redis-server >/dev/null && rs_start; then
    printf 'database = redis://127.0.0.1:%s\nstate_directory = %s\n' "$RS_PORT" "$D" >"$T/server.conf"
    serving "$T/server.conf"
    conn=$(ss -Htnp "( dport = :$RS_PORT )" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
    expect_eq "a server's database: the process connected to it is the owner's for good" \
        "$([ -n "$conn" ] && uids "$conn")" "$NOBODY $NOBODY $NOBODY"
    exec 7>&-
    wait "$ADM"
    as_nobody mkfifo "$D/tarpit.slots"
    timeout 20 "$BIN/tarpit-admin" -c "$T/server.conf" info >"$T/out" 2>&1
    expect_eq "... and a FIFO at its slots file does not hang info" "$?" "0"
    rs_stop
else
    note "redis-server not there: the server's case left out"
fi
done_testing
