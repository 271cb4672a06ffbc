# bench/lib.sh - what the benchmark scripts share (bench/run, bench/shared):
# medians over rounds, per-round ratios, a process's private memory.
# Needs tests/lib.sh sourced first ($T).

# stats FILE [DECIMALS] - "median (min-max)" of the numbers in FILE
stats() {
    sort -g "$1" | awk -v d="${2:-1}" '{v[NR] = $1} END {
        if (NR == 0) { print "n/a"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        f = "%." d "f"
        printf f " (" f "-" f ", n=%d)", m, v[1], v[NR], NR }'
}
median() { sort -g "$1" | awk -v d="${2:-1}" '{v[NR] = $1} END { if (NR == 0) { print "n/a"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%." d "f", m }'; }

# uss PID - private memory in KiB, from smaps_rollup
uss() { awk '/^Private_(Clean|Dirty|Hugetlb):/ {s += $2} END {print s}' "/proc/$1/smaps_rollup" 2>/dev/null; }
# ratio A B - the median over rounds of A's rate over B's in the same round
ratio() {
    paste "$T/$1.rps" "$T/$2.rps" | awk '$2 > 0 {print $1 / $2}' >"$T/ratio.tmp"
    [ -s "$T/ratio.tmp" ] && median "$T/ratio.tmp" 2 || echo n/a
}
