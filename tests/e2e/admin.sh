#!/usr/bin/env bash
# admin.sh - every tarpit-admin command in both formats, the admin socket
# protocol, the dump/load round trip on 10,000 records, expire while 20
# helpers keep working, and doctor on throw-away Postfix configs.
. "$(dirname "$0")/../lib.sh"

PC=$TOOLS/policy-client
A="$BIN/tarpit-admin -c $T/tarpit.conf"
cat >"$T/tarpit.conf" <<CONF
$(db_conf tarpit)
sleep = 1s
max_age = 1d
CONF

# --- What the admin reads: words that fit the numbers -----------------------
if ! shared_backend; then
    expect_eq "info --json before the file exists: database_bytes 0" \
        "$($A --json info | sed -n 's/.*"database_bytes":\([^,]*\).*/\1/p')" "0"
fi
expect_eq "load of one record says 'record'" \
    "$(printf '# tarpit dump 1\n198.18.9.0/24 first_seen=1 last_seen=1 allow_until=-1\n' | $A load)" \
    "loaded 1 record"
out=$($A unblock 198.18.9.1 2>&1); rc=$?
expect_eq "unblock of a network that is not blocked: says so, exit 1" "$rc: $out" \
    "1: tarpit-admin: 198.18.9.1: 198.18.9.0/24 is not blocked"
check "check: every field name apart from its value" sh -c "$A check 198.18.9.1 | grep -qx 'recent_failures 0'"
$A del 198.18.9.1 >/dev/null
printf 'rule = client_name /x/ skip\nrule = client_address 198.51.100.0/24 block\n' >>"$T/tarpit.conf"
expect_eq "config rule: the rules, one a line" "$($A config rule | tr '\n' '|')" \
    "client_name /x/ skip|client_address 198.51.100.0/24 block|"
sed -i '/^rule = /d' "$T/tarpit.conf"

# --- ask: what tarpit-check would answer, changing nothing ------------------
expect_eq "ask: a new network would wait sleep" "$($A ask 198.18.7.7 | sed -n 's/^answer *//p')" \
    "DUNNO after a wait of 1.000s"
expect_eq "... and ask wrote nothing" "$($A check 198.18.7.7 >/dev/null 2>&1; echo $?)" "1"
expect_eq "ask: postmaster@ passes at once, and says why" \
    "$($A ask 198.18.7.7 --recipient postmaster@example.net | sed -n 's/^reason *//p')" "exempt recipient"
$A block 198.18.8.1 >/dev/null
expect_eq "ask: a blocked network gets block_action" "$($A ask 198.18.8.9 | sed -n 's/^answer *//p')" \
    "REJECT Your network is blocked here"
$A del 198.18.8.1 >/dev/null
printf '# tarpit dump 1\n@domain%%20example.com first_seen=1 last_seen=%s escapes=1\n' "$(date +%s)" | $A load >/dev/null
j=$($A --json ask 198.18.9.9 --name mx.example.com)
check "ask --json: judged by its verified domain, which vouches" \
    grep -q '"network":"198.18.9.0/24","domain":"example.com","profile":"","wait_ms":0,"answer":"DUNNO at once","reason":"its domain escaped"' <<<"$j"
expect_eq "ask: not an address is a usage error" "$($A ask nowhere 2>/dev/null; echo $?)" "2"

# load applies block's width rule: a /22 blocked (or a /0) is refused whole.
out=$(printf '# tarpit dump 1\n198.51.100.0/22 first_seen=1 last_seen=1 block_until=-1\n' | $A load 2>&1); rc=$?
expect_eq "load: a network of a width block refuses is refused, nothing loaded (exit 2)" "$rc" "2"
check "... and says why" grep -q "a network of a width the helpers never look up" <<<"$out"

# --- allow / block / unblock / check / list / del -------------------------
out=$($A block 192.0.2.5 --for 1h --comment "spam run 42")
expect_eq "block: says what it did" "${out%% until*}" "blocked 192.0.2.0/24"
$A allow 2001:db8::1 --comment partner >/dev/null
expect_eq "check: text format, state line" "$($A check 192.0.2.77 | awk '$1 == "state" {print $2}')" "blocked"
expect_eq "check: the comment" "$($A check 192.0.2.77 | sed -n 's/^comment *//p')" "spam run 42"
j=$($A --json check 2001:db8::5)
expect_eq "check --json: allow_until -1 (for ever), state" \
    "$(json_field "$j" allow_until) $(printf '%s' "$j" | sed 's/.*"state":"\([a-z]*\)".*/\1/')" "-1 allowed"
