#!/usr/bin/env bash
# units.sh - the shipped systemd units, installed by `make install` into a
# scratch prefix, pass `systemd-analyze verify` without a single line of
# output (it only warns, exit 0, on an unknown key), and keep the settings
# a mail server needs.
. "$(dirname "$0")/../lib.sh"

R=$T/root
make -s -C "$TOP" install DESTDIR= PREFIX="$R/usr" SYSCONFDIR="$R/etc" \
    UNITDIR="$R/units" SYSUSERSDIR="$R/sysusers" >"$T/install.log" 2>&1
check "make install into a scratch prefix" test -x "$R/usr/sbin/tarpit-check"
check "the logcheck rules are installed, mode 0644" \
    sh -c "[ \$(stat -c %a '$R/etc/logcheck/ignore.d.server/tarpit') = 644 ] && [ \$(stat -c %a '$R/etc/logcheck/violations.ignore.d/tarpit') = 644 ]"
check "the shared sandbox is installed as the tarpit- prefix's drop-in" \
    test -f "$R/units/tarpit-.service.d/50-hardening.conf"
for u in "$R"/units/*.service "$R"/units/*.socket "$R"/units/*.timer; do
    out=$(MANPATH=$R/usr/share/man systemd-analyze verify "$u" 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && [ -z "$out" ]; then
        ok "systemd-analyze verify ${u##*/}: silent"
    else
        not_ok "systemd-analyze verify ${u##*/}: silent" "$out"
    fi
done

# What the defaults get wrong for mail, set right.
for s in check store; do
    f=$R/units/tarpit-$s.socket
    check "tarpit-$s.socket: Accept=yes" grep -qx 'Accept=yes' "$f"
    check "tarpit-$s.socket: MaxConnections above Postfix's 100 smtpd" \
        awk -F= '$1 == "MaxConnections" && $2 > 100 {f = 1} END {exit !f}' "$f"
    check "tarpit-$s.socket: TriggerLimitIntervalSec=0" grep -qx 'TriggerLimitIntervalSec=0' "$f"
    check "tarpit-$s.socket: in Postfix's queue directory, Postfix's alone (postfix, 0660)" \
        sh -c "grep -qx 'ListenStream=/var/spool/postfix/private/tarpit-$s' '$f' && grep -qx 'SocketUser=postfix' '$f' && grep -qx 'SocketGroup=postfix' '$f' && grep -qx 'SocketMode=0660' '$f' && [ \$(grep -c '^ListenStream=' '$f') = 1 ]"
    f=$R/units/tarpit-$s@.service
    check "tarpit-$s@.service: ExecStart is the installed program" \
        grep -qx "ExecStart=$R/usr/sbin/tarpit-$s" "$f"
    check "tarpit-$s@.service: unprivileged, with a StateDirectory" \
        sh -c "grep -qx 'User=tarpit' '$f' && grep -qx 'StateDirectory=tarpit' '$f'"
    check "tarpit-$s@.service: logs to the journal, never the socket" \
        sh -c "grep -qx 'StandardOutput=journal' '$f' && grep -qx 'StandardError=journal' '$f'"
    check "tarpit-$s@.service: CollectMode=inactive-or-failed" grep -qx 'CollectMode=inactive-or-failed' "$f"
done
check "tarpit-admin.socket: a UNIX socket, mode 0600" \
    sh -c "grep -qx 'ListenStream=/run/tarpit/admin.sock' '$R/units/tarpit-admin.socket' && grep -qx 'SocketMode=0600' '$R/units/tarpit-admin.socket'"
check "tarpit-admin@.service: runs tarpit-admin serve" grep -qx "ExecStart=$R/usr/sbin/tarpit-admin serve" "$R/units/tarpit-admin@.service"
for u in tarpit-admin@.service tarpit-admin-tcp@.service; do
    check "$u: a memory bound (MemoryMax)" grep -qx 'MemoryMax=256M' "$R/units/$u"
done
check "tarpit-admin-tcp.socket: 127.0.0.1:60003, with its warning" \
    sh -c "grep -qx 'ListenStream=127.0.0.1:60003' '$R/units/tarpit-admin-tcp.socket' && grep -q 'any local user' '$R/units/tarpit-admin-tcp.socket'"
check "tarpit-expire.timer: hourly, Persistent=yes" \
    sh -c "grep -qx 'OnCalendar=hourly' '$R/units/tarpit-expire.timer' && grep -qx 'Persistent=yes' '$R/units/tarpit-expire.timer'"
