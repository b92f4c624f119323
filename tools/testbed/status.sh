#!/usr/bin/env bash
# Show the test bed's services: PID (process group), memory (PSS, MiB, the whole group)
# and CPU seconds used so far by the group's live processes.
#
#   tools/testbed/status.sh          exit status 0 if every service runs
set -uo pipefail
. "$(dirname "$0")/lib.sh"

hz=$(getconf CLK_TCK)
total_kb=0 total_ticks=0 down=0
cpu() { printf '%d.%d' $(($1 / hz)) $(($1 % hz * 10 / hz)); }
printf '%-16s %8s %9s %8s %6s\n' service pgid 'PSS MiB' 'CPU s' procs
for name in $(cat "$TB_RUN/services" 2>/dev/null || echo "$TB_SERVICES"); do
    if ! pgid=$(pid_of "$name"); then
        printf '%-16s %8s\n' "$name" 'not running'
        down=1
        continue
    fi
    kb=0 ticks=0 procs=0
    for pid in $(ps -eo pid=,pgid= | awk -v g="$pgid" '$2 == g {print $1}'); do
        pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null)
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        set -- ${stat##*) }
        kb=$((kb + ${pss:-0})) ticks=$((ticks + ${12} + ${13})) procs=$((procs + 1))
    done
    total_kb=$((total_kb + kb)) total_ticks=$((total_ticks + ticks))
    printf '%-16s %8s %9d %8s %6d\n' "$name" "$pgid" $((kb / 1024)) "$(cpu $ticks)" "$procs"
done
printf '%-16s %8s %9d %8s\n' total '' $((total_kb / 1024)) "$(cpu $total_ticks)"
[ -f "$TB_JSON" ] && echo "testbed.json: $TB_JSON" || { echo "no testbed.json: not up"; down=1; }
exit $down
