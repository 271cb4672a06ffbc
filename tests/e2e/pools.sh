#!/usr/bin/env bash
# pools.sh - big senders' pools: escapes shared by the registrable domain
# of a client's verified name (client_name), greylisting by the domain's
# tuple, and what shares nothing (an unverified name, a name carrying its
# address, a domain whose clients failed more than they escaped, a domain
# in never_share); postmaster@ and abuse@ never wait nor are refused.
# Clients of other /24s are other loopback addresses (127.0.N.1).
. "$(dirname "$0")/../lib.sh"

PC=$TOOLS/policy-client
WP=$TOOLS/watch-peer
A="$BIN/tarpit-admin -c $T/tarpit.conf"
{ db_conf pools; cat <<CONF
sleep = 2s
greylist = yes
greylist_delay = 1s
greylist_retries = 2
CONF
} >"$T/tarpit.conf"
CPORT=$(free_port); activate "$T/check.log" "$CPORT" "$BIN/tarpit-check" -c "$T/tarpit.conf"
SPORT=$(free_port); activate "$T/store.log" "$SPORT" "$BIN/tarpit-store" -c "$T/tarpit.conf"
PEERS=()
at_exit 'for p in "${PEERS[@]}"; do kill "$p" 2>/dev/null; done'

# ask ADDR NAME [PORT] [ATTR...] - one RCPT request of the client ADDR
# with the verified name NAME; policy-client's line
ask() {
    local addr=$1 name=$2 port=${3:-40000}; shift 3 2>/dev/null || shift $#
    req "$addr" "$port" "client_name=$name" "$@" | "$PC" -t 10000 127.0.0.1 "$CPORT"
}
# deliver ADDR NAME - its end of data (tarpit-store)
deliver() { req "$1" 40000 "client_name=$2" | "$PC" 127.0.0.1 "$SPORT" >/dev/null; }
# hangup ADDR NAME [CONF_PORT] - a client of ADDR, named NAME, that hangs
# up 300 ms into its wait (a real TCP connection, so the watch sees it)
hangup() {
    "$WP" -b "$1" -d 300 -m close >"$T/peer" & PEERS+=("$!")
    local i; for i in $(seq 1 100); do grep -q server_port "$T/peer" 2>/dev/null && break; sleep 0.02; done
    { printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_name=%s\n' "$2"
      printf 'sender=s@pool.example\nrecipient=r@example.net\n'; cat "$T/peer"; printf '\n'; } |
        "$PC" -t 10000 127.0.0.1 "${3:-$CPORT}" >/dev/null
}
# waited ADDR [LOG] - did the client's request wait (logged as a wait)?
waited() { grep -qE "client=$1 .*(DUNNO after a wait of [1-9]|smtpd closed the policy connection after)" "${2:-$T/check.log}"; }
# domain_field DOMAIN FIELD [ADMIN] - a field of the domain's record, from the dump
domain_field() {
    ${3:-$A} dump | sed -n "s/^@domain%20$1 .* $2=\([-0-9]*\).*/\1/p"
}

# --- A patient pool under one verified domain waits once -------------------
out=$(ask 127.0.10.1 mail-db5eur02on2101.outbound.protection.outlook.com)
expect_eq "a new network of a new domain waits" "$(act_of "$out")" "action=DUNNO"
check "... logged with its domain" grep -qE "client=127.0.10.1 network=127.0.10.0/24 domain=outlook.com: DUNNO after a wait of 2[.0-9]*s \(new network\)" "$T/check.log"
deliver 127.0.10.1 mail-db5eur02on2101.outbound.protection.outlook.com
expect_eq "its delivery escapes the domain" "$(domain_field outlook.com escapes)" "1"
out=$(ask 127.0.11.1 mail-am6eur05on2092.outbound.protection.outlook.com)
expect_eq "another /24 of the domain: DUNNO" "$(act_of "$out")" "action=DUNNO"
expect_range "... without a wait (ms)" "$(ms_of "$out")" 0 1000
check "... because its domain escaped" grep -q "client=127.0.11.1 network=127.0.11.0/24 domain=outlook.com: DUNNO (its domain escaped)" "$T/check.log"
for n in 12 13 14; do ask 127.0.$n.1 mail$n.outbound.protection.outlook.com >/dev/null; done
waits=0; for n in 10 11 12 13 14; do waited 127.0.$n.1 && waits=$((waits + 1)); done
expect_eq "five messages from five /24s of the pool: one wait" "$waits" "1"
check "a known /24 of the pool stays out of the domain's record (no write)" \
    sh -c "$A check 127.0.11.1; [ \$? = 1 ]"

# --- An impatient pool, each try from a new /24 -----------------------------
hangup 127.0.20.1 o20.mta.bigpool.com
expect_eq "try 1 hangs up: the domain counts a failure" "$(domain_field bigpool.com recent_failures)" "1"
check "... and the hang-up is logged with its domain" grep -q "client=127.0.20.1 network=127.0.20.0/24 domain=bigpool.com: hang-up after" "$T/check.log"
out=$(ask 127.0.21.1 o21.mta.bigpool.com 40000 sender=s@pool.example recipient=r@example.net)
expect_eq "try 2, from a new /24: greylisted by the domain's tuple" "$(act_of "$out")" "action=DEFER_IF_PERMIT"
expect_range "... at once (ms)" "$(ms_of "$out")" 0 1000
sleep 1.1
out=$(ask 127.0.22.1 o22.mta.bigpool.com 40000 sender=s@pool.example recipient=r@example.net)
expect_eq "try 3, from a third /24, after greylist_delay: rescued" "$(act_of "$out")" "action=DUNNO"
expect_range "... without a wait (ms)" "$(ms_of "$out")" 0 1000
deliver 127.0.22.1 o22.mta.bigpool.com
expect_eq "delivered on try 3: the /24 that delivered escaped" \
    "$(json_field "$($A --json check 127.0.22.1)" escapes)" "1"