$A check 198.51.100.1 >/dev/null 2>"$T/err"; rc=$?
expect_eq "check: no record is exit 1 with a message" "$rc $(cat "$T/err")" \
    "1 tarpit-admin: 198.51.100.1: no record for 198.51.100.0/24"
$A check not-an-address >/dev/null 2>&1
expect_eq "check: a bad address is exit 2" "$?" "2"
expect_eq "list: sorted, IPv4 first, one a line with a state" \
    "$($A list | awk '{print $1, $9}' | tr '\n' ';')" "192.0.2.0/24 blocked;2001:db8::/64 allowed;"
expect_eq "list --json: one object a line" "$($A --json list | grep -c '^{"network":')" "2"

# A mark the helpers would never see (they look up the client's /24 or
# /64 alone) is refused, never accepted and ignored.
for bad in "allow 192.0.0.0/16" "block 10.0.0.0/8" "block 192.0.2.1/32" "allow 2001:db8::/48"; do
    $A $bad >/dev/null 2>"$T/err"
    expect_eq "$bad: refused (exit 2), said why" "$?:$(grep -c 'than the networks the helpers look up' "$T/err")" "2:1"
done
check "a wider network: the error names the rule that does it" grep -q "rule = client_address 2001:db8::/48 skip" "$T/err"
expect_eq "... and nothing was recorded" "$($A list | wc -l)" "2"

# A blocked network is answered with block_action by tarpit-check, at once.
CPORT=$(free_port); activate "$T/check.log" "$CPORT" "$BIN/tarpit-check" -c "$T/tarpit.conf"
CHECK_PID=$ACTIVATOR
SPORT=$(free_port); activate "$T/store.log" "$SPORT" "$BIN/tarpit-store" -c "$T/tarpit.conf"
out=$(req 192.0.2.9 1 | "$PC" 127.0.0.1 "$CPORT")
expect_eq "blocked network: REJECT with block_action, at once" \
    "$(cut -d' ' -f1-3 <<<"$out")" "action=REJECT Your network"
out=$(req 2001:db8::9 1 | "$PC" 127.0.0.1 "$CPORT")
expect_range "allowed network: no wait (ms)" "$(awk '{print $NF}' <<<"$out")" 0 500
check "... because it is allowed (the log says so)" grep -q "client=2001:db8::9 .*DUNNO (allowed" "$T/check.log"
$A unblock 192.0.2.5 >/dev/null
out=$(req 192.0.2.9 2 | "$PC" 127.0.0.1 "$CPORT")
expect_eq "unblocked: tarpitted again like any other" "$(awk '{print $1}' <<<"$out")" "action=DUNNO"
expect_eq "del: removes, exit 0" "$($A del 192.0.2.0/24)" "deleted 192.0.2.0/24"
$A del 192.0.2.0/24 >/dev/null 2>&1
expect_eq "del: again is exit 1" "$?" "1"

# --- stats, info, config ------------------------------------------------------
j=$($A --json stats)
expect_eq "stats --json: tarpits counted host-wide" "$(json_field "$j" tarpits)" "1"
expect_eq "stats --json: 31 histogram buckets" "$(grep -o '"from":' <<<"$j" | wc -l)" "31"
check "stats: text table" sh -c "$A stats | grep -q '^hang-ups by time waited'"
expect_eq "info --json: record count" "$(json_field "$($A --json info)" records)" "1"
check "info: names the database" sh -c "$A info | grep -qF '$($A config database)'"
expect_eq "config KEY: one value" "$($A config max_age)" "1d"

