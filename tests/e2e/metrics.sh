#!/usr/bin/env bash
# metrics.sh - stats in its three forms: Prometheus' text format read by a
# real parser (python3-prometheus-client) agrees with --json and info; -o
# writes the file whole; the hang-up chart on a terminal (script(1) gives
# one), none with --no-chart or into a pipe.
. "$(dirname "$0")/../lib.sh"

A="$BIN/tarpit-admin -c $T/tarpit.conf"
printf 'database = %s/tarpit.db\nmax_waiting = 7\n' "$T" >"$T/tarpit.conf"
# Counters and records of every state, as a dump (the golden dump's
# counters, with a time waited and hang-ups in three buckets).
cat >"$T/in.dump" <<'DUMP'
# tarpit dump 1
@stats tarpits=40 escapes=9 hangups=12 early_talkers=3 dropouts=2 waits_refused=1 greylisted=4 blocks=2 hangup_ms=123456 hist=5,4,0,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1
192.0.2.0/24 first_seen=1800000000 last_seen=1800000000 tarpits=1 escapes=1 pending=0 last_tarpit=0 hangups=0 early_talkers=0 dropouts=0 last_wait_ms=0 allow_until=0 block_until=0 last_completed=0 failures=0
198.51.100.0/24 first_seen=1800000000 last_seen=1800000000 tarpits=1 escapes=0 pending=0 last_tarpit=0 hangups=0 early_talkers=0 dropouts=0 last_wait_ms=0 allow_until=0 block_until=-1 last_completed=0 failures=0
203.0.113.0/24 first_seen=1800000000 last_seen=1800000000 tarpits=1 escapes=0 pending=0 last_tarpit=0 hangups=0 early_talkers=0 dropouts=0 last_wait_ms=0 allow_until=-1 block_until=0 last_completed=0 failures=0
10.1.2.0/24 first_seen=1800000000 last_seen=1800000000 tarpits=2 escapes=0 pending=0 last_tarpit=0 hangups=0 early_talkers=0 dropouts=0 last_wait_ms=0 allow_until=0 block_until=0 last_completed=0 failures=0
10.1.3.0/24 first_seen=1800000000 last_seen=1800000000 tarpits=2 escapes=0 pending=0 last_tarpit=0 hangups=0 early_talkers=0 dropouts=0 last_wait_ms=0 allow_until=0 block_until=0 last_completed=0 failures=0
DUMP
check "load the counters and five records" $A load "$T/in.dump"

# --- Prometheus, read by a real parser ------------------------------------
PY=/usr/bin/python3		# Debian's, where python3-prometheus-client is
$A stats --format prometheus >"$T/out.prom" 2>"$T/err"
expect_eq "--format prometheus: exit 0, nothing on stderr" "$?:$(cat "$T/err")" "0:"
$A --json stats >"$T/stats.json"
$A --json info >"$T/info.json"
cat >"$T/compare.py" <<'PY'
import json, sys
from prometheus_client.parser import text_string_to_metric_families

prom, stats, info = sys.argv[1:4]
st = json.load(open(stats))
inf = json.load(open(info))
fams = {f.name: f for f in text_string_to_metric_families(open(prom).read())}
bad = []
def want(what, got, expected):
    if got != expected:
        bad.append("%s: %r, not %r" % (what, got, expected))

counters = ["tarpits", "escapes", "hangups", "early_talkers", "dropouts",
            "waits_refused", "greylisted", "blocks"]
for c in counters:
    f = fams.get("tarpit_" + c)	# the parser strips _total from the family
    if f is None or f.type != "counter":
        bad.append("no counter tarpit_%s_total" % c); continue
    want(c, [(s.name, s.value) for s in f.samples][0], ("tarpit_%s_total" % c, st[c]))
    want(c + " HELP", bool(f.documentation), True)
h = fams.get("tarpit_hangup_wait_seconds")
if h is None or h.type != "histogram":
    bad.append("no histogram tarpit_hangup_wait_seconds")
else:
    buckets = [(s.labels["le"], s.value) for s in h.samples if s.name.endswith("_bucket")]
    cum, expect = 0, []
    for b in st["hangup_histogram"]:
        cum += b["count"]
        expect.append(("+Inf" if b["to"] is None else str(b["to"]), cum))
    want("buckets (le, cumulative count)", [(l, int(v)) for l, v in buckets], expect)
    sums = {s.name: s.value for s in h.samples}
    want("_count", sums.get("tarpit_hangup_wait_seconds_count"), float(cum))
    want("_sum (seconds)", sums.get("tarpit_hangup_wait_seconds_sum"), st["hangup_ms"] / 1000)
