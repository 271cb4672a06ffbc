#!/usr/bin/env bash
# headers.sh - every function's header comment names that function: a
# comment "/* name - what it does" right above a definition is about the
# function defined there, so that a reader (and grep) finds it by name.
# Comments followed by a blank line or a preprocessor line (a file's or a
# section's header) are not function headers.
. "$(dirname "$0")/../lib.sh"
files=("$TOP"/lib/*/*.[ch] "$TOP"/bin/*.c "$TOP"/tests/*.c "$TOP"/tests/unit/*.[ch] \
    "$TOP"/tests/fuzz/*.c "$TOP"/bench/*.c)
bad=$(awk '
    FNR == 1 { state = 0 }
    state == 0 && match($0, /^\/\* [A-Za-z_][A-Za-z0-9_]* - /) {
        name = substr($0, 4, RLENGTH - 6); line = FNR; state = 1
    }
    state == 1 { if (index($0, "*/")) { state = 2; decl = ""; n = 0 }; next }
    state == 2 {
        if (n == 0 && ($0 == "" || $0 ~ /^#/)) { state = 0; next }
        n++
        if ($0 ~ /^__attribute__/) next
        decl = decl " " $0
        if (index(decl, "(")) {
            sub(/\(.*/, "", decl); k = split(decl, w, /[ \t*]+/)
            if (w[k] != name) printf "%s:%d: /* %s - */ above %s()\n", FILENAME, line, name, w[k]
            state = 0
        } else if (n > 6) state = 0
    }' "${files[@]}" | sed "s|$TOP/||")
expect_eq "every function header comment names the function below it" "$bad" ""
done_testing
