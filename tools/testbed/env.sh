#!/usr/bin/env bash
# Print shell exports for one of the test bed's identities, read from testbed.json:
#
#   eval "$(tools/testbed/env.sh)"            # the gateway's service user (OS_*)
#   eval "$(tools/testbed/env.sh tenant-a)"   # a tenant's user (OS_*) and its EC2 key
#                                             #   (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)
#   eval "$(tools/testbed/env.sh admin)"      # the cloud admin
#
# Every variant also exports CFNGW_TESTBED_JSON, the path of testbed.json.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ -f "$TB_JSON" ] || die "no $TB_JSON: run tools/testbed/up.sh first"
exec python3 "$TB_HOME/testbed.py" env "${1:-gateway}"
