#!/usr/bin/env bash
# profiles.sh - profiles, rules, stress, dry run and max_waiting through
# the helpers under systemd-socket-activate --accept.
. "$(dirname "$0")/../lib.sh"

PC=$TOOLS/policy-client
A="$BIN/tarpit-admin -c $T/tarpit.conf"
cat >"$T/tarpit.conf" <<CONF
database = $T/tarpit.db
sleep = 3s
max_waiting = 3

[submission]
sleep = 5s
skip_authenticated = no
rule = client_name /\.jp$/i sleep 1s
CONF
CPORT=$(free_port); activate "$T/check.log" "$CPORT" "$BIN/tarpit-check" -c "$T/tarpit.conf"
CHECK_PID=$ACTIVATOR
# sub ADDR NAME [more attributes] - a submission-port request
sub() { req "$1" "${3:-1}" "policy_context=submission" "sasl_username=bob" "client_name=$2"; }

# --- The submission profile: 1 s for .jp, 5 s for the rest ----------------
out=$(sub 192.0.2.10 host.example.JP | "$PC" 127.0.0.1 "$CPORT")
expect_range "submission: an authenticated .jp client waits 1s (ms)" "$(ms_of "$out")" 950 2000
out=$(sub 198.51.100.10 host.example.org | "$PC" 127.0.0.1 "$CPORT")
expect_range "submission: an authenticated client from elsewhere waits 5s (ms)" "$(ms_of "$out")" 4950 6500
out=$(req 203.0.113.10 1 "sasl_username=bob" | "$PC" 127.0.0.1 "$CPORT")
expect_range "MX (no context): an authenticated client is skipped (ms)" "$(ms_of "$out")" 0 500
$A check 203.0.113.10 >/dev/null 2>&1
expect_eq "MX: ... and no record is made" "$?" "1"
out=$(req 203.0.113.20 1 "policy_context=nosuch" | "$PC" 127.0.0.1 "$CPORT")
out=$(req 203.0.113.21 2 "policy_context=nosuch" | "$PC" 127.0.0.1 "$CPORT")
expect_range "unknown policy_context: the global sleep 3s (ms)" "$(ms_of "$out")" 2950 4500
expect_eq "unknown policy_context: logged once per helper" "$(grep -c 'policy_context=nosuch has no' "$T/check.log")" "2"

# --- stress=yes: stress_sleep (0) means no wait, no record -----------------
out=$(req 100.100.30.1 1 "stress=yes" | "$PC" 127.0.0.1 "$CPORT")
expect_range "stress=yes: no wait (ms)" "$(ms_of "$out")" 0 500
$A check 100.100.30.1 >/dev/null 2>&1
expect_eq "stress=yes: no record" "$?" "1"

# --- max_waiting = 3: ten clients at once, exactly three wait ----------------
sed -i 's/^sleep = 3s/sleep = 20s/' "$T/tarpit.conf"
pids=()
for i in $(seq 1 10); do
    req "100.64.$i.1" "$i" | "$PC" 127.0.0.1 "$CPORT" >"$T/cap.$i" &
    pids+=("$!")
done
sleep 2
expect_eq "max_waiting=3: tarpit-admin info shows 3 waiting" \
    "$(json_field "$($A --json info)" waiting)" "3"
answered=$(cat "$T"/cap.* | grep -c '^action=DUNNO')
expect_eq "max_waiting=3: the other 7 were answered at once" "$answered" "7"
expect_eq "max_waiting=3: the refusals are counted" "$(json_field "$($A --json stats)" waits_refused)" "7"
# kill -9 one waiting helper: its slot comes back.
victim=$(for p in $(pgrep -P "$CHECK_PID"); do
    grep -q 'tarpit-check' "/proc/$p/cmdline" 2>/dev/null && echo "$p"; done | head -1)
