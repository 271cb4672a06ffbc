#!/usr/bin/env bash
# shared.sh - several MX hosts on one redis-server (started here, stopped
# by its pid): two "hosts" (two configs, their own state directories and
# helpers, one server) share escapes and blocks; a waiting helper holds no
# connection; a GDBM site moves to the server with dump | load; TTLs; the
# faults (server killed mid-load and back, restarted empty, paused, wrong
# password, wrong ACL permissions, a password file others may read); and
# 200 writers over both hosts racing on shared networks, none lost.
. "$(dirname "$0")/../lib.sh"

PC=$TOOLS/policy-client
LG=$TOP/bench/loadgen
rs_start || { not_ok "redis-server starts"; done_testing; exit 1; }
note "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$RS_PORT"
URL=redis://127.0.0.1:$RS_PORT/0
# host NAME [MORE LINES] - a host's config: the shared server, its own state
host() {
    mkdir -p "$T/$1"
    printf 'database = %s\nstate_directory = %s/%s\nsleep = 2s\n%s\n' \
        "$URL" "$T" "$1" "${2:-}" >"$T/$1.conf"
}
host a; host b
A="$BIN/tarpit-admin -c $T/a.conf"
B="$BIN/tarpit-admin -c $T/b.conf"
ACP=$(free_port); activate "$T/a-check.log" "$ACP" "$BIN/tarpit-check" -c "$T/a.conf"
A_CHECK=$ACTIVATOR
ASP=$(free_port); activate "$T/a-store.log" "$ASP" "$BIN/tarpit-store" -c "$T/a.conf"
BCP=$(free_port); activate "$T/b-check.log" "$BCP" "$BIN/tarpit-check" -c "$T/b.conf"
B_CHECK=$ACTIVATOR
BSP=$(free_port); activate "$T/b-store.log" "$BSP" "$BIN/tarpit-store" -c "$T/b.conf"

# --- Two hosts, one memory -----------------------------------------------
out=$(req 192.0.2.10 1 | "$PC" 127.0.0.1 "$ACP")
expect_range "host A: a new network waits (ms)" "$(ms_of "$out")" 1950 4000
out=$(req 192.0.2.10 1 | "$PC" 127.0.0.1 "$ASP")
expect_eq "host A: its delivery is an escape" "$(json_field "$($A --json check 192.0.2.10)" escapes)" "1"
out=$(req 192.0.2.99 2 | "$PC" 127.0.0.1 "$BCP")
expect_range "host B: the same /24 does not wait (ms)" "$(ms_of "$out")" 0 500
$A block 198.51.100.7 --comment "seen on A" >/dev/null
out=$(req 198.51.100.8 3 | "$PC" 127.0.0.1 "$BCP")
expect_eq "host B: a block made on A is answered" "$(cut -d' ' -f1 <<<"$out")" "action=REJECT"
expect_eq "both hosts list the same records" "$($A list | md5sum)" "$($B list | md5sum)"
expect_eq "the counters are the server's: B sees A's wait" \
    "$(json_field "$($B --json stats)" tarpits)" "1"
expect_eq "keys on the server: the prefix, the network" \
    "$(rs --scan --pattern 'tarpit:*' | sort | tr '\n' ' ')" \
    "tarpit:192.0.2.0/24 tarpit:198.51.100.0/24 tarpit:@stats "

# --- TTLs: max_age, or the end of a longer block; none for ever ------------
expect_range "an escaped network lives max_age (30d) (s)" "$(rs ttl tarpit:192.0.2.0/24)" 2591000 2592000
expect_eq "a block for ever: no TTL" "$(rs ttl tarpit:198.51.100.0/24)" "-1"
$A block 203.0.113.1 --for 90d >/dev/null
expect_range "a block for 90 days lives 90 days (s)" "$(rs ttl tarpit:203.0.113.0/24)" 7775000 7776000
expect_eq "expire: the server's job, exit 0" "$($A expire >/dev/null; echo $?)" "0"

# --- A waiting helper holds no connection ---------------------------------
# Twenty 5 s waits: once all twenty have recorded their start (and each has
# had time to let go of the server), there is no connection but ours.
host h 'sleep = 5s'
HCP=$(free_port); activate "$T/h-check.log" "$HCP" "$BIN/tarpit-check" -c "$T/h.conf"
H_CHECK=$ACTIVATOR
clients() { rs client list | grep -vc 'cmd=client'; }
pids=()
for i in $(seq 1 20); do
    req "100.64.$i.1" "$i" | "$PC" 127.0.0.1 "$HCP" >"$T/w.$i" &
    pids+=("$!")
