"""Aodh's API under gunicorn."""
import os

from aodh.api import app

application = app.build_wsgi_app(
    argv=["--config-file", os.path.join(os.environ["TB_ETC"], "aodh", "aodh.conf"),
          "--config-dir", os.path.join(os.environ["TB_ETC"], "aodh", "aodh.conf.d"),
          "--log-file", os.path.join(os.environ["TB_LOGS"], "aodh-api.log")])