# --- The admin socket protocol ------------------------------------------------
printf 'request=smtpd_access_policy\nclient_address=203.0.113.9\nclient_port=1\n\n' | "$PC" 127.0.0.1 "$CPORT" >/dev/null
APORT=$(free_port); activate "$T/admin.log" "$APORT" "$BIN/tarpit-admin" -c "$T/tarpit.conf" serve
exec 7<>"/dev/tcp/127.0.0.1/$APORT"
# reply - read one reply (up to its empty line) from fd 7
reply() { local l r=; while IFS= read -r -t 5 l <&7; do [ -z "$l" ] && break; r="$r$l;"; done; printf '%s' "$r"; }
printf 'check=203.0.113.1\n' >&7
r=$(reply); expect_eq "serve: check=ADDR (tarpit_checks.py form)" "$(cut -d';' -f1 <<<"$r")" "network         203.0.113.0/24"
printf 'all\n' >&7
r=$(reply); expect_eq "serve: all lists every record" "$(tr ';' '\n' <<<"$r" | grep -c /)" "2"
printf -- '--json check 203.0.113.1\n' >&7
r=$(reply); expect_eq "serve: --json works per line" "$(json_field "$r" tarpits)" "1"
printf 'stats --format prometheus\n' >&7
r=$(reply); check "serve: a read-only command (stats)" grep -q "tarpit_tarpits_total" <<<"$r"
for bad in 'block 203.0.113.1 --comment "from the socket"' "stats -o $T/evil.prom" \
    "export-map -o $T/evil.cidr" "load /dev/zero" "import-log $T/tarpit.conf" "expire" "serve"; do
    printf '%s\n' "$bad" >&7
    r=$(reply)
    expect_eq "serve: '$bad' is refused" "${r%%(*}" "error: \"${bad%% *}\" is not served on this socket "
done
check "serve: ... and none of them wrote a file" test ! -e "$T/evil.prom" -a ! -e "$T/evil.cidr"
printf 'check %s\n' "$(head -c 5000 /dev/zero | tr '\0' 1)" >&7
r=$(reply); expect_eq "serve: a line over 4,096 bytes ends the connection" "$r" ""
exec 7>&-
exec 7<>"/dev/tcp/127.0.0.1/$APORT"
printf 'info\n' >&7
r=$(reply); check "serve: info" grep -q "records  *2" <<<"$r"
printf 'del=203.0.113.1\n' >&7
r=$(reply); expect_eq "serve: del=ADDR" "$r" "deleted 203.0.113.0/24;"
printf 'frobnicate\n' >&7
r=$(reply); expect_eq "serve: an unknown command is an error line" "$r" 'error: unknown command "frobnicate";'
printf 'check 198.51.100.1\n' >&7
r=$(reply); expect_eq "serve: errors come back on the socket" "$r" \
    "tarpit-admin: 198.51.100.1: no record for 198.51.100.0/24;error: exit status 1;"
printf 'quit\n' >&7
exec 7>&-

# --- dump / load: an exact round trip of 10,000 records ------------------------
$A del 2001:db8::1 >/dev/null
now=$(date +%s)
awk -v now="$now" 'BEGIN {
    print "# tarpit dump 1"
    for (i = 0; i < 10000; i++) {
        net = sprintf("10.%d.%d.0/24", int(i / 256), i % 256)
        old = (i % 4 == 0)     # a quarter of them untouched for 2 days
        seen = old ? now - 172800 : now - 60
        printf "%s first_seen=%d last_seen=%d tarpits=%d escapes=%d pending=0 last_tarpit=%d hangups=%d early_talkers=0 dropouts=0 last_wait_ms=65000 allow_until=0 block_until=0 last_completed=0%s\n",
            net, seen - 100, seen, 1 + i % 3, i % 2, seen, i % 5, (i % 1000 == 7) ? " comment=note%20" i : ""
    }
}' >"$T/seed.txt"
check "load: 10,000 records" sh -c "$A load '$T/seed.txt' | grep -qx 'loaded 10000 records'"
$A dump >"$T/dump1.txt"
expect_eq "dump: 10,000 records and the counters" "$(grep -c /24 "$T/dump1.txt")/$(grep -c '^@stats' "$T/dump1.txt")" "10000/1"
db_empty tarpit
$A load <"$T/dump1.txt" >/dev/null
$A dump >"$T/dump2.txt"
if cmp -s "$T/dump1.txt" "$T/dump2.txt"; then ok "dump | load | dump: identical, counters included"
else not_ok "dump | load | dump: identical" "$(diff "$T/dump1.txt" "$T/dump2.txt" | head -3)"; fi
# A restore (a dump loaded back into the database it came from) restores:
# the counters become the dump's, never doubled.
printf '# tarpit dump 1\n@stats tarpits=40 escapes=7\n' | $A load >/dev/null
expect_eq "load: the database's counters become the dump's" \
    "$($A --json stats | sed -n 's/^{"tarpits":\([0-9]*\),"escapes":\([0-9]*\),.*/\1\/\2/p')" "40/7"
$A dump >"$T/dump3.txt"
$A load "$T/dump3.txt" >/dev/null
expect_eq "... and a dump loaded back into its own database leaves them as they were" \
    "$($A --json stats | sed -n 's/^{"tarpits":\([0-9]*\),"escapes":\([0-9]*\),.*/\1\/\2/p')" "40/7"