done
held=
for i in $(seq 1 40); do		# at most 4 s of the 5 s waits
    if [ "$(rs --scan --pattern 'tarpit:100.64.*' | wc -l)" = 20 ] && [ "$(clients)" = 0 ]; then
        held=$(children "$H_CHECK"); break
    fi
    sleep 0.1
done
expect_eq "20 helpers waiting ($held processes): 0 server connections" "${held:+0}" "0"
wait "${pids[@]}"
expect_eq "... and all 20 answered after their 5 s wait" "$(cat "$T"/w.* | awk '$NF >= 4950' | wc -l)" "20"

# --- Counters: every wait and every refusal, two hosts at once --------------
# max_waiting = 1 on each host, four clients over both, far more requests
# than slots: each request is a wait (tarpits) or a refusal (waits_refused),
# and the server counts every one.  A refusal read the counters and wrote
# them all back: other hosts' increments in between were lost.
host c 'sleep = 100ms
max_waiting = 1
greylist = no
database_prefix = count:'
host d 'sleep = 100ms
max_waiting = 1
greylist = no
database_prefix = count:'
CCP=$(free_port); activate "$T/c-check.log" "$CCP" "$BIN/tarpit-check" -c "$T/c.conf"
DCP=$(free_port); activate "$T/d-check.log" "$DCP" "$BIN/tarpit-check" -c "$T/d.conf"
pids=()
for k in 1 2 3 4; do
    port=$([ $((k % 2)) = 0 ] && echo "$CCP" || echo "$DCP")
    for i in $(seq 1 150); do req "100.$((64 + k)).$i.1" "$i"; done |
        "$PC" -t 20000 127.0.0.1 "$port" >"$T/count.$k" &
    pids+=("$!")
done
wait "${pids[@]}"
j=$("$BIN/tarpit-admin" -c "$T/c.conf" --json stats)
expect_eq "600 requests over two hosts: all answered" "$(cat "$T"/count.* | grep -c '^action=DUNNO')" "600"
expect_eq "... and every one counted, a wait or a refusal (tarpits + waits_refused)" \
    "$(( $(json_field "$j" tarpits) + $(json_field "$j" waits_refused) ))" "600"
check "... refusals among them (more requests than slots)" test "$(json_field "$j" waits_refused)" -gt 0

# --- Migration: a GDBM site's dump loaded on the server --------------------
printf 'database = %s/site.db\n' "$T" >"$T/site.conf"
S="$BIN/tarpit-admin -c $T/site.conf"
$S allow 2001:db8::1 --comment partner >/dev/null
$S block 192.0.2.200 --for 2d >/dev/null
printf 'request=smtpd_access_policy\n' >/dev/null
$S dump >"$T/site.dump"
printf 'database = %s\ndatabase_prefix = site:\nstate_directory = %s/a\n' "$URL" "$T" >"$T/moved.conf"
M="$BIN/tarpit-admin -c $T/moved.conf"
$S dump | $M load >/dev/null
expect_eq "dump from GDBM | load on the server: the same dump back" "$($M dump)" "$(cat "$T/site.dump")"
expect_eq "the prefix keeps sites apart" "$($M list | wc -l)/$($A list | grep -c '2001:db8::/64')" "2/0"

# --- Faults ---------------------------------------------------------------
# ask PORT ADDR N - N requests on one connection (each a new session)
ask() {
    local i
    for i in $(seq 1 "$3"); do req "$2" "$((1000 + i))" "instance=f.$i"; done |
        "$PC" 127.0.0.1 "$1"
}
# The server killed in the middle of a load: every request answered.
pids=()
for i in $(seq 1 20); do
    ask "$ACP" "172.16.$i.1" 5 >"$T/k.$i" &
    pids+=("$!")
done
sleep 1
rs_stop
wait "${pids[@]}"
answered=$(cat "$T"/k.* | grep -c '^action=DUNNO')
slowest=$(cat "$T"/k.* | awk '{print $NF}' | sort -n | tail -1)
expect_eq "server killed mid-load: all 100 requests answered DUNNO" "$answered" "100"
expect_range "... none later than a wait plus the timeouts (slowest, ms)" "$slowest" 0 4000
t0=$(now_ms); out=$(req 172.31.0.1 1 | "$PC" 127.0.0.1 "$ACP")
expect_range "server down: DUNNO at once (ms)" "$(ms_of "$out")" 0 500
expect_eq "server down: tarpit-admin says so, exit 4" "$($A list >/dev/null 2>&1; echo $?)" "4"
wait_no_children "$A_CHECK" 5000
expect_eq "no helper stuck" "$(children "$A_CHECK")" "0"
out=$(ask "$ACP" 172.31.0.2 30 | grep -c '^action=DUNNO')
expect_eq "a storm of 30 requests, server down: all answered" "$out" "30"
expect_range "... with at most 2 warning lines from that helper" \
    "$(tail -40 "$T/a-check.log" | grep -c 'warning: .*172.31.0.2\|trouble above')" 1 2
