#!/usr/bin/env bash
# fulldisk.sh - the database on a small file system (a tmpfs of 1 MiB the
# test mounts and unmounts) that fills up part way: load is all or
# nothing, expire leaves a file that reads, recover says why it failed and
# leaves nothing behind; none of them leaves a stray file.
. "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" != 0 ]; then
    echo "SKIPPED: fulldisk.sh mounts a small tmpfs: run it as root" >&2
    exit 77
fi
S=$T/small
mkdir "$S"
mount -t tmpfs -o size=1m,mode=0755 tmpfs "$S" || { not_ok "mount a 1 MiB tmpfs"; done_testing; exit 1; }
at_exit "umount '$S'"
A="$BIN/tarpit-admin -c $T/tarpit.conf"
printf 'database = %s/tarpit.db\nmax_age = 1d\n' "$S" >"$T/tarpit.conf"
now=$(date +%s)
# dump N FIRST_OCTET - N networks, a tenth of them untouched for 2 days
dump() {
    awk -v n="$1" -v o="$2" -v now="$now" 'BEGIN {
        print "# tarpit dump 1"
        for (i = 0; i < n; i++)
            printf "%d.%d.%d.0/24 first_seen=%d last_seen=%d tarpits=1 escapes=1\n",
                o, int(i / 256), i % 256, now, (i % 10 == 0) ? now - 172800 : now
    }'
}
dump 300 10 >"$T/base.txt"
printf '198.51.100.0/24 block_until=-1 last_seen=%s comment=ticket%%204711\n' "$now" >>"$T/base.txt"
$A load "$T/base.txt" >/dev/null
$A dump >"$T/before.txt"
# fill LEAVE_KB - fill the file system up to LEAVE_KB kilobytes free
fill() {
    rm -f "$S/filler"
    local free; free=$(df -k --output=avail "$S" | tail -1)
    [ "$free" -gt "$1" ] && dd if=/dev/zero of="$S/filler" bs=1k count=$((free - $1)) 2>/dev/null
}
strays() { ls -A "$S" | grep -vxE 'tarpit\.db|tarpit\.db\.lock|tarpit\.db\.slots|filler' | tr '\n' ' '; }

# 1. load 6,000 more records with 64 KiB free: refused whole.
fill 64
dump 6000 11 >"$T/big.txt"
$A load "$T/big.txt" >"$T/out" 2>"$T/err"
rc=$?
expect_eq "load on a full disk: fails (exit 4), says nothing was loaded" \
    "$rc:$(grep -c 'nothing loaded; the database is as it was' "$T/err")" "4:1"
expect_eq "... and the database is exactly as it was" "$($A dump | md5sum)" "$(md5sum <"$T/before.txt")"
expect_eq "... and nothing is left beside it" "$(strays)" ""
check "... and it reads whole (recover finds it sound)" sh -c "$A recover | grep -q 'is sound: 301 records'"

# 2. expire on a full disk: the old records go; the file still reads.
fill 0
$A doctor >"$T/doctor" 2>&1
check "doctor on a full disk: says expire has no room" grep -q "bytes free in $S, where expire's reorganise needs" "$T/doctor"
$A expire >"$T/out" 2>"$T/err"
rc=$?
expect_eq "expire on a full disk: nothing left beside the file" "$(strays)" ""
check "... the file reads whole after it (exit $rc: $(head -c 120 "$T/err"))" sh -c "$A recover | grep -q 'is sound'"
check "... and the admin's block is there, with its comment" sh -c "$A check 198.51.100.1 | grep -q '^comment *ticket 4711'"

# 3. recover a damaged file on a full disk: it says why, leaves nothing.
rm -f "$S/filler"
$A load "$T/base.txt" >/dev/null
size=$(stat -c %s "$S/tarpit.db")
dd if=/dev/urandom of="$S/tarpit.db" bs=1 seek=$((size / 2)) count=4096 conv=notrunc 2>/dev/null
cp "$S/tarpit.db" "$T/damaged"
fill 0
$A recover >"$T/out" 2>"$T/err"
rc=$?
expect_eq "recover on a full disk: fails (exit 4), saying why" \
    "$rc:$(grep -c 'recovery failed: .*No space left on device' "$T/err")" "4:1"
expect_eq "... leaves nothing behind" "$(strays)" ""
expect_eq "... and the damaged file as it was" "$(md5sum <"$S/tarpit.db")" "$(md5sum <"$T/damaged")"
rm -f "$S/filler"
$A recover >"$T/out" 2>"$T/err"
check "with room again, recover rebuilds it" grep -q "^recovered [0-9]* records" "$T/out"
done_testing