kill -KILL "$victim"
echo "$victim" >"$T/victim"
sleep 0.3
expect_eq "kill -9 of a waiting helper: its slot is free again (2 waiting)" \
    "$(json_field "$($A --json info)" waiting)" "2"
out=$(req 100.64.99.1 99 | "$PC" -t 1500 127.0.0.1 "$CPORT")
expect_eq "... and a new client gets it (it waits)" "$(awk '{print $1}' <<<"$out")" "timeout"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
wait_no_children "$CHECK_PID" 3000
expect_eq "all slots free once the waits are gone" "$(json_field "$($A --json info)" waiting)" "0"

# --- share/examples/s25r.conf: only dynamic-looking names wait -------------
{ printf 'database = %s/s25r.db\nsleep = 1s\n' "$T"; cat "$TOP/share/examples/s25r.conf"; } >"$T/s25r.conf"
P3=$(free_port); activate "$T/s25r.log" "$P3" "$BIN/tarpit-check" -c "$T/s25r.conf"
# s25r ADDR NAME - a request in the s25r profile, given up after 1.5 s
s25r() { req "$1" 1 "policy_context=s25r" "client_name=$2" | "$PC" -t 1500 127.0.0.1 "$P3"; }
dynamic=(unknown p1234-ipbf01.tokyo.example.ne.jp host12345.example.net 1-2-3-4.example.co.uk
    a1.b2-3.example.com x1.y2.pool.example.net dhcp12.example.org)
static=(mail.example.com mx1.example.net smtp2.example.co.jp relay-out.example.org
    mail-db5eur02on2101.outbound.protection.outlook.com a8-17.smtp-out.amazonses.com
    mail-ej1-f41.google.com)
i=0 pids=()
for n in "${dynamic[@]}" "${static[@]}"; do
    i=$((i + 1)); s25r "10.25.$i.1" "$n" >"$T/s25r.$i" &
    pids+=("$!")
done
wait "${pids[@]}"
i=0
for n in "${dynamic[@]}"; do
    i=$((i + 1))
    expect_eq "s25r: $n waits (still waiting after 1.5 s)" "$(awk '{print $1}' "$T/s25r.$i")" "timeout"
done
for n in "${static[@]}"; do
    i=$((i + 1))
    expect_eq "s25r: $n is skipped at once" "$(awk '{print $1}' "$T/s25r.$i")" "action=DUNNO"
    "$BIN/tarpit-admin" -c "$T/s25r.conf" check "10.25.$i.1" >/dev/null 2>&1
    expect_eq "s25r: ... and gets no record" "$?" "1"
done
out=$(req 10.25.99.1 1 "client_name=host12345.example.net" | "$PC" 127.0.0.1 "$P3")
expect_range "s25r: outside the profile, the global sleep (1s) and no S25R rule (ms)" \
    "$(ms_of "$out")" 950 5000

# --- A profile's escapes are its own ---------------------------------------
cat >"$T/own.conf" <<CONF
database = $T/own.db
sleep = 2s

[submission]
sleep = 1s
skip_authenticated = no

[partner]
sleep = 1s
skip_authenticated = no
share_escapes = yes
CONF
PO=$(free_port); activate "$T/own.log" "$PO" "$BIN/tarpit-check" -c "$T/own.conf"
SO=$(free_port); activate "$T/ownstore.log" "$SO" "$BIN/tarpit-store" -c "$T/own.conf"
O="$BIN/tarpit-admin -c $T/own.conf"
# prof CONTEXT ADDR PORT# PORT: a request of that profile ("" for none) to PORT
prof() { req "$2" "$3" ${1:+"policy_context=$1"} "sasl_username=bob" | "$PC" 127.0.0.1 "$4"; }
out=$(prof submission 192.0.2.10 1 "$PO")
expect_range "own: an authenticated user waits on the submission port (ms)" "$(ms_of "$out")" 950 2500
prof submission 192.0.2.10 1 "$SO" >/dev/null
expect_eq "own: ... and delivers: the escape is the profile's ([submission]192.0.2.0/24)" \
    "$(json_field "$($O --json check '[submission]192.0.2.10')" escapes)" "1"