# Back, empty: recording resumes without a restart; known networks wait once more.
RS_WANT_PORT=$RS_PORT rs_start
out=$(req 192.0.2.10 1 | "$PC" 127.0.0.1 "$BCP")
expect_range "restarted empty: an escaped network waits once more (ms)" "$(ms_of "$out")" 1950 4000
expect_eq "back again: recorded, no restart of anything" "$(json_field "$($A --json check 192.0.2.10)" tarpits)" "1"
# Paused: DUNNO within database_timeout (500ms) plus a little.
rs client pause 3000 >/dev/null
out=$(req 192.0.2.10 5 | "$PC" 127.0.0.1 "$BCP")
expect_range "CLIENT PAUSE: DUNNO within the timeout (ms)" "$(ms_of "$out")" 400 1500
sleep 2.6
rs debug sleep 4 >/dev/null &
dbg=$!
# Only once the server is asleep: a PING that gets no answer in 0.5 s
# (it takes milliseconds otherwise).  The sleep outlasts this wait.
for i in $(seq 1 20); do
    timeout 0.5 redis-cli -p "$RS_PORT" ping >/dev/null 2>&1 || break
    sleep 0.05
done
out=$(req 192.0.2.11 6 | "$PC" 127.0.0.1 "$BCP")
expect_range "DEBUG SLEEP: DUNNO within the timeout (ms)" "$(ms_of "$out")" 200 1500
wait "$dbg"
check "a paused server is logged, naming it" grep -q "redis://127.0.0.1:$RS_PORT/0: .*\(timed out\|Resource temporarily unavailable\)" "$T/b-check.log"
# Credentials: a password, an ACL user with too few rights.
rs config set requirepass s3cret >/dev/null
out=$(req 192.0.2.12 7 | "$PC" 127.0.0.1 "$BCP")
expect_range "a password now needed, none given: DUNNO at once (ms)" "$(ms_of "$out")" 0 500
check "... logged as such" grep -q 'NOAUTH' "$T/b-check.log"
printf 'wrong\n' >"$T/pw"; chmod 0640 "$T/pw"
host c "database_password_file = $T/pw"
C="$BIN/tarpit-admin -c $T/c.conf"
$C list >/dev/null 2>"$T/err"
expect_eq "a wrong password: exit 4, said" "$?:$(grep -c 'WRONGPASS\|invalid' "$T/err")" "4:1"
printf 's3cret\n' >"$T/pw"
expect_eq "the right password: works" "$($C check 192.0.2.10 >/dev/null; echo $?)" "0"
chmod 0644 "$T/pw"
$C list >/dev/null 2>"$T/err"
expect_eq "a password file others may read: refused, said" "$?:$(grep -c 'readable or writable beyond' "$T/err")" "4:1"
chmod 0640 "$T/pw"
REDISCLI_AUTH=s3cret rs acl setuser reader on '>r3ad' '~tarpit:*' +@connection +get >/dev/null
printf 'r3ad\n' >"$T/pw2"; chmod 0600 "$T/pw2"
host d "database_password_file = $T/pw2"
sed -i "s|^database = redis://|database = redis://reader@|" "$T/d.conf"
DCP=$(free_port); activate "$T/d-check.log" "$DCP" "$BIN/tarpit-check" -c "$T/d.conf"
out=$(req 10.77.0.1 8 | "$PC" 127.0.0.1 "$DCP")
expect_eq "an ACL user that may not write: DUNNO, no wait" "$(cut -d' ' -f1 <<<"$out")" "action=DUNNO"
expect_range "... at once (ms)" "$(ms_of "$out")" 0 500
check "... and the NOPERM said" grep -q 'NOPERM' "$T/d-check.log"
expect_eq "a password in the URL is refused (config error, exit 3)" \
    "$(printf 'database = redis://u:p@127.0.0.1:%s/0\n' "$RS_PORT" >"$T/e.conf"; $BIN/tarpit-admin -c "$T/e.conf" list >/dev/null 2>&1; echo $?)" "3"
