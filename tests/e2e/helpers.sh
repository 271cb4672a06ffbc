#!/usr/bin/env bash
# helpers.sh - tarpit-check and tarpit-store end to end, each connection
# a process under systemd-socket-activate --accept, as systemd runs them.
. "$(dirname "$0")/../lib.sh"

PC=$TOOLS/policy-client
ADMIN="$BIN/tarpit-admin -c $T/tarpit.conf"
cat >"$T/tarpit.conf" <<CONF
$(db_conf tarpit)
sleep = 1s
threshold = 1
idle_timeout = 3s
CONF
CPORT=$(free_port); activate "$T/check.log" "$CPORT" "$BIN/tarpit-check" -c "$T/tarpit.conf"
CHECK_PID=$ACTIVATOR
SPORT=$(free_port); activate "$T/store.log" "$SPORT" "$BIN/tarpit-store" -c "$T/tarpit.conf"

# ask PORT - send stdin's requests, print "REPLY MS" lines
ask() { "$PC" 127.0.0.1 "$1"; }
action_of() { printf '%s\n' "$1" | sed -n "${2:-1}p" | awk '{print $1}'; }

# --- The wait, then the escape -------------------------------------------
out=$(req 192.0.2.10 1001 | ask "$CPORT")
expect_eq "new client is answered DUNNO" "$(action_of "$out")" "action=DUNNO"
expect_range "new client waits about sleep (ms)" "$(ms_of "$out")" 950 3000
j=$($ADMIN --json check 192.0.2.10)
expect_eq "the wait is recorded" "$(json_field "$j" tarpits)/$(json_field "$j" pending)/$(json_field "$j" escapes)" "1/1/0"
out=$(req 192.0.2.10 1001 | ask "$SPORT")
expect_eq "store answers DUNNO" "$(action_of "$out")" "action=DUNNO"
j=$($ADMIN --json check 192.0.2.99)
expect_eq "delivery after the wait is an escape, for the whole /24" \
    "$(json_field "$j" escapes)/$(json_field "$j" pending)" "1/0"
out=$(req 192.0.2.200 2002 | ask "$CPORT")
expect_range "escaped network does not wait (ms)" "$(ms_of "$out")" 0 500
# A failed lookup answers DUNNO at once too: the log says which it was.
check "... because it escaped (the log says so)" grep -q "client=192.0.2.200 .*DUNNO (escaped" "$T/check.log"
out=$(req 192.0.2.201 2003 | ask "$SPORT")
j=$($ADMIN --json check 192.0.2.10)
expect_eq "a delivery without a wait is no escape" "$(json_field "$j" escapes)" "1"

# --- A delivery from a network that never waited earns nothing ------------
req 203.0.113.5 1 | ask "$SPORT" >/dev/null
$ADMIN check 203.0.113.5 >/dev/null 2>&1
expect_eq "store alone creates no record (exit 1)" "$?" "1"

# --- One session waits once ------------------------------------------------
out=$( { req 198.51.100.7 5555; req 198.51.100.7 5555; req 198.51.100.7 5556; } | ask "$CPORT")
expect_range "session's first request waits (ms)" "$(ms_of "$out" 1)" 950 3000
expect_range "same session's second request does not (ms)" "$(ms_of "$out" 2)" 0 500
expect_range "the next session on the connection waits again (ms)" "$(ms_of "$out" 3)" 950 3000

# --- wait_header: the message that waited says so, once --------------------
{ db_conf header; printf 'sleep = 1s\nwait_header = yes\n'; } >"$T/header.conf"
HPORT=$(free_port); activate "$T/header.log" "$HPORT" "$BIN/tarpit-check" -c "$T/header.conf"
out=$( { req 198.51.100.70 6000; req 198.51.100.70 6000; } | ask "$HPORT")
check "wait_header = yes: the waited RCPT prepends X-Tarpit" \
    grep -qE '^action=PREPEND X-Tarpit: waited 1\.[0-9]+s before RCPT \(new network\) ' <<<"$(sed -n 1p <<<"$out")"
expect_eq "... and the session's next RCPT adds no second one" "$(action_of "$out" 2)" "action=DUNNO"