# Malformed input: the line number, and nothing changes.
sed '5000s/tarpits=/tarpitz=/' "$T/dump1.txt" >"$T/bad.txt"
sed -i '1i 198.51.100.0/24 tarpits=1' "$T/bad.txt"
$A load "$T/bad.txt" >/dev/null 2>"$T/err"; rc=$?
expect_eq "load: a malformed line is refused with its number" "$rc $(cat "$T/err")" \
    "2 tarpit-admin: $T/bad.txt:5001: unknown field; nothing loaded"
$A check 198.51.100.1 >/dev/null 2>&1
expect_eq "load: ... and nothing was written" "$?" "1"
printf '192.0.2.1/24 tarpits=1\n' | $A load >/dev/null 2>&1
expect_eq "load: a network not in canonical form is refused" "$?" "2"
printf '198.51.100.0/24 block_until=-1 comment=x%%0Aforged%%20line%%1B[2J\n' | $A load >/dev/null 2>"$T/err"
expect_eq "load: a comment with control characters (a forged line, an escape) is refused" \
    "$?:$(grep -c 'a comment with a control character' "$T/err")" "2:1"

# Greylist entries: one whose greylist_window (2d) has passed, one fresh.
printf '# tarpit dump 1\n@grey%%20192.0.2.0/24%%20a@x.test%%20b@y.test first_seen=%s last_attempt=%s retries=1 last_retry=%s\n@grey%%20192.0.2.0/24%%20c@x.test%%20d@y.test first_seen=%s last_attempt=%s retries=1 last_retry=%s\n' \
    $((now - 3 * 86400)) $((now - 3 * 86400)) $((now - 3 * 86400)) $((now - 3600)) $((now - 3600)) $((now - 3600)) |
    $A load >/dev/null
if shared_backend; then
# --- expire: the server's own, by TTL ------------------------------------------
out=$($A expire)
expect_eq "expire on a server: says so, exit 0" "$?:${out%%:*}" "0:nothing to do"
ttl=$(rs ttl "tarpit:10.0.1.0/24")
expect_range "every record has a TTL of max_age (1d) (s)" "$ttl" 86000 86400
ttl=$(rs ttl "tarpit:@grey 192.0.2.0/24 c@x.test d@y.test")
expect_range "a greylist entry has its TTL too (s)" "$ttl" 1 86400
else
# --- expire: exactly the old records, while 20 helpers keep working -----------
before=$($A list | wc -l)
# Twenty policy clients hammer escaped networks (reads) and new ones (writes).
sed -i 's/^sleep = 1s/sleep = 0/' "$T/tarpit.conf"
pids=()
for i in $(seq 1 20); do
    (
        for k in $(seq 1 30); do
            req "10.$((i + 100)).$k.1" "$k"
        done | "$PC" 127.0.0.1 "$CPORT" >"$T/hammer.$i"
    ) &
    pids+=("$!")
done
sleep 0.2
out=$($A --json expire)
for p in "${pids[@]}"; do wait "$p"; done
after=$($A list | wc -l)
removed=$(json_field "$out" removed)
expect_eq "expire: removed exactly the 2,500 records untouched for 2 days, and the old greylist entry" \
    "$removed" "2501"
expect_eq "expire: a greylist entry past greylist_window went, the fresh one stays" \
    "$($A dump | grep '^@grey' | cut -d' ' -f1)" "@grey%20192.0.2.0/24%20c@x.test%20d@y.test"
old_left=$($A --json list | awk -F'"last_seen":' '{split($2, a, ","); if (a[1] < '"$now"' - 86400) n++} END {print n + 0}')
expect_eq "expire: none of the old ones is left" "$old_left" "0"
expect_eq "expire: every other record is still there (and the 600 new ones)" "$((before - 2500 + 600))" "$after"
longest=$(json_field "$out" longest_lock_ms)
expect_range "expire: its longest exclusive lock hold (ms)" "$longest" 0 2000
check "expire says max_age as the config spells it (1d)" sh -c "$A expire | grep -q '^expired 0 records untouched for 1d, '"
worst=$(cat "$T"/hammer.* | awk '{print $NF}' | sort -n | tail -1)
answered=$(cat "$T"/hammer.* | grep -c '^action=DUNNO')
expect_eq "expire: all 600 helper requests answered meanwhile" "$answered" "600"
expect_range "expire: slowest helper answer meanwhile (ms)" "$worst" 0 2000
echo "       (expire: $out)"

fi

