# tests/system/container.sh - systemd as PID 1 in a container made for a
# test: systemd-nspawn --boot over an overlay of this machine's own root
# (its upper layer a tmpfs, so nothing the container does reaches the
# machine), with a private network (a loopback of its own).  Sourced
# after tests/lib.sh.
#
# ct_need            exit 77 (SKIPPED, and why) where it cannot run
# ct_start           boot it; CT_INIT is its PID 1 as this machine sees it
# ct CMD...          run CMD in it (all its namespaces, as root)
# ct_sh 'SCRIPT'     run a shell script in it
# ct_stop            power it off, unmount, remove: also run at exit
#
# Units this machine has enabled are masked in the container, but for
# Postfix and systemd's own, so that it boots quickly to what tests need.

ct_need() {
    local why=
    if [ "$(id -u)" != 0 ]; then why="it needs root (mounts, a container)"
    elif ! command -v systemd-nspawn >/dev/null; then why="systemd-nspawn is not installed (Debian's systemd-container; make deps)"
    elif ! command -v nsenter >/dev/null; then why="nsenter is not installed (util-linux)"
    elif ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2>/dev/null; then why="no overlay file system"
    elif [ ! -d /var/spool/postfix/private ]; then why="Postfix is not installed here (make deps)"
    fi
    if [ -n "$why" ]; then
        echo "SKIPPED: the tests under systemd as PID 1 did not run: $why." >&2
        exit 77
    fi
}

ct_start() {
    local i state
    CT=$(mktemp -d /tmp/tarpit-ct.XXXXXX)
    at_exit ct_stop
    mount -t tmpfs -o size=4g,mode=0755 tmpfs "$CT" || return 1
    CT_MOUNTED=1
    mkdir "$CT/upper" "$CT/work" "$CT/root"
    mount -t overlay overlay -o "lowerdir=/,upperdir=$CT/upper,workdir=$CT/work" "$CT/root" || return 1
    CT_OVERLAY=1
    R=$CT/root
    # A machine of its own: its own id (nspawn refuses the host's), and
    # only the units it needs.
    rm -f "$R/etc/machine-id"
    tr -d '-' </proc/sys/kernel/random/uuid >"$R/etc/machine-id"
    # An image's policy-rc.d forbids starting services: not on a machine.
    rm -f "$R/usr/sbin/policy-rc.d"
    local u
    for u in "$R"/etc/systemd/system/*.wants/*; do
        u=${u##*/}
        case $u in
            postfix.service|postfix@*|systemd-*|*.target) ;;
            *) ln -sf /dev/null "$R/etc/systemd/system/$u" ;;
        esac
    done
    for u in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer \
        dpkg-db-backup.timer logrotate.timer fstrim.timer; do
        ln -sf /dev/null "$R/etc/systemd/system/$u"
    done
    CT_LOG=$CT/console.log
    # nspawn filters the system calls of all it runs, and its list (of
    # systemd 252) predates Landlock: allowed here, as they are on a
    # machine systemd boots, so that the helpers can shut themselves in.
    setsid systemd-nspawn -q -D "$R" --boot --private-network --register=no --keep-unit \
        --system-call-filter='landlock_create_ruleset landlock_add_rule landlock_restrict_self' \
        --link-journal=no -M "tarpit-test-$$" >"$CT_LOG" 2>&1 &
    CT_NSPAWN=$!
    for i in $(seq 1 300); do
        CT_INIT=$(pgrep -P "$CT_NSPAWN" | head -1)
        if [ -n "$CT_INIT" ]; then
            state=$(nsenter -t "$CT_INIT" -a systemctl is-system-running 2>/dev/null)
            case $state in running|degraded) return 0 ;; esac
        fi
        kill -0 "$CT_NSPAWN" 2>/dev/null || break
        sleep 0.2
    done
    echo "the container did not boot (state: ${state:-none}); its console:" >&2
    tail -20 "$CT_LOG" >&2
    return 1
}

ct() { nsenter -t "$CT_INIT" -a "$@"; }
ct_sh() { nsenter -t "$CT_INIT" -a /bin/sh -c "$1"; }

ct_stop() {
    local i
    if [ -n "${CT_NSPAWN:-}" ] && kill -0 "$CT_NSPAWN" 2>/dev/null; then
        kill -TERM "$CT_NSPAWN"         # nspawn powers the container off
        for i in $(seq 1 150); do kill -0 "$CT_NSPAWN" 2>/dev/null || break; sleep 0.2; done
        kill -KILL -- "-$CT_NSPAWN" 2>/dev/null
        wait "$CT_NSPAWN" 2>/dev/null
    fi
    CT_NSPAWN=
    if [ -n "${CT_OVERLAY:-}" ]; then
        umount "$CT/root" 2>/dev/null || umount -l "$CT/root"
        CT_OVERLAY=
    fi
    if [ -n "${CT_MOUNTED:-}" ]; then
        umount "$CT" 2>/dev/null || umount -l "$CT"
        CT_MOUNTED=
    fi
    [ -n "${CT:-}" ] && rmdir "$CT" 2>/dev/null
    CT=
}
