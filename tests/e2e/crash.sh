#!/usr/bin/env bash
# crash.sh - kill -9 helpers in the middle of their writes while others keep
# writing, 50 times: the database must open cleanly every time, and every
# escape that was answered before a kill must still be there.  Then damage
# the file in the ways disks and admins do, and see each reported clearly.
. "$(dirname "$0")/../lib.sh"

PC=$TOOLS/policy-client
A="$BIN/tarpit-admin -c $T/tarpit.conf"
cat >"$T/tarpit.conf" <<CONF
database = $T/tarpit.db
sleep = 0
threshold = 1000000
CONF
CPORT=$(free_port); activate "$T/check.log" "$CPORT" "$BIN/tarpit-check" -c "$T/tarpit.conf"
CP=$ACTIVATOR
SPORT=$(free_port); activate "$T/store.log" "$SPORT" "$BIN/tarpit-store" -c "$T/tarpit.conf"
SP=$ACTIVATOR

# Eight writers, each on its own networks: wait (sleep 0), then deliver,
# until the 50 kills are done (at most 20,000 pairs each).
# A pair whose two answers both came back must be an escape in the file.
writers=()
for w in $(seq 1 8); do
    (
        for k in $(seq 1 20000); do
            [ -e "$T/stop" ] && break
            net="10.77.$w.$((k % 20))"
            a=$(req "$net" "$k" | "$PC" -t 5000 127.0.0.1 "$CPORT" | awk '{print $1}')
            b=$(req "$net" "$k" | "$PC" -t 5000 127.0.0.1 "$SPORT" | awk '{print $1}')
            [ "$a" = action=DUNNO ] && [ "$b" = action=DUNNO ] && echo "$net"
        done >"$T/answered.$w"
    ) &
    writers+=("$!")
done
rounds=0 unclean=0 tries=0
while [ $rounds -lt 50 ] && [ $tries -lt 3000 ]; do
    tries=$((tries + 1))
    victims=($(cat "/proc/$CP/task/$CP/children" "/proc/$SP/task/$SP/children" 2>/dev/null))
    if [ ${#victims[@]} -gt 0 ]; then
        kill -KILL "${victims[$((RANDOM % ${#victims[@]}))]}" 2>/dev/null && rounds=$((rounds + 1))
        out=$($A recover 2>&1)
        case "$out" in *"is sound"*) ;; *) unclean=$((unclean + 1)); echo "$out" >>"$T/unclean" ;; esac
    fi
    sleep 0.0$((RANDOM % 10))