# --- doctor on throw-away Postfix configs ------------------------------------
if command -v postconf >/dev/null; then
    R=$T/root
    make -s -C "$TOP" install DESTDIR= PREFIX="$R/usr" SYSCONFDIR="$R/etc" \
        UNITDIR="$R/units" SYSUSERSDIR="$R/sysusers" >/dev/null 2>&1
    export TARPIT_UNITDIR=$R/units
    mkdir -p "$T/pf" "$T/pfq/private"
    printf 'database = %s/tarpit.db\n' "$T" >"$T/doctor.conf"     # sleep 65s
    # The helpers on the sockets the shipped lines name, in this config's
    # queue directory: doctor asks them.
    activate_unix "$T/dcheck.log" "$T/pfq/private/tarpit-check" "$BIN/tarpit-check" -c "$T/doctor.conf"
    DCHECK=$ACTIVATOR
    activate_unix "$T/dstore.log" "$T/pfq/private/tarpit-store" "$BIN/tarpit-store" -c "$T/doctor.conf"
    shipped=$(sed '/^#/d' "$TOP/share/postfix/main.cf"; echo "queue_directory = $T/pfq")
    doctor() { # doctor NAME MAIN.CF-EXTRA - run with that config, keep output
        printf '%s\n%s\n' "$shipped" "$2" >"$T/pf/main.cf"
        MAIL_CONFIG=$T/pf $BIN/tarpit-admin -c "$T/doctor.conf" doctor >"$T/doctor.$1" 2>&1
        echo $?
    }
    expect_eq "doctor: the shipped lines pass (exit 0)" "$(doctor good '')" "0"
    check "doctor: ... having asked both sockets" test "$(grep -c 'private/tarpit-\(check\|store\) answers (action=DUNNO)' "$T/doctor.good")" = 2
    check "doctor: ... and the probe left no warning in the helpers' log" sh -c "! grep -q warning '$T/dcheck.log'"
    rc=$(doctor order "smtpd_recipient_restrictions = check_policy_service { unix:private/tarpit-check, timeout=100s, default_action=DUNNO }, permit_mynetworks, reject_unauth_destination")
    expect_eq "doctor: the check before permit_mynetworks is found (exit 5)" \
        "$rc $(grep -c 'comes before permit_mynetworks' "$T/doctor.order")" "5 1"
    rc=$(doctor nodefault "$(printf '%s\n' "$shipped" | sed 's/, default_action=DUNNO//')")
    expect_eq "doctor: no default_action=DUNNO is found (exit 5)" "$rc $(grep -c 'no default_action=DUNNO' "$T/doctor.nodefault")" "5 1"
    rc=$(doctor timeout "$(printf '%s\n' "$shipped" | sed 's/timeout=100s/timeout=60s/')")
    expect_eq "doctor: a timeout below sleep + 10s is found (exit 5)" \
        "$rc $(grep -c "policy timeout is 1m" "$T/doctor.timeout")" "5 1"
    rc=$(doctor nostore 'smtpd_end_of_data_restrictions =')
    expect_eq "doctor: no store at end of data is found (exit 5)" \
        "$rc $(grep -c "no check_policy_service for the tarpit store" "$T/doctor.nostore")" "5 1"
    printf 'database = %s/tarpit.db\nsleep = 150s\n' "$T" >"$T/long.conf"
    printf '%s\nsmtpd_recipient_restrictions = reject_unauth_destination\nsmtpd_data_restrictions = check_policy_service { inet:127.0.0.1:60001, timeout=200s, default_action=DUNNO }\n' "$shipped" >"$T/pf/main.cf"
    MAIL_CONFIG=$T/pf $BIN/tarpit-admin -c "$T/long.conf" doctor >"$T/doctor.data" 2>&1
    expect_eq "doctor: a DATA-stage wait over 120s is found (exit 5)" \
        "$? $(grep -c "runs at DATA with sleep above 120s" "$T/doctor.data")" "5 1"
    rc=$(doctor procs 'default_process_limit = 600')
    expect_eq "doctor: MaxConnections below Postfix's process limit is found (exit 5)" \
        "$rc $(grep -c "takes 512 connections but Postfix runs up to 600" "$T/doctor.procs")" "5 1"
    kill -TERM -- "-$DCHECK"
    for i in $(seq 1 50); do kill -0 "$DCHECK" 2>/dev/null || break; sleep 0.05; done
    rc=$(doctor nobody '')
    expect_eq "doctor: nothing answering on the check's socket is found (exit 5)" \
        "$rc $(grep -c 'nothing answers on .*private/tarpit-check' "$T/doctor.nobody")" "5 1"
    rc=$(doctor postgrey "$(printf '%s\n' "$shipped" | sed 's/reject_unauth_destination,/reject_unauth_destination, check_policy_service inet:127.0.0.1:10023,/')")
    expect_eq "doctor: postgrey greylisting beside the tarpit is found (exit 5)" \
        "$rc $(grep -c 'postgrey and the tarpit both greylist' "$T/doctor.postgrey")" "5 1"

    # postfix enable|disable: our entries into the admin's lists and out.
    mine='smtpd_recipient_restrictions = permit_mynetworks, reject_rbl_client zen.example.org, permit_sasl_authenticated, reject_unauth_destination, check_policy_service inet:127.0.0.1:10023