check "tarpit-import.timer: every 5 minutes" grep -qx 'OnUnitActiveSec=5m' "$R/units/tarpit-import.timer"
check "tarpit-import.service: import-log --journal, as tarpit with the journal's group" \
    sh -c "grep -qx 'ExecStart=$R/usr/sbin/tarpit-admin import-log --journal' '$R/units/tarpit-import.service' && grep -qx 'User=tarpit' '$R/units/tarpit-import.service' && grep -qx 'SupplementaryGroups=systemd-journal' '$R/units/tarpit-import.service'"
check "tarpit-metrics.timer: every minute" grep -qx 'OnUnitActiveSec=1m' "$R/units/tarpit-metrics.timer"
check "tarpit-metrics.service: root's tarpit-admin writes node-exporter's file itself (no mv of what tarpit left)" \
    sh -c "grep -qx 'ExecStart=$R/usr/sbin/tarpit-admin stats --format prometheus -o /var/lib/prometheus/node-exporter/tarpit.prom' '$R/units/tarpit-metrics.service' && ! grep -q '^Exec.*=+\\|/bin/mv' '$R/units/tarpit-metrics.service'"
check "tarpit-export-map.service: root's tarpit-admin writes the map into root's own directory, and reloads Postfix" \
    sh -c "grep -qx 'ExecStart=$R/usr/sbin/tarpit-admin export-map --postfix-reload -o /var/lib/tarpit-map/blocked.cidr' '$R/units/tarpit-export-map.service' && grep -qx 'StateDirectory=tarpit-map' '$R/units/tarpit-export-map.service' && ! grep -q '^User=\\|^StateDirectory=tarpit\$' '$R/units/tarpit-export-map.service'"
check "tarpit-expire.service: runs tarpit-admin expire" grep -qx "ExecStart=$R/usr/sbin/tarpit-admin expire" "$R/units/tarpit-expire.service"

# Least privilege: systemd's own exposure score, 2.0 or better for each,
# with the shared sandbox read from the drop-in beside the units.
# exposure UNIT_FILE - systemd-analyze security's overall score
exposure() {
    systemd-analyze security --offline=yes "$1" 2>/dev/null |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
# The policy helpers are the exception: they wall themselves off
# (tests/unit/sandbox_test.c, and system.sh inside the shipped unit), so
# their units turn the costly options off and keep only the cheap ones:
# the seccomp-based floor that holds on a kernel without Landlock.
for s in check store; do
    f=$R/units/tarpit-$s@.service.d/90-self-confined.conf
    check "tarpit-$s@.service: the self-confined drop-in is installed" test -f "$f"
    check "tarpit-$s@.service: it keeps no new privileges, no capabilities, no devices" \
        sh -c "! grep -Eq '^(NoNewPrivileges|CapabilityBoundingSet|AmbientCapabilities|DevicePolicy|User|Group)=' '$f'"
    check "tarpit-$s@.service: it keeps the floor: the system call filter, families, W^X, namespaces, personality, realtime, architectures" \
        awk -F= '$1 ~ /^(SystemCallFilter|RestrictAddressFamilies|MemoryDenyWriteExecute|RestrictNamespaces|LockPersonality|RestrictRealtime|RestrictSUIDSGID|SystemCallArchitectures)$/ {last[$1] = $2}
            END {for (k in last) if (last[k] == "" || last[k] == "no") exit 1}' "$f"
done
for u in "$R"/units/*.service; do
    score=$(exposure "$u")
    # The helpers' units keep the floor that needs no mount namespace
    # (the system call filter, families, W^X...): 3.0 or better.
    bound=2.0
    case ${u##*/} in tarpit-check@.service|tarpit-store@.service) bound=3.0;; esac
    if [ -n "$score" ] && awk -v s="$score" -v b="$bound" 'BEGIN {exit !(s <= b)}'; then
        ok "systemd-analyze security ${u##*/}: $score ($bound or better)"
    else
        not_ok "systemd-analyze security ${u##*/}: $bound or better" "got ${score:-nothing}"
    fi
done

# The test itself: without the drop-in a service is exposed, so the score
# above is the drop-in's work; and a unit with a mistake is caught.
mkdir -p "$T/bare"
cp "$R/units/tarpit-expire.service" "$T/bare/"
score=$(exposure "$T/bare/tarpit-expire.service")
if [ -n "$score" ] && awk -v s="$score" 'BEGIN {exit !(s > 5.0)}'; then
    ok "without the drop-in tarpit-expire.service is exposed ($score)"
else
    not_ok "without the drop-in tarpit-expire.service is exposed" "got ${score:-nothing}"
fi
sed 's/^NoDelay=yes/NoDelayy=yes/' "$R/units/tarpit-check.socket" >"$T/broken.socket"
out=$(MANPATH=$R/usr/share/man systemd-analyze verify "$T/broken.socket" 2>&1)
if [ -n "$out" ]; then ok "an unknown key is caught"; else not_ok "an unknown key is caught"; fi
done_testing