done
touch "$T/stop"
for p in "${writers[@]}"; do wait "$p"; done
expect_eq "50 helpers killed with -9 mid-write" "$rounds" "50"
expect_eq "the database opened cleanly after every kill" "$unclean" "0"
lost=0 pairs=0
for net in $(cat "$T"/answered.* | sort | uniq -c | awk '{print $2 "=" $1}'); do
    n=${net#*=}; addr=${net%=*}
    pairs=$((pairs + n))
    got=$(json_field "$($A --json check "$addr")" escapes)
    [ "${got:-0}" -ge "$n" ] || lost=$((lost + n - ${got:-0}))
done
expect_eq "no answered escape lost ($pairs answered pairs)" "$lost" "0"
check "a final check reads every record" sh -c "$A recover | grep -q 'is sound'"
wait_no_children "$CP" 5000; wait_no_children "$SP" 5000

# --- Damage: each reported clearly, helpers fail open --------------------------
cp "$T/tarpit.db" "$T/good.db"
ask() { req 192.0.2.1 "$RANDOM" | "$PC" -t 5000 127.0.0.1 "$CPORT" | awk '{print $1 " " $NF}'; }
damage() { # damage NAME - after the file was damaged: helpers and admin
    local out
    out=$(ask)
    expect_eq "$1: the helper answers DUNNO" "${out% *}" "action=DUNNO"
    expect_range "$1: ... without a wait (ms)" "${out#* }" 0 1000
}
# Truncated.
head -c 5000 "$T/good.db" >"$T/tarpit.db"
sed -i 's/^sleep = 0/sleep = 5s/' "$T/tarpit.conf"
damage "truncated database"
$A list >/dev/null 2>"$T/err"; rc=$?
expect_eq "truncated database: tarpit-admin says so, exit 4" "$rc $(grep -c "$T/tarpit.db" "$T/err")" "4 1"
# Garbage over the header.
cp "$T/good.db" "$T/tarpit.db"
printf 'GARBAGE GARBAGE GARBAGE GARBAGE!' | dd of="$T/tarpit.db" conv=notrunc 2>/dev/null
damage "garbage over the header"
out=$($A recover 2>&1); rc=$?
expect_eq "garbage over the header: recover says it cannot, and why (exit 4)" \
    "$rc $(grep -c 'move it away and load a dump' <<<"$out")" "4 1"
# Garbage in the middle of a file of 2,000 records loaded from a dump (the
# same file every run): 3,000 bytes of 'A' at half its size hit buckets.
# recover keeps what reads as records, drops what GDBM recovered as
# garbage, and every record is either kept or counted as lost.
printf 'database = %s/middle.db\n' "$T" >"$T/middle.conf"
M="$BIN/tarpit-admin -c $T/middle.conf"
for i in $(seq 0 1999); do
    echo "10.$((i / 200)).$((i % 200)).0/24 first_seen=1800000000 last_seen=1800000000 tarpits=1 escapes=1"
done >"$T/middle.dump"
$M load "$T/middle.dump" >/dev/null
size=$(stat -c %s "$T/middle.db")
head -c 3000 /dev/zero | tr '\0' A | dd of="$T/middle.db" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
out=$($M recover 2>&1); rc=$?
kept=$(sed -n 's/.*recovered \([0-9]*\) records; lost \([0-9]*\) records.*/\1/p' <<<"$out")
lost=$(sed -n 's/.*recovered \([0-9]*\) records; lost \([0-9]*\) records.*/\2/p' <<<"$out")
expect_eq "garbage in the middle: recover says what it saved and lost (exit 0)" \
    "$rc $(grep -c 'damage:' <<<"$out") ${kept:+counted}" "0 1 counted"
if [ -n "$kept" ]; then
    expect_eq "... every record kept or counted as lost" "$((kept + lost))" "2000"
    check "... something was lost: the garbage hit records ($lost)" [ "$lost" -gt 0 ]
    expect_eq "... the kept ones are what list shows" "$($M list | wc -l)" "$kept"
fi
check "garbage in the middle: afterwards the file is sound" sh -c "$M recover | grep -q 'is sound'"
# A lock file that cannot be opened.
cp "$T/good.db" "$T/tarpit.db"
rm -f "$T/tarpit.db.lock"; mkdir "$T/tarpit.db.lock"
damage "a lock file that cannot be opened"
check "... logged with its name" grep -q "tarpit.db.lock: cannot open lock file" "$T/check.log"
rmdir "$T/tarpit.db.lock"
# A read-only database.
chmod 0444 "$T/tarpit.db"
printf 'database = %s/tarpit.db\nsleep = 5s\n' "$T" >"$T/ro.conf"
P2=$(free_port); activate "$T/ro.log" "$P2" setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN/tarpit-check" -c "$T/ro.conf"
out=$(req 192.0.2.1 1 | "$PC" -t 5000 127.0.0.1 "$P2" | awk '{print $1 " " $NF}')
expect_eq "read-only database (helper not its owner): DUNNO" "${out% *}" "action=DUNNO"
expect_range "read-only database: without a wait (ms)" "${out#* }" 0 1000
chmod 0644 "$T/tarpit.db"
# A full disk: a small tmpfs.
if mkdir -p "$T/small" && mount -t tmpfs -o size=64k,mode=0755 tarpit-test "$T/small" 2>/dev/null; then
    at_exit "umount '$T/small' 2>/dev/null"
    head -c 60000 /dev/zero >"$T/small/filler" 2>/dev/null
    printf 'database = %s/small/tarpit.db\nsleep = 5s\n' "$T" >"$T/full.conf"
    P3=$(free_port); activate "$T/full.log" "$P3" "$BIN/tarpit-check" -c "$T/full.conf"
    out=$(req 192.0.2.1 1 | "$PC" -t 5000 127.0.0.1 "$P3" | awk '{print $1 " " $NF}')
    expect_eq "full disk: DUNNO" "${out% *}" "action=DUNNO"
    expect_range "full disk: without a wait (ms)" "${out#* }" 0 1000
    check "full disk: one clear log line" grep -qE "small/tarpit.db.*(No space|space|cannot)" "$T/full.log"
    umount "$T/small"
else
    not_ok "full disk on a small tmpfs" "cannot mount a tmpfs here (not root?)"
fi
# World-writable config or database directory: refused.  A helper that
# read it whole before left a copy: the tarpit goes on with that, not with
# what anyone may have written since.
chmod 0666 "$T/ro.conf"
P4=$(free_port); activate "$T/ww.log" "$P4" "$BIN/tarpit-check" -c "$T/ro.conf"
out=$(req 192.0.2.1 1 | "$PC" -t 10000 127.0.0.1 "$P4" | awk '{print $1 " " $NF}')
expect_eq "world-writable config: answered" "${out% *}" "action=DUNNO"
expect_range "... after the wait of the settings last read whole (5 s, ms)" "${out#* }" 4900 9000
check "world-writable config: refused with a clear message" grep -q "ro.conf is writable by any user: refusing it" "$T/ww.log"
rm -f "$T/tarpit.db.conf-good"
P5=$(free_port); activate "$T/ww2.log" "$P5" "$BIN/tarpit-check" -c "$T/ro.conf"
out=$(req 192.0.2.1 2 | "$PC" -t 5000 127.0.0.1 "$P5" | awk '{print $1 " " $NF}')
expect_eq "world-writable config, no settings read whole before: DUNNO at once" "${out% *}" "action=DUNNO"
$BIN/tarpit-admin -c "$T/ro.conf" list >/dev/null 2>&1
expect_eq "world-writable config: tarpit-admin refuses it too (exit 3)" "$?" "3"

if grep -hE "runtime error|Sanitizer" "$T"/*.log >"$T/crash"; then
    not_ok "no sanitizer report" "$(head -3 "$T/crash")"
else
    ok "no sanitizer report"
fi
done_testing