REDISCLI_AUTH=s3cret rs config set requirepass '' >/dev/null

# --- 200 writers over two hosts, two on each of 100 networks -----------------------
SECS=${SHARED_WRITERS_SECS:-30}
host wa 'sleep = 0
threshold = 1000000
database_prefix = w:'
host wb 'sleep = 0
threshold = 1000000
database_prefix = w:'
WAC=$(free_port); activate "$T/wa-check.log" "$WAC" "$BIN/tarpit-check" -c "$T/wa.conf"
WAS=$(free_port); activate "$T/wa-store.log" "$WAS" "$BIN/tarpit-store" -c "$T/wa.conf"
WBC=$(free_port); activate "$T/wb-check.log" "$WBC" "$BIN/tarpit-check" -c "$T/wb.conf"
WBS=$(free_port); activate "$T/wb-store.log" "$WBS" "$BIN/tarpit-store" -c "$T/wb.conf"
ulimit -n 4096 2>/dev/null
LOADGEN_NETS=100 "$LG" pairs 127.0.0.1 "$WAC:$WAS" 100 "$SECS" >"$T/lga" &
p1=$!
LOADGEN_NETS=100 "$LG" pairs 127.0.0.1 "$WBC:$WBS" 100 "$SECS" >"$T/lgb" &
p2=$!
wait "$p1" "$p2"
"$BIN/tarpit-admin" -c "$T/wa.conf" dump >"$T/w.dump"
pairs=$(cat "$T/lga" "$T/lgb" | awk '$1 == "net" {s += $3} END {print s + 0}')
lost=$(awk '
    FNR == NR { if ($1 == "net") want[$2] += $3; next }
    $1 == "@stats" { for (i = 2; i <= NF; i++) { split($i, kv, "="); st[kv[1]] = kv[2] } next }
    $1 in want {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        lost += want[$1] - f["escapes"]; lost += want[$1] - f["tarpits"]
        total += want[$1]; seen++
    }
    END { lost += total - st["escapes"]; lost += total - st["tarpits"]; print lost + 0 " " seen + 0 }' \
    <(cat "$T/lga" "$T/lgb") "$T/w.dump")
check "200 writers for ${SECS}s: $pairs check+store pairs answered" test "$pairs" -gt 200
expect_eq "... 0 updates lost on the 100 networks and the counters (against tarpit-admin dump)" "$lost" "0 100"
expect_eq "... and no database warning on either host" \
    "$(cat "$T"/w[ab]-*.log | grep -c 'warning')" "0"

# A server across a network: Debian 12's hiredis has no TLS, so doctor
# says when the link (a password included) crosses a network in clear.
# The "network" is a namespace made here, with 10.9.9.1 on its loopback
# device: a server on another machine, as far as doctor can tell, and no
# packet leaves the namespace.
printf 'secret\n' >"$T/pw"
chmod 0600 "$T/pw"
printf 'database = %s\nstate_directory = %s/a\ndatabase_password_file = %s/pw\n' \
    "$URL" "$T" "$T" >"$T/local.conf"
"$BIN/tarpit-admin" -c "$T/local.conf" doctor >"$T/doctor.local" 2>&1
check "doctor: a server on this host is not a link in clear" \
    sh -c "! grep -q 'in clear' '$T/doctor.local'"
NP=$(free_port)
printf 'database = redis://10.9.9.1:%s\nstate_directory = %s/a\ndatabase_password_file = %s/pw\n' \
    "$NP" "$T" "$T" >"$T/far.conf"
unshare --net bash -c '
    ip link set lo up && ip addr add 10.9.9.1/32 dev lo || exit 1
    redis-server --port "$1" --bind 10.9.9.1 --save "" --appendonly no --requirepass secret \
        --dir "$2" >"$2/far-redis.log" 2>&1 &
    pid=$!
    for i in $(seq 1 400); do redis-cli -h 10.9.9.1 -p "$1" -a secret ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
    "$3" -c "$2/far.conf" doctor >"$2/doctor.far" 2>&1
    kill -KILL "$pid"; wait "$pid" 2>/dev/null
' _ "$NP" "$T" "$BIN/tarpit-admin"
check "doctor: a server across a network, with a password: said to cross it in clear" \
    grep -q "problem: the link to 10.9.9.1 crosses a network in clear: the password (AUTH)" "$T/doctor.far"
check "... after it answered" grep -q "answers PING, credentials accepted" "$T/doctor.far"

no_crash
done_testing
