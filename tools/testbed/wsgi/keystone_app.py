"""Keystone under gunicorn.

keystone.wsgi.api parses sys.argv with oslo.config at import time; under gunicorn that is
gunicorn's own command line, so hide it. The configuration file comes from
OS_KEYSTONE_CONFIG_DIR / OS_KEYSTONE_CONFIG_FILES, set by up.sh; --config-dir names an
empty folder of the test bed's (or oslo.config reads keystone.conf.d/ in /etc/keystone/,
/etc/, ~/.keystone/ and ~/).
"""
import os
import sys

_argv = sys.argv
sys.argv = [_argv[0],
            "--config-dir", os.path.join(os.environ["TB_ETC"], "keystone", "keystone.conf.d")]
try:
    from keystone.wsgi.api import application  # noqa: F401
finally:
    sys.argv = _argv
