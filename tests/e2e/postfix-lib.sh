# tests/e2e/postfix-lib.sh - a throw-away Postfix instance for tests.
#
# pf_start DIR CHECK_PORT STORE_PORT [TIMEOUT]
#   writes DIR/etc/{main,master}.cf and starts `postfix -c DIR/etc` with
#   smtpd on a free 127.0.0.1 port (PF_PORT).  The tarpit lines are the
#   shipped share/postfix/main.cf: with "unix unix" as they are (the
#   helpers then go into its queue directory: pf_helpers), else with TCP
#   ports put in; and, when given, the check's timeout= substituted.  Its own queue, data directory and
#   maillog live in DIR; the machine's Postfix and /etc/postfix are never
#   read or written.  PF_EXTRA, when set, is appended to main.cf (later
#   lines win: it can replace the tarpit lines), PF_MASTER_EXTRA to
#   master.cf (more services: an smtp client, a second smtpd).
# pf_stop DIR
#   `postfix -c DIR/etc stop`, then waits for its master process to be
#   gone, killing its process group by id if it lingers.
# pf_rcpt_ms, pf_qid, pf_delivered: what a session of tests/smtp-client
#   took and whether its message was delivered.
#
# Needs tests/lib.sh sourced first (free_port, PGIDS).

pf_need() {
    if ! command -v postfix >/dev/null || ! command -v swaks >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -q --no-install-recommends postfix swaks; } >"$T/apt.log" 2>&1
        fi
    fi
    if ! command -v postfix >/dev/null; then
        echo "SKIPPED: postfix is not installed and cannot be installed here." >&2
        echo "SKIPPED: THE REAL-POSTFIX TESTS DID NOT RUN." >&2
        exit 77
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "SKIPPED: a Postfix instance must be started as root." >&2
        exit 77
    fi
}

# pf_tarpit_lines CHECK_PORT STORE_PORT [TIMEOUT] - the shipped lines;
# with "unix unix" as shipped, on the sockets in the queue directory's
# private/ (pf_helpers starts the helpers there), else on those TCP ports
pf_tarpit_lines() {
    local sub="s/^//"
    [ "$1" != unix ] && sub="s|unix:private/tarpit-check|inet:127.0.0.1:$1|; s|unix:private/tarpit-store|inet:127.0.0.1:$2|"
    [ -n "${3:-}" ] && sub="$sub; /tarpit-check,\|127\.0\.0\.1:$1,/s/timeout=[0-9]*s/timeout=$3/"
    sed -e '/^#/d' -e "$sub" "$TOP/share/postfix/main.cf"
}

# pf_helpers DIR CONF [CHECK_LOG STORE_LOG] - tarpit-check and tarpit-store
# on the instance's unix:private/tarpit-check and -store, as the shipped
# units put them (Postfix's, mode 0660); CHECK_PID and STORE_PID are their
# activators
pf_helpers() {
    activate_unix "${3:-$T/check.log}" "$1/queue/private/tarpit-check" "$BIN/tarpit-check" -c "$2" || return 1
    CHECK_PID=$ACTIVATOR
    activate_unix "${4:-$T/store.log}" "$1/queue/private/tarpit-store" "$BIN/tarpit-store" -c "$2" || return 1
    STORE_PID=$ACTIVATOR
}

pf_start() {
    local dir=$1
    PF_PORT=$(free_port) || return 1
    mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
    chmod 0755 "$dir"
    chown postfix "$dir/data"
    cat >"$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.example.test
mydomain = example.test
myorigin = example.test
mydestination =
relay_domains = example.test
mynetworks = 127.0.0.0/32
default_transport = discard:
relay_transport = discard:
smtputf8_enable = no
smtpd_banner = \$myhostname ESMTP
$(pf_tarpit_lines "$2" "$3" "${4:-}")
${PF_EXTRA:-}
CF
    cat >"$dir/etc/master.cf" <<CF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n - n 60   1 pickup
cleanup   unix  n - n -    0 cleanup
qmgr      unix  n - n 300  1 qmgr
rewrite   unix  - - n -    - trivial-rewrite
bounce    unix  - - n -    0 bounce
defer     unix  - - n -    0 bounce
trace     unix  - - n -    0 bounce
verify    unix  - - n -    1 verify
flush     unix  n - n 1000 0 flush
proxymap  unix  - - n -    - proxymap
showq     unix  n - n -    - showq
error     unix  - - n -    - error
retry     unix  - - n -    - error
discard   unix  - - n -    - discard
anvil     unix  - - n -    1 anvil
scache    unix  - - n -    1 scache
postlog   unix-dgram n - n - 1 postlogd
${PF_MASTER_EXTRA:-}
CF
    postfix -c "$dir/etc" check >"$dir/check.log" 2>&1 || { cat "$dir/check.log"; return 1; }
    postfix -c "$dir/etc" start >"$dir/start.log" 2>&1 || { cat "$dir/start.log" "$dir/maillog" 2>/dev/null; return 1; }
    local i pid=
    for i in $(seq 1 100); do
        pid=$(tr -d ' ' <"$dir/queue/pid/master.pid" 2>/dev/null)
        [ -n "$pid" ] && ss -Htln "( sport = :$PF_PORT )" | grep -q . && break
        sleep 0.05
    done
    [ -n "$pid" ] || { echo "postfix did not start" >&2; cat "$dir/maillog" >&2; return 1; }
    PGIDS+=("$pid")            # the master leads its own process group
    PF_MASTER=$pid
}

pf_stop() {
    local dir=$1 pid=${PF_MASTER:-} i
    postfix -c "$dir/etc" stop >/dev/null 2>&1
    [ -n "$pid" ] || return 0
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    kill -KILL -- "-$pid" 2>/dev/null
}

# pf_rcpt_ms FILE / pf_qid FILE - in tests/smtp-client's output, how long
# the first RCPT TO reply took, and the queue id of the accepted message
pf_rcpt_ms() { awk '$1 == "rcpt" {print $3; exit}' "$1"; }
pf_qid() { awk '$1 == "eom" && $2 == 250 {print $4}' "$1"; }

# pf_delivered DIR QID - wait up to 5 s for the queue id's delivery in the
# instance's maillog
pf_delivered() {
    local i
    for i in $(seq 1 50); do
        grep -qE "$2: to=<[^>]*>.*status=sent" "$1/maillog" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# pf_log DIR - the instance's maillog
pf_log() { cat "$1/maillog" 2>/dev/null; }
