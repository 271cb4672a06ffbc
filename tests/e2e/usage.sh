#!/usr/bin/env bash
# usage.sh - tarpit-admin's usage text (printed from its command table),
# its manual page and what the program accepts tell the same story: the
# same commands, each with the same options; the counters stats prints
# are the ones the page names; the exit statuses admin.h defines are the
# ones the page lists.
. "$(dirname "$0")/../lib.sh"

MAN=$TOP/share/man/tarpit-admin.8

# One version: VERSION, every program's -V, info, the man pages' footers
# and the package's changelog.
V=$(cat "$TOP/VERSION")
for p in check store admin; do
    expect_eq "tarpit-$p -V says VERSION" "$("$BIN/tarpit-$p" -V)" "tarpit-$p $V"
done
expect_eq "tarpit-admin --version says it too" "$("$BIN/tarpit-admin" --version)" "tarpit-admin $V"
for m in "$TOP"/share/man/*.[58]; do
    expect_eq "${m##*/}: its footer names the version" "$(sed -n 's/^\.Os //p' "$m")" "tarpit $V"
done
expect_eq "debian/changelog's newest entry is VERSION (a Debian revision may follow)" \
    "$(sed -n '1s/^tarpit (\([^)-]*\)\(-[^)]*\)\{0,1\}).*/\1/p' "$TOP/debian/changelog")" "$V"
# make deb with a changelog entry for another version: a clear error, at
# once, and nothing built or removed.
mkdir -p "$T/mv/debian"
echo "$V" >"$T/mv/VERSION"
{ printf 'tarpit (9.9.9-1) unstable; urgency=medium\n\n  * A local build.\n\n'
  printf ' -- Admin <admin@example.org>  Mon, 07 Dec 2026 10:00:00 +0000\n\n'
  cat "$TOP/debian/changelog"; } >"$T/mv/debian/changelog"
out=$("$TOP/tests/system/make-deb" "$T/mv" 2>&1); rc=$?
expect_eq "make deb, VERSION and the changelog apart: says which, exit 1" "$rc: ${out%%:*}" \
    "1: make deb"
check "... naming both versions" grep -q "VERSION says $V, but debian/changelog's newest entry is 9.9.9-1" <<<"$out"
printf 'database = %s/tarpit.db\n' "$T" >"$T/tarpit.conf"
A="$BIN/tarpit-admin -c $T/tarpit.conf"
$A -h >"$T/usage" || not_ok "tarpit-admin -h exits 0"

# The commands and, per command, its --options (and -o) in the usage text.
usage_cmds=$(sed -n 's/^  \([a-z][a-z-]*\).*/\1/p' "$T/usage" | sort)
# ... and in the manual: the .It Cm lines of DESCRIPTION's list (a command
# with several forms has a line for each).
man_cmds=$(sed -n '/^\.Sh DESCRIPTION/,/^\.Sh /s/^\.It Cm \([a-z][a-z-]*\).*/\1/p' "$MAN" | sort -u)
expect_eq "the usage text and the manual name the same commands" \
    "$(echo $usage_cmds)" "$(echo $man_cmds)"
check "there are commands at all (${usage_cmds//$'\n'/ })" test "$(wc -w <<<"$usage_cmds")" -ge 17

opts_usage() { sed -n "s/^  $1 \(.*\)/\1/p" "$T/usage" | grep -oE '(^|[[ ])-(-[a-z-]+|[a-z])' | tr -d '[ ' | sort -u | tr '\n' ' '; }
opts_man() {
    sed -n "/^\.Sh DESCRIPTION/,/^\.Sh /s/^\.It Cm $1\( .*\)\{0,1\}$/\1/p" "$MAN" |
        grep -oE 'Fl -?[a-z-]+' | sed 's/^Fl /-/' | sort -u | tr '\n' ' '
}
for c in $usage_cmds; do
    expect_eq "$c: the same options in the usage text and the manual" "$(opts_usage "$c")" "$(opts_man "$c")"
    # The program knows the command: a bogus option is a usage error of
    # that command (exit 2), not "unknown command".
    if [ "$c" = serve ]; then continue; fi
    $A "$c" --no-such-option </dev/null >"$T/out" 2>&1; rc=$?
    if [ "$rc" = 2 ] && ! grep -q "unknown command" "$T/out"; then
        ok "$c: the program takes the command and refuses a bogus option (exit 2)"
    else
        not_ok "$c: the program takes the command and refuses a bogus option" "exit $rc: $(head -2 "$T/out")"
    fi
done
$A frobnicate >"$T/out" 2>&1; rc=$?
expect_eq "an unknown command: exit 2, said" "$rc $(grep -c 'unknown command "frobnicate"' "$T/out")" "2 1"

# Each option the usage text gives a command is accepted by it: doctor's
# ports (its exit is 0 or 5, never usage), export-map's format and file.
$A doctor --check-port 60001 --store-port 60002 >"$T/out" 2>&1; rc=$?
check "doctor --check-port --store-port: accepted (exit $rc)" test "$rc" = 0 -o "$rc" = 5
expect_eq "export-map --format access -o FILE: accepted" \
    "$($A export-map --format access -o "$T/map" >/dev/null 2>&1; echo $?)" "0"

# The counters stats prints are the ones the manual names, in --json too.
stats_keys=$($A --json stats | sed 's/,"hangup_histogram".*//' | grep -o '"[a-z_]*":[0-9]' |
    sed 's/"\([a-z_]*\)".*/\1/' | sort | tr '\n' ' ')
man_keys=$(sed -n '/^\.Cm stats Fl -json/,/^and$/p' "$MAN" | sed 1d | grep -oE 'Cm [a-z_ ,]+' |
    sed 's/^Cm //' | tr ',' '\n' | tr -d ' ' | grep . | sort | tr '\n' ' ')
expect_eq "stats --json: the counters the manual names" "$stats_keys" "$man_keys"
text_keys=$($A stats | sed -n '1,/^$/p' | awk 'NF == 2 {print $1}' | sort | tr '\n' ' ')
expect_eq "stats: the same counters as text" "$text_keys" "$stats_keys"

# Exit statuses: admin.h's and the manual's.
h_codes=$(sed -n 's/^#define ADMIN_[A-Z]* \([0-9]\).*/\1/p' "$TOP/lib/admin/admin.h" | sort -n | tr '\n' ' ')
man_codes=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /s/^\.It \([0-9]\)$/\1/p' "$MAN" | sort -n | tr '\n' ' ')
expect_eq "exit statuses: admin.h and the manual" "$h_codes" "$man_codes"

# tarpit.conf(5) names every key the program knows, and no other: the
# keys `config` prints, with rule and offender_pattern (lists it leaves
# to the rule lines).
conf_keys=$( { $A config | sed -n 's/^\([a-z_0-9]*\) = .*/\1/p'; echo rule; echo offender_pattern; } |
    sort -u | tr '\n' ' ')
man5_keys=$(sed -n 's/^\.It Cm \([a-z_0-9]*\).*/\1/p' "$TOP/share/man/tarpit.conf.5" | sort -u | tr '\n' ' ')
expect_eq "tarpit.conf(5) names the keys the program knows" "$man5_keys" "$conf_keys"

# The manual pages themselves: no warnings from the formatter.
for page in "$TOP"/share/man/*.[58]; do
    out=$(groff -mandoc -ww -z "$page" 2>&1)
    expect_eq "${page##*/} formats without a warning" "$out" ""
done
done_testing
