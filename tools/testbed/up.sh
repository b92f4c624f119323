#!/usr/bin/env bash
# Start real Keystone, Gnocchi, Aodh and Heat on 127.0.0.1 for cfn-gateway's tests.
#
#   tools/testbed/up.sh            start, or report that the running test bed is healthy
#   tools/testbed/up.sh --fresh    restart with fresh databases even if it is healthy
#   tools/testbed/up.sh --rebuild  also rebuild the venv from PyPI
#
# Everything lives under $TESTBED_DIR (default <repo>/.testbed): venv/, etc/, data/,
# logs/, run/ (PID files) and testbed.json, which tells tests where everything is.
# Stop with tools/testbed/down.sh. See tools/testbed/README.md.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FRESH=0 REBUILD=0
for arg in "$@"; do
    case $arg in
        --fresh) FRESH=1 ;;
        --rebuild) FRESH=1 REBUILD=1 ;;
        -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) die "unknown argument $arg (see --help)" ;;
    esac
done

# The services this run starts (heat-api-cfn unless TESTBED_HEAT_CFN=0).
STARTED="keystone gnocchi-api gnocchi-metricd aodh-api $TB_AODH_EVALUATORS aodh-notifier heat-api heat-engine"
[ "${TESTBED_HEAT_CFN:-1}" = 1 ] && STARTED="$STARTED heat-api-cfn"

# The gateway's code that Aodh and heat-engine run (the plugins, installed editable into
# the venv, and what they import) and setup.py (its entry points): names and contents of
# the *.py files there are.
PLUGIN_SOURCES="cfn_gateway/aodh_plugin cfn_gateway/heat_plugin cfn_gateway/domain
                cfn_gateway/backends/openstack
                cfn_gateway/backends/alarms.py cfn_gateway/engine/actions.py
                cfn_gateway/engine/webhooks.py setup.py"