smtpd_client_restrictions = check_client_access cidr:/var/lib/tarpit/blocked.cidr, permit'
    printf 'queue_directory = %s/pfq\n%s\n' "$T" "$mine" >"$T/pf/main.cf"
    touch "$T/pf/master.cf"
    pa() { MAIL_CONFIG=$T/pf $BIN/tarpit-admin -c "$T/doctor.conf" postfix "$@"; }
    before=$(md5sum <"$T/pf/main.cf")
    out=$(pa enable --dry-run)
    expect_eq "postfix enable --dry-run: shows the change, makes none" \
        "$(grep -c '^smtpd_recipient_restrictions: .* -> .*reject_unauth_destination, check_policy_service { unix:private/tarpit-check' <<<"$out")/$(md5sum <"$T/pf/main.cf")" "1/$before"
    pa enable >/dev/null
    expect_eq "postfix enable: the check right after reject_unauth_destination, the admin's entries kept" \
        "$(MAIL_CONFIG=$T/pf postconf -h smtpd_recipient_restrictions)" \
        "permit_mynetworks, reject_rbl_client zen.example.org, permit_sasl_authenticated, reject_unauth_destination, check_policy_service { unix:private/tarpit-check, timeout=100s, default_action=DUNNO }, check_policy_service inet:127.0.0.1:10023"
    expect_eq "... and the store at end of data" "$(MAIL_CONFIG=$T/pf postconf -h smtpd_end_of_data_restrictions)" \
        "check_policy_service { unix:private/tarpit-store, timeout=10s, default_action=DUNNO }"
    expect_eq "postfix enable again: nothing to change" "$(pa enable)" \
        "nothing to change: the tarpit's entries are there already"
    pa disable >/dev/null
    expect_eq "postfix disable: every entry of ours out, the admin's kept" \
        "$(MAIL_CONFIG=$T/pf postconf -h smtpd_recipient_restrictions smtpd_end_of_data_restrictions smtpd_client_restrictions | tr '\n' '|')" \
        "permit_mynetworks, reject_rbl_client zen.example.org, permit_sasl_authenticated, reject_unauth_destination, check_policy_service inet:127.0.0.1:10023||permit|"
    expect_eq "postfix disable again: nothing to change" "$(pa disable)" \
        "nothing to change: the tarpit's entries are gone already"
    TARPIT_UNITDIR=$T/nowhere MAIL_CONFIG=$T/pf $BIN/tarpit-admin -c "$T/doctor.conf" doctor >"$T/doctor.units" 2>&1
    check "doctor: units not installed are found" grep -q "the unit tarpit-check.socket is not installed" "$T/doctor.units"
    unset TARPIT_UNITDIR
else
    not_ok "doctor on throw-away Postfix configs" "postconf is not installed"
fi

# --- Usage and errors -----------------------------------------------------------
$A >/dev/null 2>&1; expect_eq "no command: exit 2" "$?" "2"
$A frob >/dev/null 2>&1; expect_eq "unknown command: exit 2" "$?" "2"
$BIN/tarpit-admin -c "$T/none.conf" list >/dev/null 2>"$T/err"; rc=$?
expect_eq "missing named config: exit 3, naming it" "$rc $(grep -c none.conf "$T/err")" "3 1"
printf 'database = /nonexistent/x.db\n' >"$T/nodb.conf"
$BIN/tarpit-admin -c "$T/nodb.conf" block 192.0.2.1 >/dev/null 2>&1
expect_eq "unusable database: exit 4" "$?" "4"
check "-h prints the usage" sh -c "$A -h | grep -q '^usage: tarpit-admin'"

wait_no_children "$CHECK_PID" 3000
no_crash
done_testing
