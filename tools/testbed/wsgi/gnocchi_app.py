"""Gnocchi's REST API under gunicorn (gnocchi-api itself execs uwsgi).

gnocchi.rest.wsgi builds the application at import time from sys.argv.
"""
import os
import sys

_argv = sys.argv
sys.argv = ["gnocchi-api",
            "--config-file", os.path.join(os.environ["TB_ETC"], "gnocchi", "gnocchi.conf"),
            "--config-dir", os.path.join(os.environ["TB_ETC"], "gnocchi", "gnocchi.conf.d"),
            "--log-file", os.path.join(os.environ["TB_LOGS"], "gnocchi-api.log")]
try:
    from gnocchi.rest.wsgi import application  # noqa: F401
finally:
    sys.argv = _argv