plugin_sources_hash() {
    local existing=() path
    for path in $PLUGIN_SOURCES; do [ ! -e "$REPO_ROOT/$path" ] || existing+=("$path"); done
    [ ${#existing[@]} = 0 ] || (cd "$REPO_ROOT" && find "${existing[@]}" -type f -name '*.py' \
        -not -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
# Changing any of these files restarts a running test bed on the next up.sh.
recipe_hash() {
    (cd "$TB_HOME" && cat lib.sh up.sh isolate.sh testbed.py constraints.txt requirements.txt \
        etc/* wsgi/*.py heat-plugins/*.py && echo "$STARTED ${TESTBED_ISOLATION:-1}" &&
        plugin_sources_hash) | sha256sum | cut -c1-16
}
venv_hash() {
    (cat "$TB_HOME/constraints.txt" "$TB_HOME/requirements.txt"; "$TB_PYTHON" -V) | sha256sum | cut -c1-16
}
TB_PYTHON=${TESTBED_PYTHON:-python3}

# ============================================================== already up?
healthy() {
    local name problems=""
    [ -f "$TB_JSON" ] || problems+=" no testbed.json;"
    [ "$(cat "$TB_RUN/recipe.hash" 2>/dev/null)" = "$(recipe_hash)" ] || problems+=" recipe changed;"
    for name in $STARTED; do
        pid_of "$name" >/dev/null || problems+=" $name not running;"
    done
    for name in $STARTED; do
        [ -z "$(service_url "$name")" ] || http_ok "$(service_url "$name")" || problems+=" $name not answering;"
    done
    HEALTH_PROBLEMS=$problems
    [ -z "$problems" ]
}

if ! isolated; then
    # One up.sh or down.sh at a time; a second caller waits, then finds the test bed up.
    exec 9>"$TESTBED_DIR/.lock"
    flock -w 900 9 || die "another up.sh/down.sh holds $TESTBED_DIR/.lock"

    if [ $FRESH = 0 ] && healthy; then
        log "already up and healthy (started $(sed -n 's/.*"started_at": "\(.*\)".*/\1/p' "$TB_JSON")); nothing to do"
        log "testbed.json: $TB_JSON   (use --fresh to restart with fresh databases)"
        exit 0
    fi
    [ $FRESH = 1 ] || [ ! -d "$TB_RUN" ] || log "not healthy:$HEALTH_PROBLEMS (re)starting"

    # PostgreSQL and RabbitMQ: the host's own (installed and started there if missing)
    "$TB_HOME/system-services.sh"

    # Everything else runs again in a private mount namespace where the host's
    # /etc/<service>, /var/lib/<service> and /var/log/<service> are hidden (isolate.sh);
    # the lock (fd 9) and the clock of the log lines go along.
    export TB_T0
    [ "${TESTBED_ISOLATION:-1}" = 0 ] || exec "$TB_HOME/isolate.sh" "$TB_HOME/up.sh" "$@"
fi
if isolated; then
    log "private mount namespace: /etc, /var/lib, /var/log read-only, the services' folders" \
        "there hidden (present on this host: ${TB_ISOLATION_COVERED:-none})"
else
    log "TESTBED_ISOLATION=0: the services see the host's /etc/<service>, /var/lib/<service>, ..."
fi

# ============================================================== venv
INSTALL_S=0
VENV_HASH=$(venv_hash)
[ $REBUILD = 1 ] && rm -rf "$TB_VENV"
if [ "$(cat "$TB_VENV/.testbed-venv-hash" 2>/dev/null)" != "$VENV_HASH" ]; then
    log "building the venv $TB_VENV (pip, a minute or two)"
    "$TB_HOME/down.sh" --quiet --no-lock --fast      # they run from the old one
    t=$(now_ms)
    rm -rf "$TB_VENV"
    mkdir -p "$TB_LOGS"
    "$TB_PYTHON" -m venv "$TB_VENV"
    "$TB_VENV/bin/pip" install -q -r "$TB_HOME/requirements.txt" -c "$TB_HOME/constraints.txt" \
        >"$TB_LOGS/pip-install.log" 2>&1 || { tail -n 20 "$TB_LOGS/pip-install.log"; die "pip install failed"; }
    "$TB_VENV/bin/pip" check >>"$TB_LOGS/pip-install.log" 2>&1 || die "pip check failed (see $TB_LOGS/pip-install.log)"
    echo "$VENV_HASH" >"$TB_VENV/.testbed-venv-hash"
    INSTALL_S=$(seconds_since "$t")
    log "venv built in ${INSTALL_S}s ($(du -sh "$TB_VENV" | cut -f1))"
fi
V=$TB_VENV/bin

# ============================================================== the gateway's Aodh plugin
# This checkout, editable and without its dependencies (the plugin needs only
# gnocchiclient, keystoneauth1 and msgspec, which the venv has), so that Aodh's stevedore
# finds the entry points aodh.alarm.rule, aodh.evaluator and aodh.notifier. After `pip
# check` above, which would miss the gateway's own dependencies. Skipped while the venv's
# cfn_gateway is this checkout's and setup.py (the entry points) is the one it was
# installed with.
PLUGIN_MARK=$TB_VENV/.testbed-cfn-gateway
plugin_mark() { echo "$REPO_ROOT $(sha256sum "$REPO_ROOT/setup.py" | cut -c1-16)"; }
plugin_installed() {
    [ "$(cat "$PLUGIN_MARK" 2>/dev/null)" = "$(plugin_mark)" ] &&
        [ "$(cd / && "$V/python" -I -c 'import cfn_gateway; print(cfn_gateway.__file__)' 2>/dev/null)" \
            = "$REPO_ROOT/cfn_gateway/__init__.py" ]
}
if plugin_installed; then
    log "cfn-gateway (Aodh plugin) installed in the venv from this checkout already"
else
    t=$(now_ms)
    rm -f "$PLUGIN_MARK"
    mkdir -p "$TB_LOGS"
    "$V/pip" install --no-deps -q -e "$REPO_ROOT" >"$TB_LOGS/pip-install-cfn-gateway.log" 2>&1 ||
        { tail -n 20 "$TB_LOGS/pip-install-cfn-gateway.log"; die "pip install -e $REPO_ROOT failed"; }
    plugin_mark >"$PLUGIN_MARK"
    plugin_installed || die "cfn_gateway in $TB_VENV is not this checkout's after pip install -e"
    log "cfn-gateway (Aodh plugin) installed in the venv: editable, no deps, in $(seconds_since "$t")s"
fi

# ============================================================== stop the old, clean state
T_START=$(now_ms)
"$TB_HOME/down.sh" --quiet --no-lock --fast      # what they hold is thrown away next
# Another process on one of our ports (say, a test bed of another checkout, which uses
# the same database names): stop here, before any database is touched.
for name in $STARTED; do
    url=$(service_url "$name")
    [ -n "$url" ] || continue
    port=${url#"http://$TB_HOST:"} port=${port%%/*}
    ! port_open "$TB_HOST" "$port" || die "port $port ($name) is taken by another process" \
        "(another test bed? ss -ltnp shows it; TESTBED_*_PORT and TESTBED_DB_PREFIX set others)"
done

# Gnocchi's storage can hold many thousands of files after a day of tests, and deleting
# them took minutes here: move the old state aside and delete it in the background.
TRASH=$TESTBED_DIR/trash.$$
mkdir -p "$TRASH"
for old in "$TB_ETC" "$TB_DATA" "$TB_RUN" "$TB_LOGS.prev"; do
    [ ! -e "$old" ] || mv "$old" "$TRASH/"
done
(rm -rf "$TESTBED_DIR"/trash.* </dev/null >/dev/null 2>&1 9>&- &)
rm -f "$TB_JSON"
[ ! -d "$TB_LOGS" ] || mv "$TB_LOGS" "$TB_LOGS.prev"
mkdir -p "$TB_ETC" "$TB_RUN" "$TB_LOGS" "$TB_DATA"/gnocchi/{locks,storage}

# RabbitMQ: a private vhost, recreated empty while the databases are made (or the
# default vhost where rabbitmqctl is not at hand).
export TB_AMQP_URL=rabbit://guest:guest@127.0.0.1:5672/
VHOST_JOB=""
if command -v rabbitmqctl >/dev/null; then
    TB_AMQP_URL+=$TB_RABBIT_VHOST
    {
        rabbitmqctl -q delete_vhost "$TB_RABBIT_VHOST" || true
        rabbitmqctl -q add_vhost "$TB_RABBIT_VHOST" &&
            rabbitmqctl -q set_permissions -p "$TB_RABBIT_VHOST" guest '.*' '.*' '.*'
    } >"$TB_LOGS/rabbitmq-vhost.out" 2>&1 &
    VHOST_JOB=$!
fi

"$V/python" "$TB_HOME/testbed.py" configure
recipe_hash >"$TB_RUN/recipe.hash"
echo "$STARTED" >"$TB_RUN/services"      # for status.sh

# ============================================================== databases
# Each run gets empty databases. Migrating them from nothing costs ~20 s of CPU, so the
# first run keeps a migrated copy of each as a template (cfngw_tb_tpl_<name>, tagged with
# the venv hash) and later runs copy it, which takes well under a second.
declare -A FROM_TEMPLATE
for db in $TB_DATABASES; do
    name=$TB_DB_PREFIX$db tpl=${TB_DB_PREFIX}tpl_$db
    psql_pg -c "DROP DATABASE IF EXISTS $name WITH (FORCE)"
    tag=$(psql_pg -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$tpl'")
    if [ "$tag" = "$VENV_HASH" ]; then
        psql_pg -c "CREATE DATABASE $name TEMPLATE $tpl"
        FROM_TEMPLATE[$db]=1
    else
        psql_pg -c "CREATE DATABASE $name"
        FROM_TEMPLATE[$db]=0
    fi
done
keep_template() { # DB: copy the freshly migrated database to its template
    local name=$TB_DB_PREFIX$1 tpl=${TB_DB_PREFIX}tpl_$1
    psql_pg -c "DROP DATABASE IF EXISTS $tpl" \
            -c "CREATE DATABASE $tpl TEMPLATE $name" \
            -c "COMMENT ON DATABASE $tpl IS '$VENV_HASH'"
}
migrate() { # DB COMMAND...: run a schema migration unless the database came from a template
    local db=$1; shift
    [ "${FROM_TEMPLATE[$db]}" = 1 ] && return 0
    "$@" >"$TB_LOGS/$db-migrate.out" 2>&1 || { tail -n 20 "$TB_LOGS/$db-migrate.out"; die "$db migration failed"; }
    keep_template "$db"
}
log "databases: $(for db in $TB_DATABASES; do printf '%s%s(%s) ' "$TB_DB_PREFIX" "$db" \
    "$([ "${FROM_TEMPLATE[$db]}" = 1 ] && echo template || echo migrate)"; done)"

# ============================================================== start the services
# A start that fails half-way stops what it had started (a Keystone left running would
# otherwise hold its port and keep restarting its workers).
trap 'status=$?; [ $status = 0 ] || "$TB_HOME/down.sh" --quiet --no-lock --fast; exit $status' EXIT
GUNICORN=("$V/gunicorn" --no-control-socket --chdir "$TB_HOME/wsgi" --workers 1 --threads 4
          --timeout 120 --graceful-timeout 5)
serve() { # NAME PORT MODULE [VAR=VALUE...]: a WSGI app under gunicorn on 127.0.0.1
    start "$1" env "${@:4}" "${GUNICORN[@]}" --bind "$TB_HOST:$2" \
        --error-logfile "$TB_LOGS/$1-gunicorn.log" --access-logfile "$TB_LOGS/$1-access.log" \
        "$3:application"
}

# Schemas: on the first run only (later runs copied the templates above).
# Beside --config-file, oslo.config reads every *.conf in the --config-dir folders, or
# else in <project>.conf.d and <program>.conf.d under ~/.<project>/, ~/, /etc/<project>/
# and /etc/: each gets an empty folder of its own (testbed.py configure; wsgi/ likewise).
KEYSTONE_ARGS=(--config-file "$TB_ETC/keystone/keystone.conf" --config-dir "$TB_ETC/keystone/keystone.conf.d")
GNOCCHI_ARGS=(--config-file "$TB_ETC/gnocchi/gnocchi.conf" --config-dir "$TB_ETC/gnocchi/gnocchi.conf.d")
AODH_ARGS=(--config-file "$TB_ETC/aodh/aodh.conf" --config-dir "$TB_ETC/aodh/aodh.conf.d")
HEAT_ARGS=(--config-file "$TB_ETC/heat/heat.conf" --config-dir "$TB_ETC/heat/heat.conf.d")
KM=("$V/keystone-manage" "${KEYSTONE_ARGS[@]}")
# Keystone's (the longest) beside the other three: two streams for two cores.
migrate keystone "${KM[@]}" db_sync &
KEYSTONE_MIGRATION=$!
migrate gnocchi "$V/gnocchi-upgrade" "${GNOCCHI_ARGS[@]}" --sacks-number 8
migrate aodh "$V/aodh-dbsync" "${AODH_ARGS[@]}"
migrate heat "$V/heat-manage" "${HEAT_ARGS[@]}" db_sync
wait "$KEYSTONE_MIGRATION" || die "keystone migration failed"
# Keystone's start-up, its bootstrap (admin, roles, the identity endpoint; the fernet and
# credential keys were made by testbed.py configure) and its set-up below are the longest
# chain: Keystone boots (it needs only the schema) while it is bootstrapped and while
# Gnocchi's file storage is made anew; the others start once that is done.
serve keystone "$TB_KEYSTONE_PORT" keystone_app \
    OS_KEYSTONE_CONFIG_DIR="$TB_ETC/keystone" OS_KEYSTONE_CONFIG_FILES=keystone.conf
"${KM[@]}" bootstrap --bootstrap-password "$TB_PASSWORD" --bootstrap-region-id "$TB_REGION" \
    --bootstrap-public-url "http://$TB_HOST:$TB_KEYSTONE_PORT/v3" \
    --bootstrap-internal-url "http://$TB_HOST:$TB_KEYSTONE_PORT/v3" \
    --bootstrap-admin-url "http://$TB_HOST:$TB_KEYSTONE_PORT/v3" >"$TB_LOGS/keystone-manage.out" 2>&1 &
BOOTSTRAP_JOB=$!
"$V/gnocchi-upgrade" "${GNOCCHI_ARGS[@]}" --skip-index --skip-archive-policies-creation \
    --sacks-number 8 >"$TB_LOGS/gnocchi-storage.out" 2>&1 || die "gnocchi-upgrade failed (see $TB_LOGS)"
wait "$BOOTSTRAP_JOB" || { tail -n 20 "$TB_LOGS/keystone-manage.out"; die "keystone-manage bootstrap failed"; }
if [ -n "$VHOST_JOB" ]; then
    wait "$VHOST_JOB" || { cat "$TB_LOGS/rabbitmq-vhost.out"; die "could not make the RabbitMQ vhost $TB_RABBIT_VHOST"; }
fi
log "keystone bootstrapped, gnocchi storage and RabbitMQ vhost ready (${TB_AMQP_URL/guest:guest@/})"

serve gnocchi-api "$TB_GNOCCHI_PORT" gnocchi_app
start gnocchi-metricd "$V/gnocchi-metricd" "${GNOCCHI_ARGS[@]}"
serve aodh-api "$TB_AODH_PORT" aodh_app
for name in $TB_AODH_EVALUATORS; do     # one program, a log file each
    start "$name" "$V/aodh-evaluator" "${AODH_ARGS[@]}" --log-file "$TB_LOGS/$name.log"
done
start aodh-notifier "$V/aodh-notifier" "${AODH_ARGS[@]}"
serve heat-api "$TB_HEAT_PORT" heat_app
case " $STARTED " in *" heat-api-cfn "*) serve heat-api-cfn "$TB_HEAT_CFN_PORT" heat_app HEAT_API=cfn ;; esac
start heat-engine "$V/heat-engine" "${HEAT_ARGS[@]}"
log "all processes started; waiting for them to answer"

# ============================================================== wait, set up Keystone
service_alive() { pid_of "$1" >/dev/null || die "$1 exited at start-up; see $TB_LOGS/$1.out and $TB_LOGS/$1*.log"; }
answers() { service_alive "$1" && http_ok "$(service_url "$1")"; }

wait_for keystone 90 answers keystone
log "keystone answers"
"$V/python" "$TB_HOME/testbed.py" keystone >"$TB_LOGS/keystone-setup.out" 2>&1 \
    || { tail -n 20 "$TB_LOGS/keystone-setup.out"; die "Keystone set-up failed"; }
log "keystone accounts, roles, catalog and EC2 credentials made"

for name in $STARTED; do
    [ -z "$(service_url "$name")" ] || wait_for "$name" 90 answers "$name"
done
log "APIs answer"

# The engine registers in Heat's service table once its RPC server consumes; each
# evaluator logs each evaluation cycle; metricd and the notifier only have to stay up.
engine_registered() {
    service_alive heat-engine
    local engines
    engines=$(psql "$TB_PG_URL/${TB_DB_PREFIX}heat" -qAtc \
        'SELECT count(*) FROM service WHERE deleted_at IS NULL' 2>/dev/null) || true
    [ "${engines:-0}" -ge 1 ]
}
evaluator_running() { service_alive "$1" && evaluator_cycle_since "$1" 0; }
wait_for "heat-engine to register" 90 engine_registered
for name in $TB_AODH_EVALUATORS; do
    wait_for "$name's first cycle" 90 evaluator_running "$name"
done
for name in $STARTED; do service_alive "$name"; done

START_S=$(seconds_since "$T_START")
"$V/python" "$TB_HOME/testbed.py" write-json install="$INSTALL_S" start="$START_S"
log "UP in ${START_S}s$([ "$INSTALL_S" != 0 ] && echo " (+ venv built in ${INSTALL_S}s)")"
log "testbed.json: $TB_JSON   logs: $TB_LOGS   stop: tools/testbed/down.sh"
