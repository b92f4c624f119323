# Shared settings and helpers for up.sh / down.sh (sourced, not run).
# Everything the test bed makes lives under $TESTBED_DIR (default <repo>/.testbed).

TB_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)           # tools/testbed
REPO_ROOT=$(cd "$TB_HOME/../.." && pwd)
TESTBED_DIR=${TESTBED_DIR:-$REPO_ROOT/.testbed}
mkdir -p "$TESTBED_DIR"
TESTBED_DIR=$(cd "$TESTBED_DIR" && pwd)                          # absolute, always
export TESTBED_DIR

TB_VENV=${TESTBED_VENV:-$TESTBED_DIR/venv}
TB_ETC=$TESTBED_DIR/etc
TB_LOGS=$TESTBED_DIR/logs
TB_RUN=$TESTBED_DIR/run          # <name>.pid files: "<pgid> <start time>"
TB_DATA=$TESTBED_DIR/data
TB_JSON=$TESTBED_DIR/testbed.json
export TB_ETC TB_LOGS TB_DATA        # the wsgi/ shims read them

# One password for every test bed account; loopback only.
export TB_PASSWORD=${TESTBED_PASSWORD:-cfngw-testbed}
export TB_REGION=RegionOne
export TB_HOST=127.0.0.1
export TB_KEYSTONE_PORT=${TESTBED_KEYSTONE_PORT:-5000}
export TB_GNOCCHI_PORT=${TESTBED_GNOCCHI_PORT:-8041}
export TB_AODH_PORT=${TESTBED_AODH_PORT:-8042}
export TB_HEAT_PORT=${TESTBED_HEAT_PORT:-8004}
export TB_HEAT_CFN_PORT=${TESTBED_HEAT_CFN_PORT:-8000}
# Where heat-engine's cfn-gateway resource plugin finds the gateway: tests that create
# OS::CfnGateway::* resources run an OpenStack-mode gateway on this port.
export TB_GATEWAY_PORT=${TESTBED_GATEWAY_PORT:-8013}

# PostgreSQL and RabbitMQ: the machine's own, on their standard ports.
export TB_PG_URL=postgresql://postgres@127.0.0.1:5432
# (a second test bed beside the first needs its own prefix, and ports, above)
export TB_DB_PREFIX=${TESTBED_DB_PREFIX:-cfngw_tb_}
export TB_RABBIT_VHOST=${TB_DB_PREFIX%_}
export TB_DATABASES="keystone gnocchi aodh heat"

# The services, in the order down.sh stops them (APIs first, Keystone last).
TB_SERVICES="heat-api heat-api-cfn heat-engine aodh-api aodh-evaluator aodh-evaluator-2
             aodh-notifier gnocchi-api gnocchi-metricd keystone"
# Two evaluators, which share the alarms through tooz ([coordination] in etc/aodh.conf);
# each logs to $TB_LOGS/<name>.log.
TB_AODH_EVALUATORS="aodh-evaluator aodh-evaluator-2"

export PYTHONWARNINGS=ignore     # the OpenStack stack is noisy about deprecations

# Times in milliseconds since the epoch; seconds_since T prints seconds with one decimal.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds_since() { local d=$(($(now_ms) - $1)); printf '%d.%d' $((d / 1000)) $((d % 1000 / 100)); }
TB_T0=${TB_T0:-$(now_ms)}     # up.sh passes its own on to the namespace (isolate.sh)

log() { printf '[testbed %6ss] %s\n' "$(seconds_since "$TB_T0")" "$*"; }
die() { printf 'testbed: ERROR: %s\n' "$*" >&2; exit 1; }

# -------------------------------------------------------------- processes by PID file
# The start time (field 22 of /proc/PID/stat) is kept beside the PID so that a PID the
# kernel has since given to another process is never taken for ours.
# (The command name in field 2 may hold spaces, e.g. after setproctitle: skip past its ")".)
proc_start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    set -- ${stat##*) }
    echo "${20}"
}

# pid_of NAME: prints the process-group leader's PID if it is still the one we started.
pid_of() {
    local f=$TB_RUN/$1.pid pid start
    [ -f "$f" ] || return 1
    read -r pid start <"$f" || return 1
    [ -n "$pid" ] && [ "$(proc_start_time "$pid")" = "$start" ] || return 1
    echo "$pid"
}

# start NAME CMD...: runs CMD in a new session (its own process group), output to
# $TB_LOGS/NAME.out, and records the group leader's PID, and CMD for service.sh.
start() {
    local name=$1; shift
    printf '%q ' "$@" >"$TB_RUN/$name.cmd"
    setsid "$@" </dev/null >"$TB_LOGS/$name.out" 2>&1 9>&- &   # 9: the lock of up.sh
    local pid=$!
    echo "$pid $(proc_start_time "$pid")" >"$TB_RUN/$name.pid"
}

# stop NAME [TIMEOUT]: SIGTERM to the whole process group, SIGKILL after TIMEOUT seconds.
stop() {
    local name=$1 timeout=${2:-15} pid
    if pid=$(pid_of "$name"); then
        kill -TERM -- "-$pid" 2>/dev/null
        local i
        for ((i = 0; i < timeout * 10; i++)); do
            kill -0 -- "-$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 -- "-$pid" 2>/dev/null; then
            [ "${TB_QUIET:-0}" = 1 ] || echo "testbed: $name (pgid $pid) still running after ${timeout}s: SIGKILL" >&2
            kill -KILL -- "-$pid" 2>/dev/null
        fi
    fi
    rm -f "$TB_RUN/$name.pid"
}

# -------------------------------------------------------------- probes
# service_url NAME: what answers when an API service is up (nothing for the others).
service_url() {
    case $1 in
        keystone) echo "http://$TB_HOST:$TB_KEYSTONE_PORT/v3" ;;
        gnocchi-api) echo "http://$TB_HOST:$TB_GNOCCHI_PORT/" ;;
        aodh-api) echo "http://$TB_HOST:$TB_AODH_PORT/" ;;
        heat-api) echo "http://$TB_HOST:$TB_HEAT_PORT/" ;;
        heat-api-cfn) echo "http://$TB_HOST:$TB_HEAT_CFN_PORT/" ;;
    esac
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# http_ok URL: any answer below 500 means the WSGI app is loaded and serving.
http_ok() {
    local code
    code=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$1") || return 1
    [ "$code" -ge 200 ] && [ "$code" -lt 500 ]
}

wait_for() { # DESCRIPTION TIMEOUT_S COMMAND...
    local what=$1 timeout=$2 i; shift 2
    for ((i = 0; i < timeout * 4; i++)); do
        "$@" && return 0
        sleep 0.25
    done
    die "timed out after ${timeout}s waiting for $what (logs: $TB_LOGS)"
}

# evaluator_cycle_since NAME OFFSET: NAME's log, from byte OFFSET on, has an evaluation
# cycle (Aodh logs "initiating evaluation cycle on N alarms" each evaluation_interval).
evaluator_cycle_since() {
    tail -c +"$(($2 + 1))" "$TB_LOGS/$1.log" 2>/dev/null | grep -q 'initiating evaluation cycle'
}
file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# isolated: true inside the mount namespace that isolate.sh made (see there).
isolated() { [ -n "${TB_ISOLATED:-}" ] && [ "$TB_ISOLATED" = "$(readlink /proc/self/ns/mnt)" ]; }

psql_pg() { PGOPTIONS='-c client_min_messages=warning' psql "$TB_PG_URL/postgres" -v ON_ERROR_STOP=1 -qAt "$@"; }
