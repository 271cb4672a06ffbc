# tests/lib.sh - what every shell test shares: results, a scratch directory,
# free loopback ports, and helpers started under systemd-socket-activate and
# stopped again by process group, also when a test fails.
#
# BIN names the directory of the programs under test (default: bin).

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-$TOP/bin}
TOOLS=${TOOLS:-$TOP/tests}
passed=0
failed=0
PGIDS=()
AT_EXIT=()
ACT_LOGS=()
T=$(mktemp -d /tmp/tarpit-test.XXXXXX)
chmod 0755 "$T"

# at_exit COMMAND - run COMMAND (one string) first when the test ends
at_exit() { AT_EXIT+=("$1"); }

cleanup() {
    local g c l
    for c in "${AT_EXIT[@]}"; do eval "$c"; done
    # TARPIT_LOGS: a directory that collects the helpers' log lines of
    # every suite, for the logcheck rules' test (tests/e2e/logcheck.sh).
    if [ -n "${TARPIT_LOGS:-}" ] && [ -d "$TARPIT_LOGS" ]; then
        for l in "${ACT_LOGS[@]}"; do
            [ -f "$l" ] && cat "$l" >>"$TARPIT_LOGS/${0##*/}.log"
        done
    fi
    for g in "${PGIDS[@]}"; do
        kill -TERM -- "-$g" 2>/dev/null
    done
    sleep 0.1
    for g in "${PGIDS[@]}"; do
        kill -KILL -- "-$g" 2>/dev/null
    done
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- The backend: a GDBM file, or with TEST_BACKEND=redis a redis-server
# started here (on a free loopback port and a UNIX socket in $T, no
# persistence) and stopped by its process id when the test ends.

# rs_start [ARGS...] - start redis-server (on RS_WANT_PORT when set); sets
# RS_PORT, RS_SOCK, RS_PID
rs_start() {
    local i
    RS_PORT=${RS_WANT_PORT:-$(free_port)} || return 1
    RS_SOCK=$T/redis.sock
    setsid redis-server --port "$RS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$T" --unixsocket "$RS_SOCK" --unixsocketperm 700 \
        --enable-debug-command yes "$@" >>"$T/redis.log" 2>&1 &
    RS_PID=$!
    PGIDS+=("$RS_PID")
    for i in $(seq 1 100); do
        redis-cli -p "$RS_PORT" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.05
    done
    echo "redis-server did not start: $(tail -3 "$T/redis.log")" >&2
    return 1
}
# rs_stop - stop it by its process id, and wait until it is gone
rs_stop() {
    local i
    kill -KILL "$RS_PID" 2>/dev/null
    wait "$RS_PID" 2>/dev/null		# reaped quietly (no "Killed" notice)
    for i in $(seq 1 100); do kill -0 "$RS_PID" 2>/dev/null || return 0; sleep 0.05; done
}
rs() { redis-cli -p "$RS_PORT" "$@"; }
# db_conf NAME - a test config's database lines: $T/NAME.db, or a prefix
# of its own on the test's redis-server
db_conf() {
    if [ "${TEST_BACKEND:-gdbm}" = redis ]; then
        printf 'database = redis://127.0.0.1:%s/0\ndatabase_prefix = %s:\nstate_directory = %s\n' \
            "$RS_PORT" "$1" "$T"
    else
        printf 'database = %s/%s.db\n' "$T" "$1"
    fi
}
# db_empty NAME - remove every record of db_conf NAME's database
db_empty() {
    if [ "${TEST_BACKEND:-gdbm}" = redis ]; then
        rs --scan --pattern "$1:*" | xargs -r -d "\n" -n 1000 redis-cli -p "$RS_PORT" del >/dev/null
    else
        rm -f "$T/$1.db" "$T/$1.db.lock"
    fi
}
shared_backend() { [ "${TEST_BACKEND:-gdbm}" = redis ]; }

# ok NAME / not_ok NAME WHY - one result line each
ok() { passed=$((passed + 1)); printf 'ok     %s\n' "$1"; }
# note - what a set-up step made, said but not counted: only a check passes
note() { printf '#      %s\n' "$1"; }
not_ok() {
    failed=$((failed + 1)); printf 'FAILED %s\n' "$1"
    shift; [ $# -gt 0 ] && printf '       %s\n' "$@"
    return 0
}

# check NAME COMMAND... - ok when the command succeeds
check() {
    local name=$1; shift
    if "$@" >"$T/check.out" 2>&1; then ok "$name"; else not_ok "$name" "$(tail -5 "$T/check.out")"; fi
}

# expect_eq NAME GOT WANT
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2" "want: $3"; fi
}

# expect_range NAME VALUE MIN MAX - integers, inclusive
expect_range() {
    if [ "$2" -ge "$3" ] 2>/dev/null && [ "$2" -le "$4" ]; then ok "$1 ($2)"
    else not_ok "$1" "got $2, want $3..$4"; fi
}

# done_testing - the closing line; exit status says whether all passed
done_testing() {
    printf '%s: %d passed, %d failed\n' "${0##*/}" "$passed" "$failed"
    [ "$failed" -eq 0 ]
}

# free_port - a TCP port on loopback nobody listens on
free_port() {
    local p i
    for i in $(seq 1 200); do
        p=$((10000 + RANDOM % 22000))   # below the ephemeral range
        if ! ss -Htln "( sport = :$p )" 2>/dev/null | grep -q .; then
            echo "$p"; return 0
        fi
    done
    echo "no free port" >&2; return 1
}

# activate LOG PORT PROGRAM ARGS... - run PROGRAM per connection on
# 127.0.0.1:PORT (or [::1]:PORT when ADDR6=1); sets ACTIVATOR to its pid
activate() {
    local log=$1 port=$2 addr=127.0.0.1:$2; shift 2
    [ -n "${ADDR6:-}" ] && addr="[::1]:$port"
    setsid systemd-socket-activate --accept -l "$addr" "$@" >>"$log" 2>&1 &
    ACTIVATOR=$!
    ACT_LOGS+=("$log")
    PGIDS+=("$ACTIVATOR")
    local i
    for i in $(seq 1 100); do
        ss -Htln "( sport = :$port )" | grep -q . && return 0
        sleep 0.05
    done
    echo "activator on $addr did not start" >&2
    not_ok "start $* on $addr"
    return 1
}

# activate_unix LOG PATH PROGRAM ARGS... - run PROGRAM per connection on
# the UNIX socket PATH, Postfix's and mode 0660 as the shipped units make
# it (anything at PATH before is removed); sets ACTIVATOR to its pid
activate_unix() {
    local log=$1 path=$2 i; shift 2
    rm -f "$path"
    setsid systemd-socket-activate --accept -l "$path" "$@" >>"$log" 2>&1 &
    ACTIVATOR=$!
    ACT_LOGS+=("$log")
    PGIDS+=("$ACTIVATOR")
    for i in $(seq 1 100); do
        if [ -S "$path" ]; then
            chown postfix:postfix "$path" && chmod 0660 "$path" && return 0
            break
        fi
        sleep 0.05
    done
    echo "activator on $path did not start" >&2
    not_ok "start $* on $path"
    return 1
}

# children PID - the helper processes an activator is running
children() { pgrep -P "$1" | wc -l; }

# wait_no_children PID MAX_MS - wait until the activator has no helpers left
wait_no_children() {
    local i
    for i in $(seq 1 $(( $2 / 20 ))); do
        [ "$(children "$1")" -eq 0 ] && return 0
        sleep 0.02
    done
    return 1
}

# req ADDR [PORT] [more attribute lines] - one policy request, Postfix-shaped;
# the extra attributes come first, so they win over the defaults
req() {
    local addr=$1 port=${2:-40000}; shift 2 2>/dev/null || shift $#
    printf 'request=smtpd_access_policy\n'
    local l; for l in "$@"; do printf '%s\n' "$l"; done
    printf 'protocol_state=RCPT\nprotocol_name=ESMTP\n'
    printf 'client_address=%s\nclient_name=unknown\nclient_port=%s\n' "$addr" "$port"
    printf 'server_address=127.0.0.1\nserver_port=25\nhelo_name=test\n'
    printf 'sender=a@example.org\nrecipient=b@example.net\ninstance=1.2.3\n\n'
}

# json_field JSON NAME - an integer field from tarpit-admin --json output
json_field() { printf '%s' "$1" | sed -n "s/.*\"$2\":\(-\{0,1\}[0-9]*\).*/\1/p"; }

# no_crash [EXCLUDE] - no sanitizer report and no helper that died badly in
# any activator log (lines matching the regex EXCLUDE aside)
no_crash() {
    if grep -hE "runtime error|Sanitizer|died with (signal|code [^0])" "$T"/*.log |
        grep -vE "${1:-^\$}" >"$T/crash"; then
        not_ok "no helper crashed" "$(head -3 "$T/crash")"
    else
        ok "no helper crashed"
    fi
}

# now_ms - wall clock in milliseconds
now_ms() { date +%s%3N; }

# act_of OUT [N] / ms_of OUT [N] - the reply's action and its milliseconds
# (the last word) on line N (default 1) of policy-client's output
act_of() { printf '%s\n' "$1" | sed -n "${2:-1}p" | awk '{print $1}'; }
ms_of() { printf '%s\n' "$1" | sed -n "${2:-1}p" | awk '{print $NF}'; }

# With TEST_BACKEND=redis every test runs on a redis-server of its own.
if [ "${TEST_BACKEND:-gdbm}" = redis ]; then
    rs_start || exit 1
fi
