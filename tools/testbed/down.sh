#!/usr/bin/env bash
# Stop what tools/testbed/up.sh started, by the process groups recorded in
# $TESTBED_DIR/run/*.pid, and nothing else.
#
#   tools/testbed/down.sh            stop the OpenStack services (data and logs stay)
#   tools/testbed/down.sh --purge    also drop the cfngw_tb_* databases (templates too),
#                                    the RabbitMQ vhost and $TESTBED_DIR/data
#   tools/testbed/down.sh --fast     SIGKILL after 1 s instead of 15 (what up.sh uses to restart)
#   tools/testbed/down.sh --system   also stop PostgreSQL / RabbitMQ, but only if up.sh
#                                    installed and started them itself (fresh machine)
#
# PostgreSQL and RabbitMQ that were running before up.sh are never stopped.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

QUIET=0 LOCK=1 PURGE=0 SYSTEM=0 GRACE=15
for arg in "$@"; do
    case $arg in
        --quiet) QUIET=1 TB_QUIET=1 ;;
        --no-lock) LOCK=0 ;;      # up.sh, which holds the lock already
        --purge) PURGE=1 ;;
        --fast) GRACE=1 ;;
        --system) SYSTEM=1 ;;
        -h|--help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) die "unknown argument $arg (see --help)" ;;
    esac
done
say() { [ $QUIET = 1 ] || log "$*"; }

if [ $LOCK = 1 ]; then
    exec 9>"$TESTBED_DIR/.lock"
    flock -w 900 9 || die "another up.sh/down.sh holds $TESTBED_DIR/.lock"
fi

# All at once: each gets SIGTERM, and SIGKILL if it is still there after $GRACE s.
stopped=""
for name in $TB_SERVICES; do
    if pid_of "$name" >/dev/null; then
        stopped+=" $name"
        stop "$name" "$GRACE" &
    else
        rm -f "$TB_RUN/$name.pid"
    fi
done
wait
say "stopped:${stopped:- nothing was running}"
rm -f "$TB_JSON"

if [ $PURGE = 1 ]; then
    if port_open 127.0.0.1 5432; then
        for db in $TB_DATABASES; do
            psql_pg -c "DROP DATABASE IF EXISTS $TB_DB_PREFIX$db WITH (FORCE)" \
                    -c "DROP DATABASE IF EXISTS ${TB_DB_PREFIX}tpl_$db"
        done
    fi
    rabbitmqctl -q delete_vhost "$TB_RABBIT_VHOST" >/dev/null 2>&1 || true
    rm -rf "$TB_DATA" "$TB_ETC" "$TB_RUN"
    say "purged databases ${TB_DB_PREFIX}*, vhost $TB_RABBIT_VHOST and $TB_DATA"
fi

if [ $SYSTEM = 1 ]; then
    MARK=$TESTBED_DIR/system-services
    if [ -f "$MARK/rabbitmq-server" ]; then
        rabbitmqctl -q stop >/dev/null 2>&1 && say "stopped RabbitMQ (up.sh had started it)"
        rm -f "$MARK/rabbitmq-server"
    fi
    if [ -f "$MARK/postgresql" ]; then
        version=$(ls /etc/postgresql | sort -V | tail -1)
        pg_ctlcluster --skip-systemctl-redirect "$version" main stop && say "stopped PostgreSQL (up.sh had started it)"
        rm -f "$MARK/postgresql"
    fi
fi
exit 0
