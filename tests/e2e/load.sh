#!/usr/bin/env bash
# load.sh - 500 policy connections at once, each its own helper process as
# with the shipped socket units (MaxConnections=512): none refused, none
# answered later than its wait allows.
. "$(dirname "$0")/../lib.sh"

PC=$TOOLS/policy-client
N=500
cat >"$T/tarpit.conf" <<CONF
database = $T/tarpit.db
sleep = 3s
max_waiting = 1000
CONF
CPORT=$(free_port); activate "$T/check.log" "$CPORT" "$BIN/tarpit-check" -c "$T/tarpit.conf"
CHECK_PID=$ACTIVATOR
ulimit -n 4096 2>/dev/null
pids=()
for i in $(seq 1 $N); do
    req "10.$((i / 200)).$((i % 200)).1" "$i" | "$PC" -t 30000 127.0.0.1 "$CPORT" >"$T/r.$i" 2>&1 &
    pids+=("$!")
done
for p in "${pids[@]}"; do wait "$p"; done
answered=$(cat "$T"/r.* | grep -c '^action=DUNNO')
expect_eq "$N concurrent connections: every one answered" "$answered" "$N"
late=$(cat "$T"/r.* | awk '$1 == "action=DUNNO" && $NF > 8000' | wc -l)
slowest=$(cat "$T"/r.* | awk '$1 == "action=DUNNO" {print $NF}' | sort -n | tail -1)
expect_eq "none answered later than sleep 3s + 5s (slowest ${slowest} ms)" "$late" "0"
expect_eq "every wait was a full one (none refused by a cap)" \
    "$(cat "$T"/r.* | awk '$1 == "action=DUNNO" && $NF < 2900' | wc -l)" "0"
wait_no_children "$CHECK_PID" 10000
expect_eq "no helper process left" "$(children "$CHECK_PID")" "0"
done_testing
