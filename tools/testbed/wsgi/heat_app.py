"""Heat's OpenStack API (and, if asked for, its CloudFormation API) under gunicorn.

Heat 27 ships no heat-api script; its WSGI entry points parse sys.argv with oslo.config.
HEAT_API selects which one: "api" (default) or "cfn".
"""
import importlib
import os
import sys

_name, _module = {
    "api": ("heat-api", "heat.api.openstack.wsgi"),
    "cfn": ("heat-api-cfn", "heat.api.cfn.wsgi"),
}[os.environ.get("HEAT_API", "api")]
_argv = sys.argv
sys.argv = [_name,
            "--config-file", os.path.join(os.environ["TB_ETC"], "heat", "heat.conf"),
            "--config-dir", os.path.join(os.environ["TB_ETC"], "heat", "heat.conf.d"),
            "--log-file", os.path.join(os.environ["TB_LOGS"], _name + ".log")]
try:
    application = importlib.import_module(_module).init_application()
finally:
    sys.argv = _argv
