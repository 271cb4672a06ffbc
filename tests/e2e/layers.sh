#!/usr/bin/env bash
# layers.sh - lib/ is in folders by layer, and an include points only down
# the list (or across, within its own folder): util (no tarpit type),
# proto (the policy protocol), store (the backends), wait (the watched
# wait), tarpit (the domain), admin (tarpit-admin's commands).  Only the
# store's own files see a backend's table or handle; and no file of lib/
# is over 700 lines.
. "$(dirname "$0")/../lib.sh"
order=(util proto store wait tarpit admin)
rank() { local i; for i in "${!order[@]}"; do [ "${order[$i]}" = "$1" ] && echo "$i" && return; done; echo 99; }
bad=
for f in "$TOP"/lib/*/*.[ch]; do
    layer=$(basename "$(dirname "$f")")
    mine=$(rank "$layer")
    [ "$mine" = 99 ] && bad="$bad ${f#$TOP/}(a folder of no layer)"
    for inc in $(sed -n 's/^#include "\([a-z]*\)\/.*/\1/p' "$f"); do
        [ "$(rank "$inc")" -le "$mine" ] || bad="$bad ${f#$TOP/}->$inc"
    done
    grep -q '^#include "[^/]*"' "$f" && bad="$bad ${f#$TOP/}(an include without its folder)"
done
expect_eq "every include in lib/ points down or across" "${bad# }" ""
expect_eq "only the store includes its backends' headers (callers go through db.h)" \
    "$(grep -l '#include "store/\(backend\|file\|redis_link\)\.h"' "$TOP"/lib/*/*.[ch] "$TOP"/bin/*.c |
        grep -v "^$TOP/lib/store/" | sed "s|$TOP/||")" ""
expect_eq "every source of lib/ is in a layer's folder" "$(ls "$TOP"/lib/*.[ch] 2>/dev/null)" ""
long=$(wc -l "$TOP"/lib/*/*.[ch] | awk '$2 != "total" && $1 > 700 {print $2 ":" $1}' | sed "s|$TOP/||")
expect_eq "no file of lib/ is over 700 lines" "$long" ""
done_testing
