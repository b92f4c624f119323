"""Keystone under gunicorn.

keystone.wsgi.api parses sys.argv with oslo.config at import time; under gunicorn that is
gunicorn's own command line, so hide it. The configuration file comes from
OS_KEYSTONE_CONFIG_DIR / OS_KEYSTONE_CONFIG_FILES, set by up.sh.
"""
import sys

_argv, sys.argv = sys.argv, sys.argv[:1]
try:
    from keystone.wsgi.api import application  # noqa: F401
finally:
    sys.argv = _argv