$O check 192.0.2.10 >/dev/null 2>&1
expect_eq "own: the network itself has no record" "$?" "1"
out=$(req 192.0.2.77 2 | "$PC" 127.0.0.1 "$PO")
expect_range "own: an unauthenticated port-25 client of the same /24 still waits (ms)" "$(ms_of "$out")" 1950 4000
check "own: log lines name the profile's record" grep -q "network=\[submission\]192.0.2.0/24: DUNNO after a wait" "$T/own.log"
out=$(prof submission 192.0.2.10 3 "$PO")
expect_range "own: the submission port does not wait again (ms)" "$(ms_of "$out")" 0 500
out=$(prof partner 198.51.100.10 4 "$PO")
prof partner 198.51.100.10 4 "$SO" >/dev/null
out=$(req 198.51.100.77 5 | "$PC" 127.0.0.1 "$PO")
expect_range "share_escapes = yes: an escape there is the network's, port 25 does not wait (ms)" \
    "$(ms_of "$out")" 0 500
$O block 203.0.113.0/24 >/dev/null
out=$(prof submission 203.0.113.5 6 "$PO")
expect_eq "own: an admin's block of the network holds in every profile" "$(act_of "$out")" "action=REJECT"
$O block '[nosuch]203.0.113.5' >/dev/null 2>"$T/err"
expect_eq "own: [NAME] of a profile the config lacks is refused" "$?:$(grep -c 'no \[nosuch\] profile' "$T/err")" "2:1"

# --- Dry run: logs what it would do, never waits or blocks ---------------
cat >"$T/dry.conf" <<CONF
database = $T/dry.db
sleep = 5s
dry_run = yes
rule = client_address 198.18.0.0/15 block
CONF
P2=$(free_port); activate "$T/dry.log" "$P2" "$BIN/tarpit-check" -c "$T/dry.conf"
out=$(req 192.0.2.50 1 | "$PC" 127.0.0.1 "$P2")
expect_range "dry run: no wait (ms)" "$(ms_of "$out")" 0 500
check "dry run: logs the wait it would have made" grep -q "dry run: would wait 5.000s (new network)" "$T/dry.log"
out=$(req 198.18.5.5 2 | "$PC" 127.0.0.1 "$P2")
expect_eq "dry run: a block rule answers DUNNO" "$(awk '{print $1}' <<<"$out")" "action=DUNNO"
check "dry run: ... and logs the block it would have sent" grep -q "dry run: would answer REJECT" "$T/dry.log"
check "dry run: nothing written" test ! -e "$T/dry.db"

# --- A bad regex: named with its line by everyone who reads the config -----
printf 'database = %s/x.db\n\n[submission]\nrule = client_name /a(b/ sleep 1s\n' "$T" >"$T/bad.conf"
P3=$(free_port); activate "$T/bad.log" "$P3" "$BIN/tarpit-check" -c "$T/bad.conf"
out=$(sub 192.0.2.1 x.jp | "$PC" 127.0.0.1 "$P3")
expect_eq "bad regex: the helper fails open (DUNNO)" "$(awk '{print $1}' <<<"$out")" "action=DUNNO"
check "bad regex: the helper logs file and line" grep -q "bad.conf:4: rule: bad regex /a(b/" "$T/bad.log"
$BIN/tarpit-admin -c "$T/bad.conf" list >/dev/null 2>"$T/err"
expect_eq "bad regex: tarpit-admin exits 3, naming the line" "$? $(grep -c 'bad.conf:4:' "$T/err")" "3 1"
$BIN/tarpit-admin -c "$T/bad.conf" doctor >/dev/null 2>&1
expect_eq "bad regex: doctor exits non-zero too" "$?" "3"

no_crash "Child $(cat "$T/victim") died"
done_testing