r = fams.get("tarpit_records")
if r is None or r.type != "gauge":
    bad.append("no gauge tarpit_records")
else:
    by = {s.labels["state"]: s.value for s in r.samples}
    for state in ["escaped", "tarpitted", "allowed", "blocked"]:
        want("records " + state, by.get(state), float(inf[state]))
w = fams.get("tarpit_waiting")
want("waiting", w and [s.value for s in w.samples], [float(inf["waiting"])])
m = fams.get("tarpit_max_waiting")
want("max_waiting", m and [s.value for s in m.samples], [float(inf["max_waiting"])])
print("\n".join(bad) if bad else "agree")
PY
expect_eq "prometheus: parsed, and equal to stats --json and info --json" \
    "$($PY "$T/compare.py" "$T/out.prom" "$T/stats.json" "$T/info.json" 2>&1)" "agree"
expect_eq "prometheus: the records by state are the dump's" \
    "$(grep '^tarpit_records' "$T/out.prom" | tr '\n' ' ')" \
    'tarpit_records{state="allowed"} 1 tarpit_records{state="blocked"} 1 tarpit_records{state="escaped"} 1 tarpit_records{state="tarpitted"} 2 '
expect_eq "prometheus: the time waited in seconds" \
    "$(grep '^tarpit_hangup_wait_seconds_sum' "$T/out.prom")" "tarpit_hangup_wait_seconds_sum 123.456"

# -o: a whole file, mode 0644, never a half-written one under that name.
out=$($A stats --format prometheus -o "$T/node/tarpit.prom" 2>&1)
expect_eq "-o into a missing directory: exit 6, said" "$?:${out%%:*}" "6:tarpit-admin"
mkdir "$T/node"
$A stats --format prometheus -o "$T/node/tarpit.prom"
expect_eq "-o: exit 0, the same text, mode 0644, no temporary file left" \
    "$?:$(cmp -s "$T/node/tarpit.prom" "$T/out.prom" && echo same):$(stat -c %a "$T/node/tarpit.prom"):$(ls "$T/node" | wc -l)" \
    "0:same:644:1"
$A stats --format yaml >/dev/null 2>"$T/err"
expect_eq "--format yaml: exit 2, said" "$?:$(cat "$T/err")" \
    "2:tarpit-admin: --format yaml: text, json or prometheus"
expect_eq "--format json is --json" "$($A stats --format json)" "$(cat "$T/stats.json")"

# --- The chart: on a terminal only ---------------------------------------
tty_run() { script -qec "stty cols 80; $*" /dev/null </dev/null | tr -d '\r'; }
out=$(LANG=C.UTF-8 tty_run "$A stats")
bars=$(grep '│' <<<"$out")
expect_eq "terminal: one bar per bucket shown (0-10s .. 300s+)" "$(wc -l <<<"$bars")" "31"
widest=$(sed -n '/^  10-20s│\|^ *0-10s │/p' <<<"$bars" | head -1 | grep -o '█' | wc -l)
expect_eq "terminal: the widest bucket's bar is the full 60 columns" "$widest" "60"
expect_eq "terminal: 10-20s is 4/5 of 0-10s, cumulative 75.0%" \
    "$(grep '10-20s │' <<<"$bars" | grep -o '█' | wc -l) $(grep '10-20s │' <<<"$bars" | awk '{print $NF}')" "48 75.0%"
expect_eq "terminal: an empty bucket has no bar" "$(grep ' 20-30s │' <<<"$bars" | grep -c '█')" "0"
expect_eq "terminal: the last bar ends at 100.0%" "$(tail -1 <<<"$bars" | awk '{print $1, $NF}')" "300s+ 100.0%"
out=$(LANG=C tty_run "$A stats")
expect_eq "terminal without UTF-8: # bars" "$(grep -c '^ *0-10s |#####' <<<"$out")" "1"
out=$(LANG=C.UTF-8 tty_run "$A stats --no-chart")
expect_eq "terminal, --no-chart: the table only" "$(grep -c '│\|#' <<<"$out"):$(grep -c '^0-10s' <<<"$out")" "0:1"
expect_eq "into a pipe: the table only" "$($A stats | grep -c '│\|#')" "0"

done_testing