expect_eq "... and so did the domain" "$(domain_field bigpool.com escapes)" "1"
out=$(ask 127.0.23.1 o23.mta.bigpool.com)
expect_eq "the pool's next message, from a fourth /24: no wait" "$(act_of "$out")/$(waited 127.0.23.1 && echo waited)" "action=DUNNO/"

# --- What shares nothing ---------------------------------------------------
out=$(req 127.0.30.1 40000 "reverse_client_name=mx.outlook.com" | "$PC" -t 10000 127.0.0.1 "$CPORT")
check "an unverified name (client_name=unknown) shares nothing: it waits" waited 127.0.30.1
check "... and names no domain" grep -q "client=127.0.30.1 network=127.0.30.0/24: DUNNO after a wait" "$T/check.log"
ask 127.0.40.1 127-0-40-1.dyn.outlook.com >/dev/null
check "a name carrying its address (octets) shares nothing: it waits" waited 127.0.40.1
ask 127.0.41.1 p7f002901.dip0.outlook.com >/dev/null
check "a name carrying its address (hex) shares nothing: it waits" waited 127.0.41.1
ask 127.0.42.1 ec2-127-0-42-1.compute-1.amazonaws.com >/dev/null
check "an ec2 host (a public suffix of its own) shares nothing" grep -q "client=127.0.42.1 network=127.0.42.0/24: DUNNO after a wait" "$T/check.log"

# --- A domain whose failures outnumber its escapes shares nothing ----------
{ db_conf hoster; cat <<CONF
sleep = 2s
greylist = no
never_share = keepapart.com
CONF
} >"$T/hoster.conf"
HPORT=$(free_port); activate "$T/hoster.log" "$HPORT" "$BIN/tarpit-check" -c "$T/hoster.conf"
HSPORT=$(free_port); activate "$T/hstore.log" "$HSPORT" "$BIN/tarpit-store" -c "$T/hoster.conf"
H="$BIN/tarpit-admin -c $T/hoster.conf"
hask() { req "$1" 40000 "client_name=$2" | "$PC" -t 10000 127.0.0.1 "$HPORT"; }
hangup 127.0.50.1 vps50.hoster.com "$HPORT"
hangup 127.0.51.1 vps51.hoster.com "$HPORT"
hask 127.0.52.1 mail.customer.hoster.com >/dev/null
req 127.0.52.1 40000 client_name=mail.customer.hoster.com | "$PC" 127.0.0.1 "$HSPORT" >/dev/null
expect_eq "two bots hung up, one customer escaped" \
    "$(domain_field hoster.com recent_failures "$H")/$(domain_field hoster.com escapes "$H")" "2/1"
hask 127.0.53.1 vps53.hoster.com >/dev/null
check "... so the domain shares nothing: a new /24 of it waits" waited 127.0.53.1 "$T/hoster.log"
hask 127.0.60.1 mx.keepapart.com >/dev/null
req 127.0.60.1 40000 client_name=mx.keepapart.com | "$PC" 127.0.0.1 "$HSPORT" >/dev/null
hask 127.0.61.1 mx2.keepapart.com >/dev/null
check "never_share: a domain the admin keeps apart shares nothing" waited 127.0.61.1 "$T/hoster.log"
check "... and has no record" sh -c "! $H dump | grep -q '^@domain%20keepapart.com'"

# --- postmaster@ and abuse@ -------------------------------------------------
out=$(ask 127.0.70.1 unknown 40000 recipient=postmaster@example.net)
expect_eq "postmaster@ from a new network: DUNNO" "$(act_of "$out")" "action=DUNNO"
expect_range "... without a wait (ms)" "$(ms_of "$out")" 0 1000
$A block 127.0.71.1 >/dev/null
out=$(ask 127.0.71.1 unknown 40000 recipient=Abuse@example.net)
expect_eq "abuse@ from a blocked network: DUNNO" "$(act_of "$out")" "action=DUNNO"
out=$(ask 127.0.71.1 unknown 40001 recipient=user@example.net)
expect_eq "... another recipient from it: refused" "$(act_of "$out")" "action=REJECT"
check "... and why is logged" grep -q "client=127.0.71.1 network=127.0.71.0/24: DUNNO (exempt recipient)" "$T/check.log"

# --- What an admin sees: hang-ups by domain --------------------------------
out=$($A stats)
check "stats: a table of hang-ups by domain" grep -qE '^bigpool\.com +1 +1 +0\.[0-9]s +1 ' <<<"$out"
j=$($A --json stats)
check "stats --json: the domains too" grep -q '"domains":\[.*{"domain":"bigpool.com","waits":1,"hangups":1,' <<<"$j"
# --- A domain's record expires as a network's does -----------------------
if ! shared_backend; then
    printf '# tarpit dump 1\n@domain%%20gone.example first_seen=1 last_seen=1 escapes=3\n' | $A load >/dev/null
    $A expire >/dev/null
    check "expire removes a domain's record untouched for max_age" sh -c "! $A dump | grep -q '^@domain%20gone.example '"
    check "... and keeps one in use" sh -c "$A dump | grep -q '^@domain%20outlook.com '"
fi
no_crash
done_testing
