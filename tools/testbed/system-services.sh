#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432 (trust, user postgres) and RabbitMQ on
# 127.0.0.1:5672 (guest/guest); up.sh runs this first.
#
# On this project's machines both already run and nothing is done. On a fresh Debian
# machine: installs Debian's postgresql / rabbitmq-server, binds them to 127.0.0.1 and
# starts them, detached, so that they keep running for later up.sh runs. What it started
# is marked in $TESTBED_DIR/system-services/ (down.sh --system stops only those).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MARK=$TESTBED_DIR/system-services
mkdir -p "$MARK"
APT_LOG=$TESTBED_DIR/apt.log

pg_up() { port_open 127.0.0.1 5432; }
rabbit_up() { port_open 127.0.0.1 5672; }

# Everything missing in one apt-get run.
missing=()
command -v curl >/dev/null || missing+=(curl)
if pg_up; then
    command -v psql >/dev/null || missing+=(postgresql-client)
else
    dpkg -s postgresql >/dev/null 2>&1 || missing+=(postgresql)
fi
installed_rabbit=0
if ! rabbit_up && ! dpkg -s rabbitmq-server >/dev/null 2>&1; then
    missing+=(rabbitmq-server)
    installed_rabbit=1
fi
if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]} (log: $APT_LOG)"
    apt-get update -qq >"$APT_LOG" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confold "${missing[@]}" >>"$APT_LOG" 2>&1 \
        || { tail -n 20 "$APT_LOG"; die "apt-get install ${missing[*]} failed"; }
fi

if ! pg_up; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
    [ -n "$version" ] || die "postgresql is installed but has no cluster under /etc/postgresql"
    conf=/etc/postgresql/$version/main
    log "starting PostgreSQL $version on 127.0.0.1:5432"
    # loopback only; TCP connections from this machine as postgres need no password
    printf "listen_addresses = '127.0.0.1'\nport = 5432\n" >"$conf/conf.d/cfngw-testbed.conf"
    grep -q '^host all postgres 127.0.0.1/32 trust' "$conf/pg_hba.conf" \
        || sed -i '1i host all postgres 127.0.0.1/32 trust' "$conf/pg_hba.conf"
    # (the package may have started it with its own settings: a restart applies ours)
    pg_ctlcluster --skip-systemctl-redirect "$version" main stop >>"$APT_LOG" 2>&1 || true
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >>"$APT_LOG" 2>&1 \
        || { tail -n 20 "$APT_LOG"; die "could not start PostgreSQL"; }
    touch "$MARK/postgresql"
    wait_for "PostgreSQL on 127.0.0.1:5432" 60 pg_up
fi

if ! rabbit_up; then
    log "starting RabbitMQ on 127.0.0.1:5672"
    if [ $installed_rabbit = 1 ]; then
        # the package may have started a node (and epmd) on every interface: stop them
        rabbitmqctl -q stop >/dev/null 2>&1 || true
        epmd -kill >/dev/null 2>&1 || true
    fi
    cat >/etc/rabbitmq/rabbitmq-env.conf <<'CONF'
NODENAME=rabbit@localhost
NODE_IP_ADDRESS=127.0.0.1
ERL_EPMD_ADDRESS=127.0.0.1
export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"
CONF
    echo 'listeners.tcp.default = 127.0.0.1:5672' >/etc/rabbitmq/rabbitmq.conf
    rabbitmq-server -detached >>"$APT_LOG" 2>&1
    touch "$MARK/rabbitmq-server"
    wait_for "RabbitMQ on 127.0.0.1:5672" 120 rabbit_up
fi