# --- IPv6 and IPv4-mapped addresses ----------------------------------------
req 2001:db8:1:2::5 777 | ask "$CPORT" >/dev/null
req 2001:db8:1:2:ffff::9 777 | ask "$SPORT" >/dev/null
j=$($ADMIN --json check 2001:db8:1:2::1)
expect_eq "IPv6 grouped by /64" "$(printf '%s' "$j" | sed 's/.*"network":"\([^"]*\)".*/\1/')/$(json_field "$j" escapes)" "2001:db8:1:2::/64/1"
out=$(req 2001:db8:1:3::5 778 | ask "$CPORT")
expect_range "another /64 waits (ms)" "$(ms_of "$out")" 950 3000
req ::ffff:192.0.2.44 779 | ask "$CPORT" >/dev/null
out=$(req ::ffff:192.0.2.44 780 | ask "$CPORT")
expect_range "mapped address counts as its IPv4 /24 (escaped: no wait)" "$(ms_of "$out")" 0 500

# --- The threshold -------------------------------------------------------------
sed -i 's/^threshold = 1/threshold = 2/' "$T/tarpit.conf"
for i in 1 2; do
    req 100.64.1.1 "3$i" | ask "$CPORT" >/dev/null
    req 100.64.1.1 "3$i" | ask "$SPORT" >/dev/null
    out=$(req 100.64.1.1 "4$i" | ask "$CPORT")
    if [ "$i" = 1 ]; then
        expect_range "threshold 2: one escape is not enough (ms)" "$(ms_of "$out")" 950 3000
        req 100.64.1.1 "4$i" | ask "$SPORT" >/dev/null   # that wait escapes too
    else
        expect_range "threshold 2: after enough escapes no wait (ms)" "$(ms_of "$out")" 0 500
    fi
done
j=$($ADMIN --json check 100.64.1.1)
expect_eq "threshold 2: escapes counted (only waits escape)" "$(json_field "$j" escapes)" "2"
sed -i 's/^threshold = 2/threshold = 1/' "$T/tarpit.conf"

# --- smtpd closes the policy connection mid-wait: the helper exits at once ---
sed -i 's/^sleep = 1s/sleep = 30s/' "$T/tarpit.conf"
t0=$(now_ms)
req 192.0.2.99 1 >"$T/req"
sed -i 's/192.0.2.99/172.16.5.5/' "$T/req"
"$PC" -x 500 127.0.0.1 "$CPORT" <"$T/req" >/dev/null
t_close=$(now_ms)
if wait_no_children "$CHECK_PID" 5000; then
    gone=$(( $(now_ms) - t_close ))
    expect_range "helper exits after smtpd closes mid-wait (ms after close)" "$gone" 0 2500
else
    not_ok "helper exits after smtpd closes mid-wait" "still running 5 s after the close of a 30 s wait"
fi
j=$($ADMIN --json check 172.16.5.5)
expect_eq "the cut-short wait is withdrawn (pending 0)" "$(json_field "$j" tarpits)/$(json_field "$j" pending)" "1/0"
sed -i 's/^sleep = 30s/sleep = 1s/' "$T/tarpit.conf"

# --- 50 clients at once: 5 networks x 10 sessions, wait then deliver ------
# Every check is answered before any delivery (the barrier in $T/b50):
# none of the networks has escaped when any client asks, so each of the
# 50 waits and each delivery is an escape, all of them at once.  Without
# the barrier a machine slow to start 50 clients let the first deliveries
# land before the last checks, which then rightly did not wait.
mkdir -p "$T/b50"
pids=()
for i in $(seq 0 49); do
    (
        net=$((i % 5)); a="10.50.$net.$((i + 1))"
        o=$(req "$a" "$((6000 + i))" | ask "$CPORT")
        [ "$(action_of "$o")" = action=DUNNO ] || exit 1
        : >"$T/b50/$i"
        for _ in $(seq 1 300); do
            [ "$(find "$T/b50" -type f | wc -l)" -ge 50 ] && break
            sleep 0.1
        done
        o=$(req "$a" "$((6000 + i))" | ask "$SPORT")
        [ "$(action_of "$o")" = action=DUNNO ] || exit 1
    ) &
    pids+=("$!")
done
bad=0
for j in "${pids[@]}"; do
    wait "$j" || bad=$((bad + 1))
done
expect_eq "50 concurrent clients all answered" "$bad" "0"
total=0
for net in 0 1 2 3 4; do
    j=$($ADMIN --json check "10.50.$net.1")
    total=$((total + $(json_field "$j" escapes)))
done
expect_eq "no escape lost among 50 concurrent clients" "$total" "50"

# --- Bad input: each gets its documented answer -------------------------------
out=$(printf 'request=smtpd_access_policy\nclient_name=x\n\n' | ask "$CPORT")
expect_eq "no client_address: DUNNO at once" "$(action_of "$out")" "action=DUNNO"
out=$(req unknown 1 | ask "$CPORT")
expect_eq "client_address=unknown: DUNNO" "$(action_of "$out")" "action=DUNNO"
out=$(printf 'request=smtpd_access_policy\nthis line has no equals\nclient_address=192.0.2.1\n\n' | ask "$CPORT")
expect_eq "malformed line: DUNNO" "$(action_of "$out")" "action=DUNNO"
out=$(printf 'client_address=192.0.2.1\n\n' | ask "$CPORT")
expect_eq "no request= attribute: DUNNO" "$(action_of "$out")" "action=DUNNO"
out=$( { printf 'request=smtpd_access_policy\nx='; head -c 40000 /dev/zero | tr '\0' a; printf '\n\n'; } | ask "$CPORT")
expect_eq "oversized request: connection closed" "$(action_of "$out")" "eof"
out=$( { printf 'request=smtpd_access_policy\nx=a\000b\nclient_address=192.0.2.1\n\n'; req 192.0.2.1 9; } | ask "$CPORT")
expect_eq "NUL byte: DUNNO, and the next request still answered" \
    "$(action_of "$out" 1) $(action_of "$out" 2)" "action=DUNNO action=DUNNO"
t0=$(now_ms)
out=$(printf 'request=smtpd_access_policy\r\nclient_address=198.18.0.1\r\nclient_port=1\r\n\r\n' | ask "$CPORT")
expect_eq "CRLF lines are understood" "$(action_of "$out")" "action=DUNNO"
expect_range "CRLF request was tarpitted like any other (ms)" "$(ms_of "$out")" 950 3000
t0=$(now_ms)
out=$(printf 'request=smtpd_access_policy\n' | "$PC" -t 10000 127.0.0.1 "$CPORT")
expect_eq "silence: connection closed" "$(action_of "$out")" "eof"
expect_range "silence: closed after idle_timeout 3s (ms)" "$(ms_of "$out")" 2900 5000

# log_passes = no: an escaped network's DUNNO is not logged, a wait is.
sed 's/^sleep = 1s$/sleep = 0/' "$T/tarpit.conf" >"$T/quiet.conf"
echo "log_passes = no" >>"$T/quiet.conf"
P5=$(free_port); activate "$T/quiet.log" "$P5" "$BIN/tarpit-check" -c "$T/quiet.conf"
{ req 192.0.2.55 1; req 198.18.0.1 2; } | ask "$P5" >/dev/null
check "log_passes = no: the escaped network's DUNNO is not logged" \
    sh -c "! grep -q 'client=192.0.2.55' '$T/quiet.log'"
check "log_passes = no: the wait is logged" grep -q "client=198.18.0.1 .*after a wait" "$T/quiet.log"
check "log_passes = yes (default): the escaped network's DUNNO is logged" \
    grep -q "client=192.0.2.200 .*DUNNO (escaped" "$T/check.log"

# A database that cannot be opened: DUNNO without waiting, one log line.
cat >"$T/bad-db.conf" <<CONF
database = $T/no/such/dir/tarpit.db
sleep = 5s
CONF
P2=$(free_port); activate "$T/bad.log" "$P2" "$BIN/tarpit-check" -c "$T/bad-db.conf"
out=$(req 192.0.2.1 1 | ask "$P2")
expect_eq "unusable database: DUNNO" "$(action_of "$out")" "action=DUNNO"
expect_range "unusable database: no wait (ms)" "$(ms_of "$out")" 0 500
check "unusable database: logged, naming the file" grep -q "no/such/dir/tarpit.db.lock" "$T/bad.log"

# A config error: DUNNO to every request, one log line naming file and line.
printf 'database = %s/x.db\nsleep = forever\n' "$T" >"$T/bad.conf"
P3=$(free_port); activate "$T/badconf.log" "$P3" "$BIN/tarpit-check" -c "$T/bad.conf"
out=$( { req 192.0.2.1 1; req 192.0.2.1 2; } | ask "$P3")
expect_eq "config error: DUNNO to every request" "$(action_of "$out" 1) $(action_of "$out" 2)" "action=DUNNO action=DUNNO"
check "config error: logged with file and line" grep -q "bad.conf:2: sleep" "$T/badconf.log"

# A config change applies within a second, on a policy connection Postfix
# keeps open: the change is made during the first request's 4 s wait, and
# the second request on the same connection waits the new 1 s.  A config
# that is then broken keeps the settings read before, said once.
printf 'database = %s/reload.db\nsleep = 4s\n' "$T" >"$T/reload.conf"
P5=$(free_port); activate "$T/reload.log" "$P5" "$BIN/tarpit-check" -c "$T/reload.conf"
{ req 192.0.2.1 1; req 198.51.100.1 2; } | ask "$P5" >"$T/reload.out" &
rp=$!
sleep 1
printf 'database = %s/reload.db\nsleep = 1s\nrule = client_address 203.0.113.0/24 sleep 4s\n' \
    "$T" >"$T/reload.conf"
wait "$rp"
out=$(cat "$T/reload.out")
expect_range "config change: the request before it waits the old 4 s (ms)" "$(ms_of "$out" 1)" 3950 6000
expect_range "config change: the next request on the same connection waits the new 1 s (ms)" "$(ms_of "$out" 2)" 950 3500
check "config change: logged" grep -q "reload.conf changed: the new settings apply" "$T/reload.log"
{ req 203.0.113.1 3; req 198.18.0.1 4; } | ask "$P5" >"$T/reload2.out" &
rp=$!
sleep 1
printf 'database = %s/reload.db\nsleep = forever\n' "$T" >"$T/reload.conf"
wait "$rp"
out=$(cat "$T/reload2.out")
expect_range "a broken config change: the settings read before stay (1 s, ms)" "$(ms_of "$out" 2)" 950 3500
check "a broken config change: said, naming the line" grep -q "reload.conf changed, but .*reload.conf:2: sleep.*keeping the settings read before" "$T/reload.log"
check "... at error level" grep -q "tarpit-check: error: .*reload.conf changed, but" "$T/reload.log"
# A helper that starts while the config is broken (a typo in an edit): it
# goes on with the settings a helper last read whole, not DUNNO for all.
out=$(req 198.18.1.1 5 | ask "$P5")
expect_range "a new helper while the config is broken: the last good settings (1 s, ms)" \
    "$(ms_of "$out")" 950 3500
check "... said at error level, naming the line and the copy" grep -q \
    "tarpit-check: error: .*reload.conf:2: sleep.*settings last read whole, kept in $T/reload.db.conf-good" "$T/reload.log"
printf 'database = %s/reload.db\nslepe = 5s\n' "$T" >"$T/reload.conf"
out=$(req 198.18.2.1 6 | ask "$P5")
expect_range "... a typo in a key name too (1 s, ms)" "$(ms_of "$out")" 950 3500
out=$("$BIN/tarpit-admin" -c "$T/reload.conf" doctor 2>&1); rc=$?
expect_eq "doctor on the broken file: exit 3, saying what the helpers go on with" \
    "$rc/$(grep -c "the helpers go on with the settings a helper last read whole, kept in $T/reload.db.conf-good" <<<"$out")" "3/1"

# A helper shuts itself in once it has its settings (lib/tarpit/sandbox.c),
# with the config's directory to read: a config an editor writes anew and
# renames over the old one is still taken.  One that moves the database
# elsewhere is not, by a connection already open (its walls are for the
# old place): said, the settings read before stay; a new connection
# takes it.
mkdir "$T/cdir" "$T/elsewhere"
printf 'database = %s/moved.db\nsleep = 3s\n' "$T" >"$T/cdir/moved.conf"
P7=$(free_port); activate "$T/moved.log" "$P7" "$BIN/tarpit-check" -c "$T/cdir/moved.conf"
{ req 192.0.2.9 1; req 198.51.100.9 2; } | ask "$P7" >"$T/moved.out" &
rp=$!
sleep 1
printf 'database = %s/moved.db\nsleep = 1s\n' "$T" >"$T/cdir/moved.new"
mv "$T/cdir/moved.new" "$T/cdir/moved.conf"
wait "$rp"
expect_range "a config renamed over the old one, in a shut-in helper: the next request waits its 1 s (ms)" \
    "$(ms_of "$(cat "$T/moved.out")" 2)" 950 2900
{ req 203.0.113.9 1; req 198.18.0.9 2; } | ask "$P7" >"$T/moved.out" &
rp=$!
sleep 0.5
printf 'database = %s/elsewhere/moved.db\nsleep = 4s\n' "$T" >"$T/cdir/moved.conf"
wait "$rp"
expect_range "a config moving the database: the open connection keeps the settings read before (1 s, ms)" \
    "$(ms_of "$(cat "$T/moved.out")" 2)" 950 3500
check "... and says why" grep -q "moved.conf changed, but it moves the database (to $T/elsewhere).*keeping the settings read before" "$T/moved.log"
{ req 100.64.0.9 1; } | ask "$P7" >"$T/moved.out"
expect_range "... a new connection takes it (4 s, ms)" "$(ms_of "$(cat "$T/moved.out")" 1)" 3950 6500
check "... and writes the database in its new place" test -s "$T/elsewhere/moved.db"

# A spray of IPv6 /64s from one /48: once ipv6_aggregate (32) of its /64s
# have records, its new ones are the /48's record.  A /64 that escaped
# before stays as it is.
printf 'database = %s/spray.db\nsleep = 0\n' "$T" >"$T/spray.conf"
P6=$(free_port); activate "$T/spray.log" "$P6" "$BIN/tarpit-check" -c "$T/spray.conf"
W="$BIN/tarpit-admin -c $T/spray.conf"
printf '# tarpit dump 1\n2001:db8:7:1::/64 escapes=1 tarpits=1 last_seen=%s\n' "$(date +%s)" | $W load >/dev/null
for i in $(seq 256 1255); do req "2001:db8:7:$(printf %x "$i")::1" "$i"; done | "$PC" 127.0.0.1 "$P6" >"$T/spray.out"
expect_eq "1,000 /64s of one /48: all answered" "$(grep -c '^action=DUNNO' "$T/spray.out")" "1000"
expect_eq "... and the database holds 32 of them, the /48 and the escaped one" \
    "$($W list | grep -c '^2001:db8:7:')" "34"
j=$($W --json check 2001:db8:7::/48)
expect_eq "the /48's record: 32 /64s counted, the other 968 waits its own" \
    "$(json_field "$j" spread)/$(json_field "$j" tarpits)" "32/968"
check "the aggregation is logged once" grep -q "network=2001:db8:7::/48: 32 of its /64 networks made to wait" "$T/spray.log"
out=$(req 2001:db8:7:1::9 9 | "$PC" 127.0.0.1 "$P6")
expect_eq "the /64 that escaped before: untouched, still escaped" \
    "$(json_field "$($W --json check 2001:db8:7:1::9)" escapes)/$(act_of "$out")" "1/action=DUNNO"
check "... and answered as escaped" grep -q "network=2001:db8:7:1::/64: DUNNO (escaped)" "$T/spray.log"

# The same bound with helpers at once: 40 new /64s of one /48, each on its
# own connection, all asking at the same moment (connected a second
# before), with ipv6_aggregate = 4: 4 records of
# their own, the rest the /48's (each /64 takes its place in the /48's
# own transaction).
printf 'database = %s/spray4.db\nsleep = 1s\nipv6_aggregate = 4\n' "$T" >"$T/spray4.conf"
P8=$(free_port); activate "$T/spray4.log" "$P8" "$BIN/tarpit-check" -c "$T/spray4.conf"
W4="$BIN/tarpit-admin -c $T/spray4.conf"
pids=()
for i in $(seq 1 40); do
    { sleep 1; req "2001:db8:9:$i::1" "$i"; sleep 3; } | "$PC" 127.0.0.1 "$P8" >"$T/spray4.$i" 2>&1 &
    pids+=("$!")
done
wait "${pids[@]}"
expect_eq "40 /64s of one /48 at once: all answered" "$(cat "$T"/spray4.* | grep -c '^action=DUNNO')" "40"
expect_eq "... and ipv6_aggregate = 4 holds: 4 /64 records of their own, the rest the /48's" \
    "$($W4 list | grep -c '^2001:db8:9:[0-9a-f]*::/64')/$(json_field "$($W4 --json check 2001:db8:9::/48)" spread)" "4/4"
expect_eq "... and the /64 that took the last place says so, once" \
    "$(grep -c 'network=2001:db8:9::/48: 4 of its /64 networks made to wait' "$T/spray4.log")" "1"

# inetd style (stdin/stdout) with stderr on the socket too: no log line may
# reach the connection.
P4=$(free_port)
setsid systemd-socket-activate --accept --inetd -l "127.0.0.1:$P4" \
    sh -c "exec '$BIN/tarpit-check' -c '$T/bad.conf' 2>&1" >>"$T/inetd.log" 2>&1 &
PGIDS+=("$!")
for i in $(seq 1 100); do ss -Htln "( sport = :$P4 )" | grep -q . && break; sleep 0.05; done
out=$(printf 'garbage\n\n' | "$PC" 127.0.0.1 "$P4")
expect_eq "inetd mode, stderr on the socket: the reply is clean" "$(action_of "$out")" "action=DUNNO"

# The helpers left nothing running and crashed nowhere.
wait_no_children "$CHECK_PID" 3000
expect_eq "no helper process left" "$(children "$CHECK_PID")" "0"
no_crash
done_testing
