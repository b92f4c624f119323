#!/usr/bin/env bash
# Stop, start or restart one service of the running test bed, for tests of what the
# gateway does while, say, Keystone is down:
#
#   tools/testbed/service.sh stop keystone
#   tools/testbed/service.sh start keystone       # returns once it answers again
#   tools/testbed/service.sh restart heat-engine
#   tools/testbed/service.sh stop aodh-evaluator-2  # the other evaluator takes its alarms
#   tools/testbed/service.sh start aodh-evaluator-2 # returns after its first evaluation cycle
#
# It reuses the command line up.sh recorded (run/NAME.cmd) and updates the PIDs in
# testbed.json. Note: up.sh, while a service is stopped, finds the test bed unhealthy and
# restarts all of it with fresh databases.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# = 2 ] || { sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 2; }
action=$1 name=$2
[ -f "$TB_RUN/$name.cmd" ] || die "no service $name in this test bed (run/*.cmd: $(cd "$TB_RUN" && ls *.cmd 2>/dev/null | sed 's/\.cmd$//' | tr '\n' ' '))"

if ! isolated; then
    exec 9>"$TESTBED_DIR/.lock"
    flock -w 900 9 || die "another up.sh/down.sh holds $TESTBED_DIR/.lock"
    # as up.sh: in a private mount namespace (isolate.sh), with the lock
    [ "${TESTBED_ISOLATION:-1}" = 0 ] || exec "$TB_HOME/isolate.sh" "$TB_HOME/service.sh" "$@"
fi

do_stop() {
    stop "$name" 15
}

do_start() {
    if pid_of "$name" >/dev/null; then
        log "$name is running already"
        return 0
    fi
    mv -f "$TB_LOGS/$name.out" "$TB_LOGS/$name.out.prev" 2>/dev/null || true
    local log_size
    log_size=$(file_size "$TB_LOGS/$name.log")     # an evaluator: a cycle after this
    eval "start \"\$name\" $(cat "$TB_RUN/$name.cmd")"
    alive_and_answering() {
        pid_of "$name" >/dev/null || die "$name exited at start-up; see $TB_LOGS/$name.out and $TB_LOGS/$name*.log"
        case " $TB_AODH_EVALUATORS " in *" $name "*) evaluator_cycle_since "$name" "$log_size" || return 1 ;; esac
        [ -z "$(service_url "$name")" ] || http_ok "$(service_url "$name")"
    }
    wait_for "$name" 90 alive_and_answering
    "$TB_VENV/bin/python" "$TB_HOME/testbed.py" write-json
    log "$name started (pgid $(pid_of "$name"))"
}

case $action in
    stop) do_stop; log "$name stopped" ;;
    start) do_start ;;
    restart) do_stop; do_start ;;
    *) die "unknown action $action: stop, start or restart" ;;
esac
