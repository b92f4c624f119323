#!/usr/bin/env bash
# Run a command in a private mount namespace in which the host's own configuration and
# state of Keystone, Gnocchi, Aodh and Heat cannot be seen, so that an option the test bed
# forgot to set fails here every time, as on a fresh machine:
#
#   - /etc/<name>, /var/lib/<name> and /var/log/<name> (keystone, gnocchi, aodh, heat) are
#     absent, or empty where the host has them (a read-only tmpfs over each);
#   - /etc, /var/lib and /var/log are read-only, so that nothing started here can make
#     those folders, or leave anything else there (the test bed's own folders excepted).
#
#   tools/testbed/isolate.sh CMD [ARG...]
#
# up.sh and service.sh run themselves so (set-up commands and services included). The
# mounts exist in the namespace only, which ends with its last process: nothing is made on
# the host. TESTBED_ISOLATION=0 runs CMD as it is (where unshare is not permitted).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

HIDDEN="/etc/keystone /etc/gnocchi /etc/aodh /etc/heat
        /var/lib/keystone /var/lib/gnocchi /var/lib/aodh /var/lib/heat
        /var/log/keystone /var/log/gnocchi /var/log/aodh /var/log/heat"
# oslo.config's other default folders: keystonemiddleware's own config object (in
# gnocchi-api and aodh-api) takes no --config-dir and would read these.
for name in keystone gnocchi aodh heat; do
    HIDDEN+=" /etc/$name.conf.d ${HOME:-/root}/.$name ${HOME:-/root}/$name.conf.d"
done
READ_ONLY="/etc /var/lib /var/log"

if [ "${1:-}" != --in-namespace ]; then
    [ $# -gt 0 ] || { sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 2; }
    [ "${TESTBED_ISOLATION:-1}" != 0 ] || exec "$@"
    UNSHARE=(unshare --mount --propagation private)
    # not root: a user namespace of its own, in which the caller is root
    [ "$(id -u)" = 0 ] || UNSHARE=(unshare --user --map-root-user --mount --propagation private)
    "${UNSHARE[@]}" true 2>/dev/null || die "cannot make a private mount namespace here" \
        "(${UNSHARE[*]}: not permitted). The test bed runs in one to hide the host's" \
        "/etc/<service>, /var/lib/<service> and /var/log/<service>; that needs root (with" \
        "CAP_SYS_ADMIN, in a container) or unprivileged user namespaces. TESTBED_ISOLATION=0" \
        "runs it without (see tools/testbed/README.md)."
    exec "${UNSHARE[@]}" "$0" --in-namespace "$(readlink /proc/self/ns/mnt)" "$@"
fi
# (never mount in the namespace this was called from)
[ "$(readlink /proc/self/ns/mnt)" != "${2:-}" ] || die "isolate.sh --in-namespace: not in a new mount namespace"
shift 2

# The test bed's own folders must stay visible and writable.
for dir in "$REPO_ROOT" "$TESTBED_DIR" "$TB_VENV"; do
    for hidden in $HIDDEN; do
        case $dir/ in "$hidden"/*) die "$dir is inside $hidden, which the test bed hides:" \
            "move it, or set TESTBED_ISOLATION=0" ;; esac
    done
done

# Read-only, with the mounts below them (--rbind) as they are.
for dir in $READ_ONLY; do
    [ -d "$dir" ] || continue
    mount --rbind "$dir" "$dir" && mount -o remount,bind,ro "$dir" \
        || die "could not make $dir read-only in the test bed's mount namespace"
done
# ... except the test bed's own folders and the home (pip's cache), should they lie there
# (say, a CI user's home in /var/lib).
for dir in "${HOME:-}" "$REPO_ROOT" "$TESTBED_DIR" "$(dirname "$TB_VENV")"; do
    case $dir/ in /etc/*|/var/lib/*|/var/log/*) ;; *) continue ;; esac
    [ -d "$dir" ] || continue
    mount --bind "$dir" "$dir" && mount -o remount,bind,rw "$dir" \
        || die "could not keep $dir writable in the test bed's mount namespace"
done

COVERED=""
for dir in $HIDDEN; do
    [ -d "$dir" ] || continue
    mount -t tmpfs -o ro,size=4k,mode=0755 cfngw-testbed-hidden "$dir" \
        || die "could not hide $dir in the test bed's mount namespace"
    COVERED+=" $dir"
done

# up.sh and service.sh know by this that they run inside (the namespace's identity).
TB_ISOLATED=$(readlink /proc/self/ns/mnt)
export TB_ISOLATED TB_ISOLATION_COVERED=${COVERED# }
exec "$@"
